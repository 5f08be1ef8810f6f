//! A latency histogram with fixed millisecond buckets, for `/metrics` (Prometheus text) and for
//! reading quantiles back in benchmarks.

/// Upper bounds of the buckets in milliseconds (the last bucket is everything above).
const BOUNDS_MS: [u64; 12] = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

/// Counts of observations per bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: [u64; BOUNDS_MS.len() + 1],
    sum_ms: u64,
}

impl LatencyHistogram {
    /// Records one observation.
    pub fn record(&mut self, ms: u64) {
        let bucket = BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(BOUNDS_MS.len());
        self.counts[bucket] += 1;
        self.sum_ms = self.sum_ms.saturating_add(ms);
    }

    /// How many observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The upper bound (ms) of the bucket holding the `q` quantile; `None` when empty or above
    /// the last bound.
    pub fn quantile_bound(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return BOUNDS_MS.get(i).copied();
            }
        }
        None
    }

    /// Prometheus text of a histogram named `name` (cumulative `_bucket{le}`, `_sum`, `_count`).
    pub fn render(&self, name: &str, help: &str) -> String {
        use std::fmt::Write;
        let mut out = format!("# HELP {name} {help}\n# TYPE {name} histogram\n");
        let mut cumulative = 0;
        for (i, n) in self.counts.iter().enumerate() {
            cumulative += n;
            let le = BOUNDS_MS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), u64::to_string);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_sum {}\n{name}_count {cumulative}", self.sum_ms);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_buckets_and_render_cumulatively() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile_bound(0.5), None);
        for ms in [0, 1, 1, 3, 3, 3, 3, 40, 40, 9000] {
            h.record(ms);
        }
        assert_eq!(h.count(), 10);
        assert_eq!(
            h.quantile_bound(0.5),
            Some(5),
            "the 5th of 10 is 3 ms: bucket ≤ 5"
        );
        assert_eq!(h.quantile_bound(0.9), Some(50));
        assert_eq!(h.quantile_bound(1.0), None, "above the last bound");
        let text = h.render("x_ms", "help");
        assert!(text.contains("x_ms_bucket{le=\"1\"} 3\n"), "{text}");
        assert!(text.contains("x_ms_bucket{le=\"+Inf\"} 10\n"));
        assert!(text.contains("x_ms_sum 9094\n"));
    }
}
