"""Drives the official Python SDK (amplitude-analytics, pinned in scripts/sdk-tests.sh) against
`streamscope listen`; scripts/sdk-tests.sh checks the outcome through the query API (check.py).

Usage: python py-run.py SERVER_URL main|invalid RESULTS.json
  main:    8 events (tracks, identify, revenue) for one user, flush_queue_size 3: the
           background worker sends several requests. Every callback must be 200.
  invalid: 5 events, one with a 2-character user_id (min_id_length is 5): the endpoint
           answers 400 with events_with_invalid_id_lengths and keeps the valid events; the
           SDK drops the listed one (callback 400) and resends the rest (recognised by
           insert_id).
Writes {sdk, library, mode, results: [{code, message, event}]} to RESULTS.json, `event` being
the body the SDK serialised for that event.
"""
import json
import logging
import sys
import threading

from amplitude import Amplitude, BaseEvent, Config, EventOptions, Identify, Revenue

if len(sys.argv) != 4 or sys.argv[2] not in ("main", "invalid"):
    sys.exit("usage: python py-run.py SERVER_URL main|invalid RESULTS.json")
url, mode, out = sys.argv[1:]
logging.basicConfig(level=logging.WARNING)

EXPECTED = 8 if mode == "main" else 5
lock = threading.Lock()
done = threading.Event()
results = []


def callback(event, code, message=None):
    with lock:
        results.append({"code": code, "message": message, "event": event.get_event_body()})
        if len(results) >= EXPECTED:
            done.set()


# invalid: a 1 s interval so that the 5 events surely leave in one batch.
config = Config(server_url=url, callback=callback, flush_interval_millis=200 if mode == "main" else 1000,
                flush_max_retries=3,
                flush_queue_size=3 if mode == "main" else 200)
client = Amplitude("0123456789abcdef0123456789abcdef", config)
if mode == "main":
    who = dict(user_id="py-user-1", device_id="py-device-1", session_id=1700000000000)
    client.track(BaseEvent("Page Viewed", event_properties={"page": "/home"}, **who))
    client.track(BaseEvent("Item Viewed", event_properties={"sku": "a-1", "price": 3.5}, **who))
    client.track(BaseEvent("Item Viewed", event_properties={"sku": "b-2", "price": 7}, **who))
    client.track(BaseEvent("Item Viewed", event_properties={"sku": "c-3", "nested": {"list": [1, 2, 3], "ok": True}},
                           **who))
    client.track(BaseEvent("Button Clicked", event_properties={"button": "buy", "count": 3}, time=1700000001000, **who))
    client.track(BaseEvent("Custom Insert Id", event_properties={"unicode": "héllo ✓"},
                           insert_id="py-fixed-insert-id-0001", **who))
    client.identify(Identify().set("plan", "pro").set_once("first_seen", "2024-01-01").add("logins", 1).append("tags", "a"),
                    EventOptions(**who))
    client.revenue(Revenue(price=9.99, quantity=2, product_id="sku-1", revenue_type="purchase",
                           properties={"coupon": "X"}), EventOptions(**who))
    client.flush()
else:
    who = dict(user_id="py-user-2", device_id="py-device-2")
    client.track(BaseEvent("Valid Before", event_properties={"n": 1}, **who))
    client.track(BaseEvent("Valid Before", event_properties={"n": 2}, **who))
    # Too short a user_id: rejected by the endpoint, listed in events_with_invalid_id_lengths.
    client.track(BaseEvent("Short User Id", event_properties={"n": 3}, user_id="ab", device_id="py-bad-device"))
    client.identify(Identify().set("plan", "free"), EventOptions(**who))
    client.track(BaseEvent("Valid After", event_properties={"n": 4}, **who))
finished = done.wait(60)
client.shutdown()
for r in results:
    print(f"  python {mode}: {r['event']['event_type']} -> {r['code']} {r['message'] or ''}")
with open(out, "w", encoding="utf-8") as f:
    json.dump({"sdk": "python", "library": "amplitude-python/1.3.0", "mode": mode, "results": results}, f, indent=1)
if not finished:
    sys.exit(f"python {mode}: only {len(results)} of {EXPECTED} callbacks within 60 s")
