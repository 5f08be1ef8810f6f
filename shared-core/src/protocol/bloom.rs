//! The Bloom filters of a sync message's `have` entries, checked before Automerge probes them:
//! Automerge 0.12 divides by zero on a filter with entries but no bits, and allocates and
//! loops for every probe a filter asks for (up to four billion). Found by fuzzing.

/// Most probes a filter may ask for (Automerge makes 7).
const MAX_PROBES: u64 = 64;
/// Most bits per entry a filter may ask for (Automerge makes 10).
const MAX_BITS_PER_ENTRY: u64 = 64;

/// Whether every `have` of `message` carries a Bloom filter Automerge can probe safely.
pub fn blooms_usable(message: &automerge::sync::Message) -> bool {
    message.have.iter().all(|h| usable(&h.bloom.to_bytes()))
}

/// An encoded filter: empty, or entries, bits per entry and probes (LEB128) and the bits.
fn usable(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return true;
    }
    let mut at = 0;
    let mut field = || {
        let (value, len) = super::chunks::read_uleb(&bytes[at..])?;
        at += len;
        Some(value)
    };
    let (Some(entries), Some(bits_per_entry), Some(probes)) = (field(), field(), field()) else {
        return false;
    };
    entries == 0
        || ((1..=MAX_BITS_PER_ENTRY).contains(&bits_per_entry)
            && (1..=MAX_PROBES).contains(&probes)
            && bytes.len() > at)
}

#[cfg(test)]
mod tests {
    use automerge::sync::{State, SyncDoc};
    use automerge::transaction::Transactable;

    use super::*;

    #[test]
    fn automerges_own_filters_pass_and_unprobeable_ones_do_not() {
        let mut doc = automerge::Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "k", 1).map(drop)
        })
        .unwrap();
        let mut state = State::new();
        let mut peer = automerge::Automerge::new();
        let mut peer_state = State::new();
        for _ in 0..3 {
            if let Some(m) = doc.generate_sync_message(&mut state) {
                assert!(blooms_usable(&m));
                peer.receive_sync_message(&mut peer_state, m).unwrap();
            }
            if let Some(m) = peer.generate_sync_message(&mut peer_state) {
                assert!(blooms_usable(&m));
                doc.receive_sync_message(&mut state, m).unwrap();
            }
        }
        assert!(usable(&[]));
        assert!(usable(&[0, 0, 0]), "no entries: never probed");
        assert!(usable(&[1, 10, 7, 0xff, 0x01]));
        assert!(
            !usable(&[1, 0, 7]),
            "entries but no bits: a division by zero"
        );
        assert!(!usable(&[1, 10, 0, 0xff]), "no probes");
        assert!(
            !usable(&[1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff]),
            "four billion probes"
        );
        assert!(!usable(&[0x80]), "truncated");
    }
}
