//! Device tokens: 256 random bits given to the device once, stored only as SHA-256 (their
//! rows: `storage::tokens`).

use sha2::{Digest, Sha256};

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

/// A new invite code: 128 random bits, base58 (easy to type from a letter).
pub fn new_invite_code() -> String {
    let bytes: [u8; 16] = rand::random();
    bs58::encode(bytes).into_string()
}

/// What a token's stored row says at `now_ms`: deleted user, then revocation, then expiry.
pub fn token_verdict(
    user_id: String,
    token_hash: String,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    user_deleted_at: Option<i64>,
    now_ms: i64,
) -> Result<crate::access::Principal, TokenRejection> {
    if user_deleted_at.is_some() {
        Err(TokenRejection::UserDeleted)
    } else if revoked_at.is_some() {
        Err(TokenRejection::Revoked)
    } else if expires_at.is_some_and(|e| e <= now_ms) {
        Err(TokenRejection::Expired)
    } else {
        Ok(crate::access::Principal {
            user_id,
            token_hash,
        })
    }
}
