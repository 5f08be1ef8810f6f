//! # nachbar-server
//!
//! The sync server of nachbar: an axum + tokio WebSocket server speaking the automerge-repo
//! 2.x protocol, keeping documents durably in SQLite and enforcing per-document access.
//!
//! This crate is the workspace slot for the server; the hub, storage and routes arrive with
//! the server issue. It depends on `nachbar-core` without the client feature.
