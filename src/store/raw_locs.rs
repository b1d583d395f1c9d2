//! Raw locations of the store's events, about 3¼ bytes an event instead of a [`RawLoc`]'s
//! 24.
//!
//! The inspector keeps where every event's raw text is, so its JSON can be shown. Events
//! of one byte segment (a file, a zip member, a request body) arrive in the order of their
//! offsets, so a location is kept as a *run*, what consecutive events share (source,
//! segment and a base offset), plus per event where it lies after the event before it. A
//! new run starts when the source or segment changes, or when an offset lies before the
//! run's base or more than `u32::MAX` bytes after it.
//!
//! Within a run, an event's offset from the base is the previous event's offset plus its
//! length plus the *gap* between them: the line break of NDJSON (1 or 2 bytes), or the
//! comma and white space in a JSON array, nearly always less than 255 bytes. So each event
//! keeps its length in 16 bits and its gap in 8, and every sixteenth event its offset from
//! the base in 32, from which [`RawLocs::get`] adds up at most fifteen lengths and gaps.
//! A length of 65,535 bytes or more, and a gap of 255 or more (a rejected record between
//! two events, or an offset before the previous event's end), are kept whole in a map
//! beside; nothing is ever rounded or lost, so [`RawLocs::get`] returns exactly the
//! [`RawLoc`] pushed.
//!
//! On 2M events of one file this is 6.5 MB (it was 16 MB with two `u32`s an event, 48 MB
//! as [`RawLoc`]s). The worst case, a new run for every event (a segment per event), costs
//! about 27 bytes an event.

use rustc_hash::FxHashMap;

use crate::event::RawLoc;
use crate::index::SourceIx;

/// Events per checkpoint ([`RawLocs::starts`]).
const BLOCK: usize = 16;
/// [`RawLocs::lens`] of a length kept in [`RawLocs::long`].
const LONG: u16 = u16::MAX;
/// [`RawLocs::gaps`] of an event whose offset is kept in [`RawLocs::far`].
const FAR: u8 = u8::MAX;

/// What consecutive events' locations share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    /// Index of the run's first event.
    first: u32,
    source: SourceIx,
    segment: u32,
    /// Offsets of the run's events are this plus their offset from the base (0 for the
    /// first).
    base: u64,
}

/// Raw locations indexed like the events they belong to; see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawLocs {
    runs: Vec<Run>,
    /// Per event: its length, or [`LONG`] (then it is in `long`).
    lens: Vec<u16>,
    /// Per event: the bytes between the end of the event before it and its start, or
    /// [`FAR`] (then its offset from the base is in `far`); meaningless for the first
    /// event of a run.
    gaps: Vec<u8>,
    /// Per block of [`BLOCK`] events: its first event's offset from its run's base.
    starts: Vec<u32>,
    /// Lengths of [`LONG`] or more, by event.
    long: FxHashMap<u32, u32>,
    /// Offsets from the base of events whose gap is [`FAR`], by event.
    far: FxHashMap<u32, u32>,
    /// The last event's offset from its run's base and length (where the next gap starts).
    last: (u32, u32),
}

impl RawLocs {
    /// How many locations are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// Event `i`'s length.
    fn len_of(&self, i: usize) -> u32 {
        match self.lens[i] {
            LONG => self
                .long
                .get(&(i as u32))
                .copied()
                .unwrap_or(u32::from(LONG)),
            n => u32::from(n),
        }
    }

    /// The run holding event `i` (one does: run 0 starts at event 0).
    fn run_of(&self, i: u32) -> usize {
        self.runs.partition_point(|r| r.first <= i) - 1
    }

    /// Event `i`'s offset from the base of `run`, given the offset `prev` of event `i - 1`
    /// when it is in the same run.
    fn offset_in_run(&self, i: usize, run: &Run, prev: u32) -> u32 {
        if i == run.first as usize {
            return 0;
        }
        match self.gaps[i] {
            FAR => self.far.get(&(i as u32)).copied().unwrap_or(0),
            // A run's offsets fit in 32 bits (a push starts a new run otherwise).
            gap => prev
                .wrapping_add(self.len_of(i - 1))
                .wrapping_add(u32::from(gap)),
        }
    }

    /// The location of the `i`th event, as pushed.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<RawLoc> {
        if i >= self.len() {
            return None;
        }
        let run = self.runs[self.run_of(u32::try_from(i).ok()?)];
        // From the block's checkpoint, or from the run's start if that is later.
        let block = i / BLOCK * BLOCK;
        let (mut at, mut from) = if block >= run.first as usize {
            (block, self.starts[i / BLOCK])
        } else {
            (run.first as usize, 0)
        };
        while at < i {
            at += 1;
            from = self.offset_in_run(at, &run, from);
        }
        Some(RawLoc {
            source: run.source,
            segment: run.segment,
            offset: run.base + u64::from(from),
            len: self.len_of(i),
        })
    }

    /// Appends the location of the next event.
    pub fn push(&mut self, loc: RawLoc) {
        // Stores hold fewer than 2^32 events (see `crate::index`).
        let i = u32::try_from(self.lens.len()).unwrap_or(u32::MAX);
        let from_base = self.runs.last().and_then(|run| {
            if run.source != loc.source || run.segment != loc.segment {
                return None;
            }
            u32::try_from(loc.offset.checked_sub(run.base)?).ok()
        });
        let (from_base, gap) = match from_base {
            Some(from) => {
                let (prev, prev_len) = self.last;
                let gap = u64::from(from).checked_sub(u64::from(prev) + u64::from(prev_len));
                match gap.and_then(|g| u8::try_from(g).ok()).filter(|&g| g != FAR) {
                    Some(g) => (from, g),
                    None => {
                        self.far.insert(i, from);
                        (from, FAR)
                    }
                }
            }
            None => {
                self.runs.push(Run {
                    first: i,
                    source: loc.source,
                    segment: loc.segment,
                    base: loc.offset,
                });
                (0, 0)
            }
        };
        if self.lens.len().is_multiple_of(BLOCK) {
            self.starts.push(from_base);
        }
        match u16::try_from(loc.len).ok().filter(|&n| n != LONG) {
            Some(n) => self.lens.push(n),
            None => {
                self.lens.push(LONG);
                self.long.insert(i, loc.len);
            }
        }
        self.gaps.push(gap);
        self.last = (from_base, loc.len);
    }

    /// Appends the locations of `other` from its `from`th on, walking its runs forward
    /// (no search per location: a snapshot catches up this way under a lock).
    pub fn extend_from(&mut self, other: &RawLocs, from: usize) {
        let Some(first) = other.get(from) else {
            return;
        };
        let n = other.len() - from;
        self.lens.reserve(n);
        self.gaps.reserve(n);
        self.push(first);
        let mut run_ix = other.run_of(u32::try_from(from).unwrap_or(u32::MAX));
        let mut from_base = u32::try_from(first.offset - other.runs[run_ix].base).unwrap_or(0);
        for i in from + 1..other.len() {
            if other
                .runs
                .get(run_ix + 1)
                .is_some_and(|r| r.first as usize == i)
            {
                run_ix += 1;
            }
            let run = other.runs[run_ix];
            from_base = other.offset_in_run(i, &run, from_base);
            self.push(RawLoc {
                source: run.source,
                segment: run.segment,
                offset: run.base + u64::from(from_base),
                len: other.len_of(i),
            });
        }
    }
}

impl Extend<RawLoc> for RawLocs {
    fn extend<T: IntoIterator<Item = RawLoc>>(&mut self, iter: T) {
        let iter = iter.into_iter();
        self.lens.reserve(iter.size_hint().0);
        self.gaps.reserve(iter.size_hint().0);
        for loc in iter {
            self.push(loc);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn loc(source: u32, segment: u32, offset: u64, len: u32) -> RawLoc {
        RawLoc {
            source: SourceIx::new(source),
            segment,
            offset,
            len,
        }
    }

    /// Each row: the locations pushed, and how many runs they must take.
    #[test]
    fn every_location_comes_back_as_pushed() {
        let far = u64::from(u32::MAX);
        let table: &[(&str, Vec<RawLoc>, usize)] = &[
            ("none", vec![], 0),
            ("one", vec![loc(0, 0, 7, 3)], 1),
            (
                "lines of one file share a run",
                vec![loc(0, 0, 0, 10), loc(0, 0, 11, 5), loc(0, 0, 40, 0)],
                1,
            ),
            (
                "another segment starts a run",
                vec![loc(0, 0, 0, 10), loc(0, 1, 0, 10), loc(0, 1, 12, 1)],
                2,
            ),
            (
                "another source starts a run",
                vec![loc(0, 0, 0, 10), loc(1, 0, 0, 10)],
                2,
            ),
            (
                "an offset before the base starts a run",
                vec![loc(0, 0, 100, 1), loc(0, 0, 50, 1), loc(0, 0, 60, 1)],
                2,
            ),
            (
                "u32::MAX past the base fits, one byte more starts a run",
                vec![
                    loc(0, 0, 5, 1),
                    loc(0, 0, 5 + far, 1),
                    loc(0, 0, 6 + far, 1),
                    loc(0, 0, 6 + 2 * far, u32::MAX),
                ],
                2,
            ),
            (
                "offsets near u64::MAX",
                vec![loc(0, 0, u64::MAX - 1, 1), loc(0, 0, u64::MAX, 0)],
                1,
            ),
            (
                "gaps of 254 bytes are kept small, of 255 whole; so are earlier offsets",
                vec![
                    loc(0, 0, 0, 10),
                    loc(0, 0, 264, 10),
                    loc(0, 0, 529, 10),
                    loc(0, 0, 530, 3),
                    loc(0, 0, 533, 0),
                ],
                1,
            ),
            (
                "lengths up to 65,534 are kept small, longer ones whole",
                vec![
                    loc(0, 0, 0, 65_534),
                    loc(0, 0, 65_535, 65_535),
                    loc(0, 0, 131_071, u32::MAX),
                    loc(0, 0, 131_072, 1),
                ],
                1,
            ),
        ];
        for (what, locs, runs) in table {
            let mut held = RawLocs::default();
            held.extend(locs.iter().copied());
            assert_eq!(held.len(), locs.len(), "{what}");
            assert_eq!(held.runs.len(), *runs, "{what}");
            for (i, want) in locs.iter().enumerate() {
                assert_eq!(held.get(i), Some(*want), "{what}: location {i}");
            }
            assert_eq!(held.get(locs.len()), None, "{what}: past the end");
        }
    }

    /// Lines of one file (`\n` or `\r\n`), with a rejected line between some: the offsets
    /// come back across checkpoints, and from a run that starts inside a block.
    #[test]
    fn lines_of_a_file_come_back_across_checkpoints() {
        let mut locs = Vec::new();
        let mut offset = 0u64;
        for i in 0..100u32 {
            let len = 300 + i * 7;
            locs.push(loc(0, 0, offset, len));
            offset += u64::from(len) + 1 + u64::from(i % 2) + if i % 9 == 0 { 700 } else { 0 };
        }
        // A zip member from event 37 on (a run starting inside a block).
        for l in &mut locs[37..] {
            l.segment = 1;
        }
        let mut held = RawLocs::default();
        held.extend(locs.iter().copied());
        assert_eq!(held.runs.len(), 2);
        for (i, want) in locs.iter().enumerate() {
            assert_eq!(held.get(i), Some(*want), "location {i}");
        }
        // The small form: the lengths and gaps fit, only the 700-byte gaps are whole.
        assert!(held.long.is_empty());
        assert_eq!(
            held.far.len(),
            (1..100).filter(|i| (i - 1) % 9 == 0).count() - 1
        );
    }

    fn any_loc() -> impl Strategy<Value = RawLoc> {
        (
            0u32..3,
            0u32..3,
            prop_oneof![0u64..1_000, any::<u64>()],
            any::<u32>(),
        )
            .prop_map(|(s, g, o, l)| loc(s, g, o, l))
    }

    /// Locations as a file's events give them: mostly each after the one before with a
    /// small gap and length, sometimes a large gap, a long record, an offset back, or
    /// another segment.
    fn file_locs() -> impl Strategy<Value = Vec<RawLoc>> {
        let step = (
            prop_oneof![8 => 0u64..4, 1 => 250u64..260, 1 => 0u64..100_000],
            prop_oneof![8 => 0u32..2_000, 1 => 65_530u32..65_540, 1 => any::<u32>()],
            prop_oneof![18 => Just(0i8), 1 => Just(-1), 1 => Just(1)],
        );
        prop::collection::vec(step, 0..80).prop_map(|steps| {
            let (mut offset, mut segment, mut out) = (0u64, 0u32, Vec::new());
            for (gap, len, turn) in steps {
                match turn {
                    -1 => offset = offset.saturating_sub(gap * 3),
                    1 => segment += 1,
                    _ => offset = offset.saturating_add(gap),
                }
                out.push(loc(0, segment, offset, len));
                offset = offset.saturating_add(u64::from(len));
            }
            out
        })
    }

    proptest! {
        /// Whatever is pushed comes back; a copy extended from any point equals the
        /// original.
        #[test]
        fn locations_round_trip(
            locs in prop_oneof![
                prop::collection::vec(any_loc(), 0..60),
                file_locs(),
            ],
            cut in 0usize..80,
        ) {
            let mut held = RawLocs::default();
            held.extend(locs.iter().copied());
            let got: Vec<Option<RawLoc>> = (0..locs.len()).map(|i| held.get(i)).collect();
            let want: Vec<Option<RawLoc>> = locs.iter().copied().map(Some).collect();
            prop_assert_eq!(got, want);

            let cut = cut.min(locs.len());
            let mut copy = RawLocs::default();
            copy.extend(locs[..cut].iter().copied());
            copy.extend_from(&held, cut);
            prop_assert_eq!(copy, held);
        }
    }
}
