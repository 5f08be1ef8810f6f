//! The hub: a pure state machine that speaks the protocol with every connection, owns the
//! documents in memory and one `automerge::sync::State` per (document, connection).
//!
//! `Hub::handle(now, input) -> Effects`: no sockets, no clock, no database. The shell performs
//! the effects in order: persist, then send, then close. The hub never generates a sync
//! message for a document while a write of its changes is in flight, so nothing it sends
//! reveals a change before the database has committed it ("durable before advertised").
//! Replies are generated once per persisted batch for every peer of the document, not once per
//! incoming change.

mod document;
mod effects;
mod gossip;
mod handshake;
mod recheck;
mod relay;
mod session;
mod submit;
mod sync;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bounds;
#[cfg(test)]
mod tests_denied;
#[cfg(test)]
mod tests_gossip;
#[cfg(test)]
mod tests_peers;
#[cfg(test)]
mod tests_workers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use automerge::Automerge;
use automerge::sync::SyncDoc;
use nachbar_core::doc::Header;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PROTOCOL_VERSION, PeerId, PeerMetadata, StorageId};

use crate::access::{Access, DocInfo, Policy, Principal};
use crate::durable::{Append, DocRecord, StorageFailure, StoredDoc};

pub use effects::{Close, CloseCode, Effects, Identity, PersistRequest};
pub use submit::{Submission, SubmitError};

use document::{DocEntry, Loaded};
use session::Session;

/// A connection, numbered by the shell.
pub type ConnId = u64;

/// Milliseconds on a monotonic clock, given by the shell.
pub type Millis = u64;

/// Monotonic time in microseconds: the hub's fine clock, for latency figures.
pub type Micros = u64;

/// What happened, as the shell tells the hub.
#[derive(Debug)]
pub enum HubInput {
    /// An authenticated WebSocket was accepted.
    Connect {
        /// The connection.
        conn: ConnId,
        /// Its user.
        principal: Principal,
    },
    /// A connection whose handshake passed on another hub worker sends its first message for
    /// a document of this one: it is established here as it is there, without a `peer` answer.
    Attach {
        /// The connection.
        conn: ConnId,
        /// Its user.
        principal: Principal,
        /// Who its handshake said it is.
        identity: Identity,
    },
    /// A decoded message arrived.
    Receive {
        /// The connection.
        conn: ConnId,
        /// The message.
        message: Message,
    },
    /// The socket closed.
    Disconnect {
        /// The connection.
        conn: ConnId,
    },
    /// The connection task closed the socket for bad input the hub never saw (undecodable
    /// frames, a message flood, a peer that does not read): counted as a refusal of `kind`.
    Refused {
        /// The connection.
        conn: ConnId,
        /// What was refused (`protocol`, `rate`, `overflow`, `handshake`).
        kind: &'static str,
    },
    /// A document was read from storage.
    Loaded {
        /// The document.
        doc: DocumentId,
        /// Its bytes and record, `None` when not stored, or the storage error.
        result: Result<Option<StoredDoc>, StorageFailure>,
    },
    /// A persist request was committed (or failed).
    Persisted {
        /// The request id.
        id: u64,
        /// The outcome.
        result: Result<(), StorageFailure>,
    },
    /// Changes another process (an admin command, later another node) appended to storage:
    /// already durable, merged into the document if it is loaded and passed on to its peers.
    External {
        /// The document.
        doc: DocumentId,
        /// The appended chunk.
        bytes: Vec<u8>,
    },
    /// A change the server made for a user (a web edit), access already checked: merged,
    /// persisted, answered in [`Effects::submitted`] once durable, then advertised.
    Submit(Submission),
    /// Time passed (eviction of idle documents, owed fan-outs).
    Tick,
    /// A wake-up the hub asked for (`Effects::wake_at`): owed fan-outs.
    Wake,
}

/// Counters for `/metrics`.
#[derive(Debug, Clone)]
pub struct HubStats {
    /// Connections that completed the handshake and are open.
    pub peers: u64,
    /// Documents in memory.
    pub docs_loaded: u64,
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
    /// Documents evicted from memory.
    pub evictions: u64,
    /// Refusals by kind (`access`, `protocol`, `header`, `create`, `storage`).
    pub refusals: BTreeMap<&'static str, u64>,
    /// From the first change of a round arriving to the round going out to the peers (hub
    /// clock, in seconds at microsecond resolution): the server's share of fan-out latency,
    /// commit included. A clone shares the observations.
    pub fanout_latency: prometheus_client::metrics::histogram::Histogram,
}

impl Default for HubStats {
    fn default() -> Self {
        HubStats {
            peers: 0,
            docs_loaded: 0,
            messages_in: 0,
            messages_out: 0,
            evictions: 0,
            refusals: BTreeMap::new(),
            fanout_latency: crate::metrics::latency_histogram(),
        }
    }
}

impl HubStats {
    /// Adds the counters of another hub worker (its peers are counted by the primary, which
    /// holds every connection; the latency histogram is shared already).
    pub fn add_worker(&mut self, other: &HubStats) {
        self.docs_loaded += other.docs_loaded;
        self.messages_in += other.messages_in;
        self.messages_out += other.messages_out;
        self.evictions += other.evictions;
        for (kind, n) in &other.refusals {
            *self.refusals.entry(kind).or_default() += n;
        }
    }
}

/// Settings of the hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Our peer id.
    pub peer_id: PeerId,
    /// Our storage id.
    pub storage_id: StorageId,
    /// Evict a document this long after its last session ended.
    pub evict_after_ms: Millis,
    /// Largest ephemeral payload relayed.
    pub max_ephemeral_bytes: usize,
    /// Commits within this many ms of the last round of messages to a document's peers are sent
    /// together at the end of the window.
    pub fanout_window_ms: Millis,
    /// Bounds on sync messages, checked before Automerge applies them.
    pub sync_limits: crate::sync_limits::SyncLimits,
    /// Most changes of one document that may wait for missing dependencies; a peer that
    /// sends more is closed (1008) and the waiting changes are dropped.
    pub max_queued_changes: usize,
    /// Ephemeral messages a connection may send per second (bursts of twice as many).
    pub ephemeral_per_second: u32,
    /// Most storage ids one `remote-subscription-change` may name, and one connection follow.
    pub max_subscription_ids: usize,
    /// `remote-subscription-change` messages one connection may send per minute (bursts as
    /// large); beyond, it is closed (1008).
    pub subscription_changes_per_minute: u32,
    /// Most documents one connection may sync at once; beyond, it is closed (1008).
    pub max_docs_per_connection: usize,
    /// Most documents not stored yet (sessions waiting for their first changes) one connection
    /// may hold open at once, and most of its messages waiting for documents being loaded;
    /// beyond, such a document is answered `doc-unavailable` (a device offering more after a
    /// restore offers them again on its next connection).
    pub max_new_docs_per_connection: usize,
    /// `doc-unavailable` answers to `request`s one connection may receive per minute (bursts as
    /// large); beyond, it is closed (1008): guessing document ids costs only the guesser. (A
    /// `sync` offering a document is not a guess and is not counted.)
    pub max_unavailable_per_minute: u32,
    /// Ephemeral sessions remembered per connection for de-duplication (oldest forgotten).
    pub ephemeral_sessions_per_connection: usize,
    /// An ephemeral session unseen this long is forgotten.
    pub ephemeral_seen_ttl_ms: Millis,
    /// Unavailable documents remembered per connection to be offered if they arrive later.
    pub max_wanted_per_connection: usize,
    /// Where the server's share of fan-out latency is observed ([`HubStats::fanout_latency`]):
    /// hubs built from clones of one config share it.
    pub fanout_latency: prometheus_client::metrics::histogram::Histogram,
}

impl HubConfig {
    /// The defaults of decisions.md and reliability.md F4 for a server with these ids.
    pub fn new(peer_id: PeerId, storage_id: StorageId) -> Self {
        HubConfig {
            peer_id,
            storage_id,
            evict_after_ms: 60_000,
            max_ephemeral_bytes: 64 * 1024,
            fanout_window_ms: 15,
            sync_limits: crate::sync_limits::SyncLimits::default(),
            max_queued_changes: 10_000,
            ephemeral_per_second: 50,
            max_subscription_ids: 1024,
            subscription_changes_per_minute: 60,
            max_docs_per_connection: 10_000,
            max_new_docs_per_connection: 1024,
            max_unavailable_per_minute: 100,
            ephemeral_sessions_per_connection: 64,
            ephemeral_seen_ttl_ms: 120_000,
            max_wanted_per_connection: 256,
            fanout_latency: crate::metrics::latency_histogram(),
        }
    }

    /// This config for one of `workers` hub workers: what one connection may make the hub
    /// keep (documents, documents not stored yet, remembered wishes, ephemeral sessions) and
    /// the guesses it may make are shared out, so that all workers together hold the
    /// connection to about the bounds of one. Documents fall to workers at random, so each
    /// share has slack of three standard deviations (a connection near a bound is not closed
    /// because more of its documents fell to one worker). Rates of messages the peer must be
    /// able to send to one document (ephemeral messages) stay whole on each worker.
    #[must_use]
    pub fn per_worker(mut self, workers: usize) -> Self {
        let n = workers.max(1);
        let share = |bound: usize| {
            if n == 1 {
                return bound;
            }
            let even = bound.div_ceil(n);
            (even + 3 * even.isqrt()).min(bound)
        };
        self.max_docs_per_connection = share(self.max_docs_per_connection);
        self.max_new_docs_per_connection = share(self.max_new_docs_per_connection);
        self.max_wanted_per_connection = share(self.max_wanted_per_connection);
        self.ephemeral_sessions_per_connection = share(self.ephemeral_sessions_per_connection);
        let unavailable = usize::try_from(self.max_unavailable_per_minute).unwrap_or(usize::MAX);
        self.max_unavailable_per_minute = u32::try_from(share(unavailable)).unwrap_or(u32::MAX);
        self
    }
}

#[derive(Debug)]
struct Conn {
    principal: Principal,
    /// The peer id bound at the handshake.
    peer: Option<PeerId>,
    /// Documents with a session of this connection.
    docs: BTreeSet<DocumentId>,
    /// The rate of its ephemeral messages.
    ephemeral_rate: crate::rate::TokenBucket,
    /// Highest ephemeral count seen per session id of this peer, and when (bounded).
    ephemeral_seen: HashMap<String, (u64, Millis)>,
    /// The rate of `doc-unavailable` answers to it.
    unavailable_rate: crate::rate::TokenBucket,
    /// Unavailable documents it asked for (bounded), mirrored in [`Hub::wanted`].
    wanted: BTreeSet<DocumentId>,
    /// Its messages waiting for documents being loaded (bounded).
    pending_loads: usize,
    /// Its durable storage, as its join said (none for an ephemeral peer).
    storage_id: Option<StorageId>,
    /// Storages whose heads it follows (remote-heads gossip; bounded).
    follows: BTreeSet<StorageId>,
    /// The rate of its `remote-subscription-change` messages.
    subscription_rate: crate::rate::TokenBucket,
    /// Its handshake was on another hub worker (what ends the whole connection is counted
    /// there).
    attached: bool,
}

/// The document hub.
#[derive(Debug)]
pub struct Hub {
    config: HubConfig,
    policy: Arc<dyn Policy>,
    conns: HashMap<ConnId, Conn>,
    docs: HashMap<DocumentId, DocEntry>,
    /// Connections that asked for a document that was unavailable (late arrival).
    wanted: HashMap<DocumentId, BTreeSet<ConnId>>,
    /// Followed storage → the connections following it (remote-heads gossip).
    followers: HashMap<StorageId, BTreeSet<ConnId>>,
    /// Persist requests in flight → their document.
    in_flight: HashMap<u64, DocumentId>,
    /// Persist requests of submissions → the submission id to answer.
    submissions: HashMap<u64, u64>,
    next_persist: u64,
    stats: HubStats,
    now: Millis,
    now_micros: Micros,
    /// Test hook: panic when a message for this document arrives.
    #[cfg(test)]
    panic_on: Option<DocumentId>,
}

/// The connection and document an input concerns, for panic containment.
fn input_target(input: &HubInput) -> (Option<ConnId>, Option<DocumentId>) {
    match input {
        HubInput::Receive { conn, message } => (Some(*conn), message.document_id().copied()),
        HubInput::Connect { conn, .. }
        | HubInput::Attach { conn, .. }
        | HubInput::Disconnect { conn }
        | HubInput::Refused { conn, .. } => (Some(*conn), None),
        HubInput::Loaded { doc, .. } | HubInput::External { doc, .. } => (None, Some(*doc)),
        HubInput::Submit(s) => (None, Some(s.doc)),
        HubInput::Persisted { .. } | HubInput::Tick | HubInput::Wake => (None, None),
    }
}

impl Hub {
    /// A hub with no connections and no documents.
    pub fn new(config: HubConfig, policy: Arc<dyn Policy>) -> Self {
        let stats = HubStats {
            fanout_latency: config.fanout_latency.clone(),
            ..HubStats::default()
        };
        Hub {
            config,
            policy,
            conns: HashMap::new(),
            docs: HashMap::new(),
            wanted: HashMap::new(),
            followers: HashMap::new(),
            in_flight: HashMap::new(),
            submissions: HashMap::new(),
            next_persist: 1,
            stats,
            now: 0,
            now_micros: 0,
            #[cfg(test)]
            panic_on: None,
        }
    }

    /// The counters.
    pub fn stats(&self) -> HubStats {
        let mut stats = self.stats.clone();
        stats.docs_loaded = self.docs.values().filter(|d| d.is_ready()).count() as u64;
        stats.peers = self.conns.values().filter(|c| c.peer.is_some()).count() as u64;
        stats
    }

    /// Replaces the access policy (after a directory change) and re-checks every session.
    pub fn set_policy(&mut self, policy: Arc<dyn Policy>) -> Effects {
        self.policy = policy;
        let mut fx = Effects::default();
        self.recheck_access(&mut fx);
        fx
    }

    /// Handles one input like [`Hub::handle`], but contains a panic (a bug, or an Automerge
    /// failure on hostile input): the document the input concerned is dropped from memory and
    /// its peers are closed with 1011 (they reconnect and load it again from storage), the
    /// connection that sent it is closed, and everything else carries on (reliability.md E5).
    pub fn handle_contained(&mut self, now: Millis, input: HubInput) -> Effects {
        self.handle_contained_micros(now.saturating_mul(1_000), input)
    }

    /// [`Hub::handle_contained`] at monotonic time `now` in microseconds.
    pub fn handle_contained_micros(&mut self, now: Micros, input: HubInput) -> Effects {
        let (conn, doc) = input_target(&input);
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.handle_micros(now, input)
        }));
        match handled {
            Ok(fx) => fx,
            Err(_) => {
                tracing::error!(conn_id = ?conn, doc_id = ?doc, "the hub panicked on an input; contained");
                self.refuse("panic");
                let mut fx = Effects::default();
                let mut closing: Vec<ConnId> = conn.into_iter().collect();
                if let Some(doc) = doc
                    && let Some(entry) = self.docs.remove(&doc)
                {
                    if let DocEntry::Ready(l) = &entry {
                        closing.extend(l.sessions.keys().copied());
                    }
                    self.in_flight.retain(|_, d| *d != doc);
                    let in_flight = &self.in_flight;
                    self.submissions.retain(|p, _| in_flight.contains_key(p));
                }
                closing.sort_unstable();
                closing.dedup();
                for c in closing {
                    fx.close.push(Close {
                        conn: c,
                        code: CloseCode::Internal,
                        reason: "internal error, reconnect".to_owned(),
                    });
                    self.disconnect(c);
                }
                fx
            }
        }
    }

    /// Handles one input at monotonic time `now`.
    pub fn handle(&mut self, now: Millis, input: HubInput) -> Effects {
        self.handle_micros(now.saturating_mul(1_000), input)
    }

    /// Handles one input at monotonic time `now` in microseconds.
    pub fn handle_micros(&mut self, now: Micros, input: HubInput) -> Effects {
        self.now_micros = now;
        self.now = now / 1_000;
        let mut fx = Effects::default();
        match input {
            HubInput::Connect { conn, principal } => {
                let c = self.new_conn(principal);
                self.add_conn(conn, c);
            }
            HubInput::Attach {
                conn,
                principal,
                identity,
            } => self.attach(conn, principal, identity),
            HubInput::Receive { conn, message } => {
                self.stats.messages_in += 1;
                self.receive(conn, message, &mut fx);
            }
            HubInput::Disconnect { conn } => self.disconnect(conn),
            HubInput::Refused { conn, kind } => {
                self.refuse(kind);
                self.disconnect(conn);
            }
            HubInput::Loaded { doc, result } => self.loaded(doc, result, &mut fx),
            HubInput::Persisted { id, result } => self.persisted(id, result, &mut fx),
            HubInput::External { doc, bytes } => self.external(doc, &bytes, &mut fx),
            HubInput::Submit(submission) => self.submit(submission, &mut fx),
            HubInput::Tick => {
                self.due_fan_outs(&mut fx);
                self.evict_idle();
                self.forget_old_ephemera();
            }
            HubInput::Wake => self.due_fan_outs(&mut fx),
        }
        self.stats.messages_out += fx.send.len() as u64;
        fx
    }

    /// Establishes `conn`, whose handshake passed on another worker, as `identity`. (Its token
    /// is not checked here: this worker's rules may be older than the token. A revocation
    /// closes it on the worker that holds its handshake, and once a close is queued the
    /// connection hands no worker anything more.)
    fn attach(&mut self, conn: ConnId, principal: Principal, identity: Identity) {
        let mut c = self.new_conn(principal);
        c.peer = Some(identity.peer);
        c.storage_id = identity.storage_id;
        c.attached = true;
        self.add_conn(conn, c);
    }

    fn add_conn(&mut self, conn: ConnId, c: Conn) {
        // The shell numbers connections once and attaches each to a worker once.
        debug_assert!(!self.conns.contains_key(&conn), "connection {conn} twice");
        self.conns.entry(conn).or_insert(c);
    }

    fn new_conn(&self, principal: Principal) -> Conn {
        let now = self.now;
        Conn {
            principal,
            peer: None,
            docs: BTreeSet::new(),
            ephemeral_rate: crate::rate::TokenBucket::new(
                self.config.ephemeral_per_second,
                self.config.ephemeral_per_second.saturating_mul(2),
                now,
            ),
            ephemeral_seen: HashMap::new(),
            unavailable_rate: crate::rate::TokenBucket::per_minute(
                self.config.max_unavailable_per_minute,
                now,
            ),
            wanted: BTreeSet::new(),
            pending_loads: 0,
            storage_id: None,
            follows: BTreeSet::new(),
            subscription_rate: crate::rate::TokenBucket::per_minute(
                self.config.subscription_changes_per_minute,
                now,
            ),
            attached: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn panic_on(&mut self, doc: DocumentId) {
        self.panic_on = Some(doc);
    }

    fn refuse(&mut self, kind: &'static str) {
        *self.stats.refusals.entry(kind).or_default() += 1;
    }

    /// Like [`Hub::fail`], for what every worker of a connection sees alike and rules on alike
    /// (a `remote-subscription-change` goes to each): the worker that holds its handshake
    /// counts it, sends the `error` and closes; a worker it is attached to only forgets it.
    fn fail_everywhere(
        &mut self,
        conn: ConnId,
        code: CloseCode,
        kind: &'static str,
        message: String,
        fx: &mut Effects,
    ) {
        if self.conns.get(&conn).is_some_and(|c| c.attached) {
            return self.disconnect(conn);
        }
        self.fail(conn, code, kind, message, fx);
    }

    /// Sends `error` and closes the connection; it is forgotten at once.
    fn fail(
        &mut self,
        conn: ConnId,
        code: CloseCode,
        kind: &'static str,
        message: String,
        fx: &mut Effects,
    ) {
        self.refuse(kind);
        tracing::warn!(conn_id = conn, kind, %message, "closing connection");
        let target = self.conns.get(&conn).and_then(|c| c.peer.clone());
        fx.send.push((
            conn,
            Message::Error {
                message: message.clone(),
                sender_id: Some(self.config.peer_id.clone()),
                target_id: target,
            },
        ));
        fx.close.push(Close {
            conn,
            code,
            reason: message,
        });
        self.disconnect(conn);
    }

    fn disconnect(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        for doc in c.docs {
            if let Some(entry) = self.docs.get_mut(&doc) {
                entry.remove_session(conn, self.now);
            }
        }
        self.forget_follows(conn, &c.follows);
        for doc in c.wanted {
            if let Some(wanters) = self.wanted.get_mut(&doc) {
                wanters.remove(&conn);
                if wanters.is_empty() {
                    self.wanted.remove(&doc);
                }
            }
        }
    }

    /// Remembers that `conn` asked for the unavailable `doc` (offered if it arrives later);
    /// past the connection's bound the wish is not kept (the peer may ask again).
    fn want(&mut self, conn: ConnId, doc: DocumentId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.wanted.len() >= self.config.max_wanted_per_connection && !c.wanted.contains(&doc) {
            return;
        }
        c.wanted.insert(doc);
        self.wanted.entry(doc).or_default().insert(conn);
    }

    fn forget_old_ephemera(&mut self) {
        let oldest = self.now.saturating_sub(self.config.ephemeral_seen_ttl_ms);
        for c in self.conns.values_mut() {
            c.ephemeral_seen.retain(|_, (_, at)| *at >= oldest);
        }
    }

    fn evict_idle(&mut self) {
        let now = self.now;
        let after = self.config.evict_after_ms;
        let before = self.docs.len();
        self.docs.retain(|_, entry| !entry.evictable(now, after));
        self.stats.evictions += (before - self.docs.len()) as u64;
    }
}

/// Whether the changes to `doc` since `before` record only sign-offs their sender may record:
/// an entry under `sign_offs` must name the sender as its signer, in a role the sender holds
/// for the document's business (removing one is a content edit, allowed to writers). Other
/// kinds of document are not checked.
fn sign_offs_allowed(
    policy: &dyn Policy,
    doc: &automerge::Automerge,
    header: &nachbar_core::doc::Header,
    before: &[automerge::ChangeHash],
    who: &Principal,
) -> bool {
    use nachbar_core::doc::DocKind;
    if !matches!(header.kind, DocKind::ActionPlan | DocKind::Assessment) {
        return true;
    }
    nachbar_core::model::sign_offs_written(doc, before)
        .iter()
        .all(|w| {
            !w.present
                || (w.by.as_deref() == Some(who.user_id.as_str())
                    && policy.may_sign_as(who, header, &w.role))
        })
}
