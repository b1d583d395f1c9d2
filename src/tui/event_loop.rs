//! The run loop: drain messages, start the jobs the app asked for, then draw once, at
//! most ~30 times a second, and only when something changed; wait for terminal input in
//! between. A clipboard copy prepared by a job is written to the terminal here. This is the only place
//! that reads the clock (an `Instant` and the wall-clock time, handed to
//! [`App::tick`]) and touches the real terminal (through [`TerminalGuard`]).
//!
//! [`run`] opens the inspector on the command line's sources; [`run_with`] is the same
//! loop for callers that bring their own sources, like `streamscope listen`, which
//! attaches its [`LiveState`] and follows its capture file.

use std::io::IsTerminal as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use crossterm::event;

use super::Options;
use super::app::{App, Msg, run_worker};
use super::jobs::Kind;
use super::terminal::TerminalGuard;
use super::zone::Zones;
use crate::index::SourceIx;
use crate::listen::shared::LiveState;
use crate::source::{self, LoadOptions};
use crate::store::EventStore;

/// At most this many frames a second.
const FRAME: Duration = Duration::from_millis(33);
/// How long to wait for input when nothing needs drawing.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// How long to wait for input at most while sources of known size load, loaded batches
/// wait to be applied, or a job's result is awaited: those arrive on a channel the
/// terminal poll does not watch, so a longer wait would delay them on screen (the complete
/// analysis of a large file by up to [`IDLE_POLL`]) and let batches pile up in memory.
const BUSY_POLL: Duration = Duration::from_millis(4);
/// Time spent applying messages before drawing.
const DRAIN_BUDGET: Duration = Duration::from_millis(15);

/// Test hook (hidden, for the real-terminal test): panic after drawing this many frames,
/// to check that the panic hook restores the terminal.
pub const PANIC_AFTER_FRAMES_VAR: &str = "STREAMSCOPE_TEST_PANIC_AFTER_FRAMES";

/// Set (to anything), the inspector quits as soon as it has read every source and drawn
/// its first complete analysis, and prints to stderr how long that took and its peak
/// memory: for benchmarks (`bench/lnav.sh`).
pub const EXIT_WHEN_LOADED_VAR: &str = "STREAMSCOPE_EXIT_WHEN_LOADED";

/// Opens the inspector on `specs` (see [`source::tui_specs`]). Sources that never finish
/// (`--follow` files, http(s) URLs) are marked live, which turns follow mode on.
pub fn run(opts: &Options, specs: Vec<source::Spec>) -> anyhow::Result<ExitCode> {
    run_with(opts, None, |app| spawn_loaders(app, specs))
}

/// The wall clock in epoch ms (0 if the system clock is before 1970).
fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Opens the inspector with sources registered by `start`: it gets the app before the
/// terminal is set up, registers sources ([`App::add_source`], [`App::add_live_source`])
/// and starts loader threads that send to [`App::sender`]. With `live`, the status bar
/// shows the endpoint's address, rates and counters, `!` lists its rejected requests,
/// and follow mode starts on.
pub fn run_with(
    opts: &Options,
    live: Option<Arc<LiveState>>,
    start: impl FnOnce(&mut App) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    let mut stderr = std::io::stderr();
    // Before any large block is freed (see the module).
    super::memory::return_freed_memory();
    if !std::io::stdout().is_terminal() {
        writeln!(
            stderr,
            "streamscope: the inspector needs a terminal; use 'streamscope report' for text or JSON output"
        )?;
        return Ok(ExitCode::from(2));
    }
    let started = Instant::now();
    let panic_after: Option<u64> = std::env::var(PANIC_AFTER_FRAMES_VAR)
        .ok()
        .and_then(|v| v.parse().ok());
    let exit_when_loaded = std::env::var_os(EXIT_WHEN_LOADED_VAR).is_some();
    let mut loaded_in: Option<Duration> = None;
    let mut app = App::new(EventStore::new(), opts.rules.clone(), Zones::new(opts.zone));
    app.view.theme = opts.theme;
    app.set_keymap(opts.keymap.clone());
    if let Some(live) = live {
        app.set_live(live);
    }
    start(&mut app)?;

    let mut guard = TerminalGuard::enter().context("cannot set up the terminal")?;
    let mut last_draw: Option<Instant> = None;
    loop {
        let now = Instant::now();
        app.pump(now + DRAIN_BUDGET);
        app.tick(now, wall_ms());
        if app.should_quit() {
            break;
        }
        // A copy was read and encoded by a job; only the write happens here.
        if let Some(clip) = app.take_clipboard() {
            guard.write_raw(clip.osc52.as_bytes())?;
        }
        let due = last_draw.is_none_or(|t| now.duration_since(t) >= FRAME);
        if due && app.take_dirty() {
            app.draw(guard.terminal())?;
            last_draw = Some(now);
            // Drawing may ask for raw reads of the rows on screen.
            app.run_jobs();
            if panic_after.is_some_and(|n| app.view.frames >= n) {
                panic!(
                    "{PANIC_AFTER_FRAMES_VAR} reached: panicking on purpose to test that the terminal is restored"
                );
            }
            if exit_when_loaded && !app.model.loading() && app.model.derived.analysis.is_some() {
                loaded_in = Some(started.elapsed());
                break;
            }
        }
        let mut wait = match last_draw {
            Some(t) if !due => FRAME.saturating_sub(t.elapsed()),
            _ => IDLE_POLL,
        };
        // Not while a live source is merely open (no known size): that would wake the
        // loop 250 times a second for as long as it is tailed.
        let model = &app.model;
        if model.pending > 0 || model.progress().is_some() || app.jobs().awaited() {
            wait = wait.min(BUSY_POLL);
        }
        if event::poll(wait)? {
            loop {
                let ev = event::read()?;
                app.on_terminal(&ev);
                if !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
    }
    drop(guard);
    if let Some(took) = loaded_in {
        // The peak resident size, where the platform tells it.
        let peak = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().to_string()))
            })
            .unwrap_or_else(|| "unknown".to_string());
        // Where the time went: the complete analysis started once the last event was in
        // the store, so its start is when loading ended.
        let phases = app
            .last_analysis()
            .map(|(at, analysis)| {
                format!(
                    " (loaded at {:.3} s, analysed in {:.3} s)",
                    at.saturating_duration_since(started).as_secs_f64(),
                    analysis.as_secs_f64()
                )
            })
            .unwrap_or_default();
        writeln!(
            stderr,
            "streamscope: read, analysed and drawn {} events in {:.3} s{phases}; peak RSS {peak}",
            app.model.store.events().len(),
            took.as_secs_f64()
        )?;
    }
    finish_export(&mut app, &mut stderr)?;
    match app.failure() {
        Some(why) => Err(anyhow::anyhow!("{why}")),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// After quitting: an export still running is let finish (the terminal is restored
/// already), so that its file is not left cut off; says so, and how it ended.
fn finish_export(app: &mut App, stderr: &mut std::io::Stderr) -> std::io::Result<()> {
    let Some(export) = &app.model.export else {
        return Ok(());
    };
    writeln!(
        stderr,
        "streamscope: finishing the export to {}…",
        export.path
    )?;
    while app.jobs().busy(Kind::Export) && app.failure().is_none() {
        app.run_jobs();
        app.pump(Instant::now() + DRAIN_BUDGET);
        std::thread::sleep(IDLE_POLL);
    }
    if let Some(m) = &app.model.message {
        writeln!(stderr, "streamscope: {}", m.text)?;
    }
    Ok(())
}

/// Registers the sources and starts their loaders: the sources read once (files, stdin,
/// the demo) in order on one thread; each live source (a followed file, a streaming URL)
/// on a thread of its own. A loader stops when the inspector has gone.
fn spawn_loaders(app: &mut App, specs: Vec<source::Spec>) -> anyhow::Result<()> {
    let opts = LoadOptions {
        keep_raw: true,
        ..LoadOptions::default()
    };
    let mut once = Vec::new();
    for spec in specs {
        if spec.is_live() {
            spawn_live(app, spec, &opts)?;
        } else {
            let src = app
                .add_source(&spec.name())
                .context("the store is shared before loading started")?;
            once.push((spec, src));
        }
    }
    // Read from start to end: larger chunks than the live sources' (see `ONCE_CHUNK`).
    let opts = LoadOptions {
        chunk_size: source::load::ONCE_CHUNK,
        ..opts
    };
    let tx = app.sender();
    std::thread::Builder::new()
        .name("streamscope-load".into())
        .spawn(move || {
            run_worker("loading", &tx.clone(), || {
                let stop = AtomicBool::new(false);
                for (spec, src) in once {
                    source::run_spec(&spec, src, &opts, &stop, &mut |ev| {
                        let _ = tx.send(Msg::from(ev));
                    });
                }
            });
        })?;
    Ok(())
}

/// Registers a live source (a followed file, a streaming URL) and reads it on a thread of
/// its own until the inspector has gone; marks it live, which turns follow mode on.
pub fn spawn_live(
    app: &mut App,
    spec: source::Spec,
    opts: &LoadOptions,
) -> anyhow::Result<SourceIx> {
    let src = app
        .add_live_source(&spec.name())
        .context("the store is shared before loading started")?;
    let (tx, opts) = (app.sender(), opts.clone());
    std::thread::Builder::new()
        .name("streamscope-live".into())
        .spawn(move || {
            run_worker("live source", &tx.clone(), || {
                let stop = AtomicBool::new(false);
                source::run_spec(&spec, src, &opts, &stop, &mut |ev| {
                    if tx.send(Msg::from(ev)).is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                });
            });
        })?;
    Ok(src)
}
