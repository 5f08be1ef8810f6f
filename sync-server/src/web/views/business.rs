//! Where a business stands: its action plans and assessments in short (status, agreed or
//! lapsed, measures overdue, questions answered), for the business's home and the coach's
//! list of businesses.

use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::ReviewStatus;
use nachbar_core::model::action_plan::{ActionPlanView, MeasureStatus};
use nachbar_core::model::assessment::AssessmentView;

use super::date;
use super::signers::Signers;
use crate::web::i18n_business::BusinessTexts;

/// An action plan in short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    /// Its page.
    pub href: String,
    /// Status in words.
    pub status: String,
    /// Owner and coach agreed to this version.
    pub agreed: bool,
    /// A sign-off no longer covers it.
    pub lapsed: bool,
    /// Active measures.
    pub measures: usize,
    /// Of those, past due and not finished.
    pub overdue: usize,
}

/// An assessment in short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentSummary {
    /// The results page.
    pub results_href: String,
    /// The answering page.
    pub answer_href: String,
    /// Stage (T0, T1, …).
    pub stage: String,
    /// Date in words ("" when none).
    pub date: String,
    /// Status in words.
    pub status: String,
    /// Owner and coach agreed to it.
    pub agreed: bool,
    /// Applicable core questions answered.
    pub answered: usize,
    /// Applicable core questions.
    pub core: usize,
}

/// Measures of `plan` past due (before `today`, ISO) and not done or dropped.
pub fn overdue(plan: &ActionPlanView, today: &str) -> usize {
    plan.measures
        .iter()
        .filter(|m| {
            m.due.as_deref().is_some_and(|d| d < today)
                && !matches!(m.status, MeasureStatus::Done | MeasureStatus::Dropped)
        })
        .count()
}

/// The summary of the plan `id`.
pub fn plan_summary(
    id: &str,
    plan: &ActionPlanView,
    signers: &Signers<'_>,
    today: &str,
    lang: Lang,
) -> PlanSummary {
    PlanSummary {
        href: format!("/p/{id}"),
        status: signers
            .status(plan.status, &plan.sign_offs)
            .label()
            .get(lang)
            .to_owned(),
        agreed: signers.agreed(&plan.sign_offs),
        lapsed: plan.sign_offs.iter().any(|s| !signers.counts(s)),
        measures: plan.measures.len(),
        overdue: overdue(plan, today),
    }
}

/// The summary of the assessment `id`.
pub fn assessment_summary(
    id: &str,
    a: &AssessmentView,
    signers: &Signers<'_>,
    lang: Lang,
) -> AssessmentSummary {
    let core: Vec<_> = a
        .items
        .iter()
        .filter(|i| i.core && i.applicable && !i.answer.not_applicable)
        .collect();
    AssessmentSummary {
        results_href: format!("/a/{id}/results"),
        answer_href: format!("/a/{id}"),
        stage: a.stage.clone(),
        date: a.date.as_deref().map(|d| date(d, lang)).unwrap_or_default(),
        status: signers
            .status(a.status, &a.sign_offs)
            .label()
            .get(lang)
            .to_owned(),
        agreed: signers.agreed(&a.sign_offs),
        answered: core.iter().filter(|i| i.answer.is_answered()).count(),
        core: core.len(),
    }
}

/// Where a business stands, in words, for the coach's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The newest assessment: open, agreed, or none.
    pub assessment: String,
    /// The newest plan: open, agreed, or none.
    pub plan: String,
    /// Measures overdue, in words.
    pub overdue: String,
    /// Whether any measure is overdue.
    pub any_overdue: bool,
}

/// The stage of a business from its plans and assessments (oldest first; the newest counts).
pub fn stage(
    plans: &[&ActionPlanView],
    assessments: &[&AssessmentView],
    signers: &Signers<'_>,
    today: &str,
    lang: Lang,
) -> Stage {
    let t = BusinessTexts::of(lang);
    let current = |s: ReviewStatus| s != ReviewStatus::Superseded;
    let assessment =
        assessments
            .iter()
            .rev()
            .find(|a| current(a.status))
            .map_or(t.no_assessment, |a| {
                if signers.agreed(&a.sign_offs) {
                    t.assessment_signed
                } else {
                    t.assessment_open
                }
            });
    let plan = plans
        .iter()
        .rev()
        .find(|p| current(p.status))
        .map_or(t.no_plan, |p| {
            if signers.agreed(&p.sign_offs) {
                t.plan_agreed
            } else {
                t.plan_open
            }
        });
    // Superseded plans no longer count.
    let n: usize = plans
        .iter()
        .filter(|p| current(p.status))
        .map(|p| overdue(p, today))
        .sum();
    Stage {
        assessment: assessment.to_owned(),
        plan: plan.to_owned(),
        overdue: if n == 0 {
            t.none_overdue.to_owned()
        } else {
            t.measures_overdue.replace("{n}", &n.to_string())
        },
        any_overdue: n > 0,
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use nachbar_core::doc::EditContext;
    use nachbar_core::model::SignOffRole;
    use nachbar_core::model::action_plan::{ActionPlanDoc, NewMeasure};
    use nachbar_core::time::Timestamp;

    use super::*;

    fn ctx(who: &str) -> EditContext {
        EditContext::new(who, Timestamp(1_767_225_600_000))
    }

    #[test]
    fn the_stage_says_what_is_open_agreed_and_overdue() {
        let (mut plan, _) = ActionPlanDoc::create(ActorId::random(), &ctx("c"), "n", "b").unwrap();
        let new = NewMeasure {
            title: "Funktionspostfach".to_owned(),
            due: Some("2026-11-01".to_owned()),
            ..NewMeasure::default()
        };
        let _in_memory = plan.add_measure(&ctx("c"), &new).unwrap();
        let view = plan.view().unwrap();
        let (owners, coaches) = (vec!["o".to_owned()], vec!["c".to_owned()]);
        let signers = Signers {
            owners: &owners,
            coaches: &coaches,
        };
        let s = stage(&[&view], &[], &signers, "2026-12-03", Lang::De);
        assert_eq!(s.assessment, "keine Bestandsaufnahme");
        assert_eq!(s.plan, "Plan offen");
        assert_eq!(s.overdue, "1 Maßnahmen überfällig");
        assert!(s.any_overdue);
        let s = stage(&[&view], &[], &signers, "2026-10-01", Lang::En);
        assert_eq!(s.overdue, "nothing overdue");

        let _in_memory = plan.sign_off(&ctx("c"), SignOffRole::Coach).unwrap();
        let _in_memory = plan.sign_off(&ctx("o"), SignOffRole::Owner).unwrap();
        let view = plan.view().unwrap();
        assert_eq!(
            stage(&[&view], &[], &signers, "2026-10-01", Lang::En).plan,
            "Plan agreed"
        );
        let summary = plan_summary("x", &view, &signers, "2026-12-03", Lang::En);
        assert_eq!((summary.measures, summary.overdue), (1, 1));
        assert!(summary.agreed && !summary.lapsed);
        assert_eq!(summary.href, "/p/x");
    }
}
