//! The scanner as it was before the speed work of issue 14, kept verbatim as the
//! reference the equivalence property test (`json::equivalence`) compares the current
//! scanner against: same accepted texts, same spans, same error offsets and messages.

#![allow(
    dead_code,
    reason = "kept verbatim; the test does not call every method"
)]

use super::{Kind, Partial, ScanError, Span};

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
