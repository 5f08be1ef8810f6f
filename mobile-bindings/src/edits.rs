//! What coaches, businesses and coordinators do in the app: the typed edits and read models of
//! assessments, action plans and workshops. Each edit is committed on the device before the
//! call returns and synced by itself.

use nachbar_core::catalogue;
use nachbar_core::label::Lang;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasureStatus, NewMeasure};
use nachbar_core::model::assessment::{AssessmentDoc, NewAssessment};
use nachbar_core::model::workshop::{BlockKind, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind};

use crate::client::document_id as document_id_of;
use crate::{ActionPlanRecord, AssessmentRecord, MobileError, NachbarClient, WorkshopRecord};

fn language(code: &str) -> Result<Lang, MobileError> {
    match code {
        "de" => Ok(Lang::De),
        "en" => Ok(Lang::En),
        other => Err(MobileError::InvalidInput {
            detail: format!("language must be \"de\" or \"en\", got {other:?}"),
        }),
    }
}

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
        let ctx = self.ctx();
        let id = self
            .client
            .create(|actor| AssessmentDoc::create(actor, &ctx, &new))?;
        Ok(id.to_string())
    }

    /// Sets the level (0–4) of a question.
    pub fn set_level(
        &self,
        document_id: String,
        question: String,
        level: i64,
    ) -> Result<(), MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        Ok(self.client.edit(&doc, |a: &mut AssessmentDoc| {
            a.set_level(&ctx, &question, level)
        })?)
    }

    /// Sets the relevance (1–3) of a question.
    pub fn set_relevance(
        &self,
        document_id: String,
        question: String,
        relevance: i64,
    ) -> Result<(), MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        Ok(self.client.edit(&doc, |a: &mut AssessmentDoc| {
            a.set_relevance(&ctx, &question, relevance)
        })?)
    }

    /// Replaces the note of a question (saved on blur, not per keystroke).
    pub fn set_answer_note(
        &self,
        document_id: String,
        question: String,
        note: String,
    ) -> Result<(), MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        Ok(self.client.edit(&doc, |a: &mut AssessmentDoc| {
            a.set_answer_note(&ctx, &question, &note)
        })?)
    }

    /// Writes the chosen value of a field with concurrent values (`answers/C2/level`).
    pub fn resolve_assessment(
        &self,
        document_id: String,
        field: String,
        value: String,
    ) -> Result<(), MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        Ok(self.client.edit(&doc, |a: &mut AssessmentDoc| {
            a.resolve(&ctx, &field, &value)
        })?)
    }

    /// The assessment with catalogue texts in German and English and its scores.
    pub fn assessment(&self, document_id: String) -> Result<AssessmentRecord, MobileError> {
        let doc = document_id_of(&document_id)?;
        let view = self.client.read::<AssessmentDoc>(&doc)?.view()?;
        Ok((&view).into())
    }

    /// Starts the action plan of `business`; returns its document id.
    pub fn create_action_plan(
        &self,
        neighbourhood: String,
        business: String,
    ) -> Result<String, MobileError> {
        let ctx = self.ctx();
        let id = self
            .client
            .create(|actor| ActionPlanDoc::create(actor, &ctx, &neighbourhood, &business))?;
        Ok(id.to_string())
    }

    /// Adds a measure; returns its id.
    pub fn add_measure(&self, document_id: String, title: String) -> Result<String, MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        let new = NewMeasure {
            title,
            ..NewMeasure::default()
        };
        Ok(self
            .client
            .edit(&doc, |p: &mut ActionPlanDoc| p.add_measure(&ctx, &new))?)
    }

    /// Moves a measure to a status (`open`, `planned`, `in_progress`, `done`, `blocked` …)
    /// with a note.
    pub fn set_measure_status(
        &self,
        document_id: String,
        measure_id: String,
        status_code: String,
        note: String,
    ) -> Result<(), MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        let status = MeasureStatus::parse(&status_code)?;
        Ok(self.client.edit(&doc, |p: &mut ActionPlanDoc| {
            p.set_measure_status(&ctx, &measure_id, status, &note)
        })?)
    }

    /// The action plan.
    pub fn action_plan(&self, document_id: String) -> Result<ActionPlanRecord, MobileError> {
        let doc = document_id_of(&document_id)?;
        let view = self.client.read::<ActionPlanDoc>(&doc)?.view()?;
        Ok((&view).into())
    }

    /// Plans a topic workshop of the neighbourhood; returns its document id.
    pub fn create_workshop(
        &self,
        neighbourhood: String,
        title: String,
        date: String,
        start: String,
        end: String,
    ) -> Result<String, MobileError> {
        let ctx = self.ctx();
        let new = NewWorkshop {
            title,
            kind: WorkshopKind::TopicWorkshop,
            date,
            start,
            end,
            place: String::new(),
            host: None,
            goal: String::new(),
        };
        let id = self
            .client
            .create(|actor| WorkshopDoc::create(actor, &ctx, &neighbourhood, &new))?;
        Ok(id.to_string())
    }

    /// Appends an agenda block (`kind_code`: `welcome`, `input`, `method`, `break` …); returns
    /// its id.
    pub fn add_block(
        &self,
        document_id: String,
        title: String,
        kind_code: String,
        duration_min: u32,
    ) -> Result<String, MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        let block = NewBlock {
            title,
            kind: BlockKind::parse(&kind_code)?,
            duration_min,
            method: None,
            goal: String::new(),
            materials: String::new(),
            expected_output: String::new(),
        };
        Ok(self
            .client
            .edit(&doc, |w: &mut WorkshopDoc| w.add_block(&ctx, &block, None))?)
    }

    /// Changes a block's planned duration.
    pub fn set_block_duration(
        &self,
        document_id: String,
        block_id: String,
        duration_min: u32,
    ) -> Result<(), MobileError> {
        let (doc, ctx) = (document_id_of(&document_id)?, self.ctx());
        Ok(self.client.edit(&doc, |w: &mut WorkshopDoc| {
            w.set_block_duration(&ctx, &block_id, i64::from(duration_min))
        })?)
    }

    /// The workshop with the agenda's computed start times.
    pub fn workshop(&self, document_id: String) -> Result<WorkshopRecord, MobileError> {
        let doc = document_id_of(&document_id)?;
        let view = self.client.read::<WorkshopDoc>(&doc)?.view()?;
        Ok((&view).into())
    }
}
