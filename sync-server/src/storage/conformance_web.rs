//! The conformance suite of [`WebStore`]: the same sign-ins, sessions, invitations,
//! enrolments, token management, listings, document versions and calendar numbering against
//! the SQLite file and a throwaway PostgreSQL cluster (`SKIPPED: why` without PostgreSQL), so
//! every page behaves alike on either.

use std::sync::{Arc, Mutex};

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};

use super::backend::Storage;
use super::postgres::{PgAccess, PgDocuments, PgWeb, connect};
use super::sqlite_web::SqliteWeb;
use super::web::{CredentialsOutcome, WebStore};
use super::{DocRecord, InviteOutcome, SequenceKey, Store};
use crate::pg_cluster::{ClusterError, PgCluster};

/// A backend under test: its name, documents and access data, the web store, and what keeps
/// the database alive.
struct WebBackend {
    name: &'static str,
    storage: Storage,
    web: Arc<dyn WebStore>,
    _keep: Box<dyn std::any::Any>,
}

async fn web_backends() -> Vec<WebBackend> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nachbar.sqlite3");
    let open = || Arc::new(Mutex::new(Store::open(&path).expect("open sqlite")));
    let mut out = vec![WebBackend {
        name: "sqlite",
        storage: Storage::sqlite(open()),
        web: Arc::new(SqliteWeb::new(open())),
        _keep: Box::new(dir),
    }];
    match PgCluster::start() {
        Ok(cluster) => {
            let pool = connect(&cluster.url("postgres")).await.expect("connect");
            out.push(WebBackend {
                name: "postgres",
                storage: Storage {
                    documents: Arc::new(PgDocuments::new(pool.clone())),
                    access: Arc::new(PgAccess::new(pool.clone())),
                },
                web: Arc::new(PgWeb::new(pool)),
                _keep: Box::new(cluster),
            });
        }
        Err(e @ ClusterError::NotInstalled) => println!("SKIPPED: postgres web store: {e}"),
        Err(e) => panic!("a PostgreSQL cluster did not start: {e}"),
    }
    out
}

/// A neighbourhood with one business whose owner is a user of its own: (hood, business,
/// owner).
async fn neighbourhood(storage: &Storage) -> (String, String, String) {
    let (hood, glazier) = ("n-lindenfeld".to_owned(), "b-glaserei".to_owned());
    storage
        .access
        .add_neighbourhood(
            &crate::storage::NewNeighbourhood {
                id: &hood,
                name: "Lindenfeld",
                location: "Kassel",
                doc: "doc-of-lindenfeld",
            },
            1,
        )
        .await
        .unwrap();
    storage
        .access
        .add_business(
            &crate::storage::NewBusiness {
                id: &glazier,
                neighbourhood: &hood,
                name: "Glaserei",
                trade: "Glas",
                profile_doc: "doc-of-glaserei",
            },
            1,
        )
        .await
        .unwrap();
    let owner = storage
        .access
        .add_user_with_role("Brandt", "owner", &glazier, 1)
        .await
        .unwrap();
    (hood, glazier, owner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sessions_invitations_and_tokens_behave_alike() {
    for b in web_backends().await {
        let (name, web, access) = (b.name, b.web.as_ref(), &b.storage.access);
        let (_, glazier, owner) = neighbourhood(&b.storage).await;
        // An invitation: shown, used up once, never twice.
        let code = web.create_invite(&owner, 10_000, 1).await.unwrap();
        assert_eq!(
            web.invite_user(&format!(" {code} "), 2).await.unwrap(),
            Some((owner.clone(), "Brandt".to_owned())),
            "{name}"
        );
        assert_eq!(
            web.invite_user(&code, 10_000).await.unwrap(),
            None,
            "{name}: expired"
        );
        let other = access
            .add_user_with_role("Lehrling", "staff", &glazier, 1)
            .await
            .unwrap();
        assert_eq!(
            web.set_credentials(&other, "brandt", "hash-0", 2)
                .await
                .unwrap(),
            CredentialsOutcome::Set,
            "{name}"
        );
        assert_eq!(
            web.accept_invite(&code, "brandt", "hash-1", 3)
                .await
                .unwrap(),
            InviteOutcome::LoginTaken,
            "{name}"
        );
        assert_eq!(
            web.accept_invite(&code, "a.brandt", "hash-1", 3)
                .await
                .unwrap(),
            InviteOutcome::Done(owner.clone()),
            "{name}: a taken login did not use the invitation up"
        );
        assert_eq!(
            web.accept_invite(&code, "a.brandt", "hash-1", 4)
                .await
                .unwrap(),
            InviteOutcome::Invalid,
            "{name}: only once"
        );
        let account = web.account_by_login("a.brandt").await.unwrap().unwrap();
        assert_eq!(
            (account.user_id.as_str(), account.password_hash.as_deref()),
            (owner.as_str(), Some("hash-1")),
            "{name}"
        );
        assert_eq!(
            web.set_credentials("niemand", "x.y", "h", 5).await.unwrap(),
            CredentialsOutcome::NoUser,
            "{name}"
        );
        // Browser sessions: valid until revoked or expired, ended when the password changes.
        let secret = web
            .create_session(&owner, "Firefox\0", 100_000, 10)
            .await
            .unwrap();
        let signed = web.session_user(&secret, 20).await.unwrap().unwrap();
        assert_eq!(signed.user_id, owner, "{name}");
        assert!(web.session_user("zu-kurz", 20).await.unwrap().is_none());
        assert!(
            web.session_user(&secret, 100_000).await.unwrap().is_none(),
            "{name}: expired"
        );
        assert!(web.revoke_session(&signed.session_hash, 30).await.unwrap());
        assert!(!web.revoke_session(&signed.session_hash, 31).await.unwrap());
        assert!(web.session_user(&secret, 40).await.unwrap().is_none());
        let again = web
            .create_session(&owner, "Chromium", 100_000, 50)
            .await
            .unwrap();
        assert_eq!(
            web.set_credentials(&owner, "a.brandt", "hash-2", 60)
                .await
                .unwrap(),
            CredentialsOutcome::Set,
            "{name}: the user's own login is not taken"
        );
        assert!(
            web.session_user(&again, 70).await.unwrap().is_none(),
            "{name}: a new password ends the sessions"
        );
        // Enrolment: an invitation becomes a device token, once.
        let code = web.create_invite(&owner, 10_000, 100).await.unwrap();
        let (user, token) = web
            .enroll(&code, "Tablet", 90_000, 200)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user, owner, "{name}");
        assert!(
            web.enroll(&code, "Tablet", 90_000, 201)
                .await
                .unwrap()
                .is_none(),
            "{name}: used up"
        );
        assert!(
            access
                .principal_for_token(&token, 300)
                .await
                .unwrap()
                .is_ok()
        );
        // What a person sees of their accesses, and ending one by its handle.
        let web_session = web
            .create_session(&owner, "Safari", 100_000, 400)
            .await
            .unwrap();
        let accesses = web.accesses_of(&owner, 500).await.unwrap();
        let kinds: Vec<&str> = accesses.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, ["web", "device"], "{name}: never-used last");
        let version = access.directory_version().await.unwrap();
        let device = accesses.iter().find(|a| a.kind == "device").unwrap();
        assert!(
            !web.revoke_access(&other, &device.handle, 600)
                .await
                .unwrap(),
            "{name}: another user's handle ends nothing"
        );
        assert!(
            web.revoke_access(&owner, &device.handle, 600)
                .await
                .unwrap()
        );
        assert!(
            access.directory_version().await.unwrap() > version,
            "{name}: ending a device token moves the directory"
        );
        assert!(
            access
                .principal_for_token(&token, 700)
                .await
                .unwrap()
                .is_err()
        );
        assert!(web.session_user(&web_session, 700).await.unwrap().is_some());
        let version = access.directory_version().await.unwrap();
        let session = web.session_user(&web_session, 700).await.unwrap().unwrap();
        assert!(
            web.revoke_access(&owner, &session.session_hash, 710)
                .await
                .unwrap()
        );
        assert!(web.session_user(&web_session, 720).await.unwrap().is_none());
        assert!(
            !web.revoke_access(&owner, "nicht\0da", 730).await.unwrap(),
            "{name}: a handle that cannot be stored ends nothing"
        );
        assert_eq!(
            access.directory_version().await.unwrap(),
            version,
            "{name}: ending a browser session leaves the directory alone"
        );
        // Tokens as the admin lists and revokes them.
        let phone = access
            .issue_token(&owner, "Telefon", None, 800)
            .await
            .unwrap();
        let listed = web.tokens_of(&owner).await.unwrap();
        assert_eq!(listed.len(), 2, "{name}");
        assert_eq!(listed[0].label, "Telefon", "{name}: newest first");
        assert_eq!(listed[1].state(900), "revoked", "{name}");
        assert!(!web.revoke_token_id("nicht-hex", 900).await.unwrap());
        assert!(web.revoke_token_id(&listed[0].id, 900).await.unwrap());
        assert!(!web.revoke_token_id(&listed[0].id, 901).await.unwrap());
        assert!(
            access
                .principal_for_token(&phone, 950)
                .await
                .unwrap()
                .is_err()
        );
        // The acts log and the people listings.
        web.record_act(&owner, "test.act", "subject\0", "detail", 1_000)
            .await
            .unwrap();
        let people = web.people_of_business(&glazier).await.unwrap();
        let roles: Vec<(&str, &str)> = people
            .iter()
            .map(|p| (p.name.as_str(), p.role.as_str()))
            .collect();
        assert_eq!(
            roles,
            [("Brandt", "owner"), ("Lehrling", "staff")],
            "{name}"
        );
        assert_eq!(
            web.user_name(&other).await.unwrap().as_deref(),
            Some("Lehrling")
        );
        assert_eq!(web.live_users().await.unwrap().len(), 2, "{name}");
        // The demo's person list.
        web.mark_demo_user(&other, 2).await.unwrap();
        web.mark_demo_user(&owner, 1).await.unwrap();
        let demo: Vec<String> = web
            .demo_users()
            .await
            .unwrap()
            .into_iter()
            .map(|(_, n, _, _)| n)
            .collect();
        assert_eq!(demo, ["Brandt", "Lehrling"], "{name}: in their order");
        assert_eq!(web.integrity().await.unwrap(), "ok", "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_enrols_exactly_once_under_concurrent_requests() {
    for b in web_backends().await {
        let (_, _, owner) = neighbourhood(&b.storage).await;
        let code = b.web.create_invite(&owner, 10_000, 1).await.unwrap();
        let tries: Vec<_> = (0..8)
            .map(|i| {
                let (web, code) = (Arc::clone(&b.web), code.clone());
                tokio::spawn(
                    async move { web.enroll(&code, &format!("device {i}"), 9_000, 2).await },
                )
            })
            .collect();
        let mut enrolled = 0;
        for t in tries {
            // SQLite serialises the eight (one may wait out another's lock); none fails.
            if t.await.unwrap().unwrap().is_some() {
                enrolled += 1;
            }
        }
        assert_eq!(enrolled, 1, "{}", b.name);
    }
}

/// One change to `doc` as a chunk.
fn change(doc: &mut Automerge, key: &str) -> Vec<u8> {
    let before = doc.get_heads();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, 1).map(drop))
        .unwrap();
    doc.save_after(&before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_and_document_versions_behave_alike() {
    for b in web_backends().await {
        let (name, web) = (b.name, b.web.as_ref());
        let (hood, glazier, _) = neighbourhood(&b.storage).await;
        assert_eq!(
            web.neighbourhood_named("Lindenfeld").await.unwrap(),
            Some(hood.clone())
        );
        assert_eq!(web.neighbourhood_names().await.unwrap().len(), 1, "{name}");
        let rows = web.businesses_in(&hood).await.unwrap();
        assert_eq!(rows.len(), 1, "{name}");
        assert!(rows[0].3, "{name}: a member");
        assert!(web.hood_doc_versions("n-nirgends").await.unwrap().is_none());
        // A plan of the business: its version moves with every commit and compaction.
        let plan = nachbar_core::ids::DocumentId::random().to_string();
        let mut doc = Automerge::new();
        let first = crate::durable::Append {
            register: Some(DocRecord {
                doc_id: plan.clone(),
                kind: Some("action-plan".to_owned()),
                neighbourhood: Some(hood.clone()),
                business: Some(glazier.clone()),
                created_by: "u".to_owned(),
                title: "Plan".to_owned(),
            }),
            ..super::tests::append(&plan, change(&mut doc, "a"), false)
        };
        let docs = &b.storage.documents;
        docs.append(vec![first]).await.unwrap();
        let version = |v: Vec<(String, i64)>| {
            assert_eq!(v.len(), 1, "{name}");
            assert_eq!(v[0].0, plan);
            v[0].1
        };
        let v1 = version(web.business_doc_versions(&glazier).await.unwrap());
        assert_eq!(
            v1,
            version(web.business_doc_versions(&glazier).await.unwrap()),
            "{name}: stable at rest"
        );
        let mut seen = vec![v1];
        for i in 0..40 {
            let chunk = change(&mut doc, &format!("k{i}"));
            docs.append(vec![super::tests::append(&plan, chunk, false)])
                .await
                .unwrap();
            let v = version(web.business_doc_versions(&glazier).await.unwrap());
            assert!(!seen.contains(&v), "{name}: a commit moves the version");
            seen.push(v);
        }
        docs.compact(&plan).await.unwrap();
        let compacted = version(web.business_doc_versions(&glazier).await.unwrap());
        assert_ne!(compacted, *seen.last().unwrap(), "{name}: compaction too");
        let loaded = web
            .load_many(vec![plan.clone(), "fehlt".to_owned()])
            .await
            .unwrap();
        assert_eq!(loaded.len(), 1, "{name}");
        assert_eq!(
            crate::storage::load_automerge(&loaded[0].bytes)
                .unwrap()
                .get_heads(),
            doc.get_heads(),
            "{name}"
        );
        assert_eq!(
            web.record(&plan).await.unwrap().unwrap().business,
            Some(glazier.clone())
        );
        assert_eq!(web.records().await.unwrap().len(), 1, "{name}");
        assert!(
            web.doc_ids_of_kind(&hood, "workshop")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_feeds_and_sequences_behave_alike() {
    for b in web_backends().await {
        let (name, web) = (b.name, b.web.as_ref());
        let (_, _, owner) = neighbourhood(&b.storage).await;
        let secret = web.create_calendar_feed(&owner, 5).await.unwrap();
        assert_eq!(web.calendar_feed_since(&owner).await.unwrap(), Some(5));
        assert_eq!(
            web.calendar_feed_user(&secret).await.unwrap(),
            Some(owner.clone())
        );
        let renewed = web.create_calendar_feed(&owner, 6).await.unwrap();
        assert!(
            web.calendar_feed_user(&secret).await.unwrap().is_none(),
            "{name}: the old link stops"
        );
        assert!(web.revoke_calendar_feed(&owner).await.unwrap());
        assert!(web.calendar_feed_user(&renewed).await.unwrap().is_none());
        let event = |uid: &str, fingerprint: &str, date: &str| SequenceKey {
            uid: uid.to_owned(),
            fingerprint: fingerprint.to_owned(),
            date: date.to_owned(),
        };
        let oldest = "2026-01-01".to_owned();
        let first = vec![
            event("a", "10:00", "2026-05-01"),
            event("b", "11:00", "2026-05-02"),
        ];
        assert_eq!(
            web.calendar_sequences(first.clone(), oldest.clone())
                .await
                .unwrap(),
            [0, 0],
            "{name}"
        );
        assert_eq!(
            web.calendar_sequences(first, oldest.clone()).await.unwrap(),
            [0, 0],
            "{name}: unchanged"
        );
        let moved = vec![
            event("a", "12:00", "2026-05-01"),
            event("b", "11:00", "2026-05-02"),
        ];
        assert_eq!(
            web.calendar_sequences(moved, "2026-05-02".to_owned())
                .await
                .unwrap(),
            [1, 0],
            "{name}"
        );
        // A NUL in an event's text is stored as U+FFFD, and the event is unchanged the next
        // time, not raised on every fetch.
        let odd = vec![event("c\0", "Raum\0 1", "2026-06-01")];
        for _ in 0..2 {
            assert_eq!(
                web.calendar_sequences(odd.clone(), "2026-01-01".to_owned())
                    .await
                    .unwrap(),
                [0],
                "{name}"
            );
        }
        // Event "a" was dated before the window and went; seen again it starts over.
        assert_eq!(
            web.calendar_sequences(vec![event("a", "12:00", "2026-05-01")], oldest)
                .await
                .unwrap(),
            [0],
            "{name}"
        );
    }
}
