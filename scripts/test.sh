#!/usr/bin/env bash
# The whole test suite: unit, property, snapshot and end-to-end tests, then the official
# Amplitude SDKs (Node, Python, Browser in headless Chromium) against `streamscope listen`
# (scripts/sdk-tests.sh; STREAMSCOPE_SKIP_SDK=1 skips that part), then `streamscope sql` in
# Spark local mode (scripts/sql-tests.sh: pyspark and a JRE; STREAMSCOPE_SKIP_SPARK=1 skips it).
# The SQL tests in `cargo test` install duckdb and sqlglot into target/sql-tests/venv.
# Installs what the tests need (tmux for the real-terminal test; groff for the man page; for the SDK tests, npm and
# PyPI packages into target/sdk-tests/ and chromium via apt) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# tmux for the real-terminal tests, groff to render the man page without warnings.
missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v groff >/dev/null 2>&1 || missing+=(groff-base)
# Python venvs for the SQL tests' DuckDB and sqlglot (tests/it/sql.rs) and the SDK tests.
if ! command -v python3 >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: ${missing[*]} not installed; the tests that need them will be skipped" >&2
  fi
fi
cargo test --locked --all-targets "$@"
if [ "${STREAMSCOPE_SKIP_SDK:-}" = 1 ]; then
  echo "note: STREAMSCOPE_SKIP_SDK=1: the tests with the official Amplitude SDKs are skipped" >&2
else
  bash scripts/sdk-tests.sh
fi
bash scripts/sql-tests.sh
