//! The typed documents of a neighbourhood: each wraps a [`NachbarDoc`](crate::doc::NachbarDoc)
//! of one kind, offers its edit operations as methods (every one a single change through the
//! edit doorway) and hydrates a plain read model with the derived values.

pub mod action_plan;
pub mod assessment;
pub mod business_profile;
mod common;

pub use common::MAX_RECORDS;
pub mod neighbourhood;
pub mod overview;
mod review;
mod similarity;
pub mod workshop;

pub use common::{Removal, StatusChange};
pub use review::{ReviewStatus, SignOffRole, SignOffView, SignOffWrite, sign_offs_written};

/// Declares a typed wrapper around a [`NachbarDoc`](crate::doc::NachbarDoc) of one kind.
macro_rules! typed_doc {
    ($(#[$meta:meta])* $name:ident, $kind:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            doc: $crate::doc::NachbarDoc,
        }

        impl $name {
            /// The kind of document this type wraps.
            pub const KIND: $crate::doc::DocKind = $kind;

            /// Wraps a document of this kind.
            ///
            /// # Errors
            /// [`DomainError::WrongKind`](crate::DomainError::WrongKind) for another kind.
            pub fn open(doc: $crate::doc::NachbarDoc) -> Result<Self, $crate::DomainError> {
                doc.expect_kind(Self::KIND)?;
                Ok(Self { doc })
            }

            /// Loads a saved document of this kind.
            ///
            /// # Errors
            /// When the bytes are not a nachbar document of this kind.
            pub fn load(bytes: &[u8], actor: automerge::ActorId) -> Result<Self, $crate::DomainError> {
                Self::open($crate::doc::NachbarDoc::load(bytes, actor)?)
            }

            /// The underlying document.
            pub fn inner(&self) -> &$crate::doc::NachbarDoc {
                &self.doc
            }

            /// The underlying document, for merging and applying received changes.
            pub fn inner_mut(&mut self) -> &mut $crate::doc::NachbarDoc {
                &mut self.doc
            }

            /// Unwraps the underlying document.
            pub fn into_inner(self) -> $crate::doc::NachbarDoc {
                self.doc
            }
        }

        impl $crate::model::TypedDoc for $name {
            const KIND: $crate::doc::DocKind = $kind;

            fn open(doc: $crate::doc::NachbarDoc) -> Result<Self, $crate::DomainError> {
                $name::open(doc)
            }

            fn inner(&self) -> &$crate::doc::NachbarDoc {
                &self.doc
            }

            fn into_inner(self) -> $crate::doc::NachbarDoc {
                self.doc
            }
        }
    };
}

/// What every typed document is: a [`NachbarDoc`](crate::doc::NachbarDoc) of one kind.
pub trait TypedDoc: Sized {
    /// The kind it wraps.
    const KIND: crate::doc::DocKind;

    /// Wraps a document of this kind.
    ///
    /// # Errors
    /// [`DomainError::WrongKind`](crate::DomainError::WrongKind) for another kind.
    fn open(doc: crate::doc::NachbarDoc) -> Result<Self, crate::DomainError>;

    /// The underlying document.
    fn inner(&self) -> &crate::doc::NachbarDoc;

    /// Unwraps the underlying document.
    fn into_inner(self) -> crate::doc::NachbarDoc;
}

pub(crate) use typed_doc;
