//! The web app's read side on a database without a running server: `admin report` builds
//! the same reports the pages offer, either as a named user sees them (their access rules)
//! or as the operator, who holds the database anyway (a stand-in user that coaches every
//! business and coordinates every neighbourhood, known only to this process).

use std::sync::{Arc, Mutex};

use nachbar_core::label::Lang;
use tokio::sync::broadcast;

use super::session::SignedIn;
use super::{WebConfig, WebState};
use crate::access::{DirectoryPolicy, PolicyCell, roles};
use crate::storage::backend::Storage;
use crate::storage::web::WebStore;
use crate::storage::{SessionUser, StoreError};

/// The stand-in user id of the operator (never stored).
pub const OPERATOR: &str = "operator:admin-command";

/// Who a report is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// The operator: every document of the database.
    Operator,
    /// A user of the directory, with their access rules.
    User(String),
}

/// The web state over `storage` and `data` (either database), signed in as `reader` with
/// page language `lang`, as of `now_ms`.
///
/// # Errors
/// When the directory cannot be read.
pub async fn open(
    storage: Storage,
    data: Arc<dyn WebStore>,
    reader: &Reader,
    lang: Lang,
    now_ms: i64,
) -> Result<(WebState, SignedIn), StoreError> {
    let mut dir = storage.access.directory(now_ms).await?;
    let user_id = match reader {
        Reader::Operator => {
            let mut grants: Vec<(String, String)> = dir
                .businesses
                .keys()
                .map(|b| (roles::COACH.to_owned(), b.clone()))
                .collect();
            grants.extend(
                dir.neighbourhoods
                    .iter()
                    .map(|n| (roles::COORDINATOR.to_owned(), n.clone())),
            );
            dir.roles.insert(OPERATOR.to_owned(), grants);
            OPERATOR.to_owned()
        }
        Reader::User(id) => id.clone(),
    };
    let policy = Arc::new(DirectoryPolicy::new(dir));
    let who = SignedIn {
        user: SessionUser {
            user_id,
            name: String::new(),
            session_hash: String::new(),
        },
        policy: Arc::clone(&policy),
        lang,
    };
    let web = WebState {
        data,
        storage,
        policy: PolicyCell::new(policy),
        committed: broadcast::channel(1).0,
        limiter: Mutex::default(),
        views: super::cache::ViewCache::default(),
        edit_locks: super::edit::EditLocks::default(),
        live_streams: Mutex::default(),
        hashers: super::password::Hashers::default(),
        config: WebConfig::default(),
    };
    Ok((web, who))
}
