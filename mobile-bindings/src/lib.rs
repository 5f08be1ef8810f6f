//! # nachbar-mobile
//!
//! nachbar-core for Kotlin and Swift apps through uniffi (proc-macros, library mode): thin
//! exported functions that convert, call the core and convert back.
//!
//! This crate is the workspace slot for the bindings; the exported API arrives with the
//! bindings issue.
