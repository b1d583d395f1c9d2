//! The real binary in a real terminal (tmux): press keys, read the screen, and check that
//! the terminal is restored after `q` and after a panic (main screen, cursor shown, mouse
//! reporting off, raw mode off). Skipped with a note when tmux is not installed
//! (`scripts/test.sh` installs it).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_streamscope");
const FIXTURE: &str = "tests/fixtures/tui/small.ndjson";

/// A private tmux server with one 120×40 pane running `sh`.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str) -> Option<Tmux> {
        let found = Command::new("tmux").arg("-V").output();
        if !found.is_ok_and(|o| o.status.success()) {
            eprintln!("note: tmux is not installed; skipping the real-terminal test '{name}'");
            return None;
        }
        let t = Tmux {
            socket: format!("streamscope-{name}-{}", std::process::id()),
        };
        let root = env!("CARGO_MANIFEST_DIR");
        let out = t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
            root,
            "env PS1='$ ' TERM=xterm-256color sh",
        ]);
        assert!(out.status.success(), "tmux failed: {out:?}");
        t.wait_for("the shell prompt", |s| s.contains('$'));
        Some(t)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    /// Sends tmux key names (`Enter`, `Escape`, `BSpace`) or literal text.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.run(&["send-keys", "-t", "t", k]);
            assert!(out.status.success(), "send-keys {k}: {out:?}");
            // Escape followed at once by a key reads as Alt-key; keep keys apart.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "t", "-l", text]);
        assert!(out.status.success());
    }

    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-J", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn flag(&self, name: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "t", &format!("#{{{name}}}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Checks the terminal is back to normal: main screen, cursor shown, no mouse
    /// reporting, and the shell's line discipline in canonical mode with echo.
    fn assert_restored(&self) {
        assert_eq!(
            self.flag("alternate_on"),
            "0",
            "still in the alternate screen"
        );
        assert_eq!(self.flag("cursor_flag"), "1", "the cursor is hidden");
        for mouse in ["mouse_any_flag", "mouse_button_flag", "mouse_standard_flag"] {
            assert_eq!(self.flag(mouse), "0", "{mouse} is still on");
        }
        self.run(&["send-keys", "-t", "t", "clear", "Enter"]);
        self.wait_for("a cleared screen", |s| !s.contains("clear"));
        self.text("stty -a; echo ok-$((40+2))");
        self.keys(&["Enter"]);
        let s = self.wait_for("the shell to answer", |s| s.contains("ok-42"));
        let words: Vec<&str> = s.split_whitespace().collect();
        assert!(words.contains(&"icanon"), "canonical mode is off:\n{s}");
        assert!(words.contains(&"echo"), "echo is off:\n{s}");
        assert!(
            !words.contains(&"-icanon") && !words.contains(&"-echo"),
            "{s}"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn command_line(env: &str) -> String {
    assert!(Path::new(BIN).exists());
    format!("{env}{BIN} {FIXTURE}")
}

#[test]
fn keys_work_in_a_real_terminal_and_q_restores_it() {
    let Some(t) = Tmux::start("keys") else {
        return;
    };
    t.text(&command_line(""));
    t.keys(&["Enter"]);
    let s = t.wait_for("the inspector", |s| {
        s.contains("Users 5") && s.contains("27 events · 5 users · 9 sessions · 2 rejected")
    });
    assert!(s.contains("timeout 30m · gap 5m"), "{s}");
    assert_eq!(t.flag("alternate_on"), "1");
    assert_eq!(
        t.flag("mouse_any_flag"),
        "1",
        "mouse capture is on while running"
    );

    // Help, generated from the key table; Escape closes it.
    t.keys(&["?"]);
    t.wait_for("the help", |s| {
        s.contains("Everywhere") && s.contains("show or hide this help")
    });
    t.keys(&["Escape"]);
    t.wait_for("the help to close", |s| !s.contains("Everywhere"));

    // The timeout: t cycles presets, T takes a typed one.
    t.keys(&["t"]);
    t.wait_for("a 1h timeout", |s| s.contains("timeout 1h · gap 5m"));
    t.keys(&["T", "BSpace", "BSpace"]);
    t.text("45m");
    t.keys(&["Enter"]);
    t.wait_for("a 45m timeout", |s| {
        s.contains("timeout 45m · gap 5m") && s.contains("replay at 45m")
    });

    // Search in the event list; the raw JSON is searched too.
    t.keys(&["Tab", "Tab", "/"]);
    t.text("nightly");
    t.keys(&["Enter"]);
    t.wait_for("the search match", |s| s.contains("row 11 of 22"));

    // The detail overlay, then quit.
    t.keys(&["Enter"]);
    t.wait_for("the detail", |s| s.contains("\"job\": \"nightly\""));
    t.keys(&["q"]);
    t.wait_for("the shell again", |s| !s.contains("Users 5"));
    t.assert_restored();
}

#[test]
fn a_panic_restores_the_terminal() {
    let Some(t) = Tmux::start("panic") else {
        return;
    };
    t.text(&format!(
        "{}; echo exit=$?",
        command_line("STREAMSCOPE_TEST_PANIC_AFTER_FRAMES=1 ")
    ));
    t.keys(&["Enter"]);
    let s = t.wait_for("the panic", |s| s.contains("exit=101"));
    assert!(s.contains("panicking on purpose"), "{s}");
    t.assert_restored();
}

/// `STREAMSCOPE_EXIT_WHEN_LOADED` (for `bench/lnav.sh`): the inspector quits once it has
/// read everything and drawn its first complete analysis, restores the terminal and says
/// how long that took, and how long loading and the analysis took of it.
#[test]
fn exit_when_loaded_quits_after_the_first_complete_analysis() {
    let Some(t) = Tmux::start("loaded") else {
        return;
    };
    t.text(&format!(
        "{}; echo exit=$?",
        command_line("STREAMSCOPE_EXIT_WHEN_LOADED=1 ")
    ));
    t.keys(&["Enter"]);
    let s = t.wait_for("the exit", |s| s.contains("exit=0"));
    assert!(
        s.contains("streamscope: read, analysed and drawn 27 events in "),
        "{s}"
    );
    // Where the time went: when the last event was in the store, and how long the
    // complete analysis took.
    assert!(s.contains(" s (loaded at "), "{s}");
    assert!(s.contains(" s, analysed in "), "{s}");
    assert!(s.contains(" s); peak RSS "), "{s}");
    t.assert_restored();
}

#[test]
fn an_invalid_time_zone_is_a_usage_error_before_the_terminal_is_touched() {
    let out = Command::new(BIN)
        .args(["--tz", "Mars/Olympus", FIXTURE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value 'Mars/Olympus' for '--tz <ZONE>'"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing written to the terminal");
}

#[test]
fn without_a_terminal_the_inspector_says_so() {
    let out = Command::new(BIN).arg(FIXTURE).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(out.stdout.is_empty());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn post(url: &str, body: &str) -> String {
    streamscope::source::ensure_tls_provider();
    reqwest::blocking::Client::new()
        .post(url)
        .body(body.to_string())
        .send()
        .and_then(reqwest::blocking::Response::text)
        .expect("the endpoint answers")
}

#[test]
fn listen_shows_events_as_they_arrive_and_rejected_requests() {
    let Some(t) = Tmux::start("listen") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.ndjson");
    let port = free_port();
    t.text(&format!(
        "{BIN} listen --addr 127.0.0.1:{port} --capture {}",
        capture.display()
    ));
    t.keys(&["Enter"]);
    let url = format!("http://127.0.0.1:{port}");
    t.wait_for("the endpoint in the status bar", |s| s.contains(&url[7..]));
    let ok = post(
        &format!("{url}/2/httpapi"),
        r#"{"api_key":"k","events":[{"event_type":"Signed Up","user_id":"live-user-1","time":1795000000000,"session_id":1795000000000},{"event_type":"Opened","user_id":"live-user-1","time":1795000060000,"session_id":1795000000000}]}"#,
    );
    assert!(ok.contains("\"code\":200"), "{ok}");
    t.wait_for("the events in the inspector", |s| {
        s.contains("live-user-1") && s.contains("Opened")
    });
    let bad = post(
        &format!("{url}/2/httpapi"),
        r#"{"api_key":"k","events":[{"user_id":"live-user-1","time":1}]}"#,
    );
    assert!(bad.contains("events_with_missing_fields"), "{bad}");
    t.keys(&["!"]);
    t.wait_for("the rejected request", |s| {
        s.contains("Request missing required field") && s.contains("event_type")
    });
    t.keys(&["Escape", "q"]);
    let s = t.wait_for("the exit summary", |s| s.contains("events captured in"));
    assert!(s.contains("2 events captured"), "{s}");
    t.assert_restored();
    assert_eq!(
        std::fs::read_to_string(&capture).unwrap().lines().count(),
        2
    );
}

#[test]
fn follow_shows_lines_appended_to_a_file() {
    let Some(t) = Tmux::start("follow") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.ndjson");
    std::fs::write(
        &file,
        "{\"event_type\":\"first\",\"user_id\":\"tail-user\",\"time\":1795000000000}\n",
    )
    .unwrap();
    t.text(&format!("{BIN} --follow {}", file.display()));
    t.keys(&["Enter"]);
    t.wait_for("the first event", |s| {
        s.contains("tail-user") && s.contains("following")
    });
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    std::io::Write::write_all(
        &mut f,
        b"{\"event_type\":\"appended later\",\"user_id\":\"tail-user\",\"time\":1795000001000}\n",
    )
    .unwrap();
    t.wait_for("the appended event", |s| s.contains("appended later"));
    t.keys(&["q"]);
    t.wait_for("the shell again", |s| !s.contains("tail-user"));
    t.assert_restored();
}

#[test]
fn bang_lists_a_rejected_line_of_an_export_with_its_file_and_line() {
    let Some(t) = Tmux::start("rejected") else {
        return;
    };
    assert!(Path::new(BIN).exists());
    t.text(&format!("{BIN} tests/fixtures/tui/export.ndjson"));
    t.keys(&["Enter"]);
    t.wait_for("the inspector", |s| s.contains("2 rejected"));
    // `/` in the users pane finds a user by user id although the key is the amplitude_id.
    t.keys(&["/"]);
    t.text("ana.berg@example");
    t.keys(&["Enter"]);
    let s = t.wait_for("the filtered users", |s| s.contains("Users 1 of 2"));
    assert!(s.contains("id ~ 'ana.berg"), "{s}");
    assert!(s.contains("▶ana.berg@example.org"), "{s}");
    assert!(
        s.contains("ana.berg@example.org · amp 1238554009001"),
        "{s}"
    );
    t.keys(&["!"]);
    let s = t.wait_for("the rejected records", |s| {
        s.contains("rejected tests/fixtures/tui/export.ndjson:3")
    });
    assert!(s.contains("tests/fixtures/tui/export.ndjson:7"), "{s}");
    assert!(
        s.contains("warning  tests/fixtures/tui/export.ndjson:6"),
        "{s}"
    );
    // The selected record's line, escaped (the file holds a raw ESC there).
    assert!(s.contains("\"time\":17041896\\e[2J"), "{s}");
    t.keys(&["q"]);
    t.wait_for("the shell again", |s| !s.contains("rejected tests"));
    t.assert_restored();
}

#[test]
fn the_endpoint_outlives_an_inspector_panic() {
    let Some(t) = Tmux::start("listen-panic") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.ndjson");
    let port = free_port();
    t.text(&format!(
        "STREAMSCOPE_TEST_PANIC_AFTER_FRAMES=1 {BIN} listen --addr 127.0.0.1:{port} --capture {}; echo exit=$?",
        capture.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the endpoint still serving", |s| {
        s.contains("the endpoint keeps serving")
    });
    let url = format!("http://127.0.0.1:{port}");
    let ok = post(
        &format!("{url}/2/httpapi"),
        r#"{"api_key":"k","events":[{"event_type":"a","user_id":"user-1","time":1795000000000}]}"#,
    );
    assert!(ok.contains("\"code\":200"), "{ok}");
    t.keys(&["C-c"]);
    t.wait_for("the exit", |s| s.contains("exit=101"));
    t.assert_restored();
    assert_eq!(
        std::fs::read_to_string(&capture).unwrap().lines().count(),
        1
    );
}

#[test]
fn p_plays_a_user_back_in_a_real_terminal() {
    let Some(t) = Tmux::start("playback") else {
        return;
    };
    assert!(Path::new(BIN).exists());
    t.text(&format!("{BIN} tests/fixtures/tui/playback.ndjson"));
    t.keys(&["Enter"]);
    t.wait_for("the inspector", |s| {
        s.contains("Users 1") && s.contains("15 events")
    });
    t.keys(&["p"]);
    // Playing (skip idle): the first session starts at once, the countdown runs.
    let s = t.wait_for("playback", |s| {
        s.contains("Playback · pat")
            && s.contains("● [Amplitude] Application Opened: new session")
            && s.contains("expires in")
    });
    assert!(
        s.contains("Space pause"),
        "the playback keys are hinted:\n{s}"
    );
    // Playback moves on its own; at 3600× the Purchase at 10:45 starts the second
    // session within a second.
    t.keys(&["["]);
    t.wait_for("3600×", |s| s.contains("▶ 3600×"));
    t.wait_for("the split at 30m", |s| s.contains("Purchase: new session"));
    t.keys(&["Space"]);
    t.wait_for("paused", |s| s.contains("❚❚ paused"));
    t.keys(&["."]);
    t.keys(&["p"]);
    t.wait_for("the event list again", |s| {
        !s.contains("Playback · pat") && s.contains("Events")
    });
    t.keys(&["q"]);
    t.wait_for("the shell again", |s| !s.contains("Users 1"));
    t.assert_restored();
}
