//! Helpers shared by the TUI tests: build an app from a fixture without a terminal, press
//! keys, draw into a `TestBackend`.

#![allow(dead_code, reason = "each test file uses a different subset")]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use streamscope::analysis::Rules;
use streamscope::source::{LoadOptions, load};
use streamscope::store::EventStore;
use streamscope::tui::app::App;
use streamscope::tui::zone::Zones;

/// The fixture with every flag, as the tests name it (relative to the package root,
/// which is the working directory of integration tests).
pub const SMALL: &str = "tests/fixtures/tui/small.ndjson";

/// An Amplitude Export-shaped file: every event has `user_id`, `amplitude_id` and
/// `device_id`; line 3 is cut (with an escape sequence), line 7 has no identity, and
/// line 6's `session_id` is unusable.
pub const EXPORT: &str = "tests/fixtures/tui/export.ndjson";

/// A store loaded from `path` with raw locations kept, as the TUI loads.
pub fn store_of(path: &str) -> EventStore {
    let mut store = EventStore::new();
    let src = store.add_source(path);
    let opts = LoadOptions {
        keep_raw: true,
        threads: 1,
        ..LoadOptions::default()
    };
    let mut events = Vec::new();
    load(path, src, &opts, &mut |ev| events.push(ev));
    for ev in events {
        store.apply(ev);
    }
    store
}

/// An app over `path`, analysed, times in UTC.
pub fn app_of(path: &str) -> App {
    let mut app = App::new(store_of(path), Rules::default(), Zones::default());
    app.analyse_now();
    app
}

/// The app over the fixture with every flag.
pub fn small_app() -> App {
    app_of(SMALL)
}

/// Presses a character key (Shift folded into the character).
pub fn press(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

/// Presses a key.
pub fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Presses Ctrl and a character.
pub fn ctrl(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

/// Types text into whatever prompt is open.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, c);
    }
}

/// Carries out the background jobs the app asked for and takes their results, until
/// no job is wanted, running or held, as the run loop would (held jobs, see
/// [`streamscope::tui::jobs::Exec::Held`], run on this thread; jobs on worker threads are
/// waited for, up to 20 s).
pub fn settle(app: &mut App) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        app.run_jobs();
        app.run_held_jobs();
        app.pump(std::time::Instant::now() + std::time::Duration::from_secs(5));
        if app.jobs().idle() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the jobs did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// A test terminal of `w`×`h`.
pub fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).expect("a test terminal")
}

/// Draws the app into a fresh `w`×`h` test terminal and returns it.
pub fn draw(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = terminal(w, h);
    app.draw(&mut t).expect("drawing into a test backend");
    t
}

/// The screen as plain lines.
pub fn screen(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

/// The selected user's id text.
pub fn selected_user_id(app: &App) -> String {
    let m = &app.model;
    let a = m.derived.analysis.as_ref().expect("analysed");
    let u = m.selected_user().expect("a user is selected");
    m.store.strings.get(a.users[u].key.id).to_string()
}

/// The event type of the selected row's event.
pub fn selected_type(app: &App) -> String {
    let m = &app.model;
    let e = m.selected_event().expect("an event is selected");
    let rec = &m.store.events()[e];
    m.store.strings.get(rec.event_type).to_string()
}

/// Selects the user with id `id` through the id filter prompt, then clears the filter
/// (the selection stays).
pub fn select_user(app: &mut App, id: &str) {
    use streamscope::tui::model::Focus;
    app.model.focus = Focus::Users;
    press(app, '/');
    type_text(app, id);
    key(app, KeyCode::Enter);
    assert_eq!(selected_user_id(app), id);
    press(app, '/');
    for _ in 0..id.chars().count() {
        key(app, KeyCode::Backspace);
    }
    key(app, KeyCode::Enter);
    assert_eq!(selected_user_id(app), id);
    assert!(app.model.users.filter.is_empty());
}

/// 2024-01-02 10:00:00 UTC, the start of the live tests' stream.
pub const T0: i64 = 1_704_189_600_000;

/// One NDJSON event line: `user` sends `ty` at `T0 + secs`, in the session that started
/// at `T0 + session_secs`.
pub fn event_line(ty: &str, user: &str, secs: i64, session_secs: i64) -> String {
    let t = T0 + secs * 1000;
    let sid = T0 + session_secs * 1000;
    format!(
        "{{\"event_type\":\"{ty}\",\"user_id\":\"{user}\",\"time\":{t},\"session_id\":{sid},\"insert_id\":\"{user}-{t}\"}}\n"
    )
}

/// An inspector fed like `listen` feeds it: a live source whose lines arrive through
/// [`streamscope::source::feed::LineFeed`] and the app's channel.
pub struct LiveApp {
    /// The app.
    pub app: App,
    /// The live source.
    pub source: streamscope::index::SourceIx,
    /// Its line feed.
    pub feed: streamscope::source::feed::LineFeed,
}

impl LiveApp {
    /// An app with one live source (follow mode on), nothing received yet.
    pub fn new() -> Self {
        let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
        let source = app
            .add_live_source("capture.ndjson")
            .expect("a fresh store");
        let feed = streamscope::source::feed::LineFeed::new(source, 0, 0, 0, false);
        Self { app, source, feed }
    }

    /// Sends `lines` through the app's channel, then applies and analyses them.
    pub fn receive(&mut self, lines: &[String]) {
        self.send(lines);
        self.app.analyse_now();
    }

    /// Sends `lines` through the app's channel without applying them.
    pub fn send(&mut self, lines: &[String]) {
        let bytes = lines.concat();
        if let Some(ev) = self.feed.push(bytes.as_bytes()) {
            self.app
                .sender()
                .send(streamscope::tui::app::Msg::from(ev))
                .expect("the app's channel is open");
        }
    }
}

/// The time of the selected row's event.
pub fn selected_time(app: &App) -> i64 {
    let m = &app.model;
    let e = m.selected_event().expect("an event is selected");
    m.store.events()[e].time
}
