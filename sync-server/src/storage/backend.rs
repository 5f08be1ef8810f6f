//! The storage seam of the documents: one async, fallible trait with two implementations, the
//! embedded SQLite file ([`super::sqlite::SqliteDocuments`]) and PostgreSQL for several nodes
//! ([`super::postgres::PgDocuments`]). Appends are idempotent (a chunk is keyed by its content
//! hash where the backend keeps one, and a document loads the same from duplicated changes),
//! compaction deletes exactly what it folded, and the change feed is read from an opaque
//! cursor that never skips a committed chunk (scale-out.md §4.2).

use crate::durable::{Append, StoredDoc};

use super::{ChunkStats, StoreError};

/// Where a reader of the change feed stands: opaque to callers. SQLite orders chunks by an
/// `AUTOINCREMENT` sequence (one writer at a time, never reused); PostgreSQL by the inserting
/// transaction and the sequence within it, bounded by the oldest running transaction so a
/// row committed later can never appear behind the cursor (scale-out.md §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedCursor {
    pub(super) txid: u64,
    pub(super) seq: i64,
}

/// One chunk read from the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChunk {
    /// The document.
    pub doc_id: String,
    /// The chunk (incremental changes or a snapshot), already durable.
    pub bytes: Vec<u8>,
}

/// What one read of the feed found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// The chunks after the cursor, in feed order.
    pub chunks: Vec<FeedChunk>,
    /// Where the next read starts.
    pub next: FeedCursor,
}

/// The documents' storage.
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync + std::fmt::Debug {
    /// The storage id peers see: one per database (a cluster of nodes shares it).
    async fn storage_id(&self) -> Result<String, StoreError>;

    /// Makes `batch` durable in one transaction (group commit): all of it or nothing. A chunk
    /// appended twice is stored once where the backend keys chunks by hash, and loads the same
    /// either way.
    async fn append(&self, batch: Vec<Append>) -> Result<(), StoreError>;

    /// The document's record and chunks (snapshots first), or `None` when it is not stored.
    async fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError>;

    /// The chunk counts that decide compaction.
    async fn chunk_stats(&self, doc_id: &str) -> Result<ChunkStats, StoreError>;

    /// Replaces the document's chunks by one snapshot of them; chunks appended meanwhile are
    /// kept, and two compactions at once lose nothing.
    async fn compact(&self, doc_id: &str) -> Result<(), StoreError>;

    /// The end of the feed now: a reader starting here sees every chunk committed later.
    async fn feed_end(&self) -> Result<FeedCursor, StoreError>;

    /// Up to `limit` chunks committed after `cursor`, in feed order.
    async fn feed_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError>;
}
