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

/// `report --format json -` fed `input` on standard input by a thread, in pieces of
/// `piece` bytes with a flush after each (a pipe that delivers bytes as they come).
fn report_stdin(input: Vec<u8>, piece: usize) -> (Value, Option<i32>) {
    use std::io::Write;
    let mut child = report_cmd(&["-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        for chunk in input.chunks(piece) {
            if stdin.write_all(chunk).and_then(|()| stdin.flush()).is_err() {
                break;
            }
            if piece < 16 {
                // Let the reader see the pieces one by one.
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    });
    let out = child.wait_with_output().expect("the binary ends");
    writer.join().expect("writer");
    (json(&out), out.status.code())
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

#[test]
fn a_utf8_bom_is_skipped_in_files_arrays_gzip_and_archive_members() {
    for name in [
        "bom.ndjson",
        "bom-array.json",
        "bom.ndjson.gz",
        "bom-members.zip",
    ] {
        let (doc, code) = report(&[name]);
        assert_eq!(code, Some(0), "{name}");
        assert_eq!(
            doc["summary"]["events"], 3,
            "{name}: {}",
            doc["rejected_records"]
        );
        assert_eq!(doc["summary"]["rejected"], 0, "{name}");
        assert_eq!(doc["summary"]["users"], 3, "{name}");
    }
    let (doc, _) = report_stdin(bytes("bom.ndjson"), 1 << 16);
    assert_eq!(doc["summary"]["events"], 3);
    assert_eq!(doc["summary"]["rejected"], 0);
}

#[test]
fn an_export_zip_on_stdin_is_read() {
    let zip = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/containers/export.zip"),
    )
    .expect("fixture");
    let (doc, code) = report_stdin(zip, 1 << 16);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["sources"][0]["format"], "zip");
    assert_eq!(doc["summary"]["events"], 5);
    assert_eq!(doc["summary"]["sessions"], 2);
}

#[test]
fn format_detection_does_not_depend_on_how_the_bytes_arrive() {
    // A gzip and a BOM'd array on stdin, one byte per write.
    let (doc, _) = report_stdin(bytes("bom.ndjson.gz"), 1);
    assert_eq!(doc["sources"][0]["format"], "ndjson");
    assert_eq!(doc["summary"]["events"], 3);
    let (doc, _) = report_stdin(bytes("bom-array.json"), 1);
    assert_eq!(doc["sources"][0]["format"], "json");
    assert_eq!(doc["summary"]["events"], 3);
    assert_eq!(doc["summary"]["rejected"], 0);
}

#[test]
fn fifos_and_process_substitution_lose_no_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["times.ndjson", "bom.ndjson.gz", "bom-members.zip"] {
        let fifo = dir.path().join("fifo");
        let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(made.success());
        let data = bytes(name);
        let path = fifo.clone();
        let writer = std::thread::spawn(move || std::fs::write(path, data));
        let out = report_cmd(&[&fifo.to_string_lossy()])
            .output()
            .expect("the binary runs");
        writer.join().expect("writer").expect("write to the FIFO");
        std::fs::remove_file(&fifo).expect("remove the FIFO");
        let doc = json(&out);
        let want = if name == "times.ndjson" { 10 } else { 3 };
        assert_eq!(doc["summary"]["events"], want, "{name}: {doc}");
        assert_eq!(doc["summary"]["rejected"], 0, "{name}");
    }
    // bash's <(…) is a pipe under /dev/fd.
    let script = format!(
        "{} report --format json <(cat {})",
        env!("CARGO_BIN_EXE_streamscope"),
        fixture("times.ndjson")
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash");
    assert_eq!(json(&out)["summary"]["events"], 10);
}

#[test]
fn a_nul_byte_in_the_first_line_rejects_that_line_only() {
    let (doc, code) = report(&["nul-first-line.ndjson"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["summary"]["events"], 3);
    assert_eq!(doc["summary"]["rejected"], 1);
    assert_eq!(doc["rejected_records"][0]["reason"], "invalid_json");
    assert!(
        doc["rejected_records"][0]["location"]
            .as_str()
            .is_some_and(|l| l.ends_with("nul-first-line.ndjson:1")),
        "{}",
        doc["rejected_records"][0]
    );
}

#[test]
fn deeply_nested_gzip_is_refused_with_a_clear_message() {
    let (doc, code) = report(&["nested.gz"]);
    assert_eq!(code, Some(1));
    assert_eq!(doc["sources"][0]["failed"], true);
    let p = problems(&doc, 0);
    assert!(p.contains("gzip nested more than 4 levels deep"), "{p}");
}

#[test]
fn a_malformed_array_element_is_one_rejection_and_the_next_elements_load() {
    // (fixture, line of the bad element)
    for (name, line) in [
        ("array-bad-one-line.json", 1),
        ("array-bad-multi-line.json", 9),
        ("array-of-bodies.json", 21),
    ] {
        let (doc, code) = report(&[name]);
        assert_eq!(code, Some(0), "{name}");
        assert_eq!(
            doc["summary"]["events"], 4,
            "{name}: {}",
            doc["rejected_records"]
        );
        assert_eq!(doc["summary"]["rejected"], 1, "{name}");
        let r = &doc["rejected_records"][0];
        assert_eq!(r["reason"], "invalid_json", "{name}");
        assert!(
            r["location"]
                .as_str()
                .is_some_and(|l| l.ends_with(&format!("{name}:{line} [1]"))),
            "{name}: {r}"
        );
    }
}

#[test]
fn a_record_over_the_size_limit_is_one_rejection_with_its_location_and_size() {
    // (fixture, events that load, location of the long record)
    for (name, events, location) in [
        ("long-record.ndjson", 3, "long-record.ndjson:2"),
        ("long-record.json", 2, "long-record.json:9 [1]"),
    ] {
        let out = report_cmd(&["--max-record-size", "1000", &fixture(name)])
            .output()
            .expect("the binary runs");
        let doc = json(&out);
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert_eq!(
            doc["summary"]["events"], events,
            "{name}: {}",
            doc["rejected_records"]
        );
        assert_eq!(doc["summary"]["rejected"], 1, "{name}");
        let r = &doc["rejected_records"][0];
        assert!(
            r["location"]
                .as_str()
                .is_some_and(|l| l.ends_with(location)),
            "{name}: {r}"
        );
        let message = r["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("over the record-size limit of 1000 bytes"),
            "{name}: {message}"
        );
    }
    // Under the default limit the same records load.
    let (doc, _) = report(&["long-record.ndjson"]);
    assert_eq!(doc["summary"]["events"], 4);
}

#[test]
fn a_gigantic_line_is_skipped_in_bounded_memory() {
    // One line of 1.5 GiB inside gzip inside gzip, then three events; the process may not
    // map more than 1 GiB.
    let out = Command::new("prlimit")
        .arg("--as=1073741824")
        .arg(env!("CARGO_BIN_EXE_streamscope"))
        .args(["report", "--format", "json", &fixture("bomb-line.gz")])
        .output()
        .expect("prlimit runs");
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["summary"]["events"], 3);
    assert_eq!(doc["summary"]["rejected"], 1);
    let message = doc["rejected_records"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains(&format!("the record is {} bytes", (96u64 << 24) + 17)),
        "{message}"
    );
}

#[test]
fn bidi_zero_width_and_c1_characters_never_reach_the_output_raw() {
    let raw = ['\u{202e}', '\u{200b}', '\u{2066}', '\u{2069}', '\u{9b}'];
    for format in ["json", "text"] {
        let out = Command::new(env!("CARGO_BIN_EXE_streamscope"))
            .args(["report", "--format", format, &fixture("invisible.ndjson")])
            .output()
            .expect("the binary runs");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        let err = String::from_utf8(out.stderr).expect("UTF-8");
        for c in raw {
            assert!(!text.contains(c), "{format}: raw {c:?} in {text}");
            assert!(!err.contains(c), "{format}: raw {c:?} in {err}");
        }
        if format == "json" {
            let doc: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(doc["summary"]["events"], 1);
            assert_eq!(doc["users"][0]["id"], "user\u{202e}nimda");
            assert!(text.contains(r"user\u202enimda"), "{text}");
        } else {
            assert!(text.contains(r"\u{202e}yesterday"), "{text}");
        }
    }
}

#[test]
fn utf16_text_is_refused_with_how_to_resave_it() {
    let (doc, code) = report(&["utf16.ndjson", "bom.ndjson"]);
    assert_eq!(code, Some(1));
    assert_eq!(doc["sources"][0]["failed"], true);
    let p = problems(&doc, 0);
    assert!(
        p.contains("is UTF-16 text") && p.contains("re-save it as UTF-8"),
        "{p}"
    );
    // The other source still loads.
    assert_eq!(doc["summary"]["events"], 3);
}

#[test]
fn macos_metadata_members_are_skipped_quietly_and_counted() {
    let (doc, code) = report(&["macos.zip"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["summary"]["events"], 3);
    assert_eq!(doc["summary"]["rejected"], 0);
    let p = problems(&doc, 0);
    assert!(!p.contains("binary"), "{p}");
    assert!(p.contains("skipped 2 macOS metadata member(s)"), "{p}");
}

#[test]
fn an_api_error_body_is_a_source_failure_that_says_what_it_is() {
    let (doc, code) = report(&["api-error.zip"]);
    assert_eq!(code, Some(1));
    assert_eq!(doc["sources"][0]["failed"], true);
    assert_eq!(doc["summary"]["rejected"], 0);
    let p = problems(&doc, 0);
    assert!(
        p.contains("an Amplitude API error response (HTTP 403: Invalid API key)"),
        "{p}"
    );
}

#[test]
fn airbyte_record_messages_unwrap_to_their_event() {
    let (doc, code) = report(&["airbyte.ndjson"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["summary"]["events"], 3, "{}", doc["rejected_records"]);
    assert_eq!(doc["summary"]["users"], 3);
    // The STATE message is no event.
    assert_eq!(doc["summary"]["rejected"], 1);
    assert_eq!(doc["rejected_records"][0]["reason"], "missing_event_type");
}

mod arbitrary_bytes {
    //! Arbitrary bytes through every container never panic, and a valid record after a
    //! bad one always loads.

    use std::io::Write;

    use proptest::prelude::*;
    use streamscope::source::{LoadOptions, load_all};

    const VALID: &[u8] = br#"{"event_type":"ok","user_id":"u","time":1761901200000}"#;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("in memory");
        gz.finish().expect("in memory")
    }

    fn zip(data: &[u8]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        z.start_file("a/m.json", zip::write::SimpleFileOptions::default())
            .expect("in memory");
        z.write_all(data).expect("in memory");
        z.finish().expect("in memory").into_inner()
    }

    /// (events, rejected, any source failed) of `bytes` in a file of each container.
    fn load_each(bytes: &[u8]) -> Vec<(&'static str, usize, u64, bool)> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut out = Vec::new();
        for (name, data) in [
            ("plain", bytes.to_vec()),
            ("gzip", gzip(bytes)),
            ("zip", zip(bytes)),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, data).expect("write");
            let store = load_all(
                &[path.to_string_lossy().into_owned()],
                &LoadOptions::default(),
            );
            out.push((
                name,
                store.events().len(),
                store.rejects.len() as u64,
                store.any_failed(),
            ));
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            load_each(&bytes);
        }

        #[test]
        fn a_valid_record_after_a_bad_one_loads(
            bad in proptest::collection::vec(any::<u8>().prop_filter("one line", |b| *b != b'\n'), 1..200)
        ) {
            let mut input = VALID.to_vec();
            input.push(b'\n');
            input.extend_from_slice(&bad);
            input.push(b'\n');
            input.extend_from_slice(VALID);
            input.push(b'\n');
            for (name, events, _, failed) in load_each(&input) {
                prop_assert!(events >= 2, "{name}: {events} events");
                prop_assert!(!failed, "{name}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]

        #[test]
        fn the_same_through_stdin_and_a_fifo(
            bad in proptest::collection::vec(any::<u8>().prop_filter("one line", |b| *b != b'\n'), 1..200)
        ) {
            let mut input = VALID.to_vec();
            input.push(b'\n');
            input.extend_from_slice(&bad);
            input.push(b'\n');
            input.extend_from_slice(VALID);
            input.push(b'\n');
            let (doc, code) = super::report_stdin(input.clone(), 1 << 12);
            prop_assert_eq!(code, Some(0));
            prop_assert_eq!(&doc["summary"]["events"], 2);
            let dir = tempfile::tempdir().expect("temp dir");
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
            prop_assert!(made.success());
            let path = fifo.clone();
            let writer = std::thread::spawn(move || std::fs::write(path, input));
            let out = super::report_cmd(&[&fifo.to_string_lossy()]).output().expect("runs");
            writer.join().expect("writer").expect("write");
            let doc = super::json(&out);
            prop_assert_eq!(&doc["summary"]["events"], 2);
        }
    }
}

#[test]
fn streamed_and_zip64_archives_recover_every_complete_member() {
    // (fixture, events, whether the archive is cut)
    for (name, events, cut) in [
        ("streamed.zip", 3, false),
        ("streamed-truncated.zip", 2, true),
        ("streamed-zip64.zip", 3, false),
        ("streamed-zip64-truncated.zip", 2, true),
    ] {
        let (doc, code) = report(&[name]);
        assert_eq!(code, Some(0), "{name}");
        assert_eq!(doc["sources"][0]["format"], "zip", "{name}");
        assert_eq!(
            doc["summary"]["events"],
            events,
            "{name}: {}",
            problems(&doc, 0)
        );
        assert_eq!(doc["summary"]["rejected"], 0, "{name}");
        assert_eq!(
            problems(&doc, 0).contains("export/2.json.gz"),
            cut,
            "{name}: {}",
            problems(&doc, 0)
        );
    }
}

#[test]
fn a_file_whose_records_all_fail_the_same_way_says_what_it_looks_like() {
    let (doc, code) = report(&["not-events.ndjson"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["summary"]["rejected"], 4);
    let p = problems(&doc, 0);
    assert!(
        p.contains("all 4 records were rejected as missing_event_type: this looks like JSON objects without an 'event_type'"),
        "{p}"
    );
}

#[test]
fn legacy_amplitude_js_form_bodies_decode_as_in_listen() {
    let (doc, code) = report(&["legacy-form.txt"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["summary"]["events"], 3, "{}", doc["rejected_records"]);
    assert_eq!(doc["summary"]["rejected"], 0);
    assert_eq!(doc["summary"]["users"], 3);
}
