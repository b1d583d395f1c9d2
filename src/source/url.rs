//! `streamscope URL`: stream events from an http(s) endpoint, reconnecting.
//!
//! Design:
//! - One blocking GET per connection (reqwest's blocking client, no overall timeout). A
//!   helper thread reads the body and hands pieces over a channel, so the streaming loop
//!   notices `stop` and flushes on time even when the stream is quiet.
//! - The body is NDJSON, or server-sent events when the answer's Content-Type is
//!   `text/event-stream` ([`SseParser`]): each event's data is one JSON value (an event,
//!   a request body, or an array of those, which is unwrapped) and becomes one line.
//! - Complete lines are collected and flushed every [`FLUSH_EVERY`] (or each
//!   [`FLUSH_BYTES`]): a flush registers the bytes as a [`Segment::Memory`] (so the TUI
//!   can show an event's raw text) and decodes them through the source's [`LineFeed`]
//!   (raw offsets restart in each segment, line numbers go on).
//! - After a disconnect, an error or a non-2xx answer it reconnects (unless
//!   [`UrlSpec::reconnect`] is off) with exponential backoff: [`FIRST_DELAY`] doubling to
//!   [`MAX_DELAY`] (or starting at the stream's `retry:`), back to the start after a
//!   connection that delivered data. Failures are reported at attempts 1, 2, 4, 8…
//!   of a streak, so a long outage does not flood the problem list. A line cut by the
//!   disconnect is dropped and reported. SSE reconnections send `Last-Event-ID`.
//! - A server that replays its stream from the start on reconnection must not duplicate
//!   events: every decoded event has a key (its insert_id hash, or a hash of its raw
//!   text), and [`SeenSet`] drops the events of a connection that earlier connections
//!   already delivered, counting occurrences, so that genuine duplicates within the
//!   stream (an anomaly the analysis reports) are kept.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use super::UrlSpec;
use super::feed::LineFeed;
use super::load::LoadOptions;
use super::sse::{SseEvent, SseParser, append_payload};
use crate::decode::Batch;
use crate::event::NO_DEDUP;
use crate::index::SourceIx;
use crate::store::{LoadEvent, Segment};

/// Decoded events are handed over at least this often while data trickles in.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// …and as soon as this many bytes of complete lines are waiting.
pub const FLUSH_BYTES: usize = 1 << 20;

/// The first reconnection delay of a failure streak.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);

/// The longest reconnection delay.
pub const MAX_DELAY: Duration = Duration::from_secs(10);

/// Seed of the raw-text hash of events without an insert_id (keeps them apart from
/// insert_id hashes).
const TEXT_KEY_SEED: u64 = 0x5354_5245_414d_5343;

type Emit<'e> = dyn FnMut(LoadEvent) + 'e;

/// Installs the process-wide TLS crypto provider (ring) once; needed before any reqwest
/// client is built (reqwest is built without a provider of its own). Safe to call from
/// anywhere, any number of times.
pub fn ensure_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already installed: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Streams `spec.url` until `stop` is set, or (without reconnection) to the end of the
/// stream. Does not emit [`LoadEvent::Done`]: [`super::run_spec`] does.
pub fn stream(
    spec: &UrlSpec,
    source: SourceIx,
    opts: &LoadOptions,
    stop: &AtomicBool,
    emit: &mut Emit<'_>,
) {
    ensure_tls_provider();
    let client = reqwest::blocking::Client::builder()
        .timeout(None)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("streamscope/", env!("CARGO_PKG_VERSION")))
        .build();
    match client {
        Ok(client) => Streamer::new(spec, source, opts).run(&client, stop, emit),
        Err(e) => emit(LoadEvent::Problem {
            source,
            message: format!(
                "cannot set up an HTTP client for '{}': {}",
                spec.url,
                reason(&e)
            ),
            fatal: true,
        }),
    }
}

/// An error and its causes, as one line.
fn reason(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// `250 ms`, `2 s`, `10 s`.
fn delay_text(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// How a connection ended.
enum End {
    /// `stop` was set.
    Stopped,
    /// The body ended cleanly.
    Ended { delivered: bool },
    /// It could not be made, was refused, or broke off.
    Failed { delivered: bool, reason: String },
}

/// What the body-reading thread hands over.
enum Piece {
    Data(Vec<u8>),
    End,
    Error(String),
}

/// Reads the body on a thread of its own (a blocking read cannot be interrupted; the
/// thread ends at the next piece or error after the receiver is gone).
fn spawn_reader(mut body: reqwest::blocking::Response) -> std::io::Result<Receiver<Piece>> {
    let (tx, rx) = mpsc::sync_channel(16);
    std::thread::Builder::new()
        .name("streamscope-url-read".into())
        .spawn(move || {
            loop {
                let mut buf = vec![0u8; 64 * 1024];
                let piece = match body.read(&mut buf) {
                    Ok(0) => Piece::End,
                    Ok(n) => {
                        buf.truncate(n);
                        Piece::Data(buf)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Piece::Error(reason(&e)),
                };
                let last = !matches!(piece, Piece::Data(_));
                if tx.send(piece).is_err() || last {
                    break;
                }
            }
        })?;
    Ok(rx)
}

/// Exponential backoff over a failure streak.
#[derive(Debug)]
struct Backoff {
    next: Duration,
    /// Failures in the current streak.
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: FIRST_DELAY,
            attempt: 0,
        }
    }
}

impl Backoff {
    /// A failure: the delay before the next attempt (the streak's first delay is
    /// `first`, when the stream asked for one with `retry:`).
    fn failed(&mut self, first: Option<Duration>) -> Duration {
        if self.attempt == 0 {
            self.next = first.unwrap_or(FIRST_DELAY).min(MAX_DELAY);
        }
        self.attempt += 1;
        let delay = self.next;
        self.next = (self.next * 2).min(MAX_DELAY);
        delay
    }

    /// A connection delivered data: the next failure starts a new streak.
    fn reset(&mut self) {
        *self = Self::default();
    }

    /// Whether the current failure is worth a message: attempts 1, 2, 4, 8, …
    fn worth_telling(&self) -> bool {
        self.attempt.is_power_of_two()
    }
}

/// Which events earlier connections delivered, to drop them when a connection replays
/// them. Occurrences are counted: the n-th event with a key in a connection is dropped
/// when earlier connections delivered at least n events with that key, so a stream that
/// genuinely repeats an event keeps its repeats.
#[derive(Debug, Default)]
pub struct SeenSet {
    keys: rustc_hash::FxHashMap<u64, Seen>,
    connection: u32,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    /// Delivered so far.
    total: u32,
    /// Delivered before the current connection.
    before: u32,
    /// Met in the current connection.
    this: u32,
    connection: u32,
}

impl SeenSet {
    /// A new connection starts.
    pub fn new_connection(&mut self) {
        self.connection += 1;
    }

    /// Whether an event with `key` met now is new (and records it).
    pub fn admit(&mut self, key: u64) -> bool {
        let connection = self.connection;
        let e = self.keys.entry(key).or_insert(Seen {
            total: 0,
            before: 0,
            this: 0,
            connection,
        });
        if e.connection != connection {
            *e = Seen {
                before: e.total,
                this: 0,
                connection,
                ..*e
            };
        }
        e.this = e.this.saturating_add(1);
        if e.this <= e.before {
            return false;
        }
        e.total = e.total.saturating_add(1);
        true
    }
}

/// The dedup key of an event without an insert_id: a hash of its raw text.
fn text_key(text: &[u8]) -> u64 {
    let key = xxhash_rust::xxh3::xxh3_64_with_seed(text, TEXT_KEY_SEED);
    if key == NO_DEDUP { 1 } else { key }
}

/// The state of one URL source across its connections.
struct Streamer<'a> {
    spec: &'a UrlSpec,
    source: SourceIx,
    keep_raw: bool,
    feed: LineFeed,
    /// Memory segments registered so far.
    segments: u32,
    /// Complete lines not yet decoded.
    ready: Vec<u8>,
    /// NDJSON: the unfinished last line.
    partial: Vec<u8>,
    /// The record-size limit.
    max_line: usize,
    /// Bytes of a line (NDJSON) or event (SSE) over the limit, read through so far (not
    /// kept).
    over_long: Option<u64>,
    /// Sizes of over-long lines read through and not yet reported.
    too_large: Vec<u64>,
    sse: SseParser,
    sse_mode: bool,
    events: Vec<SseEvent>,
    seen: SeenSet,
    /// Replayed events dropped and not yet reported.
    skipped: u64,
    /// Body bytes received, over all connections.
    received: u64,
    /// Events delivered, over all connections.
    delivered_events: u64,
}

impl<'a> Streamer<'a> {
    fn new(spec: &'a UrlSpec, source: SourceIx, opts: &LoadOptions) -> Self {
        Self {
            spec,
            source,
            keep_raw: opts.keep_raw,
            // Raw locations are always kept: events without an insert_id are told apart
            // by their text.
            feed: LineFeed::new(source, 0, 0, 0, true),
            segments: 0,
            ready: Vec::new(),
            partial: Vec::new(),
            max_line: opts.max_record.max(1),
            over_long: None,
            too_large: Vec::new(),
            sse: SseParser::default(),
            sse_mode: false,
            events: Vec::new(),
            seen: SeenSet::default(),
            skipped: 0,
            received: 0,
            delivered_events: 0,
        }
    }

    fn problem(&self, message: String, fatal: bool, emit: &mut Emit<'_>) {
        emit(LoadEvent::Problem {
            source: self.source,
            message,
            fatal,
        });
    }

    fn run(&mut self, client: &reqwest::blocking::Client, stop: &AtomicBool, emit: &mut Emit<'_>) {
        let url = &self.spec.url;
        let mut backoff = Backoff::default();
        while !stop.load(Ordering::Relaxed) {
            self.seen.new_connection();
            let end = self.connection(client, stop, emit);
            self.report_skipped(emit);
            let (delivered, why, failed) = match end {
                End::Stopped => return,
                End::Ended { delivered } => (delivered, "the stream ended".to_string(), false),
                End::Failed { delivered, reason } => (delivered, reason, true),
            };
            if !self.spec.reconnect {
                if failed {
                    let fatal = self.received == 0;
                    let message = if fatal {
                        why
                    } else {
                        format!("'{url}': {why}; the events received before were kept")
                    };
                    self.problem(message, fatal, emit);
                }
                return;
            }
            // A connection that delivered and then broke starts a new streak; a stream
            // that ends cleanly is polled with growing delays like a failing one (a
            // finite endpoint is not hammered every 250 ms, nor the problems flooded).
            if delivered && failed {
                backoff.reset();
            }
            let delay = backoff.failed(self.sse.retry());
            if backoff.worth_telling() {
                let message = format!(
                    "'{url}': {why}; reconnecting in {} (attempt {})",
                    delay_text(delay),
                    backoff.attempt
                );
                self.problem(message, false, emit);
            }
            sleep_unless_stopped(delay, stop);
        }
    }

    /// One connection: GET, then read the body until it ends, fails or `stop` is set.
    fn connection(
        &mut self,
        client: &reqwest::blocking::Client,
        stop: &AtomicBool,
        emit: &mut Emit<'_>,
    ) -> End {
        let url = &self.spec.url;
        let mut request = client.get(url).header(
            reqwest::header::ACCEPT,
            "application/x-ndjson, text/event-stream;q=0.9, */*;q=0.5",
        );
        if let Some(id) = self.sse.last_event_id() {
            request = request.header("Last-Event-ID", id);
        }
        let response = match request.send() {
            Ok(r) => r,
            Err(e) => {
                return End::Failed {
                    delivered: false,
                    reason: format!("GET {url} failed: {}", reason(&e)),
                };
            }
        };
        let status = response.status();
        if !status.is_success() {
            return End::Failed {
                delivered: false,
                reason: format!("GET {url}: {status}"),
            };
        }
        self.sse_mode = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            });
        emit(LoadEvent::Format {
            source: self.source,
            format: if self.sse_mode { "sse" } else { "ndjson" },
        });
        self.sse.reset();
        self.partial.clear();
        let pieces = match spawn_reader(response) {
            Ok(rx) => rx,
            Err(e) => {
                return End::Failed {
                    delivered: false,
                    reason: format!("cannot start reading '{url}': {e}"),
                };
            }
        };
        self.read_body(&pieces, stop, emit)
    }

    fn read_body(
        &mut self,
        pieces: &Receiver<Piece>,
        stop: &AtomicBool,
        emit: &mut Emit<'_>,
    ) -> End {
        let mut delivered = false;
        let mut last_flush = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                self.flush(emit);
                return End::Stopped;
            }
            match pieces.recv_timeout(FLUSH_EVERY) {
                Ok(Piece::Data(bytes)) => {
                    delivered = true;
                    self.received += bytes.len() as u64;
                    self.frame(&bytes);
                    self.report_too_large(emit);
                    if self.ready.len() >= FLUSH_BYTES {
                        self.flush(emit);
                        last_flush = Instant::now();
                    }
                }
                Ok(Piece::End) => {
                    self.end_of_connection(true, emit);
                    return End::Ended { delivered };
                }
                Ok(Piece::Error(reason)) => {
                    self.end_of_connection(false, emit);
                    return End::Failed {
                        delivered,
                        reason: format!("the connection broke off ({reason})"),
                    };
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.end_of_connection(false, emit);
                    return End::Failed {
                        delivered,
                        reason: "the reading thread ended".to_string(),
                    };
                }
            }
            if !self.ready.is_empty() && last_flush.elapsed() >= FLUSH_EVERY {
                self.flush(emit);
                last_flush = Instant::now();
            }
        }
    }

    /// Moves the complete lines of a piece to `ready`.
    fn frame(&mut self, bytes: &[u8]) {
        if self.sse_mode {
            self.sse.push(bytes, &mut self.events);
            if self.sse.pending() > self.max_line {
                // An endless event: dropped as it grows, reported when the stream moves on.
                *self.over_long.get_or_insert(0) += self.sse.pending() as u64;
                self.sse.reset();
            }
            if !self.events.is_empty()
                && let Some(size) = self.over_long.take()
            {
                self.too_large.push(size);
            }
            for event in self.events.drain(..) {
                // An empty payload (a keep-alive) holds no value.
                if event.data.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                append_payload(&mut self.ready, &event.data);
            }
            return;
        }
        let mut bytes = bytes;
        if let Some(seen) = self.over_long {
            let Some(nl) = memchr::memchr(b'\n', bytes) else {
                self.over_long = Some(seen + bytes.len() as u64);
                return;
            };
            // The over-long line ends: a blank line stands in for it (line numbers go on).
            self.over_long = None;
            self.too_large.push(seen + nl as u64);
            self.ready.push(b'\n');
            bytes = &bytes[nl + 1..];
        }
        match memchr::memrchr(b'\n', bytes) {
            Some(nl) => {
                self.ready.append(&mut self.partial);
                self.ready.extend_from_slice(&bytes[..=nl]);
                self.partial.extend_from_slice(&bytes[nl + 1..]);
            }
            None => self.partial.extend_from_slice(bytes),
        }
        if self.partial.len() > self.max_line {
            // An endless line: read through, never held.
            self.over_long = Some(self.partial.len() as u64);
            self.partial.clear();
        }
    }

    /// Reports the over-long lines read through since the last call.
    fn report_too_large(&mut self, emit: &mut Emit<'_>) {
        for size in self.too_large.drain(..) {
            emit(LoadEvent::Problem {
                source: self.source,
                message: format!(
                    "'{}': a line or event of {size} bytes is over the record-size limit of {} bytes (--max-record-size); it was skipped without being kept",
                    self.spec.url, self.max_line
                ),
                fatal: false,
            });
        }
    }

    /// The connection is over: an unfinished line is dropped (or, at the clean end of a
    /// stream read once, taken as its last line, as for a file), then everything is
    /// decoded.
    fn end_of_connection(&mut self, clean: bool, emit: &mut Emit<'_>) {
        let mut dropped = None;
        if let Some(size) = self.over_long.take() {
            self.too_large.push(size);
            self.report_too_large(emit);
        }
        if self.sse_mode {
            let n = self.sse.pending();
            self.sse.reset();
            if n > 0 {
                dropped = Some(format!("an unfinished event of {n} bytes"));
            }
        } else if !self.partial.is_empty() {
            if clean && !self.spec.reconnect {
                self.ready.append(&mut self.partial);
                self.ready.push(b'\n');
            } else {
                dropped = Some(format!(
                    "an unfinished line of {} bytes",
                    self.partial.len()
                ));
                self.partial.clear();
            }
        }
        self.flush(emit);
        if let Some(what) = dropped {
            let message = format!("'{}': dropped {what} at disconnect", self.spec.url);
            self.problem(message, false, emit);
        }
    }

    /// Registers the waiting lines as a memory segment and decodes them.
    fn flush(&mut self, emit: &mut Emit<'_>) {
        if self.ready.is_empty() {
            return;
        }
        let bytes: Arc<[u8]> = Arc::from(std::mem::take(&mut self.ready));
        if self.keep_raw {
            emit(LoadEvent::Member {
                source: self.source,
                segment: Segment::Memory(Arc::clone(&bytes)),
                name: self.spec.url.clone(),
            });
        }
        self.feed.next_segment(self.segments);
        self.segments += 1;
        if let Some(LoadEvent::Batch {
            source,
            mut batch,
            line_base,
        }) = self.feed.push(&bytes)
        {
            self.skipped += self.drop_seen(&mut batch, &bytes);
            let fresh = batch.events.len() as u64;
            self.delivered_events += fresh;
            emit(LoadEvent::Batch {
                source,
                batch,
                line_base,
            });
            if fresh > 0 {
                self.report_skipped(emit);
            }
        }
        emit(LoadEvent::Progress {
            source: self.source,
            read: self.received,
            total: None,
        });
    }

    /// Drops the events earlier connections delivered; returns how many.
    fn drop_seen(&mut self, batch: &mut Batch, bytes: &[u8]) -> u64 {
        if batch.raw.len() == batch.events.len() {
            let keep: Vec<bool> = batch
                .events
                .iter()
                .zip(&batch.raw)
                .map(|(event, raw)| {
                    let key = event.dedup_key().unwrap_or_else(|| {
                        let start = usize::try_from(raw.offset).unwrap_or(usize::MAX);
                        let end = start.saturating_add(raw.len as usize);
                        text_key(bytes.get(start..end).unwrap_or_default())
                    });
                    self.seen.admit(key)
                })
                .collect();
            let mut it = keep.iter();
            batch.events.retain(|_| it.next().copied().unwrap_or(true));
            let mut it = keep.iter();
            batch.raw.retain(|_| it.next().copied().unwrap_or(true));
            if !self.keep_raw {
                batch.raw = Vec::new();
            }
            return keep.iter().filter(|k| !**k).count() as u64;
        }
        0
    }

    fn report_skipped(&mut self, emit: &mut Emit<'_>) {
        if self.skipped > 0 {
            let n = std::mem::take(&mut self.skipped);
            let message = format!(
                "'{}': after reconnecting, skipped {n} event{} already received",
                self.spec.url,
                if n == 1 { "" } else { "s" }
            );
            self.problem(message, false, emit);
        }
    }
}

/// Sleeps for `d`, waking early when `stop` is set.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replayed_events_are_dropped_but_repeats_within_a_stream_are_kept() {
        let (a, b, c) = (1, 2, 3);
        let mut seen = SeenSet::default();
        seen.new_connection();
        // The stream itself repeats `a`: both are kept.
        let first: Vec<bool> = [a, a, b].iter().map(|&k| seen.admit(k)).collect();
        assert_eq!(first, [true, true, true]);
        // Replayed from the start plus something new.
        seen.new_connection();
        let second: Vec<bool> = [a, a, b, c].iter().map(|&k| seen.admit(k)).collect();
        assert_eq!(second, [false, false, false, true]);
        // Resumed (only new events), then a third occurrence of `a` is new.
        seen.new_connection();
        let third: Vec<bool> = [a, c, a, a].iter().map(|&k| seen.admit(k)).collect();
        assert_eq!(third, [false, false, false, true]);
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_tells_at_powers_of_two() {
        let mut b = Backoff::default();
        let delays: Vec<u128> = (0..8).map(|_| b.failed(None).as_millis()).collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(b.attempt, 8);
        assert!(b.worth_telling());
        b.failed(None);
        assert!(!b.worth_telling());
        b.reset();
        assert_eq!(
            b.failed(Some(Duration::from_millis(1500))).as_millis(),
            1500
        );
        assert!(b.worth_telling());
        assert_eq!(delay_text(Duration::from_millis(250)), "250 ms");
        assert_eq!(delay_text(Duration::from_secs(2)), "2 s");
        assert_eq!(delay_text(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn text_keys_tell_different_texts_apart() {
        assert_eq!(text_key(b"{\"a\":1}"), text_key(b"{\"a\":1}"));
        assert_ne!(text_key(b"{\"a\":1}"), text_key(b"{\"a\":2}"));
        assert_ne!(text_key(b""), NO_DEDUP);
    }
}
