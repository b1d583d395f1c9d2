//! The event list's reading aids: folded sessions (Space folds the session under the
//! cursor, `C` folds or unfolds them all) and the properties column's horizontal scroll
//! (`h`/`l`, `←`/`→`). A fold rebuilds the rows ([`crate::tui::rows::build_rows`] leaves a
//! folded session's events out) and keeps the cursor on the session's header; anything
//! that jumps to an event inside a folded session (search) unfolds it first
//! ([`App::reveal_event`]).

use super::App;
use crate::index::EventIx;
use crate::tui::action::Action;
use crate::tui::model::Focus;
use crate::tui::rows::{Folds, Row, build_rows, event_row, header_row, session_header_of};
use crate::tui::ui::events::Columns;

/// How many characters one `h`/`l` scrolls the properties by.
pub const PROPS_STEP: usize = 8;

impl App {
    /// Space: folds or unfolds the session under the cursor; the cursor goes to its
    /// header.
    pub(super) fn toggle_fold(&mut self) {
        let m = &self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let rows = &m.derived.events.rows;
        let Some(h) = session_header_of(a, rows, m.derived.events.selected) else {
            if !rows.is_empty() {
                self.info("this event is in no session: nothing to fold".to_string());
            }
            return;
        };
        let Row::Session { session, .. } = rows[h] else {
            return;
        };
        let id = a.sessions[session].id;
        self.model.events.folds.toggle(id);
        self.rebuild_rows(false);
        if let Some(i) = header_row(&self.model.derived.events.rows, session) {
            self.select_row(i);
        }
    }

    /// `C`: folds every session (only their headers, with their counts), or unfolds them
    /// all when all are folded. The cursor stays on its session (its header) or its
    /// out-of-session event.
    pub(super) fn toggle_fold_all(&mut self) {
        let m = &self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let rows = &m.derived.events.rows;
        let sel = m.derived.events.selected;
        let session = session_header_of(a, rows, sel).and_then(|h| match rows[h] {
            Row::Session { session, .. } => Some(session),
            Row::Event { .. } => None,
        });
        let event = m.selected_event();
        let folded = self.model.events.folds.toggle_all();
        self.rebuild_rows(false);
        let m = &self.model;
        let rows = &m.derived.events.rows;
        let target = match (
            session,
            event,
            m.derived.analysis.as_ref(),
            m.derived.events.user,
        ) {
            (Some(s), _, _, _) => header_row(rows, s),
            (None, Some(e), Some(a), Some(u)) => event_row(a, rows, u, e, false),
            _ => None,
        };
        self.select_row(target.unwrap_or(0));
        let space = self.main_key(Action::ToggleFold);
        let all = self.main_key(Action::ToggleFoldAll);
        self.info(if folded {
            format!("every session folded: {space} unfolds one, {all} unfolds them all")
        } else {
            "every session unfolded".to_string()
        });
    }

    /// Selects event `e` of the selected user, unfolding its session when it is folded;
    /// returns its row. For jumps to an event (search matches): a jump into a folded
    /// session unfolds it.
    pub fn reveal_event(&mut self, e: EventIx) -> Option<usize> {
        let m = &self.model;
        let a = m.derived.analysis.as_ref()?;
        let u = m.derived.events.user?;
        let rows = &m.derived.events.rows;
        let found = rows.iter().position(|r| match r {
            Row::Event { pos, .. } => a.order[*pos] == e,
            Row::Session { .. } => false,
        });
        if let Some(i) = found {
            self.select_row(i);
            return Some(i);
        }
        let user = a.users.get(u.idx())?;
        let p = crate::index::IxRange::iter_ix(&user.events).find(|&p| a.order[p] == e)?;
        let s = a.sessions.get(a.pos_session[p].idx())?;
        let id = s.id;
        if !self.model.events.folds.unfold(id) {
            return None;
        }
        self.rebuild_rows(false);
        let m = &self.model;
        let a = m.derived.analysis.as_ref()?;
        // Its own row only: a type filter may hide it in the unfolded session too.
        let i = m
            .derived
            .events
            .rows
            .iter()
            .position(|r| matches!(r, Row::Event { pos, .. } if a.order[*pos] == e))?;
        self.select_row(i);
        Some(i)
    }

    /// The rows a jump searches, with the selection's index among them: the list with
    /// every session unfolded when some are folded (`None`: the list as shown).
    #[must_use]
    pub fn unfolded_rows(&self) -> Option<(Vec<Row>, usize)> {
        let m = &self.model;
        if !m.events.folds.any() {
            return None;
        }
        let a = m.derived.analysis.as_ref()?;
        let u = m.derived.events.user?;
        let all = build_rows(
            a,
            &m.store,
            u,
            m.events.order,
            &m.events.type_filter,
            &Folds::default(),
        );
        let sel = match m.derived.events.rows.get(m.derived.events.selected) {
            Some(&Row::Session { session, .. }) => header_row(&all, session),
            Some(&Row::Event { pos, .. }) => all
                .iter()
                .position(|r| matches!(r, Row::Event { pos: p, .. } if *p == pos)),
            None => None,
        };
        Some((all, sel.unwrap_or(0)))
    }

    /// `l` / `h`: scrolls the properties column by [`PROPS_STEP`] characters (fewer when
    /// the column is narrower, so that no character is skipped), up to where the longest
    /// property text on screen ends.
    pub(super) fn scroll_props(&mut self, right: bool) {
        let m = &self.model;
        if m.focus != Focus::Lower {
            return;
        }
        let ev = &m.events;
        let list = self.view.areas.lower_list;
        let cols = Columns::new(list.width as usize, m.derived.events.type_cells);
        if !right {
            let step = PROPS_STEP.min(cols.props.saturating_sub(1)).max(1);
            self.model.events.hscroll = ev.hscroll.saturating_sub(step);
            return;
        }
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let longest = m
            .derived
            .events
            .rows
            .iter()
            .skip(self.view.events_top)
            .take(list.height as usize)
            .filter_map(|r| match r {
                Row::Event { pos, .. } => m.derived.props.get(&a.order[*pos]),
                Row::Session { .. } => None,
            })
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(0);
        let max = longest.saturating_sub(cols.props);
        if ev.hscroll >= max {
            self.info("the properties on screen end here".to_string());
            return;
        }
        // Never more than the column shows, so that no character is skipped.
        let step = PROPS_STEP.min(cols.props.saturating_sub(1)).max(1);
        self.model.events.hscroll = (ev.hscroll + step).min(max);
    }
}
