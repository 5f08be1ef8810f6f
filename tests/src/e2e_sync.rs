//! Two clients sync through the real server process.

use automerge::sync::State;
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ReadDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::Message;

use crate::support::client::{self, Client, Received};
use crate::support::server::TestServer;

fn edit(doc: &mut Automerge, key: &str, value: &str) {
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, value).map(drop))
        .unwrap();
}

#[tokio::test]
async fn two_sandbox_clients_sync_a_document_through_the_server() {
    let server = TestServer::start().await;
    let (ta, tb) = (
        server.user_token("Alice", "sandbox"),
        server.user_token("Bob", "sandbox"),
    );
    let id = DocumentId::random();

    let mut alice = Client::join(&server.url(), &ta, "peer-alice").await;
    let mut a_doc = Automerge::new().with_actor(ActorId::random());
    edit(&mut a_doc, "title", "Werkstatt");
    let mut a_state = State::new();
    let other = alice.sync(id, &mut a_doc, &mut a_state).await;
    assert!(other.is_empty(), "{other:?}");
    assert!(
        a_doc.has_our_changes(&a_state),
        "the server acknowledged the document"
    );

    let mut bob = Client::join(&server.url(), &tb, "peer-bob").await;
    let mut b_doc = Automerge::new();
    let mut b_state = State::new();
    bob.sync(id, &mut b_doc, &mut b_state).await;
    assert_eq!(b_doc.get_heads(), a_doc.get_heads());

    // Live: Bob edits, Alice receives without asking.
    edit(&mut b_doc, "title", "Werkstatt E-Rechnung");
    bob.sync(id, &mut b_doc, &mut b_state).await;
    alice.sync(id, &mut a_doc, &mut a_state).await;
    assert_eq!(
        a_doc.get(ROOT, "title").unwrap().unwrap().0.as_str(),
        Some("Werkstatt E-Rechnung")
    );
}

#[tokio::test]
async fn upgrades_without_a_valid_token_are_refused_with_401() {
    let server = TestServer::start().await;
    assert_eq!(client::open(&server.url(), None).await.err(), Some(401));
    assert_eq!(
        client::open(&server.url(), Some(&"ab".repeat(32)))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        client::open(&server.url(), Some("not-a-token")).await.err(),
        Some(401)
    );
    let token = server.user_token("Alice", "sandbox");
    server.admin(&["revoke-token", "--token", &token]);
    assert_eq!(
        client::open(&server.url(), Some(&token)).await.err(),
        Some(401)
    );
    // ?token= works like the header.
    let good = server.user_token("Bob", "sandbox");
    assert!(
        client::open(&format!("{}?token={good}", server.url()), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn unknown_documents_are_unavailable() {
    let server = TestServer::start().await;
    let token = server.user_token("Alice", "sandbox");
    let mut alice = Client::join(&server.url(), &token, "peer-alice").await;
    let mut doc = Automerge::new();
    let other = alice
        .sync(DocumentId::random(), &mut doc, &mut State::new())
        .await;
    assert!(
        matches!(
            other[..],
            [Received::Message(Message::DocUnavailable { .. })]
        ),
        "{other:?}"
    );
}

#[tokio::test]
async fn acknowledged_changes_survive_sigkill() {
    let server = TestServer::start().await;
    let token = server.user_token("Alice", "sandbox");
    let id = DocumentId::random();
    let mut alice = Client::join(&server.url(), &token, "peer-alice").await;
    let mut doc = Automerge::new();
    let mut state = State::new();
    for i in 0..20 {
        edit(&mut doc, &format!("k{i}"), "v");
        alice.sync(id, &mut doc, &mut state).await;
    }
    assert!(doc.has_our_changes(&state));
    let data = server.kill().await;
    let server = TestServer::start_in(data).await;
    let mut bob = Client::join(
        &server.url(),
        &server.user_token("Bob", "sandbox"),
        "peer-bob",
    )
    .await;
    let mut copy = Automerge::new();
    bob.sync(id, &mut copy, &mut State::new()).await;
    assert_eq!(
        copy.get_heads(),
        doc.get_heads(),
        "every acknowledged change is there after SIGKILL"
    );
}

#[tokio::test]
async fn sigterm_closes_connections_with_restart_and_keeps_the_data() {
    let server = TestServer::start().await;
    let token = server.user_token("Alice", "sandbox");
    let id = DocumentId::random();
    let mut alice = Client::join(&server.url(), &token, "peer-alice").await;
    let mut doc = Automerge::new();
    edit(&mut doc, "k", "v");
    let mut state = State::new();
    alice.sync(id, &mut doc, &mut state).await;
    let data = server.terminate().await;
    match alice.recv(crate::support::TIMEOUT).await {
        Some(Received::Closed(code, _)) => assert_eq!(code, 1012, "reconnect, possibly elsewhere"),
        other => panic!("expected a close frame, got {other:?}"),
    }
    let server = TestServer::start_in(data).await;
    let mut bob = Client::join(&server.url(), &token, "peer-bob").await;
    let mut copy = Automerge::new();
    bob.sync(id, &mut copy, &mut State::new()).await;
    assert_eq!(copy.get_heads(), doc.get_heads());
}
