//! The model's figures for some users rather than the whole input: what `report --user X`
//! prints, and what a view about one user shows. Sums and medians over the users' own
//! sessions, their replay at the current timeout (and the sweep), and their gaps.

use super::{Analysis, FlagCounts, GAP_BUCKETS, GapHistogram, median, sweep_timeouts};
use crate::index::{SessionIx, UserIx};

/// One timeout of a scope's sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeSweepRow {
    /// The timeout.
    pub timeout_ms: i64,
    /// Replayed sessions of the scope's users.
    pub sessions: u64,
    /// Their median length (`last - first` of their active events).
    pub median_length_ms: i64,
}

/// The figures of a set of users.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeFigures {
    /// Users.
    pub users: u64,
    /// Their events.
    pub events: u64,
    /// Their recorded sessions.
    pub sessions: u64,
    /// Their flag counts.
    pub counts: FlagCounts,
    /// Earliest and latest event time, when there are events.
    pub span: Option<(i64, i64)>,
    /// Median `length_ms` of their recorded sessions.
    pub recorded_median_ms: i64,
    /// Their sessions replayed at the analysis' timeout.
    pub replayed_sessions: u64,
    /// Median length of those.
    pub replayed_median_ms: i64,
    /// Their recorded sessions the timeout splits.
    pub split: u64,
    /// Their recorded sessions the timeout merges with another.
    pub merged: u64,
    /// Their recorded sessions with no active event (replay drops them).
    pub dropped: u64,
    /// The sweep over the standard timeouts and the current one.
    pub sweep: Vec<ScopeSweepRow>,
    /// Gaps between their consecutive active in-session events.
    pub gap_histogram: GapHistogram,
}

impl Analysis {
    /// The figures of `users` (see [`ScopeFigures`]).
    #[must_use]
    pub fn scope_figures(&self, users: &[UserIx]) -> ScopeFigures {
        let mut f = ScopeFigures {
            users: users.len() as u64,
            gap_histogram: GapHistogram {
                counts: vec![0; GAP_BUCKETS.len()],
            },
            ..ScopeFigures::default()
        };
        let mut lengths = Vec::new();
        let mut in_scope = vec![false; self.users.len()];
        for &u in users {
            in_scope[u.idx()] = true;
            let user = &self.users[u];
            f.events += u64::from(user.event_count());
            f.counts += &self.user_counts[u];
            f.span = Some(match f.span {
                Some((a, b)) => (a.min(user.first), b.max(user.last)),
                None => (user.first, user.last),
            });
            for s in self.user_sessions(u) {
                f.sessions += 1;
                f.dropped += u64::from(s.active == 0);
                lengths.push(s.length_ms());
            }
            for (n, c) in f
                .gap_histogram
                .counts
                .iter_mut()
                .zip(self.replay_input.gap_counts_of(Some(u)))
            {
                *n += c;
            }
        }
        f.recorded_median_ms = median(&mut lengths);
        let of_scope = |s: &SessionIx| in_scope[self.sessions[*s].user.idx()];
        f.split = self.replay.split.iter().filter(|s| of_scope(s)).count() as u64;
        f.merged = self.replay.merged.iter().filter(|s| of_scope(s)).count() as u64;
        f.sweep = sweep_timeouts(self.rules.timeout_ms)
            .into_iter()
            .map(|t| {
                let mut lengths: Vec<i64> = users
                    .iter()
                    .flat_map(|&u| self.replay_input.user_segments(u, t))
                    .map(|(first, last, _)| last.saturating_sub(first))
                    .collect();
                ScopeSweepRow {
                    timeout_ms: t,
                    sessions: lengths.len() as u64,
                    median_length_ms: median(&mut lengths),
                }
            })
            .collect();
        if let Some(row) = f
            .sweep
            .iter()
            .find(|r| r.timeout_ms == self.rules.timeout_ms)
        {
            f.replayed_sessions = row.sessions;
            f.replayed_median_ms = row.median_length_ms;
        }
        f
    }
}
