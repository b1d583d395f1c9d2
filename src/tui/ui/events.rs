//! The event stream of the selected user, Microscope / User Look-Up style: events grouped
//! under session header rows (start, length and span, event count, flags in words),
//! out-of-session events standalone. Each event row shows its time, type, flags and a few
//! key properties (read from the raw JSON of the rows on screen only, before drawing).
//!
//! Live: the header of the user's open session counts down to its timeout
//! (`open · ends in 12:03`, from [`Model::now_ms`]), and the title says whether follow
//! mode is on, or, paused, how many events arrived since (`▼ 12 new events · F to
//! follow`, naming the follow key of the key table).

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ViewState, draw_row, fit, flag_spans, pad, pane, session_flag_words};
use crate::analysis::{Analysis, EventClass, Flag, NO_SESSION};
use crate::fmt::{count, duration, sanitize, setting};
use crate::index::{Pos, SessionIx};
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, main_scopes};
use crate::tui::live_view::{Follow, countdown};
use crate::tui::model::{Focus, Model};
use crate::tui::rows::Row;
use crate::tui::zone::{Precision, Zone};

/// A session's start as shown in headers: its id as a time when it reads as one.
#[must_use]
pub fn session_start(id: i64, zone: Zone) -> String {
    if crate::fmt::is_plausible_time(id) {
        zone.format(id, Precision::Full)
    } else {
        format!("id {id}")
    }
}

/// Flag words of one event: `NO SESSION`, `DUP`, `GAP 7m12s` (gap since the previous
/// event of its session).
#[must_use]
pub fn event_flag_words(a: &Analysis, pos: Pos, gap_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    if a.pos_session[pos] == NO_SESSION {
        out.push(Flag::NoSession.label().to_string());
    }
    if gap_ms > a.rules.gap_ms {
        out.push(format!("{} {}", Flag::Gap.label(), duration(gap_ms)));
    }
    if a.is_duplicate(a.order[pos]) {
        out.push(Flag::Duplicate.label().to_string());
    }
    out
}

/// Replay words of a recorded session at the current timeout: `SPLIT@30m`, `MERGED@30m`.
#[must_use]
pub fn replay_words(a: &Analysis, session: SessionIx) -> Vec<String> {
    let t = setting(a.replay.timeout_ms);
    let mut out = Vec::new();
    if a.replay.split.binary_search(&session).is_ok() {
        out.push(format!("SPLIT@{t}"));
    }
    if a.replay.merged.binary_search(&session).is_ok() {
        out.push(format!("MERGED@{t}"));
    }
    out
}

/// Draws the event list.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.lower;
    let list = view.areas.lower_list;
    let focused = model.focus == Focus::Lower;
    let ev = &model.events;
    let listed = &model.derived.events;
    let mut title = vec![Span::styled(" Events ", t.title)];
    let a = model.derived.analysis.as_ref();
    if let (Some(_), Some(u)) = (a, model.selected_user()) {
        let user = model.user_label(u);
        let room = (area.width as usize * 2 / 5).max(24);
        title.push(Span::styled(
            format!("· {} · {} · ", fit(&user, room), ev.order.label()),
            t.dim,
        ));
        let n = listed.rows.len();
        title.push(Span::styled(
            format!(
                "row {} of {} ",
                count((listed.selected + 1).min(n) as u64),
                count(n as u64)
            ),
            t.dim,
        ));
    }
    if !ev.type_filter.is_empty() {
        title.push(Span::styled(
            format!("· type ~ '{}' ", sanitize(&ev.type_filter)),
            t.warn,
        ));
    }
    if !ev.search.is_empty() {
        title.push(Span::styled(
            format!("· search '{}' ", fit(&sanitize(&ev.search), 20)),
            t.dim,
        ));
    }
    let block = match model.follow {
        Follow::Off => pane(Line::from(title), focused, t),
        Follow::On => pane(Line::from(title), focused, t)
            .title(Line::styled(" ● following ", t.dim).right_aligned()),
        Follow::Paused { .. } => {
            let n = model.new_since_pause();
            let follow = keys.label(Action::ToggleFollow, &main_scopes(model));
            let badge = if n == 0 {
                format!(" paused · {follow} to follow ")
            } else {
                format!(
                    " ▼ {} new event{} · {follow} to follow ",
                    count(n as u64),
                    if n == 1 { "" } else { "s" }
                )
            };
            pane(Line::from(title), focused, t).title(Line::styled(badge, t.warn).right_aligned())
        }
    };
    frame.render_widget(block, area);
    let Some(a) = a else {
        frame.render_widget(Paragraph::new("loading…").style(t.dim), list);
        return;
    };
    if listed.rows.is_empty() {
        let msg = if ev.type_filter.is_empty() {
            "no user selected".to_string()
        } else {
            format!("no event type contains '{}'", sanitize(&ev.type_filter))
        };
        frame.render_widget(Paragraph::new(msg).style(t.dim), list);
        return;
    }
    let w = list.width as usize;
    let zone = model.zones.current();
    let wide = w >= 90;
    // The type column fits the longest type on screen, up to 40% of the pane.
    let longest = listed
        .rows
        .iter()
        .skip(view.events_top)
        .take(list.height as usize)
        .filter_map(|r| match r {
            Row::Event { pos, .. } => {
                let rec = &model.store.events()[a.order[*pos]];
                Some(
                    sanitize(model.store.strings.get(rec.event_type))
                        .chars()
                        .count(),
                )
            }
            Row::Session { .. } => None,
        })
        .max()
        .unwrap_or(8);
    let type_w = longest.clamp(8, (w * 2 / 5).max(12));
    let open = model.selected_user().and_then(|u| model.open_session(u));
    let rows = listed
        .rows
        .iter()
        .enumerate()
        .skip(view.events_top)
        .take(list.height as usize);
    for (k, (i, row)) in rows.enumerate() {
        let selected = i == listed.selected;
        let line = match *row {
            Row::Session { session, shown } => {
                let s = &a.sessions[session];
                let noun = if s.events == 1 { "event" } else { "events" };
                let events = if shown == s.events {
                    format!("{} {noun}", count(u64::from(s.events)))
                } else {
                    format!(
                        "{} of {} {noun}",
                        count(u64::from(shown)),
                        count(u64::from(s.events))
                    )
                };
                let mut spans = vec![Span::styled(
                    format!("▾ {}", session_start(s.id, zone)),
                    t.header,
                )];
                if let Some(o) = open.filter(|o| o.session == session) {
                    spans.push(Span::styled(
                        format!(" open · ends in {}", countdown(o.ends_in_ms)),
                        t.current,
                    ));
                }
                spans.extend(flag_spans(&session_flag_words(s), t.flag));
                spans.extend(flag_spans(&replay_words(a, session), t.warn));
                spans.push(Span::styled(
                    format!(
                        " · {events} · length {} · span {}",
                        duration(s.length_ms()),
                        duration(s.span_ms()),
                    ),
                    t.header,
                ));
                Line::from(spans)
            }
            Row::Event { pos, gap_ms } => {
                let e = a.order[pos];
                let rec = &model.store.events()[e];
                let out = a.pos_session[pos] == NO_SESSION;
                let lead = if out { "• " } else { "  " };
                let precision = match (wide, out) {
                    (true, _) | (false, true) => Precision::NoYear,
                    (false, false) => Precision::Time,
                };
                let class = a.class(rec.event_type);
                let type_style = if class == EventClass::Active {
                    t.text
                } else {
                    t.dim
                };
                let name = sanitize(model.store.strings.get(rec.event_type));
                let mut spans = vec![
                    Span::raw(format!("{lead}{} ", zone.format(rec.time, precision))),
                    Span::styled(pad(&name, type_w), type_style),
                    Span::raw(" "),
                ];
                let words = event_flag_words(a, pos, gap_ms);
                spans.push(Span::styled(words.join(" "), t.flag));
                if let Some(p) = model.derived.props.get(&e)
                    && !p.is_empty()
                {
                    spans.push(Span::raw("  "));
                    spans.push(Span::styled(p.to_string(), t.dim));
                }
                Line::from(spans)
            }
        };
        draw_row(frame, list, k, line, t.row(selected, focused));
    }
}
