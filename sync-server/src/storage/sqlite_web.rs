//! [`WebStore`] on the embedded SQLite file: each call is one `Store` method (or a few in one
//! transaction) on a blocking thread, on a connection of its own (the web app's, the API's or
//! enrolment's), so pages never wait behind the hub's reads or the writer's commits.

use super::listing::{BusinessRow, DemoRow, DocVersion, PersonRole};
use super::web::{CredentialsOutcome, WebStore};
use super::{
    Access, Account, BusinessPerson, DocRecord, InviteOutcome, SequenceKey, SessionUser,
    SharedStore, StoreError, StoredDoc, on_store,
};
use crate::tokens::TokenInfo;

/// The web app's storage in SQLite, through one connection.
#[derive(Debug, Clone)]
pub struct SqliteWeb {
    store: SharedStore,
}

impl SqliteWeb {
    /// The web storage through `store`.
    pub fn new(store: SharedStore) -> Self {
        SqliteWeb { store }
    }
}

/// Runs one `Store` call with owned arguments on this connection.
macro_rules! on_web {
    ($self:ident, |$s:ident| $call:expr) => {
        on_store(&$self.store, move |$s| $call).await
    };
}

/// Owned copies of borrowed arguments, for the blocking closure.
macro_rules! owned {
    ($($name:ident),+) => { $(let $name = $name.to_owned();)+ };
}

#[async_trait::async_trait]
impl WebStore for SqliteWeb {
    async fn record(&self, doc_id: &str) -> Result<Option<DocRecord>, StoreError> {
        owned!(doc_id);
        on_web!(self, |s| s.record(&doc_id))
    }

    async fn records(&self) -> Result<Vec<DocRecord>, StoreError> {
        on_web!(self, |s| s.records())
    }

    async fn load_many(&self, ids: Vec<String>) -> Result<Vec<StoredDoc>, StoreError> {
        on_web!(self, |s| {
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.extend(s.load(id)?);
            }
            Ok(out)
        })
    }

    async fn hood_doc_versions(&self, n: &str) -> Result<Option<Vec<DocVersion>>, StoreError> {
        owned!(n);
        on_web!(self, |s| s.hood_doc_versions(&n))
    }

    async fn business_doc_versions(&self, b: &str) -> Result<Vec<DocVersion>, StoreError> {
        owned!(b);
        on_web!(self, |s| s.business_doc_versions(&b))
    }

    async fn doc_ids_of_kind(&self, n: &str, kind: &str) -> Result<Vec<String>, StoreError> {
        owned!(n, kind);
        on_web!(self, |s| s.doc_ids_of_kind(&n, &kind))
    }

    async fn neighbourhood_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        on_web!(self, |s| s.neighbourhood_names())
    }

    async fn businesses_in(&self, n: &str) -> Result<Vec<BusinessRow>, StoreError> {
        owned!(n);
        on_web!(self, |s| s.businesses_in(&n))
    }

    async fn people_in(&self, n: &str) -> Result<Vec<PersonRole>, StoreError> {
        owned!(n);
        on_web!(self, |s| s.people_in(&n))
    }

    async fn people_of_business(&self, b: &str) -> Result<Vec<BusinessPerson>, StoreError> {
        owned!(b);
        on_web!(self, |s| s.people_of_business(&b))
    }

    async fn user_name(&self, id: &str) -> Result<Option<String>, StoreError> {
        owned!(id);
        on_web!(self, |s| s.user_name(&id))
    }

    async fn live_users(&self) -> Result<Vec<(String, String)>, StoreError> {
        on_web!(self, |s| s.live_users())
    }

    async fn account_by_login(&self, login: &str) -> Result<Option<Account>, StoreError> {
        owned!(login);
        on_web!(self, |s| s.account_by_login(&login))
    }

    async fn set_credentials(
        &self,
        user_id: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<CredentialsOutcome, StoreError> {
        owned!(user_id, login, password_hash);
        on_web!(self, |s| s.in_transaction(|s| {
            if s.login_taken(&login, &user_id)? {
                return Ok(CredentialsOutcome::LoginTaken);
            }
            Ok::<_, StoreError>(
                if s.set_credentials(&user_id, &login, &password_hash, now_ms)? {
                    CredentialsOutcome::Set
                } else {
                    CredentialsOutcome::NoUser
                },
            )
        }))
    }

    async fn create_session(
        &self,
        user_id: &str,
        label: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        owned!(user_id, label);
        on_web!(self, |s| s.in_transaction(|s| {
            let secret = s.create_session(&user_id, &label, expires_at, now_ms)?;
            s.record_act(&user_id, "session.start", &user_id, "", now_ms)?;
            Ok::<_, StoreError>(secret)
        }))
    }

    async fn session_user(
        &self,
        secret: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StoreError> {
        owned!(secret);
        on_web!(self, |s| s.session_user(&secret, now_ms))
    }

    async fn revoke_session(&self, hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        owned!(hash);
        on_web!(self, |s| s.revoke_session(&hash, now_ms))
    }

    async fn accesses_of(&self, user_id: &str, now_ms: i64) -> Result<Vec<Access>, StoreError> {
        owned!(user_id);
        on_web!(self, |s| s.accesses_of(&user_id, now_ms))
    }

    async fn revoke_access(
        &self,
        user_id: &str,
        handle: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        owned!(user_id, handle);
        on_web!(self, |s| s
            .in_transaction(|s| s.revoke_access(&user_id, &handle, now_ms)))
    }

    async fn record_act(
        &self,
        user_id: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        owned!(user_id, action, subject, detail);
        on_web!(self, |s| s
            .record_act(&user_id, &action, &subject, &detail, now_ms))
    }

    async fn create_invite(
        &self,
        user_id: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        owned!(user_id);
        on_web!(self, |s| s.create_invite(&user_id, expires_at, now_ms))
    }

    async fn invite_user(
        &self,
        code: &str,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        owned!(code);
        on_web!(self, |s| s.invite_user(&code, now_ms))
    }

    async fn accept_invite(
        &self,
        code: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<InviteOutcome, StoreError> {
        owned!(code, login, password_hash);
        on_web!(self, |s| s.accept_invite(
            &code,
            &login,
            &password_hash,
            now_ms
        ))
    }

    async fn enroll(
        &self,
        code: &str,
        label: &str,
        token_expires_at: i64,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        owned!(code, label);
        on_web!(self, |s| s.enroll(&code, &label, token_expires_at, now_ms))
    }

    async fn tokens_of(&self, user_id: &str) -> Result<Vec<TokenInfo>, StoreError> {
        owned!(user_id);
        on_web!(self, |s| s.tokens_of(&user_id))
    }

    async fn revoke_token_id(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        owned!(id);
        on_web!(self, |s| s
            .in_transaction(|s| s.revoke_token_id(&id, now_ms)))
    }

    async fn create_calendar_feed(&self, user_id: &str, now_ms: i64) -> Result<String, StoreError> {
        owned!(user_id);
        on_web!(self, |s| s.create_calendar_feed(&user_id, now_ms))
    }

    async fn revoke_calendar_feed(&self, user_id: &str) -> Result<bool, StoreError> {
        owned!(user_id);
        on_web!(self, |s| s.revoke_calendar_feed(&user_id))
    }

    async fn calendar_feed_since(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        owned!(user_id);
        on_web!(self, |s| s.calendar_feed_since(&user_id))
    }

    async fn calendar_feed_user(&self, secret: &str) -> Result<Option<String>, StoreError> {
        owned!(secret);
        on_web!(self, |s| s.calendar_feed_user(&secret))
    }

    async fn calendar_sequences(
        &self,
        events: Vec<SequenceKey>,
        oldest: String,
    ) -> Result<Vec<i64>, StoreError> {
        on_web!(self, |s| s.calendar_sequences(&events, &oldest))
    }

    async fn neighbourhood_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        owned!(name);
        on_web!(self, |s| s.neighbourhood_named(&name))
    }

    async fn mark_demo_user(&self, id: &str, order: u32) -> Result<(), StoreError> {
        owned!(id);
        on_web!(self, |s| s.mark_demo_user(&id, order))
    }

    async fn demo_users(&self) -> Result<Vec<DemoRow>, StoreError> {
        on_web!(self, |s| s.demo_users())
    }

    async fn integrity(&self) -> Result<String, StoreError> {
        on_web!(self, |s| s.integrity_check())
    }
}
