//! The one way async code uses a [`Store`] connection shared behind a mutex: the call runs on
//! a blocking thread (SQLite blocks, and the runtime's workers serve every connection), and a
//! poisoned lock or a failed task is a [`StoreError`] like any other.

use std::sync::{Arc, Mutex};

use super::{Store, StoreError};

/// A database connection shared by async tasks.
pub type SharedStore = Arc<Mutex<Store>>;

/// Runs `f` with the connection of `store` on a blocking thread.
///
/// # Errors
/// What `f` returns; [`StoreError::Unavailable`] when the lock is poisoned (a call panicked
/// while holding it) or the task failed.
pub async fn on_store<T: Send + 'static>(
    store: &SharedStore,
    f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        let mut guard = store.lock().map_err(|_| {
            StoreError::Unavailable("a call panicked holding the connection".to_owned())
        })?;
        f(&mut guard)
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("the storage task failed: {e}")))?
}
