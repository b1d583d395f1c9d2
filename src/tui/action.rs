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
    /// Pan the timeline towards earlier times.
    PanLeft,
    /// Pan the timeline towards later times.
    PanRight,
    /// Write the selected user's stream (or the filtered rows) to an NDJSON file.
    Export,
    /// Copy the selected event's raw JSON to the clipboard (OSC 52).
    Copy,
    /// Follow the newest events, or stop following.
    ToggleFollow,
    /// Show or hide the ingestion endpoint's rejected requests.
    ToggleRejected,
    /// Show or hide the findings over the whole input.
    ToggleFindings,
    /// Stop narrowing the users list to a finding.
    ClearFinding,
    /// Type a character into the open prompt.
    PromptInput(char),
    /// Delete the character before the prompt cursor.
    PromptBackspace,
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
