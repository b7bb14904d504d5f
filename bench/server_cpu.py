"""Server CPU time per request: redis-server vs dragonfly-py, measured in the same run.

For each command and pipeline depth, redis-benchmark drives one server at a time; the server's own
CPU time (utime + stime from /proc/PID/stat) before and after gives CPU per request. Prints a table
with the ratio ours / redis, each server's kernel time per request (stime: read, write and epoll,
alike for both), and the ratio of the rest (user time), where the servers really differ. Not a
test: absolute numbers on a shared 2-core machine mean little.

    python3 bench/server_cpu.py [--requests 200000] [--tests set,get] [--pipelines 1,16] [--repeat 3] [--bare]

--bare adds, for GET and SET, the ratio of bench/bare_loop.py (hiredis and an asyncio.Protocol,
nothing else): what this machine's Python costs per request before any design choice of ours.

This machine's CPU time per request can swing by a third from one run to the next, so each
figure is the median of --repeat runs, the two servers taking turns, and the ratio is the median
of each turn's own ratio (the spread column gives the lowest and highest).
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

from tests.helpers import ServerProcess, free_port, start_dragonfly, start_redis

TESTS = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset"
TARGETS = {"set": 1.15, "get": 1.15}
DEFAULT_TARGET = 1.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BARE_LOOP = Path(__file__).resolve().parent / "bare_loop.py"
BARE_TESTS = ("set", "get")


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def run_benchmark(port: int, test: str, pipeline: int, requests: int) -> None:
    """One redis-benchmark run (50 clients, 100k random keys); an error reply from the server fails it."""
    result = subprocess.run(
        [
            "redis-benchmark",
            "-p",
            str(port),
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


def measure(server: ServerProcess, test: str, pipeline: int, requests: int) -> tuple[float, float]:
    """Microseconds of server CPU per request: in all, and of it in the kernel (system time)."""
    subprocess.run(["redis-cli", "-p", str(server.port), "flushall"], capture_output=True, check=True)
    user, system = cpu_times(server.pid)
    run_benchmark(server.port, test, pipeline, requests)
    user_after, system_after = cpu_times(server.pid)
    kernel = system_after - system
    return (user_after - user + kernel) / requests * 1e6, kernel / requests * 1e6


def start_bare_loop(tmp: Path) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, str(BARE_LOOP), str(port)]
    return ServerProcess(argv, port, tmp, tmp / f"bare-{port}.log").wait_ready()


def report_line(test: str, pipeline: int, runs: list[list[tuple[float, float]]]) -> str:
    """One table row from runs (per repeat: (total, kernel) for redis, ours and maybe the bare
    loop). The ratio is the median of each turn's own ratio: the machine's speed drifts by a
    third between turns, and a turn's servers ran within seconds of each other."""
    columns = zip(*runs, strict=True)
    (theirs, their_kernel), (mine, my_kernel), *floor = (
        (statistics.median(total for total, _ in column), statistics.median(k for _, k in column)) for column in columns
    )
    turn_ratios = [run[1][0] / run[0][0] for run in runs]
    ratio = statistics.median(turn_ratios)
    spread = f"{min(turn_ratios):.2f}-{max(turn_ratios):.2f}"
    target = TARGETS.get(test, DEFAULT_TARGET)
    # The kernel's part (read, write, epoll) is alike for both: the gap is in user space.
    user_ratio = (mine - my_kernel) / (theirs - their_kernel) if theirs > their_kernel else float("inf")
    flag = "" if ratio <= target else "  over"
    floor_column = f"{statistics.median(run[2][0] / run[0][0] for run in runs):>12.2f}" if floor else ""
    return (
        f"{test:<12}{pipeline:>4}{theirs:>14.3f}{mine:>13.3f}{ratio:>8.2f}{spread:>11}{target:>8.2f}"
        f"{their_kernel:>8.2f} /{my_kernel:>5.2f}{user_ratio:>12.2f}{floor_column}{flag}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--tests", default=TESTS)
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bare", action="store_true", help="also run bench/bare_loop.py for GET and SET")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis = start_redis(Path(tmp))
        ours = start_dragonfly(Path(tmp))
        bare = start_bare_loop(Path(tmp)) if args.bare else None
        try:
            print(
                f"{'command':<12}{'P':>4}{'redis us/req':>14}{'ours us/req':>13}{'ratio':>8}{'spread':>11}{'target':>8}"
                f"{'kernel us/req':>15}{'user ratio':>12}" + (f"{'bare ratio':>12}" if bare else "")
            )
            for pipeline in (int(p) for p in args.pipelines.split(",")):
                for test in args.tests.split(","):
                    requests = args.requests if pipeline > 1 else args.requests // 4
                    servers = [redis, ours] + ([bare] if bare and test in BARE_TESTS else [])
                    # The servers take turns, so a slow spell of the machine hits each alike.
                    runs = [
                        [measure(server, test, pipeline, requests) for server in servers] for _ in range(args.repeat)
                    ]
                    print(report_line(test, pipeline, runs), flush=True)
        finally:
            redis.stop()
            ours.stop()
            if bare:
                bare.stop()


if __name__ == "__main__":
    main()
