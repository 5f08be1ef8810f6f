//! [`DocumentStore`] on the embedded SQLite file: each call runs on a blocking thread on one of
//! three connections (the writer's for appends, the compactor's, the reader's), so reads never
//! wait for a commit's fsync and commits never for a compaction's load and save. The appends
//! are the server's own (the one process that holds the data directory): they leave the feed
//! version alone, which other processes (admin commands) bump when they write.

use super::backend::{DocumentStore, FeedChunk, FeedCursor, FeedPage};
use super::{ChunkStats, SharedStore, StoreError, on_store};
use crate::durable::{Append, StoredDoc};

/// The documents in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteDocuments {
    writer: SharedStore,
    compactor: SharedStore,
    reader: SharedStore,
}

impl SqliteDocuments {
    /// Documents written through `writer`, compacted through `compactor` and read through
    /// `reader` (connections to the same file).
    pub fn new(writer: SharedStore, compactor: SharedStore, reader: SharedStore) -> Self {
        SqliteDocuments {
            writer,
            compactor,
            reader,
        }
    }
}

#[async_trait::async_trait]
impl DocumentStore for SqliteDocuments {
    async fn storage_id(&self) -> Result<String, StoreError> {
        on_store(&self.reader, |s| s.storage_id()).await
    }

    async fn append(&self, batch: Vec<Append>) -> Result<(), StoreError> {
        on_store(&self.writer, move |s| s.commit(&batch)).await
    }

    async fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError> {
        let doc_id = doc_id.to_owned();
        on_store(&self.reader, move |s| s.load(&doc_id)).await
    }

    async fn chunk_stats(&self, doc_id: &str) -> Result<ChunkStats, StoreError> {
        let doc_id = doc_id.to_owned();
        on_store(&self.reader, move |s| s.chunk_stats(&doc_id)).await
    }

    async fn compact(&self, doc_id: &str) -> Result<(), StoreError> {
        let doc_id = doc_id.to_owned();
        on_store(&self.compactor, move |s| s.compact(&doc_id)).await
    }

    async fn feed_end(&self) -> Result<FeedCursor, StoreError> {
        let seq = on_store(&self.reader, |s| s.max_seq()).await?;
        Ok(FeedCursor { txid: 0, seq })
    }

    async fn feed_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError> {
        let rows = on_store(&self.reader, move |s| s.chunks_after(cursor.seq, limit)).await?;
        let next = rows
            .last()
            .map_or(cursor, |(seq, _, _)| FeedCursor { txid: 0, seq: *seq });
        Ok(FeedPage {
            chunks: rows
                .into_iter()
                .map(|(_, doc_id, bytes)| FeedChunk { doc_id, bytes })
                .collect(),
            next,
        })
    }
}
