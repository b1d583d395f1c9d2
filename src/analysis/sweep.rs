//! §4's sweep for one user: its replays at several timeouts in one pass over its events
//! ([`super::Analysis::user_sweep_into`]; a report carries every user's sweep).
//!
//! Replaying once per timeout walks the user's events once per timeout, and keeps per
//! recorded session which replayed session it last fell in. One pass can decide all
//! timeouts together, because each figure of a replay turns on comparisons of gaps with
//! the timeout:
//!
//! - a replayed session ends before an event whose gap from the user's previous active
//!   in-session event is over the timeout: at every timeout below that gap at once;
//! - a recorded session is *split* when a replayed session ends between two of its events,
//!   that is when the largest gap inside its span (from its first event to its last, over
//!   the user's events in between, whatever their session) is over the timeout;
//! - a recorded session is *merged* when it shares a replayed session with another one,
//!   that is when, somewhere in the user's events, one of its events and a neighbouring
//!   event of another session are at most the timeout apart (two sessions in one replayed
//!   session have such a neighbouring pair between them; such a pair is never cut).
//!
//! So the pass keeps, per recorded session, its largest inner gap and its smallest gap to a
//! neighbour of another session, and compares them with each timeout at the end. The
//! largest gap over a range of events comes from a stack of the gaps so far that are
//! larger than every later one (the first entry after the range's start is its maximum).
//! Replayed session lengths are kept per timeout in 32 bits, zero lengths only counted; a
//! timeout with a longer one takes its median from the user's replayed sessions at that
//! timeout in full. The property tests hold the rows equal to one replay per timeout.
//!
//! The whole input's sweep ([`ReplayInput::sweep_reusing`]) still replays each timeout on
//! its own: one pass over every user would keep every timeout's lengths at once (some
//! 2.5M of them on 2M events, against two timeouts' for two replays side by side), at the
//! moment the inspector's memory peaks, for a few milliseconds less.

use super::replay::{ReplayInput, SweepRow, median_narrow};
use super::user_replay::RowScratch;
use crate::index::{SessionIx, UserIx};

/// A recorded session met in the pass over its user's events.
#[derive(Clone, Copy, Debug)]
struct Met {
    session: SessionIx,
    /// Position (in the user's events) of its last event so far.
    last: u32,
    /// Largest gap between its first event and its last one so far (`i64::MIN`: none).
    inner: i64,
    /// Smallest gap between one of its events and a neighbour of another session.
    beside: Option<i64>,
}

/// Replays users at several timeouts at once and adds up their figures.
#[derive(Debug, Default)]
pub struct MultiReplay {
    /// The timeouts, ascending and distinct.
    timeouts: Vec<i64>,
    /// Per timeout: replayed sessions, recorded sessions split and merged.
    sessions: Vec<u64>,
    split: Vec<u64>,
    merged: Vec<u64>,
    /// Per timeout: the replayed sessions' lengths above zero, how many were zero, and
    /// whether one did not fit in 32 bits.
    lengths: Vec<Vec<u32>>,
    zeros: Vec<usize>,
    wide: Vec<bool>,
    /// Per timeout: when the current replayed session began.
    first: Vec<i64>,
    /// The current user's recorded sessions, in order of their first event.
    met: Vec<Met>,
    /// Per session index seen: its entry in `met` (valid only if that entry names it).
    slot: Vec<u32>,
    /// (position, gap) of the current user's gaps larger than every later one so far.
    peaks: Vec<(u32, i64)>,
}

impl MultiReplay {
    /// Starts over at `timeouts` (ascending and distinct), keeping the room of earlier
    /// use.
    pub fn reset(&mut self, timeouts: &[i64]) {
        debug_assert!(timeouts.windows(2).all(|w| w[0] < w[1]));
        let n = timeouts.len();
        self.timeouts.clear();
        self.timeouts.extend_from_slice(timeouts);
        for v in [&mut self.sessions, &mut self.split, &mut self.merged] {
            v.clear();
            v.resize(n, 0);
        }
        self.lengths.resize_with(n, Vec::new);
        for l in &mut self.lengths {
            l.clear();
        }
        self.zeros.clear();
        self.zeros.resize(n, 0);
        self.wide.clear();
        self.wide.resize(n, false);
        self.first.clear();
        self.first.resize(n, 0);
    }

    /// Adds one user's active in-session events, in time order.
    pub fn add_user(&mut self, events: impl Iterator<Item = (i64, SessionIx)>) {
        self.met.clear();
        self.peaks.clear();
        let mut prev_time = 0i64;
        let mut prev_k = 0usize;
        let mut any = false;
        for (pos, (time, session)) in (0u32..).zip(events) {
            let gap = if any {
                let gap = time.saturating_sub(prev_time);
                // A replayed session ends here at every timeout below the gap (most gaps
                // are below them all).
                let cut = if self.timeouts.first().is_none_or(|&t| gap <= t) {
                    0
                } else {
                    self.timeouts.partition_point(|&t| t < gap)
                };
                for j in 0..cut {
                    self.close(j, prev_time);
                    self.first[j] = time;
                }
                while self.peaks.last().is_some_and(|&(_, g)| g <= gap) {
                    self.peaks.pop();
                }
                self.peaks.push((pos, gap));
                Some(gap)
            } else {
                self.first.fill(time);
                any = true;
                None
            };
            // Mostly the session of the event before.
            let k = match self.met.get(prev_k) {
                Some(m) if m.session == session => Some(prev_k),
                _ => self.find(session),
            };
            match k {
                Some(k) => {
                    let met = &mut self.met[k];
                    // The largest gap after its previous event, up to this one.
                    let inner = if met.last + 1 == pos {
                        gap.unwrap_or(i64::MIN)
                    } else {
                        let at = self.peaks.partition_point(|&(p, _)| p <= met.last);
                        self.peaks.get(at).map_or(i64::MIN, |&(_, g)| g)
                    };
                    met.inner = met.inner.max(inner);
                    met.last = pos;
                }
                None => {
                    let k = u32::try_from(self.met.len()).unwrap_or(u32::MAX);
                    *self.session_slot(session) = k;
                    self.met.push(Met {
                        session,
                        last: pos,
                        inner: i64::MIN,
                        beside: None,
                    });
                }
            }
            let k = k.unwrap_or(self.met.len() - 1);
            if let Some(gap) = gap
                && k != prev_k
            {
                for m in [k, prev_k] {
                    let beside = &mut self.met[m].beside;
                    *beside = Some(beside.map_or(gap, |b| b.min(gap)));
                }
            }
            prev_time = time;
            prev_k = k;
        }
        if !any {
            return;
        }
        for j in 0..self.timeouts.len() {
            self.close(j, prev_time);
        }
        for met in &self.met {
            for (j, &t) in self.timeouts.iter().enumerate() {
                self.split[j] += u64::from(met.inner > t);
                self.merged[j] += u64::from(met.beside.is_some_and(|b| b <= t));
            }
        }
    }

    /// Ends timeout `j`'s current replayed session at `last`.
    fn close(&mut self, j: usize, last: i64) {
        self.sessions[j] += 1;
        match u32::try_from(last.saturating_sub(self.first[j])) {
            Ok(0) => self.zeros[j] += 1,
            Ok(length) => self.lengths[j].push(length),
            Err(_) => self.wide[j] = true,
        }
    }

    /// The entry of `session` in `met`, if the current user has met it.
    fn find(&self, session: SessionIx) -> Option<usize> {
        let k = *self.slot.get(session.idx())? as usize;
        self.met.get(k).filter(|m| m.session == session).map(|_| k)
    }

    fn session_slot(&mut self, session: SessionIx) -> &mut u32 {
        if session.idx() >= self.slot.len() {
            self.slot.resize(session.idx() + 1, u32::MAX);
        }
        &mut self.slot[session.idx()]
    }

    /// The rows so far, in timeout order; `wide_median(timeout)` gives the median of a
    /// timeout whose lengths did not all fit in 32 bits.
    pub fn rows_into(&mut self, rows: &mut Vec<SweepRow>, wide_median: impl Fn(i64) -> i64) {
        for j in 0..self.timeouts.len() {
            let timeout_ms = self.timeouts[j];
            rows.push(SweepRow {
                timeout_ms,
                sessions: self.sessions[j],
                median_length_ms: if self.wide[j] {
                    wide_median(timeout_ms)
                } else {
                    median_narrow(&mut self.lengths[j], self.zeros[j])
                },
                split: self.split[j],
                merged: self.merged[j],
            });
        }
    }
}

impl ReplayInput {
    /// User `user`'s sweep rows at `timeouts` (ascending and distinct) into `rows`
    /// (cleared first), in one pass over its events with `scratch`'s room.
    pub fn user_sweep_rows(
        &self,
        user: UserIx,
        timeouts: &[i64],
        scratch: &mut RowScratch,
        rows: &mut Vec<SweepRow>,
    ) {
        rows.clear();
        let multi = &mut scratch.multi;
        multi.reset(timeouts);
        multi.add_user(self.events_of(user));
        multi.rows_into(rows, |t| {
            let segments = self.user_segments(user, t);
            let mut lengths: Vec<i64> = segments
                .iter()
                .map(|&(a, b, _)| b.saturating_sub(a))
                .collect();
            super::median(&mut lengths)
        });
    }
}
