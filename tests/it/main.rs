//! The integration tests, one test binary (one link of the whole dependency graph instead of
//! one per file). Each module was a `tests/*.rs` file; `common` and `tui_support` are their
//! shared helpers. Fixtures stay in `tests/fixtures/`, the SDK drivers in `tests/sdk/`.

mod amplitude;
mod amplitude_support;
mod architecture;
mod common;
mod config;
mod containers;
mod durability;
mod extreme_times;
mod follow;
mod inputs;
mod listen;
mod report;
mod sql;
mod tui_events;
mod tui_keys;
mod tui_lifecycle;
mod tui_live;
mod tui_playback;
mod tui_render;
mod tui_replay_panel;
mod tui_search;
mod tui_support;
mod tui_terminal;
mod tui_timeline;
mod tui_triage;
mod url_stream;
