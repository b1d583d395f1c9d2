//! Streaming URLs end to end: a hand-written HTTP/1.1 server on `127.0.0.1:0` sends NDJSON
//! or server-sent events in awkward pieces, drops connections mid-line and replays its
//! stream; the URL source runs on a thread and what it emits is applied to a store. Waits
//! poll for a condition with a deadline; nothing asserts on timing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use streamscope::source::{LoadOptions, Spec, UrlSpec};

use crate::common::Run;

/// What the server saw of a request.
#[derive(Clone, Debug)]
struct Request {
    last_event_id: Option<String>,
}

/// A local server; each connection is handled by the test's handler, in order.
struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    quit: Arc<AtomicBool>,
}

type Handler = dyn Fn(usize, &Request, &mut TcpStream, &AtomicBool) + Send;

impl Server {
    fn start(handler: Box<Handler>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let quit = Arc::new(AtomicBool::new(false));
        let (seen, stop) = (Arc::clone(&requests), Arc::clone(&quit));
        std::thread::spawn(move || {
            for (i, conn) in listener.incoming().enumerate() {
                let Ok(mut conn) = conn else { continue };
                let Some(request) = read_request(&mut conn) else {
                    continue;
                };
                seen.lock().expect("lock").push(request.clone());
                handler(i, &request, &mut conn, &stop);
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
        });
        Self {
            addr,
            requests,
            quit,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/stream", self.addr)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
    }
}

fn read_request(conn: &mut TcpStream) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let last_event_id = text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("last-event-id")
            .then(|| value.trim().to_string())
    });
    Some(Request { last_event_id })
}

fn start_chunked(conn: &mut TcpStream, content_type: &str) {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).expect("write head");
}

/// Sends `bytes` as chunks of the given sizes (cycled), each flushed on its own.
fn send_chunks(conn: &mut TcpStream, bytes: &[u8], sizes: &[usize]) {
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= bytes.len() {
            break;
        }
        let piece = &bytes[at..(at + size).min(bytes.len())];
        at += piece.len();
        let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
        chunk.extend_from_slice(piece);
        chunk.extend_from_slice(b"\r\n");
        // The client may be gone already (it was stopped): not an error of the test.
        if conn.write_all(&chunk).and_then(|()| conn.flush()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn end_chunked(conn: &mut TcpStream) {
    let _ = conn.write_all(b"0\r\n\r\n");
}

/// Keeps a connection open (a live stream gone quiet) until the test ends.
fn hold(quit: &AtomicBool) {
    while !quit.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn start(url: &str, reconnect: bool) -> Run {
    let spec = Spec::Url(UrlSpec {
        url: url.to_string(),
        reconnect,
    });
    let opts = LoadOptions {
        keep_raw: true,
        ..LoadOptions::default()
    };
    Run::start(spec, opts)
}

/// The NDJSON stream of the replay test: `a` twice with the same insert_id (a genuine
/// duplicate in the stream, to be kept and flagged), `b` and `d` without an insert_id, a
/// non-ASCII user id to cut mid-character.
const LINES: [&str; 6] = [
    "{\"event_type\":\"a\",\"user_id\":\"jürgen\",\"time\":1000,\"insert_id\":\"i1\"}\n",
    "{\"event_type\":\"b\",\"user_id\":\"jürgen\",\"time\":2000}\n",
    "{\"event_type\":\"a\",\"user_id\":\"jürgen\",\"time\":2500,\"insert_id\":\"i1\"}\n",
    "{\"event_type\":\"c\",\"user_id\":\"jürgen\",\"time\":3000,\"insert_id\":\"i4\"}\n",
    "{\"event_type\":\"d\",\"user_id\":\"jürgen\",\"time\":4000}\n",
    "{\"event_type\":\"e\",\"user_id\":\"jürgen\",\"time\":5000,\"insert_id\":\"i6\"}\n",
];

#[test]
fn a_replayed_ndjson_stream_after_a_mid_line_disconnect_gives_every_event_once() {
    let server = Server::start(Box::new(|i, _req, conn, quit| {
        start_chunked(conn, "application/x-ndjson");
        if i == 0 {
            let first: String = LINES[..3].concat();
            // 1-byte pieces, then pieces that cut lines and the 2-byte 'ü'.
            send_chunks(conn, &first.as_bytes()[..40], &[1]);
            send_chunks(conn, &first.as_bytes()[40..], &[7, 3, 26]);
            // Half of the fourth line, then the connection drops (no final chunk).
            send_chunks(conn, &LINES[3].as_bytes()[..30], &[30]);
        } else {
            // The server replays everything from the start, then new events.
            send_chunks(conn, LINES.concat().as_bytes(), &[5, 64]);
            hold(quit);
        }
    }));
    let mut run = start(&server.url(), true);
    run.until("all six events", |r| r.store.events().len() == 6);
    run.until("the replay report", |r| r.problem("skipped").is_some());

    assert_eq!(run.types(), ["a", "b", "a", "c", "d", "e"]);
    for (i, line) in LINES.iter().enumerate() {
        assert_eq!(
            run.raw(i).unwrap(),
            line.trim_end(),
            "raw text of event {i}"
        );
    }
    let cut = run.problem("dropped").expect("the cut line is reported");
    assert!(
        cut.contains("dropped an unfinished line of 30 bytes at disconnect"),
        "{cut}"
    );
    assert!(cut.contains(&server.url()), "{cut}");
    let skipped = run.problem("skipped").expect("reported");
    assert!(
        skipped.contains("after reconnecting, skipped 3 events already received"),
        "{skipped}"
    );
    assert!(
        run.problem("reconnecting in 250 ms (attempt 1)").is_some(),
        "{:?}",
        run.problems
    );
    assert!(run.store.rejects.is_empty(), "{:?}", run.store.rejects);
    assert_eq!(run.store.sources[0].format, Some("ndjson"));
    assert_eq!(server.requests().len(), 2);
    run.stop();
    assert_eq!(run.store.events().len(), 6, "nothing more after stopping");
}

#[test]
fn sse_resumes_after_the_last_event_id() {
    let server = Server::start(Box::new(|i, req, conn, quit| {
        start_chunked(conn, "text/event-stream; charset=utf-8");
        if i == 0 {
            let text = concat!(
                ": welcome\r\n",
                "retry: 100\r\n\r\n",
                "id: 1\r\nevent: track\r\n",
                "data: {\"event_type\":\"a\",\"user_id\":\"u1\",\"time\":1000}\r\n\r\n",
                "id: 2\r\n",
                "data: {\"event_type\":\"b\",\r\n",
                "data:  \"user_id\":\"u1\",\"time\":2000}\r\n\r\n",
                "id: 3\r\ndata: {\"event_type\":\"c\",",
            );
            send_chunks(conn, text.as_bytes(), &[1, 2, 5, 13]);
        } else {
            // Resumes after the id the client says it has.
            let after: u32 = req
                .last_event_id
                .as_deref()
                .and_then(|id| id.parse().ok())
                .unwrap_or(0);
            let events = [
                (1, "{\"event_type\":\"a\",\"user_id\":\"u1\",\"time\":1000}".to_string()),
                (2, "{\"event_type\":\"b\",\"user_id\":\"u1\",\"time\":2000}".to_string()),
                (3, "{\"event_type\":\"c\",\"user_id\":\"u1\",\"time\":3000}".to_string()),
                (
                    4,
                    "[{\"event_type\":\"d1\",\"user_id\":\"u1\",\"time\":4000},\n {\"event_type\":\"d2\",\"user_id\":\"u1\",\"time\":4001}]"
                        .to_string(),
                ),
            ];
            let mut text = String::new();
            for (id, data) in events.iter().filter(|(id, _)| *id > after) {
                text.push_str(&format!("id: {id}\n"));
                for line in data.lines() {
                    text.push_str(&format!("data: {line}\n"));
                }
                text.push('\n');
            }
            send_chunks(conn, text.as_bytes(), &[3, 11]);
            hold(quit);
        }
    }));
    let mut run = start(&server.url(), true);
    run.until("all five events", |r| r.store.events().len() == 5);
    assert_eq!(run.types(), ["a", "b", "c", "d1", "d2"]);
    let ids: Vec<Option<String>> = server
        .requests()
        .into_iter()
        .map(|r| r.last_event_id)
        .collect();
    assert_eq!(ids, [None, Some("2".to_string())]);
    let cut = run.problem("dropped").expect("the cut event is reported");
    assert!(cut.contains("dropped an unfinished event of"), "{cut}");
    assert!(
        run.problem("skipped").is_none(),
        "a resumed stream replays nothing"
    );
    assert_eq!(
        run.raw(3).unwrap(),
        "{\"event_type\":\"d1\",\"user_id\":\"u1\",\"time\":4000}"
    );
    assert_eq!(run.store.sources[0].format, Some("sse"));
    assert!(run.store.rejects.is_empty(), "{:?}", run.store.rejects);
    run.stop();
}

#[test]
fn a_server_error_is_reported_and_the_source_recovers() {
    let server = Server::start(Box::new(|i, _req, conn, quit| {
        if i < 2 {
            let _ = conn.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
        start_chunked(conn, "application/x-ndjson");
        send_chunks(conn, LINES[..2].concat().as_bytes(), &[17]);
        hold(quit);
    }));
    let mut run = start(&server.url(), true);
    run.until("the events after recovering", |r| {
        r.store.events().len() == 2
    });
    let url = server.url();
    let first = format!("GET {url}: 500 Internal Server Error; reconnecting in 250 ms (attempt 1)");
    let second =
        format!("GET {url}: 500 Internal Server Error; reconnecting in 500 ms (attempt 2)");
    assert!(run.problem(&first).is_some(), "{:?}", run.problems);
    assert!(run.problem(&second).is_some(), "{:?}", run.problems);
    assert!(
        !run.store.sources[0].failed,
        "failures before recovering are not fatal"
    );
    assert_eq!(run.types(), ["a", "b"]);
    assert_eq!(server.requests().len(), 3);
    run.stop();
}

#[test]
fn without_reconnect_the_source_ends_with_the_stream() {
    let server = Server::start(Box::new(|_i, _req, conn, _quit| {
        // A connection-close body whose last line has no newline.
        let _ = conn.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n",
        );
        let body = format!("{}{}", LINES[0], LINES[1].trim_end());
        let _ = conn.write_all(body.as_bytes());
    }));
    let mut run = start(&server.url(), false);
    run.until("the end of the source", |r| r.done);
    assert_eq!(run.types(), ["a", "b"]);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(server.requests().len(), 1, "no reconnection");
    run.stop();
}

fn report(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args(["report", url, "--format", "json"])
        .output()
        .expect("the binary runs")
}

#[test]
fn report_reads_a_finite_stream_to_its_end() {
    let server = Server::start(Box::new(|_i, _req, conn, _quit| {
        start_chunked(conn, "application/x-ndjson");
        send_chunks(conn, LINES.concat().as_bytes(), &[1, 50, 3]);
        end_chunked(conn);
    }));
    let out = report(&server.url());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["summary"]["events"], 6);
    assert_eq!(
        doc["summary"]["duplicate_events"], 1,
        "the repeated a is kept and flagged"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn report_of_a_missing_stream_fails_with_the_status() {
    let server = Server::start(Box::new(|_i, _req, conn, _quit| {
        let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }));
    let out = report(&server.url());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("GET {}: 404 Not Found", server.url())),
        "{stderr}"
    );
}

#[test]
fn a_stream_that_ends_cleanly_is_polled_with_growing_delays() {
    let server = Server::start(Box::new(|_i, _req, conn, _quit| {
        start_chunked(conn, "application/x-ndjson");
        send_chunks(conn, LINES[0].as_bytes(), &[64]);
        end_chunked(conn);
    }));
    let mut run = start(&server.url(), true);
    run.until("the second reconnection", |r| {
        r.problem("(attempt 2)").is_some()
    });
    assert!(
        run.problem("the stream ended; reconnecting in 500 ms (attempt 2)")
            .is_some(),
        "{:?}",
        run.problems
    );
    let told = run
        .problems
        .iter()
        .filter(|(p, _)| p.contains("; reconnecting in"))
        .count();
    assert_eq!(told, 2, "{:?}", run.problems);
}

#[test]
fn an_endless_line_of_a_stream_is_read_through_and_reported_with_its_size() {
    let server = Server::start(Box::new(|_i, _req, conn, _quit| {
        start_chunked(conn, "application/x-ndjson");
        send_chunks(conn, LINES[0].as_bytes(), &[64]);
        let long = vec![b'x'; 200_000];
        send_chunks(conn, &long, &[4096]);
        send_chunks(conn, format!("\n{}", LINES[1]).as_bytes(), &[64]);
        end_chunked(conn);
    }));
    let out = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args([
            "report",
            "--format",
            "json",
            "--max-record-size",
            "10KB",
            &server.url(),
        ])
        .output()
        .expect("the binary runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["summary"]["events"], 2);
    let problems = doc["sources"][0]["problems"].to_string();
    assert!(
        problems.contains(
            "a line or event of 200000 bytes is over the record-size limit of 10000 bytes"
        ),
        "{problems}"
    );
}
