//! One element of the JSON report's `users` array, written straight into a byte buffer.
//!
//! The array is most of a large report (some 2.6 KB a user, 100 MB for 40,000 users), and
//! through serde's derive it cost more than the rest of the output phase together: every
//! key went through the string escaper, every list was a `Vec` built to be thrown away,
//! and the whole text was scanned a second time for invisible characters. Here keys are
//! literals, lists are written as they are walked, and only text that came from events
//! is escaped, in one pass.
//!
//! The bytes are exactly those of the derived structs this replaced (compact
//! `serde_json::to_writer`, then [`crate::fmt::escape_json_invisible`]); the tests keep
//! those structs as the reference and compare the two on every user of several inputs.

use rustc_hash::FxHashMap;

use crate::analysis::{Analysis, Flag, FlagCounts, RowScratch, SweepRow};
use crate::index::{IxRange as _, SessionIx, UserIx};
use crate::source::raw::EndPropsDiff;
use crate::store::EventStore;

/// What every user of one report shares.
pub(super) struct Ctx<'a> {
    pub store: &'a EventStore,
    pub analysis: &'a Analysis,
    /// Per session: whether the replay at the chosen timeout splits it.
    pub split: &'a [bool],
    /// Per session: whether the replay merges it into its predecessor.
    pub merged: &'a [bool],
    /// The property differences behind the `end_props_changed` flags of these users.
    pub diffs: &'a FxHashMap<SessionIx, EndPropsDiff>,
    /// The timeouts of every user's sweep ([`crate::analysis::sweep_timeouts`]).
    pub timeouts: &'a [i64],
}

/// Room one thread reuses from user to user: a report writes tens of thousands of them,
/// and allocating each one's sweep anew cost a few percent of the output phase.
#[derive(Default)]
pub(super) struct Scratch {
    rows: Vec<SweepRow>,
    row: RowScratch,
}

/// A rough size of `u`'s object, to reserve room for a chunk of users at once: a little
/// over what an Export's users take (on the benchmark file some 1,270 bytes of ids, counts,
/// sweep and histogram, 276 a session and 59 an event out of session), so that a chunk's
/// buffer is not outgrown and copied.
pub(super) fn size_hint(a: &Analysis, u: UserIx) -> usize {
    let user = &a.users[u];
    1408 + 300 * user.sessions.len() + 64 * user.out_of_session as usize
}

/// Appends user `u`'s object to `out`.
pub(super) fn write(out: &mut Vec<u8>, cx: &Ctx<'_>, u: UserIx, scratch: &mut Scratch) {
    let (store, a) = (cx.store, cx.analysis);
    let user = &a.users[u];
    let text = |sym| store.strings.get(sym);
    let identity = a.identity_ref(u);
    // The user's own sweep, as the inspector's replay panel shows it.
    a.user_sweep_into(u, cx.timeouts, &mut scratch.row, &mut scratch.rows);
    let sweep = &scratch.rows;

    out.extend_from_slice(b"{\"kind\":");
    string(out, user.key.kind.name());
    key(out, "id");
    string(out, text(user.key.id));
    let ids = [
        ("user_ids", identity.user_ids),
        ("amplitude_ids", identity.amplitude_ids),
        ("device_ids", identity.device_ids),
    ];
    for (name, syms) in ids {
        key(out, name);
        list(out, syms.iter(), |out, &s| string(out, text(s)));
    }
    int_field(out, "events", user.event_count());
    int_field(out, "first_event_ms", user.first);
    int_field(out, "last_event_ms", user.last);
    key(out, "flags");
    flag_counts(out, &a.user_counts[u]);
    key(out, "sessions");
    list(out, user.sessions.iter_ix(), |out, ix| session(out, cx, ix));
    key(out, "out_of_session");
    let events = store.events();
    list(out, a.out_of_session_positions(u), |out, p| {
        let e = &events[a.order[p]];
        out.extend_from_slice(b"{\"time_ms\":");
        int(out, e.time);
        key(out, "event_type");
        string(out, text(e.event_type));
        out.push(b'}');
    });
    out.extend_from_slice(b",\"replay\":{\"sessions\":");
    int(out, a.replay.per_user.get(u.idx()).copied().unwrap_or(0));
    key(out, "median_length_ms");
    let median = sweep
        .iter()
        .find(|r| r.timeout_ms == a.rules.timeout_ms)
        .map_or(0, |r| r.median_length_ms);
    int(out, median);
    let ids_where = |out: &mut Vec<u8>, marks: &[bool]| {
        let marked = user.sessions.iter_ix().filter(|&i| marks[i]);
        list(out, marked, |out, i| int(out, a.sessions[i].id));
    };
    key(out, "split");
    ids_where(out, cx.split);
    key(out, "merged");
    ids_where(out, cx.merged);
    out.extend_from_slice(b"},\"sweep_sessions\":");
    list(out, sweep.iter(), |out, r| int(out, r.sessions));
    key(out, "sweep");
    list(out, sweep.iter(), sweep_row);
    key(out, "gap_histogram");
    let histogram = a.replay_input.gap_counts_of(Some(u));
    list(out, histogram.iter(), |out, &n| int(out, n));
    out.push(b'}');
}

/// One session of the user's `sessions` array.
fn session(out: &mut Vec<u8>, cx: &Ctx<'_>, ix: SessionIx) {
    let s = &cx.analysis.sessions[ix.idx()];
    out.extend_from_slice(b"{\"session_id\":");
    int(out, s.id);
    int_field(out, "first_event_ms", s.first);
    int_field(out, "last_event_ms", s.last);
    int_field(out, "events", s.events);
    int_field(out, "active_events", s.active);
    int_field(out, "length_ms", s.length_ms());
    int_field(out, "span_ms", s.span_ms());
    int_field(out, "gaps", s.gaps);
    int_field(out, "bridged_gaps", s.bridged);
    int_field(out, "max_gap_ms", s.max_gap_ms);
    int_field(out, "duplicates", s.duplicates);
    key(out, "flags");
    list(out, s.flags.iter(), |out, f| string(out, f.json_name()));
    int_field(out, "background_ms", s.background_ms);
    int_field(out, "foreground_ms", s.foreground_ms());
    if let Some(diff) = cx.diffs.get(&ix) {
        // Rare (sessions flagged end_props_changed), and it holds arbitrary JSON values:
        // serde writes it.
        key(out, "end_props_diff");
        let diff = super::end_props_out(cx.store, diff);
        let mut json = Vec::new();
        // Writing plain structs and JSON values into a Vec cannot fail; were it to, the
        // member would read `null` rather than cut the report short.
        if serde_json::to_writer(&mut json, &diff).is_ok() {
            out.extend_from_slice(&crate::fmt::escape_json_invisible(&json));
        } else {
            out.extend_from_slice(b"null");
        }
    }
    out.push(b'}');
}

/// A sweep row: `{"timeout_ms":…,"sessions":…,"median_length_ms":…,…}`.
fn sweep_row(out: &mut Vec<u8>, r: &SweepRow) {
    out.extend_from_slice(b"{\"timeout_ms\":");
    int(out, r.timeout_ms);
    int_field(out, "sessions", r.sessions);
    int_field(out, "median_length_ms", r.median_length_ms);
    int_field(out, "split_sessions", r.split);
    int_field(out, "merged_sessions", r.merged);
    out.push(b'}');
}

/// A user's flag counts, keyed by the §5 summary keys in alphabetical order (as
/// [`FlagCounts`]' `Serialize` writes them).
fn flag_counts(out: &mut Vec<u8>, counts: &FlagCounts) {
    out.push(b'{');
    for (i, flag) in Flag::by_summary_key().into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, flag.summary_key());
        out.push(b':');
        int(out, counts[flag]);
    }
    out.push(b'}');
}

/// `[a,b,…]`, each element written by `element`.
fn list<T>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = T>,
    mut element: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        element(out, item);
    }
    out.push(b']');
}

/// `,"name":`: the key of a member after the first (names are ours: nothing to escape).
#[inline(always)] // constant names: the copy becomes a few moves
fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `,"name":n`: a numeric member after the first.
#[inline(always)]
fn int_field(out: &mut Vec<u8>, name: &str, n: impl itoa::Integer) {
    key(out, name);
    int(out, n);
}

fn int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A JSON string, escaped as serde_json escapes (`"`, `\` and C0 controls; `\b`, `\f`,
/// `\n`, `\r`, `\t` short, the rest `\u00XX`), and then, as the report's text is
/// untrusted, C1 controls, bidi controls and zero-width characters as `\uXXXX` (see
/// [`crate::fmt::escape_json_invisible`]).
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if s.bytes()
        .all(|b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
    {
        // Printable ASCII (ids, event names): nothing to escape.
        out.extend_from_slice(s.as_bytes());
    } else {
        escaped(out, s);
    }
    out.push(b'"');
}

#[cold]
fn escaped(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for c in s.chars() {
        let short = match c {
            '"' => Some(b'"'),
            '\\' => Some(b'\\'),
            '\u{8}' => Some(b'b'),
            '\u{c}' => Some(b'f'),
            '\n' => Some(b'n'),
            '\r' => Some(b'r'),
            '\t' => Some(b't'),
            _ => None,
        };
        if let Some(letter) = short {
            out.extend_from_slice(&[b'\\', letter]);
        } else if c < ' ' || crate::fmt::json_invisible(c) {
            // All of these are in the Basic Multilingual Plane: four hex digits.
            let n = u32::from(c);
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((n >> shift) & 0xF) as usize]);
            }
        } else {
            let mut utf8 = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
}
