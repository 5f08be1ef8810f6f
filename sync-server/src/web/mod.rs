//! The web app: server-rendered pages (askama templates, htmx for in-place updates) on the
//! same documents, access rules and durable path as the phones.
//!
//! - Sign-in with a login name and password ([`password`], argon2id) gives a browser session
//!   cookie ([`session`]) that authenticates HTML routes only, never `/sync` or `/api`.
//! - Page data comes from `nachbar-core`'s read models through pure view models ([`views`]);
//!   documents are read from storage, which holds exactly what is durable ([`read`]).
//! - A web edit is a typed core edit made under an actor per (user, web) and handed to the
//!   hub as a [`Submission`](crate::hub::Submission): committed before any page or device
//!   sees it ([`edit`]).
//! - Open pages follow the hub's commits through server-sent events ([`live`]).
//!
//! The hub knows nothing about this module.

pub mod archive;
pub mod assets;
pub mod cache;
pub mod cookies;
pub mod csrf;
pub mod edit;
pub mod errors;
pub mod export;
pub mod frame;
pub mod i18n;
pub mod i18n_business;
pub mod links;
pub mod live;
pub mod offline;
pub mod pages;
pub mod password;
pub mod pdf;
pub mod read;
pub mod session;
pub mod views;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_access;
#[cfg(test)]
mod tests_business;
#[cfg(test)]
mod tests_calendar;
#[cfg(test)]
mod tests_reports;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nachbar_core::ids::DocumentId;
use tokio::sync::broadcast;

use crate::access::PolicyCell;
use crate::routes::AppState;

/// Largest form body the web app reads (a workshop's longest text fits many times).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Settings of the web app.
#[derive(Debug, Clone, Copy)]
pub struct WebConfig {
    /// How long a browser session lasts.
    pub session_ttl: Duration,
    /// How long an invitation link made in the web app stays valid.
    pub invite_ttl: Duration,
    /// `X-Real-IP` from a loopback peer names the client (a reverse proxy on this host that
    /// sets it, as in the README); otherwise the peer address counts.
    pub trust_proxy_headers: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_ttl: Duration::from_secs(30 * 86_400),
            invite_ttl: Duration::from_secs(14 * 86_400),
            trust_proxy_headers: false,
        }
    }
}

/// What the web app shares across requests.
#[derive(Debug)]
pub struct WebState {
    /// Sessions, page reads and the acts log (on SQLite the web app's own connection, apart
    /// from the sync path's reader).
    pub data: Arc<dyn crate::storage::web::WebStore>,
    /// Documents and access data for the directory acts (beside the hub: the storage watcher
    /// hands what they append to the hub).
    pub storage: crate::storage::backend::Storage,
    /// The current access rules (kept current by the hub task).
    pub policy: PolicyCell,
    /// Documents with newly durable changes.
    pub committed: broadcast::Sender<DocumentId>,
    /// Failed sign-ins and invitation guesses.
    pub limiter: Mutex<crate::limiter::Limiter>,
    /// Read models of documents by version.
    pub views: cache::ViewCache,
    /// One web edit at a time per document (the web actor's changes form a chain).
    pub edit_locks: edit::EditLocks,
    /// Open live-page streams per user (bounded by [`live::MAX_STREAMS_PER_USER`]).
    pub live_streams: Mutex<std::collections::HashMap<String, usize>>,
    /// The bounded password hashers (sign-in, enrolment).
    pub hashers: password::Hashers,
    /// Settings.
    pub config: WebConfig,
}

/// The web app's routes (merged into the server's router).
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/assets/{version}/{name}", get(assets::serve))
        .route(
            "/login",
            get(pages::sign_in::form).post(pages::sign_in::submit),
        )
        .route("/logout", post(pages::sign_in::sign_out))
        .route(
            "/enroll",
            get(pages::enroll::form).post(pages::enroll::submit),
        )
        .route("/lang/{code}", get(pages::sign_in::switch_language))
        .route("/start", get(pages::home::start))
        .route(
            "/me/calendar",
            get(pages::calendar::show).post(pages::calendar::create),
        )
        .route("/me/calendar/revoke", post(pages::calendar::revoke))
        .route("/cal/{file}", get(pages::calendar::feed))
        .route("/n/{id}", get(pages::neighbourhood::show))
        .route("/n/{id}/live", get(pages::neighbourhood::live_fragment))
        .route("/n/{id}/heatmap.csv", get(pages::neighbourhood::csv))
        .route("/n/{id}/archive.zip", get(pages::neighbourhood::archive))
        .route("/n/{id}/summary.pdf", get(pages::reports::neighbourhood))
        .route(
            "/n/{id}/businesses",
            get(pages::people::page).post(pages::people::add_business),
        )
        .route(
            "/n/{id}/businesses/{business}/invite",
            post(pages::people::invite),
        )
        .route(
            "/n/{id}/businesses/{business}/coach",
            post(pages::people::assign_coach),
        )
        .route(
            "/n/{id}/businesses/{business}/coach/remove",
            post(pages::people::unassign_coach),
        )
        .route(
            "/n/{id}/businesses/{business}/leave",
            post(pages::people::leave),
        )
        .route(
            "/n/{id}/people/{user}/revoke",
            post(pages::people::revoke_access),
        )
        .route(
            "/n/{id}/workshops",
            get(pages::workshops::list).post(pages::workshops::create),
        )
        .route(
            "/n/{id}/offerings",
            get(pages::offerings::page).post(pages::offerings::create),
        )
        .route("/n/{id}/offerings.csv", get(pages::offerings::csv))
        .route(
            "/n/{id}/offerings/{offering}/status",
            post(pages::offerings::set_status),
        )
        .route(
            "/n/{id}/offerings/{offering}/date",
            post(pages::offerings::add_date),
        )
        .route("/w/{doc}", get(pages::workshop::show))
        .route("/w/{doc}/live", get(pages::workshop::live_fragment))
        .route("/w/{doc}/print", get(pages::workshop::print))
        .route("/w/{doc}/plan", post(pages::workshop::plan))
        .route("/w/{doc}/invite", post(pages::workshop::invite))
        .route("/w/{doc}/status", post(pages::workshop::set_status))
        .route("/w/{doc}/blocks", post(pages::workshop::add_block))
        .route(
            "/w/{doc}/blocks/{block}",
            post(pages::workshop::update_block),
        )
        .route(
            "/w/{doc}/blocks/{block}/move",
            post(pages::workshop::move_block),
        )
        .route(
            "/w/{doc}/blocks/{block}/remove",
            post(pages::workshop::remove_block),
        )
        .route("/w/{doc}/items", post(pages::workshop::add_item))
        .route("/b/{business}", get(pages::business::show))
        .route("/b/{business}/profile", get(pages::profile::show))
        .route(
            "/b/{business}/profile/topics",
            post(pages::profile::set_topic),
        )
        .route(
            "/b/{business}/profile/needs/{need}/accept",
            post(pages::profile::accept_offer),
        )
        .route(
            "/b/{business}/profile/offers/{offer}/withdraw",
            post(pages::profile::withdraw_offer),
        )
        .route(
            "/b/{business}/profile/practices/{id}/revoke",
            post(pages::profile::revoke_practice),
        )
        .route(
            "/b/{business}/profile/findings/{id}/revoke",
            post(pages::profile::revoke_finding),
        )
        .route(
            "/b/{business}/profile/seats",
            post(pages::profile::change_seats),
        )
        .route("/a/{doc}", get(pages::assessment::show))
        .route("/a/{doc}/live", get(pages::assessment::live_fragment))
        .route("/a/{doc}/results", get(pages::assessment::results))
        .route("/a/{doc}/results.pdf", get(pages::reports::assessment))
        .route(
            "/a/{doc}/results/live",
            get(pages::assessment::results_live),
        )
        .route(
            "/a/{doc}/answers/{question}",
            post(pages::assessment::answer),
        )
        .route("/a/{doc}/resolve", post(pages::assessment::resolve))
        .route("/a/{doc}/findings", post(pages::assessment::add_finding))
        .route("/a/{doc}/barriers", post(pages::assessment::set_barriers))
        .route("/p/{doc}", get(pages::plan::show))
        .route("/p/{doc}/live", get(pages::plan::live_fragment))
        .route("/p/{doc}/measures.csv", get(pages::plan::csv))
        .route("/p/{doc}/plan.pdf", get(pages::reports::plan))
        .route("/p/{doc}/sign-off", post(pages::plan::sign_off))
        .route("/p/{doc}/resolve", post(pages::plan::resolve))
        .route("/p/{doc}/goals", post(pages::plan::add_goal))
        .route("/p/{doc}/measures", post(pages::plan::add_measure))
        .route(
            "/p/{doc}/measures/{measure}/status",
            post(pages::plan::set_status),
        )
        .route(
            "/p/{doc}/measures/{measure}/due",
            post(pages::plan::set_due),
        )
        .route(
            "/p/{doc}/measures/{measure}/edit",
            post(pages::plan::edit_measure),
        )
        .route(
            "/p/{doc}/measures/{measure}/progress",
            post(pages::plan::set_progress),
        )
        .route(
            "/p/{doc}/measures/{measure}/restore",
            post(pages::plan::restore),
        )
        .route(
            "/p/{doc}/measures/{measure}/remove",
            post(pages::plan::remove),
        )
        .route(
            "/p/{doc}/measures/{measure}/move",
            post(pages::plan::move_measure),
        )
        .route(
            "/p/{doc}/measures/{measure}/merge",
            post(pages::plan::merge),
        )
        .route("/events", get(live::events))
        .fallback(pages::errors::not_found)
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(axum::middleware::from_fn(guard))
        // Pages and assets gzip-compressed for browsers that ask (an action plan of 40
        // measures is ~250 KB of HTML); server-sent events are left alone, and so are PDFs and
        // zip archives, which are compressed already (gzip would only cost a worker's time).
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when({
                use tower_http::compression::predicate::{
                    DefaultPredicate, NotForContentType, Predicate,
                };
                DefaultPredicate::new()
                    .and(NotForContentType::const_new("application/pdf"))
                    .and(NotForContentType::const_new("application/zip"))
            }),
        )
}

/// Every web response: refuses cross-site POSTs (403) and sets the security headers (CSP
/// `script-src 'self'`, no framing, no sniffing) and `Cache-Control: no-store` unless the
/// response chose its own caching (assets).
async fn guard(request: Request, next: Next) -> Response {
    if !csrf::same_origin(request.method(), request.headers()) {
        let lang = i18n::lang_of(request.headers());
        return pages::errors::forbidden(lang);
    }
    let mut response = next.run(request).await;
    security_headers(response.headers_mut());
    response
}

/// The headers of every web response (those a response set itself stay).
pub fn security_headers(h: &mut axum::http::HeaderMap) {
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::VARY, "HX-Request, Cookie, Accept-Language");
}

/// Whether a request came from htmx (answer with a fragment, not a redirect).
pub fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

/// `303 See Other` to `to` (after a form POST without JavaScript).
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}
