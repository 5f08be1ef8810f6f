//! Passwords: argon2id (the RustCrypto `argon2` crate's defaults: 19 MiB, 2 passes, one lane,
//! OWASP's recommendation), stored as PHC strings. Hashing and verifying run on blocking
//! threads; an unknown login is verified against a fixed hash so its answer takes as long.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Fewest characters of a password.
pub const MIN_LEN: usize = 10;
/// Most characters of a password (argon2 takes any length; a bound keeps the input small).
pub const MAX_LEN: usize = 200;

/// Why a password was not accepted or not hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_LEN`].
    #[error("the password is too short")]
    TooShort,
    /// Longer than [`MAX_LEN`].
    #[error("the password is too long")]
    TooLong,
    /// The hasher failed.
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Checks the length rules.
///
/// # Errors
/// [`PasswordError::TooShort`] or [`PasswordError::TooLong`].
pub fn check(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_LEN {
        Err(PasswordError::TooShort)
    } else if n > MAX_LEN {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// The PHC string of `password` with a fresh salt.
///
/// # Errors
/// The length rules, or a hasher failure.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A hash no password matches, verified for unknown logins so that they cost the same time.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        Argon2::default()
            .hash_password(crate::auth::new_token().as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Whether `password` matches `stored` (a PHC string); `None` verifies against the decoy and
/// answers `false`.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    if password.len() > MAX_LEN * 4 {
        return false;
    }
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (decoy(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("korrekt pferd batterie").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("korrekt pferd batterie", Some(&h)));
        assert!(!verify("korrekt pferd batteri", Some(&h)));
        assert!(!verify("korrekt pferd batterie", None));
        assert!(!verify("x", Some("not a phc string")));
        assert_eq!(hash("short"), Err(PasswordError::TooShort));
        assert_eq!(hash(&"x".repeat(201)), Err(PasswordError::TooLong));
    }
}
