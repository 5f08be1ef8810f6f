//! Web edits: a typed `nachbar-core` edit on the stored document, made under an actor id per
//! (user, web), handed to the hub as a submission and answered once it is committed. Phones
//! receive it like any other change; a refused edit stores nothing.

use std::time::Duration;

use automerge::{ActorId, ChangeHash};
use nachbar_core::DomainError;
use nachbar_core::doc::{Applied, EditContext, NachbarDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::model::TypedDoc;
use nachbar_core::time::Timestamp;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::access::{Access, DocInfo, Policy};
use crate::hub::{Submission, SubmitError};
use crate::routes::AppState;

use super::read::{self, ReadError};
use super::session::SignedIn;

/// How long an edit waits for its commit before reporting the server busy.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a web edit was not stored.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The document is missing or the user may not read it (shown as 404).
    #[error("not found")]
    NotFound,
    /// The user may read but not write it.
    #[error("read only")]
    ReadOnly,
    /// The domain refused the edit (shown at its field).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Reading the document failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The hub refused or storage failed.
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// The hub did not answer.
    #[error("the server is busy")]
    Unavailable,
}

/// One lock per document stripe: web edits of one document run one after another, so the
/// web actor's changes form a chain (each starts from the previous one's commit).
#[derive(Debug)]
pub struct EditLocks {
    stripes: Vec<Mutex<()>>,
}

impl Default for EditLocks {
    fn default() -> Self {
        EditLocks {
            stripes: (0..64).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl EditLocks {
    fn stripe(&self, doc: &DocumentId) -> &Mutex<()> {
        let h = Sha256::digest(doc.to_string().as_bytes());
        &self.stripes[usize::from(h[0]) % self.stripes.len()]
    }
}

/// The actor id of `user`'s web edits.
pub fn web_actor(user: &str) -> ActorId {
    let h = Sha256::digest(format!("nachbar-web:{user}").as_bytes());
    ActorId::from(&h[..16])
}

/// The edit context of a web edit by `who` now.
pub fn context(who: &SignedIn) -> EditContext {
    EditContext::new(who.id(), Timestamp::now())
}

/// Hands a change to the hub and waits for its commit.
async fn submit(state: &AppState, submission: Submission) -> Result<(), EditError> {
    let answer = state
        .hub
        .submit(submission)
        .map_err(|_| EditError::Unavailable)?;
    match tokio::time::timeout(COMMIT_TIMEOUT, answer).await {
        Ok(Ok(result)) => Ok(result?),
        _ => Err(EditError::Unavailable),
    }
}

/// Edits document `id` as `D` for `who` with `f` (one or more typed edits), then commits every
/// change it made through the hub in one submission. Returns what `f` returned.
///
/// # Errors
/// [`EditError::NotFound`] for a missing or unreadable document (or another kind),
/// [`EditError::ReadOnly`], the domain's refusal, or a failed commit.
pub async fn edit<D, T>(
    state: &AppState,
    who: &SignedIn,
    id: DocumentId,
    f: impl FnOnce(&mut D, &EditContext) -> Result<(T, Applied), DomainError>,
) -> Result<T, EditError>
where
    D: TypedDoc,
{
    edit_at(state, who, id, &[], f).await
}

/// Like [`edit`], but the change is made on the version the user's form showed (`seen`, its
/// heads): a value two people set at once from the same version is kept as concurrent values
/// ("needs review"), exactly as when two phones do it offline, instead of the later one
/// silently replacing the earlier. With no or unknown heads, or when the user's own web edits
/// came after `seen` (a second tab), the change is made on the current version.
///
/// # Errors
/// As [`edit`].
pub async fn edit_at<D, T>(
    state: &AppState,
    who: &SignedIn,
    id: DocumentId,
    seen: &[ChangeHash],
    f: impl FnOnce(&mut D, &EditContext) -> Result<(T, Applied), DomainError>,
) -> Result<T, EditError>
where
    D: TypedDoc,
{
    // Denied by the record's header fields: refused before any work, as fast as a missing one.
    let record = state
        .web
        .data
        .record(&id.to_string())
        .await
        .map_err(ReadError::from)?
        .ok_or(EditError::NotFound)?;
    if record.kind.as_deref() != Some(D::KIND.code()) {
        return Err(EditError::NotFound);
    }
    match read::record_access(who, &record) {
        Some(Access::None) => return Err(EditError::NotFound),
        Some(Access::Read) => return Err(EditError::ReadOnly),
        Some(Access::Write) | None => {}
    }
    let _turn = state.web.edit_locks.stripe(&id).lock().await;
    let stored = read::load_many(&state.web, vec![id])
        .await?
        .pop()
        .ok_or(EditError::NotFound)?;
    let actor = web_actor(who.id());
    let seen = seen.to_vec();
    let (policy, principal) = (std::sync::Arc::clone(&who.policy), who.principal());
    let doc = read::blocking(move || {
        let current = NachbarDoc::load(&stored.bytes, actor.clone())?;
        // Access is decided on the current version, never on an older one a form names.
        let access = policy.access(&principal, &DocInfo::read(current.automerge()));
        Ok((access, at_seen(current, &seen, &actor)?))
    })
    .await?;
    let doc = match doc {
        (Access::None, _) => return Err(EditError::NotFound),
        (Access::Read, _) => return Err(EditError::ReadOnly),
        (Access::Write, doc) => doc,
    };
    let before = doc.automerge().get_heads();
    let mut typed = D::open(doc)?;
    // `f` may make several changes (one per invited person, say): all of them are submitted.
    let (out, _last) = f(&mut typed, &context(who))?;
    let am = typed.inner().automerge();
    if am.get_heads() != before {
        submit(
            state,
            Submission {
                id: 0,
                doc: id,
                user: who.id().to_owned(),
                bytes: am.save_after(&before),
                register: None,
            },
        )
        .await?;
    }
    Ok(out)
}

/// The document as it was at `seen`, for an edit on that version; the current one when `seen`
/// is empty, not all known, already current, or followed by changes of `actor` itself (whose
/// sequence numbers a change on the old version would repeat).
fn at_seen(
    current: NachbarDoc,
    seen: &[ChangeHash],
    actor: &ActorId,
) -> Result<NachbarDoc, DomainError> {
    let am = current.automerge();
    let mut sorted = seen.to_vec();
    sorted.sort();
    if seen.is_empty()
        || sorted == am.get_heads()
        || seen.iter().any(|h| am.get_change_meta_by_hash(h).is_none())
    {
        return Ok(current);
    }
    let own_later = am
        .get_changes_meta(seen)
        .iter()
        .any(|c| c.actor.as_ref() == actor);
    if own_later {
        return Ok(current);
    }
    let mut fork = am.fork_at(seen)?;
    fork.set_actor(actor.clone());
    match NachbarDoc::from_automerge(fork) {
        // The old version must be the same document: same header (kind, place, creator).
        Ok(old) if old.header() == current.header() => Ok(old),
        _ => Ok(current),
    }
}

/// Stores a new document `doc` (created by `who` with a core `create`) through the hub, if the
/// rules let `who` create it. Returns its id.
///
/// # Errors
/// [`EditError::NotFound`] when `who` may not create it, or a failed commit.
pub async fn create(
    state: &AppState,
    who: &SignedIn,
    doc: &NachbarDoc,
) -> Result<DocumentId, EditError> {
    let info = DocInfo::read(doc.automerge());
    if !who.policy.may_create(&who.principal(), &info) {
        return Err(EditError::NotFound);
    }
    let id = DocumentId::random();
    let record = crate::documents::record(&id.to_string(), doc.automerge(), &info, who.id());
    submit(
        state,
        Submission {
            id: 0,
            doc: id,
            user: who.id().to_owned(),
            bytes: doc.save(),
            register: Some(record),
        },
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_one_web_actor() {
        assert_eq!(web_actor("u1"), web_actor("u1"));
        assert_ne!(web_actor("u1"), web_actor("u2"));
    }
}
