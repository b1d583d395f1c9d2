//! The two lifecycle findings in the inspector, on the demo's sofia (Android, with
//! lifecycle events): the session detail of her END PROPS session lists the user
//! properties its session_end changed, her background session's detail gives the time in
//! the background next to the foreground time, and the session strip draws the stretches
//! the app spent in the background (`▁`).

use crate::tui_support;

use crossterm::event::KeyCode;
use streamscope::analysis::Flag;
use streamscope::tui::app::App;
use streamscope::tui::model::{Focus, Overlay};
use streamscope::tui::rows::Row;
use tui_support::*;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// The demo with sofia selected and the event list focused on her first session header.
fn sofia() -> App {
    let mut app = app_of("assets/demo.ndjson");
    select_user(&mut app, "sofia@example.es");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.focus, Focus::Lower);
    app
}

/// Sofia's session `k` (in list order) selected by its header.
fn on_session(k: usize) -> App {
    let mut app = sofia();
    for _ in 0..k {
        press(&mut app, '}');
    }
    let rows = &app.model.derived.events.rows;
    assert!(matches!(
        rows[app.model.derived.events.selected],
        Row::Session { .. }
    ));
    app
}

/// The detail of sofia's session `k`.
fn detail_of(k: usize) -> App {
    let mut app = on_session(k);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.overlay, Overlay::Session);
    app
}

fn text(app: &mut App, w: u16, h: u16) -> String {
    screen(&draw(app, w, h)).join("\n")
}

#[test]
fn the_end_props_session_detail_lists_what_the_end_marker_changed() {
    let mut app = detail_of(1);
    let a = app.model.derived.analysis.as_ref().expect("analysed");
    let v = app
        .model
        .derived
        .session
        .as_ref()
        .expect("a session detail");
    assert!(a.sessions[v.detail.session.idx()].has(Flag::EndPropsChanged));
    for (w, h) in SIZES {
        let screen = text(&mut app, w, h);
        assert!(screen.contains("end props"), "{w}x{h}\n{screen}");
        assert!(
            screen.contains("Plan Selected → 12:33:13.888 session_end"),
            "{w}x{h}\n{screen}"
        );
        assert!(
            screen.contains(r#"plan  "free" → "premium""#),
            "{w}x{h}\n{screen}"
        );
        assert!(
            screen.contains(r#"loyalty_tier  "silver" → "gold""#),
            "{w}x{h}\n{screen}"
        );
        assert!(screen.contains("END PROPS"), "{w}x{h}\n{screen}");
    }
}

#[test]
fn the_background_session_detail_gives_the_foreground_time() {
    let mut app = detail_of(0);
    let screen = text(&mut app, 120, 40);
    assert!(
        screen.contains("13m42s in the background · foreground 6m06s · 3 background events"),
        "{screen}"
    );
    assert!(screen.contains("BACKGROUND"), "{screen}");
    // The session the fix applies to: properties changed, but no END PROPS row.
    let mut app = detail_of(2);
    let screen = text(&mut app, 120, 40);
    assert!(!screen.contains("end props"), "{screen}");
}

#[test]
fn the_session_strip_draws_the_background_stretches() {
    let mut app = on_session(0);
    for (w, h) in SIZES {
        let t = draw(&mut app, w, h);
        let lines = screen(&t);
        let strip = lines
            .iter()
            .find(|l| l.contains("session 1 "))
            .unwrap_or_else(|| panic!("{w}x{h}: no strip\n{}", lines.join("\n")));
        let run = strip.matches('▁').count();
        assert!(run >= 3, "{w}x{h}: {strip}");
        // The stretch is drawn in the warning style, apart from the session's own line.
        let buf = t.backend().buffer();
        let y = lines.iter().position(|l| l == strip).expect("row") as u16;
        let x = (0..buf.area.width)
            .find(|&x| buf[(x, y)].symbol() == "▁")
            .expect("a background cell");
        let span = (0..buf.area.width)
            .find(|&x| buf[(x, y)].symbol() == "─")
            .expect("an in-session cell");
        assert_ne!(buf[(x, y)].style(), buf[(span, y)].style(), "{w}x{h}");
    }
    // The other sessions have none.
    let mut app = on_session(1);
    let lines = screen(&draw(&mut app, 120, 40));
    let strip = lines
        .iter()
        .find(|l| l.contains("session 2 "))
        .expect("strip");
    assert!(!strip.contains('▁'), "{strip}");
}

#[test]
fn lifecycle_session_details_at_three_sizes() {
    for (w, h) in SIZES {
        let mut app = detail_of(1);
        let t = draw(&mut app, w, h);
        insta::assert_snapshot!(format!("end_props_detail_{w}x{h}"), t.backend());
        let mut app = on_session(0);
        let t = draw(&mut app, w, h);
        insta::assert_snapshot!(format!("background_strip_{w}x{h}"), t.backend());
    }
}
