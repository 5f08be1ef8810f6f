//! Route tests of what the web app shows to whom: a page about something the user may not see
//! answers exactly like a missing one; web edits are committed through the hub (fragments for
//! htmx, redirects otherwise) and a refused edit stores nothing; no page a coordinator can reach
//! shows anything of a confidential document.

use axum::http::StatusCode;
use nachbar_core::doc::EditContext;
use nachbar_core::model::action_plan::{ActionPlanDoc, NewMeasure};
use nachbar_core::model::assessment::{AssessmentDoc, FindingKind, NewAssessment, NewFinding};
use nachbar_core::time::Timestamp;

use super::tests::Fixture;

/// The body of a 404 without what differs per request (nothing should).
fn not_found(body: &str) -> String {
    body.to_owned()
}

#[tokio::test]
async fn what_a_user_may_not_see_answers_exactly_like_what_does_not_exist() {
    let f = Fixture::new().await;
    let c = f.sign_in("coordinator").await;
    let missing = f.get("/n/00000000-0000-0000-0000-000000000000", &c).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for path in [
        format!("/n/{}", f.other_hood),
        format!("/n/{}/businesses", f.other_hood),
        format!("/n/{}/offerings", f.other_hood),
        format!("/n/{}/heatmap.csv", f.other_hood),
        format!("/n/{}/live", f.other_hood),
    ] {
        let a = f.get(&path, &c).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(not_found(&a.body), not_found(&missing.body), "{path}");
    }
    // An owner is no coordinator: the office pages do not exist for them.
    let o = f.sign_in("owner1").await;
    for path in [
        format!("/n/{}/businesses", f.hood),
        format!("/n/{}/offerings", f.hood),
    ] {
        let a = f.get(&path, &o).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    // A coordinator acting on a business of another neighbourhood: not found, nothing done.
    let foreign = f
        .state()
        .web
        .policy
        .current()
        .directory()
        .businesses
        .iter()
        .find(|(_, b)| b.neighbourhood == f.other_hood)
        .map(|(id, _)| id.clone())
        .unwrap();
    let a = f
        .post(
            &format!("/n/{}/businesses/{foreign}/leave", f.hood),
            &c,
            "confirm=yes",
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(f.state().web.policy.current().directory().businesses[&foreign].active);
    // A workshop the owner is not invited to is missing for them; a malformed id too.
    let w = f
        .post(
            &format!("/n/{}/workshops", f.hood),
            &c,
            "title=Auftakt&kind=kick_off&date=2030-01-10&start=09:00&end=11:00",
        )
        .await;
    assert_eq!(w.status, StatusCode::SEE_OTHER, "{}", w.body);
    let workshop = w.header("location").to_owned();
    assert!(workshop.starts_with("/w/"));
    let denied = f.get(&workshop, &o).await;
    let unknown = f.get("/w/4VBu6rX2mCVE6xQx9CBuXAgyXL8V", &o).await;
    let malformed = f.get("/w/not-an-id", &o).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    assert_eq!(denied.body, unknown.body);
    assert_eq!(denied.body, malformed.body);
    // … until the coordinator invites the business.
    let inv = f
        .post(
            &format!("{workshop}/invite"),
            &c,
            &format!("business={}", f.b1),
        )
        .await;
    assert_eq!(inv.status, StatusCode::SEE_OTHER, "{}", inv.body);
    assert_eq!(f.get(&workshop, &o).await.status, StatusCode::OK);
    // Invited members read but do not write.
    let edit = f
        .post(
            &format!("{workshop}/blocks"),
            &o,
            "title=Hack&kind=input&duration_min=5",
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    f.server.stop().await;
}

#[tokio::test]
async fn web_edits_answer_htmx_with_a_fragment_and_forms_with_a_redirect() {
    let f = Fixture::new().await;
    let c = f.sign_in("coordinator").await;
    let w = f
        .post(
            &format!("/n/{}/workshops", f.hood),
            &c,
            "title=Plan&kind=topic_workshop&date=2030-02-01&start=09:00&end=10:00",
        )
        .await;
    let workshop = w.header("location").to_owned();
    let plain = f
        .post(
            &format!("{workshop}/blocks"),
            &c,
            "title=Begr%C3%BC%C3%9Fung&kind=welcome&duration_min=15",
        )
        .await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);
    assert_eq!(plain.header("location"), workshop);
    let htmx = f
        .call(
            "POST",
            &format!("{workshop}/blocks"),
            Some(&c),
            Some("title=Impuls&kind=input&duration_min=50"),
            &[("hx-request", "true")],
        )
        .await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(!htmx.body.contains("<html"), "a fragment");
    assert!(
        htmx.body.contains("Impuls") && htmx.body.contains("09:15"),
        "start times computed"
    );
    assert!(
        htmx.body.contains("id=\"overrun\""),
        "65 minutes in a 60-minute slot"
    );
    // A refused edit shows its error at the field and stores nothing.
    let before = f
        .get(&workshop, &c)
        .await
        .body
        .matches("id=\"block-")
        .count();
    let bad = f
        .call(
            "POST",
            &format!("{workshop}/blocks"),
            Some(&c),
            Some("title=++&kind=input&duration_min=5"),
            &[("hx-request", "true")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Bitte ausfüllen"), "{}", bad.body);
    let too_long = f
        .post(
            &format!("{workshop}/blocks"),
            &c,
            "title=Lang&kind=input&duration_min=5000",
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains("0 bis 1440"), "{}", too_long.body);
    let bad_kind = f
        .post(
            &format!("{workshop}/blocks"),
            &c,
            "title=X&kind=%3Cb%3E&duration_min=5",
        )
        .await;
    assert_eq!(bad_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad_kind.body.contains("<b>"));
    assert_eq!(
        f.get(&workshop, &c)
            .await
            .body
            .matches("id=\"block-")
            .count(),
        before
    );
    // Bad times of a new workshop are shown at their field.
    let bad_time = f
        .post(
            &format!("/n/{}/workshops", f.hood),
            &c,
            "title=T&kind=kick_off&date=2030-01-10&start=25:00&end=11:00",
        )
        .await;
    assert_eq!(bad_time.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_time.body.contains("id=\"w-start-error\""),
        "{}",
        bad_time.body
    );
    // Every web edit is audited under its user.
    let audited: i64 = f
        .db()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE user_id = ?1",
            [&f.users["coordinator"]],
            |r| r.get(0),
        )
        .unwrap();
    assert!(audited >= 3, "{audited}");
    f.server.stop().await;
}

/// The stored workshop `path` (`/w/<id>`) as its read model.
fn stored_workshop(f: &Fixture, path: &str) -> nachbar_core::model::workshop::WorkshopView {
    let id = path.trim_start_matches("/w/");
    let stored = f.db().load(id).unwrap().unwrap();
    let doc = nachbar_core::doc::NachbarDoc::load(&stored.bytes, Fixture::actor()).unwrap();
    nachbar_core::model::workshop::WorkshopDoc::open(doc)
        .unwrap()
        .view()
        .unwrap()
}

#[tokio::test]
async fn an_edit_of_several_changes_is_stored_whole_or_not_at_all() {
    let f = Fixture::new().await;
    let c = f.sign_in("coordinator").await;
    let workshop = f
        .post(
            &format!("/n/{}/workshops", f.hood),
            &c,
            "title=Plan&kind=topic_workshop&date=2030-02-01&start=09:00&end=10:00",
        )
        .await
        .header("location")
        .to_owned();
    // A business of two people: both invitations, one submission.
    let invited = f
        .post(
            &format!("{workshop}/invite"),
            &c,
            &format!("business={}", f.b1),
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let mut people: Vec<String> = stored_workshop(&f, &workshop)
        .participants
        .into_iter()
        .map(|p| p.person)
        .collect();
    people.sort();
    let mut expected = vec![f.users["owner1"].clone(), f.users["staff1"].clone()];
    expected.sort();
    assert_eq!(people, expected);
    // A plan whose times are refused stores its guiding question neither.
    let refused = f
        .post(
            &format!("{workshop}/plan"),
            &c,
            "guiding_question=Wie+weiter%3F&start=11:00&end=10:00",
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let view = stored_workshop(&f, &workshop);
    assert_eq!(view.guiding_question, "", "nothing stored");
    let planned = f
        .post(
            &format!("{workshop}/plan"),
            &c,
            "guiding_question=Wie+weiter%3F&start=09:00&end=11:00",
        )
        .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    assert_eq!(
        stored_workshop(&f, &workshop).guiding_question,
        "Wie weiter?"
    );
    f.server.stop().await;
}

#[tokio::test]
async fn no_page_a_coordinator_reaches_shows_confidential_content() {
    const CANARY: &str = "KANARIENVOGEL-7f3a";
    let f = Fixture::new().await;
    let owner = f.signed_in("owner1");
    let ctx = EditContext::new(f.users["owner1"].clone(), Timestamp::now());
    // An assessment and an action plan of the first business, each holding the canary.
    let (mut assessment, _) = AssessmentDoc::create(
        Fixture::actor(),
        &ctx,
        &NewAssessment {
            neighbourhood: &f.hood,
            business: &f.b1,
            release: nachbar_core::catalogue::release_1_0(),
            stage: CANARY,
            coach: None,
            language: nachbar_core::label::Lang::De,
        },
    )
    .unwrap();
    let _ = assessment
        .add_finding(
            &ctx,
            &NewFinding {
                area: "D".to_owned(),
                questions: vec![],
                kind: FindingKind::ALL[0],
                title: format!("{CANARY} Befund"),
                description: CANARY.to_owned(),
                severity: 2,
                barriers: vec![],
            },
        )
        .unwrap();
    let assessment_id = super::edit::create(f.state(), &owner, assessment.inner())
        .await
        .unwrap();
    let (mut plan, _) = ActionPlanDoc::create(Fixture::actor(), &ctx, &f.hood, &f.b1).unwrap();
    let _ = plan
        .add_measure(
            &ctx,
            &NewMeasure {
                title: format!("{CANARY} Maßnahme"),
                ..NewMeasure::default()
            },
        )
        .unwrap();
    let plan_id = super::edit::create(f.state(), &owner, plan.inner())
        .await
        .unwrap();
    // The owner sees them; the coordinator sees nothing of them anywhere.
    let o = f.sign_in("owner1").await;
    let home = format!("/b/{}", f.b1);
    assert!(
        f.get(&home, &o).await.body.contains(CANARY),
        "the owner's home names the assessment"
    );
    let confidential = [
        home.clone(),
        format!("/p/{plan_id}"),
        format!("/p/{plan_id}/live"),
        format!("/a/{assessment_id}"),
        format!("/a/{assessment_id}/live"),
        format!("/a/{assessment_id}/results"),
        format!("/a/{assessment_id}/results/live"),
    ];
    for p in &confidential[1..] {
        let a = f.get(p, &o).await;
        assert_eq!(a.status, StatusCode::OK, "the owner opens {p}");
        assert!(a.body.contains(CANARY), "the owner sees the canary on {p}");
    }
    let c = f.sign_in("coordinator").await;
    let w = f
        .post(
            &format!("/n/{}/workshops", f.hood),
            &c,
            "title=W&kind=kick_off&date=2030-01-10&start=09:00&end=11:00",
        )
        .await;
    let workshop = w.header("location").to_owned();
    let hood = &f.hood;
    let mut pages = vec![
        "/".to_owned(),
        "/start".to_owned(),
        format!("/n/{hood}"),
        format!("/n/{hood}/live"),
        format!("/n/{hood}/heatmap.csv"),
        format!("/n/{hood}/businesses"),
        format!("/n/{hood}/workshops"),
        format!("/n/{hood}/offerings"),
        workshop.clone(),
        format!("{workshop}/live"),
        format!("{workshop}/print"),
    ];
    let admin = f.sign_in("admin").await;
    let missing = f.get("/p/3dRxe4QpsTvKyk4SRJVGr2rR8Yzt", &c).await.body;
    for (who, cookie) in [("coordinator", &c), ("admin", &admin)] {
        for p in &pages {
            let a = f.get(p, cookie).await;
            assert!(!a.body.contains(CANARY), "{who} saw the canary on {p}");
        }
        // The business's pages do not exist for them: 404 exactly like a missing document.
        for p in &confidential {
            let a = f.get(p, cookie).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{who} reached {p}");
            assert_eq!(a.body, missing, "{who} on {p}");
        }
    }
    // Nor can they write to them: a sign-off or a status change is 404 and stores nothing.
    let before = f.stored_heads(&plan_id);
    for (path, body) in [
        (format!("/p/{plan_id}/sign-off"), "heads=".to_owned()),
        (format!("/p/{plan_id}/measures"), "title=X".to_owned()),
        (
            format!("/a/{assessment_id}/answers/A1"),
            "value=3".to_owned(),
        ),
    ] {
        let a = f.post(&path, &c, &body).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    let after = f.stored_heads(&plan_id);
    assert_eq!(before, after, "nothing stored");
    pages.clear();
    // The coordinator's live page follows no confidential document either.
    let coordinator = f.signed_in("coordinator");
    let followed = super::live::page_docs(f.state(), &coordinator, &format!("/n/{hood}"))
        .await
        .expect("a live page");
    let records = f.db().records().unwrap();
    for r in records
        .iter()
        .filter(|r| matches!(r.kind.as_deref(), Some("assessment" | "action-plan")))
    {
        let id: nachbar_core::ids::DocumentId = r.doc_id.parse().unwrap();
        assert!(
            !followed.contains(&id),
            "the live page follows {}",
            r.doc_id
        );
    }
    assert!(!followed.is_empty());
    f.server.stop().await;
}
