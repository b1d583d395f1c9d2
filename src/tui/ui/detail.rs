//! The event detail overlay: the selected event's user key, session and flags, then its
//! raw JSON pretty-printed in the original key order and coloured, wrapped to the width,
//! scrollable. Only the lines on screen are styled. The title names the overlay's keys
//! from the key table.

use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Theme, ViewState, flag_spans, pane, session_flag_words};
use crate::analysis::{Analysis, NO_SESSION};
use crate::fmt::{duration, sanitize};
use crate::index::{EventIx, IxRange, Pos, UserIx};
use crate::tui::action::Action;
use crate::tui::jsonview::{JsonLine, Tok};
use crate::tui::keymap::{Keymap, Scope, overlay_scopes};
use crate::tui::model::{DetailView, Model, RawText};
use crate::tui::zone::Precision;

/// Lines of event facts above the JSON.
pub const HEADER_LINES: u16 = 3;

/// The display lines of the detail body at `width` (JSON lines wrapped).
#[must_use]
pub fn line_count(d: &DetailView, width: usize) -> usize {
    match &d.raw {
        RawText::Ready { lines, .. } => lines.iter().map(|l| wrapped_len(l, width)).sum(),
        RawText::Loading | RawText::Failed(_) => 1,
    }
}

fn text_len(l: &JsonLine) -> usize {
    2 * l.indent as usize
        + l.parts
            .iter()
            .map(|(_, s)| s.chars().count())
            .sum::<usize>()
}

/// How many display lines of `width` characters one JSON line takes.
#[must_use]
pub fn wrapped_len(l: &JsonLine, width: usize) -> usize {
    text_len(l).div_ceil(width.max(1)).max(1)
}

fn tok_style(tok: Tok, t: &Theme) -> Style {
    match tok {
        Tok::Key => t.json_key,
        Tok::Str => t.json_string,
        Tok::Num => t.json_number,
        Tok::Lit => t.json_literal,
        Tok::Punct => t.json_punct,
        Tok::Plain => t.text,
    }
}

/// One JSON line cut into display lines of `width` characters.
fn wrap(l: &JsonLine, width: usize, t: &Theme) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    let pieces = std::iter::once((t.text, "  ".repeat(l.indent as usize))).chain(
        l.parts
            .iter()
            .map(|(tok, s)| (tok_style(*tok, t), s.clone())),
    );
    for (style, text) in pieces {
        let mut rest: &str = &text;
        while !rest.is_empty() {
            let room = width - used;
            let cut = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
            let (head, tail) = rest.split_at(cut);
            spans.push(Span::styled(head.to_string(), style));
            used += head.chars().count();
            rest = tail;
            if used == width && !rest.is_empty() {
                out.push(Line::from(std::mem::take(&mut spans)));
                used = 0;
            }
        }
    }
    out.push(Line::from(spans));
    out
}

/// The title's key hints: `· y copies the raw JSON · Esc closes · j/k scroll `.
fn title_keys(keys: &Keymap) -> String {
    let scopes = overlay_scopes(Scope::Detail);
    let key = |action| keys.label(action, &scopes);
    format!(
        "· {} copies the raw JSON · {} closes · {}/{} scroll ",
        key(Action::Copy),
        key(Action::CloseOverlay),
        key(Action::Down),
        key(Action::Up)
    )
}

/// Draws the detail overlay.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.overlay;
    let body = view.areas.overlay_body;
    let Some(d) = &model.derived.detail else {
        return;
    };
    frame.render_widget(Clear, area);
    let title = Line::from(vec![
        Span::styled(" Event ", t.title),
        Span::styled(title_keys(keys), t.dim),
    ]);
    frame.render_widget(pane(title, true, t), area);
    let head = ratatui::layout::Rect::new(body.x, area.y + 1, body.width, HEADER_LINES);
    frame.render_widget(Paragraph::new(facts(model, d, t)), head);
    let width = body.width as usize;
    let shown: Vec<Line<'static>> = match &d.raw {
        RawText::Loading => vec![Line::styled("reading the raw JSON…", t.dim)],
        RawText::Failed(e) => vec![Line::styled(e.clone(), t.error)],
        RawText::Ready { lines, .. } => {
            wrapped_window(lines, width, d.scroll, body.height as usize, t)
        }
    };
    frame.render_widget(Paragraph::new(shown), body);
}

/// The display lines `skip..skip + height` of JSON `lines` wrapped to `width`, styled.
/// Only the lines shown are styled.
#[must_use]
pub fn wrapped_window(
    lines: &[JsonLine],
    width: usize,
    skip: usize,
    height: usize,
    t: &Theme,
) -> Vec<Line<'static>> {
    let mut skip = skip;
    let mut out = Vec::new();
    for l in lines {
        if out.len() >= height {
            break;
        }
        let n = wrapped_len(l, width);
        if skip >= n {
            skip -= n;
            continue;
        }
        out.extend(wrap(l, width, t).into_iter().skip(skip));
        skip = 0;
    }
    out.truncate(height);
    out
}

/// The event's facts: type, where it is (`file:line`, first so a narrow screen keeps
/// it), time; user and session; flags in words.
fn facts(model: &Model, d: &DetailView, t: &Theme) -> Vec<Line<'static>> {
    let store = &model.store;
    let Some(rec) = store.events().get(d.event.idx()) else {
        return vec![Line::raw("event not loaded")];
    };
    let zone = model.zones.current();
    let source = store
        .raw(d.event)
        .and_then(|loc| {
            let src = store.sources.get(loc.source.idx())?;
            let member = src.member_names.get(loc.segment as usize);
            Some(match member {
                Some(m) if *m != src.name => format!("{}!{}", src.name, m),
                _ => src.name.clone(),
            })
        })
        .unwrap_or_default();
    // `file:line`, pasteable into `sed -n 12572p file` or `less +12572 file`; the input
    // order when the line is not known (compressed sources).
    let place = match d.line {
        Some(line) => format!("{}:{line}", sanitize(&source)),
        None => format!("event #{} of {}", d.event.idx() + 1, sanitize(&source)),
    };
    let mut out = vec![Line::from(vec![
        Span::styled(
            sanitize(store.strings.get(rec.event_type)).into_owned(),
            t.header,
        ),
        Span::styled(
            format!(
                " · {place} · {} {}",
                zone.format(rec.time, Precision::Full),
                zone.label(),
            ),
            t.dim,
        ),
    ])];
    let (Some(a), Some(u)) = (&model.derived.analysis, model.selected_user()) else {
        return out;
    };
    let mut who = vec![Span::raw(format!("user {}", model.user_label(u)))];
    let mut flags = vec![Span::styled("flags:", t.dim)];
    if let Some(pos) = find_pos(a, u, d.event) {
        let s = a.pos_session[pos];
        if s == NO_SESSION {
            who.push(Span::raw(" · no session (session_id -1 or none)"));
        } else {
            let session = &a.sessions[s];
            who.push(Span::raw(format!(
                " · session {} (id {}) · length {} · span {}",
                super::events::session_start(session.id, zone),
                session.id,
                duration(session.length_ms()),
                duration(session.span_ms())
            )));
        }
        let gap = gap_before(model, a, u, pos);
        let words = super::events::event_flag_words(a, pos, gap);
        if !words.is_empty() {
            flags.extend(flag_spans(&words, t.flag));
            flags.push(Span::styled(" (this event)", t.dim));
        }
        if s != NO_SESSION {
            let words = session_flag_words(&a.sessions[s]);
            if !words.is_empty() {
                flags.extend(flag_spans(&words, t.flag));
                flags.push(Span::styled(" (its session)", t.dim));
            }
        }
    }
    if flags.len() == 1 {
        flags.push(Span::styled(" none", t.dim));
    }
    out.push(Line::from(who));
    out.push(Line::from(flags));
    out
}

/// The position of event `e` among user `u`'s events.
fn find_pos(a: &Analysis, u: UserIx, e: EventIx) -> Option<Pos> {
    a.users[u].events.iter_ix().find(|&p| a.order[p] == e)
}

/// Time since the previous event of the same session, or -1.
fn gap_before(model: &Model, a: &Analysis, u: UserIx, pos: Pos) -> i64 {
    let s = a.pos_session[pos];
    if s == NO_SESSION {
        return -1;
    }
    let events = model.store.events();
    (a.users[u].events.start..pos)
        .iter_ix()
        .rev()
        .find(|&p| a.pos_session[p] == s)
        .map_or(-1, |p| {
            events[a.order[pos]]
                .time
                .saturating_sub(events[a.order[p]].time)
        })
}
