//! Keys as data: one table of (keys, action, scope, description), held by the app as a
//! [`Keymap`] instance. Key resolution, the help overlay, the status bar's hints and every
//! key named anywhere else (pane and overlay titles, messages, prompts) are all generated
//! from that instance, so changing a binding changes all of them together and they cannot
//! disagree. [`Keymap::default`] is [`DEFAULT_BINDINGS`]; [`Keymap::rebind`] changes one
//! binding (for key overrides).
//!
//! Which scopes apply is one rule, [`active_scopes`]: with a prompt open, only
//! [`Scope::Prompt`] (typing bypasses the table for other keys); with an overlay open, the
//! overlay's scope, then [`Scope::Nav`], then [`Scope::Any`] ([`overlay_scopes`]);
//! otherwise the focused pane's scope, then `Nav`, [`Scope::Main`] and `Any`
//! ([`main_scopes`]). The first binding of the first scope that has the key wins. Key
//! resolution and the status bar's hints both call [`active_scopes`]; a title or message
//! that names a key asks [`Keymap::label`] with the scopes of the place it talks about
//! (an overlay's title: [`overlay_scopes`]; the panes and messages: [`main_scopes`]).

use std::borrow::Cow;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::model::{Focus, Lower, Model, Overlay};

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

    /// The action that opens this scope's overlay from the main view and closes it again
    /// (`?` for the help, `!` for the rejected requests). Inside the overlay the table
    /// binds its key to [`Action::CloseOverlay`], which does the same there, so a key
    /// that closes the overlay counts as that action's key.
    #[must_use]
    pub fn toggle(self) -> Option<Action> {
        match self {
            Scope::Help => Some(Action::ToggleHelp),
            Scope::Rejected => Some(Action::ToggleRejected),
            _ => None,
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
#[derive(Clone, Debug)]
pub struct Binding {
    /// The keys that trigger it (the first one that resolves to the action is the one
    /// hints, titles and messages show).
    pub keys: Cow<'static, [Key]>,
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
        keys: Cow::Borrowed(keys),
        action,
        scope,
        desc,
        hint,
    }
}

/// The default key table ([`Keymap::default`]).
#[rustfmt::skip]
pub const DEFAULT_BINDINGS: &[Binding] = &[
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

/// What a key is called where no key triggers the action (a remapped table can unbind it).
pub const UNBOUND: &str = "(unbound)";

/// A key table: resolves keys and names them for the help, hints, titles and messages.
/// The app holds one; the views are handed it to draw.
#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    /// The keymap of [`DEFAULT_BINDINGS`].
    fn default() -> Self {
        Self::new(DEFAULT_BINDINGS.to_vec())
    }
}

impl Keymap {
    /// A keymap of `bindings` (help order within each scope is their order).
    #[must_use]
    pub fn new(bindings: Vec<Binding>) -> Self {
        Self { bindings }
    }

    /// The bindings, in table order.
    #[must_use]
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// Binds `keys` to `action` in `scope` instead of its current keys. The keys are
    /// taken off any other binding of that scope, so no key is bound twice in a scope (a
    /// binding left without keys stays in the help, without keys). Returns false, and
    /// changes nothing, when the table has no binding of `action` in `scope`.
    pub fn rebind(&mut self, action: Action, scope: Scope, keys: &[Key]) -> bool {
        if !self
            .bindings
            .iter()
            .any(|b| b.scope == scope && b.action == action)
        {
            return false;
        }
        for b in self.bindings.iter_mut().filter(|b| b.scope == scope) {
            if b.action == action {
                b.keys = Cow::Owned(keys.to_vec());
            } else if b.keys.iter().any(|k| keys.contains(k)) {
                b.keys = Cow::Owned(
                    b.keys
                        .iter()
                        .copied()
                        .filter(|k| !keys.contains(k))
                        .collect(),
                );
            }
        }
        true
    }

    /// The action of `key` in the first of `scopes` that binds it.
    #[must_use]
    pub fn resolve(&self, key: Key, scopes: &[Scope]) -> Option<Action> {
        scopes.iter().find_map(|&scope| {
            self.in_scope(scope)
                .find(|b| b.keys.contains(&key))
                .map(|b| b.action)
        })
    }

    /// Whether `key` does `action` where `scopes` apply: it resolves to `action`, or to
    /// [`Action::CloseOverlay`] in an overlay that `action` toggles ([`Scope::toggle`]).
    #[must_use]
    pub fn triggers(&self, key: Key, action: Action, scopes: &[Scope]) -> bool {
        match self.resolve(key, scopes) {
            Some(a) if a == action => true,
            Some(Action::CloseOverlay) => scopes.first().and_then(|s| s.toggle()) == Some(action),
            _ => false,
        }
    }

    /// The bindings of one scope, in table order.
    pub fn in_scope(&self, scope: Scope) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.scope == scope)
    }

    /// The keys that do `action` where `scopes` apply ([`Keymap::triggers`]): those of
    /// its bindings in `scopes`, in scope order, then table order, then key order.
    #[must_use]
    pub fn keys_for(&self, action: Action, scopes: &[Scope]) -> Vec<Key> {
        let mut out: Vec<Key> = Vec::new();
        for &scope in scopes {
            for b in self.in_scope(scope).filter(|b| b.action == action) {
                for &k in b.keys.iter() {
                    if !out.contains(&k) && self.triggers(k, action, scopes) {
                        out.push(k);
                    }
                }
            }
        }
        out
    }

    /// How to name the key for `action` where `scopes` apply: the first of
    /// [`Keymap::keys_for`]. When none triggers it there (a prompt is open, say), the
    /// first key bound to it in any scope; [`UNBOUND`] when it has no key at all.
    #[must_use]
    pub fn label(&self, action: Action, scopes: &[Scope]) -> String {
        self.keys_for(action, scopes)
            .first()
            .or_else(|| {
                self.bindings
                    .iter()
                    .filter(|b| b.action == action)
                    .find_map(|b| b.keys.first())
            })
            .map_or_else(|| UNBOUND.to_string(), |k| k.label())
    }

    /// All the keys for `action` where `scopes` apply, joined with `sep` (`Esc or ?`);
    /// like [`Keymap::label`] when there are none.
    #[must_use]
    pub fn labels(&self, action: Action, scopes: &[Scope], sep: &str) -> String {
        let keys = self.keys_for(action, scopes);
        if keys.is_empty() {
            return self.label(action, scopes);
        }
        keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(sep)
    }

    /// Status-bar hints where `scopes` apply, in scope and table order, one per hint
    /// word: each names the first key of its binding that does the binding's action
    /// there ([`Keymap::triggers`]; a binding none of whose keys does is left out).
    #[must_use]
    pub fn hints(&self, scopes: &[Scope]) -> Vec<Hint> {
        let mut out: Vec<Hint> = Vec::new();
        for &scope in scopes {
            for b in self.in_scope(scope) {
                let Some(word) = b.hint else {
                    continue;
                };
                if out.iter().any(|h| h.word == word) {
                    continue;
                }
                if let Some(&key) = b.keys.iter().find(|&&k| self.triggers(k, b.action, scopes)) {
                    out.push(Hint {
                        key,
                        action: b.action,
                        word,
                    });
                }
            }
        }
        out
    }
}

/// One status-bar hint: a key and a word for what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint {
    /// The key shown.
    pub key: Key,
    /// What the key does where the hint is shown.
    pub action: Action,
    /// The hint's word (`search`, `quit`).
    pub word: &'static str,
}

/// The scopes that apply now, most specific first: **the** rule for which keys do what,
/// used by key resolution ([`crate::tui::app::App::on_key`]) and the status bar's hints.
/// A prompt takes every key ([`Scope::Prompt`] only; other characters are typed); else
/// the open overlay's scopes ([`overlay_scopes`]); else the main view's
/// ([`main_scopes`]).
#[must_use]
pub fn active_scopes(model: &Model) -> Vec<Scope> {
    if model.prompt.is_some() {
        return vec![Scope::Prompt];
    }
    match model.overlay {
        Overlay::Help { .. } => overlay_scopes(Scope::Help),
        Overlay::Detail => overlay_scopes(Scope::Detail),
        Overlay::Rejected => overlay_scopes(Scope::Rejected),
        Overlay::None => main_scopes(model),
    }
}

/// The scopes of an open overlay whose own scope is `overlay`: it, then [`Scope::Nav`]
/// and [`Scope::Any`]. Part of [`active_scopes`]; an overlay's title names its keys with
/// these.
#[must_use]
pub fn overlay_scopes(overlay: Scope) -> Vec<Scope> {
    vec![overlay, Scope::Nav, Scope::Any]
}

/// The main view's scopes with the model's focus: the focused pane's scope, then
/// [`Scope::Nav`], [`Scope::Main`] and [`Scope::Any`]. Part of [`active_scopes`]; pane
/// titles and messages name main-view keys with these (they hold under an overlay or a
/// prompt too, for when it closes).
#[must_use]
pub fn main_scopes(model: &Model) -> Vec<Scope> {
    let pane = match (model.focus, model.lower) {
        (Focus::Users, _) => Scope::Users,
        (Focus::Timeline, _) => Scope::Timeline,
        (Focus::Lower, Lower::Events) => Scope::Events,
        (Focus::Lower, Lower::Replay) => Scope::Replay,
    };
    vec![pane, Scope::Nav, Scope::Main, Scope::Any]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for scope in Scope::ORDER {
            let keys: Vec<Key> = Keymap::default()
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
        let k = Keymap::default();
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
