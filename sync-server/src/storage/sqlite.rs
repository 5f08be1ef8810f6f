//! [`DocumentStore`] on the embedded SQLite file: each call runs on a blocking thread on one of
//! three connections (the writer's for appends, the compactor's, the reader's), so reads never
//! wait for a commit's fsync and commits never for a compaction's load and save. The appends
//! are the server's own (the one process that holds the data directory): they leave the feed
//! version alone, which other processes (admin commands) bump when they write.

use super::backend::{AccessStore, DocumentStore, FeedChunk, FeedCursor, FeedPage, Storage};
use super::{
    ChunkStats, Directory, FeedRead, NewBusiness, NewNeighbourhood, SharedStore, StoreError,
    on_store,
};
use crate::access::Principal;
use crate::auth::TokenRejection;
use crate::durable::{Append, StoredDoc};

/// The documents in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteDocuments {
    writer: SharedStore,
    compactor: SharedStore,
    reader: SharedStore,
    /// Appends from outside the server's writer (admin commands, the web app's directory
    /// acts) bump the feed version, so the running server reads them.
    external: bool,
}

impl SqliteDocuments {
    /// Documents written through `writer`, compacted through `compactor` and read through
    /// `reader` (connections to the same file).
    pub fn new(writer: SharedStore, compactor: SharedStore, reader: SharedStore) -> Self {
        SqliteDocuments {
            writer,
            compactor,
            reader,
            external: false,
        }
    }

    /// Documents written from outside the server's writer, all through `store`: its appends
    /// move the feed version, which the server's watcher follows.
    pub fn external(store: SharedStore) -> Self {
        SqliteDocuments {
            writer: std::sync::Arc::clone(&store),
            compactor: std::sync::Arc::clone(&store),
            reader: store,
            external: true,
        }
    }
}

#[async_trait::async_trait]
impl DocumentStore for SqliteDocuments {
    async fn storage_id(&self) -> Result<String, StoreError> {
        on_store(&self.reader, |s| s.storage_id()).await
    }

    async fn append(&self, batch: Vec<Append>) -> Result<(), StoreError> {
        if self.external {
            on_store(&self.writer, move |s| s.commit_external(&batch)).await
        } else {
            on_store(&self.writer, move |s| s.commit(&batch)).await
        }
    }

    async fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError> {
        let doc_id = doc_id.to_owned();
        on_store(&self.reader, move |s| s.load(&doc_id)).await
    }

    async fn first_of_kind(&self, kind: &str) -> Result<Option<String>, StoreError> {
        let kind = kind.to_owned();
        on_store(&self.reader, move |s| s.first_of_kind(&kind)).await
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
        let (seq, version) =
            on_store(&self.reader, |s| Ok((s.max_seq()?, s.feed_version()?))).await?;
        Ok(FeedCursor {
            txid: 0,
            seq,
            version,
        })
    }

    async fn feed_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError> {
        let rows = on_store(&self.reader, move |s| s.chunks_after(cursor.seq, limit)).await?;
        let more = rows.len() >= limit;
        let next = rows.last().map_or(cursor, |(seq, _, _)| FeedCursor {
            seq: *seq,
            ..cursor
        });
        Ok(FeedPage {
            chunks: rows
                .into_iter()
                .map(|(_, doc_id, bytes)| FeedChunk { doc_id, bytes })
                .collect(),
            next,
            more,
        })
    }

    async fn others_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError> {
        // The server's own appends leave the feed version alone: while it stands, every newer
        // chunk is the server's and the cursor just moves on, nothing is read.
        let read = on_store(&self.reader, move |s| {
            s.feed_since(cursor.version, cursor.seq, limit)
        })
        .await?;
        Ok(match read {
            FeedRead::Unchanged { cursor: seq } => FeedPage {
                chunks: Vec::new(),
                next: FeedCursor { seq, ..cursor },
                more: false,
            },
            FeedRead::Changed { feed, chunks } => {
                // A full page may have more behind it: the version is taken only with the
                // last page, so the next read goes on from the cursor.
                let more = chunks.len() >= limit;
                let version = if more { cursor.version } else { feed };
                let seq = chunks.last().map_or(cursor.seq, |(seq, _, _)| *seq);
                FeedPage {
                    chunks: chunks
                        .into_iter()
                        .map(|(_, doc_id, bytes)| FeedChunk { doc_id, bytes })
                        .collect(),
                    next: FeedCursor {
                        txid: 0,
                        seq,
                        version,
                    },
                    more,
                }
            }
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
        n: &NewNeighbourhood<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (id, name, location, doc) = (
            n.id.to_owned(),
            n.name.to_owned(),
            n.location.to_owned(),
            n.doc.to_owned(),
        );
        on_access!(self, |s| s.add_neighbourhood(
            &NewNeighbourhood {
                id: &id,
                name: &name,
                location: &location,
                doc: &doc,
            },
            now_ms
        ))
    }

    async fn add_business(&self, b: &NewBusiness<'_>, now_ms: i64) -> Result<(), StoreError> {
        let (id, n, name, trade, profile) = (
            b.id.to_owned(),
            b.neighbourhood.to_owned(),
            b.name.to_owned(),
            b.trade.to_owned(),
            b.profile_doc.to_owned(),
        );
        on_access!(self, |s| s.add_business(
            &NewBusiness {
                id: &id,
                neighbourhood: &n,
                name: &name,
                trade: &trade,
                profile_doc: &profile,
            },
            now_ms
        ))
    }

    async fn business_left(&self, b: &str, now_ms: i64) -> Result<bool, StoreError> {
        let b = b.to_owned();
        on_access!(self, |s| s.business_left(&b, now_ms))
    }

    async fn neighbourhood_doc(&self, n: &str) -> Result<Option<String>, StoreError> {
        let n = n.to_owned();
        on_access!(self, |s| s.neighbourhood_doc(&n))
    }

    async fn neighbourhood_of_business(&self, b: &str) -> Result<Option<String>, StoreError> {
        let b = b.to_owned();
        on_access!(self, |s| s.neighbourhood_of_business(&b))
    }

    async fn user_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        on_access!(self, |s| s.user_named(&name))
    }

    async fn add_user(&self, name: &str, now_ms: i64) -> Result<String, StoreError> {
        let name = name.to_owned();
        on_access!(self, |s| s.add_user(&name, now_ms))
    }

    async fn add_user_with_role(
        &self,
        name: &str,
        role: &str,
        scope: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let (name, role, scope) = (name.to_owned(), role.to_owned(), scope.to_owned());
        on_access!(self, |s| s.in_transaction(|s| {
            let id = s.add_user(&name, now_ms)?;
            s.grant_role(&id, &role, &scope)?;
            Ok::<_, StoreError>(id)
        }))
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

impl Storage {
    /// Documents and access data through the one SQLite connection `store`, written from
    /// outside the server's writer (see [`SqliteDocuments::external`]).
    pub fn sqlite(store: SharedStore) -> Storage {
        Storage {
            documents: std::sync::Arc::new(SqliteDocuments::external(std::sync::Arc::clone(
                &store,
            ))),
            access: std::sync::Arc::new(SqliteAccess::new(store)),
        }
    }
}
