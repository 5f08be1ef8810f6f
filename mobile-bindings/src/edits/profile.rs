//! Business profiles (what a business shows its neighbours) and the coordinator's overview of
//! the neighbourhood, computed on the device from the documents it holds.

use nachbar_core::model::business_profile::{
    BusinessProfileDoc, OfferFormat, RecordRef, Topic, TopicState,
};
use nachbar_core::model::neighbourhood::NeighbourhoodDoc;
use nachbar_core::model::overview::overview;

use crate::{MobileError, NachbarClient, OverviewRecord, ProfileRecord};

fn topic(title: String, areas: Vec<String>, tags: Vec<String>) -> Topic {
    Topic {
        title,
        areas,
        tags,
        description: String::new(),
    }
}

#[uniffi::export]
impl NachbarClient {
    /// Shares the business's state in a topic area (`solved`, `working_on_it`, `need_help`;
    /// `None` withdraws it).
    pub fn set_topic_state(
        &self,
        document_id: String,
        area: String,
        state_code: Option<String>,
    ) -> Result<(), MobileError> {
        let state = state_code.as_deref().map(TopicState::parse).transpose()?;
        self.edit(&document_id, |p: &mut BusinessProfileDoc, ctx| {
            p.set_topic_state(ctx, &area, state)
        })
    }

    /// Posts a need (urgency 1–3); returns its id.
    pub fn add_need(
        &self,
        document_id: String,
        title: String,
        areas: Vec<String>,
        tags: Vec<String>,
        urgency: u8,
    ) -> Result<String, MobileError> {
        let topic = topic(title, areas, tags);
        self.edit(&document_id, |p: &mut BusinessProfileDoc, ctx| {
            p.add_need(ctx, &topic, urgency)
        })
    }

    /// Offers help (`format_code`: `visit`, `phone`, `screen_share` …), answering the need
    /// `need_id` of `need_business` when given; returns the offer's id.
    pub fn add_offer(
        &self,
        document_id: String,
        title: String,
        areas: Vec<String>,
        format_code: String,
        need_business: Option<String>,
        need_id: Option<String>,
    ) -> Result<String, MobileError> {
        let topic = topic(title, areas, Vec::new());
        let format = OfferFormat::parse(&format_code)?;
        let need = match (need_business, need_id) {
            (Some(business), Some(id)) => Some(RecordRef { business, id }),
            _ => None,
        };
        self.edit(&document_id, |p: &mut BusinessProfileDoc, ctx| {
            p.add_offer(ctx, &topic, format, need.as_ref())
        })
    }

    /// Accepts the offer `offer_id` of `offer_business` for the need `need_id`.
    pub fn accept_offer(
        &self,
        document_id: String,
        need_id: String,
        offer_business: String,
        offer_id: String,
    ) -> Result<(), MobileError> {
        let offer = RecordRef {
            business: offer_business,
            id: offer_id,
        };
        self.edit(&document_id, |p: &mut BusinessProfileDoc, ctx| {
            p.accept_offer(ctx, &need_id, &offer)
        })
    }

    /// Adds (or with a negative `delta` removes) seats of interest in a joint offering.
    pub fn change_seat_interest(
        &self,
        document_id: String,
        offering_id: String,
        delta: i64,
    ) -> Result<(), MobileError> {
        self.edit(&document_id, |p: &mut BusinessProfileDoc, ctx| {
            p.change_seat_interest(ctx, &offering_id, delta)
        })
    }

    /// A business profile.
    pub fn profile(&self, document_id: String) -> Result<ProfileRecord, MobileError> {
        Ok((&self.read::<BusinessProfileDoc>(&document_id)?.view()?).into())
    }

    /// The neighbourhood overview from the neighbourhood document and every business profile
    /// on this device: heat map, aggregates (suppressed below the threshold), joint offerings'
    /// seats and matches of needs and offers.
    pub fn neighbourhood_overview(
        &self,
        neighbourhood_document_id: String,
    ) -> Result<OverviewRecord, MobileError> {
        let hood = self
            .read::<NeighbourhoodDoc>(&neighbourhood_document_id)?
            .view()?;
        let mut profiles = Vec::new();
        for document in self.client.documents()? {
            let (id, status) = document;
            if status.kind.as_deref() == Some("business-profile") {
                let doc = self.client.read::<BusinessProfileDoc>(&id)?;
                profiles.push(doc.view()?);
            }
        }
        Ok((&overview(&hood, &profiles)).into())
    }
}
