//! Findings, barriers, top pains and session notes of an assessment.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ROOT};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, EditContext};
use crate::ids::new_record_id;
use crate::model::common::{self};
use crate::position;

use super::{AssessmentDoc, MAX_TOP_PAINS, NewFinding, ShareLevel};

impl AssessmentDoc {
    /// Records a finding; returns its id.
    ///
    /// # Errors
    /// Empty title, severity outside 1–3, unknown area, question or barrier.
    pub fn add_finding(
        &mut self,
        ctx: &EditContext,
        finding: &NewFinding,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", &finding.title)?;
        let severity = write::in_range("severity", i64::from(finding.severity), 1, 3)?;
        let release = self.release()?;
        if release.area(&finding.area).is_none() {
            return Err(DomainError::InvalidValue {
                field: "area",
                value: finding.area.clone(),
            });
        }
        for q in &finding.questions {
            release.question(q)?;
        }
        if let Some(b) = finding.barriers.iter().find(|b| !release.has_barrier(b)) {
            return Err(DomainError::InvalidValue {
                field: "barrier",
                value: b.clone(),
            });
        }
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("area", finding.area.as_str())
            .with(
                "questions",
                Node::set(finding.questions.iter().map(String::as_str)),
            )
            .with("kind", finding.kind.code())
            .with("title", title.as_str())
            .with(
                "description",
                Node::text(write::long("description", &finding.description)?),
            )
            .with("severity", severity)
            .with(
                "barriers",
                Node::set(finding.barriers.iter().map(String::as_str)),
            )
            .with("proposed_for_workshop", false)
            .with("share_level", ShareLevel::Private.code())
            .with("created_by", ctx.person.as_str())
            .with("created_at", ctx.now.millis())
            .with("deleted", false)
            .with("edits", Node::counter(0));
        let applied =
            common::insert_record(&mut self.doc, ctx, "finding.add", "findings", &id, node)?;
        Ok((id, applied))
    }

    fn finding_edit(
        &mut self,
        ctx: &EditContext,
        op: &str,
        id: &str,
        f: impl FnOnce(&mut Transaction<'_>, &ObjId) -> Result<(), DomainError>,
    ) -> Result<Applied, DomainError> {
        common::edit_record(&mut self.doc, ctx, op, ("findings", "finding"), id, f)
    }

    /// Changes a finding's title.
    ///
    /// # Errors
    /// Empty title or unknown finding.
    pub fn set_finding_title(
        &mut self,
        ctx: &EditContext,
        id: &str,
        title: &str,
    ) -> Result<Applied, DomainError> {
        let title = write::required("title", title)?;
        self.finding_edit(ctx, "finding.title", id, |tx, obj| {
            Ok(tx.put(obj, "title", title.as_str())?)
        })
    }

    /// Replaces a finding's description (collaborative text).
    ///
    /// # Errors
    /// Unknown finding.
    pub fn set_finding_description(
        &mut self,
        ctx: &EditContext,
        id: &str,
        text: &str,
    ) -> Result<Applied, DomainError> {
        self.finding_edit(ctx, "finding.description", id, |tx, obj| {
            write::set_text(tx, obj, "description", text)
        })
    }

    /// Proposes a finding for a workshop (or withdraws the proposal).
    ///
    /// # Errors
    /// Unknown finding.
    pub fn propose_for_workshop(
        &mut self,
        ctx: &EditContext,
        id: &str,
        proposed: bool,
    ) -> Result<Applied, DomainError> {
        self.finding_edit(ctx, "finding.propose", id, |tx, obj| {
            Ok(tx.put(obj, "proposed_for_workshop", proposed)?)
        })
    }

    /// Records how far a finding is shared (the copy itself lives in the business profile).
    ///
    /// # Errors
    /// Unknown finding.
    pub fn set_finding_share_level(
        &mut self,
        ctx: &EditContext,
        id: &str,
        level: ShareLevel,
    ) -> Result<Applied, DomainError> {
        self.finding_edit(ctx, "finding.share", id, |tx, obj| {
            Ok(tx.put(obj, "share_level", level.code())?)
        })
    }

    /// Removes a finding softly.
    ///
    /// # Errors
    /// Unknown finding.
    pub fn remove_finding(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        common::remove_record(
            &mut self.doc,
            ctx,
            "finding.remove",
            ("findings", "finding"),
            id,
        )
    }

    /// Restores a removed finding.
    ///
    /// # Errors
    /// Unknown finding.
    pub fn restore_finding(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        common::restore_record(
            &mut self.doc,
            ctx,
            "finding.restore",
            ("findings", "finding"),
            id,
        )
    }

    /// Records or clears a barrier.
    ///
    /// # Errors
    /// A barrier code the release does not know.
    pub fn set_barrier(
        &mut self,
        ctx: &EditContext,
        barrier: &str,
        present: bool,
    ) -> Result<Applied, DomainError> {
        if !self.release()?.has_barrier(barrier) {
            return Err(DomainError::InvalidValue {
                field: "barrier",
                value: barrier.to_owned(),
            });
        }
        let (_, applied) = self.doc.edit(ctx, "barrier", |tx| {
            common::set_member(tx, &ROOT, "barriers", barrier, present)
        })?;
        Ok(applied)
    }

    /// Adds a top pain at the end; returns its id.
    ///
    /// # Errors
    /// Empty text, or already three top pains.
    pub fn add_top_pain(
        &mut self,
        ctx: &EditContext,
        text: &str,
    ) -> Result<(String, Applied), DomainError> {
        let text = write::required("text", text)?;
        let view = self.stored()?;
        let active: Vec<&str> = view
            .top_pains
            .values()
            .filter(|p| !p.removal_view().deleted)
            .map(|p| p.position())
            .collect();
        if active.len() >= MAX_TOP_PAINS {
            return Err(DomainError::NotAllowed(format!(
                "at most {MAX_TOP_PAINS} top pains"
            )));
        }
        let last = active.iter().max().copied();
        let position = position::between(last, None);
        let id = new_record_id(ctx.now);
        let (_, applied) = self.doc.edit(ctx, "pain.add", |tx| {
            let pains = write::map_at(tx, &ROOT, "top_pains")?;
            let node = Node::map()
                .with("text", text.as_str())
                .with("position", position.as_str())
                .with("deleted", false);
            write::create(tx, &pains, &id, node)?;
            Ok(())
        })?;
        Ok((id, applied))
    }

    /// Moves a top pain between two others (ids; `None` for the start or end).
    ///
    /// # Errors
    /// Unknown pain.
    pub fn move_top_pain(
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
                        .top_pains
                        .get(o)
                        .map(|p| p.position().to_owned())
                        .ok_or_else(|| DomainError::unknown("top pain", o))
                })
                .transpose()
        };
        let position = position::between(pos(after)?.as_deref(), pos(before)?.as_deref());
        let (_, applied) = self.doc.edit(ctx, "pain.move", |tx| {
            let obj = write::record(tx, "top_pains", id, "top pain")?;
            Ok(tx.put(&obj, "position", position.as_str())?)
        })?;
        Ok(applied)
    }

    /// Removes a top pain softly.
    ///
    /// # Errors
    /// Unknown pain.
    pub fn remove_top_pain(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        common::remove_record(
            &mut self.doc,
            ctx,
            "pain.remove",
            ("top_pains", "top pain"),
            id,
        )
    }

    /// Replaces the session notes (collaborative text).
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn set_session_notes(
        &mut self,
        ctx: &EditContext,
        text: &str,
    ) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "session_notes", |tx| {
            write::set_text(tx, &ROOT, "session_notes", text)
        })?;
        Ok(applied)
    }
}
