"""Server CPU time per request: redis-server vs dragonfly-py, measured in the same run.

For each command and pipeline depth, redis-benchmark drives one server at a time; the server's own
CPU time (utime + stime from /proc/PID/stat) before and after gives CPU per request. Prints a table
with the ratio ours / redis. Not a test: absolute numbers on a shared 2-core machine mean little.

    python3 bench/server_cpu.py [--requests 200000] [--tests set,get] [--pipelines 1,16] [--repeat 3]

This machine's CPU time per request can swing by a third from one run to the next, so each
figure is the median of --repeat runs, the two servers taking turns.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import ServerProcess, start_dragonfly, start_redis

TESTS = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset"
TARGETS = {"set": 1.15, "get": 1.15}
DEFAULT_TARGET = 1.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def measure(server: ServerProcess, test: str, pipeline: int, requests: int) -> float:
    """Microseconds of server CPU per request."""
    subprocess.run(["redis-cli", "-p", str(server.port), "flushall"], capture_output=True, check=True)
    before = cpu_seconds(server.pid)
    result = subprocess.run(
        [
            "redis-benchmark",
            "-p",
            str(server.port),
            "-t",
            test,
            "-n",
            str(requests),
            "-P",
            str(pipeline),
            "-c",
            "50",
            "-r",
            "100000",
            "-q",
            "--csv",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "ERR" in result.stdout + result.stderr:
        raise RuntimeError(f"{test}: errors from redis-benchmark: {result.stdout} {result.stderr}")
    return (cpu_seconds(server.pid) - before) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--tests", default=TESTS)
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis = start_redis(Path(tmp))
        ours = start_dragonfly(Path(tmp))
        try:
            print(f"{'command':<12}{'P':>4}{'redis us/req':>14}{'ours us/req':>13}{'ratio':>8}{'target':>8}")
            for pipeline in (int(p) for p in args.pipelines.split(",")):
                for test in args.tests.split(","):
                    requests = args.requests if pipeline > 1 else args.requests // 4
                    runs = [
                        (measure(redis, test, pipeline, requests), measure(ours, test, pipeline, requests))
                        for _ in range(args.repeat)
                    ]
                    theirs = statistics.median(r for r, _ in runs)
                    mine = statistics.median(o for _, o in runs)
                    target = TARGETS.get(test, DEFAULT_TARGET)
                    ratio = mine / theirs if theirs else float("inf")
                    flag = "" if ratio <= target else "  over"
                    print(
                        f"{test:<12}{pipeline:>4}{theirs:>14.3f}{mine:>13.3f}{ratio:>8.2f}{target:>8.2f}{flag}",
                        flush=True,
                    )
        finally:
            redis.stop()
            ours.stop()


if __name__ == "__main__":
    main()
