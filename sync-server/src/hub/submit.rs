//! Changes the server makes itself (web edits): merged into the document in memory, persisted
//! through the same group commit as a peer's upload, answered once durable, then advertised to
//! the document's peers like any other change.
//!
//! The caller has checked the access rules; the hub still refuses a change to the header.

use automerge::ReadDoc;

use super::*;

/// A change made by the server on behalf of a user.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Answered in [`Effects::submitted`] with this id.
    pub id: u64,
    /// The document.
    pub doc: DocumentId,
    /// The user the change is made for (audit).
    pub user: String,
    /// The change bytes; for a new document, its whole saved state.
    pub bytes: Vec<u8>,
    /// Registers a new document with this record.
    pub register: Option<DocRecord>,
}

/// Why a submission was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The document is not stored.
    #[error("the document does not exist")]
    NotFound,
    /// The bytes are not changes of this document.
    #[error("the change does not apply: {0}")]
    Invalid(String),
    /// The change would alter the document header.
    #[error("a change to the document header is refused")]
    Header,
    /// The change records a sign-off of someone else, or in a role the sender lacks.
    #[error("a sign-off may only be recorded by its signer, in a role they hold")]
    SignOff,
    /// Storage failed; nothing was stored.
    #[error("storage unavailable: {0}")]
    Storage(crate::durable::StorageFailure),
}

impl Hub {
    pub(super) fn submit(&mut self, submission: Submission, fx: &mut Effects) {
        match self.docs.get_mut(&submission.doc) {
            Some(DocEntry::Ready(_)) => self.apply_submission(submission, fx),
            Some(entry) => entry.queue_submission(submission),
            None if submission.register.is_some() => self.create_submitted(submission, fx),
            None => {
                let doc = submission.doc;
                self.docs
                    .insert(doc, DocEntry::loading_for_submission(submission));
                fx.load.push(doc);
            }
        }
    }

    /// A new document the server wrote whole: in memory at once, registered by its commit.
    fn create_submitted(&mut self, s: Submission, fx: &mut Effects) {
        let am = match crate::durable::load_automerge(&s.bytes) {
            Ok(am) => am,
            Err(e) => {
                fx.submitted
                    .push((s.id, Err(SubmitError::Invalid(e.to_string()))));
                return;
            }
        };
        let info = DocInfo::read(&am);
        let change_hashes = am
            .get_changes_meta(&[])
            .iter()
            .map(|m| m.hash.to_string())
            .collect();
        let mut loaded = Loaded::stored(am, info, self.now);
        loaded.registered = false;
        self.docs.insert(s.doc, DocEntry::Ready(Box::new(loaded)));
        self.persist_submission(s, change_hashes, fx);
    }

    /// Applies a submission to a document in memory and asks for it to be persisted.
    pub(super) fn apply_submission(&mut self, s: Submission, fx: &mut Effects) {
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&s.doc) else {
            fx.submitted.push((s.id, Err(SubmitError::NotFound)));
            return;
        };
        if !entry.registered {
            fx.submitted.push((s.id, Err(SubmitError::NotFound)));
            self.drop_if_empty_tentative(s.doc);
            return;
        }
        let before = entry.doc.get_heads();
        let missing_before = entry.doc.get_missing_deps(&[]).len();
        let applied = entry
            .doc
            .load_incremental(&s.bytes)
            .map_err(|e| e.to_string());
        // Changes whose dependencies the document lacks would wait in Automerge's queue and
        // be stored as bytes no load can place: refused whole.
        let refusal = match applied {
            Err(e) => Some(e),
            // (Changes of other peers may already wait: only new waiting counts.)
            Ok(_) if entry.doc.get_missing_deps(&[]).len() > missing_before => {
                Some("the change depends on changes the document lacks".to_owned())
            }
            Ok(_) => None,
        };
        if let Some(reason) = refusal {
            fx.submitted.push((s.id, Err(SubmitError::Invalid(reason))));
            self.reload(s.doc, fx);
            return;
        }
        if let Some(DocInfo::Nachbar(header, _)) = &entry.info {
            let current = DocInfo::read(&entry.doc);
            if current.header() != Some(header) {
                self.refuse("header");
                fx.submitted.push((s.id, Err(SubmitError::Header)));
                self.reload(s.doc, fx);
                return;
            }
            let who = Principal {
                user_id: s.user.clone(),
                token_hash: String::new(),
            };
            if !super::sign_offs_allowed(&*self.policy, &entry.doc, header, &before, &who) {
                self.refuse("sign-off");
                fx.submitted.push((s.id, Err(SubmitError::SignOff)));
                self.reload(s.doc, fx);
                return;
            }
            // A workshop's invitations may have changed: new sessions see them.
            entry.info = Some(current);
        }
        let change_hashes = entry
            .doc
            .get_changes_meta(&before)
            .iter()
            .map(|m| m.hash.to_string())
            .collect();
        self.persist_submission(s, change_hashes, fx);
    }

    fn persist_submission(&mut self, s: Submission, change_hashes: Vec<String>, fx: &mut Effects) {
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&s.doc) else {
            return;
        };
        let id = self.next_persist;
        self.next_persist += 1;
        entry.persisting += 1;
        entry.changes_since_round += change_hashes.len();
        entry.oldest_unsent.get_or_insert(self.now_micros);
        self.in_flight.insert(id, s.doc);
        self.submissions.insert(id, s.id);
        fx.persist.push(PersistRequest {
            id,
            append: Append {
                doc_id: s.doc.to_string(),
                bytes: s.bytes,
                change_hashes,
                user_id: s.user,
                register: s.register,
            },
        });
    }
}
