//! Durability: the server is SIGKILLed while clients stream edits; after a restart every change
//! the server had acknowledged (advertised in its heads) before the kill is there.

use std::time::Duration;

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ROOT, ReadDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::Message;

use crate::support::client::{Client, Received};
use crate::support::server::TestServer;

/// Streams edits to `id` until the connection dies; returns the heads the server acknowledged
/// last (from its own sync messages, which it sends only for durable changes).
async fn stream_edits(url: String, token: String, peer: String, id: DocumentId) -> Vec<ChangeHash> {
    let mut client = Client::join(&url, &token, &peer).await;
    let mut doc = Automerge::new();
    let mut state = State::new();
    let mut acked = Vec::new();
    for i in 0..100_000u64 {
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, format!("k{}", i % 50), i as i64).map(drop)
        })
        .unwrap();
        client.push(id, &mut doc, &mut state).await;
        match client.recv(Duration::from_millis(100)).await {
            Some(Received::Message(Message::Sync { data, .. })) => {
                let msg = automerge::sync::Message::decode(&data).unwrap();
                doc.receive_sync_message(&mut state, msg).unwrap();
                if let Some(theirs) = &state.their_heads {
                    acked = theirs.clone();
                }
            }
            Some(Received::Message(_)) | None => {}
            Some(Received::Closed(..)) => break,
        }
    }
    acked
}

#[tokio::test]
async fn acknowledged_edits_survive_sigkill_while_clients_stream() {
    let mut server = TestServer::start().await;
    let token = server.user_token("Streamer", "sandbox");
    let docs: Vec<DocumentId> = (0..4).map(|_| DocumentId::random()).collect();
    for cycle in 0..3u64 {
        let url = server.url();
        let tasks: Vec<_> = docs
            .iter()
            .enumerate()
            .map(|(n, id)| {
                tokio::spawn(stream_edits(
                    url.clone(),
                    token.clone(),
                    format!("peer-{cycle}-{n}"),
                    *id,
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + 300 * cycle)).await;
        let data = server.kill().await;
        let mut acked = Vec::new();
        for t in tasks {
            acked.push(
                tokio::time::timeout(crate::support::TIMEOUT, t)
                    .await
                    .expect("streams end")
                    .expect("no panic"),
            );
        }
        assert!(
            acked.iter().any(|a| !a.is_empty()),
            "cycle {cycle}: the server acknowledged something before the kill"
        );
        server = TestServer::start_in(data).await;
        for (id, heads) in docs.iter().zip(&acked) {
            let mut check = Client::join(&server.url(), &token, &format!("check-{cycle}")).await;
            let mut copy = Automerge::new();
            check.sync(*id, &mut copy, &mut State::new()).await;
            for h in heads {
                assert!(
                    copy.get_change_by_hash(h).is_some(),
                    "cycle {cycle}: acknowledged change {h} lost"
                );
            }
        }
    }
}
