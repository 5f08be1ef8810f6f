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
        if !crate::auth_gate::token_shaped(secret) {
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

    /// The SEQUENCE of each event: 0 the first time, raised by one each time its fingerprint
    /// (time, place, title) differs from the one stored. Reads only, unless an event is new or
    /// changed; then the rows of events dated before `oldest` (ISO date: past every feed's
    /// window) are removed too.
    ///
    /// # Errors
    /// On a database error.
    pub fn calendar_sequences(
        &mut self,
        events: &[SequenceKey],
        oldest: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let unchanged = |rows: &[Option<StoredSequence>]| -> Option<Vec<i64>> {
            rows.iter()
                .zip(events)
                .map(|(row, e)| row.as_ref().filter(|r| r.is_of(e)).map(|r| r.sequence))
                .collect()
        };
        if let Some(sequences) = unchanged(&stored_sequences(self.conn(), events)?) {
            return Ok(sequences);
        }
        // Immediate: the write lock is taken (waiting out other writers) before the reads, so
        // the transaction never has to upgrade a stale read snapshot (SQLITE_BUSY).
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows = stored_sequences(&tx, events)?;
        let mut out = Vec::with_capacity(events.len());
        for (row, e) in rows.iter().zip(events) {
            let sequence = match row {
                Some(r) if r.fingerprint == e.fingerprint => r.sequence,
                Some(r) => r.sequence + 1,
                None => 0,
            };
            if !row.as_ref().is_some_and(|r| r.is_of(e)) {
                tx.execute(
                    "INSERT INTO calendar_sequences(uid, fingerprint, sequence, event_date)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(uid) DO UPDATE SET fingerprint = excluded.fingerprint,
                       sequence = excluded.sequence, event_date = excluded.event_date",
                    params![e.uid, e.fingerprint, sequence, e.date],
                )?;
            }
            out.push(sequence);
        }
        tx.execute(
            "DELETE FROM calendar_sequences WHERE event_date < ?1",
            params![oldest],
        )?;
        tx.commit()?;
        Ok(out)
    }
}

/// A stored row of `calendar_sequences`.
struct StoredSequence {
    fingerprint: String,
    sequence: i64,
    date: String,
}

impl StoredSequence {
    /// Whether the row is current for `event` (a row written before the dates were kept is
    /// not, so it gets its date without losing its sequence).
    fn is_of(&self, event: &SequenceKey) -> bool {
        self.fingerprint == event.fingerprint && self.date == event.date
    }
}

fn stored_sequences(
    conn: &rusqlite::Connection,
    events: &[SequenceKey],
) -> Result<Vec<Option<StoredSequence>>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT fingerprint, sequence, event_date FROM calendar_sequences WHERE uid = ?1",
    )?;
    events
        .iter()
        .map(|e| {
            Ok(q.query_row(params![e.uid], |r| {
                Ok(StoredSequence {
                    fingerprint: r.get(0)?,
                    sequence: r.get(1)?,
                    date: r.get(2)?,
                })
            })
            .optional()?)
        })
        .collect()
}

/// What the store keeps of one calendar event to number its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceKey {
    /// The event's UID.
    pub uid: String,
    /// What must change for a new SEQUENCE (time, place, title).
    pub fingerprint: String,
    /// Its ISO date.
    pub date: String,
}
