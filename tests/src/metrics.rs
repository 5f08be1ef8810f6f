//! The counters of `/metrics` move when compaction, eviction and revocation happen.

use std::time::{Duration, Instant};

use automerge::Automerge;
use automerge::sync::State;
use automerge::transaction::Transactable;
use nachbar_core::ids::DocumentId;

use crate::support::client::{Client, Received};
use crate::support::http;
use crate::support::server::TestServer;

/// The value of an unlabelled metric.
async fn metric(port: u16, name: &str) -> u64 {
    let (status, body) = http::request(port, "GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    body.lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name} "))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("{name} missing in {body}"))
}

async fn metric_line(port: u16, prefix: &str) -> Option<String> {
    let (_, body) = http::request(port, "GET", "/metrics", None, None).await;
    body.lines()
        .find(|l| l.starts_with(prefix))
        .map(str::to_owned)
}

#[tokio::test]
async fn compaction_eviction_and_revocation_show_in_metrics() {
    let server = TestServer::start_with(&["--evict-after-secs", "1"]).await;
    let token = server.user_token("Metrics", "sandbox");
    let id = DocumentId::random();
    let mut client = Client::join(&server.url(), &token, "peer-metrics").await;
    let mut doc = Automerge::new();
    let mut state = State::new();
    for i in 0..5 {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "n", i).map(drop)
        })
        .unwrap();
        client.sync(id, &mut doc, &mut state).await;
    }
    assert!(
        metric(server.port, "nachbar_compactions_total").await >= 1,
        "chunks outweighing the snapshot are compacted"
    );
    assert!(metric(server.port, "nachbar_commits_total").await >= 5);
    assert_eq!(metric(server.port, "nachbar_documents_loaded").await, 1);
    assert_eq!(metric(server.port, "nachbar_connections").await, 1);

    // Revoking the token closes the connection and counts as a revocation.
    server.admin(&["revoke-token", "--token", &token]);
    let closed = client.recv(Duration::from_secs(5)).await;
    assert!(
        matches!(closed, Some(Received::Closed(4401, _))),
        "{closed:?}"
    );
    let line = metric_line(server.port, "nachbar_refusals_total{kind=\"revoked\"}").await;
    assert!(
        line.is_some_and(|l| l.ends_with(" 1")),
        "revocation counted"
    );

    // Without subscribers the document leaves memory after the eviction delay.
    let start = Instant::now();
    while metric(server.port, "nachbar_documents_loaded").await > 0
        && start.elapsed() < crate::support::TIMEOUT
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(metric(server.port, "nachbar_documents_loaded").await, 0);
    assert_eq!(metric(server.port, "nachbar_evictions_total").await, 1);
}
