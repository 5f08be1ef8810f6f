//! Numbered PostgreSQL migrations, embedded; each runs in its own transaction under one
//! transaction-scoped advisory lock, and reads the applied version again inside it, so nodes
//! that start together apply every migration once.

use super::StoreError;

/// The migrations in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_documents.sql"),
    include_str!("../../../migrations/postgres/0002_directory.sql"),
    include_str!("../../../migrations/postgres/0003_chunk_origin.sql"),
];

/// The advisory lock key of migrations (any fixed number; "nachbar" in ASCII, shortened).
const MIGRATION_LOCK: i64 = 0x006e_6163_6862_6172;

/// The newest schema version this build knows.
pub const LATEST: usize = MIGRATIONS.len();

pub(super) async fn run(client: &mut tokio_postgres::Client) -> Result<(), StoreError> {
    // The bookkeeping table too is made under the lock: two sessions racing on
    // `CREATE TABLE IF NOT EXISTS` can both pass the check, and one then fails on the catalogue.
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS nachbar_migrations (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    tx.commit().await?;
    let newest: Option<i32> = client
        .query_one("SELECT MAX(version) FROM nachbar_migrations", &[])
        .await?
        .get(0);
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if let Some(newest) = newest.filter(|v| *v > known) {
        return Err(StoreError::PgConfig(format!(
            "the database has schema version {newest}, newer than this server's {known}: \
             upgrade this node (a rolling upgrade starts the new version first)"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        let fail = |source| StoreError::PgMigrate { version, source };
        let tx = client.transaction().await.map_err(fail)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(fail)?;
        let applied = tx
            .query_opt(
                "SELECT 1 FROM nachbar_migrations WHERE version = $1",
                &[&version],
            )
            .await
            .map_err(fail)?
            .is_some();
        if !applied {
            tx.batch_execute(sql).await.map_err(fail)?;
            tx.execute(
                "INSERT INTO nachbar_migrations(version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)?;
    }
    Ok(())
}
