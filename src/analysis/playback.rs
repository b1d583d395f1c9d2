//! Playback: what the SDK would do under a timeout T as one user's events arrive, step by
//! step, for the inspector's `p` (and anything else that wants to walk a stream in time).
//!
//! Pure: given the user's events in (event time, input order) as [`PlayInput`]s and T,
//! [`simulate`] produces the [`Step`]s (an event arriving, or the running session expiring)
//! each carrying the [`PlayState`] after it; [`Playback::state_at`] is the state at any
//! playback time. No clock: the caller decides what "now" is.
//!
//! The rules are those of `SESSION-MODEL.md`, so the playback agrees with the replay lane
//! and the replay panel at the same T (§4; property-tested):
//! - a simulated session starts at the first *active* in-session event and at every active
//!   in-session event more than T after the previous one (exactly T stays in); its id is
//!   that event's time, as the SDK's session id is its start time in ms;
//! - the session's countdown runs from its last active event: it expires at `last + T`
//!   and is over from `last + T + 1 ms` on (an [`StepKind::End`] at that time);
//! - inactive events (identify calls, markers, user-named types; §3) never start or extend
//!   a session: an identify call inside the countdown leaves the expiry where it was. When
//!   it falls where the recorded stream kept one session alive across a pause longer than
//!   T, the step says so (the FAQ's "unusually long session": the SDK's own clock counted
//!   the identify; Amplitude's session definition does not);
//! - out-of-session events (`session_id` -1, null, absent or unusable) stay out, active
//!   or not (§4), and do not touch the countdown;
//! - a *background* event (§3: an active event after `[Amplitude] Application
//!   Backgrounded` and before the next `[Amplitude] Application Opened`) is an active event
//!   and extends the session like any other; the step marks it, since it makes a session
//!   look longer than the time spent in the app.
//!
//! Each event step also compares the simulated session with the recorded one: a
//! simulated start inside one recorded session is a *split* ("the SDK would have started a
//! new session here, but the recorded stream kept session X"); an event that continues
//! the simulated session under another recorded id is a *merge*.
//!
//! Times are any `i64`: differences saturate, so ±`i64::MAX` cannot overflow.

use crate::index::{EventIx, IxRange, UserIx};
use crate::store::EventStore;

use super::{Analysis, EventClass, NO_SESSION};

/// The lifecycle event after which the app is in the background (Kotlin, Swift, Flutter).
pub const BACKGROUNDED: &str = "[Amplitude] Application Backgrounded";
/// The lifecycle event that brings the app back to the foreground.
pub const OPENED: &str = "[Amplitude] Application Opened";

/// One event of the user's stream, as playback needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlayInput {
    /// Event time (ms).
    pub time: i64,
    /// How the event counts for sessions.
    pub class: EventClass,
    /// The recorded session id; `None` out of session.
    pub recorded: Option<i64>,
    /// Tracked while the app was in the background (§3); never set on lifecycle events.
    pub background: bool,
}

/// What happened at one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// An active in-session event started a new simulated session.
    Start {
        /// Time since the previous active in-session event (`None`: the first one).
        idle_ms: Option<i64>,
    },
    /// An active in-session event landed in the running session.
    Join {
        /// Time since the previous active in-session event.
        since_ms: i64,
    },
    /// An inactive in-session event (identify, marker): it does not extend the session.
    Inactive,
    /// An out-of-session event: outside every session, the countdown untouched.
    OutOfSession,
    /// The running session expired: T passed after its last active event.
    End,
}

/// How the recorded session of an event compares with the simulated one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Nothing to compare (an end, an out-of-session event, no session running).
    None,
    /// The recorded stream agrees with the simulation here.
    Agrees,
    /// The simulation starts a new session, but the recorded stream kept this session id
    /// from the previous active event: the recorded session is split at T.
    KeptSession(i64),
    /// The simulation continues its session, but the recorded stream started this other
    /// session id: under T the recorded sessions merge.
    NewSession(i64),
    /// An inactive event that the recorded stream kept in the same session as the active
    /// events around it across a pause longer than T: in the recorded stream it kept the
    /// session alive, under Amplitude's definition it does not.
    KeptAlive(i64),
}

/// The simulated state after a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlayState {
    /// The running simulated session's id (its first active event's time).
    pub session: Option<i64>,
    /// The last active event of the running session.
    pub last_active: Option<i64>,
    /// When the running session expires (`last_active + T`, saturating): an active event
    /// up to and including this time joins it.
    pub expires_at: Option<i64>,
    /// Events (all classes) in the running session so far.
    pub in_session: u32,
    /// Active events in the running session so far.
    pub active_in_session: u32,
    /// Simulated sessions started so far.
    pub sessions: u32,
    /// The recorded session of the running session's first active event.
    pub first_recorded: Option<i64>,
    /// The running session began where the recorded stream kept its session (a split).
    pub split_start: bool,
    /// Recorded sessions the running session took in after its first one (merges).
    pub merged: u32,
    /// Events arrived so far.
    pub arrived: u32,
}

impl PlayState {
    /// Time left at `now` before the running session expires (0 at the expiry itself);
    /// `None` without a running session.
    #[must_use]
    pub fn remaining_at(&self, now: i64) -> Option<i64> {
        self.expires_at.map(|e| e.saturating_sub(now).max(0))
    }
}

/// One step of the playback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// When it happens (stream time, ms).
    pub time: i64,
    /// What happens.
    pub kind: StepKind,
    /// The event arriving (index into the inputs); `None` for [`StepKind::End`].
    pub input: Option<usize>,
    /// The simulated session the event lands in (for an end: the one that ended).
    pub session: Option<i64>,
    /// The recorded session compared with the simulated one.
    pub recorded: Recorded,
    /// The event is a background event.
    pub background: bool,
    /// The state after the step.
    pub state: PlayState,
}

/// A simulated playback of one user's stream under one timeout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Playback {
    /// The timeout T.
    pub timeout_ms: i64,
    /// The steps in playback order (by time; at equal times in input order, an end before
    /// the event that comes after it).
    pub steps: Vec<Step>,
}

impl Playback {
    /// How many steps have happened at playback time `now`: those at or before it.
    #[must_use]
    pub fn done_at(&self, now: i64) -> usize {
        self.steps.partition_point(|s| s.time <= now)
    }

    /// The state at playback time `now` (before the first step: nothing has happened).
    #[must_use]
    pub fn state_at(&self, now: i64) -> PlayState {
        match self.done_at(now) {
            0 => PlayState::default(),
            n => self.steps[n - 1].state,
        }
    }

    /// The time of the first step after playback time `now`, if any.
    #[must_use]
    pub fn next_after(&self, now: i64) -> Option<i64> {
        self.steps.get(self.done_at(now)).map(|s| s.time)
    }

    /// The first and last step times.
    #[must_use]
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((self.steps.first()?.time, self.steps.last()?.time))
    }
}

/// Plays `inputs` (one user's events in (event time, input order)) under timeout T.
#[must_use]
pub fn simulate(inputs: &[PlayInput], timeout_ms: i64) -> Playback {
    let mut steps = Vec::with_capacity(inputs.len() + inputs.len() / 4 + 1);
    let mut st = PlayState::default();
    // The recorded session of the previous active in-session event.
    let mut prev_recorded: Option<i64> = None;
    // The time of the previous active in-session event (in any session).
    let mut prev_active: Option<i64> = None;
    let next_active = next_active_in_session(inputs);
    for (i, ev) in inputs.iter().enumerate() {
        // The running session ends first when this event comes after its expiry.
        // (Decided as the replay does, on the saturating difference.)
        if let (Some(expires), Some(last)) = (st.expires_at, st.last_active)
            && ev.time.saturating_sub(last) > timeout_ms
        {
            end(&mut steps, &mut st, expires);
        }
        st.arrived += 1;
        let (kind, recorded, session) = match (ev.recorded, ev.class.is_active()) {
            (None, _) => (StepKind::OutOfSession, Recorded::None, st.session),
            (Some(rec), false) => {
                // An inactive event in session: no effect on the countdown.
                let kept_alive = st.session.is_some()
                    && prev_recorded == Some(rec)
                    && next_active[i].is_some_and(|(t, r)| {
                        r == rec
                            && st
                                .last_active
                                .is_some_and(|l| t.saturating_sub(l) > timeout_ms)
                    });
                if st.session.is_some() {
                    st.in_session += 1;
                }
                let recorded = if kept_alive {
                    Recorded::KeptAlive(rec)
                } else {
                    Recorded::None
                };
                (StepKind::Inactive, recorded, st.session)
            }
            (Some(rec), true) => {
                let same_as_before = prev_recorded == Some(rec);
                let step = match (st.session, st.last_active) {
                    (Some(_), Some(last)) => {
                        st.in_session += 1;
                        st.active_in_session += 1;
                        let recorded = if same_as_before {
                            Recorded::Agrees
                        } else {
                            st.merged += 1;
                            Recorded::NewSession(rec)
                        };
                        (
                            StepKind::Join {
                                since_ms: ev.time.saturating_sub(last),
                            },
                            recorded,
                        )
                    }
                    _ => {
                        let idle_ms = prev_active.map(|last| ev.time.saturating_sub(last));
                        st.session = Some(ev.time);
                        st.sessions += 1;
                        st.in_session = 1;
                        st.active_in_session = 1;
                        st.first_recorded = Some(rec);
                        st.split_start = same_as_before;
                        st.merged = 0;
                        let recorded = if same_as_before {
                            Recorded::KeptSession(rec)
                        } else {
                            Recorded::Agrees
                        };
                        (StepKind::Start { idle_ms }, recorded)
                    }
                };
                st.last_active = Some(ev.time);
                prev_active = Some(ev.time);
                st.expires_at = Some(ev.time.saturating_add(timeout_ms));
                prev_recorded = Some(rec);
                (step.0, step.1, st.session)
            }
        };
        steps.push(Step {
            time: ev.time,
            kind,
            input: Some(i),
            session,
            recorded,
            background: ev.background,
            state: st,
        });
    }
    if let Some(expires) = st.expires_at {
        end(&mut steps, &mut st, expires);
    }
    Playback { timeout_ms, steps }
}

/// Ends the running session, which expired at `expires`: the end step is 1 ms later.
fn end(steps: &mut Vec<Step>, st: &mut PlayState, expires: i64) {
    let session = st.session;
    st.session = None;
    st.last_active = None;
    st.expires_at = None;
    st.in_session = 0;
    st.active_in_session = 0;
    st.first_recorded = None;
    st.split_start = false;
    st.merged = 0;
    steps.push(Step {
        time: expires.saturating_add(1),
        kind: StepKind::End,
        input: None,
        session,
        recorded: Recorded::None,
        background: false,
        state: *st,
    });
}

/// Per input: the time and recorded session of the first active in-session event after
/// it (one pass from the end, so a run of inactive events costs no rescans).
fn next_active_in_session(inputs: &[PlayInput]) -> Vec<Option<(i64, i64)>> {
    let mut out = vec![None; inputs.len()];
    let mut next = None;
    for (i, e) in inputs.iter().enumerate().rev() {
        out[i] = next;
        if let Some(r) = e.recorded.filter(|_| e.class.is_active()) {
            next = Some((e.time, r));
        }
    }
    out
}

/// User `u`'s events as playback inputs, in (event time, input order), with their event
/// indices (to name them and to land a selection on them).
#[must_use]
pub fn inputs(a: &Analysis, store: &EventStore, u: UserIx) -> (Vec<PlayInput>, Vec<EventIx>) {
    let events = store.events();
    let backgrounded = store.strings.lookup(BACKGROUNDED);
    let opened = store.strings.lookup(OPENED);
    let mut in_background = false;
    let mut out = Vec::new();
    let mut ixs = Vec::new();
    for p in a.users[u].events.iter_ix() {
        let e = a.order[p];
        let ev = &events[e.idx()];
        let lifecycle = Some(ev.event_type) == backgrounded || Some(ev.event_type) == opened;
        if Some(ev.event_type) == backgrounded {
            in_background = true;
        } else if Some(ev.event_type) == opened {
            in_background = false;
        }
        let class = a.class(ev.event_type);
        let s = a.pos_session[p];
        out.push(PlayInput {
            time: ev.time,
            class,
            recorded: (s != NO_SESSION).then(|| a.sessions[s.idx()].id),
            background: in_background && !lifecycle && class.is_active(),
        });
        ixs.push(e);
    }
    (out, ixs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;
    const T: i64 = 30 * M;
    const T0: i64 = 1_700_000_000_000;

    fn active(time: i64, recorded: i64) -> PlayInput {
        PlayInput {
            time,
            class: EventClass::Active,
            recorded: Some(recorded),
            background: false,
        }
    }

    fn identify(time: i64, recorded: i64) -> PlayInput {
        PlayInput {
            class: EventClass::Inactive,
            ..active(time, recorded)
        }
    }

    fn out(time: i64, class: EventClass) -> PlayInput {
        PlayInput {
            time,
            class,
            recorded: None,
            background: false,
        }
    }

    /// A step in short: (time offset from T0, kind letter, simulated session offset).
    fn brief(p: &Playback) -> Vec<(i64, &'static str, Option<i64>)> {
        p.steps
            .iter()
            .map(|s| {
                let kind = match s.kind {
                    StepKind::Start { .. } => "start",
                    StepKind::Join { .. } => "join",
                    StepKind::Inactive => "inactive",
                    StepKind::OutOfSession => "out",
                    StepKind::End => "end",
                };
                (
                    s.time.saturating_sub(T0),
                    kind,
                    s.session.map(|x| x.saturating_sub(T0)),
                )
            })
            .collect()
    }

    #[test]
    fn steps_follow_the_contract() {
        type Case = (
            &'static str,
            Vec<PlayInput>,
            Vec<(i64, &'static str, Option<i64>)>,
        );
        let cases: Vec<Case> = vec![
            ("nothing", vec![], vec![]),
            (
                "one event starts a session that ends T + 1 ms later",
                vec![active(T0, T0)],
                vec![(0, "start", Some(0)), (T + 1, "end", Some(0))],
            ),
            (
                "exactly T after the last active event joins",
                vec![active(T0, T0), active(T0 + T, T0)],
                vec![
                    (0, "start", Some(0)),
                    (T, "join", Some(0)),
                    (2 * T + 1, "end", Some(0)),
                ],
            ),
            (
                "T + 1 ms after starts a new session, after the end",
                vec![active(T0, T0), active(T0 + T + 1, T0)],
                vec![
                    (0, "start", Some(0)),
                    (T + 1, "end", Some(0)),
                    (T + 1, "start", Some(T + 1)),
                    (2 * T + 2, "end", Some(T + 1)),
                ],
            ),
            (
                "an identify call does not extend the session",
                vec![
                    active(T0, T0),
                    identify(T0 + 20 * M, T0),
                    active(T0 + 40 * M, T0),
                ],
                vec![
                    (0, "start", Some(0)),
                    (20 * M, "inactive", Some(0)),
                    (T + 1, "end", Some(0)),
                    (40 * M, "start", Some(40 * M)),
                    (40 * M + T + 1, "end", Some(40 * M)),
                ],
            ),
            (
                "an identify call alone starts nothing",
                vec![identify(T0, T0)],
                vec![(0, "inactive", None)],
            ),
            (
                "out-of-session events stay out and leave the countdown",
                vec![
                    active(T0, T0),
                    out(T0 + 20 * M, EventClass::Active),
                    out(T0 + 29 * M, EventClass::StartMarker),
                ],
                vec![
                    (0, "start", Some(0)),
                    (20 * M, "out", Some(0)),
                    (29 * M, "out", Some(0)),
                    (T + 1, "end", Some(0)),
                ],
            ),
            (
                "events at equal times land in one session in input order",
                vec![active(T0, T0), active(T0, T0), identify(T0, T0)],
                vec![
                    (0, "start", Some(0)),
                    (0, "join", Some(0)),
                    (0, "inactive", Some(0)),
                    (T + 1, "end", Some(0)),
                ],
            ),
        ];
        for (name, inputs, want) in cases {
            assert_eq!(brief(&simulate(&inputs, T)), want, "{name}");
        }
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let inputs = [
            active(i64::MIN, i64::MIN),
            active(-1, 0),
            active(i64::MAX, 0),
            active(i64::MAX, 0),
        ];
        let p = simulate(&inputs, T);
        let kinds: Vec<StepKind> = p.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                StepKind::Start { idle_ms: None },
                StepKind::End,
                StepKind::Start {
                    idle_ms: Some(i64::MAX)
                },
                StepKind::End,
                StepKind::Start {
                    idle_ms: Some(i64::MAX)
                },
                StepKind::Join { since_ms: 0 },
                StepKind::End,
            ]
        );
        // The last session's expiry saturates; the end sits at the last representable ms.
        assert_eq!(p.steps[5].state.expires_at, Some(i64::MAX));
        assert_eq!(p.steps[6].time, i64::MAX);
        assert_eq!(p.state_at(i64::MAX).session, None);
        assert_eq!(p.state_at(i64::MIN).session, Some(i64::MIN));
        // A timeout of i64::MAX keeps everything in one session.
        let one = simulate(&inputs, i64::MAX);
        assert_eq!(
            one.steps.iter().filter(|s| s.kind == StepKind::End).count(),
            1
        );
    }

    #[test]
    fn the_recorded_session_is_compared_with_the_simulated_one() {
        // Recorded session A runs 0..50m with a 40m pause (split at T = 30m); recorded
        // session B starts 10m after A's last event (merged into the simulated one).
        let b = T0 + 60 * M;
        let inputs = [
            active(T0, T0),
            identify(T0 + 25 * M, T0),
            active(T0 + 40 * M, T0),
            active(T0 + 50 * M, T0),
            active(b, b),
        ];
        let p = simulate(&inputs, T);
        let rec: Vec<Recorded> = p
            .steps
            .iter()
            .filter(|s| s.input.is_some())
            .map(|s| s.recorded)
            .collect();
        assert_eq!(
            rec,
            vec![
                Recorded::Agrees,
                Recorded::KeptAlive(T0),
                Recorded::KeptSession(T0),
                Recorded::Agrees,
                Recorded::NewSession(b),
            ]
        );
    }

    #[test]
    fn the_state_at_a_time_counts_down_to_the_expiry() {
        let p = simulate(
            &[active(T0, T0), identify(T0 + M, T0), active(T0 + 2 * M, T0)],
            T,
        );
        let cases = [
            (T0 - 1, None, None, 0, 0),
            (T0, Some(T0), Some(T), 1, 1),
            (T0 + M, Some(T0), Some(T - M), 2, 1),
            (T0 + 2 * M, Some(T0), Some(T), 3, 1),
            (T0 + 2 * M + T, Some(T0), Some(0), 3, 1),
            (T0 + 2 * M + T + 1, None, None, 3, 1),
        ];
        for (now, session, remaining, arrived, sessions) in cases {
            let st = p.state_at(now);
            assert_eq!(
                (st.session, st.remaining_at(now), st.arrived, st.sessions),
                (session, remaining, arrived, sessions),
                "at {}",
                now - T0
            );
        }
        assert_eq!(p.next_after(T0), Some(T0 + M));
        assert_eq!(p.next_after(T0 + 2 * M + T + 1), None);
        assert_eq!(p.span(), Some((T0, T0 + 2 * M + T + 1)));
    }

    #[test]
    fn background_events_extend_the_session_and_are_marked() {
        let mut bg = active(T0 + 20 * M, T0);
        bg.background = true;
        let p = simulate(&[active(T0, T0), bg, active(T0 + 45 * M, T0)], T);
        assert!(p.steps[1].background);
        assert_eq!(p.steps[2].kind, StepKind::Join { since_ms: 25 * M });
        assert_eq!(
            p.steps.iter().filter(|s| s.kind == StepKind::End).count(),
            1
        );
    }
}
