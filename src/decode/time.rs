//! Event-time forms of `SESSION-MODEL.md` §1: integer ms, numeric string, and the ISO 8601
//! date-time `YYYY-MM-DD`, `T`/`t`/space, `HH:MM:SS[.f…]`, then no zone (UTC: the Export
//! form and what warehouses and ETL tools write), `Z`, `z`, ` UTC`, `±HH:MM` or `±HHMM`.
//!
//! Calendar arithmetic is done by hand: Export files carry one such string per event
//! and this runs millions of times a second. Fractions finer than 1 ms are cut off,
//! which is flooring on the time line (a negative time rounds towards the past).

/// Parses a decimal integer as written in JSON or a numeric string: an optional `-`,
/// then digits only (no `+`, no spaces, no fraction).
///
/// Up to 18 digits cannot overflow, and take eight digits at a time (`eight_digits`),
/// the last few with the eight bytes that end the number: session ids, ms times and
/// amplitude ids (13 and 12 digits) are in every event. Fewer than 8 digits go one by one,
/// and more than 18 one by one with overflow checks.
#[must_use]
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    if digits.len() > 18 {
        return parse_long_int(neg, digits);
    }
    let mut v: u64 = 0;
    let mut rest = digits;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        v = v * 100_000_000 + eight_digits(u64::from_le_bytes(*chunk))?;
        rest = tail;
    }
    match digits.last_chunk::<8>() {
        // The last `n` digits, as the end of the last eight bytes with the `8 - n` bytes
        // already read set to '0'.
        Some(last) if !rest.is_empty() => {
            let n = rest.len();
            let read = (1u64 << ((8 - n) * 8)) - 1;
            let word = (u64::from_le_bytes(*last) & !read) | (ZEROS & read);
            v = v * POW10[n] + eight_digits(word)?;
        }
        _ => {
            for &d in rest {
                if !d.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u64::from(d - b'0');
            }
        }
    }
    // At most 10^18 - 1: always an i64, and so is its negation.
    let v = i64::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// Eight ASCII zeros, as a little-endian word.
const ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);

/// 10^n for n < 8.
const POW10: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// The value of eight ASCII digits read as a little-endian word (the first digit, the most
/// significant, in the lowest byte), or `None` when any byte is not a digit: a few word
/// operations instead of eight multiply-adds.
fn eight_digits(word: u64) -> Option<u64> {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // A byte is a digit when its high nibble is 3 and adding 6 keeps it so (0x30..=0x39).
    // A byte above 0xF9 would carry into the next one, but fails the first test anyway.
    if word & HIGH_NIBBLES != ZEROS
        || word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES != ZEROS
    {
        return None;
    }
    // Byte i now holds digit i (the first digit in the lowest byte).
    let d = word - ZEROS;
    // Pairs: bytes 0, 2, 4, 6 hold the two-digit numbers d0d1, d2d3, d4d5, d6d7.
    let pairs = d.wrapping_mul(10).wrapping_add(d >> 8);
    // Then d0d1 * 10^6 + d2d3 * 10^4 + d4d5 * 10^2 + d6d7, in the upper 32 bits.
    let outer = (pairs & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let inner = ((pairs >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    Some(outer.wrapping_add(inner) >> 32)
}

/// [`parse_int`] of more than 18 digits, which may overflow an `i64`.
fn parse_long_int(neg: bool, digits: &[u8]) -> Option<i64> {
    if !digits.iter().all(u8::is_ascii_digit) {
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
    parse_time_str_with(s, &mut DayMemo::default())
}

/// [`parse_time_str`], reusing the day number of the date read last with `memo`.
#[must_use]
pub fn parse_time_str_with(s: &[u8], memo: &mut DayMemo) -> Option<i64> {
    if let Some(v) = parse_int(s) {
        return Some(v);
    }
    parse_datetime(s, memo)
}

/// The last date (`YYYY-MM-DD`, as its ten bytes) a parse accepted, and its day number.
///
/// The events of an Export are in roughly time order, so nearly every date-time string
/// has the date of the one before: its date is then neither read nor checked again nor
/// converted to days (the same bytes give the same day). Issue 14.
#[derive(Clone, Copy, Debug, Default)]
pub struct DayMemo {
    /// The date's bytes; all zero (never a valid date) before the first.
    date: [u8; 10],
    days: i64,
}

/// The day number of the date in the first ten bytes of `s` (which has at least 19),
/// or `None` when they are not a valid `YYYY-MM-DD`.
#[inline]
fn day_number(s: &[u8], memo: &mut DayMemo) -> Option<i64> {
    let date: [u8; 10] = s.get(..10)?.try_into().ok()?;
    if date == memo.date {
        return Some(memo.days);
    }
    let year = i64::from(num(s, 0, 4)?);
    let month = num(s, 5, 2)?;
    let day = num(s, 8, 2)?;
    if s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    *memo = DayMemo { date, days };
    Some(days)
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
fn parse_datetime(s: &[u8], memo: &mut DayMemo) -> Option<i64> {
    let hour = num(s, 11, 2)?;
    let minute = num(s, 14, 2)?;
    let second = num(s, 17, 2)?;
    if s[13] != b':' || s[16] != b':' {
        return None;
    }
    if !matches!(s[10], b' ' | b'T' | b't') {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = day_number(s, memo)?;
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

    /// The definition: an optional `-`, then ASCII digits only, as `i64` (what `str::parse`
    /// gives for that form).
    fn reference_int(s: &[u8]) -> Option<i64> {
        let digits = s.strip_prefix(b"-").unwrap_or(s);
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    }

    #[test]
    fn integers_parse_as_the_definition_says() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("-0", Some(0)),
            ("7", Some(7)),
            ("-1", Some(-1)),
            ("12345678", Some(12_345_678)),
            ("00000000", Some(0)),
            ("99999999", Some(99_999_999)),
            ("123456789", Some(123_456_789)),
            ("1790814365669", Some(1_790_814_365_669)),
            ("300302774694", Some(300_302_774_694)),
            ("0000000000001", Some(1)),
            ("999999999999999999", Some(999_999_999_999_999_999)),
            ("-999999999999999999", Some(-999_999_999_999_999_999)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("00000000000000000000001", Some(1)),
            ("", None),
            ("-", None),
            ("--1", None),
            ("+1", None),
            ("1-", None),
            (" 1", None),
            ("1 ", None),
            ("1.0", None),
            ("1e3", None),
            // A non-digit in each place of an eight-digit chunk, and just outside '0'..='9'.
            ("/2345678", None),
            ("1234567:", None),
            ("1234/678", None),
            ("12345678:", None),
            ("123456789012345/", None),
            ("123456789/", None),
            ("12345678901/3", None),
            ("1234567890123:", None),
            ("1234567\u{ff}", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_int(text.as_bytes()), *want, "{text:?}");
            assert_eq!(reference_int(text.as_bytes()), *want, "reference, {text:?}");
        }
        // Every byte in every place of 8, 13 and 18 digits (a chunk; a chunk and an end read
        // through the last eight bytes; two chunks and such an end): only digits pass.
        for digits in ["31415926", "3141592653589", "314159265358979323"] {
            for place in 0..digits.len() {
                for byte in 0..=u8::MAX {
                    let mut text = digits.as_bytes().to_vec();
                    text[place] = byte;
                    assert_eq!(parse_int(&text), reference_int(&text), "{text:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn integers_agree_with_the_definition(text in "-?[0-9]{0,22}|-?[0-9/:a ]{1,20}") {
            proptest::prop_assert_eq!(parse_int(text.as_bytes()), reference_int(text.as_bytes()));
        }

        #[test]
        fn every_i64_reads_back(v in proptest::num::i64::ANY) {
            proptest::prop_assert_eq!(parse_int(v.to_string().as_bytes()), Some(v));
        }
    }

    /// A date-time string around a few dates: valid and invalid ones (month 13, 30
    /// February, a letter in the date), with and without a fraction or a zone.
    fn date_time() -> impl proptest::strategy::Strategy<Value = String> {
        "20(2[34]|00)-(0[12]|1[23])-(0[19]|2[89]|3[01]|x1)[ Tt](0[09]|2[34]):([05]9|60):([05]9|6[01])(\\.[0-9]{1,4})?(Z| UTC|[+-]0[0-9]:?30)?"
    }

    proptest::proptest! {
        /// What a string parses to does not depend on the dates parsed before it.
        #[test]
        fn a_date_time_parses_the_same_whatever_came_before(
            texts in proptest::collection::vec(date_time(), 1..24),
            order in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 1..48),
        ) {
            let mut memo = DayMemo::default();
            for i in order {
                let text = texts[i.index(texts.len())].as_bytes();
                proptest::prop_assert_eq!(
                    parse_time_str_with(text, &mut memo),
                    parse_time_str(text),
                    "{}", String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn a_remembered_date_is_used_only_for_the_same_date() {
        let mut memo = DayMemo::default();
        let cases: &[(&str, Option<i64>)] = &[
            ("2023-11-14 22:13:20", Some(1_700_000_000_000)),
            // Same date, other times, and a bad time with the remembered date.
            ("2023-11-14 00:00:00", Some(1_699_920_000_000)),
            ("2023-11-14 24:00:00", None),
            ("2023-11-14x22:13:20", None),
            // The next day; then an invalid date right after a valid one.
            ("2023-11-15 00:00:00", Some(1_700_006_400_000)),
            ("2023-11-31 00:00:00", None),
            ("2023-11-15 00:00:00", Some(1_700_006_400_000)),
            ("2023/11/15 00:00:00", None),
            ("2024-02-29 00:00:00", Some(1_709_164_800_000)),
            ("2023-02-29 00:00:00", None),
        ];
        for &(text, want) in cases {
            assert_eq!(
                parse_time_str_with(text.as_bytes(), &mut memo),
                want,
                "{text}"
            );
            assert_eq!(parse_time_str(text.as_bytes()), want, "{text}");
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
