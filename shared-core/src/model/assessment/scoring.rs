//! Scores derived on read (domain.md §8.5): area and overall maturity, the compliance traffic
//! light with critical items, and priority gaps.

use serde::{Deserialize, Serialize};

use crate::catalogue::{CatalogueRelease, LocalText, QuestionKind};
use crate::label::coded_enum;

use super::answer::ComplianceValue;
use super::view::AssessmentItem;

coded_enum! {
    /// Indicative DMA-style maturity band (not an official DMA score).
    Band, "band" {
        /// 0–25.
        Basic = "basic", "Grundlegend", "Basic";
        /// 26–50.
        Average = "average", "Durchschnittlich", "Average";
        /// 51–75.
        ModeratelyAdvanced = "moderately_advanced", "Fortgeschritten", "Moderately advanced";
        /// 76–100.
        Advanced = "advanced", "Weit fortgeschritten", "Advanced";
    }
}

impl Band {
    /// The band of a score 0–100.
    pub fn of(score: f64) -> Band {
        if score <= 25.0 {
            Band::Basic
        } else if score <= 50.0 {
            Band::Average
        } else if score <= 75.0 {
            Band::ModeratelyAdvanced
        } else {
            Band::Advanced
        }
    }
}

coded_enum! {
    /// The compliance traffic light ("Pflichten-Ampel").
    TrafficLight, "traffic light" {
        /// Fulfilled.
        Green = "green", "grün", "green";
        /// Not known yet.
        Grey = "grey", "grau", "grey";
        /// Partly fulfilled.
        Amber = "amber", "gelb", "amber";
        /// Not fulfilled.
        Red = "red", "rot", "red";
    }
}

/// The maturity and compliance of one topic area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaScore {
    /// Area code.
    pub area: String,
    /// Area name.
    pub label: LocalText,
    /// 100 × Σ levels / (4 × answered applicable level items); `None` before any answer.
    pub score: Option<f64>,
    /// Band of the score.
    pub band: Option<Band>,
    /// Applicable level items.
    pub level_items: u32,
    /// Of those, answered (a level or "don't know").
    pub answered: u32,
    /// Worst compliance light of the area's obligations; red as well when a critical item
    /// fails. `None` when the area has neither.
    pub compliance: Option<TrafficLight>,
    /// A critical item of this area failed.
    pub critical_failed: bool,
}

/// Scores of a whole assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Per area, in catalogue order.
    pub areas: Vec<AreaScore>,
    /// Mean of the area scores that have one.
    pub overall: Option<f64>,
    /// Band of the overall score.
    pub overall_band: Option<Band>,
}

/// A question ranked by how much improving it matters: (4 − level) × relevance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityGap {
    /// Question id.
    pub question: String,
    /// Area code.
    pub area: String,
    /// The gap, 0–12.
    pub gap: u8,
    /// The level (0 for "don't know").
    pub level: u8,
    /// The relevance.
    pub relevance: u8,
}

/// The compliance light of one answered (or open) compliance item.
pub(crate) fn light(item: &AssessmentItem) -> Option<TrafficLight> {
    if !item.applicable || item.answer.not_applicable {
        return None;
    }
    match item.kind {
        QuestionKind::Compliance => Some(match (item.answer.unknown, item.answer.value) {
            (true, _) | (false, None) => TrafficLight::Grey,
            (false, Some(ComplianceValue::Yes)) => TrafficLight::Green,
            (false, Some(ComplianceValue::Partly)) => TrafficLight::Amber,
            (false, Some(ComplianceValue::No)) => TrafficLight::Red,
        }),
        QuestionKind::Level => None,
    }
}

fn critical_failed(item: &AssessmentItem) -> bool {
    item.critical
        && item.applicable
        && !item.answer.not_applicable
        && match item.kind {
            QuestionKind::Compliance => item.answer.value == Some(ComplianceValue::No),
            QuestionKind::Level => item.answer.level == Some(0),
        }
}

/// Level-item contribution: `Some(level)` when answered, 0 for "don't know", `None` when it
/// does not count.
fn counted_level(item: &AssessmentItem) -> Option<u8> {
    if item.kind != QuestionKind::Level || !item.applicable || item.answer.not_applicable {
        return None;
    }
    if item.answer.unknown {
        Some(0)
    } else {
        item.answer.level
    }
}

/// Computes the scores of `items` (the assessment's questions in catalogue order).
pub(crate) fn scores(release: &CatalogueRelease, items: &[AssessmentItem]) -> Scores {
    let mut areas = Vec::with_capacity(release.areas.len());
    for area in &release.areas {
        let in_area: Vec<&AssessmentItem> = items.iter().filter(|i| i.area == area.id).collect();
        let level_items = in_area
            .iter()
            .filter(|i| i.kind == QuestionKind::Level && i.applicable && !i.answer.not_applicable)
            .count();
        let levels: Vec<u8> = in_area.iter().filter_map(|i| counted_level(i)).collect();
        let score = (!levels.is_empty()).then(|| {
            let sum: u32 = levels.iter().map(|l| u32::from(*l)).sum();
            100.0 * f64::from(sum) / (4.0 * levels.len() as f64)
        });
        let critical = in_area.iter().any(|i| critical_failed(i));
        let worst = in_area.iter().filter_map(|i| light(i)).max();
        let compliance = if critical {
            Some(TrafficLight::Red)
        } else {
            worst
        };
        areas.push(AreaScore {
            area: area.id.clone(),
            label: area.label.clone(),
            score,
            band: score.map(Band::of),
            level_items: u32::try_from(level_items).unwrap_or(u32::MAX),
            answered: u32::try_from(levels.len()).unwrap_or(u32::MAX),
            compliance,
            critical_failed: critical,
        });
    }
    let scored: Vec<f64> = areas.iter().filter_map(|a| a.score).collect();
    let overall = (!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64);
    Scores {
        areas,
        overall,
        overall_band: overall.map(Band::of),
    }
}

/// Level items ranked by priority gap, largest first (ties in catalogue order).
pub(crate) fn priority_gaps(items: &[AssessmentItem]) -> Vec<PriorityGap> {
    let mut gaps: Vec<PriorityGap> = items
        .iter()
        .filter_map(|i| {
            let level = counted_level(i)?;
            Some(PriorityGap {
                question: i.id.clone(),
                area: i.area.clone(),
                gap: (4 - level) * i.answer.relevance,
                level,
                relevance: i.answer.relevance,
            })
        })
        .filter(|g| g.gap > 0)
        .collect();
    gaps.sort_by_key(|g| std::cmp::Reverse(g.gap));
    gaps
}
