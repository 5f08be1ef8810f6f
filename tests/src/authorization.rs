//! Authorization end to end: the directory built with admin commands, real clients per role,
//! nachbar documents created offline and pushed, read-only sessions, refused creations and
//! header changes, revocation reaching open connections, and the JSON API.

use std::time::Duration;

use automerge::sync::State;
use automerge::{ActorId, Automerge};
use nachbar_core::doc::{EditContext, NachbarDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::model::business_profile::{BusinessProfileDoc, TopicState};
use nachbar_core::protocol::Message;
use nachbar_core::time::Timestamp;

use crate::support::client::{self, Received};
use crate::support::http;
use crate::support::world::World;

fn unavailable(received: &[Received]) -> bool {
    received
        .iter()
        .any(|r| matches!(r, Received::Message(Message::DocUnavailable { .. })))
}

/// Fetches `id` as `who`; returns the document (empty when unavailable) and whether it was.
async fn fetch(world: &World, who: &str, id: DocumentId) -> (Automerge, bool) {
    let mut c = world.client(who).await;
    let mut doc = Automerge::new();
    let other = c.sync(id, &mut doc, &mut State::new()).await;
    (doc, unavailable(&other))
}

#[tokio::test]
async fn confidential_documents_reach_the_business_and_its_coach_only() {
    let w = World::new().await;
    let id = DocumentId::random();
    let mut a = w.assessment("owner1", &w.b1);
    a.set_level(&EditContext::new(w.id("owner1"), Timestamp::now()), "C2", 2)
        .unwrap();
    let mut owner = w.client("owner1").await;
    let mut doc = a.inner().automerge().clone();
    let mut state = State::new();
    let other = owner.sync(id, &mut doc, &mut state).await;
    assert!(!unavailable(&other), "the owner may create it: {other:?}");
    assert!(doc.has_our_changes(&state), "stored and acknowledged");

    for (who, visible) in [
        ("coach", true),
        ("staff1", true),
        ("owner2", false),
        ("coordinator", false),
        ("admin", false),
    ] {
        let (copy, refused) = fetch(&w, who, id).await;
        assert_eq!(!refused, visible, "{who}");
        assert_eq!(copy.get_heads() == doc.get_heads(), visible, "{who}");
    }
    // A missing document looks the same as a denied one.
    let (_, missing) = fetch(&w, "owner2", DocumentId::random()).await;
    assert!(missing);

    // The document list holds what each may read.
    let kinds = |docs: Vec<serde_json::Value>| {
        let mut k: Vec<String> = docs
            .iter()
            .map(|d| d["kind"].as_str().unwrap_or("generic").to_owned())
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        kinds(w.documents("owner1").await),
        [
            "assessment",
            "business-profile",
            "business-profile",
            "catalogue",
            "neighbourhood"
        ]
    );
    assert_eq!(
        kinds(w.documents("owner2").await),
        [
            "business-profile",
            "business-profile",
            "catalogue",
            "neighbourhood"
        ]
    );
    assert_eq!(
        kinds(w.documents("coordinator").await),
        [
            "business-profile",
            "business-profile",
            "catalogue",
            "neighbourhood"
        ]
    );
    let me = http::get_json(w.server.port, "/api/me", w.token("staff1")).await;
    assert_eq!(me["businesses"][0]["id"], w.b1.as_str());
    let people = http::get_json(w.server.port, "/api/people", w.token("owner2")).await;
    assert_eq!(
        people.as_array().unwrap().len(),
        5,
        "everyone of the neighbourhood, not the admin: {people}"
    );
}

#[tokio::test]
async fn creations_for_other_businesses_and_header_changes_are_refused() {
    let w = World::new().await;
    // owner1 creates an assessment for the printer: refused, stored nowhere.
    let foreign = w.assessment("owner1", &w.b2);
    let id = DocumentId::random();
    let mut owner1 = w.client("owner1").await;
    let mut doc = foreign.inner().automerge().clone();
    let other = owner1.sync(id, &mut doc, &mut State::new()).await;
    assert!(unavailable(&other), "{other:?}");
    let (_, refused) = fetch(&w, "owner2", id).await;
    assert!(refused, "nothing was stored");

    // A header claiming another creator is refused as well.
    let mut staff = w.client("staff1").await;
    let mut forged_doc = w.assessment("coach", &w.b1).inner().automerge().clone();
    let other = staff
        .sync(DocumentId::random(), &mut forged_doc, &mut State::new())
        .await;
    assert!(unavailable(&other), "created_by must be the uploading user");

    // A change to the header of a stored document closes the connection with 1008.
    let mine = w.assessment("owner1", &w.b1);
    let id = DocumentId::random();
    let mut doc = mine.inner().automerge().clone();
    let mut state = State::new();
    owner1.sync(id, &mut doc, &mut state).await;
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        use automerge::ReadDoc;
        use automerge::transaction::Transactable;
        let header = tx.get(automerge::ROOT, "nachbar")?.expect("header").1;
        tx.put(&header, "business", w.b2.as_str()).map(drop)
    })
    .unwrap();
    let other = owner1.sync(id, &mut doc, &mut state).await;
    assert!(
        other.iter().any(|r| matches!(r, Received::Closed(1008, _))),
        "{other:?}"
    );
    let (copy, _) = fetch(&w, "coach", id).await;
    let stored = NachbarDoc::from_automerge(copy).expect("a nachbar document");
    assert_eq!(
        stored.header().business.as_deref(),
        Some(w.b1.as_str()),
        "the header is unchanged"
    );
}

#[tokio::test]
async fn read_only_members_sync_without_their_changes_applied() {
    let w = World::new().await;
    let docs = w.documents("coordinator").await;
    let profile = docs
        .iter()
        .find(|d| d["business"] == w.b1.as_str() && d["kind"] == "business-profile")
        .expect("profile listed");
    assert_eq!(profile["writable"], false);
    let id: DocumentId = profile["id"].as_str().unwrap().parse().unwrap();
    let mut coord = w.client("coordinator").await;
    let mut doc = Automerge::new();
    let mut state = State::new();
    coord.sync(id, &mut doc, &mut state).await;
    let before = doc.get_heads();
    // The coordinator edits the profile locally: the server does not take it, the connection
    // stays open, and the flags say read-only.
    let mut p = BusinessProfileDoc::open(NachbarDoc::from_automerge(doc).unwrap()).unwrap();
    p.set_topic_state(
        &EditContext::new(w.id("coordinator"), Timestamp::now()),
        "D",
        Some(TopicState::Solved),
    )
    .unwrap();
    let mut doc = p.inner().automerge().clone();
    let other = coord.sync(id, &mut doc, &mut state).await;
    assert!(other.is_empty(), "no error, no close: {other:?}");
    assert!(
        state.is_peer_read_only() || !doc.has_our_changes(&state),
        "the change stays on the device"
    );
    let (server_copy, _) = fetch(&w, "owner1", id).await;
    assert_eq!(server_copy.get_heads(), before, "not applied on the server");
    // The same connection keeps syncing what it may write.
    let hood_docs = w.documents("coordinator").await;
    let hood = hood_docs
        .iter()
        .find(|d| d["kind"] == "neighbourhood")
        .unwrap();
    assert_eq!(hood["writable"], true);
}

#[tokio::test]
async fn revocation_reaches_open_connections_within_seconds() {
    let w = World::new().await;
    let a = w.assessment("owner1", &w.b1);
    let id = DocumentId::random();
    let mut owner = w.client("owner1").await;
    owner
        .sync(id, &mut a.inner().automerge().clone(), &mut State::new())
        .await;

    let mut coach = w.client("coach").await;
    let mut doc = Automerge::new();
    let mut state = State::new();
    coach.sync(id, &mut doc, &mut state).await;
    assert!(!doc.get_heads().is_empty());
    w.server.admin(&[
        "revoke-role",
        "--user",
        w.id("coach"),
        "--role",
        "coach",
        "--scope",
        &w.b1,
    ]);
    let start = std::time::Instant::now();
    let mut told = false;
    while start.elapsed() < Duration::from_secs(5) {
        if let Some(Received::Message(Message::DocUnavailable { document_id, .. })) =
            coach.recv(Duration::from_millis(200)).await
        {
            told = document_id == id;
            break;
        }
    }
    assert!(told, "the coach's session ended within 5 s");
    let (_, refused) = fetch(&w, "coach", id).await;
    assert!(refused, "new requests are refused");

    // A revoked token closes its connection with 4401.
    let mut staff = w.client("staff1").await;
    w.server
        .admin(&["revoke-token", "--token", w.token("staff1")]);
    let closed = staff.recv(Duration::from_secs(5)).await;
    assert!(
        matches!(closed, Some(Received::Closed(4401, _))),
        "{closed:?}"
    );
}

#[tokio::test]
async fn an_invite_code_enrols_a_device() {
    let w = World::new().await;
    let code = w.server.admin(&["invite", "--user", w.id("owner2")]);
    let body = format!(r#"{{"code":"{code}","label":"Tablet Büro"}}"#);
    let (status, reply) =
        http::request(w.server.port, "POST", "/api/enroll", None, Some(&body)).await;
    assert_eq!(status, 200, "{reply}");
    let token = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = http::get_json(w.server.port, "/api/me", &token).await;
    assert_eq!(me["id"], w.id("owner2"));
    let (again, _) = http::request(w.server.port, "POST", "/api/enroll", None, Some(&body)).await;
    assert_eq!(again, 401, "a code enrols once");
    let (no_token, _) = http::request(w.server.port, "GET", "/api/me", None, None).await;
    assert_eq!(no_token, 401);
}

#[tokio::test]
async fn members_read_the_workshops_they_are_invited_to() {
    use nachbar_core::model::workshop::{NewWorkshop, WorkshopDoc, WorkshopKind};
    let w = World::new().await;
    let ctx = EditContext::new(w.id("coach"), Timestamp::now());
    let new = NewWorkshop {
        title: "Werkstatt E-Rechnung".to_owned(),
        kind: WorkshopKind::TopicWorkshop,
        date: "2027-01-20".to_owned(),
        start: "16:00".to_owned(),
        end: "18:00".to_owned(),
        place: String::new(),
        host: None,
        goal: String::new(),
    };
    let (mut ws, _) = WorkshopDoc::create(ActorId::random(), &ctx, &w.hood, &new).unwrap();
    ws.invite(&ctx, w.id("owner1"), Some(&w.b1), None).unwrap();
    let id = DocumentId::random();
    let mut coach = w.client("coach").await;
    let mut doc = ws.inner().automerge().clone();
    let mut state = State::new();
    let other = coach.sync(id, &mut doc, &mut state).await;
    assert!(
        !unavailable(&other),
        "the coach may create workshops of the neighbourhood: {other:?}"
    );

    let (_, refused) = fetch(&w, "owner1", id).await;
    assert!(!refused, "invited");
    let (_, refused) = fetch(&w, "owner2", id).await;
    assert!(refused, "not invited");
    let (_, refused) = fetch(&w, "coordinator", id).await;
    assert!(!refused, "coordinators plan workshops");

    // Inviting owner2 later opens the workshop to them.
    let mut ws = WorkshopDoc::open(NachbarDoc::from_automerge(doc).unwrap()).unwrap();
    ws.invite(&ctx, w.id("owner2"), Some(&w.b2), None).unwrap();
    let mut doc = ws.inner().automerge().clone();
    coach.sync(id, &mut doc, &mut state).await;
    let (copy, refused) = fetch(&w, "owner2", id).await;
    assert!(!refused, "invited now");
    assert_eq!(copy.get_heads(), doc.get_heads());
}

/// Whether `r` carries anything of a document: a sync message with heads or changes.
fn carries_content(r: &Received) -> bool {
    let Received::Message(Message::Sync { data, .. }) = r else {
        return false;
    };
    let msg = automerge::sync::Message::decode(data).expect("sync message");
    let mut carried = Automerge::new();
    for chunk in msg.changes.iter() {
        carried.load_incremental(chunk).expect("chunk");
    }
    !msg.heads.is_empty() || !carried.get_heads().is_empty()
}

#[tokio::test]
async fn a_sync_naming_a_document_before_it_exists_never_receives_it_if_denied() {
    let w = World::new().await;
    let id = DocumentId::random();
    // owner2 names the id with `sync` (not `request`) before owner1 creates it.
    let mut owner2 = w.client("owner2").await;
    let empty =
        automerge::sync::SyncDoc::generate_sync_message(&Automerge::new(), &mut State::new());
    owner2
        .send(&Message::Sync {
            sender_id: owner2.peer.clone(),
            target_id: owner2.server.clone(),
            document_id: id,
            data: empty.expect("a first message").encode(),
        })
        .await;
    let first = owner2.recv(crate::support::TIMEOUT).await.expect("answer");
    assert!(!carries_content(&first), "{first:?}");

    let a = w.assessment("owner1", &w.b1);
    let mut owner1 = w.client("owner1").await;
    let mut doc = a.inner().automerge().clone();
    let other = owner1.sync(id, &mut doc, &mut State::new()).await;
    assert!(!unavailable(&other), "owner1 creates it: {other:?}");
    // owner2 is told the document is unavailable, and is sent nothing of it before.
    loop {
        let next = owner2.recv(crate::support::TIMEOUT).await;
        let next = next.expect("doc-unavailable arrives");
        assert!(!carries_content(&next), "owner2 was sent the assessment");
        if unavailable(std::slice::from_ref(&next)) {
            break;
        }
    }
}

#[tokio::test]
async fn a_peer_id_in_use_by_another_user_is_refused_to_the_newcomer() {
    let w = World::new().await;
    let mut owner1 = w.client("owner1").await;
    let ws = crate::support::client::open(&w.server.url(), Some(w.token("owner2")))
        .await
        .expect("upgrade accepted");
    let mut thief = crate::support::client::Client::raw(ws);
    thief
        .send(&Message::Join {
            sender_id: owner1.peer.clone(),
            supported_protocol_versions: Some(vec!["1".to_owned()]),
            peer_metadata: None,
        })
        .await;
    let mut got = Vec::new();
    while let Some(r) = thief.recv(crate::support::TIMEOUT).await {
        let closed = matches!(r, Received::Closed(..));
        got.push(r);
        if closed {
            break;
        }
    }
    assert!(
        matches!(
            &got[..],
            [
                Received::Message(Message::Error { .. }),
                Received::Closed(1008, _)
            ]
        ),
        "{got:?}"
    );
    // The holder keeps its connection and syncs.
    let a = w.assessment("owner1", &w.b1);
    let id = DocumentId::random();
    let mut doc = a.inner().automerge().clone();
    let mut state = State::new();
    let other = owner1.sync(id, &mut doc, &mut state).await;
    assert!(other.is_empty(), "{other:?}");
    assert!(doc.has_our_changes(&state), "stored and acknowledged");
}

#[tokio::test]
async fn failed_token_checks_and_enrolments_make_their_address_wait_and_nobody_else() {
    let w = World::new().await;
    let port = w.server.port;
    // Malformed and unknown tokens, bad invite codes: each counts against 127.0.0.1.
    let bogus = "f".repeat(64);
    for i in 0..10 {
        let (status, _) = http::request(port, "GET", "/api/me", Some(&bogus), None).await;
        assert_eq!(status, 401, "attempt {i}");
        let (status, _) = http::request(port, "GET", "/api/me", Some("x"), None).await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let (status, body) = http::request(port, "GET", "/api/me", Some(&bogus), None).await;
    assert_eq!(status, 429, "{body}");
    // Further failures from the address wait, on the upgrade and enrolment too.
    let refused = client::open(&w.server.url(), Some(&bogus)).await;
    assert_eq!(refused.err(), Some(429));
    let bad = r#"{"code":"1111111111111111111111","label":"x"}"#;
    let (status, _) = http::request(port, "POST", "/api/enroll", None, Some(bad)).await;
    assert_eq!(status, 429);
    // Nobody else is locked out: valid tokens and codes from the same address pass.
    let (status, _) = http::request(port, "GET", "/api/me", Some(w.token("owner1")), None).await;
    assert_eq!(status, 200);
    assert!(
        client::open(&w.server.url(), Some(w.token("owner1")))
            .await
            .is_ok()
    );
    let code = w.server.admin(&["invite", "--user", w.id("owner2")]);
    let body = format!(r#"{{"code":"{code}","label":"x"}}"#);
    let (status, _) = http::request(port, "POST", "/api/enroll", None, Some(&body)).await;
    assert_eq!(status, 200, "a good code passes");
}

#[tokio::test]
async fn a_sign_off_syncs_only_from_its_signer_in_a_role_they_hold() {
    use nachbar_core::model::SignOffRole;
    use nachbar_core::model::assessment::AssessmentDoc;
    let w = World::new().await;
    let mine = w.assessment("owner1", &w.b1);
    let id = DocumentId::random();
    let mut owner = w.client("owner1").await;
    let mut doc = mine.inner().automerge().clone();
    let mut state = State::new();
    owner.sync(id, &mut doc, &mut state).await;
    let signed_off = |doc: &Automerge| {
        AssessmentDoc::open(NachbarDoc::from_automerge(doc.clone()).unwrap())
            .unwrap()
            .view()
            .unwrap()
            .sign_offs
            .iter()
            .map(|s| (s.role, s.by.clone()))
            .collect::<Vec<_>>()
    };
    // Staff sync an "owner" sign-off, under their own name and under the owner's: closed with
    // 1008, nothing stored.
    for by in [w.id("staff1").to_owned(), w.id("owner1").to_owned()] {
        let mut staff = w.client("staff1").await;
        let mut copy = Automerge::new();
        let mut st = State::new();
        staff.sync(id, &mut copy, &mut st).await;
        let mut a = AssessmentDoc::open(NachbarDoc::from_automerge(copy).unwrap()).unwrap();
        let _in_memory = a
            .sign_off(&EditContext::new(by, Timestamp::now()), SignOffRole::Owner)
            .unwrap();
        let mut copy = a.inner().automerge().clone();
        let other = staff.sync(id, &mut copy, &mut st).await;
        assert!(
            other.iter().any(|r| matches!(r, Received::Closed(1008, _))),
            "{other:?}"
        );
        let (stored, _) = fetch(&w, "coach", id).await;
        assert!(signed_off(&stored).is_empty(), "nothing stored");
    }
    // The owner's own sign-off as owner, and the coach's as coach, are taken.
    let mut a = AssessmentDoc::open(NachbarDoc::from_automerge(doc.clone()).unwrap()).unwrap();
    let _in_memory = a
        .sign_off(
            &EditContext::new(w.id("owner1"), Timestamp::now()),
            SignOffRole::Owner,
        )
        .unwrap();
    let mut doc = a.inner().automerge().clone();
    let other = owner.sync(id, &mut doc, &mut state).await;
    assert!(
        !other.iter().any(|r| matches!(r, Received::Closed(..))),
        "{other:?}"
    );
    let (stored, _) = fetch(&w, "coach", id).await;
    assert_eq!(
        signed_off(&stored),
        vec![(SignOffRole::Owner, w.id("owner1").to_owned())]
    );
}
