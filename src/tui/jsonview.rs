//! Raw event JSON for display: a pretty-printer that keeps the original key order and
//! token text, the "key properties" shown in event rows, and compaction for export.
//!
//! Built on [`crate::json::Scanner`] rather than `serde_json` so keys stay in the order
//! they were sent and strings show their escapes as typed. Every piece of text passes
//! through [`crate::fmt::sanitize`], so C1 controls and DEL (which JSON allows unescaped)
//! never reach the terminal. Nesting deeper than [`MAX_DEPTH`] is shown on one line, so
//! hostile input cannot exhaust the stack.

use crate::fmt::sanitize;
use crate::json::{self, Kind, Scanner, Span};

/// Containers nested deeper than this are printed compactly on one line.
pub const MAX_DEPTH: usize = 32;
/// Strings longer than this (in bytes) are cut in the detail view.
pub const MAX_STRING: usize = 2000;

/// What a piece of pretty-printed JSON is, for colouring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An object key, quotes included.
    Key,
    /// A string value, quotes included.
    Str,
    /// A number.
    Num,
    /// `true`, `false` or `null`.
    Lit,
    /// Brackets, colons and commas.
    Punct,
    /// Text that is not JSON (the raw text could not be parsed).
    Plain,
}

/// One line of pretty-printed JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonLine {
    /// Nesting level (two spaces each).
    pub indent: u16,
    /// The tokens, already sanitized.
    pub parts: Vec<(Tok, String)>,
}

impl JsonLine {
    /// The line as plain text, indentation included.
    #[must_use]
    pub fn text(&self) -> String {
        let mut s = "  ".repeat(self.indent as usize);
        for (_, t) in &self.parts {
            s.push_str(t);
        }
        s
    }
}

/// Pretty-prints a raw event. Text that is not one JSON value is shown as plain lines.
#[must_use]
pub fn pretty(raw: &[u8]) -> Vec<JsonLine> {
    let text = String::from_utf8_lossy(raw);
    let buf = text.as_bytes();
    let Ok(span) = json::validate(buf) else {
        return text
            .lines()
            .map(|l| JsonLine {
                indent: 0,
                parts: vec![(Tok::Plain, sanitize(l).into_owned())],
            })
            .collect();
    };
    let mut out = Vec::new();
    value(buf, span, 0, Vec::new(), false, &mut out);
    out
}

fn token(buf: &[u8], span: Span) -> String {
    let (start, end) = span.outer();
    let text = String::from_utf8_lossy(&buf[start..end]);
    if matches!(span.kind, Kind::String { .. }) && text.len() > MAX_STRING {
        let mut cut = MAX_STRING;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        return format!(
            "{}…\" ({} more bytes)",
            sanitize(&text[..cut]),
            text.len() - cut
        );
    }
    sanitize(&text).into_owned()
}

fn compact_text(buf: &[u8], span: Span) -> String {
    let (start, end) = span.outer();
    let bytes = compact(&buf[start..end]);
    let text = String::from_utf8_lossy(&bytes);
    let short: String = text.chars().take(200).collect();
    let more = if short.len() < text.len() { "…" } else { "" };
    format!("{}{more}", sanitize(&short))
}

fn kind_tok(kind: Kind) -> Tok {
    match kind {
        Kind::String { .. } => Tok::Str,
        Kind::Number { .. } => Tok::Num,
        _ => Tok::Lit,
    }
}

/// Appends the lines of one value; `prefix` holds its key, `comma` whether one follows.
fn value(
    buf: &[u8],
    span: Span,
    depth: usize,
    mut prefix: Vec<(Tok, String)>,
    comma: bool,
    out: &mut Vec<JsonLine>,
) {
    let indent = u16::try_from(depth).unwrap_or(u16::MAX);
    let tail = |parts: &mut Vec<(Tok, String)>| {
        if comma {
            parts.push((Tok::Punct, ",".to_string()));
        }
    };
    let container = matches!(span.kind, Kind::Object | Kind::Array);
    if !container || depth >= MAX_DEPTH {
        let text = if container {
            compact_text(buf, span)
        } else {
            token(buf, span)
        };
        let tok = if container {
            Tok::Plain
        } else {
            kind_tok(span.kind)
        };
        prefix.push((tok, text));
        tail(&mut prefix);
        out.push(JsonLine {
            indent,
            parts: prefix,
        });
        return;
    }
    let (open, close) = if span.kind == Kind::Object {
        ("{", "}")
    } else {
        ("[", "]")
    };
    let mut members: Vec<(Option<String>, Span)> = Vec::new();
    let mut scanner = Scanner::at(buf, span.start);
    if span.kind == Kind::Object {
        let _ = scanner.object(|key, _, v| {
            let key = format!("\"{}\"", sanitize(&String::from_utf8_lossy(key)));
            members.push((Some(key), v));
        });
    } else {
        let _ = scanner.array(|_, v| members.push((None, v)));
    }
    if members.is_empty() {
        prefix.push((Tok::Punct, format!("{open}{close}")));
        tail(&mut prefix);
        out.push(JsonLine {
            indent,
            parts: prefix,
        });
        return;
    }
    prefix.push((Tok::Punct, open.to_string()));
    out.push(JsonLine {
        indent,
        parts: prefix,
    });
    let n = members.len();
    for (i, (key, v)) in members.into_iter().enumerate() {
        let prefix = match key {
            Some(k) => vec![(Tok::Key, k), (Tok::Punct, ": ".to_string())],
            None => Vec::new(),
        };
        value(buf, v, depth + 1, prefix, i + 1 < n, out);
    }
    let mut end = vec![(Tok::Punct, close.to_string())];
    tail(&mut end);
    out.push(JsonLine { indent, parts: end });
}

/// The first few `event_properties` of a raw event as `key=value` pairs, for list rows.
/// Empty when the event has none or is not valid JSON.
#[must_use]
pub fn key_properties(raw: &[u8], max: usize) -> String {
    let Ok(text) = std::str::from_utf8(raw) else {
        return String::new();
    };
    let buf = text.as_bytes();
    let mut props = None;
    let mut top = Scanner::new(buf);
    top.skip_ws();
    let scanned = top.object(|key, _, v| {
        if key == b"event_properties" && v.kind == Kind::Object {
            props = Some(v);
        }
    });
    let (Ok(_), Some(props)) = (scanned, props) else {
        return String::new();
    };
    let mut pairs = Vec::new();
    let mut scratch = String::new();
    let _ = Scanner::at(buf, props.start).object(|key, _, v| {
        if pairs.len() >= max {
            return;
        }
        let key = String::from_utf8_lossy(key);
        // Amplitude's own properties all share this prefix; it only takes room in a row.
        let key = key.strip_prefix("[Amplitude] ").unwrap_or(&key);
        let key = short(&sanitize(key), 16);
        let value = match v.kind {
            Kind::String { .. } => {
                let s = json::str_of(buf, v, &mut scratch);
                short(&sanitize(s), 24)
            }
            Kind::Object => "{…}".to_string(),
            Kind::Array => "[…]".to_string(),
            _ => short(&sanitize(&String::from_utf8_lossy(v.bytes(buf))), 24),
        };
        pairs.push(format!("{key}={value}"));
    });
    pairs.join(" ")
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The JSON text without insignificant whitespace (one NDJSON line). Strings are kept
/// byte for byte.
#[must_use]
pub fn compact(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::json::compact_into(raw, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(raw: &str) -> Vec<String> {
        pretty(raw.as_bytes()).iter().map(JsonLine::text).collect()
    }

    #[test]
    fn keys_keep_their_order_and_nesting_is_indented() {
        let got = texts(r#"{"z":1,"a":{"b":[true,null,"x"],"c":{}},"e":[]}"#);
        let want = [
            "{",
            "  \"z\": 1,",
            "  \"a\": {",
            "    \"b\": [",
            "      true,",
            "      null,",
            "      \"x\"",
            "    ],",
            "    \"c\": {}",
            "  },",
            "  \"e\": []",
            "}",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn control_characters_are_escaped_everywhere() {
        let raw = "{\"k\u{9b}\":\"a\u{1b}[31m\u{7f}\",\"x\":\"\\u001b[2J\"}";
        for line in texts(raw) {
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        let bad = "not json \u{1b}[2J\nline two";
        let got = texts(bad);
        assert_eq!(got, ["not json \\e[2J", "line two"]);
    }

    #[test]
    fn deep_nesting_is_cut_not_recursed() {
        let depth = 100_000;
        let raw = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let lines = pretty(raw.as_bytes());
        assert!(lines.len() <= 2 * MAX_DEPTH + 2);
    }

    #[test]
    fn key_properties_show_the_first_event_properties() {
        let raw = br#"{"event_type":"x","event_properties":{"plan":"pro","n":3,"deep":{"a":1},"more":1}}"#;
        assert_eq!(key_properties(raw, 3), "plan=pro n=3 deep={…}");
        assert_eq!(key_properties(br#"{"event_type":"x"}"#, 3), "");
        assert_eq!(
            key_properties(br#"{"event_properties":{"t":"a\u001bb"}}"#, 3),
            "t=a\\eb"
        );
    }

    #[test]
    fn compaction_keeps_strings_intact() {
        let raw = b"{\n  \"a\": \"x y\\\" z\",\n  \"b\": [1, 2]\n}";
        assert_eq!(compact(raw), br#"{"a":"x y\" z","b":[1,2]}"#);
    }
}
