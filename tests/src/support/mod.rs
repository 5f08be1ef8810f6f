//! Shared helpers: the server process and a protocol client.

pub(crate) mod browser;
pub(crate) mod client;
pub(crate) mod cluster;
pub(crate) mod http;
pub(crate) mod on_postgres;
pub(crate) mod server;
pub(crate) mod world;

use std::time::Duration;

/// Generous liveness timeout (tests assert outcomes, never speed).
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// Waits until `check` holds (polling every 50 ms), at most [`TIMEOUT`]; fails with `what`.
pub(crate) async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Online and nothing left unacknowledged.
pub(crate) fn synced(status: &nachbar_core::client::SyncStatus) -> bool {
    status.connection == nachbar_core::client::ConnectionState::Online && status.unacknowledged == 0
}

/// `len` letters of xorshift noise from `seed` (moved on): text no compressor shrinks much.
pub(crate) fn noise(seed: &mut u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            char::from(b'a' + (*seed % 26) as u8)
        })
        .collect()
}
