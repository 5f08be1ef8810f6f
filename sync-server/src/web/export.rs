//! CSV downloads: UTF-8, with a byte-order mark and `;` for German spreadsheet programs, `,`
//! in English, or the separator the link asks for (`?sep=semicolon|comma`); cells a
//! spreadsheet would run as a formula are quoted with `'`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nachbar_core::label::Lang;
use serde::Deserialize;

use super::views::home::csv_safe;

/// The `?sep=` of a CSV link.
#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    sep: Option<String>,
}

/// How a CSV file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvFormat {
    /// The separator.
    pub delimiter: u8,
    /// Starts with a UTF-8 byte-order mark.
    pub bom: bool,
}

/// A separator the link named that is neither `semicolon` nor `comma`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown separator")]
pub struct UnknownSeparator;

impl CsvFormat {
    /// The format for `lang`, or the separator `query` asks for.
    ///
    /// # Errors
    /// [`UnknownSeparator`] for any other `sep`.
    pub fn of(lang: Lang, query: &CsvQuery) -> Result<CsvFormat, UnknownSeparator> {
        let delimiter = match query.sep.as_deref() {
            None => {
                if lang == Lang::De {
                    b';'
                } else {
                    b','
                }
            }
            Some("semicolon") => b';',
            Some("comma") => b',',
            Some(_) => return Err(UnknownSeparator),
        };
        Ok(CsvFormat {
            delimiter,
            // The mark tells Excel the file is UTF-8 (umlauts), whatever the separator.
            bom: true,
        })
    }
}

/// A table as CSV: the head, then the rows; every cell made formula-safe.
///
/// # Errors
/// Only if writing to memory fails.
pub fn table(
    format: CsvFormat,
    head: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    if format.bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(format.delimiter)
        .from_writer(&mut out);
    w.write_record(head.iter().map(|h| csv_safe(h)))?;
    for row in rows {
        w.write_record(row.iter().map(|c| csv_safe(c)))?;
    }
    w.flush()?;
    drop(w);
    Ok(out)
}

/// The download response of CSV `bytes` named `filename` (ASCII).
pub fn response(bytes: Vec<u8>, filename: &str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_files_use_semicolons_and_every_file_a_byte_order_mark() {
        let q = CsvQuery::default();
        let de = CsvFormat::of(Lang::De, &q).unwrap();
        let bytes = table(
            de,
            &["Maßnahme", "Kosten"],
            [vec!["=HYPERLINK(x)".to_owned(), "1.200 €".to_owned()]],
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text, "\u{feff}Maßnahme;Kosten\n'=HYPERLINK(x);1.200 €\n");
        let en = CsvFormat::of(Lang::En, &q).unwrap();
        assert_eq!(en.delimiter, b',');
        let chosen = CsvFormat::of(
            Lang::En,
            &CsvQuery {
                sep: Some("semicolon".to_owned()),
            },
        )
        .unwrap();
        assert_eq!(chosen.delimiter, b';');
        assert_eq!(
            CsvFormat::of(
                Lang::De,
                &CsvQuery {
                    sep: Some("tab".to_owned())
                }
            ),
            Err(UnknownSeparator)
        );
        // Formula starts after spaces or in full width are quoted too; plain text is not.
        for cell in ["  =1+1", "＝SUMME(A1)", "\u{3000}@x", "-5", "\tx"] {
            assert!(csv_safe(cell).starts_with('\''), "{cell:?}");
        }
        for cell in ["Müller & Söhne", "1.200 €", "E-Rechnung"] {
            assert_eq!(csv_safe(cell), cell);
        }
    }
}
