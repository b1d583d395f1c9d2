//! What leaves the inspector: NDJSON export of a user's events and clipboard copies.

use std::io::Write as _;

use super::App;
use crate::event::RawLoc;
use crate::fmt::{count, sanitize};
use crate::index::{EventIx, Pos};
use crate::source::raw;
use crate::tui::jsonview;
use crate::tui::model::{Overlay, PromptKind, RawText};
use crate::tui::rows::Row;

impl App {
    pub(super) fn start_export(&mut self) {
        let m = &self.model;
        let (Some(a), Some(u)) = (&m.analysis, m.selected_user()) else {
            self.error("no user selected; nothing to export".to_string());
            return;
        };
        let id = m.store.strings.get(a.users[u].key.id);
        let mut name = format!("streamscope-{}", file_safe(id));
        if !m.events.type_filter.is_empty() {
            name.push('-');
            name.push_str(&file_safe(&m.events.type_filter));
        }
        name.push_str(".ndjson");
        self.open_prompt(PromptKind::Export, name);
    }

    /// Writes the selected user's events (or the filtered rows), oldest first, one raw
    /// JSON object per line.
    pub fn export(&mut self, path: &str) {
        let m = &self.model;
        let Some(a) = &m.analysis else {
            return;
        };
        let mut positions: Vec<Pos> = m
            .events
            .rows
            .iter()
            .filter_map(|r| match r {
                Row::Event { pos, .. } => Some(*pos),
                Row::Session { .. } => None,
            })
            .collect();
        positions.sort_unstable();
        let events: Vec<EventIx> = positions.iter().map(|&p| a.order[p]).collect();
        let store = &m.store;
        let locs: Vec<Option<RawLoc>> = events.iter().map(|&e| store.raw(e)).collect();
        let known: Vec<RawLoc> = locs.iter().flatten().copied().collect();
        let mut texts = raw::read_many(store, &known).into_iter();
        let result = (|| -> std::io::Result<(usize, usize)> {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)?;
            let mut out = std::io::BufWriter::new(file);
            let (mut written, mut failed) = (0, 0);
            for loc in &locs {
                let text = match loc {
                    Some(_) => texts.next().and_then(Result::ok),
                    None => None,
                };
                match text {
                    Some(bytes) => {
                        out.write_all(&jsonview::compact(&bytes))?;
                        out.write_all(b"\n")?;
                        written += 1;
                    }
                    None => failed += 1,
                }
            }
            out.flush()?;
            Ok((written, failed))
        })();
        let shown = sanitize(path).into_owned();
        match result {
            Ok((written, 0)) => {
                self.info(format!("wrote {} events to {shown}", count(written as u64)))
            }
            Ok((written, failed)) => self.error(format!(
                "wrote {} events to {shown}; {} could not be read from their source",
                count(written as u64),
                count(failed as u64)
            )),
            Err(e) => self.error(format!("cannot write {shown}: {e}")),
        }
    }

    pub(super) fn copy(&mut self) {
        let e = match (&self.model.detail, self.model.overlay) {
            (Some(d), Overlay::Detail) => {
                if let RawText::Ready { raw, .. } = &d.raw {
                    let bytes = raw.to_vec();
                    self.set_clipboard(bytes);
                    return;
                }
                Some(d.event)
            }
            _ => self.model.selected_event(),
        };
        let Some(e) = e else {
            self.error("no event selected; nothing copied".to_string());
            return;
        };
        match self.read_event(e) {
            Ok(bytes) => self.set_clipboard(bytes),
            Err(text) => self.error(text),
        }
    }

    pub(super) fn set_clipboard(&mut self, bytes: Vec<u8>) {
        self.info(format!(
            "copied {} bytes of raw JSON to the clipboard (OSC 52)",
            count(bytes.len() as u64)
        ));
        self.clipboard = Some(bytes);
    }
}

/// A text made safe for a file name: letters, digits, `.`, `_` and `-`.
fn file_safe(text: &str) -> String {
    let s: String = text
        .chars()
        .take(60)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "user".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(file_safe("a/b c\u{1b}"), "a_b_c_");
        assert_eq!(file_safe(""), "user");
    }
}
