//! Event-time forms of `SESSION-MODEL.md` §1: integer ms, numeric string, and the ISO 8601
//! date-time `YYYY-MM-DD`, `T`/`t`/space, `HH:MM:SS[.f…]`, then no zone (UTC: the Export
//! form and what warehouses and ETL tools write), `Z`, `z`, ` UTC`, `±HH:MM` or `±HHMM`.
//!
//! Calendar arithmetic is done by hand: Export files carry one such string per event
//! and this runs millions of times a second. Fractions finer than 1 ms are cut off,
//! which is flooring on the time line (a negative time rounds towards the past).

/// Parses a decimal integer as written in JSON or a numeric string: an optional `-`,
/// then digits only (no `+`, no spaces, no fraction).
#[must_use]
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses the string forms of an event time into ms since the epoch.
#[must_use]
pub fn parse_time_str(s: &[u8]) -> Option<i64> {
    if let Some(v) = parse_int(s) {
        return Some(v);
    }
    parse_datetime(s)
}

fn num(s: &[u8], at: usize, len: usize) -> Option<u32> {
    let part = s.get(at..at + len)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Hinnant's algorithm).
#[must_use]
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// `YYYY-MM-DD` then `T`, `t` or space, then `HH:MM:SS`, an optional fraction of any
/// number of digits (cut to ms), and an optional zone: none (UTC), `Z`, `z`, ` UTC`,
/// `±HH:MM` or `±HHMM`.
fn parse_datetime(s: &[u8]) -> Option<i64> {
    let year = i64::from(num(s, 0, 4)?);
    let month = num(s, 5, 2)?;
    let day = num(s, 8, 2)?;
    let hour = num(s, 11, 2)?;
    let minute = num(s, 14, 2)?;
    let second = num(s, 17, 2)?;
    if s[4] != b'-' || s[7] != b'-' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    if !matches!(s[10], b' ' | b'T' | b't') {
        return None;
    }
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let mut frac_digits = 0;
        while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            if frac_digits < 3 {
                millis = millis * 10 + i64::from(c - b'0');
            }
            frac_digits += 1;
            i += 1;
        }
        if frac_digits == 0 {
            return None;
        }
        for _ in frac_digits..3 {
            millis *= 10;
        }
    }
    let offset = |sign: u8, oh: u32, om: u32| -> Option<i64> {
        if oh > 23 || om > 59 {
            return None;
        }
        let o = i64::from(oh * 3600 + om * 60);
        Some(if sign == b'-' { -o } else { o })
    };
    let offset_s: i64 = match &s[i..] {
        [] | [b'Z' | b'z'] | b" UTC" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            offset(*sign, num(rest, 0, 2)?, num(rest, 3, 2)?)?
        }
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 4 => {
            offset(*sign, num(rest, 0, 2)?, num(rest, 2, 2)?)?
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
        - offset_s;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let cases: &[(&str, i64)] = &[
            ("1700000000000", 1_700_000_000_000),
            ("-5", -5),
            ("1970-01-01 00:00:00", 0),
            ("2023-11-14 22:13:20", 1_700_000_000_000),
            ("2023-11-14 22:13:20.5", 1_700_000_000_500),
            ("2023-11-14 22:13:20.123456", 1_700_000_000_123),
            ("2023-11-14T22:13:20Z", 1_700_000_000_000),
            ("2023-11-14t22:13:20.1239999z", 1_700_000_000_123),
            ("2023-11-15T00:13:20+02:00", 1_700_000_000_000),
            ("2023-11-14T20:13:20.001-02:00", 1_700_000_000_001),
            ("2024-02-29 00:00:00", 1_709_164_800_000),
            ("1969-12-31 23:59:59.999", -1),
            // Warehouse and ETL forms (Fivetran, BigQuery, Snowflake, Airbyte).
            ("2023-11-14T22:13:20", 1_700_000_000_000),
            ("2023-11-14T22:13:20.123", 1_700_000_000_123),
            ("2023-11-14 22:13:20.1234567", 1_700_000_000_123),
            ("2023-11-14 22:13:20.123456789", 1_700_000_000_123),
            ("2023-11-14 22:13:20 UTC", 1_700_000_000_000),
            ("2023-11-14 22:13:20.5 UTC", 1_700_000_000_500),
            ("2023-11-14T22:13:20+0000", 1_700_000_000_000),
            ("2023-11-15T00:13:20+0200", 1_700_000_000_000),
            ("2023-11-14T20:43:20.007-0130", 1_700_000_000_007),
            ("2023-11-14 22:13:20Z", 1_700_000_000_000),
        ];
        for (s, want) in cases {
            assert_eq!(parse_time_str(s.as_bytes()), Some(*want), "{s}");
        }
    }

    #[test]
    fn rejected_forms() {
        for s in [
            "",
            "abc",
            "+5",
            "1.5",
            " 17",
            "2023-11-14",
            "2023-11-14 22:13",
            "2023-11-14 22:13:20.",
            "2023-11-14 22:13:20 utc",
            "2023-11-14 22:13:20UTC",
            "2023-11-14 22:13:20 GMT",
            "2023-11-14 22:13:20+02",
            "2023-11-14 22:13:20+2:00",
            "2023-11-14 22:13:20+02:0",
            "2023-11-14 22:13:20+24:00",
            "2023-11-14 22:13:20+0260",
            "2023-11-14 22:13:20.5.5",
            "2023-11-14 22:13:20 ",
            "2023-02-29 00:00:00",
            "2023-13-01 00:00:00",
            "2023-11-14 24:00:00",
            "2023/11/14 22:13:20",
            "99999999999999999999",
        ] {
            assert_eq!(parse_time_str(s.as_bytes()), None, "{s}");
        }
    }

    #[test]
    fn days_from_civil_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(1600, 1, 1), -135_140);
    }
}
