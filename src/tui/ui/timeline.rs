//! The session timeline of the selected user: a time axis with one bar per recorded
//! session (overlapping sessions stacked), idle gaps over the threshold drawn inside the
//! bars, empty and zero-length sessions in their own glyphs, out-of-session events on a
//! lane of their own, and a second lane with the sessions replayed at the current
//! timeout T. Where the replay differs from the recording it shows: a `┊` inside a
//! recorded bar where T cuts it (an idle stretch between two of its active events longer
//! than T), and a `═` tie inside a replayed bar across the idle between the recorded
//! sessions it merges. Adjacent bars alternate between `█` and `▓` so that touching
//! sessions stay distinguishable without colour.
//!
//! The window is fitted to the selected session by default ([`Scale::Fit`]: the session
//! with T on either side, so whatever the replay could merge with it is in view); `+`/`-`
//! zoom around the selected session, `0` shows the whole history, `Z` fits again. Under
//! the lanes the *session strip* shows the selected session alone, from its first to its
//! last event: a tick per event, the gaps over the threshold with their durations written
//! in, and the idle stretches longer than T (where the replay cuts) marked distinctly.
//!
//! The selected session is drawn in its own style *and* shape (bold, bracketed `[███]`),
//! never in reverse video: a reversed full block is a hole in a real terminal. Every
//! glyph is listed in [`GLYPHS`], which the legend row and the help both draw from.
//!
//! Live: a user's open session (its last event less than the timeout before
//! [`Model::now_ms`]) continues as a dotted line up to now, where `▷` marks its open end;
//! the window reaches to now so it shows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{LANE_LABEL, Theme, ViewState, cells, fit, inset, pane};
use crate::analysis::{Analysis, Flag, NO_SESSION, Session};
use crate::fmt::{count, duration, setting};
use crate::index::{IxRange, SessionIx, UserIx};
use crate::tui::model::{Focus, Model};
use crate::tui::rows::{Lanes, Scale, Window};
use crate::tui::zone::{Precision, Zone};

/// Bar glyphs, alternating between neighbours.
pub const BAR: [char; 2] = ['█', '▓'];
/// The brackets around the selected session.
pub const SELECTED: [char; 2] = ['[', ']'];
/// An idle stretch over the gap threshold inside a session.
pub const GAP: char = '╌';
/// Where the replay at T cuts a recorded session.
pub const CUT: char = '┊';
/// A replayed session's tie across the idle between two recorded sessions it merges.
pub const TIE: char = '═';
/// An empty session (no active event).
pub const EMPTY: char = '░';
/// A zero-length session.
pub const ZERO: char = '◆';
/// A zero-length session that is also empty.
pub const ZERO_EMPTY: char = '◇';
/// An out-of-session event.
pub const DOT: char = '•';
/// An open session's idle time so far.
pub const OPEN_IDLE: char = '·';
/// Now, at the end of an open session.
pub const OPEN_END: char = '▷';
/// The selected event, under the lanes.
pub const CURSOR: char = '▲';
/// The session strip: an active event.
pub const TICK: char = '│';
/// The session strip: the selected event.
pub const TICK_SELECTED: char = '┃';
/// The session strip: an inactive event (marker, identify).
pub const TICK_INACTIVE: char = '╵';
/// The session strip: time within the session, idle less than the gap threshold.
pub const SPAN: char = '─';
/// The session strip: time the app spent in the background (lifecycle events).
pub const BACKGROUND: char = '▁';

/// One entry of the glyph legend: the glyphs, what they mean, and their style.
#[derive(Clone, Copy)]
pub struct Glyph {
    /// The glyph(s) as drawn.
    pub glyphs: &'static str,
    /// A short meaning for the legend row.
    pub short: &'static str,
    /// The meaning in full, for the help.
    pub meaning: &'static str,
    /// The style it is drawn in.
    pub style: fn(&Theme) -> Style,
}

/// Every glyph the timeline draws, in legend order (the legend row and the help both
/// list these; the drawing code uses the constants they are built from).
pub const GLYPHS: [Glyph; 14] = [
    Glyph {
        glyphs: "█ ▓",
        short: "session (▓ its neighbour)",
        meaning: "a session, recorded or replayed; touching neighbours alternate █ and ▓",
        style: |t| t.bar,
    },
    Glyph {
        glyphs: "[█]",
        short: "selected",
        meaning: "the selected session: bold, in brackets (where the cells beside it are free)",
        style: |t| t.bar_selected,
    },
    Glyph {
        glyphs: "╌",
        short: "gap",
        meaning: "idle longer than the gap threshold inside a session (the strip writes its length)",
        style: |t| t.bar,
    },
    Glyph {
        glyphs: "┊",
        short: "replay cuts",
        meaning: "where the replay at T cuts a recorded session: idle between active events longer than T",
        style: |t| t.cut,
    },
    Glyph {
        glyphs: "═",
        short: "replay merges",
        meaning: "a replayed session tying recorded sessions together across the idle between them",
        style: |t| t.tie,
    },
    Glyph {
        glyphs: "░",
        short: "empty",
        meaning: "an empty session: no active event, only markers or identify calls",
        style: |t| t.bar_odd,
    },
    Glyph {
        glyphs: "◆ ◇",
        short: "zero-length",
        meaning: "a zero-length session (◇ also empty)",
        style: |t| t.bar_odd,
    },
    Glyph {
        glyphs: "•",
        short: "no session (-1)",
        meaning: "an event out of session (session_id -1, null or absent)",
        style: |t| t.bar_no_session,
    },
    Glyph {
        glyphs: "··▷",
        short: "open",
        meaning: "live: an open session's idle time so far, up to now (▷)",
        style: |t| t.current,
    },
    Glyph {
        glyphs: "▲ ┃",
        short: "selected event",
        meaning: "the selected event: ▲ under the lanes, ┃ on the session strip",
        style: |t| t.current,
    },
    Glyph {
        glyphs: "│",
        short: "event",
        meaning: "session strip: an active event",
        style: |t| t.bar,
    },
    Glyph {
        glyphs: "╵",
        short: "inactive",
        meaning: "session strip: an inactive event (session marker, identify call)",
        style: |t| t.dim,
    },
    Glyph {
        glyphs: "─",
        short: "in session",
        meaning: "session strip: time inside the session, idle shorter than the gap threshold",
        style: |t| t.dim,
    },
    Glyph {
        glyphs: "▁",
        short: "in background",
        meaning: "session strip: time the app spent in the background (between [Amplitude] Application Backgrounded and Opened), which the session's length includes",
        style: |t| t.warn,
    },
];

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

    fn get(&self, col: u16) -> Option<char> {
        self.0.get(col as usize).map(|&(c, _)| c)
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

    /// Writes `text` centred between `from` and `to` (inclusive) when it fits there.
    fn text_in(&mut self, from: u16, to: u16, text: &str, style: Style) -> bool {
        let n = u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
        if to < from || to - from + 1 < n {
            return false;
        }
        let start = from + (to - from + 1 - n) / 2;
        for (i, c) in text.chars().enumerate() {
            self.set(
                start.saturating_add(u16::try_from(i).unwrap_or(0)),
                c,
                style,
            );
        }
        true
    }

    /// Brackets the cells `from..=to` with `[` `]` where the cells beside them are free.
    fn bracket(&mut self, from: u16, to: u16, style: Style) {
        if from > 0 && self.get(from - 1) == Some(' ') {
            self.set(from - 1, SELECTED[0], style);
        }
        if self.get(to + 1) == Some(' ') {
            self.set(to + 1, SELECTED[1], style);
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

/// The rows the pane draws, in the order of priority when the pane is short.
struct Plan {
    recorded: u16,
    strip: u16,
    cursor: bool,
    legend: u16,
}

impl Plan {
    /// Summary, recorded rows, no session, replay and the axis's two rows come first;
    /// then the session strip (its glyph row, then its scale row), the cursor row, and
    /// the legend in what is left.
    fn new(height: u16, lane_rows: u8) -> Plan {
        let mut room = height.saturating_sub(5);
        let recorded = u16::from(lane_rows).clamp(1, room.max(1));
        room = room.saturating_sub(recorded);
        let strip = room.min(2);
        room -= strip;
        let cursor = room >= 1;
        room = room.saturating_sub(u16::from(cursor));
        Plan {
            recorded,
            strip,
            cursor,
            legend: room,
        }
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
    let inner = inset(area);
    // The window's ends when they fit; its length and scale always.
    let range = format!(
        "{} → {} ",
        zone.format(w.start, Precision::DayMinutes),
        zone.format(w.end, Precision::DayMinutes),
    );
    let scale = format!("({}) {} ", duration(w.span_ms()), scale_label(model, w));
    let mut title = vec![Span::styled(" Timeline ", t.title)];
    if 10 + cells(&range) + cells(&scale) + 2 <= usize::from(area.width) {
        title.push(Span::styled(range, t.dim));
    }
    title.push(Span::styled(scale, t.warn));
    let block = pane(Line::from(title), focused, t).title_bottom(replay_counts(
        a,
        u,
        lanes,
        t,
        usize::from(inner.width),
    ));
    frame.render_widget(block, area);
    if inner.height < 6 || plot.width < 4 {
        return;
    }
    let label_area = |y: u16| Rect::new(inner.x, y, LANE_LABEL, 1);
    let plot_row = |y: u16| Rect::new(plot.x, y, plot.width, 1);
    let mut y = inner.y;
    frame.render_widget(
        Paragraph::new(summary(model, a, u, t, usize::from(inner.width))),
        Rect::new(inner.x, y, inner.width, 1),
    );
    y += 1;
    let plan = Plan::new(inner.height, lanes.rows);
    let selected = selected_info(model, a);
    let s0 = a.users[u].sessions.start;
    let open = model
        .open_session(u)
        .map(|o| (o.session.offset_from(s0), model.now_ms));
    let marks = Marks {
        selected: selected.session,
        open,
    };
    let draw = Draw {
        a,
        u,
        lanes,
        w,
        width: plot.width,
        t,
    };
    for (r, line) in draw
        .recorded_rows(plan.recorded, marks)
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
    let session_span = selected
        .session
        .and_then(|k| a.user_sessions(u).get(k))
        .map(|s| (s.first, s.last));
    frame.render_widget(
        Paragraph::new(draw.replay_row(selected.time, session_span)),
        plot_row(y),
    );
    y += 1;
    if plan.cursor {
        let mut cursor = Cells::new(plot.width, t.text);
        if let Some(c) = selected.time.and_then(|time| w.column(time, plot.width)) {
            cursor.set(c, CURSOR, t.current);
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
    if plan.strip > 0 {
        let strip = selected.session.and_then(|k| {
            let s = a.user_sessions(u).get(k)?;
            Some(strip_rows(
                model,
                a,
                u,
                lanes,
                (k, s),
                plot.width,
                selected.time,
                t,
            ))
        });
        let label = selected
            .session
            .map_or_else(|| "session".to_string(), |k| format!("session {}", k + 1));
        frame.render_widget(
            Paragraph::new(fit(&label, usize::from(LANE_LABEL) - 1)).style(t.dim),
            label_area(y),
        );
        match strip {
            Some((glyphs, scale)) => {
                frame.render_widget(Paragraph::new(glyphs), plot_row(y));
                if plan.strip > 1 {
                    frame.render_widget(Paragraph::new(scale), plot_row(y + 1));
                }
            }
            None => frame.render_widget(
                Paragraph::new("the selected event is out of session").style(t.dim),
                plot_row(y),
            ),
        }
        y += plan.strip;
    }
    if plan.legend > 0 {
        let legend = legend_lines(t, usize::from(inner.width), open.is_some());
        let rows = usize::from(plan.legend);
        // Too many lines for the rows left: the help lists them all.
        let lines: Vec<Line<'static>> = legend.into_iter().take(rows).collect();
        frame.render_widget(
            Paragraph::new(lines),
            Rect::new(inner.x, y, inner.width, plan.legend),
        );
    }
}

/// The scale in words, for the title: fitted, zoomed (how many times) or whole.
fn scale_label(model: &Model, w: Window) -> String {
    let whole = model
        .timeline_span()
        .map_or(w.span_ms(), |s| Window::at(s, None, None).span_ms());
    match model.derived.timeline.scale {
        Scale::Whole => "whole history".to_string(),
        Scale::Fit if w.span_ms() >= whole => "whole history".to_string(),
        Scale::Fit => "fit session".to_string(),
        Scale::Span(_) if w.span_ms() >= whole => "whole history".to_string(),
        Scale::Span(_) => format!("zoom ×{}", count((whole / w.span_ms().max(1)) as u64)),
    }
}

/// The legend: every glyph of [`GLYPHS`] with its short meaning, wrapped to `width`
/// (the open-session entry only while a session is open).
#[must_use]
pub fn legend_lines(t: &Theme, width: usize, open: bool) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for g in GLYPHS {
        if !open && g.glyphs.contains(OPEN_END) {
            continue;
        }
        let n = cells(g.glyphs) + 1 + cells(g.short) + 2;
        if used > 0 && used + n > width {
            lines.push(Line::from(std::mem::take(&mut line)));
            used = 0;
        }
        line.push(Span::styled(format!("{} ", g.glyphs), (g.style)(t)));
        line.push(Span::styled(format!("{}  ", g.short), t.dim));
        used += n;
    }
    if !line.is_empty() {
        lines.push(Line::from(line));
    }
    lines
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

/// The line over the lanes: the user, its counts and its flags in words (the flags cut
/// to the width; the users pane and the event list have them too).
fn summary(model: &Model, a: &Analysis, u: UserIx, t: &Theme, width: usize) -> Line<'static> {
    let user = &a.users[u];
    let label = fit(&model.user_label(u), width.saturating_sub(26).max(12));
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let (events, sessions) = (u64::from(user.event_count()), user.session_count());
    let counts = format!(
        " · {} event{} · {} session{}",
        count(events),
        plural(events),
        count(sessions),
        plural(sessions)
    );
    let used = cells(&label) + cells(&counts);
    let mut spans = vec![Span::styled(label, t.header), Span::styled(counts, t.dim)];
    let words = super::users::user_flag_words(a, u);
    let room = width.saturating_sub(used + 3);
    if words.is_empty() {
        spans.push(Span::styled(" · no flags", t.dim));
    } else if room > 1 {
        spans.push(Span::styled(" · ", t.dim));
        spans.push(Span::styled(fit(&words.join(" "), room), t.flag));
    }
    Line::from(spans)
}

/// The user's replay at T in the pane's bottom border: replayed and recorded sessions,
/// merged and split, shortened until it fits `width`.
fn replay_counts(a: &Analysis, u: UserIx, lanes: &Lanes, t: &Theme, width: usize) -> Line<'static> {
    let range = a.users[u].sessions.clone();
    let in_user = |v: &[SessionIx]| super::count_in(v, &range);
    let (replayed, recorded) = (lanes.replayed.len(), range.len());
    let (merged, split) = (in_user(&a.replay.merged), in_user(&a.replay.split));
    let long = format!(
        " replay at {}: {replayed} sessions (recorded {recorded}) · {merged} merged · {split} split ",
        setting(lanes.timeout_ms)
    );
    let short = format!(
        " {}: {recorded} → {replayed} sessions · {merged} merged · {split} split ",
        setting(lanes.timeout_ms)
    );
    let text = if cells(&long) + 2 <= width {
        long
    } else {
        short
    };
    Line::styled(fit(&text, width.saturating_sub(2)), t.title)
}

/// One drawing pass's inputs.
struct Draw<'a> {
    a: &'a Analysis,
    u: UserIx,
    lanes: &'a Lanes,
    w: Window,
    width: u16,
    t: &'a Theme,
}

impl Draw<'_> {
    fn row_of(&self, k: usize, rows: u16) -> usize {
        let last_row = rows.saturating_sub(1) as usize;
        (self.lanes.session_row.get(k).copied().unwrap_or(0) as usize).min(last_row)
    }

    /// The recorded lane: sessions in time order (a session whose first cell a neighbour
    /// already took starts one cell later, when it is wider than one cell), then their
    /// gaps and cuts, then the selected session on top, bracketed, with its own.
    fn recorded_rows(&self, rows: u16, marks: Marks) -> Vec<Line<'static>> {
        let (w, width, t) = (self.w, self.width, self.t);
        let mut out: Vec<Cells> = (0..rows).map(|_| Cells::new(width, t.text)).collect();
        let sessions = self.a.user_sessions(self.u);
        let visible = |s: &Session| s.last >= w.start && s.first <= w.end;
        for (k, s) in sessions.iter().enumerate() {
            if Some(k) == marks.selected || !visible(s) {
                continue;
            }
            let row = self.row_of(k, rows);
            self.bar(&mut out[row], k, s, false);
        }
        for &(k, from, to) in &self.lanes.gaps {
            if Some(k as usize) != marks.selected {
                let row = self.row_of(k as usize, rows);
                self.gap(&mut out[row], from, to, t.bar);
            }
        }
        for &(k, from, to) in &self.lanes.cuts {
            if Some(k as usize) != marks.selected {
                let row = self.row_of(k as usize, rows);
                self.cut(&mut out[row], from, to);
            }
        }
        if let Some(k) = marks.selected
            && let Some(s) = sessions.get(k)
            && visible(s)
        {
            let row = self.row_of(k, rows);
            let (c0, c1) = self.bar(&mut out[row], k, s, true);
            for &(g, from, to) in &self.lanes.gaps {
                if g as usize == k {
                    self.gap(&mut out[row], from, to, t.bar_selected);
                }
            }
            for &(g, from, to) in &self.lanes.cuts {
                if g as usize == k {
                    self.cut(&mut out[row], from, to);
                }
            }
            out[row].bracket(c0, c1, t.bar_selected);
        }
        if let Some((k, now)) = marks.open
            && let Some(s) = sessions.get(k)
            && now >= w.start
            && s.last <= w.end
        {
            let row = self.row_of(k, rows);
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

    /// Draws session `k`'s bar; returns its first and last column.
    fn bar(&self, cells: &mut Cells, k: usize, s: &Session, selected: bool) -> (u16, u16) {
        let (w, width, t) = (self.w, self.width, self.t);
        let mut c0 = w.column_clamped(s.first, width);
        let c1 = w.column_clamped(s.last, width);
        // Keep a neighbour's last cell: start one later when there is room.
        if !selected && c0 < c1 && cells.get(c0) != Some(' ') {
            c0 += 1;
        }
        let empty = s.has(Flag::Empty);
        let zero = s.has(Flag::ZeroLength);
        let style = match (selected, empty || zero) {
            (true, _) => t.bar_selected,
            (false, true) => t.bar_odd,
            (false, false) => t.bar,
        };
        if zero {
            cells.set(c0, if empty { ZERO_EMPTY } else { ZERO }, style);
        } else if empty {
            cells.fill(c0, c1, EMPTY, style);
        } else {
            cells.fill(c0, c1, BAR[k % 2], style);
        }
        (c0, c1)
    }

    /// An idle stretch over the gap threshold inside a bar (when it spans a cell).
    fn gap(&self, cells: &mut Cells, from: i64, to: i64, style: Style) {
        let w = self.w;
        if to < w.start || from > w.end {
            return;
        }
        let c0 = w.column_clamped(from, self.width);
        let c1 = w.column_clamped(to, self.width);
        if c1 > c0 + 1 {
            cells.fill(c0 + 1, c1 - 1, GAP, style);
        }
    }

    /// The replay's cut inside a recorded bar: `┊` in the middle of the idle stretch
    /// (its only cell when the stretch is narrower than a cell).
    fn cut(&self, cells: &mut Cells, from: i64, to: i64) {
        let w = self.w;
        if to < w.start || from > w.end {
            return;
        }
        let c0 = w.column_clamped(from, self.width);
        let c1 = w.column_clamped(to, self.width);
        cells.set(c0 + (c1 - c0) / 2, CUT, self.t.cut);
    }

    /// The replay lane: replayed sessions, alternating glyphs, with `═` ties across the
    /// idle between the recorded sessions each merges; the one holding the selected
    /// event bracketed.
    fn replay_row(&self, selected: Option<i64>, session: Option<(i64, i64)>) -> Line<'static> {
        let (w, width, t) = (self.w, self.width, self.t);
        let mut cells = Cells::new(width, t.text);
        let mut chosen = None;
        // The replayed session holding the selected event, or else the first one inside
        // the selected session (a header's first event may be an inactive marker).
        let hit = self
            .lanes
            .replayed
            .iter()
            .position(|&(f, l, _)| selected.is_some_and(|s| (f..=l).contains(&s)))
            .or_else(|| {
                let (sf, sl) = session?;
                self.lanes
                    .replayed
                    .iter()
                    .position(|&(f, l, _)| f <= sl && l >= sf)
            });
        for (k, &(first, last, _)) in self.lanes.replayed.iter().enumerate() {
            if last < w.start || first > w.end {
                continue;
            }
            let c0 = w.column_clamped(first, width);
            let c1 = w.column_clamped(last, width);
            if hit == Some(k) {
                chosen = Some((c0, c1, first == last, k));
                continue;
            }
            if first == last {
                cells.set(c0, ZERO, t.bar_replay);
            } else {
                cells.fill(c0, c1, BAR[k % 2], t.bar_replay);
            }
        }
        if let Some((c0, c1, zero, k)) = chosen {
            if zero {
                cells.set(c0, ZERO, t.bar_selected);
            } else {
                cells.fill(c0, c1, BAR[k % 2], t.bar_selected);
            }
        }
        for &(from, to) in &self.lanes.ties {
            if to < w.start || from > w.end {
                continue;
            }
            let c0 = w.column_clamped(from, width);
            let c1 = w.column_clamped(to, width);
            if c1 > c0 + 1 {
                cells.fill(c0 + 1, c1 - 1, TIE, t.tie);
            } else {
                cells.set(c1, TIE, t.tie);
            }
        }
        if let Some((c0, c1, _, _)) = chosen {
            cells.bracket(c0, c1, t.bar_selected);
        }
        cells.line()
    }
}

/// The session strip: the selected session (`k`, `s`) alone, from its first to its last
/// event. Returns the glyph row (a tick per event, gaps over the threshold with their
/// lengths, the idle stretches the replay cuts) and the scale row (first and last time,
/// its figures).
#[expect(
    clippy::too_many_arguments,
    reason = "one drawing pass over the selected session"
)]
fn strip_rows(
    model: &Model,
    a: &Analysis,
    u: UserIx,
    lanes: &Lanes,
    (k, s): (usize, &Session),
    width: u16,
    selected: Option<i64>,
    t: &Theme,
) -> (Line<'static>, Line<'static>) {
    let zone = model.zones.current();
    let len = s.last.saturating_sub(s.first);
    let pad = (len / 40).max(500);
    let w = Window {
        start: s.first.saturating_sub(pad),
        end: s.last.saturating_add(pad),
    };
    let col = |time: i64| w.column_clamped(time, width);
    let mut cells = Cells::new(width, t.text);
    cells.fill(col(s.first), col(s.last), SPAN, t.dim);
    let s_ix = SessionIx::from_usize(a.users[u].sessions.start.idx() + k);
    if s.background_ms > 0 {
        for (from, to) in crate::analysis::background_stretches(a, &model.store, s_ix) {
            let (c0, c1) = (col(from), col(to));
            if c1 > c0 + 1 {
                cells.fill(c0 + 1, c1 - 1, BACKGROUND, t.warn);
            }
        }
    }
    let kk = u32::try_from(k).unwrap_or(u32::MAX);
    // Labels with the shorter forms to fall back on where the longer do not fit.
    let mut texts: Vec<(u16, u16, Vec<String>, Style)> = Vec::new();
    for &(g, from, to) in &lanes.gaps {
        if g == kk {
            let (c0, c1) = (col(from), col(to));
            // Where the replay cuts this idle stretch, the cut's label says its length.
            let cut = lanes
                .cuts
                .iter()
                .any(|&(cg, cf, ct)| cg == kk && cf < to && ct > from);
            if c1 > c0 + 1 {
                cells.fill(c0 + 1, c1 - 1, GAP, t.bar);
            }
            if c1 > c0 + 1 && !cut {
                texts.push((
                    c0 + 1,
                    c1 - 1,
                    vec![format!(" {} ", duration(to.saturating_sub(from)))],
                    t.warn,
                ));
            }
        }
    }
    for &(g, from, to) in &lanes.cuts {
        if g == kk {
            let (c0, c1) = (col(from), col(to));
            if c1 > c0 + 2 {
                cells.fill(c0 + 1, c1 - 1, GAP, t.cut);
                cells.set(c0 + 1, CUT, t.cut);
                cells.set(c1 - 1, CUT, t.cut);
                texts.push((
                    c0 + 2,
                    c1 - 2,
                    {
                        let idle = duration(to.saturating_sub(from));
                        vec![format!(" cut {idle} "), format!(" {idle} ")]
                    },
                    t.cut,
                ));
            } else {
                cells.set(c0 + (c1 - c0) / 2, CUT, t.cut);
            }
        }
    }
    // The session's events, found by time in the user's ordered events.
    let events = model.store.events();
    let user = &a.users[u];
    let positions = user.events.clone();
    let ixs = a.user_events(u);
    let start = ixs.partition_point(|&e| events[e].time < s.first);
    for (i, &e) in ixs.iter().enumerate().skip(start) {
        let ev = &events[e];
        if ev.time > s.last {
            break;
        }
        let p = positions.start.idx() + i;
        if a.pos_session.get(p) != Some(&s_ix) {
            continue;
        }
        let c = col(ev.time);
        if !a.class(ev.event_type).is_active() {
            if cells.get(c) != Some(TICK) {
                cells.set(c, TICK_INACTIVE, t.dim);
            }
        } else {
            cells.set(c, TICK, t.bar);
        }
    }
    if let Some(time) = selected
        && (s.first..=s.last).contains(&time)
    {
        cells.set(col(time), TICK_SELECTED, t.current);
    }
    for (from, to, forms, style) in texts {
        forms
            .iter()
            .any(|text| cells.text_in(from, to, text, style));
    }
    // The scale row: first and last time at the ends, the figures in the middle.
    let first = zone.format(s.first, Precision::Seconds);
    let last = zone.format(s.last, Precision::Seconds);
    let gaps = lanes.gaps.iter().filter(|g| g.0 == kk).count();
    let cuts = lanes.cuts.iter().filter(|g| g.0 == kk).count();
    // In order of importance; as many as fit between the two times.
    let mut parts = vec![
        format!("{} events", count(u64::from(s.events))),
        format!("length {}", duration(s.length_ms())),
    ];
    if cuts > 0 {
        parts.push(format!("cut {cuts}× at {}", setting(lanes.timeout_ms)));
    }
    if gaps > 0 {
        parts.push(format!("{gaps} gap{}", if gaps == 1 { "" } else { "s" }));
    }
    parts.push(format!("span {}", duration(s.span_ms())));
    let mut scale = Cells::new(width, t.dim);
    let c_first = col(s.first);
    let c_last = col(s.last);
    let last_at = (c_last + 1).saturating_sub(u16::try_from(last.len()).unwrap_or(0));
    let both = c_first + u16::try_from(first.len()).unwrap_or(0) < last_at;
    cells_text(&mut scale, c_first, &first, t.dim);
    if both {
        cells_text(&mut scale, last_at, &last, t.dim);
        let from = c_first + u16::try_from(first.len()).unwrap_or(0) + 1;
        let to = last_at.saturating_sub(2);
        for n in (1..=parts.len()).rev() {
            if scale.text_in(from, to, &parts[..n].join(" · "), t.dim) {
                break;
            }
        }
    }
    (cells.line(), scale.line())
}

/// Writes `text` from column `at`.
fn cells_text(cells: &mut Cells, at: u16, text: &str, style: Style) {
    for (i, c) in text.chars().enumerate() {
        cells.set(at.saturating_add(u16::try_from(i).unwrap_or(0)), c, style);
    }
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
