//! Documents the server writes itself (catalogue, neighbourhood documents, business
//! profiles), and the record every stored document gets.
//!
//! The server and admin commands write through the same typed API as the apps, with a fresh
//! actor per writing session, and append the changes to storage. Another process's appends
//! bump the feed version so a running server reads them from the change feed and passes them
//! to its connected peers.

use automerge::{ActorId, Automerge, ROOT, ReadDoc};
use nachbar_core::DomainError;
use nachbar_core::doc::{DocKind, NachbarDoc};
use nachbar_core::ids::DocumentId;

use crate::access::DocInfo;
use crate::storage::backend::DocumentStore;
use crate::storage::{Append, DocRecord, Store, StoreError, StoredDoc};

/// A server-side document write that failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The storage step.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The document edit.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The document does not exist.
    #[error("document {0} not found")]
    NotFound(String),
}

/// The person id the server writes as.
pub const SERVER_PERSON: &str = "server";

fn text_at(doc: &Automerge, key: &str) -> Option<String> {
    match doc.get(ROOT, key).ok()?? {
        (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        (automerge::Value::Object(automerge::ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

/// A display title for document lists.
pub fn title_of(doc: &Automerge, info: &DocInfo) -> String {
    match info {
        DocInfo::Generic => String::new(),
        DocInfo::Nachbar(h, _) => {
            let detail = match h.kind {
                DocKind::Neighbourhood => text_at(doc, "name"),
                DocKind::BusinessProfile => text_at(doc, "display_name"),
                DocKind::Workshop => text_at(doc, "title"),
                DocKind::Assessment => text_at(doc, "stage"),
                DocKind::Catalogue => None,
                DocKind::ActionPlan => None,
            };
            let label = nachbar_core::label::Labelled::label(&h.kind).de;
            match detail {
                Some(d) if !d.is_empty() => format!("{label}: {d}"),
                _ => label.to_owned(),
            }
        }
    }
}

/// The stored record of a document.
pub fn record(doc_id: &str, doc: &Automerge, info: &DocInfo, user: &str) -> DocRecord {
    let (kind, neighbourhood, business) = match info {
        DocInfo::Generic => (None, None, None),
        DocInfo::Nachbar(h, _) => (
            Some(h.kind.code().to_owned()),
            Some(h.neighbourhood.clone()),
            h.business.clone(),
        ),
    };
    DocRecord {
        doc_id: doc_id.to_owned(),
        kind,
        neighbourhood,
        business,
        created_by: user.to_owned(),
        title: title_of(doc, info),
    }
}

/// The append that stores `doc` as a new document written by the server, and its new id.
pub fn creation(doc: &NachbarDoc) -> (DocumentId, Append) {
    let id = DocumentId::random();
    let info = DocInfo::read(doc.automerge());
    let change_hashes = doc
        .automerge()
        .get_changes_meta(&[])
        .iter()
        .map(|m| m.hash.to_string())
        .collect();
    let append = Append {
        doc_id: id.to_string(),
        bytes: doc.save(),
        change_hashes,
        user_id: SERVER_PERSON.to_owned(),
        register: Some(record(
            &id.to_string(),
            doc.automerge(),
            &info,
            SERVER_PERSON,
        )),
    };
    (id, append)
}

/// Edits the stored document `id` with the typed API: what `edit` returns, and the append of
/// every change it made (`None` when it changed nothing).
///
/// # Errors
/// When the document does not load or the edit is refused.
pub fn edited<T>(
    id: &str,
    stored: &StoredDoc,
    edit: impl FnOnce(NachbarDoc) -> Result<(T, NachbarDoc), DomainError>,
) -> Result<(T, Option<Append>), WriteError> {
    let doc = NachbarDoc::load(&stored.bytes, ActorId::random())?;
    let before = doc.automerge().get_heads();
    let (out, edited) = edit(doc)?;
    let am = edited.automerge();
    let change_hashes: Vec<String> = am
        .get_changes_meta(&before)
        .iter()
        .map(|m| m.hash.to_string())
        .collect();
    let append = (!change_hashes.is_empty()).then(|| Append {
        doc_id: id.to_owned(),
        bytes: am.save_after(&before),
        change_hashes,
        user_id: SERVER_PERSON.to_owned(),
        register: None,
    });
    Ok((out, append))
}

/// Stores `doc` as a new document written by the server; its id.
///
/// # Errors
/// On a storage error.
pub async fn create_in(
    documents: &dyn DocumentStore,
    doc: &NachbarDoc,
) -> Result<DocumentId, StoreError> {
    let (id, append) = creation(doc);
    documents.append(vec![append]).await?;
    Ok(id)
}

/// Edits the stored document `id` (see [`edited`]) and appends what the edit changed.
///
/// # Errors
/// When the document is missing, does not load, or the edit is refused; on a storage error.
pub async fn edit_in<T>(
    documents: &dyn DocumentStore,
    id: &str,
    edit: impl FnOnce(NachbarDoc) -> Result<(T, NachbarDoc), DomainError>,
) -> Result<T, WriteError> {
    let stored = documents
        .load(id)
        .await?
        .ok_or_else(|| WriteError::NotFound(id.to_owned()))?;
    let (out, append) = edited(id, &stored, edit)?;
    if let Some(append) = append {
        documents.append(vec![append]).await?;
    }
    Ok(out)
}

impl Store {
    /// Stores a new document written by the server; returns its id.
    ///
    /// # Errors
    /// On a database error.
    pub fn create_document(&mut self, doc: &NachbarDoc) -> Result<DocumentId, StoreError> {
        let (id, append) = creation(doc);
        self.commit_external(&[append])?;
        Ok(id)
    }

    /// Edits a stored document with the typed API and appends every change the edit made
    /// (`edit` returns the edited document).
    ///
    /// # Errors
    /// When the document is missing, does not load, or the edit is refused.
    pub fn edit_document<T>(
        &mut self,
        id: &str,
        edit: impl FnOnce(NachbarDoc) -> Result<(T, NachbarDoc), DomainError>,
    ) -> Result<T, WriteError> {
        let stored = self
            .load(id)?
            .ok_or_else(|| WriteError::NotFound(id.to_owned()))?;
        let (out, append) = edited(id, &stored, edit)?;
        if let Some(append) = append {
            self.commit_external(&[append])?;
        }
        Ok(out)
    }
}
