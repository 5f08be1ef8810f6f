//! Joint offerings of a neighbourhood: create, status, dates; seats of interest per business
//! where the business shares it (the seat counters in the profiles, summed on read).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nachbar_core::DomainError;
use nachbar_core::label::Labelled;
use nachbar_core::model::neighbourhood::{
    CostModel, NeighbourhoodDoc, NewOffering, OfferingKind, OfferingStatus,
};
use serde::Deserialize;

use crate::access::{Access, Policy};
use crate::routes::AppState;
use crate::web::cache::View;
use crate::web::edit::{self, EditError};
use crate::web::errors::{FieldErrors, domain};
use crate::web::frame::{Frame, render};
use crate::web::i18n::Texts;
use crate::web::read;
use crate::web::see_other;
use crate::web::session::SignedIn;
use crate::web::views::{Choice, choices, date};

/// An offering card.
#[derive(Debug, Clone)]
pub struct OfferingCard {
    /// Record id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// Provider.
    pub provider: String,
    /// Status choices (current selected).
    pub statuses: Vec<Choice>,
    /// Status in words.
    pub status: String,
    /// Dates in words.
    pub dates: Vec<String>,
    /// Seats per business (name, seats).
    pub seats: Vec<(String, i64)>,
    /// Total seats.
    pub total: i64,
    /// Seats needed.
    pub min_seats: u32,
}

/// The page.
#[derive(Debug, Template)]
#[template(path = "offerings.html")]
pub struct OfferingsPage {
    /// The frame.
    pub frame: Frame,
    /// The neighbourhood id.
    pub n: String,
    /// The offerings.
    pub cards: Vec<OfferingCard>,
    /// Kinds.
    pub kinds: Vec<Choice>,
    /// Cost models.
    pub costs: Vec<Choice>,
    /// Errors by field.
    pub errors: FieldErrors,
}

/// The neighbourhood's joint offerings with the seats of interest per business; `None` when
/// the user does not run the neighbourhood.
async fn cards(
    state: &AppState,
    who: &SignedIn,
    n: &str,
) -> Result<Option<Vec<OfferingCard>>, read::ReadError> {
    let lang = who.lang;
    if !who.runs(n) {
        return Ok(None);
    }
    let Ok(Some(hood_id)) = super::neighbourhood::hood_doc(state, n).await else {
        return Ok(None);
    };
    // The cached read models of the neighbourhood (hydrated off the runtime when changed).
    let Some(views) = read::hood_views(&state.web, n).await? else {
        return Ok(None);
    };
    let mut hood = None;
    let mut seats: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for (id, h) in &views {
        if who.policy.access(&who.principal(), &h.info) == Access::None {
            continue;
        }
        match &h.view {
            View::Neighbourhood(v) if *id == hood_id => hood = Some(v),
            View::Profile(p) if hood_active(&p.business, who) => {
                for (offering, n) in p.seat_interest.iter().filter(|(_, n)| **n != 0) {
                    seats
                        .entry(offering.clone())
                        .or_default()
                        // The directory's name: a profile's display name is the business's
                        // own text and could pose as another.
                        .push((business_name(who, &p.business, &p.display_name), *n));
                }
            }
            _ => {}
        }
    }
    let Some(hood) = hood else {
        return Ok(None);
    };
    Ok(Some(
        hood.joint_offerings
            .iter()
            .map(|o| {
                let s = seats.remove(&o.id).unwrap_or_default();
                OfferingCard {
                    id: o.id.clone(),
                    title: o.title.clone(),
                    kind: o.kind.label().get(lang).to_owned(),
                    provider: o.provider.clone(),
                    statuses: choices(OfferingStatus::ALL, |s| s.code(), Some(o.status), lang),
                    status: o.status.label().get(lang).to_owned(),
                    dates: o.dates.iter().map(|d| date(d, lang)).collect(),
                    total: s.iter().map(|(_, n)| n).sum(),
                    seats: s,
                    min_seats: o.min_seats,
                }
            })
            .collect(),
    ))
}

/// `GET /n/{id}/offerings.csv`: every joint offering with its seats, per business too.
pub async fn csv(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
    axum::extract::Query(q): axum::extract::Query<crate::web::export::CsvQuery>,
) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    let Ok(format) = crate::web::export::CsvFormat::of(lang, &q) else {
        return super::errors::bad_request(lang);
    };
    let cards = match cards(&state, &who, &n).await {
        Ok(Some(c)) => c,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let rows = cards.iter().map(|c| {
        vec![
            c.title.clone(),
            c.kind.clone(),
            c.provider.clone(),
            c.status.clone(),
            c.dates.join(", "),
            c.min_seats.to_string(),
            c.total.to_string(),
            c.seats
                .iter()
                .map(|(b, n)| format!("{b}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ]
    });
    let head = [
        t.title,
        t.kind,
        t.provider,
        t.status,
        t.dates,
        t.min_seats,
        t.seats_total,
        t.seats_per_business,
    ];
    match crate::web::export::table(format, &head, rows) {
        Ok(bytes) => crate::web::export::response(bytes, "gemeinsame-angebote.csv"),
        Err(_) => super::errors::unavailable(lang),
    }
}

async fn page_with(
    state: &AppState,
    who: &SignedIn,
    n: &str,
    status: StatusCode,
    errors: FieldErrors,
) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    let cards = match cards(state, who, n).await {
        Ok(Some(c)) => c,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    render(
        status,
        &OfferingsPage {
            frame: Frame::new(
                lang,
                t.joint_offerings,
                Some(who),
                &format!("/n/{n}/offerings"),
                Some(n),
            ),
            n: n.to_owned(),
            cards,
            kinds: choices(OfferingKind::ALL, |k| k.code(), None, lang),
            costs: choices(CostModel::ALL, |c| c.code(), None, lang),
            errors,
        },
    )
}

fn hood_active(business: &str, who: &SignedIn) -> bool {
    who.policy
        .directory()
        .businesses
        .get(business)
        .is_some_and(|b| b.active)
}

/// `GET /n/{id}/offerings`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
) -> Response {
    page_with(&state, &who, &n, StatusCode::OK, FieldErrors::none()).await
}

/// Edits the neighbourhood document and answers with the page.
async fn edit_hood(
    state: &AppState,
    who: &SignedIn,
    n: &str,
    f: impl FnOnce(
        &mut NeighbourhoodDoc,
        &nachbar_core::doc::EditContext,
    ) -> Result<((), nachbar_core::doc::Applied), DomainError>,
) -> Response {
    let lang = who.lang;
    if !who.runs(n) {
        return super::errors::not_found_in(lang);
    }
    let Ok(Some(id)) = super::neighbourhood::hood_doc(state, n).await else {
        return super::errors::not_found_in(lang);
    };
    match edit::edit::<NeighbourhoodDoc, ()>(state, who, id, f).await {
        Ok(()) => see_other(&format!("/n/{n}/offerings")),
        Err(EditError::Domain(e)) => {
            page_with(
                state,
                who,
                n,
                StatusCode::UNPROCESSABLE_ENTITY,
                domain(&e, lang),
            )
            .await
        }
        Err(e) => super::errors::from_edit(&e, lang),
    }
}

/// The new-offering form.
#[derive(Debug, Deserialize)]
pub struct NewOfferingForm {
    title: String,
    kind: String,
    #[serde(default)]
    provider: String,
    min_seats: String,
    cost_model: String,
    #[serde(default)]
    cost_eur: String,
}

fn number(field: &'static str, s: &str) -> Result<i64, DomainError> {
    s.trim().parse().map_err(|_| DomainError::InvalidValue {
        field,
        value: s.chars().take(20).collect(),
    })
}

/// `POST /n/{id}/offerings`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
    Form(f): Form<NewOfferingForm>,
) -> Response {
    edit_hood(&state, &who, &n, move |h, ctx| {
        let min = number("min_seats", &f.min_seats)?;
        let min_seats =
            u32::try_from(min)
                .ok()
                .filter(|m| *m <= 10_000)
                .ok_or(DomainError::OutOfRange {
                    field: "min_seats",
                    value: min,
                    min: 0,
                    max: 10_000,
                })?;
        let cost_eur = if f.cost_eur.trim().is_empty() {
            None
        } else {
            Some(number("cost_eur", &f.cost_eur)?)
        };
        let new = NewOffering {
            title: f.title,
            kind: OfferingKind::parse(&f.kind)?,
            provider: f.provider,
            min_seats,
            cost_model: CostModel::parse(&f.cost_model)?,
            cost_eur,
        };
        let (_, applied) = h.add_offering(ctx, &new)?;
        Ok(((), applied))
    })
    .await
}

/// The status form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
}

/// `POST /n/{id}/offerings/{offering}/status`.
pub async fn set_status(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path((n, offering)): Path<(String, String)>,
    Form(f): Form<StatusForm>,
) -> Response {
    edit_hood(&state, &who, &n, move |h, ctx| {
        let status = OfferingStatus::parse(&f.status)?;
        Ok(((), h.set_offering_status(ctx, &offering, status, "")?))
    })
    .await
}

/// The date form.
#[derive(Debug, Deserialize)]
pub struct DateForm {
    date: String,
}

/// `POST /n/{id}/offerings/{offering}/date`.
pub async fn add_date(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path((n, offering)): Path<(String, String)>,
    Form(f): Form<DateForm>,
) -> Response {
    edit_hood(&state, &who, &n, move |h, ctx| {
        Ok(((), h.set_offering_date(ctx, &offering, &f.date, true)?))
    })
    .await
}

/// The directory's name of `business`, or `fallback` when the directory has none.
fn business_name(who: &SignedIn, business: &str, fallback: &str) -> String {
    who.policy
        .directory()
        .businesses
        .get(business)
        .map_or_else(|| fallback.to_owned(), |b| b.name.clone())
}
