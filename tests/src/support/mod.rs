//! Shared helpers: the server process and a protocol client.

pub(crate) mod client;
pub(crate) mod http;
pub(crate) mod server;
pub(crate) mod world;

use std::time::Duration;

/// Generous liveness timeout (tests assert outcomes, never speed).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);
