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

/// Argon2 runs at most this many at once: each takes 19 MiB and a core for tens of
/// milliseconds, so a flood of sign-ins cannot take the memory or the blocking threads that
/// sessions and sync share.
pub const AT_ONCE: usize = 2;
/// How long a request waits for a free hasher before it is answered "busy".
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// No hasher came free within [`WAIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every password hasher is busy")]
pub struct Busy;

/// The bounded set of password hashers.
#[derive(Debug)]
pub struct Hashers(std::sync::Arc<tokio::sync::Semaphore>);

impl Default for Hashers {
    fn default() -> Self {
        Hashers(std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE)))
    }
}

impl Hashers {
    /// Runs `work` (a hash or a verification) on a blocking thread once a hasher is free.
    ///
    /// # Errors
    /// [`Busy`] when none came free within [`WAIT`], or the work panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let permit = tokio::time::timeout(WAIT, std::sync::Arc::clone(&self.0).acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        // The permit goes with the work: a client that hangs up does not free it early.
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|_| Busy)
    }
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

    #[tokio::test]
    async fn no_more_than_two_hashers_run_at_once() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hashers = Arc::new(Hashers::default());
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (h, r, m) = (hashers.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    h.run(move || {
                        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(now, Ordering::SeqCst);
                        verify("korrekt pferd batterie", None);
                        r.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(()));
        }
        assert_eq!(most.load(Ordering::SeqCst), AT_ONCE);
    }

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
