//! A document in the hub: loading (messages queued), or ready with its sessions.

use std::collections::BTreeMap;

use automerge::Automerge;
use automerge::sync::SyncDoc;
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Message, PeerId, StorageId};

use crate::access::DocInfo;

use super::gossip::Gossiped;
use super::session::Session;
use super::submit::Submission;
use super::{ConnId, Effects, Millis};

/// A message waiting for its document to load: (connection, sync data, was a request).
pub(super) type Queued = (ConnId, Vec<u8>, bool);

/// A document in memory.
#[derive(Debug)]
pub(super) struct Loaded {
    pub(super) doc: Automerge,
    /// What it is; `None` for a tentative document whose first changes have not arrived.
    pub(super) info: Option<DocInfo>,
    /// Stored in the database (false for a tentative new document).
    pub(super) registered: bool,
    pub(super) sessions: BTreeMap<ConnId, Session>,
    /// Persist requests in flight; no message is generated while this is not zero.
    pub(super) persisting: u32,
    /// When the last session ended.
    pub(super) idle_since: Option<Millis>,
    /// When the last round of messages to every peer went out.
    pub(super) last_fanout: Option<Millis>,
    /// A round is owed at the end of the fan-out window.
    pub(super) fanout_pending: bool,
    /// The current fan-out window: the configured one while commits are sparse, doubled (up
    /// to 8×) for each round that a burst of commits kept owing.
    pub(super) window_ms: Millis,
    /// At most this many received changes wait for missing dependencies (an upper bound:
    /// the changes of every message that left some waiting since the queue was last empty).
    pub(super) queued_changes: usize,
    /// Changes committed since the last round of messages.
    pub(super) changes_since_round: usize,
    /// When the oldest change not yet sent in a round arrived.
    pub(super) oldest_unsent: Option<super::Micros>,
    /// The heads last gossiped per storage (remote-heads gossip; one per storage with a
    /// session here, and the server's own).
    pub(super) gossip: BTreeMap<StorageId, Gossiped>,
}

impl Loaded {
    pub(super) fn stored(doc: Automerge, info: DocInfo, now: Millis) -> Self {
        Self::new(doc, Some(info), true, now)
    }

    pub(super) fn tentative(now: Millis) -> Self {
        Self::new(Automerge::new(), None, false, now)
    }

    fn new(doc: Automerge, info: Option<DocInfo>, registered: bool, now: Millis) -> Self {
        Loaded {
            doc,
            info,
            registered,
            sessions: BTreeMap::new(),
            persisting: 0,
            idle_since: Some(now),
            last_fanout: None,
            fanout_pending: false,
            window_ms: 0,
            queued_changes: 0,
            changes_since_round: 0,
            oldest_unsent: None,
            gossip: BTreeMap::new(),
        }
    }

    pub(super) fn restore_sessions(&mut self, mut sessions: BTreeMap<ConnId, Session>) {
        // The round owed to a paced peer went with the old copy: the next round is theirs.
        for session in sessions.values_mut() {
            session.unanswered = 0;
        }
        self.sessions.extend(sessions);
        if !self.sessions.is_empty() {
            self.idle_since = None;
        }
    }

    pub(super) fn add_session(&mut self, conn: ConnId, session: Session) {
        self.sessions.insert(conn, session);
        self.idle_since = None;
    }

    pub(super) fn remove_session(&mut self, conn: ConnId, now: Millis) {
        self.sessions.remove(&conn);
        if self.sessions.is_empty() {
            self.idle_since = Some(now);
        }
    }

    /// Generates the next sync message for `conn`, if any.
    pub(super) fn generate_for(
        &mut self,
        now: Millis,
        conn: ConnId,
        peer: &PeerId,
        us: &PeerId,
        doc: DocumentId,
        fx: &mut Effects,
    ) {
        let Some(session) = self.sessions.get_mut(&conn) else {
            return;
        };
        if !session.is_decided() && !self.doc.get_heads().is_empty() {
            // Not ruled on yet: nothing of the document goes out.
            return;
        }
        if session.owes_ack {
            // Automerge sends nothing when it believes the peer has our heads; an upload must
            // still be acknowledged, so forget what we last sent.
            session.state.last_sent_heads.clear();
            session.owes_ack = false;
        }
        let generated = self.doc.generate_sync_message(&mut session.state);
        if let Some(message) = generated {
            session.last_sent = Some(now);
            // (An empty document's save changes nothing there: no answer need come.)
            if !message.changes.is_empty() && !message.heads.is_empty() {
                session.unanswered = session.unanswered.saturating_add(1);
            }
            fx.send.push((
                conn,
                Message::Sync {
                    sender_id: us.clone(),
                    target_id: peer.clone(),
                    document_id: doc,
                    data: message.encode(),
                },
            ));
        }
    }
}

/// What waited for a load: queued messages, sessions and web edits kept across a reload,
/// whether storage changed meanwhile, the heads gossiped before.
#[derive(Debug, Default)]
pub(super) struct Waiting {
    pub(super) queued: Vec<Queued>,
    pub(super) sessions: BTreeMap<ConnId, Session>,
    pub(super) submissions: Vec<Submission>,
    pub(super) stale: bool,
    pub(super) gossip: BTreeMap<StorageId, Gossiped>,
}

/// A slot of the document table.
#[derive(Debug)]
pub(super) enum DocEntry {
    /// Being read from storage; messages wait, and sessions of a reload survive.
    Loading {
        queued: Vec<Queued>,
        sessions: BTreeMap<ConnId, Session>,
        /// Web edits waiting for the document.
        submissions: Vec<Submission>,
        /// Another writer's chunk arrived meanwhile (another node, an admin command): the
        /// load may have read storage before it committed, so it is loaded once more.
        stale: bool,
        /// The heads gossiped before a reload, so that their timestamps keep growing.
        gossip: BTreeMap<StorageId, Gossiped>,
    },
    /// In memory.
    Ready(Box<Loaded>),
}

impl DocEntry {
    pub(super) fn loading(conn: ConnId, data: Vec<u8>, request: bool) -> Self {
        DocEntry::Loading {
            queued: vec![(conn, data, request)],
            sessions: BTreeMap::new(),
            submissions: Vec::new(),
            stale: false,
            gossip: BTreeMap::new(),
        }
    }

    pub(super) fn loading_for_submission(submission: Submission) -> Self {
        DocEntry::Loading {
            queued: Vec::new(),
            sessions: BTreeMap::new(),
            submissions: vec![submission],
            stale: false,
            gossip: BTreeMap::new(),
        }
    }

    pub(super) fn queue_submission(&mut self, submission: Submission) {
        if let DocEntry::Loading { submissions, .. } = self {
            submissions.push(submission);
        }
    }

    pub(super) fn is_ready(&self) -> bool {
        matches!(self, DocEntry::Ready(_))
    }

    /// In memory with a commit of its own pending (a reload now would race that commit).
    pub(super) fn is_ready_and_persisting(&self) -> bool {
        matches!(self, DocEntry::Ready(l) if l.persisting > 0)
    }

    pub(super) fn queue(&mut self, conn: ConnId, data: Vec<u8>, request: bool) {
        if let DocEntry::Loading { queued, .. } = self {
            queued.push((conn, data, request));
        }
    }

    /// Notes that another writer's chunk arrived while loading.
    pub(super) fn mark_stale(&mut self) {
        if let DocEntry::Loading { stale, .. } = self {
            *stale = true;
        }
    }

    /// The queued messages, the sessions to restore, the web edits to apply once loaded, and
    /// whether another writer's chunk arrived meanwhile.
    pub(super) fn into_queue(self) -> Waiting {
        match self {
            DocEntry::Loading {
                queued,
                sessions,
                submissions,
                stale,
                gossip,
            } => Waiting {
                queued,
                sessions,
                submissions,
                stale,
                gossip,
            },
            DocEntry::Ready(_) => Waiting::default(),
        }
    }

    /// Drops the in-memory state but keeps the sessions, to load the durable state again.
    /// The peers' sync states stay valid: nothing beyond the durable state was ever sent.
    pub(super) fn into_reloading(self) -> Self {
        match self {
            DocEntry::Ready(loaded) => DocEntry::Loading {
                queued: Vec::new(),
                sessions: loaded.sessions,
                submissions: Vec::new(),
                stale: false,
                gossip: loaded.gossip,
            },
            loading => loading,
        }
    }

    pub(super) fn remove_session(&mut self, conn: ConnId, now: Millis) {
        match self {
            DocEntry::Ready(l) => l.remove_session(conn, now),
            DocEntry::Loading {
                queued, sessions, ..
            } => {
                sessions.remove(&conn);
                queued.retain(|(c, _, _)| *c != conn);
            }
        }
    }

    /// Ready, unused for `after` ms, nothing in flight.
    pub(super) fn evictable(&self, now: Millis, after: Millis) -> bool {
        match self {
            DocEntry::Ready(l) => {
                // A tentative document nobody pushes holds nothing: it goes at once.
                let idle_long = l.idle_since.is_some_and(|t| now.saturating_sub(t) >= after);
                l.sessions.is_empty() && l.persisting == 0 && (idle_long || !l.registered)
            }
            DocEntry::Loading { .. } => false,
        }
    }
}
