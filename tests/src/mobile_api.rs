//! The exported API of nachbar-mobile from Rust, against the real server: what the Kotlin and
//! Swift apps call, without the foreign layer (the bindings' own checks run in
//! scripts/bindings).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nachbar_mobile::{
    ClientObserver, Connection, MobileError, NachbarClient, NewOfferingRecord, SyncStatusRecord,
};

use crate::support::eventually;
use crate::support::world::World;

fn open(world: &World, who: &str, dir: &tempfile::TempDir) -> Arc<NachbarClient> {
    NachbarClient::open_for_tests(
        dir.path()
            .join(format!("{who}.sqlite3"))
            .display()
            .to_string(),
        world.server.http_url(),
        world.token(who).to_owned(),
        world.id(who).to_owned(),
        200,
    )
    .expect("opens")
}

fn synced(c: &NachbarClient) -> bool {
    let s = c.status();
    s.connection == Connection::Online && s.unacknowledged == 0
}

#[derive(Default)]
struct Heard {
    remote: Mutex<Vec<String>>,
    threads: Mutex<Vec<String>>,
}

impl ClientObserver for Heard {
    fn document_changed(&self, document_id: String, remote: bool) {
        if remote {
            self.remote.lock().unwrap().push(document_id);
        }
        let name = std::thread::current().name().unwrap_or("").to_owned();
        self.threads.lock().unwrap().push(name);
    }

    fn document_removed(&self, _document_id: String) {}

    fn status_changed(&self, _status: SyncStatusRecord) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_posted_on_a_tablet_reaches_the_coordinators_overview() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let owner = open(&world, "owner1", &dir);
    let office = open(&world, "coordinator", &dir);
    let heard = Arc::new(Heard::default());
    let subscription = office.subscribe(heard.clone()).unwrap();
    owner.start().unwrap();
    office.start().unwrap();
    let profile_of = |c: &NachbarClient, business: &str| {
        c.documents()
            .unwrap()
            .into_iter()
            .find(|d| {
                d.kind.as_deref() == Some("business-profile")
                    && d.business.as_deref() == Some(business)
            })
            .map(|d| d.id)
    };
    eventually("the owner has the profile", || {
        profile_of(&owner, &world.b1).is_some()
    })
    .await;
    let profile = profile_of(&owner, &world.b1).unwrap();
    owner
        .set_topic_state(
            profile.clone(),
            "D".to_owned(),
            Some("need_help".to_owned()),
        )
        .unwrap();
    let need = owner
        .add_need(
            profile.clone(),
            "ZUGFeRD einlesen".to_owned(),
            vec!["D".to_owned()],
            vec![],
            3,
        )
        .unwrap();
    let refused = owner.add_need(profile.clone(), "Zu dringend".to_owned(), vec![], vec![], 9);
    assert!(
        matches!(refused, Err(MobileError::InvalidInput { ref detail }) if detail.contains("urgency")),
        "{refused:?}"
    );
    eventually("the owner is acknowledged", || synced(&owner)).await;

    let hood = loop {
        if let Some(d) = office
            .documents()
            .unwrap()
            .into_iter()
            .find(|d| d.kind.as_deref() == Some("neighbourhood"))
        {
            break d.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eventually("the coordinator sees the need", || {
        office
            .profile(profile.clone())
            .is_ok_and(|p| p.needs.iter().any(|n| n.id == need))
    })
    .await;
    let overview = office.neighbourhood_overview(hood.clone()).unwrap();
    let row = overview
        .heat_map
        .iter()
        .find(|r| r.business == world.b1)
        .expect("a heat map row");
    assert_eq!(
        row.cells.get("D").map(|c| c.code.as_str()),
        Some("need_help")
    );
    assert_eq!(row.cells["D"].de, "Brauchen Hilfe");
    let d = overview
        .topic_aggregates
        .iter()
        .find(|a| a.subject == "D")
        .unwrap();
    assert_eq!(
        (d.contributors, d.counts.is_none()),
        (1, true),
        "one business: suppressed"
    );
    assert!(
        office.status().read_only.contains(&profile),
        "the coordinator reads profiles only"
    );
    assert!(heard.remote.lock().unwrap().contains(&profile));

    // The coordinator proposes a training; the glazier wants three seats.
    office
        .set_charter(hood.clone(), "Wir helfen einander.".to_owned())
        .unwrap();
    let offering = office
        .add_offering(
            hood.clone(),
            NewOfferingRecord {
                title: "Phishing-Awareness".to_owned(),
                kind_code: "training".to_owned(),
                provider: "HWK".to_owned(),
                min_seats: 10,
                cost_model_code: "per_seat".to_owned(),
                cost_eur: Some(45),
            },
        )
        .unwrap();
    let bad = office.set_phase(hood.clone(), "finished".to_owned());
    assert!(
        matches!(bad, Err(MobileError::InvalidInput { .. })),
        "{bad:?}"
    );
    eventually("the owner sees the offering", || {
        owner
            .neighbourhood(hood.clone())
            .is_ok_and(|n| n.joint_offerings.iter().any(|o| o.id == offering))
    })
    .await;
    owner
        .change_seat_interest(profile.clone(), offering.clone(), 3)
        .unwrap();
    let n = owner.neighbourhood(hood.clone()).unwrap();
    assert_eq!(n.charter, "Wir helfen einander.");
    assert!(n.members.iter().any(|m| m.business == world.b1 && m.active));
    eventually("the seats reach the overview", || {
        office.neighbourhood_overview(hood.clone()).is_ok_and(|o| {
            o.offerings
                .iter()
                .any(|d| d.offering == offering && d.seats_total == 3 && !d.min_reached)
        })
    })
    .await;
    assert!(
        heard
            .threads
            .lock()
            .unwrap()
            .iter()
            .all(|t| t.starts_with("nachbar-core"))
    );
    drop(subscription);
    owner.stop();
    office.stop();
}
