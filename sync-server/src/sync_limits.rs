//! Bounds checked on a decoded sync message before Automerge applies it: the number of heads,
//! needs and haves, and the decompressed size of compressed changes (a 1 MiB change that
//! inflates to 1 GiB is refused after reading 64 MiB of it, not after allocating a gigabyte).
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
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const COMPRESSED_CHANGE: u8 = 2;

fn uleb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Inflated size of the compressed change chunks in `bytes` (concatenated chunks), stopping
/// once `budget` is exceeded.
fn inflated(mut bytes: &[u8], budget: u64) -> Result<u64, LimitError> {
    let mut total = 0u64;
    while !bytes.is_empty() {
        if bytes.len() < 9 || bytes[..4] != MAGIC {
            return Err(LimitError::Malformed);
        }
        let kind = bytes[8];
        let (len, n) = uleb(&bytes[9..]).ok_or(LimitError::Malformed)?;
        let start = 9 + n;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|e| *e <= bytes.len())
            .ok_or(LimitError::Malformed)?;
        if kind == COMPRESSED_CHANGE {
            let left = budget.saturating_sub(total);
            let mut decoder = flate2::read::DeflateDecoder::new(&bytes[start..end]).take(left + 1);
            let n = std::io::copy(&mut decoder, &mut std::io::sink())
                .map_err(|_| LimitError::Malformed)?;
            total += n;
            if total > budget {
                return Err(LimitError::Inflates(budget));
            }
        }
        bytes = &bytes[end..];
    }
    Ok(total)
}

/// Checks a decoded sync message against `limits`.
///
/// # Errors
/// The first bound it exceeds.
pub fn check(message: &Message, limits: &SyncLimits) -> Result<(), LimitError> {
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
    let mut total = 0u64;
    for chunk in message.changes.iter() {
        total += inflated(chunk, limits.max_decompressed.saturating_sub(total))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use automerge::sync::{State, SyncDoc};
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ROOT};

    use super::*;

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
    fn real_sync_messages_pass_and_excess_heads_do_not() {
        let mut doc = Automerge::new();
        for i in 0..100 {
            doc.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, format!("k{i}"), "v".repeat(200)).map(drop)
            })
            .unwrap();
        }
        let msg = doc.generate_sync_message(&mut State::new()).unwrap();
        let mut peer = Automerge::new();
        let mut state = State::new();
        peer.receive_sync_message(&mut state, msg).unwrap();
        let reply = peer.generate_sync_message(&mut state).unwrap();
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
