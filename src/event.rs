//! The compact event model: one fixed-size [`EventRec`] per accepted event.
//!
//! Multi-gigabyte exports hold millions of events, so an event is never kept as a
//! `serde_json::Value`. The decoder extracts only what the session model needs
//! (`SESSION-MODEL.md` §1) into a 40-byte record; strings are interned once in
//! [`Strings`] and referenced by [`Sym`]. The raw JSON text of an event is found
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

/// The distinct `user_properties` values seen, numbered in order of first sight, each
/// kept as its value hash ([`crate::json::value_hash`]): what [`EventRec::user_props`]
/// numbers. Numbers go up to 2^31 - 1 (the record keeps a flag beside them); past that
/// many distinct values, every new one gets the last number.
#[derive(Clone, Debug, Default)]
pub struct PropsTable {
    hashes: Vec<u64>,
    ids: rustc_hash::FxHashMap<u64, u32>,
}

impl PropsTable {
    /// The largest number given.
    const MAX_ID: u32 = u32::MAX >> 1;

    /// The number of the value with hash `hash`, and whether it is new.
    pub fn id(&mut self, hash: u64) -> (u32, bool) {
        if let Some(&id) = self.ids.get(&hash) {
            return (id, false);
        }
        let Ok(id) = u32::try_from(self.hashes.len()) else {
            return (Self::MAX_ID, false);
        };
        if id > Self::MAX_ID {
            return (Self::MAX_ID, false);
        }
        self.hashes.push(hash);
        self.ids.insert(hash, id);
        (id, true)
    }

    /// The value hash of number `id`.
    #[must_use]
    pub fn hash(&self, id: u32) -> Option<u64> {
        self.hashes.get(id as usize).copied()
    }

    /// How many values are numbered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hashes of numbers `first..`, in order.
    #[must_use]
    pub fn hashes_from(&self, first: usize) -> &[u64] {
        self.hashes.get(first..).unwrap_or(&[])
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
/// [`EventRec::session`] of an event whose session id is too far from its time to be
/// kept as an offset from it: the id is kept beside the events ([`FarSessions`]).
const SESSION_FAR: i32 = i32::MIN + 1;

/// One accepted event, as the session model sees it: 40 bytes (2M events, 80 MB).
///
/// The session id is kept as the event's distance from its session's start, and the
/// `user_properties` value as a number the store gives each distinct value: that is
/// what took the record from 48 bytes to 40 without losing anything. The few session
/// ids more than ~24 days from their event's time (or before it by as much) are kept
/// beside the events, by event: [`FarSessions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRec {
    /// Event time, ms since the Unix epoch (UTC).
    pub time: i64,
    /// 64-bit hash of the dedup key, or [`NO_DEDUP`]. Two different keys collide with a
    /// 2^-64 chance per pair, and only matter on one device within 7 days. Sentinels rather
    /// than a flag byte keep the record small.
    pub dedup: u64,
    /// `time - session id` when that fits, or a marker for "no session" or "far"; read it
    /// with [`EventRec::session`], set it with [`EventRec::set_session`].
    session: i32,
    /// The `user_properties` value's number ([`EventRec::props_id`]) in the upper 31 bits
    /// and [`SKIP_PROPS_SYNC`] in the lowest. Values are numbered by a hash of the value as
    /// JSON (key order ignored, numbers by value, absent or `null` as `{}`): equal values,
    /// equal numbers, within one store (and within the batches of one decoder, before the
    /// store renumbers them).
    pub user_props: u32,
    /// `event_type`.
    pub event_type: Sym,
    /// `user_id` when it is a non-empty string.
    pub user_id: Sym,
    /// `device_id` when it is a non-empty string.
    pub device_id: Sym,
    /// `amplitude_id` (its decimal text when it was an integer) when present.
    pub amplitude_id: Sym,
}

/// An event's session as its record holds it ([`EventRec::session`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionOf {
    /// Out of session (`session_id` absent, `null`, -1 or unusable).
    None,
    /// In the session with this id.
    Id(i64),
    /// In a session whose id is kept in the store's [`FarSessions`].
    Far,
}

/// The session ids of the events whose [`EventRec::session`] is [`SessionOf::Far`], by
/// event index (the store's, or a batch's before it is appended), pushed in index order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FarSessions(Vec<(u32, i64)>);

impl FarSessions {
    /// Keeps event `i`'s session id; `i` is above every index kept so far.
    pub fn push(&mut self, i: u32, id: i64) {
        debug_assert!(self.0.last().is_none_or(|&(j, _)| j < i));
        self.0.push((i, id));
    }

    /// Event `i`'s session id, if kept.
    #[must_use]
    pub fn get(&self, i: u32) -> Option<i64> {
        let k = self.0.binary_search_by_key(&i, |&(j, _)| j).ok()?;
        Some(self.0[k].1)
    }

    /// The ids kept for events `first..`, in order.
    #[must_use]
    pub fn from_index(&self, first: u32) -> &[(u32, i64)] {
        &self.0[self.0.partition_point(|&(j, _)| j < first)..]
    }

    /// How many are kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
            user_id: Sym::NONE,
            device_id: Sym::NONE,
            amplitude_id: Sym::NONE,
        }
    }

    /// Sets the session id (`None`: out of session). Returns false when the id is too
    /// far from the event's time to be held by the record: the record then says
    /// [`SessionOf::Far`], and the caller keeps the id in its [`FarSessions`].
    #[must_use]
    pub fn set_session(&mut self, id: Option<i64>) -> bool {
        self.session = match id {
            None => SESSION_NONE,
            Some(id) => match self.time.checked_sub(id).map(i32::try_from) {
                Some(Ok(d)) if d > SESSION_FAR => d,
                _ => {
                    self.session = SESSION_FAR;
                    return false;
                }
            },
        };
        true
    }

    /// The session as held by the record.
    #[must_use]
    pub fn session(&self) -> SessionOf {
        match self.session {
            SESSION_NONE => SessionOf::None,
            SESSION_FAR => SessionOf::Far,
            // `time - d` was the id, so it does not overflow.
            d => SessionOf::Id(self.time.wrapping_sub(i64::from(d))),
        }
    }

    /// The session id, or `None` when the event is out of session; `far` holds the ids
    /// of [`SessionOf::Far`] records, by the index `i` of this one.
    #[must_use]
    pub fn session_id(&self, i: u32, far: &FarSessions) -> Option<i64> {
        match self.session() {
            SessionOf::None => None,
            SessionOf::Id(id) => Some(id),
            SessionOf::Far => far.get(i),
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
        assert_eq!(std::mem::size_of::<EventRec>(), 40);
    }

    /// The session id read back is the one set, near the event's time or far from it;
    /// only the far ones need the [`FarSessions`] beside the records.
    #[test]
    fn a_session_id_reads_back_as_set() {
        const DAY: i64 = 86_400_000;
        let t = 1_700_000_000_000;
        // (event time, session id, held by the record)
        let cases: &[(i64, Option<i64>, bool)] = &[
            (t, None, true),
            (t, Some(t), true),
            (t, Some(t - 20 * DAY), true),
            (t, Some(t + 20 * DAY), true),
            (t, Some(t - i64::from(i32::MAX)), true),
            (t, Some(t - i64::from(i32::MAX) - 1), false),
            (t, Some(t + i64::from(i32::MAX) - 1), true),
            // `i32::MIN` and `i32::MIN + 1` are the record's markers.
            (t, Some(t - i64::from(i32::MIN)), false),
            (t, Some(t - i64::from(i32::MIN) - 1), false),
            (t, Some(t - i64::from(i32::MIN) - 2), true),
            (t, Some(0), false),
            (t, Some(-5), false),
            (0, Some(0), true),
            (i64::MIN, Some(i64::MAX), false),
            (i64::MAX, Some(i64::MIN + 1), false),
            (i64::MAX, Some(i64::MAX), true),
            (i64::MIN, Some(i64::MIN + 1), true),
        ];
        for (k, &(time, id, near)) in cases.iter().enumerate() {
            let mut far = FarSessions::default();
            let mut e = EventRec::new(time);
            let i = u32::try_from(k).unwrap();
            if !e.set_session(id) {
                far.push(i, id.unwrap());
            }
            assert_eq!(far.is_empty(), near, "case {k}");
            assert_eq!(e.session_id(i, &far), id, "case {k}");
            assert_eq!(
                e.session() == SessionOf::Far,
                !near,
                "case {k}: {:?}",
                e.session()
            );
            // Out of session again clears it.
            assert!(e.set_session(None));
            assert_eq!(e.session_id(i, &far), None, "case {k}");
        }
    }

    #[test]
    fn far_sessions_are_found_by_event() {
        let mut far = FarSessions::default();
        for (i, id) in [(3, 30), (7, 70), (8, -80), (100, i64::MAX)] {
            far.push(i, id);
        }
        let got: Vec<Option<i64>> = [0, 3, 5, 7, 8, 99, 100, 101]
            .into_iter()
            .map(|i| far.get(i))
            .collect();
        assert_eq!(
            got,
            [
                None,
                Some(30),
                None,
                Some(70),
                Some(-80),
                None,
                Some(i64::MAX),
                None
            ]
        );
        assert_eq!(far.from_index(8), &[(8, -80), (100, i64::MAX)]);
        assert_eq!(far.from_index(101), &[]);
        assert_eq!(far.from_index(0).len(), 4);
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
