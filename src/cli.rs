//! Command-line interface (clap derive). A bare `streamscope [SOURCE…]` opens the TUI;
//! `report` prints the same analysis headlessly; `fetch` saves an Amplitude source. Both take the same sources and settings
//! through the flattened [`SourceArgs`] and [`AnalysisArgs`].
//!
//! Values are parsed here, once, into their types (durations into milliseconds, zones
//! into [`Zone`], addresses into `SocketAddr`, formats into [`Format`]), so every
//! subcommand validates them the same way. Only this module and [`crate::command`], which
//! turns these structs into each shell's options, know about clap.

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::Rules;
use crate::report::{DEFAULT_USERS, Format};
use crate::source::amplitude::Region;
use crate::sql::{Dialect, Emit};
use crate::tui::zone::Zone;

/// streamscope: inspect Amplitude-style event streams: sessions, anomalies, timeout replay.
#[derive(Debug, Parser)]
#[command(name = "streamscope", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without a subcommand, the interactive inspector opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the interactive inspector.
    #[command(flatten)]
    pub tui: TuiArgs,
    /// Read defaults from this config file instead of
    /// $XDG_CONFIG_HOME/streamscope/config.toml (or ~/.config/streamscope/config.toml).
    #[arg(long, global = true, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<std::path::PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the session analysis as text or JSON (for tickets, scripts and CI).
    Report(ReportArgs),
    /// Serve an Amplitude-compatible ingestion endpoint and inspect what arrives, live.
    Listen(ListenArgs),
    /// Print the session model as a SQL script for DuckDB, Spark, BigQuery, Snowflake or
    /// Trino, to run where a whole project's events already are.
    Sql(SqlArgs),
    /// Print the effective settings, where each comes from, and the config file read.
    Config,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of every subcommand and option.
    Man,
    /// Save what an Amplitude source fetches, to reproduce a ticket offline: a user's
    /// events as NDJSON, or an export's zip as received.
    Fetch(FetchArgs),
}

/// Input sources.
#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// Files to read (NDJSON, JSON array, request bodies, User Activity responses, Export
    /// .zip, .gz of any of these), - for standard input, or an http(s) URL serving
    /// streaming NDJSON or server-sent events (followed, reconnecting). Several are one
    /// combined stream. Without any, the bundled demo stream is used.
    #[arg(value_name = "SOURCE", value_hint = clap::ValueHint::FilePath)]
    pub sources: Vec<String>,
    /// The Amplitude project's region for amplitude: sources (default: AMPLITUDE_REGION,
    /// else us). STREAMSCOPE_AMPLITUDE_URL wins over it.
    #[arg(long, value_name = "REGION", value_parser = parse_region)]
    pub amplitude_region: Option<Region>,
}

/// Options of `fetch`.
#[derive(Debug, Args, Clone)]
pub struct FetchArgs {
    /// amplitude:user/ID (the user's events, every user search match) or
    /// amplitude:export/START/END (hours YYYYMMDDTHH, UTC, both included). Keys come from
    /// AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The file to write (replaced): NDJSON for a user, the zip for an export.
    #[arg(short, long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub output: std::path::PathBuf,
    /// The Amplitude project's region (default: AMPLITUDE_REGION, else us).
    #[arg(long, value_name = "REGION", value_parser = parse_region)]
    pub amplitude_region: Option<Region>,
}

fn parse_region(text: &str) -> Result<Region, String> {
    Region::parse(text)
}

/// Settings of the session analysis.
#[derive(Debug, Args, Clone)]
pub struct AnalysisArgs {
    /// Replay timeout: sessions are recomputed splitting at idle times longer than this.
    #[arg(long, value_name = "D", default_value = "30m", value_parser = parse_duration)]
    pub timeout: i64,
    /// Gap threshold: consecutive events of a session further apart are flagged.
    #[arg(long, value_name = "D", default_value = "5m", value_parser = parse_duration)]
    pub gap: i64,
    /// An event type to treat as inactive, like $identify (repeatable).
    #[arg(long, value_name = "TYPE")]
    pub inactive: Vec<String>,
}

impl AnalysisArgs {
    /// The analysis rules these settings ask for.
    #[must_use]
    pub fn rules(&self) -> Rules {
        Rules {
            timeout_ms: self.timeout,
            gap_ms: self.gap,
            inactive: self.inactive.clone(),
        }
    }
}

fn parse_duration(text: &str) -> Result<i64, String> {
    crate::fmt::parse_duration(text)
}

fn parse_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    crate::config::resolve_addr(text)
}

fn parse_zone(text: &str) -> Result<Zone, String> {
    Zone::parse(text)
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.describe()))
    }
}

/// Options of the interactive inspector.
#[derive(Debug, Args, Clone)]
pub struct TuiArgs {
    /// Sources.
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Analysis settings.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// An NDJSON file to read and then follow as it grows, like `tail -F` (survives
    /// truncation and rotation); repeatable.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub follow: Vec<std::path::PathBuf>,
    /// A time zone for displayed times, like Europe/Paris (z cycles UTC / local / this).
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    pub tz: Option<Zone>,
}

/// Options of `listen`.
#[derive(Debug, Args, Clone)]
pub struct ListenArgs {
    /// Address to serve on: an IP address or a host name (`localhost:8788`), with a port.
    /// Anything but loopback exposes the endpoint to the network (a warning is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8788", value_parser = parse_addr)]
    pub addr: std::net::SocketAddr,
    /// NDJSON file every accepted event is appended to (with its receive time) before it
    /// is acknowledged. Starting again on the same file resumes with its events. Default:
    /// a new file in the platform's data directory.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub capture: Option<std::path::PathBuf>,
    /// Also relay each accepted request to this upstream (like https://api2.amplitude.com);
    /// the SDK gets the upstream's answer when it is reachable.
    #[arg(long, value_name = "URL")]
    pub forward: Option<String>,
    /// Accept only these API keys (repeatable, or comma-separated in STREAMSCOPE_API_KEYS).
    /// Without any, every key is accepted.
    #[arg(
        long = "api-key",
        value_name = "KEY",
        env = "STREAMSCOPE_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,
    /// Shortest accepted user_id / device_id, unless a request's options.min_id_length
    /// says otherwise (Amplitude's default is 5).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub min_id_length: usize,
    /// No inspector: one line per request on standard output; stops cleanly on Ctrl-C or
    /// SIGTERM.
    #[arg(long)]
    pub no_tui: bool,
    /// Analysis settings (for the inspector and the summary API).
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// A time zone for displayed times, like Europe/Paris.
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    pub tz: Option<Zone>,
}

/// Options of `report`.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Sources.
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Analysis settings.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Only this user: a user id, device id or amplitude id.
    #[arg(long, value_name = "KEY")]
    pub user: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Text format: how many users get a session table (most anomalies first).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_USERS)]
    pub users: usize,
    /// The record-size limit (default 64MiB): a longer line or JSON value is rejected
    /// with its location and size, and skipped without being held in memory. Units: B,
    /// KB, MB, GB, KiB, MiB, GiB.
    #[arg(long, value_name = "SIZE", value_parser = crate::fmt::parse_size)]
    pub max_record_size: Option<usize>,
}

/// Options of `sql`.
#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["source", "table"])))]
pub struct SqlArgs {
    /// The SQL engine.
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// NDJSON or Export .json.gz files to read: a path or glob, local or s3:// (duckdb,
    /// spark); repeatable.
    #[arg(long, value_name = "PATH-OR-GLOB")]
    pub source: Vec<String>,
    /// A table with Amplitude's export columns (Snowflake / BigQuery destinations), by name.
    #[arg(long, value_name = "NAME", conflicts_with = "source")]
    pub table: Option<String>,
    /// Analysis settings, as for `report`.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// What the script's last statement returns.
    #[arg(long, value_enum, default_value_t = Emit::Summary)]
    pub emit: Emit,
    /// For --emit user-events: a user id, device id or Amplitude id.
    #[arg(long, value_name = "KEY")]
    pub user: Option<String>,
}

impl ValueEnum for Dialect {
    fn value_variants<'a>() -> &'a [Self] {
        &Dialect::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

impl ValueEnum for Emit {
    fn value_variants<'a>() -> &'a [Self] {
        &Emit::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn report_takes_durations_and_repeated_inactive_types() {
        let cli = Cli::try_parse_from([
            "streamscope",
            "report",
            "a.ndjson",
            "--timeout",
            "1h30m",
            "--gap",
            "90s",
            "--inactive",
            "Heartbeat",
            "--inactive",
            "Ping",
            "--format",
            "json",
        ])
        .unwrap();
        let Some(Command::Report(r)) = cli.command else {
            panic!("not a report")
        };
        assert_eq!(r.analysis.timeout, 5_400_000);
        assert_eq!(r.analysis.gap, 90_000);
        assert_eq!(r.analysis.inactive, ["Heartbeat", "Ping"]);
        assert_eq!(r.format, Format::Json);
    }

    #[test]
    fn listen_defaults_to_loopback_and_takes_repeated_api_keys() {
        let cli = Cli::try_parse_from([
            "streamscope",
            "listen",
            "--api-key",
            "k1",
            "--api-key",
            "k2",
            "--no-tui",
        ])
        .unwrap();
        let Some(Command::Listen(l)) = cli.command else {
            panic!("not listen")
        };
        assert!(l.addr.ip().is_loopback());
        assert_eq!(l.addr.port(), 8788);
        assert_eq!(l.api_keys, ["k1", "k2"]);
        assert_eq!(l.min_id_length, 5);
        assert!(l.no_tui);
    }

    #[test]
    fn follow_is_repeatable() {
        let cli =
            Cli::try_parse_from(["streamscope", "--follow", "a.log", "--follow", "b.log"]).unwrap();
        assert_eq!(cli.tui.follow.len(), 2);
    }

    #[test]
    fn defaults_are_those_of_the_shells() {
        let cli = Cli::try_parse_from(["streamscope", "report"]).unwrap();
        let Some(Command::Report(r)) = cli.command else {
            panic!("not a report")
        };
        let rules = r.analysis.rules();
        let defaults = Rules::default();
        assert_eq!(
            (rules.timeout_ms, rules.gap_ms),
            (defaults.timeout_ms, defaults.gap_ms)
        );
        assert_eq!(r.users, crate::report::Output::default().users);
        assert_eq!(r.format, Format::default());
        let Some(Command::Listen(l)) = Cli::try_parse_from(["streamscope", "listen"])
            .unwrap()
            .command
        else {
            panic!("not listen")
        };
        assert_eq!(
            l.min_id_length,
            crate::listen::request::Settings::default().min_id_length
        );
    }

    #[test]
    fn zones_are_checked_by_every_subcommand() {
        for args in [
            &["streamscope", "--tz", "Mars/Olympus"][..],
            &["streamscope", "listen", "--no-tui", "--tz", "Mars/Olympus"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains("is not a time zone name"), "{err}");
        }
        let cli = Cli::try_parse_from(["streamscope", "--tz", "Europe/Paris"]).unwrap();
        assert_eq!(cli.tui.tz.map(Zone::label).as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn bad_durations_are_usage_errors() {
        for bad in ["soon", "1ns", "999us"] {
            let err = Cli::try_parse_from(["streamscope", "report", "--timeout", bad]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
        let err = Cli::try_parse_from(["streamscope", "report", "--timeout", "1ns"]).unwrap_err();
        assert!(err.to_string().contains("shorter than 1 ms"), "{err}");
    }

    #[test]
    fn host_names_are_resolved_for_addr() {
        let cli =
            Cli::try_parse_from(["streamscope", "listen", "--addr", "localhost:8788"]).unwrap();
        let Some(Command::Listen(l)) = cli.command else {
            panic!("not listen");
        };
        assert!(l.addr.ip().is_loopback(), "{}", l.addr);
        assert_eq!(l.addr.port(), 8788);
    }
}
