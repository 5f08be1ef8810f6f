//! What assessments, action plans and workshops share: resolving a field with concurrent
//! values, the review status and sign-offs. One call each for every kind; the document's header
//! says which it is.

use nachbar_core::doc::DocKind;
use nachbar_core::model::action_plan::ActionPlanDoc;
use nachbar_core::model::assessment::AssessmentDoc;
use nachbar_core::model::workshop::WorkshopDoc;
use nachbar_core::model::{ReviewStatus, SignOffRole};

use crate::client::document_id;
use crate::{MobileError, NachbarClient};

fn not_reviewable(kind: DocKind) -> MobileError {
    MobileError::InvalidInput {
        detail: format!("a {kind} document has no review status or sign-offs"),
    }
}

#[uniffi::export]
impl NachbarClient {
    /// Writes the chosen value of a field with concurrent values (the `field` of a review
    /// record: `answers/C2/level`, `measures/<id>/status`, `agenda/<id>/duration_min`).
    pub fn resolve(
        &self,
        document_id: String,
        field: String,
        value: String,
    ) -> Result<(), MobileError> {
        match self.kind_of(&document_id)? {
            DocKind::Assessment => self.edit(&document_id, |a: &mut AssessmentDoc, ctx| {
                a.resolve(ctx, &field, &value)
            }),
            DocKind::ActionPlan => self.edit(&document_id, |p: &mut ActionPlanDoc, ctx| {
                p.resolve(ctx, &field, &value)
            }),
            DocKind::Workshop => self.edit(&document_id, |w: &mut WorkshopDoc, ctx| {
                w.resolve(ctx, &field, &value)
            }),
            other => Err(MobileError::InvalidInput {
                detail: format!("a {other} document has no fields to resolve"),
            }),
        }
    }

    /// Moves an assessment or action plan to a review status (`draft`, `in_review`, `agreed` …)
    /// with a note.
    pub fn set_review_status(
        &self,
        document_id: String,
        status_code: String,
        note: String,
    ) -> Result<(), MobileError> {
        let status = ReviewStatus::parse(&status_code)?;
        match self.kind_of(&document_id)? {
            DocKind::Assessment => self.edit(&document_id, |a: &mut AssessmentDoc, ctx| {
                a.set_status(ctx, status, &note)
            }),
            DocKind::ActionPlan => self.edit(&document_id, |p: &mut ActionPlanDoc, ctx| {
                p.set_status(ctx, status, &note)
            }),
            other => Err(not_reviewable(other)),
        }
    }

    /// Signs an assessment or action plan off as `coach` or `owner` (bound to the heads the
    /// signer saw: "agreed" holds while nothing but sign-offs changed since).
    pub fn sign_off(&self, document_id: String, role_code: String) -> Result<(), MobileError> {
        let role = SignOffRole::parse(&role_code)?;
        match self.kind_of(&document_id)? {
            DocKind::Assessment => self.edit(&document_id, |a: &mut AssessmentDoc, ctx| {
                a.sign_off(ctx, role)
            }),
            DocKind::ActionPlan => self.edit(&document_id, |p: &mut ActionPlanDoc, ctx| {
                p.sign_off(ctx, role)
            }),
            other => Err(not_reviewable(other)),
        }
    }
}

impl NachbarClient {
    fn kind_of(&self, id: &str) -> Result<DocKind, MobileError> {
        Ok(self.client.kind(&document_id(id)?)?)
    }
}
