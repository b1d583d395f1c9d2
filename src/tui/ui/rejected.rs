//! The rejected-requests overlay (`!`): the requests the ingestion endpoint answered with
//! an error, newest first, one per row (time, method and path, status, events kept of
//! those sent, the error), with the selected one's reasons below; Enter shows its body,
//! pretty-printed when it is JSON. Every text from a request (path, error, reasons, body)
//! goes through [`crate::fmt::sanitize`]. The title names the overlay's keys from the key
//! table.
//!
//! ```text
//! ╭ Rejected requests · Enter body · Esc closes ─────────────────────────────────────╮
//! │ 3 requests rejected (newest first) · 2 records rejected in the sources           │
//! │ time      request               status  kept  error                              │
//! │▶10:00:07  POST /2/httpapi          400  3/5   invalid events                     │
//! │ 10:00:02  POST /batch              413  0/0   body too large                     │
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
    let len = model.rejected.as_ref().map_or(0, |v| v.list.len());
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
        format!("· {open} body · {close} closes · {down}/{up} move ")
    };
    let title = Line::from(vec![
        Span::styled(" Rejected requests ", t.title),
        Span::styled(hint, t.dim),
    ]);
    frame.render_widget(pane(title, true, t), area);
    let inner = inset(area);
    if inner.height < 4 || inner.width < 10 {
        return;
    }
    let line_at = |k: u16| Rect::new(inner.x, inner.y + k, inner.width, 1);
    frame.render_widget(Paragraph::new(summary(model, v, t)), line_at(0));
    if model.live.is_none() {
        return;
    }
    let zone = model.zones.current();
    match &v.body {
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
            let lines = if b.lines.is_empty() {
                vec![Line::styled("(empty body)", t.dim)]
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
        None => render_list(frame, v, view, zone, inner, t),
    }
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
    let heading = format!(
        " {} {} {:>6} {:>9}  error",
        pad("time", 8),
        pad("request", REQUEST_W),
        "status",
        "kept"
    );
    frame.render_widget(
        Paragraph::new(fit(&heading, w)).style(t.header),
        Rect::new(inner.x, inner.y + 1, inner.width, 1),
    );
    if v.list.is_empty() {
        frame.render_widget(
            Paragraph::new("no request has been rejected").style(t.dim),
            list,
        );
        return;
    }
    let rows = v
        .list
        .iter()
        .enumerate()
        .skip(view.rejected_top)
        .take(list.height as usize);
    for (k, (i, r)) in rows.enumerate() {
        let selected = i == v.selected;
        let marker = if selected { "▶" } else { " " };
        let lead = format!(
            "{marker}{} {} {:>6} {:>9}  ",
            zone.format(r.at_ms, Precision::Seconds),
            pad(&request_text(r), REQUEST_W),
            r.status,
            format!("{}/{}", count(r.kept as u64), count(r.events as u64)),
        );
        let room = w.saturating_sub(lead.chars().count());
        let line = Line::from(vec![
            Span::raw(lead),
            Span::styled(fit(&sanitize(&r.error), room), t.error),
        ]);
        draw_row(frame, list, k, line, t.row(selected, true));
    }
    let below = list.y + list.height;
    let bottom = inner.y + inner.height;
    let Some(r) = v.current() else {
        return;
    };
    if below >= bottom {
        return;
    }
    let rule = format!("── request #{} ", r.request);
    let rule = format!(
        "{rule}{}",
        "─".repeat(w.saturating_sub(rule.chars().count()))
    );
    frame.render_widget(
        Paragraph::new(Span::styled(rule, t.dim)),
        Rect::new(inner.x, below, inner.width, 1),
    );
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
    let detail = Rect::new(
        inner.x,
        below + 1,
        inner.width,
        bottom.saturating_sub(below + 1),
    );
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), detail);
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

/// The first line: how many were rejected, and the records rejected in the sources.
fn summary(model: &Model, v: &RejectedView, t: &Theme) -> Line<'static> {
    let records = model.store.rejected();
    let records = Span::styled(
        format!(
            "{} record{} rejected while decoding the sources",
            count(records),
            if records == 1 { "" } else { "s" }
        ),
        t.dim,
    );
    let Some(live) = &model.live else {
        return Line::from(vec![
            Span::styled(
                "rejected requests are shown for `streamscope listen` · ",
                t.warn,
            ),
            records,
        ]);
    };
    let n = live.counters.rejected_requests;
    let kept = if (v.list.len() as u64) < n {
        format!(" ({} kept)", count(v.list.len() as u64))
    } else {
        String::new()
    };
    Line::from(vec![
        Span::styled(
            format!(
                "{} request{} rejected{kept}, newest first · ",
                count(n),
                if n == 1 { "" } else { "s" }
            ),
            if n > 0 { t.error } else { t.dim },
        ),
        records,
    ])
}
