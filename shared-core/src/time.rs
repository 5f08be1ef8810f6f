//! Wall-clock time as carried in documents: display data only, never used to decide a merge.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, as read from the device clock by the caller.
///
/// The pure core never reads the clock itself; every edit receives the time from its
/// [`EditContext`](crate::doc::EditContext).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The timestamp in milliseconds.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The timestamp in whole seconds (the unit of Automerge change times).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The current time of this machine's clock.
    #[allow(clippy::disallowed_methods)] // the one place the core reads the clock
    pub fn now() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self(millis)
    }
}
