//! Businesses and people (the coordinator's page): add a business, invite its owner and staff
//! (a one-time link shown once), see who has an active device or browser session and when it
//! was last used, assign and unassign coaches, record a business leaving, end a device or
//! session. A coordinator acts in their own neighbourhood only, admins everywhere; every act
//! lands in the audit (`acts`).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nachbar_core::model::business_profile::SizeBand;
use nachbar_core::time::Timestamp;
use serde::Deserialize;

use crate::access::roles;
use crate::routes::AppState;
use crate::storage::StoreError;
use crate::storage::web::WebStore;
use crate::web::errors::FieldErrors;
use crate::web::frame::{Frame, ok, render};
use crate::web::i18n::Texts;
use crate::web::read::ReadError;
use crate::web::session::SignedIn;
use crate::web::views::people::{BusinessCard, BusinessEntry, Person, Words, cards};
use crate::web::views::{Choice, choices};
use crate::web::{is_htmx, see_other};

/// The page.
#[derive(Debug, Template)]
#[template(path = "people.html")]
pub struct PeoplePage {
    /// The frame.
    pub frame: Frame,
    /// The neighbourhood id.
    pub n: String,
    /// The businesses.
    pub cards: Vec<BusinessCard>,
    /// Coaches to assign: (user id, name).
    pub coaches: Vec<(String, String)>,
    /// Size bands.
    pub sizes: Vec<Choice>,
    /// Errors of the add-business form.
    pub errors: FieldErrors,
    /// A notice after an act.
    pub notice: String,
}

/// The invitation link, shown once.
#[derive(Debug, Template)]
#[template(path = "invite_link.html")]
pub struct InviteLinkPage {
    /// The frame.
    pub frame: Frame,
    /// The neighbourhood id.
    pub n: String,
    /// The person.
    pub name: String,
    /// The business.
    pub business: String,
    /// The link.
    pub link: String,
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// The businesses of a neighbourhood with their people, and the coaches who can be assigned
/// there: (user id, name).
type HoodDirectory = (Vec<BusinessEntry>, Vec<(String, String)>);

/// Reads the businesses of `n` with their people and accesses, and the coach candidates.
async fn directory_of(
    store: &dyn WebStore,
    n: &str,
    now_ms: i64,
) -> Result<HoodDirectory, StoreError> {
    let businesses = store.businesses_in(n).await?;
    let roles = store.people_in(n).await?;
    let mut coaches = BTreeMap::new();
    let mut entries = Vec::new();
    for (id, name, trade, active) in businesses {
        let mut people = Vec::new();
        for (scope, role, user, uname) in roles.iter().filter(|r| r.0 == id) {
            let _ = scope;
            if role == roles::COACH {
                coaches.insert(user.clone(), uname.clone());
            }
            people.push(Person {
                user: user.clone(),
                name: uname.clone(),
                role: role.clone(),
                accesses: store.accesses_of(user, now_ms).await?,
            });
        }
        entries.push(BusinessEntry {
            id,
            name,
            trade,
            active,
            people,
        });
    }
    let mut coaches: Vec<(String, String)> = coaches.into_iter().collect();
    coaches.sort_by(|a, b| a.1.cmp(&b.1));
    Ok((entries, coaches))
}

async fn page_with(
    state: &AppState,
    who: &SignedIn,
    n: &str,
    status: StatusCode,
    errors: FieldErrors,
    notice: &str,
) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    if !who.runs(n) || !who.policy.directory().neighbourhoods.contains(n) {
        return super::errors::not_found_in(lang);
    }
    let now_ms = now().millis();
    let (entries, coaches) = match directory_of(state.web.data.as_ref(), n, now_ms).await {
        Ok(d) => d,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let words = Words {
        roles: [t.role_owner, t.role_staff, t.role_coach],
        kinds: [t.device, t.web_session],
        last: [t.last_used, t.never_used],
    };
    render(
        status,
        &PeoplePage {
            frame: Frame::new(
                lang,
                t.businesses_and_people,
                Some(who),
                &format!("/n/{n}/businesses"),
                Some(n),
            ),
            n: n.to_owned(),
            cards: cards(entries, words, lang),
            coaches,
            sizes: choices(SizeBand::ALL, |s| s.code(), None, lang),
            errors,
            notice: notice.to_owned(),
        },
    )
}

/// `GET /n/{id}/businesses`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(n): Path<String>,
) -> Response {
    page_with(&state, &who, &n, StatusCode::OK, FieldErrors::none(), "").await
}

/// Makes the hub and the web app use the directory as it is now (after a directory act), so
/// the act counts for the very next request and message.
pub async fn directory_changed(state: &AppState) {
    let version = state.web.storage.access.directory_version().await;
    if let Ok(version) = version {
        let _ = state.hub.ensure_directory(version).await;
    }
}

/// After an act: back to the page (303), or the page itself for htmx.
async fn after_act(state: &AppState, who: &SignedIn, n: &str, headers: &HeaderMap) -> Response {
    directory_changed(state).await;
    if is_htmx(headers) {
        let mut fresh = who.clone();
        fresh.policy = state.web.policy.current();
        return page_with(
            state,
            &fresh,
            n,
            StatusCode::OK,
            FieldErrors::none(),
            Texts::of(who.lang).done,
        )
        .await;
    }
    see_other(&format!("/n/{n}/businesses"))
}

/// Whether `who` coordinates `n` and `business` (when named) is one of `n`'s.
fn may_act(who: &SignedIn, n: &str, business: Option<&str>) -> bool {
    who.runs(n)
        && business.is_none_or(|b| {
            who.policy
                .directory()
                .businesses
                .get(b)
                .is_some_and(|e| e.neighbourhood == n)
        })
}

/// A failed directory act as a storage error (what the page reports).
fn act_error(e: crate::documents::WriteError) -> StoreError {
    match e {
        crate::documents::WriteError::Store(s) => s,
        other => StoreError::Configure(other.to_string()),
    }
}

/// The time of a directory act by a coordinator of `n` on a business of `n`; `None` when
/// `who` may not act there (answered like a missing page).
fn act_at(who: &SignedIn, n: &str, business: Option<&str>) -> Option<i64> {
    may_act(who, n, business).then(|| now().millis())
}

/// The add-business form.
#[derive(Debug, Deserialize)]
pub struct NewBusiness {
    name: String,
    trade: String,
    size: Option<String>,
}

/// `POST /n/{id}/businesses`.
pub async fn add_business(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(n): Path<String>,
    Form(f): Form<NewBusiness>,
) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    let name = f.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 120 {
        return page_with(
            &state,
            &who,
            &n,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::at("name", t.required_field),
            "",
        )
        .await;
    }
    let size = match f
        .size
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(SizeBand::parse)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            return page_with(
                &state,
                &who,
                &n,
                StatusCode::UNPROCESSABLE_ENTITY,
                crate::web::errors::domain(&e, lang),
                "",
            )
            .await;
        }
    };
    let trade: String = f.trade.trim().chars().take(120).collect();
    let user = who.id().to_owned();
    let done: Result<Option<()>, ReadError> = async {
        if !may_act(&who, &n, None) {
            return Ok(None);
        }
        let storage = &state.web.storage;
        let (id, _) = crate::admin::add_business(storage, &n, &name, &trade, size, now())
            .await
            .map_err(|e| ReadError::Store(act_error(e)))?;
        let now_ms = now().millis();
        state
            .web
            .data
            .record_act(&user, "business.add", &id, &name, now_ms)
            .await?;
        Ok(Some(()))
    }
    .await;
    match done {
        Ok(Some(())) => after_act(&state, &who, &n, &headers).await,
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// The invite form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    name: String,
    role: String,
}

/// `POST /n/{id}/businesses/{business}/invite`: a new person of the business and their
/// one-time link, shown only in this answer.
pub async fn invite(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((n, business)): Path<(String, String)>,
    Form(f): Form<InviteForm>,
) -> Response {
    let lang = who.lang;
    let t = Texts::of(lang);
    let name = f.name.trim().to_owned();
    let role = match f.role.as_str() {
        roles::OWNER => roles::OWNER,
        roles::STAFF => roles::STAFF,
        _ => {
            return page_with(
                &state,
                &who,
                &n,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::at("role", t.required_field),
                "",
            )
            .await;
        }
    };
    if name.is_empty() || name.chars().count() > 120 {
        return page_with(
            &state,
            &who,
            &n,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::at("name", t.required_field),
            "",
        )
        .await;
    }
    let ttl = state.web.config.invite_ttl;
    let user = who.id().to_owned();
    let b = business.as_str();
    let done: Result<Option<String>, StoreError> = async {
        let Some(now_ms) = act_at(&who, &n, Some(b)) else {
            return Ok(None);
        };
        let web = &state.web;
        // The person and their role land together (or neither).
        let person = web
            .storage
            .access
            .add_user_with_role(&name, role, b, now_ms)
            .await?;
        let code = web
            .data
            .create_invite(&person, now_ms + ttl.as_millis() as i64, now_ms)
            .await?;
        let detail = format!("{role} of {b}");
        web.data
            .record_act(&user, "person.invite", &person, &detail, now_ms)
            .await?;
        Ok(Some(code))
    }
    .await;
    let code = match done {
        Ok(Some(code)) => code,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    directory_changed(&state).await;
    let base = crate::web::links::base_url(&headers);
    let business_name = who
        .policy
        .directory()
        .businesses
        .get(&business)
        .map(|b| b.name.clone())
        .unwrap_or_default();
    ok(&InviteLinkPage {
        frame: Frame::new(
            lang,
            t.invite_link_title,
            Some(&who),
            &format!("/n/{n}/businesses"),
            Some(&n),
        ),
        n,
        name,
        business: business_name,
        link: format!("{base}/enroll?code={code}"),
    })
}

/// The coach form.
#[derive(Debug, Deserialize)]
pub struct CoachForm {
    coach: String,
}

/// `POST /n/{id}/businesses/{business}/coach`.
pub async fn assign_coach(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((n, business)): Path<(String, String)>,
    Form(f): Form<CoachForm>,
) -> Response {
    coach_act(state, who, headers, n, business, f.coach, true).await
}

/// `POST /n/{id}/businesses/{business}/coach/remove`.
pub async fn unassign_coach(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((n, business)): Path<(String, String)>,
    Form(f): Form<CoachForm>,
) -> Response {
    coach_act(state, who, headers, n, business, f.coach, false).await
}

async fn coach_act(
    state: Arc<AppState>,
    who: SignedIn,
    headers: HeaderMap,
    n: String,
    business: String,
    coach: String,
    assign: bool,
) -> Response {
    let lang = who.lang;
    // Only people who coach in this neighbourhood can be assigned here.
    let dir = who.policy.directory();
    let coaches_here = dir.roles.get(&coach).is_some_and(|r| {
        r.iter().any(|(role, scope)| {
            role == roles::COACH
                && dir
                    .businesses
                    .get(scope)
                    .is_some_and(|b| b.neighbourhood == n)
        })
    });
    if !coaches_here {
        return super::errors::not_found_in(lang);
    }
    let user = who.id().to_owned();
    let b = business.as_str();
    let done: Result<Option<()>, StoreError> = async {
        let Some(now_ms) = act_at(&who, &n, Some(b)) else {
            return Ok(None);
        };
        let web = &state.web;
        let action = if assign {
            web.storage
                .access
                .grant_role(&coach, roles::COACH, b)
                .await?;
            "coach.assign"
        } else {
            web.storage
                .access
                .revoke_role(&coach, roles::COACH, b)
                .await?;
            "coach.unassign"
        };
        web.data
            .record_act(&user, action, &coach, b, now_ms)
            .await?;
        Ok(Some(()))
    }
    .await;
    match done {
        Ok(Some(())) => after_act(&state, &who, &n, &headers).await,
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// The leave form (a confirmation box).
#[derive(Debug, Deserialize)]
pub struct LeaveForm {
    confirm: Option<String>,
}

/// `POST /n/{id}/businesses/{business}/leave`.
pub async fn leave(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((n, business)): Path<(String, String)>,
    Form(f): Form<LeaveForm>,
) -> Response {
    let lang = who.lang;
    if f.confirm.as_deref() != Some("yes") {
        return page_with(
            &state,
            &who,
            &n,
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::at(&format!("leave-{business}"), Texts::of(lang).required_field),
            "",
        )
        .await;
    }
    let user = who.id().to_owned();
    let done: Result<Option<()>, ReadError> = async {
        if !may_act(&who, &n, Some(&business)) {
            return Ok(None);
        }
        crate::admin::business_left(&state.web.storage, &business, now())
            .await
            .map_err(|e| ReadError::Store(act_error(e)))?;
        let now_ms = now().millis();
        state
            .web
            .data
            .record_act(&user, "business.leave", &business, "", now_ms)
            .await?;
        Ok(Some(()))
    }
    .await;
    match done {
        Ok(Some(())) => after_act(&state, &who, &n, &headers).await,
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    handle: String,
}

/// `POST /n/{id}/people/{user}/revoke`: ends one device or browser session of a person of a
/// business of this neighbourhood.
pub async fn revoke_access(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((n, person)): Path<(String, String)>,
    Form(f): Form<RevokeForm>,
) -> Response {
    let lang = who.lang;
    let dir = who.policy.directory();
    let of_hood = dir.roles.get(&person).is_some_and(|r| {
        r.iter().any(|(_, scope)| {
            dir.businesses
                .get(scope)
                .is_some_and(|b| b.neighbourhood == n)
        })
    });
    if !of_hood {
        return super::errors::not_found_in(lang);
    }
    let user = who.id().to_owned();
    let handle: String = f.handle.chars().take(64).collect();
    let done: Result<Option<bool>, StoreError> = async {
        let Some(now_ms) = act_at(&who, &n, None) else {
            return Ok(None);
        };
        let web = &state.web;
        let ended = web.data.revoke_access(&person, &handle, now_ms).await?;
        if ended {
            web.data
                .record_act(&user, "access.revoke", &person, "", now_ms)
                .await?;
        }
        Ok(Some(ended))
    }
    .await;
    match done {
        Ok(Some(_)) => after_act(&state, &who, &n, &headers).await,
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}
