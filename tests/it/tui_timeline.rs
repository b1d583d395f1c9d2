//! The session timeline (issue 10): the window fitted to the selected session when a user
//! is opened, the session strip, the replay's cuts and ties on the lanes, and a drawing
//! that survives real terminals (the selected session differs by style and shape, never a
//! reversed full block). Snapshots of the demo users at 80×24, 120×40 and 200×50, at the
//! default zoom (no key pressed after opening the user).

use crate::tui_support;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use streamscope::analysis::{MINUTE_MS, Rules};
use streamscope::tui::app::App;
use streamscope::tui::rows::Scale;
use streamscope::tui::ui::Theme;
use streamscope::tui::ui::timeline::{BAR, CUT, GLYPHS, SELECTED, TIE};
use streamscope::tui::zone::Zones;
use tui_support::*;

const DEMO: &str = "assets/demo.ndjson";

const ALL_SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// The demo at replay timeout `timeout_min`, with user `id` opened (as `--timeout` and a
/// click on the user would).
fn demo(timeout_min: i64, id: &str) -> App {
    let rules = Rules {
        timeout_ms: timeout_min * MINUTE_MS,
        ..Rules::default()
    };
    let mut app = App::new(store_of(DEMO), rules, Zones::default());
    app.analyse_now();
    select_user(&mut app, id);
    app
}

fn snapshot(name: &str, setup: impl Fn() -> App) {
    for (w, h) in ALL_SIZES {
        let mut app = setup();
        let t = draw(&mut app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

/// The rows of the timeline's plot (right of the lane labels), as text.
fn plot_rows(app: &App, buf: &Buffer) -> Vec<String> {
    let p = app.view.areas.timeline_plot;
    (p.y..p.y + p.height)
        .map(|y| (p.x..p.x + p.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

#[test]
fn merges_at_30m_show_as_ties_without_a_key() {
    // chen's first sessions are merged by the replay at 30m.
    snapshot("merges_30m", || demo(30, "chen@example.sg"));
    let mut app = demo(30, "chen@example.sg");
    assert_eq!(app.model.derived.timeline.scale, Scale::Fit);
    let t = draw(&mut app, 120, 40);
    let rows = plot_rows(&app, t.backend().buffer());
    assert!(
        rows.iter().any(|r| r.contains(TIE)),
        "a replayed session tied across two recorded ones: {rows:#?}"
    );
}

#[test]
fn splits_at_5m_show_as_cuts_without_a_key() {
    snapshot("splits_5m", || demo(5, "priya@example.in"));
    let mut app = demo(5, "priya@example.in");
    let t = draw(&mut app, 120, 40);
    let rows = plot_rows(&app, t.backend().buffer());
    assert!(
        rows.iter().any(|r| r.contains(CUT)),
        "the cut inside the recorded bar: {rows:#?}"
    );
    assert!(
        rows.iter().any(|r| r.contains(" cut ")),
        "the strip names the cut and its length: {rows:#?}"
    );
}

#[test]
fn the_lanes_change_where_the_replay_does() {
    // After `t` (30m to 1h) or back to 5m, the lanes differ: 5m cuts, 30m ties.
    let mut app = demo(5, "maya@example.com");
    let t = draw(&mut app, 120, 40);
    let at_5 = plot_rows(&app, t.backend().buffer());
    app.set_timeout(30 * MINUTE_MS);
    let t = draw(&mut app, 120, 40);
    let at_30 = plot_rows(&app, t.backend().buffer());
    assert_ne!(at_5, at_30);
}

#[test]
fn the_session_strip_writes_gap_lengths() {
    // alice's first session of the small fixture has a 7m12s gap.
    let mut app = small_app();
    let t = draw(&mut app, 120, 40);
    let shown = screen(&t).join("\n");
    assert!(shown.contains("7m12s ╌"), "{shown}");
    insta::assert_snapshot!("strip_small_120x40", t.backend());
}

/// For the demo users at every size, in `theme`: the selected session's bar cells are in
/// the selected style and other bars are not, no cell of the timeline is a reversed full
/// block, and the selected session is bracketed.
fn check_selection(theme: Theme) {
    for (id, timeout) in [
        ("chen@example.sg", 30),
        ("priya@example.in", 5),
        ("maya@example.com", 30),
    ] {
        for ((w, h), whole) in ALL_SIZES.into_iter().flat_map(|s| [(s, false), (s, true)]) {
            let mut app = demo(timeout, id);
            app.view.theme = theme;
            if whole {
                press(&mut app, '0');
            }
            let t = draw(&mut app, w, h);
            let buf = t.backend().buffer();
            let area = app.view.areas.timeline;
            let sel_style = theme.bar_selected;
            let mut selected = 0;
            let mut other = 0;
            for y in area.y..area.y + area.height {
                for x in area.x..area.x + area.width {
                    let c = &buf[(x, y)];
                    let full = BAR.iter().any(|b| c.symbol() == b.to_string());
                    assert!(
                        !(full && c.modifier.contains(Modifier::REVERSED)),
                        "{id} {w}x{h}: a reversed full block at ({x},{y})"
                    );
                    if full {
                        if c.modifier == sel_style.add_modifier
                            && c.fg == sel_style.fg.unwrap_or(Color::Reset)
                        {
                            selected += 1;
                        } else {
                            other += 1;
                        }
                    }
                }
            }
            assert!(selected > 0, "{id} {w}x{h}: the selected session is drawn");
            assert!(
                other > 0 || !whole,
                "{id} {w}x{h}: other sessions are drawn apart from it"
            );
            let rows = plot_rows(&app, buf);
            assert!(
                whole
                    || rows
                        .iter()
                        .any(|r| r.contains(SELECTED[0]) && r.contains(SELECTED[1])),
                "{id} {w}x{h}: the selected session is bracketed: {rows:#?}"
            );
        }
    }
}

#[test]
fn the_selected_session_differs_by_style_and_shape_in_colour() {
    check_selection(Theme::color());
}

#[test]
fn the_selected_session_differs_by_style_and_shape_without_colour() {
    check_selection(Theme::mono());
}

#[test]
fn every_glyph_is_in_the_help() {
    let app = small_app();
    for width in [118, 198] {
        let help: Vec<String> =
            streamscope::tui::ui::help::lines_for(app.keymap(), &Theme::mono(), width)
                .iter()
                .map(ToString::to_string)
                .collect();
        for g in GLYPHS {
            assert!(
                help.iter()
                    .any(|l| l.contains(g.glyphs) && l.contains(&g.meaning[..20])),
                "{} missing at {width}: {help:#?}",
                g.glyphs
            );
        }
        assert!(
            help.iter()
                .all(|l| streamscope::tui::ui::cells(l) <= usize::from(width))
        );
    }
}

#[test]
fn the_help_uses_the_width() {
    // Two columns at 200, every line whole at 120 (long descriptions wrap).
    for (w, h) in [(120, 40), (200, 50)] {
        let mut app = small_app();
        press(&mut app, '?');
        let t = draw(&mut app, w, h);
        insta::assert_snapshot!(format!("help_{w}x{h}"), t.backend());
    }
    let app = small_app();
    let wide = streamscope::tui::ui::help::lines_for(app.keymap(), &Theme::mono(), 198);
    let narrow = streamscope::tui::ui::help::lines_for(app.keymap(), &Theme::mono(), 118);
    assert!(
        wide.len() * 3 < narrow.len() * 2,
        "{} vs {}",
        wide.len(),
        narrow.len()
    );
    assert!(narrow.iter().all(|l| l.width() <= 118));
}
