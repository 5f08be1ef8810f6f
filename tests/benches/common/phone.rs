//! A phone for the benchmarks: a real `Client` with its own database in a temporary
//! directory, syncing with the release server on its own two-worker runtime.

use std::time::{Duration, Instant};

use nachbar_core::client::{Client, ClientConfig, ConnectionState};

/// The phone; it derefs to its `Client`. The runtime and the directory live as long as it.
pub(crate) struct BenchPhone {
    client: Client,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl BenchPhone {
    /// A phone with `token`, syncing with the server on `port` (refresh every 300 ms).
    pub(crate) fn start(port: u16, token: impl Into<String>) -> BenchPhone {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = ClientConfig::new(
            dir.path().join("phone.sqlite3"),
            format!("http://127.0.0.1:{port}"),
            token,
        );
        config.refresh_every = Duration::from_millis(300);
        let client = Client::open(config).expect("client");
        client.start(runtime.handle());
        BenchPhone {
            client,
            _runtime: runtime,
            _dir: dir,
        }
    }

    /// Waits until the phone is online with nothing unacknowledged, at most `limit`.
    pub(crate) fn wait_synced(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !(self.client.status().connection == ConnectionState::Online
            && self.client.status().unacknowledged == 0)
        {
            assert!(Instant::now() < deadline, "the phone syncs");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl std::ops::Deref for BenchPhone {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}
