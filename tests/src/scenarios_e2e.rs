//! The scenarios of domain.md §10 end to end: every device a `Client` with its own database
//! against the real server, offline periods as paused clients, then a sync of everyone. After
//! each sync every device holds the same heads and the scenario's assertions hold on each.

use std::time::Duration;

use nachbar_core::DomainError;
use nachbar_core::catalogue;
use nachbar_core::client::{Client, ConnectionState};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::label::Lang;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasureStatus, NewMeasure};
use nachbar_core::model::assessment::{
    AssessmentDoc, FindingKind, NewAssessment, NewFinding, ShareLevel,
};
use nachbar_core::model::business_profile::{BusinessProfileDoc, NewGoodPractice, TopicState};
use nachbar_core::model::neighbourhood::NeighbourhoodDoc;
use nachbar_core::model::overview::overview;
use nachbar_core::model::workshop::{
    BlockKind, BlockPatch, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind,
};
use nachbar_core::model::{ReviewStatus, SignOffRole, TypedDoc};
use nachbar_core::time::Timestamp;

use crate::support::world::World;
use crate::support::{TIMEOUT, eventually, synced};

/// The devices of one scenario, each with its own database in one folder.
struct Devices {
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Handle,
}

impl Devices {
    fn new() -> Self {
        Devices {
            dir: tempfile::tempdir().expect("tempdir"),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// A device of `who`, offline until the first sync.
    fn device(&self, world: &World, who: &str, name: &str) -> Client {
        world.device(
            who,
            self.dir.path().join(format!("{name}.sqlite3")),
            Duration::from_millis(200),
        )
    }

    /// Brings every device online until all are acknowledged and hold the same heads of
    /// `docs`, then takes them offline again.
    async fn sync_all(&self, devices: &[&Client], docs: &[DocumentId]) {
        for d in devices {
            d.start(&self.runtime);
            d.resume();
        }
        for d in devices {
            assert!(d.wait_for(TIMEOUT, synced).await, "{:?}", d.status());
        }
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        for doc in docs {
            loop {
                let heads: Vec<_> = devices.iter().map(|d| d.heads(doc).ok()).collect();
                if heads.iter().all(Option::is_some) && heads.windows(2).all(|w| w[0] == w[1]) {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{doc} does not converge"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        for d in devices {
            d.pause();
        }
        for d in devices {
            assert!(
                d.wait_for(TIMEOUT, |s| s.connection == ConnectionState::Paused)
                    .await
            );
        }
    }
}

fn ctx(world: &World, who: &str) -> EditContext {
    EditContext::new(world.id(who), Timestamp::now())
}

/// The same read model on every device.
fn same_view<T: TypedDoc, V: PartialEq + std::fmt::Debug>(
    devices: &[&Client],
    doc: &DocumentId,
    view: impl Fn(&T) -> V,
) -> V {
    let views: Vec<V> = devices
        .iter()
        .map(|d| view(&d.read::<T>(doc).expect("readable")))
        .collect();
    for v in &views[1..] {
        assert_eq!(v, &views[0], "every device shows the same");
    }
    views.into_iter().next().expect("a device")
}

/// `who` answers `question` of the assessment `doc` with `level` on `device`.
fn answer(world: &World, device: &Client, who: &str, doc: &DocumentId, question: &str, level: i64) {
    device
        .edit(doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx(world, who), question, level)
        })
        .unwrap();
}

/// `who` starts a T0 assessment of the glazier (b1) on `device`.
fn start_assessment(world: &World, device: &Client, who: &str) -> DocumentId {
    device
        .create(|actor| {
            AssessmentDoc::create(actor, &ctx(world, who), &new_assessment(world, &world.b1))
        })
        .unwrap()
}

fn new_assessment<'a>(world: &'a World, business: &'a str) -> NewAssessment<'a> {
    NewAssessment {
        neighbourhood: &world.hood,
        business,
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some(world.id("coach")),
        language: Lang::De,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_01_coach_and_owner_edit_the_same_answer_offline() {
    let world = World::new().await;
    let net = Devices::new();
    let phone = net.device(&world, "coach", "coach-phone");
    let tablet = net.device(&world, "owner1", "owner-tablet");
    let doc = start_assessment(&world, &phone, "coach");
    answer(&world, &phone, "coach", &doc, "C2", 3);
    phone
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.sign_off(&ctx(&world, "coach"), SignOffRole::Coach)
        })
        .unwrap();
    net.sync_all(&[&phone, &tablet], &[doc]).await;
    tablet
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.sign_off(&ctx(&world, "owner1"), SignOffRole::Owner)
        })
        .unwrap();
    net.sync_all(&[&phone, &tablet], &[doc]).await;
    let agreed = same_view(&[&phone, &tablet], &doc, |a: &AssessmentDoc| {
        a.view().unwrap()
    });
    assert_eq!(agreed.status, ReviewStatus::Agreed);

    // Offline: the coach at the glazier's workshop, the owner later at the office.
    answer(&world, &phone, "coach", &doc, "C2", 1);
    phone
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_answer_note(&ctx(&world, "coach"), "C2", "Vorlagen fehlen.")
        })
        .unwrap();
    answer(&world, &tablet, "owner1", &doc, "C2", 2);
    tablet
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_relevance(&ctx(&world, "owner1"), "C2", 3)
        })
        .unwrap();
    tablet
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.set_answer_note(
                &ctx(&world, "owner1"),
                "C2",
                "Textbausteine liegen in Word.",
            )
        })
        .unwrap();
    net.sync_all(&[&phone, &tablet], &[doc]).await;

    let view = same_view(&[&phone, &tablet], &doc, |a: &AssessmentDoc| {
        a.view().unwrap()
    });
    let c2 = view.items.iter().find(|i| i.id == "C2").unwrap();
    assert!(matches!(c2.answer.level, Some(1 | 2)));
    assert_eq!(c2.answer.relevance, 3, "relevance had no conflict");
    assert!(
        c2.answer.note.contains("Vorlagen fehlen.")
            && c2.answer.note.contains("Textbausteine liegen in Word.")
    );
    let review = view
        .needs_review
        .iter()
        .find(|n| n.field == "answers/C2/level")
        .expect("C2 level needs review");
    let mut values = review.values.clone();
    values.sort();
    assert_eq!(values, ["1", "2"]);
    assert_eq!(
        view.status,
        ReviewStatus::InReview,
        "agreed drops to in review"
    );

    phone
        .edit(&doc, |a: &mut AssessmentDoc| {
            a.resolve(&ctx(&world, "coach"), "answers/C2/level", "2")
        })
        .unwrap();
    net.sync_all(&[&phone, &tablet], &[doc]).await;
    let resolved = same_view(&[&phone, &tablet], &doc, |a: &AssessmentDoc| {
        a.view().unwrap()
    });
    assert!(resolved.needs_review.is_empty());
}

fn block(title: &str, kind: BlockKind, minutes: u32) -> NewBlock {
    NewBlock {
        title: title.to_owned(),
        kind,
        duration_min: minutes,
        method: None,
        goal: String::new(),
        materials: String::new(),
        expected_output: String::new(),
    }
}

fn block_id(doc: &WorkshopDoc, title: &str) -> String {
    let view = doc.view().unwrap();
    view.agenda
        .iter()
        .chain(&view.removed_blocks)
        .find(|b| b.title == title)
        .unwrap()
        .id
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_02_agenda_reorder_and_block_edit_both_survive() {
    let world = World::new().await;
    let net = Devices::new();
    let laptop = net.device(&world, "coordinator", "coordinator-laptop");
    let phone = net.device(&world, "coach", "coach-phone");
    let new = NewWorkshop {
        title: "Werkstatt E-Mail & E-Rechnung".to_owned(),
        kind: WorkshopKind::TopicWorkshop,
        date: "2026-11-12".to_owned(),
        start: "09:00".to_owned(),
        end: "11:00".to_owned(),
        place: "Halle 2".to_owned(),
        host: Some(world.b2.clone()),
        goal: "Funktionspostfächer und E-Rechnungsempfang".to_owned(),
    };
    let doc = laptop
        .create(|actor| WorkshopDoc::create(actor, &ctx(&world, "coordinator"), &world.hood, &new))
        .unwrap();
    for (title, kind, min) in [
        ("Begrüßung", BlockKind::Welcome, 15),
        ("Impuls Funktionspostfächer", BlockKind::Input, 30),
        ("Pause", BlockKind::Break, 15),
        ("Kollegiale Beratung", BlockKind::Method, 60),
        ("Abschluss", BlockKind::CheckOut, 15),
    ] {
        laptop
            .edit(&doc, |w: &mut WorkshopDoc| {
                w.add_block(&ctx(&world, "coordinator"), &block(title, kind, min), None)
            })
            .unwrap();
    }
    net.sync_all(&[&laptop, &phone], &[doc]).await;
    let plan = phone.read::<WorkshopDoc>(&doc).unwrap();
    let (kb, impuls, pause) = (
        block_id(&plan, "Kollegiale Beratung"),
        block_id(&plan, "Impuls Funktionspostfächer"),
        block_id(&plan, "Pause"),
    );
    // The coach on the train; the coordinator online.
    phone
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.move_block(&ctx(&world, "coach"), &kb, Some(&impuls), Some(&pause))
        })
        .unwrap();
    phone
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.set_block_duration(&ctx(&world, "coach"), &kb, 40)
        })
        .unwrap();
    let patch = BlockPatch {
        materials: Some("Moderationskarten, Flipchart, Timer".to_owned()),
        ..BlockPatch::default()
    };
    laptop
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.update_block(&ctx(&world, "coordinator"), &kb, &patch)
        })
        .unwrap();
    laptop
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.add_block(
                &ctx(&world, "coordinator"),
                &block("Impuls E-Rechnung", BlockKind::Input, 10),
                Some(&impuls),
            )
        })
        .unwrap();
    net.sync_all(&[&laptop, &phone], &[doc]).await;

    let view = same_view(&[&laptop, &phone], &doc, |w: &WorkshopDoc| {
        w.view().unwrap()
    });
    let titles: Vec<&str> = view.agenda.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(
        titles
            .iter()
            .filter(|t| **t == "Kollegiale Beratung")
            .count(),
        1,
        "{titles:?}"
    );
    let kb_block = view.agenda.iter().find(|b| b.id == kb).unwrap();
    assert_eq!(kb_block.duration_min, 40);
    assert_eq!(kb_block.materials, "Moderationskarten, Flipchart, Timer");
    let pos = |t: &str| titles.iter().position(|x| *x == t).unwrap();
    assert!(pos("Kollegiale Beratung") < pos("Pause"));
    assert!(pos("Impuls Funktionspostfächer") < pos("Impuls E-Rechnung"));
    let overrun = view
        .overrun
        .expect("125 minutes do not fit into 09:00–11:00");
    assert_eq!((overrun.planned_min, overrun.slot_min), (125, 120));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_04_concurrent_measure_statuses_keep_both_transitions() {
    let world = World::new().await;
    let net = Devices::new();
    let tablet = net.device(&world, "owner1", "owner-tablet");
    let phone = net.device(&world, "coach", "coach-phone");
    let plan = tablet
        .create(|actor| {
            ActionPlanDoc::create(actor, &ctx(&world, "owner1"), &world.hood, &world.b1)
        })
        .unwrap();
    let new = NewMeasure {
        title: "E-Rechnungsempfang einrichten".to_owned(),
        ..NewMeasure::default()
    };
    let m = tablet
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.add_measure(&ctx(&world, "owner1"), &new)
        })
        .unwrap();
    tablet
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.set_measure_status(&ctx(&world, "owner1"), &m, MeasureStatus::InProgress, "")
        })
        .unwrap();
    net.sync_all(&[&tablet, &phone], &[plan]).await;

    tablet
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.set_measure_status(&ctx(&world, "owner1"), &m, MeasureStatus::Done, "")
        })
        .unwrap();
    phone
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.set_measure_status(
                &ctx(&world, "coach"),
                &m,
                MeasureStatus::Blocked,
                "Software-Update fehlt",
            )
        })
        .unwrap();
    net.sync_all(&[&tablet, &phone], &[plan]).await;

    let view = same_view(&[&tablet, &phone], &plan, |p: &ActionPlanDoc| {
        p.view().unwrap()
    });
    let measure = view.measures.iter().find(|x| x.id == m).unwrap();
    assert!(
        measure
            .status_history
            .iter()
            .any(|h| h.to == "done" && h.by == world.id("owner1"))
    );
    assert!(
        measure
            .status_history
            .iter()
            .any(|h| h.to == "blocked" && h.note == "Software-Update fehlt")
    );
    assert!(
        view.needs_review
            .iter()
            .any(|n| n.field == format!("measures/{m}/status"))
    );
    // No progress summary while the conflict is open.
    let profile_id = listed(&world, "owner1", "business-profile", Some(&world.b1)).await;
    net.sync_all(&[&tablet], &[profile_id]).await;
    let refused = tablet.edit(&profile_id, |p: &mut BusinessProfileDoc| {
        p.publish_progress(&ctx(&world, "owner1"), &view)
    });
    assert!(matches!(
        refused,
        Err(nachbar_core::client::ClientError::Local(
            nachbar_core::store::ReplicaError::Domain(DomainError::NotAllowed(_))
        ))
    ));
    tablet
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.resolve(
                &ctx(&world, "owner1"),
                &format!("measures/{m}/status"),
                "blocked",
            )
        })
        .unwrap();
    let resolved = tablet.read::<ActionPlanDoc>(&plan).unwrap().view().unwrap();
    tablet
        .edit(&profile_id, |p: &mut BusinessProfileDoc| {
            p.publish_progress(&ctx(&world, "owner1"), &resolved)
        })
        .unwrap();
    net.sync_all(&[&tablet, &phone], &[plan, profile_id]).await;
    let summary = same_view(&[&tablet, &phone], &profile_id, |p: &BusinessProfileDoc| {
        p.view().unwrap().progress_summary
    })
    .expect("published after the conflict was resolved");
    assert_eq!(summary.counts.get("blocked"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_06_shared_items_appear_and_revocation_removes_them() {
    let world = World::new().await;
    let net = Devices::new();
    // The printer (b2) is not coached here: its owner runs the assessment with the coach of
    // b1 absent; the owner shares from it.
    let printer = net.device(&world, "owner2", "printer-tablet");
    let office = net.device(&world, "coordinator", "coordinator-laptop");
    let assessment = printer
        .create(|actor| {
            AssessmentDoc::create(
                actor,
                &ctx(&world, "owner2"),
                &new_assessment(&world, &world.b2),
            )
        })
        .unwrap();
    let private = "Vertrieb beantwortet 80 Mails pro Tag, Kunde Müller beschwert sich";
    let finding = NewFinding {
        area: "B".to_owned(),
        questions: vec![],
        kind: FindingKind::PainPoint,
        title: "E-Mail-Flut im Vertrieb".to_owned(),
        description: private.to_owned(),
        severity: 2,
        barriers: vec![],
    };
    let fid = printer
        .edit(&assessment, |a: &mut AssessmentDoc| {
            a.add_finding(&ctx(&world, "owner2"), &finding)
        })
        .unwrap();
    let f = printer
        .read::<AssessmentDoc>(&assessment)
        .unwrap()
        .view()
        .unwrap()
        .findings
        .into_iter()
        .find(|x| x.id == fid)
        .unwrap();
    let profile = listed(&world, "owner2", "business-profile", Some(&world.b2)).await;
    let hood = listed(&world, "coordinator", "neighbourhood", None).await;
    net.sync_all(&[&printer, &office], &[profile, hood]).await;

    printer
        .edit(&profile, |p: &mut BusinessProfileDoc| {
            p.share_finding(&ctx(&world, "owner2"), &f, ShareLevel::Anonymised)
        })
        .unwrap();
    let story = NewGoodPractice {
        title: "ZUGFeRD-Rechnungen direkt im ERP".to_owned(),
        problem: "Rechnungen als PDF abgetippt".to_owned(),
        solution: "E-Rechnungs-Import im ERP".to_owned(),
        named: true,
        areas: vec!["D".to_owned()],
        ..NewGoodPractice::default()
    };
    let story_id = printer
        .edit(&profile, |p: &mut BusinessProfileDoc| {
            p.publish_good_practice(&ctx(&world, "owner2"), &story)
        })
        .unwrap();
    printer
        .edit(&profile, |p: &mut BusinessProfileDoc| {
            p.set_topic_state(&ctx(&world, "owner2"), "D", Some(TopicState::Solved))
        })
        .unwrap();
    net.sync_all(&[&printer, &office], &[profile]).await;

    let hood_view = office
        .read::<NeighbourhoodDoc>(&hood)
        .unwrap()
        .view()
        .unwrap();
    let profile_view = office
        .read::<BusinessProfileDoc>(&profile)
        .unwrap()
        .view()
        .unwrap();
    let ov = overview(&hood_view, &[profile_view]);
    assert_eq!(ov.shared_findings.len(), 1);
    assert_eq!(ov.shared_findings[0].business, None, "anonymised");
    assert_eq!(ov.shared_findings[0].item.description, "");
    assert_eq!(ov.good_practices.len(), 1);
    let row = ov.heat_map.iter().find(|r| r.business == world.b2).unwrap();
    assert_eq!(row.cells.get("D"), Some(&TopicState::Solved));
    // The assessment never reaches the coordinator's device.
    assert!(office.heads(&assessment).is_err());
    assert!(
        office
            .documents()
            .unwrap()
            .iter()
            .all(|(id, _)| *id != assessment)
    );

    printer
        .edit(&profile, |p: &mut BusinessProfileDoc| {
            p.revoke_good_practice(&ctx(&world, "owner2"), &story_id)
        })
        .unwrap();
    net.sync_all(&[&printer, &office], &[profile]).await;
    let views = same_view(&[&printer, &office], &profile, |p: &BusinessProfileDoc| {
        p.view().unwrap()
    });
    assert!(views.good_practices.is_empty());
    assert!(overview(&hood_view, &[views]).good_practices.is_empty());
}

fn workshop(world: &World, start: &str, end: &str) -> NewWorkshop {
    NewWorkshop {
        title: "Werkstatt E-Mail & E-Rechnung".to_owned(),
        kind: WorkshopKind::TopicWorkshop,
        date: "2026-11-12".to_owned(),
        start: start.to_owned(),
        end: end.to_owned(),
        place: "Halle 2".to_owned(),
        host: Some(world.b2.clone()),
        goal: "Funktionspostfächer und E-Rechnungsempfang".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_03_removed_block_keeps_concurrent_notes_and_restores() {
    let world = World::new().await;
    let net = Devices::new();
    let laptop = net.device(&world, "coordinator", "coordinator-laptop");
    let phone = net.device(&world, "coach", "coach-phone");
    let doc = laptop
        .create(|actor| {
            WorkshopDoc::create(
                actor,
                &ctx(&world, "coordinator"),
                &world.hood,
                &workshop(&world, "13:00", "17:00"),
            )
        })
        .unwrap();
    let tour = laptop
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.add_block(
                &ctx(&world, "coordinator"),
                &block("Betriebsrundgang", BlockKind::Tour, 45),
                None,
            )
        })
        .unwrap();
    laptop
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.add_block(
                &ctx(&world, "coordinator"),
                &block("Austausch", BlockKind::Discussion, 30),
                None,
            )
        })
        .unwrap();
    net.sync_all(&[&laptop, &phone], &[doc]).await;

    laptop
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.remove_block(&ctx(&world, "coordinator"), &tour)
        })
        .unwrap();
    let notes = "Scanner am Empfang gezeigt; Fragen zur Ablage.";
    phone
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.record_actual(&ctx(&world, "coach"), &tour, Some(50), Some(notes))
        })
        .unwrap();
    net.sync_all(&[&laptop, &phone], &[doc]).await;
    let view = same_view(&[&laptop, &phone], &doc, |w: &WorkshopDoc| {
        w.view().unwrap()
    });
    assert!(view.agenda.iter().all(|b| b.id != tour));
    let removed = view
        .removed_blocks
        .iter()
        .find(|b| b.id == tour)
        .expect("soft-deleted");
    assert_eq!(
        (removed.notes.as_str(), removed.actual_duration_min),
        (notes, Some(50))
    );
    assert!(
        removed.removal.edited_after_removal,
        "the UI offers restore"
    );

    laptop
        .edit(&doc, |w: &mut WorkshopDoc| {
            w.restore_block(&ctx(&world, "coordinator"), &tour)
        })
        .unwrap();
    net.sync_all(&[&laptop, &phone], &[doc]).await;
    let restored = same_view(&[&laptop, &phone], &doc, |w: &WorkshopDoc| {
        w.view().unwrap()
    });
    let back = restored
        .agenda
        .iter()
        .find(|b| b.id == tour)
        .expect("restored");
    assert_eq!(back.notes, notes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_05_duplicate_measures_are_hinted_and_merged_without_loss() {
    let world = World::new().await;
    let net = Devices::new();
    let phone = net.device(&world, "coach", "coach-phone");
    // The office manager: staff of the glazier.
    let tablet = net.device(&world, "staff1", "office-tablet");
    let assessment = start_assessment(&world, &phone, "coach");
    let finding = NewFinding {
        area: "B".to_owned(),
        questions: vec!["B1".to_owned()],
        kind: FindingKind::PainPoint,
        title: "Rechnungen landen in persönlichen Postfächern".to_owned(),
        description: String::new(),
        severity: 3,
        barriers: vec!["time".to_owned()],
    };
    let finding_id = phone
        .edit(&assessment, |a: &mut AssessmentDoc| {
            a.add_finding(&ctx(&world, "coach"), &finding)
        })
        .unwrap();
    let plan = phone
        .create(|actor| ActionPlanDoc::create(actor, &ctx(&world, "coach"), &world.hood, &world.b1))
        .unwrap();
    net.sync_all(&[&phone, &tablet], &[assessment, plan]).await;

    // During the workshop without signal both create the same measure from the finding.
    let measure = |title: &str| NewMeasure {
        title: title.to_owned(),
        findings: vec![finding_id.clone()],
        ..NewMeasure::default()
    };
    let a = phone
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.add_measure(
                &ctx(&world, "coach"),
                &measure("Funktionspostfach rechnung@ einrichten"),
            )
        })
        .unwrap();
    phone
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.set_measure_status(
                &ctx(&world, "coach"),
                &a,
                MeasureStatus::Planned,
                "im Workshop vereinbart",
            )
        })
        .unwrap();
    let b = tablet
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.add_measure(
                &ctx(&world, "staff1"),
                &measure("Funktionspostfach rechnung@ einrichten!"),
            )
        })
        .unwrap();
    net.sync_all(&[&phone, &tablet], &[plan]).await;
    let view = same_view(&[&phone, &tablet], &plan, |p: &ActionPlanDoc| {
        p.view().unwrap()
    });
    assert_eq!(view.measures.len(), 2);
    assert_ne!(a, b);
    assert_eq!(
        view.duplicate_hints
            .first()
            .expect("duplicate hint")
            .reasons
            .len(),
        2
    );

    tablet
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.merge_measures(&ctx(&world, "staff1"), &a, &b)
        })
        .unwrap();
    net.sync_all(&[&phone, &tablet], &[plan]).await;
    let merged = same_view(&[&phone, &tablet], &plan, |p: &ActionPlanDoc| {
        p.view().unwrap()
    });
    assert_eq!((merged.measures.len(), merged.merged.len()), (1, 1));
    assert!(merged.removed.is_empty(), "nothing deleted");
    assert_eq!(merged.merged[0].merged_into.as_deref(), Some(b.as_str()));
    assert!(
        merged.measures[0]
            .status_history
            .iter()
            .any(|h| h.to == "planned" && h.note.contains("im Workshop vereinbart"))
    );
}

/// The first listed document of `kind` (and `business`) that `who` may read.
async fn listed(world: &World, who: &str, kind: &str, business: Option<&str>) -> DocumentId {
    world
        .documents(who)
        .await
        .into_iter()
        .find(|d| d["kind"] == kind && business.is_none_or(|b| d["business"] == b))
        .and_then(|d| d["id"].as_str().and_then(|s| s.parse().ok()))
        .expect("listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_07_need_with_two_offers_one_accepted() {
    use nachbar_core::model::business_profile::{NeedState, OfferFormat, RecordRef, Topic};
    use nachbar_core::model::overview::MatchState;

    let mut world = World::new().await;
    let tax = world.add_business("StB Kaya");
    world.add_user("owner-tax", "owner", &tax);
    let net = Devices::new();
    let glazier = net.device(&world, "owner1", "glazier");
    let printer = net.device(&world, "owner2", "printer");
    let adviser = net.device(&world, "owner-tax", "tax");
    let hood = listed(&world, "owner1", "neighbourhood", None).await;
    let (pg, pp, pt) = (
        listed(&world, "owner1", "business-profile", Some(&world.b1)).await,
        listed(&world, "owner1", "business-profile", Some(&world.b2)).await,
        listed(&world, "owner1", "business-profile", Some(&tax)).await,
    );
    let all = [&glazier, &printer, &adviser];
    net.sync_all(&all, &[hood, pg, pp, pt]).await;
    let topic = |title: &str| Topic {
        title: title.to_owned(),
        areas: vec!["D".to_owned(), "I".to_owned()],
        tags: vec!["ZUGFeRD".to_owned()],
        description: String::new(),
    };
    let need = glazier
        .edit(&pg, |p: &mut BusinessProfileDoc| {
            p.add_need(
                &ctx(&world, "owner1"),
                &topic("ZUGFeRD in Branchensoftware einlesen"),
                3,
            )
        })
        .unwrap();
    net.sync_all(&all, &[pg]).await;
    let need_ref = RecordRef {
        business: world.b1.clone(),
        id: need.clone(),
    };
    // Offline, each neighbour answers in its own profile.
    let p_offer = printer
        .edit(&pp, |p: &mut BusinessProfileDoc| {
            p.add_offer(
                &ctx(&world, "owner2"),
                &topic("30 Minuten Bildschirm-Tour"),
                OfferFormat::ScreenShare,
                Some(&need_ref),
            )
        })
        .unwrap();
    let t_offer = adviser
        .edit(&pt, |p: &mut BusinessProfileDoc| {
            p.add_offer(
                &ctx(&world, "owner-tax"),
                &topic("E-Rechnung und DATEV"),
                OfferFormat::Phone,
                Some(&need_ref),
            )
        })
        .unwrap();
    net.sync_all(&all, &[pp, pt]).await;
    let overview_on = |c: &Client| {
        let hood_view = c.read::<NeighbourhoodDoc>(&hood).unwrap().view().unwrap();
        let views: Vec<_> = [pg, pp, pt]
            .iter()
            .map(|id| c.read::<BusinessProfileDoc>(id).unwrap().view().unwrap())
            .collect();
        overview(&hood_view, &views)
    };
    let ov = overview_on(&glazier);
    let proposals: Vec<_> = ov.matches.iter().filter(|m| m.need.id == need).collect();
    assert_eq!(proposals.len(), 2, "both offers proposed: {:?}", ov.matches);
    assert!(proposals.iter().all(|m| m.state == MatchState::Proposed));

    let accepted = RecordRef {
        business: world.b2.clone(),
        id: p_offer.clone(),
    };
    glazier
        .edit(&pg, |p: &mut BusinessProfileDoc| {
            p.accept_offer(&ctx(&world, "owner1"), &need, &accepted)
        })
        .unwrap();
    net.sync_all(&all, &[pg, pp, pt]).await;
    for device in all {
        let ov = overview_on(device);
        let state_of = |offer: &str| {
            ov.matches
                .iter()
                .find(|m| m.offer.id == offer)
                .unwrap()
                .state
        };
        assert_eq!(state_of(&p_offer), MatchState::Accepted);
        assert_eq!(state_of(&t_offer), MatchState::Declined);
    }
    let g = same_view(&all, &pg, |p: &BusinessProfileDoc| p.view().unwrap());
    assert_eq!(g.needs[0].state, NeedState::Matched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_08_seat_interest_counts_add_up() {
    use nachbar_core::model::neighbourhood::{CostModel, NewOffering, OfferingKind};

    let mut world = World::new().await;
    let metal = world.add_business("Metallbau Vogt");
    world.add_user("hr-metal", "owner", &metal);
    world.add_user("workshop-metal", "staff", &metal);
    let net = Devices::new();
    let office = net.device(&world, "coordinator", "coordinator");
    let hr = net.device(&world, "hr-metal", "hr");
    let workshop_manager = net.device(&world, "workshop-metal", "workshop-manager");
    let glazier = net.device(&world, "owner1", "glazier");
    let hood = listed(&world, "coordinator", "neighbourhood", None).await;
    let (pm, pg) = (
        listed(&world, "coordinator", "business-profile", Some(&metal)).await,
        listed(&world, "coordinator", "business-profile", Some(&world.b1)).await,
    );
    net.sync_all(
        &[&office, &hr, &workshop_manager, &glazier],
        &[hood, pm, pg],
    )
    .await;
    let offering = NewOffering {
        title: "Phishing-Awareness-Schulung".to_owned(),
        kind: OfferingKind::Training,
        provider: "HWK".to_owned(),
        min_seats: 20,
        cost_model: CostModel::PerSeat,
        cost_eur: Some(45),
    };
    let oid = office
        .edit(&hood, |n: &mut NeighbourhoodDoc| {
            n.add_offering(&ctx(&world, "coordinator"), &offering)
        })
        .unwrap();
    net.sync_all(&[&office, &hr, &workshop_manager, &glazier], &[hood])
        .await;

    // HR online, the workshop manager offline, the glazier too.
    hr.edit(&pm, |p: &mut BusinessProfileDoc| {
        p.change_seat_interest(&ctx(&world, "hr-metal"), &oid, 12)
    })
    .unwrap();
    workshop_manager
        .edit(&pm, |p: &mut BusinessProfileDoc| {
            p.change_seat_interest(&ctx(&world, "workshop-metal"), &oid, 3)
        })
        .unwrap();
    glazier
        .edit(&pg, |p: &mut BusinessProfileDoc| {
            p.change_seat_interest(&ctx(&world, "owner1"), &oid, 4)
        })
        .unwrap();
    let all = [&office, &hr, &workshop_manager, &glazier];
    net.sync_all(&all, &[pm, pg]).await;
    let demand = |c: &Client| {
        let hood_view = c.read::<NeighbourhoodDoc>(&hood).unwrap().view().unwrap();
        let views: Vec<_> = [pm, pg]
            .iter()
            .map(|id| c.read::<BusinessProfileDoc>(id).unwrap().view().unwrap())
            .collect();
        overview(&hood_view, &views)
            .offerings
            .into_iter()
            .find(|o| o.offering == oid)
            .unwrap()
    };
    for device in all {
        let d = demand(device);
        assert_eq!(d.seats_by_business.get(&metal), Some(&15), "counter sum");
        assert_eq!((d.seats_total, d.min_reached), (19, false));
    }
    workshop_manager
        .edit(&pm, |p: &mut BusinessProfileDoc| {
            p.change_seat_interest(&ctx(&world, "workshop-metal"), &oid, -1)
        })
        .unwrap();
    net.sync_all(&all, &[pm]).await;
    let d = demand(&office);
    assert_eq!(
        (d.seats_by_business.get(&metal), d.seats_total),
        (Some(&14), 18)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_09_catalogue_upgrade_keeps_t0_on_1_0_and_compares_through_the_map() {
    use nachbar_core::model::assessment::compare;

    let world = World::new().await;
    let net = Devices::new();
    let phone = net.device(&world, "coach", "coach-phone");
    let tablet = net.device(&world, "owner1", "owner-tablet");
    // Offline on 1.0 while the chamber publishes 1.1.
    let t0 = start_assessment(&world, &phone, "coach");
    answer(&world, &phone, "coach", &t0, "B2", 2);
    answer(&world, &phone, "coach", &t0, "A1", 1);
    net.sync_all(&[&phone, &tablet], &[t0]).await;

    let release_1_1 = catalogue::release_1_1();
    let t1_new = NewAssessment {
        release: release_1_1,
        stage: "T1",
        ..new_assessment(&world, &world.b1)
    };
    let t1 = phone
        .create(|actor| AssessmentDoc::create(actor, &ctx(&world, "coach"), &t1_new))
        .unwrap();
    for (q, level) in [("B2a", 3), ("B2b", 1), ("A1", 3)] {
        phone
            .edit(&t1, |a: &mut AssessmentDoc| {
                a.set_level(&ctx(&world, "coach"), q, level)
            })
            .unwrap();
    }
    net.sync_all(&[&phone, &tablet], &[t0, t1]).await;
    for device in [&phone, &tablet] {
        let t0_view = device.read::<AssessmentDoc>(&t0).unwrap().view().unwrap();
        assert_eq!(t0_view.catalogue_release, "1.0");
        assert!(
            t0_view.items.iter().any(|i| i.id == "B2")
                && t0_view.items.iter().all(|i| i.id != "B2a")
        );
        let t1_view = device.read::<AssessmentDoc>(&t1).unwrap().view().unwrap();
        assert_eq!(t1_view.catalogue_release, "1.1");
        let cmp = compare(&t0_view, &t1_view, release_1_1);
        let row = |q: &str| cmp.rows.iter().find(|r| r.question == q).unwrap();
        for split in ["B2a", "B2b"] {
            assert_eq!(row(split).previous.as_deref(), Some("B2"));
            assert!(
                !row(split).comparable,
                "split items are not directly comparable"
            );
        }
        assert_eq!(row("A1").level_delta, Some(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_10_long_offline_wrong_clock_and_a_member_leaving() {
    let mut world = World::new().await;
    let labels = world.add_business("Schilder Schmidt");
    world.add_user("owner-labels", "owner", &labels);
    let net = Devices::new();
    let office = net.device(&world, "coordinator", "coordinator");
    let phone = net.device(&world, "coach", "coach-phone");
    let labels_tablet = net.device(&world, "owner-labels", "labels");
    let hood = listed(&world, "coordinator", "neighbourhood", None).await;
    let profiles = [
        listed(&world, "coordinator", "business-profile", Some(&world.b1)).await,
        listed(&world, "coordinator", "business-profile", Some(&world.b2)).await,
        listed(&world, "coordinator", "business-profile", Some(&labels)).await,
    ];
    let ws = office
        .create(|actor| {
            WorkshopDoc::create(
                actor,
                &ctx(&world, "coordinator"),
                &world.hood,
                &workshop(&world, "09:00", "12:00"),
            )
        })
        .unwrap();
    let intro = office
        .edit(&ws, |w: &mut WorkshopDoc| {
            w.add_block(
                &ctx(&world, "coordinator"),
                &block("Begrüßung", BlockKind::Welcome, 15),
                None,
            )
        })
        .unwrap();
    let assessments: Vec<DocumentId> = ["T0", "T1"]
        .iter()
        .map(|stage| {
            let new = NewAssessment {
                stage,
                ..new_assessment(&world, &world.b1)
            };
            phone
                .create(|actor| AssessmentDoc::create(actor, &ctx(&world, "coach"), &new))
                .unwrap()
        })
        .collect();
    let mut docs = vec![hood, ws];
    docs.extend(&profiles);
    net.sync_all(&[&office, &phone], &docs).await;
    // Every business says it needs help with B, and the label maker shares a story.
    for (who, device_name, profile) in [
        ("owner1", "g", profiles[0]),
        ("owner2", "p", profiles[1]),
        ("owner-labels", "l", profiles[2]),
    ] {
        let device = if who == "owner-labels" {
            labels_tablet.clone()
        } else {
            net.device(&world, who, device_name)
        };
        net.sync_all(&[&device], &[profile]).await;
        device
            .edit(&profile, |p: &mut BusinessProfileDoc| {
                p.set_topic_state(&ctx(&world, who), "B", Some(TopicState::NeedHelp))
            })
            .unwrap();
        net.sync_all(&[&device], &[]).await;
    }
    net.sync_all(&[&office, &phone], &profiles).await;

    // Five days offline with the phone clock two days behind.
    let behind = |who: &str| {
        EditContext::new(
            world.id(who),
            Timestamp(Timestamp::now().millis() - 2 * 86_400_000),
        )
    };
    for day in 1..=5 {
        phone
            .edit(&ws, |w: &mut WorkshopDoc| {
                w.add_block(
                    &behind("coach"),
                    &block(&format!("Tag {day}: Übung"), BlockKind::Method, 20),
                    None,
                )
            })
            .unwrap();
        for a in &assessments {
            phone
                .edit(a, |x: &mut AssessmentDoc| {
                    x.set_level(&behind("coach"), &format!("G{day}"), day % 5)
                })
                .unwrap();
        }
    }
    phone
        .edit(&ws, |w: &mut WorkshopDoc| {
            w.set_block_duration(&behind("coach"), &intro, 10)
        })
        .unwrap();
    office
        .edit(&ws, |w: &mut WorkshopDoc| {
            w.set_block_duration(&ctx(&world, "coordinator"), &intro, 20)
        })
        .unwrap();
    // Meanwhile the label maker leaves the neighbourhood.
    world
        .server
        .admin(&["business-left", "--business", &labels]);

    net.sync_all(&[&office, &phone], &[ws, hood]).await;
    let view = same_view(&[&office, &phone], &ws, |w: &WorkshopDoc| w.view().unwrap());
    assert_eq!(view.agenda.len(), 6, "all five offline blocks arrived");
    assert!(
        view.last_edited
            .as_ref()
            .is_some_and(|l| l.clock_skew_suspected),
        "a skew hint"
    );
    for a in &assessments {
        let levels: Vec<Option<u8>> = phone
            .read::<AssessmentDoc>(a)
            .unwrap()
            .view()
            .unwrap()
            .items
            .iter()
            .filter(|i| ["G1", "G2", "G3", "G4", "G5"].contains(&i.id.as_str()))
            .map(|i| i.answer.level)
            .collect();
        assert_eq!(
            levels,
            [Some(1), Some(2), Some(3), Some(4), Some(0)],
            "the offline answers in full"
        );
    }
    // The departed business's profile leaves the other members' devices; the overview hides
    // it and suppresses the aggregate of fewer than three contributors.
    let gone = profiles[2];
    office.resume();
    eventually(
        "the departed profile leaves the coordinator's device",
        || office.heads(&gone).is_err(),
    )
    .await;
    let hood_view = office
        .read::<NeighbourhoodDoc>(&hood)
        .unwrap()
        .view()
        .unwrap();
    let views: Vec<_> = profiles[..2]
        .iter()
        .map(|id| {
            office
                .read::<BusinessProfileDoc>(id)
                .unwrap()
                .view()
                .unwrap()
        })
        .collect();
    let ov = overview(&hood_view, &views);
    assert!(ov.heat_map.iter().all(|r| r.business != labels));
    let b = ov
        .topic_aggregates
        .iter()
        .find(|t| t.subject == "B")
        .expect("area B");
    assert_eq!((b.contributors, b.counts.as_ref()), (2, None), "suppressed");
}
