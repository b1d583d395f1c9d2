//! What the user wants: semantic intents only. Keys (through the keymap), mouse events
//! and prompt typing all become an [`Action`]; [`super::app::App::apply`] carries it out.
//! No plumbing (ticks, redraws, resizes) lives here.

/// A user intent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Leave the inspector.
    Quit,
    /// Show or hide the key help.
    ToggleHelp,
    /// Close the open overlay (help, event detail, rejected requests; an opened request
    /// body first).
    CloseOverlay,
    /// Move focus to the next pane.
    FocusNext,
    /// Move focus to the previous pane.
    FocusPrev,
    /// Move the selection (or scroll) up one row.
    Up,
    /// Move the selection (or scroll) down one row.
    Down,
    /// Go to the first row.
    Top,
    /// Go to the last row.
    Bottom,
    /// Up one page.
    PageUp,
    /// Down one page.
    PageDown,
    /// Up half a page.
    HalfPageUp,
    /// Down half a page.
    HalfPageDown,
    /// Open the selection: a user's events, an event's detail.
    Open,
    /// Go to the previous session header.
    PrevSession,
    /// Go to the next session header.
    NextSession,
    /// Go to the next flagged user, session or event.
    NextFlagged,
    /// Go to the previous flagged user, session or event.
    PrevFlagged,
    /// Type a search (events) or a user-id filter (users).
    Search,
    /// Go to the next search match.
    SearchNext,
    /// Go to the previous search match.
    SearchPrev,
    /// Type a search over every user's events (a results list opens).
    SearchAll,
    /// Type an event type to filter the event list by.
    FilterType,
    /// Show times in the next zone (UTC, local, `--tz`).
    CycleZone,
    /// Replay with the next preset timeout.
    CycleTimeout,
    /// Type a replay timeout.
    PromptTimeout,
    /// Show the replay panel instead of the event list, or back.
    ToggleReplay,
    /// Make the replay panel about the selected user, or about the whole input.
    ToggleReplayScope,
    /// Compare the current timeout with the next preset in the replay panel.
    CycleCompareTimeout,
    /// Sort users by the next criterion.
    CycleSort,
    /// Show events newest first or oldest first.
    ToggleOrder,
    /// Zoom the timeline in.
    ZoomIn,
    /// Zoom the timeline out.
    ZoomOut,
    /// Fit the timeline to the user's whole history.
    ZoomReset,
    /// Fit the timeline to the selected session, with the replay timeout either side.
    FitSession,
    /// Pan the timeline towards earlier times.
    PanLeft,
    /// Pan the timeline towards later times.
    PanRight,
    /// Write the selected user's stream (or the filtered rows) to an NDJSON file.
    Export,
    /// Copy the selected event's raw JSON to the clipboard (OSC 52).
    Copy,
    /// Follow the newest events of the selected user, or stop following.
    ToggleFollow,
    /// Jump to the user who sent the most recent event, and follow them.
    JumpLatestUser,
    /// Show or hide the ingestion endpoint's rejected requests.
    ToggleRejected,
    /// Show or hide the findings over the whole input.
    ToggleFindings,
    /// Stop narrowing the users list to a finding.
    ClearFinding,
    /// Fold or unfold the session under the event list's cursor.
    ToggleFold,
    /// Fold every session of the event list, or unfold them all.
    ToggleFoldAll,
    /// Scroll the event list's properties column left.
    PropsLeft,
    /// Scroll the event list's properties column right.
    PropsRight,
    /// Play the selected user's stream back in time (what the SDK does under T), or stop.
    TogglePlayback,
    /// Pause or resume playback.
    PlaybackPause,
    /// Move playback to its next step (paused).
    PlaybackStep,
    /// Play back faster.
    PlaybackFaster,
    /// Play back slower.
    PlaybackSlower,
    /// Type a character into the open prompt.
    PromptInput(char),
    /// Delete the character before the prompt cursor.
    PromptBackspace,
    /// Clear what has been typed into the open prompt.
    PromptClear,
    /// Delete the word before the prompt cursor.
    PromptDeleteWord,
    /// Accept the prompt.
    PromptSubmit,
    /// Abandon the prompt.
    PromptCancel,
    /// Select what is at a screen cell (a mouse click).
    Click {
        /// Column of the cell.
        column: u16,
        /// Row of the cell.
        row: u16,
    },
    /// Scroll what is at a screen cell (the mouse wheel).
    Scroll {
        /// Column of the cell.
        column: u16,
        /// Row of the cell.
        row: u16,
        /// Towards later rows.
        down: bool,
    },
}

impl Action {
    /// The name a config file binds keys to (`[keys] follow = "L"`): the action in
    /// snake case. `None` for actions no key is bound to (typing, the mouse).
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Action::Quit => "quit",
            Action::ToggleHelp => "help",
            Action::CloseOverlay => "close",
            Action::FocusNext => "focus_next",
            Action::FocusPrev => "focus_prev",
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::HalfPageUp => "half_page_up",
            Action::HalfPageDown => "half_page_down",
            Action::Open => "open",
            Action::PrevSession => "prev_session",
            Action::NextSession => "next_session",
            Action::NextFlagged => "next_flagged",
            Action::PrevFlagged => "prev_flagged",
            Action::Search => "search",
            Action::SearchNext => "search_next",
            Action::SearchPrev => "search_prev",
            Action::SearchAll => "search_all",
            Action::FilterType => "filter_type",
            Action::CycleZone => "cycle_zone",
            Action::CycleTimeout => "cycle_timeout",
            Action::PromptTimeout => "type_timeout",
            Action::ToggleReplay => "replay",
            Action::ToggleReplayScope => "replay_scope",
            Action::CycleCompareTimeout => "compare_timeout",
            Action::CycleSort => "sort",
            Action::ToggleOrder => "order",
            Action::ZoomIn => "zoom_in",
            Action::ZoomOut => "zoom_out",
            Action::ZoomReset => "zoom_reset",
            Action::FitSession => "fit_session",
            Action::PanLeft => "pan_left",
            Action::PanRight => "pan_right",
            Action::Export => "export",
            Action::Copy => "copy",
            Action::ToggleFollow => "follow",
            Action::ToggleRejected => "rejected",
            Action::PromptSubmit => "prompt_submit",
            Action::PromptCancel => "prompt_cancel",
            Action::PromptBackspace => "prompt_backspace",
            Action::PromptClear => "prompt_clear",
            Action::PromptDeleteWord => "prompt_delete_word",
            Action::JumpLatestUser => "latest_user",
            Action::ToggleFindings => "findings",
            Action::ClearFinding => "clear_finding",
            Action::ToggleFold => "fold",
            Action::ToggleFoldAll => "fold_all",
            Action::PropsLeft => "props_left",
            Action::PropsRight => "props_right",
            Action::TogglePlayback => "playback",
            Action::PlaybackPause => "playback_pause",
            Action::PlaybackStep => "playback_step",
            Action::PlaybackFaster => "playback_faster",
            Action::PlaybackSlower => "playback_slower",
            Action::PromptInput(_) | Action::Click { .. } | Action::Scroll { .. } => return None,
        })
    }
}
