//! The users pane: every user with events, sessions and flag counts in words, sorted
//! (most anomalies, most events, most recent) and filtered by id. Only the rows on
//! screen are formatted. A `●` before the flags marks a user whose latest session is
//! still open (live).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ViewState, draw_row, fit, pad, pane};
use crate::analysis::{Analysis, KeyKind};
use crate::fmt::{count, sanitize};
use crate::index::UserIx;
use crate::store::EventStore;
use crate::tui::model::{Focus, Model};

/// The user key as listed: the id, prefixed by its kind unless it is a user id.
#[must_use]
pub fn user_label(a: &Analysis, store: &EventStore, u: UserIx) -> String {
    let key = a.users[u].key;
    let id = sanitize(store.strings.get(key.id));
    match key.kind {
        KeyKind::UserId => id.into_owned(),
        KeyKind::AmplitudeId => format!("amp:{id}"),
        KeyKind::Device => format!("device:{id}"),
    }
}

/// The user's flag counts in words: `EMPTY 1 GAP 3 DUP 2`.
#[must_use]
pub fn user_flag_words(a: &Analysis, u: UserIx) -> Vec<String> {
    let c = &a.user_counts[u];
    c.iter()
        .filter(|&(_, n)| n > 0)
        .map(|(f, n)| format!("{} {}", f.label(), count(n)))
        .collect()
}

/// Draws the users pane.
pub fn render(frame: &mut Frame<'_>, model: &Model, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.users;
    let list = view.areas.users_list;
    let focused = model.focus == Focus::Users;
    let users = &model.users;
    let listed = &model.derived.users;
    let mut title = vec![Span::styled(" Users ", t.title)];
    if let Some(a) = &model.derived.analysis {
        let shown = if users.filter.is_empty() {
            count(a.users.len() as u64)
        } else {
            format!(
                "{} of {}",
                count(listed.list.len() as u64),
                count(a.users.len() as u64)
            )
        };
        title.push(Span::styled(
            format!("{shown} · {} ", users.sort.label()),
            t.dim,
        ));
    }
    if !users.filter.is_empty() {
        title.push(Span::styled(
            format!("· id ~ '{}' ", sanitize(&users.filter)),
            t.warn,
        ));
    }
    frame.render_widget(pane(Line::from(title), focused, t), area);
    let Some(a) = &model.derived.analysis else {
        let msg = if model.is_live() && model.store.events().is_empty() {
            "waiting for events…"
        } else if model.loading() {
            "loading…"
        } else {
            "no events"
        };
        frame.render_widget(Paragraph::new(msg).style(t.dim), list);
        return;
    };
    let w = list.width as usize;
    let store = &model.store;
    // The id column is as wide as the longest id on screen, up to 40% of the pane.
    let longest = listed
        .list
        .iter()
        .skip(view.users_top)
        .take(list.height as usize)
        .map(|&u| user_label(a, store, u).chars().count())
        .max()
        .unwrap_or(4);
    let id_w = longest.clamp(4, (w * 2 / 5).max(6));
    let header = Rect::new(list.x, list.y - 1, list.width, 1);
    frame.render_widget(
        Paragraph::new(format!(
            " {} {:>6} {:>4} flags",
            pad("user", id_w),
            "events",
            "sess"
        ))
        .style(t.header),
        header,
    );
    if listed.list.is_empty() {
        let msg = if users.filter.is_empty() {
            if model.loading() {
                "loading…"
            } else {
                "no users"
            }
            .to_string()
        } else {
            format!("no user id contains '{}'", sanitize(&users.filter))
        };
        frame.render_widget(Paragraph::new(msg).style(t.dim), list);
        return;
    }
    let rows = listed
        .list
        .iter()
        .enumerate()
        .skip(view.users_top)
        .take(list.height as usize);
    for (k, (i, &u)) in rows.enumerate() {
        let user = &a.users[u];
        let events = u64::from(user.event_count());
        let sessions = user.session_count();
        let selected = i == listed.selected;
        let marker = if selected { "▶" } else { " " };
        let lead = format!(
            "{marker}{} {:>6} {:>4} ",
            pad(&user_label(a, store, u), id_w),
            count_short(events),
            count_short(sessions)
        );
        let flags = user_flag_words(a, u).join(" ");
        let mut room = w.saturating_sub(lead.chars().count());
        let mut spans = vec![Span::raw(lead)];
        if model.open_session(u).is_some() && room >= 2 {
            spans.push(Span::styled("● ", t.current));
            room -= 2;
        }
        spans.push(Span::styled(fit(&flags, room), t.flag));
        let line = Line::from(spans);
        draw_row(frame, list, k, line, t.row(selected, focused));
    }
}

/// A count in at most six characters: `12,345`, `123k`, `12M`.
fn count_short(n: u64) -> String {
    match n {
        0..=99_999 => count(n),
        100_000..=9_999_999 => format!("{}k", n / 1000),
        _ => format!("{}M", n / 1_000_000),
    }
}
