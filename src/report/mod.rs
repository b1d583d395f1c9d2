//! `streamscope report`: loads the sources, computes the analysis once and writes it as
//! text or JSON to any [`Write`]. Nothing here prints directly, so tests capture output.
//!
//! Exit status: 0 when the input was analysed (anomalies are findings, not errors);
//! 1 when a source could not be read at all (the others are still analysed and
//! reported); usage errors (2) are clap's.

mod json;
mod text;

use std::io::Write;

use crate::analysis::Analysis;
use crate::cli::{Format, ReportArgs};
use crate::index::UserIx;
use crate::source::{LoadOptions, load_all};
use crate::store::EventStore;

/// Bytes per NDJSON chunk when loading for a report.
const REPORT_CHUNK: usize = 2 << 20;

/// Runs `report`: output to `out`, problems with sources to `err`. Returns the exit status.
pub fn run(args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    // STREAMSCOPE_TIMINGS=1 prints how long each phase took, for benchmarking.
    let timings = std::env::var_os("STREAMSCOPE_TIMINGS").is_some();
    let start = std::time::Instant::now();
    let phase = |name: &str, err: &mut dyn Write| {
        if timings {
            // The peak resident size so far, where the platform tells it.
            let peak = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("VmHWM:"))
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            let _ = writeln!(
                err,
                "timing: {name} done at {:.3} s {peak}",
                start.elapsed().as_secs_f64()
            );
        }
    };
    // Larger NDJSON chunks than the default (which suits the TUI's progress updates): half
    // as many batches to hand over and merge; ~5% faster loads on large files.
    let opts = LoadOptions {
        chunk_size: REPORT_CHUNK,
        ..LoadOptions::default()
    };
    let store = load_all(&args.sources.sources, &opts);
    phase("load", err);
    for source in &store.sources {
        for problem in &source.problems {
            writeln!(err, "streamscope: {}", crate::fmt::sanitize(problem))?;
        }
    }
    let analysis = Analysis::compute(&store, &args.analysis.rules());
    phase("analysis", err);
    let user = match &args.user {
        Some(key) => match analysis.find_user(&store, key) {
            Some(u) => Some(u),
            None => {
                writeln!(
                    err,
                    "streamscope: no user, device or amplitude id '{}' in the input",
                    crate::fmt::sanitize(key)
                )?;
                return Ok(1);
            }
        },
        None => None,
    };
    write(&store, &analysis, args, user, out)?;
    phase("output", err);
    Ok(u8::from(store.any_failed()))
}

/// Writes the report of an analysis in the format `args` asks for.
pub fn write(
    store: &EventStore,
    analysis: &Analysis,
    args: &ReportArgs,
    user: Option<UserIx>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match args.format {
        Format::Json => json::write(store, analysis, user, out),
        Format::Text => text::write(store, analysis, user, args.users, out),
    }
}
