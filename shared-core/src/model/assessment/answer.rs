//! Answers to catalogue questions.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::label::coded_enum;

coded_enum! {
    /// The answer to a compliance question (unknown and not-applicable are separate flags).
    ComplianceValue, "compliance value" {
        /// Fulfilled.
        Yes = "yes", "ja", "yes";
        /// Partly fulfilled.
        Partly = "partly", "teilweise", "partly";
        /// Not fulfilled.
        No = "no", "nein", "no";
    }
}

/// The stored answer to one question.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredAnswer {
    level: Option<i64>,
    value: Option<String>,
    relevance: Option<i64>,
    not_applicable: bool,
    unknown: bool,
    note: String,
    answered_by: Option<String>,
    answered_at: Option<i64>,
}

/// An answer as shown to users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Level 0–4 for level questions.
    pub level: Option<u8>,
    /// The value of a compliance question.
    pub value: Option<ComplianceValue>,
    /// Relevance to the business, 1–3 (default 2).
    pub relevance: u8,
    /// Does not apply to this business (excluded from scores).
    pub not_applicable: bool,
    /// The business does not know (scores 0 and asks to clarify).
    pub unknown: bool,
    /// The shared note (collaborative text).
    pub note: String,
    /// Who answered last.
    pub answered_by: Option<String>,
    /// When (device time).
    pub answered_at: Option<i64>,
}

/// The default relevance of an answer.
pub const DEFAULT_RELEVANCE: u8 = 2;

impl Answer {
    /// Whether anything has been recorded.
    pub fn is_answered(&self) -> bool {
        self.level.is_some() || self.value.is_some() || self.unknown || self.not_applicable
    }
}

impl StoredAnswer {
    /// Validates the stored values; a foreign writer's out-of-range value is a shape error.
    pub(crate) fn view(&self, path: &str) -> Result<Answer, DomainError> {
        let level = self
            .level
            .map(|l| u8::try_from(l).ok().filter(|l| *l <= 4))
            .map(|l| l.ok_or_else(|| DomainError::shape(format!("{path}/level"), "outside 0–4")))
            .transpose()?;
        let relevance = match self.relevance {
            None => DEFAULT_RELEVANCE,
            Some(r) => u8::try_from(r)
                .ok()
                .filter(|r| (1..=3).contains(r))
                .ok_or_else(|| DomainError::shape(format!("{path}/relevance"), "outside 1–3"))?,
        };
        let value = self
            .value
            .as_deref()
            .map(ComplianceValue::parse)
            .transpose()?;
        Ok(Answer {
            level,
            value,
            relevance,
            not_applicable: self.not_applicable,
            unknown: self.unknown,
            note: self.note.clone(),
            answered_by: self.answered_by.clone(),
            answered_at: self.answered_at,
        })
    }
}
