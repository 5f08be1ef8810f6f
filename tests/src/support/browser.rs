//! Running a browser suite of tests/web (real headless Chromium through playwright-core)
//! against a real server with the demo: the suite's configuration, its sync points (`WAIT
//! <what> <arg>` lines, answered with `GO`), its transcript and verdict; and the demo's people
//! and phones (real `Client`s with their own databases).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nachbar_core::client::{Client, ClientConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::server::TestServer;

/// How long the suite may stay silent (a page load, an axe scan).
const SILENCE: Duration = Duration::from_secs(240);

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// Debian's Chromium and the suite's node modules, or why the suite cannot run (printed as
/// `SKIPPED: …` by the caller).
pub(crate) fn prerequisites() -> Result<PathBuf, &'static str> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("chromium is not installed (scripts/install-test-deps installs it)")?;
    if !web_dir().join("node_modules/playwright-core").exists() {
        return Err("tests/web/node_modules is missing (scripts/install-test-deps installs it)");
    }
    Ok(chromium)
}

/// The demo's people as `--demo` wrote them (name, role, business, user, token, login,
/// password).
pub(crate) fn demo_people(server: &TestServer) -> Vec<serde_json::Value> {
    let demo: serde_json::Value = serde_json::from_slice(
        &std::fs::read(server.data.path().join("demo-tokens.json")).expect("demo tokens"),
    )
    .expect("JSON");
    demo.as_array().expect("people").clone()
}

/// The first demo person with `role` (and `business`, when given).
pub(crate) fn demo_person(
    people: &[serde_json::Value],
    role: &str,
    business: Option<&str>,
) -> serde_json::Value {
    people
        .iter()
        .find(|p| p["role"] == role && business.is_none_or(|b| p["business"] == b))
        .unwrap_or_else(|| panic!("a demo {role}"))
        .clone()
}

/// A phone of `person`: a real client with its own database in `dir`, syncing with `server`.
pub(crate) fn phone(
    server: &TestServer,
    person: &serde_json::Value,
    dir: &std::path::Path,
) -> Client {
    let mut config = ClientConfig::new(
        dir.join("phone.sqlite3"),
        server.http_url(),
        person["token"].as_str().expect("token"),
    );
    config.durability = nachbar_core::store::Durability::Normal;
    config.refresh_every = Duration::from_millis(300);
    let phone = Client::open(config).expect("client opens");
    phone.start(&tokio::runtime::Handle::current());
    phone
}

/// Where the suites put their screenshots.
pub(crate) fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/web-screenshots")
}

/// A running suite.
pub(crate) struct BrowserSuite {
    node: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    transcript: Vec<String>,
}

impl BrowserSuite {
    /// Starts `script` of tests/web with `config` (as `NACHBAR_WEB_SUITE`).
    pub(crate) fn start(script: &str, config: &serde_json::Value) -> BrowserSuite {
        let mut node = tokio::process::Command::new("node")
            .arg(script)
            .current_dir(web_dir())
            .env("NACHBAR_WEB_SUITE", config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdin = node.stdin.take().expect("stdin");
        let lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
        BrowserSuite {
            node,
            stdin,
            lines,
            transcript: Vec::new(),
        }
    }

    /// The next sync point `(what, arg)`, printing the checks before it; `None` when the suite
    /// has ended.
    pub(crate) async fn next_wait(&mut self) -> Option<(String, String)> {
        while let Some(line) = tokio::time::timeout(SILENCE, self.lines.next_line())
            .await
            .expect("the suite keeps talking")
            .expect("read")
        {
            println!("{line}");
            self.transcript.push(line.clone());
            if let Some(rest) = line.strip_prefix("WAIT ") {
                let (what, arg) = rest.split_once(' ').unwrap_or((rest, ""));
                return Some((what.to_owned(), arg.to_owned()));
            }
        }
        None
    }

    /// Lets the suite go on after a sync point.
    pub(crate) async fn go(&mut self) {
        self.stdin.write_all(b"GO\n").await.expect("write");
        self.stdin.flush().await.expect("flush");
    }

    /// Waits for the suite's end and fails on any failed check; returns the transcript.
    pub(crate) async fn finish(mut self) -> Vec<String> {
        assert!(
            self.next_wait().await.is_none(),
            "a sync point after the last one"
        );
        let status = self.node.wait().await.expect("node ends");
        let failures: Vec<&String> = self
            .transcript
            .iter()
            .filter(|l| l.starts_with("not ok"))
            .collect();
        assert!(failures.is_empty(), "browser checks failed: {failures:#?}");
        assert!(status.success(), "the suite failed");
        assert!(
            self.transcript
                .iter()
                .any(|l| l.ends_with(" passed, 0 failed")),
            "the suite reported its count"
        );
        self.transcript
    }
}
