//! Writes a seeded, deterministic, Amplitude-Export-like NDJSON file for benchmarks.
//!
//! ```text
//! gen_export OUT_PATH [--events N (default 2000000)] [--users U (default 40000)] [--seed S (default 42)]
//! cargo run --release --example gen_export -- target/bench/export-2m.ndjson
//! rustc -O examples/gen_export.rs && ./gen_export /tmp/export.ndjson --events 20000
//! ```
//!
//! Standard library only, so it also builds alone with `rustc`. Each line is one Export row
//! (~650 bytes on average, ~1.3 GB for 2M events) with the usual keys in Export's (alphabetical)
//! order: `$insert_id`, `amplitude_id` (one per user), `client_event_time` (the
//! `YYYY-MM-DD HH:MM:SS.ffffff` UTC form), `session_id` (integer ms), nested
//! `event_properties` and `user_properties`, strings with JSON escapes (`\"`, `\u00e9`),
//! numbers, booleans and nulls.
//!
//! Per user, sessions spread over 30 days from 2026-10-01: `session_id` = the session's first
//! event time; events 5 s to 4 min apart, 5% of steps a 6 to 40 minute gap; some sessions
//! open with `session_start` (web: `[Amplitude] Start Session`) and close with `session_end`;
//! ~2% of events are server-side with `session_id` -1, ~1% are `$identify`, ~1% are re-emitted
//! later with the same `device_id` and `$insert_id` (an SDK retry). Some users start anonymous
//! (`user_id` null) and log in later; some never log in.
//!
//! Rows are not in per-user order: like a real export they are grouped by the hour of
//! `server_upload_time` and shuffled within the hour, so users interleave and a few late
//! (offline) uploads land hours after their event time.
//!
//! The number of lines written is exactly N (duplicate copies and markers included). The
//! figures (events, users with at least one event, bytes) go to stderr at the end.

use std::env;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process;
use std::time::Instant;

/// 2026-10-01T00:00:00Z in ms.
const START_MS: i64 = 1_790_812_800_000;
const SPAN_MS: i64 = 30 * 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const MIN_MS: i64 = 60_000;

// salts that give each purpose its own random stream
const SALT_USERS: u64 = 1;
const SALT_EVENTS: u64 = 2;
const SALT_UPLOAD: u64 = 3;
const SALT_ROW: u64 = 4;

// ------------------------------------------------------------------------------------------
// random numbers: splitmix64, seeded per purpose so that rendering is reproducible
// ------------------------------------------------------------------------------------------

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash3(a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(a) ^ b) ^ c)
}

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(mix(seed))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len() as u64) as usize]
    }
    /// Exponentially distributed with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -(1.0 - self.unit()).ln() * mean
    }
}

// ------------------------------------------------------------------------------------------
// vocabulary (strings are written as JSON string contents: escapes are intentional)
// ------------------------------------------------------------------------------------------

const K_SESSION_START: u8 = 0;
const K_SESSION_END: u8 = 1;
const K_IDENTIFY: u8 = 2;
const K_APP_OPENED: u8 = 3;
const K_SCREEN: u8 = 4;
const K_PRODUCT: u8 = 5;
const K_SEARCH: u8 = 6;
const K_ADD_TO_CART: u8 = 7;
const K_CHECKOUT: u8 = 8;
const K_PURCHASE: u8 = 9;
const K_CLICK: u8 = 10;
const K_SERVER: u8 = 11; // 11..=14: server-side, session_id -1

const MOBILE_TYPES: [&str; 15] = [
    "session_start",
    "session_end",
    "$identify",
    "App Opened",
    "Screen Viewed",
    "Product Viewed",
    "Search",
    "Add to Cart",
    "Checkout Started",
    "Purchase",
    "Button Clicked",
    "Subscription Renewed",
    "Push Notification Sent",
    "Email Opened",
    "Order Shipped",
];
const WEB_TYPES: [&str; 15] = [
    "[Amplitude] Start Session",
    "[Amplitude] End Session",
    "$identify",
    "[Amplitude] Page Viewed",
    "[Amplitude] Page Viewed",
    "Product Viewed",
    "Search",
    "Add to Cart",
    "Checkout Started",
    "Purchase",
    "[Amplitude] Element Clicked",
    "Subscription Renewed",
    "Push Notification Sent",
    "Email Opened",
    "Order Shipped",
];

struct Product {
    id: &'static str,
    name: &'static str,
    category: &'static str,
    cents: u64,
    tags: &'static str,
}

const PRODUCTS: [Product; 12] = [
    Product {
        id: "SKU-10482",
        name: "Linen Duvet Cover",
        category: "Bedroom",
        cents: 12900,
        tags: r#"["linen","bedroom"]"#,
    },
    Product {
        id: "SKU-10517",
        name: r"Cr\u00e8me Br\u00fbl\u00e9e Candle",
        category: "Home Fragrance",
        cents: 2450,
        tags: r#"["candle","gift"]"#,
    },
    Product {
        id: "SKU-20931",
        name: "Ceramic Pour-Over Set",
        category: "Kitchen",
        cents: 5800,
        tags: r#"["coffee","ceramic"]"#,
    },
    Product {
        id: "SKU-20977",
        name: r#"12\" Cast Iron Skillet"#,
        category: "Kitchen",
        cents: 6400,
        tags: r#"["cast-iron","kitchen"]"#,
    },
    Product {
        id: "SKU-31208",
        name: "Merino Throw Blanket",
        category: "Living Room",
        cents: 14500,
        tags: r#"["wool","living"]"#,
    },
    Product {
        id: "SKU-31744",
        name: "Oak Serving Board",
        category: "Kitchen",
        cents: 4200,
        tags: r#"["oak"]"#,
    },
    Product {
        id: "SKU-40016",
        name: "Rattan Pendant Lamp",
        category: "Lighting",
        cents: 18900,
        tags: r#"["lighting","rattan"]"#,
    },
    Product {
        id: "SKU-40388",
        name: "Stoneware Mug (set of 4)",
        category: "Kitchen",
        cents: 3600,
        tags: r#"["stoneware"]"#,
    },
    Product {
        id: "SKU-52210",
        name: "Waffle Bath Towel",
        category: "Bath",
        cents: 3200,
        tags: r#"["cotton","bath"]"#,
    },
    Product {
        id: "SKU-52291",
        name: r"Hammam Towel \u201cIzmir\u201d",
        category: "Bath",
        cents: 2900,
        tags: r#"["cotton","bath","gift"]"#,
    },
    Product {
        id: "SKU-60044",
        name: "Wool Rug 160x230",
        category: "Living Room",
        cents: 39900,
        tags: r#"["wool","rug"]"#,
    },
    Product {
        id: "SKU-60102",
        name: r"Caf\u00e9 Curtain, sage",
        category: "Living Room",
        cents: 4900,
        tags: r#"[]"#,
    },
];

struct Place {
    city: &'static str,
    country: &'static str,
    currency: &'static str,
}

const PLACES: [Place; 14] = [
    Place {
        city: "New York",
        country: "United States",
        currency: "USD",
    },
    Place {
        city: "San Francisco",
        country: "United States",
        currency: "USD",
    },
    Place {
        city: "Austin",
        country: "United States",
        currency: "USD",
    },
    Place {
        city: "Toronto",
        country: "Canada",
        currency: "CAD",
    },
    Place {
        city: r"Montr\u00e9al",
        country: "Canada",
        currency: "CAD",
    },
    Place {
        city: "London",
        country: "United Kingdom",
        currency: "GBP",
    },
    Place {
        city: "Berlin",
        country: "Germany",
        currency: "EUR",
    },
    Place {
        city: r"M\u00fcnchen",
        country: "Germany",
        currency: "EUR",
    },
    Place {
        city: r"Z\u00fcrich",
        country: "Switzerland",
        currency: "CHF",
    },
    Place {
        city: "Paris",
        country: "France",
        currency: "EUR",
    },
    Place {
        city: r"S\u00e3o Paulo",
        country: "Brazil",
        currency: "BRL",
    },
    Place {
        city: "Bengaluru",
        country: "India",
        currency: "INR",
    },
    Place {
        city: "Singapore",
        country: "Singapore",
        currency: "SGD",
    },
    Place {
        city: "Tokyo",
        country: "Japan",
        currency: "JPY",
    },
];

struct Device {
    platform: &'static str,
    os_name: &'static str,
    os_version: &'static str,
    model: &'static str,
    library: &'static str,
}

const DEVICES: [Device; 10] = [
    Device {
        platform: "iOS",
        os_name: "ios",
        os_version: "26.0.1",
        model: "iPhone 16 Pro",
        library: "amplitude-swift/1.9.0",
    },
    Device {
        platform: "iOS",
        os_name: "ios",
        os_version: "18.6.2",
        model: "iPhone 13",
        library: "amplitude-swift/1.8.4",
    },
    Device {
        platform: "iOS",
        os_name: "ios",
        os_version: "26.0",
        model: "iPad Air (M2)",
        library: "amplitude-swift/1.9.0",
    },
    Device {
        platform: "Android",
        os_name: "android",
        os_version: "16",
        model: "Pixel 8",
        library: "amplitude-analytics-android/1.21.2",
    },
    Device {
        platform: "Android",
        os_name: "android",
        os_version: "15",
        model: "SM-S921B",
        library: "amplitude-analytics-android/1.21.2",
    },
    Device {
        platform: "Android",
        os_name: "android",
        os_version: "14",
        model: "moto g84 5G",
        library: "amplitude-analytics-android/1.19.4",
    },
    Device {
        platform: "Web",
        os_name: "Chrome",
        os_version: "141.0.0.0",
        model: "Windows",
        library: "amplitude-ts/2.48.1",
    },
    Device {
        platform: "Web",
        os_name: "Chrome",
        os_version: "141.0.0.0",
        model: "Macintosh",
        library: "amplitude-ts/2.48.1",
    },
    Device {
        platform: "Web",
        os_name: "Safari",
        os_version: "26.0",
        model: "Macintosh",
        library: "amplitude-ts/2.48.1",
    },
    Device {
        platform: "Web",
        os_name: "Firefox",
        os_version: "144.0",
        model: "Linux",
        library: "amplitude-ts/2.47.0",
    },
];

const SCREENS: [&str; 8] = [
    "Home",
    "Category",
    "Search Results",
    "Product Detail",
    "Cart",
    "Wishlist",
    "Account",
    "Inspiration",
];
const PAGES: [(&str, &str); 6] = [
    ("/", r"Larkspur \u2013 Home goods"),
    ("/collections/kitchen", r"Kitchen \u2013 Larkspur"),
    ("/collections/bedroom", r"Bedroom \u2013 Larkspur"),
    ("/collections/living-room", r"Living Room \u2013 Larkspur"),
    (
        "/journal/autumn-edit",
        r#"\"The Autumn Edit\" \u2013 Journal"#,
    ),
    ("/cart", r"Cart \u2013 Larkspur"),
];
const QUERIES: [&str; 8] = [
    "linen duvet",
    "pour over",
    r"caf\u00e9 curtain",
    "towel",
    r#"\"cast iron\""#,
    "lamp",
    "rug 160",
    "candle gift",
];
const SORTS: [&str; 3] = ["relevance", "price_asc", "newest"];
const PAYMENTS: [&str; 5] = ["card", "apple_pay", "google_pay", "paypal", "klarna"];
const CAMPAIGNS: [&str; 4] = [
    "price-drop",
    "autumn-edit",
    "back-in-stock",
    r"caf\u00e9-week",
];
const PLANS: [&str; 3] = ["free", "premium", "premium_annual"];
const BUTTONS: [&str; 5] = [
    "Add to wishlist",
    "Share",
    "Size guide",
    r"Notify me \u2192",
    "Apply coupon",
];

// ------------------------------------------------------------------------------------------
// users and events
// ------------------------------------------------------------------------------------------

struct User {
    amplitude_id: u64,
    id_seed: u64,
    device: u8,
    place: u8,
    plan: u8,
    /// events (by seq) before this one have `user_id` null; u32::MAX = never logs in
    login_seq: u32,
}

#[derive(Clone, Copy)]
struct Ev {
    /// upload hour in the high half, a shuffle hash in the low half
    key: u64,
    time: i64,
    session_id: i64,
    user: u32,
    seq: u32,
    kind: u8,
    copy: u8,
}

/// Upload delay of one emitted row: seconds normally, sometimes hours (offline), and
/// minutes to hours more for an SDK retry copy.
/// Returns (client upload delay, server upload delay), both from the event time.
fn upload_delays(seed: u64, user: u32, seq: u32, copy: u8) -> (i64, i64) {
    let h = hash3(
        seed ^ SALT_UPLOAD,
        (u64::from(user) << 32) | u64::from(seq),
        u64::from(copy),
    );
    let base = 800 + (h % 45_000) as i64;
    let offline = if (h >> 32) % 100 < 2 {
        ((h >> 40) % (6 * HOUR_MS as u64)) as i64
    } else {
        0
    };
    let retry = if copy > 0 {
        5_000 + ((h >> 20) % (2 * HOUR_MS as u64)) as i64
    } else {
        0
    };
    let client = base + offline + retry;
    (client, client + 80 + ((h >> 8) % 900) as i64)
}

struct Args {
    out: String,
    events: u64,
    users: u64,
    seed: u64,
}

fn usage() -> ! {
    eprintln!(
        "usage: gen_export OUT_PATH [--events N (default 2000000)] [--users U (default 40000)] [--seed S (default 42)]"
    );
    process::exit(2)
}

fn parse_args() -> Args {
    let mut out = None;
    let mut a = Args {
        out: String::new(),
        events: 2_000_000,
        users: 40_000,
        seed: 42,
    };
    let mut it = env::args().skip(1);
    while let Some(arg) = it.next() {
        let target = match arg.as_str() {
            "--events" => &mut a.events,
            "--users" => &mut a.users,
            "--seed" => &mut a.seed,
            "-h" | "--help" => usage(),
            _ if arg.starts_with("--") => {
                eprintln!("gen_export: unknown option {arg}");
                usage()
            }
            _ => {
                if out.is_some() {
                    usage();
                }
                out = Some(arg);
                continue;
            }
        };
        match it.next().map(|v| v.replace('_', "").parse::<u64>()) {
            Some(Ok(v)) => *target = v,
            _ => {
                eprintln!("gen_export: {arg} needs a non-negative integer");
                usage()
            }
        }
    }
    match out {
        Some(o) => a.out = o,
        None => usage(),
    }
    if a.users == 0 && a.events > 0 {
        eprintln!("gen_export: --users must be at least 1");
        usage();
    }
    a
}

fn make_users(a: &Args) -> (Vec<User>, Vec<u64>) {
    let mut rng = Rng::new(a.seed ^ SALT_USERS);
    let n = a.users as usize;
    let mut users = Vec::with_capacity(n);
    let mut weights = Vec::with_capacity(n);
    for i in 0..n {
        let device = rng.below(DEVICES.len() as u64) as u8;
        let login_seq = match rng.below(100) {
            0..=9 => u32::MAX,               // never logs in
            10..=29 => rng.below(40) as u32, // anonymous first, logs in later
            _ => 0,                          // always known
        };
        users.push(User {
            amplitude_id: 300_000_000_000 + i as u64 * 7_919 + rng.below(7_919),
            id_seed: rng.next(),
            device,
            place: rng.below(PLACES.len() as u64) as u8,
            plan: if rng.chance(0.8) {
                0
            } else {
                1 + rng.below(2) as u8
            },
            login_seq,
        });
        // a long tail: most users have a few dozen events, some hundreds
        weights.push(0.15 + rng.exp(1.0) * if rng.chance(0.05) { 6.0 } else { 1.0 });
    }
    // apportion exactly a.events over the users
    let total: f64 = weights.iter().sum();
    let mut counts: Vec<u64> = weights
        .iter()
        .map(|w| (a.events as f64 * w / total).floor() as u64)
        .collect();
    let mut assigned: u64 = counts.iter().sum();
    while assigned < a.events {
        let i = rng.below(n as u64) as usize;
        counts[i] += 1;
        assigned += 1;
    }
    while assigned > a.events {
        let i = rng.below(n as u64) as usize;
        if counts[i] > 0 {
            counts[i] -= 1;
            assigned -= 1;
        }
    }
    (users, counts)
}

/// Lays out one user's `count` rows as sessions over the 30 days.
fn user_events(seed: u64, ui: u32, user: &User, count: u64, out: &mut Vec<Ev>) {
    let mut rng = Rng::new(hash3(seed, SALT_EVENTS, u64::from(ui)));
    let web = DEVICES[user.device as usize].platform == "Web";
    let mut remaining = count;
    let mut seq: u32 = 0;
    // planned session starts, uniform over the 30 days (about 11 rows per session)
    let mut planned: Vec<i64> = (0..count.div_ceil(11))
        .map(|_| START_MS + rng.range(0, SPAN_MS - 1))
        .collect();
    planned.sort_unstable();
    let mut next_start = 0usize;
    let mut t = START_MS;
    let mut push = |kind: u8, time: i64, sid: i64, seq: &mut u32, rem: &mut u64, dup: bool| {
        let mut emit = |copy: u8, rem: &mut u64| {
            if *rem == 0 {
                return;
            }
            let up = time + upload_delays(seed, ui, *seq, copy).1;
            let shuffle = hash3(
                seed,
                (u64::from(ui) << 32) | u64::from(*seq),
                u64::from(copy),
            ) & 0xFFFF_FFFF;
            out.push(Ev {
                key: (((up / HOUR_MS) as u64) << 32) | shuffle,
                time,
                session_id: sid,
                user: ui,
                seq: *seq,
                kind,
                copy,
            });
            *rem -= 1;
        };
        emit(0, rem);
        if dup {
            emit(1, rem);
        }
        *seq += 1;
    };
    while remaining > 0 {
        // at least 6 minutes after the previous session's last event
        t = if next_start < planned.len() {
            planned[next_start].max(t + 6 * MIN_MS)
        } else {
            t + 6 * MIN_MS + rng.exp(2.0 * HOUR_MS as f64) as i64
        };
        if next_start == 0 && !planned.is_empty() {
            t = planned[0];
        }
        next_start += 1;
        let sid = t;
        let markers = rng.chance(if web { 0.5 } else { 0.7 });
        let n_active = 1 + rng.below(20);
        if markers {
            push(K_SESSION_START, t, sid, &mut seq, &mut remaining, false);
            t += rng.range(0, 1_500);
        }
        let mut i = 0;
        while i < n_active && remaining > 0 {
            if i > 0 {
                t += if rng.chance(0.05) {
                    rng.range(6 * MIN_MS, 40 * MIN_MS)
                } else {
                    rng.range(5_000, 240_000)
                };
            }
            let (kind, sid_ev) = if i > 0 && rng.chance(0.022) {
                (K_SERVER + rng.below(4) as u8, -1)
            } else if rng.chance(0.01) || (seq == user.login_seq && seq > 0) {
                (K_IDENTIFY, sid)
            } else if i == 0 {
                (K_APP_OPENED, sid)
            } else {
                let k = match rng.below(100) {
                    0..=29 => K_SCREEN,
                    30..=59 => K_PRODUCT,
                    60..=71 => K_SEARCH,
                    72..=83 => K_CLICK,
                    84..=92 => K_ADD_TO_CART,
                    93..=96 => K_CHECKOUT,
                    _ => K_PURCHASE,
                };
                (k, sid)
            };
            let dup = rng.chance(0.01);
            push(kind, t, sid_ev, &mut seq, &mut remaining, dup);
            i += 1;
        }
        if markers && remaining > 0 {
            push(K_SESSION_END, t, sid, &mut seq, &mut remaining, false);
        }
    }
}

// ------------------------------------------------------------------------------------------
// rendering
// ------------------------------------------------------------------------------------------

fn push_u64(b: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

fn push_i64(b: &mut Vec<u8>, v: i64) {
    if v < 0 {
        b.push(b'-');
    }
    push_u64(b, v.unsigned_abs());
}

fn push_digits(b: &mut Vec<u8>, v: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut v = v;
    for i in (0..width).rev() {
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    b.extend_from_slice(&tmp[..width]);
}

/// Money as a JSON number with two decimals.
fn push_cents(b: &mut Vec<u8>, cents: u64) {
    push_u64(b, cents / 100);
    b.push(b'.');
    push_digits(b, cents % 100, 2);
}

fn push_hex(b: &mut Vec<u8>, v: u64, digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        b.push(HEX[((v >> (i * 4)) & 0xF) as usize]);
    }
}

fn push_uuid(b: &mut Vec<u8>, h: u64, l: u64) {
    push_hex(b, h >> 32, 8);
    b.push(b'-');
    push_hex(b, h >> 16, 4);
    b.push(b'-');
    push_hex(b, 0x4000 | (h & 0x0FFF), 4);
    b.push(b'-');
    push_hex(b, 0x8000 | ((l >> 48) & 0x3FFF), 4);
    b.push(b'-');
    push_hex(b, l, 12);
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (UTC); the last three fraction digits are `micros`.
fn push_time(b: &mut Vec<u8>, ms: i64, micros: u64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000) as u64;
    // civil_from_days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    push_digits(b, y as u64, 4);
    b.push(b'-');
    push_digits(b, m as u64, 2);
    b.push(b'-');
    push_digits(b, d as u64, 2);
    b.push(b' ');
    push_digits(b, rem / 3_600_000, 2);
    b.push(b':');
    push_digits(b, rem / 60_000 % 60, 2);
    b.push(b':');
    push_digits(b, rem / 1_000 % 60, 2);
    b.push(b'.');
    push_digits(b, rem % 1_000, 3);
    push_digits(b, micros % 1_000, 3);
}

fn s(b: &mut Vec<u8>, text: &str) {
    b.extend_from_slice(text.as_bytes());
}

/// `"text"` (text must already be valid JSON string contents).
fn q(b: &mut Vec<u8>, text: &str) {
    b.push(b'"');
    b.extend_from_slice(text.as_bytes());
    b.push(b'"');
}

fn push_user_id(b: &mut Vec<u8>, u: &User) {
    b.extend_from_slice(b"\"u_");
    push_hex(b, u.id_seed >> 8, 10);
    b.push(b'"');
}

fn push_device_id(b: &mut Vec<u8>, u: &User) {
    b.push(b'"');
    push_uuid(b, mix(u.id_seed ^ 0xd1), mix(u.id_seed ^ 0xd2));
    b.push(b'"');
}

fn event_properties(b: &mut Vec<u8>, r: &mut Rng, kind: u8, web: bool, place: &Place, ev: &Ev) {
    let p = r.pick(&PRODUCTS);
    match kind {
        K_SESSION_START | K_SESSION_END | K_IDENTIFY => s(b, "{}"),
        K_APP_OPENED if !web => {
            s(b, r#"{"from_background":"#);
            s(b, if r.chance(0.3) { "true" } else { "false" });
            s(b, r#","launch_source":"#);
            q(b, r.pick_str(&["icon", "push", "deeplink", "widget"]));
            s(b, r#","cold_start_ms":"#);
            push_u64(b, 300 + r.below(2_500));
            s(b, "}");
        }
        K_APP_OPENED | K_SCREEN if web => {
            let (path, title) = *r.pick(&PAGES);
            s(b, r#"{"[Amplitude] Page Path":"#);
            q(b, path);
            s(b, r#","[Amplitude] Page Title":"#);
            q(b, title);
            s(
                b,
                r#","[Amplitude] Page URL":"https://shop.larkspur.example"#,
            );
            s(b, path);
            s(b, r#"","[Amplitude] Page Counter":"#);
            push_u64(b, 1 + r.below(12));
            if r.chance(0.25) {
                s(b, r#","referrer":"https://www.google.com/""#);
            }
            s(b, "}");
        }
        K_SCREEN => {
            s(b, r#"{"screen_name":"#);
            q(b, r.pick_str(&SCREENS));
            s(b, r#","previous_screen":"#);
            if r.chance(0.2) {
                s(b, "null")
            } else {
                q(b, r.pick_str(&SCREENS))
            }
            s(b, r#","load_time_ms":"#);
            push_u64(b, 40 + r.below(900));
            s(b, "}");
        }
        K_PRODUCT | K_ADD_TO_CART => {
            s(b, r#"{"product_id":"#);
            q(b, p.id);
            s(b, r#","name":"#);
            q(b, p.name);
            s(b, r#","price":"#);
            push_cents(b, p.cents);
            s(b, r#","currency":"#);
            q(b, place.currency);
            if kind == K_PRODUCT {
                s(b, r#","in_stock":"#);
                s(b, if r.chance(0.9) { "true" } else { "false" });
                s(b, r#","tags":"#);
                s(b, p.tags);
                s(b, r#","variant":{"color":"#);
                q(b, r.pick_str(&["sage", "oat", "charcoal", r"ros\u00e9"]));
                s(b, r#","size":"#);
                if r.chance(0.5) {
                    s(b, "null")
                } else {
                    q(b, r.pick_str(&["S", "M", "L", "queen", "king"]))
                }
                s(b, "}}");
            } else {
                s(b, r#","quantity":"#);
                push_u64(b, 1 + r.below(3));
                s(b, r#","cart_size":"#);
                push_u64(b, 1 + r.below(6));
                s(b, "}");
            }
        }
        K_SEARCH => {
            s(b, r#"{"query":"#);
            q(b, r.pick_str(&QUERIES));
            s(b, r#","results_count":"#);
            push_u64(b, r.below(60));
            s(b, r#","filters":{"sort":"#);
            q(b, r.pick_str(&SORTS));
            s(b, r#","price_max":"#);
            if r.chance(0.7) {
                s(b, "null")
            } else {
                push_u64(b, 50 + r.below(300))
            }
            s(b, r#","in_stock_only":"#);
            s(b, if r.chance(0.4) { "true" } else { "false" });
            s(b, "}}");
        }
        K_CLICK => {
            if web {
                s(b, r#"{"[Amplitude] Element Text":"#);
                q(b, r.pick_str(&BUTTONS));
                s(
                    b,
                    r#","[Amplitude] Element Tag":"button","[Amplitude] Element Hierarchy":[{"tag":"div","class":["product-actions"]},{"tag":"button","index":"#,
                );
                push_u64(b, r.below(4));
                s(b, "}]}");
            } else {
                s(b, r#"{"button":"#);
                q(b, r.pick_str(&BUTTONS));
                s(b, r#","screen_name":"#);
                q(b, r.pick_str(&SCREENS));
                s(b, "}");
            }
        }
        K_CHECKOUT => {
            s(b, r#"{"cart_value":"#);
            push_cents(b, p.cents * (1 + r.below(3)));
            s(b, r#","item_count":"#);
            push_u64(b, 1 + r.below(4));
            s(b, r#","currency":"#);
            q(b, place.currency);
            s(b, r#","coupon":"#);
            if r.chance(0.8) {
                s(b, "null")
            } else {
                q(b, "AUTUMN15")
            }
            s(b, "}");
        }
        K_PURCHASE => {
            let n = 1 + r.below(2);
            let p2 = r.pick(&PRODUCTS);
            s(b, r#"{"order_id":"LS-"#);
            push_u64(
                b,
                100_000 + (mix((u64::from(ev.user) << 32) | u64::from(ev.seq)) % 900_000),
            );
            s(b, r#"","revenue":"#);
            push_cents(b, p.cents + if n > 1 { p2.cents } else { 0 });
            s(b, r#","currency":"#);
            q(b, place.currency);
            s(b, r#","items":[{"product_id":"#);
            q(b, p.id);
            s(b, r#","quantity":1}"#);
            if n > 1 {
                s(b, r#",{"product_id":"#);
                q(b, p2.id);
                s(b, r#","quantity":1}"#);
            }
            s(b, r#"],"payment_method":"#);
            q(b, r.pick_str(&PAYMENTS));
            s(b, r#","gift":"#);
            s(b, if r.chance(0.1) { "true" } else { "false" });
            s(b, "}");
        }
        _ => match kind - K_SERVER {
            0 => {
                s(
                    b,
                    r#"{"plan":"premium_annual","amount":79.99,"renewal_count":"#,
                );
                push_u64(b, 1 + r.below(6));
                s(b, r#","billing_provider":"#);
                q(b, if web { "stripe" } else { "app_store" });
                s(b, "}");
            }
            1 | 2 => {
                s(b, r#"{"campaign":"#);
                q(b, r.pick_str(&CAMPAIGNS));
                s(b, r#","channel":"#);
                q(
                    b,
                    if kind == K_SERVER + 1 {
                        "push"
                    } else {
                        "email"
                    },
                );
                s(b, r#","variant":"#);
                q(b, r.pick_str(&["A", "B"]));
                s(b, "}");
            }
            _ => {
                s(b, r#"{"carrier":"#);
                q(
                    b,
                    r.pick_str(&["UPS", "DHL", "Royal Mail", r"La Poste \u2013 Colissimo"]),
                );
                s(b, r#","tracking_number":"1Z"#);
                push_hex(b, r.next(), 12);
                s(b, r#"","items":"#);
                push_u64(b, 1 + r.below(3));
                s(b, "}");
            }
        },
    }
}

fn render(b: &mut Vec<u8>, ev: &Ev, u: &User, seed: u64) {
    let dev = &DEVICES[u.device as usize];
    let web = dev.platform == "Web";
    let place = &PLACES[u.place as usize];
    let server = ev.kind >= K_SERVER;
    // content that a retry copy shares with its original depends on (user, seq) only
    let ehash = hash3(
        seed,
        SALT_ROW,
        (u64::from(ev.user) << 32) | u64::from(ev.seq),
    );
    let mut r = Rng::new(ehash);
    let types = if web { &WEB_TYPES } else { &MOBILE_TYPES };
    let logged_in = ev.seq >= u.login_seq;

    s(b, r#"{"$insert_id":""#);
    push_uuid(b, ehash, mix(ehash));
    s(b, r#"","amplitude_id":"#);
    push_u64(b, u.amplitude_id);
    s(b, r#","city":"#);
    q(b, place.city);
    s(b, r#","client_event_time":""#);
    push_time(b, ev.time, ehash >> 40);
    s(b, r#"","country":"#);
    q(b, place.country);
    s(b, r#","device_id":"#);
    push_device_id(b, u);
    s(b, r#","device_model":"#);
    q(b, dev.model);
    s(b, r#","event_id":"#);
    push_u64(b, u64::from(ev.seq) + 1);
    s(b, r#","event_properties":"#);
    event_properties(b, &mut r, ev.kind, web, place, ev);
    s(b, r#","event_type":"#);
    q(b, types[ev.kind as usize]);
    s(b, r#","library":"#);
    q(b, if server { "http/2.0" } else { dev.library });
    s(b, r#","os_name":"#);
    q(b, dev.os_name);
    s(b, r#","os_version":"#);
    q(b, dev.os_version);
    s(b, r#","platform":"#);
    q(b, dev.platform);
    s(b, r#","session_id":"#);
    push_i64(b, ev.session_id);
    s(b, r#","user_id":"#);
    if logged_in {
        push_user_id(b, u);
    } else {
        s(b, "null");
    }
    s(b, r#","user_properties":{"plan":"#);
    q(b, PLANS[u.plan as usize]);
    s(b, r#","lifetime_orders":"#);
    push_u64(b, u64::from(ev.seq / 40));
    if !web {
        s(b, r#","push_enabled":"#);
        s(b, if u.id_seed & 1 == 0 { "true" } else { "false" });
    }
    if logged_in && (u.id_seed >> 3).is_multiple_of(3) {
        s(b, r#","favorite_categories":["#);
        q(b, PRODUCTS[(u.id_seed % 12) as usize].category);
        s(b, ",");
        q(b, PRODUCTS[(u.id_seed / 12 % 12) as usize].category);
        s(b, "]");
    }
    s(b, "}}\n");
}

fn run(a: &Args) -> io::Result<(u64, u64, u64)> {
    let (users, counts) = make_users(a);
    let mut events: Vec<Ev> = Vec::with_capacity(a.events as usize);
    for (i, (u, &c)) in users.iter().zip(counts.iter()).enumerate() {
        if c > 0 {
            user_events(a.seed, i as u32, u, c, &mut events);
        }
    }
    // Export order: by upload hour, shuffled within the hour
    events.sort_unstable_by_key(|e| (e.key, e.user, e.seq, e.copy));

    let dir = Path::new(&a.out)
        .parent()
        .filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        fs::create_dir_all(dir)?;
    }
    let mut w = BufWriter::with_capacity(16 << 20, File::create(&a.out)?);
    let mut line: Vec<u8> = Vec::with_capacity(4096);
    let mut bytes = 0u64;
    for ev in &events {
        line.clear();
        render(&mut line, ev, &users[ev.user as usize], a.seed);
        w.write_all(&line)?;
        bytes += line.len() as u64;
    }
    w.flush()?;
    let active_users = counts.iter().filter(|&&c| c > 0).count() as u64;
    Ok((events.len() as u64, active_users, bytes))
}

fn main() {
    let a = parse_args();
    let started = Instant::now();
    match run(&a) {
        Ok((events, users, bytes)) => {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "gen_export: wrote {} events, {} users, {} bytes ({:.2} GB, avg {:.0} B/line) to {} in {:.2} s ({:.0} MB/s)",
                events,
                users,
                bytes,
                bytes as f64 / 1e9,
                if events > 0 {
                    bytes as f64 / events as f64
                } else {
                    0.0
                },
                a.out,
                secs,
                bytes as f64 / 1e6 / secs.max(1e-9),
            );
        }
        Err(e) => {
            eprintln!("gen_export: {}: {e}", a.out);
            process::exit(1);
        }
    }
}
