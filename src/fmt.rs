//! Text formatting shared by `report` and the TUI: durations, times and the escaping of
//! untrusted event text. Pure: times are formatted in UTC or an explicit zone, never in
//! the machine's local zone implicitly.

use std::fmt::Write as _;

use chrono::{DateTime, TimeZone, Utc};

/// A duration in ms, compact: `350ms`, `42s`, `7m12s`, `1h05m`, `2d03h`. Negative values
/// get a leading `-`.
#[must_use]
pub fn duration(ms: i64) -> String {
    if ms < 0 {
        return format!("-{}", duration(ms.saturating_neg()));
    }
    let s = ms / 1000;
    match s {
        _ if ms < 1000 => format!("{ms}ms"),
        0..60 => {
            if ms % 1000 == 0 {
                format!("{s}s")
            } else {
                format!("{:.1}s", ms as f64 / 1000.0)
            }
        }
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A timeout or threshold as the user would type it: `30m`, `1h30m`, `90s`, `250ms`.
#[must_use]
pub fn setting(ms: i64) -> String {
    if ms <= 0 || ms % 1000 != 0 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let mut out = String::new();
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if sec > 0 {
        let _ = write!(out, "{sec}s");
    }
    out
}

/// Parses a duration such as `300000ms`, `90s`, `5m`, `1h30m` into ms.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("'{text}' is not a duration like 90s, 5m or 1h30m ({e})"))?;
    if !d.is_zero() && d.as_millis() == 0 {
        return Err(format!(
            "'{text}' is shorter than 1 ms: durations are whole milliseconds"
        ));
    }
    i64::try_from(d.as_millis()).map_err(|_| format!("'{text}' is too long a duration"))
}

/// A time in ms as `YYYY-MM-DD HH:MM:SS.mmm` in `tz`; out-of-range values print as ms.
#[must_use]
pub fn time_in<Tz: TimeZone>(ms: i64, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t
            .with_timezone(tz)
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string(),
        None => format!("{ms}ms"),
    }
}

/// A time in ms as UTC text.
#[must_use]
pub fn time(ms: i64) -> String {
    time_in(ms, &Utc)
}

/// Untrusted text made safe for a terminal: control characters (C0, DEL, C1) become
/// visible escapes (`\n`, `\t`, `\e`, `\u{9b}`), so no escape sequence reaches the
/// terminal raw. Borrowed when nothing needs escaping.
#[must_use]
pub fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether a session id reads as a start time in ms (years 2000–2100), so views print it as
/// a time; other ids (seconds, constants) are printed as numbers.
#[must_use]
pub fn is_plausible_time(ms: i64) -> bool {
    (946_684_800_000..4_102_444_800_000).contains(&ms)
}

/// The label of gap-histogram bucket `i`: `0-10s`, `10s-30s`, …, `> 24h`.
#[must_use]
pub fn gap_bucket_label(i: usize) -> String {
    use crate::analysis::GAP_BUCKETS;
    let lower = i.checked_sub(1).and_then(|j| GAP_BUCKETS.get(j)).copied();
    match (lower, GAP_BUCKETS.get(i).copied()) {
        (Some(lower), Some(i64::MAX) | None) => format!("> {}", setting(lower)),
        (Some(lower), Some(upper)) => format!("{}-{}", setting(lower), setting(upper)),
        (None, Some(upper)) => format!("0-{}", setting(upper)),
        (None, None) => String::new(),
    }
}

/// A count with thousands separators: `1,234,567`.
#[must_use]
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_compact() {
        let cases = [
            (0, "0ms"),
            (350, "350ms"),
            (42_000, "42s"),
            (1_500, "1.5s"),
            (432_000, "7m12s"),
            (3_900_000, "1h05m"),
            (183_600_000, "2d03h"),
            (-60_000, "-1m00s"),
        ];
        for (ms, want) in cases {
            assert_eq!(duration(ms), want);
        }
    }

    #[test]
    fn settings_round_trip() {
        for text in ["30m", "1h30m", "90s", "250ms", "2h", "1m"] {
            let ms = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&setting(ms)).unwrap(), ms, "{text}");
        }
        assert_eq!(parse_duration("300000ms").unwrap(), 300_000);
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn control_characters_never_pass_through() {
        assert_eq!(sanitize("plain é"), "plain é");
        assert_eq!(
            sanitize("a\u{1b}[31mred\n\u{7}\u{9b}"),
            "a\\e[31mred\\n\\u{7}\\u{9b}"
        );
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn gap_buckets_have_readable_labels() {
        assert_eq!(gap_bucket_label(0), "0-10s");
        assert_eq!(gap_bucket_label(1), "10s-30s");
        assert_eq!(gap_bucket_label(4), "2m-5m");
        assert_eq!(gap_bucket_label(12), "> 24h");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(time(1_700_000_000_123), "2023-11-14 22:13:20.123");
    }
}
