//! The status bar. Line 1: sources (failed ones marked), the §5 summary counts (the same
//! numbers `report --format json` prints), the timeout, gap threshold and time zone, and
//! loading progress (`● following` first instead when only live sources are left).
//! Line 2: the open prompt, a message, a source problem, then key hints for the focused
//! pane or open overlay ([`hints`]), generated from the key table for the scopes that
//! apply now (the same rule key resolution uses, [`active_scopes`]).
//!
//! With an ingestion endpoint attached (`listen`), line 1 is made of parts in order of
//! importance: `●` with users and sessions (or `waiting for events`), rejected requests
//! (highlighted when any), the timeout and gap, requests and events per second, events
//! received and duplicates ignored, the zone, the listen address (also in the empty
//! state, with a `curl` example), the relay target. The least important parts are left
//! out until the line fits the width; what stays keeps its place.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ViewState, fit};
use crate::fmt::{count, sanitize, setting};
use crate::tui::action::Action;
use crate::tui::keymap::{Hint, Keymap, active_scopes, main_scopes};
use crate::tui::live_view::{LiveStatus, rate};
use crate::tui::model::{ExportStatus, Level, Model, PromptKind};

/// Draws the status bar.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.status;
    let w = area.width as usize;
    let sep = || Span::styled(" │ ", t.dim);
    if let Some(live) = &model.live {
        frame.render_widget(
            Paragraph::new(Line::from(live_line(model, live, view, w))).style(t.status),
            Rect::new(area.x, area.y, area.width, 1),
        );
        render_second(frame, model, keys, view);
        return;
    }
    let mut first: Vec<Span<'static>> = vec![Span::raw(" ")];
    // Only live sources left: say so first, where it cannot be cut off.
    let following = model.is_live() && model.sources.iter().all(|s| s.done || s.live);
    if following {
        first.push(Span::styled("● following", t.current));
        first.push(sep());
    }
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
    // Progress first while sources load, before the counts it qualifies: a narrow
    // terminal cuts the line's end.
    let loading = model.loading() && !following;
    if loading {
        first.push(Span::styled(loading_text(model), t.warn));
        first.push(sep());
    }
    match &model.derived.analysis {
        Some(a) => {
            let s = &a.summary;
            // While sources load, the analysis on screen may cover only the events that
            // arrived first (the next waits until it is worth it): say so, and how many
            // events have been read since.
            let read = model.store.events().len() as u64;
            let events = if loading && read > s.events {
                format!("{} of {} events analysed", count(s.events), count(read))
            } else {
                format!("{} events", count(s.events))
            };
            first.push(Span::raw(format!(
                "{events} · {} users · {} sessions · {} rejected",
                count(s.users),
                count(s.sessions),
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
    if let Some(export) = &model.export {
        first.push(sep());
        first.push(Span::styled(export_text(export), t.warn));
    }
    first.push(sep());
    first.extend(names);
    frame.render_widget(
        Paragraph::new(Line::from(first)).style(t.status),
        Rect::new(area.x, area.y, area.width, 1),
    );
    render_second(frame, model, keys, view);
}

/// Line 2: the prompt, a message or a source problem, then key hints.
fn render_second(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.status;
    let w = area.width as usize;
    let mut second: Vec<Span<'static>> = vec![Span::raw(" ")];
    if let Some(p) = &model.prompt {
        second.push(Span::styled(prompt_label(model, keys, p.kind), t.key));
        second.push(Span::raw(sanitize(&p.text).into_owned()));
        second.push(Span::styled("▏", t.key));
        if p.text.is_empty() && !p.placeholder.is_empty() {
            // The current value, dimmed: typing replaces it.
            second.push(Span::styled(sanitize(&p.placeholder).into_owned(), t.dim));
        }
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
    } else if let Some(note) = model.sources.iter().find_map(|s| s.notes.first()) {
        let text = format!("note: {}", sanitize(note));
        second.push(Span::styled(fit(&text, w / 2), t.text));
        second.push(Span::raw("   "));
    }
    for hint in hints(model, keys) {
        second.push(Span::styled(hint.key.label(), t.key));
        second.push(Span::styled(format!(" {}  ", hint.word), t.dim));
    }
    frame.render_widget(
        Paragraph::new(Line::from(second)).style(t.status),
        Rect::new(area.x, area.y + 1, area.width, 1),
    );
}

/// The key hints line 2 ends with: those of the scopes that apply now
/// ([`active_scopes`], the rule key resolution uses), so each names a key that does what
/// its word says.
#[must_use]
pub fn hints(model: &Model, keys: &Keymap) -> Vec<Hint> {
    keys.hints(&active_scopes(model))
}

/// A prompt's label; the search prompt's ends with the search key (`search events: /`).
fn prompt_label(model: &Model, keys: &Keymap, kind: PromptKind) -> String {
    match kind {
        PromptKind::Search => format!(
            "{}{}",
            kind.label(),
            keys.label(Action::Search, &main_scopes(model))
        ),
        _ => kind.label().to_string(),
    }
}

/// A source as the status bar names it: its file name (`-` and the demo as they are).
fn short_name(name: &str) -> String {
    // An Amplitude source is not a path: its ID or range is what tells it apart.
    if name.starts_with(crate::source::amplitude::PREFIX) {
        return name.to_string();
    }
    std::path::Path::new(name)
        .file_name()
        .map_or_else(|| name.to_string(), |n| n.to_string_lossy().into_owned())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Line 1 with an endpoint attached: the parts that fit in `width`, in importance order.
fn live_line(
    model: &Model,
    live: &LiveStatus,
    view: &ViewState,
    width: usize,
) -> Vec<Span<'static>> {
    let t = &view.theme;
    let c = &live.counters;
    // (importance: lower stays longer, spans). What the data holds and the settings come
    // first; the address is in the empty state (and here when there is room).
    let holds = match &model.derived.analysis {
        Some(a) => {
            let s = &a.summary;
            let mut text = format!("{} users · {} sessions", count(s.users), count(s.sessions));
            if s.rejected > 0 {
                text.push_str(&format!(" · {} rejected", count(s.rejected)));
            }
            text
        }
        None if model.analysing == crate::tui::model::Analysing::Running => {
            "analysing…".to_string()
        }
        None => "waiting for events".to_string(),
    };
    let mut parts: Vec<(u8, Vec<Span<'static>>)> =
        vec![(0, vec![Span::styled("● ", t.current), Span::raw(holds)])];
    let n = c.rejected_requests;
    parts.push((
        1,
        vec![Span::styled(
            format!("{} rejected request{}", count(n), plural(n as usize)),
            if n > 0 { t.error } else { t.dim },
        )],
    ));
    parts.push((
        2,
        vec![Span::raw(format!(
            "timeout {} · gap {}",
            setting(model.rules.timeout_ms),
            setting(model.rules.gap_ms)
        ))],
    ));
    if let Some(export) = &model.export {
        parts.push((2, vec![Span::styled(export_text(export), t.warn)]));
    }
    let rates = match live.rates {
        Some(r) => format!("{} req/s · {} ev/s", rate(r.requests), rate(r.events)),
        None => "– req/s · – ev/s".to_string(),
    };
    parts.push((3, vec![Span::raw(rates)]));
    parts.push((
        4,
        vec![Span::raw(format!(
            "{} received · {} dup",
            count(c.events),
            count(c.duplicates)
        ))],
    ));
    parts.push((5, vec![Span::raw(model.zones.current().label())]));
    parts.push((
        6,
        vec![Span::raw(format!("listen {}", sanitize(&live.url)))],
    ));
    if let Some(f) = &live.forward {
        parts.push((7, vec![Span::raw(format!("→ {}", sanitize(f)))]));
    }
    let len = |parts: &[(u8, Vec<Span<'static>>)]| {
        1 + parts
            .iter()
            .map(|(_, v)| v.iter().map(|s| s.content.chars().count()).sum::<usize>() + 3)
            .sum::<usize>()
            .saturating_sub(3)
    };
    while parts.len() > 1 && len(&parts) > width {
        let Some(drop) = parts
            .iter()
            .enumerate()
            .max_by_key(|(_, (p, _))| *p)
            .map(|(i, _)| i)
        else {
            break;
        };
        parts.remove(drop);
    }
    let mut out = vec![Span::raw(" ")];
    for (i, (_, spans)) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(Span::styled(" │ ", t.dim));
        }
        out.extend(spans);
    }
    out
}

/// A running export: `exporting to a.ndjson: reading 1,200 of 5,000 events` while its
/// raw texts are read back, then `exporting to a.ndjson: 3,000 of 5,000 events · 1.2 MB`.
fn export_text(export: &ExportStatus) -> String {
    let p = &export.progress;
    let to = fit(&short_name(&export.path), 30);
    if p.written == 0 && p.read < p.total {
        format!(
            "exporting to {to}: reading {} of {} events",
            count(p.read as u64),
            count(p.total as u64)
        )
    } else {
        format!(
            "exporting to {to}: {} of {} events · {}",
            count(p.written as u64),
            count(p.total as u64),
            bytes(p.bytes)
        )
    }
}

/// A byte count for people: `512 B`, `1.2 kB`, `34.5 MB`, `1.1 GB` (powers of 1000).
fn bytes(n: u64) -> String {
    const UNITS: [&str; 3] = ["kB", "MB", "GB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let (mut unit, mut div) = (0, 1000u64);
    while unit < UNITS.len() - 1 && n / div >= 1000 {
        div *= 1000;
        unit += 1;
    }
    let tenths = n / (div / 10);
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_as_people_write_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1.0 kB");
        assert_eq!(bytes(1_234), "1.2 kB");
        assert_eq!(bytes(999_999), "999.9 kB");
        assert_eq!(bytes(34_567_890), "34.5 MB");
        assert_eq!(bytes(1_100_000_000), "1.1 GB");
        assert_eq!(bytes(5_000_000_000_000), "5000.0 GB");
    }
}
