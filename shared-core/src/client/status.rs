//! What the app shows about syncing, and what it is told when something changes.

use std::collections::BTreeMap;

use crate::ids::DocumentId;

/// The connection to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectionState {
    /// Not started, or stopped.
    #[default]
    Stopped,
    /// Trying to reach the server.
    Connecting,
    /// Connected and syncing.
    Online,
    /// The server could not be reached; retrying with backoff.
    Offline,
    /// Paused by the app (in the background).
    Paused,
    /// The server refused the token (expired or revoked): edits stay on this device until the
    /// app supplies a new token.
    TokenExpired,
}

/// Sync status for the app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncStatus {
    /// The connection.
    pub connection: ConnectionState,
    /// Local changes the server has not acknowledged, in total.
    pub unacknowledged: usize,
    /// … and per document (documents with none are left out).
    pub unacknowledged_by_document: BTreeMap<DocumentId, usize>,
    /// Milliseconds since the epoch of the last moment everything was acknowledged.
    pub last_sync_ms: Option<i64>,
    /// Documents the server syncs read-only with us ("your changes stay on this device").
    pub read_only: Vec<DocumentId>,
    /// Documents the server refused (unavailable, or a creation it did not accept).
    pub refused: Vec<DocumentId>,
    /// Documents set aside: the server does not list them (any more) or refused them, and
    /// they hold changes it has not acknowledged. They stay on the device until access returns (then they are
    /// delivered), or the user exports ([`Client::export_document`](super::Client::export_document))
    /// and discards ([`Client::discard_document`](super::Client::discard_document)) them.
    pub set_aside: Vec<DocumentId>,
    /// Changes in set-aside documents: "N changes could not be delivered".
    pub undelivered: usize,
    /// The last error, for a diagnostics screen.
    pub last_error: Option<String>,
}

impl SyncStatus {
    /// Recomputes the totals from the per-document counts.
    pub(crate) fn sum_up(&mut self) {
        self.unacknowledged = self.unacknowledged_by_document.values().sum();
        self.undelivered = self
            .set_aside
            .iter()
            .filter_map(|id| self.unacknowledged_by_document.get(id))
            .sum();
    }
}

/// Where a document change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// An edit on this device.
    Local,
    /// Changes from the server.
    Remote,
}

/// A notification for subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A document changed.
    DocumentChanged {
        /// The document.
        doc: DocumentId,
        /// Local or remote.
        origin: Origin,
    },
    /// A document was removed from this device (access revoked and everything acknowledged, or
    /// discarded by the user).
    DocumentRemoved(DocumentId),
    /// The sync status changed.
    StatusChanged(SyncStatus),
}
