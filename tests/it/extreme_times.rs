//! Times and session ids anywhere in the `i64` range go through decode → analysis → report
//! (text and JSON) → every TUI view without a panic (issue 11: one request with times
//! ±9223372036854775807 took the endpoint down through the inspector).

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use crossterm::event::KeyCode;
use proptest::prelude::*;
use streamscope::analysis::{Analysis, Rules};
use streamscope::report::{Format, Output};

use crate::tui_support::{app_of, draw, key, press, settle, store_of};

fn extreme() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MIN + 1),
        Just(-i64::MAX),
        Just(i64::MAX),
        Just(i64::MAX - 1),
        Just(-1),
        Just(0),
        Just(1),
        Just(1_795_400_000_000),
        any::<i64>(),
    ]
}

fn event() -> impl Strategy<Value = String> {
    let types = prop_oneof![
        Just("a"),
        Just("session_start"),
        Just("session_end"),
        Just("$identify"),
        Just("[Amplitude] Application Backgrounded"),
        Just("[Amplitude] Application Opened"),
    ];
    (types, 0u8..3, extreme(), extreme(), any::<bool>()).prop_map(|(t, user, time, session, dup)| {
        let insert = if dup { r#","insert_id":"same""# } else { "" };
        format!(
            r#"{{"event_type":"{t}","user_id":"user-{user}","device_id":"device-{user}","time":{time},"session_id":{session}{insert}}}"#
        )
    })
}

/// Draws every view of the inspector, moving and zooming in each.
fn every_view(path: &str) {
    let mut app = app_of(path);
    settle(&mut app);
    let keys: &[&dyn Fn(&mut streamscope::tui::app::App)] = &[
        &|a| press(a, 'e'),
        &|a| key(a, KeyCode::Tab),
        &|a| press(a, '+'),
        &|a| press(a, '+'),
        &|a| press(a, 'h'),
        &|a| press(a, 'l'),
        &|a| press(a, '-'),
        &|a| press(a, '0'),
        &|a| press(a, '}'),
        &|a| press(a, '{'),
        &|a| key(a, KeyCode::Tab),
        &|a| press(a, 'o'),
        &|a| key(a, KeyCode::Enter),
        &|a| key(a, KeyCode::Esc),
        &|a| press(a, 'r'),
        &|a| press(a, 't'),
        &|a| press(a, 'z'),
        &|a| press(a, 'r'),
        &|a| press(a, 'G'),
        &|a| press(a, '?'),
        &|a| key(a, KeyCode::Esc),
        &|a| press(a, '!'),
        &|a| key(a, KeyCode::Esc),
    ];
    draw(&mut app, 120, 40);
    for k in keys {
        k(&mut app);
        settle(&mut app);
        draw(&mut app, 120, 40);
        draw(&mut app, 50, 16);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn extreme_times_and_session_ids_never_panic(events in proptest::collection::vec(event(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extreme.ndjson");
        std::fs::write(&path, events.join("\n") + "\n").unwrap();
        let path = path.to_str().unwrap();
        let store = store_of(path);
        prop_assert_eq!(store.events().len(), events.len());
        let analysis = Analysis::compute(&store, &Rules::default());
        for format in [Format::Text, Format::Json] {
            let mut out = Vec::new();
            let output = Output { format, ..Output::default() };
            streamscope::report::write(&store, &analysis, &output, None, &mut out).unwrap();
            if format == Format::Json {
                let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
                for s in v["users"].as_array().into_iter().flatten().flat_map(|u| u["sessions"].as_array().into_iter().flatten()) {
                    for k in ["length_ms", "span_ms"] {
                        if let Some(n) = s[k].as_i64() {
                            prop_assert!(n >= 0 || k == "length_ms", "{} {} in {}", k, n, s);
                        }
                    }
                }
            }
        }
        every_view(path);
    }
}

#[test]
fn the_issues_two_events_report_and_render() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.ndjson");
    std::fs::write(
        &path,
        "{\"event_type\":\"a\",\"user_id\":\"u1\",\"time\":-9223372036854775807,\"session_id\":1}\n{\"event_type\":\"a\",\"user_id\":\"u1\",\"time\":9223372036854775807,\"session_id\":1}\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let store = store_of(path);
    let analysis = Analysis::compute(&store, &Rules::default());
    let mut out = Vec::new();
    let output = Output {
        format: Format::Json,
        ..Output::default()
    };
    streamscope::report::write(&store, &analysis, &output, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("\"span_ms\":-"), "no wrapped span: {text}");
    every_view(path);
}
