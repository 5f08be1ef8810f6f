//! A business's action plan: measures by status and quadrant, status changes, due dates and
//! owners, progress notes, restoring removed measures, settling concurrent values, duplicate
//! hints and merging, goals, reordering, and the sign-off bound to the heads the page showed
//! (409 with the refreshed plan when the plan changed since). Every edit is one submission of
//! typed core edits through the hub's durable path; htmx gets the live region back.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nachbar_core::DomainError;
use nachbar_core::doc::{Applied, EditContext};
use nachbar_core::ids::DocumentId;
use nachbar_core::model::SignOffRole;
use nachbar_core::model::action_plan::{ActionPlanDoc, MeasurePatch, MeasureStatus, NewMeasure};
use serde::Deserialize;

use crate::access::{Access, roles};
use crate::routes::AppState;
use crate::web::cache::View;
use crate::web::edit::{self, EditError};
use crate::web::errors::{FieldErrors, domain};
use crate::web::frame::{Frame, render};
use crate::web::i18n_business::BusinessTexts;
use crate::web::read;
use crate::web::session::{SignedIn, urlencode};
use crate::web::views::plan::{PlanContext, PlanPage, Viewer, page};
use crate::web::views::signers::Signers;
use crate::web::views::today;
use crate::web::{is_htmx, see_other};

/// A notice above the plan after an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Nothing to say.
    None,
    /// The sign-off was saved.
    Signed,
    /// The plan changed since the page was opened (409).
    ChangedSince,
}

/// The action plan page.
#[derive(Debug, Template)]
#[template(path = "plan.html")]
pub struct PlanFull {
    /// The frame.
    pub frame: Frame,
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// Document id.
    pub doc: String,
    /// The view.
    pub p: PlanPage,
    /// Errors by field.
    pub errors: FieldErrors,
    /// The notice.
    pub notice: Notice,
    /// Event stream of the live region.
    pub events: String,
    /// The business's home.
    pub home: String,
}

/// The live region, also the answer to htmx edits.
#[derive(Debug, Template)]
#[template(path = "plan_live.html")]
pub struct PlanLive {
    /// The frame (texts).
    pub frame: Frame,
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// Document id.
    pub doc: String,
    /// The view.
    pub p: PlanPage,
    /// Errors by field.
    pub errors: FieldErrors,
    /// The notice.
    pub notice: Notice,
}

/// The role `who` signs off a document of `business` in: owner before coach; staff do not.
pub fn sign_off_role(who: &SignedIn, business: &str) -> Option<SignOffRole> {
    if who.has(roles::OWNER, business) {
        Some(SignOffRole::Owner)
    } else if who.has(roles::COACH, business) {
        Some(SignOffRole::Coach)
    } else {
        None
    }
}

/// What the plan page needs of the business: its name, every person's name, and who can own
/// a measure (owners and staff).
#[derive(Debug, Clone, Default)]
pub struct BusinessPeople {
    /// Name of the business.
    pub name: String,
    /// Names by user id (owners, staff, coaches).
    pub names: BTreeMap<String, String>,
    /// Owners and staff: (user id, name).
    pub members: Vec<(String, String)>,
    /// User ids of the owners.
    pub owners: Vec<String>,
    /// User ids of the coaches.
    pub coaches: Vec<String>,
}

impl BusinessPeople {
    /// Who may sign off for the business.
    pub fn signers(&self) -> Signers<'_> {
        Signers {
            owners: &self.owners,
            coaches: &self.coaches,
        }
    }
}

/// The people of `business`.
///
/// # Errors
/// On a database error.
pub async fn business_people(
    web: &crate::web::WebState,
    who: &SignedIn,
    business: &str,
) -> Result<BusinessPeople, read::ReadError> {
    let b = business.to_owned();
    let people = web.data.people_of_business(&b).await?;
    Ok(BusinessPeople {
        name: who
            .policy
            .directory()
            .businesses
            .get(business)
            .map(|e| e.name.clone())
            .unwrap_or_default(),
        names: people
            .iter()
            .map(|p| (p.user.clone(), p.name.clone()))
            .collect(),
        members: people
            .iter()
            .filter(|p| p.role != roles::COACH)
            .map(|p| (p.user.clone(), p.name.clone()))
            .collect(),
        owners: people
            .iter()
            .filter(|p| p.role == roles::OWNER)
            .map(|p| p.user.clone())
            .collect(),
        coaches: people
            .iter()
            .filter(|p| p.role == roles::COACH)
            .map(|p| p.user.clone())
            .collect(),
    })
}

/// The plan, its page in `lang` and the business; `None` when missing or denied.
///
/// # Errors
/// On a database error, or a stored document that does not load.
pub async fn load(
    web: &crate::web::WebState,
    who: &SignedIn,
    doc: &str,
    lang: nachbar_core::label::Lang,
) -> Result<Option<(DocumentId, String, PlanPage)>, read::ReadError> {
    let Some(id) = super::doc_id(doc) else {
        return Ok(None);
    };
    let Some(found) =
        read::business_doc(web, who, id, nachbar_core::doc::DocKind::ActionPlan).await?
    else {
        return Ok(None);
    };
    let View::Plan(view, heads) = &found.this.view else {
        return Ok(None);
    };
    let business = found.business.clone();
    let people = business_people(web, who, &business).await?;
    let viewer = Viewer {
        writable: found.access == Access::Write,
        signs_as: sign_off_role(who, &business),
    };
    // Findings of the business's assessments, newest assessment first.
    let findings: Vec<(String, String)> = found
        .all
        .iter()
        .rev()
        .filter_map(|(_, h)| match &h.view {
            View::Assessment(a, _) => Some(a),
            _ => None,
        })
        .flat_map(|a| a.findings.iter().filter(|f| !f.removal.deleted))
        .map(|f| (f.id.clone(), f.title.clone()))
        .collect();
    let now = nachbar_core::time::Timestamp::now().millis();
    let p = page(
        view,
        heads,
        &PlanContext {
            business: &people.name,
            names: &people.names,
            people: &people.members,
            findings: &findings,
            signers: people.signers(),
            today: &today(now),
            viewer,
            lang,
        },
    );
    Ok(Some((id, business, p)))
}

async fn respond(
    state: &AppState,
    who: &SignedIn,
    doc: &str,
    status: StatusCode,
    errors: FieldErrors,
    notice: Notice,
    fragment: bool,
) -> Response {
    let lang = who.lang;
    let bt = BusinessTexts::of(lang);
    match load(&state.web, who, doc, lang).await {
        Ok(Some((id, business, p))) => {
            let path = format!("/p/{id}");
            let title = format!("{}: {}", bt.action_plan, p.business);
            let frame = Frame::new(lang, title, Some(who), &path, None);
            let doc = id.to_string();
            if fragment {
                render(
                    status,
                    &PlanLive {
                        frame,
                        bt,
                        doc,
                        p,
                        errors,
                        notice,
                    },
                )
            } else {
                render(
                    status,
                    &PlanFull {
                        frame,
                        bt,
                        doc,
                        p,
                        errors,
                        notice,
                        events: format!("/events?page={}", urlencode(&path)),
                        home: format!("/b/{}", urlencode(&business)),
                    },
                )
            }
        }
        Ok(None) => super::errors::not_found_in(lang),
        Err(e) => super::errors::from_read(&e, lang),
    }
}

/// `GET /p/{doc}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
) -> Response {
    respond(
        &state,
        &who,
        &doc,
        StatusCode::OK,
        FieldErrors::none(),
        Notice::None,
        false,
    )
    .await
}

/// `GET /p/{doc}/live`.
pub async fn live_fragment(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
) -> Response {
    respond(
        &state,
        &who,
        &doc,
        StatusCode::OK,
        FieldErrors::none(),
        Notice::None,
        true,
    )
    .await
}

/// `GET /p/{doc}/measures.csv`: the plan's active measures (same access as the page).
pub async fn csv(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
    axum::extract::Query(q): axum::extract::Query<crate::web::export::CsvQuery>,
) -> Response {
    let lang = who.lang;
    let Ok(format) = crate::web::export::CsvFormat::of(lang, &q) else {
        return super::errors::bad_request(lang);
    };
    let Some(id) = super::doc_id(&doc) else {
        return super::errors::not_found_in(lang);
    };
    let found = match read::business_doc(
        &state.web,
        &who,
        id,
        nachbar_core::doc::DocKind::ActionPlan,
    )
    .await
    {
        Ok(Some(f)) => f,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let View::Plan(view, _) = &found.this.view else {
        return super::errors::not_found_in(lang);
    };
    let people = match business_people(&state.web, &who, &found.business).await {
        Ok(p) => p,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let rows = crate::web::views::plan::csv_rows(view, &people.names, lang);
    match crate::web::export::table(format, &crate::web::views::plan::csv_head(lang), rows) {
        Ok(bytes) => crate::web::export::response(bytes, "massnahmen.csv"),
        Err(_) => super::errors::unavailable(lang),
    }
}

/// Runs one edit and answers: the fragment for htmx, else 303 to the page; a refused edit
/// shows its error at the field (422) and stores nothing; a sign-off of a stale page is 409.
async fn edit_and_answer(
    state: &AppState,
    who: &SignedIn,
    headers: &HeaderMap,
    doc: &str,
    seen: &[automerge::ChangeHash],
    done: Notice,
    f: impl FnOnce(&mut ActionPlanDoc, &EditContext) -> Result<((), Applied), DomainError>,
) -> Response {
    let lang = who.lang;
    let htmx = is_htmx(headers);
    let Some(id) = super::doc_id(doc) else {
        return super::errors::not_found_in(lang);
    };
    let answer = |status, errors, notice| respond(state, who, doc, status, errors, notice, htmx);
    match edit::edit_at::<ActionPlanDoc, ()>(state, who, id, seen, f).await {
        Ok(()) if htmx => answer(StatusCode::OK, FieldErrors::none(), done).await,
        Ok(()) => see_other(&format!("/p/{id}")),
        Err(EditError::Domain(DomainError::ChangedSince)) => {
            answer(
                StatusCode::CONFLICT,
                FieldErrors::none(),
                Notice::ChangedSince,
            )
            .await
        }
        Err(EditError::Domain(e)) => {
            answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                domain(&e, lang),
                Notice::None,
            )
            .await
        }
        Err(e) => super::errors::from_edit(&e, lang),
    }
}

fn optional_score(field: &'static str, s: &str) -> Result<Option<u8>, DomainError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let n: i64 = s.parse().map_err(|_| DomainError::InvalidValue {
        field,
        value: s.chars().take(20).collect(),
    })?;
    u8::try_from(n)
        .ok()
        .filter(|v| (1..=5).contains(v))
        .map(Some)
        .ok_or(DomainError::OutOfRange {
            field,
            value: n,
            min: 1,
            max: 5,
        })
}

/// An owner chosen in a form: one of the business's owners and staff, or nobody ("").
fn owner_choice(members: &[(String, String)], chosen: &str) -> Result<String, DomainError> {
    if chosen.is_empty() || members.iter().any(|(id, _)| id == chosen) {
        Ok(chosen.to_owned())
    } else {
        Err(DomainError::InvalidValue {
            field: "owner",
            value: chosen.chars().take(40).collect(),
        })
    }
}

/// What forms of the plan may name: the business's owners and staff (owner choices) and the
/// findings of its assessments; `None` when the plan is missing or denied.
async fn choices_of_plan(
    state: &AppState,
    who: &SignedIn,
    doc: &str,
) -> Option<(Vec<(String, String)>, Vec<String>)> {
    let id = super::doc_id(doc)?;
    let found = read::business_doc(&state.web, who, id, nachbar_core::doc::DocKind::ActionPlan)
        .await
        .ok()
        .flatten()?;
    let findings = found
        .all
        .iter()
        .filter_map(|(_, h)| match &h.view {
            View::Assessment(a, _) => Some(a),
            _ => None,
        })
        .flat_map(|a| {
            a.findings
                .iter()
                .filter(|f| !f.removal.deleted)
                .map(|f| f.id.clone())
        })
        .collect();
    let members = business_people(&state.web, who, &found.business)
        .await
        .ok()?
        .members;
    Some((members, findings))
}

/// The status form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    heads: String,
}

/// `POST /p/{doc}/measures/{m}/status`.
pub async fn set_status(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
    Form(f): Form<StatusForm>,
) -> Response {
    // On the version the form showed: two people changing a status at once both count.
    let seen = parse_heads(&f.heads);
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &seen,
        Notice::None,
        move |p, ctx| {
            let status = MeasureStatus::parse(&f.status)?;
            Ok(((), p.set_measure_status(ctx, &m, status, &f.note)?))
        },
    )
    .await
}

/// The due-date-and-owner form.
#[derive(Debug, Deserialize)]
pub struct DueForm {
    due: String,
    owner: String,
    #[serde(default)]
    heads: String,
}

/// `POST /p/{doc}/measures/{m}/due`: due date and owner in one change.
pub async fn set_due(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
    Form(f): Form<DueForm>,
) -> Response {
    let Some((members, _)) = choices_of_plan(&state, &who, &doc).await else {
        return super::errors::not_found_in(who.lang);
    };
    let seen = parse_heads(&f.heads);
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &seen,
        Notice::None,
        move |p, ctx| {
            let patch = MeasurePatch {
                due: Some(f.due.trim().to_owned()),
                owner: Some(owner_choice(&members, f.owner.trim())?),
                ..MeasurePatch::default()
            };
            Ok(((), p.update_measure(ctx, &m, &patch)?))
        },
    )
    .await
}

/// The progress form.
#[derive(Debug, Deserialize)]
pub struct ProgressForm {
    progress_note: String,
}

/// `POST /p/{doc}/measures/{m}/progress`.
pub async fn set_progress(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
    Form(f): Form<ProgressForm>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| {
            let patch = MeasurePatch {
                progress_note: Some(f.progress_note),
                ..MeasurePatch::default()
            };
            Ok(((), p.update_measure(ctx, &m, &patch)?))
        },
    )
    .await
}

/// The edit form of a measure.
#[derive(Debug, Deserialize)]
pub struct EditForm {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    effort: String,
    #[serde(default)]
    cost_once: String,
    #[serde(default)]
    cost_recurring: String,
    #[serde(default)]
    funding_programme: String,
    #[serde(default)]
    funding_state: String,
}

/// A whole amount of euros from a form; "" leaves the value as it is.
fn optional_euros(field: &'static str, s: &str) -> Result<Option<i64>, DomainError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| DomainError::InvalidValue {
        field,
        value: s.chars().take(20).collect(),
    })
}

/// `POST /p/{doc}/measures/{m}/edit`: title, description, ratings, costs and funding in one
/// change (empty numbers and funding fields leave what is stored).
pub async fn edit_measure(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
    Form(f): Form<EditForm>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| {
            let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
            let patch = MeasurePatch {
                title: Some(f.title),
                description: Some(f.description),
                impact: optional_score("impact", &f.impact)?,
                effort_score: optional_score("effort_score", &f.effort)?,
                cost_once_eur: optional_euros("cost_once_eur", &f.cost_once)?,
                cost_recurring_eur: optional_euros("cost_recurring_eur", &f.cost_recurring)?,
                funding_programme: nonempty(&f.funding_programme),
                funding_state: nonempty(&f.funding_state)
                    .map(|s| nachbar_core::model::action_plan::FundingState::parse(&s))
                    .transpose()?,
                ..MeasurePatch::default()
            };
            Ok(((), p.update_measure(ctx, &m, &patch)?))
        },
    )
    .await
}

/// `POST /p/{doc}/measures/{m}/restore`.
pub async fn restore(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| Ok(((), p.restore_measure(ctx, &m)?)),
    )
    .await
}

/// `POST /p/{doc}/measures/{m}/remove`.
pub async fn remove(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| Ok(((), p.remove_measure(ctx, &m)?)),
    )
    .await
}

/// The move form: place the measure after one and before another.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    after: Option<String>,
    before: Option<String>,
}

/// `POST /p/{doc}/measures/{m}/move`.
pub async fn move_measure(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
    Form(f): Form<MoveForm>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| {
            let after = f.after.as_deref().filter(|s| !s.is_empty());
            let before = f.before.as_deref().filter(|s| !s.is_empty());
            Ok(((), p.move_measure(ctx, &m, after, before)?))
        },
    )
    .await
}

/// The merge form.
#[derive(Debug, Deserialize)]
pub struct MergeForm {
    into: String,
}

/// `POST /p/{doc}/measures/{m}/merge`: the duplicate `m` is merged into `into`.
pub async fn merge(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, m)): Path<(String, String)>,
    Form(f): Form<MergeForm>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| Ok(((), p.merge_measures(ctx, &m, &f.into)?)),
    )
    .await
}

/// The new-measure form.
#[derive(Debug, Deserialize)]
pub struct MeasureForm {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    goal: String,
    #[serde(default)]
    finding: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    effort: String,
}

/// `POST /p/{doc}/measures`.
pub async fn add_measure(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<MeasureForm>,
) -> Response {
    let Some((members, known_findings)) = choices_of_plan(&state, &who, &doc).await else {
        return super::errors::not_found_in(who.lang);
    };
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| {
            let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
            let goal = nonempty(&f.goal);
            if let Some(g) = &goal
                && !p.view()?.goals.iter().any(|x| &x.id == g)
            {
                return Err(DomainError::UnknownRecord {
                    kind: "goal",
                    id: g.chars().take(40).collect(),
                });
            }
            let area = nonempty(&f.area);
            if let Some(a) = &area
                && nachbar_core::catalogue::release_1_0().area(a).is_none()
            {
                return Err(DomainError::InvalidValue {
                    field: "area",
                    value: a.chars().take(20).collect(),
                });
            }
            let finding = nonempty(&f.finding);
            if let Some(x) = &finding
                && !known_findings.contains(x)
            {
                return Err(DomainError::UnknownRecord {
                    kind: "finding",
                    id: x.chars().take(40).collect(),
                });
            }
            let new = NewMeasure {
                title: f.title,
                description: f.description,
                area,
                goal,
                findings: finding.into_iter().collect(),
                owner: nonempty(&owner_choice(&members, f.owner.trim())?),
                due: nonempty(&f.due),
                impact: optional_score("impact", &f.impact)?,
                effort_score: optional_score("effort_score", &f.effort)?,
            };
            let (_, applied) = p.add_measure(ctx, &new)?;
            Ok(((), applied))
        },
    )
    .await
}

/// The goal form.
#[derive(Debug, Deserialize)]
pub struct GoalForm {
    title: String,
    #[serde(default)]
    kpi: String,
    #[serde(default)]
    target_date: String,
}

/// `POST /p/{doc}/goals`.
pub async fn add_goal(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<GoalForm>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| {
            let target = Some(f.target_date.trim()).filter(|s| !s.is_empty());
            let (_, applied) = p.add_goal(ctx, &f.title, &f.kpi, target)?;
            Ok(((), applied))
        },
    )
    .await
}

/// The resolve form.
#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    field: String,
    value: String,
}

/// `POST /p/{doc}/resolve`: writes the chosen one of a field's concurrent values.
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<ResolveForm>,
) -> Response {
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::None,
        move |p, ctx| {
            nachbar_core::doc::ensure_offered(&p.needs_review()?, &f.field, &f.value)?;
            Ok(((), p.resolve(ctx, &f.field, &f.value)?))
        },
    )
    .await
}

/// The sign-off form: the heads the page showed.
#[derive(Debug, Deserialize)]
pub struct SignOffForm {
    heads: String,
}

/// Heads from a form field (comma-separated hex); malformed ones make the set unknown, which
/// reads as "changed since".
pub fn parse_heads(s: &str) -> Vec<automerge::ChangeHash> {
    let parts: Vec<&str> = s.split(',').filter(|h| !h.trim().is_empty()).collect();
    if parts.len() > MAX_HEADS {
        return Vec::new();
    }
    let parsed: Option<Vec<automerge::ChangeHash>> =
        parts.iter().map(|h| h.trim().parse().ok()).collect();
    parsed.unwrap_or_default()
}

/// Most heads a form may name (more reads as unknown: the current version).
pub const MAX_HEADS: usize = 64;

/// `POST /p/{doc}/sign-off`: the owner or the coach agrees to the version the page showed.
pub async fn sign_off(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Form(f): Form<SignOffForm>,
) -> Response {
    let lang = who.lang;
    let Some(id) = super::doc_id(&doc) else {
        return super::errors::not_found_in(lang);
    };
    // The plan's business from the cached read model (the edit itself loads the document).
    let Ok(Some(found)) =
        read::business_doc(&state.web, &who, id, nachbar_core::doc::DocKind::ActionPlan).await
    else {
        return super::errors::not_found_in(lang);
    };
    let business = found.business;
    let Some(role) = sign_off_role(&who, &business) else {
        let bt = BusinessTexts::of(lang);
        return respond(
            &state,
            &who,
            &doc,
            StatusCode::FORBIDDEN,
            FieldErrors::at("_form", bt.sign_off_only_owner_coach),
            Notice::None,
            is_htmx(&headers),
        )
        .await;
    };
    let seen = parse_heads(&f.heads);
    edit_and_answer(
        &state,
        &who,
        &headers,
        &doc,
        &[],
        Notice::Signed,
        move |p, ctx| Ok(((), p.sign_off_seen(ctx, role, &seen)?)),
    )
    .await
}
