//! The offline-first client (feature `client`): a [`Client`] owns the user's [`Replica`] on
//! the device, applies the app's typed edits (committed locally before the call returns) and,
//! once started, syncs everything with the server by itself: it connects over WebSocket with
//! the token, pushes every document with unacknowledged changes, fetches and follows what
//! `GET /api/documents` lists, receives live changes, caches `/api/me` and `/api/people`, and
//! reconnects with jittered backoff. Status and change notifications reach subscribers without
//! polling.

mod driver;
mod http;
#[cfg(test)]
mod open_tests;
mod status;
mod transport;
mod url;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};

pub use status::{ClientEvent, ConnectionState, Origin, SyncStatus};
pub use url::ServerUrl;

use crate::DomainError;
use crate::ids::DocumentId;
use crate::model::TypedDoc;
use crate::store::{
    DocStatus, Durability, EditResult, Replica, ReplicaError, StoreError, remove_database,
};

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// On the device: a refused edit (nothing changed), a store failure (nothing kept), a
    /// document not on this device.
    #[error(transparent)]
    Local(#[from] ReplicaError),
    /// A setting is wrong (server address).
    #[error("configuration: {0}")]
    Config(String),
    /// The server could not be reached.
    #[error("network: {0}")]
    Network(String),
    /// The server refused the token or invite code.
    #[error("the server refused the token: sign in again")]
    Unauthorized,
    /// The server answered something unexpected.
    #[error("server: {0}")]
    Server(String),
    /// The client was stopped or signed out.
    #[error("the client is closed")]
    Closed,
}

impl From<StoreError> for ClientError {
    fn from(e: StoreError) -> Self {
        ClientError::Local(e.into())
    }
}

/// How a client is set up.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The user's database on this device (one per user).
    pub database: PathBuf,
    /// The server, e.g. `https://nachbar.example.org`.
    pub server: String,
    /// The device token.
    pub token: String,
    /// Durability of local commits (`Full` on devices).
    pub durability: Durability,
    /// How often the document list is fetched again while connected.
    pub refresh_every: Duration,
    /// DER certificates of authorities trusted for `https`/`wss` besides Mozilla's roots (an
    /// enterprise CA in front of the server).
    pub extra_roots: Vec<Vec<u8>>,
}

impl ClientConfig {
    /// Defaults: full durability, the document list refreshed every 30 s.
    pub fn new(
        database: impl Into<PathBuf>,
        server: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        ClientConfig {
            database: database.into(),
            server: server.into(),
            token: token.into(),
            durability: Durability::Full,
            refresh_every: Duration::from_secs(30),
            extra_roots: Vec::new(),
        }
    }
}

/// What the app tells the running driver.
#[derive(Debug)]
pub(crate) enum Command {
    /// A local edit of this document: push it.
    Changed(DocumentId),
    /// Stop syncing (app in the background); keep the data.
    Pause,
    /// Sync again.
    Resume,
    /// Use this token from now on.
    SetToken(String),
    /// Stop for good.
    Stop,
}

pub(crate) struct Shared {
    pub(crate) replica: Mutex<Option<Replica>>,
    pub(crate) status: watch::Sender<SyncStatus>,
    pub(crate) events: broadcast::Sender<ClientEvent>,
    pub(crate) server: ServerUrl,
    pub(crate) config: ClientConfig,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Runs `f` on the replica (under its lock; never across an await), unless signed out.
    pub(crate) fn with_replica<T>(
        &self,
        f: impl FnOnce(&mut Replica) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let mut guard = self
            .replica
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let replica = guard.as_mut().ok_or(ClientError::Closed)?;
        f(replica)
    }

    /// Sends an event; nobody listening is fine.
    pub(crate) fn emit(&self, event: ClientEvent) {
        let _ = self.events.send(event);
    }

    /// Updates the status and tells subscribers when it changed.
    pub(crate) fn update_status(&self, f: impl FnOnce(&mut SyncStatus)) {
        let mut changed = None;
        self.status.send_if_modified(|status| {
            let before = status.clone();
            f(status);
            if *status != before {
                changed = Some(status.clone());
                true
            } else {
                false
            }
        });
        if let Some(status) = changed {
            self.emit(ClientEvent::StatusChanged(status));
        }
    }

    /// Recounts the unacknowledged changes of `docs` (all documents when `None`: a document
    /// whose stored heads the server acknowledged counts 0 without being loaded).
    pub(crate) fn recount(&self, docs: Option<&[DocumentId]>, now_ms: i64) {
        let counts = self.with_replica(|replica| {
            let (ids, acknowledged) = match docs {
                Some(d) => (d.to_vec(), Default::default()),
                None => (
                    replica.store().documents()?,
                    replica.store().fully_acknowledged()?,
                ),
            };
            Ok(ids
                .into_iter()
                .filter_map(|id| {
                    let count = if acknowledged.contains(&id) {
                        0
                    } else {
                        replica.unacknowledged(&id).ok()?
                    };
                    let status = replica.store().status(&id).ok()?;
                    Some((id, count, status))
                })
                .collect::<Vec<(DocumentId, usize, DocStatus)>>())
        });
        let Ok(counts) = counts else {
            return;
        };
        self.update_status(|s| {
            for (id, count, doc) in counts {
                if count == 0 {
                    s.unacknowledged_by_document.remove(&id);
                } else {
                    s.unacknowledged_by_document.insert(id, count);
                }
                set_member(&mut s.read_only, id, doc.read_only);
                set_member(&mut s.refused, id, doc.refused);
                set_member(
                    &mut s.set_aside,
                    id,
                    count > 0 && !doc.listed && (doc.withdrawn || doc.refused),
                );
            }
            s.sum_up();
            if s.unacknowledged == 0 && s.connection == ConnectionState::Online {
                s.last_sync_ms = Some(now_ms);
            }
        });
    }
}

impl Shared {
    /// Tells the app that `ids` left the device and drops them from the status.
    pub(crate) fn removed(&self, ids: &[DocumentId]) {
        for id in ids {
            self.emit(ClientEvent::DocumentRemoved(*id));
        }
        if ids.is_empty() {
            return;
        }
        self.update_status(|s| {
            for id in ids {
                s.unacknowledged_by_document.remove(id);
                for list in [&mut s.read_only, &mut s.refused, &mut s.set_aside] {
                    list.retain(|d| d != id);
                }
            }
            s.sum_up();
        });
    }
}

fn set_member(list: &mut Vec<DocumentId>, id: DocumentId, member: bool) {
    let present = list.contains(&id);
    if member && !present {
        list.push(id);
        list.sort();
    } else if !member && present {
        list.retain(|d| *d != id);
    }
}

/// The offline-first client of one user on one device.
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    receiver: Arc<Mutex<Option<mpsc::UnboundedReceiver<Command>>>>,
}

impl Client {
    /// Opens the user's database; nothing touches the network until [`Client::start`].
    ///
    /// # Errors
    /// A bad server address or a store that cannot be opened.
    pub fn open(config: ClientConfig) -> Result<Self, ClientError> {
        let mut server = ServerUrl::parse(&config.server)?;
        server.extra_roots = config.extra_roots.clone();
        let replica = Replica::open(&config.database, config.durability)?;
        let (status, _) = watch::channel(SyncStatus::default());
        let (events, _) = broadcast::channel(1024);
        let (commands, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            replica: Mutex::new(Some(replica)),
            status,
            events,
            server,
            config,
        });
        shared.recount(None, crate::time::Timestamp::now().millis());
        Ok(Client {
            shared,
            commands,
            receiver: Arc::new(Mutex::new(Some(receiver))),
        })
    }

    /// Starts syncing in the background on `runtime` (once; later calls do nothing).
    pub fn start(&self, runtime: &tokio::runtime::Handle) {
        let receiver = self
            .receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(receiver) = receiver {
            runtime.spawn(driver::run(Arc::clone(&self.shared), receiver));
        }
    }

    /// Stops syncing for good (the data stays).
    pub fn stop(&self) {
        let _ = self.commands.send(Command::Stop);
    }

    /// Pauses syncing (the app goes to the background); edits keep working.
    pub fn pause(&self) {
        let _ = self.commands.send(Command::Pause);
    }

    /// Resumes syncing after [`Client::pause`] (or retries at once while offline).
    pub fn resume(&self) {
        let _ = self.commands.send(Command::Resume);
    }

    /// Replaces the token (after the server refused the old one).
    pub fn set_token(&self, token: impl Into<String>) {
        let _ = self.commands.send(Command::SetToken(token.into()));
    }

    /// Creates a document on this device; it is uploaded on the next sync.
    ///
    /// # Errors
    /// Domain errors of `make`; store errors.
    pub fn create<T: TypedDoc>(
        &self,
        make: impl FnOnce(automerge::ActorId) -> Result<(T, crate::doc::Applied), DomainError>,
    ) -> Result<DocumentId, ClientError> {
        let id = self.shared.with_replica(|r| Ok(r.create(make)?))?;
        self.after_local_change(id);
        Ok(id)
    }

    /// Runs one typed edit; the change is committed on this device when this returns.
    ///
    /// # Errors
    /// Domain errors (nothing changed), store errors (nothing kept), a missing document.
    pub fn edit<T: TypedDoc, R: EditResult>(
        &self,
        id: &DocumentId,
        f: impl FnOnce(&mut T) -> Result<R, DomainError>,
    ) -> Result<R::Output, ClientError> {
        let out = self.shared.with_replica(|r| Ok(r.edit(id, f)?))?;
        self.after_local_change(*id);
        Ok(out)
    }

    /// Reads a document as `T`.
    ///
    /// # Errors
    /// A missing document or another kind.
    pub fn read<T: TypedDoc>(&self, id: &DocumentId) -> Result<T, ClientError> {
        self.shared.with_replica(|r| Ok(r.read(id)?))
    }

    /// The kind of a document on this device, from its header.
    ///
    /// # Errors
    /// A missing document, or one without a nachbar header.
    pub fn kind(&self, id: &DocumentId) -> Result<crate::doc::DocKind, ClientError> {
        self.shared.with_replica(|r| {
            let header = crate::doc::Header::read(&*r.automerge(id)?)
                .map_err(|e| ClientError::Local(e.into()))?;
            Ok(header.kind)
        })
    }

    /// The heads of a document on this device.
    ///
    /// # Errors
    /// A missing document.
    pub fn heads(&self, id: &DocumentId) -> Result<Vec<automerge::ChangeHash>, ClientError> {
        self.shared
            .with_replica(|r| Ok(r.automerge(id)?.get_heads()))
    }

    /// Every document on this device with what the server said of it.
    ///
    /// # Errors
    /// Store errors.
    pub fn documents(&self) -> Result<Vec<(DocumentId, DocStatus)>, ClientError> {
        self.shared.with_replica(|r| {
            let store = r.store();
            let mut out = Vec::new();
            for id in store.documents()? {
                let status = store.status(&id)?;
                out.push((id, status));
            }
            Ok(out)
        })
    }

    /// The whole document as Automerge bytes (an `.automerge` file): to keep work the server
    /// would not take (a set-aside document) outside the app.
    ///
    /// # Errors
    /// A missing document; store errors.
    pub fn export_document(&self, id: &DocumentId) -> Result<Vec<u8>, ClientError> {
        self.shared.with_replica(|r| Ok(r.export(id)?))
    }

    /// Removes a document the server no longer lists for this user (a set-aside one), its
    /// undelivered changes with it: only on the user's explicit request, after an export.
    ///
    /// # Errors
    /// [`ReplicaError::NotSetAside`] for a document that is not set aside; a missing one;
    /// store errors.
    pub fn discard_document(&self, id: &DocumentId) -> Result<(), ClientError> {
        self.shared.with_replica(|r| Ok(r.discard(id)?))?;
        tracing::info!(doc_id = %id, "discarded on the user's request");
        self.shared.removed(&[*id]);
        Ok(())
    }

    /// A cached API answer (`me`, `people`, `documents`) as JSON text, if fetched once.
    ///
    /// # Errors
    /// Store errors.
    pub fn cached(&self, key: &str) -> Result<Option<String>, ClientError> {
        self.shared
            .with_replica(|r| Ok(r.store().cache_get(key)?.map(|(json, _)| json)))
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.shared.status.borrow().clone()
    }

    /// Status updates as a watch channel (the latest value, no history).
    pub fn watch_status(&self) -> watch::Receiver<SyncStatus> {
        self.shared.status.subscribe()
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.shared.events.subscribe()
    }

    /// Waits until the status satisfies `done`, at most `timeout`; returns whether it did.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&SyncStatus) -> bool) -> bool {
        let mut rx = self.watch_status();
        tokio::time::timeout(timeout, async {
            loop {
                if done(&rx.borrow_and_update()) {
                    return;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await
        .is_ok()
    }

    /// Signs out: stops syncing and removes the database and its files from the device.
    ///
    /// # Errors
    /// When a file cannot be removed.
    pub fn sign_out_and_wipe(&self) -> Result<(), ClientError> {
        let _ = self.commands.send(Command::Stop);
        let replica = self
            .shared
            .replica
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match replica {
            Some(replica) => replica.into_store().wipe()?,
            None => remove_database(&self.shared.config.database)?,
        }
        self.shared.update_status(|s| *s = SyncStatus::default());
        Ok(())
    }

    /// Enrols this device with an invite code; returns the device token.
    ///
    /// # Errors
    /// A bad address, no network, or a refused code ([`ClientError::Unauthorized`]).
    pub async fn enroll(server: &str, code: &str, label: &str) -> Result<String, ClientError> {
        #[derive(serde::Deserialize)]
        struct Enrolled {
            token: String,
        }
        let url = ServerUrl::parse(server)?;
        let body = serde_json::json!({ "code": code, "label": label }).to_string();
        let answer = http::request(&url, "POST", "/api/enroll", None, Some(body)).await?;
        Ok(answer.json::<Enrolled>()?.token)
    }

    fn after_local_change(&self, id: DocumentId) {
        self.shared.emit(ClientEvent::DocumentChanged {
            doc: id,
            origin: Origin::Local,
        });
        self.shared
            .recount(Some(&[id]), crate::time::Timestamp::now().millis());
        let _ = self.commands.send(Command::Changed(id));
    }
}
