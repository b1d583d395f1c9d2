//! Incremental NDJSON: bytes arrive in pieces of any size (appends to a followed file, a
//! network stream, what the ingestion endpoint wrote to its capture) and become decoded
//! [`Batch`]es of whole lines. A line cut by a piece boundary waits for the rest.
//!
//! Pure and synchronous: the live sources (file follower, streaming URL, `listen`) are
//! shells around it, so a live event is decoded by the same rules as a file's.

use crate::decode::{Batch, Decoder, Origin};
use crate::event::Location;
use crate::index::SourceIx;
use crate::store::LoadEvent;

use super::lines::for_each_line;

/// Turns pieces of an NDJSON byte stream into [`LoadEvent::Batch`]es.
pub struct LineFeed {
    source: SourceIx,
    segment: u32,
    decoder: Decoder,
    /// The unfinished last line.
    partial: Vec<u8>,
    /// Segment offset of the next byte to arrive (of `partial[0]` minus its length).
    offset: u64,
    /// Lines completed so far in this segment.
    lines: u64,
    /// The record-size limit: a longer line is read through without being kept.
    max_line: usize,
    /// Bytes of an over-long line read through so far.
    skipping: Option<u64>,
}

impl std::fmt::Debug for LineFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineFeed")
            .field("source", &self.source)
            .field("segment", &self.segment)
            .field("partial", &self.partial.len())
            .field("offset", &self.offset)
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl LineFeed {
    /// A feed for `source` whose bytes are segment `segment` from offset `offset`, after
    /// `lines` lines (so locations and raw offsets continue where a previous reader stopped).
    /// `keep_raw` records raw locations (the TUI shows raw JSON).
    #[must_use]
    pub fn new(source: SourceIx, segment: u32, offset: u64, lines: u64, keep_raw: bool) -> Self {
        Self {
            source,
            segment,
            decoder: Decoder::new(keep_raw),
            partial: Vec::new(),
            offset,
            lines,
            max_line: super::load::DEFAULT_MAX_RECORD,
            skipping: None,
        }
    }

    /// Lines over `max` bytes are rejected as too large and never held whole.
    #[must_use]
    pub fn with_max_line(mut self, max: usize) -> Self {
        self.max_line = max.max(1);
        self
    }

    /// Bytes of an unfinished line held back.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    /// Lines completed so far.
    #[must_use]
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Segment offset just past the last complete line.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Feeds the next bytes; returns the batch of the lines they complete, if any.
    pub fn push(&mut self, bytes: &[u8]) -> Option<LoadEvent> {
        let mut skipped = None;
        let mut bytes = bytes;
        if let Some(seen) = self.skipping {
            let Some(nl) = memchr::memchr(b'\n', bytes) else {
                self.skipping = Some(seen + bytes.len() as u64);
                return None;
            };
            skipped = Some(seen + nl as u64);
            self.skipping = None;
            bytes = &bytes[nl..];
        }
        let Some(last_nl) = memchr::memrchr(b'\n', bytes) else {
            self.partial.extend_from_slice(bytes);
            if self.partial.len() > self.max_line {
                // An endless line: read through, never held.
                self.skipping = Some(self.partial.len() as u64);
                self.partial.clear();
            }
            return skipped.and_then(|size| self.decode_after_skip(size, b"\n"));
        };
        let (whole, rest) = bytes.split_at(last_nl + 1);
        let event = if let Some(size) = skipped {
            // `whole` starts with the skipped line's newline: a stand-in for the line.
            let ev = self.decode_after_skip(size, whole);
            self.partial.extend_from_slice(rest);
            return ev;
        } else if self.partial.is_empty() {
            self.decode(whole)
        } else {
            let mut joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(whole);
            let ev = self.decode(&joined);
            joined.clear();
            self.partial = joined;
            ev
        };
        self.partial.extend_from_slice(rest);
        event
    }

    /// The stream ended: decodes an unfinished last line as a line of its own (a file
    /// without a final newline).
    pub fn finish(&mut self) -> Option<LoadEvent> {
        if self.partial.is_empty() {
            return None;
        }
        let mut line = std::mem::take(&mut self.partial);
        line.push(b'\n');
        self.decode(&line)
    }

    /// Drops an unfinished line (a connection cut mid-line: the rest will never come).
    /// Returns how many bytes were dropped.
    pub fn discard_partial(&mut self) -> usize {
        let n = self.partial.len();
        self.partial.clear();
        n
    }

    /// Continues in a new segment (a replaced or truncated file, a new connection), from
    /// its start; the unfinished line of the old one is dropped.
    pub fn restart(&mut self, segment: u32) {
        self.segment = segment;
        self.partial.clear();
        self.offset = 0;
        self.lines = 0;
    }

    /// Continues the same stream in a new segment that starts at offset 0 (the next piece
    /// of a network stream kept in memory): raw offsets restart, line numbers go on. Call
    /// it at a line boundary; an unfinished line is dropped.
    pub fn next_segment(&mut self, segment: u32) {
        self.segment = segment;
        self.partial.clear();
        self.offset = 0;
    }

    /// Decodes `text`, whose first byte is the newline of a line of `size` bytes that was
    /// read through (rejected as too large); `text` follows it in the segment.
    fn decode_after_skip(&mut self, size: u64, text: &[u8]) -> Option<LoadEvent> {
        // The stand-in newline is one byte for size + 1: shift the offsets by size.
        self.offset += size;
        let max = self.max_line as u64;
        self.decode(text).map(|mut ev| {
            if let LoadEvent::Batch { batch, source, .. } = &mut ev {
                let loc = Location {
                    source: *source,
                    member: None,
                    line: 1,
                    index: Vec::new(),
                };
                batch.reject_too_large(loc, size, max);
                batch.bytes += size;
            }
            ev
        })
    }

    /// Decodes whole lines (ending with a newline) starting at `self.offset`.
    fn decode(&mut self, text: &[u8]) -> Option<LoadEvent> {
        let mut origin = Origin {
            loc: Location {
                source: self.source,
                member: None,
                line: 0,
                index: Vec::new(),
            },
            segment: self.segment,
            offset: 0,
        };
        let mut batch = Batch {
            bytes: text.len() as u64,
            ..Batch::default()
        };
        let base = self.offset;
        let line_base = self.lines;
        let decoder = &mut self.decoder;
        let max = self.max_line;
        batch.lines = for_each_line(text, |line, n, at| {
            origin.loc.line = n;
            origin.offset = base + at as u64;
            if line.len() > max {
                batch.reject_too_large(origin.loc.clone(), line.len() as u64, max as u64);
            } else {
                decoder.line(&mut batch, line, &origin);
            }
        });
        // `for_each_line` counts the empty piece after the final newline as no line.
        self.decoder.seal(&mut batch);
        self.offset += text.len() as u64;
        self.lines += batch.lines;
        Some(LoadEvent::Batch {
            source: self.source,
            batch,
            line_base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventStore;

    const A: &[u8] = br#"{"event_type":"a","user_id":"u1","time":1000}"#;
    const B: &[u8] = br#"{"event_type":"b","user_id":"u1","time":2000}"#;

    fn stream() -> Vec<u8> {
        let mut s = Vec::new();
        for line in [A, b"not json", B] {
            s.extend_from_slice(line);
            s.push(b'\n');
        }
        s
    }

    fn feed_in_pieces(size: usize) -> EventStore {
        let mut store = EventStore::new();
        let src = store.add_source("live");
        let mut feed = LineFeed::new(src, 0, 0, 0, true);
        for piece in stream().chunks(size) {
            if let Some(ev) = feed.push(piece) {
                store.apply(ev);
            }
        }
        assert_eq!(feed.pending(), 0);
        store
    }

    #[test]
    fn any_piece_size_gives_the_same_events_lines_and_offsets() {
        let whole = feed_in_pieces(usize::MAX);
        for size in [1, 2, 3, 7, 46, 47, 48, 100] {
            let store = feed_in_pieces(size);
            assert_eq!(store.events(), whole.events(), "piece size {size}");
            assert_eq!(store.rejects.len(), 1);
            assert_eq!(store.rejects[0].loc.line, 2, "piece size {size}");
            let raw = store.raw(crate::index::EventIx::new(1)).unwrap();
            assert_eq!(raw.offset, (A.len() + 1 + 9) as u64);
            assert_eq!(raw.len as usize, B.len());
        }
    }

    #[test]
    fn an_endless_line_is_read_through_and_rejected_with_its_size() {
        let mut feed = LineFeed::new(SourceIx::new(0), 0, 0, 0, true).with_max_line(100);
        let mut store = EventStore::new();
        store.add_source("s");
        let mut apply = |ev: Option<LoadEvent>| {
            if let Some(ev) = ev {
                store.apply(ev);
            }
        };
        apply(feed.push(A));
        apply(feed.push(b"\n"));
        for _ in 0..1000 {
            apply(feed.push(&[b'x'; 1000]));
            assert!(feed.pending() <= 100);
        }
        apply(feed.push(b"xx\n"));
        apply(feed.push(B));
        apply(feed.push(b"\n"));
        assert_eq!(store.events().len(), 2);
        assert_eq!(store.rejects.len(), 1);
        assert_eq!(store.describe(&store.rejects[0].loc), "s:2");
        assert_eq!(
            store.rejects[0].reason,
            crate::decode::RejectReason::TooLarge {
                size: 1_000_002,
                limit: 100
            }
        );
        assert_eq!(feed.lines(), 3);
        assert_eq!(
            feed.offset(),
            (A.len() + 1 + 1_000_003 + B.len() + 1) as u64
        );
    }

    #[test]
    fn an_unfinished_line_waits_and_can_be_finished_or_dropped() {
        let mut feed = LineFeed::new(SourceIx::new(0), 0, 0, 0, false);
        assert!(feed.push(&A[..10]).is_none());
        assert_eq!(feed.pending(), 10);
        assert_eq!(feed.discard_partial(), 10);
        assert!(feed.push(A).is_none());
        let Some(LoadEvent::Batch { batch, .. }) = feed.finish() else {
            panic!("no batch")
        };
        assert_eq!(batch.events.len(), 1);
        assert!(feed.finish().is_none());
    }

    #[test]
    fn restart_numbers_lines_and_offsets_from_the_new_start() {
        let mut store = EventStore::new();
        let src = store.add_source("live");
        let mut feed = LineFeed::new(src, 0, 500, 10, true);
        let mut line = A.to_vec();
        line.push(b'\n');
        store.apply(feed.push(&line).unwrap());
        assert_eq!(
            store.raw(crate::index::EventIx::new(0)).unwrap().offset,
            500
        );
        feed.restart(1);
        store.apply(feed.push(&line).unwrap());
        let raw = store.raw(crate::index::EventIx::new(1)).unwrap();
        assert_eq!((raw.segment, raw.offset), (1, 0));
        assert_eq!(feed.lines(), 1);
    }

    #[test]
    fn next_segment_restarts_offsets_but_not_line_numbers() {
        let mut store = EventStore::new();
        let src = store.add_source("live");
        let mut feed = LineFeed::new(src, 0, 0, 0, true);
        store.apply(
            feed.push(b"{\"event_type\":\"a\",\"user_id\":\"u1\",\"time\":1000}\n")
                .unwrap(),
        );
        feed.next_segment(1);
        store.apply(feed.push(b"oops\n").unwrap());
        let raw = store.raw(crate::index::EventIx::new(0)).unwrap();
        assert_eq!((raw.segment, raw.offset), (0, 0));
        assert_eq!(store.rejects[0].loc.line, 2);
        assert_eq!(feed.offset(), 5);
        assert_eq!(feed.lines(), 2);
    }
}
