//! An assessment in the browser: its results for the business and the coach (scores, bands,
//! traffic light, gaps, radar chart, T0 → T1 comparison), and answering it for the coach (the
//! core set or the full catalogue; answers made on the version the page showed, so two people
//! answering at once both count and the page asks to settle them); findings and barriers.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use nachbar_core::DomainError;
use nachbar_core::catalogue::QuestionKind;
use nachbar_core::doc::{Applied, DocKind, EditContext};
use nachbar_core::ids::DocumentId;
use nachbar_core::model::assessment::{
    AssessmentDoc, AssessmentView, ComplianceValue, FindingKind, NewFinding, compare,
};
use serde::Deserialize;

use crate::access::Access;
use crate::routes::AppState;
use crate::web::cache::View;
use crate::web::edit::{self, EditError};
use crate::web::errors::{FieldErrors, domain};
use crate::web::frame::{Frame, render};
use crate::web::i18n_business::BusinessTexts;
use crate::web::read::{self, BusinessDoc};
use crate::web::session::{SignedIn, urlencode};
use crate::web::views::answering::{self, AnswerPage};
use crate::web::views::results::{self, ResultsPage};
use crate::web::{is_htmx, see_other};

use super::plan::parse_heads;

/// The results page.
#[derive(Debug, Template)]
#[template(path = "results.html")]
pub struct ResultsFull {
    /// The frame.
    pub frame: Frame,
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// Document id.
    pub doc: String,
    /// The view.
    pub r: ResultsPage,
    /// The user may answer.
    pub writable: bool,
    /// Event stream.
    pub events: String,
    /// The business's home.
    pub home: String,
}

/// The results' live region.
#[derive(Debug, Template)]
#[template(path = "results_live.html")]
pub struct ResultsLive {
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// The view.
    pub r: ResultsPage,
}

/// The answering page.
#[derive(Debug, Template)]
#[template(path = "answer.html")]
pub struct AnswerFull {
    /// The frame.
    pub frame: Frame,
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// Document id.
    pub doc: String,
    /// The view.
    pub a: AnswerPage,
    /// Errors by field.
    pub errors: FieldErrors,
    /// Event stream.
    pub events: String,
    /// The business's home.
    pub home: String,
    /// `?all=1` when the full catalogue is shown.
    pub mode: String,
}

/// The answering page's live region, also the answer to htmx edits.
#[derive(Debug, Template)]
#[template(path = "answer_live.html")]
pub struct AnswerLive {
    /// Texts of these pages.
    pub bt: &'static BusinessTexts,
    /// Document id.
    pub doc: String,
    /// The view.
    pub a: AnswerPage,
    /// Errors by field.
    pub errors: FieldErrors,
    /// `?all=1` when the full catalogue is shown.
    pub mode: String,
}

/// Which questions the answering page shows.
#[derive(Debug, Default, Deserialize)]
pub struct Mode {
    #[serde(default)]
    all: Option<String>,
}

impl Mode {
    fn all(&self) -> bool {
        self.all.as_deref() == Some("1")
    }

    fn query(&self) -> String {
        if self.all() {
            "?all=1".to_owned()
        } else {
            String::new()
        }
    }
}

/// The assessment `doc` with its business's documents; `None` when missing or denied.
///
/// # Errors
/// On a database error, or a stored document that does not load.
pub async fn find(
    web: &crate::web::WebState,
    who: &SignedIn,
    doc: &str,
) -> Result<Option<(DocumentId, BusinessDoc)>, read::ReadError> {
    let Some(id) = super::doc_id(doc) else {
        return Ok(None);
    };
    Ok(read::business_doc(web, who, id, DocKind::Assessment)
        .await?
        .map(|d| (id, d)))
}

fn assessment(d: &BusinessDoc) -> Option<(&AssessmentView, &[String])> {
    match &d.this.view {
        View::Assessment(a, heads) => Some((a, heads)),
        _ => None,
    }
}

/// The results of assessment `id`, compared with the newest earlier assessment of the
/// business; `None` when `d` is not an assessment or its catalogue release is unknown.
pub fn results_of(
    id: DocumentId,
    d: &BusinessDoc,
    signers: &crate::web::views::signers::Signers<'_>,
    lang: nachbar_core::label::Lang,
) -> Option<ResultsPage> {
    let (a, _) = assessment(d)?;
    let earlier = d
        .all
        .iter()
        .take_while(|(other, _)| *other != id)
        .filter_map(|(_, h)| match &h.view {
            View::Assessment(b, _) => Some(b),
            _ => None,
        })
        .last();
    let release = nachbar_core::catalogue::builtin(&a.catalogue_release).ok()?;
    let cmp = earlier.map(|b| (b.stage.clone(), compare(b, a, release)));
    Some(results::page(
        a,
        cmp.as_ref().map(|(s, c)| (s.as_str(), c)),
        signers,
        lang,
    ))
}

async fn show_results(state: &AppState, who: &SignedIn, doc: &str, fragment: bool) -> Response {
    let lang = who.lang;
    let bt = BusinessTexts::of(lang);
    let (id, d) = match find(&state.web, who, doc).await {
        Ok(Some(found)) => found,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let people = match super::plan::business_people(&state.web, who, &d.business).await {
        Ok(p) => p,
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let Some(r) = results_of(id, &d, &people.signers(), lang) else {
        return super::errors::not_found_in(lang);
    };
    if fragment {
        return render(StatusCode::OK, &ResultsLive { bt, r });
    }
    let name = business_name(who, &d.business);
    let path = format!("/a/{id}/results");
    render(
        StatusCode::OK,
        &ResultsFull {
            frame: Frame::new(
                lang,
                format!("{}: {name}", bt.results_title),
                Some(who),
                &path,
                None,
            ),
            bt,
            doc: id.to_string(),
            r,
            writable: d.access == Access::Write,
            events: format!("/events?page={}", urlencode(&path)),
            home: format!("/b/{}", urlencode(&d.business)),
        },
    )
}

/// The name of `business` in the directory `who` sees ("" when unknown).
pub fn business_name(who: &SignedIn, business: &str) -> String {
    who.policy
        .directory()
        .businesses
        .get(business)
        .map(|b| b.name.clone())
        .unwrap_or_default()
}

/// `GET /a/{doc}/results`.
pub async fn results(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
) -> Response {
    show_results(&state, &who, &doc, false).await
}

/// `GET /a/{doc}/results/live`.
pub async fn results_live(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
) -> Response {
    show_results(&state, &who, &doc, true).await
}

async fn respond(
    state: &AppState,
    who: &SignedIn,
    doc: &str,
    mode: &Mode,
    status: StatusCode,
    errors: FieldErrors,
    fragment: bool,
) -> Response {
    let lang = who.lang;
    let bt = BusinessTexts::of(lang);
    let (id, d) = match find(&state.web, who, doc).await {
        Ok(Some(found)) => found,
        Ok(None) => return super::errors::not_found_in(lang),
        Err(e) => return super::errors::from_read(&e, lang),
    };
    let Some((a, heads)) = assessment(&d) else {
        return super::errors::not_found_in(lang);
    };
    if d.access != Access::Write {
        // Readers see the results; answering is for those who may edit.
        return see_other(&format!("/a/{id}/results"));
    }
    let Ok(release) = nachbar_core::catalogue::builtin(&a.catalogue_release) else {
        return super::errors::not_found_in(lang);
    };
    let page = answering::page(a, release, heads, mode.all(), lang);
    if fragment {
        return render(
            status,
            &AnswerLive {
                bt,
                doc: id.to_string(),
                a: page,
                errors,
                mode: mode.query(),
            },
        );
    }
    let name = business_name(who, &d.business);
    let path = format!("/a/{id}");
    render(
        status,
        &AnswerFull {
            frame: Frame::new(
                lang,
                format!("{} {}: {name}", bt.assessment, a.stage),
                Some(who),
                &path,
                None,
            ),
            bt,
            doc: id.to_string(),
            a: page,
            errors,
            events: format!("/events?page={}", urlencode(&path)),
            home: format!("/b/{}", urlencode(&d.business)),
            mode: mode.query(),
        },
    )
}

/// `GET /a/{doc}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
    Query(mode): Query<Mode>,
) -> Response {
    respond(
        &state,
        &who,
        &doc,
        &mode,
        StatusCode::OK,
        FieldErrors::none(),
        false,
    )
    .await
}

/// `GET /a/{doc}/live`.
pub async fn live_fragment(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    Path(doc): Path<String>,
    Query(mode): Query<Mode>,
) -> Response {
    respond(
        &state,
        &who,
        &doc,
        &mode,
        StatusCode::OK,
        FieldErrors::none(),
        true,
    )
    .await
}

/// Runs one edit and answers: the fragment for htmx, else 303 to the page; a refused edit
/// shows its error (422) and stores nothing.
#[allow(clippy::too_many_arguments)]
async fn edit_and_answer(
    state: &AppState,
    who: &SignedIn,
    headers: &HeaderMap,
    doc: &str,
    mode: &Mode,
    seen: &[automerge::ChangeHash],
    f: impl FnOnce(&mut AssessmentDoc, &EditContext) -> Result<((), Applied), DomainError>,
) -> Response {
    let lang = who.lang;
    let htmx = is_htmx(headers);
    let Some(id) = super::doc_id(doc) else {
        return super::errors::not_found_in(lang);
    };
    match edit::edit_at::<AssessmentDoc, ()>(state, who, id, seen, f).await {
        Ok(()) if htmx => {
            respond(
                state,
                who,
                doc,
                mode,
                StatusCode::OK,
                FieldErrors::none(),
                true,
            )
            .await
        }
        Ok(()) => see_other(&format!("/a/{id}{}", mode.query())),
        Err(EditError::Domain(e)) => {
            respond(
                state,
                who,
                doc,
                mode,
                StatusCode::UNPROCESSABLE_ENTITY,
                domain(&e, lang),
                htmx,
            )
            .await
        }
        Err(e) => super::errors::from_edit(&e, lang),
    }
}

/// The answer form of one question.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    relevance: String,
    #[serde(default)]
    unknown: Option<String>,
    #[serde(default)]
    not_applicable: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    heads: String,
}

fn number(field: &'static str, s: &str) -> Result<i64, DomainError> {
    s.trim().parse().map_err(|_| DomainError::InvalidValue {
        field,
        value: s.chars().take(20).collect(),
    })
}

/// Writes what the form changed of question `q`'s answer (nothing else), in one submission.
fn write_answer(
    a: &mut AssessmentDoc,
    ctx: &EditContext,
    q: &str,
    f: &AnswerForm,
) -> Result<Applied, DomainError> {
    let view = a.view()?;
    let item = view
        .items
        .iter()
        .find(|i| i.id == q)
        .ok_or_else(|| DomainError::UnknownQuestion(q.chars().take(20).collect()))?;
    let current = item.answer.clone();
    let kind = item.kind;
    let mut last = Applied {
        change: None,
        heads: a.inner().heads(),
    };
    let value = f.value.trim();
    if !value.is_empty() {
        match kind {
            QuestionKind::Level => {
                let level = number("level", value)?;
                if current.level.map(i64::from) != Some(level) {
                    last = a.set_level(ctx, q, level)?;
                }
            }
            QuestionKind::Compliance => {
                let v = ComplianceValue::parse(value)?;
                if current.value != Some(v) {
                    last = a.set_compliance(ctx, q, v)?;
                }
            }
        }
    }
    if !f.relevance.trim().is_empty() {
        let r = number("relevance", &f.relevance)?;
        if i64::from(current.relevance) != r {
            last = a.set_relevance(ctx, q, r)?;
        }
    }
    let unknown = f.unknown.is_some();
    if unknown != current.unknown {
        last = a.set_unknown(ctx, q, unknown)?;
    }
    let not_applicable = f.not_applicable.is_some();
    if not_applicable != current.not_applicable {
        last = a.set_not_applicable(ctx, q, not_applicable)?;
    }
    if let Some(note) = &f.note
        && *note != current.note
    {
        last = a.set_answer_note(ctx, q, note)?;
    }
    Ok(last)
}

/// `POST /a/{doc}/answers/{q}`: on the version the page showed.
pub async fn answer(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path((doc, q)): Path<(String, String)>,
    Query(mode): Query<Mode>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let seen = parse_heads(&f.heads);
    edit_and_answer(&state, &who, &headers, &doc, &mode, &seen, move |a, ctx| {
        Ok(((), write_answer(a, ctx, &q, &f)?))
    })
    .await
}

/// The resolve form.
#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    field: String,
    value: String,
}

/// `POST /a/{doc}/resolve`: writes the chosen one of an answer's concurrent values.
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Query(mode): Query<Mode>,
    Form(f): Form<ResolveForm>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, &mode, &[], move |a, ctx| {
        nachbar_core::doc::ensure_offered(&a.needs_review()?, &f.field, &f.value)?;
        Ok(((), a.resolve(ctx, &f.field, &f.value)?))
    })
    .await
}

/// The finding form.
#[derive(Debug, Deserialize)]
pub struct FindingForm {
    area: String,
    title: String,
    #[serde(default)]
    description: String,
    kind: String,
    #[serde(default)]
    severity: String,
}

/// `POST /a/{doc}/findings`.
pub async fn add_finding(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Query(mode): Query<Mode>,
    Form(f): Form<FindingForm>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, &mode, &[], move |a, ctx| {
        let severity = if f.severity.trim().is_empty() {
            2
        } else {
            number("severity", &f.severity)?
        };
        let severity = u8::try_from(severity)
            .ok()
            .filter(|s| (1..=3).contains(s))
            .ok_or(DomainError::OutOfRange {
                field: "severity",
                value: severity,
                min: 1,
                max: 3,
            })?;
        let new = NewFinding {
            area: f.area.trim().to_owned(),
            questions: vec![],
            kind: FindingKind::parse(&f.kind)?,
            title: f.title,
            description: f.description,
            severity,
            barriers: vec![],
        };
        let (_, applied) = a.add_finding(ctx, &new)?;
        Ok(((), applied))
    })
    .await
}

/// `POST /a/{doc}/barriers`: the ticked barriers (`b_<id>` checkboxes) replace the others.
pub async fn set_barriers(
    State(state): State<Arc<AppState>>,
    who: SignedIn,
    headers: HeaderMap,
    Path(doc): Path<String>,
    Query(mode): Query<Mode>,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    edit_and_answer(&state, &who, &headers, &doc, &mode, &[], move |a, ctx| {
        let release = a.release()?;
        let current = a.view()?.barriers;
        let mut last = Applied {
            change: None,
            heads: a.inner().heads(),
        };
        for b in &release.barriers {
            let ticked = f.contains_key(&format!("b_{}", b.id));
            if ticked != current.contains(&b.id) {
                last = a.set_barrier(ctx, &b.id, ticked)?;
            }
        }
        Ok(((), last))
    })
    .await
}
