//! Open sync connections per user, bounded: a user's devices need a handful, a script that
//! opens thousands costs only that user (the connection beyond the bound is closed with 1008).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The open connections of every user.
#[derive(Debug)]
pub struct ConnectionSlots {
    open: Mutex<HashMap<String, usize>>,
    per_user: usize,
    refused: AtomicU64,
}

/// One open connection of a user; the slot is given back when this is dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<ConnectionSlots>,
    user: String,
}

impl ConnectionSlots {
    /// At most `per_user` open connections per user.
    pub fn new(per_user: usize) -> Self {
        ConnectionSlots {
            open: Mutex::new(HashMap::new()),
            per_user,
            refused: AtomicU64::new(0),
        }
    }

    /// The bound per user.
    pub fn per_user(&self) -> usize {
        self.per_user
    }

    /// A slot for one more connection of `user`, or `None` when the user has all of theirs
    /// open (counted as refused).
    pub fn take(self: &Arc<Self>, user: &str) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(user.to_owned()).or_default();
        if *n >= self.per_user {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: Arc::clone(self),
            user: user.to_owned(),
        })
    }

    /// Connections refused for the bound since the start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Open connections of `user`.
    pub fn open_of(&self, user: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(user).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_the_bound_and_slots_come_back_when_dropped() {
        let slots = Arc::new(ConnectionSlots::new(2));
        let a = slots.take("anna").expect("first");
        let _b = slots.take("anna").expect("second");
        assert!(slots.take("anna").is_none(), "third refused");
        assert!(slots.take("bert").is_some(), "another user is not affected");
        assert_eq!(slots.refused(), 1);
        drop(a);
        assert_eq!(slots.open_of("anna"), 1);
        assert!(slots.take("anna").is_some(), "a slot came back");
    }
}
