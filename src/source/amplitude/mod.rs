//! `amplitude:user/ID` and `amplitude:export/START/END`: a customer's stream fetched
//! straight from Amplitude's documented APIs, usable wherever a file is (the inspector,
//! `report`), and saved by `streamscope fetch SOURCE -o FILE`.
//!
//! A shell around the core (reqwest's blocking client, std threads), in four parts:
//! - this module: the source specs, where the API is (region, override) and the keys,
//!   the source as [`super::run_spec`] runs it, and `fetch`;
//! - `http`: one GET with the keys, Amplitude's limits and bounded retries, and the
//!   words for each failure;
//! - `user`: `usersearch` then every match's `useractivity`, paged to the end with the
//!   pages' overlaps removed;
//! - `export`: the Export API's zip, streamed to a file with progress.
//!
//! Choices (the issue is silent on these):
//! - `amplitude:user/ID`: everything after `user/` is the ID, slashes included
//!   (`amplitude:user/a/b` asks for the user `a/b`); it is percent-encoded on the wire.
//!   `amplitude:export/START/END`: exactly two hours `YYYYMMDDTHH` (UTC, server upload
//!   time, both inclusive, as the Export API takes them), START not after END, at most
//!   365 days apart (the API's documented maximum).
//! - Where the API is: `STREAMSCOPE_AMPLITUDE_URL` (scheme, host, port, and a path prefix;
//!   a trailing `/api/2` is optional) wins over the region; the region is
//!   `--amplitude-region`, else `AMPLITUDE_REGION`, else `us`.
//! - The keys come only from `AMPLITUDE_API_KEY` and `AMPLITUDE_SECRET_KEY` and are sent
//!   as HTTP Basic credentials with the first request. Every message this module makes
//!   is scrubbed of them ([`Keys::scrub`]), and URLs in messages lose any user info.
//! - The user's events become NDJSON, one event per line, in the API's order
//!   (`direction=earliest`), each event's text as Amplitude sent it (white space outside
//!   strings removed when it spans lines). Several matches are fetched one after the
//!   other and said in a note of the source ([`LoadEvent::Note`]: shown, not counted as a
//!   problem).
//! - A fetch that stops half-way keeps what arrived and says what is missing: the
//!   Amplitude ID and event position it stopped at and the IDs not fetched, or the bytes
//!   of the archive that did not arrive.
//! - An export for the inspector or `report` is downloaded to a temporary file in the
//!   system's temporary directory (mode 0600), then read as any Export zip. `report`
//!   removes it once read; the inspector reads events' raw text back from it, and
//!   [`TempFiles`] removes it when the command ends (a process killed by a signal leaves
//!   it behind).

mod export;
mod http;
mod user;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use super::feed::LineFeed;
use super::load::LoadOptions;
use crate::index::SourceIx;
use crate::store::{LoadEvent, Segment};

pub use http::{Api, RateWindow};

/// The API key's variable.
pub const KEY_VAR: &str = "AMPLITUDE_API_KEY";
/// The secret key's variable.
pub const SECRET_VAR: &str = "AMPLITUDE_SECRET_KEY";
/// The region's variable (`us` or `eu`); `--amplitude-region` wins over it.
pub const REGION_VAR: &str = "AMPLITUDE_REGION";
/// Where the API is instead (tests, proxies): wins over the region.
pub const URL_VAR: &str = "STREAMSCOPE_AMPLITUDE_URL";
/// The first retry delay in milliseconds after a 5xx answer or a network error
/// (default 1000; it doubles on each retry).
pub const BACKOFF_VAR: &str = "STREAMSCOPE_AMPLITUDE_BACKOFF_MS";
/// What an Amplitude source starts with.
pub const PREFIX: &str = "amplitude:";
/// The most days one export may cover (Amplitude's documented maximum).
pub const MAX_EXPORT_DAYS: i64 = 365;

type Emit<'e> = dyn FnMut(LoadEvent) + 'e;

/// Where the project's data lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Region {
    /// The default (US) data center.
    #[default]
    Us,
    /// The EU data center.
    Eu,
}

impl Region {
    /// `us` or `eu`, any case.
    ///
    /// # Errors
    /// Anything else, in words.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "us" => Ok(Region::Us),
            "eu" => Ok(Region::Eu),
            _ => Err(format!(
                "'{}' is not an Amplitude region: use us or eu",
                crate::fmt::sanitize(text)
            )),
        }
    }

    /// `us` or `eu`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
        }
    }

    /// The Dashboard REST and Export APIs' base URL in this region.
    #[must_use]
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://amplitude.com/api/2/",
            Region::Eu => "https://analytics.eu.amplitude.com/api/2/",
        }
    }
}

/// The region given on the command line, for the whole process.
static REGION_FLAG: OnceLock<Region> = OnceLock::new();

/// Records `--amplitude-region` (when given) for every Amplitude source of this process.
pub fn set_region(region: Option<Region>) {
    if let Some(r) = region {
        let _ = REGION_FLAG.set(r);
    }
}

/// One hour of the Export API's ranges (`YYYYMMDDTHH`, UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hour(NaiveDateTime);

impl Hour {
    /// `20240131T05`.
    ///
    /// # Errors
    /// Anything else, in words.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{}' is not an hour YYYYMMDDTHH (like 20240131T05, UTC)",
                crate::fmt::sanitize(text)
            )
        };
        let b = text.as_bytes();
        if b.len() != 11 || !matches!(b[8], b'T' | b't') {
            return Err(bad());
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(r)?;
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let (Some(y), Some(m), Some(d), Some(h)) =
            (digits(0..4), digits(4..6), digits(6..8), digits(9..11))
        else {
            return Err(bad());
        };
        let date = i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
            .ok_or_else(bad)?;
        let time = date.and_hms_opt(h, 0, 0).ok_or_else(bad)?;
        Ok(Hour(time))
    }

    /// As the API takes it: `20240131T05`.
    #[must_use]
    pub fn text(self) -> String {
        self.0.format("%Y%m%dT%H").to_string()
    }

    /// Hours from `self` to `end`, both included.
    #[must_use]
    pub fn hours_to(self, end: Hour) -> i64 {
        (end.0 - self.0).num_hours() + 1
    }

    fn plus(self, hours: i64) -> Hour {
        Hour(self.0 + TimeDelta::hours(hours))
    }
}

/// What an Amplitude source asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every user `usersearch` finds for this ID, with all their events.
    User(String),
    /// The Export API's archive for these hours (both included).
    Export {
        /// The first hour.
        start: Hour,
        /// The last hour.
        end: Hour,
    },
}

impl Target {
    /// The part after `amplitude:`.
    ///
    /// # Errors
    /// What is wrong with it, in words.
    pub fn parse(rest: &str) -> Result<Self, String> {
        let usage = "use amplitude:user/ID or amplitude:export/START/END (hours YYYYMMDDTHH, UTC)";
        if let Some(id) = rest.strip_prefix("user/") {
            if id.is_empty() {
                return Err(format!("no user ID after 'amplitude:user/': {usage}"));
            }
            return Ok(Target::User(id.to_string()));
        }
        if let Some(range) = rest.strip_prefix("export/") {
            let Some((start, end)) = range.split_once('/') else {
                return Err(format!("an export needs a START and an END hour: {usage}"));
            };
            let (start, end) = (Hour::parse(start)?, Hour::parse(end)?);
            if start > end {
                return Err(format!(
                    "the export's start {} is after its end {}",
                    start.text(),
                    end.text()
                ));
            }
            if start.hours_to(end) > MAX_EXPORT_DAYS * 24 {
                return Err(format!(
                    "{} to {} is more than the {MAX_EXPORT_DAYS} days one export may cover: split the range",
                    start.text(),
                    end.text()
                ));
            }
            return Ok(Target::Export { start, end });
        }
        Err(format!(
            "'{PREFIX}{}' is not an Amplitude source: {usage}",
            crate::fmt::sanitize(rest)
        ))
    }
}

/// An `amplitude:` source as the command line gave it.
#[derive(Clone, Debug)]
pub struct AmplitudeSpec {
    /// The argument, as given (the source's name).
    pub text: String,
    /// What it asks for, or why it cannot be read.
    pub target: Result<Target, String>,
}

impl AmplitudeSpec {
    /// The spec of an `amplitude:` argument; `None` for anything else.
    #[must_use]
    pub fn parse(arg: &str) -> Option<Self> {
        let rest = arg.strip_prefix(PREFIX)?;
        Some(Self {
            text: arg.to_string(),
            target: Target::parse(rest),
        })
    }
}

/// The project's keys. Never shown: [`std::fmt::Debug`] hides them, and [`Keys::scrub`]
/// takes them out of any text.
#[derive(Clone)]
pub struct Keys {
    api_key: String,
    secret: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

impl Keys {
    /// Keys given directly (tests, embedding); the command line only reads them from
    /// the environment ([`Keys::from_env`]).
    #[must_use]
    pub fn new(api_key: &str, secret: &str) -> Self {
        Keys {
            api_key: api_key.to_string(),
            secret: secret.to_string(),
        }
    }

    /// The keys from the environment.
    ///
    /// # Errors
    /// Which variables are missing, and what to do.
    pub fn from_env() -> Result<Self, String> {
        let get = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match (get(KEY_VAR), get(SECRET_VAR)) {
            (Some(api_key), Some(secret)) => {
                for (name, value) in [(KEY_VAR, &api_key), (SECRET_VAR, &secret)] {
                    if !value.chars().all(|c| c.is_ascii_graphic()) {
                        return Err(format!(
                            "{name} holds characters a key does not (spaces, control or non-ASCII characters): \
                             check what was pasted into it"
                        ));
                    }
                }
                if api_key.contains(':') {
                    return Err(format!(
                        "{KEY_VAR} holds a ':', which a key does not (is it the key and secret joined?)"
                    ));
                }
                Ok(Keys { api_key, secret })
            }
            (key, secret) => {
                let missing: Vec<&str> = [(KEY_VAR, key.is_none()), (SECRET_VAR, secret.is_none())]
                    .iter()
                    .filter(|(_, m)| *m)
                    .map(|(n, _)| *n)
                    .collect();
                Err(format!(
                    "Amplitude's keys are missing: set {} in the environment to the project's API key and secret key \
                     (Amplitude: Settings → Projects → the project → General; e.g. `export {KEY_VAR}=… {SECRET_VAR}=…`); \
                     they are read from the environment only, never from flags",
                    missing.join(" and ")
                ))
            }
        }
    }

    /// `text` with the keys (and their Basic encoding) replaced by `***`.
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in [
            http::basic_credentials(&self.api_key, &self.secret),
            self.secret.clone(),
            self.api_key.clone(),
        ] {
            if secret.len() >= 4 {
                out = out.replace(&secret, "***");
            }
        }
        out
    }
}

/// Where the API is and how it was chosen.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The base URL, ending in `/api/2/`.
    pub base: reqwest::Url,
    /// The region in effect.
    pub region: Region,
    /// `STREAMSCOPE_AMPLITUDE_URL` chose the base.
    pub overridden: bool,
}

impl Endpoint {
    /// From the override (when set), else the region.
    ///
    /// # Errors
    /// An override or region that cannot be used, in words.
    pub fn resolve(
        flag: Option<Region>,
        env_region: Option<&str>,
        env_url: Option<&str>,
    ) -> Result<Self, String> {
        let region = match (flag, env_region.filter(|r| !r.trim().is_empty())) {
            (Some(r), _) => r,
            (None, Some(text)) => Region::parse(text).map_err(|e| format!("{REGION_VAR}: {e}"))?,
            (None, None) => Region::Us,
        };
        let (text, overridden) = match env_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => (base_of(url.trim()), true),
            None => (region.base_url().to_string(), false),
        };
        let base = reqwest::Url::parse(&text).map_err(|e| {
            format!(
                "{URL_VAR} is not a URL ({e}): give scheme, host and port, like http://127.0.0.1:8080"
            )
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!("{URL_VAR} must be an http:// or https:// URL"));
        }
        Ok(Endpoint {
            base,
            region,
            overridden,
        })
    }

    /// From the command line's region and the environment.
    fn from_env() -> Result<Self, String> {
        let region = std::env::var(REGION_VAR).ok();
        let url = std::env::var(URL_VAR).ok();
        Self::resolve(
            REGION_FLAG.get().copied(),
            region.as_deref(),
            url.as_deref(),
        )
    }

    /// The base for messages: without user info, query or the `/api/2/` tail.
    #[must_use]
    pub fn shown(&self) -> String {
        shown_url(&self.base)
    }
}

/// The override as a base URL ending in `/api/2/`.
fn base_of(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.ends_with("/api/2") {
        format!("{trimmed}/")
    } else {
        format!("{trimmed}/api/2/")
    }
}

/// A URL for messages: user info, query and fragment removed.
#[must_use]
pub fn shown_url(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// Temporary files of downloaded exports, removed when the guard from
/// [`TempFiles::guard`] is dropped (at the end of the command).
#[derive(Debug)]
pub struct TempFiles;

static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

impl TempFiles {
    /// A guard that removes the temporary files made while it lives.
    #[must_use]
    pub fn guard() -> Self {
        TempFiles
    }

    fn register(path: &Path) {
        if let Ok(mut files) = TEMP_FILES.lock() {
            files.push(path.to_path_buf());
        }
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let files = TEMP_FILES
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        for f in files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// A new temporary file for a downloaded export.
fn temp_file() -> std::io::Result<(PathBuf, std::fs::File)> {
    let dir = std::env::temp_dir();
    let mut last = None;
    for n in 0..1000 {
        let path = dir.join(format!(
            "streamscope-amplitude-{}-{n}.zip",
            std::process::id()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        // The customer's data: readable by this user only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(file) => {
                TempFiles::register(&path);
                return Ok((path, file));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

/// Reads an Amplitude source for [`super::run_spec`]: everything goes through `emit`;
/// does not emit [`LoadEvent::Done`].
pub fn run(
    spec: &AmplitudeSpec,
    source: SourceIx,
    opts: &LoadOptions,
    stop: &AtomicBool,
    emit: &mut Emit<'_>,
) {
    let name = spec.text.as_str();
    if let Err(e) = &spec.target {
        return emit(problem(source, name, e.clone(), true));
    }
    let api = match http::Api::from_env() {
        Ok(api) => api,
        Err(e) => return emit(problem(source, name, e, true)),
    };
    run_with(spec, &api, source, opts, stop, emit);
}

/// [`run`] with a given API (where, which keys) instead of the environment's.
pub fn run_with(
    spec: &AmplitudeSpec,
    api: &Api,
    source: SourceIx,
    opts: &LoadOptions,
    stop: &AtomicBool,
    emit: &mut Emit<'_>,
) {
    let name = spec.text.as_str();
    let target = match &spec.target {
        Ok(t) => t,
        Err(e) => return emit(problem(source, name, e.clone(), true)),
    };
    match target {
        Target::User(id) => run_user(api, name, id, source, opts, stop, emit),
        Target::Export { start, end } => {
            run_export(api, name, *start, *end, source, opts, stop, emit);
        }
    }
}

/// A user's events into the store, page by page, as NDJSON through a [`LineFeed`].
fn run_user(
    api: &http::Api,
    name: &str,
    id: &str,
    source: SourceIx,
    opts: &LoadOptions,
    stop: &AtomicBool,
    emit: &mut Emit<'_>,
) {
    emit(LoadEvent::Format {
        source,
        format: "useractivity",
    });
    let mut sink = FeedSink {
        source,
        name,
        api,
        keep_raw: opts.keep_raw,
        feed: LineFeed::new(source, 0, 0, 0, opts.keep_raw).with_max_line(opts.max_record),
        segments: 0,
        emit: &mut *emit,
    };
    let outcome = user::fetch(api, id, stop, &mut sink);
    if let Some(ev) = sink.feed.finish() {
        emit(ev);
    }
    match outcome {
        Err(e) => emit(problem(source, name, api.scrub(&e), true)),
        Ok(done) => {
            if done.matches.len() > 1 {
                emit(LoadEvent::Note {
                    source,
                    message: format!(
                        "'{}': {}",
                        crate::fmt::sanitize(name),
                        api.scrub(&done.matches_text())
                    ),
                });
            }
            if let Some(missing) = &done.missing {
                emit(problem(source, name, api.scrub(missing), done.events == 0));
            }
        }
    }
}

/// A problem of the source, naming it.
fn problem(source: SourceIx, name: &str, message: String, fatal: bool) -> LoadEvent {
    let message = format!("'{}': {message}", crate::fmt::sanitize(name));
    LoadEvent::Problem {
        source,
        message,
        fatal,
    }
}

/// Where a user's pages go in the inspector and `report`: decoded at once.
struct FeedSink<'a, 'e> {
    source: SourceIx,
    name: &'a str,
    api: &'a http::Api,
    keep_raw: bool,
    feed: LineFeed,
    segments: u32,
    emit: &'a mut Emit<'e>,
}

impl user::Sink for FeedSink<'_, '_> {
    fn lines(&mut self, lines: &[u8], received: u64) -> std::io::Result<()> {
        if !lines.is_empty() {
            let bytes: Arc<[u8]> = Arc::from(lines);
            if self.keep_raw {
                (self.emit)(LoadEvent::Member {
                    source: self.source,
                    segment: Segment::Memory(Arc::clone(&bytes)),
                    name: self.name.to_string(),
                });
            }
            self.feed.next_segment(self.segments);
            self.segments += 1;
            if let Some(ev) = self.feed.push(&bytes) {
                (self.emit)(ev);
            }
        }
        (self.emit)(LoadEvent::Progress {
            source: self.source,
            read: received,
            total: None,
        });
        Ok(())
    }

    fn tell(&mut self, message: String) {
        let message = self.api.scrub(&message);
        (self.emit)(problem(self.source, self.name, message, false));
    }
}

/// An export downloaded to a temporary file, then read as any Export zip.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, the source's parts"
)]
fn run_export(
    api: &http::Api,
    name: &str,
    start: Hour,
    end: Hour,
    source: SourceIx,
    opts: &LoadOptions,
    stop: &AtomicBool,
    emit: &mut Emit<'_>,
) {
    let (path, mut file) = match temp_file() {
        Ok(t) => t,
        Err(e) => {
            return emit(problem(
                source,
                name,
                format!(
                    "cannot make a temporary file in {} for the export: {e}",
                    std::env::temp_dir().display()
                ),
                true,
            ));
        }
    };
    let result = {
        let emit = std::cell::RefCell::new(&mut *emit);
        let mut tell = |m: String| {
            let ev = problem(source, name, api.scrub(&m), false);
            (emit.borrow_mut())(ev);
        };
        let mut progress = |read: u64, total: Option<u64>| {
            (emit.borrow_mut())(LoadEvent::Progress {
                source,
                read,
                total,
            });
        };
        export::download(api, start, end, stop, &mut tell, &mut file, &mut progress)
    };
    let _ = file.flush();
    drop(file);
    match result {
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            emit(problem(source, name, api.scrub(&e), true));
        }
        Ok(done) => {
            if let Some(missing) = &done.missing {
                let members = export::arrived_members(&path)
                    .map(|(whole, cut)| {
                        format!("; {}", export::arrived_text(&whole, cut.as_deref()))
                    })
                    .unwrap_or_default();
                emit(problem(
                    source,
                    name,
                    api.scrub(&format!("{missing}{members}; {}", done.again)),
                    done.received == 0,
                ));
                if done.received == 0 {
                    return;
                }
            }
            super::load::load_file_as(
                &path,
                name,
                source,
                opts,
                &Arc::new(AtomicU64::new(0)),
                emit,
            );
            // Without raw text to read back (`report`), the file is done with now.
            if !opts.keep_raw {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// `streamscope fetch SOURCE -o FILE`: saves a user's events as NDJSON, or an export's
/// zip as received. Progress, waits and the outcome go to `err`. Returns the exit status:
/// 0 when everything arrived, 1 when the fetch failed or stopped half-way (what arrived
/// is kept in the file), 2 when SOURCE is not an Amplitude source.
///
/// # Errors
/// Only when `err` cannot be written.
pub fn fetch(source: &str, output: &Path, err: &mut dyn Write) -> std::io::Result<u8> {
    let Some(spec) = AmplitudeSpec::parse(source) else {
        writeln!(
            err,
            "streamscope: fetch takes an Amplitude source, amplitude:user/ID or amplitude:export/START/END, not '{}'",
            crate::fmt::sanitize(source)
        )?;
        return Ok(2);
    };
    let target = match spec.target {
        Ok(t) => t,
        Err(e) => {
            writeln!(err, "streamscope: {e}")?;
            return Ok(2);
        }
    };
    let shown = output.display().to_string();
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() || output.is_dir() {
        writeln!(
            err,
            "streamscope: cannot write {}: {} is not a directory",
            crate::fmt::sanitize(&shown),
            crate::fmt::sanitize(&if output.is_dir() {
                shown.clone()
            } else {
                dir.display().to_string()
            })
        )?;
        return Ok(2);
    }
    let api = match http::Api::from_env() {
        Ok(api) => api,
        Err(e) => {
            writeln!(err, "streamscope: {e}")?;
            return Ok(1);
        }
    };
    let stop = AtomicBool::new(false);
    let mut lines: Vec<String> = Vec::new();
    let code = match target {
        Target::User(id) => {
            let mut sink = FileSink {
                path: output,
                file: None,
                events: 0,
                api: &api,
            };
            let result = user::fetch(&api, &id, &stop, &mut sink);
            let flushed = match &result {
                Ok(_) => sink.finish(),
                Err(_) => Ok(()),
            };
            match (result, flushed) {
                (Err(e), _) => {
                    lines.push(e);
                    1
                }
                (Ok(_), Err(e)) => {
                    lines.push(format!("writing {shown} failed: {e}"));
                    1
                }
                (Ok(done), Ok(())) => {
                    if done.matches.len() > 1 {
                        lines.push(done.matches_text());
                    }
                    let overlap = match done.overlap {
                        0 => String::new(),
                        n => format!(
                            " ({n} event{} repeated by overlapping pages left out)",
                            if n == 1 { "" } else { "s" }
                        ),
                    };
                    lines.push(format!(
                        "saved {} events of {} to {shown}{overlap}",
                        crate::fmt::count(done.events),
                        done.users_text()
                    ));
                    match done.missing {
                        Some(m) => {
                            lines.push(format!("{m}; the events that arrived are in {shown}"));
                            1
                        }
                        None => 0,
                    }
                }
            }
        }
        Target::Export { start, end } => {
            let mut out = LazyFile {
                path: output,
                file: None,
            };
            let mut reported = 0u64;
            let result = {
                let mut tell = |m: String| {
                    let _ = writeln!(std::io::stderr(), "streamscope: {}", api.scrub(&m));
                };
                let mut progress = |read: u64, total: Option<u64>| {
                    if let Some(step) = progress_step(read, total, reported) {
                        reported = step;
                        let _ = writeln!(
                            std::io::stderr(),
                            "streamscope: received {}",
                            export::received_text(read, total)
                        );
                    }
                };
                export::download(&api, start, end, &stop, &mut tell, &mut out, &mut progress)
            };
            let flushed = match (&result, &mut out.file) {
                (_, Some(f)) => f.flush(),
                // An empty archive answered: still a file, as received.
                (Ok(d), None) if d.missing.is_none() => std::fs::File::create(output).map(drop),
                (_, None) => Ok(()),
            };
            match (result, flushed) {
                (Err(e), _) => {
                    lines.push(e);
                    1
                }
                (Ok(_), Err(e)) => {
                    lines.push(format!("writing {shown} failed: {e}"));
                    1
                }
                (Ok(done), Ok(())) => match done.missing {
                    Some(m) => {
                        if done.received > 0 {
                            let members = export::arrived_members(output)
                                .map(|(whole, cut)| {
                                    format!("; {}", export::arrived_text(&whole, cut.as_deref()))
                                })
                                .unwrap_or_default();
                            lines.push(format!(
                                "{m}{members}; the {} bytes that arrived are in {shown}; {}",
                                done.received, done.again
                            ));
                        } else {
                            lines.push(m);
                        }
                        1
                    }
                    None => {
                        lines.push(format!(
                            "saved the export {} to {} ({} bytes, as received) to {shown}",
                            start.text(),
                            end.text(),
                            done.received
                        ));
                        0
                    }
                },
            }
        }
    };
    for line in lines {
        writeln!(
            err,
            "streamscope: {}",
            crate::fmt::sanitize(&api.scrub(&line))
        )?;
    }
    Ok(code)
}

/// The next progress line of `fetch`: at each 10% when the size is known, else each
/// 16 MB; `None` when not due.
fn progress_step(read: u64, total: Option<u64>, last: u64) -> Option<u64> {
    match total {
        Some(t) if t > 0 => {
            let step = read.saturating_mul(10) / t;
            (step > last).then_some(step)
        }
        _ => {
            let step = read >> 24;
            (step > last).then_some(step)
        }
    }
}

/// The output file of an export, created when the first byte arrives (a refused
/// request leaves no empty file behind).
struct LazyFile<'a> {
    path: &'a Path,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl Write for LazyFile<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.file.is_none() {
            let f = std::fs::File::create(self.path)?;
            self.file = Some(std::io::BufWriter::with_capacity(1 << 20, f));
        }
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Ok(0),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

/// Where a user's pages go for `fetch`: appended to the file, flushed after each page,
/// so that an interrupted fetch keeps what arrived.
struct FileSink<'a> {
    path: &'a Path,
    file: Option<std::io::BufWriter<std::fs::File>>,
    events: u64,
    api: &'a http::Api,
}

impl FileSink<'_> {
    fn finish(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            // A user without events still gets their (empty) file.
            None => std::fs::File::create(self.path).map(drop),
        }
    }
}

impl user::Sink for FileSink<'_> {
    fn lines(&mut self, lines: &[u8], _received: u64) -> std::io::Result<()> {
        if self.file.is_none() {
            let f = std::fs::File::create(self.path)?;
            self.file = Some(std::io::BufWriter::with_capacity(1 << 16, f));
        }
        if let Some(f) = &mut self.file {
            f.write_all(lines)?;
            f.flush()?;
        }
        self.events += memchr::memchr_iter(b'\n', lines).count() as u64;
        let _ = writeln!(
            std::io::stderr(),
            "streamscope: {} events so far",
            crate::fmt::count(self.events)
        );
        Ok(())
    }

    fn tell(&mut self, message: String) {
        let message = crate::fmt::sanitize(&self.api.scrub(&message)).into_owned();
        let _ = writeln!(std::io::stderr(), "streamscope: {message}");
    }
}

#[cfg(test)]
mod tests;
