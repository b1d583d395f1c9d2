//! The event stream of the selected user, Microscope / User Look-Up style: events grouped
//! under session header rows, out-of-session events standalone (`•`).
//!
//! Event rows are fixed columns ([`Columns`], chosen from the pane's width and the
//! longest event type listed): time, type, a flag column of fixed width (`GAP 14m37s`,
//! `DUP`, `NO SESSION`; shortened when they do not fit, never spilling over), then the
//! event's properties, read from the raw JSON of the rows on screen only, before drawing
//! ([`crate::tui::model::Derived::props`]). The properties column scrolls horizontally
//! (`h`/`l`, `←`/`→`: [`crate::tui::model::EventsView::hscroll`]); the title shows the
//! offset while it is scrolled.
//!
//! A session header ([`header_line`]) reads `▾ start · 6 events · flags · length · span ·
//! id`; `▸` marks a folded session (only its header is listed). A session id that does not
//! read as its start shows the first event's time and what the id looks like
//! ([`id_reading_text`]: "looks like seconds: 2026-10-28 13:00:29") instead of a
//! meaningless length. While the top row on screen is inside a session, that session's
//! header stays pinned on the first line ([`sticky_header`]).
//!
//! With a search typed (`/`), the matching text of the type and properties on screen is
//! drawn in the theme's `search_match` style (underlined and bold without colour).
//!
//! Live: the header of the user's open session counts down to its timeout
//! (`open · ends in 12:03`, from [`Model::now_ms`]), and the title says whether follow
//! mode is on, or, paused, how many events arrived since (`▼ 12 new events · F to
//! follow`, naming the follow key of the key table).

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use ratatui::style::{Modifier, Style};

use super::{Theme, ViewState, cells, draw_row, fit, pad, pane, scrolled, session_flag_words};
use crate::analysis::{Analysis, EventClass, Flag, IdReading, NO_SESSION, id_reading};
use crate::fmt::{count, duration, sanitize, setting};
use crate::index::{Pos, SessionIx};
use crate::tui::action::Action;
use crate::tui::keymap::{Keymap, main_scopes};
use crate::tui::live_view::{Follow, OpenSession, countdown};
use crate::tui::model::{Focus, Model};
use crate::tui::rows::{Row, session_header_of};
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

/// The pane width (in cells) from which event rows show dates and wider columns.
pub const WIDE: usize = 90;

/// The column layout of event rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    /// Dates in the time column, wider flag and type columns.
    pub wide: bool,
    /// Time column width (after the two-cell lead).
    pub time: usize,
    /// Type column width.
    pub kind: usize,
    /// Flag column width.
    pub flags: usize,
    /// Properties column width (what is left).
    pub props: usize,
}

impl Columns {
    /// The columns of a list `width` cells wide whose longest event type is
    /// `longest_type` cells: the type column fits it, between 8 cells and 40% of the
    /// pane (at most 40 cells; a quarter, or 14 cells, when narrow), leaving the
    /// properties some room.
    #[must_use]
    pub fn new(width: usize, longest_type: usize) -> Columns {
        let wide = width >= WIDE;
        let time = if wide { 18 } else { 12 };
        let flags = if wide { 14 } else { 10 };
        // lead (2), time, space, type, space, flags, space
        let fixed = 2 + time + 1 + 1 + flags + 1;
        let min_props = if wide { 16 } else { 6 };
        let cap = if wide {
            (width * 2 / 5).min(40)
        } else {
            (width / 4).max(14)
        };
        let room = width.saturating_sub(fixed + min_props);
        let kind = longest_type.clamp(8, cap.max(8)).min(room.max(8));
        Columns {
            wide,
            time,
            kind,
            flags,
            props: width.saturating_sub(fixed + kind),
        }
    }
}

/// What a session id that is not its session's start looks like, for headers and the
/// session detail: `looks like seconds: 2026-10-28 13:00:29`, `looks like microseconds:
/// …`, `is 3m12s after its first event`, `is 20733d18h before its first event` (to follow
/// `id 1793192429 `). `None` for a plausible id.
#[must_use]
pub fn id_reading_text(id: i64, first: i64, zone: Zone) -> Option<String> {
    Some(match id_reading(id, first) {
        IdReading::Plausible => return None,
        IdReading::Seconds { ms } => {
            let t = zone.format(ms, Precision::Full);
            format!(
                "looks like seconds: {}",
                t.strip_suffix(".000").unwrap_or(&t)
            )
        }
        IdReading::Micros { ms } => {
            format!(
                "looks like microseconds: {}",
                zone.format(ms, Precision::Full)
            )
        }
        IdReading::AfterFirstEvent { by_ms } => {
            format!("is {} after its first event", duration(by_ms))
        }
        IdReading::LongBefore { lead_ms } => {
            format!("is {} before its first event", duration(lead_ms))
        }
    })
}

/// An event's flag words fitted to the flag column's `width`: in full when they fit,
/// else shortened (`NOSESS`, the gap to its largest unit: `GAP14m`), else cut with `…`.
#[must_use]
pub fn flag_cell(words: &[String], width: usize) -> String {
    let full = words.join(" ");
    if cells(&full) <= width {
        return full;
    }
    let short: Vec<String> = words
        .iter()
        .map(|w| {
            if w == Flag::NoSession.label() {
                "NOSESS".to_string()
            } else if let Some(d) = w.strip_prefix("GAP ") {
                // The largest unit: digits (and a decimal point), then the unit's letters.
                let unit_end = d
                    .char_indices()
                    .skip_while(|(_, c)| c.is_ascii_digit() || *c == '.')
                    .find(|(_, c)| c.is_ascii_digit())
                    .map_or(d.len(), |(i, _)| i);
                format!("GAP{}", &d[..unit_end])
            } else {
                w.clone()
            }
        })
        .collect();
    fit(&short.join(" "), width)
}

/// The character ranges (start, end) of `text` that contain `needle_lower` (already
/// lower-cased), case-insensitively, without overlaps.
#[must_use]
pub fn match_ranges(text: &str, needle_lower: &str) -> Vec<(usize, usize)> {
    if needle_lower.is_empty() {
        return Vec::new();
    }
    // The lower-cased text, with the index of the original character of each byte.
    let mut low = String::with_capacity(text.len());
    let mut owner: Vec<usize> = Vec::with_capacity(text.len() + 1);
    for (ci, c) in text.chars().enumerate() {
        for lc in c.to_lowercase() {
            let before = low.len();
            low.push(lc);
            owner.extend(std::iter::repeat_n(ci, low.len() - before));
        }
    }
    low.match_indices(needle_lower)
        .map(|(b, m)| (owner[b], owner[b + m.len() - 1] + 1))
        .collect()
}

/// Spans showing `text` from character `skip` on, in at most `width` cells (cut with `…`;
/// padded to `width` when `fill`), with the characters inside `ranges` in `hit`.
fn window(
    text: &str,
    skip: usize,
    width: usize,
    fill: bool,
    ranges: &[(usize, usize)],
    base: Style,
    hit: Style,
) -> Vec<Span<'static>> {
    let rest: Vec<(usize, char)> = text.chars().enumerate().skip(skip).collect();
    let total: usize = rest
        .iter()
        .map(|&(_, c)| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0))
        .sum();
    let limit = if total > width {
        width.saturating_sub(1)
    } else {
        width
    };
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut cur = String::new();
    let mut cur_hit = false;
    let mut used = 0;
    let in_range = |i: usize| ranges.iter().any(|&(s, e)| (s..e).contains(&i));
    for (i, c) in rest {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > limit {
            break;
        }
        used += w;
        let h = in_range(i);
        if h != cur_hit && !cur.is_empty() {
            let style = if cur_hit { hit } else { base };
            spans.push(Span::styled(std::mem::take(&mut cur), style));
        }
        cur_hit = h;
        cur.push(c);
    }
    if !cur.is_empty() {
        spans.push(Span::styled(cur, if cur_hit { hit } else { base }));
    }
    if total > width && width > 0 {
        spans.push(Span::styled("…", base));
        used += 1;
    }
    if fill && used < width {
        spans.push(Span::styled(" ".repeat(width - used), base));
    }
    spans
}

/// The row whose header is pinned on the first line of the list when the list starts at
/// row `top`: the header of the session `top` is inside, when `top` is one of its events
/// (`None` for a header or an out-of-session event at the top).
#[must_use]
pub fn sticky_header(model: &Model, top: usize) -> Option<usize> {
    let a = model.derived.analysis.as_ref()?;
    let rows = &model.derived.events.rows;
    match rows.get(top)? {
        Row::Session { .. } => None,
        Row::Event { .. } => session_header_of(a, rows, top).filter(|&h| h < top),
    }
}

/// The first row of the list to draw at `height` rows, from the previous one `top`: the
/// selection stays visible, and off the first line while a pinned header covers it.
#[must_use]
pub fn events_top(model: &Model, top: usize, height: usize) -> usize {
    let ev = &model.derived.events;
    let top = scrolled(top, ev.selected, ev.rows.len(), height);
    if top > 0 && ev.selected == top && height > 1 && sticky_header(model, top).is_some() {
        top - 1
    } else {
        top
    }
}

/// The text of a session header row: `▾ start · 6 events · flags · length 9m00s · span
/// 8m13s · id …` (`▸` when folded). A suspect id shows the first event's time, then the id
/// and what it looks like, and no length (it would be measured from the id).
#[must_use]
pub fn header_line(
    a: &Analysis,
    session: SessionIx,
    shown: u32,
    folded: bool,
    zone: Zone,
    open: Option<OpenSession>,
    t: &Theme,
) -> Line<'static> {
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
    let glyph = if folded { "▸" } else { "▾" };
    let reading = id_reading_text(s.id, s.first, zone);
    let start = match &reading {
        None => session_start(s.id, zone),
        Some(_) => zone.format(s.first, Precision::Full),
    };
    let mut spans = vec![Span::styled(format!("{glyph} {start}"), t.header)];
    if let Some(r) = &reading {
        spans.push(Span::styled(format!(" · id {} {r}", s.id), t.warn));
    }
    spans.push(Span::styled(format!(" · {events}"), t.header));
    if let Some(o) = open.filter(|o| o.session == session) {
        spans.push(Span::styled(
            format!(" · open · ends in {}", countdown(o.ends_in_ms)),
            t.current,
        ));
    }
    let flags = session_flag_words(s);
    let replay = replay_words(a, session);
    if !flags.is_empty() || !replay.is_empty() {
        spans.push(Span::styled(" ·", t.header));
    }
    for w in flags {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(w, t.flag));
    }
    for w in replay {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(w, t.warn));
    }
    let lengths = if reading.is_some() {
        format!(" · span {}", duration(s.span_ms()))
    } else {
        format!(
            " · length {} · span {} · id {}",
            duration(s.length_ms()),
            duration(s.span_ms()),
            s.id
        )
    };
    spans.push(Span::styled(lengths, t.dim));
    Line::from(spans)
}

/// One event row in `cols`, its type and properties marked where they contain
/// `needle` (lower-cased; empty for none) and its properties scrolled by `hscroll`.
#[expect(clippy::too_many_arguments, reason = "one row's inputs, all read-only")]
fn event_line(
    model: &Model,
    a: &Analysis,
    pos: Pos,
    gap_ms: i64,
    cols: Columns,
    needle: &str,
    hscroll: usize,
    t: &Theme,
) -> Line<'static> {
    let zone = model.zones.current();
    let e = a.order[pos];
    let rec = &model.store.events()[e];
    let out = a.pos_session[pos] == NO_SESSION;
    let lead = if out { "• " } else { "  " };
    let precision = match (cols.wide, out) {
        (true, _) => Precision::NoYear,
        (false, false) => Precision::Time,
        // Narrow: no session header above gives the date; minutes keep it in the column.
        (false, true) => Precision::DayMinutes,
    };
    let class = a.class(rec.event_type);
    let type_style = if class == EventClass::Active {
        t.text
    } else {
        t.dim
    };
    let name = sanitize(model.store.strings.get(rec.event_type));
    // Amplitude's own types share their "[Amplitude] " start: cut, they keep their end
    // ("…tion Backgrounded", "…lication Opened") so that they stay apart.
    let name = if name.starts_with("[Amplitude] ") && super::cells(&name) > cols.kind {
        std::borrow::Cow::Owned(super::fit_tail(&name, cols.kind))
    } else {
        name
    };
    let mut spans = vec![Span::raw(format!(
        "{lead}{} ",
        pad(&zone.format(rec.time, precision), cols.time)
    ))];
    let hits = match_ranges(&name, needle);
    spans.extend(window(
        &name,
        0,
        cols.kind,
        true,
        &hits,
        type_style,
        t.search_match,
    ));
    spans.push(Span::raw(" "));
    let words = event_flag_words(a, pos, gap_ms);
    spans.push(Span::styled(
        pad(&flag_cell(&words, cols.flags), cols.flags),
        t.flag,
    ));
    spans.push(Span::raw(" "));
    if let Some(p) = model.derived.props.get(&e)
        && !p.is_empty()
    {
        let hits = match_ranges(p, needle);
        spans.extend(window(
            p,
            hscroll,
            cols.props,
            false,
            &hits,
            t.dim,
            t.search_match,
        ));
    }
    Line::from(spans)
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
    // First, so that a long user name never cuts it.
    if ev.hscroll > 0 {
        title.push(Span::styled(format!("· props → {} ", ev.hscroll), t.warn));
    }
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
    let zone = model.zones.current();
    let cols = Columns::new(list.width as usize, listed.type_cells);
    let needle = sanitize(&ev.search).to_lowercase();
    let open = model.selected_user().and_then(|u| model.open_session(u));
    let header = |session: SessionIx, shown: u32| {
        let folded = ev.folds.is_folded(a.sessions[session].id);
        header_line(a, session, shown, folded, zone, open, t)
    };
    let sticky = sticky_header(model, view.events_top);
    let rows = listed
        .rows
        .iter()
        .enumerate()
        .skip(view.events_top)
        .take(list.height as usize);
    for (k, (i, row)) in rows.enumerate() {
        if k == 0
            && let Some(h) = sticky
            && let Row::Session { session, shown } = listed.rows[h]
        {
            // Pinned: the header of the session the view is in, underlined as a heading.
            let style = t.row(false, focused).add_modifier(Modifier::UNDERLINED);
            draw_row(frame, list, 0, header(session, shown), style);
            continue;
        }
        let selected = i == listed.selected;
        let line = match *row {
            Row::Session { session, shown } => header(session, shown),
            Row::Event { pos, gap_ms } => {
                event_line(model, a, pos, gap_ms, cols, &needle, ev.hscroll, t)
            }
        };
        draw_row(frame, list, k, line, t.row(selected, focused));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (text, needle, the character ranges found)
    type MatchCase = (&'static str, &'static str, &'static [(usize, usize)]);

    #[test]
    fn matches_are_found_case_insensitively_by_character() {
        let cases: [MatchCase; 6] = [
            ("red shoes", "shoe", &[(4, 8)]),
            ("SHOE-42 and shoe", "shoe", &[(0, 4), (12, 16)]),
            ("nothing here", "shoe", &[]),
            ("anything", "", &[]),
            // Characters before the match that are several bytes long.
            ("Größe Schuh", "schuh", &[(6, 11)]),
            ("ÄÄÄ", "ää", &[(0, 2)]),
        ];
        for (text, needle, want) in cases {
            assert_eq!(match_ranges(text, needle), want, "{text:?} ~ {needle:?}");
        }
    }

    #[test]
    fn flags_fit_their_column() {
        let w = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let cases: [(&[&str], usize, &str); 6] = [
            (&["GAP 14m37s"], 10, "GAP 14m37s"),
            (&["GAP 14m37s", "DUP"], 14, "GAP 14m37s DUP"),
            (&["GAP 14m37s", "DUP"], 10, "GAP14m DUP"),
            (&["NO SESSION", "DUP"], 10, "NOSESS DUP"),
            (&["GAP 20733d18h", "DUP"], 10, "GAP20733d…"),
            (&["GAP 1.5s", "DUP"], 10, "GAP1.5s D…"),
        ];
        for (words, width, want) in cases {
            let got = flag_cell(&w(words), width);
            assert_eq!(got, want, "{words:?} in {width}");
            assert!(cells(&got) <= width);
        }
    }

    #[test]
    fn columns_follow_the_pane_and_the_longest_type() {
        // (list width, longest type) → (wide, type column, properties column)
        let cases = [
            ((46, 13), (false, 13, 6)),
            ((46, 30), (false, 13, 6)),
            ((68, 13), (false, 13, 28)),
            ((68, 30), (false, 17, 24)),
            ((138, 13), (true, 13, 88)),
            ((138, 60), (true, 40, 61)),
            ((138, 3), (true, 8, 93)),
        ];
        for ((width, longest), (wide, kind, props)) in cases {
            let c = Columns::new(width, longest);
            assert_eq!(
                (c.wide, c.kind, c.props),
                (wide, kind, props),
                "{width} {longest}"
            );
            assert_eq!(2 + c.time + 1 + c.kind + 1 + c.flags + 1 + c.props, width);
        }
    }

    #[test]
    fn suspect_ids_read_in_words() {
        let first = 1_793_192_429_731;
        let cases = [
            (first - 1000, None),
            (
                1_793_192_429,
                Some("looks like seconds: 2026-10-28 13:00:29"),
            ),
            (
                1_793_192_429_000_000,
                Some("looks like microseconds: 2026-10-28 13:00:29.000"),
            ),
            (first + 192_000, Some("is 3m12s after its first event")),
            (1, Some("is 20754d13h before its first event")),
        ];
        for (id, want) in cases {
            assert_eq!(
                id_reading_text(id, first, Zone::Utc).as_deref(),
                want,
                "{id}"
            );
        }
    }

    proptest! {
        #[test]
        fn every_range_holds_the_needle(text in "[a-zA-Z0-9 äÄß-]{0,40}", needle in "[a-z]{1,3}") {
            let chars: Vec<char> = text.chars().collect();
            let mut last_end = 0;
            for (s, e) in match_ranges(&text, &needle) {
                prop_assert!(s < e && e <= chars.len());
                prop_assert!(s >= last_end, "ranges overlap");
                last_end = e;
                let found: String = chars[s..e].iter().collect::<String>().to_lowercase();
                prop_assert_eq!(found, needle.clone());
            }
        }

        #[test]
        fn a_window_never_exceeds_its_width(
            text in "\\PC{0,60}", skip in 0usize..70, width in 0usize..50, fill in any::<bool>()
        ) {
            let spans = window(&text, skip, width, fill, &[(0, 3)], Style::new(), Style::new());
            let shown: usize = spans.iter().map(|s| cells(&s.content)).sum();
            prop_assert!(shown <= width.max(1));
            if fill {
                prop_assert!(shown >= width);
            }
        }
    }
}
