//! One recorded session written out in full, for the inspector's session detail
//! (Enter on a session header): its first and last event, every gap over the gap
//! threshold with the two event times it lies between, its duplicates, its markers, and
//! the replayed sessions it falls into at a timeout (with the other recorded sessions
//! each of those holds). Computed from an [`Analysis`] with the same rules as `report`,
//! so the figures agree: the gaps listed are the pairs [`Session::gaps`] counts, the
//! duplicates those [`Session::duplicates`] counts, the replayed sessions those
//! [`ReplayInput::user_segments`] finds.
//!
//! Pure and linear in the session's user's events; computed once when the detail opens,
//! never while drawing.

use super::{Analysis, EventClass, NO_SESSION, ReplayInput, Session};
use crate::event::Sym;
use crate::index::{EventIx, IxRange, Pos, SessionIx, UserIx};
use crate::store::EventStore;

/// One event as the detail names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventAt {
    /// The event.
    pub event: EventIx,
    /// Its time (epoch ms).
    pub time: i64,
    /// Its `event_type`.
    pub event_type: Sym,
}

/// Two consecutive events of the session further apart than the gap threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapSpan {
    /// The event before the gap.
    pub from: EventAt,
    /// The event after it.
    pub to: EventAt,
}

impl GapSpan {
    /// How long the gap is.
    #[must_use]
    pub fn ms(&self) -> i64 {
        self.to.time.saturating_sub(self.from.time)
    }
}

/// A replayed session (at one timeout) that holds active events of the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayedPart {
    /// Its first active event's time.
    pub first: i64,
    /// Its last active event's time.
    pub last: i64,
    /// Its active events, over all recorded sessions.
    pub events: u32,
    /// How many of them are this session's.
    pub own: u32,
    /// The other recorded sessions it holds active events of (a merge), by index.
    pub others: Vec<SessionIx>,
}

/// The replayed sessions a recorded session falls into at one timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayedAt {
    /// The timeout.
    pub timeout_ms: i64,
    /// The replayed sessions, in time order (none when the session has no active event).
    pub parts: Vec<ReplayedPart>,
}

/// Everything the session detail shows about one recorded session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDetail {
    /// The session.
    pub session: SessionIx,
    /// Its user.
    pub user: UserIx,
    /// Its first event (in the user's order).
    pub first: EventAt,
    /// Its last event.
    pub last: EventAt,
    /// Every gap over the threshold, in time order.
    pub gaps: Vec<GapSpan>,
    /// Its events flagged as duplicates, in time order.
    pub duplicates: Vec<EventAt>,
    /// Start markers it holds (either spelling).
    pub start_markers: u32,
    /// End markers it holds (either spelling).
    pub end_markers: u32,
    /// Identify calls and user-named inactive events it holds (not markers).
    pub other_inactive: u32,
    /// The replayed sessions it falls into, per timeout asked for.
    pub replayed: Vec<ReplayedAt>,
}

impl SessionDetail {
    /// The detail of session `s` of `a`, with the replay at each of `timeouts`.
    /// `None` when `s` is not a session of `a`.
    #[must_use]
    pub fn compute(
        a: &Analysis,
        store: &EventStore,
        s: SessionIx,
        timeouts: &[i64],
    ) -> Option<SessionDetail> {
        let session: &Session = a.sessions.get(s.idx())?;
        let user = session.user;
        let events = store.events();
        let at = |p: Pos| {
            let e = a.order[p];
            let ev = &events[e];
            EventAt {
                event: e,
                time: ev.time,
                event_type: ev.event_type,
            }
        };
        let mut first: Option<EventAt> = None;
        let mut prev: Option<EventAt> = None;
        let mut gaps = Vec::new();
        let mut duplicates = Vec::new();
        let (mut start_markers, mut end_markers, mut other_inactive) = (0, 0, 0);
        for p in a.users.get(user.idx())?.events.iter_ix() {
            if a.pos_session[p] != s {
                continue;
            }
            let here = at(p);
            first.get_or_insert(here);
            if let Some(before) = prev
                && here.time.saturating_sub(before.time) > a.rules.gap_ms
            {
                gaps.push(GapSpan {
                    from: before,
                    to: here,
                });
            }
            if a.is_duplicate(here.event) {
                duplicates.push(here);
            }
            match a.class(here.event_type) {
                EventClass::StartMarker => start_markers += 1,
                EventClass::EndMarker => end_markers += 1,
                EventClass::Inactive => other_inactive += 1,
                EventClass::Active => {}
            }
            prev = Some(here);
        }
        let replayed = timeouts
            .iter()
            .map(|&t| ReplayedAt {
                timeout_ms: t,
                parts: replayed_parts(&a.replay_input, user, s, t),
            })
            .collect();
        Some(SessionDetail {
            session: s,
            user,
            first: first?,
            last: prev?,
            gaps,
            duplicates,
            start_markers,
            end_markers,
            other_inactive,
            replayed,
        })
    }
}

/// The replayed sessions of `user` at `timeout_ms` that hold active events of the
/// recorded session `s` (the same cut as [`ReplayInput::user_segments`]).
fn replayed_parts(
    input: &ReplayInput,
    user: UserIx,
    s: SessionIx,
    timeout_ms: i64,
) -> Vec<ReplayedPart> {
    let mut out = Vec::new();
    let mut part: Option<ReplayedPart> = None;
    let mut close = |part: Option<ReplayedPart>| {
        if let Some(p) = part.filter(|p| p.own > 0) {
            out.push(p);
        }
    };
    for (t, r) in input.events_of(user) {
        let cut = part
            .as_ref()
            .is_none_or(|p| t.saturating_sub(p.last) > timeout_ms);
        if cut {
            close(part.take());
        }
        let p = part.get_or_insert(ReplayedPart {
            first: t,
            last: t,
            events: 0,
            own: 0,
            others: Vec::new(),
        });
        p.last = t;
        p.events += 1;
        if r == s {
            p.own += 1;
        } else if r != NO_SESSION && !p.others.contains(&r) {
            p.others.push(r);
        }
    }
    close(part);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Flag, Rules};
    use crate::decode::{Batch, Decoder, Origin};
    use crate::event::Location;

    fn analysed(text: &str) -> (EventStore, Analysis) {
        let mut store = EventStore::new();
        let src = store.add_source("test");
        let mut batch = Batch::default();
        let mut dec = Decoder::new(false);
        for (i, line) in text.lines().enumerate() {
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
        assert_eq!(batch.rejected(), 0);
        dec.seal(&mut batch);
        store.append(src, batch, 0);
        let a = Analysis::compute(&store, &Rules::default());
        (store, a)
    }

    fn line(ty: &str, user: &str, t: i64, sid: i64, insert: &str) -> String {
        format!(
            r#"{{"event_type":"{ty}","user_id":"{user}","device_id":"d-{user}","time":{t},"session_id":{sid},"insert_id":"{insert}"}}"#
        )
    }

    const M: i64 = 60_000;
    const T0: i64 = 1_700_000_000_000;

    #[test]
    fn the_detail_lists_what_the_session_counts() {
        // u's session A: start marker, events at 0, 1m, 12m (a gap of 11m), a duplicate
        // at 12m, an identify at 20m; session B starts 25m (13m after A's last active
        // event: merged at 30m, apart at 5m).
        let a_id = T0;
        let b_id = T0 + 25 * M;
        let text = [
            line("session_start", "u", T0, a_id, "s"),
            line("view", "u", T0, a_id, "1"),
            line("click", "u", T0 + M, a_id, "2"),
            line("buy", "u", T0 + 12 * M, a_id, "3"),
            line("buy", "u", T0 + 12 * M, a_id, "3"),
            line("$identify", "u", T0 + 14 * M, a_id, "4"),
            line("view", "u", T0 + 25 * M, b_id, "5"),
            line("view", "u", T0 + 26 * M, b_id, "6"),
        ]
        .join("\n");
        let (store, a) = analysed(&text);
        let s = SessionIx::from_usize(0);
        let d = SessionDetail::compute(&a, &store, s, &[30 * M, 5 * M]).expect("a session");
        let sess = &a.sessions[s];
        assert_eq!(d.gaps.len(), sess.gaps as usize);
        assert_eq!(d.gaps.len(), 1);
        assert_eq!(d.gaps[0].ms(), 11 * M);
        assert_eq!(
            (d.gaps[0].from.time, d.gaps[0].to.time),
            (T0 + M, T0 + 12 * M)
        );
        assert_eq!(d.duplicates.len(), sess.duplicates as usize);
        assert_eq!(d.duplicates.len(), 1);
        assert_eq!(
            (d.start_markers, d.end_markers, d.other_inactive),
            (1, 0, 1)
        );
        assert_eq!((d.first.time, d.last.time), (T0, T0 + 14 * M));
        // At 30m: one replayed session holding A's 4 active events and B's 2.
        let at30 = &d.replayed[0];
        assert_eq!(at30.parts.len(), 1);
        let p = &at30.parts[0];
        assert_eq!((p.events, p.own), (6, 4));
        assert_eq!(p.others, vec![SessionIx::from_usize(1)]);
        // At 5m: A splits at its 11m gap into two, neither holding B.
        let at5 = &d.replayed[1];
        assert_eq!(at5.parts.len(), 2);
        assert!(at5.parts.iter().all(|p| p.others.is_empty()));
        assert_eq!(at5.parts.iter().map(|p| p.own).sum::<u32>(), sess.active);
        assert!(a.replay.merged.contains(&s));
        assert!(sess.has(Flag::Gap));
    }

    #[test]
    fn a_session_out_of_range_has_no_detail() {
        let (store, a) = analysed(&line("view", "u", T0, T0, "1"));
        assert!(SessionDetail::compute(&a, &store, SessionIx::from_usize(5), &[M]).is_none());
    }
}
