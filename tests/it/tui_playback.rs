//! Playback (`p`) driven by a fake clock: the app's tick is handed `Instant`s the test
//! makes up, so speeds, pause, step, skip idle and stop are checked exactly, with no
//! waiting. The fixture `tests/fixtures/tui/playback.ndjson` is one user, `pat`, whose
//! stream holds every case playback explains: a session_start marker, an identify call
//! inside a 43-minute pause (the recorded session kept alive; split at 30m), background
//! events, an out-of-session event, a session_end marker, a recorded session that starts
//! 11 minutes after the previous one (merged at 30m), and two events at one time.

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use insta::assert_snapshot;
use streamscope::analysis::playback::StepKind;
use streamscope::tui::model::{Focus, Lower};
use streamscope::tui::playback::{DEFAULT_SPEED, SPEEDS, Speed};

use streamscope::tui::app::App;

use crate::tui_support::{T0, app_of, draw, key, press, screen, selected_type};

const FIXTURE: &str = "tests/fixtures/tui/playback.ndjson";
const M: i64 = 60_000;
/// The wall clock the tests pass (epoch ms): long after the stream, so no session is open.
const WALL: i64 = T0 + 30 * 86_400_000;

/// A fake clock: `at(ms)` is the Instant `ms` after an arbitrary start.
struct Clock(Instant);

impl Clock {
    fn new() -> Self {
        Clock(Instant::now())
    }

    fn tick(&self, app: &mut App, ms: u64) {
        app.tick(self.0 + Duration::from_millis(ms), WALL);
    }
}

fn playing() -> App {
    let mut app = app_of(FIXTURE);
    press(&mut app, 'p');
    app
}

fn playhead(app: &App) -> i64 {
    app.model.derived.playback.as_ref().expect("playing").now
}

fn speed(app: &App) -> Speed {
    app.model
        .derived
        .playback
        .as_ref()
        .expect("playing")
        .speed()
}

fn paused(app: &App) -> bool {
    app.model.derived.playback.as_ref().expect("playing").paused
}

/// Presses `[` until the speed is `want`.
fn set_speed(app: &mut App, want: Speed) {
    let i = SPEEDS.iter().position(|&s| s == want).expect("a speed");
    let now = SPEEDS
        .iter()
        .position(|&s| s == speed(app))
        .expect("a speed");
    for _ in i..now {
        press(app, '[');
    }
    for _ in now..i {
        press(app, ']');
    }
    assert_eq!(speed(app), want);
}

#[test]
fn p_plays_the_selected_user_from_the_first_event_and_p_stops() {
    let mut app = playing();
    assert_eq!(app.model.lower, Lower::Playback);
    assert_eq!(app.model.focus, Focus::Lower);
    assert_eq!(playhead(&app), T0, "at the first event");
    assert_eq!(speed(&app), SPEEDS[DEFAULT_SPEED]);
    assert_eq!(speed(&app), Speed::SkipIdle);
    assert!(!paused(&app));
    press(&mut app, 'p');
    assert_eq!(app.model.lower, Lower::Events);
    assert!(app.model.derived.playback.is_none());
    // Esc stops too, from any pane.
    press(&mut app, 'p');
    app.model.focus = Focus::Users;
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.model.lower, Lower::Events);
    assert!(app.model.derived.playback.is_none());
}

#[test]
fn speeds_turn_wall_time_into_stream_time() {
    let cases: [(Speed, u64, i64); 5] = [
        (Speed::Times(1), 1_500, 1_500),
        (Speed::Times(10), 1_000, 10_000),
        (Speed::Times(60), 250, 15_000),
        (Speed::Times(600), 100, 60_000),
        (Speed::Times(3600), 33, 118_800),
    ];
    for (want, wall_ms, stream_ms) in cases {
        let mut app = playing();
        // From the second step (10:00:01, App Opened) the next step is 2 minutes away.
        press(&mut app, '.');
        assert_eq!(playhead(&app), T0 + 1_000);
        set_speed(&mut app, want);
        press(&mut app, ' ');
        let clock = Clock::new();
        clock.tick(&mut app, 0);
        assert_eq!(
            playhead(&app),
            T0 + 1_000,
            "the first tick only notes the time"
        );
        // In small ticks, as the run loop makes them: the remainders add up.
        let mut t = 0;
        while t < wall_ms {
            t = (t + 33).min(wall_ms);
            clock.tick(&mut app, t);
        }
        assert_eq!(
            playhead(&app),
            T0 + 1_000 + stream_ms,
            "{want:?} for {wall_ms} ms"
        );
    }
}

#[test]
fn space_pauses_and_resumes_without_a_jump() {
    let mut app = playing();
    set_speed(&mut app, Speed::Times(1));
    let clock = Clock::new();
    clock.tick(&mut app, 0);
    clock.tick(&mut app, 400);
    assert_eq!(playhead(&app), T0 + 400);
    press(&mut app, ' ');
    assert!(paused(&app));
    clock.tick(&mut app, 10_000);
    assert_eq!(playhead(&app), T0 + 400, "paused");
    press(&mut app, ' ');
    clock.tick(&mut app, 20_000);
    assert_eq!(
        playhead(&app),
        T0 + 400,
        "resuming does not count the pause"
    );
    clock.tick(&mut app, 20_250);
    assert_eq!(playhead(&app), T0 + 650);
}

#[test]
fn dot_steps_through_every_step_and_pauses() {
    let mut app = playing();
    let mut times = Vec::new();
    let mut kinds = Vec::new();
    for _ in 0..20 {
        press(&mut app, '.');
        assert!(paused(&app));
        let v = app.model.derived.playback.as_ref().expect("playing");
        times.push(v.now - T0);
        kinds.push(v.playback.steps[v.done() - 1].kind);
    }
    let end = |ms: i64| ms + 1;
    // The first step (the session_start marker at T0) has happened when playback starts.
    let want = [
        1_000,
        2 * M,
        20 * M,
        end(32 * M),
        45 * M,
        50 * M,
        55 * M,
        60 * M,
        65 * M,
        70 * M,
        71 * M,
        71 * M + 500,
        75 * M,
        end(105 * M),
        180 * M,
        // Two events at one time arrive together.
        end(210 * M),
    ];
    assert_eq!(times[..16], want);
    assert!(
        times[16..].iter().all(|&t| t == end(210 * M)),
        "the end stays"
    );
    // (13:00 shows its second event, the join, as the latest step.)
    let starts: Vec<i64> = kinds
        .iter()
        .zip(&times)
        .filter(|(k, _)| matches!(k, StepKind::Start { .. }))
        .map(|(_, &t)| t)
        .collect();
    assert_eq!(
        starts,
        [1_000, 45 * M],
        "sessions start at 10:00:01 and 10:45"
    );
    assert!(
        app.model
            .derived
            .playback
            .as_ref()
            .expect("playing")
            .finished()
    );
}

#[test]
fn skip_idle_crosses_a_long_pause_in_three_seconds() {
    let mut app = playing();
    for _ in 0..2 {
        press(&mut app, '.');
    }
    assert_eq!(playhead(&app), T0 + 2 * M, "at Screen Viewed");
    press(&mut app, ' ');
    assert_eq!(speed(&app), Speed::SkipIdle);
    let clock = Clock::new();
    clock.tick(&mut app, 0);
    // The 18 minutes to the identify call take 3 s: 360 ms of stream per wall ms.
    clock.tick(&mut app, 1_000);
    assert_eq!(playhead(&app), T0 + 2 * M + 6 * M);
    clock.tick(&mut app, 2_999);
    assert!(playhead(&app) < T0 + 20 * M);
    clock.tick(&mut app, 3_000);
    assert_eq!(playhead(&app), T0 + 20 * M, "the identify call, after 3 s");
    // The 12 minutes from the identify call to the session end take 3 s again.
    clock.tick(&mut app, 6_000);
    assert_eq!(playhead(&app), T0 + 32 * M + 1, "the end, 3 s later");
}

#[test]
fn playing_to_the_end_pauses_and_space_starts_over() {
    let mut app = playing();
    set_speed(&mut app, Speed::Times(3600));
    let clock = Clock::new();
    clock.tick(&mut app, 0);
    clock.tick(&mut app, 60_000);
    let v = app.model.derived.playback.as_ref().expect("playing");
    assert!(v.finished());
    assert!(v.paused);
    assert_eq!(v.now, T0 + 210 * M + 1);
    press(&mut app, ' ');
    assert_eq!(playhead(&app), T0);
    assert!(!paused(&app));
}

#[test]
fn stopping_lands_the_event_list_on_the_last_event_played() {
    let cases: [(usize, &str); 4] = [
        (0, "session_start"),
        (5, "Purchase"),
        // The session end is not an event: the last event before it.
        (4, "$identify"),
        (9, "Server Sync"),
    ];
    for (steps, want) in cases {
        for stop in [KeyCode::Char('p'), KeyCode::Esc] {
            let mut app = playing();
            for _ in 0..steps {
                press(&mut app, '.');
            }
            key(&mut app, stop);
            assert_eq!(app.model.lower, Lower::Events);
            assert_eq!(selected_type(&app), want, "after {steps} steps, {stop:?}");
        }
    }
}

#[test]
fn a_new_timeout_replays_the_steps_at_the_playhead() {
    let mut app = playing();
    for _ in 0..5 {
        press(&mut app, '.');
    }
    let ends = |app: &App| {
        app.model
            .derived
            .playback
            .as_ref()
            .expect("playing")
            .playback
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::End)
            .count()
    };
    assert_eq!(ends(&app), 3);
    let before = playhead(&app);
    press(&mut app, 't'); // 30m → 1h: the 43-minute pause no longer ends a session.
    assert_eq!(app.model.rules.timeout_ms, 60 * M);
    assert_eq!(ends(&app), 2);
    assert_eq!(playhead(&app), before);
    assert_eq!(app.model.lower, Lower::Playback);
}

#[test]
fn another_lower_pane_ends_playback() {
    let mut app = playing();
    press(&mut app, 'r');
    assert_eq!(app.model.lower, Lower::Replay);
    assert!(app.model.derived.playback.is_none());
    press(&mut app, 'p');
    app.model.focus = Focus::Users;
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.model.lower, Lower::Events);
    assert!(app.model.derived.playback.is_none());
}

/// The pane after `steps` steps, at each size.
fn shot(steps: usize, w: u16, h: u16) -> String {
    let mut app = playing();
    for _ in 0..steps {
        press(&mut app, '.');
    }
    screen(&draw(&mut app, w, h)).join("\n")
}

#[test]
fn playback_view_at_three_sizes() {
    // The background event (10:55), after the split (the identify call kept the recorded
    // session alive) and the Purchase that starts a new session.
    for (w, h) in [(80, 24), (120, 40), (200, 50)] {
        assert_snapshot!(format!("playback_{w}x{h}"), shot(7, w, h));
    }
    // The merge (11:11:00.500: a new recorded session inside the running one).
    assert_snapshot!("playback_merge_120x40", shot(12, 120, 40));
}

#[test]
fn the_view_says_what_each_case_means() {
    let s = shot(14, 200, 50);
    for want in [
        "$identify (identify): does not extend the session",
        "recorded kept 1704189600000 alive through it",
        "Purchase: new session 1704192300000 · idle 43m00s > 30m · recorded kept 1704189600000: split at T",
        "Location Updated +5m00s · background event: extends the session",
        "Server Sync: session_id -1, in no session; countdown untouched",
        "session_end (marker): does not extend the session",
        "recorded started 1704193860000: merged at T",
        "session 1704192300000 over: 30m without an active event",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
}

#[test]
fn after_a_session_ends_the_recorded_one_is_not_called_the_same() {
    // Four steps: the end at 10:32, 30m after Screen Viewed.
    let s = shot(4, 200, 50);
    assert!(s.contains("SDK session  none"), "{s}");
    assert!(
        s.contains("the last session ended at 10:32:00.000: 30m without an active event"),
        "{s}"
    );
    assert!(
        s.contains("recorded     10:00:00.000 (id 1704189600000) "),
        "{s}"
    );
    assert!(!s.contains("same session"), "{s}");
    // While it runs, it is.
    assert!(shot(2, 200, 50).contains("(id 1704189600000): the same session so far"));
}

#[test]
fn while_playing_the_selection_follows_the_playhead_of_the_selected_user() {
    let mut app = playing();
    for _ in 0..5 {
        press(&mut app, '.');
    }
    assert_eq!(app.model.lower, Lower::Playback);
    assert_eq!(selected_type(&app), "Purchase");
    let clock = Clock::new();
    set_speed(&mut app, Speed::Times(3600));
    press(&mut app, ' ');
    clock.tick(&mut app, 0);
    clock.tick(&mut app, 100); // 6 minutes: 10:50 (Backgrounded) has arrived.
    assert_eq!(selected_type(&app), "[Amplitude] Application Backgrounded");
}
