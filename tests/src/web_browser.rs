//! The browser suite (tests/web/suite.mjs) in real headless Chromium against the real server
//! with the demo: the coordinator signs in, sees the heat map, downloads the CSV, adds a
//! business and invites its owner (who enrols in a second browser and signs in), plans a
//! workshop and moves a block in place; this test plays the coach's phone, a real `Client`
//! with its own database, which edits the agenda offline and syncs while the page is open, and
//! receives an edit made in the page. axe-core scans every page; screenshots go to
//! `target/web-screenshots`.

use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::workshop::{BlockKind, NewBlock, WorkshopDoc};
use nachbar_core::time::Timestamp;

use crate::support::browser::{self, BrowserSuite};
use crate::support::server::TestServer;
use crate::support::{TIMEOUT, eventually, synced};

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
    let chromium = match browser::prerequisites() {
        Ok(c) => c,
        Err(why) => {
            println!("SKIPPED: {why}");
            return;
        }
    };
    let server = TestServer::start_with(&["--demo"]).await;
    let people = browser::demo_people(&server);
    let coach = browser::demo_person(&people, "coach", None);
    let config = serde_json::json!({
        "name": "office",
        "base": server.http_url(),
        "people": people,
        "shots": browser::screenshot_dir(),
        "chromium": chromium,
        "workshopDate": date_in(7),
    });
    let phone_dir = tempfile::tempdir().expect("tempdir");
    let phone = browser::phone(&server, &coach, phone_dir.path());
    let coach_id = coach["user"].as_str().expect("user").to_owned();

    let mut suite = BrowserSuite::start("suite.mjs", &config);
    let mut phone_edited = false;
    let mut page_edit_seen = false;
    while let Some((what, doc)) = suite.next_wait().await {
        let doc: DocumentId = doc.parse().expect("a document id");
        match what.as_str() {
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
        suite.go().await;
    }
    suite.finish().await;
    phone.stop();
    assert!(phone_edited && page_edit_seen, "both sync points ran");
}
