//! The status bar. Line 1: sources (failed ones marked), the §5 summary counts (the same
//! numbers `report --format json` prints), the timeout, gap threshold and time zone, and
//! loading progress. Line 2: the open prompt, a message, a source problem, then key hints
//! for the focused pane, generated from the key table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ViewState, fit};
use crate::fmt::{count, sanitize, setting};
use crate::tui::keymap::{Keymap, Scope};
use crate::tui::model::{Focus, Level, Lower, Model, Overlay};

/// The scopes whose hints the status bar shows.
fn hint_scopes(model: &Model) -> Vec<Scope> {
    if model.prompt.is_some() {
        return vec![Scope::Prompt];
    }
    match model.overlay {
        Overlay::Help { .. } => vec![Scope::Help, Scope::Any],
        Overlay::Detail => vec![Scope::Detail, Scope::Any],
        Overlay::None => {
            let pane = match (model.focus, model.lower) {
                (Focus::Users, _) => Scope::Users,
                (Focus::Timeline, _) => Scope::Timeline,
                (Focus::Lower, Lower::Events) => Scope::Events,
                (Focus::Lower, Lower::Replay) => Scope::Replay,
            };
            vec![pane, Scope::Main, Scope::Any]
        }
    }
}

/// Draws the status bar.
pub fn render(frame: &mut Frame<'_>, model: &Model, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.status;
    let w = area.width as usize;
    let sep = || Span::styled(" │ ", t.dim);
    let mut first: Vec<Span<'static>> = vec![Span::raw(" ")];
    let names: Vec<Span<'static>> = model
        .sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let mut v = Vec::new();
            if i > 0 {
                v.push(Span::raw(", "));
            }
            v.push(Span::raw(fit(&sanitize(&short_name(&s.name)), 40)));
            if s.failed {
                v.push(Span::styled(" FAILED", t.error));
            } else if !s.problems.is_empty() {
                v.push(Span::styled(
                    format!(
                        " ({} problem{})",
                        s.problems.len(),
                        plural(s.problems.len())
                    ),
                    t.warn,
                ));
            }
            v
        })
        .collect();
    match &model.analysis {
        Some(a) => {
            let s = &a.summary;
            first.push(Span::raw(format!(
                "{} events · {} users · {} sessions · {} rejected",
                count(s.events),
                count(s.users),
                count(s.counts.sessions),
                count(s.rejected)
            )));
        }
        None => first.push(Span::styled("no analysis yet", t.dim)),
    }
    first.push(sep());
    first.push(Span::raw(format!(
        "timeout {} · gap {}",
        setting(model.rules.timeout_ms),
        setting(model.rules.gap_ms)
    )));
    first.push(sep());
    first.push(Span::raw(model.zones.current().label()));
    if model.loading() {
        first.push(sep());
        first.push(Span::styled(loading_text(model), t.warn));
    }
    first.push(sep());
    first.extend(names);
    frame.render_widget(
        Paragraph::new(Line::from(first)).style(t.status),
        Rect::new(area.x, area.y, area.width, 1),
    );

    let mut second: Vec<Span<'static>> = vec![Span::raw(" ")];
    if let Some(p) = &model.prompt {
        second.push(Span::styled(p.kind.label(), t.key));
        second.push(Span::raw(sanitize(&p.text).into_owned()));
        second.push(Span::styled("▏", t.key));
        second.push(Span::raw("   "));
    } else if let Some(m) = &model.message {
        let style = match m.level {
            Level::Info => t.text,
            Level::Error => t.error,
        };
        second.push(Span::styled(m.text.clone(), style));
        second.push(Span::raw("   "));
    } else if let Some(problem) = model.sources.iter().find_map(|s| s.problems.first()) {
        let text = format!("✗ {}", sanitize(problem));
        second.push(Span::styled(fit(&text, w / 2), t.error));
        second.push(Span::raw("   "));
    }
    for (key, hint) in Keymap.hints(&hint_scopes(model)) {
        second.push(Span::styled(key, t.key));
        second.push(Span::styled(format!(" {hint}  "), t.dim));
    }
    frame.render_widget(
        Paragraph::new(Line::from(second)).style(t.status),
        Rect::new(area.x, area.y + 1, area.width, 1),
    );
}

/// A source as the status bar names it: its file name (`-` and the demo as they are).
fn short_name(name: &str) -> String {
    std::path::Path::new(name)
        .file_name()
        .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `loading 45% ▕████░░░░▏` or `analysing…`.
fn loading_text(model: &Model) -> String {
    if model.sources.iter().all(|s| s.done) {
        return "analysing…".to_string();
    }
    match model.progress() {
        Some(p) => {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a fraction in 0..=1 scaled to 10 cells"
            )]
            let filled = (p * 10.0).round() as usize;
            format!(
                "loading {:>3.0}% ▕{}{}▏",
                p * 100.0,
                "█".repeat(filled),
                "░".repeat(10 - filled.min(10))
            )
        }
        None => "loading…".to_string(),
    }
}
