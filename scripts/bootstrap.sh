#!/usr/bin/env bash
# Create the virtual environment, install the pinned requirements, vendor the
# front-end assets and compile the translations. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    echo "Installing python3-venv (Debian ships venv separately)..."
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    "$PYTHON" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
if [ ! -f static/vendor/VERSIONS ] && ! command -v npm >/dev/null; then
  echo "Installing npm to fetch the front-end libraries once..."
  apt-get update -qq && apt-get install -y -qq npm >/dev/null
fi
scripts/vendor_assets.sh
scripts/i18n.sh compile >/dev/null
