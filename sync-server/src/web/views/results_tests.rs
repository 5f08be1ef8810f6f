use automerge::ActorId;
use nachbar_core::catalogue;
use nachbar_core::doc::EditContext;
use nachbar_core::label::Lang;
use nachbar_core::model::assessment::{AssessmentDoc, ComplianceValue, NewAssessment, compare};
use nachbar_core::time::Timestamp;

use super::*;

fn nobody() -> crate::web::views::signers::Signers<'static> {
    crate::web::views::signers::Signers {
        owners: &[],
        coaches: &[],
    }
}

fn ctx() -> EditContext {
    EditContext::new("coach", Timestamp(1_767_225_600_000))
}

fn assessment(
    release: &'static nachbar_core::catalogue::CatalogueRelease,
    stage: &str,
) -> AssessmentDoc {
    let new = NewAssessment {
        neighbourhood: "n",
        business: "b",
        release,
        stage,
        coach: Some("coach"),
        language: Lang::De,
    };
    AssessmentDoc::create(ActorId::random(), &ctx(), &new)
        .unwrap()
        .0
}

#[test]
fn scores_lights_gaps_and_the_chart_come_from_the_answers() {
    let mut a = assessment(catalogue::release_1_0(), "T0");
    for (q, level) in [("A1", 1), ("A2", 3), ("B1", 0), ("B2", 4)] {
        let _in_memory = a.set_level(&ctx(), q, level).unwrap();
    }
    let _in_memory = a.set_relevance(&ctx(), "B1", 3).unwrap();
    let _in_memory = a.set_compliance(&ctx(), "D1", ComplianceValue::No).unwrap();
    let _in_memory = a
        .set_compliance(&ctx(), "F1", ComplianceValue::Yes)
        .unwrap();
    let _in_memory = a.set_unknown(&ctx(), "G1", true).unwrap();
    let view = a.view().unwrap();
    let p = page(&view, None, &nobody(), Lang::De);
    let area = |c: &str| p.areas.iter().find(|r| r.code == c).unwrap().clone();
    // A: (1 + 3) / (4 × 2) = 50; B: (0 + 4) / 8 = 50.
    assert_eq!(area("A").score, "50");
    assert_eq!(area("A").band, "Durchschnittlich");
    assert_eq!(
        area("A").answered,
        format!("2 / {}", view.scores.areas[0].level_items)
    );
    assert_eq!(area("C").score, "–");
    let d = area("D");
    assert!(d.critical_failed, "D1 is critical and failed");
    assert_eq!(d.light.as_ref().unwrap().symbol, "✗");
    assert_eq!(d.light.as_ref().unwrap().label, "rot");
    assert_eq!(p.critical_failed.len(), 1);
    assert!(p.critical_failed[0].starts_with("D1 "));
    assert!(
        p.compliance
            .iter()
            .any(|c| c.id == "F1" && c.light.code == "green")
    );
    // The largest gap: B1 at level 0 with relevance 3 → 12.
    assert_eq!(p.gaps[0].id, "B1");
    assert_eq!(p.gaps[0].gap, 12);
    assert!(p.gaps.len() <= GAPS_SHOWN);
    assert_eq!(p.to_clarify.len(), 1, "G1 was answered \"don't know\"");
    assert_eq!(p.radar.labels.len(), view.scores.areas.len());
    assert!(p.radar_desc.contains("A Strategie & Zuständigkeit: 50"));
    assert!(
        p.radar_desc
            .contains("C Anfrage → Angebot → Auftrag: noch ohne Antwort")
    );
    assert!(p.comparison.is_none());
    let en = page(&view, None, &nobody(), Lang::En);
    assert_eq!(en.areas[0].band, "Average");
}

#[test]
fn the_comparison_goes_through_the_migration_map() {
    let mut t0 = assessment(catalogue::release_1_0(), "T0");
    let _in_memory = t0.set_level(&ctx(), "A1", 1).unwrap();
    let _in_memory = t0.set_level(&ctx(), "B2", 2).unwrap();
    let mut t1 = assessment(catalogue::release_1_1(), "T1");
    let _in_memory = t1.set_level(&ctx(), "A1", 3).unwrap();
    let _in_memory = t1.set_level(&ctx(), "B2a", 3).unwrap();
    let (before, after) = (t0.view().unwrap(), t1.view().unwrap());
    let cmp = compare(&before, &after, catalogue::release_1_1());
    let p = page(&after, Some(("T0", &cmp)), &nobody(), Lang::En);
    let c = p.comparison.unwrap();
    assert_eq!(
        c.caption,
        "Change per question from T0 (Catalogue 1.0) to T1 (Catalogue 1.1)"
    );
    let row = |id: &str| c.rows.iter().find(|r| r.id == id).unwrap().clone();
    assert_eq!(
        (row("A1").before.as_str(), row("A1").after.as_str()),
        ("1", "3")
    );
    assert_eq!(row("A1").change, "+2");
    assert_eq!(
        row("B2a ← B2").change,
        "not directly comparable (question split or merged)"
    );
    assert!(c.overall.starts_with('+'), "{}", c.overall);
}
