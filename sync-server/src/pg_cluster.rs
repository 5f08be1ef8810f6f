//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary
//! directory (mode 0700), listening only on a Unix socket inside it (no TCP port to race for
//! or to expose: `trust` authentication reaches nobody who cannot enter the directory), run
//! as the `postgres` user when running as root (PostgreSQL refuses root), stopped and removed
//! on drop. Uses Debian's
//! binaries (`/usr/lib/postgresql/<version>/bin`) or those on `PATH`; when there are none,
//! [`PgCluster::start`] says why, and the caller prints `SKIPPED: why`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster.
#[derive(Debug)]
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// Why a cluster could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No PostgreSQL server binaries here.
    #[error("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on PATH)")]
    NotInstalled,
    /// A step failed.
    #[error("{step}: {detail}")]
    Failed {
        /// Which step.
        step: &'static str,
        /// What it printed.
        detail: String,
    },
}

fn failed(step: &'static str, detail: impl std::fmt::Display) -> ClusterError {
    ClusterError::Failed {
        step,
        detail: detail.to_string(),
    }
}

/// The directory of `initdb` and `pg_ctl`: the newest Debian version, else `PATH`.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The port number in the socket's name (`.s.PGSQL.<port>`); the directory is the cluster's
/// own, so any number will do.
const SOCKET_PORT: u16 = 5432;

impl PgCluster {
    /// Makes and starts a cluster.
    ///
    /// # Errors
    /// [`ClusterError::NotInstalled`] without PostgreSQL, or the step that failed.
    pub fn start() -> Result<Self, ClusterError> {
        let bin = bin_dir().ok_or(ClusterError::NotInstalled)?;
        let dir = tempfile::Builder::new()
            .prefix("nachbar-pg-")
            .tempdir()
            .map_err(|e| failed("making the directory", e))?;
        let as_postgres = is_root();
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| failed("chown", e))?;
            if !chown.success() {
                return Err(failed("chown", "the postgres user is missing"));
            }
        }
        let cluster = PgCluster {
            dir,
            bin,
            port: SOCKET_PORT,
            as_postgres,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
        )?;
        cluster.pg_ctl_start()?;
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, step: &'static str, tool: &str, args: &[&str]) -> Result<(), ClusterError> {
        self.output(step, tool, args).map(drop)
    }

    /// Runs `sql` on database `db` through `psql`; what it printed (unaligned, no headers).
    ///
    /// # Errors
    /// When `psql` fails.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, ClusterError> {
        let port = self.port.to_string();
        let host = self.dir.path().display().to_string();
        self.output(
            "psql",
            "psql",
            &[
                "-h", &host, "-p", &port, "-U", "postgres", "-d", db, "-At", "-c", sql,
            ],
        )
    }

    fn output(
        &self,
        step: &'static str,
        tool: &str,
        args: &[&str],
    ) -> Result<String, ClusterError> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| failed(step, e))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(failed(
                step,
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            ))
        }
    }

    /// Starts the server. Autovacuum is off: its ANALYZE runs in a transaction with an xid,
    /// which holds every reader of the change feed back until it ends (on a loaded 2-core CI
    /// machine for long); the tests check that the feed skips nothing, and a node's feed lag
    /// behind such a transaction is a figure of its own.
    fn pg_ctl_start(&self) -> Result<(), ClusterError> {
        let options = format!(
            "-c listen_addresses='' -p {} -c unix_socket_directories={} \
             -c max_connections=200 -c fsync=on -c synchronous_commit=on -c autovacuum=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("pg.log").display().to_string();
        self.run(
            "pg_ctl start",
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "start",
            ],
        )
    }

    /// Stops the cluster at once (like a crash: `-m immediate`), or cleanly (`-m fast`).
    ///
    /// # Errors
    /// When `pg_ctl stop` fails.
    pub fn stop(&self, immediate: bool) -> Result<(), ClusterError> {
        let mode = if immediate { "immediate" } else { "fast" };
        self.run(
            "pg_ctl stop",
            "pg_ctl",
            &["-D", &self.data(), "-m", mode, "-w", "stop"],
        )
    }

    /// Stops and removes the cluster once process `pid` has ended, from a watcher process of
    /// its own: for a cluster that outlives every value that could drop it (one kept for a
    /// whole test process in a `static`).
    ///
    /// # Errors
    /// When the watcher cannot be started.
    pub fn stop_after(&self, pid: u32) -> Result<(), ClusterError> {
        use std::os::unix::process::CommandExt;
        // Paths as positional parameters, never pasted into the script; a process group of
        // its own, so a Ctrl-C or a timeout that ends the test process does not end the
        // watcher with it.
        let script = r#"trap '' INT HUP TERM
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ "$2" = postgres ]; then runuser -u postgres -- "$3" -D "$4" -m immediate -w stop
else "$3" -D "$4" -m immediate -w stop; fi
rm -rf "$5""#;
        let user = if self.as_postgres { "postgres" } else { "self" };
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("watcher")
            .arg(pid.to_string())
            .arg(user)
            .arg(self.bin.join("pg_ctl"))
            .arg(self.data())
            .arg(self.dir.path())
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| failed("starting the cluster's watcher", e))
    }

    /// Starts the cluster again after [`PgCluster::stop`], on the same port.
    ///
    /// # Errors
    /// When `pg_ctl start` fails.
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.pg_ctl_start()
    }

    /// The directory of its socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The connection string of database `db` (`postgres` always exists), through the socket.
    pub fn url(&self, db: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={db}",
            self.dir.path().display(),
            self.port
        )
    }

    /// Makes database `db` and returns its URL.
    ///
    /// # Errors
    /// When `createdb` fails (for instance, the name is taken).
    pub fn create_database(&self, db: &str) -> Result<String, ClusterError> {
        let port = self.port.to_string();
        let host = self.dir.path().display().to_string();
        self.run(
            "createdb",
            "createdb",
            &["-h", &host, "-p", &port, "-U", "postgres", db],
        )?;
        Ok(self.url(db))
    }

    /// The server's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("pg.log")
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        Path::new(&self.data()).to_path_buf()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop(true);
    }
}
