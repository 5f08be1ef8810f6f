use std::collections::BTreeMap;

use automerge::ActorId;
use nachbar_core::doc::EditContext;
use nachbar_core::label::Lang;
use nachbar_core::model::SignOffRole;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasurePatch, MeasureStatus, NewMeasure};
use nachbar_core::time::Timestamp;

use super::*;
use crate::web::views::signers::Signers;

fn ctx(who: &str, t: i64) -> EditContext {
    EditContext::new(who, Timestamp(1_767_225_600_000 + t))
}

fn measure(plan: &mut ActionPlanDoc, title: &str, impact: u8, effort: u8) -> String {
    let new = NewMeasure {
        title: title.to_owned(),
        owner: Some("owner-1".to_owned()),
        impact: Some(impact),
        effort_score: Some(effort),
        ..NewMeasure::default()
    };
    plan.add_measure(&ctx("coach", 1), &new).unwrap().0
}

fn names() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("owner-1".to_owned(), "Inhaberin Brandt".to_owned()),
        ("coach".to_owned(), "Carsten Coach".to_owned()),
    ])
}

fn build(plan: &ActionPlanDoc, viewer: Viewer, lang: Lang) -> PlanPage {
    let names = names();
    let people = vec![("owner-1".to_owned(), "Inhaberin Brandt".to_owned())];
    let (owners, coaches) = (vec!["owner-1".to_owned()], vec!["coach".to_owned()]);
    let heads: Vec<String> = plan.inner().heads().iter().map(|h| h.to_string()).collect();
    page(
        &plan.view().unwrap(),
        &heads,
        &PlanContext {
            business: "Glaserei Brandt",
            names: &names,
            people: &people,
            findings: &[],
            signers: Signers {
                owners: &owners,
                coaches: &coaches,
            },
            today: "2026-12-03",
            viewer,
            lang,
        },
    )
}

const OWNER: Viewer = Viewer {
    writable: true,
    signs_as: Some(SignOffRole::Owner),
};

#[test]
fn measures_are_grouped_by_status_and_quadrant_with_overdue_due_dates() {
    let (mut plan, _) =
        ActionPlanDoc::create(ActorId::random(), &ctx("coach", 0), "n", "b").unwrap();
    let a = measure(&mut plan, "Funktionspostfach einrichten", 4, 1);
    let b = measure(&mut plan, "E-Rechnung in der Branchensoftware", 5, 4);
    let c = measure(&mut plan, "Datensicherung testen", 2, 2);
    let _in_memory = plan
        .set_measure_status(&ctx("owner-1", 2), &a, MeasureStatus::Done, "")
        .unwrap();
    let _in_memory = plan
        .set_measure_status(
            &ctx("owner-1", 3),
            &b,
            MeasureStatus::InProgress,
            "Anbieter beauftragt",
        )
        .unwrap();
    for (id, due) in [(&a, "2026-11-01"), (&b, "2026-11-30"), (&c, "2027-01-31")] {
        let patch = MeasurePatch {
            due: Some(due.to_owned()),
            cost_once_eur: Some(1200),
            ..MeasurePatch::default()
        };
        let _in_memory = plan.update_measure(&ctx("owner-1", 4), id, &patch).unwrap();
    }
    let p = build(&plan, OWNER, Lang::De);
    let codes: Vec<&str> = p.groups.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(
        codes,
        ["idea", "in_progress", "done"],
        "status order, empty ones left out"
    );
    let row = |id: &str| {
        p.groups
            .iter()
            .flat_map(|g| &g.measures)
            .find(|m| m.id == id)
            .unwrap()
            .clone()
    };
    assert!(!row(&a).overdue, "a finished measure is never overdue");
    assert!(row(&b).overdue, "past due and in progress");
    assert!(!row(&c).overdue);
    assert_eq!(row(&b).due, "30.11.2026");
    assert_eq!(row(&b).owner, "Inhaberin Brandt");
    assert_eq!(row(&b).costs, "1.200 € einmalig");
    let history = &row(&b).history;
    assert_eq!(history.len(), 2, "created as an idea, then set in progress");
    assert!(
        history[0].text.starts_with("– → Idee, Carsten Coach"),
        "{history:?}"
    );
    assert!(
        history[1]
            .text
            .starts_with("Idee → In Umsetzung, Inhaberin Brandt")
    );
    assert_eq!(history[1].note, "Anbieter beauftragt");
    assert_eq!(
        p.quadrants[0].1,
        vec![(format!("m-{a}"), "Funktionspostfach einrichten".to_owned())]
    );
    assert_eq!(
        p.quadrants[1].1.len(),
        1,
        "major project: {:?}",
        p.quadrants
    );
    assert_eq!(p.quadrants[2].1.len(), 1, "fill-in");
    assert!(p.unrated.is_empty());
    assert_eq!(p.measure_count, 3);
    let en = build(&plan, OWNER, Lang::En);
    assert_eq!(en.groups[1].label, "In progress");
    assert_eq!(
        en.groups[1].measures[0].costs, "€1,200 one-off",
        "amounts as the language writes them"
    );
}

#[test]
fn a_sign_off_lapses_visibly_and_staff_may_not_sign() {
    let (mut plan, _) =
        ActionPlanDoc::create(ActorId::random(), &ctx("coach", 0), "n", "b").unwrap();
    let a = measure(&mut plan, "Funktionspostfach", 4, 1);
    let _in_memory = plan.sign_off(&ctx("coach", 1), SignOffRole::Coach).unwrap();
    let _in_memory = plan
        .sign_off(&ctx("owner-1", 2), SignOffRole::Owner)
        .unwrap();
    let p = build(&plan, OWNER, Lang::De);
    assert!(p.agreed && !p.lapsed);
    assert_eq!(p.status, "Vereinbart");
    assert_eq!(p.sign_as.as_deref(), Some("Inhaber/in"));
    assert!(p.sign_offs.iter().any(|s| s.text.contains("Carsten Coach")));
    assert_eq!(p.heads.split(',').count(), plan.inner().heads().len());

    let _in_memory = plan
        .set_measure_status(&ctx("coach", 3), &a, MeasureStatus::Planned, "")
        .unwrap();
    let p = build(&plan, OWNER, Lang::De);
    assert!(!p.agreed && p.lapsed, "the change lifts the agreement");
    assert_eq!(p.status, "In Abstimmung");
    assert!(p.sign_offs.iter().all(|s| !s.valid));

    let staff = Viewer {
        writable: true,
        signs_as: None,
    };
    assert_eq!(build(&plan, staff, Lang::De).sign_as, None);
}

#[test]
fn concurrent_values_duplicates_and_removed_measures_are_listed() {
    let (mut plan, _) =
        ActionPlanDoc::create(ActorId::random(), &ctx("coach", 0), "n", "b").unwrap();
    let a = measure(&mut plan, "Angebotsvorlagen mit Textbausteinen", 4, 2);
    let b = measure(
        &mut plan,
        "Angebotsvorlagen mit Textbausteinen erstellen",
        4,
        2,
    );
    let gone = measure(&mut plan, "Faxgerät abschaffen", 1, 1);
    let _in_memory = plan.remove_measure(&ctx("coach", 1), &gone).unwrap();
    // Two replicas set different statuses at once.
    let mut other = ActionPlanDoc::open(
        nachbar_core::doc::NachbarDoc::load(&plan.inner().save(), ActorId::random()).unwrap(),
    )
    .unwrap();
    let _in_memory = plan
        .set_measure_status(&ctx("coach", 2), &a, MeasureStatus::Planned, "")
        .unwrap();
    let _in_memory = other
        .set_measure_status(&ctx("owner-1", 2), &a, MeasureStatus::Deferred, "")
        .unwrap();
    plan.inner_mut().merge(other.inner_mut()).unwrap();
    let p = build(&plan, OWNER, Lang::De);
    assert_eq!(p.review.len(), 1);
    let r = &p.review[0];
    assert_eq!(r.field, format!("measures/{a}/status"));
    assert_eq!(r.label, "Stand: Angebotsvorlagen mit Textbausteinen");
    let labels: Vec<&str> = r.values.iter().map(|v| v.label.as_str()).collect();
    assert!(labels.contains(&"Geplant") && labels.contains(&"Zurückgestellt"));
    assert_eq!(r.values.iter().filter(|v| v.current).count(), 1);
    assert_eq!(p.duplicates.len(), 1);
    assert_eq!(p.duplicates[0].reasons, "ähnlicher Titel");
    assert!([&a, &b].contains(&&p.duplicates[0].first));
    assert_eq!(p.removed.len(), 1);
    assert_eq!(p.removed[0].title, "Faxgerät abschaffen");
    assert_eq!(p.measure_count, 2);
}

#[test]
fn amounts_group_their_thousands() {
    assert_eq!(euros(0, Lang::De), "0 €");
    assert_eq!(euros(999, Lang::En), "€999");
    assert_eq!(euros(1_234_567, Lang::De), "1.234.567 €");
    assert_eq!(euros(-1500, Lang::En), "-€1,500");
}
