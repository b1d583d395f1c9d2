//! The playback's state in the inspector (`p`): which user, the simulated steps
//! ([`crate::analysis::playback`]), the playhead in stream time, the speed, paused or not.
//!
//! The playhead moves only when [`PlaybackView::advance`] is handed an [`Instant`] (the
//! app's tick passes the caller's): nothing here reads a clock, so tests drive playback
//! with a fake one. Speeds are stream time per wall time ([`SPEEDS`]); the last one,
//! *skip idle*, plays at 60× but crosses any stretch between two steps in at most
//! [`MAX_WAIT`] of wall time, so a day-long pause takes three seconds while the countdown
//! still visibly runs out.

use std::time::{Duration, Instant};

use crate::analysis::playback::{self, Playback};
use crate::analysis::{Analysis, Rules, UserKey};
use crate::index::{EventIx, UserIx};
use crate::store::EventStore;

/// A playback speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speed {
    /// This many ms of stream time per ms of wall time.
    Times(u32),
    /// 60×, with every stretch between two steps crossed in at most [`MAX_WAIT`].
    SkipIdle,
}

impl Speed {
    /// How the view names it: `60×`, `skip idle`.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Speed::Times(n) => format!("{n}×"),
            Speed::SkipIdle => "skip idle".to_string(),
        }
    }

    /// Stream ms per wall ms.
    #[must_use]
    pub fn rate(self) -> i64 {
        match self {
            Speed::Times(n) => i64::from(n),
            Speed::SkipIdle => 60,
        }
    }
}

/// The speeds `]` and `[` step through, slowest first.
pub const SPEEDS: [Speed; 6] = [
    Speed::Times(1),
    Speed::Times(10),
    Speed::Times(60),
    Speed::Times(600),
    Speed::Times(3600),
    Speed::SkipIdle,
];

/// The speed playback starts at: skip idle.
pub const DEFAULT_SPEED: usize = SPEEDS.len() - 1;

/// Under skip idle, the longest wall time spent between two steps.
pub const MAX_WAIT: Duration = Duration::from_secs(3);

/// A running playback of one user's stream.
#[derive(Clone, Debug)]
pub struct PlaybackView {
    /// The user played back, as of the analysis it started with (see
    /// [`PlaybackView::user_in`]).
    pub user: UserIx,
    /// That user's key: a later analysis may number users differently.
    pub key: UserKey,
    /// The user's events in (event time, input order): step inputs index this.
    pub events: Vec<EventIx>,
    /// The simulated steps under [`Playback::timeout_ms`].
    pub playback: Playback,
    /// The playhead (stream time, ms): every step at or before it has happened.
    pub now: i64,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// Paused (by the user, a step, or the end of the stream).
    pub paused: bool,
    /// The instant the playhead last moved to.
    last: Option<Instant>,
    /// Wall time not yet turned into a whole ms of stream time (µs × rate).
    carry: u128,
}

impl PlaybackView {
    /// A playback of user `u` under `rules`' timeout, at its first event, playing.
    #[must_use]
    pub fn new(a: &Analysis, store: &EventStore, u: UserIx, rules: &Rules) -> Self {
        let (inputs, events) = playback::inputs(a, store, u);
        let playback = playback::simulate(&inputs, rules.timeout_ms);
        let now = playback.span().map_or(0, |(first, _)| first);
        Self {
            user: u,
            key: a.users[u].key,
            events,
            playback,
            now,
            speed: DEFAULT_SPEED,
            paused: false,
            last: None,
            carry: 0,
        }
    }

    /// The played user's index in `a` (a newer analysis, live, may renumber users).
    #[must_use]
    pub fn user_in(&self, a: &Analysis) -> Option<UserIx> {
        if a.users
            .get(self.user.idx())
            .is_some_and(|u| u.key == self.key)
        {
            return Some(self.user);
        }
        a.users
            .iter()
            .position(|u| u.key == self.key)
            .map(UserIx::from_usize)
    }

    /// Replays the steps under another timeout over `a`, keeping the playhead (and the
    /// steps, when `a` no longer has the user).
    pub fn retime(&mut self, a: &Analysis, store: &EventStore, timeout_ms: i64) {
        let Some(u) = self.user_in(a) else {
            self.playback.timeout_ms = timeout_ms;
            return;
        };
        let (inputs, events) = playback::inputs(a, store, u);
        self.playback = playback::simulate(&inputs, timeout_ms);
        self.events = events;
        self.user = u;
    }

    /// The current speed.
    #[must_use]
    pub fn speed(&self) -> Speed {
        SPEEDS[self.speed.min(SPEEDS.len() - 1)]
    }

    /// Steps done at the playhead.
    #[must_use]
    pub fn done(&self) -> usize {
        self.playback.done_at(self.now)
    }

    /// Whether every step has happened.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.done() == self.playback.steps.len()
    }

    /// Pauses or resumes; resuming at the end starts over from the first event.
    pub fn toggle_pause(&mut self) {
        if self.paused && self.finished() {
            self.now = self.playback.span().map_or(self.now, |(first, _)| first);
        }
        self.paused = !self.paused;
        self.last = None;
        self.carry = 0;
    }

    /// Moves the playhead to the next step and pauses there.
    pub fn step(&mut self) {
        if let Some(t) = self.playback.next_after(self.now) {
            self.now = t;
        }
        self.paused = true;
        self.last = None;
        self.carry = 0;
    }

    /// One speed faster (`up`) or slower, within [`SPEEDS`].
    pub fn change_speed(&mut self, up: bool) {
        self.speed = if up {
            (self.speed + 1).min(SPEEDS.len() - 1)
        } else {
            self.speed.saturating_sub(1)
        };
        self.carry = 0;
    }

    /// The event the user was last shown arriving: the latest arrived step's event.
    #[must_use]
    pub fn landed(&self) -> Option<EventIx> {
        self.playback.steps[..self.done()]
            .iter()
            .rev()
            .find_map(|s| s.input)
            .and_then(|i| self.events.get(i).copied())
    }

    /// Moves the playhead by the wall time since the last call (the first call after a
    /// start, a resume or a step only notes `now`). Returns whether the playhead moved.
    /// At the end of the stream playback pauses.
    pub fn advance(&mut self, now: Instant) -> bool {
        if self.paused {
            return false;
        }
        let Some(last) = self.last.replace(now) else {
            return false;
        };
        let wall = now.saturating_duration_since(last);
        let before = self.now;
        self.play_for(wall);
        if self.finished() {
            self.paused = true;
        }
        self.now != before
    }

    /// Plays `wall` of wall time from the playhead.
    fn play_for(&mut self, wall: Duration) {
        let mut budget_us = wall.as_micros() + self.carry;
        self.carry = 0;
        let speed = self.speed();
        let max_wait_us = MAX_WAIT.as_micros();
        while budget_us > 0 {
            let Some(next) = self.playback.next_after(self.now) else {
                return;
            };
            let gap = u128::try_from(i128::from(next) - i128::from(self.now)).unwrap_or(0);
            // Stream µs per wall µs, as a fraction rate_num / rate_den.
            let (num, den) = match speed {
                Speed::SkipIdle => {
                    let done = self.done();
                    let from = done
                        .checked_sub(1)
                        .and_then(|i| self.playback.steps.get(i))
                        .map_or(self.now, |s| s.time);
                    let stretch = u128::try_from(i128::from(next) - i128::from(from))
                        .unwrap_or(0)
                        .saturating_mul(1000);
                    let rate = speed.rate().unsigned_abs().into();
                    if stretch > max_wait_us.saturating_mul(rate) {
                        (stretch, max_wait_us)
                    } else {
                        (rate, 1)
                    }
                }
                Speed::Times(_) => (speed.rate().unsigned_abs().into(), 1),
            };
            // Wall µs needed to reach the next step.
            let need_us = gap
                .saturating_mul(1000)
                .saturating_mul(den)
                .div_ceil(num.max(1));
            if need_us <= budget_us {
                self.now = next;
                budget_us -= need_us;
                continue;
            }
            let stream_us = budget_us.saturating_mul(num) / den.max(1);
            let ms = stream_us / 1000;
            self.now = self
                .now
                .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
            // Keep what did not make a whole ms, in wall µs.
            let used_us = (ms * 1000).saturating_mul(den) / num.max(1);
            self.carry = budget_us.saturating_sub(used_us);
            return;
        }
    }
}
