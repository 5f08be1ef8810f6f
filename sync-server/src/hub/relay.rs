//! Ephemeral messages: de-duplicated per (sender, session, count) and relayed to the document's other peers.

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
        let key = (sender.clone(), session_id.clone());
        if self
            .ephemeral_seen
            .get(&key)
            .is_some_and(|seen| *seen >= count)
        {
            return;
        }
        self.ephemeral_seen.insert(key, count);
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
