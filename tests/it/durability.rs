//! Durability of `streamscope listen` against `kill -9`: the real binary on loopback, several
//! client threads posting batches, a SIGKILL in the middle of the load, a restart on the
//! same capture file, then the checks:
//!
//! - every acknowledged `insert_id` is in the capture exactly once (the file, the resume
//!   banner, `/streamscope/summary` and `/streamscope/events` agree);
//! - the capture holds nothing that was not sent, and besides the acknowledged events only
//!   events of requests in flight at the kill;
//! - a half-written last line (left by the kill, or appended here to stand for one when the
//!   kill landed between writes) is reported as one rejected record and the server keeps
//!   accepting;
//! - resending the acknowledged batches adds nothing (dedup by `insert_id`); resending the
//!   batches in flight at the kill completes the capture to exactly what was sent.
//!
//! A second test runs resets (`POST /streamscope/reset`, several threads, back to back and
//! twice in a row) while clients post: every acknowledged `insert_id` must be in exactly
//! one file afterwards (the capture or one of its archives), and no archive overwritten.
//!
//! Waits are deadlines with polling; nothing asserts on time.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const CLIENTS: usize = 6;
const BATCH: usize = 100;
/// Acknowledged events before the kill.
const KILL_AFTER: usize = 4000;
const DEADLINE: Duration = Duration::from_secs(120);

/// A running `listen`; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    port: u16,
    /// Standard output lines, read continuously (the log must not fill the pipe).
    lines: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(capture: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_streamscope"))
            .args(["listen", "--no-tui", "--addr", "127.0.0.1:0", "--capture"])
            .arg(capture)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start streamscope listen");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .strip_prefix("streamscope listening on http://127.0.0.1:")
                    .and_then(|p| p.trim().parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
                sink.lock().expect("the output lines").push(line);
            }
        });
        let port = rx
            .recv_timeout(DEADLINE)
            .expect("the banner with the port, before the deadline");
        Self { child, port, lines }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// The banner line starting with `prefix`, waiting for it (the banner's lines after the
    /// port's arrive a moment later) until the deadline.
    fn banner_line(&self, prefix: &str) -> Option<String> {
        let start = Instant::now();
        loop {
            let found = self
                .lines
                .lock()
                .expect("the output lines")
                .iter()
                .find(|l| l.trim_start().starts_with(prefix))
                .cloned();
            if found.is_some() || start.elapsed() > DEADLINE {
                return found;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One batch: its body and the insert_ids in it.
#[derive(Clone)]
struct Batch {
    body: String,
    ids: Vec<String>,
}

fn batch(client: usize, n: usize) -> Batch {
    let ids: Vec<String> = (0..BATCH)
        .map(|i| format!("c{client}-{}", n * BATCH + i))
        .collect();
    let events: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let user = (n * 7 + i) % 50;
            format!(
                r#"{{"insert_id":"{id}","event_type":"{et}","user_id":"user-{user:04}","device_id":"device-{user:04}","session_id":1795400000000,"time":{time},"platform":"iOS","event_properties":{{"screen":"checkout","item_id":"sku-{i:05}","price":12.5,"note":"kill -9 durability test, padding the event to a realistic size of a few hundred bytes"}},"user_properties":{{"plan":"pro"}}}}"#,
                et = ["screen_view", "add_to_cart", "purchase"][i % 3],
                time = 1_795_400_000_000u64 + (n * BATCH + i) as u64,
            )
        })
        .collect();
    Batch {
        body: format!(
            r#"{{"api_key":"durability","events":[{}]}}"#,
            events.join(",")
        ),
        ids,
    }
}

fn client() -> reqwest::blocking::Client {
    streamscope::source::ensure_tls_provider();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// Posts a batch; `Ok(code)` when answered, `Err` on a connection error.
fn post(http: &reqwest::blocking::Client, url: &str, b: &Batch) -> Result<u16, reqwest::Error> {
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .body(b.body.clone())
        .send()?;
    let status = resp.status().as_u16();
    resp.bytes()?;
    Ok(status)
}

fn get_json(http: &reqwest::blocking::Client, url: &str) -> serde_json::Value {
    let resp = http.get(url).send().expect("query API");
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    serde_json::from_slice(&resp.bytes().expect("query API body")).expect("query API JSON")
}

/// What one client thread did.
#[derive(Default)]
struct Sent {
    acked: Vec<Batch>,
    /// Sent but not acknowledged (in flight at the kill, or refused after it).
    unacked: Vec<Batch>,
}

/// The capture file: insert_id → occurrences, and the lines that are not JSON objects.
fn read_capture(path: &Path) -> (HashMap<String, usize>, Vec<String>, usize) {
    let text = std::fs::read(path).expect("read the capture");
    let text = String::from_utf8_lossy(&text);
    let mut ids = HashMap::new();
    let mut bad = Vec::new();
    let mut lines = 0;
    for line in text.split_terminator('\n') {
        lines += 1;
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => {
                let id = v["insert_id"].as_str().expect("an insert_id").to_string();
                assert!(
                    v["server_received_time"].is_string(),
                    "capture lines carry server_received_time: {line}"
                );
                *ids.entry(id).or_insert(0) += 1;
            }
            Err(_) => bad.push(line.to_string()),
        }
    }
    (ids, bad, lines)
}

#[test]
fn acknowledged_events_survive_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c.ndjson");
    let mut server = Server::start(&capture);
    let ingest = server.url("/2/httpapi");

    // Load: CLIENTS threads posting batches back to back until told to stop or refused.
    let stop = Arc::new(AtomicBool::new(false));
    let acked_events = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (stop, acked_events, url) =
                (Arc::clone(&stop), Arc::clone(&acked_events), ingest.clone());
            std::thread::spawn(move || {
                let http = client();
                let mut sent = Sent::default();
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let b = batch(c, n);
                    match post(&http, &url, &b) {
                        Ok(200) => {
                            acked_events.fetch_add(b.ids.len(), Ordering::SeqCst);
                            sent.acked.push(b);
                        }
                        Ok(code) => panic!("client {c}: HTTP {code} before the kill"),
                        Err(_) => {
                            // The server is gone: this batch may or may not be in the capture.
                            sent.unacked.push(b);
                            break;
                        }
                    }
                }
                sent
            })
        })
        .collect();

    let start = Instant::now();
    while acked_events.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            start.elapsed() < DEADLINE,
            "the load did not reach {KILL_AFTER} acknowledged events"
        );
        assert!(
            threads.iter().all(|t| !t.is_finished()),
            "a client stopped before the kill"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    stop.store(true, Ordering::SeqCst);
    let sent: Vec<Sent> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    let acked: Vec<&Batch> = sent.iter().flat_map(|s| &s.acked).collect();
    let unacked: Vec<&Batch> = sent.iter().flat_map(|s| &s.unacked).collect();
    let acked_ids: HashSet<&str> = acked
        .iter()
        .flat_map(|b| b.ids.iter().map(String::as_str))
        .collect();
    let unacked_ids: HashSet<&str> = unacked
        .iter()
        .flat_map(|b| b.ids.iter().map(String::as_str))
        .collect();
    assert!(acked_ids.len() >= KILL_AFTER);
    assert_eq!(
        acked_ids.len(),
        acked.len() * BATCH,
        "insert_ids are unique"
    );
    assert!(
        unacked.len() <= CLIENTS,
        "at most one batch in flight per client"
    );

    // The file as the kill left it.
    let raw = std::fs::read(&capture).unwrap();
    let real_half_line = !raw.is_empty() && !raw.ends_with(b"\n");
    if !real_half_line {
        // The kill landed between writes: stand for a write cut short by it.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&capture)
            .unwrap();
        f.write_all(br#"{"insert_id":"half-line","event_type":"screen_view","user_id":"user-0"#)
            .unwrap();
    }
    let (ids, bad, _) = read_capture(&capture);
    assert_eq!(bad.len(), 1, "exactly one half-written line: {bad:?}");
    for id in &acked_ids {
        assert_eq!(
            ids.get(*id),
            Some(&1),
            "acknowledged {id} is in the capture exactly once"
        );
    }
    for (id, n) in &ids {
        assert_eq!(*n, 1, "{id} is in the capture once");
        assert!(
            acked_ids.contains(id.as_str()) || unacked_ids.contains(id.as_str()),
            "{id} is in the capture but was neither acknowledged nor in flight"
        );
    }
    let captured = ids.len();
    let in_flight_captured = captured - acked_ids.len();

    // Restart on the same capture.
    let server = Server::start(&capture);
    let http = client();
    let resumed = server
        .banner_line("capture:")
        .expect("the capture line of the banner");
    assert!(
        resumed.contains(&format!("(resumed with {captured} events already in it)")),
        "{resumed}"
    );
    let summary = get_json(&http, &server.url("/streamscope/summary"));
    assert_eq!(
        summary["summary"]["events"], captured,
        "{}",
        summary["summary"]
    );
    assert_eq!(
        summary["summary"]["rejected"], 1,
        "the half line is one rejected record"
    );
    assert_eq!(summary["summary"]["duplicate_events"], 0);
    assert_eq!(
        summary["rejected_records"].as_array().map(Vec::len),
        Some(1)
    );
    let events = get_json(&http, &server.url("/streamscope/events?limit=100000"));
    assert_eq!(events["matching"], captured);
    assert_eq!(events["returned"], captured);
    let listed: HashSet<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["insert_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), captured);
    assert!(acked_ids.iter().all(|id| listed.contains(id)));

    // Still accepting: a new batch is stored after the half line.
    let fresh = batch(99, 0);
    assert_eq!(post(&http, &server.url("/2/httpapi"), &fresh).unwrap(), 200);

    // Resending every acknowledged batch adds nothing.
    for b in &acked {
        assert_eq!(post(&http, &server.url("/2/httpapi"), b).unwrap(), 200);
    }
    let summary = get_json(&http, &server.url("/streamscope/summary"));
    assert_eq!(summary["summary"]["events"], captured + BATCH);
    assert_eq!(summary["summary"]["duplicate_events"], 0);
    let (_, bad, lines) = read_capture(&capture);
    assert_eq!(bad.len(), 1);
    assert_eq!(lines, captured + BATCH + 1, "resends wrote no line");

    // Resending the batches in flight at the kill completes the capture to what was sent.
    for b in &unacked {
        assert_eq!(post(&http, &server.url("/2/httpapi"), b).unwrap(), 200);
    }
    let (ids_after, _, lines_after) = read_capture(&capture);
    let sent_count = acked_ids.len() + unacked_ids.len() + BATCH;
    assert_eq!(ids_after.len(), sent_count);
    assert!(ids_after.values().all(|n| *n == 1));
    assert_eq!(lines_after, sent_count + 1);
    let summary = get_json(&http, &server.url("/streamscope/summary"));
    assert_eq!(summary["summary"]["events"], sent_count);
    assert_eq!(summary["summary"]["rejected"], 1);
    eprintln!(
        "durability: {} acknowledged before kill -9, {} in flight of which {in_flight_captured} captured, half line {}",
        acked_ids.len(),
        unacked_ids.len(),
        if real_half_line {
            "left by the kill"
        } else {
            "appended by the test"
        }
    );
}

/// Every `.ndjson` file in `dir` (the capture and its archives): insert_id → occurrences.
fn read_all_files(dir: &Path) -> (HashMap<String, usize>, usize) {
    let mut ids = HashMap::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("the capture directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "ndjson") {
            files += 1;
            let (file_ids, bad, _) = read_capture(&path);
            assert!(bad.is_empty(), "{}: {bad:?}", path.display());
            for (id, n) in file_ids {
                *ids.entry(id).or_insert(0) += n;
            }
        }
    }
    (ids, files)
}

#[test]
fn concurrent_resets_under_load_keep_every_acknowledged_event_in_exactly_one_file() {
    const RESETTERS: usize = 3;
    const RESETS: usize = 60;
    const ROUNDS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c.ndjson");
    let server = Server::start(&capture);
    let ingest = server.url("/2/httpapi");
    let reset_url = server.url("/streamscope/reset");

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (stop, url) = (Arc::clone(&stop), ingest.clone());
            std::thread::spawn(move || {
                let http = client();
                let mut acked = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let b = batch(c, n);
                    let code = post(&http, &url, &b).expect("the server stays up");
                    assert_eq!(code, 200, "client {c}");
                    acked.extend(b.ids);
                }
                acked
            })
        })
        .collect();
    let resetters: Vec<_> = (0..RESETTERS)
        .map(|_| {
            let url = reset_url.clone();
            std::thread::spawn(move || {
                let http = client();
                let mut archives = Vec::new();
                for _ in 0..RESETS {
                    let resp = http.post(&url).send().expect("reset answered");
                    assert_eq!(resp.status().as_u16(), 200);
                    let v: serde_json::Value = resp.json().expect("reset JSON");
                    archives.push(v["archived"].as_str().unwrap().to_string());
                }
                archives
            })
        })
        .collect();
    // The issue's reproduction: post one event, reset, reset, on one keep-alive connection.
    let http = client();
    let mut acked: Vec<String> = Vec::new();
    let mut archives = Vec::new();
    for round in 0..ROUNDS {
        let id = format!("round-{round}");
        let body = format!(
            r#"{{"api_key":"durability","events":[{{"insert_id":"{id}","event_type":"e","user_id":"user-0001","time":1795400000000}}]}}"#
        );
        let b = Batch {
            body,
            ids: vec![id],
        };
        assert_eq!(post(&http, &ingest, &b).unwrap(), 200);
        acked.extend(b.ids);
        for _ in 0..2 {
            let v: serde_json::Value = http.post(&reset_url).send().unwrap().json().unwrap();
            assert_eq!(v["code"], 200);
            archives.push(v["archived"].as_str().unwrap().to_string());
        }
    }
    for r in resetters {
        archives.extend(r.join().expect("a resetter"));
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        acked.extend(c.join().expect("a client"));
    }
    drop(server);

    let distinct: HashSet<&String> = archives.iter().collect();
    assert_eq!(distinct.len(), archives.len(), "no archive name twice");
    let (ids, files) = read_all_files(dir.path());
    assert_eq!(files, archives.len() + 1, "every archive is still there");
    assert_eq!(ids.len(), acked.len(), "nothing but what was sent");
    for id in &acked {
        assert_eq!(
            ids.get(id),
            Some(&1),
            "acknowledged {id} is in exactly one file"
        );
    }
    eprintln!(
        "resets under load: {} acknowledged events, {} resets, {files} files",
        acked.len(),
        archives.len()
    );
}
