//! Operations on a real server process: `admin restore` refuses while the server runs; tokens
//! are listed by id and revoked by id (reaching open connections); the sandbox token file keeps
//! its token across restarts.

use std::time::Duration;

use crate::support::TIMEOUT;
use crate::support::client::{Client, Received};
use crate::support::http;
use crate::support::server::TestServer;

#[tokio::test]
async fn restore_refuses_while_a_server_holds_the_data_directory() {
    let mut server = TestServer::start().await;
    let token = server.user_token("Tester", "sandbox");
    let backup = server.data.path().join("backup.sqlite3");
    server.admin(&["backup", "--to", backup.to_str().unwrap()]);
    let refused = server
        .try_admin(&["restore", "--from", backup.to_str().unwrap()])
        .expect_err("refused while running");
    assert!(refused.contains("a server is running"), "{refused}");
    let (status, _) = http::request(server.port, "GET", "/api/me", Some(&token), None).await;
    assert_eq!(status, 200, "the server and its data are untouched");
    server.stop(false).await;
    // A damaged backup is refused before anything is touched.
    let junk = server.data.path().join("junk.sqlite3");
    std::fs::write(&junk, vec![0x42; 8192]).unwrap();
    assert!(
        server
            .try_admin(&["restore", "--from", junk.to_str().unwrap()])
            .is_err()
    );
    server.admin(&["restore", "--from", backup.to_str().unwrap()]);
    let kept = std::fs::read_dir(server.data.path())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains(".before-restore-"));
    assert!(
        kept,
        "the replaced database is kept beside the restored one"
    );
    server.start_again().await;
    let (status, _) = http::request(server.port, "GET", "/api/me", Some(&token), None).await;
    assert_eq!(status, 200, "the restored database serves");
}

#[tokio::test]
async fn tokens_are_listed_and_revoked_by_id_and_the_connection_closes() {
    let server = TestServer::start().await;
    let user = server.admin(&["add-user", "--name", "Tina", "--role", "sandbox"]);
    let phone = server.admin(&["issue-token", "--user", &user, "--label", "phone"]);
    let tablet = server.admin(&["issue-token", "--user", &user, "--label", "tablet"]);
    let mut connection = Client::join(&server.url(), &phone, "peer-phone").await;
    let listed = server.admin(&["list-tokens", "--user", &user]);
    assert!(
        !listed.contains(&phone) && !listed.contains(&tablet),
        "no secrets"
    );
    let line = listed
        .lines()
        .find(|l| l.split('\t').nth(1) == Some("phone"))
        .expect("the phone's token");
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields.len(), 6, "{line}");
    assert_eq!(fields[5], "active");
    assert_ne!(fields[4], "never", "tokens expire by default");
    server.admin(&["revoke-token", "--id", fields[0]]);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let code = loop {
        assert!(tokio::time::Instant::now() < deadline, "closed in time");
        if let Some(Received::Closed(code, _)) = connection.recv(Duration::from_secs(1)).await {
            break code;
        }
    };
    assert_eq!(code, 4401);
    let (status, _) = http::request(server.port, "GET", "/api/me", Some(&tablet), None).await;
    assert_eq!(status, 200, "the other token still works");
    let listed = server.admin(&["list-tokens", "--user", &user]);
    assert!(listed.lines().any(|l| l.ends_with("\trevoked")), "{listed}");
    assert!(
        server
            .try_admin(&["revoke-token", "--id", fields[0]])
            .is_err()
    );
}

#[tokio::test]
async fn the_sandbox_token_file_keeps_its_token_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox-token");
    let mut server =
        TestServer::start_with(&["--sandbox-token-file", file.to_str().unwrap()]).await;
    let first = std::fs::read_to_string(&file).unwrap();
    server.restart(false).await;
    let second = std::fs::read_to_string(&file).unwrap();
    assert_eq!(first, second, "reused");
    let (status, _) = http::request(server.port, "GET", "/api/me", Some(first.trim()), None).await;
    assert_eq!(status, 200);
    // A token that no longer works is replaced.
    std::fs::write(&file, "f".repeat(64)).unwrap();
    server.restart(false).await;
    let third = std::fs::read_to_string(&file).unwrap();
    assert_ne!(third.trim(), "f".repeat(64));
    let (status, _) = http::request(server.port, "GET", "/api/me", Some(third.trim()), None).await;
    assert_eq!(status, 200);
}
