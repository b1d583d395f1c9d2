//! Core benchmarks: decode throughput (bytes of NDJSON per second, all decoding threads)
//! and the cost of the session analysis, on a generated Export-like stream.
//! The end-to-end figure over a 1.3 GB file is `bench/report.sh`. Playback's simulation
//! (`p` in the inspector) is timed over one user with a million events.

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streamscope::analysis::playback::{self, PlayInput};
use streamscope::analysis::{Analysis, EventClass, Rules};
use streamscope::source::{LoadOptions, load_bytes};
use streamscope::store::EventStore;

/// `events` Export-like lines over `users` users, interleaved, with sessions, gaps,
/// identify calls, -1 events and duplicates.
fn export(events: usize, users: u64) -> Vec<u8> {
    let mut out = String::with_capacity(events * 600);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let t0: i64 = 1_790_812_800_000;
    for i in 0..events as u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let user = x % users;
        let step = i / users;
        let time = t0 + (step as i64) * 45_000 + (user as i64) * 7;
        let session = t0 + (step as i64 / 20) * 20 * 45_000 + (user as i64) * 7;
        let session = if x.is_multiple_of(50) { -1 } else { session };
        let kind = [
            "Page Viewed",
            "Search",
            "Add to Cart",
            "$identify",
            "Purchase",
        ][(x % 5) as usize];
        let insert = if x % 100 == 1 { i - 1 } else { i };
        let seconds = time / 1000;
        let _ = writeln!(
            out,
            r#"{{"$insert_id":"{insert:032x}","amplitude_id":{},"city":"Lyon","client_event_time":"2026-10-{:02} {:02}:{:02}:{:02}.{:03}000","country":"France","device_id":"dev-{user:08x}-4b2c-9f1e","device_model":"iPhone 16","event_id":{step},"event_properties":{{"screen":"Home","query":"caf\u00e9 au lait","results":[1,2,3],"filters":{{"size":"M","in_stock":true}}}},"event_type":"{kind}","library":"amplitude-swift/1.9.0","os_name":"ios","os_version":"26.0.1","platform":"iOS","session_id":{session},"user_id":"user-{user:08x}","user_properties":{{"plan":"pro","lifetime_orders":3,"push_enabled":false}}}}"#,
            300_000_000 + user,
            1 + (seconds / 86_400) % 28,
            (seconds / 3600) % 24,
            (seconds / 60) % 60,
            seconds % 60,
            time % 1000,
        );
    }
    out.into_bytes()
}

fn load(bytes: &Arc<[u8]>) -> EventStore {
    let mut store = EventStore::new();
    let source = store.add_source("bench");
    let read = Arc::new(AtomicU64::new(0));
    load_bytes(
        Arc::clone(bytes),
        "bench",
        source,
        &LoadOptions::default(),
        &read,
        &mut |ev| store.apply(ev),
    );
    store
}

fn benches(c: &mut Criterion) {
    let bytes: Arc<[u8]> = export(200_000, 4_000).into();
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("ndjson 200k events", |b| b.iter(|| black_box(load(&bytes))));
    group.finish();

    let store = load(&bytes);
    assert_eq!(store.rejected(), 0);
    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    group.throughput(Throughput::Elements(store.events().len() as u64));
    group.bench_function("compute 200k events", |b| {
        b.iter(|| black_box(Analysis::compute(&store, &Rules::default())));
    });
    let mut analysis = Analysis::compute(&store, &Rules::default());
    group.bench_function("set_timeout 200k events", |b| {
        b.iter(|| analysis.set_timeout(black_box(5 * 60_000)));
    });
    group.finish();

    // Playback (`p`) of one very long user: 1M events, a tenth of them identify calls and
    // a twentieth out of session, with a pause longer than 30m every 500 events.
    let inputs: Vec<PlayInput> = (0..1_000_000_i64)
        .map(|i| {
            let time = 1_700_000_000_000 + i * 20_000 + (i / 500) * 3_600_000;
            PlayInput {
                time,
                class: if i % 10 == 3 {
                    EventClass::Inactive
                } else {
                    EventClass::Active
                },
                recorded: (i % 20 != 7).then_some(1_700_000_000_000 + (i / 2_000) * 1_000),
                background: false,
            }
        })
        .collect();
    let mut group = c.benchmark_group("playback");
    group.sample_size(10);
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("simulate 1M events of one user at 30m", |b| {
        b.iter(|| black_box(playback::simulate(&inputs, 30 * 60_000)));
    });
    group.finish();

    // Hostile shapes of one user: every event a session of its own (a session id set from
    // each event's time), and one placeholder user id on a device per two events. Both
    // were quadratic in the user's sessions or devices (200,000 events: 2 minutes and 11 s
    // for a report); they must stay linear.
    let mut group = c.benchmark_group("one hostile user, 100k events");
    group.sample_size(10);
    let t0: i64 = 1_790_812_800_000;
    let lines = |ids: &dyn Fn(i64) -> (String, i64)| -> Arc<[u8]> {
        let mut out = String::new();
        for i in 0..100_000i64 {
            let (ids, session) = ids(i);
            let time = t0 + i * 1000;
            let _ = writeln!(
                out,
                r#"{{"event_type":"a",{ids},"time":{time},"session_id":{session}}}"#
            );
        }
        Arc::from(out.into_bytes())
    };
    let own_sessions = load(&lines(&|i| {
        (r#""user_id":"bot""#.to_string(), t0 + i * 1000)
    }));
    let one_user_many_devices = load(&lines(&|i| {
        (
            format!(r#""user_id":"undefined","device_id":"dev-{}""#, i / 2),
            t0 + (i / 50) * 50_000,
        )
    }));
    group.throughput(Throughput::Elements(100_000));
    group.bench_function(
        "a session per event: compute + the user's sweep and replay",
        |b| {
            b.iter(|| {
                let a = Analysis::compute(&own_sessions, &Rules::default());
                let u = streamscope::index::UserIx::new(0);
                black_box((a.user_sweep(u), a.user_replay(u).sessions.len()))
            });
        },
    );
    group.bench_function("a device per two events: compute", |b| {
        b.iter(|| black_box(Analysis::compute(&one_user_many_devices, &Rules::default())));
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
