//! Records → compact events: the rejection rules and field forms of `SESSION-MODEL.md` §1.
//!
//! Pure and synchronous. A [`Batch`] collects the events of one piece of input (a chunk of
//! NDJSON lines, one request body, one array) with its own string table, so that decoders
//! on several threads never share state; [`crate::store::EventStore::append`] merges it.
//!
//! Choices where the contract is silent (documented in README.md too):
//! - a time given as a JSON number must be an integer literal (`1.5e12` is rejected);
//! - the dedup key is the first of `insert_id`, `$insert_id` that is a non-empty string
//!   (as for identity fields, other forms count as absent);
//! - an integer `amplitude_id` and the string of the same digits are the same id;
//! - when a key occurs twice in one object, the last occurrence wins (as in JavaScript);
//! - a request body's `events` elements are decoded as events; the body's other keys
//!   (`api_key`, `userData`, …) are not inherited by them;
//! - a line that is a legacy amplitude-js body, url-encoded (`client=…&e=[…]`) or as a JSON
//!   object with `client` and `e` (an array of events, or their JSON text), is decoded
//!   through its `e`; an Airbyte `RECORD` message through its `record.data`;
//! - an integer time of ten digits looks like epoch seconds: it is kept (as ms) and
//!   counted in [`Batch::epoch_seconds`] for the loader's warning;
//! - a record over the record-size limit is rejected unread ([`RejectReason::TooLarge`],
//!   counted as invalid JSON).

pub mod time;

use std::fmt;
use std::ops::{AddAssign, Index, IndexMut};

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::event::{
    EventRec, FarSessions, Ids, Location, NO_DEDUP, NO_SESSION_ID, PropsTable, RawLoc, Step,
    Strings, Sym,
};
use crate::json::{self, KeyMemo, Kind, ScanError, Scanner, Span};
use time::DayMemo;

/// Why a record was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The bytes are not UTF-8 (so not JSON).
    InvalidUtf8 {
        /// Byte offset of the first invalid byte in the record.
        offset: usize,
    },
    /// The text is not one valid JSON value.
    InvalidJson(ScanError),
    /// The value is valid JSON but not an object.
    NotObject {
        /// What was found instead, e.g. "an array".
        found: &'static str,
    },
    /// No non-empty string `event_type`.
    EventType {
        /// What it was instead: "missing", "null", "an empty string", "a number", …
        found: &'static str,
    },
    /// None of `user_id`, `device_id`, `amplitude_id` is present.
    NoIdentity,
    /// None of the time fields is present.
    NoTime,
    /// The record is over the record-size limit: it was skipped without being read whole.
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The first present time field is not an accepted form.
    BadTime {
        /// The field that decided.
        field: &'static str,
        /// Its JSON text, shortened.
        value: Box<str>,
    },
}

impl RejectReason {
    /// A stable snake_case code for JSON output and counting.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The kind of rejection, without its details: what rejects are counted by.
    #[must_use]
    pub fn kind(&self) -> RejectKind {
        match self {
            // Not read, so not known to be JSON: counted with the invalid JSON.
            RejectReason::InvalidUtf8 { .. }
            | RejectReason::InvalidJson(_)
            | RejectReason::TooLarge { .. } => RejectKind::InvalidJson,
            RejectReason::NotObject { .. } => RejectKind::NotObject,
            RejectReason::EventType { .. } => RejectKind::MissingEventType,
            RejectReason::NoIdentity => RejectKind::MissingIdentity,
            RejectReason::NoTime => RejectKind::MissingTime,
            RejectReason::BadTime { .. } => RejectKind::InvalidTime,
        }
    }
}

/// The kinds of [`RejectReason`], one per rejection rule, with the codes they are counted
/// and reported under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectKind {
    /// Not UTF-8, or not one valid JSON value.
    InvalidJson,
    /// Not an object.
    NotObject,
    /// No non-empty string `event_type`.
    MissingEventType,
    /// No identity field.
    MissingIdentity,
    /// No time field.
    MissingTime,
    /// The deciding time field is not an accepted form.
    InvalidTime,
}

impl RejectKind {
    /// Every kind, in the order of the rejection rules.
    pub const ALL: [RejectKind; 6] = [
        RejectKind::InvalidJson,
        RejectKind::NotObject,
        RejectKind::MissingEventType,
        RejectKind::MissingIdentity,
        RejectKind::MissingTime,
        RejectKind::InvalidTime,
    ];

    /// How many kinds there are.
    pub const COUNT: usize = RejectKind::ALL.len();

    /// The stable snake_case code of the kind, for JSON output.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            RejectKind::InvalidJson => "invalid_json",
            RejectKind::NotObject => "not_object",
            RejectKind::MissingEventType => "missing_event_type",
            RejectKind::MissingIdentity => "missing_identity",
            RejectKind::MissingTime => "missing_time",
            RejectKind::InvalidTime => "invalid_time",
        }
    }
}

/// Rejected records per [`RejectKind`], indexed by it. Serialises as a JSON object of the
/// codes in alphabetical order (as `rejected_by_reason` has always been written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RejectCounts([u64; RejectKind::COUNT]);

impl RejectCounts {
    /// All rejected records.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Each kind with its count, in the order of the rejection rules.
    pub fn iter(&self) -> impl Iterator<Item = (RejectKind, u64)> + '_ {
        RejectKind::ALL.into_iter().zip(self.0)
    }
}

impl Index<RejectKind> for RejectCounts {
    type Output = u64;

    fn index(&self, kind: RejectKind) -> &u64 {
        &self.0[kind as usize]
    }
}

impl IndexMut<RejectKind> for RejectCounts {
    fn index_mut(&mut self, kind: RejectKind) -> &mut u64 {
        &mut self.0[kind as usize]
    }
}

impl AddAssign<&RejectCounts> for RejectCounts {
    fn add_assign(&mut self, other: &RejectCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

impl Serialize for RejectCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut kinds = RejectKind::ALL;
        kinds.sort_unstable_by_key(|k| k.code());
        let mut map = serializer.serialize_map(Some(RejectKind::COUNT))?;
        for kind in kinds {
            map.serialize_entry(kind.code(), &self[kind])?;
        }
        map.end()
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::InvalidUtf8 { offset } => {
                write!(f, "not valid JSON: invalid UTF-8 at byte {}", offset + 1)
            }
            RejectReason::InvalidJson(e) => write!(f, "not valid JSON: {e}"),
            RejectReason::TooLarge { size, limit } => write!(
                f,
                "not read: the record is {size} bytes, over the record-size limit of {limit} bytes (--max-record-size)"
            ),
            RejectReason::NotObject { found } => {
                write!(f, "not an event object (found {found})")
            }
            RejectReason::EventType { found } => {
                write!(f, "no non-empty string 'event_type' (it is {found})")
            }
            RejectReason::NoIdentity => write!(
                f,
                "no identity: none of 'user_id', 'device_id', 'amplitude_id' is present"
            ),
            RejectReason::NoTime => write!(
                f,
                "no event time: none of 'client_event_time', 'time', 'timestamp', 'event_time' is present"
            ),
            RejectReason::BadTime { field, value } => write!(
                f,
                "'{field}' is {value}, not a time (integer ms, numeric string or \
                 ISO 8601 date-time like '2025-02-01 19:42:58.123 UTC')"
            ),
        }
    }
}

/// A rejected record: where it was and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// Where the record was.
    pub loc: Location,
    /// Why it was rejected.
    pub reason: RejectReason,
}

/// An accepted event whose `session_id` had an unusable form (so it counts as out of session).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Where the event was.
    pub loc: Location,
    /// The `session_id` JSON text, shortened.
    pub value: Box<str>,
}

/// How many rejects and warnings a batch keeps in full (all are counted).
pub const KEEP_DETAILS: usize = 1000;

/// The strings a batch's events refer to that the store has not seen from this decoder.
///
/// A [`Decoder`] keeps one string table for its whole life; each batch carries only the
/// strings added since the decoder's previous batch. The store keeps one remap table per
/// decoder (`table`), extends it with `new` and maps event symbols through it, so a
/// string is interned into the store once per decoder rather than once per batch.
#[derive(Default, Debug)]
pub struct Dict {
    /// Which decoder's table the symbols are in.
    pub table: u32,
    /// The decoder-local symbol of `new[0]`.
    pub base: u32,
    /// Strings with local symbols `base..`, in order.
    pub new: Vec<Box<str>>,
    /// The decoder-local number of `props[0]` ([`EventRec::user_props`]).
    pub props_base: u32,
    /// The value hashes of `user_properties` numbers `props_base..`, in order.
    pub props: Vec<u64>,
    /// The decoder-local number of `ids[0]` ([`EventRec::ids`]).
    pub ids_base: u32,
    /// The ids of local numbers `ids_base..`, in order (local symbols).
    pub ids: Vec<Ids>,
}

impl Dict {
    /// The text of a local symbol carried by this batch (tests and diagnostics).
    #[must_use]
    pub fn get(&self, sym: Sym) -> Option<&str> {
        let i = sym.0.checked_sub(self.base)? as usize;
        self.new.get(i).map(|s| &**s)
    }
}

/// The decoded events of one piece of input (symbols local to their [`Decoder`]).
#[derive(Default, Debug)]
pub struct Batch {
    /// The strings and `user_properties` values new in this batch; see [`Dict`]. Boxed:
    /// batches travel in [`crate::store::LoadEvent`]s, which stay small.
    pub dict: Box<Dict>,
    /// Accepted events, in input order.
    pub events: Vec<EventRec>,
    /// The session ids of its events too far from their times for the records to hold
    /// (numbered for this batch; the store numbers them again). Boxed, as [`Batch::dict`].
    pub far_sessions: Box<FarSessions>,
    /// Where each event's raw text is (parallel to `events`), when raw locations are kept.
    pub raw: Vec<RawLoc>,
    /// Without raw locations: for each `user_properties` value new to the decoder, its
    /// decoder-local number ([`EventRec::props_id`]) and where one event carrying it is.
    /// The store keeps one example per value, so that the properties behind an
    /// `end_props_changed` flag can be read back without a location per event.
    pub props_examples: Vec<(u32, RawLoc)>,
    /// Rejected records, the first [`KEEP_DETAILS`] of them.
    pub rejects: Vec<Reject>,
    /// Rejected records per kind.
    pub reject_counts: RejectCounts,
    /// Session-id warnings, the first [`KEEP_DETAILS`] of them.
    pub warnings: Vec<Warning>,
    /// All session-id warnings.
    pub warning_count: u64,
    /// Accepted events whose time looks like epoch seconds (see [`looks_like_seconds`]).
    pub epoch_seconds: u64,
    /// The first of those: where, which field, and its value.
    pub epoch_seconds_first: Option<Box<(Location, &'static str, i64)>>,
    /// Lines consumed (NDJSON), so that later batches can number theirs.
    pub lines: u64,
    /// Input bytes consumed.
    pub bytes: u64,
}

impl Batch {
    /// Number of rejected records.
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.reject_counts.total()
    }

    /// Rejects a record over the record-size limit (the loaders skip it unread).
    pub fn reject_too_large(&mut self, loc: Location, size: u64, limit: u64) {
        self.reject(loc, RejectReason::TooLarge { size, limit });
    }

    fn reject(&mut self, loc: Location, reason: RejectReason) {
        self.reject_counts[reason.kind()] += 1;
        if self.rejects.len() < KEEP_DETAILS {
            self.rejects.push(Reject { loc, reason });
        }
    }
}

/// Where a piece of text sits: for locations in messages and raw locations of events.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// Location of the text's first line (its index path is the prefix for elements).
    pub loc: Location,
    /// Raw segment holding the text.
    pub segment: u32,
    /// Offset of the text's first byte in the segment.
    pub offset: u64,
}

/// Decodes records into [`Batch`]es; holds its string table and scratch space.
/// Call [`Decoder::seal`] on each batch before handing it to the store.
pub struct Decoder {
    scratch: String,
    keep_raw: bool,
    strings: Strings,
    /// Integer `amplitude_id`s already interned (their decimal text is the symbol's).
    int_ids: rustc_hash::FxHashMap<i64, Sym>,
    table: u32,
    sent: usize,
    /// Per `user_id` symbol: the ids of that user's last event (see [`LastIds`]).
    last_ids: Vec<LastIds>,
    /// `user_properties` texts already numbered: xxh3 of the raw text → the number of its
    /// value in `props` (numbered by [`json::value_hash`]).
    /// Users repeat their properties on most events, so most events cost one fast hash of
    /// the raw bytes instead of a walk of the value.
    props_cache: rustc_hash::FxHashMap<u64, u32>,
    /// The `user_properties` values numbered so far: `{}` (absent or `null` properties)
    /// is number 0.
    props: PropsTable,
    /// How many of `props` were sent with sealed batches.
    props_sent: usize,
    /// The events' ids, numbered in this decoder's symbols.
    ids: IdNumbers,
    /// Whether offsets in the text being decoded are offsets in the source (false inside
    /// a legacy body's `e` parameter, which is decoded from a copy).
    in_source: bool,
    /// Set by [`Decoder::props_ref`] when the value was new to the decoder.
    props_new: bool,
    /// The keys of the records decoded so far ([`json::KeyMemo`]): of lines and
    /// documents, and of the events inside request bodies and Airbyte messages.
    keys: KeyMemo,
    inner_keys: KeyMemo,
    /// The date of the last date-time string read ([`DayMemo`]).
    days: DayMemo,
}

/// The `user_properties` cache is cleared when it grows past this many texts.
const PROPS_CACHE_MAX: usize = 1 << 16;

/// [`IdNumbers`] forgets the combinations it numbered when it has met this many.
const IDS_CACHE_MAX: usize = 1 << 16;

/// A decoder's numbers for the combinations of ids of its events ([`EventRec::ids`],
/// [`crate::event::IdTable`]): 0 is no ids; every other number is given once, to the
/// combination met then. The combinations met are remembered, up to [`IDS_CACHE_MAX`],
/// so that the same ids get the same number; past that they are forgotten and numbered
/// anew (equal numbers still mean equal ids). An input with a new device on every event
/// thus costs a bounded map, not one that grows with the input.
struct IdNumbers {
    known: rustc_hash::FxHashMap<Ids, u32>,
    /// The next number to give.
    next: u32,
    /// The first number not yet sent with a sealed batch.
    sent: u32,
    /// The ids of numbers `sent..next`.
    new: Vec<Ids>,
}

impl Default for IdNumbers {
    fn default() -> Self {
        Self {
            known: rustc_hash::FxHashMap::default(),
            next: 1,
            sent: 1,
            new: Vec::new(),
        }
    }
}

impl IdNumbers {
    /// The number of `ids`; `fresh` when one of their symbols is new with this event, so
    /// they cannot have been met: then they get a number without a lookup and are not
    /// remembered (the next event with them gives them another, remembered one).
    fn number(&mut self, ids: Ids, fresh: bool) -> u32 {
        if fresh {
            return self.unremembered(ids);
        }
        if let Some(&n) = self.known.get(&ids) {
            return n;
        }
        if self.known.len() >= IDS_CACHE_MAX {
            self.known.clear();
        }
        let n = self.unremembered(ids);
        self.known.insert(ids, n);
        n
    }

    /// A new number for `ids`, not remembered.
    fn unremembered(&mut self, ids: Ids) -> u32 {
        let n = self.next;
        self.next = n.saturating_add(1);
        self.new.push(ids);
        n
    }

    /// The ids of number `n`, not yet sent with a batch (tests).
    #[cfg(test)]
    pub(crate) fn unsent(&self, n: u32) -> Ids {
        match n.checked_sub(self.sent) {
            Some(i) => self.new[i as usize],
            None => Ids::NONE,
        }
    }
}

/// The device and integer amplitude ids last seen with a user. Matching them first skips
/// the hash tables (and their cache misses) for most events; a mismatch falls back to them,
/// so the symbols are the same either way.
#[derive(Clone, Copy)]
struct LastIds {
    device: Sym,
    amplitude: Sym,
    /// The integer value of `amplitude` (meaningful when `amplitude` is some).
    amplitude_int: i64,
    /// The user's last event's device and Amplitude ids, and the number of the three
    /// ([`IdNumbers`]); `ids_number` is 0 before the user's first event.
    ids_device: Sym,
    ids_amplitude: Sym,
    ids_number: u32,
}

impl Default for LastIds {
    fn default() -> Self {
        Self {
            device: Sym::NONE,
            amplitude: Sym::NONE,
            amplitude_int: 0,
            ids_device: Sym::NONE,
            ids_amplitude: Sym::NONE,
            ids_number: 0,
        }
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(false)
    }
}

/// Gives each decoder a distinct table id.
static NEXT_TABLE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The members of a record that the model reads, by [`Slot`].
#[derive(Default)]
struct Fields {
    spans: [Option<Span>; SLOTS],
}

/// The members [`Fields`] keeps. The four time fields come first, in order of precedence
/// ([`TIME_FIELDS`]).
#[derive(Clone, Copy)]
#[repr(u8)]
enum Slot {
    ClientEventTime,
    Time,
    Timestamp,
    EventTime,
    EventType,
    SessionId,
    InsertId,
    DollarInsertId,
    /// The legacy amplitude-js SDK's event key, the last dedup key of §3.
    Uuid,
    AmplitudeId,
    UserId,
    DeviceId,
    Events,
    /// Airbyte messages: `{"type":"RECORD","record":{"data":{…event…}}}`.
    MessageType,
    Record,
    /// The legacy amplitude-js upload body as JSON: `{"client":…,"e":…,"v":2,…}`.
    Client,
    LegacyEvents,
    /// `user_properties` and `$skip_user_properties_sync`, for `end_props_changed`.
    UserProperties,
    SkipPropsSync,
}

/// Number of [`Slot`]s.
const SLOTS: usize = Slot::SkipPropsSync as usize + 1;

/// The tag of a key that no slot keeps.
const IGNORED: u8 = u8::MAX;

/// Time fields in order of precedence.
pub const TIME_FIELDS: [&str; 4] = ["client_event_time", "time", "timestamp", "event_time"];

impl Fields {
    /// The [`Slot`] of a key as a [`json::KeyMemo`] tag ([`IGNORED`] for the rest).
    fn tag(key: &[u8], escaped: bool) -> u8 {
        if escaped {
            let mut k = String::new();
            json::unescape(key, &mut k);
            return Self::tag(k.as_bytes(), false);
        }
        let slot = match key {
            b"event_type" => Slot::EventType,
            b"client_event_time" => Slot::ClientEventTime,
            b"time" => Slot::Time,
            b"timestamp" => Slot::Timestamp,
            b"event_time" => Slot::EventTime,
            b"session_id" => Slot::SessionId,
            b"insert_id" => Slot::InsertId,
            b"$insert_id" => Slot::DollarInsertId,
            b"uuid" => Slot::Uuid,
            b"client" => Slot::Client,
            b"e" => Slot::LegacyEvents,
            b"amplitude_id" => Slot::AmplitudeId,
            b"user_id" => Slot::UserId,
            b"device_id" => Slot::DeviceId,
            b"events" => Slot::Events,
            b"type" => Slot::MessageType,
            b"record" => Slot::Record,
            b"user_properties" => Slot::UserProperties,
            b"$skip_user_properties_sync" => Slot::SkipPropsSync,
            _ => return IGNORED,
        };
        slot as u8
    }

    /// Keeps `value` in the slot of `tag` (a later member with the same key wins).
    #[inline(always)]
    fn put(&mut self, tag: u8, value: Span) {
        if let Some(slot) = self.spans.get_mut(usize::from(tag)) {
            *slot = Some(value);
        }
    }

    fn get(&self, slot: Slot) -> Option<Span> {
        self.spans[slot as usize]
    }

    /// The time fields, in order of precedence.
    fn times(&self) -> &[Option<Span>] {
        &self.spans[..TIME_FIELDS.len()]
    }
}

fn present(span: Option<Span>) -> Option<Span> {
    span.filter(|s| s.kind != Kind::Null)
}

fn is_string(span: Span) -> bool {
    matches!(span.kind, Kind::String { .. })
}

/// The JSON text of a value, shortened to about 60 bytes for messages.
fn snippet(buf: &str, span: Span) -> Box<str> {
    let (start, end) = span.outer();
    let text = buf.get(start..end).unwrap_or("");
    if text.chars().count() <= 60 {
        return text.into();
    }
    let short: String = text.chars().take(57).collect();
    format!("{short}...").into()
}

impl Decoder {
    /// A decoder; `keep_raw` records where each event's raw text is.
    #[must_use]
    pub fn new(keep_raw: bool) -> Self {
        Self {
            scratch: String::new(),
            keep_raw,
            strings: Strings::default(),
            int_ids: rustc_hash::FxHashMap::default(),
            table: NEXT_TABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            sent: 0,
            last_ids: Vec::new(),
            props_cache: rustc_hash::FxHashMap::default(),
            props: {
                let mut t = PropsTable::default();
                let _ = t.id(json::empty_object_hash());
                t
            },
            props_sent: 0,
            ids: IdNumbers::default(),
            in_source: true,
            props_new: false,
            keys: KeyMemo::default(),
            inner_keys: KeyMemo::default(),
            days: DayMemo::default(),
        }
    }

    /// Attaches to `batch` the strings added since the previous sealed batch.
    /// Batches of one decoder must reach the store in the order they were sealed.
    pub fn seal(&mut self, batch: &mut Batch) {
        *batch.dict = Dict {
            table: self.table,
            base: u32::try_from(self.sent).unwrap_or(u32::MAX),
            new: self.strings.iter_from(self.sent).map(Into::into).collect(),
            props_base: u32::try_from(self.props_sent).unwrap_or(u32::MAX),
            props: self.props.hashes_from(self.props_sent).to_vec(),
            ids_base: self.ids.sent,
            ids: std::mem::take(&mut self.ids.new),
        };
        self.sent = self.strings.len();
        self.props_sent = self.props.len();
        self.ids.sent = self.ids.next;
    }

    /// The number of an accepted event's `ids` ([`IdNumbers`]): the one of the user's
    /// last event when the ids are the same (nearly always), without a lookup. Ids with
    /// a symbol interned by this event (from `fresh_from` on) are fresh
    /// ([`IdNumbers::number`]), so an input with a new device on every event costs no
    /// lookups, and any other one a table entry more for each combination.
    fn number_ids(&mut self, ids: Ids, fresh_from: usize) -> u32 {
        // Only asked when the user's last ids are not the same.
        let fresh = |ids: &Ids| {
            [ids.user_id, ids.device_id, ids.amplitude_id]
                .iter()
                .any(|s| s.is_some() && s.idx() >= fresh_from)
        };
        if ids.user_id.is_some()
            && let Some(entry) = self.last_ids.get_mut(ids.user_id.idx())
        {
            if entry.ids_number != 0
                && entry.ids_device == ids.device_id
                && entry.ids_amplitude == ids.amplitude_id
            {
                return entry.ids_number;
            }
            let n = self.ids.number(ids, fresh(&ids));
            entry.ids_device = ids.device_id;
            entry.ids_amplitude = ids.amplitude_id;
            entry.ids_number = n;
            return n;
        }
        self.ids.number(ids, fresh(&ids))
    }

    /// Decodes one NDJSON line (without its newline).
    pub fn line(&mut self, batch: &mut Batch, line: &[u8], origin: &Origin) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(u8::is_ascii_alphabetic) && self.form(batch, line, origin) {
            return;
        }
        let Some(line) = utf8_or_reject(batch, line, origin) else {
            return;
        };
        let mut scanner = Scanner::new(line.as_bytes());
        scanner.skip_ws();
        // Filled in place: the fields are some 450 bytes, and moving them out through
        // the results below cost three copies a line.
        let mut fields = Fields::default();
        // A value that is not an object is only judged once the whole line is known to be
        // one valid JSON value: `[]{…}` is invalid JSON, not "an array".
        let scanned = if scanner.peek() == Some(b'{') {
            scan_fields_into(&mut scanner, &mut self.keys, &mut fields).map(Ok)
        } else {
            scanner.value().map(|span| Err(span.kind.name()))
        };
        let scanned = scanned.and_then(|object| {
            scanner.skip_ws();
            if scanner.at_end() {
                Ok(object)
            } else {
                Err(ScanError {
                    offset: scanner.pos(),
                    reason: "unexpected data after the JSON value",
                })
            }
        });
        match scanned {
            Ok(Ok(span)) => self.fields(batch, line, &fields, span, origin),
            Ok(Err(found)) => batch.reject(origin.loc.clone(), RejectReason::NotObject { found }),
            Err(e) => batch.reject(origin.loc.clone(), RejectReason::InvalidJson(e)),
        }
    }

    /// Decodes a line that is a legacy amplitude-js upload body, url-encoded as the SDK
    /// posts it (`client=KEY&e=[…]&v=2&upload_time=…&checksum=…`), as `listen` accepts it:
    /// `e` holds the events (a JSON array, or one event object). Returns false when the
    /// line is not such a body (no `client` or no `e`). Each event's raw text is the
    /// whole line, since the events are not in the line's bytes as they are.
    fn form(&mut self, batch: &mut Batch, line: &[u8], origin: &Origin) -> bool {
        let mut client = false;
        let mut events = None;
        for (k, v) in form_urlencoded::parse(line) {
            match &*k {
                "client" => client = true,
                "e" => events = Some(v.into_owned()),
                _ => {}
            }
        }
        let (true, Some(events)) = (client, events) else {
            return false;
        };
        self.legacy_events(batch, events.as_bytes(), line, origin);
        true
    }

    /// Decodes the events of a legacy amplitude-js body (`e`: a JSON array of events, or
    /// one event), each with `line`, the whole body, as its raw text.
    fn legacy_events(&mut self, batch: &mut Batch, buf: &[u8], line: &[u8], origin: &Origin) {
        let mut scanner = Scanner::new(buf);
        scanner.skip_ws();
        let span = match scanner.value() {
            Ok(span) => span,
            Err(e) => {
                batch.reject(origin.loc.clone(), RejectReason::InvalidJson(e));
                return;
            }
        };
        let keep_raw = std::mem::replace(&mut self.keep_raw, false);
        let in_source = std::mem::replace(&mut self.in_source, false);
        let before = batch.events.len();
        self.value(batch, buf, span, origin);
        self.keep_raw = keep_raw;
        self.in_source = in_source;
        if keep_raw {
            for _ in before..batch.events.len() {
                batch.raw.push(RawLoc {
                    source: origin.loc.source,
                    segment: origin.segment,
                    offset: origin.offset,
                    len: u32::try_from(line.len()).unwrap_or(u32::MAX),
                });
            }
        }
    }

    /// Decodes one validated JSON value: an event, a request body / User Activity response,
    /// or (for top-level documents) an array of those. `buf` holds the value at `span`;
    /// the value must be UTF-8 (it is rejected otherwise).
    pub fn value(&mut self, batch: &mut Batch, buf: &[u8], span: Span, origin: &Origin) {
        let (start, end) = span.outer();
        let Some(text) = utf8_or_reject(batch, &buf[start..end], origin) else {
            return;
        };
        let origin = Origin {
            offset: origin.offset + start as u64,
            ..origin.clone()
        };
        match span.kind {
            Kind::Object => match scan_fields(&mut Scanner::new(text.as_bytes()), &mut self.keys) {
                Ok((fields, span)) => self.fields(batch, text, &fields, span, &origin),
                Err(e) => batch.reject(origin.loc.clone(), RejectReason::InvalidJson(e)),
            },
            Kind::Array => {
                let mut elements = Vec::new();
                let scanned = Scanner::new(text.as_bytes()).array(|i, s| elements.push((i, s)));
                if let Err(e) = scanned {
                    batch.reject(origin.loc.clone(), RejectReason::InvalidJson(e));
                    return;
                }
                for (i, element) in elements {
                    let origin = Origin {
                        loc: with_step(&origin.loc, Step::Element(i)),
                        ..origin.clone()
                    };
                    self.element(batch, text.as_bytes(), element, &origin);
                }
            }
            kind => batch.reject(
                origin.loc.clone(),
                RejectReason::NotObject { found: kind.name() },
            ),
        }
    }

    /// Decodes an array element: an event or a request body; nothing else.
    pub fn element(&mut self, batch: &mut Batch, buf: &[u8], span: Span, origin: &Origin) {
        if span.kind == Kind::Object {
            self.value(batch, buf, span, origin);
        } else {
            batch.reject(
                origin.loc.clone(),
                RejectReason::NotObject {
                    found: span.kind.name(),
                },
            );
        }
    }

    /// Decodes a scanned (so valid) object: one event, or the events of a body.
    fn fields(&mut self, batch: &mut Batch, buf: &str, f: &Fields, span: Span, origin: &Origin) {
        if let Some(data) = airbyte_data(buf.as_bytes(), f) {
            // An Airbyte RECORD message: its `record.data` is the event.
            if let Ok((inner, span)) = scan_fields(
                &mut Scanner::at(buf.as_bytes(), data.start),
                &mut self.inner_keys,
            ) {
                self.fields(batch, buf, &inner, span, origin);
                return;
            }
        }
        if present(f.get(Slot::EventType)).is_none()
            && present(f.get(Slot::Client)).is_some_and(is_string)
            && let Some(e) = present(f.get(Slot::LegacyEvents))
        {
            // The legacy amplitude-js body as JSON: `e` holds the events, as an array or
            // as the JSON text of one (what the SDK url-encodes).
            let events = match e.kind {
                Kind::String { .. } => self.text(buf, e).to_string(),
                _ => buf.get(e.outer().0..e.outer().1).unwrap_or("").to_string(),
            };
            let (start, end) = span.outer();
            let line = buf.as_bytes().get(start..end).unwrap_or(&[]).to_vec();
            self.legacy_events(batch, events.as_bytes(), &line, origin);
            return;
        }
        let is_body = f.get(Slot::Events).is_some_and(|s| s.kind == Kind::Array)
            && present(f.get(Slot::EventType)).is_none();
        if !is_body {
            self.event(batch, buf, f, span, origin);
            return;
        }
        let mut elements = Vec::new();
        if let Some(events) = f.get(Slot::Events) {
            // Already validated by the scan that found it.
            let _ = Scanner::at(buf.as_bytes(), events.start).array(|i, s| elements.push((i, s)));
        }
        for (i, element) in elements {
            let origin = Origin {
                loc: with_step(&origin.loc, Step::Event(i)),
                ..origin.clone()
            };
            if element.kind != Kind::Object {
                batch.reject(
                    origin.loc.clone(),
                    RejectReason::NotObject {
                        found: element.kind.name(),
                    },
                );
                continue;
            }
            if let Ok((inner, span)) = scan_fields(
                &mut Scanner::at(buf.as_bytes(), element.start),
                &mut self.inner_keys,
            ) {
                self.event(batch, buf, &inner, span, &origin);
            }
        }
    }

    fn text<'b>(&'b mut self, buf: &'b str, span: Span) -> &'b str {
        match span.kind {
            Kind::String { escaped: true } => {
                json::unescape(span.bytes(buf.as_bytes()), &mut self.scratch);
                &self.scratch
            }
            _ => buf.get(span.start..span.end).unwrap_or(""),
        }
    }

    /// [`EventRec::user_props`]: the hash of `user_properties` (absent or `null` as `{}`)
    /// and whether `$skip_user_properties_sync` is `true` (the JSON literal; the string
    /// `"true"` is not).
    fn props_ref(&mut self, buf: &str, f: &Fields) -> u32 {
        let bytes = buf.as_bytes();
        let id = match present(f.get(Slot::UserProperties)) {
            None => 0,
            Some(s) => {
                let (start, end) = s.outer();
                let raw = xxhash_rust::xxh3::xxh3_64(bytes.get(start..end).unwrap_or(&[]));
                if let Some(&id) = self.props_cache.get(&raw) {
                    id
                } else {
                    let (id, new) = self.props.id(json::value_hash(bytes, s, &mut self.scratch));
                    self.props_new = new;
                    if self.props_cache.len() >= PROPS_CACHE_MAX {
                        self.props_cache.clear();
                    }
                    self.props_cache.insert(raw, id);
                    id
                }
            }
        };
        let skip = f
            .get(Slot::SkipPropsSync)
            .is_some_and(|s| s.kind == Kind::Bool && s.bytes(bytes) == b"true");
        (id << 1) | u32::from(skip)
    }

    /// A non-empty string field, interned.
    fn intern_str(&mut self, buf: &str, span: Option<Span>) -> Sym {
        match present(span) {
            Some(s) if is_string(s) && s.end > s.start => match s.kind {
                Kind::String { escaped: true } => {
                    json::unescape(s.bytes(buf.as_bytes()), &mut self.scratch);
                    self.strings.intern(&self.scratch)
                }
                _ => self.strings.intern(buf.get(s.start..s.end).unwrap_or("")),
            },
            _ => Sym::NONE,
        }
    }

    fn event(&mut self, batch: &mut Batch, buf: &str, f: &Fields, span: Span, origin: &Origin) {
        let bytes = buf.as_bytes();
        let event_type = match f.get(Slot::EventType) {
            None => Err("missing"),
            Some(s) if s.kind == Kind::Null => Err("null"),
            Some(s) if is_string(s) && s.end == s.start => Err("an empty string"),
            Some(s) if is_string(s) => Ok(s),
            Some(s) => Err(s.kind.name()),
        };
        let event_type = match event_type {
            Ok(s) => s,
            Err(found) => {
                batch.reject(origin.loc.clone(), RejectReason::EventType { found });
                return;
            }
        };
        // Symbols from here on are new with this event.
        let fresh_from = self.strings.len();
        let user_id = self.intern_str(buf, f.get(Slot::UserId));
        // A user's events nearly always carry the same device and amplitude ids: check the
        // ids of the user's previous event before looking them up in the tables.
        let last = match self.last_ids.get(user_id.idx()) {
            Some(&last) if user_id.is_some() => last,
            _ => LastIds::default(),
        };
        let device_id = match present(f.get(Slot::DeviceId)) {
            Some(s) if s.kind == (Kind::String { escaped: false }) && s.end > s.start => {
                let text = buf.get(s.start..s.end).unwrap_or("");
                if last.device.is_some() && self.strings.get(last.device) == text {
                    last.device
                } else {
                    self.strings.intern(text)
                }
            }
            other => self.intern_str(buf, other),
        };
        let mut int_id = None;
        let amplitude_id = match present(f.get(Slot::AmplitudeId)) {
            Some(s) if s.kind == (Kind::Number { int: true }) => {
                match time::parse_int(s.bytes(bytes)) {
                    // Integer ids skip string hashing: the common Export case.
                    Some(id)
                        if buf
                            .get(s.start..s.end)
                            .is_some_and(|t| !t.starts_with("-0")) =>
                    {
                        int_id = Some(id);
                        if last.amplitude.is_some() && last.amplitude_int == id {
                            last.amplitude
                        } else {
                            match self.int_ids.entry(id) {
                                std::collections::hash_map::Entry::Occupied(o) => *o.get(),
                                std::collections::hash_map::Entry::Vacant(v) => *v.insert(
                                    self.strings.intern(buf.get(s.start..s.end).unwrap_or("")),
                                ),
                            }
                        }
                    }
                    _ => self.strings.intern(buf.get(s.start..s.end).unwrap_or("")),
                }
            }
            other => self.intern_str(buf, other),
        };
        if user_id.is_some() {
            let i = user_id.idx();
            if i >= self.last_ids.len() {
                self.last_ids
                    .resize(self.strings.len().max(i + 1), LastIds::default());
            }
            let entry = &mut self.last_ids[i];
            if device_id.is_some() {
                entry.device = device_id;
            }
            if let Some(id) = int_id {
                entry.amplitude = amplitude_id;
                entry.amplitude_int = id;
            }
        }
        if !user_id.is_some() && !device_id.is_some() && !amplitude_id.is_some() {
            batch.reject(origin.loc.clone(), RejectReason::NoIdentity);
            return;
        }
        let Some((field, time_span)) = f
            .times()
            .iter()
            .enumerate()
            .find_map(|(i, s)| present(*s).map(|s| (TIME_FIELDS[i], s)))
        else {
            batch.reject(origin.loc.clone(), RejectReason::NoTime);
            return;
        };
        let time = time_value_with(bytes, time_span, &mut self.scratch, &mut self.days);
        let Some(time) = time else {
            batch.reject(
                origin.loc.clone(),
                RejectReason::BadTime {
                    field,
                    value: snippet(buf, time_span),
                },
            );
            return;
        };
        if looks_like_seconds(time)
            && matches!(time_span.kind, Kind::Number { .. } | Kind::String { .. })
            && !bytes
                .get(time_span.start..time_span.end)
                .is_some_and(|t| t.contains(&b'-'))
        {
            batch.epoch_seconds += 1;
            if batch.epoch_seconds_first.is_none() {
                batch.epoch_seconds_first = Some(Box::new((origin.loc.clone(), field, time)));
            }
        }
        let mut rec = EventRec::new(time);
        rec.ids = self.number_ids(
            Ids {
                user_id,
                device_id,
                amplitude_id,
            },
            fresh_from,
        );
        rec.event_type = self.intern_str(buf, Some(event_type));
        match present(f.get(Slot::SessionId)) {
            None => {}
            Some(s) => {
                let id = match s.kind {
                    Kind::Number { int: true } | Kind::String { escaped: false } => {
                        time::parse_int(s.bytes(bytes))
                    }
                    _ => None,
                };
                match id {
                    Some(-1) => {}
                    Some(id) if id != NO_SESSION_ID => {
                        let i = u32::try_from(batch.events.len()).unwrap_or(u32::MAX);
                        rec.set_session(Some(id), i, &mut batch.far_sessions);
                    }
                    _ => {
                        batch.warning_count += 1;
                        if batch.warnings.len() < KEEP_DETAILS {
                            batch.warnings.push(Warning {
                                loc: origin.loc.clone(),
                                value: snippet(buf, s),
                            });
                        }
                    }
                }
            }
        }
        let dedup = [
            f.get(Slot::InsertId),
            f.get(Slot::DollarInsertId),
            f.get(Slot::Uuid),
        ]
        .into_iter()
        .flatten()
        .find(|s| is_string(*s) && s.end > s.start);
        if let Some(s) = dedup {
            rec.dedup = match s.kind {
                Kind::String { escaped: true } => {
                    let text = self.text(buf, s);
                    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
                }
                _ => xxhash_rust::xxh3::xxh3_64(s.bytes(bytes)),
            };
            if rec.dedup == NO_DEDUP {
                rec.dedup = 1;
            }
        }
        self.props_new = false;
        rec.user_props = self.props_ref(buf, f);
        let (start, end) = span.outer();
        let loc = RawLoc {
            source: origin.loc.source,
            segment: origin.segment,
            offset: origin.offset + start as u64,
            len: u32::try_from(end - start).unwrap_or(u32::MAX),
        };
        if self.keep_raw {
            batch.raw.push(loc);
        } else if self.props_new && self.in_source {
            batch.props_examples.push((rec.props_id(), loc));
        }
        batch.events.push(rec);
    }
}

/// Whether an integer event time looks like whole epoch *seconds* sent where ms are
/// expected: ten digits, 1 000 000 000 to 9 999 999 999. As ms those are 12 January to
/// 26 April 1970, a time no real event has; as seconds they are 2001 to 2286. The event
/// is still accepted (as ms, the contract's unit); the load warns once per source.
#[must_use]
pub fn looks_like_seconds(time: i64) -> bool {
    (1_000_000_000..10_000_000_000).contains(&time)
}

/// The event time (ms) a JSON value at `span` of `buf` stands for, if it is one of the
/// accepted forms of §1: an integer literal, or a string of [`time::parse_time_str`].
/// `scratch` holds the unescaped text of an escaped string. Shared with `listen`'s
/// validation, so that the endpoint accepts exactly the times a file load accepts.
pub fn time_value(buf: &[u8], span: Span, scratch: &mut String) -> Option<i64> {
    time_value_with(buf, span, scratch, &mut DayMemo::default())
}

/// [`time_value`] with the date read last ([`DayMemo`]).
fn time_value_with(
    buf: &[u8],
    span: Span,
    scratch: &mut String,
    days: &mut DayMemo,
) -> Option<i64> {
    match span.kind {
        Kind::Number { int: true } => time::parse_int(span.bytes(buf)),
        Kind::String { escaped: false } => time::parse_time_str_with(span.bytes(buf), days),
        Kind::String { escaped: true } => {
            json::unescape(span.bytes(buf), scratch);
            time::parse_time_str_with(scratch.as_bytes(), days)
        }
        _ => None,
    }
}

/// The `record.data` object of an Airbyte `RECORD` message (what Airbyte's Amplitude
/// source and file destinations write), when `f` is one: no `event_type` of its own,
/// `"type":"RECORD"`, and an object `record` holding an object `data`.
fn airbyte_data(buf: &[u8], f: &Fields) -> Option<Span> {
    if present(f.get(Slot::EventType)).is_some() {
        return None;
    }
    let kind = f.get(Slot::MessageType)?;
    if kind.kind != (Kind::String { escaped: false }) || kind.bytes(buf) != b"RECORD" {
        return None;
    }
    let record = f.get(Slot::Record).filter(|r| r.kind == Kind::Object)?;
    let mut data = None;
    Scanner::at(buf, record.start)
        .object(|key, _, value| {
            if key == b"data" && value.kind == Kind::Object {
                data = Some(value);
            }
        })
        .ok()?;
    data
}

/// The record's text, or `None` after rejecting it as invalid UTF-8 (so invalid JSON).
///
/// `simdutf8` checks a line several times faster than `std::str::from_utf8` (16 or 32
/// bytes at a time where the CPU allows) with the same verdict and the same error offset.
fn utf8_or_reject<'b>(batch: &mut Batch, bytes: &'b [u8], origin: &Origin) -> Option<&'b str> {
    match simdutf8::compat::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) => {
            batch.reject(
                origin.loc.clone(),
                RejectReason::InvalidUtf8 {
                    offset: e.valid_up_to(),
                },
            );
            None
        }
    }
}

/// Scans an object (cursor on `{`), keeping the spans of the fields the model reads;
/// `keys` remembers the keys of the objects scanned with it before ([`json::KeyMemo`]).
fn scan_fields(scanner: &mut Scanner<'_>, keys: &mut KeyMemo) -> Result<(Fields, Span), ScanError> {
    let mut fields = Fields::default();
    let span = scan_fields_into(scanner, keys, &mut fields)?;
    Ok((fields, span))
}

/// [`scan_fields`] into `fields` (which should start empty); returns the object's span.
fn scan_fields_into(
    scanner: &mut Scanner<'_>,
    keys: &mut KeyMemo,
    fields: &mut Fields,
) -> Result<Span, ScanError> {
    scanner.object_keyed(keys, Fields::tag, |tag, value| fields.put(tag, value))
}

fn with_step(loc: &Location, step: Step) -> Location {
    let mut loc = loc.clone();
    loc.index.push(step);
    loc
}

#[cfg(test)]
mod tests;
