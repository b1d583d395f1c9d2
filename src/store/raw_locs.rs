//! Raw locations of the store's events, 8 bytes an event instead of a [`RawLoc`]'s 24.
//!
//! The inspector keeps where every event's raw text is, so its JSON can be shown. Events
//! of one byte segment (a file, a zip member, a request body) arrive in the order of their
//! offsets, so a location is kept as a *run*, what consecutive events share (source,
//! segment and a base offset), plus per event its offset from that base and its length,
//! two `u32`s. A new run starts when the source or segment changes, or when an offset lies
//! before the run's base or more than `u32::MAX` bytes after it; nothing is ever rounded
//! or lost, so [`RawLocs::get`] returns exactly the [`RawLoc`] pushed.
//!
//! On 2M events of one file this is 16 MB instead of 48 MB. The worst case, a new run for
//! every event (a segment per event), costs 32 bytes an event instead of 24.

use crate::event::RawLoc;
use crate::index::SourceIx;

/// What consecutive events' locations share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    /// Index of the run's first event.
    first: u32,
    source: SourceIx,
    segment: u32,
    /// Offsets of the run's events are this plus their [`Span::from_base`].
    base: u64,
}

/// One event's location within its run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    from_base: u32,
    len: u32,
}

/// Raw locations indexed like the events they belong to; see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawLocs {
    runs: Vec<Run>,
    spans: Vec<Span>,
}

impl RawLocs {
    /// How many locations are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// The location of the `i`th event, as pushed.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<RawLoc> {
        let span = *self.spans.get(i)?;
        let i = u32::try_from(i).ok()?;
        // The last run whose first event is at or before `i`; run 0 starts at event 0.
        let run = self.runs[self.runs.partition_point(|r| r.first <= i) - 1];
        Some(RawLoc {
            source: run.source,
            segment: run.segment,
            offset: run.base + u64::from(span.from_base),
            len: span.len,
        })
    }

    /// Appends the location of the next event.
    pub fn push(&mut self, loc: RawLoc) {
        let from_base = self.runs.last().and_then(|run| {
            if run.source != loc.source || run.segment != loc.segment {
                return None;
            }
            u32::try_from(loc.offset.checked_sub(run.base)?).ok()
        });
        let from_base = from_base.unwrap_or_else(|| {
            self.runs.push(Run {
                // Stores hold fewer than 2^32 events (see `crate::index`).
                first: u32::try_from(self.spans.len()).unwrap_or(u32::MAX),
                source: loc.source,
                segment: loc.segment,
                base: loc.offset,
            });
            0
        });
        self.spans.push(Span {
            from_base,
            len: loc.len,
        });
    }

    /// Appends the locations of `other` from its `from`th on, run by run (no search per
    /// location: a snapshot catches up this way under a lock).
    pub fn extend_from(&mut self, other: &RawLocs, from: usize) {
        if from >= other.len() {
            return;
        }
        self.spans.reserve(other.len() - from);
        let Ok(from32) = u32::try_from(from) else {
            return;
        };
        // The run holding `from`: run 0 starts at location 0, so there is one.
        let first_run = other.runs.partition_point(|r| r.first <= from32) - 1;
        for (k, run) in other.runs.iter().enumerate().skip(first_run) {
            let end = other
                .runs
                .get(k + 1)
                .map_or(other.len(), |r| r.first as usize);
            let start = (run.first as usize).max(from);
            for span in &other.spans[start..end] {
                self.push(RawLoc {
                    source: run.source,
                    segment: run.segment,
                    offset: run.base + u64::from(span.from_base),
                    len: span.len,
                });
            }
        }
    }
}

impl Extend<RawLoc> for RawLocs {
    fn extend<T: IntoIterator<Item = RawLoc>>(&mut self, iter: T) {
        let iter = iter.into_iter();
        self.spans.reserve(iter.size_hint().0);
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

    fn any_loc() -> impl Strategy<Value = RawLoc> {
        (
            0u32..3,
            0u32..3,
            prop_oneof![0u64..1_000, any::<u64>()],
            any::<u32>(),
        )
            .prop_map(|(s, g, o, l)| loc(s, g, o, l))
    }

    proptest! {
        /// Whatever is pushed comes back; a copy extended from any point equals the
        /// original.
        #[test]
        fn locations_round_trip(
            locs in prop::collection::vec(any_loc(), 0..60),
            cut in 0usize..60,
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
