//! The `/metrics` exposition, rendered as OpenMetrics text by `prometheus-client`: the hub's
//! counters (a snapshot taken on the hub's thread), the writer's counters and histogram, and the
//! edge's refusals; and the bucket bounds every latency histogram of the server uses.

use std::sync::atomic::Ordering;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::hub::HubStats;
use crate::writer::WriterStats;

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency buckets in seconds: 50 µs steps up to 5 ms (where the fan-out
/// goal lies), coarser above, up to 5 s.
const LATENCY_BOUNDS_SECONDS: [f64; 20] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.000_75, 0.001, 0.001_5, 0.002, 0.002_5, 0.003, 0.004,
    0.005, 0.007_5, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0, 5.0,
];

/// A latency histogram with the server's bucket bounds (observations in seconds).
pub fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BOUNDS_SECONDS)
}

/// Refusals counted before a connection reaches the hub.
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeRefusals {
    /// Sync connections closed because their user had all of theirs open.
    pub per_user: u64,
    /// Upgrades and API calls refused for want of a valid token.
    pub auth: u64,
}

/// The exposition of one scrape.
pub fn render(hub: &HubStats, writer: &WriterStats, edge: EdgeRefusals) -> String {
    let mut registry = Registry::with_prefix("nachbar");
    let gauge = |n: u64| ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
    let counter = ConstCounter::new;
    let atomic = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);

    registry.register(
        "connections",
        "Connections past the handshake",
        gauge(hub.peers),
    );
    registry.register(
        "connections_refused_per_user",
        "Sync connections closed because their user had all of theirs open",
        counter(edge.per_user),
    );
    registry.register(
        "auth_refusals",
        "Upgrades refused for want of a valid token",
        counter(edge.auth),
    );
    registry.register(
        "documents_loaded",
        "Documents in memory",
        gauge(hub.docs_loaded),
    );
    registry.register(
        "messages_received",
        "Protocol messages received",
        counter(hub.messages_in),
    );
    registry.register(
        "messages_sent",
        "Protocol messages sent",
        counter(hub.messages_out),
    );
    registry.register(
        "evictions",
        "Documents evicted from memory",
        counter(hub.evictions),
    );
    let refusals = Family::<[(&'static str, &'static str); 1], Counter>::default();
    for (kind, n) in &hub.refusals {
        refusals.get_or_create(&[("kind", kind)]).inc_by(*n);
    }
    registry.register("refusals", "Refused inputs by kind", refusals);
    registry.register_with_unit(
        "fanout_latency",
        "From the first change of a round arriving to the round going out to the peers, commit \
         included: the server's share of fan-out latency",
        Unit::Seconds,
        hub.fanout_latency.clone(),
    );
    registry.register("commits", "Group commits", counter(atomic(&writer.commits)));
    registry.register(
        "appends",
        "Appends committed",
        counter(atomic(&writer.appends)),
    );
    registry.register_with_unit(
        "commit_latency",
        "Duration of one group commit (one transaction, one fsync)",
        Unit::Seconds,
        writer.commit_latency.clone(),
    );
    registry.register(
        "compactions",
        "Documents compacted",
        counter(atomic(&writer.compactions)),
    );
    registry.register(
        "commit_failures",
        "Failed commits",
        counter(atomic(&writer.failures)),
    );
    let mut text = String::new();
    // Writing into a String cannot fail; the label values are our own constants.
    let _ = encode(&mut text, &registry);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_counters_with_total_and_buckets_finer_than_a_millisecond() {
        let hub = HubStats {
            peers: 3,
            refusals: [("access", 2)].into(),
            ..HubStats::default()
        };
        for seconds in [0.000_3, 0.000_3, 0.001_2, 0.04] {
            hub.fanout_latency.observe(seconds);
        }
        let writer = WriterStats::default();
        writer.commits.store(7, Ordering::Relaxed);
        let text = render(
            &hub,
            &writer,
            EdgeRefusals {
                per_user: 1,
                auth: 4,
            },
        );
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(has("nachbar_connections 3"), "{text}");
        assert!(has("nachbar_commits_total 7"), "{text}");
        assert!(has("nachbar_auth_refusals_total 4"), "{text}");
        assert!(
            has("nachbar_connections_refused_per_user_total 1"),
            "{text}"
        );
        assert!(has("nachbar_refusals_total{kind=\"access\"} 2"), "{text}");
        assert!(
            has("nachbar_fanout_latency_seconds_bucket{le=\"0.0005\"} 2"),
            "two observations of 0.3 ms in the 0.5 ms bucket: {text}"
        );
        assert!(
            has("nachbar_fanout_latency_seconds_bucket{le=\"0.0015\"} 3"),
            "{text}"
        );
        assert!(has("nachbar_fanout_latency_seconds_count 4"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
