//! Review status and sign-offs bound to heads, shared by assessments and action plans.
//!
//! A sign-off records the document heads the signer saw. It stays valid while the content
//! since those heads changed only in the review's own bookkeeping (sign-offs, status); any
//! other edit (an answer, a measure) makes the document "in review" again, whatever its change
//! message says. "Agreed" is therefore derived on read from the content, identically on every
//! replica, and needs no clean-up when a concurrent edit arrives.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ChangeHash, ROOT};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, EditContext, NachbarDoc};
use crate::label::coded_enum;

use super::common::append_status;

/// The change message of a sign-off edit.
pub(crate) const SIGN_OFF_OP: &str = "sign-off";

/// The root keys of the review's bookkeeping: changes there leave a sign-off valid.
const REVIEW_KEYS: &[&str] = &["sign_offs", "status", "status_history"];

coded_enum! {
    /// Where an assessment or action plan stands in its review.
    ReviewStatus, "status" {
        /// Being worked on.
        Draft = "draft", "Entwurf", "Draft";
        /// Ready for the business and the coach to agree.
        InReview = "in_review", "In Abstimmung", "In review";
        /// Signed off by owner and coach at the current content.
        Agreed = "agreed", "Vereinbart", "Agreed";
        /// Replaced by a later assessment or plan.
        Superseded = "superseded", "Abgelöst", "Superseded";
    }
}

coded_enum! {
    /// Who signs off.
    SignOffRole, "sign-off role" {
        /// The business owner.
        Owner = "owner", "Inhaber/in", "Owner";
        /// The coach.
        Coach = "coach", "Coach", "Coach";
    }
}

/// A sign-off as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffView {
    /// Which role signed.
    pub role: SignOffRole,
    /// Who signed.
    pub by: String,
    /// When (device time).
    pub at: i64,
    /// The heads signed, as hex.
    pub heads: Vec<String>,
    /// Still covers the current content (nothing but sign-offs changed since).
    pub valid: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StoredSignOff {
    by: String,
    at: i64,
    #[serde(default)]
    heads: Vec<String>,
}

/// The sign-offs of a document with their validity, and whether it is agreed.
pub(crate) fn sign_offs(
    doc: &NachbarDoc,
    stored: &BTreeMap<String, StoredSignOff>,
) -> (Vec<SignOffView>, bool) {
    let mut views = Vec::new();
    for (role, s) in stored {
        let Ok(role) = SignOffRole::parse(role) else {
            continue;
        };
        let heads: Option<Vec<ChangeHash>> = s.heads.iter().map(|h| h.parse().ok()).collect();
        let valid = heads.is_some_and(|heads| doc.unchanged_since_except(&heads, REVIEW_KEYS));
        views.push(SignOffView {
            role,
            by: s.by.clone(),
            at: s.at,
            heads: s.heads.clone(),
            valid,
        });
    }
    let agreed = SignOffRole::ALL
        .iter()
        .all(|r| views.iter().any(|v| v.role == *r && v.valid));
    (views, agreed)
}

/// A sign-off entry that changes wrote: its role key and, when it is still there, who it
/// names as the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffWrite {
    /// The key under `sign_offs` (a role code, or anything a peer wrote).
    pub role: String,
    /// The entry is there now (not removed).
    pub present: bool,
    /// The entry's `by` now; `None` when the entry was removed or names no signer.
    pub by: Option<String>,
}

/// The sign-off entries the changes since `before` wrote (added, replaced, or edited inside),
/// for a server that only lets a signer record their own sign-off in a role they hold.
pub fn sign_offs_written(doc: &automerge::Automerge, before: &[ChangeHash]) -> Vec<SignOffWrite> {
    use automerge::{PatchAction, Prop, ReadDoc};
    let now = doc.get_heads();
    let mut roles = std::collections::BTreeSet::new();
    let mut whole_map = false;
    for patch in doc.diff(before, &now) {
        match patch.path.as_slice() {
            [] => {
                if let PatchAction::PutMap { key, .. } = &patch.action
                    && key == "sign_offs"
                {
                    whole_map = true;
                }
            }
            [(_, Prop::Map(root))] if root == "sign_offs" => match &patch.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                    roles.insert(key.clone());
                }
                PatchAction::Conflict {
                    prop: Prop::Map(key),
                } => {
                    roles.insert(key.clone());
                }
                _ => {}
            },
            [(_, Prop::Map(root)), (_, Prop::Map(role)), ..] if root == "sign_offs" => {
                roles.insert(role.clone());
            }
            _ => {}
        }
    }
    let map = match doc.get(automerge::ROOT, "sign_offs") {
        Ok(Some((automerge::Value::Object(automerge::ObjType::Map), id))) => Some(id),
        _ => None,
    };
    if whole_map && let Some(map) = &map {
        roles.extend(doc.keys(map));
    }
    roles
        .into_iter()
        .map(|role| {
            let entry = map
                .as_ref()
                .and_then(|m| doc.get(m, role.as_str()).ok().flatten());
            let by = entry.as_ref().and_then(|(_, e)| {
                let (value, _) = doc.get(e, "by").ok()??;
                value.into_string().ok()
            });
            SignOffWrite {
                role,
                present: entry.is_some(),
                by,
            }
        })
        .collect()
}

/// The status shown: a stored "agreed" whose sign-offs no longer cover the content reads as
/// "in review".
pub(crate) fn effective_status(stored: ReviewStatus, agreed: bool) -> ReviewStatus {
    match stored {
        ReviewStatus::Agreed if !agreed => ReviewStatus::InReview,
        other => other,
    }
}

/// Records a sign-off by `role` at the current heads; when the other role's sign-off is still
/// valid, the status becomes "agreed".
pub(crate) fn sign_off(
    doc: &mut NachbarDoc,
    ctx: &EditContext,
    role: SignOffRole,
    stored: &BTreeMap<String, StoredSignOff>,
    current_status: ReviewStatus,
) -> Result<Applied, DomainError> {
    let heads = doc.heads();
    sign_off_at(doc, ctx, role, stored, current_status, &heads)
}

/// Records a sign-off by `role` of the version at `seen` (the heads a page or screen showed):
/// refused with [`DomainError::ChangedSince`] when anything but the review's bookkeeping
/// changed since, so nobody agrees to content they have not seen.
pub(crate) fn sign_off_seen(
    doc: &mut NachbarDoc,
    ctx: &EditContext,
    role: SignOffRole,
    stored: &BTreeMap<String, StoredSignOff>,
    current_status: ReviewStatus,
    seen: &[ChangeHash],
) -> Result<Applied, DomainError> {
    if seen.is_empty() || !doc.unchanged_since_except(seen, REVIEW_KEYS) {
        return Err(DomainError::ChangedSince);
    }
    sign_off_at(doc, ctx, role, stored, current_status, seen)
}

fn sign_off_at(
    doc: &mut NachbarDoc,
    ctx: &EditContext,
    role: SignOffRole,
    stored: &BTreeMap<String, StoredSignOff>,
    current_status: ReviewStatus,
    heads: &[ChangeHash],
) -> Result<Applied, DomainError> {
    if current_status == ReviewStatus::Superseded {
        return Err(DomainError::NotAllowed(
            "a superseded document is not signed off".to_owned(),
        ));
    }
    let (views, _) = sign_offs(doc, stored);
    let others_valid = SignOffRole::ALL
        .iter()
        .filter(|r| **r != role)
        .all(|r| views.iter().any(|v| v.role == *r && v.valid));
    let hex: Vec<String> = heads.iter().map(ToString::to_string).collect();
    let (_, applied) = doc.edit(ctx, SIGN_OFF_OP, |tx| {
        let map = write::map_at(tx, &ROOT, "sign_offs")?;
        let entry = Node::map()
            .with("by", ctx.person.as_str())
            .with("at", ctx.now.millis())
            .with("heads", Node::List(hex.iter().map(Node::from).collect()));
        write::create(tx, &map, role.code(), entry)?;
        if others_valid && current_status != ReviewStatus::Agreed {
            tx.put(&ROOT, "status", ReviewStatus::Agreed.code())?;
            append_status(
                tx,
                &ROOT,
                Some(current_status.code()),
                ReviewStatus::Agreed.code(),
                ctx,
                "",
            )?;
        }
        Ok(())
    })?;
    Ok(applied)
}

/// Sets the review status by hand; "agreed" only comes from sign-offs.
pub(crate) fn set_status(
    doc: &mut NachbarDoc,
    ctx: &EditContext,
    from: ReviewStatus,
    to: ReviewStatus,
    note: &str,
) -> Result<Applied, DomainError> {
    if to == ReviewStatus::Agreed {
        return Err(DomainError::NotAllowed(
            "\"agreed\" is reached by the sign-offs of owner and coach".to_owned(),
        ));
    }
    let (_, applied) = doc.edit(ctx, "status", |tx| {
        tx.put(&ROOT, "status", to.code())?;
        append_status(tx, &ROOT, Some(from.code()), to.code(), ctx, note)
    })?;
    Ok(applied)
}

/// Settles concurrent status values by writing the chosen one (any status, "agreed"
/// included: the reviewer picks among values that were really set).
pub(crate) fn resolve_status(
    doc: &mut NachbarDoc,
    ctx: &EditContext,
    from: ReviewStatus,
    value: &str,
) -> Result<Applied, DomainError> {
    let to = ReviewStatus::parse(value)?;
    let (_, applied) = doc.edit(ctx, "resolve.status", |tx| {
        tx.put(&ROOT, "status", to.code())?;
        append_status(tx, &ROOT, Some(from.code()), to.code(), ctx, "resolved")
    })?;
    Ok(applied)
}
