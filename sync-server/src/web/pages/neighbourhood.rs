//! The neighbourhood home (the coordinator's office) and its heat map as CSV. Built from the
//! neighbourhood document, the member profiles and the workshops, each read only if the user
//! may read it; never from assessments or action plans.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use nachbar_core::catalogue;
use nachbar_core::ids::DocumentId;

use crate::access::{Access, Policy};
use crate::routes::AppState;
use crate::web::cache::View;
use crate::web::frame::{Frame, ok};
use crate::web::i18n::Texts;
use crate::web::read::{self, ReadError};
use crate::web::session::{SignedIn, urlencode};
use crate::web::views::home::{HomeView, heat_map_table, home};
use crate::web::views::today;

/// The neighbourhood home.
#[derive(Debug, Template)]
#[template(path = "neighbourhood.html")]
pub struct HomePage {
    /// The frame.
    pub frame: Frame,
    /// The view.
    pub v: HomeView,
    /// CSV link.
    pub csv_href: String,
    /// The archive download (shown to those who run the neighbourhood).
    pub archive_href: Option<String>,
    /// Event stream of the live region.
    pub events: String,
    /// Fragment of the live region.
    pub live_src: String,
    /// The summary report's download (for those who see every workshop of it).
    pub summary_href: Option<String>,
}

/// The live region of the home (what a refresh swaps in).
#[derive(Debug, Template)]
#[template(path = "neighbourhood_live.html")]
pub struct HomeLive {
    /// The frame (texts).
    pub frame: Frame,
    /// The view.
    pub v: HomeView,
    /// CSV link.
    pub csv_href: String,
    /// The archive download (shown to those who run the neighbourhood).
    pub archive_href: Option<String>,
}

/// What a neighbourhood home is built from, with the documents it depends on.
#[derive(Debug)]
pub struct HomeData {
    /// The view.
    pub view: HomeView,
    /// Every document shown (for live updates).
    pub docs: Vec<DocumentId>,
}

/// The neighbourhood's document id, if the neighbourhood exists.
pub async fn hood_doc(state: &AppState, n: &str) -> Result<Option<DocumentId>, ReadError> {
    let n = n.to_owned();
    let id = state.web.storage.access.neighbourhood_doc(&n).await?;
    Ok(id.and_then(|d| d.parse().ok()))
}

/// What a neighbourhood's home and summary are built from: the neighbourhood, the member
/// profiles and the workshops, each only if the user may read it, and their ids.
#[derive(Debug)]
pub struct HoodInputs {
    /// The neighbourhood.
    pub hood: nachbar_core::model::neighbourhood::NeighbourhoodView,
    /// The member profiles.
    pub profiles: Vec<nachbar_core::model::business_profile::BusinessProfileView>,
    /// The workshops with their document ids.
    pub workshops: Vec<(String, nachbar_core::model::workshop::WorkshopView)>,
    /// Every document read.
    pub docs: Vec<DocumentId>,
}

/// The inputs of neighbourhood `n` for `who`; `None` when it does not exist or `who` may not
/// read it.
///
/// # Errors
/// On a storage error.
pub async fn inputs(
    web: &crate::web::WebState,
    who: &SignedIn,
    n: &str,
) -> Result<Option<HoodInputs>, ReadError> {
    let Some(views) = read::hood_views(web, n).await? else {
        return Ok(None);
    };
    let principal = who.principal();
    let mut hood = None;
    let mut profiles = Vec::new();
    let mut workshops = Vec::new();
    let mut docs = Vec::new();
    for (id, h) in &views {
        if who.policy.access(&principal, &h.info) == Access::None {
            continue;
        }
        docs.push(*id);
        match &h.view {
            View::Neighbourhood(v) => hood = Some(v.clone()),
            View::Profile(v) => profiles.push(v.clone()),
            View::Workshop(v) => workshops.push((id.to_string(), v.clone())),
            View::Plan(..) | View::Assessment(..) => {}
        }
    }
    Ok(hood.map(|hood| HoodInputs {
        hood,
        profiles,
        workshops,
        docs,
    }))
}

/// Builds the home of neighbourhood `n` for `who`; `None` when it does not exist or `who` may
/// not read it.
///
/// # Errors
/// On a storage error.
pub async fn data(
    state: &AppState,
    who: &SignedIn,
    n: &str,
) -> Result<Option<HomeData>, ReadError> {
    let Some(i) = inputs(&state.web, who, n).await? else {
        return Ok(None);
    };
    let t = Texts::of(who.lang);
    let today = today(nachbar_core::time::Timestamp::now().millis());
    let view = home(
        &i.hood,
        &i.profiles,
        &i.workshops,
        catalogue::release_1_0(),
        &today,
        who.lang,
        t.not_shared,
    );
    Ok(Some(HomeData { view, docs: i.docs }))
}

/// The neighbourhood home of `n` for `who`.
pub async fn home_page(state: &AppState, who: &SignedIn, n: &str) -> Response {
    let lang = who.lang;
    match data(state, who, n).await {
        Ok(Some(d)) => {
            let path = format!("/n/{n}");
            ok(&HomePage {
                frame: Frame::new(lang, d.view.name.clone(), Some(who), &path, Some(n)),
                v: d.view,
                csv_href: format!("/n/{n}/heatmap.csv"),
                archive_href: who.runs(n).then(|| format!("/n/{n}/archive.zip")),
                events: format!("/events?page={}", urlencode(&path)),
                live_src: format!("/n/{n}/live"),
                summary_href: who
                    .policy
                    .sees_every_workshop(&who.principal(), n)
                    .then(|| format!("/n/{n}/summary.pdf")),
            })
        }
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// `GET /n/{id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
) -> Response {
    home_page(&state, &who, &n).await
}

/// `GET /n/{id}/live`: the live region alone.
pub async fn live_fragment(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
) -> Response {
    let lang = who.lang;
    match data(&state, &who, &n).await {
        Ok(Some(d)) => ok(&HomeLive {
            frame: Frame::new(lang, d.view.name.clone(), Some(&who), "", Some(&n)),
            v: d.view,
            csv_href: format!("/n/{n}/heatmap.csv"),
            archive_href: who.runs(&n).then(|| format!("/n/{n}/archive.zip")),
        }),
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// `GET /n/{id}/heatmap.csv`.
pub async fn csv(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
    axum::extract::Query(q): axum::extract::Query<crate::web::export::CsvQuery>,
) -> Response {
    let lang = who.lang;
    let Ok(format) = crate::web::export::CsvFormat::of(lang, &q) else {
        return super::errors::bad_request(lang);
    };
    match data(&state, &who, &n).await {
        Ok(Some(d)) => {
            let (head, rows) = heat_map_table(&d.view, Texts::of(lang).business);
            match crate::web::export::table(format, &head, rows) {
                Ok(bytes) => crate::web::export::response(bytes, "themenkarte.csv"),
                Err(_) => super::errors::unavailable(lang),
            }
        }
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// `GET /n/{id}/archive.zip`: every document of the neighbourhood the coordinator may read, in
/// Automerge's saved form, with a manifest (for the coordinator or an admin only).
pub async fn archive(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
) -> Response {
    let lang = who.lang;
    if !who.runs(&n) {
        return super::errors::not_found_in(lang);
    }
    let d = match data(&state, &who, &n).await {
        Ok(Some(d)) => d,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let stored = match read::load_many(&state.web, d.docs.clone()).await {
        Ok(s) => s,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let name = d.view.name.clone();
    let now = nachbar_core::time::Timestamp::now().millis();
    let built = tokio::task::spawn_blocking(move || {
        let docs: Vec<(DocumentId, Vec<u8>)> =
            stored.into_iter().map(|s| (s.id, s.bytes)).collect();
        crate::web::archive::build(&n, &name, now, &docs)
    })
    .await;
    match built {
        Ok(Ok(bytes)) => (
            [
                (axum::http::header::CONTENT_TYPE, "application/zip"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"nachbarschaft-archiv.zip\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "building a neighbourhood archive failed");
            super::errors::unavailable(lang)
        }
        Err(_) => super::errors::unavailable(lang),
    }
}
