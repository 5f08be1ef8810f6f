//! Record conventions shared by every document: append-only status history and soft delete
//! with restore.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::doc::EditContext;
use crate::doc::write::{self, Node};

/// One entry of an append-only status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The status before (as the writer saw it).
    #[serde(default)]
    pub from: Option<String>,
    /// The status set.
    pub to: String,
    /// Who set it.
    pub by: String,
    /// Device time (display only).
    pub at: i64,
    /// Why, if given.
    #[serde(default)]
    pub note: String,
}

/// Appends a status transition to the list `status_history` of `obj`; concurrent appends all
/// survive, so every transition stays visible even when only one status wins.
pub(crate) fn append_status(
    tx: &mut impl Transactable,
    obj: &ObjId,
    from: Option<&str>,
    to: &str,
    ctx: &EditContext,
    note: &str,
) -> Result<(), DomainError> {
    let list = match tx.get(obj, "status_history")? {
        Some((v, id)) if v.to_objtype() == Some(ObjType::List) => id,
        _ => tx.put_object(obj, "status_history", ObjType::List)?,
    };
    let note = write::long("note", note)?;
    let entry = status_entry(from, to, &ctx.person, ctx.now.millis(), note);
    let len = tx.length(&list);
    tx.batch_create_object(&list, len, &entry.into_hydrate_value(), true)?;
    Ok(())
}

pub(crate) fn status_entry(from: Option<&str>, to: &str, by: &str, at: i64, note: &str) -> Node {
    Node::map()
        .with_opt("from", from)
        .with("to", to)
        .with("by", by)
        .with("at", at)
        .with("note", note)
}

/// The soft-delete state of a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// Removed (hidden, restorable).
    pub deleted: bool,
    /// Who removed it.
    pub deleted_by: Option<String>,
    /// When (device time).
    pub deleted_at: Option<i64>,
    /// Edited concurrently with or after the removal: the UI offers "restore?".
    pub edited_after_removal: bool,
}

/// The stored fields behind [`Removal`], flattened into each record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredRemoval {
    deleted: bool,
    deleted_by: Option<String>,
    deleted_at: Option<i64>,
    /// The record's edit counter when it was removed.
    deleted_at_edits: Option<i64>,
    /// Counts every edit of the record; a counter, so concurrent edits all count.
    edits: i64,
}

impl StoredRemoval {
    pub(crate) fn view(&self) -> Removal {
        Removal {
            deleted: self.deleted,
            deleted_by: self.deleted_by.clone(),
            deleted_at: self.deleted_at,
            edited_after_removal: self.deleted
                && self.deleted_at_edits.is_some_and(|at| self.edits > at),
        }
    }
}

/// Counts an edit of a removable record (see [`Removal::edited_after_removal`]).
pub(crate) fn count_edit(tx: &mut impl Transactable, obj: &ObjId) -> Result<(), DomainError> {
    match tx.get(obj, "edits")? {
        Some((v, _)) if v.is_counter() => tx.increment(obj, "edits", 1)?,
        _ => tx.put(obj, "edits", automerge::ScalarValue::counter(1))?,
    }
    Ok(())
}

/// Removes a record softly: it stays in the document with its content and can be restored.
pub(crate) fn soft_delete(
    tx: &mut impl Transactable,
    obj: &ObjId,
    ctx: &EditContext,
) -> Result<(), DomainError> {
    let edits = write::get_i64(tx, obj, "edits")?.unwrap_or(0);
    tx.put(obj, "deleted", true)?;
    tx.put(obj, "deleted_by", ctx.person.as_str())?;
    tx.put(obj, "deleted_at", ctx.now.millis())?;
    tx.put(obj, "deleted_at_edits", edits)?;
    Ok(())
}

/// Brings a softly removed record back.
pub(crate) fn restore(tx: &mut impl Transactable, obj: &ObjId) -> Result<(), DomainError> {
    tx.put(obj, "deleted", false)?;
    for key in ["deleted_by", "deleted_at", "deleted_at_edits"] {
        if tx.get(obj, key)?.is_some() {
            tx.delete(obj, key)?;
        }
    }
    Ok(())
}

/// The members of a map used as a set (keys whose value is `true`), sorted.
pub(crate) fn set_members(map: &std::collections::BTreeMap<String, bool>) -> Vec<String> {
    map.iter()
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.clone())
        .collect()
}

/// Sets `member` in the set map `key` of `obj` (creating the set only if a foreign writer
/// removed it).
pub(crate) fn set_member(
    tx: &mut impl Transactable,
    obj: &ObjId,
    key: &str,
    member: &str,
    present: bool,
) -> Result<(), DomainError> {
    let set = match tx.get(obj, key)? {
        Some((v, id)) if v.to_objtype() == Some(ObjType::Map) => id,
        _ => tx.put_object(obj, key, ObjType::Map)?,
    };
    if present {
        tx.put(&set, member, true)?;
    } else if tx.get(&set, member)?.is_some() {
        tx.delete(&set, member)?;
    }
    Ok(())
}

/// Validates an ISO date `YYYY-MM-DD` (calendar-checked) and returns it trimmed.
pub(crate) fn iso_date(field: &'static str, value: &str) -> Result<String, DomainError> {
    let v = value.trim();
    let invalid = || DomainError::InvalidValue {
        field,
        value: value.to_owned(),
    };
    let parts: Vec<&str> = v.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(invalid());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(invalid());
    }
    let (y, m, d): (u32, u32, u32) = (
        y.parse().map_err(|_| invalid())?,
        m.parse().map_err(|_| invalid())?,
        d.parse().map_err(|_| invalid())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(invalid()),
    };
    if d == 0 || d > days {
        return Err(invalid());
    }
    Ok(v.to_owned())
}

/// Validates a clock time `HH:MM` and returns minutes after midnight.
pub(crate) fn clock_minutes(field: &'static str, value: &str) -> Result<u32, DomainError> {
    let invalid = || DomainError::InvalidValue {
        field,
        value: value.to_owned(),
    };
    let (h, m) = value.trim().split_once(':').ok_or_else(invalid)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(invalid());
    }
    let (h, m): (u32, u32) = (
        h.parse().map_err(|_| invalid())?,
        m.parse().map_err(|_| invalid())?,
    );
    if h > 23 || m > 59 {
        return Err(invalid());
    }
    Ok(h * 60 + m)
}

/// Adds the new record `id` built as `node` to the root collection `collection`, as one edit.
pub(crate) fn insert_record(
    doc: &mut crate::doc::NachbarDoc,
    ctx: &EditContext,
    op: &str,
    collection: &str,
    id: &str,
    node: Node,
) -> Result<crate::doc::Applied, DomainError> {
    let (_, applied) = doc.edit(ctx, op, |tx| {
        let map = write::map_at(tx, &automerge::ROOT, collection)?;
        // Removed records count too: they stay in the document.
        if automerge::ReadDoc::length(tx, &map) >= MAX_RECORDS {
            return Err(DomainError::TooMany {
                collection: collection.to_owned(),
                max: MAX_RECORDS,
            });
        }
        write::create(tx, &map, id, node)?;
        Ok(())
    })?;
    Ok(applied)
}

/// Most records of one collection in a document (agenda blocks, measures, meetings …).
pub const MAX_RECORDS: usize = 1000;

/// Runs `f` on the record `id` of the root collection `collection` as one edit, and counts
/// the edit on the record (see [`Removal::edited_after_removal`]).
pub(crate) fn edit_record(
    doc: &mut crate::doc::NachbarDoc,
    ctx: &EditContext,
    op: &str,
    (collection, kind): (&str, &'static str),
    id: &str,
    f: impl FnOnce(&mut automerge::transaction::Transaction<'_>, &ObjId) -> Result<(), DomainError>,
) -> Result<crate::doc::Applied, DomainError> {
    let (_, applied) = doc.edit(ctx, op, |tx| {
        let obj = write::record(tx, collection, id, kind)?;
        f(tx, &obj)?;
        count_edit(tx, &obj)
    })?;
    Ok(applied)
}

/// Removes the record `id` of `collection` softly.
pub(crate) fn remove_record(
    doc: &mut crate::doc::NachbarDoc,
    ctx: &EditContext,
    op: &str,
    (collection, kind): (&str, &'static str),
    id: &str,
) -> Result<crate::doc::Applied, DomainError> {
    let (_, applied) = doc.edit(ctx, op, |tx| {
        let obj = write::record(tx, collection, id, kind)?;
        soft_delete(tx, &obj, ctx)
    })?;
    Ok(applied)
}

/// Restores the softly removed record `id` of `collection`.
pub(crate) fn restore_record(
    doc: &mut crate::doc::NachbarDoc,
    ctx: &EditContext,
    op: &str,
    (collection, kind): (&str, &'static str),
    id: &str,
) -> Result<crate::doc::Applied, DomainError> {
    let (_, applied) = doc.edit(ctx, op, |tx| {
        let obj = write::record(tx, collection, id, kind)?;
        restore(tx, &obj)
    })?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_validated() {
        assert_eq!(iso_date("date", "2028-02-29").unwrap(), "2028-02-29");
        assert!(iso_date("date", "2027-02-29").is_err());
        assert!(iso_date("date", "2027-13-01").is_err());
        assert!(iso_date("date", "27-1-1").is_err());
        assert_eq!(clock_minutes("start", "09:30").unwrap(), 570);
        assert!(clock_minutes("start", "24:00").is_err());
        assert!(clock_minutes("start", "9:30").is_err());
    }
}
