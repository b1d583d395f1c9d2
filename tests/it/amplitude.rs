//! `amplitude:user/ID`, `amplitude:export/START/END` and `streamscope fetch`, end to end:
//! the real binary against the fake Amplitude of [`crate::amplitude_support`] over
//! loopback sockets (STREAMSCOPE_AMPLITUDE_URL points at it). Every run checks that the
//! keys appear nowhere in its output, and every saved file that they are not in it.
//! Waits are short (Retry-After: 1 or 0, a 10 ms first retry delay); nothing asserts on
//! timing. No test reaches the real Amplitude.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::amplitude_support::{
    ExportMode, Fake, Forced, KEY, Project, SECRET, User, duplicates, export_zip, secrets, user,
};

/// What a run of the binary gave.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// The binary with the keys in its environment, pointed at `fake`.
fn bin(fake: &Fake) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_streamscope"));
    c.env("AMPLITUDE_API_KEY", KEY)
        .env("AMPLITUDE_SECRET_KEY", SECRET)
        .env("STREAMSCOPE_AMPLITUDE_URL", fake.url())
        .env("STREAMSCOPE_AMPLITUDE_BACKOFF_MS", "10")
        .env_remove("AMPLITUDE_REGION");
    c
}

/// Runs `c` and checks that no key is in what it printed.
fn run(c: &mut Command) -> Ran {
    let out = c.output().expect("the binary runs");
    let ran = Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for s in secrets() {
        assert!(!ran.stdout.contains(&s), "a key in stdout: {}", ran.stdout);
        assert!(!ran.stderr.contains(&s), "a key in stderr: {}", ran.stderr);
    }
    ran
}

/// The run said `text` on stderr.
#[track_caller]
fn assert_said(ran: &Ran, text: impl AsRef<str>) {
    assert!(ran.stderr.contains(text.as_ref()), "{}", ran.stderr);
}

fn report(fake: &Fake, source: &str) -> Ran {
    run(bin(fake).args(["report", "--format", "json", source]))
}

/// `fetch SOURCE -o FILE` in a fresh directory; the file's bytes when it was made.
fn fetch(fake: &Fake, source: &str) -> (Ran, Option<Vec<u8>>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("ticket.out");
    let ran = run(bin(fake).args(["fetch", source, "-o"]).arg(&file));
    let bytes = std::fs::read(&file).ok();
    if let Some(b) = &bytes {
        let text = String::from_utf8_lossy(b);
        for s in secrets() {
            assert!(!text.contains(&s), "a key in the saved file");
        }
    }
    (ran, bytes)
}

fn summary(ran: &Ran, key: &str) -> u64 {
    ran.json()["summary"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no summary.{key}: {}", ran.stdout))
}

fn problems(ran: &Ran) -> Vec<String> {
    ran.json()["sources"][0]["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn bob() -> User {
    // 2,500 events in sessions of 7 (so pages of 1,000 run on to a session's end and
    // overlap the next), a genuine duplicate (same $insert_id, own uuid) every 100th.
    user(1, "bob@example.com", 2500, 7, 100)
}

fn uuids(lines: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(lines)
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).expect("each line is one JSON event");
            v["uuid"].as_str().expect("a uuid").to_string()
        })
        .collect()
}

fn uuids_of(u: &User) -> Vec<String> {
    u.events
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(e).expect("JSON");
            v["uuid"].as_str().expect("a uuid").to_string()
        })
        .collect()
}

#[test]
fn a_user_is_paged_to_the_end_without_the_overlaps_and_keeps_genuine_duplicates() {
    let bob = bob();
    let fake = Fake::start(Project::new(vec![bob.clone()]));
    let ran = report(&fake, "amplitude:user/bob@example.com");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(summary(&ran, "events"), 2500, "{}", ran.stderr);
    assert_eq!(summary(&ran, "users"), 1);
    let dups = duplicates(&bob);
    assert!(dups > 20);
    assert_eq!(
        summary(&ran, "duplicate_events"),
        dups as u64,
        "never deduplicated by $insert_id"
    );
    assert_eq!(ran.json()["sources"][0]["format"], "useractivity");
    // usersearch, then pages at offsets 0, 1000, 2000, each with the documented parameters.
    let search = fake.seen_at("usersearch");
    assert_eq!(search.len(), 1);
    assert_eq!(search[0].query["user"], "bob@example.com");
    let pages = fake.seen_at("useractivity");
    let offsets: Vec<&str> = pages.iter().map(|s| s.query["offset"].as_str()).collect();
    assert_eq!(offsets, ["0", "1000", "2000"]);
    for p in &pages {
        assert_eq!(p.query["user"], "1");
        assert_eq!(p.query["limit"], "1000");
        assert_eq!(p.query["direction"], "earliest");
    }
    assert!(
        fake.seen().iter().all(|s| s.authorized),
        "credentials with every request"
    );

    // fetch saves the same events as NDJSON, in order, each once.
    let (ran, bytes) = fetch(&fake, "amplitude:user/bob@example.com");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("saved 2,500 events of user bob@example.com (Amplitude ID 1) to "),
        "{}",
        ran.stderr
    );
    // Pages at 1000 and 2000 started inside sessions the pages before ran on to the end
    // of (by 1 and 2 events).
    assert!(
        ran.stderr
            .contains("(3 events repeated by overlapping pages left out)"),
        "{}",
        ran.stderr
    );
    assert_said(&ran, "streamscope: 1,001 events so far");
    let bytes = bytes.expect("the file");
    assert_eq!(uuids(&bytes), uuids_of(&bob));
    // The saved file is a source like any other, with the same figures.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("t.ndjson");
    std::fs::write(&path, &bytes).expect("write");
    let again = run(bin(&fake).args(["report", "--format", "json"]).arg(&path));
    assert_eq!(summary(&again, "events"), 2500);
    assert_eq!(summary(&again, "duplicate_events"), dups as u64);
}

#[test]
fn several_matches_are_all_loaded_and_said() {
    let fake = Fake::start(Project::new(vec![
        user(1, "bob@example.com", 30, 5, 0),
        user(2, "bobby@example.com", 20, 5, 0),
        user(3, "alice@example.com", 10, 5, 0),
    ]));
    let ran = report(&fake, "amplitude:user/bob");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(summary(&ran, "events"), 50);
    assert_eq!(summary(&ran, "users"), 2);
    let said = "user search matched 2 users, all loaded: bob@example.com (Amplitude ID 1), bobby@example.com (Amplitude ID 2)";
    assert_said(&ran, said);
    // Said as a note of the source, not as a problem.
    let notes = &ran.json()["sources"][0]["notes"];
    assert!(
        notes.as_array().is_some_and(|n| n
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.contains(said)))),
        "{notes}"
    );
    assert!(problems(&ran).is_empty(), "{:?}", problems(&ran));
    let text = run(bin(&fake).args(["report", "amplitude:user/bob"])).stdout;
    assert!(
        text.contains("note: 'amplitude:user/bob': user search matched 2 users"),
        "{text}"
    );
    let (ran, bytes) = fetch(&fake, "amplitude:user/bob");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_said(&ran, said);
    assert_said(&ran, "saved 50 events of 2 users");
    assert_eq!(uuids(&bytes.expect("file")).len(), 50);
}

#[test]
fn ids_are_percent_encoded_and_slashes_belong_to_the_id() {
    let id = "jürgen+test@example.com/x y";
    let fake = Fake::start(Project::new(vec![user(7, id, 12, 4, 0)]));
    let ran = report(&fake, &format!("amplitude:user/{id}"));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(summary(&ran, "events"), 12);
    let search = fake.seen_at("usersearch");
    assert_eq!(search[0].query["user"], id);
    assert!(
        search[0]
            .target
            .contains("user=j%C3%BCrgen%2Btest%40example.com%2Fx+y"),
        "{}",
        search[0].target
    );
}

#[test]
fn the_override_takes_api_2_or_not_and_wins_over_the_region() {
    let fake = Fake::start(Project::new(vec![user(1, "bob@example.com", 5, 5, 0)]));
    for (url, region_flag, region_env) in [
        (format!("{}/api/2/", fake.url()), None, None),
        (format!("{}/", fake.url()), Some("eu"), None),
        (fake.url(), None, Some("eu")),
        (format!("{}/api/2", fake.url()), Some("us"), Some("eu")),
    ] {
        let mut c = bin(&fake);
        c.env("STREAMSCOPE_AMPLITUDE_URL", &url);
        if let Some(r) = region_env {
            c.env("AMPLITUDE_REGION", r);
        }
        c.args([
            "report",
            "--format",
            "json",
            "amplitude:user/bob@example.com",
        ]);
        if let Some(r) = region_flag {
            c.args(["--amplitude-region", r]);
        }
        let ran = run(&mut c);
        assert_eq!(ran.code, 0, "{url}: {}", ran.stderr);
        assert_eq!(summary(&ran, "events"), 5, "{url}");
    }
    let paths: Vec<String> = fake.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths.len(), 8);
    assert!(
        paths
            .iter()
            .all(|p| p == "/api/2/usersearch" || p == "/api/2/useractivity"),
        "{paths:?}"
    );
    // A region that is neither.
    let ran = run(bin(&fake).args(["report", "amplitude:user/bob", "--amplitude-region", "mars"]));
    assert_eq!(ran.code, 2);
    assert_said(&ran, "use us or eu");
}

#[test]
fn wrong_or_missing_keys_are_said_with_what_to_do() {
    let mut project = Project::new(vec![user(1, "bob@example.com", 5, 5, 0)]);
    project.echo_auth = true;
    let fake = Fake::start(project);
    // Wrong secret (the server echoes the credentials it got: still never shown).
    let ran = run(bin(&fake)
        .env("AMPLITUDE_SECRET_KEY", "wrong-secret-value")
        .args(["report", "amplitude:user/bob@example.com"]));
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr
            .contains("Amplitude refused the keys (HTTP 401 Unauthorized"),
        "{}",
        ran.stderr
    );
    assert_said(&ran, "--amplitude-region eu");
    assert!(!ran.stderr.contains("wrong-secret-value"), "{}", ran.stderr);
    assert!(
        !ran.stderr
            .contains(&crate::amplitude_support::basic(KEY, "wrong-secret-value")),
        "{}",
        ran.stderr
    );
    // In the EU region, the advice is the other way round.
    let ran = run(bin(&fake)
        .env("AMPLITUDE_SECRET_KEY", "wrong-secret-value")
        .args([
            "report",
            "amplitude:user/bob@example.com",
            "--amplitude-region",
            "eu",
        ]));
    assert_said(&ran, "--amplitude-region us");
    // Missing keys: said before any request.
    let before = fake.seen().len();
    let ran = run(bin(&fake)
        .env_remove("AMPLITUDE_API_KEY")
        .env_remove("AMPLITUDE_SECRET_KEY")
        .args(["report", "amplitude:user/bob@example.com"]));
    assert_eq!(ran.code, 1);
    assert_said(
        &ran,
        "Amplitude's keys are missing: set AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY",
    );
    // A key pasted with a space inside is said, not sent.
    let ran = run(bin(&fake)
        .env("AMPLITUDE_API_KEY", "abc def")
        .args(["report", "amplitude:user/bob@example.com"]));
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr
            .contains("AMPLITUDE_API_KEY holds characters a key does not"),
        "{}",
        ran.stderr
    );
    let (ran, file) = fetch_with(&fake, "amplitude:user/bob", |c| {
        c.env_remove("AMPLITUDE_SECRET_KEY");
    });
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr
            .contains("set AMPLITUDE_SECRET_KEY in the environment"),
        "{}",
        ran.stderr
    );
    assert!(file.is_none(), "no file without keys");
    assert_eq!(fake.seen().len(), before, "no request without keys");
}

fn fetch_with(
    fake: &Fake,
    source: &str,
    tweak: impl FnOnce(&mut Command),
) -> (Ran, Option<Vec<u8>>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("ticket.out");
    let mut c = bin(fake);
    tweak(&mut c);
    let ran = run(c.args(["fetch", source, "-o"]).arg(&file));
    (ran, std::fs::read(&file).ok())
}

#[test]
fn no_user_found_lists_close_matches_by_prefix() {
    let fake = Fake::start(Project::new(vec![
        user(1, "bob@example.com", 5, 5, 0),
        user(2, "bob@example.org", 5, 5, 0),
    ]));
    let ran = report(&fake, "amplitude:user/bob@example.con");
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("Amplitude has no user 'bob@example.con' in this project"),
        "{}",
        ran.stderr
    );
    assert_said(
        &ran,
        "close matches starting with 'bob@exampl': bob@example.com (Amplitude ID 1), bob@example.org (Amplitude ID 2)",
    );
    let ran = report(&fake, "amplitude:user/nobody-like-this");
    assert_said(&ran, "nor any close match by prefix");
    assert!(
        ran.json()["sources"][0]["failed"]
            .as_bool()
            .expect("failed")
    );
    let (ran, file) = fetch(&fake, "amplitude:user/nobody-like-this");
    assert_eq!(ran.code, 1);
    assert!(file.is_none(), "no file when nobody was found");
}

#[test]
fn too_many_requests_waits_as_retry_after_says_and_goes_on() {
    let fake = Fake::start(
        Project::new(vec![user(1, "bob@example.com", 1500, 7, 0)])
            .force("useractivity", vec![Forced::too_many("1")]),
    );
    let ran = report(&fake, "amplitude:user/bob@example.com");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(summary(&ran, "events"), 1500);
    assert_said(
        &ran,
        "Amplitude answered 429 Too Many Requests to the user activity of Amplitude ID 1 at offset 0",
    );
    assert_said(&ran, "waiting 1 s as its Retry-After asks");
    assert_said(&ran, "360 queries per hour and 10 at a time");
    let offsets: Vec<String> = fake
        .seen_at("useractivity")
        .iter()
        .map(|s| s.query["offset"].clone())
        .collect();
    assert_eq!(
        offsets,
        ["0", "0", "1000"],
        "the refused page is asked again"
    );
}

#[test]
fn too_many_requests_without_end_gives_up_after_bounded_tries() {
    let fake = Fake::start(
        Project::new(vec![user(1, "bob@example.com", 5, 5, 0)])
            .force("usersearch", vec![Forced::too_many("0"); 6]),
    );
    let ran = report(&fake, "amplitude:user/bob@example.com");
    assert_eq!(ran.code, 1);
    assert_said(
        &ran,
        "Amplitude still answers 429 Too Many Requests to the user search for 'bob@example.com' after 6 tries",
    );
    assert_eq!(fake.seen_at("usersearch").len(), 6);
}

#[test]
fn a_fetch_interrupted_half_way_keeps_what_arrived_and_says_what_is_missing() {
    let mut project = Project::new(vec![
        user(1, "bob@example.com", 2500, 7, 0),
        user(2, "bobby@example.com", 10, 5, 0),
    ]);
    project.fail_from = Some((1000, Forced::status(503, "Service Unavailable")));
    let fake = Fake::start(project);
    let ran = report(&fake, "amplitude:user/bob");
    assert_eq!(ran.code, 0, "what arrived is a report: {}", ran.stderr);
    // The first page ran on to the end of its session: 1,001 events (143 sessions of 7).
    assert_eq!(summary(&ran, "events"), 1001);
    // The report's problems collapse repeats into the last one, counted.
    assert!(
        ran.stderr
            .contains("trying again in 40 ms (try 4 of 4) (3 times)"),
        "{}",
        ran.stderr
    );
    assert_said(
        &ran,
        "answered HTTP 503 Service Unavailable to the user activity of Amplitude ID 1 at offset 1000 4 times",
    );
    assert_said(
        &ran,
        "missing: the events of Amplitude ID 1 after the first 1001 (from offset 1000 on); not fetched at all: Amplitude ID 2",
    );
    let (ran, bytes) = fetch(&fake, "amplitude:user/bob");
    assert_eq!(ran.code, 1, "an incomplete fetch is not a success");
    // fetch says each wait as it comes.
    for wait in [
        "10 ms (try 2 of 4)",
        "20 ms (try 3 of 4)",
        "40 ms (try 4 of 4)",
    ] {
        assert_said(&ran, format!("trying again in {wait}"));
    }
    // fetch says each wait as it comes.
    for wait in [
        "10 ms (try 2 of 4)",
        "20 ms (try 3 of 4)",
        "40 ms (try 4 of 4)",
    ] {
        assert_said(&ran, format!("trying again in {wait}"));
    }
    assert_said(&ran, "the events that arrived are in");
    assert_eq!(uuids(&bytes.expect("the file")).len(), 1001);
}

#[test]
fn network_errors_are_retried_a_bounded_number_of_times() {
    let fake = Fake::start(Project::new(vec![]));
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let ran = run(bin(&fake)
        .env("STREAMSCOPE_AMPLITUDE_URL", &url)
        .args(["report", "amplitude:user/bob"]));
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr
            .contains(&format!("cannot reach Amplitude at {url}/api/2/")),
        "{}",
        ran.stderr
    );
    assert_said(&ran, "tried 4 times");
}

fn export_project(hours: usize, per_hour: usize) -> (Project, Vec<u8>, Vec<u64>) {
    let (zip, starts) = export_zip(hours, per_hour);
    let mut p = Project::new(vec![]);
    p.export_zip = zip.clone();
    (p, zip, starts)
}

const DAY: &str = "amplitude:export/20240101T00/20240101T23";

#[test]
fn an_export_is_read_as_any_export_zip_and_saved_as_received() {
    let (project, zip, _) = export_project(3, 5);
    let fake = Fake::start(project);
    let ran = report(&fake, DAY);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(summary(&ran, "events"), 15);
    assert_eq!(ran.json()["sources"][0]["format"], "zip");
    assert_eq!(ran.json()["sources"][0]["name"], DAY);
    // The download's temporary file is gone when the report ends.
    let tmp = tempfile::tempdir().expect("dir");
    let again = run(bin(&fake)
        .env("TMPDIR", tmp.path())
        .args(["report", "--format", "json", DAY]));
    assert_eq!(summary(&again, "events"), 15);
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("dir").collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    let seen = fake.seen_at("export");
    assert_eq!(seen[0].query["start"], "20240101T00");
    assert_eq!(seen[0].query["end"], "20240101T23");
    let (ran, bytes) = fetch(&fake, DAY);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(bytes.expect("the file"), zip, "the zip as received");
    assert!(
        ran.stderr
            .contains("saved the export 20240101T00 to 20240101T23"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_slow_export_shows_its_progress_and_arrives_whole() {
    use std::io::BufRead as _;
    let (mut project, zip, _) = export_project(40, 40);
    project.export_mode = ExportMode::Slow {
        chunk: 4096,
        pause: Duration::from_millis(1),
    };
    let fake = Fake::start(project);
    // The second half is held back until fetch has shown its progress.
    fake.hold.store(true, std::sync::atomic::Ordering::Relaxed);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("export.zip");
    let mut child = bin(&fake)
        .args(["fetch", DAY, "-o"])
        .arg(&file)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        seen.push(line.clone());
        if line.contains("streamscope: received ") && !line.ends_with("(100%)") {
            break;
        }
    }
    assert!(
        seen.last()
            .is_some_and(|l| l.contains("% of ") || l.contains("%)")),
        "progress before the end: {seen:?}"
    );
    fake.hold.store(false, std::sync::atomic::Ordering::Relaxed);
    seen.extend(lines.map(|l| l.expect("a line")));
    assert!(child.wait().expect("it ends").success(), "{seen:?}");
    let all = seen.join("\n");
    for s in secrets() {
        assert!(!all.contains(&s), "a key in stderr");
    }
    let steps: Vec<&String> = seen.iter().filter(|l| l.contains("received ")).collect();
    assert!(steps.len() >= 2, "{seen:?}");
    assert!(
        steps.last().is_some_and(|l| l.ends_with("(100%)")),
        "{steps:?}"
    );
    assert_eq!(std::fs::read(&file).expect("the file"), zip);
    let ran = report(&fake, DAY);
    assert_eq!(summary(&ran, "events"), 1600);
}

#[test]
fn a_truncated_export_keeps_the_members_that_arrived_and_says_what_is_missing() {
    let (mut project, zip, starts) = export_project(4, 10);
    // Cut inside the third member.
    let keep = usize::try_from(starts[2]).expect("small") + 100;
    project.export_mode = ExportMode::Cut { keep };
    let fake = Fake::start(project);
    let ran = report(&fake, DAY);
    assert_eq!(
        ran.code, 0,
        "the members that arrived are a report: {}",
        ran.stderr
    );
    let events = summary(&ran, "events");
    assert!(
        (20..30).contains(&events),
        "two whole members and what decoded of the third: {events}"
    );
    let missing = format!(
        "{keep} of {} bytes arrived; the last {} bytes are missing",
        zip.len(),
        zip.len() - keep
    );
    assert_said(&ran, missing);
    assert!(
        ran.stderr
            .contains("fetch 20240101T00 to 20240101T23 again"),
        "{}",
        ran.stderr
    );
    // Which members (hours) arrived, and where it was cut.
    let said = "2 members arrived whole (the last: 123456/123456_2024-01-01_1#0.json.gz); cut off in 123456/123456_2024-01-01_2#0.json.gz and missing from there on";
    assert_said(&ran, said);
    let (ran, bytes) = fetch(&fake, DAY);
    assert_said(&ran, said);
    assert_eq!(ran.code, 1);
    assert_eq!(bytes.expect("what arrived is kept").len(), keep);
    assert!(
        ran.stderr
            .contains(&format!("the {keep} bytes that arrived are in")),
        "{}",
        ran.stderr
    );
}

#[test]
fn export_errors_say_what_to_do() {
    // 404: no data.
    let (project, _, _) = export_project(1, 1);
    let fake = Fake::start(project.force("export", vec![Forced::status(404, "")]));
    let ran = report(&fake, DAY);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr
            .contains("Amplitude has no data for 20240101T00 to 20240101T23 (HTTP 404)"),
        "{}",
        ran.stderr
    );
    assert_said(&ran, "server upload time, UTC");
    // 400: over 4 GB, split into halves by hour.
    let (project, _, _) = export_project(1, 1);
    let fake = Fake::start(project.force(
        "export",
        vec![Forced::status(400, "Raw data files were too large")],
    ));
    let (ran, file) = fetch(&fake, DAY);
    assert_eq!(ran.code, 1);
    assert!(file.is_none(), "a refused export leaves no file");
    assert_said(&ran, "\"Raw data files were too large\"");
    assert_said(
        &ran,
        "amplitude:export/20240101T00/20240101T11 and amplitude:export/20240101T12/20240101T23",
    );
    // 504 twice, then the archive: retried with backoff.
    let (project, _, _) = export_project(2, 3);
    let fake = Fake::start(project.force(
        "export",
        vec![Forced::status(504, ""), Forced::status(504, "")],
    ));
    let ran = report(&fake, DAY);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(summary(&ran, "events"), 6);
    assert_said(
        &ran,
        "the export of 20240101T00 to 20240101T23 failed (HTTP 504 Gateway Timeout); trying again in 20 ms (try 3 of 4) (2 times)",
    );
    // 504 every time: bounded, then the split.
    let (project, _, _) = export_project(1, 1);
    let fake = Fake::start(project.force("export", vec![Forced::status(504, ""); 4]));
    let ran = report(&fake, "amplitude:export/20240101T05/20240101T05");
    assert_eq!(ran.code, 1);
    assert_said(
        &ran,
        "HTTP 504 Gateway Timeout to the export of 20240101T05 to 20240101T05 4 times",
    );
    assert_said(&ran, "Amazon S3 export");
    assert_eq!(fake.seen_at("export").len(), 4);
}

#[test]
fn bad_sources_and_fetch_arguments_are_said() {
    let fake = Fake::start(Project::new(vec![]));
    let ran = report(&fake, "amplitude:export/20240101T00/2024");
    assert_eq!(ran.code, 1);
    assert_said(&ran, "'2024' is not an hour YYYYMMDDTHH");
    let (ran, file) = fetch(&fake, "events.ndjson");
    assert_eq!(ran.code, 2);
    assert_said(&ran, "fetch takes an Amplitude source");
    assert!(file.is_none());
    let ran = run(bin(&fake).args([
        "fetch",
        "amplitude:user/bob",
        "-o",
        "/nonexistent-dir/x.ndjson",
    ]));
    assert_eq!(ran.code, 2);
    assert_said(&ran, "/nonexistent-dir is not a directory");
    assert!(fake.seen().is_empty());
}

#[test]
fn keys_are_only_taken_from_the_environment() {
    // No flag takes a key: the process list never shows one.
    let help = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args(["fetch", "--help"])
        .output()
        .expect("help");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("AMPLITUDE_API_KEY"), "{text}");
    assert!(
        !text.contains("--api-key") && !text.contains("--secret"),
        "{text}"
    );
    assert!(Path::new(env!("CARGO_BIN_EXE_streamscope")).exists());
}

/// The inspector, without a terminal, loading `amplitude:user/bob@example.com` from the
/// fake as the inspector's loader thread does.
mod inspector {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use streamscope::analysis::Rules;
    use streamscope::source::amplitude::{self, AmplitudeSpec, Api, Endpoint, Keys};
    use streamscope::source::{LoadOptions, Spec};
    use streamscope::store::{EventStore, LoadEvent};
    use streamscope::tui::app::{App, Msg};
    use streamscope::tui::zone::Zones;

    use super::{bob, uuids_of};
    use crate::amplitude_support::{Fake, KEY, Project, SECRET};
    use crate::tui_support::{draw, screen, settle};

    /// Pumps the app until `cond` holds (10 s at most; no timing is asserted).
    fn until(app: &mut App, what: &str, cond: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            app.pump(Instant::now() + Duration::from_millis(50));
            app.tick(Instant::now(), 1_704_067_200_000);
            draw(app, 120, 40);
            settle(app);
            if cond(app) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// An inspector app reading `text` from `fake` on a loader thread.
    fn open(fake: &Fake, text: &str) -> (App, std::thread::JoinHandle<()>) {
        let Spec::Amplitude(spec) = Spec::parse(text) else {
            panic!("an Amplitude source");
        };
        let spec: AmplitudeSpec = spec;
        let endpoint = Endpoint::resolve(None, None, Some(&fake.url())).expect("the fake");
        let api = Api::new(endpoint, Keys::new(KEY, SECRET), Duration::from_millis(10))
            .expect("a client");
        let mut app = App::new(EventStore::new(), Rules::default(), Zones::default());
        let src = app.add_source(text).expect("a source");
        let tx = app.sender();
        let loader = std::thread::spawn(move || {
            let opts = LoadOptions {
                keep_raw: true,
                ..LoadOptions::default()
            };
            let stop = AtomicBool::new(false);
            amplitude::run_with(&spec, &api, src, &opts, &stop, &mut |ev| {
                let _ = tx.send(Msg::from(ev));
            });
            let _ = tx.send(Msg::from(LoadEvent::Done { source: src }));
        });
        (app, loader)
    }

    #[test]
    fn the_inspector_shows_an_export_download_as_a_percentage() {
        let (mut project, _, _) = super::export_project(40, 40);
        project.export_mode = crate::amplitude_support::ExportMode::Slow {
            chunk: 4096,
            pause: Duration::from_millis(1),
        };
        let fake = Fake::start(project);
        fake.hold.store(true, Ordering::Relaxed);
        let text = super::DAY;
        // Removes the download's temporary file at the end, as the command does.
        let temp = amplitude::TempFiles::guard();
        let (mut app, loader) = open(&fake, text);
        until(&mut app, "half the archive", |a| {
            a.model.progress().is_some_and(|p| p >= 0.5)
        });
        let shown = screen(&draw(&mut app, 200, 50)).join("\n");
        let status = shown.lines().rev().nth(1).expect("the status bar");
        assert!(status.contains("loading  5"), "{status}");
        assert!(status.contains("% ▕█████"), "{status}");
        assert!(status.contains(text), "{status}");
        fake.hold.store(false, Ordering::Relaxed);
        until(&mut app, "the archive read", |a| {
            !a.model.loading() && events(a) == 1600
        });
        loader.join().expect("the loader ends");
        drop(temp);
    }

    fn events(app: &App) -> u64 {
        app.model
            .derived
            .analysis
            .as_ref()
            .map_or(0, |a| a.summary.events)
    }

    #[test]
    fn the_inspector_shows_the_fetch_loading_and_works_with_what_arrived() {
        let fake = Fake::start(Project::new(vec![bob()]));
        // Hold every page after the first until released.
        fake.hold.store(true, Ordering::Relaxed);
        let text = "amplitude:user/bob@example.com";
        let (mut app, loader) = open(&fake, text);
        // The first page is shown while the next is awaited.
        until(&mut app, "the first page", |a| events(a) == 1001);
        assert!(app.model.loading());
        let shown = screen(&draw(&mut app, 200, 50)).join("\n");
        assert!(shown.contains("1,001 events"), "{shown}");
        assert!(shown.contains("loading…"), "{shown}");
        assert!(shown.contains(text), "{shown}");
        // Working with what arrived: the user (keyed by Amplitude ID) is selected, and
        // an event's raw text is read back from what the fetch delivered.
        assert_eq!(crate::tui_support::selected_user_id(&app), "1");
        let store = &app.model.store;
        let loc = store
            .raw(streamscope::index::EventIx::from_usize(0))
            .expect("raw locations are kept");
        let raw = streamscope::source::raw::read_raw(store, loc).expect("raw text");
        assert!(String::from_utf8_lossy(&raw).contains("\"uuid\":\"uuid-1-0\""));
        fake.hold.store(false, Ordering::Relaxed);
        until(&mut app, "every page", |a| {
            !a.model.loading() && events(a) == 2500
        });
        loader.join().expect("the loader ends");
        let shown = screen(&draw(&mut app, 200, 50)).join("\n");
        assert!(shown.contains("2,500 events"), "{shown}");
        // An event of the last page, read back from its own segment.
        let store = &app.model.store;
        let loc = store
            .raw(streamscope::index::EventIx::from_usize(2499))
            .expect("raw locations are kept");
        let raw = streamscope::source::raw::read_raw(store, loc).expect("raw text");
        assert!(String::from_utf8_lossy(&raw).contains("\"uuid\":\"uuid-1-2499\""));
        assert!(!shown.contains("loading"), "{shown}");
        assert_eq!(uuids_of(&bob()).len(), 2500);
    }
}
