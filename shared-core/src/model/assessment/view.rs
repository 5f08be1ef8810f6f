//! The assessment read model, hydrated from the document with its derived values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::catalogue::{self, BusinessContext, CatalogueRelease, LocalText, QuestionKind};
use crate::doc::{Header, LastEdited, NeedsReview};
use crate::label::{Lang, coded_enum};
use crate::model::common::{Removal, StatusChange, StoredRemoval, set_members};
use crate::model::review::{ReviewStatus, SignOffView, StoredSignOff};

use super::answer::{Answer, StoredAnswer};
use super::scoring::{PriorityGap, Scores, TrafficLight};

coded_enum! {
    /// What a finding is.
    FindingKind, "finding kind" {
        /// Something that hurts today.
        PainPoint = "pain_point", "Schmerzpunkt", "Pain point";
        /// A legal obligation not met.
        ComplianceGap = "compliance_gap", "Pflichtlücke", "Compliance gap";
        /// A risk.
        Risk = "risk", "Risiko", "Risk";
        /// An idea.
        Idea = "idea", "Idee", "Idea";
        /// Something to clarify ("don't know").
        Clarify = "clarify", "Klären", "Clarify";
    }
}

coded_enum! {
    /// How far an item is shared beyond the business and its coach.
    ShareLevel, "share level" {
        /// Only business and coach.
        Private = "private", "privat", "private";
        /// Shared with the neighbourhood without the business's name.
        Anonymised = "anonymised", "anonymisiert", "anonymised";
        /// Shared with the business's name.
        Named = "named", "mit Namen", "named";
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredFinding {
    pub(crate) area: String,
    pub(crate) questions: BTreeMap<String, bool>,
    pub(crate) kind: Option<String>,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) severity: Option<i64>,
    pub(crate) barriers: BTreeMap<String, bool>,
    pub(crate) proposed_for_workshop: bool,
    pub(crate) share_level: Option<String>,
    pub(crate) created_by: Option<String>,
    pub(crate) created_at: Option<i64>,
    #[serde(flatten)]
    pub(crate) removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredPain {
    text: String,
    position: String,
    #[serde(flatten)]
    removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredAssessment {
    pub(crate) catalogue_release: String,
    pub(crate) stage: String,
    pub(crate) date: Option<String>,
    pub(crate) coach: Option<String>,
    pub(crate) participants: BTreeMap<String, bool>,
    pub(crate) language: Option<Lang>,
    pub(crate) context: BusinessContext,
    pub(crate) status: Option<String>,
    pub(crate) status_history: Vec<StatusChange>,
    pub(crate) sign_offs: BTreeMap<String, StoredSignOff>,
    pub(crate) answers: BTreeMap<String, StoredAnswer>,
    pub(crate) findings: BTreeMap<String, StoredFinding>,
    pub(crate) barriers: BTreeMap<String, bool>,
    pub(crate) top_pains: BTreeMap<String, StoredPain>,
    pub(crate) session_notes: String,
}

impl StoredPain {
    pub(crate) fn removal_view(&self) -> Removal {
        self.removal.view()
    }

    pub(crate) fn position(&self) -> &str {
        &self.position
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

impl StoredAssessment {
    pub(crate) fn stored_status(&self) -> Result<ReviewStatus, DomainError> {
        self.status
            .as_deref()
            .map_or(Ok(ReviewStatus::Draft), ReviewStatus::parse)
    }
}

/// A finding as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Record id.
    pub id: String,
    /// Area code.
    pub area: String,
    /// Questions it relates to.
    pub questions: Vec<String>,
    /// What it is.
    pub kind: FindingKind,
    /// Short title.
    pub title: String,
    /// Description (collaborative text).
    pub description: String,
    /// 1–3.
    pub severity: u8,
    /// Barrier codes.
    pub barriers: Vec<String>,
    /// To be discussed in a workshop.
    pub proposed_for_workshop: bool,
    /// How far it is shared.
    pub share_level: ShareLevel,
    /// Who recorded it.
    pub created_by: Option<String>,
    /// When (device time).
    pub created_at: Option<i64>,
    /// Soft-delete state.
    pub removal: Removal,
}

impl StoredFinding {
    pub(crate) fn view(&self, id: &str) -> Result<Finding, DomainError> {
        Ok(Finding {
            id: id.to_owned(),
            area: self.area.clone(),
            questions: set_members(&self.questions),
            kind: self
                .kind
                .as_deref()
                .map_or(Ok(FindingKind::PainPoint), FindingKind::parse)?,
            title: self.title.clone(),
            description: self.description.clone(),
            severity: self
                .severity
                .map_or(2, |s| u8::try_from(s.clamp(1, 3)).unwrap_or(2)),
            barriers: set_members(&self.barriers),
            proposed_for_workshop: self.proposed_for_workshop,
            share_level: self
                .share_level
                .as_deref()
                .map_or(Ok(ShareLevel::Private), ShareLevel::parse)?,
            created_by: self.created_by.clone(),
            created_at: self.created_at,
            removal: self.removal.view(),
        })
    }
}

/// One of the business's top pains, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopPain {
    /// Record id.
    pub id: String,
    /// The pain, in the owner's words.
    pub text: String,
    /// Fractional position.
    pub position: String,
}

/// A catalogue question with its answer, as one row of the assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentItem {
    /// Question id.
    pub id: String,
    /// Area code.
    pub area: String,
    /// The statement (DE/EN) of the pinned release.
    pub text: LocalText,
    /// Level or compliance.
    pub kind: QuestionKind,
    /// Part of the core set.
    pub core: bool,
    /// Critical item.
    pub critical: bool,
    /// Applies to this business (from the context facts; unknown facts count as applicable).
    pub applicable: bool,
    /// Guidance for the coach.
    pub hint: Option<LocalText>,
    /// The answer (empty when not yet answered).
    pub answer: Answer,
    /// Traffic light of a compliance item.
    pub light: Option<TrafficLight>,
}

/// An assessment as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentView {
    /// The document header.
    pub header: Header,
    /// The pinned catalogue release.
    pub catalogue_release: String,
    /// Stage: T0 baseline, T1, T2 …
    pub stage: String,
    /// Date of the session (ISO date).
    pub date: Option<String>,
    /// The coach (person id).
    pub coach: Option<String>,
    /// Participants (person ids).
    pub participants: Vec<String>,
    /// Language of the session.
    pub language: Lang,
    /// Business facts for applicability rules.
    pub context: BusinessContext,
    /// Status shown: a stale "agreed" reads as "in review".
    pub status: ReviewStatus,
    /// Status as stored.
    pub stored_status: ReviewStatus,
    /// Every status transition, concurrent ones included.
    pub status_history: Vec<StatusChange>,
    /// Sign-offs with their validity.
    pub sign_offs: Vec<SignOffView>,
    /// Owner and coach signed the current content.
    pub agreed: bool,
    /// The questions of the pinned release with their answers, in catalogue order.
    pub items: Vec<AssessmentItem>,
    /// Answers to ids the release does not know (foreign writers); kept, not scored.
    pub unknown_answers: Vec<String>,
    /// Findings, removed ones included (see `removal`), oldest first.
    pub findings: Vec<Finding>,
    /// Barrier codes.
    pub barriers: Vec<String>,
    /// Top pains in order.
    pub top_pains: Vec<TopPain>,
    /// Session notes (collaborative text).
    pub session_notes: String,
    /// Area and overall scores with the compliance lights.
    pub scores: Scores,
    /// Level items ranked by (4 − level) × relevance.
    pub priority_gaps: Vec<PriorityGap>,
    /// Questions answered "don't know": each asks for a clarify finding.
    pub to_clarify: Vec<String>,
    /// Fields with concurrent values.
    pub needs_review: Vec<NeedsReview>,
    /// The latest change.
    pub last_edited: Option<LastEdited>,
}

/// Builds the rows of the assessment from the stored answers and the pinned release.
pub(crate) fn items(
    release: &CatalogueRelease,
    stored: &StoredAssessment,
) -> Result<Vec<AssessmentItem>, DomainError> {
    let mut items = Vec::with_capacity(release.questions.len());
    for q in &release.questions {
        let answer = match stored.answers.get(&q.id) {
            Some(a) => a.view(&format!("answers/{}", q.id))?,
            None => Answer {
                relevance: super::answer::DEFAULT_RELEVANCE,
                ..Answer::default()
            },
        };
        let mut item = AssessmentItem {
            id: q.id.clone(),
            area: q.area.clone(),
            text: q.text.clone(),
            kind: q.kind,
            core: q.core,
            critical: q.critical,
            applicable: catalogue::applies(q.applies_if.as_ref(), &stored.context),
            hint: q.hint.clone(),
            answer,
            light: None,
        };
        item.light = super::scoring::light(&item);
        items.push(item);
    }
    Ok(items)
}
