//! What the change history tells the reader: who changed the document last and when, and
//! whether a sign-off still covers the current content.

use automerge::{Automerge, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// The most recent change of a document, for "last edited" displays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastEdited {
    /// The stored device time of the change (seconds precision, shown as milliseconds).
    pub at: Timestamp,
    /// The operation that made it.
    pub op: String,
    /// The device clock of that change was behind a change it built on: the time shown is
    /// probably wrong ("clock skew").
    pub clock_skew_suspected: bool,
}

/// The latest change among the heads (by stored time, ties by hash so every replica agrees).
pub(super) fn last_edited(doc: &Automerge) -> Option<LastEdited> {
    let heads = doc.get_heads();
    let latest = heads
        .iter()
        .filter_map(|h| doc.get_change_meta_by_hash(h))
        .max_by(|a, b| (a.timestamp, a.hash).cmp(&(b.timestamp, b.hash)))?;
    let deps_latest = latest
        .deps
        .iter()
        .filter_map(|h| doc.get_change_meta_by_hash(h))
        .map(|m| m.timestamp)
        .max();
    Some(LastEdited {
        at: Timestamp(latest.timestamp.saturating_mul(1000)),
        op: latest.message.as_deref().unwrap_or_default().to_owned(),
        clock_skew_suspected: deps_latest.is_some_and(|t| t > latest.timestamp),
    })
}

/// Whether every change not reachable from `heads` is one of the `allowed` operations.
pub(super) fn only_ops_since(doc: &Automerge, heads: &[ChangeHash], allowed: &[&str]) -> bool {
    if heads
        .iter()
        .any(|h| doc.get_change_meta_by_hash(h).is_none())
    {
        return false;
    }
    doc.get_changes_meta(heads)
        .iter()
        .all(|c| c.message.as_deref().is_some_and(|m| allowed.contains(&m)))
}
