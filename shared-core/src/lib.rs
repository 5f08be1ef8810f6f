//! # nachbar-core
//!
//! The shared heart of nachbar, the offline-first collaboration system for digitalisation
//! neighbourhoods of small businesses. Coaches edit assessments and workshop plans on phones
//! without signal, businesses review their action plans on tablets, coordinators follow the
//! neighbourhood's progress; every device holds Automerge documents that always converge.
//!
//! Modules:
//! - [`doc`]: [`NachbarDoc`](doc::NachbarDoc), the document with its fixed header and the one
//!   edit doorway that returns the new change for persisting before it is sent or shown;
//! - [`model`]: the typed documents (neighbourhood, business profile, assessment, action plan,
//!   workshop) with their edit operations and read models with derived values;
//! - [`catalogue`]: the assessment catalogue shipped as data, and the catalogue document;
//! - [`store`]: the device's local SQLite store (changes, snapshots, sync states,
//!   acknowledged heads, document list, cached API answers);
//! - [`ids`], [`time`], [`position`], [`label`]: ids, display time, fractional positions and
//!   German/English labels.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod catalogue;
#[cfg(feature = "client")]
pub mod client;
pub mod doc;
mod error;
pub mod ids;
pub mod label;
pub mod model;
pub mod position;
pub mod protocol;
pub mod session;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod time;

pub use automerge;
pub use error::DomainError;
