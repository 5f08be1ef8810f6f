//! The chunk kinds of Automerge bytes, checked before Automerge parses them: nachbar stores
//! and syncs documents and changes only, never bundles, and Automerge 0.12 panics on some
//! malformed bundles (an unwrap in its column decoder; found by fuzzing the stored-document
//! loader).

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const BUNDLE: u8 = 3;

/// The kind and body of every chunk in `bytes` (concatenated chunks: magic, checksum, kind,
/// LEB128 length, body); `None` when the framing is broken. Empty bytes have no chunks.
pub fn split_chunks(mut bytes: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut chunks = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 9 || bytes[..4] != MAGIC {
            return None;
        }
        let (len, n) = read_uleb(&bytes[9..])?;
        let start = 9 + n;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|e| *e <= bytes.len())?;
        chunks.push((bytes[8], &bytes[start..end]));
        bytes = &bytes[end..];
    }
    Some(chunks)
}

/// Whether `bytes` is well framed and holds no bundle chunk. Empty bytes pass.
pub fn without_bundles(bytes: &[u8]) -> bool {
    split_chunks(bytes).is_some_and(|chunks| chunks.iter().all(|(kind, _)| *kind != BUNDLE))
}

/// An unsigned LEB128 number at the start of `bytes` and how many bytes it took (at most 10).
pub fn read_uleb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;

    use super::*;

    #[test]
    fn documents_and_changes_pass_bundles_and_bad_framing_do_not() {
        let mut doc = automerge::Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "k", 1).map(drop)
        })
        .unwrap();
        let saved = doc.save();
        assert!(without_bundles(&saved));
        let mut two = saved.clone();
        two.extend(doc.save_after(&[]));
        assert!(without_bundles(&two), "a document and its changes");
        assert!(without_bundles(&[]));
        let mut bundle = saved.clone();
        bundle[8] = BUNDLE;
        assert!(!without_bundles(&bundle));
        assert!(!without_bundles(&saved[..saved.len() - 1]), "truncated");
        assert!(!without_bundles(b"not automerge at all"));
    }
}
