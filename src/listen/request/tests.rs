//! Table-driven tests of the endpoint's decisions, one row per documented answer.

use super::*;

const NOW: i64 = 1_795_000_000_000;

fn run(body: &str) -> Outcome {
    check(
        body.as_bytes(),
        Endpoint::HttpApi,
        &Settings::default(),
        NOW,
    )
}

fn answer_json(o: &Outcome) -> serde_json::Value {
    serde_json::from_str(&o.answer.to_json()).unwrap()
}

const GOOD: &str = r#"{"event_type":"a","user_id":"user-1","time":1000,"insert_id":"i-1"}"#;

#[test]
fn documented_answers() {
    // (what, body, status, expected answer fields (subset), accepted events)
    let big = format!(
        r#"{{"api_key":"k","events":[{}]}}"#,
        vec![GOOD; MAX_EVENTS + 1].join(",")
    );
    let cases: Vec<(&str, String, u16, serde_json::Value, usize)> = vec![
        (
            "valid request",
            format!(r#"{{"api_key":"k","events":[{GOOD},{GOOD}]}}"#),
            200,
            serde_json::json!({"code":200,"events_ingested":2,"server_upload_time":NOW}),
            2,
        ),
        (
            "invalid JSON",
            r#"{"api_key":"k","events":[{"#.into(),
            400,
            serde_json::json!({"code":400,"error":"Invalid JSON request body"}),
            0,
        ),
        (
            "not an object",
            "[1,2]".into(),
            400,
            serde_json::json!({"code":400,"error":"Invalid JSON request body"}),
            0,
        ),
        (
            "missing api_key",
            format!(r#"{{"events":[{GOOD}]}}"#),
            400,
            serde_json::json!({"code":400,"missing_field":"api_key"}),
            0,
        ),
        (
            "empty api_key",
            format!(r#"{{"api_key":"","events":[{GOOD}]}}"#),
            400,
            serde_json::json!({"code":400,"missing_field":"api_key"}),
            0,
        ),
        (
            "missing events",
            r#"{"api_key":"k"}"#.into(),
            400,
            serde_json::json!({"code":400,"missing_field":"events"}),
            0,
        ),
        (
            "event without event_type, event without identity, the rest kept",
            format!(
                r#"{{"api_key":"k","events":[{GOOD},{{"user_id":"user-1","time":1}},{{"event_type":"b","time":1}}]}}"#
            ),
            400,
            serde_json::json!({"code":400,"error":"Request missing required field",
                "events_with_missing_fields":{"event_type":[1],"device_id":[2]}}),
            1,
        ),
        (
            "invalid fields",
            format!(
                r#"{{"api_key":"k","events":[{{"event_type":"a","device_id":"device-1","time":"soon"}},{GOOD},{{"event_type":"a","device_id":"device-1","session_id":1.5}},{{"event_type":3,"device_id":"device-1"}},{{"event_type":"a","device_id":"device-1","event_properties":[]}},7]}}"#
            ),
            400,
            serde_json::json!({"code":400,"error":"Invalid field values on some events",
                "events_with_invalid_fields":{"time":[0],"session_id":[2],"event_type":[3],"event_properties":[4],"event":[5]}}),
            1,
        ),
        (
            "ids shorter than min_id_length",
            format!(
                r#"{{"api_key":"k","events":[{{"event_type":"a","user_id":"abc","time":1}},{GOOD},{{"event_type":"a","device_id":"d","time":1}}]}}"#
            ),
            400,
            serde_json::json!({"code":400,"error":"Invalid id length for user_id or device_id",
                "events_with_invalid_id_lengths":{"user_id":[0],"device_id":[2]}}),
            1,
        ),
        (
            "min_id_length from the request's options",
            r#"{"api_key":"k","options":{"min_id_length":1},"events":[{"event_type":"a","user_id":"ab","time":1}]}"#.into(),
            200,
            serde_json::json!({"code":200,"events_ingested":1}),
            1,
        ),
        (
            "too many events",
            big,
            413,
            serde_json::json!({"code":413,"error":"Payload too large"}),
            0,
        ),
    ];
    for (what, body, status, expected, accepted) in cases {
        let o = run(&body);
        assert_eq!(o.status(), status, "{what}: {}", o.answer.to_json());
        let got = answer_json(&o);
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(&got[k], v, "{what}: field {k} of {got}");
        }
        assert_eq!(o.accepted(), accepted, "{what}");
        if status != 200 {
            assert!(!o.reasons.is_empty(), "{what}: no reason given");
        }
    }
}

#[test]
fn over_the_size_limit_is_413_per_endpoint() {
    let body = vec![b' '; 1_000_001];
    let s = Settings::default();
    assert_eq!(check(&body, Endpoint::HttpApi, &s, NOW).status(), 413);
    assert_eq!(check(&body, Endpoint::Batch, &s, NOW).status(), 400); // spaces: not JSON
}

#[test]
fn api_key_allow_list() {
    let s = Settings {
        api_keys: vec!["good-key".into()],
        ..Settings::default()
    };
    let body = |k: &str| format!(r#"{{"api_key":"{k}","events":[{GOOD}]}}"#);
    let bad = check(body("other").as_bytes(), Endpoint::HttpApi, &s, NOW);
    assert_eq!(bad.status(), 400);
    let err = bad.answer.error.clone().unwrap();
    assert!(err.starts_with("Invalid API key"), "{err}");
    assert!(!err.contains("other"), "the key is echoed: {err}");
    assert_eq!(bad.accepted(), 0);
    let good = check(body("good-key").as_bytes(), Endpoint::HttpApi, &s, NOW);
    assert_eq!(good.status(), 200);
}

#[test]
fn capture_lines_keep_the_event_text_and_add_the_receive_time() {
    let body = "{\"api_key\":\"k\",\"events\":[\n  {\"event_type\": \"a\",\n   \"user_id\": \"user-1\", \"time\": 5},\n  {\"event_type\":\"b\",\"device_id\":\"device-1\"}\n]}";
    let o = run(body);
    assert_eq!(o.status(), 200);
    let text = String::from_utf8(o.capture.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["time"], 5);
    assert_eq!(first["server_received_time"], received_time(NOW));
    assert!(lines[0].starts_with("{\"event_type\": \"a\",    \"user_id\""));
    // No time: the receive time is the event time, as Amplitude does.
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["time"], NOW);
    assert_eq!(
        &o.capture[o.lines[1].range.clone()],
        format!("{}\n", lines[1]).as_bytes()
    );
    // Lines decode as events under the session model.
    let mut store = crate::store::EventStore::new();
    let src = store.add_source("capture");
    let mut feed = crate::source::feed::LineFeed::new(src, 0, 0, 0, false);
    store.apply(feed.push(&o.capture).unwrap());
    assert_eq!(store.events().len(), 2);
    assert_eq!(store.rejected(), 0);
}

#[test]
fn the_receive_time_is_added_only_without_any_time_field_of_the_contract() {
    // (event time fields, the `time` the capture line gets)
    let cases: [(&str, Option<i64>); 5] = [
        ("", Some(NOW)),
        (r#","time":5"#, Some(5)),
        (r#","timestamp":1700000000000"#, None),
        (r#","client_event_time":"2023-11-14 22:13:20.000""#, None),
        (r#","event_time":"2023-11-14 22:13:20""#, None),
    ];
    for (fields, want) in cases {
        let body = format!(
            r#"{{"api_key":"k","events":[{{"event_type":"a","user_id":"user-1"{fields}}}]}}"#
        );
        let o = run(&body);
        assert_eq!(o.status(), 200, "{fields}");
        let line: serde_json::Value =
            serde_json::from_slice(o.capture.strip_suffix(b"\n").unwrap()).unwrap();
        assert_eq!(line["time"].as_i64(), want, "{fields}");
    }
}

#[test]
fn dedup_keys_are_the_decoders_with_the_device() {
    let o = run(&format!(
        r#"{{"api_key":"k","events":[{GOOD},{{"event_type":"a","user_id":"user-1","time":1,"insert_id":"i\u002d1"}},{{"event_type":"a","device_id":"device-1","time":1,"$insert_id":"i-1"}}]}}"#
    ));
    let mut store = crate::store::EventStore::new();
    let src = store.add_source("capture");
    let mut feed = crate::source::feed::LineFeed::new(src, 0, 0, 0, false);
    store.apply(feed.push(&o.capture).unwrap());
    assert_eq!(store.events().len(), 3);
    for (line, ev) in o.lines.iter().zip(store.events()) {
        let d = line.dedup.unwrap();
        let device = store.strings.get(store.ids(ev).device_id);
        assert_eq!(d.key, dedup_key(device, ev.dedup));
        assert_eq!(d.time, ev.time);
    }
    let keys: Vec<u128> = o.lines.iter().map(|l| l.dedup.unwrap().key).collect();
    assert_eq!(keys[0], keys[1], "escapes are decoded");
    assert_ne!(keys[0], keys[2], "another device is another event");
}

#[test]
fn an_event_the_decoder_would_reject_is_listed_and_not_acknowledged() {
    // (what, event, the answer's list, field)
    let cases = [
        (
            "time beyond i64",
            r#"{"event_type":"a","user_id":"user-1","time":99999999999999999999}"#,
            "events_with_invalid_fields",
            "time",
        ),
        (
            "a bad client_event_time next to a valid time",
            r#"{"event_type":"a","user_id":"user-1","time":1000,"client_event_time":"yesterday"}"#,
            "events_with_invalid_fields",
            "client_event_time",
        ),
        (
            "a fractional client_event_time, time absent",
            r#"{"event_type":"a","user_id":"user-1","client_event_time":1.5}"#,
            "events_with_invalid_fields",
            "client_event_time",
        ),
        (
            "an escaped key read as the decoder reads it",
            r#"{"event_type":"a","user_id":"user-1","\u0074ime":"x"}"#,
            "events_with_invalid_fields",
            "time",
        ),
    ];
    for (what, event, list, field) in cases {
        let o = run(&format!(r#"{{"api_key":"k","events":[{GOOD},{event}]}}"#));
        let a = answer_json(&o);
        assert_eq!(a["code"], 400, "{what}: {a}");
        assert_eq!(a[list][field], serde_json::json!([1]), "{what}: {a}");
        assert_eq!(o.accepted(), 1, "{what}: the valid event is kept");
        // What was kept is exactly what the decoder accepts.
        let mut store = crate::store::EventStore::new();
        let src = store.add_source("capture");
        let mut feed = crate::source::feed::LineFeed::new(src, 0, 0, 0, false);
        store.apply(feed.push(&o.capture).unwrap());
        assert_eq!((store.events().len(), store.rejected()), (1, 0), "{what}");
    }
}

#[test]
fn every_acknowledged_event_is_decoded() {
    use proptest::prelude::*;
    let value = prop_oneof![
        Just("1000".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("9223372036854775807".to_string()),
        Just("1.5".to_string()),
        Just(r#""2026-11-23T20:00:00Z""#.to_string()),
        Just(r#""2026-13-40""#.to_string()),
        Just(r#""123""#.to_string()),
        Just(r#""""#.to_string()),
        Just("null".to_string()),
        Just("{}".to_string()),
    ];
    let field = prop_oneof![
        Just("time"),
        Just("client_event_time"),
        Just("timestamp"),
        Just("event_time"),
        Just("session_id"),
        Just("insert_id"),
        Just("amplitude_id"),
    ];
    let fields = proptest::collection::vec((field, value), 0..5);
    proptest!(ProptestConfig::with_cases(300), |(fields in fields)| {
        let extra: String = fields.iter().map(|(k, v)| format!(r#","{k}":{v}"#)).collect();
        let body = format!(
            r#"{{"api_key":"k","events":[{{"event_type":"a","user_id":"user-1"{extra}}}]}}"#
        );
        let o = run(&body);
        let mut store = crate::store::EventStore::new();
        let src = store.add_source("capture");
        let mut feed = crate::source::feed::LineFeed::new(src, 0, 0, 0, false);
        if let Some(ev) = feed.push(&o.capture) {
            store.apply(ev);
        }
        prop_assert_eq!(store.events().len(), o.accepted(), "{}", body);
        prop_assert_eq!(store.rejected(), 0);
        prop_assert_eq!(o.status() == 200, o.accepted() == 1, "{}", body);
    });
}

#[test]
fn legacy_form_body() {
    let events = format!("[{GOOD}]");
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client", "k")
        .append_pair("e", &events)
        .append_pair("v", "2")
        .append_pair("upload_time", "1700000000000")
        .append_pair("checksum", "abc")
        .finish();
    let o = check(body.as_bytes(), Endpoint::Form, &Settings::default(), NOW);
    assert_eq!(o.status(), 200, "{}", o.answer.to_json());
    assert_eq!(o.accepted(), 1);
    let no_client = check(b"e=%5B%5D", Endpoint::Form, &Settings::default(), NOW);
    assert_eq!(no_client.answer.missing_field, Some("api_key"));
}

#[test]
fn endpoints_by_path() {
    assert_eq!(Endpoint::from_path("/2/httpapi"), Some(Endpoint::HttpApi));
    assert_eq!(Endpoint::from_path("/2/httpapi/"), Some(Endpoint::HttpApi));
    assert_eq!(Endpoint::from_path("/batch"), Some(Endpoint::Batch));
    assert_eq!(Endpoint::from_path("/"), Some(Endpoint::Form));
    assert_eq!(Endpoint::from_path("/other"), None);
    assert_eq!(Endpoint::Batch.max_bytes(), 20_000_000);
}

#[test]
fn real_sdk_bodies_are_accepted_whole() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-sdk");
    let mut checked = 0;
    for name in ["node-track-identify.json", "python-track.json"] {
        let Ok(text) = std::fs::read(dir.join(name)) else {
            continue;
        };
        // The fixtures hold one body, or an array of bodies.
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        let bodies = match v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        for b in bodies {
            let o = run(&b.to_string());
            assert_eq!(o.status(), 200, "{name}: {}", o.answer.to_json());
            assert_eq!(o.accepted(), b["events"].as_array().unwrap().len());
            checked += 1;
        }
    }
    assert!(checked >= 2, "no SDK fixture found");
}

#[test]
fn api_keys_are_redacted_in_kept_bodies() {
    // (what, body, redacted)
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "JSON, a long key keeps 4 characters",
            br#"{"events":[],"api_key":"abcdefgh12345678"}"#,
            r#"{"events":[],"api_key":"abcd…"}"#,
        ),
        (
            "JSON, a short key is hidden whole",
            br#"{"events":[],"api_key":"abcdefgh123"}"#,
            r#"{"events":[],"api_key":"…"}"#,
        ),
        (
            "a key of 4 characters",
            br#"{"api_key":"k123"}"#,
            r#"{"api_key":"…"}"#,
        ),
        (
            "broken JSON before the key",
            br#"{"events":[1,],"api_key":"SECRETKEY123456"}"#,
            r#"{"events":[1,],"api_key":"…"}"#,
        ),
        (
            "a BOM before the body",
            b"\xef\xbb\xbf{\"api_key\":\"SECRETKEY123456\",\"events\":[]}",
            "\u{feff}{\"api_key\":\"…\",\"events\":[]}",
        ),
        (
            "a duplicated api_key",
            br#"{"api_key":"SECRETKEY1234567890","events":[],"api_key":"OTHERKEY12"}"#,
            r#"{"api_key":"SECR…","events":[],"api_key":"…"}"#,
        ),
        (
            "an escaped name and an escaped quote in the key",
            br#"{"api\u005fkey" : "SECRET\"KEY"}"#,
            r#"{"api\u005fkey" : "…"}"#,
        ),
        (
            "a form with a percent-encoded name",
            b"cli%65nt=SECRETKEY123456&e=%5B%5D",
            "cli%65nt=…&e=%5B%5D",
        ),
        (
            "a form with the key percent-encoded",
            b"v=2&client=%53ECRETKEY123456789&e=%5B%5D",
            "v=2&client=…&e=%5B%5D",
        ),
        (
            "a JSON body url-encoded in a form field",
            b"e=%7B%22api%5Fkey%22%3A%22SECRETKEY123456%22%7D",
            "e=%7B%22api%5Fkey%22%3A%22…%22%7D",
        ),
        (
            "JSON inside a JSON string",
            br#"{"note":"{\"api_key\":\"SECRETKEY123456\"}"}"#,
            r#"{"note":"{\"api_key\":\"…\"}"}"#,
        ),
        (
            "unquoted, upper case",
            b"{API_KEY: SECRETKEY123456, x: 1}",
            "{API_KEY: …, x: 1}",
        ),
        (
            "cut off in the key",
            br#"{"api_key":"SECRETKE"#,
            r#"{"api_key":"…"#,
        ),
        ("not a key", b"not json", "not json"),
        (
            "a name that only starts like one",
            br#"{"client_event_time":1,"api_keys":2}"#,
            r#"{"client_event_time":1,"api_keys":2}"#,
        ),
    ];
    for (what, body, want) in cases {
        let got = String::from_utf8_lossy(&redact_api_key(body)).into_owned();
        assert_eq!(&got, want, "{what}");
    }
}

#[test]
fn no_encoding_of_a_key_name_leaks_the_key() {
    use proptest::prelude::*;
    // Each character of a name: plain, JSON-escaped, percent-encoded, or both.
    fn encode(name: &str, how: &[u8]) -> String {
        name.bytes()
            .zip(how.iter().cycle())
            .map(|(b, h)| match h % 4 {
                0 => char::from(b).to_string(),
                1 => format!("\\u{b:04x}"),
                2 => format!("%{b:02X}"),
                _ => format!("%5Cu{b:04x}"),
            })
            .collect()
    }
    // Keys use G-Z only: letters no encoding (hex digits) and no template text contains.
    let key = "[G-Z]{1,40}";
    let how = proptest::collection::vec(any::<u8>(), 1..8);
    proptest!(ProptestConfig::with_cases(500), |(key in key, how in how, shape in 0usize..6, bom in any::<bool>())| {
        let api_key = encode("api_key", &how);
        let client = encode("client", &how);
        let body = match shape {
            0 => format!(r#"{{"events":[1,],"{api_key}":"{key}"}}"#),
            1 => format!(r#"{{"{api_key}" : "{key}","events":[],"{api_key}":"{key}"}}"#),
            2 => format!("{client}={key}&e=%5b%5d"),
            3 => format!("v=2&{client}%3d{key}"),
            4 => format!(r#"{{"{api_key}":{key}}}"#),
            _ => format!(r#"e=%7b%22{api_key}%22%3a%22{key}%22%7d"#),
        };
        let body = if bom { format!("\u{feff}{body}") } else { body };
        let out = redact_api_key(body.as_bytes());
        let shown = out.iter().filter(|b| (b'G'..=b'Z').contains(b)).count();
        if key.len() < 16 {
            prop_assert_eq!(shown, 0, "{} -> {}", body, String::from_utf8_lossy(&out));
        } else {
            prop_assert!(shown <= 8, "{} -> {}", body, String::from_utf8_lossy(&out));
            prop_assert!(!out.windows(key.len()).any(|w| w == key.as_bytes()));
        }
    });
}

fn form(events: &str) -> Outcome {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client", "k")
        .append_pair("e", events)
        .append_pair("v", "2")
        .finish();
    check(body.as_bytes(), Endpoint::Form, &Settings::default(), NOW)
}

#[test]
fn a_legacy_form_batch_has_no_min_id_length_and_is_accepted_or_refused_whole() {
    // A 2-character user id: the HTTP V2 rule does not apply to the legacy endpoint.
    let short =
        form(r#"[{"event_type":"a","user_id":"42","timestamp":1700000000000,"uuid":"u-1"}]"#);
    assert_eq!(short.status(), 200);
    assert_eq!(short.accepted(), 1);
    // One bad event refuses the whole batch: nothing of it is kept.
    let mixed = form(
        r#"[{"event_type":"a","user_id":"user-1","timestamp":1700000000000,"uuid":"u-2"},{"user_id":"user-1","timestamp":1700000000001,"uuid":"u-3"}]"#,
    );
    assert_eq!(mixed.status(), 400);
    assert_eq!(mixed.accepted(), 0);
    assert!(mixed.capture.is_empty());
}
