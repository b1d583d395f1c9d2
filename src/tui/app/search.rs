//! The session detail overlay (Enter on a session header), search within the selected
//! user with its count (`match 3 of 9`), and search across all users: the prompt, the
//! background job, its results overlay, Enter on a result and `n`/`N` across users.
//! The matching itself is [`crate::tui::search`].

use std::sync::Arc;

use super::App;
use crate::analysis::SessionDetail;
use crate::fmt::{count, sanitize};
use crate::index::SessionIx;
use crate::tui::action::Action;
use crate::tui::jobs::Job;
use crate::tui::model::{Focus, Lower, Overlay, PromptKind};
use crate::tui::rows::Row;
use crate::tui::search::{
    AllSearch, Found, SearchScope, SessionView, UserMatches, detail_timeouts, matching_rows,
};
use crate::tui::ui;

impl App {
    // ---- session detail ---------------------------------------------------------------

    /// Opens the session detail of recorded session `s`.
    pub(super) fn open_session(&mut self, s: SessionIx) {
        let m = &self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let timeouts = detail_timeouts(a.rules.timeout_ms);
        if let Some(detail) = SessionDetail::compute(a, &m.store, s, &timeouts) {
            let session = &a.sessions[s];
            let (key, id) = (a.users[session.user].key, session.id);
            let end_props = end_props(&m.store, a, s);
            self.model.derived.session = Some(SessionView {
                detail,
                key,
                id,
                scroll: 0,
                end_props,
            });
            self.model.overlay = Overlay::Session;
        }
    }

    /// The selected row's session, when it is a session header.
    pub(super) fn selected_header(&self) -> Option<SessionIx> {
        let ev = &self.model.derived.events;
        match ev.rows.get(ev.selected) {
            Some(Row::Session { session, .. }) => Some(*session),
            _ => None,
        }
    }

    /// After a new analysis or a timeout change: the session detail is computed again
    /// for the same (user, session id), the all-users results are placed again (positions
    /// change with an analysis), and the user's match cache is dropped.
    pub(super) fn refresh_search_views(&mut self) {
        let m = &mut self.model;
        m.derived.user_matches = None;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        if let Some(v) = &m.derived.session {
            let (key, id, scroll) = (v.key, v.id, v.scroll);
            let s = a.user_ixs().find(|&u| a.users[u].key == key).and_then(|u| {
                let range = a.users[u].sessions.clone();
                (range.start.idx()..range.end.idx())
                    .find(|&k| a.sessions[k].id == id)
                    .map(SessionIx::from_usize)
            });
            let timeouts = detail_timeouts(a.rules.timeout_ms);
            match s.and_then(|s| SessionDetail::compute(a, &m.store, s, &timeouts)) {
                Some(detail) => {
                    let end_props = end_props(&m.store, a, detail.session);
                    m.derived.session = Some(SessionView {
                        detail,
                        key,
                        id,
                        scroll,
                        end_props,
                    });
                }
                None => {
                    m.derived.session = None;
                    if m.overlay == Overlay::Session {
                        m.overlay = Overlay::None;
                    }
                }
            }
        }
        if let Some(all) = &mut m.derived.search_all
            && all.progress.is_none()
        {
            let hits = all
                .results
                .iter()
                .map(|r| crate::tui::search::Hit {
                    event: r.event,
                    excerpt: r.excerpt.clone(),
                })
                .collect();
            let (selected, current) = (all.selected, all.current);
            let found = Found {
                hits,
                capped: all.capped,
                scanned: 0,
            };
            let unplaced = all.unplaced;
            let rank = user_rank(&m.derived.users.sorted, a.users.len());
            all.place(a, found, &rank);
            all.unplaced += unplaced;
            all.selected = selected.min(all.results.len().saturating_sub(1));
            all.current = current.filter(|&c| c < all.results.len());
        }
    }

    /// Keeps the session detail's scroll and the results' selection in range.
    pub(super) fn clamp_search_scrolls(&mut self) {
        let page = self.view.areas.overlay_body.height as usize;
        let width = self.view.areas.overlay_body.width;
        let len = ui::session::line_count(&self.model, width);
        if let Some(v) = &mut self.model.derived.session {
            v.scroll = v.scroll.min(len.saturating_sub(page));
        }
        if let Some(s) = &mut self.model.derived.search_all {
            s.selected = s.selected.min(s.results.len().saturating_sub(1));
        }
    }

    /// Moves in the session detail or the results list; false when neither is open.
    pub(super) fn search_motion(&mut self, motion: super::Motion) -> bool {
        let areas = self.view.areas;
        let page = areas.overlay_body.height as usize;
        match self.model.overlay {
            Overlay::Session => {
                let len = ui::session::line_count(&self.model, areas.overlay_body.width);
                if let Some(v) = &mut self.model.derived.session {
                    v.scroll = motion
                        .apply(v.scroll, len.saturating_sub(page) + 1, page)
                        .min(len.saturating_sub(page));
                }
                true
            }
            Overlay::SearchResults => {
                if let Some(s) = &mut self.model.derived.search_all {
                    s.selected = motion.apply(s.selected, s.results.len(), page.max(1));
                }
                true
            }
            _ => false,
        }
    }

    // ---- within one user --------------------------------------------------------------

    /// The selected user's rows matching the last search (cached): rows of `unfolded`
    /// when given (the list with every session unfolded), else of the list as shown.
    fn user_matches(&mut self, unfolded: Option<&[Row]>) -> Option<&UserMatches> {
        let m = &self.model;
        let a = m.derived.analysis.as_ref()?;
        let user = m.derived.events.user?;
        let needle = m.events.search.to_lowercase();
        let rows = unfolded.unwrap_or(&m.derived.events.rows);
        let fresh = m.derived.user_matches.as_ref().is_some_and(|c| {
            c.user == user
                && c.needle == needle
                && c.rows_len == rows.len()
                && c.unfolded == unfolded.is_some()
                && c.generation == m.derived.analysed_generation
        });
        if !fresh {
            let found = matching_rows(a, &m.store, &m.derived.props, rows, &needle);
            self.model.derived.user_matches = Some(UserMatches {
                user,
                needle,
                rows_len: rows.len(),
                unfolded: unfolded.is_some(),
                generation: self.model.derived.analysed_generation,
                rows: found,
            });
        }
        self.model.derived.user_matches.as_ref()
    }

    /// `n`/`N` within the selected user: the next (previous) matching row, wrapping.
    /// Folded sessions are searched too: stepping to a match inside one unfolds it.
    pub(super) fn step_user(&mut self, forward: bool) {
        let unfolded = self.unfolded_rows();
        let sel = unfolded
            .as_ref()
            .map_or(self.model.derived.events.selected, |(_, sel)| *sel);
        let Some(found) = self
            .user_matches(unfolded.as_ref().map(|(rows, _)| rows.as_slice()))
            .map(|c| c.rows.clone())
        else {
            return;
        };
        let query = sanitize(&self.model.events.search).into_owned();
        if found.is_empty() {
            let all = self.main_key(Action::SearchAll);
            self.error(format!(
                "no event matches '{query}' in this user; {all} searches all users"
            ));
            return;
        }
        let (k, wrapped) = if forward {
            match found.iter().position(|&r| r > sel) {
                Some(k) => (k, false),
                None => (0, true),
            }
        } else {
            match found.iter().rposition(|&r| r < sel) {
                Some(k) => (k, false),
                None => (found.len() - 1, true),
            }
        };
        match unfolded.as_ref().and_then(|(rows, _)| rows.get(found[k])) {
            Some(&Row::Event { pos, .. }) => {
                let e = self.model.derived.analysis.as_ref().map(|a| a.order[pos]);
                if let Some(e) = e {
                    self.reveal_event(e);
                }
            }
            _ => self.select_row(found[k]),
        }
        let mut text = format!(
            "match {} of {} for '{query}' in this user",
            count(k as u64 + 1),
            count(found.len() as u64)
        );
        if wrapped {
            text.push_str(" (wrapped around)");
        }
        self.info(text);
    }

    // ---- across all users -------------------------------------------------------------

    /// `S`: the prompt for a search across all users.
    pub(super) fn start_search_all(&mut self) {
        let current = self
            .model
            .derived
            .search_all
            .as_ref()
            .map(|s| s.query.clone())
            .unwrap_or_else(|| self.model.events.search.clone());
        self.open_prompt(PromptKind::SearchAll, current);
    }

    /// Starts the search of `text` (empty: the last query) as a background job and opens
    /// the results overlay, which shows its progress.
    pub(super) fn submit_search_all(&mut self, text: String) {
        let query = if text.is_empty() {
            self.model
                .derived
                .search_all
                .as_ref()
                .map_or_else(|| self.model.events.search.clone(), |s| s.query.clone())
        } else {
            text
        };
        if query.is_empty() {
            let key = self.main_key(Action::SearchAll);
            self.info(format!("type {key} and a text to search all users"));
            return;
        }
        let Some(a) = &self.model.derived.analysis else {
            self.info("nothing to search yet: the events are still being analysed".into());
            return;
        };
        let upto = a.order.len();
        self.model.events.search.clone_from(&query);
        self.model.events.search_scope = SearchScope::All;
        let job = Job::Search {
            store: Arc::clone(&self.model.store),
            needle: query.to_lowercase(),
            upto,
        };
        self.model.derived.search_all = Some(AllSearch::started(query, upto));
        self.model.overlay = Overlay::SearchResults;
        // A search supersedes the previous one: never refused.
        let _ = self.want(job);
    }

    /// A search across all users has finished: its results are placed under their users.
    pub(super) fn searched(&mut self, found: Found) {
        let m = &mut self.model;
        let (Some(a), Some(all)) = (&m.derived.analysis, &mut m.derived.search_all) else {
            return;
        };
        let rank = user_rank(&m.derived.users.sorted, a.users.len());
        all.place(a, found, &rank);
        let text = format!("'{}': {}", sanitize(&all.query), all.count_text());
        self.info(text);
    }

    /// Enter on a result: selects its user in the users pane and its event in the event
    /// list, and closes the results (`n`/`N` continue from there).
    pub(super) fn open_result(&mut self) {
        let Some(i) = self.model.derived.search_all.as_ref().map(|s| s.selected) else {
            return;
        };
        self.model.overlay = Overlay::None;
        self.go_to_result(i);
    }

    /// `n`/`N` across users: the next (previous) result, wrapping.
    pub(super) fn step_all(&mut self, forward: bool) {
        let Some(s) = &self.model.derived.search_all else {
            return;
        };
        if s.progress.is_some() {
            self.info("the search is still running".into());
            return;
        }
        let n = s.results.len();
        if n == 0 {
            let text = format!("no event of any user matches '{}'", sanitize(&s.query));
            self.error(text);
            return;
        }
        let i = match s.current {
            None => {
                if forward {
                    0
                } else {
                    n - 1
                }
            }
            Some(c) if forward => (c + 1) % n,
            Some(c) => (c + n - 1) % n,
        };
        self.go_to_result(i);
    }

    /// Selects result `i`'s user and event, and says which result it is (`3 of 42`).
    fn go_to_result(&mut self, i: usize) {
        let Some(s) = &self.model.derived.search_all else {
            return;
        };
        let Some(r) = s.results.get(i).cloned() else {
            return;
        };
        // Going to a result is a move: it pauses follow mode like any other.
        self.pause_follow();
        let mut notes: Vec<&str> = Vec::new();
        // The user must be listed: a filter or finding that hides them is cleared.
        if !self.model.derived.users.list.contains(&r.user) {
            self.model.users.filter.clear();
            self.model.users.finding = None;
            self.resort_users();
            notes.push("users filter cleared");
        }
        if let Some(k) = self
            .model
            .derived
            .users
            .list
            .iter()
            .position(|&u| u == r.user)
        {
            self.select_user(k);
        }
        // Its row: a folded session is unfolded; a type filter that hides it is cleared.
        if self.reveal_event(r.event).is_none() && !self.model.events.type_filter.is_empty() {
            self.model.events.type_filter.clear();
            self.rebuild_rows(false);
            self.reveal_event(r.event);
            notes.push("type filter cleared");
        }
        self.model.focus = Focus::Lower;
        self.model.lower = Lower::Events;
        let Some(s) = &mut self.model.derived.search_all else {
            return;
        };
        s.current = Some(i);
        s.selected = i;
        let mut text = format!(
            "{} of {}{} · '{}' across all users",
            count(i as u64 + 1),
            count(s.results.len() as u64),
            if s.capped { "+" } else { "" },
            sanitize(&s.query)
        );
        for n in notes {
            text.push_str(" · ");
            text.push_str(n);
        }
        self.info(text);
    }
}

/// What changed behind session `s`'s `end_props_changed` flag. The two events are read
/// back only where that is cheap (a seek in a plain file, or memory); in a compressed
/// source it would mean decompressing up to them on the UI thread, so the detail says
/// where to look instead.
fn end_props(
    store: &crate::store::EventStore,
    a: &crate::analysis::Analysis,
    s: SessionIx,
) -> Option<crate::source::raw::EndPropsDiff> {
    use crate::source::raw;
    let pair = crate::analysis::end_props_pair(a, store, s)?;
    let cheap = [pair.last_active, pair.end_marker]
        .iter()
        .all(|&e| store.raw(e).is_some_and(|loc| raw::is_cheap(store, loc)));
    if !cheap {
        return Some(raw::EndPropsDiff {
            pair,
            changes: Err(
                "not read here (a compressed source): Enter on either event shows its JSON"
                    .to_string(),
            ),
        });
    }
    raw::end_props_diffs(store, a, [s])
        .into_iter()
        .next()
        .map(|(_, d)| d)
}

/// Each user's place in `sorted` (the users pane's order); users not in it go last.
fn user_rank(sorted: &[crate::index::UserIx], users: usize) -> Vec<usize> {
    let mut rank = vec![usize::MAX; users];
    for (k, u) in sorted.iter().enumerate() {
        if let Some(r) = rank.get_mut(u.idx()) {
            *r = k;
        }
    }
    rank
}
