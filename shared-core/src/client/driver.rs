//! The background task of a started [`Client`](super::Client): fetch the document list,
//! connect, sync, reconnect with jittered backoff, follow the app's pause/resume/stop and new
//! tokens.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::status::{ClientEvent, ConnectionState, Origin};
use super::transport::Io;
use super::{ClientError, Command, Shared, http, transport};
use crate::ids::DocumentId;
use crate::protocol::{Limits, Message, PeerId, StorageId};
use crate::session::{SessionError, SessionEvent, SyncSession};
use crate::store::Listed;
use crate::time::Timestamp;

/// Close code the server uses for a revoked or expired token.
const TOKEN_REVOKED: u16 = 4401;
/// How long the server has to answer `join`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest message accepted from the server.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

type Socket = WebSocketStream<Box<dyn Io>>;

/// How a connection ended.
enum Outcome {
    Stop,
    Pause,
    TokenRefused,
    NewToken(String),
    Lost { error: String, was_online: bool },
}

impl From<SessionError> for ClientError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Protocol(m) => ClientError::Server(m),
            SessionError::Replica(e) => ClientError::Local(e),
        }
    }
}

/// Delays between reconnects: 0.5 s doubling to 30 s, each with ±50 % jitter so a neighbourhood
/// of phones coming back online does not arrive in lockstep.
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(30);

    fn new() -> Self {
        Backoff { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    fn delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        base.mul_f64(rand::random_range(0.5..1.5))
    }
}

fn now_ms() -> i64 {
    Timestamp::now().millis()
}

/// Runs until stopped.
pub(crate) async fn run(shared: Arc<Shared>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut token = shared.config.token.clone();
    let mut backoff = Backoff::new();
    let mut held: Option<ConnectionState> = None;
    loop {
        if let Some(state) = held {
            shared.update_status(|s| s.connection = state);
            match commands.recv().await {
                None | Some(Command::Stop) => break,
                Some(Command::Resume) => held = None,
                Some(Command::SetToken(t)) => {
                    token = t;
                    held = None;
                }
                Some(Command::Pause) => held = Some(ConnectionState::Paused),
                Some(Command::Changed(_)) => {}
            }
            continue;
        }
        shared.update_status(|s| s.connection = ConnectionState::Connecting);
        match connection(&shared, &mut commands, &token).await {
            Outcome::Stop => break,
            Outcome::Pause => held = Some(ConnectionState::Paused),
            Outcome::TokenRefused => {
                shared.update_status(|s| {
                    s.last_error = Some(ClientError::Unauthorized.to_string());
                });
                held = Some(ConnectionState::TokenExpired);
            }
            Outcome::NewToken(t) => {
                token = t;
                backoff.reset();
            }
            Outcome::Lost { error, was_online } => {
                tracing::debug!(%error, "connection lost");
                shared.update_status(|s| {
                    s.connection = ConnectionState::Offline;
                    s.last_error = Some(error);
                });
                if was_online {
                    backoff.reset();
                }
                let until = tokio::time::Instant::now() + backoff.delay();
                loop {
                    tokio::select! {
                        () = tokio::time::sleep_until(until) => break,
                        command = commands.recv() => match command {
                            None | Some(Command::Stop) => {
                                shared.update_status(|s| s.connection = ConnectionState::Stopped);
                                return;
                            }
                            Some(Command::Pause) => {
                                held = Some(ConnectionState::Paused);
                                break;
                            }
                            Some(Command::SetToken(t)) => {
                                token = t;
                                break;
                            }
                            Some(Command::Resume) => break,
                            // Edits wait for the reconnect; they do not cut the backoff short.
                            Some(Command::Changed(_)) => {}
                        }
                    }
                }
            }
        }
    }
    shared.update_status(|s| s.connection = ConnectionState::Stopped);
}

/// Fetches `/api/me`, `/api/people` and `/api/documents` and keeps them on the device; a
/// document no longer listed is marked withdrawn (decided by [`settle`] once the server is
/// known); returns the listed documents.
async fn refresh(shared: &Shared, token: &str) -> Result<Vec<DocumentId>, ClientError> {
    #[derive(serde::Deserialize)]
    struct Entry {
        id: String,
        kind: Option<String>,
        title: Option<String>,
        business: Option<String>,
        #[serde(default)]
        writable: bool,
    }
    let get = |path: &'static str| http::request(&shared.server, "GET", path, Some(token), None);
    let me: serde_json::Value = get("/api/me").await?.json()?;
    let people: serde_json::Value = get("/api/people").await?.json()?;
    let documents: serde_json::Value = get("/api/documents").await?.json()?;
    let entries: Vec<Entry> = serde_json::from_value(documents.clone())
        .map_err(|e| ClientError::Server(format!("document list: {e}")))?;
    let listed: Vec<Listed> = entries
        .into_iter()
        .filter_map(|e| {
            Some(Listed {
                doc_id: e.id.parse().ok()?,
                kind: e.kind,
                title: e.title,
                business: e.business,
                writable: e.writable,
            })
        })
        .collect();
    let now = now_ms();
    let withdrawn = shared.with_replica(|replica| {
        let store = replica.store_mut();
        store.cache_put("me", &me.to_string(), now)?;
        store.cache_put("people", &people.to_string(), now)?;
        store.cache_put("documents", &documents.to_string(), now)?;
        Ok(store.set_listing(&listed)?)
    })?;
    if !withdrawn.is_empty() {
        shared.recount(Some(&withdrawn), now);
    }
    Ok(listed.into_iter().map(|l| l.doc_id).collect())
}

/// Decides the withdrawn documents with the server `storage` (whose acknowledgements count):
/// removes those it acknowledged completely, keeps aside those with changes it lacks.
fn settle(shared: &Shared, storage: &StorageId) -> Result<(), ClientError> {
    let settled = shared.with_replica(|r| Ok(r.settle_withdrawn(&storage.0)?))?;
    for id in &settled.purged {
        tracing::info!(doc_id = %id, "access revoked: removed from this device");
    }
    for (id, pending) in &settled.kept {
        tracing::warn!(doc_id = %id, pending, "no longer listed: kept aside with undelivered changes");
    }
    shared.removed(&settled.purged);
    let kept: Vec<DocumentId> = settled.kept.iter().map(|(id, _)| *id).collect();
    if !kept.is_empty() {
        shared.recount(Some(&kept), now_ms());
    }
    Ok(())
}

async fn open_socket(shared: &Shared, token: &str) -> Result<Socket, ClientError> {
    let stream = transport::connect(&shared.server).await?;
    let mut request = shared
        .server
        .sync_url()
        .into_client_request()
        .map_err(|e| ClientError::Config(e.to_string()))?;
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| ClientError::Config("the token is not a valid header value".to_owned()))?;
    request.headers_mut().insert("authorization", bearer);
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response))
            if matches!(response.status().as_u16(), 401 | 403) =>
        {
            Err(ClientError::Unauthorized)
        }
        Err(e) => Err(ClientError::Network(format!("WebSocket: {e}"))),
    }
}

fn lost(error: impl ToString, was_online: bool) -> Outcome {
    Outcome::Lost {
        error: error.to_string(),
        was_online,
    }
}

fn failed(e: ClientError, was_online: bool) -> Outcome {
    match e {
        ClientError::Unauthorized => Outcome::TokenRefused,
        e => lost(e, was_online),
    }
}

async fn send(socket: &mut Socket, messages: Vec<Message>) -> Result<(), String> {
    for m in messages {
        socket
            .feed(WsMessage::Binary(m.encode().into()))
            .await
            .map_err(|e| e.to_string())?;
    }
    socket.flush().await.map_err(|e| e.to_string())
}

/// One connection: list, connect, handshake, sync until it ends.
async fn connection(
    shared: &Shared,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    token: &str,
) -> Outcome {
    let listed = match refresh(shared, token).await {
        Ok(listed) => listed,
        Err(e) => return failed(e, false),
    };
    let mut socket = match open_socket(shared, token).await {
        Ok(socket) => socket,
        Err(e) => return failed(e, false),
    };
    let mut session = SyncSession::new(PeerId(format!("nachbar-{}", uuid::Uuid::new_v4())));
    if let Err(e) = send(&mut socket, vec![session.join()]).await {
        return lost(e, false);
    }
    let limits = Limits::default();
    // The handshake.
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(WsMessage::Binary(bytes)) => {
                    let message = Message::decode(&bytes, &limits)
                        .map_err(|e| ClientError::Server(e.to_string()))?;
                    let peer = matches!(message, Message::Peer { .. });
                    let (_, events) =
                        shared.with_replica(|r| Ok(session.receive(r, message, now_ms())?))?;
                    if peer {
                        return Ok(events);
                    }
                }
                Ok(WsMessage::Close(frame)) => {
                    if frame.is_some_and(|f| u16::from(f.code) == TOKEN_REVOKED) {
                        return Err(ClientError::Unauthorized);
                    }
                    return Err(ClientError::Network("closed during the handshake".into()));
                }
                Ok(_) => {}
                Err(e) => return Err(ClientError::Network(e.to_string())),
            }
        }
        Err(ClientError::Network("closed during the handshake".into()))
    })
    .await;
    let events = match handshake {
        Ok(Ok(events)) => events,
        Ok(Err(e)) => return failed(e, false),
        Err(_) => return lost("no answer to join", false),
    };
    shared.update_status(|s| {
        s.connection = ConnectionState::Online;
        s.last_error = None;
    });
    let Some(storage) = session.server().map(|s| s.storage.clone()) else {
        return lost("the handshake named no server", false);
    };
    // Only now is it known whose acknowledgements count (a restored server forgets them all).
    if let Err(e) = settle(shared, &storage) {
        return lost(e, true);
    }
    if events
        .iter()
        .any(|e| matches!(e, SessionEvent::Connected { restored: true, .. }))
    {
        // The counters grow again with the recount below, once the documents are opened.
        tracing::info!("the server was restored from a backup: uploading again");
    }
    // Every document on the device (created or edited offline among them) and every listed one.
    let opened = shared.with_replica(|r| {
        let mut docs = r.store().documents()?;
        docs.extend(listed.iter().copied());
        docs.sort();
        docs.dedup();
        let mut out = Vec::new();
        for doc in docs {
            out.extend(session.open(r, doc)?);
        }
        Ok(out)
    });
    let first = match opened {
        Ok(messages) => messages,
        Err(e) => return lost(e, true),
    };
    if let Err(e) = send(&mut socket, first).await {
        return lost(e, true);
    }
    shared.recount(None, now_ms());
    let mut refresh_timer = tokio::time::interval(shared.config.refresh_every);
    refresh_timer.tick().await;
    loop {
        let out: Vec<Message> = tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    let message = match Message::decode(&bytes, &limits) {
                        Ok(m) => m,
                        Err(e) => return lost(format!("undecodable message: {e}"), true),
                    };
                    match shared.with_replica(|r| Ok(session.receive(r, message, now_ms())?)) {
                        Ok((out, events)) => {
                            report(shared, events);
                            out
                        }
                        Err(e) => return lost(e, true),
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    return match frame {
                        Some(f) if u16::from(f.code) == TOKEN_REVOKED => Outcome::TokenRefused,
                        Some(f) => lost(format!("closed by the server ({}: {})", u16::from(f.code), f.reason), true),
                        None => lost("closed by the server", true),
                    };
                }
                Some(Ok(_)) => Vec::new(),
                Some(Err(e)) => return lost(e, true),
                None => return lost("connection ended", true),
            },
            command = commands.recv() => match command {
                Some(Command::Changed(doc)) => {
                    match shared.with_replica(|r| Ok(session.open(r, doc)?)) {
                        Ok(m) => m.into_iter().collect(),
                        Err(e) => return lost(e, true),
                    }
                }
                Some(Command::Resume) => Vec::new(),
                Some(Command::Pause) => {
                    let _ = socket.close(None).await;
                    return Outcome::Pause;
                }
                Some(Command::SetToken(t)) => {
                    let _ = socket.close(None).await;
                    return Outcome::NewToken(t);
                }
                None | Some(Command::Stop) => {
                    let _ = socket.close(None).await;
                    return Outcome::Stop;
                }
            },
            _ = refresh_timer.tick() => {
                let listed = match refresh(shared, token).await {
                    Ok(listed) => listed,
                    Err(e) => return failed(e, true),
                };
                if let Err(e) = settle(shared, &storage) {
                    return lost(e, true);
                }
                let known: Vec<DocumentId> = session.open_documents().copied().collect();
                let fresh: Vec<DocumentId> = listed.into_iter().filter(|d| !known.contains(d)).collect();
                match shared.with_replica(|r| {
                    let mut out = Vec::new();
                    for doc in fresh {
                        out.extend(session.open(r, doc)?);
                    }
                    Ok(out)
                }) {
                    Ok(out) => out,
                    Err(e) => return lost(e, true),
                }
            }
        };
        if let Err(e) = send(&mut socket, out).await {
            return lost(e, true);
        }
    }
}

/// Turns session events into status updates and notifications.
fn report(shared: &Shared, events: Vec<SessionEvent>) {
    let mut touched = Vec::new();
    for event in events {
        match event {
            SessionEvent::DocChanged(doc) => {
                shared.emit(ClientEvent::DocumentChanged {
                    doc,
                    origin: Origin::Remote,
                });
                touched.push(doc);
            }
            SessionEvent::Acknowledged(doc)
            | SessionEvent::ReadOnly(doc)
            | SessionEvent::Unavailable(doc) => touched.push(doc),
            SessionEvent::ServerError(message) => {
                tracing::warn!(%message, "the server reported an error");
                shared.update_status(|s| s.last_error = Some(message));
            }
            SessionEvent::Connected { .. } => {}
        }
    }
    touched.sort();
    touched.dedup();
    if !touched.is_empty() {
        shared.recount(Some(&touched), now_ms());
    }
}
