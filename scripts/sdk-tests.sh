#!/usr/bin/env bash
# Runs the official Amplitude SDKs against `streamscope listen` and checks, through the
# endpoint's query API only, what arrived:
#   - Node   @amplitude/analytics-node 1.5.73   (npm, tests/sdk/package-lock.json)
#   - Python amplitude-analytics 1.3.0          (PyPI, in a venv)
#   - Browser @amplitude/analytics-browser 2.48.1, its prebuilt UMD bundle (npm pack), in
#     Debian's headless Chromium driven by playwright-core 1.65.1
#   - Browser, legacy: amplitude-js 8.21.10 (the last 8.x) and 8.21.3 (the last release that
#     accepts only the answer body `success`), their prebuilt amplitude.umd.min.js (npm pack),
#     on POST / in the same Chromium: basic (with a session timeout crossed), beacon, batched,
#     a lost answer, a page left mid-upload and reloaded, a 2-character user id
# Every bundle is pinned by its sha256. The pages are served from another port than the
# endpoint's (real CORS). The drivers (node-run.js, py-run.py, browser-index.html +
# browser-run.js, legacy-index.html + legacy-run.js) and the checks (check.py) are in
# tests/sdk/; each file's head says what it does.
#
# Usage: bash scripts/sdk-tests.sh [PATH/TO/streamscope]
#   Without a path, builds the binary (`cargo build --locked`, dev profile).
# Environment:
#   STREAMSCOPE_SDK_CACHE  where packages are installed and kept between runs
#                          (default: $CARGO_TARGET_DIR or target/, then sdk-tests/)
#   CHROMIUM               the Chromium binary (default: chromium on PATH; installed with
#                          apt-get when absent and running as root)
#   CI=true                an SDK that cannot be run is a failure, not a skip
# Prints one PASS/FAIL line per check; exits 1 if any check failed (or, in CI, was skipped).
set -euo pipefail
GIVEN_BIN=${1:+$(realpath "$1")}
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CACHE=${STREAMSCOPE_SDK_CACHE:-$TARGET/sdk-tests}
PY_SDK="amplitude-analytics==1.3.0"
BROWSER_SDK="@amplitude/analytics-browser@2.48.1"
# sha256 of lib/scripts/amplitude-min.umd.js in $BROWSER_SDK (npm also checks the tarball's integrity).
BROWSER_UMD_SHA256=7c9faa966805cb55faededdc8959e4969f3760f26c1f7e622849f1b31dcb1607
# amplitude-js versions and the sha256 of amplitude.umd.min.js in each (`npm pack amplitude-js@V`).
LEGACY_SDKS="8.21.10:0c80bf55c5fc833405ad0ede63f62771dc50b0eb646a8902c4b0893ee3dd1070
8.21.3:5d6b8135e8a40b686099e0667f0f6a7a5362b36a232a586d8cee0ea92068cf16"
IN_CI=false
case "${CI:-}" in true | 1 | yes) IN_CI=true ;; esac
STARTED=$SECONDS

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/streamscope-sdk.XXXXXX")
VERDICTS=$WORK/verdicts
: >"$VERDICTS"
SERVER_PID='' PAGE_PID=''
cleanup() {
  local rc=$?
  local pid
  for pid in $PAGE_PID $SERVER_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$rc" = 0 ]; then
    rm -rf "$WORK"
  else
    echo "sdk-tests: the endpoint's log, the capture and the SDK results are kept in $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

verdict() { # PASS|FAIL|SKIP text
  echo "$1  $2" | tee -a "$VERDICTS"
}
skip() { # what, why: a loud skip locally, a failure in CI
  if $IN_CI; then
    verdict FAIL "$1: cannot run in CI: $2"
  else
    echo "************************************************************************" >&2
    echo "SKIPPED: $1: $2" >&2
    echo "************************************************************************" >&2
    verdict SKIP "$1: $2"
  fi
}
step() { echo "== $* ($((SECONDS - STARTED)) s)"; }
as_root_with_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
APT_UPDATED=false
apt_install() {
  $APT_UPDATED || { apt-get update -qq && APT_UPDATED=true; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# python3 runs the checks (tests/sdk/check.py) and serves the browser page.
if ! command -v python3 >/dev/null 2>&1; then
  skip "all SDK tests" "python3 is not installed (it runs the checks)"
  $IN_CI && exit 1
  exit 0
fi

# --- the binary and the endpoint -------------------------------------------------------
if [ -n "$GIVEN_BIN" ]; then
  BIN=$GIVEN_BIN
else
  step "building streamscope (cargo build --locked)"
  cargo build --locked --quiet
  BIN=$TARGET/debug/streamscope
fi
[ -x "$BIN" ] || { echo "sdk-tests: no executable at $BIN" >&2; exit 1; }

"$BIN" listen --no-tui --addr 127.0.0.1:0 --capture "$WORK/capture.ndjson" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE=''
for _ in $(seq 200); do
  line=$(head -n 1 "$WORK/server.log" 2>/dev/null || true)
  if [[ $line =~ ^streamscope\ listening\ on\ (http://127\.0\.0\.1:[0-9]+)$ ]]; then
    BASE=${BASH_REMATCH[1]}
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$BASE" ]; then
  echo "sdk-tests: streamscope listen did not start:" >&2
  cat "$WORK/server.log" >&2
  exit 1
fi
URL=$BASE/2/httpapi
echo "endpoint: $URL (capture $WORK/capture.ndjson)"

# checks NAME ARGS...: tests/sdk/check.py, its verdicts added to ours; a checker that fails
# without saying which check failed is a failure too.
checks() {
  local name=$1 out rc=0
  shift
  out=$(python3 "$ROOT/tests/sdk/check.py" "$BASE" "$WORK/state.json" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | tee -a "$VERDICTS"
  if [ "$rc" != 0 ] && ! grep -q '^FAIL' <<<"$out"; then
    verdict FAIL "$name: the checker failed (exit status $rc)"
  fi
}

# run_case NAME RESULTS -- DRIVER...: runs a driver, then checks its results through the API
# (and, for amplitude-js, `report` on the capture).
run_case() {
  local name=$1 results=$2
  shift 3
  local from
  from=$(wc -l <"$WORK/server.log")
  step "$name"
  if ! timeout 180 "$@"; then
    verdict FAIL "$name: the SDK driver failed (exit status above)"
  fi
  if [ -s "$results" ]; then
    checks "$name" "$results" --log "$WORK/server.log" --log-from "$from" --bin "$BIN" --capture "$WORK/capture.ndjson"
  else
    verdict FAIL "$name: the driver wrote no results"
  fi
}

# --- Node: packages pinned by tests/sdk/package-lock.json --------------------------------
NODE_OK=false
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  step "npm packages (tests/sdk/package-lock.json) in $CACHE/node"
  mkdir -p "$CACHE/node"
  if cmp -s tests/sdk/package-lock.json "$CACHE/node/package-lock.json" &&
    [ -d "$CACHE/node/node_modules/@amplitude/analytics-node" ] &&
    [ -d "$CACHE/node/node_modules/playwright-core" ]; then
    echo "cached"
  else
    cp tests/sdk/package.json tests/sdk/package-lock.json "$CACHE/node/"
    (cd "$CACHE/node" && npm ci --no-audit --no-fund --silent) ||
      { rm -f "$CACHE/node/package-lock.json"; false; }
  fi
  NODE_OK=true
  export NODE_PATH=$CACHE/node/node_modules
else
  skip "node SDK and browser SDK" "node and npm are not installed"
fi

if $NODE_OK; then
  run_case "node main" "$WORK/node-main.json" -- node tests/sdk/node-run.js "$URL" main "$WORK/node-main.json"
  run_case "node invalid" "$WORK/node-invalid.json" -- node tests/sdk/node-run.js "$URL" invalid "$WORK/node-invalid.json"
fi

# --- Python: amplitude-analytics in a venv ---------------------------------------------
PY=$CACHE/venv/bin/python
py_ready() { "$PY" -c 'import importlib.metadata as m, sys; sys.exit(m.version("amplitude-analytics") != "1.3.0")' 2>/dev/null; }
PY_OK=false
if command -v python3 >/dev/null 2>&1; then
  step "python venv with $PY_SDK in $CACHE/venv"
  if py_ready; then
    echo "cached"
  else
    rm -rf "$CACHE/venv"
    if ! python3 -m venv "$CACHE/venv" 2>/dev/null && as_root_with_apt; then
      apt_install python3-venv && rm -rf "$CACHE/venv" && python3 -m venv "$CACHE/venv"
    fi
    [ -x "$PY" ] && "$PY" -m pip install --quiet --disable-pip-version-check "$PY_SDK" || true
  fi
  if py_ready; then PY_OK=true; else skip "python SDK" "could not set up a venv with $PY_SDK"; fi
else
  skip "python SDK" "python3 is not installed"
fi
if $PY_OK; then
  run_case "python main" "$WORK/py-main.json" -- "$PY" tests/sdk/py-run.py "$URL" main "$WORK/py-main.json"
  run_case "python invalid" "$WORK/py-invalid.json" -- "$PY" tests/sdk/py-run.py "$URL" invalid "$WORK/py-invalid.json"
fi

# --- Browser: the SDKs' bundles in headless Chromium -------------------------------------
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
BROWSER_OK=false CHROMIUM_OK=false
if $NODE_OK; then
  CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
  if [ -z "$CHROMIUM" ] && as_root_with_apt; then
    step "installing chromium (apt-get)"
    apt_install chromium || true
    CHROMIUM=$(command -v chromium || true)
  fi
  if [ -z "$CHROMIUM" ]; then
    skip "browser SDKs" "Chromium is not installed (apt-get install chromium as root, or set CHROMIUM)"
  else
    export CHROMIUM
    CHROMIUM_OK=true
    UMD=$CACHE/browser/amplitude-min.umd.js
    step "$BROWSER_SDK bundle in $CACHE/browser"
    if [ "$(sha "$UMD")" = "$BROWSER_UMD_SHA256" ]; then
      echo "cached"
    else
      # `npm install @amplitude/analytics-browser` does not resolve in every registry
      # (a missing plugin version); its prebuilt bundle needs none of its dependencies.
      rm -rf "$CACHE/browser" && mkdir -p "$CACHE/browser/pack"
      (cd "$CACHE/browser/pack" && npm pack --silent "$BROWSER_SDK" >/dev/null &&
        tar xzf amplitude-analytics-browser-2.48.1.tgz package/lib/scripts/amplitude-min.umd.js &&
        mv package/lib/scripts/amplitude-min.umd.js "$UMD") || true
      rm -rf "$CACHE/browser/pack"
    fi
    if [ "$(sha "$UMD")" != "$BROWSER_UMD_SHA256" ]; then
      verdict FAIL "browser SDK: $BROWSER_SDK's bundle could not be fetched or its sha256 differs"
    else
      BROWSER_OK=true
    fi
  fi
fi
# The legacy SDK's bundles, each checked by its sha256.
LEGACY_OK=''
if $CHROMIUM_OK; then
  step "amplitude-js bundles in $CACHE/legacy"
  mkdir -p "$CACHE/legacy"
  while IFS=: read -r v want; do
    js=$CACHE/legacy/amplitude-js-$v.umd.min.js
    if [ "$(sha "$js")" != "$want" ]; then
      rm -rf "$CACHE/legacy/pack" && mkdir -p "$CACHE/legacy/pack"
      (cd "$CACHE/legacy/pack" && npm pack --silent "amplitude-js@$v" </dev/null >/dev/null &&
        tar xzf "amplitude-js-$v.tgz" package/amplitude.umd.min.js &&
        mv package/amplitude.umd.min.js "$js") || true
      rm -rf "$CACHE/legacy/pack"
    fi
    if [ "$(sha "$js")" = "$want" ]; then
      LEGACY_OK="$LEGACY_OK $v"
    else
      verdict FAIL "amplitude-js $v: its bundle could not be fetched or its sha256 differs"
    fi
  done <<<"$LEGACY_SDKS"
  echo "amplitude-js:${LEGACY_OK:- none}"
fi
if $BROWSER_OK || [ -n "$LEGACY_OK" ]; then
  mkdir -p "$WORK/www"
  cp tests/sdk/browser-index.html "$WORK/www/index.html"
  cp tests/sdk/legacy-index.html "$WORK/www/legacy-index.html"
  ! $BROWSER_OK || cp "$UMD" "$WORK/www/"
  for v in $LEGACY_OK; do cp "$CACHE/legacy/amplitude-js-$v.umd.min.js" "$WORK/www/"; done
  # The page is served from another port than the endpoint's: a different origin, so the
  # browser sends real CORS preflights.
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/page.log" 2>&1 &
  PAGE_PID=$!
  PAGE=''
  for _ in $(seq 200); do
    if [[ $(head -n 1 "$WORK/page.log" 2>/dev/null || true) =~ port\ ([0-9]+) ]]; then
      PAGE=http://127.0.0.1:${BASH_REMATCH[1]}/index.html
      break
    fi
    sleep 0.05
  done
  if [ -z "$PAGE" ]; then
    verdict FAIL "browser SDKs: the page server did not start: $(cat "$WORK/page.log")"
  else
    echo "page: $PAGE  ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"))"
    for mode in sessions gzip beacon; do
      $BROWSER_OK || break
      run_case "browser $mode" "$WORK/browser-$mode.json" -- \
        node tests/sdk/browser-run.js "$PAGE" "$URL" "$mode" "$WORK/browser-$mode.json"
    done
    LEGACY_STARTED=$SECONDS
    for v in $LEGACY_OK; do
      for mode in basic beacon batched lost left shortid; do
        # A user per run; the short ids differ by version so that each run has its own.
        user=legacy-$mode-$v
        [ "$mode" = shortid ] && user=$([ "$v" = 8.21.3 ] && echo 43 || echo 42)
        out=$WORK/amplitude-js-$v-$mode.json
        run_case "amplitude-js $v $mode" "$out" -- \
          node tests/sdk/legacy-run.js "${PAGE%/index.html}/legacy-index.html" "$BASE" "$v" "$mode" "$user" "$out"
      done
    done
    [ -z "$LEGACY_OK" ] || echo "amplitude-js cases: $((SECONDS - LEGACY_STARTED)) s"
  fi
fi

# --- totals ---------------------------------------------------------------------------
step "endpoint totals"
checks "endpoint totals" --final
passed=$(grep -c '^PASS' "$VERDICTS" || true)
failed=$(grep -c '^FAIL' "$VERDICTS" || true)
skipped=$(grep -c '^SKIP' "$VERDICTS" || true)
echo "sdk-tests: $passed passed, $failed failed, $skipped skipped in $((SECONDS - STARTED)) s"
if [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
  echo "sdk-tests: no SDK could be run, so nothing was checked; STREAMSCOPE_SKIP_SDK=1 skips this part of scripts/test.sh" >&2
  exit 1
fi
if [ "$failed" != 0 ]; then
  grep '^FAIL' "$VERDICTS" >&2 || true
  echo "--- endpoint log (last 60 lines) ---" >&2
  tail -n 60 "$WORK/server.log" >&2
  exit 1
fi
