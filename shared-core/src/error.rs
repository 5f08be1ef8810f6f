//! The error every typed document operation returns.

use crate::doc::DocKind;

/// Why a document operation was refused or a document could not be read.
///
/// Every variant leaves the document unchanged: edits run in one Automerge transaction that is
/// rolled back when any check fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// A level outside 0–4 (or a score outside its range) was given.
    #[error("{field} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The field that was being set.
        field: &'static str,
        /// The value that was given.
        value: i64,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// A value that is not one of the allowed codes of a field.
    #[error("`{value}` is not a valid {field}")]
    InvalidValue {
        /// The field that was being set.
        field: &'static str,
        /// The value that was given.
        value: String,
    },
    /// A required text (title, name) was empty or only whitespace.
    #[error("{field} must not be empty")]
    Empty {
        /// The field that was empty.
        field: &'static str,
    },
    /// A text longer than its field allows (titles and names: [`MAX_SHORT_TEXT`], notes and
    /// descriptions: [`MAX_LONG_TEXT`] characters).
    ///
    /// [`MAX_SHORT_TEXT`]: crate::doc::MAX_SHORT_TEXT
    /// [`MAX_LONG_TEXT`]: crate::doc::MAX_LONG_TEXT
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Most characters allowed.
        max: usize,
    },
    /// A collection of a document is full (see [`MAX_RECORDS`](crate::model::MAX_RECORDS)).
    #[error("{collection} holds its most records ({max})")]
    TooMany {
        /// The collection.
        collection: String,
        /// Most records.
        max: usize,
    },
    /// A question id that the assessment's catalogue release does not contain.
    #[error("unknown question `{0}` in this catalogue release")]
    UnknownQuestion(String),
    /// A record (measure, block, finding …) that does not exist in the document.
    #[error("unknown {kind} `{id}`")]
    UnknownRecord {
        /// What kind of record was looked up.
        kind: &'static str,
        /// The id that was not found.
        id: String,
    },
    /// An edit tried to change the document header, which is fixed by the first change.
    #[error("the document header cannot be changed")]
    HeaderImmutable,
    /// The document was written by a newer major schema than this build understands.
    #[error("this document uses schema {found}, this app supports {supported}: update the app")]
    NewerSchema {
        /// The schema found in the document.
        found: String,
        /// The newest schema this build supports.
        supported: String,
    },
    /// The document is of another kind than the operation expects.
    #[error("expected a {expected} document, found a {found} document")]
    WrongKind {
        /// The kind the caller asked for.
        expected: DocKind,
        /// The kind in the document header.
        found: DocKind,
    },
    /// The document has no nachbar header (yet): it is empty or a generic Automerge document.
    #[error("the document has no nachbar header")]
    MissingHeader,
    /// The document's content does not have the shape this schema describes.
    #[error("unexpected document shape at `{path}`: {detail}")]
    Shape {
        /// Where in the document the problem is.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// The operation is not allowed in the record's current state.
    #[error("{0}")]
    NotAllowed(String),
    /// The document changed since the version the user saw (a sign-off of a page that is no
    /// longer current).
    #[error("the document changed since it was shown")]
    ChangedSince,
    /// The catalogue release an assessment refers to is not available.
    #[error("catalogue release `{0}` is not available")]
    UnknownRelease(String),
    /// Automerge itself refused an operation or could not load bytes.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

impl DomainError {
    /// Shorthand for a shape error at `path`.
    pub(crate) fn shape(path: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Shape {
            path: path.into(),
            detail: detail.to_string(),
        }
    }

    /// Shorthand for a missing record.
    pub(crate) fn unknown(kind: &'static str, id: &str) -> Self {
        Self::UnknownRecord {
            kind,
            id: id.to_owned(),
        }
    }
}
