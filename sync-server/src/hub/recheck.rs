//! The policy's rulings on sessions: the first one once a document's header is known, and a
//! re-check of every session and token after the access rules changed (revocation).

use super::*;

impl Hub {
    /// Re-checks every session after a policy change: a session that lost access is ended
    /// (the peer is told the document is unavailable); a read session that became read-only
    /// or writable switches mode.
    pub(super) fn recheck_access(&mut self, fx: &mut Effects) {
        let policy = Arc::clone(&self.policy);
        // Revoked or expired tokens end their connections (counted by the worker that holds
        // the handshake).
        let dead: Vec<(ConnId, bool)> = self
            .conns
            .iter()
            .filter(|(_, c)| !policy.token_active(&c.principal))
            .map(|(id, c)| (*id, c.attached))
            .collect();
        for (conn, attached) in dead {
            if !attached {
                self.refuse("revoked");
            }
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
            self.end_session(conn, doc, "revoked", fx);
        }
    }

    /// Rules on the undecided sessions of `doc` once its header is known (its first changes
    /// registered it, or it loaded from storage): each gets the access the policy gives its
    /// user; a denied one is told the document is unavailable and ended, having been sent
    /// nothing of it.
    pub(super) fn decide_sessions(&mut self, doc: DocumentId, fx: &mut Effects) {
        self.rule_sessions(doc, false, fx);
    }

    /// Rules on every session of `doc` again, decided or not: sessions kept across a reload
    /// (a re-check of access skips documents being loaded).
    pub(super) fn recheck_sessions(&mut self, doc: DocumentId, fx: &mut Effects) {
        self.rule_sessions(doc, true, fx);
    }

    fn rule_sessions(&mut self, doc: DocumentId, decided_too: bool, fx: &mut Effects) {
        let policy = Arc::clone(&self.policy);
        let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) else {
            return;
        };
        let Some(info) = entry.info.clone() else {
            return;
        };
        let mut denied = Vec::new();
        let sessions = entry
            .sessions
            .iter_mut()
            .filter(|(_, s)| decided_too || !s.is_decided());
        for (conn, session) in sessions {
            let access = self
                .conns
                .get(conn)
                .map_or(Access::None, |c| policy.access(&c.principal, &info));
            if access == Access::None {
                denied.push(*conn);
            } else {
                session.set_access(access);
            }
        }
        for conn in denied {
            self.end_session(conn, doc, "access", fx);
        }
    }

    /// Ends the session of `conn` on `doc` (counted as a refusal of `kind`): the peer is told
    /// the document is unavailable.
    fn end_session(&mut self, conn: ConnId, doc: DocumentId, kind: &'static str, fx: &mut Effects) {
        self.refuse(kind);
        if let Some(DocEntry::Ready(entry)) = self.docs.get_mut(&doc) {
            entry.remove_session(conn, self.now);
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.docs.remove(&doc);
        }
        self.unavailable(conn, doc, fx);
    }
}
