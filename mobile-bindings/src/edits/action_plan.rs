//! Action plans: measures and their statuses (reviews and sign-offs: `review.rs`).

use nachbar_core::model::action_plan::{ActionPlanDoc, MeasureStatus, NewMeasure};

use crate::{ActionPlanRecord, MobileError, NachbarClient};

#[uniffi::export]
impl NachbarClient {
    /// Starts the action plan of `business`; returns its document id.
    pub fn create_action_plan(
        &self,
        neighbourhood: String,
        business: String,
    ) -> Result<String, MobileError> {
        self.create(|actor, ctx| ActionPlanDoc::create(actor, ctx, &neighbourhood, &business))
    }

    /// Adds a measure; returns its id.
    pub fn add_measure(&self, document_id: String, title: String) -> Result<String, MobileError> {
        let new = NewMeasure {
            title,
            ..NewMeasure::default()
        };
        self.edit(&document_id, |p: &mut ActionPlanDoc, ctx| {
            p.add_measure(ctx, &new)
        })
    }

    /// Moves a measure to a status (`idea`, `planned`, `in_progress`, `done`, `blocked` …)
    /// with a note.
    pub fn set_measure_status(
        &self,
        document_id: String,
        measure_id: String,
        status_code: String,
        note: String,
    ) -> Result<(), MobileError> {
        let status = MeasureStatus::parse(&status_code)?;
        self.edit(&document_id, |p: &mut ActionPlanDoc, ctx| {
            p.set_measure_status(ctx, &measure_id, status, &note)
        })
    }

    /// The action plan.
    pub fn action_plan(&self, document_id: String) -> Result<ActionPlanRecord, MobileError> {
        Ok((&self.read::<ActionPlanDoc>(&document_id)?.view()?).into())
    }
}
