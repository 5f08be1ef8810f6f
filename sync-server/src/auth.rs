//! Device tokens: 256 random bits given to the device once, stored only as SHA-256.

use rusqlite::{OptionalExtension, params};

use sha2::{Digest, Sha256};

use crate::access::Principal;
use crate::storage::{Store, StoreError};

/// A new token: 256 random bits as 64 hex characters.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Why a token does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not a token of this server (unknown, malformed).
    Unknown,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
    /// Its user was deleted.
    UserDeleted,
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
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
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
        if deleted.is_some() {
            return Ok(Err(TokenRejection::UserDeleted));
        }
        if revoked.is_some() {
            return Ok(Err(TokenRejection::Revoked));
        }
        if expires.is_some_and(|e| e <= now_ms) {
            return Ok(Err(TokenRejection::Expired));
        }
        Ok(Ok(Principal {
            user_id,
            token_hash: token_hash(token),
        }))
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

#[cfg(test)]
mod tests {
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

/// A new invite code: 128 random bits, base58 (easy to type from a letter).
pub fn new_invite_code() -> String {
    let bytes: [u8; 16] = rand::random();
    bs58::encode(bytes).into_string()
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
        let user: Option<String> = tx
            .query_row(
                "SELECT i.user_id FROM invites i JOIN users u ON u.id = i.user_id
                 WHERE i.code_hash = ?1 AND i.used_at IS NULL AND i.expires_at > ?2 AND u.deleted_at IS NULL",
                params![token_hash(code.trim()), now_ms],
                |r| r.get(0),
            )
            .optional()?;
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
