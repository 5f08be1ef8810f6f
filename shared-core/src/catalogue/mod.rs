//! The assessment catalogue: topic areas and questions with texts in German and English,
//! applicability rules, critical flags and DMA tags, shipped as data (domain.md §9).
//!
//! Release 1.0 is the catalogue the product ships with; release 1.1 exists to exercise a
//! catalogue upgrade (question B2 split into B2a and B2b, with a migration map). An assessment
//! pins the release it was started with.

mod applicability;
mod document;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::DomainError;

pub(crate) use applicability::applies;
pub use applicability::{BusinessContext, Rule, TurnoverBand};
pub use document::CatalogueDoc;

/// A text in German and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalText {
    /// German.
    pub de: String,
    /// English.
    pub en: String,
}

impl LocalText {
    /// The text in `lang`.
    pub fn get(&self, lang: crate::label::Lang) -> &str {
        match lang {
            crate::label::Lang::De => &self.de,
            crate::label::Lang::En => &self.en,
        }
    }
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Maturity level 0–4 plus relevance 1–3; counts into the area score.
    Level,
    /// Legal obligation: yes / partly / no / unknown / not applicable; shown as a traffic
    /// light, never averaged into maturity.
    Compliance,
}

/// A topic area (A–K in release 1.0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    /// Short code, e.g. `D`.
    pub id: String,
    /// Name.
    pub label: LocalText,
}

/// One question of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Stable id, e.g. `D1`.
    pub id: String,
    /// The area it belongs to.
    pub area: String,
    /// The statement the coach reads out.
    pub text: LocalText,
    /// How it is answered.
    pub kind: QuestionKind,
    /// Part of the 45-minute core set.
    pub core: bool,
    /// A "no" (or level 0) turns the whole area red.
    pub critical: bool,
    /// EU DMA dimensions it maps to.
    #[serde(default)]
    pub dma: Vec<String>,
    /// When it applies; `None` means always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_if: Option<Rule>,
    /// Extra guidance for the coach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<LocalText>,
}

/// A barrier that keeps a business from acting (counted, not scored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarrierDef {
    /// Code stored in assessments, e.g. `money`.
    pub id: String,
    /// Name.
    pub label: LocalText,
}

/// How the questions of the previous release map to this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// The release this one replaces.
    pub from: String,
    /// Question ids of the previous release that were replaced, with their successors here.
    /// Ids not listed carry over unchanged.
    pub successors: BTreeMap<String, Vec<String>>,
}

/// A published catalogue release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueRelease {
    /// Version, e.g. `1.0`.
    pub release: String,
    /// Name of the instrument.
    pub title: LocalText,
    /// Topic areas in display order.
    pub areas: Vec<Area>,
    /// Questions in display order.
    pub questions: Vec<Question>,
    /// The barriers an assessment can record.
    pub barriers: Vec<BarrierDef>,
    /// How it maps from the previous release, if it replaces one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<Migration>,
}

impl CatalogueRelease {
    /// The question `id`.
    ///
    /// # Errors
    /// [`DomainError::UnknownQuestion`].
    pub fn question(&self, id: &str) -> Result<&Question, DomainError> {
        self.questions
            .iter()
            .find(|q| q.id == id)
            .ok_or_else(|| DomainError::UnknownQuestion(id.to_owned()))
    }

    /// The area `id`, if it exists.
    pub fn area(&self, id: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.id == id)
    }

    /// Whether `id` is a barrier code of this release.
    pub fn has_barrier(&self, id: &str) -> bool {
        self.barriers.iter().any(|b| b.id == id)
    }

    /// The questions of the 45-minute core set.
    pub fn core_questions(&self) -> impl Iterator<Item = &Question> {
        self.questions.iter().filter(|q| q.core)
    }

    /// Checks the release for internal consistency: unique ids, known areas, and a migration
    /// map whose successors exist.
    ///
    /// # Errors
    /// [`DomainError::Shape`] naming the first problem.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut seen = std::collections::BTreeSet::new();
        for q in &self.questions {
            if !seen.insert(q.id.as_str()) {
                return Err(DomainError::shape(
                    "questions",
                    format!("duplicate id {}", q.id),
                ));
            }
            if self.area(&q.area).is_none() {
                return Err(DomainError::shape(
                    "questions",
                    format!("{} has unknown area {}", q.id, q.area),
                ));
            }
        }
        if let Some(m) = &self.migration {
            for succ in m.successors.values().flatten() {
                self.question(succ)?;
            }
        }
        Ok(())
    }
}

fn parse_builtin(json: &str) -> CatalogueRelease {
    // The shipped data is checked by the unit tests below; a broken file is a build defect.
    #[allow(clippy::expect_used)]
    serde_json::from_str(json).expect("shipped catalogue data is valid")
}

/// Release 1.0, shipped with the app.
pub fn release_1_0() -> &'static CatalogueRelease {
    static RELEASE: OnceLock<CatalogueRelease> = OnceLock::new();
    RELEASE.get_or_init(|| parse_builtin(include_str!("data/release-1.0.json")))
}

/// Release 1.1: the test release that splits B2 into B2a and B2b (scenario 9).
pub fn release_1_1() -> &'static CatalogueRelease {
    static RELEASE: OnceLock<CatalogueRelease> = OnceLock::new();
    RELEASE.get_or_init(|| parse_builtin(include_str!("data/release-1.1.json")))
}

/// The releases built into this app, oldest first.
pub fn builtin_releases() -> [&'static CatalogueRelease; 2] {
    [release_1_0(), release_1_1()]
}

/// A built-in release by version.
///
/// # Errors
/// [`DomainError::UnknownRelease`].
pub fn builtin(release: &str) -> Result<&'static CatalogueRelease, DomainError> {
    builtin_releases()
        .into_iter()
        .find(|r| r.release == release)
        .ok_or_else(|| DomainError::UnknownRelease(release.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_1_0_has_eleven_areas_and_twenty_two_core_items() {
        let r = release_1_0();
        r.validate().unwrap();
        assert_eq!(r.areas.len(), 11);
        let core: Vec<&str> = r.core_questions().map(|q| q.id.as_str()).collect();
        assert_eq!(
            core,
            [
                "A1", "A2", "B1", "B2", "C1", "C2", "C3", "D1", "D2", "D4", "E1", "E4", "F1", "F2",
                "F4", "G1", "G2", "G3", "G5", "H1", "H4", "I1"
            ]
        );
        let critical: Vec<&str> = r
            .questions
            .iter()
            .filter(|q| q.critical)
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(critical, ["D1", "G1"]);
        assert!(
            r.questions
                .iter()
                .all(|q| !q.text.de.is_empty() && !q.text.en.is_empty())
        );
        assert_eq!(r.question("D1").unwrap().kind, QuestionKind::Compliance);
        assert_eq!(r.question("A1").unwrap().dma, ["strategy"]);
        assert!(r.question("K1").unwrap().applies_if.is_some());
        assert_eq!(r.barriers.len(), 7);
    }

    #[test]
    fn release_1_1_splits_b2_with_a_migration_map() {
        let r = release_1_1();
        r.validate().unwrap();
        assert!(r.question("B2").is_err());
        assert!(r.question("B2a").is_ok() && r.question("B2b").is_ok());
        let m = r.migration.as_ref().unwrap();
        assert_eq!(m.from, "1.0");
        assert_eq!(m.successors["B2"], ["B2a", "B2b"]);
    }

    #[test]
    fn unknown_release_is_an_error() {
        assert!(matches!(
            builtin("9.9"),
            Err(DomainError::UnknownRelease(_))
        ));
        assert_eq!(builtin("1.1").unwrap().release, "1.1");
    }
}
