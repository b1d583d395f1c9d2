//! §4 for one user: the user's replay at a timeout in detail (each replayed session with
//! the recorded sessions it joins, each split recorded session with the times it is cut
//! at), the user's sweep over the standard timeouts, and a comparison of two timeouts.
//!
//! The work is linear in the user's active in-session events, so a view about one user can
//! redo it for every timeout it shows; replaying every user stays [`ReplayInput::replay`]'s
//! job. The figures are those of [`ReplayInput::replay`] restricted to the user: the same
//! sessions split and merged, the same counts, and the median of the same lengths
//! (`last - first` of each replayed session's active events).

use rustc_hash::FxHashMap;

use super::{Analysis, ReplayInput, SweepRow, median, sweep_timeouts};
use crate::index::{SessionIx, UserIx};

/// One replayed session of a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayedSession {
    /// Its first active event's time.
    pub first: i64,
    /// Its last active event's time.
    pub last: i64,
    /// Its active events.
    pub events: u32,
    /// The recorded sessions it holds events of, in order of their first event in it.
    pub members: Vec<SessionIx>,
}

impl ReplayedSession {
    /// `last - first`.
    #[must_use]
    pub fn length_ms(&self) -> i64 {
        self.last.saturating_sub(self.first)
    }

    /// Whether it joins two or more recorded sessions.
    #[must_use]
    pub fn is_merge(&self) -> bool {
        self.members.len() > 1
    }
}

/// A recorded session the timeout cuts into several replayed ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitSession {
    /// The recorded session.
    pub session: SessionIx,
    /// Where it is cut: the time of each of its active events that starts another
    /// replayed session than the previous one of its events (one per piece after the
    /// first), ascending.
    pub cuts: Vec<i64>,
    /// How many replayed sessions its active events fall into.
    pub pieces: u32,
}

/// One user replayed at one timeout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserReplay {
    /// The timeout T.
    pub timeout_ms: i64,
    /// The replayed sessions, in time order.
    pub sessions: Vec<ReplayedSession>,
    /// The user's recorded sessions that T splits, in recorded-session order.
    pub split: Vec<SplitSession>,
    /// The user's recorded sessions that share a replayed session with another, in
    /// recorded-session order.
    pub merged: Vec<SessionIx>,
    /// Median length of the replayed sessions (0 when there are none).
    pub median_length_ms: i64,
}

impl UserReplay {
    /// The figures as a sweep row.
    #[must_use]
    pub fn row(&self) -> SweepRow {
        SweepRow {
            timeout_ms: self.timeout_ms,
            sessions: self.sessions.len() as u64,
            median_length_ms: self.median_length_ms,
            split: self.split.len() as u64,
            merged: self.merged.len() as u64,
        }
    }

    /// Whether this replay splits recorded session `s` (a binary search: the replay panel
    /// asks this of every session of its user on every frame).
    #[must_use]
    pub fn splits(&self, s: SessionIx) -> bool {
        self.split.binary_search_by_key(&s, |x| x.session).is_ok()
    }

    /// Whether this replay merges recorded session `s` with another.
    #[must_use]
    pub fn merges(&self, s: SessionIx) -> bool {
        self.merged.binary_search(&s).is_ok()
    }
}

impl ReplayInput {
    /// Replays one user at `timeout_ms`, in detail ([`UserReplay`]). An unknown user has
    /// no sessions.
    #[must_use]
    pub fn user_replay(&self, user: UserIx, timeout_ms: i64) -> UserReplay {
        let mut out = UserReplay {
            timeout_ms,
            ..UserReplay::default()
        };
        // Per recorded session of the user, seen in this pass: (the last replayed session
        // its events fell in, its split entry if any), found through `index`.
        let mut seen: Vec<(SessionIx, usize, Option<usize>)> = Vec::new();
        let mut index = MetIndex::default();
        for (t, s) in self.events_of(user) {
            let new_replayed = match out.sessions.last() {
                Some(r) => t.saturating_sub(r.last) > timeout_ms,
                None => true,
            };
            if new_replayed {
                out.sessions.push(ReplayedSession {
                    first: t,
                    last: t,
                    events: 0,
                    members: Vec::new(),
                });
            }
            let r = out.sessions.len() - 1;
            let current = &mut out.sessions[r];
            current.last = t;
            current.events += 1;
            match index.find(s).map(|k| &mut seen[k]) {
                None => {
                    index.insert(s, seen.len());
                    seen.push((s, r, None));
                    current.members.push(s);
                }
                Some(entry) if entry.1 != r => {
                    entry.1 = r;
                    current.members.push(s);
                    let k = *entry.2.get_or_insert_with(|| {
                        out.split.push(SplitSession {
                            session: s,
                            cuts: Vec::new(),
                            pieces: 1,
                        });
                        out.split.len() - 1
                    });
                    out.split[k].cuts.push(t);
                    out.split[k].pieces += 1;
                }
                Some(_) => {}
            }
        }
        out.split.sort_by_key(|x| x.session);
        let mut merged: Vec<SessionIx> = out
            .sessions
            .iter()
            .filter(|r| r.is_merge())
            .flat_map(|r| r.members.iter().copied())
            .collect();
        merged.sort_unstable();
        merged.dedup();
        out.merged = merged;
        let mut lengths: Vec<i64> = out
            .sessions
            .iter()
            .map(ReplayedSession::length_ms)
            .collect();
        out.median_length_ms = median(&mut lengths);
        out
    }
}

/// Where the recorded sessions a pass over one user has met are in its list: the entry
/// found last first (consecutive events mostly share a session), then a map. A search
/// along the list made a user whose every event has a session of its own (a session id
/// set from each event's time) quadratic: 200,000 such events took two minutes.
#[derive(Debug, Default)]
struct MetIndex {
    last: Option<(SessionIx, usize)>,
    map: FxHashMap<SessionIx, usize>,
}

impl MetIndex {
    fn clear(&mut self) {
        self.last = None;
        self.map.clear();
    }

    /// The entry of session `s`, if met.
    fn find(&mut self, s: SessionIx) -> Option<usize> {
        match self.last {
            Some((last, k)) if last == s => Some(k),
            _ => {
                let k = *self.map.get(&s)?;
                self.last = Some((s, k));
                Some(k)
            }
        }
    }

    /// Records that session `s` is entry `k`.
    fn insert(&mut self, s: SessionIx, k: usize) {
        self.map.insert(s, k);
        self.last = Some((s, k));
    }
}

/// Reusable buffers of [`ReplayInput::user_row`].
#[derive(Default)]
pub struct RowScratch {
    /// Per recorded session seen: (session, the last replayed session it fell in, split,
    /// merged).
    seen: Vec<(SessionIx, usize, bool, bool)>,
    /// Indices into `seen` of the current replayed session's members.
    members: Vec<usize>,
    /// Lengths of the replayed sessions so far.
    lengths: Vec<i64>,
    /// Where each session is in `seen`.
    index: MetIndex,
    /// The one-pass sweep's room.
    pub(super) multi: super::sweep::MultiReplay,
}

impl RowScratch {
    /// Ends the current replayed session `first..=last`.
    fn close(&mut self, first: i64, last: i64) {
        self.lengths.push(last.saturating_sub(first));
        if self.members.len() > 1 {
            for &k in &self.members {
                self.seen[k].3 = true;
            }
        }
        self.members.clear();
    }
}

impl ReplayInput {
    /// User `user`'s figures at `timeout_ms`: [`ReplayInput::user_replay`]'s
    /// [`UserReplay::row`] without building the detail (no vector per replayed session).
    /// A sweep over several timeouts takes one pass for all of them instead
    /// ([`Analysis::user_sweep_into`]).
    #[must_use]
    pub fn user_row(&self, user: UserIx, timeout_ms: i64, scratch: &mut RowScratch) -> SweepRow {
        scratch.seen.clear();
        scratch.members.clear();
        scratch.lengths.clear();
        scratch.index.clear();
        let mut current: Option<(i64, i64)> = None;
        let mut replayed = 0usize;
        for (t, s) in self.events_of(user) {
            match &mut current {
                Some((_, last)) if t.saturating_sub(*last) <= timeout_ms => *last = t,
                _ => {
                    if let Some((first, last)) = current {
                        scratch.close(first, last);
                    }
                    current = Some((t, t));
                    replayed += 1;
                }
            }
            let r = replayed;
            match scratch.index.find(s) {
                None => {
                    let k = scratch.seen.len();
                    scratch.index.insert(s, k);
                    scratch.seen.push((s, r, false, false));
                    scratch.members.push(k);
                }
                Some(k) => {
                    let entry = &mut scratch.seen[k];
                    if entry.1 != r {
                        entry.1 = r;
                        entry.2 = true;
                        scratch.members.push(k);
                    }
                }
            }
        }
        if let Some((first, last)) = current {
            scratch.close(first, last);
        }
        SweepRow {
            timeout_ms,
            sessions: replayed as u64,
            median_length_ms: median(&mut scratch.lengths),
            split: scratch.seen.iter().filter(|x| x.2).count() as u64,
            merged: scratch.seen.iter().filter(|x| x.3).count() as u64,
        }
    }
}

/// Two timeouts of one user side by side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// The replay at the current timeout.
    pub current: UserReplay,
    /// The replay at the other timeout.
    pub other: UserReplay,
    /// The user's recorded sessions the two replays treat differently (split by one and
    /// not the other, or merged by one and not the other), in recorded-session order.
    pub differ: Vec<SessionIx>,
    /// The user's recorded sessions.
    pub recorded: u64,
    /// Their median `length_ms`.
    pub recorded_median_ms: i64,
    /// Those with no active event (replay has nothing to put them in).
    pub dropped: u64,
}

impl Analysis {
    /// User `u` replayed at the current timeout, in detail.
    #[must_use]
    pub fn user_replay(&self, u: UserIx) -> UserReplay {
        self.replay_input.user_replay(u, self.rules.timeout_ms)
    }

    /// User `u`'s sweep: one row per timeout of [`sweep_timeouts`] (the standard ones and
    /// the current one), as [`Analysis::sweep`] has for the whole input.
    #[must_use]
    pub fn user_sweep(&self, u: UserIx) -> Vec<SweepRow> {
        let mut rows = Vec::new();
        self.user_sweep_into(
            u,
            &sweep_timeouts(self.rules.timeout_ms),
            &mut RowScratch::default(),
            &mut rows,
        );
        rows
    }

    /// [`Analysis::user_sweep`] at `timeouts` (those of [`sweep_timeouts`] for the same
    /// rows) into `rows`, replacing what it held, with `scratch`'s room: for a caller that
    /// sweeps many users in turn without allocating for each.
    pub fn user_sweep_into(
        &self,
        u: UserIx,
        timeouts: &[i64],
        scratch: &mut RowScratch,
        rows: &mut Vec<SweepRow>,
    ) {
        self.replay_input
            .user_sweep_rows(u, timeouts, scratch, rows);
    }

    /// User `u` at the current timeout and at `other_ms`, with the sessions they treat
    /// differently.
    #[must_use]
    pub fn user_comparison(&self, u: UserIx, other_ms: i64) -> Comparison {
        let current = self.user_replay(u);
        let other = self.replay_input.user_replay(u, other_ms);
        let range = self.users.get(u.idx()).map(|x| x.sessions.clone());
        let differ = range
            .into_iter()
            .flat_map(|r| r.start.idx()..r.end.idx())
            .map(SessionIx::from_usize)
            .filter(|&s| {
                current.splits(s) != other.splits(s) || current.merges(s) != other.merges(s)
            })
            .collect();
        let sessions = self
            .users
            .get(u.idx())
            .map_or(&[][..], |_| self.user_sessions(u));
        let mut lengths: Vec<i64> = sessions.iter().map(super::Session::length_ms).collect();
        Comparison {
            current,
            other,
            differ,
            recorded: sessions.len() as u64,
            recorded_median_ms: median(&mut lengths),
            dropped: sessions.iter().filter(|s| s.active == 0).count() as u64,
        }
    }
}

/// The timeout to compare the current one `current_ms` with by default: the SDK default
/// it is not (30 min, the browser SDK's, unless T is 30 min; then 5 min, the mobile SDKs').
#[must_use]
pub fn default_comparison(current_ms: i64) -> i64 {
    const THIRTY: i64 = 30 * super::MINUTE_MS;
    if current_ms == THIRTY {
        5 * super::MINUTE_MS
    } else {
        THIRTY
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{MINUTE_MS, Rules};
    use crate::decode::{Batch, Decoder, Origin};
    use crate::event::Location;
    use crate::index::IxRange;
    use crate::store::EventStore;
    use proptest::prelude::*;

    const M: i64 = MINUTE_MS;
    const T0: i64 = 1_700_000_000_000;

    fn analyse(events: &[(&str, i64, i64)], timeout_ms: i64) -> Analysis {
        let mut store = EventStore::new();
        let src = store.add_source("test");
        let mut batch = Batch::default();
        let mut dec = Decoder::new(false);
        for (i, (user, time, session)) in events.iter().enumerate() {
            let line = format!(
                r#"{{"event_type":"a","user_id":"{user}","time":{time},"session_id":{session}}}"#
            );
            let origin = Origin {
                loc: Location {
                    source: src,
                    line: i as u64 + 1,
                    ..Location::default()
                },
                ..Origin::default()
            };
            dec.line(&mut batch, line.as_bytes(), &origin);
        }
        dec.seal(&mut batch);
        store.append(src, batch, 0);
        let rules = Rules {
            timeout_ms,
            ..Rules::default()
        };
        Analysis::compute(&store, &rules)
    }

    /// Session ids of the user's recorded sessions `v`.
    fn ids(a: &Analysis, v: impl IntoIterator<Item = SessionIx>) -> Vec<i64> {
        v.into_iter().map(|s| a.sessions[s].id - T0).collect()
    }

    #[test]
    fn one_user_in_detail() {
        // Session A: events at 0, 2m, 40m (cut at 40m under 30m). Session B starts at 45m,
        // 5 min after A's last event: merged with A's last piece. Session C far later.
        let a = analyse(
            &[
                ("u", T0, T0),
                ("u", T0 + 2 * M, T0),
                ("u", T0 + 40 * M, T0),
                ("u", T0 + 45 * M, T0 + 45 * M),
                ("u", T0 + 300 * M, T0 + 300 * M),
            ],
            30 * M,
        );
        let u = UserIx::new(0);
        let r = a.user_replay(u);
        let spans: Vec<(i64, i64, u32, Vec<i64>)> = r
            .sessions
            .iter()
            .map(|s| {
                (
                    s.first - T0,
                    s.last - T0,
                    s.events,
                    ids(&a, s.members.clone()),
                )
            })
            .collect();
        assert_eq!(
            spans,
            vec![
                (0, 2 * M, 2, vec![0]),
                (40 * M, 45 * M, 2, vec![0, 45 * M]),
                (300 * M, 300 * M, 1, vec![300 * M]),
            ]
        );
        assert_eq!(r.split.len(), 1);
        assert_eq!(ids(&a, [r.split[0].session]), vec![0]);
        assert_eq!(r.split[0].cuts, vec![T0 + 40 * M]);
        assert_eq!(r.split[0].pieces, 2);
        assert_eq!(ids(&a, r.merged.clone()), vec![0, 45 * M]);
        // lengths 2m, 5m, 0 → median 2m
        assert_eq!(r.median_length_ms, 2 * M);
        // At 5m: exactly 5 min (40m → 45m) stays in the session, so the same three.
        let five = a.replay_input.user_replay(u, 5 * M);
        assert_eq!(five.sessions.len(), 3);
        // At 2h: everything up to 45m is one session.
        let long = a.replay_input.user_replay(u, 120 * M);
        assert_eq!((long.sessions.len(), long.split.len()), (2, 0));
        let c = a.user_comparison(u, 120 * M);
        // A is split at 30m only; B is merged under both.
        assert_eq!(ids(&a, c.differ), vec![0]);
    }

    #[test]
    fn default_comparison_is_the_other_sdk_default() {
        for (t, want) in [
            (30 * M, 5 * M),
            (5 * M, 30 * M),
            (M, 30 * M),
            (120 * M, 30 * M),
        ] {
            assert_eq!(default_comparison(t), want, "T = {t}");
        }
    }

    proptest! {
        /// Per user, the detailed replay agrees with the all-users replay restricted to
        /// that user, at any timeout.
        #[test]
        fn user_replay_agrees_with_the_whole_replay(
            raw in proptest::collection::vec((0u8..3, 0i64..600, 0i64..6), 1..60),
            timeout_min in 1i64..90,
        ) {
            let users = ["a", "b", "c"];
            let events: Vec<(&str, i64, i64)> = raw
                .iter()
                .map(|&(u, t, s)| (users[u as usize], T0 + t * M, T0 + s * 100 * M))
                .collect();
            let a = analyse(&events, timeout_min * M);
            let (split, merged) = a.replay.session_marks(a.sessions.len());
            for u in a.user_ixs() {
                let r = a.user_replay(u);
                prop_assert_eq!(r.sessions.len() as u64, u64::from(a.replay.per_user[u.idx()]));
                let range = a.users[u].sessions.clone();
                let want_split: Vec<SessionIx> = range.iter_ix().filter(|&s| split[s]).collect();
                let want_merged: Vec<SessionIx> = range.iter_ix().filter(|&s| merged[s]).collect();
                let got_split: Vec<SessionIx> = r.split.iter().map(|x| x.session).collect();
                prop_assert_eq!(got_split, want_split);
                prop_assert_eq!(&r.merged, &want_merged);
                for x in &r.split {
                    prop_assert_eq!(x.cuts.len() + 1, x.pieces as usize);
                }
                let figures = a.scope_figures(&[u]);
                prop_assert_eq!(r.median_length_ms, figures.replayed_median_ms);
                // The lean row the report's per-user sweep uses agrees with the detail.
                let mut scratch = RowScratch::default();
                for t in [M, timeout_min * M, 30 * M] {
                    prop_assert_eq!(
                        a.replay_input.user_row(u, t, &mut scratch),
                        a.replay_input.user_replay(u, t).row()
                    );
                }
            }
        }
    }
}
