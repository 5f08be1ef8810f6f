//! Rate limits on failed guesses (sign-ins, invitation codes, tokens), per login name and per
//! client address: a token bucket per key that a failure drains and time refills. The table is bounded: past its size, keys whose
//! buckets are full again are forgotten first, then the oldest.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::http::HeaderMap;

/// Failures allowed per login name from one address before a wait (refilled one per
/// [`REFILL`]).
pub const PER_LOGIN: u32 = 5;
/// Failures allowed per login name from all addresses together; checked only for an address
/// that failed for this login before, so that guesses from many addresses cannot lock the
/// account's owner out.
pub const PER_LOGIN_TOTAL: u32 = 50;
/// Failures allowed per address before a wait.
pub const PER_ADDRESS: u32 = 20;
/// One failure is forgiven per this long.
pub const REFILL: Duration = Duration::from_secs(60);
/// Most keys remembered.
pub const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Failures still allowed, times 1000 (for partial refills).
    milli_tokens: u64,
    last_ms: u64,
    capacity: u32,
}

impl Bucket {
    fn refill(&mut self, now_ms: u64) {
        let per_ms = 1000.0 / REFILL.as_millis() as f64;
        let gained = (now_ms.saturating_sub(self.last_ms) as f64 * per_ms) as u64;
        self.milli_tokens = (self.milli_tokens + gained).min(u64::from(self.capacity) * 1000);
        self.last_ms = self.last_ms.max(now_ms);
    }

    fn full(&self) -> bool {
        self.milli_tokens >= u64::from(self.capacity) * 1000
    }

    /// How long until one failure is allowed again.
    fn wait(&self) -> Duration {
        if self.milli_tokens >= 1000 {
            return Duration::ZERO;
        }
        let missing = 1000 - self.milli_tokens;
        Duration::from_millis(missing * REFILL.as_millis() as u64 / 1000 + 1)
    }
}

/// Failed sign-ins (and other guesses: invitation codes) per key.
#[derive(Debug, Default)]
pub struct Limiter {
    buckets: HashMap<String, Bucket>,
}

impl Limiter {
    /// `None` when every key may try now; otherwise how long the caller must wait.
    pub fn check(&mut self, keys: &[(&str, u32)], now_ms: u64) -> Option<Duration> {
        let mut wait = Duration::ZERO;
        for (key, _) in keys {
            if let Some(b) = self.buckets.get_mut(*key) {
                b.refill(now_ms);
                wait = wait.max(b.wait());
            }
        }
        (wait > Duration::ZERO).then_some(wait)
    }

    /// Counts a failure against every key (`(key, capacity)`).
    pub fn fail(&mut self, keys: &[(&str, u32)], now_ms: u64) {
        if self.buckets.len() + keys.len() > MAX_KEYS {
            self.shrink(now_ms);
        }
        for (key, capacity) in keys {
            let b = self.buckets.entry((*key).to_owned()).or_insert(Bucket {
                milli_tokens: u64::from(*capacity) * 1000,
                last_ms: now_ms,
                capacity: *capacity,
            });
            b.refill(now_ms);
            b.milli_tokens = b.milli_tokens.saturating_sub(1000);
        }
    }

    /// Gives back one failure to every key (an attempt counted up front that succeeded).
    pub fn refund(&mut self, keys: &[(&str, u32)], now_ms: u64) {
        for (key, _) in keys {
            if let Some(b) = self.buckets.get_mut(*key) {
                b.refill(now_ms);
                b.milli_tokens = (b.milli_tokens + 1000).min(u64::from(b.capacity) * 1000);
            }
        }
    }

    /// Whether `key` has failures remembered.
    pub fn contains(&self, key: &str) -> bool {
        self.buckets.contains_key(key)
    }

    /// Forgets a key after a success (the login's bucket, not the address's).
    pub fn forget(&mut self, key: &str) {
        self.buckets.remove(key);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    fn shrink(&mut self, now_ms: u64) {
        for b in self.buckets.values_mut() {
            b.refill(now_ms);
        }
        self.buckets.retain(|_, b| !b.full());
        while self.buckets.len() >= MAX_KEYS {
            let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.last_ms)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.buckets.remove(&oldest);
        }
    }
}

/// The client address for rate limits: the peer address, or the proxy's `X-Real-IP` when the
/// server is told to trust it (`--trust-proxy-headers`) and the peer is on this host.
pub fn client_address(headers: &HeaderMap, peer: Option<SocketAddr>, trust_proxy: bool) -> String {
    let peer_ip = peer.map(|p| p.ip());
    if trust_proxy
        && peer_ip.is_none_or(|ip| ip.is_loopback())
        && let Some(real) = headers.get("x-real-ip").and_then(|v| v.to_str().ok())
    {
        return real.chars().take(64).collect();
    }
    peer_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// Milliseconds on a monotonic clock shared by the limiter's callers.
pub fn monotonic_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_capacity_wait_and_time_forgives_them() {
        let mut l = Limiter::default();
        let keys = [("login:anna", PER_LOGIN), ("addr:1.2.3.4", PER_ADDRESS)];
        for _ in 0..PER_LOGIN {
            assert_eq!(l.check(&keys, 0), None);
            l.fail(&keys, 0);
        }
        let wait = l.check(&keys, 0).expect("must wait");
        assert!(wait <= REFILL + Duration::from_millis(1), "{wait:?}");
        assert_eq!(
            l.check(&keys, REFILL.as_millis() as u64),
            None,
            "one forgiven"
        );
        // Another login from the same address is not blocked by anna's failures.
        assert_eq!(
            l.check(
                &[("login:bert", PER_LOGIN), ("addr:1.2.3.4", PER_ADDRESS)],
                0
            ),
            None
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut l = Limiter::default();
        for i in 0..(MAX_KEYS + 500) {
            let key = format!("addr:{i}");
            l.fail(&[(&key, PER_ADDRESS)], i as u64);
        }
        assert!(l.len() <= MAX_KEYS, "{}", l.len());
    }
}
