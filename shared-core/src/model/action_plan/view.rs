//! The action plan read model: goals, measures in order with their quadrant, duplicate
//! hints, counts per status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::doc::{Header, LastEdited, NeedsReview};
use crate::label::coded_enum;
use crate::model::assessment::ShareLevel;
use crate::model::common::{Removal, StatusChange, StoredRemoval, set_members};
use crate::model::review::{ReviewStatus, SignOffView, StoredSignOff};
use crate::model::similarity;

coded_enum! {
    /// Where a measure stands (domain.md §5.2).
    MeasureStatus, "measure status" {
        /// An idea, not yet planned.
        Idea = "idea", "Idee", "Idea";
        /// Planned.
        Planned = "planned", "Geplant", "Planned";
        /// Funding applied for.
        FundingApplied = "funding_applied", "Förderung beantragt", "Funding applied";
        /// Funding approved.
        FundingApproved = "funding_approved", "Förderung bewilligt", "Funding approved";
        /// Being implemented.
        InProgress = "in_progress", "In Umsetzung", "In progress";
        /// Done.
        Done = "done", "Erledigt", "Done";
        /// Put off.
        Deferred = "deferred", "Zurückgestellt", "Deferred";
        /// Given up.
        Dropped = "dropped", "Verworfen", "Dropped";
        /// Blocked (the history note says why).
        Blocked = "blocked", "Blockiert", "Blocked";
    }
}

coded_enum! {
    /// Impact–effort quadrant, derived from the impact and effort scores (1–5, high ≥ 3).
    Quadrant, "quadrant" {
        /// High impact, low effort: do first.
        QuickWin = "quick_win", "Schneller Erfolg", "Quick win";
        /// High impact, high effort: plan and phase.
        MajorProject = "major_project", "Großprojekt", "Major project";
        /// Low impact, low effort: when capacity allows.
        FillIn = "fill_in", "Lückenfüller", "Fill-in";
        /// Low impact, high effort: avoid.
        Thankless = "thankless", "Undankbare Aufgabe", "Thankless task";
    }
}

impl Quadrant {
    /// The quadrant of an impact and an effort score.
    pub fn of(impact: u8, effort: u8) -> Quadrant {
        match (impact >= 3, effort >= 3) {
            (true, false) => Quadrant::QuickWin,
            (true, true) => Quadrant::MajorProject,
            (false, false) => Quadrant::FillIn,
            (false, true) => Quadrant::Thankless,
        }
    }
}

coded_enum! {
    /// The state of a funding application.
    FundingState, "funding state" {
        /// A programme that might fit.
        Candidate = "candidate", "Kandidat", "Candidate";
        /// Applied for.
        Applied = "applied", "Beantragt", "Applied";
        /// Approved.
        Approved = "approved", "Bewilligt", "Approved";
        /// Rejected.
        Rejected = "rejected", "Abgelehnt", "Rejected";
    }
}

/// Funding of a measure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Funding {
    /// Programme name or id.
    pub programme: Option<String>,
    /// State.
    pub state: Option<FundingState>,
    /// Applied on (ISO date).
    pub applied_on: Option<String>,
    /// Approved on (ISO date).
    pub approved_on: Option<String>,
    /// Granted amount in euros.
    pub amount_eur: Option<i64>,
    /// Funding rate in percent.
    pub rate_pct: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredMeasure {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) area: Option<String>,
    pub(crate) goal: Option<String>,
    pub(crate) findings: BTreeMap<String, bool>,
    pub(crate) owner: Option<String>,
    pub(crate) helpers: BTreeMap<String, bool>,
    pub(crate) start: Option<String>,
    pub(crate) due: Option<String>,
    pub(crate) next_review: Option<String>,
    pub(crate) effort: Option<String>,
    pub(crate) cost_once_eur: Option<i64>,
    pub(crate) cost_recurring_eur: Option<i64>,
    pub(crate) impact: Option<i64>,
    pub(crate) effort_score: Option<i64>,
    pub(crate) status: Option<String>,
    pub(crate) status_history: Vec<StatusChange>,
    pub(crate) progress_note: String,
    pub(crate) funding: Funding,
    pub(crate) depends_on: BTreeMap<String, bool>,
    pub(crate) barriers: BTreeMap<String, bool>,
    pub(crate) visibility: Option<String>,
    pub(crate) position: String,
    pub(crate) merged_into: Option<String>,
    pub(crate) created_by: Option<String>,
    pub(crate) created_at: Option<i64>,
    #[serde(flatten)]
    pub(crate) removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredGoal {
    title: String,
    kpi: String,
    target_date: Option<String>,
    position: String,
    #[serde(flatten)]
    removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredActionPlan {
    pub(crate) status: Option<String>,
    pub(crate) status_history: Vec<StatusChange>,
    pub(crate) sign_offs: BTreeMap<String, StoredSignOff>,
    pub(crate) goals: BTreeMap<String, StoredGoal>,
    pub(crate) measures: BTreeMap<String, StoredMeasure>,
}

impl StoredActionPlan {
    pub(crate) fn stored_status(&self) -> Result<ReviewStatus, DomainError> {
        self.status
            .as_deref()
            .map_or(Ok(ReviewStatus::Draft), ReviewStatus::parse)
    }
}

/// A goal of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Success criterion.
    pub kpi: String,
    /// Target date (ISO).
    pub target_date: Option<String>,
    /// Soft-delete state.
    pub removal: Removal,
}

/// A measure as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description (collaborative text).
    pub description: String,
    /// Topic area code.
    pub area: Option<String>,
    /// Goal id.
    pub goal: Option<String>,
    /// Findings it addresses (ids in the assessment).
    pub findings: Vec<String>,
    /// Owner (person id).
    pub owner: Option<String>,
    /// Helpers (person or business ids).
    pub helpers: Vec<String>,
    /// Start (ISO date).
    pub start: Option<String>,
    /// Due (ISO date).
    pub due: Option<String>,
    /// Next review (ISO date).
    pub next_review: Option<String>,
    /// Effort as text (person-days or S/M/L).
    pub effort: Option<String>,
    /// One-off cost in euros.
    pub cost_once_eur: Option<i64>,
    /// Recurring cost in euros per year.
    pub cost_recurring_eur: Option<i64>,
    /// Impact 1–5.
    pub impact: Option<u8>,
    /// Effort score 1–5.
    pub effort_score: Option<u8>,
    /// Derived quadrant, when both scores are set.
    pub quadrant: Option<Quadrant>,
    /// Status.
    pub status: MeasureStatus,
    /// Every transition, concurrent ones included.
    pub status_history: Vec<StatusChange>,
    /// Progress note (collaborative text).
    pub progress_note: String,
    /// Funding.
    pub funding: Funding,
    /// Measures this one depends on.
    pub depends_on: Vec<String>,
    /// Barrier codes.
    pub barriers: Vec<String>,
    /// How far it is shared.
    pub visibility: ShareLevel,
    /// Fractional position.
    pub position: String,
    /// The measure this one was merged into (a duplicate).
    pub merged_into: Option<String>,
    /// Who created it.
    pub created_by: Option<String>,
    /// Soft-delete state.
    pub removal: Removal,
}

fn score(path: &str, field: &str, value: Option<i64>) -> Result<Option<u8>, DomainError> {
    value
        .map(|v| {
            u8::try_from(v)
                .ok()
                .filter(|v| (1..=5).contains(v))
                .ok_or_else(|| DomainError::shape(format!("{path}/{field}"), "outside 1–5"))
        })
        .transpose()
}

impl StoredMeasure {
    pub(crate) fn view(&self, id: &str) -> Result<Measure, DomainError> {
        let path = format!("measures/{id}");
        let impact = score(&path, "impact", self.impact)?;
        let effort_score = score(&path, "effort_score", self.effort_score)?;
        Ok(Measure {
            id: id.to_owned(),
            title: self.title.clone(),
            description: self.description.clone(),
            area: self.area.clone(),
            goal: self.goal.clone(),
            findings: set_members(&self.findings),
            owner: self.owner.clone(),
            helpers: set_members(&self.helpers),
            start: self.start.clone(),
            due: self.due.clone(),
            next_review: self.next_review.clone(),
            effort: self.effort.clone(),
            cost_once_eur: self.cost_once_eur,
            cost_recurring_eur: self.cost_recurring_eur,
            impact,
            effort_score,
            quadrant: impact.zip(effort_score).map(|(i, e)| Quadrant::of(i, e)),
            status: self
                .status
                .as_deref()
                .map_or(Ok(MeasureStatus::Idea), MeasureStatus::parse)?,
            status_history: self.status_history.clone(),
            progress_note: self.progress_note.clone(),
            funding: self.funding.clone(),
            depends_on: set_members(&self.depends_on),
            barriers: set_members(&self.barriers),
            visibility: self
                .visibility
                .as_deref()
                .map_or(Ok(ShareLevel::Private), ShareLevel::parse)?,
            position: self.position.clone(),
            merged_into: self.merged_into.clone(),
            created_by: self.created_by.clone(),
            removal: self.removal.view(),
        })
    }
}

impl StoredGoal {
    pub(crate) fn view(&self, id: &str) -> Goal {
        Goal {
            id: id.to_owned(),
            title: self.title.clone(),
            kpi: self.kpi.clone(),
            target_date: self.target_date.clone(),
            removal: self.removal.view(),
        }
    }

    pub(crate) fn position(&self) -> &str {
        &self.position
    }
}

/// Why two measures look like duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Both address the same finding.
    SameFinding,
    /// Their titles share most words (token Jaccard ≥ 0.6).
    SimilarTitle,
}

/// Two active measures that are probably the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateHint {
    /// The older measure (by id).
    pub first: String,
    /// The newer measure.
    pub second: String,
    /// Why.
    pub reasons: Vec<DuplicateReason>,
    /// Title similarity 0–1.
    pub similarity: f64,
}

/// An action plan as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionPlanView {
    /// The document header.
    pub header: Header,
    /// Status shown: a stale "agreed" reads as "in review".
    pub status: ReviewStatus,
    /// Status as stored.
    pub stored_status: ReviewStatus,
    /// Every status transition.
    pub status_history: Vec<StatusChange>,
    /// Sign-offs with their validity.
    pub sign_offs: Vec<SignOffView>,
    /// Owner and coach signed the current content.
    pub agreed: bool,
    /// Active goals in order.
    pub goals: Vec<Goal>,
    /// Active measures in order (neither removed nor merged).
    pub measures: Vec<Measure>,
    /// Removed measures (restorable).
    pub removed: Vec<Measure>,
    /// Measures merged into another one.
    pub merged: Vec<Measure>,
    /// Active measures per status code.
    pub counts: BTreeMap<String, u32>,
    /// Probable duplicates among active measures.
    pub duplicate_hints: Vec<DuplicateHint>,
    /// Fields with concurrent values.
    pub needs_review: Vec<NeedsReview>,
    /// The latest change.
    pub last_edited: Option<LastEdited>,
}

impl ActionPlanView {
    /// Whether a measure's status has concurrent values (then no progress summary may be
    /// published from this plan).
    pub fn has_status_conflicts(&self) -> bool {
        self.needs_review
            .iter()
            .any(|n| n.field.ends_with("/status") || n.field == "status")
    }
}

/// Duplicate hints among `measures` (active ones, in any order).
pub(crate) fn duplicate_hints(measures: &[Measure]) -> Vec<DuplicateHint> {
    let mut sorted: Vec<&Measure> = measures.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut hints = Vec::new();
    for (i, a) in sorted.iter().enumerate() {
        for b in &sorted[i + 1..] {
            let mut reasons = Vec::new();
            if a.findings.iter().any(|f| b.findings.contains(f)) {
                reasons.push(DuplicateReason::SameFinding);
            }
            let similarity = similarity::jaccard(&a.title, &b.title);
            if similarity >= similarity::DUPLICATE_THRESHOLD {
                reasons.push(DuplicateReason::SimilarTitle);
            }
            if !reasons.is_empty() {
                hints.push(DuplicateHint {
                    first: a.id.clone(),
                    second: b.id.clone(),
                    reasons,
                    similarity,
                });
            }
        }
    }
    hints
}
