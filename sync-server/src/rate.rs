//! A token bucket: how the server bounds the rate of a peer's messages (reliability.md F4 17,
//! 19) without punishing a short burst, such as an offline phone uploading its work.

/// Allows `per_second` events on average and bursts of up to `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket at time `now_ms`.
    pub fn new(per_second: u32, burst: u32, now_ms: u64) -> Self {
        TokenBucket {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            last_ms: now_ms,
        }
    }

    /// `per_minute` events a minute on average, bursts as large, full at `now_ms`.
    pub fn per_minute(per_minute: u32, now_ms: u64) -> Self {
        TokenBucket {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(per_minute.max(1)),
            tokens: f64::from(per_minute.max(1)),
            last_ms: now_ms,
        }
    }

    /// Takes one token at `now_ms` (milliseconds on a monotonic clock); `false` when the
    /// bucket is empty, that is the rate has been exceeded for longer than a burst.
    pub fn take(&mut self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.last_ms = self.last_ms.max(now_ms);
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_a_flood_does_not_and_the_bucket_refills() {
        let mut bucket = TokenBucket::new(10, 20, 0);
        assert!((0..20).all(|_| bucket.take(0)), "a burst of 20 passes");
        assert!(!bucket.take(0), "the 21st at once does not");
        assert!(bucket.take(100), "one token back after 100 ms at 10/s");
        assert!(!bucket.take(100));
        // A steady 10 per second passes forever.
        assert!((1..=100).all(|i| bucket.take(100 + i * 100)));
        // 20 per second runs dry after about two seconds.
        let mut sent = 0;
        let mut t = 20_000;
        while bucket.take(t) {
            sent += 1;
            t += 50;
        }
        assert!((35..=45).contains(&sent), "{sent}");
    }
}
