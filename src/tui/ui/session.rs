//! The session detail overlay (Enter on a session header): one recorded session written
//! out in full, from [`crate::analysis::SessionDetail`] (computed when it opens, so this
//! only formats).
//!
//! ```text
//! ╭ Session 1793192429 · alice · Esc closes · j/k scroll ─────────────────────────────╮
//! │ id          1793192429  SUSPECT ID: looks like seconds: 2026-10-28 13:00:29         │
//! │ first event 2026-10-28 13:00:29.731  view                                          │
//! │ last event  2026-10-28 13:40:02.000  buy                                           │
//! │ length      20733d18h  last event − session id (Amplitude's formula)               │
//! │ span        39m33s  last event − first event                                       │
//! │ events      12: 9 active, 2 markers, 1 identify or inactive                         │
//! │ markers     start ✓ session_start · end ✗ none                                     │
//! │ duplicates  1                                                                      │
//! │   13:02:00.000  buy                                                                │
//! │ gaps > 5m   1                                                                      │
//! │   11m00s  13:01:00.000 click → 13:12:00.000 buy                                    │
//! │ replay 30m  1 replayed session (current timeout)                                   │
//! │   13:00:29 – 13:26:00  6 active events, 4 of this session · merged with 1 other    │
//! │ flags                                                                              │
//! │   GAP        places where two consecutive events of one session are further …      │
//! ╰────────────────────────────────────────────────────────────────────────────────────╯
//! ```
//!
//! Times are in the current zone ([`crate::tui::zone`]); a suspect id says what it looks
//! like ([`crate::analysis::id_reading`]). Event types are untrusted text: sanitised.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Theme, ViewState, fit, pane};
use crate::analysis::{
    Analysis, EventAt, Flag, IdReading, ReplayedAt, Session, SessionDetail, id_reading,
};
use crate::fmt::{count, duration, sanitize, setting};
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, Scope, overlay_scopes};
use crate::tui::model::Model;
use crate::tui::zone::{Precision, Zone};

/// Width of the label column.
const LABEL: usize = 12;

/// A time as the detail shows it: date and time to the ms in `zone`.
fn when(zone: Zone, ms: i64) -> String {
    zone.format(ms, Precision::Full)
}

/// A time to the second (`.000` dropped when the ms are 0).
fn when_seconds(zone: Zone, ms: i64) -> String {
    let full = when(zone, ms);
    full.strip_suffix(".000")
        .map(str::to_string)
        .unwrap_or(full)
}

/// A time within the session's listing: the time of day alone when it falls on the
/// date of `day` (the session's first event, shown in full above), else date and time.
fn short(zone: Zone, ms: i64, day: i64) -> String {
    if zone.format(ms, Precision::Date) == zone.format(day, Precision::Date) {
        zone.format(ms, Precision::Time)
    } else {
        when(zone, ms)
    }
}

/// How a session id reads, in words: `looks like seconds: 2026-10-28 13:00:29`.
#[must_use]
pub fn id_words(zone: Zone, id: i64, first: i64) -> String {
    match id_reading(id, first) {
        IdReading::Plausible => when(zone, id),
        IdReading::Seconds { ms } => format!("looks like seconds: {}", when_seconds(zone, ms)),
        IdReading::Micros { ms } => {
            format!("looks like microseconds: {}", when_seconds(zone, ms))
        }
        IdReading::AfterFirstEvent { by_ms } => {
            format!("starts {} after its first event", duration(by_ms))
        }
        IdReading::LongBefore { lead_ms } => {
            format!("{} before its first event", duration(lead_ms))
        }
    }
}

struct Out<'t> {
    lines: Vec<Line<'static>>,
    width: usize,
    t: &'t Theme,
}

impl Out<'_> {
    /// A labelled line: the label, then spans.
    fn row(&mut self, label: &str, spans: Vec<Span<'static>>) {
        let mut all = vec![Span::styled(format!("{label:<LABEL$}"), self.t.header)];
        all.extend(spans);
        self.lines.push(Line::from(all));
    }

    /// An indented line under a label.
    fn item(&mut self, spans: Vec<Span<'static>>) {
        let mut all = vec![Span::raw("  ")];
        all.extend(spans);
        self.lines.push(Line::from(all));
    }
}

fn event_words(model: &Model, zone: Zone, e: EventAt) -> String {
    format!(
        "{}  {}",
        when(zone, e.time),
        sanitize(model.store.strings.get(e.event_type))
    )
}

/// An event inside a listing: its time (short, see [`short`]) and type.
fn event_short(model: &Model, zone: Zone, e: EventAt, day: i64) -> String {
    format!(
        "{} {}",
        short(zone, e.time, day),
        sanitize(model.store.strings.get(e.event_type))
    )
}

/// The lines of the session detail at `width` (all of them; the overlay scrolls).
#[must_use]
pub fn lines(model: &Model, width: u16, t: &Theme) -> Vec<Line<'static>> {
    let mut out = Out {
        lines: Vec::new(),
        width: width as usize,
        t,
    };
    let (Some(a), Some(v)) = (&model.derived.analysis, &model.derived.session) else {
        return out.lines;
    };
    let d = &v.detail;
    let Some(s) = a.sessions.get(d.session.idx()) else {
        return out.lines;
    };
    let zone = model.zones.current();
    facts(&mut out, model, a, s, d, v.end_props.as_ref(), zone);
    out.lines
}

fn facts(
    out: &mut Out<'_>,
    model: &Model,
    a: &Analysis,
    s: &Session,
    d: &SessionDetail,
    end_props: Option<&crate::source::raw::EndPropsDiff>,
    zone: Zone,
) {
    let t = out.t;
    // The id and what it reads as.
    let mut id = vec![Span::styled(s.id.to_string(), t.text)];
    if s.has(Flag::SuspectId) {
        id.push(Span::styled("  SUSPECT ID: ", t.flag));
        id.push(Span::styled(id_words(zone, s.id, s.first), t.warn));
    } else {
        id.push(Span::styled(format!("  {}", when(zone, s.id)), t.dim));
    }
    id.push(Span::styled(format!("  ({})", zone.label()), t.dim));
    out.row("id", id);
    out.row(
        "first event",
        vec![Span::styled(event_words(model, zone, d.first), t.text)],
    );
    out.row(
        "last event",
        vec![Span::styled(event_words(model, zone, d.last), t.text)],
    );
    out.row(
        "length",
        vec![
            Span::styled(duration(s.length_ms()), t.text),
            Span::styled("  last event − session id (Amplitude's formula)", t.dim),
        ],
    );
    out.row(
        "span",
        vec![
            Span::styled(duration(s.span_ms()), t.text),
            Span::styled("  last event − first event", t.dim),
        ],
    );
    background_row(out, s);
    let markers = d.start_markers + d.end_markers;
    out.row(
        "events",
        vec![Span::styled(
            format!(
                "{}: {} active, {} marker{}, {} identify or inactive",
                count(u64::from(s.events)),
                count(u64::from(s.active)),
                count(u64::from(markers)),
                if markers == 1 { "" } else { "s" },
                count(u64::from(d.other_inactive))
            ),
            if s.active == 0 { t.flag } else { t.text },
        )],
    );
    let mark = |n: u32| {
        if n > 0 {
            format!("yes ({n})")
        } else {
            "no".to_string()
        }
    };
    out.row(
        "markers",
        vec![Span::styled(
            format!(
                "session start {} · session end {}",
                mark(d.start_markers),
                mark(d.end_markers)
            ),
            t.text,
        )],
    );
    end_props_rows(out, model, end_props, zone, d.first.time);
    // Duplicates.
    out.row(
        "duplicates",
        vec![Span::styled(
            count(d.duplicates.len() as u64),
            if d.duplicates.is_empty() {
                t.dim
            } else {
                t.flag
            },
        )],
    );
    let day = d.first.time;
    for &e in &d.duplicates {
        out.item(vec![Span::styled(event_short(model, zone, e, day), t.text)]);
    }
    // Gaps.
    out.row(
        &format!("gaps > {}", setting(a.rules.gap_ms)),
        vec![Span::styled(
            count(d.gaps.len() as u64),
            if d.gaps.is_empty() { t.dim } else { t.flag },
        )],
    );
    for g in &d.gaps {
        out.item(vec![
            Span::styled(format!("{:>8}", duration(g.ms())), t.flag),
            Span::styled(
                format!(
                    "  {} → {}",
                    event_short(model, zone, g.from, day),
                    event_short(model, zone, g.to, day)
                ),
                t.text,
            ),
        ]);
    }
    // Replay.
    for (k, r) in d.replayed.iter().enumerate() {
        replay_lines(out, a, r, k == 0, zone, day);
    }
    // Flags.
    let flags = s.flag_list();
    if flags.is_empty() {
        out.row("flags", vec![Span::styled("none", t.dim)]);
    } else {
        out.row("flags", Vec::new());
        let room = out.width.saturating_sub(2 + 13).max(10);
        for f in flags {
            let text = match f.fix() {
                Some(fix) => format!("{}. Fix: {fix}", f.meaning()),
                None => f.meaning().to_string(),
            };
            for (k, part) in super::wrap_words(&text, room).into_iter().enumerate() {
                let label = if k == 0 { f.label() } else { "" };
                out.item(vec![
                    Span::styled(format!("{label:<13}"), t.flag),
                    Span::styled(part, t.text),
                ]);
            }
        }
    }
}

/// Time in the background, with the foreground time, under the length and span.
fn background_row(out: &mut Out<'_>, s: &Session) {
    let t = out.t;
    // Only where events were tracked in the background: a session opened from the
    // background has a few milliseconds before its Application Opened, which is noise.
    if s.background > 0 {
        out.row(
            "background",
            vec![
                Span::styled(
                    duration(s.background_ms),
                    if s.background > 0 { t.flag } else { t.text },
                ),
                Span::styled(
                    format!(
                        " in the background · foreground {} · {} background event{}",
                        duration(s.foreground_ms()),
                        count(u64::from(s.background)),
                        if s.background == 1 { "" } else { "s" }
                    ),
                    t.text,
                ),
            ],
        );
    }
}

/// Which user properties the end marker changed (sessions flagged `end_props_changed`).
fn end_props_rows(
    out: &mut Out<'_>,
    model: &Model,
    end_props: Option<&crate::source::raw::EndPropsDiff>,
    zone: Zone,
    day: i64,
) {
    let t = out.t;
    let Some(d) = end_props else {
        return;
    };
    let events = model.store.events();
    let at = |e: crate::index::EventIx| EventAt {
        event: e,
        time: events[e.idx()].time,
        event_type: events[e.idx()].event_type,
    };
    out.row(
        "end props",
        vec![
            Span::styled(
                event_short(model, zone, at(d.pair.last_active), day),
                t.text,
            ),
            Span::styled(" → ", t.dim),
            Span::styled(event_short(model, zone, at(d.pair.end_marker), day), t.text),
        ],
    );
    match &d.changes {
        Ok(changes) => {
            let value = |v: &Option<String>| {
                v.as_deref()
                    .map_or_else(|| "(absent)".to_string(), |t| sanitize(t).into_owned())
            };
            for c in changes {
                out.item(vec![
                    Span::styled(format!("{}  ", sanitize(&c.property)), t.flag),
                    Span::styled(value(&c.old), t.text),
                    Span::styled(" → ", t.dim),
                    Span::styled(value(&c.new), t.warn),
                ]);
            }
        }
        Err(why) => out.item(vec![Span::styled(why.clone(), t.dim)]),
    }
}

fn replay_lines(
    out: &mut Out<'_>,
    a: &Analysis,
    r: &ReplayedAt,
    current: bool,
    zone: Zone,
    day: i64,
) {
    let t = out.t;
    let n = r.parts.len();
    let why = if current {
        "current timeout".to_string()
    } else if r.timeout_ms == 5 * crate::analysis::MINUTE_MS {
        "mobile SDKs' default".to_string()
    } else {
        "browser SDK's default".to_string()
    };
    let verdict = if n == 0 {
        "no active event: replay drops it".to_string()
    } else {
        let merged = r.parts.iter().any(|p| !p.others.is_empty());
        format!(
            "{} replayed session{}{}{}",
            n,
            if n == 1 { "" } else { "s" },
            if n > 1 { " · SPLIT" } else { "" },
            if merged { " · MERGED" } else { "" }
        )
    };
    out.row(
        &format!("replay {}", setting(r.timeout_ms)),
        vec![
            Span::styled(verdict, if n == 1 { t.text } else { t.flag }),
            Span::styled(format!("  ({why})"), t.dim),
        ],
    );
    for p in &r.parts {
        out.item(vec![Span::styled(
            format!(
                "{} – {} ({})  {} active event{}, {} of this session",
                short(zone, p.first, day),
                short(zone, p.last, day),
                duration(p.last.saturating_sub(p.first)),
                count(u64::from(p.events)),
                if p.events == 1 { "" } else { "s" },
                count(u64::from(p.own))
            ),
            t.text,
        )]);
        if !p.others.is_empty() {
            let ids: Vec<String> = p
                .others
                .iter()
                .take(3)
                .filter_map(|o| a.sessions.get(o.idx()).map(|s| s.id.to_string()))
                .collect();
            let more = p.others.len().saturating_sub(3);
            out.item(vec![Span::styled(
                format!(
                    "  merged with {} other recorded session{}: {}{}",
                    p.others.len(),
                    if p.others.len() == 1 { "" } else { "s" },
                    ids.join(", "),
                    if more > 0 {
                        format!(", +{more}")
                    } else {
                        String::new()
                    }
                ),
                t.flag,
            )]);
        }
    }
}

/// How many lines the detail has at `width` (for scrolling).
#[must_use]
pub fn line_count(model: &Model, width: u16) -> usize {
    lines(model, width, &Theme::mono()).len()
}

/// The title's key hints.
fn title_keys(keys: &Keymap) -> String {
    let scopes = overlay_scopes(Scope::Session);
    format!(
        "· {} closes · {}/{} scroll ",
        keys.labels(Action::CloseOverlay, &scopes, " or "),
        keys.label(Action::Down, &scopes),
        keys.label(Action::Up, &scopes)
    )
}

/// Draws the session detail overlay.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &ViewState) {
    let t = &view.theme;
    let area = view.areas.overlay;
    let body = view.areas.overlay_body;
    let (Some(a), Some(v)) = (&model.derived.analysis, &model.derived.session) else {
        return;
    };
    frame.render_widget(Clear, area);
    let mut title = vec![Span::styled(" Session ", t.title)];
    if let Some(s) = a.sessions.get(v.detail.session.idx()) {
        let user = model.user_label(s.user);
        title.push(Span::styled(
            format!("{} · {} ", s.id, fit(&sanitize(&user), 30)),
            t.title,
        ));
    }
    title.push(Span::styled(title_keys(keys), t.dim));
    frame.render_widget(pane(Line::from(title), true, t), area);
    let shown: Vec<Line<'static>> = lines(model, body.width, t)
        .into_iter()
        .skip(v.scroll)
        .take(body.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(shown), body);
}
