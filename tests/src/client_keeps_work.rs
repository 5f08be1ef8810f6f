//! The device never deletes work the server lacks: a document the server stops listing is
//! removed only when the server acknowledged all of it; otherwise it is kept aside, reported,
//! exportable, and delivered when the server takes it again (a restore from an older backup,
//! a role revoked by mistake and granted again).

use nachbar_core::client::{Client, ClientEvent};
use nachbar_core::ids::DocumentId;
use nachbar_core::model::assessment::AssessmentDoc;

use crate::client_sync::{ctx, device, level, listed, new_assessment, setup};
use crate::support::{TIMEOUT, eventually, synced};

/// Whether the device holds `doc` as listed by the server.
fn listed_on(device: &Client, doc: &DocumentId) -> bool {
    device
        .documents()
        .is_ok_and(|docs| docs.iter().any(|(id, status)| id == doc && status.listed))
}

/// Every event received so far.
fn drain(events: &mut tokio::sync::broadcast::Receiver<ClientEvent>) -> Vec<ClientEvent> {
    let mut out = Vec::new();
    loop {
        match events.try_recv() {
            Ok(event) => out.push(event),
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_from_a_backup_older_than_a_document_loses_none_of_it() {
    let (mut world, dir, runtime) = setup().await;
    let backup = dir.path().join("backup.sqlite3");
    world
        .server
        .admin(&["backup", "--to", backup.to_str().unwrap()]);

    // After the backup: the coach creates an assessment, the owner's tablet answers in it too.
    let coach = device(&world, "coach", &dir);
    let owner = device(&world, "owner1", &dir);
    let doc = new_assessment(&world, "coach", &coach);
    coach
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "coach"), "C2", 3)
        })
        .unwrap();
    coach.start(&runtime);
    assert!(
        coach.wait_for(TIMEOUT, synced).await,
        "{:?}",
        coach.status()
    );
    owner.start(&runtime);
    eventually("the owner's tablet gets it", || owner.heads(&doc).is_ok()).await;
    owner
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "owner1"), "C3", 2)
        })
        .unwrap();
    assert!(
        owner.wait_for(TIMEOUT, synced).await,
        "{:?}",
        owner.status()
    );
    eventually("both devices have it listed and answered", || {
        listed_on(&coach, &doc) && listed_on(&owner, &doc) && level(&coach, &doc, "C3") == Some(2)
    })
    .await;

    // Both go offline; the owner answers one more question there.
    coach.pause();
    owner.pause();
    owner
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "owner1"), "C4", 1)
        })
        .unwrap();
    let mut coach_events = coach.subscribe();
    let mut owner_events = owner.subscribe();

    // The server goes back to the backup, which has never seen the document.
    world.server.stop(false).await;
    world
        .server
        .admin(&["restore", "--from", backup.to_str().unwrap()]);
    world.server.start_again().await;

    // The coach comes back first: everything it holds was acknowledged, by the old server.
    coach.resume();
    assert!(
        coach.wait_for(TIMEOUT, synced).await,
        "{:?}",
        coach.status()
    );
    assert_eq!(
        level(&coach, &doc, "C3"),
        Some(2),
        "still on the coach's phone"
    );
    owner.resume();
    assert!(
        owner.wait_for(TIMEOUT, synced).await,
        "{:?}",
        owner.status()
    );
    for (who, events) in [("coach", &mut coach_events), ("owner", &mut owner_events)] {
        let removed = drain(events)
            .into_iter()
            .any(|e| e == ClientEvent::DocumentRemoved(doc));
        assert!(!removed, "the {who}'s device removed the document");
    }

    // The document is back on the server, with every answer of both devices.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = device(&world, "owner1", &fresh_dir);
    fresh.start(&runtime);
    eventually(
        "a new tablet gets every answer from the restored server",
        || {
            [("C2", 3), ("C3", 2), ("C4", 1)]
                .iter()
                .all(|(q, l)| level(&fresh, &doc, q) == Some(*l))
        },
    )
    .await;
    coach.stop();
    owner.stop();
    fresh.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_coach_keeps_offline_edits_aside_until_granted_again() {
    let (world, dir, runtime) = setup().await;
    let coach = device(&world, "coach", &dir);
    let doc = new_assessment(&world, "coach", &coach);
    let profile = listed(&world, "coach", "business-profile", Some(&world.b1)).await;
    coach.start(&runtime);
    assert!(
        coach.wait_for(TIMEOUT, synced).await,
        "{:?}",
        coach.status()
    );
    eventually("the profile arrives, the assessment is listed", || {
        coach.heads(&profile).is_ok() && listed_on(&coach, &doc)
    })
    .await;

    // Offline in a workshop: an answer. Meanwhile the coach's role ends.
    coach.pause();
    coach
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "coach"), "C2", 4)
        })
        .unwrap();
    let role = [
        "--user",
        world.id("coach"),
        "--role",
        "coach",
        "--scope",
        &world.b1,
    ];
    world
        .server
        .admin(&[&["revoke-role"][..], &role[..]].concat());
    let mut events = coach.subscribe();
    coach.resume();

    // Acknowledged work goes; the unacknowledged answer stays, reported and exportable.
    eventually("the profile (all acknowledged) is removed", || {
        coach.heads(&profile).is_err()
    })
    .await;
    assert!(
        coach
            .wait_for(TIMEOUT, |s| s.set_aside == vec![doc] && s.undelivered == 1)
            .await,
        "{:?}",
        coach.status()
    );
    assert_eq!(level(&coach, &doc, "C2"), Some(4), "still on the device");
    let removed: Vec<DocumentId> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::DocumentRemoved(id) => Some(id),
            _ => None,
        })
        .collect();
    assert!(
        removed.contains(&profile) && !removed.contains(&doc),
        "{removed:?}"
    );
    let exported = automerge::Automerge::load(&coach.export_document(&doc).unwrap()).unwrap();
    assert_eq!(exported.get_heads(), coach.heads(&doc).unwrap());

    // Granted again: the answer is delivered and the owner sees it.
    world.server.admin(&[&["grant"][..], &role[..]].concat());
    assert!(
        coach
            .wait_for(TIMEOUT, |s| synced(s)
                && s.undelivered == 0
                && s.set_aside.is_empty())
            .await,
        "{:?}",
        coach.status()
    );
    let owner = device(&world, "owner1", &dir);
    owner.start(&runtime);
    eventually("the owner gets the delivered answer", || {
        level(&owner, &doc, "C2") == Some(4)
    })
    .await;
    coach.stop();
    owner.stop();
}
