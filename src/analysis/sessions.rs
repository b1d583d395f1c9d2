//! §3: recorded sessions and their figures and flags, one pass over each user's events.
//!
//! A user's events arrive in (time, input order), so each session's events are seen in
//! order too: gaps and bridged gaps are decided on the fly from the previous event, the
//! previous active event, and whether every step since then was within the threshold.

use std::ops::Range;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::identity::{Identities, IdentityBuilder};
use super::lifecycle::AppState;
use super::users::split_by_ranges;
use super::{EventClass, Flag, FlagSet, NO_SESSION, Rules, SUSPECT_LEAD_MS, Session, is_set};
use crate::event::{EventRec, FarSessions, IdTable, Sym};
use crate::index::{EventIx, IxRange, Pos, SessionIx, UserIx};

pub(super) struct Sessions {
    pub sessions: Vec<Session>,
    pub pos_session: Vec<SessionIx>,
    pub session_ranges: Vec<Range<SessionIx>>,
    /// Every user's ids, collected on the way (the pass reads each event anyway).
    pub identities: Identities,
}

/// What the pass reads besides the events.
pub(super) struct Inputs<'a> {
    /// The class of every event type symbol.
    pub classes: &'a [EventClass],
    /// One bit per event: duplicates.
    pub duplicates: &'a [u64],
    /// The lifecycle event types, when the input has them.
    pub lifecycle: Lifecycle,
    /// The session ids the event records do not hold.
    pub far_sessions: &'a FarSessions,
    /// The events' ids, by the numbers they hold.
    pub ids: &'a IdTable,
}

/// The symbols of the lifecycle event types (`None`: not in the input).
#[derive(Clone, Copy)]
pub(super) struct Lifecycle {
    /// [`super::LIFECYCLE_BACKGROUNDED`].
    pub backgrounded: Option<Sym>,
    /// [`super::LIFECYCLE_OPENED`].
    pub opened: Option<Sym>,
}

/// Running state of one session while its events stream past.
struct Acc {
    session: Session,
    last_active: Option<i64>,
    /// `user_properties` hash of the last active event so far.
    last_active_props: Option<u32>,
    /// An end marker disagreed with the last active event before it.
    end_props_changed: bool,
    has_start: bool,
    has_end: bool,
    inactive_since_active: bool,
    steps_within_threshold: bool,
}

pub(super) fn build(
    events: &[EventRec],
    order: &[EventIx],
    ranges: &[Range<Pos>],
    inputs: &Inputs<'_>,
    rules: &Rules,
) -> Sessions {
    let mut pos_session = vec![NO_SESSION; order.len()];
    let slices = split_by_ranges(&mut pos_session, ranges.iter().map(IxRange::idx));
    // Users are taken in runs of consecutive ones, each run's sessions and ids gathered
    // in a few growing arrays rather than two small allocations a user (tens of thousands
    // of them, freed again once joined, which left the heap fragmented).
    let chunks: Vec<Chunk> = slices
        .into_par_iter()
        .zip(ranges.par_iter())
        .enumerate()
        .fold(
            <(Chunk, Vec<EventRec>, IdentityBuilder, Scratch)>::default,
            |(mut chunk, mut gathered, mut identity, mut scratch), (u, (pos, range))| {
                let positions = &order[range.idx()];
                // The user's events are scattered over the store: copy them out first, in
                // a loop of independent loads that the CPU overlaps, rather than wait on
                // each one's cache miss in turn inside the branchy pass (twice as fast on
                // 2M events).
                gathered.clear();
                gathered.extend(positions.iter().map(|&i| events[i]));
                identity.clear();
                let n = user_sessions(
                    UserIx::from_usize(u),
                    &gathered,
                    positions,
                    pos,
                    &mut identity,
                    inputs,
                    rules,
                    &mut scratch,
                    &mut chunk.sessions,
                );
                chunk.counts.push(n);
                chunk.identities.push(identity.identity());
                (chunk, gathered, identity, scratch)
            },
        )
        .map(|(chunk, ..)| chunk)
        // In user order: rayon's `collect` keeps the runs in the order of their users.
        .collect();

    // Local session indices → global ones.
    let mut session_ranges = Vec::with_capacity(ranges.len());
    let mut base = 0u32;
    for &n in chunks.iter().flat_map(|c| &c.counts) {
        session_ranges.push(SessionIx::new(base)..SessionIx::new(base + n));
        base += n;
    }
    split_by_ranges(&mut pos_session, ranges.iter().map(IxRange::idx))
        .into_par_iter()
        .zip(session_ranges.par_iter())
        .for_each(|(pos, sr)| {
            for p in pos.iter_mut().filter(|p| **p != NO_SESSION) {
                *p = SessionIx::new(p.raw() + sr.start.raw());
            }
        });
    let mut sessions = Vec::with_capacity(base as usize);
    let mut identities = Identities::default();
    for chunk in chunks {
        sessions.extend(chunk.sessions);
        identities.append(&chunk.identities);
    }
    Sessions {
        sessions,
        pos_session,
        session_ranges,
        identities,
    }
}

/// The largest session index [`Scratch`] keeps from one user to the next.
const SCRATCH_KEEP: usize = 4096;

/// Room one user's pass reuses from the last: tens of thousands of users would otherwise
/// each allocate and free these.
#[derive(Default)]
struct Scratch {
    /// Session id → its running state's place in `accs`.
    index: FxHashMap<i64, u32>,
    accs: Vec<Acc>,
    /// Places in `accs` by session id.
    sorted: Vec<u32>,
    /// Per place in `accs`: its rank by session id.
    rank: Vec<u32>,
}

/// The sessions, session counts and ids of a run of consecutive users.
#[derive(Default)]
struct Chunk {
    sessions: Vec<Session>,
    counts: Vec<u32>,
    identities: Identities,
}

/// Appends one user's sessions to `out` and returns how many. `events` are the user's
/// events in its order, and `positions` their indices in the store (for the duplicate
/// bits).
#[expect(
    clippy::too_many_arguments,
    reason = "the user's events and their places, the pass's inputs, and its room"
)]
fn user_sessions(
    user: UserIx,
    events: &[EventRec],
    positions: &[EventIx],
    pos_session: &mut [SessionIx],
    identity: &mut IdentityBuilder,
    inputs: &Inputs<'_>,
    rules: &Rules,
    scratch: &mut Scratch,
    out: &mut Vec<Session>,
) -> u32 {
    let Inputs {
        classes,
        duplicates,
        lifecycle,
        far_sessions,
        ids,
    } = *inputs;
    let gap = rules.gap_ms;
    // Between the user's Application Backgrounded and next Application Opened.
    let mut app = AppState::new(lifecycle.backgrounded, lifecycle.opened);
    let Scratch {
        index,
        accs,
        sorted,
        rank,
    } = scratch;
    // Clearing a map costs its capacity: after a user with very many sessions, start
    // afresh rather than pay that for every user after it.
    if index.capacity() > SCRATCH_KEEP {
        *index = FxHashMap::default();
    } else {
        index.clear();
    }
    accs.clear();
    let mut last: Option<(i64, u32)> = None;
    for (p, (&i, e)) in positions.iter().zip(events).enumerate() {
        identity.add(e, ids);
        let class = classes
            .get(e.event_type.idx())
            .copied()
            .unwrap_or(EventClass::Active);
        // Lifecycle events move the user's state whatever their session, and are never
        // background events themselves.
        // Whether the time up to this event was spent in the background, and since when.
        let (was_background, since) = (app.in_background, app.since);
        let background = !app.step(e.event_type, e.time) && app.in_background && class.is_active();
        let Some(id) = e.session_id(i.raw(), far_sessions) else {
            continue;
        };
        let local = match last {
            Some((lid, l)) if lid == id => l,
            _ => *index.entry(id).or_insert_with(|| {
                accs.push(Acc {
                    session: Session {
                        user,
                        id,
                        events: 0,
                        active: 0,
                        first: e.time,
                        last: e.time,
                        gaps: 0,
                        bridged: 0,
                        max_gap_ms: 0,
                        duplicates: 0,
                        background: 0,
                        background_ms: 0,
                        flags: FlagSet::NONE,
                    },
                    last_active: None,
                    last_active_props: None,
                    end_props_changed: false,
                    has_start: false,
                    has_end: false,
                    inactive_since_active: false,
                    steps_within_threshold: true,
                });
                u32::try_from(accs.len() - 1).unwrap_or(u32::MAX)
            }),
        };
        last = Some((id, local));
        pos_session[p] = SessionIx::new(local);
        let acc = &mut accs[local as usize];
        let s = &mut acc.session;
        if s.events > 0 && was_background {
            // The stretch since the session's previous event (or since the app went to
            // the background, if later) was spent in the background.
            s.background_ms = s
                .background_ms
                .saturating_add(e.time.saturating_sub(s.last.max(since)).max(0));
        }
        if s.events > 0 {
            let step = e.time.saturating_sub(s.last);
            s.max_gap_ms = s.max_gap_ms.max(step);
            if step > gap {
                s.gaps += 1;
                acc.steps_within_threshold = false;
            }
        }
        s.events += 1;
        s.last = e.time;
        s.duplicates += u32::from(is_set(duplicates, i.idx()));
        s.background += u32::from(background);
        match class {
            EventClass::Active => {
                s.active += 1;
                if let Some(prev) = acc.last_active
                    && e.time.saturating_sub(prev) > gap
                    && acc.inactive_since_active
                    && acc.steps_within_threshold
                {
                    s.bridged += 1;
                }
                acc.last_active = Some(e.time);
                acc.last_active_props = Some(e.props_id());
                acc.inactive_since_active = false;
                acc.steps_within_threshold = true;
            }
            EventClass::Inactive => acc.inactive_since_active = true,
            EventClass::StartMarker => {
                acc.has_start = true;
                acc.inactive_since_active = true;
            }
            EventClass::EndMarker => {
                acc.has_end = true;
                acc.inactive_since_active = true;
                if let Some(props) = acc.last_active_props
                    && props != e.props_id()
                    && !e.skips_props_sync()
                {
                    acc.end_props_changed = true;
                }
            }
        }
    }

    // Order by id; the latest (highest id) session may still be open.
    sorted.clear();
    sorted.extend(0..u32::try_from(accs.len()).unwrap_or(u32::MAX));
    sorted.sort_unstable_by_key(|&l| accs[l as usize].session.id);
    rank.clear();
    rank.resize(accs.len(), 0);
    for (r, &l) in sorted.iter().enumerate() {
        rank[l as usize] = u32::try_from(r).unwrap_or(u32::MAX);
    }
    for p in pos_session.iter_mut().filter(|p| **p != NO_SESSION) {
        *p = SessionIx::new(rank[p.idx()]);
    }
    let latest = sorted.last().copied();
    out.extend(sorted.iter().map(|&l| {
        let acc = &accs[l as usize];
        let mut s = acc.session.clone();
        let f = &mut s.flags;
        f.insert_if(Flag::Empty, s.active == 0);
        f.insert_if(Flag::ZeroLength, s.last.saturating_sub(s.id) == 0);
        f.insert_if(
            Flag::SuspectId,
            s.id > s.first || s.first.saturating_sub(s.id) > SUSPECT_LEAD_MS,
        );
        f.insert_if(Flag::Gap, s.gaps > 0);
        f.insert_if(Flag::Bridged, s.bridged > 0);
        f.insert_if(
            Flag::Unterminated,
            acc.has_start && !acc.has_end && Some(l) != latest,
        );
        f.insert_if(Flag::Duplicate, s.duplicates > 0);
        f.insert_if(Flag::EndPropsChanged, acc.end_props_changed);
        f.insert_if(Flag::Background, s.background > 0);
        s
    }));
    u32::try_from(sorted.len()).unwrap_or(u32::MAX)
}
