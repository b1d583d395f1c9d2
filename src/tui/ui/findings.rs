//! The findings overlay (`i`), as Microscope opens on its findings: what is wrong with
//! the whole input, in one screen. One line per flag of the model, the most severe first
//! (its count, how many users carry it, what it means; the selected one also gives its
//! likely cause, in the report's words), then one line per kind of rejected record and
//! one for the unusable session ids. Enter on a flag narrows the users pane to the users
//! carrying it; from there Enter, `e`/`E` walk their flagged sessions and events.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{ViewState, fit, pad, pane};
use crate::analysis::{Flag, severity};
use crate::decode::RejectKind;
use crate::fmt::count;
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Scope, overlay_scopes};
use crate::tui::model::Model;

/// One finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A flag of the model.
    Flag(Flag),
    /// A kind of rejected record.
    Rejected(RejectKind),
    /// Events whose `session_id` could not be used.
    SessionIdWarnings,
}

/// The findings listed: every flag (those found first, the most severe first), then the
/// kinds of rejected records found, then the session-id warnings when there are any.
#[must_use]
pub fn list(model: &Model) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(a) = &model.derived.analysis else {
        return out;
    };
    let mut flags = Flag::ALL;
    flags.sort_by(|&x, &y| {
        (a.summary.counts[y] > 0)
            .cmp(&(a.summary.counts[x] > 0))
            .then(severity(y).total_cmp(&severity(x)))
    });
    out.extend(flags.into_iter().map(Finding::Flag));
    let store = &model.store;
    out.extend(
        store
            .reject_counts
            .iter()
            .filter(|&(_, n)| n > 0)
            .map(|(k, _)| Finding::Rejected(k)),
    );
    if store.warning_count > 0 {
        out.push(Finding::SessionIdWarnings);
    }
    out
}

/// What a kind of rejected record is, in words.
#[must_use]
pub fn reject_words(kind: RejectKind) -> &'static str {
    match kind {
        RejectKind::InvalidJson => "not valid JSON",
        RejectKind::NotObject => "not an event object",
        RejectKind::MissingEventType => "no event_type",
        RejectKind::MissingIdentity => "no user_id, device_id or amplitude_id",
        RejectKind::MissingTime => "no event time",
        RejectKind::InvalidTime => "an event time that is not a time",
    }
}

/// The lines of one finding: the summary, and for the selected one its likely cause.
fn lines(model: &Model, f: Finding, selected: bool, width: usize) -> Vec<String> {
    let Some(a) = &model.derived.analysis else {
        return Vec::new();
    };
    let store = &model.store;
    match f {
        Finding::Flag(flag) => {
            let n = a.summary.counts[flag];
            let users = a.users_per_flag()[flag as usize];
            let unit = flag.unit().noun();
            let unit = if n == 1 {
                unit.trim_end_matches('s')
            } else {
                unit
            };
            let carriers = format!("{} user{}", count(users), if users == 1 { "" } else { "s" });
            let head = format!(
                "{} {:>9} {} {:>10}  ",
                pad(flag.label(), 12),
                count(n),
                pad(unit, 8),
                carriers,
            );
            if !selected {
                return vec![format!("{head}{}", flag.meaning())];
            }
            // The selected finding is written out in full: its meaning and likely cause
            // wrapped under the text column.
            let indent = head.chars().count().min(width / 2);
            let room = width.saturating_sub(indent + 1).max(20);
            let mut out = Vec::new();
            let on_head = indent == head.chars().count();
            if !on_head {
                out.push(head.trim_end().to_string());
            }
            for (k, line) in super::wrap_words(flag.meaning(), room)
                .into_iter()
                .chain(super::wrap_words(
                    &format!("likely cause: {}", flag.cause()),
                    room,
                ))
                .chain(
                    flag.fix()
                        .map(|f| super::wrap_words(&format!("fix: {f}"), room))
                        .unwrap_or_default(),
                )
                .enumerate()
            {
                if k == 0 && on_head {
                    out.push(format!("{head}{line}"));
                } else {
                    out.push(format!("{}{line}", " ".repeat(indent)));
                }
            }
            out
        }
        Finding::Rejected(kind) => vec![format!(
            "{} {:>9} {} {:>10}  {}",
            pad("REJECTED", 12),
            count(store.reject_counts[kind]),
            pad(
                if store.reject_counts[kind] == 1 {
                    "record"
                } else {
                    "records"
                },
                8
            ),
            "",
            reject_words(kind)
        )],
        Finding::SessionIdWarnings => vec![format!(
            "{} {:>9} {} {:>10}  {}",
            pad("BAD SESS ID", 12),
            count(store.warning_count),
            pad(
                if store.warning_count == 1 {
                    "event"
                } else {
                    "events"
                },
                8
            ),
            "",
            "a session_id that is neither an integer nor a numeric string: counted out of session"
        )],
    }
}

/// Draws the findings overlay.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.overlay;
    let body = view.areas.overlay_body;
    frame.render_widget(Clear, area);
    let scopes = overlay_scopes(Scope::Findings);
    let title = Line::from(vec![
        Span::styled(" Findings ", t.title),
        Span::styled(
            format!(
                "· {} the users with it · {} closes ",
                keys.label(Action::Open, &scopes),
                keys.labels(Action::CloseOverlay, &scopes, " or ")
            ),
            t.dim,
        ),
    ]);
    frame.render_widget(pane(title, true, t), area);
    let w = body.width as usize;
    let Some(a) = &model.derived.analysis else {
        frame.render_widget(Paragraph::new("no analysis yet").style(t.dim), body);
        return;
    };
    let mut out: Vec<Line<'static>> = vec![Line::styled(
        fit(
            &format!(
                " {:<12} {:>9} {:<8} {:>10}  what it means",
                "finding", "count", "of", "carried by"
            ),
            w,
        ),
        t.header,
    )];
    let found = list(model);
    let selected = model.findings_selected.min(found.len().saturating_sub(1));
    let mut selected_line = 0;
    for (i, &f) in found.iter().enumerate() {
        let sel = i == selected;
        if sel {
            selected_line = out.len();
        }
        let quiet = matches!(f, Finding::Flag(flag) if a.summary.counts[flag] == 0);
        for (k, text) in lines(model, f, sel, w).into_iter().enumerate() {
            let text = fit(
                &format!("{}{text}", if sel && k == 0 { "▶" } else { " " }),
                w,
            );
            let style = if sel {
                t.selected
            } else if quiet {
                t.dim
            } else if k == 0 {
                t.text
            } else {
                t.dim
            };
            out.push(Line::styled(pad(&text, w), style));
        }
    }
    let h = body.height as usize;
    let top = selected_line.saturating_sub(h.saturating_sub(2));
    let shown: Vec<Line<'static>> = out.into_iter().skip(top).take(h).collect();
    frame.render_widget(Paragraph::new(shown), body);
}
