//! `admin migrate-to-postgres`: a single node's SQLite database copied into an empty
//! PostgreSQL database — documents with all their chunks (so their whole history), the audit,
//! the directory, tokens, invites, web sessions and credentials, the acts, calendar feeds —
//! keeping the storage id (devices keep their sync state) and the directory version; then
//! every document is loaded from both and must have the same heads.

use deadpool_postgres::Pool;
use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use super::documents::hash;
use crate::durable::load_automerge;
use crate::storage::backend::DocumentStore;
use crate::storage::{Store, StoreError};

/// How a column is carried across.
#[derive(Debug, Clone, Copy)]
enum Column {
    /// `text` (or NULL).
    Text,
    /// `bigint` (or NULL).
    Int,
}

/// The tables copied as they are, in an order their foreign keys accept, with the columns both
/// schemas share.
const TABLES: &[(&str, &[(&str, Column)])] = {
    use Column::{Int, Text};
    &[
        (
            "users",
            &[
                ("id", Text),
                ("name", Text),
                ("created_at", Int),
                ("deleted_at", Int),
                ("login", Text),
                ("password_hash", Text),
            ],
        ),
        (
            "roles",
            &[("user_id", Text), ("role", Text), ("scope", Text)],
        ),
        (
            "tokens",
            &[
                ("hash", Text),
                ("user_id", Text),
                ("label", Text),
                ("created_at", Int),
                ("expires_at", Int),
                ("revoked_at", Int),
                ("last_used_at", Int),
            ],
        ),
        (
            "invites",
            &[
                ("code_hash", Text),
                ("user_id", Text),
                ("created_at", Int),
                ("expires_at", Int),
                ("used_at", Int),
            ],
        ),
        (
            "neighbourhoods",
            &[
                ("id", Text),
                ("name", Text),
                ("location", Text),
                ("doc_id", Text),
                ("created_at", Int),
            ],
        ),
        (
            "businesses",
            &[
                ("id", Text),
                ("neighbourhood", Text),
                ("name", Text),
                ("trade", Text),
                ("profile_doc", Text),
                ("joined_at", Int),
                ("left_at", Int),
            ],
        ),
        (
            "documents",
            &[
                ("doc_id", Text),
                ("kind", Text),
                ("neighbourhood", Text),
                ("business", Text),
                ("created_by", Text),
                ("created_at", Int),
                ("title", Text),
            ],
        ),
        (
            "audit",
            &[
                ("change_hash", Text),
                ("doc_id", Text),
                ("user_id", Text),
                ("received_at", Int),
            ],
        ),
        (
            "web_sessions",
            &[
                ("hash", Text),
                ("user_id", Text),
                ("label", Text),
                ("created_at", Int),
                ("expires_at", Int),
                ("last_seen", Int),
                ("revoked_at", Int),
            ],
        ),
        (
            "acts",
            &[
                ("seq", Int),
                ("at", Int),
                ("user_id", Text),
                ("action", Text),
                ("subject", Text),
                ("detail", Text),
            ],
        ),
        (
            "calendar_feeds",
            &[("user_id", Text), ("hash", Text), ("created_at", Int)],
        ),
        (
            "calendar_sequences",
            &[
                ("uid", Text),
                ("fingerprint", Text),
                ("sequence", Int),
                ("event_date", Text),
            ],
        ),
    ]
};

/// What a migration copied and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Rows per table (chunks included), in copy order.
    pub rows: Vec<(String, usize)>,
    /// Documents loaded from both databases with the same heads.
    pub documents_checked: usize,
    /// The storage id both now present.
    pub storage_id: String,
}

/// Why a migration stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Either database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// PostgreSQL.
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    /// A pooled connection.
    #[error(transparent)]
    Pool(#[from] deadpool_postgres::PoolError),
    /// SQLite.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The target already holds data: nothing was copied.
    #[error("the PostgreSQL database is not empty ({0}); migrate into a new one")]
    NotEmpty(String),
    /// A value of an unexpected type in the source.
    #[error("{table}.{column}: a value that is not {expected}")]
    Type {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// A document loads differently (or not at all) after the copy.
    #[error("document {0} does not load with the same heads from PostgreSQL")]
    Mismatch(String),
}

/// One value bound to a PostgreSQL parameter.
#[derive(Debug)]
enum Param {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Param {
    fn of(
        value: Value,
        kind: Column,
        table: &'static str,
        column: &'static str,
    ) -> Result<Param, ImportError> {
        let wrong = |expected| ImportError::Type {
            table,
            column,
            expected,
        };
        Ok(match (kind, value) {
            (Column::Text, Value::Null) => Param::Text(None),
            (Column::Text, Value::Text(t)) => Param::Text(Some(super::documents::pg_text(t))),
            (Column::Int, Value::Null) => Param::Int(None),
            (Column::Int, Value::Integer(i)) => Param::Int(Some(i)),
            (Column::Text, _) => return Err(wrong("text")),
            (Column::Int, _) => return Err(wrong("an integer")),
        })
    }

    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Text(t) => t,
            Param::Int(i) => i,
        }
    }
}

/// Copies `source` into the empty database behind `pool`, in one transaction, and checks every
/// document through `target` (a store on the same database).
///
/// # Errors
/// [`ImportError::NotEmpty`] when the target holds documents or users (nothing copied); a
/// failed statement (everything rolled back); [`ImportError::Mismatch`] when a document does
/// not load the same (the copy is committed: compare, and drop the database to start over).
pub async fn import_sqlite(
    source: &Store,
    pool: &Pool,
    target: &dyn DocumentStore,
) -> Result<Imported, ImportError> {
    let mut client = pool.get().await?;
    let present: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM users)",
            &[],
        )
        .await?
        .get(0);
    if present > 0 {
        return Err(ImportError::NotEmpty(format!(
            "{present} documents and users"
        )));
    }
    let tx = client.transaction().await?;
    let mut rows = Vec::new();
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let select = format!("SELECT {} FROM {table}", names.join(", "));
        let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let insert = tx
            .prepare(&format!(
                "INSERT INTO {table}({}) VALUES ({})",
                names.join(", "),
                placeholders.join(", ")
            ))
            .await?;
        let mut stmt = source.conn().prepare(&select)?;
        let mut source_rows = stmt.query([])?;
        let mut count = 0;
        while let Some(row) = source_rows.next()? {
            let mut params = Vec::with_capacity(columns.len());
            for (i, (column, kind)) in columns.iter().enumerate() {
                params.push(Param::of(row.get::<_, Value>(i)?, *kind, table, column)?);
            }
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
            tx.execute(&insert, &refs).await?;
            count += 1;
        }
        rows.push(((*table).to_owned(), count));
        if *table == "documents" {
            rows.push(("chunks".to_owned(), copy_chunks(source, &tx).await?));
        }
    }
    // The acts' sequence goes on after the copied ones.
    tx.execute(
        "SELECT setval(pg_get_serial_sequence('acts', 'seq'), GREATEST((SELECT MAX(seq) FROM acts), 1))",
        &[],
    )
    .await?;
    // Settings: the storage id (devices keep their sync state), the directory version, the
    // demo's marks; SQLite's feed version means nothing here.
    let mut stmt = source
        .conn()
        .prepare("SELECT key, value FROM meta WHERE key <> 'feed_version'")?;
    let meta: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (key, value) in &meta {
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[key, value],
        )
        .await?;
    }
    rows.push(("meta".to_owned(), meta.len()));
    tx.commit().await?;

    let mut checked = 0;
    for record in source.records()? {
        let before = source
            .load(&record.doc_id)?
            .and_then(|d| load_automerge(&d.bytes).ok())
            .map(|d| d.get_heads());
        let after = target
            .load(&record.doc_id)
            .await?
            .and_then(|d| load_automerge(&d.bytes).ok())
            .map(|d| d.get_heads());
        if before != after {
            return Err(ImportError::Mismatch(record.doc_id));
        }
        checked += 1;
    }
    Ok(Imported {
        rows,
        documents_checked: checked,
        storage_id: target.storage_id().await?,
    })
}

/// Every chunk as stored (snapshots and incremental changes, in order), keyed by its hash.
async fn copy_chunks(
    source: &Store,
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<usize, ImportError> {
    let insert = tx
        .prepare(
            "INSERT INTO chunks(doc_id, hash, is_snapshot, bytes, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (doc_id, hash) DO NOTHING",
        )
        .await?;
    let mut stmt = source
        .conn()
        .prepare("SELECT doc_id, is_snapshot, bytes, created_at FROM chunks ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        let doc_id: String = row.get(0)?;
        let is_snapshot = row.get::<_, i64>(1)? != 0;
        let bytes: Vec<u8> = row.get(2)?;
        let created_at: i64 = row.get(3)?;
        tx.execute(
            &insert,
            &[&doc_id, &hash(&bytes), &is_snapshot, &bytes, &created_at],
        )
        .await?;
        count += 1;
    }
    Ok(count)
}
