//! The HTTP routes: ingestion (`POST /2/httpapi`, `/batch`, `/`) with CORS (any web page
//! may send events, as to Amplitude), and the query API under `/streamscope/` for
//! automated instrumentation tests, which is not for web pages: it answers no CORS
//! preflight, refuses a request whose `Origin` is not the server's own (a page in the
//! developer's browser cannot read events or reset the capture) and one whose `Host` does
//! not name the address served (DNS rebinding: a name that resolves to 127.0.0.1 but is
//! not `localhost` or an IP address).
//!
//! Handlers are thin: [`crate::listen::request::check`] decides, [`super::capture::Capture`]
//! writes, [`crate::listen::shared::LiveState`] counts; the query API renders with the same
//! `report` code as the command line.

use std::io::Read as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use super::Shared;
use crate::listen::request::{self, Answer, Endpoint, Outcome};
use crate::listen::shared::{KEEP_BODY, RejectedRequest};
use crate::report::{Format, Output};

/// The router over the shared state.
pub fn router(shared: Arc<Shared>) -> Router {
    // Every route answers other methods with the JSON 405 (inside the CORS layer, so a
    // preflight still gets its 204).
    let ingest = Router::new()
        .route(
            "/2/httpapi",
            post(ingest_route).fallback(method_not_allowed),
        )
        .route(
            "/2/httpapi/",
            post(ingest_route).fallback(method_not_allowed),
        )
        .route("/batch", post(ingest_route).fallback(method_not_allowed))
        .route(
            "/",
            post(ingest_route).get(index).fallback(method_not_allowed),
        )
        .layer(middleware::from_fn(cors));
    let query = Router::new()
        .route(
            "/streamscope/summary",
            get(summary).fallback(method_not_allowed),
        )
        .route(
            "/streamscope/events",
            get(events).fallback(method_not_allowed),
        )
        .route(
            "/streamscope/rejected",
            get(rejected).fallback(method_not_allowed),
        )
        .route(
            "/streamscope/reset",
            post(reset).fallback(method_not_allowed),
        )
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            same_origin_only,
        ));
    Router::new()
        .merge(ingest)
        .merge(query)
        .fallback(not_found)
        .with_state(shared)
}

/// Whether `host` (a `Host` header, or an `Origin` without its scheme) names the address
/// `served`: the same port, and `localhost`, a loopback IP address, or, when serving on
/// another address, that address (any IP address when serving on all of them). A DNS name
/// other than `localhost` never does: that is what DNS rebinding would send.
#[must_use]
pub fn host_allowed(host: &str, served: std::net::SocketAddr) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !port.contains(']') => (name, port.parse::<u16>().ok()),
        _ => (host, Some(80)),
    };
    if port != Some(served.port()) {
        return false;
    }
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    match name.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback() || served.ip().is_unspecified() || ip == served.ip(),
        Err(_) => false,
    }
}

/// Guards `/streamscope/*`: `Host` must name the address served and `Origin`, when
/// present, must be the server's own (`http://` + such a host); otherwise 403.
async fn same_origin_only(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            req.uri()
                .authority()
                .map(axum::http::uri::Authority::as_str)
        });
    if !host.is_some_and(|h| host_allowed(h, shared.addr)) {
        return answer(&Answer::error(
            403,
            format!(
                "the Host header '{}' does not name this server ({}, localhost or a loopback address): /streamscope/ refuses it (DNS rebinding protection)",
                crate::fmt::sanitize(host.unwrap_or("")),
                shared.addr
            ),
        ));
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let own = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|h| host_allowed(h, shared.addr));
        if !own {
            return answer(&Answer::error(
                403,
                format!(
                    "cross-origin request refused: /streamscope/ answers only its own origin, not '{}'",
                    crate::fmt::sanitize(&String::from_utf8_lossy(origin.as_bytes()))
                ),
            ));
        }
    }
    next.run(req).await
}

/// Seconds a client is asked to wait before retrying a 503.
const RETRY_AFTER_S: &str = "1";

/// A JSON answer; a 503 also says when to retry (`Retry-After`).
fn json(status: u16, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == 503 {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
    }
    r
}

fn answer(a: &Answer) -> Response {
    json(a.code, a.to_json())
}

/// CORS for browsers on the ingestion paths: preflights get 204 with the allowed origin,
/// the requested headers echoed and `POST`; every ingestion answer carries
/// `Access-Control-Allow-Origin`. Without it the
/// browser SDK never sends (see `SDK-BEHAVIOUR.md`).
async fn cors(req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    if req.method() == Method::OPTIONS {
        let allow_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("content-type, content-encoding"));
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        return r;
    }
    let mut r = next.run(req).await;
    r.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    r
}

async fn not_found(req: Request) -> Response {
    answer(&Answer::error(
        404,
        format!(
            "no such endpoint: {} {} (ingestion: POST /2/httpapi, /batch or /; queries: GET /streamscope/summary, /streamscope/events, /streamscope/rejected; POST /streamscope/reset)",
            req.method(),
            crate::fmt::sanitize(req.uri().path())
        ),
    ))
}

/// A known path with another method: 405 in the same JSON shape as every other answer,
/// naming the method the path takes.
async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path();
    let allowed = if path.starts_with("/streamscope/reset") {
        "POST"
    } else if path.starts_with("/streamscope/") {
        "GET"
    } else {
        "POST"
    };
    let mut r = answer(&Answer::error(
        405,
        format!(
            "{} is not allowed on {}: use {allowed}",
            req.method(),
            crate::fmt::sanitize(path)
        ),
    ));
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed));
    r
}

async fn index() -> Response {
    answer(&Answer::error(
        405,
        "this is streamscope's ingestion endpoint: POST events to /2/httpapi, /batch or / (form)",
    ))
}

/// Longest wait for the next piece of a request body, by default.
pub const BODY_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// Most bytes of request bodies held at once, all requests together (before gzip), by
/// default.
pub const BODY_BUDGET: usize = 256 * 1024 * 1024;

/// The bytes of request bodies held right now, against [`super::Limits::body_budget`].
#[derive(Debug, Default)]
pub struct BodyBudget(std::sync::atomic::AtomicUsize);

/// One body's share of the [`BodyBudget`], given back when dropped.
struct Held<'a> {
    budget: &'a BodyBudget,
    /// The budget's size.
    limit: usize,
    bytes: usize,
}

impl BodyBudget {
    fn hold(&self, limit: usize) -> Held<'_> {
        Held {
            budget: self,
            limit,
            bytes: 0,
        }
    }
}

impl Held<'_> {
    /// Takes `n` more bytes; false (taking nothing) when the budget would be exceeded.
    fn grow(&mut self, n: usize) -> bool {
        let total = &self.budget.0;
        let before = total.fetch_add(n, Ordering::SeqCst);
        if before.saturating_add(n) > self.limit {
            total.fetch_sub(n, Ordering::SeqCst);
            return false;
        }
        self.bytes += n;
        true
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.budget.0.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

/// How much of a body over the limit is read and thrown away before the 413 is sent, so
/// that the client, still sending, reads the answer instead of a broken pipe (and the SDK
/// splits its batch instead of retrying it whole). Beyond it, the 413 goes out with
/// `Connection: close`.
const DRAIN_MAX: usize = 64 * 1024 * 1024;

/// Reads the body (un-gzipped when `Content-Encoding: gzip`), at most `limit` bytes.
/// `Err` is the outcome to answer instead: 413 over the limit (after draining the rest,
/// up to [`DRAIN_MAX`]), 400 when the body cannot be read (a malformed chunked body, a
/// connection cut mid-body).
///
/// Bytes held are counted against the body budget (all bodies in flight together,
/// [`super::Limits::body_budget`]): a body that would take it over is answered 503 with
/// `Retry-After` (the SDKs retry), and a body that sends nothing for
/// [`super::Limits::body_idle`] is answered 408.
async fn read_body(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    shared: &Shared,
) -> Result<Bytes, Outcome> {
    use http_body_util::BodyExt as _;
    let mut buf: Vec<u8> = Vec::new();
    let mut over = 0usize;
    let limits = shared.limits;
    let mut held = shared.body_budget.hold(limits.body_budget);
    loop {
        let Ok(frame) = tokio::time::timeout(limits.body_idle, body.frame()).await else {
            return Err(Outcome {
                answer: Answer::error(408, "Request timeout: the body stopped arriving"),
                reasons: vec![format!(
                    "no body bytes for {}",
                    crate::fmt::duration(
                        i64::try_from(limits.body_idle.as_millis()).unwrap_or(i64::MAX)
                    )
                )],
                ..Outcome::default()
            });
        };
        let Some(frame) = frame else { break };
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                let mut o = Outcome {
                    answer: Answer::error(400, "Invalid request body"),
                    ..Outcome::default()
                };
                o.reasons
                    .push(format!("the body could not be read in full: {e}"));
                return Err(o);
            }
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if over > 0 || buf.len() + data.len() > limit {
            over = over.saturating_add(buf.len() + data.len());
            buf = Vec::new();
            if over > DRAIN_MAX {
                break;
            }
            continue;
        }
        if !held.grow(data.len()) {
            return Err(Outcome {
                answer: Answer::error(
                    503,
                    "Service busy: too many request bodies in flight, retry later",
                ),
                reasons: vec![format!(
                    "the budget of {} bytes for bodies in flight is used up",
                    limits.body_budget
                )],
                ..Outcome::default()
            });
        }
        buf.extend_from_slice(&data);
    }
    if over > 0 {
        return Err(request::too_large(&format!("over the {limit} byte limit")));
    }
    let raw = Bytes::from(buf);
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    // Also gzip when the magic says so (a proxy that dropped the header).
    if !gzip && !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    let mut dec = flate2::read::MultiGzDecoder::new(&raw[..]).take(limit as u64 + 1);
    if let Err(e) = dec.read_to_end(&mut out) {
        let mut o = Outcome {
            answer: Answer::error(400, "Invalid gzip request body"),
            ..Outcome::default()
        };
        o.reasons
            .push(format!("the gzip body cannot be decompressed: {e}"));
        return Err(o);
    }
    if out.len() > limit {
        return Err(request::too_large(&format!(
            "over the {limit} byte limit once decompressed"
        )));
    }
    Ok(out.into())
}

async fn ingest_route(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let started = Instant::now();
    let now_ms = super::now_ms();
    let path = req.uri().path().to_string();
    let method = req.method().to_string();
    let endpoint = Endpoint::from_path(&path).unwrap_or(Endpoint::HttpApi);
    let (parts, body) = req.into_parts();
    let seq = shared
        .live
        .counters
        .requests
        .fetch_add(1, Ordering::Relaxed)
        + 1;
    let body = read_body(&parts.headers, body, endpoint.max_bytes(), &shared).await;
    let (outcome, body) = match body {
        Ok(bytes) => (
            request::check(&bytes, endpoint, &shared.settings, now_ms),
            bytes,
        ),
        Err(o) => (o, Bytes::new()),
    };
    shared
        .live
        .counters
        .bytes
        .fetch_add(body.len() as u64, Ordering::Relaxed);
    let mut written = super::capture::Appended::default();
    let mut failure = None;
    if !outcome.lines.is_empty() {
        let mut capture = shared
            .capture
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match capture.append(&outcome.capture, &outcome.lines) {
            Ok(w) => written = w,
            Err(e) => failure = Some(e),
        }
        drop(capture);
        shared.live.wake.notify();
    }
    let counters = &shared.live.counters;
    counters
        .events
        .fetch_add(written.written as u64, Ordering::Relaxed);
    counters
        .duplicates
        .fetch_add(written.duplicates as u64, Ordering::Relaxed);
    if let Some(e) = failure {
        // Nothing acknowledged may be lost: if the capture cannot be written, say so and
        // let the SDK retry.
        let a = Answer::error(500, format!("the capture file cannot be written: {e}"));
        counters.rejected_requests.fetch_add(1, Ordering::Relaxed);
        shared.log(&super::LogLine {
            seq,
            method: &method,
            path: &path,
            status: 500,
            events: outcome.events,
            written: 0,
            duplicates: 0,
            bytes: body.len(),
            reasons: &[format!("capture write failed: {e}")],
            took: started.elapsed(),
            upstream: None,
        });
        return answer(&a);
    }
    let rejected_events = outcome.events.saturating_sub(outcome.accepted());
    counters
        .rejected_events
        .fetch_add(rejected_events as u64, Ordering::Relaxed);
    if outcome.status() != 200 {
        counters.rejected_requests.fetch_add(1, Ordering::Relaxed);
        let shown = request::redact_api_key(&body);
        let keep = shown.len().min(KEEP_BODY);
        shared.live.push_rejected(RejectedRequest {
            request: seq,
            at_ms: now_ms,
            method: method.clone(),
            path: path.clone(),
            status: outcome.status(),
            error: outcome.answer.error.clone().unwrap_or_default(),
            reasons: outcome.reasons.clone(),
            events: outcome.events,
            kept: outcome.accepted(),
            body: Arc::from(&shown[..keep]),
            body_len: shown.len(),
        });
    }
    let mut upstream = None;
    if let Some(fwd) = &shared.forward
        && outcome.accepted() > 0
    {
        upstream = Some(fwd.relay(&path, &parts.headers, body.clone()).await);
    }
    let response = match &upstream {
        Some(Ok(reply)) => {
            let mut r = Response::new(Body::from(reply.body.clone()));
            *r.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
            if let Some(ct) = &reply.content_type {
                r.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
            }
            r
        }
        // The legacy endpoint answers as Amplitude's does: the body `success`, the only
        // answer amplitude-js before 8.21.4 and the legacy Android SDK take as one (JSON
        // makes them keep and resend their queue forever).
        _ if endpoint == Endpoint::Form && outcome.status() == 200 => {
            let mut r = Response::new(Body::from("success"));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
        _ => {
            let mut r = answer(&outcome.answer);
            if outcome.status() == 413 {
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            r
        }
    };
    shared.log(&super::LogLine {
        seq,
        method: &method,
        path: &path,
        status: outcome.status(),
        events: outcome.events,
        written: written.written,
        duplicates: written.duplicates,
        bytes: body.len(),
        reasons: &outcome.reasons,
        took: started.elapsed(),
        upstream: upstream.as_ref(),
    });
    response
}

#[derive(serde::Deserialize, Default)]
struct SummaryQuery {
    timeout: Option<String>,
    gap: Option<String>,
    user: Option<String>,
    format: Option<String>,
}

/// A query string that does not parse, as the JSON error every answer is.
fn bad_query(e: &axum::extract::rejection::QueryRejection) -> Response {
    answer(&Answer::error(
        400,
        format!("invalid query string: {}", e.body_text()),
    ))
}

async fn summary(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<SummaryQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(&e),
    };
    let mut rules = shared.rules.clone();
    for (value, slot) in [
        (&q.timeout, &mut rules.timeout_ms),
        (&q.gap, &mut rules.gap_ms),
    ] {
        if let Some(text) = value {
            match crate::fmt::parse_duration(text) {
                Ok(ms) => *slot = ms,
                Err(e) => return answer(&Answer::error(400, e)),
            }
        }
    }
    let format = match q.format.as_deref() {
        None => Format::Json,
        Some(name) => match Format::from_name(name) {
            Some(format) => format,
            None => {
                return answer(&Answer::error(
                    400,
                    format!(
                        "unknown format '{}': json or text",
                        crate::fmt::sanitize(name)
                    ),
                ));
            }
        },
    };
    shared
        .live
        .counters
        .requests
        .fetch_add(1, Ordering::Relaxed);
    let work = move || -> Result<Vec<u8>, Box<Answer>> {
        // Snapshot under the lock, analyse without it: ingestion is not held up.
        let snapshot = shared
            .capture
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .snapshot();
        let store = &*snapshot;
        let analysis = crate::analysis::Analysis::compute(store, &rules);
        let query = match &q.user {
            Some(key) => Some(
                crate::report::UserQuery::find(&analysis, store, key).ok_or_else(|| {
                    Box::new(Answer::error(
                        404,
                        format!(
                            "no user id, device id or Amplitude id '{}' received",
                            crate::fmt::sanitize(key)
                        ),
                    ))
                })?,
            ),
            None => None,
        };
        let output = Output {
            format,
            ..Output::default()
        };
        let mut out = Vec::new();
        crate::report::write(store, &analysis, &output, query.as_ref(), &mut out)
            .map_err(|e| Box::new(Answer::error(500, e.to_string())))?;
        Ok(out)
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(out)) => {
            let mut r = Response::new(Body::from(out));
            let ct = if format == Format::Json {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            r
        }
        Ok(Err(a)) => answer(&a),
        Err(e) => answer(&Answer::error(500, format!("the summary failed: {e}"))),
    }
}

#[derive(serde::Deserialize, Default)]
struct EventsQuery {
    user: Option<String>,
    event_type: Option<String>,
    limit: Option<usize>,
}

/// Default and largest `limit` of `/streamscope/events`.
const EVENTS_LIMIT: (usize, usize) = (1000, 100_000);

async fn events(
    State(shared): State<Arc<Shared>>,
    q: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(&e),
    };
    shared
        .live
        .counters
        .requests
        .fetch_add(1, Ordering::Relaxed);
    let limit = q.limit.unwrap_or(EVENTS_LIMIT.0).min(EVENTS_LIMIT.1);
    let work = move || -> Result<String, String> {
        let capture = shared
            .capture
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let store = &capture.store;
        let sym = |text: &Option<String>| text.as_deref().map(|t| store.strings.lookup(t));
        let event_type = sym(&q.event_type);
        let user = sym(&q.user);
        let mut matching = 0usize;
        let mut locs = Vec::new();
        for (i, e) in store.events().iter().enumerate() {
            if let Some(t) = event_type
                && t != Some(e.event_type)
            {
                continue;
            }
            if let Some(u) = user {
                let Some(u) = u else { continue };
                let ids = store.ids(e);
                if ids.user_id != u && ids.device_id != u && ids.amplitude_id != u {
                    continue;
                }
            }
            matching += 1;
            if locs.len() < limit
                && let Some(loc) = store.raw(crate::index::EventIx::from_usize(i))
            {
                locs.push(loc);
            }
        }
        let raws = crate::source::raw::read_many(store, &locs);
        drop(capture);
        let mut out = String::with_capacity(raws.len() * 512 + 64);
        out.push_str("{\"events\":[");
        for (i, raw) in raws.into_iter().enumerate() {
            let raw = raw.map_err(|e| format!("reading the capture failed: {e}"))?;
            if i > 0 {
                out.push(',');
            }
            out.push_str(&String::from_utf8_lossy(&raw));
        }
        let returned = locs.len();
        out.push_str(&format!(
            "],\"returned\":{returned},\"matching\":{matching},\"truncated\":{}}}",
            returned < matching
        ));
        Ok(out)
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(body)) => json(200, body),
        Ok(Err(e)) => answer(&Answer::error(500, e)),
        Err(e) => answer(&Answer::error(500, format!("the query failed: {e}"))),
    }
}

async fn rejected(State(shared): State<Arc<Shared>>) -> Response {
    shared
        .live
        .counters
        .requests
        .fetch_add(1, Ordering::Relaxed);
    let list: Vec<serde_json::Value> = shared
        .live
        .rejected()
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "request": r.request,
                "received_at": request::received_time(r.at_ms),
                "method": r.method,
                "path": r.path,
                "status": r.status,
                "error": r.error,
                "reasons": r.reasons,
                "events": r.events,
                "kept": r.kept,
                "body": String::from_utf8_lossy(&r.body),
                "body_bytes": r.body_len,
                "body_truncated": r.body.len() < r.body_len,
            })
        })
        .collect();
    let total = shared
        .live
        .counters
        .rejected_requests
        .load(Ordering::Relaxed);
    json(
        200,
        serde_json::json!({"rejected": list, "total": total}).to_string(),
    )
}

/// `POST /streamscope/reset`: archives the capture and starts afresh. The archive, the
/// new file and the shared counters change under the capture's lock, so a reset is
/// serialised with appends (an acknowledged request is in exactly one file) and with
/// other resets.
async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    let outcome = {
        let mut capture = shared
            .capture
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let done = capture.reset(&super::archive_stamp());
        if done.is_ok() {
            shared.live.reset(capture.path().to_path_buf());
        }
        done
    };
    match outcome {
        Ok(archive) => {
            shared.note(&format!(
                "reset: earlier events archived to {}",
                archive.display()
            ));
            json(
                200,
                serde_json::json!({"code": 200, "archived": archive.display().to_string()})
                    .to_string(),
            )
        }
        Err(e) => answer(&Answer::error(
            500,
            format!("the capture could not be archived: {e}"),
        )),
    }
}
