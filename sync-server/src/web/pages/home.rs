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
use crate::web::frame::{Frame, ok};
use crate::web::i18n::Texts;
use crate::web::read;
use crate::web::see_other;
use crate::web::session::SignedIn;

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

/// The start page.
#[derive(Debug, Template)]
#[template(path = "start.html")]
pub struct StartPage {
    /// The frame.
    pub frame: Frame,
    /// Neighbourhoods the user runs: (link, name).
    pub hoods: Vec<(String, String)>,
    /// Businesses the user belongs to or coaches.
    pub businesses: Vec<String>,
    /// What the user may read.
    pub docs: Vec<DocRow>,
}

/// `GET /start`.
pub async fn start(State(state): State<Arc<AppState>>, who: SignedIn) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    let dir = who.policy.directory().clone();
    let records = match read::with_db(&state.web, |s| s.records()).await {
        Ok(r) => r,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let hood_names = match read::with_db(&state.web, |s| {
        let mut stmt = s
            .conn()
            .prepare_cached("SELECT id, name FROM neighbourhoods ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
    .await
    {
        Ok(r) => r,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let hoods = hood_names
        .into_iter()
        .filter(|(id, _)| who.runs(id))
        .map(|(id, name)| (format!("/n/{id}"), name))
        .collect();
    let mut businesses: Vec<String> = [roles::OWNER, roles::STAFF, roles::COACH]
        .iter()
        .flat_map(|r| who.businesses_as(r))
        .filter_map(|b| {
            dir.businesses
                .get(&b)
                .filter(|e| e.active)
                .map(|e| e.name.clone())
        })
        .collect();
    businesses.sort();
    businesses.dedup();
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
        docs.push(DocRow {
            title: if r.title.is_empty() {
                kind.label().get(lang).to_owned()
            } else {
                r.title.clone()
            },
            business: r
                .business
                .as_ref()
                .and_then(|b| dir.businesses.get(b))
                .map(|b| b.name.clone())
                .unwrap_or_default(),
            access: if access == Access::Write {
                t.writable
            } else {
                t.read_only
            }
            .to_owned(),
            href: (kind == nachbar_core::doc::DocKind::Workshop)
                .then(|| format!("/w/{}", r.doc_id)),
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
        hoods,
        businesses,
        docs,
    })
}
