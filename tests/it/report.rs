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

#[test]
fn standard_input_is_a_source() {
    let gz = std::fs::read(fixture("containers/events.ndjson.gz")).expect("fixture");
    let mut child = bin()
        .args(["report", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&gz)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
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
