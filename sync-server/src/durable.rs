//! What the hub asks storage to keep and what it reads back, in the hub's own terms: an
//! append of a document's new changes (with its record on the first write), a stored document
//! as bytes and record, and why a storage step failed. Every storage backend takes and gives
//! these; the hub names no storage type.

/// What the server knows about a stored document for access decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocRecord {
    /// The document id (bs58check).
    pub doc_id: String,
    /// The header kind; `None` for a generic document.
    pub kind: Option<String>,
    /// The neighbourhood of the header.
    pub neighbourhood: Option<String>,
    /// The business of the header.
    pub business: Option<String>,
    /// The user who registered it.
    pub created_by: String,
    /// A display title.
    pub title: String,
}

/// One durable append: new changes of one document, and the document record when this is the
/// document's first write.
#[derive(Debug, Clone)]
pub struct Append {
    /// The document.
    pub doc_id: String,
    /// The new changes, concatenated (`save_after` output).
    pub bytes: Vec<u8>,
    /// Hashes of the changes, for the audit.
    pub change_hashes: Vec<String>,
    /// The uploading user.
    pub user_id: String,
    /// Present on the first write: registers the document.
    pub register: Option<DocRecord>,
}

/// A loaded document's stored bytes and record.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    /// The record.
    pub record: DocRecord,
    /// Snapshot and chunks concatenated in order.
    pub bytes: Vec<u8>,
}

/// Why stored bytes did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Bytes nachbar never writes (a bundle chunk, bad framing): not handed to Automerge,
    /// which panics on some malformed bundles.
    #[error("not a document's saved form")]
    NotADocument,
    /// Automerge refused them.
    #[error(transparent)]
    Automerge(#[from] automerge::AutomergeError),
}

/// Loads stored (or server-made) bytes as one Automerge document, their chunk kinds checked
/// first.
///
/// # Errors
/// [`LoadError`].
pub fn load_automerge(bytes: &[u8]) -> Result<automerge::Automerge, LoadError> {
    if !nachbar_core::protocol::without_bundles(bytes) {
        return Err(LoadError::NotADocument);
    }
    Ok(automerge::Automerge::load(bytes)?)
}

/// A storage step the hub asked for failed (reading a document, committing an append); the
/// hub refuses what depended on it and advertises nothing of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StorageFailure(pub String);

impl StorageFailure {
    /// The failure of `error`, with its chain of causes.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        StorageFailure(text)
    }
}
