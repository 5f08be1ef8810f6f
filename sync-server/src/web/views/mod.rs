//! View models: pure functions from `nachbar-core`'s read models (and the directory) to what a
//! page shows, in the page's language. No HTTP, no database; unit-tested on their own.

pub mod answering;
pub mod business;
pub mod calendar;
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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

/// The offset of German local time (Europe/Berlin) from UTC at `ms`, in ms: CEST (+2 h) from
/// 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October, the EU's
/// rule since 1996; CET (+1 h) otherwise.
pub fn berlin_offset_ms(ms: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    let year: i64 = civil(ms.div_euclid(86_400_000))[..4]
        .parse()
        .unwrap_or(1970);
    // Days since the epoch of the last Sunday of `month` (31 days: March, October).
    let last_sunday = |month: u32| -> i64 {
        let last = days_from_civil(year, month, 31);
        // 1970-01-01 was a Thursday: (days + 4) mod 7 is the weekday, Sunday = 0.
        last - (last + 4).rem_euclid(7)
    };
    let start = last_sunday(3) * 86_400_000 + HOUR;
    let end = last_sunday(10) * 86_400_000 + HOUR;
    if (start..end).contains(&ms) {
        2 * HOUR
    } else {
        HOUR
    }
}

/// Days since the epoch of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A time in ms since the epoch as a date and time in German local time (the neighbourhoods'
/// time zone) for lists ("last used", "signed off on").
pub fn moment(ms: i64, lang: Lang) -> String {
    // Device times come from peers: anything outside the years 1–9999 is shown at the edge.
    let ms = ms.clamp(MIN_MS, MAX_MS);
    let secs = (ms + berlin_offset_ms(ms)).div_euclid(1000);
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

/// Today's date in German local time as ISO (what "overdue" compares with).
pub fn today(now_ms: i64) -> String {
    let now_ms = now_ms.clamp(MIN_MS, MAX_MS);
    civil((now_ms + berlin_offset_ms(now_ms)).div_euclid(86_400_000))
}

/// 0001-01-01T00:00Z and 9999-12-30T00:00Z in ms: the range dates are shown in.
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_128_000_000;

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
        // 2000-02-29 01:01 UTC is 02:01 in Berlin (winter time).
        assert_eq!(
            moment(951_782_400_000 + 3_660_000, Lang::De),
            "29.02.2000 02:01"
        );
        // 23:30 UTC on 2026-12-02 is already the 3rd in Berlin.
        let late = days_from_civil(2026, 12, 2) * 86_400_000 + 84_600_000;
        assert_eq!(civil(late.div_euclid(86_400_000)), "2026-12-02");
        assert_eq!(today(late), "2026-12-03");
    }

    #[test]
    fn german_summer_time_follows_the_eu_rule() {
        const HOUR: i64 = 3_600_000;
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 12, 3), 20_790);
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let march_29 = days_from_civil(2026, 3, 29) * 86_400_000;
        let october_25 = days_from_civil(2026, 10, 25) * 86_400_000;
        assert_eq!(berlin_offset_ms(march_29 + HOUR - 1), HOUR);
        assert_eq!(berlin_offset_ms(march_29 + HOUR), 2 * HOUR);
        assert_eq!(berlin_offset_ms(october_25 + HOUR - 1), 2 * HOUR);
        assert_eq!(berlin_offset_ms(october_25 + HOUR), HOUR);
        assert_eq!(moment(march_29 + HOUR, Lang::De), "29.03.2026 03:00");
        // Times from peers at the edges neither overflow nor panic.
        assert_eq!(moment(i64::MAX, Lang::De), "30.12.9999 01:00");
        assert!(moment(i64::MIN, Lang::En).ends_with(" 0001 01:00"));
    }
}
