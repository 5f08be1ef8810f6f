//! The automerge-repo 2.x wire protocol (protocol.md §1): message types, a CBOR codec that is
//! liberal where the JS and Rust peers differ and strict about size and shape, and the peer
//! and storage identifiers.
//!
//! ```text
//!  client (initiator)                       server (receiver)
//!      │ join {senderId, supportedProtocolVersions:["1"], peerMetadata}
//!      ├────────────────────────────────────────►│
//!      │ peer {senderId, targetId, selectedProtocolVersion:"1", peerMetadata}
//!      │◄────────────────────────────────────────┤
//!      │ request / sync {documentId, data: automerge sync message}
//!      ├────────────────────────────────────────►│
//!      │ sync … | doc-unavailable                │
//!      │◄────────────────────────────────────────┤
//! ```
//!
//! Every WebSocket binary message is exactly one CBOR map. Decoding first checks the size and
//! the CBOR structure (well-formed, nesting ≤ the limit, declared lengths within the input)
//! without allocating, and only then reads the fields.

mod bloom;
mod cbor_check;
mod chunks;
mod decode;
mod encode;
mod error;
mod message;

pub use bloom::blooms_usable;
pub use cbor_check::check_structure;
pub use chunks::{read_uleb, split_chunks, without_bundles};
pub use decode::{MAX_ID_BYTES, MAX_MESSAGE_TEXT_BYTES};
pub use error::DecodeError;
pub use message::{
    Limits, Message, PROTOCOL_VERSION, PeerId, PeerMetadata, RemoteHeads, StorageId,
};

#[cfg(test)]
mod tests;
