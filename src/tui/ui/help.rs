//! The help overlay, generated from the app's key table ([`crate::tui::keymap::Keymap`])
//! so it always matches the keys, followed by the mouse and the flags in words. Its title
//! names the keys that close and scroll it, from the same table.

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

/// How many lines the help has.
#[must_use]
pub fn line_count(keys: &Keymap) -> usize {
    lines(keys, &Theme::mono()).len()
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
    let shown: Vec<Line<'static>> = lines(keys, t)
        .into_iter()
        .skip(scroll)
        .take(body.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), body);
}
