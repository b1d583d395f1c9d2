//! §4: replay under another timeout, its comparison with the recorded sessions, the sweep
//! over standard timeouts, and the distribution of gaps that decides where sessions split.
//!
//! [`ReplayInput`] keeps, per user, the times of the active in-session events and the
//! recorded session each belongs to, contiguous in one array: replaying at any timeout is
//! one linear pass, cheap enough to redo on every key press in the TUI. The times are kept
//! as the gap from the user's previous one in 32 bits (the rare wider gap beside them) and
//! the recorded sessions as runs: 2.2 bytes an event instead of 12, the same values read
//! back ([`ReplayInput::events_of`]).

use std::ops::Range;

use rayon::prelude::*;

use super::users::split_by_ranges;
use super::{MINUTE_MS, NO_SESSION, Session, User, median};
use crate::event::EventRec;
use crate::index::{EventIx, IxRange, SessionIx, UserIx};

/// The active in-session events of every user, in time order: each one's time and
/// recorded session, read back with [`ReplayInput::events_of`].
#[derive(Clone, Debug, Default)]
pub struct ReplayInput {
    /// Per user (same indices as [`super::Analysis::users`]): the numbers of its events
    /// (as many as it has active events in sessions).
    pub users: Vec<Range<u32>>,
    /// Per user: the time of its first event (0 when it has none).
    firsts: Vec<i64>,
    /// Per event: its time less the time of the user's event before it (0 for the
    /// user's first), or [`WIDE`] when that does not fit (the time is then in `wide`).
    gaps: Vec<u32>,
    /// (event number, time) of the events whose gap is [`WIDE`], in order.
    wide: Vec<(u32, i64)>,
    /// The events' recorded sessions in order, as runs: (events in a row, session). No
    /// run spans two users.
    runs: Vec<(u32, SessionIx)>,
    /// Per user: its first run in `runs`, and one more entry, the end of the last.
    user_runs: Vec<u32>,
    /// Median `length_ms` over all recorded sessions.
    pub recorded_median_ms: i64,
    /// Recorded sessions with no active event: replay has nothing to put them in.
    pub dropped: u64,
}

/// [`ReplayInput`]'s gap of an event whose time is kept in full: 2^32 - 1 ms (49.7 days)
/// or more after the one before it.
const WIDE: u32 = u32::MAX;

/// One user's active in-session events in time order, as (time, recorded session); see
/// [`ReplayInput::events_of`].
#[derive(Clone, Debug)]
pub struct Events<'a> {
    gaps: std::slice::Iter<'a, u32>,
    wide: &'a [(u32, i64)],
    runs: &'a [(u32, SessionIx)],
    /// Events left in the current run, and its session.
    left: u32,
    session: SessionIx,
    prev: i64,
}

impl Iterator for Events<'_> {
    type Item = (i64, SessionIx);

    #[inline]
    fn next(&mut self) -> Option<(i64, SessionIx)> {
        let &gap = self.gaps.next()?;
        let time = if gap == WIDE {
            let (&(_, t), rest) = self.wide.split_first()?;
            self.wide = rest;
            t
        } else {
            // The gap was taken from this very sum's result: it does not overflow.
            self.prev.wrapping_add(i64::from(gap))
        };
        self.prev = time;
        if self.left == 0 {
            let (&(n, s), rest) = self.runs.split_first()?;
            (self.runs, self.left, self.session) = (rest, n, s);
        }
        self.left -= 1;
        Some((time, self.session))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.gaps.size_hint()
    }
}

impl ExactSizeIterator for Events<'_> {}

/// The result of replaying at one timeout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replay {
    /// The timeout T.
    pub timeout_ms: i64,
    /// Replayed sessions over all users.
    pub sessions: u64,
    /// Median length of the replayed sessions.
    pub median_length_ms: i64,
    /// Replayed sessions per user (indexed by [`UserIx`]).
    pub per_user: Vec<u32>,
    /// Recorded sessions whose active events fall into two or more replayed ones.
    pub split: Vec<SessionIx>,
    /// Recorded sessions that share a replayed session with another one.
    pub merged: Vec<SessionIx>,
}

impl Replay {
    /// Per recorded session (indexed by [`SessionIx`], `sessions` of them): whether this
    /// replay splits it, and whether it merges it with another.
    #[must_use]
    pub fn session_marks(&self, sessions: usize) -> (Vec<bool>, Vec<bool>) {
        let mut split = vec![false; sessions];
        for &i in &self.split {
            split[i] = true;
        }
        let mut merged = vec![false; sessions];
        for &i in &self.merged {
            merged[i] = true;
        }
        (split, merged)
    }
}

/// One row of the timeout sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepRow {
    /// The timeout.
    pub timeout_ms: i64,
    /// Replayed sessions.
    pub sessions: u64,
    /// Their median length.
    pub median_length_ms: i64,
    /// Recorded sessions split.
    pub split: u64,
    /// Recorded sessions merged.
    pub merged: u64,
}

/// Upper bounds (inclusive, ms) of the gap histogram's buckets; the last is open.
pub const GAP_BUCKETS: [i64; 13] = [
    10_000,
    30_000,
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    60 * MINUTE_MS,
    120 * MINUTE_MS,
    360 * MINUTE_MS,
    1440 * MINUTE_MS,
    i64::MAX,
];

/// Counts of gaps between consecutive active in-session events of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GapHistogram {
    /// One count per bucket of [`GAP_BUCKETS`].
    pub counts: Vec<u64>,
}

impl GapHistogram {
    /// The bucket a gap falls in.
    #[must_use]
    pub fn bucket(gap_ms: i64) -> usize {
        GAP_BUCKETS.partition_point(|&upper| upper < gap_ms)
    }

    /// How many gaps are longer than `ms`: the sessions a timeout of `ms` adds
    /// (exact when `ms` is a bucket bound).
    #[must_use]
    pub fn longer_than(&self, ms: i64) -> u64 {
        GAP_BUCKETS
            .iter()
            .zip(&self.counts)
            .filter(|(upper, _)| **upper > ms)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The standard sweep timeouts plus the chosen one, ascending, without repeats.
#[must_use]
pub fn sweep_timeouts(chosen_ms: i64) -> Vec<i64> {
    let mut t: Vec<i64> = [1, 5, 15, 30, 60, 120]
        .iter()
        .map(|m| m * MINUTE_MS)
        .chain(std::iter::once(chosen_ms))
        .collect();
    t.sort_unstable();
    t.dedup();
    t
}

impl ReplayInput {
    /// Collects each user's active in-session events. The sizes are known from the
    /// sessions' `active` counts, so the arrays are allocated once and filled per user
    /// in parallel.
    pub(super) fn build(
        users: &[User],
        sessions: &[Session],
        events: &[EventRec],
        order: &[EventIx],
        pos_session: &[SessionIx],
        classes: &[super::EventClass],
    ) -> Self {
        let to_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let mut ranges = Vec::with_capacity(users.len());
        let mut total = 0u64;
        for u in users {
            let n: u64 = sessions[u.sessions.idx()]
                .iter()
                .map(|s| u64::from(s.active))
                .sum();
            ranges.push(to_u32(total)..to_u32(total + n));
            total += n;
        }
        let len = usize::try_from(total).unwrap_or(usize::MAX);
        let mut gaps = vec![0u32; len];
        let gap_slices = split_by_ranges(&mut gaps, ranges.iter().map(span));
        // Per user: its first time, its wide gaps and its runs (most users have no wide
        // gap, so no vector for them).
        type PerUser = (i64, Vec<(u32, i64)>, Vec<(u32, SessionIx)>);
        let per_user: Vec<PerUser> = gap_slices
            .into_par_iter()
            .zip(users)
            .zip(&ranges)
            .map_init(Vec::new, |gathered, ((gaps, u), range)| {
                // The user's events are scattered over the store: fetch them first in a
                // loop of independent loads, which the CPU overlaps, rather than one by
                // one between the branches below (over twice as fast on 2M events).
                gathered.clear();
                gathered.extend(u.events.idx().map(|p| {
                    let e = &events[order[p]];
                    (e.time, e.event_type)
                }));
                let (mut first, mut wide, mut runs) = (None, Vec::new(), Vec::new());
                let mut prev = 0i64;
                let mut k = 0;
                for (p, &(time, event_type)) in u.events.idx().zip(gathered.iter()) {
                    let s = pos_session[p];
                    if s == NO_SESSION {
                        continue;
                    }
                    let active = classes.get(event_type.idx()).is_none_or(|c| c.is_active());
                    if !active || k >= gaps.len() {
                        continue;
                    }
                    if first.is_none() {
                        first = Some(time);
                        prev = time;
                    }
                    gaps[k] = match time
                        .checked_sub(prev)
                        .and_then(|d| u32::try_from(d).ok())
                        .filter(|&d| d != WIDE)
                    {
                        Some(d) => d,
                        None => {
                            wide.push((range.start + to_u32(k as u64), time));
                            WIDE
                        }
                    };
                    prev = time;
                    match runs.last_mut() {
                        Some((n, run)) if *run == s => *n += 1,
                        _ => runs.push((1, s)),
                    }
                    k += 1;
                }
                (first.unwrap_or(0), wide, runs)
            })
            .collect();
        let mut input = ReplayInput {
            users: ranges,
            gaps,
            ..ReplayInput::default()
        };
        input.firsts.reserve_exact(per_user.len());
        input.user_runs.reserve_exact(per_user.len() + 1);
        input
            .runs
            .reserve_exact(per_user.iter().map(|(_, _, r)| r.len()).sum());
        for (first, wide, runs) in per_user {
            input.firsts.push(first);
            input.user_runs.push(to_u32(input.runs.len() as u64));
            input.wide.extend(wide);
            input.runs.extend(runs);
        }
        input.user_runs.push(to_u32(input.runs.len() as u64));
        input
    }

    /// User `user`'s active in-session events in time order: (time, recorded session).
    #[must_use]
    pub fn events_of(&self, user: UserIx) -> Events<'_> {
        let u = user.idx();
        let (range, runs) = match (self.users.get(u), self.user_runs.get(u..=u + 1)) {
            (Some(range), Some(&[a, b])) => (span(range), a as usize..b as usize),
            _ => (0..0, 0..0),
        };
        let start = u32::try_from(range.start).unwrap_or(u32::MAX);
        Events {
            gaps: self.gaps.get(range).unwrap_or(&[]).iter(),
            wide: &self.wide[self.wide.partition_point(|&(i, _)| i < start)..],
            runs: self.runs.get(runs).unwrap_or(&[]),
            left: 0,
            session: SessionIx::default(),
            prev: self.firsts.get(u).copied().unwrap_or(0),
        }
    }

    /// The times of [`ReplayInput::events_of`] (without reading the sessions).
    pub fn times_of(&self, user: UserIx) -> impl Iterator<Item = i64> + Clone + '_ {
        let Events {
            gaps,
            mut wide,
            mut prev,
            ..
        } = self.events_of(user);
        gaps.map(move |&gap| {
            prev = if gap == WIDE {
                let (&(_, t), rest) = wide.split_first().unwrap_or((&(0, prev), &[]));
                wide = rest;
                t
            } else {
                // The gap was taken from this very sum's result: it does not overflow.
                prev.wrapping_add(i64::from(gap))
            };
            prev
        })
    }

    /// The gaps between consecutive [`ReplayInput::times_of`] (saturating), one fewer
    /// than the events: mostly the gaps as kept, without adding them up.
    pub fn gaps_of(&self, user: UserIx) -> impl Iterator<Item = i64> + '_ {
        let Events {
            gaps,
            mut wide,
            mut prev,
            ..
        } = self.events_of(user);
        // A user's first gap is 0 (its time is in `firsts`): never wide.
        gaps.skip(1).map(move |&gap| {
            if gap == WIDE {
                let (&(_, t), rest) = wide.split_first().unwrap_or((&(0, prev), &[]));
                wide = rest;
                let g = t.saturating_sub(prev);
                prev = t;
                g
            } else {
                prev = prev.wrapping_add(i64::from(gap));
                i64::from(gap)
            }
        })
    }

    /// Sets the figures that depend on recorded sessions only.
    pub(super) fn with_recorded(mut self, sessions: &[Session]) -> Self {
        let mut lengths: Vec<i64> = sessions.iter().map(Session::length_ms).collect();
        self.recorded_median_ms = median(&mut lengths);
        self.dropped = sessions.iter().filter(|s| s.active == 0).count() as u64;
        self
    }

    /// Replays every user at timeout `timeout_ms` and compares with `sessions`.
    #[must_use]
    pub fn replay(&self, timeout_ms: i64, sessions: &[Session]) -> Replay {
        let mut last_replay_of = vec![u32::MAX; sessions.len()];
        let mut split = vec![false; sessions.len()];
        let mut merged = vec![false; sessions.len()];
        // Sized exactly by a counting pass of the replayed sessions longer than zero (the
        // others are only counted): growing by doubling would briefly hold the old and the
        // new buffer (about 3× the final size).
        let replayed: usize = self
            .user_ixs()
            .map(|u| {
                // A replayed session is longer than zero when a gap inside it is.
                let (mut n, mut longer) = (0, false);
                for g in self.gaps_of(u) {
                    if g > timeout_ms {
                        n += usize::from(longer);
                        longer = false;
                    } else {
                        longer |= g > 0;
                    }
                }
                n + usize::from(longer)
            })
            .sum();
        // Lengths are kept in 32 bits (up to 49 days, half the memory of `i64`s); should one
        // not fit, the median is taken over all of them recomputed as `i64`s instead.
        let mut lengths: Vec<u32> = Vec::with_capacity(replayed);
        let mut zeros = 0usize;
        let mut wide = false;
        let mut per_user = Vec::with_capacity(self.users.len());
        let mut members: Vec<SessionIx> = Vec::new();
        let mut r = 0u32;
        let mut closed = 0u64;
        for user in self.user_ixs() {
            let mut count = 0u32;
            let mut close = |first: i64, prev: i64, members: &mut Vec<SessionIx>| {
                match u32::try_from(prev.saturating_sub(first)) {
                    Ok(0) => zeros += 1,
                    Ok(length) => lengths.push(length),
                    Err(_) => wide = true,
                }
                closed += 1;
                count += 1;
                if members.len() > 1 {
                    for &m in members.iter() {
                        merged[m] = true;
                    }
                }
                members.clear();
            };
            let mut first = 0;
            let mut prev = 0;
            let mut any = false;
            for (k, (t, s)) in self.events_of(user).enumerate() {
                any = true;
                if k == 0 {
                    first = t;
                } else if t.saturating_sub(prev) > timeout_ms {
                    close(first, prev, &mut members);
                    r += 1;
                    first = t;
                }
                let seen = &mut last_replay_of[s];
                if *seen != r {
                    if *seen != u32::MAX {
                        split[s] = true;
                    }
                    *seen = r;
                    members.push(s);
                }
                prev = t;
            }
            if any {
                close(first, prev, &mut members);
                r += 1;
            }
            per_user.push(count);
        }
        let indices = |bits: &[bool]| {
            bits.iter()
                .enumerate()
                .filter(|(_, b)| **b)
                .map(|(i, _)| SessionIx::from_usize(i))
                .collect::<Vec<SessionIx>>()
        };
        Replay {
            timeout_ms,
            sessions: closed,
            median_length_ms: if wide {
                median(&mut self.lengths_at(timeout_ms))
            } else {
                median_narrow(&mut lengths, zeros)
            },
            per_user,
            split: indices(&split),
            merged: indices(&merged),
        }
    }

    /// The length of every replayed session at `timeout_ms`, as [`Self::replay`] finds them.
    fn lengths_at(&self, timeout_ms: i64) -> Vec<i64> {
        let mut lengths = Vec::new();
        for user in self.user_ixs() {
            let mut times = self.times_of(user);
            let Some(first) = times.next() else {
                continue;
            };
            let (mut first, mut prev) = (first, first);
            for t in times {
                if t.saturating_sub(prev) > timeout_ms {
                    lengths.push(prev.saturating_sub(first));
                    first = t;
                }
                prev = t;
            }
            lengths.push(prev.saturating_sub(first));
        }
        lengths
    }

    /// Replays one user: (first, last, events) of each replayed session.
    #[must_use]
    pub fn user_segments(&self, user: UserIx, timeout_ms: i64) -> Vec<(i64, i64, u32)> {
        let mut out: Vec<(i64, i64, u32)> = Vec::new();
        for t in self.times_of(user) {
            match out.last_mut() {
                Some(seg) if t.saturating_sub(seg.1) <= timeout_ms => {
                    seg.1 = t;
                    seg.2 += 1;
                }
                _ => out.push((t, t, 1)),
            }
        }
        out
    }

    /// How many sessions one user has when replayed at `timeout_ms`.
    #[must_use]
    pub fn user_session_count(&self, user: UserIx, timeout_ms: i64) -> u64 {
        if self.users.get(user.idx()).is_none_or(Range::is_empty) {
            return 0;
        }
        1 + self.gaps_of(user).filter(|&g| g > timeout_ms).count() as u64
    }

    /// The sweep: count, median length, splits and merges for each timeout.
    #[must_use]
    pub fn sweep(&self, timeouts: &[i64], sessions: &[Session]) -> Vec<SweepRow> {
        self.sweep_reusing(timeouts, sessions, None)
    }

    /// The sweep, reusing `done`, a replay already computed (at its own timeout), rather
    /// than redoing it. The timeouts are replayed in parallel.
    #[must_use]
    pub fn sweep_reusing(
        &self,
        timeouts: &[i64],
        sessions: &[Session],
        done: Option<&Replay>,
    ) -> Vec<SweepRow> {
        let row = |r: &Replay| SweepRow {
            timeout_ms: r.timeout_ms,
            sessions: r.sessions,
            median_length_ms: r.median_length_ms,
            split: r.split.len() as u64,
            merged: r.merged.len() as u64,
        };
        timeouts
            .par_iter()
            .map(|&t| match done {
                Some(r) if r.timeout_ms == t => row(r),
                _ => row(&self.replay(t, sessions)),
            })
            .collect()
    }

    /// Gaps between consecutive active in-session events, per bucket; for one user or all.
    #[must_use]
    pub fn gap_histogram_of(&self, user: Option<UserIx>) -> GapHistogram {
        GapHistogram {
            counts: self.gap_counts_of(user).to_vec(),
        }
    }

    /// [`ReplayInput::gap_histogram_of`]'s counts, without allocating.
    #[must_use]
    pub fn gap_counts_of(&self, user: Option<UserIx>) -> [u64; GAP_BUCKETS.len()] {
        let mut counts = [0u64; GAP_BUCKETS.len()];
        let mut add = |u: UserIx| {
            for gap in self.gaps_of(u) {
                counts[GapHistogram::bucket(gap)] += 1;
            }
        };
        match user {
            Some(u) => add(u),
            None => self.user_ixs().for_each(add),
        }
        counts
    }

    /// Gaps over all users.
    #[must_use]
    pub fn gap_histogram(&self) -> GapHistogram {
        self.gap_histogram_of(None)
    }
}

impl ReplayInput {
    /// Every user's index.
    fn user_ixs(&self) -> impl Iterator<Item = UserIx> + use<> {
        (0..self.users.len()).map(UserIx::from_usize)
    }
}

/// A range of [`ReplayInput::users`] as `usize`s.
fn span(range: &Range<u32>) -> Range<usize> {
    range.start as usize..range.end as usize
}

/// [`median`] of `values` and `zeros` more zeros, for values that fit in 32 bits: the same
/// result as over all of them widened, with half the memory, and none for the zeros (most
/// replayed sessions at short timeouts hold one event: over half at one minute).
pub(super) fn median_narrow(values: &mut [u32], zeros: usize) -> i64 {
    let n = values.len() + zeros;
    if n == 0 {
        return 0;
    }
    // The middle value (the upper one of an even count), and the one below it.
    let Some(at) = (n / 2).checked_sub(zeros) else {
        return 0;
    };
    let (below, &mut hi, _) = values.select_nth_unstable(at);
    let hi = i64::from(hi);
    if n % 2 == 1 {
        return hi;
    }
    // `below` holds the values under the middle one: its largest is the lower middle,
    // unless that is one of the zeros.
    let lo = below.iter().copied().max().map_or(0, i64::from);
    super::midpoint(lo, hi)
}
