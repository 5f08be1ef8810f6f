//! Edit operations on the measures of an action plan.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, ReadDoc};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, EditContext};
use crate::ids::new_record_id;
use crate::model::assessment::ShareLevel;
use crate::model::common::{self, count_edit};
use crate::position;

use super::ActionPlanDoc;
use super::view::{FundingState, MeasureStatus};

/// A new measure.
#[derive(Debug, Clone, Default)]
pub struct NewMeasure {
    /// Title (required).
    pub title: String,
    /// Description.
    pub description: String,
    /// Topic area code.
    pub area: Option<String>,
    /// Goal id.
    pub goal: Option<String>,
    /// Findings it addresses.
    pub findings: Vec<String>,
    /// Owner (person id).
    pub owner: Option<String>,
    /// Due date (ISO).
    pub due: Option<String>,
    /// Impact 1–5.
    pub impact: Option<u8>,
    /// Effort score 1–5.
    pub effort_score: Option<u8>,
}

/// Changes to a measure: only the fields given are written. For optional text fields an empty
/// string clears the value.
#[derive(Debug, Clone, Default)]
pub struct MeasurePatch {
    /// New title.
    pub title: Option<String>,
    /// New description (collaborative text).
    pub description: Option<String>,
    /// New progress note (collaborative text).
    pub progress_note: Option<String>,
    /// Owner (person id).
    pub owner: Option<String>,
    /// Start (ISO date).
    pub start: Option<String>,
    /// Due (ISO date).
    pub due: Option<String>,
    /// Next review (ISO date).
    pub next_review: Option<String>,
    /// Effort as text.
    pub effort: Option<String>,
    /// One-off cost in euros.
    pub cost_once_eur: Option<i64>,
    /// Recurring cost in euros per year.
    pub cost_recurring_eur: Option<i64>,
    /// Impact 1–5.
    pub impact: Option<u8>,
    /// Effort score 1–5.
    pub effort_score: Option<u8>,
    /// Funding programme.
    pub funding_programme: Option<String>,
    /// Funding state.
    pub funding_state: Option<FundingState>,
    /// Granted amount.
    pub funding_amount_eur: Option<i64>,
    /// Visibility.
    pub visibility: Option<ShareLevel>,
}

fn put_optional_text(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    value: &str,
) -> Result<(), DomainError> {
    let value = write::short("value", value.trim())?;
    if value.is_empty() {
        if tx.get(obj, key)?.is_some() {
            tx.delete(obj, key)?;
        }
    } else {
        tx.put(obj, key, value)?;
    }
    Ok(())
}

fn put_optional_date(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &'static str,
    value: &str,
) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        put_optional_text(tx, obj, key, "")
    } else {
        let date = common::iso_date(key, value)?;
        Ok(tx.put(obj, key, date.as_str())?)
    }
}

fn cost(field: &'static str, value: i64) -> Result<i64, DomainError> {
    write::in_range(field, value, 0, 100_000_000)
}

impl ActionPlanDoc {
    /// Adds a measure at the end with status "idea"; returns its id.
    ///
    /// # Errors
    /// Empty title, scores outside 1–5, malformed due date.
    pub fn add_measure(
        &mut self,
        ctx: &EditContext,
        new: &NewMeasure,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", &new.title)?;
        for (field, v) in [("impact", new.impact), ("effort_score", new.effort_score)] {
            if let Some(v) = v {
                write::in_range(field, i64::from(v), 1, 5)?;
            }
        }
        let due = new
            .due
            .as_deref()
            .map(|d| common::iso_date("due", d))
            .transpose()?;
        let stored = self.stored()?;
        let last = stored.measures.values().map(|m| m.position.as_str()).max();
        let position = position::between(last, None);
        let id = new_record_id(ctx.now);
        let initial = common::status_entry(
            None,
            MeasureStatus::Idea.code(),
            &ctx.person,
            ctx.now.millis(),
            "",
        );
        let node = Node::map()
            .with("title", title.as_str())
            .with(
                "description",
                Node::text(write::long("description", &new.description)?),
            )
            .with("progress_note", Node::text(""))
            .with_opt("area", new.area.as_deref())
            .with_opt("goal", new.goal.as_deref())
            .with(
                "findings",
                Node::set(new.findings.iter().map(String::as_str)),
            )
            .with_opt("owner", new.owner.as_deref())
            .with_opt("due", due.as_deref())
            .with_opt("impact", new.impact)
            .with_opt("effort_score", new.effort_score)
            .with("status", MeasureStatus::Idea.code())
            .with("status_history", Node::List(vec![initial]))
            .with("funding", Node::map())
            .with("helpers", Node::map())
            .with("depends_on", Node::map())
            .with("barriers", Node::map())
            .with("visibility", ShareLevel::Private.code())
            .with("position", position.as_str())
            .with("created_by", ctx.person.as_str())
            .with("created_at", ctx.now.millis())
            .with("deleted", false)
            .with("edits", Node::counter(0));
        let applied =
            common::insert_record(&mut self.doc, ctx, "measure.add", "measures", &id, node)?;
        Ok((id, applied))
    }

    fn measure_edit(
        &mut self,
        ctx: &EditContext,
        op: &str,
        id: &str,
        f: impl FnOnce(&mut Transaction<'_>, &ObjId) -> Result<(), DomainError>,
    ) -> Result<Applied, DomainError> {
        common::edit_record(&mut self.doc, ctx, op, ("measures", "measure"), id, f)
    }

    /// Writes the fields given in `patch` (and only those).
    ///
    /// # Errors
    /// Unknown measure, empty title, scores outside 1–5, malformed dates, negative costs.
    pub fn update_measure(
        &mut self,
        ctx: &EditContext,
        id: &str,
        patch: &MeasurePatch,
    ) -> Result<Applied, DomainError> {
        let title = patch
            .title
            .as_deref()
            .map(|t| write::required("title", t))
            .transpose()?;
        for (field, v) in [
            ("impact", patch.impact),
            ("effort_score", patch.effort_score),
        ] {
            if let Some(v) = v {
                write::in_range(field, i64::from(v), 1, 5)?;
            }
        }
        let costs = [
            ("cost_once_eur", patch.cost_once_eur),
            ("cost_recurring_eur", patch.cost_recurring_eur),
        ];
        for (field, v) in costs {
            if let Some(v) = v {
                cost(field, v)?;
            }
        }
        self.measure_edit(ctx, "measure.update", id, |tx, obj| {
            if let Some(title) = &title {
                tx.put(obj, "title", title.as_str())?;
            }
            if let Some(text) = &patch.description {
                write::set_text(tx, obj, "description", text)?;
            }
            if let Some(text) = &patch.progress_note {
                write::set_text(tx, obj, "progress_note", text)?;
            }
            if let Some(owner) = &patch.owner {
                put_optional_text(tx, obj, "owner", owner)?;
            }
            if let Some(effort) = &patch.effort {
                put_optional_text(tx, obj, "effort", effort)?;
            }
            for (key, value) in [
                ("start", &patch.start),
                ("due", &patch.due),
                ("next_review", &patch.next_review),
            ] {
                if let Some(value) = value {
                    put_optional_date(tx, obj, key, value)?;
                }
            }
            for (key, value) in costs {
                if let Some(v) = value {
                    tx.put(obj, key, v)?;
                }
            }
            for (key, value) in [
                ("impact", patch.impact),
                ("effort_score", patch.effort_score),
            ] {
                if let Some(v) = value {
                    tx.put(obj, key, i64::from(v))?;
                }
            }
            if let Some(visibility) = patch.visibility {
                tx.put(obj, "visibility", visibility.code())?;
            }
            if patch.funding_programme.is_some()
                || patch.funding_state.is_some()
                || patch.funding_amount_eur.is_some()
            {
                let funding = match write::map_at(tx, obj, "funding") {
                    Ok(f) => f,
                    Err(_) => tx.put_object(obj, "funding", ObjType::Map)?,
                };
                if let Some(p) = &patch.funding_programme {
                    put_optional_text(tx, &funding, "programme", p)?;
                }
                if let Some(s) = patch.funding_state {
                    tx.put(&funding, "state", s.code())?;
                }
                if let Some(a) = patch.funding_amount_eur {
                    tx.put(&funding, "amount_eur", cost("funding_amount_eur", a)?)?;
                }
            }
            Ok(())
        })
    }

    /// Sets a measure's status and appends the transition (with `note`) to its history.
    ///
    /// # Errors
    /// Unknown measure.
    pub fn set_measure_status(
        &mut self,
        ctx: &EditContext,
        id: &str,
        status: MeasureStatus,
        note: &str,
    ) -> Result<Applied, DomainError> {
        self.measure_edit(ctx, "measure.status", id, |tx, obj| {
            let from = write::get_str(tx, obj, "status")?;
            tx.put(obj, "status", status.code())?;
            common::append_status(tx, obj, from.as_deref(), status.code(), ctx, note)
        })
    }

    /// Records (or removes) that measure `id` depends on measure `on`.
    ///
    /// # Errors
    /// Unknown measures, or a measure depending on itself.
    pub fn set_dependency(
        &mut self,
        ctx: &EditContext,
        id: &str,
        on: &str,
        present: bool,
    ) -> Result<Applied, DomainError> {
        if id == on {
            return Err(DomainError::NotAllowed(
                "a measure cannot depend on itself".to_owned(),
            ));
        }
        self.measure_edit(ctx, "measure.dependency", id, |tx, obj| {
            write::record(tx, "measures", on, "measure")?;
            common::set_member(tx, obj, "depends_on", on, present)
        })
    }

    /// Moves a measure between two others (ids; `None` for the start or end). Only its
    /// position changes.
    ///
    /// # Errors
    /// Unknown measure or neighbour.
    pub fn move_measure(
        &mut self,
        ctx: &EditContext,
        id: &str,
        after: Option<&str>,
        before: Option<&str>,
    ) -> Result<Applied, DomainError> {
        let stored = self.stored()?;
        let pos = |other: Option<&str>| -> Result<Option<String>, DomainError> {
            other
                .map(|o| {
                    stored
                        .measures
                        .get(o)
                        .map(|m| m.position.clone())
                        .ok_or_else(|| DomainError::unknown("measure", o))
                })
                .transpose()
        };
        let position = position::between(pos(after)?.as_deref(), pos(before)?.as_deref());
        self.measure_edit(ctx, "measure.move", id, |tx, obj| {
            Ok(tx.put(obj, "position", position.as_str())?)
        })
    }

    /// Removes a measure softly (it keeps its content and can be restored).
    ///
    /// # Errors
    /// Unknown measure.
    pub fn remove_measure(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        common::remove_record(
            &mut self.doc,
            ctx,
            "measure.remove",
            ("measures", "measure"),
            id,
        )
    }

    /// Restores a removed or merged measure.
    ///
    /// # Errors
    /// Unknown measure.
    pub fn restore_measure(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "measure.restore", |tx| {
            let obj = write::record(tx, "measures", id, "measure")?;
            if tx.get(&obj, "merged_into")?.is_some() {
                tx.delete(&obj, "merged_into")?;
            }
            common::restore(tx, &obj)
        })?;
        Ok(applied)
    }

    /// Merges the duplicate `duplicate` into `into`: the duplicate is marked `merged_into`,
    /// its status history and findings are copied to `into`; nothing is deleted.
    ///
    /// # Errors
    /// Unknown measures, merging a measure into itself or into a removed or merged one.
    pub fn merge_measures(
        &mut self,
        ctx: &EditContext,
        duplicate: &str,
        into: &str,
    ) -> Result<Applied, DomainError> {
        if duplicate == into {
            return Err(DomainError::NotAllowed(
                "a measure cannot be merged into itself".to_owned(),
            ));
        }
        let stored = self.stored()?;
        let dup = stored
            .measures
            .get(duplicate)
            .ok_or_else(|| DomainError::unknown("measure", duplicate))?;
        // Only into an active measure: merging into a removed or merged one (or back and forth)
        // would hide both.
        let target = stored
            .measures
            .get(into)
            .ok_or_else(|| DomainError::unknown("measure", into))?;
        if target.merged_into.is_some() || target.removal.view().deleted {
            return Err(DomainError::NotAllowed(
                "a measure can only be merged into an active one".to_owned(),
            ));
        }
        let history = dup.status_history.clone();
        let findings = common::set_members(&dup.findings);
        let title = dup.title.clone();
        let (_, applied) = self.doc.edit(ctx, "measure.merge", |tx| {
            let target = write::record(tx, "measures", into, "measure")?;
            let source = write::record(tx, "measures", duplicate, "measure")?;
            tx.put(&source, "merged_into", into)?;
            for entry in &history {
                let note = if entry.note.is_empty() {
                    format!("from duplicate \"{title}\"")
                } else {
                    format!("{} (from duplicate \"{title}\")", entry.note)
                };
                let node = common::status_entry(
                    entry.from.as_deref(),
                    &entry.to,
                    &entry.by,
                    entry.at,
                    &note,
                );
                let list = match tx.get(&target, "status_history")? {
                    Some((v, id)) if v.to_objtype() == Some(ObjType::List) => id,
                    _ => tx.put_object(&target, "status_history", ObjType::List)?,
                };
                let len = tx.length(&list);
                tx.batch_create_object(&list, len, &node.into_hydrate_value(), true)?;
            }
            for f in &findings {
                common::set_member(tx, &target, "findings", f, true)?;
            }
            count_edit(tx, &target)?;
            count_edit(tx, &source)
        })?;
        Ok(applied)
    }
}
