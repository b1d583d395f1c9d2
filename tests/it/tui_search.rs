//! The session detail (Enter on a session header) and search, within one user and
//! across all users: interaction tests on the app and snapshots of both overlays.
//!
//! Fixture `tests/fixtures/tui/session_search.ndjson`: maya's first session has a
//! seconds-valued id (1793192429), a start marker, an 11-minute gap, a duplicate and an
//! identify call, and merges at 30m with her second session 13 minutes later; "checkout"
//! occurs twice in maya's events, twice in omar's and once in lena's.

use crate::tui_support;

use std::fmt::Write as _;

use crossterm::event::KeyCode;
use streamscope::analysis::Rules;
use streamscope::index::{EventIx, IxRange};
use streamscope::tui::app::App;
use streamscope::tui::jobs::Exec;
use streamscope::tui::model::{Focus, Overlay, PromptKind};
use streamscope::tui::rows::Row;
use streamscope::tui::search::{SEARCH_CAP, SEARCH_CHUNK, SearchScope, search_store};
use streamscope::tui::zone::Zones;
use tui_support::*;

const FIXTURE: &str = "tests/fixtures/tui/session_search.ndjson";
const ALL_SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn app() -> App {
    let mut app = app_of(FIXTURE);
    select_user(&mut app, "maya");
    app
}

fn message(app: &App) -> String {
    app.model
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

/// Opens maya's first session's detail from its header.
fn session_detail_app() -> App {
    let mut app = app();
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.focus, Focus::Lower);
    assert!(matches!(
        app.model.derived.events.rows[app.model.derived.events.selected],
        Row::Session { .. }
    ));
    key(&mut app, KeyCode::Enter);
    app
}

fn search_all(app: &mut App, text: &str) {
    press(app, 'S');
    assert_eq!(
        app.model.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::SearchAll)
    );
    type_text(app, text);
    key(app, KeyCode::Enter);
    settle(app);
}

fn all_text(t: &ratatui::Terminal<ratatui::backend::TestBackend>) -> String {
    screen(t).join("\n")
}

#[test]
fn enter_on_a_session_header_opens_the_session_detail_and_on_an_event_the_event_detail() {
    let mut app = session_detail_app();
    assert_eq!(app.model.overlay, Overlay::Session);
    let v = app
        .model
        .derived
        .session
        .as_ref()
        .expect("a session detail");
    assert_eq!(v.id, 1_793_192_429);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.model.overlay, Overlay::None);
    assert!(app.model.derived.session.is_none());
    // An event row still opens the event's detail.
    press(&mut app, 'j');
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.overlay, Overlay::Detail);
}

#[test]
fn the_session_detail_gives_the_figures_of_a_session_with_a_gap_and_a_suspect_id() {
    let mut app = session_detail_app();
    let t = draw(&mut app, 200, 50);
    let text = all_text(&t);
    for want in [
        "Session 1793192429 · maya",
        "SUSPECT ID: looks like seconds: 2026-10-28 13:00:29",
        "first event 2026-10-28 13:00:29.731  session_start",
        "last event  2026-10-28 13:14:29.731  $identify",
        // length = last − id (read as ms), span = last − first.
        "span        14m00s",
        "events      6: 4 active, 1 marker, 1 identify or inactive",
        "session start yes (1) · session end no",
        "duplicates  1",
        "  13:12:29.731 Purchase",
        "gaps > 5m   1",
        "11m00s  13:01:29.731 Button Clicked → 13:12:29.731 Purchase",
        "replay 30m  1 replayed session · MERGED  (current timeout)",
        "13:00:29.731 – 13:26:29.731 (26m00s)  6 active events, 4 of this session",
        "merged with 1 other recorded session: 1793193929731",
        "replay 5m   2 replayed sessions · SPLIT  (mobile SDKs' default)",
        "SUSPECT ID   sessions whose id is after their first event",
        "GAP",
        "DUP",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
    // The figures are the analysis's (what `report` prints).
    let a = app.model.derived.analysis.as_ref().unwrap();
    let v = app.model.derived.session.as_ref().unwrap();
    let s = &a.sessions[v.detail.session.idx()];
    assert_eq!(v.detail.gaps.len(), s.gaps as usize);
    assert_eq!(v.detail.duplicates.len(), s.duplicates as usize);
    let length = streamscope::fmt::duration(s.length_ms());
    assert!(text.contains(&format!("length      {length}")), "{text}");
}

#[test]
fn the_session_detail_follows_a_timeout_change_and_scrolls() {
    let mut app = session_detail_app();
    app.set_timeout(5 * 60_000);
    let v = app.model.derived.session.as_ref().unwrap();
    let timeouts: Vec<i64> = v.detail.replayed.iter().map(|r| r.timeout_ms).collect();
    assert_eq!(timeouts, [5 * 60_000, 30 * 60_000]);
    assert_eq!(v.detail.replayed[0].parts.len(), 2, "split at 5m");
    // 80×24 does not hold it all: j scrolls, and stops at the end.
    let _ = draw(&mut app, 80, 24);
    for _ in 0..100 {
        press(&mut app, 'j');
    }
    let t = draw(&mut app, 80, 24);
    let scroll = app.model.derived.session.as_ref().unwrap().scroll;
    assert!(scroll > 0);
    assert!(all_text(&t).contains("DUP"), "the end is shown");
    press(&mut app, 'g');
    assert_eq!(app.model.derived.session.as_ref().unwrap().scroll, 0);
}

#[test]
fn slash_searches_the_selected_user_and_says_which_match_of_how_many() {
    let mut app = app();
    key(&mut app, KeyCode::Enter);
    press(&mut app, '/');
    type_text(&mut app, "checkout");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.events.search_scope, SearchScope::User);
    assert_eq!(selected_type(&app), "Button Clicked");
    assert_eq!(message(&app), "match 1 of 2 for 'checkout' in this user");
    press(&mut app, 'n');
    assert_eq!(selected_type(&app), "Page Viewed");
    assert_eq!(message(&app), "match 2 of 2 for 'checkout' in this user");
    press(&mut app, 'n');
    assert_eq!(selected_type(&app), "Button Clicked");
    assert_eq!(
        message(&app),
        "match 1 of 2 for 'checkout' in this user (wrapped around)"
    );
    press(&mut app, 'N');
    assert_eq!(
        message(&app),
        "match 2 of 2 for 'checkout' in this user (wrapped around)"
    );
}

#[test]
fn search_across_all_users_lists_every_match_with_the_count() {
    let mut app = app();
    search_all(&mut app, "CHECKOUT");
    assert_eq!(app.model.overlay, Overlay::SearchResults);
    let s = app.model.derived.search_all.as_ref().unwrap();
    assert_eq!(s.count_text(), "5 matches in 3 users");
    assert!(!s.capped);
    assert_eq!(app.model.events.search, "CHECKOUT");
    assert_eq!(app.model.events.search_scope, SearchScope::All);
    // User by user, each user's matches in time order.
    let a = app.model.derived.analysis.as_ref().unwrap();
    let users: Vec<String> = s
        .results
        .iter()
        .map(|r| {
            app.model
                .store
                .strings
                .get(a.users[r.user].key.id)
                .to_string()
        })
        .collect();
    let mut grouped = users.clone();
    grouped.dedup();
    assert_eq!(grouped.len(), 3, "{users:?}");
    for r in &s.results {
        let ev = &app.model.store.events()[r.event];
        assert!(
            a.users[r.user]
                .events
                .iter_ix()
                .any(|p| a.order[p] == r.event)
        );
        assert!(!r.excerpt.is_empty(), "{:?}", ev.time);
    }
    let t = draw(&mut app, 120, 40);
    let text = all_text(&t);
    assert!(text.contains("5 matches in 3 users"), "{text}");
}

#[test]
fn enter_on_a_result_selects_its_user_and_event_and_n_steps_across_users() {
    let mut app = app();
    search_all(&mut app, "checkout");
    let results = app
        .model
        .derived
        .search_all
        .as_ref()
        .unwrap()
        .results
        .clone();
    // Go to the last result (another user than the first).
    press(&mut app, 'G');
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.overlay, Overlay::None);
    let last = results.last().unwrap();
    assert_eq!(app.model.selected_user(), Some(last.user));
    assert_eq!(app.model.selected_event(), Some(last.event));
    assert_eq!(app.model.focus, Focus::Lower);
    assert_eq!(message(&app), "5 of 5 · 'checkout' across all users");
    // n wraps to the first result, in the first user.
    press(&mut app, 'n');
    assert_eq!(app.model.selected_user(), Some(results[0].user));
    assert_eq!(app.model.selected_event(), Some(results[0].event));
    assert_eq!(message(&app), "1 of 5 · 'checkout' across all users");
    // Step through all of them: every result is visited once, across the users.
    let mut seen: Vec<EventIx> = vec![results[0].event];
    for k in 2..=5 {
        press(&mut app, 'n');
        assert_eq!(
            message(&app),
            format!("{k} of 5 · 'checkout' across all users")
        );
        seen.push(app.model.selected_event().unwrap());
    }
    let want: Vec<EventIx> = results.iter().map(|r| r.event).collect();
    assert_eq!(seen, want);
    press(&mut app, 'N');
    assert_eq!(message(&app), "4 of 5 · 'checkout' across all users");
    // `/` goes back to searching within the user.
    press(&mut app, '/');
    type_text(&mut app, "purchase");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.events.search_scope, SearchScope::User);
}

#[test]
fn a_result_hidden_by_the_users_filter_or_type_filter_is_shown_anyway() {
    let mut app = app();
    app.model.focus = Focus::Users;
    press(&mut app, '/');
    type_text(&mut app, "maya");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.derived.users.list.len(), 1);
    key(&mut app, KeyCode::Enter);
    press(&mut app, 'f');
    type_text(&mut app, "purchase");
    key(&mut app, KeyCode::Enter);
    search_all(&mut app, "checkout");
    // maya's first match is a Button Clicked, hidden by the type filter; omar is hidden
    // by the users filter.
    key(&mut app, KeyCode::Enter);
    let r0 = app.model.derived.search_all.as_ref().unwrap().results[0].clone();
    assert_eq!(app.model.selected_event(), Some(r0.event));
    assert!(app.model.events.type_filter.is_empty());
    for _ in 0..4 {
        press(&mut app, 'n');
    }
    let r4 = app.model.derived.search_all.as_ref().unwrap().results[4].clone();
    assert_eq!(app.model.selected_user(), Some(r4.user));
    assert_eq!(app.model.selected_event(), Some(r4.event));
    assert!(app.model.users.filter.is_empty());
}

#[test]
fn no_match_anywhere_says_so() {
    let mut app = app();
    search_all(&mut app, "no such text");
    let t = draw(&mut app, 120, 40);
    assert!(all_text(&t).contains("no event of any user matches 'no such text'"));
    key(&mut app, KeyCode::Esc);
    press(&mut app, 'n');
    assert_eq!(message(&app), "no event of any user matches 'no such text'");
}

/// A synthetic store of `n` events over 1,000 users, each with "needle" in its type.
fn big_app(n: usize) -> App {
    let dir = std::env::temp_dir().join(format!("streamscope-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("big.ndjson");
    let mut text = String::with_capacity(n * 120);
    for i in 0..n {
        let t = 1_793_192_429_731_i64 + i as i64 * 1000;
        let _ = writeln!(
            text,
            r#"{{"event_type":"needle {}","user_id":"u{}","time":{t},"session_id":{t}}}"#,
            i % 7,
            i % 1000
        );
    }
    std::fs::write(&path, text).expect("the synthetic input written");
    let mut app = App::new(
        store_of(path.to_str().expect("a UTF-8 path")),
        Rules::default(),
        Zones::default(),
    );
    app.analyse_now();
    let _ = std::fs::remove_dir_all(&dir);
    app
}

#[test]
fn searching_a_large_store_runs_as_a_job_reports_progress_and_stops_at_the_cap() {
    let n = 3 * SEARCH_CHUNK;
    let mut app = big_app(n);
    // The scan itself: progress after each chunk, stopping once the cap is passed.
    let mut reports = Vec::new();
    let found = search_store(&app.model.store, "needle", n, &mut |scanned, hits| {
        reports.push((scanned, hits));
    });
    assert!(found.capped);
    assert_eq!(found.hits.len(), SEARCH_CAP);
    assert_eq!(reports, [(SEARCH_CHUNK, SEARCH_CAP)]);
    let found = search_store(&app.model.store, "needle 3", n, &mut |scanned, hits| {
        reports.push((scanned, hits));
    });
    assert_eq!(found.hits.len(), (0..n).filter(|i| i % 7 == 3).count());
    assert_eq!(found.scanned, n);
    assert_eq!(
        reports[1..].iter().map(|r| r.0).collect::<Vec<_>>(),
        [SEARCH_CHUNK, 2 * SEARCH_CHUNK, n]
    );

    // Through the app: the job is held, the UI shows progress meanwhile.
    app.set_job_exec(Exec::Held);
    press(&mut app, 'S');
    type_text(&mut app, "needle");
    key(&mut app, KeyCode::Enter);
    app.run_jobs();
    let s = app.model.derived.search_all.as_ref().unwrap();
    assert_eq!(s.progress, Some((0, n, 0)));
    let t = draw(&mut app, 120, 40);
    assert!(all_text(&t).contains(&format!("searching… 0 of {} events", fmt_count(n))));
    settle(&mut app);
    let s = app.model.derived.search_all.as_ref().unwrap();
    assert!(s.progress.is_none());
    assert_eq!(s.count_text(), "10,000+ matches in 1,000 users");
    let t = draw(&mut app, 120, 40);
    assert!(all_text(&t).contains("10,000+ matches in 1,000 users"));
}

fn fmt_count(n: usize) -> String {
    streamscope::fmt::count(n as u64)
}

#[test]
fn a_newer_search_supersedes_a_running_one() {
    let mut app = app();
    app.set_job_exec(Exec::Held);
    press(&mut app, 'S');
    type_text(&mut app, "maya");
    key(&mut app, KeyCode::Enter);
    app.run_jobs();
    press(&mut app, 'S');
    type_text(&mut app, "checkout");
    key(&mut app, KeyCode::Enter);
    settle(&mut app);
    let s = app.model.derived.search_all.as_ref().unwrap();
    assert_eq!(s.query, "checkout");
    assert_eq!(s.results.len(), 5);
}

#[test]
fn session_detail_snapshots() {
    for (w, h) in ALL_SIZES {
        let mut app = session_detail_app();
        let t = draw(&mut app, w, h);
        insta::assert_snapshot!(format!("session_detail_{w}x{h}"), t.backend());
    }
}

#[test]
fn search_results_snapshots() {
    for (w, h) in ALL_SIZES {
        let mut app = app();
        search_all(&mut app, "checkout");
        press(&mut app, 'j');
        let t = draw(&mut app, w, h);
        insta::assert_snapshot!(format!("search_results_{w}x{h}"), t.backend());
    }
}

#[test]
fn going_to_a_result_pauses_follow_mode() {
    use streamscope::tui::live_view::Follow;
    let mut app = app();
    press(&mut app, 'F');
    assert_eq!(app.model.follow, Follow::On);
    search_all(&mut app, "checkout");
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.model.follow, Follow::Paused { .. }));
    let r0 = app.model.derived.search_all.as_ref().unwrap().results[0].clone();
    assert_eq!(app.model.selected_event(), Some(r0.event));
}
