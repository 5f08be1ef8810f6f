//! # nachbar-tests
//!
//! The end-to-end suite: the real `nachbar-server` binary on 127.0.0.1 with a temporary
//! database, clients over real WebSockets, and third-party peers (automerge-repo JS, samod)
//! for interoperability. Everything is one test binary.
#![cfg(test)]
#![allow(unused_must_use)]

mod authorization;
mod bad_input;
mod client_keeps_work;
mod client_sync;
mod connection_limits;
mod durability;
mod e2e_sync;
mod interop_js;
mod interop_samod;
mod metrics;
mod mobile_api;
mod operations;
mod scenarios_e2e;
mod several_nodes;
mod support;
mod web_browser;
mod web_business;
