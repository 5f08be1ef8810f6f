//! The ten scenarios of domain.md §10, each device a replica of the documents, offline periods
//! as edits without merging, then a full sync. Every scenario also checks the cross-cutting
//! assertions: same heads, same read model on every replica.

use nachbar_core::DomainError;
use nachbar_core::catalogue::{self, CatalogueDoc};
use nachbar_core::doc::{DocKind, EditContext};
use nachbar_core::label::Lang;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasurePatch, MeasureStatus, NewMeasure};
use nachbar_core::model::assessment::{
    AssessmentDoc, ComplianceValue, FindingKind, NewAssessment, NewFinding, ShareLevel, compare,
};
use nachbar_core::model::business_profile::{
    BusinessProfileDoc, NeedState, NewGoodPractice, OfferFormat, RecordRef, SizeBand, Topic,
    TopicState,
};
use nachbar_core::model::neighbourhood::{CostModel, NeighbourhoodDoc, NewOffering, OfferingKind};
use nachbar_core::model::overview::{MatchState, overview};
use nachbar_core::model::workshop::{
    BlockKind, BlockPatch, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind,
};
use nachbar_core::model::{ReviewStatus, SignOffRole};

use super::support::{DAY, actor, ctx, replica, sync_all};

const HOOD: &str = "0190f5c0-0000-7000-8000-000000000001";
const GLAZIER: &str = "0190f5c0-0000-7000-8000-0000000000a1";
const PRINTER: &str = "0190f5c0-0000-7000-8000-0000000000a2";
const TAX: &str = "0190f5c0-0000-7000-8000-0000000000a3";
const METAL: &str = "0190f5c0-0000-7000-8000-0000000000a4";
const LABELS: &str = "0190f5c0-0000-7000-8000-0000000000a5";

fn new_assessment<'a>(
    business: &'a str,
    release: &'a catalogue::CatalogueRelease,
    stage: &'a str,
) -> NewAssessment<'a> {
    NewAssessment {
        neighbourhood: HOOD,
        business,
        release,
        stage,
        coach: Some("coach"),
        language: Lang::De,
    }
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

fn workshop(start: &str, end: &str) -> NewWorkshop {
    NewWorkshop {
        title: "Werkstatt E-Mail & E-Rechnung".to_owned(),
        kind: WorkshopKind::TopicWorkshop,
        date: "2026-11-12".to_owned(),
        start: start.to_owned(),
        end: end.to_owned(),
        place: "Schilder Schmidt, Halle 2".to_owned(),
        host: Some(LABELS.to_owned()),
        goal: "Funktionspostfächer und E-Rechnungsempfang".to_owned(),
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

/// 1. Coach and owner edit the same answer offline.
#[test]
fn scenario_01_coach_and_owner_edit_the_same_answer_offline() {
    let coach_ctx = |t| ctx("coach", t);
    let owner_ctx = |t| ctx("owner-glazier", t);
    let (mut coach, _) = AssessmentDoc::create(
        actor(1),
        &coach_ctx(0),
        &new_assessment(GLAZIER, catalogue::release_1_0(), "T0"),
    )
    .unwrap();
    coach.set_level(&coach_ctx(1), "C2", 3).unwrap();
    let mut owner = AssessmentDoc::open(replica(coach.inner(), 2)).unwrap();
    // Both sign off the baseline: agreed.
    coach.sign_off(&coach_ctx(2), SignOffRole::Coach).unwrap();
    sync_all(&mut [coach.inner_mut(), owner.inner_mut()]);
    owner.sign_off(&owner_ctx(3), SignOffRole::Owner).unwrap();
    sync_all(&mut [coach.inner_mut(), owner.inner_mut()]);
    assert_eq!(coach.view().unwrap().status, ReviewStatus::Agreed);
    assert!(owner.view().unwrap().agreed);

    // Offline: the coach at the glazier's workshop, the owner later at the office.
    coach.set_level(&coach_ctx(DAY), "C2", 1).unwrap();
    coach
        .set_answer_note(&coach_ctx(DAY), "C2", "Vorlagen fehlen.")
        .unwrap();
    owner.set_level(&owner_ctx(DAY + 60_000), "C2", 2).unwrap();
    owner
        .set_relevance(&owner_ctx(DAY + 60_000), "C2", 3)
        .unwrap();
    owner
        .set_answer_note(
            &owner_ctx(DAY + 60_000),
            "C2",
            "Textbausteine liegen in Word.",
        )
        .unwrap();

    sync_all(&mut [coach.inner_mut(), owner.inner_mut()]);
    let (a, b) = (coach.view().unwrap(), owner.view().unwrap());
    assert_eq!(a, b, "both replicas show the same assessment");
    let c2 = a.items.iter().find(|i| i.id == "C2").unwrap();
    assert!(matches!(c2.answer.level, Some(1 | 2)));
    assert_eq!(c2.answer.relevance, 3, "relevance had no conflict");
    assert!(
        c2.answer.note.contains("Vorlagen fehlen.")
            && c2.answer.note.contains("Textbausteine liegen in Word.")
    );
    let review = a
        .needs_review
        .iter()
        .find(|n| n.field == "answers/C2/level")
        .unwrap_or_else(|| panic!("C2 level needs review: {:?}", a.needs_review));
    let mut values = review.values.clone();
    values.sort();
    assert_eq!(values, ["1", "2"]);
    assert_eq!(review.current, c2.answer.level.unwrap().to_string());
    assert_eq!(a.stored_status, ReviewStatus::Agreed);
    assert_eq!(
        a.status,
        ReviewStatus::InReview,
        "agreed drops to in review after the edits"
    );
    assert!(!a.agreed && a.sign_offs.iter().all(|s| !s.valid));

    // Resolving writes one value and clears the review.
    coach
        .resolve(&coach_ctx(DAY + 120_000), "answers/C2/level", "2")
        .unwrap();
    sync_all(&mut [coach.inner_mut(), owner.inner_mut()]);
    let resolved = owner.view().unwrap();
    assert!(resolved.needs_review.is_empty());
    assert_eq!(
        resolved
            .items
            .iter()
            .find(|i| i.id == "C2")
            .unwrap()
            .answer
            .level,
        Some(2)
    );
}

/// 2. Agenda reorder vs. block edit.
#[test]
fn scenario_02_agenda_reorder_and_block_edit_both_survive() {
    let coach_ctx = |t| ctx("coach", t);
    let coord_ctx = |t| ctx("coordinator", t);
    let (mut coord, _) =
        WorkshopDoc::create(actor(1), &coord_ctx(0), HOOD, &workshop("09:00", "11:00")).unwrap();
    for (title, kind, min) in [
        ("Begrüßung", BlockKind::Welcome, 15),
        ("Impuls Funktionspostfächer", BlockKind::Input, 30),
        ("Pause", BlockKind::Break, 15),
        ("Kollegiale Beratung", BlockKind::Method, 60),
        ("Abschluss", BlockKind::CheckOut, 15),
    ] {
        coord
            .add_block(&coord_ctx(1), &block(title, kind, min), None)
            .unwrap();
    }
    let mut coach = WorkshopDoc::open(replica(coord.inner(), 2)).unwrap();
    let kb = block_id(&coach, "Kollegiale Beratung");
    let impuls = block_id(&coach, "Impuls Funktionspostfächer");
    let pause = block_id(&coach, "Pause");

    // Coach, on the train: move "Kollegiale Beratung" before "Pause" and shorten it to 40.
    coach
        .move_block(&coach_ctx(DAY), &kb, Some(&impuls), Some(&pause))
        .unwrap();
    coach.set_block_duration(&coach_ctx(DAY), &kb, 40).unwrap();
    // Coordinator, online: new materials, and a new 10-minute block after the input.
    let patch = BlockPatch {
        materials: Some("Moderationskarten, Flipchart, Timer".to_owned()),
        ..BlockPatch::default()
    };
    coord.update_block(&coord_ctx(DAY), &kb, &patch).unwrap();
    coord
        .add_block(
            &coord_ctx(DAY),
            &block("Impuls E-Rechnung", BlockKind::Input, 10),
            Some(&impuls),
        )
        .unwrap();

    sync_all(&mut [coach.inner_mut(), coord.inner_mut()]);
    let view = coach.view().unwrap();
    assert_eq!(view, coord.view().unwrap());
    let titles: Vec<&str> = view.agenda.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(
        titles
            .iter()
            .filter(|t| **t == "Kollegiale Beratung")
            .count(),
        1,
        "no duplicate: {titles:?}"
    );
    let kb_block = view.agenda.iter().find(|b| b.id == kb).unwrap();
    assert_eq!(kb_block.duration_min, 40);
    assert_eq!(kb_block.materials, "Moderationskarten, Flipchart, Timer");
    let pos = |t: &str| titles.iter().position(|x| *x == t).unwrap();
    assert!(pos("Kollegiale Beratung") < pos("Pause"));
    assert!(
        pos("Impuls Funktionspostfächer") < pos("Impuls E-Rechnung")
            && pos("Impuls E-Rechnung") < pos("Pause")
    );
    // Start times are recomputed from the new order.
    let mut minute = 9 * 60;
    for b in &view.agenda {
        assert_eq!(
            b.planned_start.as_deref(),
            Some(format!("{:02}:{:02}", minute / 60, minute % 60).as_str())
        );
        minute += b.duration_min;
    }
    assert_eq!(view.planned_min, 15 + 30 + 10 + 40 + 15 + 15);
    let overrun = view
        .overrun
        .expect("125 minutes do not fit into 09:00–11:00");
    assert_eq!((overrun.planned_min, overrun.slot_min), (125, 120));
    assert!(
        view.needs_review.is_empty(),
        "different fields, no conflict"
    );
}

/// 3. Delete vs. concurrent edit.
#[test]
fn scenario_03_removed_block_keeps_concurrent_notes_and_restores() {
    let (mut coord, _) = WorkshopDoc::create(
        actor(1),
        &ctx("coordinator", 0),
        HOOD,
        &workshop("13:00", "17:00"),
    )
    .unwrap();
    let (tour, _) = coord
        .add_block(
            &ctx("coordinator", 1),
            &block("Betriebsrundgang", BlockKind::Tour, 45),
            None,
        )
        .unwrap();
    coord
        .add_block(
            &ctx("coordinator", 1),
            &block("Austausch", BlockKind::Discussion, 30),
            None,
        )
        .unwrap();
    let mut coach = WorkshopDoc::open(replica(coord.inner(), 2)).unwrap();

    coord.remove_block(&ctx("coordinator", DAY), &tour).unwrap();
    coach
        .record_actual(
            &ctx("coach", DAY),
            &tour,
            Some(50),
            Some("Scanner am Empfang gezeigt; Fragen zur Ablage."),
        )
        .unwrap();
    sync_all(&mut [coach.inner_mut(), coord.inner_mut()]);

    let view = coord.view().unwrap();
    assert_eq!(view, coach.view().unwrap());
    assert!(view.agenda.iter().all(|b| b.id != tour));
    let removed = view
        .removed_blocks
        .iter()
        .find(|b| b.id == tour)
        .expect("soft-deleted, not gone");
    assert_eq!(
        removed.notes,
        "Scanner am Empfang gezeigt; Fragen zur Ablage."
    );
    assert_eq!(removed.actual_duration_min, Some(50));
    assert!(
        removed.removal.deleted && removed.removal.edited_after_removal,
        "UI offers restore"
    );

    coord
        .restore_block(&ctx("coordinator", DAY + 1), &tour)
        .unwrap();
    sync_all(&mut [coach.inner_mut(), coord.inner_mut()]);
    let restored = coach.view().unwrap();
    let back = restored
        .agenda
        .iter()
        .find(|b| b.id == tour)
        .expect("restored");
    assert_eq!(back.notes, "Scanner am Empfang gezeigt; Fragen zur Ablage.");
    assert!(!back.removal.edited_after_removal);
}

/// 4. Concurrent status transitions of a measure.
#[test]
fn scenario_04_concurrent_measure_statuses_keep_both_transitions() {
    let (mut owner, _) =
        ActionPlanDoc::create(actor(1), &ctx("owner-glazier", 0), HOOD, GLAZIER).unwrap();
    let new = NewMeasure {
        title: "E-Rechnungsempfang einrichten".to_owned(),
        ..NewMeasure::default()
    };
    let (m, _) = owner.add_measure(&ctx("owner-glazier", 1), &new).unwrap();
    owner
        .set_measure_status(&ctx("owner-glazier", 2), &m, MeasureStatus::InProgress, "")
        .unwrap();
    let (mut profile, _) = BusinessProfileDoc::create(
        actor(3),
        &ctx("owner-glazier", 0),
        HOOD,
        GLAZIER,
        "Glaserei Brandt",
        "Glaser",
        Some(SizeBand::Small),
    )
    .unwrap();
    let mut coach = ActionPlanDoc::open(replica(owner.inner(), 2)).unwrap();

    owner
        .set_measure_status(&ctx("owner-glazier", DAY), &m, MeasureStatus::Done, "")
        .unwrap();
    coach
        .set_measure_status(
            &ctx("coach", DAY),
            &m,
            MeasureStatus::Blocked,
            "Software-Update fehlt",
        )
        .unwrap();
    sync_all(&mut [owner.inner_mut(), coach.inner_mut()]);

    let view = owner.view().unwrap();
    assert_eq!(view, coach.view().unwrap());
    let measure = view.measures.iter().find(|x| x.id == m).unwrap();
    assert!(matches!(
        measure.status,
        MeasureStatus::Done | MeasureStatus::Blocked
    ));
    let done = measure
        .status_history
        .iter()
        .find(|h| h.to == "done")
        .expect("done transition kept");
    let blocked = measure
        .status_history
        .iter()
        .find(|h| h.to == "blocked")
        .expect("blocked transition kept");
    assert_eq!(
        (done.by.as_str(), done.from.as_deref()),
        ("owner-glazier", Some("in_progress"))
    );
    assert_eq!(
        (blocked.by.as_str(), blocked.note.as_str()),
        ("coach", "Software-Update fehlt")
    );
    assert!(
        view.needs_review
            .iter()
            .any(|n| n.field == format!("measures/{m}/status"))
    );
    let refused = profile.publish_progress(&ctx("owner-glazier", DAY), &view);
    assert!(
        matches!(refused, Err(DomainError::NotAllowed(_))),
        "no summary while the conflict is open"
    );
    assert!(profile.view().unwrap().progress_summary.is_none());

    owner
        .resolve(
            &ctx("owner-glazier", DAY + 1),
            &format!("measures/{m}/status"),
            "blocked",
        )
        .unwrap();
    let resolved = owner.view().unwrap();
    assert!(resolved.needs_review.is_empty());
    profile
        .publish_progress(&ctx("owner-glazier", DAY + 2), &resolved)
        .unwrap();
    let summary = profile.view().unwrap().progress_summary.unwrap();
    assert_eq!(summary.counts.get("blocked"), Some(&1));
}

/// 5. Duplicate creation in a workshop.
#[test]
fn scenario_05_duplicate_measures_are_hinted_and_merged_without_loss() {
    let (mut assessment, _) = AssessmentDoc::create(
        actor(9),
        &ctx("coach", 0),
        &new_assessment(GLAZIER, catalogue::release_1_0(), "T0"),
    )
    .unwrap();
    let finding = NewFinding {
        area: "B".to_owned(),
        questions: vec!["B1".to_owned()],
        kind: FindingKind::PainPoint,
        title: "Rechnungen landen in persönlichen Postfächern".to_owned(),
        description: String::new(),
        severity: 3,
        barriers: vec!["time".to_owned()],
    };
    let (finding_id, _) = assessment.add_finding(&ctx("coach", 1), &finding).unwrap();

    let (mut coach, _) = ActionPlanDoc::create(actor(1), &ctx("coach", 0), HOOD, GLAZIER).unwrap();
    let mut office = ActionPlanDoc::open(replica(coach.inner(), 2)).unwrap();
    let measure = |title: &str| NewMeasure {
        title: title.to_owned(),
        findings: vec![finding_id.clone()],
        ..NewMeasure::default()
    };
    let (a, _) = coach
        .add_measure(
            &ctx("coach", DAY),
            &measure("Funktionspostfach rechnung@ einrichten"),
        )
        .unwrap();
    coach
        .set_measure_status(
            &ctx("coach", DAY + 1),
            &a,
            MeasureStatus::Planned,
            "im Workshop vereinbart",
        )
        .unwrap();
    let (b, _) = office
        .add_measure(
            &ctx("office-glazier", DAY),
            &measure("Funktionspostfach rechnung@ einrichten!"),
        )
        .unwrap();
    sync_all(&mut [coach.inner_mut(), office.inner_mut()]);

    let view = coach.view().unwrap();
    assert_eq!(view, office.view().unwrap());
    assert_eq!(view.measures.len(), 2);
    assert_ne!(a, b);
    let hint = view.duplicate_hints.first().expect("duplicate hint");
    assert_eq!(
        hint.reasons.len(),
        2,
        "same finding and similar title: {hint:?}"
    );

    office
        .merge_measures(&ctx("office-glazier", DAY + 2), &a, &b)
        .unwrap();
    sync_all(&mut [coach.inner_mut(), office.inner_mut()]);
    let merged = coach.view().unwrap();
    assert_eq!(merged.measures.len(), 1);
    assert!(merged.removed.is_empty(), "nothing deleted");
    assert_eq!(merged.merged.len(), 1);
    assert_eq!(merged.merged[0].merged_into.as_deref(), Some(b.as_str()));
    assert!(merged.duplicate_hints.is_empty());
    let kept = &merged.measures[0];
    assert!(
        kept.status_history
            .iter()
            .any(|h| h.to == "planned" && h.note.contains("im Workshop vereinbart"))
    );
}

/// 6. Sharing and revocation.
#[test]
fn scenario_06_shared_items_appear_and_revocation_removes_them() {
    let (mut hood, _) = NeighbourhoodDoc::create(
        actor(1),
        &ctx("coordinator", 0),
        HOOD,
        "Gewerbegebiet Peiner Straße",
        "Salzgitter",
    )
    .unwrap();
    for (b, name) in [(PRINTER, "Druckerei Lange"), (GLAZIER, "Glaserei Brandt")] {
        hood.upsert_member(&ctx("server", 0), b, name, "", "2026-10-01")
            .unwrap();
    }
    let (mut assessment, _) = AssessmentDoc::create(
        actor(2),
        &ctx("coach", 0),
        &new_assessment(PRINTER, catalogue::release_1_0(), "T0"),
    )
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
    let (fid, _) = assessment.add_finding(&ctx("coach", 1), &finding).unwrap();
    let f = assessment
        .view()
        .unwrap()
        .findings
        .into_iter()
        .find(|x| x.id == fid)
        .unwrap();

    let (mut printer, _) = BusinessProfileDoc::create(
        actor(3),
        &ctx("owner-printer", 0),
        HOOD,
        PRINTER,
        "Druckerei Lange",
        "Druck",
        Some(SizeBand::Small),
    )
    .unwrap();
    let mut coordinator_copy = BusinessProfileDoc::open(replica(printer.inner(), 4)).unwrap();
    printer
        .share_finding(&ctx("owner-printer", DAY), &f, ShareLevel::Anonymised)
        .unwrap();
    assessment
        .set_finding_share_level(&ctx("owner-printer", DAY), &fid, ShareLevel::Anonymised)
        .unwrap();
    let story = NewGoodPractice {
        title: "ZUGFeRD-Rechnungen direkt im ERP".to_owned(),
        problem: "Rechnungen als PDF abgetippt".to_owned(),
        solution: "E-Rechnungs-Import im ERP".to_owned(),
        named: true,
        areas: vec!["D".to_owned()],
        ..NewGoodPractice::default()
    };
    let (story_id, _) = printer
        .publish_good_practice(&ctx("owner-printer", DAY), &story)
        .unwrap();
    printer
        .set_topic_state(&ctx("owner-printer", DAY), "D", Some(TopicState::Solved))
        .unwrap();
    sync_all(&mut [printer.inner_mut(), coordinator_copy.inner_mut()]);

    let hood_view = hood.view().unwrap();
    let ov = overview(&hood_view, &[coordinator_copy.view().unwrap()]);
    assert_eq!(ov.shared_findings.len(), 1);
    assert_eq!(ov.shared_findings[0].business, None, "anonymised");
    assert_eq!(
        ov.shared_findings[0].item.description, "",
        "an anonymised copy carries no description"
    );
    assert_eq!(ov.good_practices.len(), 1);
    assert_eq!(ov.good_practices[0].business.as_deref(), Some(PRINTER));
    // The heat map holds exactly what was shared.
    let row = ov.heat_map.iter().find(|r| r.business == PRINTER).unwrap();
    assert_eq!(row.cells.len(), 1);
    assert_eq!(row.cells.get("D"), Some(&TopicState::Solved));
    // The profile never carries the assessment's private text.
    let profile_json = serde_json::to_string(&nachbar_core::automerge::AutoSerde::from(
        coordinator_copy.inner().automerge(),
    ))
    .unwrap();
    assert!(!profile_json.contains("Kunde Müller"));
    assert_eq!(coordinator_copy.inner().kind(), DocKind::BusinessProfile);

    printer
        .revoke_good_practice(&ctx("owner-printer", 2 * DAY), &story_id)
        .unwrap();
    sync_all(&mut [printer.inner_mut(), coordinator_copy.inner_mut()]);
    assert!(coordinator_copy.view().unwrap().good_practices.is_empty());
    assert_eq!(printer.view().unwrap(), coordinator_copy.view().unwrap());
    assert!(
        overview(&hood_view, &[coordinator_copy.view().unwrap()])
            .good_practices
            .is_empty()
    );
}

/// 7. Need with several offers.
#[test]
fn scenario_07_need_with_two_offers_one_accepted() {
    let (mut hood, _) = NeighbourhoodDoc::create(
        actor(1),
        &ctx("coordinator", 0),
        HOOD,
        "Gewerbegebiet Peiner Straße",
        "Salzgitter",
    )
    .unwrap();
    for b in [GLAZIER, PRINTER, TAX] {
        hood.upsert_member(&ctx("server", 0), b, b, "", "2026-10-01")
            .unwrap();
    }
    let profile = |device, business, name| {
        BusinessProfileDoc::create(
            actor(device),
            &ctx("owner", 0),
            HOOD,
            business,
            name,
            "",
            None,
        )
        .unwrap()
        .0
    };
    let (mut glazier, mut printer, mut tax) = (
        profile(2, GLAZIER, "Glaserei Brandt"),
        profile(3, PRINTER, "Druckerei Lange"),
        profile(4, TAX, "StB Kaya"),
    );
    let topic = |title: &str| Topic {
        title: title.to_owned(),
        areas: vec!["D".to_owned(), "I".to_owned()],
        tags: vec!["ZUGFeRD".to_owned()],
        description: String::new(),
    };
    let (need, _) = glazier
        .add_need(
            &ctx("owner-glazier", 0),
            &topic("ZUGFeRD in Branchensoftware einlesen"),
            3,
        )
        .unwrap();
    let need_ref = RecordRef {
        business: GLAZIER.to_owned(),
        id: need.clone(),
    };
    // Offline, each neighbour answers in its own profile.
    let (p_offer, _) = printer
        .add_offer(
            &ctx("owner-printer", DAY),
            &topic("30 Minuten Bildschirm-Tour: ZUGFeRD im ERP"),
            OfferFormat::ScreenShare,
            Some(&need_ref),
        )
        .unwrap();
    let (t_offer, _) = tax
        .add_offer(
            &ctx("owner-tax", DAY),
            &topic("E-Rechnung und DATEV: Erfahrungen"),
            OfferFormat::Phone,
            Some(&need_ref),
        )
        .unwrap();

    let hood_view = hood.view().unwrap();
    let views = |g: &BusinessProfileDoc| {
        vec![
            g.view().unwrap(),
            printer.view().unwrap(),
            tax.view().unwrap(),
        ]
    };
    let ov = overview(&hood_view, &views(&glazier));
    let proposals: Vec<_> = ov.matches.iter().filter(|m| m.need.id == need).collect();
    assert_eq!(proposals.len(), 2);
    assert!(proposals.iter().all(|m| m.state == MatchState::Proposed));

    let accepted = RecordRef {
        business: PRINTER.to_owned(),
        id: p_offer.clone(),
    };
    glazier
        .accept_offer(&ctx("owner-glazier", 2 * DAY), &need, &accepted)
        .unwrap();
    let ov = overview(&hood_view, &views(&glazier));
    let state_of = |offer: &str| {
        ov.matches
            .iter()
            .find(|m| m.offer.id == offer)
            .unwrap()
            .state
    };
    assert_eq!(state_of(&p_offer), MatchState::Accepted);
    assert_eq!(state_of(&t_offer), MatchState::Declined);
    assert_eq!(glazier.view().unwrap().needs[0].state, NeedState::Matched);
    assert_eq!(printer.view().unwrap().offers.len(), 1);
    assert_eq!(
        tax.view().unwrap().offers.len(),
        1,
        "no offer overwrote the other"
    );
}

/// 8. Joint offering interest counts.
#[test]
fn scenario_08_seat_interest_counts_add_up() {
    let (mut hood, _) = NeighbourhoodDoc::create(
        actor(1),
        &ctx("coordinator", 0),
        HOOD,
        "Gewerbegebiet Peiner Straße",
        "Salzgitter",
    )
    .unwrap();
    for b in [METAL, GLAZIER] {
        hood.upsert_member(&ctx("server", 0), b, b, "", "2026-10-01")
            .unwrap();
    }
    let offering = NewOffering {
        title: "Phishing-Awareness-Schulung".to_owned(),
        kind: OfferingKind::Training,
        provider: "HWK".to_owned(),
        min_seats: 20,
        cost_model: CostModel::PerSeat,
        cost_eur: Some(45),
    };
    let (oid, _) = hood
        .add_offering(&ctx("coordinator", 0), &offering)
        .unwrap();
    let (mut metal_hr, _) = BusinessProfileDoc::create(
        actor(2),
        &ctx("hr-metal", 0),
        HOOD,
        METAL,
        "Metallbau Vogt",
        "Metallbau",
        Some(SizeBand::Medium),
    )
    .unwrap();
    let mut metal_workshop = BusinessProfileDoc::open(replica(metal_hr.inner(), 3)).unwrap();
    let (mut glazier, _) = BusinessProfileDoc::create(
        actor(4),
        &ctx("owner-glazier", 0),
        HOOD,
        GLAZIER,
        "Glaserei Brandt",
        "Glaser",
        None,
    )
    .unwrap();

    metal_hr
        .change_seat_interest(&ctx("hr-metal", DAY), &oid, 12)
        .unwrap();
    metal_workshop
        .change_seat_interest(&ctx("workshop-metal", DAY), &oid, 3)
        .unwrap();
    glazier
        .change_seat_interest(&ctx("owner-glazier", DAY), &oid, 4)
        .unwrap();
    sync_all(&mut [metal_hr.inner_mut(), metal_workshop.inner_mut()]);

    let hood_view = hood.view().unwrap();
    let demand = |profiles: &[&BusinessProfileDoc]| {
        let views: Vec<_> = profiles.iter().map(|p| p.view().unwrap()).collect();
        overview(&hood_view, &views)
            .offerings
            .into_iter()
            .find(|o| o.offering == oid)
            .unwrap()
    };
    let d = demand(&[&metal_hr, &glazier]);
    assert_eq!(
        d.seats_by_business.get(METAL),
        Some(&15),
        "counter sum, not last writer wins"
    );
    assert_eq!(d.seats_total, 19);
    assert!(!d.min_reached, "19 of 20 seats");

    metal_workshop
        .change_seat_interest(&ctx("workshop-metal", 2 * DAY), &oid, -1)
        .unwrap();
    sync_all(&mut [metal_hr.inner_mut(), metal_workshop.inner_mut()]);
    assert_eq!(metal_hr.view().unwrap(), metal_workshop.view().unwrap());
    let d = demand(&[&metal_hr, &glazier]);
    assert_eq!(
        (d.seats_by_business.get(METAL), d.seats_total),
        (Some(&14), 18)
    );
    glazier
        .change_seat_interest(&ctx("owner-glazier", 2 * DAY), &oid, 2)
        .unwrap();
    assert!(demand(&[&metal_hr, &glazier]).min_reached);
}

/// 9. Catalogue upgrade during offline work.
#[test]
fn scenario_09_catalogue_upgrade_keeps_t0_on_1_0_and_compares_through_the_map() {
    let (mut t0, _) = AssessmentDoc::create(
        actor(1),
        &ctx("coach", 0),
        &new_assessment(GLAZIER, catalogue::release_1_0(), "T0"),
    )
    .unwrap();
    // Offline on 1.0 while the chamber publishes 1.1.
    t0.set_level(&ctx("coach", 1), "B2", 2).unwrap();
    t0.set_level(&ctx("coach", 1), "A1", 1).unwrap();
    t0.set_compliance(&ctx("coach", 1), "D1", ComplianceValue::No)
        .unwrap();
    let (published, _) =
        CatalogueDoc::create(actor(7), &ctx("admin", 0), "*", catalogue::release_1_1()).unwrap();
    let release_1_1 = published.release().unwrap();

    let t0_view = t0.view().unwrap();
    assert_eq!(t0_view.catalogue_release, "1.0");
    let b2 = t0_view
        .items
        .iter()
        .find(|i| i.id == "B2")
        .expect("T0 renders with 1.0 questions");
    assert_eq!(
        b2.text,
        catalogue::release_1_0().question("B2").unwrap().text
    );
    assert!(t0_view.items.iter().all(|i| i.id != "B2a"));

    let (mut t1, _) = AssessmentDoc::create(
        actor(1),
        &ctx("coach", 180 * DAY),
        &new_assessment(GLAZIER, &release_1_1, "T1"),
    )
    .unwrap();
    t1.set_level(&ctx("coach", 180 * DAY), "B2a", 3).unwrap();
    t1.set_level(&ctx("coach", 180 * DAY), "B2b", 1).unwrap();
    t1.set_level(&ctx("coach", 180 * DAY), "A1", 3).unwrap();
    assert!(matches!(
        t1.set_level(&ctx("coach", 180 * DAY), "B2", 3),
        Err(DomainError::UnknownQuestion(_))
    ));
    let t1_view = t1.view_with(&release_1_1).unwrap();

    let cmp = compare(&t0_view, &t1_view, &release_1_1);
    let row = |q: &str| cmp.rows.iter().find(|r| r.question == q).unwrap();
    for split in ["B2a", "B2b"] {
        assert_eq!(row(split).previous.as_deref(), Some("B2"));
        assert!(
            !row(split).comparable,
            "split items are not directly comparable"
        );
        assert_eq!(row(split).level_before, Some(2));
        assert_eq!(row(split).level_delta, None);
    }
    assert!(row("A1").comparable);
    assert_eq!(row("A1").level_delta, Some(2));
    assert_eq!(row("D1").value_before, Some(ComplianceValue::No));
    // D1 is critical: its area is red.
    let d = t0_view.scores.areas.iter().find(|a| a.area == "D").unwrap();
    assert!(d.critical_failed);
}

/// What scenario 10 looks at after the sync: the workshop, the G-area levels of both
/// assessments, and whether a skew hint shows.
type OfflineOutcome = (
    nachbar_core::model::workshop::WorkshopView,
    Vec<Vec<(String, Option<u8>)>>,
    bool,
);

/// The coach's offline script of scenario 10, with the phone clock `skew` off.
fn long_offline_period(skew: i64) -> OfflineOutcome {
    let office = |t| ctx("coordinator", t);
    let phone = |t: i64| {
        EditContext::new(
            "coach",
            nachbar_core::time::Timestamp(super::support::T0 + t + skew),
        )
    };
    let (mut ws_office, _) =
        WorkshopDoc::create(actor(1), &office(0), HOOD, &workshop("09:00", "12:00")).unwrap();
    let (intro, _) = ws_office
        .add_block(
            &office(1),
            &block("Begrüßung", BlockKind::Welcome, 15),
            None,
        )
        .unwrap();
    let mut assessments: Vec<(AssessmentDoc, AssessmentDoc)> = [GLAZIER, PRINTER]
        .iter()
        .map(|b| {
            let (a, _) = AssessmentDoc::create(
                actor(1),
                &office(2),
                &new_assessment(b, catalogue::release_1_0(), "T0"),
            )
            .unwrap();
            let phone_copy = AssessmentDoc::open(replica(a.inner(), 2)).unwrap();
            (a, phone_copy)
        })
        .collect();
    let mut ws_phone = WorkshopDoc::open(replica(ws_office.inner(), 2)).unwrap();

    // Five days offline on the phone.
    for day in 1..=5 {
        let t = day * DAY;
        ws_phone
            .add_block(
                &phone(t),
                &block(&format!("Tag {day}: Übung"), BlockKind::Method, 20),
                None,
            )
            .unwrap();
        for (_, a) in &mut assessments {
            a.set_level(&phone(t), &format!("G{day}"), day % 5).unwrap();
        }
    }
    ws_phone
        .set_block_duration(&phone(5 * DAY), &intro, 10)
        .unwrap();
    // Meanwhile the office edits the same block.
    ws_office
        .set_block_duration(&office(DAY), &intro, 20)
        .unwrap();
    for (office_copy, _) in &mut assessments {
        office_copy.set_level(&office(DAY), "G1", 4).unwrap();
    }

    sync_all(&mut [ws_office.inner_mut(), ws_phone.inner_mut()]);
    let mut levels = Vec::new();
    for (a, b) in &mut assessments {
        sync_all(&mut [a.inner_mut(), b.inner_mut()]);
        let view = a.view().unwrap();
        assert_eq!(view, b.view().unwrap());
        levels.push(
            view.items
                .iter()
                .filter(|i| i.area == "G")
                .map(|i| (i.id.clone(), i.answer.level))
                .collect(),
        );
    }
    let skew = ws_office.inner().clock_skew();
    let skew_hint = ws_office
        .view()
        .unwrap()
        .last_edited
        .unwrap()
        .clock_skew_suspected;
    assert_eq!(skew_hint, !skew.is_empty());
    if skew_hint {
        assert_eq!(skew.len(), 1, "only the phone's clock was off: {skew:?}");
        assert_eq!(skew[0].actor, actor(2).to_hex_string());
        assert!(
            skew[0].behind_ms >= DAY - 1000,
            "a day behind the sync point: {skew:?}"
        );
    }
    (ws_office.view().unwrap(), levels, skew_hint)
}

/// 10. Long offline period, wrong device clock, membership change.
#[test]
fn scenario_10_long_offline_wrong_clock_and_a_member_leaving() {
    let (right, right_levels, right_hint) = long_offline_period(0);
    let (wrong, wrong_levels, wrong_hint) = long_offline_period(-2 * DAY);
    // Merges do not depend on the clock: same agenda, same winners.
    let shape = |v: &nachbar_core::model::workshop::WorkshopView| {
        v.agenda
            .iter()
            .map(|b| (b.title.clone(), b.duration_min, b.planned_start.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&right), shape(&wrong));
    assert_eq!(right_levels, wrong_levels);
    assert_eq!(right.agenda.len(), 6, "all five offline blocks arrived");
    assert!(!right_hint);
    assert!(
        wrong_hint,
        "a change dated before the change it builds on shows a skew hint"
    );

    // The label maker leaves; its profile is hidden and small aggregates are suppressed.
    let (mut hood, _) = NeighbourhoodDoc::create(
        actor(1),
        &ctx("coordinator", 0),
        HOOD,
        "Gewerbegebiet Peiner Straße",
        "Salzgitter",
    )
    .unwrap();
    let businesses = [GLAZIER, PRINTER, LABELS];
    let mut profiles = Vec::new();
    for (i, b) in businesses.iter().enumerate() {
        hood.upsert_member(&ctx("server", 0), b, b, "", "2026-10-01")
            .unwrap();
        let (mut p, _) =
            BusinessProfileDoc::create(actor(10 + i as u8), &ctx("owner", 0), HOOD, b, b, "", None)
                .unwrap();
        p.set_topic_state(&ctx("owner", 1), "B", Some(TopicState::NeedHelp))
            .unwrap();
        let (good, _) = p
            .publish_good_practice(
                &ctx("owner", 1),
                &NewGoodPractice {
                    title: format!("Story {b}"),
                    named: true,
                    ..NewGoodPractice::default()
                },
            )
            .unwrap();
        assert!(!good.is_empty());
        profiles.push(p.view().unwrap());
    }
    let before = overview(&hood.view().unwrap(), &profiles);
    assert_eq!(
        before.topic_aggregates[0]
            .counts
            .as_ref()
            .and_then(|c| c.get("need_help")),
        Some(&3)
    );
    hood.member_left(&ctx("server", 3 * DAY), LABELS, "2026-11-05")
        .unwrap();
    let after = overview(&hood.view().unwrap(), &profiles);
    assert!(after.heat_map.iter().all(|r| r.business != LABELS));
    assert!(
        after
            .good_practices
            .iter()
            .all(|g| g.business.as_deref() != Some(LABELS))
    );
    assert_eq!(after.topic_aggregates[0].contributors, 2);
    assert_eq!(
        after.topic_aggregates[0].counts, None,
        "fewer than three contributors: suppressed"
    );
}

/// A measure update touches only the fields given (no whole-record rewrite).
#[test]
fn measure_update_touches_only_given_fields() {
    let (mut coach, _) = ActionPlanDoc::create(actor(1), &ctx("coach", 0), HOOD, GLAZIER).unwrap();
    let (m, _) = coach
        .add_measure(
            &ctx("coach", 1),
            &NewMeasure {
                title: "Backup testen".to_owned(),
                ..NewMeasure::default()
            },
        )
        .unwrap();
    let mut owner = ActionPlanDoc::open(replica(coach.inner(), 2)).unwrap();
    coach
        .update_measure(
            &ctx("coach", 2),
            &m,
            &MeasurePatch {
                due: Some("2026-12-15".to_owned()),
                ..MeasurePatch::default()
            },
        )
        .unwrap();
    owner
        .update_measure(
            &ctx("owner", 2),
            &m,
            &MeasurePatch {
                owner: Some("owner".to_owned()),
                impact: Some(5),
                effort_score: Some(1),
                ..MeasurePatch::default()
            },
        )
        .unwrap();
    sync_all(&mut [coach.inner_mut(), owner.inner_mut()]);
    let view = coach.view().unwrap();
    let measure = &view.measures[0];
    assert_eq!(measure.due.as_deref(), Some("2026-12-15"));
    assert_eq!(measure.owner.as_deref(), Some("owner"));
    assert_eq!(
        measure.quadrant,
        Some(nachbar_core::model::action_plan::Quadrant::QuickWin)
    );
    assert!(view.needs_review.is_empty());
}
