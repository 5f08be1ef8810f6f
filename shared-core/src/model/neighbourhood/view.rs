//! The neighbourhood read model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::doc::{Header, LastEdited};
use crate::label::coded_enum;
use crate::model::common::{StatusChange, StoredRemoval, set_members};

coded_enum! {
    /// Phase of a neighbourhood.
    Phase, "phase" {
        /// Forming.
        Forming = "forming", "Gründung", "Forming";
        /// Assessing the businesses.
        Diagnosing = "diagnosing", "Bestandsaufnahme", "Diagnosing";
        /// Working on solutions in workshops.
        Workshops = "workshops", "Workshops", "Workshops";
        /// Implementing measures.
        Implementing = "implementing", "Umsetzung", "Implementing";
        /// Knowledge transfer and joint offerings.
        Sustaining = "sustaining", "Verstetigung", "Sustaining";
    }
}

coded_enum! {
    /// Type of a joint offering.
    OfferingKind, "offering kind" {
        /// A shared training.
        Training = "training", "Schulung", "Training";
        /// A shared service (e.g. an external data-protection officer).
        SharedService = "shared_service", "Gemeinsamer Dienst", "Shared service";
        /// A joint purchase.
        JointPurchase = "joint_purchase", "Gemeinsamer Einkauf", "Joint purchase";
        /// An event.
        Event = "event", "Veranstaltung", "Event";
    }
}

coded_enum! {
    /// How the cost of a joint offering is shared.
    CostModel, "cost model" {
        /// A price per seat.
        PerSeat = "per_seat", "pro Platz", "per seat";
        /// The total split among the businesses taking part.
        Split = "split", "aufgeteilt", "split";
        /// Free of charge.
        Free = "free", "kostenlos", "free";
    }
}

coded_enum! {
    /// Where a joint offering stands.
    OfferingStatus, "offering status" {
        /// An idea.
        Idea = "idea", "Idee", "Idea";
        /// Collecting interest.
        CollectingInterest = "collecting_interest", "Interesse sammeln", "Collecting interest";
        /// Getting quotes.
        Quotes = "quotes", "Angebote einholen", "Quotes";
        /// Booked.
        Booked = "booked", "Gebucht", "Booked";
        /// Delivered.
        Delivered = "delivered", "Durchgeführt", "Delivered";
        /// Evaluated.
        Evaluated = "evaluated", "Ausgewertet", "Evaluated";
        /// Cancelled.
        Cancelled = "cancelled", "Abgesagt", "Cancelled";
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredMember {
    name: String,
    trade: String,
    joined_at: Option<String>,
    left_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredMeeting {
    title: String,
    date: String,
    start: Option<String>,
    place: String,
    workshop: Option<String>,
    #[serde(flatten)]
    removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredOffering {
    title: String,
    kind: Option<String>,
    provider: String,
    description: String,
    min_seats: i64,
    cost_model: Option<String>,
    cost_eur: Option<i64>,
    dates: BTreeMap<String, bool>,
    pub(crate) status: Option<String>,
    status_history: Vec<StatusChange>,
    #[serde(flatten)]
    removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredNeighbourhood {
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) phase: Option<String>,
    pub(crate) carriers: BTreeMap<String, bool>,
    pub(crate) charter: String,
    pub(crate) aggregate_threshold: Option<i64>,
    pub(crate) members: BTreeMap<String, StoredMember>,
    pub(crate) coordinators: BTreeMap<String, bool>,
    pub(crate) coaches: BTreeMap<String, bool>,
    pub(crate) meetings: BTreeMap<String, StoredMeeting>,
    pub(crate) joint_offerings: BTreeMap<String, StoredOffering>,
}

/// A member business, as the server's directory wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Business id.
    pub business: String,
    /// Display name.
    pub name: String,
    /// Trade.
    pub trade: String,
    /// Joined (ISO date).
    pub joined_at: Option<String>,
    /// Left (ISO date); a member that left is hidden from overviews.
    pub left_at: Option<String>,
}

impl Member {
    /// Still a member.
    pub fn is_active(&self) -> bool {
        self.left_at.is_none()
    }
}

/// A meeting in the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Date (ISO).
    pub date: String,
    /// Start `HH:MM`.
    pub start: Option<String>,
    /// Place.
    pub place: String,
    /// The workshop document, if the meeting is a workshop.
    pub workshop: Option<String>,
}

/// A joint offering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointOffering {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Type.
    pub kind: OfferingKind,
    /// Provider.
    pub provider: String,
    /// Description (collaborative text).
    pub description: String,
    /// Seats needed for it to take place.
    pub min_seats: u32,
    /// Cost model.
    pub cost_model: CostModel,
    /// Cost in euros (per seat or total, by cost model).
    pub cost_eur: Option<i64>,
    /// Dates (ISO).
    pub dates: Vec<String>,
    /// Status.
    pub status: OfferingStatus,
    /// Status transitions.
    pub status_history: Vec<StatusChange>,
}

/// A neighbourhood as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighbourhoodView {
    /// The document header (its `neighbourhood` is this neighbourhood's id).
    pub header: Header,
    /// Name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Phase.
    pub phase: Phase,
    /// Carrier organisations.
    pub carriers: Vec<String>,
    /// Charter: confidentiality and sharing rules (collaborative text).
    pub charter: String,
    /// Aggregates need at least this many contributing businesses.
    pub aggregate_threshold: u32,
    /// Members, those who left included.
    pub members: Vec<Member>,
    /// Coordinators (person ids).
    pub coordinators: Vec<String>,
    /// Coaches (person ids).
    pub coaches: Vec<String>,
    /// Meetings by date.
    pub meetings: Vec<Meeting>,
    /// Joint offerings (removed ones left out).
    pub joint_offerings: Vec<JointOffering>,
    /// The latest change.
    pub last_edited: Option<LastEdited>,
}

impl NeighbourhoodView {
    /// Whether `business` is a current member.
    pub fn is_active_member(&self, business: &str) -> bool {
        self.members
            .iter()
            .any(|m| m.business == business && m.is_active())
    }
}

/// The default aggregate threshold (domain.md §6.2).
pub const DEFAULT_AGGREGATE_THRESHOLD: u32 = 3;

impl StoredNeighbourhood {
    pub(crate) fn view(
        &self,
        header: Header,
        last_edited: Option<LastEdited>,
    ) -> Result<NeighbourhoodView, DomainError> {
        let mut meetings: Vec<Meeting> = self
            .meetings
            .iter()
            .filter(|(_, m)| !m.removal.view().deleted)
            .map(|(id, m)| Meeting {
                id: id.clone(),
                title: m.title.clone(),
                date: m.date.clone(),
                start: m.start.clone(),
                place: m.place.clone(),
                workshop: m.workshop.clone(),
            })
            .collect();
        meetings.sort_by(|a, b| (&a.date, &a.start, &a.id).cmp(&(&b.date, &b.start, &b.id)));
        let mut offerings = Vec::new();
        for (id, o) in self
            .joint_offerings
            .iter()
            .filter(|(_, o)| !o.removal.view().deleted)
        {
            offerings.push(JointOffering {
                id: id.clone(),
                title: o.title.clone(),
                kind: o
                    .kind
                    .as_deref()
                    .map_or(Ok(OfferingKind::Training), OfferingKind::parse)?,
                provider: o.provider.clone(),
                description: o.description.clone(),
                min_seats: u32::try_from(o.min_seats).map_err(|_| {
                    DomainError::shape(format!("joint_offerings/{id}/min_seats"), "negative")
                })?,
                cost_model: o
                    .cost_model
                    .as_deref()
                    .map_or(Ok(CostModel::PerSeat), CostModel::parse)?,
                cost_eur: o.cost_eur,
                dates: set_members(&o.dates),
                status: o
                    .status
                    .as_deref()
                    .map_or(Ok(OfferingStatus::Idea), OfferingStatus::parse)?,
                status_history: o.status_history.clone(),
            });
        }
        Ok(NeighbourhoodView {
            header,
            name: self.name.clone(),
            location: self.location.clone(),
            phase: self
                .phase
                .as_deref()
                .map_or(Ok(Phase::Forming), Phase::parse)?,
            carriers: set_members(&self.carriers),
            charter: self.charter.clone(),
            aggregate_threshold: self
                .aggregate_threshold
                .and_then(|t| u32::try_from(t).ok())
                .unwrap_or(DEFAULT_AGGREGATE_THRESHOLD)
                .max(DEFAULT_AGGREGATE_THRESHOLD),
            members: self
                .members
                .iter()
                .map(|(id, m)| Member {
                    business: id.clone(),
                    name: m.name.clone(),
                    trade: m.trade.clone(),
                    joined_at: m.joined_at.clone(),
                    left_at: m.left_at.clone(),
                })
                .collect(),
            coordinators: set_members(&self.coordinators),
            coaches: set_members(&self.coaches),
            meetings,
            joint_offerings: offerings,
            last_edited,
        })
    }
}
