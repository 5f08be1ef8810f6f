//! Route tests of the business's pages: a plan of another business answers like a missing
//! one; staff may edit but not sign off; a sign-off binds the heads the page showed (409 when
//! the plan changed since) and lapses visibly; two people changing one value from the same
//! version both count until it is settled; bad input at every form is refused at its field and
//! stores nothing.

use axum::http::StatusCode;
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::SignOffRole;
use nachbar_core::model::action_plan::{ActionPlanDoc, ActionPlanView, NewMeasure};
use nachbar_core::model::assessment::{AssessmentDoc, AssessmentView, NewAssessment};
use nachbar_core::time::Timestamp;

use super::tests::Fixture;

fn stored_plan(f: &Fixture, id: &DocumentId) -> ActionPlanView {
    ActionPlanDoc::open(f.stored_doc(id))
        .unwrap()
        .view()
        .unwrap()
}

fn stored_assessment(f: &Fixture, id: &DocumentId) -> AssessmentView {
    AssessmentDoc::open(f.stored_doc(id))
        .unwrap()
        .view()
        .unwrap()
}

/// A plan of `business` created by `who`, with one measure.
async fn plan_of(f: &Fixture, who: &str, business: &str) -> (DocumentId, String) {
    let owner = f.signed_in(who);
    let ctx = EditContext::new(f.users[who].clone(), Timestamp::now());
    let (mut plan, _) = ActionPlanDoc::create(Fixture::actor(), &ctx, &f.hood, business).unwrap();
    let (measure, _) = plan
        .add_measure(
            &ctx,
            &NewMeasure {
                title: "Funktionspostfach einrichten".to_owned(),
                ..NewMeasure::default()
            },
        )
        .unwrap();
    let id = super::edit::create(f.state(), &owner, plan.inner())
        .await
        .unwrap();
    (id, measure)
}

/// The heads a page's forms carry.
fn heads_in(body: &str) -> String {
    let start = body.find("name=\"heads\" value=\"").expect("a heads field") + 20;
    let end = body[start..].find('"').unwrap();
    body[start..start + end].to_owned()
}

fn form_encode(s: &str) -> String {
    s.replace(',', "%2C")
}

#[tokio::test]
async fn another_business_plan_is_missing_staff_cannot_sign_off_and_a_sign_off_binds_the_shown_version()
 {
    let f = Fixture::new().await;
    let (plan1, measure) = plan_of(&f, "owner1", &f.b1).await;
    let (plan2, _) = plan_of(&f, "owner2", &f.b2).await;
    let owner = f.sign_in("owner1").await;
    let coach = f.sign_in("coach").await;
    let staff = f.sign_in("staff1").await;
    let missing = f.get("/p/3dRxe4QpsTvKyk4SRJVGr2rR8Yzt", &owner).await;
    let other = f.get(&format!("/p/{plan2}"), &owner).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.body, missing.body,
        "denied looks exactly like missing"
    );
    for p in [format!("/b/{}", f.b2), format!("/p/{plan2}/live")] {
        assert_eq!(f.get(&p, &owner).await.body, missing.body, "{p}");
    }
    let page = f.get(&format!("/p/{plan1}"), &owner).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Funktionspostfach einrichten"));
    let shown = heads_in(&page.body);

    // Staff edit the plan but cannot sign it off.
    let staff_page = f.get(&format!("/p/{plan1}"), &staff).await;
    assert!(staff_page.body.contains("Stand ändern"), "staff may edit");
    assert!(
        !staff_page.body.contains("id=\"agree\""),
        "no sign-off button for staff"
    );
    let before = f.stored_heads(&plan1);
    let refused = f
        .post(
            &format!("/p/{plan1}/sign-off"),
            &staff,
            &format!("heads={}", form_encode(&shown)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Zustimmen können"));
    assert_eq!(f.stored_heads(&plan1), before, "nothing stored");

    // The coach changes the plan after the owner opened it: the owner's sign-off is 409.
    let changed = f
        .post(
            &format!("/p/{plan1}/measures/{measure}/status"),
            &coach,
            "status=planned&note=",
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let before = f.stored_heads(&plan1);
    let stale = f
        .post(
            &format!("/p/{plan1}/sign-off"),
            &owner,
            &format!("heads={}", form_encode(&shown)),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("geändert, seit Sie ihn geöffnet haben"));
    assert!(
        stale.body.contains("Geplant"),
        "the refreshed plan comes with it"
    );
    assert_eq!(f.stored_heads(&plan1), before, "nothing stored");
    // Forged heads are no better.
    let forged = f
        .post(&format!("/p/{plan1}/sign-off"), &owner, "heads=zz%2C00")
        .await;
    assert_eq!(forged.status, StatusCode::CONFLICT);

    // Signing the refreshed version works, in place for htmx.
    let fresh = heads_in(&stale.body);
    let signed = f
        .call(
            "POST",
            &format!("/p/{plan1}/sign-off"),
            Some(&owner),
            Some(&format!("heads={}", form_encode(&fresh))),
            &[("hx-request", "true")],
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert!(signed.body.contains("Ihre Zustimmung ist gespeichert"));
    assert!(!signed.body.contains("<html"), "a fragment");
    let view = stored_plan(&f, &plan1);
    let s = &view.sign_offs[0];
    assert_eq!((s.role, s.valid), (SignOffRole::Owner, true));
    assert_eq!(s.heads.join(","), fresh, "bound to the version shown");
    // The coach signs too: agreed.
    let coach_page = f.get(&format!("/p/{plan1}"), &coach).await;
    let signed = f
        .post(
            &format!("/p/{plan1}/sign-off"),
            &coach,
            &format!("heads={}", form_encode(&heads_in(&coach_page.body))),
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert!(stored_plan(&f, &plan1).agreed);
    assert!(
        f.get(&format!("/p/{plan1}"), &owner)
            .await
            .body
            .contains("id=\"agreed\"")
    );
    // Any change but a sign-off lifts it, visibly.
    let _ = f
        .post(
            &format!("/p/{plan1}/measures/{measure}/progress"),
            &staff,
            "progress_note=Angefangen",
        )
        .await;
    let after = f.get(&format!("/p/{plan1}"), &owner).await.body;
    assert!(!stored_plan(&f, &plan1).agreed);
    assert!(after.contains("seitdem geändert") && after.contains("id=\"not-agreed\""));
    f.server.stop().await;
}

#[tokio::test]
async fn two_people_changing_one_value_from_the_same_version_both_count_until_settled() {
    let f = Fixture::new().await;
    let (plan, measure) = plan_of(&f, "owner1", &f.b1).await;
    let owner = f.sign_in("owner1").await;
    let coach = f.sign_in("coach").await;
    let shown = heads_in(&f.get(&format!("/p/{plan}"), &owner).await.body);
    for (who, status) in [(&owner, "deferred"), (&coach, "in_progress")] {
        let a = f
            .post(
                &format!("/p/{plan}/measures/{measure}/status"),
                who,
                &format!("status={status}&note=&heads={}", form_encode(&shown)),
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    }
    let view = stored_plan(&f, &plan);
    assert_eq!(view.needs_review.len(), 1, "both values kept");
    let field = view.needs_review[0].field.clone();
    assert_eq!(field, format!("measures/{measure}/status"));
    let history = &view.measures[0].status_history;
    assert!(
        history.iter().any(|h| h.to == "deferred") && history.iter().any(|h| h.to == "in_progress")
    );
    let page = f.get(&format!("/p/{plan}"), &owner).await.body;
    assert!(
        page.contains("Bitte klären")
            && page.contains("Zurückgestellt")
            && page.contains("In Umsetzung")
    );
    // A value nobody set cannot be chosen.
    let before = f.stored_heads(&plan);
    let bad = f
        .post(
            &format!("/p/{plan}/resolve"),
            &owner,
            &format!("field={}&value=done", field.replace('/', "%2F")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(f.stored_heads(&plan), before);
    let ok = f
        .post(
            &format!("/p/{plan}/resolve"),
            &owner,
            &format!("field={}&value=in_progress", field.replace('/', "%2F")),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let view = stored_plan(&f, &plan);
    assert!(view.needs_review.is_empty());
    assert_eq!(view.measures[0].status.code(), "in_progress");

    // The same for an answer of an assessment.
    let ctx = EditContext::new(f.users["coach"].clone(), Timestamp::now());
    let (a, _) = AssessmentDoc::create(
        Fixture::actor(),
        &ctx,
        &NewAssessment {
            neighbourhood: &f.hood,
            business: &f.b1,
            release: nachbar_core::catalogue::release_1_0(),
            stage: "T0",
            coach: Some(&f.users["coach"]),
            language: nachbar_core::label::Lang::De,
        },
    )
    .unwrap();
    let aid = super::edit::create(f.state(), &f.signed_in("coach"), a.inner())
        .await
        .unwrap();
    let shown = heads_in(&f.get(&format!("/a/{aid}"), &coach).await.body);
    for (who, level) in [(&coach, 2), (&owner, 3)] {
        let a = f
            .post(
                &format!("/a/{aid}/answers/A1"),
                who,
                &format!(
                    "value={level}&relevance=2&note=&heads={}",
                    form_encode(&shown)
                ),
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    }
    let view = stored_assessment(&f, &aid);
    assert_eq!(view.needs_review.len(), 1, "{:?}", view.needs_review);
    let page = f.get(&format!("/a/{aid}"), &coach).await.body;
    assert!(page.contains("id=\"conflicts\""));
    let ok = f
        .post(
            &format!("/a/{aid}/resolve"),
            &coach,
            "field=answers%2FA1%2Flevel&value=3",
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let view = stored_assessment(&f, &aid);
    assert!(view.needs_review.is_empty());
    assert_eq!(
        view.items
            .iter()
            .find(|i| i.id == "A1")
            .unwrap()
            .answer
            .level,
        Some(3)
    );
    f.server.stop().await;
}

#[tokio::test]
async fn bad_input_at_every_form_is_refused_at_its_field_and_stores_nothing() {
    let f = Fixture::new().await;
    let (plan, m) = plan_of(&f, "owner1", &f.b1).await;
    let owner = f.sign_in("owner1").await;
    let ctx = EditContext::new(f.users["owner1"].clone(), Timestamp::now());
    let (a, _) = AssessmentDoc::create(
        Fixture::actor(),
        &ctx,
        &NewAssessment {
            neighbourhood: &f.hood,
            business: &f.b1,
            release: nachbar_core::catalogue::release_1_0(),
            stage: "T0",
            coach: None,
            language: nachbar_core::label::Lang::De,
        },
    )
    .unwrap();
    let aid = super::edit::create(f.state(), &f.signed_in("owner1"), a.inner())
        .await
        .unwrap();
    let long = "x".repeat(400);
    let cases: Vec<(String, String, &str)> = vec![
        (
            format!("/p/{plan}/measures/{m}/status"),
            "status=vielleicht".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/measures/{m}/due"),
            "due=31.02.2027&owner=".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/measures/{m}/due"),
            "due=&owner=jemand-fremdes".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/measures/nope/status"),
            "status=done".into(),
            "nicht gespeichert",
        ),
        (
            format!("/p/{plan}/measures"),
            "title=".into(),
            "Bitte ausfüllen",
        ),
        (
            format!("/p/{plan}/measures"),
            format!("title={long}"),
            "höchstens 300 Zeichen",
        ),
        (
            format!("/p/{plan}/measures"),
            "title=X&impact=9".into(),
            "von 1 bis 5",
        ),
        (
            format!("/p/{plan}/measures"),
            "title=X&effort=zwei".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/measures"),
            "title=X&goal=erfunden".into(),
            "nicht gespeichert",
        ),
        (
            format!("/p/{plan}/measures"),
            "title=X&finding=erfunden".into(),
            "nicht gespeichert",
        ),
        (
            format!("/p/{plan}/measures"),
            "title=X&area=Z".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/goals"),
            "title=Ziel&target_date=morgen".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/measures/{m}/edit"),
            "title=".into(),
            "Bitte ausfüllen",
        ),
        (
            format!("/p/{plan}/measures/{m}/edit"),
            "title=X&cost_once=viel".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/measures/{m}/edit"),
            "title=X&cost_once=-5".into(),
            "von 0 bis",
        ),
        (
            format!("/p/{plan}/measures/{m}/edit"),
            "title=X&effort=0".into(),
            "von 1 bis 5",
        ),
        (
            format!("/p/{plan}/measures/{m}/edit"),
            "title=X&funding_state=geschenkt".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/p/{plan}/measures/{m}/merge"),
            format!("into={m}"),
            "Das geht gerade nicht",
        ),
        (
            format!("/p/{plan}/resolve"),
            "field=status&value=agreed".into(),
            "Das geht gerade nicht",
        ),
        (
            format!("/a/{aid}/answers/A1"),
            "value=7".into(),
            "von 0 bis 4",
        ),
        (
            format!("/a/{aid}/answers/D1"),
            "value=vielleicht".into(),
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("/a/{aid}/answers/A1"),
            "value=2&relevance=5".into(),
            "von 1 bis 3",
        ),
        (
            format!("/a/{aid}/answers/ZZ9"),
            "value=2".into(),
            "nicht gespeichert",
        ),
        (
            format!("/a/{aid}/findings"),
            "area=D&title=&kind=pain_point".into(),
            "Bitte ausfüllen",
        ),
        (
            format!("/a/{aid}/findings"),
            "area=D&title=T&kind=pain_point&severity=9".into(),
            "von 1 bis 3",
        ),
        (
            format!("/a/{aid}/findings"),
            "area=D&title=T&kind=erfunden".into(),
            "Dieser Wert ist nicht möglich",
        ),
    ];
    for (path, form, message) in cases {
        let before = (f.stored_heads(&plan), f.stored_heads(&aid));
        let a = f.post(&path, &owner, &form).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {form}: {}",
            a.body
        );
        assert!(
            a.body.contains(message),
            "{path} {form}: wanted {message:?}"
        );
        assert_eq!(
            (f.stored_heads(&plan), f.stored_heads(&aid)),
            before,
            "{path} {form}: nothing stored"
        );
    }
    // And a good edit is stored whole.
    let ok = f
        .post(
            &format!("/p/{plan}/measures/{m}/edit"),
            &owner,
            "title=Funktionspostfach+rechnung%40&description=F%C3%BCr+alle&impact=4&effort=2\
             &cost_once=1200&cost_recurring=120&funding_programme=go-digital&funding_state=applied",
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let stored = stored_plan(&f, &plan);
    let edited = &stored.measures[0];
    assert_eq!(edited.title, "Funktionspostfach rechnung@");
    assert_eq!((edited.impact, edited.effort_score), (Some(4), Some(2)));
    assert_eq!(
        (edited.cost_once_eur, edited.cost_recurring_eur),
        (Some(1200), Some(120))
    );
    assert_eq!(edited.funding.programme.as_deref(), Some("go-digital"));
    let page = f.get(&format!("/p/{plan}"), &owner).await.body;
    assert!(page.contains("1.200 € einmalig, 120 € pro Jahr"));
    assert!(page.contains("go-digital, Beantragt"));
    f.server.stop().await;
}

#[tokio::test]
async fn the_profile_page_is_the_business_own_and_refuses_what_was_not_offered() {
    let f = Fixture::new().await;
    let page = format!("/b/{}/profile", f.b1);
    let owner = f.sign_in("owner1").await;
    let a = f.get(&page, &owner).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("Sichtbar für: die ganze Nachbarschaft"));
    let missing = f
        .get("/b/00000000-0000-0000-0000-000000000000/profile", &owner)
        .await;
    for who in ["owner2", "coordinator", "admin"] {
        let c = f.sign_in(who).await;
        let denied = f.get(&page, &c).await;
        assert_eq!(denied.status, StatusCode::NOT_FOUND, "{who}");
        assert_eq!(
            denied.body, missing.body,
            "{who}: denied looks like missing"
        );
        let write = f
            .post(&format!("{page}/topics"), &c, "area=D&state=solved")
            .await;
        assert_eq!(write.status, StatusCode::NOT_FOUND, "{who} cannot write");
    }
    let shared = f
        .post(&format!("{page}/topics"), &owner, "area=D&state=need_help")
        .await;
    assert_eq!(shared.status, StatusCode::SEE_OTHER, "{}", shared.body);
    let a = f.get(&page, &owner).await;
    assert!(a.body.contains("<option value=\"need_help\" selected>"));
    for (path, form, message) in [
        (
            format!("{page}/topics"),
            "area=D&state=vielleicht",
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("{page}/topics"),
            "area=Z9&state=solved",
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("{page}/seats"),
            "offering=erfunden&delta=1",
            "nicht gespeichert",
        ),
        (
            format!("{page}/seats"),
            "offering=x&delta=500",
            "Dieser Wert ist nicht möglich",
        ),
        (
            format!("{page}/needs/n1/accept"),
            "offer=b%2Fo",
            "Das geht gerade nicht",
        ),
        (
            format!("{page}/practices/nope/revoke"),
            "",
            "nicht gespeichert",
        ),
    ] {
        let a = f.post(&path, &owner, form).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {form}: {}",
            a.body
        );
        assert!(
            a.body.contains(message),
            "{path} {form}: wanted {message:?}"
        );
    }
    f.server.stop().await;
}

#[tokio::test]
async fn only_the_signer_records_a_sign_off_in_a_role_they_hold_and_merges_keep_a_way_back() {
    let f = Fixture::new().await;
    let (plan, first) = plan_of(&f, "owner1", &f.b1).await;
    let owner = f.sign_in("owner1").await;
    let coach = f.sign_in("coach").await;
    // Staff try to record an "owner" sign-off through the durable path (as a phone would
    // sync it): under their own name, and under the owner's. The hub refuses both; nothing
    // is stored.
    let staff = f.signed_in("staff1");
    let before = f.stored_heads(&plan);
    let owner_id = f.users["owner1"].clone();
    for by in [f.users["staff1"].clone(), owner_id] {
        let forged = super::edit::edit::<ActionPlanDoc, ()>(f.state(), &staff, plan, |p, ctx| {
            let as_by = EditContext::new(by.clone(), ctx.now);
            Ok(((), p.sign_off(&as_by, SignOffRole::Owner)?))
        })
        .await;
        assert!(
            matches!(
                forged,
                Err(super::edit::EditError::Submit(
                    crate::hub::SubmitError::SignOff
                ))
            ),
            "{forged:?}"
        );
        assert_eq!(f.stored_heads(&plan), before, "nothing stored");
    }
    // A coach's sign-off by the coach is recorded.
    let heads = heads_in(&f.get(&format!("/p/{plan}"), &coach).await.body);
    let signed = f
        .post(
            &format!("/p/{plan}/sign-off"),
            &coach,
            &format!("heads={}", form_encode(&heads)),
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let page = f.get(&format!("/p/{plan}"), &owner).await.body;
    assert!(
        page.contains("id=\"not-agreed\""),
        "the owner has not signed"
    );

    // Merging: not into a removed measure; a merged one is listed and can come back.
    let add = f
        .post(&format!("/p/{plan}/measures"), &owner, "title=Zweite")
        .await;
    assert_eq!(add.status, StatusCode::SEE_OTHER);
    let second = stored_plan(&f, &plan)
        .measures
        .iter()
        .find(|m| m.title == "Zweite")
        .unwrap()
        .id
        .clone();
    let removed = f
        .post(&format!("/p/{plan}/measures/{first}/remove"), &owner, "")
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let into_removed = f
        .post(
            &format!("/p/{plan}/measures/{second}/merge"),
            &owner,
            &format!("into={first}"),
        )
        .await;
    assert_eq!(into_removed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let restored = f
        .post(&format!("/p/{plan}/measures/{first}/restore"), &owner, "")
        .await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    let merged = f
        .post(
            &format!("/p/{plan}/measures/{second}/merge"),
            &owner,
            &format!("into={first}"),
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER);
    let back = f
        .post(
            &format!("/p/{plan}/measures/{first}/merge"),
            &owner,
            &format!("into={second}"),
        )
        .await;
    assert_eq!(
        back.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not back and forth"
    );
    let page = f.get(&format!("/p/{plan}"), &owner).await.body;
    assert!(page.contains("Zusammengeführte Maßnahmen") && page.contains("Zweite"));
    let long_kpi = format!("title=Ziel&kpi={}", "k".repeat(400));
    let refused = f.post(&format!("/p/{plan}/goals"), &owner, &long_kpi).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("höchstens 300 Zeichen"));
    f.server.stop().await;
}

#[tokio::test]
async fn pages_are_compressed_for_browsers_that_ask_and_event_streams_are_not() {
    let f = Fixture::new().await;
    let (plan, _) = plan_of(&f, "owner1", &f.b1).await;
    let owner = f.sign_in("owner1").await;
    let gz = [("accept-encoding", "gzip")];
    let page = f
        .call("GET", &format!("/p/{plan}"), Some(&owner), None, &gz)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-encoding"), "gzip");
    assert_eq!(page.header("cache-control"), "no-store", "still not stored");
    let plain = f.get(&format!("/p/{plan}"), &owner).await;
    assert_eq!(plain.header("content-encoding"), "", "only when asked");
    // The event stream's head arrives uncompressed (its body never ends, so only the head
    // is read here).
    let mut req = axum::http::Request::builder()
        .uri(format!("/events?page=/p/{plan}"))
        .header("host", "127.0.0.1:8787")
        .header("accept-encoding", "gzip")
        .header("cookie", format!("nachbar_session={owner}"))
        .body(axum::body::Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            9,
        ))));
    let events = tower::ServiceExt::oneshot(f.server.router(), req)
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(
        events.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    assert!(events.headers().get("content-encoding").is_none());
    drop(events);
    f.server.stop().await;
}

/// The rows of a downloaded CSV (byte-order mark and separator checked).
fn csv_rows(body: &str, sep: u8) -> Vec<Vec<String>> {
    let text = body.strip_prefix('\u{feff}').expect("a byte-order mark");
    csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn csv_downloads_parse_back_to_the_read_models_for_those_who_may_read_them() {
    let f = Fixture::new().await;
    let (plan, m) = plan_of(&f, "owner1", &f.b1).await;
    let owner = f.sign_in("owner1").await;
    let edit = f
        .post(
            &format!("/p/{plan}/measures/{m}/edit"),
            &owner,
            "title=%3DSUMME(A1)+M%C3%BCll&cost_once=1200&impact=4&effort=2",
        )
        .await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER);
    let a = f.get(&format!("/p/{plan}/measures.csv"), &owner).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.header("content-type").starts_with("text/csv"));
    let rows = csv_rows(&a.body, b';');
    let view = stored_plan(&f, &plan);
    assert_eq!(rows.len(), 1 + view.measures.len());
    assert_eq!(rows[0][0], "Titel");
    assert_eq!(
        rows[1][0], "'=SUMME(A1) Müll",
        "formula-safe, umlauts intact"
    );
    assert_eq!(rows[1][1], "Idee");
    assert_eq!((rows[1][4].as_str(), rows[1][5].as_str()), ("4", "2"));
    assert_eq!(
        rows[1][7],
        view.measures[0].cost_once_eur.unwrap().to_string()
    );
    let comma = f
        .get(&format!("/p/{plan}/measures.csv?sep=comma"), &owner)
        .await;
    assert_eq!(csv_rows(&comma.body, b',').len(), rows.len());
    let bad = f
        .get(&format!("/p/{plan}/measures.csv?sep=tab"), &owner)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    for who in ["owner2", "coordinator", "admin"] {
        let c = f.sign_in(who).await;
        let denied = f.get(&format!("/p/{plan}/measures.csv"), &c).await;
        assert_eq!(denied.status, StatusCode::NOT_FOUND, "{who}");
        assert!(!denied.body.contains("SUMME"));
    }
    // The coordinator's joint offerings with seats.
    let c = f.sign_in("coordinator").await;
    let created = f
        .post(
            &format!("/n/{}/offerings", f.hood),
            &c,
            "title=Schulung+E-Rechnung&kind=training&provider=HWK&min_seats=8&cost_model=free",
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let a = f.get(&format!("/n/{}/offerings.csv", f.hood), &c).await;
    assert_eq!(a.status, StatusCode::OK);
    let rows = csv_rows(&a.body, b';');
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], "Schulung E-Rechnung");
    assert_eq!((rows[1][5].as_str(), rows[1][6].as_str()), ("8", "0"));
    let denied = f.get(&format!("/n/{}/offerings.csv", f.hood), &owner).await;
    assert_eq!(
        denied.status,
        StatusCode::NOT_FOUND,
        "an owner runs no neighbourhood"
    );
    f.server.stop().await;
}

#[tokio::test]
async fn the_neighbourhood_archive_holds_what_the_coordinator_may_read_with_the_servers_heads() {
    use std::io::Read;
    let f = Fixture::new().await;
    let (plan, _) = plan_of(&f, "owner1", &f.b1).await;
    let c = f.sign_in("coordinator").await;
    let a = f.get(&format!("/n/{}/archive.zip", f.hood), &c).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), "application/zip");
    // The body came through as text; fetch the bytes again through the router.
    let req = axum::http::Request::builder()
        .uri(format!("/n/{}/archive.zip", f.hood))
        .header("host", "127.0.0.1:8787")
        .header("cookie", format!("nachbar_session={c}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(f.server.router(), req)
        .await
        .unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut manifest = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["name"], "Testpark");
    let docs = manifest["documents"].as_array().unwrap();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"neighbourhood") && kinds.contains(&"business-profile"));
    assert!(
        !kinds.contains(&"action-plan") && !kinds.contains(&"assessment"),
        "nothing confidential: {kinds:?}"
    );
    assert!(docs.iter().all(|d| d["id"] != plan.to_string().as_str()));
    for d in docs {
        let mut file = Vec::new();
        zip.by_name(d["file"].as_str().unwrap())
            .unwrap()
            .read_to_end(&mut file)
            .unwrap();
        let loaded = automerge::Automerge::load(&file).unwrap();
        let heads: Vec<String> = loaded.get_heads().iter().map(ToString::to_string).collect();
        let listed: Vec<String> = d["heads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(heads, listed, "{}", d["file"]);
        let id: DocumentId = d["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            loaded.get_heads(),
            f.stored_heads(&id),
            "the server's heads"
        );
    }
    for who in ["owner1", "other_coordinator"] {
        let s = f.sign_in(who).await;
        let denied = f.get(&format!("/n/{}/archive.zip", f.hood), &s).await;
        assert_eq!(denied.status, StatusCode::NOT_FOUND, "{who}");
    }
    f.server.stop().await;
}
