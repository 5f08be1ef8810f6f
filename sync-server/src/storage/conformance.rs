//! One conformance suite of [`DocumentStore`], run against every backend: SQLite in a
//! temporary file and PostgreSQL in a throwaway cluster (skipped with `SKIPPED: why` where
//! PostgreSQL is not installed). Two stores on one database stand for two processes or nodes:
//! each has connections of its own.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ReadDoc};

use super::backend::{AccessStore, DocumentStore, FeedCursor};
use super::postgres::{PgAccess, PgDocuments, connect};
use super::sqlite::{SqliteAccess, SqliteDocuments};
use super::tests::append;
use super::{Store, load_automerge};
use crate::pg_cluster::{ClusterError, PgCluster};

/// A backend under test: two independent stores on one database, and what keeps it alive.
struct Backend {
    name: &'static str,
    one: Arc<dyn DocumentStore>,
    two: Arc<dyn DocumentStore>,
    keep: Box<dyn std::any::Any>,
}

fn sqlite_store(path: &std::path::Path) -> Arc<dyn DocumentStore> {
    let open = || Arc::new(Mutex::new(Store::open(path).expect("open sqlite")));
    Arc::new(SqliteDocuments::new(open(), open(), open()))
}

/// A throwaway cluster, or `None` with `SKIPPED: what: why` where PostgreSQL is not
/// installed; any other failure to start one fails the test.
fn cluster_or_skip(what: &str) -> Option<PgCluster> {
    match PgCluster::start() {
        Ok(cluster) => Some(cluster),
        Err(e @ ClusterError::NotInstalled) => {
            println!("SKIPPED: {what}: {e}");
            None
        }
        Err(e) => panic!("a PostgreSQL cluster did not start: {e}"),
    }
}

async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nachbar.sqlite3");
    let mut out = vec![Backend {
        name: "sqlite",
        one: sqlite_store(&path),
        two: sqlite_store(&path),
        keep: Box::new(dir),
    }];
    if let Some(cluster) = cluster_or_skip("postgres backend") {
        let url = cluster.url("postgres");
        let one = PgDocuments::new(connect(&url).await.expect("connect one"));
        let two = PgDocuments::new(connect(&url).await.expect("connect two"));
        out.push(Backend {
            name: "postgres",
            one: Arc::new(one),
            two: Arc::new(two),
            keep: Box::new(cluster),
        });
    }
    let names: Vec<&str> = out.iter().map(|b| b.name).collect();
    println!("storage conformance against {names:?}");
    out
}

/// A document with `n` edits by `actor`, and each edit's chunk.
fn edits(actor: u8, n: usize, from: usize) -> (Automerge, Vec<Vec<u8>>) {
    let mut doc = Automerge::new().with_actor(ActorId::from(vec![actor; 16]));
    let mut chunks = Vec::new();
    for i in from..from + n {
        let before = doc.get_heads();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, format!("k{actor}-{i}"), i as i64).map(drop)
        })
        .expect("edit");
        chunks.push(doc.save_after(&before));
    }
    (doc, chunks)
}

async fn heads_of(store: &dyn DocumentStore, doc_id: &str) -> Vec<automerge::ChangeHash> {
    let stored = store.load(doc_id).await.expect("load").expect("stored");
    load_automerge(&stored.bytes).expect("loads").get_heads()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_are_idempotent_and_load_with_their_record() {
    for b in backends().await {
        let (doc, chunks) = edits(1, 5, 0);
        let doc_id = nachbar_core::ids::DocumentId::random().to_string();
        let mut batch = vec![append(&doc_id, chunks[0].clone(), true)];
        batch.extend(
            chunks[1..]
                .iter()
                .map(|c| append(&doc_id, c.clone(), false)),
        );
        // The same chunk twice in one batch, the batch twice (a retried commit whose outcome
        // was unknown), and from the second store too.
        batch.push(append(&doc_id, chunks[1].clone(), false));
        b.one.append(batch.clone()).await.expect("append");
        b.one.append(batch.clone()).await.expect("append again");
        b.two
            .append(batch)
            .await
            .expect("append from the other store");
        assert_eq!(
            heads_of(&*b.two, &doc_id).await,
            doc.get_heads(),
            "{}",
            b.name
        );
        let stored = b.one.load(&doc_id).await.unwrap().unwrap();
        // The record as registered, NULL fields included.
        assert_eq!(stored.record.doc_id, doc_id, "{}", b.name);
        assert_eq!(stored.record.created_by, "u", "{}", b.name);
        assert_eq!(stored.record.kind, None, "{}", b.name);
        assert_eq!(stored.record.business, None, "{}", b.name);
        let stats = b.one.chunk_stats(&doc_id).await.unwrap();
        if b.name == "postgres" {
            assert_eq!(stats.chunks, 5, "chunks are keyed by hash: stored once");
        } else {
            assert!(stats.chunks >= 5);
        }
        assert!(
            b.one.load("no-such-doc").await.unwrap().is_none(),
            "{}",
            b.name
        );
        assert_eq!(
            b.one.storage_id().await.unwrap(),
            b.two.storage_id().await.unwrap(),
            "one storage id per database ({})",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_beside_appends_from_another_store_loses_nothing() {
    for b in backends().await {
        let doc_id = nachbar_core::ids::DocumentId::random().to_string();
        let (_, first) = edits(2, 40, 0);
        let mut batch = vec![append(&doc_id, first[0].clone(), true)];
        batch.extend(first[1..].iter().map(|c| append(&doc_id, c.clone(), false)));
        b.one.append(batch).await.unwrap();
        // Store two appends 100 edits of another actor one by one while store one (and store
        // two, at the same time) compact again and again.
        let (theirs, more) = edits(3, 100, 0);
        let writer = {
            let two = Arc::clone(&b.two);
            let doc_id = doc_id.clone();
            tokio::spawn(async move {
                for c in more {
                    two.append(vec![append(&doc_id, c, false)]).await.unwrap();
                }
            })
        };
        let compactors: Vec<_> = [Arc::clone(&b.one), Arc::clone(&b.two)]
            .into_iter()
            .map(|store| {
                let doc_id = doc_id.clone();
                tokio::spawn(async move {
                    for _ in 0..15 {
                        store.compact(&doc_id).await.unwrap();
                    }
                })
            })
            .collect();
        writer.await.unwrap();
        for c in compactors {
            c.await.unwrap();
        }
        b.one.compact(&doc_id).await.unwrap();
        let stored = b.one.load(&doc_id).await.unwrap().unwrap();
        let doc = load_automerge(&stored.bytes).unwrap();
        for head in theirs.get_heads() {
            assert!(doc.get_change_by_hash(&head).is_some(), "{}", b.name);
        }
        assert_eq!(doc.get_changes(&[]).len(), 140, "{}", b.name);
        let stats = b.one.chunk_stats(&doc_id).await.unwrap();
        assert_eq!(
            stats.chunks, 0,
            "one snapshot after the last compaction ({})",
            b.name
        );
    }
}

/// Why chunks did not come: each missing chunk's transaction against the cursor and the
/// oldest running transaction (held back, or passed: skipped), and what runs with an xid.
async fn held_or_skipped(cluster: &PgCluster, missing: &[Vec<u8>], cursor: FeedCursor) -> String {
    let Ok((client, connection)) =
        tokio_postgres::connect(&cluster.url("postgres"), tokio_postgres::NoTls).await
    else {
        return String::new();
    };
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT txid::text, seq, pg_snapshot_xmin(pg_current_snapshot())::text FROM chunks
             WHERE bytes = ANY($1) ORDER BY txid, seq",
            &[&missing],
        )
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    format!(
                        "({}, {}) xmin {}",
                        r.get::<_, String>(0),
                        r.get::<_, i64>(1),
                        r.get::<_, String>(2)
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let running = client
        .query(
            "SELECT backend_type, state, backend_xid::text, left(query, 80) FROM pg_stat_activity
             WHERE backend_xid IS NOT NULL",
            &[],
        )
        .await
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    format!(
                        "{:?} {:?} xid {:?}: {:?}",
                        r.get::<_, Option<String>>(0),
                        r.get::<_, Option<String>>(1),
                        r.get::<_, Option<String>>(2),
                        r.get::<_, Option<String>>(3)
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    format!(" (cursor {cursor:?}; missing rows {rows:?}; running with an xid: {running:?})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_has_no_gaps_under_eight_concurrent_writers() {
    const WRITERS: u8 = 8;
    const EACH: usize = 60;
    for b in backends().await {
        let start = b.one.feed_end().await.unwrap();
        let written = Arc::new(Mutex::new(BTreeSet::new()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = if w % 2 == 0 {
                    Arc::clone(&b.one)
                } else {
                    Arc::clone(&b.two)
                };
                let written = Arc::clone(&written);
                tokio::spawn(async move {
                    let doc_id = nachbar_core::ids::DocumentId::random().to_string();
                    let (_, chunks) = edits(10 + w, EACH, 0);
                    for (i, c) in chunks.into_iter().enumerate() {
                        store
                            .append(vec![append(&doc_id, c.clone(), i == 0)])
                            .await
                            .unwrap();
                        written.lock().unwrap().insert(c);
                    }
                })
            })
            .collect();
        // A reader that polls while they write, and catches up after.
        let mut seen = BTreeSet::new();
        let mut cursor: FeedCursor = start;
        let mut done = false;
        loop {
            let page = b.two.feed_after(cursor, 50).await.unwrap();
            assert!(page.next >= cursor, "the cursor never moves back");
            cursor = page.next;
            let empty = page.chunks.is_empty();
            seen.extend(page.chunks.into_iter().map(|c| c.bytes));
            if done && empty {
                break;
            }
            if !done && writers.iter().all(tokio::task::JoinHandle::is_finished) {
                done = true;
            }
            tokio::task::yield_now().await;
        }
        for w in writers {
            w.await.unwrap();
        }
        // Catch up: a transaction still running somewhere (autovacuum, say) may hold the feed
        // back for a moment, never for good.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !written.lock().unwrap().is_subset(&seen) && std::time::Instant::now() < deadline {
            let page = b.two.feed_after(cursor, 500).await.unwrap();
            cursor = page.next;
            if page.chunks.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            seen.extend(page.chunks.into_iter().map(|c| c.bytes));
        }
        let written = written.lock().unwrap().clone();
        assert_eq!(written.len(), usize::from(WRITERS) * EACH);
        let missing: Vec<Vec<u8>> = written.difference(&seen).cloned().collect();
        if !missing.is_empty() {
            let why = match b.keep.downcast_ref::<PgCluster>() {
                Some(cluster) => held_or_skipped(cluster, &missing, cursor).await,
                None => String::new(),
            };
            panic!(
                "{}: {} chunks the feed did not deliver{why}",
                b.name,
                missing.len()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_that_commits_late_is_not_skipped_by_the_postgres_feed() {
    let Some(cluster) = cluster_or_skip("postgres feed") else {
        return;
    };
    let url = cluster.url("postgres");
    let store = PgDocuments::new(connect(&url).await.unwrap());
    let doc_id = nachbar_core::ids::DocumentId::random().to_string();
    let (_, chunks) = edits(4, 2, 0);
    store
        .append(vec![append(&doc_id, chunks[0].clone(), true)])
        .await
        .unwrap();
    let start = store.feed_end().await.unwrap();
    // A writer that inserted a chunk and has not committed yet (a node between its insert and
    // its commit), while another append commits after it.
    let (mut raw, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let late = raw.transaction().await.unwrap();
    late.execute(
        "INSERT INTO chunks(doc_id, hash, is_snapshot, bytes, created_at)
         VALUES ($1, '\\x01', false, '\\x0102', 0)",
        &[&doc_id],
    )
    .await
    .unwrap();
    store
        .append(vec![append(&doc_id, chunks[1].clone(), false)])
        .await
        .unwrap();
    let held = store.feed_after(start, 100).await.unwrap();
    assert!(
        held.chunks.is_empty(),
        "nothing passes a transaction still running: {} chunks",
        held.chunks.len()
    );
    late.commit().await.unwrap();
    let page = store.feed_after(held.next, 100).await.unwrap();
    let got: Vec<&[u8]> = page.chunks.iter().map(|c| c.bytes.as_slice()).collect();
    assert_eq!(
        got,
        vec![&[1u8, 2][..], chunks[1].as_slice()],
        "both, in the order of their transactions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_feed_leaves_out_its_own_appends_and_keeps_what_a_compaction_folded() {
    let Some(cluster) = cluster_or_skip("postgres feed of other nodes") else {
        return;
    };
    let url = cluster.url("postgres");
    let (a, b) = (
        PgDocuments::new(connect(&url).await.unwrap()),
        PgDocuments::new(connect(&url).await.unwrap()),
    );
    let doc_id = nachbar_core::ids::DocumentId::random().to_string();
    let (doc, chunks) = edits(7, 3, 0);
    a.append(vec![append(&doc_id, chunks[0].clone(), true)])
        .await
        .unwrap();
    let start = a.feed_end().await.unwrap();
    a.append(vec![append(&doc_id, chunks[1].clone(), false)])
        .await
        .unwrap();
    let own = a.others_after(start, 100).await.unwrap();
    assert!(own.chunks.is_empty(), "node A's own append is left out");
    assert_ne!(own.next, start, "and the cursor passes it");
    // Node B appends, and node A compacts before it reads: B's chunk is deleted, folded
    // into the snapshot, which A's feed must then deliver.
    b.append(vec![append(&doc_id, chunks[2].clone(), false)])
        .await
        .unwrap();
    a.compact(&doc_id).await.unwrap();
    assert_eq!(a.chunk_stats(&doc_id).await.unwrap().chunks, 0, "compacted");
    let mut page = a.others_after(own.next, 1).await.unwrap();
    let mut bytes: Vec<u8> = page.chunks.iter().flat_map(|c| c.bytes.clone()).collect();
    while page.more {
        page = a.others_after(page.next, 1).await.unwrap();
        bytes.extend(page.chunks.iter().flat_map(|c| c.bytes.clone()));
    }
    let seen = load_automerge(&bytes).expect("what the feed delivered loads");
    assert_eq!(
        seen.get_heads(),
        doc.get_heads(),
        "node B's change reaches node A through the snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_migrate_once_and_refuse_a_newer_schema() {
    let Some(cluster) = cluster_or_skip("postgres migrations") else {
        return;
    };
    let url = cluster.create_database("nachbar").unwrap();
    // Four nodes start at once on an empty database.
    let (a, b, c, d) = tokio::join!(connect(&url), connect(&url), connect(&url), connect(&url));
    let pools = [a, b, c, d].map(|p| p.unwrap_or_else(|e| panic!("a node did not start: {e:?}")));
    let client = pools[0].get().await.unwrap();
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM nachbar_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<i32> =
        (1..=i32::try_from(super::postgres::migrate::LATEST).unwrap()).collect();
    assert_eq!(versions, expected, "every migration applied once");
    for table in [
        "documents",
        "chunks",
        "users",
        "roles",
        "tokens",
        "web_sessions",
        "calendar_feeds",
    ] {
        let n: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = $1",
                &[&table],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "{table}");
    }
    // A node older than the schema refuses to start instead of running on it.
    client
        .execute("INSERT INTO nachbar_migrations(version) VALUES (999)", &[])
        .await
        .unwrap();
    let refused = connect(&url).await.expect_err("a newer schema is refused");
    assert!(refused.to_string().contains("newer"), "{refused}");
}

/// An access store under test: its name, the store, and what keeps it alive.
type AccessBackend = (&'static str, Arc<dyn AccessStore>, Box<dyn std::any::Any>);

/// The access stores under test: SQLite in a temporary file and PostgreSQL in a throwaway
/// cluster, with what keeps each alive.
async fn access_backends() -> Vec<AccessBackend> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("nachbar.sqlite3")).expect("open sqlite");
    let mut out: Vec<AccessBackend> = vec![(
        "sqlite",
        Arc::new(SqliteAccess::new(Arc::new(Mutex::new(store)))),
        Box::new(dir),
    )];
    if let Some(cluster) = cluster_or_skip("postgres access") {
        let pool = connect(&cluster.url("postgres")).await.expect("connect");
        out.push(("postgres", Arc::new(PgAccess::new(pool)), Box::new(cluster)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_the_directory_behave_alike_on_both_backends() {
    use crate::auth::{TokenRejection, new_token, token_hash};
    for (name, a, _keep) in access_backends().await {
        let v0 = a.directory_version().await.unwrap();
        let (hood, glazier) = ("n-lindenfeld".to_owned(), "b-glaserei".to_owned());
        let entry = crate::storage::NewNeighbourhood {
            id: &hood,
            name: "Lindenfeld",
            location: "Kassel",
            doc: "doc-of-lindenfeld",
        };
        a.add_neighbourhood(&entry, 1).await.unwrap();
        let entry = crate::storage::NewBusiness {
            id: &glazier,
            neighbourhood: &hood,
            name: "Glaserei",
            trade: "Glas",
            profile_doc: "doc-of-glaserei",
        };
        a.add_business(&entry, 1).await.unwrap();
        assert_eq!(
            a.neighbourhood_doc(&hood).await.unwrap().as_deref(),
            Some("doc-of-lindenfeld"),
            "{name}"
        );
        assert_eq!(a.neighbourhood_doc("n-nirgends").await.unwrap(), None);
        assert_eq!(
            a.neighbourhood_of_business(&glazier).await.unwrap(),
            Some(hood.clone()),
            "{name}"
        );
        let owner = a.add_user("Brandt", 1).await.unwrap();
        assert_eq!(
            a.user_named("Brandt").await.unwrap(),
            Some(owner.clone()),
            "{name}"
        );
        assert_eq!(a.user_named("Niemand").await.unwrap(), None, "{name}");
        let coach = a
            .add_user_with_role("Coach", "coach", &glazier, 1)
            .await
            .unwrap();
        assert_eq!(
            a.directory(1).await.unwrap().roles[&coach],
            vec![("coach".to_owned(), glazier.clone())],
            "{name}: the user and its role together"
        );
        a.grant_role(&owner, "owner", &glazier).await.unwrap();
        a.grant_role(&owner, "owner", &glazier).await.unwrap();
        let token = a
            .issue_token(&owner, "tablet", Some(10_000), 1)
            .await
            .unwrap();
        let dir = a.directory(5_000).await.unwrap();
        assert!(
            dir.version > v0,
            "{name}: every access change moves the version"
        );
        assert!(dir.neighbourhoods.contains(&hood), "{name}");
        assert_eq!(dir.businesses[&glazier].neighbourhood, hood, "{name}");
        assert!(dir.businesses[&glazier].active, "{name}");
        assert_eq!(
            dir.roles[&owner],
            vec![("owner".to_owned(), glazier.clone())],
            "{name}"
        );
        assert!(dir.active_tokens.contains(&token_hash(&token)), "{name}");
        // Authenticates until expiry; renewed by use (once a minute at most).
        let p = a.principal_for_token(&token, 5_000).await.unwrap().unwrap();
        assert_eq!(
            (p.user_id.as_str(), p.token_hash.clone()),
            (owner.as_str(), token_hash(&token))
        );
        assert_eq!(
            a.principal_for_token(&token, 10_000).await.unwrap(),
            Err(TokenRejection::Expired),
            "{name}"
        );
        a.token_used(&token_hash(&token), 100_000, 200_000)
            .await
            .unwrap();
        a.token_used(&token_hash(&token), 130_000, 900_000)
            .await
            .unwrap();
        assert!(
            a.principal_for_token(&token, 150_000)
                .await
                .unwrap()
                .is_ok(),
            "{name}: renewed"
        );
        assert_eq!(
            a.principal_for_token(&token, 200_000).await.unwrap(),
            Err(TokenRejection::Expired),
            "{name}: the second use within a minute renewed nothing"
        );
        assert_eq!(
            a.principal_for_token(&new_token(), 1).await.unwrap(),
            Err(TokenRejection::Unknown)
        );
        assert_eq!(
            a.principal_for_token("kurz", 1).await.unwrap(),
            Err(TokenRejection::Unknown)
        );
        // Revoked, role taken, user deleted.
        let forever = a.issue_token(&owner, "phone", None, 1).await.unwrap();
        assert!(a.revoke_token(&forever, 2).await.unwrap(), "{name}");
        assert!(
            !a.revoke_token(&forever, 3).await.unwrap(),
            "{name}: only once"
        );
        assert_eq!(
            a.principal_for_token(&forever, 4).await.unwrap(),
            Err(TokenRejection::Revoked)
        );
        let other = a.issue_token(&owner, "laptop", None, 1).await.unwrap();
        assert!(
            a.revoke_role(&owner, "owner", &glazier).await.unwrap(),
            "{name}"
        );
        assert!(
            !a.directory(5).await.unwrap().roles.contains_key(&owner),
            "{name}"
        );
        a.grant_role(&owner, "owner", &glazier).await.unwrap();
        assert!(a.delete_user(&owner, 6).await.unwrap(), "{name}");
        assert_eq!(
            a.principal_for_token(&other, 7).await.unwrap(),
            Err(TokenRejection::UserDeleted)
        );
        let after = a.directory(7).await.unwrap();
        assert!(
            !after.roles.contains_key(&owner),
            "{name}: a deleted user's roles do not count"
        );
        assert!(!after.active_tokens.contains(&token_hash(&other)), "{name}");
        assert_eq!(
            a.directory_version().await.unwrap(),
            after.version,
            "{name}"
        );
        // A business that leaves stays in the directory, inactive; only once.
        assert!(a.business_left(&glazier, 8).await.unwrap(), "{name}");
        assert!(!a.business_left(&glazier, 9).await.unwrap(), "{name}");
        let left = a.directory(9).await.unwrap();
        assert!(!left.businesses[&glazier].active, "{name}");
        assert!(left.version > after.version, "{name}");
    }
}

/// Waits (up to 10 s) until `check` holds, polling every 20 ms.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doorbell_rings_after_appends_and_the_timer_covers_a_killed_listener() {
    use super::postgres::doorbell::{self, Wake};
    use std::time::Duration;
    let Some(cluster) = cluster_or_skip("postgres doorbell") else {
        return;
    };
    let url = cluster.url("postgres");
    let writer = PgDocuments::new(connect(&url).await.unwrap());
    let reader = PgDocuments::new(connect(&url).await.unwrap());
    let (bell, listener) = doorbell::listen(&url);
    eventually("the listener connects", || bell.connects() == 1).await;
    let drain = || async { while bell.wait(Duration::from_millis(30)).await == Wake::Rang {} };
    drain().await;
    let doc_id = nachbar_core::ids::DocumentId::random().to_string();
    let (_, chunks) = edits(5, 3, 0);
    let mut cursor = reader.feed_end().await.unwrap();
    // Another node's append rings this node's doorbell.
    writer
        .append(vec![append(&doc_id, chunks[0].clone(), true)])
        .await
        .unwrap();
    assert_eq!(bell.wait(Duration::from_secs(10)).await, Wake::Rang);
    let page = reader.feed_after(cursor, 10).await.unwrap();
    assert_eq!(page.chunks.len(), 1);
    cursor = page.next;
    // The listener's connection killed: an append meanwhile still reaches the reader, which
    // wakes on its timer (or on the reconnect's ring) and reads from its cursor.
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&doorbell::LISTENER_NAME],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1, "one listening connection");
    writer
        .append(vec![append(&doc_id, chunks[1].clone(), false)])
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let arrived = loop {
        let _ = bell.wait(Duration::from_millis(300)).await;
        let page = reader.feed_after(cursor, 10).await.unwrap();
        cursor = page.next;
        if page.chunks.iter().any(|c| c.bytes == chunks[1]) {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
    };
    assert!(arrived, "the change arrived without the listener");
    // The listener is back and rings again.
    eventually("the listener reconnects", || bell.connects() == 2).await;
    drain().await;
    writer
        .append(vec![append(&doc_id, chunks[2].clone(), false)])
        .await
        .unwrap();
    assert_eq!(bell.wait(Duration::from_secs(10)).await, Wake::Rang);
    listener.abort();
}
