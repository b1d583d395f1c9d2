#!/usr/bin/env bash
# The decoder against the fastest validating JSON parsers, one core each, on the lines of an
# Export-like file already in memory: where the decoder's time goes, and what a faster
# parser could give.
#
#   bench/parsers.sh                       # 5 rounds on the first 200 MB of target/bench/export-2m.ndjson
#   RUNS=9 LIMIT_MB=400 bench/parsers.sh
#   BENCH_FILE=/data/export.ndjson bench/parsers.sh
#   PARSERS="streamscope simdjson" bench/parsers.sh
#
# The harness is bench/parsers (a crate of its own, outside the workspace, with its own lock
# file). For each parser it reads the first LIMIT_MB of the file into memory, cuts the lines,
# then times one pass that parses every line as one JSON document, all of it validated:
#   streamscope           the decoder as `report` runs it (validation, the session model's
#                         fields, interning, hashes, times)
#   streamscope-validate  the decoder's scanner, validation only (json::validate)
#   streamscope-object    the scanner walking the top-level object member by member
#   serde_json            serde_json::from_slice::<IgnoredAny>
#   simd-json             the Rust port of simdjson, to its tape
#   sonic-rs              sonic_rs::Value
#   simdjson              the C++ simdjson, DOM parser (runtime choice of SIMD kernel)
# Rounds run every parser in turn, so all see the same machine; the script prints each
# parser's median and best MB/s (MB = 10^6 bytes, per core) and the median's ratio to the
# decoder's. The C++ simdjson needs a C++ compiler (installed with apt when missing) and cmake
# (installed with pip into target/bench/cmake-venv when missing).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-5}"
LIMIT_MB="${LIMIT_MB:-200}"
BENCH_FILE="${BENCH_FILE:-target/bench/export-2m.ndjson}"
PARSERS="${PARSERS:-streamscope streamscope-validate streamscope-object serde_json simd-json sonic-rs simdjson}"
for n in RUNS LIMIT_MB; do
    if ! [[ "${!n}" =~ ^[1-9][0-9]*$ ]]; then
        echo "parsers.sh: $n must be a positive integer (got '${!n}')" >&2
        exit 2
    fi
done

if ! command -v c++ >/dev/null; then
    echo "parsers.sh: a C++ compiler is missing, installing the 'g++' package" >&2
    apt-get update -qq && apt-get install -y -qq g++ >/dev/null
fi
if ! command -v cmake >/dev/null; then
    if [[ ! -x target/bench/cmake-venv/bin/cmake ]]; then
        echo "== installing cmake into target/bench/cmake-venv" >&2
        mkdir -p target/bench
        if ! python3 -m venv target/bench/cmake-venv 2>/dev/null; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv target/bench/cmake-venv
        fi
        target/bench/cmake-venv/bin/pip install -q cmake
    fi
    PATH="$PWD/target/bench/cmake-venv/bin:$PATH"
fi

if [[ ! -s "$BENCH_FILE" ]]; then
    echo "== generating $BENCH_FILE (2,000,000 events)" >&2
    mkdir -p "$(dirname "$BENCH_FILE")"
    cargo run --release --example gen_export -- "$BENCH_FILE.tmp" --events 2000000
    mv -f "$BENCH_FILE.tmp" "$BENCH_FILE"
fi

echo "== building bench/parsers" >&2
cargo build --release --locked --manifest-path bench/parsers/Cargo.toml \
    --target-dir target/bench/parsers-target
BIN=target/bench/parsers-target/release/parsers-bench

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'file %s, first %s MB; %s rounds; MB/s on one core\n' "$BENCH_FILE" "$LIMIT_MB" "$RUNS"
for ((i = 1; i <= RUNS; i++)); do
    for p in $PARSERS; do
        "$BIN" "$BENCH_FILE" "$p" "$LIMIT_MB" >>"$tmp/results"
    done
    printf 'round %d/%d:' "$i" "$RUNS"
    tail -n "$(wc -w <<<"$PARSERS")" "$tmp/results" | awk '{ printf " %s %s", $1, $2 }'
    echo
done

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
base=$(awk '$1 == "streamscope" { print $2 }' "$tmp/results" | median)
printf '%-22s %10s %10s %14s %10s\n' parser median best "vs decoder" records
for p in $PARSERS; do
    med=$(awk -v p="$p" '$1 == p { print $2 }' "$tmp/results" | median)
    best=$(awk -v p="$p" '$1 == p { print $2 }' "$tmp/results" | sort -g | tail -n 1)
    records=$(awk -v p="$p" '$1 == p { print $3 }' "$tmp/results" | sort -u | tr '\n' ' ')
    ratio=$(awk -v m="$med" -v b="${base:-0}" 'BEGIN { if (b > 0) printf "%.2fx", m / b; else print "-" }')
    printf '%-22s %10.0f %10.0f %14s %10s\n' "$p" "$med" "$best" "$ratio" "$records"
done
counts=$(awk '{ print $3 }' "$tmp/results" | sort -u | wc -l)
if [[ "$counts" -gt 1 ]]; then
    echo "parsers.sh: the parsers accepted different numbers of records (see 'records')" >&2
fi
