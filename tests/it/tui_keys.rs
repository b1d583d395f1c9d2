//! Interaction tests: keys and mouse events driven through the app without a terminal,
//! checking the resulting state.

use crate::tui_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use streamscope::analysis::{Analysis, MINUTE_MS, Rules};
use streamscope::source::raw::read_raw;
use streamscope::store::EventStore;
use streamscope::tui::app::{App, Msg};
use streamscope::tui::jobs::{Exec, ExportProgress, Kind, Tag};
use streamscope::tui::model::{Focus, Lower, Overlay, PromptKind, RawText, UserSort};
use streamscope::tui::records::RecordKind;
use streamscope::tui::rows::{Order, Row};
use streamscope::tui::zone::Zones;
use tui_support::*;

#[test]
fn the_first_user_is_the_one_with_most_anomalies() {
    let app = small_app();
    assert_eq!(app.model.focus, Focus::Users);
    assert_eq!(selected_user_id(&app), "alice");
    assert_eq!(app.model.derived.users.list.len(), 5);
    assert!(matches!(
        app.model.derived.events.rows[0],
        Row::Session { .. }
    ));
}

#[test]
fn j_k_g_and_big_g_move_through_users() {
    let mut app = small_app();
    press(&mut app, 'j');
    assert_eq!(app.model.derived.users.selected, 1);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.model.derived.users.selected, 2);
    press(&mut app, 'k');
    assert_eq!(app.model.derived.users.selected, 1);
    press(&mut app, 'G');
    assert_eq!(app.model.derived.users.selected, 4);
    press(&mut app, 'j');
    assert_eq!(
        app.model.derived.users.selected, 4,
        "the last row stays selected"
    );
    press(&mut app, 'g');
    assert_eq!(app.model.derived.users.selected, 0);
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Home);
    assert_eq!(app.model.derived.users.selected, 0);
}

#[test]
fn changing_user_rebuilds_the_event_rows_and_lanes() {
    let mut app = small_app();
    select_user(&mut app, "carol");
    let a = app.model.derived.analysis.as_ref().unwrap();
    let u = app.model.selected_user().unwrap();
    let events = app
        .model
        .derived
        .events
        .rows
        .iter()
        .filter(|r| matches!(r, Row::Event { .. }))
        .count();
    assert_eq!(events, a.user_events(u).len());
    assert_eq!(app.model.derived.timeline.lanes.as_ref().unwrap().user, u);
}

#[test]
fn tab_cycles_focus_and_shift_tab_goes_back() {
    let mut app = small_app();
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.model.focus, Focus::Timeline);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.model.focus, Focus::Lower);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.model.focus, Focus::Users);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.model.focus, Focus::Lower);
}

#[test]
fn enter_opens_the_events_then_the_detail_and_esc_closes_it() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.focus, Focus::Lower);
    assert_eq!(app.model.lower, Lower::Events);
    press(&mut app, 'j');
    assert_eq!(selected_type(&app), "session_start");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.overlay, Overlay::Detail);
    let d = app.model.derived.detail.as_ref().unwrap();
    let RawText::Ready { raw, lines } = &d.raw else {
        panic!("raw text not read: {:?}", d.raw)
    };
    assert!(raw.starts_with(b"{\"event_type\":\"session_start\""));
    assert_eq!(lines[0].text(), "{");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.model.overlay, Overlay::None);
    assert!(app.model.derived.detail.is_none());
}

#[test]
fn the_detail_scrolls_within_its_text() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    press(&mut app, '}');
    press(&mut app, 'j');
    key(&mut app, KeyCode::Enter);
    let _ = draw(&mut app, 80, 24);
    press(&mut app, 'j');
    assert_eq!(app.model.derived.detail.as_ref().unwrap().scroll, 1);
    press(&mut app, 'G');
    let _ = draw(&mut app, 80, 24);
    let bottom = app.model.derived.detail.as_ref().unwrap().scroll;
    press(&mut app, 'j');
    let _ = draw(&mut app, 80, 24);
    assert_eq!(app.model.derived.detail.as_ref().unwrap().scroll, bottom);
    press(&mut app, 'g');
    assert_eq!(app.model.derived.detail.as_ref().unwrap().scroll, 0);
}

#[test]
fn t_cycles_the_timeout_presets_and_replays_every_user() {
    let mut app = small_app();
    let store = Arc::clone(&app.model.store);
    for want in [60, 120, 1, 5, 15, 30] {
        press(&mut app, 't');
        let ms = want * MINUTE_MS;
        assert_eq!(app.model.rules.timeout_ms, ms);
        let a = app.model.derived.analysis.as_ref().unwrap();
        let fresh = Analysis::compute(
            &store,
            &Rules {
                timeout_ms: ms,
                ..Rules::default()
            },
        );
        assert_eq!(a.replay, fresh.replay, "replay at {want}m");
        assert_eq!(a.summary.replayed_sessions, fresh.summary.replayed_sessions);
        let lanes = app.model.derived.timeline.lanes.as_ref().unwrap();
        assert_eq!(lanes.timeout_ms, ms);
        let u = app.model.selected_user().unwrap();
        assert_eq!(lanes.replayed, fresh.replay_input.user_segments(u, ms));
    }
}

#[test]
fn big_t_takes_a_typed_timeout_and_rejects_nonsense() {
    let mut app = small_app();
    press(&mut app, 'T');
    let p = app.model.prompt.as_ref().unwrap();
    assert_eq!(p.kind, PromptKind::Timeout);
    assert_eq!((p.text.as_str(), p.placeholder.as_str()), ("", "30m"));
    for _ in 0..3 {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "45m");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.rules.timeout_ms, 45 * MINUTE_MS);
    assert_eq!(
        app.model
            .derived
            .analysis
            .as_ref()
            .unwrap()
            .replay
            .timeout_ms,
        45 * MINUTE_MS
    );
    let sweep = app.model.sweep();
    assert!(sweep.iter().any(|r| r.timeout_ms == 45 * MINUTE_MS));
    assert_eq!(sweep.len(), 7, "six presets and the typed timeout");

    press(&mut app, 'T');
    for _ in 0..3 {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "soon");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.rules.timeout_ms, 45 * MINUTE_MS);
    let m = app.model.message.as_ref().unwrap();
    assert!(m.text.contains("'soon' is not a timeout"), "{}", m.text);

    press(&mut app, 'T');
    key(&mut app, KeyCode::Esc);
    assert!(app.model.prompt.is_none());
    assert_eq!(app.model.rules.timeout_ms, 45 * MINUTE_MS);
}

#[test]
fn slash_in_the_users_pane_filters_by_id_as_you_type() {
    let mut app = small_app();
    press(&mut app, '/');
    type_text(&mut app, "CA");
    assert_eq!(app.model.derived.users.list.len(), 1, "case-insensitive");
    assert_eq!(selected_user_id(&app), "carol");
    key(&mut app, KeyCode::Backspace);
    assert_eq!(
        app.model.derived.users.list.len(),
        2,
        "'c' is in alice and carol"
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(
        app.model.derived.users.list.len(),
        5,
        "Esc restores the previous filter"
    );
    assert!(app.model.users.filter.is_empty());
    press(&mut app, '/');
    type_text(&mut app, "nobody");
    key(&mut app, KeyCode::Enter);
    assert!(app.model.derived.users.list.is_empty());
    assert!(app.model.selected_user().is_none());
    assert!(app.model.derived.events.rows.is_empty());
    let _ = draw(&mut app, 80, 24);
}

#[test]
fn slash_in_the_events_searches_and_n_big_n_move_between_matches() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    press(&mut app, '/');
    assert_eq!(app.model.prompt.as_ref().unwrap().kind, PromptKind::Search);
    type_text(&mut app, "purchase");
    key(&mut app, KeyCode::Enter);
    assert_eq!(selected_type(&app), "Purchase");
    let first = app.model.derived.events.selected;
    press(&mut app, 'n');
    assert_eq!(selected_type(&app), "Purchase");
    assert_eq!(app.model.derived.events.selected, first + 1);
    press(&mut app, 'n');
    assert_eq!(app.model.derived.events.selected, first, "wraps around");
    assert!(app.model.message.as_ref().unwrap().text.contains("wrapped"));
    press(&mut app, 'N');
    assert_eq!(app.model.derived.events.selected, first + 1);
}

#[test]
fn search_looks_into_the_raw_json() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    press(&mut app, '/');
    type_text(&mut app, "nightly");
    key(&mut app, KeyCode::Enter);
    assert_eq!(selected_type(&app), "Server Sync");
    press(&mut app, '/');
    type_text(&mut app, "no such text");
    key(&mut app, KeyCode::Enter);
    assert!(
        app.model
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("no event matches")
    );
    assert_eq!(selected_type(&app), "Server Sync");
}

#[test]
fn f_filters_the_event_list_by_type() {
    let mut app = small_app();
    press(&mut app, 'f');
    type_text(&mut app, "SEARCH");
    key(&mut app, KeyCode::Enter);
    let rows = &app.model.derived.events.rows;
    assert_eq!(
        rows.iter()
            .filter(|r| matches!(r, Row::Event { .. }))
            .count(),
        1
    );
    let Row::Session { shown, session } = rows[0] else {
        panic!("a session header first")
    };
    assert_eq!(shown, 1);
    let a = app.model.derived.analysis.as_ref().unwrap();
    assert_eq!(a.sessions[session].events, 6);
    press(&mut app, 'f');
    for _ in 0..6 {
        key(&mut app, KeyCode::Backspace);
    }
    key(&mut app, KeyCode::Enter);
    assert!(app.model.events.type_filter.is_empty());
    assert_eq!(app.model.derived.events.rows.len(), 22);
}

#[test]
fn braces_jump_between_sessions() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    let headers: Vec<usize> = app
        .model
        .derived
        .events
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Row::Session { .. }))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(headers.len(), 4);
    for &h in &headers[1..] {
        press(&mut app, '}');
        assert_eq!(app.model.derived.events.selected, h);
    }
    press(&mut app, '}');
    assert_eq!(
        app.model.derived.events.selected, headers[3],
        "no later session"
    );
    press(&mut app, '{');
    assert_eq!(app.model.derived.events.selected, headers[2]);
}

#[test]
fn e_and_big_e_visit_flagged_rows_and_users() {
    let mut app = small_app();
    press(&mut app, 'e');
    assert_eq!(
        selected_user_id(&app),
        "bob",
        "the next user with anomalies (in the severity ranking)"
    );
    press(&mut app, 'E');
    assert_eq!(selected_user_id(&app), "alice");
    key(&mut app, KeyCode::Enter);
    // Row 0 is the first session's header (GAP, DUP); the next flagged row is the event
    // after the gap.
    press(&mut app, 'e');
    assert_eq!(selected_type(&app), "Purchase");
    press(&mut app, 'e');
    assert_eq!(selected_type(&app), "Purchase", "the duplicate");
    press(&mut app, 'e');
    assert!(
        matches!(
            app.model.derived.events.rows[app.model.derived.events.selected],
            Row::Session { .. }
        ),
        "the empty, unterminated session"
    );
    press(&mut app, 'E');
    assert_eq!(selected_type(&app), "Purchase");
}

#[test]
fn o_toggles_newest_first_and_keeps_the_selected_event() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    press(&mut app, 'j');
    press(&mut app, 'j');
    let before = app.model.selected_event();
    press(&mut app, 'o');
    assert_eq!(app.model.events.order, Order::NewestFirst);
    assert_eq!(app.model.selected_event(), before);
    press(&mut app, 'g');
    // Newest first: the last session's header, then its last event.
    assert!(matches!(
        app.model.derived.events.rows[0],
        Row::Session { .. }
    ));
    press(&mut app, 'j');
    assert_eq!(selected_type(&app), "Page Viewed");
}

#[test]
fn s_cycles_the_user_sort_and_keeps_the_selected_user() {
    let mut app = small_app();
    select_user(&mut app, "carol");
    press(&mut app, 's');
    assert_eq!(app.model.users.sort, UserSort::Events);
    assert_eq!(selected_user_id(&app), "carol");
    press(&mut app, 'g');
    assert_eq!(selected_user_id(&app), "alice", "most events");
    press(&mut app, 's');
    assert_eq!(app.model.users.sort, UserSort::Recent);
    press(&mut app, 'g');
    assert_eq!(selected_user_id(&app), "bob", "latest event at 13:00");
    press(&mut app, 's');
    assert_eq!(app.model.users.sort, UserSort::Severity);
}

#[test]
fn z_cycles_the_time_zone() {
    let mut app = App::new(
        store_of(SMALL),
        Rules::default(),
        Zones::new(Some(
            streamscope::tui::zone::Zone::parse("Asia/Tokyo").unwrap(),
        )),
    );
    app.analyse_now();
    // It starts in the zone named with --tz.
    assert_eq!(app.model.zones.current().label(), "Asia/Tokyo");
    let t = draw(&mut app, 120, 40);
    let text = screen(&t).join("\n");
    assert!(text.contains("19:00:00.000"), "10:00 UTC is 19:00 in Tokyo");
    press(&mut app, 'z');
    assert_eq!(app.model.zones.current().label(), "UTC");
    press(&mut app, 'z');
    assert!(
        app.model.zones.current().label().starts_with("local"),
        "{}",
        app.model.zones.current().label()
    );
    press(&mut app, 'z');
    assert_eq!(app.model.zones.current().label(), "Asia/Tokyo");
}

#[test]
fn the_timeline_zooms_pans_and_resets() {
    use streamscope::tui::rows::Scale;
    let mut app = small_app();
    // Opening a user fits the window to the selected session, its replay timeout either side.
    assert_eq!(app.model.derived.timeline.scale, Scale::Fit);
    let fit = app.model.timeline_window().unwrap();
    let (first, last) = app.model.selected_span().unwrap();
    assert!(fit.contains(first) && fit.contains(last), "{fit:?}");
    // The zoom keys work from the users pane, and say what they did.
    press(&mut app, '0');
    let full = app.model.timeline_window().unwrap();
    assert!(full.span_ms() > fit.span_ms());
    assert!(
        app.model
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("whole history")
    );
    press(&mut app, '+');
    press(&mut app, '+');
    let zoomed = app.model.timeline_window().unwrap();
    assert!(zoomed.span_ms() * 4 <= full.span_ms() + 4);
    let mid = streamscope::analysis::midpoint(first, last);
    assert!(
        zoomed.contains(mid),
        "the zoomed view centres on the selected session"
    );
    assert!(
        app.model
            .message
            .as_ref()
            .unwrap()
            .text
            .starts_with("timeline: ")
    );
    key(&mut app, KeyCode::Tab);
    press(&mut app, 'l');
    let panned = app.model.timeline_window().unwrap();
    assert!(panned.start > zoomed.start);
    press(&mut app, 'h');
    press(&mut app, 'h');
    assert!(app.model.timeline_window().unwrap().start < panned.start);
    press(&mut app, '>');
    press(&mut app, '-');
    assert_eq!(
        app.model.timeline_window().unwrap().span_ms(),
        zoomed.span_ms() * 2,
        "- doubles the window"
    );
    press(&mut app, 'Z');
    assert_eq!(app.model.timeline_window().unwrap(), fit);
    press(&mut app, '0');
    assert_eq!(app.model.timeline_window().unwrap(), full);
    // j/k in the timeline move the event selection it follows.
    press(&mut app, 'j');
    assert_eq!(app.model.derived.events.selected, 1);
}

#[test]
fn paging_moves_by_half_and_whole_pages() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    let _ = draw(&mut app, 80, 24);
    let page = app.view.areas.lower_list.height as usize;
    ctrl(&mut app, 'd');
    assert_eq!(app.model.derived.events.selected, page / 2);
    ctrl(&mut app, 'u');
    assert_eq!(app.model.derived.events.selected, 0);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.model.derived.events.selected, 2 * (page / 2));
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.model.derived.events.selected, 0);
}

#[test]
fn y_copies_the_raw_json_of_the_selected_event() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    press(&mut app, 'j');
    press(&mut app, 'j');
    press(&mut app, 'y');
    settle(&mut app);
    let copied = app.take_clipboard().expect("something copied").raw;
    let e = app.model.selected_event().unwrap();
    let raw = read_raw(&app.model.store, app.model.store.raw(e).unwrap()).unwrap();
    assert_eq!(copied, raw);
    assert!(
        String::from_utf8(copied)
            .unwrap()
            .contains("\"App Opened\"")
    );
    assert!(app.take_clipboard().is_none(), "taken once");
    // From the detail overlay too.
    key(&mut app, KeyCode::Enter);
    press(&mut app, 'y');
    settle(&mut app);
    assert_eq!(app.take_clipboard().unwrap().raw, raw);
}

#[test]
fn x_exports_the_users_stream_or_the_filtered_rows_as_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = small_app();
    press(&mut app, 'x');
    let p = app.model.prompt.as_ref().unwrap();
    assert_eq!(p.kind, PromptKind::Export);
    assert_eq!(p.text, "");
    assert_eq!(p.placeholder, "streamscope-alice.ndjson");
    let path = dir.path().join("alice.ndjson");
    for _ in 0..p.text.len() {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, path.to_str().unwrap());
    key(&mut app, KeyCode::Enter);
    settle(&mut app);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 18);
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["user_id"], "alice");
    }
    assert!(lines[1].contains("\"App Opened\""), "oldest first");
    assert!(
        app.model
            .message
            .as_ref()
            .unwrap()
            .text
            .starts_with("wrote 18 events")
    );

    // Filtered rows only; an existing file is not overwritten.
    press(&mut app, 'f');
    type_text(&mut app, "purchase");
    key(&mut app, KeyCode::Enter);
    app.export(path.to_str().unwrap());
    settle(&mut app);
    assert!(
        app.model
            .message
            .as_ref()
            .unwrap()
            .text
            .starts_with("cannot write")
    );
    let filtered = dir.path().join("purchases.ndjson");
    app.export(filtered.to_str().unwrap());
    settle(&mut app);
    let text = std::fs::read_to_string(&filtered).unwrap();
    assert_eq!(text.lines().count(), 2);
}

/// Opens the export prompt on the selected user and submits `path`.
fn submit_export(app: &mut App, path: &std::path::Path) {
    press(app, 'x');
    let default_len = app
        .model
        .prompt
        .as_ref()
        .expect("the export prompt")
        .text
        .len();
    for _ in 0..default_len {
        key(app, KeyCode::Backspace);
    }
    type_text(app, path.to_str().expect("a UTF-8 temporary path"));
    key(app, KeyCode::Enter);
}

#[test]
fn an_export_runs_as_a_job_and_the_app_keeps_handling_keys_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = small_app();
    app.set_job_exec(Exec::Held);
    let path = dir.path().join("alice.ndjson");
    submit_export(&mut app, &path);
    // Asked for, not done: nothing is written by the key press itself.
    assert!(app.jobs().busy(Kind::Export));
    app.run_jobs();
    assert!(app.jobs().running(Kind::Export).is_some());
    assert!(
        !path.exists(),
        "the file is written by the job, not by the key"
    );
    let export = app.model.export.as_ref().expect("the export is shown");
    assert_eq!(export.progress.total, 18);
    // The app keeps working while the export is pending.
    press(&mut app, 'j');
    assert_eq!(app.model.derived.users.selected, 1, "j moved the selection");
    press(&mut app, 'k');
    // A second export is refused, with a message, by key and by call.
    press(&mut app, 'x');
    assert!(app.model.prompt.is_none(), "no prompt for a second export");
    let text = &app.model.message.as_ref().unwrap().text;
    assert!(
        text.starts_with("an export to ")
            && text.ends_with(" is still running; wait for it to finish"),
        "{text}"
    );
    let other = dir.path().join("other.ndjson");
    app.export(other.to_str().unwrap());
    assert!(
        app.model
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("still running")
    );
    // The job runs; its outcome is reported as before, and a new export may start.
    settle(&mut app);
    assert!(app.model.export.is_none());
    assert!(
        app.model
            .message
            .as_ref()
            .unwrap()
            .text
            .starts_with("wrote 18 events")
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 18);
    assert!(!other.exists(), "the refused export never ran");
    submit_export(&mut app, &other);
    assert!(app.model.prompt.is_none());
    settle(&mut app);
    assert_eq!(std::fs::read_to_string(&other).unwrap().lines().count(), 18);
}

#[test]
fn a_running_export_shows_its_progress_in_the_status_bar() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = small_app();
    app.set_job_exec(Exec::Held);
    submit_export(&mut app, &dir.path().join("alice.ndjson"));
    app.run_jobs();
    let t = draw(&mut app, 160, 40);
    let status = screen(&t)[38].clone();
    assert!(
        status.contains("exporting to alice.ndjson: reading 0 of 18 events"),
        "{status}"
    );
    // Progress as the job reports it; a report from another job is ignored.
    let tag = app.jobs().running(Kind::Export).unwrap();
    let progress = ExportProgress {
        total: 18,
        read: 18,
        written: 10,
        bytes: 2345,
    };
    let tx = app.sender();
    tx.send(Msg::Progress { tag, progress }).unwrap();
    let stale = Tag { id: 0, ..tag };
    let wrong = ExportProgress {
        written: 17,
        ..progress
    };
    tx.send(Msg::Progress {
        tag: stale,
        progress: wrong,
    })
    .unwrap();
    app.pump(Instant::now() + Duration::from_secs(5));
    assert_eq!(app.model.export.as_ref().unwrap().progress, progress);
    let t = draw(&mut app, 160, 40);
    let status = screen(&t)[38].clone();
    assert!(
        status.contains("exporting to alice.ndjson: 10 of 18 events · 2.3 kB"),
        "{status}"
    );
    // With an endpoint attached (`listen`), the status line shows it too, after what
    // the data holds.
    app.set_live(Arc::new(streamscope::listen::shared::LiveState::new(
        "http://127.0.0.1:8788".into(),
        std::path::PathBuf::from("capture.ndjson"),
        None,
    )));
    let t = draw(&mut app, 160, 40);
    let status = screen(&t)[38].clone();
    assert!(status.starts_with(" ● 5 users · 9 sessions"), "{status}");
    assert!(
        status.contains("exporting to alice.ndjson: 10 of 18 events · 2.3 kB"),
        "{status}"
    );
    settle(&mut app);
    let t = draw(&mut app, 160, 40);
    assert!(!screen(&t)[38].contains("exporting"));
}

#[test]
fn a_copy_is_prepared_by_a_job_and_the_latest_copy_wins() {
    let mut app = small_app();
    app.set_job_exec(Exec::Held);
    key(&mut app, KeyCode::Enter);
    press(&mut app, 'y');
    app.run_jobs();
    assert!(app.take_clipboard().is_none(), "nothing before the job ran");
    press(&mut app, 'j');
    press(&mut app, 'y');
    settle(&mut app);
    let clip = app.take_clipboard().expect("the latest copy");
    let e = app.model.selected_event().unwrap();
    let raw = read_raw(&app.model.store, app.model.store.raw(e).unwrap()).unwrap();
    assert_eq!(clip.raw, raw, "the second copy superseded the first");
    assert_eq!(clip.osc52, streamscope::tui::osc52::sequence(&raw));
    assert!(app.take_clipboard().is_none());
}

#[test]
fn question_mark_opens_and_closes_the_help_and_q_quits() {
    let mut app = small_app();
    press(&mut app, '?');
    assert_eq!(app.model.overlay, Overlay::Help { scroll: 0 });
    let _ = draw(&mut app, 80, 24);
    press(&mut app, 'j');
    assert_eq!(app.model.overlay, Overlay::Help { scroll: 1 });
    press(&mut app, '?');
    assert_eq!(app.model.overlay, Overlay::None);
    press(&mut app, '?');
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.model.overlay, Overlay::None);
    assert!(!app.should_quit());
    press(&mut app, 'q');
    assert!(app.should_quit());
}

#[test]
fn ctrl_c_quits_and_q_in_a_prompt_is_text() {
    let mut app = small_app();
    press(&mut app, '/');
    press(&mut app, 'q');
    assert!(!app.should_quit());
    assert_eq!(app.model.prompt.as_ref().unwrap().text, "q");
    ctrl(&mut app, 'c');
    assert!(
        !app.should_quit(),
        "Ctrl-C in a prompt is not text, and not bound there"
    );
    key(&mut app, KeyCode::Esc);
    ctrl(&mut app, 'c');
    assert!(app.should_quit());
}

#[test]
fn r_shows_the_replay_panel_which_scrolls() {
    let mut app = small_app();
    press(&mut app, 'r');
    assert_eq!(app.model.lower, Lower::Replay);
    assert_eq!(app.model.focus, Focus::Lower);
    let _ = draw(&mut app, 80, 24);
    press(&mut app, 'j');
    assert_eq!(app.model.derived.replay_scroll, 1);
    press(&mut app, 'G');
    let _ = draw(&mut app, 80, 24);
    assert!(app.model.derived.replay_scroll > 5);
    press(&mut app, 'r');
    assert_eq!(app.model.lower, Lower::Events);
}

#[test]
fn mouse_clicks_select_and_the_wheel_scrolls() {
    let mut app = small_app();
    let _ = draw(&mut app, 120, 40);
    let users = app.view.areas.users_list;
    let click = |column, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    app.on_mouse(click(users.x + 2, users.y + 1));
    assert_eq!(app.model.derived.users.selected, 1);
    let lower = app.view.areas.lower_list;
    app.on_mouse(click(lower.x + 5, lower.y + 3));
    assert_eq!(app.model.focus, Focus::Lower);
    assert_eq!(app.model.derived.events.selected, 3);
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: users.x + 1,
        row: users.y,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(
        app.model.derived.users.selected, 4,
        "the wheel scrolls the pane under it"
    );
    assert_eq!(app.model.focus, Focus::Lower, "without taking focus");
    // A click on the timeline selects the event nearest that time.
    select_user(&mut app, "alice");
    press(&mut app, '0');
    let _ = draw(&mut app, 120, 40);
    let plot = app.view.areas.timeline_plot;
    let w = app.model.timeline_window().unwrap();
    let target = w.start + (w.end - w.start) * 9 / 10;
    let col = (0..plot.width)
        .min_by_key(|&c| (w.time_at(c, plot.width) - target).abs())
        .unwrap();
    app.on_mouse(click(plot.x + col, plot.y + 1));
    assert_eq!(app.model.focus, Focus::Timeline);
    assert_eq!(
        selected_type(&app),
        "$identify",
        "12:20 is in the bridged session"
    );
}

#[test]
fn loading_in_the_background_ends_with_the_same_analysis_as_report() {
    let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
    let src = app.add_source(SMALL).unwrap();
    let tx = app.sender();
    let loader = std::thread::spawn(move || {
        let opts = streamscope::source::LoadOptions {
            keep_raw: true,
            chunk_size: 512,
            ..Default::default()
        };
        streamscope::source::load(SMALL, src, &opts, &mut |ev| {
            let _ = tx.send(Msg::from(ev));
        });
    });
    let _ = draw(&mut app, 80, 24);
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.model.loading() || app.model.derived.analysis.is_none() {
        assert!(Instant::now() < deadline, "loading did not finish");
        let now = Instant::now();
        app.pump(now + Duration::from_millis(10));
        app.tick(now, 0);
        std::thread::sleep(Duration::from_millis(5));
    }
    loader.join().unwrap();
    let want = Analysis::compute(&store_of(SMALL), &Rules::default()).summary;
    assert_eq!(app.model.derived.analysis.as_ref().unwrap().summary, want);
    assert_eq!(selected_user_id(&app), "alice");
}

#[test]
fn loader_events_wait_while_an_analysis_holds_the_store() {
    let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
    let src = app.add_source(SMALL).unwrap();
    let snapshot = Arc::clone(&app.model.store);
    let tx = app.sender();
    let opts = streamscope::source::LoadOptions {
        keep_raw: true,
        ..Default::default()
    };
    streamscope::source::load(SMALL, src, &opts, &mut |ev| {
        let _ = tx.send(Msg::from(ev));
    });
    app.pump(Instant::now() + Duration::from_secs(5));
    assert!(app.model.pending > 0);
    assert_eq!(app.model.store.events().len(), 0);
    assert!(
        app.model.sources[0].done,
        "status is tracked ahead of the store"
    );
    assert!(app.model.loading());
    drop(snapshot);
    app.pump(Instant::now() + Duration::from_secs(5));
    assert_eq!(app.model.pending, 0);
    assert_eq!(app.model.store.events().len(), 27);
}

#[test]
fn a_failed_source_is_reported_and_the_app_keeps_working() {
    let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
    let bad = app
        .add_source("tests/fixtures/tui/no-such-file.ndjson")
        .unwrap();
    let good = app.add_source(SMALL).unwrap();
    let tx = app.sender();
    let opts = streamscope::source::LoadOptions {
        keep_raw: true,
        ..Default::default()
    };
    for (spec, src) in [
        ("tests/fixtures/tui/no-such-file.ndjson", bad),
        (SMALL, good),
    ] {
        streamscope::source::load(spec, src, &opts, &mut |ev| {
            let _ = tx.send(Msg::from(ev));
        });
    }
    app.analyse_now();
    assert!(app.model.sources[0].failed);
    assert!(app.model.sources[0].problems[0].contains("cannot open"));
    assert_eq!(
        app.model.derived.analysis.as_ref().unwrap().summary.events,
        27
    );
    press(&mut app, 'j');
    assert_eq!(app.model.derived.users.selected, 1);
}

#[test]
fn keys_do_nothing_harmful_before_any_analysis() {
    let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
    for c in "jkgG{}eE/nNfzxyrtso+-0hl?".chars() {
        press(&mut app, c);
        key(&mut app, KeyCode::Esc);
    }
    for code in [KeyCode::Enter, KeyCode::Tab, KeyCode::PageDown, KeyCode::Up] {
        key(&mut app, code);
    }
    let _ = draw(&mut app, 120, 40);
    assert!(!app.should_quit());
}

#[test]
fn a_failing_worker_stops_the_inspector_with_its_reason() {
    let mut app = small_app();
    let tx = app.sender();
    let worker = std::thread::spawn(move || {
        streamscope::tui::app::run_worker("analysis", &tx, || panic!("boom"));
    });
    let _ = worker.join();
    app.pump(Instant::now() + Duration::from_secs(1));
    assert!(app.should_quit());
    assert_eq!(app.failure(), Some("the analysis thread failed: boom"));
}

#[test]
fn bang_lists_the_sources_rejected_records_with_their_lines_and_enter_shows_one() {
    let mut app = app_of(EXPORT);
    press(&mut app, '!');
    assert_eq!(app.model.overlay, Overlay::Rejected);
    let v = app.model.rejected.as_ref().unwrap();
    assert!(v.list.is_empty(), "no endpoint, no requests");
    let rows: Vec<(RecordKind, &str)> = v
        .records
        .iter()
        .map(|r| (r.kind, r.location.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (RecordKind::Rejected, "tests/fixtures/tui/export.ndjson:3"),
            (RecordKind::Rejected, "tests/fixtures/tui/export.ndjson:7"),
            (RecordKind::Warning, "tests/fixtures/tui/export.ndjson:6"),
        ]
    );
    let cut = v.records[0].text.as_ref().unwrap();
    assert!(
        cut.text.ends_with("\"time\":17041896\\e[2J"),
        "the line, escaped: {}",
        cut.text
    );
    assert!(v.records[1].what.starts_with("no identity"));
    assert!(v.records[2].what.contains("\"abc\""));
    // The line numbers are the file's: the text shown is that line of the file.
    let file = std::fs::read_to_string(EXPORT).unwrap();
    let line7 = file.lines().nth(6).unwrap();
    assert_eq!(v.records[1].text.as_ref().unwrap().text, line7);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let v = app.model.rejected.as_ref().unwrap();
    assert_eq!(v.body.as_ref().and_then(|b| b.record), Some(1));
    key(&mut app, KeyCode::Esc);
    assert!(app.model.rejected.as_ref().unwrap().body.is_none());
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.model.overlay, Overlay::None);
}

#[test]
fn the_detail_names_the_events_file_and_line_and_the_key_as_the_data_has_it() {
    let mut app = app_of(EXPORT);
    select_user(&mut app, "1238554009001");
    key(&mut app, KeyCode::Enter);
    // Every event of the user: the line named is the line of the file that holds it.
    let file = std::fs::read_to_string(EXPORT).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        key(&mut app, KeyCode::Enter);
        if let Some(d) = app.model.derived.detail.as_ref() {
            let line = d.line.expect("a plain file's line");
            let RawText::Ready { raw, .. } = &d.raw else {
                panic!("{:?}", d.raw);
            };
            let record = file.lines().nth(line as usize - 1).unwrap();
            assert_eq!(
                record.as_bytes(),
                &raw[..],
                "line {line} is the event's record"
            );
            assert!(
                record.contains("\"amplitude_id\":1238554009001"),
                "{record}"
            );
            let t = draw(&mut app, 120, 40);
            let text = screen(&t).join("\n");
            assert!(
                text.contains(&format!("tests/fixtures/tui/export.ndjson:{line}")),
                "{text}"
            );
            assert!(
                !text.contains("event #") && !text.contains("amp:"),
                "{text}"
            );
            assert!(
                text.contains("amp 1238554009001"),
                "the user is named by identity: {text}"
            );
            seen.insert(line);
            key(&mut app, KeyCode::Esc);
        }
        key(&mut app, KeyCode::Down);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [5, 6, 8]);
}

#[test]
fn prompts_start_empty_with_the_current_value_as_placeholder_and_refuse_what_they_do_not_ask_for() {
    let mut app = small_app();
    let thirty = app.model.rules.timeout_ms;
    press(&mut app, 'T');
    let p = app.model.prompt.as_ref().unwrap();
    assert_eq!((p.text.as_str(), p.placeholder.as_str()), ("", "30m"));
    let t = draw(&mut app, 120, 40);
    assert!(
        screen(&t).join("\n").contains("▏30m"),
        "the placeholder is shown"
    );
    // Typing replaces the value: 45m is 45 minutes, not 30m45m.
    type_text(&mut app, "45m");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.rules.timeout_ms, 45 * MINUTE_MS);
    // Not a duration, or a unit twice: refused, saying what was expected.
    for typed in ["soon", "45m45m"] {
        press(&mut app, 'T');
        type_text(&mut app, typed);
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.model.rules.timeout_ms, 45 * MINUTE_MS, "{typed}");
        let m = app.model.message.as_ref().unwrap();
        assert!(m.text.contains("like 90s, 45m or 1h30m"), "{}", m.text);
    }
    // Enter on an empty prompt keeps the value.
    press(&mut app, 'T');
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.rules.timeout_ms, 45 * MINUTE_MS);
    assert_ne!(thirty, 45 * MINUTE_MS);
    // Ctrl-W deletes a word, Ctrl-U everything typed.
    press(&mut app, 'f');
    assert_eq!(app.model.prompt.as_ref().unwrap().text, "");
    type_text(&mut app, "App Opened");
    ctrl(&mut app, 'w');
    assert_eq!(app.model.prompt.as_ref().unwrap().text, "App ");
    ctrl(&mut app, 'u');
    assert_eq!(app.model.prompt.as_ref().unwrap().text, "");
    type_text(&mut app, "Search");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.events.type_filter, "Search");
    press(&mut app, 'f');
    let p = app.model.prompt.as_ref().unwrap();
    assert_eq!((p.text.as_str(), p.placeholder.as_str()), ("", "Search"));
}
