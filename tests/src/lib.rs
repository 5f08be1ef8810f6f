//! # nachbar-tests
//!
//! The end-to-end suite: real server processes on 127.0.0.1, real clients with their own
//! databases, and third-party peers (automerge-repo JS, samod) for interoperability.
//!
//! The suites arrive with the server and client issues; the domain scenarios merged directly
//! on documents live in `shared-core/tests`.
