//! The neighbourhood document: its phase, charter, members and joint offerings (written by
//! coordinators and coaches; members by the server).

use nachbar_core::model::neighbourhood::{
    CostModel, NeighbourhoodDoc, NewOffering, OfferingKind, Phase,
};

use crate::{MobileError, NachbarClient, NeighbourhoodRecord};

/// A joint offering to propose.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewOfferingRecord {
    /// Title.
    pub title: String,
    /// Kind (`training`, …).
    pub kind_code: String,
    /// Provider.
    pub provider: String,
    /// Seats needed.
    pub min_seats: u32,
    /// Cost model (`per_seat`, …).
    pub cost_model_code: String,
    /// Cost in euros.
    pub cost_eur: Option<i64>,
}

#[uniffi::export]
impl NachbarClient {
    /// The neighbourhood.
    pub fn neighbourhood(&self, document_id: String) -> Result<NeighbourhoodRecord, MobileError> {
        Ok((&self.read::<NeighbourhoodDoc>(&document_id)?.view()?).into())
    }

    /// Moves the neighbourhood to a phase (`forming`, `diagnosing`, `workshops`,
    /// `implementing`, `sustaining`).
    pub fn set_phase(&self, document_id: String, phase_code: String) -> Result<(), MobileError> {
        let phase = Phase::parse(&phase_code)?;
        self.edit(&document_id, |n: &mut NeighbourhoodDoc, ctx| {
            n.set_phase(ctx, phase)
        })
    }

    /// Replaces the charter text.
    pub fn set_charter(&self, document_id: String, text: String) -> Result<(), MobileError> {
        self.edit(&document_id, |n: &mut NeighbourhoodDoc, ctx| {
            n.set_charter(ctx, &text)
        })
    }

    /// Proposes a joint offering; returns its id.
    pub fn add_offering(
        &self,
        document_id: String,
        offering: NewOfferingRecord,
    ) -> Result<String, MobileError> {
        let new = NewOffering {
            title: offering.title,
            kind: OfferingKind::parse(&offering.kind_code)?,
            provider: offering.provider,
            min_seats: offering.min_seats,
            cost_model: CostModel::parse(&offering.cost_model_code)?,
            cost_eur: offering.cost_eur,
        };
        self.edit(&document_id, |n: &mut NeighbourhoodDoc, ctx| {
            n.add_offering(ctx, &new)
        })
    }
}
