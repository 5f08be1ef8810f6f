//! What a business shares, from its own pages: topic states, needs with the offers made for
//! them (accept one), its offers (withdraw), good practices and shared findings (stop
//! sharing), seat interest in joint offerings; for the business's owner, staff and coach.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nachbar_core::DomainError;
use nachbar_core::doc::{Applied, EditContext};
use nachbar_core::ids::DocumentId;
use nachbar_core::model::business_profile::{BusinessProfileDoc, RecordRef, TopicState};
use serde::Deserialize;

use crate::access::{Access, Policy};
use crate::routes::AppState;
use crate::web::cache::View;
use crate::web::edit::{self, EditError};
use crate::web::errors::{FieldErrors, domain};
use crate::web::frame::{Frame, render};
use crate::web::i18n_business::BusinessTexts;
use crate::web::read;
use crate::web::see_other;
use crate::web::session::{SignedIn, urlencode};
use crate::web::views::profile::{ProfilePage, page};

use super::business::may_see_business;

/// The profile page.
#[derive(Debug, Template)]
#[template(path = "profile.html")]
pub struct ProfileFull {
    /// The frame.
    pub frame: Frame,
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// The business (path segment).
    pub business: String,
    /// The view.
    pub p: ProfilePage,
    /// Errors by field.
    pub errors: FieldErrors,
}

/// The business's profile document and its page; `None` when the user may not see the
/// business or it has no profile.
async fn load(
    state: &AppState,
    who: &SignedIn,
    business: &str,
) -> Result<Option<(DocumentId, ProfilePage)>, read::ReadError> {
    if !may_see_business(who, business) {
        return Ok(None);
    }
    let dir = who.policy.directory();
    let Some(hood) = dir
        .businesses
        .get(business)
        .map(|b| b.neighbourhood.clone())
    else {
        return Ok(None);
    };
    let Some(views) = read::hood_views(&state.web, &hood).await? else {
        return Ok(None);
    };
    let mut own = None;
    let mut others = Vec::new();
    let mut neighbourhood = None;
    for (id, h) in &views {
        match &h.view {
            View::Profile(p) if p.business == business => own = Some((*id, p)),
            // Other profiles only of active members (what the neighbourhood sees).
            View::Profile(p)
                if dir.businesses.get(&p.business).is_some_and(|b| b.active)
                    && who.policy.access(&who.principal(), &h.info) != Access::None =>
            {
                others.push(p)
            }
            View::Neighbourhood(n) => neighbourhood = Some(n),
            _ => {}
        }
    }
    let Some((id, profile)) = own else {
        return Ok(None);
    };
    let names: BTreeMap<String, String> = dir
        .businesses
        .iter()
        .map(|(id, b)| (id.clone(), b.name.clone()))
        .collect();
    let p = page(
        profile,
        &others,
        neighbourhood,
        &names,
        nachbar_core::catalogue::release_1_0(),
        who.lang,
    );
    Ok(Some((id, p)))
}

async fn respond(
    state: &AppState,
    who: &SignedIn,
    business: &str,
    status: StatusCode,
    errors: FieldErrors,
) -> Response {
    let lang = who.lang;
    let bt = BusinessTexts::of(lang);
    match load(state, who, business).await {
        Ok(Some((_, p))) => {
            let name = who
                .policy
                .directory()
                .businesses
                .get(business)
                .map(|b| b.name.clone())
                .unwrap_or_default();
            let path = format!("/b/{}/profile", urlencode(business));
            render(
                status,
                &ProfileFull {
                    frame: Frame::new(
                        lang,
                        format!("{}: {name}", bt.profile_and_sharing),
                        Some(who),
                        &path,
                        None,
                    ),
                    bt,
                    business: urlencode(business),
                    p,
                    errors,
                },
            )
        }
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// `GET /b/{business}/profile`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(business): Path<String>,
) -> Response {
    respond(&state, &who, &business, StatusCode::OK, FieldErrors::none()).await
}

/// Runs one edit of the business's profile; answers 303 to the page, or the page with the
/// error (422).
async fn edit_and_answer(
    state: &AppState,
    who: &SignedIn,
    business: &str,
    f: impl FnOnce(
        &ProfilePage,
        &mut BusinessProfileDoc,
        &EditContext,
    ) -> Result<((), Applied), DomainError>,
) -> Response {
    let lang = who.lang;
    // One read of the page serves the access decision and the checks against what it offers.
    let (id, page) = match load(state, who, business).await {
        Ok(Some(found)) => found,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    match edit::edit::<BusinessProfileDoc, ()>(state, who, id, |p, ctx| f(&page, p, ctx)).await {
        Ok(()) => see_other(&format!("/b/{}/profile", urlencode(business))),
        Err(EditError::Domain(e)) => {
            respond(
                state,
                who,
                business,
                StatusCode::UNPROCESSABLE_ENTITY,
                domain(&e, lang),
            )
            .await
        }
        Err(e) => super::errors::from_edit(&e, lang),
    }
}

/// The topic form.
#[derive(Debug, Deserialize)]
pub struct TopicForm {
    area: String,
    #[serde(default)]
    state: String,
}

/// `POST /b/{business}/profile/topics`.
pub async fn set_topic(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(business): Path<String>,
    Form(f): Form<TopicForm>,
) -> Response {
    edit_and_answer(&state, &who, &business, move |_, p, ctx| {
        let topic = if f.state.is_empty() {
            None
        } else {
            Some(TopicState::parse(&f.state)?)
        };
        Ok(((), p.set_topic_state(ctx, &f.area, topic)?))
    })
    .await
}

/// The accept form.
#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    offer: String,
}

/// `POST /b/{business}/profile/needs/{need}/accept`: only an offer made for this need.
pub async fn accept_offer(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path((business, need)): Path<(String, String)>,
    Form(f): Form<AcceptForm>,
) -> Response {
    edit_and_answer(&state, &who, &business, move |page, p, ctx| {
        let offered = page
            .needs
            .iter()
            .filter(|n| n.id == need)
            .flat_map(|n| n.offers.iter())
            .any(|o| o.reference == f.offer);
        if !offered {
            return Err(DomainError::NotAllowed(
                "that offer was not made for this need".to_owned(),
            ));
        }
        Ok((
            (),
            p.accept_offer(ctx, &need, &RecordRef::parse(&f.offer)?)?,
        ))
    })
    .await
}

/// `POST /b/{business}/profile/offers/{offer}/withdraw`.
pub async fn withdraw_offer(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path((business, offer)): Path<(String, String)>,
) -> Response {
    edit_and_answer(&state, &who, &business, move |_, p, ctx| {
        Ok(((), p.withdraw_offer(ctx, &offer)?))
    })
    .await
}

/// `POST /b/{business}/profile/practices/{id}/revoke`.
pub async fn revoke_practice(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path((business, id)): Path<(String, String)>,
) -> Response {
    edit_and_answer(&state, &who, &business, move |_, p, ctx| {
        Ok(((), p.revoke_good_practice(ctx, &id)?))
    })
    .await
}

/// `POST /b/{business}/profile/findings/{id}/revoke`.
pub async fn revoke_finding(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path((business, id)): Path<(String, String)>,
) -> Response {
    edit_and_answer(&state, &who, &business, move |_, p, ctx| {
        Ok(((), p.revoke_shared_finding(ctx, &id)?))
    })
    .await
}

/// The seats form.
#[derive(Debug, Deserialize)]
pub struct SeatsForm {
    offering: String,
    delta: String,
}

/// `POST /b/{business}/profile/seats`: one seat more or less for a joint offering.
pub async fn change_seats(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(business): Path<String>,
    Form(f): Form<SeatsForm>,
) -> Response {
    edit_and_answer(&state, &who, &business, move |page, p, ctx| {
        let delta = match f.delta.as_str() {
            "1" => 1,
            "-1" => -1,
            other => {
                return Err(DomainError::InvalidValue {
                    field: "delta",
                    value: other.chars().take(10).collect(),
                });
            }
        };
        let seats = page
            .seats
            .iter()
            .find(|s| s.id == f.offering)
            .map(|s| s.seats);
        let Some(current) = seats else {
            return Err(DomainError::UnknownRecord {
                kind: "joint offering",
                id: f.offering.chars().take(40).collect(),
            });
        };
        if current + delta < 0 {
            return Err(DomainError::NotAllowed(
                "no seats of interest to take back".to_owned(),
            ));
        }
        Ok(((), p.change_seat_interest(ctx, &f.offering, delta)?))
    })
    .await
}
