//! `streamscope report`: loads the sources, computes the analysis once and writes it as
//! text or JSON to any [`Write`]. Nothing here prints directly, so tests capture output.
//!
//! Exit status: 0 when the input was analysed (anomalies are findings, not errors);
//! 1 when a source could not be read at all (the others are still analysed and
//! reported); usage errors (2) are clap's.

mod json;
mod text;

use std::io::Write;

use crate::analysis::{Analysis, IdField, Rules};
use crate::index::{IxRange, UserIx};
use crate::source::{LoadOptions, load_all};
use crate::store::EventStore;

/// How many users get a session table in the text report unless told otherwise.
pub const DEFAULT_USERS: usize = 20;

/// Output formats of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A readable report to paste into a ticket.
    #[default]
    Text,
    /// The JSON document described in README.md.
    Json,
}

impl Format {
    /// Every format, in the order help lists them.
    pub const ALL: [Format; 2] = [Format::Text, Format::Json];

    /// The name users type (`--format json`, `?format=text`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
        }
    }

    /// What the format is for, in a few words (for help texts).
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Format::Text => "A readable report to paste into a ticket",
            Format::Json => "The JSON document described in README.md",
        }
    }

    /// The format named `name`, if there is one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What the report writes and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Text or JSON.
    pub format: Format,
    /// Text format: how many users get a session table (most anomalies first).
    pub users: usize,
}

impl Default for Output {
    fn default() -> Self {
        Self {
            format: Format::default(),
            users: DEFAULT_USERS,
        }
    }
}

/// Everything `streamscope report` needs, whatever asked for it.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Sources as named on the command line (paths, `-`, URLs); none means the demo.
    pub sources: Vec<String>,
    /// The analysis settings.
    pub rules: Rules,
    /// Only this user: a user id, device id or amplitude id.
    pub user: Option<String>,
    /// Format and size of the output.
    pub output: Output,
    /// The record-size limit, in bytes (`--max-record-size`).
    pub max_record: usize,
}

/// CPU time the process has used so far (user and system, all threads), where the
/// platform tells it: on a busy machine it varies less between runs than wall time.
fn process_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    cpu_of_stat(&stat)
}

/// `utime + stime` of a `/proc/PID/stat` line, in seconds. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted from its closing one; the
/// times are in the kernel's `USER_HZ` ticks, 100 a second on every Linux ABI.
fn cpu_of_stat(stat: &str) -> Option<f64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    #[allow(clippy::cast_precision_loss)]
    Some((user + system) as f64 / 100.0)
}

/// Runs `report`: output to `out`, problems with sources to `err`. Returns the exit status.
pub fn run(opts: &Options, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
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
            let cpu = process_cpu().map_or_else(String::new, |c| format!("cpu {c:.2} s "));
            let _ = writeln!(
                err,
                "timing: {name} done at {:.3} s {cpu}{peak}",
                start.elapsed().as_secs_f64()
            );
        }
    };
    // Larger NDJSON chunks than the default (see `ONCE_CHUNK`). Four chunks read ahead per
    // thread: see `LoadOptions::read_ahead`.
    let load = LoadOptions {
        chunk_size: crate::source::load::ONCE_CHUNK,
        read_ahead: 4,
        max_record: opts.max_record,
        ..LoadOptions::default()
    };
    let mut store = load_all(&opts.sources, &load);
    phase("load", err);
    for source in &store.sources {
        for problem in &source.problems {
            writeln!(err, "streamscope: {}", crate::fmt::sanitize(problem))?;
        }
        for note in &source.notes {
            writeln!(err, "streamscope: note: {}", crate::fmt::sanitize(note))?;
        }
    }
    let analysis = Analysis::compute(&store, &opts.rules);
    phase("analysis", err);
    if opts.output.format == Format::Text
        && !store.sources.is_empty()
        && store.sources.iter().all(|s| s.failed)
    {
        // Nothing could be read: the errors above are the whole answer, not a text report
        // of zeros. (JSON still describes the sources and why each failed, for scripts.)
        return Ok(1);
    }
    let query = match &opts.user {
        Some(text) => match UserQuery::find(&analysis, &store, text) {
            Some(q) => Some(q),
            None => {
                writeln!(
                    err,
                    "streamscope: no user id, device id or Amplitude id '{}' in the input",
                    crate::fmt::sanitize(text)
                )?;
                return Ok(1);
            }
        },
        None => None,
    };
    let users = query
        .as_ref()
        .map_or_else(|| analysis.user_ixs().collect(), UserQuery::users);
    for problem in locate_end_props(&opts.sources, &load, &mut store, &analysis, &users) {
        writeln!(err, "streamscope: {}", crate::fmt::sanitize(&problem))?;
    }
    phase("read back", err);
    write(&store, &analysis, &opts.output, query.as_ref(), out)?;
    phase("output", err);
    Ok(u8::from(store.any_failed()))
}

/// Locates the raw text of the events behind the `end_props_changed` flags of `users`'
/// sessions (the last active event and the end marker of each) that the store cannot
/// find (see [`crate::source::raw::end_props_diffs`]), so that the report can say which
/// user properties changed: the report loads without a raw location per event, so for
/// those the sources are read a second time ([`crate::source::locate_again`]); usually
/// there are none. Returns the problems met.
fn locate_end_props(
    sources: &[String],
    load: &LoadOptions,
    store: &mut EventStore,
    analysis: &Analysis,
    users: &[UserIx],
) -> Vec<String> {
    if store.keeps_raw() {
        return Vec::new();
    }
    let sessions = users
        .iter()
        .flat_map(|&u| analysis.users[u].sessions.iter_ix());
    let pairs: Vec<_> = crate::analysis::end_props_pairs(analysis, store, sessions)
        .map(|(_, p)| p)
        .collect();
    // Most are found through an example event carrying the same properties; only the
    // rest (past the store's cap) need the sources read again.
    let wanted = crate::source::raw::unlocated(store, pairs);
    if wanted.is_empty() {
        return Vec::new();
    }
    let (found, problems) = crate::source::locate_again(sources, load, store, &wanted);
    for (i, loc) in found {
        store.add_raw(i, loc);
    }
    problems
}

/// The users a `--user` text (or the query API's `user=`) names: a user id, device id or
/// Amplitude id, whatever kind of key each user has. A device shared by several users
/// names all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserQuery {
    /// The text asked for.
    pub text: String,
    /// The users it names, in user order, each with the id that matched.
    pub matches: Vec<(UserIx, IdField)>,
}

impl UserQuery {
    /// The users `text` names; `None` when it names nobody.
    #[must_use]
    pub fn find(analysis: &Analysis, store: &EventStore, text: &str) -> Option<UserQuery> {
        let matches = analysis.find_users(store, text);
        (!matches.is_empty()).then(|| UserQuery {
            text: text.to_string(),
            matches,
        })
    }

    /// The users, in user order.
    #[must_use]
    pub fn users(&self) -> Vec<UserIx> {
        self.matches.iter().map(|&(u, _)| u).collect()
    }

    /// One sentence when the text names several users (`'d-7' is a device id shared by
    /// 2 users`), else `None`. Escaped for the terminal.
    #[must_use]
    pub fn shared_note(&self) -> Option<String> {
        let [(_, first), rest @ ..] = self.matches.as_slice() else {
            return None;
        };
        if rest.is_empty() {
            return None;
        }
        let field = if rest.iter().all(|(_, f)| f == first) {
            format!("a {}", first.name())
        } else {
            "an id".to_string()
        };
        Some(format!(
            "'{}' is {field} shared by {} users; all of them are reported",
            crate::fmt::sanitize(&self.text),
            self.matches.len()
        ))
    }
}

/// Writes the report of an analysis as `output` asks: the whole input, or the users
/// `query` names.
pub fn write(
    store: &EventStore,
    analysis: &Analysis,
    output: &Output,
    query: Option<&UserQuery>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match output.format {
        Format::Json => json::write(store, analysis, query, out),
        Format::Text => text::write(store, analysis, query, output.users, out),
    }
}

#[cfg(test)]
mod tests {
    use super::cpu_of_stat;

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let cases = [
            // A command name with spaces and parentheses must not shift the fields.
            (
                "1234 (a) b (c) R 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 3 0",
                Some(3.25),
            ),
            (
                "7 (streamscope) S 1 7 7 0 -1 4194560 900 0 0 0 12 3 0 0",
                Some(0.15),
            ),
            ("7 (streamscope) S 1 7 7", None),
            ("no parenthesis", None),
        ];
        for (line, want) in cases {
            assert_eq!(cpu_of_stat(line), want, "{line}");
        }
    }
}
