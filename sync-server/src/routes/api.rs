//! The JSON API the apps use besides the sync protocol: who am I, which documents may I read,
//! who are the people of my neighbourhood (so apps show names offline), and enrolment of a
//! device with an invite code.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use nachbar_core::doc::{DocKind, Header};
use nachbar_core::ids::{AutomergeUrl, DocumentId};
use serde::{Deserialize, Serialize};

use crate::access::Principal;
use crate::access::{Access, DirectoryPolicy, DocInfo, Policy};
use crate::storage::StoreError;
use crate::storage::web::WebStore;

use super::{AppState, authenticate};

/// A role assignment.
#[derive(Debug, Serialize)]
pub(super) struct RoleView {
    role: String,
    scope: String,
}

/// A business the user works for or coaches.
#[derive(Debug, Serialize)]
pub(super) struct BusinessView {
    id: String,
    name: String,
    neighbourhood: String,
    active: bool,
}

/// The answer to an API read: the refusal without a valid token, else `read`'s result for
/// the caller as JSON (503 when the database failed).
async fn answer_caller<T: Serialize, F: std::future::Future<Output = Result<T, StoreError>>>(
    state: &AppState,
    request: (&HeaderMap, &axum::http::Extensions),
    query: &BTreeMap<String, String>,
    read: impl FnOnce(Principal) -> F,
) -> Response {
    let (headers, extensions) = request;
    let peer = super::peer_of(extensions);
    let principal = match authenticate(state, headers, peer, query.get("token").cloned()).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    match read(principal).await {
        Ok(value) => Json(value).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "api read failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The directory as stored now (not the hub's copy, which follows within a second).
async fn directory_now(state: &AppState) -> Result<crate::storage::Directory, StoreError> {
    let now = nachbar_core::time::Timestamp::now().millis();
    state.web.storage.access.directory(now).await
}

/// `GET /api/me`.
#[derive(Debug, Serialize)]
pub(super) struct Me {
    id: String,
    name: String,
    roles: Vec<RoleView>,
    businesses: Vec<BusinessView>,
    storage_id: String,
}

/// One readable document.
#[derive(Debug, Serialize)]
pub(super) struct DocumentView {
    id: String,
    url: String,
    kind: Option<String>,
    title: String,
    neighbourhood: Option<String>,
    business: Option<String>,
    writable: bool,
}

/// One person of the neighbourhood.
#[derive(Debug, Serialize)]
pub(super) struct Person {
    id: String,
    name: String,
    roles: Vec<RoleView>,
}

/// `POST /api/enroll` body.
#[derive(Debug, Deserialize)]
pub(super) struct Enroll {
    code: String,
    #[serde(default)]
    label: String,
}

/// What a stored document is, for access decisions. The record holds the header fields the
/// rules need; only a workshop is read, for its invitations.
async fn doc_info(
    store: &dyn WebStore,
    record: &crate::storage::DocRecord,
) -> Result<DocInfo, StoreError> {
    let Some(kind) = record.kind.as_deref() else {
        return Ok(DocInfo::Generic);
    };
    match DocKind::parse(kind) {
        Ok(kind) if kind != DocKind::Workshop => Ok(DocInfo::Nachbar(
            Header::new(
                kind,
                record.neighbourhood.clone().unwrap_or_default(),
                record.business.clone(),
                record.created_by.clone(),
                nachbar_core::time::Timestamp(0),
            ),
            Default::default(),
        )),
        _ => {
            let loaded = store.load_many(vec![record.doc_id.clone()]).await?.pop();
            Ok(loaded
                .and_then(|d| crate::storage::load_automerge(&d.bytes).ok())
                .map_or(DocInfo::Generic, |am| DocInfo::read(&am)))
        }
    }
}

/// `GET /api/me`
pub(super) async fn me(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let state = &*state;
    answer_caller(
        state,
        (&headers, &extensions),
        &query,
        |principal| async move {
            let dir = directory_now(state).await?;
            let name = state
                .api
                .user_name(&principal.user_id)
                .await?
                .unwrap_or_default();
            let roles = dir
                .roles
                .get(&principal.user_id)
                .cloned()
                .unwrap_or_default();
            let businesses = roles
                .iter()
                .filter_map(|(_, scope)| {
                    dir.businesses
                        .get(scope)
                        .map(|b| (scope.clone(), b.clone()))
                })
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .map(|(id, b)| BusinessView {
                    id,
                    name: b.name,
                    neighbourhood: b.neighbourhood,
                    active: b.active,
                })
                .collect();
            Ok(Me {
                id: principal.user_id,
                name,
                roles: roles
                    .into_iter()
                    .map(|(role, scope)| RoleView { role, scope })
                    .collect(),
                businesses,
                storage_id: state.web.storage.documents.storage_id().await?,
            })
        },
    )
    .await
}

/// `GET /api/documents`: every document the caller may read, with its current access.
pub(super) async fn documents(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let state = &*state;
    answer_caller(
        state,
        (&headers, &extensions),
        &query,
        |principal| async move {
            let policy = DirectoryPolicy::new(directory_now(state).await?);
            let mut out = Vec::new();
            for record in state.api.records().await? {
                let info = doc_info(state.api.as_ref(), &record).await?;
                let access = policy.access(&principal, &info);
                if access == Access::None {
                    continue;
                }
                let Ok(id) = record.doc_id.parse::<DocumentId>() else {
                    continue;
                };
                out.push(DocumentView {
                    id: record.doc_id.clone(),
                    url: AutomergeUrl::new(id).to_string(),
                    kind: record.kind.clone(),
                    title: record.title.clone(),
                    neighbourhood: record.neighbourhood.clone(),
                    business: record.business.clone(),
                    writable: access == Access::Write,
                });
            }
            Ok(out)
        },
    )
    .await
}

/// `GET /api/people`: the people of the caller's neighbourhoods.
pub(super) async fn people(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let state = &*state;
    answer_caller(
        state,
        (&headers, &extensions),
        &query,
        |principal| async move {
            let dir = directory_now(state).await?;
            let hood_of = |scope: &str| -> Option<String> {
                if dir.neighbourhoods.contains(scope) {
                    Some(scope.to_owned())
                } else {
                    dir.businesses.get(scope).map(|b| b.neighbourhood.clone())
                }
            };
            let mine: BTreeSet<String> = dir
                .roles
                .get(&principal.user_id)
                .into_iter()
                .flatten()
                .filter_map(|(_, s)| hood_of(s))
                .collect();
            let mut people = Vec::new();
            let users = state.api.live_users().await?;
            for (id, name) in users {
                let roles = dir.roles.get(&id).cloned().unwrap_or_default();
                if roles
                    .iter()
                    .any(|(_, s)| hood_of(s).is_some_and(|h| mine.contains(&h)))
                {
                    people.push(Person {
                        id,
                        name,
                        roles: roles
                            .into_iter()
                            .map(|(role, scope)| RoleView { role, scope })
                            .collect(),
                    });
                }
            }
            Ok(people)
        },
    )
    .await
}

/// `POST /api/enroll`: an invite code becomes a device token.
pub(super) async fn enroll(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    Json(body): Json<Enroll>,
) -> Response {
    let key = state.auth.key(&headers, super::peer_of(&extensions));
    // Only failures count against the address; past its budget they get 429.
    let refused = || {
        let wait = state.auth.wait(&key);
        state.auth.failed(&key);
        state
            .auth_refusals
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match wait {
            Some(wait) => super::too_many(wait),
            None => (
                StatusCode::UNAUTHORIZED,
                "invalid, used or expired invite code",
            )
                .into_response(),
        }
    };
    // No lock for what cannot be a code.
    if !crate::auth_gate::invite_shaped(body.code.trim()) {
        return refused();
    }
    let label = if body.label.is_empty() {
        "enrolled device".to_owned()
    } else {
        body.label.chars().take(100).collect()
    };
    let ttl = state.auth.token_ttl_ms;
    let now = nachbar_core::time::Timestamp::now().millis();
    let result = state
        .auth
        .enrolment
        .enroll(&body.code, &label, now.saturating_add(ttl), now)
        .await;
    match result {
        Ok(Some((user, token))) => {
            Json(serde_json::json!({ "user": user, "token": token })).into_response()
        }
        Ok(None) => refused(),
        _ => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
