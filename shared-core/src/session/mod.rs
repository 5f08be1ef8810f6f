//! The client's side of the sync protocol as a state machine over the local [`Replica`]: the
//! handshake, one Automerge sync state per document (kept per server storage id, so a
//! reconnect resumes), received changes committed before they count, the server's heads kept
//! as the acknowledgement, read-only and unavailable documents reported. No sockets and no
//! clock: the async driver (`client` feature) feeds it messages and sends what it returns.

mod events;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use automerge::sync::{State, SyncDoc};

pub use events::SessionEvent;

use crate::ids::DocumentId;
use crate::protocol::{Message, PROTOCOL_VERSION, PeerId, PeerMetadata, StorageId};
use crate::store::{Replica, ReplicaError};

/// Why a session cannot go on (the driver closes the connection and reconnects later).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The server broke the protocol.
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    /// The local store failed.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
}

/// The server as the handshake named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Its peer id.
    pub peer: PeerId,
    /// Its storage id (new after a restore from backup).
    pub storage: StorageId,
}

/// One connection's sync session.
#[derive(Debug)]
pub struct SyncSession {
    me: PeerId,
    server: Option<ServerInfo>,
    states: HashMap<DocumentId, State>,
}

impl SyncSession {
    /// A session for this device's peer id.
    pub fn new(me: PeerId) -> Self {
        SyncSession {
            me,
            server: None,
            states: HashMap::new(),
        }
    }

    /// The `join` message that opens the handshake.
    pub fn join(&self) -> Message {
        Message::Join {
            sender_id: self.me.clone(),
            supported_protocol_versions: Some(vec![PROTOCOL_VERSION.to_owned()]),
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: false,
            }),
        }
    }

    /// The server, once the handshake is done.
    pub fn server(&self) -> Option<&ServerInfo> {
        self.server.as_ref()
    }

    /// Documents this session syncs.
    pub fn open_documents(&self) -> impl Iterator<Item = &DocumentId> {
        self.states.keys()
    }

    /// Handles one message from the server; returns the messages to send and what happened.
    ///
    /// # Errors
    /// A protocol violation or a store failure; the driver ends the connection.
    pub fn receive(
        &mut self,
        replica: &mut Replica,
        message: Message,
        now_ms: i64,
    ) -> Result<(Vec<Message>, Vec<SessionEvent>), SessionError> {
        match message {
            Message::Peer {
                sender_id,
                selected_protocol_version,
                peer_metadata,
                ..
            } => {
                if selected_protocol_version != PROTOCOL_VERSION {
                    return Err(SessionError::Protocol(format!(
                        "protocol version {selected_protocol_version}"
                    )));
                }
                let storage = peer_metadata
                    .and_then(|m| m.storage_id)
                    .ok_or_else(|| SessionError::Protocol("no storage id".to_owned()))?;
                // A server restored from a backup has a new storage id: what the old one
                // acknowledged may be gone, so everything counts as unacknowledged again and
                // syncs from scratch.
                let forgotten = replica
                    .store_mut()
                    .keep_only_storage(&storage.0)
                    .map_err(ReplicaError::from)?;
                self.server = Some(ServerInfo {
                    peer: sender_id,
                    storage: storage.clone(),
                });
                Ok((
                    Vec::new(),
                    vec![SessionEvent::Connected {
                        storage,
                        restored: forgotten > 0,
                    }],
                ))
            }
            Message::Sync {
                document_id, data, ..
            } => self.sync(replica, document_id, &data, now_ms),
            Message::DocUnavailable { document_id, .. } => {
                self.states.remove(&document_id);
                let status = replica
                    .store()
                    .status(&document_id)
                    .map_err(ReplicaError::from)?;
                replica
                    .store_mut()
                    .set_flags(&document_id, status.read_only, true)
                    .map_err(ReplicaError::from)?;
                Ok((Vec::new(), vec![SessionEvent::Unavailable(document_id)]))
            }
            Message::Error { message, .. } => {
                Ok((Vec::new(), vec![SessionEvent::ServerError(message)]))
            }
            Message::Request { .. } => Err(SessionError::Protocol(
                "the server requested a document".to_owned(),
            )),
            // Presence and remote heads are not used yet; a second handshake is ignored.
            Message::Ephemeral { .. }
            | Message::RemoteHeadsChanged { .. }
            | Message::RemoteSubscriptionChange { .. }
            | Message::Join { .. }
            | Message::Leave { .. } => Ok((Vec::new(), Vec::new())),
        }
    }

    /// Starts (or nudges) syncing `doc`: the first message is a `request` when the document is
    /// not on this device yet, otherwise a `sync` offering what we have.
    ///
    /// # Errors
    /// Store failures.
    pub fn open(
        &mut self,
        replica: &mut Replica,
        doc: DocumentId,
    ) -> Result<Option<Message>, SessionError> {
        let Some(server) = self.server.clone() else {
            return Ok(None);
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = self.states.entry(doc) {
            let stored = replica
                .store()
                .sync_state(&doc, &server.storage.0)
                .map_err(ReplicaError::from)?;
            slot.insert(
                stored
                    .and_then(|bytes| State::decode(&bytes).ok())
                    .unwrap_or_default(),
            );
        }
        let local = replica.contains(&doc)?;
        let Some(state) = self.states.get_mut(&doc) else {
            return Ok(None);
        };
        let message = if local {
            replica.automerge(&doc)?.generate_sync_message(state)
        } else {
            automerge::Automerge::new().generate_sync_message(state)
        };
        Ok(message.map(|m| {
            let data = m.encode();
            if local {
                Message::Sync {
                    sender_id: self.me.clone(),
                    target_id: server.peer.clone(),
                    document_id: doc,
                    data,
                }
            } else {
                Message::Request {
                    sender_id: self.me.clone(),
                    target_id: server.peer.clone(),
                    document_id: doc,
                    data,
                }
            }
        }))
    }

    fn sync(
        &mut self,
        replica: &mut Replica,
        doc: DocumentId,
        data: &[u8],
        now_ms: i64,
    ) -> Result<(Vec<Message>, Vec<SessionEvent>), SessionError> {
        let Some(server) = self.server.clone() else {
            return Err(SessionError::Protocol(
                "sync before the handshake".to_owned(),
            ));
        };
        let message = automerge::sync::Message::decode(data)
            .map_err(|e| SessionError::Protocol(format!("invalid sync message: {e}")))?;
        if !message.changes.iter().all(crate::protocol::without_bundles) {
            return Err(SessionError::Protocol(
                "changes in a form nachbar never sends (a bundle)".to_owned(),
            ));
        }
        if !crate::protocol::blooms_usable(&message) {
            return Err(SessionError::Protocol(
                "a bloom filter Automerge cannot probe".to_owned(),
            ));
        }
        let server_heads = message.heads.clone();
        let state = self.states.entry(doc).or_default();
        let was_read_only = state.peer_read_only;
        let am = if replica.contains(&doc)? {
            replica.automerge(&doc)?
        } else {
            replica.adopt(doc)
        };
        let before = am.get_heads();
        am.receive_sync_message(state, message)
            .map_err(|e| SessionError::Protocol(format!("sync message refused: {e}")))?;
        let changed = am.get_heads() != before;
        let reply = am.generate_sync_message(state);
        let read_only = state.peer_read_only;
        let encoded_state = state.encode();
        // Received changes are on disk before anything reports them.
        replica.commit_received(&doc, &before)?;
        // The server syncs it: no longer refused (a re-granted document), read-only as it says.
        let flags = Some((read_only, false));
        replica
            .store_mut()
            .record_server_message(
                &doc,
                &server.storage.0,
                &server_heads,
                &encoded_state,
                flags,
                now_ms,
            )
            .map_err(ReplicaError::from)?;
        let mut events = Vec::new();
        if read_only && !was_read_only {
            events.push(SessionEvent::ReadOnly(doc));
        }
        if changed {
            events.push(SessionEvent::DocChanged(doc));
        }
        events.push(SessionEvent::Acknowledged(doc));
        let out = reply
            .map(|m| Message::Sync {
                sender_id: self.me.clone(),
                target_id: server.peer.clone(),
                document_id: doc,
                data: m.encode(),
            })
            .into_iter()
            .collect();
        Ok((out, events))
    }
}
