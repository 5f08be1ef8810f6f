//! Bounds checked on a decoded sync message before Automerge applies it: the number of heads,
//! needs and haves, and the decompressed size of compressed changes (a 1 MiB change that
//! inflates to 1 GiB is refused after reading 64 MiB of it, not after allocating a gigabyte;
//! a whole document sent by a first sync is measured by its deflated columns).
//! There is no cap on the number of changes: an offline phone must always be able to upload.

use std::io::Read;

use automerge::sync::Message;

/// The bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncLimits {
    /// Most heads a message may name.
    pub max_heads: usize,
    /// Most hashes a message may ask for.
    pub max_need: usize,
    /// Most `have` entries (and last-sync hashes within them).
    pub max_have: usize,
    /// Most bytes the compressed changes of one message may inflate to.
    pub max_decompressed: u64,
}

impl Default for SyncLimits {
    /// decisions.md: 64 MiB of decompressed change data per message.
    fn default() -> Self {
        SyncLimits {
            max_heads: 1024,
            max_need: 100_000,
            max_have: 1024,
            max_decompressed: 64 * 1024 * 1024,
        }
    }
}

/// Why a sync message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Too many heads, needs or haves.
    #[error("sync message names {count} {what}, the limit is {max}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Compressed changes inflate beyond the limit.
    #[error("compressed changes inflate beyond {0} bytes")]
    Inflates(u64),
    /// A chunk that is not well formed.
    #[error("malformed change chunk")]
    Malformed,
    /// A `have` whose Bloom filter Automerge cannot use (no bits, no or too many probes):
    /// Automerge 0.12 would divide by zero or loop for billions of probes on it.
    #[error("malformed bloom filter in a have entry")]
    Bloom,
}

const DOCUMENT: u8 = 0;
const COMPRESSED_CHANGE: u8 = 2;
const BUNDLE: u8 = 3;
/// The column specification bit that marks a deflated column.
const DEFLATE_BIT: u64 = 0b1000;

use nachbar_core::protocol::read_uleb as uleb;

/// Calls `f` with the type and body of every chunk in `bytes` (concatenated chunks).
fn for_each_chunk(
    bytes: &[u8],
    mut f: impl FnMut(u8, &[u8]) -> Result<(), LimitError>,
) -> Result<(), LimitError> {
    for (kind, body) in nachbar_core::protocol::split_chunks(bytes).ok_or(LimitError::Malformed)? {
        f(kind, body)?;
    }
    Ok(())
}

/// Inflated size of the compressed change chunks and deflated document columns in `bytes`
/// (concatenated chunks), stopping once `budget` is exceeded.
fn inflated(bytes: &[u8], budget: u64) -> Result<u64, LimitError> {
    let mut total = 0u64;
    for_each_chunk(bytes, |kind, body| {
        let left = budget.saturating_sub(total);
        total += match kind {
            COMPRESSED_CHANGE => inflate(body, left)?,
            DOCUMENT => inflated_columns(body, left)?,
            // Sync sends change lists or a whole document, never a bundle.
            BUNDLE => return Err(LimitError::Malformed),
            _ => 0,
        };
        if total > budget {
            return Err(LimitError::Inflates(budget));
        }
        Ok(())
    })?;
    Ok(total)
}

/// Inflates one deflate stream, reading at most `budget + 1` bytes of output.
fn inflate(data: &[u8], budget: u64) -> Result<u64, LimitError> {
    let mut decoder = flate2::read::DeflateDecoder::new(data).take(budget + 1);
    let n = std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|_| LimitError::Malformed)?;
    if n > budget {
        return Err(LimitError::Inflates(budget));
    }
    Ok(n)
}

/// A reader over a chunk body that fails (instead of panicking) past its end.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn uleb(&mut self) -> Result<u64, LimitError> {
        let (value, n) = uleb(self.0).ok_or(LimitError::Malformed)?;
        self.0 = &self.0[n..];
        Ok(value)
    }

    fn skip(&mut self, n: u64) -> Result<(), LimitError> {
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.0.len())
            .ok_or(LimitError::Malformed)?;
        self.0 = &self.0[n..];
        Ok(())
    }

    /// Column metadata: (specification, length) pairs.
    fn columns(&mut self) -> Result<Vec<(u64, u64)>, LimitError> {
        let count = self.uleb()?;
        // Each pair takes at least two bytes: a count beyond that is a lie, not an allocation.
        if count > self.0.len() as u64 / 2 {
            return Err(LimitError::Malformed);
        }
        (0..count)
            .map(|_| Ok((self.uleb()?, self.uleb()?)))
            .collect()
    }
}

/// Inflated size of the deflated columns of a document chunk body (the format Automerge's
/// `save` writes: actors, heads, change and op column metadata, then the column data).
fn inflated_columns(body: &[u8], budget: u64) -> Result<u64, LimitError> {
    let mut cursor = Cursor(body);
    for _ in 0..cursor.uleb()? {
        let len = cursor.uleb()?;
        cursor.skip(len)?;
    }
    let heads = cursor.uleb()?;
    cursor.skip(heads.checked_mul(32).ok_or(LimitError::Malformed)?)?;
    let mut columns = cursor.columns()?;
    columns.extend(cursor.columns()?);
    let mut total = 0u64;
    for (spec, len) in columns {
        let start = cursor.0;
        cursor.skip(len)?;
        if spec & DEFLATE_BIT != 0 {
            let data = &start[..start.len() - cursor.0.len()];
            total += inflate(data, budget.saturating_sub(total))?;
        }
    }
    Ok(total)
}

/// Checks a decoded sync message against `limits`; returns how many single changes it
/// carries (a whole document counts as none: it cannot wait for missing dependencies).
///
/// # Errors
/// The first bound it exceeds.
pub fn check(message: &Message, limits: &SyncLimits) -> Result<usize, LimitError> {
    let too_many = |what, count: usize, max: usize| {
        if count > max {
            Err(LimitError::TooMany { what, count, max })
        } else {
            Ok(())
        }
    };
    too_many("heads", message.heads.len(), limits.max_heads)?;
    too_many("needed hashes", message.need.len(), limits.max_need)?;
    too_many("have entries", message.have.len(), limits.max_have)?;
    too_many(
        "last-sync hashes",
        message.have.iter().map(|h| h.last_sync.len()).sum(),
        limits.max_have,
    )?;
    if !nachbar_core::protocol::blooms_usable(message) {
        return Err(LimitError::Bloom);
    }
    let mut total = 0u64;
    let mut changes = 0;
    for chunk in message.changes.iter() {
        total += inflated(chunk, limits.max_decompressed.saturating_sub(total))?;
        for_each_chunk(chunk, |kind, _| {
            changes += usize::from(kind != DOCUMENT);
            Ok(())
        })?;
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use automerge::sync::{State, SyncDoc};
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ROOT};

    use super::*;

    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

    fn compressed_chunk(inflated_len: usize) -> Vec<u8> {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        let mut left = inflated_len;
        while left > 0 {
            let n = left.min(zeros.len());
            enc.write_all(&zeros[..n]).unwrap();
            left -= n;
        }
        let data = enc.finish().unwrap();
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0, 0, 0, 0, COMPRESSED_CHANGE]);
        let mut len = data.len() as u64;
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                chunk.push(b);
                break;
            }
            chunk.push(b | 0x80);
        }
        chunk.extend(data);
        chunk
    }

    #[test]
    fn a_decompression_bomb_is_refused_without_inflating_it() {
        // The same shape as the production bound (64 MiB), scaled down for a debug build.
        let budget = 4 * 1024 * 1024;
        let bomb = compressed_chunk(64 * 1024 * 1024);
        assert!(
            bomb.len() < 128 * 1024,
            "{} bytes: a small chunk",
            bomb.len()
        );
        assert_eq!(inflated(&bomb, budget), Err(LimitError::Inflates(budget)));
        assert_eq!(inflated(&compressed_chunk(1000), budget), Ok(1000));
        assert_eq!(inflated(b"garbage!!", 10), Err(LimitError::Malformed));
    }

    #[test]
    fn a_whole_document_is_bounded_by_its_deflated_columns() {
        // A V2 first-sync message carries the whole document: its deflated value column of
        // 8 MiB of one letter is a few KiB on the wire.
        let mut doc = Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "big", "a".repeat(8 * 1024 * 1024)).map(drop)
        })
        .unwrap();
        let saved = doc.save();
        assert!(saved.len() < 256 * 1024, "{} bytes", saved.len());
        assert_eq!(saved[8], DOCUMENT);
        let inflated_size = inflated(&saved, u64::MAX / 2).unwrap();
        assert!(inflated_size >= 8 * 1024 * 1024, "{inflated_size}");
        assert_eq!(
            inflated(&saved, 1024 * 1024),
            Err(LimitError::Inflates(1024 * 1024))
        );
        // A truncated body is malformed, never a panic.
        let mut cut = saved.clone();
        cut.truncate(saved.len() / 2);
        assert_eq!(inflated(&cut, u64::MAX / 2), Err(LimitError::Malformed));
    }

    #[test]
    fn a_first_sync_sends_a_document_chunk_that_passes() {
        let mut doc = Automerge::new();
        for i in 0..50 {
            doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, format!("k{i}"), "text ".repeat(100)).map(drop)
            })
            .unwrap();
        }
        // A peer that advertises V2 and has nothing gets the whole document.
        let empty = Automerge::new();
        let mut empty_state = State::new();
        let hello = empty.generate_sync_message(&mut empty_state).unwrap();
        let mut state = State::new();
        doc.receive_sync_message(&mut state, hello).unwrap();
        let msg = doc.generate_sync_message(&mut state).unwrap();
        let kinds: Vec<u8> = msg.changes.iter().map(|c| c[8]).collect();
        assert_eq!(kinds, vec![DOCUMENT]);
        assert_eq!(check(&msg, &SyncLimits::default()), Ok(0));
    }

    #[test]
    fn real_sync_messages_pass_and_excess_heads_do_not() {
        let mut doc = Automerge::new();
        for i in 0..100 {
            doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, format!("k{i}"), "v".repeat(200)).map(drop)
            })
            .unwrap();
        }
        let msg = doc.generate_sync_message(&mut State::new()).unwrap();
        let msg_copy = msg.clone();
        let mut peer = Automerge::new();
        let mut state = State::new();
        peer.receive_sync_message(&mut state, msg).unwrap();
        let reply = peer.generate_sync_message(&mut state).unwrap();
        // A V1 list of single changes counts each of them.
        let mut changes_msg = msg_copy;
        changes_msg.changes = doc
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect::<Vec<_>>()
            .into();
        assert_eq!(check(&changes_msg, &SyncLimits::default()), Ok(100));
        check(&reply, &SyncLimits::default()).unwrap();
        let strict = SyncLimits {
            max_heads: 0,
            ..SyncLimits::default()
        };
        let mut with_heads = reply;
        with_heads.heads = doc.get_heads();
        assert!(matches!(
            check(&with_heads, &strict),
            Err(LimitError::TooMany { what: "heads", .. })
        ));
    }
}
