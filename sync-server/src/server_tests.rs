//! The wiring of a started server.

use std::time::Duration;

use clap::Parser;

use super::*;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeConfig,
}

#[tokio::test]
async fn a_hub_worker_that_ends_closes_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let config =
        Cli::parse_from(["nachbar-server", "--data-dir", data, "--hub-workers", "2"]).serve;
    let started = start(&config).await.unwrap();
    assert_eq!(started.hub_tasks.len(), 2);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !started.state.shutdown.is_cancelled(),
        "connections stay while the workers run"
    );
    started.hub_tasks[1].abort();
    let closing =
        tokio::time::timeout(Duration::from_secs(5), started.state.shutdown.cancelled()).await;
    assert!(
        closing.is_ok(),
        "the second worker's end closes the connections"
    );
    started.stop().await;
}
