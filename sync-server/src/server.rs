//! Wiring: database, writer thread, hub task, HTTP server, graceful shutdown.

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use nachbar_core::protocol::{Limits, PeerId, StorageId};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::access::{DirectoryPolicy, PolicyCell};
use crate::config::ServeConfig;
use crate::connection::ConnectionConfig;
use crate::hub::{Hub, HubConfig};
use crate::hubs::Hubs;
use crate::routes::{AppState, router};
use crate::shell::{Command, HubSender, HubShell, run_hub};
use crate::writer::{self, WriterStats};

/// A started server without a listener: the routes' state, the hub task, the storage watcher
/// and the writer and compactor tasks. [`run`] serves it; tests call the router directly.
#[derive(Debug)]
pub struct Started {
    /// The routes' state.
    pub state: Arc<AppState>,
    hub_tasks: Vec<tokio::task::JoinHandle<()>>,
    watcher: tokio::task::JoinHandle<()>,
    writer_task: tokio::task::JoinHandle<()>,
    compactor_task: tokio::task::JoinHandle<()>,
    /// PostgreSQL's feed listener.
    listener: Option<tokio::task::JoinHandle<()>>,
    storage_id: String,
    /// Held while the server runs (see [`crate::data_lock`]).
    _data_lock: crate::data_lock::DataLock,
}

impl Started {
    /// The router over this server's state.
    pub fn router(&self) -> axum::Router {
        router(Arc::clone(&self.state))
    }

    /// Stops the tasks and lets the writer commit everything queued.
    pub async fn stop(self) {
        // Dropping the last hub sender stops the hub, which drops the writer's sender; the
        // writer commits what is queued and ends.
        self.state.shutdown.cancel();
        drop(self.state);
        // Let connection tasks send their close frames.
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.watcher.abort();
        if let Some(listener) = self.listener {
            listener.abort();
        }
        for task in &self.hub_tasks {
            task.abort();
        }
        for task in self.hub_tasks {
            let _ = task.await;
        }
        let _ = self.writer_task.await;
        // Compaction holds nothing acknowledged: what is queued is left for the next start
        // (a stop is not held up by it; one under way finishes or rolls back).
        self.compactor_task.abort();
        let _ = self.compactor_task.await;
    }
}

/// Runs the server on `listener` until `shutdown` resolves; then stops accepting, lets the
/// writer commit everything queued, and returns.
///
/// # Errors
/// When the database cannot be opened or the server fails.
pub async fn run(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let started = start(&config).await?;
    let state = Arc::clone(&started.state);
    let connections = state.shutdown.clone();
    let shutdown = async move {
        shutdown.await;
        connections.cancel();
    };
    tracing::info!(addr = %listener.local_addr()?, storage_id = %started.storage_id, "listening");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving")?;
    tracing::info!("shutting down: draining the writer");
    started.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// Opens the node's storage (SQLite in the data directory, or PostgreSQL with
/// `--database`) and starts the writer and compactor tasks, the hub task and the storage
/// watcher.
///
/// # Errors
/// When the storage cannot be opened or migrated, or the data directory is held by another
/// server.
pub async fn start(config: &ServeConfig) -> anyhow::Result<Started> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let data_lock = crate::data_lock::lock(&config.data_dir)?;
    let db = config.database_path();
    let feed_timer = Duration::from_millis(config.feed_poll_ms.max(10));
    let node = match &config.database {
        Some(url) => crate::storage::node::postgres(url, feed_timer)
            .await
            .context("opening the PostgreSQL database")?,
        None => crate::storage::node::sqlite(&db, feed_timer)
            .with_context(|| format!("opening {}", db.display()))?,
    };
    let storage_id = node.documents.storage_id().await?;
    // The web app, the API and enrolment each on a connection of their own (on SQLite).
    let web_store = || node.web.open().context("opening a connection");

    let (senders, receivers): (Vec<HubSender>, Vec<_>) = (0..config.hub_worker_count())
        .map(|_| mpsc::unbounded_channel::<Command>())
        .unzip();
    let writer_stats = Arc::new(WriterStats::default());
    let report = |worker: &HubSender, input| {
        let _ = worker.send(Command::Input(input));
    };
    let documents = Arc::clone(&node.documents);
    let (compactor_tx, compactor_task) =
        crate::compactor::spawn(Arc::clone(&documents), Arc::clone(&writer_stats));
    let (writer_tx, writer_task) = writer::spawn(
        Arc::clone(&documents),
        report,
        Arc::clone(&writer_stats),
        compactor_tx,
    );

    // The feed's cursor is taken before the directory is read: whatever commits after either
    // is read by the watcher.
    let cursor = documents.feed_end().await?;
    let directory = node
        .access
        .directory(nachbar_core::time::Timestamp::now().millis())
        .await
        .context("reading the directory")?;
    let directory_version = directory.version;
    let policy = Arc::new(DirectoryPolicy::new(directory));
    let policy_cell = PolicyCell::new(Arc::clone(&policy));
    let (committed, _) = tokio::sync::broadcast::channel(1024);
    let hub_config = HubConfig {
        evict_after_ms: config.evict_after_secs * 1000,
        fanout_window_ms: config.fanout_window_ms,
        sync_limits: crate::sync_limits::SyncLimits {
            max_decompressed: config.max_decompressed_bytes,
            ..crate::sync_limits::SyncLimits::default()
        },
        ..HubConfig::new(node_peer_id(&storage_id), StorageId(storage_id.clone()))
    }
    .per_worker(senders.len());
    let hubs = Hubs::new(
        senders.clone(),
        crate::hubs::SubscriptionBounds::of(&hub_config),
    );
    // Tells the connection tasks to close (shutdown, or a hub worker gone).
    let shutdown = tokio_util::sync::CancellationToken::new();
    let hub_tasks = senders
        .iter()
        .zip(receivers)
        .map(|(sender, receiver)| {
            let policy: Arc<dyn crate::access::Policy> = Arc::clone(&policy) as _;
            let hub = Hub::new(hub_config.clone(), policy);
            let shell = HubShell {
                self_sender: sender.clone(),
                writer: writer_tx.clone(),
                documents: Arc::clone(&documents),
                access: Arc::clone(&node.access),
                policy: policy_cell.clone(),
                committed: committed.clone(),
            };
            // A worker that ends (stopped, or a panic outside the hub's containment) takes
            // every connection with it: a peer of its documents would otherwise keep a
            // connection that goes nowhere (the others hold its queue open). Peers reconnect.
            let gone = shutdown.clone().drop_guard();
            tokio::spawn(async move {
                let _gone = gone;
                run_hub(hub, receiver, shell).await;
            })
        })
        .collect();
    drop(writer_tx);
    drop(senders);
    let watcher = tokio::spawn(crate::watcher::watch(
        crate::watcher::Watched {
            documents,
            access: Arc::clone(&node.access),
        },
        hubs.clone(),
        crate::watcher::Seen {
            directory_version,
            cursor,
        },
        node.wake.clone(),
        Duration::from_secs(30),
    ));

    let state = Arc::new(AppState {
        hub: hubs,
        api: web_store()?,
        connection: ConnectionConfig {
            limits: Limits {
                max_message_bytes: config.max_message_bytes,
                max_depth: config.max_cbor_depth,
            },
            handshake_timeout: Duration::from_secs(config.handshake_timeout_secs),
            ping: Duration::from_secs(config.ping_secs.max(1)),
            max_messages_per_second: config.max_messages_per_second,
            max_outbound_bytes: config.max_outbound_bytes,
            outbound_grace: Duration::from_secs(config.outbound_grace_secs.max(1)),
        },
        writer_stats,
        next_conn: AtomicU64::new(1),
        auth_refusals: AtomicU64::new(0),
        auth: crate::auth_gate::AuthGate::new(
            Arc::clone(&node.gate_access),
            web_store()?,
            config.trust_proxy_headers,
            crate::tokens::days_ms(config.token_ttl_days.max(1)),
        ),
        slots: Arc::new(crate::connection_slots::ConnectionSlots::new(
            config.max_connections_per_user.max(1),
        )),
        shutdown,
        web: crate::web::WebState {
            data: web_store()?,
            storage: node.beside_hub.clone(),
            policy: policy_cell,
            committed,
            limiter: Mutex::default(),
            views: crate::web::cache::ViewCache::default(),
            edit_locks: crate::web::edit::EditLocks::default(),
            live_streams: Mutex::default(),
            hashers: crate::web::password::Hashers::default(),
            config: crate::web::WebConfig {
                trust_proxy_headers: config.trust_proxy_headers,
                ..crate::web::WebConfig::default()
            },
        },
    });
    Ok(Started {
        state,
        hub_tasks,
        watcher,
        writer_task,
        compactor_task,
        listener: node.listener,
        storage_id,
        _data_lock: data_lock,
    })
}

/// This node's peer id: the storage id names the cluster (every node of one PostgreSQL
/// presents the same, so a client's sync state carries over from one node to the next), a
/// random suffix tells the nodes apart in logs and peers' views.
fn node_peer_id(storage_id: &str) -> PeerId {
    let node = uuid::Uuid::new_v4().simple().to_string();
    PeerId(format!(
        "nachbar-server-{}-{}",
        &storage_id[..8.min(storage_id.len())],
        &node[..8]
    ))
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
