#!/usr/bin/env bash
# Set up, then run one dragonfly-py server in the foreground (extra arguments are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec dragonfly-py --port "${PORT:-6379}" "$@"
