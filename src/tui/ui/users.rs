//! The users pane: every user by identity (user id first, then Amplitude id and devices),
//! with events, sessions and flag counts, sorted (triage severity, most events, most
//! recent) and filtered by any of the user's ids or by a finding. Only the rows on screen
//! are formatted.
//!
//! The flags are ordered by severity and have priority over the id column: whole words
//! when they fit (`SUSPECT ID 4 EMPTY 1`), else codes (`SID4 EMP1`, listed in the help);
//! never cut mid-word (`…+2` counts what is left out). Live, a column of its own left of
//! the id marks with `●` a user whose latest session is still open.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ViewState, cells, draw_row, fit, pad, pane};
use crate::analysis::{Analysis, Flag, KeyKind, severity};
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

/// A flag's short code for the users pane when full words do not fit (listed in the
/// help): `SID EMP ZER BRG GAP UNT DUP NOS EPC BKG`.
#[must_use]
pub fn flag_code(f: Flag) -> &'static str {
    match f {
        Flag::SuspectId => "SID",
        Flag::Empty => "EMP",
        Flag::ZeroLength => "ZER",
        Flag::Bridged => "BRG",
        Flag::Gap => "GAP",
        Flag::Unterminated => "UNT",
        Flag::Duplicate => "DUP",
        Flag::NoSession => "NOS",
        Flag::EndPropsChanged => "EPC",
        Flag::Background => "BKG",
    }
}

/// The user's flags with their counts, the most severe first
/// ([`crate::analysis::severity`]; ties in the model's flag order).
#[must_use]
pub fn user_flags(a: &Analysis, u: UserIx) -> Vec<(Flag, u64)> {
    let mut flags: Vec<(Flag, u64)> = a.user_counts[u].iter().filter(|&(_, n)| n > 0).collect();
    flags.sort_by(|x, y| severity(y.0).total_cmp(&severity(x.0)));
    flags
}

/// The user's flag counts in words, the most severe first: `EMPTY 1 GAP 3 DUP 2`.
#[must_use]
pub fn user_flag_words(a: &Analysis, u: UserIx) -> Vec<String> {
    user_flags(a, u)
        .into_iter()
        .map(|(f, n)| format!("{} {}", f.label(), count(n)))
        .collect()
}

/// The flags in `width` cells: whole words (`SUSPECT ID 4`) or codes (`SID4`), never
/// cut mid-word: what does not fit is counted as `…+2`.
#[must_use]
pub fn flags_text(flags: &[(Flag, u64)], codes: bool, width: usize) -> String {
    let words: Vec<String> = flags
        .iter()
        .map(|&(f, n)| {
            if codes {
                format!("{}{}", flag_code(f), count_short(n))
            } else {
                format!("{} {}", f.label(), count(n))
            }
        })
        .collect();
    let all = words.join(" ");
    if cells(&all) <= width {
        return all;
    }
    let mut out = String::new();
    for (k, w) in words.iter().enumerate() {
        let more = format!("…+{}", words.len() - k - 1);
        let sep = usize::from(!out.is_empty());
        let last = k + 1 == words.len();
        let need = cells(&out) + sep + cells(w) + if last { 0 } else { 1 + cells(&more) };
        if need > width {
            let rest = format!("…+{}", words.len() - k);
            let sep = if out.is_empty() { "" } else { " " };
            let candidate = format!("{out}{sep}{rest}");
            return if cells(&candidate) <= width {
                candidate
            } else {
                fit(&candidate, width)
            };
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Cells of the users pane's columns before the flags, besides the id: the selection
/// marker, the live marker when live, the events count unless the pane is narrow, and
/// the sessions count.
fn lead_cells(live: bool, events: bool) -> usize {
    1 + usize::from(live) + 1 + if events { 7 } else { 0 } + 4 + 1
}

/// Below this many cells the users pane leaves out the events column (the flags and the
/// id need the room more).
const EVENTS_COLUMN_FROM: usize = 40;

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
        let shown = if listed.list.len() == a.users.len() {
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
    if let Some(f) = users.finding {
        title.push(Span::styled(format!("· with {} ", f.label()), t.warn));
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
    let live = model.is_live();
    let on_screen: Vec<UserIx> = listed
        .list
        .iter()
        .skip(view.users_top)
        .take(list.height as usize)
        .copied()
        .collect();
    let labels: Vec<String> = on_screen.iter().map(|&u| model.user_label(u)).collect();
    let flags: Vec<Vec<(Flag, u64)>> = on_screen.iter().map(|&u| user_flags(a, u)).collect();
    // The flags have priority over the id: the id column keeps at least 12 cells (or the
    // longest id on screen, when shorter), the flags take what they need of the rest.
    let with_events = w >= EVENTS_COLUMN_FROM;
    let lead = lead_cells(live, with_events);
    let longest = labels.iter().map(|l| cells(l)).max().unwrap_or(4).max(4);
    let min_id = longest.min(if with_events { 10 } else { 8 });
    let flag_room = w.saturating_sub(lead + min_id);
    let need = |codes: bool| {
        flags
            .iter()
            .map(|f| cells(&flags_text(f, codes, usize::MAX)))
            .max()
            .unwrap_or(0)
    };
    // Whole words only when the id keeps 20 cells (or all it needs) beside them.
    let words_room = w.saturating_sub(lead + longest.min(20).max(min_id));
    let codes = need(false) > words_room;
    // What the flags take once cut to their room; the id column gets the rest.
    let flags_w = flags
        .iter()
        .map(|f| cells(&flags_text(f, codes, flag_room)))
        .max()
        .unwrap_or(0)
        .max("flags".len().min(flag_room));
    let id_w = longest
        .min(w.saturating_sub(lead + flags_w))
        .max(min_id.min(w));
    let header = Rect::new(list.x, list.y - 1, list.width, 1);
    frame.render_widget(
        Paragraph::new(format!(
            " {}{} {}{:>4} flags",
            if live { " " } else { "" },
            pad("user", id_w),
            if with_events { "events " } else { "" },
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
            format!(
                "no user, device or Amplitude id contains '{}'",
                sanitize(&users.filter)
            )
        };
        frame.render_widget(Paragraph::new(msg).style(t.dim), list);
        return;
    }
    let first = view.users_top;
    for (k, &u) in on_screen.iter().enumerate() {
        let user = &a.users[u];
        let events = u64::from(user.event_count());
        let sessions = user.session_count();
        let selected = first + k == listed.selected;
        let marker = if selected { "▶" } else { " " };
        let mut spans = vec![Span::raw(marker)];
        if live {
            if model.open_session(u).is_some() {
                spans.push(Span::styled("●", t.current));
            } else {
                spans.push(Span::raw(" "));
            }
        }
        let events = if with_events {
            format!("{:>6} ", count_short(events))
        } else {
            String::new()
        };
        let rest = format!(
            "{} {events}{:>4} ",
            pad(&labels[k], id_w),
            count_short(sessions)
        );
        let room = w.saturating_sub(lead + id_w);
        spans.push(Span::raw(rest));
        spans.push(Span::styled(flags_text(&flags[k], codes, room), t.flag));
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
