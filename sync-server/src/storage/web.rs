//! [`WebStore`]: what the web app, the REST API, enrolment and the admin commands read and
//! write besides the documents' chunks and the access directory: documents as stored with
//! their versions, the listings pages show, sign-in names and browser sessions, invitations,
//! device tokens as people manage them, the acts log and the calendar feeds. One trait with
//! the SQLite file ([`super::sqlite_web::SqliteWeb`]) and PostgreSQL
//! ([`super::postgres::PgWeb`]) behind it, so every page works on either.

use super::listing::{BusinessRow, DemoRow, DocVersion, PersonRole};
use super::{
    Access, Account, BusinessPerson, DocRecord, InviteOutcome, SequenceKey, SessionUser,
    StoreError, StoredDoc,
};
use crate::tokens::TokenInfo;

/// What setting a login name and password did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsOutcome {
    /// Set; the user's browser sessions are ended.
    Set,
    /// Another user has this login name.
    LoginTaken,
    /// No such (live) user.
    NoUser,
}

/// The web app's and the API's storage beside documents and the directory.
#[async_trait::async_trait]
pub trait WebStore: Send + Sync + std::fmt::Debug {
    /// The record of a document, if stored.
    async fn record(&self, doc_id: &str) -> Result<Option<DocRecord>, StoreError>;

    /// Every document record, oldest first.
    async fn records(&self) -> Result<Vec<DocRecord>, StoreError>;

    /// The documents among `ids` that are stored (record and bytes), in the order given.
    async fn load_many(&self, ids: Vec<String>) -> Result<Vec<StoredDoc>, StoreError>;

    /// The neighbourhood, profile and workshop documents of neighbourhood `n` with their
    /// versions, oldest first; `None` when the neighbourhood does not exist. A version moves
    /// with every commit and compaction of the document.
    async fn hood_doc_versions(&self, n: &str) -> Result<Option<Vec<DocVersion>>, StoreError>;

    /// The action plans and assessments of business `b` with their versions, oldest first.
    async fn business_doc_versions(&self, b: &str) -> Result<Vec<DocVersion>, StoreError>;

    /// The ids of neighbourhood `n`'s documents of `kind`, oldest first.
    async fn doc_ids_of_kind(&self, n: &str, kind: &str) -> Result<Vec<String>, StoreError>;

    /// Every neighbourhood: (id, name), by name.
    async fn neighbourhood_names(&self) -> Result<Vec<(String, String)>, StoreError>;

    /// The businesses of neighbourhood `n`, members and those that left.
    async fn businesses_in(&self, n: &str) -> Result<Vec<BusinessRow>, StoreError>;

    /// The owners, staff and coaches of neighbourhood `n`'s businesses, coaches first, by name.
    async fn people_in(&self, n: &str) -> Result<Vec<PersonRole>, StoreError>;

    /// The owners, staff and coach of business `b`: owners first, by name.
    async fn people_of_business(&self, b: &str) -> Result<Vec<BusinessPerson>, StoreError>;

    /// The name of user `id` (deleted or not).
    async fn user_name(&self, id: &str) -> Result<Option<String>, StoreError>;

    /// Every user not deleted: (id, name), by name.
    async fn live_users(&self) -> Result<Vec<(String, String)>, StoreError>;

    /// The (not deleted) user with this login name.
    async fn account_by_login(&self, login: &str) -> Result<Option<Account>, StoreError>;

    /// Sets a user's login name and password hash and ends the user's browser sessions.
    async fn set_credentials(
        &self,
        user_id: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<CredentialsOutcome, StoreError>;

    /// Starts a browser session for `user_id` (and records the act); returns the cookie's
    /// secret, stored hashed.
    async fn create_session(
        &self,
        user_id: &str,
        label: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError>;

    /// The user of a valid session secret at `now_ms`; marks it used (at most once a minute).
    async fn session_user(
        &self,
        secret: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StoreError>;

    /// Ends one session by its stored hash; whether it was active.
    async fn revoke_session(&self, hash: &str, now_ms: i64) -> Result<bool, StoreError>;

    /// The active device tokens and browser sessions of a user, newest use first.
    async fn accesses_of(&self, user_id: &str, now_ms: i64) -> Result<Vec<Access>, StoreError>;

    /// Ends a device token or browser session of `user_id` by its handle; whether one ended.
    async fn revoke_access(
        &self,
        user_id: &str,
        handle: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Records a directory act in the acts log.
    async fn record_act(
        &self,
        user_id: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Creates an invitation for `user_id` valid until `expires_at`; the code (shown once).
    async fn create_invite(
        &self,
        user_id: &str,
        expires_at: i64,
        now_ms: i64,
    ) -> Result<String, StoreError>;

    /// The user (id, name) an unused, unexpired invitation is for.
    async fn invite_user(
        &self,
        code: &str,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError>;

    /// Uses up an invitation to set the user's login name and password hash.
    async fn accept_invite(
        &self,
        code: &str,
        login: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<InviteOutcome, StoreError>;

    /// Turns an unused, unexpired invitation into a device token expiring at
    /// `token_expires_at`: (user, token), or `None` for a code that does not enrol.
    async fn enroll(
        &self,
        code: &str,
        label: &str,
        token_expires_at: i64,
        now_ms: i64,
    ) -> Result<Option<(String, String)>, StoreError>;

    /// The device tokens of a user, newest first.
    async fn tokens_of(&self, user_id: &str) -> Result<Vec<TokenInfo>, StoreError>;

    /// Revokes the active token with this id (the start of its hash); whether there was one.
    async fn revoke_token_id(&self, id: &str, now_ms: i64) -> Result<bool, StoreError>;

    /// A new calendar feed secret for `user_id`, replacing the old one.
    async fn create_calendar_feed(&self, user_id: &str, now_ms: i64) -> Result<String, StoreError>;

    /// Removes `user_id`'s calendar feed; whether there was one.
    async fn revoke_calendar_feed(&self, user_id: &str) -> Result<bool, StoreError>;

    /// When `user_id`'s calendar feed was made, if the user has one.
    async fn calendar_feed_since(&self, user_id: &str) -> Result<Option<i64>, StoreError>;

    /// The (not deleted) user whose feed `secret` opens.
    async fn calendar_feed_user(&self, secret: &str) -> Result<Option<String>, StoreError>;

    /// The SEQUENCE of each event (0 when new, raised when its fingerprint changed); rows of
    /// events dated before `oldest` go when anything is written.
    async fn calendar_sequences(
        &self,
        events: Vec<SequenceKey>,
        oldest: String,
    ) -> Result<Vec<i64>, StoreError>;

    /// The id of the neighbourhood named `name`, if there is one.
    async fn neighbourhood_named(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Marks user `id` as the demo's person number `order` (for the demo's token list).
    async fn mark_demo_user(&self, id: &str, order: u32) -> Result<(), StoreError>;

    /// The demo's people in their order, not deleted.
    async fn demo_users(&self) -> Result<Vec<DemoRow>, StoreError>;

    /// The database's own check: `ok` or what is damaged (SQLite's integrity check; on
    /// PostgreSQL, which checks its pages itself, that the database answers).
    async fn integrity(&self) -> Result<String, StoreError>;
}
