//! Fractional-index positions for ordered collections.
//!
//! Ordered collections (agenda blocks, measures, top pains) are maps keyed by id whose items
//! carry a `position` string; reordering rewrites only that string, so a concurrent edit of the
//! moved item is never lost or duplicated (domain.md §8.4). A position is a base-62 fraction
//! `0.d1d2…` written as its digits; digits are ASCII-ordered (`0-9A-Za-z`), so plain string
//! comparison orders positions. Two replicas that insert at the same place concurrently may pick
//! the same position: readers break ties by record id, which gives a total order.

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: u8 = 62;

fn digit_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        b'a'..=b'z' => Some(c - b'a' + 36),
        _ => None,
    }
}

/// Parses a stored position into digit values; `None` if it is not a valid position
/// (empty, foreign characters, or a trailing zero digit, which would make it equal to a
/// shorter position).
fn parse(position: &str) -> Option<Vec<u8>> {
    let digits: Option<Vec<u8>> = position.bytes().map(digit_value).collect();
    let digits = digits?;
    match digits.last() {
        Some(&last) if last != 0 => Some(digits),
        _ => None,
    }
}

/// Whether `position` is a well-formed position string.
pub fn is_valid(position: &str) -> bool {
    parse(position).is_some()
}

/// A position strictly between `before` and `after` (either may be absent: the start or end
/// of the collection).
///
/// Invalid or out-of-order neighbours (which only a foreign writer produces) are handled by
/// falling back to the nearest valid bound, so this never fails; the caller's tie-break by id
/// keeps the order total.
pub fn between(before: Option<&str>, after: Option<&str>) -> String {
    let low = before.and_then(parse).unwrap_or_default();
    let high = after.and_then(parse);
    let high = match high {
        Some(high) if high > low => Some(high),
        _ => None,
    };
    let digits = midpoint(&low, high.as_deref());
    digits
        .into_iter()
        .map(|d| DIGITS[usize::from(d)] as char)
        .collect()
}

/// `n` positions spread evenly, for building a collection in one go.
pub fn sequence(n: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(n);
    for _ in 0..n {
        let next = between(out.last().map(String::as_str), None);
        out.push(next);
    }
    out
}

/// The digits of a fraction strictly between `low` (0 when empty) and `high` (1 when absent).
/// Requires `low < high` and no trailing zero digits; the result has no trailing zero either.
fn midpoint(low: &[u8], high: Option<&[u8]>) -> Vec<u8> {
    if let Some(high) = high {
        // Skip the common prefix (low padded with zeros).
        let common = high
            .iter()
            .enumerate()
            .take_while(|(i, d)| low.get(*i).copied().unwrap_or(0) == **d)
            .count();
        if common > 0 {
            let mut out = high[..common].to_vec();
            let rest_low = low.get(common..).unwrap_or(&[]);
            out.extend(midpoint(rest_low, Some(&high[common..])));
            return out;
        }
    }
    let d_low = low.first().copied().unwrap_or(0);
    let d_high = high.and_then(|h| h.first().copied()).unwrap_or(BASE);
    if d_high - d_low > 1 {
        return vec![(d_low + d_high) / 2];
    }
    // Consecutive first digits.
    if let Some(high) = high
        && high.len() > 1
    {
        return vec![high[0]];
    }
    let mut out = vec![d_low];
    out.extend(midpoint(low.get(1..).unwrap_or(&[]), None));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_positions_are_short_and_ordered() {
        let seq = sequence(5);
        assert!(seq.windows(2).all(|w| w[0] < w[1]), "{seq:?}");
        assert!(seq.iter().all(|p| is_valid(p)));
    }

    #[test]
    fn invalid_neighbours_fall_back() {
        let p = between(Some("not valid!"), Some("V"));
        assert!(is_valid(&p) && p.as_str() < "V");
        let p = between(Some("z"), Some("A"));
        assert!(is_valid(&p) && p.as_str() > "z");
        assert!(!is_valid("A0"));
        assert!(!is_valid(""));
    }

    #[test]
    fn repeated_insertion_at_the_front_stays_ordered() {
        let mut first = between(None, None);
        for _ in 0..200 {
            let p = between(None, Some(&first));
            assert!(p < first && is_valid(&p), "{p} !< {first}");
            first = p;
        }
    }

    proptest! {
        #[test]
        fn between_is_strictly_between(picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..80)) {
            let mut list: Vec<String> = Vec::new();
            for pick in picks {
                let i = pick.index(list.len() + 1);
                let before = i.checked_sub(1).map(|j| list[j].as_str());
                let after = list.get(i).map(String::as_str);
                let p = between(before, after);
                prop_assert!(is_valid(&p));
                if let Some(b) = before { prop_assert!(b < p.as_str(), "{} !< {}", b, p); }
                if let Some(a) = after { prop_assert!(p.as_str() < a, "{} !< {}", p, a); }
                list.insert(i, p);
            }
            prop_assert!(list.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
