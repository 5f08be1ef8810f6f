//! Several nodes on one PostgreSQL (scale-out.md): clients of different nodes converge, a
//! revocation reaches every node's connections, and a node killed mid-stream again and again
//! loses nothing acknowledged while its clients carry on through the README's nginx.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ChangeHash, ROOT, ReadDoc};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::Message;

use crate::support::TIMEOUT;
use crate::support::client::{Client, Received};
use crate::support::cluster::{self, Balanced};

fn edit(doc: &mut Automerge, key: &str, value: &str) {
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, value).map(drop))
        .unwrap();
}

/// Syncs until `doc` has `heads` or [`TIMEOUT`] passed; whether it has them.
async fn synced_within(
    client: &mut Client,
    id: DocumentId,
    doc: &mut Automerge,
    state: &mut State,
    heads: &[ChangeHash],
) -> bool {
    let deadline = Instant::now() + TIMEOUT;
    while !heads.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
        if Instant::now() >= deadline {
            return false;
        }
        client.sync(id, doc, state).await;
    }
    true
}

/// Syncs until `doc` has `heads` (changes from another node arrive through the feed).
async fn sync_until(
    client: &mut Client,
    id: DocumentId,
    doc: &mut Automerge,
    state: &mut State,
    heads: &[ChangeHash],
) {
    let deadline = Instant::now() + TIMEOUT;
    while !heads.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
        assert!(
            Instant::now() < deadline,
            "not converged within {TIMEOUT:?}"
        );
        client.sync(id, doc, state).await;
    }
}

/// Waits for the first sync message of `id` on `client` and applies it; how long it took.
async fn next_sync(
    client: &mut Client,
    id: DocumentId,
    doc: &mut Automerge,
    state: &mut State,
) -> Duration {
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < TIMEOUT,
            "no sync message for {id} within {TIMEOUT:?}"
        );
        match client.recv(TIMEOUT).await {
            Some(Received::Message(Message::Sync {
                document_id, data, ..
            })) if document_id == id => {
                let took = start.elapsed();
                let message = automerge::sync::Message::decode(&data).expect("sync message");
                doc.receive_sync_message(state, message).expect("applies");
                return took;
            }
            Some(Received::Message(other)) => {
                eprintln!("while waiting for a sync message: {other:?}")
            }
            other => panic!("no sync message for {id}: {other:?}"),
        }
    }
}

/// Joins as a device's reconnect does: a 502 (a balancer found no node) or a 503 (the node's
/// database is away) is tried again shortly.
async fn join_retrying(url: &str, token: &str, peer: &str) -> Client {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match Client::try_join(url, token, peer).await {
            Ok(client) => return client,
            Err(502 | 503) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("the upgrade was refused: {status}"),
        }
    }
}

/// Joins through the balancer (see [`join_retrying`]).
async fn join_through(lb: &Balanced, tenant: &str, token: &str, peer: &str) -> Client {
    join_retrying(&lb.url(tenant), token, peer).await
}

#[tokio::test]
async fn clients_of_two_nodes_edit_one_document_and_converge() {
    let Some(db) = cluster::database("two nodes converge") else {
        return;
    };
    let nodes = cluster::nodes(&db, 2).await;
    let (ta, tb) = (
        nodes[0].user_token("Alice", "sandbox"),
        nodes[1].user_token("Bob", "sandbox"),
    );
    let id = DocumentId::random();
    let mut alice = Client::join(&nodes[0].url(), &ta, "peer-alice").await;
    let mut bob = Client::join(&nodes[1].url(), &tb, "peer-bob").await;
    assert!(alice.storage.is_some());
    assert_eq!(
        alice.storage, bob.storage,
        "one storage id for the cluster: a device's sync state carries over between nodes"
    );
    assert_ne!(alice.server, bob.server, "the nodes are told apart");

    let mut a_doc = Automerge::new().with_actor(ActorId::random());
    edit(&mut a_doc, "title", "Werkstatt");
    let mut a_state = State::new();
    alice.sync(id, &mut a_doc, &mut a_state).await;
    assert!(a_doc.has_our_changes(&a_state), "node 1 acknowledged");
    let mut b_doc = Automerge::new().with_actor(ActorId::random());
    let mut b_state = State::new();
    bob.sync(id, &mut b_doc, &mut b_state).await;
    assert_eq!(b_doc.get_heads(), a_doc.get_heads(), "node 2 loads it");

    // Live across nodes: Bob's change reaches Alice through the feed, unasked.
    edit(&mut b_doc, "title", "Werkstatt E-Rechnung");
    bob.push(id, &mut b_doc, &mut b_state).await;
    let took = next_sync(&mut alice, id, &mut a_doc, &mut a_state).await;
    println!(
        "cross-node: sent to node 2 → committed → in the feed → sync message on node 1 in {:.1} ms",
        took.as_secs_f64() * 1000.0
    );
    bob.sync(id, &mut b_doc, &mut b_state).await;
    assert!(b_doc.has_our_changes(&b_state), "node 2 acknowledged");
    sync_until(&mut alice, id, &mut a_doc, &mut a_state, &b_doc.get_heads()).await;

    // Concurrent edits on both nodes converge to the same heads.
    for i in 0..10 {
        edit(&mut a_doc, &format!("a{i}"), "Alice");
        edit(&mut b_doc, &format!("b{i}"), "Bob");
        alice.push(id, &mut a_doc, &mut a_state).await;
        bob.push(id, &mut b_doc, &mut b_state).await;
    }
    let deadline = Instant::now() + TIMEOUT;
    while a_doc.get_heads() != b_doc.get_heads() {
        assert!(
            Instant::now() < deadline,
            "the two nodes' clients did not converge"
        );
        alice.sync(id, &mut a_doc, &mut a_state).await;
        bob.sync(id, &mut b_doc, &mut b_state).await;
    }
}

#[tokio::test]
async fn devices_on_three_nodes_pushing_first_changes_of_one_new_document_at_once_converge() {
    let Some(db) = cluster::database("first changes on three nodes") else {
        return;
    };
    let nodes = cluster::nodes(&db, 3).await;
    for round in 0..3 {
        let id = DocumentId::random();
        let mut devices = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let token = node.user_token(&format!("Gerät {round}-{i}"), "sandbox");
            let client = Client::join(&node.url(), &token, &format!("peer-{round}-{i}")).await;
            let mut doc = Automerge::new().with_actor(ActorId::random());
            edit(&mut doc, &format!("device{i}"), "offline work");
            devices.push((client, doc, State::new()));
        }
        // Every device pushes its first changes of the same new document at once.
        let pushes = devices
            .iter_mut()
            .map(|(client, doc, state)| client.push(id, doc, state));
        futures_util::future::join_all(pushes).await;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let heads: Vec<Vec<ChangeHash>> =
                devices.iter().map(|(_, doc, _)| doc.get_heads()).collect();
            let all_three = devices.iter().all(|(_, doc, _)| {
                (0..3).all(|i| doc.get(ROOT, format!("device{i}")).unwrap().is_some())
            });
            if all_three && heads.windows(2).all(|w| w[0] == w[1]) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: the three devices did not converge: {heads:?}"
            );
            for (client, doc, state) in &mut devices {
                for r in client.sync(id, doc, state).await {
                    eprintln!("round {round}: besides sync: {r:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_role_revoked_through_one_node_closes_the_document_on_the_others() {
    let Some(db) = cluster::database("revocation across nodes") else {
        return;
    };
    let nodes = cluster::nodes(&db, 3).await;
    let user = nodes[2].admin(&["add-user", "--name", "Carla", "--role", "sandbox"]);
    let token = nodes[2].admin(&["issue-token", "--user", &user]);
    let id = DocumentId::random();
    let mut doc = Automerge::new().with_actor(ActorId::random());
    edit(&mut doc, "title", "Plan");
    let mut on_first = Client::join(&nodes[0].url(), &token, "carla-phone").await;
    on_first.sync(id, &mut doc, &mut State::new()).await;
    let mut on_second = Client::join(&nodes[1].url(), &token, "carla-tablet").await;
    let mut copy = Automerge::new();
    on_second.sync(id, &mut copy, &mut State::new()).await;
    assert_eq!(copy.get_heads(), doc.get_heads());

    nodes[2].admin(&[
        "revoke-role",
        "--user",
        &user,
        "--role",
        "sandbox",
        "--scope",
        "",
    ]);
    let revoked = Instant::now();
    for (node, client) in [(1, &mut on_first), (2, &mut on_second)] {
        let told = loop {
            match client.recv(Duration::from_secs(5)).await {
                Some(Received::Message(Message::DocUnavailable { document_id, .. }))
                    if document_id == id =>
                {
                    break revoked.elapsed();
                }
                Some(Received::Message(_)) => {}
                other => panic!("node {node}: the document was not closed: {other:?}"),
            }
        };
        println!(
            "node {node}: document closed {:.0} ms after the revocation committed",
            told.as_secs_f64() * 1000.0
        );
        // The bound of the issue is one second. These nodes' timer waits 30 s, so only the
        // notification can have brought it; slack for a loaded CI machine.
        assert!(told < Duration::from_secs(2), "node {node}: {told:?}");
    }
}

#[tokio::test]
async fn a_node_killed_mid_stream_twenty_times_loses_nothing_acknowledged() {
    let Some(db) = cluster::database("SIGKILL behind nginx") else {
        return;
    };
    let Some(mut lb) = Balanced::start(&db, "SIGKILL behind nginx").await else {
        return;
    };
    let writer_token = lb.nodes[0].user_token("Schreiber", "sandbox");
    let reader_token = lb.nodes[0].user_token("Leser", "sandbox");
    let mut node_of = HashMap::new();
    for (i, node) in lb.nodes.iter().enumerate() {
        let probe = Client::join(&node.url(), &reader_token, "probe").await;
        node_of.insert(probe.server.clone(), i);
    }
    let id = DocumentId::random();
    let mut doc = Automerge::new().with_actor(ActorId::random());
    let mut writer = join_through(&lb, "glaserei", &writer_token, "writer").await;
    let mut state = State::new();
    let mut acknowledged: Vec<ChangeHash> = Vec::new();
    let mut recovered = Vec::new();
    for round in 0..20 {
        edit(&mut doc, "round", &round.to_string());
        writer.sync(id, &mut doc, &mut state).await;
        assert!(doc.has_our_changes(&state), "round {round}: acknowledged");
        acknowledged.extend(doc.get_heads());
        // More changes in flight, and the node dies under them.
        for k in 0..5 {
            edit(&mut doc, &format!("r{round}-{k}"), "unterwegs");
            writer.push(id, &mut doc, &mut state).await;
        }
        let victim = node_of[&writer.server];
        let killed = Instant::now();
        lb.nodes[victim].stop(true).await;

        // A fresh device through the balancer lands on a live node and finds every
        // acknowledged change.
        let mut fresh = join_through(&lb, "glaserei", &reader_token, "fresh").await;
        assert_ne!(node_of[&fresh.server], victim, "round {round}");
        let mut seen = Automerge::new();
        fresh.sync(id, &mut seen, &mut State::new()).await;
        let lost: Vec<_> = acknowledged
            .iter()
            .filter(|h| seen.get_change_by_hash(h).is_none())
            .collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged and lost: {lost:?}"
        );

        // The writer reconnects through the balancer and uploads what was in flight.
        writer = join_through(&lb, "glaserei", &writer_token, "writer").await;
        state = State::new();
        writer.sync(id, &mut doc, &mut state).await;
        assert!(doc.has_our_changes(&state), "round {round}: caught up");
        sync_until(
            &mut fresh,
            id,
            &mut seen,
            &mut State::new(),
            &doc.get_heads(),
        )
        .await;
        recovered.push(killed.elapsed());
        lb.nodes[victim].start_again().await;
        // A restarted node has a peer id of its own.
        let probe = Client::join(&lb.nodes[victim].url(), &reader_token, "probe").await;
        node_of.insert(probe.server, victim);
    }
    recovered.sort();
    println!(
        "SIGKILL of the writer's node → writer reconnected through nginx, caught up, and a device on another node converged: p50 {:.0} ms, max {:.0} ms (20 kills)",
        recovered[recovered.len() / 2].as_secs_f64() * 1000.0,
        recovered[recovered.len() - 1].as_secs_f64() * 1000.0
    );
}

#[tokio::test]
async fn postgresql_restarted_under_load_loses_nothing_acknowledged() {
    let Some(db) = cluster::database("PostgreSQL restarted under load") else {
        return;
    };
    let nodes = cluster::nodes(&db, 2).await;
    let token = nodes[0].user_token("Schreiber", "sandbox");
    let reader = nodes[0].user_token("Leser", "sandbox");
    let id = DocumentId::random();
    let mut doc = Automerge::new().with_actor(ActorId::random());
    let mut writer = Client::join(&nodes[0].url(), &token, "writer").await;
    let mut state = State::new();
    let mut acknowledged: Vec<ChangeHash> = Vec::new();
    for i in 0..5 {
        edit(&mut doc, &format!("vorher-{i}"), "x");
        writer.sync(id, &mut doc, &mut state).await;
        assert!(doc.has_our_changes(&state), "acknowledged before the crash");
        acknowledged.extend(doc.get_heads());
    }
    // Changes in flight while PostgreSQL goes away at once and comes back a second later.
    for k in 0..10 {
        edit(&mut doc, &format!("unterwegs-{k}"), "y");
        writer.push(id, &mut doc, &mut state).await;
    }
    let crashed = Instant::now();
    db.crash_and_restart(Duration::from_secs(1)).await;

    // Before the writer says anything more: a device on the other node finds every
    // acknowledged change (the writer's re-upload cannot have put it back yet).
    let mut fresh = join_retrying(&nodes[1].url(), &reader, "fresh").await;
    let mut seen = Automerge::new();
    let mut seen_state = State::new();
    sync_until(&mut fresh, id, &mut seen, &mut seen_state, &acknowledged).await;

    // The writer carries on (the node may have closed it with 1013 when a commit failed, or
    // refuse a new connection with 503 until its pool reconnects) until the node acknowledges.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "the writer never caught up");
        let other = writer.sync(id, &mut doc, &mut state).await;
        if doc.has_our_changes(&state) && other.is_empty() {
            break;
        }
        writer = join_retrying(&nodes[0].url(), &token, "writer").await;
        state = State::new();
    }
    println!(
        "PostgreSQL crashed and back after 1 s: the writer's changes acknowledged again {:.0} ms after the crash",
        crashed.elapsed().as_secs_f64() * 1000.0
    );
    // And the other node's device converges with what was in flight.
    sync_until(&mut fresh, id, &mut seen, &mut seen_state, &doc.get_heads()).await;
}

#[tokio::test]
async fn changes_still_arrive_when_the_feed_listeners_are_killed() {
    let Some(db) = cluster::database("feed listeners killed") else {
        return;
    };
    // A short timer here: what a killed listener misses, the timer reads.
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(
            crate::support::server::TestServer::start_on(&db.url, &["--feed-poll-ms", "500"]).await,
        );
    }
    let token = nodes[0].user_token("Anna", "sandbox");
    let id = DocumentId::random();
    // The document exists first (created through node 1), then each node's device opens it.
    let mut first = Automerge::new().with_actor(ActorId::random());
    edit(&mut first, "title", "Schulung");
    let mut docs: Vec<(Client, Automerge, State)> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut client = Client::join(&node.url(), &token, &format!("device-{i}")).await;
        let mut doc = first.fork().with_actor(ActorId::random());
        let mut state = State::new();
        client.sync(id, &mut doc, &mut state).await;
        assert!(doc.has_our_changes(&state), "node {i} holds the document");
        docs.push((client, doc, state));
    }
    for round in 0..3 {
        assert_eq!(
            db.terminate_listeners(),
            3,
            "round {round}: one listener per node"
        );
        // Right after the kill, each node writes; every node's clients get all three.
        for (i, (client, doc, state)) in docs.iter_mut().enumerate() {
            edit(doc, &format!("n{i}-r{round}"), "x");
            client.push(id, doc, state).await;
        }
        let mut all = Automerge::new();
        for (_, doc, _) in &docs {
            all.merge(&mut doc.clone()).unwrap();
        }
        let heads = all.get_heads();
        for (i, (client, doc, state)) in docs.iter_mut().enumerate() {
            if !synced_within(client, id, doc, state, &heads).await {
                // What each node holds in memory (a fresh device of each), what the database
                // holds, and what could hold the feed back: the failure says where it stuck.
                let mut held = Vec::new();
                for (n, node) in nodes.iter().enumerate() {
                    let mut probe =
                        Client::join(&node.url(), &token, &format!("probe-{round}-{n}")).await;
                    let mut copy = Automerge::new();
                    probe.sync(id, &mut copy, &mut State::new()).await;
                    let missing: Vec<&ChangeHash> = heads
                        .iter()
                        .filter(|h| copy.get_change_by_hash(h).is_none())
                        .collect();
                    held.push(format!("node {n} lacks {missing:?}"));
                }
                let activity = db.activity();
                // And what the device's sync state believes of the server: an empty `have`
                // makes Automerge send only what the server names in `need`.
                let device = format!(
                    "device heads {:?}, their heads {:?}, their need {:?}, their have {}, shared heads {:?}, in flight {}",
                    doc.get_heads(),
                    state.their_heads,
                    state.their_need,
                    state
                        .their_have
                        .as_ref()
                        .map_or_else(|| "none".to_owned(), |h| format!("{} entries", h.len())),
                    state.shared_heads,
                    state.in_flight,
                );
                panic!(
                    "round {round}: device {i} did not converge within {TIMEOUT:?}; {}; {device}; backends: {activity}",
                    held.join("; ")
                );
            }
        }
    }
}

#[tokio::test]
async fn a_single_node_moves_to_postgresql_with_its_history_tokens_and_storage_id() {
    let Some(db) = cluster::database("migrate-to-postgres") else {
        return;
    };
    let single = crate::support::server::TestServer::start().await;
    let token = single.user_token("Umzug", "sandbox");
    let hood = single.admin(&["add-neighbourhood", "--name", "Lindenfeld"]);
    let id = DocumentId::random();
    let mut doc = Automerge::new().with_actor(ActorId::random());
    let mut client = Client::join(&single.url(), &token, "device").await;
    let storage_before = client.storage.clone();
    let mut state = State::new();
    for i in 0..5 {
        edit(&mut doc, "stand", &format!("Version {i}"));
        client.sync(id, &mut doc, &mut state).await;
    }
    assert!(doc.has_our_changes(&state));
    drop(client);
    let data = single.terminate().await;

    let migrate = |args: &[&str]| {
        std::process::Command::new(crate::support::server::binary())
            .args(["--database", &db.url, "--data-dir"])
            .arg(tempfile::tempdir().expect("tempdir").path())
            .args(["admin", "migrate-to-postgres", "--from"])
            .arg(data.path())
            .args(args)
            .output()
            .expect("admin runs")
    };
    let out = migrate(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report.contains("documents load with the same heads"),
        "{report}"
    );
    let again = migrate(&[]);
    assert!(!again.status.success(), "a second migration is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A PostgreSQL node: the device's token still works, the storage id is the same (so the
    // device's sync state carries over), and the document is there with its whole history.
    let node = crate::support::server::TestServer::start_on(&db.url, &[]).await;
    let mut client = Client::join(&node.url(), &token, "device").await;
    assert_eq!(client.storage, storage_before, "the same storage id");
    let mut copy = Automerge::new();
    client.sync(id, &mut copy, &mut State::new()).await;
    assert_eq!(copy.get_heads(), doc.get_heads());
    assert_eq!(
        copy.get_changes(&[]).len(),
        doc.get_changes(&[]).len(),
        "every change"
    );
    // The directory came along: the neighbourhood is there for a new coordinator.
    node.admin(&[
        "add-user",
        "--name",
        "Koordination",
        "--role",
        "coordinator",
        "--scope",
        &hood,
    ]);
}
