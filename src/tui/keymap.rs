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
    /// Playback (`p`) is running in the lower right pane.
    Playback,
    /// The event detail overlay is open.
    Detail,
    /// The rejected-requests overlay is open.
    Rejected,
    /// The findings overlay is open.
    Findings,
    /// The help overlay is open.
    Help,
    /// The session detail overlay is open.
    Session,
    /// The all-users search results are open.
    SearchResults,
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
            Scope::Playback => "Playback (p)",
            Scope::Detail => "Event detail",
            Scope::Rejected => "Rejected requests (listen)",
            Scope::Findings => "Findings",
            Scope::Help => "Help",
            Scope::Session => "Session detail",
            Scope::SearchResults => "Search results (all users)",
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
            Scope::Findings => Some(Action::ToggleFindings),
            _ => None,
        }
    }

    /// Scopes in the order the help lists them.
    pub const ORDER: [Scope; 15] = [
        Scope::Any,
        Scope::Nav,
        Scope::Main,
        Scope::Users,
        Scope::Timeline,
        Scope::Events,
        Scope::Replay,
        Scope::Playback,
        Scope::Detail,
        Scope::Rejected,
        Scope::Findings,
        Scope::Session,
        Scope::SearchResults,
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

    /// Reads a key as a config file writes it: one character (`F`, `/`, `?`), `Ctrl-D`
    /// (also `ctrl-d`, `C-d`), or a named key (`Enter`, `Esc`, `Tab`, `Shift-Tab`,
    /// `Space`, `Backspace`, `Up`, `Down`, `Left`, `Right`, `Home`, `End`, `PgUp`,
    /// `PgDn`; names in any case).
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(ch(c));
        }
        let lower = text.to_ascii_lowercase();
        for prefix in ["ctrl-", "ctrl+", "c-"] {
            if let Some(rest) = lower.strip_prefix(prefix) {
                let mut rest = rest.chars();
                if let (Some(c), None) = (rest.next(), rest.next())
                    && c.is_ascii_alphanumeric()
                {
                    return Ok(ctrl(c));
                }
            }
        }
        let named = match lower.as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            _ => {
                return Err(format!(
                    "'{text}' is not a key: one character (F, /), Ctrl-X, or a name such as Enter, Esc, Tab, Space, Up, PgDn"
                ));
            }
        };
        Ok(code(named))
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
    bind(&[code(KeyCode::Enter)], Action::Open, Scope::Main, "open: a user's events, an event's detail, a session header's session detail", Some("open")),
    bind(&[ch('}')], Action::NextSession, Scope::Main, "next session", Some("session")),
    bind(&[ch('{')], Action::PrevSession, Scope::Main, "previous session", None),
    bind(&[ch('e')], Action::NextFlagged, Scope::Main, "next flagged user, session or event", Some("flagged")),
    bind(&[ch('E')], Action::PrevFlagged, Scope::Main, "previous flagged user, session or event", None),
    bind(&[ch('/')], Action::Search, Scope::Main, "search events (in the users pane: filter users by user, device or Amplitude id)", Some("search")),
    bind(&[ch('n')], Action::SearchNext, Scope::Main, "next search match", None),
    bind(&[ch('N')], Action::SearchPrev, Scope::Main, "previous search match", None),
    bind(&[ch('S')], Action::SearchAll, Scope::Main, "search all users' events: a results list with its count; then n/N step through it", None),
    bind(&[ch('f')], Action::FilterType, Scope::Main, "filter the event list by event type", Some("filter")),
    bind(&[ch('r')], Action::ToggleReplay, Scope::Main, "show the replay panel (sweep, gap histogram) or the events", Some("replay")),
    bind(&[ch('F')], Action::ToggleFollow, Scope::Main, "follow the selected user's newest events (on by default when live); moving pauses it", None),
    bind(&[ch('L')], Action::JumpLatestUser, Scope::Main, "jump to the user who sent last, and follow them", None),
    bind(&[ch('!')], Action::ToggleRejected, Scope::Main, "list the rejected requests of `streamscope listen`, with their reasons", None),
    bind(&[ch('x')], Action::Export, Scope::Main, "export the user's events (or the filtered rows) to NDJSON", Some("export")),
    bind(&[ch('i')], Action::ToggleFindings, Scope::Main, "findings: what is wrong over the whole input, and who carries it", Some("findings")),
    bind(&[ch('p')], Action::TogglePlayback, Scope::Main, "play the user's stream back in time: what the SDK does under the timeout as events arrive", None),
    bind(&[ch(' ')], Action::PlaybackPause, Scope::Playback, "pause or resume", Some("pause")),
    bind(&[ch('.')], Action::PlaybackStep, Scope::Playback, "step to the next event or session end (pauses)", Some("step")),
    bind(&[ch(']')], Action::PlaybackFaster, Scope::Playback, "faster (1× 10× 60× 600× 3600× skip idle)", Some("faster")),
    bind(&[ch('[')], Action::PlaybackSlower, Scope::Playback, "slower", Some("slower")),
    bind(&[ch('p'), code(KeyCode::Esc)], Action::TogglePlayback, Scope::Playback, "stop: back to the events, at the last event played", Some("stop")),
    bind(&[ch('s')], Action::CycleSort, Scope::Users, "sort by triage severity, events or most recent", Some("sort")),
    bind(&[code(KeyCode::Esc)], Action::ClearFinding, Scope::Users, "stop narrowing the users to a finding", None),
    bind(&[ch('Z')], Action::FitSession, Scope::Main, "fit the timeline to the selected session (the replay timeout either side; the default)", None),
    bind(&[ch('+'), ch('=')], Action::ZoomIn, Scope::Main, "zoom the timeline in, around the selected session", None),
    bind(&[ch('-')], Action::ZoomOut, Scope::Main, "zoom the timeline out", None),
    bind(&[ch('0')], Action::ZoomReset, Scope::Main, "show the user's whole history on the timeline", None),
    bind(&[ch('<')], Action::PanLeft, Scope::Main, "pan the timeline to earlier times", None),
    bind(&[ch('>')], Action::PanRight, Scope::Main, "pan the timeline to later times", None),
    bind(&[ch('h'), code(KeyCode::Left)], Action::PanLeft, Scope::Timeline, "pan to earlier times", Some("pan")),
    bind(&[ch('l'), code(KeyCode::Right)], Action::PanRight, Scope::Timeline, "pan to later times", None),
    bind(&[ch('a')], Action::ToggleReplayScope, Scope::Replay, "about the selected user, or the whole input", Some("user/all")),
    bind(&[ch('c')], Action::CycleCompareTimeout, Scope::Replay, "compare T with the next preset timeout (1m 5m 15m 30m 1h 2h)", Some("compare")),
    bind(&[ch('o')], Action::ToggleOrder, Scope::Events, "newest first or oldest first", Some("order")),
    bind(&[ch('y')], Action::Copy, Scope::Events, "copy the event's raw JSON (OSC 52)", Some("copy")),
    bind(&[ch(' ')], Action::ToggleFold, Scope::Events, "fold or unfold the session under the cursor", Some("fold")),
    bind(&[ch('C')], Action::ToggleFoldAll, Scope::Events, "fold every session, or unfold them all", None),
    bind(&[ch('h'), code(KeyCode::Left)], Action::PropsLeft, Scope::Events, "scroll the properties left", None),
    bind(&[ch('l'), code(KeyCode::Right)], Action::PropsRight, Scope::Events, "scroll the properties right (the whole property text)", None),
    bind(&[ch('y')], Action::Copy, Scope::Detail, "copy the raw JSON to the clipboard (OSC 52)", Some("copy")),
    bind(&[code(KeyCode::Esc), code(KeyCode::Enter)], Action::CloseOverlay, Scope::Detail, "close", Some("close")),
    bind(&[code(KeyCode::Enter), code(KeyCode::Right)], Action::Open, Scope::Rejected, "show a request's body or a record's full text", Some("open")),
    bind(&[code(KeyCode::Esc), code(KeyCode::Left), ch('!')], Action::CloseOverlay, Scope::Rejected, "back from the body, or close", Some("close")),
    bind(&[code(KeyCode::Enter)], Action::Open, Scope::Findings, "list the users carrying the finding", Some("users")),
    bind(&[code(KeyCode::Esc), ch('i')], Action::CloseOverlay, Scope::Findings, "close", Some("close")),
    bind(&[code(KeyCode::Esc), ch('?')], Action::CloseOverlay, Scope::Help, "close", Some("close")),
    bind(&[code(KeyCode::Esc), code(KeyCode::Enter)], Action::CloseOverlay, Scope::Session, "close", Some("close")),
    bind(&[code(KeyCode::Enter)], Action::Open, Scope::SearchResults, "go to the user and event", Some("go to")),
    bind(&[ch('/'), ch('S')], Action::SearchAll, Scope::SearchResults, "search all users again", Some("search")),
    bind(&[code(KeyCode::Esc)], Action::CloseOverlay, Scope::SearchResults, "close (n/N then step through the results)", Some("close")),
    bind(&[code(KeyCode::Enter)], Action::PromptSubmit, Scope::Prompt, "accept", Some("accept")),
    bind(&[code(KeyCode::Esc)], Action::PromptCancel, Scope::Prompt, "cancel", Some("cancel")),
    bind(&[code(KeyCode::Backspace)], Action::PromptBackspace, Scope::Prompt, "delete a character", None),
    bind(&[ctrl('u')], Action::PromptClear, Scope::Prompt, "clear what was typed", None),
    bind(&[ctrl('w')], Action::PromptDeleteWord, Scope::Prompt, "delete a word", None),
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

    /// The bindable action named `name` ([`Action::name`]).
    #[must_use]
    pub fn action_named(&self, name: &str) -> Option<Action> {
        self.bindings
            .iter()
            .map(|b| b.action)
            .find(|a| a.name() == Some(name))
    }

    /// Binds `keys` to `action` in every scope the table has it in (see
    /// [`Keymap::rebind`]). Returns false when the table has no binding of `action`.
    pub fn rebind_everywhere(&mut self, action: Action, keys: &[Key]) -> bool {
        let scopes: Vec<Scope> = self
            .bindings
            .iter()
            .filter(|b| b.action == action)
            .map(|b| b.scope)
            .collect();
        for &scope in &scopes {
            self.rebind(action, scope, keys);
        }
        !scopes.is_empty()
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
        Overlay::Findings => overlay_scopes(Scope::Findings),
        Overlay::Session => overlay_scopes(Scope::Session),
        Overlay::SearchResults => overlay_scopes(Scope::SearchResults),
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
        (Focus::Lower, Lower::Playback) => Scope::Playback,
    };
    // Playback's keys apply whichever pane has focus while it runs.
    if model.lower == Lower::Playback && pane != Scope::Playback {
        return vec![Scope::Playback, pane, Scope::Nav, Scope::Main, Scope::Any];
    }
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

    #[test]
    fn rebind_moves_keys_and_keeps_each_key_once_per_scope() {
        let mut k = Keymap::default();
        // `s` sorts users; bound to search in the main view it is taken off nothing else
        // there, while `/` is taken off search and left unbound.
        assert!(k.rebind(Action::Search, Scope::Main, &[ch('s')]));
        assert!(!k.rebind(Action::Search, Scope::Users, &[ch('/')]));
        // Taking `n` for export leaves SearchNext without keys: still in the table.
        assert!(k.rebind(Action::Export, Scope::Main, &[ch('n')]));
        for scope in Scope::ORDER {
            let keys: Vec<Key> = k
                .in_scope(scope)
                .flat_map(|b| b.keys.iter().copied())
                .collect();
            for (i, key) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(key), "{key:?} twice in {scope:?}");
            }
        }
        let main = [Scope::Events, Scope::Nav, Scope::Main, Scope::Any];
        let users = [Scope::Users, Scope::Nav, Scope::Main, Scope::Any];
        assert_eq!(k.resolve(ch('/'), &main), None);
        assert_eq!(k.resolve(ch('s'), &main), Some(Action::Search));
        // In the users pane `s` still sorts: the pane's scope comes first.
        assert_eq!(k.resolve(ch('s'), &users), Some(Action::CycleSort));
        assert_eq!(k.label(Action::Search, &main), "s");
        assert!(k.keys_for(Action::Search, &users).is_empty());
        assert_eq!(k.label(Action::Export, &main), "n");
        assert_eq!(k.label(Action::SearchNext, &main), UNBOUND);
        assert!(k.hints(&users).iter().all(|h| h.word != "search"));
        assert!(k.hints(&main).contains(&Hint {
            key: ch('s'),
            action: Action::Search,
            word: "search",
        }));
    }

    #[test]
    fn an_overlay_s_toggle_key_counts_as_its_close_key() {
        let k = Keymap::default();
        let help = overlay_scopes(Scope::Help);
        assert_eq!(k.resolve(ch('?'), &help), Some(Action::CloseOverlay));
        assert!(k.triggers(ch('?'), Action::ToggleHelp, &help));
        assert_eq!(k.labels(Action::CloseOverlay, &help, " or "), "Esc or ?");
        assert_eq!(k.label(Action::ToggleHelp, &help), "?");
        let detail = overlay_scopes(Scope::Detail);
        assert!(!k.triggers(code(KeyCode::Esc), Action::ToggleHelp, &detail));
        // A prompt takes every key: labels fall back to the key the action has elsewhere.
        assert!(k.keys_for(Action::Quit, &[Scope::Prompt]).is_empty());
        assert_eq!(k.label(Action::Quit, &[Scope::Prompt]), "q");
    }

    /// Tests that need an app: a remapped table shows everywhere, and the hints of every
    /// state name keys that do what they say.
    mod with_app {
        use crossterm::event::{KeyEvent, KeyModifiers};
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;

        use super::*;
        use crate::analysis::Rules;
        use crate::source::{LoadOptions, load};
        use crate::store::EventStore;
        use crate::tui::app::App;
        use crate::tui::live_view::Follow;
        use crate::tui::model::PromptKind;
        use crate::tui::ui::{self, Theme};
        use crate::tui::zone::Zones;

        const FIXTURE: &str = "tests/fixtures/tui/small.ndjson";

        fn app(keys: &Keymap) -> App {
            let mut store = EventStore::new();
            let src = store.add_source(FIXTURE);
            let opts = LoadOptions {
                keep_raw: true,
                threads: 1,
                ..LoadOptions::default()
            };
            let mut events = Vec::new();
            load(FIXTURE, src, &opts, &mut |ev| events.push(ev));
            for ev in events {
                store.apply(ev);
            }
            let mut app = App::new(store, Rules::default(), Zones::default());
            app.set_keymap(keys.clone());
            app.analyse_now();
            app
        }

        fn press(app: &mut App, key: Key) {
            let mods = if key.ctrl {
                KeyModifiers::CONTROL
            } else {
                KeyModifiers::NONE
            };
            app.on_key(KeyEvent::new(key.code, mods));
        }

        /// The screen's rows at `width`×40.
        fn screen_at(app: &mut App, width: u16) -> Vec<String> {
            let mut terminal = Terminal::new(TestBackend::new(width, 40)).expect("test backend");
            app.draw(&mut terminal).expect("draw");
            let buf = terminal.backend().buffer();
            (0..buf.area.height)
                .map(|y| {
                    (0..buf.area.width)
                        .map(|x| buf[(x, y)].symbol())
                        .collect::<String>()
                })
                .collect()
        }

        /// The screen's rows at 120×40.
        fn screen(app: &mut App) -> Vec<String> {
            screen_at(app, 120)
        }

        /// The status bar's second line, wide enough for every hint.
        fn status_hints_line(app: &mut App) -> String {
            screen_at(app, 240).pop().expect("a status line")
        }

        #[test]
        fn a_remapped_key_shows_in_resolution_help_hints_titles_and_messages() {
            let mut keys = Keymap::default();
            assert!(keys.rebind(Action::ToggleFollow, Scope::Main, &[ch('L')]));
            assert!(keys.rebind(Action::Search, Scope::Main, &[ch('S')]));
            assert!(keys.rebind(
                Action::CloseOverlay,
                Scope::Help,
                &[code(KeyCode::Esc), ch('c')]
            ));
            let mut app = app(&keys);

            // Resolution: the old keys do nothing, the new ones act.
            press(&mut app, ch('F'));
            assert_eq!(app.model.follow, Follow::Off);
            press(&mut app, ch('L'));
            assert_eq!(app.model.follow, Follow::On);
            press(&mut app, ch('L'));
            assert_eq!(app.model.follow, Follow::Off);
            // A message.
            let msg = app.model.message.as_ref().map(|m| m.text.as_str());
            assert_eq!(
                msg,
                Some("stopped following; L follows the newest events again")
            );
            press(&mut app, ch('n'));
            let msg = app.model.message.as_ref().map(|m| m.text.as_str());
            assert_eq!(msg, Some("type S to search"));

            // The status bar's hints.
            let line = status_hints_line(&mut app);
            assert!(line.contains("S search"), "{line}");
            assert!(!line.contains("/ search"), "{line}");

            // A title: the event pane's, once following is paused by a move.
            press(&mut app, ch('L'));
            press(&mut app, ch('j'));
            assert!(matches!(app.model.follow, Follow::Paused { .. }));
            let rows = screen(&mut app);
            assert!(rows.iter().any(|r| r.contains("L to follow")), "{rows:#?}");
            assert!(!rows.iter().any(|r| r.contains("F to follow")), "{rows:#?}");

            // The search prompt's label.
            press(&mut app, code(KeyCode::Tab));
            press(&mut app, code(KeyCode::Tab));
            press(&mut app, ch('/'));
            assert!(app.model.prompt.is_none());
            press(&mut app, ch('S'));
            assert_eq!(
                app.model.prompt.as_ref().map(|p| p.kind),
                Some(PromptKind::Search)
            );
            let line = status_hints_line(&mut app);
            assert!(line.starts_with(" search events: S▏"), "{line}");
            press(&mut app, code(KeyCode::Esc));

            // The help: its rows, its title and its hints.
            let help: Vec<String> = ui::help::lines(app.keymap(), &Theme::mono())
                .iter()
                .map(ToString::to_string)
                .collect();
            let follow = help
                .iter()
                .find(|l| l.contains("follow the selected user's newest events"))
                .expect("a follow row");
            assert!(follow.starts_with("  L "), "{follow}");
            assert!(help.iter().any(|l| l.starts_with("  Esc c ")), "{help:#?}");
            press(&mut app, ch('?'));
            let rows = screen(&mut app);
            assert!(
                rows[0].contains("· Esc or c closes · j/k scroll "),
                "{}",
                rows[0]
            );
            // `?` no longer closes the help itself, but toggles it from everywhere.
            let line = rows.last().expect("a status line");
            assert!(line.contains("Esc close  q quit  ? help"), "{line}");
            press(&mut app, ch('c'));
            assert_eq!(app.model.overlay, Overlay::None);
        }

        /// What a key or an action changed, as far as these tests look.
        #[derive(Debug, PartialEq)]
        struct Seen {
            overlay: Overlay,
            focus: Focus,
            lower: Lower,
            prompt: Option<PromptKind>,
            message: Option<String>,
            quit: bool,
            follow: Follow,
            timeout_ms: i64,
            zone: String,
            users: (usize, String),
            events: (usize, String),
            timeline: (crate::tui::rows::Scale, Option<i64>),
            detail: bool,
            rejected_body: Option<bool>,
            clipboard: Option<Vec<u8>>,
            playback: Option<(i64, usize, bool)>,
        }

        fn seen(app: &mut App) -> Seen {
            let m = &app.model;
            let seen = Seen {
                overlay: m.overlay,
                focus: m.focus,
                lower: m.lower,
                prompt: m.prompt.as_ref().map(|p| p.kind),
                message: m.message.as_ref().map(|m| m.text.clone()),
                quit: app.should_quit(),
                follow: m.follow,
                timeout_ms: m.rules.timeout_ms,
                zone: m.zones.current().label(),
                users: (m.derived.users.selected, m.users.sort.label().to_string()),
                events: (
                    m.derived.events.selected,
                    m.events.order.label().to_string(),
                ),
                timeline: (m.derived.timeline.scale, m.derived.timeline.center),
                detail: m.derived.detail.is_some(),
                rejected_body: m.rejected.as_ref().map(|r| r.body.is_some()),
                clipboard: None,
                playback: m
                    .derived
                    .playback
                    .as_ref()
                    .map(|p| (p.now, p.speed, p.paused)),
            };
            Seen {
                clipboard: app.take_clipboard().map(|c| c.raw),
                ..seen
            }
        }

        /// Every state the status bar has hints for, reached with actions.
        fn states() -> Vec<(&'static str, Vec<Action>)> {
            use Action::{FocusNext, FocusPrev, Open, Search, ToggleHelp, ToggleRejected};
            vec![
                ("users", vec![]),
                ("timeline", vec![FocusNext]),
                ("events", vec![FocusPrev]),
                ("replay", vec![Action::ToggleReplay]),
                ("help", vec![ToggleHelp]),
                ("detail", vec![FocusPrev, Action::Down, Open]),
                ("rejected", vec![ToggleRejected]),
                ("rejected body", vec![ToggleRejected, Open]),
                ("prompt", vec![FocusPrev, Search]),
                ("users prompt", vec![Search]),
                ("session detail", vec![FocusPrev, Open]),
                (
                    "search results",
                    vec![
                        Action::SearchAll,
                        Action::PromptInput('x'),
                        Action::PromptSubmit,
                    ],
                ),
                ("playback", vec![Action::TogglePlayback]),
                (
                    "playback, users focused",
                    vec![Action::TogglePlayback, FocusNext],
                ),
            ]
        }

        #[test]
        fn every_hint_names_a_key_that_does_its_action_in_that_state() {
            let mut remapped = Keymap::default();
            remapped.rebind(Action::Search, Scope::Main, &[ch('S')]);
            remapped.rebind(Action::CloseOverlay, Scope::Help, &[ch('c')]);
            remapped.rebind(Action::Copy, Scope::Events, &[ctrl('y')]);
            for keys in [Keymap::default(), remapped] {
                for (name, actions) in states() {
                    let reach = |keys: &Keymap| {
                        let mut app = app(keys);
                        for &a in &actions {
                            app.apply(a);
                        }
                        app
                    };
                    let mut app = reach(&keys);
                    let hints = ui::status::hints(&app.model, app.keymap());
                    assert!(!hints.is_empty(), "{name}: no hints");
                    let line = status_hints_line(&mut app);
                    for h in &hints {
                        // The status bar shows what `hints` returns.
                        let shown = format!("{} {}", h.key.label(), h.word);
                        assert!(line.contains(&shown), "{name}: {shown:?} not in {line:?}");
                        // Pressing the key does what applying the action does.
                        let mut by_key = reach(&keys);
                        press(&mut by_key, h.key);
                        let mut by_action = reach(&keys);
                        by_action.apply(h.action);
                        assert_eq!(
                            seen(&mut by_key),
                            seen(&mut by_action),
                            "{name}: {shown:?} does not do {:?}",
                            h.action
                        );
                    }
                }
            }
        }
    }
}
