//! The calendar feed: `GET /me/calendar` (the user's page: whether a feed link exists),
//! `POST /me/calendar` (a new secret link, shown once; it replaces the old one),
//! `POST /me/calendar/revoke`, and `GET /cal/{secret}.ics`, the feed itself for calendar
//! apps (no cookie: the secret is the key; an unknown, malformed or revoked secret is 404).

use std::collections::BTreeSet;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nachbar_core::label::Lang;

use crate::access::roles;
use crate::routes::AppState;
use crate::storage::{SequenceKey, SessionUser};
use crate::web::frame::{Frame, ok};
use crate::web::i18n::Texts;
use crate::web::session::SignedIn;
use crate::web::views::calendar::{CalendarEvent, events, ics, oldest_date};

/// The user's calendar page.
#[derive(Debug, Template)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    /// The frame.
    pub frame: Frame,
    /// When the active feed was made, in words.
    pub since: Option<String>,
    /// The new link, right after it was made (never shown again).
    pub link: Option<String>,
    /// The new link as `webcal://` (opens the calendar app).
    pub webcal: String,
    /// A feed is active.
    pub active: bool,
    /// The feed was just revoked.
    pub revoked: bool,
}

const PATH: &str = "/me/calendar";

async fn page(state: &AppState, who: &SignedIn, link: Option<String>, revoked: bool) -> Response {
    let lang = who.lang;
    let user = who.id().to_owned();
    let since = match state.web.data.calendar_feed_since(&user).await {
        Ok(s) => s,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let webcal = link
        .as_deref()
        .map(|l| {
            l.replacen("https://", "webcal://", 1)
                .replacen("http://", "webcal://", 1)
        })
        .unwrap_or_default();
    ok(&CalendarPage {
        frame: Frame::new(lang, Texts::of(lang).calendar_title, Some(who), PATH, None),
        since: since.map(|ms| crate::web::views::moment(ms, lang)),
        active: since.is_some(),
        link,
        webcal,
        revoked,
    })
}

/// `GET /me/calendar`.
pub async fn show(State(state): State<Arc<AppState>>, who: SignedIn) -> Response {
    page(&state, &who, None, false).await
}

/// `POST /me/calendar`: a new feed link (the old one stops working).
pub async fn create(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
) -> Response {
    let user = who.id().to_owned();
    let now = nachbar_core::time::Timestamp::now().millis();
    match state.web.data.create_calendar_feed(&user, now).await {
        Ok(secret) => {
            let link = format!("{}/cal/{secret}.ics", crate::web::links::base_url(&headers));
            page(&state, &who, Some(link), false).await
        }
        Err(e) => super::errors::from_read(&e, who.lang),
    }
}

/// `POST /me/calendar/revoke`.
pub async fn revoke(State(state): State<Arc<AppState>>, who: SignedIn) -> Response {
    let user = who.id().to_owned();
    match state.web.data.revoke_calendar_feed(&user).await {
        Ok(_) => page(&state, &who, None, true).await,
        Err(e) => super::errors::from_read(&e, who.lang),
    }
}

/// The neighbourhoods `who` belongs to (coordinates, or works for or coaches a business of).
fn neighbourhoods(who: &SignedIn) -> BTreeSet<String> {
    let dir = who.policy.directory();
    who.policy
        .roles_of(who.id())
        .filter_map(|(role, scope)| match role {
            roles::COORDINATOR => Some(scope.to_owned()),
            roles::COACH | roles::OWNER | roles::STAFF => {
                dir.businesses.get(scope).map(|b| b.neighbourhood.clone())
            }
            _ => None,
        })
        .collect()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// `GET /cal/{secret}.ics`: the feed of the user the secret belongs to.
pub async fn feed(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some(secret) = file.strip_suffix(".ics").map(str::to_owned) else {
        return not_found();
    };
    if !crate::auth_gate::token_shaped(&secret) {
        return not_found();
    }
    let user = match state.web.data.calendar_feed_user(&secret).await {
        Ok(Some(u)) => u,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::warn!(error = %e, "reading a calendar feed failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again later\n").into_response();
        }
    };
    let who = SignedIn {
        user: SessionUser {
            user_id: user,
            name: String::new(),
            session_hash: String::new(),
        },
        policy: state.web.policy.current(),
        lang: Lang::De,
    };
    let mut all: Vec<CalendarEvent> = Vec::new();
    for n in neighbourhoods(&who) {
        match super::neighbourhood::inputs(&state.web, &who, &n).await {
            Ok(Some(i)) => all.extend(events(&n, &i.hood, &i.workshops)),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading a neighbourhood for a calendar feed failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "try again later\n").into_response();
            }
        }
    }
    let now = nachbar_core::time::Timestamp::now().millis();
    let oldest = oldest_date(now);
    all.retain(|e| e.date >= oldest);
    let keys: Vec<SequenceKey> = all
        .iter()
        .map(|e| SequenceKey {
            uid: e.uid.clone(),
            fingerprint: e.fingerprint(),
            date: e.date.clone(),
        })
        .collect();
    let sequences = match state.web.data.calendar_sequences(keys, oldest).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "storing calendar sequences failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again later\n").into_response();
        }
    };
    let body = ics(
        Texts::of(Lang::De).calendar_feed_name,
        &all,
        &sequences,
        now,
        &crate::web::links::base_url(&headers),
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"nachbar.ics\"",
            ),
        ],
        body,
    )
        .into_response()
}
