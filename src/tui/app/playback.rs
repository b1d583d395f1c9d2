//! Playback (`p`): starting and stopping it, its keys, and moving its playhead on the
//! app's tick with the `Instant` the caller passes (see [`crate::tui::playback`]).
//! While it plays, the event list's selection (and the timeline's `▲`) follows the
//! playhead when the played user is the selected one; stopping lands the selection on the
//! last event played (selecting the played user again), so the user is where they stopped.

use std::time::Instant;

use super::App;
use crate::index::{EventIx, UserIx};
use crate::tui::model::{Focus, Lower};
use crate::tui::playback::PlaybackView;

impl App {
    /// Starts playing the selected user's stream back (or stops a running playback).
    pub(super) fn toggle_playback(&mut self) {
        if self.model.derived.playback.is_some() {
            self.stop_playback();
            return;
        }
        let m = &self.model;
        let (Some(a), Some(u)) = (&m.derived.analysis, m.selected_user()) else {
            self.info("nothing to play back yet: no user is selected".to_string());
            return;
        };
        let view = PlaybackView::new(a, &m.store, u, &m.rules);
        self.model.derived.playback = Some(view);
        self.model.lower = Lower::Playback;
        self.model.focus = Focus::Lower;
    }

    /// Stops playback: back to the event list, its selection on the last event played.
    pub(super) fn stop_playback(&mut self) {
        let Some(view) = self.model.derived.playback.take() else {
            if self.model.lower == Lower::Playback {
                self.model.lower = Lower::Events;
            }
            return;
        };
        self.model.lower = Lower::Events;
        let user = self
            .model
            .derived
            .analysis
            .as_ref()
            .and_then(|a| view.user_in(a));
        if let (Some(e), Some(user)) = (view.landed(), user) {
            self.land(user, e, true);
        }
    }

    /// While playing, the event list's selection (and so the timeline's `▲`) follows the
    /// playhead, as long as the played user is the selected one.
    fn follow_playhead(&mut self) {
        let Some(v) = &self.model.derived.playback else {
            return;
        };
        let user = self
            .model
            .derived
            .analysis
            .as_ref()
            .and_then(|a| v.user_in(a));
        if let (Some(e), Some(user)) = (v.landed(), user)
            && self.model.selected_event() != Some(e)
        {
            self.land(user, e, false);
        }
    }

    /// Selects event `e` of `user` in the event list (the nearest shown when a filter hides
    /// it); with `switch_user`, selects the user first.
    fn land(&mut self, user: UserIx, e: EventIx, switch_user: bool) {
        if switch_user
            && self.model.selected_user() != Some(user)
            && let Some(i) = self
                .model
                .derived
                .users
                .list
                .iter()
                .position(|&u| u == user)
        {
            self.select_user(i);
        }
        if self.model.selected_user() != Some(user) || self.model.derived.events.user != Some(user)
        {
            return;
        }
        match super::find_event_row(&self.model, e, false) {
            Some(row) => self.select_row(row),
            // Filtered out of the list: the nearest event shown.
            None => {
                if let Some(ev) = self.model.store.events().get(e.idx()) {
                    self.select_time(ev.time);
                }
            }
        }
        self.model.derived.timeline.center = None;
    }

    /// Pauses or resumes playback.
    pub(super) fn playback_pause(&mut self) {
        if let Some(v) = &mut self.model.derived.playback {
            v.toggle_pause();
        }
    }

    /// Moves playback to its next step, paused.
    pub(super) fn playback_step(&mut self) {
        if let Some(v) = &mut self.model.derived.playback {
            v.step();
        }
    }

    /// Plays faster (`up`) or slower.
    pub(super) fn playback_speed(&mut self, up: bool) {
        if let Some(v) = &mut self.model.derived.playback {
            v.change_speed(up);
        }
    }

    /// Keeps playback consistent with the rest of the view after an action: another
    /// lower pane ends it; a changed timeout replays its steps.
    pub(super) fn sync_playback(&mut self) {
        let m = &mut self.model;
        if m.lower != Lower::Playback {
            m.derived.playback = None;
            return;
        }
        let (Some(v), Some(a)) = (&mut m.derived.playback, &m.derived.analysis) else {
            m.lower = Lower::Events;
            return;
        };
        if v.playback.timeout_ms != m.rules.timeout_ms {
            v.retime(a, &m.store, m.rules.timeout_ms);
        }
        self.follow_playhead();
    }

    /// Moves the playhead by the wall time since the last tick (the tick's `now`).
    pub(super) fn advance_playback(&mut self, now: Instant) {
        self.sync_playback();
        if let Some(v) = &mut self.model.derived.playback
            && v.advance(now)
        {
            self.dirty = true;
            self.follow_playhead();
        }
    }
}
