//! Live mode's pieces that need no terminal and no clock of their own: follow mode's
//! state, request and event rates from counter samples, what the status bar shows of an
//! ingestion endpoint, the rejected-requests view, and the countdown of open sessions.
//!
//! Every time here is passed in: `Instant`s and wall-clock epoch ms come from
//! [`super::app::App::tick`], which the run loop calls with the real clock and tests call
//! with whatever they need.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::jsonview::JsonLine;
use crate::analysis::Analysis;
use crate::index::{IxRange, SessionIx, UserIx};
use crate::listen::shared::{CounterSnapshot, RejectedRequest};
use crate::tui::records::RecordRow;

/// Rates are averaged over at most this long.
pub const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Counters are sampled at most this often.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// Whether the views keep the newest events in view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Follow {
    /// Not following (`F` starts).
    #[default]
    Off,
    /// After each analysis, select the user with the most recent event and its newest
    /// event.
    On,
    /// Following was paused by navigation; `F` resumes.
    Paused {
        /// How many events the store held when it paused (new ones are counted from it).
        since: usize,
    },
}

/// Requests and events per second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    /// Requests answered per second.
    pub requests: f64,
    /// Events accepted per second.
    pub events: f64,
}

/// Counter samples over the last [`RATE_WINDOW`]; rates are the change between the oldest
/// and the newest sample over the time between them.
#[derive(Clone, Debug, Default)]
pub struct RateWindow {
    samples: VecDeque<(Instant, CounterSnapshot)>,
}

impl RateWindow {
    /// Whether a sample taken at `now` would be the first in [`SAMPLE_EVERY`].
    #[must_use]
    pub fn due(&self, now: Instant) -> bool {
        self.samples
            .back()
            .is_none_or(|(t, _)| now.saturating_duration_since(*t) >= SAMPLE_EVERY)
    }

    /// Adds a sample; counters that went down (the endpoint was reset) start afresh.
    pub fn push(&mut self, now: Instant, snap: CounterSnapshot) {
        if self
            .samples
            .back()
            .is_some_and(|(_, s)| snap.requests < s.requests || snap.events < s.events)
        {
            self.samples.clear();
        }
        self.samples.push_back((now, snap));
        // Keep one sample at or before the window's start, so the window stays covered.
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// The rates over the samples, once two of them are at least a moment apart.
    #[must_use]
    pub fn rates(&self) -> Option<Rates> {
        let (t0, first) = self.samples.front()?;
        let (t1, last) = self.samples.back()?;
        let secs = t1.saturating_duration_since(*t0).as_secs_f64();
        if secs < 0.1 {
            return None;
        }
        #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
        let per_s = |a: u64, b: u64| b.saturating_sub(a) as f64 / secs;
        Some(Rates {
            requests: per_s(first.requests, last.requests),
            events: per_s(first.events, last.events),
        })
    }
}

/// What the status bar shows of an ingestion endpoint, copied from its
/// [`crate::listen::shared::LiveState`] by [`super::app::App::tick`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveStatus {
    /// The address served.
    pub url: String,
    /// The upstream requests are relayed to.
    pub forward: Option<String>,
    /// The counters.
    pub counters: CounterSnapshot,
    /// Rates over the last seconds (`None` until two samples exist).
    pub rates: Option<Rates>,
}

/// The rejected-requests overlay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RejectedView {
    /// The rejected requests kept by the endpoint, newest first.
    pub list: Vec<RejectedRequest>,
    /// The sources' rejected records and session-id warnings kept by the store, listed
    /// after the requests.
    pub records: Vec<RecordRow>,
    /// Index of the selection: in `list`, then in `records` after it.
    pub selected: usize,
    /// The selected request's body or record's text, when opened.
    pub body: Option<BodyView>,
}

impl RejectedView {
    /// Rows: the requests, then the records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len() + self.records.len()
    }

    /// Whether there is no row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The selected request, when a request is selected.
    #[must_use]
    pub fn current(&self) -> Option<&RejectedRequest> {
        self.list.get(self.selected)
    }

    /// The selected record, when a record is selected.
    #[must_use]
    pub fn current_record(&self) -> Option<&RecordRow> {
        self.records
            .get(self.selected.checked_sub(self.list.len())?)
    }
}

/// A rejected request's body, pretty-printed when it is JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyView {
    /// The request's sequence number (0 for a record).
    pub request: u64,
    /// The record's index in [`RejectedView::records`], when this is a record's text.
    pub record: Option<usize>,
    /// The lines (already sanitized).
    pub lines: Vec<JsonLine>,
    /// Bytes kept, when fewer than the body had: (kept, full length).
    pub truncated: Option<(usize, usize)>,
    /// First line shown.
    pub scroll: usize,
}

impl BodyView {
    /// The body of `r`, pretty-printed (plain lines when it is not one JSON value, as a
    /// cut body never is).
    #[must_use]
    pub fn of(r: &RejectedRequest) -> Self {
        let lines = if r.body.is_empty() {
            Vec::new()
        } else {
            super::jsonview::pretty(&r.body)
        };
        Self {
            request: r.request,
            record: None,
            lines,
            truncated: (r.body.len() < r.body_len).then_some((r.body.len(), r.body_len)),
            scroll: 0,
        }
    }
}

impl BodyView {
    /// The full (escaped) text of record `i`, pretty-printed when it is one JSON value.
    #[must_use]
    pub fn of_record(i: usize, r: &RecordRow) -> Self {
        let plain = |text: String| super::jsonview::JsonLine {
            indent: 0,
            parts: vec![(super::jsonview::Tok::Plain, text)],
        };
        let mut lines = vec![plain(r.what.clone()), plain(String::new())];
        let (text, truncated) = match &r.text {
            Ok(raw) => (
                super::jsonview::pretty(raw.text.as_bytes()),
                raw.cut_from
                    .map(|len| (raw.text.len(), usize::try_from(len).unwrap_or(usize::MAX))),
            ),
            Err(_) => (Vec::new(), None),
        };
        lines.extend(text);
        Self {
            request: 0,
            record: Some(i),
            lines,
            truncated,
            scroll: 0,
        }
    }
}

/// The open session of a user: its most recent recorded session, while the time since
/// its last event is shorter than the timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenSession {
    /// The session.
    pub session: SessionIx,
    /// Time left until it times out (at most the timeout).
    pub ends_in_ms: i64,
}

/// User `u`'s open session at `now_ms` (epoch ms) with the analysis' current timeout.
/// `None` when `now_ms` is not a plausible time (unknown clock, tests) or the user's
/// latest session has ended; historical files therefore never have one. An event stamped
/// after `now_ms` (a client clock ahead) counts as just now.
#[must_use]
pub fn open_session(a: &Analysis, u: UserIx, now_ms: i64) -> Option<OpenSession> {
    if !crate::fmt::is_plausible_time(now_ms) {
        return None;
    }
    let user = a.users.get(u.idx())?;
    let timeout = a.rules.timeout_ms;
    let range = user.sessions.idx();
    let (k, s) = a
        .sessions
        .get(range.clone())?
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| (s.last, s.id))?;
    let idle = (now_ms - s.last).max(0);
    (idle < timeout).then(|| OpenSession {
        session: SessionIx::from_usize(range.start + k),
        ends_in_ms: timeout - idle,
    })
}

/// A countdown as `mm:ss`, or `h:mm:ss` from an hour; partial seconds count as a whole
/// one (it reads `00:01` until it ends).
#[must_use]
pub fn countdown(ms: i64) -> String {
    let secs = (ms.max(0) + 999) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// A rate for display: one decimal below 10, whole numbers above.
#[must_use]
pub fn rate(per_s: f64) -> String {
    if per_s < 9.95 {
        format!("{per_s:.1}")
    } else {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative rate for display"
        )]
        crate::fmt::count(per_s.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(requests: u64, events: u64) -> CounterSnapshot {
        CounterSnapshot {
            requests,
            events,
            ..CounterSnapshot::default()
        }
    }

    #[test]
    fn countdowns_read_minutes_and_hours() {
        assert_eq!(countdown(25 * 60_000), "25:00");
        assert_eq!(countdown(12 * 60_000 + 3_000), "12:03");
        assert_eq!(countdown(1), "00:01");
        assert_eq!(countdown(0), "00:00");
        assert_eq!(countdown(2 * 3_600_000 + 61_000), "2:01:01");
    }

    #[test]
    fn rates_cover_the_window_and_restart_after_a_reset() {
        let t0 = Instant::now();
        let mut w = RateWindow::default();
        w.push(t0, snap(0, 0));
        assert_eq!(w.rates(), None);
        for i in 1..=40u64 {
            w.push(t0 + Duration::from_millis(250 * i), snap(i, 10 * i));
        }
        // 10 s of samples: the window keeps about the last 5 s, at 4 requests/s.
        let r = w.rates().unwrap();
        assert!((r.requests - 4.0).abs() < 1e-9, "{r:?}");
        assert!((r.events - 40.0).abs() < 1e-9, "{r:?}");
        w.push(t0 + Duration::from_secs(11), snap(0, 0));
        assert_eq!(
            w.rates(),
            None,
            "counters went down: no rate across the reset"
        );
    }

    #[test]
    fn rates_are_formatted_for_their_size() {
        assert_eq!(rate(0.0), "0.0");
        assert_eq!(rate(2.54), "2.5");
        assert_eq!(rate(1234.4), "1,234");
    }
}
