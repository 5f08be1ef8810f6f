//! `GET /p/{doc}/plan.pdf`, `/a/{doc}/results.pdf` and `/n/{id}/summary.pdf`: the reports
//! as downloads. Query: `lang=de|en` (default: the page language; anything else is 400),
//! `history=1` for the plan's status history, and for the assessment `chosen=1` with one
//! `finding=ID` per finding to include (without `chosen`, all findings; at most
//! [`MAX_FINDINGS`]). Missing and denied are the same 404.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nachbar_core::label::Lang;

use crate::reports::ReportError;
use crate::routes::AppState;
use crate::web::pdf::{self, Findings, Pdf, PdfError};
use crate::web::session::SignedIn;

/// The most findings one assessment report may choose (an assessment has one per question
/// at most, well under this); more is a bad request.
pub const MAX_FINDINGS: usize = 500;

/// The query pairs of a report link, in order.
type Pairs = Vec<(String, String)>;

fn value<'a>(q: &'a Pairs, key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The report language: `lang` of the query, else the page's; `None` for an unknown code.
fn lang_of(q: &Pairs, page: Lang) -> Option<Lang> {
    match value(q, "lang") {
        None => Some(page),
        Some("de") => Some(Lang::De),
        Some("en") => Some(Lang::En),
        Some(_) => None,
    }
}

fn flag(q: &Pairs, key: &str) -> bool {
    value(q, key) == Some("1")
}

fn respond(result: Result<Option<Pdf>, PdfError>, lang: Lang) -> Response {
    match result {
        Ok(Some(pdf)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", pdf.file_name),
                ),
            ],
            pdf.bytes,
        )
            .into_response(),
        Ok(None) | Err(PdfError::Report(ReportError::Disabled)) => {
            super::errors::not_found_in(lang)
        }
        Err(PdfError::Read(e)) => super::errors::from_read(&e, lang),
        Err(PdfError::Busy) => {
            let mut r = super::errors::unavailable(lang);
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            r
        }
        Err(PdfError::Report(e @ ReportError::TooLarge { .. })) => {
            tracing::warn!(error = %e, "a report was refused");
            let t = crate::web::i18n::Texts::of(lang);
            super::errors::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                t.pdf_too_large_title,
                t.pdf_too_large_text,
                true,
            )
        }
        Err(PdfError::Report(e)) => {
            tracing::error!(error = %e, "rendering a report failed");
            super::errors::unavailable(lang)
        }
    }
}

/// `GET /p/{doc}/plan.pdf`.
pub async fn plan(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
    Query(q): Query<Pairs>,
) -> Response {
    let Some(lang) = lang_of(&q, who.lang) else {
        return super::errors::bad_request(who.lang);
    };
    let result = pdf::plan(&state.web, &who, &doc, lang, flag(&q, "history")).await;
    respond(result, who.lang)
}

/// `GET /a/{doc}/results.pdf`.
pub async fn assessment(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
    Query(q): Query<Pairs>,
) -> Response {
    let Some(lang) = lang_of(&q, who.lang) else {
        return super::errors::bad_request(who.lang);
    };
    let findings = if flag(&q, "chosen") {
        let chosen: std::collections::HashSet<String> = q
            .iter()
            .filter(|(k, _)| k == "finding")
            .map(|(_, v)| v.clone())
            .collect();
        if chosen.len() > MAX_FINDINGS {
            return super::errors::bad_request(who.lang);
        }
        Findings::Only(chosen)
    } else {
        Findings::All
    };
    let result = pdf::assessment(&state.web, &who, &doc, lang, &findings).await;
    respond(result, who.lang)
}

/// `GET /n/{id}/summary.pdf`.
pub async fn neighbourhood(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
    Query(q): Query<Pairs>,
) -> Response {
    let Some(lang) = lang_of(&q, who.lang) else {
        return super::errors::bad_request(who.lang);
    };
    let result = pdf::neighbourhood(&state.web, &who, &n, lang).await;
    respond(result, who.lang)
}
