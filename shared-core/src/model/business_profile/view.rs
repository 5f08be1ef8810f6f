//! The business profile read model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::doc::{Header, LastEdited};
use crate::label::coded_enum;
use crate::model::assessment::{FindingKind, ShareLevel};
use crate::model::common::{StoredRemoval, set_members};

coded_enum! {
    /// Staff size band (drives applicability and aggregates).
    SizeBand, "size band" {
        /// 1–9 staff.
        Micro = "1-9", "1–9", "1–9";
        /// 10–49 staff.
        Small = "10-49", "10–49", "10–49";
        /// 50–249 staff.
        Medium = "50-249", "50–249", "50–249";
        /// 250 and more.
        Large = "250+", "ab 250", "250+";
    }
}

coded_enum! {
    /// What a business shares about a topic area (the heat map cell).
    TopicState, "topic state" {
        /// Solved; can show others.
        Solved = "solved", "Gelöst – zeigen wir gern", "Solved – can show";
        /// Working on it.
        WorkingOnIt = "working_on_it", "In Arbeit", "Working on it";
        /// Needs help.
        NeedHelp = "need_help", "Brauchen Hilfe", "Need help";
        /// Not relevant for the business.
        NotRelevant = "not_relevant", "Nicht relevant", "Not relevant";
    }
}

coded_enum! {
    /// How a knowledge offer is delivered.
    OfferFormat, "offer format" {
        /// A phone call.
        Phone = "phone", "Telefonat", "Phone call";
        /// A screen-share session.
        ScreenShare = "screen_share", "Bildschirmfreigabe", "Screen share";
        /// A visit on site.
        SiteVisit = "site_visit", "Besuch vor Ort", "Site visit";
        /// A short talk at a meeting.
        ShortTalk = "short_talk", "Kurzvortrag", "Short talk";
    }
}

coded_enum! {
    /// Where a need stands; "matched" and "declined" offers are derived from the accepted offer.
    NeedState, "need state" {
        /// Open.
        Open = "open", "Offen", "Open";
        /// An offer was accepted.
        Matched = "matched", "Vermittelt", "Matched";
        /// Solved.
        Solved = "solved", "Gelöst", "Solved";
        /// Withdrawn.
        Withdrawn = "withdrawn", "Zurückgezogen", "Withdrawn";
    }
}

/// A reference to a record in another business's profile: `<business id>/<record id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordRef {
    /// The business whose profile holds the record.
    pub business: String,
    /// The record id.
    pub id: String,
}

impl RecordRef {
    /// Parses `<business>/<id>`.
    ///
    /// # Errors
    /// [`DomainError::InvalidValue`] without exactly one `/` or with an empty part.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.split_once('/') {
            Some((b, id)) if !b.is_empty() && !id.is_empty() && !id.contains('/') => Ok(Self {
                business: b.to_owned(),
                id: id.to_owned(),
            }),
            _ => Err(DomainError::InvalidValue {
                field: "reference",
                value: s.to_owned(),
            }),
        }
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        format!("{}/{}", self.business, self.id)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredOffer {
    title: String,
    areas: BTreeMap<String, bool>,
    tags: BTreeMap<String, bool>,
    format: Option<String>,
    description: String,
    for_need: Option<String>,
    contact: Option<String>,
    #[serde(flatten)]
    removal: StoredRemoval,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredNeed {
    title: String,
    areas: BTreeMap<String, bool>,
    tags: BTreeMap<String, bool>,
    description: String,
    urgency: Option<i64>,
    pub(crate) state: Option<String>,
    pub(crate) accepted_offer: Option<String>,
    created_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredPractice {
    title: String,
    problem: String,
    solution: String,
    tools: String,
    lessons: String,
    cost_band: Option<String>,
    named: bool,
    areas: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredSharedFinding {
    area: String,
    title: String,
    description: String,
    kind: Option<String>,
    severity: Option<i64>,
    share_level: Option<String>,
}

/// A published progress summary: counts only, and the titles the business opted in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProgressSummary {
    /// When it was published (device time).
    pub as_of: i64,
    /// Measures per status code.
    pub counts: BTreeMap<String, u32>,
    /// Titles of measures shared by name (opted in).
    pub titles: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StoredProfile {
    pub(crate) display_name: String,
    pub(crate) trade: String,
    pub(crate) size_band: Option<String>,
    pub(crate) contact: Option<String>,
    pub(crate) topic_states: BTreeMap<String, String>,
    pub(crate) offers: BTreeMap<String, StoredOffer>,
    pub(crate) needs: BTreeMap<String, StoredNeed>,
    pub(crate) good_practices: BTreeMap<String, StoredPractice>,
    pub(crate) shared_findings: BTreeMap<String, StoredSharedFinding>,
    pub(crate) progress_summary: Option<ProgressSummary>,
    pub(crate) seat_interest: BTreeMap<String, i64>,
}

/// A knowledge offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Topic areas.
    pub areas: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Format.
    pub format: OfferFormat,
    /// Description (collaborative text).
    pub description: String,
    /// The need it answers (a match proposal), if any.
    pub for_need: Option<RecordRef>,
    /// Contact person.
    pub contact: Option<String>,
}

/// A need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Topic areas.
    pub areas: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Description (collaborative text).
    pub description: String,
    /// Urgency 1–3.
    pub urgency: u8,
    /// State (matched when an offer was accepted).
    pub state: NeedState,
    /// The accepted offer.
    pub accepted_offer: Option<RecordRef>,
    /// When it was posted (device time).
    pub created_at: Option<i64>,
}

/// A good-practice story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodPractice {
    /// Record id.
    pub id: String,
    /// Title.
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
    /// Shown with the business's name.
    pub named: bool,
    /// Topic areas.
    pub areas: Vec<String>,
}

/// A finding the business shared from its assessment (a reduced copy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFinding {
    /// Record id.
    pub id: String,
    /// Area code.
    pub area: String,
    /// Title.
    pub title: String,
    /// Description (only when shared by name).
    pub description: String,
    /// Kind.
    pub kind: FindingKind,
    /// 1–3.
    pub severity: u8,
    /// Anonymised or named.
    pub share_level: ShareLevel,
}

/// A business profile as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessProfileView {
    /// The document header.
    pub header: Header,
    /// The business id.
    pub business: String,
    /// Display name.
    pub display_name: String,
    /// Trade.
    pub trade: String,
    /// Size band.
    pub size_band: Option<SizeBand>,
    /// Contact person for the network.
    pub contact: Option<String>,
    /// Shared topic states per area.
    pub topic_states: BTreeMap<String, TopicState>,
    /// Knowledge offers (withdrawn ones left out).
    pub offers: Vec<Offer>,
    /// Needs.
    pub needs: Vec<Need>,
    /// Good-practice stories.
    pub good_practices: Vec<GoodPractice>,
    /// Shared findings.
    pub shared_findings: Vec<SharedFinding>,
    /// Published progress summary.
    pub progress_summary: Option<ProgressSummary>,
    /// Seats of interest per joint offering (sum of every device's counter).
    pub seat_interest: BTreeMap<String, i64>,
    /// The latest change.
    pub last_edited: Option<LastEdited>,
}

fn small(value: Option<i64>, default: u8, max: i64) -> u8 {
    value.map_or(default, |v| {
        u8::try_from(v.clamp(1, max)).unwrap_or(default)
    })
}

impl StoredProfile {
    pub(crate) fn view(
        &self,
        header: Header,
        last_edited: Option<LastEdited>,
    ) -> Result<BusinessProfileView, DomainError> {
        let mut topic_states = BTreeMap::new();
        for (area, state) in &self.topic_states {
            topic_states.insert(area.clone(), TopicState::parse(state)?);
        }
        let mut offers = Vec::new();
        for (id, o) in self
            .offers
            .iter()
            .filter(|(_, o)| !o.removal.view().deleted)
        {
            offers.push(Offer {
                id: id.clone(),
                title: o.title.clone(),
                areas: set_members(&o.areas),
                tags: set_members(&o.tags),
                format: o
                    .format
                    .as_deref()
                    .map_or(Ok(OfferFormat::Phone), OfferFormat::parse)?,
                description: o.description.clone(),
                for_need: o.for_need.as_deref().map(RecordRef::parse).transpose()?,
                contact: o.contact.clone(),
            });
        }
        let mut needs = Vec::new();
        for (id, n) in &self.needs {
            let accepted_offer = n
                .accepted_offer
                .as_deref()
                .map(RecordRef::parse)
                .transpose()?;
            let stored = n
                .state
                .as_deref()
                .map_or(Ok(NeedState::Open), NeedState::parse)?;
            let state = match stored {
                NeedState::Open if accepted_offer.is_some() => NeedState::Matched,
                other => other,
            };
            needs.push(Need {
                id: id.clone(),
                title: n.title.clone(),
                areas: set_members(&n.areas),
                tags: set_members(&n.tags),
                description: n.description.clone(),
                urgency: small(n.urgency, 2, 3),
                state,
                accepted_offer,
                created_at: n.created_at,
            });
        }
        let good_practices = self
            .good_practices
            .iter()
            .map(|(id, p)| GoodPractice {
                id: id.clone(),
                title: p.title.clone(),
                problem: p.problem.clone(),
                solution: p.solution.clone(),
                tools: p.tools.clone(),
                lessons: p.lessons.clone(),
                cost_band: p.cost_band.clone(),
                named: p.named,
                areas: set_members(&p.areas),
            })
            .collect();
        let mut shared_findings = Vec::new();
        for (id, f) in &self.shared_findings {
            shared_findings.push(SharedFinding {
                id: id.clone(),
                area: f.area.clone(),
                title: f.title.clone(),
                description: f.description.clone(),
                kind: f
                    .kind
                    .as_deref()
                    .map_or(Ok(FindingKind::PainPoint), FindingKind::parse)?,
                severity: small(f.severity, 2, 3),
                share_level: f
                    .share_level
                    .as_deref()
                    .map_or(Ok(ShareLevel::Anonymised), ShareLevel::parse)?,
            });
        }
        let mut seat_interest: BTreeMap<String, i64> = BTreeMap::new();
        for (key, seats) in &self.seat_interest {
            if let Some((offering, _actor)) = key.split_once('/') {
                *seat_interest.entry(offering.to_owned()).or_default() += seats;
            }
        }
        Ok(BusinessProfileView {
            business: header.business.clone().unwrap_or_default(),
            header,
            display_name: self.display_name.clone(),
            trade: self.trade.clone(),
            size_band: self.size_band.as_deref().map(SizeBand::parse).transpose()?,
            contact: self.contact.clone(),
            topic_states,
            offers,
            needs,
            good_practices,
            shared_findings,
            progress_summary: self.progress_summary.clone(),
            seat_interest,
            last_edited,
        })
    }
}
