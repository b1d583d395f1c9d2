//! The replay panel (`r`) about the selected user (issue 10, item 3): render snapshots of
//! the per-user and the whole-input panel at 80×24, 120×40 and 200×50 on the demo stream,
//! the panel's keys (whole input / user, the compared timeout, scrolling, `t`), and the
//! panel's figures against `report --user ID --format json` run as the real binary.

use crate::tui_support;

use std::process::Command;

use serde_json::Value;
use streamscope::fmt::{count, duration, setting};
use streamscope::tui::app::App;
use streamscope::tui::model::{Focus, Lower};
use streamscope::tui::ui::Theme;
use tui_support::*;

/// The demo stream the README's screenshots use.
const DEMO: &str = "assets/demo.ndjson";

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

/// The demo app with the replay panel open on `user`.
fn panel_on(user: &str) -> App {
    let mut app = app_of(DEMO);
    select_user(&mut app, user);
    press(&mut app, 'r');
    assert_eq!(app.model.lower, Lower::Replay);
    assert_eq!(app.model.focus, Focus::Lower);
    app
}

fn snapshot_all_sizes(name: &str, setup: impl Fn() -> App) {
    for (w, h) in SIZES {
        let mut app = setup();
        let t = draw(&mut app, w, h);
        for line in screen(&t) {
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

/// The whole screen as one text.
fn text(app: &mut App, w: u16, h: u16) -> String {
    screen(&draw(app, w, h)).join("\n")
}

#[test]
fn per_user_panel() {
    snapshot_all_sizes("user", || panel_on("jonas@example.de"));
}

#[test]
fn per_user_panel_at_five_minutes() {
    snapshot_all_sizes("user_5m", || {
        let mut app = panel_on("maya@example.com");
        app.set_timeout(5 * 60_000);
        app
    });
}

#[test]
fn whole_input_panel() {
    snapshot_all_sizes("whole", || {
        let mut app = panel_on("jonas@example.de");
        press(&mut app, 'a');
        app
    });
}

/// The replay panel's text (its lines, as drawn, at `width`) for the app as it is.
fn panel_text(app: &App, width: u16) -> Vec<String> {
    streamscope::tui::ui::replay::lines(&app.model, app.keymap(), width, &Theme::mono())
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

/// The whitespace-separated words of the first line starting with `prefix`.
fn words_of(lines: &[String], prefix: &str) -> Vec<String> {
    let line = lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in {lines:#?}"));
    line[prefix.len()..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The `n` lines after the line starting with `title`.
fn after<'a>(lines: &'a [String], title: &str, skip: usize, n: usize) -> &'a [String] {
    let i = lines
        .iter()
        .position(|l| l.starts_with(title))
        .unwrap_or_else(|| panic!("no {title:?} in {lines:#?}"));
    &lines[i + 1 + skip..i + 1 + skip + n]
}

fn report_json(user: &str, timeout: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args([
            "report",
            "--format",
            "json",
            "--timeout",
            timeout,
            "--user",
            user,
            DEMO,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running streamscope report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// The per-user panel shows what `report --user ID --format json` says of that user: the
/// replay at T (sessions, split, merged, median length), every row of the sweep, and the
/// gap histogram, for several demo users and two timeouts.
#[test]
fn the_panel_figures_are_the_reports() {
    for user in ["jonas@example.de", "maya@example.com", "priya@example.in"] {
        for (timeout, ms) in [("30m", 30 * 60_000), ("5m", 5 * 60_000)] {
            let doc = report_json(user, timeout);
            let u = &doc["users"][0];
            assert_eq!(u["id"], user);
            let mut app = panel_on(user);
            app.set_timeout(ms);
            let lines = panel_text(&app, 60);
            let ctx = format!("{user} at {timeout}");
            let replay = &u["replay"];
            let count_of = |v: &Value| count(int(v).unsigned_abs());
            let len_of = |v: &Value| v.as_array().map_or(0, Vec::len) as u64;
            assert_eq!(
                words_of(&lines, "  sessions")[0],
                count_of(&replay["sessions"]),
                "{ctx}"
            );
            assert_eq!(
                words_of(&lines, "  split")[0],
                count(len_of(&replay["split"])),
                "{ctx}"
            );
            assert_eq!(
                words_of(&lines, "  merged")[0],
                count(len_of(&replay["merged"])),
                "{ctx}"
            );
            assert_eq!(
                words_of(&lines, "  median length")[0],
                duration(int(&replay["median_length_ms"])),
                "{ctx}"
            );
            assert_eq!(
                words_of(&lines, "  sessions")[2],
                count(len_of(&u["sessions"])),
                "{ctx}: recorded"
            );
            let sweep = u["sweep"].as_array().expect("users[].sweep");
            let rows = after(&lines, "SWEEP OF THIS USER", 1, sweep.len());
            for (row, want) in rows.iter().zip(sweep) {
                let got: Vec<&str> = row
                    .trim_start_matches(['▶', '◇', ' '])
                    .split_whitespace()
                    .collect();
                let want = vec![
                    setting(int(&want["timeout_ms"])),
                    count_of(&want["sessions"]),
                    duration(int(&want["median_length_ms"])),
                    count_of(&want["split_sessions"]),
                    count_of(&want["merged_sessions"]),
                ];
                assert_eq!(got, want, "{ctx}: sweep row {row:?}");
                if want[0] == timeout {
                    assert!(row.starts_with('▶'), "{ctx}: T marked: {row:?}");
                }
            }
            let gaps = u["gap_histogram"]
                .as_array()
                .expect("users[].gap_histogram");
            let rows = after(&lines, "GAPS OF THIS USER", 0, gaps.len());
            for (row, want) in rows.iter().zip(gaps) {
                assert_eq!(
                    row.chars()
                        .skip(8)
                        .collect::<String>()
                        .split_whitespace()
                        .next(),
                    Some(count_of(want).as_str()),
                    "{ctx}: {row:?}"
                );
            }
            let split_head = if len_of(&replay["split"]) == 0 {
                format!("SPLIT AT {timeout} · none")
            } else {
                format!("SPLIT AT {timeout} · {} recorded", len_of(&replay["split"]))
            };
            assert!(
                lines.iter().any(|l| l.starts_with(&split_head)),
                "{ctx}: {split_head}"
            );
        }
    }
}

#[test]
fn a_switches_between_the_user_and_the_whole_input() {
    let mut app = panel_on("jonas@example.de");
    let screen = text(&mut app, 120, 40);
    assert!(
        screen.contains("Replay: jonas@example.de · a: whole input"),
        "{screen}"
    );
    assert!(screen.contains("SWEEP OF THIS USER"), "{screen}");
    press(&mut app, 'a');
    assert!(app.model.replay_panel.whole_input);
    let screen = text(&mut app, 120, 40);
    assert!(
        screen.contains("Replay: whole input · a: selected user"),
        "{screen}"
    );
    assert!(screen.contains("recorded         42 sessions"), "{screen}");
    assert!(!screen.contains("SWEEP OF THIS USER"), "{screen}");
    press(&mut app, 'a');
    let screen = text(&mut app, 120, 40);
    assert!(screen.contains("Replay: jonas@example.de"), "{screen}");
}

#[test]
fn the_panel_follows_the_selected_user() {
    let mut app = panel_on("jonas@example.de");
    select_user(&mut app, "maya@example.com");
    assert_eq!(app.model.lower, Lower::Replay);
    let screen = text(&mut app, 120, 40);
    assert!(screen.contains("Replay: maya@example.com"), "{screen}");
}

/// The header of the comparison table: `T <current>` then the compared timeout.
fn compared(app: &App) -> Vec<String> {
    let lines = panel_text(app, 60);
    lines[0].split_whitespace().map(str::to_string).collect()
}

#[test]
fn c_cycles_the_compared_timeout_and_t_keeps_it_apart_from_t() {
    let mut app = panel_on("maya@example.com");
    // T 30m: compared with the mobile SDKs' 5m by default.
    assert_eq!(compared(&app), ["T", "30m", "5m", "recorded"]);
    for want in ["15m", "1h", "2h", "1m", "5m"] {
        press(&mut app, 'c');
        assert_eq!(compared(&app)[2], want);
    }
    // T 5m (typed): the compared timeout cannot be T; it falls back to the browser's 30m.
    app.set_timeout(5 * 60_000);
    assert_eq!(compared(&app), ["T", "5m", "30m", "recorded"]);
    press(&mut app, 't');
    assert_eq!(compared(&app)[..3], ["T", "15m", "5m"]);
    // The two columns differ where the sessions do: maya at 5m vs 30m.
    app.set_timeout(5 * 60_000);
    let lines = panel_text(&app, 60);
    assert_eq!(words_of(&lines, "  sessions")[..2], ["9", "7"]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("split in 2     │ as recorded"))
    );
}

#[test]
fn the_panel_scrolls() {
    let mut app = panel_on("maya@example.com");
    let top = text(&mut app, 80, 24);
    assert!(top.contains("median length"), "{top}");
    assert!(!top.contains("> 24h"), "{top}");
    press(&mut app, 'j');
    assert_eq!(app.model.derived.replay_scroll, 1);
    press(&mut app, 'G');
    let bottom = text(&mut app, 80, 24);
    assert!(bottom.contains("> 24h"), "{bottom}");
    assert!(!bottom.contains("median length"), "{bottom}");
    press(&mut app, 'g');
    assert_eq!(app.model.derived.replay_scroll, 0);
}

/// The keys the panel names come from the key table: remapped, the title says so and
/// the new key works.
#[test]
fn the_title_names_the_keys_of_the_table() {
    use streamscope::tui::action::Action;
    use streamscope::tui::keymap::{Key, Scope};
    let mut app = panel_on("maya@example.com");
    let mut keys = app.keymap().clone();
    let w = Key::parse("w").expect("a key");
    assert!(keys.rebind(Action::ToggleReplayScope, Scope::Replay, &[w]));
    app.set_keymap(keys);
    let screen = text(&mut app, 120, 40);
    assert!(
        screen.contains("Replay: maya@example.com · w: whole input"),
        "{screen}"
    );
    press(&mut app, 'a');
    assert!(!app.model.replay_panel.whole_input, "a no longer switches");
    press(&mut app, 'w');
    assert!(app.model.replay_panel.whole_input);
}

/// The figures kept between frames follow T, the compared timeout and the user.
#[test]
fn drawn_figures_follow_t_the_compared_timeout_and_the_user() {
    let mut app = panel_on("maya@example.com");
    assert!(text(&mut app, 120, 40).contains("T 30m        5m"));
    press(&mut app, 't');
    let screen = text(&mut app, 120, 40);
    assert!(screen.contains("T 1h       30m"), "{screen}");
    assert!(screen.contains("▶ 1h"), "{screen}");
    press(&mut app, 'c');
    assert!(text(&mut app, 120, 40).contains("T 1h        2h"));
    select_user(&mut app, "jonas@example.de");
    let screen = text(&mut app, 120, 40);
    assert!(screen.contains("Replay: jonas@example.de"), "{screen}");
    // jonas at 1h: 7 sessions (the report's sweep row for 1h).
    assert!(screen.contains("  sessions              7"), "{screen}");
}

/// Side by side (wide panes), a line keeps its style: T's sweep row is in the current
/// timeout's style and the split and merged rows in the flag style, as when stacked.
#[test]
fn wide_columns_keep_the_lines_styles() {
    // (80×24 and 120×40 show the sweep only when scrolled to: the timeline and its
    // legend take 15 of 40 rows.)
    for (w, h) in [(120, 60), (200, 50)] {
        let mut app = panel_on("maya@example.com");
        app.view.theme = Theme::color();
        let theme = Theme::color();
        let t = draw(&mut app, w, h);
        let rows = screen(&t);
        let buf = t.backend().buffer();
        let style_at = |needle: &str| {
            let (y, line) = rows
                .iter()
                .enumerate()
                .find(|(_, l)| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle:?} at {w}x{h}"));
            let byte = line.find(needle).expect("found");
            let x = line[..byte].chars().count();
            buf[(x as u16 + 2, y as u16)].style()
        };
        assert_eq!(style_at("▶ 30m").fg, theme.current.fg, "{w}x{h}");
        assert_eq!(style_at("  split  ").fg, theme.flag.fg, "{w}x{h}");
        assert_eq!(style_at("  merged  ").fg, theme.flag.fg, "{w}x{h}");
    }
}

/// Side by side, a long line of the left column never pushes the right one: the gap
/// histogram's labels all end in one column, on every demo user.
#[test]
fn the_right_columns_stay_aligned() {
    let labels = [
        "0-10s", "10s-30s", "2m-5m", "15m-30m", "1h-2h", "2h-6h", "6h-24h", "> 24h",
    ];
    for user in [
        "maya@example.com",
        "jonas@example.de",
        "omar@example.co.uk",
        "priya@example.in",
    ] {
        let mut app = panel_on(user);
        app.set_timeout(5 * 60_000);
        let rows = screen(&draw(&mut app, 200, 50));
        let ends: Vec<usize> = labels
            .iter()
            .map(|label| {
                rows.iter()
                    .find_map(|r| {
                        let at = r.find(&format!(" {label} "))?;
                        Some(r[..at].chars().count() + 1 + label.chars().count())
                    })
                    .unwrap_or_else(|| panic!("{label} for {user}"))
            })
            .collect();
        assert!(ends.iter().all(|&e| e == ends[0]), "{user}: {ends:?}");
    }
}
