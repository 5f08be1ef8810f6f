//! Reading for pages: the web app's database connection on a blocking thread, and documents as
//! stored (storage holds exactly what is durable, so a page never shows a change before its
//! commit).

use std::sync::Arc;

use automerge::ActorId;
use nachbar_core::DomainError;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::TypedDoc;

use crate::access::{Access, DocInfo, Policy};
use crate::storage::{DocRecord, Store, StoreError};

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

/// Runs `f` with the web app's database connection on a blocking thread.
///
/// # Errors
/// Whatever `f` returns, or a failed task.
pub async fn with_db<T: Send + 'static>(
    web: &WebState,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ReadError> {
    let db = Arc::clone(&web.db);
    tokio::task::spawn_blocking(move || {
        let mut store = db
            .lock()
            .map_err(|_| ReadError::Task("lock poisoned".to_owned()))?;
        f(&mut store).map_err(ReadError::from)
    })
    .await
    .map_err(|e| ReadError::Task(e.to_string()))?
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
    with_db(web, move |store| {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(d) = store.load(&id.to_string())? {
                out.push(StoredDocument {
                    id,
                    record: d.record,
                    bytes: d.bytes,
                });
            }
        }
        Ok(out)
    })
    .await
}

/// A document the user may read, opened as `D`, with the user's access; `None` when it is
/// missing, not of this kind, or denied (all the same to the caller: 404).
///
/// # Errors
/// On a database error, or a stored document that does not load.
pub async fn readable<D: TypedDoc>(
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
    let doc = nachbar_core::doc::NachbarDoc::load(&stored.bytes, ActorId::random())?;
    let access = who
        .policy
        .access(&who.principal(), &DocInfo::read(doc.automerge()));
    if access == Access::None {
        return Ok(None);
    }
    Ok(Some((D::open(doc)?, access)))
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
    let n = n.to_owned();
    with_db(web, move |store| {
        let mut stmt = store.conn().prepare_cached(
            "SELECT doc_id FROM documents WHERE neighbourhood = ?1 AND kind = ?2 ORDER BY created_at",
        )?;
        let ids = stmt
            .query_map(rusqlite::params![n, kind], |r| r.get::<_, String>(0))?
            .filter_map(|r| r.ok())
            .filter_map(|s| s.parse().ok())
            .collect();
        Ok(ids)
    })
    .await
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
    let n = n.to_owned();
    let cached = |id: &DocumentId, v: i64| web.views.get(id, v);
    // One trip to the database: the versions, and the bytes of what is not cached.
    let wanted: Vec<(DocumentId, i64, Option<Vec<u8>>)> = {
        let versions = with_db(web, move |store| {
            let exists: i64 = store.conn().query_row(
                "SELECT COUNT(*) FROM neighbourhoods WHERE id = ?1",
                rusqlite::params![n],
                |r| r.get(0),
            )?;
            if exists == 0 {
                return Ok(None);
            }
            let mut stmt = store.conn().prepare_cached(
                "SELECT d.doc_id, (SELECT MAX(seq) FROM chunks c WHERE c.doc_id = d.doc_id)
                 FROM documents d
                 WHERE d.neighbourhood = ?1 AND d.kind IN ('neighbourhood', 'business-profile', 'workshop')
                 ORDER BY d.created_at",
            )?;
            let rows = stmt
                .query_map(rusqlite::params![n], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0)))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(rows))
        })
        .await?;
        let Some(versions) = versions else {
            return Ok(None);
        };
        let parsed: Vec<(DocumentId, i64)> = versions
            .into_iter()
            .filter_map(|(id, v)| id.parse().ok().map(|id| (id, v)))
            .collect();
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
    let mut out = Vec::with_capacity(wanted.len());
    for (id, version, bytes) in wanted {
        let hydrated = match (cached(&id, version), bytes) {
            (Some(h), _) => h,
            (None, Some(bytes)) => {
                let Some(h) = super::cache::Hydrated::from_bytes(&bytes)? else {
                    continue;
                };
                let h = Arc::new(h);
                web.views.put(id, version, Arc::clone(&h));
                h
            }
            (None, None) => continue,
        };
        out.push((id, hydrated));
    }
    Ok(Some(out))
}
