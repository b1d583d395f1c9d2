//! The rejected overlay (`!`): what was refused, in one list with a kind column: the
//! requests the ingestion endpoint answered with an error (newest first: time, method and
//! path, status, events kept of those sent, the error), then the sources' rejected
//! records (location as the report writes it, `file:line`, `zip!member:line` or
//! `[index]`, and the reason), then the accepted events whose session id was unusable.
//! The selected row's details follow the list (a request's reasons; a record's reason
//! and the escaped text of its line); Enter shows a request's body or a record's full
//! text, pretty-printed when it is JSON. Every text from a request or a record goes
//! through [`crate::fmt::sanitize`]. The title names the overlay's keys from the key
//! table.
//!
//! ```text
//! ╭ Rejected · Enter full text · Esc closes · j/k move ──────────────────────────────╮
//! │ 1 request rejected · 2 records rejected in the sources · 1 unusable session id   │
//! │ kind     where                      what                                         │
//! │▶request  10:00:07 POST /2/httpapi   400 · 3/5 kept · invalid events              │
//! │ rejected demo.ndjson:501            not valid JSON: expected value at column 1   │
//! │ warning  demo.ndjson:77             session_id "abc" counts as out of session    │
//! │ ── request #12 ───────────────────────────────────────────────────────────────── │
//! │ events[1]: missing user_id and device_id                                         │
//! ╰──────────────────────────────────────────────────────────────────────────────────╯
//! ```

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{Theme, ViewState, draw_row, fit, inset, pad, pane};
use crate::fmt::{count, sanitize};
use crate::listen::shared::RejectedRequest;
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Scope, overlay_scopes};
use crate::tui::live_view::{BodyView, RejectedView};
use crate::tui::model::Model;
use crate::tui::records::{RecordKind, RecordRow};
use crate::tui::zone::{Precision, Zone};

/// Lines above the scrolling part: the summary, then the column heading (list) or the
/// request's line and the body's size (body).
const TOP_LINES: u16 = 3;

/// The scrolling part of the overlay inside `inner`: the list rows, or the body.
#[must_use]
pub fn body_area(inner: Rect, model: &Model) -> Rect {
    let body_open = model.rejected.as_ref().is_some_and(|v| v.body.is_some());
    if body_open {
        return Rect::new(
            inner.x,
            inner.y + TOP_LINES,
            inner.width,
            inner.height.saturating_sub(TOP_LINES),
        );
    }
    // The list takes up to half of what is left under the summary and the heading; the
    // selected request's reasons follow it.
    let rest = inner.height.saturating_sub(2);
    let len = model.rejected.as_ref().map_or(0, RejectedView::len);
    let len = u16::try_from(len).unwrap_or(u16::MAX).max(1);
    let list_h = len.min(rest.div_ceil(2).max(rest.min(3)));
    Rect::new(inner.x, inner.y + 2, inner.width, list_h)
}

/// Display lines of a body at `width`.
#[must_use]
pub fn body_line_count(b: &BodyView, width: usize) -> usize {
    b.lines
        .iter()
        .map(|l| super::detail::wrapped_len(l, width))
        .sum::<usize>()
        .max(1)
}

/// Draws the overlay.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.overlay;
    let body = view.areas.overlay_body;
    let Some(v) = &model.rejected else {
        return;
    };
    frame.render_widget(Clear, area);
    let scopes = overlay_scopes(Scope::Rejected);
    let key = |action| keys.label(action, &scopes);
    let (close, down, up) = (
        key(Action::CloseOverlay),
        key(Action::Down),
        key(Action::Up),
    );
    let hint = if v.body.is_some() {
        format!("· {close} back · {down}/{up} scroll ")
    } else {
        let open = key(Action::Open);
        let what = if v.current().is_some() {
            "body"
        } else {
            "full text"
        };
        format!("· {open} {what} · {close} closes · {down}/{up} move ")
    };
    let title = Line::from(vec![
        Span::styled(" Rejected ", t.title),
        Span::styled(hint, t.dim),
    ]);
    frame.render_widget(pane(title, true, t), area);
    let inner = inset(area);
    if inner.height < 4 || inner.width < 10 {
        return;
    }
    let line_at = |k: u16| Rect::new(inner.x, inner.y + k, inner.width, 1);
    frame.render_widget(Paragraph::new(summary(model, v, t)), line_at(0));
    let zone = model.zones.current();
    match &v.body {
        Some(b) if b.record.is_some() => {
            let Some(r) = b.record.and_then(|i| v.records.get(i)) else {
                return;
            };
            render_record_text(frame, r, b, body, line_at(1), line_at(2), t);
        }
        Some(b) => {
            let Some(r) = v.list.iter().find(|r| r.request == b.request) else {
                return;
            };
            frame.render_widget(Paragraph::new(request_line(r, zone, t)), line_at(1));
            let size = match b.truncated {
                Some((kept, len)) => format!(
                    "body: first {} of {} bytes (the rest was not kept)",
                    size(kept),
                    count(len as u64)
                ),
                None => format!("body: {} bytes", count(r.body_len as u64)),
            };
            let style = if b.truncated.is_some() { t.warn } else { t.dim };
            frame.render_widget(Paragraph::new(Span::styled(size, style)), line_at(2));
            render_text(frame, b, body, "(empty body)", t);
        }
        None => render_list(frame, v, view, zone, inner, t),
    }
}

/// A record's full text (Enter on a record): its location and reason, its size, the text.
fn render_record_text(
    frame: &mut Frame<'_>,
    r: &RecordRow,
    b: &BodyView,
    body: Rect,
    first: Rect,
    second: Rect,
    t: &Theme,
) {
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{} ", r.kind.label()), t.header),
            Span::raw(r.location.clone()),
        ])),
        first,
    );
    let (size, style) = match &r.text {
        Ok(raw) => match b.truncated {
            Some((kept, len)) => (
                format!(
                    "line: first {} of {} bytes (see the source for the rest)",
                    size(kept),
                    count(len as u64)
                ),
                t.warn,
            ),
            None => (
                format!("line: {} bytes", count(raw.text.len() as u64)),
                t.dim,
            ),
        },
        Err(why) => (format!("text not shown: {why}"), t.dim),
    };
    frame.render_widget(Paragraph::new(Span::styled(size, style)), second);
    render_text(frame, b, body, "(empty line)", t);
}

/// A body's or a record's text, wrapped and scrolled, or `empty` when it has none.
fn render_text(frame: &mut Frame<'_>, b: &BodyView, body: Rect, empty: &'static str, t: &Theme) {
    let lines = if b.lines.is_empty() {
        vec![Line::styled(empty, t.dim)]
    } else {
        super::detail::wrapped_window(
            &b.lines,
            body.width as usize,
            b.scroll,
            body.height as usize,
            t,
        )
    };
    frame.render_widget(Paragraph::new(lines), body);
}

fn render_list(
    frame: &mut Frame<'_>,
    v: &RejectedView,
    view: &ViewState,
    zone: Zone,
    inner: Rect,
    t: &Theme,
) {
    let list = view.areas.overlay_body;
    let w = list.width as usize;
    let where_w = where_width(v, w);
    let heading = format!(" {} {}  what", pad("kind", KIND_W), pad("where", where_w));
    frame.render_widget(
        Paragraph::new(fit(&heading, w)).style(t.header),
        Rect::new(inner.x, inner.y + 1, inner.width, 1),
    );
    if v.is_empty() {
        frame.render_widget(Paragraph::new("nothing was rejected").style(t.dim), list);
        return;
    }
    let top = view.rejected_top;
    for (k, i) in (top..v.len()).take(list.height as usize).enumerate() {
        let selected = i == v.selected;
        let marker = if selected { "▶" } else { " " };
        let (kind, place, what, style) = match v.list.get(i) {
            Some(r) => (
                "request",
                format!(
                    "{} {}",
                    zone.format(r.at_ms, Precision::Seconds),
                    request_text(r)
                ),
                format!(
                    "{} · {}/{} kept · {}",
                    r.status,
                    count(r.kept as u64),
                    count(r.events as u64),
                    sanitize(&r.error)
                ),
                t.error,
            ),
            None => {
                let Some(r) = v.records.get(i - v.list.len()) else {
                    continue;
                };
                let style = match r.kind {
                    RecordKind::Rejected => t.error,
                    RecordKind::Warning => t.warn,
                };
                (r.kind.label(), r.location.clone(), r.what.clone(), style)
            }
        };
        let place = fit_left(&place, where_w);
        let lead = format!("{marker}{} {}  ", pad(kind, KIND_W), pad(&place, where_w));
        let room = w.saturating_sub(lead.chars().count());
        let line = Line::from(vec![Span::raw(lead), Span::styled(fit(&what, room), style)]);
        draw_row(frame, list, k, line, t.row(selected, true));
    }
    let below = list.y + list.height;
    let bottom = inner.y + inner.height;
    if below >= bottom {
        return;
    }
    let detail = Rect::new(
        inner.x,
        below + 1,
        inner.width,
        bottom.saturating_sub(below + 1),
    );
    let rule = |label: String| {
        let fill = "─".repeat(w.saturating_sub(label.chars().count()));
        Paragraph::new(Span::styled(format!("{label}{fill}"), t.dim))
    };
    let rule_at = Rect::new(inner.x, below, inner.width, 1);
    if let Some(r) = v.current_record() {
        frame.render_widget(rule(format!("── {} ", r.location)), rule_at);
        let mut lines = vec![record_line(r, t)];
        match &r.text {
            Ok(raw) => {
                let mut text = vec![Span::raw(raw.text.clone())];
                if raw.cut_from.is_some() {
                    text.push(Span::styled(" …", t.dim));
                }
                lines.push(Line::from(text));
            }
            Err(why) => lines.push(Line::styled(format!("text not shown: {why}"), t.dim)),
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), detail);
        return;
    }
    let Some(r) = v.current() else {
        return;
    };
    frame.render_widget(rule(format!("── request #{} ", r.request)), rule_at);
    let mut lines = vec![request_line(r, zone, t)];
    if !r.error.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("error: ", t.dim),
            Span::styled(sanitize(&r.error).into_owned(), t.error),
        ]));
    }
    if r.reasons.is_empty() {
        lines.push(Line::styled("no reasons given", t.dim));
    }
    for reason in &r.reasons {
        lines.push(Line::from(vec![
            Span::styled("· ", t.flag),
            Span::raw(sanitize(reason).into_owned()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), detail);
}

/// `text` cut to `width` characters from the left (`…ures/tui/export.ndjson:3`), so a
/// location keeps its line number.
fn fit_left(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let tail: String = text.chars().skip(n - (width - 1)).collect();
    format!("…{tail}")
}

/// Width of the kind column.
const KIND_W: usize = 8;

/// Width of the where column: the longest location or request, within a third of the
/// list (at least the request's time and path).
fn where_width(v: &RejectedView, w: usize) -> usize {
    let longest = v
        .records
        .iter()
        .map(|r| r.location.chars().count())
        .chain((!v.list.is_empty()).then_some(9 + REQUEST_W))
        .max()
        .unwrap_or(5);
    longest.clamp(5, (w / 3).max(REQUEST_W.min(w / 2)))
}

/// One line about a record: its kind, its location and its reason.
fn record_line(r: &RecordRow, t: &Theme) -> Line<'static> {
    let style = match r.kind {
        RecordKind::Rejected => t.error,
        RecordKind::Warning => t.warn,
    };
    Line::from(vec![
        Span::styled(format!("{} ", r.kind.label()), t.header),
        Span::raw(format!("{} · ", r.location)),
        Span::styled(r.what.clone(), style),
    ])
}

/// A byte size: whole KiB as `64 KiB`, else in bytes.
fn size(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{} bytes", count(bytes as u64))
    }
}

/// Width of the request column.
const REQUEST_W: usize = 22;

/// `POST /2/httpapi`, sanitized.
fn request_text(r: &RejectedRequest) -> String {
    sanitize(&format!("{} {}", r.method, r.path)).into_owned()
}

/// One line about a request: number, time, method and path, status, events kept.
fn request_line(r: &RejectedRequest, zone: Zone, t: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("#{} ", r.request), t.header),
        Span::raw(format!(
            "{} {} · {} → {} · {} of {} events kept · {} bytes",
            zone.format(r.at_ms, Precision::Full),
            zone.label(),
            request_text(r),
            r.status,
            count(r.kept as u64),
            count(r.events as u64),
            count(r.body_len as u64),
        )),
    ])
}

/// The first line: how many requests were rejected (with an endpoint), records rejected
/// in the sources and unusable session ids, and how many of them are listed.
fn summary(model: &Model, v: &RejectedView, t: &Theme) -> Line<'static> {
    let plural =
        |n: u64, one: &str, many: &str| format!("{} {}", count(n), if n == 1 { one } else { many });
    let mut spans = Vec::new();
    if let Some(live) = &model.live {
        let n = live.counters.rejected_requests;
        let kept = if (v.list.len() as u64) < n {
            format!(" ({} kept)", count(v.list.len() as u64))
        } else {
            String::new()
        };
        spans.push(Span::styled(
            format!(
                "{}{kept}, newest first · ",
                plural(n, "request rejected", "requests rejected")
            ),
            if n > 0 { t.error } else { t.dim },
        ));
    }
    let store = &model.store;
    let records = store.rejected();
    let listed = |kept: usize, all: u64| {
        if (kept as u64) < all {
            format!(" ({} listed)", count(kept as u64))
        } else {
            String::new()
        }
    };
    spans.push(Span::styled(
        format!(
            "{} in the sources{}",
            plural(records, "record rejected", "records rejected"),
            listed(store.rejects.len(), records)
        ),
        if records > 0 { t.error } else { t.dim },
    ));
    let warnings = store.warning_count;
    spans.push(Span::styled(
        format!(
            " · {}{}",
            plural(warnings, "unusable session id", "unusable session ids"),
            listed(store.warnings.len(), warnings)
        ),
        if warnings > 0 { t.warn } else { t.dim },
    ));
    Line::from(spans)
}
