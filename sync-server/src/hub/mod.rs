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
mod session;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use automerge::Automerge;
use automerge::sync::SyncDoc;
use nachbar_core::doc::Header;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PROTOCOL_VERSION, PeerId, PeerMetadata, StorageId};

use crate::access::{Access, DocInfo, Policy, Principal};
use crate::storage::{Append, DocRecord};

pub use effects::{Close, CloseCode, Effects, PersistRequest};

use document::{DocEntry, Loaded};
use session::Session;

/// A connection, numbered by the shell.
pub type ConnId = u64;

/// Milliseconds on a monotonic clock, given by the shell.
pub type Millis = u64;

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
    /// A document was read from storage.
    Loaded {
        /// The document.
        doc: DocumentId,
        /// Its bytes and record, `None` when not stored, or the storage error.
        result: Result<Option<(Vec<u8>, DocRecord)>, String>,
    },
    /// A persist request was committed (or failed).
    Persisted {
        /// The request id.
        id: u64,
        /// The outcome.
        result: Result<(), String>,
    },
    /// Changes another process (an admin command, later another node) appended to storage:
    /// already durable, merged into the document if it is loaded and passed on to its peers.
    External {
        /// The document.
        doc: DocumentId,
        /// The appended chunk.
        bytes: Vec<u8>,
    },
    /// Time passed (eviction of idle documents).
    Tick,
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Bounds on sync messages, checked before Automerge applies them.
    pub sync_limits: crate::sync_limits::SyncLimits,
}

#[derive(Debug)]
struct Conn {
    principal: Principal,
    /// The peer id bound at the handshake.
    peer: Option<PeerId>,
    /// Documents with a session of this connection.
    docs: BTreeSet<DocumentId>,
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
    /// Persist requests in flight → their document.
    in_flight: HashMap<u64, DocumentId>,
    next_persist: u64,
    /// Highest ephemeral count seen per (sender, session).
    ephemeral_seen: HashMap<(PeerId, String), u64>,
    stats: HubStats,
    now: Millis,
}

impl Hub {
    /// A hub with no connections and no documents.
    pub fn new(config: HubConfig, policy: Arc<dyn Policy>) -> Self {
        Hub {
            config,
            policy,
            conns: HashMap::new(),
            docs: HashMap::new(),
            wanted: HashMap::new(),
            in_flight: HashMap::new(),
            next_persist: 1,
            ephemeral_seen: HashMap::new(),
            stats: HubStats::default(),
            now: 0,
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

    /// Handles one input at monotonic time `now`.
    pub fn handle(&mut self, now: Millis, input: HubInput) -> Effects {
        self.now = now;
        let mut fx = Effects::default();
        match input {
            HubInput::Connect { conn, principal } => {
                self.conns.insert(
                    conn,
                    Conn {
                        principal,
                        peer: None,
                        docs: BTreeSet::new(),
                    },
                );
            }
            HubInput::Receive { conn, message } => {
                self.stats.messages_in += 1;
                self.receive(conn, message, &mut fx);
            }
            HubInput::Disconnect { conn } => self.disconnect(conn),
            HubInput::Loaded { doc, result } => self.loaded(doc, result, &mut fx),
            HubInput::Persisted { id, result } => self.persisted(id, result, &mut fx),
            HubInput::External { doc, bytes } => self.external(doc, &bytes, &mut fx),
            HubInput::Tick => self.evict_idle(),
        }
        self.stats.messages_out += fx.send.len() as u64;
        fx
    }

    fn refuse(&mut self, kind: &'static str) {
        *self.stats.refusals.entry(kind).or_default() += 1;
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

    fn receive(&mut self, conn: ConnId, message: Message, fx: &mut Effects) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let established = c.peer.clone();
        match (&established, message) {
            (
                None,
                Message::Join {
                    sender_id,
                    supported_protocol_versions,
                    peer_metadata,
                },
            ) => {
                self.join(
                    conn,
                    sender_id,
                    supported_protocol_versions,
                    peer_metadata,
                    fx,
                );
            }
            (None, other) => self.fail(
                conn,
                CloseCode::Protocol,
                "protocol",
                format!("expected join before {}", other.type_name()),
                fx,
            ),
            (Some(_), Message::Join { .. }) => {
                self.fail(
                    conn,
                    CloseCode::Protocol,
                    "protocol",
                    "second join".to_owned(),
                    fx,
                );
            }
            (Some(peer), message) => {
                if message.sender_id().is_some_and(|s| s != peer)
                    && !matches!(message, Message::Error { .. })
                {
                    let got = message
                        .sender_id()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    let msg = format!("peer ID mismatch: expected {peer}, received {got}");
                    return self.fail(conn, CloseCode::Policy, "protocol", msg, fx);
                }
                self.established(conn, message, fx);
            }
        }
    }

    fn join(
        &mut self,
        conn: ConnId,
        sender: PeerId,
        versions: Option<Vec<String>>,
        _metadata: Option<PeerMetadata>,
        fx: &mut Effects,
    ) {
        if versions
            .as_ref()
            .is_some_and(|v| !v.iter().any(|v| v == PROTOCOL_VERSION))
        {
            return self.fail(
                conn,
                CloseCode::Protocol,
                "protocol",
                "unsupported protocol version".to_owned(),
                fx,
            );
        }
        // A newer connection of the same peer replaces the old one (reconnect without waiting
        // for the old socket's timeout).
        let stale: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| **id != conn && c.peer.as_ref() == Some(&sender))
            .map(|(id, _)| *id)
            .collect();
        for old in stale {
            fx.close.push(Close {
                conn: old,
                code: CloseCode::Normal,
                reason: "replaced by a newer connection".to_owned(),
            });
            self.disconnect(old);
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.peer = Some(sender.clone());
        }
        fx.send.push((
            conn,
            Message::Peer {
                sender_id: self.config.peer_id.clone(),
                target_id: sender,
                selected_protocol_version: PROTOCOL_VERSION.to_owned(),
                peer_metadata: Some(PeerMetadata {
                    storage_id: Some(self.config.storage_id.clone()),
                    is_ephemeral: false,
                }),
            },
        ));
    }

    fn established(&mut self, conn: ConnId, message: Message, fx: &mut Effects) {
        let target_ok = |t: &PeerId| *t == self.config.peer_id;
        match message {
            Message::Request {
                target_id,
                document_id,
                data,
                ..
            }
            | Message::Sync {
                target_id,
                document_id,
                data,
                ..
            } if !target_ok(&target_id) => {
                let _ = (document_id, data);
                self.fail(
                    conn,
                    CloseCode::Policy,
                    "protocol",
                    format!("targetId {target_id} is not this server"),
                    fx,
                );
            }
            Message::Request {
                document_id, data, ..
            } => self.doc_message(conn, document_id, data, true, fx),
            Message::Sync {
                document_id, data, ..
            } => self.doc_message(conn, document_id, data, false, fx),
            Message::Ephemeral {
                sender_id,
                document_id,
                session_id,
                count,
                data,
                ..
            } => {
                self.ephemeral(conn, sender_id, document_id, session_id, count, data, fx);
            }
            Message::Leave { .. } | Message::Error { .. } => {
                fx.close.push(Close {
                    conn,
                    code: CloseCode::Normal,
                    reason: "bye".to_owned(),
                });
                self.disconnect(conn);
            }
            Message::Peer { .. } => {
                self.fail(
                    conn,
                    CloseCode::Protocol,
                    "protocol",
                    "unexpected peer message".to_owned(),
                    fx,
                );
            }
            // Nothing to do: the client tells us it lacks a document, or gossips heads.
            Message::DocUnavailable { .. }
            | Message::RemoteSubscriptionChange { .. }
            | Message::RemoteHeadsChanged { .. } => {}
            Message::Join { .. } => {}
        }
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
        for wanters in self.wanted.values_mut() {
            wanters.remove(&conn);
        }
        self.wanted.retain(|_, w| !w.is_empty());
    }

    /// A `request` or `sync` for a document.
    fn doc_message(
        &mut self,
        conn: ConnId,
        doc: DocumentId,
        data: Vec<u8>,
        request: bool,
        fx: &mut Effects,
    ) {
        match self.docs.get_mut(&doc) {
            None => {
                self.docs
                    .insert(doc, DocEntry::loading(conn, data, request));
                fx.load.push(doc);
            }
            Some(entry) if !entry.is_ready() => entry.queue(conn, data, request),
            Some(_) => self.sync_ready(conn, doc, &data, request, fx),
        }
    }

    fn loaded(
        &mut self,
        doc: DocumentId,
        result: Result<Option<(Vec<u8>, DocRecord)>, String>,
        fx: &mut Effects,
    ) {
        let Some(entry) = self.docs.remove(&doc) else {
            return;
        };
        let (queued, kept_sessions) = entry.into_queue();
        let ready = match result {
            Ok(Some((bytes, record))) => match Automerge::load(&bytes) {
                Ok(am) => {
                    let info = doc_info(&am, &record);
                    Some(Loaded::stored(am, info, self.now))
                }
                Err(e) => {
                    tracing::error!(doc_id = %doc, error = %e, "stored document does not load");
                    self.refuse("storage");
                    None
                }
            },
            Ok(None) => Some(Loaded::tentative(self.now)),
            Err(e) => {
                tracing::error!(doc_id = %doc, error = %e, "loading a document failed");
                self.refuse("storage");
                None
            }
        };
        let Some(mut loaded) = ready else {
            for (conn, _, _) in queued {
                self.unavailable(conn, doc, fx);
            }
            return;
        };
        loaded.restore_sessions(kept_sessions);
        self.docs.insert(doc, DocEntry::Ready(Box::new(loaded)));
        for (conn, data, request) in queued {
            if self.conns.contains_key(&conn) {
                self.sync_ready(conn, doc, &data, request, fx);
            }
        }
        self.drop_if_empty_tentative(doc);
    }

    fn unavailable(&mut self, conn: ConnId, doc: DocumentId, fx: &mut Effects) {
        let Some(peer) = self.conns.get(&conn).and_then(|c| c.peer.clone()) else {
            return;
        };
        fx.send.push((
            conn,
            Message::DocUnavailable {
                sender_id: self.config.peer_id.clone(),
                target_id: peer,
                document_id: doc,
            },
        ));
    }

    /// A tentative document nobody is pushing is forgotten (nothing was stored).
    fn drop_if_empty_tentative(&mut self, doc: DocumentId) {
        if let Some(DocEntry::Ready(l)) = self.docs.get(&doc)
            && !l.registered
            && l.sessions.is_empty()
            && l.persisting == 0
        {
            self.docs.remove(&doc);
        }
    }

    fn sync_ready(
        &mut self,
        conn: ConnId,
        doc: DocumentId,
        data: &[u8],
        request: bool,
        fx: &mut Effects,
    ) {
        let Some(principal) = self.conns.get(&conn).map(|c| c.principal.clone()) else {
            return;
        };
        let message = match automerge::sync::Message::decode(data) {
            Ok(m) => m,
            Err(e) => {
                return self.fail(
                    conn,
                    CloseCode::Invalid,
                    "protocol",
                    format!("invalid sync message: {e}"),
                    fx,
                );
            }
        };
        if let Err(e) = crate::sync_limits::check(&message, &self.config.sync_limits) {
            let code = if e == crate::sync_limits::LimitError::Malformed {
                CloseCode::Invalid
            } else {
                CloseCode::TooBig
            };
            return self.fail(conn, code, "limits", e.to_string(), fx);
        }
        let policy = Arc::clone(&self.policy);
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        // A new session: decide access once; denied looks exactly like missing.
        if !entry.sessions.contains_key(&conn) {
            let access = match &entry.info {
                Some(info) => policy.access(&principal, info),
                // Not stored yet: the first changes must show a document this user may create.
                None => Access::Write,
            };
            if !entry.registered
                && request
                && message.heads.is_empty()
                && entry.doc.get_heads().is_empty()
            {
                // The requester has nothing and neither do we: unavailable, remembered for a
                // late arrival.
                // (The empty tentative document is dropped once nobody pushes it: at the end
                // of `loaded`, or at the next tick; never here, where a queued push of the
                // same document may still follow.)
                self.wanted.entry(doc).or_default().insert(conn);
                self.unavailable(conn, doc, fx);
                return;
            }
            if access == Access::None {
                self.refuse("access");
                if request {
                    self.wanted.entry(doc).or_default().insert(conn);
                }
                self.unavailable(conn, doc, fx);
                return;
            }
            entry.add_session(conn, Session::new(access));
            if let Some(c) = self.conns.get_mut(&conn) {
                c.docs.insert(doc);
            }
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        let before = entry.doc.get_heads();
        let Some(session) = entry.sessions.get_mut(&conn) else {
            return;
        };
        if let Err(e) = entry.doc.receive_sync_message(&mut session.state, message) {
            return self.fail(
                conn,
                CloseCode::Invalid,
                "protocol",
                format!("sync message refused: {e}"),
                fx,
            );
        }
        let after = entry.doc.get_heads();
        if after != before
            && let Err((code, kind, reason)) =
                self.accept_changes(conn, doc, &principal, &before, fx)
        {
            return self.fail(conn, code, kind, reason, fx);
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        if entry.persisting == 0 {
            let peer = self.conns.get(&conn).and_then(|c| c.peer.clone());
            if let Some(peer) = peer {
                entry.generate_for(conn, &peer, &self.config.peer_id, doc, fx);
            }
        }
    }

    /// New changes arrived on `doc` from `conn`: check them and ask for them to be persisted.
    fn accept_changes(
        &mut self,
        conn: ConnId,
        doc: DocumentId,
        principal: &Principal,
        before: &[automerge::ChangeHash],
        fx: &mut Effects,
    ) -> Result<(), (CloseCode, &'static str, String)> {
        let policy = Arc::clone(&self.policy);
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return Ok(());
        };
        let mut register = None;
        match &entry.info {
            Some(DocInfo::Nachbar(header)) => {
                if Header::read(&entry.doc).ok().as_ref() != Some(header) {
                    // Taint: drop the in-memory copy and reload the durable one; the other
                    // peers' sessions survive the reload.
                    self.reload(doc, fx);
                    return Err((
                        CloseCode::Policy,
                        "header",
                        "a change to the document header is refused".to_owned(),
                    ));
                }
            }
            Some(DocInfo::Generic) => {
                if Header::read(&entry.doc).is_ok() {
                    self.reload(doc, fx);
                    return Err((
                        CloseCode::Policy,
                        "header",
                        "a header cannot be added to a generic document".to_owned(),
                    ));
                }
            }
            None => {
                let info = match Header::read(&entry.doc) {
                    Ok(h) => DocInfo::Nachbar(h),
                    Err(nachbar_core::DomainError::MissingHeader) => DocInfo::Generic,
                    Err(_) => DocInfo::Generic,
                };
                if !policy.may_create(principal, &info) {
                    self.refuse("create");
                    tracing::info!(conn_id = conn, doc_id = %doc, "refused to register a new document");
                    let peer = self.conns.get(&conn).and_then(|c| c.peer.clone());
                    self.docs.remove(&doc);
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.docs.remove(&doc);
                    }
                    if peer.is_some() {
                        // Stored nowhere; the client keeps its copy.
                        self.unavailable(conn, doc, fx);
                    }
                    return Ok(());
                }
                register = Some(record_for(doc, &entry.doc, &info, &principal.user_id));
                entry.info = Some(info);
            }
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return Ok(());
        };
        let bytes = entry.doc.save_after(before);
        let change_hashes = entry
            .doc
            .get_changes_meta(before)
            .iter()
            .map(|m| m.hash.to_string())
            .collect();
        let id = self.next_persist;
        self.next_persist += 1;
        entry.persisting += 1;
        self.in_flight.insert(id, doc);
        fx.persist.push(PersistRequest {
            id,
            append: Append {
                doc_id: doc.to_string(),
                bytes,
                change_hashes,
                user_id: principal.user_id.clone(),
                register,
            },
        });
        Ok(())
    }

    fn reload(&mut self, doc: DocumentId, fx: &mut Effects) {
        if let Some(entry) = self.docs.remove(&doc) {
            self.docs.insert(doc, entry.into_reloading());
            fx.load.push(doc);
        }
    }

    fn persisted(&mut self, id: u64, result: Result<(), String>, fx: &mut Effects) {
        let Some(doc) = self.in_flight.remove(&id) else {
            return;
        };
        if let Err(e) = result {
            // Not durable: nothing of it may be advertised. Drop the document and its sessions;
            // the peers reconnect and upload again.
            tracing::error!(doc_id = %doc, error = %e, "persisting changes failed");
            self.refuse("storage");
            let conns: Vec<ConnId> = match self.docs.remove(&doc) {
                Some(DocEntry::Ready(entry)) => entry.sessions.keys().copied().collect(),
                _ => Vec::new(),
            };
            for conn in conns {
                fx.close.push(Close {
                    conn,
                    code: CloseCode::Unavailable,
                    reason: "storage unavailable, try again".to_owned(),
                });
                self.disconnect(conn);
            }
            return;
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        entry.persisting = entry.persisting.saturating_sub(1);
        entry.registered = true;
        if entry.persisting > 0 {
            return;
        }
        // Everything in memory is durable now: one round of messages to every peer.
        let peers: Vec<(ConnId, PeerId)> = entry
            .sessions
            .keys()
            .filter_map(|c| {
                self.conns
                    .get(c)
                    .and_then(|conn| conn.peer.clone())
                    .map(|p| (*c, p))
            })
            .collect();
        for (conn, peer) in &peers {
            entry.generate_for(*conn, peer, &self.config.peer_id, doc, fx);
        }
        self.late_arrival(doc, fx);
    }

    fn external(&mut self, doc: DocumentId, bytes: &[u8], fx: &mut Effects) {
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        if !entry.registered {
            return;
        }
        let before = entry.doc.get_heads();
        if let Err(e) = entry.doc.load_incremental(bytes) {
            tracing::error!(doc_id = %doc, error = %e, "a stored chunk does not apply");
            self.reload(doc, fx);
            return;
        }
        if entry.doc.get_heads() == before || entry.persisting > 0 {
            // Nothing new, or the fan-out after the pending commit will carry it.
            return;
        }
        let peers: Vec<(ConnId, PeerId)> = entry
            .sessions
            .keys()
            .filter_map(|c| {
                self.conns
                    .get(c)
                    .and_then(|conn| conn.peer.clone())
                    .map(|p| (*c, p))
            })
            .collect();
        for (conn, peer) in &peers {
            entry.generate_for(*conn, peer, &self.config.peer_id, doc, fx);
        }
    }

    /// Peers that asked for `doc` while it was unavailable get it now, if they may read it.
    fn late_arrival(&mut self, doc: DocumentId, fx: &mut Effects) {
        let Some(wanters) = self.wanted.remove(&doc) else {
            return;
        };
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        let Some(info) = entry.info.clone() else {
            return;
        };
        for conn in wanters {
            let Some(c) = self.conns.get_mut(&conn) else {
                continue;
            };
            let Some(peer) = c.peer.clone() else { continue };
            let access = self.policy.access(&c.principal, &info);
            if access == Access::None || entry.sessions.contains_key(&conn) {
                continue;
            }
            entry.add_session(conn, Session::new(access));
            c.docs.insert(doc);
            entry.generate_for(conn, &peer, &self.config.peer_id, doc, fx);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn ephemeral(
        &mut self,
        conn: ConnId,
        sender: PeerId,
        doc: DocumentId,
        session_id: String,
        count: u64,
        data: Vec<u8>,
        fx: &mut Effects,
    ) {
        if data.len() > self.config.max_ephemeral_bytes {
            return self.fail(
                conn,
                CloseCode::TooBig,
                "protocol",
                "ephemeral message too large".to_owned(),
                fx,
            );
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get(&doc) else {
            return;
        };
        if !entry.sessions.contains_key(&conn) {
            return;
        }
        let key = (sender.clone(), session_id.clone());
        if self
            .ephemeral_seen
            .get(&key)
            .is_some_and(|seen| *seen >= count)
        {
            return;
        }
        self.ephemeral_seen.insert(key, count);
        for other in entry.sessions.keys().filter(|c| **c != conn) {
            if let Some(peer) = self.conns.get(other).and_then(|c| c.peer.clone()) {
                fx.send.push((
                    *other,
                    Message::Ephemeral {
                        sender_id: sender.clone(),
                        target_id: peer,
                        document_id: doc,
                        session_id: session_id.clone(),
                        count,
                        data: data.clone(),
                    },
                ));
            }
        }
    }

    fn evict_idle(&mut self) {
        let now = self.now;
        let after = self.config.evict_after_ms;
        let before = self.docs.len();
        self.docs.retain(|_, entry| !entry.evictable(now, after));
        self.stats.evictions += (before - self.docs.len()) as u64;
    }

    /// Re-checks every session after a policy change: a session that lost access is ended
    /// (the peer is told the document is unavailable); a read session that became read-only
    /// or writable switches mode.
    fn recheck_access(&mut self, fx: &mut Effects) {
        let policy = Arc::clone(&self.policy);
        // Revoked or expired tokens end their connections.
        let dead: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| !policy.token_active(&c.principal))
            .map(|(id, _)| *id)
            .collect();
        for conn in dead {
            self.refuse("revoked");
            fx.close.push(Close {
                conn,
                code: CloseCode::TokenExpired,
                reason: "token expired or revoked".to_owned(),
            });
            self.disconnect(conn);
        }
        let mut ended = Vec::new();
        for (doc, entry) in &mut self.docs {
            let DocEntry::Ready(entry) = entry else {
                continue;
            };
            let Some(info) = entry.info.clone() else {
                continue;
            };
            for (conn, session) in &mut entry.sessions {
                let Some(c) = self.conns.get(conn) else {
                    continue;
                };
                let access = policy.access(&c.principal, &info);
                if access == Access::None {
                    ended.push((*conn, *doc));
                } else {
                    session.set_access(access);
                }
            }
        }
        for (conn, doc) in ended {
            self.refuse("revoked");
            if let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) {
                entry.remove_session(conn, self.now);
            }
            if let Some(c) = self.conns.get_mut(&conn) {
                c.docs.remove(&doc);
            }
            self.unavailable(conn, doc, fx);
        }
    }
}

fn doc_info(doc: &Automerge, record: &DocRecord) -> DocInfo {
    match (&record.kind, Header::read(doc)) {
        (Some(_), Ok(header)) => DocInfo::Nachbar(header),
        _ => DocInfo::Generic,
    }
}

fn record_for(doc: DocumentId, am: &Automerge, info: &DocInfo, user: &str) -> DocRecord {
    crate::documents::record(&doc.to_string(), am, info, user)
}
