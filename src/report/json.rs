//! The JSON report: the §5 `summary` keys exactly, plus detail. The structs here are the
//! output schema (`"schema": "streamscope.report/1"`, documented in README.md); they are
//! separate from the internal model so that the model can change without breaking
//! consumers. The users array, most of a large report, is written by hand ([`user`]) in
//! parallel chunks, and in order.

use std::io::Write;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::analysis::{Analysis, GAP_BUCKETS, InDisplayOrder, SweepRow, sweep_timeouts};
use crate::decode::RejectCounts;
use crate::index::{IxRange, SessionIx, UserIx};
use crate::report::UserQuery;
use crate::source::raw::{EndPropsDiff, end_props_diffs};
use crate::store::EventStore;

mod user;

/// How many rejected records and warnings the report lists (all are counted).
pub const LISTED: usize = 100;

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    settings: Settings<'a>,
    summary: Summary<'a>,
    sources: Vec<Source<'a>>,
    rejected_by_reason: &'a RejectCounts,
    rejected_records: Vec<Rejected>,
    session_id_warnings: Vec<SessionIdWarning>,
    replay: ReplaySummary,
    sweep: Vec<Sweep>,
    gap_histogram: Histogram,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_query: Option<QueryOut<'a>>,
}

/// What `--user` asked for and whom it found.
#[derive(Serialize)]
struct QueryOut<'a> {
    text: &'a str,
    matches: Vec<MatchOut<'a>>,
}

#[derive(Serialize)]
struct MatchOut<'a> {
    kind: &'static str,
    id: &'a str,
    matched: &'static str,
}

#[derive(Serialize)]
struct Settings<'a> {
    timeout_ms: i64,
    gap_ms: i64,
    inactive: &'a [String],
}

#[derive(Serialize)]
struct Summary<'a> {
    events: u64,
    rejected: u64,
    users: u64,
    sessions: u64,
    /// `empty_sessions` … `duplicate_events`, in display order.
    #[serde(flatten)]
    counts: InDisplayOrder<'a>,
    replayed_sessions: u64,
    timeout_ms: i64,
    gap_ms: i64,
    session_id_warnings: u64,
}

#[derive(Serialize)]
struct Source<'a> {
    name: &'a str,
    format: Option<&'static str>,
    events: u64,
    rejected: u64,
    bytes: u64,
    failed: bool,
    problems: &'a [String],
    /// What is worth knowing about the source that is not wrong with it.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

#[derive(Serialize)]
struct Rejected {
    location: String,
    reason: &'static str,
    message: String,
}

#[derive(Serialize)]
struct SessionIdWarning {
    location: String,
    session_id: String,
}

#[derive(Serialize)]
struct ReplaySummary {
    timeout_ms: i64,
    recorded_sessions: u64,
    recorded_median_length_ms: i64,
    replayed_sessions: u64,
    replayed_median_length_ms: i64,
    split_sessions: u64,
    merged_sessions: u64,
    dropped_sessions: u64,
}

#[derive(Serialize)]
struct Sweep {
    timeout_ms: i64,
    sessions: u64,
    median_length_ms: i64,
    split_sessions: u64,
    merged_sessions: u64,
}

#[derive(Serialize)]
struct Histogram {
    /// Upper bound of each bucket (inclusive); `null` for the open last one.
    bucket_upper_ms: Vec<Option<i64>>,
    counts: Vec<u64>,
}

/// Which `user_properties` differ between a session's last active event and its end
/// marker (sessions flagged `end_props_changed` only).
#[derive(Serialize)]
struct EndPropsOut {
    last_active_ms: i64,
    end_marker_ms: i64,
    last_active_type: String,
    end_marker_type: String,
    changes: Vec<ChangeOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One property: its value on the last active event (`old`) and on the end marker
/// (`new`); a side where the property is absent has no key.
#[derive(Serialize)]
struct ChangeOut {
    property: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    old: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<serde_json::Value>,
}

fn end_props_out(store: &EventStore, d: &EndPropsDiff) -> EndPropsOut {
    let events = store.events();
    let (old, new) = (
        &events[d.pair.last_active.idx()],
        &events[d.pair.end_marker.idx()],
    );
    let value = |text: &Option<String>| {
        text.as_deref()
            .map(|t| serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::from(t)))
    };
    let (changes, error) = match &d.changes {
        Ok(list) => (
            list.iter()
                .map(|c| ChangeOut {
                    property: c.property.clone(),
                    old: value(&c.old),
                    new: value(&c.new),
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.clone())),
    };
    EndPropsOut {
        last_active_ms: old.time,
        end_marker_ms: new.time,
        last_active_type: store.strings.get(old.event_type).to_string(),
        end_marker_type: store.strings.get(new.event_type).to_string(),
        changes,
        error,
    }
}

/// Writes the JSON report; with a `--user` query, the `users` array holds the users it
/// names, and `user_query` says how each matched.
pub fn write(
    store: &EventStore,
    a: &Analysis,
    query: Option<&UserQuery>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let s = &a.summary;
    let c = &s.counts;
    let users: Vec<UserIx> = match query {
        Some(q) => q.users(),
        None => a.user_ixs().collect(),
    };
    let (flagged_split, flagged_merged) = a.replay.session_marks(a.sessions.len());
    let timeouts = sweep_timeouts(a.rules.timeout_ms);
    // A window of users serialised in parallel into `bufs`, one buffer per chunk of users;
    // each window is written before the next is made, so memory stays bounded by the window
    // whatever the number of users, and the buffers are reused from window to window.
    let render = |window: &[UserIx], bufs: &mut Vec<Vec<u8>>| {
        bufs.resize_with(window.len().div_ceil(USER_CHUNK), Vec::new);
        window
            .par_chunks(USER_CHUNK)
            .zip(bufs.par_iter_mut())
            .for_each_init(user::Scratch::default, |scratch, (chunk, buf)| {
                // The property differences behind the chunk's end_props_changed flags
                // (their texts are read again from the sources: in parallel too).
                let diffs: FxHashMap<SessionIx, EndPropsDiff> = end_props_diffs(
                    store,
                    a,
                    chunk.iter().flat_map(|&u| a.users[u].sessions.iter_ix()),
                )
                .into_iter()
                .collect();
                let cx = user::Ctx {
                    store,
                    analysis: a,
                    split: &flagged_split,
                    merged: &flagged_merged,
                    diffs: &diffs,
                    timeouts: &timeouts,
                };
                buf.clear();
                buf.reserve(chunk.iter().map(|&u| user::size_hint(a, u)).sum());
                for &u in chunk {
                    buf.extend_from_slice(b",\n    ");
                    user::write(buf, &cx, u, scratch);
                }
            });
    };
    let mut windows = users.chunks(2 * USER_CHUNK);
    let first_window = windows.next();
    let mut bufs = Vec::new();
    // The sweep (for the head) beside the first window: its few replays alone would leave
    // a core idle.
    let (sweep, ()) = rayon::join(
        || a.sweep(),
        || {
            if let Some(window) = first_window {
                render(window, &mut bufs);
            }
        },
    );
    let report = Report {
        schema: "streamscope.report/1",
        settings: Settings {
            timeout_ms: a.rules.timeout_ms,
            gap_ms: a.rules.gap_ms,
            inactive: &a.rules.inactive,
        },
        summary: Summary {
            events: s.events,
            rejected: s.rejected,
            users: s.users,
            sessions: s.sessions,
            counts: InDisplayOrder(c),
            replayed_sessions: s.replayed_sessions,
            timeout_ms: a.rules.timeout_ms,
            gap_ms: a.rules.gap_ms,
            session_id_warnings: s.session_id_warnings,
        },
        sources: store
            .sources
            .iter()
            .map(|src| Source {
                name: &src.name,
                format: src.format,
                events: src.events,
                rejected: src.rejected,
                bytes: src.bytes_read,
                failed: src.failed,
                problems: &src.problems,
                notes: &src.notes,
            })
            .collect(),
        rejected_by_reason: &store.reject_counts,
        rejected_records: store
            .rejects
            .iter()
            .take(LISTED)
            .map(|r| Rejected {
                location: store.describe(&r.loc),
                reason: r.reason.code(),
                message: r.reason.to_string(),
            })
            .collect(),
        session_id_warnings: store
            .warnings
            .iter()
            .take(LISTED)
            .map(|w| SessionIdWarning {
                location: store.describe(&w.loc),
                session_id: w.value.to_string(),
            })
            .collect(),
        replay: ReplaySummary {
            timeout_ms: a.replay.timeout_ms,
            recorded_sessions: s.sessions,
            recorded_median_length_ms: a.replay_input.recorded_median_ms,
            replayed_sessions: a.replay.sessions,
            replayed_median_length_ms: a.replay.median_length_ms,
            split_sessions: a.replay.split.len() as u64,
            merged_sessions: a.replay.merged.len() as u64,
            dropped_sessions: a.replay_input.dropped,
        },
        sweep: sweep.iter().map(sweep_out).collect(),
        gap_histogram: Histogram {
            bucket_upper_ms: GAP_BUCKETS
                .iter()
                .map(|&b| (b != i64::MAX).then_some(b))
                .collect(),
            counts: a.gap_histogram.counts.clone(),
        },
        user_query: query.map(|q| QueryOut {
            text: &q.text,
            matches: q
                .matches
                .iter()
                .map(|&(u, field)| MatchOut {
                    kind: a.users[u].key.kind.name(),
                    id: store.strings.get(a.users[u].key.id),
                    matched: field.name(),
                })
                .collect(),
        }),
    };
    // The top-level object is written by hand around the derived parts so that the
    // (large) users array can be produced in parallel and streamed.
    // Text from events is untrusted: C1, bidi and zero-width characters are escaped.
    let head = serde_json::to_vec_pretty(&report)?;
    let head = crate::fmt::escape_json_invisible(&head);
    let head = head.strip_suffix(b"\n}").unwrap_or(&head);
    out.write_all(head)?;
    out.write_all(b",\n  \"users\": [")?;
    let mut first = true;
    loop {
        // The window rendered last (none when there are no users).
        for chunk in &bufs {
            // Every user is preceded by a comma; the very first one is not.
            let skip = usize::from(std::mem::take(&mut first));
            out.write_all(&chunk[skip.min(chunk.len())..])?;
        }
        let Some(next) = windows.next() else { break };
        render(next, &mut bufs);
    }
    out.write_all(b"\n  ]\n}\n")
}

/// Users serialised by one task of the report's parallel output.
const USER_CHUNK: usize = 512;

/// A sweep row as the JSON writes it (the whole input's and each user's).
fn sweep_out(r: &SweepRow) -> Sweep {
    Sweep {
        timeout_ms: r.timeout_ms,
        sessions: r.sessions,
        median_length_ms: r.median_length_ms,
        split_sessions: r.split,
        merged_sessions: r.merged,
    }
}

#[cfg(test)]
mod tests;
