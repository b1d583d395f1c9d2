//! The flags of the model with their words: the TUI's labels, the JSON names, and the
//! one-sentence explanations with likely causes that `report` prints. Kept in the core so
//! that every view says the same thing.
//!
//! [`Flag`] is the one description of each flag; [`FlagSet`] is the set a session carries
//! (one bit per flag) and [`FlagCounts`] the count of each flag for a user or the stream
//! (an array indexed by [`Flag`], serialised as the §5 summary keys).

use std::ops::{AddAssign, Index, IndexMut};

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A finding of the session model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// A session with no active event.
    Empty,
    /// A session whose `length_ms` is 0.
    ZeroLength,
    /// A session id that cannot be the session's start time.
    SuspectId,
    /// An event with no session (`session_id` -1, null, absent or unusable).
    NoSession,
    /// Consecutive events of a session more than the gap threshold apart.
    Gap,
    /// An idle stretch kept inside a session by inactive events.
    Bridged,
    /// A session with a start marker and no end marker that is not the user's latest.
    Unterminated,
    /// An event repeated (same device and insert id within 7 days).
    Duplicate,
    /// A session whose end marker carries other `user_properties` than its last active
    /// event before it (and does not skip the sync).
    EndPropsChanged,
    /// A session holding events tracked while the app was in the background.
    Background,
}

impl Flag {
    /// Every flag, in display order.
    pub const ALL: [Flag; 10] = [
        Flag::Empty,
        Flag::ZeroLength,
        Flag::SuspectId,
        Flag::NoSession,
        Flag::Gap,
        Flag::Bridged,
        Flag::Unterminated,
        Flag::Duplicate,
        Flag::EndPropsChanged,
        Flag::Background,
    ];

    /// How many flags there are.
    pub const COUNT: usize = Flag::ALL.len();

    /// The flag's bit in a [`FlagSet`].
    const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// What one count of the flag is: a session, an event or a pair of events.
    #[must_use]
    pub const fn unit(self) -> Unit {
        match self {
            Flag::Empty
            | Flag::ZeroLength
            | Flag::SuspectId
            | Flag::Unterminated
            | Flag::EndPropsChanged => Unit::Sessions,
            Flag::NoSession | Flag::Duplicate | Flag::Background => Unit::Events,
            Flag::Gap | Flag::Bridged => Unit::Pairs,
        }
    }

    /// The short label shown in the TUI and text report.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Flag::Empty => "EMPTY",
            Flag::ZeroLength => "ZERO",
            Flag::SuspectId => "SUSPECT ID",
            Flag::NoSession => "NO SESSION",
            Flag::Gap => "GAP",
            Flag::Bridged => "BRIDGED",
            Flag::Unterminated => "UNTERMINATED",
            Flag::Duplicate => "DUP",
            Flag::EndPropsChanged => "END PROPS",
            Flag::Background => "BACKGROUND",
        }
    }

    /// The §5 summary key that counts this flag.
    #[must_use]
    pub fn summary_key(self) -> &'static str {
        match self {
            Flag::Empty => "empty_sessions",
            Flag::ZeroLength => "zero_length_sessions",
            Flag::SuspectId => "suspect_session_ids",
            Flag::NoSession => "out_of_session_events",
            Flag::Gap => "gaps",
            Flag::Bridged => "bridged_gaps",
            Flag::Unterminated => "unterminated_sessions",
            Flag::Duplicate => "duplicate_events",
            Flag::EndPropsChanged => "end_props_changed_sessions",
            Flag::Background => "background_events",
        }
    }

    /// The name of the flag on a session in JSON output.
    #[must_use]
    pub fn json_name(self) -> &'static str {
        match self {
            Flag::Empty => "empty",
            Flag::ZeroLength => "zero_length",
            Flag::SuspectId => "suspect_session_id",
            Flag::NoSession => "out_of_session",
            Flag::Gap => "gap",
            Flag::Bridged => "bridged_gap",
            Flag::Unterminated => "unterminated",
            Flag::Duplicate => "duplicates",
            Flag::EndPropsChanged => "end_props_changed",
            Flag::Background => "background",
        }
    }

    /// What the flag means, in one plain sentence.
    #[must_use]
    pub fn meaning(self) -> &'static str {
        match self {
            Flag::Empty => {
                "sessions that hold no actual event, only session markers, identify calls or other inactive events"
            }
            Flag::ZeroLength => {
                "sessions whose last event is at the session id itself, so Amplitude reports their length as 0"
            }
            Flag::SuspectId => {
                "sessions whose id is after their first event or more than a day before it, so it is not a start time in ms"
            }
            Flag::NoSession => {
                "events with session id -1 (or none), which Amplitude leaves out of every session metric"
            }
            Flag::Gap => {
                "places where two consecutive events of one session are further apart than the gap threshold"
            }
            Flag::Bridged => {
                "idle stretches longer than the gap threshold between actual events that an identify call or session marker kept inside one session"
            }
            Flag::Unterminated => {
                "sessions that have a start marker but no end marker although the user started a later session"
            }
            Flag::Duplicate => {
                "events repeated with the same device and insert id within 7 days, which Amplitude would drop"
            }
            Flag::EndPropsChanged => {
                "sessions whose session end event carries other user properties than the session's last event, so the end event disagrees with the rest of the session"
            }
            Flag::Background => {
                "events tracked while the app was in the background (between Application Backgrounded and the next Application Opened), which make their sessions look longer than the time spent in the app"
            }
        }
    }

    /// The usual cause, from Amplitude's sessions FAQ and SDK behaviour.
    #[must_use]
    pub fn cause(self) -> &'static str {
        match self {
            Flag::Empty => {
                "usually an app that starts a session on launch or foreground and sends nothing else before going idle, or only identify calls"
            }
            Flag::ZeroLength => {
                "usually a session with a single event, or events all sent with the same timestamp"
            }
            Flag::SuspectId => {
                "usually a session id set by hand in seconds instead of milliseconds, a constant, or a clock that moved"
            }
            Flag::NoSession => {
                "usually events sent from a server or the HTTP API without a session_id, which defaults to -1"
            }
            Flag::Gap => {
                "usually an app kept in the foreground without activity, or a session id reused after the app slept"
            }
            Flag::Bridged => {
                "usually identify calls or background events sent while the user was idle, which extend the session"
            }
            Flag::Unterminated => {
                "usually the app was killed or lost connection before it could send session_end"
            }
            Flag::Duplicate => {
                "usually an SDK retry after a lost response, or the same batch uploaded twice"
            }
            Flag::EndPropsChanged => {
                "user properties set (an identify call) between the session's last event and its session end: Amplitude gives the end event the user's properties at the time it is sent, so it carries the updated ones"
            }
            Flag::Background => {
                "events tracked from background work (push handlers, background fetch, location updates, timers) keep the session going, so its length includes the time in the background"
            }
        }
    }

    /// What to do about it, where there is a known fix (Amplitude's sessions FAQ).
    #[must_use]
    pub fn fix(self) -> Option<&'static str> {
        match self {
            Flag::EndPropsChanged => Some(
                "an enrichment plugin that sets $skip_user_properties_sync to true on the session end event, so it keeps the properties of the session (Browser and Node SDKs); the Kotlin and Swift SDKs send only the event fields they know, so there the plugin drops the session end event instead (Amplitude measures a session from its id and its events' times, not from the end event)",
            ),
            Flag::Background => Some(
                "read the foreground time (the session's span less its time in the background) rather than the length; to keep background work out of sessions, send those events with session_id -1",
            ),
            _ => None,
        }
    }
}

/// What a [`Flag`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Recorded sessions.
    Sessions,
    /// Events.
    Events,
    /// Pairs of consecutive events.
    Pairs,
}

impl Unit {
    /// The plural noun, as the text report prints it.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Unit::Sessions => "sessions",
            Unit::Events => "events",
            Unit::Pairs => "pairs",
        }
    }
}

/// A set of [`Flag`]s: one bit per flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct FlagSet(u16);

impl FlagSet {
    /// No flag.
    pub const NONE: FlagSet = FlagSet(0);

    /// Whether `flag` is in the set.
    #[must_use]
    pub const fn contains(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    /// Adds `flag` to the set.
    pub fn insert(&mut self, flag: Flag) {
        self.0 |= flag.bit();
    }

    /// Adds `flag` to the set when `on` holds.
    pub fn insert_if(&mut self, flag: Flag, on: bool) {
        self.0 |= u16::from(on) << flag as u16;
    }

    /// Whether no flag is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The flags in the set, in display order ([`Flag::ALL`]).
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |&f| self.contains(f))
    }
}

impl FromIterator<Flag> for FlagSet {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        let mut set = FlagSet::NONE;
        for f in iter {
            set.insert(f);
        }
        set
    }
}

/// A count per [`Flag`], for a user or the whole stream: sessions for the session flags,
/// events for [`Flag::NoSession`] and [`Flag::Duplicate`], event pairs for [`Flag::Gap`]
/// and [`Flag::Bridged`]. Indexed by [`Flag`]; serialises as a JSON object of the §5
/// summary keys ([`Flag::summary_key`]), alphabetically, or in display order through
/// [`InDisplayOrder`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagCounts([u64; Flag::COUNT]);

impl FlagCounts {
    /// The count for one flag.
    #[must_use]
    pub fn get(&self, flag: Flag) -> u64 {
        self.0[flag as usize]
    }

    /// All anomalies together (a sort key for "most anomalies first").
    #[must_use]
    pub fn anomalies(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Each flag with its count, in display order.
    pub fn iter(&self) -> impl Iterator<Item = (Flag, u64)> + '_ {
        Flag::ALL.into_iter().zip(self.0)
    }
}

impl Index<Flag> for FlagCounts {
    type Output = u64;

    fn index(&self, flag: Flag) -> &u64 {
        &self.0[flag as usize]
    }
}

impl IndexMut<Flag> for FlagCounts {
    fn index_mut(&mut self, flag: Flag) -> &mut u64 {
        &mut self.0[flag as usize]
    }
}

impl AddAssign<&FlagCounts> for FlagCounts {
    fn add_assign(&mut self, other: &FlagCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

/// A JSON object of the §5 summary keys, in the keys' alphabetical order (as the
/// `flags` object of a user in the JSON report has always been written).
impl Serialize for FlagCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_counts(self, Flag::by_summary_key(), serializer)
    }
}

impl Flag {
    /// Every flag, in the alphabetical order of its [`Flag::summary_key`]: the order of a
    /// user's `flags` object in the JSON report. Sorted once: the report asks for every user.
    #[must_use]
    pub fn by_summary_key() -> [Flag; Flag::COUNT] {
        static SORTED: std::sync::OnceLock<[Flag; Flag::COUNT]> = std::sync::OnceLock::new();
        *SORTED.get_or_init(|| {
            let mut flags = Flag::ALL;
            flags.sort_unstable_by_key(|f| f.summary_key());
            flags
        })
    }
}

/// [`FlagCounts`] serialised with its keys in display order ([`Flag::ALL`]), as the flag
/// figures of the §5 summary are listed.
#[derive(Clone, Copy, Debug)]
pub struct InDisplayOrder<'a>(pub &'a FlagCounts);

impl Serialize for InDisplayOrder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_counts(self.0, Flag::ALL, serializer)
    }
}

fn serialize_counts<S: Serializer>(
    counts: &FlagCounts,
    flags: [Flag; Flag::COUNT],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(Flag::COUNT))?;
    for flag in flags {
        map.serialize_entry(flag.summary_key(), &counts[flag])?;
    }
    map.end()
}
