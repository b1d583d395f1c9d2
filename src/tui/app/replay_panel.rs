//! The replay panel's keys: whom it is about (the selected user or the whole input) and
//! the timeout it compares T with.

use super::{App, TIMEOUT_PRESETS};
use crate::fmt::setting;

impl App {
    /// Switches the replay panel between the selected user and the whole input.
    pub(super) fn toggle_replay_scope(&mut self) {
        let p = &mut self.model.replay_panel;
        p.whole_input = !p.whole_input;
        self.model.derived.replay_scroll = 0;
        let text = if self.model.replay_panel.whole_input {
            "replay panel: the whole input".to_string()
        } else {
            match self.model.selected_user() {
                Some(u) => format!("replay panel: {}", self.model.user_label(u)),
                None => "replay panel: the selected user (none selected)".to_string(),
            }
        };
        self.info(text);
    }

    /// Compares T with the next preset after the one compared now (never T itself).
    pub(super) fn cycle_compare_timeout(&mut self) {
        let t = self.model.rules.timeout_ms;
        let now = self.model.replay_panel.compare_with(t);
        let next = next_compare(now, t);
        self.model.replay_panel.compare_ms = Some(next);
        self.info(format!(
            "replay panel: T {} compared with {}",
            setting(t),
            setting(next)
        ));
    }
}

/// The preset after `now` that is not `timeout_ms`, from the start again after the last.
fn next_compare(now: i64, timeout_ms: i64) -> i64 {
    let others = || TIMEOUT_PRESETS.iter().copied().filter(|&p| p != timeout_ms);
    others()
        .find(|&p| p > now)
        .or_else(|| others().next())
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::next_compare;
    use crate::analysis::MINUTE_MS as M;

    #[test]
    fn the_compared_timeout_cycles_through_the_presets_but_t() {
        // (now, T, next)
        for (now, t, want) in [
            (30 * M, 5 * M, 60 * M),
            (60 * M, 5 * M, 120 * M),
            (120 * M, 5 * M, M),
            (M, 5 * M, 15 * M),
            (5 * M, 30 * M, 15 * M),
            (15 * M, 30 * M, 60 * M),
            (120 * M, M, 5 * M),
            (7 * M, 30 * M, 15 * M),
        ] {
            assert_eq!(next_compare(now, t), want, "now {now} T {t}");
        }
    }
}
