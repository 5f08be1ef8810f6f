//! The tokens and invites in the database: device tokens (stored as SHA-256 of the secret)
//! checked, issued, renewed by use, listed by id and revoked; users and their roles as token
//! checks see them; invites enrolled once.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::access::Principal;
use crate::auth::{TokenRejection, new_invite_code, new_token, token_hash};
use crate::tokens::{ID_LEN, TokenInfo};

/// The user an unused, unexpired invite `code` is for (not deleted), read inside `tx`.
pub(super) fn invited_user(
    tx: &rusqlite::Transaction<'_>,
    code: &str,
    now_ms: i64,
) -> Result<Option<String>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT i.user_id FROM invites i JOIN users u ON u.id = i.user_id
             WHERE i.code_hash = ?1 AND i.used_at IS NULL AND i.expires_at > ?2 AND u.deleted_at IS NULL",
            params![token_hash(code.trim()), now_ms],
            |r| r.get(0),
        )
        .optional()?)
}

/// A token row: user, expiry, revocation, user deletion.
type TokenRow = (String, Option<i64>, Option<i64>, Option<i64>);

impl Store {
    /// The user a token authenticates at `now_ms`, with the user's roles.
    ///
    /// # Errors
    /// On a database error.
    pub fn principal_for_token(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Result<Principal, TokenRejection>, StoreError> {
        if !crate::auth_gate::token_shaped(token) {
            return Ok(Err(TokenRejection::Unknown));
        }
        let row: Option<TokenRow> = self
            .conn()
            .query_row(
                "SELECT t.user_id, t.expires_at, t.revoked_at, u.deleted_at
                 FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
                params![token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((user_id, expires, revoked, deleted)) = row else {
            return Ok(Err(TokenRejection::Unknown));
        };
        Ok(crate::auth::token_verdict(
            user_id,
            token_hash(token),
            expires,
            revoked,
            deleted,
            now_ms,
        ))
    }

    /// The (role, scope) assignments of a user.
    ///
    /// # Errors
    /// On a database error.
    pub fn roles_of(&self, user_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT role, scope FROM roles WHERE user_id = ?1 ORDER BY role, scope",
        )?;
        let rows = stmt.query_map(params![user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The id of the (not deleted) user with this exact name, if any.
    ///
    /// # Errors
    /// On a database error.
    pub fn user_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM users WHERE name = ?1 AND deleted_at IS NULL ORDER BY created_at LIMIT 1", params![name], |r| r.get(0))
            .optional()?)
    }

    /// Adds a user; returns the new id.
    ///
    /// # Errors
    /// On a database error.
    pub fn add_user(&self, name: &str, now_ms: i64) -> Result<String, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.conn().execute(
            "INSERT INTO users(id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, name, now_ms],
        )?;
        Ok(id)
    }

    /// Grants a role in a scope ('' for global roles).
    ///
    /// # Errors
    /// On a database error (e.g. unknown user).
    pub fn grant_role(&self, user_id: &str, role: &str, scope: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO roles(user_id, role, scope) VALUES (?1, ?2, ?3)",
            params![user_id, role, scope],
        )?;
        self.bump_directory()
    }

    /// Issues a token for a user; returns the secret (shown once, stored only as a hash).
    ///
    /// # Errors
    /// On a database error (e.g. unknown user).
    pub fn issue_token(
        &self,
        user_id: &str,
        label: &str,
        expires_at: Option<i64>,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let token = new_token();
        self.conn().execute(
            "INSERT INTO tokens(hash, user_id, label, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash(&token), user_id, label, now_ms, expires_at],
        )?;
        Ok(token)
    }

    /// Revokes a token; returns whether it existed.
    ///
    /// # Errors
    /// On a database error.
    pub fn revoke_token(&self, token: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
            params![token_hash(token), now_ms],
        )?;
        self.bump_directory()?;
        Ok(n > 0)
    }
}

impl Store {
    /// Creates an invite for a user, valid until `expires_at`; returns the code (shown once).
    ///
    /// # Errors
    /// On a database error (e.g. unknown user).
    pub fn create_invite(
        &self,
        user_id: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let code = new_invite_code();
        self.conn().execute(
            "INSERT INTO invites(code_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash(&code), user_id, now_ms, expires_at],
        )?;
        Ok(code)
    }

    /// Turns an unused, unexpired invite code into a device token expiring at
    /// `token_expires_at` (the code is used up).
    /// Returns `None` for a code that does not enrol.
    ///
    /// # Errors
    /// On a database error.
    pub fn enroll(
        &mut self,
        code: &str,
        label: &str,
        token_expires_at: i64,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let user = super::tokens::invited_user(&tx, code, now_ms)?;
        let Some(user) = user else { return Ok(None) };
        tx.execute(
            "UPDATE invites SET used_at = ?2 WHERE code_hash = ?1",
            params![token_hash(code.trim()), now_ms],
        )?;
        let token = new_token();
        tx.execute(
            "INSERT INTO tokens(hash, user_id, label, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash(&token), user, label, now_ms, token_expires_at],
        )?;
        tx.commit()?;
        Ok(Some((user, token)))
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
mod token_tests {
    use super::*;

    #[test]
    fn tokens_authenticate_until_expired_revoked_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        let user = store.add_user("Sandra", 0).unwrap();
        store.grant_role(&user, "sandbox", "").unwrap();
        let token = store.issue_token(&user, "laptop", Some(10_000), 0).unwrap();
        assert_eq!(token.len(), 64);
        let p = store.principal_for_token(&token, 5_000).unwrap().unwrap();
        assert_eq!(p.user_id, user);
        assert_eq!(p.token_hash, token_hash(&token));
        assert_eq!(
            store.roles_of(&user).unwrap(),
            [("sandbox".to_owned(), String::new())]
        );
        assert_eq!(
            store.principal_for_token(&token, 10_000).unwrap(),
            Err(TokenRejection::Expired)
        );
        assert_eq!(
            store.principal_for_token(&new_token(), 0).unwrap(),
            Err(TokenRejection::Unknown)
        );
        assert_eq!(
            store.principal_for_token("short", 0).unwrap(),
            Err(TokenRejection::Unknown)
        );
        let forever = store.issue_token(&user, "phone", None, 0).unwrap();
        assert!(store.revoke_token(&forever, 1).unwrap());
        assert_eq!(
            store.principal_for_token(&forever, 2).unwrap(),
            Err(TokenRejection::Revoked)
        );
        let other = store.issue_token(&user, "tablet", None, 0).unwrap();
        store
            .conn()
            .execute(
                "UPDATE users SET deleted_at = 1 WHERE id = ?1",
                params![user],
            )
            .unwrap();
        assert_eq!(
            store.principal_for_token(&other, 2).unwrap(),
            Err(TokenRejection::UserDeleted)
        );
        // The database holds hashes only.
        let stored: i64 = store
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM tokens WHERE hash = ?1",
                params![token],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 0);
    }
}

#[cfg(test)]
mod invite_tests {
    use super::*;

    #[test]
    fn an_invite_enrols_once_and_not_after_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        let user = store.add_user("Olaf", 0).unwrap();
        let code = store.create_invite(&user, 1_000, 0).unwrap();
        assert!(code.len() >= 16);
        let (who, token) = store
            .enroll(&code, "tablet", i64::MAX, 10)
            .unwrap()
            .expect("enrols");
        assert_eq!(who, user);
        assert_eq!(
            store
                .principal_for_token(&token, 20)
                .unwrap()
                .unwrap()
                .user_id,
            user
        );
        assert!(
            store
                .enroll(&code, "again", i64::MAX, 20)
                .unwrap()
                .is_none(),
            "used up"
        );
        let late = store.create_invite(&user, 1_000, 0).unwrap();
        assert!(
            store
                .enroll(&late, "late", i64::MAX, 1_000)
                .unwrap()
                .is_none(),
            "expired"
        );
        assert!(
            store
                .enroll("nonsense", "x", i64::MAX, 0)
                .unwrap()
                .is_none()
        );
    }
}

#[cfg(test)]
mod token_life_tests {
    use super::*;
    use crate::tokens::{DEFAULT_TTL_DAYS, days_ms};

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
