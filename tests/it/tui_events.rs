//! The events pane for reading (issue 10, item 5): fixed columns with the flag column
//! between type and properties, horizontal scroll of the properties, the pinned header of
//! the session the view is in, folding, suspect-id headers and highlighted search
//! matches. Snapshots at 80×24, 120×40 and 200×50 of `tests/fixtures/tui/reading.ndjson`
//! (one user: a session with a 14m37s gap and a duplicate, an out-of-session event, a
//! 60-event session, a session whose id is in seconds), and interaction tests of the keys.

use crate::tui_support;

use crossterm::event::KeyCode;
use ratatui::style::Modifier;
use streamscope::tui::app::App;
use streamscope::tui::model::Focus;
use streamscope::tui::rows::Row;
use streamscope::tui::ui::Theme;
use tui_support::*;

/// The fixture of this module.
const READING: &str = "tests/fixtures/tui/reading.ndjson";

/// The three sizes of issue 10.
const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// The reading fixture's user opened, the event list focused on its first row.
fn reading_app() -> App {
    let mut app = app_of(READING);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.focus, Focus::Lower);
    app
}

/// Snapshots the app `setup` builds at [`SIZES`], checking no control character shows.
fn check(name: &str, setup: impl Fn() -> App) {
    for (w, h) in SIZES {
        let mut app = setup();
        let t = draw(&mut app, w, h);
        for line in screen(&t) {
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

/// The event list's rows of the screen of `t` (between the pane's borders).
fn pane_lines(app: &App, t: &ratatui::Terminal<ratatui::backend::TestBackend>) -> Vec<String> {
    let list = app.view.areas.lower_list;
    screen(t)
        .into_iter()
        .skip(list.y as usize)
        .take(list.height as usize)
        .map(|l| {
            l.chars()
                .skip(list.x as usize)
                .take(list.width as usize)
                .collect()
        })
        .collect()
}

/// Selects the first row whose event has type `ty`.
fn select_type(app: &mut App, ty: &str) {
    for _ in 0..app.model.derived.events.rows.len() {
        if app.model.selected_event().is_some()
            && selected_type(app) == ty
            && matches!(
                app.model.derived.events.rows[app.model.derived.events.selected],
                Row::Event { .. }
            )
        {
            return;
        }
        key(app, KeyCode::Down);
    }
    panic!("no {ty} row");
}

fn headers(app: &App) -> usize {
    app.model
        .derived
        .events
        .rows
        .iter()
        .filter(|r| matches!(r, Row::Session { .. }))
        .count()
}

#[test]
fn fixed_columns_with_gap_dup_and_no_session_rows() {
    check("columns", reading_app);
}

#[test]
fn flags_never_shift_the_properties_column() {
    for (w, h) in SIZES {
        let mut app = reading_app();
        let t = draw(&mut app, w, h);
        let lines = pane_lines(&app, &t);
        // Where each event row's properties start: after time, type and flag columns.
        let starts: Vec<usize> = lines
            .iter()
            .filter_map(|l| {
                let cells: Vec<char> = l.chars().collect();
                [
                    "plan=", "query", "sku=", "revenue=", "job=", "page=", "reven",
                ]
                .iter()
                .filter_map(|key| {
                    let k: Vec<char> = key.chars().collect();
                    cells.windows(k.len()).position(|win| win == k.as_slice())
                })
                .min()
            })
            .collect();
        assert!(starts.len() >= 6, "{w}x{h}: {lines:#?}");
        assert!(
            starts.iter().all(|&s| s == starts[0]),
            "{w}x{h}: properties start at {starts:?}\n{lines:#?}"
        );
        let text = lines.join("\n");
        assert!(text.contains("GAP 14m37s"), "{w}x{h}: {text}");
        assert!(text.contains("DUP"), "{w}x{h}: {text}");
        assert!(text.contains("NO SESSION"), "{w}x{h}: {text}");
    }
}

#[test]
fn a_folded_session_and_all_folded() {
    check("folded_one", || {
        let mut app = reading_app();
        press(&mut app, ' ');
        app
    });
    check("folded_all", || {
        let mut app = reading_app();
        press(&mut app, 'C');
        app
    });
}

#[test]
fn space_folds_and_unfolds_the_session_under_the_cursor() {
    let mut app = reading_app();
    let all = app.model.derived.events.rows.len();
    select_type(&mut app, "Search");
    press(&mut app, ' ');
    let rows = &app.model.derived.events.rows;
    // Session A's 7 events are gone; the cursor is on its header, which counts them.
    assert_eq!(rows.len(), all - 7);
    assert_eq!(app.model.derived.events.selected, 0);
    assert!(matches!(rows[0], Row::Session { shown: 7, .. }));
    assert!(
        matches!(rows[1], Row::Event { .. }),
        "the out-of-session event"
    );
    let t = draw(&mut app, 120, 40);
    let lines = pane_lines(&app, &t);
    assert!(
        lines[0].starts_with("▸ 2024-01-02 10:00:00.000 · 7 events"),
        "{lines:#?}"
    );
    assert!(lines[2].starts_with("▾ "), "{lines:#?}");
    press(&mut app, ' ');
    assert_eq!(app.model.derived.events.rows.len(), all);
    assert_eq!(app.model.derived.events.selected, 0);
    let t = draw(&mut app, 120, 40);
    assert!(pane_lines(&app, &t)[0].starts_with("▾ "));
}

#[test]
fn c_folds_every_session_and_unfolds_them_again() {
    let mut app = reading_app();
    let all = app.model.derived.events.rows.len();
    select_type(&mut app, "Checkout Started");
    press(&mut app, 'C');
    let rows = &app.model.derived.events.rows;
    // Three headers and the out-of-session event.
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(headers(&app), 3);
    // The cursor stays with its session: the long session's header.
    assert_eq!(app.model.derived.events.selected, 2);
    assert!(matches!(rows[2], Row::Session { shown: 60, .. }));
    // { and } walk the headers.
    press(&mut app, '}');
    assert_eq!(app.model.derived.events.selected, 3);
    press(&mut app, '{');
    press(&mut app, '{');
    assert_eq!(app.model.derived.events.selected, 0);
    // Space unfolds one of them.
    press(&mut app, ' ');
    assert_eq!(app.model.derived.events.rows.len(), 4 + 7);
    press(&mut app, 'C');
    // Not all were folded: C folds all again; once more unfolds all.
    assert_eq!(app.model.derived.events.rows.len(), 4);
    press(&mut app, 'C');
    assert_eq!(app.model.derived.events.rows.len(), all);
}

#[test]
fn a_search_jump_into_a_folded_session_unfolds_it() {
    let mut app = reading_app();
    press(&mut app, 'C');
    press(&mut app, '/');
    type_text(&mut app, "checkout");
    key(&mut app, KeyCode::Enter);
    assert_eq!(selected_type(&app), "Checkout Started");
    let rows = &app.model.derived.events.rows;
    assert!(matches!(
        rows[app.model.derived.events.selected],
        Row::Event { .. }
    ));
    // Only the long session opened: 3 headers, 1 out-of-session event, its 60 events.
    assert_eq!(rows.len(), 4 + 60);
    // The count covers the folded sessions too.
    let text = app.model.message.as_ref().map(|m| m.text.clone());
    assert_eq!(
        text.as_deref(),
        Some("match 1 of 1 for 'checkout' in this user")
    );
    // Another search steps from there into another folded session.
    press(&mut app, 'C');
    press(&mut app, '/');
    type_text(&mut app, "product");
    key(&mut app, KeyCode::Enter);
    assert!(selected_type(&app).starts_with("Product"));
    let text = app.model.message.as_ref().map(|m| m.text.clone());
    assert!(
        text.as_deref()
            .is_some_and(|t| t.starts_with("match 1 of ")),
        "{text:?}"
    );
}

#[test]
fn follow_mode_selects_the_newest_event_s_folded_header() {
    let mut live = LiveApp::new();
    let lines: Vec<String> = (0..5)
        .map(|i| event_line("Tap", "ann", i * 10, 0))
        .collect();
    live.receive(&lines);
    live.app.model.focus = Focus::Lower;
    press(&mut live.app, 'C');
    // C pauses nothing: following goes on, and new events land in the folded session.
    live.app.set_follow(true);
    let more: Vec<String> = (5..8)
        .map(|i| event_line("Tap", "ann", i * 10, 0))
        .collect();
    live.receive(&more);
    let rows = &live.app.model.derived.events.rows;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(matches!(rows[0], Row::Session { shown: 8, .. }));
    assert_eq!(live.app.model.derived.events.selected, 0);
}

#[test]
fn the_header_of_a_long_session_stays_pinned() {
    let setup = || {
        let mut app = reading_app();
        select_type(&mut app, "Checkout Started");
        app
    };
    check("sticky", setup);
    for (w, h) in SIZES {
        let mut app = setup();
        let t = draw(&mut app, w, h);
        let lines = pane_lines(&app, &t);
        let top = app.view.events_top;
        assert!(
            matches!(app.model.derived.events.rows[top], Row::Event { .. }),
            "{w}x{h}: the list starts inside the session"
        );
        assert!(
            lines[0].starts_with("▾ 2024-01-02 11:00:00.000 · 60 events"),
            "{w}x{h}: {lines:#?}"
        );
        // The selected row is on screen, below the pinned header.
        let sel = app.model.derived.events.selected;
        assert!(sel > top && sel < top + lines.len(), "{w}x{h}");
        // Its first line is underlined (a heading), not reversed.
        let buf = t.backend().buffer();
        let list = app.view.areas.lower_list;
        let cell = &buf[(list.x + 2, list.y)];
        assert!(cell.modifier.contains(Modifier::UNDERLINED));
        assert!(!cell.modifier.contains(Modifier::REVERSED));
    }
    // A click on the pinned header selects it.
    let mut app = setup();
    draw(&mut app, 120, 40);
    let list = app.view.areas.lower_list;
    app.apply(streamscope::tui::action::Action::Click {
        column: list.x + 3,
        row: list.y,
    });
    let sel = app.model.derived.events.selected;
    assert!(matches!(
        app.model.derived.events.rows[sel],
        Row::Session { shown: 60, .. }
    ));
}

#[test]
fn properties_scroll_horizontally() {
    check("hscroll", || {
        let mut app = reading_app();
        draw(&mut app, 120, 40);
        press(&mut app, 'l');
        press(&mut app, 'l');
        app
    });
    let mut app = reading_app();
    let t = draw(&mut app, 120, 40);
    let before = pane_lines(&app, &t);
    assert!(before[2].contains("plan=pro page=home"), "{before:#?}");
    // Past the edge before scrolling: the last properties of the row are not shown.
    assert!(!before[2].contains("theme=dark"), "{before:#?}");
    for _ in 0..20 {
        press(&mut app, 'l');
    }
    let t = draw(&mut app, 120, 40);
    let after = pane_lines(&app, &t);
    // Scrolled to the end: the end of the longest row on screen is reachable.
    assert!(after[2].contains("theme=dark"), "{after:#?}");
    assert!(!after[2].contains("plan=pro"), "{after:#?}");
    // Time, type and flag columns stay.
    assert!(
        after[2].starts_with("  10:00:05.000 App Opened"),
        "{after:#?}"
    );
    let title = screen(&t)[app.view.areas.lower.y as usize].clone();
    assert!(
        title.contains(&format!("props → {}", app.model.events.hscroll)),
        "{title}"
    );
    for _ in 0..20 {
        key(&mut app, KeyCode::Left);
    }
    assert_eq!(app.model.events.hscroll, 0);
    // In the timeline, l still pans (and leaves the properties alone).
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.model.focus, Focus::Timeline);
    press(&mut app, 'l');
    assert_eq!(app.model.events.hscroll, 0);
    assert!(app.model.derived.timeline.center.is_some());
}

#[test]
fn a_suspect_id_header_says_what_the_id_looks_like() {
    let setup = || {
        let mut app = reading_app();
        key(&mut app, KeyCode::End);
        press(&mut app, '{');
        app
    };
    check("suspect", setup);
    let mut app = setup();
    let t = draw(&mut app, 200, 50);
    let text = pane_lines(&app, &t).join("\n");
    assert!(
        text.contains(
            "▾ 2026-10-28 13:00:29.731 · id 1793192429 looks like seconds: 2026-10-28 13:00:29 · 2 events"
        ),
        "{text}"
    );
    // No length measured from an id that is not the start.
    assert!(!text.contains("length 2073"), "{text}");
    assert!(text.contains("SUSPECT ID"), "{text}");
}

#[test]
fn search_matches_are_highlighted_without_reverse_video() {
    let setup = || {
        let mut app = reading_app();
        press(&mut app, '/');
        type_text(&mut app, "SHOE");
        key(&mut app, KeyCode::Enter);
        app
    };
    check("highlight", setup);
    for theme in [Theme::color(), Theme::mono()] {
        let mut app = setup();
        app.view.theme = theme;
        let t = draw(&mut app, 120, 40);
        let list = app.view.areas.lower_list;
        let buf = t.backend().buffer();
        let sel = app.model.derived.events.selected - app.view.events_top;
        let mut marked = 0;
        for (k, line) in pane_lines(&app, &t).iter().enumerate() {
            let chars: Vec<char> = line.chars().collect();
            for (x, _) in chars.iter().enumerate() {
                let cell = &buf[(list.x + x as u16, list.y + k as u16)];
                let hit = cell.modifier.contains(Modifier::UNDERLINED)
                    && cell.modifier.contains(Modifier::BOLD);
                // Every occurrence of "shoe" (any case) is marked, and nothing else is.
                let inside = (0..4).any(|d| {
                    x >= d
                        && chars[x - d..]
                            .iter()
                            .take(4)
                            .collect::<String>()
                            .eq_ignore_ascii_case("shoe")
                });
                if !line.starts_with('▾') && !line.starts_with('▸') {
                    assert_eq!(hit, inside, "row {k} col {x}: {line}");
                }
                if hit {
                    marked += 1;
                    if k != sel {
                        assert!(!cell.modifier.contains(Modifier::REVERSED), "{line}");
                    }
                }
            }
        }
        // red shoes, SHOE-42-RED twice (in sku and productId), shoes_synced, /catalog/shoes…
        assert!(marked >= 4 * 5, "{marked} cells marked");
    }
}

#[test]
fn an_export_of_folded_sessions_writes_all_their_events() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut app = reading_app();
    press(&mut app, 'C');
    assert_eq!(app.model.derived.events.rows.len(), 4);
    let path = dir.path().join("reader.ndjson");
    app.export(path.to_str().expect("a UTF-8 temporary path"));
    settle(&mut app);
    let text = std::fs::read_to_string(&path).expect("the export");
    assert_eq!(text.lines().count(), 70);
}

#[test]
fn another_user_starts_with_the_properties_unscrolled() {
    let mut app = small_app();
    key(&mut app, KeyCode::Enter);
    draw(&mut app, 120, 40);
    press(&mut app, 'l');
    assert!(app.model.events.hscroll > 0);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.model.focus, Focus::Users);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.model.events.hscroll, 0);
}

#[test]
fn a_narrow_properties_column_scrolls_without_skipping_characters() {
    let mut app = reading_app();
    let t = draw(&mut app, 80, 24);
    let props = |app: &App, t: &ratatui::Terminal<ratatui::backend::TestBackend>| {
        let line = pane_lines(app, t)[2].clone();
        // "  10:00:05.000 App Opened   …   plan=…": the properties column's text, the
        // trailing `…` left out.
        let cells: Vec<char> = line.chars().collect();
        let cols = streamscope::tui::ui::events::Columns::new(
            cells.len(),
            app.model.derived.events.type_cells,
        );
        let text: String = cells[cells.len() - cols.props..].iter().collect();
        text.trim_end_matches('…').trim_end().to_string()
    };
    let mut seen = props(&app, &t);
    let full = "plan=pro page=home build=812 locale=de-DE";
    for _ in 0..12 {
        press(&mut app, 'l');
        let t = draw(&mut app, 80, 24);
        let shown = props(&app, &t);
        // What is shown continues what was seen: offset by the scroll, nothing skipped.
        let from = app.model.events.hscroll;
        assert!(
            from <= seen.chars().count(),
            "skipped past {seen:?} to {from}"
        );
        seen = format!("{}{}", seen.chars().take(from).collect::<String>(), shown);
    }
    assert!(seen.starts_with(full), "{seen}");
}

#[test]
fn a_click_on_the_timeline_inside_a_folded_session_selects_its_header() {
    let mut app = reading_app();
    select_type(&mut app, "Checkout Started");
    press(&mut app, 'C');
    draw(&mut app, 120, 40);
    // Click where the long session's events are (zoomed to it by its selection).
    key(&mut app, KeyCode::BackTab);
    for _ in 0..12 {
        press(&mut app, '+');
    }
    draw(&mut app, 120, 40);
    let plot = app.view.areas.timeline_plot;
    let w = app.model.timeline_window().expect("a window");
    let target = w.time_at(plot.width / 2, plot.width);
    assert!(w.contains(target));
    let before = app.model.derived.events.selected;
    app.apply(streamscope::tui::action::Action::Click {
        column: plot.x + plot.width / 2,
        row: plot.y,
    });
    let sel = app.model.derived.events.selected;
    assert_eq!(sel, before, "the long session's header stays selected");
    assert!(matches!(
        app.model.derived.events.rows[sel],
        Row::Session { shown: 60, .. }
    ));
}
