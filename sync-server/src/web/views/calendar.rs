//! A user's calendar feed (RFC 5545): the neighbourhood's meetings and the workshops the user
//! may read (invited, or running them), in Europe/Berlin with its VTIMEZONE, each with a UID
//! that stays when the event moves and the SEQUENCE the store keeps for it. Pure: the events
//! are built from the read models, the text by the `icalendar` crate.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, EventLike};
use nachbar_core::model::neighbourhood::NeighbourhoodView;
use nachbar_core::model::workshop::WorkshopView;

/// The time zone every nachbar date is in.
pub const TZID: &str = "Europe/Berlin";

/// Europe/Berlin since 1996 (EU summer time: last Sunday of March 01:00 UTC to last Sunday of
/// October 01:00 UTC), as RFC 5545 §3.6.5 wants it next to the events that name it.
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n\
DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// How far back a feed reaches: older events are left out (a calendar keeps what it has),
/// which bounds the feed and the SEQUENCE rows kept for it.
pub const DAYS_BACK: u64 = 365;

/// The first date (ISO) a feed made at `now_ms` carries.
pub fn oldest_date(now_ms: i64) -> String {
    let today = DateTime::<Utc>::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .date_naive();
    today
        .checked_sub_days(chrono::Days::new(DAYS_BACK))
        .unwrap_or(today)
        .format("%Y-%m-%d")
        .to_string()
}

/// How long an event without an end lasts.
const DEFAULT_MINUTES: u32 = 120;

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable across moves: the workshop's document, or the neighbourhood's meeting record.
    pub uid: String,
    /// Title.
    pub title: String,
    /// ISO date.
    pub date: String,
    /// Start `HH:MM` (none: an all-day event).
    pub start: Option<String>,
    /// End `HH:MM`.
    pub end: Option<String>,
    /// Place.
    pub place: String,
    /// More about it.
    pub description: String,
    /// The page of it (path).
    pub path: Option<String>,
}

impl CalendarEvent {
    /// What a subscribed calendar must see change (time, place, title): the SEQUENCE rises
    /// when it differs from the stored one.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.date,
            self.start.as_deref().unwrap_or(""),
            self.end.as_deref().unwrap_or(""),
            self.place,
            self.title
        )
    }
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn clock(total: u32) -> String {
    let total = total.min(23 * 60 + 59);
    format!("{:02}:{:02}", total / 60, total % 60)
}

/// The end of an event starting at `start` that lasts `planned` minutes (or the default),
/// within its day.
fn end_after(start: &str, planned: u32) -> Option<String> {
    let planned = if planned == 0 {
        DEFAULT_MINUTES
    } else {
        planned
    };
    minutes(start).map(|s| clock(s + planned))
}

/// `text` as one line of a calendar property: control characters, line breaks and the Unicode
/// separators become spaces (the `icalendar` crate escapes `\n` but not a bare `\r`, which
/// some readers take for a line break and so for a forged property).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `text` as a calendar description: like [`one_line`], but line feeds stay.
fn lines(text: &str) -> String {
    text.split('\n')
        .map(one_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The events of `hood` (neighbourhood `hood_id`) and of `workshops` (document id, view) the
/// user may read; a meeting that is one of these workshops is left out (the workshop stands
/// for it).
pub fn events(
    hood_id: &str,
    hood: &NeighbourhoodView,
    workshops: &[(String, WorkshopView)],
) -> Vec<CalendarEvent> {
    let mut out = Vec::new();
    for (id, w) in workshops {
        let Some(date) = w.date.clone() else { continue };
        let start = w.start.clone().filter(|s| minutes(s).is_some());
        // An end that is not a time, or not after the start, is left for the planned length.
        let end = w
            .end
            .clone()
            .filter(|e| matches!((minutes(e), start.as_deref().and_then(minutes)), (Some(e), Some(s)) if e > s))
            .or_else(|| start.as_deref().and_then(|s| end_after(s, w.planned_min)));
        let description = [w.guiding_question.as_str(), w.goal.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        out.push(CalendarEvent {
            uid: format!("workshop-{id}@nachbar"),
            title: w.title.clone(),
            date,
            start,
            end,
            place: w.place.clone(),
            description,
            path: Some(format!("/w/{id}")),
        });
    }
    for m in &hood.meetings {
        // The meeting's key goes into its UID: only a record id (no separator, bounded length)
        // keeps UIDs unique and stable.
        if !nachbar_core::ids::is_record_id(&m.id) {
            continue;
        }
        if m.workshop
            .as_ref()
            .is_some_and(|w| workshops.iter().any(|(id, _)| id == w))
        {
            continue;
        }
        let start = m.start.clone().filter(|s| minutes(s).is_some());
        out.push(CalendarEvent {
            uid: format!("meeting-{hood_id}-{}@nachbar", m.id),
            title: m.title.clone(),
            date: m.date.clone(),
            end: start.as_deref().and_then(|s| end_after(s, 0)),
            start,
            place: m.place.clone(),
            description: hood.name.clone(),
            path: None,
        });
    }
    out.sort_by(|a, b| (&a.date, &a.start, &a.uid).cmp(&(&b.date, &b.start, &b.uid)));
    out
}

fn local(date: NaiveDate, hhmm: &str) -> Option<CalendarDateTime> {
    let m = minutes(hhmm)?;
    let time = NaiveTime::from_hms_opt(m / 60, m % 60, 0)?;
    Some(CalendarDateTime::WithTimezone {
        date_time: NaiveDateTime::new(date, time),
        tzid: TZID.to_owned(),
    })
}

/// The feed named `name` of `events` with their `sequences`, stamped `now_ms`; links are
/// made absolute with `base` (`https://host`).
pub fn ics(
    name: &str,
    events: &[CalendarEvent],
    sequences: &[i64],
    now_ms: i64,
    base: &str,
) -> String {
    let stamp = DateTime::<Utc>::from_timestamp_millis(now_ms).unwrap_or_default();
    let mut cal = Calendar::new();
    cal.name(name).timezone(TZID);
    for (e, seq) in events.iter().zip(sequences) {
        let Ok(date) = NaiveDate::parse_from_str(&e.date, "%Y-%m-%d") else {
            continue;
        };
        let mut event = icalendar::Event::new();
        event
            .uid(&e.uid)
            .summary(&one_line(&e.title))
            .sequence(u32::try_from(*seq).unwrap_or(u32::MAX))
            .timestamp(stamp);
        if !e.place.is_empty() {
            event.location(&one_line(&e.place));
        }
        if !e.description.is_empty() {
            event.description(&lines(&e.description));
        }
        if let Some(path) = &e.path {
            event.url(&format!("{base}{path}"));
        }
        match e.start.as_deref().and_then(|s| local(date, s)) {
            Some(start) => {
                event.starts(start);
                if let Some(end) = e.end.as_deref().and_then(|s| local(date, s)) {
                    event.ends(end);
                }
            }
            None => {
                event.all_day(date);
            }
        }
        cal.push(event.done());
    }
    with_timezone(&cal.done().to_string())
}

/// `text` (a serialised calendar) with the VTIMEZONE before its first component. The crate
/// writes a DTSTAMP and a UID into every component it serialises, which RFC 5545 does not
/// allow in a VTIMEZONE, so the fixed block goes in as text.
fn with_timezone(text: &str) -> String {
    let at = text
        .find("BEGIN:VEVENT\r\n")
        .or_else(|| text.rfind("END:VCALENDAR"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + VTIMEZONE.len());
    out.push_str(&text[..at]);
    out.push_str(VTIMEZONE);
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_texts_cannot_forge_properties_or_events() {
        let forged = "x\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:gefälscht";
        let event = CalendarEvent {
            uid: "workshop-1@nachbar".to_owned(),
            title: forged.to_owned(),
            date: "2026-12-10".to_owned(),
            start: Some("09:00".to_owned()),
            end: None,
            place: format!("Halle\u{2028}{forged}"),
            description: format!("Zeile 1\n{forged}"),
            path: None,
        };
        let text = ics("Kalender", &[event], &[0], 0, "http://127.0.0.1");
        assert_eq!(text.matches("\r\nBEGIN:VEVENT").count(), 1, "{text}");
        let bare_cr = text
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\r' && w[1] != b'\n');
        assert!(!bare_cr, "{text:?}");
        assert!(!text.contains('\u{2028}'));
        // The line feed of the description stays, escaped as the standard wants.
        assert!(text.contains("Zeile 1\\n"), "{text}");
    }
}
