//! The neighbourhood overview, derived on read from the neighbourhood document and the public
//! business profiles: topic heat map, aggregates (suppressed below the threshold), demand for
//! joint offerings, and who can help whom.
//!
//! Only current members count: a business that left is hidden everywhere, and aggregates it
//! contributed to are recomputed without it.

use crate::label::coded_enum;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::business_profile::{
    BusinessProfileView, GoodPractice, NeedState, RecordRef, SharedFinding, TopicState,
};
use super::neighbourhood::NeighbourhoodView;

/// One business's row of the heat map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeatMapRow {
    /// Business id.
    pub business: String,
    /// Display name.
    pub name: String,
    /// Shared state per area code.
    pub cells: BTreeMap<String, TopicState>,
}

/// Counts per value, or nothing when too few businesses contribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// What is counted (an area code, or `measures`).
    pub subject: String,
    /// How many businesses contribute.
    pub contributors: u32,
    /// Counts per value code; `None` when suppressed.
    pub counts: Option<BTreeMap<String, u32>>,
}

/// Seats of interest in a joint offering across the member profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferingDemand {
    /// Offering id.
    pub offering: String,
    /// Title.
    pub title: String,
    /// Seats per business.
    pub seats_by_business: BTreeMap<String, i64>,
    /// Total seats.
    pub seats_total: i64,
    /// Seats needed.
    pub min_seats: u32,
    /// Enough seats for the offering to take place.
    pub min_reached: bool,
}

coded_enum! {
    /// How far a match between a need and an offer has come.
    MatchState, "match state" {
        /// The needing business accepted this offer.
        Accepted = "accepted", "Angenommen", "Accepted";
        /// The offering business proposed it for this need.
        Proposed = "proposed", "Vorgeschlagen", "Proposed";
        /// Suggested by topic overlap only.
        Suggested = "suggested", "Empfohlen", "Suggested";
        /// Proposed, but another offer was accepted.
        Declined = "declined", "Abgelehnt", "Declined";
    }
}

/// A possible match of a need and an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchSuggestion {
    /// The need.
    pub need: RecordRef,
    /// Its title.
    pub need_title: String,
    /// The offer.
    pub offer: RecordRef,
    /// Its title.
    pub offer_title: String,
    /// Overlap of topic areas and tags.
    pub overlap: u32,
    /// State.
    pub state: MatchState,
}

/// A shared item with its business, or none when shared anonymised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributed<T> {
    /// The business, unless anonymised.
    pub business: Option<String>,
    /// The item.
    pub item: T,
}

/// The neighbourhood as a coordinator follows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Current members and what they share per topic area.
    pub heat_map: Vec<HeatMapRow>,
    /// Per area: how many members are in each topic state.
    pub topic_aggregates: Vec<Aggregate>,
    /// Measures per status across the published progress summaries.
    pub progress: Aggregate,
    /// Demand for each joint offering.
    pub offerings: Vec<OfferingDemand>,
    /// Who can help whom.
    pub matches: Vec<MatchSuggestion>,
    /// Shared findings.
    pub shared_findings: Vec<Attributed<SharedFinding>>,
    /// Good-practice stories.
    pub good_practices: Vec<Attributed<GoodPractice>>,
}

fn aggregate(
    subject: &str,
    contributors: u32,
    counts: BTreeMap<String, u32>,
    threshold: u32,
) -> Aggregate {
    Aggregate {
        subject: subject.to_owned(),
        contributors,
        counts: (contributors >= threshold).then_some(counts),
    }
}

fn overlap(a_areas: &[String], a_tags: &[String], b_areas: &[String], b_tags: &[String]) -> u32 {
    let count = |a: &[String], b: &[String]| a.iter().filter(|x| b.contains(x)).count();
    u32::try_from(count(a_areas, b_areas) + count(a_tags, b_tags)).unwrap_or(u32::MAX)
}

/// Builds the overview. Profiles of businesses that are not current members are ignored, and
/// so are profiles of another neighbourhood.
pub fn overview(neighbourhood: &NeighbourhoodView, profiles: &[BusinessProfileView]) -> Overview {
    let threshold = neighbourhood.aggregate_threshold;
    let mut members: Vec<&BusinessProfileView> = profiles
        .iter()
        .filter(|p| {
            p.header.neighbourhood == neighbourhood.header.neighbourhood
                && neighbourhood.is_active_member(&p.business)
        })
        .collect();
    members.sort_by(|a, b| a.business.cmp(&b.business));
    members.dedup_by(|a, b| a.business == b.business);

    let heat_map = members
        .iter()
        .map(|p| HeatMapRow {
            business: p.business.clone(),
            name: p.display_name.clone(),
            cells: p.topic_states.clone(),
        })
        .collect();

    let areas: BTreeSet<&String> = members.iter().flat_map(|p| p.topic_states.keys()).collect();
    let topic_aggregates = areas
        .into_iter()
        .map(|area| {
            let mut counts = BTreeMap::new();
            let mut contributors = 0;
            for p in &members {
                if let Some(state) = p.topic_states.get(area) {
                    contributors += 1;
                    *counts.entry(state.code().to_owned()).or_insert(0) += 1;
                }
            }
            aggregate(area, contributors, counts, threshold)
        })
        .collect();

    let mut progress_counts = BTreeMap::new();
    let mut progress_contributors = 0;
    for summary in members.iter().filter_map(|p| p.progress_summary.as_ref()) {
        progress_contributors += 1;
        for (status, n) in &summary.counts {
            *progress_counts.entry(status.clone()).or_insert(0) += n;
        }
    }
    let progress = aggregate(
        "measures",
        progress_contributors,
        progress_counts,
        threshold,
    );

    let offerings = neighbourhood
        .joint_offerings
        .iter()
        .map(|o| {
            let seats_by_business: BTreeMap<String, i64> = members
                .iter()
                .filter_map(|p| p.seat_interest.get(&o.id).map(|s| (p.business.clone(), *s)))
                .filter(|(_, s)| *s != 0)
                .collect();
            let seats_total = seats_by_business.values().sum();
            OfferingDemand {
                offering: o.id.clone(),
                title: o.title.clone(),
                seats_by_business,
                seats_total,
                min_seats: o.min_seats,
                min_reached: seats_total >= i64::from(o.min_seats),
            }
        })
        .collect();

    let mut matches = Vec::new();
    for needer in &members {
        for need in needer
            .needs
            .iter()
            .filter(|n| matches!(n.state, NeedState::Open | NeedState::Matched))
        {
            let need_ref = RecordRef {
                business: needer.business.clone(),
                id: need.id.clone(),
            };
            for helper in members.iter().filter(|p| p.business != needer.business) {
                for offer in &helper.offers {
                    let offer_ref = RecordRef {
                        business: helper.business.clone(),
                        id: offer.id.clone(),
                    };
                    let proposed = offer.for_need.as_ref() == Some(&need_ref);
                    let overlap = overlap(&need.areas, &need.tags, &offer.areas, &offer.tags);
                    if !proposed && overlap == 0 {
                        continue;
                    }
                    let state = match &need.accepted_offer {
                        Some(accepted) if *accepted == offer_ref => MatchState::Accepted,
                        Some(_) if proposed => MatchState::Declined,
                        Some(_) => continue,
                        None if proposed => MatchState::Proposed,
                        None => MatchState::Suggested,
                    };
                    matches.push(MatchSuggestion {
                        need: need_ref.clone(),
                        need_title: need.title.clone(),
                        offer: offer_ref,
                        offer_title: offer.title.clone(),
                        overlap,
                        state,
                    });
                }
            }
        }
    }
    matches.sort_by(|a, b| {
        (&a.need, a.state, std::cmp::Reverse(a.overlap), &a.offer).cmp(&(
            &b.need,
            b.state,
            std::cmp::Reverse(b.overlap),
            &b.offer,
        ))
    });

    let shared_findings = members
        .iter()
        .flat_map(|p| {
            p.shared_findings.iter().map(|f| Attributed {
                business: (f.share_level == super::assessment::ShareLevel::Named)
                    .then(|| p.business.clone()),
                item: f.clone(),
            })
        })
        .collect();
    let good_practices = members
        .iter()
        .flat_map(|p| {
            p.good_practices.iter().map(|g| Attributed {
                business: g.named.then(|| p.business.clone()),
                item: g.clone(),
            })
        })
        .collect();

    Overview {
        heat_map,
        topic_aggregates,
        progress,
        offerings,
        matches,
        shared_findings,
        good_practices,
    }
}
