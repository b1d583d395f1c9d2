//! Search through events, within the selected user (`/`) or across all users (`S`), and
//! the state of the session detail overlay.
//!
//! What matches (both forms, case-insensitive substring): an event's type, its
//! `user_id`, `device_id` or `amplitude_id`, its key properties when already read, and,
//! for sources that can be read back cheaply (plain files, memory), its raw JSON text.
//! [`SymMatcher`] is the one test of the ids and type; [`raw_contains`] of the raw text.
//!
//! Within one user, the matching rows are found once per (user, query, rows) and cached
//! ([`UserMatches`]), so `n`/`N` say `match 3 of 9`. Across users the search runs as a
//! background job ([`search_store`], [`super::jobs::Kind::Search`]) over a snapshot of the
//! store: it reports progress every [`SEARCH_CHUNK`] events and stops after
//! [`SEARCH_CAP`] matches (then the count reads `10,000+`). Its hits come back as event
//! indices; [`AllSearch::place`] puts each under its user, in the users pane's order, so
//! `n`/`N` walk the results user by user.

use rustc_hash::FxHashSet;

use crate::analysis::{Analysis, SessionDetail, UserKey};
use crate::event::RawLoc;
use crate::index::{EventIx, Pos, UserIx};
use crate::source::raw;
use crate::store::EventStore;

use super::rows::Row;

/// The most matches a search across all users collects.
pub const SEARCH_CAP: usize = 10_000;

/// Events scanned between two progress reports of a search across all users.
pub const SEARCH_CHUNK: usize = 16_384;

/// Bytes of context before a match in an excerpt (few, so that a narrow column still
/// shows the match itself).
const EXCERPT_BEFORE: usize = 8;
/// Bytes of context after a match in an excerpt.
const EXCERPT_AFTER: usize = 36;

/// Where `n`/`N` look for the last search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SearchScope {
    /// The selected user's event list (`/`).
    #[default]
    User,
    /// Every user's events, through the results of the last `S` search.
    All,
}

/// The session detail overlay's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    /// What it shows, computed when it opened (and again after a new analysis).
    pub detail: SessionDetail,
    /// Its user's key and its id: how it is found again in a new analysis.
    pub key: UserKey,
    /// The session id.
    pub id: i64,
    /// The first line shown.
    pub scroll: usize,
    /// For a session flagged `end_props_changed`: which user properties its end marker
    /// changed (read back from the source when it opened).
    pub end_props: Option<crate::source::raw::EndPropsDiff>,
}

/// The selected user's rows matching the last search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserMatches {
    /// The user.
    pub user: UserIx,
    /// The query, lower-cased.
    pub needle: String,
    /// How many rows the list had (rows are rebuilt on any change of user, order,
    /// filter or analysis; a stale cache is recomputed).
    pub rows_len: usize,
    /// Whether they index the list with every session unfolded (some sessions were
    /// folded: a match inside a folded one unfolds it when stepped to).
    pub unfolded: bool,
    /// The analysis generation they were found in.
    pub generation: u64,
    /// The row indices that match, ascending.
    pub rows: Vec<usize>,
}

/// One match of a search across all users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The event.
    pub event: EventIx,
    /// The text that matched, with some context (untrusted: sanitised when drawn).
    pub excerpt: Box<str>,
}

/// One result placed under its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The user.
    pub user: UserIx,
    /// The event's position in [`Analysis::order`].
    pub pos: Pos,
    /// The event.
    pub event: EventIx,
    /// The text that matched.
    pub excerpt: Box<str>,
}

/// What a search across all users found (see [`search_store`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// The matches, in input order.
    pub hits: Vec<Hit>,
    /// More matched than [`SEARCH_CAP`]: the scan stopped there.
    pub capped: bool,
    /// Events scanned.
    pub scanned: usize,
}

/// A search across all users: running, or its results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllSearch {
    /// The query as typed.
    pub query: String,
    /// Still running: (events scanned, events to scan, matches so far).
    pub progress: Option<(usize, usize, usize)>,
    /// The results, user by user in the users pane's order, then in time order.
    pub results: Vec<Placed>,
    /// How many users the results are in.
    pub users: usize,
    /// More matched than [`SEARCH_CAP`].
    pub capped: bool,
    /// Matches in events the analysis does not hold yet (still loading): not listed.
    pub unplaced: usize,
    /// The selected row of the results overlay.
    pub selected: usize,
    /// The result `n`/`N` last went to.
    pub current: Option<usize>,
}

impl AllSearch {
    /// A search of `query` that has just started over `total` events.
    #[must_use]
    pub fn started(query: String, total: usize) -> Self {
        Self {
            query,
            progress: Some((0, total, 0)),
            ..Self::default()
        }
    }

    /// Puts `found` under its users: `rank` gives each user's place (the users pane's
    /// order); results are sorted by it, then by time (position).
    pub fn place(&mut self, a: &Analysis, found: Found, rank: &[usize]) {
        let mut pos_of: Vec<u32> = vec![u32::MAX; a.order.len()];
        for (p, &e) in a.order.iter().enumerate() {
            if let (Some(slot), Ok(p)) = (pos_of.get_mut(e.idx()), u32::try_from(p)) {
                *slot = p;
            }
        }
        let starts: Vec<u32> = a.users.iter().map(|u| u.events.start.raw()).collect();
        let mut placed = Vec::with_capacity(found.hits.len());
        let mut unplaced = 0;
        for hit in found.hits {
            let Some(&p) = pos_of.get(hit.event.idx()).filter(|&&p| p != u32::MAX) else {
                unplaced += 1;
                continue;
            };
            let k = starts.partition_point(|&s| s <= p).saturating_sub(1);
            placed.push(Placed {
                user: UserIx::from_usize(k),
                pos: Pos::from_usize(p as usize),
                event: hit.event,
                excerpt: hit.excerpt,
            });
        }
        placed.sort_by_key(|r| (rank.get(r.user.idx()).copied().unwrap_or(usize::MAX), r.pos));
        let mut users = 0;
        let mut last = None;
        for r in &placed {
            if last != Some(r.user) {
                users += 1;
                last = Some(r.user);
            }
        }
        self.results = placed;
        self.users = users;
        self.capped = found.capped;
        self.unplaced = unplaced;
        self.progress = None;
        self.selected = 0;
        self.current = None;
    }

    /// The count as the overlay and messages say it: `42 matches in 7 users`,
    /// `10,000+ matches in 812 users`.
    #[must_use]
    pub fn count_text(&self) -> String {
        let n = self.results.len() as u64;
        format!(
            "{}{} match{} in {} user{}",
            crate::fmt::count(n),
            if self.capped { "+" } else { "" },
            if n == 1 && !self.capped { "" } else { "es" },
            crate::fmt::count(self.users as u64),
            if self.users == 1 { "" } else { "s" }
        )
    }
}

/// Whether interned strings contain a needle, each string lower-cased and tested once
/// per search (types and ids repeat across millions of events).
#[derive(Debug)]
pub struct SymMatcher<'n> {
    needle: &'n str,
    /// Per symbol: 0 not tested yet, 1 no match, 2 match.
    seen: Vec<u8>,
}

impl<'n> SymMatcher<'n> {
    /// A matcher of `needle` (lower case).
    #[must_use]
    pub fn new(needle: &'n str) -> Self {
        Self {
            needle,
            seen: Vec::new(),
        }
    }

    /// Whether event `e`'s type or ids contain the needle; the text that matched.
    pub fn event<'s>(&mut self, store: &'s EventStore, e: EventIx) -> Option<&'s str> {
        let ev = store.events().get(e.idx())?;
        let strings = &store.strings;
        if self.seen.len() < strings.len() {
            self.seen.resize(strings.len(), 0);
        }
        let ids = store.ids(ev);
        for sym in [ev.event_type, ids.user_id, ids.device_id, ids.amplitude_id] {
            let text = strings.get(sym);
            let hit = match self.seen.get(sym.0 as usize).copied() {
                Some(2) => true,
                Some(1) => false,
                _ => {
                    let hit = !text.is_empty() && text.to_lowercase().contains(self.needle);
                    if let Some(slot) = self.seen.get_mut(sym.0 as usize) {
                        *slot = if hit { 2 } else { 1 };
                    }
                    hit
                }
            };
            if hit {
                return Some(text);
            }
        }
        None
    }
}

/// Where `needle` (lower case, ASCII-folded) first occurs in `bytes`, ignoring ASCII
/// case.
#[must_use]
pub fn raw_contains(bytes: &[u8], needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    if n.is_empty() {
        return Some(0);
    }
    bytes
        .windows(n.len())
        .position(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// An excerpt of `bytes` around `at` (a match of `len` bytes), on character boundaries,
/// with `…` where cut.
fn excerpt(bytes: &[u8], at: usize, len: usize) -> Box<str> {
    let text = String::from_utf8_lossy(bytes);
    let mut start = at.saturating_sub(EXCERPT_BEFORE);
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + len + EXCERPT_AFTER).min(text.len());
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&text[start..end]);
    if end < text.len() {
        out.push('…');
    }
    out.into()
}

/// Searches events `0..upto` of `store` for `needle` (lower case), in input order,
/// reading raw text back from cheap sources; stops after [`SEARCH_CAP`] matches. Calls
/// `progress(scanned, matches)` after every [`SEARCH_CHUNK`] events.
pub fn search_store(
    store: &EventStore,
    needle: &str,
    upto: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Found {
    let upto = upto.min(store.events().len());
    let mut found = Found::default();
    let mut syms = SymMatcher::new(needle);
    let mut start = 0;
    while start < upto {
        let end = (start + SEARCH_CHUNK).min(upto);
        let mut hits: Vec<(EventIx, Box<str>)> = Vec::new();
        let mut raw_wanted: Vec<(EventIx, RawLoc)> = Vec::new();
        for i in start..end {
            let e = EventIx::from_usize(i);
            if let Some(text) = syms.event(store, e) {
                hits.push((e, text.into()));
            } else if let Some(loc) = store.raw(e)
                && raw::is_cheap(store, loc)
            {
                raw_wanted.push((e, loc));
            }
        }
        if !raw_wanted.is_empty() {
            let locs: Vec<RawLoc> = raw_wanted.iter().map(|(_, l)| *l).collect();
            for ((e, _), text) in raw_wanted.iter().zip(raw::read_many(store, &locs)) {
                if let Ok(bytes) = text
                    && let Some(at) = raw_contains(&bytes, needle)
                {
                    hits.push((*e, excerpt(&bytes, at, needle.len())));
                }
            }
        }
        hits.sort_by_key(|(e, _)| *e);
        for (event, excerpt) in hits {
            if found.hits.len() == SEARCH_CAP {
                found.capped = true;
                break;
            }
            found.hits.push(Hit { event, excerpt });
        }
        found.scanned = end;
        progress(end, found.hits.len());
        if found.capped {
            break;
        }
        start = end;
    }
    found
}

/// The rows of `rows` whose events match `needle` (lower case): type, ids, key
/// properties already read (`props`), raw text of cheap sources.
#[must_use]
pub fn matching_rows(
    a: &Analysis,
    store: &EventStore,
    props: &rustc_hash::FxHashMap<EventIx, Box<str>>,
    rows: &[Row],
    needle: &str,
) -> Vec<usize> {
    let mut out: FxHashSet<usize> = FxHashSet::default();
    let mut raw_wanted: Vec<(usize, RawLoc)> = Vec::new();
    let mut syms = SymMatcher::new(needle);
    for (i, row) in rows.iter().enumerate() {
        let Row::Event { pos, .. } = *row else {
            continue;
        };
        let e = a.order[pos];
        if syms.event(store, e).is_some()
            || props
                .get(&e)
                .is_some_and(|p| p.to_lowercase().contains(needle))
        {
            out.insert(i);
        } else if let Some(loc) = store.raw(e)
            && raw::is_cheap(store, loc)
        {
            raw_wanted.push((i, loc));
        }
    }
    let locs: Vec<RawLoc> = raw_wanted.iter().map(|(_, l)| *l).collect();
    for ((i, _), text) in raw_wanted.iter().zip(raw::read_many(store, &locs)) {
        if text.is_ok_and(|b| raw_contains(&b, needle).is_some()) {
            out.insert(*i);
        }
    }
    let mut rows: Vec<usize> = out.into_iter().collect();
    rows.sort_unstable();
    rows
}

/// The timeouts the session detail replays at: the current one, then the SDK defaults
/// (5 min on mobile, 30 min in the browser) that differ from it.
#[must_use]
pub fn detail_timeouts(current_ms: i64) -> Vec<i64> {
    let mut out = vec![current_ms];
    for sdk in [
        5 * crate::analysis::MINUTE_MS,
        30 * crate::analysis::MINUTE_MS,
    ] {
        if !out.contains(&sdk) {
            out.push(sdk);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_matches_ignoring_ascii_case() {
        assert_eq!(raw_contains(br#"{"Plan":"PRO"}"#, "pro"), Some(9));
        assert_eq!(raw_contains(b"abc", "abcd"), None);
        assert_eq!(raw_contains(b"", "x"), None);
    }

    #[test]
    fn excerpts_cut_on_character_boundaries() {
        let text = "é".repeat(30) + "needle" + &"ü".repeat(30);
        let at = raw_contains(text.as_bytes(), "needle").unwrap();
        let e = excerpt(text.as_bytes(), at, 6);
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
        assert!(e.contains("needle"));
    }

    #[test]
    fn detail_timeouts_add_the_other_sdk_default() {
        let m = crate::analysis::MINUTE_MS;
        assert_eq!(detail_timeouts(30 * m), vec![30 * m, 5 * m]);
        assert_eq!(detail_timeouts(5 * m), vec![5 * m, 30 * m]);
        assert_eq!(detail_timeouts(m), vec![m, 5 * m, 30 * m]);
    }
}
