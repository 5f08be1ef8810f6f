//! The calendar feeds: one secret URL per user (stored hashed, like tokens and sessions;
//! replaced by a new link, removed on revoke), and the SEQUENCE number of every event the
//! feeds carry.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::auth::token_hash;

impl Store {
    /// Makes a new calendar feed secret for `user_id`, replacing the user's old one (whose
    /// URL stops working at once); returns the secret.
    ///
    /// # Errors
    /// On a database error.
    pub fn create_calendar_feed(&self, user_id: &str, now_ms: i64) -> Result<String, StoreError> {
        let secret = crate::auth::new_token();
        self.conn().execute(
            "INSERT INTO calendar_feeds(user_id, hash, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(user_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
            params![user_id, token_hash(&secret), now_ms],
        )?;
        Ok(secret)
    }

    /// Removes `user_id`'s calendar feed; whether there was one.
    ///
    /// # Errors
    /// On a database error.
    pub fn revoke_calendar_feed(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM calendar_feeds WHERE user_id = ?1",
            params![user_id],
        )? > 0)
    }

    /// When `user_id`'s calendar feed was made, if the user has one.
    ///
    /// # Errors
    /// On a database error.
    pub fn calendar_feed_since(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT created_at FROM calendar_feeds WHERE user_id = ?1",
                params![user_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The (not deleted) user whose feed `secret` opens; a malformed secret opens none.
    ///
    /// # Errors
    /// On a database error.
    pub fn calendar_feed_user(&self, secret: &str) -> Result<Option<String>, StoreError> {
        if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        Ok(self
            .conn()
            .query_row(
                "SELECT f.user_id FROM calendar_feeds f JOIN users u ON u.id = f.user_id
                 WHERE f.hash = ?1 AND u.deleted_at IS NULL",
                params![token_hash(secret)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The SEQUENCE of each event `(uid, fingerprint)`: 0 the first time, raised by one each
    /// time its fingerprint (time, place, title) differs from the one stored.
    ///
    /// # Errors
    /// On a database error.
    pub fn calendar_sequences(
        &mut self,
        events: &[(String, String)],
    ) -> Result<Vec<i64>, StoreError> {
        // Immediate: the write lock is taken (waiting out other writers) before the reads, so
        // the transaction never has to upgrade a stale read snapshot (SQLITE_BUSY).
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(events.len());
        for (uid, fingerprint) in events {
            let stored: Option<(String, i64)> = tx
                .query_row(
                    "SELECT fingerprint, sequence FROM calendar_sequences WHERE uid = ?1",
                    params![uid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let sequence = match stored {
                Some((f, s)) if f == *fingerprint => s,
                Some((_, s)) => {
                    tx.execute(
                        "UPDATE calendar_sequences SET fingerprint = ?2, sequence = ?3 WHERE uid = ?1",
                        params![uid, fingerprint, s + 1],
                    )?;
                    s + 1
                }
                None => {
                    tx.execute(
                        "INSERT INTO calendar_sequences(uid, fingerprint, sequence) VALUES (?1, ?2, 0)",
                        params![uid, fingerprint],
                    )?;
                    0
                }
            };
            out.push(sequence);
        }
        tx.commit()?;
        Ok(out)
    }
}
