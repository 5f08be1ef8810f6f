//! Ephemeral messages: de-duplicated per (sender, session, count) and relayed to the
//! document's other peers.

use super::*;

impl Hub {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ephemeral(
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
        let now = self.now;
        if let Some(c) = self.conns.get_mut(&conn)
            && !c.ephemeral_rate.take(now)
        {
            let limit = self.config.ephemeral_per_second;
            return self.fail(
                conn,
                CloseCode::Policy,
                "rate",
                format!("more than {limit} ephemeral messages per second"),
                fx,
            );
        }
        let Some(DocEntry::Ready(entry)) = self.docs.get(&doc) else {
            return;
        };
        // Ephemera of or for a session the policy has not ruled on yet are dropped.
        if !entry.sessions.get(&conn).is_some_and(|s| s.is_decided()) {
            return;
        }
        // De-duplicated per session of this peer (its sender id is the handshake's), bounded
        // per connection and forgotten with it or with age.
        let bound = self.config.ephemeral_sessions_per_connection;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.ephemeral_seen
            .get(&session_id)
            .is_some_and(|(seen, _)| *seen >= count)
        {
            return;
        }
        if c.ephemeral_seen.len() >= bound && !c.ephemeral_seen.contains_key(&session_id) {
            let oldest = c
                .ephemeral_seen
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                c.ephemeral_seen.remove(&oldest);
            }
        }
        c.ephemeral_seen.insert(session_id.clone(), (count, now));
        let others = entry
            .sessions
            .iter()
            .filter(|(c, s)| **c != conn && s.is_decided())
            .map(|(c, _)| c);
        for other in others {
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
}
