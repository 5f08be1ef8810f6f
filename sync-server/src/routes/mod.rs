//! HTTP routes: the WebSocket upgrade with token authentication, the JSON API, health and
//! metrics.

mod api;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::TokenRejection;
use crate::connection::{self, ConnectionConfig};
use crate::hubs::Hubs;
use crate::writer::WriterStats;

/// Shared state of the routes.
#[derive(Debug)]
pub struct AppState {
    /// The hub workers.
    pub hub: Hubs,
    /// The API's reads (on SQLite a connection of their own).
    pub api: Arc<dyn crate::storage::web::WebStore>,
    /// Connection settings.
    pub connection: ConnectionConfig,
    /// Writer counters.
    pub writer_stats: Arc<WriterStats>,
    /// Connection numbering.
    pub next_conn: AtomicU64,
    /// Upgrades refused for want of a valid token.
    pub auth_refusals: AtomicU64,
    /// Token checks and enrolments (own connection, rate-limited per address).
    pub auth: crate::auth_gate::AuthGate,
    /// Open sync connections per user (bounded).
    pub slots: Arc<crate::connection_slots::ConnectionSlots>,
    /// Cancelled when the server shuts down.
    pub shutdown: connection::Shutdown,
    /// The web app.
    pub web: crate::web::WebState,
}

/// The router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/sync", get(sync))
        // automerge-repo clients (and the bench harness) connect to the root path; a browser
        // gets the web app there.
        .route("/", get(root))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/me", get(api::me))
        .route("/api/documents", get(api::documents))
        .route("/api/people", get(api::people))
        .route("/api/enroll", axum::routing::post(api::enroll))
        .merge(crate::web::router())
        .with_state(state)
}

/// `GET /`: the sync endpoint for a WebSocket upgrade, the web app otherwise.
async fn root(State(state): State<Arc<AppState>>, request: axum::extract::Request) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, _) = request.into_parts();
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !upgrade {
        let mut response = crate::web::pages::home::root(state, parts).await;
        crate::web::security_headers(response.headers_mut());
        return response;
    }
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(r) => return r.into_response(),
    };
    let query = match Query::<HashMap<String, String>>::from_request_parts(&mut parts, &state).await
    {
        Ok(q) => q,
        Err(r) => return r.into_response(),
    };
    sync(State(state), query, parts.extensions, parts.headers, ws).await
}

/// The peer address of a request served over a socket.
pub(crate) fn peer_of(extensions: &axum::http::Extensions) -> Option<std::net::SocketAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0)
}

/// `429 Too Many Requests` with `Retry-After`, for an address that failed too often.
pub(crate) fn too_many(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs().max(1).to_string();
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs)],
        "too many failed attempts from this address: try again later",
    )
        .into_response()
}

fn unauthorized(state: &AppState, why: &str) -> Response {
    state.auth_refusals.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        why.to_owned(),
    )
        .into_response()
}

/// The user of a request, from `Authorization: Bearer …` or `?token=…`; a refusal is the
/// finished 401 response. The access rules are brought up to the directory version the token
/// was checked at, so a user added a moment ago is known to them.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    query_token: Option<String>,
) -> Result<crate::access::Principal, Response> {
    // A valid token always passes; only failures count against the client's address, and an
    // address past its budget gets 429 for them (so nobody's failures lock others out).
    let key = state.auth.key(headers, peer);
    let refuse = |why: &str| {
        let wait = state.auth.wait(&key);
        state.auth.failed(&key);
        match wait {
            Some(wait) => too_many(wait),
            None => unauthorized(state, why),
        }
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let Some(token) = bearer.or(query_token) else {
        return Err(unauthorized(state, "a token is required"));
    };
    // No lock for what cannot be a token.
    if !crate::auth_gate::token_shaped(&token) {
        return Err(refuse("invalid token"));
    }
    let now = nachbar_core::time::Timestamp::now().millis();
    let renew_until = now.saturating_add(state.auth.token_ttl_ms);
    let access = &state.auth.access;
    let lookup = async {
        let principal = access.principal_for_token(&token, now).await?;
        Ok::<_, crate::storage::StoreError>((principal, access.directory_version().await?))
    }
    .await;
    // When a device last connected (the coordinator's list of people), and its renewal: written
    // at most once a minute per token, off the request's path.
    if let Ok((Ok(principal), _)) = &lookup
        && state.auth.renewal_due(&principal.token_hash, now)
    {
        let (access, hash) = (Arc::clone(&state.auth.access), principal.token_hash.clone());
        tokio::spawn(async move {
            if let Err(e) = access.token_used(&hash, now, renew_until).await {
                tracing::warn!(error = %e, "recording a token's use failed");
            }
        });
    }
    match lookup {
        Ok((Ok(p), version)) => {
            if state.hub.ensure_directory(version).await.is_err() {
                return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
            Ok(p)
        }
        Ok((Err(rejection), _)) => {
            let why = match rejection {
                TokenRejection::Expired => "token expired",
                TokenRejection::Revoked => "token revoked",
                TokenRejection::Unknown | TokenRejection::UserDeleted => "invalid token",
            };
            Err(refuse(why))
        }
        Err(e) => {
            tracing::error!(error = %e, "token lookup failed");
            Err(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

async fn sync(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let peer = peer_of(&extensions);
    let principal = match authenticate(&state, &headers, peer, query.get("token").cloned()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let conn = state.next_conn.fetch_add(1, Ordering::Relaxed);
    let slot = state.slots.take(&principal.user_id);
    let per_user = state.slots.per_user();
    let limits = state.connection.limits;
    let hub = state.hub.clone();
    let config = state.connection;
    let shutdown = state.shutdown.clone();
    tracing::info!(conn_id = conn, user = %principal.user_id, "connection opened");
    // The transport's hard cap lies above ours, so a message a little over the limit still
    // reaches the decoder and gets a proper `error` reply; beyond it the read stops at the cap.
    let hard_cap = limits.max_message_bytes.saturating_mul(2);
    upgrade
        .max_message_size(hard_cap)
        .max_frame_size(hard_cap)
        // Small buffers: most connections are idle phones.
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            let Some(_slot) = slot else {
                tracing::warn!(conn_id = conn, user = %principal.user_id, "too many connections of one user");
                let why = format!("more than {per_user} connections of this user");
                return connection::refuse(socket, why).await;
            };
            connection::serve(socket, conn, principal, hub, config, shutdown).await;
        })
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.hub.stats().await {
        Ok(_) => "ready".into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "hub stopped").into_response(),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let Ok(hub) = state.hub.stats().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let edge = crate::metrics::EdgeRefusals {
        per_user: state.slots.refused(),
        auth: state.auth_refusals.load(Ordering::Relaxed),
    };
    let text = crate::metrics::render(&hub, &state.writer_stats, edge);
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}
