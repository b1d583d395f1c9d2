//! The interactive inspector: users, a session timeline with timeout replay, the event
//! stream, event detail and the replay panel, over the same [`crate::analysis::Analysis`]
//! that `report` prints, so the two cannot disagree.
//!
//! ```text
//! ┌ Users ─────────┐┌ Timeline ──────────────────────────────┐
//! │ sortable,      ││ recorded sessions, gaps, -1 events,    │
//! │ filterable     ││ replayed lane at the current timeout   │
//! │ list with flag │└────────────────────────────────────────┘
//! │ counts         │┌ Events │ Replay (r) ────────────────────┐
//! │                ││ session headers + events, or the       │
//! │                ││ comparison, sweep and gap histogram    │
//! └────────────────┘└────────────────────────────────────────┘
//!  loading (while sources load) │ events · users · sessions · rejected (while loading:
//!  "N of M events analysed") │ timeout · gap │ zone │ export │ sources
//!  prompt / message / key hints for the focused pane
//!  overlays: ? help (generated from the key table), Enter event detail (raw JSON),
//!            Enter on a session header: the session detail,
//!            S search across all users (Enter: go to the user and event; n/N step),
//!            ! rejected requests of `listen`, then the sources' rejected records and
//!              unusable session ids (Enter: a request's body, a record's full text)
//!            i findings over the whole input (Enter: narrow the users to one; Esc clears)
//!  lower pane: p plays the user back under the timeout (Space . [ ] p/Esc), see [`playback`]
//! ```
//!
//! # Shape
//!
//! | module | role |
//! |---|---|
//! | [`action`] | user intents ([`action::Action`]) |
//! | [`keymap`] | the key table the app holds, and the one rule for which scopes apply ([`keymap::active_scopes`]): resolution, help, hints and every key a title or message names come from it |
//! | [`live_view`] | follow mode, rates, the endpoint's status, open sessions' countdowns |
//! | [`playback`] | playback (`p`): the user, the simulated steps, the playhead moved by the instants the tick passes, speeds |
//! | [`app`] | [`app::App::apply`]: state transitions, testable without a terminal; asks for background work |
//! | [`jobs`] | background work (analysis, raw reads, export, clipboard copy, search across users) as single-flight jobs tagged with the store's epoch; the one staleness rule |
//! | [`model`] | what the views read; enums for focus, overlay, prompt; [`model::Derived`], what a reset clears |
//! | [`rows`] | per-user derived views: event rows, timeline lanes, time window |
//! | [`search`] | what a search matches, within a user and across all users (a job), and the session detail's state |
//! | [`ui`] | `render(frame, &Model, &Keymap, &mut ViewState)`: one widget per file, no I/O, no clock |
//! | [`records`] | the sources' rejected records and session-id warnings for `!`, their lines read back |
//! | [`jsonview`] | raw JSON pretty-printing (original key order), key properties, compaction |
//! | [`terminal`] | `TerminalGuard`: restores the terminal on drop and on panic |
//! | [`event_loop`] | the run loop: drain messages, start wanted jobs, then draw once, ≤ 30 fps, only when dirty; [`run`] and [`run_with`] |
//!
//! Keys named in these docs are the default table's ([`keymap::DEFAULT_BINDINGS`]); the
//! screen names whatever the app's [`keymap::Keymap`] binds.
//!
//! # Threads and the growing store
//!
//! A loader thread reads the sources and sends [`crate::store::LoadEvent`]s to the app's
//! channel. The UI thread owns the store as an `Arc<EventStore>` and applies those events
//! between frames, so the first frame is drawn at once and the user works with whatever
//! has loaded.
//!
//! Everything else that takes time runs as a *job* ([`jobs`]): the app only asks for
//! work ([`jobs::Jobs::want`], from [`app::App::apply`] or the analysis scheduler in
//! [`app::App::tick`]); the run loop starts it on a worker thread
//! ([`app::App::run_jobs`]), and its result comes back on the app's channel like loader
//! events. At most one job of a kind runs at a time; each kind says whether a new request
//! waits, supersedes or is refused. Every job is tagged with the store's epoch (see
//! below), and one rule ([`jobs::Jobs::is_current`]) decides whether a result is used.
//!
//! An analysis job computes over a *snapshot*: it gets a clone of the `Arc`, which keeps
//! the store immutable while it computes (a consistent view without copying millions of
//! events). While a job holds it, `Arc::get_mut` fails and incoming loader events wait in
//! a queue; when the job drops its clone and reports, the queue is applied. The UI keeps
//! showing the previous analysis meanwhile: the store only grows (events and interned
//! strings are appended), so an older analysis' indices stay valid against a newer store.
//! While loading, analyses run at most every 500 ms (or every four times the last one's
//! duration, so they take at most about a fifth of the CPU from loading), each over what
//! the store holds then; once everything has arrived and is applied, one final analysis
//! runs.
//!
//! Changing the timeout does not recompute the analysis: [`crate::analysis::Analysis::set_timeout`]
//! re-runs only the replay, on the UI thread (a linear pass). The sweep over the standard
//! timeouts is computed by the worker with each analysis; only the current timeout's row
//! comes from the live replay.
//!
//! Raw JSON is read back from the sources ([`crate::source::raw`]) only for what is shown:
//! the rows on screen (their key properties, cached by event) and the event in the detail
//! overlay. Memory and plain-file sources are read on the UI thread (a slice or a seek);
//! compressed sources, which need a pass over everything before the record, are read by a
//! job, which gets the segments it needs cloned out of the store (so the store keeps
//! growing meanwhile). Every string from events goes through [`crate::fmt::sanitize`]
//! before it reaches the terminal.
//!
//! Export (`x`) is a job too: it reads the events' raw JSON back and writes the NDJSON
//! file off the UI thread, and the status bar shows its progress (events read, then
//! events and bytes written); a second export while one runs is refused with a message,
//! and quitting lets a running export finish once the terminal is restored. A clipboard
//! copy (`y`) is read and encoded by a job; only writing its OSC 52 sequence to the
//! terminal happens on the UI thread.
//!
//! A `Reset` from a live source (the endpoint started afresh) voids every index into the
//! old events: once it is applied, the model's derived state ([`model::Derived`]: the
//! analysis, rows, lanes, cached properties, the detail overlay) is replaced by its
//! default in one assignment, and the reset count ([`app::App::epoch`]) goes up. A job
//! whose result points into the store (an analysis, a raw read) asked for before it is
//! dropped when it arrives, or not started at all, so no old index is ever used against
//! the new store.
//!
//! # The clock
//!
//! Nothing but the run loop reads the clock. It passes an `Instant` (for scheduling and
//! rates) and the wall-clock time in epoch ms to [`app::App::tick`], which stores the
//! latter as [`model::Model::now_ms`]; views and the open-session logic read that. Tests
//! pass whatever time they need. `tick` marks the view dirty when the displayed second
//! changes while the inspector is live or a session may still be open, so countdowns and
//! rates are redrawn at least once a second; otherwise an idle inspector does not redraw.
//!
//! # Live mode
//!
//! The inspector is live when an ingestion endpoint is attached ([`app::App::set_live`],
//! by `streamscope listen` through [`run_with`]) or a source never finishes (a `--follow`
//! file, a streaming URL: [`app::App::add_live_source`], [`app::App::mark_live`]). Loading
//! then never ends: analyses keep running every 500 ms or so over what has arrived.
//!
//! - *Follow mode* (`F`) is on by default when live and off for plain files; live, the
//!   users are listed most recent first. After each analysis it keeps the selected user
//!   (the listed user with the most recent event when none is selected yet) and selects
//!   that user's newest event (at the top or the bottom, as the list order has it); another
//!   user sending does not take the selection away. `L` jumps to the user who sent last
//!   and follows them. Moving the selection, scrolling, searching, jumping or panning
//!   pauses following, and the event pane's title counts the events received since
//!   (`▼ 12 new events · F to follow`); `F` resumes on the selected user's newest event,
//!   and `F` while following stops following.
//! - *Open sessions*: a user's latest recorded session is open while its last event is
//!   less than the current replay timeout before `now_ms` (30 m by default, Amplitude's
//!   session timeout). Its header counts down (`open · ends in 12:03`), the timeline
//!   draws its open end up to now, and the users pane marks the user with `●`. An
//!   implausible `now_ms` (tests, no clock) opens nothing, and old files never qualify.
//! - *The endpoint*: [`app::App::tick`] samples its counters (at most 4 times a second)
//!   into the status bar: listen address, requests and events per second over the last
//!   5 s, events received and duplicates, rejected requests. `!` lists the rejected
//!   requests kept, newest first, with their reasons; `Enter` shows a body through the
//!   JSON pretty-printer (sanitized, and saying when it was cut at 64 KiB).
//!
//! # Test hook
//!
//! With `STREAMSCOPE_TEST_PANIC_AFTER_FRAMES=N` in the environment the inspector panics
//! after drawing N frames. The real-terminal test uses it to check that the panic hook
//! restores the terminal (main screen, cursor shown, raw mode off).

pub mod action;
pub mod app;
pub mod event_loop;
pub mod jobs;
pub mod jsonview;
pub mod keymap;
pub mod live_view;
pub mod memory;
pub mod model;
pub mod osc52;
pub mod playback;
pub mod records;
pub mod rows;
pub mod search;
pub mod terminal;
pub mod ui;
pub mod zone;

pub use event_loop::{run, run_with};

/// How the inspector analyses and shows what it loads, whatever opened it (the command
/// line, or `listen` over its endpoint).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The analysis settings (the replay timeout can be changed on screen).
    pub rules: crate::analysis::Rules,
    /// The zone named with `--tz` (`z` cycles UTC, local and this one).
    pub zone: Option<zone::Zone>,
    /// The key table (a config file's keys applied).
    pub keymap: keymap::Keymap,
    /// The colours.
    pub theme: ui::Theme,
}
