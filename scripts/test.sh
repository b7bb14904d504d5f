#!/usr/bin/env bash
# Set up, lint, then run every test (unit, integration, interop against real redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
PYTHON=${PYTHON:-python3}
"$PYTHON" -m ruff check .
"$PYTHON" -m pytest -q -p no:cacheprovider "$@"
