//! Command-line interface (clap derive). A bare `streamscope [SOURCE…]` opens the TUI;
//! `report` prints the same analysis headlessly. Both take the same sources and settings
//! through the flattened [`SourceArgs`] and [`AnalysisArgs`].

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::Rules;

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
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the session analysis as text or JSON (for tickets, scripts and CI).
    Report(ReportArgs),
}

/// Input sources.
#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// Files to read (NDJSON, JSON array, request bodies, User Activity responses, Export
    /// .zip, .gz of any of these), or - for standard input. Several are one combined
    /// stream. Without any, the bundled demo stream is used.
    #[arg(value_name = "SOURCE", value_hint = clap::ValueHint::FilePath)]
    pub sources: Vec<String>,
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

/// Options of the interactive inspector.
#[derive(Debug, Args, Clone)]
pub struct TuiArgs {
    /// Sources.
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Analysis settings.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// A time zone for displayed times, like Europe/Paris (z cycles UTC / local / this).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A readable report to paste into a ticket.
    #[default]
    Text,
    /// The JSON document described in README.md.
    Json,
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
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub users: usize,
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
    fn bad_durations_are_usage_errors() {
        let err = Cli::try_parse_from(["streamscope", "report", "--timeout", "soon"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
