//! The session model of `SESSION-MODEL.md` §2–§5, computed over the store's compact events.
//!
//! Pure and synchronous: no terminal, no runtime, no clock. The TUI and `report` both
//! call [`Analysis::compute`] and read the same [`Analysis`], so they cannot disagree.
//!
//! Invariants:
//! - the result depends on the *set* of events and their input order only through ties:
//!   shuffling the input changes no figure (property-tested);
//! - users are ordered by key (kind, then id), sessions of a user by session id;
//! - per-position arrays (`order`, `pos_session`) list each user's events contiguously in
//!   (event time, input order).
//!
//! Indices are typed ([`crate::index`]): `order` maps a [`Pos`] to an [`EventIx`],
//! `pos_session` a [`Pos`] to a [`SessionIx`], and users are [`UserIx`]. A session's flags
//! are a [`FlagSet`]; a user's or the stream's counts a [`FlagCounts`] indexed by [`Flag`].
//!
//! Choices where the contract is silent:
//! - an anonymous event resolved to a logged-in user through the device (§2 rule 3) joins
//!   *that event's* user key (which is its `amplitude_id` when it has one);
//! - medians of an even count are the mean of the two middle values, rounded down;
//! - the recorded median length is over all recorded sessions' `length_ms`; a replayed
//!   session's length is `last - first` of its active events (its id is its first event);
//! - a recorded session is *split* when its active events fall into two or more replayed
//!   sessions, and *merged* when a replayed session holds active events of it and of
//!   another recorded session; recorded sessions with no active event are *dropped*
//!   (replay acts on active events only).
//! - one user's replay in detail ([`Analysis::user_replay`], [`Analysis::user_sweep`],
//!   [`Analysis::user_comparison`]) gives the same split, merged and counts as the replay of
//!   every user restricted to that user (property-tested); a split session's *cuts* are the
//!   times of its active events that begin another replayed session than its previous one.

mod dup;
mod flag;
mod identity;
mod lifecycle;
pub mod playback;
mod replay;
mod scope;
mod session_detail;
mod sessions;
mod suspect;
mod sweep;
mod triage;
mod user_replay;
mod users;

use std::ops::Range;

use rayon::prelude::*;

pub use flag::{Flag, FlagCounts, FlagSet, InDisplayOrder, Unit};
pub use identity::{IdField, Identity, IdentityRef};
pub use lifecycle::{
    EndPropsPair, PropChange, background_stretches, end_props_pair, end_props_pairs,
    user_properties_diff,
};
pub use replay::{GAP_BUCKETS, GapHistogram, Replay, ReplayInput, SweepRow, sweep_timeouts};
pub use scope::{ScopeFigures, ScopeSweepRow};
pub use session_detail::{EventAt, GapSpan, ReplayedAt, ReplayedPart, SessionDetail};
pub use suspect::{IdReading, id_reading};
pub use triage::severity;
pub use user_replay::{
    Comparison, ReplayedSession, RowScratch, SplitSession, UserReplay, default_comparison,
};

use crate::event::Sym;
use crate::index::{EventIx, IxRange, Pos, SessionIx, UserIx};
use crate::store::EventStore;

/// One minute in ms.
pub const MINUTE_MS: i64 = 60_000;
/// The dedup window: 7 days, inclusive.
pub const DEDUP_WINDOW_MS: i64 = 7 * 86_400_000;
/// A session id more than this before its first event is suspect.
pub const SUSPECT_LEAD_MS: i64 = 86_400_000;

/// Event types that mark session starts (either spelling).
pub const START_MARKERS: [&str; 2] = ["session_start", "[Amplitude] Start Session"];
/// Event types that mark session ends (either spelling).
pub const END_MARKERS: [&str; 2] = ["session_end", "[Amplitude] End Session"];
/// The lifecycle event the Kotlin, Swift and Flutter SDKs send when the app goes to the
/// background: the user's active events after it, up to [`LIFECYCLE_OPENED`], are
/// background events (§3).
pub const LIFECYCLE_BACKGROUNDED: &str = "[Amplitude] Application Backgrounded";
/// The lifecycle event those SDKs send when the app comes to the foreground.
pub const LIFECYCLE_OPENED: &str = "[Amplitude] Application Opened";

/// Identify calls: inactive, but not markers.
pub const IDENTIFY_TYPES: [&str; 2] = ["$identify", "$groupidentify"];

/// The settings an analysis runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Replay timeout T (default 30 min).
    pub timeout_ms: i64,
    /// Gap threshold (default 5 min).
    pub gap_ms: i64,
    /// Extra event types to treat as inactive.
    pub inactive: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            timeout_ms: 30 * MINUTE_MS,
            gap_ms: 5 * MINUTE_MS,
            inactive: Vec::new(),
        }
    }
}

/// How an event type counts for sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventClass {
    /// An "actual event": replay and emptiness look at these.
    Active,
    /// An identify call or a user-named inactive type.
    Inactive,
    /// `session_start` / `[Amplitude] Start Session`.
    StartMarker,
    /// `session_end` / `[Amplitude] End Session`.
    EndMarker,
}

impl EventClass {
    /// Whether the event counts as activity.
    #[must_use]
    pub fn is_active(self) -> bool {
        self == EventClass::Active
    }
}

/// What kind of identity a user key is; keys of different kinds never match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// `amplitude_id`.
    AmplitudeId,
    /// `user_id`.
    UserId,
    /// An anonymous device with no known user.
    Device,
}

impl KeyKind {
    /// The name used in JSON output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::AmplitudeId => "amplitude_id",
            KeyKind::UserId => "user_id",
            KeyKind::Device => "device",
        }
    }
}

/// A user: (kind, id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserKey {
    /// The kind of identity.
    pub kind: KeyKind,
    /// The id text.
    pub id: Sym,
}

/// A recorded session: the events of one user sharing one `session_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Its user.
    pub user: UserIx,
    /// The session id.
    pub id: i64,
    /// All its events.
    pub events: u32,
    /// Its active events.
    pub active: u32,
    /// Earliest event time.
    pub first: i64,
    /// Latest event time.
    pub last: i64,
    /// Consecutive event pairs more than the gap threshold apart.
    pub gaps: u32,
    /// Active pairs over the threshold bridged by inactive events.
    pub bridged: u32,
    /// The longest time between consecutive events.
    pub max_gap_ms: i64,
    /// Events flagged as duplicates.
    pub duplicates: u32,
    /// Background events: active events tracked while the app was in the background
    /// (see [`LIFECYCLE_BACKGROUNDED`]).
    pub background: u32,
    /// Time between its events spent with the app in the background: the stretches,
    /// within its span, from an `[Amplitude] Application Backgrounded` (or the session's
    /// previous event, if later) to the next of its events while the app stayed in the
    /// background. The foreground time is [`Session::span_ms`] minus this.
    pub background_ms: i64,
    /// The flags it carries: every [`Flag`] but [`Flag::NoSession`] can be set.
    pub flags: FlagSet,
}

impl Session {
    /// `max(event time) - session_id` (the FAQ's formula).
    #[must_use]
    pub fn length_ms(&self) -> i64 {
        self.last.saturating_sub(self.id)
    }

    /// Its span less the time spent in the background ([`Session::background_ms`]).
    #[must_use]
    pub fn foreground_ms(&self) -> i64 {
        self.span_ms().saturating_sub(self.background_ms).max(0)
    }

    /// `max(event time) - min(event time)`.
    #[must_use]
    pub fn span_ms(&self) -> i64 {
        self.last.saturating_sub(self.first)
    }

    /// Whether the session carries `flag`.
    #[must_use]
    pub fn has(&self, flag: Flag) -> bool {
        self.flags.contains(flag)
    }

    /// The flags of the model this session carries, in display order.
    #[must_use]
    pub fn flag_list(&self) -> Vec<Flag> {
        self.flags.iter().collect()
    }
}

/// A user with its events and sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Its key.
    pub key: UserKey,
    /// Its events: a range of positions in [`Analysis::order`].
    pub events: Range<Pos>,
    /// Its recorded sessions: a range of [`Analysis::sessions`], by session id.
    pub sessions: Range<SessionIx>,
    /// Events out of session (-1, null, absent or unusable ids).
    pub out_of_session: u32,
    /// Events flagged as duplicates.
    pub duplicates: u32,
    /// Earliest event time.
    pub first: i64,
    /// Latest event time.
    pub last: i64,
}

impl User {
    /// How many recorded sessions the user has.
    #[must_use]
    pub fn session_count(&self) -> u64 {
        self.sessions.len() as u64
    }

    /// How many events the user has.
    #[must_use]
    pub fn event_count(&self) -> u32 {
        self.events.end.raw() - self.events.start.raw()
    }
}

impl FlagCounts {
    fn add_session(&mut self, s: &Session) {
        // Flags counted in sessions; `unit` is const, so this unrolls to four adds.
        for flag in Flag::ALL {
            if flag.unit() == Unit::Sessions {
                self[flag] += u64::from(s.has(flag));
            }
        }
        self[Flag::Gap] += u64::from(s.gaps);
        self[Flag::Bridged] += u64::from(s.bridged);
        self[Flag::Background] += u64::from(s.background);
    }
}

/// The §5 summary: every figure over the whole input after rejection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Accepted events.
    pub events: u64,
    /// Rejected records.
    pub rejected: u64,
    /// Distinct user keys.
    pub users: u64,
    /// Recorded sessions.
    pub sessions: u64,
    /// Flag counts over all sessions and events.
    pub counts: FlagCounts,
    /// Sessions after replay with the chosen timeout.
    pub replayed_sessions: u64,
    /// Events whose `session_id` had an unusable form.
    pub session_id_warnings: u64,
}

/// Per position in [`Analysis::order`]: no recorded session.
pub const NO_SESSION: SessionIx = SessionIx::NONE;

/// Everything the model computes over a store.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The settings used.
    pub rules: Rules,
    /// Users, ordered by key (indexed by [`UserIx`]).
    pub users: Vec<User>,
    /// Recorded sessions, grouped by user, each user's by id (indexed by [`SessionIx`]).
    pub sessions: Vec<Session>,
    /// Event indices, each user's contiguous, in (time, input order) (indexed by [`Pos`]).
    pub order: Vec<EventIx>,
    /// Per position in `order`: its session, or [`NO_SESSION`].
    pub pos_session: Vec<SessionIx>,
    /// Per user: flag counts.
    pub user_counts: Vec<FlagCounts>,
    /// Duplicate flags, one bit per event index.
    duplicate_bits: Vec<u64>,
    /// Class of each event type, indexed by the type's symbol.
    classes: Vec<EventClass>,
    /// Every user's ids ([`Analysis::identity`]).
    identities: identity::Identities,
    /// The active in-session events per user, for replay at any timeout.
    pub replay_input: ReplayInput,
    /// The replay at `rules.timeout_ms`.
    pub replay: Replay,
    /// Gaps between consecutive active in-session events.
    pub gap_histogram: GapHistogram,
    /// The §5 summary.
    pub summary: Summary,
}

impl Analysis {
    /// Computes the whole model over a store.
    #[must_use]
    pub fn compute(store: &EventStore, rules: &Rules) -> Analysis {
        let events = store.events();
        let classes = classify(store, rules);
        // Grouping and duplicate detection only read the events: run them side by side
        // (the duplicate pass is sequential, the grouping mostly so).
        let (
            users::Grouping {
                keys,
                order,
                ranges,
            },
            duplicate_bits,
        ) = rayon::join(
            || users::group(store),
            || dup::find(events, store.id_table()),
        );
        let sessions::Sessions {
            sessions,
            pos_session,
            session_ranges,
            identities,
        } = sessions::build(
            events,
            &order,
            &ranges,
            &sessions::Inputs {
                classes: &classes,
                duplicates: &duplicate_bits,
                lifecycle: sessions::Lifecycle {
                    backgrounded: store.strings.lookup(LIFECYCLE_BACKGROUNDED),
                    opened: store.strings.lookup(LIFECYCLE_OPENED),
                },
                far_sessions: store.far_sessions(),
                ids: store.id_table(),
            },
            rules,
        );

        // Per user, independently: in parallel, in user order.
        let (users, user_counts): (Vec<User>, Vec<FlagCounts>) = keys
            .into_par_iter()
            .enumerate()
            .map(|(u, key)| {
                let range = ranges[u].clone();
                let positions = range.idx();
                let mut out = 0;
                let mut dups = 0;
                for p in positions.clone() {
                    out += u32::from(pos_session[p] == NO_SESSION);
                    dups += u32::from(is_set(&duplicate_bits, order[p].idx()));
                }
                let first = events[order[positions.start]].time;
                let last = events[order[positions.end - 1]].time;
                let mut counts = FlagCounts::default();
                counts[Flag::NoSession] = u64::from(out);
                counts[Flag::Duplicate] = u64::from(dups);
                let srange = session_ranges[u].clone();
                for s in &sessions[srange.idx()] {
                    counts.add_session(s);
                }
                let user = User {
                    key,
                    events: range,
                    sessions: srange,
                    out_of_session: out,
                    duplicates: dups,
                    first,
                    last,
                };
                (user, counts)
            })
            .unzip();

        let replay_input =
            ReplayInput::build(&users, &sessions, events, &order, &pos_session, &classes)
                .with_recorded(&sessions);
        // Both only read the replay input; the histogram is a sequential pass.
        let (replay, gap_histogram) = rayon::join(
            || replay_input.replay(rules.timeout_ms, &sessions),
            || replay_input.gap_histogram(),
        );

        let mut counts = FlagCounts::default();
        for c in &user_counts {
            counts += c;
        }
        let summary = Summary {
            events: events.len() as u64,
            rejected: store.rejected(),
            users: users.len() as u64,
            sessions: sessions.len() as u64,
            counts,
            replayed_sessions: replay.sessions,
            session_id_warnings: store.warning_count,
        };
        Analysis {
            rules: rules.clone(),
            users,
            sessions,
            order,
            pos_session,
            user_counts,
            duplicate_bits,
            classes,
            identities,
            replay_input,
            replay,
            gap_histogram,
            summary,
        }
    }

    /// Re-runs only the replay with another timeout (cheap: no re-sessionisation).
    pub fn set_timeout(&mut self, timeout_ms: i64) {
        self.rules.timeout_ms = timeout_ms;
        self.replay = self.replay_input.replay(timeout_ms, &self.sessions);
        self.summary.replayed_sessions = self.replay.sessions;
    }

    /// The sweep over the standard timeouts and the chosen one.
    #[must_use]
    pub fn sweep(&self) -> Vec<SweepRow> {
        self.replay_input.sweep_reusing(
            &sweep_timeouts(self.rules.timeout_ms),
            &self.sessions,
            Some(&self.replay),
        )
    }

    /// Whether event `i` is a duplicate.
    #[must_use]
    pub fn is_duplicate(&self, i: EventIx) -> bool {
        is_set(&self.duplicate_bits, i.idx())
    }

    /// The class of an event type.
    #[must_use]
    pub fn class(&self, event_type: Sym) -> EventClass {
        self.classes
            .get(event_type.idx())
            .copied()
            .unwrap_or(EventClass::Active)
    }

    /// The sessions of user `u`.
    #[must_use]
    pub fn user_sessions(&self, u: UserIx) -> &[Session] {
        &self.sessions[self.users[u].sessions.idx()]
    }

    /// The event indices of user `u`, in (time, input order).
    #[must_use]
    pub fn user_events(&self, u: UserIx) -> &[EventIx] {
        &self.order[self.users[u].events.idx()]
    }

    /// Every user's index, in user order.
    pub fn user_ixs(&self) -> impl DoubleEndedIterator<Item = UserIx> + ExactSizeIterator + use<> {
        (0..self.users.len()).map(UserIx::from_usize)
    }

    /// The positions of user `u`'s events in `order` that are out of session.
    pub fn out_of_session_positions(&self, u: UserIx) -> impl Iterator<Item = Pos> + '_ {
        self.users[u]
            .events
            .iter_ix()
            .filter(|&p| self.pos_session[p] == NO_SESSION)
    }
}

fn is_set(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

/// The class of every interned string, read as an event type.
fn classify(store: &EventStore, rules: &Rules) -> Vec<EventClass> {
    store
        .strings
        .iter()
        .map(|s| {
            if START_MARKERS.contains(&s) {
                EventClass::StartMarker
            } else if END_MARKERS.contains(&s) {
                EventClass::EndMarker
            } else if IDENTIFY_TYPES.contains(&s) || rules.inactive.iter().any(|t| t == s) {
                EventClass::Inactive
            } else {
                EventClass::Active
            }
        })
        .collect()
}

/// The median of `values` (reordered in place): the mean of the middle two for an even
/// count, rounded down; 0 for none.
#[must_use]
pub fn median(values: &mut [i64]) -> i64 {
    let n = values.len();
    if n == 0 {
        return 0;
    }
    let (_, &mut hi, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return hi;
    }
    let lo = values[..n / 2].iter().copied().max().unwrap_or(hi);
    midpoint(lo, hi)
}

/// `lo + (hi - lo) / 2` for `lo <= hi`, computed wide: no overflow at any `i64`s.
#[must_use]
pub fn midpoint(lo: i64, hi: i64) -> i64 {
    let mid = i128::from(lo) + (i128::from(hi) - i128::from(lo)) / 2;
    i64::try_from(mid).unwrap_or(hi)
}

#[cfg(test)]
mod tests;
