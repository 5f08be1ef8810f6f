//! Identifiers: automerge-repo document ids and the UUIDv7 ids of records inside documents.

use std::fmt;
use std::str::FromStr;

use crate::time::Timestamp;

/// An automerge-repo document id: 16 random bytes, written as bs58check.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

/// Why a string is not a [`DocumentId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDocumentId {
    /// Not valid bs58check (bad characters or checksum).
    #[error("document id is not valid bs58check")]
    Encoding,
    /// Decodes, but not to 16 bytes.
    #[error("document id must decode to 16 bytes, got {0}")]
    Length(usize),
}

impl DocumentId {
    /// A new random document id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().into_bytes())
    }

    /// The id from its 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = InvalidDocumentId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|_| InvalidDocumentId::Encoding)?;
        let array: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| InvalidDocumentId::Length(bytes.len()))?;
        Ok(Self(array))
    }
}

impl serde::Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A change hash (a document's head) as automerge-repo 2.x writes it: bs58check of its 32
/// bytes, in `automerge:` URLs and in `remote-heads-changed`.
pub fn head_string(hash: &[u8; 32]) -> String {
    bs58::encode(hash).with_check().into_string()
}

/// An `automerge:` URL: a document id, optionally pinned to heads
/// (`automerge:<id>#<head>|<head>`, each head a change hash in bs58check).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AutomergeUrl {
    /// The document.
    pub document_id: DocumentId,
    /// The heads it is pinned to; `Some(empty)` for an empty fragment, `None` for no fragment.
    pub heads: Option<Vec<[u8; 32]>>,
}

/// Why a string is not an [`AutomergeUrl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidAutomergeUrl {
    /// It does not start with `automerge:`.
    #[error("an automerge URL starts with `automerge:`")]
    Scheme,
    /// The document id part is invalid.
    #[error("invalid document id in automerge URL: {0}")]
    DocumentId(#[from] InvalidDocumentId),
    /// A head is not bs58check of 32 bytes.
    #[error("invalid head `{0}` in automerge URL")]
    Head(String),
}

impl AutomergeUrl {
    /// The URL of a whole document.
    pub fn new(document_id: DocumentId) -> Self {
        Self {
            document_id,
            heads: None,
        }
    }
}

impl fmt::Display for AutomergeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "automerge:{}", self.document_id)?;
        if let Some(heads) = &self.heads {
            let encoded: Vec<String> = heads.iter().map(head_string).collect();
            write!(f, "#{}", encoded.join("|"))?;
        }
        Ok(())
    }
}

impl FromStr for AutomergeUrl {
    type Err = InvalidAutomergeUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("automerge:")
            .ok_or(InvalidAutomergeUrl::Scheme)?;
        let (id, fragment) = match rest.split_once('#') {
            Some((id, fragment)) => (id, Some(fragment)),
            None => (rest, None),
        };
        let document_id = id.parse()?;
        let heads = fragment
            .map(|fragment| {
                fragment
                    .split('|')
                    .filter(|h| !h.is_empty())
                    .map(|h| {
                        let bytes = bs58::decode(h)
                            .with_check(None)
                            .into_vec()
                            .map_err(|_| InvalidAutomergeUrl::Head(h.to_owned()))?;
                        <[u8; 32]>::try_from(bytes.as_slice())
                            .map_err(|_| InvalidAutomergeUrl::Head(h.to_owned()))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self { document_id, heads })
    }
}

/// A new record id: a UUIDv7 string whose time part comes from `now`, so ids made on one
/// device sort by creation.
pub fn new_record_id(now: Timestamp) -> String {
    let millis = u64::try_from(now.millis()).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        millis / 1000,
        (millis % 1000) as u32 * 1_000_000,
    );
    uuid::Uuid::new_v7(ts).to_string()
}

/// Checks that `id` is a UUID string (records are keyed by UUIDv7 strings).
pub fn is_record_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_id_round_trips_through_bs58check() {
        let id = DocumentId::random();
        let text = id.to_string();
        assert_eq!(text.parse::<DocumentId>().unwrap(), id);
    }

    #[test]
    fn document_id_rejects_bad_checksum_and_length() {
        let id = DocumentId::from_bytes([7; 16]).to_string();
        let mut broken = id.into_bytes();
        let last = broken.len() - 1;
        broken[last] = if broken[last] == b'2' { b'3' } else { b'2' };
        let broken = String::from_utf8(broken).unwrap();
        assert_eq!(
            broken.parse::<DocumentId>(),
            Err(InvalidDocumentId::Encoding)
        );
        let short = bs58::encode([1u8; 8]).with_check().into_string();
        assert_eq!(
            short.parse::<DocumentId>(),
            Err(InvalidDocumentId::Length(8))
        );
        assert_eq!(
            "0OIl".parse::<DocumentId>(),
            Err(InvalidDocumentId::Encoding)
        );
    }

    #[test]
    fn automerge_urls_round_trip_and_reject_garbage() {
        let id = DocumentId::random();
        let url = AutomergeUrl::new(id);
        assert_eq!(url.to_string().parse::<AutomergeUrl>().unwrap(), url);
        let pinned = AutomergeUrl {
            document_id: id,
            heads: Some(vec![[1; 32], [2; 32]]),
        };
        let text = pinned.to_string();
        assert!(text.contains('#') && text.contains('|'));
        assert_eq!(text.parse::<AutomergeUrl>().unwrap(), pinned);
        let empty: AutomergeUrl = format!("automerge:{id}#").parse().unwrap();
        assert_eq!(empty.heads, Some(vec![]));
        assert_eq!(
            "http://x".parse::<AutomergeUrl>(),
            Err(InvalidAutomergeUrl::Scheme)
        );
        assert!(matches!(
            "automerge:nope".parse::<AutomergeUrl>(),
            Err(InvalidAutomergeUrl::DocumentId(_))
        ));
        assert!(matches!(
            format!("automerge:{id}#abc").parse::<AutomergeUrl>(),
            Err(InvalidAutomergeUrl::Head(_))
        ));
    }

    #[test]
    fn record_ids_are_uuid_v7_and_sort_by_time() {
        let a = new_record_id(Timestamp(1_700_000_000_000));
        let b = new_record_id(Timestamp(1_700_000_001_000));
        assert!(is_record_id(&a));
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 7);
        assert!(a < b);
        assert!(!is_record_id("not-a-uuid"));
    }
}
