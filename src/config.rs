//! The config file: a user's own defaults, so that their app's session timeout, their time
//! zone and their keys need no flags.
//!
//! Read from `--config FILE`, else `$XDG_CONFIG_HOME/streamscope/config.toml`, else
//! `~/.config/streamscope/config.toml` (a missing default file is no error). Flags win
//! over the file, the file over the built-in defaults ([`crate::command`] applies it).
//!
//! ```toml
//! timeout = "5m"              # the replay timeout T
//! gap = "90s"                 # the gap threshold
//! inactive = ["Heartbeat"]    # more inactive event types
//! tz = "Europe/Paris"         # display zone
//!
//! [listen]
//! addr = "127.0.0.1:9000"
//! capture_dir = "/tmp/captures"
//! max_connections = 512       # served at once; more wait in the backlog
//! idle_timeout = "60s"        # a connection with no bytes either way is closed
//! body_timeout = "30s"        # a request body that stalls this long is answered 408
//! body_budget = "256MiB"      # request bodies in flight, together; beyond: 503 Retry-After
//!
//! [theme]                     # named colours of the inspector's theme
//! flag = "magenta"
//! border_focused = "#00afff"
//!
//! [keys]                      # action = key, or a list of keys
//! follow = "L"
//! search = ["/", "Ctrl-F"]
//! ```
//!
//! A bad file is an error naming the file, line, key and what was expected, never
//! ignored. Secrets never go in the file: API keys stay in the environment.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use ratatui::style::Color;
use serde::Deserialize;
use toml::Spanned;

use crate::tui::action::Action;
use crate::tui::keymap::{Key, Keymap};
use crate::tui::ui::Theme;
use crate::tui::zone::Zone;

/// A problem with the config file: where, which key, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The key (`timeout`, `keys.follow`), when the problem is one key's.
    pub key: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// What a config file sets; `None` and empty lists where it sets nothing.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// The replay timeout (ms).
    pub timeout_ms: Option<i64>,
    /// The gap threshold (ms).
    pub gap_ms: Option<i64>,
    /// More inactive event types.
    pub inactive: Option<Vec<String>>,
    /// The display zone.
    pub tz: Option<Zone>,
    /// `listen`'s address.
    pub listen_addr: Option<SocketAddr>,
    /// Where `listen` makes its capture files when `--capture` is not given.
    pub capture_dir: Option<PathBuf>,
    /// `listen`'s limits (each field defaults to [`crate::listen::Limits::default`]'s).
    pub listen_limits: ListenLimits,
    /// Colours of named theme styles.
    pub theme: Vec<(String, Color)>,
    /// Keys per action.
    pub keys: Vec<(Action, Vec<Key>)>,
}

impl Config {
    /// The inspector's theme for the environment (`NO_COLOR` wins over colours).
    #[must_use]
    pub fn theme(&self) -> Theme {
        let theme = Theme::from_env();
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => theme,
            _ => theme.with_colors(&self.theme),
        }
    }

    /// The key table with this file's keys.
    #[must_use]
    pub fn keymap(&self) -> Keymap {
        let mut keys = Keymap::default();
        for (action, k) in &self.keys {
            keys.rebind_everywhere(*action, k);
        }
        keys
    }
}

/// The default config file: `$XDG_CONFIG_HOME/streamscope/config.toml`, else
/// `~/.config/streamscope/config.toml`.
#[must_use]
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))?;
    Some(base.join("streamscope").join("config.toml"))
}

/// Reads the config file: `explicit` (which must exist), else the default path (which may
/// not).
pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(Config::default()),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(ConfigError {
            path,
            line: None,
            key: None,
            message: format!("cannot read it: {e}"),
        }),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    timeout: Option<Spanned<String>>,
    gap: Option<Spanned<String>>,
    inactive: Option<Spanned<Vec<String>>>,
    tz: Option<Spanned<String>>,
    listen: Option<RawListen>,
    theme: Option<std::collections::BTreeMap<Spanned<String>, Spanned<String>>>,
    keys: Option<std::collections::BTreeMap<Spanned<String>, Spanned<OneOrMany>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListen {
    addr: Option<Spanned<String>>,
    capture_dir: Option<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
    idle_timeout: Option<Spanned<String>>,
    body_timeout: Option<Spanned<String>>,
    body_budget: Option<Spanned<String>>,
}

/// `listen`'s limits as the config file sets them (`None`: the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenLimits {
    /// `max_connections`.
    pub max_connections: Option<usize>,
    /// `idle_timeout`.
    pub idle: Option<std::time::Duration>,
    /// `body_timeout`.
    pub body_idle: Option<std::time::Duration>,
    /// `body_budget`, in bytes.
    pub body_budget: Option<usize>,
}

impl ListenLimits {
    /// The limits: these over the defaults.
    #[must_use]
    pub fn apply(self, mut limits: crate::listen::Limits) -> crate::listen::Limits {
        limits.max_connections = self.max_connections.unwrap_or(limits.max_connections);
        limits.idle = self.idle.unwrap_or(limits.idle);
        limits.body_idle = self.body_idle.unwrap_or(limits.body_idle);
        limits.body_budget = self.body_budget.unwrap_or(limits.body_budget);
        limits
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Words that name a secret: a key holding one is refused.
const SECRET_WORDS: [&str; 5] = ["api_key", "secret", "password", "token", "api_keys"];

/// Parses a config file's text (`path` is for messages).
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let err = |offset: Option<usize>, key: Option<&str>, message: String| ConfigError {
        path: path.to_path_buf(),
        line: offset.map(line_of),
        key: key.map(str::to_string),
        message,
    };
    // Secrets first, whatever else is wrong: say where they belong.
    if let Some((offset, key)) = find_secret(text) {
        return Err(err(
            Some(offset),
            Some(&key),
            "secrets never go in the config file: keep API keys in the environment \
             (STREAMSCOPE_API_KEYS for listen)"
                .to_string(),
        ));
    }
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_string();
        err(e.span().map(|s| s.start), None, message)
    })?;
    let mut cfg = Config {
        path: Some(path.to_path_buf()),
        ..Config::default()
    };
    let duration = |v: &Spanned<String>, key: &str| {
        crate::fmt::parse_duration(v.get_ref()).map_err(|e| err(Some(v.span().start), Some(key), e))
    };
    if let Some(v) = &raw.timeout {
        cfg.timeout_ms = Some(duration(v, "timeout")?);
    }
    if let Some(v) = &raw.gap {
        cfg.gap_ms = Some(duration(v, "gap")?);
    }
    if let Some(v) = raw.inactive {
        cfg.inactive = Some(v.into_inner());
    }
    if let Some(v) = &raw.tz {
        cfg.tz =
            Some(Zone::parse(v.get_ref()).map_err(|e| err(Some(v.span().start), Some("tz"), e))?);
    }
    if let Some(listen) = &raw.listen {
        if let Some(v) = &listen.addr {
            cfg.listen_addr = Some(
                resolve_addr(v.get_ref())
                    .map_err(|e| err(Some(v.span().start), Some("listen.addr"), e))?,
            );
        }
        if let Some(v) = &listen.capture_dir {
            cfg.capture_dir = Some(expand_home(v.get_ref()));
        }
        if let Some(v) = &listen.max_connections {
            let n = usize::try_from(*v.get_ref())
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    err(
                        Some(v.span().start),
                        Some("listen.max_connections"),
                        format!("{} is not a connection count (at least 1)", v.get_ref()),
                    )
                })?;
            cfg.listen_limits.max_connections = Some(n);
        }
        let positive = |v: &Spanned<String>, key: &str| {
            let ms = duration(v, key)?;
            if ms < 1 {
                return Err(err(
                    Some(v.span().start),
                    Some(key),
                    format!("'{}' is not a timeout (at least 1ms)", v.get_ref()),
                ));
            }
            Ok(std::time::Duration::from_millis(ms.unsigned_abs()))
        };
        if let Some(v) = &listen.idle_timeout {
            cfg.listen_limits.idle = Some(positive(v, "listen.idle_timeout")?);
        }
        if let Some(v) = &listen.body_timeout {
            cfg.listen_limits.body_idle = Some(positive(v, "listen.body_timeout")?);
        }
        if let Some(v) = &listen.body_budget {
            cfg.listen_limits.body_budget = Some(
                crate::fmt::parse_size(v.get_ref())
                    .map_err(|e| err(Some(v.span().start), Some("listen.body_budget"), e))?,
            );
        }
    }
    for (slot, color) in raw.theme.iter().flatten() {
        let key = format!("theme.{}", slot.get_ref());
        if !Theme::SLOTS.contains(&slot.get_ref().as_str()) {
            return Err(err(
                Some(slot.span().start),
                Some(&key),
                format!(
                    "no such colour; the theme's are: {}",
                    Theme::SLOTS.join(", ")
                ),
            ));
        }
        let c: Color = color.get_ref().parse().map_err(|_| {
            err(
                Some(color.span().start),
                Some(&key),
                format!(
                    "'{}' is not a colour (a name such as red, light-blue, dark-gray, or #rrggbb)",
                    color.get_ref()
                ),
            )
        })?;
        cfg.theme.push((slot.get_ref().clone(), c));
    }
    let table = Keymap::default();
    let mut seen: Vec<(Key, String)> = Vec::new();
    for (name, keys) in raw.keys.iter().flatten() {
        let key = format!("keys.{}", name.get_ref());
        let Some(action) = table.action_named(name.get_ref()) else {
            let mut names: Vec<&str> = table
                .bindings()
                .iter()
                .filter_map(|b| b.action.name())
                .collect();
            names.sort_unstable();
            names.dedup();
            return Err(err(
                Some(name.span().start),
                Some(&key),
                format!("no such action; the actions are: {}", names.join(", ")),
            ));
        };
        let texts = match keys.get_ref() {
            OneOrMany::One(k) => vec![k.clone()],
            OneOrMany::Many(ks) => ks.clone(),
        };
        let mut parsed = Vec::new();
        for t in &texts {
            let k = Key::parse(t).map_err(|e| err(Some(keys.span().start), Some(&key), e))?;
            if let Some((_, other)) = seen.iter().find(|(s, _)| *s == k) {
                return Err(err(
                    Some(keys.span().start),
                    Some(&key),
                    format!("{} is bound twice (also to {other})", k.label()),
                ));
            }
            seen.push((k, key.clone()));
            parsed.push(k);
        }
        cfg.keys.push((action, parsed));
    }
    Ok(cfg)
}

/// The first line that sets a key naming a secret: its offset and the key.
fn find_secret(text: &str) -> Option<(usize, String)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some((key, _)) = trimmed.split_once('=') {
            let key = key.trim().trim_matches('"').to_ascii_lowercase();
            let last = key.rsplit('.').next().unwrap_or(&key).to_string();
            if SECRET_WORDS.iter().any(|w| last.contains(w)) {
                return Some((offset + (line.len() - trimmed.len()), key));
            }
        }
        offset += line.len();
    }
    None
}

/// An address as `--addr` takes it: `IP:PORT`, or `HOST:PORT` resolved, preferring a
/// loopback address among its addresses (`localhost` → 127.0.0.1 or ::1), so the loopback
/// check sees the address actually bound.
pub fn resolve_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| {
            format!("'{text}' is not an address like 127.0.0.1:8788 or localhost:8788 ({e})")
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.ip().is_loopback() && a.is_ipv4())
        .or_else(|| addrs.iter().find(|a| a.ip().is_loopback()))
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| format!("'{text}' resolves to no address"))
}

fn expand_home(text: &str) -> PathBuf {
    match text.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().map_or_else(|| PathBuf::from(text), |h| h.join(rest)),
        None => PathBuf::from(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Config, String> {
        parse(text, Path::new("c.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn every_setting_is_read() {
        let cfg = parsed(
            "timeout = \"5m\"\ngap = \"90s\"\ninactive = [\"Heartbeat\"]\ntz = \"Europe/Paris\"\n\
             [listen]\naddr = \"127.0.0.1:9000\"\ncapture_dir = \"/tmp/caps\"\n\
             [theme]\nflag = \"magenta\"\n[keys]\nfollow = \"L\"\nsearch = [\"/\", \"Ctrl-F\"]\n",
        )
        .unwrap();
        assert_eq!(cfg.timeout_ms, Some(300_000));
        assert_eq!(cfg.gap_ms, Some(90_000));
        assert_eq!(
            cfg.inactive.as_deref(),
            Some(&["Heartbeat".to_string()][..])
        );
        assert_eq!(cfg.tz.map(Zone::label).as_deref(), Some("Europe/Paris"));
        assert_eq!(cfg.listen_addr, Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(cfg.capture_dir, Some(PathBuf::from("/tmp/caps")));
        assert_eq!(cfg.theme, [("flag".to_string(), Color::Magenta)]);
        let keys = cfg.keymap();
        let scopes = [crate::tui::keymap::Scope::Main];
        assert_eq!(keys.label(Action::ToggleFollow, &scopes), "L");
        assert_eq!(keys.labels(Action::Search, &scopes, " "), "/ Ctrl-F");
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        let cfg = parsed("# nothing\n").unwrap();
        assert!(cfg.timeout_ms.is_none() && cfg.keys.is_empty() && cfg.theme.is_empty());
    }

    #[test]
    fn every_error_names_the_file_line_key_and_what_was_expected() {
        let cases: [(&str, &str); 10] = [
            ("gap = \"5m\"\ntimeout = \"soon\"\n", "c.toml:2: timeout: "),
            (
                "tz = \"Mars/Olympus\"\n",
                "c.toml:1: tz: 'Mars/Olympus' is not a time zone name",
            ),
            (
                "[listen]\naddr = \"here\"\n",
                "c.toml:2: listen.addr: 'here' is not an address",
            ),
            (
                "[keys]\nfly = \"x\"\n",
                "c.toml:2: keys.fly: no such action; the actions are: ",
            ),
            (
                "[keys]\nfollow = \"Hyper-X\"\n",
                "c.toml:2: keys.follow: 'Hyper-X' is not a key",
            ),
            (
                "[keys]\nfollow = \"L\"\nsearch = \"L\"\n",
                "c.toml:3: keys.search: L is bound twice (also to keys.follow)",
            ),
            (
                "[theme]\nflagg = \"red\"\n",
                "c.toml:2: theme.flagg: no such colour",
            ),
            (
                "[theme]\nflag = \"reddish\"\n",
                "c.toml:2: theme.flag: 'reddish' is not a colour",
            ),
            ("timeout = 5\n", "c.toml:1: "),
            ("colour = \"red\"\n", "c.toml:1: unknown field `colour`"),
        ];
        for (text, want) in cases {
            let got = parsed(text).unwrap_err();
            assert!(got.starts_with(want), "{text:?}: {got}");
        }
        let bad = parsed("timeout = \"soon\"\n").unwrap_err();
        assert!(
            bad.contains("is not a duration like 90s, 5m or 1h30m"),
            "{bad}"
        );
    }

    #[test]
    fn a_secret_in_the_file_is_an_error_that_says_where_it_belongs() {
        for text in [
            "api_key = \"abc\"\n",
            "[listen]\napi_keys = [\"k\"]\n",
            "[amplitude]\nsecret_key = \"s\"\n",
        ] {
            let got = parsed(text).unwrap_err();
            assert!(got.contains("secrets never go in the config file"), "{got}");
            assert!(!got.contains("abc"), "the secret is not echoed: {got}");
        }
    }

    #[test]
    fn the_default_path_follows_xdg() {
        // Only the shape: the environment is the test runner's.
        let p = default_path().unwrap();
        assert!(p.ends_with("streamscope/config.toml"), "{}", p.display());
    }
}
