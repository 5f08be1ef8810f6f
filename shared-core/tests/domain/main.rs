//! Black-box tests of the domain documents: the ten scenarios of domain.md §10 on documents
#![allow(unused_must_use)] // tests merge documents directly: no change needs persisting
//! merged directly, invalid input, and convergence properties.

mod convergence;
mod invalid_input;
mod scenarios;
mod sign_off;
mod support;
