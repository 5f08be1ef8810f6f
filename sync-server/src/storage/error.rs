//! Storage errors: one variant per failed step.

/// A storage step that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Opening the database file.
    #[error("opening the database {path}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// Setting the connection up (pragmas) or checking them.
    #[error("configuring the database: {0}")]
    Configure(String),
    /// Applying a migration.
    #[error("applying migration {version}")]
    Migrate {
        /// The migration number.
        version: u32,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// Any other query.
    #[error("database query failed")]
    Query(#[from] rusqlite::Error),
    /// The connection cannot be used: its lock is poisoned or its task failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A PostgreSQL statement (or the connection under it) failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The PostgreSQL settings or URL are not usable.
    #[error("PostgreSQL configuration: {0}")]
    PgConfig(String),
    /// Applying a PostgreSQL migration.
    #[error("applying PostgreSQL migration {version}: {source}")]
    PgMigrate {
        /// The migration number.
        version: i32,
        /// Why.
        #[source]
        source: tokio_postgres::Error,
    },
    /// Stored bytes that Automerge cannot load.
    #[error("stored document {doc} does not load: {reason}")]
    Corrupt {
        /// The document.
        doc: String,
        /// Why.
        reason: String,
    },
}
