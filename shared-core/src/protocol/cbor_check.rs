//! A structural pass over CBOR before any field is read: well-formed, definite lengths only,
//! nesting within the limit, and every declared length within the remaining input, so a
//! 9-byte "array of 2^62 elements" or a 10,000-deep nesting costs nothing.

use super::DecodeError;

fn invalid(msg: &str) -> DecodeError {
    DecodeError::InvalidCbor(msg.to_owned())
}

/// Reads the argument of the head at `pos`; returns (major type, argument, head length).
fn head(bytes: &[u8], pos: usize) -> Result<(u8, u64, usize), DecodeError> {
    let initial = *bytes.get(pos).ok_or_else(|| invalid("truncated"))?;
    let major = initial >> 5;
    let info = initial & 0x1f;
    let (arg, len) = match info {
        0..=23 => (u64::from(info), 1),
        24..=27 => {
            let n = 1usize << (info - 24);
            let slice = bytes
                .get(pos + 1..pos + 1 + n)
                .ok_or_else(|| invalid("truncated"))?;
            let mut arg = 0u64;
            for b in slice {
                arg = (arg << 8) | u64::from(*b);
            }
            (arg, 1 + n)
        }
        28..=30 => return Err(invalid("reserved additional information")),
        _ => return Err(invalid("indefinite lengths are not supported")),
    };
    Ok((major, arg, len))
}

/// Checks that `bytes` hold exactly one well-formed CBOR item nested at most `max_depth`
/// deep, without allocating per item.
///
/// # Errors
/// [`DecodeError::InvalidCbor`], [`DecodeError::TooDeep`] or [`DecodeError::TrailingBytes`].
pub fn check_structure(bytes: &[u8], max_depth: usize) -> Result<(), DecodeError> {
    // Items still to read at each open nesting level.
    let mut pending: Vec<u64> = Vec::with_capacity(max_depth.min(64));
    let mut pos = 0usize;
    let mut remaining_top = 1u64;
    loop {
        let need = match pending.last_mut() {
            Some(n) => n,
            None => &mut remaining_top,
        };
        if *need == 0 {
            if pending.pop().is_none() {
                break;
            }
            continue;
        }
        *need -= 1;
        let (major, arg, len) = head(bytes, pos)?;
        pos += len;
        let left = (bytes.len() - pos) as u64;
        match major {
            0 | 1 => {}
            2 | 3 => {
                if arg > left {
                    return Err(invalid("string longer than the message"));
                }
                pos += arg as usize;
                if major == 3 && std::str::from_utf8(&bytes[pos - arg as usize..pos]).is_err() {
                    return Err(invalid("text is not utf-8"));
                }
            }
            4 | 5 => {
                let items = if major == 5 {
                    arg.checked_mul(2).ok_or_else(|| invalid("map too long"))?
                } else {
                    arg
                };
                if items > left {
                    return Err(invalid("collection longer than the message"));
                }
                if items > 0 {
                    if pending.len() >= max_depth {
                        return Err(DecodeError::TooDeep(max_depth));
                    }
                    pending.push(items);
                }
            }
            6 => {
                // A tag wraps exactly one item.
                if pending.len() >= max_depth {
                    return Err(DecodeError::TooDeep(max_depth));
                }
                pending.push(1);
            }
            _ => {
                // Major 7: simple values and floats; the head already covered their bytes,
                // except the one-byte simple values 0–19/32–255 of info 24, which are fine too.
            }
        }
    }
    if pos != bytes.len() {
        return Err(DecodeError::TrailingBytes);
    }
    Ok(())
}
