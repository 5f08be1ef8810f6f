//! The browser suite (tests/web/suite.mjs) in real headless Chromium against the real server
//! with the demo: the coordinator signs in, sees the heat map, downloads the CSV, adds a
//! business and invites its owner (who enrols in a second browser and signs in), plans a
//! workshop and moves a block in place; this test plays the coach's phone, a real `Client`
//! with its own database, which edits the agenda offline and syncs while the page is open, and
//! receives an edit made in the page. axe-core scans every page; screenshots go to
//! `target/web-screenshots`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::workshop::{BlockKind, NewBlock, WorkshopDoc};
use nachbar_core::time::Timestamp;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::support::server::TestServer;
use crate::support::{TIMEOUT, eventually, synced};

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web")
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// An ISO date `days` from today (UTC).
fn date_in(days: i64) -> String {
    let d = Timestamp::now().millis().div_euclid(86_400_000) + days;
    // Days since the epoch → civil date.
    let z = d + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{day:02}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinator_works_in_the_browser_while_a_phone_syncs() {
    let Some(chromium) = chromium() else {
        println!("SKIPPED: chromium is not installed (scripts/install-test-deps installs it)");
        return;
    };
    if !web_dir().join("node_modules/playwright-core").exists() {
        println!(
            "SKIPPED: tests/web/node_modules is missing (scripts/install-test-deps installs it)"
        );
        return;
    }
    let server = TestServer::start_with(&["--demo"]).await;
    let demo: serde_json::Value = serde_json::from_slice(
        &std::fs::read(server.data.path().join("demo-tokens.json")).expect("demo tokens"),
    )
    .expect("JSON");
    let people = demo.as_array().expect("people").clone();
    let coach = people
        .iter()
        .find(|p| p["role"] == "coach")
        .expect("a demo coach")
        .clone();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/web-screenshots");
    let config = serde_json::json!({
        "base": server.http_url(),
        "people": people,
        "shots": shots,
        "chromium": chromium,
        "workshopDate": date_in(7),
    });

    let phone_dir = tempfile::tempdir().expect("tempdir");
    let mut phone_config = nachbar_core::client::ClientConfig::new(
        phone_dir.path().join("coach.sqlite3"),
        server.http_url(),
        coach["token"].as_str().expect("token"),
    );
    phone_config.durability = nachbar_core::store::Durability::Normal;
    phone_config.refresh_every = Duration::from_millis(300);
    let phone = nachbar_core::client::Client::open(phone_config).expect("client opens");
    phone.start(&tokio::runtime::Handle::current());
    let coach_id = coach["user"].as_str().expect("user").to_owned();

    let mut node = tokio::process::Command::new("node")
        .arg("suite.mjs")
        .current_dir(web_dir())
        .env("NACHBAR_WEB_SUITE", config.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = node.stdin.take().expect("stdin");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let mut transcript = Vec::new();
    let mut phone_edited = false;
    let mut page_edit_seen = false;
    while let Some(line) = tokio::time::timeout(Duration::from_secs(240), lines.next_line())
        .await
        .expect("the suite keeps talking")
        .expect("read")
    {
        println!("{line}");
        transcript.push(line.clone());
        let Some(rest) = line.strip_prefix("WAIT ") else {
            continue;
        };
        let (what, doc) = rest.split_once(' ').expect("WAIT what arg");
        let doc: DocumentId = doc.parse().expect("a document id");
        match what {
            "coach-offline-edit" => {
                // The workshop reaches the phone, which then goes offline, edits, and syncs.
                eventually("the workshop reaches the coach's phone", || {
                    phone.read::<WorkshopDoc>(&doc).is_ok() && synced(&phone.status())
                })
                .await;
                phone.pause();
                let ctx = EditContext::new(coach_id.clone(), Timestamp::now());
                let block = NewBlock {
                    title: "Offline-Block vom Handy".to_owned(),
                    kind: BlockKind::Method,
                    duration_min: 10,
                    method: None,
                    goal: String::new(),
                    materials: String::new(),
                    expected_output: String::new(),
                };
                phone
                    .edit(&doc, |w: &mut WorkshopDoc| w.add_block(&ctx, &block, None))
                    .expect("the phone edits offline");
                assert!(phone.status().unacknowledged > 0, "kept on the phone");
                phone.resume();
                assert!(
                    phone.wait_for(TIMEOUT, synced).await,
                    "the phone's edit is acknowledged"
                );
                phone_edited = true;
            }
            "page-edit-reached-phone" => {
                eventually("the page's decision reaches the phone", || {
                    phone
                        .read::<WorkshopDoc>(&doc)
                        .ok()
                        .and_then(|w| w.view().ok())
                        .is_some_and(|v| {
                            v.decisions
                                .iter()
                                .any(|d| d.text == "Entscheidung aus dem Browser")
                        })
                })
                .await;
                page_edit_seen = true;
            }
            other => panic!("unknown sync point {other}"),
        }
        stdin.write_all(b"GO\n").await.expect("write");
        stdin.flush().await.expect("flush");
    }
    let status = node.wait().await.expect("node ends");
    phone.stop();
    let failures: Vec<&String> = transcript
        .iter()
        .filter(|l| l.starts_with("not ok"))
        .collect();
    assert!(failures.is_empty(), "browser checks failed: {failures:#?}");
    assert!(status.success(), "the suite failed");
    assert!(phone_edited && page_edit_seen, "both sync points ran");
    assert!(
        transcript.iter().any(|l| l.ends_with(" passed, 0 failed")),
        "the suite reported its count"
    );
}
