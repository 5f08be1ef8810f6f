//! Durable storage in SQLite (WAL, `synchronous=FULL`): documents as change chunks plus
//! compacted snapshots, the audit of uploads, and the directory.
//!
//! The API is synchronous and small; the async shell runs it on a dedicated writer thread
//! (group commit) and on blocking reader tasks. Writes are append-only and idempotent: a
//! change stored twice is harmless because a document loads from the concatenation of its
//! chunks with one `load`.

pub mod backend;
mod calendar;
mod directory;
mod error;
pub mod listing;
mod migrate;
pub mod node;
pub mod postgres;
mod sessions;
mod shared;
pub mod sqlite;
pub mod sqlite_web;
mod tokens;
pub mod web;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

pub use crate::durable::{Append, DocRecord, LoadError, StoredDoc, load_automerge};
pub use calendar::SequenceKey;
pub use directory::{BusinessEntry, BusinessPerson, Directory, NewBusiness, NewNeighbourhood};
pub use error::StoreError;
pub use sessions::{Access, Account, InviteOutcome, SessionUser};
pub use shared::{SharedStore, on_store};

/// SQLite's integrity check of the database file at `path`, opened read-only (a backup before
/// it is restored): `ok`, or what is damaged.
///
/// # Errors
/// When the file cannot be opened or read as a database.
pub fn integrity_of_file(path: &Path) -> Result<String, StoreError> {
    let check = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    Ok(check.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
}

/// What [`Store::feed_since`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedRead {
    /// No other process wrote: the cursor moves to the newest chunk.
    Unchanged {
        /// The new cursor.
        cursor: i64,
    },
    /// Another process wrote: the chunks after the cursor (seq, document, bytes).
    Changed {
        /// The feed version now.
        feed: i64,
        /// The chunks.
        chunks: Vec<(i64, String, Vec<u8>)>,
    },
}

/// Chunk counts of one document, to decide compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkStats {
    /// Incremental chunks.
    pub chunks: u64,
    /// Their bytes.
    pub chunk_bytes: u64,
    /// Bytes of the snapshot (0 without one).
    pub snapshot_bytes: u64,
}

impl ChunkStats {
    /// Compact when there are more than 32 chunks or they outweigh the snapshot (decisions.md).
    pub fn wants_compaction(&self) -> bool {
        self.chunks > 32 || (self.chunks > 1 && self.chunk_bytes > self.snapshot_bytes)
    }
}

/// A connection to the server database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

fn now_ms() -> i64 {
    nachbar_core::time::Timestamp::now().millis()
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    ///
    /// # Errors
    /// When the file cannot be opened, WAL or `synchronous=FULL` cannot be set, or a migration
    /// fails.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let mut store = Store { conn };
        store.configure()?;
        migrate::run(&mut store.conn)?;
        store.ensure_storage_id()?;
        Ok(store)
    }

    fn configure(&self) -> Result<(), StoreError> {
        // Wait for other connections (the server's writer, an admin command) instead of failing.
        self.conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // WAL before any transaction; FULL so a committed transaction survives power loss.
        // Switching a new file to WAL needs an exclusive lock that SQLite does not wait for:
        // retry while another process (server, admin command) holds it.
        let mode: String = retry_while_busy(|| {
            self.conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        })?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Configure(format!(
                "journal_mode is {mode}, not wal"
            )));
        }
        self.conn
            .execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        let sync: i64 = self
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        if sync != 2 {
            return Err(StoreError::Configure(format!(
                "synchronous is {sync}, not FULL (2)"
            )));
        }
        Ok(())
    }

    fn ensure_storage_id(&self) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('storage_id', ?1)",
            params![uuid::Uuid::new_v4().to_string()],
        )?;
        Ok(())
    }

    /// The id of this storage, sent to peers in the handshake.
    ///
    /// # Errors
    /// On a database error.
    pub fn storage_id(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'storage_id'", [], |r| {
                r.get(0)
            })?)
    }

    /// Gives this database a new storage id (after a restore: what it confirmed before may be
    /// gone, so clients must re-upload).
    ///
    /// # Errors
    /// On a database error.
    pub fn renew_storage_id(&self) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'storage_id'",
            params![id],
        )?;
        Ok(id)
    }

    /// The record of a document, if stored.
    ///
    /// # Errors
    /// On a database error.
    pub fn record(&self, doc_id: &str) -> Result<Option<DocRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT doc_id, kind, neighbourhood, business, created_by, title FROM documents WHERE doc_id = ?1",
                params![doc_id],
                doc_record,
            )
            .optional()?)
    }

    /// Loads a document: its record and all chunks concatenated in order.
    ///
    /// # Errors
    /// On a database error.
    pub fn load(&self, doc_id: &str) -> Result<Option<StoredDoc>, StoreError> {
        let Some(record) = self.record(doc_id)? else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            // Snapshots first: a chunk appended while the compactor made its snapshot has a
            // lower sequence number than the snapshot, and one `load` is fastest from it.
            "SELECT bytes FROM chunks WHERE doc_id = ?1 ORDER BY is_snapshot DESC, seq",
        )?;
        let mut bytes = Vec::new();
        let mut rows = stmt.query(params![doc_id])?;
        while let Some(row) = rows.next()? {
            let chunk: Vec<u8> = row.get(0)?;
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(StoredDoc { record, bytes }))
    }

    /// Writes a batch of appends in one transaction: one fsync for all of them (group commit).
    /// Nothing of the batch is visible or durable unless the whole batch commits.
    ///
    /// # Errors
    /// On a database error; the transaction is rolled back.
    pub fn commit(&mut self, batch: &[Append]) -> Result<(), StoreError> {
        self.commit_batch(batch, false)
    }

    /// Writes a batch like [`Store::commit`] from a process or connection other than the
    /// server's writer (admin commands, the web app's directory acts), bumping the feed
    /// version in the same transaction so the server reads the new chunks.
    ///
    /// # Errors
    /// On a database error; the transaction is rolled back.
    pub fn commit_external(&mut self, batch: &[Append]) -> Result<(), StoreError> {
        self.commit_batch(batch, true)
    }

    fn commit_batch(&mut self, batch: &[Append], bump_feed: bool) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            write_batch(&tx, batch, bump_feed)?;
            tx.commit()?;
        } else {
            // Inside a caller's transaction (see `Store::in_transaction`): a savepoint.
            let sp = self.conn.savepoint()?;
            write_batch(&sp, batch, bump_feed)?;
            sp.commit()?;
        }
        Ok(())
    }

    /// Runs `f` in one immediate transaction: everything it writes (also through
    /// [`Store::commit_external`]) lands together or not at all.
    ///
    /// # Errors
    /// Whatever `f` returns (everything rolled back), or a database error.
    pub fn in_transaction<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StoreError::from)?;
        match f(self) {
            Ok(value) => {
                self.conn
                    .execute_batch("COMMIT")
                    .map_err(StoreError::from)?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

fn write_batch(tx: &Connection, batch: &[Append], bump_feed: bool) -> Result<(), StoreError> {
    let now = now_ms();
    {
        let mut register = tx.prepare_cached(
                "INSERT OR IGNORE INTO documents(doc_id, kind, neighbourhood, business, created_by, created_at, title)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
        let mut chunk = tx.prepare_cached(
            "INSERT INTO chunks(doc_id, is_snapshot, bytes, created_at) VALUES (?1, 0, ?2, ?3)",
        )?;
        let mut audit = tx.prepare_cached(
                "INSERT OR IGNORE INTO audit(change_hash, doc_id, user_id, received_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
        for a in batch {
            if let Some(r) = &a.register {
                register.execute(params![
                    r.doc_id,
                    r.kind,
                    r.neighbourhood,
                    r.business,
                    r.created_by,
                    now,
                    r.title
                ])?;
            }
            if !a.bytes.is_empty() {
                chunk.execute(params![a.doc_id, a.bytes, now])?;
            }
            for h in &a.change_hashes {
                audit.execute(params![h, a.doc_id, a.user_id, now])?;
            }
        }
    }
    if bump_feed {
        tx.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'feed_version'",
            [],
        )?;
    }
    Ok(())
}

impl Store {
    /// Chunk counts of a document.
    ///
    /// # Errors
    /// On a database error.
    pub fn chunk_stats(&self, doc_id: &str) -> Result<ChunkStats, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(is_snapshot = 0), 0), COALESCE(SUM(CASE WHEN is_snapshot = 0 THEN length(bytes) END), 0),
                    COALESCE(SUM(CASE WHEN is_snapshot = 1 THEN length(bytes) END), 0)
             FROM chunks WHERE doc_id = ?1",
            params![doc_id],
            |r| {
                let n = |i| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
                Ok(ChunkStats { chunks: n(0)?, chunk_bytes: n(1)?, snapshot_bytes: n(2)? })
            },
        )?)
    }

    /// Replaces a document's chunks by one snapshot (`save()` of their concatenation). The
    /// chunks are read and the snapshot made outside any write transaction (a commit of the
    /// server's writer does not wait for them); only the swap of rows takes the write lock,
    /// and chunks appended meanwhile (higher `seq`) are kept.
    ///
    /// # Errors
    /// On a database error, or when the stored bytes do not load.
    pub fn compact(&mut self, doc_id: &str) -> Result<(), StoreError> {
        let (max_seq, bytes) = {
            let tx = self.conn.unchecked_transaction()?;
            let mut stmt =
                tx.prepare_cached("SELECT seq, bytes FROM chunks WHERE doc_id = ?1 ORDER BY seq")?;
            let mut rows = stmt.query(params![doc_id])?;
            let mut bytes = Vec::new();
            let mut max_seq = 0i64;
            while let Some(row) = rows.next()? {
                max_seq = row.get(0)?;
                bytes.extend_from_slice(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?);
            }
            drop(rows);
            drop(stmt);
            tx.finish()?;
            (max_seq, bytes)
        };
        if max_seq == 0 {
            return Ok(());
        }
        let doc = load_automerge(&bytes).map_err(|e| StoreError::Corrupt {
            doc: doc_id.to_owned(),
            reason: e.to_string(),
        })?;
        let snapshot = doc.save();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM chunks WHERE doc_id = ?1 AND seq <= ?2",
            params![doc_id, max_seq],
        )?;
        tx.execute(
            "INSERT INTO chunks(doc_id, is_snapshot, bytes, created_at) VALUES (?1, 1, ?2, ?3)",
            params![doc_id, snapshot, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The number of audited changes (for tests and integrity checks).
    ///
    /// # Errors
    /// On a database error.
    pub fn audited_changes(&self, doc_id: &str) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM audit WHERE doc_id = ?1",
            params![doc_id],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Runs SQLite's integrity check.
    ///
    /// # Errors
    /// On a database error.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Every document record.
    ///
    /// # Errors
    /// On a database error.
    pub fn records(&self) -> Result<Vec<DocRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, kind, neighbourhood, business, created_by, title FROM documents ORDER BY created_at, doc_id",
        )?;
        let rows = stmt.query_map([], doc_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The records of business `business`'s documents, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub fn records_of_business(&self, business: &str) -> Result<Vec<DocRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, kind, neighbourhood, business, created_by, title FROM documents
             WHERE business = ?1 ORDER BY created_at, doc_id",
        )?;
        let rows = stmt.query_map([business], doc_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest chunk sequence number (0 when empty).
    ///
    /// # Errors
    /// On a database error.
    pub fn max_seq(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM chunks", [], |r| r.get(0))?)
    }

    /// The feed version, bumped by processes other than the server when they append changes.
    ///
    /// # Errors
    /// On a database error.
    pub fn feed_version(&self) -> Result<i64, StoreError> {
        let v: String = self.conn.query_row(
            "SELECT value FROM meta WHERE key = 'feed_version'",
            [],
            |r| r.get(0),
        )?;
        Ok(v.parse().unwrap_or(0))
    }

    /// What the change feed holds for a reader that saw feed version `known_feed` and chunks up
    /// to `cursor`, read in one snapshot (at most `limit` chunks): when no other process wrote since, every newer chunk
    /// is the server's own and the cursor just moves to the newest (nothing is read); otherwise
    /// the chunks after the cursor.
    ///
    /// # Errors
    /// On a database error.
    pub fn feed_since(
        &self,
        known_feed: i64,
        cursor: i64,
        limit: usize,
    ) -> Result<FeedRead, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let feed: i64 = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'feed_version'",
                [],
                |r| r.get::<_, String>(0),
            )?
            .parse()
            .unwrap_or(0);
        let read = if feed == known_feed {
            let newest: i64 =
                tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM chunks", [], |r| r.get(0))?;
            FeedRead::Unchanged {
                cursor: newest.max(cursor),
            }
        } else {
            // In the transaction's snapshot: the same connection.
            let chunks = self.chunks_after(cursor, limit)?;
            FeedRead::Changed { feed, chunks }
        };
        tx.finish()?;
        Ok(read)
    }

    /// Up to `limit` chunks with a sequence number above `after`, in order: (seq, document,
    /// bytes).
    ///
    /// # Errors
    /// On a database error.
    pub fn chunks_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, Vec<u8>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, doc_id, bytes FROM chunks WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The underlying connection, for the directory queries.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Writes a consistent copy of the database to `path` while it is in use (SQLite's online
    /// backup API).
    ///
    /// # Errors
    /// On a database or file error.
    pub fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        self.conn.backup(
            rusqlite::MAIN_DB,
            path,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod conformance_web;
#[cfg(test)]
mod tests;

/// A `documents` row selected as `doc_id, kind, neighbourhood, business, created_by, title`.
fn doc_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<DocRecord> {
    Ok(DocRecord {
        doc_id: r.get(0)?,
        kind: r.get(1)?,
        neighbourhood: r.get(2)?,
        business: r.get(3)?,
        created_by: r.get(4)?,
        title: r.get(5)?,
    })
}

/// Runs `f` again while SQLite answers "database is locked" without waiting (lock upgrades it
/// refuses to avoid deadlocks), for up to 30 s.
pub(crate) fn retry_while_busy<T>(
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}
