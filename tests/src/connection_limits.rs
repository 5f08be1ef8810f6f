//! Limits over time on one real server process: a reader that keeps up with a change larger
//! than the outbound limit keeps its connection, a peer that answers no ping is closed, and a
//! user's connections beyond the bound are closed with 1008 (the others carry on).

use std::time::Duration;

use automerge::sync::State;
use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT, ReadDoc};
use nachbar_core::ids::DocumentId;

use crate::support::TIMEOUT;
use crate::support::client::{Client, Received};
use crate::support::server::TestServer;

#[tokio::test]
async fn a_reader_that_keeps_up_with_a_change_larger_than_the_outbound_limit_stays() {
    let server = TestServer::start_with(&["--max-outbound-bytes", "262144"]).await;
    let token = server.user_token("Tester", "sandbox");
    let id = DocumentId::random();
    let mut writer = Client::join(&server.url(), &token, "peer-writer").await;
    let (mut w_doc, mut w_state) = (Automerge::new(), State::new());
    w_doc
        .transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "start", 1).map(drop))
        .unwrap();
    writer.sync(id, &mut w_doc, &mut w_state).await;
    let mut reader = Client::join(&server.url(), &token, "peer-reader").await;
    let (mut r_doc, mut r_state) = (Automerge::new(), State::new());
    reader.sync(id, &mut r_doc, &mut r_state).await;

    // One change of 4 MiB of noise: sixteen times the limit, in one message to the reader.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let text = crate::support::noise(&mut seed, 4 * 1024 * 1024);
    w_doc
        .transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "blob", text).map(drop))
        .unwrap();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !w_doc.has_our_changes(&w_state) {
        assert!(tokio::time::Instant::now() < deadline, "uploaded");
        writer.sync(id, &mut w_doc, &mut w_state).await;
    }
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while r_doc.get_heads() != w_doc.get_heads() {
        assert!(tokio::time::Instant::now() < deadline, "the reader got it");
        reader.sync(id, &mut r_doc, &mut r_state).await;
    }
    assert!(r_doc.get(ROOT, "blob").unwrap().is_some());
    // Still connected: a new edit arrives live.
    w_doc
        .transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "after", 2).map(drop))
        .unwrap();
    writer.sync(id, &mut w_doc, &mut w_state).await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while r_doc.get(ROOT, "after").unwrap().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader kept its connection"
        );
        match reader.recv(Duration::from_secs(5)).await {
            Some(Received::Message(nachbar_core::protocol::Message::Sync { data, .. })) => {
                let m = automerge::sync::Message::decode(&data).unwrap();
                automerge::sync::SyncDoc::receive_sync_message(&mut r_doc, &mut r_state, m)
                    .unwrap();
            }
            Some(Received::Closed(code, reason)) => panic!("closed: {code} {reason}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_peer_that_answers_no_ping_is_closed() {
    let server = TestServer::start_with(&["--ping-secs", "1"]).await;
    let token = server.user_token("Tester", "sandbox");
    let mut silent = Client::join(&server.url(), &token, "peer-silent").await;
    // Not reading means not answering the pings either (closed after four intervals).
    tokio::time::sleep(Duration::from_secs(7)).await;
    let mut closed = None;
    while let Some(r) = silent.recv(Duration::from_secs(5)).await {
        if let Received::Closed(code, reason) = r {
            closed = Some((code, reason));
            break;
        }
    }
    // 1008 when its close frame is read first, 1006 when answering a queued ping finds the
    // socket gone; either way the server counts it.
    let (code, reason) = closed.expect("closed");
    assert!(code == 1008 || code == 1006, "{code} {reason}");
    let (_, body) = crate::support::http::request(server.port, "GET", "/metrics", None, None).await;
    assert!(
        body.lines()
            .any(|l| l.starts_with("nachbar_refusals_total{kind=\"silent\"} 1")),
        "{body}"
    );
    // A peer that reads (and so answers) stays.
    let mut awake = Client::join(&server.url(), &token, "peer-awake").await;
    let start = tokio::time::Instant::now();
    while start.elapsed() < Duration::from_secs(7) {
        if let Some(Received::Closed(code, reason)) = awake.recv(Duration::from_millis(500)).await {
            panic!("closed: {code} {reason}");
        }
    }
}

#[tokio::test]
async fn a_users_connections_beyond_the_bound_are_closed_with_1008() {
    let server = TestServer::start_with(&["--max-connections-per-user", "3"]).await;
    let token = server.user_token("Tester", "sandbox");
    let other = server.user_token("Other", "sandbox");
    let mut open = Vec::new();
    for i in 0..3 {
        open.push(Client::join(&server.url(), &token, &format!("peer-{i}")).await);
    }
    let ws = crate::support::client::open(&server.url(), Some(&token))
        .await
        .expect("upgraded, then closed");
    let mut fourth = Client::raw(ws);
    let mut closed = None;
    while let Some(r) = fourth.recv(Duration::from_secs(5)).await {
        if let Received::Closed(code, reason) = r {
            closed = Some((code, reason));
            break;
        }
    }
    let (code, reason) = closed.expect("the fourth is closed");
    assert_eq!(code, 1008);
    assert!(reason.contains("more than 3 connections"), "{reason}");
    // Another user is not affected, and a closed connection gives its slot back.
    Client::join(&server.url(), &other, "peer-other").await;
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let ws = crate::support::client::open(&server.url(), Some(&token))
            .await
            .expect("upgrade");
        let mut again = Client::raw(ws);
        match again.recv(Duration::from_millis(300)).await {
            Some(Received::Closed(..)) | Some(Received::Message(_)) => {
                assert!(tokio::time::Instant::now() < deadline, "the slot came back");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            None => break,
        }
    }
    let (_, body) = crate::support::http::request(server.port, "GET", "/metrics", None, None).await;
    let refused: u64 = body
        .lines()
        .find_map(|l| l.strip_prefix("nachbar_connections_refused_per_user_total "))
        .and_then(|v| v.parse().ok())
        .expect("the metric");
    assert!(refused >= 1, "{body}");
}
