//! The real server binary on a free loopback port with a temporary data directory.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// A binary of the workspace (`nachbar-server`, `nachbar-test-device`) next to this test
/// binary. The workspace's binaries are built once per test run (with the workspace's features,
/// so after the test script's build this is a no-op), and a test of this crate alone never runs
/// a stale one.
pub(crate) fn workspace_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "--workspace", "--bins"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the workspace's binaries failed");
    });
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|p| p.parent())
        .expect("target/<profile>");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The `nachbar-server` binary.
pub(crate) fn binary() -> PathBuf {
    workspace_binary("nachbar-server")
}

/// A running server process; killed on drop.
pub(crate) struct TestServer {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) data: tempfile::TempDir,
    /// The flags it was started with (kept across restarts).
    flags: Vec<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub(crate) async fn start() -> TestServer {
        let data = tempfile::tempdir().expect("tempdir");
        Self::start_in(data).await
    }

    /// Starts a server on a fresh data directory with extra flags.
    pub(crate) async fn start_with(flags: &[&str]) -> TestServer {
        let data = tempfile::tempdir().expect("tempdir");
        Self::spawn(data, flags).await
    }

    /// Starts a node on the PostgreSQL database at `database` (with a data directory of its
    /// own, which holds nothing but its lock) and extra flags.
    pub(crate) async fn start_on(database: &str, flags: &[&str]) -> TestServer {
        let mut all = vec!["--database", database];
        all.extend_from_slice(flags);
        Self::start_with(&all).await
    }

    /// Starts a server on an existing data directory.
    pub(crate) async fn start_in(data: tempfile::TempDir) -> TestServer {
        Self::spawn(data, &[]).await
    }

    /// Starts a node on the PostgreSQL database at `database` on a given port.
    pub(crate) async fn start_on_port(database: &str, port: u16) -> TestServer {
        let data = tempfile::tempdir().expect("tempdir");
        Self::spawn_on(data, &["--database", database], port).await
    }

    async fn spawn(data: tempfile::TempDir, flags: &[&str]) -> TestServer {
        Self::spawn_on(data, flags, free_port()).await
    }

    async fn spawn_on(data: tempfile::TempDir, flags: &[&str], port: u16) -> TestServer {
        let mut flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
        // The suite's PostgreSQL run: a database of its own unless the test names one.
        if super::on_postgres::enabled() && !flags.iter().any(|f| f == "--database") {
            let url = super::on_postgres::database_for(data.path());
            flags.splice(0..0, ["--database".to_owned(), url]);
        }
        let child = Self::spawn_child(&data, &flags, port);
        let mut server = TestServer {
            child,
            port,
            data,
            flags,
        };
        server.wait_ready().await;
        server
    }

    fn spawn_child(data: &tempfile::TempDir, flags: &[String], port: u16) -> Child {
        Command::new(binary())
            .args(flags)
            .arg("--data-dir")
            .arg(data.path())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env(
                "RUST_LOG",
                std::env::var("NACHBAR_TEST_LOG")
                    .unwrap_or_else(|_| "nachbar_server=warn".to_owned()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("server starts")
    }

    /// Stops the process (SIGKILL when `kill`, else SIGTERM) and starts it again on the same
    /// data directory and port, as a crash or a deploy does to connected clients.
    pub(crate) async fn restart(&mut self, kill: bool) {
        self.stop(kill).await;
        self.child = Self::spawn_child(&self.data, &self.flags, self.port);
        self.wait_ready().await;
    }

    /// Stops the process (SIGKILL when `kill`, else SIGTERM) and waits for it; the data
    /// directory stays for [`TestServer::start_again`].
    pub(crate) async fn stop(&mut self, kill: bool) {
        if kill {
            self.child.kill().await.expect("kill");
        } else {
            if let Some(pid) = self.child.id() {
                let _ = std::process::Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status();
            }
            let _ = tokio::time::timeout(super::TIMEOUT, self.child.wait()).await;
        }
    }

    /// Starts the stopped process again on the same data directory and port.
    pub(crate) async fn start_again(&mut self) {
        self.child = Self::spawn_child(&self.data, &self.flags, self.port);
        self.wait_ready().await;
    }

    async fn wait_ready(&mut self) {
        let start = Instant::now();
        while start.elapsed() < super::TIMEOUT {
            // A process that exited (its port taken, say) is not what answers on the port.
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited before listening: {status}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server did not listen within {:?}", super::TIMEOUT);
    }

    /// Runs an admin command against this server's data directory; returns stdout trimmed.
    pub(crate) fn admin(&self, args: &[&str]) -> String {
        match self.try_admin(args) {
            Ok(out) => out,
            Err(e) => panic!("admin {args:?} failed: {e}"),
        }
    }

    /// An admin command: its standard output, or its standard error when it fails.
    pub(crate) fn try_admin(&self, args: &[&str]) -> Result<String, String> {
        // The flags name the database too (`--database`): admin works on what the node serves.
        let out = std::process::Command::new(binary())
            .args(&self.flags)
            .arg("--data-dir")
            .arg(self.data.path())
            .arg("admin")
            .args(args)
            .output()
            .expect("admin runs");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned())
    }

    /// Adds a user with one unscoped role (`""`: none) and returns a fresh token for it.
    pub(crate) fn user_token(&self, name: &str, role: &str) -> String {
        let user = if role.is_empty() {
            self.admin(&["add-user", "--name", name])
        } else {
            self.admin(&["add-user", "--name", name, "--role", role])
        };
        self.admin(&["issue-token", "--user", &user])
    }

    /// The WebSocket URL.
    pub(crate) fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }

    /// The server's base address for the offline-first client.
    pub(crate) fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the process at once (SIGKILL) and hands back the data directory.
    pub(crate) async fn kill(mut self) -> tempfile::TempDir {
        self.stop(true).await;
        self.data
    }

    /// Stops the process with SIGTERM and waits for it.
    pub(crate) async fn terminate(mut self) -> tempfile::TempDir {
        self.stop(false).await;
        self.data
    }
}
