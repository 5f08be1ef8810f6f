//! The `neighbourhood` document: name, phase, members for display, coordinators and coaches,
//! the meeting calendar and joint offerings.
//!
//! The member list is written by the server when an admin changes membership; the server's
//! directory, not this list, decides access.

mod view;

use automerge::transaction::Transactable;
use automerge::{ActorId, ObjType, ROOT, ReadDoc};

pub use view::{
    CostModel, DEFAULT_AGGREGATE_THRESHOLD, JointOffering, Meeting, Member, NeighbourhoodView,
    OfferingKind, OfferingStatus, Phase,
};

use crate::DomainError;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, DocKind, EditContext, Header, NachbarDoc, tree};
use crate::ids::new_record_id;
use crate::model::common;
use crate::model::typed_doc;

use view::StoredNeighbourhood;

typed_doc! {
    /// A neighbourhood document.
    NeighbourhoodDoc, DocKind::Neighbourhood
}

/// A new joint offering.
#[derive(Debug, Clone)]
pub struct NewOffering {
    /// Title (required).
    pub title: String,
    /// Type.
    pub kind: OfferingKind,
    /// Provider.
    pub provider: String,
    /// Seats needed.
    pub min_seats: u32,
    /// Cost model.
    pub cost_model: CostModel,
    /// Cost in euros.
    pub cost_eur: Option<i64>,
}

/// The largest aggregate threshold; the smallest is [`DEFAULT_AGGREGATE_THRESHOLD`].
const MAX_AGGREGATE_THRESHOLD: i64 = 50;

impl NeighbourhoodDoc {
    /// Creates the document of the neighbourhood `id` (the directory's id).
    ///
    /// # Errors
    /// Empty id or name.
    pub fn create(
        actor: ActorId,
        ctx: &EditContext,
        id: &str,
        name: &str,
        location: &str,
    ) -> Result<(Self, Applied), DomainError> {
        let id = write::required("neighbourhood", id)?;
        let name = write::required("name", name)?;
        let header = Header::new(DocKind::Neighbourhood, id, None, &ctx.person, ctx.now);
        let (doc, applied) = NachbarDoc::create(actor, ctx, header, |tx| {
            let root = [
                ("name", Node::from(name.as_str())),
                ("location", Node::from(write::short("location", location)?)),
                ("phase", Node::from(Phase::Forming.code())),
                ("carriers", Node::map()),
                ("charter", Node::text("")),
                (
                    "aggregate_threshold",
                    Node::from(DEFAULT_AGGREGATE_THRESHOLD),
                ),
                ("members", Node::map()),
                ("coordinators", Node::map()),
                ("coaches", Node::map()),
                ("meetings", Node::map()),
                ("joint_offerings", Node::map()),
            ];
            for (key, node) in root {
                write::create(tx, &ROOT, key, node)?;
            }
            Ok(())
        })?;
        Ok((Self { doc }, applied))
    }

    /// The read model.
    ///
    /// # Errors
    /// [`DomainError::Shape`] when the document does not have a neighbourhood's shape.
    pub fn view(&self) -> Result<NeighbourhoodView, DomainError> {
        let stored: StoredNeighbourhood = tree::hydrate_root(self.doc.automerge())?;
        stored.view(self.doc.header().clone(), self.doc.last_edited())
    }

    /// Sets the phase.
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn set_phase(&mut self, ctx: &EditContext, phase: Phase) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "phase", |tx| {
            Ok(tx.put(&ROOT, "phase", phase.code())?)
        })?;
        Ok(applied)
    }

    /// Adds or removes a carrier organisation.
    ///
    /// # Errors
    /// Empty name.
    pub fn set_carrier(
        &mut self,
        ctx: &EditContext,
        name: &str,
        present: bool,
    ) -> Result<Applied, DomainError> {
        let name = write::required("carrier", name)?;
        let (_, applied) = self.doc.edit(ctx, "carrier", |tx| {
            common::set_member(tx, &ROOT, "carriers", &name, present)
        })?;
        Ok(applied)
    }

    /// Replaces the charter (collaborative text).
    ///
    /// # Errors
    /// Only on a malformed document.
    pub fn set_charter(&mut self, ctx: &EditContext, text: &str) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "charter", |tx| {
            write::set_text(tx, &ROOT, "charter", text)
        })?;
        Ok(applied)
    }

    /// Sets how many businesses must contribute before an aggregate is shown (3–50).
    ///
    /// # Errors
    /// A threshold outside 3–50.
    pub fn set_aggregate_threshold(
        &mut self,
        ctx: &EditContext,
        threshold: i64,
    ) -> Result<Applied, DomainError> {
        let t = write::in_range(
            "aggregate_threshold",
            threshold,
            i64::from(DEFAULT_AGGREGATE_THRESHOLD),
            MAX_AGGREGATE_THRESHOLD,
        )?;
        let (_, applied) = self.doc.edit(ctx, "threshold", |tx| {
            Ok(tx.put(&ROOT, "aggregate_threshold", t)?)
        })?;
        Ok(applied)
    }

    /// Records a member business (written by the server when membership changes).
    ///
    /// # Errors
    /// Empty id or name, malformed date.
    pub fn upsert_member(
        &mut self,
        ctx: &EditContext,
        business: &str,
        name: &str,
        trade: &str,
        joined_at: &str,
    ) -> Result<Applied, DomainError> {
        let business = write::required("business", business)?;
        let name = write::required("name", name)?;
        let joined = common::iso_date("joined_at", joined_at)?;
        let (_, applied) = self.doc.edit(ctx, "member.upsert", |tx| {
            let members = write::map_at(tx, &ROOT, "members")?;
            let obj = match write::map_at(tx, &members, &business) {
                Ok(obj) => obj,
                Err(_) => tx.put_object(&members, business.as_str(), ObjType::Map)?,
            };
            tx.put(&obj, "name", name.as_str())?;
            tx.put(&obj, "trade", write::short("trade", trade)?)?;
            tx.put(&obj, "joined_at", joined.as_str())?;
            if tx.get(&obj, "left_at")?.is_some() {
                tx.delete(&obj, "left_at")?;
            }
            Ok(())
        })?;
        Ok(applied)
    }

    /// Records that a member left (written by the server).
    ///
    /// # Errors
    /// Unknown member or malformed date.
    pub fn member_left(
        &mut self,
        ctx: &EditContext,
        business: &str,
        left_at: &str,
    ) -> Result<Applied, DomainError> {
        let left = common::iso_date("left_at", left_at)?;
        let (_, applied) = self.doc.edit(ctx, "member.left", |tx| {
            let obj = write::record(tx, "members", business, "member")?;
            Ok(tx.put(&obj, "left_at", left.as_str())?)
        })?;
        Ok(applied)
    }

    /// Adds or removes a coordinator or coach (person ids, for display).
    ///
    /// # Errors
    /// Empty person id.
    pub fn set_staff(
        &mut self,
        ctx: &EditContext,
        coach: bool,
        person: &str,
        present: bool,
    ) -> Result<Applied, DomainError> {
        let person = write::required("person", person)?;
        let key = if coach { "coaches" } else { "coordinators" };
        let (_, applied) = self.doc.edit(ctx, "staff", |tx| {
            common::set_member(tx, &ROOT, key, &person, present)
        })?;
        Ok(applied)
    }

    /// Adds a meeting to the calendar; returns its id.
    ///
    /// # Errors
    /// Empty title, malformed date or time.
    pub fn add_meeting(
        &mut self,
        ctx: &EditContext,
        title: &str,
        date: &str,
        start: Option<&str>,
        place: &str,
        workshop: Option<&str>,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", title)?;
        let date = common::iso_date("date", date)?;
        if let Some(s) = start {
            common::clock_minutes("start", s)?;
        }
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("title", title.as_str())
            .with("date", date.as_str())
            .with_opt("start", start.map(str::trim))
            .with("place", write::short("place", place)?)
            .with_opt("workshop", workshop)
            .with("deleted", false);
        let applied =
            common::insert_record(&mut self.doc, ctx, "meeting.add", "meetings", &id, node)?;
        Ok((id, applied))
    }

    /// Removes a meeting softly.
    ///
    /// # Errors
    /// Unknown meeting.
    pub fn remove_meeting(&mut self, ctx: &EditContext, id: &str) -> Result<Applied, DomainError> {
        common::remove_record(
            &mut self.doc,
            ctx,
            "meeting.remove",
            ("meetings", "meeting"),
            id,
        )
    }

    /// Adds a joint offering in status "idea"; returns its id.
    ///
    /// # Errors
    /// Empty title, negative cost.
    pub fn add_offering(
        &mut self,
        ctx: &EditContext,
        new: &NewOffering,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", &new.title)?;
        if let Some(c) = new.cost_eur {
            write::in_range("cost_eur", c, 0, 100_000_000)?;
        }
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("title", title.as_str())
            .with("kind", new.kind.code())
            .with("provider", write::short("provider", &new.provider)?)
            .with("description", Node::text(""))
            .with("min_seats", new.min_seats)
            .with("cost_model", new.cost_model.code())
            .with_opt("cost_eur", new.cost_eur)
            .with("dates", Node::map())
            .with("status", OfferingStatus::Idea.code())
            .with("status_history", Node::List(vec![]))
            .with("deleted", false);
        let applied = common::insert_record(
            &mut self.doc,
            ctx,
            "offering.add",
            "joint_offerings",
            &id,
            node,
        )?;
        Ok((id, applied))
    }

    /// Sets the status of a joint offering and appends the transition.
    ///
    /// # Errors
    /// Unknown offering.
    pub fn set_offering_status(
        &mut self,
        ctx: &EditContext,
        id: &str,
        status: OfferingStatus,
        note: &str,
    ) -> Result<Applied, DomainError> {
        let (_, applied) = self.doc.edit(ctx, "offering.status", |tx| {
            let obj = write::record(tx, "joint_offerings", id, "joint offering")?;
            let from = write::get_str(tx, &obj, "status")?;
            tx.put(&obj, "status", status.code())?;
            common::append_status(tx, &obj, from.as_deref(), status.code(), ctx, note)
        })?;
        Ok(applied)
    }

    /// Adds or removes a date of a joint offering.
    ///
    /// # Errors
    /// Unknown offering or malformed date.
    pub fn set_offering_date(
        &mut self,
        ctx: &EditContext,
        id: &str,
        date: &str,
        present: bool,
    ) -> Result<Applied, DomainError> {
        let date = common::iso_date("date", date)?;
        let (_, applied) = self.doc.edit(ctx, "offering.date", |tx| {
            let obj = write::record(tx, "joint_offerings", id, "joint offering")?;
            common::set_member(tx, &obj, "dates", &date, present)
        })?;
        Ok(applied)
    }
}
