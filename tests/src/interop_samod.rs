//! Interop with samod, the Rust automerge-repo implementation, as a client of our server over
//! our tokio-tungstenite socket: it creates, edits and fetches documents both directions, and
//! is refused a document it may not read exactly as if it did not exist.

use std::sync::Arc;

use automerge::sync::State;
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT, ReadDoc};
use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use nachbar_core::ids::DocumentId;
use samod::{BackoffConfig, DialError, Dialer, Repo, Transport};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use crate::support::client::Client;
use crate::support::server::TestServer;

/// Dials our server with a token in the URL.
struct WsDialer {
    url: String,
}

impl Dialer for WsDialer {
    type Error = std::convert::Infallible;

    fn url(&self) -> samod::Url {
        samod::Url::parse(&self.url).expect("valid url")
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<Self::Error>>> {
        let url = self.url.clone();
        Box::pin(async move {
            let (ws, _) = tokio_tungstenite::connect_async(&url)
                .await
                .map_err(DialError::transient)?;
            let (sink, stream) = ws.split();
            let stream = Box::pin(stream.filter_map(|frame| async move {
                match frame {
                    Ok(WsMessage::Binary(bytes)) => Some(Ok(bytes.to_vec())),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                }
            }));
            let sink = Box::pin(sink.with(|bytes: Vec<u8>| async move {
                Ok::<_, tungstenite::Error>(WsMessage::Binary(bytes.into()))
            }));
            Ok(Transport::new(stream, sink))
        })
    }
}

async fn samod_client(url: String) -> (Repo, samod::ConnectionId) {
    let repo = Repo::build_tokio().load().await;
    let dialer = repo
        .dial(BackoffConfig::default(), Arc::new(WsDialer { url }))
        .expect("repo running");
    tokio::time::timeout(crate::support::TIMEOUT, dialer.established())
        .await
        .expect("in time")
        .expect("connected");
    let conn = dialer.connection_id().expect("connection");
    (repo, conn)
}

fn text(doc: &Automerge, key: &str) -> Option<String> {
    match doc.get(ROOT, key).ok()?? {
        (automerge::Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        _ => None,
    }
}

fn put_text(doc: &mut Automerge, key: &str, value: &str) {
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        let t = tx.put_object(ROOT, key, ObjType::Text)?;
        tx.splice_text(&t, 0, 0, value)
    })
    .unwrap();
}

#[tokio::test]
async fn samod_creates_and_edits_what_rust_reads_and_vice_versa() {
    let server = TestServer::start().await;
    let (repo, conn) = samod_client(format!(
        "{}?token={}",
        server.url(),
        server.user_token("Samod", "sandbox")
    ))
    .await;
    let mut rust = Client::join(
        &server.url(),
        &server.user_token("Rust", "sandbox"),
        "peer-rust",
    )
    .await;

    // samod → server → Rust.
    let mut initial = Automerge::new();
    put_text(&mut initial, "title", "von samod");
    let handle = repo.create(initial).await.expect("created");
    tokio::time::timeout(crate::support::TIMEOUT, handle.they_have_our_changes(conn))
        .await
        .expect("server acknowledged");
    let id: DocumentId = handle
        .document_id()
        .to_string()
        .parse()
        .expect("same id format");
    let mut copy = Automerge::new();
    rust.sync(id, &mut copy, &mut State::new()).await;
    assert_eq!(text(&copy, "title").as_deref(), Some("von samod"));

    // Rust → server → samod, and a samod edit back.
    let id = DocumentId::random();
    let mut mine = Automerge::new();
    put_text(&mut mine, "title", "von Rust");
    let mut state = State::new();
    rust.sync(id, &mut mine, &mut state).await;
    let found = repo
        .find(id.to_string().parse().expect("samod id"))
        .await
        .expect("running")
        .expect("found");
    assert_eq!(
        found.with_document(|d| text(d, "title")).as_deref(),
        Some("von Rust")
    );
    found.with_document(|d| put_text(d, "status", "gelesen"));
    tokio::time::timeout(crate::support::TIMEOUT, found.they_have_our_changes(conn))
        .await
        .expect("server acknowledged");
    rust.sync(id, &mut mine, &mut state).await;
    assert_eq!(text(&mine, "status").as_deref(), Some("gelesen"));
    repo.stop().await;
}

#[tokio::test]
async fn samod_is_refused_a_document_like_a_missing_one() {
    let server = TestServer::start().await;
    let mut owner = Client::join(
        &server.url(),
        &server.user_token("Sandbox", "sandbox"),
        "peer-owner",
    )
    .await;
    let id = DocumentId::random();
    let mut doc = Automerge::new();
    put_text(&mut doc, "secret", "nur für die Sandbox");
    owner.sync(id, &mut doc, &mut State::new()).await;

    let (repo, _) = samod_client(format!(
        "{}?token={}",
        server.url(),
        server.user_token("Outsider", "")
    ))
    .await;
    let denied = repo
        .find(id.to_string().parse().expect("id"))
        .await
        .expect("running");
    assert!(denied.is_none(), "denied looks unavailable");
    let missing = repo
        .find(DocumentId::random().to_string().parse().expect("id"))
        .await
        .expect("running");
    assert!(missing.is_none());
    repo.stop().await;
}
