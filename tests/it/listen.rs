//! `streamscope listen` over real loopback sockets: the real binary, a real HTTP client.
//! Every documented answer, CORS, gzip, the legacy form body, limits, the API key list,
//! the query API, `--forward`, resume, and a clean stop on SIGTERM.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running `listen --no-tui`; killed on drop.
struct Listen {
    child: Child,
    base: String,
    lines: Receiver<String>,
    _dir: Option<tempfile::TempDir>,
    capture: PathBuf,
}

impl Listen {
    fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let capture = dir.path().join("capture.ndjson");
        let mut l = Self::start_on(&capture, extra);
        l._dir = Some(dir);
        l
    }

    fn start_on(capture: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_streamscope"))
            .args(["listen", "--no-tui", "--addr", "127.0.0.1:0", "--capture"])
            .arg(capture)
            .args(extra)
            .env_remove("STREAMSCOPE_API_KEYS")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("no banner from listen");
        let base = first
            .strip_prefix("streamscope listening on ")
            .unwrap_or_else(|| panic!("unexpected banner: {first}"))
            .to_string();
        Self {
            child,
            base,
            lines,
            _dir: None,
            capture: capture.to_path_buf(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stdout lines until one contains `needle` (the request log).
    fn wait_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                if line.contains(needle) {
                    return line;
                }
                seen.push(line);
            }
        }
        panic!("no log line with {needle:?}; saw {seen:#?}");
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    streamscope::source::ensure_tls_provider();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn event(t: &str, user: &str, insert_id: &str) -> Value {
    json!({"event_type": t, "user_id": user, "time": 1_700_000_000_000_i64, "insert_id": insert_id,
           "event_properties": {"k": 1}})
}

fn post(c: &reqwest::blocking::Client, url: &str, body: &Value) -> (u16, Value) {
    let r = c.post(url).json(body).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

fn get(c: &reqwest::blocking::Client, url: &str) -> Value {
    c.get(url).send().unwrap().json().unwrap()
}

#[test]
fn every_documented_answer() {
    let l = Listen::start(&[]);
    let c = client();
    let url = l.url("/2/httpapi");
    // (what, body, status, fields the answer must have)
    let cases = [
        (
            "valid",
            json!({"api_key": "k", "events": [event("a", "user-1", "i1")]}),
            200,
            json!({"code": 200, "events_ingested": 1}),
        ),
        (
            "missing api_key",
            json!({"events": [event("a", "user-1", "i2")]}),
            400,
            json!({"code": 400, "missing_field": "api_key"}),
        ),
        (
            "missing event_type and identity",
            json!({"api_key": "k", "events": [event("a", "user-1", "i3"), {"user_id": "user-1"}, {"event_type": "x"}]}),
            400,
            json!({"code": 400, "events_with_missing_fields": {"event_type": [1], "device_id": [2]}}),
        ),
        (
            "invalid fields",
            json!({"api_key": "k", "events": [{"event_type": "a", "user_id": "user-1", "time": "later"}]}),
            400,
            json!({"code": 400, "events_with_invalid_fields": {"time": [0]}}),
        ),
        (
            "short ids",
            json!({"api_key": "k", "events": [{"event_type": "a", "user_id": "abc"}]}),
            400,
            json!({"code": 400, "events_with_invalid_id_lengths": {"user_id": [0]}}),
        ),
    ];
    for (what, body, status, fields) in cases {
        let (got, answer) = post(&c, &url, &body);
        assert_eq!(got, status, "{what}: {answer}");
        for (k, v) in fields.as_object().unwrap() {
            assert_eq!(&answer[k], v, "{what}: {k} in {answer}");
        }
    }
    let ok = post(
        &c,
        &url,
        &json!({"api_key": "k", "events": [event("a", "user-1", "i9")]}),
    )
    .1;
    for k in ["payload_size_bytes", "server_upload_time"] {
        assert!(ok[k].as_i64().unwrap() > 0, "{k} in {ok}");
    }
    // Invalid JSON, whatever the content type says.
    let r = c
        .post(&url)
        .header("content-type", "text/plain")
        .body("{nope")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let answer: Value = r.json().unwrap();
    assert_eq!(answer["error"], "Invalid JSON request body");
    // The valid events of the partly invalid request were kept: i1, i3, i9.
    let events = get(&c, &l.url("/streamscope/events?user=user-1"));
    let ids: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["insert_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["i1", "i3", "i9"]);
    l.wait_line("#7 POST /2/httpapi 400");
}

#[test]
fn cors_preflight_and_allow_origin_on_every_answer() {
    let l = Listen::start(&[]);
    let c = client();
    let r = c
        .request(reqwest::Method::OPTIONS, l.url("/2/httpapi"))
        .header("origin", "http://127.0.0.1:9999")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-encoding,content-type",
        )
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let h = r.headers();
    assert_eq!(
        h["access-control-allow-origin"], "http://127.0.0.1:9999",
        "{h:?}"
    );
    assert_eq!(
        h["access-control-allow-headers"],
        "content-encoding,content-type"
    );
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    for (path, body) in [("/2/httpapi", "{}"), ("/batch", "not json"), ("/", "")] {
        let r = c
            .post(l.url(path))
            .header("origin", "http://app.test")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "http://app.test",
            "{path}"
        );
        let v: Value = r.json().unwrap();
        assert!(v["code"].is_number(), "{path}: no code in {v}");
    }
}

#[test]
fn gzip_bodies_the_form_body_and_beacon_text_plain() {
    let l = Listen::start(&[]);
    let c = client();
    let body = json!({"api_key": "k", "events": [event("gz", "user-1", "g1"), event("gz", "user-1", "g2")]});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.to_string().as_bytes()).unwrap();
    let r = c
        .post(l.url("/2/httpapi"))
        .header("content-encoding", "gzip")
        .header("content-type", "application/json")
        .body(gz.finish().unwrap())
        .send()
        .unwrap();
    let v: Value = r.json().unwrap();
    assert_eq!(v["events_ingested"], 2, "{v}");
    // A broken gzip body is a clear 400, not a hang or a 500.
    let r = c
        .post(l.url("/2/httpapi"))
        .header("content-encoding", "gzip")
        .body(vec![0x1f, 0x8b, 8, 0, 1, 2, 3])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // The legacy form body on POST /.
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client", "k")
        .append_pair("e", &json!([event("form", "user-2", "f1")]).to_string())
        .append_pair("v", "2")
        .append_pair("upload_time", "1700000000000")
        .append_pair("checksum", "0123")
        .finish();
    let r = c
        .post(l.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .unwrap();
    // The legacy endpoint answers `success`, as the old SDKs require.
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().unwrap(), "success");
    // The browser's beacon transport: JSON as text/plain.
    let r = c
        .post(l.url("/2/httpapi"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(json!({"api_key": "k", "events": [event("beacon", "user-3", "b1")]}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let summary = get(&c, &l.url("/streamscope/summary"));
    assert_eq!(summary["summary"]["events"], 4, "{}", summary["summary"]);
    assert_eq!(summary["summary"]["users"], 3);
}

#[test]
fn limits_are_413() {
    let l = Listen::start(&[]);
    let c = client();
    let many: Vec<Value> = (0..2001)
        .map(|i| event("a", "user-1", &format!("m{i}")))
        .collect();
    let (status, v) = post(
        &c,
        &l.url("/batch"),
        &json!({"api_key": "k", "events": many}),
    );
    assert_eq!((status, v["code"].as_i64()), (413, Some(413)), "{v}");
    // Over 1 MB on /2/httpapi, but well under 20 MB on /batch.
    let pad = "x".repeat(600_000);
    let big = json!({"api_key": "k", "events": [
        {"event_type": "a", "user_id": "user-1", "event_properties": {"pad": pad}},
        {"event_type": "b", "user_id": "user-1", "event_properties": {"pad": pad}}]});
    let (status, v) = post(&c, &l.url("/2/httpapi"), &big);
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["error"], "Payload too large");
    let (status, v) = post(&c, &l.url("/batch"), &big);
    assert_eq!(status, 200, "{v}");
    // The rejected requests are listed with their reasons.
    let rejected = get(&c, &l.url("/streamscope/rejected"));
    let list = rejected["rejected"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|r| r["status"] == 413), "{rejected}");
    assert!(
        list[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("2001 events"),
        "{rejected}"
    );
}

#[test]
fn api_keys_restrict_what_is_accepted_and_are_never_logged() {
    let l = Listen::start(&["--api-key", "key-one", "--api-key", "key-two"]);
    let c = client();
    let body = |k: &str| json!({"api_key": k, "events": [event("a", "user-1", "key-test")]});
    assert_eq!(post(&c, &l.url("/2/httpapi"), &body("key-two")).0, 200);
    let (status, v) = post(&c, &l.url("/2/httpapi"), &body("secret-guess"));
    assert_eq!(status, 400);
    assert!(
        v["error"].as_str().unwrap().starts_with("Invalid API key"),
        "{v}"
    );
    let line = l.wait_line("#2 ");
    assert!(!line.contains("secret-guess"), "{line}");
    assert!(!line.contains("key-two"), "{line}");
    let capture = std::fs::read_to_string(&l.capture).unwrap();
    assert!(
        !capture.contains("key-two"),
        "the api key is in the capture"
    );
    let rejected = get(&c, &l.url("/streamscope/rejected")).to_string();
    assert!(rejected.contains("Invalid API key"), "{rejected}");
    assert!(!rejected.contains("secret-guess"), "{rejected}");
}

#[test]
fn query_api_filters_resets_and_resend_after_reset() {
    let l = Listen::start(&[]);
    let c = client();
    let events: Vec<Value> = (0..10)
        .map(|i| {
            event(
                if i % 2 == 0 { "even" } else { "odd" },
                if i < 6 { "user-a" } else { "user-b" },
                &format!("q{i}"),
            )
        })
        .collect();
    post(
        &c,
        &l.url("/2/httpapi"),
        &json!({"api_key": "k", "events": events}),
    );
    // A resend of the same batch (a lost answer) adds nothing.
    let (_, v) = post(
        &c,
        &l.url("/2/httpapi"),
        &json!({"api_key": "k", "events": events}),
    );
    assert_eq!(v["code"], 200);
    l.wait_line("10 already received");
    let q = |path: &str| get(&c, &l.url(path));
    assert_eq!(q("/streamscope/events")["matching"], 10);
    assert_eq!(q("/streamscope/events?user=user-a")["matching"], 6);
    assert_eq!(
        q("/streamscope/events?user=user-a&event_type=odd")["matching"],
        3
    );
    let limited = q("/streamscope/events?limit=4");
    assert_eq!(limited["returned"], 4);
    assert_eq!(limited["truncated"], true);
    assert_eq!(q("/streamscope/events?user=nobody")["matching"], 0);
    let per_user = q("/streamscope/summary?user=user-b");
    assert_eq!(per_user["schema"], "streamscope.report/1");
    let text = c
        .get(l.url("/streamscope/summary?format=text&timeout=5m"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(text.contains("events"), "{text}");
    let bad = c
        .get(l.url("/streamscope/summary?timeout=soon"))
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    // Reset: the capture is archived, the query API starts empty, ids are forgotten.
    let r: Value = c
        .post(l.url("/streamscope/reset"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let archived = PathBuf::from(r["archived"].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(&archived).unwrap().lines().count(),
        10
    );
    assert_eq!(q("/streamscope/summary")["summary"]["events"], 0);
    post(
        &c,
        &l.url("/2/httpapi"),
        &json!({"api_key": "k", "events": events}),
    );
    assert_eq!(q("/streamscope/events")["matching"], 10);
}

#[test]
fn resume_on_the_same_capture_keeps_events_and_insert_ids() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c.ndjson");
    let c = client();
    let batch =
        json!({"api_key": "k", "events": [event("a", "user-1", "r1"), event("b", "user-1", "r2")]});
    {
        let l = Listen::start_on(&capture, &[]);
        assert_eq!(post(&c, &l.url("/2/httpapi"), &batch).0, 200);
    }
    let l = Listen::start_on(&capture, &[]);
    assert_eq!(
        get(&c, &l.url("/streamscope/summary"))["summary"]["events"],
        2
    );
    post(&c, &l.url("/2/httpapi"), &batch);
    l.wait_line("2 already received");
    assert_eq!(
        std::fs::read_to_string(&capture).unwrap().lines().count(),
        2
    );
}

#[test]
fn forward_relays_accepted_requests_and_passes_the_upstream_answer_on() {
    let upstream = Listen::start(&["--api-key", "real-key"]);
    let l = Listen::start(&["--forward", &upstream.base]);
    let c = client();
    let ok = json!({"api_key": "real-key", "events": [event("fwd", "user-1", "w1")]});
    let (status, v) = post(&c, &l.url("/2/httpapi"), &ok);
    assert_eq!((status, &v["code"]), (200, &json!(200)));
    upstream.wait_line("#1 POST /2/httpapi 200");
    l.wait_line("upstream 200");
    // The upstream refuses this key: the SDK gets the upstream's answer.
    let refused = json!({"api_key": "other", "events": [event("fwd", "user-1", "w2")]});
    let (status, v) = post(&c, &l.url("/2/httpapi"), &refused);
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].as_str().unwrap().starts_with("Invalid API key"));
    // Upstream gone: the local answer.
    drop(upstream);
    let again = json!({"api_key": "real-key", "events": [event("fwd", "user-1", "w3")]});
    let (status, v) = post(&c, &l.url("/2/httpapi"), &again);
    assert_eq!((status, &v["code"]), (200, &json!(200)), "{v}");
    l.wait_line("upstream unreachable");
    assert_eq!(
        get(&c, &l.url("/streamscope/events"))["matching"],
        3,
        "every accepted event is captured locally"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_cleanly_with_totals() {
    let mut l = Listen::start(&[]);
    let c = client();
    post(
        &c,
        &l.url("/2/httpapi"),
        &json!({"api_key": "k", "events": [event("a", "user-1", "s1")]}),
    );
    let pid = l.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let line = l.wait_line("stopped:");
    assert!(line.contains("1 events captured"), "{line}");
    let status = l.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_non_loopback_address_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args(["listen", "--no-tui", "--addr", "0.0.0.0:0", "--capture"])
        .arg(dir.path().join("c.ndjson"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("warning"), "{line}");
    assert!(line.contains("0.0.0.0"), "{line}");
}

#[test]
fn without_capture_events_go_to_the_data_directory_and_the_path_is_shown() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args(["listen", "--no-tui", "--addr", "127.0.0.1:0"])
        .env("XDG_DATA_HOME", data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    for _ in 0..4 {
        out.read_line(&mut banner).unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    let dir = data.path().join("streamscope");
    let line = banner
        .lines()
        .find(|l| l.trim_start().starts_with("capture: "))
        .unwrap_or_else(|| panic!("no capture path in {banner}"));
    let path = PathBuf::from(line.trim_start().trim_start_matches("capture: "));
    assert!(path.starts_with(&dir), "{banner}");
    assert!(path.exists(), "{banner}");
}

fn post_raw(c: &reqwest::blocking::Client, url: &str, body: &str) -> (u16, Value) {
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

#[test]
fn what_is_acknowledged_is_what_the_decoder_reads_and_duplicates_are_per_device() {
    let mut l = Listen::start(&[]);
    let c = client();
    let url = l.url("/2/httpapi");
    // Events the decoder would reject are listed and not acknowledged.
    let (status, answer) = post_raw(
        &c,
        &url,
        r#"{"api_key":"k","events":[
            {"event_type":"a","user_id":"user-1","time":99999999999999999999,"insert_id":"big"},
            {"event_type":"a","user_id":"user-1","time":1700000000000,"client_event_time":"yesterday","insert_id":"cet"},
            {"event_type":"a","user_id":"user-1","time":1700000000000,"insert_id":"ok"}]}"#,
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["events_with_invalid_fields"],
        json!({"time": [0], "client_event_time": [1]}),
        "{answer}"
    );
    // The same insert_id on two devices: two events, both stored.
    let (status, answer) = post_raw(
        &c,
        &url,
        r#"{"api_key":"k","events":[
            {"event_type":"a","device_id":"deviceA","time":1700000000000,"insert_id":"same"},
            {"event_type":"a","device_id":"deviceB","time":1700000000000,"insert_id":"same"}]}"#,
    );
    assert_eq!((status, &answer["events_ingested"]), (200, &json!(2)));
    let summary = get(&c, &l.url("/streamscope/summary"));
    assert_eq!(summary["summary"]["events"], 3, "{}", summary["summary"]);
    assert_eq!(summary["summary"]["rejected"], 0);
    let events = get(&c, &l.url("/streamscope/events"));
    assert_eq!(events["matching"], 3);
    // After a restart, resending everything adds nothing.
    let capture = l.capture.clone();
    let _dir = l._dir.take();
    drop(l);
    let l = Listen::start_on(&capture, &[]);
    let (_, answer) = post_raw(
        &c,
        &l.url("/2/httpapi"),
        r#"{"api_key":"k","events":[
            {"event_type":"a","user_id":"user-1","time":1700000000000,"insert_id":"ok"},
            {"event_type":"a","device_id":"deviceA","time":1700000000000,"insert_id":"same"},
            {"event_type":"a","device_id":"deviceB","time":1700000000000,"insert_id":"same"}]}"#,
    );
    assert_eq!(answer["code"], 200);
    l.wait_line("3 already received");
    assert_eq!(
        std::fs::read_to_string(&capture).unwrap().lines().count(),
        3
    );
}

#[test]
fn api_keys_never_reach_the_rejected_requests_whatever_the_body() {
    let l = Listen::start(&[]);
    let c = client();
    let bodies: [(&str, &[u8]); 5] = [
        (
            "/2/httpapi",
            br#"{"events":[1,],"api_key":"SECRETKEY123456"}"#,
        ),
        (
            "/2/httpapi",
            b"\xef\xbb\xbf{\"api_key\":\"SECRETKEY123456\",\"events\":[]}",
        ),
        ("/", b"cli%65nt=SECRETKEY123456&e=%5B%5D"),
        (
            "/2/httpapi",
            br#"{"api_key":"SECRETKEY123456","events":[{}],"api_key":"SECRETKEY123456"}"#,
        ),
        ("/2/httpapi", br#"{"api_key":"SEC1","events":[{}]}"#),
    ];
    for (path, body) in bodies {
        let r = c.post(l.url(path)).body(body.to_vec()).send().unwrap();
        assert_eq!(
            r.status().as_u16(),
            400,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let rejected = c
        .get(l.url("/streamscope/rejected"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let list: Value = serde_json::from_str(&rejected).unwrap();
    assert_eq!(list["rejected"].as_array().unwrap().len(), 5, "{list}");
    assert!(!rejected.contains("SECRETKEY"), "{rejected}");
    assert!(!rejected.contains("SEC1"), "{rejected}");
}

#[test]
fn the_query_api_refuses_other_origins_and_other_host_names() {
    let l = Listen::start(&[]);
    let c = client();
    let port = l.base.rsplit(':').next().unwrap().to_string();
    // A page on another origin: no CORS on the query API, and its requests are refused.
    let r = c
        .request(reqwest::Method::OPTIONS, l.url("/streamscope/reset"))
        .header("origin", "http://evil.test")
        .header("access-control-request-method", "POST")
        .send()
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let (status, _) = post(
        &c,
        &l.url("/2/httpapi"),
        &json!({"api_key": "k", "events": [event("a", "user-1", "i1")]}),
    );
    assert_eq!(status, 200);
    for origin in ["http://evil.test", "null", "http://127.0.0.1:1"] {
        let r = c
            .post(l.url("/streamscope/reset"))
            .header("origin", origin)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{origin}");
        assert!(r.headers().get("access-control-allow-origin").is_none());
        let v: Value = r.json().unwrap();
        assert_eq!(v["code"], 403);
        let r = c
            .get(l.url("/streamscope/events"))
            .header("origin", origin)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{origin}");
    }
    // DNS rebinding: a name that is not this server's.
    for host in [
        format!("rebind.evil.test:{port}"),
        "127.0.0.1:1".to_string(),
        format!("127.0.0.1.evil.test:{port}"),
    ] {
        let r = c
            .get(l.url("/streamscope/summary"))
            .header("host", &host)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{host}");
    }
    // Nothing was reset.
    assert_eq!(get(&c, &l.url("/streamscope/events"))["matching"], 1);
    // Its own names, with or without its own origin, are answered.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let r = c
            .get(l.url("/streamscope/events"))
            .header("host", &host)
            .header("origin", format!("http://{host}"))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{host}");
    }
    // Ingestion still takes any origin.
    let r = c
        .post(l.url("/2/httpapi"))
        .header("origin", "http://app.test")
        .json(&json!({"api_key": "k", "events": [event("a", "user-1", "i2")]}))
        .send()
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://app.test"
    );
}

/// Sends raw bytes on a fresh connection and reads the answer until the server closes
/// or the answer's body is complete.
fn raw_exchange(base: &str, request: &[u8]) -> String {
    use std::io::Read as _;
    let addr = base.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request)
        .expect("the whole request is read, not refused midway");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&out);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && let Some(len) = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_string)
            })
            && body.len() >= len.trim().parse::<usize>().unwrap()
        {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn error_answers_arrive_and_are_json() {
    let l = Listen::start(&[]);
    // A body over the limit, sent whole: the client reads a 413, not a broken pipe.
    let body = vec![b' '; 3_000_000];
    let mut req = format!(
        "POST /2/httpapi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let answer = raw_exchange(&l.base, &req);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":413"#), "{answer}");
    // A malformed chunked body is a 400.
    let answer = raw_exchange(
        &l.base,
        b"POST /2/httpapi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#""code":400"#), "{answer}");
    // A malformed query parameter: the JSON error every answer is.
    let c = client();
    let r = c
        .get(l.url("/streamscope/events?limit=many"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().unwrap();
    assert_eq!(v["code"], 400, "{v}");
}

#[test]
fn a_host_name_address_is_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args([
            "listen",
            "--no-tui",
            "--addr",
            "localhost:8788",
            "--timeout",
            "1ns",
            "--capture",
        ])
        .arg(dir.path().join("c.ndjson"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shorter than 1 ms"), "{err}");
    assert!(
        !err.contains("--addr"),
        "localhost:8788 is an address: {err}"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_streamscope"))
        .args(["listen", "--no-tui", "--addr", "localhost:0", "--capture"])
        .arg(dir.path().join("c.ndjson"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        banner.starts_with("streamscope listening on http://127.0.0.1:")
            || banner.starts_with("streamscope listening on http://[::1]:"),
        "{banner}"
    );
}

#[test]
fn extreme_times_are_acknowledged_summarised_and_resumed() {
    let mut l = Listen::start(&[]);
    let c = client();
    let (status, answer) = post_raw(
        &c,
        &l.url("/2/httpapi"),
        r#"{"api_key":"k","events":[
            {"event_type":"a","user_id":"user-1","time":-9223372036854775807,"session_id":1},
            {"event_type":"a","user_id":"user-1","time":9223372036854775807,"session_id":1}]}"#,
    );
    assert_eq!(status, 200, "{answer}");
    for format in ["json", "text"] {
        let r = c
            .get(l.url(&format!("/streamscope/summary?format={format}")))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{format}");
    }
    let capture = l.capture.clone();
    let _dir = l._dir.take();
    drop(l);
    let l = Listen::start_on(&capture, &[]);
    let summary = get(&c, &l.url("/streamscope/summary"));
    assert_eq!(summary["summary"]["events"], 2, "{}", summary["summary"]);
}

#[test]
fn the_legacy_amplitude_js_body_keeps_its_timestamps_and_its_resends_are_recognised_by_uuid() {
    let l = Listen::start(&[]);
    let c = client();
    // What amplitude-js posts: `timestamp` and `uuid`, no `time`, no `insert_id`.
    let legacy = |user: &str, uuid: &str, ts: i64| {
        json!({"device_id": "s47CVQznR9ch-EMzttd0_4", "user_id": user, "timestamp": ts,
               "event_id": 1, "session_id": 1_700_000_000_000_i64, "event_type": "Page Loaded",
               "uuid": uuid, "library": {"name": "amplitude-js", "version": "8.21.10"},
               "sequence_number": 1})
    };
    let body = |events: Value| -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("client", "KEY")
            .append_pair("e", &events.to_string())
            .append_pair("v", "2")
            .append_pair("upload_time", "1700000009000")
            .append_pair("checksum", "0123")
            .finish()
    };
    let send = |events: Value| {
        let r = c
            .post(l.url("/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body(events))
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let events = json!([
        legacy(
            "user-legacy-1",
            "7f7c1c9e-0000-4000-8000-000000000001",
            1_700_000_000_000
        ),
        legacy(
            "user-legacy-1",
            "7f7c1c9e-0000-4000-8000-000000000002",
            1_700_000_003_100
        )
    ]);
    assert_eq!(send(events.clone()), (200, "success".to_string()));
    // A lost answer: the SDK sends the same events again.
    assert_eq!(send(events), (200, "success".to_string()));
    // A 2-character user id is fine on the legacy endpoint.
    assert_eq!(
        send(json!([legacy(
            "42",
            "7f7c1c9e-0000-4000-8000-000000000003",
            1_700_000_004_000
        )]))
        .0,
        200
    );
    let stored = get(&c, &l.url("/streamscope/events"));
    let events = stored["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{stored}");
    // The client's times are kept: no receive time was added over `timestamp`.
    assert!(events.iter().all(|e| e.get("time").is_none()), "{stored}");
    let summary = get(&c, &l.url("/streamscope/summary"));
    assert_eq!(summary["summary"]["events"], 3);
    assert_eq!(summary["summary"]["duplicate_events"], 0);
}

/// A `listen` whose limits come from a config file's `[listen]` table.
fn listen_with_limits(limits: &str) -> (Listen, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, format!("[listen]\n{limits}")).unwrap();
    let l = Listen::start(&["--config", cfg.to_str().unwrap()]);
    (l, dir)
}

fn connect(base: &str) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(base.strip_prefix("http://").unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Reads until the server closes the connection (or the read timeout), returning what came.
fn read_to_close(s: &mut std::net::TcpStream) -> String {
    use std::io::Read as _;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_stalled_body_is_answered_408_and_an_idle_connection_is_closed() {
    let (l, _cfg) = listen_with_limits("body_timeout = \"300ms\"\nidle_timeout = \"1s\"\n");
    // Headers promise 100 bytes; 10 arrive, then nothing.
    let mut s = connect(&l.base);
    s.write_all(b"POST /2/httpapi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"events\":")
        .unwrap();
    let answer = read_to_close(&mut s);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":408"#), "{answer}");
    l.wait_line("408");
    // A connection that never sends a byte is closed after the idle timeout, with nothing
    // written to it.
    let mut idle = connect(&l.base);
    let started = Instant::now();
    assert_eq!(read_to_close(&mut idle), "");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "closed by the server's idle limit, not the test's read timeout"
    );
    // The endpoint still answers.
    let (code, _) = post(
        &client(),
        &l.url("/2/httpapi"),
        &json!({"api_key": "k", "events": [event("a", "user-1", "i1")]}),
    );
    assert_eq!(code, 200);
}

#[test]
fn bodies_over_the_budget_in_flight_get_503_with_retry_after() {
    let (l, _cfg) = listen_with_limits("body_budget = \"64KiB\"\nbody_timeout = \"20s\"\n");
    // One request holds 60 KiB of its (unfinished) body.
    let mut holder = connect(&l.base);
    holder
        .write_all(b"POST /batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n")
        .unwrap();
    holder.write_all(&vec![b' '; 60 * 1024]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A second body of 10 KiB would take the total over 64 KiB.
    let mut body = br#"{"api_key":"k","events":[]}"#.to_vec();
    body.resize(10 * 1024, b' ');
    let mut req = format!(
        "POST /batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let answer = raw_exchange(&l.base, &req);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(answer.contains(r#""code":503"#), "{answer}");
    // Once the holder is gone, its share is given back: the same body is accepted.
    drop(holder);
    std::thread::sleep(Duration::from_millis(300));
    let c = client();
    let (code, _) = post(
        &c,
        &l.url("/batch"),
        &json!({"api_key": "k", "events": [event("a", "user-1", "i1")]}),
    );
    assert_eq!(code, 200);
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let (l, _cfg) = listen_with_limits("max_connections = 2\n");
    let held: Vec<_> = (0..2).map(|_| connect(&l.base)).collect();
    std::thread::sleep(Duration::from_millis(300));
    // A third connection is accepted by the kernel but not served while two are held.
    let base = l.base.clone();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let answer = raw_exchange(
            &base,
            b"GET /streamscope/summary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        );
        let _ = tx.send(answer);
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(1)).is_err(),
        "served beyond the cap"
    );
    drop(held);
    let answer = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("served once a connection closed");
    assert!(
        answer.starts_with("HTTP/1.1 403") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
}

#[test]
fn a_wrong_method_is_a_json_405_naming_the_right_one() {
    let l = Listen::start(&[]);
    let c = client();
    for (method, path, allowed) in [
        (reqwest::Method::GET, "/2/httpapi", "POST"),
        (reqwest::Method::PUT, "/batch", "POST"),
        (reqwest::Method::POST, "/streamscope/summary", "GET"),
        (reqwest::Method::GET, "/streamscope/reset", "POST"),
    ] {
        let r = c.request(method.clone(), l.url(path)).send().unwrap();
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allowed, "{method} {path}");
        assert_eq!(r.headers()["content-type"], "application/json");
        let v: Value = r.json().unwrap();
        assert_eq!(v["code"], 405, "{v}");
        assert!(
            v["error"].as_str().unwrap().contains(allowed),
            "{method} {path}: {v}"
        );
    }
}

#[test]
fn bad_limits_in_the_config_file_are_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("max_connections = 0", "listen.max_connections"),
        ("idle_timeout = \"0s\"", "listen.idle_timeout"),
        ("body_timeout = \"soon\"", "listen.body_timeout"),
        ("body_budget = \"lots\"", "listen.body_budget"),
    ] {
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, format!("[listen]\n{text}\n")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_streamscope"))
            .args(["listen", "--no-tui", "--addr", "127.0.0.1:0", "--config"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("c.toml:2: {key}")), "{text}: {err}");
    }
}
