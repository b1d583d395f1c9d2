//! streamscope: a terminal inspector for Amplitude-style analytics event streams.
//!
//! Module map (the core is pure and synchronous; shells around it do I/O):
//!
//! | module | role |
//! |---|---|
//! | [`event`] | compact event record, interned strings, locations (core) |
//! | [`index`] | typed indices of events, positions, users and sessions (core) |
//! | [`json`] | validating JSON scanner (core) |
//! | [`decode`] | records → events, rejection rules (core) |
//! | [`store`] | the event store, filled by loader events (core) |
//! | [`analysis`] | the session model: users, sessions, flags, replay (core) |
//! | [`fmt`] | durations, times, escaping of untrusted text (core) |
//! | [`source`] | reading files, archives and stdin, following files and URLs (std threads) |
//! | [`live`] | counters and rejected requests the ingestion endpoint shares with its viewers |
//! | [`ingest`] | the ingestion endpoint's decisions: answers, capture lines (core) |
//! | [`server`] | `listen`: the HTTP endpoint, capture file, query API (tokio, axum) |
//! | [`report`] | the headless report, text or JSON |
//! | [`cli`] | command-line interface |
//!
//! The TUI and `report` both read [`analysis::Analysis`], so they cannot disagree.

pub mod analysis;
pub mod cli;
pub mod decode;
pub mod event;
pub mod fmt;
pub mod index;
pub mod ingest;
pub mod json;
pub mod live;
pub mod report;
pub mod server;
pub mod source;
pub mod store;
pub mod tui;

use std::io::Write;
use std::process::ExitCode;

/// Runs the command line; returns the process exit status.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    match cli.command {
        Some(cli::Command::Report(args)) => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let code = report::run(&args, &mut out, &mut stderr.lock())?;
            out.flush()?;
            Ok(ExitCode::from(code))
        }
        Some(cli::Command::Listen(args)) => server::run(&args),
        None => tui::run(&cli.tui),
    }
}
