//! What waits for one peer to read: the bytes the hub queued for a connection and not yet
//! written to its socket. A peer may fall behind by more than the soft limit for a while (one
//! large change is larger than the limit, and a reader that keeps up with it must keep its
//! connection); it is closed when it stays behind longer than the grace period, or at once
//! when the backlog passes the hard limit (memory stays bounded either way).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Whether a connection may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limits (or behind for less than the grace period).
    Keep,
    /// Behind by more than the soft limit for longer than the grace period, or by more than
    /// the hard limit: close it.
    Overflow,
}

/// The backlog of one connection, shared by the hub task (which adds) and the connection
/// task (which subtracts what it wrote).
#[derive(Debug)]
pub struct Backlog {
    queued: AtomicUsize,
    /// Milliseconds after `epoch` since the backlog is over the soft limit (0: it is not).
    over_since_ms: AtomicU64,
    epoch: Instant,
    soft: usize,
    hard: usize,
    grace: Duration,
    /// A hub worker queued the connection's close: what the peer sends from now on is not
    /// handed to any worker (the others would go on serving it until the close is written).
    closing: AtomicBool,
}

impl Backlog {
    /// A backlog with the soft and hard limits in bytes and the grace period.
    pub fn new(soft: usize, hard: usize, grace: Duration) -> Self {
        Backlog {
            queued: AtomicUsize::new(0),
            over_since_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            soft,
            hard: hard.max(soft),
            grace,
            closing: AtomicBool::new(false),
        }
    }

    /// Marks the connection as closing (see [`Backlog::is_closing`]).
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
    }

    /// Whether a hub worker queued the connection's close.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Bytes waiting now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// The grace period.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Counts `bytes` more waiting at `now`, and says whether the connection may go on.
    pub fn add(&self, bytes: usize, now: Instant) -> Verdict {
        let queued = self.queued.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.judge(queued, now)
    }

    /// Counts `bytes` as written at `now`.
    pub fn sub(&self, bytes: usize, now: Instant) {
        let before = self
            .queued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| {
                Some(q.saturating_sub(bytes))
            })
            .unwrap_or(0);
        self.judge(before.saturating_sub(bytes), now);
    }

    fn judge(&self, queued: usize, now: Instant) -> Verdict {
        if queued > self.hard {
            return Verdict::Overflow;
        }
        if queued <= self.soft {
            self.over_since_ms.store(0, Ordering::Relaxed);
            return Verdict::Keep;
        }
        // Offset by one so that 0 keeps meaning "not over".
        let at = u64::try_from(now.saturating_duration_since(self.epoch).as_millis())
            .unwrap_or(u64::MAX - 1)
            + 1;
        let since =
            match self
                .over_since_ms
                .compare_exchange(0, at, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => at,
                Err(earlier) => earlier,
            };
        let behind = Duration::from_millis(at.saturating_sub(since));
        if behind > self.grace {
            Verdict::Overflow
        } else {
            Verdict::Keep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_may_fall_behind_for_the_grace_period_and_never_past_the_hard_limit() {
        let grace = Duration::from_secs(10);
        let b = Backlog::new(100, 1000, grace);
        let t0 = Instant::now();
        assert_eq!(b.add(60, t0), Verdict::Keep);
        // One large message over the soft limit: kept while it is being read.
        assert_eq!(b.add(500, t0), Verdict::Keep);
        assert_eq!(b.add(10, t0 + Duration::from_secs(9)), Verdict::Keep);
        b.sub(560, t0 + Duration::from_secs(9));
        assert_eq!(b.queued(), 10);
        // Caught up: the clock starts again the next time it falls behind.
        assert_eq!(b.add(200, t0 + Duration::from_secs(20)), Verdict::Keep);
        assert_eq!(b.add(1, t0 + Duration::from_secs(29)), Verdict::Keep);
        assert_eq!(
            b.add(1, t0 + Duration::from_secs(31)),
            Verdict::Overflow,
            "behind for longer than the grace period"
        );
        let fresh = Backlog::new(100, 1000, grace);
        assert_eq!(
            fresh.add(1001, t0),
            Verdict::Overflow,
            "past the hard limit"
        );
    }
}
