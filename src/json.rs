//! A validating, allocation-free JSON scanner (RFC 8259) for the decode hot path.
//!
//! Every record is validated in full, nested property bags included (`NaN`, `Infinity`,
//! trailing commas, control characters in strings, two values on one line are errors),
//! but only the spans of the fields the session model reads are kept: no tree is
//! built. Containers the caller does not look into are skipped in one loop over their
//! bytes (a small state machine with one bit per open level, no recursion), so nesting
//! depth is bounded only by memory, never by the stack. String bodies are scanned sixteen
//! bytes at a time (SSE2, in `json/lanes.rs`), runs of digits eight at a time. The scanner
//! as it was before this speed work is kept as a test-only reference (`json/reference.rs`);
//! a property test checks that both accept and reject the same texts with the same spans,
//! error offsets and messages.
//!
//! The caller guarantees that the input is valid UTF-8 (checked once per line with
//! `simdutf8`, which is far faster than doing it here byte by byte).

use std::fmt;
use std::ops::ControlFlow;

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

/// High bit set in each byte lane that is not an ASCII digit. The lowest set lane is
/// exact: a carry out of a lane (a byte of `0xFA` or more) only reaches lanes above
/// it, and that lane is itself flagged by its high nibble.
#[inline]
fn non_digit_lanes(x: u64) -> u64 {
    const NIBBLE: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = LO * 0x30;
    let high = (x & NIBBLE) ^ THREES;
    let low = (x.wrapping_add(LO * 6) & NIBBLE) ^ THREES;
    let m = high | low;
    (((m & !HI).wrapping_add(!HI)) | m) & HI
}

/// The eight bytes at `pos` as a little-endian word, if there are eight.
#[inline]
fn word_at(buf: &[u8], pos: usize) -> Option<u64> {
    let chunk: &[u8; 8] = buf.get(pos..pos + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(*chunk))
}

#[inline]
fn fail<T>(offset: usize, reason: &'static str) -> Result<T, ScanError> {
    Err(ScanError { offset, reason })
}

/// The offset of the first byte at or after `pos` that is not JSON whitespace.
#[inline]
fn ws_end(buf: &[u8], mut pos: usize) -> usize {
    while let Some(&c) = buf.get(pos) {
        if c > b' ' || !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        pos += 1;
    }
    pos
}

/// The offset of `byte` when it is the first byte at or after `pos` that is not JSON
/// whitespace; otherwise `Err` with the offset of that other byte. The punctuation of
/// minified JSON directly follows what precedes it, so this tests that first, with one
/// bounds check and one load.
#[inline(always)]
fn byte_at(buf: &[u8], pos: usize, byte: u8) -> Result<usize, usize> {
    if buf.get(pos) == Some(&byte) {
        return Ok(pos);
    }
    let pos = ws_end(buf, pos);
    if buf.get(pos) == Some(&byte) {
        Ok(pos)
    } else {
        Err(pos)
    }
}

/// After a value in a container closed by `close`: the offset after the `,` or `close`
/// that follows (after any whitespace), and whether it was `close`; otherwise `Err` with
/// the offset of what came instead. Like [`byte_at`], the byte right at `pos` first.
#[inline(always)]
fn comma_or(buf: &[u8], pos: usize, close: u8) -> Result<(usize, bool), usize> {
    let pos = match buf.get(pos) {
        Some(b',') => return Ok((pos + 1, false)),
        Some(&c) if c == close => return Ok((pos + 1, true)),
        _ => ws_end(buf, pos),
    };
    match buf.get(pos) {
        Some(b',') => Ok((pos + 1, false)),
        Some(&c) if c == close => Ok((pos + 1, true)),
        _ => Err(pos),
    }
}

/// The error for `comma_or`'s `Err(at)`.
#[cold]
fn no_comma<T>(buf: &[u8], at: usize, object: bool) -> Result<T, ScanError> {
    if at >= buf.len() {
        fail(at, "unexpected end of input")
    } else if object {
        fail(at, "expected ',' or '}'")
    } else {
        fail(at, "expected ',' or ']'")
    }
}

/// The offset after the run of ASCII digits at `pos`, eight bytes at a time.
#[inline]
fn digits_end(buf: &[u8], mut pos: usize) -> usize {
    while let Some(word) = word_at(buf, pos) {
        let lanes = non_digit_lanes(word);
        if lanes != 0 {
            return pos + (lanes.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while buf.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    pos
}

/// The offset of the first byte at or after `pos` that may end, escape or break a string
/// body (`"`, `\` or a control character), or of the last few bytes (fewer than eight)
/// that are left to check one by one.
#[inline]
fn plain_run_end(buf: &[u8], mut pos: usize) -> usize {
    while let Some(block) = buf.get(pos..pos + 16) {
        // Always 16 bytes: the fallback is never taken.
        let block: &[u8; 16] = block.try_into().unwrap_or(&[0; 16]);
        let mask = lanes::special_mask(block);
        if mask != 0 {
            return pos + mask.trailing_zeros() as usize;
        }
        pos += 16;
    }
    while let Some(word) = word_at(buf, pos) {
        let hits = special_lanes(word);
        if hits != 0 {
            return pos + (hits.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    pos
}

/// Scans a string body starting at `pos` (just after the opening quote). Returns the
/// offset of the closing quote and whether the body holds an escape.
#[inline(always)]
fn string_end(buf: &[u8], mut pos: usize) -> Result<(usize, bool), ScanError> {
    let mut escaped = false;
    loop {
        pos = plain_run_end(buf, pos);
        match buf.get(pos) {
            None => return fail(pos, "unterminated string"),
            Some(b'"') => return Ok((pos, escaped)),
            Some(b'\\') => {
                escaped = true;
                pos = escape_end(buf, pos + 1)?;
            }
            Some(0..0x20) => return fail(pos, "control character in string"),
            Some(_) => pos += 1,
        }
    }
}

/// Checks the escape whose backslash is just before `pos`; returns the offset after it.
#[cold]
fn escape_end(buf: &[u8], pos: usize) -> Result<usize, ScanError> {
    match buf.get(pos) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(pos + 1),
        Some(b'u') => {
            let hex = buf.get(pos + 1..pos + 5);
            if hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                Ok(pos + 5)
            } else {
                fail(pos, "invalid \\u escape")
            }
        }
        None => fail(pos, "unterminated string"),
        Some(_) => fail(pos, "invalid escape in string"),
    }
}

/// Scans a number per the RFC 8259 grammar; returns its end and whether it is an
/// integer (no fraction, no exponent).
#[inline(always)]
fn number_end(buf: &[u8], mut pos: usize) -> Result<(usize, bool), ScanError> {
    if buf.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match buf.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits_end(buf, pos + 1),
        _ => return fail(pos, "invalid number"),
    }
    let mut int = true;
    if buf.get(pos) == Some(&b'.') {
        int = false;
        let end = digits_end(buf, pos + 1);
        if end == pos + 1 {
            return fail(end, "invalid number: no digit after '.'");
        }
        pos = end;
    }
    if matches!(buf.get(pos), Some(b'e' | b'E')) {
        int = false;
        pos += 1;
        if matches!(buf.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        let end = digits_end(buf, pos);
        if end == pos {
            return fail(end, "invalid number: no digit in exponent");
        }
        pos = end;
    }
    Ok((pos, int))
}

/// Checks the literal `word` at `pos`; returns the offset after it.
#[inline]
fn literal_end(buf: &[u8], pos: usize, word: &'static [u8]) -> Result<usize, ScanError> {
    if buf.get(pos..pos + word.len()) == Some(word) {
        Ok(pos + word.len())
    } else {
        fail(
            pos,
            "invalid literal (NaN, Infinity and bare words are not JSON)",
        )
    }
}

/// Scans the scalar (or reports the error) whose first byte is `c`, at `pos`; returns
/// its end. `{` and `[` are the caller's.
#[inline(always)]
fn scalar_end(buf: &[u8], pos: usize, c: Option<u8>) -> Result<usize, ScanError> {
    match c {
        Some(b'"') => string_end(buf, pos + 1).map(|(end, _)| end + 1),
        Some(b'-' | b'0'..=b'9') => number_end(buf, pos).map(|(end, _)| end),
        Some(b't') => literal_end(buf, pos, b"true"),
        Some(b'f') => literal_end(buf, pos, b"false"),
        Some(b'n') => literal_end(buf, pos, b"null"),
        None => fail(pos, "unexpected end of input"),
        Some(_) => fail(pos, "expected a JSON value"),
    }
}

/// Scans the value at `pos` (after whitespace); returns its span and end.
///
/// Always inlined: it runs once per member of every record, and as a call it cost about
/// 3% of a report's instructions in saving registers and passing its result through memory.
#[inline(always)]
fn value_at(buf: &[u8], pos: usize, stack: &mut Vec<u64>) -> Result<(Span, usize), ScanError> {
    let start = ws_end(buf, pos);
    let c = buf.get(start).copied();
    let (kind, end) = match c {
        Some(b'"') => {
            let (end, escaped) = string_end(buf, start + 1)?;
            let span = Span {
                kind: Kind::String { escaped },
                start: start + 1,
                end,
            };
            return Ok((span, end + 1));
        }
        Some(b'-' | b'0'..=b'9') => {
            let (end, int) = number_end(buf, start)?;
            (Kind::Number { int }, end)
        }
        Some(b'{') => (Kind::Object, container_end(buf, start, stack)?),
        Some(b'[') => (Kind::Array, container_end(buf, start, stack)?),
        Some(b'n') => (Kind::Null, scalar_end(buf, start, c)?),
        // `true`, `false`, or the error `scalar_end` reports.
        _ => (Kind::Bool, scalar_end(buf, start, c)?),
    };
    Ok((Span { kind, start, end }, end))
}

/// The `{` of an object at `pos`: where its first member starts (after white space), or
/// `Break` with the offset after its `}` when it is empty.
#[inline(always)]
fn object_open(buf: &[u8], pos: usize) -> Result<ControlFlow<usize, usize>, ScanError> {
    if buf.get(pos) != Some(&b'{') {
        return fail(pos, "expected an object");
    }
    let pos = ws_end(buf, pos + 1);
    if buf.get(pos) == Some(&b'}') {
        return Ok(ControlFlow::Break(pos + 1));
    }
    Ok(ControlFlow::Continue(pos))
}

/// Scans the object whose `{` is at `pos`, calling `field` for each member; returns the
/// offset after its `}`.
#[inline]
fn members_end<'a>(
    buf: &'a [u8],
    mut pos: usize,
    stack: &mut Vec<u64>,
    field: &mut impl FnMut(&'a [u8], bool, Span),
) -> Result<usize, ScanError> {
    pos = match object_open(buf, pos)? {
        ControlFlow::Continue(first) => first,
        ControlFlow::Break(end) => return Ok(end),
    };
    loop {
        pos = match byte_at(buf, pos, b'"') {
            Ok(pos) => pos,
            Err(at) => return fail(at, "expected a string key"),
        };
        let (key_end, escaped) = string_end(buf, pos + 1)?;
        let key = &buf[pos + 1..key_end];
        pos = match byte_at(buf, key_end + 1, b':') {
            Ok(pos) => pos,
            Err(at) => return fail(at, "expected ':' after object key"),
        };
        let (value, end) = value_at(buf, pos + 1, stack)?;
        field(key, escaped, value);
        match comma_or(buf, end, b'}') {
            Ok((after, false)) => pos = after,
            Ok((after, true)) => return Ok(after),
            Err(at) => return no_comma(buf, at, true),
        }
    }
}

/// The keys of the objects scanned before with [`Scanner::object_keyed`], by member
/// position: each as the exact bytes from its opening quote to the `:` after it, with the
/// tag the caller gave it.
///
/// Records of one stream nearly always have the same keys in the same order (an Export
/// writes them sorted), so at each member the scanner first compares the bytes there with
/// the key the same member had before, 32 bytes at once; on a match it skips scanning the
/// key and classifying it. The match is of exact bytes that were scanned and found valid
/// before, so the outcome is the same as scanning them again: spans, tags and errors do
/// not depend on what the memo holds (issue 14: 7.8% fewer instructions for a whole
/// `report` on an Export slice).
#[derive(Default)]
pub struct KeyMemo {
    keys: Vec<MemoKey>,
}

/// The longest `"key":` a [`KeyMemo`] keeps (longer keys are always scanned).
const MEMO_KEY_MAX: usize = 32;

/// How many members a [`KeyMemo`] keeps the keys of (later members are always scanned):
/// an Export line has some 20–60; a hostile line of millions of members must not make
/// the memo, which lives as long as its decoder, many times larger than the line.
const MEMO_MEMBERS: usize = 128;

#[derive(Clone, Copy)]
struct MemoKey {
    /// `"key":`, zero-padded to [`MEMO_KEY_MAX`] bytes, as two little-endian words.
    text: [u128; 2],
    /// All ones over the bytes of `text`, zeros past them.
    mask: [u128; 2],
    len: usize,
    tag: u8,
}

impl MemoKey {
    fn new(text: &[u8], tag: u8) -> Option<Self> {
        let mut bytes = [0u8; MEMO_KEY_MAX];
        let mut ones = [0u8; MEMO_KEY_MAX];
        bytes.get_mut(..text.len())?.copy_from_slice(text);
        ones[..text.len()].fill(0xFF);
        Some(Self {
            text: [halves(&bytes, 0)?, halves(&bytes, 1)?],
            mask: [halves(&ones, 0)?, halves(&ones, 1)?],
            len: text.len(),
            tag,
        })
    }

    /// Whether the bytes at `pos` start with this key (false when fewer than
    /// [`MEMO_KEY_MAX`] bytes are left: the caller then scans, as it would anyway).
    #[inline(always)]
    fn matches(&self, buf: &[u8], pos: usize) -> bool {
        let Some(window) = buf.get(pos..pos + MEMO_KEY_MAX) else {
            return false;
        };
        let (Some(a), Some(b)) = (halves(window, 0), halves(window, 1)) else {
            return false;
        };
        ((a ^ self.text[0]) & self.mask[0]) | ((b ^ self.text[1]) & self.mask[1]) == 0
    }
}

/// The `i`th 16 bytes of `bytes` as a little-endian word.
#[inline(always)]
fn halves(bytes: &[u8], i: usize) -> Option<u128> {
    let half: [u8; 16] = bytes.get(16 * i..16 * i + 16)?.try_into().ok()?;
    Some(u128::from_le_bytes(half))
}

impl KeyMemo {
    /// Keeps `text` (a key from its opening quote to the `:` after it) as member
    /// `member`'s key.
    fn remember(&mut self, member: usize, text: &[u8], tag: u8) {
        if member >= MEMO_MEMBERS {
            return;
        }
        let Some(key) = MemoKey::new(text, tag) else {
            return;
        };
        if let Some(slot) = self.keys.get_mut(member) {
            *slot = key;
        } else if member == self.keys.len() {
            self.keys.push(key);
        }
    }
}

/// [`members_end`] with a [`KeyMemo`]: `classify` tags each key (raw bytes, and whether
/// they need [`unescape`]) and `field` gets the tag with the value. Keys found in `memo`
/// are not scanned or classified again.
#[inline]
fn members_end_keyed<'a>(
    buf: &'a [u8],
    mut pos: usize,
    stack: &mut Vec<u64>,
    memo: &mut KeyMemo,
    classify: &mut impl FnMut(&'a [u8], bool) -> u8,
    field: &mut impl FnMut(u8, Span),
) -> Result<usize, ScanError> {
    pos = match object_open(buf, pos)? {
        ControlFlow::Continue(first) => first,
        ControlFlow::Break(end) => return Ok(end),
    };
    let mut member = 0;
    loop {
        let tag = match memo.keys.get(member) {
            Some(key) if key.matches(buf, pos) => {
                pos += key.len;
                key.tag
            }
            _ => {
                let quote = match byte_at(buf, pos, b'"') {
                    Ok(quote) => quote,
                    Err(at) => return fail(at, "expected a string key"),
                };
                let (key_end, escaped) = string_end(buf, quote + 1)?;
                let tag = classify(&buf[quote + 1..key_end], escaped);
                let colon = match byte_at(buf, key_end + 1, b':') {
                    Ok(colon) => colon,
                    Err(at) => return fail(at, "expected ':' after object key"),
                };
                memo.remember(member, &buf[quote..=colon], tag);
                pos = colon + 1;
                tag
            }
        };
        let (value, end) = value_at(buf, pos, stack)?;
        field(tag, value);
        match comma_or(buf, end, b'}') {
            Ok((after, false)) => pos = after,
            Ok((after, true)) => return Ok(after),
            Err(at) => return no_comma(buf, at, true),
        }
        member += 1;
    }
}

/// Skips the object or array whose opening bracket is at `pos`, validating all of it in
/// one loop; returns the offset after its closing bracket.
///
/// The open containers are kept as one bit each (1 for an object): the innermost 64 in
/// a word, the outer ones in `spill` (so any depth fits, and shallow ones allocate
/// nothing).
fn container_end(buf: &[u8], mut pos: usize, spill: &mut Vec<u64>) -> Result<usize, ScanError> {
    spill.clear();
    let mut object = buf.get(pos) == Some(&b'{');
    let mut bits = u64::from(object);
    let mut depth: usize = 1;
    pos += 1;
    // An empty container may close right after its opening bracket.
    let mut first = true;
    loop {
        pos = ws_end(buf, pos);
        let close = if object { b'}' } else { b']' };
        let mut c = buf.get(pos).copied();
        if first && c == Some(close) {
            pos += 1;
        } else {
            if object {
                if c != Some(b'"') {
                    return fail(pos, "expected a string key");
                }
                pos = string_end(buf, pos + 1)?.0 + 1;
                pos = match byte_at(buf, pos, b':') {
                    Ok(pos) => pos,
                    Err(at) => return fail(at, "expected ':' after object key"),
                };
                pos = ws_end(buf, pos + 1);
                c = buf.get(pos).copied();
            }
            if let Some(open @ (b'{' | b'[')) = c {
                let shift = depth % 64;
                if shift == 0 {
                    spill.push(bits);
                }
                object = open == b'{';
                bits = (bits & !(1 << shift)) | (u64::from(object) << shift);
                depth += 1;
                pos += 1;
                first = true;
                continue;
            }
            pos = scalar_end(buf, pos, c)?;
            // After a value: a comma, or the closing bracket (then loop to the parent).
            let close = if object { b'}' } else { b']' };
            match comma_or(buf, pos, close) {
                Ok((after, false)) => {
                    pos = after;
                    first = false;
                    continue;
                }
                Ok((after, true)) => pos = after,
                Err(at) => return no_comma(buf, at, object),
            }
        }
        // A container just closed: pop it, then a comma or more closing brackets.
        loop {
            depth -= 1;
            if depth == 0 {
                return Ok(pos);
            }
            let shift = depth % 64;
            if shift == 0 {
                bits = spill.pop().unwrap_or(0);
            }
            object = (bits >> ((depth - 1) % 64)) & 1 == 1;
            let close = if object { b'}' } else { b']' };
            match comma_or(buf, pos, close) {
                Ok((after, false)) => {
                    pos = after;
                    first = false;
                    break;
                }
                Ok((after, true)) => pos = after,
                Err(at) => return no_comma(buf, at, object),
            }
        }
    }
}

/// A cursor over one JSON text.
///
/// Every scanning method leaves the cursor after what it scanned, or on an error at the
/// error's offset.
pub struct Scanner<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Outer levels of deep nesting for [`container_end`], kept to reuse its allocation.
    stack: Vec<u64>,
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
        fail(self.pos, reason)
    }

    /// Moves the cursor to the end of a scan, or to its error's offset.
    #[inline]
    fn settle<T>(&mut self, result: Result<(usize, T), ScanError>) -> Result<T, ScanError> {
        match result {
            Ok((end, value)) => {
                self.pos = end;
                Ok(value)
            }
            Err(e) => {
                self.pos = e.offset;
                Err(e)
            }
        }
    }

    /// Skips JSON whitespace (space, tab, CR, LF).
    #[inline]
    pub fn skip_ws(&mut self) {
        self.pos = ws_end(self.buf, self.pos);
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
    #[inline]
    pub fn string(&mut self) -> Result<Span, ScanError> {
        let start = self.pos + 1;
        let scanned = string_end(self.buf, start).map(|(end, escaped)| {
            let span = Span {
                kind: Kind::String { escaped },
                start,
                end,
            };
            (end + 1, span)
        });
        self.settle(scanned)
    }

    /// Scans a number per the RFC 8259 grammar.
    pub fn number(&mut self) -> Result<Span, ScanError> {
        let start = self.pos;
        let scanned = number_end(self.buf, start).map(|(end, int)| {
            let span = Span {
                kind: Kind::Number { int },
                start,
                end,
            };
            (end, span)
        });
        self.settle(scanned)
    }

    /// Scans one scalar, or a whole container, starting at the cursor (after whitespace).
    #[inline]
    pub fn value(&mut self) -> Result<Span, ScanError> {
        let scanned = value_at(self.buf, self.pos, &mut self.stack).map(|s| (s.1, s.0));
        self.settle(scanned)
    }

    /// Scans an object (cursor on `{`), calling `field(key, escaped, value)` for each member.
    /// Keys are the raw bytes between the quotes; `escaped` says they need [`unescape`].
    pub fn object(
        &mut self,
        mut field: impl FnMut(&'a [u8], bool, Span),
    ) -> Result<Span, ScanError> {
        let start = self.pos;
        let end = members_end(self.buf, start, &mut self.stack, &mut field);
        self.settle_object(start, end)
    }

    /// Moves the cursor after an object that started at `start`, or to its error.
    fn settle_object(
        &mut self,
        start: usize,
        end: Result<usize, ScanError>,
    ) -> Result<Span, ScanError> {
        let spanned = end.map(|end| {
            let span = Span {
                kind: Kind::Object,
                start,
                end,
            };
            (end, span)
        });
        self.settle(spanned)
    }

    /// Like [`Scanner::object`], with the keys tagged by `classify(key, escaped)` and
    /// `field(tag, value)` called for each member; keys at the same position as in an
    /// object scanned before with `memo` are recognised without being scanned or
    /// classified again (see [`KeyMemo`]). `classify` must give a key the same tag every
    /// time.
    pub fn object_keyed(
        &mut self,
        memo: &mut KeyMemo,
        mut classify: impl FnMut(&'a [u8], bool) -> u8,
        mut field: impl FnMut(u8, Span),
    ) -> Result<Span, ScanError> {
        let start = self.pos;
        let end = members_end_keyed(
            self.buf,
            start,
            &mut self.stack,
            memo,
            &mut classify,
            &mut field,
        );
        self.settle_object(start, end)
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

mod lanes;

#[cfg(test)]
mod equivalence;
#[cfg(test)]
mod reference;

/// Appends the JSON value `raw` to `out` without insignificant white space (one NDJSON
/// line); strings are kept byte for byte.
pub fn compact_into(raw: &[u8], out: &mut Vec<u8>) {
    out.reserve(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    for &c in raw {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            out.push(c);
        }
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
