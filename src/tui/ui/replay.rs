//! The replay panel. By default it is about the selected user: their sessions replayed at
//! the current timeout T beside a second timeout (sessions, split, merged, median length,
//! and the recorded sessions the two treat differently), the recorded sessions T splits
//! (with the times it cuts them at) and the replayed sessions that merge several recorded
//! ones (with which), the user's sweep over the standard timeouts, and the histogram of
//! the user's gaps between consecutive active events with T (and the compared timeout)
//! marked, so a natural timeout (a valley in the gaps) is easy to spot. A key switches to
//! the whole input: the recorded sessions against those replayed at T, the sweep and the
//! gap histogram over every user. The title says which. Wide panes put the lists and the
//! sweep and histogram side by side.
//!
//! Every figure comes from the core ([`crate::analysis::Analysis::user_comparison`],
//! [`crate::analysis::Analysis::user_sweep`], [`crate::analysis::ReplayInput::gap_histogram_of`]),
//! the same functions `report --user X --format json` writes, so the two agree. Only the
//! selected user is replayed here; a timeout change replays every user once, as before.
//! The keys it names come from the key table.

use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, ViewState, cells, pad, pane};
use crate::analysis::{Analysis, Comparison, GAP_BUCKETS, GapHistogram, SweepRow, UserReplay};
use crate::fmt::{count, duration, gap_bucket_label, setting};
use crate::index::{SessionIx, UserIx};
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, main_scopes};
use crate::tui::model::{Focus, Model};
use crate::tui::zone::{Precision, Zone};

/// Width of the sweep table, when shown beside the histogram.
const SWEEP_W: usize = 42;
/// Width of the histogram.
const HISTOGRAM_W: usize = 38;
/// Width of the histogram's bars.
const BAR_W: usize = 12;
/// Width of one column of the per-user panel when the pane holds two.
const USER_COL_W: usize = 50;
/// Width of a figure column of the comparison table.
const FIG_W: usize = 10;
/// Width of the comparison table's labels.
const LABEL_W: usize = 15;
/// Width of a session's state under one timeout in the list of differences.
const STATE_W: usize = 14;
/// Most cells of the user's id in the title.
const TITLE_ID_W: usize = 24;

/// Whom the panel is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelScope {
    /// The selected user.
    User(UserIx),
    /// The whole input (asked for, or no user selected).
    Whole,
}

/// Whom the panel is about for the current model.
#[must_use]
pub fn scope(model: &Model) -> PanelScope {
    match model.selected_user() {
        Some(u) if !model.replay_panel.whole_input => PanelScope::User(u),
        _ => PanelScope::Whole,
    }
}

/// The panel's lines for a pane `width` columns wide.
#[must_use]
pub fn lines(model: &Model, keys: &Keymap, width: u16, t: &Theme) -> Vec<Line<'static>> {
    let Some(a) = &model.derived.analysis else {
        return vec![Line::styled("loading…", t.dim)];
    };
    match scope(model) {
        PanelScope::User(u) if u.idx() < a.users.len() => user_lines(model, a, u, width, t),
        _ => whole_lines(model, keys, a, width, t),
    }
}

/// How many lines the panel has at `width`.
#[must_use]
pub fn line_count(model: &Model, keys: &Keymap, width: u16) -> usize {
    lines(model, keys, width, &Theme::mono()).len()
}

/// `left` and `right` side by side, `right` starting at column `left_w`.
fn side_by_side(
    left: Vec<Line<'static>>,
    right: Vec<Line<'static>>,
    left_w: usize,
) -> Vec<Line<'static>> {
    let n = left.len().max(right.len());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let left = left.get(i).cloned().unwrap_or_default();
        // A left line never pushes the right column: cut at `left_w - 1` (one blank
        // column between them).
        let mut used = 0;
        for span in own_styles(left) {
            let room = left_w.saturating_sub(1).saturating_sub(used);
            if room == 0 {
                break;
            }
            let text = super::fit(&span.content, room);
            used += cells(&text);
            spans.push(Span::styled(text, span.style));
        }
        spans.push(Span::raw(" ".repeat(left_w.saturating_sub(used))));
        if let Some(right) = right.get(i) {
            spans.extend(own_styles(right.clone()));
        }
        out.push(Line::from(spans));
    }
    out
}

/// A line's spans, each with the line's style under its own: joined with other spans,
/// they keep how the line looked.
fn own_styles(line: Line<'static>) -> Vec<Span<'static>> {
    let base = line.style;
    line.spans
        .into_iter()
        .map(|s| {
            let style = base.patch(s.style);
            s.style(style)
        })
        .collect()
}

// ---- the selected user -------------------------------------------------------------------

/// What the per-user figures were computed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FiguresKey {
    /// The user.
    pub user: UserIx,
    /// T.
    pub timeout_ms: i64,
    /// The compared timeout.
    pub other_ms: i64,
    /// The analysis (`Derived::analysed_generation`).
    pub generation: u64,
}

/// The selected user's figures, computed once for a key and kept between frames
/// ([`refresh`]): a frame only formats them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFigures {
    /// What they are for.
    pub key: FiguresKey,
    /// T beside the compared timeout.
    pub comparison: Comparison,
    /// The user's sweep.
    pub sweep: Vec<SweepRow>,
    /// The user's gaps.
    pub gaps: GapHistogram,
}

fn figures_key(model: &Model, a: &Analysis, u: UserIx) -> FiguresKey {
    let timeout_ms = a.rules.timeout_ms;
    FiguresKey {
        user: u,
        timeout_ms,
        other_ms: model.replay_panel.compare_with(timeout_ms),
        generation: model.derived.analysed_generation,
    }
}

fn compute(a: &Analysis, key: FiguresKey) -> UserFigures {
    UserFigures {
        key,
        comparison: a.user_comparison(key.user, key.other_ms),
        sweep: a.user_sweep(key.user),
        gaps: a.replay_input.gap_histogram_of(Some(key.user)),
    }
}

/// Recomputes the kept per-user figures when the user, T, the compared timeout or the
/// analysis changed (called before a frame while the panel is shown).
pub fn refresh(model: &mut Model) {
    let key = match (&model.derived.analysis, scope(model)) {
        (Some(a), PanelScope::User(u)) if u.idx() < a.users.len() => figures_key(model, a, u),
        _ => return,
    };
    if model
        .derived
        .replay_user
        .as_ref()
        .is_some_and(|f| f.key == key)
    {
        return;
    }
    if let Some(a) = &model.derived.analysis {
        model.derived.replay_user = Some(compute(a, key));
    }
}

fn user_lines(model: &Model, a: &Analysis, u: UserIx, width: u16, t: &Theme) -> Vec<Line<'static>> {
    let key = figures_key(model, a, u);
    let fresh;
    let f = match &model.derived.replay_user {
        Some(f) if f.key == key => f,
        _ => {
            fresh = compute(a, key);
            &fresh
        }
    };
    let (timeout, other) = (key.timeout_ms, key.other_ms);
    let c = &f.comparison;
    let zone = model.zones.current();
    let mut left = comparison_table(c, t);
    left.push(Line::raw(""));
    left.extend(differ_lines(a, c, zone, t));
    left.extend(split_lines(
        a,
        &c.current,
        zone,
        USER_COL_W.min(width as usize),
        t,
    ));
    left.extend(merged_lines(
        a,
        &c.current,
        zone,
        USER_COL_W.min(width as usize),
        t,
    ));
    let sweep = sweep_table("SWEEP OF THIS USER", &f.sweep, timeout, Some(other), t);
    let gaps = histogram(
        "GAPS OF THIS USER (active events)",
        &f.gaps,
        timeout,
        Some(other),
        t,
    );
    let w = width as usize;
    if w >= USER_COL_W + 2 + SWEEP_W + HISTOGRAM_W {
        let right = side_by_side(sweep, gaps, SWEEP_W);
        side_by_side(left, right, USER_COL_W + 2)
    } else if w >= USER_COL_W + 2 + SWEEP_W {
        let mut right = sweep;
        right.push(Line::raw(""));
        right.extend(gaps);
        side_by_side(left, right, USER_COL_W + 2)
    } else {
        left.extend(sweep);
        left.push(Line::raw(""));
        left.extend(gaps);
        left
    }
}

/// T against the compared timeout: sessions, split, merged, median length.
fn comparison_table(c: &Comparison, t: &Theme) -> Vec<Line<'static>> {
    let (cur, oth) = (c.current.row(), c.other.row());
    let row = |label: &str, a: String, b: String, rec: String| {
        format!(
            "  {}{a:>FIG_W$}{b:>FIG_W$}{rec:>FIG_W$}",
            pad(label, LABEL_W - 2)
        )
    };
    let head = format!(
        "{}{:>FIG_W$}{:>FIG_W$}{:>FIG_W$}",
        pad("", LABEL_W),
        format!("T {}", setting(cur.timeout_ms)),
        setting(oth.timeout_ms),
        "recorded"
    );
    let sessions = row(
        "sessions",
        count(cur.sessions),
        count(oth.sessions),
        count(c.recorded),
    );
    let mut out = vec![
        Line::from(vec![Span::styled(head, t.header)]),
        Line::raw(sessions),
        Line::styled(
            row("split", count(cur.split), count(oth.split), String::new()),
            t.flag,
        ),
        Line::styled(
            row(
                "merged",
                count(cur.merged),
                count(oth.merged),
                String::new(),
            ),
            t.flag,
        ),
        Line::raw(row(
            "median length",
            duration(cur.median_length_ms),
            duration(oth.median_length_ms),
            duration(c.recorded_median_ms),
        )),
        Line::raw(format!(
            "  {}{} recorded session{} differ",
            pad("differ", LABEL_W - 2),
            count(c.differ.len() as u64),
            if c.differ.len() == 1 { "" } else { "s" }
        )),
    ];
    if c.dropped > 0 {
        out.push(Line::styled(
            format!(
                "  {}{} recorded with no active event",
                pad("dropped", LABEL_W - 2),
                count(c.dropped)
            ),
            t.dim,
        ));
    }
    out
}

/// How one replay treats recorded session `s`, in a few words.
fn state(r: &UserReplay, s: SessionIx) -> String {
    let split = r.split.iter().find(|x| x.session == s);
    match (split, r.merges(s)) {
        (Some(x), true) => format!("split {}+merged", x.pieces),
        (Some(x), false) => format!("split in {}", x.pieces),
        (None, true) => "merged".to_string(),
        (None, false) => "as recorded".to_string(),
    }
}

/// Flag colour where a replay changes a recorded session, plain where it keeps it.
fn state_style(r: &UserReplay, s: SessionIx, t: &Theme) -> Style {
    if r.splits(s) || r.merges(s) {
        t.flag
    } else {
        t.text
    }
}

/// A recorded session as the lists name it: the time of its first event.
fn session_time(a: &Analysis, s: SessionIx, zone: Zone) -> String {
    zone.format(a.sessions[s].first, Precision::DayMinutes)
}

/// The recorded sessions the two timeouts treat differently.
fn differ_lines(a: &Analysis, c: &Comparison, zone: Zone, t: &Theme) -> Vec<Line<'static>> {
    if c.differ.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Line::styled(
        format!(
            "{}{} │ {}",
            pad("DIFFER", 15),
            pad(&format!("at {}", setting(c.current.timeout_ms)), STATE_W),
            setting(c.other.timeout_ms)
        ),
        t.header,
    )];
    for &s in &c.differ {
        out.push(Line::from(vec![
            Span::raw(format!("  {}  ", session_time(a, s, zone))),
            Span::styled(
                pad(&state(&c.current, s), STATE_W),
                state_style(&c.current, s, t),
            ),
            Span::raw(" │ "),
            Span::styled(state(&c.other, s), state_style(&c.other, s, t)),
        ]));
    }
    out.push(Line::raw(""));
    out
}

/// `items` after `first`, wrapped at `width` with continuation lines indented.
fn wrapped(first: String, items: &[String], width: usize, style: Style) -> Vec<Line<'static>> {
    const INDENT: usize = 6;
    let mut out = Vec::new();
    let mut line = first;
    let mut fresh = false;
    for item in items {
        let sep = if fresh { "" } else { " " };
        if cells(&line) + sep.len() + cells(item) > width && !fresh {
            out.push(Line::styled(std::mem::take(&mut line), style));
            line = " ".repeat(INDENT);
            fresh = true;
        }
        let sep = if fresh { "" } else { " " };
        line.push_str(sep);
        line.push_str(item);
        fresh = false;
    }
    out.push(Line::styled(line, style));
    out
}

/// The recorded sessions T splits, with where.
fn split_lines(
    a: &Analysis,
    r: &UserReplay,
    zone: Zone,
    width: usize,
    t: &Theme,
) -> Vec<Line<'static>> {
    let head = format!("SPLIT AT {}", setting(r.timeout_ms));
    if r.split.is_empty() {
        return vec![
            Line::from(vec![
                Span::styled(head, t.header),
                Span::styled(" · none (no pause > T inside one)", t.dim),
            ]),
            Line::raw(""),
        ];
    }
    let mut out = vec![Line::styled(
        format!(
            "{head} · {} recorded session{}",
            r.split.len(),
            if r.split.len() == 1 { "" } else { "s" }
        ),
        t.header,
    )];
    for x in &r.split {
        let cuts: Vec<String> = x
            .cuts
            .iter()
            .map(|&c| zone.format(c, Precision::Seconds))
            .collect();
        out.extend(wrapped(
            format!(
                "  {} → {} pieces, cut at",
                session_time(a, x.session, zone),
                x.pieces
            ),
            &cuts,
            width,
            t.text,
        ));
    }
    out.push(Line::raw(""));
    out
}

/// The replayed sessions at T that merge several recorded ones, with which.
fn merged_lines(
    a: &Analysis,
    r: &UserReplay,
    zone: Zone,
    width: usize,
    t: &Theme,
) -> Vec<Line<'static>> {
    let merges: Vec<_> = r.sessions.iter().filter(|s| s.is_merge()).collect();
    let head = format!("MERGED AT {}", setting(r.timeout_ms));
    if merges.is_empty() {
        return vec![
            Line::from(vec![
                Span::styled(head, t.header),
                Span::styled(" · none (no two sessions within T)", t.dim),
            ]),
            Line::raw(""),
        ];
    }
    let mut out = vec![Line::styled(
        format!(
            "{head} · {} replayed session{} join {} recorded",
            merges.len(),
            if merges.len() == 1 { "" } else { "s" },
            r.merged.len()
        ),
        t.header,
    )];
    for m in merges {
        let members: Vec<String> = m
            .members
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let at = session_time(a, s, zone);
                if i == 0 { at } else { format!("+ {at}") }
            })
            .collect();
        out.extend(wrapped(
            format!(
                "  {}–{} ←",
                zone.format(m.first, Precision::DayMinutes),
                zone.format(m.last, Precision::Minutes)
            ),
            &members,
            width,
            t.text,
        ));
    }
    out.push(Line::raw(""));
    out
}

// ---- the whole input ---------------------------------------------------------------------

fn whole_lines(
    model: &Model,
    keys: &Keymap,
    a: &Analysis,
    width: u16,
    t: &Theme,
) -> Vec<Line<'static>> {
    let mut out = comparison(model, keys, a, t);
    out.push(Line::raw(""));
    let sweep = sweep_table("SWEEP", &model.sweep(), a.rules.timeout_ms, None, t);
    let histogram = histogram(
        "GAPS BETWEEN ACTIVE EVENTS",
        &a.gap_histogram,
        a.rules.timeout_ms,
        None,
        t,
    );
    if width as usize >= SWEEP_W + HISTOGRAM_W {
        out.extend(side_by_side(sweep, histogram, SWEEP_W));
    } else {
        out.extend(sweep);
        out.push(Line::raw(""));
        out.extend(histogram);
    }
    out
}

fn comparison(model: &Model, keys: &Keymap, a: &Analysis, t: &Theme) -> Vec<Line<'static>> {
    let r = &a.replay;
    let scopes = main_scopes(model);
    let (next, typed) = (
        keys.label(Action::CycleTimeout, &scopes),
        keys.label(Action::PromptTimeout, &scopes),
    );
    let recorded = a.summary.sessions;
    let diff = r.sessions.cast_signed() - recorded.cast_signed();
    let mut out = vec![
        Line::from(vec![
            Span::styled(format!("Replay at {}", setting(r.timeout_ms)), t.header),
            Span::styled(
                format!(
                    " over active in-session events · {next}: next preset · {typed}: type a timeout"
                ),
                t.dim,
            ),
        ]),
        Line::raw(format!(
            "  recorded {:>10} sessions   median length {}",
            count(recorded),
            duration(a.replay_input.recorded_median_ms)
        )),
        Line::from(vec![
            Span::raw(format!(
                "  replayed {:>10} sessions   median length {}   ",
                count(r.sessions),
                duration(r.median_length_ms)
            )),
            Span::styled(format!("({diff:+})"), t.warn),
        ]),
        Line::from(vec![
            Span::styled(
                format!("  split  {:>10}", count(r.split.len() as u64)),
                t.flag,
            ),
            Span::raw(" recorded sessions cut into two or more"),
        ]),
        Line::from(vec![
            Span::styled(
                format!("  merged {:>10}", count(r.merged.len() as u64)),
                t.flag,
            ),
            Span::raw(format!(
                " recorded sessions joined with another · {} dropped (no active event)",
                count(a.replay_input.dropped)
            )),
        ]),
    ];
    if let Some(u) = model.selected_user() {
        let range = a.users[u].sessions.clone();
        let in_user = |v: &[SessionIx]| super::count_in(v, &range);
        out.push(Line::styled(
            format!(
                "  this user: recorded {} → replayed {} · {} split · {} merged",
                a.users[u].session_count(),
                r.per_user.get(u.idx()).copied().unwrap_or(0),
                in_user(&r.split),
                in_user(&r.merged)
            ),
            t.dim,
        ));
    }
    out
}

// ---- shared: sweep and histogram ---------------------------------------------------------

/// A sweep table; T's row is marked `▶`, the compared timeout's `◇`.
fn sweep_table(
    title: &str,
    rows: &[SweepRow],
    timeout_ms: i64,
    other_ms: Option<i64>,
    t: &Theme,
) -> Vec<Line<'static>> {
    let mut out = vec![
        Line::styled(title.to_string(), t.header),
        Line::styled(
            format!(
                "  {} {:>9} {:>8} {:>5} {:>6}",
                pad("timeout", 7),
                "sessions",
                "median",
                "split",
                "merged"
            ),
            t.dim,
        ),
    ];
    for row in rows {
        let current = row.timeout_ms == timeout_ms;
        let compared = Some(row.timeout_ms) == other_ms;
        let mark = if current {
            "▶ "
        } else if compared {
            "◇ "
        } else {
            "  "
        };
        let text = format!(
            "{mark}{} {:>9} {:>8} {:>5} {:>6}",
            pad(&setting(row.timeout_ms), 7),
            count(row.sessions),
            duration(row.median_length_ms),
            count(row.split),
            count(row.merged)
        );
        out.push(Line::styled(text, if current { t.current } else { t.text }));
    }
    out
}

/// A gap histogram; T's bucket is marked `◀ T`, the compared timeout's `◁`.
fn histogram(
    title: &str,
    h: &GapHistogram,
    timeout_ms: i64,
    other_ms: Option<i64>,
    t: &Theme,
) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(title.to_string(), t.header)];
    let counts = &h.counts;
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let timeout_bucket = GapHistogram::bucket(timeout_ms);
    let other_bucket = other_ms.map(GapHistogram::bucket);
    for i in 0..GAP_BUCKETS.len() {
        let n = counts.get(i).copied().unwrap_or(0);
        let label = gap_bucket_label(i);
        let cells = usize::try_from(n * BAR_W as u64 / max).unwrap_or(BAR_W);
        let bar = "■".repeat(cells.max(usize::from(n > 0)));
        let here = i == timeout_bucket;
        let style = if here { t.current } else { t.text };
        let mut spans = vec![
            Span::styled(format!("{label:>8} {:>9} ", count(n)), style),
            Span::styled(pad(&bar, BAR_W), t.histogram),
        ];
        if here {
            let name = if other_ms.is_some() { "T " } else { "" };
            spans.push(Span::styled(
                format!(" ◀ {name}{}", setting(timeout_ms)),
                t.current,
            ));
        }
        if let (Some(b), Some(o)) = (other_bucket, other_ms)
            && b == i
        {
            spans.push(Span::styled(format!(" ◁ {}", setting(o)), t.dim));
        }
        out.push(Line::from(spans));
    }
    out
}

/// The panel's title: whom it is about, and the keys that change it.
fn title(model: &Model, keys: &Keymap, t: &Theme) -> Line<'static> {
    let scopes = main_scopes(model);
    let scope_key = keys.label(Action::ToggleReplayScope, &scopes);
    let back = keys.label(Action::ToggleReplay, &scopes);
    let mut spans = Vec::new();
    match scope(model) {
        PanelScope::User(u) => {
            spans.push(Span::styled(" Replay: ", t.title));
            // The first id of the label only (the user id, else the key), so that the
            // keys after it stay in view.
            let label = model.user_label(u);
            let first = label.split(" · ").next().unwrap_or_default();
            spans.push(Span::styled(super::fit(first, TITLE_ID_W), t.header));
            spans.push(Span::styled(
                format!(
                    " · {scope_key}: whole input · {}: compare · {back}: events ",
                    keys.label(Action::CycleCompareTimeout, &scopes)
                ),
                t.dim,
            ));
        }
        PanelScope::Whole => {
            spans.push(Span::styled(" Replay: whole input ", t.title));
            let hint = if model.selected_user().is_some() {
                format!("· {scope_key}: selected user · {back}: events ")
            } else {
                format!("(no user selected) · {back}: events ")
            };
            spans.push(Span::styled(hint, t.dim));
        }
    }
    Line::from(spans)
}

/// Draws the replay panel.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.lower;
    let list = view.areas.lower_list;
    let focused = model.focus == Focus::Lower;
    frame.render_widget(pane(title(model, keys, t), focused, t), area);
    let all = lines(model, keys, list.width, t);
    let shown: Vec<Line<'static>> = all
        .into_iter()
        .skip(model.derived.replay_scroll)
        .take(list.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), list);
}
