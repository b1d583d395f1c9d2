//! One GET to Amplitude: the keys as HTTP Basic credentials with the first request,
//! Amplitude's documented limits, bounded retries, and the words for each failure.
//!
//! - User search and user activity share a limit of 360 queries per hour and 10 at a
//!   time per project. Requests are made one at a time (so at most one is in flight),
//!   and a process-wide [`RateWindow`] waits before a 361st query within an hour.
//! - 429: wait as `Retry-After` says (seconds or an HTTP date; 30 s without one, at most
//!   an hour), at most [`MAX_TRIES_429`] tries; each wait is told.
//! - 5xx and network errors: at most [`MAX_TRIES`] tries, waiting the first retry delay
//!   (1 s, or `STREAMSCOPE_AMPLITUDE_BACKOFF_MS`) doubled each time; each wait is told.
//! - Anything else (400, 401, 403, 404, …) is not retried: the caller says what it means.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{BACKOFF_VAR, Endpoint, Keys, Region};

/// Tries of one request after 5xx answers or network errors.
pub const MAX_TRIES: u32 = 4;
/// Tries of one request answered 429.
pub const MAX_TRIES_429: u32 = 6;
/// The wait after a 429 without `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The longest wait after a 429.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// User search and user activity queries per hour (Amplitude's documented limit).
pub const QUERIES_PER_HOUR: usize = 360;
/// The time a user search or user activity query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(120);

/// The queries made in the last hour, to stay within `QUERIES_PER_HOUR`.
#[derive(Debug, Default)]
pub struct RateWindow {
    sent: VecDeque<Instant>,
}

impl RateWindow {
    /// How long to wait at `now` before the next query may be sent (zero: now, and it
    /// is counted as sent).
    pub fn admit(&mut self, now: Instant, per_hour: usize) -> Duration {
        let hour = Duration::from_secs(3600);
        while self
            .sent
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= hour)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= per_hour.max(1)
            && let Some(&oldest) = self.sent.front()
        {
            return (oldest + hour).saturating_duration_since(now);
        }
        self.sent.push_back(now);
        Duration::ZERO
    }
}

static WINDOW: Mutex<RateWindow> = Mutex::new(RateWindow {
    sent: VecDeque::new(),
});

/// `key:secret` in Base64, as HTTP Basic credentials carry it.
#[must_use]
pub fn basic_credentials(key: &str, secret: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{key}:{secret}");
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `250 ms`, `2 s`, `1 min 30 s`.
#[must_use]
pub fn wait_text(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if d < Duration::from_secs(120) {
        format!("{} s", d.as_secs_f64().round())
    } else {
        let s = d.as_secs();
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// Why a request did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The fetch was asked to stop.
    Stopped,
    /// An answer that is not a success (after the retries its status allows).
    Status {
        /// The HTTP status.
        code: u16,
        /// Its reason phrase.
        reason: String,
        /// The start of the answer's body.
        body: String,
        /// Tries made.
        tries: u32,
    },
    /// No answer (after the retries).
    Network {
        /// Why, URL-free.
        reason: String,
        /// Tries made.
        tries: u32,
    },
}

/// One request.
pub struct Call<'a> {
    /// The endpoint under `/api/2/`: `usersearch`, `useractivity`, `export`.
    pub path: &'a str,
    /// Query parameters (percent-encoded on the wire).
    pub query: Vec<(&'a str, String)>,
    /// What it is, for messages: `the user search for 'bob'`.
    pub what: String,
    /// It counts towards the user search / user activity limit (and has a timeout).
    pub limited: bool,
}

/// The API: where, with which keys, through which client.
pub struct Api {
    /// Where it is.
    pub endpoint: Endpoint,
    keys: Keys,
    client: reqwest::blocking::Client,
    backoff: Duration,
}

impl Api {
    /// Where the environment and the command line say, with the environment's keys.
    ///
    /// # Errors
    /// Missing keys or an unusable location, in words.
    pub fn from_env() -> Result<Self, String> {
        let endpoint = Endpoint::from_env()?;
        let keys = Keys::from_env()?;
        let backoff = std::env::var(BACKOFF_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(Duration::from_secs(1), Duration::from_millis);
        Self::new(endpoint, keys, backoff)
    }

    /// An API at `endpoint` with `keys`; retries start after `backoff`.
    ///
    /// # Errors
    /// When no HTTP client can be set up.
    pub fn new(endpoint: Endpoint, keys: Keys, backoff: Duration) -> Result<Self, String> {
        super::super::ensure_tls_provider();
        let client = reqwest::blocking::Client::builder()
            .timeout(None)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("streamscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up an HTTP client: {}", reason(&e)))?;
        Ok(Self {
            endpoint,
            keys,
            client,
            backoff,
        })
    }

    /// `text` without the keys.
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        self.keys.scrub(text)
    }

    /// Sends `call`, retrying as the module docs say; `tell` hears of every wait.
    ///
    /// # Errors
    /// The `Failure` after the retries allowed.
    pub fn get(
        &self,
        call: &Call<'_>,
        stop: &AtomicBool,
        tell: &mut dyn FnMut(String),
    ) -> Result<reqwest::blocking::Response, Failure> {
        let mut url = self
            .endpoint
            .base
            .join(call.path)
            .map_err(|e| Failure::Network {
                reason: format!("cannot form the URL of {}: {e}", call.path),
                tries: 0,
            })?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &call.query {
                q.append_pair(k, v);
            }
        }
        let mut auth = reqwest::header::HeaderValue::from_str(&format!(
            "Basic {}",
            basic_credentials(&self.keys.api_key, &self.keys.secret)
        ))
        .map_err(|_| Failure::Network {
            reason: "the keys hold characters an HTTP header cannot carry".to_string(),
            tries: 0,
        })?;
        auth.set_sensitive(true);
        let (mut tries, mut tries_429) = (0u32, 0u32);
        let mut delay = self.backoff;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Err(Failure::Stopped);
            }
            if call.limited {
                self.wait_for_window(stop, tell)?;
            }
            tries += 1;
            let mut request = self
                .client
                .get(url.clone())
                .header(reqwest::header::AUTHORIZATION, auth.clone());
            if call.limited {
                request = request.timeout(QUERY_TIMEOUT);
            }
            let why = match request.send() {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let code = status.as_u16();
                    let reason = status.canonical_reason().unwrap_or("").to_string();
                    let retry_after = retry_after(&response);
                    let body = body_start(response);
                    let failure = Failure::Status {
                        code,
                        reason: reason.clone(),
                        body: body.clone(),
                        tries: if code == 429 { tries_429 + 1 } else { tries },
                    };
                    if code == 429 {
                        tries_429 += 1;
                        if tries_429 >= MAX_TRIES_429 {
                            return Err(failure);
                        }
                        let wait = retry_after
                            .unwrap_or(DEFAULT_RETRY_AFTER)
                            .min(MAX_RETRY_AFTER);
                        let said = if retry_after.is_some() {
                            "as its Retry-After asks"
                        } else {
                            "(it sent no Retry-After)"
                        };
                        tell(format!(
                            "Amplitude answered 429 Too Many Requests to {}{}: waiting {} {said}, then trying again \
                             (try {} of {MAX_TRIES_429}; the limits are 360 queries per hour and 10 at a time \
                             for user search and user activity, per project)",
                            call.what,
                            body_note(&body),
                            wait_text(wait),
                            tries_429 + 1
                        ));
                        sleep_unless_stopped(wait, stop)?;
                        tries -= 1;
                        continue;
                    }
                    if !matches!(code, 500 | 502 | 503 | 504) || tries >= MAX_TRIES {
                        return Err(failure);
                    }
                    format!("HTTP {code} {reason}{}", body_note(&body))
                }
                Err(e) => {
                    let reason = reason(&e.without_url());
                    if tries >= MAX_TRIES {
                        return Err(Failure::Network { reason, tries });
                    }
                    reason
                }
            };
            tell(format!(
                "{} failed ({why}); trying again in {} (try {} of {MAX_TRIES})",
                call.what,
                wait_text(delay),
                tries + 1
            ));
            sleep_unless_stopped(delay, stop)?;
            delay = delay.saturating_mul(2);
        }
    }

    fn wait_for_window(
        &self,
        stop: &AtomicBool,
        tell: &mut dyn FnMut(String),
    ) -> Result<(), Failure> {
        loop {
            let wait = match WINDOW.lock() {
                Ok(mut w) => w.admit(Instant::now(), QUERIES_PER_HOUR),
                Err(_) => Duration::ZERO,
            };
            if wait.is_zero() {
                return Ok(());
            }
            tell(format!(
                "{QUERIES_PER_HOUR} user search and user activity queries were made in the last hour, \
                 Amplitude's limit: waiting {} before the next",
                wait_text(wait)
            ));
            sleep_unless_stopped(wait, stop)?;
        }
    }

    /// A failure in words, with what to do. `what` names the request.
    #[must_use]
    pub fn describe(&self, failure: &Failure, what: &str) -> String {
        let at = self.endpoint.shown();
        let other = match self.endpoint.region {
            Region::Us => {
                "a project in Amplitude's EU data center needs --amplitude-region eu (or AMPLITUDE_REGION=eu)"
            }
            Region::Eu => {
                "a project in Amplitude's US data center needs --amplitude-region us (or AMPLITUDE_REGION unset)"
            }
        };
        let place = if self.endpoint.overridden {
            format!("{at} (from STREAMSCOPE_AMPLITUDE_URL)")
        } else {
            format!("{at} (region {})", self.endpoint.region.name())
        };
        match failure {
            Failure::Stopped => format!("{what} was stopped"),
            Failure::Status {
                code: 401, body, ..
            } => format!(
                "Amplitude refused the keys (HTTP 401 Unauthorized{}) for {what} at {place}: check that \
                 AMPLITUDE_API_KEY and AMPLITUDE_SECRET_KEY are the API key and the secret key of the same \
                 project; {other}",
                body_note(body)
            ),
            Failure::Status {
                code: 403, body, ..
            } => format!(
                "Amplitude denied {what} (HTTP 403 Forbidden{}) at {place}: the keys are not allowed this \
                 (check they are the project's API key and secret key, with access to its data); {other}",
                body_note(body)
            ),
            Failure::Status {
                code: 429,
                body,
                tries,
                ..
            } => format!(
                "Amplitude still answers 429 Too Many Requests to {what} after {tries} tries{}: the project's \
                 limits (360 user search and user activity queries per hour, 10 at a time) are shared with \
                 everyone using its keys; try again later",
                body_note(body)
            ),
            Failure::Status {
                code,
                reason,
                body,
                tries,
            } if matches!(code, 500 | 502 | 503 | 504) => format!(
                "Amplitude answered HTTP {code} {reason} to {what} {tries} times{}; try again later",
                body_note(body)
            ),
            Failure::Status {
                code, reason, body, ..
            } => format!(
                "Amplitude answered HTTP {code} {reason} to {what} at {place}{}",
                body_note(body)
            ),
            Failure::Network { reason, tries } => format!(
                "cannot reach Amplitude at {place} for {what} ({reason}; tried {tries} times): check the \
                 network connection, or a proxy given with STREAMSCOPE_AMPLITUDE_URL"
            ),
        }
    }
}

/// `: "message"` for a body worth showing, else nothing.
fn body_note(body: &str) -> String {
    let t = body.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(": \"{}\"", crate::fmt::sanitize(t))
    }
}

/// The start of an error answer's body, as one line (at most 300 characters).
fn body_start(response: reqwest::blocking::Response) -> String {
    let mut buf = Vec::new();
    let _ = response.take(2048).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(response: &reqwest::blocking::Response) -> Option<Duration> {
    let v = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    parse_retry_after(v, chrono::Utc::now())
}

/// `Retry-After`'s value: seconds, or an HTTP date (the wait until then from `now`).
#[must_use]
pub fn parse_retry_after(v: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = (when.with_timezone(&chrono::Utc) - now).num_milliseconds();
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// Sleeps for `d`, waking early (with [`Failure::Stopped`]) when `stop` is set.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> Result<(), Failure> {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Failure::Stopped);
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// An error and its causes, as one line.
pub fn reason(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}
