//! A protocol client for tests: our codec over a real WebSocket, automerge's sync API per
//! document.

use std::time::Duration;

use automerge::Automerge;
use automerge::sync::{State, SyncDoc};
use futures_util::{SinkExt, StreamExt};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Limits, Message, PeerId};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What arrived on the socket.
#[derive(Debug)]
pub(crate) enum Received {
    /// A protocol message.
    Message(Message),
    /// A close frame (code, reason).
    Closed(u16, String),
}

/// A connected, joined protocol client.
pub(crate) struct Client {
    ws: Ws,
    pub(crate) peer: PeerId,
    pub(crate) server: PeerId,
    /// The storage id the server announced in its `peer` message.
    pub(crate) storage: Option<String>,
}

/// Opens a WebSocket with `Authorization: Bearer <token>`; returns the HTTP error status when
/// the upgrade is refused.
pub(crate) async fn open(url: &str, token: Option<&str>) -> Result<Ws, u16> {
    let mut request = url.into_client_request().expect("request");
    if let Some(t) = token {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("header"),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("connect failed: {e}"),
    }
}

impl Client {
    /// Connects and completes the handshake.
    pub(crate) async fn join(url: &str, token: &str, peer: &str) -> Client {
        match Self::try_join(url, token, peer).await {
            Ok(client) => client,
            Err(status) => panic!("upgrade refused: {status}"),
        }
    }

    /// Connects and completes the handshake; the HTTP status when the upgrade is refused.
    pub(crate) async fn try_join(url: &str, token: &str, peer: &str) -> Result<Client, u16> {
        let ws = open(url, Some(token)).await?;
        let mut client = Client {
            ws,
            peer: PeerId(peer.to_owned()),
            server: PeerId(String::new()),
            storage: None,
        };
        client
            .send(&Message::Join {
                sender_id: client.peer.clone(),
                supported_protocol_versions: Some(vec!["1".to_owned()]),
                peer_metadata: None,
            })
            .await;
        match client.recv(super::TIMEOUT).await {
            Some(Received::Message(Message::Peer {
                sender_id,
                peer_metadata,
                ..
            })) => {
                client.server = sender_id;
                client.storage = peer_metadata.and_then(|m| m.storage_id).map(|s| s.0);
            }
            other => panic!("expected peer, got {other:?}"),
        }
        Ok(client)
    }

    /// Wraps an open socket without a handshake (for abuse tests).
    pub(crate) fn raw(ws: Ws) -> Client {
        Client {
            ws,
            peer: PeerId("raw".to_owned()),
            server: PeerId(String::new()),
            storage: None,
        }
    }

    /// Sends one message.
    pub(crate) async fn send(&mut self, message: &Message) {
        self.send_frame(WsMessage::Binary(message.encode().into()))
            .await;
    }

    /// Sends one raw frame.
    pub(crate) async fn send_frame(&mut self, frame: WsMessage) {
        let _ = self.ws.send(frame).await;
    }

    /// The next message or close within `timeout`; `None` on timeout. A connection that ends
    /// without a close frame reads as `Closed(1006, …)` (abnormal closure).
    pub(crate) async fn recv(&mut self, timeout: Duration) -> Option<Received> {
        loop {
            let frame = match tokio::time::timeout(timeout, self.ws.next()).await {
                Err(_) => return None,
                Ok(None) => return Some(Received::Closed(1006, "connection ended".to_owned())),
                Ok(Some(frame)) => frame,
            };
            match frame {
                Ok(WsMessage::Binary(bytes)) => {
                    return Some(Received::Message(
                        Message::decode(&bytes, &Limits::default())
                            .expect("server sends valid messages"),
                    ));
                }
                Ok(WsMessage::Close(frame)) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((u16::from(CloseCode::Status), String::new()));
                    return Some(Received::Closed(code, reason));
                }
                Ok(_) => continue,
                Err(e) => return Some(Received::Closed(1006, e.to_string())),
            }
        }
    }

    /// Sends our next sync message for `doc` (as `request` when we have nothing); returns
    /// whether there was one.
    pub(crate) async fn push(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
        state: &mut State,
    ) -> bool {
        let Some(msg) = doc.generate_sync_message(state) else {
            return false;
        };
        let (sender_id, target_id, data) = (self.peer.clone(), self.server.clone(), msg.encode());
        let message = if doc.get_heads().is_empty() {
            Message::Request {
                sender_id,
                target_id,
                document_id: id,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id: id,
                data,
            }
        };
        self.send(&message).await;
        true
    }

    /// Syncs `doc` with the server until neither side has anything to say for `quiet`.
    /// Returns the non-sync messages that arrived (e.g. `doc-unavailable`).
    pub(crate) async fn sync(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
        state: &mut State,
    ) -> Vec<Received> {
        let quiet = Duration::from_millis(300);
        let deadline = tokio::time::Instant::now() + super::TIMEOUT;
        let mut other = Vec::new();
        self.push(id, doc, state).await;
        while tokio::time::Instant::now() < deadline {
            match self.recv(quiet).await {
                Some(Received::Message(Message::Sync {
                    document_id, data, ..
                })) if document_id == id => {
                    let msg = automerge::sync::Message::decode(&data).expect("sync message");
                    doc.receive_sync_message(state, msg).expect("applies");
                    self.push(id, doc, state).await;
                }
                Some(r @ Received::Closed(..)) => {
                    other.push(r);
                    break;
                }
                Some(r) => other.push(r),
                None => {
                    if !self.push(id, doc, state).await {
                        break;
                    }
                }
            }
        }
        other
    }
}
