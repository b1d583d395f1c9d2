#!/usr/bin/env bash
# The whole test suite: unit, property, snapshot and end-to-end tests.
# Installs what the tests need (tmux for the real-terminal test) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v tmux >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
  else
    echo "note: tmux is not installed; the real-terminal tests will be skipped" >&2
  fi
fi
cargo test --locked --all-targets "$@"
