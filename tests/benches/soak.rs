//! Soak of the release server (issue 12): churn for `SOAK_SECS` (3600 by default) and watch
//! that nothing a peer makes the server keep piles up. 300 honest connections of 20 users join,
//! edit one of 40 documents, sync until acknowledged, stay a moment and leave, over and over;
//! the 40 documents in use move on to 40 others every 2 minutes (as a neighbourhood's work
//! moves on), so documents go idle, are evicted 5 s after their last peer and a history that
//! grows without end is not mistaken for a leak; 6 hostile connections
//! sit at their limits (ephemeral floods, guessed document ids, garbage frames) and reconnect
//! when closed. Every 10 s: the server's RSS and open file descriptors. At the end every
//! acknowledged edit must be on the server (a fresh peer fetches each document).
//!
//! `SOAK_SECS=3600 cargo bench -p nachbar-tests --bench soak`

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ReadDoc};
use futures_util::SinkExt;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::Message;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as Ws;

mod common;
use common::Server;
use common::ws::Conn;

const HONEST: usize = 300;
const USERS: usize = 20;
const DOCS: usize = 40;
const HOSTILE: usize = 6;
/// How long a set of documents is in use.
const WINDOW: Duration = Duration::from_secs(120);

/// The id of document number `n` (the same on every task).
fn doc_id(n: usize) -> DocumentId {
    let mut bytes = [0x5a; 16];
    bytes[..8].copy_from_slice(&(n as u64).to_le_bytes());
    DocumentId::from_bytes(bytes)
}

/// A small xorshift generator per task (no shared state, no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Acknowledged edits: (document, key) → the highest value the server acknowledged.
type Acked = Arc<Mutex<HashMap<(usize, String), i64>>>;

/// One honest peer, forever until `stop`: connect, edit a document, sync until the server
/// has the edit, read a while, leave.
async fn honest(
    port: u16,
    task: usize,
    token: String,
    start: Instant,
    acked: Acked,
    stop: Arc<AtomicBool>,
    sessions: Arc<AtomicU64>,
) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((task as u64 + 1) * 0x2545_f491));
    let mut replicas: HashMap<usize, Automerge> = HashMap::new();
    let mut counter = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let window = (start.elapsed().as_secs() / WINDOW.as_secs()) as usize;
        let d = window * DOCS + rng.below(DOCS as u64) as usize;
        replicas.retain(|n, _| *n >= window * DOCS);
        let mut conn = Conn::open(port, &token, &format!("honest-{task}-{counter}")).await;
        sessions.fetch_add(1, Ordering::Relaxed);
        let doc = replicas.entry(d).or_insert_with(|| {
            Automerge::new().with_actor(ActorId::from(
                [task.to_le_bytes(), (d as u64).to_le_bytes()].concat(),
            ))
        });
        counter += 1;
        let key = format!("task-{task}");
        let _ = doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, key.as_str(), counter)?;
            Ok(())
        });
        let mut state = State::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        conn.push(doc_id(d), doc, &mut state).await;
        while !doc.has_our_changes(&state) && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(5), conn.receive(doc, &mut state)).await
            {
                Ok(true) => {
                    conn.push(doc_id(d), doc, &mut state).await;
                }
                _ => break,
            }
        }
        if doc.has_our_changes(&state) {
            let mut a = acked.lock().await;
            let v = a.entry((d, key.clone())).or_insert(0);
            *v = (*v).max(counter);
        }
        // Stay and read for a moment, then leave.
        let stay = Duration::from_millis(500 + rng.below(4500));
        let until = Instant::now() + stay;
        while Instant::now() < until {
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, conn.receive(doc, &mut state)).await {
                Ok(true) => {
                    conn.push(doc_id(d), doc, &mut state).await;
                }
                Ok(false) | Err(_) => break,
            }
        }
        let _ = conn.ws.close(None).await;
        tokio::time::sleep(Duration::from_millis(rng.below(2000))).await;
    }
}

/// One hostile peer at its limits: ephemeral floods, guessed ids, garbage; reconnects when
/// closed.
async fn hostile(
    port: u16,
    task: usize,
    token: String,
    stop: Arc<AtomicBool>,
    closed: Arc<AtomicU64>,
) {
    let mut rng = Rng(0xdead_beef ^ task as u64);
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let mut conn = Conn::open(port, &token, &format!("hostile-{task}-{round}")).await;
        let doc = DocumentId::from_bytes([rng.next() as u8; 16]);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) && !stop.load(Ordering::Relaxed) {
            let frame = match task % 3 {
                // Ephemeral messages a little above the rate limit.
                0 => Message::Ephemeral {
                    sender_id: conn.me.clone(),
                    target_id: conn.server.clone(),
                    document_id: doc,
                    session_id: format!("s{}", rng.below(1000)),
                    count: rng.next() >> 11,
                    data: vec![0xa0],
                }
                .encode(),
                // Requests for ids that do not exist.
                1 => Message::Request {
                    sender_id: conn.me.clone(),
                    target_id: conn.server.clone(),
                    document_id: DocumentId::from_bytes(
                        rng.next().to_le_bytes().repeat(2).try_into().unwrap(),
                    ),
                    data: Automerge::new()
                        .generate_sync_message(&mut State::new())
                        .unwrap()
                        .encode(),
                }
                .encode(),
                // Bytes that are no message.
                _ => (0..64).map(|_| rng.next() as u8).collect(),
            };
            if conn.ws.send(Ws::Binary(frame.into())).await.is_err() {
                break;
            }
            let pause = if task.is_multiple_of(3) { 15 } else { 300 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        closed.fetch_add(1, Ordering::Relaxed);
        let _ = conn.ws.close(None).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The server's resident memory (KiB) and open file descriptors.
fn rss_and_fds(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

fn main() {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3600);
    let server = Server::start_with(&["--evict-after-secs", "5"]);
    let port = server.port;
    let pid = server.pid();
    let tokens: Vec<String> = (0..USERS)
        .map(|i| server.user(&format!("honest-{i}"), "sandbox", "").1)
        .collect();
    let hostile_token = server.user("hostile", "sandbox", "").1;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let acked: Acked = Arc::default();
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let sessions = Arc::new(AtomicU64::new(0));
        let closed = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for task in 0..HONEST {
            tasks.push(tokio::spawn(honest(
                port,
                task,
                tokens[task % USERS].clone(),
                started,
                Arc::clone(&acked),
                Arc::clone(&stop),
                Arc::clone(&sessions),
            )));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for task in 0..HOSTILE {
            tasks.push(tokio::spawn(hostile(
                port,
                task,
                hostile_token.clone(),
                Arc::clone(&stop),
                Arc::clone(&closed),
            )));
        }
        let start = Instant::now();
        let warm_up = Duration::from_secs((secs / 10).max(60).min(secs));
        let mut after_warm_up: Vec<(u64, usize)> = Vec::new();
        println!("t_s\trss_kib\tfds\tsessions\thostile_rounds");
        while start.elapsed() < Duration::from_secs(secs) {
            tokio::time::sleep(Duration::from_secs(10)).await;
            let (rss, fds) = rss_and_fds(pid);
            println!(
                "{}\t{rss}\t{fds}\t{}\t{}",
                start.elapsed().as_secs(),
                sessions.load(Ordering::Relaxed),
                closed.load(Ordering::Relaxed)
            );
            if start.elapsed() >= warm_up {
                after_warm_up.push((rss, fds));
            }
        }
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(40), t).await;
        }
        // Every acknowledged edit is on the server.
        let acked = acked.lock().await.clone();
        let mut missing = 0;
        let mut used: Vec<usize> = acked.keys().map(|(d, _)| *d).collect();
        used.sort_unstable();
        used.dedup();
        for &d in &used {
            let id = &doc_id(d);
            let mut conn = Conn::open(port, &tokens[0], &format!("check-{d}")).await;
            let mut doc = Automerge::new();
            let mut state = State::new();
            conn.push(*id, &doc, &mut state).await;
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let complete = acked.iter().filter(|((dd, _), _)| *dd == d).all(|((_, key), v)| {
                    doc.get(ROOT, key.as_str())
                        .ok()
                        .flatten()
                        .and_then(|(v, _)| v.as_i64())
                        .is_some_and(|have| have >= *v)
                });
                if complete || Instant::now() > deadline {
                    if !complete {
                        missing += 1;
                    }
                    break;
                }
                match tokio::time::timeout(Duration::from_secs(5), conn.receive(&mut doc, &mut state)).await {
                    Ok(true) => {
                        conn.push(*id, &doc, &mut state).await;
                    }
                    _ => break,
                }
            }
        }
        let first = after_warm_up.first().copied().unwrap_or_default();
        let last = after_warm_up.last().copied().unwrap_or_default();
        let max_rss = after_warm_up.iter().map(|(r, _)| *r).max().unwrap_or(0);
        let (min_fd, max_fd) = (
            after_warm_up.iter().map(|(_, f)| *f).min().unwrap_or(0),
            after_warm_up.iter().map(|(_, f)| *f).max().unwrap_or(0),
        );
        let growth = if first.0 > 0 {
            (last.0 as f64 - first.0 as f64) / first.0 as f64 * 100.0
        } else {
            f64::NAN
        };
        let metrics = common::metrics(port);
        let metric = |name: &str| {
            metrics
                .lines()
                .filter(|l| l.starts_with(name))
                .map(|l| l.rsplit(' ').next().unwrap_or("0").parse::<u64>().unwrap_or(0))
                .sum::<u64>()
        };
        println!(
            "\n== soak: {secs} s, {HONEST} honest connections of {USERS} users on {DOCS} documents at a time (moving on every {} s), {HOSTILE} hostile",
            WINDOW.as_secs()
        );
        println!("honest sessions: {}", sessions.load(Ordering::Relaxed));
        println!("hostile rounds (each closed or ended): {}", closed.load(Ordering::Relaxed));
        println!(
            "acknowledged edits checked: {} in {} documents, documents missing one: {missing}",
            acked.len(),
            used.len()
        );
        println!(
            "RSS after warm-up ({} s): {} KiB; at the end: {} KiB ({growth:+.1} %); max {} KiB",
            warm_up.as_secs(),
            first.0,
            last.0,
            max_rss
        );
        println!("open file descriptors after warm-up: {min_fd}..{max_fd} (end {})", last.1);
        println!(
            "server: evictions {}, refusals {} (limits, rate, protocol …)",
            metric("nachbar_evictions_total"),
            metric("nachbar_refusals_total")
        );
    });
    drop(server);
}
