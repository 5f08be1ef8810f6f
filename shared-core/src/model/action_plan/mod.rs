//! The `action-plan` document: goals and measures of one business, with sign-offs.
//!
//! Confidential to the business and its coach. Measures are a map keyed by id with
//! fractional positions; status changes append to each measure's status history.

mod measures;
mod view;

use automerge::{ActorId, ROOT, ReadDoc};

pub use measures::{MeasurePatch, NewMeasure};
pub use view::{
    ActionPlanView, DuplicateHint, DuplicateReason, Funding, FundingState, Goal, Measure,
    MeasureStatus, Quadrant,
};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{
    Applied, DocKind, EditContext, Header, NachbarDoc, NeedsReview, check_conflict,
    check_conflicts, tree,
};
use crate::ids::new_record_id;
use crate::model::common;
use crate::model::review::{self, ReviewStatus, SignOffRole};
use crate::model::typed_doc;
use crate::position;

use view::StoredActionPlan;

typed_doc! {
    /// An action plan document.
    ActionPlanDoc, DocKind::ActionPlan
}

/// The fields of an action plan that may carry concurrent values, addressed by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionPlanField {
    /// `status`
    Status,
    /// `measures/<id>/status`
    MeasureStatus(String),
    /// `measures/<id>/owner`
    MeasureOwner(String),
    /// `measures/<id>/due`
    MeasureDue(String),
}

impl ActionPlanField {
    /// Parses a field path as listed in `needs_review`.
    ///
    /// # Errors
    /// [`DomainError::InvalidValue`] for any other path.
    pub fn parse(path: &str) -> Result<Self, DomainError> {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["status"] => Ok(Self::Status),
            ["measures", id, "status"] => Ok(Self::MeasureStatus((*id).to_owned())),
            ["measures", id, "owner"] => Ok(Self::MeasureOwner((*id).to_owned())),
            ["measures", id, "due"] => Ok(Self::MeasureDue((*id).to_owned())),
            _ => Err(DomainError::InvalidValue {
                field: "field",
                value: path.to_owned(),
            }),
        }
    }
}

impl ActionPlanDoc {
    /// Creates the action plan of `business`.
    ///
    /// # Errors
    /// [`DomainError::Empty`] for a blank business.
    pub fn create(
        actor: ActorId,
        ctx: &EditContext,
        neighbourhood: &str,
        business: &str,
    ) -> Result<(Self, Applied), DomainError> {
        let business = write::required("business", business)?;
        let header = Header::new(
            DocKind::ActionPlan,
            neighbourhood,
            Some(business),
            &ctx.person,
            ctx.now,
        );
        let (doc, applied) = NachbarDoc::create(actor, ctx, header, |tx| {
            for (key, node) in [
                ("status", Node::from(ReviewStatus::Draft.code())),
                ("status_history", Node::List(vec![])),
                ("sign_offs", Node::map()),
                ("goals", Node::map()),
                ("measures", Node::map()),
            ] {
                write::create(tx, &ROOT, key, node)?;
            }
            Ok(())
        })?;
        Ok((Self { doc }, applied))
    }

    pub(crate) fn stored(&self) -> Result<StoredActionPlan, DomainError> {
        tree::hydrate_root(self.doc.automerge())
    }

    /// The read model.
    ///
    /// # Errors
    /// [`DomainError::Shape`] when the document does not have an action plan's shape.
    pub fn view(&self) -> Result<ActionPlanView, DomainError> {
        let stored = self.stored()?;
        let stored_status = stored.stored_status()?;
        let (sign_offs, agreed) = review::sign_offs(&self.doc, &stored.sign_offs);
        let mut goals: Vec<(String, view::Goal)> = stored
            .goals
            .iter()
            .map(|(id, g)| (g.position().to_owned(), g.view(id)))
            .filter(|(_, g)| !g.removal.deleted)
            .collect();
        goals.sort_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
        let mut all = Vec::with_capacity(stored.measures.len());
        for (id, m) in &stored.measures {
            all.push(m.view(id)?);
        }
        all.sort_by(|a, b| (&a.position, &a.id).cmp(&(&b.position, &b.id)));
        let (mut measures, mut removed, mut merged) = (Vec::new(), Vec::new(), Vec::new());
        for m in all {
            if m.merged_into.is_some() {
                merged.push(m);
            } else if m.removal.deleted {
                removed.push(m);
            } else {
                measures.push(m);
            }
        }
        let mut counts = std::collections::BTreeMap::new();
        for m in &measures {
            *counts.entry(m.status.code().to_owned()).or_insert(0u32) += 1;
        }
        Ok(ActionPlanView {
            header: self.doc.header().clone(),
            status: review::effective_status(stored_status, agreed),
            stored_status,
            status_history: stored.status_history,
            sign_offs,
            agreed,
            goals: goals.into_iter().map(|(_, g)| g).collect(),
            duplicate_hints: view::duplicate_hints(&measures),
            measures,
            removed,
            merged,
            counts,
            needs_review: self.needs_review()?,
            last_edited: self.doc.last_edited(),
        })
    }

    /// Fields with concurrent values: plan status, measure status, owner and due date.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn needs_review(&self) -> Result<Vec<NeedsReview>, DomainError> {
        let doc = self.doc.automerge();
        let mut out = Vec::new();
        check_conflict(doc, &ROOT, "status", || "status".to_owned(), &mut out)?;
        let measures = write::map_at(doc, &ROOT, "measures")?;
        for item in doc.map_range(&measures, ..) {
            let prefix = format!("measures/{}", item.key);
            check_conflicts(
                doc,
                &item.id(),
                &["status", "owner", "due"],
                &prefix,
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// Adds a goal at the end; returns its id.
    ///
    /// # Errors
    /// Empty title or malformed target date.
    pub fn add_goal(
        &mut self,
        ctx: &EditContext,
        title: &str,
        kpi: &str,
        target_date: Option<&str>,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", title)?;
        let kpi = write::short("kpi", kpi)?;
        let target_date = target_date
            .map(|d| common::iso_date("target_date", d))
            .transpose()?;
        let stored = self.stored()?;
        let last = stored.goals.values().map(view::StoredGoal::position).max();
        let position = position::between(last, None);
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("title", title.as_str())
            .with("kpi", kpi)
            .with_opt("target_date", target_date.as_deref())
            .with("position", position.as_str())
            .with("deleted", false);
        let applied = common::insert_record(&mut self.doc, ctx, "goal.add", "goals", &id, node)?;
        Ok((id, applied))
    }

    /// Removes a goal softly.
    ///
    /// # Errors
    /// Unknown goal.
    pub fn remove_goal(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        common::remove_record(&mut self.doc, ctx, "goal.remove", ("goals", "goal"), id)
    }

    /// Sets the plan's review status by hand ("agreed" only comes from sign-offs).
    ///
    /// # Errors
    /// [`DomainError::NotAllowed`] for "agreed".
    pub fn set_status(
        &mut self,
        ctx: &EditContext,
        status: ReviewStatus,
        note: &str,
    ) -> Result<Applied, DomainError> {
        let from = self.stored()?.stored_status()?;
        review::set_status(&mut self.doc, ctx, from, status, note)
    }

    /// Signs off the current plan as `role`.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn sign_off(
        &mut self,
        ctx: &EditContext,
        role: SignOffRole,
    ) -> Result<Applied, DomainError> {
        let stored = self.stored()?;
        let status = stored.stored_status()?;
        review::sign_off(&mut self.doc, ctx, role, &stored.sign_offs, status)
    }

    /// Signs off, as `role`, the version at `seen` (the heads the signer was shown).
    ///
    /// # Errors
    /// [`DomainError::ChangedSince`] when anything but sign-offs and status changed since
    /// `seen` (or `seen` is unknown here).
    pub fn sign_off_seen(
        &mut self,
        ctx: &EditContext,
        role: SignOffRole,
        seen: &[automerge::ChangeHash],
    ) -> Result<Applied, DomainError> {
        let stored = self.stored()?;
        let status = stored.stored_status()?;
        review::sign_off_seen(&mut self.doc, ctx, role, &stored.sign_offs, status, seen)
    }

    /// Settles a field listed in `needs_review` by writing the chosen value.
    ///
    /// # Errors
    /// Unknown field path, or a value invalid for the field.
    pub fn resolve(
        &mut self,
        ctx: &EditContext,
        field: &str,
        value: &str,
    ) -> Result<Applied, DomainError> {
        match ActionPlanField::parse(field)? {
            ActionPlanField::Status => {
                let from = self.stored()?.stored_status()?;
                review::resolve_status(&mut self.doc, ctx, from, value)
            }
            ActionPlanField::MeasureStatus(id) => {
                self.set_measure_status(ctx, &id, MeasureStatus::parse(value)?, "resolved")
            }
            ActionPlanField::MeasureOwner(id) => self.update_measure(
                ctx,
                &id,
                &MeasurePatch {
                    owner: Some(value.to_owned()),
                    ..MeasurePatch::default()
                },
            ),
            ActionPlanField::MeasureDue(id) => self.update_measure(
                ctx,
                &id,
                &MeasurePatch {
                    due: Some(value.to_owned()),
                    ..MeasurePatch::default()
                },
            ),
        }
    }
}
