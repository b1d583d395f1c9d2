//! The text report: what a support engineer pastes into a ticket. Totals, each finding
//! explained in one plain sentence with its likely cause, the replay comparison, the
//! sweep and gap histogram, rejected records, then a session table per user (most
//! anomalies first). Event text is escaped: nothing from the input reaches a terminal raw.

use std::io::{self, Write};

use crate::analysis::{Analysis, Flag, GAP_BUCKETS, GapHistogram};
use crate::fmt::{count, duration, gap_bucket_label, is_plausible_time, sanitize, setting, time};
use crate::index::UserIx;
use crate::report::UserQuery;
use crate::store::EventStore;

/// How many rejected records and warnings are listed.
const LISTED: usize = 20;

/// Writes the text report; `query` limits the user tables to the users it names,
/// `max_users` caps them.
pub fn write(
    store: &EventStore,
    a: &Analysis,
    query: Option<&UserQuery>,
    max_users: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = &a.summary;
    let c = &s.counts;
    let names: Vec<String> = store
        .sources
        .iter()
        .map(|s| sanitize(&s.name).into_owned())
        .collect();
    writeln!(out, "streamscope report: {}", names.join(", "))?;
    writeln!(
        out,
        "settings: replay timeout {}, gap threshold {}{}",
        setting(a.rules.timeout_ms),
        setting(a.rules.gap_ms),
        if a.rules.inactive.is_empty() {
            String::new()
        } else {
            format!(
                ", also inactive: {}",
                sanitize(&a.rules.inactive.join(", "))
            )
        }
    )?;
    for src in &store.sources {
        for p in &src.problems {
            writeln!(out, "problem: {}", sanitize(p))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "TOTALS")?;
    let rows: [(&str, u64); 5] = [
        ("events", s.events),
        ("rejected records", s.rejected),
        ("users", s.users),
        ("sessions", s.sessions),
        ("replayed sessions", s.replayed_sessions),
    ];
    for (label, n) in rows {
        writeln!(out, "  {label:<20} {:>12}", count(n))?;
    }
    writeln!(out)?;
    writeln!(out, "FINDINGS")?;
    let mut clean = Vec::new();
    for flag in Flag::ALL {
        let n = c[flag];
        if n == 0 {
            clean.push(flag.label());
            continue;
        }
        let unit = flag.unit().noun();
        writeln!(out, "  {:<13} {:>9} {unit}", flag.label(), count(n))?;
        writeln!(out, "      {}: {}.", capitalise(unit), flag.meaning())?;
        writeln!(out, "      Likely cause: {}.", flag.cause())?;
    }
    if s.session_id_warnings > 0 {
        writeln!(
            out,
            "  {:<13} {:>9} events had a session_id that is neither an integer nor a numeric string; they count as out of session.",
            "BAD SESSION ID",
            count(s.session_id_warnings)
        )?;
    }
    if !clean.is_empty() {
        writeln!(out, "  none of: {}", clean.join(", "))?;
    }
    writeln!(out)?;
    replay_section(a, out)?;
    rejected_section(store, out)?;
    users_section(store, a, query, max_users, out)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn replay_section(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    let r = &a.replay;
    writeln!(
        out,
        "REPLAY AT {} (active events only)",
        setting(r.timeout_ms)
    )?;
    writeln!(
        out,
        "  recorded {} sessions (median length {}) -> replayed {} (median {})",
        count(a.summary.sessions),
        duration(a.replay_input.recorded_median_ms),
        count(r.sessions),
        duration(r.median_length_ms)
    )?;
    writeln!(
        out,
        "  {} recorded sessions would be split, {} merged with another, {} dropped (no active event)",
        count(r.split.len() as u64),
        count(r.merged.len() as u64),
        count(a.replay_input.dropped)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  timeout   sessions   median length     split    merged"
    )?;
    for row in a.sweep() {
        let mark = if row.timeout_ms == a.rules.timeout_ms {
            "*"
        } else {
            " "
        };
        writeln!(
            out,
            " {mark}{:<8} {:>9}   {:>13} {:>9} {:>9}",
            setting(row.timeout_ms),
            count(row.sessions),
            duration(row.median_length_ms),
            count(row.split),
            count(row.merged)
        )?;
    }
    writeln!(out)?;
    writeln!(out, "GAPS BETWEEN CONSECUTIVE ACTIVE EVENTS (in session)")?;
    let counts = &a.gap_histogram.counts;
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
        writeln!(out, "  {label:>10} {:>9} {bar}{mark}", count(n))?;
    }
    writeln!(out)
}

fn rejected_section(store: &EventStore, out: &mut dyn Write) -> io::Result<()> {
    if store.rejected() > 0 {
        writeln!(out, "REJECTED RECORDS ({})", count(store.rejected()))?;
        for r in store.rejects.iter().take(LISTED) {
            writeln!(
                out,
                "  {}: {}",
                sanitize(&store.describe(&r.loc)),
                sanitize(&r.reason.to_string())
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
            writeln!(
                out,
                "  {}: session_id {} counts as out of session",
                sanitize(&store.describe(&w.loc)),
                sanitize(&w.value)
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
            "USERS ({}; {} shown, most anomalies first)",
            count(users.len() as u64),
            count(shown as u64)
        )?;
    }
    let events = store.events();
    for &u in &users[..shown] {
        let user = &a.users[u];
        let counts = &a.user_counts[u];
        writeln!(
            out,
            "{} {}: {} events, {} sessions, {} out of session, {} -> {}",
            user.key.kind.name(),
            sanitize(store.strings.get(user.key.id)),
            count(u64::from(user.event_count())),
            count(user.session_count()),
            count(counts[Flag::NoSession]),
            time(user.first),
            time(user.last)
        )?;
        writeln!(
            out,
            "  {:<24} {:>6} {:>6} {:>9} {:>9}  flags",
            "session start (UTC)", "events", "active", "length", "span"
        )?;
        for s in a.user_sessions(u) {
            let flags: Vec<String> = s
                .flag_list()
                .iter()
                .map(|f| match f {
                    Flag::Gap => format!("GAP {}", duration(s.max_gap_ms)),
                    Flag::Duplicate => format!("DUP x{}", s.duplicates),
                    f => f.label().to_string(),
                })
                .collect();
            writeln!(
                out,
                "  {:<24} {:>6} {:>6} {:>9} {:>9}  {}",
                session_start(s.id),
                s.events,
                s.active,
                duration(s.length_ms()),
                duration(s.span_ms()),
                flags.join(", ")
            )?;
        }
        let out_events: Vec<String> = a
            .out_of_session_positions(u)
            .take(5)
            .map(|p| {
                let e = &events[a.order[p]];
                format!(
                    "{} {}",
                    time(e.time),
                    sanitize(store.strings.get(e.event_type))
                )
            })
            .collect();
        if !out_events.is_empty() {
            writeln!(out, "  NO SESSION: {}", out_events.join("; "))?;
            if counts[Flag::NoSession] > 5 {
                writeln!(
                    out,
                    "  ... and {} more out-of-session events",
                    counts[Flag::NoSession] - 5
                )?;
            }
        }
        writeln!(out)?;
    }
    if shown < users.len() {
        writeln!(
            out,
            "{} more users not shown: use --users N, --user KEY or --format json",
            count((users.len() - shown) as u64)
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
