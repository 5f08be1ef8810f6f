//! The messages of the automerge-repo 2.x WebSocket protocol (protocol.md §1.6).

use std::collections::BTreeMap;
use std::fmt;

use crate::ids::DocumentId;

/// The one protocol version of automerge-repo 2.x.
pub const PROTOCOL_VERSION: &str = "1";

/// A peer's self-chosen, ephemeral id (not authenticated by the protocol: the server binds it
/// to the connection at the handshake).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub String);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PeerId {
    fn from(s: &str) -> Self {
        PeerId(s.to_owned())
    }
}

/// The id of a peer's durable storage (UUID text); many peer ids may share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageId(pub String);

impl fmt::Display for StorageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a peer says about itself in the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    /// Its storage, when it has durable storage.
    pub storage_id: Option<StorageId>,
    /// It keeps nothing: do not persist sync state for it.
    pub is_ephemeral: bool,
}

/// Heads of one storage for a document (`remote-heads-changed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHeads {
    /// bs58check change hashes.
    pub heads: Vec<String>,
    /// Milliseconds since the epoch on the originating node.
    pub timestamp: u64,
}

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Initiator → receiver, the first message.
    Join {
        /// The initiator's peer id.
        sender_id: PeerId,
        /// Versions it speaks; `None` when absent (legacy clients mean "1").
        supported_protocol_versions: Option<Vec<String>>,
        /// Its metadata.
        peer_metadata: Option<PeerMetadata>,
    },
    /// Receiver → initiator, the handshake reply.
    Peer {
        /// The receiver's peer id.
        sender_id: PeerId,
        /// The initiator's peer id.
        target_id: PeerId,
        /// The chosen version.
        selected_protocol_version: String,
        /// The receiver's metadata.
        peer_metadata: Option<PeerMetadata>,
    },
    /// Either side; the sender closes afterwards.
    Error {
        /// What went wrong.
        message: String,
        /// Sender, when given (JS adds it).
        sender_id: Option<PeerId>,
        /// Target, when given.
        target_id: Option<PeerId>,
    },
    /// Advisory "I'm disconnecting".
    Leave {
        /// The leaving peer.
        sender_id: PeerId,
    },
    /// "I have nothing of this document: sync me or tell me you don't have it."
    Request {
        /// Sender.
        sender_id: PeerId,
        /// Target.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// An encoded automerge sync message.
        data: Vec<u8>,
    },
    /// Every other automerge sync message.
    Sync {
        /// Sender.
        sender_id: PeerId,
        /// Target.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// An encoded automerge sync message.
        data: Vec<u8>,
    },
    /// "I don't have it" — also the answer for a document the peer may not read.
    DocUnavailable {
        /// Sender.
        sender_id: PeerId,
        /// Target.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
    },
    /// Fire-and-forget application data, relayed to the document's other peers.
    Ephemeral {
        /// The original author (kept when relayed).
        sender_id: PeerId,
        /// Target.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// The author's session.
        session_id: String,
        /// Per-session counter for de-duplication.
        count: u64,
        /// CBOR of an application value.
        data: Vec<u8>,
    },
    /// Subscribe to (or unsubscribe from) heads of other storages.
    RemoteSubscriptionChange {
        /// Sender.
        sender_id: PeerId,
        /// Target.
        target_id: PeerId,
        /// Storages to follow.
        add: Vec<StorageId>,
        /// Storages to stop following.
        remove: Vec<StorageId>,
    },
    /// Heads of some storages for a document.
    RemoteHeadsChanged {
        /// Sender.
        sender_id: PeerId,
        /// Target.
        target_id: PeerId,
        /// The document.
        document_id: DocumentId,
        /// Heads per storage id.
        new_heads: BTreeMap<String, RemoteHeads>,
    },
}

impl Message {
    /// The wire name of the message type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Error { .. } => "error",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
        }
    }

    /// The sender, when the message names one.
    pub fn sender_id(&self) -> Option<&PeerId> {
        match self {
            Message::Join { sender_id, .. }
            | Message::Peer { sender_id, .. }
            | Message::Leave { sender_id }
            | Message::Request { sender_id, .. }
            | Message::Sync { sender_id, .. }
            | Message::DocUnavailable { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. } => Some(sender_id),
            Message::Error { sender_id, .. } => sender_id.as_ref(),
        }
    }

    /// The document the message is about, if any.
    pub fn document_id(&self) -> Option<&DocumentId> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. }
            | Message::RemoteHeadsChanged { document_id, .. } => Some(document_id),
            _ => None,
        }
    }
}

/// Limits checked before a message is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message in bytes.
    pub max_message_bytes: usize,
    /// Deepest CBOR nesting.
    pub max_depth: usize,
}

impl Default for Limits {
    /// The defaults of decisions.md: 16 MiB messages, nesting 16.
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 * 1024 * 1024,
            max_depth: 16,
        }
    }
}
