//! The pages, one module per page family.

pub mod assessment;
pub mod business;
pub mod calendar;
pub mod enroll;
pub mod errors;
pub mod home;
pub mod neighbourhood;
pub mod offerings;
pub mod people;
pub mod plan;
pub mod profile;
pub mod reports;
pub mod sign_in;
pub mod workshop;
pub mod workshops;

use nachbar_core::ids::DocumentId;

/// A document id from a path segment; a malformed one is simply not found.
pub fn doc_id(s: &str) -> Option<DocumentId> {
    s.parse().ok()
}
