//! Remote-heads gossip (automerge-repo's `remote-subscription-change` and
//! `remote-heads-changed`, protocol.md 1.10): a peer follows storage ids, and learns the heads
//! each followed storage holds of the documents it has open — the server's own (how an app
//! shows "saved on the server") and those of other durable peers syncing here ("on Bob's
//! phone").
//!
//! Rules:
//! - Heads are gossiped only when the document has no commit pending, so every head is durable
//!   here first (durable before advertised), and a peer's heads only once all of them are in
//!   the server's copy: gossip never names a change the server could still lose.
//! - A follower hears of a document only while it has a session on it, which it has only with
//!   access: denied stays like missing.
//! - Heads that peers claim in their own `remote-heads-changed` are not relayed: the server
//!   passes on only what it saw itself.
//! - A storage id counts only for the user who claimed it first among open connections, and
//!   never the server's own: nobody can speak for the server or another user's device.
//! - State and work are bounded: storage ids followed per connection (`max_subscription_ids`),
//!   subscription changes per connection and minute, heads per storage (at most
//!   [`MAX_GOSSIPED_HEADS`]), one heads entry per storage with a session on a document; a sync
//!   message re-notes only its sender's heads, and with nobody following anything gossip
//!   costs nothing.
//! - Timestamps grow strictly per document and storage while the document stays in memory,
//!   a reload included; after an eviction or a restart they start again from the clock.

use std::collections::HashSet;

use automerge::ChangeHash;
use nachbar_core::protocol::RemoteHeads;

use super::*;

/// The heads one storage was last gossiped with for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Gossiped {
    heads: Vec<ChangeHash>,
    /// Milliseconds since the epoch; strictly increasing per storage and document, as
    /// automerge-repo drops an update whose timestamp is not newer than the last.
    timestamp: u64,
}

impl Hub {
    /// A peer follows `add` and stops following `remove`. Past `max_subscription_ids` storage
    /// ids on one connection, or more changes a minute than `subscription_changes_per_minute`,
    /// it is closed (1008).
    pub(super) fn subscription_change(
        &mut self,
        conn: ConnId,
        add: Vec<StorageId>,
        remove: Vec<StorageId>,
        fx: &mut Effects,
    ) {
        let (max, now) = (self.config.max_subscription_ids, self.now);
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        // The rate is the primary worker's to hold (the workers' clocks differ a little; the
        // size bounds below are the same on every worker).
        if !c.attached && !c.subscription_rate.take(now) {
            let per_minute = self.config.subscription_changes_per_minute;
            let reason = format!("more than {per_minute} remote-subscription-change a minute");
            return self.fail(conn, CloseCode::Policy, "limits", reason, fx);
        }
        for storage in remove {
            if c.follows.remove(&storage) {
                unfollow(&mut self.followers, &storage, conn);
            }
        }
        let (mut added, mut over) = (false, false);
        for storage in add {
            if c.follows.contains(&storage) {
                continue;
            }
            if c.follows.len() >= max {
                over = true;
                break;
            }
            c.follows.insert(storage.clone());
            self.followers.entry(storage).or_default().insert(conn);
            added = true;
        }
        if over {
            let reason = format!("follows more than {max} storage ids");
            return self.fail_everywhere(conn, CloseCode::Policy, "limits", reason, fx);
        }
        if !added {
            return;
        }
        // What it follows now, of the documents it has open, goes out at once.
        let docs: Vec<DocumentId> = c.docs.iter().copied().collect();
        for doc in docs {
            if let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc)
                && let Some(session) = entry.sessions.get_mut(&conn)
            {
                session.told_heads = false;
            }
            self.gossip_heads(doc, None, fx);
        }
    }

    /// Tells followers of the heads that changed on `doc` since the last gossip, and new
    /// followers' sessions everything known. `only`: a sync message of that connection
    /// arrived, so only its heads may have changed. A no-op while nobody follows anything or a
    /// commit of the document is pending.
    pub(super) fn gossip_heads(&mut self, doc: DocumentId, only: Option<ConnId>, fx: &mut Effects) {
        if self.followers.is_empty() {
            return;
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        if !entry.registered || entry.info.is_none() || entry.persisting > 0 {
            return;
        }
        // A session not told yet gets everything known, noted afresh.
        let only = only.filter(|c| entry.sessions.get(c).is_some_and(|s| s.told_heads));
        let now = u64::try_from(nachbar_core::time::Timestamp::now().millis()).unwrap_or(0);
        let ours = &self.config.storage_id;
        let mut changed: BTreeSet<StorageId> = BTreeSet::new();
        // The server's own heads (durable, as no commit is pending) change only with a round.
        if only.is_none() && self.followers.contains_key(ours) {
            let heads = entry.doc.get_heads();
            if note(&mut entry.gossip, ours, &heads, now) {
                changed.insert(ours.clone());
            }
        }
        // Durable peers' heads, once the server holds all of them.
        for (c, session) in &entry.sessions {
            if only.is_some_and(|o| o != *c) {
                continue;
            }
            let Some(storage) = self.conns.get(c).and_then(|c| c.storage_id.as_ref()) else {
                continue;
            };
            let Some(theirs) = &session.state.their_heads else {
                continue;
            };
            if !self.followers.contains_key(storage)
                || theirs.len() > MAX_GOSSIPED_HEADS
                || entry
                    .gossip
                    .get(storage)
                    .is_some_and(|g| g.heads == *theirs)
            {
                continue;
            }
            if theirs
                .iter()
                .all(|h| entry.doc.get_change_meta_by_hash(h).is_some())
                && note(&mut entry.gossip, storage, theirs, now)
            {
                changed.insert(storage.clone());
            }
        }
        if only.is_none() {
            // Forget storages nobody syncs here any more (bounded by the sessions).
            let present: HashSet<&StorageId> = entry
                .sessions
                .keys()
                .filter_map(|c| self.conns.get(c).and_then(|c| c.storage_id.as_ref()))
                .collect();
            entry
                .gossip
                .retain(|storage, _| storage == ours || present.contains(storage));
        }
        for (c, session) in &mut entry.sessions {
            // Without news, only sessions not told yet need a look.
            if changed.is_empty() && (session.told_heads || only.is_some_and(|o| o != *c)) {
                continue;
            }
            if !session.is_decided() {
                continue;
            }
            let Some(conn) = self.conns.get(c) else {
                continue;
            };
            let Some(peer) = &conn.peer else { continue };
            let tell: Vec<&StorageId> = if session.told_heads {
                changed.iter().collect()
            } else {
                entry.gossip.keys().collect()
            };
            session.told_heads = true;
            for storage in tell {
                // Nobody is told its own heads.
                if !conn.follows.contains(storage) || conn.storage_id.as_ref() == Some(storage) {
                    continue;
                }
                let Some(g) = entry.gossip.get(storage) else {
                    continue;
                };
                fx.send.push((
                    *c,
                    Message::RemoteHeadsChanged {
                        sender_id: self.config.peer_id.clone(),
                        target_id: peer.clone(),
                        document_id: doc,
                        new_heads: [(storage.0.clone(), remote_heads(g))].into(),
                    },
                ));
            }
        }
    }

    /// Forgets what `conn` followed (it disconnected).
    pub(super) fn forget_follows(&mut self, conn: ConnId, follows: &BTreeSet<StorageId>) {
        for storage in follows {
            unfollow(&mut self.followers, storage, conn);
        }
    }

    /// The storage id a joining peer of `user` may speak for: not the server's own, and not
    /// one an open connection of another user claimed.
    pub(super) fn claimable_storage(
        &self,
        user: &str,
        metadata: Option<PeerMetadata>,
    ) -> Option<StorageId> {
        let storage = metadata.filter(|m| !m.is_ephemeral)?.storage_id?;
        let taken = storage == self.config.storage_id
            || self
                .conns
                .values()
                .any(|c| c.storage_id.as_ref() == Some(&storage) && c.principal.user_id != user);
        (!taken).then_some(storage)
    }
}

/// The most heads gossiped for one storage (a document has a handful; more is a peer's noise).
const MAX_GOSSIPED_HEADS: usize = 32;

/// Records `heads` for `storage`; whether they differ from what was gossiped last.
fn note(
    gossip: &mut BTreeMap<StorageId, Gossiped>,
    storage: &StorageId,
    heads: &[ChangeHash],
    now: u64,
) -> bool {
    match gossip.get_mut(storage) {
        Some(last) if last.heads == heads => false,
        Some(last) => {
            last.timestamp = now.max(last.timestamp + 1);
            last.heads = heads.to_vec();
            true
        }
        None => {
            gossip.insert(
                storage.clone(),
                Gossiped {
                    heads: heads.to_vec(),
                    timestamp: now,
                },
            );
            true
        }
    }
}

fn unfollow(
    followers: &mut HashMap<StorageId, BTreeSet<ConnId>>,
    storage: &StorageId,
    conn: ConnId,
) {
    if let Some(conns) = followers.get_mut(storage) {
        conns.remove(&conn);
        if conns.is_empty() {
            followers.remove(storage);
        }
    }
}

/// The wire form: heads as bs58check strings (automerge-repo 2.x).
fn remote_heads(g: &Gossiped) -> RemoteHeads {
    RemoteHeads {
        heads: g
            .heads
            .iter()
            .map(|h| nachbar_core::ids::head_string(&h.0))
            .collect(),
        timestamp: g.timestamp,
    }
}
