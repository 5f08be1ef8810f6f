//! The device's local store (one SQLite database per user on a device): documents as change
//! chunks plus compacted snapshots, the Automerge sync state per (document, server storage id)
//! so a reconnect resumes, the heads the server acknowledged per document, the device's actor
//! id, the user's document list and cached API answers. WAL and `synchronous=FULL` by default:
//! a change is on disk when [`LocalStore::append`] returns.

mod error;
mod migrate;
mod replica;
#[cfg(test)]
mod replica_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use automerge::{ActorId, Automerge, ChangeHash};
use rusqlite::{Connection, OptionalExtension, params};

pub use error::StoreError;
pub use replica::{EditResult, Replica, ReplicaError, Settled};

use crate::ids::DocumentId;

/// A document is compacted when it has more chunks than this (decisions.md).
pub const COMPACT_AFTER_CHUNKS: usize = 32;

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a returned commit survives a power cut.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a crash of the app, maybe not a power cut (tests, benches).
    Normal,
}

/// What the server said of a document, as kept on the device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocStatus {
    /// Listed by `GET /api/documents` for this user.
    pub listed: bool,
    /// Kind, title and business from the listing.
    pub kind: Option<String>,
    /// The title from the listing.
    pub title: Option<String>,
    /// The business from the listing.
    pub business: Option<String>,
    /// The listing says the user may write it.
    pub writable: bool,
    /// The server syncs it read-only with us: our changes stay on this device.
    pub read_only: bool,
    /// The server refused it (unavailable, or a creation it did not accept).
    pub refused: bool,
    /// Storage id of the server whose acknowledgement `acked_heads` holds.
    pub acked_storage: Option<String>,
    /// The heads that server last acknowledged.
    pub acked_heads: Vec<ChangeHash>,
    /// Milliseconds since the epoch of the last completed sync.
    pub synced_at: Option<i64>,
    /// The server listed it for this user and lists it no more (access revoked, or a restore
    /// from a backup that predates it): kept while it holds unacknowledged changes.
    pub withdrawn: bool,
}

/// One entry of the user's document list (`GET /api/documents`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The document.
    pub doc_id: DocumentId,
    /// Its kind.
    pub kind: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Its business.
    pub business: Option<String>,
    /// Whether the user may write it.
    pub writable: bool,
}

/// Sizes of a document's stored history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkStats {
    /// Incremental chunks.
    pub chunks: usize,
    /// Their bytes.
    pub chunk_bytes: usize,
    /// Bytes of the snapshot, 0 when there is none.
    pub snapshot_bytes: usize,
}

impl ChunkStats {
    /// More than [`COMPACT_AFTER_CHUNKS`] chunks, or chunks that outweigh the snapshot.
    pub fn wants_compaction(&self) -> bool {
        self.chunks > COMPACT_AFTER_CHUNKS
            || (self.chunks > 1 && self.chunk_bytes > self.snapshot_bytes)
    }
}

/// The local database of one user on one device.
#[derive(Debug)]
pub struct LocalStore {
    conn: Connection,
    path: PathBuf,
    actor: ActorId,
}

const ACTOR_KEY: &str = "actor";

impl LocalStore {
    /// Opens (creating and migrating as needed) the database at `path`.
    ///
    /// # Errors
    /// When SQLite fails, a migration fails or the database belongs to a newer app.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate::run(&mut conn)?;
        let actor = match conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [ACTOR_KEY], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()?
        {
            Some(bytes) => ActorId::from(bytes),
            None => {
                let actor = ActorId::random();
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![ACTOR_KEY, actor.to_bytes()],
                )?;
                actor
            }
        };
        Ok(LocalStore { conn, path, actor })
    }

    /// This device's Automerge actor id for this user (made once, kept forever).
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a chunk (one or more changes) of `doc`, made on top of heads `before` and
    /// leading to heads `after`, in one transaction; on disk when this returns. The stored
    /// heads move to `after` only if they were `before` (or nothing was stored): when another
    /// writer appended meanwhile they are forgotten, and the next load records them anew.
    ///
    /// # Errors
    /// When SQLite fails; nothing is stored then.
    pub fn append(
        &mut self,
        doc: &DocumentId,
        bytes: &[u8],
        before: &[ChangeHash],
        after: &[ChangeHash],
    ) -> Result<(), StoreError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        let id = doc.to_string();
        tx.execute(
            "INSERT INTO documents (doc_id, heads) VALUES (?1, ?3)
             ON CONFLICT (doc_id) DO UPDATE SET heads = CASE
                 WHEN heads = ?2 OR NOT EXISTS (SELECT 1 FROM chunks WHERE doc_id = ?1) THEN ?3
                 ELSE NULL END",
            params![id, heads_to_bytes(before), heads_to_bytes(after)],
        )?;
        tx.execute(
            "INSERT INTO chunks (doc_id, snapshot, bytes) VALUES (?1, 0, ?2)",
            params![id, bytes],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The stored document, loaded with one `load` of its chunks, or `None`.
    ///
    /// # Errors
    /// When SQLite fails or the bytes do not load.
    pub fn load(&self, doc: &DocumentId) -> Result<Option<Automerge>, StoreError> {
        let id = doc.to_string();
        let mut stmt = self.conn.prepare_cached(
            "SELECT bytes FROM chunks WHERE doc_id = ?1 ORDER BY snapshot DESC, seq",
        )?;
        let mut rows = stmt.query([&id])?;
        let mut bytes = Vec::new();
        let mut any = false;
        while let Some(row) = rows.next()? {
            any = true;
            bytes.extend_from_slice(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?);
        }
        if !any {
            return Ok(None);
        }
        Automerge::load(&bytes)
            .map(|d| Some(d.with_actor(self.actor.clone())))
            .map_err(|e| StoreError::Corrupt {
                doc_id: id,
                reason: e.to_string(),
            })
    }

    /// Records `heads`, those of `doc` as just loaded from every stored chunk, where no heads
    /// are known (stored before migration 3, or forgotten after another writer's append).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn note_loaded_heads(
        &mut self,
        doc: &DocumentId,
        heads: &[ChangeHash],
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE documents SET heads = ?2 WHERE doc_id = ?1 AND heads IS NULL")?
            .execute(params![doc.to_string(), heads_to_bytes(heads)])?;
        Ok(())
    }

    /// Sizes of a document's stored history.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn chunk_stats(&self, doc: &DocumentId) -> Result<ChunkStats, StoreError> {
        let (chunks, chunk_bytes, snapshot_bytes): (i64, i64, i64) = self.conn.query_row(
            "SELECT COALESCE(SUM(snapshot = 0), 0),
                    COALESCE(SUM(CASE WHEN snapshot = 0 THEN length(bytes) END), 0),
                    COALESCE(SUM(CASE WHEN snapshot = 1 THEN length(bytes) END), 0)
             FROM chunks WHERE doc_id = ?1",
            [doc.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let size = |n: i64| usize::try_from(n).unwrap_or(0);
        Ok(ChunkStats {
            chunks: size(chunks),
            chunk_bytes: size(chunk_bytes),
            snapshot_bytes: size(snapshot_bytes),
        })
    }

    /// Replaces a document's chunks with one snapshot of `doc` (in one transaction).
    ///
    /// # Errors
    /// When SQLite fails; the chunks stay then.
    pub fn compact(&mut self, id: &DocumentId, doc: &Automerge) -> Result<(), StoreError> {
        let snapshot = doc.save();
        let tx = self.conn.transaction()?;
        let id = id.to_string();
        tx.execute("DELETE FROM chunks WHERE doc_id = ?1", [&id])?;
        tx.execute(
            "INSERT INTO chunks (doc_id, snapshot, bytes) VALUES (?1, 1, ?2)",
            params![id, snapshot],
        )?;
        tx.execute(
            "UPDATE documents SET heads = ?2 WHERE doc_id = ?1",
            params![id, heads_to_bytes(&doc.get_heads())],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every document with stored history.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn documents(&self) -> Result<Vec<DocumentId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT doc_id FROM chunks ORDER BY doc_id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids.into_iter().filter_map(|s| s.parse().ok()).collect())
    }

    /// Every document with stored history whose stored heads the server has acknowledged
    /// (each of them among the acknowledged heads): it holds no unacknowledged change, known
    /// without loading it. One query for the whole store.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn fully_acknowledged(&self) -> Result<std::collections::BTreeSet<DocumentId>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, heads, acked_heads FROM documents
             WHERE heads IS NOT NULL AND length(heads) > 0",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = std::collections::BTreeSet::new();
        for row in rows {
            let (id, heads, acked) = row?;
            let acked = heads_from_bytes(&acked);
            if heads_from_bytes(&heads).iter().all(|h| acked.contains(h))
                && let Ok(id) = id.parse()
            {
                out.insert(id);
            }
        }
        Ok(out)
    }

    /// What the server said of `doc` (defaults for an unknown document).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn status(&self, doc: &DocumentId) -> Result<DocStatus, StoreError> {
        let status = self
            .conn
            .prepare_cached(
                "SELECT listed, kind, title, business, writable, read_only, refused,
                        acked_storage, acked_heads, synced_at, withdrawn
                 FROM documents WHERE doc_id = ?1",
            )?
            .query_row([doc.to_string()], |r| {
                Ok(DocStatus {
                    listed: r.get(0)?,
                    kind: r.get(1)?,
                    title: r.get(2)?,
                    business: r.get(3)?,
                    writable: r.get(4)?,
                    read_only: r.get(5)?,
                    refused: r.get(6)?,
                    acked_storage: r.get(7)?,
                    acked_heads: heads_from_bytes(&r.get::<_, Vec<u8>>(8)?),
                    synced_at: r.get(9)?,
                    withdrawn: r.get(10)?,
                })
            })
            .optional()?;
        Ok(status.unwrap_or(DocStatus {
            writable: true,
            ..DocStatus::default()
        }))
    }

    /// Records that the server with `storage_id` acknowledged `heads` of `doc`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_acked(
        &mut self,
        doc: &DocumentId,
        storage_id: &str,
        heads: &[ChangeHash],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        write_acked(&self.conn, doc, storage_id, heads, now_ms)
    }

    /// Records one sync message of the server in one transaction (one disk sync instead of
    /// three): the heads it acknowledged, the sync state to resume from, and, when given, the
    /// verdict flags (read-only, refused).
    ///
    /// # Errors
    /// When SQLite fails; nothing is recorded then.
    pub fn record_server_message(
        &mut self,
        doc: &DocumentId,
        storage_id: &str,
        heads: &[ChangeHash],
        state: &[u8],
        flags: Option<(bool, bool)>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        write_acked(&tx, doc, storage_id, heads, now_ms)?;
        write_sync_state(&tx, doc, storage_id, state)?;
        if let Some((read_only, refused)) = flags {
            write_flags(&tx, doc, read_only, refused)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records the server's verdict on `doc`: synced read-only, refused.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_flags(
        &mut self,
        doc: &DocumentId,
        read_only: bool,
        refused: bool,
    ) -> Result<(), StoreError> {
        write_flags(&self.conn, doc, read_only, refused)
    }

    /// Replaces the user's document list with `listed` (from `GET /api/documents`); marks the
    /// documents that were listed before and are not any more as withdrawn (nothing is removed
    /// here: see [`Replica::settle_withdrawn`]) and returns them; a listed document is no longer
    /// withdrawn.
    ///
    /// # Errors
    /// When SQLite fails; the old list stays then.
    pub fn set_listing(&mut self, listed: &[Listed]) -> Result<Vec<DocumentId>, StoreError> {
        let tx = self.conn.transaction()?;
        let before: Vec<String> = {
            let mut stmt = tx.prepare("SELECT doc_id FROM documents WHERE listed = 1")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        tx.execute(
            "UPDATE documents SET withdrawn = 1, listed = 0 WHERE listed = 1",
            [],
        )?;
        for entry in listed {
            tx.execute(
                "INSERT INTO documents (doc_id, kind, title, business, listed, writable)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5)
                 ON CONFLICT (doc_id) DO UPDATE SET kind = ?2, title = ?3, business = ?4,
                                                    listed = 1, writable = ?5, withdrawn = 0",
                params![
                    entry.doc_id.to_string(),
                    entry.kind,
                    entry.title,
                    entry.business,
                    entry.writable
                ],
            )?;
        }
        tx.commit()?;
        let now: std::collections::BTreeSet<String> =
            listed.iter().map(|l| l.doc_id.to_string()).collect();
        Ok(before
            .into_iter()
            .filter(|id| !now.contains(id))
            .filter_map(|id| id.parse().ok())
            .collect())
    }

    /// Every document marked withdrawn (see [`LocalStore::set_listing`]).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn withdrawn(&self) -> Result<Vec<DocumentId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id FROM documents WHERE withdrawn = 1 ORDER BY doc_id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids.into_iter().filter_map(|s| s.parse().ok()).collect())
    }

    /// The encoded sync state of `doc` with the server `storage_id`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn sync_state(
        &self,
        doc: &DocumentId,
        storage_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM sync_states WHERE doc_id = ?1 AND storage_id = ?2",
                params![doc.to_string(), storage_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Keeps the encoded sync state of `doc` with the server `storage_id`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_sync_state(
        &mut self,
        doc: &DocumentId,
        storage_id: &str,
        state: &[u8],
    ) -> Result<(), StoreError> {
        write_sync_state(&self.conn, doc, storage_id, state)
    }

    /// Forgets every sync state and acknowledgement that is not of `storage_id`: a server
    /// restored from a backup has a new storage id and may lack what it confirmed before.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn keep_only_storage(&mut self, storage_id: &str) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM sync_states WHERE storage_id <> ?1",
            [storage_id],
        )?;
        let forgotten = tx.execute(
            "UPDATE documents SET acked_storage = NULL, acked_heads = x''
             WHERE acked_storage IS NOT NULL AND acked_storage <> ?1",
            [storage_id],
        )?;
        tx.commit()?;
        Ok(forgotten)
    }

    /// Removes a document from the device: everything it held was acknowledged and its access
    /// was withdrawn, or the user discarded it.
    ///
    /// # Errors
    /// When SQLite fails; nothing is removed then.
    pub fn purge(&mut self, doc: &DocumentId) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let id = doc.to_string();
        for table in ["chunks", "sync_states", "documents"] {
            tx.execute(&format!("DELETE FROM {table} WHERE doc_id = ?1"), [&id])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Keeps an API answer for offline use.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn cache_put(&mut self, key: &str, json: &str, now_ms: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO cache (key, json, fetched_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET json = ?2, fetched_at = ?3",
            params![key, json, now_ms],
        )?;
        Ok(())
    }

    /// A kept API answer and when it was fetched.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn cache_get(&self, key: &str) -> Result<Option<(String, i64)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT json, fetched_at FROM cache WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Signs out: closes the database and removes it with its WAL and shared-memory files.
    ///
    /// # Errors
    /// When a file cannot be removed.
    pub fn wipe(self) -> Result<(), StoreError> {
        let path = self.path.clone();
        drop(self.conn);
        remove_database(&path)
    }
}

/// Removes the database at `path` with its `-wal` and `-shm` files (missing files are fine).
///
/// # Errors
/// When a file exists and cannot be removed.
pub fn remove_database(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(PathBuf::from(file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

fn write_acked(
    conn: &Connection,
    doc: &DocumentId,
    storage_id: &str,
    heads: &[ChangeHash],
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO documents (doc_id, acked_storage, acked_heads, synced_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (doc_id) DO UPDATE SET acked_storage = ?2, acked_heads = ?3,
                                            synced_at = ?4",
        params![doc.to_string(), storage_id, heads_to_bytes(heads), now_ms],
    )?;
    Ok(())
}

fn write_sync_state(
    conn: &Connection,
    doc: &DocumentId,
    storage_id: &str,
    state: &[u8],
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sync_states (doc_id, storage_id, state) VALUES (?1, ?2, ?3)
         ON CONFLICT (doc_id, storage_id) DO UPDATE SET state = ?3",
        params![doc.to_string(), storage_id, state],
    )?;
    Ok(())
}

fn write_flags(
    conn: &Connection,
    doc: &DocumentId,
    read_only: bool,
    refused: bool,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO documents (doc_id, read_only, refused) VALUES (?1, ?2, ?3)
         ON CONFLICT (doc_id) DO UPDATE SET read_only = ?2, refused = ?3",
        params![doc.to_string(), read_only, refused],
    )?;
    Ok(())
}

fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn heads_from_bytes(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok().map(ChangeHash))
        .collect()
}

/// Local changes of `doc` the server has not acknowledged: the changes that are not ancestors
/// of the acknowledged heads (heads this replica does not know yet are left out, so the count
/// errs towards "not yet acknowledged").
pub fn unacknowledged(doc: &Automerge, acked: &[ChangeHash]) -> usize {
    let known: Vec<ChangeHash> = acked
        .iter()
        .filter(|h| doc.get_change_meta_by_hash(h).is_some())
        .copied()
        .collect();
    doc.get_changes_meta(&known).len()
}
