//! Prompts (id filter, search, type filter, typed timeout, export path), search through
//! the event list, and timeout changes.

use super::{App, TIMEOUT_PRESETS};
use crate::analysis::Analysis;
use crate::event::RawLoc;
use crate::fmt::{count, sanitize, setting};
use crate::index::EventIx;
use crate::source::raw;
use crate::store::EventStore;
use crate::tui::action::Action;
use crate::tui::model::{Focus, Lower, Prompt, PromptKind};
use crate::tui::rows::Row;

impl App {
    pub(super) fn start_search(&mut self) {
        if self.model.focus == Focus::Users {
            let current = self.model.users.filter.clone();
            self.open_prompt(PromptKind::UserFilter, current);
        } else {
            self.open_prompt(PromptKind::Search, String::new());
        }
    }

    pub(super) fn open_prompt(&mut self, kind: PromptKind, text: String) {
        self.model.prompt = Some(Prompt {
            kind,
            before: text.clone(),
            text,
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
                self.model.focus = Focus::Lower;
                self.model.lower = Lower::Events;
                self.search(true);
            }
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
            PromptKind::Timeout => match crate::fmt::parse_duration(&text) {
                Ok(ms) if ms > 0 => self.set_timeout(ms),
                Ok(_) => self.error("the timeout must be longer than 0".to_string()),
                Err(e) => self.error(sanitize(&e).into_owned()),
            },
            PromptKind::Export => {
                if text.is_empty() {
                    self.error("no file name given; nothing exported".to_string());
                } else {
                    self.export(&text);
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
            ) {
                lanes.replayed = a.replay_input.user_segments(u, ms);
                lanes.timeout_ms = ms;
            }
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
        let Some(a) = &self.model.derived.analysis else {
            return;
        };
        let rows = &self.model.derived.events.rows;
        let n = rows.len();
        if n == 0 {
            return;
        }
        let sel = self.model.derived.events.selected;
        let order: Vec<usize> = (1..=n)
            .map(|k| {
                if forward {
                    (sel + k) % n
                } else {
                    (sel + n - k % n) % n
                }
            })
            .collect();
        let store = &self.model.store;
        let found = find_match(a, store, &self.model.derived.props, rows, &order, &needle);
        match found {
            Some(i) => {
                let wrapped = if forward { i <= sel } else { i >= sel };
                self.select_row(i);
                if wrapped {
                    self.info(format!(
                        "search wrapped around: '{}'",
                        sanitize(&self.model.events.search)
                    ));
                }
            }
            None => {
                let text = format!("no event matches '{}'", sanitize(&self.model.events.search));
                self.error(text);
            }
        }
    }
}

/// The first row in `order` whose event matches `needle` (lower case): its type, ids,
/// key properties, or (for uncompressed sources) its raw JSON.
fn find_match(
    a: &Analysis,
    store: &EventStore,
    props: &rustc_hash::FxHashMap<EventIx, Box<str>>,
    rows: &[Row],
    order: &[usize],
    needle: &str,
) -> Option<usize> {
    let events = store.events();
    let strings = &store.strings;
    let has = |text: &str| text.to_lowercase().contains(needle);
    let needle_bytes = needle.as_bytes();
    for chunk in order.chunks(512) {
        let mut raw_wanted: Vec<(usize, RawLoc)> = Vec::new();
        let mut cheap_hit = None;
        for &i in chunk {
            let Row::Event { pos, .. } = rows[i] else {
                continue;
            };
            let e = a.order[pos];
            let ev = &events[e];
            if has(strings.get(ev.event_type))
                || has(strings.get(ev.user_id))
                || has(strings.get(ev.device_id))
                || props.get(&e).is_some_and(|p| has(p))
            {
                cheap_hit = Some(i);
                break;
            }
            if let Some(loc) = store.raw(e)
                && raw::is_cheap(store, loc)
            {
                raw_wanted.push((i, loc));
            }
        }
        let locs: Vec<RawLoc> = raw_wanted.iter().map(|(_, l)| *l).collect();
        let texts = raw::read_many(store, &locs);
        let raw_hit = raw_wanted
            .iter()
            .zip(texts)
            .find(|(_, t)| {
                t.as_ref().is_ok_and(|b| {
                    b.to_ascii_lowercase()
                        .windows(needle_bytes.len().max(1))
                        .any(|w| w == needle_bytes)
                })
            })
            .map(|((i, _), _)| *i);
        // The earlier of the two in search order wins.
        match (cheap_hit, raw_hit) {
            (Some(c), Some(r)) => {
                let rank = |x: usize| chunk.iter().position(|&i| i == x);
                return Some(if rank(r) < rank(c) { r } else { c });
            }
            (Some(x), None) | (None, Some(x)) => return Some(x),
            (None, None) => {}
        }
    }
    None
}
