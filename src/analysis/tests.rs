//! Table-driven tests of §2–§4 with hand-computed expectations, and property tests of the
//! invariants (input order independence, monotonic replay).

use proptest::prelude::*;

use super::*;
use crate::decode::{Batch, Decoder, Origin};
use crate::event::Location;
use crate::index::{EventIx, SessionIx, UserIx};

const M: i64 = MINUTE_MS;
const DAY: i64 = 86_400_000;
/// A plausible session id / start time (2023-11-14 22:13:20 UTC).
const T0: i64 = 1_700_000_000_000;

fn store_of(lines: &[String]) -> EventStore {
    let mut store = EventStore::new();
    let src = store.add_source("test");
    let mut batch = Batch::default();
    let mut dec = Decoder::new(false);
    for (i, line) in lines.iter().enumerate() {
        let origin = Origin {
            loc: Location {
                source: src,
                line: i as u64 + 1,
                ..Location::default()
            },
            ..Origin::default()
        };
        dec.line(&mut batch, line.as_bytes(), &origin);
    }
    assert_eq!(
        batch.rejected(),
        0,
        "test input rejected: {:?}",
        batch.rejects
    );
    dec.seal(&mut batch);
    store.append(src, batch, 0);
    store
}

/// An event line: type, identity fields (JSON members), time, session id (None = absent).
fn ev(event_type: &str, ids: &str, time: i64, session: Option<i64>) -> String {
    let session = session.map_or(String::new(), |s| format!(",\"session_id\":{s}"));
    format!(r#"{{"event_type":"{event_type}",{ids},"time":{time}{session}}}"#)
}

fn analyse(lines: &[String], rules: &Rules) -> (EventStore, Analysis) {
    let store = store_of(lines);
    let a = Analysis::compute(&store, rules);
    (store, a)
}

fn user_names(store: &EventStore, a: &Analysis) -> Vec<String> {
    a.users
        .iter()
        .map(|u| format!("{}:{}", u.key.kind.name(), store.strings.get(u.key.id)))
        .collect()
}

/// The user key each event (input order) belongs to.
fn owner_of_each_event(store: &EventStore, a: &Analysis) -> Vec<String> {
    let names = user_names(store, a);
    let mut owner = vec![String::new(); store.events().len()];
    for (u, name) in names.iter().enumerate() {
        for &i in a.user_events(UserIx::from_usize(u)) {
            owner[i].clone_from(name);
        }
    }
    owner
}

#[test]
fn user_keys_follow_the_identity_rules() {
    let d = r#""device_id":"D""#;
    let u1 = r#""device_id":"D","user_id":"alice""#;
    let u2 = r#""device_id":"D","user_id":"bob""#;
    // (name, events, owner of each event in input order)
    let cases: Vec<(&str, Vec<String>, Vec<&str>)> = vec![
        (
            "amplitude_id wins over user_id",
            vec![ev("a", r#""amplitude_id":5,"user_id":"alice""#, 1, None)],
            vec!["amplitude_id:5"],
        ),
        (
            "anonymous before a login belongs to that user",
            vec![ev("a", d, 1, None), ev("b", u1, 2, None)],
            vec!["user_id:alice", "user_id:alice"],
        ),
        (
            "anonymous after a login belongs to the last known user",
            vec![
                ev("a", u1, 1, None),
                ev("b", u2, 5, None),
                ev("c", d, 3, None),
                ev("d", d, 9, None),
            ],
            vec![
                "user_id:alice",
                "user_id:bob",
                "user_id:alice",
                "user_id:bob",
            ],
        ),
        (
            "a login at the same time counts as at or before, whatever the input order",
            vec![
                ev("a", d, 5, None),
                ev("b", u1, 1, None),
                ev("c", u2, 5, None),
            ],
            vec!["user_id:bob", "user_id:alice", "user_id:bob"],
        ),
        (
            "equal times: the last in input order is the last known user",
            vec![
                ev("a", u1, 5, None),
                ev("b", u2, 5, None),
                ev("c", d, 6, None),
            ],
            vec!["user_id:alice", "user_id:bob", "user_id:bob"],
        ),
        (
            "before any login: the first login after, by time",
            vec![
                ev("a", d, 1, None),
                ev("b", u2, 9, None),
                ev("c", u1, 4, None),
            ],
            vec!["user_id:alice", "user_id:bob", "user_id:alice"],
        ),
        (
            "a device that never logs in is its own user",
            vec![
                ev("a", d, 1, None),
                ev("b", r#""device_id":"E","user_id":"alice""#, 2, None),
            ],
            vec!["device:D", "user_id:alice"],
        ),
        (
            "keys of different kinds never match",
            vec![
                ev("a", r#""device_id":"x""#, 1, None),
                ev("b", r#""user_id":"x""#, 2, None),
            ],
            vec!["device:x", "user_id:x"],
        ),
        (
            "an anonymous event joins the amplitude id of the logged-in event",
            vec![
                ev(
                    "a",
                    r#""device_id":"D","user_id":"alice","amplitude_id":7"#,
                    1,
                    None,
                ),
                ev("b", d, 2, None),
            ],
            vec!["amplitude_id:7", "amplitude_id:7"],
        ),
        (
            "events with an amplitude_id but no user_id do not resolve anonymous ones",
            vec![
                ev("a", r#""device_id":"D","amplitude_id":7"#, 1, None),
                ev("b", d, 2, None),
            ],
            vec!["amplitude_id:7", "device:D"],
        ),
    ];
    for (name, lines, want) in cases {
        let (store, a) = analyse(&lines, &Rules::default());
        assert_eq!(owner_of_each_event(&store, &a), want, "{name}");
    }
}

/// Users are ordered by key kind, then by the id's text byte by byte, however long the
/// ids' common start (the sort compares eight-byte prefixes first), with a shorter id
/// before a longer one it starts, and ids holding NUL or non-ASCII bytes in their place.
#[test]
fn users_are_ordered_by_kind_then_id_text() {
    let ids = [
        r#""user_id":"user-0000000000-b""#,
        r#""user_id":"user-0000000000-a""#,
        r#""user_id":"user-000""#,
        r#""user_id":"user-0000000000""#,
        r#""user_id":"user-\u0000""#,
        r#""user_id":"user-""#,
        r#""user_id":"ü""#,
        r#""user_id":"u""#,
        r#""user_id":"abcdefgh""#,
        r#""user_id":"abcdefg""#,
        r#""user_id":"abcdefgh\u0000""#,
        r#""amplitude_id":20"#,
        r#""amplitude_id":1000000000000"#,
        r#""amplitude_id":100000000"#,
        r#""device_id":"zz""#,
        r#""device_id":"d-2""#,
    ];
    let lines: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| ev("a", id, T0 + i as i64, Some(T0)))
        .collect();
    let (store, a) = analyse(&lines, &Rules::default());
    let got: Vec<(KeyKind, String)> = a
        .users
        .iter()
        .map(|u| (u.key.kind, store.strings.get(u.key.id).to_owned()))
        .collect();
    let mut want = got.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(got.len(), ids.len());
    assert_eq!(
        got.iter()
            .filter(|(k, _)| *k == KeyKind::UserId)
            .map(|(_, id)| id.as_str())
            .collect::<Vec<_>>(),
        [
            "abcdefg",
            "abcdefgh",
            "abcdefgh\0",
            "u",
            "user-",
            "user-\0",
            "user-000",
            "user-0000000000",
            "user-0000000000-a",
            "user-0000000000-b",
            "ü",
        ]
    );
}

#[test]
fn users_are_counted_without_sessions_too() {
    let lines = vec![
        ev("a", r#""user_id":"u1""#, 1, None),
        ev("a", r#""user_id":"u2""#, 1, Some(1)),
    ];
    let (_, a) = analyse(&lines, &Rules::default());
    assert_eq!(a.summary.users, 2);
    assert_eq!(a.summary.sessions, 1);
    assert_eq!(a.summary.counts[Flag::NoSession], 1);
}

/// One user's session built from (type, offset from T0) pairs, all with session id `id`.
fn session_lines(id: i64, events: &[(&str, i64)]) -> Vec<String> {
    events
        .iter()
        .map(|(t, off)| ev(t, r#""user_id":"u""#, T0 + off, Some(id)))
        .collect()
}

#[test]
fn session_figures_and_flags() {
    struct Case {
        name: &'static str,
        id: i64,
        events: Vec<(&'static str, i64)>,
        length: i64,
        span: i64,
        gaps: u32,
        bridged: u32,
        flags: Vec<Flag>,
    }
    let cases = vec![
        Case {
            name: "a plain session",
            id: T0,
            events: vec![("a", 0), ("b", M), ("c", 3 * M)],
            length: 3 * M,
            span: 3 * M,
            gaps: 0,
            bridged: 0,
            flags: vec![],
        },
        Case {
            name: "length counts from the session id, span from the first event",
            id: T0 - M,
            events: vec![("a", 0), ("b", 2 * M)],
            length: 3 * M,
            span: 2 * M,
            gaps: 0,
            bridged: 0,
            flags: vec![],
        },
        Case {
            name: "only markers and identify calls: empty",
            id: T0,
            events: vec![
                ("session_start", 0),
                ("$identify", 1000),
                ("session_end", 2000),
            ],
            length: 2000,
            span: 2000,
            gaps: 0,
            bridged: 0,
            flags: vec![Flag::Empty],
        },
        Case {
            name: "the other marker spelling is inactive too",
            id: T0,
            events: vec![("[Amplitude] Start Session", 0), ("$groupidentify", 5)],
            length: 5,
            span: 5,
            gaps: 0,
            bridged: 0,
            flags: vec![Flag::Empty],
        },
        Case {
            name: "one event at the session id: zero length",
            id: T0,
            events: vec![("a", 0)],
            length: 0,
            span: 0,
            gaps: 0,
            bridged: 0,
            flags: vec![Flag::ZeroLength],
        },
        Case {
            name: "an event before the session began: suspect",
            id: T0 + 1,
            events: vec![("a", 0), ("b", 10)],
            length: 9,
            span: 10,
            gaps: 0,
            bridged: 0,
            flags: vec![Flag::SuspectId],
        },
        Case {
            name: "exactly a day before the first event: not suspect",
            id: T0 - DAY,
            events: vec![("a", 0)],
            length: DAY,
            span: 0,
            gaps: 0,
            bridged: 0,
            flags: vec![],
        },
        Case {
            name: "a day and a millisecond before: suspect",
            id: T0 - DAY - 1,
            events: vec![("a", 0)],
            length: DAY + 1,
            span: 0,
            gaps: 0,
            bridged: 0,
            flags: vec![Flag::SuspectId],
        },
        Case {
            name: "a session id in seconds: suspect",
            id: T0 / 1000,
            events: vec![("a", 0)],
            length: T0 - T0 / 1000,
            span: 0,
            gaps: 0,
            bridged: 0,
            flags: vec![Flag::SuspectId],
        },
        Case {
            name: "exactly the gap threshold apart: no gap",
            id: T0,
            events: vec![("a", 0), ("b", 5 * M)],
            length: 5 * M,
            span: 5 * M,
            gaps: 0,
            bridged: 0,
            flags: vec![],
        },
        Case {
            name: "a millisecond over the threshold: a gap",
            id: T0,
            events: vec![("a", 0), ("b", 5 * M + 1), ("c", 6 * M), ("d", 12 * M)],
            length: 12 * M,
            span: 12 * M,
            gaps: 2,
            bridged: 0,
            flags: vec![Flag::Gap],
        },
        Case {
            name: "gaps count between all events, inactive ones included",
            id: T0,
            events: vec![("a", 0), ("$identify", 6 * M), ("b", 7 * M)],
            length: 7 * M,
            span: 7 * M,
            gaps: 1,
            bridged: 0,
            flags: vec![Flag::Gap],
        },
        Case {
            name: "identify calls every 4 minutes bridge a 12-minute idle stretch",
            id: T0,
            events: vec![
                ("a", 0),
                ("$identify", 4 * M),
                ("$identify", 8 * M),
                ("b", 12 * M),
            ],
            length: 12 * M,
            span: 12 * M,
            gaps: 0,
            bridged: 1,
            flags: vec![Flag::Bridged],
        },
        Case {
            name: "a bridge broken by a step over the threshold is a gap, not bridged",
            id: T0,
            events: vec![("a", 0), ("$identify", 4 * M), ("b", 10 * M)],
            length: 10 * M,
            span: 10 * M,
            gaps: 1,
            bridged: 0,
            flags: vec![Flag::Gap],
        },
        Case {
            name: "active events exactly the threshold apart are not bridged",
            id: T0,
            events: vec![("a", 0), ("$identify", M), ("b", 5 * M)],
            length: 5 * M,
            span: 5 * M,
            gaps: 0,
            bridged: 0,
            flags: vec![],
        },
        Case {
            name: "markers bridge too",
            id: T0,
            events: vec![("a", 0), ("session_end", 3 * M), ("b", 6 * M)],
            length: 6 * M,
            span: 6 * M,
            gaps: 0,
            bridged: 1,
            flags: vec![Flag::Bridged],
        },
    ];
    for c in cases {
        let (_, a) = analyse(&session_lines(c.id, &c.events), &Rules::default());
        assert_eq!(a.sessions.len(), 1, "{}", c.name);
        let s = &a.sessions[0];
        assert_eq!(s.length_ms(), c.length, "{}: length", c.name);
        assert_eq!(s.span_ms(), c.span, "{}: span", c.name);
        assert_eq!(s.gaps, c.gaps, "{}: gaps", c.name);
        assert_eq!(s.bridged, c.bridged, "{}: bridged", c.name);
        assert_eq!(s.flag_list(), c.flags, "{}: flags", c.name);
    }
}

#[test]
fn user_named_inactive_types_make_sessions_empty() {
    let lines = session_lines(T0, &[("Heartbeat", 0), ("Heartbeat", M)]);
    let (_, a) = analyse(&lines, &Rules::default());
    assert!(!a.sessions[0].has(Flag::Empty));
    let rules = Rules {
        inactive: vec!["Heartbeat".into()],
        ..Rules::default()
    };
    let (_, a) = analyse(&lines, &rules);
    assert!(a.sessions[0].has(Flag::Empty));
    assert_eq!(a.replay.sessions, 0);
}

#[test]
fn unterminated_sessions_exclude_the_latest() {
    let u = r#""user_id":"u""#;
    let lines = vec![
        ev("session_start", u, T0, Some(T0)),
        ev("a", u, T0 + 1, Some(T0)),
        ev("session_start", u, T0 + 10 * M, Some(T0 + 10 * M)),
        ev("session_end", u, T0 + 11 * M, Some(T0 + 10 * M)),
        ev("session_start", u, T0 + 20 * M, Some(T0 + 20 * M)),
        // Markers out of session affect no session.
        ev("session_end", u, T0 + 2, Some(-1)),
    ];
    let (_, a) = analyse(&lines, &Rules::default());
    let unterminated: Vec<bool> = a
        .sessions
        .iter()
        .map(|s| s.has(Flag::Unterminated))
        .collect();
    assert_eq!(unterminated, [true, false, false]);
    assert_eq!(a.summary.counts[Flag::Unterminated], 1);
    assert_eq!(a.summary.counts[Flag::NoSession], 1);
}

#[test]
fn numeric_string_session_ids_equal_integers() {
    let u = r#""user_id":"u""#;
    let lines = vec![
        ev("a", u, T0, Some(T0)),
        format!(
            r#"{{"event_type":"b",{u},"time":{},"session_id":"{T0}"}}"#,
            T0 + 1
        ),
    ];
    let (_, a) = analyse(&lines, &Rules::default());
    assert_eq!(a.sessions.len(), 1);
    assert_eq!(a.sessions[0].events, 2);
}

#[test]
fn session_ids_are_per_user() {
    let lines = vec![
        ev("a", r#""user_id":"u1""#, T0, Some(T0)),
        ev("a", r#""user_id":"u2""#, T0, Some(T0)),
    ];
    let (_, a) = analyse(&lines, &Rules::default());
    assert_eq!(a.summary.sessions, 2);
}

#[test]
fn duplicates_follow_the_seven_day_window() {
    let dup = |device: &str, key: &str, time: i64| {
        format!(
            r#"{{"event_type":"a","user_id":"u",{device}"insert_id":"{key}","time":{time},"session_id":{T0}}}"#
        )
    };
    let d = r#""device_id":"D","#;
    let e = r#""device_id":"E","#;
    let w = DEDUP_WINDOW_MS;
    // (name, events, duplicate flags in input order)
    let cases: Vec<(&str, Vec<String>, Vec<bool>)> = vec![
        (
            "a repeat on the same device",
            vec![dup(d, "k", T0), dup(d, "k", T0 + 5)],
            vec![false, true],
        ),
        (
            "exactly 7 days later",
            vec![dup(d, "k", T0), dup(d, "k", T0 + w)],
            vec![false, true],
        ),
        (
            "7 days and 1 ms later",
            vec![dup(d, "k", T0), dup(d, "k", T0 + w + 1)],
            vec![false, false],
        ),
        (
            "a chain: each is within 7 days of the previous duplicate",
            vec![
                dup(d, "k", T0),
                dup(d, "k", T0 + w),
                dup(d, "k", T0 + 2 * w),
            ],
            vec![false, true, true],
        ),
        (
            "another device",
            vec![dup(d, "k", T0), dup(e, "k", T0 + 5)],
            vec![false, false],
        ),
        (
            "another key",
            vec![dup(d, "k", T0), dup(d, "j", T0 + 5)],
            vec![false, false],
        ),
        (
            "no device on both",
            vec![dup("", "k", T0), dup("", "k", T0 + 5)],
            vec![false, true],
        ),
        (
            "the earlier event is the original, whatever the input order",
            vec![dup(d, "k", T0 + 5), dup(d, "k", T0)],
            vec![true, false],
        ),
        (
            "equal times: input order decides",
            vec![dup(d, "k", T0), dup(d, "k", T0)],
            vec![false, true],
        ),
    ];
    for (name, lines, want) in cases {
        let (store, a) = analyse(&lines, &Rules::default());
        let got: Vec<bool> = (0..store.events().len())
            .map(|i| a.is_duplicate(EventIx::from_usize(i)))
            .collect();
        assert_eq!(got, want, "{name}");
        let n = want.iter().filter(|d| **d).count() as u64;
        assert_eq!(a.summary.counts[Flag::Duplicate], n, "{name}");
    }
}

#[test]
fn replay_splits_merges_and_keeps_exactly_t() {
    let u = r#""user_id":"u""#;
    let lines = vec![
        // Recorded session 1: active events 10 minutes apart, then exactly 30m.
        ev("a", u, T0, Some(T0)),
        ev("b", u, T0 + 10 * M, Some(T0)),
        ev("c", u, T0 + 40 * M, Some(T0)),
        // Recorded session 2 starts 20 minutes after session 1 ends.
        ev("d", u, T0 + 60 * M, Some(T0 + 60 * M)),
        // Inactive and out-of-session events take no part.
        ev("$identify", u, T0 + 200 * M, Some(T0 + 60 * M)),
        ev("e", u, T0 + 300 * M, None),
    ];
    let (_, a) = analyse(&lines, &Rules::default());
    assert_eq!(a.summary.sessions, 2);
    // 30m: {a,b,c,d} one replayed session: both recorded sessions merged.
    assert_eq!(a.replay.sessions, 1);
    assert_eq!(a.replay.split, Vec::<SessionIx>::new());
    assert_eq!(a.replay.merged, vec![SessionIx::new(0), SessionIx::new(1)]);
    assert_eq!(a.replay.median_length_ms, 60 * M);
    let mut a = a;
    // 5m: {a} {b} {c} {d}: session 1 split in three.
    a.set_timeout(5 * M);
    assert_eq!(a.replay.sessions, 4);
    assert_eq!(a.replay.split, vec![SessionIx::new(0)]);
    assert_eq!(a.replay.merged, Vec::<SessionIx>::new());
    assert_eq!(a.summary.replayed_sessions, 4);
    // 15m: {a,b} {c} {d}.
    a.set_timeout(15 * M);
    assert_eq!(a.replay.sessions, 3);
    assert_eq!(a.replay.median_length_ms, 0);
    let sweep = a.sweep();
    let counts: Vec<(i64, u64)> = sweep
        .iter()
        .map(|r| (r.timeout_ms / M, r.sessions))
        .collect();
    assert_eq!(
        counts,
        [(1, 4), (5, 4), (15, 3), (30, 1), (60, 1), (120, 1)]
    );
    // Gaps between consecutive active in-session events: 10m, 30m, 20m.
    let h = &a.gap_histogram;
    assert_eq!(h.counts[GapHistogram::bucket(10 * M)], 1);
    assert_eq!(
        GapHistogram::bucket(10 * M),
        GapHistogram::bucket(5 * M + 1)
    );
    assert_eq!(h.counts.iter().sum::<u64>(), 3);
    assert_eq!(h.longer_than(15 * M), 2);
    assert_eq!(
        a.replay_input.user_segments(UserIx::new(0), 30 * M),
        vec![(T0, T0 + 60 * M, 4)]
    );
}

#[test]
fn replay_drops_recorded_sessions_without_active_events() {
    let lines = session_lines(T0, &[("session_start", 0), ("session_end", M)]);
    let (_, a) = analyse(&lines, &Rules::default());
    assert_eq!(a.replay.sessions, 0);
    assert_eq!(a.replay_input.dropped, 1);
}

#[test]
fn replayed_lengths_beyond_32_bits_keep_their_median() {
    const DAY: i64 = 24 * 60 * M;
    let (u, v) = (r#""user_id":"u""#, r#""user_id":"v""#);
    let lines = vec![
        // 60 days: more milliseconds than 32 bits hold.
        ev("a", u, T0, Some(T0)),
        ev("b", u, T0 + 60 * DAY, Some(T0)),
        ev("a", v, T0, Some(T0)),
        ev("b", v, T0 + 10 * M, Some(T0)),
    ];
    let (_, mut a) = analyse(&lines, &Rules::default());
    a.set_timeout(100 * DAY);
    assert_eq!(a.replay.sessions, 2);
    assert_eq!(a.replay.median_length_ms, 10 * M + (60 * DAY - 10 * M) / 2);
}

#[test]
fn medians() {
    assert_eq!(median(&mut []), 0);
    assert_eq!(median(&mut [5]), 5);
    assert_eq!(median(&mut [9, 1, 5]), 5);
    assert_eq!(median(&mut [4, 1, 2, 9]), 3);
    assert_eq!(median(&mut [1, 2]), 1);
}

/// The replay's median of 32-bit lengths with the zeros only counted, against [`median`]
/// over all of them: (lengths above zero, zeros, median).
#[test]
fn medians_of_narrow_lengths_and_counted_zeros() {
    use super::replay::median_narrow;
    let cases: &[(&[u32], usize, i64)] = &[
        (&[], 0, 0),
        (&[], 3, 0),
        (&[7], 0, 7),
        (&[7], 1, 3),
        (&[7], 2, 0),
        (&[9, 1, 5], 0, 5),
        (&[9, 1, 5], 1, 3),
        (&[9, 1, 5], 2, 1),
        (&[9, 1, 5], 3, 0),
        (&[4, 8], 2, 2),
        (&[u32::MAX, u32::MAX], 0, i64::from(u32::MAX)),
        (&[u32::MAX, 1], 0, 2_147_483_648),
    ];
    for &(values, zeros, expected) in cases {
        let mut narrow = values.to_vec();
        assert_eq!(
            median_narrow(&mut narrow, zeros),
            expected,
            "{values:?} and {zeros} zeros"
        );
        let mut all: Vec<i64> = values.iter().map(|&v| i64::from(v)).collect();
        all.resize(all.len() + zeros, 0);
        assert_eq!(
            median(&mut all),
            expected,
            "{values:?} and {zeros} zeros, widened"
        );
    }
}

#[test]
fn the_demo_stream_shows_every_flag() {
    let store = crate::source::load_all(&[], &crate::source::LoadOptions::default());
    let a = Analysis::compute(&store, &Rules::default());
    for flag in Flag::ALL {
        assert!(
            a.summary.counts.get(flag) > 0,
            "the demo has no {}",
            flag.label()
        );
    }
    assert!(store.rejected() > 0);
    let mut at_5m = a.clone();
    at_5m.set_timeout(5 * M);
    assert_ne!(
        at_5m.replay.sessions, a.replay.sessions,
        "5m and 30m replay differ"
    );
}

/// A random small stream: few users, devices, sessions and times, so that anonymous
/// events, duplicates and gaps all occur. Times are distinct (each event gets its own
/// millisecond): the contract lets input order break ties, so only then must a shuffle
/// change nothing.
fn arb_stream() -> impl Strategy<Value = Vec<String>> {
    let event = (
        prop_oneof![
            Just("a"),
            Just("b"),
            Just("$identify"),
            Just("session_start"),
            Just("session_end"),
            Just("[Amplitude] Application Backgrounded"),
            Just("[Amplitude] Application Opened")
        ],
        prop_oneof![
            Just(r#""user_id":"u1","device_id":"D1""#),
            Just(r#""user_id":"u2","device_id":"D1""#),
            Just(r#""device_id":"D1""#),
            Just(r#""device_id":"D2""#),
            Just(r#""amplitude_id":3"#)
        ],
        0i64..40,
        prop_oneof![Just(None), Just(Some(-1)), (0i64..4).prop_map(Some)],
        prop_oneof![
            Just(""),
            Just(r#","insert_id":"k1""#),
            Just(r#","insert_id":"k2""#)
        ],
        prop_oneof![
            Just(""),
            Just(r#","user_properties":{"p":1,"q":[1,{"r":2}]}"#),
            Just(r#","user_properties":{"q":[1,{"r":2.0}],"p":1.0}"#),
            Just(r#","user_properties":{"p":2}"#),
            Just(r#","user_properties":null,"$skip_user_properties_sync":true"#),
            Just(r#","user_properties":{"p":2},"$skip_user_properties_sync":"true""#)
        ],
    )
        .prop_map(|(t, ids, minute, session, key, props)| {
            let time = T0 + minute * 3 * M;
            let session = session.map_or(String::new(), |s: i64| {
                let id = if s < 0 { -1 } else { T0 + s * 30 * M };
                format!(",\"session_id\":{id}")
            });
            format!(r#"{{"event_type":"{t}",{ids},"time":{time}{session}{key}{props}}}"#)
        });
    proptest::collection::vec(event, 0..40).prop_map(|lines| {
        lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| retimed(&line, |t| t + i as i64))
            .collect()
    })
}

/// `line` with its `"time"` changed by `f`.
fn retimed(line: &str, f: impl Fn(i64) -> i64) -> String {
    let (head, tail) = line.split_once("\"time\":").unwrap_or((line, ""));
    let digits = tail
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(tail.len());
    let time: i64 = tail[..digits].parse().unwrap_or(T0);
    format!("{head}\"time\":{}{}", f(time), &tail[digits..])
}

/// `lines` with every third one `jump` later than the one before (three lines apart by
/// minutes, then a jump): short and long gaps mixed.
fn stretched(lines: &[String], jump: i64) -> Vec<String> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| retimed(l, |t| t + (i / 3) as i64 * jump))
        .collect()
}

fn summary_figures(a: &Analysis) -> (Summary, Vec<SweepRow>, GapHistogram) {
    (a.summary, a.sweep(), a.gap_histogram.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn narrow_medians_with_counted_zeros_equal_the_wide_median(
        values in proptest::collection::vec(1u32.., 0..40),
        zeros in 0usize..40,
    ) {
        let mut all: Vec<i64> = values.iter().map(|&v| i64::from(v)).collect();
        all.resize(all.len() + zeros, 0);
        let mut narrow = values.clone();
        prop_assert_eq!(super::replay::median_narrow(&mut narrow, zeros), median(&mut all));
    }

    #[test]
    fn shuffling_the_input_changes_no_figure(lines in arb_stream(), seed in any::<u64>()) {
        let (_, a) = analyse(&lines, &Rules::default());
        let mut shuffled = lines.clone();
        // A deterministic Fisher-Yates shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let (_, b) = analyse(&shuffled, &Rules::default());
        prop_assert_eq!(summary_figures(&a), summary_figures(&b));
        prop_assert_eq!(a.user_counts, b.user_counts);
    }

    #[test]
    fn triage_orders_by_score_then_anomalies_then_key(lines in arb_stream()) {
        let (_, a) = analyse(&lines, &Rules::default());
        let scores = a.severity_scores();
        // The definition, compared pair by pair in a stable sort.
        let mut want: Vec<UserIx> = a.user_ixs().collect();
        want.sort_by(|&x, &y| {
            scores[y.idx()]
                .partial_cmp(&scores[x.idx()])
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.user_counts[y].anomalies().cmp(&a.user_counts[x].anomalies()))
        });
        prop_assert_eq!(a.triage_order(), want);
    }

    /// The replay input keeps times as gaps and sessions as runs; what it reads back is
    /// each user's active in-session events as the analysis has them. The times are
    /// stretched apart so that gaps need more than 32 bits and session ids lie too far
    /// from their events for the event records to hold.
    #[test]
    fn the_replay_input_reads_back_every_users_active_in_session_events(
        lines in arb_stream(),
        jump in prop_oneof![Just(0i64), Just(DAY), Just(60 * DAY), Just(1i64 << 40)],
    ) {
        let lines = stretched(&lines, jump);
        let (store, a) = analyse(&lines, &Rules::default());
        for u in a.user_ixs() {
            let want: Vec<(i64, SessionIx)> = a.users[u]
                .events
                .idx()
                .filter_map(|p| {
                    let s = a.pos_session[p];
                    let e = store.events()[a.order[p].idx()];
                    let active = a.classes.get(e.event_type.idx()).is_none_or(|c| c.is_active());
                    (s != NO_SESSION && active).then_some((e.time, s))
                })
                .collect();
            prop_assert_eq!(a.replay_input.events_of(u).len(), want.len());
            prop_assert_eq!(a.replay_input.events_of(u).collect::<Vec<_>>(), want.clone());
            let times: Vec<i64> = want.iter().map(|&(t, _)| t).collect();
            prop_assert_eq!(a.replay_input.times_of(u).collect::<Vec<_>>(), times.clone());
            let gaps: Vec<i64> = times.windows(2).map(|w| w[1].saturating_sub(w[0])).collect();
            prop_assert_eq!(a.replay_input.gaps_of(u).collect::<Vec<_>>(), gaps);
        }
    }

    /// A user's sweep replays all its timeouts in one pass; each row is what one replay of
    /// the user at that timeout finds (and the whole input's sweep, one replay per timeout
    /// reused or not, what a replay finds). Sessions interleave, times
    /// are stretched so that replayed sessions outgrow 32 bits, and timeouts fall on the
    /// gaps themselves (3 minutes apart: a gap equal to the timeout does not cut).
    #[test]
    fn the_one_pass_sweep_agrees_with_one_replay_per_timeout(
        lines in arb_stream(),
        jump in prop_oneof![Just(0i64), Just(60 * DAY), Just(1i64 << 40)],
        extra in proptest::collection::vec(-1i64..(4 * 60 * M), 0..4),
    ) {
        let lines = stretched(&lines, jump);
        let (_, a) = analyse(&lines, &Rules::default());
        let mut timeouts = sweep_timeouts(30 * M);
        timeouts.extend([0, 3 * M - 1, 3 * M, 3 * M + 1, 6 * M, DAY, i64::MAX]);
        timeouts.extend(&extra);
        let one_replay = |t: i64| {
            let r = a.replay_input.replay(t, &a.sessions);
            SweepRow {
                timeout_ms: t,
                sessions: r.sessions,
                median_length_ms: r.median_length_ms,
                split: r.split.len() as u64,
                merged: r.merged.len() as u64,
            }
        };
        // In any order, with repeats, and with one replay already done.
        let want: Vec<SweepRow> = timeouts.iter().map(|&t| one_replay(t)).collect();
        prop_assert_eq!(a.replay_input.sweep_reusing(&timeouts, &a.sessions, None), want.clone());
        prop_assert_eq!(a.replay_input.sweep_reusing(&timeouts, &a.sessions, Some(&a.replay)), want);
        timeouts.sort_unstable();
        timeouts.dedup();
        let mut scratch = RowScratch::default();
        let mut rows = Vec::new();
        for u in a.user_ixs() {
            a.replay_input.user_sweep_rows(u, &timeouts, &mut scratch, &mut rows);
            let replays: Vec<UserReplay> = timeouts
                .iter()
                .map(|&t| a.replay_input.user_replay(u, t))
                .collect();
            let want: Vec<SweepRow> = replays.iter().map(UserReplay::row).collect();
            prop_assert_eq!(&rows, &want, "user {:?}", u);
            // The replay panel's per-session questions, answered by binary search.
            for r in &replays {
                for s in a.users[u].sessions.iter_ix() {
                    prop_assert_eq!(r.splits(s), r.split.iter().any(|x| x.session == s));
                    prop_assert_eq!(r.merges(s), r.merged.contains(&s));
                }
            }
        }
    }

    #[test]
    fn replayed_sessions_never_rise_as_the_timeout_grows(lines in arb_stream()) {
        let (_, a) = analyse(&lines, &Rules::default());
        let mut last = u64::MAX;
        for t in [0, M, 3 * M, 5 * M, 29 * M, 30 * M, 31 * M, 60 * M, 120 * M, DAY] {
            let n = a.replay_input.replay(t, &a.sessions).sessions;
            prop_assert!(n <= last, "{} sessions at {}ms after {}", n, t, last);
            last = n;
        }
    }

    #[test]
    fn a_huge_timeout_gives_one_session_per_user_with_active_in_session_events(lines in arb_stream()) {
        let (_, a) = analyse(&lines, &Rules::default());
        let r = a.replay_input.replay(i64::MAX / 2, &a.sessions);
        let with_active = a.replay_input.users.iter().filter(|r| !r.is_empty()).count() as u64;
        prop_assert_eq!(r.sessions, with_active);
        prop_assert!(r.per_user.iter().all(|&n| n <= 1));
    }

    #[test]
    fn every_event_belongs_to_exactly_one_user(lines in arb_stream()) {
        let (store, a) = analyse(&lines, &Rules::default());
        let mut seen = vec![0u32; store.events().len()];
        for &i in &a.order { seen[i] += 1; }
        prop_assert!(seen.iter().all(|&n| n == 1));
        let sessions_events: u64 = a.sessions.iter().map(|s| u64::from(s.events)).sum();
        prop_assert_eq!(sessions_events + a.summary.counts[Flag::NoSession], a.summary.events);
    }

    /// The ids collected in the session pass are those of a walk over each user's events
    /// in the user's order: each list in first-seen order, without repeats or empties.
    #[test]
    fn a_user_s_identity_lists_the_ids_on_its_events(lines in arb_stream()) {
        let (store, a) = analyse(&lines, &Rules::default());
        let events = store.events();
        for u in a.user_ixs() {
            let mut want: [Vec<Sym>; 3] = Default::default();
            for &e in a.user_events(u) {
                let e = store.ids(&events[e]);
                for (list, sym) in want.iter_mut().zip([e.user_id, e.amplitude_id, e.device_id]) {
                    if sym.is_some() && !list.contains(&sym) {
                        list.push(sym);
                    }
                }
            }
            let id = a.identity(u);
            prop_assert_eq!([id.user_ids, id.amplitude_ids, id.device_ids], want);
        }
    }
}

// ---- identity and triage ---------------------------------------------------------------

/// Export-shaped users: every event has amplitude_id, user_id and device_id.
fn export_shaped() -> Vec<String> {
    let ids = |amp: u64, user: &str, dev: &str| {
        format!(r#""amplitude_id":{amp},"user_id":"{user}","device_id":"{dev}""#)
    };
    let mut lines = Vec::new();
    for i in 0..3 {
        lines.push(ev("a", &ids(101, "ana", "phone"), T0 + i * M, Some(T0)));
    }
    for i in 0..2 {
        lines.push(ev(
            "a",
            &ids(101, "ana", "kiosk"),
            T0 + DAY + i * M,
            Some(T0 + DAY),
        ));
    }
    // Four of four sessions with ids in seconds.
    for s in 0..4 {
        let start = T0 + (s + 2) * 60 * M;
        lines.push(ev(
            "a",
            &ids(202, "kim", "kiosk"),
            start,
            Some(start / 1000),
        ));
    }
    // A clean session and two -1 heartbeats.
    for i in 0..5 {
        lines.push(ev("a", &ids(303, "carl", "laptop"), T0 + i * M, Some(T0)));
    }
    for i in 0..2 {
        lines.push(ev(
            "Heartbeat",
            &ids(303, "carl", "laptop"),
            T0 + 9 * M + i,
            Some(-1),
        ));
    }
    lines
}

#[test]
fn find_users_matches_any_id_whatever_the_key_kind() {
    let (store, a) = analyse(&export_shaped(), &Rules::default());
    let found = |text: &str| -> Vec<(String, IdField)> {
        a.find_users(&store, text)
            .into_iter()
            .map(|(u, f)| (store.strings.get(a.users[u].key.id).to_string(), f))
            .collect()
    };
    let cases: [(&str, &[(&str, IdField)]); 6] = [
        ("ana", &[("101", IdField::UserId)]),
        ("101", &[("101", IdField::AmplitudeId)]),
        ("phone", &[("101", IdField::DeviceId)]),
        // A shared device names both of its users.
        (
            "kiosk",
            &[("101", IdField::DeviceId), ("202", IdField::DeviceId)],
        ),
        ("nobody", &[]),
        // An event type is no id.
        ("Heartbeat", &[]),
    ];
    for (text, want) in cases {
        let want: Vec<(String, IdField)> =
            want.iter().map(|(k, f)| ((*k).to_string(), *f)).collect();
        assert_eq!(found(text), want, "{text}");
    }
}

/// A placeholder user id shared by many devices: each device once, in first-seen order,
/// across the switch from searching the list to its index (at 16 ids), with devices seen
/// before and after the switch coming back.
#[test]
fn a_user_on_many_devices_lists_each_device_once_in_first_seen_order() {
    let devices: Vec<String> = (0..40).map(|d| format!("dev-{d}")).collect();
    let order = (0..40).chain((0..40).rev()).chain([5, 20, 0, 39]);
    let lines: Vec<String> = order
        .enumerate()
        .map(|(i, d)| {
            let ids = format!(r#""user_id":"undefined","device_id":"{}""#, devices[d]);
            ev("a", &ids, T0 + i as i64, Some(T0))
        })
        .collect();
    let (store, a) = analyse(&lines, &Rules::default());
    assert_eq!(a.users.len(), 1);
    let id = a.identity(UserIx::new(0));
    let names: Vec<&str> = id
        .device_ids
        .iter()
        .map(|&s| store.strings.get(s))
        .collect();
    assert_eq!(names, devices);
    assert_eq!(id.user_ids.len(), 1);
}

#[test]
fn identity_labels_put_the_user_id_first() {
    let (store, a) = analyse(&export_shaped(), &Rules::default());
    let labels: Vec<String> = a.user_ixs().map(|u| a.identity(u).label(&store)).collect();
    assert_eq!(
        labels,
        [
            "ana · amp 101 · 2 devices",
            "kim · amp 202 · device kiosk",
            "carl · amp 303 · device laptop"
        ]
    );
    let (store, a) = analyse(
        &[ev("a", r#""device_id":"d-1""#, T0, Some(T0))],
        &Rules::default(),
    );
    assert_eq!(a.identity(UserIx::new(0)).label(&store), "device d-1");
}

#[test]
fn triage_ranks_the_share_of_a_user_s_data_over_raw_counts() {
    let (store, a) = analyse(&export_shaped(), &Rules::default());
    let order: Vec<&str> = a
        .triage_order()
        .into_iter()
        .map(|u| store.strings.get(a.users[u].key.id))
        .collect();
    // kim: every session id in seconds; carl: two heartbeats of seven events; ana: clean.
    assert_eq!(order, ["202", "303", "101"]);
    let scores = a.severity_scores();
    assert_eq!(scores[0], 0.0, "a user without flags scores 0");
    assert!(
        scores[1] > 5.0 && scores[2] > 0.0 && scores[2] < 1.0,
        "{scores:?}"
    );
}

#[test]
fn scope_figures_of_every_user_are_the_whole_input_s() {
    let (_, a) = analyse(&export_shaped(), &Rules::default());
    let all: Vec<UserIx> = a.user_ixs().collect();
    let f = a.scope_figures(&all);
    assert_eq!(f.events, a.summary.events);
    assert_eq!(f.sessions, a.summary.sessions);
    assert_eq!(f.counts, a.summary.counts);
    assert_eq!(f.replayed_sessions, a.summary.replayed_sessions);
    assert_eq!(f.gap_histogram, a.gap_histogram);
    assert_eq!(f.recorded_median_ms, a.replay_input.recorded_median_ms);
    assert_eq!(f.replayed_median_ms, a.replay.median_length_ms);
    let sweep: Vec<(i64, u64, i64)> = a
        .sweep()
        .iter()
        .map(|r| (r.timeout_ms, r.sessions, r.median_length_ms))
        .collect();
    let scoped: Vec<(i64, u64, i64)> = f
        .sweep
        .iter()
        .map(|r| (r.timeout_ms, r.sessions, r.median_length_ms))
        .collect();
    assert_eq!(scoped, sweep);
    // One user's: kim's four sessions, all suspect.
    let kim = a.scope_figures(&[UserIx::new(1)]);
    assert_eq!(
        (kim.events, kim.sessions, kim.counts[Flag::SuspectId]),
        (4, 4, 4)
    );
}

#[test]
fn legacy_uuid_resends_are_duplicates() {
    let e = |t: i64| {
        format!(
            r#"{{"event_type":"a","device_id":"d1","user_id":"u1","time":{t},"session_id":{T0},"uuid":"7f7c1c9e"}}"#
        )
    };
    let (_, a) = analyse(&[e(T0), e(T0 + 1000), e(T0 + 2000)], &Rules::default());
    assert_eq!(a.summary.counts[Flag::Duplicate], 2);
}

/// One event of user u1: type, time offset from T0, session (None: absent), and extra JSON
/// members (`user_properties`, `$skip_user_properties_sync`).
fn evx(event_type: &str, at: i64, session: Option<i64>, extra: &str) -> String {
    let session = session.map_or(String::new(), |s| format!(",\"session_id\":{s}"));
    format!(
        r#"{{"event_type":"{event_type}","user_id":"u1","time":{}{session}{extra}}}"#,
        T0 + at
    )
}

#[test]
fn end_props_changed_compares_the_end_marker_with_the_last_active_event() {
    let s = Some(T0);
    let plan = |p: &str| format!(r#","user_properties":{{"plan":"{p}"}}"#);
    let cases: Vec<(&str, Vec<String>, bool)> = vec![
        (
            "same properties",
            vec![
                evx("a", 0, s, &plan("pro")),
                evx("session_end", 5, s, &plan("pro")),
            ],
            false,
        ),
        (
            "changed before the end",
            vec![
                evx("a", 0, s, &plan("pro")),
                evx("session_end", 5, s, &plan("free")),
            ],
            true,
        ),
        (
            "the other end marker spelling",
            vec![
                evx("a", 0, s, &plan("pro")),
                evx("[Amplitude] End Session", 5, s, &plan("free")),
            ],
            true,
        ),
        (
            "key order and number forms do not count",
            vec![
                evx("a", 0, s, r#","user_properties":{"n":1,"plan":"pro"}"#),
                evx(
                    "session_end",
                    5,
                    s,
                    r#","user_properties":{"plan":"pro","n":1.0}"#,
                ),
            ],
            false,
        ),
        (
            "absent, null and {} are equal",
            vec![
                evx("a", 0, s, ""),
                evx("b", 1, s, r#","user_properties":null"#),
                evx("session_end", 5, s, r#","user_properties":{}"#),
            ],
            false,
        ),
        (
            "the skip flag true",
            vec![
                evx("a", 0, s, &plan("pro")),
                evx(
                    "session_end",
                    5,
                    s,
                    &format!(r#"{},"$skip_user_properties_sync":true"#, plan("free")),
                ),
            ],
            false,
        ),
        (
            "the skip flag as the string \"true\" does not skip",
            vec![
                evx("a", 0, s, &plan("pro")),
                evx(
                    "session_end",
                    5,
                    s,
                    &format!(r#"{},"$skip_user_properties_sync":"true""#, plan("free")),
                ),
            ],
            true,
        ),
        (
            "no active event before the end marker",
            vec![
                evx("session_start", 0, s, &plan("pro")),
                evx("session_end", 5, s, &plan("free")),
            ],
            false,
        ),
        (
            "compared with the LAST active event before it, not an identify call",
            vec![
                evx("a", 0, s, &plan("free")),
                evx("$identify", 2, s, &plan("pro")),
                evx("session_end", 5, s, &plan("free")),
            ],
            false,
        ),
        (
            "an active event after the end marker is not 'before it'",
            vec![
                evx("a", 0, s, &plan("pro")),
                evx("session_end", 5, s, &plan("pro")),
                evx("b", 9, s, &plan("free")),
            ],
            false,
        ),
        (
            "an out-of-session end marker affects no session",
            vec![
                evx("a", 0, s, &plan("pro")),
                evx("session_end", 5, None, &plan("free")),
            ],
            false,
        ),
        (
            "another session's active event does not count",
            vec![
                evx("a", 0, Some(T0 + 100), &plan("free")),
                evx("session_start", 200, Some(T0 + 200), ""),
                evx("session_end", 300, Some(T0 + 200), &plan("pro")),
            ],
            false,
        ),
    ];
    for (name, lines, want) in cases {
        let (_, a) = analyse(&lines, &Rules::default());
        let flagged = a
            .sessions
            .iter()
            .filter(|s| s.has(Flag::EndPropsChanged))
            .count();
        assert_eq!(flagged, usize::from(want), "{name}");
        assert_eq!(
            a.summary.counts[Flag::EndPropsChanged],
            u64::from(want),
            "{name}"
        );
    }
}

#[test]
fn background_events_lie_between_backgrounded_and_the_next_opened() {
    let s = Some(T0);
    let bg = LIFECYCLE_BACKGROUNDED;
    let op = LIFECYCLE_OPENED;
    // (name, events, background events in sessions, flagged sessions)
    let cases: Vec<(&str, Vec<String>, u64, usize)> = vec![
        (
            "no lifecycle events",
            vec![evx("a", 0, s, ""), evx("b", 5, s, "")],
            0,
            0,
        ),
        (
            "an event after Backgrounded",
            vec![
                evx("a", 0, s, ""),
                evx(bg, 1, s, ""),
                evx("Push Received", 5, s, ""),
            ],
            1,
            1,
        ),
        (
            "Opened ends the background",
            vec![
                evx(bg, 1, s, ""),
                evx("sync", 2, s, ""),
                evx(op, 3, s, ""),
                evx("b", 4, s, ""),
            ],
            1,
            1,
        ),
        (
            "events at the millisecond of Backgrounded go by input order",
            vec![
                evx("before", 1, s, ""),
                evx(bg, 1, s, ""),
                evx("after", 1, s, ""),
            ],
            1,
            1,
        ),
        (
            "Backgrounded without a later Opened: the user's later sessions too",
            vec![
                evx(bg, 1, s, ""),
                evx("sync", 5, s, ""),
                evx("sync", 10, Some(T0 + 100_000), ""),
                evx("sync", 20, Some(T0 + 100_000), ""),
            ],
            3,
            2,
        ),
        (
            "inactive events in the background do not count",
            vec![
                evx(bg, 1, s, ""),
                evx("$identify", 2, s, ""),
                evx("session_end", 3, s, ""),
            ],
            0,
            0,
        ),
        (
            "lifecycle events are never background events themselves",
            vec![evx(bg, 1, s, ""), evx(bg, 2, s, ""), evx(op, 3, s, "")],
            0,
            0,
        ),
        (
            "an out-of-session Backgrounded still moves the state; out-of-session events are not counted",
            vec![
                evx(bg, 1, None, ""),
                evx("timer", 2, None, ""),
                evx("fetch", 3, Some(T0 + 3), ""),
            ],
            1,
            1,
        ),
        (
            "a session started by a background event counts",
            vec![
                evx("a", 0, s, ""),
                evx(bg, 1, s, ""),
                evx("Location Updated", DAY, Some(T0 + DAY), ""),
                evx("Location Updated", DAY + 9, Some(T0 + DAY), ""),
            ],
            2,
            1,
        ),
    ];
    for (name, lines, events, sessions) in cases {
        let (_, a) = analyse(&lines, &Rules::default());
        assert_eq!(a.summary.counts[Flag::Background], events, "{name}");
        let flagged = a
            .sessions
            .iter()
            .filter(|s| s.has(Flag::Background))
            .count();
        assert_eq!(flagged, sessions, "{name}");
    }
    // Per user: the state of one user does not leak into another's.
    let lines = vec![
        evx(bg, 1, s, ""),
        r#"{"event_type":"a","user_id":"u2","time":1700000000005,"session_id":1700000000000}"#
            .to_string(),
    ];
    let (_, a) = analyse(&lines, &Rules::default());
    assert_eq!(a.summary.counts[Flag::Background], 0);
}

#[test]
fn background_time_is_the_session_s_time_between_backgrounded_and_opened() {
    let s = Some(T0);
    let bg = LIFECYCLE_BACKGROUNDED;
    let op = LIFECYCLE_OPENED;
    // (name, events, background ms, foreground ms)
    let cases: Vec<(&str, Vec<String>, i64, i64)> = vec![
        (
            "no lifecycle",
            vec![evx("a", 0, s, ""), evx("b", 10, s, "")],
            0,
            10,
        ),
        (
            "backgrounded at 2, a push at 10, opened at 30, then 35",
            vec![
                evx("a", 0, s, ""),
                evx(bg, 2, s, ""),
                evx("Push Received", 10, s, ""),
                evx(op, 30, s, ""),
                evx("b", 35, s, ""),
            ],
            28,
            7,
        ),
        (
            "backgrounded out of session: counted from the session's previous event",
            vec![
                evx("a", 0, s, ""),
                evx(bg, 4, None, ""),
                evx("sync", 9, s, ""),
            ],
            5,
            4,
        ),
        (
            "never opened again: up to the session's last event",
            vec![evx("a", 0, s, ""), evx(bg, 1, s, ""), evx("sync", 7, s, "")],
            6,
            1,
        ),
    ];
    for (name, lines, background, foreground) in cases {
        let (_, a) = analyse(&lines, &Rules::default());
        let session = &a.sessions[0];
        assert_eq!(session.background_ms, background, "{name}");
        assert_eq!(session.foreground_ms(), foreground, "{name}");
    }
}

// ---- playback ----------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Playback and replay are one rule: per user, the sessions playback starts are the
    /// replayed sessions at every timeout, and every event arrives exactly once.
    #[test]
    fn playback_starts_the_replayed_sessions(lines in arb_stream()) {
        let (store, a) = analyse(&lines, &Rules::default());
        for u in a.user_ixs() {
            let (inputs, ixs) = playback::inputs(&a, &store, u);
            prop_assert_eq!(inputs.len(), a.users[u].event_count() as usize);
            prop_assert_eq!(ixs.as_slice(), a.user_events(u));
            for t in [0, M, 5 * M, 30 * M, DAY, i64::MAX] {
                let p = playback::simulate(&inputs, t);
                let starts = p.steps.iter().filter(|s| matches!(s.kind, playback::StepKind::Start { .. })).count() as u64;
                prop_assert_eq!(starts, a.replay_input.user_session_count(u, t));
                let arrived = p.steps.iter().filter(|s| s.input.is_some()).count();
                prop_assert_eq!(arrived, inputs.len());
                prop_assert!(p.steps.windows(2).all(|w| w[0].time <= w[1].time));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The views that explain the two lifecycle flags agree with the session pass: the
    /// background stretches add up to the session's background time, and a session has an
    /// end-properties pair exactly when it carries `end_props_changed`.
    #[test]
    fn lifecycle_views_agree_with_the_flags(lines in arb_stream()) {
        let (store, a) = analyse(&lines, &Rules::default());
        for (k, s) in a.sessions.iter().enumerate() {
            let ix = crate::index::SessionIx::from_usize(k);
            let stretches = super::background_stretches(&a, &store, ix);
            let total: i64 = stretches.iter().map(|(f, t)| t - f).sum();
            prop_assert_eq!(total, s.background_ms, "{:?}", stretches);
            prop_assert!(stretches.iter().all(|&(f, t)| s.first <= f && f < t && t <= s.last));
            prop_assert_eq!(
                super::end_props_pair(&a, &store, ix).is_some(),
                s.flags.contains(Flag::EndPropsChanged)
            );
            prop_assert!(s.background_ms <= s.span_ms());
            prop_assert_eq!(s.flags.contains(Flag::Background), s.background > 0);
        }
    }
}
