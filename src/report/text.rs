//! The text report: what a support engineer pastes into a ticket. The data's date range,
//! totals, each finding explained in plain sentences with its likely cause, the replay
//! comparison, the sweep and gap histogram, rejected records, then a session table per
//! user (most severe first, by the triage ranking of [`crate::analysis`]).
//!
//! With `--user X` every section is about the users X names (one line says what the whole
//! input held), so the report pasted into a ticket about X shows X's anomalies only.
//!
//! Layout rules: lines stay within [`WIDTH`] columns (sentences are wrapped, lists are
//! cut with a count), counts use one format ([`count`]: `1,234`) with the right singular
//! or plural, and event text is escaped ([`sanitize`]): nothing from the input reaches a
//! terminal raw.

use std::io::{self, Write};

use rustc_hash::FxHashMap;

use crate::analysis::{Analysis, Flag, GAP_BUCKETS, GapHistogram, ScopeFigures, Session};
use crate::fmt::{count, duration, gap_bucket_label, is_plausible_time, sanitize, setting, time};
use crate::index::{IxRange, SessionIx, UserIx};
use crate::report::UserQuery;
use crate::source::raw::{EndPropsDiff, end_props_diffs};
use crate::store::EventStore;

/// How many rejected records and warnings are listed.
const LISTED: usize = 20;

/// The widest line the report writes (event text aside, which is cut to fit).
pub const WIDTH: usize = 100;

/// `n` with its noun, singular or plural: `1 session`, `2 sessions`.
fn n_of(n: u64, singular: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{} {}", count(n), plural(singular))
    }
}

fn plural(singular: &str) -> String {
    match singular {
        "pair" | "session" | "event" | "user" | "record" | "device" => format!("{singular}s"),
        other => format!("{other}s"),
    }
}

/// Writes `text` wrapped at [`WIDTH`], every line starting with `indent`.
fn wrapped(out: &mut dyn Write, indent: &str, text: &str) -> io::Result<()> {
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        let room = line.chars().count() + 1 + word.chars().count();
        if line.len() > indent.len() && room > WIDTH {
            writeln!(out, "{line}")?;
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `text` cut to `width` characters, with `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Writes the text report; `query` makes it about the users it names, `max_users` caps
/// the user tables of a whole-input report.
pub fn write(
    store: &EventStore,
    a: &Analysis,
    query: Option<&UserQuery>,
    max_users: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let scope_users: Vec<UserIx> = match query {
        Some(q) => q.users(),
        None => a.user_ixs().collect(),
    };
    let f = a.scope_figures(&scope_users);
    header(store, a, query, &f, out)?;
    totals(store, query.is_some(), &f, out)?;
    findings(store, a, query.is_some(), &f, out)?;
    replay_section(a, &f, out)?;
    if query.is_none() {
        rejected_section(store, out)?;
    }
    users_section(store, a, query, max_users, out)
}

fn header(
    store: &EventStore,
    a: &Analysis,
    query: Option<&UserQuery>,
    f: &ScopeFigures,
    out: &mut dyn Write,
) -> io::Result<()> {
    let names: Vec<String> = store
        .sources
        .iter()
        .map(|s| sanitize(&s.name).into_owned())
        .collect();
    wrapped(
        out,
        "",
        &format!("streamscope report: {}", names.join(", ")),
    )?;
    if let Some((first, last)) = f.span {
        writeln!(
            out,
            "data: {} -> {} UTC ({})",
            time(first),
            time(last),
            duration(last.saturating_sub(first))
        )?;
    }
    let inactive = if a.rules.inactive.is_empty() {
        String::new()
    } else {
        format!(
            ", also inactive: {}",
            sanitize(&a.rules.inactive.join(", "))
        )
    };
    wrapped(
        out,
        "",
        &format!(
            "settings: replay timeout {}, gap threshold {}{inactive}",
            setting(a.rules.timeout_ms),
            setting(a.rules.gap_ms),
        ),
    )?;
    for src in &store.sources {
        for p in &src.problems {
            wrapped(out, "", &format!("problem: {}", sanitize(p)))?;
        }
        for n in &src.notes {
            wrapped(out, "", &format!("note: {}", sanitize(n)))?;
        }
    }
    if let Some(q) = query {
        let labels: Vec<String> = q
            .users()
            .iter()
            .map(|&u| a.identity_ref(u).label(store))
            .collect();
        wrapped(out, "", &format!("user: {}", labels.join("; ")))?;
        if let Some(note) = q.shared_note() {
            wrapped(out, "", &format!("note: {note}"))?;
        }
        let s = &a.summary;
        wrapped(
            out,
            "",
            &format!(
                "every figure below is about {}; the whole input held {}, {}, {} and {}",
                if q.matches.len() == 1 {
                    "this user"
                } else {
                    "these users"
                },
                n_of(s.events, "event"),
                n_of(s.users, "user"),
                n_of(s.sessions, "session"),
                n_of(s.rejected, "rejected record"),
            ),
        )?;
    }
    writeln!(out)
}

fn totals(
    store: &EventStore,
    scoped: bool,
    f: &ScopeFigures,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "TOTALS")?;
    let mut rows: Vec<(&str, u64)> = vec![("events", f.events)];
    if !scoped {
        rows.push(("rejected records", store.rejected()));
        rows.push(("users", f.users));
    }
    rows.push(("sessions", f.sessions));
    rows.push(("replayed sessions", f.replayed_sessions));
    for (label, n) in rows {
        writeln!(out, "  {label:<20} {:>12}", count(n))?;
    }
    writeln!(out)
}

fn findings(
    store: &EventStore,
    a: &Analysis,
    scoped: bool,
    f: &ScopeFigures,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "FINDINGS")?;
    let carriers = a.users_per_flag();
    let mut clean = Vec::new();
    for flag in Flag::ALL {
        let n = f.counts[flag];
        if n == 0 {
            clean.push(flag.label());
            continue;
        }
        let unit = flag.unit().noun().trim_end_matches('s');
        let noun = if n == 1 {
            unit.to_string()
        } else {
            plural(unit)
        };
        let users = if scoped {
            String::new()
        } else {
            format!(" ({})", n_of(carriers[flag as usize], "user"))
        };
        let line = format!("  {:<13} {:>9} {:<8}{users}", flag.label(), count(n), noun);
        writeln!(out, "{}", line.trim_end())?;
        wrapped(
            out,
            "      ",
            &format!("{}: {}.", capitalise(flag.unit().noun()), flag.meaning()),
        )?;
        wrapped(out, "      ", &format!("Likely cause: {}.", flag.cause()))?;
        if let Some(fix) = flag.fix() {
            wrapped(out, "      ", &format!("Fix: {fix}."))?;
        }
        if flag == Flag::EndPropsChanged {
            for line in SKIP_SYNC_PLUGINS.lines() {
                writeln!(out, "        {line}")?;
            }
        }
    }
    let warnings = store.warning_count;
    if !scoped && warnings > 0 {
        wrapped(
            out,
            "  ",
            &format!(
                "BAD SESSION ID: {} had a session_id that is neither an integer nor a numeric \
                 string; {} as out of session.",
                n_of(warnings, "event"),
                if warnings == 1 {
                    "it counts"
                } else {
                    "they count"
                }
            ),
        )?;
    }
    if !clean.is_empty() {
        wrapped(out, "  ", &format!("none of: {}", clean.join(", ")))?;
    }
    writeln!(out)
}

/// The fix for `end_props_changed`, per SDK: the enrichment plugin of Amplitude's sessions
/// FAQ where the SDK can send `$skip_user_properties_sync`, dropping the end event where
/// it cannot (the Kotlin and Swift SDKs serialise only the event fields they define).
const SKIP_SYNC_PLUGINS: &str = r#"Browser / Node (@amplitude/analytics-browser, @amplitude/analytics-node):
  amplitude.add({
    name: 'skip-user-properties-sync-on-session-end',
    type: 'enrichment',
    execute: async (event) => {
      if (event.event_type === 'session_end') {
        event['$skip_user_properties_sync'] = true;
      }
      return event;
    },
  });
Kotlin (Android):
  amplitude.add(object : EnrichmentPlugin {
    override lateinit var amplitude: Amplitude
    override fun execute(event: BaseEvent): BaseEvent? =
      if (event.eventType == "session_end") null else event
  })
Swift (iOS):
  class DropSessionEnd: EnrichmentPlugin {
    override func execute(event: BaseEvent) -> BaseEvent? {
      event.eventType == "session_end" ? nil : event
    }
  }
  amplitude.add(plugin: DropSessionEnd())"#;

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn replay_section(a: &Analysis, f: &ScopeFigures, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "REPLAY AT {} (active events only)",
        setting(a.rules.timeout_ms)
    )?;
    writeln!(
        out,
        "  recorded {} (median length {}) -> replayed {} (median {})",
        n_of(f.sessions, "session"),
        duration(f.recorded_median_ms),
        count(f.replayed_sessions),
        duration(f.replayed_median_ms)
    )?;
    wrapped(
        out,
        "  ",
        &format!(
            "{} would be split, {} merged with another, {} dropped (no active event)",
            n_of(f.split, "recorded session"),
            count(f.merged),
            count(f.dropped)
        ),
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  timeout   sessions   median length     split    merged"
    )?;
    // The whole input's sweep has split and merged counts per timeout; a scope's has them
    // at the current timeout only.
    let whole = f.users == a.users.len() as u64;
    let full = if whole { a.sweep() } else { Vec::new() };
    for row in &f.sweep {
        let mark = if row.timeout_ms == a.rules.timeout_ms {
            "*"
        } else {
            " "
        };
        let (split, merged) = match full.iter().find(|r| r.timeout_ms == row.timeout_ms) {
            Some(r) => (count(r.split), count(r.merged)),
            None if row.timeout_ms == a.rules.timeout_ms => (count(f.split), count(f.merged)),
            None => ("-".to_string(), "-".to_string()),
        };
        writeln!(
            out,
            " {mark}{:<8} {:>9}   {:>13} {split:>9} {merged:>9}",
            setting(row.timeout_ms),
            count(row.sessions),
            duration(row.median_length_ms),
        )?;
    }
    writeln!(out)?;
    writeln!(out, "GAPS BETWEEN CONSECUTIVE ACTIVE EVENTS (in session)")?;
    let counts = &f.gap_histogram.counts;
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let timeout_bucket = GapHistogram::bucket(a.rules.timeout_ms);
    for i in 0..GAP_BUCKETS.len() {
        let n = counts.get(i).copied().unwrap_or(0);
        let label = gap_bucket_label(i);
        let bar = "#".repeat(usize::try_from(n * 40 / max).unwrap_or(40));
        let mark = if i == timeout_bucket {
            "  <- timeout"
        } else {
            ""
        };
        let line = format!("  {label:>10} {:>9} {bar}{mark}", count(n));
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)
}

fn rejected_section(store: &EventStore, out: &mut dyn Write) -> io::Result<()> {
    if store.rejected() > 0 {
        writeln!(out, "REJECTED RECORDS ({})", count(store.rejected()))?;
        for r in store.rejects.iter().take(LISTED) {
            wrapped(
                out,
                "  ",
                &format!(
                    "{}: {}",
                    sanitize(&store.describe(&r.loc)),
                    sanitize(&r.reason.to_string())
                ),
            )?;
        }
        if store.rejected() > LISTED as u64 {
            writeln!(
                out,
                "  ... and {} more (see --format json)",
                count(store.rejected() - LISTED as u64)
            )?;
        }
        writeln!(out)?;
    }
    if store.warning_count > 0 {
        writeln!(out, "UNUSABLE SESSION IDS ({})", count(store.warning_count))?;
        for w in store.warnings.iter().take(LISTED) {
            wrapped(
                out,
                "  ",
                &format!(
                    "{}: session_id {} counts as out of session",
                    sanitize(&store.describe(&w.loc)),
                    sanitize(&w.value)
                ),
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn users_section(
    store: &EventStore,
    a: &Analysis,
    query: Option<&UserQuery>,
    max_users: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let users: Vec<UserIx> = match query {
        Some(q) => q.users(),
        None => a.triage_order(),
    };
    let shown = if query.is_some() {
        users.len()
    } else {
        max_users.min(users.len())
    };
    if query.is_none() {
        writeln!(
            out,
            "USERS ({}; {} shown, most severe first)",
            count(users.len() as u64),
            count(shown as u64)
        )?;
    }
    let (split, merged) = a.replay.session_marks(a.sessions.len());
    let marks = Marks {
        split: &split,
        merged: &merged,
        timeout: setting(a.rules.timeout_ms),
    };
    // What changed behind the shown sessions' END PROPS flags (read back from the sources).
    let diffs: FxHashMap<SessionIx, EndPropsDiff> = end_props_diffs(
        store,
        a,
        users[..shown]
            .iter()
            .flat_map(|&u| a.users[u].sessions.iter_ix()),
    )
    .into_iter()
    .collect();
    for &u in &users[..shown] {
        user_table(store, a, u, &marks, &diffs, out)?;
    }
    if shown < users.len() {
        left_out(a, &users[shown..], out)?;
    }
    Ok(())
}

/// Which recorded sessions the replay at T splits or merges, for the tables' flags.
struct Marks<'a> {
    split: &'a [bool],
    merged: &'a [bool],
    timeout: String,
}

fn user_table(
    store: &EventStore,
    a: &Analysis,
    u: UserIx,
    marks: &Marks<'_>,
    diffs: &FxHashMap<SessionIx, EndPropsDiff>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let user = &a.users[u];
    let counts = &a.user_counts[u];
    let events = store.events();
    wrapped(out, "", &a.identity_ref(u).label(store))?;
    writeln!(
        out,
        "  {} · {} · {} out of session · {} -> {}",
        n_of(u64::from(user.event_count()), "event"),
        n_of(user.session_count(), "session"),
        count(counts[Flag::NoSession]),
        time(user.first),
        time(user.last)
    )?;
    let range = user.sessions.clone();
    let mut sessions: Vec<SessionIx> = (range.start.raw()..range.end.raw())
        .map(SessionIx::new)
        .collect();
    // Listed by first event, as the inspector lists them.
    sessions.sort_by_key(|&s| (a.sessions[s].first, a.sessions[s].id));
    // A foreground column (span less the time in the background) for users whose app
    // sends lifecycle events and spent time in the background within a session.
    let foreground = sessions.iter().any(|&s| a.sessions[s].background_ms > 0);
    if !sessions.is_empty() {
        let fg = if foreground {
            format!(" {:>10}", "foreground")
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:<24} {:>6} {:>6} {:>9} {:>9}{fg}  flags",
            "session start (UTC)", "events", "active", "length", "span"
        )?;
    }
    for s in sessions {
        let session = &a.sessions[s];
        let fg = if foreground {
            format!(" {:>10}", duration(session.foreground_ms()))
        } else {
            String::new()
        };
        let line = format!(
            "  {:<24} {:>6} {:>6} {:>9} {:>9}{fg}  {}",
            session_start(session.id),
            count(u64::from(session.events)),
            count(u64::from(session.active)),
            duration(session.length_ms()),
            duration(session.span_ms()),
            session_flags(session, s, marks)
        );
        writeln!(out, "{}", cut(line.trim_end(), WIDTH))?;
        if let Some(d) = diffs.get(&s) {
            end_props_lines(store, d, out)?;
        }
    }
    let out_events: Vec<String> = a
        .out_of_session_positions(u)
        .take(5)
        .map(|p| {
            let e = &events[a.order[p]];
            format!(
                "{} {}",
                time(e.time),
                cut(&sanitize(store.strings.get(e.event_type)), 40)
            )
        })
        .collect();
    if !out_events.is_empty() {
        writeln!(out, "  NO SESSION:")?;
        for e in &out_events {
            writeln!(out, "    {e}")?;
        }
        if counts[Flag::NoSession] > 5 {
            writeln!(
                out,
                "    ... and {} more out of session",
                n_of(counts[Flag::NoSession] - 5, "event")
            )?;
        }
    }
    writeln!(out)
}

/// Under an END PROPS session: which user properties the end marker changed, from what
/// event to what marker.
fn end_props_lines(store: &EventStore, d: &EndPropsDiff, out: &mut dyn Write) -> io::Result<()> {
    let events = store.events();
    let (old, new) = (&events[d.pair.last_active], &events[d.pair.end_marker]);
    let name = |e: &crate::event::EventRec| cut(&sanitize(store.strings.get(e.event_type)), 30);
    wrapped(
        out,
        "      ",
        &format!(
            "end props: {} at {} -> {} at {}:",
            name(old),
            time(old.time),
            name(new),
            time(new.time)
        ),
    )?;
    match &d.changes {
        Ok(changes) => {
            for c in changes.iter().take(10) {
                let side = |v: &Option<String>| {
                    v.as_deref()
                        .map_or_else(|| "(absent)".to_string(), |t| cut(&sanitize(t), 30))
                };
                let line = format!(
                    "        {}: {} -> {}",
                    cut(&sanitize(&c.property), 30),
                    side(&c.old),
                    side(&c.new)
                );
                writeln!(out, "{}", cut(&line, WIDTH))?;
            }
            if changes.len() > 10 {
                writeln!(out, "        ... and {} more", changes.len() - 10)?;
            }
        }
        Err(why) => wrapped(out, "        ", &format!("(not shown: {why})"))?,
    }
    Ok(())
}

fn session_flags(s: &Session, ix: SessionIx, marks: &Marks<'_>) -> String {
    let mut flags: Vec<String> = s
        .flag_list()
        .iter()
        .map(|f| match f {
            Flag::Gap => format!("GAP {}", duration(s.max_gap_ms)),
            Flag::Duplicate => format!("DUP x{}", s.duplicates),
            Flag::Background => format!("BACKGROUND x{}", s.background),
            f => f.label().to_string(),
        })
        .collect();
    if marks.split[ix] {
        flags.push(format!("SPLIT at {}", marks.timeout));
    }
    if marks.merged[ix] {
        flags.push(format!("MERGED at {}", marks.timeout));
    }
    flags.join(", ")
}

/// The users a capped list leaves out: how many, how to see them, and the flags they
/// carry, so that no user with a rare flag is left out silently.
fn left_out(a: &Analysis, rest: &[UserIx], out: &mut dyn Write) -> io::Result<()> {
    wrapped(
        out,
        "",
        &format!(
            "{} not shown: use --users N, --user KEY or --format json",
            n_of(rest.len() as u64, "more user")
        ),
    )?;
    let mut carrying = [0u64; Flag::COUNT];
    for &u in rest {
        for (f, n) in a.user_counts[u].iter() {
            carrying[f as usize] += u64::from(n > 0);
        }
    }
    let parts: Vec<String> = Flag::ALL
        .iter()
        .filter(|&&f| carrying[f as usize] > 0)
        .map(|&f| format!("{} {}", count(carrying[f as usize]), f.label()))
        .collect();
    if !parts.is_empty() {
        wrapped(
            out,
            "  ",
            &format!("users not shown, by flag: {}", parts.join(", ")),
        )?;
    }
    Ok(())
}

/// A session id as a start time when it plausibly is one, else the raw id.
fn session_start(id: i64) -> String {
    if is_plausible_time(id) {
        time(id)
    } else {
        format!("id {id}")
    }
}
