"""Checks one SDK run against `streamscope listen`, through its query API only.

Usage:
  check.py BASE_URL STATE.json RESULTS.json --log SERVER_LOG --log-from LINE [--bin STREAMSCOPE --capture FILE]
  check.py BASE_URL STATE.json --final

RESULTS.json is what a driver (node-run.js, py-run.py, browser-run.js, legacy-run.js) wrote:
the SDK's own report of each event (callback code, message, the event as serialised; for
amplitude-js, its callbacks, the uploads observed and its localStorage queue). The
amplitude-js checks also run `STREAMSCOPE report --format json` on the capture FILE. STATE.json
accumulates, across runs, the events and rejected requests the endpoint should hold; the
`--final` call compares the endpoint's totals with it. Prints one PASS/FAIL line per check;
exits 1 if any failed.
"""
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter

failures = 0


def report(ok, name, detail=""):
    global failures
    if not ok:
        failures += 1
    print(f"{'PASS' if ok else 'FAIL'}  {name}{'' if ok or not detail else ': ' + detail}", flush=True)
    return ok


def get(base, path, **query):
    url = f"{base}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def events_of(base, user):
    doc = get(base, "/streamscope/events", user=user, limit=100000)
    if doc["truncated"] or doc["returned"] != doc["matching"] or len(doc["events"]) != doc["returned"]:
        raise AssertionError(f"events?user={user}: inconsistent answer {doc['returned']}/{doc['matching']}")
    return doc["events"]


def wait_for(base, user, count, timeout=10.0):
    """The user's events once at least `count` arrived (or the timeout passed), read again after
    a short pause so that late extras are seen too. Only beacons need the wait: the other
    transports report success only after the endpoint answered, which it does once the events
    are captured."""
    deadline = time.monotonic() + timeout
    while len(events_of(base, user)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.3)
    return events_of(base, user)


def stored_equals_sent(stored, sent):
    """The stored event is the event as sent, plus server_received_time."""
    rest = {k: v for k, v in stored.items() if k != "server_received_time"}
    return rest == sent and isinstance(stored.get("server_received_time"), str)


def log_requests(log, start):
    """(status, events, already received) of each ingestion request logged since line `start`.
    Log lines look like `12:00:00.123 #3 POST /2/httpapi 200 · 3 events: 3 new · 1.1 KB · 0.4 ms`."""
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()[start:]
    out = []
    for line in lines:
        m = re.search(r"#\d+ POST (/2/httpapi|/batch|/) (\d{3})(?: · (\d+) events?: ([^·]*))?", line)
        if m:
            dup = re.search(r"(\d+) already received", m.group(4) or "")
            out.append((int(m.group(2)), int(m.group(3) or 0), int(dup.group(1)) if dup else 0))
    return out


def check_run(base, state, run, log, log_from):
    sdk, mode = run["sdk"], run["mode"]
    tag = f"{sdk} {mode}"
    results = run["results"]
    sent = [r for r in results if r["code"] == 200]
    codes = Counter(r["code"] for r in results)

    # 1. What the SDK reported.
    if mode == "invalid":
        bad = [r for r in results if r["event"].get("user_id") == "ab"]
        ok = (len(bad) == 1 and bad[0]["code"] == 400 and len(sent) == len(results) - 1)
        report(ok, f"{tag}: SDK dropped the short-id event (400) and got 200 for the {len(results) - 1} others",
               f"codes {dict(codes)}: {[(r['event']['event_type'], r['code'], r['message']) for r in results]}")
    else:
        report(len(results) > 0 and len(sent) == len(results),
               f"{tag}: SDK reported all {len(results)} events sent (code 200)",
               f"codes {dict(codes)}: {[(r['event']['event_type'], r['code'], r['message']) for r in results]}")
    if any("insert_id" not in r["event"] for r in results):
        report(False, f"{tag}: every event has an insert_id", "the SDK sent events without one")

    # 2. Every event reported sent arrives exactly once, nothing extra, stored as sent.
    # The browser's session events (autocapture) are not returned by track(); they are
    # counted by type: `sessions` must hold 2 session_start and 1 session_end.
    auto = {"session_start": 2, "session_end": 1} if (sdk, mode) == ("browser", "sessions") else {}
    by_user = {}
    for r in sent:
        e = r["event"]
        by_user.setdefault(e.get("user_id") or e["device_id"], []).append(e)
    stored_all = {}
    for user, evs in by_user.items():
        want = len(evs) + sum(auto.values())
        stored = wait_for(base, user, want) if sdk == "browser" else events_of(base, user)
        stored_all[user] = stored
        ids = Counter(s.get("insert_id") for s in stored)
        sent_ids = {e["insert_id"] for e in evs}
        missing = [(e["event_type"], e["insert_id"]) for e in evs if ids[e["insert_id"]] == 0]
        twice = [(i, n) for i, n in ids.items() if n > 1]
        extra = [(s["event_type"], s.get("insert_id")) for s in stored if s.get("insert_id") not in sent_ids]
        extra_types = Counter(t for t, _ in extra)
        ok = not missing and not twice and extra_types == Counter(auto)
        report(ok, f"{tag}: {user}: all {len(evs)} events sent arrived exactly once"
                   + (f", plus {dict(auto)}" if auto else "") + ", nothing else",
               f"missing {missing}, stored more than once {twice}, unexpected {extra} (expected extra {auto})")
        by_id = {s.get("insert_id"): s for s in stored}
        differ = [e["event_type"] for e in evs if e["insert_id"] in by_id and not stored_equals_sent(by_id[e["insert_id"]], e)]
        types_ok = Counter(e["event_type"] for e in evs) == Counter(s["event_type"] for s in stored if s.get("insert_id") in sent_ids)
        report(not differ and types_ok, f"{tag}: {user}: stored events equal what the SDK sent (+ server_received_time)",
               f"differ: {differ}; e.g. sent {json.dumps([e for e in evs if e['event_type'] in differ][:1])} "
               f"stored {json.dumps([by_id.get(e['insert_id']) for e in evs if e['event_type'] in differ][:1])}")
        state["events"] += len(stored)

    # 3. Requests as the endpoint logged them.
    reqs = log_requests(log, log_from)
    if mode == "main":
        ok = len(reqs) >= 3 and all(s == 200 and n <= 3 for s, n, _ in reqs) and sum(n for _, n, _ in reqs) == len(results)
        report(ok, f"{tag}: flushQueueSize 3 made {len(reqs)} requests of at most 3 events, all answered 200",
               f"logged (status, events, already received): {reqs}")
    elif mode == "invalid":
        first = reqs[0] if reqs else None
        dups = sum(d for _, _, d in reqs)
        ok = (first is not None and first[0] == 400 and first[1] == len(results)
              and all(s == 200 for s, _, _ in reqs[1:]) and dups == len(results) - 1)
        report(ok, f"{tag}: 400 for the batch, then the SDK's resend of the {len(results) - 1} valid events "
                   "recognised as already received (200)", f"logged (status, events, already received): {reqs}")

    # 4. The invalid batch: nothing stored for the short id, and listed under /rejected.
    if mode == "invalid":
        bad_ev = [r["event"] for r in results if r["event"].get("user_id") == "ab"]
        if bad_ev:
            n = len(events_of(base, bad_ev[0]["device_id"])) + len(events_of(base, "ab"))
            report(n == 0, f"{tag}: the short-id event was not stored", f"{n} stored")
        rej = get(base, "/streamscope/rejected")["rejected"]
        lib = run["library"]
        mine = [r for r in rej if lib in r["body"]]
        # The index the answer must list is the short-id event's place in the request as the
        # SDK built it (callbacks may come in another order): read it from the kept body,
        # which must be this run's batch (the same insert_ids).
        body = json.loads(mine[0]["body"]) if len(mine) == 1 and not mine[0]["body_truncated"] else {"events": []}
        in_body = [e.get("insert_id") for e in body["events"]]
        bad_index = next((i for i, e in enumerate(body["events"]) if e.get("user_id") == "ab"), None)
        want_reason = f"id shorter than min_id_length in 'user_id': events [{bad_index}]"
        ok = (len(mine) == 1 and mine[0]["status"] == 400 and mine[0]["path"] == "/2/httpapi"
              and sorted(in_body) == sorted(r["event"]["insert_id"] for r in results)
              and mine[0]["events"] == len(results) and mine[0]["kept"] == len(results) - 1
              and mine[0]["error"] == "Invalid id length for user_id or device_id"
              and mine[0]["reasons"] == [want_reason])
        report(ok, f"{tag}: /streamscope/rejected lists the request: 400, {len(results)} events, "
                   f"{len(results) - 1} kept, \"{want_reason}\"",
               json.dumps([{k: v for k, v in r.items() if k != 'body'} for r in mine]))
        state["rejected"] += 1

    # 5. Browser specifics.
    if sdk == "browser":
        report(not run["nonlocal"], f"{tag}: no request left 127.0.0.1", f"{run['nonlocal']}")
        posts = [r for r in run["requests"] if r["method"] == "POST"]
        if mode == "sessions":
            ok = posts and all(r["content_type"] == "application/json" and r["status"] == 200 for r in posts)
            report(ok, f"{tag}: {len(posts)} cross-origin fetch POSTs (application/json) answered 200", json.dumps(run["requests"]))
        elif mode == "gzip":
            gz = [r for r in posts if r["content_encoding"] == "gzip"]
            ok = gz and all(r["status"] == 200 for r in gz)
            report(ok, f"{tag}: {len(gz)} POST(s) sent with Content-Encoding: gzip, answered 200", json.dumps(run["requests"]))
        elif mode == "beacon":
            ok = posts and all((r["content_type"] or "").startswith("text/plain") for r in posts)
            report(ok, f"{tag}: {len(posts)} beacon POST(s) sent as text/plain", json.dumps(run["requests"]))
        if mode == "sessions":
            check_sessions(base, run, stored_all.get("browser-user-1", []))


def check_legacy(base, state, run, log, log_from, binary, capture):
    """amplitude-js (legacy-run.js): the form body on POST /, answered `success`; events keyed
    by `uuid`, timed by `timestamp`; the SDK's callbacks and its localStorage queue."""
    mode, user = run["mode"], run["user"]
    tag = f"amplitude-js {run['version']} {mode}"
    lost = run["proxy"]["dropped"] if mode == "lost" else 0
    held = run["proxy"]["held"] if mode == "left" else 0

    # 1. What the SDK uploaded (every form body the page posted, observed), keyed by uuid,
    # against what the page logged: each logged event, found by its id (events and identifies
    # count apart), was uploaded, and nothing else was.
    posts = [u for u in run["uploads"] if u["method"] == "POST"]
    sent, copies = {}, Counter()
    for u in posts:
        if not isinstance(u["events"], list):
            report(False, f"{tag}: every upload has a readable `e`", str(u["events"])[:300])
            continue
        for e in u["events"]:
            sent.setdefault(e["uuid"], e)
            copies[e["uuid"]] += 1
    by_id = {("identify" if e["event_type"] == "$identify" else "event", e["event_id"]): e for e in sent.values()}
    logged = [(load["phase"], r) for load in run["loads"] for r in load["logged"]]
    not_uploaded = [r["type"] for _, r in logged if (r["kind"], r["event_id"]) not in by_id]
    report(not not_uploaded and len(by_id) == len(sent) == len(logged),
           f"{tag}: the SDK uploaded the {len(logged)} events the page logged, and nothing else",
           f"never uploaded: {not_uploaded}; {len(sent)} distinct events uploaded for {len(logged)} logged")

    # 2. The SDK's own report: each event's success callback once with (200, "success") (it
    # compares the body to "success" up to 8.21.3), no error callback but for the lost answer.
    # Events logged on a page that was then left get no callback: the queue below shows them.
    def callbacks_ok(phase, i, r):
        if r.get("no_callbacks") or (mode == "left" and phase == "first"):
            return not r["ok"] and not r["err"]
        want_err = [{"status": 0, "response": ""}] if (mode == "lost" and i == 0) else []
        return r["ok"] == [{"status": 200, "response": "success"}] and r["err"] == want_err
    bad = [(r["type"], r["ok"], r["err"]) for i, (phase, r) in enumerate(logged) if not callbacks_ok(phase, i, r)]
    report(not bad, f"{tag}: the SDK reported each event sent once (200 \"success\")"
                    + (", after one error callback (status 0) for the lost answer" if mode == "lost" else ""),
           f"callbacks (type, ok, err): {bad}")

    # 3. The SDK's queue in localStorage ends empty (amplitude_unsent_<key>, ..._identify_<key>).
    last = run["loads"][-1]["queue"]
    report(last == {"events": [], "identifys": []}, f"{tag}: the SDK's localStorage queue ends empty",
           json.dumps(last)[:500])
    if mode == "left":
        first = run["loads"][0]
        report(first.get("left_with_upload_in_flight") and len(first["queue"]["events"]) == 2 and held == 1,
               f"{tag}: the page was left with an upload in flight (stored, answer held) and 2 events in localStorage",
               f"held {held}, queue at leave {len(first['queue']['events'])} events")

    # 4. Every event uploaded is stored exactly once, as sent (plus server_received_time and
    # nothing else: no `time` added, its client `timestamp` is its time), nothing else stored.
    stored = wait_for(base, user, len(sent))
    ids = Counter(s.get("uuid") for s in stored)
    missing = [(e["event_type"], u) for u, e in sent.items() if ids[u] == 0]
    twice = [(u, n) for u, n in ids.items() if n > 1]
    extra = [(s["event_type"], s.get("uuid")) for s in stored if s.get("uuid") not in sent]
    resent = sum(n - 1 for n in copies.values())
    report(not missing and not twice and not extra,
           f"{tag}: {user}: all {len(sent)} events uploaded ({resent} uploaded again) stored exactly once, nothing else",
           f"missing {missing}, stored more than once {twice}, unexpected {extra}")
    by_uuid = {s.get("uuid"): s for s in stored}
    differ = [e["event_type"] for u, e in sent.items() if u in by_uuid and not stored_equals_sent(by_uuid[u], e)]
    report(not differ, f"{tag}: {user}: stored events equal what the SDK sent (+ server_received_time)",
           f"differ: {differ}; e.g. {json.dumps([by_uuid.get(u) for u, e in sent.items() if e['event_type'] in differ][:1])[:800]}")
    times = [(e["event_type"], e["timestamp"], by_uuid[u].get("timestamp"), by_uuid[u].get("time"))
             for u, e in sent.items() if u in by_uuid]
    report(times and all(t == st and tm is None for _, t, st, tm in times),
           f"{tag}: {user}: each event keeps its client time (`timestamp`), no receive time added",
           f"(type, sent timestamp, stored timestamp, stored time): {times}")
    state["events"] += len(stored)

    # 5. Answers and requests: POST / answered 200 `success` (all but the dropped or held
    # first upload); the endpoint recognised each upload again of a stored event.
    answered = [u for u in posts if u["status"] is not None]
    unanswered = len(posts) - len(answered)
    expect_unanswered = (1 if lost else 0) + held  # Chromium's own resend is not a new request to the page
    report(all(u["status"] == 200 and u["answer"] == "success" for u in answered) and unanswered == expect_unanswered,
           f"{tag}: {len(answered)} uploads to POST / answered 200 \"success\""
           + (f", {unanswered} lost on purpose" if unanswered else ""),
           json.dumps([{k: u[k] for k in ("type", "status", "answer", "failure")} for u in posts]))
    reqs = log_requests(log, log_from)
    dups = sum(d for _, _, d in reqs)
    want_dups = lost + held
    ok = all(st == 200 for st, _, _ in reqs) and sum(n for _, n, _ in reqs) == len(sent) + dups and dups == want_dups
    report(ok, f"{tag}: the endpoint logged {len(reqs)} POST / answered 200, {dups} event(s) already received"
               + (f" (the lost answer's {lost} resend(s))" if lost else " (the upload in flight, sent again on reload)" if held else ""),
           f"logged (status, events, already received): {reqs}; uploads the proxy dropped {lost}, held {held}")
    if mode == "beacon":
        ok = posts and all(u["type"] == "ping" and (u.get("content_type") or "").startswith("application/x-www-form-urlencoded") for u in posts)
        report(ok, f"{tag}: {len(posts)} uploads by navigator.sendBeacon (form-encoded)", json.dumps(posts)[:800])
    elif mode == "batched":
        sizes = [len(u["events"]) for u in posts]
        report(sizes == [5, 2], f"{tag}: eventUploadThreshold 5 made an upload of 5, eventUploadPeriodMillis one of the 2 after",
               f"upload sizes {sizes}")
    else:
        ok = all(u["type"] == "xhr" and (u.get("content_type") or "").startswith("application/x-www-form-urlencoded") for u in posts)
        report(ok, f"{tag}: cross-origin XMLHttpRequest uploads (form-encoded)", json.dumps(posts)[:800])
    if mode == "shortid":
        rej = get(base, "/streamscope/rejected")
        report(rej["total"] == state["rejected"], f"{tag}: the {len(user)}-character user id was accepted, no request rejected",
               json.dumps(rej["rejected"])[:1000])
    report(not run["nonlocal"], f"{tag}: no request left 127.0.0.1", f"{run['nonlocal']}")

    # 6. `report` on the capture shows the sessions the SDK formed: the session ids the page
    # saw, and per session the events the SDK sent with it.
    want = Counter(e["session_id"] for e in sent.values())
    page = Counter(r["session_id"] for _, r in logged)
    out = subprocess.run([binary, "report", "--format", "json", "--user", user, capture],
                         capture_output=True, text=True, timeout=60)
    try:
        users = json.loads(out.stdout)["users"]
    except ValueError:
        report(False, f"{tag}: report --format json --user {user}", f"exit {out.returncode}: {out.stderr[:500]}")
        return
    got = {s["session_id"]: s["events"] for u in users for s in u["sessions"]}
    outside = [e for u in users for e in u["out_of_session"]]
    # basic: the pause longer than sessionTimeout started a second session, the shorter one did not.
    by_type = {r["type"]: r["session_id"] for _, r in logged}
    crossed = mode != "basic" or (by_type["Page Loaded"] == by_type["Still Same Session"] != by_type["After Timeout"]
                                  == by_type["Second Session Event"])
    report(len(users) == 1 and got == dict(want) == dict(page) and not outside and crossed,
           f"{tag}: report shows the SDK's {len(want)} session(s) with their event counts {dict(sorted(want.items()))}"
           + (" (sessionTimeout crossed once)" if mode == "basic" else ""),
           f"report: {got}, out of session {outside}; sent: {dict(want)}; the page's sessions {dict(page)}, by type {by_type}")


def check_sessions(base, run, stored):
    """The SDK's session events form the sessions the model (SESSION-MODEL.md, README "What the
    flags mean") should report."""
    tag = "browser sessions"
    s1, s2 = run["s1"], run["s2"]
    starts = sorted((e for e in stored if e["event_type"] == "session_start"), key=lambda e: e["time"])
    ends = [e for e in stored if e["event_type"] == "session_end"]
    ok = (s1 != s2 and len(starts) == 2 and len(ends) == 1
          and [(e["session_id"], e["time"]) for e in starts] == [(s1, s1), (s2, s2)]
          and ends[0]["session_id"] == s1 and ends[0]["time"] < s2)
    report(ok, f"{tag}: session_start(s1={s1}), session_end(s1), session_start(s2={s2}) with session_id = time",
           json.dumps([{k: e.get(k) for k in ('event_type', 'session_id', 'time')} for e in starts + ends]))
    in_s1 = [e for e in stored if e.get("session_id") == s1]
    in_s2 = [e for e in stored if e.get("session_id") == s2]
    try:
        doc = get(base, "/streamscope/summary", user="browser-user-1", timeout="4s")
    except urllib.error.HTTPError as e:
        report(False, f"{tag}: summary for browser-user-1", f"HTTP {e.code}: {e.read()[:300]!r}")
        return
    user = doc["users"][0] if len(doc.get("users", [])) == 1 else None
    if not report(user is not None and user["kind"] == "user_id" and user["id"] == "browser-user-1",
                  f"{tag}: summary?user=browser-user-1 finds the user", json.dumps(doc.get("users"))[:500]):
        return
    sess = user["sessions"]
    last1 = max((e["time"] for e in in_s1), default=None)
    ok = (len(sess) == 2
          and sess[0]["session_id"] == s1 and sess[0]["events"] == len(in_s1) == 6
          and ends and sess[0]["last_event_ms"] == ends[0]["time"] == last1
          and sess[1]["session_id"] == s2 and sess[1]["events"] == len(in_s2) == 3
          and sess[1]["first_event_ms"] == s2)
    report(ok, f"{tag}: 2 recorded sessions: s1 (6 events) ending with its session_end, "
               "s2 (3 events) starting with its session_start",
           json.dumps(sess))
    # What the model should say about these two sessions, flag by flag:
    # - both have active events (tracks, revenue) -> not EMPTY;
    # - s1 lasts >= 1 s and s2 >= 300 ms (length = last event - session id) -> not ZERO;
    # - each session id equals the time of its session_start, its first event -> not SUSPECT ID;
    # - every event carries a session_id -> no NO SESSION (out_of_session) events;
    # - s1 has start and end markers; s2 lacks session_end but is the user's latest session,
    #   which the model never calls UNTERMINATED;
    # - the longest pause inside a session is ~1 s < the 5 m gap threshold -> no GAP/BRIDGED;
    # - insert_ids are distinct and each stored once -> no DUP.
    # And the replay at T = 4 s (the SDK's sessionTimeout) cuts exactly where the SDK did:
    # the 5 s pause separates them, the 0.5 s pause does not -> 2 sessions, none split or merged.
    flags = {k: v for k, v in user["flags"].items() if v}
    session_flags = [s["flags"] for s in sess]
    report(not flags and session_flags == [[], []],
           f"{tag}: no flag on the user or its sessions (not empty/zero/suspect/unterminated, no out-of-session, gap or dup)",
           f"user flags {flags}, session flags {session_flags}")
    rp = user["replay"]
    report(rp["sessions"] == 2 and rp["split"] == [] and rp["merged"] == [] and doc["settings"]["timeout_ms"] == 4000,
           f"{tag}: replay at timeout 4s gives the same 2 sessions (none split or merged)", json.dumps(rp))


def final(base, state):
    doc = get(base, "/streamscope/events", limit=1)
    summary = get(base, "/streamscope/summary")["summary"]
    report(doc["matching"] == state["events"] == summary["events"],
           f"endpoint: holds exactly the {state['events']} events checked above",
           f"events API {doc['matching']}, summary {summary['events']}, expected {state['events']}")
    report(summary["duplicate_events"] == 0 and summary["rejected"] == 0,
           "endpoint: no duplicate or unreadable event in the capture", json.dumps(summary))
    rej = get(base, "/streamscope/rejected")
    report(rej["total"] == state["rejected"], f"endpoint: exactly {state['rejected']} rejected request(s), the invalid batches",
           json.dumps(rej["rejected"])[:2000])


def main():
    base, state_path = sys.argv[1], sys.argv[2]
    try:
        with open(state_path, encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        state = {"events": 0, "rejected": 0}
    try:
        if sys.argv[3] == "--final":
            final(base, state)
        else:
            with open(sys.argv[3], encoding="utf-8") as f:
                run = json.load(f)
            args = dict(zip(sys.argv[4::2], sys.argv[5::2]))
            if run["sdk"] == "amplitude-js":
                check_legacy(base, state, run, args["--log"], int(args["--log-from"]), args["--bin"], args["--capture"])
            else:
                check_run(base, state, run, args["--log"], int(args["--log-from"]))
    except Exception as e:  # a crash of the checker is a failure, never a pass
        report(False, f"checker error for {sys.argv[3:]}", repr(e))
    with open(state_path, "w", encoding="utf-8") as f:
        json.dump(state, f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
