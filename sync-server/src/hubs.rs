//! The hub workers: documents are independent, so each worker task owns its own [`Hub`] with
//! the documents whose id falls to it, and the hubs' work (Automerge apply, sync messages,
//! loads) runs on as many cores as there are workers. They share the writer (one transaction
//! for all, durable before advertised as before) and the access rules.
//!
//! A connection's handshake runs on the first worker (the primary), which holds every
//! connection and checks what spans connections (peer ids, storage-id claims); a connection
//! is attached to another worker with the identity its handshake gave it when it first sends
//! a message for one of that worker's documents. Per-connection bounds of the hub are shared
//! out over the workers ([`crate::hub::HubConfig::per_worker`]).

use std::hash::BuildHasher;
use std::sync::Arc;

use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::Message;
use tokio::sync::oneshot;

use crate::access::DirectoryPolicy;
use crate::hub::{HubInput, HubStats, Submission, SubmitError};
use crate::shell::{Command, HubSender};

/// The most hub workers (a connection keeps which it is attached to in a `u64`).
pub const MAX_WORKERS: usize = 64;

/// What one connection's `remote-subscription-change` messages may be: with several workers
/// the connection task holds these before it copies a message to every worker (one copy per
/// worker of what the primary would refuse anyway costs every worker).
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionBounds {
    /// Most storage ids one message may name.
    pub max_ids: usize,
    /// Messages a minute (bursts as large).
    pub per_minute: u32,
}

impl SubscriptionBounds {
    /// The bounds of `config`.
    pub fn of(config: &crate::hub::HubConfig) -> Self {
        SubscriptionBounds {
            max_ids: config.max_subscription_ids,
            per_minute: config.subscription_changes_per_minute,
        }
    }
}

/// Handles to the hub workers.
#[derive(Debug, Clone)]
pub struct Hubs {
    workers: Arc<[HubSender]>,
    subscriptions: SubscriptionBounds,
    /// Keyed at random per process: peers choose document ids, not which worker they fall to.
    spread: std::collections::hash_map::RandomState,
}

/// The hub task is gone (the server is stopping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the hub has stopped")]
pub struct HubStopped;

/// Where a connection's message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The worker at this index.
    Worker(usize),
    /// Every worker (what concerns all documents: remote-heads subscriptions).
    All,
}

impl Hubs {
    /// Handles to `workers` (at least one, at most [`MAX_WORKERS`]; the first is the primary),
    /// whose connections' subscriptions are bounded by `subscriptions`.
    ///
    /// # Panics
    /// With no worker, or more than [`MAX_WORKERS`].
    pub fn new(workers: Vec<HubSender>, subscriptions: SubscriptionBounds) -> Self {
        assert!(
            (1..=MAX_WORKERS).contains(&workers.len()),
            "between 1 and {MAX_WORKERS} hub workers"
        );
        Hubs {
            workers: workers.into(),
            subscriptions,
            spread: std::collections::hash_map::RandomState::new(),
        }
    }

    /// How many workers there are.
    pub fn count(&self) -> usize {
        self.workers.len()
    }

    /// The worker at `index` (the primary is 0).
    ///
    /// # Panics
    /// For an index out of range.
    pub fn worker(&self, index: usize) -> &HubSender {
        &self.workers[index]
    }

    /// The bounds of a connection's subscription changes.
    pub fn subscription_bounds(&self) -> SubscriptionBounds {
        self.subscriptions
    }

    /// The primary worker: handshakes and connection-wide messages.
    pub fn primary(&self) -> &HubSender {
        &self.workers[0]
    }

    /// The index of the worker that owns `doc`.
    pub fn index_of(&self, doc: &DocumentId) -> usize {
        let n = self.workers.len() as u64;
        usize::try_from(self.spread.hash_one(doc.as_bytes()) % n).unwrap_or(0)
    }

    /// The worker that owns `doc`.
    pub fn for_doc(&self, doc: &DocumentId) -> &HubSender {
        &self.workers[self.index_of(doc)]
    }

    /// Where a message of an established connection goes: a document's message to the
    /// document's worker, a remote-heads subscription to every worker, the rest (`leave`,
    /// `error`, a peer's gossip) to the primary.
    pub fn route(&self, message: &Message) -> Route {
        match message {
            Message::RemoteSubscriptionChange { .. } if self.count() > 1 => Route::All,
            m => Route::Worker(m.document_id().map_or(0, |doc| self.index_of(doc))),
        }
    }

    /// Hands the document's worker a chunk another process appended to storage.
    ///
    /// # Errors
    /// When the worker has stopped.
    pub fn external(&self, doc: DocumentId, bytes: Vec<u8>) -> Result<(), HubStopped> {
        self.for_doc(&doc)
            .send(Command::Input(HubInput::External { doc, bytes }))
            .map_err(|_| HubStopped)
    }

    /// New access rules for every worker.
    ///
    /// # Errors
    /// When a worker has stopped.
    pub fn set_policy(&self, policy: &Arc<DirectoryPolicy>) -> Result<(), HubStopped> {
        for w in self.workers.iter() {
            w.send(Command::SetPolicy(Arc::clone(policy)))
                .map_err(|_| HubStopped)?;
        }
        Ok(())
    }

    /// Waits until every worker's rules are at least at directory `version` (a worker behind
    /// it reads the directory itself: only after a directory change the storage watcher has
    /// not brought yet). Not one read handed to the others: a snapshot read before a token
    /// was issued lacks it (issuing one moves no version), and a worker re-checking its
    /// connections against it would close that token's connection as revoked.
    ///
    /// # Errors
    /// When a worker has stopped.
    pub async fn ensure_directory(&self, version: i64) -> Result<(), HubStopped> {
        let mut waiting = Vec::with_capacity(self.workers.len());
        for w in self.workers.iter() {
            let (done, ready) = oneshot::channel();
            w.send(Command::EnsureDirectory { version, done })
                .map_err(|_| HubStopped)?;
            waiting.push(ready);
        }
        for ready in waiting {
            ready.await.map_err(|_| HubStopped)?;
        }
        Ok(())
    }

    /// Hands a web edit to its document's worker; the receiver answers once it is durable.
    ///
    /// # Errors
    /// When the worker has stopped.
    pub fn submit(
        &self,
        submission: Submission,
    ) -> Result<oneshot::Receiver<Result<(), SubmitError>>, HubStopped> {
        let (done, answer) = oneshot::channel();
        self.for_doc(&submission.doc)
            .send(Command::Submit { submission, done })
            .map_err(|_| HubStopped)?;
        Ok(answer)
    }

    /// The counters of all workers together (peers as the primary counts them: it holds every
    /// connection).
    ///
    /// # Errors
    /// When a worker has stopped.
    pub async fn stats(&self) -> Result<HubStats, HubStopped> {
        let mut asked = Vec::with_capacity(self.workers.len());
        for w in self.workers.iter() {
            let (tx, rx) = oneshot::channel();
            w.send(Command::Stats(tx)).map_err(|_| HubStopped)?;
            asked.push(rx);
        }
        let mut total: Option<HubStats> = None;
        for rx in asked {
            let stats = rx.await.map_err(|_| HubStopped)?;
            match &mut total {
                None => total = Some(stats),
                Some(t) => t.add_worker(&stats),
            }
        }
        total.ok_or(HubStopped)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn hubs(n: usize) -> Hubs {
        Hubs::new(
            (0..n)
                .map(|_| tokio::sync::mpsc::unbounded_channel().0)
                .collect(),
            bounds(),
        )
    }

    /// The default bounds of a hub.
    pub(crate) fn bounds() -> SubscriptionBounds {
        SubscriptionBounds::of(&crate::hub::HubConfig::new(
            nachbar_core::protocol::PeerId("s".into()),
            nachbar_core::protocol::StorageId("t".into()),
        ))
    }

    #[test]
    fn random_documents_spread_over_the_workers_and_stay_where_they_fell() {
        let two = hubs(2);
        let mut counts = [0usize; 2];
        for _ in 0..1000 {
            let doc = DocumentId::random();
            let at = two.index_of(&doc);
            assert_eq!(at, two.index_of(&doc), "the same document, the same worker");
            counts[at] += 1;
        }
        assert!(
            counts.iter().all(|&c| c > 400),
            "about half each: {counts:?}"
        );
        let one = hubs(1);
        assert_eq!(one.index_of(&DocumentId::random()), 0);
    }

    #[test]
    fn subscriptions_go_to_every_worker_and_the_rest_to_the_primary() {
        let two = hubs(2);
        let subscription = Message::RemoteSubscriptionChange {
            sender_id: nachbar_core::protocol::PeerId("p".to_owned()),
            target_id: nachbar_core::protocol::PeerId("s".to_owned()),
            add: vec![],
            remove: vec![],
        };
        assert_eq!(two.route(&subscription), Route::All);
        assert_eq!(hubs(1).route(&subscription), Route::Worker(0));
        let leave = Message::Leave {
            sender_id: nachbar_core::protocol::PeerId("p".to_owned()),
        };
        assert_eq!(two.route(&leave), Route::Worker(0));
    }
}
