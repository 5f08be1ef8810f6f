//! The offline-first client (nachbar-core's `client` feature) against the real server: each
//! device a `Client` with its own database, offline periods as clients not started (or
//! paused), then sync.

use std::time::Duration;

use nachbar_core::catalogue;
use nachbar_core::client::{Client, ClientConfig, ClientEvent, ConnectionState, Origin};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::label::Lang;
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
use nachbar_core::model::business_profile::BusinessProfileDoc;
use nachbar_core::store::Durability;
use nachbar_core::time::Timestamp;

use crate::support::world::World;
use crate::support::{TIMEOUT, eventually, synced};

/// A neighbourhood on a fresh server, a folder for the devices' databases, the runtime.
pub(crate) async fn setup() -> (World, tempfile::TempDir, tokio::runtime::Handle) {
    (
        World::new().await,
        tempfile::tempdir().expect("tempdir"),
        tokio::runtime::Handle::current(),
    )
}

/// The first document of `kind` (and `business`, if given) that `who` may read.
pub(crate) async fn listed(
    world: &World,
    who: &str,
    kind: &str,
    business: Option<&str>,
) -> DocumentId {
    world
        .documents(who)
        .await
        .into_iter()
        .find(|d| d["kind"] == kind && business.is_none_or(|b| d["business"] == b))
        .and_then(|d| d["id"].as_str().and_then(|s| s.parse().ok()))
        .expect("listed")
}

/// A device of `who`: its own database in `dir`, not started.
pub(crate) fn device(world: &World, who: &str, dir: &tempfile::TempDir) -> Client {
    world.device(
        who,
        dir.path().join(format!("{who}.sqlite3")),
        Duration::from_millis(300),
    )
}

pub(crate) fn ctx(world: &World, who: &str) -> EditContext {
    EditContext::new(world.id(who), Timestamp::now())
}

pub(crate) fn new_assessment(world: &World, who: &str, client: &Client) -> DocumentId {
    let new = NewAssessment {
        neighbourhood: &world.hood,
        business: &world.b1,
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some(world.id("coach")),
        language: Lang::De,
    };
    client
        .create(|actor| AssessmentDoc::create(actor, &ctx(world, who), &new))
        .expect("created")
}

pub(crate) fn level(client: &Client, doc: &DocumentId, question: &str) -> Option<u8> {
    let view = client.read::<AssessmentDoc>(doc).ok()?.view().ok()?;
    view.items
        .into_iter()
        .find(|i| i.id == question)
        .and_then(|i| i.answer.level)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_work_of_two_devices_converges_through_the_server() {
    let (world, dir, runtime) = setup().await;
    let coach = device(&world, "coach", &dir);
    let owner = device(&world, "owner1", &dir);

    // The coach works offline: a new assessment with an answer.
    let doc = new_assessment(&world, "coach", &coach);
    coach
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "coach"), "C2", 3)
        })
        .unwrap();
    assert_eq!(coach.status().unacknowledged, 2);
    assert_eq!(coach.status().connection, ConnectionState::Stopped);

    // Back in signal: everything is uploaded without opening the document.
    coach.start(&runtime);
    assert!(
        coach.wait_for(TIMEOUT, synced).await,
        "{:?}",
        coach.status()
    );
    assert!(coach.status().last_sync_ms.is_some());

    // The owner's tablet lists it and fetches it.
    let mut owner_events = owner.subscribe();
    owner.start(&runtime);
    eventually("the owner's device gets the assessment", || {
        level(&owner, &doc, "C2") == Some(3)
    })
    .await;
    let mut remote = false;
    while let Ok(event) = owner_events.try_recv() {
        remote |= event
            == ClientEvent::DocumentChanged {
                doc,
                origin: Origin::Remote,
            };
    }
    assert!(remote, "the owner was told of the remote change");

    // Live: the owner answers, the coach (still connected) receives it.
    let mut coach_events = coach.subscribe();
    owner
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "owner1"), "C3", 2)
        })
        .unwrap();
    eventually("the coach receives the owner's answer live", || {
        level(&coach, &doc, "C3") == Some(2)
    })
    .await;
    assert!(owner.wait_for(TIMEOUT, synced).await);
    assert_eq!(coach.heads(&doc).unwrap(), owner.heads(&doc).unwrap());
    let mut told = false;
    while let Ok(event) = coach_events.try_recv() {
        told |= matches!(
            event,
            ClientEvent::DocumentChanged {
                origin: Origin::Remote,
                ..
            }
        );
    }
    assert!(told);

    // Offline on both, conflicting answers, then back: both converge on one value.
    coach.pause();
    owner.pause();
    assert!(
        coach
            .wait_for(TIMEOUT, |s| s.connection == ConnectionState::Paused)
            .await
    );
    assert!(
        owner
            .wait_for(TIMEOUT, |s| s.connection == ConnectionState::Paused)
            .await
    );
    coach
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "coach"), "C4", 1)
        })
        .unwrap();
    owner
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "owner1"), "C4", 4)
        })
        .unwrap();
    assert_eq!(coach.status().unacknowledged, 1);
    coach.resume();
    owner.resume();
    assert!(coach.wait_for(TIMEOUT, synced).await);
    assert!(owner.wait_for(TIMEOUT, synced).await);
    eventually("both hold the same heads", || {
        coach.heads(&doc).ok() == owner.heads(&doc).ok()
    })
    .await;
    assert_eq!(level(&coach, &doc, "C4"), level(&owner, &doc, "C4"));
    coach.stop();
    owner.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_edit_stays_on_the_device_and_other_documents_keep_syncing() {
    let (world, dir, runtime) = setup().await;
    let coordinator = device(&world, "coordinator", &dir);
    coordinator.start(&runtime);
    // The coordinator reads the glazier's profile but may not write it.
    let profile = listed(&world, "coordinator", "business-profile", Some(&world.b1)).await;
    eventually("the profile arrives", || {
        coordinator.heads(&profile).is_ok()
    })
    .await;
    assert!(coordinator.wait_for(TIMEOUT, synced).await);

    coordinator
        .edit(&profile, |p: &mut BusinessProfileDoc| {
            p.set_display_name(&ctx(&world, "coordinator"), "Nicht meins")
        })
        .unwrap();
    assert!(
        coordinator
            .wait_for(TIMEOUT, |s| s.read_only.contains(&profile))
            .await,
        "{:?}",
        coordinator.status()
    );
    let status = coordinator.status();
    assert_eq!(status.unacknowledged_by_document.get(&profile), Some(&1));
    assert_eq!(
        status.connection,
        ConnectionState::Online,
        "no reconnect loop"
    );

    // The owner never sees it; the coordinator's own writes still sync.
    let owner = device(&world, "owner1", &dir);
    owner.start(&runtime);
    eventually("the owner has the profile", || {
        owner.heads(&profile).is_ok()
    })
    .await;
    assert!(owner.wait_for(TIMEOUT, synced).await);
    let name = owner
        .read::<BusinessProfileDoc>(&profile)
        .unwrap()
        .view()
        .unwrap()
        .display_name;
    assert_ne!(name, "Nicht meins");
    let neighbourhood = listed(&world, "coordinator", "neighbourhood", None).await;
    eventually("the neighbourhood arrives", || {
        coordinator.heads(&neighbourhood).is_ok()
    })
    .await;
    coordinator
        .edit(
            &neighbourhood,
            |n: &mut nachbar_core::model::neighbourhood::NeighbourhoodDoc| {
                n.set_charter(&ctx(&world, "coordinator"), "Wir helfen einander.")
            },
        )
        .unwrap();
    assert!(
        coordinator
            .wait_for(TIMEOUT, |s| !s
                .unacknowledged_by_document
                .contains_key(&neighbourhood))
            .await
    );
    coordinator.stop();
    owner.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_keeps_the_edits_until_a_new_token_arrives() {
    let (world, dir, runtime) = setup().await;
    let coach = device(&world, "coach", &dir);
    coach.start(&runtime);
    assert!(coach.wait_for(TIMEOUT, synced).await);

    world
        .server
        .admin(&["revoke-token", "--token", world.token("coach")]);
    assert!(
        coach
            .wait_for(TIMEOUT, |s| s.connection == ConnectionState::TokenExpired)
            .await,
        "{:?}",
        coach.status()
    );
    let doc = new_assessment(&world, "coach", &coach);
    assert_eq!(coach.status().unacknowledged, 1, "kept on the device");

    let fresh = world
        .server
        .admin(&["issue-token", "--user", world.id("coach")]);
    coach.set_token(fresh);
    assert!(
        coach.wait_for(TIMEOUT, synced).await,
        "{:?}",
        coach.status()
    );
    let owner = device(&world, "owner1", &dir);
    owner.start(&runtime);
    eventually("uploaded after the new token", || owner.heads(&doc).is_ok()).await;
    coach.stop();
    owner.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_removes_the_database_from_the_device() {
    let (world, dir, _) = setup().await;
    let coach = device(&world, "coach", &dir);
    new_assessment(&world, "coach", &coach);
    assert!(dir.path().join("coach.sqlite3").exists());
    coach.sign_out_and_wipe().unwrap();
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(matches!(
        coach.documents(),
        Err(nachbar_core::client::ClientError::Closed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_crashes_and_a_restore_from_backup_lose_nothing() {
    let (mut world, dir, runtime) = setup().await;
    let coach = device(&world, "coach", &dir);
    let doc = new_assessment(&world, "coach", &coach);
    coach.start(&runtime);
    assert!(coach.wait_for(TIMEOUT, synced).await);
    let questions = ["C2", "C3", "C4", "C5"];

    // The server is SIGKILLed three times while the coach keeps answering.
    for round in 0..3 {
        for (i, q) in questions.iter().enumerate() {
            coach
                .edit(&doc, |a: &mut AssessmentDoc| {
                    a.set_level(&ctx(&world, "coach"), q, ((round + i) % 5) as i64)
                })
                .unwrap();
            if i == 1 {
                world.server.restart(true).await;
            }
        }
        assert!(
            coach.wait_for(TIMEOUT, synced).await,
            "round {round}: {:?}",
            coach.status()
        );
    }
    let owner = device(&world, "owner1", &dir);
    owner.start(&runtime);
    eventually("the owner sees every acknowledged answer", || {
        owner.heads(&doc).ok() == coach.heads(&doc).ok()
    })
    .await;
    owner.stop();
    if crate::support::on_postgres::enabled() {
        // PostgreSQL is backed up and restored with its own tools; the command says so.
        let refused = world
            .server
            .try_admin(&["backup", "--to", "/nonexistent/backup"])
            .expect_err("no SQLite backup of a PostgreSQL node");
        assert!(refused.contains("pg_basebackup"), "{refused}");
        coach.stop();
        return;
    }

    // A backup, then more work acknowledged by the server, then a restore from the backup:
    // the server has a new storage id and the device uploads what the backup lacks.
    let backup = dir.path().join("backup.sqlite3");
    world
        .server
        .admin(&["backup", "--to", backup.to_str().unwrap()]);
    coach
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(&world, "coach"), "A1", 4)
        })
        .unwrap();
    assert!(coach.wait_for(TIMEOUT, synced).await);
    world.server.stop(false).await;
    world
        .server
        .admin(&["restore", "--from", backup.to_str().unwrap()]);
    world.server.start_again().await;
    assert!(
        coach.wait_for(TIMEOUT, synced).await,
        "{:?}",
        coach.status()
    );
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = device(&world, "owner1", &fresh_dir);
    fresh.start(&runtime);
    eventually(
        "the restored server has the work done after the backup",
        || level(&fresh, &doc, "A1") == Some(4),
    )
    .await;
    coach.stop();
    fresh.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_devices_with_offline_work_reconnect_at_once_and_converge() {
    use nachbar_core::model::business_profile::TopicState;
    let (world, dir, runtime) = setup().await;
    // 8 tablets of the glazier's owner, 8 of the printer's owner, 4 phones of the coach.
    let users: Vec<&str> = std::iter::repeat_n("owner1", 8)
        .chain(std::iter::repeat_n("owner2", 8))
        .chain(std::iter::repeat_n("coach", 4))
        .collect();
    let devices: Vec<(&str, Client)> = users
        .iter()
        .enumerate()
        .map(|(i, who)| {
            let sub = dir.path().join(format!("device-{i}"));
            std::fs::create_dir_all(&sub).unwrap();
            (
                *who,
                world.device(who, sub.join("db.sqlite3"), Duration::from_millis(500)),
            )
        })
        .collect();
    let p1 = listed(&world, "owner1", "business-profile", Some(&world.b1)).await;
    let p2 = listed(&world, "owner2", "business-profile", Some(&world.b2)).await;
    let profile_of = |who: &str| if who == "owner2" { p2 } else { p1 };
    // Online once: every device gets its business's profile.
    for (who, device) in &devices {
        device.start(&runtime);
        let profile = profile_of(who);
        eventually("the profile arrives", || device.heads(&profile).is_ok()).await;
    }
    for (_, device) in &devices {
        device.pause();
    }
    for (_, device) in &devices {
        assert!(
            device
                .wait_for(TIMEOUT, |s| s.connection == ConnectionState::Paused)
                .await
        );
    }

    // Offline: each device edits its business's profile and answers its own assessment.
    let areas = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"];
    let states = [
        TopicState::Solved,
        TopicState::WorkingOnIt,
        TopicState::NeedHelp,
    ];
    let mut own = Vec::new();
    for (i, (who, device)) in devices.iter().enumerate() {
        let profile = profile_of(who);
        for e in 0..10 {
            let area = areas[(i + e) % areas.len()];
            let state = states[(i * 7 + e) % states.len()];
            device
                .edit(&profile, |p: &mut BusinessProfileDoc| {
                    p.set_topic_state(&ctx(&world, who), area, Some(state))
                })
                .unwrap();
        }
        let business = if *who == "owner2" {
            &world.b2
        } else {
            &world.b1
        };
        let new = NewAssessment {
            neighbourhood: &world.hood,
            business,
            release: catalogue::release_1_0(),
            stage: "T0",
            coach: None,
            language: Lang::De,
        };
        let doc = device
            .create(|actor| AssessmentDoc::create(actor, &ctx(&world, who), &new))
            .unwrap();
        for (k, q) in ["A1", "A2", "B1", "B3", "C1", "C2", "C3", "C4", "C5", "G1"]
            .iter()
            .enumerate()
        {
            device
                .edit(&doc, |a: &mut AssessmentDoc| {
                    a.set_level(&ctx(&world, who), q, ((i + k) % 5) as i64)
                })
                .unwrap();
        }
        assert_eq!(device.status().unacknowledged, 21, "device {i}");
        own.push(doc);
    }

    // Back online at once.
    for (_, device) in &devices {
        device.resume();
    }
    for (i, (who, device)) in devices.iter().enumerate() {
        if !device.wait_for(TIMEOUT, synced).await {
            // Diagnose: does the server have this device's profile changes?
            let probe_dir = tempfile::tempdir().unwrap();
            let probe = self::device(&world, who, &probe_dir);
            probe.start(&runtime);
            let profile = profile_of(who);
            eventually("the probe gets the profile", || {
                probe.heads(&profile).is_ok()
            })
            .await;
            probe.wait_for(TIMEOUT, synced).await;
            let theirs = probe.heads(&profile).unwrap_or_default();
            let mine = device.heads(&profile).unwrap_or_default();
            panic!(
                "device {i}: {:?}\nserver heads {theirs:?}\ndevice heads {mine:?}",
                device.status()
            );
        }
    }
    // Every device converges on its business's profile; a fresh device of each owner reads
    // the server's state, which every device of that business holds.
    for (who, profile) in [("owner1", p1), ("owner2", p2)] {
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = device(&world, who, &fresh_dir);
        fresh.start(&runtime);
        eventually("the fresh device has the profile", || {
            fresh.heads(&profile).is_ok()
        })
        .await;
        assert!(fresh.wait_for(TIMEOUT, synced).await);
        for (i, (device_user, device)) in devices.iter().enumerate() {
            if profile_of(device_user) != profile {
                continue;
            }
            eventually(&format!("device {i} converges"), || {
                device.heads(&profile).ok() == fresh.heads(&profile).ok()
            })
            .await;
        }
        // Every assessment made offline for this business is on the server.
        for (i, (device_user, device)) in devices.iter().enumerate() {
            if profile_of(device_user) != profile {
                continue;
            }
            let doc = own[i];
            eventually(
                &format!("assessment of device {i} reaches the fresh device"),
                || fresh.heads(&doc).ok() == device.heads(&doc).ok(),
            )
            .await;
        }
        fresh.stop();
    }
    for (_, device) in &devices {
        device.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_mid_edit_fifty_times_keeps_every_returned_edit() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    use crate::support::client::Client as ProtocolClient;
    use crate::support::server::workspace_binary;

    let (world, dir, runtime) = setup().await;
    let laptop = device(&world, "coach", &dir);
    let doc = new_assessment(&world, "coach", &laptop);
    laptop.start(&runtime);
    assert!(laptop.wait_for(TIMEOUT, synced).await);
    laptop.stop();

    let phone = dir.path().join("phone.sqlite3");
    // A port nothing listens on: the device is offline.
    let nowhere = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let resync = |phone: &std::path::Path| {
        let mut config = ClientConfig::new(phone, world.server.http_url(), world.token("coach"));
        config.refresh_every = Duration::from_millis(300);
        Client::open(config).unwrap()
    };
    for round in 0..50u32 {
        // Every fifth round the device works offline after a full sync: then the counter must
        // equal what the server lacks exactly. Otherwise it syncs while editing, and a kill may
        // fall between the server's commit and the device recording it: the counter may then
        // show more than the server lacks, never less.
        let offline = round % 5 == 4;
        if offline {
            let online = resync(&phone);
            online.start(&runtime);
            assert!(
                online.wait_for(TIMEOUT, synced).await,
                "{:?}",
                online.status()
            );
            online.stop();
            assert!(
                online
                    .wait_for(TIMEOUT, |s| s.connection == ConnectionState::Stopped)
                    .await
            );
        }
        let server = if offline {
            nowhere.clone()
        } else {
            world.server.http_url()
        };
        let mut child = tokio::process::Command::new(workspace_binary("nachbar-test-device"))
            .arg(&phone)
            .arg(server)
            .arg(world.token("coach"))
            .arg(doc.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("device starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let wanted = (round * 7) % 15 + 1;
        let mut confirmed = Vec::new();
        while confirmed.len() < wanted as usize {
            let line = tokio::time::timeout(TIMEOUT, lines.next_line())
                .await
                .expect("the device edits")
                .unwrap()
                .expect("the device is alive");
            confirmed.push(line);
        }
        child.kill().await.unwrap();

        // Every edit the device confirmed is in its store.
        let mut replica = nachbar_core::store::Replica::open(&phone, Durability::Full).unwrap();
        let local = replica.automerge(&doc).unwrap().clone();
        for head in &confirmed {
            let hash: automerge::ChangeHash = head.parse().unwrap();
            assert!(
                local.get_change_meta_by_hash(&hash).is_some(),
                "round {round}: confirmed edit {head} lost"
            );
        }
        let unacknowledged = replica.unacknowledged(&doc).unwrap();
        drop(replica);
        let mut probe =
            ProtocolClient::join(&world.server.url(), world.token("coach"), "probe").await;
        let mut server_doc = automerge::Automerge::new();
        probe
            .sync(doc, &mut server_doc, &mut automerge::sync::State::new())
            .await;
        let lacking = local
            .get_changes_meta(&[])
            .iter()
            .filter(|c| server_doc.get_change_meta_by_hash(&c.hash).is_none())
            .count();
        if offline {
            assert_eq!(unacknowledged, lacking, "round {round} (offline)");
            assert!(
                lacking >= confirmed.len(),
                "round {round}: offline edits are not on the server"
            );
        } else {
            assert!(
                unacknowledged >= lacking,
                "round {round}: the counter shows {unacknowledged}, the server lacks {lacking}"
            );
        }
    }

    // Back online, the device uploads the rest; the counter reaches 0.
    let phone = resync(&phone);
    phone.start(&runtime);
    assert!(
        phone.wait_for(TIMEOUT, synced).await,
        "{:?}",
        phone.status()
    );
    phone.stop();
}

mod counter_property {
    //! Random sequences of edits, disconnects, reconnects and server restarts: the counter
    //! never shows 0 while the server lacks a change, and reaches 0 after sync.

    use proptest::prelude::*;

    use super::*;
    use crate::support::client::Client as ProtocolClient;

    #[derive(Debug, Clone)]
    enum Step {
        Edit(u8),
        /// The owner's tablet edits too: the server's messages then arrive for other reasons
        /// while the coach's own changes are on their way.
        OwnerEdit(u8),
        Disconnect,
        Reconnect,
        RestartServer,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (0u8..40).prop_map(Step::Edit),
            2 => (0u8..40).prop_map(Step::OwnerEdit),
            1 => Just(Step::Disconnect),
            1 => Just(Step::Reconnect),
            1 => Just(Step::RestartServer),
        ]
    }

    /// How many changes of `local` the server lacks.
    async fn lacking(world: &World, doc: DocumentId, local: &automerge::Automerge) -> usize {
        let mut probe =
            ProtocolClient::join(&world.server.url(), world.token("coach"), "probe").await;
        let mut server_doc = automerge::Automerge::new();
        probe
            .sync(doc, &mut server_doc, &mut automerge::sync::State::new())
            .await;
        local
            .get_changes_meta(&[])
            .iter()
            .filter(|c| server_doc.get_change_meta_by_hash(&c.hash).is_none())
            .count()
    }

    async fn run(steps: Vec<Step>) {
        let (mut world, dir, runtime) = setup().await;
        let coach = device(&world, "coach", &dir);
        let doc = new_assessment(&world, "coach", &coach);
        coach.start(&runtime);
        let owner = device(&world, "owner1", &dir);
        owner.start(&runtime);
        eventually("the owner gets the assessment", || {
            owner.heads(&doc).is_ok()
        })
        .await;
        let questions = ["A1", "A2", "B1", "C2", "C3", "G1"];
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Edit(n) => {
                    let q = questions[usize::from(*n) % questions.len()];
                    coach
                        .edit(&doc, |a: &mut AssessmentDoc| {
                            a.set_level(&ctx(&world, "coach"), q, i64::from(*n % 5))
                        })
                        .unwrap();
                }
                Step::OwnerEdit(n) => {
                    let q = questions[usize::from(*n) % questions.len()];
                    owner
                        .edit(&doc, |a: &mut AssessmentDoc| {
                            a.set_level(&ctx(&world, "owner1"), q, i64::from(*n % 5))
                        })
                        .unwrap();
                }
                Step::Disconnect => coach.pause(),
                Step::Reconnect => coach.resume(),
                Step::RestartServer => world.server.restart(i % 2 == 0).await,
            }
            // Sample at once and again a moment later.
            for pause in [0, 15] {
                tokio::time::sleep(Duration::from_millis(pause)).await;
                if coach.status().unacknowledged == 0 {
                    let local = coach.read::<AssessmentDoc>(&doc).unwrap();
                    let lacking = lacking(&world, doc, local.inner().automerge()).await;
                    assert_eq!(lacking, 0, "step {i} ({step:?}): the counter shows 0");
                }
            }
        }
        coach.resume();
        assert!(
            coach.wait_for(TIMEOUT, synced).await,
            "{:?}",
            coach.status()
        );
        let local = coach.read::<AssessmentDoc>(&doc).unwrap();
        assert_eq!(lacking(&world, doc, local.inner().automerge()).await, 0);
        coach.stop();
        owner.stop();
    }

    proptest! {
        // Each case starts a server and builds a directory: a few cases, short sequences.
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

        #[test]
        fn the_counter_never_hides_what_the_server_lacks(
            steps in proptest::collection::vec(step(), 1..14)
        ) {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(run(steps));
        }
    }
}

/// A TLS terminator in front of the server, as a reverse proxy is in production: rustls with a
/// certificate for `localhost` signed by a throwaway authority. Returns its port and the
/// authority's DER certificate.
async fn tls_proxy(backend: u16) -> (u16, Vec<u8>) {
    use std::sync::Arc;

    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(("127.0.0.1", backend)).await
                else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, ca.der().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_syncs_over_tls_and_refuses_an_untrusted_certificate() {
    let (world, dir, runtime) = setup().await;
    let (port, authority) = tls_proxy(world.server.port).await;
    let open = |name: &str, roots: Vec<Vec<u8>>| {
        let mut config = ClientConfig::new(
            dir.path().join(format!("{name}.sqlite3")),
            format!("https://localhost:{port}"),
            world.token("coach"),
        );
        config.durability = Durability::Normal;
        config.extra_roots = roots;
        Client::open(config).unwrap()
    };
    let phone = open("phone", vec![authority]);
    let doc = new_assessment(&world, "coach", &phone);
    phone.start(&runtime);
    assert!(
        phone.wait_for(TIMEOUT, synced).await,
        "{:?}",
        phone.status()
    );

    // Without the authority the certificate is not trusted: nothing syncs, nothing is lost.
    let stranger = open("stranger", Vec::new());
    new_assessment(&world, "coach", &stranger);
    stranger.start(&runtime);
    assert!(
        stranger
            .wait_for(TIMEOUT, |s| s.connection == ConnectionState::Offline
                && s.last_error.as_deref().is_some_and(|e| e.contains("TLS")))
            .await,
        "{:?}",
        stranger.status()
    );
    assert_eq!(stranger.status().unacknowledged, 1);
    let owner = device(&world, "owner1", &dir);
    owner.start(&runtime);
    eventually("the owner gets it through the server", || {
        owner.heads(&doc).is_ok()
    })
    .await;
    phone.stop();
    stranger.stop();
    owner.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_creation_is_reported_and_kept_on_the_device() {
    let (world, dir, runtime) = setup().await;
    let coach = device(&world, "coach", &dir);
    // The coach is assigned to the glazier only: an assessment of the printer is refused.
    let new = NewAssessment {
        neighbourhood: &world.hood,
        business: &world.b2,
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: None,
        language: Lang::De,
    };
    let foreign = coach
        .create(|actor| AssessmentDoc::create(actor, &ctx(&world, "coach"), &new))
        .unwrap();
    let own = new_assessment(&world, "coach", &coach);
    coach.start(&runtime);
    assert!(
        coach
            .wait_for(TIMEOUT, |s| s.refused.contains(&foreign)
                && !s.unacknowledged_by_document.contains_key(&own))
            .await,
        "{:?}",
        coach.status()
    );
    let status = coach.status();
    assert_eq!(status.unacknowledged_by_document.get(&foreign), Some(&1));
    assert_eq!(status.connection, ConnectionState::Online);
    assert!(coach.heads(&foreign).is_ok(), "kept on the device");
    coach.stop();
}
