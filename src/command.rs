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

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _};

use crate::analysis::Rules;
use crate::cli::{AnalysisArgs, Cli, Command, ListenArgs, ReportArgs, SqlArgs, TuiArgs};
use crate::config::{self, Config};
use crate::listen::request::Settings;
use crate::{listen, report, source, tui};

/// Runs a parsed command line; returns the process exit status. `matches` tells which
/// values came from the command line: those win over the config file, which wins over
/// the built-in defaults.
pub fn run(matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    let cli = Cli::from_arg_matches(matches)?;
    let cfg = match config::load(cli.config.as_deref()) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("streamscope: the config file is wrong: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let sub = |name: &str| matches.subcommand_matches(name).unwrap_or(matches);
    // Downloaded Amplitude exports live as long as the command.
    let _amplitude_files = source::amplitude::TempFiles::guard();
    match cli.command {
        Some(Command::Fetch(args)) => {
            source::amplitude::set_region(args.amplitude_region);
            let code =
                source::amplitude::fetch(&args.source, &args.output, &mut std::io::stderr())?;
            Ok(ExitCode::from(code))
        }
        Some(Command::Report(args)) => {
            source::amplitude::set_region(args.sources.amplitude_region);
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let opts = report_options(args, sub("report"), &cfg);
            let code = report::run(&opts, &mut out, &mut std::io::stderr())?;
            out.flush()?;
            Ok(ExitCode::from(code))
        }
        Some(Command::Listen(args)) => {
            let (opts, inspector) = listen_options(args, sub("listen"), &cfg);
            match inspector {
                None => listen::run_headless(&opts),
                Some(view) => listen_with_inspector(&opts, &view),
            }
        }
        Some(Command::Sql(args)) => run_sql(args, sub("sql"), &cfg),
        Some(Command::Config) => {
            let mut out = std::io::stdout().lock();
            write_config(&cfg, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Completions { shell }) => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "streamscope", &mut out);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            let mut out = std::io::stdout().lock();
            write_man(&mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            source::amplitude::set_region(cli.tui.sources.amplitude_region);
            let (view, specs) = tui_options(cli.tui, matches, &cfg);
            tui::run(&view, specs)
        }
    }
}

/// Whether the value of `id` was typed on the command line.
fn from_flag(m: &ArgMatches, id: &str) -> bool {
    m.value_source(id) == Some(ValueSource::CommandLine)
}

/// The analysis rules: each setting from its flag, else the config file, else the default.
fn rules(args: &AnalysisArgs, m: &ArgMatches, cfg: &Config) -> Rules {
    let mut rules = args.rules();
    if !from_flag(m, "timeout")
        && let Some(t) = cfg.timeout_ms
    {
        rules.timeout_ms = t;
    }
    if !from_flag(m, "gap")
        && let Some(g) = cfg.gap_ms
    {
        rules.gap_ms = g;
    }
    if !from_flag(m, "inactive")
        && let Some(i) = &cfg.inactive
    {
        rules.inactive.clone_from(i);
    }
    rules
}

/// `sql`: prints the script, or says why it cannot be written (exit status 2).
fn run_sql(args: SqlArgs, m: &ArgMatches, cfg: &Config) -> anyhow::Result<ExitCode> {
    let opts = crate::sql::Options {
        dialect: args.dialect,
        input: match args.table {
            Some(table) => crate::sql::Input::Table(table),
            None => crate::sql::Input::Files(args.source),
        },
        rules: rules(&args.analysis, m, cfg),
        emit: args.emit,
        user: args.user,
    };
    match crate::sql::script(&opts) {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("streamscope sql: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `report`'s options.
fn report_options(args: ReportArgs, m: &ArgMatches, cfg: &Config) -> report::Options {
    report::Options {
        rules: rules(&args.analysis, m, cfg),
        max_record: args
            .max_record_size
            .unwrap_or(source::load::DEFAULT_MAX_RECORD),
        sources: args.sources.sources,
        user: args.user,
        output: report::Output {
            format: args.format,
            users: args.users,
        },
    }
}

/// The inspector's options (keys and colours from the config file) and the sources it
/// opens.
fn tui_options(args: TuiArgs, m: &ArgMatches, cfg: &Config) -> (tui::Options, Vec<source::Spec>) {
    let specs = source::tui_specs(&args.sources.sources, &args.follow);
    let opts = inspector_options(rules(&args.analysis, m, cfg), args.tz, cfg);
    (opts, specs)
}

/// The inspector's options: `--tz` wins over the file's zone; keys and colours are the
/// file's.
fn inspector_options(rules: Rules, tz: Option<tui::zone::Zone>, cfg: &Config) -> tui::Options {
    tui::Options {
        rules,
        zone: tz.or(cfg.tz),
        keymap: cfg.keymap(),
        theme: cfg.theme(),
    }
}

/// `listen`'s options, and the inspector's unless `--no-tui`.
fn listen_options(
    args: ListenArgs,
    m: &ArgMatches,
    cfg: &Config,
) -> (listen::Options, Option<tui::Options>) {
    let rules = rules(&args.analysis, m, cfg);
    let inspector = (!args.no_tui).then(|| inspector_options(rules.clone(), args.tz, cfg));
    let addr = match cfg.listen_addr {
        Some(a) if !from_flag(m, "addr") => a,
        _ => args.addr,
    };
    let opts = listen::Options {
        addr,
        capture: args.capture,
        capture_dir: cfg.capture_dir.clone(),
        forward: args.forward,
        ingest: Settings {
            min_id_length: args.min_id_length,
            api_keys: args.api_keys,
        },
        rules,
        limits: cfg.listen_limits.apply(listen::Limits::default()),
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

/// `streamscope config`: the effective settings (without flags: the file's, else the
/// defaults), where each comes from, and the file read.
fn write_config(cfg: &Config, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let path = config::default_path();
    match (&cfg.path, &path) {
        (Some(p), _) => writeln!(out, "config file: {} (read)", p.display())?,
        (None, Some(p)) => writeln!(out, "config file: {} (none there)", p.display())?,
        (None, None) => writeln!(out, "config file: none (no home directory)")?,
    }
    let defaults = Rules::default();
    let source = |set: bool| if set { "config file" } else { "default" };
    let rows: Vec<(&str, String, &str)> = vec![
        (
            "timeout",
            crate::fmt::setting(cfg.timeout_ms.unwrap_or(defaults.timeout_ms)),
            source(cfg.timeout_ms.is_some()),
        ),
        (
            "gap",
            crate::fmt::setting(cfg.gap_ms.unwrap_or(defaults.gap_ms)),
            source(cfg.gap_ms.is_some()),
        ),
        (
            "inactive",
            cfg.inactive
                .as_ref()
                .map_or_else(|| "(none)".to_string(), |i| i.join(", ")),
            source(cfg.inactive.is_some()),
        ),
        (
            "tz",
            cfg.tz
                .map_or_else(|| "UTC".to_string(), tui::zone::Zone::label),
            source(cfg.tz.is_some()),
        ),
        (
            "listen.addr",
            cfg.listen_addr
                .map_or_else(|| "127.0.0.1:8788".to_string(), |a| a.to_string()),
            source(cfg.listen_addr.is_some()),
        ),
        (
            "listen.capture_dir",
            cfg.capture_dir.as_ref().map_or_else(
                || {
                    listen::default_capture_dir()
                        .map_or_else(|_| "(none)".to_string(), |d| d.display().to_string())
                },
                |d| d.display().to_string(),
            ),
            source(cfg.capture_dir.is_some()),
        ),
    ];
    let limits = cfg.listen_limits.apply(listen::Limits::default());
    let given = cfg.listen_limits;
    let secs = |d: std::time::Duration| {
        crate::fmt::setting(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    };
    let mut rows = rows;
    rows.extend([
        (
            "listen.max_connections",
            limits.max_connections.to_string(),
            source(given.max_connections.is_some()),
        ),
        (
            "listen.idle_timeout",
            secs(limits.idle),
            source(given.idle.is_some()),
        ),
        (
            "listen.body_timeout",
            secs(limits.body_idle),
            source(given.body_idle.is_some()),
        ),
        (
            "listen.body_budget",
            format!("{} bytes", limits.body_budget),
            source(given.body_budget.is_some()),
        ),
    ]);
    for (key, value, from) in rows {
        writeln!(out, "{key:<22} {:<40} {from}", crate::fmt::sanitize(&value))?;
    }
    for (slot, color) in &cfg.theme {
        writeln!(
            out,
            "{:<22} {:<40} config file",
            format!("theme.{slot}"),
            color.to_string()
        )?;
    }
    for (action, k) in &cfg.keys {
        let labels: Vec<String> = k.iter().map(|k| k.label()).collect();
        writeln!(
            out,
            "{:<22} {:<40} config file",
            format!("keys.{}", action.name().unwrap_or("?")),
            labels.join(" ")
        )?;
    }
    writeln!(out, "(flags given on a command line win over these)")
}

/// `streamscope man`: the main page, then each subcommand's synopsis and options.
fn write_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd.clone()).render(out)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("streamscope {}", sub.get_name());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{about}")?;
        }
        let man = clap_mangen::Man::new(sub.clone().bin_name(name));
        for render in [
            clap_mangen::Man::render_synopsis_section,
            clap_mangen::Man::render_options_section,
        ] {
            let mut section = Vec::new();
            render(&man, &mut section)?;
            // Each subcommand's parts are subsections of its section.
            let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}
