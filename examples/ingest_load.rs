//! Load generator for `streamscope listen`: concurrent clients posting batches of realistic
//! events back to back, measuring per-request latency and recording what was acknowledged.
//!
//! ```text
//! cargo run --release --example ingest_load -- --url http://127.0.0.1:PORT/2/httpapi \
//!     [--clients 8] [--batch 100] [--duration 10s] [--events N] [--acked FILE] [--users 1000]
//! ```
//!
//! - Each client is a tokio task with its own keep-alive connection (one `reqwest::Client`
//!   with at most one idle connection), sending one batch, waiting for the full answer, then
//!   sending the next.
//! - Events are ~500 bytes: `insert_id` = `<client>-<seq>` (unique per run), `event_type`
//!   from a small set, `user_id`/`device_id` from a pool of users, `session_id`, `time`,
//!   device fields, `event_properties`, `user_properties`. The part after `insert_id` comes
//!   from 1024 pre-rendered variants, so building a 100-event body is a few memcpys and
//!   integer formats: the generator measures the server, not itself.
//! - It stops at `--duration` (default 10 s) or once `--events` events were sent, whichever
//!   comes first; batches in flight at the deadline are finished and counted.
//! - A batch is *acknowledged* when the answer is HTTP 200. With `--acked FILE`, the
//!   insert_ids of every acknowledged batch are appended to FILE (one a line, one
//!   `write(2)` per answer, unbuffered) as answers arrive, so killing the server mid-run
//!   leaves an exact list of what it acknowledged.
//! - Connection errors and non-200 answers are counted, not fatal: the client waits 20 ms
//!   and moves on to its next batch (a failed batch is not resent), so the run survives the
//!   server being killed.
//!
//! At the end it prints the figures, then one machine-readable line starting with
//! `result ` (`key=value` pairs) for `bench/ingest.sh`. Latency is from the start of the
//! send to the last byte of the answer. MB are 10^6 bytes of request body.
#![allow(
    clippy::print_stdout,
    reason = "an example: its output is the report on standard output"
)]
#![allow(
    clippy::cast_precision_loss,
    reason = "display figures (rates, milliseconds)"
)]

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: ingest_load --url URL [--clients N] [--batch N] [--duration 10s] [--events N] [--acked FILE] [--users N]";

struct Args {
    url: String,
    clients: usize,
    batch: usize,
    duration: Option<Duration>,
    events: Option<u64>,
    acked: Option<PathBuf>,
    users: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        clients: 8,
        batch: 100,
        duration: None,
        events: None,
        acked: None,
        users: 1000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| -> Result<u64, String> {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag}: '{v}' is not a positive integer"))
        };
        match flag.as_str() {
            "--url" => args.url = value,
            "--clients" => args.clients = usize::try_from(num(&value)?).unwrap_or(usize::MAX),
            "--batch" => args.batch = usize::try_from(num(&value)?).unwrap_or(usize::MAX),
            "--users" => args.users = usize::try_from(num(&value)?).unwrap_or(usize::MAX),
            "--events" => args.events = Some(num(&value)?),
            "--duration" => {
                args.duration = Some(
                    humantime::parse_duration(&value)
                        .map_err(|e| format!("--duration '{value}': {e}"))?,
                );
            }
            "--acked" => args.acked = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option '{other}'\n{USAGE}")),
        }
    }
    if args.url.is_empty() {
        return Err(format!("--url is required\n{USAGE}"));
    }
    if args.duration.is_none() && args.events.is_none() {
        args.duration = Some(Duration::from_secs(10));
    }
    Ok(args)
}

// ------------------------------------------------------------------------------------------
// events
// ------------------------------------------------------------------------------------------

/// splitmix64: deterministic variety without a dependency.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(set: &[&'a str], r: u64) -> &'a str {
    set[usize::try_from(r % set.len() as u64).unwrap_or(0)]
}

const EVENT_TYPES: &[&str] = &[
    "screen_view",
    "button_click",
    "add_to_cart",
    "checkout_started",
    "purchase",
    "search",
    "session_start",
    "[Amplitude] Page Viewed",
];
const SCREENS: &[&str] = &[
    "home", "catalog", "product", "cart", "checkout", "profile", "settings",
];
const PLATFORMS: &[(&str, &str, &str, &str)] = &[
    ("iOS", "ios", "17.5.1", "iPhone15,2"),
    ("Android", "android", "14", "Pixel 8"),
    ("Web", "Chrome", "126.0", "Mac"),
];
const COUNTRIES: &[(&str, &str)] = &[
    ("France", "Lyon"),
    ("Germany", "Berlin"),
    ("United States", "Austin"),
    ("Japan", "Osaka"),
];

/// The part of event `variant` after `"insert_id":"…",`, closing brace included.
fn event_tail(variant: u64, users: u64, base_ms: i64) -> String {
    let r = mix(variant);
    let user = r % users;
    let u = mix(user ^ 0xD1CE);
    let (platform, os, os_version, model) = PLATFORMS[usize::try_from(u % 3).unwrap_or(0)];
    let (country, city) = COUNTRIES[usize::try_from((u >> 8) % 4).unwrap_or(0)];
    // A session per user and 10-minute slot; events a few seconds apart inside it.
    let offset = i64::try_from(variant).unwrap_or(0) * 1_700;
    let time = base_ms + offset;
    let session = time - time.rem_euclid(600_000);
    let price = (r >> 20) % 10_000;
    format!(
        concat!(
            r#""event_type":"{et}","user_id":"user-{user:05}","device_id":"{d1:08x}-{d2:04x}-4{d3:03x}-a{d4:03x}-{d5:012x}","#,
            r#""session_id":{session},"time":{time},"platform":"{platform}","os_name":"{os}","os_version":"{osv}","#,
            r#""device_model":"{model}","app_version":"4.{minor}.0","language":"en-US","country":"{country}","city":"{city}","ip":"$remote","#,
            r#""event_properties":{{"screen":"{screen}","source":"{source}","item_id":"sku-{item:05}","price":{pe}.{pc:02},"quantity":{qty},"ab_group":"{ab}"}},"#,
            r#""user_properties":{{"plan":"{plan}","signup_week":"2026-W{week:02}","push_enabled":{push}}}}}"#
        ),
        et = pick(EVENT_TYPES, r >> 3),
        user = user,
        d1 = u >> 32,
        d2 = (u >> 16) & 0xFFFF,
        d3 = u & 0xFFF,
        d4 = (u >> 12) & 0xFFF,
        d5 = mix(u) & 0xFFFF_FFFF_FFFF,
        session = session,
        time = time,
        platform = platform,
        os = os,
        osv = os_version,
        model = model,
        minor = (u >> 4) % 20,
        country = country,
        city = city,
        screen = pick(SCREENS, r >> 7),
        source = pick(&["push", "organic", "email", "ad"], r >> 11),
        item = (r >> 13) % 100_000,
        pe = price / 100,
        pc = price % 100,
        qty = 1 + (r >> 40) % 4,
        ab = pick(&["A", "B"], r >> 45),
        plan = pick(&["free", "pro", "team"], u >> 20),
        week = 1 + (u >> 24) % 52,
        push = (u >> 30) & 1 == 1,
    )
}

const VARIANTS: u64 = 1024;

/// Builds the body of a batch: `seq` is the client's first event number.
fn build_batch(
    tails: &[String],
    client: usize,
    first_seq: u64,
    batch: usize,
    body: &mut Vec<u8>,
    ids: &mut String,
) {
    body.clear();
    ids.clear();
    body.extend_from_slice(br#"{"api_key":"loadtest","events":["#);
    for i in 0..batch as u64 {
        let seq = first_seq + i;
        if i > 0 {
            body.push(b',');
        }
        let id_start = ids.len();
        let _ = writeln!(ids, "{client}-{seq}");
        body.extend_from_slice(br#"{"insert_id":""#);
        body.extend_from_slice(&ids.as_bytes()[id_start..ids.len() - 1]);
        body.extend_from_slice(br#"","#);
        let v = mix(seq ^ ((client as u64) << 40)) % VARIANTS;
        body.extend_from_slice(tails[usize::try_from(v).unwrap_or(0)].as_bytes());
    }
    body.extend_from_slice(b"]}");
}

// ------------------------------------------------------------------------------------------
// clients
// ------------------------------------------------------------------------------------------

#[derive(Default)]
struct ClientStats {
    requests: u64,
    acked_events: u64,
    acked_bytes: u64,
    errors: u64,
    non_200: u64,
    /// Per acknowledged request, microseconds.
    latencies_us: Vec<u64>,
    first_error: Option<String>,
}

struct Shared {
    url: String,
    batch: usize,
    tails: Vec<String>,
    deadline: Option<Instant>,
    /// Events still to send with `--events` (claimed a batch at a time).
    budget: Option<AtomicU64>,
    acked: Option<Mutex<File>>,
}

impl Shared {
    /// Claims the next batch's size, or `None` when the run is over.
    fn claim(&self) -> Option<usize> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let Some(budget) = &self.budget else {
            return Some(self.batch);
        };
        let want = self.batch as u64;
        let mut left = budget.load(Ordering::Relaxed);
        loop {
            if left == 0 {
                return None;
            }
            let take = want.min(left);
            match budget.compare_exchange_weak(
                left,
                left - take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(usize::try_from(take).unwrap_or(self.batch)),
                Err(now) => left = now,
            }
        }
    }
}

async fn client_task(shared: Arc<Shared>, client: usize) -> ClientStats {
    let mut stats = ClientStats::default();
    let http = match reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            stats.errors += 1;
            stats.first_error = Some(format!("cannot build the HTTP client: {e}"));
            return stats;
        }
    };
    let mut seq = 0u64;
    let mut body = Vec::with_capacity(shared.batch * 600 + 64);
    let mut ids = String::with_capacity(shared.batch * 12);
    while let Some(n) = shared.claim() {
        build_batch(&shared.tails, client, seq, n, &mut body, &mut ids);
        seq += n as u64;
        let len = body.len() as u64;
        stats.requests += 1;
        let started = Instant::now();
        let sent = http
            .post(&shared.url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(_) if status == 200 => Ok(()),
                    Ok(answer) => Err((
                        true,
                        format!("HTTP {status}: {}", String::from_utf8_lossy(&answer)),
                    )),
                    Err(e) => Err((false, format!("reading the answer: {e}"))),
                }
            }
            Err(e) => Err((false, format!("sending: {e}"))),
        };
        let took = started.elapsed();
        match outcome {
            Ok(()) => {
                stats
                    .latencies_us
                    .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                stats.acked_events += n as u64;
                stats.acked_bytes += len;
                if let Some(file) = &shared.acked {
                    let mut f = file
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Err(e) = f.write_all(ids.as_bytes()) {
                        eprintln!("ingest_load: cannot write the acked list: {e}");
                    }
                }
            }
            Err((answered, e)) => {
                if answered {
                    stats.non_200 += 1;
                }
                stats.errors += 1;
                if stats.first_error.is_none() {
                    stats.first_error = Some(e);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    stats
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // nearest rank
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1] as f64 / 1000.0
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ingest_load: {e}");
            return ExitCode::from(2);
        }
    };
    let acked = match &args.acked {
        Some(path) => match OpenOptions::new().create(true).append(true).open(path) {
            Ok(f) => Some(Mutex::new(f)),
            Err(e) => {
                eprintln!("ingest_load: cannot open '{}': {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let base_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
        - 3_600_000;
    let tails: Vec<String> = (0..VARIANTS)
        .map(|v| event_tail(v, args.users as u64, base_ms))
        .collect();
    let avg_event = tails.iter().map(|t| t.len() + 20).sum::<usize>() / tails.len();
    streamscope::source::ensure_tls_provider();
    // One thread: the clients are I/O-bound, and the server gets the other core.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ingest_load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "ingest_load: {} clients x {}-event batches (~{avg_event} B an event) to {}{}{}",
        args.clients,
        args.batch,
        args.url,
        args.duration
            .map(|d| format!(", for {}", humantime::format_duration(d)))
            .unwrap_or_default(),
        args.events
            .map(|n| format!(", at most {n} events"))
            .unwrap_or_default(),
    );
    let started = Instant::now();
    let shared = Arc::new(Shared {
        url: args.url.clone(),
        batch: args.batch,
        tails,
        deadline: args.duration.map(|d| started + d),
        budget: args.events.map(AtomicU64::new),
        acked,
    });
    let all: Vec<ClientStats> = runtime.block_on(async {
        let handles: Vec<_> = (0..args.clients)
            .map(|c| tokio::spawn(client_task(Arc::clone(&shared), c)))
            .collect();
        let mut all = Vec::new();
        for h in handles {
            match h.await {
                Ok(s) => all.push(s),
                Err(e) => eprintln!("ingest_load: a client failed: {e}"),
            }
        }
        all
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat: Vec<u64> = all
        .iter()
        .flat_map(|s| s.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let requests: u64 = all.iter().map(|s| s.requests).sum();
    let events: u64 = all.iter().map(|s| s.acked_events).sum();
    let bytes: u64 = all.iter().map(|s| s.acked_bytes).sum();
    let errors: u64 = all.iter().map(|s| s.errors).sum();
    let non_200: u64 = all.iter().map(|s| s.non_200).sum();
    let eps = events as f64 / elapsed;
    let mbps = bytes as f64 / 1e6 / elapsed;
    let (p50, p90, p99) = (
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
    );
    let max = lat.last().map_or(0.0, |m| *m as f64 / 1000.0);
    println!(
        "requests {requests} ({} acknowledged) in {elapsed:.2} s",
        lat.len()
    );
    println!("events acknowledged {events}: {eps:.0} events/s, {mbps:.1} MB/s of request bodies");
    println!("latency ms: p50 {p50:.2}  p90 {p90:.2}  p99 {p99:.2}  max {max:.2}");
    println!("errors {errors} ({non_200} non-200 answers, the rest connection errors)");
    if let Some(e) = all.iter().find_map(|s| s.first_error.as_deref()) {
        println!("first error: {e}");
    }
    println!(
        "result requests={requests} acked_requests={} events={events} elapsed_s={elapsed:.3} events_per_s={eps:.0} mb_per_s={mbps:.2} p50_ms={p50:.3} p90_ms={p90:.3} p99_ms={p99:.3} max_ms={max:.3} errors={errors} non_200={non_200}",
        lat.len()
    );
    ExitCode::SUCCESS
}
