"""Failover drill, real redis-sentinel vs dragonfly-py-sentinel on the same topology, one run:
3 real redis-server nodes (1 primary, 2 replicas) and 3 sentinels (down-after-milliseconds 1000,
failover-timeout 2000).  Each drill SHUTDOWNs the primary while a redis-py Sentinel writer runs,
and measures the time until that writer is writing again, and the acknowledged writes lost.

    python3 bench/failover.py [--drills 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.topology import Topology, drill


def run(kind: str, drills: int) -> list[dict[str, float]]:
    results = []
    for _ in range(drills):
        with tempfile.TemporaryDirectory() as tmp:
            topology = Topology(Path(tmp), sentinels=(kind,) * 3).start()
            try:
                results.append(drill(topology, topology.shutdown))
            finally:
                topology.stop()
        print(f"  {kind}: {results[-1]['seconds']:.2f} s, {results[-1]['lost']} lost", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drills", type=int, default=3)
    args = parser.parse_args()
    real = run("real", args.drills)
    ours = run("ours", args.drills)
    real_s = statistics.mean(r["seconds"] for r in real)
    ours_s = statistics.mean(r["seconds"] for r in ours)
    ratio = ours_s / real_s
    print(f"SHUTDOWN -> writing again: redis-sentinel {real_s:.2f} s, ours {ours_s:.2f} s, ratio {ratio:.2f}x")
    print(f"writes lost: redis-sentinel {sum(r['lost'] for r in real)}, ours {sum(r['lost'] for r in ours)}")


if __name__ == "__main__":
    main()
