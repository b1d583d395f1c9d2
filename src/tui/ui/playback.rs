//! The playback pane (`p`), in the lower right pane in place of the event list: the
//! playhead's time and speed, the session the SDK would have open under the current
//! timeout T with its countdown to expiry (a bar and `expires in 12m03s`), the recorded
//! session next to it, then the steps so far, newest at the bottom: a session start (its
//! id is the event's time), each event landing in it, identify calls and markers (inactive:
//! they do not extend the session), out-of-session events, background events, and the
//! session's end when the countdown runs out before the next event. Where the recorded
//! stream disagrees (the SDK would have started a new session, but the recorded stream
//! kept session X; or the other way round) the step says so.
//!
//! ```text
//! ╭ Playback · alice · T 30m · Space pause · . step · [ ] speed · p stop ──────────╮
//! │ 2024-01-02 10:12:40.000 UTC   ▶ skip idle   step 5 of 9                        │
//! │ SDK session  10:00:00.000 (id 1704189600000) · 4 events, 3 active · 1st         │
//! │ expires in 24m20s ━━━━━━━━━━━━━━━━━━━━──────── at 10:37:00.000                  │
//! │ recorded     1704189600000: the same session                                   │
//! │ ─ what happened ──────────────────────────────────────────────────────────────  │
//! │ 10:00:00.000 ● start    App Opened: new session 1704189600000 · first active … │
//! │ 10:05:00.000 ○ inactive $identify: does not extend the session                  │
//! │ 10:07:00.000 · joins    Purchase +7m00s                                        │
//! ╰────────────────────────────────────────────────────────────────────────────────╯
//! ```
//!
//! The bar is drawn with line glyphs (`━` left, `─` spent), never reverse video, so it
//! reads the same with and without colour. Event types are escaped (untrusted text).

use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Theme, ViewState, fit, pane};
use crate::analysis::EventClass;
use crate::analysis::playback::{Recorded, Step, StepKind};
use crate::fmt::{duration, sanitize, setting};
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, main_scopes};
use crate::tui::model::{Focus, Model};
use crate::tui::playback::PlaybackView;
use crate::tui::zone::{Precision, Zone};

/// Panes at least this wide name each step's kind in a word (`start`, `joins`, …).
const WORDS_FROM: usize = 90;

/// Draws the playback pane.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.lower;
    let list = view.areas.lower_list;
    let focused = model.focus == Focus::Lower;
    frame.render_widget(pane(title(model, keys, t), focused, t), area);
    let lines = lines(model, list.width as usize, list.height as usize, t);
    frame.render_widget(Paragraph::new(lines), list);
}

fn title(model: &Model, keys: &Keymap, t: &Theme) -> Line<'static> {
    let scopes = main_scopes(model);
    let k = |a: Action| keys.label(a, &scopes);
    let who = model
        .derived
        .playback
        .as_ref()
        .and_then(|v| v.user_in(model.derived.analysis.as_ref()?))
        .map(|u| model.user_label(u))
        .unwrap_or_default();
    Line::from(vec![
        Span::styled(" Playback ", t.title),
        Span::styled(
            format!(
                "· {} · under T {} · {} stop ",
                fit(&who, 24),
                setting(model.rules.timeout_ms),
                k(Action::TogglePlayback),
            ),
            t.dim,
        ),
    ])
}

/// The pane's lines for a body `width` × `height`: the head, then the latest steps.
#[must_use]
pub fn lines(model: &Model, width: usize, height: usize, t: &Theme) -> Vec<Line<'static>> {
    let Some(v) = &model.derived.playback else {
        return vec![Line::styled("no playback", t.dim)];
    };
    let zone = model.zones.current();
    let mut out = head(v, model, zone, width, t);
    let done = v.done();
    let room = height.saturating_sub(out.len());
    let first = done.saturating_sub(room);
    for (i, s) in v.playback.steps[first..done].iter().enumerate() {
        let latest = first + i + 1 == done;
        out.push(step_line(v, model, s, zone, width, latest, t));
    }
    if done == 0 && room > 0 {
        out.push(Line::styled("  (nothing has happened yet)", t.dim));
    }
    out
}

fn head(
    v: &PlaybackView,
    model: &Model,
    zone: Zone,
    width: usize,
    t: &Theme,
) -> Vec<Line<'static>> {
    let p = &v.playback;
    let st = p.state_at(v.now);
    let done = v.done();
    let state = if v.finished() {
        "■ end of stream".to_string()
    } else if v.paused {
        format!("❚❚ paused ({})", v.speed().label())
    } else {
        format!("▶ {}", v.speed().label())
    };
    let next = p.next_after(v.now).map_or(String::new(), |n| {
        format!(" · next in {}", duration(n.saturating_sub(v.now)))
    });
    let clock = Line::from(vec![
        Span::styled(
            format!("{} {}", zone.format(v.now, Precision::Full), zone.label()),
            t.header,
        ),
        Span::raw("   "),
        Span::styled(state, t.current),
        Span::styled(format!("   step {done} of {}{next}", p.steps.len()), t.dim),
    ]);
    let timeout = p.timeout_ms;
    let (session, countdown) = match (st.session, st.expires_at) {
        (Some(id), Some(expires)) => {
            let remaining = st.remaining_at(v.now).unwrap_or(0);
            let label = format!("expires in {} ", duration(remaining));
            let tail = format!(" at {}", zone.format(expires, Precision::Time));
            let bar_w = width
                .saturating_sub(label.chars().count() + tail.chars().count())
                .min(40);
            let full = bar_cells(remaining, timeout, bar_w);
            (
                Line::from(vec![
                    Span::styled("SDK session  ", t.header),
                    Span::styled(zone.format(id, Precision::Time), t.bar),
                    Span::raw(format!(
                        " (id {id}) · {} events, {} active · #{}",
                        st.in_session, st.active_in_session, st.sessions
                    )),
                ]),
                Line::from(vec![
                    Span::styled(
                        label,
                        if remaining < timeout / 10 {
                            t.warn
                        } else {
                            t.text
                        },
                    ),
                    Span::styled("━".repeat(full), t.bar),
                    Span::styled("─".repeat(bar_w - full), t.dim),
                    Span::styled(tail, t.dim),
                ]),
            )
        }
        _ => (
            Line::from(vec![
                Span::styled("SDK session  ", t.header),
                Span::styled("none", t.dim),
                Span::raw(format!(
                    ": the next active in-session event starts one · {} started so far",
                    st.sessions
                )),
            ]),
            ended_line(v, zone, t),
        ),
    };
    let (recorded, style) = recorded_text(v, model, t);
    let rule = Line::styled(
        format!("─ what happened {}", "─".repeat(width.saturating_sub(16))),
        t.dim,
    );
    let mut out: Vec<Line<'static>> = [clock, session, countdown]
        .into_iter()
        .map(|l| cut(l, width))
        .collect();
    // The recorded session wraps (up to three lines) under its label.
    let label = "recorded     ";
    let body = width.saturating_sub(label.len()).max(1);
    for (i, chunk) in wrap(&recorded, body).into_iter().take(3).enumerate() {
        let head = if i == 0 {
            label.to_string()
        } else {
            " ".repeat(label.len())
        };
        out.push(cut(
            Line::from(vec![
                Span::styled(head, t.header),
                Span::styled(chunk, style),
            ]),
            width,
        ));
    }
    out.push(rule);
    out
}

/// How many of `width` cells of the countdown bar are left at `remaining` of `timeout`.
fn bar_cells(remaining: i64, timeout: i64, width: usize) -> usize {
    if timeout <= 0 {
        return 0;
    }
    let frac = i128::from(remaining.clamp(0, timeout)) * width as i128 / i128::from(timeout);
    usize::try_from(frac).unwrap_or(width).min(width)
}

/// With no session running: when and why the last one ended.
fn ended_line(v: &PlaybackView, zone: Zone, t: &Theme) -> Line<'static> {
    let done = v.done();
    let last_end = v.playback.steps[..done]
        .iter()
        .rev()
        .find(|s| s.kind == StepKind::End);
    match last_end {
        Some(s) => Line::styled(
            format!(
                "the last session ended at {}: {} without an active event",
                zone.format(s.time.saturating_sub(1), Precision::Time),
                setting(v.playback.timeout_ms)
            ),
            t.dim,
        ),
        None => Line::styled("no session yet", t.dim),
    }
}

/// The recorded session of the latest event, next to the simulated one.
fn recorded_text(v: &PlaybackView, model: &Model, t: &Theme) -> (String, Style) {
    let done = v.done();
    let latest = v.playback.steps[..done]
        .iter()
        .rev()
        .find(|s| s.input.is_some());
    let Some(s) = latest else {
        return (String::new(), t.text);
    };
    let input_rec = s
        .input
        .and_then(|i| v.events.get(i))
        .and_then(|&e| model.store.session_id(e));
    let zone = model.zones.current();
    // Compared with the session running now: after an end, nothing is.
    let st = s.state;
    let running = v.playback.state_at(v.now).session;
    let (text, style) = match (input_rec, running) {
        (None, _) => ("session_id -1: out of session".to_string(), t.warn),
        (Some(r), None) => (
            format!("{} (id {r})", zone.format(r, Precision::Time)),
            t.text,
        ),
        (Some(r), Some(sim)) => {
            let at = zone.format(sim, Precision::Seconds);
            if matches!(s.recorded, Recorded::KeptAlive(_)) {
                (
                    format!(
                        "{r}: the recorded stream kept this session alive through this inactive event"
                    ),
                    t.warn,
                )
            } else if st.merged > 0 && st.first_recorded != Some(r) {
                (
                    format!(
                        "{r}: merged under T into the SDK session of {at}; new in the recorded stream ({} recorded merged)",
                        st.merged + 1
                    ),
                    t.warn,
                )
            } else if st.split_start {
                (
                    format!(
                        "{r}: kept by the recorded stream, but the SDK starts a new session at {at}"
                    ),
                    t.warn,
                )
            } else if st.first_recorded == Some(r) {
                (
                    format!(
                        "{} (id {r}): the same session so far",
                        zone.format(r, Precision::Time)
                    ),
                    t.text,
                )
            } else {
                (
                    format!("{} (id {r})", zone.format(r, Precision::Time)),
                    t.text,
                )
            }
        }
    };
    (text, style)
}

/// `text` broken at spaces into lines of at most `width` cells (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let need = super::cells(&line) + usize::from(!line.is_empty()) + super::cells(word);
        if !line.is_empty() && need > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// One step of the log.
fn step_line(
    v: &PlaybackView,
    model: &Model,
    s: &Step,
    zone: Zone,
    width: usize,
    latest: bool,
    t: &Theme,
) -> Line<'static> {
    let ev = s
        .input
        .and_then(|i| v.events.get(i))
        .and_then(|&e| model.store.events().get(e.idx()));
    let name = ev.map_or(String::new(), |e| {
        sanitize(model.store.strings.get(e.event_type)).into_owned()
    });
    let class = ev.map(|e| {
        model
            .derived
            .analysis
            .as_ref()
            .map_or(EventClass::Active, |a| a.class(e.event_type))
    });
    let timeout = setting(v.playback.timeout_ms);
    let (mark, word, style, what): (&str, &str, Style, String) = match s.kind {
        StepKind::Start { idle_ms } => {
            let why = match idle_ms {
                None => "first active event".to_string(),
                Some(ms) => format!("idle {} > {timeout}", duration(ms)),
            };
            (
                "●",
                "start",
                t.bar,
                format!("{name}: new session {} · {why}", s.time),
            )
        }
        StepKind::Join { since_ms } => (
            "·",
            "joins",
            t.text,
            format!("{name} +{}", duration(since_ms)),
        ),
        StepKind::Inactive => {
            let kind = match class {
                Some(EventClass::StartMarker | EventClass::EndMarker) => "marker",
                _ if crate::analysis::IDENTIFY_TYPES.contains(&name.as_str()) => "identify",
                _ => "inactive type",
            };
            let extent = if s.session.is_some() {
                "does not extend the session"
            } else {
                "starts no session"
            };
            ("○", "inactive", t.dim, format!("{name} ({kind}): {extent}"))
        }
        StepKind::OutOfSession => (
            "•",
            "no sess.",
            t.warn,
            format!("{name}: session_id -1, in no session; countdown untouched"),
        ),
        StepKind::End => (
            "■",
            "end",
            t.flag,
            format!(
                "session {} over: {timeout} without an active event",
                s.session.map_or(String::new(), |id| id.to_string())
            ),
        ),
    };
    let mut note = match s.recorded {
        Recorded::KeptSession(r) => format!(" · recorded kept {r}: split at T"),
        Recorded::NewSession(r) => format!(" · recorded started {r}: merged at T"),
        Recorded::KeptAlive(r) => format!(" · recorded kept {r} alive through it"),
        Recorded::None | Recorded::Agrees => String::new(),
    };
    if s.background {
        note.push_str(" · background event: extends the session");
    }
    let time = zone.format(
        if s.kind == StepKind::End {
            s.time.saturating_sub(1)
        } else {
            s.time
        },
        Precision::Time,
    );
    let line = Line::from(vec![
        Span::styled(format!("{time} "), if latest { t.current } else { t.dim }),
        // Narrow panes keep the mark and drop the word: the text says what happened.
        Span::styled(
            if width >= WORDS_FROM {
                format!("{mark} {word:<8} ")
            } else {
                format!("{mark} ")
            },
            style,
        ),
        Span::raw(what),
        Span::styled(note, t.warn),
    ]);
    cut(line, width)
}

/// `line` cut to `width` display cells (the last span cut with `…`).
fn cut(line: Line<'static>, width: usize) -> Line<'static> {
    let mut used = 0;
    let mut spans = Vec::new();
    for span in line.spans {
        let w = super::cells(&span.content);
        if used + w <= width {
            used += w;
            spans.push(span);
            continue;
        }
        let room = width.saturating_sub(used);
        if room > 0 {
            spans.push(Span::styled(fit(&span.content, room), span.style));
        }
        break;
    }
    Line::from(spans)
}
