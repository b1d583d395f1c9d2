#!/usr/bin/env bash
# End-to-end benchmark of `streamscope report --format json` on a large Export-like file.
#
#   bench/report.sh                       # 5 runs on target/bench/export-2m.ndjson
#   RUNS=10 bench/report.sh
#   EVENTS=500000 bench/report.sh         # uses (and if missing generates) target/bench/export-500000.ndjson
#   BENCH_FILE=/data/export.ndjson bench/report.sh   # any existing file; generated with EVENTS if missing
#   DUCKDB=0 bench/report.sh              # without the DuckDB comparison
#
# With DUCKDB=1 (the default) each run of the report is followed by a run of
# bench/duckdb_compare.py (the same figures in SQL, DuckDB on 2 threads) on the same file, so
# both see the same machine; the script prints both medians and the ratio. DuckDB is installed
# with pip into a venv of its own (target/bench/duckdb-venv) when missing.
#
# Steps: build release; generate the input with examples/gen_export.rs if it is missing;
# warm the page cache (nothing is dropped from it); run the report RUNS times under
# /usr/bin/time -v; print per run the wall time, throughput (file size / wall) and max RSS,
# then the medians and the peak RSS. MB and GB are decimal (10^6, 10^9 bytes).
# Wall time is measured around each run with the shell's microsecond clock; max RSS comes
# from /usr/bin/time -v.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-5}"
DUCKDB="${DUCKDB:-1}"
EVENTS="${EVENTS:-2000000}"
if [[ "$EVENTS" == 2000000 ]]; then
    default_file=target/bench/export-2m.ndjson
else
    default_file="target/bench/export-${EVENTS}.ndjson"
fi
BENCH_FILE="${BENCH_FILE:-$default_file}"
BIN="${CARGO_TARGET_DIR:-target}/release/streamscope"

if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
    echo "report.sh: RUNS must be a positive integer (got '$RUNS')" >&2
    exit 2
fi
if ! [[ "$EVENTS" =~ ^[1-9][0-9]*$ ]]; then
    echo "report.sh: EVENTS must be a positive integer (got '$EVENTS')" >&2
    exit 2
fi

if [[ ! -x /usr/bin/time ]]; then
    echo "report.sh: /usr/bin/time is missing, installing the 'time' package" >&2
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

echo "== building release" >&2
cargo build --release

if [[ ! -s "$BENCH_FILE" ]]; then
    echo "== generating $BENCH_FILE ($EVENTS events)" >&2
    mkdir -p "$(dirname "$BENCH_FILE")"
    # write to a temporary name so that an interrupted run leaves no truncated input behind
    cargo run --release --example gen_export -- "$BENCH_FILE.tmp" --events "$EVENTS"
    mv -f "$BENCH_FILE.tmp" "$BENCH_FILE"
fi

PY=target/bench/duckdb-venv/bin/python
if [[ "$DUCKDB" == 1 ]] && ! "$PY" -c 'import duckdb' 2>/dev/null; then
    echo "== installing DuckDB into target/bench/duckdb-venv" >&2
    mkdir -p target/bench
    if ! python3 -m venv target/bench/duckdb-venv 2>/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv target/bench/duckdb-venv
    fi
    target/bench/duckdb-venv/bin/pip install -q duckdb
fi

# -L: the size of the file itself when BENCH_FILE is a symbolic link to it
bytes=$(stat -L -c %s "$BENCH_FILE")
echo "== warming the page cache" >&2
cat "$BENCH_FILE" >/dev/null
lines=$(wc -l <"$BENCH_FILE")

now() {
    if [[ -n "${EPOCHREALTIME:-}" ]]; then
        echo "${EPOCHREALTIME/,/.}"
    else
        date +%s.%N
    fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%s\n' "== $BIN report --format json $BENCH_FILE > /dev/null" >&2
printf 'file %s: %s bytes (%s GB), %s events (lines); %s runs\n' \
    "$BENCH_FILE" "$bytes" "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e9 }')" "$lines" "$RUNS"

walls=()
mbps=()
rss=()
dwalls=()
drss=()
for ((i = 1; i <= RUNS; i++)); do
    start=$(now)
    if ! /usr/bin/time -v -o "$tmp/time.txt" "$BIN" report --format json "$BENCH_FILE" >/dev/null 2>"$tmp/stderr.txt"; then
        echo "report.sh: run $i failed:" >&2
        cat "$tmp/stderr.txt" "$tmp/time.txt" >&2 || true
        exit 1
    fi
    end=$(now)
    wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
    rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.txt")
    rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
    tput=$(awk -v b="$bytes" -v w="$wall" 'BEGIN { printf "%.1f", (w > 0 ? b / 1e6 / w : 0) }')
    walls+=("$wall")
    mbps+=("$tput")
    rss+=("$rss_mb")
    printf 'run %d/%d: %8.3f s  %9.1f MB/s  max RSS %8.1f MB\n' "$i" "$RUNS" "$wall" "$tput" "$rss_mb"
    if [[ "$DUCKDB" == 1 ]]; then
        start=$(now)
        if ! /usr/bin/time -v -o "$tmp/time.txt" "$PY" bench/duckdb_compare.py "$BENCH_FILE" 1 >"$tmp/duck.txt" 2>&1; then
            echo "report.sh: DuckDB run $i failed:" >&2
            cat "$tmp/duck.txt" >&2 || true
            exit 1
        fi
        end=$(now)
        dwall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
        drss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.txt")
        drss_mb=$(awk -v k="$drss_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
        dwalls+=("$dwall")
        drss+=("$drss_mb")
        printf '        DuckDB: %8.3f s                 max RSS %8.1f MB\n' "$dwall" "$drss_mb"
    fi
done

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
max() {
    printf '%s\n' "$@" | sort -g | tail -n 1
}

med_wall=$(median "${walls[@]}")
med_tput=$(median "${mbps[@]}")
peak_rss=$(max "${rss[@]}")
printf 'median %.2f s, %.0f MB/s, peak RSS %.0f MB over %d runs (file %.2f GB, %d events)\n' \
    "$med_wall" "$med_tput" "$peak_rss" "$RUNS" "$(awk -v b="$bytes" 'BEGIN { print b / 1e9 }')" "$lines"
if [[ "$DUCKDB" == 1 ]]; then
    duck_wall=$(median "${dwalls[@]}")
    duck_rss=$(max "${drss[@]}")
    printf 'DuckDB (2 threads, bench/duckdb_compare.py, whole process): median %.2f s, peak RSS %.0f MB\n' \
        "$duck_wall" "$duck_rss"
    printf 'ratio report / DuckDB (median wall): %.2f\n' \
        "$(awk -v a="$med_wall" -v b="$duck_wall" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')"
fi
