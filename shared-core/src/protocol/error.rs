//! Why a wire message was refused.

/// A message that cannot be accepted, with enough detail for the `error` reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Larger than the configured maximum.
    #[error("message of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Size of the message.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// An empty frame.
    #[error("empty message")]
    Empty,
    /// Not well-formed CBOR (truncated, reserved values, lengths beyond the input).
    #[error("invalid cbor: {0}")]
    InvalidCbor(String),
    /// Nested deeper than the limit.
    #[error("cbor nested deeper than {0} levels")]
    TooDeep(usize),
    /// Bytes after the one top-level item.
    #[error("trailing bytes after the message")]
    TrailingBytes,
    /// The top-level item is not a map.
    #[error("message is not a cbor map")]
    NotAMap,
    /// A key that is not a text string.
    #[error("message keys must be text strings")]
    NonTextKey,
    /// A key that appears twice.
    #[error("duplicate key `{0}`")]
    DuplicateKey(String),
    /// A required field is absent.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A field of the wrong type.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A `type` this implementation does not know.
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    /// A document id that is not valid bs58check of 16 bytes.
    #[error("invalid documentId: {0}")]
    InvalidDocumentId(String),
    /// A text field longer than its bound ([`MAX_ID_BYTES`](super::MAX_ID_BYTES), or
    /// [`MAX_MESSAGE_TEXT_BYTES`](super::MAX_MESSAGE_TEXT_BYTES) for an error's message).
    #[error("field `{field}` is longer than {max} bytes")]
    TextTooLong {
        /// The field.
        field: &'static str,
        /// Most bytes.
        max: usize,
    },
    /// A `data` field that is empty.
    #[error("field `data` must not be empty")]
    EmptyData,
}

impl DecodeError {
    /// Whether the problem is the size (close code 1009) rather than the content (1007).
    pub fn is_too_large(&self) -> bool {
        matches!(self, DecodeError::TooLarge { .. })
    }
}

impl From<minicbor::decode::Error> for DecodeError {
    fn from(e: minicbor::decode::Error) -> Self {
        DecodeError::InvalidCbor(e.to_string())
    }
}
