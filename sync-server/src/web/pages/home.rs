//! Where a user lands: `/` sends each role to its home (coordinator → neighbourhood; admin,
//! coach, owner and staff → the start page listing their neighbourhoods, businesses and what
//! they may read).

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use nachbar_core::label::Labelled;

use crate::access::{Access, DocInfo, Policy, roles};
use crate::routes::AppState;
use crate::web::cache::View;
use crate::web::frame::{Frame, ok};
use crate::web::i18n::Texts;
use crate::web::i18n_business::BusinessTexts;
use crate::web::read;
use crate::web::see_other;
use crate::web::session::{SignedIn, urlencode};
use crate::web::views::business::{Stage, stage};
use crate::web::views::{moment, today};

/// `GET /` without a WebSocket upgrade.
pub async fn root(state: Arc<AppState>, mut parts: Parts) -> Response {
    let who = match SignedIn::from_request_parts(&mut parts, &state).await {
        Ok(w) => w,
        Err(r) => return r.into_response(),
    };
    match who.coordinated().as_slice() {
        [only] => see_other(&format!("/n/{only}")),
        _ => see_other("/start"),
    }
}

/// Whether `who` may read neighbourhood `n`'s own document (works in it).
fn member_of(who: &SignedIn, n: Option<&str>) -> bool {
    let Some(n) = n else {
        return false;
    };
    let header = nachbar_core::doc::Header::new(
        nachbar_core::doc::DocKind::Neighbourhood,
        n,
        None,
        "",
        nachbar_core::time::Timestamp(0),
    );
    who.policy.access(
        &who.principal(),
        &DocInfo::Nachbar(header, Default::default()),
    ) != Access::None
}

/// A readable document in the list.
#[derive(Debug, Clone)]
pub struct DocRow {
    /// Title.
    pub title: String,
    /// Business name.
    pub business: String,
    /// Read or edit, in words.
    pub access: String,
    /// A page for it, if the web app has one.
    pub href: Option<String>,
}

/// A business the coach guides, with where it stands.
#[derive(Debug, Clone)]
pub struct CoachedRow {
    /// The business's home.
    pub href: String,
    /// Name.
    pub name: String,
    /// Where it stands.
    pub stage: Stage,
}

/// The start page.
#[derive(Debug, Template)]
#[template(path = "start.html")]
pub struct StartPage {
    /// The frame.
    pub frame: Frame,
    /// Texts of the business pages.
    pub bt: &'static BusinessTexts,
    /// Neighbourhoods the user runs: (link, name).
    pub hoods: Vec<(String, String)>,
    /// Businesses the user belongs to: (link, name).
    pub businesses: Vec<(String, String)>,
    /// Businesses the user coaches, with their stage.
    pub coached: Vec<CoachedRow>,
    /// The user's devices: (label, last synced in words); shown to coaches.
    pub devices: Vec<(String, String)>,
    /// Whether the user coaches.
    pub coach: bool,
    /// What the user may read.
    pub docs: Vec<DocRow>,
}

/// The coach's businesses with their stage.
async fn coached(state: &AppState, who: &SignedIn) -> Result<Vec<CoachedRow>, read::ReadError> {
    let dir = who.policy.directory().clone();
    let today = today(nachbar_core::time::Timestamp::now().millis());
    let mut rows = Vec::new();
    for b in who.businesses_as(roles::COACH) {
        let Some(entry) = dir.businesses.get(&b).filter(|e| e.active) else {
            continue;
        };
        let views = read::business_views(&state.web, &b).await?;
        let principal = who.principal();
        let readable: Vec<_> = views
            .iter()
            .filter(|(_, h)| who.policy.access(&principal, &h.info) != Access::None)
            .collect();
        let plans: Vec<_> = readable
            .iter()
            .filter_map(|(_, h)| match &h.view {
                View::Plan(p, _) => Some(p.as_ref()),
                _ => None,
            })
            .collect();
        let assessments: Vec<_> = readable
            .iter()
            .filter_map(|(_, h)| match &h.view {
                View::Assessment(a, _) => Some(a.as_ref()),
                _ => None,
            })
            .collect();
        let people = super::plan::business_people(&state.web, who, &b).await?;
        rows.push(CoachedRow {
            href: format!("/b/{}", urlencode(&b)),
            name: entry.name.clone(),
            stage: stage(&plans, &assessments, &people.signers(), &today, who.lang),
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// The user's devices with when they last synced (browser sessions left out).
async fn devices(
    state: &AppState,
    who: &SignedIn,
) -> Result<Vec<(String, String)>, read::ReadError> {
    let user = who.id().to_owned();
    let now = nachbar_core::time::Timestamp::now().millis();
    let accesses = state.web.data.accesses_of(&user, now).await?;
    let bt = BusinessTexts::of(who.lang);
    Ok(accesses
        .into_iter()
        .filter(|a| a.kind == "device")
        .map(|a| {
            (
                a.label,
                a.last_used
                    .map_or_else(|| bt.never.to_owned(), |t| moment(t, who.lang)),
            )
        })
        .collect())
}

/// `GET /start`.
pub async fn start(State(state): State<Arc<AppState>>, who: SignedIn) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    let dir = who.policy.directory().clone();
    let records = match state.web.data.records().await {
        Ok(r) => r,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let hood_names = match state.web.data.neighbourhood_names().await {
        Ok(r) => r,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let hoods = hood_names
        .iter()
        .filter(|(id, _)| who.runs(id))
        .map(|(id, name)| (format!("/n/{id}"), name.clone()))
        .collect();
    let mut businesses: Vec<(String, String)> = [roles::OWNER, roles::STAFF]
        .iter()
        .flat_map(|r| who.businesses_as(r))
        .filter_map(|b| {
            dir.businesses
                .get(&b)
                .filter(|e| e.active)
                .map(|e| (format!("/b/{}", urlencode(&b)), e.name.clone()))
        })
        .collect();
    businesses.sort_by(|a, b| a.1.cmp(&b.1));
    businesses.dedup();
    let coach = !who.businesses_as(roles::COACH).is_empty();
    // Somebody who only works for one business lands on its home.
    if let [(only, _)] = businesses.as_slice()
        && !coach
        && !who.is_admin()
        && who.coordinated().is_empty()
    {
        return see_other(only);
    }
    let (coached, devices) = if coach {
        match (coached(&state, &who).await, devices(&state, &who).await) {
            (Ok(c), Ok(d)) => (c, d),
            (Err(e), _) | (_, Err(e)) => return super::errors::from_read(&e, lang),
        }
    } else {
        (Vec::new(), Vec::new())
    };
    // Which documents the user may read is decided by the same rules as on the sync path;
    // the header fields of the record are enough for every kind but workshops, whose
    // invitations live in the document.
    let mut docs = Vec::new();
    for r in records {
        let Ok(kind) = nachbar_core::doc::DocKind::parse(r.kind.as_deref().unwrap_or("")) else {
            continue;
        };
        if kind == nachbar_core::doc::DocKind::Catalogue {
            continue;
        }
        let access = match read::record_access(&who, &r) {
            Some(access) => access,
            // A workshop the record does not decide: only for members of its neighbourhood
            // (who might be invited) is the document read.
            None if member_of(&who, r.neighbourhood.as_deref()) => {
                let id = r.doc_id.parse().ok();
                match id {
                    Some(id) => read::readable::<nachbar_core::model::workshop::WorkshopDoc>(
                        &state.web, &who, id,
                    )
                    .await
                    .ok()
                    .flatten()
                    .map_or(Access::None, |(_, a)| a),
                    None => Access::None,
                }
            }
            None => Access::None,
        };
        if access == Access::None {
            continue;
        }
        let business = r
            .business
            .as_ref()
            .and_then(|b| dir.businesses.get(b))
            .map(|b| b.name.clone())
            .unwrap_or_default();
        docs.push(DocRow {
            // Workshops carry the title people gave them; the others are named in the page's
            // language after their kind and place.
            title: match kind {
                nachbar_core::doc::DocKind::Workshop if !r.title.is_empty() => r.title.clone(),
                _ if !business.is_empty() => format!("{}: {business}", kind.label().get(lang)),
                _ => r
                    .neighbourhood
                    .as_ref()
                    .and_then(|n| hood_names.iter().find(|(id, _)| id == n))
                    .map_or_else(
                        || kind.label().get(lang).to_owned(),
                        |(_, name)| format!("{}: {name}", kind.label().get(lang)),
                    ),
            },
            business,
            access: if access == Access::Write {
                t.writable
            } else {
                t.read_only
            }
            .to_owned(),
            href: match kind {
                nachbar_core::doc::DocKind::Workshop => Some(format!("/w/{}", r.doc_id)),
                nachbar_core::doc::DocKind::ActionPlan => Some(format!("/p/{}", r.doc_id)),
                nachbar_core::doc::DocKind::Assessment => Some(format!("/a/{}/results", r.doc_id)),
                _ => None,
            },
        });
    }
    let title = if who.is_admin() {
        t.admin_home_title
    } else if !who.businesses_as(roles::COACH).is_empty() {
        t.coach_home_title
    } else {
        t.business_home_title
    };
    ok(&StartPage {
        frame: Frame::new(lang, title, Some(&who), "/start", None),
        bt: BusinessTexts::of(lang),
        hoods,
        businesses,
        coached,
        devices,
        coach,
        docs,
    })
}
