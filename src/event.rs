//! The compact event model: one fixed-size [`EventRec`] per accepted event.
//!
//! Multi-gigabyte exports hold millions of events, so an event is never kept as a
//! `serde_json::Value`. The decoder extracts only what the session model needs
//! (`SESSION-MODEL.md` §1) into a 48-byte record; strings are interned once in
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

/// [`EventRec::session`] of an out-of-session event. A `session_id` of `i64::MIN` in the
/// input is reported as unusable (a warning) rather than colliding with this.
pub const NO_SESSION_ID: i64 = i64::MIN;

/// [`EventRec::dedup`] of an event without a dedup key. A key hashing to zero (a 2^-64
/// chance) is stored as 1.
pub const NO_DEDUP: u64 = 0;

/// [`EventRec::user_props`]'s lowest bit: the event has a top-level
/// `$skip_user_properties_sync` equal to `true`.
pub const SKIP_PROPS_SYNC: u64 = 1;

/// One accepted event, as the session model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRec {
    /// Event time, ms since the Unix epoch (UTC).
    pub time: i64,
    /// Session id (the session's start time in ms), or [`NO_SESSION_ID`].
    pub session: i64,
    /// 64-bit hash of the dedup key, or [`NO_DEDUP`]. Two different keys collide with a
    /// 2^-64 chance per pair, and only matter on one device within 7 days. Sentinels rather
    /// than a flag byte keep the record at 48 bytes.
    pub dedup: u64,
    /// A hash of `user_properties` as a JSON value (key order ignored, numbers by value,
    /// absent or `null` as `{}`) in the upper 63 bits, and [`SKIP_PROPS_SYNC`] in the
    /// lowest: what `end_props_changed` compares ([`EventRec::props_hash`]).
    pub user_props: u64,
    /// `event_type`.
    pub event_type: Sym,
    /// `user_id` when it is a non-empty string.
    pub user_id: Sym,
    /// `device_id` when it is a non-empty string.
    pub device_id: Sym,
    /// `amplitude_id` (its decimal text when it was an integer) when present.
    pub amplitude_id: Sym,
}

impl EventRec {
    /// The session id, or `None` when the event is out of session.
    #[must_use]
    pub fn session_id(&self) -> Option<i64> {
        (self.session != NO_SESSION_ID).then_some(self.session)
    }

    /// The dedup key hash, if the event has a dedup key.
    #[must_use]
    pub fn dedup_key(&self) -> Option<u64> {
        (self.dedup != NO_DEDUP).then_some(self.dedup)
    }

    /// The hash of its `user_properties` (equal values, equal hashes).
    #[must_use]
    pub fn props_hash(&self) -> u64 {
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
        assert_eq!(std::mem::size_of::<EventRec>(), 48);
    }
}
