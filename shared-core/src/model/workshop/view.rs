//! The workshop read model: ordered agenda with computed start times and overrun warning.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::doc::{Header, LastEdited, NeedsReview};
use crate::label::coded_enum;
use crate::model::common::{Removal, StoredRemoval, clock_minutes, set_members};

coded_enum! {
    /// Where a workshop stands. After "held" the agenda is frozen.
    WorkshopStatus, "workshop status" {
        /// Being planned.
        Planned = "planned", "Geplant", "Planned";
        /// Took place; outcomes and actual times are still recorded.
        Held = "held", "Durchgeführt", "Held";
        /// Documented and closed.
        Closed = "closed", "Abgeschlossen", "Closed";
    }
}

coded_enum! {
    /// Format of a workshop.
    WorkshopKind, "workshop kind" {
        /// Kick-off of the neighbourhood.
        KickOff = "kick_off", "Auftakt", "Kick-off";
        /// Workshop on one topic.
        TopicWorkshop = "topic_workshop", "Themenworkshop", "Topic workshop";
        /// Collegial consultation on one case.
        CollegialConsultation = "collegial_consultation", "Kollegiale Beratung", "Collegial consultation";
        /// Visit at a member's site.
        SiteVisit = "site_visit", "Betriebsbesuch", "Site visit";
        /// Network meeting.
        NetworkMeeting = "network_meeting", "Netzwerktreffen", "Network meeting";
    }
}

coded_enum! {
    /// What an agenda block is.
    BlockKind, "block kind" {
        /// Welcome or check-in.
        Welcome = "welcome", "Begrüßung", "Welcome";
        /// Input talk.
        Input = "input", "Impuls", "Input";
        /// Method or exercise.
        Method = "method", "Methode", "Method";
        /// Discussion.
        Discussion = "discussion", "Diskussion", "Discussion";
        /// Break.
        Break = "break", "Pause", "Break";
        /// Decision.
        Decision = "decision", "Entscheidung", "Decision";
        /// Check-out.
        CheckOut = "check_out", "Abschluss", "Check-out";
        /// Site tour.
        Tour = "tour", "Rundgang", "Tour";
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredBlock {
    pub(crate) title: String,
    pub(crate) kind: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) duration_min: i64,
    pub(crate) goal: String,
    pub(crate) instructions: String,
    pub(crate) materials: String,
    pub(crate) responsible: BTreeMap<String, bool>,
    pub(crate) expected_output: String,
    pub(crate) actual_duration_min: Option<i64>,
    pub(crate) notes: String,
    pub(crate) position: String,
    #[serde(flatten)]
    pub(crate) removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredItem {
    text: String,
    by: Option<String>,
    at: Option<i64>,
    owner: Option<String>,
    follow_up_date: Option<String>,
    business: Option<String>,
    measure: Option<String>,
    #[serde(flatten)]
    removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredParticipant {
    business: Option<String>,
    role: Option<String>,
    rsvp: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredWorkshop {
    pub(crate) title: String,
    pub(crate) kind: Option<String>,
    pub(crate) guiding_question: String,
    pub(crate) goal: String,
    pub(crate) date: Option<String>,
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    pub(crate) place: String,
    pub(crate) host: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) participants: BTreeMap<String, StoredParticipant>,
    pub(crate) blocks: BTreeMap<String, StoredBlock>,
    pub(crate) decisions: BTreeMap<String, StoredItem>,
    pub(crate) parking_lot: BTreeMap<String, StoredItem>,
    pub(crate) outcomes: BTreeMap<String, StoredItem>,
}

impl StoredWorkshop {
    pub(crate) fn status(&self) -> Result<WorkshopStatus, DomainError> {
        self.status
            .as_deref()
            .map_or(Ok(WorkshopStatus::Planned), WorkshopStatus::parse)
    }
}

/// An agenda block as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaBlock {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: BlockKind,
    /// Method reference.
    pub method: Option<String>,
    /// Planned duration in minutes.
    pub duration_min: u32,
    /// Planned start `HH:MM`, computed from the workshop start and the blocks before.
    pub planned_start: Option<String>,
    /// Goal.
    pub goal: String,
    /// Instructions (collaborative text).
    pub instructions: String,
    /// Materials (collaborative text).
    pub materials: String,
    /// Responsible people.
    pub responsible: Vec<String>,
    /// Expected output.
    pub expected_output: String,
    /// Actual duration, recorded on the day.
    pub actual_duration_min: Option<u32>,
    /// Notes (collaborative text).
    pub notes: String,
    /// Fractional position.
    pub position: String,
    /// Soft-delete state.
    pub removal: Removal,
}

/// A decision, parking-lot item or outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkshopItem {
    /// Record id.
    pub id: String,
    /// The text.
    pub text: String,
    /// Who recorded it.
    pub by: Option<String>,
    /// When (device time).
    pub at: Option<i64>,
    /// Owner (parking lot).
    pub owner: Option<String>,
    /// Follow-up date (parking lot).
    pub follow_up_date: Option<String>,
    /// The business a follow-up is for.
    pub business: Option<String>,
    /// The measure created from this follow-up (`<action plan doc id>/<measure id>`).
    pub measure: Option<String>,
}

/// A participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Person id.
    pub person: String,
    /// Business id.
    pub business: Option<String>,
    /// Role (moderator, case giver …).
    pub role: Option<String>,
    /// RSVP (yes, no, maybe).
    pub rsvp: Option<String>,
}

/// An agenda that does not fit its time slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrun {
    /// Minutes planned.
    pub planned_min: u32,
    /// Minutes available between start and end.
    pub slot_min: u32,
}

/// A workshop as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkshopView {
    /// The document header.
    pub header: Header,
    /// Title.
    pub title: String,
    /// Format.
    pub kind: WorkshopKind,
    /// Guiding question.
    pub guiding_question: String,
    /// Goal.
    pub goal: String,
    /// Date (ISO).
    pub date: Option<String>,
    /// Start `HH:MM`.
    pub start: Option<String>,
    /// End `HH:MM`.
    pub end: Option<String>,
    /// Place.
    pub place: String,
    /// Host business.
    pub host: Option<String>,
    /// Status.
    pub status: WorkshopStatus,
    /// Invited people.
    pub participants: Vec<Participant>,
    /// Active blocks in order, with start times.
    pub agenda: Vec<AgendaBlock>,
    /// Removed blocks (restorable; `edited_after_removal` flags concurrent edits).
    pub removed_blocks: Vec<AgendaBlock>,
    /// Planned minutes of the active blocks.
    pub planned_min: u32,
    /// Set when the agenda does not fit between start and end.
    pub overrun: Option<Overrun>,
    /// Decisions.
    pub decisions: Vec<WorkshopItem>,
    /// Parking lot.
    pub parking_lot: Vec<WorkshopItem>,
    /// Outcomes and follow-ups.
    pub outcomes: Vec<WorkshopItem>,
    /// Fields with concurrent values.
    pub needs_review: Vec<NeedsReview>,
    /// The latest change.
    pub last_edited: Option<LastEdited>,
}

fn minutes(path: &str, value: i64) -> Result<u32, DomainError> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= 24 * 60)
        .ok_or_else(|| DomainError::shape(path, "duration outside 0–1440"))
}

impl StoredBlock {
    pub(crate) fn view(&self, id: &str) -> Result<AgendaBlock, DomainError> {
        Ok(AgendaBlock {
            id: id.to_owned(),
            title: self.title.clone(),
            kind: self
                .kind
                .as_deref()
                .map_or(Ok(BlockKind::Method), BlockKind::parse)?,
            method: self.method.clone(),
            duration_min: minutes(&format!("blocks/{id}/duration_min"), self.duration_min)?,
            planned_start: None,
            goal: self.goal.clone(),
            instructions: self.instructions.clone(),
            materials: self.materials.clone(),
            responsible: set_members(&self.responsible),
            expected_output: self.expected_output.clone(),
            actual_duration_min: self
                .actual_duration_min
                .map(|m| minutes(&format!("blocks/{id}/actual_duration_min"), m))
                .transpose()?,
            notes: self.notes.clone(),
            position: self.position.clone(),
            removal: self.removal.view(),
        })
    }
}

/// Items of a map, removed ones left out, oldest (smallest UUIDv7) first.
pub(crate) fn items(map: &BTreeMap<String, StoredItem>) -> Vec<WorkshopItem> {
    map.iter()
        .filter(|(_, i)| !i.removal.view().deleted)
        .map(|(id, i)| WorkshopItem {
            id: id.clone(),
            text: i.text.clone(),
            by: i.by.clone(),
            at: i.at,
            owner: i.owner.clone(),
            follow_up_date: i.follow_up_date.clone(),
            business: i.business.clone(),
            measure: i.measure.clone(),
        })
        .collect()
}

pub(crate) fn participants(map: &BTreeMap<String, StoredParticipant>) -> Vec<Participant> {
    map.iter()
        .map(|(person, p)| Participant {
            person: person.clone(),
            business: p.business.clone(),
            role: p.role.clone(),
            rsvp: p.rsvp.clone(),
        })
        .collect()
}

fn format_clock(minutes: u32) -> String {
    format!("{:02}:{:02}", (minutes / 60) % 24, minutes % 60)
}

/// Fills in start times of the ordered `agenda` and computes the overrun warning.
pub(crate) fn schedule(
    agenda: &mut [AgendaBlock],
    start: Option<&str>,
    end: Option<&str>,
) -> (u32, Option<Overrun>) {
    let start_min = start.and_then(|s| clock_minutes("start", s).ok());
    let mut offset = 0u32;
    for block in agenda.iter_mut() {
        block.planned_start = start_min.map(|s| format_clock(s + offset));
        offset += block.duration_min;
    }
    let end_min = end.and_then(|e| clock_minutes("end", e).ok());
    let overrun = match (start_min, end_min) {
        (Some(s), Some(e)) if e >= s && offset > e - s => Some(Overrun {
            planned_min: offset,
            slot_min: e - s,
        }),
        _ => None,
    };
    (offset, overrun)
}
