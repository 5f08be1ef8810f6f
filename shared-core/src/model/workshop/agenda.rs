//! Edit operations on the agenda blocks of a workshop.

use automerge::ObjId;
use automerge::transaction::{Transactable, Transaction};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, EditContext};
use crate::ids::new_record_id;
use crate::model::common::{self};
use crate::position;

use super::WorkshopDoc;
use super::view::BlockKind;

/// The longest block: a whole day.
const MAX_BLOCK_MIN: i64 = 24 * 60;

/// A new agenda block.
#[derive(Debug, Clone)]
pub struct NewBlock {
    /// Title (required).
    pub title: String,
    /// Kind.
    pub kind: BlockKind,
    /// Planned duration in minutes.
    pub duration_min: u32,
    /// Method reference.
    pub method: Option<String>,
    /// Goal.
    pub goal: String,
    /// Materials.
    pub materials: String,
    /// Expected output.
    pub expected_output: String,
}

/// Changes to a block: only the fields given are written.
#[derive(Debug, Clone, Default)]
pub struct BlockPatch {
    /// Title.
    pub title: Option<String>,
    /// Goal.
    pub goal: Option<String>,
    /// Instructions (collaborative text).
    pub instructions: Option<String>,
    /// Materials (collaborative text).
    pub materials: Option<String>,
    /// Expected output.
    pub expected_output: Option<String>,
    /// Add these responsible people.
    pub add_responsible: Vec<String>,
}

impl WorkshopDoc {
    fn block_edit(
        &mut self,
        ctx: &EditContext,
        op: &str,
        id: &str,
        f: impl FnOnce(&mut Transaction<'_>, &ObjId) -> Result<(), DomainError>,
    ) -> Result<Applied, DomainError> {
        common::edit_record(&mut self.doc, ctx, op, ("blocks", "agenda block"), id, f)
    }

    fn block_position(&self, id: Option<&str>) -> Result<Option<String>, DomainError> {
        let Some(id) = id else { return Ok(None) };
        let stored = self.stored()?;
        stored
            .blocks
            .get(id)
            .map(|b| Some(b.position.clone()))
            .ok_or_else(|| DomainError::unknown("agenda block", id))
    }

    /// Adds a block after `after` (an id; `None` appends at the end); returns its id.
    ///
    /// # Errors
    /// Empty title, duration over a day, unknown neighbour, or a frozen agenda.
    pub fn add_block(
        &mut self,
        ctx: &EditContext,
        block: &NewBlock,
        after: Option<&str>,
    ) -> Result<(String, Applied), DomainError> {
        self.ensure_planned()?;
        let title = write::required("title", &block.title)?;
        let duration = write::in_range(
            "duration_min",
            i64::from(block.duration_min),
            0,
            MAX_BLOCK_MIN,
        )?;
        let stored = self.stored()?;
        let mut active: Vec<(&str, &str)> = stored
            .blocks
            .iter()
            .filter(|(_, b)| !b.removal.view().deleted)
            .map(|(id, b)| (b.position.as_str(), id.as_str()))
            .collect();
        active.sort();
        let (before_pos, after_pos) = match after {
            None => (active.last().map(|(p, _)| (*p).to_owned()), None),
            Some(a) => {
                let idx = active
                    .iter()
                    .position(|(_, id)| *id == a)
                    .ok_or_else(|| DomainError::unknown("agenda block", a))?;
                (
                    Some(active[idx].0.to_owned()),
                    active.get(idx + 1).map(|(p, _)| (*p).to_owned()),
                )
            }
        };
        let position = position::between(before_pos.as_deref(), after_pos.as_deref());
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("title", title.as_str())
            .with("kind", block.kind.code())
            .with_opt("method", block.method.as_deref())
            .with("duration_min", duration)
            .with("goal", block.goal.as_str())
            .with("instructions", Node::text(""))
            .with(
                "materials",
                Node::text(write::long("materials", &block.materials)?),
            )
            .with("responsible", Node::map())
            .with("expected_output", block.expected_output.as_str())
            .with("notes", Node::text(""))
            .with("position", position.as_str())
            .with("deleted", false)
            .with("edits", Node::counter(0));
        let applied = common::insert_record(&mut self.doc, ctx, "block.add", "blocks", &id, node)?;
        Ok((id, applied))
    }

    /// Writes the fields given in `patch`.
    ///
    /// # Errors
    /// Unknown block or empty title.
    pub fn update_block(
        &mut self,
        ctx: &EditContext,
        id: &str,
        patch: &BlockPatch,
    ) -> Result<Applied, DomainError> {
        let title = patch
            .title
            .as_deref()
            .map(|t| write::required("title", t))
            .transpose()?;
        self.block_edit(ctx, "block.update", id, |tx, obj| {
            if let Some(t) = &title {
                tx.put(obj, "title", t.as_str())?;
            }
            if let Some(g) = &patch.goal {
                tx.put(obj, "goal", write::long("goal", g)?)?;
            }
            if let Some(o) = &patch.expected_output {
                tx.put(obj, "expected_output", write::long("expected_output", o)?)?;
            }
            if let Some(text) = &patch.instructions {
                write::set_text(tx, obj, "instructions", text)?;
            }
            if let Some(text) = &patch.materials {
                write::set_text(tx, obj, "materials", text)?;
            }
            for person in &patch.add_responsible {
                common::set_member(tx, obj, "responsible", person, true)?;
            }
            Ok(())
        })
    }

    /// Sets the planned duration of a block.
    ///
    /// # Errors
    /// Duration over a day, unknown block, or a frozen agenda.
    pub fn set_block_duration(
        &mut self,
        ctx: &EditContext,
        id: &str,
        minutes: i64,
    ) -> Result<Applied, DomainError> {
        self.ensure_planned()?;
        let minutes = write::in_range("duration_min", minutes, 0, MAX_BLOCK_MIN)?;
        self.block_edit(ctx, "block.duration", id, |tx, obj| {
            Ok(tx.put(obj, "duration_min", minutes)?)
        })
    }

    /// Moves a block between two others (ids; `None` for the start or end); only its position
    /// changes.
    ///
    /// # Errors
    /// Unknown block or neighbour, or a frozen agenda.
    pub fn move_block(
        &mut self,
        ctx: &EditContext,
        id: &str,
        after: Option<&str>,
        before: Option<&str>,
    ) -> Result<Applied, DomainError> {
        self.ensure_planned()?;
        let position = position::between(
            self.block_position(after)?.as_deref(),
            self.block_position(before)?.as_deref(),
        );
        self.block_edit(ctx, "block.move", id, |tx, obj| {
            Ok(tx.put(obj, "position", position.as_str())?)
        })
    }

    /// Records what happened on the day: actual duration and notes (allowed after the
    /// workshop was held).
    ///
    /// # Errors
    /// Duration over a day or unknown block.
    pub fn record_actual(
        &mut self,
        ctx: &EditContext,
        id: &str,
        actual_min: Option<i64>,
        notes: Option<&str>,
    ) -> Result<Applied, DomainError> {
        let actual = actual_min
            .map(|m| write::in_range("actual_duration_min", m, 0, MAX_BLOCK_MIN))
            .transpose()?;
        self.block_edit(ctx, "block.actual", id, |tx, obj| {
            if let Some(m) = actual {
                tx.put(obj, "actual_duration_min", m)?;
            }
            if let Some(n) = notes {
                write::set_text(tx, obj, "notes", n)?;
            }
            Ok(())
        })
    }

    /// Removes a block softly; its content stays and it can be restored.
    ///
    /// # Errors
    /// Unknown block or a frozen agenda.
    pub fn remove_block(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        self.ensure_planned()?;
        common::remove_record(
            &mut self.doc,
            ctx,
            "block.remove",
            ("blocks", "agenda block"),
            id,
        )
    }

    /// Restores a removed block with everything recorded on it.
    ///
    /// # Errors
    /// Unknown block.
    pub fn restore_block(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        common::restore_record(
            &mut self.doc,
            ctx,
            "block.restore",
            ("blocks", "agenda block"),
            id,
        )
    }

    /// Settles a field listed in `needs_review` (`blocks/<id>/duration_min` or
    /// `blocks/<id>/position`) by writing the chosen value.
    ///
    /// # Errors
    /// Unknown field path or an invalid value.
    pub fn resolve(
        &mut self,
        ctx: &EditContext,
        field: &str,
        value: &str,
    ) -> Result<Applied, DomainError> {
        let parts: Vec<&str> = field.split('/').collect();
        match parts.as_slice() {
            ["blocks", id, "duration_min"] => {
                let minutes = value
                    .trim()
                    .parse()
                    .map_err(|_| DomainError::InvalidValue {
                        field: "duration_min",
                        value: value.to_owned(),
                    })?;
                let minutes = write::in_range("duration_min", minutes, 0, MAX_BLOCK_MIN)?;
                self.block_edit(ctx, "resolve.duration", id, |tx, obj| {
                    Ok(tx.put(obj, "duration_min", minutes)?)
                })
            }
            ["blocks", id, "position"] => {
                if !position::is_valid(value) {
                    return Err(DomainError::InvalidValue {
                        field: "position",
                        value: value.to_owned(),
                    });
                }
                self.block_edit(ctx, "resolve.position", id, |tx, obj| {
                    Ok(tx.put(obj, "position", value)?)
                })
            }
            _ => Err(DomainError::InvalidValue {
                field: "field",
                value: field.to_owned(),
            }),
        }
    }
}
