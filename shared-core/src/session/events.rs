//! What a sync session reports to the app.

use crate::ids::DocumentId;
use crate::protocol::StorageId;

/// Something the app may want to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The handshake is done.
    Connected {
        /// The server's storage id.
        storage: StorageId,
        /// It differs from the one that acknowledged our changes before (a restore from
        /// backup): they are uploaded again.
        restored: bool,
    },
    /// Changes from the server were applied and committed.
    DocChanged(DocumentId),
    /// The server sent its heads for the document (our changes among them are acknowledged).
    Acknowledged(DocumentId),
    /// The server syncs the document read-only with us: our changes stay on this device.
    ReadOnly(DocumentId),
    /// The server does not have the document or will not give it to us.
    Unavailable(DocumentId),
    /// The server sent an error message.
    ServerError(String),
}
