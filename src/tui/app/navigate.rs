//! Moving around: focus, selections, scrolling, jumps between sessions and flagged rows,
//! the timeline's zoom and pan, and the mouse.

use ratatui::layout::Position;

use super::{App, RawPurpose, find_event_row, raw_text};
use crate::index::{EventIx, UserIx};
use crate::source::raw;
use crate::tui::model::{DetailView, Focus, Lower, Overlay, RawText, UserSort};
use crate::tui::rows::{
    Lanes, Row, Scale, Window, build_rows, event_rows, longest_type, row_is_flagged,
};
use crate::tui::ui;

impl App {
    pub(super) fn toggle_help(&mut self) {
        self.model.overlay = match self.model.overlay {
            Overlay::Help { .. } => Overlay::None,
            _ => Overlay::Help { scroll: 0 },
        };
    }

    pub(super) fn toggle_findings(&mut self) {
        self.model.overlay = match self.model.overlay {
            Overlay::Findings => Overlay::None,
            _ => Overlay::Findings,
        };
    }

    /// Narrows the users list to the users carrying the selected finding (a flag; the
    /// other findings say where to see them).
    fn choose_finding(&mut self) {
        let found = ui::findings::list(&self.model);
        let Some(&f) = found.get(self.model.findings_selected) else {
            return;
        };
        match f {
            ui::findings::Finding::Flag(flag) => {
                self.model.overlay = Overlay::None;
                self.model.focus = Focus::Users;
                self.model.users.finding = Some(flag);
                self.model.users.moved = true;
                self.refilter_users(None);
                let n = self.model.derived.users.list.len();
                let esc = self.main_key(crate::tui::action::Action::ClearFinding);
                let e = self.main_key(crate::tui::action::Action::NextFlagged);
                self.info(format!(
                    "{n} users with {}; {e} walks their flagged rows, {esc} shows every user",
                    flag.label()
                ));
            }
            ui::findings::Finding::Rejected(_) | ui::findings::Finding::SessionIdWarnings => {
                self.info(
                    "rejected records and session-id warnings are listed by `streamscope report`"
                        .to_string(),
                );
            }
        }
    }

    pub(super) fn clear_finding(&mut self) {
        if self.model.users.finding.take().is_some() {
            let u = self.model.selected_user();
            self.refilter_users(u);
        }
    }

    pub(super) fn close_overlay(&mut self) {
        if let Some(v) = &mut self.model.rejected
            && v.body.take().is_some()
        {
            return;
        }
        self.model.overlay = Overlay::None;
        self.model.derived.detail = None;
        self.model.derived.session = None;
        self.model.rejected = None;
    }

    pub(super) fn cycle_focus(&mut self, forward: bool) {
        self.model.focus = match (self.model.focus, forward) {
            (Focus::Users, true) | (Focus::Lower, false) => Focus::Timeline,
            (Focus::Timeline, true) | (Focus::Users, false) => Focus::Lower,
            (Focus::Lower, true) | (Focus::Timeline, false) => Focus::Users,
        };
    }

    pub(super) fn motion(&mut self, motion: Motion) {
        if self.search_motion(motion) {
            return;
        }
        let areas = self.view.areas;
        match self.model.overlay {
            Overlay::Help { scroll } => {
                let page = areas.overlay_body.height as usize;
                let len = ui::help::line_count(&self.keymap, areas.overlay_body.width);
                self.model.overlay = Overlay::Help {
                    scroll: motion.apply(scroll, len, page),
                };
                return;
            }
            Overlay::Detail => {
                let page = areas.overlay_body.height as usize;
                let width = areas.overlay_body.width as usize;
                if let Some(d) = &mut self.model.derived.detail {
                    let len = ui::detail::line_count(d, width);
                    d.scroll = motion.apply(d.scroll, len, page);
                }
                return;
            }
            Overlay::Rejected => {
                let page = areas.overlay_body.height as usize;
                let width = areas.overlay_body.width as usize;
                if let Some(v) = &mut self.model.rejected {
                    match &mut v.body {
                        Some(b) => {
                            let len = ui::rejected::body_line_count(b, width);
                            b.scroll = motion.apply(b.scroll, len, page);
                        }
                        None => v.selected = motion.apply(v.selected, v.len(), page),
                    }
                }
                return;
            }
            Overlay::Findings => {
                let len = ui::findings::list(&self.model).len();
                let page = areas.overlay_body.height as usize / 2;
                self.model.findings_selected =
                    motion.apply(self.model.findings_selected, len, page.max(1));
                return;
            }
            // Handled by `search_motion` above.
            Overlay::Session | Overlay::SearchResults => return,
            Overlay::None => {}
        }
        match (self.model.focus, self.model.lower) {
            (Focus::Users, _) => {
                let page = areas.users_list.height as usize;
                let len = self.model.derived.users.list.len();
                let to = motion.apply(self.model.derived.users.selected, len, page);
                self.select_user(to);
            }
            (Focus::Lower, Lower::Replay) => {
                let page = areas.lower_list.height as usize;
                let len = ui::replay::line_count(&self.model, &self.keymap, areas.lower_list.width);
                self.model.derived.replay_scroll =
                    motion.apply(self.model.derived.replay_scroll, len, page);
            }
            (Focus::Timeline | Focus::Lower, _) => {
                let page = areas.lower_list.height.max(1) as usize;
                let len = self.model.derived.events.rows.len();
                let to = motion.apply(self.model.derived.events.selected, len, page);
                self.select_row(to);
            }
        }
    }

    /// Selects user `i` of the list (clamped).
    pub fn select_user(&mut self, i: usize) {
        let len = self.model.derived.users.list.len();
        let i = i.min(len.saturating_sub(1));
        self.model.users.moved = true;
        let changed = self.model.derived.users.selected != i
            || self.model.derived.events.user != self.model.derived.users.list.get(i).copied();
        self.model.derived.users.selected = i;
        if changed {
            self.model.events.folds.forget_sessions();
            self.model.events.hscroll = 0;
            self.model.derived.events.selected = 0;
            self.model.derived.timeline.center = None;
            self.model.derived.timeline.scale = Scale::Fit;
            self.rebuild_rows(false);
        }
    }

    /// Selects row `i` of the event list (clamped).
    pub fn select_row(&mut self, i: usize) {
        let len = self.model.derived.events.rows.len();
        self.model.users.moved = true;
        self.model.derived.events.selected = i.min(len.saturating_sub(1));
        // Follow the selection when it leaves a panned view.
        if let (Some(w), Some(e)) = (self.model.timeline_window(), self.model.selected_event())
            && let Some(ev) = self.model.store.events().get(e.idx())
            && !w.contains(ev.time)
        {
            self.model.derived.timeline.center = None;
        }
    }

    /// Rebuilds the event rows and lanes of the selected user; `keep` keeps the selected
    /// event selected.
    pub(super) fn rebuild_rows(&mut self, keep: bool) {
        let m = &mut self.model;
        let keep_event = if keep { m.selected_event() } else { None };
        let header = matches!(
            m.derived.events.rows.get(m.derived.events.selected),
            Some(Row::Session { .. })
        );
        let (Some(a), Some(u)) = (&m.derived.analysis, m.derived.users.current()) else {
            m.derived.events.rows.clear();
            m.derived.events.user = None;
            m.derived.timeline.lanes = None;
            return;
        };
        m.derived.events.rows = build_rows(
            a,
            &m.store,
            u,
            m.events.order,
            &m.events.type_filter,
            &m.events.folds,
        );
        m.derived.events.type_cells = longest_type(a, &m.store, u);
        m.derived.events.user = Some(u);
        m.derived.timeline.lanes = Some(Lanes::build(a, &m.store, u));
        m.derived.events.selected = match keep_event {
            Some(e) => find_event_row(m, e, header).unwrap_or(0),
            None => m
                .derived
                .events
                .selected
                .min(m.derived.events.rows.len().saturating_sub(1)),
        };
    }

    pub(super) fn resort_users(&mut self) {
        let m = &self.model;
        let key = m
            .derived
            .analysis
            .as_ref()
            .zip(m.selected_user())
            .map(|(a, u)| a.users[u].key);
        self.resort_users_keeping(key);
    }

    /// Sorts and filters the user list, then selects `key` (or the first user).
    pub(super) fn resort_users_keeping(&mut self, key: Option<crate::analysis::UserKey>) {
        let m = &mut self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let mut sorted: Vec<UserIx> = a.user_ixs().collect();
        match m.users.sort {
            UserSort::Severity => sorted = a.triage_order(),
            UserSort::Events => {
                sorted.sort_by_key(|&u| std::cmp::Reverse(a.users[u].event_count()))
            }
            UserSort::Recent => {
                sorted.sort_by_key(|&u| std::cmp::Reverse(a.users[u].last));
            }
        }
        m.derived.users.sorted = sorted;
        let target = key.and_then(|k| a.user_ixs().find(|&u| a.users[u].key == k));
        self.refilter_users(target);
    }

    /// Applies the id filter to the sorted users, selecting `target` when it is listed.
    pub(super) fn refilter_users(&mut self, target: Option<UserIx>) {
        let m = &mut self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let needle = m.users.filter.to_lowercase();
        let finding = m.users.finding;
        m.derived.users.list = if needle.is_empty() && finding.is_none() {
            m.derived.users.sorted.clone()
        } else {
            let mut scratch = String::new();
            m.derived
                .users
                .sorted
                .iter()
                .copied()
                .filter(|&u| finding.is_none_or(|f| a.user_counts[u][f] > 0))
                .filter(|&u| {
                    needle.is_empty()
                        || crate::tui::model::ids_match(a, &m.store, u, &needle, &mut scratch)
                })
                .collect()
        };
        let selected = target
            .and_then(|t| m.derived.users.list.iter().position(|&u| u == t))
            .unwrap_or(0);
        let same_user = m.derived.events.user.is_some()
            && m.derived.users.list.get(selected) == m.derived.events.user.as_ref();
        m.derived.users.selected = selected;
        if !same_user {
            m.events.folds.forget_sessions();
            m.events.hscroll = 0;
        }
        self.rebuild_rows(same_user);
        if !same_user {
            self.model.derived.events.selected = 0;
            self.model.derived.timeline.center = None;
            self.model.derived.timeline.scale = Scale::Fit;
        }
    }

    pub(super) fn open(&mut self) {
        if self.model.overlay == Overlay::Findings {
            self.choose_finding();
            return;
        }
        if self.model.overlay == Overlay::Rejected {
            self.open_body();
            return;
        }
        if self.model.overlay == Overlay::SearchResults {
            self.open_result();
            return;
        }
        match (self.model.focus, self.model.lower) {
            (Focus::Users | Focus::Timeline, _) => {
                self.model.focus = Focus::Lower;
                self.model.lower = Lower::Events;
            }
            (Focus::Lower, Lower::Events) => {
                if let Some(s) = self.selected_header() {
                    self.open_session(s);
                } else if let Some(e) = self.model.selected_event() {
                    self.open_detail(e);
                }
            }
            (Focus::Lower, Lower::Replay) => {}
            (Focus::Lower, Lower::Playback) => {}
        }
    }

    pub(super) fn open_detail(&mut self, e: EventIx) {
        let store = &self.model.store;
        let raw = match store.raw(e) {
            None => RawText::Failed("the raw text of this event was not kept".to_string()),
            Some(loc) if raw::is_cheap(store, loc) => {
                raw_text(raw::read_raw(store, loc).map_err(|e| e.to_string()))
            }
            Some(loc) => {
                self.fetch_in_background(RawPurpose::Detail, vec![(e, loc)]);
                RawText::Loading
            }
        };
        self.model.derived.detail = Some(DetailView {
            event: e,
            line: crate::tui::records::line_of(&self.model.store, e),
            raw,
            scroll: 0,
        });
        self.model.overlay = Overlay::Detail;
    }

    pub(super) fn jump_session(&mut self, forward: bool) {
        let rows = &self.model.derived.events.rows;
        let sel = self.model.derived.events.selected;
        let is_header = |i: &usize| matches!(rows[*i], Row::Session { .. });
        let found = if forward {
            (sel + 1..rows.len()).find(is_header)
        } else {
            (0..sel).rev().find(is_header)
        };
        match found {
            Some(i) => self.select_row(i),
            None => self.info(format!(
                "no {} session",
                if forward { "later" } else { "earlier" }
            )),
        }
    }

    pub(super) fn jump_flagged(&mut self, forward: bool) {
        let Some(a) = &self.model.derived.analysis else {
            return;
        };
        if self.model.focus == Focus::Users {
            let list = &self.model.derived.users.list;
            let sel = self.model.derived.users.selected;
            let finding = self.model.users.finding;
            let flagged = |i: &usize| match finding {
                Some(f) => a.user_counts[list[*i]][f] > 0,
                None => a.user_counts[list[*i]].anomalies() > 0,
            };
            let found = if forward {
                (sel + 1..list.len()).find(flagged)
            } else {
                (0..sel).rev().find(flagged)
            };
            match found {
                Some(i) => self.select_user(i),
                None => self.info("no more flagged users in this direction".to_string()),
            }
            return;
        }
        let rows = &self.model.derived.events.rows;
        let sel = self.model.derived.events.selected;
        let finding = self.model.users.finding;
        let flagged = |i: &usize| match finding {
            Some(f) => crate::tui::rows::row_has_flag(a, rows[*i], f),
            None => row_is_flagged(a, rows[*i]),
        };
        let found = if forward {
            (sel + 1..rows.len()).find(flagged)
        } else {
            (0..sel).rev().find(flagged)
        };
        match found {
            Some(i) => self.select_row(i),
            None => self.info("no more flagged rows in this direction".to_string()),
        }
    }

    /// Zooms the timeline in (half the window) or out (twice), around the selected
    /// session, and says what it shows.
    pub(super) fn zoom(&mut self, zoom_in: bool) {
        let (Some(w), Some(span)) = (self.model.timeline_window(), self.model.timeline_span())
        else {
            return;
        };
        let whole = Window::at(span, None, None).span_ms();
        let t = &mut self.model.derived.timeline;
        t.center = None;
        t.scale = if zoom_in {
            Scale::Span((w.span_ms() / 2).max(1000))
        } else if w.span_ms().saturating_mul(2) >= whole {
            Scale::Whole
        } else {
            Scale::Span(w.span_ms().saturating_mul(2))
        };
        self.say_scale();
    }

    /// Sets the timeline's scale, centred on the selected session, and says what it shows.
    pub(super) fn set_scale(&mut self, scale: Scale) {
        self.model.derived.timeline.scale = scale;
        self.model.derived.timeline.center = None;
        self.say_scale();
    }

    /// Says what the timeline shows now (after a zoom key).
    fn say_scale(&mut self) {
        let Some(w) = self.model.timeline_window() else {
            self.info("no user selected: the timeline is empty".to_string());
            return;
        };
        let what = match self.model.derived.timeline.scale {
            Scale::Whole => "the user's whole history".to_string(),
            Scale::Fit => {
                let t = self.model.rules.timeout_ms;
                format!(
                    "the selected session, {} either side",
                    crate::fmt::setting(t)
                )
            }
            Scale::Span(_) => "around the selected session".to_string(),
        };
        let keys = format!(
            "{} closer · {} wider · {} fit session · {} whole",
            self.main_key(crate::tui::action::Action::ZoomIn),
            self.main_key(crate::tui::action::Action::ZoomOut),
            self.main_key(crate::tui::action::Action::FitSession),
            self.main_key(crate::tui::action::Action::ZoomReset)
        );
        self.info(format!(
            "timeline: {} window, {what} · {keys}",
            crate::fmt::duration(w.span_ms())
        ));
    }

    pub(super) fn pan(&mut self, later: bool) {
        let Some(w) = self.model.timeline_window() else {
            return;
        };
        let step = (w.span_ms() / 4).max(1);
        let center = w.start + w.span_ms() / 2;
        self.model.derived.timeline.center =
            Some(if later { center + step } else { center - step });
        if self.model.derived.timeline.scale == Scale::Whole {
            self.model.derived.timeline.scale = Scale::Span((w.span_ms() / 2).max(1000));
        } else {
            self.model.derived.timeline.scale = Scale::Span(w.span_ms());
        }
    }

    /// Moves the selection to the event closest to `t`.
    pub(super) fn select_time(&mut self, t: i64) {
        let Some(a) = &self.model.derived.analysis else {
            return;
        };
        // Among folded sessions' events too: the nearest one's folded header is selected.
        let unfolded = self.unfolded_rows();
        let rows = unfolded
            .as_ref()
            .map_or(self.model.derived.events.rows.as_slice(), |(all, _)| {
                all.as_slice()
            });
        let best = event_rows(a, &self.model.store, rows)
            .map(|(_, pos, time)| (pos, time.abs_diff(t)))
            .min_by_key(|&(_, d)| d);
        if let Some((pos, _)) = best
            && let Some(i) = find_event_row(&self.model, a.order[pos], false)
        {
            self.select_row(i);
        }
    }

    pub(super) fn click(&mut self, column: u16, row: u16) {
        if self.model.overlay != Overlay::None || self.model.prompt.is_some() {
            return;
        }
        let at = Position::new(column, row);
        let a = self.view.areas;
        if a.users.contains(at) {
            self.model.focus = Focus::Users;
            if a.users_list.contains(at) {
                let i = self.view.users_top + (row - a.users_list.y) as usize;
                if i < self.model.derived.users.list.len() {
                    self.select_user(i);
                }
            }
        } else if a.timeline.contains(at) {
            self.model.focus = Focus::Timeline;
            if a.timeline_plot.contains(at)
                && let Some(w) = self.model.timeline_window()
            {
                let t = w.time_at(column - a.timeline_plot.x, a.timeline_plot.width);
                let center = self.model.derived.timeline.center;
                self.select_time(t);
                self.model.derived.timeline.center = center;
            }
        } else if a.lower.contains(at) {
            self.model.focus = Focus::Lower;
            if self.model.lower == Lower::Events && a.lower_list.contains(at) {
                let mut i = self.view.events_top + (row - a.lower_list.y) as usize;
                // The first line may show the pinned header of the session the view is in.
                if row == a.lower_list.y
                    && let Some(h) = ui::events::sticky_header(&self.model, self.view.events_top)
                {
                    i = h;
                }
                if i < self.model.derived.events.rows.len() {
                    self.select_row(i);
                }
            }
        }
    }

    pub(super) fn wheel(&mut self, column: u16, row: u16, down: bool) {
        let step = if down { 3 } else { -3 };
        if self.model.overlay != Overlay::None {
            self.motion(Motion::By(step));
            return;
        }
        let at = Position::new(column, row);
        let a = self.view.areas;
        let focus = if a.users.contains(at) {
            Focus::Users
        } else if a.timeline.contains(at) {
            Focus::Timeline
        } else if a.lower.contains(at) {
            Focus::Lower
        } else {
            return;
        };
        let before = self.model.focus;
        self.model.focus = focus;
        self.motion(Motion::By(step));
        self.model.focus = before;
    }
}

/// A movement of a selection or scroll position.
#[derive(Clone, Copy, Debug)]
pub(super) enum Motion {
    By(isize),
    /// Half pages (negative: up).
    Pages(isize),
    Top,
    Bottom,
}

impl Motion {
    pub(super) fn apply(self, at: usize, len: usize, page: usize) -> usize {
        let last = len.saturating_sub(1);
        match self {
            Motion::Top => 0,
            Motion::Bottom => last,
            Motion::By(d) => at.saturating_add_signed(d).min(last),
            Motion::Pages(h) => {
                let step = (page / 2).max(1);
                at.saturating_add_signed(h * step.cast_signed()).min(last)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motions_stay_in_bounds() {
        assert_eq!(Motion::By(-1).apply(0, 10, 4), 0);
        assert_eq!(Motion::By(5).apply(8, 10, 4), 9);
        assert_eq!(Motion::Pages(2).apply(0, 10, 4), 4);
        assert_eq!(Motion::Pages(-1).apply(5, 10, 4), 3);
        assert_eq!(Motion::Bottom.apply(0, 0, 4), 0);
    }
}
