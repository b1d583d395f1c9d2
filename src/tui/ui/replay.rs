//! The replay panel: the recorded sessions against those replayed at the current timeout
//! (split, merged, counts, median lengths), the sweep over the standard timeouts, and the
//! histogram of gaps between consecutive active events with the current timeout marked,
//! so a natural timeout (a valley in the gaps) is easy to spot. Wide panes put the sweep
//! and the histogram side by side. The keys it names come from the key table.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, ViewState, pad, pane};
use crate::analysis::{Analysis, GAP_BUCKETS, GapHistogram};
use crate::fmt::{count, duration, gap_bucket_label, setting};
use crate::index::SessionIx;
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, main_scopes};
use crate::tui::model::{Focus, Model};

/// Width of the sweep table, when shown beside the histogram.
const SWEEP_W: usize = 42;
/// Width of the histogram.
const HISTOGRAM_W: usize = 38;
/// Width of the histogram's bars.
const BAR_W: usize = 12;

/// The panel's lines for a pane `width` columns wide.
#[must_use]
pub fn lines(model: &Model, keys: &Keymap, width: u16, t: &Theme) -> Vec<Line<'static>> {
    let Some(a) = &model.derived.analysis else {
        return vec![Line::styled("loading…", t.dim)];
    };
    let mut out = comparison(model, keys, a, t);
    out.push(Line::raw(""));
    let sweep = sweep_lines(model, a, t);
    let histogram = histogram_lines(a, t);
    if width as usize >= SWEEP_W + HISTOGRAM_W {
        let n = sweep.len().max(histogram.len());
        for i in 0..n {
            let mut spans: Vec<Span<'static>> = Vec::new();
            let left = sweep.get(i).cloned().unwrap_or_default();
            let used: usize = left.spans.iter().map(|s| s.content.chars().count()).sum();
            spans.extend(left.spans);
            spans.push(Span::raw(" ".repeat(SWEEP_W.saturating_sub(used))));
            if let Some(right) = histogram.get(i) {
                spans.extend(right.spans.iter().cloned());
            }
            out.push(Line::from(spans));
        }
    } else {
        out.extend(sweep);
        out.push(Line::raw(""));
        out.extend(histogram);
    }
    out
}

/// How many lines the panel has at `width`.
#[must_use]
pub fn line_count(model: &Model, keys: &Keymap, width: u16) -> usize {
    lines(model, keys, width, &Theme::mono()).len()
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

fn sweep_lines(model: &Model, a: &Analysis, t: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![
        Line::styled("SWEEP", t.header),
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
    for row in model.sweep() {
        let current = row.timeout_ms == a.rules.timeout_ms;
        let text = format!(
            "{}{} {:>9} {:>8} {:>5} {:>6}",
            if current { "▶ " } else { "  " },
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

fn histogram_lines(a: &Analysis, t: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled("GAPS BETWEEN ACTIVE EVENTS", t.header)];
    let counts = &a.gap_histogram.counts;
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let timeout = a.rules.timeout_ms;
    let timeout_bucket = GapHistogram::bucket(timeout);
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
            spans.push(Span::styled(format!(" ◀ {}", setting(timeout)), t.current));
        }
        out.push(Line::from(spans));
    }
    out
}

/// Draws the replay panel.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.lower;
    let list = view.areas.lower_list;
    let focused = model.focus == Focus::Lower;
    let title = Line::from(vec![
        Span::styled(" Replay ", t.title),
        Span::styled(
            format!(
                "· {}: back to events ",
                keys.label(Action::ToggleReplay, &main_scopes(model))
            ),
            t.dim,
        ),
    ]);
    frame.render_widget(pane(title, focused, t), area);
    let all = lines(model, keys, list.width, t);
    let shown: Vec<Line<'static>> = all
        .into_iter()
        .skip(model.derived.replay_scroll)
        .take(list.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), list);
}
