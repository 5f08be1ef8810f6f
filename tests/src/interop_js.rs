//! Interop with the real automerge-repo JS client: it creates, edits and fetches documents
//! through our server, both directions, is refused a document it may not read exactly as if it
//! did not exist, and learns another client's heads through remote-heads gossip. Every test runs against the version pinned in tests/js and against
//! the newest 2.x release on npm (target/js-latest, installed by scripts/install-test-deps),
//! so a protocol change upstream shows at once.

use std::path::PathBuf;

use automerge::sync::State;
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT, ReadDoc};
use nachbar_core::ids::{AutomergeUrl, DocumentId};

use crate::support::client::Client;
use crate::support::server::TestServer;

/// An installation of the JS client: where, and its automerge-repo version.
struct Js {
    dir: PathBuf,
    version: String,
}

/// The version of automerge-repo installed in `dir`, if it is.
fn repo_version(dir: &std::path::Path) -> Option<String> {
    let manifest =
        std::fs::read_to_string(dir.join("node_modules/@automerge/automerge-repo/package.json"))
            .ok()?;
    let json: serde_json::Value = serde_json::from_str(&manifest).ok()?;
    json["version"].as_str().map(str::to_owned)
}

/// The pinned client (required) and the newest 2.x release (`SKIPPED` when it could not be
/// installed).
fn installations(test: &str) -> Vec<Js> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let pinned = root.join("js");
    let version = repo_version(&pinned)
        .expect("tests/js/node_modules is missing: run scripts/install-test-deps");
    let mut out = vec![Js {
        dir: pinned,
        version,
    }];
    let latest = root.join("../target/js-latest");
    match repo_version(&latest) {
        Some(version) => out.push(Js {
            dir: latest,
            version,
        }),
        None => println!("SKIPPED: {test} against the newest automerge-repo 2.x: not installed"),
    }
    out
}

/// Runs `node interop.mjs …` with the client in `js` and parses its JSON line.
async fn node(js: &Js, args: &[&str]) -> serde_json::Value {
    let out = tokio::process::Command::new("node")
        .arg("interop.mjs")
        .args(args)
        .current_dir(&js.dir)
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "node {args:?} (automerge-repo {}) failed: {}",
        js.version,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line");
    serde_json::from_str(line).expect("JSON")
}

/// A string at `key`, whether stored as a scalar or as text (JS Automerge 3 writes text).
fn string(doc: &Automerge, key: &str) -> Option<String> {
    match doc.get(ROOT, key).ok()?? {
        (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        (automerge::Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

#[tokio::test]
async fn js_client_creates_and_edits_what_rust_reads_and_vice_versa() {
    for js in installations("js interop") {
        println!("automerge-repo {}", js.version);
        creates_and_edits_both_ways(&js).await;
    }
}

async fn creates_and_edits_both_ways(js: &Js) {
    let server = TestServer::start().await;
    let js_url = format!(
        "{}?token={}",
        server.url(),
        server.user_token("JS", "sandbox")
    );
    let rust_token = server.user_token("Rust", "sandbox");

    // JS → server → Rust.
    let created = node(js, &["create", &js_url, r#"{"title":"von JS"}"#]).await;
    let url: AutomergeUrl = created["url"]
        .as_str()
        .expect("url")
        .parse()
        .expect("automerge URL");
    let mut rust = Client::join(&server.url(), &rust_token, "peer-rust").await;
    let mut doc = Automerge::new();
    let mut state = State::new();
    rust.sync(url.document_id, &mut doc, &mut state).await;
    assert_eq!(string(&doc, "title").as_deref(), Some("von JS"));

    // Rust → server → JS, then a JS edit back to Rust.
    let id = DocumentId::random();
    let mut mine = Automerge::new();
    mine.transact::<_, _, automerge::AutomergeError>(|tx| {
        let text = tx.put_object(ROOT, "title", ObjType::Text)?;
        tx.splice_text(&text, 0, 0, "von Rust")
    })
    .unwrap();
    let mut mine_state = State::new();
    rust.sync(id, &mut mine, &mut mine_state).await;
    let doc_url = AutomergeUrl::new(id).to_string();
    let read = node(js, &["read", &js_url, &doc_url]).await;
    assert_eq!(read["title"], "von Rust", "automerge-repo {}", js.version);
    let edited = node(js, &["edit", &js_url, &doc_url, "status", "gelesen"]).await;
    assert_eq!(edited["status"], "gelesen");
    rust.sync(id, &mut mine, &mut mine_state).await;
    assert_eq!(string(&mine, "status").as_deref(), Some("gelesen"));
    assert_eq!(string(&mine, "title").as_deref(), Some("von Rust"));
}

#[tokio::test]
async fn js_client_is_refused_a_document_like_a_missing_one() {
    for js in installations("js refusal") {
        println!("automerge-repo {}", js.version);
        refused_like_missing(&js).await;
    }
}

async fn refused_like_missing(js: &Js) {
    let server = TestServer::start().await;
    let owner = format!(
        "{}?token={}",
        server.url(),
        server.user_token("Sandbox", "sandbox")
    );
    let outsider = format!(
        "{}?token={}",
        server.url(),
        server.user_token("Outsider", "")
    );
    let created = node(
        js,
        &["create", &owner, r#"{"secret":"nur für die Sandbox"}"#],
    )
    .await;
    let url = created["url"].as_str().expect("url");
    let denied = node(js, &["read", &outsider, url]).await;
    assert_eq!(denied, serde_json::json!({ "unavailable": true }));
    let missing = node(
        js,
        &[
            "read",
            &outsider,
            &AutomergeUrl::new(DocumentId::random()).to_string(),
        ],
    )
    .await;
    assert_eq!(
        denied, missing,
        "a denied document looks exactly like a missing one"
    );
}

#[tokio::test]
async fn js_client_learns_another_clients_heads_through_remote_heads_gossip() {
    for js in installations("js remote heads gossip") {
        println!("automerge-repo {}", js.version);
        let server = TestServer::start().await;
        let url = format!(
            "{}?token={}",
            server.url(),
            server.user_token("JS", "sandbox")
        );
        let told = node(&js, &["gossip", &url]).await;
        let heads = told["heads"].as_array().expect("heads");
        assert_eq!(heads.len(), 1, "{told}");
        assert_eq!(
            told["heads"], told["expected"],
            "B learned A's heads after its edit (automerge-repo {})",
            js.version
        );
        assert_eq!(
            told["serverHeads"], told["expected"],
            "B learned that the server holds them (automerge-repo {})",
            js.version
        );
    }
}
