//! One fixture per container (tests/fixtures/containers, made by make.py there): each
//! holds the same five events, so every container must give the same figures.

use std::path::PathBuf;

use streamscope::analysis::{Analysis, Flag, Rules};
use streamscope::source::{LoadOptions, load_all};
use streamscope::store::EventStore;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn load(name: &str) -> (EventStore, Analysis) {
    let store = load_all(&[fixture(name)], &LoadOptions::default());
    let analysis = Analysis::compute(&store, &Rules::default());
    (store, analysis)
}

#[test]
fn every_container_gives_the_same_stream() {
    // (fixture, detected format, rejected records)
    let cases = [
        ("containers/events.ndjson", "ndjson", 1),
        ("containers/array.json", "json", 0),
        ("containers/body.json", "json", 0),
        ("containers/bodies.ndjson", "ndjson", 0),
        ("containers/user_activity.json", "ndjson", 0),
        ("containers/events.ndjson.gz", "ndjson", 0),
        ("containers/export.zip", "zip", 0),
    ];
    for (name, format, rejected) in cases {
        let (store, a) = load(name);
        let s = &a.summary;
        assert_eq!(store.sources[0].format, Some(format), "{name}");
        assert_eq!(s.events, 5, "{name}: {:?}", store.rejects);
        assert_eq!(s.rejected, rejected, "{name}");
        assert_eq!(s.users, 1, "{name}");
        assert_eq!(s.sessions, 2, "{name}");
        assert_eq!(s.counts[Flag::NoSession], 1, "{name}");
        assert!(
            !store.any_failed(),
            "{name}: {:?}",
            store.sources[0].problems
        );
        assert!(store.sources[0].problems.is_empty(), "{name}");
    }
}

#[test]
fn bad_lines_are_located_and_the_rest_loads() {
    let (store, _) = load("containers/events.ndjson");
    let r = &store.rejects[0];
    assert!(
        store.describe(&r.loc).ends_with("events.ndjson:4"),
        "{}",
        store.describe(&r.loc)
    );
    assert_eq!(r.reason.code(), "invalid_json");
}

#[test]
fn zip_members_are_named_in_locations() {
    let (store, _) = load("containers/export.zip");
    assert_eq!(
        store.sources[0].member_names,
        [
            "123456/123456_2025-10-31_9#0.json.gz",
            "123456/123456_2025-10-31_10#0.json.gz"
        ]
    );
}

#[test]
fn a_truncated_gzip_keeps_what_was_decoded_and_reports_the_damage() {
    let (store, a) = load("containers/truncated.ndjson.gz");
    assert!(a.summary.events > 0);
    assert!(!store.any_failed());
    let problems = store.sources[0].problems.join("\n");
    assert!(problems.contains("damaged or truncated"), "{problems}");
}

#[test]
fn a_truncated_zip_keeps_its_whole_members_and_reports_the_damage() {
    let (store, a) = load("containers/truncated.zip");
    assert!(a.summary.events >= 3, "{:?}", store.sources[0].problems);
    assert!(!store.any_failed());
    let problems = store.sources[0].problems.join("\n");
    assert!(
        problems.contains("zip directory cannot be read"),
        "{problems}"
    );
}

#[test]
fn unreadable_sources_fail_with_a_message_and_others_still_load() {
    let store = load_all(
        &[
            fixture("containers/binary.png"),
            fixture("containers/missing.ndjson"),
            fixture("containers"),
            fixture("containers/events.ndjson"),
        ],
        &LoadOptions::default(),
    );
    let failed: Vec<bool> = store.sources.iter().map(|s| s.failed).collect();
    assert_eq!(failed, [true, true, true, false]);
    assert!(store.sources[0].problems[0].contains("binary data"));
    assert!(store.sources[1].problems[0].contains("cannot open"));
    assert!(store.sources[2].problems[0].contains("is a directory"));
    assert_eq!(store.events().len(), 5);
}

#[test]
fn an_empty_file_is_an_empty_stream() {
    let (store, a) = load("containers/empty.ndjson");
    assert_eq!(a.summary.events, 0);
    assert!(!store.any_failed());
}

#[test]
fn several_sources_are_one_stream() {
    let store = load_all(
        &[
            fixture("containers/array.json"),
            fixture("containers/export.zip"),
        ],
        &LoadOptions::default(),
    );
    let a = Analysis::compute(&store, &Rules::default());
    assert_eq!(a.summary.events, 10);
    assert_eq!(a.summary.sessions, 2);
    assert_eq!(a.summary.counts[Flag::Duplicate], 5);
}

#[test]
fn bodies_captured_from_the_official_sdks_load() {
    // (capture, events)
    let cases = [
        ("real-sdk/node-track-identify.json", 4),
        ("real-sdk/python-track.json", 4),
        ("real-sdk/node-batch-flushqueuesize2.json", 5),
        ("real-sdk/browser-sessions.json", 9),
        ("real-sdk/browser-gzip-request.json.gz", 25),
    ];
    for (name, events) in cases {
        let (store, a) = load(name);
        assert_eq!(a.summary.events, events, "{name}: {:?}", store.rejects);
        assert_eq!(a.summary.rejected, 0, "{name}");
    }
    // The browser's third request holds session_end of the old session and
    // session_start of the new one: two recorded sessions.
    let (_, a) = load("real-sdk/browser-sessions.json");
    assert_eq!(a.summary.sessions, 2);
    assert_eq!(a.summary.counts[Flag::Unterminated], 0);
}
