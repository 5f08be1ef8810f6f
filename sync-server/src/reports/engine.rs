//! The typst engine behind the reports: the templates and the DejaVu Sans faces are compiled
//! into the binary (no system fonts are scanned, so every machine renders the same PDF); the
//! report data arrive as one JSON string in `sys.inputs.data`; the PDF is exported tagged and
//! checked against PDF/UA-1 by typst's own validator on every render.

use std::sync::LazyLock;

use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;

use super::{Report, ReportError};

static FONTS: [&[u8]; 3] = [
    include_bytes!("../../reports/fonts/DejaVuSans.ttf"),
    include_bytes!("../../reports/fonts/DejaVuSans-Bold.ttf"),
    include_bytes!("../../reports/fonts/DejaVuSans-Oblique.ttf"),
];

static SOURCES: [(&str, &str); 4] = [
    ("common.typ", include_str!("../../reports/common.typ")),
    ("plan.typ", include_str!("../../reports/plan.typ")),
    ("results.typ", include_str!("../../reports/results.typ")),
    ("summary.typ", include_str!("../../reports/summary.typ")),
];

/// How many compilations typst's memo cache keeps entries for (warm renders reuse the layout
/// of the unchanged parts; older entries are evicted, so the cache stays bounded).
const CACHE_AGE: usize = 4;

static ENGINE: LazyLock<TypstEngine> = LazyLock::new(|| {
    TypstEngine::builder()
        .fonts(FONTS)
        .with_static_source_file_resolver(SOURCES)
        .comemo_evict_max_age(Some(CACHE_AGE))
        .build()
});

/// Which characters each embedded face can draw.
static COVERAGE: LazyLock<Vec<typst::text::Coverage>> = LazyLock::new(|| {
    FONTS
        .iter()
        .filter_map(|data| typst::text::FontInfo::new(data, 0))
        .map(|info| info.coverage)
        .collect()
});

/// Whether every embedded face (regular, bold, oblique) has a glyph for `c`.
pub(super) fn drawable(c: char) -> bool {
    COVERAGE
        .iter()
        .all(|coverage| coverage.contains(u32::from(c)))
}

fn diagnostics(diags: &[typst::diag::SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Compiles `report` with `json` as its data and exports it as a tagged PDF/UA-1 document.
pub(super) fn render(report: Report, json: String) -> Result<Vec<u8>, ReportError> {
    let mut inputs = Dict::new();
    inputs.insert("data".into(), json.into_value());
    let compiled = ENGINE.compile_with_input::<_, _, PagedDocument>(report.template(), inputs);
    let doc = compiled.output.map_err(|e| match e {
        typst_as_lib::TypstAsLibError::TypstSource(d) => ReportError::Compile(diagnostics(&d)),
        other => ReportError::Compile(other.to_string()),
    })?;
    let standards = typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::Ua_1])
        .map_err(|e| ReportError::Export(e.message().to_string()))?;
    let options = typst_pdf::PdfOptions {
        standards,
        ..Default::default()
    };
    typst_pdf::pdf(&doc, &options).map_err(|d| ReportError::Export(diagnostics(&d)))
}
