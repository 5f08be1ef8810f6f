//! Accepting an invitation in a browser: `/enroll?code=…` asks for a login name and a password
//! (argon2id); the code is used up. Failed guesses count against the address like failed
//! sign-ins.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::limiter::PER_ADDRESS;
use crate::routes::AppState;
use crate::storage::InviteOutcome;
use crate::web::errors::FieldErrors;
use crate::web::frame::{Frame, render};
use crate::web::i18n::{Texts, lang_of};
use crate::web::{password, see_other};

use super::sign_in::too_many;
use crate::limiter::{client_address, monotonic_ms};

/// The enrolment page.
#[derive(Debug, Template)]
#[template(path = "enroll.html")]
pub struct EnrollPage {
    /// The frame.
    pub frame: Frame,
    /// The invitation code.
    pub code: String,
    /// The invited person's name.
    pub name: String,
    /// The login typed before.
    pub login: String,
    /// Errors by field.
    pub errors: FieldErrors,
}

/// The code in the link.
#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

fn now_ms() -> i64 {
    nachbar_core::time::Timestamp::now().millis()
}

fn invalid(headers: &HeaderMap) -> Response {
    let lang = lang_of(headers);
    let t = Texts::of(lang);
    super::errors::message(
        StatusCode::NOT_FOUND,
        lang,
        t.enroll_title,
        t.enroll_invalid,
        true,
    )
}

fn addr_key(headers: &HeaderMap, extensions: &axum::http::Extensions, trust_proxy: bool) -> String {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    format!("addr:{}", client_address(headers, peer, trust_proxy))
}

fn limited(state: &AppState, key: &str) -> Option<std::time::Duration> {
    state
        .web
        .limiter
        .lock()
        .ok()
        .and_then(|mut l| l.check(&[(key, PER_ADDRESS)], monotonic_ms()))
}

fn count_failure(state: &AppState, key: &str) {
    if let Ok(mut l) = state.web.limiter.lock() {
        l.fail(&[(key, PER_ADDRESS)], monotonic_ms());
    }
}

/// `GET /enroll?code=…`.
pub async fn form(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Query(q): Query<CodeQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let key = addr_key(&headers, &extensions, state.web.config.trust_proxy_headers);
    if let Some(wait) = limited(&state, &key) {
        return too_many(&headers, wait, "/".to_owned(), String::new());
    }
    let code: String = q.code.unwrap_or_default().trim().chars().take(64).collect();
    let lookup = code.clone();
    let now = now_ms();
    match state.web.data.invite_user(&lookup, now).await {
        Ok(Some((_, name))) => render(
            StatusCode::OK,
            &EnrollPage {
                frame: Frame::new(lang, Texts::of(lang).enroll_title, None, "/enroll", None),
                code,
                name,
                login: String::new(),
                errors: FieldErrors::none(),
            },
        ),
        Ok(None) => {
            count_failure(&state, &key);
            invalid(&headers)
        }
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// The enrolment form.
#[derive(Debug, Deserialize)]
pub struct EnrollForm {
    code: String,
    login: String,
    password: String,
    password2: String,
}

/// Whether a login name is acceptable: 3–64 letters, digits, `.`, `-`, `_`.
pub fn valid_login(login: &str) -> bool {
    (3..=64).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// `POST /enroll`.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Form(f): Form<EnrollForm>,
) -> Response {
    let lang = lang_of(&headers);
    let t = Texts::of(lang);
    let key = addr_key(&headers, &extensions, state.web.config.trust_proxy_headers);
    if let Some(wait) = limited(&state, &key) {
        return too_many(&headers, wait, "/".to_owned(), String::new());
    }
    let code: String = f.code.trim().chars().take(64).collect();
    let login = f.login.trim().to_owned();
    let lookup = code.clone();
    let now = now_ms();
    let name = match state.web.data.invite_user(&lookup, now).await {
        Ok(Some((_, name))) => name,
        Ok(None) => {
            count_failure(&state, &key);
            return invalid(&headers);
        }
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let again = |errors: FieldErrors| {
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EnrollPage {
                frame: Frame::new(lang, t.enroll_title, None, "/enroll", None),
                code: code.clone(),
                name: name.clone(),
                login: login.clone(),
                errors,
            },
        )
    };
    if !valid_login(&login) {
        return again(FieldErrors::at("login", t.login_invalid));
    }
    if f.password != f.password2 {
        return again(FieldErrors::at("password", t.passwords_differ));
    }
    let typed = f.password;
    let hashed = state.web.hashers.run(move || password::hash(&typed)).await;
    let hash = match hashed {
        Ok(Ok(h)) => h,
        Ok(Err(password::PasswordError::TooShort)) => {
            return again(FieldErrors::at("password", t.password_too_short));
        }
        Ok(Err(password::PasswordError::TooLong)) => {
            return again(FieldErrors::at("password", t.password_too_long));
        }
        Ok(Err(password::PasswordError::Hash(_))) => return super::errors::unavailable(lang),
        Err(password::Busy) => return super::sign_in::busy(&headers),
    };
    let (c, l) = (code.clone(), login.clone());
    match state.web.data.accept_invite(&c, &l, &hash, now).await {
        Ok(InviteOutcome::Done(_)) => see_other("/login?done=enrolled"),
        Ok(InviteOutcome::LoginTaken) => again(FieldErrors::at("login", t.login_taken)),
        Ok(InviteOutcome::Invalid) => invalid(&headers),
        Err(e) => super::errors::from_read(&e, lang),
    }
}
