//! Every style the views use, named for what it marks. With `NO_COLOR` set (any
//! non-empty value, <https://no-color.org>) the theme has no colours at all, only bold,
//! reverse, dim and underline, and every flag is still written out in words.

use ratatui::style::{Color, Modifier, Style};

/// The styles of the inspector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    /// Plain text.
    pub text: Style,
    /// Secondary text: counts, hints, inactive events.
    pub dim: Style,
    /// Pane borders.
    pub border: Style,
    /// The focused pane's border.
    pub border_focused: Style,
    /// Pane titles.
    pub title: Style,
    /// The selected row.
    pub selected: Style,
    /// The selected row in an unfocused pane.
    pub selected_unfocused: Style,
    /// Session header rows and table headings.
    pub header: Style,
    /// Flag words (EMPTY, GAP 7m12s, …).
    pub flag: Style,
    /// Milder findings (NO SESSION, DUP).
    pub warn: Style,
    /// Key names in hints and help.
    pub key: Style,
    /// Recorded session bars.
    pub bar: Style,
    /// Replayed session bars.
    pub bar_replay: Style,
    /// Empty and zero-length sessions on the timeline.
    pub bar_odd: Style,
    /// Out-of-session events on the timeline.
    pub bar_no_session: Style,
    /// The selected session or event on the timeline (never reversed: a reversed full
    /// block is a hole in a real terminal; the shape, brackets, marks it too).
    pub bar_selected: Style,
    /// Where the replay cuts a recorded session (`┊`).
    pub cut: Style,
    /// A replayed session's tie across recorded sessions it merges (`═`).
    pub tie: Style,
    /// JSON object keys.
    pub json_key: Style,
    /// JSON strings.
    pub json_string: Style,
    /// JSON numbers.
    pub json_number: Style,
    /// JSON `true`, `false`, `null`.
    pub json_literal: Style,
    /// JSON punctuation.
    pub json_punct: Style,
    /// The status bar.
    pub status: Style,
    /// Error messages.
    pub error: Style,
    /// Histogram bars.
    pub histogram: Style,
    /// The current timeout's mark in the sweep and histogram.
    pub current: Style,
    /// Text matching the search, in the event list (never reverse video).
    pub search_match: Style,
}

impl Theme {
    /// The style of a list row: selected or not, in the focused pane or not.
    #[must_use]
    pub fn row(&self, selected: bool, focused: bool) -> Style {
        match (selected, focused) {
            (false, _) => self.text,
            (true, true) => self.selected,
            (true, false) => self.selected_unfocused,
        }
    }

    /// The colour theme.
    #[must_use]
    pub fn color() -> Self {
        let fg = |c: Color| Style::new().fg(c);
        Self {
            text: Style::new(),
            dim: fg(Color::DarkGray),
            border: fg(Color::DarkGray),
            border_focused: fg(Color::Cyan),
            title: Style::new().add_modifier(Modifier::BOLD),
            selected: Style::new().bg(Color::Blue).fg(Color::White),
            selected_unfocused: Style::new().bg(Color::DarkGray).fg(Color::White),
            header: Style::new().add_modifier(Modifier::BOLD),
            flag: fg(Color::Red).add_modifier(Modifier::BOLD),
            warn: fg(Color::Yellow),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            bar: fg(Color::Green),
            bar_replay: fg(Color::Magenta),
            bar_odd: fg(Color::Yellow),
            bar_no_session: fg(Color::Red),
            bar_selected: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            cut: fg(Color::Red).add_modifier(Modifier::BOLD),
            tie: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            json_key: fg(Color::Cyan),
            json_string: fg(Color::Green),
            json_number: fg(Color::Yellow),
            json_literal: fg(Color::Magenta),
            json_punct: fg(Color::DarkGray),
            status: Style::new().bg(Color::Black).fg(Color::Gray),
            error: fg(Color::Red).add_modifier(Modifier::BOLD),
            histogram: fg(Color::Blue),
            current: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            search_match: Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        }
    }

    /// The theme without colours.
    #[must_use]
    pub fn mono() -> Self {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let dim = Style::new().add_modifier(Modifier::DIM);
        let reversed = Style::new().add_modifier(Modifier::REVERSED);
        Self {
            text: plain,
            dim,
            border: plain,
            border_focused: bold,
            title: bold,
            selected: reversed,
            selected_unfocused: Style::new().add_modifier(Modifier::UNDERLINED),
            header: bold,
            flag: bold,
            warn: plain,
            key: bold,
            bar: plain,
            bar_replay: plain,
            bar_odd: plain,
            bar_no_session: plain,
            bar_selected: bold,
            cut: bold,
            tie: bold,
            json_key: bold,
            json_string: plain,
            json_number: plain,
            json_literal: plain,
            json_punct: plain,
            status: plain,
            error: bold,
            histogram: plain,
            current: bold,
            search_match: bold.add_modifier(Modifier::UNDERLINED),
        }
    }

    /// The names of the theme's colours, as a config file's `[theme]` table names them.
    pub const SLOTS: [&'static str; 28] = [
        "text",
        "dim",
        "border",
        "border_focused",
        "title",
        "selected",
        "selected_unfocused",
        "header",
        "flag",
        "warn",
        "key",
        "bar",
        "bar_replay",
        "bar_odd",
        "bar_no_session",
        "bar_selected",
        "cut",
        "tie",
        "json_key",
        "json_string",
        "json_number",
        "json_literal",
        "json_punct",
        "status",
        "error",
        "histogram",
        "current",
        "search_match",
    ];

    /// The style named `slot` (one of [`Theme::SLOTS`]).
    pub fn slot_mut(&mut self, slot: &str) -> Option<&mut Style> {
        Some(match slot {
            "text" => &mut self.text,
            "dim" => &mut self.dim,
            "border" => &mut self.border,
            "border_focused" => &mut self.border_focused,
            "title" => &mut self.title,
            "selected" => &mut self.selected,
            "selected_unfocused" => &mut self.selected_unfocused,
            "header" => &mut self.header,
            "flag" => &mut self.flag,
            "warn" => &mut self.warn,
            "key" => &mut self.key,
            "bar" => &mut self.bar,
            "bar_replay" => &mut self.bar_replay,
            "bar_odd" => &mut self.bar_odd,
            "bar_no_session" => &mut self.bar_no_session,
            "bar_selected" => &mut self.bar_selected,
            "cut" => &mut self.cut,
            "tie" => &mut self.tie,
            "json_key" => &mut self.json_key,
            "json_string" => &mut self.json_string,
            "json_number" => &mut self.json_number,
            "json_literal" => &mut self.json_literal,
            "json_punct" => &mut self.json_punct,
            "status" => &mut self.status,
            "error" => &mut self.error,
            "histogram" => &mut self.histogram,
            "current" => &mut self.current,
            "search_match" => &mut self.search_match,
            _ => return None,
        })
    }

    /// Sets the foreground colour of each named style (unknown names are ignored: the
    /// config file checks them when it is read).
    pub fn with_colors(mut self, colors: &[(String, Color)]) -> Self {
        for (slot, color) in colors {
            if let Some(style) = self.slot_mut(slot) {
                *style = style.fg(*color);
            }
        }
        self
    }

    /// The mono theme when `NO_COLOR` is set to anything non-empty, else colours.
    #[must_use]
    pub fn from_env() -> Self {
        Self::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// The theme for a value of `NO_COLOR`.
    #[must_use]
    pub fn for_no_color(value: Option<&std::ffi::OsStr>) -> Self {
        match value {
            Some(v) if !v.is_empty() => Self::mono(),
            _ => Self::color(),
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Self::color()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_removes_every_colour() {
        let t = Theme::for_no_color(Some(std::ffi::OsStr::new("1")));
        let styles = [
            t.text,
            t.dim,
            t.border,
            t.border_focused,
            t.title,
            t.selected,
            t.header,
            t.flag,
            t.warn,
            t.key,
            t.bar,
            t.bar_replay,
            t.bar_odd,
            t.bar_no_session,
            t.bar_selected,
            t.cut,
            t.tie,
            t.json_key,
            t.json_string,
            t.json_number,
            t.json_literal,
            t.json_punct,
            t.status,
            t.error,
            t.histogram,
            t.current,
            t.selected_unfocused,
        ];
        for s in styles {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert_eq!(
            Theme::for_no_color(Some(std::ffi::OsStr::new(""))),
            Theme::color()
        );
        assert_eq!(Theme::for_no_color(None), Theme::color());
    }
}
