//! The neighbourhood summary for the chamber and the funders: who takes part, the phase, the
//! workshops held and to come, the joint offerings with seats, the topic aggregates with the
//! threshold suppression and the knowledge matches made. Built only from what the
//! coordinator's home is built from (the neighbourhood, the member profiles, the workshops),
//! never from assessments or action plans, and without the per-business heat map.

use nachbar_core::catalogue::CatalogueRelease;
use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::business_profile::BusinessProfileView;
use nachbar_core::model::neighbourhood::NeighbourhoodView;
use nachbar_core::model::workshop::{WorkshopStatus, WorkshopView};
use serde::Serialize;

use crate::web::views::date;
use crate::web::views::home::{AggregateRow, DateRow, MatchRow, OfferingRow, home};

/// A workshop that took place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldRow {
    /// ISO date (sorting).
    pub iso: String,
    /// Date in words.
    pub date: String,
    /// Title.
    pub title: String,
    /// Its kind in words.
    pub kind: String,
    /// How many people took part.
    pub participants: usize,
    /// How many businesses they came from.
    pub businesses: usize,
}

/// The neighbourhood summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryView {
    /// Neighbourhood name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Phase in words.
    pub phase: String,
    /// Names of the businesses taking part, sorted.
    pub businesses: Vec<String>,
    /// Workshops held, oldest first.
    pub held: Vec<HeldRow>,
    /// Next dates.
    pub upcoming: Vec<DateRow>,
    /// Joint offerings with seats.
    pub offerings: Vec<OfferingRow>,
    /// Topic aggregates per area (suppressed below the threshold).
    pub aggregates: Vec<AggregateRow>,
    /// Measures per status (suppressed below the threshold).
    pub progress: AggregateRow,
    /// The threshold.
    pub threshold: u32,
    /// Knowledge matches the needing business accepted.
    pub matches: Vec<MatchRow>,
}

/// Builds the summary of `hood` from its member profiles and workshops, as of `today` (ISO).
pub fn summary(
    hood: &NeighbourhoodView,
    profiles: &[BusinessProfileView],
    workshops: &[(String, WorkshopView)],
    catalogue: &CatalogueRelease,
    today: &str,
    lang: Lang,
    not_shared: &str,
) -> SummaryView {
    let h = home(
        hood, profiles, workshops, catalogue, today, lang, not_shared,
    );
    let mut held: Vec<HeldRow> = workshops
        .iter()
        .map(|(_, w)| w)
        .filter(|w| matches!(w.status, WorkshopStatus::Held | WorkshopStatus::Closed))
        .map(|w| {
            let iso = w.date.clone().unwrap_or_default();
            let businesses: std::collections::BTreeSet<&str> = w
                .participants
                .iter()
                .filter_map(|p| p.business.as_deref())
                .collect();
            HeldRow {
                date: if iso.is_empty() {
                    String::new()
                } else {
                    date(&iso, lang)
                },
                iso,
                title: w.title.clone(),
                kind: w.kind.label().get(lang).to_owned(),
                participants: w.participants.len(),
                businesses: businesses.len(),
            }
        })
        .collect();
    held.sort_by(|a, b| (&a.iso, &a.title).cmp(&(&b.iso, &b.title)));
    SummaryView {
        name: h.name,
        location: h.location,
        phase: h.phase,
        businesses: h.rows.into_iter().map(|r| r.name).collect(),
        held,
        upcoming: h.dates,
        offerings: h.offerings,
        aggregates: h.aggregates,
        progress: h.progress,
        threshold: h.threshold,
        matches: h.matches.into_iter().filter(|m| m.accepted).collect(),
    }
}
