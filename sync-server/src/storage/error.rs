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
    /// Stored bytes that Automerge cannot load.
    #[error("stored document {doc} does not load: {reason}")]
    Corrupt {
        /// The document.
        doc: String,
        /// Why.
        reason: String,
    },
}
