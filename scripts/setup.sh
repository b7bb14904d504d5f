#!/usr/bin/env bash
# Install what dragonfly-py and its tests need on a fresh machine (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null || ! command -v redis-sentinel >/dev/null || ! command -v redis-cli >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-sentinel redis-tools >/dev/null
    # The package starts a system redis on 6379; the tests use their own ports and processes.
    (service redis-server stop || true) >/dev/null 2>&1
  else
    echo "warning: redis-server/redis-tools missing and not root: interop tests will fail" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e '.[test]'
