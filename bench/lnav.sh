#!/usr/bin/env bash
# The inspector against lnav, the terminal log viewer a support engineer would otherwise
# open, on the same file in one sitting: wall time and peak RSS until each has read the
# whole file.
#
#   bench/lnav.sh                          # 3 runs each, interleaved, on target/bench/export-2m.ndjson
#   RUNS=5 BENCH_FILE=/data/export.ndjson bench/lnav.sh
#
# lnav (Debian's package, installed with apt when missing) reads the file with the Amplitude
# JSON format bench/lnav-amplitude.json (user_id, device_id, session_id, event_type, time
# from client_event_time), installed into a private HOME; it runs headless (-n) and answers
# one SQL count over its log table, which needs its index complete. streamscope runs the
# inspector in a 120x40 pseudo-terminal (script(1)) with STREAMSCOPE_EXIT_WHEN_LOADED=1: it
# quits once it has read every event and drawn its first complete analysis, and prints how
# long that took. Wall time is measured around each process; peak RSS by /usr/bin/time -v.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-3}"
BENCH_FILE="${BENCH_FILE:-target/bench/export-2m.ndjson}"
BIN="${CARGO_TARGET_DIR:-target}/release/streamscope"
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
    echo "lnav.sh: RUNS must be a positive integer (got '$RUNS')" >&2
    exit 2
fi

need() {
    if ! command -v "$1" >/dev/null; then
        echo "lnav.sh: $1 is missing, installing the '$2' package" >&2
        apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
    fi
}
need lnav lnav
need script util-linux
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

echo "== building release" >&2
cargo build --release
if [[ ! -s "$BENCH_FILE" ]]; then
    echo "== generating $BENCH_FILE" >&2
    mkdir -p "$(dirname "$BENCH_FILE")"
    cargo run --release --example gen_export -- "$BENCH_FILE.tmp" --events 2000000
    mv -f "$BENCH_FILE.tmp" "$BENCH_FILE"
fi
echo "== warming the page cache" >&2
cat "$BENCH_FILE" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home/.lnav/formats/installed"
cp bench/lnav-amplitude.json "$tmp/home/.lnav/formats/installed/"
file=$(realpath "$BENCH_FILE")

now() { echo "${EPOCHREALTIME/,/.}"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 * 1024 / 1e6 }' "$1"; }
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }

lw=() lr=() sw=() sr=()
printf 'file %s: %s bytes; %s runs each\n' "$file" "$(stat -c %s "$file")" "$RUNS"
for ((i = 1; i <= RUNS; i++)); do
    start=$(now)
    HOME="$tmp/home" /usr/bin/time -v -o "$tmp/lnav.time" \
        lnav -n -c ';SELECT count(*) AS events FROM amplitude_event' "$file" >"$tmp/lnav.out" 2>&1
    end=$(now)
    w=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
    lw+=("$w")
    lr+=("$(rss_mb "$tmp/lnav.time")")
    printf 'run %d/%d: lnav        %8.3f s  max RSS %8.1f MB  (%s)\n' "$i" "$RUNS" "$w" "${lr[-1]}" \
        "$(tr -s ' \n' ' ' <"$tmp/lnav.out" | cut -c1-60)"

    start=$(now)
    STREAMSCOPE_EXIT_WHEN_LOADED=1 /usr/bin/time -v -o "$tmp/ss.time" \
        script -qec "stty cols 120 rows 40; exec $BIN '$file'" /dev/null >"$tmp/ss.out" 2>&1
    end=$(now)
    w=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
    said=$(tr -d '\r' <"$tmp/ss.out" | grep -ao 'read, analysed and drawn.*' || true)
    if [[ -z "$said" ]]; then
        echo "lnav.sh: the inspector did not say it had loaded:" >&2
        tail -c 2000 "$tmp/ss.out" >&2
        exit 1
    fi
    sw+=("$w")
    sr+=("$(rss_mb "$tmp/ss.time")")
    printf 'run %d/%d: streamscope %8.3f s  max RSS %8.1f MB  (%s)\n' "$i" "$RUNS" "$w" "${sr[-1]}" "$said"
done

lwm=$(median "${lw[@]}") swm=$(median "${sw[@]}") lrm=$(max "${lr[@]}") srm=$(max "${sr[@]}")
printf 'lnav        median %.2f s, peak RSS %.0f MB\n' "$lwm" "$lrm"
printf 'streamscope median %.2f s, peak RSS %.0f MB\n' "$swm" "$srm"
printf 'ratio streamscope / lnav: time %.3f, memory %.3f\n' \
    "$(awk -v a="$swm" -v b="$lwm" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    "$(awk -v a="$srm" -v b="$lrm" 'BEGIN { print (b > 0 ? a / b : 0) }')"
