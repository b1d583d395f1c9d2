//! What the ingestion endpoint decides about one request, as Amplitude's HTTP V2 and Batch
//! APIs document it: which events are accepted, what the answer is, and the capture
//! lines to write. Pure and synchronous (no I/O, no clock: the receive time is passed
//! in), so the server around it is a thin shell and every rule is tested here.
//!
//! # Rules, in order
//!
//! 1. Body over the endpoint's limit (1 MB for `/2/httpapi` and `/`, 20 MB for
//!    `/batch`): **413** `Payload too large` (checked by the server before it reads more).
//! 2. Not UTF-8, not JSON, or not a JSON object: **400** `Invalid JSON request body`.
//! 3. No non-empty string `api_key` (`client` in the legacy form): **400**
//!    `missing_field: "api_key"`. With an allow-list (`--api-key`), another key:
//!    **400** `Invalid API key: …` (the SDKs drop the batch on that prefix; the key itself
//!    is never echoed or logged).
//! 4. No `events` array (or an empty one): **400** `missing_field: "events"`.
//!    More than 2000 events: **413**.
//! 5. Each event, by index:
//!    - not an object: `events_with_invalid_fields.event`;
//!    - `event_type` absent, null or empty: `events_with_missing_fields.event_type`;
//!      not a string: `events_with_invalid_fields.event_type`;
//!    - neither `user_id` nor `device_id` a non-empty string:
//!      `events_with_missing_fields.device_id` (Amplitude: "device_id is required unless
//!      user_id is present"); either one present but not a string:
//!      `events_with_invalid_fields.<field>`;
//!    - `time` present but not a time the decoder accepts (an integer, a numeric string or
//!      an ISO 8601 date-time of `SESSION-MODEL.md` §1); `session_id` present but not an
//!      integer; `insert_id` not a string;
//!      `event_properties`, `user_properties`, `groups`, `group_properties` not an
//!      object: `events_with_invalid_fields.<field>`;
//!    - a `user_id` or `device_id` shorter than `options.min_id_length` (default 5, or
//!      `--min-id-length`): `events_with_invalid_id_lengths.<field>`;
//!    - then the event's capture line must be accepted by the decoder that reads the
//!      capture back ([`crate::decode::Decoder`], the session model's rejection rules):
//!      one it would reject is listed under the field that decided (a time field that is
//!      not an accepted form, such as `time: 99999999999999999999` or a bad
//!      `client_event_time` next to a valid `time`: `events_with_invalid_fields.<field>`)
//!      and not acknowledged. One rule for the answer and the decoder, so nothing
//!      acknowledged is invisible afterwards.
//!
//!    Any listed event makes the answer **400** with those index lists (only the
//!    non-empty ones); the valid events of the request are **kept**, as Amplitude does
//!    and the SDKs expect (they drop the listed events and resend the rest, which the
//!    endpoint then recognises by [`Dedup`]: `device_id` and `insert_id` within 7 days).
//!    Otherwise **200**
//!    `{code, events_ingested, payload_size_bytes, server_upload_time}`.
//!
//! # Capture lines
//!
//! Each accepted event becomes one NDJSON line: its JSON text exactly as sent (line
//! breaks between tokens become spaces), plus `"server_received_time"` in the Export
//! format (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC), plus `"time"` = the receive time when the
//! event had none (Amplitude uses the upload time then). The capture is therefore a plain
//! event stream that `streamscope` and `report` read like any other.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;

use crate::decode::{Batch, Decoder, Origin, RejectReason};
use crate::json::{Kind, Scanner, Span, unescape};

/// The ingestion endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /2/httpapi`: the HTTP V2 API.
    HttpApi,
    /// `POST /batch`: the Batch API (same body, larger limit).
    Batch,
    /// `POST /`: the legacy form-encoded body (`client`, `e`, `v`, `upload_time`, `checksum`).
    Form,
}

impl Endpoint {
    /// The endpoint served at `path`, if any.
    #[must_use]
    pub fn from_path(path: &str) -> Option<Self> {
        match path.trim_end_matches('/') {
            "/2/httpapi" => Some(Self::HttpApi),
            "/batch" => Some(Self::Batch),
            "" => Some(Self::Form),
            _ => None,
        }
    }

    /// Largest accepted request body, in bytes (after gzip).
    #[must_use]
    pub fn max_bytes(self) -> usize {
        match self {
            Self::HttpApi | Self::Form => 1_000_000,
            Self::Batch => 20_000_000,
        }
    }
}

/// Most events in one request.
pub const MAX_EVENTS: usize = 2000;

/// The endpoint's settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Shortest accepted id when a request does not set `options.min_id_length`.
    pub min_id_length: usize,
    /// Accepted API keys; empty accepts any.
    pub api_keys: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            min_id_length: 5,
            api_keys: Vec::new(),
        }
    }
}

/// The JSON answer, shaped as Amplitude documents it (absent fields are omitted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The status; SDKs read it from here, not from the HTTP status line.
    pub code: u16,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A missing top-level field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_field: Option<&'static str>,
    /// Field → indexes of events whose field has an invalid value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub events_with_invalid_fields: BTreeMap<&'static str, Vec<usize>>,
    /// Field → indexes of events missing a required field.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub events_with_missing_fields: BTreeMap<&'static str, Vec<usize>>,
    /// Field → indexes of events whose id is shorter than `min_id_length`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub events_with_invalid_id_lengths: BTreeMap<&'static str, Vec<usize>>,
    /// Events accepted (200 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_ingested: Option<usize>,
    /// Request body size (200 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_size_bytes: Option<usize>,
    /// When the request was received, epoch ms (200 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_upload_time: Option<i64>,
}

impl Answer {
    /// An error answer with just a code and a message.
    #[must_use]
    pub fn error(code: u16, error: impl Into<String>) -> Self {
        Self {
            code,
            error: Some(error.into()),
            ..Self::default()
        }
    }

    /// The answer as JSON text.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"code\":{}}}", self.code))
    }
}

/// One accepted event's capture line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line's bytes in [`Outcome::capture`], newline included.
    pub range: Range<usize>,
    /// Its deduplication key and event time, when it has a dedup key (see [`Dedup`]).
    pub dedup: Option<Dedup>,
}

/// What the endpoint deduplicates an event by, as the session model's duplicate rule and
/// Amplitude's HTTP API do: the same `device_id` (absent counts as one more value) and the
/// same dedup key (the decoder's: the first present of `insert_id`, `$insert_id`, …), at
/// most [`DEDUP_WINDOW_MS`] apart in event time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dedup {
    /// [`dedup_key`] of the device id and the decoder's dedup key.
    pub key: u128,
    /// The event time the model reads (ms).
    pub time: i64,
}

/// Two events with one [`Dedup::key`] at most this far apart (inclusive) are one event
/// sent twice: 7 days, as Amplitude documents and the session model flags.
pub const DEDUP_WINDOW_MS: i64 = 604_800_000;

/// One 128-bit key for (`device_id`, the decoder's dedup key). The device's text comes
/// first and the key's 16 bytes last, so no two pairs give the same hashed bytes.
#[must_use]
pub fn dedup_key(device_id: &str, dedup: u64) -> u128 {
    let mut bytes = Vec::with_capacity(device_id.len() + 8);
    bytes.extend_from_slice(device_id.as_bytes());
    bytes.extend_from_slice(&dedup.to_le_bytes());
    xxhash_rust::xxh3::xxh3_128(&bytes)
}

/// What was decided about a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The answer to send.
    pub answer: Answer,
    /// Events in the request (0 when it could not be read that far).
    pub events: usize,
    /// Capture lines of the accepted events, in request order.
    pub capture: Vec<u8>,
    /// Where each accepted event's line is in `capture`.
    pub lines: Vec<Line>,
    /// Each problem in a sentence, for logs and the rejected-requests view.
    pub reasons: Vec<String>,
}

impl Outcome {
    fn reject(answer: Answer, reason: impl Into<String>) -> Self {
        Self {
            answer,
            reasons: vec![reason.into()],
            ..Self::default()
        }
    }

    /// Events accepted.
    #[must_use]
    pub fn accepted(&self) -> usize {
        self.lines.len()
    }

    /// The answer's status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.answer.code
    }
}

/// The 413 answer.
#[must_use]
pub fn too_large(what: &str) -> Outcome {
    Outcome::reject(
        Answer::error(413, "Payload too large"),
        format!("payload too large: {what}"),
    )
}

/// Decides about a request body (already un-gzipped) received at `now_ms`.
#[must_use]
pub fn check(body: &[u8], endpoint: Endpoint, settings: &Settings, now_ms: i64) -> Outcome {
    if body.len() > endpoint.max_bytes() {
        return too_large(&format!(
            "{} bytes, over the {} byte limit",
            body.len(),
            endpoint.max_bytes()
        ));
    }
    match endpoint {
        Endpoint::HttpApi | Endpoint::Batch => check_json(body, settings, now_ms),
        Endpoint::Form => check_form(body, settings, now_ms),
    }
}

fn invalid_json(why: &str) -> Outcome {
    Outcome::reject(
        Answer::error(400, "Invalid JSON request body"),
        format!("invalid JSON request body: {why}"),
    )
}

fn missing(field: &'static str, why: &str) -> Outcome {
    Outcome::reject(
        Answer {
            code: 400,
            error: Some("Request missing required field".into()),
            missing_field: Some(field),
            ..Answer::default()
        },
        why.to_string(),
    )
}

fn check_key(key: &str, settings: &Settings) -> Option<Outcome> {
    if key.is_empty() {
        return Some(missing("api_key", "no api_key in the request"));
    }
    if settings.api_keys.is_empty() || settings.api_keys.iter().any(|k| k == key) {
        return None;
    }
    Some(Outcome::reject(
        Answer::error(
            400,
            "Invalid API key: not one of the keys this endpoint accepts (--api-key)",
        ),
        format!(
            "invalid API key (one of {} chars, not in the --api-key list)",
            key.chars().count()
        ),
    ))
}

fn check_json(body: &[u8], settings: &Settings, now_ms: i64) -> Outcome {
    let Ok(text) = std::str::from_utf8(body) else {
        return invalid_json("not UTF-8");
    };
    let buf = text.as_bytes();
    let mut scanner = Scanner::new(buf);
    scanner.skip_ws();
    if scanner.peek() != Some(b'{') {
        return match crate::json::validate(buf) {
            Ok(span) => invalid_json(&format!("the body is {}, not an object", span.kind.name())),
            Err(e) => invalid_json(&e.to_string()),
        };
    }
    let mut api_key = None;
    let mut events = None;
    let mut options = None;
    let scanned = scanner.object(|key, _, value| match key {
        b"api_key" => api_key = Some(value),
        b"events" => events = Some(value),
        b"options" => options = Some(value),
        _ => {}
    });
    if let Err(e) = scanned.and_then(|_| {
        scanner.skip_ws();
        if scanner.at_end() {
            Ok(())
        } else {
            Err(crate::json::ScanError {
                offset: scanner.pos(),
                reason: "unexpected data after the JSON value",
            })
        }
    }) {
        return invalid_json(&e.to_string());
    }
    let mut scratch = String::new();
    let key = match api_key {
        Some(s) if matches!(s.kind, Kind::String { .. }) => string(buf, s, &mut scratch),
        _ => return missing("api_key", "no api_key string in the request"),
    };
    if let Some(rejected) = check_key(&key, settings) {
        return rejected;
    }
    let min_id_length = options
        .and_then(|o| min_id_length(buf, o))
        .unwrap_or(settings.min_id_length);
    let Some(events) = events.filter(|e| e.kind == Kind::Array) else {
        return missing("events", "no events array in the request");
    };
    let mut spans = Vec::new();
    // Already validated by the object scan; this only lists the elements.
    let _ = Scanner::at(&buf[..events.end], events.start).array(|_, s| spans.push(s));
    check_events(buf, &spans, min_id_length, now_ms)
}

/// The legacy form body: `client` = api key, `e` = the events as a JSON array (or one
/// event object).
fn check_form(body: &[u8], settings: &Settings, now_ms: i64) -> Outcome {
    let mut client = None;
    let mut e = None;
    for (k, v) in form_urlencoded::parse(body) {
        match &*k {
            "client" => client = Some(v.into_owned()),
            "e" => e = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some(key) = client else {
        return missing("api_key", "no 'client' (api key) in the form body");
    };
    if let Some(rejected) = check_key(&key, settings) {
        return rejected;
    }
    let Some(e) = e else {
        return missing("events", "no 'e' (events) in the form body");
    };
    let buf = e.as_bytes();
    let span = match crate::json::validate(buf) {
        Ok(span) => span,
        Err(err) => return invalid_json(&format!("'e' is not JSON: {err}")),
    };
    let spans = match span.kind {
        Kind::Array => {
            let mut spans = Vec::new();
            let _ = Scanner::at(buf, span.start).array(|_, s| spans.push(s));
            spans
        }
        Kind::Object => vec![span],
        other => return invalid_json(&format!("'e' is {}, not events", other.name())),
    };
    // The minimum id length is an HTTP V2 rule: the legacy endpoint does not apply it.
    let mut outcome = check_events(buf, &spans, 0, now_ms);
    if outcome.status() != 200 {
        // amplitude-js ignores a 400's index lists and resends the whole batch, so a form
        // batch is accepted or refused whole: keeping part of it would store that part
        // again with every resend.
        outcome.capture.clear();
        outcome.lines.clear();
    }
    outcome
}

fn min_id_length(buf: &[u8], options: Span) -> Option<usize> {
    if options.kind != Kind::Object {
        return None;
    }
    let mut found = None;
    let _ = Scanner::at(&buf[..options.end], options.start).object(|k, _, v| {
        if k == b"min_id_length" && v.kind == (Kind::Number { int: true }) {
            found = std::str::from_utf8(v.bytes(buf))
                .ok()
                .and_then(|t| t.parse().ok());
        }
    });
    found
}

fn string(buf: &[u8], span: Span, scratch: &mut String) -> String {
    match span.kind {
        Kind::String { escaped: true } => {
            unescape(span.bytes(buf), scratch);
            scratch.clone()
        }
        _ => String::from_utf8_lossy(span.bytes(buf)).into_owned(),
    }
}

#[derive(Default)]
struct Lists {
    invalid: BTreeMap<&'static str, Vec<usize>>,
    missing: BTreeMap<&'static str, Vec<usize>>,
    id_length: BTreeMap<&'static str, Vec<usize>>,
}

/// The fields an event is checked on.
#[derive(Default)]
struct EventFields {
    event_type: Option<Span>,
    user_id: Option<Span>,
    device_id: Option<Span>,
    time: Option<Span>,
    /// The contract's other time fields (`client_event_time`, `timestamp`, `event_time`):
    /// an event with one of them gets no receive time.
    other_time: Option<Span>,
    session_id: Option<Span>,
    insert_id: Option<Span>,
    objects: [Option<Span>; 4],
}

const OBJECT_FIELDS: [&str; 4] = [
    "event_properties",
    "user_properties",
    "groups",
    "group_properties",
];

fn check_events(buf: &[u8], spans: &[Span], min_id_length: usize, now_ms: i64) -> Outcome {
    if spans.is_empty() {
        return missing("events", "the events array is empty");
    }
    if spans.len() > MAX_EVENTS {
        let mut o = too_large(&format!(
            "{} events, over the {MAX_EVENTS} event limit",
            spans.len()
        ));
        o.events = spans.len();
        return o;
    }
    let received = received_time(now_ms);
    let mut lists = Lists::default();
    let mut out = Outcome {
        events: spans.len(),
        ..Outcome::default()
    };
    let mut scratch = String::new();
    let mut key = String::new();
    let mut decoder = Decoder::new(false);
    let origin = Origin {
        loc: crate::event::Location::default(),
        segment: 0,
        offset: 0,
    };
    for (i, &span) in spans.iter().enumerate() {
        if span.kind != Kind::Object {
            lists.invalid.entry("event").or_default().push(i);
            continue;
        }
        let mut f = EventFields::default();
        let _ = Scanner::at(&buf[..span.end], span.start).object(|k, escaped, v| {
            // Escaped keys are read as the decoder reads them (`"\u0074ime"` is `time`).
            let k = if escaped {
                unescape(k, &mut key);
                key.as_bytes()
            } else {
                k
            };
            let slot = match k {
                b"event_type" => &mut f.event_type,
                b"user_id" => &mut f.user_id,
                b"device_id" => &mut f.device_id,
                b"time" => &mut f.time,
                b"client_event_time" | b"timestamp" | b"event_time" => &mut f.other_time,
                b"session_id" => &mut f.session_id,
                b"insert_id" => &mut f.insert_id,
                b"event_properties" => &mut f.objects[0],
                b"user_properties" => &mut f.objects[1],
                b"groups" => &mut f.objects[2],
                b"group_properties" => &mut f.objects[3],
                _ => return,
            };
            *slot = Some(v).filter(|v| v.kind != Kind::Null);
        });
        let before = lists.count();
        check_event(buf, i, &f, min_id_length, &mut lists, &mut scratch);
        if lists.count() > before {
            continue;
        }
        let start = out.capture.len();
        capture_line(
            &mut out.capture,
            &buf[span.start..span.end],
            &received,
            // The receive time only when none of the contract's time fields is present:
            // the legacy SDK sends its time in `timestamp`, which `time` would override.
            (f.time.is_none() && f.other_time.is_none()).then_some(now_ms),
        );
        // The one rule: the line is acknowledged only if the decoder that reads the
        // capture back (resume, the inspector, `report`) accepts it.
        let mut batch = Batch::default();
        let line_end = out.capture.len() - 1;
        decoder.line(&mut batch, &out.capture[start..line_end], &origin);
        let Some(rec) = batch.events.first() else {
            out.capture.truncate(start);
            let (list, field) = match batch.rejects.first().map(|r| &r.reason) {
                Some(RejectReason::BadTime { field, .. }) => (&mut lists.invalid, *field),
                Some(RejectReason::NoTime) => (&mut lists.missing, "time"),
                Some(RejectReason::NoIdentity) => (&mut lists.missing, "device_id"),
                Some(RejectReason::EventType { .. }) => (&mut lists.invalid, "event_type"),
                _ => (&mut lists.invalid, "event"),
            };
            list.entry(field).or_default().push(i);
            continue;
        };
        let dedup = rec.dedup_key().map(|k| {
            let device = match f.device_id {
                Some(s) if matches!(s.kind, Kind::String { .. }) && s.end > s.start => {
                    string(buf, s, &mut scratch)
                }
                _ => String::new(),
            };
            Dedup {
                key: dedup_key(&device, k),
                time: rec.time,
            }
        });
        out.lines.push(Line {
            range: start..out.capture.len(),
            dedup,
        });
    }
    lists.into_outcome(out, buf.len(), now_ms)
}

impl Lists {
    fn count(&self) -> usize {
        [&self.invalid, &self.missing, &self.id_length]
            .iter()
            .map(|m| m.values().map(Vec::len).sum::<usize>())
            .sum()
    }

    fn into_outcome(self, mut out: Outcome, payload: usize, now_ms: i64) -> Outcome {
        let describe = |what: &str, map: &BTreeMap<&'static str, Vec<usize>>| {
            map.iter()
                .map(|(field, idx)| format!("{what} '{field}': events {}", indexes(idx)))
                .collect::<Vec<_>>()
        };
        out.reasons.extend(describe("missing", &self.missing));
        out.reasons.extend(describe("invalid", &self.invalid));
        out.reasons.extend(describe(
            "id shorter than min_id_length in",
            &self.id_length,
        ));
        if out.reasons.is_empty() {
            out.answer = Answer {
                code: 200,
                events_ingested: Some(out.lines.len()),
                payload_size_bytes: Some(payload),
                server_upload_time: Some(now_ms),
                ..Answer::default()
            };
            return out;
        }
        let error = if !self.missing.is_empty() {
            "Request missing required field"
        } else if !self.invalid.is_empty() {
            "Invalid field values on some events"
        } else {
            "Invalid id length for user_id or device_id"
        };
        out.answer = Answer {
            code: 400,
            error: Some(error.into()),
            events_with_invalid_fields: self.invalid,
            events_with_missing_fields: self.missing,
            events_with_invalid_id_lengths: self.id_length,
            ..Answer::default()
        };
        out
    }
}

/// `[0, 3, 4]` for messages (at most 20 listed).
fn indexes(idx: &[usize]) -> String {
    let mut s: Vec<String> = idx.iter().take(20).map(ToString::to_string).collect();
    if idx.len() > 20 {
        s.push(format!("… ({} in all)", idx.len()));
    }
    format!("[{}]", s.join(", "))
}

fn check_event(
    buf: &[u8],
    i: usize,
    f: &EventFields,
    min_id_length: usize,
    lists: &mut Lists,
    scratch: &mut String,
) {
    let is_string = |s: Span| matches!(s.kind, Kind::String { .. });
    let is_int = |s: Span| s.kind == (Kind::Number { int: true });
    match f.event_type {
        None => lists.missing.entry("event_type").or_default().push(i),
        Some(s) if !is_string(s) => lists.invalid.entry("event_type").or_default().push(i),
        Some(s) if s.end == s.start => lists.missing.entry("event_type").or_default().push(i),
        Some(_) => {}
    }
    let mut identified = false;
    for (name, span) in [("user_id", f.user_id), ("device_id", f.device_id)] {
        let Some(s) = span else { continue };
        if !is_string(s) {
            lists.invalid.entry(name).or_default().push(i);
            identified = true; // invalid, not missing
            continue;
        }
        if s.end == s.start {
            continue;
        }
        identified = true;
        if string(buf, s, scratch).chars().count() < min_id_length {
            lists.id_length.entry(name).or_default().push(i);
        }
    }
    if !identified {
        lists.missing.entry("device_id").or_default().push(i);
    }
    // Times as the decoder accepts them (§1), so that what the endpoint keeps loads.
    if f.time
        .is_some_and(|s| crate::decode::time_value(buf, s, scratch).is_none())
    {
        lists.invalid.entry("time").or_default().push(i);
    }
    if f.session_id.is_some_and(|s| !is_int(s)) {
        lists.invalid.entry("session_id").or_default().push(i);
    }
    if f.insert_id.is_some_and(|s| !is_string(s)) {
        lists.invalid.entry("insert_id").or_default().push(i);
    }
    for (name, span) in OBJECT_FIELDS.iter().zip(f.objects) {
        if span.is_some_and(|s| s.kind != Kind::Object) {
            lists.invalid.entry(name).or_default().push(i);
        }
    }
}

/// A request body with its API keys hidden, to keep rejected requests for display.
///
/// It does not parse the body (a body that is rejected is often one that does not parse):
/// it looks for every place a field named `api_key` or `client` (ASCII case-insensitive)
/// is given a value, in any form the name can be written in: plain, with JSON escapes
/// (`api\u005fkey`), percent-encoded (`cli%65nt`), both (`%5Cu0061pi_key`), quoted or not,
/// followed by `:` or `=` (or their encodings), in a JSON body, a form body, a JSON text
/// inside a form field or a JSON string, before or after broken syntax, once or many
/// times. Each value is hidden up to its closing quote (or, unquoted, up to the next `&`,
/// `,`, `}`, `]`, white space or the end). A key of 16 characters or more keeps its first 4
/// (when they are plain letters or digits) so that the user can tell keys apart; a shorter
/// one is hidden whole. A field that is not an API key but has one of these names is hidden
/// too: hiding too much is the safe side.
#[must_use]
pub fn redact_api_key(body: &[u8]) -> Vec<u8> {
    const NAMES: [&[u8]; 2] = [b"api_key", b"client"];
    let mut out = Vec::with_capacity(body.len());
    let mut copied = 0;
    let mut i = 0;
    while i < body.len() {
        let value = NAMES
            .iter()
            .find_map(|name| match_name(body, i, name))
            .and_then(|end| key_value(body, end));
        match value {
            Some(v) => {
                out.extend_from_slice(&body[copied..v.start]);
                hide_key(&mut out, &body[v.clone()]);
                copied = v.end;
                i = v.end.max(i + 1);
            }
            None => i += 1,
        }
    }
    out.extend_from_slice(&body[copied..]);
    out
}

/// One character of a body as any layer of encoding reads it: the byte, how many bytes
/// it takes, and whether it came through a JSON backslash escape (an escaped quote does
/// not end a string).
#[derive(Clone, Copy)]
struct Logical {
    byte: u8,
    len: usize,
    escaped: bool,
}

/// The byte at `i` after percent-decoding (`+` is a space in a form).
fn percent(body: &[u8], i: usize) -> Option<(u8, usize)> {
    let b = *body.get(i)?;
    if b == b'%'
        && let (Some(h), Some(l)) = (
            body.get(i + 1).and_then(|&c| hex_digit(c)),
            body.get(i + 2).and_then(|&c| hex_digit(c)),
        )
    {
        return Some(((h << 4) | l, 3));
    }
    Some((if b == b'+' { b' ' } else { b }, 1))
}

fn hex_digit(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// The logical character at `i`: percent-decoding, then JSON escapes (`\uXXXX`, `\"`, …),
/// each layer possibly encoding the other. Non-ASCII `\u` escapes read as 0x80 (never
/// part of a name or a delimiter).
fn logical(body: &[u8], i: usize) -> Option<Logical> {
    let (b, n) = percent(body, i)?;
    if b != b'\\' {
        return Some(Logical {
            byte: b,
            len: n,
            escaped: false,
        });
    }
    let plain = Logical {
        byte: b,
        len: n,
        escaped: false,
    };
    let Some((e, m)) = percent(body, i + n) else {
        return Some(plain);
    };
    if e != b'u' {
        return Some(Logical {
            byte: e,
            len: n + m,
            escaped: true,
        });
    }
    let mut j = i + n + m;
    let mut code = 0u32;
    for _ in 0..4 {
        let Some((d, k)) = percent(body, j) else {
            return Some(plain);
        };
        let Some(d) = hex_digit(d) else {
            return Some(plain);
        };
        code = code * 16 + u32::from(d);
        j += k;
    }
    Some(Logical {
        byte: u8::try_from(code).ok().filter(u8::is_ascii).unwrap_or(0x80),
        len: j - i,
        escaped: true,
    })
}

/// Where `name` ends when it is written (in any encoding) at `i`.
fn match_name(body: &[u8], i: usize, name: &[u8]) -> Option<usize> {
    let mut j = i;
    for &want in name {
        let c = logical(body, j)?;
        if !c.byte.eq_ignore_ascii_case(&want) {
            return None;
        }
        j += c.len;
    }
    Some(j)
}

/// The value given to a name that ends at `i`: an optional closing quote, `:` or `=`,
/// then the value's bytes (without its quotes).
fn key_value(body: &[u8], mut i: usize) -> Option<Range<usize>> {
    let skip_space = |i: &mut usize| {
        while let Some(c) = logical(body, *i)
            && c.byte.is_ascii_whitespace()
        {
            *i += c.len;
        }
    };
    if let Some(c) = logical(body, i)
        && matches!(c.byte, b'"' | b'\'')
    {
        i += c.len;
    }
    skip_space(&mut i);
    let sep = logical(body, i)?;
    if !matches!(sep.byte, b':' | b'=') {
        return None;
    }
    i += sep.len;
    skip_space(&mut i);
    let Some(open) = logical(body, i).filter(|c| matches!(c.byte, b'"' | b'\'')) else {
        // Unquoted: up to a delimiter.
        let start = i;
        while let Some(c) = logical(body, i) {
            if matches!(c.byte, b'&' | b',' | b'}' | b']' | b'"' | b'\'')
                || c.byte.is_ascii_whitespace()
            {
                break;
            }
            i += c.len;
        }
        return (i > start).then_some(start..i);
    };
    i += open.len;
    let start = i;
    while let Some(c) = logical(body, i) {
        if c.byte == open.byte && c.escaped == open.escaped {
            break;
        }
        i += c.len;
    }
    Some(start..i)
}

/// Writes a hidden key: its first 4 characters when it has 16 or more and they are plain
/// letters or digits, then `…`.
fn hide_key(out: &mut Vec<u8>, key: &[u8]) {
    if key.len() >= 16 && key[..4].iter().all(u8::is_ascii_alphanumeric) {
        out.extend_from_slice(&key[..4]);
    }
    out.extend_from_slice("…".as_bytes());
}

/// `now_ms` in the Export format: `2026-11-23 20:00:00.123000`.
#[must_use]
pub fn received_time(now_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

/// Appends an event object's text as one line, with the receive time (and `time` when
/// it had no time field of the contract) added before its closing brace.
fn capture_line(out: &mut Vec<u8>, event: &[u8], received: &str, time: Option<i64>) {
    use std::io::Write as _;
    // JSON strings cannot hold raw line breaks, so any CR/LF is whitespace between tokens.
    let body = event.strip_suffix(b"}").unwrap_or(event);
    out.extend(
        body.iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
    );
    let _ = write!(out, ",\"server_received_time\":\"{received}\"");
    if let Some(t) = time {
        let _ = write!(out, ",\"time\":{t}");
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests;
