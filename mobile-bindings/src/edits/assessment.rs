//! Assessments: start one, answer questions, read it with catalogue texts in German and
//! English and its scores (reviews and sign-offs: `review.rs`).

use nachbar_core::catalogue;
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};

use super::language;
use crate::{AssessmentRecord, MobileError, NachbarClient};

#[uniffi::export]
impl NachbarClient {
    /// Starts an assessment of `business` on the catalogue release shipped with the app;
    /// returns its document id.
    pub fn create_assessment(
        &self,
        neighbourhood: String,
        business: String,
        stage: String,
        language_code: String,
    ) -> Result<String, MobileError> {
        let new = NewAssessment {
            neighbourhood: &neighbourhood,
            business: &business,
            release: catalogue::release_1_0(),
            stage: &stage,
            coach: Some(&self.person),
            language: language(&language_code)?,
        };
        self.create(|actor, ctx| AssessmentDoc::create(actor, ctx, &new))
    }

    /// Sets the level (0–4) of a question.
    pub fn set_level(
        &self,
        document_id: String,
        question: String,
        level: i64,
    ) -> Result<(), MobileError> {
        self.edit(&document_id, |a: &mut AssessmentDoc, ctx| {
            a.set_level(ctx, &question, level)
        })
    }

    /// Sets the relevance (1–3) of a question.
    pub fn set_relevance(
        &self,
        document_id: String,
        question: String,
        relevance: i64,
    ) -> Result<(), MobileError> {
        self.edit(&document_id, |a: &mut AssessmentDoc, ctx| {
            a.set_relevance(ctx, &question, relevance)
        })
    }

    /// Replaces the note of a question (saved on blur, not per keystroke).
    pub fn set_answer_note(
        &self,
        document_id: String,
        question: String,
        note: String,
    ) -> Result<(), MobileError> {
        self.edit(&document_id, |a: &mut AssessmentDoc, ctx| {
            a.set_answer_note(ctx, &question, &note)
        })
    }

    /// The assessment with catalogue texts in German and English and its scores.
    pub fn assessment(&self, document_id: String) -> Result<AssessmentRecord, MobileError> {
        Ok((&self.read::<AssessmentDoc>(&document_id)?.view()?).into())
    }
}
