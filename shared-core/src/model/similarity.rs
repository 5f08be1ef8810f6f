//! Title similarity for duplicate hints: Jaccard similarity of lower-cased word tokens.

use std::collections::BTreeSet;

/// The threshold from which two titles count as similar (decisions.md).
pub(crate) const DUPLICATE_THRESHOLD: f64 = 0.6;

/// The word tokens of a title: lower-cased runs of letters and digits (umlauts included);
/// `@`, `-` and similar split words.
pub(crate) fn tokens(title: &str) -> BTreeSet<String> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// |A ∩ B| / |A ∪ B| of the two titles' tokens; 0 when both are empty.
pub(crate) fn jaccard(a: &str, b: &str) -> f64 {
    let (a, b) = (tokens(a), tokens(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_titles_are_similar_and_unrelated_ones_are_not() {
        assert_eq!(
            jaccard(
                "Funktionspostfach rechnung@ einrichten",
                "Funktionspostfach rechnung@ einrichten"
            ),
            1.0
        );
        assert!(
            jaccard(
                "Funktionspostfach rechnung@ einrichten",
                "Funktionspostfach Rechnung@ einrichten!"
            ) >= DUPLICATE_THRESHOLD
        );
        assert!(
            jaccard("Funktionspostfach rechnung@ einrichten", "Backup testen")
                < DUPLICATE_THRESHOLD
        );
        assert_eq!(jaccard("", ""), 0.0);
    }
}
