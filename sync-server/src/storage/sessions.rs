//! Sign-in names, password hashes and browser sessions of the web app, and the audit of
//! directory acts.
//!
//! A session's secret lives only in the browser's cookie; the database keeps its SHA-256, like
//! device tokens.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::auth::token_hash;

/// A user as the web app signs them in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The directory id.
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// The login name, if one is set.
    pub login: Option<String>,
    /// The argon2id hash (PHC string), if a password is set.
    pub password_hash: Option<String>,
}

/// The user a valid session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// The directory id.
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the session secret (to revoke this session).
    pub session_hash: String,
}

/// One way a user is signed in: a device token or a browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// `device` or `web`.
    pub kind: &'static str,
    /// The device's label or the browser's.
    pub label: String,
    /// When it was created (ms).
    pub created_at: i64,
    /// When it was last used (ms).
    pub last_used: Option<i64>,
    /// A handle to revoke it: the stored hash.
    pub handle: String,
}

fn account(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        user_id: r.get(0)?,
        name: r.get(1)?,
        login: r.get(2)?,
        password_hash: r.get(3)?,
    })
}

impl Store {
    /// The (not deleted) user with this login name.
    ///
    /// # Errors
    /// On a database error.
    pub fn account_by_login(&self, login: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, login, password_hash FROM users
                 WHERE login = ?1 AND deleted_at IS NULL",
                params![login],
                account,
            )
            .optional()?)
    }

    /// A (not deleted) user by id.
    ///
    /// # Errors
    /// On a database error.
    pub fn account(&self, user_id: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, login, password_hash FROM users
                 WHERE id = ?1 AND deleted_at IS NULL",
                params![user_id],
                account,
            )
            .optional()?)
    }

    /// Whether a login name is taken by another user.
    ///
    /// # Errors
    /// On a database error.
    pub fn login_taken(&self, login: &str, except_user: &str) -> Result<bool, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM users WHERE login = ?1 AND id <> ?2",
            params![login, except_user],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Sets a user's login name and password hash, and ends the user's open browser
    /// sessions (whoever knew the old password is signed out).
    ///
    /// # Errors
    /// On a database error (e.g. the login is taken).
    pub fn set_credentials(
        &self,
        user_id: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE users SET login = ?2, password_hash = ?3 WHERE id = ?1 AND deleted_at IS NULL",
            params![user_id, login, password_hash],
        )?;
        end_sessions_of(self.conn(), user_id, now_ms)?;
        Ok(n > 0)
    }

    /// Starts a browser session for `user_id`; returns the cookie's secret (stored hashed).
    ///
    /// # Errors
    /// On a database error.
    pub fn create_session(
        &self,
        user_id: &str,
        label: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let secret = crate::auth::new_token();
        self.conn().execute(
            "INSERT INTO web_sessions(hash, user_id, label, created_at, expires_at, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?4)",
            params![token_hash(&secret), user_id, label, now_ms, expires_at],
        )?;
        Ok(secret)
    }

    /// The user of a session secret, if the session is valid at `now_ms` (not expired, not
    /// revoked, its user not deleted); marks it used. A malformed secret is no session.
    ///
    /// # Errors
    /// On a database error.
    pub fn session_user(
        &self,
        secret: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StoreError> {
        if !crate::auth_gate::token_shaped(secret) {
            return Ok(None);
        }
        let hash = token_hash(secret);
        let found = self
            .conn()
            .query_row(
                "SELECT u.id, u.name, s.last_seen FROM web_sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.hash = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2
                   AND u.deleted_at IS NULL",
                params![hash, now_ms],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()?;
        let Some((user_id, name, last_seen)) = found else {
            return Ok(None);
        };
        // One write a minute at most per session, not one per page.
        if now_ms - last_seen > 60_000 {
            self.conn().execute(
                "UPDATE web_sessions SET last_seen = ?2 WHERE hash = ?1",
                params![hash, now_ms],
            )?;
        }
        Ok(Some(SessionUser {
            user_id,
            name,
            session_hash: hash,
        }))
    }

    /// Ends one session by its stored hash; returns whether it was active.
    ///
    /// # Errors
    /// On a database error.
    pub fn revoke_session(&self, hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE web_sessions SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
            params![hash, now_ms],
        )?;
        Ok(n > 0)
    }

    /// Ends a user's access by a handle from [`Store::accesses_of`]: a browser session or a
    /// device token of that user. Returns whether something was ended.
    ///
    /// # Errors
    /// On a database error.
    pub fn revoke_access(
        &self,
        user_id: &str,
        handle: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sessions = self.conn().execute(
            "UPDATE web_sessions SET revoked_at = ?3 WHERE hash = ?1 AND user_id = ?2 AND revoked_at IS NULL",
            params![handle, user_id, now_ms],
        )?;
        let tokens = self.conn().execute(
            "UPDATE tokens SET revoked_at = ?3 WHERE hash = ?1 AND user_id = ?2 AND revoked_at IS NULL",
            params![handle, user_id, now_ms],
        )?;
        if tokens > 0 {
            self.bump_directory()?;
        }
        Ok(sessions + tokens > 0)
    }

    /// The active device tokens and browser sessions of a user, newest use first.
    ///
    /// # Errors
    /// On a database error.
    pub fn accesses_of(&self, user_id: &str, now_ms: i64) -> Result<Vec<Access>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT 'device', label, created_at, last_used_at, hash FROM tokens
               WHERE user_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)
             UNION ALL
             SELECT 'web', label, created_at, last_seen, hash FROM web_sessions
               WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
             ORDER BY 4 DESC",
        )?;
        let rows = stmt.query_map(params![user_id, now_ms], |r| {
            let kind: String = r.get(0)?;
            Ok(Access {
                kind: if kind == "web" { "web" } else { "device" },
                label: r.get(1)?,
                created_at: r.get(2)?,
                last_used: r.get(3)?,
                handle: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a directory act in the audit.
    ///
    /// # Errors
    /// On a database error.
    pub fn record_act(
        &self,
        user_id: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO acts(at, user_id, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms, user_id, action, subject, detail],
        )?;
        Ok(())
    }

    /// The acts recorded about `subject` (for tests and the audit view), oldest first:
    /// (user, action, detail).
    ///
    /// # Errors
    /// On a database error.
    pub fn acts_about(&self, subject: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT user_id, action, detail FROM acts WHERE subject = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![subject], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// What setting credentials with an invitation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteOutcome {
    /// The user can sign in now.
    Done(String),
    /// The code is unknown, used or expired.
    Invalid,
    /// Another user has this login name.
    LoginTaken,
}

impl Store {
    /// The user (id, name) an unused, unexpired invitation is for.
    ///
    /// # Errors
    /// On a database error.
    pub fn invite_user(
        &self,
        code: &str,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT u.id, u.name FROM invites i JOIN users u ON u.id = i.user_id
                 WHERE i.code_hash = ?1 AND i.used_at IS NULL AND i.expires_at > ?2 AND u.deleted_at IS NULL",
                params![token_hash(code.trim()), now_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Uses up an invitation to set the user's login name and password hash, in one
    /// transaction.
    ///
    /// # Errors
    /// On a database error.
    pub fn accept_invite(
        &mut self,
        code: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<InviteOutcome, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let user = super::tokens::invited_user(&tx, code, now_ms)?;
        let Some(user) = user else {
            return Ok(InviteOutcome::Invalid);
        };
        let taken: i64 = tx.query_row(
            "SELECT COUNT(*) FROM users WHERE login = ?1 AND id <> ?2",
            params![login, user],
            |r| r.get(0),
        )?;
        if taken > 0 {
            return Ok(InviteOutcome::LoginTaken);
        }
        tx.execute(
            "UPDATE invites SET used_at = ?2 WHERE code_hash = ?1",
            params![token_hash(code.trim()), now_ms],
        )?;
        tx.execute(
            "UPDATE users SET login = ?2, password_hash = ?3 WHERE id = ?1",
            params![user, login, password_hash],
        )?;
        end_sessions_of(&tx, &user, now_ms)?;
        tx.execute(
            "INSERT INTO acts(at, user_id, action, subject, detail) VALUES (?1, ?2, 'invite.accept', ?2, 'web')",
            params![now_ms, user],
        )?;
        tx.commit()?;
        Ok(InviteOutcome::Done(user))
    }
}

/// Ends every open browser session of `user_id` (its credentials changed).
fn end_sessions_of(
    conn: &rusqlite::Connection,
    user_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE web_sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![user_id, now_ms],
    )?;
    Ok(())
}
