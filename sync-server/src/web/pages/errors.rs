//! The pages for what went wrong: not found (also for what the user may not see: denied looks
//! exactly like missing), refused (cross-site), unavailable.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nachbar_core::label::Lang;

use crate::web::frame::{Frame, render};
use crate::web::i18n::{Texts, lang_of};

/// A short message page.
#[derive(Debug, Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The frame.
    pub frame: Frame,
    /// The message.
    pub text: String,
    /// Whether it is an error.
    pub error: bool,
    /// Where to go on.
    pub link: String,
    /// The link's text.
    pub link_text: String,
}

/// A message page with `status`.
pub fn message(status: StatusCode, lang: Lang, title: &str, text: &str, error: bool) -> Response {
    let t = Texts::of(lang);
    render(
        status,
        &MessagePage {
            frame: Frame::new(lang, title, None, "/", None),
            text: text.to_owned(),
            error,
            link: "/".to_owned(),
            link_text: t.back_home.to_owned(),
        },
    )
}

/// 404, for missing and denied alike.
pub fn not_found_in(lang: Lang) -> Response {
    let t = Texts::of(lang);
    message(
        StatusCode::NOT_FOUND,
        lang,
        t.not_found_title,
        t.not_found_text,
        true,
    )
}

/// 400 for a request the server does not understand (an unknown option in a link).
pub fn bad_request(lang: Lang) -> Response {
    let t = Texts::of(lang);
    message(
        StatusCode::BAD_REQUEST,
        lang,
        t.bad_request_title,
        t.bad_request_text,
        true,
    )
}

/// The fallback route.
pub async fn not_found(headers: HeaderMap) -> Response {
    not_found_in(lang_of(&headers))
}

/// 403 for a cross-site form.
pub fn forbidden(lang: Lang) -> Response {
    let t = Texts::of(lang);
    message(
        StatusCode::FORBIDDEN,
        lang,
        t.forbidden_title,
        t.forbidden_text,
        true,
    )
}

/// 503 when storage or the hub failed.
pub fn unavailable(lang: Lang) -> Response {
    let t = Texts::of(lang);
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        t.error_title,
        t.error_text,
        true,
    )
}

/// The answer to a failed read or edit: 404 for what is missing or denied, 503 otherwise.
pub fn from_edit(err: &crate::web::edit::EditError, lang: Lang) -> Response {
    use crate::web::edit::EditError;
    match err {
        EditError::NotFound | EditError::ReadOnly => not_found_in(lang),
        other => {
            tracing::warn!(error = %other, "web edit failed");
            unavailable(lang)
        }
    }
}

/// The answer to a failed read.
pub fn from_read(err: &dyn std::fmt::Display, lang: Lang) -> Response {
    tracing::error!(error = %err, "reading for a page failed");
    unavailable(lang)
}
