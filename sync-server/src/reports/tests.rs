//! The reports rendered for real: typst compiles them, the PDF/UA-1 export check passes, and
//! Debian's `pdftotext` reads back the measures, the umlauts, the sign-off lines and the page
//! numbers. Pages are also rendered to PNG under `target/report-pages/` for review.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use automerge::ActorId;
use nachbar_core::catalogue;
use nachbar_core::doc::EditContext;
use nachbar_core::label::Lang;
use nachbar_core::model::SignOffRole;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasureStatus, NewMeasure};
use nachbar_core::model::assessment::{AssessmentDoc, ComplianceValue, NewAssessment};
use nachbar_core::time::Timestamp;

use super::{Report, ReportError, ReportMeta, render};
use crate::web::views::plan::{PlanContext, PlanPage, Viewer, page};
use crate::web::views::signers::Signers;

/// The text `pdftotext` reads from `pdf` in reading order, every run of white space (line
/// breaks inside a table cell too) as one space; `None` (after printing SKIPPED) when
/// poppler-utils is not installed.
pub(crate) fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).ok()?;
    match Command::new("pdftotext").arg(&path).arg("-").output() {
        Ok(out) if out.status.success() => Some(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Ok(out) => panic!("pdftotext failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => {
            println!("SKIPPED: pdftotext (poppler-utils) is not installed");
            None
        }
    }
}

/// The number of pages `pdfinfo` counts in `pdf` (`None` without poppler-utils).
pub(crate) fn pdf_pages(pdf: &[u8]) -> Option<usize> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).ok()?;
    let out = Command::new("pdfinfo").arg(&path).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
}

/// Renders `pdf`'s pages as PNG into `target/report-pages/<name>-N.png` for review.
pub(crate) fn keep_pages(pdf: &[u8], name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/report-pages");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let file = dir.join(format!("{name}.pdf"));
    if std::fs::write(&file, pdf).is_ok() {
        let _ignored = Command::new("pdftoppm")
            .args(["-png", "-r", "60"])
            .arg(&file)
            .arg(dir.join(name))
            .status();
    }
}

fn ctx(who: &str, t: i64) -> EditContext {
    EditContext::new(who, Timestamp(1_767_225_600_000 + t))
}

fn meta(lang: Lang, history: bool) -> ReportMeta {
    ReportMeta {
        lang,
        title: "Maßnahmenplan: Glaserei Süß & Söhne".to_owned(),
        now_ms: 1_796_300_000_000,
        history,
    }
}

/// A plan of `n` measures of the glazier, one goal, a status change with a note, signed off
/// by the owner and the coach.
fn plan_of(n: usize, first_title: &str) -> ActionPlanDoc {
    let (mut plan, _) =
        ActionPlanDoc::create(ActorId::random(), &ctx("coach", 0), "n", "b").unwrap();
    let (goal, _) = plan
        .add_goal(
            &ctx("coach", 1),
            "Weniger Papier im Büro",
            "Alle Rechnungen elektronisch",
            Some("2027-06-30"),
        )
        .unwrap();
    for i in 0..n {
        let title = if i == 0 {
            first_title.to_owned()
        } else {
            format!("Maßnahme Nr. {i:02} für Jürgen Öztürk")
        };
        let new = NewMeasure {
            title,
            description: "Straße, Größe, Übergabe".to_owned(),
            goal: Some(goal.clone()),
            owner: Some("owner-1".to_owned()),
            due: Some("2027-03-31".to_owned()),
            impact: Some(4),
            effort_score: Some(2),
            ..NewMeasure::default()
        };
        let (id, _) = plan.add_measure(&ctx("coach", 2), &new).unwrap();
        if i == 0 {
            let _in_memory = plan
                .set_measure_status(
                    &ctx("owner-1", 3),
                    &id,
                    MeasureStatus::InProgress,
                    "Anbieter beauftragt",
                )
                .unwrap();
        }
    }
    let _in_memory = plan
        .sign_off(&ctx("owner-1", 4), SignOffRole::Owner)
        .unwrap();
    let _in_memory = plan.sign_off(&ctx("coach", 5), SignOffRole::Coach).unwrap();
    plan
}

fn plan_page(plan: &ActionPlanDoc, lang: Lang) -> PlanPage {
    let names = BTreeMap::from([
        ("owner-1".to_owned(), "Änne Weiß".to_owned()),
        ("coach".to_owned(), "Ömer Şahin".to_owned()),
    ]);
    let people = vec![("owner-1".to_owned(), "Änne Weiß".to_owned())];
    let (owners, coaches) = (vec!["owner-1".to_owned()], vec!["coach".to_owned()]);
    let heads: Vec<String> = plan.inner().heads().iter().map(|h| h.to_string()).collect();
    page(
        &plan.view().unwrap(),
        &heads,
        &PlanContext {
            business: "Glaserei Süß & Söhne",
            names: &names,
            people: &people,
            findings: &[],
            signers: Signers {
                owners: &owners,
                coaches: &coaches,
            },
            today: "2026-12-03",
            viewer: Viewer {
                writable: false,
                signs_as: None,
            },
            lang,
        },
    )
}

#[test]
fn the_plan_pdf_has_every_measure_the_umlauts_the_sign_offs_and_page_numbers() {
    let plan = plan_of(40, "E-Rechnung in der Branchensoftware");
    for lang in [Lang::De, Lang::En] {
        let p = plan_page(&plan, lang);
        let pdf = render(Report::Plan, &meta(lang, false), &p).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        keep_pages(
            &pdf,
            &format!("plan-{}", crate::web::i18n::Texts::of(lang).lang_code),
        );
        let Some(text) = pdf_text(&pdf) else { return };
        let pages = pdf_pages(&pdf).unwrap();
        assert!(
            pages >= 2,
            "40 measures fill more than one page, got {pages}"
        );
        assert!(text.contains("Glaserei Süß & Söhne"), "{text}");
        assert!(text.contains("Änne Weiß"));
        assert!(text.contains("E-Rechnung in der Branchensoftware"));
        for i in 1..40 {
            assert!(
                text.contains(&format!("Maßnahme Nr. {i:02} für Jürgen Öztürk")),
                "measure {i} missing"
            );
        }
        let (page_word, of, signed, agreed) = match lang {
            Lang::De => ("Seite", "von", "Zugestimmt am", "Vereinbart"),
            Lang::En => ("Page", "of", "Signed off on", "Agreed"),
        };
        assert!(
            text.contains(&format!("{page_word} 1 {of} {pages}")),
            "{text}"
        );
        assert!(text.contains(&format!("{page_word} {pages} {of} {pages}")));
        assert!(text.contains(signed), "{text}");
        assert!(text.contains("Ömer Şahin"));
        assert!(text.contains(agreed));
        // The header row repeats on every page of the measures table.
        let header = match lang {
            Lang::De => "Verantwortlich",
            Lang::En => "Owner",
        };
        assert!(text.matches(header).count() >= pages.min(2), "{text}");
        // The history only on request.
        assert!(!text.contains("Anbieter beauftragt"));
    }
}

#[test]
fn the_history_is_in_the_plan_pdf_on_request_and_a_change_after_sign_off_shows() {
    let mut plan = plan_of(2, "Datensicherung testen");
    let (id, _) = plan
        .add_measure(
            &ctx("coach", 9),
            &NewMeasure {
                title: "Später ergänzt".to_owned(),
                ..NewMeasure::default()
            },
        )
        .unwrap();
    assert!(!id.is_empty());
    let p = plan_page(&plan, Lang::De);
    let pdf = render(Report::Plan, &meta(Lang::De, true), &p).unwrap();
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(text.contains("Anbieter beauftragt"), "{text}");
    assert!(text.contains("Seit der Zustimmung geändert"), "{text}");
    assert!(text.contains("seitdem geändert"), "{text}");
}

#[test]
fn typst_markup_in_user_text_is_printed_as_written() {
    let hostile = r#"#panic("boom") *fett* $x^2$ <label> @ref \ ] ) } // /* = Titel"#;
    let plan = plan_of(1, hostile);
    let p = plan_page(&plan, Lang::De);
    let pdf = render(Report::Plan, &meta(Lang::De, false), &p).unwrap();
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(
        text.contains(r#"#panic("boom") *fett* $x^2$ <label> @ref \ ]"#),
        "{text}"
    );
}

#[test]
fn the_assessment_pdf_has_scores_lights_the_chart_and_the_findings() {
    let new = NewAssessment {
        neighbourhood: "n",
        business: "b",
        release: catalogue::release_1_0(),
        stage: "T0",
        coach: Some("coach"),
        language: Lang::De,
    };
    let (mut a, _) = AssessmentDoc::create(ActorId::random(), &ctx("coach", 0), &new).unwrap();
    for (q, level) in [("A1", 1), ("A2", 3), ("B1", 0), ("B2", 4)] {
        let _in_memory = a.set_level(&ctx("coach", 1), q, level).unwrap();
    }
    let _in_memory = a
        .set_compliance(&ctx("coach", 2), "D1", ComplianceValue::No)
        .unwrap();
    let view = a.view().unwrap();
    let signers = Signers {
        owners: &[],
        coaches: &[],
    };
    for lang in [Lang::De, Lang::En] {
        let r = crate::web::views::results::page(&view, None, &signers, lang);
        let m = ReportMeta {
            lang,
            title: "Ergebnis: Glaserei Süß & Söhne (T0)".to_owned(),
            now_ms: 1_796_300_000_000,
            history: false,
        };
        let pdf = render(Report::Assessment, &m, &r).unwrap();
        keep_pages(
            &pdf,
            &format!("results-{}", crate::web::i18n::Texts::of(lang).lang_code),
        );
        let Some(text) = pdf_text(&pdf) else { return };
        // pdftotext joins a word hyphenated at a line end ("e-" + "invoicing").
        let unhyphenated = text.replace('-', "");
        for area in &r.areas {
            assert!(
                unhyphenated.contains(&area.label.replace('-', "")),
                "{} missing: {text}",
                area.label
            );
        }
        assert!(text.contains(&r.release));
        let d1 = view.items.iter().find(|i| i.id == "D1").unwrap();
        assert!(text.contains(&d1.text.get(lang)[..20]), "{text}");
        let light = match lang {
            Lang::De => "Pflichten-Ampel",
            Lang::En => "Compliance traffic light",
        };
        assert!(text.contains(light));
    }
}

#[test]
fn long_texts_are_cut_and_too_much_data_is_refused_before_typesetting() {
    let long = "ä".repeat(crate::reports::sanitize::MAX_TEXT_CHARS + 100);
    let some: Vec<&str> = vec![long.as_str(); 200];
    let json = crate::reports::input(&meta(Lang::De, false), &some).expect("fits");
    assert!(!json.contains(&long), "every text is cut");
    assert_eq!(json.matches("ä…").count(), 200);
    let too_many: Vec<&str> = vec![long.as_str(); 800];
    match crate::reports::input(&meta(Lang::De, false), &too_many) {
        Err(ReportError::TooLarge { bytes, limit }) => assert!(bytes > limit),
        other => panic!("expected TooLarge, got {:?}", other.map(|j| j.len())),
    }
}
