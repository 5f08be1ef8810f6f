//! The change feed's doorbell on PostgreSQL: every append is followed (outside its
//! transaction, so commits do not serialise on the notify queue: scale-out.md §3.2) by a
//! `NOTIFY` on one channel; each node keeps one listening connection that rings a local
//! doorbell. A notification is only a hint: it is lost while the listener reconnects, so the
//! listener rings once after every (re)connect, and readers also wake on a timer and read the
//! feed from their cursor (§4.4).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The channel every node notifies and listens on.
pub const CHANNEL: &str = "nachbar_feed";

/// The application name of the listening connection (operators see it in
/// `pg_stat_activity`; tests end it with `pg_terminate_backend`).
pub const LISTENER_NAME: &str = "nachbar-feed-listener";

/// How long the listener waits before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_millis(200);

/// Why a wait on the doorbell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A notification (or a reconnect) rang.
    Rang,
    /// The timer ran out: read the feed anyway.
    Timer,
}

/// A node's doorbell for the change feed.
#[derive(Debug, Clone, Default)]
pub struct Doorbell {
    notify: Arc<Notify>,
    rings: Arc<AtomicU64>,
    connects: Arc<AtomicU64>,
}

impl Doorbell {
    /// Waits for a ring or for `timer`.
    pub async fn wait(&self, timer: Duration) -> Wake {
        tokio::select! {
            () = self.notify.notified() => Wake::Rang,
            () = tokio::time::sleep(timer) => Wake::Timer,
        }
    }

    fn ring(&self) {
        self.rings.fetch_add(1, Ordering::Relaxed);
        // A permit is kept when nobody waits, so a ring between two waits is not lost.
        self.notify.notify_one();
    }

    /// Rings so far (notifications and reconnects).
    pub fn rings(&self) -> u64 {
        self.rings.load(Ordering::Relaxed)
    }

    /// Times the listener has connected.
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }
}

/// Rings every node's doorbell (after a commit, on the connection that made it, outside its
/// transaction: a NOTIFY inside the write transaction serialises every commit of the
/// cluster, scale-out.md §3.2). Only a hint: a lost one is made up by the readers' timer.
pub(super) async fn ring_every_node(client: &tokio_postgres::Client) {
    if let Err(e) = client
        .execute("SELECT pg_notify($1, '')", &[&CHANNEL])
        .await
    {
        tracing::debug!(error = %e, "the feed notification was not sent");
    }
}

/// Starts the listener of the database at `url`: it connects, listens, rings on every
/// notification, and after a lost connection connects again (and rings, for the catch-up
/// read). Runs until aborted.
pub fn listen(url: &str) -> (Doorbell, JoinHandle<()>) {
    let bell = Doorbell::default();
    let url = url.to_owned();
    let task = {
        let bell = bell.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = listen_once(&url, &bell).await {
                    tracing::warn!(error = %e, "the feed listener lost its connection");
                }
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        })
    };
    (bell, task)
}

async fn listen_once(url: &str, bell: &Doorbell) -> Result<(), tokio_postgres::Error> {
    let mut config: tokio_postgres::Config = url.parse()?;
    super::with_network_timeouts(config.application_name(LISTENER_NAME));
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let (ended_tx, mut ended) = tokio::sync::oneshot::channel::<Option<tokio_postgres::Error>>();
    let driver = {
        let bell = bell.clone();
        tokio::spawn(async move {
            let end = loop {
                match futures_util::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(tokio_postgres::AsyncMessage::Notification(_))) => bell.ring(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break Some(e),
                    None => break None,
                }
            };
            let _ = ended_tx.send(end);
        })
    };
    let listen = format!("LISTEN {CHANNEL}");
    let listening = tokio::select! {
        r = client.batch_execute(&listen) => r,
        end = &mut ended => {
            driver.abort();
            return match end { Ok(Some(e)) => Err(e), _ => Ok(()) };
        }
    };
    if let Err(e) = listening {
        driver.abort();
        return Err(e);
    }
    bell.connects.fetch_add(1, Ordering::Relaxed);
    // What was notified while nobody listened is read now.
    bell.ring();
    let end = ended.await;
    drop(client);
    match end {
        Ok(Some(e)) => Err(e),
        _ => Ok(()),
    }
}
