//! TUI benchmarks on a 2-million-event stream over 40,000 users.
//!
//! ```text
//! cargo bench --bench tui
//! STREAMSCOPE_BENCH_FILE=target/bench/export-2m.ndjson cargo bench --bench tui
//! ```
//!
//! The stream is generated in memory (or read from `STREAMSCOPE_BENCH_FILE`, e.g. the file
//! `examples/gen_export.rs` writes) once. Before the criterion runs, one real start-up is
//! timed the way the inspector starts: app built, loader thread started, first frame drawn
//! (the target is under 200 ms), then loading and background analysis followed to the end,
//! with the slowest frame drawn meanwhile. Criterion then measures:
//!
//! - one full frame at 120×40 into a `TestBackend`, with the selection in the middle of the
//!   user list (target: under 5 ms whatever the input size), in several views, the events
//!   pane's pinned header, scrolled properties, search highlight and folding included, and
//!   playback (its frame, and starting and stopping it);
//! - `Analysis::set_timeout` for all users, and the app's whole timeout change (target:
//!   under 100 ms), also with the replay panel about the selected user open (`t`, `c`);
//! - the triage order of all users, which the inspector sorts its user list by after every
//!   analysis;
//! - the first frame of a new app (before any analysis).

use std::hint::black_box;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use streamscope::analysis::{MINUTE_MS, Rules};
use streamscope::source::{self, LoadOptions};
use streamscope::store::EventStore;
use streamscope::tui::action::Action;
use streamscope::tui::app::{App, Msg};
use streamscope::tui::rows::Row;
use streamscope::tui::ui;
use streamscope::tui::zone::Zones;

const EVENTS: usize = 2_000_000;
const USERS: usize = 40_000;
const TYPES: [&str; 12] = [
    "App Opened",
    "Page Viewed",
    "Search",
    "Add To Cart",
    "Purchase",
    "Button Clicked",
    "Video Played",
    "session_start",
    "session_end",
    "$identify",
    "Share",
    "Logout",
];

/// A deterministic pseudo-random stream (splitmix64).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// NDJSON of `EVENTS` events over `USERS` users: sessions of a few to a few dozen events,
/// gaps now and then, some out-of-session events and duplicates; users interleaved.
fn generate() -> Vec<u8> {
    let per_user = EVENTS / USERS;
    let mut out = Vec::with_capacity(EVENTS * 200);
    let base: i64 = 1_790_812_800_000;
    // Round-robin over users in chunks, so users interleave like a real export.
    let mut clocks: Vec<(i64, i64)> = (0..USERS)
        .map(|u| {
            let t = base + (mix(u as u64) % (20 * 86_400_000)) as i64;
            (t, t)
        })
        .collect();
    let mut n = 0u64;
    for round in 0..per_user {
        for (u, clock) in clocks.iter_mut().enumerate() {
            n += 1;
            let r = mix(n);
            let step = match r % 100 {
                0..=4 => 6 * MINUTE_MS + (r >> 8) as i64 % (40 * MINUTE_MS),
                5..=6 => 3 * 3_600_000,
                _ => 5_000 + (r >> 8) as i64 % 240_000,
            };
            if round > 0 {
                clock.1 += step;
            }
            if step >= 30 * MINUTE_MS {
                clock.0 = clock.1;
            }
            let (session, time) = *clock;
            let kind = TYPES[(r >> 16) as usize % TYPES.len()];
            let session = if r % 50 == 7 { -1 } else { session };
            let insert = if r % 100 == 3 { n - 1 } else { n };
            let _ = writeln!(
                out,
                r#"{{"event_type":"{kind}","user_id":"user-{u:05}","device_id":"dev-{u:05}","time":{time},"session_id":{session},"insert_id":"i{insert}","event_properties":{{"page":"/p/{}","plan":"{}","n":{}}}}}"#,
                r % 97,
                if r.is_multiple_of(3) { "pro" } else { "free" },
                r % 1000
            );
        }
    }
    out
}

fn options() -> LoadOptions {
    LoadOptions {
        keep_raw: true,
        ..LoadOptions::default()
    }
}

/// Starts the inspector the way `streamscope FILE` does, without a terminal: prints the
/// time to the first frame and to the end of loading and analysis; returns the app, fully
/// loaded and analysed.
fn start_up(bytes: Option<Arc<[u8]>>, file: Option<String>) -> App {
    let started = Instant::now();
    let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
    let name = file
        .clone()
        .unwrap_or_else(|| "generated-2m.ndjson".to_string());
    let src = app.add_source(&name).expect("a fresh store");
    let tx = app.sender();
    std::thread::spawn(move || {
        let opts = options();
        let mut emit = |ev| {
            let _ = tx.send(Msg::from(ev));
        };
        match (bytes, file) {
            (_, Some(path)) => source::load(&path, src, &opts, &mut emit),
            (Some(bytes), None) => {
                let read = Arc::new(AtomicU64::new(0));
                source::load_bytes(bytes, &name, src, &opts, &read, &mut emit);
                emit(streamscope::store::LoadEvent::Done { source: src });
            }
            (None, None) => {}
        }
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    let now = Instant::now();
    app.pump(now + Duration::from_millis(15));
    app.tick(now, 0);
    app.draw(&mut terminal).expect("draw");
    let first = started.elapsed();
    eprintln!("start-up: first frame after {first:.2?} (target < 200ms)");
    let mut slowest_prepare = Duration::ZERO;
    let mut slowest_render = Duration::ZERO;
    let mut frames = 0;
    let mut first_analysis = None;
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    while app.model.loading() || app.model.derived.analysis.is_none() {
        let now = Instant::now();
        app.pump(now + Duration::from_millis(15));
        app.tick(now, 0);
        if first_analysis.is_none()
            && app
                .model
                .derived
                .analysis
                .as_ref()
                .is_some_and(|a| a.summary.events > 0)
        {
            first_analysis = Some(started.elapsed());
        }
        let t = Instant::now();
        app.prepare(area);
        slowest_prepare = slowest_prepare.max(t.elapsed());
        let keys = app.keymap().clone();
        let t = Instant::now();
        terminal
            .draw(|f| ui::render(f, &app.model, &keys, &mut app.view))
            .expect("draw");
        slowest_render = slowest_render.max(t.elapsed());
        frames += 1;
        std::thread::sleep(Duration::from_millis(33));
    }
    let a = app.model.derived.analysis.as_ref().expect("analysed");
    eprintln!(
        "start-up: first analysis with events shown after {:.2?}; all {} events loaded and analysed after {:.2?}",
        first_analysis.unwrap_or_default(),
        a.summary.events,
        started.elapsed()
    );
    eprintln!(
        "start-up: {frames} frames drawn while loading (loader and analysis threads busy on the same cores); slowest prepare (layout, raw reads for visible rows) {slowest_prepare:.2?}, slowest render {slowest_render:.2?}"
    );
    app
}

fn benches(c: &mut Criterion) {
    let file = std::env::var("STREAMSCOPE_BENCH_FILE").ok();
    let bytes: Option<Arc<[u8]>> = if file.is_some() {
        None
    } else {
        let t = Instant::now();
        let b = generate();
        eprintln!(
            "generated {} events over {} users ({} MB) in {:.2?}",
            EVENTS,
            USERS,
            b.len() / 1_000_000,
            t.elapsed()
        );
        Some(Arc::from(b))
    };
    let mut app = start_up(bytes, file);
    let users = app.model.derived.users.list.len();
    app.select_user(users / 2);
    app.apply(Action::FocusNext);
    app.apply(Action::FocusNext);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    app.draw(&mut terminal).expect("draw");

    let mut group = c.benchmark_group("frame 120x40, 2M events");
    group.sample_size(10);
    let keys = app.keymap().clone();
    group.bench_function("render only (middle user, events)", |b| {
        b.iter(|| {
            terminal
                .draw(|f| ui::render(f, &app.model, &keys, &mut app.view))
                .expect("draw");
        });
    });
    group.bench_function("prepare + render (middle user, events)", |b| {
        b.iter(|| app.draw(&mut terminal).expect("draw"));
    });
    app.apply(Action::ToggleReplay);
    group.bench_function("prepare + render (replay panel)", |b| {
        b.iter(|| app.draw(&mut terminal).expect("draw"));
    });
    app.apply(Action::ToggleReplay);
    app.apply(Action::Down);
    app.apply(Action::Open);
    group.bench_function("prepare + render (event detail)", |b| {
        b.iter(|| app.draw(&mut terminal).expect("draw"));
    });
    app.apply(Action::CloseOverlay);
    // The session detail of the middle user's first session (Enter on its header).
    app.apply(Action::Top);
    app.apply(Action::Open);
    group.bench_function("prepare + render (session detail)", |b| {
        b.iter(|| app.draw(&mut terminal).expect("draw"));
    });
    app.apply(Action::CloseOverlay);
    group.bench_function("key j + prepare + render (users pane)", |b| {
        app.apply(Action::FocusNext);
        b.iter(|| {
            app.apply(Action::Down);
            app.draw(&mut terminal).expect("draw");
        });
    });
    // The timeline at its busiest: at 1m (the replay cuts many sessions), the user with the
    // most sessions the replay splits, on the first of them, so the session strip draws its
    // ticks, gap lengths and cuts and the lanes their cut and tie marks.
    app.set_timeout(MINUTE_MS);
    let busiest = {
        let m = &app.model;
        let a = m.derived.analysis.as_ref().expect("analysed");
        let mut splits = vec![0u32; a.users.len()];
        for &s in &a.replay.split {
            splits[a.sessions[s].user.idx()] += 1;
        }
        (0..users)
            .max_by_key(|&i| splits[m.derived.users.list[i].idx()])
            .unwrap_or(0)
    };
    app.select_user(busiest);
    let split_row = {
        let m = &app.model;
        let a = m.derived.analysis.as_ref().expect("analysed");
        m.derived.events.rows.iter().position(|r| {
            matches!(r, Row::Session { session, .. } if a.replay.split.binary_search(session).is_ok())
        })
    };
    app.select_row(split_row.unwrap_or(0));
    if let Some(l) = &app.model.derived.timeline.lanes {
        eprintln!(
            "timeline bench: {} sessions, {} replayed, {} cuts, {} ties, {} gaps",
            l.session_row.len(),
            l.replayed.len(),
            l.cuts.len(),
            l.ties.len(),
            l.gaps.len()
        );
    }
    group.bench_function(
        "prepare + render (timeline: strip + replay marks, most split user, 1m)",
        |b| {
            b.iter(|| app.draw(&mut terminal).expect("draw"));
        },
    );
    let mut wide = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    group.bench_function(
        "prepare + render 200x50 (timeline: strip + replay marks, most split user, 1m)",
        |b| {
            b.iter(|| app.draw(&mut wide).expect("draw"));
        },
    );
    app.set_timeout(30 * MINUTE_MS);
    group.finish();

    // The events pane's reading aids (issue 10, item 5) on the same user: scrolled into a
    // session (its header pinned), properties scrolled right, a search highlighted; then
    // every session folded.
    let mut group = c.benchmark_group("events pane 120x40, 2M events");
    group.sample_size(10);
    app.apply(Action::FocusNext);
    app.apply(Action::FocusNext);
    // Down until the list starts inside a session (its header pinned on the first line).
    for _ in 0..200 {
        app.apply(Action::Down);
        app.draw(&mut terminal).expect("draw");
        if ui::events::sticky_header(&app.model, app.view.events_top).is_some() {
            break;
        }
    }
    app.apply(Action::PropsRight);
    // The generated events' properties are short: `l` stops at their end. Scroll anyway,
    // so that the frame cuts every property text.
    app.model.events.hscroll = app.model.events.hscroll.max(4);
    app.model.events.search = "e".to_string();
    app.draw(&mut terminal).expect("draw");
    eprintln!(
        "events pane: row {} of {}, header pinned: {}, properties scrolled by {}",
        app.model.derived.events.selected + 1,
        app.model.derived.events.rows.len(),
        ui::events::sticky_header(&app.model, app.view.events_top).is_some(),
        app.model.events.hscroll
    );
    group.bench_function(
        "prepare + render (pinned header, h-scroll, highlight)",
        |b| {
            b.iter(|| app.draw(&mut terminal).expect("draw"));
        },
    );
    app.apply(Action::ToggleFoldAll);
    group.bench_function("key C (fold all or unfold all) + prepare + render", |b| {
        b.iter(|| {
            app.apply(Action::ToggleFoldAll);
            app.draw(&mut terminal).expect("draw");
        });
    });
    app.model.events.search.clear();
    app.apply(Action::TogglePlayback);
    group.bench_function("prepare + render (playback)", |b| {
        b.iter(|| app.draw(&mut terminal).expect("draw"));
    });
    group.bench_function("key p twice (start, stop and land) + frame", |b| {
        b.iter(|| {
            app.apply(Action::TogglePlayback);
            app.apply(Action::TogglePlayback);
            app.draw(&mut terminal).expect("draw");
        });
    });
    app.apply(Action::TogglePlayback);
    group.finish();

    let mut group = c.benchmark_group("user list, 2M events");
    group.sample_size(10);
    group.bench_function(
        "Analysis::triage_order (40,000 users, after every analysis)",
        |b| {
            let a = app.model.derived.analysis.as_ref().expect("analysed");
            b.iter(|| black_box(a.triage_order()));
        },
    );
    // What the users pane's `/` does on each key: every user's ids, lower-cased, against
    // the text typed so far (read from the store, nothing kept per user).
    group.bench_function(
        "id filter: every user's ids against \"ser-39\" (40,000 users)",
        |b| {
            let m = &app.model;
            let a = m.derived.analysis.as_ref().expect("analysed");
            let mut scratch = String::new();
            b.iter(|| {
                a.user_ixs()
                    .filter(|&u| {
                        streamscope::tui::model::ids_match(a, &m.store, u, "ser-39", &mut scratch)
                    })
                    .count()
            });
        },
    );
    group.finish();

    let mut group = c.benchmark_group("timeout change, 2M events");
    group.sample_size(10);
    let mut flip = false;
    group.bench_function("Analysis::set_timeout (all users)", |b| {
        let a = app.model.derived.analysis.as_mut().expect("analysed");
        b.iter(|| {
            flip = !flip;
            a.set_timeout(if flip { 5 * MINUTE_MS } else { 30 * MINUTE_MS });
            black_box(a.replay.sessions);
        });
    });
    // Every user's own sweep, as `report --format json` writes it: one pass a user for all
    // timeouts, against one replay a user and timeout.
    {
        use streamscope::analysis::RowScratch;
        let a = app.model.derived.analysis.as_ref().expect("analysed");
        let timeouts = streamscope::analysis::sweep_timeouts(7 * MINUTE_MS);
        let mut scratch = RowScratch::default();
        let mut rows = Vec::new();
        group.bench_function("every user's sweep, 7 timeouts (one pass a user)", |b| {
            b.iter(|| {
                let mut n = 0;
                for u in a.user_ixs() {
                    a.user_sweep_into(u, &timeouts, &mut scratch, &mut rows);
                    n += rows.len();
                }
                black_box(n)
            });
        });
        group.bench_function(
            "every user's sweep, 7 timeouts (one replay a timeout)",
            |b| {
                b.iter(|| {
                    let mut n = 0;
                    for u in a.user_ixs() {
                        rows.clear();
                        rows.extend(
                            timeouts
                                .iter()
                                .map(|&t| a.replay_input.user_row(u, t, &mut scratch)),
                        );
                        n += rows.len();
                    }
                    black_box(n)
                });
            },
        );
    }
    group.bench_function("key t (replay + lanes) + frame", |b| {
        b.iter(|| {
            app.apply(Action::CycleTimeout);
            app.draw(&mut terminal).expect("draw");
        });
    });
    // The replay panel about the selected user: its per-user figures are recomputed for
    // that user only, on every frame.
    app.apply(Action::ToggleReplay);
    group.bench_function("key t + frame (replay panel about the user)", |b| {
        b.iter(|| {
            app.apply(Action::CycleTimeout);
            app.draw(&mut terminal).expect("draw");
        });
    });
    group.bench_function("key c + frame (replay panel, compared timeout)", |b| {
        b.iter(|| {
            app.apply(Action::CycleCompareTimeout);
            app.draw(&mut terminal).expect("draw");
        });
    });
    app.apply(Action::ToggleReplay);
    group.finish();

    let mut group = c.benchmark_group("search across all users, 2M events (a background job)");
    group.sample_size(10);
    let store = Arc::clone(&app.model.store);
    let n = store.events().len();
    for (name, needle) in [
        (
            "a rare type or id (scans everything, raw JSON included)",
            "zzz-no-such-text",
        ),
        ("a word in every event (stops at the 10,000 cap)", "plan"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let found =
                    streamscope::tui::search::search_store(&store, needle, n, &mut |_, _| {});
                black_box(found.hits.len());
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("first frame");
    group.sample_size(10);
    group.bench_function("App::new + draw before any analysis", |b| {
        b.iter(|| {
            let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
            let _ = app.add_source("big.ndjson");
            app.draw(&mut terminal).expect("draw");
            black_box(app.view.frames);
        });
    });
    group.finish();
}

criterion_group! {
    name = tui;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(tui);
