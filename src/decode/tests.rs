//! Table-driven tests of §1: rejection rules in order, field forms, body expansion.

use super::*;
use crate::event::Location;

fn decode_line(line: &str) -> Batch {
    let mut batch = Batch::default();
    let origin = Origin {
        loc: Location {
            line: 1,
            ..Location::default()
        },
        ..Origin::default()
    };
    let mut decoder = Decoder::new(true);
    decoder.line(&mut batch, line.as_bytes(), &origin);
    decoder.seal(&mut batch);
    batch
}

/// The session id of event `i` of a batch.
fn session(b: &Batch, i: usize) -> Option<i64> {
    b.events[i].session_id(u32::try_from(i).unwrap(), &b.far_sessions)
}

/// The value hash of the `user_properties` of event `i` of a sealed batch.
fn props_hash(b: &Batch, i: usize) -> u64 {
    let id = b.events[i].props_id() - b.dict.props_base;
    b.dict.props[id as usize]
}

fn reject_code(line: &str) -> Option<&'static str> {
    let b = decode_line(line);
    b.rejects.first().map(|r| r.reason.code())
}

#[test]
fn rejection_rules_apply_in_order() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "valid event",
            r#"{"event_type":"a","user_id":"u","time":1}"#,
            None,
        ),
        (
            "NaN is not JSON",
            r#"{"event_type":"a","user_id":"u","time":NaN}"#,
            Some("invalid_json"),
        ),
        (
            "Infinity is not JSON",
            r#"{"event_type":"a","user_id":"u","time":Infinity}"#,
            Some("invalid_json"),
        ),
        (
            "two values on one line",
            r#"{"event_type":"a","user_id":"u","time":1} {}"#,
            Some("invalid_json"),
        ),
        (
            "trailing comma",
            r#"{"event_type":"a","user_id":"u","time":1,}"#,
            Some("invalid_json"),
        ),
        (
            "an array is not an object",
            r#"[{"event_type":"a"}]"#,
            Some("not_object"),
        ),
        (
            "a string is not an object",
            r#""event""#,
            Some("not_object"),
        ),
        (
            "an array followed by more is invalid JSON, not an array",
            r#"[]{"event_type":"a","user_id":"u","time":1}"#,
            Some("invalid_json"),
        ),
        (
            "invalid JSON beats missing event_type",
            r#"{"user_id":"u" "time":1}"#,
            Some("invalid_json"),
        ),
        (
            "missing event_type",
            r#"{"user_id":"u","time":1}"#,
            Some("missing_event_type"),
        ),
        (
            "null event_type",
            r#"{"event_type":null,"user_id":"u","time":1}"#,
            Some("missing_event_type"),
        ),
        (
            "empty event_type",
            r#"{"event_type":"","user_id":"u","time":1}"#,
            Some("missing_event_type"),
        ),
        (
            "numeric event_type",
            r#"{"event_type":5,"user_id":"u","time":1}"#,
            Some("missing_event_type"),
        ),
        (
            "event_type checked before identity",
            r#"{"time":1}"#,
            Some("missing_event_type"),
        ),
        (
            "no identity",
            r#"{"event_type":"a","time":1}"#,
            Some("missing_identity"),
        ),
        (
            "empty user_id is no identity",
            r#"{"event_type":"a","user_id":"","time":1}"#,
            Some("missing_identity"),
        ),
        (
            "numeric user_id is no identity",
            r#"{"event_type":"a","user_id":7,"time":1}"#,
            Some("missing_identity"),
        ),
        (
            "null device_id is no identity",
            r#"{"event_type":"a","device_id":null,"time":1}"#,
            Some("missing_identity"),
        ),
        (
            "integer amplitude_id is identity",
            r#"{"event_type":"a","amplitude_id":7,"time":1}"#,
            None,
        ),
        (
            "string amplitude_id is identity",
            r#"{"event_type":"a","amplitude_id":"7","time":1}"#,
            None,
        ),
        (
            "float amplitude_id is no identity",
            r#"{"event_type":"a","amplitude_id":7.5,"time":1}"#,
            Some("missing_identity"),
        ),
        (
            "identity checked before time",
            r#"{"event_type":"a"}"#,
            Some("missing_identity"),
        ),
        (
            "no time",
            r#"{"event_type":"a","user_id":"u"}"#,
            Some("missing_time"),
        ),
        (
            "null times are absent",
            r#"{"event_type":"a","user_id":"u","time":null,"timestamp":null}"#,
            Some("missing_time"),
        ),
        (
            "bad time string",
            r#"{"event_type":"a","user_id":"u","time":"yesterday"}"#,
            Some("invalid_time"),
        ),
        (
            "fractional number time",
            r#"{"event_type":"a","user_id":"u","time":1.5}"#,
            Some("invalid_time"),
        ),
        (
            "boolean time",
            r#"{"event_type":"a","user_id":"u","time":true}"#,
            Some("invalid_time"),
        ),
        (
            "first present time decides",
            r#"{"event_type":"a","user_id":"u","client_event_time":"x","time":5}"#,
            Some("invalid_time"),
        ),
        (
            "null first time falls through",
            r#"{"event_type":"a","user_id":"u","client_event_time":null,"time":5}"#,
            None,
        ),
        (
            "unknown fields are kept",
            r#"{"event_type":"a","user_id":"u","time":1,"weird":{"deep":[1,{"x":null}]}}"#,
            None,
        ),
        (
            "blank-padded line",
            "  {\"event_type\":\"a\",\"user_id\":\"u\",\"time\":1}  \r",
            None,
        ),
    ];
    for (name, line, want) in cases {
        assert_eq!(reject_code(line), *want, "{name}: {line}");
    }
}

#[test]
fn invalid_utf8_is_rejected_with_its_offset() {
    let mut batch = Batch::default();
    let line = b"{\"event_type\":\"a\xff\",\"user_id\":\"u\",\"time\":1}";
    Decoder::new(false).line(&mut batch, line, &Origin::default());
    assert_eq!(
        batch.rejects[0].reason,
        RejectReason::InvalidUtf8 { offset: 16 }
    );
    assert_eq!(batch.rejects[0].reason.code(), "invalid_json");
}

#[test]
fn time_fields_take_precedence_in_order() {
    let cases: &[(&str, i64)] = &[
        (
            r#""client_event_time":1,"time":2,"timestamp":3,"event_time":4"#,
            1,
        ),
        (r#""time":2,"timestamp":3,"event_time":4"#, 2),
        (r#""event_time":4,"timestamp":3"#, 3),
        (
            r#""event_time":"2023-11-14 22:13:20.123456""#,
            1_700_000_000_123,
        ),
        (r#""time":"1700000000000""#, 1_700_000_000_000),
        (r#""time":"2023-11-14T22:13:20Z""#, 1_700_000_000_000),
        (r#""time":"2023-11-14T22:13:20\u005a""#, 1_700_000_000_000),
    ];
    for (fields, want) in cases {
        let line = format!(r#"{{"event_type":"a","user_id":"u",{fields}}}"#);
        let b = decode_line(&line);
        assert_eq!(b.events.len(), 1, "{line}: {:?}", b.rejects);
        assert_eq!(b.events[0].time, *want, "{line}");
    }
}

#[test]
fn session_id_forms() {
    // (session_id JSON, expected session, expected warning)
    let cases: &[(&str, Option<i64>, bool)] = &[
        ("1700000000000", Some(1_700_000_000_000), false),
        ("\"17\"", Some(17), false),
        ("-1", None, false),
        ("\"-1\"", None, false),
        ("null", None, false),
        ("0", Some(0), false),
        ("-5", Some(-5), false),
        ("1.5", None, true),
        ("1e3", None, true),
        ("true", None, true),
        ("\"abc\"", None, true),
        ("\" 17\"", None, true),
        ("{}", None, true),
        ("99999999999999999999", None, true),
    ];
    for (json, want, warned) in cases {
        let line = format!(r#"{{"event_type":"a","user_id":"u","time":1,"session_id":{json}}}"#);
        let b = decode_line(&line);
        assert_eq!(session(&b, 0), *want, "{json}");
        assert_eq!(b.warning_count == 1, *warned, "{json}");
    }
    let b = decode_line(r#"{"event_type":"a","user_id":"u","time":1}"#);
    assert_eq!(session(&b, 0), None);
    assert_eq!(b.warning_count, 0);
}

#[test]
fn dedup_key_is_the_first_non_empty_string() {
    let key = |fields: &str| {
        let line = format!(r#"{{"event_type":"a","user_id":"u","time":1{fields}}}"#);
        decode_line(&line).events[0].dedup_key()
    };
    let a = key(r#","insert_id":"abc""#);
    assert!(a.is_some());
    assert_eq!(key(r#","$insert_id":"abc""#), a);
    assert_eq!(key(r#","insert_id":"ab\u0063""#), a, "escapes are decoded");
    assert_eq!(key(r#","insert_id":"","$insert_id":"abc""#), a);
    assert_eq!(key(r#","insert_id":5,"$insert_id":"abc""#), a);
    assert_ne!(key(r#","insert_id":"abd""#), a);
    assert_eq!(key(r#","insert_id":null"#), None);
    assert_eq!(key(""), None);
}

#[test]
fn identity_fields_are_interned() {
    let b = decode_line(
        r#"{"event_type":"a","user_id":"u\u00e9","device_id":"d","amplitude_id":42,"time":1}"#,
    );
    let e = b.events[0];
    let ids = ids_of(&b, &e);
    assert_eq!(str_of(&b, ids.user_id), "u\u{e9}");
    assert_eq!(str_of(&b, ids.device_id), "d");
    assert_eq!(str_of(&b, ids.amplitude_id), "42");
    assert_eq!(str_of(&b, e.event_type), "a");
}

#[test]
fn a_user_changing_devices_and_amplitude_ids_keeps_exact_symbols() {
    let lines = [
        (r#""device_id":"d1","amplitude_id":1"#, "d1", "1"),
        (r#""device_id":"d2","amplitude_id":2"#, "d2", "2"),
        (r#""device_id":"d1","amplitude_id":1"#, "d1", "1"),
        (r#""device_id":"d\u0031","amplitude_id":"1""#, "d1", "1"),
        (r#""amplitude_id":-0"#, "", "-0"),
        (r#""device_id":"d2","amplitude_id":2"#, "d2", "2"),
    ];
    let mut batch = Batch::default();
    let mut decoder = Decoder::new(false);
    for (ids, _, _) in &lines {
        let line = format!(r#"{{"event_type":"a","user_id":"u",{ids},"time":1}}"#);
        decoder.line(&mut batch, line.as_bytes(), &Origin::default());
    }
    decoder.seal(&mut batch);
    assert_eq!(batch.events.len(), lines.len());
    let ids: Vec<_> = batch.events.iter().map(|e| ids_of(&batch, e)).collect();
    for (e, (_, device, amplitude)) in ids.iter().zip(&lines) {
        assert_eq!(str_of(&batch, e.device_id), *device);
        assert_eq!(str_of(&batch, e.amplitude_id), *amplitude);
    }
    // Equal texts, equal symbols, whichever path found them.
    assert_eq!(ids[0], ids[3]);
    assert_eq!(ids[1], ids[5]);
    // Equal numbers, equal ids; the same ids as the event before, the same number.
    let n: Vec<u32> = batch.events.iter().map(|e| e.ids).collect();
    for (a, ida) in n.iter().zip(&ids) {
        for (b, idb) in n.iter().zip(&ids) {
            assert!(a != b || ida == idb);
        }
    }
    assert_eq!(n[2], n[3]);
}

#[test]
fn duplicate_keys_take_the_last_value() {
    let b = decode_line(r#"{"event_type":"a","user_id":"u","time":1,"time":2}"#);
    assert_eq!(b.events[0].time, 2);
}

#[test]
fn request_bodies_are_expanded_with_locations() {
    let body = r#"{"api_key":"k","events":[{"event_type":"a","user_id":"u","time":1},{"user_id":"u","time":2},7,{"event_type":"b","device_id":"d","time":3}],"options":{}}"#;
    let b = decode_line(body);
    assert_eq!(b.events.len(), 2);
    assert_eq!(b.rejected(), 2);
    assert_eq!(b.rejects[0].loc.index, vec![Step::Event(1)]);
    assert_eq!(b.rejects[0].reason.code(), "missing_event_type");
    assert_eq!(b.rejects[1].loc.index, vec![Step::Event(2)]);
    assert_eq!(b.rejects[1].reason.code(), "not_object");
    // Raw locations point at each element inside the line.
    let raw = b.raw[1];
    assert_eq!(
        &body[raw.offset as usize..raw.offset as usize + raw.len as usize],
        r#"{"event_type":"b","device_id":"d","time":3}"#
    );
}

#[test]
fn an_object_with_events_and_an_event_type_is_an_event() {
    let b = decode_line(r#"{"event_type":"a","user_id":"u","time":1,"events":[1,2]}"#);
    assert_eq!(b.events.len(), 1);
    assert_eq!(b.rejected(), 0);
}

#[test]
fn user_activity_responses_are_expanded() {
    let body = r#"{"userData":{"user_id":"u","amplitude_id":9},"events":[{"event_type":"a","amplitude_id":9,"event_time":"2023-11-14 22:13:20.000000","session_id":1700000000000}]}"#;
    let b = decode_line(body);
    assert_eq!(b.events.len(), 1);
    assert_eq!(b.events[0].time, 1_700_000_000_000);
    assert_eq!(session(&b, 0), Some(1_700_000_000_000));
}

#[test]
fn a_body_with_invalid_json_is_rejected_whole() {
    let b = decode_line(r#"{"api_key":"k","events":[{"event_type":"a","user_id":"u","time":1}],}"#);
    assert_eq!(b.events.len(), 0);
    assert_eq!(b.rejected(), 1);
    let b =
        decode_line(r#"{"api_key":"k","events":[{"event_type":"a","user_id":"u","time":1}]} x"#);
    assert_eq!(b.events.len(), 0);
    assert_eq!(b.rejected(), 1);
}

#[test]
fn huge_and_deeply_nested_values_do_not_break_decoding() {
    let deep = format!(
        r#"{{"event_type":"a","user_id":"u","time":1,"p":{}1{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(decode_line(&deep).events.len(), 1);
    let unclosed = format!(
        r#"{{"event_type":"a","user_id":"u","time":1,"p":{}"#,
        "[".repeat(100_000)
    );
    assert_eq!(reject_code(&unclosed), Some("invalid_json"));
    let huge = format!(
        r#"{{"event_type":"a","user_id":"u","time":1,"p":"{}"}}"#,
        "x".repeat(5_000_000)
    );
    assert_eq!(decode_line(&huge).events.len(), 1);
}

#[test]
fn messages_name_the_problem() {
    let b = decode_line(r#"{"event_type":"a","user_id":"u","time":"yesterday"}"#);
    let msg = b.rejects[0].reason.to_string();
    assert!(msg.contains("'time' is \"yesterday\""), "{msg}");
    let b = decode_line(r#"{"event_type":"a","user_id":"u","time":1,}"#);
    let msg = b.rejects[0].reason.to_string();
    assert!(
        msg.starts_with("not valid JSON: expected a string key at byte"),
        "{msg}"
    );
}

fn str_of(b: &Batch, sym: crate::event::Sym) -> &str {
    b.dict.get(sym).unwrap_or("")
}

/// The ids of event `e` of a sealed batch whose numbers are all new in it.
fn ids_of(b: &Batch, e: &EventRec) -> crate::event::Ids {
    let i = e
        .ids
        .checked_sub(b.dict.ids_base)
        .expect("a number sent before this batch");
    b.dict.ids[i as usize]
}

mod no_panics {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use proptest::prelude::*;

    use super::*;
    use crate::source::{LoadOptions, load_bytes};
    use crate::store::EventStore;

    /// Bytes that are often almost JSON: fragments of events mixed with arbitrary bytes.
    fn near_json() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(br#"{"event_type":"a","user_id":"u","time":1}"#.to_vec()),
            Just(br#"{"api_key":"k","events":["#.to_vec()),
            Just(b"[".to_vec()),
            Just(b"]".to_vec()),
            Just(b"{".to_vec()),
            Just(b"}".to_vec()),
            Just(b",".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\"\\u00".to_vec()),
            Just(vec![0x1f, 0x8b]),
            Just(b"PK\x03\x04".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..12),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_line_decodes_or_is_rejected_without_panicking(line in near_json()) {
            let mut batch = Batch::default();
            let mut decoder = Decoder::new(true);
            decoder.line(&mut batch, &line, &Origin::default());
            decoder.seal(&mut batch);
            let text = line.strip_suffix(b"\r").unwrap_or(&line);
            let valid = std::str::from_utf8(text).is_ok() && crate::json::validate(text).is_ok();
            if !valid {
                // Not JSON: exactly one rejection, nothing accepted.
                prop_assert_eq!(batch.events.len(), 0);
                prop_assert_eq!(batch.rejected(), 1);
            }
        }

        #[test]
        fn any_input_loads_without_panicking(bytes in near_json()) {
            let mut store = EventStore::new();
            let source = store.add_source("fuzz");
            let read = Arc::new(AtomicU64::new(0));
            load_bytes(bytes.into(), "fuzz", source, &LoadOptions::default(), &read, &mut |ev| store.apply(ev));
            let _ = crate::analysis::Analysis::compute(&store, &crate::analysis::Rules::default());
        }
    }
}

#[test]
fn a_legacy_form_line_decodes_its_events_with_the_line_as_raw_text() {
    let line = "client=k&e=%5B%7B%22event_type%22%3A%22a%22%2C%22user_id%22%3A%22u%22%2C%22time%22%3A1%7D%2C%7B%22event_type%22%3A%22b%22%2C%22device_id%22%3A%22d%22%2C%22time%22%3A2%7D%5D&v=2";
    let b = decode_line(line);
    assert_eq!(b.events.len(), 2, "{:?}", b.rejects);
    assert_eq!(b.raw.len(), 2);
    assert!(
        b.raw
            .iter()
            .all(|r| r.offset == 0 && r.len as usize == line.len())
    );
    // Not a form body: an ordinary invalid line.
    assert_eq!(reject_code("client=k&v=2"), Some("invalid_json"));
    assert_eq!(reject_code("e=%5B%5D"), Some("invalid_json"));
}

#[test]
fn a_legacy_body_as_json_decodes_its_events() {
    // `e` as the JSON text the SDK url-encodes, and as an array.
    for line in [
        r#"{"client":"k","e":"[{\"event_type\":\"a\",\"user_id\":\"u\",\"time\":1},{\"event_type\":\"b\",\"device_id\":\"d\",\"time\":2}]","v":2,"upload_time":3}"#,
        r#"{"client":"k","e":[{"event_type":"a","user_id":"u","time":1},{"event_type":"b","device_id":"d","time":2}],"v":2}"#,
    ] {
        let b = decode_line(line);
        assert_eq!(b.events.len(), 2, "{line}: {:?}", b.rejects);
        assert!(b.rejects.is_empty());
    }
    // An event that happens to carry `client` and `e` is still an event.
    let b = decode_line(r#"{"event_type":"x","user_id":"u","time":1,"client":"k","e":[]}"#);
    assert_eq!(b.events.len(), 1);
}

#[test]
fn uuid_is_the_last_dedup_key() {
    let key = |line: &str| decode_line(line).events[0].dedup_key();
    let base = r#"{"event_type":"a","device_id":"d","time":1"#;
    let by_uuid = key(&format!(r#"{base},"uuid":"7f7c"}}"#));
    assert!(by_uuid.is_some());
    // insert_id and $insert_id come first.
    assert_eq!(
        key(&format!(r#"{base},"uuid":"7f7c","insert_id":"i-1"}}"#)),
        key(&format!(r#"{base},"insert_id":"i-1"}}"#))
    );
    assert_eq!(
        key(&format!(r#"{base},"uuid":"7f7c","$insert_id":"i-2"}}"#)),
        key(&format!(r#"{base},"$insert_id":"i-2"}}"#))
    );
    // An empty or non-string uuid is no key.
    assert_eq!(key(&format!(r#"{base},"uuid":""}}"#)), None);
    assert_eq!(key(&format!(r#"{base},"uuid":7}}"#)), None);
    assert_eq!(key(&format!(r#"{base},"uuid":"7f7c"}}"#)), by_uuid);
}

#[test]
fn user_properties_are_numbered_by_their_value_with_the_skip_flag() {
    // The value hash and the skip flag of one line's event.
    let rec = |tail: &str| {
        let b = decode_line(&format!(
            r#"{{"event_type":"a","device_id":"d","time":1{tail}}}"#
        ));
        (props_hash(&b, 0), b.events[0].skips_props_sync())
    };
    let empty = rec("");
    // Absent, null and {} are one value.
    for tail in [r#","user_properties":null"#, r#","user_properties":{}"#] {
        assert_eq!(rec(tail).0, empty.0, "{tail}");
    }
    let plan = rec(r#","user_properties":{"plan":"pro","n":1}"#);
    assert_ne!(plan.0, empty.0);
    // Key order and number forms do not matter; values do.
    assert_eq!(
        rec(r#","user_properties":{"n":1.0,"plan":"pro"}"#).0,
        plan.0
    );
    assert_ne!(rec(r#","user_properties":{"plan":"free","n":1}"#).0, plan.0);
    // The same text twice (the cache) gives the same hash.
    assert_eq!(rec(r#","user_properties":{"plan":"pro","n":1}"#).0, plan.0);
    // The skip flag: the literal true only, at the top level.
    let cases = [
        (r#","$skip_user_properties_sync":true"#, true),
        (r#","$skip_user_properties_sync":"true""#, false),
        (r#","$skip_user_properties_sync":false"#, false),
        (r#","$skip_user_properties_sync":1"#, false),
        (
            r#","event_properties":{"$skip_user_properties_sync":true}"#,
            false,
        ),
        ("", false),
    ];
    for (tail, skip) in cases {
        let r = rec(tail);
        assert_eq!(r.1, skip, "{tail}");
        assert_eq!(r.0, empty.0, "{tail}");
    }
}

/// What `line` decodes to with `decoder`: each event with its strings, and each rejection.
fn decoded_with(decoder: &mut Decoder, line: &str) -> Vec<String> {
    let mut b = Batch::default();
    decoder.line(&mut b, line.as_bytes(), &Origin::default());
    let text = |sym| decoder.strings.get(sym).to_owned();
    let mut out: Vec<String> = b
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            format!(
                "{} u={} d={} a={} t={} s={:?} dedup={} props={:?} skip={}",
                text(e.event_type),
                text(decoder.ids.unsent(e.ids).user_id),
                text(decoder.ids.unsent(e.ids).device_id),
                text(decoder.ids.unsent(e.ids).amplitude_id),
                e.time,
                session(&b, i),
                e.dedup,
                decoder.props.hash(e.props_id()),
                e.skips_props_sync()
            )
        })
        .collect();
    out.extend(b.rejects.iter().map(|r| format!("rejected: {}", r.reason)));
    out
}

/// The decoder remembers the keys of the lines before ([`json::KeyMemo`]); what a line
/// decodes to must not depend on them: lines whose keys differ from the previous line's
/// by a byte, by white space, by an escape, by order or by number decode as they do alone.
#[test]
fn a_line_decodes_the_same_whatever_lines_came_before() {
    let lines = [
        r#"{"$insert_id":"i1","amplitude_id":42,"client_event_time":"2026-10-01 00:00:01.000","device_id":"d","event_type":"a","session_id":5,"user_id":"u","user_properties":{"plan":"free"}}"#,
        r#"{"$insert_id":"i2","amplitude_id":42,"client_event_time":"2026-10-01 00:00:02.000","device_id":"d","event_type":"b","session_id":5,"user_id":"u","user_properties":{"plan":"paid"}}"#,
        // `user_id` renamed at its place: not an identity any more, nor on the next line
        // (which finds the new name remembered).
        r#"{"$insert_id":"i3","amplitude_id":43,"client_event_time":"2026-10-01 00:00:03.000","device_id":"d","event_type":"c","session_id":5,"user_idx":"u","user_properties":{}}"#,
        r#"{"$insert_id":"i3","amplitude_id":43,"client_event_time":"2026-10-01 00:00:03.000","device_id":"d","event_type":"c","session_id":5,"user_idx":"u","user_properties":{}}"#,
        // `event_type` one byte shorter: the record has none.
        r#"{"$insert_id":"i4","amplitude_id":42,"client_event_time":"2026-10-01 00:00:04.000","device_id":"d","event_typ":"d","session_id":5,"user_id":"u"}"#,
        // An escaped key, and white space around keys.
        r#"{ "$insert_id" : "i5" ,"amplitude_id":42,"client_event_time":"2026-10-01 00:00:05.000","device_id":"d","event\u005ftype":"e","session_id" :5,"user_id":"u"}"#,
        // Another order, fewer members, a key twice (the last wins).
        r#"{"user_id":"v","event_type":"f","time":1790000000000,"user_id":"w"}"#,
        r#"{"event_type":"g","device_id":"d2","time":1790000000001}"#,
        r#"{"$insert_id":"i1","amplitude_id":42,"client_event_time":"2026-10-01 00:00:01.000","device_id":"d","event_type":"a","session_id":5,"user_id":"u","user_properties":{"plan":"free"}}"#,
    ];
    let mut decoder = Decoder::new(true);
    for line in lines {
        let together = decoded_with(&mut decoder, line);
        let alone = decoded_with(&mut Decoder::new(true), line);
        assert!(!alone.is_empty(), "{line}");
        assert_eq!(together, alone, "{line}");
    }
}

/// The decoder's numbers for combinations of ids: ids with a symbol new in their event
/// get a number without a lookup (an input with a new device on every event costs no
/// map); met again, they get a number that is remembered while the decoder remembers
/// them; past [`IDS_CACHE_MAX`] remembered combinations the memory is forgotten (bounded),
/// and ids met after that get a new number. Equal numbers always mean equal ids.
#[test]
fn ids_are_numbered_in_a_bounded_memory() {
    let mut decoder = Decoder::new(false);
    let mut batch = Batch::default();
    let line = |device: usize| format!(r#"{{"event_type":"a","device_id":"d{device}","time":1}}"#);
    // Devices 2.. twice each: each is remembered at its second event.
    let mut devices: Vec<usize> = vec![0, 1, 0, 0];
    devices.extend((2..IDS_CACHE_MAX + 5).flat_map(|d| [d, d]));
    devices.extend([0, 0]);
    for &d in &devices {
        decoder.line(&mut batch, line(d).as_bytes(), &Origin::default());
        assert!(decoder.ids.known.len() <= IDS_CACHE_MAX);
    }
    decoder.seal(&mut batch);
    assert_eq!(batch.events.len(), devices.len());
    let n: Vec<u32> = batch.events.iter().map(|e| e.ids).collect();
    let last = n.len() - 1;
    assert_ne!(n[0], n[2], "new device: not remembered");
    assert_eq!(n[2], n[3], "remembered");
    assert_ne!(n[0], n[1]);
    assert_ne!(n[2], n[last - 1], "forgotten, numbered anew");
    assert_eq!(n[last - 1], n[last], "and remembered again");
    // Every number is sent once, with its ids; equal numbers, equal ids.
    assert_eq!(batch.dict.ids_base, 1);
    // Device 0 three numbers, device 1 one, the others two each.
    assert_eq!(batch.dict.ids.len(), 3 + 1 + 2 * (IDS_CACHE_MAX + 3));
    for (e, &d) in batch.events.iter().zip(&devices) {
        let ids = ids_of(&batch, e);
        assert_eq!(str_of(&batch, ids.device_id), format!("d{d}"));
        assert!(!ids.user_id.is_some() && !ids.amplitude_id.is_some());
    }
}
