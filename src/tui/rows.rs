//! Derived, per-user views of the analysis: the event list's rows (events grouped under
//! session headers) and the timeline's lanes. Built when the selected user, the filter,
//! the order, the timeout or the analysis changes, never while rendering; rendering then
//! formats only the rows on screen.
//!
//! Folded sessions ([`Folds`]) list only their header row; everything that looks for an
//! event's row ([`event_row`]) finds a folded session's header instead.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::{Analysis, NO_SESSION, Session};
use crate::event::Sym;
use crate::index::{EventIx, IxRange, Pos, SessionIx, UserIx};
use crate::store::EventStore;

/// The order of the event list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// Oldest events first (how a stream reads).
    #[default]
    OldestFirst,
    /// Newest events first (Amplitude's User Look-Up).
    NewestFirst,
}

impl Order {
    /// Its name in titles.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Order::OldestFirst => "oldest first",
            Order::NewestFirst => "newest first",
        }
    }

    /// The other order.
    #[must_use]
    pub fn toggled(self) -> Order {
        match self {
            Order::OldestFirst => Order::NewestFirst,
            Order::NewestFirst => Order::OldestFirst,
        }
    }
}

/// No previous event in the same session.
pub const NO_GAP: i64 = -1;

/// One row of the event list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// A session header.
    Session {
        /// The session.
        session: SessionIx,
        /// How many of its events are listed (fewer than all under a type filter).
        shown: u32,
    },
    /// An event.
    Event {
        /// Position in [`Analysis::order`].
        pos: Pos,
        /// Time since the previous event of its session (all its events), or [`NO_GAP`].
        gap_ms: i64,
    },
}

/// Whether an event type matches a type filter (case-insensitive substring).
#[derive(Debug, Default)]
pub struct TypeFilter {
    needle: String,
    cache: FxHashMap<Sym, bool>,
}

impl TypeFilter {
    /// A filter on `text`; empty matches everything.
    #[must_use]
    pub fn new(text: &str) -> Self {
        Self {
            needle: text.to_lowercase(),
            cache: FxHashMap::default(),
        }
    }

    /// Whether the type `sym` matches.
    pub fn matches(&mut self, store: &EventStore, sym: Sym) -> bool {
        if self.needle.is_empty() {
            return true;
        }
        let needle = &self.needle;
        *self.cache.entry(sym).or_insert_with(|| {
            store
                .strings
                .get(sym)
                .to_lowercase()
                .contains(needle.as_str())
        })
    }
}

/// Which sessions of the event list are folded (show only their header row). Sessions
/// are named by their id, which stays the same across re-analyses of a growing store.
/// `C` sets or clears [`Folds::all`]; Space toggles one session against it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folds {
    /// Every session is folded, except those in `toggled`.
    pub all: bool,
    /// Session ids folded (or, under `all`, unfolded) one by one.
    pub toggled: FxHashSet<i64>,
}

impl Folds {
    /// Whether the session with id `id` is folded.
    #[must_use]
    pub fn is_folded(&self, id: i64) -> bool {
        self.all != self.toggled.contains(&id)
    }

    /// Whether any session may be folded.
    #[must_use]
    pub fn any(&self) -> bool {
        self.all || !self.toggled.is_empty()
    }

    /// Folds or unfolds the session with id `id`; returns whether it is now folded.
    pub fn toggle(&mut self, id: i64) -> bool {
        if !self.toggled.remove(&id) {
            self.toggled.insert(id);
        }
        self.is_folded(id)
    }

    /// Unfolds the session with id `id`; returns whether it was folded.
    pub fn unfold(&mut self, id: i64) -> bool {
        if !self.is_folded(id) {
            return false;
        }
        self.toggle(id);
        true
    }

    /// Folds every session, or unfolds every session when all were folded; returns
    /// whether they are now folded.
    pub fn toggle_all(&mut self) -> bool {
        self.all = !(self.all && self.toggled.is_empty());
        self.toggled.clear();
        self.all
    }

    /// Forgets the sessions folded one by one (another user's ids mean nothing here);
    /// "all folded" stays.
    pub fn forget_sessions(&mut self) {
        self.toggled.clear();
    }
}

/// The rows of user `u`'s event list. A folded session (`folds`) lists only its header,
/// with the count of its events the filter lets through.
#[must_use]
pub fn build_rows(
    a: &Analysis,
    store: &EventStore,
    u: UserIx,
    order: Order,
    type_filter: &str,
    folds: &Folds,
) -> Vec<Row> {
    let Some(user) = a.users.get(u.idx()) else {
        return Vec::new();
    };
    let events = store.events();
    let mut filter = TypeFilter::new(type_filter);
    let s0 = user.sessions.start;
    let n_sessions = user.sessions.len();
    let mut per_session: Vec<Vec<Row>> = vec![Vec::new(); n_sessions];
    let mut last_time = vec![i64::MIN; n_sessions];
    // (sort time, tie-break position, item): a session (by its first listed event) or a
    // standalone out-of-session event.
    let mut items: Vec<(i64, Pos, Item)> = Vec::new();
    for p in user.events.iter_ix() {
        let e = &events[a.order[p]];
        let s = a.pos_session[p];
        let gap_ms = if s == NO_SESSION {
            NO_GAP
        } else {
            let k = s.offset_from(s0);
            let prev = std::mem::replace(&mut last_time[k], e.time);
            if prev == i64::MIN {
                NO_GAP
            } else {
                e.time.saturating_sub(prev)
            }
        };
        if !filter.matches(store, e.event_type) {
            continue;
        }
        let row = Row::Event { pos: p, gap_ms };
        if s == NO_SESSION {
            items.push((e.time, p, Item::Single(row)));
        } else {
            let k = s.offset_from(s0);
            if per_session[k].is_empty() {
                items.push((e.time, p, Item::Session(s)));
            }
            per_session[k].push(row);
        }
    }
    items.sort_by_key(|&(t, p, _)| (t, p));
    if order == Order::NewestFirst {
        items.reverse();
    }
    let mut rows = Vec::with_capacity(items.len() + user.events.len());
    for (_, _, item) in items {
        match item {
            Item::Single(row) => rows.push(row),
            Item::Session(s) => {
                let list = std::mem::take(&mut per_session[s.offset_from(s0)]);
                rows.push(Row::Session {
                    session: s,
                    shown: u32::try_from(list.len()).unwrap_or(u32::MAX),
                });
                if a.sessions
                    .get(s.idx())
                    .is_some_and(|x| folds.is_folded(x.id))
                {
                    continue;
                }
                match order {
                    Order::OldestFirst => rows.extend(list),
                    Order::NewestFirst => rows.extend(list.into_iter().rev()),
                }
            }
        }
    }
    rows
}

#[derive(Clone, Copy, Debug)]
enum Item {
    Session(SessionIx),
    Single(Row),
}

/// Whether a row carries a flag (for `e` / `E`).
#[must_use]
pub fn row_is_flagged(a: &Analysis, row: Row) -> bool {
    match row {
        Row::Session { session, .. } => a
            .sessions
            .get(session.idx())
            .is_some_and(|s| !s.flags.is_empty()),
        Row::Event { pos, gap_ms } => {
            a.pos_session[pos] == NO_SESSION
                || a.is_duplicate(a.order[pos])
                || gap_ms > a.rules.gap_ms
        }
    }
}

/// Whether a row carries `flag` (for `e` / `E` under a finding): a session carrying it,
/// or an event out of session, duplicated or after a gap, as the flag says.
#[must_use]
pub fn row_has_flag(a: &Analysis, row: Row, flag: crate::analysis::Flag) -> bool {
    use crate::analysis::Flag;
    match row {
        Row::Session { session, .. } => a.sessions.get(session.idx()).is_some_and(|s| s.has(flag)),
        Row::Event { pos, gap_ms } => match flag {
            Flag::NoSession => a.pos_session[pos] == NO_SESSION,
            Flag::Duplicate => a.is_duplicate(a.order[pos]),
            Flag::Gap => gap_ms > a.rules.gap_ms,
            _ => false,
        },
    }
}

/// The event a row stands for: the event itself, or a session's first listed event
/// (a folded session's header: the session's first event).
#[must_use]
pub fn row_event(a: &Analysis, store: &EventStore, rows: &[Row], i: usize) -> Option<EventIx> {
    match *rows.get(i)? {
        Row::Event { pos, .. } => a.order.get(pos.idx()).copied(),
        Row::Session { session, .. } => match rows.get(i + 1) {
            Some(Row::Event { pos, .. }) if a.pos_session.get(pos.idx()) == Some(&session) => {
                a.order.get(pos.idx()).copied()
            }
            _ => first_event_of(a, store, session),
        },
    }
}

/// The first event (in the user's order) of `session`.
#[must_use]
pub fn first_event_of(a: &Analysis, store: &EventStore, session: SessionIx) -> Option<EventIx> {
    let s = a.sessions.get(session.idx())?;
    let user = a.users.get(s.user.idx())?;
    let positions = user.events.idx();
    let events = store.events();
    // The user's events are ordered by time: start at the first one at the session's
    // first time (a binary search), then look for the session's own.
    let ixs = a.order.get(positions.clone())?;
    let from = ixs.partition_point(|&e| events[e].time < s.first);
    (positions.start + from..positions.end)
        .map(Pos::from_usize)
        .find(|&p| a.pos_session[p] == session)
        .and_then(|p| a.order.get(p.idx()).copied())
}

/// The row of event `e` of user `u`; with `header`, or when its session is folded, the
/// row of its session's header.
#[must_use]
pub fn event_row(a: &Analysis, rows: &[Row], u: UserIx, e: EventIx, header: bool) -> Option<usize> {
    if let Some(i) = rows.iter().position(|r| match r {
        Row::Event { pos, .. } => a.order[*pos] == e,
        Row::Session { .. } => false,
    }) {
        if header && i > 0 && matches!(rows[i - 1], Row::Session { .. }) {
            return Some(i - 1);
        }
        return Some(i);
    }
    let user = a.users.get(u.idx())?;
    let p = user.events.iter_ix().find(|&p| a.order[p] == e)?;
    let s = a.pos_session[p];
    if s == NO_SESSION {
        return None;
    }
    header_row(rows, s)
}

/// The row of `session`'s header.
#[must_use]
pub fn header_row(rows: &[Row], session: SessionIx) -> Option<usize> {
    rows.iter()
        .position(|r| matches!(r, Row::Session { session: s, .. } if *s == session))
}

/// The header row of the session that row `i` belongs to: `i` itself for a header, the
/// nearest header above for an event in a session, `None` for an out-of-session event.
#[must_use]
pub fn session_header_of(a: &Analysis, rows: &[Row], i: usize) -> Option<usize> {
    match *rows.get(i)? {
        Row::Session { .. } => Some(i),
        Row::Event { pos, .. } => {
            let s = *a.pos_session.get(pos.idx())?;
            if s == NO_SESSION {
                return None;
            }
            (0..i)
                .rev()
                .find(|&k| matches!(rows[k], Row::Session { session, .. } if session == s))
        }
    }
}

/// The display width of user `u`'s longest event type (sanitised as drawn), for a type
/// column that does not move while scrolling, folding or filtering.
#[must_use]
pub fn longest_type(a: &Analysis, store: &EventStore, u: UserIx) -> usize {
    let Some(user) = a.users.get(u.idx()) else {
        return 0;
    };
    let events = store.events();
    let mut seen: FxHashSet<Sym> = FxHashSet::default();
    let mut longest = 0;
    for &e in &a.order[user.events.idx()] {
        let sym = events[e].event_type;
        if seen.insert(sym) {
            let name = crate::fmt::sanitize(store.strings.get(sym));
            longest = longest.max(unicode_width::UnicodeWidthStr::width(name.as_ref()));
        }
    }
    longest
}

/// The event rows of a list: (row index, the event's position in `a.order`, its time).
pub fn event_rows<'a>(
    a: &'a Analysis,
    store: &'a EventStore,
    rows: &'a [Row],
) -> impl Iterator<Item = (usize, Pos, i64)> + 'a {
    let events = store.events();
    rows.iter().enumerate().filter_map(move |(i, r)| match r {
        Row::Event { pos, .. } => Some((i, *pos, events[a.order[*pos]].time)),
        Row::Session { .. } => None,
    })
}

/// The timeline's data for one user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lanes {
    /// The user.
    pub user: UserIx,
    /// The replay timeout the replayed lane is for.
    pub timeout_ms: i64,
    /// Earliest and latest event time.
    pub span: (i64, i64),
    /// Per recorded session of the user (in [`Analysis::user_sessions`] order): its row.
    pub session_row: Vec<u8>,
    /// Rows the recorded lane needs (overlapping sessions are stacked, at most 3).
    pub rows: u8,
    /// Idle stretches inside sessions longer than the gap threshold: (session, from, to),
    /// the session as an index into the user's sessions.
    pub gaps: Vec<(u32, i64, i64)>,
    /// Times of out-of-session events.
    pub out_of_session: Vec<i64>,
    /// Replayed sessions at `timeout_ms`: (first, last, events).
    pub replayed: Vec<(i64, i64, u32)>,
    /// Where the replay at `timeout_ms` cuts a recorded session: (session, from, to), the
    /// idle stretch between two of its active events more than the timeout apart, the
    /// session as an index into the user's sessions.
    pub cuts: Vec<(u32, i64, i64)>,
    /// Where the replay at `timeout_ms` ties two recorded sessions into one: (from, to),
    /// from the last active event of one to the next active event, of another recorded
    /// session, at most the timeout later.
    pub ties: Vec<(i64, i64)>,
}

/// Most rows the recorded lane stacks overlapping sessions into.
pub const MAX_LANE_ROWS: u8 = 3;

impl Lanes {
    /// The timeline data of user `u` at the analysis' current timeout.
    #[must_use]
    pub fn build(a: &Analysis, store: &EventStore, u: UserIx) -> Lanes {
        let Some(user) = a.users.get(u.idx()) else {
            return Lanes::default();
        };
        let events = store.events();
        let sessions = a.user_sessions(u);
        let s0 = user.sessions.start;
        // Stack overlapping sessions: each goes to the first row free at its start.
        let mut by_start: Vec<usize> = (0..sessions.len()).collect();
        by_start.sort_by_key(|&k| (sessions[k].first, sessions[k].id));
        let mut row_end: Vec<i64> = Vec::new();
        let mut session_row = vec![0u8; sessions.len()];
        for k in by_start {
            let s: &Session = &sessions[k];
            let row = match row_end.iter().position(|&end| end < s.first) {
                Some(r) => r,
                None if row_end.len() < MAX_LANE_ROWS as usize => {
                    row_end.push(i64::MIN);
                    row_end.len() - 1
                }
                None => MAX_LANE_ROWS as usize - 1,
            };
            row_end[row] = row_end[row].max(s.last);
            session_row[k] = u8::try_from(row).unwrap_or(MAX_LANE_ROWS - 1);
        }
        let mut gaps = Vec::new();
        let mut out_of_session = Vec::new();
        let mut last = vec![i64::MIN; sessions.len()];
        for p in user.events.iter_ix() {
            let t = events[a.order[p]].time;
            let s = a.pos_session[p];
            if s == NO_SESSION {
                out_of_session.push(t);
                continue;
            }
            let k = s.offset_from(s0);
            let prev = std::mem::replace(&mut last[k], t);
            if prev != i64::MIN && t.saturating_sub(prev) > a.rules.gap_ms {
                gaps.push((u32::try_from(k).unwrap_or(u32::MAX), prev, t));
            }
        }
        let mut lanes = Lanes {
            user: u,
            timeout_ms: a.rules.timeout_ms,
            span: (user.first, user.last),
            session_row,
            rows: u8::try_from(row_end.len().max(1)).unwrap_or(MAX_LANE_ROWS),
            gaps,
            out_of_session,
            ..Lanes::default()
        };
        lanes.set_timeout(a, a.rules.timeout_ms);
        lanes
    }

    /// Replays the lanes' user at `timeout_ms`: the replayed sessions, and where they cut
    /// recorded sessions and tie them together (one pass over the user's active events).
    pub fn set_timeout(&mut self, a: &Analysis, timeout_ms: i64) {
        let u = self.user;
        self.timeout_ms = timeout_ms;
        self.replayed = a.replay_input.user_segments(u, timeout_ms);
        self.cuts.clear();
        self.ties.clear();
        let Some(user) = a.users.get(u.idx()) else {
            return;
        };
        let s0 = user.sessions.start;
        let mut events = a.replay_input.events_of(u);
        let Some(mut before) = events.next() else {
            return;
        };
        for (t, s) in events {
            let (t0, s_before) = before;
            let idle = t.saturating_sub(t0);
            if s_before == s && idle > timeout_ms {
                let k = u32::try_from(s.offset_from(s0)).unwrap_or(u32::MAX);
                self.cuts.push((k, t0, t));
            } else if s_before != s && idle <= timeout_ms {
                self.ties.push((t0, t));
            }
            before = (t, s);
        }
    }
}

/// How wide the timeline's window is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scale {
    /// Fitted to the selected session, with the replay timeout on either side
    /// ([`Window::fit_width`]): what a replay could merge with it is in view. The
    /// default, and what opening a user resets to.
    #[default]
    Fit,
    /// The user's whole history.
    Whole,
    /// A window this many ms wide (zoomed with `+` / `-`).
    Span(i64),
}

/// The narrowest window the timeline zooms to.
pub const MIN_WINDOW_MS: i128 = 1000;

/// The time range the timeline shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First ms shown.
    pub start: i64,
    /// Last ms shown.
    pub end: i64,
}

impl Window {
    /// The window over `span` (padded by a fortieth on each side), `width` ms wide
    /// (`None` or wider than the span: all of it) and centred on `center` (or the span's
    /// middle), kept inside the padded span.
    #[must_use]
    pub fn at(span: (i64, i64), width: Option<i64>, center: Option<i64>) -> Window {
        // Computed in i128 and kept inside i64: times may be anywhere in the i64 range.
        let bound = |x: i128| {
            i64::try_from(x.clamp(i128::from(i64::MIN), i128::from(i64::MAX))).unwrap_or(0)
        };
        let lo = i128::from(span.0);
        let hi = i128::from(span.1).max(lo);
        let full = (hi - lo).max(1000);
        let pad = full / 40 + 1;
        let (lo, hi) = (
            (lo - pad).max(i128::from(i64::MIN)),
            (lo + full + pad).min(i128::from(i64::MAX)),
        );
        let full = hi - lo;
        let width = width.map_or(full, |w| i128::from(w).max(MIN_WINDOW_MS));
        if width >= full {
            return Window {
                start: bound(lo),
                end: bound(hi),
            };
        }
        let c = center.map_or(lo + full / 2, i128::from);
        let start = (c - width / 2).clamp(lo, hi - width);
        Window {
            start: bound(start),
            end: bound(start + width),
        }
    }

    /// The width that fits a session from `first` to `last` with context: the session
    /// plus, on either side, the replay timeout (so any session the replay could merge
    /// with it is in view), a quarter of its length, or a minute, whichever is longest.
    #[must_use]
    pub fn fit_width(first: i64, last: i64, timeout_ms: i64) -> i64 {
        let len = last.saturating_sub(first).max(0);
        let margin = timeout_ms.max(len / 4).max(60_000);
        len.saturating_add(margin.saturating_mul(2))
    }

    /// Its length in ms.
    #[must_use]
    pub fn span_ms(self) -> i64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether `t` is inside.
    #[must_use]
    pub fn contains(self, t: i64) -> bool {
        (self.start..=self.end).contains(&t)
    }

    /// The column (0..width) of `t`, or `None` outside the window.
    #[must_use]
    pub fn column(self, t: i64, width: u16) -> Option<u16> {
        if !self.contains(t) || width == 0 {
            return None;
        }
        let w = i128::from(width);
        let span = (i128::from(self.end) - i128::from(self.start)).max(1);
        let c = (i128::from(t) - i128::from(self.start)) * w / span;
        u16::try_from(c.min(w - 1)).ok()
    }

    /// The column of `t`, clamped to the window's edges (for bars that cross them).
    #[must_use]
    pub fn column_clamped(self, t: i64, width: u16) -> u16 {
        let t = t.clamp(self.start, self.end.max(self.start));
        self.column(t, width).unwrap_or(0)
    }

    /// The time at the middle of column `col`.
    #[must_use]
    pub fn time_at(self, col: u16, width: u16) -> i64 {
        let w = i128::from(width.max(1));
        let span = i128::from(self.end) - i128::from(self.start);
        let t = i128::from(self.start) + span * (2 * i128::from(col) + 1) / (2 * w);
        i64::try_from(t).unwrap_or(self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_toggle_one_session_or_all() {
        let mut f = Folds::default();
        assert!(!f.any() && !f.is_folded(1));
        assert!(f.toggle(1));
        assert!(f.is_folded(1) && !f.is_folded(2));
        assert!(!f.toggle(1));
        assert!(!f.any());
        // C: all folded; Space unfolds one; C folds all again, then unfolds all.
        assert!(f.toggle_all());
        assert!(f.is_folded(1) && f.is_folded(2));
        assert!(!f.toggle(2));
        assert!(f.is_folded(1) && !f.is_folded(2));
        assert!(f.toggle_all());
        assert!(f.is_folded(2));
        assert!(!f.toggle_all());
        assert!(!f.any());
        // unfold reports whether anything changed.
        f.toggle(7);
        assert!(f.unfold(7));
        assert!(!f.unfold(7));
        // Another user's ids are forgotten; all-folded stays.
        f.toggle_all();
        f.toggle(3);
        f.forget_sessions();
        assert!(f.all && f.is_folded(3));
    }
}
