#!/usr/bin/env bash
# Ingestion benchmark of `streamscope listen`: throughput, latency, and no event lost.
#
#   bench/ingest.sh                      # 5 headless runs of 10 s, then one run with the TUI
#   RUNS=3 DURATION=5s bench/ingest.sh
#   LOG=null bench/ingest.sh             # the server's per-request log to /dev/null (default: a file)
#   TUI=0 bench/ingest.sh                # skip the run with the inspector
#   SUMMARY=0 bench/ingest.sh            # skip the run with summaries on a large capture
#   SEED=1000000                         # events already in the capture of that run
#   CLIENTS=8 BATCH=100                  # the defaults
#
# Each run: a fresh capture file; `streamscope listen --no-tui` on a free loopback port,
# its standard output (one log line per request, part of the headless cost) to a file or
# /dev/null; the load generator (examples/ingest_load.rs: CLIENTS keep-alive connections
# posting BATCH-event batches of ~540-byte events back to back for DURATION, writing the
# insert_ids of every batch answered 200 to a list); SIGTERM to the server; then checks that
# nothing was lost: the capture holds exactly the acknowledged events (line count, the
# server's own count, and the sorted insert_id lists compared byte for byte).
# Prints per run events/s, MB/s, latency p50/p99/max, the server's CPU time, and the medians.
#
# The generator and the server share the machine's cores: the figures are for both on the
# same host (the generator is one thread and cheap, but not free).
#
# The summary run resumes a capture seeded with SEED events (a million by default) and,
# while the generator posts, requests `GET /streamscope/summary` back to back (one at a
# time, with curl): the analysis of the whole capture runs beside ingestion, on a snapshot
# taken under the capture's lock, and ingestion's p99 must stay under 20 ms.
#
# The TUI run starts `streamscope listen` (the inspector) inside tmux (120x40) and measures
# the same way; when the build has no inspector for listen it reports that and skips it.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-5}"
DURATION="${DURATION:-10s}"
CLIENTS="${CLIENTS:-8}"
BATCH="${BATCH:-100}"
LOG="${LOG:-file}"
TUI="${TUI:-1}"
SUMMARY="${SUMMARY:-1}"
SEED="${SEED:-1000000}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release/streamscope"
LOAD="$TARGET/release/examples/ingest_load"

for v in RUNS CLIENTS BATCH SEED; do
    if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
        echo "ingest.sh: $v must be a positive integer (got '${!v}')" >&2
        exit 2
    fi
done
if [[ "$LOG" != file && "$LOG" != null ]]; then
    echo "ingest.sh: LOG must be 'file' or 'null' (got '$LOG')" >&2
    exit 2
fi

echo "== building release" >&2
cargo build --release --bin streamscope --example ingest_load

tmp=$(mktemp -d)
server_pid=""
tmux_session="streamscope-bench-$$"
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
    fi
    tmux kill-session -t "$tmux_session" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

# Whether 127.0.0.1:$1 answers `GET /streamscope/rejected` with 200 (bash's /dev/tcp, no curl).
answers() {
    local status=""
    {
        exec 3<>"/dev/tcp/127.0.0.1/$1" &&
            printf 'GET /streamscope/rejected HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$1" >&3 &&
            IFS= read -r -t 5 status <&3
    } 2>/dev/null || true
    exec 3<&- 2>/dev/null || true
    [[ "$status" == "HTTP/1.1 200"* ]]
}

# Waits until the endpoint on 127.0.0.1:$1 answers, or $2 (a pid) is gone.
wait_port() {
    local port=$1 pid=$2
    for ((i = 0; i < 200; i++)); do
        if answers "$port"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.05
    done
    return 1
}

# CPU seconds (user + system) used so far by process $1.
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo "?"
}

field() { # field NAME RESULT_LINE
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

lost_total=0

# Runs the generator against $port, then checks the capture; sets $result and $verdict.
# Arguments: port pid dir label [seeded lines at the start of the capture]
measure() {
    local port=$1 pid=$2 dir=$3 label=$4 seeded=${5:-0}
    "$LOAD" --url "http://127.0.0.1:$port/2/httpapi" --clients "$CLIENTS" --batch "$BATCH" \
        --duration "$DURATION" --acked "$dir/acked.txt" >"$dir/load.txt"
    result=$(grep '^result ' "$dir/load.txt")
    server_cpu=$(cpu_s "$pid")
    if ! kill -TERM "$pid" 2>/dev/null; then
        echo "ingest.sh: $label: the server exited during the run: $(cat "$dir/server.err" 2>/dev/null)" >&2
        lost_total=$((lost_total + 1))
    fi
    for ((i = 0; i < 600; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "ingest.sh: $label: the server did not stop on SIGTERM" >&2
        kill -KILL "$pid" || true
    fi
    wait "$pid" 2>/dev/null || true
    server_pid=""
    local events captured acked
    events=$(field events "$result")
    captured=$(($(wc -l <"$dir/c.ndjson") - seeded))
    acked=$(wc -l <"$dir/acked.txt")
    # The generator puts insert_id first: {"insert_id":"ID",...
    tail -n +"$((seeded + 1))" "$dir/c.ndjson" | cut -d'"' -f4 | sort -S 25% >"$dir/captured.ids"
    sort -S 25% "$dir/acked.txt" >"$dir/acked.ids"
    if [[ "$captured" == "$events" && "$acked" == "$events" ]] && cmp -s "$dir/captured.ids" "$dir/acked.ids"; then
        verdict="no event lost (capture = the $events acknowledged insert_ids)"
    else
        verdict="MISMATCH: $events acknowledged, $acked in the acked list, $captured lines captured"
        lost_total=$((lost_total + 1))
        comm -23 "$dir/acked.ids" "$dir/captured.ids" | head -5 | sed 's/^/  acknowledged, not captured: /' >&2
        comm -13 "$dir/acked.ids" "$dir/captured.ids" | head -5 | sed 's/^/  captured, not acknowledged: /' >&2
    fi
    if [[ "$label" == headless* && "$LOG" == file ]]; then
        local stopped
        stopped=$(grep '^stopped:' "$dir/server.log" || true)
        if [[ "$stopped" != *" $events events captured"* ]]; then
            verdict="$verdict; server's count differs: $stopped"
            lost_total=$((lost_total + 1))
        fi
    fi
    printf '%-10s %9s ev/s %7s MB/s  p50 %6s ms  p99 %6s ms  max %7s ms  errors %s  server CPU %s s  %s\n' \
        "$label" "$(field events_per_s "$result")" "$(field mb_per_s "$result")" \
        "$(field p50_ms "$result")" "$(field p99_ms "$result")" "$(field max_ms "$result")" \
        "$(field errors "$result")" "$server_cpu" "$verdict"
}

printf '%s\n' "== $BIN listen --no-tui --addr 127.0.0.1:PORT --capture FILE >${LOG/file/FILE}" >&2
printf '%s\n' "== $LOAD --url http://127.0.0.1:PORT/2/httpapi --clients $CLIENTS --batch $BATCH --duration $DURATION --acked FILE" >&2
printf 'host: %s cores (%s), shared by the server and the generator\n' "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"

eps=()
p99=()
for ((r = 1; r <= RUNS; r++)); do
    dir="$tmp/run$r"
    mkdir -p "$dir"
    port=$(free_port)
    out=/dev/null
    [[ "$LOG" == file ]] && out="$dir/server.log"
    "$BIN" listen --no-tui --addr "127.0.0.1:$port" --capture "$dir/c.ndjson" >"$out" 2>"$dir/server.err" &
    server_pid=$!
    if ! wait_port "$port" "$server_pid"; then
        echo "ingest.sh: the server did not start:" >&2
        cat "$dir/server.err" >&2
        exit 1
    fi
    measure "$port" "$server_pid" "$dir" "headless#$r"
    eps+=("$(field events_per_s "$result")")
    p99+=("$(field p99_ms "$result")")
    rm -rf "$dir"
done
printf 'median of %s headless runs (%s clients x %s events, %s): %s events/s, p99 %s ms\n' \
    "$RUNS" "$CLIENTS" "$BATCH" "$DURATION" "$(printf '%.0f' "$(median "${eps[@]}")")" "$(median "${p99[@]}")"

if [[ "$SUMMARY" != 0 ]]; then
    if ! command -v curl >/dev/null 2>&1; then
        echo "summary run: not measured (curl is not installed)"
    else
        dir="$tmp/summary"
        mkdir -p "$dir"
        echo "== seeding a capture with $SEED events" >&2
        awk -v n="$SEED" 'BEGIN {
            for (i = 0; i < n; i++)
                printf "{\"insert_id\":\"seed-%d\",\"event_type\":\"Screen Viewed\",\"user_id\":\"seed-user-%d\",\"device_id\":\"seed-device-%d\",\"session_id\":%d,\"time\":%d,\"event_properties\":{\"screen\":\"s%d\"}}\n",
                    i, i % 5000, i % 5000, 1700000000000 + int(i / 5000) * 600000, 1700000000000 + int(i / 5000) * 600000 + (i % 5000), i % 40
        }' >"$dir/c.ndjson"
        port=$(free_port)
        out=/dev/null
        [[ "$LOG" == file ]] && out="$dir/server.log"
        "$BIN" listen --no-tui --addr "127.0.0.1:$port" --capture "$dir/c.ndjson" >"$out" 2>"$dir/server.err" &
        server_pid=$!
        if ! wait_port "$port" "$server_pid"; then
            echo "ingest.sh: the server did not start:" >&2
            cat "$dir/server.err" >&2
            exit 1
        fi
        (
            while [[ ! -e "$dir/stop" ]]; do
                curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/streamscope/summary" >>"$dir/summaries.txt" || break
            done
        ) &
        summaries_pid=$!
        measure "$port" "$server_pid" "$dir" "headless#$((RUNS + 1))" "$SEED"
        touch "$dir/stop"
        wait "$summaries_pid" 2>/dev/null || true
        n_summaries=$(wc -l <"$dir/summaries.txt")
        printf 'the run above: %s summaries of the %s-event capture requested back to back during ingestion, median %s s each\n' \
            "$n_summaries" "$SEED" "$(median $(cat "$dir/summaries.txt"))"
        rm -rf "$dir"
    fi
fi

if [[ "$TUI" != 0 ]]; then
    if ! command -v tmux >/dev/null 2>&1; then
        echo "TUI run: not measured (tmux is not installed)"
    else
        dir="$tmp/tui"
        mkdir -p "$dir"
        port=$(free_port)
        # `exec` keeps the pid written by the shell: it is the server's.
        tmux new-session -d -s "$tmux_session" -x 120 -y 40 \
            "echo \$\$ > '$dir/pid'; exec '$BIN' listen --addr 127.0.0.1:$port --capture '$dir/c.ndjson' 2>'$dir/server.err'"
        for ((i = 0; i < 100; i++)); do
            [[ -s "$dir/pid" ]] && break
            sleep 0.05
        done
        server_pid=$(cat "$dir/pid" 2>/dev/null || true)
        if [[ -n "$server_pid" ]] && wait_port "$port" "$server_pid"; then
            measure "$port" "$server_pid" "$dir" "tui"
        else
            printf 'TUI run: not measured: the inspector did not start: %s\n' \
                "$(tr '\n' ' ' <"$dir/server.err" 2>/dev/null)"
        fi
        tmux kill-session -t "$tmux_session" 2>/dev/null || true
    fi
fi

if ((lost_total > 0)); then
    echo "ingest.sh: $lost_total run(s) lost or mismatched events" >&2
    exit 1
fi
