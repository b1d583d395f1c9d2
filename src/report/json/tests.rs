//! The hand-written `users` array against the derived structs it replaced, which stay
//! here as the reference: byte for byte, on every user of inputs that between them hold
//! each part of a user object (end-props differences, out-of-session events, splits and
//! merges, hostile text).

use std::io::Write as _;

use proptest::prelude::*;

use super::*;
use crate::analysis::FlagCounts;

#[derive(Serialize)]
struct UserOut<'a> {
    kind: &'static str,
    id: &'a str,
    user_ids: Vec<&'a str>,
    amplitude_ids: Vec<&'a str>,
    device_ids: Vec<&'a str>,
    events: u32,
    first_event_ms: i64,
    last_event_ms: i64,
    flags: &'a FlagCounts,
    sessions: Vec<SessionOut>,
    out_of_session: Vec<OutEvent<'a>>,
    replay: UserReplay,
    sweep_sessions: Vec<u64>,
    sweep: Vec<Sweep>,
    gap_histogram: Vec<u64>,
}

#[derive(Serialize)]
struct SessionOut {
    session_id: i64,
    first_event_ms: i64,
    last_event_ms: i64,
    events: u32,
    active_events: u32,
    length_ms: i64,
    span_ms: i64,
    gaps: u32,
    bridged_gaps: u32,
    max_gap_ms: i64,
    duplicates: u32,
    flags: Vec<&'static str>,
    background_ms: i64,
    foreground_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_props_diff: Option<EndPropsOut>,
}

#[derive(Serialize)]
struct OutEvent<'a> {
    time_ms: i64,
    event_type: &'a str,
}

#[derive(Serialize)]
struct UserReplay {
    sessions: u32,
    median_length_ms: i64,
    split: Vec<i64>,
    merged: Vec<i64>,
}

fn user_out<'a>(cx: &user::Ctx<'a>, u: UserIx) -> UserOut<'a> {
    let (store, a) = (cx.store, cx.analysis);
    let user = &a.users[u];
    let range = user.sessions.clone();
    let events = store.events();
    let identity = a.identity(u);
    let texts = |syms: &[crate::event::Sym]| syms.iter().map(|&s| store.strings.get(s)).collect();
    let sweep = a.user_sweep(u);
    UserOut {
        kind: user.key.kind.name(),
        id: store.strings.get(user.key.id),
        user_ids: texts(&identity.user_ids),
        amplitude_ids: texts(&identity.amplitude_ids),
        device_ids: texts(&identity.device_ids),
        events: user.event_count(),
        first_event_ms: user.first,
        last_event_ms: user.last,
        flags: &a.user_counts[u],
        sessions: range
            .iter_ix()
            .map(|ix| (ix, &a.sessions[ix.idx()]))
            .map(|(ix, s)| SessionOut {
                session_id: s.id,
                first_event_ms: s.first,
                last_event_ms: s.last,
                events: s.events,
                active_events: s.active,
                length_ms: s.length_ms(),
                span_ms: s.span_ms(),
                gaps: s.gaps,
                bridged_gaps: s.bridged,
                max_gap_ms: s.max_gap_ms,
                duplicates: s.duplicates,
                flags: s.flag_list().iter().map(|f| f.json_name()).collect(),
                background_ms: s.background_ms,
                foreground_ms: s.foreground_ms(),
                end_props_diff: cx.diffs.get(&ix).map(|d| end_props_out(store, d)),
            })
            .collect(),
        out_of_session: a
            .out_of_session_positions(u)
            .map(|p| {
                let e = &events[a.order[p]];
                OutEvent {
                    time_ms: e.time,
                    event_type: store.strings.get(e.event_type),
                }
            })
            .collect(),
        replay: UserReplay {
            sessions: a.replay.per_user.get(u.idx()).copied().unwrap_or(0),
            median_length_ms: sweep
                .iter()
                .find(|r| r.timeout_ms == a.rules.timeout_ms)
                .map_or(0, |r| r.median_length_ms),
            split: range
                .iter_ix()
                .filter(|&i| cx.split[i])
                .map(|i| a.sessions[i].id)
                .collect(),
            merged: range
                .iter_ix()
                .filter(|&i| cx.merged[i])
                .map(|i| a.sessions[i].id)
                .collect(),
        },
        sweep_sessions: sweep.iter().map(|r| r.sessions).collect(),
        sweep: sweep.iter().map(sweep_out).collect(),
        gap_histogram: a.replay_input.gap_histogram_of(Some(u)).counts,
    }
}

/// The reference bytes of one user: the derive, then the invisible-character escapes.
fn reference(cx: &user::Ctx<'_>, u: UserIx) -> Vec<u8> {
    let json = serde_json::to_vec(&user_out(cx, u)).expect("serialisable");
    crate::fmt::escape_json_invisible(&json).into_owned()
}

/// What the comparison saw, so that a test can check its input covered what it is for.
#[derive(Default)]
struct Covered {
    users: usize,
    diffs: usize,
    out_of_session: usize,
    split_or_merged: usize,
}

/// Loads `paths` as `report` does and compares every user's bytes with the reference.
fn compare(paths: &[String], rules: &crate::analysis::Rules) -> Covered {
    let load = crate::source::LoadOptions::default();
    let mut store = crate::source::load_all(paths, &load);
    assert!(!store.any_failed(), "{paths:?} loads");
    let a = Analysis::compute(&store, rules);
    let users: Vec<UserIx> = a.user_ixs().collect();
    let problems = crate::report::locate_end_props(paths, &load, &mut store, &a, &users);
    assert!(problems.is_empty(), "{problems:?}");
    let diffs: FxHashMap<SessionIx, EndPropsDiff> = end_props_diffs(
        &store,
        &a,
        users.iter().flat_map(|&u| a.users[u].sessions.iter_ix()),
    )
    .into_iter()
    .collect();
    let (split, merged) = a.replay.session_marks(a.sessions.len());
    let cx = user::Ctx {
        store: &store,
        analysis: &a,
        split: &split,
        merged: &merged,
        diffs: &diffs,
        timeouts: &crate::analysis::sweep_timeouts(a.rules.timeout_ms),
    };
    let mut covered = Covered {
        users: users.len(),
        diffs: diffs.len(),
        ..Covered::default()
    };
    // One scratch for all users, as a thread of the report reuses it: nothing of one user
    // may show in the next.
    let mut scratch = user::Scratch::default();
    for &u in &users {
        let mut mine = Vec::new();
        user::write(&mut mine, &cx, u, &mut scratch);
        let want = reference(&cx, u);
        assert_eq!(
            String::from_utf8_lossy(&mine),
            String::from_utf8_lossy(&want),
            "user {} of {paths:?}",
            u.idx()
        );
        covered.out_of_session += a.out_of_session_positions(u).count();
        covered.split_or_merged += a.users[u]
            .sessions
            .iter_ix()
            .filter(|&i| split[i] || merged[i])
            .count();
    }
    covered
}

fn fixture(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// What an input must cover for its case to test what it is there for.
type Check = fn(&Covered) -> bool;

#[test]
fn users_are_written_as_the_derived_structs_wrote_them() {
    let rules = crate::analysis::Rules::default();
    let cases: &[(&str, Check)] = &[
        ("assets/demo.ndjson", |c| {
            c.out_of_session > 0 && c.split_or_merged > 0
        }),
        ("tests/fixtures/lifecycle/end-props.ndjson", |c| c.diffs > 0),
        ("tests/fixtures/lifecycle/background.ndjson", |c| {
            c.users > 0
        }),
        ("tests/fixtures/identity/export-ids.ndjson", |c| c.users > 1),
        ("tests/fixtures/tui/export.ndjson", |c| c.users > 1),
        ("tests/fixtures/inputs/invisible.ndjson", |c| c.users > 0),
    ];
    for (path, covers) in cases {
        let covered = compare(&[fixture(path)], &rules);
        assert!(
            covers(&covered),
            "{path} no longer covers what it is here for"
        );
    }
    // A shorter timeout splits more sessions.
    let short = crate::analysis::Rules {
        timeout_ms: 5 * 60_000,
        ..crate::analysis::Rules::default()
    };
    assert!(compare(&[fixture("assets/demo.ndjson")], &short).split_or_merged > 0);
}

#[test]
fn hostile_text_in_ids_and_event_types_is_escaped_as_before() {
    let texts = [
        "quote\" and back\\slash",
        "tab\tnew\nline\rbell\u{7}nul\u{0}esc\u{1b}[31m",
        "c1\u{9b}31m and \u{85}",
        "bidi\u{202e}txet\u{2066}x\u{2069}",
        "zero\u{200b}width\u{feff}",
        "del\u{7f} é 😀 \u{a0}",
    ];
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    for (i, text) in texts.iter().enumerate() {
        let time = 1_700_000_000_000_i64 + i as i64 * 1000;
        let event = serde_json::json!({
            "user_id": text, "device_id": text, "event_type": text,
            "time": time, "session_id": -1,
        });
        writeln!(file, "{event}").expect("write");
    }
    let path = file.path().to_string_lossy().into_owned();
    let covered = compare(&[path], &crate::analysis::Rules::default());
    assert_eq!(covered.users, texts.len());
    assert_eq!(covered.out_of_session, texts.len());
}

proptest! {
    #[test]
    fn strings_are_escaped_as_serde_json_and_the_invisible_escape_did(
        s in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2060}\\u{2066}-\\u{2069}\\u{feff}\"\\\\])*"
    ) {
        let mut mine = Vec::new();
        user::string(&mut mine, &s);
        let serde = serde_json::to_vec(&s).expect("serialisable");
        let want = crate::fmt::escape_json_invisible(&serde);
        prop_assert_eq!(String::from_utf8_lossy(&mine), String::from_utf8_lossy(&want));
    }
}

#[test]
fn a_report_of_several_windows_lists_every_user_once_in_order() {
    // More users than two windows of chunks (2 × 2 × USER_CHUNK) and a last, partial one,
    // so that buffers are reused from a full window for a smaller one.
    let users = 4 * USER_CHUNK + USER_CHUNK / 2 + 3;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    for i in 0..users {
        // Users with more sessions write more bytes, so that reused buffers hold older,
        // longer text than the chunk they are reused for.
        for s in 0..(1 + i % 3) {
            let time = 1_700_000_000_000_i64 + (s as i64) * 3_600_000;
            let event = serde_json::json!({
                "user_id": format!("u{i:05}"), "event_type": "Click",
                "time": time, "session_id": time,
            });
            writeln!(file, "{event}").expect("write");
        }
    }
    let path = file.path().to_string_lossy().into_owned();
    let store = crate::source::load_all(&[path], &crate::source::LoadOptions::default());
    let a = Analysis::compute(&store, &crate::analysis::Rules::default());
    let mut out = Vec::new();
    write(&store, &a, None, &mut out).expect("written");
    let report: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    let ids: Vec<&str> = report["users"]
        .as_array()
        .expect("users array")
        .iter()
        .map(|u| u["id"].as_str().expect("id"))
        .collect();
    let want: Vec<String> = (0..users).map(|i| format!("u{i:05}")).collect();
    assert_eq!(ids, want);
    let sessions: Vec<usize> = report["users"]
        .as_array()
        .expect("users array")
        .iter()
        .map(|u| u["sessions"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sessions, (0..users).map(|i| 1 + i % 3).collect::<Vec<_>>());
}
