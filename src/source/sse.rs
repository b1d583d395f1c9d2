//! Server-sent events (`text/event-stream`, the WHATWG rules), parsed incrementally and
//! turned into NDJSON lines. Pure: no I/O, no clock; the HTTP transport in [`super::url`]
//! feeds it the body's pieces as they arrive, cut anywhere.

use std::time::Duration;

/// One event of a server-sent event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// Its data lines joined with `\n`.
    pub data: Vec<u8>,
    /// The last event id in effect when it was dispatched.
    pub id: Option<String>,
}

/// Incremental parser of `text/event-stream` (the WHATWG rules): lines end with CRLF,
/// LF or CR; `data:` lines accumulate, a blank line dispatches the event; `:` comments
/// and `event:` are ignored; `id:` sets the last event id, `retry:` the reconnection
/// delay. Pieces may be cut anywhere, even between a CR and its LF.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The last byte was a CR: an LF right after it ends nothing.
    after_cr: bool,
    data: Vec<u8>,
    has_data: bool,
    id_buffer: Option<String>,
    last_id: Option<String>,
    retry: Option<Duration>,
}

impl SseParser {
    /// Parses the next piece; dispatched events are appended to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) {
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(i) = memchr::memchr2(b'\r', b'\n', bytes) {
            self.line.extend_from_slice(&bytes[..i]);
            let line = std::mem::take(&mut self.line);
            self.field(&line, out);
            self.line = line;
            self.line.clear();
            let skip = if bytes[i] == b'\r' {
                match bytes.get(i + 1) {
                    Some(b'\n') => 2,
                    Some(_) => 1,
                    None => {
                        self.after_cr = true;
                        1
                    }
                }
            } else {
                1
            };
            bytes = &bytes[i + skip..];
        }
        self.line.extend_from_slice(bytes);
    }

    fn field(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.last_id.clone_from(&self.id_buffer);
            if self.has_data {
                self.has_data = false;
                out.push(SseEvent {
                    data: std::mem::take(&mut self.data),
                    id: self.last_id.clone(),
                });
            }
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"id" if !value.contains(&0) => {
                self.id_buffer = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Some(ms) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }

    /// The id of the last event dispatched (sent as `Last-Event-ID` when reconnecting).
    #[must_use]
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref().filter(|id| !id.is_empty())
    }

    /// The reconnection delay the stream asked for.
    #[must_use]
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Bytes of an unfinished event (lost if the connection ends now).
    #[must_use]
    pub fn pending(&self) -> usize {
        self.line.len() + self.data.len()
    }

    /// A new connection: an unfinished event is dropped; the last id and retry stay.
    pub fn reset(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.data.clear();
        self.has_data = false;
        self.id_buffer.clone_from(&self.last_id);
    }
}

/// Appends an SSE data payload as NDJSON: one line per JSON value (a top-level array is
/// unwrapped into its elements), line breaks inside the value turned into spaces.
pub fn append_payload(out: &mut Vec<u8>, data: &[u8]) {
    let mut push_line = |value: &[u8]| {
        out.extend(
            value
                .iter()
                .map(|&c| if c == b'\n' || c == b'\r' { b' ' } else { c }),
        );
        out.push(b'\n');
    };
    let start = data.iter().position(|c| !c.is_ascii_whitespace());
    if let Some(start) = start.filter(|&s| data[s] == b'[') {
        let mut elements = Vec::new();
        let mut scanner = crate::json::Scanner::at(data, start);
        if scanner.array(|_, span| elements.push(span.outer())).is_ok() {
            scanner.skip_ws();
            if scanner.at_end() {
                for (s, e) in elements {
                    push_line(&data[s..e]);
                }
                return;
            }
        }
    }
    push_line(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(stream: &[u8], size: usize) -> (Vec<SseEvent>, SseParser) {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for piece in stream.chunks(size) {
            parser.push(piece, &mut out);
        }
        (out, parser)
    }

    fn data(events: &[SseEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| String::from_utf8_lossy(&e.data).into_owned())
            .collect()
    }

    const STREAM: &[u8] = b": a comment\r\nevent: track\r\nid: 7\r\ndata: {\"a\":\r\ndata:  1}\r\n\r\nretry: 1500\rdata:x\r\r: keep-alive\n\nid: 9\ndata: \xc3\xa9\n\n";

    #[test]
    fn sse_events_are_the_same_whatever_the_piece_boundaries() {
        for size in 1..=STREAM.len() {
            let (events, parser) = parse_in_pieces(STREAM, size);
            assert_eq!(
                data(&events),
                ["{\"a\":\n 1}", "x", "é"],
                "piece size {size}"
            );
            let ids: Vec<_> = events.iter().map(|e| e.id.as_deref()).collect();
            assert_eq!(ids, [Some("7"), Some("7"), Some("9")], "piece size {size}");
            assert_eq!(parser.retry(), Some(Duration::from_millis(1500)));
            assert_eq!(parser.last_event_id(), Some("9"));
            assert_eq!(parser.pending(), 0);
        }
    }

    #[test]
    fn an_unfinished_sse_event_is_pending_and_does_not_move_the_last_id() {
        let (events, mut parser) = parse_in_pieces(b"id: 1\ndata: a\n\nid: 2\ndata: {\"half", 5);
        assert_eq!(data(&events), ["a"]);
        assert_eq!(parser.last_event_id(), Some("1"));
        assert_eq!(parser.pending(), "data: {\"half".len());
        parser.reset();
        assert_eq!(parser.pending(), 0);
        let mut out = Vec::new();
        parser.push(b"data: b\n\n", &mut out);
        assert_eq!(out[0].id.as_deref(), Some("1"));
    }

    #[test]
    fn sse_without_data_dispatches_nothing_and_unknown_fields_are_ignored() {
        let (events, parser) = parse_in_pieces(b"event: x\n\ndata\n\nfoo: bar\nretry: soon\n\n", 3);
        assert_eq!(data(&events), [""]);
        assert_eq!(parser.retry(), None);
    }

    #[test]
    fn payloads_become_one_line_per_value_and_arrays_are_unwrapped() {
        let mut out = Vec::new();
        append_payload(&mut out, b"{\"a\":\n1}");
        append_payload(&mut out, b" [{\"b\":1}, {\"c\":\r\n2}] ");
        append_payload(&mut out, b"[1, oops");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\"a\": 1}\n{\"b\":1}\n{\"c\":  2}\n[1, oops\n"
        );
    }
}
