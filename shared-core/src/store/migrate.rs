//! Numbered migrations of the local store, each in one transaction; the version is kept in
//! `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0001_local.sql")];

/// Brings the database to the newest schema; refuses one written by a newer app.
pub(super) fn run(conn: &mut Connection) -> Result<(), StoreError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as u32;
    if current > known {
        return Err(StoreError::NewerSchema {
            found: current,
            known,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as u32 + 1;
        let fail = |source| StoreError::Migrate { version, source };
        let tx = conn.transaction().map_err(fail)?;
        tx.execute_batch(sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", version)
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
    Ok(())
}
