//! Building blocks for edits: new object trees, lookups of existing records, text updates.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue, TextEncoding, hydrate};

use crate::DomainError;

/// A value to create inside a document: scalars, collaborative text, maps and lists.
///
/// New records are built as one `Node` and written with a single batch operation, so a new
/// record is one op splice instead of one per field.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Scalar(ScalarValue),
    Text(String),
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
}

impl Node {
    pub(crate) fn map() -> Self {
        Node::Map(Vec::new())
    }

    /// Adds `key` to a map node (ignored for other nodes: only built by our own code).
    pub(crate) fn with(mut self, key: &str, value: impl Into<Node>) -> Self {
        if let Node::Map(entries) = &mut self {
            entries.push((key.to_owned(), value.into()));
        }
        self
    }

    /// Adds `key` only when `value` is present.
    pub(crate) fn with_opt<V: Into<Node>>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    pub(crate) fn text(s: &str) -> Self {
        Node::Text(s.to_owned())
    }

    pub(crate) fn counter(n: i64) -> Self {
        Node::Scalar(ScalarValue::counter(n))
    }

    /// A map used as a set: every member maps to `true`.
    pub(crate) fn set<'a>(members: impl IntoIterator<Item = &'a str>) -> Self {
        Node::Map(
            members
                .into_iter()
                .map(|m| (m.to_owned(), Node::from(true)))
                .collect(),
        )
    }

    pub(crate) fn into_hydrate_value(self) -> hydrate::Value {
        match self {
            Node::Scalar(s) => hydrate::Value::Scalar(s),
            Node::Text(t) => {
                hydrate::Value::Text(hydrate::Text::new(TextEncoding::platform_default(), t))
            }
            Node::Map(entries) => {
                let map: std::collections::HashMap<String, hydrate::Value> = entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_hydrate_value()))
                    .collect();
                hydrate::Value::Map(hydrate::Map::from(map))
            }
            Node::List(items) => {
                let items: Vec<hydrate::Value> =
                    items.into_iter().map(Node::into_hydrate_value).collect();
                hydrate::Value::List(hydrate::List::from(items))
            }
        }
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Self {
        Node::Scalar(ScalarValue::Str(s.into()))
    }
}

impl From<String> for Node {
    fn from(s: String) -> Self {
        Node::Scalar(ScalarValue::Str(s.into()))
    }
}

impl From<&String> for Node {
    fn from(s: &String) -> Self {
        Node::from(s.as_str())
    }
}

impl From<i64> for Node {
    fn from(n: i64) -> Self {
        Node::Scalar(ScalarValue::Int(n))
    }
}

impl From<u8> for Node {
    fn from(n: u8) -> Self {
        Node::Scalar(ScalarValue::Int(i64::from(n)))
    }
}

impl From<u32> for Node {
    fn from(n: u32) -> Self {
        Node::Scalar(ScalarValue::Int(i64::from(n)))
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Self {
        Node::Scalar(ScalarValue::Boolean(b))
    }
}

/// Creates `node` at `key` of the map `obj`, replacing what was there.
pub(crate) fn create(
    tx: &mut impl Transactable,
    obj: &ObjId,
    key: &str,
    node: Node,
) -> Result<Option<ObjId>, DomainError> {
    match node {
        Node::Scalar(s) => {
            tx.put(obj, key, s)?;
            Ok(None)
        }
        other => Ok(Some(tx.batch_create_object(
            obj,
            key,
            &other.into_hydrate_value(),
            false,
        )?)),
    }
}

/// The map at `key` of `obj`.
///
/// # Errors
/// [`DomainError::Shape`] if the key is missing or not a map.
pub(crate) fn map_at(
    doc: &(impl ReadDoc + ?Sized),
    obj: &ObjId,
    key: &str,
) -> Result<ObjId, DomainError> {
    match doc.get(obj, key)? {
        Some((value, id)) if value.to_objtype() == Some(ObjType::Map) => Ok(id),
        Some(_) => Err(DomainError::shape(key, "expected a map")),
        None => Err(DomainError::shape(key, "missing")),
    }
}

/// The record `id` in the root collection `collection` (a map of records keyed by id).
///
/// # Errors
/// [`DomainError::UnknownRecord`] when there is no such record.
pub(crate) fn record(
    doc: &(impl ReadDoc + ?Sized),
    collection: &str,
    id: &str,
    kind: &'static str,
) -> Result<ObjId, DomainError> {
    let coll = map_at(doc, &ROOT, collection)?;
    match doc.get(&coll, id)? {
        Some((value, obj)) if value.to_objtype() == Some(ObjType::Map) => Ok(obj),
        _ => Err(DomainError::unknown(kind, id)),
    }
}

/// Sets the collaborative text at `key` of `obj` to `value` (at most [`MAX_LONG_TEXT`]
/// characters), editing the existing text object by a minimal diff so concurrent edits of
/// other parts of the text survive.
pub(crate) fn set_text(
    tx: &mut impl Transactable,
    obj: &ObjId,
    key: &'static str,
    value: &str,
) -> Result<(), DomainError> {
    long(key, value)?;
    match tx.get(obj, key)? {
        Some((v, text)) if v.to_objtype() == Some(ObjType::Text) => {
            tx.update_text(&text, value)?;
        }
        _ => {
            let text = tx.put_object(obj, key, ObjType::Text)?;
            tx.update_text(&text, value)?;
        }
    }
    Ok(())
}

/// Reads a string scalar at `key` of `obj`, if present.
pub(crate) fn get_str(
    doc: &(impl ReadDoc + ?Sized),
    obj: &ObjId,
    key: &str,
) -> Result<Option<String>, DomainError> {
    Ok(doc
        .get(obj, key)?
        .and_then(|(v, _)| v.as_str().map(str::to_owned)))
}

/// Reads an integer scalar at `key` of `obj`, if present.
pub(crate) fn get_i64(
    doc: &(impl ReadDoc + ?Sized),
    obj: &ObjId,
    key: &str,
) -> Result<Option<i64>, DomainError> {
    Ok(doc.get(obj, key)?.and_then(|(v, _)| v.as_i64()))
}

/// Most characters of a title, name or other one-line text.
pub const MAX_SHORT_TEXT: usize = 300;
/// Most characters of a note, description or other free text.
pub const MAX_LONG_TEXT: usize = 20_000;

fn at_most<'a>(field: &'static str, value: &'a str, max: usize) -> Result<&'a str, DomainError> {
    // Bytes bound characters from above: most texts skip the count.
    if value.len() > max && value.chars().count() > max {
        Err(DomainError::TooLong { field, max })
    } else {
        Ok(value)
    }
}

/// Validates a one-line text ([`MAX_SHORT_TEXT`] characters at most).
pub(crate) fn short<'a>(field: &'static str, value: &'a str) -> Result<&'a str, DomainError> {
    at_most(field, value, MAX_SHORT_TEXT)
}

/// Validates a free text ([`MAX_LONG_TEXT`] characters at most).
pub(crate) fn long<'a>(field: &'static str, value: &'a str) -> Result<&'a str, DomainError> {
    at_most(field, value, MAX_LONG_TEXT)
}

/// Validates a required, non-blank title (at most [`MAX_SHORT_TEXT`] characters) and returns
/// it trimmed.
pub(crate) fn required(field: &'static str, value: &str) -> Result<String, DomainError> {
    let trimmed = short(field, value.trim())?;
    if trimmed.is_empty() {
        Err(DomainError::Empty { field })
    } else {
        Ok(trimmed.to_owned())
    }
}

/// Validates that `value` lies in `min..=max`.
pub(crate) fn in_range(
    field: &'static str,
    value: i64,
    min: i64,
    max: i64,
) -> Result<i64, DomainError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(DomainError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

impl Node {
    /// A JSON value as a node: strings become plain string scalars (not collaborative text),
    /// numbers integers where they fit, otherwise floats.
    pub(crate) fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        match value {
            J::Null => Node::Scalar(ScalarValue::Null),
            J::Bool(b) => Node::from(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Node::from(i),
                None => Node::Scalar(ScalarValue::F64(n.as_f64().unwrap_or_default())),
            },
            J::String(s) => Node::from(s.as_str()),
            J::Array(items) => Node::List(items.iter().map(Node::from_json).collect()),
            J::Object(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v)))
                    .collect(),
            ),
        }
    }
}
