"""Replication benchmarks, redis-server vs dragonfly-py with the same topology in one run:

1. full sync of N keys to a fresh replica (time from REPLICAOF until the link is up and in sync);
2. primary CPU per request with 2 replicas attached (redis-benchmark SET, -P 16);
3. replication lag under a sustained write load: how far the replicas' applied offsets trail the
   primary's (bytes, ~records), and how long after the load they are in sync (ms).

    python3 bench/replication.py [--keys 1000000] [--requests 200000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from bench.rdb_save_load import commands
from bench.server_cpu import cpu_seconds
from tests.helpers import ServerProcess, start_dragonfly, start_redis, wait_for

FAST = ("--repl-diskless-sync-delay", "0")


def in_sync(primary: ServerProcess, replica: ServerProcess) -> bool:
    offset = redis.Redis(port=primary.port).info("replication")["master_repl_offset"]
    info = redis.Redis(port=replica.port).info("replication")
    return info["master_link_status"] == "up" and info["slave_repl_offset"] == offset


def full_sync_seconds(start, tmp: Path, keys: int) -> float:  # type: ignore[no-untyped-def]
    primary = start(tmp / "p", *FAST)
    replica = start(tmp / "r", *FAST)
    try:
        subprocess.run(["redis-cli", "-p", str(primary.port), "--pipe"], input=commands(keys), capture_output=True)
        began = time.perf_counter()
        redis.Redis(port=replica.port).replicaof("127.0.0.1", primary.port)
        wait_for(lambda: in_sync(primary, replica), timeout=600, interval=0.01)
        return time.perf_counter() - began
    finally:
        replica.stop()
        primary.stop()


def cpu_and_lag(start, tmp: Path, requests: int) -> tuple[float, int, int, float]:  # type: ignore[no-untyped-def]
    """Primary CPU per SET with 2 replicas; the most the replicas' applied offsets trailed the
    primary's during the load (bytes, and records at the run's average record size), and how long
    after the load ended they were in sync (ms)."""
    primary = start(tmp / "p2", *FAST)
    replicas = [start(tmp / f"r2{i}", *FAST) for i in range(2)]
    try:
        for replica in replicas:
            redis.Redis(port=replica.port).replicaof("127.0.0.1", primary.port)
        wait_for(lambda: all(in_sync(primary, r) for r in replicas), timeout=60)
        behind: list[int] = []
        done = threading.Event()

        def sample() -> None:
            clients = [redis.Redis(port=server.port) for server in (primary, *replicas)]
            while not done.is_set():
                offset = clients[0].info("replication")["master_repl_offset"]
                applied = min(c.info("replication")["slave_repl_offset"] for c in clients[1:])
                behind.append(max(0, offset - applied))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        start_offset = redis.Redis(port=primary.port).info("replication")["master_repl_offset"]
        sampler.start()
        before = cpu_seconds(primary.pid)
        argv = ["redis-benchmark", "-p", str(primary.port), "-t", "set", "-n", str(requests), "-P", "16", "-q"]
        subprocess.run(argv, capture_output=True, check=True)
        cpu = (cpu_seconds(primary.pid) - before) / requests * 1e6
        done.set()
        sampler.join()
        began = time.perf_counter()
        wait_for(lambda: all(in_sync(primary, r) for r in replicas), timeout=60, interval=0.005)
        catch_up_ms = (time.perf_counter() - began) * 1000
        end_offset = redis.Redis(port=primary.port).info("replication")["master_repl_offset"]
        record_bytes = (end_offset - start_offset) / requests
        most = max(behind, default=0)
        return cpu, most, round(most / record_bytes), catch_up_ms
    finally:
        for server in [*replicas, primary]:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    results = {}
    for name, start in (("redis", start_redis), ("ours", start_dragonfly)):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            for sub in ("p", "r", "p2", "r20", "r21"):
                (base / sub).mkdir()
            sync = full_sync_seconds(start, base, args.keys)
            cpu, lag_bytes, lag_records, catch_up = cpu_and_lag(start, base, args.requests)
            results[name] = (sync, cpu)
            print(
                f"{name:6} full sync {sync:7.2f}s   primary CPU/request (2 replicas, SET -P16) {cpu:6.2f} us   "
                f"max lag {lag_bytes} bytes ~{lag_records} records   in sync {catch_up:4.0f} ms after the load"
            )
    (rs, rc), (os_, oc) = results["redis"], results["ours"]
    print(f"ratio  full sync {os_ / rs:5.2f}x (target <= 2x)   CPU/request {oc / rc:5.2f}x (target <= 1.25x)")


if __name__ == "__main__":
    main()
