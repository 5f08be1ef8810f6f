//! The gate for unauthenticated input: token checks (every sync upgrade and API call) and
//! enrolments. Their format is checked before anything is locked; what passes is looked up on
//! a database connection of their own, never the one the hub loads documents with; and
//! failures are rate-limited per client address (429 with `Retry-After`), so guessing costs
//! only the guesser.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;

use crate::limiter::{Limiter, PER_ADDRESS, client_address, monotonic_ms};

/// Token checks and enrolments.
#[derive(Debug)]
pub struct AuthGate {
    /// Enrolments (invitations used up for device tokens), on a connection of their own.
    pub enrolment: Arc<dyn crate::storage::web::WebStore>,
    /// The access data for token checks and the directory version (on SQLite a connection of
    /// their own; on PostgreSQL the web's pool, apart from the writer's).
    pub access: Arc<dyn crate::storage::backend::AccessStore>,
    limiter: Mutex<Limiter>,
    trust_proxy_headers: bool,
    /// How long a token lives after it was issued or last used.
    pub token_ttl_ms: i64,
    /// When each token was last renewed here (bounded), so that a check writes at most once
    /// a minute per token instead of taking the write lock on every call.
    renewed: Mutex<std::collections::HashMap<String, i64>>,
}

/// Most tokens remembered as renewed; past it the memory starts over.
const MAX_RENEWED: usize = 10_000;

/// Whether `token` has the shape of a token this server issues (64 hex digits).
pub fn token_shaped(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `code` has the shape of an invite code this server issues (base58, 16 to 32
/// characters).
pub fn invite_shaped(code: &str) -> bool {
    (16..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'))
}

impl AuthGate {
    /// A gate enrolling through `enrolment`; `trust_proxy_headers` as the server's flag; tokens
    /// it issues or sees in use live `token_ttl_ms` from then.
    pub fn new(
        access: Arc<dyn crate::storage::backend::AccessStore>,
        enrolment: Arc<dyn crate::storage::web::WebStore>,
        trust_proxy_headers: bool,
        token_ttl_ms: i64,
    ) -> Self {
        AuthGate {
            access,
            enrolment,
            limiter: Mutex::new(Limiter::default()),
            trust_proxy_headers,
            token_ttl_ms,
            renewed: Mutex::default(),
        }
    }

    /// Whether the token with `hash` is due for its use to be recorded (and it is renewed)
    /// at `now_ms`: at most once a minute per token.
    pub fn renewal_due(&self, hash: &str, now_ms: i64) -> bool {
        let Ok(mut renewed) = self.renewed.lock() else {
            return true;
        };
        if renewed.get(hash).is_some_and(|at| now_ms - at < 60_000) {
            return false;
        }
        if renewed.len() >= MAX_RENEWED {
            renewed.clear();
        }
        renewed.insert(hash.to_owned(), now_ms);
        true
    }

    /// The limiter key of a request's client.
    pub fn key(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
        format!(
            "auth:{}",
            client_address(headers, peer, self.trust_proxy_headers)
        )
    }

    /// How long the client of `key` must wait before its next attempt, if at all.
    pub fn wait(&self, key: &str) -> Option<Duration> {
        self.limiter
            .lock()
            .ok()
            .and_then(|mut l| l.check(&[(key, PER_ADDRESS)], monotonic_ms()))
    }

    /// Counts a failed attempt of the client of `key`.
    pub fn failed(&self, key: &str) {
        if let Ok(mut l) = self.limiter.lock() {
            l.fail(&[(key, PER_ADDRESS)], monotonic_ms());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Store;

    #[test]
    fn shapes_are_checked_before_any_lookup() {
        assert!(token_shaped(&crate::auth::new_token()));
        assert!(!token_shaped("abc"));
        assert!(!token_shaped(&"g".repeat(64)));
        assert!(!token_shaped(&"a".repeat(65)));
        assert!(invite_shaped(&crate::auth::new_invite_code()));
        assert!(!invite_shaped("short"));
        assert!(!invite_shaped(&"x".repeat(5000)));
        assert!(!invite_shaped("0OIl0OIl0OIl0OIl0OIl"));
    }

    #[test]
    fn failures_of_one_address_make_it_wait_and_spare_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Mutex::new(
            Store::open(&dir.path().join("db.sqlite3")).unwrap(),
        ));
        let gate = AuthGate::new(
            Arc::new(crate::storage::sqlite::SqliteAccess::new(Arc::clone(&db))),
            Arc::new(crate::storage::sqlite_web::SqliteWeb::new(db)),
            false,
            1000,
        );
        let peer = |ip: &str| Some(format!("{ip}:1234").parse().unwrap());
        let bad = gate.key(&HeaderMap::new(), peer("10.0.0.9"));
        for _ in 0..PER_ADDRESS {
            assert!(gate.wait(&bad).is_none());
            gate.failed(&bad);
        }
        assert!(gate.wait(&bad).is_some());
        let good = gate.key(&HeaderMap::new(), peer("10.0.0.10"));
        assert!(gate.wait(&good).is_none());
    }
}
