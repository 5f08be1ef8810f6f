//! What the hub asks the shell to do.

use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId, StorageId};

use crate::durable::Append;

use super::ConnId;

/// WebSocket close codes used by the server (reliability.md E7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// 1000: normal closure.
    Normal,
    /// 1002: protocol error (message out of order, wrong version).
    Protocol,
    /// 1003: unsupported data (a text frame).
    Unsupported,
    /// 1007: invalid payload (malformed message).
    Invalid,
    /// 1008: policy violation (identity, header change, rate).
    Policy,
    /// 1009: message too big.
    TooBig,
    /// 1011: internal error.
    Internal,
    /// 1012: the server restarts; reconnect (possibly elsewhere).
    Restart,
    /// 1013: try again later (storage unavailable).
    Unavailable,
    /// 4401: the token expired or was revoked.
    TokenExpired,
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::Protocol => 1002,
            CloseCode::Unsupported => 1003,
            CloseCode::Invalid => 1007,
            CloseCode::Policy => 1008,
            CloseCode::TooBig => 1009,
            CloseCode::Internal => 1011,
            CloseCode::Restart => 1012,
            CloseCode::Unavailable => 1013,
            CloseCode::TokenExpired => 4401,
        }
    }
}

/// Close a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The connection.
    pub conn: ConnId,
    /// Why, as a code.
    pub code: CloseCode,
    /// Why, in words (truncated to 123 bytes on the wire).
    pub reason: String,
}

/// Persist one append; answered with `HubInput::Persisted { id }`.
#[derive(Debug, Clone)]
pub struct PersistRequest {
    /// Request id.
    pub id: u64,
    /// What to write.
    pub append: Append,
}

/// Who a connection is once its handshake passed: what the other hub workers are told when the
/// connection first sends them a message ([`super::HubInput::Attach`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The peer id its `join` bound.
    pub peer: PeerId,
    /// The storage id it may speak for in remote-heads gossip (checked at the handshake).
    pub storage_id: Option<StorageId>,
}

/// The effects of one input, performed in field order: joined, persist, load, send, close.
#[derive(Debug, Default)]
#[must_use = "effects must be performed"]
pub struct Effects {
    /// Connections whose handshake passed, with who they are (told to the connection task
    /// before the `peer` answer).
    pub joined: Vec<(ConnId, Identity)>,
    /// Appends to make durable.
    pub persist: Vec<PersistRequest>,
    /// Documents to read from storage.
    pub load: Vec<DocumentId>,
    /// Messages to send.
    pub send: Vec<(ConnId, Message)>,
    /// Connections to close (after their pending messages).
    pub close: Vec<Close>,
    /// Hand the hub `HubInput::Wake` at this time (monotonic ms).
    pub wake_at: Option<super::Millis>,
    /// Answers to submissions (web edits), given once their commit returned.
    pub submitted: Vec<(u64, Result<(), super::SubmitError>)>,
    /// Documents with newly durable changes (for the web app's live pages).
    pub committed: Vec<DocumentId>,
}

impl Effects {
    /// Asks for a wake-up at `at` (the earliest request wins).
    pub fn wake(&mut self, at: super::Millis) {
        self.wake_at = Some(self.wake_at.map_or(at, |w| w.min(at)));
    }
}
