//! One workshop: plan (guiding question, date and times), invitations of businesses, agenda
//! blocks (add, edit, move, duration, actual times) with computed start times and the overrun
//! warning, decisions, parking lot and outcomes; a printable agenda. Every edit is one typed
//! core edit through the hub's durable path; the agenda answers htmx with its fragment.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nachbar_core::DomainError;
use nachbar_core::doc::Applied;
use nachbar_core::ids::DocumentId;
use nachbar_core::model::workshop::{
    BlockKind, BlockPatch, ItemList, NewBlock, WorkshopDoc, WorkshopStatus,
};
use serde::Deserialize;

use crate::access::{Access, roles};
use crate::routes::AppState;
use crate::web::edit::{self, EditError};
use crate::web::errors::{FieldErrors, domain};
use crate::web::frame::{Frame, render};
use crate::web::read;
use crate::web::session::{SignedIn, urlencode};
use crate::web::views::workshop::{WorkshopPage, page};
use crate::web::{is_htmx, see_other};

/// The workshop page.
#[derive(Debug, Template)]
#[template(path = "workshop.html")]
pub struct WorkshopFull {
    /// The frame.
    pub frame: Frame,
    /// Document id.
    pub doc: String,
    /// The view.
    pub w: WorkshopPage,
    /// Whether the user may edit.
    pub writable: bool,
    /// Errors by field.
    pub errors: FieldErrors,
    /// Event stream of the live region.
    pub events: String,
}

/// The live region (agenda and lists), also the answer to htmx edits.
#[derive(Debug, Template)]
#[template(path = "workshop_live.html")]
pub struct WorkshopLive {
    /// The frame (texts).
    pub frame: Frame,
    /// Document id.
    pub doc: String,
    /// The view.
    pub w: WorkshopPage,
    /// Whether the user may edit.
    pub writable: bool,
    /// Errors by field.
    pub errors: FieldErrors,
}

/// The printable agenda.
#[derive(Debug, Template)]
#[template(path = "workshop_print.html")]
pub struct WorkshopPrint {
    /// The frame.
    pub frame: Frame,
    /// The view.
    pub w: WorkshopPage,
}

/// The workshop, its view and the user's access; `None` when missing or denied.
async fn load(
    state: &AppState,
    who: &SignedIn,
    doc: &str,
) -> Result<Option<(DocumentId, String, WorkshopPage, Access)>, read::ReadError> {
    let Some(id) = super::doc_id(doc) else {
        return Ok(None);
    };
    let Some((w, access)) = read::readable::<WorkshopDoc>(&state.web, who, id).await? else {
        return Ok(None);
    };
    let view = w.view()?;
    let n = view.header.neighbourhood.clone();
    let businesses: BTreeMap<String, String> = who
        .policy
        .directory()
        .businesses
        .iter()
        .filter(|(_, b)| b.neighbourhood == n && b.active)
        .map(|(id, b)| (id.clone(), b.name.clone()))
        .collect();
    Ok(Some((id, n, page(&view, &businesses, who.lang), access)))
}

async fn respond(
    state: &AppState,
    who: &SignedIn,
    doc: &str,
    status: StatusCode,
    errors: FieldErrors,
    fragment: bool,
) -> Response {
    let lang = who.lang;
    match load(state, who, doc).await {
        Ok(Some((id, n, w, access))) => {
            let path = format!("/w/{id}");
            let frame = Frame::new(lang, w.title.clone(), Some(who), &path, Some(&n));
            let writable = access == Access::Write;
            if fragment {
                render(
                    status,
                    &WorkshopLive {
                        frame,
                        doc: id.to_string(),
                        w,
                        writable,
                        errors,
                    },
                )
            } else {
                render(
                    status,
                    &WorkshopFull {
                        frame,
                        doc: id.to_string(),
                        w,
                        writable,
                        errors,
                        events: format!("/events?page={}", urlencode(&path)),
                    },
                )
            }
        }
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// `GET /w/{doc}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
) -> Response {
    respond(
        &state,
        &who,
        &doc,
        StatusCode::OK,
        FieldErrors::none(),
        false,
    )
    .await
}

/// `GET /w/{doc}/live`.
pub async fn live_fragment(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
) -> Response {
    respond(
        &state,
        &who,
        &doc,
        StatusCode::OK,
        FieldErrors::none(),
        true,
    )
    .await
}

/// `GET /w/{doc}/print`.
pub async fn print(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
) -> Response {
    let lang = who.lang;
    match load(&state, &who, &doc).await {
        Ok(Some((id, n, w, _))) => render(
            StatusCode::OK,
            &WorkshopPrint {
                frame: Frame::new(
                    lang,
                    w.title.clone(),
                    Some(&who),
                    &format!("/w/{id}/print"),
                    Some(&n),
                ),
                w,
            },
        ),
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// Runs one edit and answers: the fragment for htmx, else 303 to the page; a refused edit
/// shows its error at the field (422) and stores nothing.
async fn edit_and_answer(
    state: &AppState,
    who: &SignedIn,
    headers: &HeaderMap,
    doc: &str,
    f: impl FnOnce(
        &mut WorkshopDoc,
        &nachbar_core::doc::EditContext,
    ) -> Result<((), Applied), DomainError>,
) -> Response {
    let lang = who.lang;
    let htmx = is_htmx(headers);
    let Some(id) = super::doc_id(doc) else {
        return super::errors::not_found_in(lang);
    };
    match edit::edit::<WorkshopDoc, ()>(state, who, id, f).await {
        Ok(()) if htmx => respond(state, who, doc, StatusCode::OK, FieldErrors::none(), true).await,
        Ok(()) => see_other(&format!("/w/{id}")),
        Err(EditError::Domain(e)) => {
            respond(
                state,
                who,
                doc,
                StatusCode::UNPROCESSABLE_ENTITY,
                domain(&e, lang),
                htmx,
            )
            .await
        }
        Err(e) => super::errors::from_edit(&e, lang),
    }
}

/// The plan form.
#[derive(Debug, Deserialize)]
pub struct PlanForm {
    guiding_question: String,
    start: String,
    end: String,
}

/// `POST /w/{doc}/plan`: guiding question and times.
pub async fn plan(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<PlanForm>,
) -> Response {
    // One submission: invalid times store the question neither.
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        let _in_the_same_submission = w.set_guiding_question(ctx, &f.guiding_question)?;
        Ok(((), w.set_times(ctx, &f.start, &f.end)?))
    })
    .await
}

/// The invitation form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    business: String,
}

/// `POST /w/{doc}/invite`: invites every owner and staff member of a business.
pub async fn invite(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<InviteForm>,
) -> Response {
    let lang = who.lang;
    let dir = who.policy.directory();
    let Some(entry) = dir.businesses.get(&f.business).filter(|b| b.active) else {
        return super::errors::not_found_in(lang);
    };
    let business_hood = entry.neighbourhood.clone();
    let people: Vec<String> = dir
        .roles
        .iter()
        .filter(|(_, rs)| {
            rs.iter()
                .any(|(r, s)| (r == roles::OWNER || r == roles::STAFF) && *s == f.business)
        })
        .map(|(u, _)| u.clone())
        .collect();
    let business = f.business.clone();
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        if w.view()?.header.neighbourhood != business_hood {
            return Err(DomainError::UnknownRecord {
                kind: "business",
                id: business.clone(),
            });
        }
        let mut last = None;
        for p in &people {
            last = Some(w.invite(ctx, p, Some(&business), None)?);
        }
        last.map(|a| ((), a))
            .ok_or_else(|| DomainError::NotAllowed("no people to invite".to_owned()))
    })
    .await
}

/// The status form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
}

/// `POST /w/{doc}/status`.
pub async fn set_status(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        let status = WorkshopStatus::parse(&f.status)?;
        Ok(((), w.set_status(ctx, status)?))
    })
    .await
}

/// The new-block form.
#[derive(Debug, Deserialize)]
pub struct BlockForm {
    title: String,
    kind: String,
    duration_min: String,
    #[serde(default)]
    goal: String,
}

fn minutes(field: &'static str, s: &str) -> Result<i64, DomainError> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| DomainError::InvalidValue {
            field,
            value: s.chars().take(20).collect(),
        })
}

/// `POST /w/{doc}/blocks`.
pub async fn add_block(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<BlockForm>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        let kind = BlockKind::parse(&f.kind)?;
        let duration = minutes("duration_min", &f.duration_min)?;
        let duration = u32::try_from(duration).map_err(|_| DomainError::OutOfRange {
            field: "duration_min",
            value: duration,
            min: 0,
            max: 1440,
        })?;
        let new = NewBlock {
            title: f.title,
            kind,
            duration_min: duration,
            method: None,
            goal: f.goal,
            materials: String::new(),
            expected_output: String::new(),
        };
        let (_, applied) = w.add_block(ctx, &new, None)?;
        Ok(((), applied))
    })
    .await
}

/// The block edit form: title, duration, actual minutes.
#[derive(Debug, Deserialize)]
pub struct UpdateBlockForm {
    title: Option<String>,
    duration_min: Option<String>,
    actual_min: Option<String>,
}

/// `POST /w/{doc}/blocks/{block}`: one field per form (each save is one change).
pub async fn update_block(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, block)): Path<(String, String)>,
    Form(f): Form<UpdateBlockForm>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        if let Some(d) = f.duration_min.as_deref() {
            let d = minutes("duration_min", d)?;
            return Ok(((), w.set_block_duration(ctx, &block, d)?));
        }
        if let Some(a) = f.actual_min.as_deref() {
            let a = if a.trim().is_empty() {
                None
            } else {
                Some(minutes("actual_duration_min", a)?)
            };
            return Ok(((), w.record_actual(ctx, &block, a, None)?));
        }
        let patch = BlockPatch {
            title: f.title,
            ..BlockPatch::default()
        };
        Ok(((), w.update_block(ctx, &block, &patch)?))
    })
    .await
}

/// The move form: place the block after one block and before another.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    after: Option<String>,
    before: Option<String>,
}

/// `POST /w/{doc}/blocks/{block}/move`.
pub async fn move_block(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, block)): Path<(String, String)>,
    Form(f): Form<MoveForm>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        let after = f.after.as_deref().filter(|s| !s.is_empty());
        let before = f.before.as_deref().filter(|s| !s.is_empty());
        Ok(((), w.move_block(ctx, &block, after, before)?))
    })
    .await
}

/// `POST /w/{doc}/blocks/{block}/remove`.
pub async fn remove_block(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, block)): Path<(String, String)>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        Ok(((), w.remove_block(ctx, &block)?))
    })
    .await
}

/// The item form.
#[derive(Debug, Deserialize)]
pub struct ItemForm {
    list: String,
    text: String,
    business: Option<String>,
}

/// `POST /w/{doc}/items`: a decision, parking-lot item or outcome (an outcome for a business
/// is a suggested follow-up measure for it).
pub async fn add_item(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<ItemForm>,
) -> Response {
    let known = who.policy.directory().businesses.clone();
    edit_and_answer(&state, &who, &headers, &doc, move |w, ctx| {
        let list = match f.list.as_str() {
            "decisions" => ItemList::Decisions,
            "parking_lot" => ItemList::ParkingLot,
            "outcomes" => ItemList::Outcomes,
            other => {
                return Err(DomainError::InvalidValue {
                    field: "list",
                    value: other.chars().take(20).collect(),
                });
            }
        };
        let hood = w.view()?.header.neighbourhood;
        let business = f
            .business
            .as_deref()
            .filter(|b| !b.is_empty() && list == ItemList::Outcomes);
        if let Some(b) = business
            && known.get(b).is_none_or(|e| e.neighbourhood != hood)
        {
            return Err(DomainError::UnknownRecord {
                kind: "business",
                id: b.to_owned(),
            });
        }
        let (_, applied) = w.add_item(ctx, list, &f.text, business)?;
        Ok(((), applied))
    })
    .await
}
