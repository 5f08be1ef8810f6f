//! Document sync: loading, sessions, accepting and persisting changes, fan-out, late arrival, changes from storage.

use super::*;

/// Why a connection may not open another session.
enum Room {
    /// It has all the documents one connection may sync: closed.
    Full(String),
    /// It has all the documents not stored yet it may hold at once: this one is answered
    /// unavailable for now (a device offers it again on its next connection).
    NotNow,
}

/// How far a burst may widen the fan-out window, as a multiple of the configured one.
const MAX_WINDOW_FACTOR: Millis = 8;

/// A round within this many windows of the last one that carries at least [`BUSY_CHANGES`]
/// changes counts as part of a burst (peers uploading offline work); a single writer's
/// steady edits do not.
const BUSY_FACTOR: Millis = 4;

/// See [`BUSY_FACTOR`].
const BUSY_CHANGES: usize = 16;

/// A peer that has not answered our last message with changes gets the next one when it
/// answers, or after this long at the latest.
pub(super) const ANSWER_WAIT_MS: Millis = 2_000;

impl Hub {
    /// A `request` or `sync` for a document.
    pub(super) fn doc_message(
        &mut self,
        conn: ConnId,
        doc: DocumentId,
        data: Vec<u8>,
        request: bool,
        fx: &mut Effects,
    ) {
        let ready = self.docs.get(&doc).map(DocEntry::is_ready);
        if ready != Some(true) {
            // Waiting for a load: bounded per connection.
            let max = self.config.max_new_docs_per_connection;
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.pending_loads >= max {
                return self.unavailable(conn, doc, fx);
            }
            c.pending_loads += 1;
        }
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

    pub(super) fn loaded(
        &mut self,
        doc: DocumentId,
        result: Result<Option<StoredDoc>, StorageFailure>,
        fx: &mut Effects,
    ) {
        let Some(entry) = self.docs.remove(&doc) else {
            return;
        };
        let super::document::Waiting {
            queued,
            sessions: kept_sessions,
            submissions,
            stale,
            gossip,
        } = entry.into_queue();
        for (conn, _, _) in &queued {
            if let Some(c) = self.conns.get_mut(conn) {
                c.pending_loads = c.pending_loads.saturating_sub(1);
            }
        }
        let ready = match result {
            Ok(Some(StoredDoc { bytes, record })) => match crate::durable::load_automerge(&bytes) {
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
            for s in submissions {
                fx.submitted.push((
                    s.id,
                    Err(SubmitError::Storage(StorageFailure(
                        "the document does not load".to_owned(),
                    ))),
                ));
            }
            return;
        };
        loaded.restore_sessions(kept_sessions);
        loaded.gossip = gossip;
        self.docs.insert(doc, DocEntry::Ready(Box::new(loaded)));
        // Sessions kept across a reload: access may have changed meanwhile (a re-check skips
        // documents being loaded), and a tentative document may have been stored.
        self.recheck_sessions(doc, fx);
        for (conn, data, request) in queued {
            if self.conns.contains_key(&conn) {
                self.sync_ready(conn, doc, &data, request, fx);
            }
        }
        for s in submissions {
            self.apply_submission(s, fx);
        }
        if stale
            && self
                .docs
                .get(&doc)
                .is_some_and(|e| !e.is_ready_and_persisting())
        {
            // What another writer committed while this load ran may be missing from it.
            self.reload(doc, fx);
            return;
        }
        self.drop_if_empty_tentative(doc);
    }

    /// Answers a peer's `request` or `sync` with `doc-unavailable`, at most
    /// [`HubConfig::max_unavailable_per_minute`] times a minute: past that the connection is
    /// closed (1008), so guessing document ids costs only the guesser.
    fn answer_unavailable(&mut self, conn: ConnId, doc: DocumentId, fx: &mut Effects) {
        let now = self.now;
        let within = self
            .conns
            .get_mut(&conn)
            .is_some_and(|c| c.unavailable_rate.take(now));
        if !within {
            let limit = self.config.max_unavailable_per_minute;
            return self.fail(
                conn,
                CloseCode::Policy,
                "limits",
                format!("more than {limit} unavailable documents per minute"),
                fx,
            );
        }
        self.unavailable(conn, doc, fx);
    }

    /// Whether `conn` may open one more session (on a stored document, or on one not stored
    /// yet when `registered` is false); the reason when not.
    fn room_for_session(&self, conn: ConnId, registered: bool) -> Result<(), Room> {
        let Some(c) = self.conns.get(&conn) else {
            return Ok(());
        };
        let max = self.config.max_docs_per_connection;
        if c.docs.len() >= max {
            return Err(Room::Full(format!(
                "more than {max} documents on one connection"
            )));
        }
        if !registered {
            let max = self.config.max_new_docs_per_connection;
            let new = c
                .docs
                .iter()
                .filter(|d| matches!(self.docs.get(d), Some(DocEntry::Ready(l)) if !l.registered))
                .count();
            if new >= max {
                return Err(Room::NotNow);
            }
        }
        Ok(())
    }

    pub(super) fn unavailable(&mut self, conn: ConnId, doc: DocumentId, fx: &mut Effects) {
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
    pub(super) fn drop_if_empty_tentative(&mut self, doc: DocumentId) {
        if let Some(DocEntry::Ready(l)) = self.docs.get(&doc)
            && !l.registered
            && l.sessions.is_empty()
            && l.persisting == 0
        {
            self.docs.remove(&doc);
        }
    }

    pub(super) fn sync_ready(
        &mut self,
        conn: ConnId,
        doc: DocumentId,
        data: &[u8],
        request: bool,
        fx: &mut Effects,
    ) {
        #[cfg(test)]
        if self.panic_on == Some(doc) {
            panic!("test hook: panic on {doc}");
        }
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
        let change_count = match crate::sync_limits::check(&message, &self.config.sync_limits) {
            Ok(n) => n,
            Err(e) => {
                let code = if matches!(
                    e,
                    crate::sync_limits::LimitError::Malformed
                        | crate::sync_limits::LimitError::Bloom
                ) {
                    CloseCode::Invalid
                } else {
                    CloseCode::TooBig
                };
                return self.fail(conn, code, "limits", e.to_string(), fx);
            }
        };
        let policy = Arc::clone(&self.policy);
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        // A new session: decide access once; denied looks exactly like missing.
        if !entry.sessions.contains_key(&conn) {
            // Not stored yet (`None`): the first changes must show a document this user may
            // create, and every session is ruled on once they have arrived (`decide_sessions`).
            let access = entry
                .info
                .as_ref()
                .map(|info| policy.access(&principal, info));
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
                self.want(conn, doc);
                self.answer_unavailable(conn, doc, fx);
                return;
            }
            if access == Some(Access::None) {
                self.refuse("access");
                if request {
                    self.want(conn, doc);
                    self.answer_unavailable(conn, doc, fx);
                } else {
                    self.unavailable(conn, doc, fx);
                }
                return;
            }
            let registered = entry.registered;
            match self.room_for_session(conn, registered) {
                Ok(()) => {}
                Err(Room::Full(reason)) => {
                    return self.fail(conn, CloseCode::Policy, "limits", reason, fx);
                }
                // Offered again on the peer's next connection.
                Err(Room::NotNow) => return self.unavailable(conn, doc, fx),
            }
            let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
                return;
            };
            entry.add_session(conn, access.map_or_else(Session::undecided, Session::new));
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
        session.unanswered = 0;
        if let Err(e) = entry.doc.receive_sync_message(&mut session.state, message) {
            return self.fail(
                conn,
                CloseCode::Invalid,
                "protocol",
                format!("sync message refused: {e}"),
                fx,
            );
        }
        if change_count > 0 {
            // Changes whose dependencies are missing wait inside the document; bound them.
            if automerge::ReadDoc::get_missing_deps(&entry.doc, &[]).is_empty() {
                entry.queued_changes = 0;
            } else {
                entry.queued_changes += change_count;
            }
            if entry.queued_changes > self.config.max_queued_changes {
                let max = self.config.max_queued_changes;
                // The waiting changes go with the in-memory copy; the durable one reloads.
                self.reload(doc, fx);
                return self.fail(
                    conn,
                    CloseCode::Policy,
                    "limits",
                    format!("more than {max} changes wait for missing dependencies"),
                    fx,
                );
            }
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
        if entry.persisting > 0 {
            return;
        }
        if !self.followers.is_empty() {
            self.gossip_heads(doc, Some(conn), fx);
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        // During a burst, the answer to a peer we already talk to waits for the next round of
        // the document (at most one window), so its messages carry more at once.
        let known = entry
            .sessions
            .get(&conn)
            .is_some_and(|s| s.last_sent.is_some());
        if known
            && entry.window_ms > self.config.fanout_window_ms
            && let Some(last) = entry.last_fanout
        {
            entry.fanout_pending = true;
            fx.wake(last + entry.window_ms);
            return;
        }
        let peer = self.conns.get(&conn).and_then(|c| c.peer.clone());
        if let Some(peer) = peer {
            entry.generate_for(self.now, conn, &peer, &self.config.peer_id, doc, fx);
        }
    }

    /// New changes arrived on `doc` from `conn`: check them and ask for them to be persisted.
    pub(super) fn accept_changes(
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
            Some(DocInfo::Nachbar(header, _)) => {
                // One read gives both the header to check and a workshop's invitations.
                let current = DocInfo::read(&entry.doc);
                if current.header() != Some(header) {
                    // Taint: drop the in-memory copy and reload the durable one; the other
                    // peers' sessions survive the reload.
                    self.reload(doc, fx);
                    return Err((
                        CloseCode::Policy,
                        "header",
                        "a change to the document header is refused".to_owned(),
                    ));
                }
                if !super::sign_offs_allowed(&*policy, &entry.doc, header, before, principal) {
                    self.refuse("sign-off");
                    self.reload(doc, fx);
                    return Err((
                        CloseCode::Policy,
                        "sign-off",
                        "a sign-off may only be recorded by its signer, in a role they hold"
                            .to_owned(),
                    ));
                }
                // A workshop's invitations may have changed: new sessions see them.
                entry.info = Some(current);
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
                let info = DocInfo::read(&entry.doc);
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
                // The header is known now: every session opened on the tentative document
                // (the uploader's included) gets the access its user has, or ends.
                self.decide_sessions(doc, fx);
            }
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return Ok(());
        };
        // The uploader is owed a message with the new heads once they are durable, even if
        // Automerge thinks it knows them (its own heads may have reached us in a message that
        // crossed ours): that message is its acknowledgement.
        if let Some(session) = entry.sessions.get_mut(&conn) {
            session.owes_ack = true;
        }
        let bytes = entry.doc.save_after(before);
        let change_hashes: Vec<String> = entry
            .doc
            .get_changes_meta(before)
            .iter()
            .map(|m| m.hash.to_string())
            .collect();
        let id = self.next_persist;
        self.next_persist += 1;
        entry.persisting += 1;
        entry.changes_since_round += change_hashes.len();
        entry.oldest_unsent.get_or_insert(self.now_micros);
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

    pub(super) fn reload(&mut self, doc: DocumentId, fx: &mut Effects) {
        if let Some(entry) = self.docs.remove(&doc) {
            self.docs.insert(doc, entry.into_reloading());
            fx.load.push(doc);
        }
    }

    pub(super) fn persisted(
        &mut self,
        id: u64,
        result: Result<(), StorageFailure>,
        fx: &mut Effects,
    ) {
        let Some(doc) = self.in_flight.remove(&id) else {
            return;
        };
        if let Some(submission) = self.submissions.remove(&id) {
            let answer = result.clone().map_err(SubmitError::Storage);
            fx.submitted.push((submission, answer));
        }
        if result.is_ok() {
            fx.committed.push(doc);
        }
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
        self.fan_out(doc, fx);
        self.late_arrival(doc, fx);
    }

    pub(super) fn external(&mut self, doc: DocumentId, bytes: &[u8], fx: &mut Effects) {
        let entry = match self.docs.get_mut(&doc) {
            Some(DocEntry::Ready(entry)) => entry,
            Some(loading) => {
                loading.mark_stale();
                return;
            }
            None => return,
        };
        if !entry.registered && entry.persisting == 0 {
            // Another writer stored a document this node holds as tentative (asked for, not
            // yet stored here): load it, so the peers waiting for it get it. With a first
            // commit of its own pending, the chunk (durable already) joins the document below
            // and the round after that commit carries it.
            self.reload(doc, fx);
            return;
        }
        let before = entry.doc.get_heads();
        if let Err(e) = entry.doc.load_incremental(bytes) {
            tracing::error!(doc_id = %doc, error = %e, "a stored chunk does not apply");
            self.reload(doc, fx);
            return;
        }
        if entry.doc.get_heads() == before {
            return;
        }
        fx.committed.push(doc);
        if entry.info.is_some() {
            // Workshop invitations written elsewhere count for new sessions.
            entry.info = Some(DocInfo::read(&entry.doc));
        }
        // While a commit is pending, the round after it carries these changes too.
        self.fan_out(doc, fx);
    }

    /// One round of messages to every peer of `doc`: at once when the last round is at least
    /// the fan-out window ago, otherwise at the end of the window, so a burst of commits goes
    /// out in fewer, larger messages while a single edit still goes out immediately. The window
    /// widens while a burst lasts (every round costs each peer a message with heads and a
    /// Bloom filter) and returns to the configured width when commits are sparse again.
    pub(super) fn fan_out(&mut self, doc: DocumentId, fx: &mut Effects) {
        let (now, base) = (self.now, self.config.fanout_window_ms);
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        if entry.persisting > 0 {
            // The round after the pending commit carries it.
            return;
        }
        let window = entry.window_ms.max(base);
        if let Some(last) = entry.last_fanout
            && now < last + window
        {
            entry.fanout_pending = true;
            fx.wake(last + window);
            return;
        }
        // Many changes soon after the last round (peers uploading offline work) widen the next
        // window; a round with few changes (a single writer, however steady) or one after a
        // quiet spell narrows it again.
        let busy = entry.changes_since_round >= BUSY_CHANGES
            && entry
                .last_fanout
                .is_some_and(|last| now < last + BUSY_FACTOR * window);
        entry.changes_since_round = 0;
        entry.window_ms = if busy {
            (window * 2).min(base * MAX_WINDOW_FACTOR)
        } else {
            base
        };
        entry.fanout_pending = false;
        entry.last_fanout = Some(now);
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
        // Peers still applying changes of our last message get the next when they answer
        // (their message is answered at once), or when the wait runs out.
        let mut owed: Option<Millis> = None;
        for (conn, peer) in &peers {
            let until = entry
                .sessions
                .get(conn)
                .and_then(|s| s.paced_until(ANSWER_WAIT_MS))
                .filter(|until| now < *until);
            if let Some(until) = until {
                owed = Some(owed.map_or(until, |o| o.min(until)));
                continue;
            }
            entry.generate_for(now, *conn, peer, &self.config.peer_id, doc, fx);
        }
        if let Some(until) = owed {
            entry.fanout_pending = true;
            fx.wake(until);
        }
        if let Some(arrived) = entry.oldest_unsent.take() {
            let waited = self.now_micros.saturating_sub(arrived);
            self.stats.fanout_latency.observe(waited as f64 / 1e6);
        }
        self.gossip_heads(doc, None, fx);
    }

    /// Sends the rounds whose window has passed.
    pub(super) fn due_fan_outs(&mut self, fx: &mut Effects) {
        let due: Vec<DocumentId> = self
            .docs
            .iter()
            .filter_map(|(id, e)| match e {
                DocEntry::Ready(l) if l.fanout_pending => Some(*id),
                _ => None,
            })
            .collect();
        for doc in due {
            self.fan_out(doc, fx);
        }
    }

    /// Peers that asked for `doc` while it was unavailable get it now, if they may read it.
    pub(super) fn late_arrival(&mut self, doc: DocumentId, fx: &mut Effects) {
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
            c.wanted.remove(&doc);
            let Some(peer) = c.peer.clone() else { continue };
            let access = self.policy.access(&c.principal, &info);
            if access == Access::None || entry.sessions.contains_key(&conn) {
                continue;
            }
            entry.add_session(conn, Session::new(access));
            c.docs.insert(doc);
            entry.generate_for(self.now, conn, &peer, &self.config.peer_id, doc, fx);
        }
        self.gossip_heads(doc, None, fx);
    }
}

fn doc_info(doc: &Automerge, record: &DocRecord) -> DocInfo {
    match &record.kind {
        Some(_) => DocInfo::read(doc),
        None => DocInfo::Generic,
    }
}

fn record_for(doc: DocumentId, am: &Automerge, info: &DocInfo, user: &str) -> DocRecord {
    crate::documents::record(&doc.to_string(), am, info, user)
}
