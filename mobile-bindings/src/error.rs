//! One flat error for the apps (Kotlin `MobileException`, Swift `MobileError`).

use nachbar_core::DomainError;
use nachbar_core::client::ClientError;
use nachbar_core::store::ReplicaError;

/// Why a call failed; every variant carries a message fit for a log or a diagnostics screen.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum MobileError {
    /// A value the domain refuses (level outside 0–4, unknown question, empty title …);
    /// nothing changed.
    #[error("{detail}")]
    InvalidInput {
        /// What was wrong.
        detail: String,
    },
    /// No such document (or record) on this device.
    #[error("{detail}")]
    NotFound {
        /// What was missing.
        detail: String,
    },
    /// The document was written by a newer app: update the app.
    #[error("{detail}")]
    UpdateRequired {
        /// The details.
        detail: String,
    },
    /// The device's database failed; nothing was kept.
    #[error("{detail}")]
    Storage {
        /// The details.
        detail: String,
    },
    /// The server could not be reached.
    #[error("{detail}")]
    Network {
        /// The details.
        detail: String,
    },
    /// The server refused the token or invite code: sign in again.
    #[error("{detail}")]
    Unauthorized {
        /// The details.
        detail: String,
    },
    /// The client was stopped or signed out.
    #[error("{detail}")]
    Closed {
        /// The details.
        detail: String,
    },
    /// Anything else (a bug: please report it).
    #[error("{detail}")]
    Internal {
        /// The details.
        detail: String,
    },
}

impl From<DomainError> for MobileError {
    fn from(e: DomainError) -> Self {
        let detail = e.to_string();
        match e {
            DomainError::NewerSchema { .. } => MobileError::UpdateRequired { detail },
            DomainError::UnknownQuestion(_) | DomainError::UnknownRecord { .. } => {
                MobileError::NotFound { detail }
            }
            _ => MobileError::InvalidInput { detail },
        }
    }
}

impl From<ClientError> for MobileError {
    fn from(e: ClientError) -> Self {
        let detail = e.to_string();
        match e {
            ClientError::Local(ReplicaError::Domain(d)) => d.into(),
            ClientError::Local(ReplicaError::Missing(_)) => MobileError::NotFound { detail },
            ClientError::Local(ReplicaError::Store(_)) => MobileError::Storage { detail },
            ClientError::Local(ReplicaError::NotSetAside(_)) => {
                MobileError::InvalidInput { detail }
            }
            ClientError::Config(_) => MobileError::InvalidInput { detail },
            ClientError::Network(_) | ClientError::Server(_) => MobileError::Network { detail },
            ClientError::Unauthorized => MobileError::Unauthorized { detail },
            ClientError::Closed => MobileError::Closed { detail },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for MobileError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        MobileError::Internal {
            detail: format!("an observer failed: {}", e.reason),
        }
    }
}
