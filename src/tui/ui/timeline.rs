//! The session timeline of the selected user: a time axis with one bar per recorded
//! session (overlapping sessions stacked), idle gaps over the threshold drawn inside the
//! bars, empty and zero-length sessions in their own glyphs, out-of-session events on a
//! lane of their own, and a second lane with the sessions replayed at the current
//! timeout, so splits and merges show against the recorded bars. Adjacent bars alternate
//! between two glyphs so that touching sessions stay distinguishable without colour.
//!
//! Live: a user's open session (its last event less than the timeout before
//! [`Model::now_ms`]) continues as a dotted line up to now, where `▷` marks its open end;
//! the window reaches to now so it shows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{LANE_LABEL, Theme, ViewState, inset, pane};
use crate::analysis::{Analysis, Flag, NO_SESSION};
use crate::fmt::{count, duration, setting};
use crate::index::{SessionIx, UserIx};
use crate::tui::model::{Focus, Model};
use crate::tui::rows::{Lanes, Window};
use crate::tui::zone::{Precision, Zone};

/// Bar glyphs, alternating between neighbours.
const BAR: [char; 2] = ['█', '▓'];
/// An idle stretch over the gap threshold inside a session.
const GAP: char = '╌';
/// An empty session (no active event).
const EMPTY: char = '░';
/// A zero-length session.
const ZERO: char = '◆';
/// A zero-length session that is also empty.
const ZERO_EMPTY: char = '◇';
/// An out-of-session event.
const DOT: char = '•';
/// An open session's idle time so far.
const OPEN_IDLE: char = '┄';
/// Now, at the end of an open session.
const OPEN_END: char = '▷';

/// Tick spacings the axis chooses from.
const STEPS: [i64; 24] = [
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
    1_209_600_000,
    2_592_000_000,
    7_776_000_000,
    31_536_000_000,
];

/// One row of cells.
struct Cells(Vec<(char, Style)>);

impl Cells {
    fn new(width: u16, style: Style) -> Self {
        Self(vec![(' ', style); width as usize])
    }

    fn set(&mut self, col: u16, c: char, style: Style) {
        if let Some(cell) = self.0.get_mut(col as usize) {
            *cell = (c, style);
        }
    }

    fn fill(&mut self, from: u16, to: u16, c: char, style: Style) {
        for col in from..=to {
            self.set(col, c, style);
        }
    }

    fn line(self) -> Line<'static> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut text = String::new();
        let mut style = None;
        for (c, s) in self.0 {
            if style.is_some_and(|st| st != s) {
                spans.push(Span::styled(
                    std::mem::take(&mut text),
                    style.unwrap_or_default(),
                ));
            }
            style = Some(s);
            text.push(c);
        }
        if !text.is_empty() {
            spans.push(Span::styled(text, style.unwrap_or_default()));
        }
        Line::from(spans)
    }
}

/// Draws the timeline pane.
pub fn render(frame: &mut Frame<'_>, model: &Model, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.timeline;
    let plot = view.areas.timeline_plot;
    let focused = model.focus == Focus::Timeline;
    let zone = model.zones.current();
    let (Some(a), Some(u), Some(lanes), Some(w)) = (
        model.derived.analysis.as_ref(),
        model.selected_user(),
        model.derived.timeline.lanes.as_ref(),
        model.timeline_window(),
    ) else {
        frame.render_widget(pane(Line::styled(" Timeline ", t.title), focused, t), area);
        if let Some(live) = &model.live
            && model.derived.users.list.is_empty()
        {
            frame.render_widget(
                Paragraph::new(waiting_lines(model, &live.url, t)).wrap(Wrap { trim: false }),
                inset(area),
            );
            return;
        }
        let msg = if model.loading() {
            "loading…"
        } else {
            "no user selected"
        };
        frame.render_widget(Paragraph::new(msg).style(t.dim), inset(area));
        return;
    };
    let mut title = vec![
        Span::styled(" Timeline ", t.title),
        Span::styled(
            format!(
                "{} → {} ({}) ",
                zone.format(w.start, Precision::DayMinutes),
                zone.format(w.end, Precision::DayMinutes),
                duration(w.span_ms())
            ),
            t.dim,
        ),
    ];
    if model.derived.timeline.zoom > 0 {
        title.push(Span::styled(
            format!("zoom ×{} ", 1u64 << model.derived.timeline.zoom.min(63)),
            t.warn,
        ));
    }
    frame.render_widget(pane(Line::from(title), focused, t), area);
    let inner = inset(area);
    if inner.height < 6 || plot.width < 4 {
        return;
    }
    let label_area = |y: u16| Rect::new(inner.x, y, LANE_LABEL, 1);
    let plot_row = |y: u16| Rect::new(plot.x, y, plot.width, 1);
    let mut y = inner.y;
    frame.render_widget(
        Paragraph::new(summary(model, a, u, lanes, t)),
        Rect::new(inner.x, y, inner.width, 1),
    );
    y += 1;
    let bottom = inner.y + inner.height;
    // Rows needed below the recorded lane: no-session, replay, two axis rows.
    let fixed = 4;
    let room = bottom.saturating_sub(y + fixed);
    let rec_rows = u16::from(lanes.rows).clamp(1, room.max(1));
    let spare = room.saturating_sub(rec_rows);
    let selected = selected_info(model, a);
    let s0 = a.users[u].sessions.start;
    let open = model
        .open_session(u)
        .map(|o| (o.session.offset_from(s0), model.now_ms));
    let marks = Marks {
        selected: selected.session,
        open,
    };
    for (r, line) in recorded_rows(a, u, lanes, w, plot.width, rec_rows, marks, t)
        .into_iter()
        .enumerate()
    {
        if r == 0 {
            frame.render_widget(Paragraph::new("recorded").style(t.dim), label_area(y));
        }
        frame.render_widget(Paragraph::new(line), plot_row(y));
        y += 1;
    }
    frame.render_widget(Paragraph::new("no session").style(t.dim), label_area(y));
    let mut dots = Cells::new(plot.width, t.text);
    for &time in &lanes.out_of_session {
        if let Some(c) = w.column(time, plot.width) {
            let style = if selected.out_of_session == Some(time) {
                t.bar_selected
            } else {
                t.bar_no_session
            };
            dots.set(c, DOT, style);
        }
    }
    frame.render_widget(Paragraph::new(dots.line()), plot_row(y));
    y += 1;
    frame.render_widget(
        Paragraph::new(format!("replay {}", setting(lanes.timeout_ms))).style(t.dim),
        label_area(y),
    );
    frame.render_widget(
        Paragraph::new(replay_row(lanes, w, plot.width, selected.time, t)),
        plot_row(y),
    );
    y += 1;
    if spare >= 1 {
        let mut cursor = Cells::new(plot.width, t.text);
        if let Some(c) = selected.time.and_then(|time| w.column(time, plot.width)) {
            cursor.set(c, '▲', t.current);
        }
        frame.render_widget(Paragraph::new(cursor.line()), plot_row(y));
        if let Some(time) = selected.time {
            frame.render_widget(
                Paragraph::new(zone.format(time, Precision::Seconds)).style(t.current),
                label_area(y),
            );
        }
        y += 1;
    }
    let (ticks, labels) = axis(w, plot.width, zone, t);
    frame.render_widget(Paragraph::new(ticks), plot_row(y));
    frame.render_widget(Paragraph::new(labels), plot_row(y + 1));
    y += 2;
    if spare >= 2 && y < bottom {
        let mut legend = Line::from(vec![
            Span::styled(format!("{} ", BAR[0]), t.bar),
            Span::styled("session  ", t.dim),
            Span::styled(format!("{GAP} "), t.bar),
            Span::styled(format!("gap > {}  ", setting(a.rules.gap_ms)), t.dim),
            Span::styled(format!("{EMPTY} "), t.bar_odd),
            Span::styled("empty  ", t.dim),
            Span::styled(format!("{ZERO} "), t.bar_odd),
            Span::styled("zero-length  ", t.dim),
            Span::styled(format!("{DOT} "), t.bar_no_session),
            Span::styled("no session (-1)", t.dim),
        ]);
        if open.is_some() {
            legend.push_span(Span::styled(format!("  {OPEN_IDLE}{OPEN_END} "), t.current));
            legend.push_span(Span::styled("open", t.dim));
        }
        frame.render_widget(
            Paragraph::new(legend),
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
}

/// Sessions the recorded lane marks (indices into the user's sessions).
#[derive(Clone, Copy, Default)]
struct Marks {
    /// The selected event's session.
    selected: Option<usize>,
    /// The open session, with now (epoch ms).
    open: Option<(usize, i64)>,
}

/// The selected event as the timeline needs it.
#[derive(Default)]
struct Selected {
    /// Its time.
    time: Option<i64>,
    /// Its session (index into the user's sessions).
    session: Option<usize>,
    /// Its time, when it is out of session.
    out_of_session: Option<i64>,
}

fn selected_info(model: &Model, a: &Analysis) -> Selected {
    let Some(row) = model.derived.events.rows.get(model.derived.events.selected) else {
        return Selected::default();
    };
    let Some(u) = model.selected_user() else {
        return Selected::default();
    };
    let s0 = a.users[u].sessions.start;
    match *row {
        crate::tui::rows::Row::Session { session, .. } => Selected {
            time: Some(a.sessions[session].first),
            session: Some(session.offset_from(s0)),
            out_of_session: None,
        },
        crate::tui::rows::Row::Event { pos, .. } => {
            let time = model.store.events()[a.order[pos]].time;
            let s = a.pos_session[pos];
            if s == NO_SESSION {
                Selected {
                    time: Some(time),
                    session: None,
                    out_of_session: Some(time),
                }
            } else {
                Selected {
                    time: Some(time),
                    session: Some(s.offset_from(s0)),
                    out_of_session: None,
                }
            }
        }
    }
}

/// The line over the lanes: the user, its counts and its flags in words.
fn summary(model: &Model, a: &Analysis, u: UserIx, lanes: &Lanes, t: &Theme) -> Line<'static> {
    let user = &a.users[u];
    let mut spans = vec![
        Span::styled(model.user_label(u), t.header),
        Span::styled(
            format!(" · {} events", count(u64::from(user.event_count()))),
            t.dim,
        ),
    ];
    let words = super::users::user_flag_words(a, u);
    if words.is_empty() {
        spans.push(Span::styled(" · no flags", t.dim));
    } else {
        spans.push(Span::styled(" · ", t.dim));
        spans.push(Span::styled(words.join(" "), t.flag));
    }
    let range = user.sessions.clone();
    let in_user = |v: &[SessionIx]| super::count_in(v, &range);
    spans.push(Span::styled(
        format!(
            " · replay {}: {} sessions, {} split, {} merged",
            setting(lanes.timeout_ms),
            count(lanes.replayed.len() as u64),
            in_user(&a.replay.split),
            in_user(&a.replay.merged)
        ),
        t.dim,
    ));
    Line::from(spans)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one drawing pass over a user's lanes"
)]
fn recorded_rows(
    a: &Analysis,
    u: UserIx,
    lanes: &Lanes,
    w: Window,
    width: u16,
    rows: u16,
    marks: Marks,
    t: &Theme,
) -> Vec<Line<'static>> {
    let selected = marks.selected;
    let mut out: Vec<Cells> = (0..rows).map(|_| Cells::new(width, t.text)).collect();
    let last_row = rows.saturating_sub(1) as usize;
    let sessions = a.user_sessions(u);
    for (k, s) in sessions.iter().enumerate() {
        if s.last < w.start || s.first > w.end {
            continue;
        }
        let row = (lanes.session_row.get(k).copied().unwrap_or(0) as usize).min(last_row);
        let c0 = w.column_clamped(s.first, width);
        let c1 = w.column_clamped(s.last, width);
        let empty = s.has(Flag::Empty);
        let zero = s.has(Flag::ZeroLength);
        let style = match (selected == Some(k), empty || zero) {
            (true, _) => t.bar_selected,
            (false, true) => t.bar_odd,
            (false, false) => t.bar,
        };
        let cells = &mut out[row];
        if zero {
            cells.set(c0, if empty { ZERO_EMPTY } else { ZERO }, style);
        } else if empty {
            cells.fill(c0, c1, EMPTY, style);
        } else {
            cells.fill(c0, c1, BAR[k % 2], style);
        }
    }
    for &(k, from, to) in &lanes.gaps {
        let k = k as usize;
        let row = (lanes.session_row.get(k).copied().unwrap_or(0) as usize).min(last_row);
        if to < w.start || from > w.end {
            continue;
        }
        let c0 = w.column_clamped(from, width);
        let c1 = w.column_clamped(to, width);
        if c1 > c0 + 1 {
            let style = if selected == Some(k) {
                t.bar_selected
            } else {
                t.bar
            };
            out[row].fill(c0 + 1, c1 - 1, GAP, style);
        }
    }
    if let Some((k, now)) = marks.open
        && let Some(s) = sessions.get(k)
        && now >= w.start
        && s.last <= w.end
    {
        let row = (lanes.session_row.get(k).copied().unwrap_or(0) as usize).min(last_row);
        let c_last = w.column_clamped(s.last, width);
        let c_now = w.column_clamped(now, width);
        if c_now > c_last + 1 {
            out[row].fill(c_last + 1, c_now - 1, OPEN_IDLE, t.current);
        }
        if c_now > c_last {
            out[row].set(c_now, OPEN_END, t.current);
        }
    }
    out.into_iter().map(Cells::line).collect()
}

fn replay_row(
    lanes: &Lanes,
    w: Window,
    width: u16,
    selected: Option<i64>,
    t: &Theme,
) -> Line<'static> {
    let mut cells = Cells::new(width, t.text);
    for (k, &(first, last, _)) in lanes.replayed.iter().enumerate() {
        if last < w.start || first > w.end {
            continue;
        }
        let c0 = w.column_clamped(first, width);
        let c1 = w.column_clamped(last, width);
        let style = if selected.is_some_and(|s| (first..=last).contains(&s)) {
            t.bar_selected
        } else {
            t.bar_replay
        };
        if first == last {
            cells.set(c0, ZERO, style);
        } else {
            cells.fill(c0, c1, BAR[k % 2], style);
        }
    }
    cells.line()
}

/// The tick line and the label line of the time axis, in `zone`.
fn axis(w: Window, width: u16, zone: Zone, t: &Theme) -> (Line<'static>, Line<'static>) {
    let multi_day = w.span_ms() > 86_400_000
        || zone.format(w.start, Precision::Date) != zone.format(w.end, Precision::Date);
    let precision_for = |step: i64| match step {
        s if s < 60_000 => Precision::Seconds,
        s if s < 86_400_000 && multi_day => Precision::DayMinutes,
        s if s < 86_400_000 => Precision::Minutes,
        _ => Precision::MonthDay,
    };
    let label_w = |p: Precision| match p {
        Precision::Seconds => 8,
        Precision::DayMinutes => 11,
        Precision::MonthDay | Precision::Minutes => 5,
        _ => 12,
    };
    let per_col = w.span_ms() as f64 / f64::from(width.max(1));
    let step = STEPS
        .iter()
        .copied()
        .find(|&s| s as f64 / per_col >= f64::from(label_w(precision_for(s)) + 2))
        .unwrap_or(STEPS[STEPS.len() - 1]);
    let precision = precision_for(step);
    let offset = i64::from(zone.offset_at(w.start).local_minus_utc()) * 1000;
    // Saturating: the window may reach either end of the i64 range.
    let mut tick = w
        .start
        .saturating_add(offset)
        .div_euclid(step)
        .saturating_mul(step)
        .saturating_sub(offset);
    if tick < w.start {
        tick = tick.saturating_add(step);
    }
    let mut ticks = Cells::new(width, t.dim);
    ticks.fill(0, width.saturating_sub(1), '─', t.dim);
    let mut labels = vec![' '; width as usize];
    let mut free_from = 0usize;
    // At most one tick a column: a window wider than the largest step allows (times near
    // the ends of the i64 range) gets no more ticks than fit, not billions of iterations.
    let mut budget = usize::from(width) + 1;
    while tick <= w.end && budget > 0 {
        budget -= 1;
        if let Some(c) = w.column(tick, width) {
            ticks.set(c, '┴', t.dim);
            let text = zone.format(tick, precision);
            let start = c as usize;
            let n = text.chars().count();
            if start >= free_from && start + n <= labels.len() {
                for (i, ch) in text.chars().enumerate() {
                    labels[start + i] = ch;
                }
                free_from = start + n + 1;
            }
        }
        match tick.checked_add(step) {
            Some(next) => tick = next,
            None => break,
        }
    }
    let labels: String = labels.into_iter().collect();
    (ticks.line(), Line::styled(labels, t.dim))
}

/// The empty state while `listen` waits for its first events: where to send them, a
/// one-line `curl` that sends one to the actual address, and where they are captured.
fn waiting_lines(model: &Model, url: &str, t: &Theme) -> Vec<Line<'static>> {
    let url = crate::fmt::sanitize(url.trim_end_matches('/')).into_owned();
    let endpoint = format!("{url}/2/httpapi");
    let mut lines = vec![
        Line::from(vec![
            Span::styled("waiting for events · SDK server URL ", t.dim),
            Span::raw(endpoint.clone()),
        ]),
        Line::raw(format!(
            "curl -d '{{\"api_key\":\"k\",\"events\":[{{\"event_type\":\"test\",\"user_id\":\"user-1\"}}]}}' {endpoint}"
        )),
    ];
    let captures: Vec<String> = model
        .sources
        .iter()
        .filter(|s| s.live)
        .map(|s| crate::fmt::sanitize(&s.name).into_owned())
        .collect();
    if !captures.is_empty() {
        lines.push(Line::styled(
            format!("captured to {}", captures.join(", ")),
            t.dim,
        ));
    }
    lines
}
