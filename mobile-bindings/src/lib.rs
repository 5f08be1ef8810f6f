//! # nachbar-mobile
//!
//! nachbar-core for Kotlin and Swift apps through uniffi (proc-macros, library mode). Thin: each
//! exported function converts its arguments, calls the core and converts the result back.
//!
//! - [`NachbarClient`]: the user's database on the device and the sync client (open, start,
//!   stop, pause/resume for the app lifecycle, status, documents, sign out and wipe), plus the
//!   typed edits and read models of assessments, action plans and workshops;
//! - [`ClientObserver`]: the app's observer (a foreign trait), called from the bindings' own
//!   runtime threads, never under a lock; [`Subscription`] cancels it on drop;
//! - [`MobileError`]: one flat error enum with a clear message; no panic crosses the boundary
//!   (uniffi turns one into an internal error; the release profile keeps `panic = "unwind"`).

uniffi::setup_scaffolding!();

mod client;
mod edits;
mod error;
mod observer;
mod records;
mod runtime;

pub use client::{NachbarClient, enroll};
pub use edits::NewOfferingRecord;
pub use error::MobileError;
pub use observer::{ClientObserver, Subscription};
pub use records::*;
