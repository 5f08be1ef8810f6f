//! The neighbourhood home of the coordinator's office: heat map of businesses × topic areas
//! (colour, symbol and text), aggregates with the threshold suppression, progress, knowledge
//! matches, joint offerings with seats, and the next dates. Also the heat map as CSV.

use std::collections::BTreeMap;

use nachbar_core::catalogue::CatalogueRelease;
use nachbar_core::label::{Labelled, Lang};
use nachbar_core::model::action_plan::MeasureStatus;
use nachbar_core::model::business_profile::{BusinessProfileView, TopicState};
use nachbar_core::model::neighbourhood::NeighbourhoodView;
use nachbar_core::model::overview::{Aggregate, overview};
use nachbar_core::model::workshop::WorkshopView;

use super::date;

/// A column of the heat map.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AreaColumn {
    /// Area code (`A` …).
    pub code: String,
    /// Its name.
    pub label: String,
}

/// A cell of the heat map.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    /// CSS class (`st-solved`, … `st-none`).
    pub class: String,
    /// A symbol that carries the state without colour.
    pub symbol: &'static str,
    /// The state in words.
    pub text: String,
}

/// A row of the heat map.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeatRow {
    /// Business name.
    pub name: String,
    /// One cell per area column.
    pub cells: Vec<Cell>,
}

/// One count of an aggregate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    /// What is counted, in words.
    pub label: String,
    /// How many.
    pub n: u32,
}

/// An aggregate row: shown, or suppressed below the threshold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AggregateRow {
    /// The area (or "measures") in words.
    pub subject: String,
    /// How many businesses contribute.
    pub contributors: u32,
    /// The counts; `None` when suppressed.
    pub counts: Option<Vec<Count>>,
}

/// A knowledge match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchRow {
    /// The needing business.
    pub need_business: String,
    /// The need.
    pub need: String,
    /// The offering business.
    pub offer_business: String,
    /// The offer.
    pub offer: String,
    /// State in words.
    pub state: String,
    /// The needing business accepted the offer (a match made).
    pub accepted: bool,
}

/// A joint offering with its seats.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfferingRow {
    /// Title.
    pub title: String,
    /// Status in words.
    pub status: String,
    /// Seats of interest.
    pub seats: i64,
    /// Seats needed.
    pub min_seats: u32,
    /// Enough seats.
    pub min_reached: bool,
}

/// A meeting or workshop to come.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DateRow {
    /// ISO date (sorting).
    pub iso: String,
    /// Date in the page's language.
    pub date: String,
    /// Start time, if known.
    pub time: String,
    /// Title.
    pub title: String,
    /// Place.
    pub place: String,
    /// Link to the workshop page.
    pub href: Option<String>,
    /// Whether it is a workshop.
    pub workshop: bool,
}

/// The neighbourhood home.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HomeView {
    /// Neighbourhood name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Phase in words.
    pub phase: String,
    /// Heat map columns (areas anyone shared, in catalogue order).
    pub areas: Vec<AreaColumn>,
    /// Heat map rows (current members).
    pub rows: Vec<HeatRow>,
    /// The legend: every state with symbol and class.
    pub legend: Vec<Cell>,
    /// Topic aggregates per area.
    pub aggregates: Vec<AggregateRow>,
    /// Measures per status.
    pub progress: AggregateRow,
    /// The threshold below which aggregates are suppressed.
    pub threshold: u32,
    /// Knowledge matches.
    pub matches: Vec<MatchRow>,
    /// Joint offerings.
    pub offerings: Vec<OfferingRow>,
    /// Next dates (today and later).
    pub dates: Vec<DateRow>,
}

/// The symbol of a topic state (WCAG 1.4.1: never colour alone).
pub fn symbol(state: Option<TopicState>) -> &'static str {
    match state {
        Some(TopicState::Solved) => "✓",
        Some(TopicState::WorkingOnIt) => "◐",
        Some(TopicState::NeedHelp) => "!",
        Some(TopicState::NotRelevant) => "–",
        None => "·",
    }
}

fn cell(state: Option<TopicState>, lang: Lang, not_shared: &str) -> Cell {
    Cell {
        class: format!("st-{}", state.map_or("none", |s| s.code())),
        symbol: symbol(state),
        text: state.map_or_else(|| not_shared.to_owned(), |s| s.label().get(lang).to_owned()),
    }
}

fn area_label(catalogue: &CatalogueRelease, code: &str, lang: Lang) -> String {
    catalogue.area(code).map_or_else(
        || code.to_owned(),
        |a| format!("{code} – {}", a.label.get(lang)),
    )
}

fn aggregate_row(a: &Aggregate, subject: String, label: impl Fn(&str) -> String) -> AggregateRow {
    AggregateRow {
        subject,
        contributors: a.contributors,
        counts: a.counts.as_ref().map(|c| {
            c.iter()
                .map(|(code, n)| Count {
                    label: label(code),
                    n: *n,
                })
                .collect()
        }),
    }
}

/// Builds the neighbourhood home from the neighbourhood, the member profiles and the
/// workshops, for dates from `today` (ISO) on.
pub fn home(
    hood: &NeighbourhoodView,
    profiles: &[BusinessProfileView],
    workshops: &[(String, WorkshopView)],
    catalogue: &CatalogueRelease,
    today: &str,
    lang: Lang,
    not_shared: &str,
) -> HomeView {
    let o = overview(hood, profiles);
    let names: BTreeMap<&str, &str> = o
        .heat_map
        .iter()
        .map(|r| (r.business.as_str(), r.name.as_str()))
        .collect();
    let shared: std::collections::BTreeSet<&String> =
        o.heat_map.iter().flat_map(|r| r.cells.keys()).collect();
    let mut area_codes: Vec<String> = catalogue
        .areas
        .iter()
        .filter(|a| shared.contains(&a.id))
        .map(|a| a.id.clone())
        .collect();
    // Areas of another catalogue release still show, after the known ones.
    for code in &shared {
        if !area_codes.contains(code) {
            area_codes.push((*code).clone());
        }
    }
    let areas = area_codes
        .iter()
        .map(|code| AreaColumn {
            code: code.clone(),
            label: area_label(catalogue, code, lang),
        })
        .collect();
    let mut rows: Vec<HeatRow> = o
        .heat_map
        .iter()
        .map(|r| HeatRow {
            name: r.name.clone(),
            cells: area_codes
                .iter()
                .map(|a| cell(r.cells.get(a).copied(), lang, not_shared))
                .collect(),
        })
        .collect();
    rows.sort_by_key(|r| r.name.to_lowercase());
    let legend = TopicState::ALL
        .iter()
        .map(|s| cell(Some(*s), lang, not_shared))
        .chain(std::iter::once(cell(None, lang, not_shared)))
        .collect();
    let state_label = |code: &str| {
        TopicState::parse(code).map_or_else(|_| code.to_owned(), |s| s.label().get(lang).to_owned())
    };
    let aggregates = o
        .topic_aggregates
        .iter()
        .map(|a| aggregate_row(a, area_label(catalogue, &a.subject, lang), state_label))
        .collect();
    let progress = aggregate_row(&o.progress, String::new(), |code| {
        MeasureStatus::parse(code)
            .map_or_else(|_| code.to_owned(), |s| s.label().get(lang).to_owned())
    });
    let name_of = |b: &str| {
        names
            .get(b)
            .map_or_else(|| b.to_owned(), |n| (*n).to_owned())
    };
    let matches = o
        .matches
        .iter()
        .map(|m| MatchRow {
            need_business: name_of(&m.need.business),
            need: m.need_title.clone(),
            offer_business: name_of(&m.offer.business),
            offer: m.offer_title.clone(),
            state: m.state.label().get(lang).to_owned(),
            accepted: m.state == nachbar_core::model::overview::MatchState::Accepted,
        })
        .collect();
    let offerings = o
        .offerings
        .iter()
        .map(|d| OfferingRow {
            title: d.title.clone(),
            status: hood
                .joint_offerings
                .iter()
                .find(|j| j.id == d.offering)
                .map(|j| j.status.label().get(lang).to_owned())
                .unwrap_or_default(),
            seats: d.seats_total,
            min_seats: d.min_seats,
            min_reached: d.min_reached,
        })
        .collect();
    let mut dates: Vec<DateRow> = hood
        .meetings
        .iter()
        .filter(|m| m.date.as_str() >= today)
        .map(|m| DateRow {
            iso: m.date.clone(),
            date: date(&m.date, lang),
            time: m.start.clone().unwrap_or_default(),
            title: m.title.clone(),
            place: m.place.clone(),
            href: m.workshop.as_ref().map(|w| format!("/w/{w}")),
            workshop: m.workshop.is_some(),
        })
        .collect();
    for (id, w) in workshops {
        let Some(d) = w.date.as_deref().filter(|d| *d >= today) else {
            continue;
        };
        let href = format!("/w/{id}");
        if dates
            .iter()
            .any(|r| r.href.as_deref() == Some(href.as_str()))
        {
            continue;
        }
        dates.push(DateRow {
            iso: d.to_owned(),
            date: date(d, lang),
            time: w.start.clone().unwrap_or_default(),
            title: w.title.clone(),
            place: w.place.clone(),
            href: Some(href),
            workshop: true,
        });
    }
    dates.sort_by(|a, b| (&a.iso, &a.time).cmp(&(&b.iso, &b.time)));
    dates.truncate(8);
    HomeView {
        name: hood.name.clone(),
        location: hood.location.clone(),
        phase: hood.phase.label().get(lang).to_owned(),
        areas,
        rows,
        legend,
        aggregates,
        progress,
        threshold: hood.aggregate_threshold,
        matches,
        offerings,
        dates,
    }
}

/// A CSV cell that a spreadsheet will not run as a formula (user text may start with `=`,
/// also after spaces, or with its full-width form).
pub fn csv_safe(text: &str) -> String {
    let starts_formula = text.starts_with(['\t', '\r'])
        || text
            .trim_start_matches([' ', '\u{a0}', '\u{3000}'])
            .starts_with(['=', '+', '-', '@', '＝', '＋', '－', '＠']);
    if starts_formula {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The heat map as CSV rows under its head: the business column, then one per topic area.
pub fn heat_map_table<'a>(
    view: &'a HomeView,
    business: &'a str,
) -> (Vec<&'a str>, Vec<Vec<String>>) {
    let mut head = vec![business];
    head.extend(view.areas.iter().map(|a| a.label.as_str()));
    let rows = view
        .rows
        .iter()
        .map(|row| {
            let mut rec = vec![row.name.clone()];
            rec.extend(row.cells.iter().map(|c| c.text.clone()));
            rec
        })
        .collect();
    (head, rows)
}
