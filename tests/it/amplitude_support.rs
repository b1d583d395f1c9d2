//! A fake Amplitude for the `amplitude:` tests: a hand-written HTTP/1.1 server on
//! `127.0.0.1:0` (std threads, one per connection, `Connection: close`) implementing the
//! documented endpoints under `/api/2/`: `usersearch` (user ID, device ID, Amplitude ID
//! or user ID prefix), `useractivity` (offset, limit, direction=earliest; a page runs on
//! to the end of its last session, as Amplitude's "no partial sessions" does) and
//! `export` (a zip of gzipped NDJSON members). Every request must carry the project's
//! keys as HTTP Basic credentials, else 401. Answers can be forced per endpoint (429
//! with Retry-After, 400, 404, 504, …), the export sent slowly or cut off, and paging
//! held after the first page until the test releases it. Nothing here reaches the real
//! Amplitude.

#![allow(dead_code, reason = "each test uses part of it")]

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The project's keys in these tests: distinctive, so that any leak is found.
pub const KEY: &str = "test-api-key-7f3a9c";
/// The secret key.
pub const SECRET: &str = "test-secret-key-Q8w2Zp";

/// `key:secret` in Base64.
pub fn basic(key: &str, secret: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{key}:{secret}");
    let mut out = String::new();
    for c in input.as_bytes().chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every form a key could leak in.
pub fn secrets() -> Vec<String> {
    vec![KEY.to_string(), SECRET.to_string(), basic(KEY, SECRET)]
}

/// One user of the fake project.
#[derive(Clone, Debug)]
pub struct User {
    pub amplitude_id: u64,
    pub user_id: String,
    pub device_id: String,
    /// Event objects, as JSON text, in time order.
    pub events: Vec<String>,
}

/// `n` events of one user in sessions of `per_session` events, one a minute; every
/// event at a multiple of `dup_every` (when not 0) repeats the `$insert_id` of the event
/// before it (a genuine duplicate the model counts) under its own `uuid`.
pub fn user(
    amplitude_id: u64,
    user_id: &str,
    n: usize,
    per_session: usize,
    dup_every: usize,
) -> User {
    let device_id = format!("dev-{amplitude_id}");
    let start_ms: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
    let events = (0..n)
        .map(|i| {
            let t = start_ms + i as i64 * 60_000;
            let session = start_ms + (i / per_session * per_session) as i64 * 60_000;
            let insert = if dup_every > 0 && i > 0 && i % dup_every == 0 {
                i - 1
            } else {
                i
            };
            let secs = t / 1000;
            let dt = chrono::DateTime::from_timestamp(secs, 0).expect("a time");
            serde_json::json!({
                "event_type": format!("Step {}", i % per_session),
                "user_id": user_id,
                "device_id": device_id,
                "amplitude_id": amplitude_id,
                "uuid": format!("uuid-{amplitude_id}-{i}"),
                "$insert_id": format!("ins-{amplitude_id}-{insert}"),
                "session_id": session,
                "event_time": dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            })
            .to_string()
        })
        .collect();
    User {
        amplitude_id,
        user_id: user_id.to_string(),
        device_id,
        events,
    }
}

/// Genuine duplicates in a user's events (`$insert_id` repeated).
pub fn duplicates(u: &User) -> usize {
    let mut seen = std::collections::HashSet::new();
    u.events
        .iter()
        .filter(|e| {
            let v: serde_json::Value = serde_json::from_str(e).expect("JSON");
            !seen.insert(v["$insert_id"].as_str().expect("an insert id").to_string())
        })
        .count()
}

/// An answer given instead of the normal one.
#[derive(Clone, Debug)]
pub struct Forced {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Forced {
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn too_many(retry_after: &str) -> Self {
        Self {
            status: 429,
            headers: vec![("Retry-After".into(), retry_after.into())],
            body: "Too many requests for user activity; concurrent limit".into(),
        }
    }
}

/// How the export is sent.
#[derive(Clone, Debug)]
pub enum ExportMode {
    /// All at once.
    Whole,
    /// In pieces of `chunk` bytes, `pause` apart; past half-way, held while
    /// [`Fake::hold`] is set.
    Slow { chunk: usize, pause: Duration },
    /// Content-Length of the whole, then only the first `keep` bytes and the connection
    /// is closed.
    Cut { keep: usize },
}

/// What the fake project holds and how it answers.
#[derive(Clone, Debug)]
pub struct Project {
    pub users: Vec<User>,
    /// The export's archive.
    pub export_zip: Vec<u8>,
    pub export_mode: ExportMode,
    /// Answers to give first, per endpoint (`usersearch`, `useractivity`, `export`).
    pub forced: HashMap<&'static str, VecDeque<Forced>>,
    /// `useractivity` at this offset or later always answers this (a fetch that breaks
    /// off half-way).
    pub fail_from: Option<(usize, Forced)>,
    /// The body of 401/403 answers echoes the Authorization header (a server that
    /// does so must not make the keys leak).
    pub echo_auth: bool,
}

impl Project {
    pub fn new(users: Vec<User>) -> Self {
        Self {
            users,
            export_zip: Vec::new(),
            export_mode: ExportMode::Whole,
            forced: HashMap::new(),
            fail_from: None,
            echo_auth: false,
        }
    }

    pub fn force(mut self, endpoint: &'static str, answers: Vec<Forced>) -> Self {
        self.forced.entry(endpoint).or_default().extend(answers);
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The request target as sent (percent-encoded).
    pub target: String,
    /// The path.
    pub path: String,
    /// The decoded query.
    pub query: HashMap<String, String>,
    /// The credentials were right.
    pub authorized: bool,
}

/// The running fake.
pub struct Fake {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// While set, `useractivity` answers at offsets past 0 wait, and a slow export stops
    /// half-way.
    pub hold: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
}

impl Fake {
    pub fn start(project: Project) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hold = Arc::new(AtomicBool::new(false));
        let quit = Arc::new(AtomicBool::new(false));
        let project = Arc::new(Mutex::new(project));
        let (s, h, q) = (Arc::clone(&seen), Arc::clone(&hold), Arc::clone(&quit));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if q.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (p, s, h) = (Arc::clone(&project), Arc::clone(&s), Arc::clone(&h));
                std::thread::spawn(move || serve(conn, &p, &s, &h));
            }
        });
        Self {
            addr,
            seen,
            hold,
            quit,
        }
    }

    /// The base for STREAMSCOPE_AMPLITUDE_URL (without `/api/2`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn seen_at(&self, endpoint: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path == format!("/api/2/{endpoint}"))
            .collect()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
        self.hold.store(false, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

fn read_head(conn: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn respond(conn: &mut TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

fn serve(
    mut conn: TcpStream,
    project: &Mutex<Project>,
    seen: &Mutex<Vec<Seen>>,
    hold: &AtomicBool,
) {
    let Some(head) = read_head(&mut conn) else {
        return;
    };
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    let (path, query_text) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let query: HashMap<String, String> = form_urlencoded::parse(query_text.as_bytes())
        .into_owned()
        .collect();
    let auth = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("authorization")
            .then(|| value.trim().to_string())
    });
    let authorized = auth.as_deref() == Some(format!("Basic {}", basic(KEY, SECRET)).as_str());
    seen.lock().expect("lock").push(Seen {
        target: target.clone(),
        path: path.to_string(),
        query: query.clone(),
        authorized,
    });
    let endpoint = path.strip_prefix("/api/2/").unwrap_or("");
    let (forced, echo) = {
        let mut p = project.lock().expect("lock");
        let forced = p.forced.get_mut(endpoint).and_then(VecDeque::pop_front);
        (forced, p.echo_auth)
    };
    if !authorized {
        let body = if echo {
            format!("Invalid credentials: {}", auth.unwrap_or_default())
        } else {
            "Invalid API key".to_string()
        };
        return respond(&mut conn, 401, &[], body.as_bytes());
    }
    if let Some(f) = forced {
        return respond(&mut conn, f.status, &f.headers, f.body.as_bytes());
    }
    let p = project.lock().expect("lock").clone();
    match endpoint {
        "usersearch" => {
            let q = query.get("user").cloned().unwrap_or_default();
            let matches: Vec<serde_json::Value> = p
                .users
                .iter()
                .filter(|u| {
                    u.user_id.starts_with(&q) || u.device_id == q || u.amplitude_id.to_string() == q
                })
                .map(|u| serde_json::json!({"user_id": u.user_id, "amplitude_id": u.amplitude_id}))
                .collect();
            let body = serde_json::json!({"matches": matches, "type": "match_user_or_device_id"});
            respond(&mut conn, 200, &[], body.to_string().as_bytes());
        }
        "useractivity" => {
            let id = query.get("user").cloned().unwrap_or_default();
            let offset: usize = query
                .get("offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            let limit: usize = query
                .get("limit")
                .and_then(|o| o.parse().ok())
                .unwrap_or(1000);
            if let Some((from, f)) = &p.fail_from
                && offset >= *from
            {
                return respond(&mut conn, f.status, &f.headers, f.body.as_bytes());
            }
            if offset > 0 {
                while hold.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            let Some(u) = p.users.iter().find(|u| u.amplitude_id.to_string() == id) else {
                return respond(&mut conn, 400, &[], b"unknown amplitude id");
            };
            let n = u.events.len();
            let mut end = (offset + limit).min(n);
            // No partial sessions: run on to the end of the last one.
            let session = |i: usize| -> i64 {
                let v: serde_json::Value = serde_json::from_str(&u.events[i]).expect("JSON");
                v["session_id"].as_i64().unwrap_or(-1)
            };
            if end > offset {
                let last = session(end - 1);
                while end < n && session(end) == last {
                    end += 1;
                }
            }
            let events = if offset < n {
                u.events[offset..end].join(",\n  ")
            } else {
                String::new()
            };
            let body = format!(
                "{{\"userData\": {{\"user_id\": \"{}\", \"canonical_amplitude_id\": {}}},\n \"events\": [\n  {events}\n]}}",
                u.user_id, u.amplitude_id
            );
            respond(&mut conn, 200, &[], body.as_bytes());
        }
        "export" => {
            let zip = p.export_zip.clone();
            match p.export_mode {
                ExportMode::Whole => respond(&mut conn, 200, &[], &zip),
                ExportMode::Slow { chunk, pause } => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                        zip.len()
                    );
                    let _ = conn.write_all(head.as_bytes());
                    let half = zip.len() / 2;
                    let mut sent = 0;
                    for piece in zip.chunks(chunk.max(1)) {
                        if sent >= half {
                            // Past half-way, wait while the test holds the rest back.
                            while hold.load(Ordering::Relaxed) {
                                std::thread::sleep(Duration::from_millis(5));
                            }
                        }
                        if conn.write_all(piece).and_then(|()| conn.flush()).is_err() {
                            return;
                        }
                        sent += piece.len();
                        std::thread::sleep(pause);
                    }
                }
                ExportMode::Cut { keep } => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                        zip.len()
                    );
                    let _ = conn.write_all(head.as_bytes());
                    let _ = conn.write_all(&zip[..keep.min(zip.len())]);
                    let _ = conn.flush();
                    let _ = conn.shutdown(std::net::Shutdown::Both);
                }
            }
        }
        _ => respond(&mut conn, 404, &[], b"no such endpoint"),
    }
}

/// An Export-shaped zip: one gzipped NDJSON member per hour (`members` lines each), in
/// a folder named after the project, stored (not deflated) so that sizes are plain.
/// Returns the archive and the byte offset where each member's local header starts.
pub fn export_zip(hours: usize, per_hour: usize) -> (Vec<u8>, Vec<u64>) {
    use std::io::Write as _;
    let mut starts = Vec::new();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let u = user(42, "zoe@example.com", hours * per_hour, 5, 0);
    for h in 0..hours {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for e in &u.events[h * per_hour..(h + 1) * per_hour] {
            gz.write_all(e.as_bytes()).expect("gzip");
            gz.write_all(b"\n").expect("gzip");
        }
        let data = gz.finish().expect("gzip");
        w.start_file(format!("123456/123456_2024-01-01_{h}#0.json.gz"), opts)
            .expect("member");
        w.write_all(&data).expect("member data");
    }
    let bytes = w.finish().expect("zip").into_inner();
    let mut at = 0;
    while let Some(k) = memchr::memmem::find(&bytes[at..], b"PK\x03\x04") {
        starts.push((at + k) as u64);
        at += k + 4;
    }
    assert_eq!(starts.len(), hours, "one local header per member");
    (bytes, starts)
}
