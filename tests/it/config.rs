//! The config file, completions and the man page through the real binary: precedence
//! (flag > file > default), errors that name file, line and key, a remapped key that works
//! and shows in the help, a bash completion that completes, a man page that renders.

use std::path::Path;
use std::process::{Command, Output};

use streamscope::config::parse;
use streamscope::tui::action::Action;
use streamscope::tui::keymap::active_scopes;

use crate::tui_support::{draw, press, screen, small_app};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_streamscope"))
}

/// The binary with `config.toml` holding `text` as the user's default config file.
fn with_config(text: &str, args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("a temporary directory");
    let dir = home.path().join("streamscope");
    std::fs::create_dir_all(&dir).expect("the config directory");
    std::fs::write(dir.join("config.toml"), text).expect("the config file");
    bin()
        .env("XDG_CONFIG_HOME", home.path())
        .args(args)
        .output()
        .expect("the binary runs")
}

fn settings(out: &Output) -> (i64, i64, serde_json::Value) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let s = &doc["settings"];
    (
        s["timeout_ms"].as_i64().expect("timeout"),
        s["gap_ms"].as_i64().expect("gap"),
        s["inactive"].clone(),
    )
}

#[test]
fn flags_win_over_the_file_and_the_file_over_the_defaults() {
    let file = "timeout = \"5m\"\ninactive = [\"Heartbeat\"]\n";
    let json = ["report", "--format", "json"];
    // (extra flags, timeout, gap, inactive)
    let cases: [(&[&str], i64, i64, serde_json::Value); 3] = [
        (&[], 300_000, 300_000, serde_json::json!(["Heartbeat"])),
        (
            &["--timeout", "1h"],
            3_600_000,
            300_000,
            serde_json::json!(["Heartbeat"]),
        ),
        (
            &["--gap", "90s", "--inactive", "Ping"],
            300_000,
            90_000,
            serde_json::json!(["Ping"]),
        ),
    ];
    for (extra, timeout, gap, inactive) in cases {
        let args: Vec<&str> = json.iter().chain(extra).copied().collect();
        assert_eq!(
            settings(&with_config(file, &args)),
            (timeout, gap, inactive),
            "{extra:?}"
        );
    }
    // Without a file: the defaults.
    assert_eq!(
        settings(&with_config("", &json)),
        (1_800_000, 300_000, serde_json::json!([]))
    );
}

#[test]
fn a_bad_file_is_a_usage_error_naming_file_line_and_key() {
    let out = with_config("gap = \"5m\"\n[keys]\nfollow = \"Hyper-X\"\n", &["report"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml:3: keys.follow: 'Hyper-X' is not a key"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let explicit = bin()
        .args(["--config", "/nonexistent/streamscope.toml", "report"])
        .output()
        .expect("runs");
    assert_eq!(explicit.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&explicit.stderr)
            .contains("/nonexistent/streamscope.toml: cannot read it")
    );
}

#[test]
fn config_prints_the_effective_settings_and_where_they_come_from() {
    let out = with_config("gap = \"90s\"\n[keys]\nfollow = \"L\"\n", &["config"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert!(
        text.starts_with("config file: ") && text.contains("config.toml (read)"),
        "{text}"
    );
    assert_eq!(line("gap "), "gap 1m30s config file");
    assert_eq!(line("timeout "), "timeout 30m default");
    assert_eq!(line("keys.follow "), "keys.follow L config file");
}

#[test]
fn a_remapped_key_works_and_the_help_shows_it() {
    let cfg = parse(
        "[keys]\nfollow = \"L\"\nhelp = \"H\"\n",
        Path::new("c.toml"),
    )
    .expect("valid");
    let mut app = small_app();
    app.set_keymap(cfg.keymap());
    let follow_before = app.model.follow;
    press(&mut app, 'F');
    assert_eq!(app.model.follow, follow_before, "F no longer follows");
    press(&mut app, 'L');
    assert_ne!(app.model.follow, follow_before, "L does");
    assert_eq!(
        app.keymap()
            .label(Action::ToggleFollow, &active_scopes(&app.model)),
        "L"
    );
    press(&mut app, 'H');
    let shown = screen(&draw(&mut app, 120, 40)).join("\n");
    assert!(shown.contains("╭ Keys"), "H opens the help: {shown}");
    assert!(
        shown.contains("│  H "),
        "the help lists H for itself: {shown}"
    );
    let theme = streamscope::tui::ui::Theme::mono();
    let help: Vec<String> = streamscope::tui::ui::help::lines(app.keymap(), &theme)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        help.iter()
            .any(|l| l.trim_start().starts_with("L ") && l.contains("follow")),
        "the help lists L for follow: {help:?}"
    );
}

#[test]
fn the_bash_completion_loads_and_completes_a_subcommand() {
    let script = bin().args(["completions", "bash"]).output().expect("runs");
    assert_eq!(script.status.code(), Some(0));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("streamscope.bash");
    std::fs::write(&path, &script.stdout).expect("written");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && COMP_WORDS=(streamscope rep) && COMP_CWORD=1 && _streamscope streamscope rep streamscope && echo \"${{COMPREPLY[@]}}\"",
            path.display()
        ))
        .output()
        .expect("bash runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "report");
}

#[test]
fn the_man_page_renders_without_warnings() {
    let page = bin().arg("man").output().expect("runs");
    assert_eq!(page.status.code(), Some(0));
    let text = String::from_utf8_lossy(&page.stdout);
    for sub in [
        "STREAMSCOPE REPORT",
        "STREAMSCOPE LISTEN",
        "\\-\\-timeout",
        "\\-\\-capture",
        "\\-\\-config",
    ] {
        assert!(text.contains(sub), "{sub} in the page");
    }
    let Ok(groff) = which("groff") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "groff is missing (scripts/test.sh installs it)"
        );
        eprintln!("note: groff is not installed; the man page was not rendered");
        return;
    };
    let mut child = Command::new(groff)
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&page.stdout).expect("written");
    }
    let out = child.wait_with_output().expect("groff ends");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "groff warns: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
