//! [`DocumentStore`](super::backend::DocumentStore) on PostgreSQL, the storage of several
//! nodes (scale-out.md §4): tokio-postgres through a deadpool pool; every session commits
//! with `synchronous_commit = on` (checked at connect, like SQLite's `synchronous=FULL`) and
//! ends a transaction left idle after 10 s, so a vanished node never holds the feed back.

mod documents;
mod migrate;

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::StoreError;

pub use documents::PgDocuments;

/// Session settings of every pooled connection.
const SESSION_OPTIONS: &str =
    "-c synchronous_commit=on -c idle_in_transaction_session_timeout=10000";

/// How many connections one node keeps to PostgreSQL.
pub const POOL_SIZE: usize = 8;

/// Opens a pool to the database at `url` (`postgres://user@host:port/db`), migrates it under
/// an advisory lock (several nodes may start at once) and checks the durability setting.
///
/// # Errors
/// When the URL does not parse, the database cannot be reached, a migration fails or
/// `synchronous_commit` is off.
pub async fn connect(url: &str) -> Result<Pool, StoreError> {
    let mut config =
        tokio_postgres::Config::from_str(url).map_err(|e| StoreError::PgConfig(e.to_string()))?;
    config.options(SESSION_OPTIONS);
    if config.get_application_name().is_none() {
        config.application_name("nachbar-server");
    }
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .map_err(|e| StoreError::PgConfig(e.to_string()))?;
    let mut client = pool.get().await?;
    let setting: String = client
        .query_one("SHOW synchronous_commit", &[])
        .await?
        .get(0);
    if !matches!(setting.as_str(), "on" | "remote_apply" | "remote_write") {
        return Err(StoreError::PgConfig(format!(
            "synchronous_commit is {setting}: an acknowledged change could be lost"
        )));
    }
    migrate::run(&mut client).await?;
    Ok(pool)
}
