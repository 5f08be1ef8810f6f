//! What a report's data may hold before typst sees them: every text the engine can draw with
//! the embedded fonts (a character they lack becomes U+FFFD, since PDF/UA forbids the empty
//! `.notdef` glyph and one emoji would otherwise fail the whole report), without control
//! characters, and no longer than [`MAX_TEXT_CHARS`] (a report is a summary; the page holds
//! the full text). The bounded size is what keeps one report's typesetting time bounded.

use serde_json::Value;

/// The longest text a report prints in full; longer ones end in "…".
pub const MAX_TEXT_CHARS: usize = 1_500;

/// Fields made by the server, not by users, that are passed through as they are (the radar
/// chart's SVG).
const VERBATIM: &[&str] = &["radar_svg"];

/// The character printed for one the fonts cannot draw.
const REPLACEMENT: char = '\u{FFFD}';

/// `value` with every string cleaned by [`clean`].
pub fn sanitize(value: &mut Value, drawable: &dyn Fn(char) -> bool) {
    match value {
        Value::String(s) => {
            if let Some(cleaned) = clean(s, drawable) {
                *s = cleaned;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| sanitize(v, drawable)),
        Value::Object(fields) => {
            for (key, v) in fields.iter_mut() {
                if !VERBATIM.contains(&key.as_str()) {
                    sanitize(v, drawable);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `text` cleaned, or `None` when it is fine as it is: control characters other than line
/// breaks and tabs become spaces, characters the fonts cannot draw become U+FFFD (or `?` if
/// even that is missing), and it is cut at [`MAX_TEXT_CHARS`].
pub fn clean(text: &str, drawable: &dyn Fn(char) -> bool) -> Option<String> {
    let fine = |c: char| !unwanted_control(c) && (c == '\n' || c == '\t' || drawable(c));
    if text.chars().count() <= MAX_TEXT_CHARS && text.chars().all(fine) {
        return None;
    }
    let replacement = if drawable(REPLACEMENT) {
        REPLACEMENT
    } else {
        '?'
    };
    let mut out: String = text
        .chars()
        .take(MAX_TEXT_CHARS)
        .map(|c| match c {
            c if unwanted_control(c) => ' ',
            '\n' | '\t' => c,
            c if drawable(c) => c,
            _ => replacement,
        })
        .collect();
    if text.chars().nth(MAX_TEXT_CHARS).is_some() {
        out.push('…');
    }
    Some(out)
}

/// C0 and C1 controls (but line feed and tab), DEL and the Unicode line and paragraph
/// separators.
fn unwanted_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latin(c: char) -> bool {
        (c as u32) < 0x250 || c == '…' || c == REPLACEMENT
    }

    #[test]
    fn undrawable_characters_become_the_replacement_and_controls_spaces() {
        assert_eq!(clean("Glas & Rahmen - ÄÖÜß", &latin), None);
        assert_eq!(
            clean("Start 🚀 老\u{0007}x\r\ny", &latin).as_deref(),
            Some("Start \u{FFFD} \u{FFFD} x \ny")
        );
        let no_replacement = |c: char| c != REPLACEMENT && latin(c);
        assert_eq!(clean("🚀", &no_replacement).as_deref(), Some("?"));
    }

    #[test]
    fn long_texts_are_cut_and_server_fields_kept() {
        let long = "ä".repeat(MAX_TEXT_CHARS + 10);
        let cut = clean(&long, &latin).expect("cut");
        assert_eq!(cut.chars().count(), MAX_TEXT_CHARS + 1);
        assert!(cut.ends_with("ä…"));
        assert_eq!(clean(&"ä".repeat(MAX_TEXT_CHARS), &latin), None);

        let mut v = serde_json::json!({
            "measures": [{"title": "🚀"}],
            "radar_svg": "<svg>🚀</svg>",
        });
        sanitize(&mut v, &latin);
        assert_eq!(v["measures"][0]["title"], "\u{FFFD}");
        assert_eq!(v["radar_svg"], "<svg>🚀</svg>");
    }
}
