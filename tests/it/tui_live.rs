//! Live-mode interaction tests, without a terminal: follow mode and its new-events count,
//! resets of the store (and analyses that started before one), the countdown of open
//! sessions, the endpoint's rates and the rejected-requests overlay. Every time is passed
//! in, as the run loop passes the clock.

use crate::tui_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use streamscope::analysis::{Analysis, MINUTE_MS};
use streamscope::listen::shared::{LiveState, RejectedRequest};
use streamscope::store::LoadEvent;
use streamscope::tui::app::Msg;
use streamscope::tui::jobs::{Analysed, Done, Exec, Kind, Outcome, RawPurpose, Tag};
use streamscope::tui::live_view::Follow;
use streamscope::tui::model::UserSort;
use streamscope::tui::model::{Focus, Overlay};
use streamscope::tui::rows::{Order, Row};
use tui_support::*;

/// ann's session at T0 (events at 0, 60, 120 s), ben's at T0+30 s (30, 90 s).
fn first_lines() -> Vec<String> {
    vec![
        event_line("session_start", "ann", 0, 0),
        event_line("session_start", "ben", 30, 30),
        event_line("Search", "ann", 60, 0),
        event_line("Search", "ben", 90, 30),
        event_line("Purchase", "ann", 120, 0),
    ]
}

fn started() -> LiveApp {
    let mut live = LiveApp::new();
    live.receive(&first_lines());
    live
}

#[test]
fn following_keeps_the_selected_user_and_l_jumps_to_who_sent_last() {
    let mut live = started();
    let app = &live.app;
    assert_eq!(
        app.model.follow,
        Follow::On,
        "a live source starts following"
    );
    assert_eq!(selected_user_id(app), "ann");
    assert_eq!(selected_time(app), T0 + 120_000);
    assert_eq!(
        live.app.model.users.sort,
        UserSort::Recent,
        "live: most recent first"
    );
    // Another user sending does not take the selection away.
    live.receive(&[event_line("Purchase", "ben", 200, 30)]);
    assert_eq!(selected_user_id(&live.app), "ann");
    assert_eq!(selected_time(&live.app), T0 + 120_000);
    // The selected user's new events are followed.
    live.receive(&[event_line("Search", "ann", 250, 0)]);
    assert_eq!(selected_user_id(&live.app), "ann");
    assert_eq!(selected_time(&live.app), T0 + 250_000);
    // L jumps to whoever sent last, and follows them.
    live.receive(&[event_line("Purchase", "ben", 260, 30)]);
    assert_eq!(selected_user_id(&live.app), "ann");
    press(&mut live.app, 'L');
    assert_eq!(live.app.model.follow, Follow::On);
    assert_eq!(selected_user_id(&live.app), "ben");
    assert_eq!(selected_time(&live.app), T0 + 260_000);
    assert_eq!(selected_type(&live.app), "Purchase");
}

#[test]
fn moving_pauses_following_and_the_badge_counts_what_arrived_since() {
    let mut live = started();
    press(&mut live.app, 'j');
    assert_eq!(live.app.model.follow, Follow::Paused { since: 5 });
    assert_eq!(selected_user_id(&live.app), "ben");
    live.receive(&[
        event_line("Purchase", "ann", 200, 0),
        event_line("session_start", "cat", 300, 300),
        event_line("Search", "cat", 310, 300),
    ]);
    assert_eq!(
        selected_user_id(&live.app),
        "ben",
        "paused: the selection stays"
    );
    assert_eq!(live.app.model.new_since_pause(), 3);
    let t = draw(&mut live.app, 120, 40);
    let title = usize::from(live.app.view.areas.lower.y);
    assert!(
        screen(&t)[title].contains("▼ 3 new events · F to follow"),
        "{}",
        screen(&t)[title]
    );
    // F resumes following the selected user: their newest event at once, and no badge.
    press(&mut live.app, 'F');
    assert_eq!(live.app.model.follow, Follow::On);
    assert_eq!(selected_user_id(&live.app), "ben");
    assert_eq!(live.app.model.new_since_pause(), 0);
    // L goes to the user who sent last.
    press(&mut live.app, 'L');
    assert_eq!(selected_user_id(&live.app), "cat");
    assert_eq!(selected_time(&live.app), T0 + 310_000);
    // F again stops following: arrivals no longer move the selection.
    press(&mut live.app, 'F');
    assert_eq!(live.app.model.follow, Follow::Off);
    live.receive(&[event_line("Search", "dan", 400, 400)]);
    assert_eq!(selected_user_id(&live.app), "cat");
}

#[test]
fn every_kind_of_navigation_pauses_following() {
    let moves: [&dyn Fn(&mut streamscope::tui::app::App); 5] = [
        &|app| key(app, KeyCode::Down),
        &|app| press(app, 'G'),
        &|app| ctrl(app, 'd'),
        &|app| press(app, '/'),
        &|app| {
            app.model.focus = Focus::Lower;
            press(app, '{');
        },
    ];
    for (i, mv) in moves.iter().enumerate() {
        let mut live = started();
        mv(&mut live.app);
        assert!(
            matches!(live.app.model.follow, Follow::Paused { .. }),
            "move {i}"
        );
    }
    // Opening, the help, the zone and the timeout do not move the selection.
    let mut live = started();
    key(&mut live.app, KeyCode::Enter);
    press(&mut live.app, '?');
    press(&mut live.app, '?');
    press(&mut live.app, 'z');
    press(&mut live.app, 't');
    assert_eq!(live.app.model.follow, Follow::On);
}

#[test]
fn the_newest_event_is_found_in_either_list_order() {
    let mut live = started();
    key(&mut live.app, KeyCode::Enter);
    press(&mut live.app, 'o');
    assert_eq!(live.app.model.events.order, Order::NewestFirst);
    live.receive(&[event_line("Refund", "ann", 150, 0)]);
    assert_eq!(selected_time(&live.app), T0 + 150_000);
    // Newest first, the newest event is the row under its session's header.
    assert_eq!(live.app.model.derived.events.selected, 1);
    assert!(matches!(
        live.app.model.derived.events.rows[0],
        Row::Session { .. }
    ));
    press(&mut live.app, 'o');
    live.receive(&[event_line("Refund", "ann", 160, 0)]);
    let rows = live.app.model.derived.events.rows.len();
    assert_eq!(live.app.model.derived.events.selected, rows - 1);
    assert_eq!(selected_time(&live.app), T0 + 160_000);
}

#[test]
fn a_reset_forgets_the_analysis_and_drops_an_analysis_from_before_it() {
    let mut live = started();
    key(&mut live.app, KeyCode::Enter);
    key(&mut live.app, KeyCode::Enter);
    assert_eq!(live.app.model.overlay, Overlay::Detail);
    let app = &mut live.app;
    // An analysis of the old store, as a worker would report it after the reset.
    let before = app.epoch();
    let stale = Done {
        tag: Tag {
            kind: Kind::Analyse,
            id: 0,
            epoch: before,
        },
        outcome: Outcome::Analysed(Box::new(Analysed {
            analysis: Analysis::compute(&app.model.store, &app.model.rules),
            sweep: Vec::new(),
            generation: app.model.store.generation,
            took: Duration::ZERO,
        })),
    };
    let tx = app.sender();
    tx.send(Msg::from(LoadEvent::Reset {
        source: live.source,
    }))
    .unwrap();
    app.pump(Instant::now() + Duration::from_secs(5));
    assert_eq!(app.epoch(), before + 1);
    assert!(app.model.derived.analysis.is_none());
    assert!(app.model.derived.events.rows.is_empty());
    assert!(app.model.derived.users.list.is_empty());
    assert!(app.model.derived.timeline.lanes.is_none());
    assert!(app.model.derived.props.is_empty());
    assert!(app.model.derived.detail.is_none());
    assert_eq!(app.model.overlay, Overlay::None);
    assert_eq!(
        app.model.message.as_ref().unwrap().text,
        "the endpoint was reset; showing events received since"
    );
    live.send(&[event_line("session_start", "zed", 500, 500)]);
    live.app.pump(Instant::now() + Duration::from_secs(5));
    live.app.sender().send(Msg::Done(Box::new(stale))).unwrap();
    live.app.pump(Instant::now() + Duration::from_secs(5));
    assert!(
        live.app.model.derived.analysis.is_none(),
        "an analysis from before the reset is dropped"
    );
    let _ = draw(&mut live.app, 120, 40);
    live.app.analyse_now();
    let a = live.app.model.derived.analysis.as_ref().unwrap();
    assert_eq!(a.users.len(), 1);
    assert_eq!(selected_user_id(&live.app), "zed");
    let _ = draw(&mut live.app, 120, 40);
}

/// The gzip fixture: its raw texts are read back by jobs, not on the UI thread.
const GZ: &str = "tests/fixtures/containers/events.ndjson.gz";

/// An app over [`GZ`] with held jobs, the event list focused and drawn, so that a job
/// reading the key properties of the rows on screen has been asked for and started.
fn props_read_started() -> streamscope::tui::app::App {
    let mut app = app_of(GZ);
    app.set_job_exec(Exec::Held);
    key(&mut app, KeyCode::Enter);
    let _ = draw(&mut app, 120, 40);
    app.run_jobs();
    assert!(
        app.jobs()
            .running(Kind::ReadRaw(RawPurpose::Props))
            .is_some()
    );
    assert!(app.model.derived.props.is_empty());
    app
}

#[test]
fn a_job_asked_for_before_a_reset_has_its_result_dropped() {
    // Without a reset, the read's result is taken.
    let mut app = props_read_started();
    settle(&mut app);
    assert!(!app.model.derived.props.is_empty());
    // With a reset between the request and the result: dropped, by the one rule.
    let mut app = props_read_started();
    let tag = app
        .jobs()
        .running(Kind::ReadRaw(RawPurpose::Props))
        .unwrap();
    app.sender()
        .send(Msg::from(LoadEvent::Reset {
            source: streamscope::index::SourceIx::new(0),
        }))
        .unwrap();
    app.pump(Instant::now() + Duration::from_secs(5));
    assert_eq!(app.epoch(), tag.epoch + 1, "the reset is applied meanwhile");
    assert!(!app.jobs().is_current(tag, app.epoch()));
    assert_eq!(app.run_held_jobs(), 1);
    app.pump(Instant::now() + Duration::from_secs(5));
    assert!(
        app.model.derived.props.is_empty(),
        "no key property of an old event index"
    );
    assert!(app.jobs().idle(), "the stale job has ended all the same");
}

#[test]
fn a_paused_count_starts_again_after_a_reset() {
    let mut live = started();
    press(&mut live.app, 'j');
    live.app
        .sender()
        .send(Msg::from(LoadEvent::Reset {
            source: live.source,
        }))
        .unwrap();
    live.receive(&[event_line("session_start", "zed", 500, 500)]);
    assert_eq!(live.app.model.follow, Follow::Paused { since: 0 });
    assert_eq!(live.app.model.new_since_pause(), 1);
}

#[test]
fn the_open_session_counts_down_to_its_timeout() {
    let mut live = started();
    let now = Instant::now();
    // ann's last event is at T0+120 s; 5 minutes later, at the default 30m timeout.
    live.app.tick(now, T0 + 120_000 + 5 * MINUTE_MS);
    let u = live.app.model.selected_user().unwrap();
    let open = live.app.model.open_session(u).expect("open");
    assert_eq!(
        streamscope::tui::live_view::countdown(open.ends_in_ms),
        "25:00"
    );
    key(&mut live.app, KeyCode::Enter);
    press(&mut live.app, 'F');
    press(&mut live.app, 'F');
    let t = draw(&mut live.app, 120, 40);
    let text = screen(&t).join("\n");
    assert!(text.contains("open · ends in 25:00"), "{text}");
    // The countdown follows the clock and the timeout.
    live.app.tick(now, T0 + 120_000 + 5 * MINUTE_MS + 61_500);
    let open = live.app.model.open_session(u).unwrap();
    assert_eq!(
        streamscope::tui::live_view::countdown(open.ends_in_ms),
        "23:59"
    );
    press(&mut live.app, 't');
    assert_eq!(live.app.model.rules.timeout_ms, 60 * MINUTE_MS);
    let open = live.app.model.open_session(u).unwrap();
    assert_eq!(
        streamscope::tui::live_view::countdown(open.ends_in_ms),
        "53:59"
    );
    // Past the timeout, or with no clock (a file's old events), nothing is open.
    live.app.tick(now, T0 + 120_000 + 60 * MINUTE_MS);
    assert_eq!(live.app.model.open_session(u), None);
    live.app.tick(now, 0);
    assert_eq!(live.app.model.open_session(u), None);
    let t = draw(&mut live.app, 120, 40);
    assert!(!screen(&t).join("\n").contains("ends in"));
}

#[test]
fn only_the_latest_session_of_a_user_is_open() {
    let mut live = started();
    live.receive(&[event_line("session_start", "ann", 600, 600)]);
    live.app.tick(Instant::now(), T0 + 601_000);
    let m = &live.app.model;
    let a = m.derived.analysis.as_ref().unwrap();
    let u = m.selected_user().unwrap();
    let open = m.open_session(u).unwrap();
    assert_eq!(a.sessions[open.session].id, T0 + 600_000);
    assert_eq!(open.ends_in_ms, 30 * MINUTE_MS - 1000);
}

#[test]
fn the_view_is_redrawn_when_the_second_changes_while_something_is_open() {
    let mut live = started();
    let now = Instant::now();
    let at = T0 + 200_000;
    live.app.tick(now, at);
    let _ = live.app.take_dirty();
    live.app.tick(now, at + 400);
    assert!(!live.app.take_dirty(), "the same second: nothing to redraw");
    live.app.tick(now, at + 1000);
    assert!(live.app.take_dirty(), "a new second: the countdown changes");
    // A file of old events (not live, nothing open) is not redrawn every second.
    let mut app = small_app();
    let later = T0 + 30 * 24 * 60 * MINUTE_MS;
    app.tick(now, later);
    let _ = app.take_dirty();
    app.tick(now, later + 5000);
    assert!(!app.take_dirty());
}

fn endpoint() -> Arc<LiveState> {
    Arc::new(LiveState::new(
        "http://127.0.0.1:8788".into(),
        PathBuf::from("capture.ndjson"),
        None,
    ))
}

#[test]
fn rates_are_counter_deltas_over_time() {
    let mut live = started();
    let state = endpoint();
    live.app.set_live(Arc::clone(&state));
    let t0 = Instant::now();
    live.app.tick(t0, T0);
    assert_eq!(live.app.model.live.as_ref().unwrap().rates, None);
    state.counters.requests.fetch_add(10, Ordering::Relaxed);
    state.counters.events.fetch_add(300, Ordering::Relaxed);
    state.counters.duplicates.fetch_add(2, Ordering::Relaxed);
    live.app.tick(t0 + Duration::from_secs(2), T0 + 2000);
    let status = live.app.model.live.as_ref().unwrap();
    let r = status.rates.unwrap();
    assert!((r.requests - 5.0).abs() < 1e-9, "{r:?}");
    assert!((r.events - 150.0).abs() < 1e-9, "{r:?}");
    assert_eq!(status.counters.events, 300);
    assert_eq!(status.counters.duplicates, 2);
}

fn rejected(request: u64, at_secs: i64, body: &[u8], body_len: usize) -> RejectedRequest {
    RejectedRequest {
        request,
        at_ms: T0 + at_secs * 1000,
        method: "POST".into(),
        path: "/2/httpapi".into(),
        status: 400,
        error: "invalid events".into(),
        reasons: vec![format!("events[{request}]: missing user_id and device_id")],
        events: 5,
        kept: 3,
        body: Arc::from(body),
        body_len,
    }
}

#[test]
fn bang_lists_rejected_requests_newest_first_and_enter_shows_a_body() {
    let mut live = started();
    let state = endpoint();
    live.app.set_live(Arc::clone(&state));
    for i in 1..=3 {
        state.push_rejected(rejected(i, i as i64, b"{\"events\":[]}", 13));
        state
            .counters
            .rejected_requests
            .fetch_add(1, Ordering::Relaxed);
    }
    press(&mut live.app, '!');
    assert_eq!(live.app.model.overlay, Overlay::Rejected);
    let v = live.app.model.rejected.as_ref().unwrap();
    let order: Vec<u64> = v.list.iter().map(|r| r.request).collect();
    assert_eq!(order, [3, 2, 1]);
    press(&mut live.app, 'j');
    assert_eq!(live.app.model.follow, Follow::On, "moving in the overlay");
    key(&mut live.app, KeyCode::Enter);
    let v = live.app.model.rejected.as_ref().unwrap();
    let body = v.body.as_ref().expect("the body is open");
    assert_eq!(body.request, 2);
    assert_eq!(body.lines[0].text(), "{");
    // A new rejection while the list is open: it is listed, the selection stays.
    state.push_rejected(rejected(4, 9, b"", 0));
    state
        .counters
        .rejected_requests
        .fetch_add(1, Ordering::Relaxed);
    live.app.tick(Instant::now() + Duration::from_secs(1), T0);
    let v = live.app.model.rejected.as_ref().unwrap();
    assert_eq!(v.list.len(), 4);
    assert_eq!(v.current().unwrap().request, 2);
    key(&mut live.app, KeyCode::Esc);
    assert_eq!(
        live.app.model.overlay,
        Overlay::Rejected,
        "Esc leaves the body"
    );
    assert!(live.app.model.rejected.as_ref().unwrap().body.is_none());
    key(&mut live.app, KeyCode::Esc);
    assert_eq!(live.app.model.overlay, Overlay::None);
    assert!(live.app.model.rejected.is_none());
}

#[test]
fn without_an_endpoint_the_rejected_view_lists_the_sources_records() {
    let mut app = small_app();
    press(&mut app, '!');
    assert_eq!(app.model.overlay, Overlay::Rejected);
    let t = draw(&mut app, 120, 40);
    let text = screen(&t).join("\n");
    assert!(
        text.contains("2 records rejected in the sources · 0 unusable session ids"),
        "{text}"
    );
    assert!(
        !text.contains("request"),
        "no endpoint, no requests: {text}"
    );
    assert!(
        text.contains("rejected tests/fixtures/tui/small.ndjson:"),
        "{text}"
    );
    press(&mut app, '!');
    assert_eq!(app.model.overlay, Overlay::None);
}
