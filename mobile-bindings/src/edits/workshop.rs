//! Workshops: the agenda (blocks, order, durations, what happened), read with computed start
//! times.

use nachbar_core::model::workshop::{BlockKind, NewBlock, NewWorkshop, WorkshopDoc, WorkshopKind};

use crate::{MobileError, NachbarClient, WorkshopRecord};

#[uniffi::export]
impl NachbarClient {
    /// Plans a topic workshop of the neighbourhood; returns its document id.
    pub fn create_workshop(
        &self,
        neighbourhood: String,
        title: String,
        date: String,
        start: String,
        end: String,
    ) -> Result<String, MobileError> {
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
        self.create(|actor, ctx| WorkshopDoc::create(actor, ctx, &neighbourhood, &new))
    }

    /// Adds an agenda block (`kind_code`: `welcome`, `input`, `method`, `break` …) after
    /// `after_block_id` (at the end when absent); returns its id.
    pub fn add_block(
        &self,
        document_id: String,
        title: String,
        kind_code: String,
        duration_min: u32,
        after_block_id: Option<String>,
    ) -> Result<String, MobileError> {
        let block = NewBlock {
            title,
            kind: BlockKind::parse(&kind_code)?,
            duration_min,
            method: None,
            goal: String::new(),
            materials: String::new(),
            expected_output: String::new(),
        };
        self.edit(&document_id, |w: &mut WorkshopDoc, ctx| {
            w.add_block(ctx, &block, after_block_id.as_deref())
        })
    }

    /// Moves a block between two neighbours (either may be absent: start or end).
    pub fn move_block(
        &self,
        document_id: String,
        block_id: String,
        after_block_id: Option<String>,
        before_block_id: Option<String>,
    ) -> Result<(), MobileError> {
        self.edit(&document_id, |w: &mut WorkshopDoc, ctx| {
            w.move_block(
                ctx,
                &block_id,
                after_block_id.as_deref(),
                before_block_id.as_deref(),
            )
        })
    }

    /// Changes a block's planned duration.
    pub fn set_block_duration(
        &self,
        document_id: String,
        block_id: String,
        duration_min: u32,
    ) -> Result<(), MobileError> {
        self.edit(&document_id, |w: &mut WorkshopDoc, ctx| {
            w.set_block_duration(ctx, &block_id, i64::from(duration_min))
        })
    }

    /// Records what happened in a block: its actual duration and notes.
    pub fn record_actual(
        &self,
        document_id: String,
        block_id: String,
        actual_min: Option<u32>,
        notes: Option<String>,
    ) -> Result<(), MobileError> {
        self.edit(&document_id, |w: &mut WorkshopDoc, ctx| {
            w.record_actual(ctx, &block_id, actual_min.map(i64::from), notes.as_deref())
        })
    }

    /// Removes a block (restorable; concurrent notes are kept).
    pub fn remove_block(&self, document_id: String, block_id: String) -> Result<(), MobileError> {
        self.edit(&document_id, |w: &mut WorkshopDoc, ctx| {
            w.remove_block(ctx, &block_id)
        })
    }

    /// Restores a removed block.
    pub fn restore_block(&self, document_id: String, block_id: String) -> Result<(), MobileError> {
        self.edit(&document_id, |w: &mut WorkshopDoc, ctx| {
            w.restore_block(ctx, &block_id)
        })
    }

    /// The workshop with the agenda's computed start times.
    pub fn workshop(&self, document_id: String) -> Result<WorkshopRecord, MobileError> {
        Ok((&self.read::<WorkshopDoc>(&document_id)?.view()?).into())
    }
}
