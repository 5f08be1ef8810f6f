//! The writer task: group commit. It takes every persist request that is waiting, appends them
//! to the documents' storage in one transaction (one fsync), and only then reports them as
//! persisted to the hub, which only then generates the replies that reveal the new heads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::durable::StorageFailure;
use crate::hub::{HubInput, PersistRequest};
use crate::storage::backend::DocumentStore;

/// The largest batch committed at once.
const MAX_BATCH: usize = 512;

/// Counters of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Appends committed.
    pub appends: AtomicU64,
    /// Sum of commit latencies in microseconds.
    pub commit_micros: AtomicU64,
    /// Slowest commit in microseconds.
    pub commit_micros_max: AtomicU64,
    /// Compactions done (by the compactor task).
    pub compactions: AtomicU64,
    /// Failed commits.
    pub failures: AtomicU64,
}

/// Starts the writer task. It ends when every sender is dropped, after committing what was
/// queued. The documents of each committed batch go to `compactor` (which decides whether
/// they want compaction).
pub fn spawn(
    documents: Arc<dyn DocumentStore>,
    report: impl Fn(HubInput) + Send + 'static,
    stats: Arc<WriterStats>,
    compactor: mpsc::UnboundedSender<String>,
) -> (mpsc::UnboundedSender<PersistRequest>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<PersistRequest>();
    let handle = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            let appends: Vec<_> = batch.iter().map(|p| p.append.clone()).collect();
            let start = Instant::now();
            let result = documents
                .append(appends)
                .await
                .map_err(|e| StorageFailure::of(&e));
            let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            match &result {
                Ok(()) => {
                    stats.commits.fetch_add(1, Ordering::Relaxed);
                    stats
                        .appends
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    stats.commit_micros.fetch_add(micros, Ordering::Relaxed);
                    stats.commit_micros_max.fetch_max(micros, Ordering::Relaxed);
                }
                Err(e) => {
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, appends = batch.len(), "commit failed");
                }
            }
            for p in &batch {
                report(HubInput::Persisted {
                    id: p.id,
                    result: result.clone(),
                });
            }
            if result.is_ok() {
                let mut docs: Vec<&str> = batch.iter().map(|p| p.append.doc_id.as_str()).collect();
                docs.sort_unstable();
                docs.dedup();
                for doc in docs {
                    let _ = compactor.send(doc.to_owned());
                }
            }
        }
        tracing::info!("writer drained and stopped");
    });
    (tx, handle)
}
