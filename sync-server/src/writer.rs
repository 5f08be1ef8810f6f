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

/// The most change bytes one batch carries (PostgreSQL takes at most 1 GB in one `bytea[]`;
/// a batch of many large uploads is cut here instead of failing as a whole, again and again).
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// Counters of the writer, for `/metrics`.
#[derive(Debug)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Appends committed.
    pub appends: AtomicU64,
    /// Durations of the commits, in seconds.
    pub commit_latency: prometheus_client::metrics::histogram::Histogram,
    /// Compactions done (by the compactor task).
    pub compactions: AtomicU64,
    /// Failed commits.
    pub failures: AtomicU64,
}

impl Default for WriterStats {
    fn default() -> Self {
        WriterStats {
            commits: AtomicU64::new(0),
            appends: AtomicU64::new(0),
            commit_latency: crate::metrics::latency_histogram(),
            compactions: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }
}

/// A persist request and where its answer goes (the hub worker that asked).
pub type Queued<R> = (R, PersistRequest);

/// Starts the writer task: one for all hub workers, so their appends share a transaction. It
/// ends when every sender is dropped, after committing what was queued. Each request is
/// answered by `report` with the reply address it was queued with; the documents of each
/// committed batch go to `compactor` (which decides whether they want compaction).
pub fn spawn<R: Send + Sync + 'static>(
    documents: Arc<dyn DocumentStore>,
    report: impl Fn(&R, HubInput) + Send + 'static,
    stats: Arc<WriterStats>,
    compactor: mpsc::UnboundedSender<String>,
) -> (mpsc::UnboundedSender<Queued<R>>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Queued<R>>();
    let handle = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut bytes = first.1.append.bytes.len();
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(more) => {
                        bytes += more.1.append.bytes.len();
                        batch.push(more);
                    }
                    Err(_) => break,
                }
            }
            let result = commit(&*documents, &batch, &stats).await;
            if result.is_err() && batch.len() > 1 {
                // One bad append must not fail the others grouped with it: each alone.
                for p in &batch {
                    let alone = commit(&*documents, std::slice::from_ref(p), &stats).await;
                    settle(p, alone, &report, &compactor);
                }
                continue;
            }
            for p in &batch {
                settle(p, result.clone(), &report, &compactor);
            }
        }
        tracing::info!("writer drained and stopped");
    });
    (tx, handle)
}

/// Appends `batch` in one transaction, counted in `stats`.
async fn commit<R>(
    documents: &dyn DocumentStore,
    batch: &[Queued<R>],
    stats: &WriterStats,
) -> Result<(), StorageFailure> {
    let appends: Vec<_> = batch.iter().map(|(_, p)| p.append.clone()).collect();
    let start = Instant::now();
    let result = documents
        .append(appends)
        .await
        .map_err(|e| StorageFailure::of(&e));
    let took = start.elapsed();
    match &result {
        Ok(()) => {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats
                .appends
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            stats.commit_latency.observe(took.as_secs_f64());
        }
        Err(e) => {
            stats.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, appends = batch.len(), "commit failed");
        }
    }
    result
}

/// Tells the hub worker how request `p` ended, and hands its document to the compactor once
/// durable.
fn settle<R>(
    (reply, p): &Queued<R>,
    result: Result<(), StorageFailure>,
    report: &impl Fn(&R, HubInput),
    compactor: &mpsc::UnboundedSender<String>,
) {
    let durable = result.is_ok();
    report(reply, HubInput::Persisted { id: p.id, result });
    if durable {
        let _ = compactor.send(p.append.doc_id.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::durable::{Append, DocRecord};
    use crate::storage::Store;
    use crate::storage::sqlite::SqliteDocuments;

    fn request(id: u64, doc: &str, register: bool) -> Queued<()> {
        let request = PersistRequest {
            id,
            append: Append {
                doc_id: doc.to_owned(),
                bytes: vec![u8::try_from(id).unwrap_or(0); 8],
                change_hashes: vec![],
                user_id: "u".to_owned(),
                register: register.then(|| DocRecord {
                    doc_id: doc.to_owned(),
                    kind: None,
                    neighbourhood: None,
                    business: None,
                    created_by: "u".to_owned(),
                    title: String::new(),
                }),
            },
        };
        ((), request)
    }

    #[tokio::test]
    async fn one_bad_append_does_not_fail_those_grouped_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let open = || Arc::new(Mutex::new(Store::open(&path).unwrap()));
        let documents = Arc::new(SqliteDocuments::new(open(), open(), open()));
        let (reports, mut reported) = mpsc::unbounded_channel();
        let (compactor, _compacting) = mpsc::unbounded_channel();
        let stats = Arc::new(WriterStats::default());
        let (tx, writer) = spawn(
            documents,
            move |(): &(), input| {
                let _ = reports.send(input);
            },
            Arc::clone(&stats),
            compactor,
        );
        // Queued before the task first runs: one batch. The middle one names a document that
        // was never registered, which the database refuses.
        tx.send(request(1, "doc-a", true)).unwrap();
        tx.send(request(2, "never-registered", false)).unwrap();
        tx.send(request(3, "doc-a", false)).unwrap();
        drop(tx);
        writer.await.unwrap();
        let mut outcomes = Vec::new();
        while let Ok(HubInput::Persisted { id, result }) = reported.try_recv() {
            outcomes.push((id, result.is_ok()));
        }
        outcomes.sort_unstable();
        assert_eq!(outcomes, vec![(1, true), (2, false), (3, true)]);
        assert_eq!(
            stats.failures.load(Ordering::Relaxed),
            2,
            "the batch, then the bad one alone"
        );
    }
}
