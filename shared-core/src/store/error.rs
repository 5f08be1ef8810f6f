//! What can go wrong in the local store.

/// An error of the local store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("local database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed.
    #[error("local database migration {version}: {source}")]
    Migrate {
        /// The schema version it was to reach.
        version: u32,
        /// Why.
        source: rusqlite::Error,
    },
    /// The database was written by a newer app.
    #[error("the local database has schema {found}, this app knows {known}: update the app")]
    NewerSchema {
        /// The database's version.
        found: u32,
        /// Ours.
        known: u32,
    },
    /// Stored bytes do not load as a document.
    #[error("document {doc_id} does not load from the local database: {reason}")]
    Corrupt {
        /// The document.
        doc_id: String,
        /// Why.
        reason: String,
    },
    /// Files could not be removed.
    #[error("removing the local database: {0}")]
    Io(#[from] std::io::Error),
}
