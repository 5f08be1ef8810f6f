//! The app's observer: told when a document changed (on this device or from the server) and
//! when the sync status changed. Called from the bindings' runtime threads, never under a lock;
//! the [`Subscription`] returned by `subscribe` stops the deliveries when it is dropped (or
//! cancelled).

use std::sync::Arc;

use nachbar_core::client::{ClientEvent, Origin};
use tokio::sync::broadcast::error::RecvError;

use crate::SyncStatusRecord;

/// Implemented by the app (Kotlin interface, Swift protocol).
#[uniffi::export(with_foreign)]
pub trait ClientObserver: Send + Sync {
    /// A document changed; `remote` when the change came from the server.
    fn document_changed(&self, document_id: String, remote: bool);
    /// A document was removed from the device (access revoked).
    fn document_removed(&self, document_id: String);
    /// The sync status changed.
    fn status_changed(&self, status: SyncStatusRecord);
}

/// A running subscription; dropping it stops the deliveries.
#[derive(Debug, uniffi::Object)]
pub struct Subscription {
    task: tokio::task::JoinHandle<()>,
}

#[uniffi::export]
impl Subscription {
    /// Stops the deliveries now (dropping the subscription does the same).
    pub fn cancel(&self) {
        self.task.abort();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Subscription {
    /// Forwards `events` to `observer` on `runtime` until cancelled.
    pub(crate) fn spawn(
        runtime: &tokio::runtime::Handle,
        mut events: tokio::sync::broadcast::Receiver<ClientEvent>,
        observer: Arc<dyn ClientObserver>,
    ) -> Self {
        let task = runtime.spawn(async move {
            loop {
                match events.recv().await {
                    Ok(ClientEvent::DocumentChanged { doc, origin }) => {
                        observer.document_changed(doc.to_string(), origin == Origin::Remote);
                    }
                    Ok(ClientEvent::DocumentRemoved(doc)) => {
                        observer.document_removed(doc.to_string());
                    }
                    Ok(ClientEvent::StatusChanged(status)) => {
                        observer.status_changed(status.into());
                    }
                    // A slow observer missed some events; the next ones still arrive.
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the app's observer fell behind");
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        Subscription { task }
    }
}
