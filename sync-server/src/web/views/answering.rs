//! The assessment in the browser for the coach: the 45-minute core set or the full catalogue
//! by topic area, in the page's language, with applicability, level or compliance answers,
//! relevance, "don't know", "does not apply", notes; concurrent answers to settle; findings
//! and barriers.

use nachbar_core::catalogue::{CatalogueRelease, QuestionKind};
use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::assessment::{AssessmentView, ComplianceValue, FindingKind};

use super::Choice;
use super::results::{Light, light};
use crate::web::i18n_business::BusinessTexts;

/// A concurrent value of an answer to choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concurrent {
    /// The field path for `resolve`.
    pub field: String,
    /// Which part of the answer, in words.
    pub what: String,
    /// The values: (stored value, in words, shown now).
    pub values: Vec<(String, String, bool)>,
}

/// A question with its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionRow {
    /// Question id.
    pub id: String,
    /// Text in the page's language.
    pub text: String,
    /// Hint, if any.
    pub hint: String,
    /// A level question (else compliance).
    pub level_kind: bool,
    /// In the core set.
    pub core: bool,
    /// A critical obligation.
    pub critical: bool,
    /// Applies by the business's facts.
    pub applicable: bool,
    /// Level choices 0–4 (level questions) or yes/partly/no (compliance), current selected.
    pub options: Vec<Choice>,
    /// Relevance choices 1–3.
    pub relevances: Vec<Choice>,
    /// "Don't know".
    pub unknown: bool,
    /// "Does not apply".
    pub not_applicable: bool,
    /// Note.
    pub note: String,
    /// Anything recorded.
    pub answered: bool,
    /// The compliance light.
    pub light: Option<Light>,
    /// Concurrent values to settle.
    pub concurrent: Vec<Concurrent>,
}

/// A topic area with its questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaSection {
    /// Code.
    pub code: String,
    /// Name.
    pub label: String,
    /// Questions.
    pub questions: Vec<QuestionRow>,
}

/// A finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    /// Title.
    pub title: String,
    /// Area and kind in words.
    pub what: String,
    /// Description.
    pub description: String,
}

/// The answering page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerPage {
    /// Stage.
    pub stage: String,
    /// The full catalogue is shown (else the core set).
    pub all: bool,
    /// Areas with their questions (areas without shown questions left out).
    pub areas: Vec<AreaSection>,
    /// "n of m answered" over the shown applicable questions.
    pub progress: String,
    /// Questions with concurrent values (shown first).
    pub conflicts: usize,
    /// Findings.
    pub findings: Vec<FindingRow>,
    /// Areas for a new finding.
    pub area_choices: Vec<Choice>,
    /// Finding kinds.
    pub kinds: Vec<Choice>,
    /// The catalogue's barriers, ticked ones checked.
    pub barriers: Vec<Choice>,
    /// The heads the page shows (answer forms carry them).
    pub heads: String,
}

/// Builds the page of `a` (pinned to `release`) at `heads`; `all` shows every question.
pub fn page(
    a: &AssessmentView,
    release: &CatalogueRelease,
    heads: &[String],
    all: bool,
    lang: Lang,
) -> AnswerPage {
    let t = BusinessTexts::of(lang);
    let levels = [t.level_0, t.level_1, t.level_2, t.level_3, t.level_4];
    let relevances = [t.relevance_1, t.relevance_2, t.relevance_3];
    let mut shown = 0;
    let mut answered = 0;
    let mut conflicts = 0;
    let areas = release
        .areas
        .iter()
        .filter_map(|area| {
            let questions: Vec<QuestionRow> = a
                .items
                .iter()
                .filter(|i| i.area == area.id && (all || i.core))
                .map(|i| {
                    let level_kind = i.kind == QuestionKind::Level;
                    let options = if level_kind {
                        levels
                            .iter()
                            .enumerate()
                            .map(|(n, label)| Choice {
                                code: n.to_string(),
                                label: (*label).to_owned(),
                                selected: i.answer.level == u8::try_from(n).ok(),
                            })
                            .collect()
                    } else {
                        ComplianceValue::ALL
                            .iter()
                            .map(|v| Choice {
                                code: v.code().to_owned(),
                                label: v.label().get(lang).to_owned(),
                                selected: i.answer.value == Some(*v),
                            })
                            .collect()
                    };
                    let concurrent: Vec<Concurrent> = a
                        .needs_review
                        .iter()
                        .filter_map(|n| {
                            let rest = n.field.strip_prefix(&format!("answers/{}/", i.id))?;
                            let label = |v: &str| match rest {
                                "level" => v
                                    .parse::<usize>()
                                    .ok()
                                    .and_then(|l| levels.get(l))
                                    .map_or_else(|| v.to_owned(), |s| (*s).to_owned()),
                                "relevance" => v
                                    .parse::<usize>()
                                    .ok()
                                    .and_then(|r| relevances.get(r.wrapping_sub(1)))
                                    .map_or_else(|| v.to_owned(), |s| (*s).to_owned()),
                                _ => ComplianceValue::parse(v).map_or_else(
                                    |_| v.to_owned(),
                                    |c| c.label().get(lang).to_owned(),
                                ),
                            };
                            let mut values: Vec<(String, String, bool)> = Vec::new();
                            for v in &n.values {
                                if !values.iter().any(|(x, _, _)| x == v) {
                                    values.push((v.clone(), label(v), *v == n.current));
                                }
                            }
                            Some(Concurrent {
                                field: n.field.clone(),
                                what: match rest {
                                    "relevance" => t.relevance,
                                    _ => t.answer,
                                }
                                .to_owned(),
                                values,
                            })
                        })
                        .collect();
                    let counts = i.applicable && !i.answer.not_applicable;
                    if counts {
                        shown += 1;
                        if i.answer.is_answered() {
                            answered += 1;
                        }
                    }
                    if !concurrent.is_empty() {
                        conflicts += 1;
                    }
                    QuestionRow {
                        id: i.id.clone(),
                        text: i.text.get(lang).to_owned(),
                        hint: i
                            .hint
                            .as_ref()
                            .map(|h| h.get(lang).to_owned())
                            .unwrap_or_default(),
                        level_kind,
                        core: i.core,
                        critical: i.critical,
                        applicable: i.applicable,
                        options,
                        relevances: relevances
                            .iter()
                            .enumerate()
                            .map(|(n, label)| Choice {
                                code: (n + 1).to_string(),
                                label: (*label).to_owned(),
                                selected: usize::from(i.answer.relevance) == n + 1,
                            })
                            .collect(),
                        unknown: i.answer.unknown,
                        not_applicable: i.answer.not_applicable,
                        note: i.answer.note.clone(),
                        answered: i.answer.is_answered(),
                        light: i.light.map(|l| light(l, lang)),
                        concurrent,
                    }
                })
                .collect();
            (!questions.is_empty()).then(|| AreaSection {
                code: area.id.clone(),
                label: area.label.get(lang).to_owned(),
                questions,
            })
        })
        .collect();
    let area_name = |code: &str| {
        release
            .area(code)
            .map_or_else(|| code.to_owned(), |a| a.label.get(lang).to_owned())
    };
    AnswerPage {
        stage: a.stage.clone(),
        all,
        areas,
        progress: t
            .answered_count
            .replace("{n}", &answered.to_string())
            .replace("{m}", &shown.to_string()),
        conflicts,
        findings: a
            .findings
            .iter()
            .filter(|f| !f.removal.deleted)
            .map(|f| FindingRow {
                title: f.title.clone(),
                what: format!("{}, {}", area_name(&f.area), f.kind.label().get(lang)),
                description: f.description.clone(),
            })
            .collect(),
        area_choices: release
            .areas
            .iter()
            .map(|ar| Choice {
                code: ar.id.clone(),
                label: format!("{} {}", ar.id, ar.label.get(lang)),
                selected: false,
            })
            .collect(),
        kinds: super::choices(FindingKind::ALL, |k| k.code(), None, lang),
        barriers: release
            .barriers
            .iter()
            .map(|b| Choice {
                code: b.id.clone(),
                label: b.label.get(lang).to_owned(),
                selected: a.barriers.contains(&b.id),
            })
            .collect(),
        heads: heads.join(","),
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use nachbar_core::catalogue;
    use nachbar_core::doc::{EditContext, NachbarDoc};
    use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
    use nachbar_core::time::Timestamp;

    use super::*;

    fn ctx(who: &str) -> EditContext {
        EditContext::new(who, Timestamp(1_767_225_600_000))
    }

    #[test]
    fn the_core_set_shows_22_questions_and_concurrent_answers_offer_both_values() {
        let new = NewAssessment {
            neighbourhood: "n",
            business: "b",
            release: catalogue::release_1_0(),
            stage: "T0",
            coach: Some("coach"),
            language: Lang::De,
        };
        let (mut a, _) = AssessmentDoc::create(ActorId::random(), &ctx("coach"), &new).unwrap();
        let _in_memory = a.set_level(&ctx("coach"), "A1", 2).unwrap();
        let mut other =
            AssessmentDoc::open(NachbarDoc::load(&a.inner().save(), ActorId::random()).unwrap())
                .unwrap();
        let _in_memory = a.set_level(&ctx("coach"), "C2", 1).unwrap();
        let _in_memory = other.set_level(&ctx("owner"), "C2", 3).unwrap();
        a.inner_mut().merge(other.inner_mut()).unwrap();
        let view = a.view().unwrap();
        let p = page(&view, catalogue::release_1_0(), &[], false, Lang::De);
        let questions: usize = p.areas.iter().map(|s| s.questions.len()).sum();
        assert_eq!(questions, 22, "the 45-minute core set");
        assert_eq!(p.progress, "2 von 22 beantwortet");
        assert_eq!(p.conflicts, 1);
        let c2 = p
            .areas
            .iter()
            .flat_map(|s| &s.questions)
            .find(|q| q.id == "C2")
            .unwrap();
        assert_eq!(c2.concurrent.len(), 1);
        let labels: Vec<&str> = c2.concurrent[0]
            .values
            .iter()
            .map(|v| v.1.as_str())
            .collect();
        assert!(labels.contains(&"1 – begonnen") && labels.contains(&"3 – weitgehend umgesetzt"));
        let a1 = p.areas[0].questions.iter().find(|q| q.id == "A1").unwrap();
        assert!(a1.options[2].selected && a1.level_kind);
        let d1 = p
            .areas
            .iter()
            .flat_map(|s| &s.questions)
            .find(|q| q.id == "D1")
            .unwrap();
        assert_eq!(d1.options.len(), 3, "yes, partly, no");
        let full = page(&view, catalogue::release_1_0(), &[], true, Lang::En);
        let all: usize = full.areas.iter().map(|s| s.questions.len()).sum();
        assert_eq!(all, catalogue::release_1_0().questions.len());
        assert!(full.areas.iter().all(|s| !s.label.is_empty()));
    }
}
