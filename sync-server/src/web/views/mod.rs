//! View models: pure functions from `nachbar-core`'s read models (and the directory) to what a
//! page shows, in the page's language. No HTTP, no database; unit-tested on their own.

pub mod answering;
pub mod business;
pub mod home;
pub mod people;
pub mod plan;
pub mod profile;
pub mod radar;
pub mod results;
pub mod signers;
pub mod workshop;

use nachbar_core::label::{Labelled, Lang};

/// A value with its code and its label in the page's language (for selects and cells).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The stored code.
    pub code: String,
    /// The label.
    pub label: String,
    /// Whether it is the current value.
    pub selected: bool,
}

/// The choices of a coded enum, `current` selected.
pub fn choices<T: Labelled + Copy + PartialEq>(
    all: &[T],
    code: impl Fn(T) -> &'static str,
    current: Option<T>,
    lang: Lang,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v).to_owned(),
            label: v.label().get(lang).to_owned(),
            selected: current == Some(*v),
        })
        .collect()
}

/// An ISO date (`2026-12-02`) as the language writes it (`02.12.2026` / `2 Dec 2026`).
pub fn date(iso: &str, lang: Lang) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return iso.to_owned();
    };
    match lang {
        Lang::De => format!("{d}.{m}.{y}"),
        Lang::En => {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let month = m
                .parse::<usize>()
                .ok()
                .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
                .copied()
                .unwrap_or(m);
            format!("{} {month} {y}", d.trim_start_matches('0'))
        }
    }
}

/// A time in ms since the epoch as a date and time in UTC for lists ("last used").
pub fn moment(ms: i64, lang: Lang) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let iso = civil(days);
    format!(
        "{} {:02}:{:02}",
        date(&iso, lang),
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Days since the epoch → `YYYY-MM-DD` (proleptic Gregorian).
pub fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's date (UTC) as ISO.
pub fn today(now_ms: i64) -> String {
    civil(now_ms.div_euclid(86_400_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_languages() {
        assert_eq!(date("2026-12-02", Lang::De), "02.12.2026");
        assert_eq!(date("2026-12-02", Lang::En), "2 Dec 2026");
        assert_eq!(date("nonsense", Lang::En), "nonsense");
        assert_eq!(civil(0), "1970-01-01");
        assert_eq!(today(951_782_400_000), "2000-02-29");
        assert_eq!(
            moment(951_782_400_000 + 3_660_000, Lang::De),
            "29.02.2000 01:01"
        );
    }
}
