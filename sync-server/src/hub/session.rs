//! One connection's sync session on one document.

use automerge::sync::State;

use crate::access::Access;

/// Messages with changes a peer may have unanswered before the next waits for its answer.
const MAX_UNANSWERED: u8 = 1;

/// The automerge sync state of one peer on one document, in the mode its access allows.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) state: State,
    access: Access,
    /// When the last message to this peer went out.
    pub(super) last_sent: Option<super::Millis>,
    /// Changes this peer uploaded were committed since our last message to it: the next
    /// message must go out (with the new heads) even if Automerge has nothing to say.
    pub(super) owes_ack: bool,
    /// The policy has ruled on this session. A session on a document that is not registered
    /// yet is undecided: it may upload the first changes (which must show a document its user
    /// may create), but it is ruled on as soon as the document's header is known, and until
    /// then it is sent nothing but the empty document and no ephemera.
    decided: bool,
    /// It was told every heads gossip it follows of this document (remote-heads gossip).
    pub(super) told_heads: bool,
    /// Our messages with changes it has not answered yet (it sent nothing since): each answer
    /// (new heads, which it must announce) is still to come.
    pub(super) unanswered: u8,
}

impl Session {
    pub(super) fn new(access: Access) -> Self {
        let state = if access == Access::Write {
            State::new()
        } else {
            State::new_read_only()
        };
        Session {
            state,
            access,
            last_sent: None,
            owes_ack: false,
            decided: true,
            told_heads: false,
            unanswered: 0,
        }
    }

    /// A session on a document not registered yet: writable, so that its first changes can
    /// register the document, and [undecided](Session::is_decided) until they do.
    pub(super) fn undecided() -> Self {
        Session {
            decided: false,
            ..Session::new(Access::Write)
        }
    }

    /// Whether the policy has ruled on this session.
    pub(super) fn is_decided(&self) -> bool {
        self.decided
    }

    /// A peer still applying the changes of our last message (it has not answered) gets no
    /// new one until it answers or `pace` ms after that message, returned here: what arrives
    /// meanwhile goes out in one message when it answers, however long it is busy, instead of
    /// one per round piling up in its socket (each answered with heads and a Bloom filter,
    /// each answer answered). `None`: it may be sent to now.
    pub(super) fn paced_until(&self, pace: super::Millis) -> Option<super::Millis> {
        (self.unanswered >= MAX_UNANSWERED)
            .then_some(self.last_sent)
            .flatten()
            .map(|at| at + pace)
    }

    /// Switches between read-only and read-write after a policy change (or the first ruling).
    pub(super) fn set_access(&mut self, access: Access) {
        self.decided = true;
        if access != self.access {
            self.state.set_read_only(access != Access::Write);
            self.access = access;
        }
    }
}
