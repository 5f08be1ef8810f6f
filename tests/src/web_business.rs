//! The browser suite of the business's pages and the coach's desk (tests/web/business.mjs) in
//! real headless Chromium at a tablet viewport against the real server with the demo. This test
//! plays the coach's phone, a real `Client` with its own database: it signs the plan off before
//! the owner does, sees the owner's sign-off after sync, edits a measure while the page is open
//! (the page shows it live and the agreement as lapsed), and converges on the answer two
//! browsers gave at once and the page settled. It also hands the suite the answers for the
//! printer's core assessment with the scores the in-memory model computes for them, and at
//! the end takes the glazier away from the coach (whose open page of it then disappears).

use automerge::ActorId;
use nachbar_core::catalogue::{self, QuestionKind};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::label::Lang;
use nachbar_core::model::SignOffRole;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasureStatus};
use nachbar_core::model::assessment::{AssessmentDoc, ComplianceValue, NewAssessment};
use nachbar_core::time::Timestamp;

use crate::support::browser::{self, BrowserSuite};
use crate::support::server::TestServer;
use crate::support::{TIMEOUT, eventually, synced};

/// A question and the form value the coach gives it.
type Answer = (String, String);
/// An area and its score rounded to one decimal.
type AreaScore = (String, Option<f64>);

/// The answers the coach gives in the browser (question, form value) for every core
/// question, and the area scores (rounded to one decimal, `None` without a score) the
/// in-memory model computes for the printer's assessment with them.
fn printer_answers() -> (Vec<Answer>, Vec<AreaScore>) {
    let release = catalogue::release_1_0();
    let mut answers = Vec::new();
    let values = ComplianceValue::ALL;
    for (i, q) in release.core_questions().enumerate() {
        let value = match q.kind {
            QuestionKind::Level => (i % 5).to_string(),
            QuestionKind::Compliance => values[i % values.len()].code().to_owned(),
        };
        answers.push((q.id.clone(), value));
    }
    // The demo's printer assessment (B1 at 3, D1 yes), then the browser's answers.
    let ctx = EditContext::new("coach", Timestamp::now());
    let new = NewAssessment {
        neighbourhood: "n",
        business: "b",
        release,
        stage: "T0",
        coach: Some("coach"),
        language: Lang::De,
    };
    let (mut a, _) = AssessmentDoc::create(ActorId::random(), &ctx, &new).expect("created");
    let _in_memory = a.set_level(&ctx, "B1", 3).expect("level");
    let _in_memory = a
        .set_compliance(&ctx, "D1", ComplianceValue::Yes)
        .expect("value");
    for (q, v) in &answers {
        let _in_memory = match v.parse::<i64>() {
            Ok(level) => a.set_level(&ctx, q, level),
            Err(_) => a.set_compliance(&ctx, q, ComplianceValue::parse(v).expect("code")),
        }
        .expect("answered");
    }
    let scores = a
        .view()
        .expect("view")
        .scores
        .areas
        .iter()
        .map(|s| (s.area.clone(), s.score.map(|v| (v * 10.0).round() / 10.0)))
        .collect();
    (answers, scores)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_business_and_the_coach_work_in_the_browser_while_a_phone_syncs() {
    let chromium = match browser::prerequisites() {
        Ok(c) => c,
        Err(why) => {
            println!("SKIPPED: {why}");
            return;
        }
    };
    let server = TestServer::start_with(&["--demo"]).await;
    let people = browser::demo_people(&server);
    let coach = browser::demo_person(&people, "coach", None);
    let coach_id = coach["user"].as_str().expect("user").to_owned();
    let (answers, expected) = printer_answers();
    let config = serde_json::json!({
        "name": "business",
        "base": server.http_url(),
        "people": people,
        "shots": browser::screenshot_dir(),
        "chromium": chromium,
        "answers": answers
            .iter()
            .map(|(q, v)| serde_json::json!({ "question": q, "value": v }))
            .collect::<Vec<_>>(),
        "expected": expected
            .iter()
            .map(|(a, s)| serde_json::json!({ "area": a, "score": s }))
            .collect::<Vec<_>>(),
        "questions": catalogue::release_1_0().questions.len(),
    });
    let phone_dir = tempfile::tempdir().expect("tempdir");
    let phone = browser::phone(&server, &coach, phone_dir.path());
    let ctx = || EditContext::new(coach_id.clone(), Timestamp::now());

    let mut suite = BrowserSuite::start("business.mjs", &config);
    let mut points = Vec::new();
    while let Some((what, arg)) = suite.next_wait().await {
        match what.as_str() {
            "phone-signs-off" => {
                let plan: DocumentId = arg.parse().expect("a plan id");
                eventually("the plan reaches the coach's phone", || {
                    phone.read::<ActionPlanDoc>(&plan).is_ok() && synced(&phone.status())
                })
                .await;
                phone
                    .edit(&plan, |p: &mut ActionPlanDoc| {
                        p.sign_off(&ctx(), SignOffRole::Coach)
                    })
                    .expect("the coach signs off on the phone");
                assert!(phone.wait_for(TIMEOUT, synced).await, "acknowledged");
            }
            "phone-sees-agreement-then-edits" => {
                let plan: DocumentId = arg.parse().expect("a plan id");
                eventually("the owner's sign-off reaches the phone: agreed", || {
                    phone
                        .read::<ActionPlanDoc>(&plan)
                        .ok()
                        .and_then(|p| p.view().ok())
                        .is_some_and(|v| {
                            v.agreed
                                && v.sign_offs
                                    .iter()
                                    .any(|s| s.role == SignOffRole::Owner && s.valid)
                        })
                })
                .await;
                let view = phone
                    .read::<ActionPlanDoc>(&plan)
                    .expect("plan")
                    .view()
                    .expect("view");
                let measure = view
                    .measures
                    .iter()
                    .find(|m| m.title == "Angebotsvorlagen mit Textbausteinen")
                    .expect("the demo measure")
                    .id
                    .clone();
                phone
                    .edit(&plan, |p: &mut ActionPlanDoc| {
                        p.set_measure_status(&ctx(), &measure, MeasureStatus::InProgress, "")
                    })
                    .expect("the phone edits the measure");
                assert!(phone.wait_for(TIMEOUT, synced).await, "acknowledged");
                let after = phone.read::<ActionPlanDoc>(&plan).expect("plan");
                assert!(!after.view().expect("view").agreed, "the edit lifts it");
            }
            "phone-converged" => {
                let mut parts = arg.split(':');
                let (doc, question, level) = (
                    parts
                        .next()
                        .expect("doc")
                        .parse::<DocumentId>()
                        .expect("id"),
                    parts.next().expect("question").to_owned(),
                    parts.next().expect("level").parse::<u8>().expect("level"),
                );
                eventually("the settled answer reaches the phone", || {
                    phone
                        .read::<AssessmentDoc>(&doc)
                        .ok()
                        .and_then(|a| a.view().ok())
                        .is_some_and(|v| {
                            v.needs_review.is_empty()
                                && v.items
                                    .iter()
                                    .any(|i| i.id == question && i.answer.level == Some(level))
                        })
                })
                .await;
            }
            "unassign-coach" => {
                // The coordinator's act, as the admin command does it.
                server.admin(&[
                    "revoke-role",
                    "--user",
                    &coach_id,
                    "--role",
                    "coach",
                    "--scope",
                    &arg,
                ]);
            }
            other => panic!("unknown sync point {other}"),
        }
        points.push(what);
        suite.go().await;
    }
    suite.finish().await;
    phone.stop();
    assert_eq!(
        points,
        [
            "phone-signs-off",
            "phone-sees-agreement-then-edits",
            "phone-converged",
            "unassign-coach"
        ],
        "every sync point ran"
    );
}
