//! Server configuration: flags with `NACHBAR_*` environment variables and defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Settings of a running server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Where the database lives.
    #[arg(long, env = "NACHBAR_DATA_DIR", default_value = "nachbar-data")]
    pub data_dir: PathBuf,
    /// The database of several nodes: a PostgreSQL URL (`postgres://user@host/db`, or
    /// key-value pairs such as `host=/run/postgresql dbname=nachbar`). Without it the server
    /// keeps everything in SQLite in the data directory.
    #[arg(long, env = "NACHBAR_DATABASE")]
    pub database: Option<String>,
    /// Milliseconds between reads of the change feed and the directory version when nothing
    /// rang (PostgreSQL's notifications ring at once; a lost one waits for this): how late a
    /// revocation or another writer's change arrives at the latest.
    #[arg(long, env = "NACHBAR_FEED_POLL_MS", default_value_t = 1000)]
    pub feed_poll_ms: u64,
    /// Address to listen on.
    #[arg(long, env = "NACHBAR_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Largest WebSocket message in bytes.
    #[arg(long, env = "NACHBAR_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Most bytes the compressed changes of one sync message may inflate to.
    #[arg(long, env = "NACHBAR_MAX_DECOMPRESSED_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_decompressed_bytes: u64,
    /// Commits within this many ms of the last round of messages to a document's peers go out
    /// together at the end of the window (a single edit still goes out at once).
    #[arg(long, env = "NACHBAR_FANOUT_WINDOW_MS", default_value_t = 15)]
    pub fanout_window_ms: u64,
    /// Messages one connection may send per second on average (bursts of twice as many pass);
    /// beyond that it is closed with 1008.
    #[arg(long, env = "NACHBAR_MAX_MESSAGES_PER_SECOND", default_value_t = 5000)]
    pub max_messages_per_second: u32,
    /// Bytes that may wait for a peer that does not read before it is closed with 1008.
    #[arg(long, env = "NACHBAR_MAX_OUTBOUND_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_outbound_bytes: usize,
    /// Seconds a peer may stay behind by more than `--max-outbound-bytes` (reading one large
    /// change, say), or take to read one message, before it is closed with 1008.
    #[arg(long, env = "NACHBAR_OUTBOUND_GRACE_SECS", default_value_t = 30)]
    pub outbound_grace_secs: u64,
    /// Open sync connections one user may hold; the next is closed with 1008.
    #[arg(long, env = "NACHBAR_MAX_CONNECTIONS_PER_USER", default_value_t = 32)]
    pub max_connections_per_user: usize,
    /// Deepest CBOR nesting accepted.
    #[arg(long, env = "NACHBAR_MAX_CBOR_DEPTH", default_value_t = 16)]
    pub max_cbor_depth: usize,
    /// Hub workers: tasks that each own the documents whose id falls to them, so syncing uses
    /// that many cores; 0 takes one per core (at most 64).
    #[arg(long, env = "NACHBAR_HUB_WORKERS", default_value_t = 0)]
    pub hub_workers: usize,
    /// Seconds a document stays in memory after its last subscriber left.
    #[arg(long, env = "NACHBAR_EVICT_AFTER_SECS", default_value_t = 60)]
    pub evict_after_secs: u64,
    /// Seconds a new connection has to send `join`.
    #[arg(long, env = "NACHBAR_HANDSHAKE_TIMEOUT_SECS", default_value_t = 5)]
    pub handshake_timeout_secs: u64,
    /// Seconds between WebSocket pings.
    #[arg(long, env = "NACHBAR_PING_SECS", default_value_t = 30)]
    pub ping_secs: u64,
    /// Create (once) a `sandbox` user and write a fresh token for it to this file before
    /// listening (how the benchmark harness connects).
    #[arg(long, env = "NACHBAR_SANDBOX_TOKEN_FILE")]
    pub sandbox_token_file: Option<PathBuf>,
    /// Trust `X-Real-IP` from a peer on this host as the client's address for the sign-in
    /// and enrolment limits: set it when a reverse proxy on this host sets that header (the
    /// README's nginx does), never when clients reach the server directly.
    #[arg(long, env = "NACHBAR_TRUST_PROXY_HEADERS", default_value_t = false)]
    pub trust_proxy_headers: bool,
    /// Days a device token lives after it was issued or last used (renewed by use).
    #[arg(long, env = "NACHBAR_TOKEN_TTL_DAYS", default_value_t = crate::tokens::DEFAULT_TTL_DAYS)]
    pub token_ttl_days: u64,
    /// Log format.
    #[arg(long, env = "NACHBAR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

impl ServeConfig {
    /// How many hub workers run: `--hub-workers`, or one per core.
    pub fn hub_worker_count(&self) -> usize {
        let wanted = match self.hub_workers {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            n => n,
        };
        wanted.clamp(1, crate::hubs::MAX_WORKERS)
    }

    /// The database file inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("nachbar.sqlite3")
    }
}
