"""SHUTDOWN drill on the running compose topology (./scripts/compose.sh up --build -d).

A redis-py Sentinel writer writes numbered keys while the primary gets SHUTDOWN; the drill reports
how long until the writer was writing again, the new primary every sentinel agrees on, and how many
acknowledged writes the new primary lacks.  Then `./scripts/compose.sh start node-N` brings the old
primary back, and the sentinels turn it into a replica of the new one.

    python3 compose/drill.py [--protocol 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import wait_for
from tests.topology import MASTER, SentinelWriter, time_failover

# The fixed addresses of compose/docker-compose.yml.
SENTINELS = [(f"172.28.0.{20 + i}", 26379) for i in range(3)]
NODES = [(f"172.28.0.{10 + i}", 6379) for i in range(3)]


def primary_all_agree_on() -> tuple[str, int] | None:
    """The primary's address once every sentinel names the same one and it says it is a primary."""
    seen = set()
    for host, port in SENTINELS:
        sentinel = redis.Redis(host, port, socket_timeout=2, decode_responses=True)
        address = sentinel.sentinel_get_master_addr_by_name(MASTER)
        seen.add((address[0], int(address[1])) if address else None)
    if len(seen) != 1 or None in seen:
        return None
    host, port = seen.pop()
    return (host, port) if redis.Redis(host, port, socket_timeout=2).info("replication")["role"] == "master" else None


def primary_other_than(old: tuple[str, int]) -> tuple[str, int] | None:
    now = primary_all_agree_on()
    return now if now != old else None


def shutdown(host: str, port: int) -> None:
    """SHUTDOWN as redis-cli sends it: once, then wait for the server to close the connection."""
    connection = redis.Connection(host=host, port=port, socket_timeout=30)
    connection.send_command("SHUTDOWN")
    try:
        connection.read_response()
    except redis.ConnectionError:
        pass  # the server closed the connection: it has exited
    finally:
        connection.disconnect()


def run(protocol: int = 2) -> dict[str, object]:
    old = wait_for(primary_all_agree_on, timeout=30)
    writer = SentinelWriter(SENTINELS, protocol=protocol)
    writer.start()
    try:
        seconds = time_failover(writer, lambda: shutdown(*old))
        new = wait_for(lambda: primary_other_than(old), timeout=30)
    finally:
        writer.stop()
    return {"seconds": seconds, "old": old, "new": new, "acked": len(writer.acked), "lost": len(writer.lost_on(*new))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", type=int, choices=(2, 3), default=2)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    result = run(args.protocol)
    if args.json:
        print(json.dumps(result))
        return
    old, new = result["old"], result["new"]
    print(f"primary {old[0]}:{old[1]} shut down; {new[0]}:{new[1]} took over, every sentinel agrees")
    print(f"writer writing again after {result['seconds']:.2f} s; {result['lost']} of {result['acked']} writes lost")
    print(f"bring the old primary back with: ./scripts/compose.sh start node-{NODES.index(old)}")


if __name__ == "__main__":
    main()
