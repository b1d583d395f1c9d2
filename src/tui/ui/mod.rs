//! Rendering: a pure view of the model. `render(frame, &Model, &Keymap, &mut ViewState)`
//! reads the model, formats only what is on screen, and never reads the clock or does
//! I/O. Every key it names (help, hints, titles, empty states) comes from the app's
//! [`Keymap`], so a changed binding shows everywhere at once. One widget per file; this
//! file holds the layout, shared by rendering and mouse hit-tests.
//!
//! ```text
//! ┌ Users 1,234 · most severe ────┐┌ Timeline: alice ─────────────────────────────────┐
//! │ user        events sess flags ││ alice · 120 events · 4 sessions · GAP 3 · DUP 2   │
//! │▶alice          120    4 GAP 3 ││ recorded   ████╌╌╌███   ░   ◆        ▓▓▓▓▓▓       │
//! │ bob             50    2       ││ no session      •           •                     │
//! │ …                             ││ replay 30m ████   ███   █            ▓▓▓▓▓▓       │
//! │                               ││                    ▲                               │
//! │                               ││ ──┴─────────┴─────────┴─────────┴──────────┴──    │
//! │                               ││  10:00     10:30     11:00     11:30      12:00   │
//! │                               ││ session 1 ┃──│──│╌╌ 7m12s ╌╌│──╵  (session strip) │
//! │                               ││ █ ▓ session  [█] selected  ╌ gap  ┊ cut  ═ merge … │
//! │                               │└ replay at 30m: 3 sessions (recorded 4) · … ──────┘
//! │                               │┌ Events · alice · oldest first ───────────────────┐
//! │                               ││▾ 2024-01-02 10:00:00.000 · 3 events · GAP 7m12s… │
//! │                               ││  10:00:01.000 App Opened             plan=pro    │
//! │                               ││  10:07:13.000 Purchase    GAP 7m12s  sku=42      │
//! │                               ││• 01-02 10:30  Server Sync NO SESSION job=nightly │
//! └───────────────────────────────┘└──────────────────────────────────────────────────┘
//!  demo.ndjson │ 1,234 events · 56 users · 78 sessions · 3 rejected │ timeout 30m · gap 5m │ UTC
//!  Tab pane  Enter open  / search  f filter  r replay  t timeout  ? help  q quit
//! ```
//!
//! The timeline is 11 rows high, and from 30 rows on as many more (up to 4) as its glyph
//! legend needs at that width; the lower right pane gets the rest. The lower right pane
//! shows the event list, the replay panel (`r`) or playback (`p`, [`playback`]); the
//! help, the event detail, the session detail (Enter on a session header), the results of
//! a search across all users (`S`), the findings (`i`) and the rejected requests (`!`) are
//! overlays over the
//! panes. The users pane grows with the terminal (see [`layout`]); column math counts
//! display cells ([`cells`], [`fit`], [`pad`]). Below 60×15
//! only a message is shown.

pub mod detail;
pub mod events;
pub mod findings;
pub mod help;
pub mod playback;
pub mod rejected;
pub mod replay;
pub mod search;
pub mod session;
pub mod status;
pub mod theme;
pub mod timeline;
pub mod users;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::action::Action;
use super::keymap::{Keymap, active_scopes};
use super::model::{Model, Overlay};
use crate::analysis::{Flag, Session};
use crate::fmt::duration;
use crate::index::SessionIx;
pub use theme::Theme;

/// The smallest terminal the inspector draws its panes in.
pub const MIN_SIZE: (u16, u16) = (60, 15);

/// Width of the timeline's lane labels.
pub const LANE_LABEL: u16 = 11;

/// Where everything is on screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    /// The whole screen.
    pub screen: Rect,
    /// The terminal is too small: only a message is drawn.
    pub too_small: bool,
    /// The users pane (with its border).
    pub users: Rect,
    /// The users pane's list rows.
    pub users_list: Rect,
    /// The timeline pane (with its border).
    pub timeline: Rect,
    /// The timeline's plotting area (right of the lane labels).
    pub timeline_plot: Rect,
    /// The lower right pane (events or replay, with its border).
    pub lower: Rect,
    /// The lower right pane's rows.
    pub lower_list: Rect,
    /// The two status lines.
    pub status: Rect,
    /// The open overlay (with its border).
    pub overlay: Rect,
    /// The open overlay's scrolling body.
    pub overlay_body: Rect,
}

/// Render-side state: the layout of the last frame and scroll offsets.
#[derive(Clone, Debug, Default)]
pub struct ViewState {
    /// The layout.
    pub areas: Areas,
    /// First user row shown.
    pub users_top: usize,
    /// First event row shown.
    pub events_top: usize,
    /// First rejected request shown.
    pub rejected_top: usize,
    /// Frames drawn so far.
    pub frames: u64,
    /// The styles.
    pub theme: Theme,
}

/// The layout of the screen for the model's state.
#[must_use]
pub fn layout(area: Rect, model: &Model) -> Areas {
    let mut a = Areas {
        screen: area,
        ..Areas::default()
    };
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        a.too_small = true;
        return a;
    }
    let main_h = area.height - 2;
    a.status = Rect::new(area.x, area.y + main_h, area.width, 2);
    // The users pane grows with the terminal: 50 columns at 120, 30% from 167 on (60 at
    // 200), 40% on narrow terminals.
    let users_w = match area.width {
        w if w >= 120 => (w * 3 / 10).max(50),
        w if w >= 100 => 44,
        w => (w * 2 / 5).max(24),
    };
    a.users = Rect::new(area.x, area.y, users_w, main_h);
    a.users_list = Rect::new(
        a.users.x + 1,
        a.users.y + 2,
        a.users.width.saturating_sub(2),
        a.users.height.saturating_sub(3),
    );
    let right_x = area.x + users_w;
    let right_w = area.width - users_w;
    // The timeline: summary, lanes, axis, the session strip (two rows), and from 30 rows
    // on the cursor row and the glyph legend.
    let timeline_h = if main_h >= 30 {
        let legend = timeline::legend_lines(&Theme::mono(), usize::from(right_w - 2), false);
        11 + u16::try_from(legend.len()).unwrap_or(4).min(4)
    } else {
        11
    };
    a.timeline = Rect::new(right_x, area.y, right_w, timeline_h);
    let inner = inset(a.timeline);
    a.timeline_plot = Rect::new(
        inner.x + LANE_LABEL,
        inner.y,
        inner.width.saturating_sub(LANE_LABEL),
        inner.height,
    );
    a.lower = Rect::new(right_x, area.y + timeline_h, right_w, main_h - timeline_h);
    a.lower_list = inset(a.lower);
    if model.overlay != Overlay::None {
        a.overlay = Rect::new(area.x, area.y, area.width, main_h);
        let inner = inset(a.overlay);
        let header = if model.overlay == Overlay::Detail {
            detail::HEADER_LINES
        } else {
            0
        };
        a.overlay_body = if model.overlay == Overlay::Rejected {
            rejected::body_area(inner, model)
        } else {
            Rect::new(
                inner.x,
                inner.y + header,
                inner.width,
                inner.height.saturating_sub(header),
            )
        };
    }
    a
}

/// The area inside a one-cell border.
#[must_use]
pub fn inset(r: Rect) -> Rect {
    Rect::new(
        r.x + 1,
        r.y + 1,
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// A scroll offset that keeps `selected` visible in `height` rows of `len`.
#[must_use]
pub fn scrolled(top: usize, selected: usize, len: usize, height: usize) -> usize {
    if height == 0 || len == 0 {
        return 0;
    }
    let mut top = top.min(len.saturating_sub(height));
    if selected < top {
        top = selected;
    } else if selected >= top + height {
        top = selected + 1 - height;
    }
    top
}

/// Draws the whole screen; every key it names comes from `keys`.
pub fn render(frame: &mut Frame<'_>, model: &Model, keys: &Keymap, view: &mut ViewState) {
    let area = frame.area();
    view.areas = layout(area, model);
    let a = view.areas;
    if a.too_small {
        render_too_small(frame, area, model, keys, &view.theme);
        return;
    }
    view.users_top = scrolled(
        view.users_top,
        model.derived.users.selected,
        model.derived.users.list.len(),
        a.users_list.height as usize,
    );
    view.events_top = events::events_top(model, view.events_top, a.lower_list.height as usize);
    users::render(frame, model, view);
    timeline::render(frame, model, view);
    match model.lower {
        super::model::Lower::Events => events::render(frame, model, keys, view),
        super::model::Lower::Replay => replay::render(frame, model, keys, view),
        super::model::Lower::Playback => playback::render(frame, model, keys, view),
    }
    status::render(frame, model, keys, view);
    match model.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => help::render(frame, keys, view, scroll),
        Overlay::Detail => detail::render(frame, model, keys, view),
        Overlay::Findings => findings::render(frame, model, keys, view),
        Overlay::Session => session::render(frame, model, keys, view),
        Overlay::SearchResults => search::render(frame, model, keys, view),
        Overlay::Rejected => {
            if let Some(v) = &model.rejected {
                view.rejected_top = scrolled(
                    view.rejected_top,
                    v.selected,
                    v.len(),
                    a.overlay_body.height as usize,
                );
            }
            rejected::render(frame, model, keys, view);
        }
    }
}

fn render_too_small(
    frame: &mut Frame<'_>,
    area: Rect,
    model: &Model,
    keys: &Keymap,
    theme: &Theme,
) {
    let quit = keys.label(Action::Quit, &active_scopes(model));
    let text = format!(
        "streamscope needs a terminal of at least {}×{}; this one is {}×{}. Enlarge it, or press {quit} to quit.",
        MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
    );
    let p = Paragraph::new(text)
        .style(theme.text)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    frame.render_widget(Clear, area);
    let y = area.height / 3;
    frame.render_widget(
        p,
        Rect::new(area.x, area.y + y, area.width, area.height - y),
    );
}

/// A pane's block: rounded border, highlighted when focused, with a title.
#[must_use]
pub fn pane<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        })
        .title(title)
}

/// A session's flags in words: `EMPTY`, `GAP 7m12s`, `DUP x2`, …
#[must_use]
pub fn session_flag_words(s: &Session) -> Vec<String> {
    s.flag_list()
        .into_iter()
        .map(|f| match f {
            Flag::Gap => format!("GAP {}", duration(s.max_gap_ms)),
            Flag::Duplicate => format!("DUP x{}", s.duplicates),
            f => f.label().to_string(),
        })
        .collect()
}

/// Spans of flag words separated by spaces, in the flag style.
#[must_use]
pub fn flag_spans(words: &[String], style: Style) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for w in words {
        out.push(Span::raw(" "));
        out.push(Span::styled(w.clone(), style));
    }
    out
}

/// The display width of `text` in terminal cells (CJK and emoji take two, combining
/// marks none).
#[must_use]
pub fn cells(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` in lines of at most `width` display cells, broken between words (a longer
/// word stays whole on its own line); no line for empty text.
#[must_use]
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && cells(&line) + 1 + cells(word) > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// `text` cut at its start to `width` display cells, with `…` first when cut: for texts
/// whose end tells them apart (`…tion Backgrounded`, `…lication Opened`).
#[must_use]
pub fn fit_tail(text: &str, width: usize) -> String {
    if cells(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        kept.push(c);
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// `text` cut to `width` display cells, with `…` when cut.
#[must_use]
pub fn fit(text: &str, width: usize) -> String {
    if cells(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut s = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        s.push(c);
    }
    s.push('…');
    s
}

/// `text` cut or padded to exactly `width` display cells.
#[must_use]
pub fn pad(text: &str, width: usize) -> String {
    let s = fit(text, width);
    let n = cells(&s);
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

/// How many of the sorted indices `v` fall in `range` (two binary searches).
#[must_use]
pub fn count_in(v: &[SessionIx], range: &std::ops::Range<SessionIx>) -> usize {
    v.partition_point(|&s| s < range.end) - v.partition_point(|&s| s < range.start)
}

/// Draws one row of a list pane: `line` on row `k` of `list`, in `style`.
pub fn draw_row(frame: &mut Frame<'_>, list: Rect, k: usize, line: Line<'_>, style: Style) {
    let y = list.y + u16::try_from(k).unwrap_or(0);
    frame.render_widget(
        Paragraph::new(line).style(style),
        Rect::new(list.x, y, list.width, 1),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_keeps_the_selection_visible() {
        assert_eq!(scrolled(0, 5, 100, 10), 0);
        assert_eq!(scrolled(0, 15, 100, 10), 6);
        assert_eq!(scrolled(20, 15, 100, 10), 15);
        assert_eq!(scrolled(95, 99, 100, 10), 90);
        assert_eq!(scrolled(3, 0, 0, 10), 0);
    }

    #[test]
    fn fitting_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcdef", 4), "abc…");
    }

    #[test]
    fn columns_count_display_cells() {
        // Wide (CJK, emoji), combining and plain text each pad to the same cells.
        let cases = [
            ("日本語", 8, "日本語  "),
            ("日本語です", 6, "日本… "),
            ("😀x", 4, "😀x "),
            ("e\u{301}te\u{301}", 5, "e\u{301}te\u{301}  "),
            ("abcdef", 4, "abc…"),
        ];
        for (text, w, want) in cases {
            assert_eq!(pad(text, w), want, "{text:?} in {w}");
            assert_eq!(cells(&pad(text, w)), w, "{text:?} in {w}");
        }
    }
}
