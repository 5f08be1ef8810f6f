//! Device tokens over their life: they expire (180 days by default) and are renewed by use, so
//! a device in use never meets its expiry and a lost one stops working on its own; an admin
//! lists a user's tokens by id (a prefix of the stored hash, never the secret) and revokes one
//! (their rows: `storage::tokens`).

/// Days a token lives after it was issued or last used, unless configured otherwise.
pub const DEFAULT_TTL_DAYS: u64 = 180;

/// Characters of the stored hash that name a token.
pub const ID_LEN: usize = 16;

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
