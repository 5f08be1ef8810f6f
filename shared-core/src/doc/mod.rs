//! [`NachbarDoc`]: an Automerge document with a nachbar header, and the one doorway through
//! which every typed edit passes.
//!
//! An edit is one Automerge transaction that becomes one change. The doorway runs the edit,
//! checks that the header is untouched, rolls back on any error, and returns the new change's
//! bytes and the new heads ([`Applied`]) so the caller can persist them before anything is
//! sent or shown.

mod conflict;
mod header;
mod history;
pub(crate) mod tree;
pub(crate) mod write;

use automerge::transaction::{CommitOptions, Transaction};
use automerge::{ActorId, Automerge, ChangeHash};

pub use conflict::{NeedsReview, ensure_offered};
pub(crate) use conflict::{check as check_conflict, check_keys as check_conflicts};
pub use header::{DocKind, HEADER_KEY, Header, SCHEMA_VERSION, SUPPORTED_MAJOR};
pub use history::{ClockSkew, LastEdited};
pub use write::{MAX_LONG_TEXT, MAX_SHORT_TEXT};

use crate::DomainError;
use crate::time::Timestamp;

/// Who makes an edit and when, as the app knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditContext {
    /// The person (directory id) making the edit.
    pub person: String,
    /// The device clock at the time of the edit (display data only).
    pub now: Timestamp,
}

impl EditContext {
    /// An edit by `person` at `now`.
    pub fn new(person: impl Into<String>, now: Timestamp) -> Self {
        Self {
            person: person.into(),
            now,
        }
    }
}

/// The change an edit produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalChange {
    /// The change's hash.
    pub hash: ChangeHash,
    /// The encoded change, ready to be stored and sent.
    pub bytes: Vec<u8>,
}

/// What an edit did to the document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the change must be persisted before it is sent or shown"]
pub struct Applied {
    /// The new change; `None` when the edit needed no operation.
    pub change: Option<LocalChange>,
    /// The document's heads after the edit.
    pub heads: Vec<ChangeHash>,
}

/// A nachbar document: Automerge state plus its validated header.
#[derive(Debug, Clone)]
pub struct NachbarDoc {
    doc: Automerge,
    header: Header,
}

impl NachbarDoc {
    /// Creates a new document whose first change writes `header` and whatever `init` writes.
    ///
    /// # Errors
    /// Whatever `init` returns; nothing is created then.
    pub fn create(
        actor: ActorId,
        ctx: &EditContext,
        header: Header,
        init: impl FnOnce(&mut Transaction<'_>) -> Result<(), DomainError>,
    ) -> Result<(Self, Applied), DomainError> {
        let mut doc = Automerge::new().with_actor(actor);
        let result = doc.transact_with(
            |_| commit_options("create", ctx),
            |tx| {
                header.write(tx)?;
                init(tx)
            },
        );
        result.map_err(|f| f.error)?;
        let applied = applied(&doc);
        Ok((Self { doc, header }, applied))
    }

    /// Loads a document from saved bytes (a `save()` or concatenated changes).
    ///
    /// # Errors
    /// When the bytes are not an Automerge document or it has no valid header.
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<Self, DomainError> {
        // nachbar never writes bundles, and Automerge panics on some malformed ones.
        if !crate::protocol::without_bundles(bytes) {
            return Err(DomainError::Shape {
                path: String::new(),
                detail: "not a document's saved form".to_owned(),
            });
        }
        let doc = Automerge::load(bytes)?.with_actor(actor);
        Self::from_automerge(doc)
    }

    /// Wraps an Automerge document that already holds a header (e.g. after a sync).
    ///
    /// # Errors
    /// [`DomainError::MissingHeader`] or [`DomainError::Shape`] when the header is absent or
    /// malformed.
    pub fn from_automerge(doc: Automerge) -> Result<Self, DomainError> {
        let header = Header::read(&doc)?;
        Ok(Self { doc, header })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The kind of document.
    pub fn kind(&self) -> DocKind {
        self.header.kind
    }

    /// Fails unless the document is of kind `expected`.
    ///
    /// # Errors
    /// [`DomainError::WrongKind`].
    pub fn expect_kind(&self, expected: DocKind) -> Result<(), DomainError> {
        if self.header.kind == expected {
            Ok(())
        } else {
            Err(DomainError::WrongKind {
                expected,
                found: self.header.kind,
            })
        }
    }

    /// The Automerge document, for reading and for the sync layer.
    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    /// The current heads.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The whole document, compressed.
    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes not reachable from `heads`, concatenated.
    pub fn save_after(&self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Merges another replica of this document into this one.
    ///
    /// # Errors
    /// When Automerge refuses the other replica's changes, or the merged document's header no
    /// longer matches (a foreign writer altered it).
    pub fn merge(&mut self, other: &mut NachbarDoc) -> Result<Vec<ChangeHash>, DomainError> {
        let heads = self.doc.merge(&mut other.doc)?;
        self.check_header()?;
        Ok(heads)
    }

    /// Applies encoded changes (one or more, concatenated) received from elsewhere.
    ///
    /// # Errors
    /// When the bytes are not valid changes, or they alter the header.
    pub fn apply_changes(&mut self, bytes: &[u8]) -> Result<(), DomainError> {
        self.doc.load_incremental(bytes)?;
        self.check_header()
    }

    fn check_header(&self) -> Result<(), DomainError> {
        if Header::read(&self.doc)? == self.header {
            Ok(())
        } else {
            Err(DomainError::HeaderImmutable)
        }
    }

    /// Runs one edit as one change. `op` names the operation in the change message.
    ///
    /// The edit is rolled back and nothing changes when `f` fails, when the document uses a
    /// newer major schema, or when `f` touched the header.
    ///
    /// # Errors
    /// Whatever `f` returns, [`DomainError::NewerSchema`] or [`DomainError::HeaderImmutable`].
    pub fn edit<O>(
        &mut self,
        ctx: &EditContext,
        op: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<O, DomainError>,
    ) -> Result<(O, Applied), DomainError> {
        self.header.ensure_editable()?;
        let header = &self.header;
        let result = self.doc.transact_with(
            |_| commit_options(op, ctx),
            |tx| {
                let out = f(tx)?;
                if Header::read(&*tx).ok().as_ref() != Some(header) {
                    return Err(DomainError::HeaderImmutable);
                }
                Ok(out)
            },
        );
        let success = result.map_err(|f| f.error)?;
        let applied = match success.hash {
            Some(_) => applied(&self.doc),
            None => Applied {
                change: None,
                heads: self.doc.get_heads(),
            },
        };
        Ok((success.result, applied))
    }

    /// The actor id of this replica, as hex.
    pub fn actor_hex(&self) -> String {
        self.doc.get_actor().to_hex_string()
    }

    /// When and by which operation the document was last changed, with a hint when the device
    /// clock of that change looks wrong.
    pub fn last_edited(&self) -> Option<LastEdited> {
        history::last_edited(&self.doc)
    }

    /// Devices whose clocks were behind when they edited this document.
    pub fn clock_skew(&self) -> Vec<ClockSkew> {
        history::clock_skew(&self.doc)
    }

    /// Whether the content at `heads` equals the content now, apart from the root keys
    /// `ignored`. Used to tell whether a sign-off still covers the current content: decided
    /// from the content, not from change messages a writer chooses.
    pub fn unchanged_since_except(&self, heads: &[ChangeHash], ignored: &[&str]) -> bool {
        history::unchanged_since_except(&self.doc, heads, ignored)
    }
}

fn commit_options(op: &str, ctx: &EditContext) -> CommitOptions {
    CommitOptions::default()
        .with_message(op)
        .with_time(ctx.now.secs())
}

fn applied(doc: &Automerge) -> Applied {
    let change = doc.get_last_local_change().map(|c| LocalChange {
        hash: c.hash(),
        bytes: c.raw_bytes().to_vec(),
    });
    Applied {
        change,
        heads: doc.get_heads(),
    }
}
