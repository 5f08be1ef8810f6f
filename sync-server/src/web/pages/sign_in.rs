//! Signing in and out, and the language switch.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::limiter::{PER_ADDRESS, PER_LOGIN, PER_LOGIN_TOTAL, client_address, monotonic_ms};
use crate::routes::AppState;
use crate::web::frame::{Frame, render};
use crate::web::i18n::{LANG_COOKIE, Texts, lang_of};
use crate::web::session::{SESSION_COOKIE, safe_next};
use crate::web::{cookies, password, see_other};

/// The sign-in page.
#[derive(Debug, Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// The frame.
    pub frame: Frame,
    /// Where to go after signing in.
    pub next: String,
    /// The login typed before.
    pub login: String,
    /// An error.
    pub error: String,
    /// A notice (after enrolment, after signing out).
    pub notice: String,
}

/// Query of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    done: Option<String>,
}

fn page(
    headers: &HeaderMap,
    status: StatusCode,
    next: String,
    login: String,
    error: &str,
    notice: &str,
) -> Response {
    let lang = lang_of(headers);
    let t = Texts::of(lang);
    render(
        status,
        &LoginPage {
            frame: Frame::new(lang, t.sign_in_title, None, "/login", None),
            next,
            login,
            error: error.to_owned(),
            notice: notice.to_owned(),
        },
    )
}

/// `GET /login`.
pub async fn form(headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let t = Texts::of(lang_of(&headers));
    let notice = if q.done.as_deref() == Some("enrolled") {
        t.enroll_done
    } else {
        ""
    };
    page(
        &headers,
        StatusCode::OK,
        safe_next(q.next.as_deref()),
        String::new(),
        "",
        notice,
    )
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

fn now_ms() -> i64 {
    nachbar_core::time::Timestamp::now().millis()
}

/// `503` with `Retry-After`: every password hasher is busy.
pub fn busy(headers: &HeaderMap) -> Response {
    let lang = lang_of(headers);
    let mut r = super::errors::unavailable(lang);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    r
}

/// `429 Too Many Requests` with `Retry-After`.
pub fn too_many(
    headers: &HeaderMap,
    wait: std::time::Duration,
    next: String,
    login: String,
) -> Response {
    let t = Texts::of(lang_of(headers));
    let mut r = page(
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        next,
        login,
        t.too_many_attempts,
        "",
    );
    let secs = wait.as_secs().max(1).to_string();
    if let Ok(v) = HeaderValue::from_str(&secs) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// `POST /login`: checks the password (rate-limited per login and per address), starts a
/// session and sends the user home.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let t = Texts::of(lang);
    let next = safe_next(f.next.as_deref());
    let login: String = f.login.trim().chars().take(64).collect();
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let address = client_address(&headers, peer, state.web.config.trust_proxy_headers);
    let name = login.to_lowercase();
    let pair_key = format!("login:{name}@{address}");
    let login_key = format!("login:{name}");
    let addr_key = format!("addr:{address}");
    let keys = [
        (pair_key.as_str(), PER_LOGIN),
        (addr_key.as_str(), PER_ADDRESS),
        (login_key.as_str(), PER_LOGIN_TOTAL),
    ];
    // The attempt counts before the password is checked (and is given back on success), so
    // parallel guesses cannot all pass the check before the first failure is recorded.
    let wait = state.web.limiter.lock().ok().and_then(|mut l| {
        let checked = if l.contains(&pair_key) { 3 } else { 2 };
        let wait = l.check(&keys[..checked], monotonic_ms());
        if wait.is_none() {
            l.fail(&keys, monotonic_ms());
        }
        wait
    });
    if let Some(wait) = wait {
        return too_many(&headers, wait, next, login);
    }
    let lookup = login.clone();
    let account = match state.web.data.account_by_login(&lookup).await {
        Ok(a) => a,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let typed = f.password;
    let Ok(ok) = state
        .web
        .hashers
        .run(move || password::verify(&typed, stored.as_deref()))
        .await
    else {
        // Not checked: the attempt does not count.
        if let Ok(mut l) = state.web.limiter.lock() {
            l.refund(&keys, monotonic_ms());
        }
        return busy(&headers);
    };
    let Some(account) = account.filter(|_| ok) else {
        return page(
            &headers,
            StatusCode::UNAUTHORIZED,
            next,
            login,
            t.sign_in_failed,
            "",
        );
    };
    if let Ok(mut l) = state.web.limiter.lock() {
        l.refund(&keys, monotonic_ms());
        l.forget(&pair_key);
    }
    let ttl = state.web.config.session_ttl;
    let now = now_ms();
    let label: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    let user = account.user_id.clone();
    let created = state
        .web
        .data
        .create_session(&user, &label, now + ttl.as_millis() as i64, now)
        .await;
    let secret = match created {
        Ok(s) => s,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let cookie = cookies::set(
        SESSION_COOKIE,
        &secret,
        ttl.as_secs() as i64,
        cookies::is_https(&headers, &uri),
    );
    let mut r = see_other(&next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /logout`: ends the session and deletes the cookie.
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Some(secret) = cookies::get(&headers, SESSION_COOKIE) {
        let now = now_ms();
        let hash = crate::auth::token_hash(&secret);
        let _ = state.web.data.revoke_session(&hash, now).await;
    }
    let mut r = see_other("/login");
    let cookie = cookies::set(SESSION_COOKIE, "", 0, cookies::is_https(&headers, &uri));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Query of the language switch.
#[derive(Debug, Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

/// `GET /lang/{de|en}?back=…`: remembers the language for a year and goes back.
pub async fn switch_language(
    Path(code): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<BackQuery>,
) -> Response {
    let back = safe_next(q.back.as_deref());
    let code = if code == "en" { "en" } else { "de" };
    let mut r = see_other(&back);
    let cookie = cookies::set(
        LANG_COOKIE,
        code,
        365 * 86_400,
        cookies::is_https(&headers, &uri),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.into_response()
}
