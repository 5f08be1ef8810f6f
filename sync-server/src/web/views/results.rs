//! An assessment's results: area scores with indicative DMA bands, the compliance traffic
//! light with its critical items, priority gaps, the radar chart, what is still to clarify,
//! and the T0 → T1 comparison (through the later catalogue's migration map).

use nachbar_core::catalogue::QuestionKind;
use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::assessment::{AssessmentView, Comparison, TrafficLight};

use super::date;
use super::radar::{Radar, radar};
use super::signers::Signers;
use crate::web::i18n_business::BusinessTexts;

/// How many priority gaps the page lists.
pub const GAPS_SHOWN: usize = 10;

/// A traffic light: class, symbol and words (never colour alone).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Light {
    /// Code (CSS class `light-<code>`).
    pub code: String,
    /// Symbol.
    pub symbol: &'static str,
    /// In words.
    pub label: String,
}

/// The light `l` for the page.
pub fn light(l: TrafficLight, lang: Lang) -> Light {
    Light {
        code: l.code().to_owned(),
        symbol: match l {
            TrafficLight::Green => "✓",
            TrafficLight::Grey => "?",
            TrafficLight::Amber => "!",
            TrafficLight::Red => "✗",
        },
        label: l.label().get(lang).to_owned(),
    }
}

/// A topic area row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AreaRow {
    /// Code.
    pub code: String,
    /// Name.
    pub label: String,
    /// Score 0–100 ("–" when none).
    pub score: String,
    /// Band in words ("" when none).
    pub band: String,
    /// "answered / items".
    pub answered: String,
    /// The compliance light, if the area has obligations.
    pub light: Option<Light>,
    /// A critical item failed.
    pub critical_failed: bool,
}

/// A compliance item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ComplianceRow {
    /// Question id.
    pub id: String,
    /// Question text.
    pub text: String,
    /// Critical item.
    pub critical: bool,
    /// Its light.
    pub light: Light,
}

/// A priority gap.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GapRow {
    /// Question id.
    pub id: String,
    /// Question text.
    pub text: String,
    /// Area name.
    pub area: String,
    /// Gap 0–12.
    pub gap: u8,
    /// Level 0–4.
    pub level: u8,
    /// Relevance 1–3.
    pub relevance: u8,
}

/// A comparison row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeRow {
    /// Question id (and the earlier one when it was renamed).
    pub id: String,
    /// Question text.
    pub text: String,
    /// Before, in words.
    pub before: String,
    /// After, in words.
    pub after: String,
    /// Change, in words ("+2", "–", or "not comparable").
    pub change: String,
}

/// The comparison with the earlier assessment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ComparisonView {
    /// Caption.
    pub caption: String,
    /// Rows of answered questions.
    pub rows: Vec<ChangeRow>,
    /// Overall change in words.
    pub overall: String,
}

/// The results page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResultsPage {
    /// Stage (T0, T1).
    pub stage: String,
    /// Date in words.
    pub date: String,
    /// Catalogue release.
    pub release: String,
    /// Status in words.
    pub status: String,
    /// Areas in catalogue order.
    pub areas: Vec<AreaRow>,
    /// Overall score ("–" when none).
    pub overall: String,
    /// Overall band.
    pub overall_band: String,
    /// Compliance items (applicable ones).
    pub compliance: Vec<ComplianceRow>,
    /// Texts of the critical items that failed.
    pub critical_failed: Vec<String>,
    /// The largest gaps.
    pub gaps: Vec<GapRow>,
    /// The chart.
    pub radar: Radar,
    /// The chart's text alternative.
    pub radar_desc: String,
    /// The chart as SVG markup (the page and the PDF show the same).
    pub radar_svg: String,
    /// Questions answered "don't know".
    pub to_clarify: Vec<String>,
    /// The findings: (record id, title).
    pub findings: Vec<(String, String)>,
    /// The comparison, when there is an earlier assessment.
    pub comparison: Option<ComparisonView>,
}

fn score_text(s: Option<f64>, lang: Lang) -> String {
    s.map_or_else(
        || "–".to_owned(),
        |v| {
            let rounded = (v * 10.0).round() / 10.0;
            let text = if rounded.fract() == 0.0 {
                format!("{rounded:.0}")
            } else {
                format!("{rounded:.1}")
            };
            if lang == Lang::De {
                text.replace('.', ",")
            } else {
                text
            }
        },
    )
}

fn text_of(a: &AssessmentView, id: &str, lang: Lang) -> String {
    a.items
        .iter()
        .find(|i| i.id == id)
        .map_or_else(|| id.to_owned(), |i| i.text.get(lang).to_owned())
}

/// Builds the results of `a`; `before` is the earlier assessment's stage with the comparison,
/// if there is an earlier one.
pub fn page(
    a: &AssessmentView,
    before: Option<(&str, &Comparison)>,
    signers: &Signers<'_>,
    lang: Lang,
) -> ResultsPage {
    let t = BusinessTexts::of(lang);
    let areas: Vec<AreaRow> = a
        .scores
        .areas
        .iter()
        .map(|s| AreaRow {
            code: s.area.clone(),
            label: s.label.get(lang).to_owned(),
            score: score_text(s.score, lang),
            band: s
                .band
                .map(|b| b.label().get(lang).to_owned())
                .unwrap_or_default(),
            answered: format!("{} / {}", s.answered, s.level_items),
            light: s.compliance.map(|l| light(l, lang)),
            critical_failed: s.critical_failed,
        })
        .collect();
    let compliance: Vec<ComplianceRow> = a
        .items
        .iter()
        .filter(|i| i.kind == QuestionKind::Compliance)
        .filter_map(|i| {
            i.light.map(|l| ComplianceRow {
                id: i.id.clone(),
                text: i.text.get(lang).to_owned(),
                critical: i.critical,
                light: light(l, lang),
            })
        })
        .collect();
    let critical_failed = a
        .items
        .iter()
        .filter(|i| i.critical && i.light == Some(TrafficLight::Red))
        .map(|i| format!("{} {}", i.id, i.text.get(lang)))
        .collect();
    let area_name = |code: &str| {
        a.scores
            .areas
            .iter()
            .find(|s| s.area == code)
            .map_or_else(|| code.to_owned(), |s| s.label.get(lang).to_owned())
    };
    let gaps = a
        .priority_gaps
        .iter()
        .filter(|g| g.gap > 0)
        .take(GAPS_SHOWN)
        .map(|g| GapRow {
            id: g.question.clone(),
            text: text_of(a, &g.question, lang),
            area: area_name(&g.area),
            gap: g.gap,
            level: g.level,
            relevance: g.relevance,
        })
        .collect();
    let scores: Vec<(String, Option<f64>)> = a
        .scores
        .areas
        .iter()
        .map(|s| (s.area.clone(), s.score))
        .collect();
    let radar_desc = format!(
        "{} {}",
        t.radar_desc,
        areas
            .iter()
            .map(|r| {
                let value = if r.score == "–" {
                    t.no_score.to_owned()
                } else {
                    r.score.clone()
                };
                format!("{} {}: {value}", r.code, r.label)
            })
            .collect::<Vec<_>>()
            .join("; ")
    );
    let radar = radar(&scores);
    let radar_svg = radar.svg(t.radar, &radar_desc);
    ResultsPage {
        stage: a.stage.clone(),
        date: a.date.as_deref().map(|d| date(d, lang)).unwrap_or_default(),
        release: a.catalogue_release.clone(),
        status: signers
            .status(a.status, &a.sign_offs)
            .label()
            .get(lang)
            .to_owned(),
        overall: score_text(a.scores.overall, lang),
        overall_band: a
            .scores
            .overall_band
            .map(|b| b.label().get(lang).to_owned())
            .unwrap_or_default(),
        areas,
        compliance,
        critical_failed,
        gaps,
        radar,
        radar_desc,
        radar_svg,
        to_clarify: a.to_clarify.iter().map(|q| text_of(a, q, lang)).collect(),
        findings: a
            .findings
            .iter()
            .filter(|f| !f.removal.deleted)
            .map(|f| (f.id.clone(), f.title.clone()))
            .collect(),
        comparison: before.map(|(stage, c)| comparison(a, stage, c, lang)),
    }
}

fn comparison(
    a: &AssessmentView,
    stage_before: &str,
    c: &Comparison,
    lang: Lang,
) -> ComparisonView {
    let t = BusinessTexts::of(lang);
    let value = |level: Option<u8>, v: Option<nachbar_core::model::assessment::ComplianceValue>| {
        level
            .map(|l| l.to_string())
            .or_else(|| v.map(|v| v.label().get(lang).to_owned()))
            .unwrap_or_else(|| "–".to_owned())
    };
    let rows = c
        .rows
        .iter()
        .filter(|r| {
            r.level_after.is_some()
                || r.value_after.is_some()
                || r.level_before.is_some()
                || r.value_before.is_some()
        })
        .map(|r| ChangeRow {
            id: match &r.previous {
                Some(p) if *p != r.question => format!("{} ← {p}", r.question),
                _ => r.question.clone(),
            },
            text: text_of(a, &r.question, lang),
            before: value(r.level_before, r.value_before),
            after: value(r.level_after, r.value_after),
            change: if !r.comparable {
                t.not_comparable.to_owned()
            } else {
                r.level_delta
                    .map_or_else(|| "–".to_owned(), |d| format!("{d:+}"))
            },
        })
        .collect();
    ComparisonView {
        caption: t
            .comparison_caption
            .replace(
                "{before}",
                &format!(
                    "{stage_before} ({} {})",
                    t.catalogue_release, c.release_before
                ),
            )
            .replace(
                "{after}",
                &format!("{} ({} {})", a.stage, t.catalogue_release, c.release_after),
            ),
        rows,
        overall: c.overall_delta.map_or_else(
            || "–".to_owned(),
            |d| {
                let s = score_text(Some(d.abs()), lang);
                if s == "0" {
                    "±0".to_owned()
                } else if d < 0.0 {
                    format!("−{s}")
                } else {
                    format!("+{s}")
                }
            },
        ),
    }
}

#[cfg(test)]
#[path = "results_tests.rs"]
mod tests;
