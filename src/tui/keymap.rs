//! Keys as data: one table of (keys, action, scope, description). Key resolution, the
//! help overlay and the status bar's hints are all generated from [`BINDINGS`], so they
//! cannot disagree.
//!
//! Resolution looks at scopes in order: with an overlay open, the overlay's scope, then
//! [`Scope::Nav`], then [`Scope::Any`]; otherwise the focused pane's scope, then `Nav`,
//! [`Scope::Main`] and `Any`. The first binding of the first scope that has the key wins.
//! Typing into a prompt bypasses the table except for the [`Scope::Prompt`] keys.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere, overlays included.
    Any,
    /// Movement; applies to the focused pane or the open overlay.
    Nav,
    /// The main view (no overlay open).
    Main,
    /// The users pane has focus.
    Users,
    /// The timeline has focus.
    Timeline,
    /// The event list has focus.
    Events,
    /// The replay panel has focus.
    Replay,
    /// The event detail overlay is open.
    Detail,
    /// The rejected-requests overlay is open.
    Rejected,
    /// The help overlay is open.
    Help,
    /// A prompt is open.
    Prompt,
}

impl Scope {
    /// The heading of this scope's section in the help.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Scope::Any => "Everywhere",
            Scope::Nav => "Moving (focused pane or overlay)",
            Scope::Main => "Main view",
            Scope::Users => "Users pane",
            Scope::Timeline => "Timeline",
            Scope::Events => "Event list",
            Scope::Replay => "Replay panel",
            Scope::Detail => "Event detail",
            Scope::Rejected => "Rejected requests (listen)",
            Scope::Help => "Help",
            Scope::Prompt => "Prompts (search, filters, timeout, export)",
        }
    }

    /// Scopes in the order the help lists them.
    pub const ORDER: [Scope; 11] = [
        Scope::Any,
        Scope::Nav,
        Scope::Main,
        Scope::Users,
        Scope::Timeline,
        Scope::Events,
        Scope::Replay,
        Scope::Detail,
        Scope::Rejected,
        Scope::Help,
        Scope::Prompt,
    ];
}

/// One key with its modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl (Shift is folded into the character).
    pub ctrl: bool,
}

const fn ch(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

impl Key {
    /// The key of a terminal key event (Shift folded into characters and BackTab).
    #[must_use]
    pub fn of(event: &KeyEvent) -> Key {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let code = match event.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            KeyCode::Tab if event.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            c => c,
        };
        Key { code, ctrl }
    }

    /// How the help writes the key: `j`, `Ctrl-D`, `PgDn`, `Shift-Tab`.
    #[must_use]
    pub fn label(self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if self.ctrl => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Backspace => "Backspace".to_string(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// One row of the key table.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// The keys that trigger it (the first is the one hints show).
    pub keys: &'static [Key],
    /// What it does.
    pub action: Action,
    /// Where it applies.
    pub scope: Scope,
    /// The help text.
    pub desc: &'static str,
    /// A one-word hint for the status bar, when the binding deserves one.
    pub hint: Option<&'static str>,
}

const fn bind(
    keys: &'static [Key],
    action: Action,
    scope: Scope,
    desc: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        keys,
        action,
        scope,
        desc,
        hint,
    }
}

/// The default key table.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    bind(&[ch('q'), ctrl('c')], Action::Quit, Scope::Any, "quit", Some("quit")),
    bind(&[ch('?')], Action::ToggleHelp, Scope::Any, "show or hide this help", Some("help")),
    bind(&[ch('t')], Action::CycleTimeout, Scope::Any, "replay with the next preset timeout (1m 5m 15m 30m 1h 2h)", Some("timeout")),
    bind(&[ch('T')], Action::PromptTimeout, Scope::Any, "type a replay timeout (90s, 45m, 1h30m)", None),
    bind(&[ch('z')], Action::CycleZone, Scope::Any, "show times in UTC, local time or the --tz zone", Some("zone")),
    bind(&[ch('j'), code(KeyCode::Down)], Action::Down, Scope::Nav, "down one row", None),
    bind(&[ch('k'), code(KeyCode::Up)], Action::Up, Scope::Nav, "up one row", None),
    bind(&[ch('g'), code(KeyCode::Home)], Action::Top, Scope::Nav, "first row", None),
    bind(&[ch('G'), code(KeyCode::End)], Action::Bottom, Scope::Nav, "last row", None),
    bind(&[code(KeyCode::PageDown), ctrl('f')], Action::PageDown, Scope::Nav, "down one page", None),
    bind(&[code(KeyCode::PageUp), ctrl('b')], Action::PageUp, Scope::Nav, "up one page", None),
    bind(&[ctrl('d')], Action::HalfPageDown, Scope::Nav, "down half a page", None),
    bind(&[ctrl('u')], Action::HalfPageUp, Scope::Nav, "up half a page", None),
    bind(&[code(KeyCode::Tab)], Action::FocusNext, Scope::Main, "focus the next pane", Some("pane")),
    bind(&[code(KeyCode::BackTab)], Action::FocusPrev, Scope::Main, "focus the previous pane", None),
    bind(&[code(KeyCode::Enter)], Action::Open, Scope::Main, "open: a user's events, an event's detail", Some("open")),
    bind(&[ch('}')], Action::NextSession, Scope::Main, "next session", Some("session")),
    bind(&[ch('{')], Action::PrevSession, Scope::Main, "previous session", None),
    bind(&[ch('e')], Action::NextFlagged, Scope::Main, "next flagged user, session or event", Some("flagged")),
    bind(&[ch('E')], Action::PrevFlagged, Scope::Main, "previous flagged user, session or event", None),
    bind(&[ch('/')], Action::Search, Scope::Main, "search events (in the users pane: filter users by id)", Some("search")),
    bind(&[ch('n')], Action::SearchNext, Scope::Main, "next search match", None),
    bind(&[ch('N')], Action::SearchPrev, Scope::Main, "previous search match", None),
    bind(&[ch('f')], Action::FilterType, Scope::Main, "filter the event list by event type", Some("filter")),
    bind(&[ch('r')], Action::ToggleReplay, Scope::Main, "show the replay panel (sweep, gap histogram) or the events", Some("replay")),
    bind(&[ch('F')], Action::ToggleFollow, Scope::Main, "follow the newest events (on by default when live); moving pauses it", None),
    bind(&[ch('!')], Action::ToggleRejected, Scope::Main, "list the rejected requests of `streamscope listen`, with their reasons", None),
    bind(&[ch('x')], Action::Export, Scope::Main, "export the user's events (or the filtered rows) to NDJSON", Some("export")),
    bind(&[ch('s')], Action::CycleSort, Scope::Users, "sort by anomalies, events or most recent", Some("sort")),
    bind(&[ch('+'), ch('=')], Action::ZoomIn, Scope::Timeline, "zoom in", Some("zoom")),
    bind(&[ch('-')], Action::ZoomOut, Scope::Timeline, "zoom out", None),
    bind(&[ch('0')], Action::ZoomReset, Scope::Timeline, "fit the user's whole history", None),
    bind(&[ch('h'), code(KeyCode::Left)], Action::PanLeft, Scope::Timeline, "pan to earlier times", Some("pan")),
    bind(&[ch('l'), code(KeyCode::Right)], Action::PanRight, Scope::Timeline, "pan to later times", None),
    bind(&[ch('o')], Action::ToggleOrder, Scope::Events, "newest first or oldest first", Some("order")),
    bind(&[ch('y')], Action::Copy, Scope::Events, "copy the event's raw JSON (OSC 52)", Some("copy")),
    bind(&[ch('y')], Action::Copy, Scope::Detail, "copy the raw JSON to the clipboard (OSC 52)", Some("copy")),
    bind(&[code(KeyCode::Esc), code(KeyCode::Enter)], Action::CloseOverlay, Scope::Detail, "close", Some("close")),
    bind(&[code(KeyCode::Enter), code(KeyCode::Right)], Action::Open, Scope::Rejected, "show the request's body", Some("body")),
    bind(&[code(KeyCode::Esc), code(KeyCode::Left), ch('!')], Action::CloseOverlay, Scope::Rejected, "back from the body, or close", Some("close")),
    bind(&[code(KeyCode::Esc), ch('?')], Action::CloseOverlay, Scope::Help, "close", Some("close")),
    bind(&[code(KeyCode::Enter)], Action::PromptSubmit, Scope::Prompt, "accept", Some("accept")),
    bind(&[code(KeyCode::Esc)], Action::PromptCancel, Scope::Prompt, "cancel", Some("cancel")),
    bind(&[code(KeyCode::Backspace)], Action::PromptBackspace, Scope::Prompt, "delete a character", None),
];

/// What the mouse does (not keys, but listed in the help with them).
pub const MOUSE_HELP: &[(&str, &str)] = &[
    (
        "click",
        "select the user, event or session under the pointer",
    ),
    ("wheel", "scroll the pane under the pointer"),
];

/// Looks up keys in [`BINDINGS`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Keymap;

impl Keymap {
    /// The action of `key` in the first of `scopes` that binds it.
    #[must_use]
    pub fn resolve(self, key: Key, scopes: &[Scope]) -> Option<Action> {
        scopes.iter().find_map(|&scope| {
            BINDINGS
                .iter()
                .find(|b| b.scope == scope && b.keys.contains(&key))
                .map(|b| b.action)
        })
    }

    /// The bindings of one scope, in table order.
    pub fn in_scope(self, scope: Scope) -> impl Iterator<Item = &'static Binding> {
        BINDINGS.iter().filter(move |b| b.scope == scope)
    }

    /// Status-bar hints for `scopes`: (first key label, hint word).
    #[must_use]
    pub fn hints(self, scopes: &[Scope]) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for &scope in scopes {
            for b in self.in_scope(scope) {
                if let Some(hint) = b.hint
                    && !out.iter().any(|(_, h)| *h == hint)
                {
                    out.push((b.keys[0].label(), hint));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for scope in Scope::ORDER {
            let keys: Vec<Key> = Keymap
                .in_scope(scope)
                .flat_map(|b| b.keys.iter().copied())
                .collect();
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(k), "{k:?} twice in {scope:?}");
            }
        }
    }

    #[test]
    fn pane_keys_win_over_main_keys() {
        let k = Keymap;
        let y = ch('y');
        assert_eq!(
            k.resolve(y, &[Scope::Events, Scope::Nav, Scope::Main]),
            Some(Action::Copy)
        );
        assert_eq!(k.resolve(y, &[Scope::Users, Scope::Nav, Scope::Main]), None);
        assert_eq!(
            k.resolve(code(KeyCode::Down), &[Scope::Help, Scope::Nav]),
            Some(Action::Down)
        );
    }

    #[test]
    fn ctrl_keys_are_read_case_insensitively() {
        let ev = KeyEvent::new(KeyCode::Char('D'), KeyModifiers::CONTROL);
        assert_eq!(Key::of(&ev), ctrl('d'));
        assert_eq!(ctrl('d').label(), "Ctrl-D");
        let ev = KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT);
        assert_eq!(Key::of(&ev).code, KeyCode::BackTab);
    }
}
