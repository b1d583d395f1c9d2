//! Live mode: an attached ingestion endpoint, the wall clock, follow mode, the
//! rejected-requests overlay and resets of the store.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::App;
use crate::index::{IxRange, SourceIx};
use crate::listen::shared::LiveState;
use crate::tui::action::Action;
use crate::tui::live_view::{BodyView, Follow, LiveStatus, RateWindow, RejectedView};
use crate::tui::model::{Derived, Overlay};
use crate::tui::rows::{event_rows, header_row};

impl App {
    /// Attaches the ingestion endpoint `listen` serves: the status bar shows its address,
    /// rates and counters, `!` lists its rejected requests, and follow mode starts on.
    pub fn set_live(&mut self, live: Arc<LiveState>) {
        self.model.live = Some(LiveStatus {
            url: live.url.clone(),
            forward: live.forward.clone(),
            counters: live.counters.snapshot(),
            rates: None,
        });
        self.rejected_seen = None;
        self.live = Some(live);
        self.rates = RateWindow::default();
        self.model.users.sort = crate::tui::model::UserSort::Recent;
        self.set_follow(true);
    }

    /// Registers a source that never finishes (a followed file, a streaming URL, the
    /// endpoint's capture); returns its index. Follow mode starts on.
    pub fn add_live_source(&mut self, name: &str) -> Option<SourceIx> {
        let src = self.add_source(name)?;
        self.mark_live(src);
        Some(src)
    }

    /// Marks source `source` as live (the status bar says it is followed) and turns
    /// follow mode on.
    pub fn mark_live(&mut self, source: SourceIx) {
        if let Some(s) = self.model.sources.get_mut(source.idx()) {
            s.live = true;
            // Live, the most recent senders come first.
            self.model.users.sort = crate::tui::model::UserSort::Recent;
            self.set_follow(true);
        }
    }

    /// Turns follow mode on (selecting the newest events now) or off.
    pub fn set_follow(&mut self, on: bool) {
        if on {
            self.model.follow = Follow::On;
            self.follow_newest();
        } else {
            self.model.follow = Follow::Off;
        }
    }

    /// How many times the store was reset; a job asked for at an older count is void
    /// when its result points into the store (see [`crate::tui::jobs`]).
    #[must_use]
    pub fn epoch(&self) -> u64 {
        self.model.resets
    }

    pub(super) fn toggle_follow(&mut self) {
        match self.model.follow {
            Follow::On => {
                self.model.follow = Follow::Off;
                let key = self.main_key(Action::ToggleFollow);
                self.info(format!(
                    "stopped following; {key} follows the newest events again"
                ));
            }
            Follow::Off | Follow::Paused { .. } => {
                self.set_follow(true);
                self.info("following the newest events; moving around pauses".to_string());
            }
        }
    }

    /// Pauses follow mode (the user moved); new events are counted from here.
    pub(super) fn pause_follow(&mut self) {
        if self.model.follow == Follow::On {
            self.model.follow = Follow::Paused {
                since: self.model.store.events().len(),
            };
        }
    }

    /// Follow mode after each analysis: keeps the selected user and selects their newest
    /// event (wherever the list order puts it); the timeline follows the selection. With
    /// no user selected yet, the user with the most recent event is taken. Another user
    /// sending does not take the selection away ([`App::jump_latest_user`] goes there).
    pub(super) fn follow_newest(&mut self) {
        let m = &self.model;
        let keep = m.derived.users.selected;
        if m.derived.users.list.get(keep).is_some() {
            self.select_user(keep);
            self.select_newest_event();
        } else {
            self.follow_latest_user();
        }
    }

    /// `L`: selects the user who sent the most recent event, their newest event, and
    /// follows them.
    pub(super) fn jump_latest_user(&mut self) {
        self.follow_latest_user();
        if self.model.derived.analysis.is_some() {
            self.model.follow = Follow::On;
            self.view.users_top = self.view.users_top.min(self.model.derived.users.selected);
        }
    }

    /// Selects the listed user with the most recent event and that user's newest event.
    fn follow_latest_user(&mut self) {
        let m = &self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let best = m
            .derived
            .users
            .list
            .iter()
            .enumerate()
            .max_by_key(|&(i, &u)| (a.users[u].last, std::cmp::Reverse(i)))
            .map(|(i, _)| i);
        let Some(i) = best else {
            return;
        };
        self.select_user(i);
        self.select_newest_event();
    }

    /// Selects the selected user's newest event.
    fn select_newest_event(&mut self) {
        let m = &self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        let mut newest = event_rows(a, &m.store, &m.derived.events.rows)
            .map(|(i, pos, time)| (i, (time, pos)))
            .max_by_key(|&(_, key)| key)
            .map(|(i, _)| i);
        // The newest event sits in a folded session: its header (the fold stays, and the
        // header's count grows as events arrive).
        if let Some(u) = m.derived.events.user
            && let Some(user) = a.users.get(u.idx())
            && let Some(last) = user.events.iter_ix().next_back()
            && let Some(s) = a.sessions.get(a.pos_session[last].idx())
            && m.events.folds.is_folded(s.id)
            && let Some(i) = header_row(&m.derived.events.rows, a.pos_session[last])
        {
            newest = Some(i);
        }
        if let Some(i) = newest {
            self.model.derived.events.selected = i;
        }
        self.model.derived.timeline.center = None;
    }

    /// Sets the wall clock; the view is redrawn when its second changes while a countdown
    /// or live counters are on screen.
    pub(super) fn set_clock(&mut self, wall_ms: i64) {
        let before = std::mem::replace(&mut self.model.now_ms, wall_ms);
        if before.div_euclid(1000) == wall_ms.div_euclid(1000) {
            return;
        }
        let recent = crate::fmt::is_plausible_time(wall_ms)
            && self.model.derived.latest_ms.is_some_and(|t| {
                wall_ms.saturating_sub(t) <= self.model.rules.timeout_ms.saturating_add(1000)
            });
        if recent || self.model.is_live() {
            self.dirty = true;
        }
    }

    /// Samples the endpoint's counters (at most every
    /// [`crate::tui::live_view::SAMPLE_EVERY`]) and refreshes the rejected requests shown.
    pub(super) fn refresh_live(&mut self, now: Instant) {
        let Some(live) = &self.live else {
            return;
        };
        if !self.rates.due(now) {
            return;
        }
        let snap = live.counters.snapshot();
        self.rates.push(now, snap);
        let status = LiveStatus {
            url: live.url.clone(),
            forward: live.forward.clone(),
            counters: snap,
            rates: self.rates.rates(),
        };
        if self.model.live.as_ref() != Some(&status) {
            self.model.live = Some(status);
            self.dirty = true;
        }
        let seen = (live.epoch.load(Ordering::Relaxed), snap.rejected_requests);
        if self.model.rejected.is_some() && self.rejected_seen != Some(seen) {
            self.refresh_rejected();
        }
    }

    /// The endpoint's rejected requests, newest first (none without an endpoint).
    fn rejected_list(&mut self) -> Vec<crate::listen::shared::RejectedRequest> {
        let Some(live) = &self.live else {
            return Vec::new();
        };
        self.rejected_seen = Some((
            live.epoch.load(Ordering::Relaxed),
            live.counters.rejected_requests.load(Ordering::Relaxed),
        ));
        let mut list = live.rejected();
        list.reverse();
        list
    }

    /// Re-reads the rejected requests, keeping the selected one selected; the records
    /// are read again when the store kept more of them.
    fn refresh_rejected(&mut self) {
        let list = self.rejected_list();
        let records_kept = self.model.store.rejects.len() + self.model.store.warnings.len();
        let stale_records = self
            .model
            .rejected
            .as_ref()
            .is_some_and(|v| v.records.len() != records_kept);
        let records = stale_records.then(|| crate::tui::records::rows(&self.model.store));
        let Some(v) = &mut self.model.rejected else {
            return;
        };
        if v.selected < v.list.len() {
            let keep = v.current().map(|r| r.request);
            v.selected = keep
                .and_then(|k| list.iter().position(|r| r.request == k))
                .unwrap_or(0);
        } else {
            // A record stays selected: it keeps its index among the records.
            v.selected = v.selected - v.list.len() + list.len();
        }
        if let Some(b) = &v.body
            && b.record.is_none()
            && !list.iter().any(|r| r.request == b.request)
        {
            v.body = None;
        }
        v.list = list;
        if let Some(records) = records {
            v.records = records;
        }
        v.selected = v.selected.min(v.len().saturating_sub(1));
        self.dirty = true;
    }

    pub(super) fn toggle_rejected(&mut self) {
        if self.model.overlay == Overlay::Rejected {
            self.model.overlay = Overlay::None;
            self.model.rejected = None;
            return;
        }
        let list = self.rejected_list();
        self.model.derived.detail = None;
        let records = crate::tui::records::rows(&self.model.store);
        self.model.rejected = Some(RejectedView {
            list,
            records,
            selected: 0,
            body: None,
        });
        self.model.overlay = Overlay::Rejected;
    }

    /// Shows the selected rejected request's body, or the selected record's full text.
    pub(super) fn open_body(&mut self) {
        let Some(v) = &mut self.model.rejected else {
            return;
        };
        if v.body.is_some() {
            return;
        }
        if let Some(r) = v.current() {
            v.body = Some(BodyView::of(r));
        } else if let Some(r) = v.current_record() {
            v.body = Some(BodyView::of_record(v.selected - v.list.len(), r));
        }
    }

    /// Forgets everything indexed by event or user after the store was reset: the
    /// derived state as a whole ([`Derived`]: the analysis, rows, lanes, cached
    /// properties, the detail overlay). An analysis or a raw read asked for before arrives
    /// later and is dropped by the jobs' staleness rule.
    pub(super) fn on_reset(&mut self) {
        let m = &mut self.model;
        m.resets += 1;
        m.derived = Derived::default();
        if matches!(
            m.overlay,
            Overlay::Detail | Overlay::Session | Overlay::SearchResults
        ) {
            m.overlay = Overlay::None;
        }
        if let Follow::Paused { .. } = m.follow {
            m.follow = Follow::Paused { since: 0 };
        }
        self.view.users_top = 0;
        self.view.events_top = 0;
        self.info("the endpoint was reset; showing events received since".to_string());
    }
}
