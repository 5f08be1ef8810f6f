//! The documents in PostgreSQL: appends as one statement (registration, chunks keyed by hash,
//! audit), loads in one statement each for record and chunks, compaction that deletes exactly
//! the hashes it folded, and the change feed on the (transaction, sequence) cursor.

use deadpool_postgres::Pool;
use sha2::{Digest, Sha256};

use crate::durable::{Append, DocRecord, StoredDoc, load_automerge};
use crate::storage::backend::{DocumentStore, FeedChunk, FeedCursor, FeedPage};
use crate::storage::{ChunkStats, StoreError};

/// The documents of one PostgreSQL database, shared by every node on it.
#[derive(Debug, Clone)]
pub struct PgDocuments {
    pool: Pool,
    /// Marks the chunks this instance appends, so its own feed reads leave them out.
    origin: String,
}

impl PgDocuments {
    /// The documents behind `pool` (from [`super::connect`]); each instance is one origin of
    /// chunks (a node).
    pub fn new(pool: Pool) -> Self {
        PgDocuments {
            pool,
            origin: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The chunks after `cursor` in feed order, up to `limit` rows read; with `skip_own`,
    /// this instance's own appends are passed over without their bytes, and the cursor still
    /// moves past them. Snapshots are always delivered: a compaction (by any node) may have
    /// deleted another node's chunk before this reader read it, and the snapshot is then the
    /// only row that holds that change.
    async fn feed_rows(
        &self,
        cursor: FeedCursor,
        limit: usize,
        skip_own: bool,
    ) -> Result<FeedPage, StoreError> {
        let client = self.pool.get().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let skipped = skip_own.then_some(self.origin.as_str());
        let rows = client
            .query(
                "SELECT txid::text, seq, doc_id,
                        CASE WHEN $4::text IS NOT NULL AND origin = $4 AND NOT is_snapshot
                             THEN NULL ELSE bytes END
                 FROM chunks
                 WHERE (txid, seq) > ($1::text::xid8, $2)
                   AND txid < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY txid, seq LIMIT $3",
                &[&cursor.txid.to_string(), &cursor.seq, &limit, &skipped],
            )
            .await?;
        let mut next = cursor;
        let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit;
        let mut chunks = Vec::with_capacity(rows.len());
        for row in rows {
            next = FeedCursor {
                txid: parse_txid(row.get(0))?,
                seq: row.get(1),
                version: 0,
            };
            if let Some(bytes) = row.get::<_, Option<Vec<u8>>>(3) {
                chunks.push(FeedChunk {
                    doc_id: row.get(2),
                    bytes,
                });
            }
        }
        Ok(FeedPage { chunks, next, more })
    }
}

fn now_ms() -> i64 {
    nachbar_core::time::Timestamp::now().millis()
}

/// `text` as PostgreSQL stores it: a `text` value may not hold NUL (SQLite's may), and one in
/// a title would fail the whole group commit it is part of.
pub(super) fn pg_text(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    }
}

/// Whether a key looked up holds NUL: no stored key does (PostgreSQL's `text` cannot hold
/// it, and what is stored passed [`pg_text`]), so such a lookup finds nothing, as on SQLite,
/// instead of failing the query.
pub(super) fn unstorable(keys: &[&str]) -> bool {
    keys.iter().any(|k| k.contains('\0'))
}

pub(super) fn hash(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// One append's rows as column arrays (`unnest` turns them back into rows).
#[derive(Default)]
struct Columns {
    doc_ids: Vec<String>,
    kinds: Vec<Option<String>>,
    neighbourhoods: Vec<Option<String>>,
    businesses: Vec<Option<String>>,
    creators: Vec<String>,
    titles: Vec<String>,
    chunk_docs: Vec<String>,
    chunk_hashes: Vec<Vec<u8>>,
    chunk_bytes: Vec<Vec<u8>>,
    audit_hashes: Vec<String>,
    audit_docs: Vec<String>,
    audit_users: Vec<String>,
}

impl Columns {
    /// The rows of `batch` in key order (documents by id, chunks by document and hash, audit
    /// by change hash), so two nodes appending the same keys take their index locks in the
    /// same order and never deadlock each other.
    fn of(mut batch: Vec<Append>) -> Self {
        batch.sort_by(|a, b| a.doc_id.cmp(&b.doc_id));
        let mut c = Columns::default();
        let mut chunks = Vec::new();
        for a in batch {
            let doc_id = pg_text(a.doc_id);
            let user_id = pg_text(a.user_id);
            if let Some(r) = a.register {
                c.doc_ids.push(pg_text(r.doc_id));
                c.kinds.push(r.kind.map(pg_text));
                c.neighbourhoods.push(r.neighbourhood.map(pg_text));
                c.businesses.push(r.business.map(pg_text));
                c.creators.push(pg_text(r.created_by));
                c.titles.push(pg_text(r.title));
            }
            for h in a.change_hashes {
                c.audit_hashes.push(pg_text(h));
                c.audit_docs.push(doc_id.clone());
                c.audit_users.push(user_id.clone());
            }
            if !a.bytes.is_empty() {
                chunks.push((doc_id, hash(&a.bytes), a.bytes));
            }
        }
        chunks.sort_unstable_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        for (doc, h, bytes) in chunks {
            c.chunk_docs.push(doc);
            c.chunk_hashes.push(h);
            c.chunk_bytes.push(bytes);
        }
        let mut audit: Vec<_> = c
            .audit_hashes
            .drain(..)
            .zip(c.audit_docs.drain(..))
            .zip(c.audit_users.drain(..))
            .collect();
        audit.sort_unstable_by(|x, y| x.0.0.cmp(&y.0.0));
        for ((h, d), u) in audit {
            c.audit_hashes.push(h);
            c.audit_docs.push(d);
            c.audit_users.push(u);
        }
        c
    }
}

/// Registration, chunks and audit in one statement: atomic without a transaction held open
/// across round trips, and idempotent, so a commit whose outcome was unknown is simply sent
/// again.
const APPEND: &str = "
WITH registered AS (
    INSERT INTO documents(doc_id, kind, neighbourhood, business, created_by, created_at, title)
    SELECT d, k, n, b, c, $13, t
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         AS r(d, k, n, b, c, t)
    ON CONFLICT (doc_id) DO NOTHING
), chunked AS (
    INSERT INTO chunks(doc_id, hash, is_snapshot, bytes, created_at, origin)
    SELECT d, h, false, x, $13, $14
    FROM unnest($7::text[], $8::bytea[], $9::bytea[]) AS r(d, h, x)
    ON CONFLICT (doc_id, hash) DO NOTHING
), audited AS (
    INSERT INTO audit(change_hash, doc_id, user_id, received_at)
    SELECT h, d, u, $13
    FROM unnest($10::text[], $11::text[], $12::text[]) AS r(h, d, u)
    ON CONFLICT (change_hash) DO NOTHING
)
SELECT 1";

fn parse_txid(text: &str) -> Result<u64, StoreError> {
    text.parse()
        .map_err(|_| StoreError::PgConfig(format!("a transaction id that is not a number: {text}")))
}

#[async_trait::async_trait]
impl DocumentStore for PgDocuments {
    async fn storage_id(&self) -> Result<String, StoreError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO meta(key, value) VALUES ('storage_id', $1) ON CONFLICT (key) DO NOTHING",
                &[&uuid::Uuid::new_v4().to_string()],
            )
            .await?;
        let row = client
            .query_one("SELECT value FROM meta WHERE key = 'storage_id'", &[])
            .await?;
        Ok(row.get(0))
    }

    async fn append(&self, batch: Vec<Append>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let c = Columns::of(batch);
        let now = now_ms();
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(APPEND).await?;
        client
            .query(
                &statement,
                &[
                    &c.doc_ids,
                    &c.kinds,
                    &c.neighbourhoods,
                    &c.businesses,
                    &c.creators,
                    &c.titles,
                    &c.chunk_docs,
                    &c.chunk_hashes,
                    &c.chunk_bytes,
                    &c.audit_hashes,
                    &c.audit_docs,
                    &c.audit_users,
                    &now,
                    &self.origin,
                ],
            )
            .await?;
        super::doorbell::ring_every_node(&client).await;
        Ok(())
    }

    async fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError> {
        let client = self.pool.get().await?;
        let Some(row) = client
            .query_opt(
                "SELECT doc_id, kind, neighbourhood, business, created_by, title
                 FROM documents WHERE doc_id = $1",
                &[&doc_id],
            )
            .await?
        else {
            return Ok(None);
        };
        let record = DocRecord {
            doc_id: row.get(0),
            kind: row.get(1),
            neighbourhood: row.get(2),
            business: row.get(3),
            created_by: row.get(4),
            title: row.get(5),
        };
        // Snapshots first: one `load` is fastest from them, and a chunk appended while a
        // snapshot was made follows it.
        let rows = client
            .query(
                "SELECT bytes FROM chunks WHERE doc_id = $1 ORDER BY is_snapshot DESC, seq",
                &[&doc_id],
            )
            .await?;
        let mut bytes = Vec::new();
        for row in rows {
            bytes.extend_from_slice(row.get::<_, &[u8]>(0));
        }
        Ok(Some(StoredDoc { record, bytes }))
    }

    async fn first_of_kind(&self, kind: &str) -> Result<Option<String>, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT doc_id FROM documents WHERE kind = $1 ORDER BY created_at, doc_id LIMIT 1",
                &[&kind],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn chunk_stats(&self, doc_id: &str) -> Result<ChunkStats, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE NOT is_snapshot),
                        COALESCE(SUM(length(bytes)) FILTER (WHERE NOT is_snapshot), 0)::bigint,
                        COALESCE(SUM(length(bytes)) FILTER (WHERE is_snapshot), 0)::bigint
                 FROM chunks WHERE doc_id = $1",
                &[&doc_id],
            )
            .await?;
        let n = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
        Ok(ChunkStats {
            chunks: n(0),
            chunk_bytes: n(1),
            snapshot_bytes: n(2),
        })
    }

    async fn compact(&self, doc_id: &str) -> Result<(), StoreError> {
        // The pooled connection is given back while the snapshot is made (CPU, no database).
        let rows = self
            .pool
            .get()
            .await?
            .query(
                "SELECT hash, bytes FROM chunks WHERE doc_id = $1 ORDER BY is_snapshot DESC, seq",
                &[&doc_id],
            )
            .await?;
        if rows.len() < 2 {
            return Ok(());
        }
        let mut folded: Vec<Vec<u8>> = Vec::with_capacity(rows.len());
        let mut bytes = Vec::new();
        for row in &rows {
            folded.push(row.get(0));
            bytes.extend_from_slice(row.get::<_, &[u8]>(1));
        }
        let snapshot =
            tokio::task::spawn_blocking(move || load_automerge(&bytes).map(|doc| doc.save()))
                .await
                .map_err(|e| StoreError::Unavailable(format!("the compaction task failed: {e}")))?
                .map_err(|e| StoreError::Corrupt {
                    doc: doc_id.to_owned(),
                    reason: e.to_string(),
                })?;
        let snapshot_hash = hash(&snapshot);
        // Delete first, then insert: the snapshot may equal a folded one (same hash), which
        // must not be the row deleted last.
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "DELETE FROM chunks WHERE doc_id = $1 AND hash = ANY($2)",
            &[&doc_id, &folded],
        )
        .await?;
        tx.execute(
            "INSERT INTO chunks(doc_id, hash, is_snapshot, bytes, created_at)
             VALUES ($1, $2, true, $3, $4) ON CONFLICT (doc_id, hash) DO NOTHING",
            &[&doc_id, &snapshot_hash, &snapshot, &now_ms()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn feed_end(&self) -> Result<FeedCursor, StoreError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[])
            .await?;
        Ok(FeedCursor {
            txid: parse_txid(row.get(0))?,
            seq: 0,
            version: 0,
        })
    }

    async fn feed_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError> {
        self.feed_rows(cursor, limit, false).await
    }

    async fn others_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError> {
        self.feed_rows(cursor, limit, true).await
    }
}
