//! `streamscope report` end to end: the real binary, its exit status, stdout and stderr;
//! and a snapshot of the text report a support engineer pastes into a ticket.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_streamscope"))
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn the_summary_has_exactly_the_contract_keys() {
    let out = run(&[
        "report",
        "--format",
        "json",
        &fixture("containers/export.zip"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    let summary = doc["summary"].as_object().expect("summary object");
    let mut keys: Vec<&str> = summary.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = vec![
        "events",
        "rejected",
        "users",
        "sessions",
        "empty_sessions",
        "zero_length_sessions",
        "suspect_session_ids",
        "out_of_session_events",
        "gaps",
        "bridged_gaps",
        "unterminated_sessions",
        "duplicate_events",
        "end_props_changed_sessions",
        "background_events",
        "replayed_sessions",
        "timeout_ms",
        "gap_ms",
        "session_id_warnings",
    ];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert!(summary.values().all(serde_json::Value::is_i64));
    assert_eq!(doc["summary"]["events"], 5);
    assert_eq!(doc["summary"]["sessions"], 2);
    assert_eq!(doc["summary"]["out_of_session_events"], 1);
    assert_eq!(doc["summary"]["timeout_ms"], 1_800_000);
    assert_eq!(doc["summary"]["gap_ms"], 300_000);
    assert_eq!(
        doc["users"][0]["sessions"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn settings_change_the_figures() {
    let path = fixture("containers/array.json");
    let at = |timeout: &str| {
        let out = run(&[
            "report",
            "--format",
            "json",
            "--timeout",
            timeout,
            "--gap",
            "90s",
            &path,
        ]);
        assert_eq!(out.status.code(), Some(0));
        json(&out)["summary"].clone()
    };
    // Active in-session events at 0, +1m and +60m: one gap of 59 minutes.
    assert_eq!(at("30m")["replayed_sessions"], 2);
    assert_eq!(at("1h")["replayed_sessions"], 1);
    assert_eq!(at("1h")["timeout_ms"], 3_600_000);
    assert_eq!(at("1h")["gap_ms"], 90_000);
    let out = run(&["report", "--format", "json", "--inactive", "Search", &path]);
    assert_eq!(json(&out)["settings"]["inactive"][0], "Search");
}

#[test]
fn rejected_records_are_listed_with_locations() {
    let out = run(&[
        "report",
        "--format",
        "json",
        &fixture("containers/events.ndjson"),
    ]);
    let doc = json(&out);
    assert_eq!(doc["summary"]["rejected"], 1);
    let r = &doc["rejected_records"][0];
    assert!(
        r["location"]
            .as_str()
            .is_some_and(|l| l.ends_with("events.ndjson:4")),
        "{r}"
    );
    assert_eq!(r["reason"], "invalid_json");
    assert_eq!(doc["rejected_by_reason"]["invalid_json"], 1);
}

#[test]
fn a_source_that_cannot_be_read_exits_1_and_names_it() {
    let missing = fixture("containers/nope.ndjson");
    let out = run(&["report", &missing, &fixture("containers/array.json")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open") && err.contains("nope.ndjson"),
        "{err}"
    );
    // The readable source is still analysed and reported.
    assert!(String::from_utf8_lossy(&out.stdout).contains("TOTALS"));
    let out = run(&["report", &fixture("containers/binary.png")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("binary data"));
}

#[test]
fn damage_is_reported_but_is_not_a_failure() {
    let out = run(&["report", &fixture("containers/truncated.ndjson.gz")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged or truncated"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["report", "--timeout", "soon"][..],
        &["report", "--format", "xml"][..],
        &["report", "--no-such-flag"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn one_user_by_user_device_or_unknown_id() {
    let path = fixture("containers/body.json");
    for key in ["ana", "d1"] {
        let out = run(&["report", "--format", "json", "--user", key, &path]);
        assert_eq!(out.status.code(), Some(0), "{key}");
        let doc = json(&out);
        assert_eq!(doc["users"].as_array().map(Vec::len), Some(1), "{key}");
        assert_eq!(doc["users"][0]["id"], "ana");
    }
    let out = run(&["report", "--user", "nobody", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'nobody'"));
}

/// `report --format json -` with the fixture `name` on standard input.
fn report_json_of_stdin(name: &str) -> Output {
    let input = std::fs::read(fixture(name)).expect("fixture");
    let mut child = bin()
        .args(["report", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write");
    child.wait_with_output().expect("wait")
}

#[test]
fn standard_input_is_a_source() {
    let out = report_json_of_stdin("containers/events.ndjson.gz");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["summary"]["events"], 5);
}

#[test]
fn the_bundled_demo_is_used_without_sources() {
    let out = run(&["report", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["sources"][0]["name"], "demo.ndjson (bundled)");
    assert!(doc["summary"]["events"].as_u64().is_some_and(|n| n > 300));
}

#[test]
fn control_characters_in_events_never_reach_the_terminal() {
    let out = run(&["report", "--users", "100"]);
    assert!(!out.stdout.contains(&0x1b), "an escape byte was printed");
    assert!(!out.stdout.iter().any(|&b| b < 0x20 && b != b'\n'));
}

#[test]
fn text_report_of_the_demo() {
    let out = run(&["report"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

/// The Export-shaped identity fixture: every event carries `amplitude_id`, `user_id` and
/// `device_id`; ana and kiosk-store-042 share the device kiosk-dev-7; kiosk-store-042's
/// four sessions all have ids in seconds; carl has two -1 heartbeats.
fn ids() -> String {
    fixture("identity/export-ids.ndjson")
}

#[test]
fn user_finds_a_user_by_user_id_amplitude_id_or_device_whatever_the_key() {
    for (key, matched) in [
        ("ana.berg@example.org", "user id"),
        ("1238554004088", "Amplitude id"),
        ("ana-phone-1", "device id"),
    ] {
        let out = run(&["report", "--format", "json", "--user", key, &ids()]);
        assert_eq!(out.status.code(), Some(0), "{key}");
        let doc = json(&out);
        let users = doc["users"].as_array().expect("users");
        assert_eq!(users.len(), 1, "{key}");
        assert_eq!(users[0]["kind"], "amplitude_id");
        assert_eq!(users[0]["id"], "1238554004088");
        assert_eq!(
            users[0]["user_ids"],
            serde_json::json!(["ana.berg@example.org"])
        );
        assert_eq!(
            users[0]["device_ids"],
            serde_json::json!(["ana-phone-1", "kiosk-dev-7"])
        );
        assert_eq!(doc["user_query"]["matches"][0]["matched"], matched, "{key}");
        // The summary stays the whole input's (the contract).
        assert_eq!(doc["summary"]["users"], 3);
    }
}

#[test]
fn a_shared_device_reports_every_user_and_says_so() {
    let out = run(&[
        "report",
        "--format",
        "json",
        "--user",
        "kiosk-dev-7",
        &ids(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let names: Vec<&str> = doc["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["user_ids"][0].as_str().expect("a user id"))
        .collect();
    assert_eq!(names, ["ana.berg@example.org", "kiosk-store-042"]);
    let text = run(&["report", "--user", "kiosk-dev-7", &ids()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("'kiosk-dev-7' is a device id shared by 2 users"),
        "{text}"
    );
}

#[test]
fn report_user_is_about_that_user() {
    let out = run(&["report", "--user", "carl@example.com", &ids()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    // Words with single spaces, whatever the columns and the wrapping.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // The findings are carl's: two heartbeats out of session, and nobody else's suspect ids.
    assert!(words.contains("FINDINGS NO SESSION 2 events"), "{text}");
    assert!(
        words.contains("none of: EMPTY, ZERO, SUSPECT ID,"),
        "{text}"
    );
    assert!(
        words
            .contains("the whole input held 23 events, 3 users, 7 sessions and 0 rejected records"),
        "{text}"
    );
    assert!(text.contains("carl@example.com · amp 7770001112223 · device carl-laptop"));
    assert!(!text.contains("ana.berg"), "only carl: {text}");
}

#[test]
fn users_are_ranked_by_severity_and_none_is_left_out_silently() {
    // kiosk-store-042 (every session id in seconds) first, carl (two heartbeats) after.
    let out = run(&["report", "--users", "1", &ids()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let users = text.split("USERS").nth(1).expect("a users section");
    assert!(
        users.contains("kiosk-store-042 · amp 5550001112223"),
        "{users}"
    );
    assert!(!users.contains("carl@example.com"), "{users}");
    assert!(users.contains("2 more users not shown"), "{users}");
    assert!(
        users.contains("users not shown, by flag: 1 NO SESSION"),
        "{users}"
    );
}

#[test]
fn the_text_report_fits_100_columns_and_says_1_session() {
    for args in [
        &["report"][..],
        &["report", &ids()],
        &["report", "--user", "kiosk-dev-7", &ids()],
    ] {
        let out = run(args);
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "{args:?}: {line}");
        }
        assert!(!text.contains(" 1 sessions"), "{text}");
        assert!(!text.contains(" 1 events"), "{text}");
    }
    let demo = run(&["report"]);
    let demo = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.contains("data: 2026-10-27 04:30:53.551 -> 2026-10-30 22:54:15.423 UTC"));
    assert!(demo.contains("MERGED at 30m"), "{demo}");
}

#[test]
fn when_no_source_can_be_read_only_the_errors_are_printed() {
    let out = run(&["report", &fixture("containers/nope.ndjson")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.ndjson"));
}

/// The sessions of the report's only user, by session id.
fn sessions_of(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["users"][0]["sessions"]
        .as_array()
        .expect("sessions")
        .clone()
}

/// `end_props_changed`: the flag, the summary key, and per flagged session the pair of
/// events compared and each property that differs with its old and new value. The gzip
/// copy is read back too (the report keeps no raw location per event and reads the
/// flagged sessions' events again).
#[test]
fn end_props_changed_names_the_properties_that_changed() {
    for name in [
        "lifecycle/end-props.ndjson",
        "lifecycle/end-props.ndjson.gz",
    ] {
        let out = run(&["report", "--format", "json", &fixture(name)]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc = json(&out);
        assert_eq!(doc["summary"]["end_props_changed_sessions"], 2, "{name}");
        assert_eq!(doc["users"][0]["flags"]["end_props_changed_sessions"], 2);
        let sessions = sessions_of(&doc);
        let flagged: Vec<bool> = sessions
            .iter()
            .map(|s| {
                s["flags"]
                    .as_array()
                    .expect("flags")
                    .contains(&serde_json::json!("end_props_changed"))
            })
            .collect();
        // Changed; skipped with `true`; "true" (a string) does not skip; no active event
        // before the marker; key order and number forms; absent against `{}`.
        assert_eq!(flagged, [true, false, true, false, false, false], "{name}");
        assert_eq!(
            sessions[0]["end_props_diff"],
            serde_json::json!({
                "last_active_ms": 1_767_225_601_000_i64,
                "end_marker_ms": 1_767_225_603_000_i64,
                "last_active_type": "Plan Viewed",
                "end_marker_type": "session_end",
                "changes": [
                    {"property": "extra", "new": [1]},
                    {"property": "plan", "old": "free", "new": "pro"}
                ]
            }),
            "{name}"
        );
        assert_eq!(
            sessions[2]["end_props_diff"]["changes"],
            serde_json::json!([{"property": "plan", "old": "pro", "new": "max"}])
        );
        assert!(sessions[1].get("end_props_diff").is_none());
    }
}

/// Read from standard input, the events cannot be read a second time: the flag and its
/// pair are reported, the properties are not, and stderr says why.
#[test]
fn end_props_from_standard_input_say_why_the_properties_are_not_shown() {
    let out = report_json_of_stdin("lifecycle/end-props.ndjson");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot be read a second time"), "{stderr}");
    let doc = json(&out);
    let diff = &sessions_of(&doc)[0]["end_props_diff"];
    assert_eq!(diff["last_active_type"], "Plan Viewed");
    assert!(
        diff["error"]
            .as_str()
            .is_some_and(|e| e.contains("not kept")),
        "{diff}"
    );
}

/// `background`: background events (after Application Backgrounded, before the next
/// Application Opened; an identify call, the lifecycle events themselves and an
/// out-of-session event are not), per session the time in the background and the
/// foreground time; the text report has a foreground column and the fix.
#[test]
fn background_events_and_time_in_the_report() {
    let path = fixture("lifecycle/background.ndjson");
    let doc = json(&run(&["report", "--format", "json", &path]));
    assert_eq!(doc["summary"]["background_events"], 4);
    assert_eq!(doc["users"][0]["flags"]["background_events"], 4);
    let sessions = sessions_of(&doc);
    let figures: Vec<(i64, i64, i64)> = sessions
        .iter()
        .map(|s| {
            (
                s["background_ms"].as_i64().expect("background_ms"),
                s["foreground_ms"].as_i64().expect("foreground_ms"),
                s["span_ms"].as_i64().expect("span_ms"),
            )
        })
        .collect();
    assert_eq!(
        figures,
        [(480_000, 180_000, 660_000), (120_000, 30_000, 150_000)]
    );
    let text = run(&["report", &path]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("span foreground  flags"), "{text}");
    assert!(text.contains("11m00s      3m00s  BACKGROUND x2"), "{text}");
    assert!(text.contains("Fix: read the foreground time"), "{text}");
}

/// The text report writes the properties an END PROPS session's end marker changed
/// under the session, and the enrichment plugin for each SDK under the finding.
#[test]
fn end_props_in_the_text_report() {
    let out = run(&["report", &fixture("lifecycle/end-props.ndjson")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("end props: Plan Viewed at 2026-01-01 00:00:01.000 -> session_end"),
        "{text}"
    );
    assert!(text.contains("        plan: \"free\" -> \"pro\""), "{text}");
    assert!(text.contains("        extra: (absent) -> [1]"), "{text}");
    assert!(
        text.contains("event['$skip_user_properties_sync'] = true;"),
        "{text}"
    );
    assert!(text.contains("Kotlin (Android):"), "{text}");
    assert!(text.contains("Swift (iOS):"), "{text}");
}

/// Past the store's cap of example locations, the report finds events by reading the
/// sources again: events are matched by index, so the locations found are those of the
/// wanted records (here lines 2 and 4 of a gzip file).
#[test]
fn a_second_read_locates_events_by_their_index() {
    use streamscope::index::EventIx;
    use streamscope::source::{LoadOptions, load_all, locate_again, raw};
    let specs = vec![fixture("lifecycle/end-props.ndjson.gz")];
    let opts = LoadOptions::default();
    let store = load_all(&specs, &opts);
    assert!(
        store.raw(EventIx::from_usize(1)).is_none(),
        "no raw locations kept"
    );
    let wanted = [EventIx::from_usize(3), EventIx::from_usize(1)];
    let (found, problems) = locate_again(&specs, &opts, &store, &wanted);
    assert!(problems.is_empty(), "{problems:?}");
    let ixs: Vec<EventIx> = found.iter().map(|(e, _)| *e).collect();
    assert_eq!(ixs, [EventIx::from_usize(1), EventIx::from_usize(3)]);
    let locs: Vec<_> = found.iter().map(|(_, l)| *l).collect();
    let texts: Vec<String> = raw::read_many(&store, &locs)
        .into_iter()
        .map(|t| String::from_utf8(t.expect("read")).expect("utf-8"))
        .collect();
    let file = std::fs::read_to_string(fixture("lifecycle/end-props.ndjson")).expect("fixture");
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(texts, [lines[1], lines[3]]);
}
