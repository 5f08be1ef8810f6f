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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{self, BusinessContext};
    use crate::model::assessment::answer::Answer;

    fn items(answers: &[(&str, Answer)], ctx: &BusinessContext) -> Vec<AssessmentItem> {
        catalogue::release_1_0()
            .questions
            .iter()
            .map(|q| {
                let answer = answers
                    .iter()
                    .find(|(id, _)| *id == q.id)
                    .map(|(_, a)| a.clone())
                    .unwrap_or(Answer {
                        relevance: 2,
                        ..Answer::default()
                    });
                let mut item = AssessmentItem {
                    id: q.id.clone(),
                    area: q.area.clone(),
                    text: q.text.clone(),
                    kind: q.kind,
                    core: q.core,
                    critical: q.critical,
                    applicable: crate::catalogue::applies(q.applies_if.as_ref(), ctx),
                    hint: None,
                    answer,
                    light: None,
                };
                item.light = light(&item);
                item
            })
            .collect()
    }

    fn level(l: u8, relevance: u8) -> Answer {
        Answer {
            level: Some(l),
            relevance,
            ..Answer::default()
        }
    }

    fn value(v: ComplianceValue) -> Answer {
        Answer {
            value: Some(v),
            relevance: 2,
            ..Answer::default()
        }
    }

    #[test]
    fn area_score_counts_answered_applicable_levels_and_unknown_as_zero() {
        let na = Answer {
            not_applicable: true,
            level: Some(0),
            relevance: 2,
            ..Answer::default()
        };
        let unknown = Answer {
            unknown: true,
            relevance: 3,
            ..Answer::default()
        };
        let items = items(
            &[
                ("A1", level(4, 2)),
                ("A2", level(2, 2)),
                ("A3", na),
                ("A4", unknown),
            ],
            &BusinessContext::default(),
        );
        let s = scores(catalogue::release_1_0(), &items);
        let a = s.areas.iter().find(|a| a.area == "A").unwrap();
        // (4 + 2 + 0) / (4 × 3): A3 is not applicable, A4 "don't know" counts 0.
        assert_eq!(a.score, Some(50.0));
        assert_eq!(a.band, Some(Band::Average));
        assert_eq!((a.level_items, a.answered), (3, 3));
        // Only area A has answers, so it alone makes the overall score.
        assert_eq!(s.overall, Some(50.0));
        let gaps = priority_gaps(&items);
        assert_eq!(gaps[0].question, "A4", "(4 − 0) × 3 = 12 ranks first");
        assert_eq!(gaps[0].gap, 12);
        assert!(gaps.iter().all(|g| g.question != "A1"), "no gap at level 4");
    }

    #[test]
    fn critical_items_turn_their_area_red() {
        let items1 = items(
            &[
                ("D1", value(ComplianceValue::No)),
                ("D2", value(ComplianceValue::Yes)),
            ],
            &BusinessContext::default(),
        );
        let s = scores(catalogue::release_1_0(), &items1);
        let d = s.areas.iter().find(|a| a.area == "D").unwrap();
        assert!(d.critical_failed);
        assert_eq!(d.compliance, Some(TrafficLight::Red));
        // G1 is a critical level item: level 0 fails it, even with other items green.
        let items2 = items(
            &[("G1", level(0, 2)), ("G2", level(4, 2))],
            &BusinessContext::default(),
        );
        let g = scores(catalogue::release_1_0(), &items2)
            .areas
            .into_iter()
            .find(|a| a.area == "G")
            .unwrap();
        assert!(g.critical_failed && g.compliance == Some(TrafficLight::Red));
        assert_eq!(g.score, Some(50.0));
        // Partly and open obligations: amber beats grey, no red.
        let items3 = items(
            &[
                ("E1", value(ComplianceValue::Partly)),
                ("E2", value(ComplianceValue::Yes)),
            ],
            &BusinessContext::default(),
        );
        let e = scores(catalogue::release_1_0(), &items3)
            .areas
            .into_iter()
            .find(|a| a.area == "E")
            .unwrap();
        assert_eq!(e.compliance, Some(TrafficLight::Amber));
    }

    #[test]
    fn inapplicable_questions_leave_the_scores() {
        let small = BusinessContext {
            staff_count: Some(12),
            uses_ai: Some(false),
            ..BusinessContext::default()
        };
        let items = items(
            &[
                ("K1", value(ComplianceValue::No)),
                ("H5", value(ComplianceValue::No)),
            ],
            &small,
        );
        let k1 = items.iter().find(|i| i.id == "K1").unwrap();
        assert!(!k1.applicable && k1.light.is_none());
        let s = scores(catalogue::release_1_0(), &items);
        let h = s.areas.iter().find(|a| a.area == "H").unwrap();
        assert_ne!(
            h.compliance,
            Some(TrafficLight::Red),
            "H5 does not apply without AI tools"
        );
        assert_eq!(Band::of(25.0), Band::Basic);
        assert_eq!(Band::of(75.1), Band::Advanced);
    }
}
