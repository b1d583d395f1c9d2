//! Real-world inputs (issue 12), one fixture per behaviour in tests/fixtures/inputs (made
//! by make.py there), each asserted through `report --format json` on the real binary.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inputs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn report_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_streamscope"));
    cmd.args(["report", "--format", "json"]).args(args);
    cmd
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `report --format json` of fixture files: the document and the exit status.
fn report(names: &[&str]) -> (Value, Option<i32>) {
    let paths: Vec<String> = names.iter().map(|n| fixture(n)).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let out = report_cmd(&refs).output().expect("the binary runs");
    (json(&out), out.status.code())
}

fn problems(doc: &Value, source: usize) -> String {
    doc["sources"][source]["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn every_iso_8601_time_form_of_the_contract_loads_as_the_same_instant() {
    let (doc, code) = report(&["times.ndjson"]);
    assert_eq!(code, Some(0));
    let s = &doc["summary"];
    assert_eq!(s["events"], 10, "{}", doc["rejected_records"]);
    assert_eq!(s["rejected"], 0);
    // One session whose every event is at its session id: all ten forms are one instant.
    assert_eq!(s["sessions"], 1);
    assert_eq!(s["zero_length_sessions"], 1);
    assert_eq!(s["suspect_session_ids"], 0);
    assert_eq!(problems(&doc, 0), "");
}

#[test]
fn epoch_seconds_are_kept_as_milliseconds_with_a_warning() {
    let (doc, code) = report(&["epoch-seconds.ndjson"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["summary"]["events"], 4);
    assert_eq!(doc["summary"]["rejected"], 0);
    assert_eq!(doc["sources"][0]["failed"], false);
    let p = problems(&doc, 0);
    assert!(
        p.contains("epoch-seconds.ndjson' line 1: 'time' is 1751254672, which looks like epoch seconds (2025-06-30 03:37:52.000 UTC)"),
        "{p}"
    );
    assert!(p.contains("read as 1970-01-21 06:27:34.672 UTC"), "{p}");
    assert!(p.contains("3 event times look like epoch seconds"), "{p}");
}
