//! Load client of the sync server (`cargo bench -p nachbar-tests --bench load`): real nachbar
//! documents under access control, our codec and automerge over real WebSockets against the
//! release server binary. Prints:
//! - fan-out latency: 1 writer (the coach) and 30 readers (staff of the business), 500 answer
//!   edits at 20 ms intervals; edit made → change present at a reader (p50/p99/max);
//! - the fsync time of this disk (what every durable commit pays);
//! - throughput: 100 writers on 10 documents, each with one sync message in flight, for 10 s:
//!   changes made durable and acknowledged per second; and 100 writers on 100 documents on a
//!   server with one hub worker and one with two (the hub's work on one core and on two);
//! - with PostgreSQL installed, the same on nodes sharing one throwaway PostgreSQL: throughput
//!   on 1 and on 3 nodes (writers spread over them), the fan-out across nodes (the writer
//!   on node 1, the readers on node 2), and failover: 20 writers on a node that is SIGKILLed
//!   mid-stream reconnect to the other two; the time from the kill until every writer holds
//!   every change any of them made (five kills).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::sync::{State, SyncDoc};
use automerge::{ActorId, Automerge, ChangeHash};
use futures_util::StreamExt;
use nachbar_core::catalogue;
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::label::Lang;
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
use nachbar_core::protocol::{Limits, Message};
use nachbar_core::time::Timestamp;
use tokio_tungstenite::tungstenite::Message as Ws;

mod common;
use common::ws::Conn;
use common::{Server, fsync_times, histogram_quantile_ms, metrics, percentile};

/// A new assessment of `business` written by `coach`, pushed to the server once.
async fn new_assessment(
    port: u16,
    token: &str,
    coach: &str,
    hood: &str,
    business: &str,
) -> (DocumentId, AssessmentDoc) {
    let ctx = EditContext::new(coach, Timestamp::now());
    let new = NewAssessment {
        neighbourhood: hood,
        business,
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some(coach),
        language: Lang::De,
    };
    let (a, _) = AssessmentDoc::create(ActorId::random(), &ctx, &new).unwrap();
    let id = DocumentId::random();
    let mut conn = Conn::open(port, token, &format!("creator-{id}")).await;
    let mut state = State::new();
    let doc = a.inner().automerge().clone();
    conn.push(id, &doc, &mut state).await;
    let mut copy = doc.clone();
    while !copy.has_our_changes(&state) {
        conn.receive(&mut copy, &mut state).await;
        conn.push(id, &copy, &mut state).await;
    }
    (id, a)
}

/// The fan-out latency: the writer on `writer_node`, 30 readers on `reader_node` (the same
/// server, or another node on the same database).
async fn fan_out(
    writer_node: &Server,
    reader_node: &Server,
    label: &str,
    hood: &str,
    business: &str,
) {
    let server = writer_node;
    let (coach, coach_token) = server.user(&format!("Coach {label}"), "coach", business);
    let (id, mut assessment) =
        new_assessment(server.port, &coach_token, &coach, hood, business).await;
    let sent: Arc<Mutex<HashMap<ChangeHash, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut readers = Vec::new();
    for r in 0..30 {
        let (_, token) = server.user(&format!("Staff {label} {r}"), "staff", business);
        let (sent, latencies) = (Arc::clone(&sent), Arc::clone(&latencies));
        let mut conn = Conn::open(reader_node.port, &token, &format!("reader-{r}")).await;
        readers.push(tokio::spawn(async move {
            let mut doc = Automerge::new();
            let mut state = State::new();
            conn.push(id, &doc, &mut state).await;
            let mut seen = 0usize;
            while seen < 500 {
                let before = doc.get_heads();
                if !conn.receive(&mut doc, &mut state).await {
                    break;
                }
                let now = Instant::now();
                let new: Vec<ChangeHash> = doc
                    .get_changes_meta(&before)
                    .iter()
                    .map(|c| c.hash)
                    .collect();
                {
                    let sent = sent.lock().unwrap();
                    let mut lat = latencies.lock().unwrap();
                    for h in new {
                        if let Some(t0) = sent.get(&h) {
                            lat.push(now.duration_since(*t0).as_secs_f64() * 1000.0);
                            seen += 1;
                        }
                    }
                }
                conn.push(id, &doc, &mut state).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut writer = Conn::open(server.port, &coach_token, "writer").await;
    let mut state = State::new();
    // The writer's connection works on a plain replica that receives each typed edit's change.
    let mut mirror = assessment.inner().automerge().clone();
    let questions: Vec<&str> = catalogue::release_1_0()
        .questions
        .iter()
        .filter(|q| q.kind == catalogue::QuestionKind::Level)
        .map(|q| q.id.as_str())
        .collect();
    let mut interval = tokio::time::interval(Duration::from_millis(20));
    for i in 0..500 {
        interval.tick().await;
        let ctx = EditContext::new(&coach, Timestamp::now());
        let applied = assessment
            .set_level(
                &ctx,
                questions[i % questions.len()],
                ((i / questions.len()) % 5) as i64,
            )
            .unwrap();
        if let Some(c) = applied.change {
            mirror.load_incremental(&c.bytes).unwrap();
            sent.lock().unwrap().insert(c.hash, Instant::now());
        }
        writer.push(id, &mirror, &mut state).await;
        // Take in the acknowledgements that arrived meanwhile, without waiting.
        while let Ok(Some(Ok(Ws::Binary(b)))) =
            tokio::time::timeout(Duration::ZERO, writer.ws.next()).await
        {
            if let Ok(Message::Sync { data, .. }) = Message::decode(&b, &Limits::default()) {
                let m = automerge::sync::Message::decode(&data).unwrap();
                mirror.receive_sync_message(&mut state, m).unwrap();
            }
        }
    }
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(30), r).await;
    }
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    println!(
        "| fan-out latency, 1 writer → 30 readers, 500 edits at 20 ms ({label}) | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms | {} deliveries |",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        lat.len()
    );
}

/// Durable changes per second: 100 writers on `documents` documents, spread over `nodes` (one
/// server, or nodes on one database).
async fn throughput(nodes: &[&Server], documents: usize, label: &str, hood: &str, business: &str) {
    let server = nodes[0];
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    let (coach, token) = server.user(&format!("Coach T {label}"), "coach", business);
    let mut docs = Vec::new();
    for _ in 0..documents {
        docs.push(new_assessment(server.port, &token, &coach, hood, business).await);
    }
    let seconds = 10;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut writers = Vec::new();
    for w in 0..100 {
        let (id, a) = &docs[w % documents];
        let (id, mut doc) = (
            *id,
            a.inner().automerge().clone().with_actor(ActorId::random()),
        );
        let token = token.clone();
        let port = ports[w % ports.len()];
        writers.push(tokio::spawn(async move {
            let mut conn = Conn::open(port, &token, &format!("tp-{w}")).await;
            let mut state = State::new();
            let mut made = Vec::new();
            let mut n = 0i64;
            while Instant::now() < deadline {
                doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                    use automerge::transaction::Transactable;
                    tx.put(automerge::ROOT, format!("w{w}"), n).map(drop)
                })
                .unwrap();
                n += 1;
                made.extend(doc.get_last_local_change().map(|c| c.hash()));
                conn.push(id, &doc, &mut state).await;
                if !conn.receive(&mut doc, &mut state).await {
                    break;
                }
                // Take in what else arrived (the other writers' changes) before the next edit.
                while let Ok(Some(Ok(Ws::Binary(b)))) =
                    tokio::time::timeout(Duration::ZERO, conn.ws.next()).await
                {
                    if let Ok(Message::Sync { data, .. }) = Message::decode(&b, &Limits::default())
                    {
                        let m = automerge::sync::Message::decode(&data).unwrap();
                        doc.receive_sync_message(&mut state, m).unwrap();
                    }
                }
            }
            // Acknowledged: made here and reachable from the heads the server advertised.
            let theirs = state.their_heads.clone().unwrap_or_default();
            let unacked: std::collections::HashSet<ChangeHash> = doc
                .get_changes_meta(&theirs)
                .iter()
                .map(|c| c.hash)
                .collect();
            made.iter().filter(|h| !unacked.contains(h)).count() as u64
        }));
    }
    let mut total = 0;
    for w in writers {
        total += w.await.unwrap_or(0);
    }
    println!(
        "| throughput, 100 writers on {documents} documents, {seconds} s ({label}) | {:.0} changes/s durable and acknowledged | | | {total} changes |",
        total as f64 / seconds as f64
    );
}

fn main() {
    common::pin_benchmark();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = Server::start_with(&WRITERS_OF_ONE_USER);
    let (hood, business) = neighbourhood(&server);
    println!("| figure | | | | |\n|---|---|---|---|---|");
    let (p50, p99) = fsync_times(server.dir.path());
    println!(
        "| fsync of this disk (4 KiB write + fsync) | p50 {p50:.2} ms | p99 {p99:.2} ms | | |"
    );
    runtime.block_on(fan_out(&server, &server, "SQLite", &hood, &business));
    let text = metrics(server.port);
    let bound = |q| {
        histogram_quantile_ms(&text, "nachbar_fanout_latency_seconds", q)
            .unwrap_or_else(|| "?".to_owned())
    };
    println!(
        "| server's share: change arrived → round sent, commit included (hub clock in µs, buckets of 50–500 µs up to 5 ms) | p50 ≤ {} ms | p99 ≤ {} ms | | |",
        bound(0.5),
        bound(0.99)
    );
    runtime.block_on(throughput(&[&server], 10, "SQLite", &hood, &business));
    drop(server);
    // The hub's work on one and on two cores (when pinned, both servers share core 0).
    for workers in ["1", "2"] {
        let mut flags = WRITERS_OF_ONE_USER.to_vec();
        flags.extend(["--hub-workers", workers]);
        let server = Server::start_with(&flags);
        let (hood, business) = neighbourhood(&server);
        let label = format!("SQLite, {workers} hub worker(s)");
        runtime.block_on(throughput(&[&server], 100, &label, &hood, &business));
    }
    on_postgres(&runtime);
}

/// Failover: 20 writers on `victim` edit one document; `victim` is SIGKILLed mid-stream and
/// each writer reconnects to one of `alive` (as a balancer passes over a dead node) with its
/// sync state (one storage id for the cluster); the time from the kill until every writer
/// holds every change any of them made.
async fn failover(victim: &mut Server, alive: [u16; 2], hood: &str, business: &str) -> f64 {
    const WRITERS: usize = 20;
    let (coach, token) = victim.user("Coach Failover", "coach", business);
    let (id, a) = new_assessment(victim.port, &token, &coach, hood, business).await;
    let heads: Arc<Mutex<Vec<Option<Vec<ChangeHash>>>>> = Arc::new(Mutex::new(vec![None; WRITERS]));
    let converged: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let mut doc = a.inner().automerge().clone().with_actor(ActorId::random());
        let (token, heads, converged) = (token.clone(), Arc::clone(&heads), Arc::clone(&converged));
        let port = victim.port;
        writers.push(tokio::spawn(async move {
            let mut state = State::new();
            let edit = |doc: &mut Automerge, n: i64| {
                doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                    use automerge::transaction::Transactable;
                    tx.put(automerge::ROOT, format!("f{w}"), n).map(drop)
                })
                .unwrap();
            };
            // Writing to the victim until it dies under us.
            let mut conn = Conn::open(port, &token, &format!("fo-{w}")).await;
            let mut n = 0;
            loop {
                n += 1;
                edit(&mut doc, n);
                if !conn.push(id, &doc, &mut state).await {
                    break;
                }
                match tokio::time::timeout(
                    Duration::from_millis(200),
                    conn.receive(&mut doc, &mut state),
                )
                .await
                {
                    Ok(true) | Err(_) => {}
                    Ok(false) => break,
                }
            }
            // One more edit made offline, then on to a live node with the sync state a device
            // keeps (what was shared; nothing in flight on a connection that is gone).
            edit(&mut doc, n + 1);
            state = State::decode(&state.encode()).expect("a sync state");
            let mut conn = Conn::open(alive[w % 2], &token, &format!("fo-{w}-again")).await;
            loop {
                conn.push(id, &doc, &mut state).await;
                let _ = tokio::time::timeout(
                    Duration::from_millis(50),
                    conn.receive(&mut doc, &mut state),
                )
                .await;
                let mut all = heads.lock().unwrap();
                all[w] = Some(doc.get_heads());
                if all.iter().all(|h| h.is_some() && *h == all[0]) {
                    converged.lock().unwrap().get_or_insert_with(Instant::now);
                }
                if converged.lock().unwrap().is_some() && all[w] == all[0] {
                    break;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let killed = Instant::now();
    victim.kill();
    // One deadline for all writers; whoever is left then is stopped (the figure is NaN).
    let aborts: Vec<_> = writers.iter().map(|w| w.abort_handle()).collect();
    let _ = tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(writers),
    )
    .await;
    for a in aborts {
        a.abort();
    }
    let done = *converged.lock().unwrap();
    done.map_or(f64::NAN, |t| {
        t.duration_since(killed).as_secs_f64() * 1000.0
    })
}

/// The throughput figure's 100 writers are one user's connections (the default allows 32).
const WRITERS_OF_ONE_USER: [&str; 2] = ["--max-connections-per-user", "128"];

/// A neighbourhood with one business; (neighbourhood, business).
fn neighbourhood(server: &Server) -> (String, String) {
    server.admin(&["init"]);
    let hood = server.admin(&["add-neighbourhood", "--name", "Lastpark"]);
    let business = server.admin(&[
        "add-business",
        "--neighbourhood",
        &hood,
        "--name",
        "Lastbetrieb",
    ]);
    (hood, business)
}

// The server crate's throwaway cluster (initdb into a temporary directory, a Unix socket).
#[path = "../../sync-server/src/pg_cluster.rs"]
#[allow(dead_code, unreachable_pub)]
mod pg_cluster;

/// The figures of nodes on one PostgreSQL, when it is installed.
fn on_postgres(runtime: &tokio::runtime::Runtime) {
    let cluster = match pg_cluster::PgCluster::start() {
        Ok(c) => c,
        Err(e) => {
            println!("SKIPPED: the PostgreSQL figures: {e}");
            return;
        }
    };
    let url = cluster.create_database("nachbar").expect("createdb");
    let on = |url: &str| {
        let mut flags = vec!["--database", url];
        flags.extend(WRITERS_OF_ONE_USER);
        Server::start_with(&flags)
    };
    let one = on(&url);
    let (hood, business) = neighbourhood(&one);
    runtime.block_on(throughput(
        &[&one],
        10,
        "PostgreSQL, 1 node",
        &hood,
        &business,
    ));
    let two = on(&url);
    let three = on(&url);
    runtime.block_on(throughput(
        &[&one, &two, &three],
        10,
        "PostgreSQL, 3 nodes",
        &hood,
        &business,
    ));
    runtime.block_on(fan_out(
        &one,
        &two,
        "PostgreSQL, writer on node 1, readers on node 2",
        &hood,
        &business,
    ));
    drop(one);
    let mut took = Vec::new();
    for _ in 0..5 {
        let mut victim = on(&url);
        let alive = [two.port, three.port];
        took.push(runtime.block_on(failover(&mut victim, alive, &hood, &business)));
    }
    took.sort_by(f64::total_cmp);
    println!(
        "| failover: node SIGKILLed under 20 writers → every writer converged through the other two nodes (5 kills) | p50 {:.0} ms | max {:.0} ms | | {took:.0?} |",
        percentile(&took, 0.5),
        took.last().copied().unwrap_or(f64::NAN),
    );
}
