#!/bin/sh
# entrypoint.sh node|sentinel SEED_CONFIG: copy the seed config into /data once, then run on the copy.
# Both programs rewrite their config (CONFIG REWRITE after a failover, sentinel state), so the file
# must live in the container's volume and survive restarts; the seed in /config stays read-only.
set -eu
role=$1 seed=$2
shift 2
conf=/data/$(basename "$seed")
[ -f "$conf" ] || cp "$seed" "$conf"
case "$role" in
  node) exec dragonfly-py "$conf" "$@" ;;
  sentinel) exec dragonfly-py-sentinel "$conf" "$@" ;;
  *) echo "entrypoint.sh: unknown role '$role' (node or sentinel)" >&2; exit 2 ;;
esac
