//! Applicability rules: whether a question applies to a business, from the facts captured in
//! the assessment's `context` section.

use serde::{Deserialize, Serialize};

use crate::label::coded_enum;

coded_enum! {
    /// Annual turnover band; ≤ €800k matters for e-invoice issuing, €10m for NIS2.
    TurnoverBand, "turnover band" {
        /// Up to €800,000.
        UpTo800k = "le_800k", "bis 800.000 €", "up to €800k";
        /// Up to €2 million.
        UpTo2m = "le_2m", "bis 2 Mio. €", "up to €2m";
        /// Up to €10 million.
        UpTo10m = "le_10m", "bis 10 Mio. €", "up to €10m";
        /// Up to €50 million.
        UpTo50m = "le_50m", "bis 50 Mio. €", "up to €50m";
        /// Over €50 million.
        Over50m = "gt_50m", "über 50 Mio. €", "over €50m";
    }
}

impl TurnoverBand {
    /// The band's upper limit in euros (`None` for the open top band).
    pub fn upper_eur(self) -> Option<i64> {
        match self {
            TurnoverBand::UpTo800k => Some(800_000),
            TurnoverBand::UpTo2m => Some(2_000_000),
            TurnoverBand::UpTo10m => Some(10_000_000),
            TurnoverBand::UpTo50m => Some(50_000_000),
            TurnoverBand::Over50m => None,
        }
    }
}

/// Facts about a business used by applicability rules; each may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessContext {
    /// Head count.
    pub staff_count: Option<u32>,
    /// Field staff (full-time equivalents).
    pub field_staff: Option<f64>,
    /// Office staff (full-time equivalents).
    pub office_staff: Option<f64>,
    /// Turnover band.
    pub turnover_band: Option<TurnoverBand>,
    /// Staff use AI tools.
    pub uses_ai: Option<bool>,
    /// Has public-sector customers.
    pub public_customers: Option<bool>,
    /// Has a website.
    pub has_website: Option<bool>,
    /// In NIS2 scope (sector and size checked).
    pub nis2_in_scope: Option<bool>,
}

/// When a question applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Head count of at least this many.
    StaffAtLeast(u32),
    /// Turnover above this many euros.
    TurnoverAboveEur(i64),
    /// Staff use AI tools.
    UsesAi,
    /// Has public-sector customers.
    PublicCustomers,
    /// Has a website.
    HasWebsite,
    /// In NIS2 scope.
    Nis2InScope,
    /// Any of the rules.
    Any(Vec<Rule>),
}

impl Rule {
    /// Whether the rule holds for `ctx`: `Some(true/false)` when the facts decide it, `None`
    /// when a needed fact is unknown.
    pub fn evaluate(&self, ctx: &BusinessContext) -> Option<bool> {
        match self {
            Rule::StaffAtLeast(n) => ctx.staff_count.map(|s| s >= *n),
            Rule::TurnoverAboveEur(eur) => ctx
                .turnover_band
                .map(|b| b.upper_eur().is_none_or(|upper| upper > *eur)),
            Rule::UsesAi => ctx.uses_ai,
            Rule::PublicCustomers => ctx.public_customers,
            Rule::HasWebsite => ctx.has_website,
            Rule::Nis2InScope => ctx.nis2_in_scope,
            Rule::Any(rules) => {
                let results: Vec<Option<bool>> = rules.iter().map(|r| r.evaluate(ctx)).collect();
                if results.contains(&Some(true)) {
                    Some(true)
                } else if results.iter().all(|r| *r == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }
}

/// Whether a question with `rule` applies: unknown facts count as applicable, so nothing is
/// skipped by accident.
pub(crate) fn applies(rule: Option<&Rule>, ctx: &BusinessContext) -> bool {
    rule.is_none_or(|r| r.evaluate(ctx) != Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_and_turnover_rules() {
        let nis2 = Rule::Any(vec![
            Rule::StaffAtLeast(50),
            Rule::TurnoverAboveEur(10_000_000),
        ]);
        let glazier = BusinessContext {
            staff_count: Some(12),
            turnover_band: Some(TurnoverBand::UpTo2m),
            ..Default::default()
        };
        assert_eq!(nis2.evaluate(&glazier), Some(false));
        let metal = BusinessContext {
            staff_count: Some(180),
            ..Default::default()
        };
        assert_eq!(nis2.evaluate(&metal), Some(true));
        let unknown = BusinessContext {
            staff_count: Some(12),
            ..Default::default()
        };
        assert_eq!(nis2.evaluate(&unknown), None);
        assert!(applies(Some(&nis2), &unknown));
        assert!(!applies(Some(&nis2), &glazier));
        let rich = BusinessContext {
            staff_count: Some(12),
            turnover_band: Some(TurnoverBand::UpTo50m),
            ..Default::default()
        };
        assert_eq!(nis2.evaluate(&rich), Some(true));
    }

    #[test]
    fn rules_read_from_catalogue_json() {
        let rule: Rule =
            serde_json::from_str(r#"{"any":[{"staff_at_least":50},"uses_ai"]}"#).unwrap();
        assert_eq!(rule, Rule::Any(vec![Rule::StaffAtLeast(50), Rule::UsesAi]));
    }
}
