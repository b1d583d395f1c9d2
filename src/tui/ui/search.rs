//! The results of a search across all users (`S`): the count (`42 matches in 7 users`,
//! `10,000+` when the search stopped at its cap), then one row per match, user by user
//! in the users pane's order: user · time · event type · the text that matched. While the
//! search runs, its progress. Enter goes to the selected match's user and event; after
//! Esc, `n`/`N` step through the matches across users.
//!
//! ```text
//! ╭ Search all users 'checkout' · 42 matches in 7 users · Enter go to · Esc closes ───╮
//! │ user                 time                     type            matched            │
//! │▶alice                2024-01-02 10:00:01.000  Checkout        Checkout           │
//! │ bob                  2024-01-03 09:12:44.000  Purchase        …"step":"checkout"… │
//! ╰──────────────────────────────────────────────────────────────────────────────────╯
//! ```

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{ViewState, fit, pad, pane, scrolled};
use crate::fmt::{count, sanitize};
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Scope, overlay_scopes};
use crate::tui::model::Model;
use crate::tui::zone::Precision;

/// Draws the results overlay.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.overlay;
    let body = view.areas.overlay_body;
    let Some(s) = &model.derived.search_all else {
        return;
    };
    frame.render_widget(Clear, area);
    let scopes = overlay_scopes(Scope::SearchResults);
    let status = match s.progress {
        Some((scanned, total, found)) => format!(
            "searching… {} of {} events, {} match{} so far",
            count(scanned as u64),
            count(total as u64),
            count(found as u64),
            if found == 1 { "" } else { "es" }
        ),
        None => s.count_text(),
    };
    let title = Line::from(vec![
        Span::styled(" Search all users ", t.title),
        Span::styled(format!("'{}' ", fit(&sanitize(&s.query), 30)), t.title),
        Span::styled(format!("· {status} "), t.text),
        Span::styled(
            format!(
                "· {} go to · {} closes, then {}/{} step ",
                keys.label(Action::Open, &scopes),
                keys.label(Action::CloseOverlay, &scopes),
                keys.label(Action::SearchNext, &crate::tui::keymap::main_scopes(model)),
                keys.label(Action::SearchPrev, &crate::tui::keymap::main_scopes(model)),
            ),
            t.dim,
        ),
    ]);
    frame.render_widget(pane(title, true, t), area);
    let w = body.width as usize;
    let h = body.height as usize;
    if h == 0 {
        return;
    }
    let zone = model.zones.current();
    let user_w = (w / 5).clamp(8, 30);
    let time_w = 23;
    let type_w = (w / 5).clamp(8, 28);
    let header = format!(
        " {} {} {} {}",
        pad("user", user_w),
        pad(&format!("time ({})", zone.label()), time_w),
        pad("type", type_w),
        "matched"
    );
    let mut out: Vec<Line<'static>> = vec![Line::styled(pad(&header, w), t.header)];
    if s.results.is_empty() {
        let text = if s.progress.is_some() {
            "searching…".to_string()
        } else {
            format!("no event of any user matches '{}'", sanitize(&s.query))
        };
        out.push(Line::styled(text, t.dim));
    }
    let list_h = h.saturating_sub(1);
    let top = scrolled(
        s.selected.saturating_sub(list_h / 2),
        s.selected,
        s.results.len(),
        list_h,
    );
    let events = model.store.events();
    for (i, r) in s.results.iter().enumerate().skip(top).take(list_h) {
        let sel = i == s.selected;
        let user = sanitize(&model.user_label(r.user)).into_owned();
        let (time, ty) = events.get(r.event.idx()).map_or_else(
            || (String::new(), String::new()),
            |ev| {
                (
                    zone.format(ev.time, Precision::Full),
                    sanitize(model.store.strings.get(ev.event_type)).into_owned(),
                )
            },
        );
        let rest = w.saturating_sub(4 + user_w + time_w + type_w);
        let text = format!(
            "{}{} {} {} {}",
            if sel { "▶" } else { " " },
            pad(&user, user_w),
            pad(&time, time_w),
            pad(&ty, type_w),
            fit(&sanitize(&r.excerpt), rest)
        );
        out.push(Line::styled(
            pad(&text, w),
            if sel { t.selected } else { t.text },
        ));
    }
    if s.unplaced > 0 && out.len() < h {
        out.push(Line::styled(
            format!(
                "{} more in events still being analysed: search again when loading ends",
                count(s.unplaced as u64)
            ),
            t.dim,
        ));
    }
    frame.render_widget(Paragraph::new(out), body);
}
