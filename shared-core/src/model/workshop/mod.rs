//! The `workshop` document: plan, agenda and outcomes of one workshop.
//!
//! Written by coaches and coordinators, read by the invited participants. Agenda blocks are a
//! map keyed by id with fractional positions; start times are computed on read.

mod agenda;
mod view;

use automerge::transaction::Transactable;
use automerge::{ActorId, ObjType, ROOT, ReadDoc};

pub use agenda::{BlockPatch, NewBlock};
pub use view::{
    AgendaBlock, BlockKind, Overrun, Participant, WorkshopItem, WorkshopKind, WorkshopStatus,
    WorkshopView,
};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{
    Applied, DocKind, EditContext, Header, NachbarDoc, NeedsReview, check_conflicts, tree,
};
use crate::ids::new_record_id;
use crate::model::action_plan::{ActionPlanDoc, NewMeasure};
use crate::model::common;
use crate::model::typed_doc;

use view::StoredWorkshop;

typed_doc! {
    /// A workshop document.
    WorkshopDoc, DocKind::Workshop
}

/// What a new workshop starts with.
#[derive(Debug, Clone)]
pub struct NewWorkshop {
    /// Title (required).
    pub title: String,
    /// Format.
    pub kind: WorkshopKind,
    /// Date (ISO).
    pub date: String,
    /// Start `HH:MM`.
    pub start: String,
    /// End `HH:MM`.
    pub end: String,
    /// Place.
    pub place: String,
    /// Host business id.
    pub host: Option<String>,
    /// Goal.
    pub goal: String,
}

/// The lists of short items a workshop records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemList {
    /// Decision log.
    Decisions,
    /// Parking lot.
    ParkingLot,
    /// Outcomes and follow-ups.
    Outcomes,
}

impl ItemList {
    fn key(self) -> &'static str {
        match self {
            ItemList::Decisions => "decisions",
            ItemList::ParkingLot => "parking_lot",
            ItemList::Outcomes => "outcomes",
        }
    }
}

impl WorkshopDoc {
    /// Plans a workshop.
    ///
    /// # Errors
    /// Empty title, malformed date or times, end before start.
    pub fn create(
        actor: ActorId,
        ctx: &EditContext,
        neighbourhood: &str,
        new: &NewWorkshop,
    ) -> Result<(Self, Applied), DomainError> {
        let title = write::required("title", &new.title)?;
        let date = common::iso_date("date", &new.date)?;
        let (start, end) = (
            common::clock_minutes("start", &new.start)?,
            common::clock_minutes("end", &new.end)?,
        );
        if end < start {
            return Err(DomainError::NotAllowed(
                "the workshop ends before it starts".to_owned(),
            ));
        }
        let header = Header::new(DocKind::Workshop, neighbourhood, None, &ctx.person, ctx.now);
        let (doc, applied) = NachbarDoc::create(actor, ctx, header, |tx| {
            let root = [
                ("title", Node::from(title.as_str())),
                ("kind", Node::from(new.kind.code())),
                ("guiding_question", Node::from("")),
                ("goal", Node::from(write::long("goal", &new.goal)?)),
                ("date", Node::from(date.as_str())),
                ("start", Node::from(new.start.trim())),
                ("end", Node::from(new.end.trim())),
                ("place", Node::from(write::short("place", &new.place)?)),
                ("status", Node::from(WorkshopStatus::Planned.code())),
                ("participants", Node::map()),
                ("blocks", Node::map()),
                ("decisions", Node::map()),
                ("parking_lot", Node::map()),
                ("outcomes", Node::map()),
            ];
            for (key, node) in root {
                write::create(tx, &ROOT, key, node)?;
            }
            if let Some(host) = &new.host {
                tx.put(&ROOT, "host", write::short("host", host)?)?;
            }
            Ok(())
        })?;
        Ok((Self { doc }, applied))
    }

    pub(crate) fn stored(&self) -> Result<StoredWorkshop, DomainError> {
        tree::hydrate_root(self.doc.automerge())
    }

    /// The read model.
    ///
    /// # Errors
    /// [`DomainError::Shape`] when the document does not have a workshop's shape.
    pub fn view(&self) -> Result<WorkshopView, DomainError> {
        let stored = self.stored()?;
        let mut blocks = Vec::with_capacity(stored.blocks.len());
        for (id, b) in &stored.blocks {
            blocks.push(b.view(id)?);
        }
        blocks.sort_by(|a, b| (&a.position, &a.id).cmp(&(&b.position, &b.id)));
        let (mut agenda, removed_blocks): (Vec<_>, Vec<_>) =
            blocks.into_iter().partition(|b| !b.removal.deleted);
        let (planned_min, overrun) =
            view::schedule(&mut agenda, stored.start.as_deref(), stored.end.as_deref());
        Ok(WorkshopView {
            header: self.doc.header().clone(),
            title: stored.title.clone(),
            kind: stored
                .kind
                .as_deref()
                .map_or(Ok(WorkshopKind::TopicWorkshop), WorkshopKind::parse)?,
            guiding_question: stored.guiding_question.clone(),
            goal: stored.goal.clone(),
            date: stored.date.clone(),
            start: stored.start.clone(),
            end: stored.end.clone(),
            place: stored.place.clone(),
            host: stored.host.clone(),
            status: stored.status()?,
            participants: view::participants(&stored.participants),
            agenda,
            removed_blocks,
            planned_min,
            overrun,
            decisions: view::items(&stored.decisions),
            parking_lot: view::items(&stored.parking_lot),
            outcomes: view::items(&stored.outcomes),
            needs_review: self.needs_review()?,
            last_edited: self.doc.last_edited(),
        })
    }

    /// Fields with concurrent values: block duration and position.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn needs_review(&self) -> Result<Vec<NeedsReview>, DomainError> {
        let doc = self.doc.automerge();
        let mut out = Vec::new();
        let blocks = write::map_at(doc, &ROOT, "blocks")?;
        for item in doc.map_range(&blocks, ..) {
            let prefix = format!("blocks/{}", item.key);
            check_conflicts(
                doc,
                &item.id(),
                &["duration_min", "position"],
                &prefix,
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// Sets the status (planned → held → closed; going back is allowed to correct mistakes).
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn set_status(
        &mut self,
        ctx: &EditContext,
        status: WorkshopStatus,
    ) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "workshop.status", |tx| {
            Ok(tx.put(&ROOT, "status", status.code())?)
        })?;
        Ok(applied)
    }

    /// Changes the time slot.
    ///
    /// # Errors
    /// Malformed times, end before start, or a frozen agenda.
    pub fn set_times(
        &mut self,
        ctx: &EditContext,
        start: &str,
        end: &str,
    ) -> Result<Applied, DomainError> {
        self.ensure_planned()?;
        let (s, e) = (
            common::clock_minutes("start", start)?,
            common::clock_minutes("end", end)?,
        );
        if e < s {
            return Err(DomainError::NotAllowed(
                "the workshop ends before it starts".to_owned(),
            ));
        }
        let (_, applied) = self.doc.edit(ctx, "workshop.times", |tx| {
            tx.put(&ROOT, "start", start.trim())?;
            Ok(tx.put(&ROOT, "end", end.trim())?)
        })?;
        Ok(applied)
    }

    /// Sets the guiding question.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn set_guiding_question(
        &mut self,
        ctx: &EditContext,
        text: &str,
    ) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "workshop.question", |tx| {
            Ok(tx.put(
                &ROOT,
                "guiding_question",
                write::long("guiding_question", text.trim())?,
            )?)
        })?;
        Ok(applied)
    }

    /// Invites a person (or updates the invitation).
    ///
    /// # Errors
    /// Empty person id.
    pub fn invite(
        &mut self,
        ctx: &EditContext,
        person: &str,
        business: Option<&str>,
        role: Option<&str>,
    ) -> Result<Applied, DomainError> {
        let person = write::required("person", person)?;
        let (_, applied) = self.doc.edit(ctx, "participant.invite", |tx| {
            let map = write::map_at(tx, &ROOT, "participants")?;
            let obj = match write::map_at(tx, &map, &person) {
                Ok(obj) => obj,
                Err(_) => tx.put_object(&map, person.as_str(), ObjType::Map)?,
            };
            if let Some(b) = business {
                tx.put(&obj, "business", b)?;
            }
            if let Some(r) = role {
                tx.put(&obj, "role", r)?;
            }
            Ok(())
        })?;
        Ok(applied)
    }

    /// Adds a decision, parking-lot item or outcome; returns its id. `business` names the
    /// business a follow-up is for.
    ///
    /// # Errors
    /// Empty text.
    pub fn add_item(
        &mut self,
        ctx: &EditContext,
        list: ItemList,
        text: &str,
        business: Option<&str>,
    ) -> Result<(String, Applied), DomainError> {
        let text = write::required("text", text)?;
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("text", text.as_str())
            .with("by", ctx.person.as_str())
            .with("at", ctx.now.millis())
            .with_opt("business", business)
            .with("deleted", false);
        let applied = common::insert_record(&mut self.doc, ctx, "item.add", list.key(), &id, node)?;
        Ok((id, applied))
    }

    /// Removes an item softly.
    ///
    /// # Errors
    /// Unknown item.
    pub fn remove_item(
        &mut self,
        ctx: &EditContext,
        list: ItemList,
        id: &str,
    ) -> Result<Applied, DomainError> {
        common::remove_record(&mut self.doc, ctx, "item.remove", (list.key(), "item"), id)
    }

    /// Turns a follow-up outcome into a measure of the business's action plan: the measure is
    /// created in `plan` and the outcome records it. Returns the measure id and both changes
    /// (plan first: it must be persisted before the outcome refers to it).
    ///
    /// # Errors
    /// Unknown outcome, an outcome already converted, or a plan of another business.
    pub fn follow_up_to_measure(
        &mut self,
        ctx: &EditContext,
        outcome: &str,
        plan: &mut ActionPlanDoc,
    ) -> Result<(String, Applied, Applied), DomainError> {
        let stored = self.stored()?;
        let item = view::items(&stored.outcomes)
            .into_iter()
            .find(|i| i.id == outcome)
            .ok_or_else(|| DomainError::unknown("outcome", outcome))?;
        if item.measure.is_some() {
            return Err(DomainError::NotAllowed(
                "this follow-up already became a measure".to_owned(),
            ));
        }
        if item.business.is_some() && item.business != plan.inner().header().business {
            return Err(DomainError::NotAllowed(
                "the follow-up is for another business".to_owned(),
            ));
        }
        let new = NewMeasure {
            title: item.text,
            ..NewMeasure::default()
        };
        let (measure, plan_applied) = plan.add_measure(ctx, &new)?;
        let reference = format!(
            "{}/{measure}",
            plan.inner().header().business.clone().unwrap_or_default()
        );
        let (_, applied) = self.doc.edit(ctx, "outcome.measure", |tx| {
            let obj = write::record(tx, "outcomes", outcome, "outcome")?;
            Ok(tx.put(&obj, "measure", reference.as_str())?)
        })?;
        Ok((measure, plan_applied, applied))
    }

    fn ensure_planned(&self) -> Result<(), DomainError> {
        let status = self.stored()?.status()?;
        if status == WorkshopStatus::Planned {
            Ok(())
        } else {
            Err(DomainError::NotAllowed(format!(
                "the agenda is frozen once the workshop is {}; record actual times and outcomes instead",
                status.code()
            )))
        }
    }
}
