//! # nachbar-server
//!
//! The sync server of nachbar: an axum + tokio WebSocket server speaking the automerge-repo
//! 2.x protocol, keeping documents durably in SQLite and enforcing per-document access.
//!
//! Modules:
//! - [`hub`]: the pure state machine (handshake, sync sessions, fan-out, durable-before-ack);
//! - [`storage`]: SQLite (WAL, `synchronous=FULL`), chunks, snapshots, audit, migrations;
//! - [`access`]: the access policy the hub asks per (connection, document);
//! - [`web`]: the web app (server-rendered pages on the same documents and durable path).
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod admin;
pub mod auth;
pub mod auth_gate;
pub mod backlog;
pub mod compactor;
pub mod config;
pub mod connection;
pub mod connection_routing;
pub mod connection_slots;
pub mod data_lock;
pub mod demo;
pub mod documents;
pub mod durable;
pub mod fuzz_targets;
pub mod hub;
pub mod hubs;
pub mod limiter;
pub mod metrics;
#[cfg(any(test, feature = "test-support"))]
pub mod pg_cluster;
pub mod rate;
pub mod reports;
pub mod routes;
pub mod server;
pub mod shell;
pub mod storage;
pub mod sync_limits;
pub mod tokens;
pub mod watcher;
pub mod web;
pub mod writer;
