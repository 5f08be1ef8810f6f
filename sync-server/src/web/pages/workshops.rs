//! The workshops of a neighbourhood: the list and planning a new one.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use nachbar_core::label::Labelled;
use nachbar_core::model::workshop::{NewWorkshop, WorkshopDoc, WorkshopKind};
use serde::Deserialize;

use crate::routes::AppState;
use crate::web::edit::{self, web_actor};
use crate::web::errors::{FieldErrors, domain};
use crate::web::frame::{Frame, render};
use crate::web::i18n::Texts;
use crate::web::read;
use crate::web::see_other;
use crate::web::session::SignedIn;
use crate::web::views::{Choice, choices, date};

/// A workshop in the list.
#[derive(Debug, Clone)]
pub struct WorkshopRow {
    /// Link.
    pub href: String,
    /// Title.
    pub title: String,
    /// Date in words.
    pub date: String,
    /// Format.
    pub kind: String,
    /// Status.
    pub status: String,
}

/// The form's values, kept after a refusal.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewWorkshopForm {
    title: String,
    kind: String,
    date: String,
    start: String,
    end: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    goal: String,
}

/// The page.
#[derive(Debug, Template)]
#[template(path = "workshops.html")]
pub struct WorkshopsPage {
    /// The frame.
    pub frame: Frame,
    /// The neighbourhood id.
    pub n: String,
    /// The workshops.
    pub rows: Vec<WorkshopRow>,
    /// Formats.
    pub kinds: Vec<Choice>,
    /// The form as submitted.
    pub form: NewWorkshopFormView,
    /// Errors by field.
    pub errors: FieldErrors,
}

/// The form's values for the template.
#[derive(Debug, Clone, Default)]
pub struct NewWorkshopFormView {
    /// Title.
    pub title: String,
    /// Date.
    pub date: String,
    /// Start.
    pub start: String,
    /// End.
    pub end: String,
    /// Place.
    pub place: String,
    /// Goal.
    pub goal: String,
}

async fn page_with(
    state: &AppState,
    who: &SignedIn,
    n: &str,
    status: StatusCode,
    form: NewWorkshopFormView,
    errors: FieldErrors,
) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    if !who.runs(n) && !who.policy.directory().neighbourhoods.contains(n) {
        return super::errors::not_found_in(lang);
    }
    let ids = match read::ids_of_kind(&state.web, n, "workshop").await {
        Ok(ids) => ids,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let mut rows = Vec::new();
    for id in ids {
        if let Ok(Some((w, _))) = read::readable::<WorkshopDoc>(&state.web, who, id).await
            && let Ok(v) = w.view()
        {
            rows.push((
                v.date.clone().unwrap_or_default(),
                WorkshopRow {
                    href: format!("/w/{id}"),
                    title: v.title.clone(),
                    date: v.date.as_deref().map(|d| date(d, lang)).unwrap_or_default(),
                    kind: v.kind.label().get(lang).to_owned(),
                    status: v.status.label().get(lang).to_owned(),
                },
            ));
        }
    }
    if !who.runs(n) && rows.is_empty() {
        return super::errors::not_found_in(lang);
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    render(
        status,
        &WorkshopsPage {
            frame: Frame::new(
                lang,
                t.workshops,
                Some(who),
                &format!("/n/{n}/workshops"),
                Some(n),
            ),
            n: n.to_owned(),
            rows: rows.into_iter().map(|(_, r)| r).collect(),
            kinds: choices(WorkshopKind::ALL, |k| k.code(), None, lang),
            form,
            errors,
        },
    )
}

/// `GET /n/{id}/workshops`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
) -> Response {
    page_with(
        &state,
        &who,
        &n,
        StatusCode::OK,
        NewWorkshopFormView::default(),
        FieldErrors::none(),
    )
    .await
}

/// `POST /n/{id}/workshops`: plans a workshop (a new document written by the coordinator).
pub async fn create(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
    Form(f): Form<NewWorkshopForm>,
) -> Response {
    let lang = who.lang;
    let kept = NewWorkshopFormView {
        title: f.title.clone(),
        date: f.date.clone(),
        start: f.start.clone(),
        end: f.end.clone(),
        place: f.place.clone(),
        goal: f.goal.clone(),
    };
    let kind = match WorkshopKind::parse(&f.kind) {
        Ok(k) => k,
        Err(e) => {
            return page_with(
                &state,
                &who,
                &n,
                StatusCode::UNPROCESSABLE_ENTITY,
                kept,
                domain(&e, lang),
            )
            .await;
        }
    };
    let new = NewWorkshop {
        title: f.title,
        kind,
        date: f.date,
        start: f.start,
        end: f.end,
        place: f.place,
        host: None,
        goal: f.goal,
    };
    let created = WorkshopDoc::create(web_actor(who.id()), &edit::context(&who), &n, &new);
    let doc = match created {
        Ok((doc, _)) => doc,
        Err(e) => {
            return page_with(
                &state,
                &who,
                &n,
                StatusCode::UNPROCESSABLE_ENTITY,
                kept,
                domain(&e, lang),
            )
            .await;
        }
    };
    match edit::create(&state, &who, doc.inner()).await {
        Ok(id) => see_other(&format!("/w/{id}")),
        Err(e) => super::errors::from_edit(&e, lang),
    }
}
