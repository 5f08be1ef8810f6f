//! The storage watcher: what other writers put into storage reaches this node's hub. Other
//! nodes on the same PostgreSQL, admin commands and the web app's directory acts append
//! chunks and change the directory; the watcher reads the change feed from its cursor and the
//! directory when its version moved (or every `refresh`, to catch token expiry), and hands
//! both to the hub, which passes new changes to the documents' peers and closes what access
//! no longer allows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::access::DirectoryPolicy;
use crate::hubs::Hubs;
use crate::storage::StoreError;
use crate::storage::backend::{AccessStore, DocumentStore, FeedCursor};
use crate::storage::postgres::doorbell::Doorbell;

/// Chunks read from the feed in one query.
const PAGE: usize = 256;

/// What wakes the watcher.
#[derive(Debug, Clone)]
pub enum Wake {
    /// A timer alone (SQLite: the other writers are processes on this machine).
    Every(Duration),
    /// PostgreSQL's doorbell (a notification after another node's commit), and the timer for
    /// what a lost notification did not announce.
    Doorbell(Doorbell, Duration),
}

impl Wake {
    async fn next(&self) {
        match self {
            Wake::Every(period) => tokio::time::sleep(*period).await,
            Wake::Doorbell(bell, timer) => {
                let _rang_or_timer = bell.wait(*timer).await;
            }
        }
    }
}

/// What the watcher last saw.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    /// Directory version of the hub's current rules.
    pub directory_version: i64,
    /// Where the feed is read from next.
    pub cursor: FeedCursor,
}

/// The storage a watcher reads.
#[derive(Debug, Clone)]
pub struct Watched {
    /// The documents (their change feed).
    pub documents: Arc<dyn DocumentStore>,
    /// The directory.
    pub access: Arc<dyn AccessStore>,
}

/// Watches `watched` until the hub is gone: on each wake it reads the directory when its
/// version moved (or `refresh` passed) and hands the hub new access rules, then reads the
/// feed page by page and hands the hub each chunk. A failed read is logged and tried again on
/// the next wake, from the same cursor.
pub async fn watch(watched: Watched, hub: Hubs, mut seen: Seen, wake: Wake, refresh: Duration) {
    let mut last_read = Instant::now();
    loop {
        wake.next().await;
        let due = last_read.elapsed() >= refresh;
        match read_directory(&watched, seen.directory_version, due).await {
            Ok(None) => {}
            Ok(Some(dir)) => {
                seen.directory_version = dir.version;
                last_read = Instant::now();
                let policy = Arc::new(DirectoryPolicy::new(dir));
                if hub.set_policy(&policy).is_err() {
                    return;
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the directory failed"),
        }
        match forward_feed(&watched, &hub, &mut seen.cursor).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::error!(error = %e, "reading the change feed failed"),
        }
    }
}

async fn read_directory(
    watched: &Watched,
    known: i64,
    due: bool,
) -> Result<Option<crate::storage::Directory>, StoreError> {
    if !due && watched.access.directory_version().await? == known {
        return Ok(None);
    }
    let now = nachbar_core::time::Timestamp::now().millis();
    Ok(Some(watched.access.directory(now).await?))
}

/// Hands the hub every chunk after `cursor`; false when the hub is gone.
async fn forward_feed(
    watched: &Watched,
    hub: &Hubs,
    cursor: &mut FeedCursor,
) -> Result<bool, StoreError> {
    loop {
        let page = watched.documents.others_after(*cursor, PAGE).await?;
        *cursor = page.next;
        let more = page.more;
        for chunk in page.chunks {
            // A chunk of a document id that does not parse cannot have a peer.
            let Ok(doc) = chunk.doc_id.parse() else {
                continue;
            };
            if hub.external(doc, chunk.bytes).is_err() {
                return Ok(false);
            }
        }
        if !more {
            return Ok(true);
        }
    }
}
