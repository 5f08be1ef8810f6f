//! Several nodes on one throwaway PostgreSQL, and the README's nginx in front of them.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::server::TestServer;

// The server crate's own test cluster, compiled in here (the server library is not a
// dependency of the end-to-end suite, which runs its binary).
#[path = "../../../sync-server/src/pg_cluster.rs"]
#[allow(dead_code, unreachable_pub)]
mod pg_cluster;

pub(crate) use pg_cluster::PgCluster;

/// The ports of the README's nginx file: the balancer, then the nodes.
pub(crate) const BALANCER_PORT: u16 = 8780;
/// The nodes' ports in the README's nginx file.
pub(crate) const NODE_PORTS: [u16; 3] = [8781, 8782, 8783];

/// One test at a time holds the fixed ports of the nginx file.
static FIXED_PORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Database {
    /// Ends every node's feed listener with `pg_terminate_backend`; how many were ended.
    pub(crate) fn terminate_listeners(&self) -> usize {
        let out = self
            ._cluster
            .psql(
                "nachbar",
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = 'nachbar-feed-listener'",
            )
            .expect("psql");
        out.trim().parse().expect("a count")
    }

    /// Every backend with a transaction id or snapshot (what can hold the change feed back),
    /// one line each.
    pub(crate) fn activity(&self) -> String {
        self._cluster
            .psql(
                "postgres",
                "SELECT string_agg(format('%s %s xid=%s xmin=%s %s', pid, application_name, \
                 backend_xid, backend_xmin, left(query, 60)), ' | ') FROM pg_stat_activity \
                 WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL",
            )
            .unwrap_or_else(|e| format!("(psql failed: {e})"))
    }

    /// Stops PostgreSQL at once (like a crash: `-m immediate`, no checkpoint), waits `down`,
    /// and starts it again on the same socket.
    pub(crate) async fn crash_and_restart(&self, down: Duration) {
        self._cluster.stop(true).expect("pg_ctl stop -m immediate");
        tokio::time::sleep(down).await;
        self._cluster.restart().expect("pg_ctl start");
    }
}

/// A PostgreSQL cluster with one database for the nodes.
pub(crate) struct Database {
    /// The cluster (stopped and removed on drop).
    _cluster: PgCluster,
    /// The nodes' connection string.
    pub(crate) url: String,
}

/// A fresh cluster and database, or `None` after printing `SKIPPED: why` when PostgreSQL is
/// not installed here.
pub(crate) fn database(test: &str) -> Option<Database> {
    match PgCluster::start() {
        Ok(cluster) => {
            let url = cluster.create_database("nachbar").expect("createdb");
            Some(Database {
                _cluster: cluster,
                url,
            })
        }
        Err(pg_cluster::ClusterError::NotInstalled) => {
            println!("SKIPPED: {test}: PostgreSQL is not installed");
            None
        }
        Err(e) => panic!("{test}: starting PostgreSQL failed: {e}"),
    }
}

/// `n` nodes on `db`, each on a free port, whose feed timer waits 30 s: within a test only
/// PostgreSQL's notifications (the doorbell) can bring another node's change or a revocation.
pub(crate) async fn nodes(db: &Database, n: usize) -> Vec<TestServer> {
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        nodes.push(TestServer::start_on(&db.url, &["--feed-poll-ms", "30000"]).await);
    }
    nodes
}

/// The README's nginx (deploy/nginx-three-nodes.conf) in front of three nodes on its ports.
pub(crate) struct Balanced {
    /// The nodes, on [`NODE_PORTS`].
    pub(crate) nodes: Vec<TestServer>,
    nginx: Child,
    _prefix: tempfile::TempDir,
    _ports: tokio::sync::MutexGuard<'static, ()>,
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

impl Balanced {
    /// Three nodes on `db` behind nginx, or `None` after printing `SKIPPED: why` without
    /// nginx.
    pub(crate) async fn start(db: &Database, test: &str) -> Option<Balanced> {
        let Some(nginx) = nginx_binary() else {
            println!("SKIPPED: {test}: nginx is not installed");
            return None;
        };
        let ports = FIXED_PORTS.lock().await;
        let mut nodes = Vec::new();
        for port in NODE_PORTS {
            nodes.push(TestServer::start_on_port(&db.url, port).await);
        }
        let prefix = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(prefix.path().join("tmp")).expect("tmp");
        let conf = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/nginx-three-nodes.conf");
        let mut child = Command::new(nginx)
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", BALANCER_PORT))
            .await
            .is_err()
        {
            assert!(start.elapsed() < super::TIMEOUT, "nginx did not listen");
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nginx exited before listening (its port taken?): {status}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // An nginx left over from a killed run may hold the port: ours must be the listener.
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(Some(status)) = child.try_wait() {
            panic!("nginx exited (the balancer's port is taken?): {status}");
        }
        Some(Balanced {
            nodes,
            nginx: child,
            _prefix: prefix,
            _ports: ports,
        })
    }

    /// The balancer's sync URL for `tenant`.
    pub(crate) fn url(&self, tenant: &str) -> String {
        format!("ws://127.0.0.1:{BALANCER_PORT}/sync?tenant={tenant}")
    }
}

impl Drop for Balanced {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self._prefix.path().join("error.log"));
            eprintln!("nginx's error log:\n{}", log.unwrap_or_default());
        }
        // SIGTERM: the master stops its workers (a SIGKILLed master leaves them listening).
        if let Some(pid) = self.nginx.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(self.nginx.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.nginx.start_kill();
    }
}
