//! The `business-profile` document: what a business shows its neighbourhood.
//!
//! One writer group (the business and its coach) per profile: needs, offers, seat interest
//! and shared items are all written into the writer's own profile; matches and totals are
//! derived on read across profiles (see [`overview`](crate::model::overview)).

mod sharing;
mod view;

use automerge::transaction::Transactable;
use automerge::{ActorId, ROOT, ReadDoc};

pub use view::{
    BusinessProfileView, GoodPractice, Need, NeedState, Offer, OfferFormat, ProgressSummary,
    RecordRef, SharedFinding, SizeBand, TopicState,
};

use crate::DomainError;
use crate::catalogue;
use crate::doc::write::{self, Node};
use crate::doc::{Applied, DocKind, EditContext, Header, NachbarDoc, tree};
use crate::ids::new_record_id;
use crate::model::common;
use crate::model::typed_doc;

use view::StoredProfile;

typed_doc! {
    /// A business profile document.
    BusinessProfileDoc, DocKind::BusinessProfile
}

/// A need or an offer: what it is about.
#[derive(Debug, Clone, Default)]
pub struct Topic {
    /// Title (required).
    pub title: String,
    /// Topic areas (catalogue area codes).
    pub areas: Vec<String>,
    /// Free tags, e.g. `zugferd`.
    pub tags: Vec<String>,
    /// Description.
    pub description: String,
}

/// A good-practice story to publish.
#[derive(Debug, Clone, Default)]
pub struct NewGoodPractice {
    /// Title (required).
    pub title: String,
    /// The problem.
    pub problem: String,
    /// The solution.
    pub solution: String,
    /// Tools used.
    pub tools: String,
    /// Lessons learnt.
    pub lessons: String,
    /// Cost band.
    pub cost_band: Option<String>,
    /// Show the business's name.
    pub named: bool,
    /// Topic areas.
    pub areas: Vec<String>,
}

fn check_areas(areas: &[String]) -> Result<(), DomainError> {
    for a in areas {
        if !catalogue::builtin_releases()
            .iter()
            .any(|r| r.area(a).is_some())
        {
            return Err(DomainError::InvalidValue {
                field: "area",
                value: a.clone(),
            });
        }
    }
    Ok(())
}

fn tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

impl BusinessProfileDoc {
    /// Creates the profile of `business`.
    ///
    /// # Errors
    /// Empty business or display name.
    pub fn create(
        actor: ActorId,
        ctx: &EditContext,
        neighbourhood: &str,
        business: &str,
        display_name: &str,
        trade: &str,
        size_band: Option<SizeBand>,
    ) -> Result<(Self, Applied), DomainError> {
        let business = write::required("business", business)?;
        let name = write::required("display_name", display_name)?;
        let header = Header::new(
            DocKind::BusinessProfile,
            neighbourhood,
            Some(business),
            &ctx.person,
            ctx.now,
        );
        let (doc, applied) = NachbarDoc::create(actor, ctx, header, |tx| {
            tx.put(&ROOT, "display_name", name.as_str())?;
            tx.put(&ROOT, "trade", write::short("trade", trade)?)?;
            if let Some(band) = size_band {
                tx.put(&ROOT, "size_band", band.code())?;
            }
            for key in [
                "topic_states",
                "offers",
                "needs",
                "good_practices",
                "shared_findings",
                "seat_interest",
            ] {
                write::create(tx, &ROOT, key, Node::map())?;
            }
            Ok(())
        })?;
        Ok((Self { doc }, applied))
    }

    fn stored(&self) -> Result<StoredProfile, DomainError> {
        tree::hydrate_root(self.doc.automerge())
    }

    /// The read model.
    ///
    /// # Errors
    /// [`DomainError::Shape`] when the document does not have a profile's shape.
    pub fn view(&self) -> Result<BusinessProfileView, DomainError> {
        self.stored()?
            .view(self.doc.header().clone(), self.doc.last_edited())
    }

    /// The business this profile belongs to.
    pub fn business(&self) -> &str {
        self.doc.header().business.as_deref().unwrap_or_default()
    }

    /// Changes the display name.
    ///
    /// # Errors
    /// Empty name.
    pub fn set_display_name(
        &mut self,
        ctx: &EditContext,
        name: &str,
    ) -> Result<Applied, DomainError> {
        let name = write::required("display_name", name)?;
        let (_, applied) = self.doc.edit(ctx, "profile.name", |tx| {
            Ok(tx.put(&ROOT, "display_name", name.as_str())?)
        })?;
        Ok(applied)
    }

    /// Shares the business's state in a topic area (`None` withdraws it).
    ///
    /// # Errors
    /// Unknown area.
    pub fn set_topic_state(
        &mut self,
        ctx: &EditContext,
        area: &str,
        state: Option<TopicState>,
    ) -> Result<Applied, DomainError> {
        check_areas(&[area.to_owned()])?;
        let (_, applied) = self.doc.edit(ctx, "topic_state", |tx| {
            let map = write::map_at(tx, &ROOT, "topic_states")?;
            match state {
                Some(s) => tx.put(&map, area, s.code())?,
                None if tx.get(&map, area)?.is_some() => tx.delete(&map, area)?,
                None => {}
            }
            Ok(())
        })?;
        Ok(applied)
    }

    /// Posts a need; returns its id.
    ///
    /// # Errors
    /// Empty title, urgency outside 1–3, unknown area.
    pub fn add_need(
        &mut self,
        ctx: &EditContext,
        topic: &Topic,
        urgency: u8,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", &topic.title)?;
        let urgency = write::in_range("urgency", i64::from(urgency), 1, 3)?;
        check_areas(&topic.areas)?;
        let tags = tags(&topic.tags);
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("title", title.as_str())
            .with("areas", Node::set(topic.areas.iter().map(String::as_str)))
            .with("tags", Node::set(tags.iter().map(String::as_str)))
            .with(
                "description",
                Node::text(write::long("description", &topic.description)?),
            )
            .with("urgency", urgency)
            .with("state", NeedState::Open.code())
            .with("created_at", ctx.now.millis());
        let applied = common::insert_record(&mut self.doc, ctx, "need.add", "needs", &id, node)?;
        Ok((id, applied))
    }

    /// Accepts an offer (from any profile) for one of this business's needs; the need reads
    /// as "matched" and other proposals for it as declined.
    ///
    /// # Errors
    /// Unknown need.
    pub fn accept_offer(
        &mut self,
        ctx: &EditContext,
        need: &str,
        offer: &RecordRef,
    ) -> Result<Applied, DomainError> {
        let reference = offer.encode();
        let (_, applied) = self.doc.edit(ctx, "need.accept", |tx| {
            let obj = write::record(tx, "needs", need, "need")?;
            Ok(tx.put(&obj, "accepted_offer", reference.as_str())?)
        })?;
        Ok(applied)
    }

    /// Marks a need solved, withdrawn or open again.
    ///
    /// # Errors
    /// Unknown need, or "matched" (that comes from accepting an offer).
    pub fn set_need_state(
        &mut self,
        ctx: &EditContext,
        need: &str,
        state: NeedState,
    ) -> Result<Applied, DomainError> {
        if state == NeedState::Matched {
            return Err(DomainError::NotAllowed(
                "a need is matched by accepting an offer".to_owned(),
            ));
        }
        let (_, applied) = self.doc.edit(ctx, "need.state", |tx| {
            let obj = write::record(tx, "needs", need, "need")?;
            Ok(tx.put(&obj, "state", state.code())?)
        })?;
        Ok(applied)
    }

    /// Adds a knowledge offer, optionally answering another business's need (a match
    /// proposal); returns its id.
    ///
    /// # Errors
    /// Empty title, unknown area, or an offer for this business's own need.
    pub fn add_offer(
        &mut self,
        ctx: &EditContext,
        topic: &Topic,
        format: OfferFormat,
        for_need: Option<&RecordRef>,
    ) -> Result<(String, Applied), DomainError> {
        let title = write::required("title", &topic.title)?;
        check_areas(&topic.areas)?;
        if for_need.is_some_and(|n| n.business == self.business()) {
            return Err(DomainError::NotAllowed(
                "a business cannot answer its own need".to_owned(),
            ));
        }
        let tags = tags(&topic.tags);
        let id = new_record_id(ctx.now);
        let node = Node::map()
            .with("title", title.as_str())
            .with("areas", Node::set(topic.areas.iter().map(String::as_str)))
            .with("tags", Node::set(tags.iter().map(String::as_str)))
            .with("format", format.code())
            .with(
                "description",
                Node::text(write::long("description", &topic.description)?),
            )
            .with_opt("for_need", for_need.map(RecordRef::encode))
            .with("contact", ctx.person.as_str())
            .with("deleted", false);
        let applied = common::insert_record(&mut self.doc, ctx, "offer.add", "offers", &id, node)?;
        Ok((id, applied))
    }

    /// Withdraws an offer (soft delete).
    ///
    /// # Errors
    /// Unknown offer.
    pub fn withdraw_offer(
        &mut self,
        ctx: &EditContext,
        offer: &str,
    ) -> Result<Applied, DomainError> {
        common::remove_record(
            &mut self.doc,
            ctx,
            "offer.withdraw",
            ("offers", "offer"),
            offer,
        )
    }
}
