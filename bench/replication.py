"""Replication benchmarks, redis-server vs dragonfly-py with the same topology in one run:

1. full sync of N keys to a fresh replica (time from REPLICAOF until the link is up and in sync);
2. primary CPU per request with 2 replicas attached (redis-benchmark SET, -P 16);
3. replication lag under a sustained write load: how far the replicas' applied offsets trail the
   primary's (bytes, ~records), and how long after the load they are in sync (ms).

    python3 bench/replication.py [--keys 1000000] [--requests 1000000] [--repeat 3]

The CPU figure is the median of --repeat runs, the two topologies taking turns (this machine's
speed drifts); -P 16 needs about a million requests for the 10 ms clock ticks of /proc to count.
"""

from __future__ import annotations

import argparse
import statistics
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
    for sub in ("p", "r"):
        (tmp / sub).mkdir()
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


def start_topology(start, tmp: Path, name: str) -> list[ServerProcess]:  # type: ignore[no-untyped-def]
    """A primary and 2 replicas in sync with it: [primary, replica, replica]."""
    servers = []
    try:
        for role in ("p", "r0", "r1"):
            (tmp / f"{name}{role}").mkdir()
            servers.append(start(tmp / f"{name}{role}", *FAST))
        for replica in servers[1:]:
            redis.Redis(port=replica.port).replicaof("127.0.0.1", servers[0].port)
        wait_for(lambda: all(in_sync(servers[0], r) for r in servers[1:]), timeout=60)
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def cpu_and_lag(primary: ServerProcess, replicas: list[ServerProcess], requests: int) -> tuple[float, int, int, float]:
    """Primary CPU per SET with 2 replicas; the most the replicas' applied offsets trailed the
    primary's during the load (bytes, and records at the run's average record size), and how long
    after the load ended they were in sync (ms)."""
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    kinds = {"redis": start_redis, "ours": start_dragonfly}
    syncs: dict[str, float] = {}
    runs: dict[str, list[tuple[float, int, int, float]]] = {name: [] for name in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name, start in kinds.items():
            (base / name).mkdir()
            syncs[name] = full_sync_seconds(start, base / name, args.keys)
        topologies = {name: start_topology(start, base, name) for name, start in kinds.items()}
        try:
            for _ in range(args.repeat):  # the two take turns: this machine's speed drifts
                for name, (primary, *replicas) in topologies.items():
                    runs[name].append(cpu_and_lag(primary, replicas, args.requests))
        finally:
            for servers in topologies.values():
                for server in servers:
                    server.stop()
    cpus = {name: statistics.median(run[0] for run in runs[name]) for name in kinds}
    for name in kinds:
        lag_bytes, lag_records, catch_up = (max(run[i] for run in runs[name]) for i in (1, 2, 3))
        print(
            f"{name:6} full sync {syncs[name]:7.2f}s   primary CPU/request (2 replicas, SET -P16, median of "
            f"{args.repeat}) {cpus[name]:6.2f} us   max lag {lag_bytes} bytes ~{lag_records} records   "
            f"in sync {catch_up:4.0f} ms after the load (the most of the runs)"
        )
    sync_ratio, cpu_ratio = syncs["ours"] / syncs["redis"], cpus["ours"] / cpus["redis"]
    print(f"ratio  full sync {sync_ratio:5.2f}x (target <= 2x)   CPU/request {cpu_ratio:5.2f}x (target <= 1.25x)")


if __name__ == "__main__":
    main()
