//! A workshop page: plan, invitations, agenda with computed start times and the overrun
//! warning, decisions, parking lot and outcomes (an outcome for a business is a suggested
//! follow-up measure).

use std::collections::BTreeMap;

use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::workshop::{BlockKind, WorkshopItem, WorkshopStatus, WorkshopView};

use super::{Choice, choices, date};

/// An agenda block row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRow {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind in words.
    pub kind: String,
    /// Planned minutes.
    pub duration_min: u32,
    /// Computed start `HH:MM`.
    pub start: String,
    /// Actual minutes, if recorded.
    pub actual_min: Option<u32>,
    /// Goal.
    pub goal: String,
    /// Moving up places the block between these two (after, before); `None` for the first.
    pub up: Option<(String, String)>,
    /// Moving down places the block between these two (after, before); `None` for the last.
    pub down: Option<(String, String)>,
}

/// A decision, parking-lot item or outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// Text.
    pub text: String,
    /// For which business (outcomes), by name.
    pub business: Option<String>,
}

/// One of the lists a workshop records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSection {
    /// The list's code (`decisions`, `parking_lot`, `outcomes`).
    pub list: &'static str,
    /// Heading.
    pub heading: &'static str,
    /// Whether items can be for a business (outcomes: suggested follow-ups).
    pub for_business: bool,
    /// The items.
    pub items: Vec<ItemRow>,
}

/// The workshop page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkshopPage {
    /// Title.
    pub title: String,
    /// Format in words.
    pub kind: String,
    /// Date in the page's language.
    pub date: String,
    /// ISO date (form value).
    pub date_iso: String,
    /// Start `HH:MM`.
    pub start: String,
    /// End `HH:MM`.
    pub end: String,
    /// Place.
    pub place: String,
    /// Goal.
    pub goal: String,
    /// Guiding question.
    pub guiding_question: String,
    /// Status in words.
    pub status: String,
    /// Status choices.
    pub statuses: Vec<Choice>,
    /// Whether the agenda can still change (planned).
    pub planning: bool,
    /// Blocks in order.
    pub blocks: Vec<BlockRow>,
    /// Kinds for a new block.
    pub block_kinds: Vec<Choice>,
    /// Planned minutes in total.
    pub planned_min: u32,
    /// The warning when the agenda does not fit its time slot.
    pub overrun: Option<String>,
    /// Decisions, parking lot and outcomes.
    pub lists: Vec<ItemSection>,
    /// Invited businesses by name.
    pub invited: Vec<String>,
    /// Businesses that can be invited or be given a follow-up: (id, name).
    pub businesses: Vec<(String, String)>,
}

fn items(list: &[WorkshopItem], names: &BTreeMap<String, String>) -> Vec<ItemRow> {
    list.iter()
        .map(|i| ItemRow {
            text: i.text.clone(),
            business: i
                .business
                .as_ref()
                .map(|b| names.get(b).cloned().unwrap_or_else(|| b.clone())),
        })
        .collect()
}

/// Builds the page from the workshop and the neighbourhood's current businesses (id → name).
pub fn page(w: &WorkshopView, businesses: &BTreeMap<String, String>, lang: Lang) -> WorkshopPage {
    let t = crate::web::i18n::Texts::of(lang);
    let ids: Vec<&String> = w.agenda.iter().map(|b| &b.id).collect();
    let blocks = w
        .agenda
        .iter()
        .enumerate()
        .map(|(i, b)| BlockRow {
            id: b.id.clone(),
            title: b.title.clone(),
            kind: b.kind.label().get(lang).to_owned(),
            duration_min: b.duration_min,
            start: b.planned_start.clone().unwrap_or_default(),
            actual_min: b.actual_duration_min,
            goal: b.goal.clone(),
            // "" is the open end of the agenda.
            up: i.checked_sub(1).map(|p| {
                let after = p
                    .checked_sub(1)
                    .map_or_else(String::new, |pp| ids[pp].clone());
                (after, ids[p].clone())
            }),
            down: ids.get(i + 1).map(|n| {
                let before = ids.get(i + 2).map_or_else(String::new, |nn| (*nn).clone());
                ((*n).clone(), before)
            }),
        })
        .collect();
    let mut invited: Vec<String> = w
        .participants
        .iter()
        .filter_map(|p| p.business.as_ref())
        .filter_map(|b| businesses.get(b).cloned())
        .collect();
    invited.sort();
    invited.dedup();
    WorkshopPage {
        title: w.title.clone(),
        kind: w.kind.label().get(lang).to_owned(),
        date: w.date.as_deref().map(|d| date(d, lang)).unwrap_or_default(),
        date_iso: w.date.clone().unwrap_or_default(),
        start: w.start.clone().unwrap_or_default(),
        end: w.end.clone().unwrap_or_default(),
        place: w.place.clone(),
        goal: w.goal.clone(),
        guiding_question: w.guiding_question.clone(),
        status: w.status.label().get(lang).to_owned(),
        statuses: choices(WorkshopStatus::ALL, |s| s.code(), Some(w.status), lang),
        planning: w.status == WorkshopStatus::Planned,
        blocks,
        block_kinds: choices(BlockKind::ALL, |k| k.code(), None, lang),
        planned_min: w.planned_min,
        overrun: w.overrun.as_ref().map(|o| {
            t.overrun_warning
                .replace("{planned}", &o.planned_min.to_string())
                .replace("{slot}", &o.slot_min.to_string())
        }),
        lists: vec![
            ItemSection {
                list: "decisions",
                heading: t.decisions,
                for_business: false,
                items: items(&w.decisions, businesses),
            },
            ItemSection {
                list: "parking_lot",
                heading: t.parking_lot,
                for_business: false,
                items: items(&w.parking_lot, businesses),
            },
            ItemSection {
                list: "outcomes",
                heading: t.outcomes,
                for_business: true,
                items: items(&w.outcomes, businesses),
            },
        ],
        invited,
        businesses: businesses
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}
