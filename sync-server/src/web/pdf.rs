//! The PDF downloads of the pages (and of `admin report`): the action plan, the assessment
//! result and the neighbourhood summary, built from the same view models the pages show with
//! the same access rules (a document the user may not read is `None`, like a missing one),
//! typeset on a blocking thread, at most [`RENDER_SLOTS`] at a time and one per user.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use nachbar_core::catalogue;
use nachbar_core::label::Lang;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::reports::summary::summary;
use crate::reports::texts::ReportTexts;
use crate::reports::{Report, ReportError, ReportMeta, render};
use crate::web::WebState;
use crate::web::i18n::Texts;
use crate::web::read::ReadError;
use crate::web::session::SignedIn;

/// How many reports are typeset at once (each takes one core for tens of milliseconds).
pub const RENDER_SLOTS: usize = 2;

/// How long a request waits for a slot before it is answered "busy".
const SLOT_WAIT: Duration = Duration::from_secs(15);

static SLOTS: Semaphore = Semaphore::const_new(RENDER_SLOTS);

/// The users with a report being typeset (at most one each, so one user asking again and
/// again holds one slot, not all of them).
static RENDERING: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A user's claim on rendering; released when dropped.
struct UserTurn(String);

impl UserTurn {
    /// The claim of `user`, unless the user already has a report being typeset.
    fn take(user: &str) -> Option<Self> {
        let mut rendering = RENDERING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rendering
            .insert(user.to_owned())
            .then(|| UserTurn(user.to_owned()))
    }
}

impl Drop for UserTurn {
    fn drop(&mut self) {
        RENDERING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.0);
    }
}

/// A rendered report.
#[derive(Debug)]
pub struct Pdf {
    /// The PDF.
    pub bytes: Vec<u8>,
    /// The download's file name (ASCII).
    pub file_name: &'static str,
}

/// Why a report could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// Reading the documents failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Typesetting failed (or this build has no PDF engine).
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Every render slot stayed taken, or the user already has a report being typeset.
    #[error("every report slot is busy")]
    Busy,
}

/// Which findings an assessment result includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Findings {
    /// All of them.
    All,
    /// Only those with these record ids (the business's choice).
    Only(HashSet<String>),
}

async fn rendered<T: Serialize + Send + 'static>(
    who: &SignedIn,
    report: Report,
    meta: ReportMeta,
    data: T,
) -> Result<Pdf, PdfError> {
    let turn = UserTurn::take(who.id()).ok_or(PdfError::Busy)?;
    let permit = tokio::time::timeout(SLOT_WAIT, SLOTS.acquire())
        .await
        .map_err(|_| PdfError::Busy)?
        .map_err(|_| PdfError::Busy)?;
    let lang = meta.lang;
    let bytes = tokio::task::spawn_blocking(move || {
        let _claims = (permit, turn);
        render(report, &meta, &data)
    })
    .await
    .map_err(|e| ReadError::Task(e.to_string()))??;
    Ok(Pdf {
        bytes,
        file_name: report.file_name(lang),
    })
}

fn meta(lang: Lang, title: String, history: bool) -> ReportMeta {
    ReportMeta {
        lang,
        title,
        now_ms: nachbar_core::time::Timestamp::now().millis(),
        history,
    }
}

/// The action plan `doc` in `lang`, with each measure's status history if `history`.
///
/// # Errors
/// On a read or render failure, or when every slot is busy.
pub async fn plan(
    web: &WebState,
    who: &SignedIn,
    doc: &str,
    lang: Lang,
    history: bool,
) -> Result<Option<Pdf>, PdfError> {
    let Some((_, _, page)) = super::pages::plan::load(web, who, doc, lang).await? else {
        return Ok(None);
    };
    let title = format!("{}: {}", ReportTexts::of(lang).plan_title, page.business);
    rendered(who, Report::Plan, meta(lang, title, history), page)
        .await
        .map(Some)
}

/// The result of assessment `doc` in `lang` with the chosen `findings`.
///
/// # Errors
/// On a read or render failure, or when every slot is busy.
pub async fn assessment(
    web: &WebState,
    who: &SignedIn,
    doc: &str,
    lang: Lang,
    findings: &Findings,
) -> Result<Option<Pdf>, PdfError> {
    use super::pages::assessment::{business_name, find, results_of};
    let Some((id, d)) = find(web, who, doc).await? else {
        return Ok(None);
    };
    let people = super::pages::plan::business_people(web, who, &d.business).await?;
    let Some(mut r) = results_of(id, &d, &people.signers(), lang) else {
        return Ok(None);
    };
    if let Findings::Only(ids) = findings {
        r.findings.retain(|(id, _)| ids.contains(id));
    }
    let title = format!(
        "{}: {} ({})",
        ReportTexts::of(lang).results_title,
        business_name(who, &d.business),
        r.stage
    );
    rendered(who, Report::Assessment, meta(lang, title, false), r)
        .await
        .map(Some)
}

/// The summary of neighbourhood `n` in `lang`, for its coordinators and coaches (`None` for
/// anybody else, like a missing neighbourhood).
///
/// # Errors
/// On a read or render failure, or when every slot is busy.
pub async fn neighbourhood(
    web: &WebState,
    who: &SignedIn,
    n: &str,
    lang: Lang,
) -> Result<Option<Pdf>, PdfError> {
    // Only for those who see every workshop of it, so the report is the same for all who may
    // make it (members see only the workshops they are invited to).
    if !who.policy.sees_every_workshop(&who.principal(), n) {
        return Ok(None);
    }
    let Some(i) = super::pages::neighbourhood::inputs(web, who, n).await? else {
        return Ok(None);
    };
    let today = super::views::today(nachbar_core::time::Timestamp::now().millis());
    let s = summary(
        &i.hood,
        &i.profiles,
        &i.workshops,
        catalogue::release_1_0(),
        &today,
        lang,
        Texts::of(lang).not_shared,
    );
    let title = format!("{}: {}", ReportTexts::of(lang).summary_title, s.name);
    rendered(who, Report::Neighbourhood, meta(lang, title, false), s)
        .await
        .map(Some)
}
