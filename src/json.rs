//! A validating, allocation-free JSON scanner (RFC 8259) for the decode hot path.
//!
//! Every record is validated in full, nested property bags included (`NaN`, `Infinity`,
//! trailing commas, control characters in strings, two values on one line are errors),
//! but only the spans of the fields the session model reads are kept: no tree is
//! built. Containers are skipped iteratively, so nesting depth is bounded only by
//! memory, never by the stack. Strings are scanned eight bytes at a time.
//!
//! The caller guarantees that the input is valid UTF-8 (checked once per line with
//! `std::str::from_utf8`, which is far faster than doing it here byte by byte).

use std::fmt;

/// What kind of JSON value a span holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// A number; `int` when it has neither a fraction nor an exponent.
    Number {
        /// No fraction and no exponent.
        int: bool,
    },
    /// A string; `escaped` when it holds at least one backslash escape.
    String {
        /// Holds a backslash escape.
        escaped: bool,
    },
    /// An object.
    Object,
    /// An array.
    Array,
}

impl Kind {
    /// A lower-case name for messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number { .. } => "a number",
            Kind::String { .. } => "a string",
            Kind::Object => "an object",
            Kind::Array => "an array",
        }
    }
}

/// A hash of the (already validated) JSON value at `span` of `buf` under JSON value
/// equality, as `end_props_changed` compares `user_properties`: object members in any
/// order (a commutative sum of member hashes), strings after unescaping (`"\u0041"` is
/// `"A"`), numbers by value (`1`, `1.0` and `1e0` are one number; `-0` is `0`; an integer
/// too large for an `f64` to hold exactly is compared as that integer). Equal values have
/// equal hashes; different values collide with a 2^-64 chance. `scratch` holds unescaped
/// text.
#[must_use]
pub fn value_hash(buf: &[u8], span: Span, scratch: &mut String) -> u64 {
    use xxhash_rust::xxh3::xxh3_64_with_seed as h;
    const NULL: u64 = 1;
    const BOOL: u64 = 2;
    const NUMBER: u64 = 3;
    const INTEGER: u64 = 4;
    const STRING: u64 = 5;
    const ARRAY: u64 = 6;
    const OBJECT: u64 = 7;
    let mix = |a: u64, b: u64| {
        let mut pair = [0u8; 16];
        pair[..8].copy_from_slice(&a.to_le_bytes());
        pair[8..].copy_from_slice(&b.to_le_bytes());
        h(&pair, ARRAY)
    };
    match span.kind {
        Kind::Null => h(b"null", NULL),
        Kind::Bool => h(span.bytes(buf), BOOL),
        Kind::Number { .. } => {
            let text = std::str::from_utf8(span.bytes(buf)).unwrap_or("0");
            if let Ok(i) = text.parse::<i64>() {
                #[expect(
                    clippy::cast_precision_loss,
                    clippy::cast_possible_truncation,
                    reason = "checking whether the f64 holds the integer exactly"
                )]
                let exact = (i as f64) as i64 == i && i.unsigned_abs() <= 1 << 53;
                if !exact {
                    return h(&i.to_le_bytes(), INTEGER);
                }
            }
            let v: f64 = text.parse().unwrap_or(0.0);
            let v = if v == 0.0 { 0.0 } else { v };
            h(&v.to_bits().to_le_bytes(), NUMBER)
        }
        Kind::String { escaped: false } => h(span.bytes(buf), STRING),
        Kind::String { escaped: true } => {
            unescape(span.bytes(buf), scratch);
            h(scratch.as_bytes(), STRING)
        }
        Kind::Array => {
            let mut acc = h(b"[", ARRAY);
            let _ = Scanner::at(buf, span.start).array(|_, s| {
                acc = mix(acc, value_hash(buf, s, scratch));
            });
            acc
        }
        Kind::Object => {
            let mut sum = 0u64;
            let mut members = 0u64;
            let _ = Scanner::at(buf, span.start).object(|key, escaped, value| {
                let k = if escaped {
                    unescape(key, scratch);
                    h(scratch.as_bytes(), STRING)
                } else {
                    h(key, STRING)
                };
                let v = value_hash(buf, value, scratch);
                sum = sum.wrapping_add(mix(k, v));
                members += 1;
            });
            mix(h(&members.to_le_bytes(), OBJECT), sum)
        }
    }
}

/// [`value_hash`] of `{}`.
#[must_use]
pub fn empty_object_hash() -> u64 {
    let mut scratch = String::new();
    value_hash(
        b"{}",
        Span {
            kind: Kind::Object,
            start: 0,
            end: 2,
        },
        &mut scratch,
    )
}

/// A value's kind and where it sits. For strings the span excludes the quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The value's kind.
    pub kind: Kind,
    /// Start offset (after the opening quote for strings).
    pub start: usize,
    /// End offset, exclusive (before the closing quote for strings).
    pub end: usize,
}

impl Span {
    /// The bytes of the span in `buf`.
    #[must_use]
    pub fn bytes<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.end]
    }

    /// The full text of the value, quotes included for strings.
    #[must_use]
    pub fn outer(&self) -> (usize, usize) {
        match self.kind {
            Kind::String { .. } => (self.start - 1, self.end + 1),
            _ => (self.start, self.end),
        }
    }
}

/// Why a text is not valid JSON, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong, in lower case.
    pub reason: &'static str,
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset + 1)
    }
}

impl std::error::Error for ScanError {}

/// Result of looking for the end of a value in a buffer that may hold only part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partial {
    /// The value ends before the buffer does.
    Complete(Span),
    /// The buffer ended inside the value: more input is needed.
    Incomplete,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte lane that may be `"`, `\` or a control character.
/// The lowest set lane is always exact (the classic SWAR zero-byte test).
#[inline]
fn special_lanes(x: u64) -> u64 {
    let q = x ^ (LO * u64::from(b'"'));
    let b = x ^ (LO * u64::from(b'\\'));
    let zero_q = q.wrapping_sub(LO) & !q;
    let zero_b = b.wrapping_sub(LO) & !b;
    let ctl = x.wrapping_sub(LO * 0x20) & !x;
    (zero_q | zero_b | ctl) & HI
}

/// A cursor over one JSON text.
pub struct Scanner<'a> {
    buf: &'a [u8],
    pos: usize,
    stack: Vec<u8>,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            stack: Vec::new(),
        }
    }

    /// A scanner at `pos` in `buf`.
    #[must_use]
    pub fn at(buf: &'a [u8], pos: usize) -> Self {
        Self {
            buf,
            pos,
            stack: Vec::new(),
        }
    }

    /// The current offset.
    #[must_use]
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn err<T>(&self, reason: &'static str) -> Result<T, ScanError> {
        Err(ScanError {
            offset: self.pos,
            reason,
        })
    }

    /// Skips JSON whitespace (space, tab, CR, LF).
    #[inline]
    pub fn skip_ws(&mut self) {
        while let Some(&c) = self.buf.get(self.pos) {
            if !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next byte, if any, without consuming it.
    #[inline]
    #[must_use]
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Whether the scanner has consumed all input.
    #[must_use]
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn expect(&mut self, c: u8, reason: &'static str) -> Result<(), ScanError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(reason)
        }
    }

    /// Scans a string; the cursor is on its opening quote. Returns the inner span.
    /// The hot loop keeps the cursor in a local and stores it back only at the end, on an
    /// escape and on an error (so error offsets are those of the byte at fault).
    #[inline]
    pub fn string(&mut self) -> Result<Span, ScanError> {
        let buf = self.buf;
        let start = self.pos + 1;
        let mut pos = start;
        let mut escaped = false;
        loop {
            while let Some(chunk) = buf.get(pos..pos + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let lanes = special_lanes(u64::from_le_bytes(word));
                if lanes != 0 {
                    pos += (lanes.trailing_zeros() / 8) as usize;
                    break;
                }
                pos += 8;
            }
            let Some(&c) = buf.get(pos) else {
                self.pos = pos;
                return self.err("unterminated string");
            };
            match c {
                b'"' => {
                    self.pos = pos + 1;
                    return Ok(Span {
                        kind: Kind::String { escaped },
                        start,
                        end: pos,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.pos = pos;
                    self.escape()?;
                    pos = self.pos;
                }
                0..0x20 => {
                    self.pos = pos;
                    return self.err("control character in string");
                }
                _ => pos += 1,
            }
        }
    }

    fn escape(&mut self) -> Result<(), ScanError> {
        self.pos += 1;
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 1;
                Ok(())
            }
            Some(b'u') => {
                let hex = self.buf.get(self.pos + 1..self.pos + 5);
                if hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    self.pos += 5;
                    Ok(())
                } else {
                    self.err("invalid \\u escape")
                }
            }
            None => self.err("unterminated string"),
            Some(_) => self.err("invalid escape in string"),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Scans a number per the RFC 8259 grammar.
    pub fn number(&mut self) -> Result<Span, ScanError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        let mut int = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            int = false;
            if self.digits() == 0 {
                return self.err("invalid number: no digit after '.'");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            int = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.err("invalid number: no digit in exponent");
            }
        }
        Ok(Span {
            kind: Kind::Number { int },
            start,
            end: self.pos,
        })
    }

    fn literal(&mut self, word: &'static [u8], kind: Kind) -> Result<Span, ScanError> {
        let start = self.pos;
        if self.buf.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(Span {
                kind,
                start,
                end: self.pos,
            })
        } else {
            self.err("invalid literal (NaN, Infinity and bare words are not JSON)")
        }
    }

    /// Scans one scalar, or a whole container, starting at the cursor (after whitespace).
    pub fn value(&mut self) -> Result<Span, ScanError> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{' | b'[') => self.container(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", Kind::Bool),
            Some(b'f') => self.literal(b"false", Kind::Bool),
            Some(b'n') => self.literal(b"null", Kind::Null),
            None => self.err("unexpected end of input"),
            Some(_) => self.err("expected a JSON value"),
        }
    }

    /// Skips an object or array iteratively; the cursor is on its opening bracket.
    fn container(&mut self) -> Result<Span, ScanError> {
        let start = self.pos;
        let kind = if self.buf[start] == b'{' {
            Kind::Object
        } else {
            Kind::Array
        };
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        let result = self.container_with(&mut stack);
        self.stack = stack;
        result.map(|()| Span {
            kind,
            start,
            end: self.pos,
        })
    }

    fn container_with(&mut self, stack: &mut Vec<u8>) -> Result<(), ScanError> {
        stack.push(self.buf[self.pos]);
        self.pos += 1;
        let mut first = true;
        loop {
            let Some(&open) = stack.last() else {
                return Ok(());
            };
            self.skip_ws();
            let close = if open == b'{' { b'}' } else { b']' };
            if first && self.peek() == Some(close) {
                self.pos += 1;
                stack.pop();
                if stack.is_empty() {
                    return Ok(());
                }
            } else {
                if open == b'{' {
                    if self.peek() != Some(b'"') {
                        return self.err("expected a string key");
                    }
                    self.string()?;
                    self.skip_ws();
                    self.expect(b':', "expected ':' after object key")?;
                    self.skip_ws();
                }
                match self.peek() {
                    Some(c @ (b'{' | b'[')) => {
                        stack.push(c);
                        self.pos += 1;
                        first = true;
                        continue;
                    }
                    _ => {
                        self.value()?;
                    }
                }
            }
            // After a value (or a closed container): a comma or closing brackets.
            loop {
                self.skip_ws();
                let Some(&open) = stack.last() else {
                    return Ok(());
                };
                let close = if open == b'{' { b'}' } else { b']' };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        first = false;
                        break;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        stack.pop();
                        if stack.is_empty() {
                            return Ok(());
                        }
                    }
                    None => return self.err("unexpected end of input"),
                    Some(_) if open == b'{' => return self.err("expected ',' or '}'"),
                    Some(_) => return self.err("expected ',' or ']'"),
                }
            }
        }
    }

    /// Scans an object (cursor on `{`), calling `field(key, escaped, value)` for each member.
    /// Keys are the raw bytes between the quotes; `escaped` says they need [`unescape`].
    pub fn object(
        &mut self,
        mut field: impl FnMut(&'a [u8], bool, Span),
    ) -> Result<Span, ScanError> {
        let start = self.pos;
        self.expect(b'{', "expected an object")?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Span {
                kind: Kind::Object,
                start,
                end: self.pos,
            });
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a string key");
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':', "expected ':' after object key")?;
            let value = self.value()?;
            let escaped = matches!(key.kind, Kind::String { escaped: true });
            field(key.bytes(self.buf), escaped, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Span {
                        kind: Kind::Object,
                        start,
                        end: self.pos,
                    });
                }
                None => return self.err("unexpected end of input"),
                Some(_) => return self.err("expected ',' or '}'"),
            }
        }
    }

    /// Calls `element(index, span)` for each element of the array at the cursor.
    /// Elements are validated as they are scanned.
    pub fn array(&mut self, mut element: impl FnMut(u64, Span)) -> Result<Span, ScanError> {
        let start = self.pos;
        self.expect(b'[', "expected an array")?;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Span {
                kind: Kind::Array,
                start,
                end: self.pos,
            });
        }
        let mut index = 0;
        loop {
            let value = self.value()?;
            element(index, value);
            index += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Span {
                        kind: Kind::Array,
                        start,
                        end: self.pos,
                    });
                }
                None => return self.err("unexpected end of input"),
                Some(_) => return self.err("expected ',' or ']'"),
            }
        }
    }

    /// Like [`Scanner::value`], but tells an input that ends inside the value apart
    /// from an invalid one, for streaming readers that refill and retry.
    pub fn partial_value(&mut self) -> Result<Partial, ScanError> {
        let start = self.pos;
        match self.value() {
            // A number at the very end of the buffer may continue in the next read.
            Ok(span) if matches!(span.kind, Kind::Number { .. }) && self.at_end() => {
                self.pos = start;
                Ok(Partial::Incomplete)
            }
            Ok(span) => Ok(Partial::Complete(span)),
            Err(e) if e.offset >= self.buf.len() || self.partial_literal(e) => {
                self.pos = start;
                Ok(Partial::Incomplete)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether an error is a literal (or escape) cut off by the end of the buffer.
    fn partial_literal(&self, e: ScanError) -> bool {
        let rest = &self.buf[e.offset..];
        rest.len() < 6
            && [&b"true"[..], b"false", b"null"]
                .iter()
                .any(|w| w.starts_with(rest))
            || (e.reason == "invalid \\u escape" && self.buf.len() - e.offset < 6)
    }
}

/// Checks that `buf` holds exactly one JSON value (whitespace around it allowed).
pub fn validate(buf: &[u8]) -> Result<Span, ScanError> {
    let mut s = Scanner::new(buf);
    let span = s.value()?;
    s.skip_ws();
    if s.at_end() {
        Ok(span)
    } else {
        s.err("unexpected data after the JSON value")
    }
}

/// Decodes the escapes of a validated JSON string body into `out` (cleared first).
/// Lone surrogates become U+FFFD.
pub fn unescape(raw: &[u8], out: &mut String) {
    out.clear();
    let mut i = 0;
    let mut bytes = Vec::with_capacity(raw.len());
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            bytes.push(c);
            i += 1;
            continue;
        }
        let Some(&e) = raw.get(i + 1) else { break };
        i += 2;
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(b) = simple {
            bytes.push(b);
            continue;
        }
        let Some(hi) = hex4(raw, i) else { break };
        i += 4;
        let ch = if (0xD800..0xDC00).contains(&hi) {
            match (raw.get(i..i + 2), hex4(raw, i + 2)) {
                (Some(b"\\u"), Some(lo)) if (0xDC00..0xE000).contains(&lo) => {
                    i += 6;
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                }
                _ => None,
            }
        } else {
            char::from_u32(hi)
        };
        let mut tmp = [0u8; 4];
        bytes.extend_from_slice(ch.unwrap_or('\u{FFFD}').encode_utf8(&mut tmp).as_bytes());
    }
    out.push_str(&String::from_utf8_lossy(&bytes));
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let h = raw.get(at..at + 4)?;
    let s = std::str::from_utf8(h).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// The text of a string span: borrowed when it has no escapes, else decoded into `scratch`.
pub fn str_of<'b>(buf: &'b [u8], span: Span, scratch: &'b mut String) -> &'b str {
    match span.kind {
        Kind::String { escaped: true } => {
            unescape(span.bytes(buf), scratch);
            scratch
        }
        _ => std::str::from_utf8(span.bytes(buf)).unwrap_or(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(text: &str) -> u64 {
        let span = validate(text.as_bytes()).unwrap();
        value_hash(text.as_bytes(), span, &mut String::new())
    }

    #[test]
    fn values_hash_by_json_equality() {
        let same = [
            (r#"{"a":1,"b":"x"}"#, r#"{"b":"x","a":1}"#, "key order"),
            (r#"{"a":1}"#, r#"{"a":1.0}"#, "1 and 1.0"),
            (r#"{"a":1}"#, r#"{"a":1e0}"#, "1 and 1e0"),
            (r#"{"a":100}"#, r#"{"a":1E2}"#, "100 and 1E2"),
            (r#"{"a":0}"#, r#"{"a":-0.0}"#, "0 and -0.0"),
            (r#"{"a":"A"}"#, r#"{"a":"\u0041"}"#, "escapes"),
            (r#"{"\u0061":1}"#, r#"{"a":1}"#, "escaped keys"),
            (
                r#"{"a":{"x":[1,2],"y":null}}"#,
                r#"{ "a" : { "y" : null , "x" : [ 1 , 2.0 ] } }"#,
                "nested, spaces",
            ),
            ("{}", "{ }", "empty"),
            (
                r#"{"big":9007199254740993}"#,
                r#"{"big":9007199254740993}"#,
                "big integers",
            ),
        ];
        for (a, b, what) in same {
            assert_eq!(hash_of(a), hash_of(b), "{what}");
        }
        let different = [
            (r#"{"a":1}"#, r#"{"a":2}"#, "numbers"),
            (r#"{"a":1}"#, r#"{"a":"1"}"#, "number and string"),
            (r#"{"a":true}"#, r#"{"a":"true"}"#, "bool and string"),
            (r#"{"a":null}"#, "{}", "a null member is a member"),
            (r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#, "array order"),
            (r#"{"a":{"b":1}}"#, r#"{"a":{"c":1}}"#, "nested key"),
            (r#"{"a":1,"b":2}"#, r#"{"a":2,"b":1}"#, "swapped values"),
            (
                r#"{"big":9007199254740993}"#,
                r#"{"big":9007199254740992}"#,
                "integers beyond 2^53",
            ),
            ("[]", "{}", "array and object"),
            (r#"{"a":{}}"#, r#"{"a":[]}"#, "empty containers"),
        ];
        for (a, b, what) in different {
            assert_ne!(hash_of(a), hash_of(b), "{what}");
        }
        assert_eq!(empty_object_hash(), hash_of("{}"));
    }

    #[test]
    fn valid_texts_are_accepted() {
        for text in [
            r#"{}"#,
            r#"{"a":1}"#,
            r#" {"a" : [1, 2.5, -0, 1e10, 1E-2, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"]} "#,
            r#"[[[[[]]]],{"":{}}]"#,
            "\"caf\u{e9} \u{1F600}\"",
            "-12",
            "0",
        ] {
            assert!(validate(text.as_bytes()).is_ok(), "{text}");
        }
    }

    #[test]
    fn invalid_texts_are_rejected_with_a_reason() {
        let cases: &[(&str, &str)] = &[
            ("{\"a\":NaN}", "expected a JSON value"),
            ("{\"a\":Infinity}", "expected a JSON value"),
            ("{\"a\":-Infinity}", "invalid number"),
            ("{\"a\":1,}", "expected a string key"),
            ("[1,]", "expected a JSON value"),
            (
                "{\"a\":1} {\"b\":2}",
                "unexpected data after the JSON value",
            ),
            ("{\"a\":01}", "expected ',' or '}'"),
            ("{\"a\":1.}", "no digit after '.'"),
            ("{\"a\":\"tab\there\"}", "control character"),
            ("{\"a\":\"\\x\"}", "invalid escape"),
            ("{\"a\":\"\\u12\"}", "invalid \\u escape"),
            ("{\"a\" 1}", "expected ':'"),
            ("{'a':1}", "expected a string key"),
            ("{\"a\":[1,2}", "expected ',' or ']'"),
            ("{\"a\":\"x", "unterminated string"),
            ("", "unexpected end of input"),
            ("{\"a\":tru}", "invalid literal"),
        ];
        for (text, reason) in cases {
            let err = validate(text.as_bytes()).expect_err(text);
            assert!(err.reason.contains(reason), "{text}: got {err}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 1_000_000;
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(validate(text.as_bytes()).is_ok());
        let open = "{\"a\":".repeat(depth);
        assert!(validate(open.as_bytes()).is_err());
    }

    #[test]
    fn object_reports_fields_with_spans() {
        let text = br#"{"event_type":"Open","time":123,"p":{"x":[1]},"k\u0065y":"v"}"#;
        let mut fields = Vec::new();
        Scanner::new(text)
            .object(|k, esc, v| fields.push((k.to_vec(), esc, v.kind, v.bytes(text).to_vec())))
            .unwrap();
        assert_eq!(fields.len(), 4);
        assert_eq!(fields[0].3, b"Open");
        assert_eq!(fields[1].2, Kind::Number { int: true });
        assert_eq!(fields[2].3, br#"{"x":[1]}"#);
        assert!(fields[3].1);
    }

    #[test]
    fn strings_are_found_across_word_boundaries() {
        for len in 0..40 {
            let body = "x".repeat(len);
            let text = format!("\"{body}\"");
            let span = Scanner::new(text.as_bytes()).string().unwrap();
            assert_eq!(span.end - span.start, len);
            let text = format!("\"{body}\\n{body}\"");
            let span = Scanner::new(text.as_bytes()).string().unwrap();
            assert_eq!(span.kind, Kind::String { escaped: true });
            assert_eq!(span.end - span.start, 2 * len + 2);
        }
    }

    #[test]
    fn unescape_handles_surrogates() {
        let mut out = String::new();
        unescape(br"a\u00e9\ud83d\ude00\n\ud800x", &mut out);
        assert_eq!(out, "a\u{e9}\u{1F600}\n\u{FFFD}x");
    }

    #[test]
    fn partial_values_are_told_from_bad_ones() {
        let cases: &[(&str, bool)] = &[
            ("{\"a\":[1,2", true),
            ("{\"a\":\"xy", true),
            ("{\"a\":tr", true),
            ("123", true),
            ("{\"a\":1}", false),
            ("{\"a\":x", false),
        ];
        for (text, incomplete) in cases {
            let got = Scanner::new(text.as_bytes()).partial_value();
            match got {
                Ok(Partial::Incomplete) => assert!(incomplete, "{text}"),
                Ok(Partial::Complete(_)) => assert!(!incomplete, "{text}"),
                Err(e) => assert!(!incomplete, "{text}: {e}"),
            }
        }
    }
}
