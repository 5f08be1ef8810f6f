//! The storage seam of the documents: one async, fallible trait with two implementations, the
//! embedded SQLite file ([`super::sqlite::SqliteDocuments`]) and PostgreSQL for several nodes
//! ([`super::postgres::PgDocuments`]). Appends are idempotent (a chunk is keyed by its content
//! hash where the backend keeps one, and a document loads the same from duplicated changes),
//! compaction deletes exactly what it folded, and the change feed is read from an opaque
//! cursor that never skips a committed chunk (scale-out.md §4.2). The access data (directory,
//! tokens) are a second trait, [`AccessStore`], on the same two backends.

use crate::access::Principal;
use crate::auth::TokenRejection;
use crate::durable::{Append, StoredDoc};

use super::{ChunkStats, Directory, NewBusiness, NewNeighbourhood, StoreError};

/// Where a reader of the change feed stands: opaque to callers. SQLite orders chunks by an
/// `AUTOINCREMENT` sequence (one writer at a time, never reused); PostgreSQL by the inserting
/// transaction and the sequence within it, bounded by the oldest running transaction so a
/// row committed later can never appear behind the cursor (scale-out.md §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedCursor {
    pub(super) txid: u64,
    pub(super) seq: i64,
    /// SQLite: the feed version seen (other processes bump it when they append).
    pub(super) version: i64,
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
    /// A full page was read: more may follow at once.
    pub more: bool,
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

    /// The first stored document of `kind` (the catalogue, say), if there is one.
    async fn first_of_kind(&self, kind: &str) -> Result<Option<String>, StoreError>;

    /// The chunk counts that decide compaction.
    async fn chunk_stats(&self, doc_id: &str) -> Result<ChunkStats, StoreError>;

    /// Replaces the document's chunks by one snapshot of them; chunks appended meanwhile are
    /// kept, and two compactions at once lose nothing.
    async fn compact(&self, doc_id: &str) -> Result<(), StoreError>;

    /// The end of the feed now: a reader starting here sees every chunk committed later.
    async fn feed_end(&self) -> Result<FeedCursor, StoreError>;

    /// Up to `limit` chunks committed after `cursor`, in feed order.
    async fn feed_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError>;

    /// What a node's watcher reads: the chunks other writers (other nodes, admin commands)
    /// committed after `cursor`, from a cursor of [`DocumentStore::feed_end`]. This store's
    /// own appends may be left out (the node's hub holds them), never a snapshot (compaction
    /// may have folded, and deleted, a chunk the reader had not read yet); a page may be empty
    /// while the cursor moves.
    async fn others_after(&self, cursor: FeedCursor, limit: usize) -> Result<FeedPage, StoreError>;
}

/// What the sync path and the admin commands need of the access data: the directory snapshot
/// and its version, token checks and renewal, and the writes that set a neighbourhood up.
/// Every write that changes access moves the directory version, which every node watches.
#[async_trait::async_trait]
pub trait AccessStore: Send + Sync + std::fmt::Debug {
    /// The directory version.
    async fn directory_version(&self) -> Result<i64, StoreError>;

    /// The whole directory at `now_ms` (token expiry judged then).
    async fn directory(&self, now_ms: i64) -> Result<Directory, StoreError>;

    /// The user `token` authenticates at `now_ms`, or why not.
    async fn principal_for_token(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Result<Principal, TokenRejection>, StoreError>;

    /// Notes a token's use and renews it to `renew_until` (at most once a minute).
    async fn token_used(
        &self,
        token_hash: &str,
        now_ms: i64,
        renew_until: i64,
    ) -> Result<(), StoreError>;

    /// Adds a neighbourhood (its document stored before).
    async fn add_neighbourhood(
        &self,
        n: &NewNeighbourhood<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Adds a member business (its profile document stored before).
    async fn add_business(&self, b: &NewBusiness<'_>, now_ms: i64) -> Result<(), StoreError>;

    /// Records that business `b` left at `now_ms`; whether it was a member.
    async fn business_left(&self, b: &str, now_ms: i64) -> Result<bool, StoreError>;

    /// Neighbourhood `n`'s document, if the neighbourhood exists and has one.
    async fn neighbourhood_doc(&self, n: &str) -> Result<Option<String>, StoreError>;

    /// The neighbourhood business `b` belongs to, if it exists.
    async fn neighbourhood_of_business(&self, b: &str) -> Result<Option<String>, StoreError>;

    /// The id of the (not deleted) user with this exact name (the oldest, if several).
    async fn user_named(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Adds a user; its id.
    async fn add_user(&self, name: &str, now_ms: i64) -> Result<String, StoreError>;

    /// Adds a user holding `role` in `scope`, both or neither (one transaction); its id.
    async fn add_user_with_role(
        &self,
        name: &str,
        role: &str,
        scope: &str,
        now_ms: i64,
    ) -> Result<String, StoreError>;

    /// Grants `role` in `scope` ('' for global roles).
    async fn grant_role(&self, user_id: &str, role: &str, scope: &str) -> Result<(), StoreError>;

    /// Removes a role assignment; whether it existed.
    async fn revoke_role(&self, user_id: &str, role: &str, scope: &str)
    -> Result<bool, StoreError>;

    /// Issues a token; the secret (stored only as its hash).
    async fn issue_token(
        &self,
        user_id: &str,
        label: &str,
        expires_at: Option<i64>,
        now_ms: i64,
    ) -> Result<String, StoreError>;

    /// Revokes a token by its secret; whether it was live.
    async fn revoke_token(&self, token: &str, now_ms: i64) -> Result<bool, StoreError>;

    /// Marks a user deleted (tokens, roles and calendar feed end); whether it was live.
    async fn delete_user(&self, user_id: &str, now_ms: i64) -> Result<bool, StoreError>;
}

/// The documents and the access data of one database, as the admin commands and the web
/// app's directory acts write them.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The documents.
    pub documents: std::sync::Arc<dyn DocumentStore>,
    /// The directory and tokens.
    pub access: std::sync::Arc<dyn AccessStore>,
}
