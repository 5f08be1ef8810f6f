//! Figures of the offline-first client (`cargo bench -p nachbar-tests --bench client`), with
//! the release server and real `Client`s (each its own SQLite database, `synchronous=FULL`):
//! - local durable commit: one typed edit committed on the device (p50/p99), beside the fsync
//!   time of this disk;
//! - opening a device's store of 500 documents (10 with unacknowledged changes) and reading
//!   the sync status, beside loading every document (what opening cost before);
//! - edit on one device → arrival on another through the server (p50/p99/max), 300 answer
//!   edits at 20 ms by the coach's phone, observed on the owner's tablet;
//! - twenty devices with offline work (10 profile edits and a new assessment with 10 answers
//!   each) reconnecting at once: time until every device is acknowledged and holds the
//!   server's state of its business's profile.

use std::time::{Duration, Instant};

use nachbar_core::catalogue;
use nachbar_core::client::{Client, ClientConfig, ConnectionState, SyncStatus};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::label::Lang;
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
use nachbar_core::model::business_profile::{BusinessProfileDoc, TopicState};
use nachbar_core::store::{Durability, Replica};
use nachbar_core::time::Timestamp;

mod common;
use common::{Server, fsync_times, percentile};

const WAIT: Duration = Duration::from_secs(120);

struct Neighbourhood {
    server: Server,
    hood: String,
    business: String,
    coach: (String, String),
    owner: (String, String),
}

impl Neighbourhood {
    /// A T0 assessment of the business on catalogue 1.0.
    fn new_assessment(&self) -> NewAssessment<'_> {
        NewAssessment {
            neighbourhood: &self.hood,
            business: &self.business,
            release: catalogue::release_1_0(),
            stage: "T0",
            coach: None,
            language: Lang::De,
        }
    }
}

fn device(server: &Server, dir: &std::path::Path, name: &str, token: &str) -> Client {
    let mut config = ClientConfig::new(
        dir.join(format!("{name}.sqlite3")),
        format!("http://127.0.0.1:{}", server.port),
        token,
    );
    config.refresh_every = Duration::from_millis(500);
    Client::open(config).expect("client")
}

fn synced(s: &SyncStatus) -> bool {
    s.connection == ConnectionState::Online && s.unacknowledged == 0
}

fn assessment(n: &Neighbourhood, client: &Client, who: &str) -> DocumentId {
    let new = n.new_assessment();
    client
        .create(|actor| {
            AssessmentDoc::create(actor, &EditContext::new(who, Timestamp::now()), &new)
        })
        .expect("created")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn local_commit(n: &Neighbourhood, dir: &std::path::Path) {
    let mut replica = Replica::open(dir.join("local.sqlite3"), Durability::Full).unwrap();
    let new = n.new_assessment();
    let ctx = EditContext::new(&n.coach.0, Timestamp::now());
    let doc = replica
        .create(|actor| AssessmentDoc::create(actor, &ctx, &new))
        .unwrap();
    let questions = ["A1", "A2", "B1", "B3", "C1", "C2", "C3", "C4"];
    let mut samples = Vec::new();
    for i in 0..500usize {
        let t = Instant::now();
        replica
            .edit(&doc, |a: &mut AssessmentDoc| {
                a.set_level(&ctx, questions[i % questions.len()], (i % 5) as i64)
            })
            .unwrap();
        samples.push(ms(t.elapsed()));
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "| local durable commit of one typed edit (500 edits, synchronous=FULL) | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms |",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or(f64::NAN)
    );
}

/// Opens a store of 500 assessments (8 answers each; 490 acknowledged by the server, 10 with
/// an answer it has not seen) and reads the status, five times.
fn open_with_500_documents(n: &Neighbourhood, dir: &std::path::Path) {
    const DOCS: usize = 500;
    const PENDING: usize = 10;
    let path = dir.join("five-hundred.sqlite3");
    let ids: Vec<DocumentId> = {
        let mut replica = Replica::open(&path, Durability::Normal).unwrap();
        let new = n.new_assessment();
        let ctx = EditContext::new(&n.coach.0, Timestamp::now());
        let questions = ["A1", "A2", "B1", "B3", "C1", "C2", "C3", "C4"];
        (0..DOCS)
            .map(|i| {
                let id = replica
                    .create(|actor| AssessmentDoc::create(actor, &ctx, &new))
                    .unwrap();
                for (q, question) in questions.iter().enumerate() {
                    replica
                        .edit(&id, |a: &mut AssessmentDoc| {
                            a.set_level(&ctx, question, (q % 5) as i64)
                        })
                        .unwrap();
                }
                let heads = replica.automerge(&id).unwrap().get_heads();
                replica
                    .store_mut()
                    .set_acked(&id, "server", &heads, 1)
                    .unwrap();
                if i < PENDING {
                    replica
                        .edit(&id, |a: &mut AssessmentDoc| a.set_level(&ctx, "A1", 4))
                        .unwrap();
                }
                id
            })
            .collect()
    };
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let config = ClientConfig::new(&path, "http://127.0.0.1:9", "token");
        let client = Client::open(config).expect("opens");
        let status = client.status();
        samples.push(ms(t.elapsed()));
        assert_eq!(status.unacknowledged, PENDING, "{status:?}");
    }
    samples.sort_by(f64::total_cmp);
    let t = Instant::now();
    let mut replica = Replica::open(&path, Durability::Normal).unwrap();
    for id in &ids {
        replica.automerge(id).unwrap();
    }
    let load_all = ms(t.elapsed());
    println!(
        "| open a device store of {DOCS} documents ({PENDING} with unacknowledged changes) and read the status (5 opens) | p50 {:.1} ms | max {:.1} ms | loading every document instead: {load_all:.0} ms |",
        percentile(&samples, 0.5),
        samples.last().copied().unwrap_or(f64::NAN)
    );
}

async fn edit_to_arrival(n: &Neighbourhood, dir: &std::path::Path) {
    let runtime = tokio::runtime::Handle::current();
    let phone = device(&n.server, dir, "phone", &n.coach.1);
    let tablet = device(&n.server, dir, "tablet", &n.owner.1);
    let doc = assessment(n, &phone, &n.coach.0);
    phone.start(&runtime);
    tablet.start(&runtime);
    assert!(phone.wait_for(WAIT, synced).await);
    let deadline = Instant::now() + WAIT;
    while tablet.heads(&doc).is_err() {
        assert!(
            Instant::now() < deadline,
            "the tablet never got the assessment"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let questions = ["A1", "A2", "B1", "B3", "C1", "C2", "C3", "C4"];
    let mut events = tablet.subscribe();
    let mut samples = Vec::new();
    for i in 0..300usize {
        let ctx = EditContext::new(&n.coach.0, Timestamp::now());
        let start = Instant::now();
        phone
            .edit(&doc, |a: &mut AssessmentDoc| {
                a.set_level(&ctx, questions[i % questions.len()], (i % 5) as i64)
            })
            .unwrap();
        let head = phone.heads(&doc).unwrap();
        loop {
            if tablet
                .heads(&doc)
                .ok()
                .is_some_and(|h| head.iter().all(|x| h.contains(x)))
            {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), events.recv()).await;
            assert!(start.elapsed() < WAIT, "edit {i} never arrived");
        }
        samples.push(ms(start.elapsed()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "| edit on the coach's phone → present on the owner's tablet (300 edits at 20 ms) | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms |",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or(f64::NAN)
    );
    phone.stop();
    tablet.stop();
}

async fn twenty_devices(n: &Neighbourhood, dir: &std::path::Path) {
    let runtime = tokio::runtime::Handle::current();
    let profile: DocumentId = {
        let devices = device(&n.server, dir, "probe", &n.owner.1);
        devices.start(&runtime);
        assert!(devices.wait_for(WAIT, synced).await);
        let deadline = Instant::now() + WAIT;
        loop {
            let found = devices.documents().unwrap().into_iter().find(|(_, s)| {
                s.kind.as_deref() == Some("business-profile")
                    && s.business.as_deref() == Some(n.business.as_str())
            });
            if let Some((id, _)) = found {
                break id;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let devices: Vec<Client> = (0..20)
        .map(|i| {
            let token = if i < 16 { &n.owner.1 } else { &n.coach.1 };
            device(&n.server, dir, &format!("device-{i}"), token)
        })
        .collect();
    for d in &devices {
        d.start(&runtime);
    }
    for d in &devices {
        let deadline = Instant::now() + WAIT;
        while d.heads(&profile).is_err() {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        d.pause();
    }
    let areas = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"];
    let states = [
        TopicState::Solved,
        TopicState::WorkingOnIt,
        TopicState::NeedHelp,
    ];
    for (i, d) in devices.iter().enumerate() {
        let who = if i < 16 { &n.owner.0 } else { &n.coach.0 };
        let ctx = EditContext::new(who, Timestamp::now());
        for e in 0..10 {
            d.edit(&profile, |p: &mut BusinessProfileDoc| {
                p.set_topic_state(
                    &ctx,
                    areas[(i + e) % areas.len()],
                    Some(states[(i + e) % 3]),
                )
            })
            .unwrap();
        }
        let doc = assessment(n, d, who);
        for k in 0..10usize {
            d.edit(&doc, |a: &mut AssessmentDoc| {
                a.set_level(
                    &ctx,
                    ["A1", "A2", "B1", "B3", "C1", "C2", "C3", "C4", "C5", "G1"][k],
                    ((i + k) % 5) as i64,
                )
            })
            .unwrap();
        }
    }
    let start = Instant::now();
    for d in &devices {
        d.resume();
    }
    for d in &devices {
        assert!(d.wait_for(WAIT, synced).await, "{:?}", d.status());
    }
    let acknowledged = start.elapsed();
    let deadline = Instant::now() + WAIT;
    loop {
        let heads: Vec<_> = devices.iter().map(|d| d.heads(&profile).unwrap()).collect();
        if heads.windows(2).all(|w| w[0] == w[1]) {
            break;
        }
        assert!(Instant::now() < deadline, "no convergence");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "| twenty devices reconnect at once with offline work (420 changes) | all acknowledged {:.0} ms | all converged {:.0} ms | |",
        ms(acknowledged),
        ms(start.elapsed())
    );
    for d in &devices {
        d.stop();
    }
}

fn main() {
    let server = Server::start();
    server.admin(&["init"]);
    let hood = server.admin(&["add-neighbourhood", "--name", "Messpark"]);
    let business = server.admin(&[
        "add-business",
        "--neighbourhood",
        &hood,
        "--name",
        "Messbetrieb",
    ]);
    let coach = server.user("Coach", "coach", &business);
    let owner = server.user("Inhaberin", "owner", &business);
    let n = Neighbourhood {
        server,
        hood,
        business,
        coach,
        owner,
    };
    let dir = tempfile::tempdir().unwrap();
    println!("| figure | | | |\n|---|---|---|---|");
    let (p50, p99) = fsync_times(dir.path());
    println!("| fsync of this disk (4 KiB write + fsync) | p50 {p50:.2} ms | p99 {p99:.2} ms | |");
    local_commit(&n, dir.path());
    open_with_500_documents(&n, dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(edit_to_arrival(&n, dir.path()));
    runtime.block_on(twenty_devices(&n, dir.path()));
}
