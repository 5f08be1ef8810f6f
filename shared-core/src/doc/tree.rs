//! Reading Automerge objects as plain JSON-like trees, the first step of every hydration.
//!
//! Text objects read as strings, counters as their current value; a conflicted key reads as
//! Automerge's deterministic winner (conflicts are reported separately, see
//! [`conflict`](super::conflict)).

use automerge::{ObjId, ObjType, ReadDoc, ScalarValueRef, ValueRef};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::DomainError;

/// Reads the object `obj` of type `typ` and everything below it.
///
/// # Errors
/// Only when `obj` is not an object of this document.
pub(crate) fn read_object(
    doc: &(impl ReadDoc + ?Sized),
    obj: &ObjId,
    typ: ObjType,
) -> Result<Value, DomainError> {
    Ok(match typ {
        ObjType::Map | ObjType::Table => {
            let mut map = Map::new();
            for item in doc.map_range(obj, ..) {
                let value = match &item.value {
                    ValueRef::Object(typ) => read_object(doc, &item.id(), *typ)?,
                    ValueRef::Scalar(scalar) => scalar_to_json(scalar),
                };
                map.insert(item.key.to_string(), value);
            }
            Value::Object(map)
        }
        ObjType::List => {
            let mut list = Vec::new();
            for item in doc.list_range(obj, ..) {
                list.push(match &item.value {
                    ValueRef::Object(typ) => read_object(doc, &item.id(), *typ)?,
                    ValueRef::Scalar(scalar) => scalar_to_json(scalar),
                });
            }
            Value::Array(list)
        }
        ObjType::Text => Value::String(doc.text(obj)?),
    })
}

/// A scalar as JSON; bytes and unknown types (from newer Automerge versions) read as null.
pub(crate) fn scalar_to_json(scalar: &ScalarValueRef<'_>) -> Value {
    match scalar {
        ScalarValueRef::Str(s) => Value::String(s.to_string()),
        ScalarValueRef::Int(n) | ScalarValueRef::Counter(n) | ScalarValueRef::Timestamp(n) => {
            Value::from(*n)
        }
        ScalarValueRef::Uint(n) => Value::from(*n),
        ScalarValueRef::F64(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        ScalarValueRef::Boolean(b) => Value::Bool(*b),
        ScalarValueRef::Bytes(_) | ScalarValueRef::Unknown { .. } | ScalarValueRef::Null => {
            Value::Null
        }
    }
}

/// Reads the value at `key` of the map `obj`, or `None` when the key is absent.
///
/// # Errors
/// When `obj` is not an object of this document.
pub(crate) fn read_key(
    doc: &(impl ReadDoc + ?Sized),
    obj: &ObjId,
    key: &str,
) -> Result<Option<Value>, DomainError> {
    match doc.get(obj, key)? {
        None => Ok(None),
        Some((automerge::Value::Object(typ), id)) => Ok(Some(read_object(doc, &id, typ)?)),
        Some((automerge::Value::Scalar(s), _)) => Ok(Some(scalar_value_to_json(&s))),
    }
}

/// An owned scalar as JSON.
pub(crate) fn scalar_value_to_json(scalar: &automerge::ScalarValue) -> Value {
    use automerge::ScalarValue as S;
    match scalar {
        S::Str(s) => Value::String(s.to_string()),
        S::Int(n) | S::Timestamp(n) => Value::from(*n),
        S::Counter(c) => Value::from(i64::from(c)),
        S::Uint(n) => Value::from(*n),
        S::F64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        S::Boolean(b) => Value::Bool(*b),
        S::Bytes(_) | S::Unknown { .. } | S::Null => Value::Null,
    }
}

/// Reads the whole document root and deserialises it into `T`, reporting a foreign shape as
/// [`DomainError::Shape`].
///
/// # Errors
/// When the content does not fit `T`.
pub(crate) fn hydrate_root<T: DeserializeOwned>(
    doc: &(impl ReadDoc + ?Sized),
) -> Result<T, DomainError> {
    let json = read_object(doc, &automerge::ROOT, ObjType::Map)?;
    from_json("", json)
}

/// Deserialises a tree read from the document, naming `path` in errors.
///
/// # Errors
/// When the content does not fit `T`.
pub(crate) fn from_json<T: DeserializeOwned>(path: &str, json: Value) -> Result<T, DomainError> {
    serde_json::from_value(json)
        .map_err(|e| DomainError::shape(if path.is_empty() { "/" } else { path }, e))
}
