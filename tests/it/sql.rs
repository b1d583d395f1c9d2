//! `streamscope sql --dialect duckdb`: the emitted script, run in DuckDB, agrees with
//! `report --format json` on every summary key, on every fixture `report` reads as NDJSON
//! or `.json.gz` and on generated data, with default and other settings; `--emit users` and
//! `--emit sessions` agree with report's per-user and per-session figures; `--emit
//! user-events` gives NDJSON that `report` reads back with the same figures for that user.
//!
//! DuckDB is the `duckdb` Python package, in a venv of the tests' own under the target
//! directory (`sql-tests/venv`), installed on first use with `python3 -m venv` and pip
//! (with `sqlglot`, which parses the other dialects' scripts). `STREAMSCOPE_SQL_PYTHON`
//! names another Python that has both. Without Python or PyPI the tests print why and
//! pass without checking (the only skip).

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Map, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_streamscope"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python with `duckdb` and `sqlglot`, installed on first use; `None` (with a note on
/// stderr) when that is impossible here.
fn python() -> Option<&'static Path> {
    static PY: OnceLock<Option<PathBuf>> = OnceLock::new();
    PY.get_or_init(|| {
        if let Some(p) = std::env::var_os("STREAMSCOPE_SQL_PYTHON") {
            return Some(PathBuf::from(p));
        }
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap_or(Path::new("target"))
            .join("sql-tests/venv");
        let py = venv.join("bin/python");
        let has = |py: &Path| {
            Command::new(py)
                .args(["-c", "import duckdb, sqlglot"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if has(&py) {
            return Some(py);
        }
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "duckdb", "sqlglot"])
                .status()
                .is_ok_and(|s| s.success());
        if made && has(&py) {
            Some(py)
        } else {
            eprintln!(
                "note: the SQL tests are skipped: no Python venv with duckdb and sqlglot could be \
                 made at {} (python3 -m venv, pip install duckdb sqlglot)",
                venv.display()
            );
            None
        }
    })
    .as_deref()
}

const RUNNER: &str = r#"
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET threads TO 2")
cur = con.execute(sys.stdin.read())
cols = [d[0] for d in cur.description]
print(json.dumps([dict(zip(cols, r)) for r in cur.fetchall()]))
"#;

/// Runs `script` in DuckDB; the rows of its last statement.
fn duckdb(py: &Path, script: &str) -> Vec<Map<String, Value>> {
    let mut child = Command::new(py)
        .args(["-c", RUNNER])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "DuckDB failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("rows as JSON")
}

fn sql(args: &[&str]) -> String {
    let out = bin()
        .arg("sql")
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sql {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn report(settings: &[&str], sources: &[&str]) -> Value {
    let out = bin()
        .args(["report", "--format", "json"])
        .args(settings)
        .args(sources)
        .current_dir(root())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).expect("report prints JSON")
}

const SUMMARY_KEYS: [&str; 17] = [
    "events",
    "rejected",
    "users",
    "sessions",
    "empty_sessions",
    "zero_length_sessions",
    "suspect_session_ids",
    "out_of_session_events",
    "gaps",
    "bridged_gaps",
    "unterminated_sessions",
    "duplicate_events",
    "end_props_changed_sessions",
    "background_events",
    "replayed_sessions",
    "timeout_ms",
    "gap_ms",
];

/// Where a summary row of `engine` differs from report's JSON `want`: every §5 key and the
/// replay medians, each as "key: engine …, report …".
fn differences(engine: &str, got: &Map<String, Value>, want: &Value) -> Vec<String> {
    let summary = SUMMARY_KEYS.iter().map(|&k| (k, "summary"));
    let medians = ["recorded_median_length_ms", "replayed_median_length_ms"]
        .into_iter()
        .map(|k| (k, "replay"));
    summary
        .chain(medians)
        .filter(|&(k, section)| got.get(k) != want[section].get(k))
        .map(|(k, section)| {
            format!(
                "{k}: {engine} {:?}, report {:?}",
                got.get(k),
                want[section].get(k)
            )
        })
        .collect()
}

/// Every §5 key (and the replay medians) of the script over `sources` equals report's;
/// returns the summary, for the caller's own checks.
fn assert_summary_agrees(py: &Path, sources: &[&str], settings: &[&str]) -> Map<String, Value> {
    let mut args = vec!["--dialect", "duckdb"];
    for s in sources {
        args.extend(["--source", s]);
    }
    args.extend(settings);
    let rows = duckdb(py, &sql(&args));
    assert_eq!(rows.len(), 1);
    let got = &rows[0];
    let want = report(settings, sources);
    let differ = differences("sql", got, &want);
    assert!(
        differ.is_empty(),
        "{sources:?} {settings:?}: {}",
        differ.join("; ")
    );
    got.clone()
}

/// Fixtures the SQL loader cannot read as `report` does, and why. Every other file under
/// tests/fixtures/ is run.
const SKIPPED: &[(&str, &str)] = &[
    ("containers/truncated.zip", "a .zip archive"),
    ("containers/export.zip", "a .zip archive"),
    ("inputs/streamed-zip64.zip", "a .zip archive"),
    ("inputs/streamed.zip", "a .zip archive"),
    ("inputs/streamed-truncated.zip", "a .zip archive"),
    ("inputs/bom-members.zip", "a .zip archive"),
    ("inputs/macos.zip", "a .zip archive"),
    ("inputs/api-error.zip", "a .zip archive"),
    ("inputs/streamed-zip64-truncated.zip", "a .zip archive"),
    ("containers/array.json", "a JSON array document"),
    ("inputs/array-bad-one-line.json", "a JSON array document"),
    ("inputs/array-bad-multi-line.json", "a JSON array document"),
    ("inputs/array-of-bodies.json", "a JSON array document"),
    ("inputs/bom-array.json", "a JSON array document"),
    ("inputs/long-record.json", "a JSON array document"),
    ("containers/body.json", "a pretty-printed request body"),
    (
        "real-sdk/node-track-identify.json",
        "a pretty-printed request body",
    ),
    (
        "real-sdk/browser-sessions.json",
        "a pretty-printed request body",
    ),
    (
        "real-sdk/python-track.json",
        "a pretty-printed request body",
    ),
    (
        "real-sdk/node-batch-flushqueuesize2.json",
        "a pretty-printed request body",
    ),
    (
        "containers/truncated.ndjson.gz",
        "damaged gzip: DuckDB stops with an error",
    ),
    ("inputs/nested.gz", "gzip nested in gzip"),
    ("inputs/bomb-line.gz", "gzip nested in gzip"),
    (
        "inputs/utf16.ndjson",
        "UTF-16: report refuses the file, DuckDB rejects its line",
    ),
    (
        "inputs/legacy-form.txt",
        "legacy amplitude-js form-encoded lines",
    ),
    ("containers/binary.png", "not text"),
    ("containers/make.py", "the fixtures' generator"),
    ("inputs/make.py", "the fixtures' generator"),
];

fn fixture_files() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let base = root().join("tests/fixtures");
    let mut all = Vec::new();
    walk(&base, &mut all);
    let mut names: Vec<String> = all
        .iter()
        .map(|p| {
            p.strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_summary_agrees_with_report_on_every_fixture() {
    let Some(py) = python() else { return };
    let mut ran = 0;
    for name in fixture_files() {
        if name.starts_with("tui/") && name.ends_with(".snap") {
            continue;
        }
        if SKIPPED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let path = format!("tests/fixtures/{name}");
        assert_summary_agrees(py, &[&path], &[]);
        assert_summary_agrees(
            py,
            &[&path],
            &[
                "--timeout",
                "5m",
                "--gap",
                "1m",
                "--inactive",
                "Screen Viewed",
            ],
        );
        ran += 1;
    }
    assert!(ran >= 20, "only {ran} fixtures ran");
    assert_summary_agrees(py, &["assets/demo.ndjson"], &[]);
    assert_summary_agrees(
        py,
        &["assets/demo.ndjson"],
        &[
            "--timeout",
            "5m",
            "--gap",
            "1m",
            "--inactive",
            "Screen Viewed",
        ],
    );
}

#[test]
fn every_fixture_is_run_or_skipped_with_a_reason() {
    let files = fixture_files();
    for (name, _) in SKIPPED {
        assert!(files.iter().any(|f| f == name), "{name} no longer exists");
    }
}

#[test]
fn a_glob_over_several_files_is_one_stream() {
    let Some(py) = python() else { return };
    let got = assert_summary_agrees(
        py,
        &[
            "tests/fixtures/lifecycle/background.ndjson",
            "tests/fixtures/lifecycle/end-props.ndjson",
        ],
        &[],
    );
    // The same files through one glob.
    let rows = duckdb(
        py,
        &sql(&[
            "--dialect",
            "duckdb",
            "--source",
            "tests/fixtures/lifecycle/*.ndjson",
        ]),
    );
    assert_eq!(&rows[0], &got);
}

// ---- generated data ----

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `ms` as an ISO 8601 string in one of §1's forms (`form` picks which), exact to the ms
/// (finer digits are added and must be cut).
fn iso(ms: i64, form: u64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, mo, d) = civil(days);
    let (h, mi, s, f) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let base = |sep: char| format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}");
    match form % 8 {
        0 => format!("{}.{f:03}456", base(' ')),
        1 => format!("{}.{f:03}Z", base('T')),
        2 => format!("{}.{f:03}999z", base('t')),
        3 => format!("{}.{f:03} UTC", base(' ')),
        4 => {
            // +02:00: the wall clock two hours later.
            let (days, rem) = (
                (ms + 7_200_000).div_euclid(86_400_000),
                (ms + 7_200_000).rem_euclid(86_400_000),
            );
            let (y, mo, d) = civil(days);
            format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}+02:00",
                rem / 3_600_000,
                rem / 60_000 % 60,
                rem / 1000 % 60,
                rem % 1000
            )
        }
        5 => {
            // -0130.
            let local = ms - 5_400_000;
            let (days, rem) = (local.div_euclid(86_400_000), local.rem_euclid(86_400_000));
            let (y, mo, d) = civil(days);
            format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}-0130",
                rem / 3_600_000,
                rem / 60_000 % 60,
                rem / 1000 % 60,
                rem % 1000
            )
        }
        6 if f == 0 => base('T'),
        _ => format!("{}.{f:03}", base('T')),
    }
}

/// One event as a JSON object text.
#[allow(clippy::too_many_arguments, reason = "one argument per event field")]
fn event(
    rng: &mut Rng,
    et: &str,
    user: Option<&str>,
    device: Option<&str>,
    t: i64,
    sid: Option<Value>,
    key: Option<(&str, String)>,
    extra: &[(&str, Value)],
) -> String {
    let mut m = Map::new();
    m.insert("event_type".into(), et.into());
    if let Some(u) = user {
        m.insert("user_id".into(), u.into());
    }
    if let Some(d) = device {
        m.insert("device_id".into(), d.into());
    }
    // The time in one of its forms: integer ms, numeric string, ISO.
    let time = match rng.below(6) {
        0 => Value::from(t.to_string()),
        1 | 2 => Value::from(iso(t, rng.next())),
        _ => Value::from(t),
    };
    let field = ["time", "client_event_time", "timestamp", "event_time"][rng.below(4) as usize];
    m.insert(field.into(), time);
    if let Some(s) = sid {
        m.insert("session_id".into(), s);
    }
    if let Some((k, v)) = key {
        m.insert(k.into(), v.into());
    }
    for (k, v) in extra {
        m.insert((*k).into(), v.clone());
    }
    serde_json::to_string(&Value::Object(m)).unwrap()
}

/// Generated NDJSON: users with amplitude ids (integer and string) and user ids, anonymous
/// devices before, at and after logins, sessions with gaps, bridged gaps, markers, open
/// and unterminated sessions, -1 / string / unusable session ids, lifecycle events,
/// duplicates within and after 7 days (by insert_id, $insert_id, uuid, with and without a
/// device), end markers with changed, reordered and skipped user_properties, and lines of
/// every rejection kind.
fn generate(seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let t0: i64 = 1_767_225_600_000;
    let types = [
        "Page Viewed",
        "Button Clicked",
        "Screen Viewed",
        "Purchase",
        "Search",
    ];
    let mut n = 0u64;
    let mut next_key = |rng: &mut Rng| {
        n += 1;
        let k = ["insert_id", "$insert_id", "uuid"][rng.below(3) as usize];
        (k, format!("k-{seed}-{n}"))
    };
    for u in 0..6 {
        let user = format!("user-{u}");
        let device = format!("dev-{u}");
        let anon_device = format!("anon-{u}");
        let amp: Option<Value> = match u {
            0 => Some(Value::from(1000 + u)),
            1 => Some(Value::from(format!("{}", 2000 + u))),
            _ => None,
        };
        let mut t = t0 + i64::try_from(rng.below(3_600_000)).unwrap();
        // Anonymous events on a device that logs in later, and one at the login's ms.
        for _ in 0..rng.below(3) + 1 {
            t += 20_000;
            let k = next_key(&mut rng);
            lines.push(
                event(
                    &mut rng,
                    "Page Viewed",
                    None,
                    Some(&anon_device),
                    t,
                    Some(Value::from(t0)),
                    Some(k),
                    &[],
                )
                .into_bytes(),
            );
        }
        let login = t + 30_000;
        lines.push(
            event(
                &mut rng,
                "Login",
                Some(&user),
                Some(&anon_device),
                login,
                None,
                None,
                &[],
            )
            .into_bytes(),
        );
        lines.push(
            event(
                &mut rng,
                "Tap",
                None,
                Some(&anon_device),
                login,
                Some(Value::from(-1)),
                None,
                &[],
            )
            .into_bytes(),
        );
        let props = |rng: &mut Rng, variant: u64| -> Value {
            match variant {
                0 => serde_json::json!({"plan": "free", "n": 1, "tags": ["a", "b"]}),
                1 => serde_json::json!({"tags": ["a", "b"], "n": 1.0, "plan": "free"}),
                _ => serde_json::json!({"plan": format!("paid-{}", rng.below(3)), "n": 2}),
            }
        };
        for s in 0..rng.below(4) + 3 {
            t += i64::try_from(rng.below(4 * 3_600_000)).unwrap() + 60_000;
            // Mostly the first event's time; sometimes after it, or in seconds: suspect.
            let sid = match rng.below(8) {
                0 => t + 5000,
                1 => t / 1000,
                _ => t,
            };
            let sid_value = match rng.below(5) {
                0 => Value::from(sid.to_string()),
                _ => Value::from(sid),
            };
            let mut extra: Vec<(&str, Value)> = Vec::new();
            if let Some(a) = &amp {
                extra.push(("amplitude_id", a.clone()));
            }
            let marker = rng.below(3);
            if marker > 0 {
                lines.push(
                    event(
                        &mut rng,
                        "session_start",
                        Some(&user),
                        Some(&device),
                        t,
                        Some(sid_value.clone()),
                        None,
                        &extra,
                    )
                    .into_bytes(),
                );
            }
            let variant = rng.below(3);
            for _ in 0..rng.below(8) + 1 {
                let step = match rng.below(10) {
                    0 => 400_000 + i64::try_from(rng.below(600_000)).unwrap(),
                    1 => 0,
                    _ => i64::try_from(rng.below(200_000)).unwrap(),
                };
                t += step;
                let class = rng.below(12);
                let et = match class {
                    0 => "$identify",
                    1 => "[Amplitude] Application Backgrounded",
                    2 => "[Amplitude] Application Opened",
                    3 => "Heartbeat",
                    _ => types[rng.below(types.len() as u64) as usize],
                };
                let mut x = extra.clone();
                x.push(("user_properties", props(&mut rng, 0)));
                let k = next_key(&mut rng);
                let line = event(
                    &mut rng,
                    et,
                    Some(&user),
                    Some(&device),
                    t,
                    Some(sid_value.clone()),
                    Some(k.clone()),
                    &x,
                );
                lines.push(line.into_bytes());
                match rng.below(8) {
                    // A duplicate a minute later (same device and key).
                    0 => lines.push(
                        event(
                            &mut rng,
                            et,
                            Some(&user),
                            Some(&device),
                            t + 60_000,
                            Some(sid_value.clone()),
                            Some(k.clone()),
                            &x,
                        )
                        .into_bytes(),
                    ),
                    // The same key eight days later: not a duplicate.
                    1 => lines.push(
                        event(
                            &mut rng,
                            et,
                            Some(&user),
                            Some(&device),
                            t + 8 * 86_400_000,
                            Some(Value::from(-1)),
                            Some(k.clone()),
                            &x,
                        )
                        .into_bytes(),
                    ),
                    // The same key on another device: not a duplicate.
                    2 => lines.push(
                        event(
                            &mut rng,
                            et,
                            Some(&user),
                            Some("other-device"),
                            t,
                            Some(sid_value.clone()),
                            Some(k.clone()),
                            &x,
                        )
                        .into_bytes(),
                    ),
                    _ => {}
                }
            }
            if rng.below(2) == 0 {
                // An identify call keeps the session alive over a long pause: a bridged gap
                // (at the default 5 min threshold).
                for (step, et) in [(200_000, "$identify"), (200_000, "Purchase")] {
                    t += step;
                    lines.push(
                        event(
                            &mut rng,
                            et,
                            Some(&user),
                            Some(&device),
                            t,
                            Some(sid_value.clone()),
                            None,
                            &extra,
                        )
                        .into_bytes(),
                    );
                }
            }
            if marker == 2 || (marker == 1 && s % 2 == 0) {
                t += i64::try_from(rng.below(100_000)).unwrap();
                let mut x = extra.clone();
                x.push(("user_properties", props(&mut rng, variant)));
                if rng.below(4) == 0 {
                    x.push(("$skip_user_properties_sync", Value::Bool(true)));
                }
                lines.push(
                    event(
                        &mut rng,
                        "session_end",
                        Some(&user),
                        Some(&device),
                        t,
                        Some(sid_value.clone()),
                        None,
                        &x,
                    )
                    .into_bytes(),
                );
            }
            // Out of session: -1, null, absent, unusable.
            let out_sid = [
                Value::from(-1),
                Value::Null,
                Value::from("abc"),
                Value::from(1.5),
            ][rng.below(4) as usize]
                .clone();
            lines.push(
                event(
                    &mut rng,
                    "Push Received",
                    Some(&user),
                    Some(&device),
                    t + 1000,
                    Some(out_sid),
                    None,
                    &extra,
                )
                .into_bytes(),
            );
            // An anonymous event on the login device after the login.
            lines.push(
                event(
                    &mut rng,
                    "Page Viewed",
                    None,
                    Some(&anon_device),
                    t + 2000,
                    Some(sid_value.clone()),
                    None,
                    &[],
                )
                .into_bytes(),
            );
        }
    }
    // A device nobody logs in on; keyless events without a device that duplicate each other.
    lines.push(
        event(
            &mut rng,
            "Page Viewed",
            None,
            Some("lonely"),
            t0,
            Some(Value::from(t0)),
            None,
            &[],
        )
        .into_bytes(),
    );
    for i in 0..3 {
        lines.push(
            event(
                &mut rng,
                "Search",
                Some("user-9"),
                None,
                t0 + i * 1000,
                Some(Value::from(t0)),
                Some(("insert_id", "nodev".to_string())),
                &[],
            )
            .into_bytes(),
        );
    }
    // Every rejection kind, and lines that must be accepted although they look odd.
    let bad: &[&[u8]] = &[
        br#"{"event_type":"a","user_id":"u","time":1,"x":NaN}"#,
        br#"{"event_type":"a","user_id":"u","time":1,"x":-Infinity}"#,
        br#"{"event_type":"a","user_id":"u","time":1,}"#,
        br#"{"event_type":"a","user_id":"u","time":1,"x":[1,2,]}"#,
        br#"{"event_type":"a","user_id":"u","time":1} {"b":2}"#,
        br#"{"event_type":"a","user_id":"u","time":1"#,
        br#"{"event_type":"a","user_id":"u","time":01}"#,
        b"{\"event_type\":\"a\",\"user_id\":\"u\xff\",\"time\":1}",
        b"{\"event_type\":\"a\",\"user_id\":\"u\",\"time\":1}\x00",
        br#"[{"event_type":"a","user_id":"u","time":1}]"#,
        br#""just a string""#,
        br#"42"#,
        br#"{"user_id":"u","time":1}"#,
        br#"{"event_type":"","user_id":"u","time":1}"#,
        br#"{"event_type":7,"user_id":"u","time":1}"#,
        br#"{"event_type":null,"user_id":"u","time":1}"#,
        br#"{"event_type":"a","user_id":"","device_id":null,"time":1}"#,
        br#"{"event_type":"a","amplitude_id":1.5,"time":1}"#,
        br#"{"event_type":"a","user_id":"u"}"#,
        br#"{"event_type":"a","user_id":"u","time":null}"#,
        br#"{"event_type":"a","user_id":"u","time":"yesterday","client_event_time":null}"#,
        br#"{"event_type":"a","user_id":"u","time":1.5}"#,
        br#"{"event_type":"a","user_id":"u","time":true}"#,
        br#"{"event_type":"a","user_id":"u","time":"2026-02-30 00:00:00"}"#,
        br#"{"event_type":"a","user_id":"u","time":"2026-01-01 10:00:00 utc"}"#,
        br#"{"event_type":"a","user_id":"u","time":"2026-01-01 10:00:00+24:00"}"#,
        br#"{"event_type":"a","user_id":"u","time":"2026-01-01 10:00"}"#,
        br#"{"event_type":"a","user_id":"u","time":"99999999999999999999"}"#,
        br#"{"event_type":"a","user_id":"u","client_event_time":"bad","time":1}"#,
        // Accepted: a lone surrogate escape, escapes in ids, a leap second, a time in
        // seconds, a body with a non-object element, an Airbyte record.
        br#"{"event_type":"odd \ud800","user_id":"u\u0041","time":"2026-06-30 23:59:60Z"}"#,
        br#"{"event_type":"a","device_id":"d\\x","time":1767225600}"#,
        br#"{"api_key":"k","events":[{"event_type":"b1","user_id":"body-user","time":1767225600000,"session_id":1767225600000},3,{"event_type":"b2","user_id":"body-user","time":1767225601000,"session_id":"1767225600000"}]}"#,
        br#"{"type":"RECORD","record":{"stream":"events","data":{"event_type":"ab","user_id":"airbyte-user","time":1767225602000,"session_id":1767225602000}}}"#,
        b"   ",
        b"",
        b"\t\r",
    ];
    for b in bad {
        let at = 1 + rng.below(lines.len() as u64) as usize;
        lines.insert(at.min(lines.len()), b.to_vec());
    }
    let mut out = b"\xef\xbb\xbf".to_vec();
    for (i, l) in lines.iter().enumerate() {
        out.extend_from_slice(l);
        out.extend_from_slice(if i % 7 == 0 { b"\r\n" } else { b"\n" });
    }
    out
}

#[test]
fn the_summary_agrees_with_report_on_generated_data() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for seed in [7u64, 1234, 987_654_321] {
        let data = generate(seed);
        let plain = dir.path().join(format!("gen-{seed}.ndjson"));
        std::fs::write(&plain, &data).unwrap();
        let gz = dir.path().join(format!("gen-{seed}.json.gz"));
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(&data).unwrap();
        enc.finish().unwrap();
        for path in [&plain, &gz] {
            let p = path.to_str().unwrap();
            let s = assert_summary_agrees(py, &[p], &[]);
            // The data exercises what it is meant to.
            for k in [
                "rejected",
                "gaps",
                "bridged_gaps",
                "duplicate_events",
                "out_of_session_events",
                "unterminated_sessions",
                "end_props_changed_sessions",
                "background_events",
                "suspect_session_ids",
            ] {
                assert!(s[k].as_u64().unwrap() > 0, "seed {seed}: no {k}");
            }
            assert_summary_agrees(
                py,
                &[p],
                &["--timeout", "5m", "--gap", "1m", "--inactive", "Heartbeat"],
            );
        }
    }
}

// ---- per user, per session, one user's events ----

fn keyed(
    rows: &[Map<String, Value>],
    key: &[&str],
) -> std::collections::BTreeMap<String, Map<String, Value>> {
    rows.iter()
        .map(|r| {
            let k: Vec<String> = key.iter().map(|k| r[*k].to_string()).collect();
            (k.join("/"), r.clone())
        })
        .collect()
}

#[test]
fn users_and_sessions_agree_with_report_on_the_demo_stream() {
    let Some(py) = python() else { return };
    for settings in [&[][..], &["--timeout", "5m", "--gap", "1m"][..]] {
        let rep = report(settings, &["assets/demo.ndjson"]);
        let mut args = vec![
            "--dialect",
            "duckdb",
            "--source",
            "assets/demo.ndjson",
            "--emit",
            "users",
        ];
        args.extend(settings);
        let users = keyed(&duckdb(py, &sql(&args)), &["kind", "id"]);
        let rep_users = rep["users"].as_array().unwrap();
        assert_eq!(users.len(), rep_users.len());
        assert_eq!(
            users.len() as u64,
            rep["summary"]["users"].as_u64().unwrap()
        );
        let mut sessions_want = Vec::new();
        for u in rep_users {
            let k = format!("{}/{}", u["kind"], u["id"]);
            let got = users.get(&k).unwrap_or_else(|| panic!("user {k} missing"));
            for f in ["events", "first_event_ms", "last_event_ms"] {
                assert_eq!(got[f], u[f], "{k} {f}");
            }
            for (f, v) in u["flags"].as_object().unwrap() {
                assert_eq!(&got[f], v, "{k} {f}");
            }
            assert_eq!(
                got["sessions"].as_u64(),
                Some(u["sessions"].as_array().unwrap().len() as u64),
                "{k}"
            );
            assert_eq!(got["replayed_sessions"], u["replay"]["sessions"], "{k}");
            for s in u["sessions"].as_array().unwrap() {
                sessions_want.push((u["kind"].clone(), u["id"].clone(), s.clone()));
            }
        }
        args[5] = "sessions";
        let sessions = keyed(&duckdb(py, &sql(&args)), &["kind", "id", "session_id"]);
        assert_eq!(sessions.len(), sessions_want.len());
        let flag_order = [
            ("empty", "empty"),
            ("zero_length", "zero_length"),
            ("suspect_session_id", "suspect_session_id"),
            ("gap", "gap"),
            ("bridged_gap", "bridged_gap"),
            ("unterminated", "unterminated"),
            ("has_duplicates", "duplicates"),
            ("end_props_changed", "end_props_changed"),
            ("background", "background"),
        ];
        for (kind, id, s) in sessions_want {
            let k = format!("{kind}/{id}/{}", s["session_id"]);
            let got = sessions
                .get(&k)
                .unwrap_or_else(|| panic!("session {k} missing"));
            for f in [
                "first_event_ms",
                "last_event_ms",
                "events",
                "active_events",
                "length_ms",
                "span_ms",
                "gaps",
                "bridged_gaps",
                "max_gap_ms",
                "duplicates",
            ] {
                assert_eq!(got[f], s[f], "{k} {f}");
            }
            let flags: Vec<Value> = flag_order
                .iter()
                .filter(|(col, _)| got[*col] == Value::Bool(true))
                .map(|(_, name)| Value::from(*name))
                .collect();
            assert_eq!(&flags, s["flags"].as_array().unwrap(), "{k} flags");
        }
    }
}

#[test]
fn one_users_events_open_in_report_with_the_same_figures() {
    let Some(py) = python() else { return };
    let rep = report(&[], &["assets/demo.ndjson"]);
    let dir = tempfile::tempdir().unwrap();
    let users = rep["users"].as_array().unwrap();
    assert!(users.len() >= 3);
    for u in users {
        let id = u["id"].as_str().unwrap();
        let rows = duckdb(
            py,
            &sql(&[
                "--dialect",
                "duckdb",
                "--source",
                "assets/demo.ndjson",
                "--emit",
                "user-events",
                "--user",
                id,
            ]),
        );
        let file = dir.path().join("user.ndjson");
        let mut text = String::new();
        for r in &rows {
            text.push_str(r["event"].as_str().unwrap());
            text.push('\n');
        }
        std::fs::write(&file, text).unwrap();
        let one = report(&[], &[file.to_str().unwrap()]);
        let theirs: Vec<&Value> = one["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["kind"] == u["kind"] && x["id"] == u["id"])
            .collect();
        assert_eq!(theirs.len(), 1, "{id}");
        let t = theirs[0];
        for f in [
            "events",
            "first_event_ms",
            "last_event_ms",
            "flags",
            "sessions",
            "replay",
        ] {
            assert_eq!(t[f], u[f], "{id}: {f}");
        }
        assert_eq!(one["summary"]["rejected"], 0);
    }
}

// ---- the other dialects ----

const PARSER: &str = r#"
import json, sys, sqlglot
bad = []
for dialect, script in json.load(sys.stdin):
    try:
        sqlglot.parse(script, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    except Exception as e:
        bad.append(f"{dialect}: {e}"[:2000])
print(json.dumps(bad))
"#;

#[test]
fn sqlglot_parses_every_dialects_script() {
    let Some(py) = python() else { return };
    let mut scripts = Vec::new();
    for dialect in ["duckdb", "spark", "bigquery", "snowflake", "trino"] {
        let input: &[&str] = if matches!(dialect, "duckdb" | "spark") {
            &["--source", "s3://bucket/export/*.json.gz"]
        } else {
            &["--table", "analytics.events_123"]
        };
        for emit in [
            &["--emit", "summary"][..],
            &["--emit", "users"],
            &["--emit", "sessions"],
            &["--emit", "user-events", "--user", "ana@example.org"],
        ] {
            let mut args = vec!["--dialect", dialect];
            args.extend(input);
            args.extend(emit);
            args.extend(["--inactive", "Heart'beat"]);
            scripts.push((dialect, sql(&args)));
        }
    }
    let mut child = Command::new(py)
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&scripts).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let bad: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

const SPARK_RUNNER: &str = r#"
import json, sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").config("spark.sql.session.timeZone", "UTC").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
out = []
for script in json.load(sys.stdin):
    df = None
    for s in script.split(";\n\n"):
        s = s.strip().rstrip(";").strip()
        if s and not all(l.startswith("--") for l in s.splitlines()):
            df = spark.sql(s)
    out.append([r.asDict() for r in df.collect()])
print(json.dumps(out))
"#;

/// Spark local mode, when `STREAMSCOPE_SQL_SPARK` names a Python with pyspark (and a JRE
/// is installed): scripts/sql-tests.sh installs both and sets it. The emitted Spark SQL
/// over generated data agrees with report on every summary key and both medians.
#[test]
fn spark_agrees_with_report_on_generated_data() {
    let Some(py) = std::env::var_os("STREAMSCOPE_SQL_SPARK") else {
        eprintln!(
            "note: the Spark check is skipped: STREAMSCOPE_SQL_SPARK is not set (scripts/sql-tests.sh sets it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("gen.ndjson");
    std::fs::write(&plain, generate(4242)).unwrap();
    let gz = dir.path().join("gen.json.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&generate(77)).unwrap();
    enc.finish().unwrap();
    let cases: Vec<(String, Vec<&str>)> = vec![
        (plain.to_str().unwrap().to_string(), vec![]),
        (
            gz.to_str().unwrap().to_string(),
            vec!["--timeout", "5m", "--gap", "1m", "--inactive", "Heartbeat"],
        ),
    ];
    let scripts: Vec<String> = cases
        .iter()
        .map(|(p, settings)| {
            let mut args = vec!["--dialect", "spark", "--source", p];
            args.extend(settings);
            sql(&args)
        })
        .collect();
    let mut child = Command::new(py)
        .args(["-c", SPARK_RUNNER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&scripts).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "Spark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Vec<Map<String, Value>>> = serde_json::from_slice(&out.stdout).unwrap();
    for ((path, settings), rows) in cases.iter().zip(results) {
        let want = report(settings, &[path]);
        let got = &rows[0];
        let differ = differences("spark", got, &want);
        assert!(
            differ.is_empty(),
            "{path} {settings:?}: {}",
            differ.join("; ")
        );
    }
}

/// The typed-table loader (what BigQuery, Snowflake and Trino read), run in DuckDB over a
/// table made from a fixture: every key it can compute agrees with report;
/// `end_props_changed_sessions` is NULL, as its comment says.
#[test]
fn the_table_loader_agrees_where_a_table_can() {
    let Some(py) = python() else { return };
    for fixture in [
        "tests/fixtures/lifecycle/background.ndjson",
        "tests/fixtures/lifecycle/end-props.ndjson",
    ] {
        let table = format!(
            "CREATE OR REPLACE TEMP TABLE events AS SELECT event_type, user_id, device_id, \
             CAST(amplitude_id AS VARCHAR) AS amplitude_id, \
             make_timestamp(coalesce(time, epoch_ms(CAST(client_event_time AS TIMESTAMP))) * 1000) AS client_event_time, \
             TRY_CAST(session_id AS BIGINT) AS session_id, uuid, insert_id AS \"$insert_id\", user_properties \
             FROM read_json('{fixture}', columns = {{event_type: 'VARCHAR', user_id: 'VARCHAR', device_id: 'VARCHAR', \
             amplitude_id: 'VARCHAR', time: 'BIGINT', client_event_time: 'VARCHAR', session_id: 'VARCHAR', uuid: 'VARCHAR', \
             insert_id: 'VARCHAR', user_properties: 'JSON'}});\n"
        );
        let script = sql(&["--dialect", "duckdb", "--table", "events"]);
        assert!(script.contains("end_props_changed_sessions is NULL"));
        let rows = duckdb(py, &format!("{table}{script}"));
        let got = &rows[0];
        let want = report(&[], &[fixture]);
        for k in SUMMARY_KEYS {
            if k == "end_props_changed_sessions" {
                assert_eq!(got[k], Value::Null);
            } else {
                assert_eq!(got.get(k), want["summary"].get(k), "{fixture} {k}");
            }
        }
    }
}

#[test]
fn a_script_that_cannot_be_written_is_refused_with_the_reason() {
    for (args, says) in [
        (
            &["--dialect", "bigquery", "--source", "x.ndjson"][..],
            "--table",
        ),
        (
            &[
                "--dialect",
                "duckdb",
                "--source",
                "x.ndjson",
                "--emit",
                "user-events",
            ][..],
            "--user",
        ),
        (
            &["--dialect", "snowflake", "--table", "t; DROP TABLE x"][..],
            "not a table name",
        ),
    ] {
        let out = bin().arg("sql").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
