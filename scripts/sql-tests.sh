#!/usr/bin/env bash
# The SQL engines `streamscope sql` writes for, beyond the DuckDB and sqlglot checks that
# `cargo test` runs by itself (tests/it/sql.rs installs duckdb and sqlglot into
# target/sql-tests/venv on first use):
#   - Spark 4 in local mode (pyspark from PyPI into the same venv, and a JRE 17: Debian's
#     openjdk-17-jre-headless via apt-get when missing and running as root): the emitted
#     Spark SQL over generated data agrees with `report --format json` on every summary key
#     (tests/it/sql.rs, spark_agrees_with_report_on_generated_data).
# BigQuery, Snowflake and Trino can only be checked offline: sqlglot parses their scripts
# (sqlglot_parses_every_dialects_script, part of `cargo test`).
#
# Usage: bash scripts/sql-tests.sh
# Environment: STREAMSCOPE_SKIP_SPARK=1 skips the Spark check.
# Costs measured here: pyspark install ~40 s, one local-mode run of two scripts ~2-3 min.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
VENV=$TARGET/sql-tests/venv
if [ "${STREAMSCOPE_SKIP_SPARK:-}" = 1 ]; then
  echo "note: STREAMSCOPE_SKIP_SPARK=1: the Spark check is skipped" >&2
  exit 0
fi
if ! command -v java >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "note: no Java runtime and no apt-get as root: the Spark check is skipped" >&2
    exit 0
  fi
fi
if [ ! -x "$VENV/bin/python" ] && ! python3 -m venv "$VENV"; then
  echo "note: could not make a Python venv (python3-venv missing?): the Spark check is skipped" >&2
  exit 0
fi
if ! "$VENV/bin/python" -c "import pyspark, duckdb, sqlglot" 2>/dev/null; then
  if ! "$VENV/bin/pip" install -q pyspark duckdb sqlglot; then
    echo "note: pip could not install pyspark: the Spark check is skipped" >&2
    exit 0
  fi
fi
STREAMSCOPE_SQL_SPARK="$VENV/bin/python" cargo test --locked --test it sql::spark -- --nocapture
