//! Decoding: liberal where peers differ (floats for counts, `undefined`/`null` for absent
//! fields, unknown keys ignored, legacy document id forms), strict about types and duplicates.

use std::collections::BTreeMap;

use minicbor::Decoder;
use minicbor::data::Type;

use crate::ids::DocumentId;

use super::message::{Limits, Message, PeerId, PeerMetadata, RemoteHeads, StorageId};
use super::{DecodeError, check_structure};

/// The fields of any message; each known key at most once.
#[derive(Default)]
struct Fields {
    kind: Option<String>,
    sender_id: Option<String>,
    target_id: Option<String>,
    document_id: Option<DocumentId>,
    data: Option<Vec<u8>>,
    supported: Option<Vec<String>>,
    selected: Option<String>,
    metadata: Option<PeerMetadata>,
    message: Option<String>,
    session_id: Option<String>,
    count: Option<u64>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
    new_heads: Option<BTreeMap<String, RemoteHeads>>,
}

/// Consumes `undefined` or `null` and reports whether the value was absent.
fn absent(d: &mut Decoder<'_>) -> Result<bool, DecodeError> {
    match d.datatype()? {
        Type::Undefined => {
            d.undefined()?;
            Ok(true)
        }
        Type::Null => {
            d.null()?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Most bytes of an id-like text a peer chooses (peer, session and storage ids, types,
/// versions, heads): the server keeps some of them per connection.
pub const MAX_ID_BYTES: usize = 256;
/// Most bytes of an `error` message's text.
pub const MAX_MESSAGE_TEXT_BYTES: usize = 4096;

fn bounded(field: &'static str, s: &str) -> Result<String, DecodeError> {
    let max = if field == "message" {
        MAX_MESSAGE_TEXT_BYTES
    } else {
        MAX_ID_BYTES
    };
    if s.len() > max {
        Err(DecodeError::TextTooLong { field, max })
    } else {
        Ok(s.to_owned())
    }
}

fn text(d: &mut Decoder<'_>, field: &'static str) -> Result<Option<String>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    match d.datatype()? {
        Type::String => Ok(Some(bounded(field, d.str()?)?)),
        _ => Err(DecodeError::WrongType {
            field,
            expected: "a text string",
        }),
    }
}

fn bytes(d: &mut Decoder<'_>, field: &'static str) -> Result<Option<Vec<u8>>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    match d.datatype()? {
        Type::Bytes => Ok(Some(d.bytes()?.to_vec())),
        _ => Err(DecodeError::WrongType {
            field,
            expected: "a byte string",
        }),
    }
}

/// An unsigned count, also accepted as an integral float (JS peers send float64).
fn count(d: &mut Decoder<'_>, field: &'static str) -> Result<Option<u64>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    let wrong = DecodeError::WrongType {
        field,
        expected: "an unsigned integer",
    };
    match d.datatype()? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Ok(Some(d.u64()?)),
        Type::F16 | Type::F32 | Type::F64 => {
            let f = d.f64()?;
            if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= 2f64.powi(53) {
                Ok(Some(f as u64))
            } else {
                Err(wrong)
            }
        }
        _ => Err(wrong),
    }
}

fn boolean(d: &mut Decoder<'_>, field: &'static str) -> Result<Option<bool>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    match d.datatype()? {
        Type::Bool => Ok(Some(d.bool()?)),
        _ => Err(DecodeError::WrongType {
            field,
            expected: "a boolean",
        }),
    }
}

fn texts(d: &mut Decoder<'_>, field: &'static str) -> Result<Option<Vec<String>>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    let wrong = DecodeError::WrongType {
        field,
        expected: "an array of text strings",
    };
    if d.datatype()? != Type::Array {
        return Err(wrong);
    }
    let len = d.array()?.ok_or_else(|| wrong.clone())?;
    let mut out = Vec::new();
    for _ in 0..len {
        match d.datatype()? {
            Type::String => out.push(bounded(field, d.str()?)?),
            _ => return Err(wrong),
        }
    }
    Ok(Some(out))
}

/// A document id as the bs58check string, or liberally as 16 raw bytes or a hyphenated UUID.
fn document_id(d: &mut Decoder<'_>) -> Result<Option<DocumentId>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    match d.datatype()? {
        Type::String => {
            let s = d.str()?;
            if let Ok(id) = s.parse::<DocumentId>() {
                return Ok(Some(id));
            }
            match uuid::Uuid::try_parse(s) {
                Ok(u) if s.contains('-') => Ok(Some(DocumentId::from_bytes(u.into_bytes()))),
                _ => Err(DecodeError::InvalidDocumentId(s.chars().take(64).collect())),
            }
        }
        Type::Bytes => {
            let b = d.bytes()?;
            let array: [u8; 16] = b
                .try_into()
                .map_err(|_| DecodeError::InvalidDocumentId(format!("{} bytes", b.len())))?;
            Ok(Some(DocumentId::from_bytes(array)))
        }
        _ => Err(DecodeError::WrongType {
            field: "documentId",
            expected: "a text string",
        }),
    }
}

fn map_len(d: &mut Decoder<'_>, field: &'static str) -> Result<u64, DecodeError> {
    let wrong = DecodeError::WrongType {
        field,
        expected: "a map",
    };
    if d.datatype()? != Type::Map {
        return Err(wrong);
    }
    d.map()?.ok_or(wrong)
}

fn metadata(d: &mut Decoder<'_>) -> Result<Option<PeerMetadata>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    let len = map_len(d, "peerMetadata")?;
    let mut meta = PeerMetadata::default();
    for _ in 0..len {
        let key = key(d)?;
        match key {
            "storageId" => meta.storage_id = text(d, "storageId")?.map(StorageId),
            "isEphemeral" => meta.is_ephemeral = boolean(d, "isEphemeral")?.unwrap_or(false),
            _ => d.skip()?,
        }
    }
    Ok(Some(meta))
}

fn new_heads(d: &mut Decoder<'_>) -> Result<Option<BTreeMap<String, RemoteHeads>>, DecodeError> {
    if absent(d)? {
        return Ok(None);
    }
    let len = map_len(d, "newHeads")?;
    let mut out = BTreeMap::new();
    for _ in 0..len {
        let storage = key(d)?.to_owned();
        let entries = map_len(d, "newHeads")?;
        let (mut heads, mut timestamp) = (None, None);
        for _ in 0..entries {
            match key(d)? {
                "heads" => heads = texts(d, "heads")?,
                "timestamp" => timestamp = count(d, "timestamp")?,
                _ => d.skip()?,
            }
        }
        out.insert(
            storage,
            RemoteHeads {
                heads: heads.ok_or(DecodeError::MissingField("heads"))?,
                timestamp: timestamp.unwrap_or(0),
            },
        );
    }
    Ok(Some(out))
}

fn key<'b>(d: &mut Decoder<'b>) -> Result<&'b str, DecodeError> {
    match d.datatype()? {
        Type::String => Ok(d.str()?),
        _ => Err(DecodeError::NonTextKey),
    }
}

fn set<T>(
    slot: &mut Option<T>,
    value: Option<T>,
    key: &str,
    seen: &mut Vec<String>,
) -> Result<(), DecodeError> {
    if seen.iter().any(|k| k == key) {
        return Err(DecodeError::DuplicateKey(key.to_owned()));
    }
    seen.push(key.to_owned());
    *slot = value;
    Ok(())
}

fn read_fields(d: &mut Decoder<'_>) -> Result<Fields, DecodeError> {
    if d.datatype()? != Type::Map {
        return Err(DecodeError::NotAMap);
    }
    let len = d.map()?.ok_or(DecodeError::NotAMap)?;
    let mut f = Fields::default();
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..len {
        let k = key(d)?;
        match k {
            "type" => set(&mut f.kind, text(d, "type")?, k, &mut seen)?,
            "senderId" => set(&mut f.sender_id, text(d, "senderId")?, k, &mut seen)?,
            "targetId" => set(&mut f.target_id, text(d, "targetId")?, k, &mut seen)?,
            "documentId" => set(&mut f.document_id, document_id(d)?, k, &mut seen)?,
            "data" => set(&mut f.data, bytes(d, "data")?, k, &mut seen)?,
            "supportedProtocolVersions" => {
                set(
                    &mut f.supported,
                    texts(d, "supportedProtocolVersions")?,
                    k,
                    &mut seen,
                )?;
            }
            "selectedProtocolVersion" => {
                set(
                    &mut f.selected,
                    text(d, "selectedProtocolVersion")?,
                    k,
                    &mut seen,
                )?;
            }
            // The README's CDDL calls it `metadata`; implementations use `peerMetadata`.
            "peerMetadata" | "metadata" => {
                set(&mut f.metadata, metadata(d)?, "peerMetadata", &mut seen)?
            }
            "message" => set(&mut f.message, text(d, "message")?, k, &mut seen)?,
            "sessionId" => set(&mut f.session_id, text(d, "sessionId")?, k, &mut seen)?,
            "count" => set(&mut f.count, count(d, "count")?, k, &mut seen)?,
            "add" => set(&mut f.add, texts(d, "add")?, k, &mut seen)?,
            "remove" => set(&mut f.remove, texts(d, "remove")?, k, &mut seen)?,
            "newHeads" => set(&mut f.new_heads, new_heads(d)?, k, &mut seen)?,
            _ => d.skip()?,
        }
    }
    Ok(f)
}

fn required<T>(value: Option<T>, field: &'static str) -> Result<T, DecodeError> {
    value.ok_or(DecodeError::MissingField(field))
}

fn data(value: Option<Vec<u8>>) -> Result<Vec<u8>, DecodeError> {
    let data = required(value, "data")?;
    if data.is_empty() {
        Err(DecodeError::EmptyData)
    } else {
        Ok(data)
    }
}

impl Message {
    /// Decodes one wire message after checking its size and CBOR structure against `limits`.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the first problem.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::Empty);
        }
        if bytes.len() > limits.max_message_bytes {
            return Err(DecodeError::TooLarge {
                size: bytes.len(),
                max: limits.max_message_bytes,
            });
        }
        check_structure(bytes, limits.max_depth)?;
        let mut d = Decoder::new(bytes);
        let f = read_fields(&mut d)?;
        let kind = required(f.kind, "type")?;
        let sender = || required(f.sender_id.clone(), "senderId").map(PeerId);
        let target = || required(f.target_id.clone(), "targetId").map(PeerId);
        Ok(match kind.as_str() {
            "join" => Message::Join {
                sender_id: sender()?,
                supported_protocol_versions: f.supported,
                peer_metadata: f.metadata,
            },
            "peer" => Message::Peer {
                sender_id: sender()?,
                target_id: target()?,
                selected_protocol_version: required(f.selected, "selectedProtocolVersion")?,
                peer_metadata: f.metadata,
            },
            "error" => Message::Error {
                message: f.message.unwrap_or_default(),
                sender_id: f.sender_id.map(PeerId),
                target_id: f.target_id.map(PeerId),
            },
            "leave" => Message::Leave {
                sender_id: sender()?,
            },
            "request" => Message::Request {
                sender_id: sender()?,
                target_id: target()?,
                document_id: required(f.document_id, "documentId")?,
                data: data(f.data)?,
            },
            "sync" => Message::Sync {
                sender_id: sender()?,
                target_id: target()?,
                document_id: required(f.document_id, "documentId")?,
                data: data(f.data)?,
            },
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: sender()?,
                target_id: target()?,
                document_id: required(f.document_id, "documentId")?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: sender()?,
                target_id: target()?,
                document_id: required(f.document_id, "documentId")?,
                session_id: required(f.session_id, "sessionId")?,
                count: required(f.count, "count")?,
                data: data(f.data)?,
            },
            "remote-subscription-change" => Message::RemoteSubscriptionChange {
                sender_id: sender()?,
                target_id: target()?,
                add: f
                    .add
                    .unwrap_or_default()
                    .into_iter()
                    .map(StorageId)
                    .collect(),
                remove: f
                    .remove
                    .unwrap_or_default()
                    .into_iter()
                    .map(StorageId)
                    .collect(),
            },
            "remote-heads-changed" => Message::RemoteHeadsChanged {
                sender_id: sender()?,
                target_id: target()?,
                document_id: required(f.document_id, "documentId")?,
                new_heads: required(f.new_heads, "newHeads")?,
            },
            other => return Err(DecodeError::UnknownType(other.chars().take(64).collect())),
        })
    }
}
