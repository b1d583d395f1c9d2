//! Prompts (id filter, search, type filter, typed timeout, export path), search through
//! the event list, and timeout changes.

use super::{App, TIMEOUT_PRESETS};
use crate::fmt::{count, sanitize, setting};
use crate::tui::action::Action;
use crate::tui::model::{Focus, Lower, Prompt, PromptKind};
use crate::tui::rows::Row;
use crate::tui::search::SearchScope;

impl App {
    pub(super) fn start_search(&mut self) {
        if self.model.focus == Focus::Users {
            let current = self.model.users.filter.clone();
            self.open_prompt(PromptKind::UserFilter, current);
        } else {
            self.open_prompt(PromptKind::Search, String::new());
        }
    }

    /// Opens a prompt, empty, with `current` (the value it changes) as its dimmed
    /// placeholder: typing replaces the value rather than appending to it.
    pub(super) fn open_prompt(&mut self, kind: PromptKind, current: String) {
        self.model.prompt = Some(Prompt {
            kind,
            before: current.clone(),
            placeholder: current,
            text: String::new(),
        });
    }

    pub(super) fn prompt_edit(&mut self, c: Option<char>) {
        let Some(p) = &mut self.model.prompt else {
            return;
        };
        match c {
            Some(c) => p.text.push(c),
            None => {
                p.text.pop();
            }
        }
        self.prompt_changed();
    }

    /// Ctrl-U (everything typed) or Ctrl-W (the word before the cursor, and the spaces
    /// after it).
    pub(super) fn prompt_erase(&mut self, word: bool) {
        let Some(p) = &mut self.model.prompt else {
            return;
        };
        if word {
            let kept = p.text.trim_end().len();
            let start = p.text[..kept].rfind(char::is_whitespace).map_or(0, |i| {
                i + p.text[i..].chars().next().map_or(1, char::len_utf8)
            });
            p.text.truncate(start);
        } else {
            p.text.clear();
        }
        self.prompt_changed();
    }

    /// Live prompts (the users filter) apply what is typed at once.
    fn prompt_changed(&mut self) {
        let Some(p) = &self.model.prompt else {
            return;
        };
        if p.kind == PromptKind::UserFilter {
            self.model.users.filter = p.text.clone();
            let current = self.model.selected_user();
            self.refilter_users(current);
        }
    }

    pub(super) fn prompt_cancel(&mut self) {
        let Some(p) = self.model.prompt.take() else {
            return;
        };
        if p.kind == PromptKind::UserFilter {
            self.model.users.filter = p.before;
            self.resort_users();
        }
    }

    pub(super) fn prompt_submit(&mut self) {
        let Some(p) = self.model.prompt.take() else {
            return;
        };
        let text = p.text.trim().to_string();
        match p.kind {
            PromptKind::UserFilter => {
                let n = self.model.derived.users.list.len();
                self.info(if text.is_empty() {
                    format!("{} users", count(n as u64))
                } else {
                    format!("{} users match '{}'", count(n as u64), sanitize(&text))
                });
            }
            PromptKind::Search => {
                if !text.is_empty() {
                    self.model.events.search = text;
                }
                self.model.events.search_scope = SearchScope::User;
                self.model.focus = Focus::Lower;
                self.model.lower = Lower::Events;
                self.search(true);
            }
            PromptKind::SearchAll => self.submit_search_all(text),
            PromptKind::TypeFilter => {
                self.model.events.type_filter = text;
                self.rebuild_rows(true);
                let rows = &self.model.derived.events.rows;
                let events = rows
                    .iter()
                    .filter(|r| matches!(r, Row::Event { .. }))
                    .count();
                let filter = &self.model.events.type_filter;
                let message = if filter.is_empty() {
                    "event type filter cleared".to_string()
                } else {
                    format!(
                        "{} events of types matching '{}'",
                        count(events as u64),
                        sanitize(filter)
                    )
                };
                self.info(message);
            }
            PromptKind::Timeout if text.is_empty() => {
                self.info(format!(
                    "timeout unchanged: {}",
                    setting(self.model.rules.timeout_ms)
                ));
            }
            PromptKind::Timeout => match parse_timeout(&text) {
                Ok(ms) => self.set_timeout(ms),
                Err(e) => self.error(e),
            },
            PromptKind::Export => {
                let path = if text.is_empty() {
                    p.placeholder.trim().to_string()
                } else {
                    text
                };
                if path.is_empty() {
                    self.error("no file name given; nothing exported".to_string());
                } else {
                    self.export(&path);
                }
            }
        }
    }

    pub(super) fn cycle_timeout(&mut self) {
        let now = self.model.rules.timeout_ms;
        let next = TIMEOUT_PRESETS
            .iter()
            .copied()
            .find(|&t| t > now)
            .unwrap_or(TIMEOUT_PRESETS[0]);
        self.set_timeout(next);
    }

    /// Replays every user at `ms` (cheap: no re-sessionisation).
    pub fn set_timeout(&mut self, ms: i64) {
        self.model.rules.timeout_ms = ms;
        if let Some(a) = &mut self.model.derived.analysis {
            a.set_timeout(ms);
            let text = format!(
                "replay at {}: {} sessions (recorded {}), {} split, {} merged",
                setting(ms),
                count(a.replay.sessions),
                count(a.summary.sessions),
                count(a.replay.split.len() as u64),
                count(a.replay.merged.len() as u64)
            );
            if let (Some(u), Some(lanes)) = (
                self.model.derived.users.current(),
                &mut self.model.derived.timeline.lanes,
            ) && lanes.user == u
            {
                lanes.set_timeout(a, ms);
            }
            self.refresh_search_views();
            self.info(text);
        } else {
            self.info(format!("replay timeout set to {}", setting(ms)));
        }
    }

    pub(super) fn search(&mut self, forward: bool) {
        let needle = self.model.events.search.to_lowercase();
        if needle.is_empty() {
            let key = self.main_key(Action::Search);
            self.info(format!("type {key} to search"));
            return;
        }
        match self.model.events.search_scope {
            SearchScope::All => self.step_all(forward),
            SearchScope::User => self.step_user(forward),
        }
    }
}

/// A typed timeout: one or more `<number><unit>` with units `d`, `h`, `m`, `s`, `ms`,
/// each at most once and largest first (`90s`, `45m`, `1h30m`), longer than 0. Anything
/// else (`soon`, `45m45m`, `30m1h`, `0s`) is refused with a message saying what was
/// expected, rather than read some other way.
pub fn parse_timeout(text: &str) -> Result<i64, String> {
    let expected = |why: &str| {
        format!(
            "'{}' is not a timeout{why}: type a duration like 90s, 45m or 1h30m \
             (units d h m s ms, each once, largest first)",
            sanitize(text)
        )
    };
    const UNITS: [(&str, i64); 5] = [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(expected(""));
    }
    let mut total: i64 = 0;
    let mut last_unit = usize::MAX;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(expected(""));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| expected(" (too long)"))?;
        rest = &rest[digits..];
        let letters = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..letters];
        rest = rest[letters..].trim_start();
        let Some(k) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(expected(if unit.is_empty() { " (no unit)" } else { "" }));
        };
        if last_unit != usize::MAX && k <= last_unit {
            return Err(expected(" (a unit repeated or out of order)"));
        }
        last_unit = k;
        total = n
            .checked_mul(UNITS[k].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| expected(" (too long)"))?;
    }
    if total == 0 {
        return Err("the timeout must be longer than 0".to_string());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;

    #[test]
    fn typed_timeouts_are_read_strictly() {
        for (text, ms) in [
            ("90s", 90_000),
            ("45m", 2_700_000),
            ("1h30m", 5_400_000),
            (" 1h 30m ", 5_400_000),
            ("1d", 86_400_000),
            ("1500ms", 1_500),
        ] {
            assert_eq!(parse_timeout(text), Ok(ms), "{text}");
        }
        for text in ["soon", "45m45m", "30m1h", "45", "m", "", "1x", "45m!"] {
            let e = parse_timeout(text).unwrap_err();
            assert!(e.contains("like 90s, 45m or 1h30m"), "{text}: {e}");
        }
        assert_eq!(
            parse_timeout("0s").unwrap_err(),
            "the timeout must be longer than 0"
        );
    }
}
