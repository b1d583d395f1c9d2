//! The command layer: turns the parsed command line ([`crate::cli`]) into each shell's own
//! options ([`report::Options`], [`tui::Options`], [`listen::Options`]) and runs the shell.
//! It is the only module besides `main.rs` that knows the clap structs, so the shells
//! depend on the core and on their options, never on each other's arguments.
//!
//! `listen` without `--no-tui` is composed here: the endpoint serves on background
//! threads while the inspector follows its capture file.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::{Cli, Command, ListenArgs, ReportArgs, TuiArgs};
use crate::listen::request::Settings;
use crate::{listen, report, source, tui};

/// Runs the command line; returns the process exit status.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Report(args)) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let code = report::run(&report_options(args), &mut out, &mut std::io::stderr())?;
            out.flush()?;
            Ok(ExitCode::from(code))
        }
        Some(Command::Listen(args)) => {
            let (opts, inspector) = listen_options(args);
            match inspector {
                None => listen::run_headless(&opts),
                Some(view) => listen_with_inspector(&opts, &view),
            }
        }
        None => {
            let (view, specs) = tui_options(cli.tui);
            tui::run(&view, specs)
        }
    }
}

/// `report`'s options.
fn report_options(args: ReportArgs) -> report::Options {
    report::Options {
        rules: args.analysis.rules(),
        sources: args.sources.sources,
        user: args.user,
        output: report::Output {
            format: args.format,
            users: args.users,
        },
    }
}

/// The inspector's options and the sources it opens.
fn tui_options(args: TuiArgs) -> (tui::Options, Vec<source::Spec>) {
    let specs = source::tui_specs(&args.sources.sources, &args.follow);
    let opts = tui::Options {
        rules: args.analysis.rules(),
        zone: args.tz,
    };
    (opts, specs)
}

/// `listen`'s options, and the inspector's unless `--no-tui`.
fn listen_options(args: ListenArgs) -> (listen::Options, Option<tui::Options>) {
    let rules = args.analysis.rules();
    let inspector = (!args.no_tui).then(|| tui::Options {
        rules: rules.clone(),
        zone: args.tz,
    });
    let opts = listen::Options {
        addr: args.addr,
        capture: args.capture,
        forward: args.forward,
        ingest: Settings {
            min_id_length: args.min_id_length,
            api_keys: args.api_keys,
        },
        rules,
    };
    (opts, inspector)
}

/// The inspector over the endpoint: it follows the capture file (woken after each
/// append, reset when a reset rotates it) and shows the endpoint's counters and
/// rejected requests; the server runs on background threads meanwhile.
fn listen_with_inspector(opts: &listen::Options, view: &tui::Options) -> anyhow::Result<ExitCode> {
    listen::warn_unless_loopback(opts.addr);
    let background = listen::Server::bind(opts, false)?.serve_in_background()?;
    let live = Arc::clone(&background.shared.live);
    let capture = live.capture();
    let spec = source::Spec::Follow(source::FollowSpec {
        path: capture.clone(),
        wake: Some(Arc::clone(&live.wake)),
        reset_on_replace: true,
    });
    let load = source::LoadOptions {
        keep_raw: true,
        ..source::LoadOptions::default()
    };
    let resumed = background.shared.capture_events();
    // The endpoint outlives the inspector: should the inspector panic (the panic hook has
    // restored the terminal by then), the endpoint keeps serving until Ctrl-C / SIGTERM,
    // and what it acknowledged stays in the capture.
    let inspector = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tui::run_with(view, Some(Arc::clone(&live)), |app| {
            tui::event_loop::spawn_live(app, spec, &load)?;
            let mut note = format!(
                "SDK server URL {}/2/httpapi · capture {}",
                live.url,
                capture.display()
            );
            if resumed > 0 {
                note.push_str(&format!(" (resumed with {resumed} events)"));
            }
            app.info(note);
            Ok(())
        })
    }));
    let code = match inspector {
        Ok(code) => code?,
        Err(_) => {
            eprintln!(
                "streamscope: the inspector stopped on an internal error; the endpoint keeps serving on {} (events go to {}); Ctrl-C to stop",
                live.url,
                live.capture().display()
            );
            background.wait_for_stop();
            ExitCode::from(101)
        }
    };
    let c = live.counters.snapshot();
    eprintln!(
        "streamscope: {} requests, {} events captured in {}",
        c.requests,
        c.events,
        live.capture().display()
    );
    drop(background);
    Ok(code)
}
