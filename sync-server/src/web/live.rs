//! Live pages: `GET /events?page=<path>` is a server-sent event stream that says `changed`
//! whenever a document shown on that page commits (fed by the hub's commits, not by polling
//! documents), `gone` when the page is no longer the user's to see (a lost role), and
//! `signed-out` when the session ends. Every second the session is checked
//! again, so a deleted user, a revoked session or a lost role ends the stream within a second.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use nachbar_core::ids::DocumentId;
use serde::Deserialize;
use tokio::sync::broadcast;

use crate::routes::AppState;

use super::cookies;
use super::pages;
use super::session::{SESSION_COOKIE, SignedIn, lookup};

/// Most event streams one user may hold open (each is a task and a subscription).
pub const MAX_STREAMS_PER_USER: usize = 8;

/// The page a stream follows.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: String,
}

/// The documents page `path` shows to `who`; `None` when it is not a live page or not
/// readable.
pub async fn page_docs(
    state: &AppState,
    who: &SignedIn,
    path: &str,
) -> Option<BTreeSet<DocumentId>> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["n", n] | ["n", n, "workshops" | "offerings" | "businesses"] => {
            pages::neighbourhood::data(state, who, n)
                .await
                .ok()
                .flatten()
                .map(|d| d.docs.into_iter().collect())
        }
        ["w", doc] => one::<nachbar_core::model::workshop::WorkshopDoc>(state, who, doc).await,
        ["p", doc] => one::<nachbar_core::model::action_plan::ActionPlanDoc>(state, who, doc).await,
        ["a", doc] | ["a", doc, "results"] => {
            one::<nachbar_core::model::assessment::AssessmentDoc>(state, who, doc).await
        }
        _ => None,
    }
}

/// The one document `doc` of kind `D`, if `who` may read it.
async fn one<D: nachbar_core::model::TypedDoc + Send + 'static>(
    state: &AppState,
    who: &SignedIn,
    doc: &str,
) -> Option<BTreeSet<DocumentId>> {
    let id = pages::doc_id(doc)?;
    matches!(
        super::read::readable::<D>(&state.web, who, id).await,
        Ok(Some(_))
    )
    .then(|| BTreeSet::from([id]))
}

/// Counts a user's open streams; dropping it gives the slot back.
#[derive(Debug)]
struct StreamSlot {
    state: Arc<AppState>,
    user: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.state.web.live_streams.lock()
            && let Some(n) = open.get_mut(&self.user)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

fn take_slot(state: &Arc<AppState>, user: &str) -> Option<StreamSlot> {
    let mut open = state.web.live_streams.lock().ok()?;
    let n = open.entry(user.to_owned()).or_insert(0);
    if *n >= MAX_STREAMS_PER_USER {
        return None;
    }
    *n += 1;
    Some(StreamSlot {
        state: Arc::clone(state),
        user: user.to_owned(),
    })
}

struct Follow {
    state: Arc<AppState>,
    who: SignedIn,
    secret: String,
    path: String,
    docs: BTreeSet<DocumentId>,
    commits: broadcast::Receiver<DocumentId>,
    check: tokio::time::Interval,
    policy_version: i64,
    done: bool,
    _slot: StreamSlot,
}

impl Follow {
    /// The next event. Every event carries data: a browser's `EventSource` drops an event
    /// without a data line instead of dispatching it.
    async fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        loop {
            tokio::select! {
                commit = self.commits.recv() => match commit {
                    Ok(doc) if self.docs.contains(&doc) => return Some(Event::default().event("changed").data(doc.to_string())),
                    Ok(_) => {}
                    // Missed some: refresh to be safe.
                    Err(broadcast::error::RecvError::Lagged(_)) => return Some(Event::default().event("changed").data("refresh")),
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.check.tick() => {
                    let valid = matches!(lookup(&self.state, self.secret.clone()).await, Ok(Some(_)));
                    if !valid {
                        self.done = true;
                        return Some(Event::default().event("signed-out").data("signed-out"));
                    }
                    let policy = self.state.web.policy.current();
                    if policy.version() != self.policy_version {
                        self.policy_version = policy.version();
                        self.who.policy = policy;
                        match page_docs(&self.state, &self.who, &self.path).await {
                            Some(docs) => {
                                self.docs = docs;
                                return Some(Event::default().event("changed").data("refresh"));
                            }
                            None => {
                                // The page is gone for this user (a role was lost).
                                self.done = true;
                                return Some(Event::default().event("gone").data("gone"));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /events?page=…`.
pub async fn events(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = who.lang;
    let Some(docs) = page_docs(&state, &who, &q.page).await else {
        return pages::errors::not_found_in(lang);
    };
    let Some(secret) = cookies::get(&headers, SESSION_COOKIE) else {
        return pages::errors::not_found_in(lang);
    };
    let Some(slot) = take_slot(&state, who.id()) else {
        return (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too many live pages",
        )
            .into_response();
    };
    let mut check = tokio::time::interval(Duration::from_secs(1));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let follow = Follow {
        commits: state.web.committed.subscribe(),
        policy_version: who.policy.version(),
        state: Arc::clone(&state),
        who,
        secret,
        path: q.page,
        docs,
        check,
        done: false,
        _slot: slot,
    };
    let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::unfold(follow, |mut f| async move {
            f.next().await.map(|e| (Ok(e), f))
        }));
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
