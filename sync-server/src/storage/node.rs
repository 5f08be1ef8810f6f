//! The storage a node runs on, chosen by its configuration: SQLite in the data directory (the
//! embedded default), or PostgreSQL shared by several nodes (`--database postgres://…`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::backend::{AccessStore, DocumentStore};
use super::postgres::{PgAccess, PgDocuments, PgWeb, doorbell};
use super::sqlite::{SqliteAccess, SqliteDocuments};
use super::sqlite_web::SqliteWeb;
use super::web::WebStore;
use super::{SharedStore, Store, StoreError};
use crate::watcher::Wake;

/// The storage of a running node.
#[derive(Debug)]
pub struct NodeStorage {
    /// The documents.
    pub documents: Arc<dyn DocumentStore>,
    /// The directory and tokens.
    pub access: Arc<dyn AccessStore>,
    /// Token checks of the sync upgrade and the API (on PostgreSQL on the web's pool: a flood
    /// of made-up tokens never makes the writer wait for a connection).
    pub gate_access: Arc<dyn AccessStore>,
    /// What wakes the node's storage watcher.
    pub wake: Wake,
    /// For writes beside the hub (the web app's directory acts): appends that the node's
    /// own watcher reads back and hands to the hub like another node's.
    pub beside_hub: super::backend::Storage,
    /// Where the web app, the API and enrolment read and write.
    pub web: WebSource,
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
    let access: Arc<dyn AccessStore> = Arc::new(SqliteAccess::new(open()?));
    Ok(NodeStorage {
        documents: Arc::new(documents),
        gate_access: Arc::clone(&access),
        access,
        wake: Wake::Every(feed_timer),
        beside_hub: super::backend::Storage::sqlite(open()?),
        web: WebSource::Sqlite(db.to_owned()),
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
    // Pages, the API and enrolment on a pool of their own: however many page loads wait, the
    // writer's commits and the feed never wait for a connection behind them.
    let web_pool = super::postgres::connect(url).await?;
    let (bell, listener) = doorbell::listen(url);
    Ok(NodeStorage {
        documents: Arc::new(PgDocuments::new(pool.clone())),
        access: Arc::new(PgAccess::new(pool)),
        gate_access: Arc::new(PgAccess::new(web_pool.clone())),
        wake: Wake::Doorbell(bell, feed_timer),
        // Another origin than the hub's documents: the watcher does not pass it over. On the
        // web's pool, like the API's directory reads.
        beside_hub: super::backend::Storage {
            documents: Arc::new(PgDocuments::new(web_pool.clone())),
            access: Arc::new(PgAccess::new(web_pool.clone())),
        },
        web: WebSource::Postgres(web_pool),
        listener: Some(listener),
    })
}

/// Where the web app's storage ([`WebStore`]) comes from: a connection of its own to the
/// SQLite file for each part that opens one, or the node's PostgreSQL pool.
#[derive(Debug, Clone)]
pub enum WebSource {
    /// The SQLite file.
    Sqlite(PathBuf),
    /// The PostgreSQL pool.
    Postgres(deadpool_postgres::Pool),
}

impl WebSource {
    /// A [`WebStore`] (on SQLite on a new connection).
    ///
    /// # Errors
    /// When the SQLite file cannot be opened.
    pub fn open(&self) -> Result<Arc<dyn WebStore>, StoreError> {
        Ok(match self {
            WebSource::Sqlite(db) => {
                Arc::new(SqliteWeb::new(Arc::new(Mutex::new(Store::open(db)?))))
            }
            WebSource::Postgres(pool) => Arc::new(PgWeb::new(pool.clone())),
        })
    }
}

/// The storage an admin command (or the demo) writes, from outside any running server.
#[derive(Debug)]
pub struct AdminStorage {
    /// Documents and access data.
    pub storage: super::backend::Storage,
    /// Accounts, invitations, tokens as people manage them, the acts log.
    pub web: Arc<dyn WebStore>,
    /// The SQLite connection (`None` on PostgreSQL), for what only SQLite does here: the
    /// online backup (PostgreSQL has its own tools) and the demo's token list.
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
                    access: Arc::new(PgAccess::new(pool.clone())),
                },
                web: Arc::new(PgWeb::new(pool)),
                embedded: None,
            }
        }
        None => {
            let conn: SharedStore = Arc::new(Mutex::new(Store::open(db)?));
            AdminStorage {
                storage: super::backend::Storage::sqlite(Arc::clone(&conn)),
                web: Arc::new(SqliteWeb::new(Arc::clone(&conn))),
                embedded: Some(conn),
            }
        }
    })
}
