//! [`DocumentStore`] on the embedded SQLite file: each call runs on a blocking thread on one of
//! three connections (the writer's for appends, the compactor's, the reader's), so reads never
//! wait for a commit's fsync and commits never for a compaction's load and save. The appends
//! are the server's own (the one process that holds the data directory): they leave the feed
//! version alone, which other processes (admin commands) bump when they write.

use super::backend::{AccessStore, DocumentStore, FeedChunk, FeedCursor, FeedPage};
use super::{ChunkStats, Directory, SharedStore, StoreError, on_store};
use crate::access::Principal;
use crate::auth::TokenRejection;
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

/// The access data in SQLite, on one connection of their own (token checks never wait for the
/// connection the hub loads documents with).
#[derive(Debug, Clone)]
pub struct SqliteAccess {
    store: SharedStore,
}

impl SqliteAccess {
    /// The access data through `store`.
    pub fn new(store: SharedStore) -> Self {
        SqliteAccess { store }
    }
}

/// Runs one `Store` method with owned arguments on the access connection.
macro_rules! on_access {
    ($self:ident, |$s:ident| $call:expr) => {
        on_store(&$self.store, move |$s| $call).await
    };
}

#[async_trait::async_trait]
impl AccessStore for SqliteAccess {
    async fn directory_version(&self) -> Result<i64, StoreError> {
        on_access!(self, |s| s.directory_version())
    }

    async fn directory(&self, now_ms: i64) -> Result<Directory, StoreError> {
        on_access!(self, |s| s.directory(now_ms))
    }

    async fn principal_for_token(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Result<Principal, TokenRejection>, StoreError> {
        let token = token.to_owned();
        on_access!(self, |s| s.principal_for_token(&token, now_ms))
    }

    async fn token_used(
        &self,
        token_hash: &str,
        now_ms: i64,
        renew_until: i64,
    ) -> Result<(), StoreError> {
        let hash = token_hash.to_owned();
        on_access!(self, |s| s.token_used(&hash, now_ms, renew_until))
    }

    async fn add_neighbourhood(
        &self,
        name: &str,
        location: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let (name, location) = (name.to_owned(), location.to_owned());
        on_access!(self, |s| s.add_neighbourhood(&name, &location, now_ms))
    }

    async fn add_business(
        &self,
        n: &str,
        name: &str,
        trade: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let (n, name, trade) = (n.to_owned(), name.to_owned(), trade.to_owned());
        on_access!(self, |s| s.add_business(&n, &name, &trade, now_ms))
    }

    async fn add_user(&self, name: &str, now_ms: i64) -> Result<String, StoreError> {
        let name = name.to_owned();
        on_access!(self, |s| s.add_user(&name, now_ms))
    }

    async fn grant_role(&self, user_id: &str, role: &str, scope: &str) -> Result<(), StoreError> {
        let (u, r, sc) = (user_id.to_owned(), role.to_owned(), scope.to_owned());
        on_access!(self, |s| s.grant_role(&u, &r, &sc))
    }

    async fn revoke_role(
        &self,
        user_id: &str,
        role: &str,
        scope: &str,
    ) -> Result<bool, StoreError> {
        let (u, r, sc) = (user_id.to_owned(), role.to_owned(), scope.to_owned());
        on_access!(self, |s| s.revoke_role(&u, &r, &sc))
    }

    async fn issue_token(
        &self,
        user_id: &str,
        label: &str,
        expires_at: Option<i64>,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let (u, l) = (user_id.to_owned(), label.to_owned());
        on_access!(self, |s| s.issue_token(&u, &l, expires_at, now_ms))
    }

    async fn revoke_token(&self, token: &str, now_ms: i64) -> Result<bool, StoreError> {
        let token = token.to_owned();
        on_access!(self, |s| s.revoke_token(&token, now_ms))
    }

    async fn delete_user(&self, user_id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let u = user_id.to_owned();
        on_access!(self, |s| s.delete_user(&u, now_ms))
    }
}
