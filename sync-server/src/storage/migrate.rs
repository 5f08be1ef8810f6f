//! Numbered migrations, embedded and applied in one transaction each; the version is kept in
//! `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// The migrations in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_directory.sql"),
    include_str!("../../migrations/0003_web.sql"),
    include_str!("../../migrations/0004_documents_by_owner.sql"),
    include_str!("../../migrations/0005_calendar_feeds.sql"),
    include_str!("../../migrations/0006_calendar_event_dates.sql"),
];

/// Brings the database to the newest schema. Safe when several processes open the database
/// at once (the server starting while an admin command runs): each migration runs in an
/// immediate (write-locked) transaction that reads the version again inside it.
pub(super) fn run(conn: &mut Connection) -> Result<(), StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index as u32 + 1;
        let fail = |source| StoreError::Migrate { version, source };
        super::retry_while_busy(|| conn.execute_batch("BEGIN IMMEDIATE")).map_err(fail)?;
        let applied = (|| {
            let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if current < version {
                conn.execute_batch(sql)?;
                conn.pragma_update(None, "user_version", version)?;
            }
            conn.execute_batch("COMMIT")
        })();
        if let Err(source) = applied {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(fail(source));
        }
    }
    Ok(())
}

/// The newest schema version.
#[cfg(test)]
pub(crate) fn latest() -> u32 {
    MIGRATIONS.len() as u32
}
