//! The compactor task: replaces a document's many chunks by one snapshot, through a storage
//! connection of its own, so the writer's group commit never waits for a document to be
//! loaded and saved (see [`DocumentStore::compact`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::storage::backend::DocumentStore;
use crate::writer::WriterStats;

/// Starts the compactor. It takes the ids of documents that were just written, checks which
/// want compaction, and compacts them; it ends when every sender is dropped, after what was
/// queued.
pub fn spawn(
    documents: Arc<dyn DocumentStore>,
    stats: Arc<WriterStats>,
) -> (mpsc::UnboundedSender<String>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let handle = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut docs = BTreeSet::from([first]);
            while let Ok(more) = rx.try_recv() {
                docs.insert(more);
            }
            for doc in docs {
                compact_if_due(&*documents, &doc, &stats).await;
            }
        }
        tracing::debug!("compactor stopped");
    });
    (tx, handle)
}

async fn compact_if_due(documents: &dyn DocumentStore, doc: &str, stats: &WriterStats) {
    match documents.chunk_stats(doc).await {
        Ok(s) if s.wants_compaction() => match documents.compact(doc).await {
            Ok(()) => {
                stats.compactions.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::error!(doc_id = doc, error = %e, "compaction failed"),
        },
        Ok(_) => {}
        Err(e) => tracing::error!(doc_id = doc, error = %e, "reading chunk stats failed"),
    }
}
