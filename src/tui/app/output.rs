//! What leaves the inspector: NDJSON export of a user's events and clipboard copies.
//! Both are jobs ([`crate::tui::jobs`]): this asks for them and reports how they ended.

use super::App;
use crate::event::RawLoc;
use crate::fmt::{count, sanitize};
use crate::index::Pos;
use crate::source::raw::SegmentSet;
use crate::tui::jobs::{Clip, CopyFrom, ExportProgress, Exported, Job, Kind};
use crate::tui::model::{ExportStatus, Overlay, PromptKind, RawText};
use crate::tui::rows::Row;

impl App {
    pub(super) fn start_export(&mut self) {
        if self.refuse_second_export() {
            return;
        }
        let m = &self.model;
        let (Some(a), Some(u)) = (&m.derived.analysis, m.selected_user()) else {
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

    /// While an export runs, says so and returns true: one export at a time.
    fn refuse_second_export(&mut self) -> bool {
        if !self.jobs.busy(Kind::Export) {
            return false;
        }
        let to = self
            .model
            .export
            .as_ref()
            .map(|e| format!(" to {}", e.path))
            .unwrap_or_default();
        self.error(format!(
            "an export{to} is still running; wait for it to finish"
        ));
        true
    }

    /// Asks for the selected user's events (or the filtered rows), oldest first, to be
    /// written to `path`, one raw JSON object per line. The export job reads and writes
    /// off the UI thread; the status bar shows its progress, and a message how it ended.
    /// A second export while one runs is refused with a message.
    pub fn export(&mut self, path: &str) {
        if self.refuse_second_export() {
            return;
        }
        let m = &self.model;
        let Some(a) = &m.derived.analysis else {
            return;
        };
        // Folded sessions are exported too: folding only hides rows.
        let unfolded = self.unfolded_rows();
        let rows = unfolded
            .as_ref()
            .map_or(m.derived.events.rows.as_slice(), |(all, _)| all.as_slice());
        let mut positions: Vec<Pos> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Event { pos, .. } => Some(*pos),
                Row::Session { .. } => None,
            })
            .collect();
        positions.sort_unstable();
        let store = &m.store;
        let locs: Vec<Option<RawLoc>> = positions.iter().map(|&p| store.raw(a.order[p])).collect();
        let known: Vec<RawLoc> = locs.iter().flatten().copied().collect();
        let segments = SegmentSet::for_locs(store, &known);
        let total = locs.len();
        let job = Job::Export {
            path: path.to_string(),
            locs,
            segments,
        };
        if self.want(job).is_ok() {
            self.model.export = Some(ExportStatus {
                path: sanitize(path).into_owned(),
                progress: ExportProgress {
                    total,
                    ..ExportProgress::default()
                },
            });
        }
    }

    /// Reports how an export ended.
    pub(super) fn exported(&mut self, path: &str, result: Result<Exported, String>) {
        let shown = sanitize(path).into_owned();
        match result {
            Ok(Exported { written, failed: 0 }) => {
                self.info(format!("wrote {} events to {shown}", count(written as u64)));
            }
            Ok(Exported { written, failed }) => self.error(format!(
                "wrote {} events to {shown}; {} could not be read from their source",
                count(written as u64),
                count(failed as u64)
            )),
            Err(e) => self.error(format!("cannot write {shown}: {e}")),
        }
    }

    /// Asks for the raw JSON of the event in the detail overlay (or the selected one) to
    /// be copied: a job reads it (unless the overlay shows it already) and encodes it.
    pub(super) fn copy(&mut self) {
        let e = match (&self.model.derived.detail, self.model.overlay) {
            (Some(d), Overlay::Detail) => {
                if let RawText::Ready { raw, .. } = &d.raw {
                    let bytes = raw.to_vec();
                    let _ = self.want(Job::Copy(CopyFrom::Bytes(bytes)));
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
        let store = &self.model.store;
        let Some(loc) = store.raw(e) else {
            self.error("the raw text of this event was not kept".to_string());
            return;
        };
        let segments = SegmentSet::for_locs(store, &[loc]);
        let _ = self.want(Job::Copy(CopyFrom::Read { loc, segments }));
    }

    pub(super) fn set_clipboard(&mut self, clip: Clip) {
        match clip.cut {
            Some(full) => self.info(format!(
                "copied only the first {} of {} bytes of raw JSON to the clipboard (OSC 52): \
                 terminals drop longer copies; export the event to a file for all of it",
                count(clip.raw.len() as u64),
                count(full)
            )),
            None => self.info(format!(
                "copied {} bytes of raw JSON to the clipboard (OSC 52)",
                count(clip.raw.len() as u64)
            )),
        }
        self.clipboard = Some(clip);
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
