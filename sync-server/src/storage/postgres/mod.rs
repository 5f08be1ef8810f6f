//! [`DocumentStore`](super::backend::DocumentStore) on PostgreSQL, the storage of several
//! nodes (scale-out.md §4): tokio-postgres through a deadpool pool; every session commits
//! with `synchronous_commit = on` (checked at connect, like SQLite's `synchronous=FULL`) and
//! ends a transaction left idle after 10 s, so a vanished node never holds the feed back.

mod access;
mod documents;
pub mod doorbell;
pub mod import;
pub mod migrate;
mod web;
mod web_accounts;

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::StoreError;

pub use access::PgAccess;
pub use documents::PgDocuments;
pub use web::PgWeb;

/// Session settings of every pooled connection (`synchronous_commit` is the cluster's: it is
/// checked, not set, so a cluster on `remote_apply` keeps it).
const SESSION_OPTIONS: &str = "-c idle_in_transaction_session_timeout=10000";

/// How long connecting, waiting for a pooled connection, or an unanswered TCP send may take
/// before it is an error (a half-open connection after a failover must not hang the writer:
/// the append fails, and is sent again on a fresh connection, harmlessly).
const NETWORK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A read-only transaction on one snapshot (repeatable read): several reads that belong
/// together see the same committed state.
pub(super) async fn read_snapshot(
    client: &mut deadpool_postgres::Object,
) -> Result<deadpool_postgres::Transaction<'_>, StoreError> {
    Ok(client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
}

/// How many connections one node keeps to PostgreSQL.
pub const POOL_SIZE: usize = 8;

/// `config` with the timeouts every connection of a node has: connecting, and TCP sends the
/// other side never acknowledges (a half-open connection after a failover), keepalives on.
pub(super) fn with_network_timeouts(
    config: &mut tokio_postgres::Config,
) -> &mut tokio_postgres::Config {
    config
        .connect_timeout(NETWORK_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(NETWORK_TIMEOUT)
        .tcp_user_timeout(NETWORK_TIMEOUT)
}

/// Opens a pool to the database at `url` (`postgres://user@host:port/db`, or key-value
/// pairs such as `host=/run/postgresql dbname=nachbar`), migrates it under
/// an advisory lock (several nodes may start at once) and checks the durability setting.
///
/// # Errors
/// When the URL does not parse, the database cannot be reached, a migration fails or
/// `synchronous_commit` is off.
pub async fn connect(url: &str) -> Result<Pool, StoreError> {
    let mut config =
        tokio_postgres::Config::from_str(url).map_err(|e| StoreError::PgConfig(e.to_string()))?;
    with_network_timeouts(config.options(SESSION_OPTIONS));
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
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(NETWORK_TIMEOUT))
        .create_timeout(Some(NETWORK_TIMEOUT))
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
