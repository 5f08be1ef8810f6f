//! The lock a running server holds on its data directory, so that `admin restore` (which
//! replaces the database files) refuses while a server uses them. An advisory lock on
//! `server.lock`: the operating system releases it when the process ends, also by SIGKILL.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Why the data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum DataLockError {
    /// Another process (a running server) holds it.
    #[error("a server is running on {0}: stop it first")]
    Held(String),
    /// The lock file could not be opened or locked.
    #[error("locking {path}: {source}")]
    Io {
        /// The lock file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The held lock; released when dropped.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

/// Takes the lock of `data_dir` for as long as the returned value lives.
///
/// # Errors
/// [`DataLockError::Held`] when another process holds it; I/O errors.
pub fn lock(data_dir: &Path) -> Result<DataLock, DataLockError> {
    let path = data_dir.join("server.lock");
    let io = |source| DataLockError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(DataLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(DataLockError::Held(data_dir.display().to_string())),
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        assert!(matches!(lock(dir.path()), Err(DataLockError::Held(_))));
        drop(held);
        assert!(lock(dir.path()).is_ok());
    }
}
