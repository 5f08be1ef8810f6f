//! What the change history tells the reader: who changed the document last and when, which
//! device clocks look wrong, and whether a sign-off still covers the current content.

use std::collections::{BTreeMap, HashMap};

use automerge::{Automerge, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// The most recent change of a document, for "last edited" displays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastEdited {
    /// The stored device time of the latest change (seconds precision, in milliseconds).
    pub at: Timestamp,
    /// The operation that made it.
    pub op: String,
    /// Some device's clock was behind: one of its changes is dated before a change it built
    /// on, so stored times may be misleading (see [`ClockSkew`]).
    pub clock_skew_suspected: bool,
}

/// A device (actor) whose clock was behind when it edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSkew {
    /// The actor id, as hex.
    pub actor: String,
    /// The most its changes were dated before a change they built on, in milliseconds.
    pub behind_ms: i64,
}

/// Every actor with a change dated before one of its dependencies, sorted by actor.
pub(super) fn clock_skew(doc: &Automerge) -> Vec<ClockSkew> {
    let metas = doc.get_changes_meta(&[]);
    let times: HashMap<ChangeHash, i64> = metas.iter().map(|m| (m.hash, m.timestamp)).collect();
    let mut behind: BTreeMap<String, i64> = BTreeMap::new();
    for m in &metas {
        let latest_dep = m.deps.iter().filter_map(|d| times.get(d)).max();
        if let Some(&dep) = latest_dep
            && dep > m.timestamp
        {
            let entry = behind.entry(m.actor.to_hex_string()).or_default();
            *entry = (*entry).max(dep - m.timestamp);
        }
    }
    behind
        .into_iter()
        .map(|(actor, secs)| ClockSkew {
            actor,
            behind_ms: secs.saturating_mul(1000),
        })
        .collect()
}

/// The latest change among the heads (by stored time, ties by hash so every replica agrees).
pub(super) fn last_edited(doc: &Automerge) -> Option<LastEdited> {
    let heads = doc.get_heads();
    let latest = heads
        .iter()
        .filter_map(|h| doc.get_change_meta_by_hash(h))
        .max_by(|a, b| (a.timestamp, a.hash).cmp(&(b.timestamp, b.hash)))?;
    Some(LastEdited {
        at: Timestamp(latest.timestamp.saturating_mul(1000)),
        op: latest.message.as_deref().unwrap_or_default().to_owned(),
        clock_skew_suspected: !clock_skew(doc).is_empty(),
    })
}

/// Whether the content of the document at `heads` and now differs only under the root keys
/// `ignored`: decided from the content (a diff), never from what changes call themselves.
pub(super) fn unchanged_since_except(
    doc: &Automerge,
    heads: &[ChangeHash],
    ignored: &[&str],
) -> bool {
    if heads
        .iter()
        .any(|h| doc.get_change_meta_by_hash(h).is_none())
    {
        return false;
    }
    let now = doc.get_heads();
    let mut since = heads.to_vec();
    since.sort();
    if since == now {
        return true;
    }
    doc.diff(heads, &now)
        .iter()
        .all(|patch| root_key(patch).is_some_and(|k| ignored.contains(&k)))
}

/// The key of the root map under which `patch` changes something (`None`: not under a key of
/// the root map).
fn root_key(patch: &automerge::Patch) -> Option<&str> {
    use automerge::{PatchAction, Prop};
    if let Some((_, prop)) = patch.path.first() {
        return match prop {
            Prop::Map(key) => Some(key.as_str()),
            Prop::Seq(_) => None,
        };
    }
    match &patch.action {
        PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => Some(key.as_str()),
        PatchAction::Increment {
            prop: Prop::Map(key),
            ..
        }
        | PatchAction::Conflict {
            prop: Prop::Map(key),
        } => Some(key.as_str()),
        _ => None,
    }
}
