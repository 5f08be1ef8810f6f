//! What the benchmarks share: the release server with a temporary data directory and admin
//! commands, percentiles, and the fsync time of this disk.

#![allow(dead_code)]

pub(crate) mod phone;
pub(crate) mod ws;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn server_binary() -> std::path::PathBuf {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "-p", "nachbar-server"])
        .current_dir(&root)
        .status()
        .expect("cargo");
    assert!(status.success());
    root.join("target/release/nachbar-server")
}

/// With `BENCH_PIN=1`: the servers run on core 0 (`taskset`), the benchmark itself on core 1,
/// so the figures do not depend on how the scheduler shares two cores between them.
fn pinned() -> bool {
    std::env::var("BENCH_PIN").is_ok_and(|v| v == "1")
}

/// Pins this process (every thread it has and will start) to core 1 when `BENCH_PIN=1`; call
/// it first in `main`, before the runtime starts its threads.
pub(crate) fn pin_benchmark() {
    if !pinned() {
        return;
    }
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .expect("taskset runs");
    assert!(status.success(), "taskset could not pin the benchmark");
    println!("pinned: servers on core 0, this benchmark on core 1");
}

/// The release server on a free loopback port; killed on drop.
pub(crate) struct Server {
    bin: std::path::PathBuf,
    /// Its data directory.
    pub(crate) dir: tempfile::TempDir,
    /// Its port.
    pub(crate) port: u16,
    child: std::process::Child,
    /// The flags it was started with (admin commands get them too: its database).
    flags: Vec<String>,
}

impl Server {
    /// Builds (release) and starts the server.
    pub(crate) fn start() -> Server {
        Server::start_with(&[])
    }

    /// Builds (release) and starts the server with extra flags.
    pub(crate) fn start_with(flags: &[&str]) -> Server {
        let bin = server_binary();
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = if pinned() {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        let child = command
            .args(flags)
            .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("server");
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Server {
            bin,
            dir,
            port,
            child,
            flags: flags.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs an admin command; returns its stdout.
    pub(crate) fn admin(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .args(&self.flags)
            .arg("--data-dir")
            .arg(self.dir.path())
            .arg("admin")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Adds a user with a role and returns (id, token).
    pub(crate) fn user(&self, name: &str, role: &str, scope: &str) -> (String, String) {
        let id = self.admin(&["add-user", "--name", name, "--role", role, "--scope", scope]);
        let token = self.admin(&["issue-token", "--user", &id]);
        (id, token)
    }
}

impl Server {
    /// Gives `user` the login `login` (password `bench-passwort-1`) and signs in on the web;
    /// returns the session cookie's value.
    pub(crate) fn web_session(&self, user: &str, login: &str) -> String {
        let out = Command::new(&self.bin)
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(["admin", "set-password", "--user", user, "--login", login])
            .env("NACHBAR_PASSWORD", "bench-passwort-1")
            .output()
            .expect("admin");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (status, head, _) = http(
            self.port,
            "POST",
            "/login",
            None,
            Some(&format!("login={login}&password=bench-passwort-1")),
        );
        assert_eq!(status, 303, "{head}");
        head.lines()
            .find_map(|l| l.strip_prefix("set-cookie: nachbar_session="))
            .and_then(|c| c.split(';').next())
            .expect("cookie")
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// One HTTP/1.1 request on a fresh connection; returns (status, headers, body).
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nConnection: close\r\n"
    );
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: nachbar_session={c}\r\n"));
    }
    if let Some(f) = form {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            f.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(f) = form {
        req.push_str(f);
    }
    s.write_all(req.as_bytes()).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// The `p` quantile of sorted samples.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// p50 and p99 of a 4 KiB write + fsync on this disk, in ms.
pub(crate) fn fsync_times(dir: &std::path::Path) -> (f64, f64) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("fsync-probe")).unwrap();
    let mut samples = Vec::new();
    for _ in 0..200 {
        f.write_all(&[7u8; 4096]).unwrap();
        let t = Instant::now();
        f.sync_all().unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

/// The server's `/metrics` text.
pub(crate) fn metrics(port: u16) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let _ = write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

/// The upper bound of the bucket holding the `q` quantile of the histogram `name` (in seconds)
/// in a `/metrics` text, in milliseconds.
pub(crate) fn histogram_quantile_ms(metrics: &str, name: &str, q: f64) -> Option<String> {
    let buckets: Vec<(String, u64)> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{name}_bucket{{le=\"")))
        .filter_map(|rest| {
            let (le, count) = rest.split_once("\"} ")?;
            Some((le.to_owned(), count.trim().parse().ok()?))
        })
        .collect();
    let total = buckets.last()?.1;
    let rank = ((total as f64) * q).ceil().max(1.0) as u64;
    let (le, _) = buckets.into_iter().find(|(_, c)| *c >= rank)?;
    Some(match le.parse::<f64>() {
        Ok(seconds) => format!("{:.2}", seconds * 1e3),
        Err(_) => le,
    })
}
