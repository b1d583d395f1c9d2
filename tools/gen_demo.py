#!/usr/bin/env python3
"""Writes assets/demo.ndjson, the small stream streamscope opens by default.

Usage:
    python3 tools/gen_demo.py            # (re)write assets/demo.ndjson
    python3 tools/gen_demo.py --check    # recompute the model figures of the file and verify them
    python3 tools/gen_demo.py --out PATH [--check]

Python 3 standard library only. Deterministic: every random choice comes from one
random.Random(SEED), so running it twice writes byte-identical files.

The stream
----------
"Larkspur", a home-goods shop, 2026-10-27 .. 2026-10-30 (UTC), eight users, HTTP V2 style
events (integer ms `time`, `insert_id`, `event_id`, `session_id` = session start in ms):

  maya@example.com   iOS iPhone (amplitude-swift/1.9.0), New York
  jonas@example.de   Android Pixel 8 (amplitude-analytics-android/1.21.2), Berlin
  omar@example.co.uk Android Galaxy S24 (amplitude-analytics-android/1.19.4), London
  chen@example.sg    iOS iPad (amplitude-swift/1.9.0), Singapore
  priya@example.in   Web, Chrome on Windows (amplitude-ts/2.48.1), Bengaluru
  lena@example.at    Web, Safari on macOS (amplitude-ts/2.48.1), Vienna; starts anonymous
  device 5b0e5b0c-…  Web, Firefox on Linux, Toronto; never logs in (a device-keyed user)
  sofia@example.es   Android Xiaomi (amplitude-analytics-android/1.21.2), Madrid; lifecycle
                     events on ([Amplitude] Application Opened / Backgrounded); uploads on
                     Wi-Fi only, so her three sessions of Oct 30 are the file's last lines

Mobile apps use the mobile SDK markers `session_start` / `session_end` (5 min SDK timeout);
the browser SDK uses `[Amplitude] Start Session` / `[Amplitude] End Session` (30 min timeout;
the End Session of a web session is stamped last event + 1 ms and only sent when the next
session starts, so those lines arrive late, as they do in real captures). The browser name
is in `os_name` and the OS in `device_model`, as amplitude-ts sends them. Server-side
events (library "http/2.0", five) have no device; four of them are Export-style rows whose time
is the string field `client_event_time` ("YYYY-MM-DD HH:MM:SS.ffffff", UTC).

Which user/session shows which flag of SESSION-MODEL.md (session ids in ms; local times)
-------------------------------------------------------------------------------------------
  empty               omar  sid 1793138410278 (Oct 27 22:00 London): session_start,
                      $identify, session_end only (a background refresh), no active event.
  zero_length         jonas sid 1793170510895 (Oct 28 07:55 Berlin): one tap on a push
                      notification; session_start, "Push Notification Opened" and
                      session_end all at time == session_id, so length 0.
  suspect_session_id  omar  sid 1793192429 (Oct 28 13:00 London): a home-screen widget
                      extension wrote the session id in SECONDS (min time - id > 1 day).
                      chen  sid 1793106017778 (Oct 27 21:00 Singapore): "Deep Link Opened" is
                      stamped 1.4 s before the session id (id after its first event).
  out of session      6 events: maya "Subscription Renewed" (-1, Export-style),
                      jonas "Push Notification Sent" (-1, Export-style), chen
                      "Subscription Renewed" (-1, Export-style), omar "Order Shipped" (-1,
                      Export-style), maya "Email Opened" (session_id absent), omar
                      "Widget Tapped" with session_id `true` (unusable form -> a warning).
  gap                 maya  sid 1793101246217 (Oct 27 07:40 New York): 7m12s between
                      "Screen Viewed" (Reviews) and "Add to Cart". Web sessions with a tab
                      left idle also have gaps: priya sid 1793075453551 (14m37s, then 9m05s),
                      priya sid 1793287838572 (25m02s, then 11m40s), lena sid 1793257527525
                      (8m22s), the anonymous Firefox device sid 1793282436598 (9m14s).
                      7 gap pairs in 5 sessions.
  bridged_gap         priya sid 1793179822612 (Oct 28 15:00 Bengaluru): Page Viewed
                      /journal/how-to-care-for-linen, then 12m06s later Page Viewed
                      /products/linen-duvet-cover, with three $identify heartbeats in between,
                      no step over 3m30s.
  unterminated        maya  sid 1793189148643 (Oct 28 08:05 New York): session_start, no
                      session_end (the app crashed); later sessions exist. Its events were
                      only uploaded at the next launch (late lines). The latest web sessions
                      are open too (no End Session yet), but a latest session is not flagged.
  end_props_changed   sofia sid 1793363424761 (Oct 30 13:30 Madrid): "Plan Selected" carries
                      plan free; an $identify then sets plan premium, so the session_end
                      carries other user properties than the session's last active event.
                      Her next session does the same but its session_end has
                      "$skip_user_properties_sync": true (the enrichment plugin fix): no flag.
                      (Every other end marker carries the user properties of its session's
                      last active event, as an export's events do.)
  background          sofia sid 1793344258294 (Oct 30 08:10 Madrid): after "[Amplitude]
                      Application Backgrounded", a geofence tracks 3 "Location Updated" events
                      ~3.5 min apart before "[Amplitude] Application Opened": 3 background
                      events, ~14 min of the session spent in the background.
  duplicates          2, both jonas on device 0f6d7e3c-3005-4706-9936-3c9930cf43ac: "Add to Cart"
                      of Oct 27 (identical payload, the SDK retry arrives 41 s later) and
                      "Purchase" of Oct 28 (same insert_id re-sent with a time 4 s later by a
                      custom retry).
  anonymous -> login  lena's Safari device: in sid 1793211041777 (Oct 28 19:10 Vienna) the
                      9 events up to "Sign Up Started" have no user_id; "Sign Up Completed"
                      and later carry user_id lena@example.at, so by rule 3 they are all lena's
                      and that is one session of one user.
  replay 5m vs 30m    split at 5m, not at 30m: the 6 sessions with gaps or the bridged gap
                      above. Merged at 30m (recorded sessions under 30 min apart):
                      maya 1793117737240 + 1793119240934 (Oct 27 12:15 and 12:40),
                      jonas 1793272212708 + 1793273739133 (Oct 29 12:10 and 12:35),
                      chen 1793106017778 + 1793107311715 (Oct 27 21:00 and 21:21),
                      chen 1793230254537 + 1793231487119 (Oct 29 07:30 and 07:51).
  rejected (4)        line 53 invalid JSON (a truncated capture line), line 115 no
                      event_type, line 200 no identity (an ERP cron event), line 301 time
                      "yesterday" (a QA ping).
  sanitising          priya's "Search" on Oct 27 (line 5) has query
                      "\\u001b[31mred\\u001b[0m linen throw\\u0007": an ANSI colour sequence and
                      a BEL control character.
  out of order        besides the late web End Session markers: maya's crashed session
                      (uploaded 11 h later), jonas's Oct 28 evening session (offline, uploaded
                      41 min later), the two duplicate copies.

`--check` re-derives everything above from the file alone, following SESSION-MODEL.md
(rejection, user keys incl. rule 3, sessions, flags, duplicates, replay at 5m and 30m),
prints the figures and fails if a flag is missing or lands on a session other than the one
documented here.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261027
DAY0 = datetime(2026, 10, 27, tzinfo=timezone.utc)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets" / "demo.ndjson"
MAX_BYTES = 400_000

# --------------------------------------------------------------------------------------
# generation
# --------------------------------------------------------------------------------------

PRODUCTS = [
    # id, name, category, price in USD, tags, url slug
    ("SKU-10482", "Linen Duvet Cover", "Bedroom", 129.0, ["linen", "bedroom"], "linen-duvet-cover"),
    ("SKU-10517", "Crème Brûlée Candle", "Home Fragrance", 24.5, ["candle", "gift"], "creme-brulee-candle"),
    ("SKU-20931", "Ceramic Pour-Over Set", "Kitchen", 58.0, ["coffee", "ceramic"], "ceramic-pour-over-set"),
    ("SKU-31208", "Merino Throw Blanket", "Living Room", 145.0, ["wool", "living"], "merino-throw-blanket"),
    ("SKU-31744", "Oak Serving Board", "Kitchen", 42.0, ["oak", "kitchen"], "oak-serving-board"),
    ("SKU-40016", "Rattan Pendant Lamp", "Lighting", 189.0, ["lighting", "rattan"], "rattan-pendant-lamp"),
    ("SKU-40388", "Stoneware Mug (set of 4)", "Kitchen", 36.0, ["stoneware", "kitchen"], "stoneware-mug-set"),
    ("SKU-52210", "Waffle Bath Towel", "Bath", 32.0, ["cotton", "bath"], "waffle-bath-towel"),
]
CURRENCY = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "INR": 84.0, "SGD": 1.36, "CAD": 1.38}
SCREENS = ["Home", "Category", "Search Results", "Wishlist", "Account", "Inspiration"]
DOMAIN = "shop.larkspur.example"
WEB_PAGES = [
    ("/", "Larkspur – Home goods, made slowly"),
    ("/collections/living-room", "Living Room – Larkspur"),
    ("/collections/kitchen", "Kitchen – Larkspur"),
    ("/collections/bedroom", "Bedroom – Larkspur"),
    ("/collections/lighting", "Lighting – Larkspur"),
    ("/journal/autumn-edit", "The Autumn Edit – Larkspur Journal"),
]
ANSI_QUERY = "\x1b[31mred\x1b[0m linen throw\x07"


def local_ms(day: int, hh: int, mm: int, tz_minutes: int, rng: random.Random) -> int:
    """UTC ms of local time `day` (0 = Oct 27) hh:mm in a zone at UTC+tz_minutes, plus jitter."""
    t = DAY0 + timedelta(days=day, hours=hh, minutes=mm) - timedelta(minutes=tz_minutes)
    return int(t.timestamp() * 1000) + rng.randint(0, 59_999)


def export_time(ms: int, rng: random.Random) -> str:
    """Export-style UTC time string with 6 fraction digits (the last 3 are sub-ms noise)."""
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S") + f".{ms % 1000:03d}{rng.randint(0, 999):03d}"


class Gen:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.items: list[tuple[int, int, str]] = []  # (upload ms, seq, line)
        self.seq = 0
        # (user key, session id) -> set of flags this session is documented to show
        self.expect: dict[tuple[str, int], set[str]] = {}
        self.merged_pairs: list[tuple[str, int, int]] = []

    def uuid(self, upper: bool = False) -> str:
        u = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return u.upper() if upper else u

    def emit(self, obj: dict, upload: int) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        self.items.append((upload, self.seq, line))
        self.seq += 1

    def emit_raw(self, line: str, upload: int) -> None:
        self.items.append((upload, self.seq, line))
        self.seq += 1

    def text(self) -> str:
        return "".join(line + "\n" for _, _, line in sorted(self.items))


class Device:
    def __init__(self, gen: Gen, fields: dict, user_id: str | None, tz: int, currency: str,
                 web: bool, event_id: int, device_id: str) -> None:
        self.gen = gen
        self.fields = fields
        self.user_id = user_id
        self.tz = tz
        self.currency = currency
        self.web = web
        self.event_id = event_id
        self.device_id = device_id
        self.pending_end: dict | None = None  # web End Session waiting for the next session
        self.user_props: dict = {}

    def key(self) -> str:
        return f"user_id:{self.user_id}" if self.user_id else f"device:{self.device_id}"

    def price(self, p: tuple) -> float:
        return round(p[3] * CURRENCY[self.currency], 2)


class Session:
    def __init__(self, dev: Device, start: int, sid: int | None = None, markers: bool = True,
                 expect: set[str] | None = None) -> None:
        self.dev = dev
        self.gen = dev.gen
        self.rng = dev.gen.rng
        self.sid = start if sid is None else sid
        self.t = start
        self.markers = markers
        self.events: list[dict] = []
        self.uploads: list[int] = []
        self.page_counter = 0
        self.cart: list[tuple[tuple, int]] = []
        self.expect = set(expect or ())
        # a pending web End Session of the previous session is sent when this one starts
        if dev.pending_end is not None:
            end = dev.pending_end
            dev.pending_end = None
            self.gen.emit(end, start + 900)
        if markers:
            self.ev("[Amplitude] Start Session" if dev.web else "session_start", dt=0)

    # -- time steps -------------------------------------------------------------------
    def step(self, dt) -> None:
        if dt is None:
            lo, hi = (4, 75) if self.dev.web else (6, 100)
            self.t += self.rng.randint(lo * 1000, hi * 1000)
        elif isinstance(dt, tuple):
            self.t += self.rng.randint(int(dt[0] * 1000), int(dt[1] * 1000))
        else:
            self.t += int(round(dt * 1000))

    def ev(self, event_type: str, props: dict | None = None, dt=None, user_props: dict | None = None,
           **extra) -> dict:
        self.step(dt)
        dev = self.dev
        e: dict = {}
        if dev.user_id:
            e["user_id"] = dev.user_id
        e["device_id"] = dev.device_id
        e["event_type"] = event_type
        e["time"] = self.t
        e["session_id"] = self.sid
        e["insert_id"] = self.gen.uuid()
        e["event_id"] = dev.event_id
        dev.event_id += 1
        e.update(dev.fields)
        if props is not None:
            e["event_properties"] = props
        if user_props is not None:
            e["user_properties"] = user_props
        e.update(extra)
        self.events.append(e)
        self.uploads.append(self.t + 1500)
        return e

    # -- building blocks ----------------------------------------------------------------
    def opened(self, source: str = "icon", dt=(0.2, 1.5)) -> None:
        props = {"from_background": source == "background", "launch_source": source}
        self.ev("App Opened", props, dt=dt, user_props=dict(self.dev.user_props) or None)

    def screen(self, name: str, dt=None) -> None:
        prev = getattr(self, "_screen", None)
        self._screen = name
        self.ev("Screen Viewed", {"screen_name": name, "previous_screen": prev}, dt=dt)

    def page(self, path: str, title: str, dt=None, referrer: str | None = None) -> None:
        self.page_counter += 1
        url = f"https://{DOMAIN}{path}"
        props = {
            "[Amplitude] Page Domain": DOMAIN,
            "[Amplitude] Page Location": url,
            "[Amplitude] Page Path": path,
            "[Amplitude] Page Title": title,
            "[Amplitude] Page URL": url,
            "[Amplitude] Page Counter": self.page_counter,
        }
        if referrer:
            props["referrer"] = referrer
        self.ev("[Amplitude] Page Viewed", props, dt=dt)

    def search(self, query: str, results: int, dt=None) -> None:
        props = {"query": query, "results_count": results,
                 "filters": {"sort": self.rng.choice(["relevance", "price_asc", "newest"]),
                             "in_stock_only": self.rng.random() < 0.4}}
        if self.dev.web:
            self.page(f"/search?q={query.replace(' ', '+')}" if query.isprintable() else "/search",
                      "Search – Larkspur", dt=dt)
            dt = (0.3, 1.2)
        self.ev("Search", props, dt=dt)

    def product(self, p: tuple, dt=None, source: str | None = None) -> None:
        if self.dev.web:
            self.page(f"/products/{p[5]}", f"{p[1]} – Larkspur", dt=dt)
            dt = (0.2, 0.9)
        props = {"product_id": p[0], "name": p[1], "category": p[2], "price": self.dev.price(p),
                 "currency": self.dev.currency, "in_stock": p[0] != "SKU-40016", "tags": p[4],
                 "source": source or self.rng.choice(["browse", "search", "recommendation"])}
        self.ev("Product Viewed", props, dt=dt)

    def add_to_cart(self, p: tuple, qty: int = 1, dt=None) -> dict:
        self.cart.append((p, qty))
        props = {"product_id": p[0], "name": p[1], "price": self.dev.price(p), "quantity": qty,
                 "currency": self.dev.currency, "cart_size": sum(q for _, q in self.cart)}
        return self.ev("Add to Cart", props, dt=dt)

    def cart_value(self) -> float:
        return round(sum(self.dev.price(p) * q for p, q in self.cart), 2)

    def checkout(self, dt=None) -> None:
        props = {"cart_value": self.cart_value(), "item_count": sum(q for _, q in self.cart),
                 "currency": self.dev.currency, "coupon": None,
                 "step": 1, "guest": False}
        self.ev("Checkout Started", props, dt=dt)

    def purchase(self, payment: str, dt=None) -> dict:
        total = self.cart_value()
        items = [{"product_id": p[0], "quantity": q, "price": self.dev.price(p)} for p, q in self.cart]
        props = {"order_id": f"LS-{self.rng.randint(100000, 999999)}", "revenue": total,
                 "currency": self.dev.currency, "item_count": sum(q for _, q in self.cart),
                 "items": items, "payment_method": payment,
                 "shipping": {"method": self.rng.choice(["standard", "express"]),
                              "country": self.dev.fields.get("country", "US"),
                              "cost": 0.0 if total > 100 else 4.95}}
        e = self.ev("Purchase", props, dt=dt, user_props=dict(self.dev.user_props) or None,
                    revenue=total, revenueType="purchase")
        self.cart = []
        return e

    def identify(self, set_props: dict | None = None, set_once: dict | None = None, dt=None) -> None:
        up: dict = {}
        if set_props:
            up["$set"] = set_props
            self.dev.user_props.update(set_props)
        if set_once:
            up["$setOnce"] = set_once
        self.ev("$identify", None, dt=dt, user_props=up)

    def browse(self, n: int) -> None:
        for _ in range(n):
            r = self.rng.random()
            if self.dev.web:
                if r < 0.35:
                    path, title = self.rng.choice(WEB_PAGES)
                    self.page(path, title)
                else:
                    self.product(self.rng.choice(PRODUCTS))
            elif r < 0.4:
                self.screen(self.rng.choice(SCREENS))
            else:
                self.product(self.rng.choice(PRODUCTS))

    # -- closing ------------------------------------------------------------------------
    def close(self, end: bool = True, upload_at: int | None = None, end_user_props: dict | None = None,
              end_extra: dict | None = None) -> "Session":
        """Emits the session. Mobile end markers are stamped with the last event time;
        the web End Session (last + 1 ms) waits for the next session of the device.
        The end marker carries the user properties of the session's last active event (as
        in an export, where each event has the user's properties at its time), unless
        `end_user_props` gives others (properties changed before the session ended)."""
        last_up = next((e.get("user_properties") for e in reversed(self.events)
                        if e["event_type"] not in INACTIVE), None)
        end_up = end_user_props if end_user_props is not None else last_up
        if end and self.markers and not self.dev.web:
            self.ev("session_end", dt=0, user_props=end_up or None, **(end_extra or {}))
        uploads = self.uploads if upload_at is None else [upload_at + i * 40 for i in range(len(self.uploads))]
        for e, up in zip(self.events, uploads):
            self.gen.emit(e, up)
        if end and self.markers and self.dev.web:
            last = max(e["time"] for e in self.events)
            e = {"user_id": self.dev.user_id} if self.dev.user_id else {}
            e.update({"device_id": self.dev.device_id, "event_type": "[Amplitude] End Session",
                      "time": last + 1, "session_id": self.sid, "insert_id": self.gen.uuid(),
                      "event_id": self.dev.event_id})
            self.dev.event_id += 1
            e.update(self.dev.fields)
            if end_up:
                e["user_properties"] = dict(end_up)
            self.dev.pending_end = e
        if self.expect:
            self.gen.expect[(self.dev.key(), self.sid)] = set(self.expect)
        return self

    def last_time(self) -> int:
        return max(e["time"] for e in self.events)


def server_event(gen: Gen, user_id: str, event_type: str, t: int, props: dict, export_style: bool,
                 session: object = -1) -> None:
    e: dict = {"user_id": user_id, "event_type": event_type}
    if export_style:
        e["client_event_time"] = export_time(t, gen.rng)
        e["event_time"] = e["client_event_time"]
        e["server_upload_time"] = export_time(t + 2400, gen.rng)
        e["$insert_id"] = gen.uuid()
    else:
        e["time"] = t
        e["insert_id"] = gen.uuid()
    if session is not None:
        e["session_id"] = session
    e["platform"] = "Server"
    e["library"] = "http/2.0"
    e["event_properties"] = props
    gen.emit(e, t + 2400)


def mobile_fields(platform: str, os_version: str, manufacturer: str, model: str, carrier: str | None,
                  app_version: str, library: str, language: str, country: str) -> dict:
    f = {"platform": platform, "os_name": "ios" if platform == "iOS" else "android",
         "os_version": os_version, "device_manufacturer": manufacturer, "device_model": model}
    if carrier:
        f["carrier"] = carrier
    f.update({"app_version": app_version, "language": language, "country": country, "ip": "$remote",
              "library": library})
    return f


def web_fields(browser: str, version: str, os_model: str, ua: str, language: str, country: str) -> dict:
    return {"platform": "Web", "os_name": browser, "os_version": version, "device_model": os_model,
            "language": language, "country": country, "ip": "$remote", "user_agent": ua,
            "library": "amplitude-ts/2.48.1"}


def generate() -> Gen:
    g = Gen()
    rng = g.rng
    P = {p[0]: p for p in PRODUCTS}

    # ---------------------------------------------------------------- devices
    maya = Device(g, mobile_fields("iOS", "26.0.1", "Apple", "iPhone 16 Pro", "Verizon", "4.12.0",
                                   "amplitude-swift/1.9.0", "en-US", "United States"),
                  "maya@example.com", -240, "USD", False, 1843, g.uuid(upper=True))
    jonas = Device(g, mobile_fields("Android", "16", "Google", "Pixel 8", "Telekom.de", "4.12.1",
                                    "amplitude-analytics-android/1.21.2", "de-DE", "Germany"),
                   "jonas@example.de", 60, "EUR", False, 977, "0f6d7e3c-" + g.uuid()[9:])
    omar = Device(g, mobile_fields("Android", "15", "samsung", "SM-S921B", "EE", "4.11.0",
                                   "amplitude-analytics-android/1.19.4", "en-GB", "United Kingdom"),
                  "omar@example.co.uk", 0, "GBP", False, 412, g.uuid())
    chen = Device(g, mobile_fields("iOS", "26.0", "Apple", "iPad Air (M2)", None, "4.12.0",
                                   "amplitude-swift/1.9.0", "en-SG", "Singapore"),
                  "chen@example.sg", 480, "SGD", False, 2210, g.uuid(upper=True))
    priya = Device(g, web_fields("Chrome", "141.0.0.0", "Windows",
                                 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                 "(KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
                                 "en-IN", "India"),
                   "priya@example.in", 330, "INR", True, 88, g.uuid())
    lena = Device(g, web_fields("Safari", "26.0", "Macintosh",
                                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                                "(KHTML, like Gecko) Version/26.0 Safari/605.1.15",
                                "de-AT", "Austria"),
                  None, 60, "EUR", True, 1, g.uuid())
    anon = Device(g, web_fields("Firefox", "144.0", "Linux",
                                "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0",
                                "en-CA", "Canada"),
                  None, -240, "CAD", True, 1, "5b0e5b0c-" + g.uuid()[9:])
    maya.user_props = {"plan": "premium", "loyalty_tier": "gold", "push_enabled": False,
                       "preferred_store": "Brooklyn"}
    jonas.user_props = {"plan": "free", "loyalty_tier": "silver", "newsletter": True}
    omar.user_props = {"plan": "free", "loyalty_tier": "bronze", "app_theme": "dark"}
    chen.user_props = {"plan": "premium", "loyalty_tier": "gold", "home_size_m2": 86}
    priya.user_props = {"plan": "free", "loyalty_tier": "silver", "journal_articles_read": 3}

    # ---------------------------------------------------------------- maya (iOS, New York)
    s = Session(maya, local_ms(0, 7, 40, maya.tz, rng), expect={"gap"})
    s.opened("icon")
    s.screen("Home")
    s.search("linen duvet", 14)
    s.product(P["SKU-10482"], source="search")
    s.screen("Reviews")
    s.add_to_cart(P["SKU-10482"], dt=7 * 60 + 12)  # the documented 7m12s gap
    s.screen("Cart")
    s.close()

    s2 = Session(maya, local_ms(0, 12, 15, maya.tz, rng))
    s2.opened("icon")
    s2.screen("Home")
    s2.browse(5)
    s2.product(P["SKU-10517"])
    s2.add_to_cart(P["SKU-10517"], qty=2)
    s2.close()
    s3 = Session(maya, s2.last_time() + 18 * 60_000 + 4_211)
    s3.cart = [(P["SKU-10482"], 1), (P["SKU-10517"], 2)]
    s3.opened("push")
    s3.screen("Cart")
    s3.checkout()
    s3.purchase("apple_pay", dt=(40, 80))
    s3.screen("Order Confirmation")
    s3.close()
    g.merged_pairs.append((maya.key(), s2.sid, s3.sid))

    server_event(g, "maya@example.com", "Subscription Renewed",
                 int((DAY0 + timedelta(days=1, hours=4)).timestamp() * 1000) + 31_337,
                 {"plan": "premium_annual", "amount": 79.99, "currency": "USD", "renewal_count": 2,
                  "billing_provider": "app_store", "trial": False}, export_style=True)

    s4 = Session(maya, local_ms(1, 8, 5, maya.tz, rng), expect={"unterminated"})
    s4.opened("icon")
    s4.screen("Home")
    s4.product(P["SKU-40016"])
    s4.ev("AR Preview Opened", {"product_id": "SKU-40016", "surface": "ceiling", "lidar": True})
    s4.screen("AR Preview")
    # crash: no session_end; the queue is flushed at the next launch (Oct 28 19:30)
    s5_start = local_ms(1, 19, 30, maya.tz, rng)
    s4.close(end=False, upload_at=s5_start + 2_000)

    server_event(g, "maya@example.com", "Email Opened",
                 int((DAY0 + timedelta(days=1, hours=13, minutes=20)).timestamp() * 1000) + 4_518,
                 {"campaign": "autumn-linen-edit", "email_client": "Apple Mail", "esp": "postmark"},
                 export_style=False, session=None)

    s = Session(maya, s5_start)
    s.opened("icon")
    s.identify({"push_enabled": True}, dt=(2, 5))
    s.screen("Home")
    s.product(P["SKU-40016"])
    s.add_to_cart(P["SKU-40016"])
    s.browse(5)
    s.screen("Cart")
    s.close()

    s = Session(maya, local_ms(2, 21, 10, maya.tz, rng))
    s.cart = [(P["SKU-40016"], 1)]
    s.opened("icon")
    s.screen("Cart")
    s.checkout()
    s.purchase("apple_pay", dt=(30, 70))
    s.screen("Order Confirmation")
    s.close()

    s = Session(maya, local_ms(3, 8, 10, maya.tz, rng))
    s.opened("icon")
    s.screen("Home")
    s.search("throw blanket", 11)
    s.browse(6)
    s.close()

    s = Session(maya, local_ms(3, 18, 45, maya.tz, rng))
    s.opened("push")
    s.screen("Inspiration")
    s.browse(8)
    s.close()

    # ---------------------------------------------------------------- jonas (Android, Berlin)
    s = Session(jonas, local_ms(0, 18, 20, jonas.tz, rng))
    s.opened("icon")
    s.screen("Home")
    s.search("leinen bettwäsche", 9)
    s.product(P["SKU-10482"], source="search")
    dup1 = s.add_to_cart(P["SKU-10482"])
    s.screen("Cart")
    s.product(P["SKU-31744"], source="recommendation")
    s.browse(4)
    s.close()
    g.emit(dict(dup1), dup1["time"] + 1500 + 41_000)  # SDK retry: identical payload

    s = Session(jonas, local_ms(1, 6, 45, jonas.tz, rng))
    s.opened("icon")
    s.browse(8)
    s.close()

    push_t = local_ms(1, 7, 54, jonas.tz, rng)
    server_event(g, "jonas@example.de", "Push Notification Sent", push_t,
                 {"campaign": "price-drop", "channel": "fcm", "product_id": "SKU-10482",
                  "locale": "de-DE"}, export_style=True)
    zs = local_ms(1, 7, 55, jonas.tz, rng)
    s = Session(jonas, zs, expect={"zero_length"})
    s.ev("Push Notification Opened", {"campaign": "price-drop", "notification_id": "n-7f3a19",
                                      "deep_link": "larkspur://products/SKU-10482"}, dt=0)
    s.close()

    s = Session(jonas, local_ms(1, 20, 40, jonas.tz, rng))
    s.cart = [(P["SKU-10482"], 1)]
    s.opened("icon")
    s.screen("Cart")
    s.checkout()
    pur = s.purchase("paypal", dt=(50, 90))
    s.screen("Order Confirmation")
    s.close(upload_at=s.last_time() + 41 * 60_000)  # offline on the U-Bahn
    dup2 = dict(pur)
    dup2["time"] = pur["time"] + 4_000  # a custom retry re-stamped the time, kept the insert_id
    g.emit(dup2, s.last_time() + 41 * 60_000 + 5_000)

    s1 = Session(jonas, local_ms(2, 12, 10, jonas.tz, rng))
    s1.opened("icon")
    s1.screen("Home")
    s1.search("pour over", 4)
    s1.product(P["SKU-20931"], source="search")
    s1.browse(5)
    s1.close()
    s2 = Session(jonas, s1.last_time() + 21 * 60_000 + 9_404)
    s2.opened("background")
    s2.product(P["SKU-20931"])
    s2.add_to_cart(P["SKU-20931"])
    s2.screen("Cart")
    s2.close()
    g.merged_pairs.append((jonas.key(), s1.sid, s2.sid))

    s = Session(jonas, local_ms(2, 21, 5, jonas.tz, rng))
    s.opened("icon")
    s.screen("Inspiration")
    s.browse(7)
    s.close()

    s = Session(jonas, local_ms(3, 19, 0, jonas.tz, rng))
    s.opened("icon")
    s.screen("Wishlist")
    s.browse(8)
    s.close()

    # ---------------------------------------------------------------- omar (Android, London)
    s = Session(omar, local_ms(0, 8, 30, omar.tz, rng))
    s.opened("icon")
    s.screen("Home")
    s.product(P["SKU-40388"])
    s.product(P["SKU-52210"])
    s.add_to_cart(P["SKU-52210"], qty=2)
    s.screen("Cart")
    s.browse(4)
    s.close()

    s = Session(omar, local_ms(0, 22, 0, omar.tz, rng), expect={"empty"})
    s.identify({"app_version": "4.11.0", "push_token_refreshed": True}, dt=0.8)
    s.close()

    wt = local_ms(1, 13, 0, omar.tz, rng)
    s = Session(omar, wt, sid=wt // 1000, markers=False, expect={"suspect_session_id"})
    s.ev("Widget Viewed", {"widget": "order_tracker", "size": "medium"}, dt=0)
    s.ev("Widget Tapped", {"widget": "order_tracker", "target": "order_status"})
    s.screen("Order Status")
    s.screen("Home")
    s.close()

    bad_sid = Session(omar, local_ms(1, 17, 45, omar.tz, rng), markers=False)
    e = bad_sid.ev("Widget Tapped", {"widget": "order_tracker", "target": "refresh"}, dt=0)
    e["session_id"] = True  # unusable form: out of session, with a warning
    bad_sid.close()

    s = Session(omar, local_ms(1, 20, 30, omar.tz, rng))
    s.opened("icon")
    s.screen("Home")
    s.browse(7)
    s.close()

    s = Session(omar, local_ms(2, 9, 0, omar.tz, rng))
    s.opened("icon")
    s.screen("Home")
    s.browse(3)
    s.search("waffle towel", 3)
    s.product(P["SKU-52210"], source="search")
    s.add_to_cart(P["SKU-52210"], qty=2)
    s.checkout()
    s.purchase("card", dt=(45, 95))
    s.close()

    server_event(g, "omar@example.co.uk", "Order Shipped",
                 local_ms(2, 16, 20, omar.tz, rng),
                 {"carrier": "Royal Mail", "tracking_number": "RM\"48213\"GB", "items": 2,
                  "warehouse": "Daventry"}, export_style=True)

    s = Session(omar, local_ms(3, 8, 15, omar.tz, rng))
    s.opened("push")
    s.screen("Account")
    s.screen("Orders")
    s.browse(4)
    s.close()

    # ---------------------------------------------------------------- chen (iPad, Singapore)
    st = local_ms(0, 21, 0, chen.tz, rng)
    s1 = Session(chen, st, markers=False, expect={"suspect_session_id"})
    s1.t = st
    s1.ev("Deep Link Opened", {"url": "larkspur://products/SKU-40016", "source": "instagram"}, dt=-1.4)
    s1.markers = True
    s1.ev("session_start", dt=1.4)
    s1.opened("deeplink", dt=(0.3, 0.8))
    s1.product(P["SKU-40016"], source="deeplink")
    s1.screen("Inspiration")
    s1.browse(6)
    s1.close()
    s2 = Session(chen, s1.last_time() + 14 * 60_000 + 2_050)
    s2.opened("background")
    s2.search("pendant lamp", 6)
    s2.product(P["SKU-40016"], source="search")
    s2.add_to_cart(P["SKU-40016"])
    s2.close()
    g.merged_pairs.append((chen.key(), s1.sid, s2.sid))

    s = Session(chen, local_ms(1, 20, 0, chen.tz, rng))
    s.opened("icon")
    s.screen("Home")
    s.browse(7)
    s.close()

    server_event(g, "chen@example.sg", "Subscription Renewed",
                 int((DAY0 + timedelta(days=2, hours=1, minutes=5)).timestamp() * 1000) + 7_021,
                 {"plan": "premium_monthly", "amount": 9.98, "currency": "SGD", "renewal_count": 7,
                  "billing_provider": "app_store", "trial": False}, export_style=True)

    s1 = Session(chen, local_ms(2, 7, 30, chen.tz, rng))
    s1.opened("icon")
    s1.screen("Home")
    s1.product(P["SKU-31744"])
    s1.browse(5)
    s1.close()
    s2 = Session(chen, s1.last_time() + 12 * 60_000 + 700)
    s2.cart = [(P["SKU-40016"], 1)]
    s2.opened("icon")
    s2.screen("Cart")
    s2.checkout()
    s2.purchase("apple_pay", dt=(35, 80))
    s2.close()
    g.merged_pairs.append((chen.key(), s1.sid, s2.sid))

    s = Session(chen, local_ms(3, 22, 0, chen.tz, rng))
    s.opened("icon")
    s.screen("Inspiration")
    s.browse(9)
    s.close()

    # ---------------------------------------------------------------- priya (Web, Bengaluru)
    s = Session(priya, local_ms(0, 10, 0, priya.tz, rng), expect={"gap"})
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4), referrer="https://www.google.com/")
    s.page("/collections/living-room", WEB_PAGES[1][1])
    s.search(ANSI_QUERY, 0)  # pasted from a terminal: ANSI colour + BEL
    s.search("merino throw", 2)
    s.product(P["SKU-31208"], source="search")
    s.product(P["SKU-10517"], dt=14 * 60 + 37, source="recommendation")  # tab left idle
    s.add_to_cart(P["SKU-10517"])
    s.page("/cart", "Cart – Larkspur", dt=9 * 60 + 5)
    s.close()

    s = Session(priya, local_ms(1, 15, 0, priya.tz, rng), expect={"bridged_gap"})
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4))
    s.page("/journal/how-to-care-for-linen", "How to care for linen – Larkspur Journal")
    s.identify({"journal_articles_read": 4, "last_seen_section": "journal"}, dt=3 * 60 + 5)
    s.identify({"journal_articles_read": 4, "scroll_depth_pct": 60}, dt=3 * 60 + 30)
    s.identify({"journal_articles_read": 4, "scroll_depth_pct": 100}, dt=3 * 60 + 20)
    s.product(P["SKU-10482"], dt=2 * 60 + 11, source="journal")  # 12m06s after the article
    s.add_to_cart(P["SKU-10482"])
    s.close()

    s = Session(priya, local_ms(2, 11, 40, priya.tz, rng))
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4))
    s.browse(10)
    s.close()

    s = Session(priya, local_ms(2, 21, 0, priya.tz, rng), expect={"gap"})
    s.cart = [(P["SKU-10517"], 1), (P["SKU-10482"], 1)]
    s.page("/cart", "Cart – Larkspur", dt=(0.1, 0.4))
    s.checkout()
    s.page("/checkout/payment", "Payment – Larkspur", dt=25 * 60 + 2)
    s.purchase("upi", dt=11 * 60 + 40)
    s.page("/order/confirmation", "Thank you – Larkspur")
    s.close()

    s = Session(priya, local_ms(3, 9, 30, priya.tz, rng))
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4), referrer="https://mail.google.com/")
    s.browse(7)
    s.close()  # the latest web session: its End Session is never sent (still open)

    # ---------------------------------------------------------------- lena (Web, Vienna)
    s = Session(lena, local_ms(1, 19, 10, lena.tz, rng))
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4), referrer="https://www.instagram.com/")
    s.page("/collections/kitchen", WEB_PAGES[2][1])
    s.product(P["SKU-20931"])
    s.product(P["SKU-31744"])
    s.page("/account/signup", "Create an account – Larkspur")
    s.ev("Sign Up Started", {"method": "email", "form": "checkout_gate"})
    lena.user_id = "lena@example.at"  # login: from here on events carry the user id
    s.ev("Sign Up Completed", {"method": "email", "newsletter_opt_in": True})
    lena.user_props = {"plan": "free", "loyalty_tier": "none"}
    s.identify({"plan": "free", "loyalty_tier": "none", "newsletter": True},
               set_once={"signup_date": "2026-10-28", "initial_referrer": "https://www.instagram.com/"},
               dt=(0.2, 0.6))
    s.page("/account", "Your account – Larkspur")
    s.close()
    lena_login_sid = s.sid

    s = Session(lena, local_ms(2, 8, 5, lena.tz, rng), expect={"gap"})
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4))
    s.product(P["SKU-20931"])
    s.add_to_cart(P["SKU-20931"])
    s.browse(4)
    s.product(P["SKU-40388"])
    s.page("/cart", "Cart – Larkspur", dt=8 * 60 + 22)
    s.close()

    s = Session(lena, local_ms(2, 21, 15, lena.tz, rng))
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4))
    s.browse(6)
    s.close()

    s = Session(lena, local_ms(3, 19, 40, lena.tz, rng))
    s.cart = [(P["SKU-20931"], 1)]
    s.page("/cart", "Cart – Larkspur", dt=(0.1, 0.4))
    s.checkout()
    s.purchase("klarna", dt=(60, 120))
    s.page("/order/confirmation", "Danke – Larkspur")
    s.close()

    # ---------------------------------------------------------------- anonymous Firefox visitor
    s = Session(anon, local_ms(2, 10, 0, anon.tz, rng), expect={"gap"})
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4), referrer="https://duckduckgo.com/")
    s.page("/collections/lighting", WEB_PAGES[4][1])
    s.product(P["SKU-40016"])
    s.page("/journal/autumn-edit", WEB_PAGES[5][1], dt=9 * 60 + 14)
    s.page("/collections/bedroom", WEB_PAGES[3][1])
    s.close()

    s = Session(anon, local_ms(3, 10, 30, anon.tz, rng))
    s.page("/", WEB_PAGES[0][1], dt=(0.1, 0.4))
    s.browse(7)
    s.close()

    # ---------------------------------------------------------------- bad records
    def at(day: int, hh: int, mm: int) -> int:
        return int((DAY0 + timedelta(days=day, hours=hh, minutes=mm)).timestamp() * 1000)

    t = at(0, 14, 3)
    trunc = json.dumps({"user_id": "jonas@example.de", "device_id": jonas.device_id,
                        "event_type": "Screen Viewed", "time": t, "session_id": t - 95_000,
                        "insert_id": g.uuid(), "event_properties": {"screen_name": "Wishlist"}},
                       ensure_ascii=False, separators=(",", ":"))
    g.emit_raw(trunc[: trunc.index('"screen_name"') + 17], t)  # cut off mid-string
    t = at(1, 10, 12)
    g.emit({"user_id": "omar@example.co.uk", "device_id": omar.device_id, "time": t,
            "session_id": t - 30_000, "insert_id": g.uuid(), "platform": "Android",
            "event_properties": {"screen_name": "Orders"}}, t)
    t = at(2, 3, 0)
    g.emit({"event_type": "Inventory Synced", "time": t, "session_id": -1, "insert_id": g.uuid(),
            "library": "http/2.0", "event_properties": {"skus_updated": 214, "source": "erp-cron"}}, t)
    t = at(2, 20, 30)
    g.emit({"user_id": "qa-bot@larkspur.example", "device_id": "qa-device-01", "event_type": "Debug Ping",
            "time": "yesterday", "insert_id": g.uuid(), "library": "curl/8.5.0"}, t)

    # ---------------------------------------------------------------- sofia (Android, Madrid)
    # An app on the Kotlin SDK with lifecycle tracking: "[Amplitude] Application Opened" and
    # "[Amplitude] Application Backgrounded". It uploads on Wi-Fi only, so the day's events
    # arrive together after 23:00 UTC, at the end of the file.
    sofia = Device(g, mobile_fields("Android", "16", "Xiaomi", "2407FPN8EG", "Movistar", "4.12.1",
                                    "amplitude-analytics-android/1.21.2", "es-ES", "Spain"),
                   "sofia@example.es", 60, "EUR", False, 301, g.uuid())
    sofia.user_props = {"plan": "free", "loyalty_tier": "silver", "app_theme": "light"}

    def lifecycle_opened(s: Session, from_background: bool, dt) -> None:
        s.ev("[Amplitude] Application Opened",
             {"[Amplitude] From Background": from_background, "[Amplitude] Version": "4.12.1",
              "[Amplitude] Build": "41201"}, dt=dt, user_props=dict(s.dev.user_props))

    # background: the app goes to the background and a geofence keeps tracking "Location
    # Updated" every ~3.5 min, inside the SDK's 5 min timeout, so the session lasts ~14 min
    # longer than the time in the app.
    s = Session(sofia, local_ms(3, 8, 10, sofia.tz, rng), expect={"background"})
    lifecycle_opened(s, False, (0.2, 0.8))
    s.screen("Home")
    s.product(P["SKU-10482"])
    s.screen("Wishlist")
    s.ev("[Amplitude] Application Backgrounded", None, dt=(20, 40), user_props=dict(sofia.user_props))
    for _ in range(3):
        s.ev("Location Updated", {"trigger": "geofence", "accuracy_m": rng.randint(8, 40)},
             dt=(200, 230), user_props=dict(sofia.user_props))
    lifecycle_opened(s, True, (150, 200))
    s.screen("Orders")
    s.screen("Order Status")
    s.ev("[Amplitude] Application Backgrounded", None, dt=(30, 60), user_props=dict(sofia.user_props))
    s.close(upload_at=at(3, 23, 5))

    # end_props_changed: she upgrades; the app sets the new plan with an identify call after
    # the last event, so the session_end carries user properties the session's events do not.
    s = Session(sofia, local_ms(3, 13, 30, sofia.tz, rng), expect={"end_props_changed"})
    lifecycle_opened(s, False, (0.2, 0.8))
    s.screen("Home")
    s.ev("Upgrade Viewed", {"offer": "premium_annual", "price": 49.0}, user_props=dict(sofia.user_props))
    s.ev("Plan Selected", {"plan": "premium", "billing": "annual"}, user_props=dict(sofia.user_props))
    s.identify({"plan": "premium", "loyalty_tier": "gold"}, dt=(2, 5))
    s.close(upload_at=at(3, 23, 6), end_user_props=dict(sofia.user_props))

    # The fix: app 4.12.2 adds the enrichment plugin that sets $skip_user_properties_sync on
    # session_end. The same change of properties before the end is no longer flagged.
    s = Session(sofia, local_ms(3, 18, 45, sofia.tz, rng))
    lifecycle_opened(s, False, (0.2, 0.8))
    s.screen("Home")
    s.ev("Referral Sent", {"channel": "whatsapp"}, user_props=dict(sofia.user_props))
    s.identify({"referrals_sent": 1}, dt=(2, 5))
    s.close(upload_at=at(3, 23, 7), end_user_props=dict(sofia.user_props),
            end_extra={"$skip_user_properties_sync": True})
    g.sofia_fixed_sid = s.sid  # type: ignore[attr-defined]

    g.lena_login_sid = lena_login_sid  # type: ignore[attr-defined]
    g.lena_key = "user_id:lena@example.at"  # type: ignore[attr-defined]
    return g


# --------------------------------------------------------------------------------------
# check: SESSION-MODEL.md, recomputed from the file alone
# --------------------------------------------------------------------------------------

START_MARKERS = {"session_start", "[Amplitude] Start Session"}
END_MARKERS = {"session_end", "[Amplitude] End Session"}
INACTIVE = START_MARKERS | END_MARKERS | {"$identify", "$groupidentify"}
BACKGROUNDED = "[Amplitude] Application Backgrounded"
OPENED = "[Amplitude] Application Opened"
TIME_FIELDS = ("client_event_time", "time", "timestamp", "event_time")
EXPORT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")
RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")
INT_RE = re.compile(r"^-?\d+$")


def _reject_constant(name: str):
    raise ValueError(f"invalid JSON constant {name}")


def _int(v) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and INT_RE.match(v):
        return int(v)
    return None


def parse_time(v) -> int | None:
    i = _int(v)
    if i is not None:
        return i
    if not isinstance(v, str):
        return None
    m = EXPORT_RE.match(v)
    off = 0
    if not m:
        m = RFC3339_RE.match(v)
        if not m:
            return None
        z = m.group(8)
        if z not in ("Z", "z"):
            sign = 1 if z[0] == "+" else -1
            off = sign * (int(z[1:3]) * 60 + int(z[4:6]))
    y, mo, d, hh, mi, ss = (int(m.group(k)) for k in range(1, 7))
    try:
        dt = datetime(y, mo, d, hh, mi, ss, tzinfo=timezone.utc)
    except ValueError:
        return None
    frac = (m.group(7) or "")[:3].ljust(3, "0")
    return int(dt.timestamp()) * 1000 + int(frac) - off * 60_000


def present(o: dict, k: str) -> bool:
    return k in o and o[k] is not None


def identity(o: dict) -> tuple[bool, bool, bool]:
    uid = isinstance(o.get("user_id"), str) and o["user_id"] != ""
    did = isinstance(o.get("device_id"), str) and o["device_id"] != ""
    a = o.get("amplitude_id")
    aid = (isinstance(a, int) and not isinstance(a, bool)) or (isinstance(a, str) and a != "")
    return aid, uid, did


def analyse(path: Path, gap: int = 300_000) -> dict:
    raw = path.read_bytes()
    events: list[dict] = []
    rejected: list[tuple[int, str]] = []
    warnings: list[tuple[int, str]] = []
    for lineno, line in enumerate(raw.split(b"\n"), 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip():
            continue
        try:
            o = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as err:
            rejected.append((lineno, f"invalid JSON: {err}"))
            continue
        if not isinstance(o, dict):
            rejected.append((lineno, "not an object"))
            continue
        if not (isinstance(o.get("event_type"), str) and o["event_type"]):
            rejected.append((lineno, "no event_type"))
            continue
        aid, uid, did = identity(o)
        if not (aid or uid or did):
            rejected.append((lineno, "no identity"))
            continue
        tf = next((k for k in TIME_FIELDS if present(o, k)), None)
        t = parse_time(o[tf]) if tf else None
        if t is None:
            rejected.append((lineno, f"no usable event time ({tf}={o.get(tf)!r})"))
            continue
        sid_raw = o.get("session_id")
        sid = _int(sid_raw) if sid_raw is not None else None
        if sid_raw is not None and sid is None:
            warnings.append((lineno, f"unusable session_id {sid_raw!r}"))
        if sid == -1:
            sid = None
        events.append({"idx": len(events), "line": lineno, "o": o, "t": t, "sid": sid,
                       "type": o["event_type"], "aid": aid, "uid": uid, "did": did,
                       "active": o["event_type"] not in INACTIVE})

    # users (§2)
    by_dev_login: dict[str, list[tuple[int, int, str]]] = {}
    for e in events:
        if not e["aid"] and e["uid"] and e["did"]:
            by_dev_login.setdefault(e["o"]["device_id"], []).append((e["t"], e["idx"], e["o"]["user_id"]))
    for lst in by_dev_login.values():
        lst.sort()
    for e in events:
        o = e["o"]
        if e["aid"]:
            e["user"] = f"amplitude_id:{o['amplitude_id']}"
        elif e["uid"]:
            e["user"] = f"user_id:{o['user_id']}"
        else:
            logins = by_dev_login.get(o["device_id"], [])
            before = [x for x in logins if x[0] <= e["t"]]
            after = [x for x in logins if (x[0], x[1]) > (e["t"], e["idx"])]
            if before:
                e["user"] = f"user_id:{before[-1][2]}"
            elif after:
                e["user"] = f"user_id:{after[0][2]}"
            else:
                e["user"] = f"device:{o['device_id']}"
    users = {e["user"] for e in events}

    # sessions (§3)
    sessions: dict[tuple[str, int], list[dict]] = {}
    for e in events:
        if e["sid"] is not None:
            sessions.setdefault((e["user"], e["sid"]), []).append(e)
    latest: dict[str, int] = {}
    for (u, sid) in sessions:
        latest[u] = max(latest.get(u, sid), sid)
    flags: dict[str, list] = {k: [] for k in
                              ("empty", "zero_length", "suspect_session_id", "gap", "bridged_gap",
                               "unterminated", "end_props_changed", "background")}
    for (u, sid), evs in sessions.items():
        evs.sort(key=lambda e: (e["t"], e["idx"]))
        times = [e["t"] for e in evs]
        key = (u, sid)
        if not any(e["active"] for e in evs):
            flags["empty"].append(key)
        if max(times) - sid == 0:
            flags["zero_length"].append(key)
        if sid > min(times) or min(times) - sid > 86_400_000:
            flags["suspect_session_id"].append(key)
        for a, b in zip(evs, evs[1:]):
            if b["t"] - a["t"] > gap:
                flags["gap"].append(key)
        act = [i for i, e in enumerate(evs) if e["active"]]
        for i, j in zip(act, act[1:]):
            if (evs[j]["t"] - evs[i]["t"] > gap and j - i > 1
                    and all(evs[k + 1]["t"] - evs[k]["t"] <= gap for k in range(i, j))):
                flags["bridged_gap"].append(key)
        types = {e["type"] for e in evs}
        if types & START_MARKERS and not types & END_MARKERS and sid != latest[u]:
            flags["unterminated"].append(key)

    # end_props_changed (§3): an end marker whose user_properties differ from those of the
    # session's last active event before it, without $skip_user_properties_sync == true
    def uprops(o: dict) -> dict:
        v = o.get("user_properties")
        return {} if v is None else v
    for (u, sid), evs in sessions.items():
        for i, e in enumerate(evs):
            if e["type"] not in END_MARKERS or e["o"].get("$skip_user_properties_sync") is True:
                continue
            before = [x for x in evs[:i] if x["active"]]
            if before and uprops(before[-1]["o"]) != uprops(e["o"]):
                flags["end_props_changed"].append((u, sid))
                break

    # background (§3): active events of a user between Application Backgrounded and the
    # user's next Application Opened (lifecycle events themselves never are), in sessions
    by_user: dict[str, list[dict]] = {}
    for e in events:
        by_user.setdefault(e["user"], []).append(e)
    for u, evs in by_user.items():
        in_background = False
        for e in sorted(evs, key=lambda e: (e["t"], e["idx"])):
            if e["type"] == BACKGROUNDED:
                in_background = True
            elif e["type"] == OPENED:
                in_background = False
            elif in_background and e["active"] and e["sid"] is not None:
                flags["background"].append((u, e["sid"]))

    # duplicates (§3, per stream)
    last_seen: dict[tuple, int] = {}
    dups: list[dict] = []
    for e in sorted(events, key=lambda e: (e["t"], e["idx"])):
        o = e["o"]
        k = next((o[f] for f in ("insert_id", "$insert_id") if present(o, f)), None)
        if not (isinstance(k, str) and k):
            continue
        dk = (o["device_id"] if e["did"] else None, k)
        if dk in last_seen and e["t"] - last_seen[dk] <= 604_800_000:
            dups.append(e)
        last_seen[dk] = e["t"]

    # replay (§4)
    def replay(timeout: int) -> dict:
        per_user: dict[str, list[dict]] = {}
        for e in events:
            if e["active"] and e["sid"] is not None:
                per_user.setdefault(e["user"], []).append(e)
        groups: list[list[dict]] = []
        for evs in per_user.values():
            evs.sort(key=lambda e: (e["t"], e["idx"]))
            cur: list[dict] = []
            for e in evs:
                if cur and e["t"] - cur[-1]["t"] > timeout:
                    groups.append(cur)
                    cur = []
                cur.append(e)
            if cur:
                groups.append(cur)
        rec_to_groups: dict[tuple, set[int]] = {}
        merged = []
        for gi, grp in enumerate(groups):
            recs = {(e["user"], e["sid"]) for e in grp}
            for r in recs:
                rec_to_groups.setdefault(r, set()).add(gi)
            if len(recs) > 1:
                merged.append(sorted(recs))
        split = sorted(r for r, gs in rec_to_groups.items() if len(gs) > 1)
        lengths = [grp[-1]["t"] - grp[0]["t"] for grp in groups]
        return {"sessions": len(groups), "split": split, "merged": merged,
                "median_ms": statistics.median(lengths) if lengths else 0}

    out_of_session = [e for e in events if e["sid"] is None]
    rec_lengths = [max(e["t"] for e in evs) - sid for (u, sid), evs in sessions.items()]
    return {"bytes": len(raw), "lines": raw.count(b"\n"), "events": len(events), "rejected": rejected,
            "warnings": warnings, "users": users, "sessions": sessions, "flags": flags,
            "duplicates": dups, "out_of_session": out_of_session,
            "replay_5m": replay(300_000), "replay_30m": replay(1_800_000),
            "median_length_ms": statistics.median(rec_lengths) if rec_lengths else 0,
            "raw": raw}


def events_all(r: dict) -> list[dict]:
    return [e for evs in r["sessions"].values() for e in evs] + r["out_of_session"]


def strings(v) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return [s for x in v.values() for s in strings(x)]
    if isinstance(v, list):
        return [s for x in v for s in strings(x)]
    return []


def fmt_ms(ms: float) -> str:
    s = int(ms // 1000)
    return f"{s // 60}m{s % 60:02d}s"


def check(path: Path) -> int:
    g = generate()
    problems: list[str] = []
    r = analyse(path)
    if r["raw"] != g.text().encode("utf-8"):
        problems.append(f"{path} is not what the generator writes now: rerun without --check")
    raw = r["raw"]
    if not raw.endswith(b"\n") or b"\r" in raw:
        problems.append("line endings: want '\\n' only and a trailing newline")
    if r["bytes"] >= MAX_BYTES:
        problems.append(f"file is {r['bytes']} bytes, want < {MAX_BYTES}")
    if not 300 <= r["events"] <= 800:
        problems.append(f"{r['events']} events, want 300..800")

    f = r["flags"]
    print(f"file                 {path} ({r['bytes']} bytes, {r['lines']} lines)")
    print(f"valid events         {r['events']}")
    print(f"rejected records     {len(r['rejected'])}")
    for ln, why in r["rejected"]:
        print(f"    line {ln}: {why}")
    print(f"users                {len(r['users'])}")
    for u in sorted(r["users"]):
        print(f"    {u}")
    print(f"sessions             {len(r['sessions'])} (median length {fmt_ms(r['median_length_ms'])})")
    print(f"out-of-session       {len(r['out_of_session'])}")
    for e in r["out_of_session"]:
        print(f"    line {e['line']}: {e['user']} {e['type']} session_id={e['o'].get('session_id', '<absent>')!r}")
    print(f"session_id warnings  {len(r['warnings'])}")
    for name in ("empty", "zero_length", "suspect_session_id", "gap", "bridged_gap", "unterminated",
                 "end_props_changed", "background"):
        print(f"{name:<20} {len(f[name])}")
        for u, sid in sorted(set(f[name])):
            n = f[name].count((u, sid))
            print(f"    {u} sid {sid}" + (f" (x{n})" if n > 1 else ""))
    print(f"duplicate events     {len(r['duplicates'])}")
    for e in r["duplicates"]:
        print(f"    line {e['line']}: {e['user']} {e['type']} insert_id {e['o'].get('insert_id')}")
    for name in ("replay_5m", "replay_30m"):
        rp = r[name]
        print(f"{name:<20} {rp['sessions']} sessions (median {fmt_ms(rp['median_ms'])}), "
              f"{len(rp['split'])} recorded sessions split, {len(rp['merged'])} replayed sessions merging several")

    # every flag at least once, and on the documented sessions only
    for name in f:
        if not f[name]:
            problems.append(f"flag {name} never occurs")
        want = {k for k, v in g.expect.items() if name in v}
        got = set(f[name])
        if got != want:
            problems.append(f"flag {name}: on {sorted(got)}, documented {sorted(want)}")
    if len(r["duplicates"]) != 2:
        problems.append(f"{len(r['duplicates'])} duplicates, want 2")
    if len(r["out_of_session"]) != 6 or len(r["warnings"]) != 1:
        problems.append("want 6 out-of-session events, 1 session_id warning")
    if len(r["rejected"]) != 4:
        problems.append(f"{len(r['rejected'])} rejected, want 4")
    if len(r["users"]) != 8:
        problems.append(f"{len(r['users'])} users, want 8")
    fixed = [e for e in r["sessions"].get(("user_id:sofia@example.es", g.sofia_fixed_sid), [])
             if e["type"] in END_MARKERS and e["o"].get("$skip_user_properties_sync") is True]
    if not fixed:
        problems.append("sofia's last session has no session_end with $skip_user_properties_sync")
    anon_lena = [e for e in r["sessions"].get((g.lena_key, g.lena_login_sid), []) if not e["uid"]]
    if not anon_lena:
        problems.append("lena's login session holds no anonymous events")
    else:
        print(f"anonymous -> login   {len(anon_lena)} events without user_id assigned to {g.lena_key}")
    doc = __doc__ or ""
    ids = [sid for _, sid in g.expect] + [g.lena_login_sid] + [x for _, a, b in g.merged_pairs for x in (a, b)]
    for sid in ids:
        if str(sid) not in doc:
            problems.append(f"session id {sid} is not in the comment block at the top")
    for ln, _ in r["rejected"]:
        if f"line {ln} " not in doc:
            problems.append(f"rejected line {ln} is not in the comment block at the top")
    r30 = r["replay_30m"]
    for u, a, b in g.merged_pairs:
        if [(u, a), (u, b)] not in r30["merged"]:
            problems.append(f"replay 30m does not merge {u} {a} + {b}")
    if r["replay_5m"]["sessions"] <= r30["sessions"]:
        problems.append("replay at 5m should give more sessions than at 30m")
    if not any(any("\x1b" in v and "\x07" in v for v in strings(e["o"])) for e in events_all(r)):
        problems.append("no ANSI escape in any value")
    times = [e["t"] for e in sorted(sum(r["sessions"].values(), []), key=lambda e: e["line"])]
    late = sum(1 for a, b in zip(times, times[1:]) if b < a)
    print(f"out-of-order lines   {late} (a line whose event time is before the previous line's)")

    if problems:
        for p in problems:
            print("FAIL:", p, file=sys.stderr)
        return 1
    print("OK: every flag occurs, each on its documented session")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="verify the file instead of writing it")
    args = ap.parse_args()
    if args.check:
        return check(args.out)
    text = generate().text()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    print(f"wrote {args.out} ({len(text.encode('utf-8'))} bytes, {text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
