//! The storage a node runs on, chosen by its configuration: SQLite in the data directory (the
//! embedded default), or PostgreSQL shared by several nodes (`--database postgres://…`).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::backend::{AccessStore, DocumentStore};
use super::postgres::{PgAccess, PgDocuments, doorbell};
use super::sqlite::{SqliteAccess, SqliteDocuments};
use super::{SharedStore, Store, StoreError};
use crate::watcher::Wake;

/// The storage of a running node.
#[derive(Debug)]
pub struct NodeStorage {
    /// The documents.
    pub documents: Arc<dyn DocumentStore>,
    /// The directory and tokens.
    pub access: Arc<dyn AccessStore>,
    /// What wakes the node's storage watcher.
    pub wake: Wake,
    /// For writes beside the hub (the web app's directory acts): appends that the node's
    /// own watcher reads back and hands to the hub like another node's.
    pub beside_hub: super::backend::Storage,
    /// The SQLite connection of the parts that do not run on PostgreSQL yet (`None` there).
    pub embedded: Option<SharedStore>,
    /// The feed listener on PostgreSQL (ends with the node).
    pub listener: Option<tokio::task::JoinHandle<()>>,
}

/// Opens the SQLite database at `db` (its watcher reading every `feed_timer`): one connection each for the writer, the compactor, the
/// documents' reads and the access data, and one for the parts that use `Store` directly.
///
/// # Errors
/// When the file cannot be opened or migrated.
pub fn sqlite(db: &Path, feed_timer: Duration) -> Result<NodeStorage, StoreError> {
    let open = || Store::open(db).map(|s| Arc::new(Mutex::new(s)));
    let documents = SqliteDocuments::new(open()?, open()?, open()?);
    let embedded = open()?;
    Ok(NodeStorage {
        documents: Arc::new(documents),
        access: Arc::new(SqliteAccess::new(open()?)),
        wake: Wake::Every(feed_timer),
        beside_hub: super::backend::Storage::sqlite(Arc::clone(&embedded)),
        embedded: Some(embedded),
        listener: None,
    })
}

/// Connects to PostgreSQL at `url` (migrating it under its lock) and starts the node's feed
/// listener (its watcher reading on every notification and at least every `feed_timer`).
///
/// # Errors
/// When the database cannot be reached, migrated, or would not keep commits durable.
pub async fn postgres(url: &str, feed_timer: Duration) -> Result<NodeStorage, StoreError> {
    let pool = super::postgres::connect(url).await?;
    let (bell, listener) = doorbell::listen(url);
    let access: Arc<dyn AccessStore> = Arc::new(PgAccess::new(pool.clone()));
    Ok(NodeStorage {
        documents: Arc::new(PgDocuments::new(pool.clone())),
        access: Arc::clone(&access),
        wake: Wake::Doorbell(bell, feed_timer),
        // Another origin than the hub's documents: the watcher does not pass it over.
        beside_hub: super::backend::Storage {
            documents: Arc::new(PgDocuments::new(pool)),
            access,
        },
        embedded: None,
        listener: Some(listener),
    })
}

/// The storage an admin command (or the demo) writes, from outside any running server.
#[derive(Debug)]
pub struct AdminStorage {
    /// Documents and access data.
    pub storage: super::backend::Storage,
    /// The SQLite connection, for the commands that do not run on PostgreSQL yet.
    pub embedded: Option<SharedStore>,
}

/// Opens the database an admin command works on: PostgreSQL at `database` when given
/// (migrated under its lock), else the SQLite file `db`.
///
/// # Errors
/// When the database cannot be opened or migrated.
pub async fn for_admin(database: Option<&str>, db: &Path) -> Result<AdminStorage, StoreError> {
    Ok(match database {
        Some(url) => {
            let pool = super::postgres::connect(url).await?;
            AdminStorage {
                storage: super::backend::Storage {
                    documents: Arc::new(PgDocuments::new(pool.clone())),
                    access: Arc::new(PgAccess::new(pool)),
                },
                embedded: None,
            }
        }
        None => {
            let conn: SharedStore = Arc::new(Mutex::new(Store::open(db)?));
            AdminStorage {
                storage: super::backend::Storage::sqlite(Arc::clone(&conn)),
                embedded: Some(conn),
            }
        }
    })
}
