//! The cutover window: when the business allows the freeze. Weekly openings in a time zone (the bundled time
//! zone database, so this stays pure), and whether a predicted downtime fits the rest of an opening.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::plan::intent::CutoverWindow;

/// Where `now` falls relative to the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Inside an opening that ends at `closes_at`.
    Open { closes_at: Timestamp },
    /// Outside; the next opening starts at `opens_at`.
    Closed { opens_at: Timestamp },
}

/// One weekly opening: "Sat 22:00".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    pub weekday: Weekday,
    pub time: Time,
}

/// Parses "Sat 22:00" (three-letter or full English weekday, 24-hour time).
pub fn parse_opening(text: &str) -> Result<Opening, String> {
    let bad = || format!("{text:?} is not a weekday and a 24-hour time such as \"Sat 22:00\"");
    let (day, time) = text.trim().split_once(' ').ok_or_else(bad)?;
    let weekday = match day.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return Err(bad()),
    };
    let (hour, minute) = time.trim().split_once(':').ok_or_else(bad)?;
    let hour: i8 = hour.parse().map_err(|_| bad())?;
    let minute: i8 = minute.parse().map_err(|_| bad())?;
    let time = Time::new(hour, minute, 0, 0).map_err(|_| bad())?;
    Ok(Opening { weekday, time })
}

/// Problems with a window as the operator wrote it (checked when the plan loads).
pub fn window_problems(window: &CutoverWindow) -> Vec<String> {
    let mut problems = Vec::new();
    if TimeZone::get(&window.time_zone).is_err() {
        problems.push(format!(
            "time_zone {:?} is not an IANA time zone name (e.g. \"Asia/Tokyo\", \"UTC\")",
            window.time_zone
        ));
    }
    if window.opens.is_empty() {
        problems.push("opens lists no opening (e.g. [\"Sat 22:00\"])".into());
    }
    problems.extend(window.opens.iter().filter_map(|o| parse_opening(o).err()));
    let secs = window.duration.as_secs();
    if !(60..=7 * 86_400).contains(&secs) {
        problems.push(format!("duration {} is outside 1m to 7d", window.duration));
    }
    problems
}

/// Where `now` falls. A window that does not validate (see [`window_problems`]) is always closed, a week out.
pub fn window_state(window: &CutoverWindow, now: Timestamp) -> WindowState {
    let week_later = WindowState::Closed {
        opens_at: now + SignedDuration::from_hours(24 * 7),
    };
    let Ok(tz) = TimeZone::get(&window.time_zone) else {
        return week_later;
    };
    let length = SignedDuration::from_secs(i64::try_from(window.duration.as_secs()).unwrap_or(i64::MAX));
    let today = now.to_zoned_datetime(tz.clone()).date();
    let mut open_until: Option<Timestamp> = None;
    let mut next: Option<Timestamp> = None;
    // Openings from eight days back (one may still be open) to eight days ahead.
    for offset in -8i64..=8 {
        let Ok(date) = today.checked_add(offset.days()) else {
            continue;
        };
        for opening in window.opens.iter().filter_map(|o| parse_opening(o).ok()) {
            if date.weekday() != opening.weekday {
                continue;
            }
            let Ok(start) = date.to_datetime(opening.time).to_zoned_datetime(tz.clone()) else {
                continue;
            };
            let start = start.timestamp();
            let end = start + length;
            if start <= now && now < end {
                open_until = Some(open_until.map_or(end, |u| u.max(end)));
            } else if start > now {
                next = Some(next.map_or(start, |n| n.min(start)));
            }
        }
    }
    match (open_until, next) {
        (Some(closes_at), _) => WindowState::Open { closes_at },
        (None, Some(opens_at)) => WindowState::Closed { opens_at },
        (None, None) => week_later,
    }
}

/// The first opening that starts after `after`.
pub fn next_opening(window: &CutoverWindow, after: Timestamp) -> Timestamp {
    match window_state(window, after) {
        WindowState::Closed { opens_at } => opens_at,
        // Open at `after` (overlapping openings): look past its end.
        WindowState::Open { closes_at } => match window_state(window, closes_at) {
            WindowState::Closed { opens_at } => opens_at,
            WindowState::Open { .. } => closes_at,
        },
    }
}

/// `at` as the window's local time, for messages ("Sat 2026-12-05 22:00 Asia/Tokyo").
pub fn local(window: &CutoverWindow, at: Timestamp) -> String {
    match TimeZone::get(&window.time_zone) {
        Ok(tz) => at
            .to_zoned_datetime(tz)
            .strftime("%a %Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::units::Duration;

    fn tokyo_saturday_night() -> CutoverWindow {
        CutoverWindow {
            time_zone: "Asia/Tokyo".into(),
            opens: vec!["Sat 22:00".into()],
            duration: Duration::hours(4),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_saturday_night_in_tokyo_opens_and_closes_across_midnight() {
        let w = tokyo_saturday_night();
        // 2026-12-05 is a Saturday; 22:00 JST is 13:00 UTC.
        assert_eq!(
            window_state(&w, at("2026-12-02T00:00:00Z")),
            WindowState::Closed {
                opens_at: at("2026-12-05T13:00:00Z")
            }
        );
        assert_eq!(
            window_state(&w, at("2026-12-05T16:59:59Z")),
            WindowState::Open {
                closes_at: at("2026-12-05T17:00:00Z")
            }
        );
        assert_eq!(
            window_state(&w, at("2026-12-05T17:00:00Z")),
            WindowState::Closed {
                opens_at: at("2026-12-12T13:00:00Z")
            }
        );
        assert_eq!(
            next_opening(&w, at("2026-12-05T14:00:00Z")),
            at("2026-12-12T13:00:00Z")
        );
        assert_eq!(local(&w, at("2026-12-05T13:00:00Z")), "Sat 2026-12-05 22:00 JST");
    }

    #[test]
    fn openings_and_time_zones_are_checked() {
        assert!(parse_opening("Sun 02:30").is_ok());
        assert!(parse_opening("Someday 02:30").is_err());
        assert!(parse_opening("Sat 25:00").is_err());
        let mut w = tokyo_saturday_night();
        w.time_zone = "Mars/Olympus".into();
        w.opens.push("Sat 7pm".into());
        w.duration = Duration::secs(10);
        let problems = window_problems(&w);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
