//! Device tokens over their life: they expire (180 days by default) and are renewed by use, so
//! a device in use never meets its expiry and a lost one stops working on its own; an admin
//! lists a user's tokens by id (a prefix of the stored hash, never the secret) and revokes one.

use rusqlite::params;

use crate::storage::{Store, StoreError};

/// Days a token lives after it was issued or last used, unless configured otherwise.
pub const DEFAULT_TTL_DAYS: u64 = 180;

/// Characters of the stored hash that name a token.
const ID_LEN: usize = 16;

/// Milliseconds of `days`.
pub fn days_ms(days: u64) -> i64 {
    i64::try_from(days.saturating_mul(86_400_000)).unwrap_or(i64::MAX)
}

/// What an admin sees of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Its id: the first characters of its stored hash.
    pub id: String,
    /// Its label (the device).
    pub label: String,
    /// When it was issued.
    pub created_at: i64,
    /// When it was last used.
    pub last_used_at: Option<i64>,
    /// When it expires (`None`: never).
    pub expires_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

impl TokenInfo {
    /// `active`, `expired` or `revoked` at `now_ms`.
    pub fn state(&self, now_ms: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.is_some_and(|e| e <= now_ms) {
            "expired"
        } else {
            "active"
        }
    }
}

impl Store {
    /// Notes that a device token was used (a connection or an API call) and renews it to
    /// `renew_until` (a token without expiry keeps none), at most once a minute per token.
    ///
    /// # Errors
    /// On a database error.
    pub fn token_used(
        &self,
        token_hash: &str,
        now_ms: i64,
        renew_until: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE tokens SET last_used_at = ?2,
                    expires_at = CASE WHEN expires_at IS NULL THEN NULL ELSE MAX(expires_at, ?3) END
             WHERE hash = ?1 AND revoked_at IS NULL
               AND (last_used_at IS NULL OR last_used_at < ?2 - 60000)",
            params![token_hash, now_ms, renew_until],
        )?;
        Ok(())
    }

    /// The tokens of a user, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub fn tokens_of(&self, user_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT substr(hash, 1, ?2), label, created_at, last_used_at, expires_at, revoked_at
             FROM tokens WHERE user_id = ?1 ORDER BY created_at DESC",
        )?;
        let rows = stmt.query_map(params![user_id, ID_LEN as i64], |r| {
            Ok(TokenInfo {
                id: r.get(0)?,
                label: r.get(1)?,
                created_at: r.get(2)?,
                last_used_at: r.get(3)?,
                expires_at: r.get(4)?,
                revoked_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes the active token with this id; returns whether there was one. Open connections
    /// with it are closed (4401) within seconds.
    ///
    /// # Errors
    /// On a database error.
    pub fn revoke_token_id(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        if id.len() != ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let n = self.conn().execute(
            "UPDATE tokens SET revoked_at = ?2
             WHERE substr(hash, 1, ?3) = ?1 AND revoked_at IS NULL",
            params![id.to_ascii_lowercase(), now_ms, ID_LEN as i64],
        )?;
        if n > 0 {
            self.bump_directory()?;
        }
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_by_use_listed_by_id_and_revoked_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        let user = store.add_user("Petra", 0).unwrap();
        let ttl = days_ms(DEFAULT_TTL_DAYS);
        let token = store.issue_token(&user, "phone", Some(ttl), 0).unwrap();
        let hash = crate::auth::token_hash(&token);
        // Used on day 100: good until day 280.
        let day = days_ms(1);
        store.token_used(&hash, 100 * day, 100 * day + ttl).unwrap();
        assert!(
            store
                .principal_for_token(&token, 279 * day)
                .unwrap()
                .is_ok()
        );
        assert!(
            store
                .principal_for_token(&token, 281 * day)
                .unwrap()
                .is_err()
        );
        // Unused: it expires on its own.
        let idle = store.issue_token(&user, "lost", Some(ttl), 0).unwrap();
        assert!(
            store
                .principal_for_token(&idle, 181 * day)
                .unwrap()
                .is_err()
        );

        let listed = store.tokens_of(&user).unwrap();
        assert_eq!(listed.len(), 2);
        let phone = listed.iter().find(|t| t.label == "phone").unwrap();
        assert_eq!(phone.id, hash[..ID_LEN]);
        assert_eq!(phone.last_used_at, Some(100 * day));
        assert_eq!(phone.expires_at, Some(100 * day + ttl));
        assert_eq!(phone.state(200 * day), "active");
        assert!(
            !listed.iter().any(|t| t.id.contains(&token)),
            "no secret shown"
        );

        assert!(!store.revoke_token_id("nonsense", 1).unwrap());
        assert!(store.revoke_token_id(&phone.id, 200 * day).unwrap());
        assert!(
            !store.revoke_token_id(&phone.id, 200 * day).unwrap(),
            "once"
        );
        assert!(
            store
                .principal_for_token(&token, 200 * day)
                .unwrap()
                .is_err()
        );
        // A revoked token is not renewed by a late use.
        store.token_used(&hash, 201 * day, 201 * day + ttl).unwrap();
        let phone = store
            .tokens_of(&user)
            .unwrap()
            .into_iter()
            .find(|t| t.label == "phone")
            .unwrap();
        assert_eq!(phone.state(201 * day), "revoked");
        assert_eq!(phone.expires_at, Some(100 * day + ttl));
    }
}
