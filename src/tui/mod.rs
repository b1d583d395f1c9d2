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
//!  sources │ events · users · sessions · rejected │ timeout · gap │ zone │ loading
//!  prompt / message / key hints for the focused pane
//!  overlays: ? help (generated from the key table), Enter event detail (raw JSON)
//! ```
//!
//! # Shape
//!
//! | module | role |
//! |---|---|
//! | [`action`] | user intents ([`action::Action`]) |
//! | [`keymap`] | the key table: resolution, help and hints are generated from it |
//! | [`app`] | [`app::App::apply`]: state transitions, testable without a terminal |
//! | [`model`] | what the views read; enums for focus, overlay, prompt |
//! | [`rows`] | per-user derived views: event rows, timeline lanes, time window |
//! | [`ui`] | `render(frame, &Model, &mut ViewState)`: one widget per file, no I/O, no clock |
//! | [`jsonview`] | raw JSON pretty-printing (original key order), key properties, compaction |
//! | [`terminal`] | `TerminalGuard`: restores the terminal on drop and on panic |
//! | [`event_loop`] | the run loop: drain messages, then draw once, ≤ 30 fps, only when dirty |
//!
//! # Threads and the growing store
//!
//! A loader thread reads the sources and sends [`crate::store::LoadEvent`]s to the app's
//! channel. The UI thread owns the store as an `Arc<EventStore>` and applies those events
//! between frames, so the first frame is drawn at once and the user works with whatever
//! has loaded. Analysis runs on a worker thread over a *snapshot*: the worker gets a clone
//! of the `Arc`, which keeps the store immutable while it computes (a consistent view
//! without copying millions of events). While a worker holds it, `Arc::get_mut` fails and
//! incoming loader events wait in a queue; when the worker drops its clone and reports,
//! the queue is applied. The UI keeps showing the previous analysis meanwhile: the store
//! only grows (events and interned strings are appended), so an older analysis' indices
//! stay valid against a newer store. While loading, analyses run at most every 500 ms (or
//! every four times the last one's duration, so they take at most about a fifth of the
//! CPU from loading), each over what the store holds then; once everything has arrived
//! and is applied, one final analysis runs.
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
//! short-lived worker thread. Every string from events goes through
//! [`crate::fmt::sanitize`] before it reaches the terminal.
//!
//! # Test hook
//!
//! With `STREAMSCOPE_TEST_PANIC_AFTER_FRAMES=N` in the environment the inspector panics
//! after drawing N frames. The real-terminal test uses it to check that the panic hook
//! restores the terminal (main screen, cursor shown, raw mode off).

pub mod action;
pub mod app;
pub mod event_loop;
pub mod jsonview;
pub mod keymap;
pub mod live;
pub mod model;
pub mod osc52;
pub mod rows;
pub mod terminal;
pub mod ui;
pub mod zone;

pub use event_loop::{run, run_with};
