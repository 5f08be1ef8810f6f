//! Reading for pages: the web app's database connection on a blocking thread, and documents as
//! stored (storage holds exactly what is durable, so a page never shows a change before its
//! commit).

use std::sync::Arc;

use automerge::ActorId;
use nachbar_core::DomainError;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::TypedDoc;

use crate::access::{Access, DocInfo, Policy};
use crate::storage::{DocRecord, StoreError};

use super::WebState;
use super::session::SignedIn;

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored document does not load as its kind.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The blocking task or the connection's lock failed.
    #[error("the database task failed: {0}")]
    Task(String),
}

/// Runs CPU-heavy work (loading and hydrating Automerge documents) on a blocking thread, off
/// the runtime's two workers that the hub and every connection share.
///
/// # Errors
/// Whatever `f` returns, or a failed task.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ReadError> + Send + 'static,
) -> Result<T, ReadError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ReadError::Task(e.to_string()))?
}

/// The access `who` has to a stored document by its record alone (kind, neighbourhood,
/// business: the header fields the rules read); a workshop's invitations live in the
/// document, so for a workshop `None` means "decide from the document".
pub fn record_access(who: &SignedIn, record: &DocRecord) -> Option<Access> {
    let kind = nachbar_core::doc::DocKind::parse(record.kind.as_deref()?).ok()?;
    let header = nachbar_core::doc::Header::new(
        kind,
        record.neighbourhood.as_deref()?,
        record.business.clone(),
        record.created_by.as_str(),
        nachbar_core::time::Timestamp(0),
    );
    let access = who.policy.access(
        &who.principal(),
        &DocInfo::Nachbar(header, Default::default()),
    );
    (access != Access::None || kind != nachbar_core::doc::DocKind::Workshop).then_some(access)
}

/// A stored document with what access rules need.
#[derive(Debug)]
pub struct StoredDocument {
    /// The id.
    pub id: DocumentId,
    /// The stored record.
    pub record: DocRecord,
    /// Snapshot and chunks.
    pub bytes: Vec<u8>,
}

/// Loads documents by id (those not stored are left out).
///
/// # Errors
/// On a database error.
pub async fn load_many(
    web: &WebState,
    ids: Vec<DocumentId>,
) -> Result<Vec<StoredDocument>, ReadError> {
    let stored = web
        .data
        .load_many(ids.iter().map(ToString::to_string).collect())
        .await?;
    Ok(stored
        .into_iter()
        .filter_map(|d| {
            let id = d.record.doc_id.parse().ok()?;
            Some(StoredDocument {
                id,
                record: d.record,
                bytes: d.bytes,
            })
        })
        .collect())
}

/// A document the user may read, opened as `D`, with the user's access; `None` when it is
/// missing, not of this kind, or denied (all the same to the caller: 404).
///
/// # Errors
/// On a database error, or a stored document that does not load.
pub async fn readable<D: TypedDoc + Send + 'static>(
    web: &WebState,
    who: &SignedIn,
    id: DocumentId,
) -> Result<Option<(D, Access)>, ReadError> {
    let Some(stored) = load_many(web, vec![id]).await?.pop() else {
        return Ok(None);
    };
    if stored.record.kind.as_deref() != Some(D::KIND.code()) {
        return Ok(None);
    }
    // Denied by the record's header fields: not loaded at all, as fast as a missing one.
    if record_access(who, &stored.record) == Some(Access::None) {
        return Ok(None);
    }
    let (policy, principal) = (Arc::clone(&who.policy), who.principal());
    blocking(move || {
        let doc = nachbar_core::doc::NachbarDoc::load(&stored.bytes, ActorId::random())?;
        let access = policy.access(&principal, &DocInfo::read(doc.automerge()));
        if access == Access::None {
            return Ok(None);
        }
        Ok(Some((D::open(doc)?, access)))
    })
    .await
}

/// Document ids of `kind` in neighbourhood `n` (stored records).
///
/// # Errors
/// On a database error.
pub async fn ids_of_kind(
    web: &WebState,
    n: &str,
    kind: &'static str,
) -> Result<Vec<DocumentId>, ReadError> {
    let ids = web.data.doc_ids_of_kind(n, kind).await?;
    Ok(ids.iter().filter_map(|s| s.parse().ok()).collect())
}

/// The neighbourhood, profile and workshop documents of neighbourhood `n` with their read
/// models, hydrating only those changed since they were cached. `None` when the neighbourhood
/// does not exist.
///
/// # Errors
/// On a database error, or a stored document that does not load.
pub async fn hood_views(
    web: &WebState,
    n: &str,
) -> Result<Option<Vec<(DocumentId, Arc<super::cache::Hydrated>)>>, ReadError> {
    let Some(wanted) = web.data.hood_doc_versions(n).await? else {
        return Ok(None);
    };
    let parsed: Vec<(DocumentId, i64)> = wanted
        .into_iter()
        .filter_map(|(id, v)| id.parse().ok().map(|id| (id, v)))
        .collect();
    Ok(Some(views_at(web, parsed).await?))
}

/// The action plans and assessments of business `business` with their read models (cached
/// by version like [`hood_views`]).
///
/// # Errors
/// On a database error, or a stored document that does not load.
pub async fn business_views(
    web: &WebState,
    business: &str,
) -> Result<Vec<(DocumentId, Arc<super::cache::Hydrated>)>, ReadError> {
    let versions = web.data.business_doc_versions(business).await?;
    let parsed = versions
        .into_iter()
        .filter_map(|(id, v)| id.parse().ok().map(|id| (id, v)))
        .collect();
    views_at(web, parsed).await
}

/// The read models of documents at their versions: cached ones as they are, the others
/// loaded in one trip to the database and hydrated on a blocking thread.
async fn views_at(
    web: &WebState,
    parsed: Vec<(DocumentId, i64)>,
) -> Result<Vec<(DocumentId, Arc<super::cache::Hydrated>)>, ReadError> {
    let cached = |id: &DocumentId, v: i64| web.views.get(id, v);
    // A document that does not hydrate is left out (it costs its business one page section,
    // not every page), until it changes.
    let parsed: Vec<(DocumentId, i64)> = parsed
        .into_iter()
        .filter(|(id, v)| !web.views.is_broken(id, *v))
        .collect();
    let wanted: Vec<(DocumentId, i64, Option<Vec<u8>>)> = {
        let missing: Vec<DocumentId> = parsed
            .iter()
            .filter(|(id, v)| cached(id, *v).is_none())
            .map(|(id, _)| *id)
            .collect();
        let loaded = load_many(web, missing).await?;
        parsed
            .into_iter()
            .map(|(id, v)| {
                let bytes = loaded.iter().find(|d| d.id == id).map(|d| d.bytes.clone());
                (id, v, bytes)
            })
            .collect()
    };
    // What is not cached is hydrated on a blocking thread.
    let fresh: Vec<(DocumentId, i64, Vec<u8>)> = wanted
        .iter()
        .filter(|(id, v, _)| cached(id, *v).is_none())
        .filter_map(|(id, v, b)| b.clone().map(|b| (*id, *v, b)))
        .collect();
    let (hydrated, broken) = blocking(move || {
        let mut out = Vec::with_capacity(fresh.len());
        let mut broken = Vec::new();
        for (id, version, bytes) in fresh {
            match super::cache::Hydrated::from_bytes(&bytes) {
                Ok(Some(h)) => out.push((id, version, Arc::new(h))),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(doc = %id, error = %e, "a stored document does not hydrate; left out of pages");
                    broken.push((id, version));
                }
            }
        }
        Ok((out, broken))
    })
    .await?;
    for (id, version) in broken {
        web.views.mark_broken(id, version);
    }
    for (id, version, h) in &hydrated {
        web.views.put(*id, *version, Arc::clone(h));
    }
    let mut out = Vec::with_capacity(wanted.len());
    for (id, version, _) in wanted {
        let h = cached(&id, version).or_else(|| {
            hydrated
                .iter()
                .find(|(d, v, _)| *d == id && *v == version)
                .map(|(_, _, h)| Arc::clone(h))
        });
        if let Some(h) = h {
            out.push((id, h));
        }
    }
    Ok(out)
}

/// A business's document as a page shows it: the user's access, the document's read model,
/// and the read models of the business's other plans and assessments (oldest first).
#[derive(Debug)]
pub struct BusinessDoc {
    /// The business.
    pub business: String,
    /// The user's access.
    pub access: Access,
    /// The document's read model.
    pub this: Arc<super::cache::Hydrated>,
    /// Every plan and assessment of the business, this one included, oldest first.
    pub all: Vec<(DocumentId, Arc<super::cache::Hydrated>)>,
}

/// Action plan or assessment `id` of kind `kind` with its business's other documents, from
/// the view cache; `None` when missing, of another kind, or denied (all alike: 404).
///
/// # Errors
/// On a database error, or a stored document that does not load.
pub async fn business_doc(
    web: &WebState,
    who: &SignedIn,
    id: DocumentId,
    kind: nachbar_core::doc::DocKind,
) -> Result<Option<BusinessDoc>, ReadError> {
    let Some(record) = web.data.record(&id.to_string()).await? else {
        return Ok(None);
    };
    if record.kind.as_deref() != Some(kind.code()) {
        return Ok(None);
    }
    let Some(business) = record.business.clone() else {
        return Ok(None);
    };
    if record_access(who, &record).is_none_or(|a| a == Access::None) {
        return Ok(None);
    }
    let all = business_views(web, &business).await?;
    let Some(this) = all
        .iter()
        .find(|(d, _)| *d == id)
        .map(|(_, h)| Arc::clone(h))
    else {
        return Ok(None);
    };
    // The rules once more on the document's own header (the record mirrors it).
    let access = who.policy.access(&who.principal(), &this.info);
    if access == Access::None {
        return Ok(None);
    }
    Ok(Some(BusinessDoc {
        business,
        access,
        this,
        all,
    }))
}
