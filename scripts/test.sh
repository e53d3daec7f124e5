#!/usr/bin/env bash
# Run the whole test suite: unit, view and browser tests, on SQLite, or on
# PostgreSQL when TEST_DATABASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh >/dev/null
if ! command -v chromium >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
