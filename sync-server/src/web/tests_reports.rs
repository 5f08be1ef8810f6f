//! Route tests of the PDF downloads: the plan and the assessment result follow the page's
//! access (denied answers exactly like missing), the language is chosen by `lang` (anything
//! but de/en is 400), the business chooses the findings, and the neighbourhood summary of a
//! neighbourhood whose every confidential document holds a canary string holds none of them.

use axum::http::StatusCode;
use nachbar_core::catalogue;
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::label::Lang;
use nachbar_core::model::action_plan::{ActionPlanDoc, NewMeasure};
use nachbar_core::model::assessment::{AssessmentDoc, FindingKind, NewAssessment, NewFinding};
use nachbar_core::time::Timestamp;

use super::tests::Fixture;
use crate::reports::tests::pdf_text;

/// A plan of `business` made by `who` with one measure titled `title`.
async fn plan_with(f: &Fixture, who: &str, business: &str, title: &str) -> DocumentId {
    let ctx = EditContext::new(f.users[who].clone(), Timestamp::now());
    let (mut plan, _) = ActionPlanDoc::create(Fixture::actor(), &ctx, &f.hood, business).unwrap();
    let new = NewMeasure {
        title: title.to_owned(),
        description: format!("{title} (Beschreibung)"),
        ..NewMeasure::default()
    };
    let _in_memory = plan.add_measure(&ctx, &new).unwrap();
    super::edit::create(f.state(), &f.signed_in(who), plan.inner())
        .await
        .unwrap()
}

/// An assessment of `business` made by `who` with a finding per title and `note` on A1.
async fn assessment_with(
    f: &Fixture,
    who: &str,
    business: &str,
    findings: &[&str],
    note: &str,
) -> (DocumentId, Vec<String>) {
    let ctx = EditContext::new(f.users[who].clone(), Timestamp::now());
    let new = NewAssessment {
        neighbourhood: &f.hood,
        business,
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some(&f.users["coach"]),
        language: Lang::De,
    };
    let (mut a, _) = AssessmentDoc::create(Fixture::actor(), &ctx, &new).unwrap();
    let _in_memory = a.set_level(&ctx, "A1", 2).unwrap();
    let _in_memory = a.set_answer_note(&ctx, "A1", note).unwrap();
    let ids = findings
        .iter()
        .map(|title| {
            let finding = NewFinding {
                area: "B".to_owned(),
                questions: vec![],
                kind: FindingKind::PainPoint,
                title: (*title).to_owned(),
                description: format!("{title} (Beschreibung)"),
                severity: 2,
                barriers: vec![],
            };
            a.add_finding(&ctx, &finding).unwrap().0
        })
        .collect();
    let id = super::edit::create(f.state(), &f.signed_in(who), a.inner())
        .await
        .unwrap();
    (id, ids)
}

#[tokio::test]
async fn the_plan_pdf_follows_the_page_access_and_the_chosen_language() {
    let f = Fixture::new().await;
    let plan = plan_with(&f, "owner1", &f.b1.clone(), "Funktionspostfach einrichten").await;
    let owner = f.sign_in("owner1").await;
    let de = f.get(&format!("/p/{plan}/plan.pdf"), &owner).await;
    assert_eq!(de.status, StatusCode::OK, "{}", de.body);
    assert_eq!(de.header("content-type"), "application/pdf");
    assert!(
        de.header("content-disposition")
            .contains("massnahmenplan.pdf")
    );
    assert_eq!(de.header("cache-control"), "no-store");
    let en = f.get(&format!("/p/{plan}/plan.pdf?lang=en"), &owner).await;
    assert_eq!(en.status, StatusCode::OK);
    assert!(en.header("content-disposition").contains("action-plan.pdf"));
    if let (Some(de), Some(en)) = (pdf_text(&de.bytes), pdf_text(&en.bytes)) {
        assert!(de.contains("Maßnahmenplan: Glaserei"), "{de}");
        assert!(de.contains("Funktionspostfach einrichten"));
        assert!(de.contains("Seite 1 von 1"));
        assert!(en.contains("Action plan: Glaserei"), "{en}");
        assert!(en.contains("Page 1 of 1"));
    }
    let bad = f.get(&format!("/p/{plan}/plan.pdf?lang=fr"), &owner).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Ungültige Anfrage"));

    // Missing, another business's, the wrong kind, and a coordinator: all the same 404.
    let missing = f
        .get("/p/3dRxe4QpsTvKyk4SRJVGr2rR8Yzt/plan.pdf", &owner)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let other = f.sign_in("owner2").await;
    let coordinator = f.sign_in("coordinator").await;
    for (path, who) in [
        (format!("/p/{plan}/plan.pdf"), &other),
        (format!("/p/{plan}/plan.pdf"), &coordinator),
        (format!("/a/{plan}/results.pdf"), &owner),
        ("/p/not-an-id/plan.pdf".to_owned(), &owner),
    ] {
        let a = f.get(&path, who).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.body, missing.body, "{path}: denied looks like missing");
    }
    // Signed out: the sign-in page, no PDF.
    let anonymous = f
        .call("GET", &format!("/p/{plan}/plan.pdf"), None, None, &[])
        .await;
    assert_ne!(anonymous.header("content-type"), "application/pdf");
    f.server.stop().await;
}

#[tokio::test]
async fn the_assessment_pdf_holds_the_findings_the_business_chose() {
    let f = Fixture::new().await;
    let (doc, ids) = assessment_with(
        &f,
        "coach",
        &f.b1.clone(),
        &["Postfach läuft über", "Rechnungen auf Papier"],
        "Notiz",
    )
    .await;
    let owner = f.sign_in("owner1").await;
    let page = f.get(&format!("/a/{doc}/results"), &owner).await;
    assert!(
        page.body
            .contains(&format!("name=\"finding\" value=\"{}\"", ids[0]))
    );
    let all = f.get(&format!("/a/{doc}/results.pdf"), &owner).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let chosen = f
        .get(
            &format!("/a/{doc}/results.pdf?chosen=1&finding={}&lang=en", ids[1]),
            &owner,
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK);
    let none = f
        .get(
            &format!("/a/{doc}/results.pdf?chosen=1&finding=unknown"),
            &owner,
        )
        .await;
    assert_eq!(
        none.status,
        StatusCode::OK,
        "an unknown finding id is left out"
    );
    let (Some(all), Some(chosen), Some(none)) = (
        pdf_text(&all.bytes),
        pdf_text(&chosen.bytes),
        pdf_text(&none.bytes),
    ) else {
        return;
    };
    assert!(all.contains("Postfach läuft über") && all.contains("Rechnungen auf Papier"));
    assert!(chosen.contains("Rechnungen auf Papier"), "{chosen}");
    assert!(!chosen.contains("Postfach läuft über"));
    assert!(chosen.contains("Assessment result: Glaserei (T0)"));
    assert!(!none.contains("Postfach läuft über") && !none.contains("Rechnungen auf Papier"));
    f.server.stop().await;
}

#[tokio::test]
async fn the_neighbourhood_summary_holds_no_confidential_canary() {
    let f = Fixture::new().await;
    let (b1, b2) = (f.b1.clone(), f.b2.clone());
    let _ = plan_with(&f, "owner1", &b1, "KANARIE-PLAN-1").await;
    let _ = plan_with(&f, "owner2", &b2, "KANARIE-PLAN-2").await;
    let _ = assessment_with(&f, "coach", &b1, &["KANARIE-BEFUND-1"], "KANARIE-NOTIZ-1").await;
    let _ = assessment_with(&f, "owner2", &b2, &["KANARIE-BEFUND-2"], "KANARIE-NOTIZ-2").await;
    let coordinator = f.sign_in("coordinator").await;
    // The coach of the glazier reads its plan and assessment, and the summary still holds
    // nothing of them.
    let coach = f.sign_in("coach").await;
    let readable = plan_with(&f, "coach", &b1, "KANARIE-PLAN-COACH").await;
    let coach_plan = f.get(&format!("/p/{readable}"), &coach).await;
    assert!(coach_plan.body.contains("KANARIE-PLAN-COACH"));
    let home = f.get(&format!("/n/{}", f.hood), &coordinator).await;
    assert!(home.body.contains(&format!("/n/{}/summary.pdf", f.hood)));
    for (lang, who) in [("de", &coordinator), ("en", &coordinator), ("de", &coach)] {
        let s = f
            .get(&format!("/n/{}/summary.pdf?lang={lang}", f.hood), who)
            .await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.body);
        assert!(!String::from_utf8_lossy(&s.bytes).contains("KANARIE"));
        let Some(text) = pdf_text(&s.bytes) else {
            return;
        };
        assert!(text.contains("Testpark"), "{text}");
        assert!(
            text.contains("Glaserei"),
            "the businesses taking part: {text}"
        );
        assert!(!text.contains("KANARIE"), "{text}");
    }
    // Another neighbourhood's coordinator view: 404 like a missing neighbourhood.
    let missing = f.get("/n/no-such-hood/summary.pdf", &coordinator).await;
    let other = f
        .get(&format!("/n/{}/summary.pdf", f.other_hood), &coordinator)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(other.body, missing.body);
    // A member sees only the workshops it is invited to, so the summary (which must be the same
    // for everyone who makes it) is not offered to it: 404 like a missing neighbourhood.
    let owner = f.sign_in("owner1").await;
    let member_home = f.get(&format!("/n/{}", f.hood), &owner).await;
    assert_eq!(member_home.status, StatusCode::OK);
    assert!(!member_home.body.contains("summary.pdf"));
    let member = f.get(&format!("/n/{}/summary.pdf", f.hood), &owner).await;
    assert_eq!(member.status, StatusCode::NOT_FOUND);
    let missing_for_owner = f.get("/n/no-such-hood/summary.pdf", &owner).await;
    assert_eq!(member.body, missing_for_owner.body);
    f.server.stop().await;
}

#[tokio::test]
async fn texts_the_fonts_cannot_draw_still_give_a_report() {
    let f = Fixture::new().await;
    let owner = f.sign_in("owner1").await;
    // One emoji, CJK and a control character in a title: the report is made, with U+FFFD for
    // what DejaVu lacks (PDF/UA would refuse the empty glyph).
    let odd = plan_with(&f, "owner1", &f.b1.clone(), "Start 🚀 老 \u{0007}Postfach").await;
    let r = f.get(&format!("/p/{odd}/plan.pdf"), &owner).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    if let Some(text) = pdf_text(&r.bytes) {
        assert!(text.contains("Start \u{FFFD} \u{FFFD}"), "{text}");
        assert!(text.contains("Postfach"), "{text}");
    }
    f.server.stop().await;
}
