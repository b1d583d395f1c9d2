//! `streamscope listen`: an Amplitude-compatible ingestion endpoint on a local port.
//! Point an SDK's server URL at it (`http://127.0.0.1:8788/2/httpapi`) and watch events
//! arrive, in the inspector or as one log line per request (`--no-tui`).
//!
//! ```text
//!  SDK ──POST──▶ routes (axum) ──▶ request::check (pure: answer + capture lines)
//!                    │                  │
//!                    │                  ▼
//!                    │           Capture: append to the NDJSON file (before the 200),
//!                    │           store of everything received (query API), insert_ids
//!                    ▼
//!          LiveState (counters, rejected requests, wake) ──▶ inspector / log lines
//!          inspector: follows the capture file like `--follow`, woken after each append
//! ```
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | start-up: capture path, bind, runtime, the log, shutdown |
//! | `request.rs` | what the endpoint decides about one request: answer, capture lines (pure, no I/O, no clock) |
//! | `shared.rs` | counters, rejected requests and the capture wake-up shared with viewers (std only) |
//! | `routes.rs` | ingestion, CORS, the query API |
//! | `capture.rs` | the capture file, resume, duplicates, reset |
//! | `forward.rs` | `--forward`: relaying to an upstream |
//! | `conn.rs` | connection cap and idle timeout |

pub mod capture;
pub mod conn;
pub mod forward;
pub mod request;
pub mod routes;
pub mod shared;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;

use crate::analysis::Rules;
use crate::listen::request::Settings;
use crate::listen::shared::LiveState;
use capture::Capture;
use forward::{Forwarder, Reply};

/// Everything `streamscope listen` needs to serve, whatever asked for it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to serve on (loopback unless told otherwise).
    pub addr: SocketAddr,
    /// The capture file; `None` makes a new one in `capture_dir`.
    pub capture: Option<PathBuf>,
    /// Where a new capture file goes; `None` for the platform's data directory.
    pub capture_dir: Option<PathBuf>,
    /// An upstream every accepted request is relayed to.
    pub forward: Option<String>,
    /// What the endpoint accepts: API keys, shortest ids.
    pub ingest: Settings,
    /// Analysis settings of the summary API (and of the inspector over it).
    pub rules: Rules,
    /// Connection, timeout and memory limits.
    pub limits: Limits,
}

/// What the endpoint holds for its clients at most, so that slow, abandoned or hostile
/// clients cannot exhaust connections, file descriptors or memory. Each has a `[listen]`
/// key in the config file ([`crate::config`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most connections served at once; more wait in the kernel's backlog
    /// (`max_connections`, default [`conn::MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// A connection with nothing read or written for this long is closed; this also
    /// bounds the time to send a request's headers (`idle_timeout`, default
    /// [`conn::IDLE`]).
    pub idle: std::time::Duration,
    /// A request body that sends nothing for this long is answered 408 (`body_timeout`,
    /// default [`routes::BODY_IDLE`]).
    pub body_idle: std::time::Duration,
    /// Most bytes of request bodies held at once, all requests together; a body that
    /// would exceed it is answered 503 with `Retry-After` (`body_budget`, default
    /// [`routes::BODY_BUDGET`]).
    pub body_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: conn::MAX_CONNECTIONS,
            idle: conn::IDLE,
            body_idle: routes::BODY_IDLE,
            body_budget: routes::BODY_BUDGET,
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub struct Shared {
    /// The address served (the real port when asked for port 0): `/streamscope/*` only
    /// answers requests whose `Host` (and `Origin`, when sent) name it.
    pub addr: SocketAddr,
    /// Counters and rejected requests, shared with the inspector.
    pub live: Arc<LiveState>,
    /// Ingestion rules.
    pub settings: Settings,
    /// The capture and the store of everything received.
    pub capture: Mutex<Capture>,
    /// The upstream, with `--forward`.
    pub forward: Option<Forwarder>,
    /// Analysis settings for the summary.
    pub rules: Rules,
    /// Log one line per request to standard output (headless).
    pub log_requests: bool,
    /// Bytes of request bodies in flight (see [`Limits::body_budget`]).
    pub body_budget: routes::BodyBudget,
    /// The limits.
    pub limits: Limits,
}

/// One request, for the log.
#[derive(Debug)]
pub struct LogLine<'a> {
    seq: u64,
    method: &'a str,
    path: &'a str,
    status: u16,
    events: usize,
    written: usize,
    duplicates: usize,
    bytes: usize,
    reasons: &'a [String],
    took: Duration,
    upstream: Option<&'a Result<Reply, String>>,
}

impl LogLine<'_> {
    /// The line, without its time stamp: `#12 POST /2/httpapi 200 · 30 events: 30 new · 12.3 KB · 0.8 ms`.
    #[must_use]
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!(
            "#{} {} {} {}",
            self.seq,
            self.method,
            crate::fmt::sanitize(self.path),
            self.status
        );
        let rejected = self.events.saturating_sub(self.written + self.duplicates);
        let mut parts = vec![format!("{} new", self.written)];
        if self.duplicates > 0 {
            parts.push(format!("{} already received", self.duplicates));
        }
        if rejected > 0 {
            parts.push(format!("{rejected} rejected"));
        }
        if self.events == 0 {
            s.push_str(" · no events");
        } else {
            let _ = write!(
                s,
                " · {} event{}: {}",
                self.events,
                if self.events == 1 { "" } else { "s" },
                parts.join(", ")
            );
        }
        let _ = write!(
            s,
            " · {} · {:.1} ms",
            human_bytes(self.bytes),
            self.took.as_secs_f64() * 1000.0
        );
        match self.upstream {
            Some(Ok(r)) => {
                let _ = write!(s, " · upstream {}", r.status);
            }
            Some(Err(e)) => {
                let _ = write!(
                    s,
                    " · upstream unreachable ({}), answered locally",
                    crate::fmt::sanitize(e)
                );
            }
            None => {}
        }
        for r in self.reasons {
            let _ = write!(s, " · {}", crate::fmt::sanitize(r));
        }
        s
    }
}

fn human_bytes(n: usize) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a display size")]
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1 << 20 {
        format!("{:.1} KB", f / 1024.0)
    } else {
        format!("{:.1} MB", f / f64::from(1 << 20))
    }
}

impl Shared {
    /// Events in the capture.
    #[must_use]
    pub fn capture_events(&self) -> usize {
        self.capture
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .events()
    }

    /// Logs a request (headless only).
    pub fn log(&self, line: &LogLine<'_>) {
        if self.log_requests {
            let now = crate::listen::request::received_time(now_ms());
            let _ = writeln!(std::io::stdout().lock(), "{} {}", &now[11..23], line.text());
        }
    }

    /// Logs a note about the endpoint itself (headless only).
    pub fn note(&self, text: &str) {
        if self.log_requests {
            let now = crate::listen::request::received_time(now_ms());
            let _ = writeln!(std::io::stdout().lock(), "{} {text}", &now[11..23]);
        }
    }
}

/// The wall clock in epoch ms (the server's only clock read besides latency timers).
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Where a reset moves the capture: `capture.ndjson` → `capture.20261123-201500.123.ndjson`,
/// and for the `attempt`-th try after that name was taken (two resets in one
/// millisecond), `capture.20261123-201500.123-1.ndjson`, `-2`, …. The name is only a
/// candidate: [`capture::Capture::reset`] claims it exclusively and tries the next one
/// when it exists.
#[must_use]
pub fn archive_path(path: &Path, stamp: &str, attempt: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "capture".into(), |s| s.to_string_lossy().into_owned());
    let stamp = if attempt == 0 {
        stamp.to_string()
    } else {
        format!("{stamp}-{attempt}")
    };
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{stamp}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{stamp}"),
    };
    path.with_file_name(name)
}

/// The time stamp of an archive name, now (UTC, to the millisecond).
#[must_use]
pub fn archive_stamp() -> String {
    chrono::Utc::now().format("%Y%m%d-%H%M%S%.3f").to_string()
}

/// The capture file when `--capture` is not given: a new file per run in the platform's
/// data directory (`~/.local/share/streamscope/` on Linux), so runs never mix.
pub fn default_capture_path(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => default_capture_dir()?,
    };
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    Ok(dir.join(format!("capture-{stamp}.ndjson")))
}

/// Where capture files go without `--capture` or a config file's `listen.capture_dir`:
/// the platform's data directory (`~/.local/share/streamscope/` on Linux).
pub fn default_capture_dir() -> anyhow::Result<PathBuf> {
    Ok(dirs::data_dir()
        .context("no data directory on this platform: give --capture FILE")?
        .join("streamscope"))
}

/// A running endpoint.
#[derive(Debug)]
pub struct Server {
    /// The address bound (the real port when asked for port 0).
    pub addr: SocketAddr,
    /// The shared state.
    pub shared: Arc<Shared>,
    runtime: tokio::runtime::Runtime,
    listener: Option<tokio::net::TcpListener>,
}

impl Server {
    /// Opens the capture (loading what it holds) and binds the address; serves nothing yet.
    pub fn bind(opts: &Options, log_requests: bool) -> anyhow::Result<Self> {
        let path = match &opts.capture {
            Some(p) => p.clone(),
            None => default_capture_path(opts.capture_dir.as_deref())?,
        };
        let capture = Capture::open(&path)
            .with_context(|| format!("cannot open the capture file '{}'", path.display()))?;
        let forward = opts.forward.as_deref().map(Forwarder::new).transpose()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("streamscope-http")
            .build()
            .context("cannot start the async runtime")?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(opts.addr))
            .with_context(|| format!("cannot listen on {}", opts.addr))?;
        let addr = listener.local_addr()?;
        let live = Arc::new(LiveState::new(
            format!("http://{addr}"),
            path,
            opts.forward.clone(),
        ));
        let shared = Arc::new(Shared {
            addr,
            live,
            settings: opts.ingest.clone(),
            capture: Mutex::new(capture),
            forward,
            rules: opts.rules.clone(),
            log_requests,
            body_budget: routes::BodyBudget::default(),
            limits: opts.limits,
        });
        Ok(Self {
            addr,
            shared,
            runtime,
            listener: Some(listener),
        })
    }

    /// The listener with the connection limits.
    fn capped(&self, listener: tokio::net::TcpListener) -> conn::Capped {
        let l = self.shared.limits;
        conn::Capped::new(listener, l.max_connections, l.idle)
    }

    /// Events loaded from an existing capture.
    #[must_use]
    pub fn resumed(&self) -> usize {
        self.shared.capture_events()
    }

    /// Serves until `shutdown` resolves, on this thread.
    pub fn serve_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let listener = self
            .listener
            .take()
            .context("the server was started twice")?;
        let app = routes::router(Arc::clone(&self.shared));
        let listener = self.capped(listener);
        self.runtime.block_on(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        })?;
        Ok(())
    }

    /// Serves on the runtime's threads; returns at once. The server stops when the
    /// returned handle is dropped (with the process, for the inspector).
    pub fn serve_in_background(mut self) -> anyhow::Result<BackgroundServer> {
        let listener = self
            .listener
            .take()
            .context("the server was started twice")?;
        let app = routes::router(Arc::clone(&self.shared));
        let listener = self.capped(listener);
        self.runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(BackgroundServer {
            shared: self.shared,
            _runtime: self.runtime,
        })
    }
}

/// An endpoint serving on background threads.
#[derive(Debug)]
pub struct BackgroundServer {
    /// The shared state.
    pub shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

impl BackgroundServer {
    /// Blocks until Ctrl-C or SIGTERM (the server keeps serving meanwhile).
    pub fn wait_for_stop(&self) {
        self._runtime.block_on(stop_signal());
    }
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The start-up banner: where to point SDKs and where events go.
fn banner(server: &Server) -> String {
    let url = &server.shared.live.url;
    let capture = server.shared.live.capture();
    let resumed = server.resumed();
    let mut s = format!(
        "streamscope listening on {url}\n  SDK server URL: {url}/2/httpapi  (also {url}/batch, and the form body on {url}/)\n  queries: GET {url}/streamscope/summary · /streamscope/events · /streamscope/rejected · POST /streamscope/reset\n  capture: {}",
        capture.display()
    );
    if resumed > 0 {
        s.push_str(&format!(" (resumed with {resumed} events already in it)"));
    }
    if let Some(f) = &server.shared.live.forward {
        s.push_str(&format!("\n  forwarding accepted requests to {f}"));
    }
    s
}

/// Warns on standard error when `addr` can be reached from other machines.
pub fn warn_unless_loopback(addr: SocketAddr) {
    if !addr.ip().is_loopback() {
        eprintln!(
            "streamscope: warning: listening on {addr}, which other machines can reach; anyone who can connect can send events and read them through /streamscope/events"
        );
    }
}

/// Runs `listen --no-tui`: the banner, one log line per request on standard output, and
/// the totals when Ctrl-C or SIGTERM stops it.
pub fn run_headless(opts: &Options) -> anyhow::Result<ExitCode> {
    warn_unless_loopback(opts.addr);
    let server = Server::bind(opts, true)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", banner(&server))?;
    out.flush()?;
    drop(out);
    let shared = Arc::clone(&server.shared);
    server.serve_until(stop_signal())?;
    let c = shared.live.counters.snapshot();
    writeln!(
        std::io::stdout().lock(),
        "stopped: {} requests, {} events captured ({} already received, {} rejected, {} rejected requests) in {}",
        c.requests,
        c.events,
        c.duplicates,
        c.rejected_events,
        c.rejected_requests,
        shared.live.capture().display()
    )?;
    Ok(ExitCode::SUCCESS)
}
