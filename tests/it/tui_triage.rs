//! The inspector's triage (issue 9): users named by identity and found by any of their
//! ids, the severity ranking, the findings overlay and its drill-down, and the users
//! pane at every size. Snapshots at 80×24, 120×40 and 200×50.

use crate::tui_support;

use crossterm::event::KeyCode;
use streamscope::analysis::Flag;
use streamscope::tui::app::App;
use streamscope::tui::model::{Focus, Lower, Overlay};
use streamscope::tui::rows::{Row, row_has_flag};
use streamscope::tui::ui::findings::{Finding, list};
use tui_support::*;

/// Amplitude Export-shaped: every event has user, device and Amplitude ids; three users,
/// the device `kiosk-dev-7` shared by two of them.
const EXPORT: &str = "tests/fixtures/identity/export-ids.ndjson";

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn check(name: &str, setup: impl Fn() -> App) {
    for (w, h) in SIZES {
        let mut app = setup();
        let t = draw(&mut app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

/// The identity labels of the users listed, in order.
fn listed(app: &App) -> Vec<String> {
    let m = &app.model;
    m.derived
        .users
        .list
        .iter()
        .map(|&u| m.user_label(u))
        .collect()
}

fn filter(app: &mut App, text: &str) {
    press(app, '/');
    type_text(app, text);
    key(app, KeyCode::Enter);
}

/// The users `/query` lists in `path`, by the first part of their labels, in order.
fn found(path: &str, query: &str) -> Vec<String> {
    let mut app = app_of(path);
    filter(&mut app, query);
    listed(&app)
        .into_iter()
        .map(|l| l.split(" · ").next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn slash_finds_users_by_user_id_device_id_or_amplitude_id() {
    let cases: [(&str, &[&str]); 6] = [
        ("kiosk-store-042", &["kiosk-store-042"]),
        ("KIOSK-STORE", &["kiosk-store-042"]),
        ("carl-laptop", &["carl@example.com"]),
        ("7770001112223", &["carl@example.com"]),
        ("ana-phone", &["ana.berg@example.org"]),
        // The shared device lists both users that used it.
        ("kiosk-dev-7", &["ana.berg@example.org", "kiosk-store-042"]),
    ];
    for (query, want) in cases {
        let mut got = found(EXPORT, query);
        got.sort();
        assert_eq!(got, want, "/{query}");
    }
}

/// Ids are compared lower-cased as whole strings, not character by character: a Greek
/// capital sigma at the end of a word becomes a final sigma.
#[test]
fn slash_lower_cases_ids_that_are_not_ascii_as_text() {
    let cases: [(&str, &[&str]); 4] = [
        ("σοφιας", &["ΣΟΦΙΑΣ"]),
        ("ΣΟΦΙΑΣ", &["ΣΟΦΙΑΣ"]),
        ("DEV-ä", &["ΣΟΦΙΑΣ"]),
        ("dev-a", &["sofia"]),
    ];
    for (query, want) in cases {
        let got = found("tests/fixtures/identity/non-ascii-ids.ndjson", query);
        assert_eq!(got, want, "/{query}");
    }
}

#[test]
fn users_are_named_user_id_first_everywhere() {
    let mut app = app_of(EXPORT);
    filter(&mut app, "ana.berg");
    let label = "ana.berg@example.org · amp 1238554004088 · 2 devices";
    assert_eq!(listed(&app), [label]);
    let screen = screen(&draw(&mut app, 200, 50)).join("\n");
    // The timeline's line and the events title in full, the users pane as far as it goes.
    assert!(screen.matches(label).count() >= 2, "{screen}");
    assert!(
        screen.contains("▶ana.berg@example.org · amp 12385"),
        "{screen}"
    );
}

#[test]
fn the_default_sort_is_the_triage_ranking_and_loading_selects_its_top() {
    let app = small_app();
    let a = app.model.derived.analysis.as_ref().expect("analysed");
    assert_eq!(app.model.derived.users.list, a.triage_order());
    assert_eq!(app.model.derived.users.selected, 0);
}

#[test]
fn a_finding_narrows_the_users_and_e_walks_its_rows() {
    let mut app = small_app();
    press(&mut app, 'i');
    assert_eq!(app.model.overlay, Overlay::Findings);
    let found = list(&app.model);
    let k = found
        .iter()
        .position(|&f| f == Finding::Flag(Flag::Gap))
        .expect("GAP is a finding");
    for _ in 0..k {
        press(&mut app, 'j');
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.overlay, Overlay::None);
    assert_eq!(app.model.users.finding, Some(Flag::Gap));
    let a = app.model.derived.analysis.as_ref().expect("analysed");
    let with_gap: Vec<_> = a
        .user_ixs()
        .filter(|&u| a.user_counts[u][Flag::Gap] > 0)
        .collect();
    assert!(!with_gap.is_empty());
    let mut listed_users = app.model.derived.users.list.clone();
    listed_users.sort();
    assert_eq!(listed_users, with_gap, "only the users with a gap");
    let title = screen(&draw(&mut app, 120, 40))[0].clone();
    assert!(title.contains("with GAP"), "{title}");
    // Users → their sessions and events: e walks the rows carrying the gap.
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        (app.model.focus, app.model.lower),
        (Focus::Lower, Lower::Events)
    );
    press(&mut app, 'e');
    let a = app.model.derived.analysis.as_ref().expect("analysed");
    let row = app.model.derived.events.rows[app.model.derived.events.selected];
    assert!(row_has_flag(a, row, Flag::Gap), "{row:?}");
    assert!(
        matches!(row, Row::Event { .. }),
        "the event after the gap: {row:?}"
    );
    // → the event's detail.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.overlay, Overlay::Detail);
    key(&mut app, KeyCode::Esc);
    // Esc in the users pane shows every user again.
    while app.model.focus != Focus::Users {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.model.users.finding, None);
    assert_eq!(app.model.derived.users.list.len(), a_users(&app));
}

fn a_users(app: &App) -> usize {
    app.model
        .derived
        .analysis
        .as_ref()
        .map_or(0, |a| a.users.len())
}

#[test]
fn findings_overlay() {
    check("findings", || {
        let mut app = small_app();
        press(&mut app, 'i');
        app
    });
}

#[test]
fn users_narrowed_to_a_finding() {
    check("finding_users", || {
        let mut app = small_app();
        press(&mut app, 'i');
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn users_pane_by_identity() {
    check("identity_users", || app_of(EXPORT));
}

#[test]
fn users_pane_with_every_flag() {
    check("triage_users", small_app);
}

#[test]
fn flags_are_never_cut_mid_word() {
    for (w, h) in SIZES {
        let mut app = small_app();
        let t = draw(&mut app, w, h);
        let list = app.view.areas.users_list;
        for line in screen(&t).iter().skip(list.y as usize).take(5) {
            let pane: String = line
                .chars()
                .take(usize::from(list.x + list.width))
                .collect();
            if let Some(cut) = pane.find('…') {
                let after = &pane[cut..];
                // An id cut is followed by its counts; a flag list cut ends in `…+N`.
                assert!(
                    after.starts_with("…+") || after.trim_start_matches('…').starts_with(' '),
                    "{w}x{h}: {pane}"
                );
            }
        }
    }
}
