//! Render snapshots of every view at 120×40 and 80×24 (ratatui `TestBackend` + insta),
//! plus checks that hold for every frame: no control character reaches the screen, the
//! status bar's counts are report's, `NO_COLOR` means no colour, and no size panics.
//!
//! Times are UTC and nothing reads the clock, so the snapshots are deterministic.

use crate::tui_support;

use crossterm::event::KeyCode;
use ratatui::style::Color;
use streamscope::analysis::Rules;
use streamscope::index::SourceIx;
use streamscope::store::{EventStore, LoadEvent};
use streamscope::tui::app::{App, Msg};
use streamscope::tui::ui::Theme;
use streamscope::tui::zone::Zones;
use tui_support::*;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use streamscope::analysis::MINUTE_MS;
use streamscope::listen::shared::{KEEP_BODY, LiveState, RejectedRequest};

const SIZES: [(u16, u16); 2] = [(120, 40), (80, 24)];

/// The three sizes the views of issue 9 are checked at.
const ALL_SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// Snapshots the app `setup` builds at [`ALL_SIZES`].
fn check_all_sizes(name: &str, setup: impl Fn() -> App) {
    for (w, h) in ALL_SIZES {
        let mut app = setup();
        let t = draw(&mut app, w, h);
        assert_no_control_characters(&t);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

/// Snapshots the app `setup` builds at both sizes.
fn check(name: &str, setup: impl Fn() -> App) {
    for (w, h) in SIZES {
        let mut app = setup();
        let t = draw(&mut app, w, h);
        assert_no_control_characters(&t);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

fn assert_no_control_characters(t: &ratatui::Terminal<ratatui::backend::TestBackend>) {
    for (y, line) in screen(t).iter().enumerate() {
        assert!(
            !line.chars().any(char::is_control),
            "a control character on row {y}: {line:?}"
        );
    }
}

#[test]
fn users_pane() {
    check("users", small_app);
}

#[test]
fn timeline_zoomed_on_a_gap() {
    check("timeline", || {
        let mut app = small_app();
        key(&mut app, KeyCode::Enter);
        press(&mut app, 'e');
        key(&mut app, KeyCode::BackTab);
        press(&mut app, '+');
        press(&mut app, '+');
        app
    });
}

#[test]
fn event_stream_on_a_duplicate() {
    check("events", || {
        let mut app = small_app();
        key(&mut app, KeyCode::Enter);
        press(&mut app, 'e');
        press(&mut app, 'e');
        app
    });
}

#[test]
fn event_detail() {
    check("detail", || {
        let mut app = small_app();
        key(&mut app, KeyCode::Enter);
        press(&mut app, 'e');
        press(&mut app, 'e');
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn replay_panel_at_five_minutes() {
    check("replay", || {
        let mut app = small_app();
        press(&mut app, 'T');
        for _ in 0..3 {
            key(&mut app, KeyCode::Backspace);
        }
        type_text(&mut app, "5m");
        key(&mut app, KeyCode::Enter);
        press(&mut app, 'r');
        app
    });
}

#[test]
fn help_overlay() {
    check("help", || {
        let mut app = small_app();
        press(&mut app, '?');
        app
    });
}

#[test]
fn search_prompt() {
    check("search_prompt", || {
        let mut app = small_app();
        key(&mut app, KeyCode::Enter);
        press(&mut app, '/');
        type_text(&mut app, "purch");
        app
    });
}

#[test]
fn hostile_text_is_escaped() {
    check("hostile", || {
        let mut app = small_app();
        select_user(&mut app, "bob");
        key(&mut app, KeyCode::Enter);
        app
    });
    check("hostile_detail", || {
        let mut app = small_app();
        select_user(&mut app, "bob");
        key(&mut app, KeyCode::Enter);
        press(&mut app, 'j');
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn users_sorted_by_events_and_filtered() {
    check("users_sorted_filtered", || {
        let mut app = small_app();
        press(&mut app, 's');
        press(&mut app, '/');
        type_text(&mut app, "a");
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn newest_first_with_a_type_filter() {
    check("newest_first_filtered", || {
        let mut app = small_app();
        key(&mut app, KeyCode::Enter);
        press(&mut app, 'o');
        press(&mut app, 'f');
        type_text(&mut app, "o");
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn loading_before_the_first_analysis() {
    check("loading", || {
        let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
        let src = app.add_source("big-export.zip").unwrap();
        let tx = app.sender();
        tx.send(Msg::from(LoadEvent::Progress {
            source: src,
            read: 450,
            total: Some(1000),
        }))
        .unwrap();
        app.pump(std::time::Instant::now() + std::time::Duration::from_secs(1));
        app
    });
}

/// Loads `spec` as `app`'s source `src` through the real loader (raw text kept), passing
/// on each loader event `keep` accepts.
fn load_into(app: &App, spec: &str, src: SourceIx, keep: impl Fn(&LoadEvent) -> bool) {
    let opts = streamscope::source::LoadOptions {
        keep_raw: true,
        ..Default::default()
    };
    let tx = app.sender();
    streamscope::source::load(spec, src, &opts, &mut |ev| {
        if keep(&ev) {
            let _ = tx.send(Msg::from(ev));
        }
    });
}

/// Loading goes on after the first analysis; the next waits (the complete one is near):
/// the status bar says the figures cover only the events analysed so far.
#[test]
fn a_partial_analysis_says_how_many_events_it_covers() {
    check("partial_analysis", || {
        let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
        app.set_job_exec(streamscope::tui::jobs::Exec::Held);
        let first = app.add_source(SMALL).unwrap();
        load_into(&app, SMALL, first, |_| true);
        app.analyse_now();
        // More events arrive from a source still loading; no analysis runs meanwhile.
        let more = app.add_source("big-export.ndjson").unwrap();
        load_into(&app, SMALL, more, |ev| {
            !matches!(ev, LoadEvent::Done { .. })
        });
        app.sender()
            .send(Msg::from(LoadEvent::Progress {
                source: more,
                read: 450,
                total: Some(1000),
            }))
            .unwrap();
        app.pump(Instant::now() + Duration::from_secs(1));
        let status = screen(&draw(&mut app, 120, 40)).join("\n");
        assert!(status.contains("events analysed"), "{status}");
        app
    });
}

#[test]
fn a_failed_source_shows_in_the_status_bar() {
    check("failed_source", || {
        let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
        for spec in ["tests/fixtures/tui/no-such-file.ndjson", SMALL] {
            let src = app.add_source(spec).unwrap();
            load_into(&app, spec, src, |_| true);
        }
        app.analyse_now();
        app
    });
}

#[test]
fn a_note_shows_in_the_status_bar_and_is_not_a_problem() {
    let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
    let src = app.add_source(SMALL).unwrap();
    load_into(&app, SMALL, src, |_| true);
    app.sender()
        .send(Msg::from(LoadEvent::Note {
            source: src,
            message: "user search matched 2 users, all loaded".into(),
        }))
        .unwrap();
    app.analyse_now();
    let screen = draw(&mut app, 120, 30).backend().to_string();
    assert!(
        screen.contains("note: user search matched 2 users, all loaded"),
        "{screen}"
    );
    assert!(!screen.contains("problem"), "{screen}");
    assert!(!screen.contains('✗'), "{screen}");
}

#[test]
fn a_tiny_terminal_shows_a_message() {
    let mut app = small_app();
    let t = draw(&mut app, 40, 10);
    insta::assert_snapshot!("tiny_40x10", t.backend());
}

#[test]
fn no_size_panics() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    press(&mut app, 'e');
    for w in (1..=130).step_by(7) {
        for h in (1..=45).step_by(4) {
            for overlay in [None, Some('?'), Some('r')] {
                let mut app = small_app();
                if let Some(c) = overlay {
                    press(&mut app, c);
                }
                let _ = draw(&mut app, w, h);
            }
            let _ = draw(&mut app, w, h);
        }
    }
}

#[test]
fn no_color_draws_without_colours() {
    let mut app = small_app();
    app.view.theme = Theme::mono();
    key(&mut app, KeyCode::Enter);
    press(&mut app, 'e');
    let t = draw(&mut app, 120, 40);
    let buf = t.backend().buffer();
    for cell in &buf.content {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    // Flags are still there, in words.
    let text = screen(&t).join("\n");
    for word in [
        "GAP 7m12s",
        "DUP",
        "EMPTY",
        "UNTERMINATED",
        "NO SESSION",
        "ZERO",
        "BRIDGED",
    ] {
        assert!(text.contains(word), "{word} missing");
    }
}

/// The numbers of the status bar's first line: events, users, sessions, rejected.
fn status_counts(app: &mut App) -> [u64; 4] {
    let t = draw(app, 120, 40);
    let lines = screen(&t);
    let status = &lines[38];
    let number = |label: &str| -> u64 {
        let end = status
            .find(&format!(" {label}"))
            .unwrap_or_else(|| panic!("{label} in {status}"));
        let start = status[..end].rfind(' ').map_or(0, |i| i + 1);
        status[start..end]
            .replace(',', "")
            .parse()
            .expect("a count in the status bar")
    };
    [
        number("events"),
        number("users"),
        number("sessions"),
        number("rejected"),
    ]
}

/// The same four counts from `streamscope report --format json` (the real binary).
fn report_counts(sources: &[&str]) -> [u64; 4] {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args(["report", "--format", "json"])
        .args(sources)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report prints JSON");
    let s = &v["summary"];
    ["events", "users", "sessions", "rejected"].map(|k| s[k].as_u64().expect("an integer"))
}

#[test]
fn the_status_bar_counts_are_reports() {
    let mut app = small_app();
    assert_eq!(status_counts(&mut app), report_counts(&[SMALL]));
    assert_eq!(status_counts(&mut app), [27, 5, 9, 2]);
}

#[test]
fn the_status_bar_counts_are_reports_on_the_demo() {
    let mut store = EventStore::new();
    let src = store.add_source(streamscope::source::DEMO_NAME);
    let opts = streamscope::source::LoadOptions {
        keep_raw: true,
        ..Default::default()
    };
    let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut events = Vec::new();
    streamscope::source::load_bytes(
        std::sync::Arc::from(streamscope::source::DEMO),
        streamscope::source::DEMO_NAME,
        src,
        &opts,
        &read,
        &mut |ev| events.push(ev),
    );
    for ev in events {
        store.apply(ev);
    }
    let mut app = App::new(store, Rules::default(), Zones::default());
    app.analyse_now();
    assert_eq!(status_counts(&mut app), report_counts(&[]));
}

/// ann's session at T0 (0, 60, 120 s), ben's at T0+30 s (30, 90 s).
fn live_started() -> LiveApp {
    let mut live = LiveApp::new();
    live.receive(&[
        event_line("session_start", "ann", 0, 0),
        event_line("session_start", "ben", 30, 30),
        event_line("Search", "ann", 60, 0),
        event_line("Search", "ben", 90, 30),
        event_line("Purchase", "ann", 120, 0),
    ]);
    live
}

/// An endpoint with counters moved over two seconds (5 req/s, 150 ev/s), attached.
fn with_endpoint(live: &mut LiveApp) -> Arc<LiveState> {
    let state = Arc::new(LiveState::new(
        "http://127.0.0.1:8788".into(),
        PathBuf::from("/var/tmp/streamscope/capture-2024-01-02.ndjson"),
        None,
    ));
    live.app.set_live(Arc::clone(&state));
    let t0 = Instant::now();
    let now = T0 + 120_000 + 5 * MINUTE_MS;
    live.app.tick(t0, now);
    let c = &state.counters;
    c.requests.fetch_add(10, Ordering::Relaxed);
    c.events.fetch_add(300, Ordering::Relaxed);
    c.duplicates.fetch_add(4, Ordering::Relaxed);
    c.rejected_requests.fetch_add(2, Ordering::Relaxed);
    live.app.tick(t0 + Duration::from_secs(2), now);
    state
}

#[test]
fn live_status_bar_and_open_session_countdown() {
    check("live", || {
        let mut live = live_started();
        let _ = with_endpoint(&mut live);
        key(&mut live.app, KeyCode::Enter);
        live.app
    });
}

#[test]
fn the_new_events_badge_while_following_is_paused() {
    check("new_events_badge", || {
        let mut live = live_started();
        key(&mut live.app, KeyCode::Enter);
        press(&mut live.app, 'k');
        live.receive(&[
            event_line("Purchase", "ben", 200, 30),
            event_line("session_start", "cat", 300, 300),
        ]);
        live.app
    });
}

fn rejected_request(request: u64, path: &str, body: Vec<u8>, body_len: usize) -> RejectedRequest {
    RejectedRequest {
        request,
        at_ms: T0 + request as i64 * 7000,
        method: "POST".into(),
        path: path.into(),
        status: 400,
        error: "invalid events \u{1b}[2J".into(),
        reasons: vec![
            "events[0]: missing user_id and device_id".into(),
            "events[3]: time is not a number: \"\u{1b}]0;pwned\u{7}\"".into(),
        ],
        events: 5,
        kept: 3,
        body: Arc::from(body),
        body_len,
    }
}

/// A rejected request whose body was cut at the 64 KiB kept, with escape bytes inside.
fn hostile_body() -> Vec<u8> {
    let mut body = b"{\n  \"api_key\": \"k\",\n  \"events\": [\n".to_vec();
    let mut i = 0;
    while body.len() < KEEP_BODY {
        body.extend_from_slice(
            format!(
                "    {{\"event_type\": \"\u{1b}[31mred\u{1b}[0m\", \"user_id\": \"u-{i}\"}},\n"
            )
            .as_bytes(),
        );
        i += 1;
    }
    body.truncate(KEEP_BODY);
    body
}

fn with_rejections() -> LiveApp {
    let mut live = live_started();
    let state = with_endpoint(&mut live);
    state.push_rejected(rejected_request(
        1,
        "/batch",
        b"{\"events\":[]}".to_vec(),
        14,
    ));
    state.push_rejected(rejected_request(
        2,
        "/2/httpapi\u{1b}[1m",
        hostile_body(),
        70_000,
    ));
    live
}

#[test]
fn the_rejected_requests_overlay() {
    check("rejected", || {
        let mut live = with_rejections();
        press(&mut live.app, '!');
        live.app
    });
}

#[test]
fn a_rejected_requests_body_is_escaped_and_says_it_was_cut() {
    check("rejected_body", || {
        let mut live = with_rejections();
        press(&mut live.app, '!');
        key(&mut live.app, KeyCode::Enter);
        live.app
    });
}

#[test]
fn bang_lists_a_files_rejected_records_and_warnings() {
    check_all_sizes("rejected_records", || {
        let mut app = app_of(EXPORT);
        press(&mut app, '!');
        app
    });
}

#[test]
fn a_rejected_records_full_text_is_escaped() {
    check_all_sizes("rejected_record_text", || {
        let mut app = app_of(EXPORT);
        press(&mut app, '!');
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn requests_and_records_share_the_rejected_list() {
    check_all_sizes("rejected_requests_and_records", || {
        let mut live = with_rejections();
        live.receive(&["{\"event_type\":\"x\"}\n".to_string()]);
        press(&mut live.app, '!');
        key(&mut live.app, KeyCode::Down);
        key(&mut live.app, KeyCode::Down);
        live.app
    });
}

#[test]
fn the_detail_of_an_export_event_names_its_line_and_amplitude_id() {
    check_all_sizes("export_detail", || {
        let mut app = app_of(EXPORT);
        key(&mut app, KeyCode::Enter);
        // From the session header (Enter there opens the session detail) to its first
        // event.
        press(&mut app, 'j');
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn a_prompt_opens_empty_with_the_current_value_dimmed() {
    check_all_sizes("timeout_prompt", || {
        let mut app = small_app();
        press(&mut app, 'T');
        app
    });
}

#[test]
fn listen_waiting_for_its_first_event_says_where_to_send_it() {
    check_all_sizes("live_waiting", || {
        let mut live = LiveApp::new();
        let state = Arc::new(LiveState::new(
            "http://127.0.0.1:8788".into(),
            PathBuf::from("capture.ndjson"),
            None,
        ));
        live.app.set_live(state);
        live.app.analyse_now();
        live.app
    });
}
