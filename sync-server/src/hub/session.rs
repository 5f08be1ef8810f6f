//! One connection's sync session on one document.

use automerge::sync::State;

use crate::access::Access;

/// The automerge sync state of one peer on one document, in the mode its access allows.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) state: State,
    access: Access,
}

impl Session {
    pub(super) fn new(access: Access) -> Self {
        let state = if access == Access::Write {
            State::new()
        } else {
            State::new_read_only()
        };
        Session { state, access }
    }

    /// Switches between read-only and read-write after a policy change.
    pub(super) fn set_access(&mut self, access: Access) {
        if access != self.access {
            self.state.set_read_only(access != Access::Write);
            self.access = access;
        }
    }
}
