//! The event store: every accepted event of every source, in input order.
//!
//! Loaders never touch the store directly; they emit [`LoadEvent`]s, which the owner of
//! the store applies in order ([`EventStore::apply`]). `report` applies them on the loading
//! thread; the TUI receives them over a channel and applies them between frames, so the
//! same code fills the store in both and they cannot disagree.
//!
//! Input order is the index of an event in [`EventStore::events`]. Merging a [`Batch`]
//! re-interns its strings into the store's table (a few thousand distinct strings per
//! batch), so decoding threads never share a lock.

use std::path::PathBuf;
use std::sync::Arc;

use crate::decode::{Batch, KEEP_DETAILS, Reject, RejectCounts, Warning};
use crate::event::{
    EventRec, FarSessions, IdTable, Ids, PropsTable, RawLoc, SKIP_PROPS_SYNC, SessionOf, Strings,
    Sym,
};
use crate::index::EventIx;
use crate::index::SourceIx;

mod raw_locs;
use raw_locs::RawLocs;

/// Where the bytes of a source member live, to read an event's raw text again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A plain file; offsets are file offsets.
    File(PathBuf),
    /// A gzip file; offsets are in the decompressed stream.
    Gzip(PathBuf),
    /// A member of a zip archive (offsets in its decompressed, and un-gzipped, bytes).
    ZipMember {
        /// The archive.
        archive: PathBuf,
        /// The member's name.
        name: String,
        /// Whether the member is itself gzip-compressed.
        gzip: bool,
    },
    /// Bytes held in memory (stdin, request bodies).
    Memory(Arc<[u8]>),
    /// No longer readable: a followed file was truncated or replaced after these events
    /// were read. Holds why, to say so instead of showing other bytes.
    Gone(String),
}

/// What is known about one source.
#[derive(Clone, Debug, Default)]
pub struct SourceInfo {
    /// As the user named it (a path, `-`, an address).
    pub name: String,
    /// The container detected from content, once known.
    pub format: Option<&'static str>,
    /// Byte segments (zip members, or the one stream) in order.
    pub members: Vec<Segment>,
    /// Names of the members, for locations.
    pub member_names: Vec<String>,
    /// Accepted events.
    pub events: u64,
    /// Rejected records.
    pub rejected: u64,
    /// Input bytes read (compressed size for gzip and zip).
    pub bytes_read: u64,
    /// Total input bytes, when known.
    pub bytes_total: Option<u64>,
    /// Problems with the source as a whole: damage (a truncated archive), or why it
    /// could not be read.
    pub problems: Vec<String>,
    /// Things worth knowing about the source that are not wrong with it (a user search
    /// that matched several users, all loaded): shown, never counted as problems.
    pub notes: Vec<String>,
    /// The source could not be read at all.
    pub failed: bool,
    /// The loader has finished with this source.
    pub done: bool,
    /// The shape of the last problem (its text with digits taken out) and how many
    /// problems of that shape came after it: repeats collapse into one line.
    last_problem: Option<(String, u64)>,
}

/// A problem that starts with this says what the whole source looks like: it is listed
/// first, before the problems of single records or reads.
pub const OVERVIEW: &str = "overview: ";

/// At most this many notes are kept per source.
pub const MAX_NOTES: usize = 16;

/// At most this many `user_properties` values keep an example location (see
/// [`EventStore::props_example`]): about 10 MB. Users repeat their properties on most
/// events, so a real export has far fewer distinct values than events; past the cap the
/// report reads the sources a second time for the events it lacks.
pub const PROPS_EXAMPLES_MAX: usize = 1 << 18;

impl SourceInfo {
    /// Adds a problem. One of the same shape as the last (the same text but for its
    /// numbers: a reconnection's attempt, a delay) replaces it, with how many times it came
    /// (`… (3 times)`), so a flapping stream cannot grow the list without bound. An
    /// [`OVERVIEW`] goes first.
    pub fn add_problem(&mut self, message: String) {
        let shape: String = message.chars().filter(|c| !c.is_ascii_digit()).collect();
        if let Some((last, times)) = &mut self.last_problem
            && *last == shape
            && let Some(line) = self.problems.last_mut()
        {
            *times += 1;
            *line = format!("{message} ({} times)", *times);
            return;
        }
        if message.starts_with(OVERVIEW) {
            self.problems.insert(0, message);
            return;
        }
        self.last_problem = Some((shape, 1));
        self.problems.push(message);
    }
}

/// What loaders emit; see the module docs.
#[derive(Debug)]
pub enum LoadEvent {
    /// The container of a source was detected.
    Format {
        /// The source.
        source: SourceIx,
        /// The container's name.
        format: &'static str,
    },
    /// A new byte segment of a source; its index is the number of segments before it.
    Member {
        /// The source.
        source: SourceIx,
        /// How to read it again.
        segment: Segment,
        /// Its name, for locations.
        name: String,
    },
    /// Decoded events.
    Batch {
        /// The source.
        source: SourceIx,
        /// The events, rejects and warnings.
        batch: Batch,
        /// Lines before this batch in its stream (added to the batch's relative line numbers).
        line_base: u64,
    },
    /// How far loading has got.
    Progress {
        /// The source.
        source: SourceIx,
        /// Bytes read so far.
        read: u64,
        /// Total bytes, when known.
        total: Option<u64>,
    },
    /// Something is wrong with a source as a whole.
    Problem {
        /// The source.
        source: SourceIx,
        /// What is wrong, naming the source.
        message: String,
        /// Nothing at all could be read from it.
        fatal: bool,
    },
    /// The bytes of a segment can no longer be read (a followed file was truncated or
    /// replaced); its events stay, their raw text is no longer shown.
    Retire {
        /// The source.
        source: SourceIx,
        /// The segment's index.
        segment: u32,
        /// Why, naming the source.
        why: String,
    },
    /// Everything received so far is void: the ingestion endpoint was reset and its
    /// capture started afresh. The store forgets all events, rejects and warnings
    /// (sources stay registered). Only live sources emit it.
    Reset {
        /// The source.
        source: SourceIx,
    },
    /// Something worth knowing about a source that is not wrong with it.
    Note {
        /// The source.
        source: SourceIx,
        /// What to know, naming the source.
        message: String,
    },
    /// The loader has finished with a source.
    Done {
        /// The source.
        source: SourceIx,
    },
}

/// One decoder's numbers → the store's ([`EventStore::append`]).
#[derive(Default, Debug, Clone)]
struct Remap {
    syms: Vec<Sym>,
    props: Vec<u32>,
    ids: Vec<u32>,
}

/// All accepted events with their strings, sources and the record of what was rejected.
#[derive(Default, Debug, Clone)]
pub struct EventStore {
    /// The interned strings events refer to.
    pub strings: Strings,
    events: Vec<EventRec>,
    /// Session ids too far from their events' times for the records to hold.
    far_sessions: FarSessions,
    /// The distinct `user_properties` values, by the numbers the events hold.
    props: PropsTable,
    /// The events' ids, by the numbers the events hold.
    ids: IdTable,
    raw: RawLocs,
    /// Raw locations of single events found after loading without them (see
    /// [`EventStore::add_raw`]).
    raw_found: rustc_hash::FxHashMap<EventIx, RawLoc>,
    /// Loaded without raw locations: where one event carrying each `user_properties`
    /// value is, by [`EventRec::props_id`] (at most [`PROPS_EXAMPLES_MAX`]).
    props_examples: rustc_hash::FxHashMap<u32, RawLoc>,
    /// Sources in the order they were added.
    pub sources: Vec<SourceInfo>,
    /// The first [`KEEP_DETAILS`] rejected records.
    pub rejects: Vec<Reject>,
    /// Rejected records per kind.
    pub reject_counts: RejectCounts,
    /// The first [`KEEP_DETAILS`] session-id warnings.
    pub warnings: Vec<Warning>,
    /// All session-id warnings.
    pub warning_count: u64,
    /// Bumped by every change, so views know when to recompute.
    pub generation: u64,
    /// Per decoder table: its local symbols, `user_properties` numbers and id numbers →
    /// the store's.
    remaps: rustc_hash::FxHashMap<u32, Remap>,
    /// Bumped by [`EventStore::clear_events`]: a copy with another count is no prefix.
    clears: u64,
}

impl EventStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a source; loaders refer to it by the returned index.
    pub fn add_source(&mut self, name: impl Into<String>) -> SourceIx {
        self.sources.push(SourceInfo {
            name: name.into(),
            ..SourceInfo::default()
        });
        SourceIx::from_usize(self.sources.len() - 1)
    }

    /// Accepted events in input order (indexed by [`EventIx`]).
    #[must_use]
    pub fn events(&self) -> &[EventRec] {
        &self.events
    }

    /// Where event `i`'s raw text is, when raw locations were kept.
    #[must_use]
    pub fn raw(&self, i: EventIx) -> Option<RawLoc> {
        self.raw
            .get(i.idx())
            .or_else(|| self.raw_found.get(&i).copied())
    }

    /// Where one event whose `user_properties` value is number `id`
    /// ([`EventRec::props_id`]) is, for a store loaded without raw locations (see
    /// [`Batch::props_examples`]).
    #[must_use]
    pub fn props_example(&self, id: u32) -> Option<RawLoc> {
        self.props_examples.get(&id).copied()
    }

    /// Whether `user_properties` value number `id` is `{}` (or absent, or `null`).
    #[must_use]
    pub fn props_are_empty(&self, id: u32) -> bool {
        self.props.hash(id) == Some(crate::json::empty_object_hash())
    }

    /// The ids of an event of this store.
    #[must_use]
    #[inline]
    pub fn ids(&self, e: &EventRec) -> Ids {
        self.ids.get(e.ids)
    }

    /// The events' ids, by the numbers the events hold ([`EventRec::ids`]).
    #[must_use]
    pub fn id_table(&self) -> &IdTable {
        &self.ids
    }

    /// Event `i`'s session id, or `None` when it is out of session.
    #[must_use]
    pub fn session_id(&self, i: EventIx) -> Option<i64> {
        let e = self.events.get(i.idx())?;
        e.session_id(i.raw(), &self.far_sessions)
    }

    /// The session ids too far from their events' times for the records to hold
    /// ([`EventRec::session_id`] reads them).
    #[must_use]
    pub fn far_sessions(&self) -> &FarSessions {
        &self.far_sessions
    }

    /// Whether raw locations were kept for every event as it loaded.
    #[must_use]
    pub fn keeps_raw(&self) -> bool {
        !self.events.is_empty() && self.raw.len() == self.events.len()
    }

    /// Records where event `i`'s raw text is, for a store loaded without raw locations
    /// whose few events of interest were located afterwards (the report reads back the
    /// events behind `end_props_changed` this way, without keeping a location per event).
    pub fn add_raw(&mut self, i: EventIx, loc: RawLoc) {
        self.raw_found.insert(i, loc);
    }

    /// Number of rejected records.
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.reject_counts.total()
    }

    /// Whether any source could not be read at all.
    #[must_use]
    pub fn any_failed(&self) -> bool {
        self.sources.iter().any(|s| s.failed)
    }

    /// Applies one loader event.
    pub fn apply(&mut self, event: LoadEvent) {
        self.generation += 1;
        match event {
            LoadEvent::Format { source, format } => {
                if let Some(s) = self.sources.get_mut(source.idx()) {
                    s.format = Some(format);
                }
            }
            LoadEvent::Member {
                source,
                segment,
                name,
            } => {
                if let Some(s) = self.sources.get_mut(source.idx()) {
                    s.members.push(segment);
                    s.member_names.push(name);
                }
            }
            LoadEvent::Batch {
                source,
                batch,
                line_base,
            } => self.append(source, batch, line_base),
            LoadEvent::Progress {
                source,
                read,
                total,
            } => {
                if let Some(s) = self.sources.get_mut(source.idx()) {
                    s.bytes_read = read;
                    s.bytes_total = total;
                }
            }
            LoadEvent::Problem {
                source,
                message,
                fatal,
            } => {
                if let Some(s) = self.sources.get_mut(source.idx()) {
                    s.add_problem(message);
                    s.failed |= fatal;
                }
            }
            LoadEvent::Retire {
                source,
                segment,
                why,
            } => {
                if let Some(seg) = self
                    .sources
                    .get_mut(source.idx())
                    .and_then(|s| s.members.get_mut(segment as usize))
                {
                    *seg = Segment::Gone(why);
                }
            }
            LoadEvent::Note { source, message } => {
                if let Some(s) = self.sources.get_mut(source.idx())
                    && s.notes.len() < MAX_NOTES
                {
                    s.notes.push(message);
                }
            }
            LoadEvent::Reset { .. } => self.clear_events(),
            LoadEvent::Done { source } => {
                if let Some(s) = self.sources.get_mut(source.idx()) {
                    s.done = true;
                }
            }
        }
    }

    /// Forgets every event, reject and warning; sources and interned strings stay.
    /// Indices into the old events (an older analysis) are void afterwards.
    pub fn clear_events(&mut self) {
        self.clears += 1;
        self.events = Vec::new();
        self.far_sessions = FarSessions::default();
        self.raw = RawLocs::default();
        self.raw_found.clear();
        self.props_examples.clear();
        self.rejects.clear();
        self.reject_counts = RejectCounts::default();
        self.warnings.clear();
        self.warning_count = 0;
        for s in &mut self.sources {
            s.events = 0;
            s.rejected = 0;
        }
        self.generation += 1;
    }

    /// Brings this copy of `newer` up to date by copying only what `newer` has added
    /// since: the new events, raw locations and strings, and the (small, bounded) source
    /// states, rejects and warnings. The cost is that of the additions, not of the whole
    /// store, so a snapshot taken under a lock ([`crate::listen`]'s query API) holds it
    /// briefly. Returns false, changing nothing, when this is not an earlier copy of
    /// `newer` (events cleared since, or more events or strings than it): then take a
    /// full [`Clone::clone`].
    pub fn catch_up(&mut self, newer: &EventStore) -> bool {
        let (n, k) = (self.events.len(), self.strings.len());
        if self.clears != newer.clears
            || n > newer.events.len()
            || self.raw.len() > newer.raw.len()
            || k > newer.strings.len()
            || self.props.len() > newer.props.len()
            || self.ids.len() > newer.ids.len()
            || !self.far_sessions.is_prefix_of(&newer.far_sessions)
        {
            return false;
        }
        for s in newer.strings.iter_from(k) {
            self.strings.intern(s);
        }
        self.events.extend_from_slice(&newer.events[n..]);
        self.far_sessions
            .catch_up(&newer.far_sessions, u32::try_from(n).unwrap_or(u32::MAX));
        for &hash in newer.props.hashes_from(self.props.len()) {
            self.props.id(hash);
        }
        for &ids in newer.ids.ids_from(self.ids.len()) {
            self.ids.push(ids);
        }
        self.raw.extend_from(&newer.raw, self.raw.len());
        self.sources.clone_from(&newer.sources);
        self.rejects.clone_from(&newer.rejects);
        self.reject_counts = newer.reject_counts;
        self.warnings.clone_from(&newer.warnings);
        self.warning_count = newer.warning_count;
        self.generation = newer.generation;
        true
    }

    /// Merges a batch: re-interns its strings and numbers its lines.
    pub fn append(&mut self, source: SourceIx, batch: Batch, line_base: u64) {
        let Remap {
            syms: remap,
            props: props_remap,
            ids: ids_remap,
        } = self.remaps.entry(batch.dict.table).or_default();
        // Batches of one decoder arrive in the order they were sealed.
        debug_assert_eq!(remap.len(), batch.dict.base as usize);
        remap.resize(batch.dict.base as usize, Sym::NONE);
        for s in &batch.dict.new {
            remap.push(self.strings.intern(s));
        }
        let remap = &*remap;
        let map = |sym: Sym| remap.get(sym.idx()).copied().unwrap_or(Sym::NONE);
        debug_assert_eq!(props_remap.len(), batch.dict.props_base as usize);
        props_remap.resize(batch.dict.props_base as usize, 0);
        for &hash in &batch.dict.props {
            props_remap.push(self.props.id(hash).0);
        }
        // A decoder's number 0 is no ids, as the store's; it is never sent.
        if ids_remap.is_empty() {
            ids_remap.push(0);
        }
        debug_assert_eq!(ids_remap.len(), batch.dict.ids_base as usize);
        ids_remap.resize(batch.dict.ids_base as usize, 0);
        for ids in &batch.dict.ids {
            ids_remap.push(self.ids.push(Ids {
                user_id: map(ids.user_id),
                device_id: map(ids.device_id),
                amplitude_id: map(ids.amplitude_id),
            }));
        }
        let (props_remap, ids_remap) = (&*props_remap, &*ids_remap);
        let map_props = |id: u32| props_remap.get(id as usize).copied().unwrap_or(0);
        let accepted = batch.events.len() as u64;
        let rejected = batch.rejected();
        let first = self.events.len();
        self.events.reserve(batch.events.len());
        for (k, mut e) in batch.events.into_iter().enumerate() {
            e.event_type = map(e.event_type);
            e.ids = ids_remap.get(e.ids as usize).copied().unwrap_or(0);
            e.user_props = (map_props(e.props_id()) << 1) | (e.user_props & SKIP_PROPS_SYNC);
            if matches!(e.session(), SessionOf::Far(_) | SessionOf::ByEvent) {
                let index = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                self.far_sessions
                    .adopt(&mut e, index(first + k), &batch.far_sessions, index(k));
            }
            self.events.push(e);
        }
        self.raw.extend(batch.raw);
        for (id, loc) in batch.props_examples {
            if self.props_examples.len() < PROPS_EXAMPLES_MAX {
                self.props_examples.entry(map_props(id)).or_insert(loc);
            }
        }
        self.reject_counts += &batch.reject_counts;
        for mut r in batch.rejects {
            if self.rejects.len() >= KEEP_DETAILS {
                break;
            }
            r.loc.line += line_base;
            self.rejects.push(r);
        }
        self.warning_count += batch.warning_count;
        for mut w in batch.warnings {
            if self.warnings.len() >= KEEP_DETAILS {
                break;
            }
            w.loc.line += line_base;
            self.warnings.push(w);
        }
        if let Some(s) = self.sources.get_mut(source.idx()) {
            s.events += accepted;
            s.rejected += rejected;
        }
    }

    /// A location as text: `file:12`, `export.zip!2024/01/01_0.json.gz:7`, `body.json:3 [2].events[5]`.
    #[must_use]
    pub fn describe(&self, loc: &crate::event::Location) -> String {
        use std::fmt::Write as _;
        let source = self
            .sources
            .get(loc.source.idx())
            .map_or("?", |s| s.name.as_str());
        let mut out = match &loc.member {
            Some(m) => format!("{source}!{m}:{}", loc.line),
            None => format!("{source}:{}", loc.line),
        };
        let mut first = true;
        for step in &loc.index {
            match step {
                crate::event::Step::Element(i) => {
                    let _ = write!(out, "{}[{i}]", if first { " " } else { "" });
                }
                crate::event::Step::Event(i) => {
                    let _ = write!(out, "{}events[{i}]", if first { " " } else { "." });
                }
            }
            first = false;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Decoder, Origin, RejectReason};

    #[test]
    fn batches_merge_with_remapped_strings_and_line_numbers() {
        let mut store = EventStore::new();
        let src = store.add_source("a.ndjson");
        let mut dec = Decoder::new(false);
        for (lines, base) in [
            (
                &[
                    "{\"event_type\":\"x\",\"user_id\":\"u1\",\"time\":1}",
                    "nope",
                ][..],
                0,
            ),
            (
                &[
                    "{\"event_type\":\"y\",\"user_id\":\"u1\",\"time\":2}",
                    "[1]",
                ][..],
                2,
            ),
        ] {
            let mut batch = Batch::default();
            for (i, line) in lines.iter().enumerate() {
                let origin = Origin {
                    loc: crate::event::Location {
                        source: src,
                        line: i as u64 + 1,
                        ..Default::default()
                    },
                    ..Default::default()
                };
                dec.line(&mut batch, line.as_bytes(), &origin);
            }
            dec.seal(&mut batch);
            store.append(src, batch, base);
        }
        assert_eq!(store.events().len(), 2);
        assert_eq!(
            store.ids(&store.events()[0]).user_id,
            store.ids(&store.events()[1]).user_id
        );
        assert_eq!(store.strings.get(store.events()[1].event_type), "y");
        let lines: Vec<u64> = store.rejects.iter().map(|r| r.loc.line).collect();
        assert_eq!(lines, [2, 4]);
        assert_eq!(store.sources[0].events, 2);
        assert_eq!(store.sources[0].rejected, 2);
        assert_eq!(store.describe(&store.rejects[1].loc), "a.ndjson:4");
        assert!(matches!(
            store.rejects[1].reason,
            RejectReason::NotObject { .. }
        ));
    }

    /// Records hold session ids near their time and number `user_properties` values;
    /// merged from two decoders (two numberings), the store reads back every event's
    /// session id and gives equal values, and only equal values, one number.
    #[test]
    fn session_ids_and_properties_survive_the_merge_of_two_decoders() {
        const FAR: i64 = 40 * 86_400_000;
        let mut store = EventStore::new();
        // (decoder, time, session id, user_properties)
        let events: &[(u8, i64, Option<i64>, &str)] = &[
            (1, 1_000, Some(1_000), r#"{"plan":"pro"}"#),
            (1, 2_000 + FAR, Some(2_000), "null"),
            (2, 5_000, None, r#"{"plan":"free"}"#),
            (2, 6_000, Some(6_000 + FAR), r#"{"plan":"pro"}"#),
            (2, 7_000, Some(i64::MAX), "{}"),
            (1, 8_000, Some(-7), r#"{"plan":"free"}"#),
            (2, i64::MAX, Some(i64::MIN + 1), r#"{"plan":"pro"}"#),
        ];
        // Three batches: decoder 1, decoder 2, then each again.
        load_by_two_decoders(
            &mut store,
            &[&events[..2], &events[2..5], &events[5..]],
            |e| e.0,
            |&(_, time, session, props)| {
                format!(
                    r#"{{"event_type":"a","user_id":"u","time":{time},"session_id":{},"user_properties":{props}}}"#,
                    session.unwrap_or(-1)
                )
            },
        );
        assert_eq!(store.events().len(), events.len());
        let mut by_time: Vec<(i64, EventIx)> = (0..events.len())
            .map(|i| (store.events()[i].time, EventIx::from_usize(i)))
            .collect();
        by_time.sort_unstable();
        let mut want = events.to_vec();
        want.sort_unstable_by_key(|e| e.1);
        // `null` is `{}`.
        let value = |p: &'static str| if p == "null" { "{}" } else { p };
        for (&(_, i), &(_, time, session, props)) in by_time.iter().zip(&want) {
            assert_eq!(store.session_id(i), session, "event at {time}");
            let id = store.events()[i.idx()].props_id();
            assert_eq!(store.props_are_empty(id), value(props) == "{}", "{props}");
            for (&(_, j), other) in by_time.iter().zip(&want) {
                assert_eq!(
                    id == store.events()[j.idx()].props_id(),
                    value(props) == value(other.3),
                    "{props} against {}",
                    other.3
                );
            }
        }
        assert_eq!(store.far_sessions().numbered(), 4);
    }

    /// Each event's ids are one number of the store's: merged from two decoders (two
    /// numberings, each meeting the combinations in its own order), every event reads
    /// back its own ids, and equal numbers mean equal ids.
    #[test]
    fn ids_survive_the_merge_of_two_decoders() {
        let mut store = EventStore::new();
        // (decoder, user_id, device_id, amplitude_id): `None` leaves the field out.
        type Row = (
            u8,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let rows: &[Row] = &[
            (1, Some("u1"), Some("d1"), Some("7")),
            (1, Some("u1"), Some("d1"), Some("9")),
            (1, Some("u1"), Some("d1"), Some("7")),
            (2, Some("u2"), Some("d1"), None),
            (2, Some("u1"), Some("d1"), Some("7")),
            (1, None, Some("d1"), None),
            (2, None, Some("d1"), None),
            (1, Some("u1"), Some("d2"), Some("7")),
            (2, Some("u1"), Some("d1"), Some("\"7\"")),
            (1, Some("u2"), Some("d1"), None),
            (2, None, None, Some("8")),
            (1, Some("u1"), Some("d1"), Some("7")),
        ];
        let text = |v: &str| v.trim_matches('"').to_string();
        let want = load_by_two_decoders(
            &mut store,
            &[&rows[..5], &rows[5..9], &rows[9..]],
            |r| r.0,
            |&(_, user, device, amplitude)| {
                let mut fields = String::new();
                if let Some(u) = user {
                    fields += &format!(r#","user_id":"{u}""#);
                }
                if let Some(d) = device {
                    fields += &format!(r#","device_id":"{d}""#);
                }
                if let Some(a) = amplitude {
                    fields += &format!(r#","amplitude_id":{a}"#);
                }
                format!(r#"{{"event_type":"a","time":1{fields}}}"#)
            },
        );
        assert_eq!(store.events().len(), want.len());
        let read = |e: &EventRec| {
            let ids = store.ids(e);
            let get = |s: Sym| s.is_some().then(|| store.strings.get(s).to_string());
            (get(ids.user_id), get(ids.device_id), get(ids.amplitude_id))
        };
        let given = |r: &Row| (r.1.map(text), r.2.map(text), r.3.map(text));
        for (e, row) in store.events().iter().zip(&want) {
            assert_eq!(read(e), given(row), "{row:?}");
            for (other, other_row) in store.events().iter().zip(&want) {
                if e.ids == other.ids {
                    assert_eq!(
                        given(row),
                        given(other_row),
                        "{row:?} against {other_row:?}"
                    );
                }
            }
        }
        // Decoder 1 meets five combinations, decoder 2 four (an integer Amplitude id and
        // the string of its digits are one id); each has at most two numbers (see
        // `Decoder::number_ids`), and number 0 is no ids.
        assert!(store.id_table().len() <= 1 + 2 * (5 + 4));
    }

    /// Loads `parts` in turn into `store` (given a source here), each as a batch of
    /// decoder 1's rows and then one of decoder 2's (`decoder_of`), each row as the line
    /// `line` makes of it; returns the rows in the store's order.
    fn load_by_two_decoders<'r, R>(
        store: &mut EventStore,
        parts: &[&'r [R]],
        decoder_of: impl Fn(&R) -> u8,
        line: impl Fn(&R) -> String,
    ) -> Vec<&'r R> {
        store.add_source("a.ndjson");
        let mut decoders = [Decoder::new(false), Decoder::new(false)];
        let mut order = Vec::new();
        for part in parts {
            for (dec_no, dec) in (1..).zip(&mut decoders) {
                let rows: Vec<&R> = part.iter().filter(|r| decoder_of(r) == dec_no).collect();
                if !rows.is_empty() {
                    let lines: Vec<String> = rows.iter().map(|r| line(r)).collect();
                    load(store, dec, &lines);
                    order.extend(rows);
                }
            }
        }
        order
    }

    /// Appends `lines` to `store` as one batch of source 0.
    fn load(store: &mut EventStore, dec: &mut Decoder, lines: &[String]) {
        let mut batch = Batch::default();
        for (i, line) in lines.iter().enumerate() {
            let origin = Origin {
                loc: crate::event::Location {
                    source: SourceIx::new(0),
                    line: i as u64 + 1,
                    ..Default::default()
                },
                ..Default::default()
            };
            dec.line(&mut batch, line.as_bytes(), &origin);
        }
        dec.seal(&mut batch);
        store.append(SourceIx::new(0), batch, 0);
    }

    fn same(a: &EventStore, b: &EventStore) {
        assert_eq!(a.events(), b.events());
        assert_eq!(a.far_sessions, b.far_sessions);
        assert_eq!(a.props.hashes_from(0), b.props.hashes_from(0));
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.raw, b.raw);
        assert!(a.strings.iter().eq(b.strings.iter()));
        assert_eq!(a.generation, b.generation);
        assert_eq!(a.rejects.len(), b.rejects.len());
        assert_eq!(a.reject_counts, b.reject_counts);
        assert_eq!(a.sources[0].events, b.sources[0].events);
    }

    #[test]
    fn a_copy_caught_up_equals_a_full_copy() {
        let mut store = EventStore::new();
        store.add_source("capture.ndjson");
        let mut dec = Decoder::new(false);
        // Every fourth session id too far from its time for the record to hold.
        let line = |i: usize| {
            format!(
                r#"{{"event_type":"e{}","user_id":"u{}","device_id":"d{}","time":{i},"session_id":{},"user_properties":{{"p":{}}}}}"#,
                i % 7,
                i % 3,
                // New combinations of ids in each load.
                i / 8,
                if i.is_multiple_of(4) {
                    9_000_000_000_000_i64
                } else {
                    1
                },
                i % 13
            )
        };
        load(&mut store, &mut dec, &(0..10).map(line).collect::<Vec<_>>());
        let mut copy = store.clone();
        // New events, new strings, a reject.
        let mut more: Vec<String> = (10..25).map(line).collect();
        more.push("nope".to_string());
        load(&mut store, &mut dec, &more);
        assert!(copy.catch_up(&store));
        same(&copy, &store);
        assert_eq!(copy.session_id(EventIx::new(20)), Some(9_000_000_000_000));
        // Nothing new: still equal.
        assert!(copy.catch_up(&store));
        same(&copy, &store);
        // Cleared since: not a prefix any more, and the copy is left alone.
        store.clear_events();
        load(&mut store, &mut dec, &(0..30).map(line).collect::<Vec<_>>());
        let before = copy.events().len();
        assert!(!copy.catch_up(&store));
        assert_eq!(copy.events().len(), before);
        // A copy ahead of the store is refused too.
        let mut behind = EventStore::new();
        behind.add_source("capture.ndjson");
        assert!(!copy.catch_up(&behind));
    }
}
