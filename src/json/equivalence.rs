//! The scanner gives exactly what the reference scanner (the code before the speed work)
//! gives: same spans, same errors (offset and message), same cursor afterwards, on valid
//! JSON and on JSON broken by truncation, inserted, deleted or replaced bytes (control
//! characters, bad escapes, bad numbers, stray brackets), and on deep nesting.

use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::reference;
use super::{KeyMemo, Partial, ScanError, Scanner, Span, unescape};

fn ws() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(String::new()), 1 => "[ \t\r\n]{1,3}"]
}

fn number() -> impl Strategy<Value = String> {
    "-?(0|[1-9][0-9]{0,19})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,3})?"
}

fn string() -> impl Strategy<Value = String> {
    "\"([a-z0-9 ,:{}\\[\\]é😀]|\\\\[\"\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4}){0,24}\""
}

fn json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        number(),
        string(),
    ];
    leaf.prop_recursive(8, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec((ws(), inner.clone(), ws()), 0..6).prop_map(|items| {
                let items: Vec<String> = items.into_iter().map(|(a, v, b)| a + &v + &b).collect();
                format!("[{}]", items.join(","))
            }),
            prop::collection::vec((string(), ws(), inner, ws()), 0..6).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, a, v, b)| format!("{a}{k}{b}:{a}{v}{b}"))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// Nesting past the 64 levels the scanner keeps in one word, objects and arrays mixed.
fn deep() -> impl Strategy<Value = String> {
    (prop::collection::vec(any::<bool>(), 0..300), json()).prop_map(|(levels, inner)| {
        let mut text = String::new();
        for &object in &levels {
            text.push_str(if object { "{\"k\": " } else { "[ 1," });
        }
        text.push_str(&inner);
        for &object in levels.iter().rev() {
            text.push(if object { '}' } else { ']' });
        }
        text
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Truncate(Index),
    Insert(Index, u8),
    Delete(Index),
    Replace(Index, u8),
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    select(b"\x00\x01\x08\x1f\x7f\t\n\r \"\\/{}[],:0123456789.eE+-tfnrulxaNI\xc3\xa9\xff".to_vec())
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<Index>().prop_map(Edit::Truncate),
        (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        match *e {
            Edit::Truncate(i) => bytes.truncate(i.index(len + 1)),
            Edit::Insert(i, b) => bytes.insert(i.index(len + 1), b),
            Edit::Delete(i) if len > 0 => {
                bytes.remove(i.index(len));
            }
            Edit::Replace(i, b) if len > 0 => bytes[i.index(len)] = b,
            Edit::Delete(_) | Edit::Replace(..) => {}
        }
    }
    bytes
}

type Fields = Vec<(Vec<u8>, bool, Span)>;

/// Everything the public scanning calls give on `bytes`, from offset `at`.
fn observe_new(bytes: &[u8], at: usize) -> Vec<String> {
    let mut seen = vec![format!("{:?}", super::validate(bytes))];
    let mut s = Scanner::at(bytes, at);
    seen.push(format!("value {:?} {}", s.value(), s.pos()));
    let mut fields: Fields = Vec::new();
    let mut s = Scanner::at(bytes, at);
    let r = s.object(|k, e, v| fields.push((k.to_vec(), e, v)));
    seen.push(format!("object {r:?} {fields:?} {}", s.pos()));
    let mut elements = Vec::new();
    let mut s = Scanner::at(bytes, at);
    let r = s.array(|i, v| elements.push((i, v)));
    seen.push(format!("array {r:?} {elements:?} {}", s.pos()));
    let mut s = Scanner::at(bytes, at);
    let r: Result<Partial, ScanError> = s.partial_value();
    seen.push(format!("partial {r:?} {}", s.pos()));
    if bytes.get(at) == Some(&b'"') {
        let mut s = Scanner::at(bytes, at);
        seen.push(format!("string {:?} {}", s.string(), s.pos()));
    }
    let mut s = Scanner::at(bytes, at);
    seen.push(format!("number {:?} {}", s.number(), s.pos()));
    seen
}

/// The same calls on the reference scanner.
fn observe_reference(bytes: &[u8], at: usize) -> Vec<String> {
    let mut seen = vec![format!("{:?}", reference::validate(bytes))];
    let mut s = reference::Scanner::at(bytes, at);
    seen.push(format!("value {:?} {}", s.value(), s.pos()));
    let mut fields: Fields = Vec::new();
    let mut s = reference::Scanner::at(bytes, at);
    let r = s.object(|k, e, v| fields.push((k.to_vec(), e, v)));
    seen.push(format!("object {r:?} {fields:?} {}", s.pos()));
    let mut elements = Vec::new();
    let mut s = reference::Scanner::at(bytes, at);
    let r = s.array(|i, v| elements.push((i, v)));
    seen.push(format!("array {r:?} {elements:?} {}", s.pos()));
    let mut s = reference::Scanner::at(bytes, at);
    let r: Result<Partial, ScanError> = s.partial_value();
    seen.push(format!("partial {r:?} {}", s.pos()));
    if bytes.get(at) == Some(&b'"') {
        let mut s = reference::Scanner::at(bytes, at);
        seen.push(format!("string {:?} {}", s.string(), s.pos()));
    }
    let mut s = reference::Scanner::at(bytes, at);
    seen.push(format!("number {:?} {}", s.number(), s.pos()));
    seen
}

fn same(bytes: &[u8], at: Index) -> Result<(), TestCaseError> {
    let at = at.index(bytes.len() + 1);
    for at in [0, at] {
        prop_assert_eq!(
            observe_new(bytes, at),
            observe_reference(bytes, at),
            "text {:?} from offset {}",
            String::from_utf8_lossy(bytes),
            at
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn valid_json_scans_as_before(text in json(), at in any::<Index>()) {
        same(text.as_bytes(), at)?;
    }

    #[test]
    fn broken_json_scans_as_before(
        text in json(),
        edits in prop::collection::vec(edit(), 1..4),
        at in any::<Index>(),
    ) {
        same(&apply(text.into_bytes(), &edits), at)?;
    }

    #[test]
    fn deep_json_scans_as_before(
        text in deep(),
        edits in prop::collection::vec(edit(), 0..3),
        at in any::<Index>(),
    ) {
        same(&apply(text.into_bytes(), &edits), at)?;
    }
}

#[test]
fn fixed_cases_scan_as_before() {
    let cases: &[&[u8]] = &[
        b"",
        b" ",
        b"12345678901234567890",
        b"1234567",
        b"-",
        b"-0.",
        b"1e",
        b"1e+",
        b"0.123456789e-12345678",
        b"[1,2,3]",
        b"[1,2,3",
        b"{\"a\":[],\"b\":{},\"c\":[{}]}",
        b"{\"a\":\"\\u12",
        b"{\"a\":\"\\",
        b"\"\\uZZZZ\"",
        b"[\"\xff\xfa9\"]",
        b"[12345678\xfa9]",
        b"[tru",
        b"{\"a\" :1 , }",
        b"[ ]",
        b"{ }",
        b"[,]",
    ];
    for text in cases {
        for at in 0..=text.len() {
            assert_eq!(
                observe_new(text, at),
                observe_reference(text, at),
                "{:?} from {at}",
                String::from_utf8_lossy(text)
            );
        }
    }
}

/// A tag for [`Scanner::object_keyed`] that depends on every byte of the (unescaped) key.
fn tag(key: &[u8], escaped: bool) -> u8 {
    let mut text = String::new();
    let key = if escaped {
        unescape(key, &mut text);
        text.as_bytes()
    } else {
        key
    };
    key.iter()
        .fold(7u8, |h, &b| h.wrapping_mul(31).wrapping_add(b))
}

/// [`Scanner::object_keyed`] on `bytes` from `at` with `memo`: result, members, cursor.
fn observe_keyed(bytes: &[u8], at: usize, memo: &mut KeyMemo) -> String {
    let mut fields: Vec<(u8, Span)> = Vec::new();
    let mut s = Scanner::at(bytes, at);
    let r = s.object_keyed(memo, tag, |t, v| fields.push((t, v)));
    format!("object {r:?} {fields:?} {}", s.pos())
}

/// The reference scanner's object, with each key replaced by its tag.
fn reference_keyed(bytes: &[u8], at: usize) -> String {
    let mut fields: Vec<(u8, Span)> = Vec::new();
    let mut s = reference::Scanner::at(bytes, at);
    let r = s.object(|k, e, v| fields.push((tag(k, e), v)));
    format!("object {r:?} {fields:?} {}", s.pos())
}

/// `object_keyed` gives on `bytes` what the reference gives whatever its memo holds:
/// nothing, the keys of `warm`, or the keys of `bytes` themselves.
fn same_keyed(warm: &[u8], bytes: &[u8], at: Index) -> Result<(), TestCaseError> {
    let at = at.index(bytes.len() + 1);
    for at in [0, at] {
        let want = reference_keyed(bytes, at);
        let mut cold = KeyMemo::default();
        let mut warmed = KeyMemo::default();
        observe_keyed(warm, 0, &mut warmed);
        let mut own = KeyMemo::default();
        observe_keyed(bytes, at, &mut own);
        for (name, memo) in [
            ("cold", &mut cold),
            ("warm", &mut warmed),
            ("own", &mut own),
        ] {
            prop_assert_eq!(
                observe_keyed(bytes, at, memo),
                want.clone(),
                "{} memo, text {:?} from offset {}, warmed on {:?}",
                name,
                String::from_utf8_lossy(bytes),
                at,
                String::from_utf8_lossy(warm)
            );
        }
    }
    Ok(())
}

/// Objects whose keys are mostly those of an Export line, so that a memo warmed on one
/// often half-matches another.
fn export_like() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("\"$insert_id\"".to_owned()),
        Just("\"amplitude_id\"".to_owned()),
        Just("\"client_event_time\"".to_owned()),
        Just("\"device_id\"".to_owned()),
        Just("\"event_properties\"".to_owned()),
        Just("\"event_type\"".to_owned()),
        Just("\"event\\u005ftype\"".to_owned()),
        Just("\"$skip_user_properties_sync\"".to_owned()),
        Just("\"a_key_far_longer_than_the_thirty_two_bytes_kept\"".to_owned()),
        Just("\"user_id\"".to_owned()),
        string(),
    ];
    prop::collection::vec((key, ws(), json(), ws()), 0..12).prop_map(|members| {
        let members: Vec<String> = members
            .into_iter()
            .map(|(k, a, v, b)| format!("{a}{k}{b}:{a}{v}{b}"))
            .collect();
        format!("{{{}}}", members.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn keyed_objects_scan_as_before_whatever_the_memo_holds(
        warm in export_like(),
        edits in prop::collection::vec(edit(), 0..4),
        at in any::<Index>(),
    ) {
        let bytes = apply(warm.clone().into_bytes(), &edits);
        same_keyed(warm.as_bytes(), &bytes, at)?;
    }

    #[test]
    fn keyed_objects_scan_as_before_after_other_objects(
        warm in export_like(),
        text in export_like(),
        at in any::<Index>(),
    ) {
        same_keyed(warm.as_bytes(), text.as_bytes(), at)?;
    }
}

#[test]
fn keyed_objects_cases() {
    let warm: &[u8] = br#"{"$insert_id":"x","event_type":"a","user_id":"u","time":1,"user_properties":{"plan":"free"}}"#;
    let cases: &[&[u8]] = &[
        warm,
        // A key one byte longer, or shorter, than the one remembered at its place.
        br#"{"$insert_id":"x","event_type":"a","user_idx":"u","time":1,"user_properties":{}}"#,
        br#"{"$insert_id":"x","event_type":"a","user_i":"u","time":1,"user_properties":{}}"#,
        // Whitespace where the remembered key had none.
        br#"{ "$insert_id" : "x" , "event_type":"a","user_id":"u","time":1,"user_properties":{}}"#,
        // An escaped key that means the remembered one.
        br#"{"$insert_id":"x","event\u005ftype":"a","user_id":"u","time":1,"user_properties":{}}"#,
        // Cut inside a remembered key, and at its colon.
        br#"{"$insert_id":"x","event_ty"#,
        br#"{"$insert_id":"x","event_type""#,
        br#"{"$insert_id":"x","event_type":"#,
        // A control character inside a key that otherwise matches.
        b"{\"$insert_id\":\"x\",\"event_\x01ype\":\"a\"}",
        // Fewer members, more members, the same key twice.
        br#"{"$insert_id":"x"}"#,
        br#"{"$insert_id":"x","event_type":"a","user_id":"u","time":1,"user_properties":{},"extra":2}"#,
        br#"{"event_type":"a","event_type":"b"}"#,
        br#"{}"#,
        br#"{"#,
    ];
    for text in cases {
        for at in [0, 1] {
            let want = reference_keyed(text, at);
            let mut memo = KeyMemo::default();
            observe_keyed(warm, 0, &mut memo);
            assert_eq!(
                observe_keyed(text, at, &mut memo),
                want,
                "{:?} from {at}",
                String::from_utf8_lossy(text)
            );
            // And again, with the memo now holding this text's own keys.
            assert_eq!(observe_keyed(text, at, &mut memo), want);
        }
    }
}

/// An object of many members leaves the memo no larger than its cap, and still scans as
/// the reference does (members past the cap are scanned as before).
#[test]
fn a_huge_object_does_not_grow_the_key_memo_past_its_cap() {
    let members: Vec<String> = (0..10_000).map(|i| format!("\"k{i}\":{i}")).collect();
    let text = format!("{{{}}}", members.join(","));
    let mut memo = KeyMemo::default();
    for _ in 0..2 {
        assert_eq!(
            observe_keyed(text.as_bytes(), 0, &mut memo),
            reference_keyed(text.as_bytes(), 0)
        );
        assert!(
            memo.keys.len() <= super::MEMO_MEMBERS,
            "{}",
            memo.keys.len()
        );
    }
}
