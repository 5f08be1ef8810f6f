//! Page times of the business's pages (issue 10), with the release server on this machine: an
//! action plan with 40 measures (statuses, due dates, costs, histories) and the results page of
//! a fully answered assessment compared with an earlier one, as the owner's browser asks for
//! them over HTTP on loopback. Measured per request: warm (the read models cached) and right
//! after an edit (the plan hydrated again).
//!
//! `cargo bench -p nachbar-tests --bench web_pages`

use std::time::{Duration, Instant};

use nachbar_core::catalogue::{self, QuestionKind};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::label::Lang;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasurePatch, MeasureStatus, NewMeasure};
use nachbar_core::model::assessment::{AssessmentDoc, ComplianceValue, NewAssessment};
use nachbar_core::time::Timestamp;

mod common;
use common::phone::BenchPhone;
use common::{Server, http, percentile};

/// Measures.
const MEASURES: usize = 40;
/// Timed requests per page.
const REQUESTS: usize = 300;
/// Timed requests right after an edit.
const AFTER_EDIT: usize = 50;

fn timed(port: u16, path: &str, cookie: &str, expect: &str) -> f64 {
    let t = Instant::now();
    let (status, _, body) = http(port, "GET", path, Some(cookie), None);
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(
        status,
        200,
        "{path}: {}",
        body.chars().take(300).collect::<String>()
    );
    assert!(body.contains(expect), "{path} shows {expect}");
    ms
}

fn report(what: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    println!(
        "  {what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
        samples.len()
    );
}

fn main() {
    let server = Server::start();
    server.admin(&["init"]);
    let hood = server.admin(&["add-neighbourhood", "--name", "Seitenpark"]);
    let business = server.admin(&[
        "add-business",
        "--neighbourhood",
        &hood,
        "--name",
        "Glaserei",
    ]);
    let (owner, _) = server.user("Inhaberin", "owner", &business);
    let (coach, coach_token) = server.user("Coach", "coach", &business);
    let cookie = server.web_session(&owner, "inhaberin");

    let phone = BenchPhone::start(server.port, coach_token);
    let ctx = || EditContext::new(coach.clone(), Timestamp::now());

    // The plan: a goal, 40 measures in every status with due dates, costs and histories.
    let plan: DocumentId = phone
        .create(|actor| ActionPlanDoc::create(actor, &ctx(), &hood, &business))
        .expect("plan");
    let goal = phone
        .edit(&plan, |p: &mut ActionPlanDoc| {
            p.add_goal(
                &ctx(),
                "E-Rechnung",
                "alle Rechnungen digital",
                Some("2027-06-30"),
            )
        })
        .expect("goal");
    for i in 0..MEASURES {
        let new = NewMeasure {
            title: format!("Maßnahme {i}: Funktionspostfach und Ablage {}", i * 7),
            goal: Some(goal.clone()),
            owner: Some(owner.clone()),
            due: Some(format!("2026-{:02}-15", 1 + i % 12)),
            impact: Some(u8::try_from(1 + i % 5).expect("small")),
            effort_score: Some(u8::try_from(1 + (i / 5) % 5).expect("small")),
            ..NewMeasure::default()
        };
        let id = phone
            .edit(&plan, |p: &mut ActionPlanDoc| p.add_measure(&ctx(), &new))
            .expect("measure");
        let status = MeasureStatus::ALL[i % MeasureStatus::ALL.len()];
        phone
            .edit(&plan, |p: &mut ActionPlanDoc| {
                p.set_measure_status(&ctx(), &id, status, "im Gespräch vereinbart")
            })
            .expect("status");
        let patch = MeasurePatch {
            cost_once_eur: Some(1200 + 100 * i64::try_from(i).expect("small")),
            progress_note: Some("Angebot liegt vor, Termin mit dem Anbieter folgt.".to_owned()),
            ..MeasurePatch::default()
        };
        phone
            .edit(&plan, |p: &mut ActionPlanDoc| {
                p.update_measure(&ctx(), &id, &patch)
            })
            .expect("patch");
    }
    // Two assessments: T0 on 1.0, T1 on 1.1, every question answered.
    let mut last = None;
    for (stage, release) in [
        ("T0", catalogue::release_1_0()),
        ("T1", catalogue::release_1_1()),
    ] {
        let new = NewAssessment {
            neighbourhood: &hood,
            business: &business,
            release,
            stage,
            coach: Some(&coach),
            language: Lang::De,
        };
        let id: DocumentId = phone
            .create(|actor| AssessmentDoc::create(actor, &ctx(), &new))
            .expect("assessment");
        for (i, q) in release.questions.iter().enumerate() {
            phone
                .edit(&id, |a: &mut AssessmentDoc| match q.kind {
                    QuestionKind::Level => {
                        a.set_level(&ctx(), &q.id, i64::try_from(i % 5).expect("small"))
                    }
                    QuestionKind::Compliance => a.set_compliance(
                        &ctx(),
                        &q.id,
                        ComplianceValue::ALL[i % ComplianceValue::ALL.len()],
                    ),
                })
                .expect("answer");
        }
        last = Some(id);
    }
    let assessment = last.expect("T1");
    phone.wait_synced(Duration::from_secs(120));
    phone.stop();

    let (port, plan_path) = (server.port, format!("/p/{plan}"));
    let results_path = format!("/a/{assessment}/results");
    // Acknowledged on the phone is committed on the server; the directory the web app reads
    // may still be a moment behind the phone's first connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(port, "GET", &results_path, Some(&cookie), None).0 != 200 {
        assert!(Instant::now() < deadline, "the pages open");
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..20 {
        timed(port, &plan_path, &cookie, "Maßnahme 39");
        timed(port, &results_path, &cookie, "id=\"comparison\"");
    }
    let plan_warm: Vec<f64> = (0..REQUESTS)
        .map(|_| timed(port, &plan_path, &cookie, "Maßnahme 39"))
        .collect();
    let results_warm: Vec<f64> = (0..REQUESTS)
        .map(|_| timed(port, &results_path, &cookie, "id=\"comparison\""))
        .collect();
    // Right after an edit: the owner saves a progress note, then the page hydrates afresh.
    let body = http(port, "GET", &plan_path, Some(&cookie), None).2;
    let measure = body
        .split("/measures/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("a measure id")
        .to_owned();
    let mut after_edit = Vec::new();
    for i in 0..AFTER_EDIT {
        let (status, head, _) = http(
            port,
            "POST",
            &format!("/p/{plan}/measures/{measure}/progress"),
            Some(&cookie),
            Some(&format!("progress_note=Stand+{i}")),
        );
        assert_eq!(status, 303, "{head}");
        after_edit.push(timed(port, &plan_path, &cookie, &format!("Stand {i}")));
    }
    let size = body.len();
    // What the page weighs as the server sends it to a browser (gzip, default level).
    let gzipped = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(body.as_bytes()).expect("gzip");
        enc.finish().expect("gzip").len()
    };
    println!(
        "business pages (release server, 2 cores; HTTP/1.1 on loopback, a fresh connection per request)"
    );
    println!(
        "  action plan, {MEASURES} measures ({} KiB HTML, {} KiB gzip)",
        size / 1024,
        gzipped / 1024
    );
    report("action plan, warm", plan_warm);
    report("action plan, right after an edit", after_edit);
    println!("  assessment results with T0 → T1 comparison:");
    report("assessment results, warm", results_warm);
}
