//! The compact event model: one fixed-size [`EventRec`] per accepted event.
//!
//! Multi-gigabyte exports hold millions of events, so an event is never kept as a
//! `serde_json::Value`. The decoder extracts only what the session model needs
//! (`SESSION-MODEL.md` §1) into a 32-byte record; strings are interned once in
//! [`Strings`] and referenced by [`Sym`], and an event's three ids by the number of their
//! combination ([`IdTable`]). The raw JSON text of an event is found
//! again through its [`RawLoc`] when a view needs to show it.
//!
//! Input order is the record's index in the store: it only breaks ties.

use crate::index::SourceIx;

/// An interned string: an index into [`Strings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

impl Sym {
    /// "No such string": the field was absent, null or not of a counted form.
    pub const NONE: Sym = Sym(u32::MAX);

    /// Whether this refers to a string.
    #[must_use]
    pub fn is_some(self) -> bool {
        self != Self::NONE
    }

    /// The symbol's place in its [`Strings`] table, to index per-symbol tables with.
    #[must_use]
    pub const fn idx(self) -> usize {
        self.0 as usize
    }

    /// The symbol, or `None` for [`Sym::NONE`].
    #[must_use]
    pub fn get(self) -> Option<Sym> {
        self.is_some().then_some(self)
    }
}

/// Interns strings: each distinct string is stored once, in one text arena, with a
/// hash table of symbols over it (8 bytes of index per string, no allocation per string).
///
/// A hit reads the table's control bytes, the 4-byte slot, `ends` and the text. Keeping
/// strings of up to 24 bytes inline in 32-byte slots (issue 14) was measured and was not
/// faster on a 2M-event export. In the profile, the slot loads got dearer (an 8x larger
/// table, likely past the L2 cache) and the decoder's last-device check took over the
/// `ends` and text misses that interning the user id had paid before (a user's and a
/// device's strings are often adjacent in the arena).
#[derive(Default, Clone)]
pub struct Strings {
    text: String,
    ends: Vec<usize>,
    table: hashbrown::HashTable<Sym>,
    hasher: rustc_hash::FxBuildHasher,
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Strings").field("len", &self.len()).finish()
    }
}

fn slice<'a>(text: &'a str, ends: &[usize], sym: Sym) -> &'a str {
    let i = sym.idx();
    let Some(&end) = ends.get(i) else { return "" };
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..end]
}

impl Strings {
    /// The symbol of `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> Sym {
        use std::hash::BuildHasher as _;
        let Self {
            text,
            ends,
            table,
            hasher,
        } = self;
        let hash = hasher.hash_one(s);
        if let Some(&sym) = table.find(hash, |&sym| slice(text, ends, sym) == s) {
            return sym;
        }
        let sym = Sym(u32::try_from(ends.len()).unwrap_or(u32::MAX - 1));
        text.push_str(s);
        ends.push(text.len());
        table.insert_unique(hash, sym, |&sym| hasher.hash_one(slice(text, ends, sym)));
        sym
    }

    /// The symbol of `s` if it has been interned.
    #[must_use]
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        use std::hash::BuildHasher as _;
        let hash = self.hasher.hash_one(s);
        self.table
            .find(hash, |&sym| slice(&self.text, &self.ends, sym) == s)
            .copied()
    }

    /// The text of `sym` (empty for [`Sym::NONE`]).
    #[must_use]
    pub fn get(&self, sym: Sym) -> &str {
        slice(&self.text, &self.ends, sym)
    }

    /// Number of distinct strings.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no string has been interned.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// All strings in symbol order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.iter_from(0)
    }

    /// The strings from symbol `first` on, in symbol order. Cheaper than `iter().skip()`,
    /// which would still slice every skipped string (a decoder seals hundreds of batches,
    /// each skipping all the strings it sent before).
    pub fn iter_from(&self, first: usize) -> impl Iterator<Item = &str> {
        (first..self.ends.len()).map(|i| slice(&self.text, &self.ends, Sym(i as u32)))
    }
}

/// Distinct 64-bit values numbered from 0 in order of first sight, up to a largest number:
/// the `user_properties` values of a store ([`PropsTable`]) and its far session ids
/// ([`FarSessions`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Numbering {
    values: Vec<u64>,
    ids: rustc_hash::FxHashMap<u64, u32>,
    max: u32,
}

impl Numbering {
    /// An empty numbering that gives numbers up to `max`.
    #[must_use]
    pub fn up_to(max: u32) -> Self {
        Self {
            values: Vec::new(),
            ids: rustc_hash::FxHashMap::default(),
            max,
        }
    }

    /// The number of `value` and whether it is new; `None` when it is new and every
    /// number is taken.
    pub fn number(&mut self, value: u64) -> Option<(u32, bool)> {
        if let Some(&id) = self.ids.get(&value) {
            return Some((id, false));
        }
        let id = u32::try_from(self.values.len())
            .ok()
            .filter(|&id| id <= self.max)?;
        self.values.push(value);
        self.ids.insert(value, id);
        Some((id, true))
    }

    /// The value of number `id`.
    #[must_use]
    pub fn value(&self, id: u32) -> Option<u64> {
        self.values.get(id as usize).copied()
    }

    /// How many values are numbered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values of numbers `first..`, in order.
    #[must_use]
    pub fn values_from(&self, first: usize) -> &[u64] {
        self.values.get(first..).unwrap_or(&[])
    }
}

/// The three ids of an event that say whose it is: `user_id` when it is a non-empty
/// string, `device_id` when it is a non-empty string, and `amplitude_id` (its decimal
/// text when it was an integer) when present; [`Sym::NONE`] for each one absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ids {
    /// `user_id`.
    pub user_id: Sym,
    /// `device_id`.
    pub device_id: Sym,
    /// `amplitude_id`.
    pub amplitude_id: Sym,
}

impl Ids {
    /// No id at all (number 0 of every [`IdTable`]).
    pub const NONE: Ids = Ids {
        user_id: Sym::NONE,
        device_id: Sym::NONE,
        amplitude_id: Sym::NONE,
    };
}

impl Default for Ids {
    fn default() -> Self {
        Self::NONE
    }
}

/// The combinations of [`Ids`] of a store's events, numbered: what [`EventRec::ids`]
/// holds. Events come in far fewer combinations of ids than there are events (a user's
/// events nearly all carry the same device and Amplitude id), so one number per event in
/// place of three symbols keeps the record at 32 bytes.
///
/// Equal numbers mean equal ids; the same ids may have more than one number. Each decoder
/// numbers the combinations it meets, remembering at most [`crate::decode`]'s cache of
/// them (so input with a new device on every event costs no more than a table entry an
/// event), and the store takes each decoder's new combinations as they come, without
/// looking for them among the others: neither keeps a map of every combination. Number 0
/// is [`Ids::NONE`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdTable(Vec<Ids>);

impl Default for IdTable {
    fn default() -> Self {
        Self(vec![Ids::NONE])
    }
}

impl IdTable {
    /// Numbers `ids` (a number of their own, even if they have one already).
    pub fn push(&mut self, ids: Ids) -> u32 {
        self.0.push(ids);
        u32::try_from(self.0.len() - 1).unwrap_or(u32::MAX)
    }

    /// The ids numbered `n` ([`Ids::NONE`] for a number not given).
    #[must_use]
    #[inline]
    pub fn get(&self, n: u32) -> Ids {
        self.0.get(n as usize).copied().unwrap_or(Ids::NONE)
    }

    /// How many numbers are given ([`Ids::NONE`]'s included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether only [`Ids::NONE`] has a number.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.len() <= 1
    }

    /// The ids of numbers `first..`, in order.
    #[must_use]
    pub fn ids_from(&self, first: usize) -> &[Ids] {
        self.0.get(first..).unwrap_or(&[])
    }
}

/// The distinct `user_properties` values seen, numbered in order of first sight, each
/// kept as its value hash ([`crate::json::value_hash`]): what [`EventRec::user_props`]
/// numbers. Numbers go up to 2^31 - 1 (the record keeps a flag beside them); past that
/// many distinct values, every new one gets the last number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropsTable(Numbering);

impl Default for PropsTable {
    fn default() -> Self {
        Self(Numbering::up_to(u32::MAX >> 1))
    }
}

impl PropsTable {
    /// The number of the value with hash `hash`, and whether it is new.
    pub fn id(&mut self, hash: u64) -> (u32, bool) {
        self.0.number(hash).unwrap_or((self.0.max, false))
    }

    /// The value hash of number `id`.
    #[must_use]
    pub fn hash(&self, id: u32) -> Option<u64> {
        self.0.value(id)
    }

    /// How many values are numbered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The hashes of numbers `first..`, in order.
    #[must_use]
    pub fn hashes_from(&self, first: usize) -> &[u64] {
        self.0.values_from(first)
    }
}

/// The session id that means "out of session" where one is passed as an `i64`. A
/// `session_id` of `i64::MIN` in the input is reported as unusable (a warning) rather
/// than colliding with this.
pub const NO_SESSION_ID: i64 = i64::MIN;

/// [`EventRec::dedup`] of an event without a dedup key. A key hashing to zero (a 2^-64
/// chance) is stored as 1.
pub const NO_DEDUP: u64 = 0;

/// [`EventRec::user_props`]'s lowest bit: the event has a top-level
/// `$skip_user_properties_sync` equal to `true`.
pub const SKIP_PROPS_SYNC: u32 = 1;

/// [`EventRec::session`] of an out-of-session event.
const SESSION_NONE: i32 = i32::MIN;
/// [`EventRec::session`] of an event whose session id is too far from its time, when
/// every far number is taken: the id is kept by event ([`FarSessions`]).
const SESSION_BY_EVENT: i32 = i32::MIN + 1;
/// [`EventRec::session`] of far session id number 0; number k is this plus k.
const FAR_FIRST: i32 = i32::MIN + 2;
/// The smallest `time - session id` a record holds: an event at most ~12 days before
/// its session's start (below are the far numbers).
const NEAR_MIN: i32 = -(1 << 30);
/// The largest far session id number.
const FAR_MAX: u32 = NEAR_MIN.abs_diff(FAR_FIRST) - 1;

/// One accepted event, as the session model sees it: 32 bytes (2M events, 64 MB).
///
/// The session id is kept as the event's distance from its session's start, and the
/// `user_properties` value as a number the store gives each distinct value: that is
/// what took the record from 48 bytes to 40 without losing anything; its three ids as
/// the number of their combination ([`IdTable`]) took it to 32. A session id more
/// than ~24 days before its event's time or ~12 days after it (an endless session, an id
/// in seconds or a counter instead of a time in ms) is numbered instead, among the
/// store's distinct far ids ([`FarSessions`]): one lookup in a vector to read it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRec {
    /// Event time, ms since the Unix epoch (UTC).
    pub time: i64,
    /// 64-bit hash of the dedup key, or [`NO_DEDUP`]. Two different keys collide with a
    /// 2^-64 chance per pair, and only matter on one device within 7 days. Sentinels rather
    /// than a flag byte keep the record small.
    pub dedup: u64,
    /// `time - session id` when that is at least [`NEAR_MIN`], or the number of a far id,
    /// or a marker for "no session"; read it with [`EventRec::session`], set it with
    /// [`EventRec::set_session`].
    session: i32,
    /// The `user_properties` value's number ([`EventRec::props_id`]) in the upper 31 bits
    /// and [`SKIP_PROPS_SYNC`] in the lowest. Values are numbered by a hash of the value as
    /// JSON (key order ignored, numbers by value, absent or `null` as `{}`): equal values,
    /// equal numbers, within one store (and within the batches of one decoder, before the
    /// store renumbers them).
    pub user_props: u32,
    /// `event_type`.
    pub event_type: Sym,
    /// The number of its [`Ids`] in the [`IdTable`] of the store (or of the decoder, in a
    /// batch not yet appended).
    pub ids: u32,
}

/// An event's session as its record holds it ([`EventRec::session`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionOf {
    /// Out of session (`session_id` absent, `null`, -1 or unusable).
    None,
    /// In the session with this id.
    Id(i64),
    /// In the session whose id is far id number `k` of the [`FarSessions`].
    Far(u32),
    /// In a session whose id the [`FarSessions`] keep by event.
    ByEvent,
}

/// The session ids too far from their events' times for the records to hold: numbered
/// (a store's, or a batch's before it is appended), and, should every number be taken,
/// kept by event index (pushed in index order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FarSessions {
    ids: Numbering,
    by_event: Vec<(u32, i64)>,
}

impl Default for FarSessions {
    fn default() -> Self {
        Self::up_to(FAR_MAX)
    }
}

impl FarSessions {
    /// Empty, numbering ids up to `max` (tests lower it).
    #[must_use]
    pub fn up_to(max: u32) -> Self {
        Self {
            ids: Numbering::up_to(max.min(FAR_MAX)),
            by_event: Vec::new(),
        }
    }

    /// Far id number `k`.
    #[must_use]
    pub fn id(&self, k: u32) -> Option<i64> {
        self.ids.value(k).map(u64::cast_signed)
    }

    /// The number of far id `id`, if one is left for it.
    fn number(&mut self, id: i64) -> Option<u32> {
        self.ids.number(id.cast_unsigned()).map(|(k, _)| k)
    }

    /// The id kept for event `i`.
    #[must_use]
    pub fn by_event(&self, i: u32) -> Option<i64> {
        let k = self.by_event.binary_search_by_key(&i, |&(j, _)| j).ok()?;
        Some(self.by_event[k].1)
    }

    /// Keeps event `i`'s session id by event; `i` is above every index kept so far.
    fn keep_by_event(&mut self, i: u32, id: i64) {
        debug_assert!(self.by_event.last().is_none_or(|&(j, _)| j < i));
        self.by_event.push((i, id));
    }

    /// How many distinct far ids are numbered.
    #[must_use]
    pub fn numbered(&self) -> usize {
        self.ids.len()
    }

    /// The ids kept by event, of events `first..`, in order.
    #[must_use]
    pub fn by_event_from(&self, first: u32) -> &[(u32, i64)] {
        &self.by_event[self.by_event.partition_point(|&(j, _)| j < first)..]
    }

    /// Brings these up to date with `newer`, of which they are an earlier copy (same
    /// numbers): the numbers added since, and the ids kept for events `first..`.
    pub fn catch_up(&mut self, newer: &FarSessions, first: u32) {
        for &v in newer.ids.values_from(self.ids.len()) {
            let _ = self.ids.number(v);
        }
        for &(i, id) in newer.by_event_from(first) {
            self.keep_by_event(i, id);
        }
    }

    /// Whether these could be an earlier copy of `newer`.
    #[must_use]
    pub fn is_prefix_of(&self, newer: &FarSessions) -> bool {
        self.ids.len() <= newer.ids.len() && self.by_event.len() <= newer.by_event.len()
    }

    /// Moves `e`, event `i` of these, from `batch` (its far ids numbered there) to these
    /// (the store's): renumbers its far id, or keeps the id by event.
    pub fn adopt(&mut self, e: &mut EventRec, i: u32, batch: &FarSessions, batch_i: u32) {
        let id = match e.session() {
            SessionOf::None | SessionOf::Id(_) => return,
            SessionOf::Far(k) => batch.id(k),
            SessionOf::ByEvent => batch.by_event(batch_i),
        };
        if let Some(id) = id {
            e.set_session(Some(id), i, self);
        }
    }
}

impl EventRec {
    /// A record with no session, dedup key or symbols, and `{}` as `user_properties` of
    /// number 0 (the decoder fills in the rest).
    #[must_use]
    pub fn new(time: i64) -> Self {
        Self {
            time,
            dedup: NO_DEDUP,
            session: SESSION_NONE,
            user_props: 0,
            event_type: Sym::NONE,
            ids: 0,
        }
    }

    /// Sets the session id (`None`: out of session) of this record, event `i` of a batch
    /// or store whose far ids are `far`: an id too far from the event's time is numbered
    /// there (or kept there by event, should every number be taken).
    pub fn set_session(&mut self, id: Option<i64>, i: u32, far: &mut FarSessions) {
        self.session = match id {
            None => SESSION_NONE,
            Some(id) => match self.time.checked_sub(id).map(i32::try_from) {
                Some(Ok(d)) if d >= NEAR_MIN => d,
                _ => match far.number(id) {
                    // `k <= FAR_MAX`, so the sum stays below `NEAR_MIN`.
                    Some(k) => FAR_FIRST.wrapping_add_unsigned(k),
                    None => {
                        far.keep_by_event(i, id);
                        SESSION_BY_EVENT
                    }
                },
            },
        };
    }

    /// The session as held by the record.
    #[must_use]
    pub fn session(&self) -> SessionOf {
        match self.session {
            SESSION_NONE => SessionOf::None,
            SESSION_BY_EVENT => SessionOf::ByEvent,
            d if d < NEAR_MIN => SessionOf::Far(d.abs_diff(FAR_FIRST)),
            // `time - d` was the id, so it does not overflow.
            d => SessionOf::Id(self.time.wrapping_sub(i64::from(d))),
        }
    }

    /// The session id, or `None` when the event is out of session; `far` holds the far
    /// ids of the batch or store the record is event `i` of.
    #[must_use]
    pub fn session_id(&self, i: u32, far: &FarSessions) -> Option<i64> {
        match self.session() {
            SessionOf::None => None,
            SessionOf::Id(id) => Some(id),
            SessionOf::Far(k) => far.id(k),
            SessionOf::ByEvent => far.by_event(i),
        }
    }

    /// The dedup key hash, if the event has a dedup key.
    #[must_use]
    pub fn dedup_key(&self) -> Option<u64> {
        (self.dedup != NO_DEDUP).then_some(self.dedup)
    }

    /// The number of its `user_properties` value (equal values, equal numbers).
    #[must_use]
    pub fn props_id(&self) -> u32 {
        self.user_props >> 1
    }

    /// Whether it has a top-level `$skip_user_properties_sync` equal to `true`.
    #[must_use]
    pub fn skips_props_sync(&self) -> bool {
        self.user_props & SKIP_PROPS_SYNC != 0
    }
}

/// Where a record came from, for messages: source, zip member, line and array index.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Location {
    /// Index into the store's source list.
    pub source: SourceIx,
    /// Zip member name, when the source is an archive.
    pub member: Option<Box<str>>,
    /// 1-based line of the record (or of the start of the value that holds it).
    pub line: u64,
    /// Index path inside the line's value: an array element, then `events[i]` of a request body.
    pub index: Vec<Step>,
}

/// One step of a [`Location`]'s index path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The i-th element of a top-level JSON array.
    Element(u64),
    /// The i-th element of the `events` array of a request body or User Activity response.
    Event(u64),
}

/// Where the raw JSON text of an event can be read again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RawLoc {
    /// The source.
    pub source: SourceIx,
    /// Index of the byte segment (the stream, or a zip member) in the source's `members`.
    pub segment: u32,
    /// Byte offset of the record in the segment's decoded bytes.
    pub offset: u64,
    /// Length of the record in bytes.
    pub len: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_returns_the_same_symbol_for_equal_strings() {
        let mut s = Strings::default();
        let a = s.intern("user-1");
        let b = s.intern("device-1");
        assert_eq!(s.intern("user-1"), a);
        assert_ne!(a, b);
        assert_eq!(s.get(b), "device-1");
        assert_eq!(s.get(Sym::NONE), "");
        assert_eq!(s.lookup("nope"), None);
    }

    /// Interns `strings` in order and checks each symbol against a reference that numbers
    /// distinct strings densely in first-seen order; then checks `get`, `lookup`, `len`
    /// and `iter_from` against the same reference.
    fn check_against_reference(strings: &[String]) {
        let mut s = Strings::default();
        let mut reference: std::collections::HashMap<&str, u32> = Default::default();
        let mut order: Vec<&str> = Vec::new();
        for text in strings {
            let next = u32::try_from(reference.len()).expect("few strings");
            let want = *reference.entry(text).or_insert_with(|| {
                order.push(text);
                next
            });
            assert_eq!(s.intern(text), Sym(want), "interning {text:?}");
        }
        assert_eq!(s.len(), order.len());
        assert_eq!(s.is_empty(), order.is_empty());
        for (i, text) in order.iter().enumerate() {
            let sym = Sym(u32::try_from(i).expect("few strings"));
            assert_eq!(s.get(sym), *text);
            assert_eq!(s.lookup(text), Some(sym), "looking up {text:?}");
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), order);
        let half = order.len() / 2;
        assert_eq!(s.iter_from(half).collect::<Vec<_>>(), order[half..]);
        assert_eq!(s.get(Sym(u32::try_from(order.len()).expect("few"))), "");
    }

    #[test]
    fn interning_numbers_strings_densely_in_first_seen_order() {
        let long = "x".repeat(24);
        let longer = "x".repeat(25);
        // Long strings (UUID-like device ids) that share their first 35 bytes and their length.
        let uuid_a = "f964dd31-80e9-48ce-a046-f677c504fb92";
        let uuid_b = "f964dd31-80e9-48ce-a046-f677c504fb93";
        let cases: &[(&str, &[&str])] = &[
            ("nothing", &[]),
            ("one string twice", &["user-1", "user-1"]),
            (
                "different strings",
                &["user-1", "device-1", "user-1", "device-1"],
            ),
            ("the empty string", &["", "a", "", "a"]),
            (
                "a string and itself with a trailing NUL",
                &["a", "a\0", "a\0\0", "a"],
            ),
            ("prefixes of each other", &["ab", "a", "abc", "a", "ab"]),
            (
                "24 and 25 bytes of the same character",
                &[&long, &longer, &long, &longer],
            ),
            (
                "long strings sharing a 16-byte prefix",
                &[uuid_a, uuid_b, uuid_a, uuid_b],
            ),
            (
                "long strings of different lengths",
                &[uuid_a, &uuid_a[..30], uuid_a],
            ),
            (
                "non-ASCII",
                &["Zürich", "Zu\u{308}rich", "Zürich", "→", "→"],
            ),
        ];
        for (name, strings) in cases {
            let strings: Vec<String> = strings.iter().map(|&s| s.to_owned()).collect();
            eprintln!("case: {name}");
            check_against_reference(&strings);
        }
    }

    #[test]
    fn strings_whose_hashes_collide_in_the_probed_bits_stay_apart() {
        // Find, among short and long keys, pairs whose hashes agree on the 7 top bits
        // (hashbrown's control byte) and on the 12 low bits (the first probe position of a
        // table of up to 4096 buckets): probing compares them against each other.
        use std::hash::BuildHasher as _;
        let hasher = rustc_hash::FxBuildHasher;
        for make in [
            (|i: u32| format!("u_{i:08x}")) as fn(u32) -> String,
            |i: u32| format!("device-0000-0000-0000-{i:012x}"),
        ] {
            let mut seen: std::collections::HashMap<u64, String> = Default::default();
            let mut pairs = Vec::new();
            for i in 0..20_000 {
                let text = make(i);
                let hash = hasher.hash_one(text.as_str());
                let bits = (hash >> 57) << 12 | (hash & 0xfff);
                if let Some(other) = seen.insert(bits, text.clone()) {
                    pairs.push(other);
                    pairs.push(text);
                }
                if pairs.len() >= 20 {
                    break;
                }
            }
            assert!(
                pairs.len() >= 20,
                "colliding pairs found: {}",
                pairs.len() / 2
            );
            let mut twice = pairs.clone();
            twice.extend(pairs.iter().rev().cloned());
            check_against_reference(&twice);
        }
    }

    #[test]
    fn many_strings_grow_the_table_and_keep_their_symbols() {
        let strings: Vec<String> = (0..50_000)
            .map(|i| match i % 3 {
                0 => format!("u_{i}"),
                1 => format!("{i:08x}-80e9-48ce-a046-f677c504fb92"),
                _ => format!("e{}", i % 1000),
            })
            .collect();
        let mut twice = strings.clone();
        twice.extend(strings.iter().rev().cloned());
        check_against_reference(&twice);
    }

    proptest::proptest! {
        #[test]
        fn interning_agrees_with_a_first_seen_reference(
            strings in proptest::collection::vec(
                proptest::prop_oneof![
                    "[ab\u{0}é]{0,4}",
                    "[ab]{20,28}",
                    "f964dd31-80e9-48ce-[ab]{1,3}",
                    ".{0,40}",
                ],
                0..200,
            )
        ) {
            check_against_reference(&strings);
        }
    }

    #[test]
    fn a_record_is_compact() {
        assert_eq!(std::mem::size_of::<EventRec>(), 32);
    }

    /// The session id read back is the one set, near the event's time or far from it;
    /// only the far ones are numbered in the [`FarSessions`].
    #[test]
    fn a_session_id_reads_back_as_set() {
        const DAY: i64 = 86_400_000;
        let t = 1_700_000_000_000;
        // (event time, session id, held by the record)
        let cases: &[(i64, Option<i64>, bool)] = &[
            (t, None, true),
            (t, Some(t), true),
            (t, Some(t - 20 * DAY), true),
            (t, Some(t + 12 * DAY), true),
            (t, Some(t + 13 * DAY), false),
            (t, Some(t - i64::from(i32::MAX)), true),
            (t, Some(t - i64::from(i32::MAX) - 1), false),
            (t, Some(t + (1 << 30)), true),
            (t, Some(t + (1 << 30) + 1), false),
            (t, Some(t / 1000), false),
            (t, Some(0), false),
            (t, Some(-5), false),
            (0, Some(0), true),
            (i64::MIN, Some(i64::MAX), false),
            (i64::MAX, Some(i64::MIN + 1), false),
            (i64::MAX, Some(i64::MAX), true),
            (i64::MIN, Some(i64::MIN + 1), true),
        ];
        let mut far = FarSessions::default();
        let mut records = Vec::new();
        for (k, &(time, id, near)) in cases.iter().enumerate() {
            let mut e = EventRec::new(time);
            let before = far.numbered();
            e.set_session(id, u32::try_from(k).unwrap(), &mut far);
            assert_eq!(far.numbered() == before, near, "case {k}");
            assert_eq!(
                matches!(e.session(), SessionOf::Far(_)),
                !near,
                "case {k}: {:?}",
                e.session()
            );
            records.push(e);
        }
        // Read back after all were set: each far one keeps its own number.
        for (k, (e, &(_, id, _))) in records.iter().zip(cases).enumerate() {
            assert_eq!(
                e.session_id(u32::try_from(k).unwrap(), &far),
                id,
                "case {k}"
            );
        }
        // Out of session again clears it.
        let mut e = records[4];
        e.set_session(None, 4, &mut far);
        assert_eq!(e.session_id(4, &far), None);
    }

    /// Far ids are numbered once each; once every number is taken, new ones are kept by
    /// event; a store renumbers a batch's far ids into its own ([`FarSessions::adopt`]).
    #[test]
    fn far_session_ids_are_numbered_then_kept_by_event() {
        let mut batch = FarSessions::up_to(1);
        let ids = [5, 6, 5, 7, 6, 8];
        let records: Vec<EventRec> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let mut e = EventRec::new(1 << 40);
                e.set_session(Some(id), u32::try_from(i).unwrap(), &mut batch);
                e
            })
            .collect();
        let kinds: Vec<SessionOf> = records.iter().map(EventRec::session).collect();
        use SessionOf::{ByEvent, Far};
        assert_eq!(kinds, [Far(0), Far(1), Far(0), ByEvent, Far(1), ByEvent]);
        assert_eq!(batch.by_event_from(0), &[(3, 7), (5, 8)]);
        assert_eq!(batch.by_event_from(4), &[(5, 8)]);
        for (k, e) in records.iter().enumerate() {
            let i = u32::try_from(k).unwrap();
            assert_eq!(e.session_id(i, &batch), Some(ids[k]), "event {k}");
        }
        // A store that has numbered 8 already, and three more events before these.
        let mut store = FarSessions::default();
        let mut earlier = EventRec::new(1 << 40);
        earlier.set_session(Some(8), 0, &mut store);
        for (k, mut e) in records.into_iter().enumerate() {
            let i = u32::try_from(k + 3).unwrap();
            store.adopt(&mut e, i, &batch, u32::try_from(k).unwrap());
            assert!(matches!(e.session(), SessionOf::Far(_)), "event {k}");
            assert_eq!(e.session_id(i, &store), Some(ids[k]), "event {k}");
        }
        assert_eq!(store.numbered(), 4);
        assert_eq!(store.id(0), Some(8));
    }

    #[test]
    fn props_values_are_numbered_in_order_of_first_sight() {
        let mut t = PropsTable::default();
        assert_eq!(t.id(77), (0, true));
        assert_eq!(t.id(5), (1, true));
        assert_eq!(t.id(77), (0, false));
        assert_eq!(t.id(u64::MAX), (2, true));
        assert_eq!(t.hashes_from(1), &[5, u64::MAX]);
        assert_eq!(t.hashes_from(9), &[] as &[u64]);
        assert_eq!((t.hash(1), t.hash(3)), (Some(5), None));
    }
}
