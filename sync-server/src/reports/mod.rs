//! PDF reports: the assessment result, the action plan and the neighbourhood summary, in
//! German and English. The data are the same view models the pages show (pure functions of
//! `nachbar-core`'s read models), serialised to JSON and typeset by typst with embedded fonts
//! (behind the default-on cargo feature `pdf`).

#[cfg(feature = "pdf")]
mod engine;
pub mod sanitize;
pub mod summary;
#[cfg(test)]
pub(crate) mod tests;
pub mod texts;

use nachbar_core::label::Lang;
use serde::Serialize;

use crate::web::i18n::Texts;
use crate::web::i18n_business::BusinessTexts;
use crate::web::views::{date, today};
use texts::ReportTexts;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// An action plan.
    Plan,
    /// An assessment's result.
    Assessment,
    /// A neighbourhood's summary.
    Neighbourhood,
}

impl Report {
    /// The typst template.
    pub fn template(self) -> &'static str {
        match self {
            Report::Plan => "plan.typ",
            Report::Assessment => "results.typ",
            Report::Neighbourhood => "summary.typ",
        }
    }

    /// The file name a download gets.
    pub fn file_name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Report::Plan, Lang::De) => "massnahmenplan.pdf",
            (Report::Plan, Lang::En) => "action-plan.pdf",
            (Report::Assessment, Lang::De) => "bestandsaufnahme.pdf",
            (Report::Assessment, Lang::En) => "assessment-result.pdf",
            (Report::Neighbourhood, Lang::De) => "nachbarschaftsbericht.pdf",
            (Report::Neighbourhood, Lang::En) => "neighbourhood-report.pdf",
        }
    }
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// This build has no PDF engine (built without the `pdf` feature).
    #[error("this server was built without PDF reports (cargo feature `pdf`)")]
    Disabled,
    /// The data did not serialise.
    #[error("the report data did not serialise: {0}")]
    Data(#[from] serde_json::Error),
    /// typst refused the template or the data.
    #[error("the report did not compile: {0}")]
    Compile(String),
    /// The PDF export (or its PDF/UA check) failed.
    #[error("the PDF export failed: {0}")]
    Export(String),
    /// The data are more than one report prints (even with every text shortened).
    #[error("the report data take {bytes} bytes, more than the {limit} a report may")]
    TooLarge {
        /// Their size as JSON.
        bytes: usize,
        /// [`MAX_INPUT_BYTES`].
        limit: usize,
    },
}

/// The most data (as JSON, after every text was cut to [`sanitize::MAX_TEXT_CHARS`]) a report
/// is typeset from: an action plan of 1,000 measures with short texts fits, and typesetting
/// time stays bounded.
pub const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;

/// What a report says besides its data.
#[derive(Debug, Clone)]
pub struct ReportMeta {
    /// Its language.
    pub lang: Lang,
    /// Its title (document metadata and first heading).
    pub title: String,
    /// When it is made (ms since the epoch): its date.
    pub now_ms: i64,
    /// Include each measure's status history (the action plan).
    pub history: bool,
}

#[derive(Debug, Serialize)]
struct Day {
    year: i32,
    month: u8,
    day: u8,
}

#[derive(Debug, Serialize)]
struct Meta<'a> {
    lang: &'static str,
    region: &'static str,
    title: &'a str,
    generated: String,
    date: Day,
    history: bool,
}

#[derive(Debug, Serialize)]
struct Envelope<'a, T> {
    meta: Meta<'a>,
    t: &'static ReportTexts,
    bt: &'static BusinessTexts,
    ft: &'static Texts,
    data: &'a T,
}

fn day_of(iso: &str) -> Day {
    let mut parts = iso.split('-').map(|p| p.parse::<i64>().unwrap_or(1));
    let year = parts.next().unwrap_or(1);
    let month = parts.next().unwrap_or(1);
    let day = parts.next().unwrap_or(1);
    Day {
        year: i32::try_from(year).unwrap_or(1),
        month: u8::try_from(month).unwrap_or(1),
        day: u8::try_from(day).unwrap_or(1),
    }
}

/// The JSON `report` is compiled with: the data, the texts and the metadata, every text
/// cleaned for the fonts and shortened ([`sanitize`]).
///
/// # Errors
/// When `data` does not serialise or are larger than [`MAX_INPUT_BYTES`].
pub fn input<T: Serialize>(meta: &ReportMeta, data: &T) -> Result<String, ReportError> {
    let t = ReportTexts::of(meta.lang);
    let iso = today(meta.now_ms);
    let envelope = Envelope {
        meta: Meta {
            lang: Texts::of(meta.lang).lang_code,
            region: t.region,
            title: &meta.title,
            generated: t.generated.replace("{date}", &date(&iso, meta.lang)),
            date: day_of(&iso),
            history: meta.history,
        },
        t,
        bt: BusinessTexts::of(meta.lang),
        ft: Texts::of(meta.lang),
        data,
    };
    let mut value = serde_json::to_value(&envelope)?;
    sanitize::sanitize(&mut value, &drawable);
    let json = serde_json::to_string(&value)?;
    if json.len() > MAX_INPUT_BYTES {
        return Err(ReportError::TooLarge {
            bytes: json.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(json)
}

/// Renders `report` of `data` as PDF (blocking: call it on a blocking thread).
///
/// # Errors
/// When the data do not serialise, typst refuses them, or this build has no PDF engine.
pub fn render<T: Serialize>(
    report: Report,
    meta: &ReportMeta,
    data: &T,
) -> Result<Vec<u8>, ReportError> {
    let json = input(meta, data)?;
    render_json(report, json)
}

#[cfg(feature = "pdf")]
fn render_json(report: Report, json: String) -> Result<Vec<u8>, ReportError> {
    engine::render(report, json)
}

#[cfg(feature = "pdf")]
fn drawable(c: char) -> bool {
    engine::drawable(c)
}

#[cfg(not(feature = "pdf"))]
fn drawable(_c: char) -> bool {
    true
}

#[cfg(not(feature = "pdf"))]
fn render_json(_report: Report, _json: String) -> Result<Vec<u8>, ReportError> {
    Err(ReportError::Disabled)
}

/// Empties typst's memo cache, so the next report is laid out from nothing (benchmarks: the
/// cost of a report whose every part changed).
pub fn forget_layouts() {
    #[cfg(feature = "pdf")]
    typst::comemo::evict(0);
}

/// Whether this build makes PDF reports.
pub const ENABLED: bool = cfg!(feature = "pdf");
