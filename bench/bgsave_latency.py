"""GET latency while a BGSAVE of N keys runs: redis-server vs dragonfly-py in the same run.

Fills each server with the mixed keys of rdb_save_load.py, measures GET round trips from one
client for a baseline second, then starts BGSAVE and keeps measuring until INFO says the save has
finished.  Prints p50 / p99 / max per phase and the ratio.  Target (issue 3): p99 under 10 ms
during a 1M-key BGSAVE.

    python3 bench/bgsave_latency.py [--keys 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from bench.rdb_save_load import commands
from tests.helpers import start_dragonfly, start_redis


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def get_latencies(client: redis.Redis, keys: int, until: object) -> list[float]:
    """GET round trips (seconds) until until() is true; the check runs every 50 requests."""
    samples: list[float] = []
    i = 0
    while True:
        if i % 50 == 0 and until():
            return samples
        start = time.perf_counter()
        client.get(f"key:{(i * 7919) % (keys // 20) * 20 + i % 14}")  # a string key (see commands())
        samples.append(time.perf_counter() - start)
        i += 1


def measure(client: redis.Redis, keys: int) -> dict[str, list[float]]:
    end = time.monotonic() + 1.0
    baseline = get_latencies(client, keys, lambda: time.monotonic() > end)
    info = redis.Redis(port=client.connection_pool.connection_kwargs["port"])
    assert info.bgsave()
    during = get_latencies(client, keys, lambda: not info.info("persistence")["rdb_bgsave_in_progress"])
    assert info.info("persistence")["rdb_last_bgsave_status"] == "ok"
    return {"baseline": baseline, "bgsave": during}


def summary(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"p50 {percentile(ms, 0.5):6.3f} ms  p99 {percentile(ms, 0.99):6.3f} ms  max {max(ms):7.2f} ms  n={len(ms)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    args = parser.parse_args()
    payload = commands(args.keys)
    p99 = {}
    for name, start in (("redis", start_redis), ("ours", start_dragonfly)):
        with tempfile.TemporaryDirectory() as tmp:
            server = start(Path(tmp))
            try:
                subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=payload, capture_output=True)
                phases = measure(redis.Redis(port=server.port), args.keys)
            finally:
                server.stop()
        for phase, samples in phases.items():
            print(f"{name:6} {phase:9} {summary(samples)}", flush=True)
        p99[name] = percentile(phases["bgsave"], 0.99) * 1000
    print(
        f"GET p99 during BGSAVE: redis-server {p99['redis']:.3f} ms, ours {p99['ours']:.3f} ms "
        f"(ratio {p99['ours'] / p99['redis']:.2f}x; target: ours under 10 ms)"
    )


if __name__ == "__main__":
    main()
