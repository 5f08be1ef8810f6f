//! The client object the apps hold: open, lifecycle, status, documents, sign out.

use std::sync::Arc;

use nachbar_core::client::{Client, ClientConfig};
use nachbar_core::doc::EditContext;
use nachbar_core::ids::DocumentId;
use nachbar_core::store::Durability;
use nachbar_core::time::Timestamp;

use crate::{ClientObserver, DocumentRecord, MobileError, Subscription, SyncStatusRecord, runtime};

/// The user's documents on this device and their sync with the server.
#[derive(Debug, uniffi::Object)]
pub struct NachbarClient {
    pub(crate) client: Client,
    /// The person editing (the user id the server gave at enrolment).
    pub(crate) person: String,
}

pub(crate) fn document_id(text: &str) -> Result<DocumentId, MobileError> {
    text.parse().map_err(|e| MobileError::InvalidInput {
        detail: format!("document id {text:?}: {e}"),
    })
}

#[uniffi::export]
impl NachbarClient {
    /// Opens the user's database at `database_path` (created on first use) for `server_url`
    /// (`https://…`) with the device `token`; `user_id` is the person the edits are made by.
    /// Nothing touches the network until `start`.
    #[uniffi::constructor]
    pub fn open(
        database_path: String,
        server_url: String,
        token: String,
        user_id: String,
    ) -> Result<Arc<Self>, MobileError> {
        let config = ClientConfig::new(database_path, server_url, token);
        Self::with_config(config, user_id)
    }

    /// Like `open`, with `synchronous=NORMAL` commits (tests and benchmarks; apps use `open`)
    /// and the document list refreshed every `refresh_ms`.
    #[uniffi::constructor]
    pub fn open_for_tests(
        database_path: String,
        server_url: String,
        token: String,
        user_id: String,
        refresh_ms: u64,
    ) -> Result<Arc<Self>, MobileError> {
        let mut config = ClientConfig::new(database_path, server_url, token);
        config.durability = Durability::Normal;
        config.refresh_every = std::time::Duration::from_millis(refresh_ms.max(50));
        Self::with_config(config, user_id)
    }

    /// Starts syncing in the background (once).
    pub fn start(&self) -> Result<(), MobileError> {
        self.client.start(&runtime::handle()?);
        Ok(())
    }

    /// Stops syncing for good; the data stays.
    pub fn stop(&self) {
        self.client.stop();
    }

    /// The app goes to the background (iOS suspension, Android Doze): close the connection;
    /// edits keep working and stay on the device.
    pub fn pause(&self) {
        self.client.pause();
    }

    /// The app is in the foreground again: reconnect now.
    pub fn resume(&self) {
        self.client.resume();
    }

    /// Replaces the token after the server refused the old one.
    pub fn set_token(&self, token: String) {
        self.client.set_token(token);
    }

    /// The sync status.
    pub fn status(&self) -> SyncStatusRecord {
        self.client.status().into()
    }

    /// Every document on this device.
    pub fn documents(&self) -> Result<Vec<DocumentRecord>, MobileError> {
        Ok(self
            .client
            .documents()?
            .into_iter()
            .map(|(id, status)| DocumentRecord::from_status(id.to_string(), status))
            .collect())
    }

    /// The whole document as Automerge bytes, to save as an `.automerge` file (work in a
    /// set-aside document the server would not take).
    pub fn export_document(&self, document_id: String) -> Result<Vec<u8>, MobileError> {
        Ok(self
            .client
            .export_document(&self::document_id(&document_id)?)?)
    }

    /// Removes a set-aside document (one the server no longer lists) with its undelivered
    /// changes, on the user's explicit request; any other document is refused.
    pub fn discard_document(&self, document_id: String) -> Result<(), MobileError> {
        Ok(self
            .client
            .discard_document(&self::document_id(&document_id)?)?)
    }

    /// The cached `/api/people` answer (JSON), for names offline.
    pub fn people_json(&self) -> Result<Option<String>, MobileError> {
        Ok(self.client.cached("people")?)
    }

    /// Tells `observer` about document and status changes until the returned subscription
    /// is dropped or cancelled.
    pub fn subscribe(
        &self,
        observer: Arc<dyn ClientObserver>,
    ) -> Result<Arc<Subscription>, MobileError> {
        Ok(Arc::new(Subscription::spawn(
            &runtime::handle()?,
            self.client.subscribe(),
            observer,
        )))
    }

    /// Signs out: stops syncing and removes the database and its files from the device.
    pub fn sign_out_and_wipe(&self) -> Result<(), MobileError> {
        Ok(self.client.sign_out_and_wipe()?)
    }
}

impl NachbarClient {
    fn with_config(config: ClientConfig, user_id: String) -> Result<Arc<Self>, MobileError> {
        if user_id.trim().is_empty() {
            return Err(MobileError::InvalidInput {
                detail: "user_id must not be empty".to_owned(),
            });
        }
        Ok(Arc::new(NachbarClient {
            client: Client::open(config)?,
            person: user_id,
        }))
    }

    /// The edit context of this user, now.
    pub(crate) fn ctx(&self) -> EditContext {
        EditContext::new(self.person.as_str(), Timestamp::now())
    }
}

/// Enrols this device with an invite code; returns the device token (runs on the bindings'
/// runtime).
#[uniffi::export(async_runtime = "tokio")]
pub async fn enroll(
    server_url: String,
    code: String,
    label: String,
) -> Result<String, MobileError> {
    let task =
        runtime::handle()?.spawn(async move { Client::enroll(&server_url, &code, &label).await });
    task.await
        .map_err(|e| MobileError::Internal {
            detail: e.to_string(),
        })?
        .map_err(Into::into)
}
