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

/// Parses a size in bytes: digits, then optionally a unit `B`, `KB`, `MB`, `GB` (powers of
/// 1000) or `KiB`, `MiB`, `GiB` (powers of 1024), case-insensitive (`64MiB`, `1000000`).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let unit = t[digits..].trim().to_ascii_lowercase();
    let factor: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "'{text}' is not a size like 64MiB, 500KB or 1000000"
            ));
        }
    };
    let n: u64 = t[..digits]
        .parse()
        .map_err(|_| format!("'{text}' is not a size like 64MiB, 500KB or 1000000"))?;
    n.checked_mul(factor)
        .and_then(|v| usize::try_from(v).ok())
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("'{text}' is not a usable size (more than 0 bytes)"))
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

/// Characters that change how the text around them displays without being visible: bidi
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069: a user id that
/// displays reversed) and zero-width ones (U+200B–U+200F, U+2060, U+FEFF).
#[must_use]
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Untrusted text made safe for a terminal: control characters (C0, DEL, C1) become
/// visible escapes (`\n`, `\t`, `\e`, `\u{9b}`), so no escape sequence reaches the
/// terminal raw; so do bidi controls and zero-width characters ([`is_invisible`]), so
/// that text displays as it is. Borrowed when nothing needs escaping.
#[must_use]
pub fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || is_invisible(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if c.is_control() || is_invisible(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether JSON output writes `c` as a `\uXXXX` escape although JSON allows it raw: a C1
/// control (U+0080–U+009F, which terminals act on) or an [`is_invisible`] character.
#[must_use]
pub fn json_invisible(c: char) -> bool {
    ('\u{80}'..='\u{9f}').contains(&c) || is_invisible(c)
}

/// Serialised JSON with C1 controls (U+0080–U+009F, which terminals act on: U+009B starts
/// an escape sequence), bidi controls and zero-width characters written as `\uXXXX`
/// escapes. They can only occur inside strings, so the result is the same JSON. Borrowed
/// when there are none (any ASCII output).
#[must_use]
pub fn escape_json_invisible(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let first = memchr::memchr3_iter(0xc2, 0xe2, 0xef, json).find(|&i| {
        std::str::from_utf8(&json[i..json.len().min(i + 3)])
            .ok()
            .or_else(|| std::str::from_utf8(&json[i..json.len().min(i + 2)]).ok())
            .and_then(|t| t.chars().next())
            .is_some_and(json_invisible)
    });
    let Some(first) = first else {
        return std::borrow::Cow::Borrowed(json);
    };
    let mut out = Vec::with_capacity(json.len() + 16);
    out.extend_from_slice(&json[..first]);
    let rest = String::from_utf8_lossy(&json[first..]);
    for c in rest.chars() {
        if json_invisible(c) {
            let _ = std::io::Write::write_fmt(&mut out, format_args!("\\u{:04x}", u32::from(c)));
        } else {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
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
    fn json_output_escapes_c1_bidi_and_zero_width_characters() {
        let value = serde_json::json!({"id": "a\u{9b}31m\u{202e}b\u{200d}é€\u{a0}", "n": 1});
        let text = serde_json::to_vec(&value).unwrap();
        let escaped = escape_json_invisible(&text);
        assert_eq!(
            std::str::from_utf8(&escaped).unwrap(),
            r#"{"id":"a\u009b31m\u202eb\u200dé€\u{a0}","n":1}"#.replace("\\u{a0}", "\u{a0}")
        );
        let back: serde_json::Value = serde_json::from_slice(&escaped).unwrap();
        assert_eq!(back, value);
        let plain = r#"{"id":"plain é"}"#.as_bytes();
        assert!(matches!(
            escape_json_invisible(plain),
            std::borrow::Cow::Borrowed(_)
        ));
    }

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
            sanitize("user\u{202e}nimda\u{200b}\u{2066}x\u{feff}"),
            "user\\u{202e}nimda\\u{200b}\\u{2066}x\\u{feff}"
        );
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
