//! Concurrent values: fields that two replicas set at the same time keep every value in
//! Automerge; one wins deterministically and the field is reported as "needs review".

use automerge::{ObjId, ReadDoc};
use serde::{Deserialize, Serialize};

use crate::DomainError;

use super::tree;

/// A field with concurrent values, listed for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedsReview {
    /// The field, as a path accepted by `resolve` (e.g. `answers/C2/level`).
    pub field: String,
    /// The current (winning) value, as text.
    pub current: String,
    /// Every concurrent value, winner included, as text, in Automerge's order.
    pub values: Vec<String>,
}

/// Refuses settling `field` with `value` unless `value` is one of the concurrent values
/// `needs` lists for it (a reviewer chooses among values that were really set).
///
/// # Errors
/// [`DomainError::NotAllowed`] otherwise.
pub fn ensure_offered(needs: &[NeedsReview], field: &str, value: &str) -> Result<(), DomainError> {
    if needs
        .iter()
        .any(|n| n.field == field && n.values.iter().any(|v| v == value))
    {
        Ok(())
    } else {
        Err(DomainError::NotAllowed(
            "that value is not one of the concurrent values".to_owned(),
        ))
    }
}

/// Checks `key` of `obj` for concurrent values and records it under `field` when it has some.
pub(crate) fn check(
    doc: &(impl ReadDoc + ?Sized),
    obj: &ObjId,
    key: &str,
    field: impl FnOnce() -> String,
    out: &mut Vec<NeedsReview>,
) -> Result<(), DomainError> {
    let all = doc.get_all(obj, key)?;
    if all.len() < 2 {
        return Ok(());
    }
    let values: Vec<String> = all.iter().map(|(v, _)| value_text(v)).collect();
    let current = doc
        .get(obj, key)?
        .map(|(v, _)| value_text(&v))
        .unwrap_or_default();
    out.push(NeedsReview {
        field: field(),
        current,
        values,
    });
    Ok(())
}

/// Checks the `keys` of the map `obj` for concurrent values in one pass over the map, and
/// records each under `<prefix>/<key>`. Cheaper than [`check`] per key: only conflicted keys
/// are looked up in full.
pub(crate) fn check_keys(
    doc: &(impl ReadDoc + ?Sized),
    obj: &ObjId,
    keys: &[&str],
    prefix: &str,
    out: &mut Vec<NeedsReview>,
) -> Result<(), DomainError> {
    let conflicted: Vec<String> = doc
        .map_range(obj, ..)
        .filter(|item| item.conflict && keys.contains(&item.key.as_ref()))
        .map(|item| item.key.to_string())
        .collect();
    for key in conflicted {
        check(doc, obj, &key, || format!("{prefix}/{key}"), out)?;
    }
    Ok(())
}

fn value_text(value: &automerge::Value<'_>) -> String {
    match value {
        automerge::Value::Scalar(s) => match tree::scalar_value_to_json(s) {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        },
        automerge::Value::Object(typ) => format!("<{typ}>"),
    }
}
