//! Comparing two assessments of one business (T0 → T1), across catalogue releases through the
//! newer release's migration map.

use serde::{Deserialize, Serialize};

use crate::catalogue::CatalogueRelease;

use super::answer::ComplianceValue;
use super::view::AssessmentView;

/// One question of the later assessment next to its predecessor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// Question id in the later assessment.
    pub question: String,
    /// The question id it continues in the earlier assessment, if any.
    pub previous: Option<String>,
    /// Level before (level questions).
    pub level_before: Option<u8>,
    /// Level after.
    pub level_after: Option<u8>,
    /// Compliance value before.
    pub value_before: Option<ComplianceValue>,
    /// Compliance value after.
    pub value_after: Option<ComplianceValue>,
    /// The earlier question was split or merged: the values are not directly comparable.
    pub comparable: bool,
    /// Level change, when comparable and both levels are known.
    pub level_delta: Option<i8>,
}

/// Area score changes and per-question rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Release of the earlier assessment.
    pub release_before: String,
    /// Release of the later assessment.
    pub release_after: String,
    /// Per question of the later release.
    pub rows: Vec<ComparisonRow>,
    /// Overall score change, when both have one.
    pub overall_delta: Option<f64>,
}

/// Compares `before` with `after`; `after_release` is the later assessment's release (its
/// migration map names questions that were replaced).
pub fn compare(
    before: &AssessmentView,
    after: &AssessmentView,
    after_release: &CatalogueRelease,
) -> Comparison {
    let migration = after_release
        .migration
        .as_ref()
        .filter(|m| m.from == before.catalogue_release);
    let mut rows = Vec::with_capacity(after.items.len());
    for item in &after.items {
        // The earlier question this one continues, and whether it was split/merged.
        let (previous, comparable) = match migration.and_then(|m| {
            m.successors
                .iter()
                .find(|(_, succ)| succ.contains(&item.id))
        }) {
            Some((old, successors)) => {
                let merged = migration.is_some_and(|m| {
                    m.successors
                        .iter()
                        .filter(|(_, s)| s.contains(&item.id))
                        .count()
                        > 1
                });
                (Some(old.clone()), successors.len() == 1 && !merged)
            }
            None => {
                let same = before.items.iter().any(|b| b.id == item.id);
                (same.then(|| item.id.clone()), same)
            }
        };
        let prev = previous
            .as_ref()
            .and_then(|p| before.items.iter().find(|b| &b.id == p));
        let level_before = prev.and_then(|p| p.answer.level);
        let level_after = item.answer.level;
        let level_delta = match (comparable, level_before, level_after) {
            (true, Some(b), Some(a)) => Some(a as i8 - b as i8),
            _ => None,
        };
        rows.push(ComparisonRow {
            question: item.id.clone(),
            previous,
            level_before,
            level_after,
            value_before: prev.and_then(|p| p.answer.value),
            value_after: item.answer.value,
            comparable,
            level_delta,
        });
    }
    let overall_delta = match (before.scores.overall, after.scores.overall) {
        (Some(b), Some(a)) => Some(a - b),
        _ => None,
    };
    Comparison {
        release_before: before.catalogue_release.clone(),
        release_after: after.catalogue_release.clone(),
        rows,
        overall_delta,
    }
}
