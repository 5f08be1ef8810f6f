//! The records and enums the apps see: plain data converted from the core's read models.

use std::collections::HashMap;

use nachbar_core::catalogue::{LocalText, QuestionKind};
use nachbar_core::client::{ConnectionState, SyncStatus};
use nachbar_core::doc::NeedsReview;
use nachbar_core::label::Labelled;
use nachbar_core::model::action_plan::{ActionPlanView, Measure};
use nachbar_core::model::assessment::{AssessmentItem, AssessmentView};
use nachbar_core::model::business_profile::BusinessProfileView;
use nachbar_core::model::neighbourhood::NeighbourhoodView;
use nachbar_core::model::overview::Overview;
use nachbar_core::model::workshop::{AgendaBlock, WorkshopView};
use nachbar_core::store::DocStatus;

/// A stored code with its German and English names (statuses, kinds, bands).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Coded {
    /// The code, as stored and as passed back to edits (`done`, `blocked` …).
    pub code: String,
    /// German name.
    pub de: String,
    /// English name.
    pub en: String,
}

impl Coded {
    pub(crate) fn of<T: Labelled + std::fmt::Display>(value: &T) -> Self {
        let label = value.label();
        Coded {
            code: value.to_string(),
            de: label.de.to_owned(),
            en: label.en.to_owned(),
        }
    }
}

/// A text in German and English.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Text {
    /// German.
    pub de: String,
    /// English.
    pub en: String,
}

impl From<&LocalText> for Text {
    fn from(t: &LocalText) -> Self {
        Text {
            de: t.de.clone(),
            en: t.en.clone(),
        }
    }
}

/// The connection to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Connection {
    /// Not started, or stopped.
    Stopped,
    /// Trying to reach the server.
    Connecting,
    /// Connected and syncing.
    Online,
    /// The server could not be reached; retrying.
    Offline,
    /// Paused by the app.
    Paused,
    /// The server refused the token: edits stay on the device until a new token.
    TokenExpired,
}

impl From<ConnectionState> for Connection {
    fn from(c: ConnectionState) -> Self {
        match c {
            ConnectionState::Stopped => Connection::Stopped,
            ConnectionState::Connecting => Connection::Connecting,
            ConnectionState::Online => Connection::Online,
            ConnectionState::Offline => Connection::Offline,
            ConnectionState::Paused => Connection::Paused,
            ConnectionState::TokenExpired => Connection::TokenExpired,
        }
    }
}

/// The sync status for the app.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatusRecord {
    /// The connection.
    pub connection: Connection,
    /// Local changes the server has not acknowledged.
    pub unacknowledged: u64,
    /// … per document id.
    pub unacknowledged_by_document: HashMap<String, u64>,
    /// Milliseconds since the epoch when everything was last acknowledged.
    pub last_sync_ms: Option<i64>,
    /// Documents synced read-only: "your changes stay on this device".
    pub read_only: Vec<String>,
    /// Documents the server refused.
    pub refused: Vec<String>,
    /// Documents set aside: no longer listed (or refused) with changes the server lacks; kept
    /// until access returns, or exported and discarded by the user.
    pub set_aside: Vec<String>,
    /// Changes in set-aside documents: "N changes could not be delivered".
    pub undelivered: u64,
    /// The last error, for diagnostics.
    pub last_error: Option<String>,
}

impl From<SyncStatus> for SyncStatusRecord {
    fn from(s: SyncStatus) -> Self {
        SyncStatusRecord {
            connection: s.connection.into(),
            unacknowledged: s.unacknowledged as u64,
            unacknowledged_by_document: s
                .unacknowledged_by_document
                .iter()
                .map(|(k, v)| (k.to_string(), *v as u64))
                .collect(),
            last_sync_ms: s.last_sync_ms,
            read_only: s.read_only.iter().map(ToString::to_string).collect(),
            refused: s.refused.iter().map(ToString::to_string).collect(),
            set_aside: s.set_aside.iter().map(ToString::to_string).collect(),
            undelivered: s.undelivered as u64,
            last_error: s.last_error,
        }
    }
}

/// A document on the device, with what the server said of it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentRecord {
    /// The document id.
    pub id: String,
    /// Its kind (`assessment`, `action-plan`, …), once listed.
    pub kind: Option<String>,
    /// Its title, once listed.
    pub title: Option<String>,
    /// Its business, once listed.
    pub business: Option<String>,
    /// The user may write it.
    pub writable: bool,
    /// The server syncs it read-only.
    pub read_only: bool,
    /// The server refused it.
    pub refused: bool,
}

impl DocumentRecord {
    pub(crate) fn from_status(id: String, s: DocStatus) -> Self {
        DocumentRecord {
            id,
            kind: s.kind,
            title: s.title,
            business: s.business,
            writable: s.writable,
            read_only: s.read_only,
            refused: s.refused,
        }
    }
}

/// A field with concurrent values to review.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReviewRecord {
    /// The field path, as `resolve` takes it (`answers/C2/level`).
    pub field: String,
    /// The value shown.
    pub current: String,
    /// Every concurrent value.
    pub values: Vec<String>,
}

fn reviews(list: &[NeedsReview]) -> Vec<ReviewRecord> {
    list.iter()
        .map(|n| ReviewRecord {
            field: n.field.clone(),
            current: n.current.clone(),
            values: n.values.clone(),
        })
        .collect()
}

/// One question of an assessment with its answer.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AssessmentItemRecord {
    /// Question id (`C2`).
    pub id: String,
    /// Area code.
    pub area: String,
    /// The question in German and English.
    pub text: Text,
    /// `level` or `compliance`.
    pub kind: String,
    /// In the 45-minute core set.
    pub core: bool,
    /// Applicable to this business.
    pub applicable: bool,
    /// Level 0–4, if answered.
    pub level: Option<u8>,
    /// Relevance 1–3.
    pub relevance: u8,
    /// The note.
    pub note: String,
}

impl From<&AssessmentItem> for AssessmentItemRecord {
    fn from(i: &AssessmentItem) -> Self {
        AssessmentItemRecord {
            id: i.id.clone(),
            area: i.area.clone(),
            text: (&i.text).into(),
            kind: match i.kind {
                QuestionKind::Level => "level",
                QuestionKind::Compliance => "compliance",
            }
            .to_owned(),
            core: i.core,
            applicable: i.applicable,
            level: i.answer.level,
            relevance: i.answer.relevance,
            note: i.answer.note.clone(),
        }
    }
}

/// The score of one area.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AreaScoreRecord {
    /// Area code.
    pub area: String,
    /// Its name.
    pub name: Text,
    /// Score 0–100, once something is answered.
    pub score: Option<f64>,
}

/// An assessment as the app shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AssessmentRecord {
    /// The business.
    pub business: Option<String>,
    /// Stage (`T0`, `T1` …).
    pub stage: String,
    /// The pinned catalogue release.
    pub catalogue_release: String,
    /// Status (a stale "agreed" reads as "in review").
    pub status: Coded,
    /// The questions with their answers.
    pub items: Vec<AssessmentItemRecord>,
    /// Scores per area.
    pub areas: Vec<AreaScoreRecord>,
    /// Overall score.
    pub overall: Option<f64>,
    /// Fields with concurrent values.
    pub needs_review: Vec<ReviewRecord>,
}

impl From<&AssessmentView> for AssessmentRecord {
    fn from(v: &AssessmentView) -> Self {
        AssessmentRecord {
            business: v.header.business.clone(),
            stage: v.stage.clone(),
            catalogue_release: v.catalogue_release.clone(),
            status: Coded::of(&v.status),
            items: v.items.iter().map(Into::into).collect(),
            areas: v
                .scores
                .areas
                .iter()
                .map(|a| AreaScoreRecord {
                    area: a.area.clone(),
                    name: (&a.label).into(),
                    score: a.score,
                })
                .collect(),
            overall: v.scores.overall,
            needs_review: reviews(&v.needs_review),
        }
    }
}

/// A status transition.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StatusChangeRecord {
    /// From (code), if known.
    pub from: Option<String>,
    /// To (code).
    pub to: String,
    /// By (person id).
    pub by: String,
    /// When (ms since the epoch, as the device's clock said).
    pub at: i64,
    /// Note.
    pub note: String,
}

/// A measure of an action plan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MeasureRecord {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: Coded,
    /// Every transition, concurrent ones included.
    pub status_history: Vec<StatusChangeRecord>,
    /// Owner (person id).
    pub owner: Option<String>,
    /// Due date (ISO).
    pub due: Option<String>,
}

impl From<&Measure> for MeasureRecord {
    fn from(m: &Measure) -> Self {
        MeasureRecord {
            id: m.id.clone(),
            title: m.title.clone(),
            status: Coded::of(&m.status),
            status_history: m
                .status_history
                .iter()
                .map(|h| StatusChangeRecord {
                    from: h.from.clone(),
                    to: h.to.clone(),
                    by: h.by.clone(),
                    at: h.at,
                    note: h.note.clone(),
                })
                .collect(),
            owner: m.owner.clone(),
            due: m.due.clone(),
        }
    }
}

/// An action plan as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ActionPlanRecord {
    /// The business.
    pub business: Option<String>,
    /// Status.
    pub status: Coded,
    /// Measures in order.
    pub measures: Vec<MeasureRecord>,
    /// Fields with concurrent values.
    pub needs_review: Vec<ReviewRecord>,
}

impl From<&ActionPlanView> for ActionPlanRecord {
    fn from(v: &ActionPlanView) -> Self {
        ActionPlanRecord {
            business: v.header.business.clone(),
            status: Coded::of(&v.status),
            measures: v.measures.iter().map(Into::into).collect(),
            needs_review: reviews(&v.needs_review),
        }
    }
}

/// An agenda block with its computed start time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BlockRecord {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: Coded,
    /// Minutes planned.
    pub duration_min: u32,
    /// Planned start (`HH:MM`), computed from the order.
    pub planned_start: Option<String>,
    /// Materials.
    pub materials: String,
    /// Notes.
    pub notes: String,
}

impl From<&AgendaBlock> for BlockRecord {
    fn from(b: &AgendaBlock) -> Self {
        BlockRecord {
            id: b.id.clone(),
            title: b.title.clone(),
            kind: Coded::of(&b.kind),
            duration_min: b.duration_min,
            planned_start: b.planned_start.clone(),
            materials: b.materials.clone(),
            notes: b.notes.clone(),
        }
    }
}

/// A workshop as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkshopRecord {
    /// Title.
    pub title: String,
    /// Date (ISO).
    pub date: Option<String>,
    /// Start (`HH:MM`).
    pub start: Option<String>,
    /// End (`HH:MM`).
    pub end: Option<String>,
    /// The agenda with computed start times.
    pub agenda: Vec<BlockRecord>,
    /// Minutes planned in total.
    pub planned_min: u32,
    /// Minutes beyond the time slot, if the plan does not fit.
    pub overrun_min: Option<u32>,
    /// Fields with concurrent values.
    pub needs_review: Vec<ReviewRecord>,
}

impl From<&WorkshopView> for WorkshopRecord {
    fn from(v: &WorkshopView) -> Self {
        WorkshopRecord {
            title: v.title.clone(),
            date: v.date.clone(),
            start: v.start.clone(),
            end: v.end.clone(),
            agenda: v.agenda.iter().map(Into::into).collect(),
            planned_min: v.planned_min,
            overrun_min: v
                .overrun
                .as_ref()
                .map(|o| o.planned_min.saturating_sub(o.slot_min)),
            needs_review: reviews(&v.needs_review),
        }
    }
}

/// A need of a business.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NeedRecord {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Urgency 1–3.
    pub urgency: u8,
    /// State (`open`, `matched` …).
    pub state: Coded,
}

/// An offer of a business.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferRecord {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Format.
    pub format: Coded,
}

/// A business profile as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileRecord {
    /// The business.
    pub business: String,
    /// Its name.
    pub display_name: String,
    /// Shared topic states per area.
    pub topic_states: HashMap<String, Coded>,
    /// Needs.
    pub needs: Vec<NeedRecord>,
    /// Offers.
    pub offers: Vec<OfferRecord>,
    /// Seats of interest per joint offering.
    pub seat_interest: HashMap<String, i64>,
}

impl From<&BusinessProfileView> for ProfileRecord {
    fn from(v: &BusinessProfileView) -> Self {
        ProfileRecord {
            business: v.business.clone(),
            display_name: v.display_name.clone(),
            topic_states: v
                .topic_states
                .iter()
                .map(|(k, s)| (k.clone(), Coded::of(s)))
                .collect(),
            needs: v
                .needs
                .iter()
                .map(|n| NeedRecord {
                    id: n.id.clone(),
                    title: n.title.clone(),
                    urgency: n.urgency,
                    state: Coded::of(&n.state),
                })
                .collect(),
            offers: v
                .offers
                .iter()
                .map(|o| OfferRecord {
                    id: o.id.clone(),
                    title: o.title.clone(),
                    format: Coded::of(&o.format),
                })
                .collect(),
            seat_interest: v
                .seat_interest
                .iter()
                .map(|(k, n)| (k.clone(), *n))
                .collect(),
        }
    }
}

/// One business's row of the heat map.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HeatMapRowRecord {
    /// The business.
    pub business: String,
    /// Its name.
    pub name: String,
    /// Shared state per area.
    pub cells: HashMap<String, Coded>,
}

/// Counts over the businesses; `None` when fewer than the threshold contribute.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AggregateRecord {
    /// What is counted (an area code, or `measures`).
    pub subject: String,
    /// Contributing businesses.
    pub contributors: u32,
    /// Counts per value code, unless suppressed.
    pub counts: Option<HashMap<String, u32>>,
}

/// Seats of interest in a joint offering.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferingDemandRecord {
    /// The offering.
    pub offering: String,
    /// Its title.
    pub title: String,
    /// Seats in total.
    pub seats_total: i64,
    /// Seats needed.
    pub min_seats: u32,
    /// Enough interest.
    pub min_reached: bool,
}

/// A suggested (or accepted, or declined) match of a need and an offer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MatchRecord {
    /// The needing business.
    pub need_business: String,
    /// The need.
    pub need_id: String,
    /// The offering business.
    pub offer_business: String,
    /// The offer.
    pub offer_id: String,
    /// State.
    pub state: Coded,
}

/// The coordinator's overview of the neighbourhood.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OverviewRecord {
    /// Heat map rows.
    pub heat_map: Vec<HeatMapRowRecord>,
    /// Per topic area.
    pub topic_aggregates: Vec<AggregateRecord>,
    /// Joint offerings.
    pub offerings: Vec<OfferingDemandRecord>,
    /// Matches.
    pub matches: Vec<MatchRecord>,
}

impl From<&Overview> for OverviewRecord {
    fn from(o: &Overview) -> Self {
        OverviewRecord {
            heat_map: o
                .heat_map
                .iter()
                .map(|r| HeatMapRowRecord {
                    business: r.business.clone(),
                    name: r.name.clone(),
                    cells: r
                        .cells
                        .iter()
                        .map(|(k, s)| (k.clone(), Coded::of(s)))
                        .collect(),
                })
                .collect(),
            topic_aggregates: o
                .topic_aggregates
                .iter()
                .map(|a| AggregateRecord {
                    subject: a.subject.clone(),
                    contributors: a.contributors,
                    counts: a
                        .counts
                        .as_ref()
                        .map(|c| c.iter().map(|(k, n)| (k.clone(), *n)).collect()),
                })
                .collect(),
            offerings: o
                .offerings
                .iter()
                .map(|d| OfferingDemandRecord {
                    offering: d.offering.clone(),
                    title: d.title.clone(),
                    seats_total: d.seats_total,
                    min_seats: d.min_seats,
                    min_reached: d.min_reached,
                })
                .collect(),
            matches: o
                .matches
                .iter()
                .map(|m| MatchRecord {
                    need_business: m.need.business.clone(),
                    need_id: m.need.id.clone(),
                    offer_business: m.offer.business.clone(),
                    offer_id: m.offer.id.clone(),
                    state: Coded::of(&m.state),
                })
                .collect(),
        }
    }
}

/// A member business of the neighbourhood.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MemberRecord {
    /// The business.
    pub business: String,
    /// Its name.
    pub name: String,
    /// Its trade.
    pub trade: String,
    /// Still a member.
    pub active: bool,
}

/// A joint offering (training, purchase …).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JointOfferingRecord {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: Coded,
    /// Provider.
    pub provider: String,
    /// Seats needed.
    pub min_seats: u32,
}

/// The neighbourhood as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NeighbourhoodRecord {
    /// Name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Phase.
    pub phase: Coded,
    /// Charter text.
    pub charter: String,
    /// Members (also those who left, marked inactive).
    pub members: Vec<MemberRecord>,
    /// Joint offerings.
    pub joint_offerings: Vec<JointOfferingRecord>,
}

impl From<&NeighbourhoodView> for NeighbourhoodRecord {
    fn from(v: &NeighbourhoodView) -> Self {
        NeighbourhoodRecord {
            name: v.name.clone(),
            location: v.location.clone(),
            phase: Coded::of(&v.phase),
            charter: v.charter.clone(),
            members: v
                .members
                .iter()
                .map(|m| MemberRecord {
                    business: m.business.clone(),
                    name: m.name.clone(),
                    trade: m.trade.clone(),
                    active: m.is_active(),
                })
                .collect(),
            joint_offerings: v
                .joint_offerings
                .iter()
                .map(|o| JointOfferingRecord {
                    id: o.id.clone(),
                    title: o.title.clone(),
                    kind: Coded::of(&o.kind),
                    provider: o.provider.clone(),
                    min_seats: o.min_seats,
                })
                .collect(),
        }
    }
}
