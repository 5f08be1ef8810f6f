//! Phone edit → visible in an open page (issue 9), with the release server: a coach's phone (a
//! real `Client` with its own database) changes an agenda block's duration 200 times at 100 ms;
//! an open workshop page is played by what its script does: it follows the page's server-sent
//! events and, on `changed`, fetches the live fragment. Measured from the phone's edit call
//! returning (committed on the phone) to the event, and to the fragment showing the new value.
//!
//! `cargo bench -p nachbar-tests --bench web_live`

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::workshop::{BlockKind, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind};
use nachbar_core::time::Timestamp;

mod common;
use common::phone::BenchPhone;
use common::{Server, http, percentile};

fn main() {
    let server = Server::start();
    server.admin(&["init"]);
    let hood = server.admin(&["add-neighbourhood", "--name", "Livepark"]);
    let business = server.admin(&[
        "add-business",
        "--neighbourhood",
        &hood,
        "--name",
        "Glaserei",
    ]);
    let (coordinator, _) = server.user("Koordination", "coordinator", &hood);
    let (coach, coach_token) = server.user("Coach", "coach", &business);
    let cookie = server.web_session(&coordinator, "koordination");

    let phone = BenchPhone::start(server.port, coach_token);
    let ctx = || EditContext::new(coach.clone(), Timestamp::now());
    let doc: DocumentId = phone
        .create(|actor| {
            WorkshopDoc::create(
                actor,
                &ctx(),
                &hood,
                &NewWorkshop {
                    title: "Live".to_owned(),
                    kind: WorkshopKind::TopicWorkshop,
                    date: "2030-01-10".to_owned(),
                    start: "09:00".to_owned(),
                    end: "17:00".to_owned(),
                    place: String::new(),
                    host: None,
                    goal: String::new(),
                },
            )
        })
        .expect("workshop");
    let block = phone
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.add_block(
                &ctx(),
                &NewBlock {
                    title: "Block".to_owned(),
                    kind: BlockKind::Method,
                    duration_min: 10,
                    method: None,
                    goal: String::new(),
                    materials: String::new(),
                    expected_output: String::new(),
                },
                None,
            )
        })
        .expect("block");
    phone.wait_synced(Duration::from_secs(60));

    // The open page's event stream.
    let mut sse = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    write!(sse, "GET /events?page=/w/{doc} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: nachbar_session={cookie}\r\nAccept: text/event-stream\r\n\r\n").expect("write");
    sse.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut events = BufReader::new(sse);
    let mut line = String::new();
    loop {
        line.clear();
        events.read_line(&mut line).expect("headers");
        assert!(!line.starts_with("HTTP/1.1 4"), "{line}");
        if line == "\r\n" {
            break;
        }
    }
    let mut to_event = Vec::new();
    let mut to_visible = Vec::new();
    for i in 0..200u32 {
        let minutes = 11 + i64::from(i);
        let t = Instant::now();
        phone
            .edit(&doc, |w: &mut WorkshopDoc| {
                w.set_block_duration(&ctx(), &block, minutes)
            })
            .expect("edit");
        let edited = Instant::now();
        loop {
            line.clear();
            events.read_line(&mut line).expect("an event");
            if line.starts_with("event: changed") {
                break;
            }
        }
        to_event.push(edited.elapsed().as_secs_f64() * 1000.0);
        let expected = format!("value=\"{minutes}\"");
        loop {
            let (status, _, body) = http(
                server.port,
                "GET",
                &format!("/w/{doc}/live"),
                Some(&cookie),
                None,
            );
            assert_eq!(status, 200);
            if body.contains(&expected) {
                break;
            }
            // The event came from an earlier commit; wait for the next one.
            line.clear();
            events.read_line(&mut line).expect("an event");
        }
        to_visible.push(edited.elapsed().as_secs_f64() * 1000.0);
        let spent = t.elapsed();
        std::thread::sleep(Duration::from_millis(100).saturating_sub(spent));
    }
    phone.stop();
    for v in [&mut to_event, &mut to_visible] {
        v.sort_by(f64::total_cmp);
    }
    println!("phone edit → open page (release server, 2 cores, 200 edits at 100 ms)");
    println!(
        "  → event at the page: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&to_event, 0.5),
        percentile(&to_event, 0.99),
        to_event[to_event.len() - 1]
    );
    println!(
        "  → fragment with the new value fetched: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&to_visible, 0.5),
        percentile(&to_visible, 0.99),
        to_visible[to_visible.len() - 1]
    );
}
