//! The compactor thread: replaces a document's many chunks by one snapshot, on a connection of
//! its own, so the writer's group commit never waits for a document to be loaded and saved
//! (the swap of rows is the only part under the write lock; see [`Store::compact`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::storage::Store;
use crate::writer::WriterStats;

/// Starts the compactor. It takes the ids of documents that were just written, checks which
/// want compaction, and compacts them; it ends when every sender is dropped, after what was
/// queued.
pub fn spawn(
    mut store: Store,
    stats: Arc<WriterStats>,
) -> std::io::Result<(mpsc::Sender<String>, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<String>();
    let handle = std::thread::Builder::new()
        .name("nachbar-compactor".to_owned())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut docs = BTreeSet::from([first]);
                while let Ok(more) = rx.try_recv() {
                    docs.insert(more);
                }
                for doc in docs {
                    compact_if_due(&mut store, &doc, &stats);
                }
            }
            tracing::debug!("compactor stopped");
        })?;
    Ok((tx, handle))
}

fn compact_if_due(store: &mut Store, doc: &str, stats: &WriterStats) {
    match store.chunk_stats(doc) {
        Ok(s) if s.wants_compaction() => match store.compact(doc) {
            Ok(()) => {
                stats.compactions.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::error!(doc_id = doc, error = %e, "compaction failed"),
        },
        Ok(_) => {}
        Err(e) => tracing::error!(doc_id = doc, error = %e, "reading chunk stats failed"),
    }
}
