//! The handshake and the dispatch of established connections' messages.

use super::*;

impl Hub {
    pub(super) fn receive(&mut self, conn: ConnId, message: Message, fx: &mut Effects) {
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

    pub(super) fn join(
        &mut self,
        conn: ConnId,
        sender: PeerId,
        versions: Option<Vec<String>>,
        metadata: Option<PeerMetadata>,
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
        // A peer id belongs to the user whose open connection holds it: another user's join
        // with it is refused, and the holder is left alone.
        let user = self.conns.get(&conn).map(|c| c.principal.user_id.clone());
        let holders = || {
            self.conns
                .iter()
                .filter(|(id, c)| **id != conn && c.peer.as_ref() == Some(&sender))
        };
        if holders().any(|(_, c)| Some(&c.principal.user_id) != user.as_ref()) {
            return self.fail(
                conn,
                CloseCode::Policy,
                "protocol",
                format!("peer id {sender} is in use by another user"),
                fx,
            );
        }
        // A newer connection of the same peer (and user) replaces the old one (reconnect
        // without waiting for the old socket's timeout).
        let stale: Vec<ConnId> = holders().map(|(id, _)| *id).collect();
        for old in stale {
            fx.close.push(Close {
                conn: old,
                code: CloseCode::Normal,
                reason: "replaced by a newer connection".to_owned(),
            });
            self.disconnect(old);
        }
        let storage = user
            .as_deref()
            .and_then(|user| self.claimable_storage(user, metadata));
        if let Some(c) = self.conns.get_mut(&conn) {
            c.peer = Some(sender.clone());
            c.storage_id.clone_from(&storage);
        }
        fx.joined.push((
            conn,
            Identity {
                peer: sender.clone(),
                storage_id: storage,
            },
        ));
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

    pub(super) fn established(&mut self, conn: ConnId, message: Message, fx: &mut Effects) {
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
            Message::RemoteSubscriptionChange { add, remove, .. }
                if add.len() + remove.len() > self.config.max_subscription_ids =>
            {
                let max = self.config.max_subscription_ids;
                self.fail_everywhere(
                    conn,
                    CloseCode::Policy,
                    "limits",
                    format!("remote-subscription-change names more than {max} storage ids"),
                    fx,
                );
            }
            Message::RemoteSubscriptionChange { add, remove, .. } => {
                self.subscription_change(conn, add, remove, fx);
            }
            // Nothing to do: the client tells us it lacks a document, or claims heads of some
            // storage (not relayed: gossip passes on only what the server saw itself).
            Message::DocUnavailable { .. } | Message::RemoteHeadsChanged { .. } => {}
            Message::Join { .. } => {}
        }
    }
}
