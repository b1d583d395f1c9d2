//! The help overlay, generated from the app's key table ([`crate::tui::keymap::Keymap`])
//! so it always matches the keys, followed by the mouse, the timeline's glyphs (from
//! [`super::timeline::GLYPHS`], the list the timeline's legend draws from), the triage
//! rule and the flags in words. Its title names the keys that close and scroll it, from
//! the same table.
//!
//! It uses the width: from [`TWO_COLUMNS`] cells on, the sections flow into two columns;
//! below, one; long descriptions wrap under their own column instead of being cut.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Theme, ViewState, pad, pane};
use crate::analysis::Flag;
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, MOUSE_HELP, Scope, overlay_scopes};

/// The triage rule in two lines (the full rule is in [`crate::analysis`]'s triage docs).
pub const TRIAGE_RULE: [&str; 2] = [
    "Users with the largest share of their sessions (events, for NO SESSION) flagged come first;",
    "each flag weighs by severity (SUSPECT ID 5 · EMPTY ZERO BRIDGED 3 · GAP UNTERMINATED DUP 2 · NO SESSION 1) and rarity.",
];

/// Width of the key column.
const KEYS_W: usize = 20;

/// The width from which the help is laid out in two columns.
pub const TWO_COLUMNS: u16 = 160;

/// The help's lines for the key table `keys`.
#[must_use]
pub fn lines(keys: &Keymap, t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for scope in Scope::ORDER {
        let mut bindings = keys.in_scope(scope).peekable();
        if bindings.peek().is_none() {
            continue;
        }
        out.push(Line::styled(scope.title(), t.header));
        for b in bindings {
            let labels: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
            out.push(Line::from(vec![
                Span::styled(format!("  {}", pad(&labels.join(" "), KEYS_W)), t.key),
                Span::raw(b.desc),
            ]));
        }
        out.push(Line::raw(""));
    }
    out.push(Line::styled("Mouse", t.header));
    for (what, desc) in MOUSE_HELP {
        out.push(Line::from(vec![
            Span::styled(format!("  {}", pad(what, KEYS_W)), t.key),
            Span::raw(*desc),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Triage (the users pane's default sort)",
        t.header,
    ));
    for rule in TRIAGE_RULE {
        out.push(Line::raw(format!("  {rule}")));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Flags (code in a narrow users pane)",
        t.header,
    ));
    for f in Flag::ALL {
        let name = format!("{} {}", f.label(), super::users::flag_code(f));
        out.push(Line::from(vec![
            Span::styled(format!("  {}", pad(&name, KEYS_W)), t.flag),
            Span::raw(f.meaning()),
        ]));
    }
    out
}

/// The glyph legend's section: every glyph of the timeline with its meaning.
fn glyph_lines(t: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled("Timeline glyphs", t.header)];
    for g in super::timeline::GLYPHS {
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(pad(g.glyphs, KEYS_W), (g.style)(t)),
            Span::raw(g.meaning),
        ]));
    }
    out
}

/// `line` wrapped at `width` cells: its spans up to the last one that fits whole, then
/// the rest of the text on continuation lines indented under the description column.
fn wrap(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    if line.width() <= width || width <= KEYS_W + 4 {
        return vec![line];
    }
    let indent = KEYS_W + 2;
    let mut out = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in line.spans {
        let style = span.style;
        let mut piece = String::new();
        for word in span.content.split_inclusive(' ') {
            let n = super::cells(word);
            if used + n > width && used > indent {
                current.push(Span::styled(std::mem::take(&mut piece), style));
                out.push(Line::from(std::mem::take(&mut current)));
                current.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            piece.push_str(word);
            used += n;
        }
        if !piece.is_empty() {
            current.push(Span::styled(piece, style));
        }
    }
    if !current.is_empty() {
        out.push(Line::from(current));
    }
    out
}

/// The help laid out for a body `width` cells wide: sections wrapped to their column,
/// in two columns from [`TWO_COLUMNS`] on.
#[must_use]
pub fn lines_for(keys: &Keymap, t: &Theme, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    // Sections: runs of lines ending at a blank line.
    let mut all = lines(keys, t);
    all.push(Line::raw(""));
    all.extend(glyph_lines(t));
    let mut sections: Vec<Vec<Line<'static>>> = vec![Vec::new()];
    for l in all {
        let blank = l.width() == 0;
        if let Some(last) = sections.last_mut() {
            last.push(l);
        }
        if blank {
            sections.push(Vec::new());
        }
    }
    let two = width >= usize::from(TWO_COLUMNS);
    let col_w = if two { (width - 2) / 2 } else { width };
    let wrapped: Vec<Vec<Line<'static>>> = sections
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.into_iter().flat_map(|l| wrap(l, col_w)).collect())
        .collect();
    if !two {
        return wrapped.into_iter().flatten().collect();
    }
    // Two columns: whole sections, the left one taking sections until it holds half.
    let total: usize = wrapped.iter().map(Vec::len).sum();
    let mut left: Vec<Line<'static>> = Vec::new();
    let mut right: Vec<Line<'static>> = Vec::new();
    for s in wrapped {
        if left.len() < total.div_ceil(2) && right.is_empty() {
            left.extend(s);
        } else {
            right.extend(s);
        }
    }
    let rows = left.len().max(right.len());
    let mut right = right.into_iter();
    let mut left = left.into_iter();
    (0..rows)
        .map(|_| {
            let mut spans = match left.next() {
                Some(l) => {
                    let n = l.width();
                    let mut spans = l.spans;
                    spans.push(Span::raw(" ".repeat(col_w + 2 - n.min(col_w))));
                    spans
                }
                None => vec![Span::raw(" ".repeat(col_w + 2))],
            };
            if let Some(r) = right.next() {
                spans.extend(r.spans);
            }
            Line::from(spans)
        })
        .collect()
}

/// How many lines the help has in a body `width` cells wide.
#[must_use]
pub fn line_count(keys: &Keymap, width: u16) -> usize {
    lines_for(keys, &Theme::mono(), width).len()
}

/// Draws the help overlay scrolled to `scroll`.
pub fn render(frame: &mut Frame<'_>, keys: &Keymap, view: &ViewState, scroll: usize) {
    let t = &view.theme;
    let area = view.areas.overlay;
    let body = view.areas.overlay_body;
    frame.render_widget(Clear, area);
    let scopes = overlay_scopes(Scope::Help);
    let title_keys = format!(
        "· {} closes · {}/{} scroll ",
        keys.labels(Action::CloseOverlay, &scopes, " or "),
        keys.label(Action::Down, &scopes),
        keys.label(Action::Up, &scopes)
    );
    let title = Line::from(vec![
        Span::styled(" Keys ", t.title),
        Span::styled(title_keys, t.dim),
    ]);
    frame.render_widget(pane(title, true, t), area);
    let shown: Vec<Line<'static>> = lines_for(keys, t, body.width)
        .into_iter()
        .skip(scroll)
        .take(body.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), body);
}
