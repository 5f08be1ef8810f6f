//! The runtime the bindings own: the sync client's tasks and the observers' deliveries run
//! here, never on the app's threads (uniffi's async support only enters a small fallback
//! runtime; real work belongs on a runtime of our own, mobile.md §1.5).

use std::sync::OnceLock;

use crate::MobileError;

/// The shared multi-thread runtime (two workers named `nachbar-core`).
pub(crate) fn handle() -> Result<tokio::runtime::Handle, MobileError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    match RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("nachbar-core")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    }) {
        Ok(runtime) => Ok(runtime.handle().clone()),
        Err(e) => Err(MobileError::Internal {
            detail: format!("starting the runtime: {e}"),
        }),
    }
}
