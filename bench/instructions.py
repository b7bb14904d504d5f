"""Instructions and simulated cache misses per request, redis-server vs dragonfly-py, by callgrind.

server_cpu.py's CPU time per request swings by a third from one run to the next on this machine;
callgrind counts the instructions a server executes, the same from run to run, and simulates its
caches, so a change of a few percent shows. It sees neither the kernel (read, write and epoll, most
of a request's CPU time at -P1) nor real cache timing: it complements server_cpu.py and does not
replace it. Not a test.

    python3 bench/instructions.py [--tests set,get] [--pipelines 1,16] [--requests 20000] [--bare]

Each server runs under callgrind (about 50x slower) for the whole run; its counters are read before
and after each redis-benchmark run. Periodic work keeps to the wall clock, which callgrind stretches
about 50x per request, so every server runs at hz 1 to keep the cron's share of a request small.
--bare adds bench/bare_loop.py for GET and SET (the only commands it serves).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server_cpu import BARE_LOOP, BARE_TESTS, run_benchmark
from tests.helpers import RawConnection, ServerProcess, free_port, redis_server_path

EVENTS = ("Ir", "I1mr", "D1mr")  # instructions, L1 instruction misses, L1 data read misses
CALLGRIND = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--callgrind-out-file=/dev/null"]
STARTUP_SECONDS = 180.0  # importing the server under callgrind takes a while


def server_argv(kind: str, port: int, workdir: Path) -> list[str]:
    listen = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--hz", "1"]
    if kind == "redis":
        binary = redis_server_path()
        assert binary, "redis-server is not installed (scripts/setup.sh installs it)"
        return [binary, *listen, "--appendonly", "no", "--dir", str(workdir)]
    if kind == "ours":
        return [sys.executable, "-m", "dragonfly_py", *listen]
    return [sys.executable, str(BARE_LOOP), str(port)]


def start(kind: str, workdir: Path) -> ServerProcess:
    port = free_port()
    argv = CALLGRIND + server_argv(kind, port, workdir)
    return ServerProcess(argv, port, workdir, workdir / f"{kind}-{port}.log").wait_ready(STARTUP_SECONDS)


def counters(server: ServerProcess) -> dict[str, int]:
    """The server's callgrind counters, summed over its threads. callgrind answers only while the
    process runs code, so an idle server is sent PINGs meanwhile."""
    done = threading.Event()
    conn = RawConnection(server.port, timeout=30)

    def keep_awake() -> None:
        while not done.wait(0.1):
            conn.call("PING")

    poker = threading.Thread(target=keep_awake, daemon=True)
    poker.start()
    try:
        report = subprocess.run(
            ["callgrind_control", "-e", str(server.pid)], capture_output=True, text=True, check=True, timeout=120
        ).stdout
    finally:
        done.set()
        poker.join()
        conn.close()
    lines = report.splitlines()
    names = next(line for line in lines if line.strip().startswith("Totals:")).split()[1:]
    totals = dict.fromkeys(names, 0)
    for line in lines:
        if line.strip().startswith("Th"):
            for name, value in zip(names, line.split()[2:], strict=True):
                totals[name] += int(value.replace(",", ""))
    return totals


def per_request(server: ServerProcess, test: str, pipeline: int, requests: int) -> dict[str, float]:
    run_benchmark(server.port, test, pipeline, requests // 4)  # warm: the keys exist, the code ran
    before = counters(server)
    run_benchmark(server.port, test, pipeline, requests)
    after = counters(server)
    return {event: (after[event] - before[event]) / requests for event in EVENTS}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", default="set,get")
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--requests", type=int, default=20_000, help="at -P1; four times as many when pipelined")
    parser.add_argument("--bare", action="store_true", help="also measure bench/bare_loop.py (GET and SET only)")
    args = parser.parse_args()
    kinds = ["redis", "ours"] + (["bare"] if args.bare else [])
    with tempfile.TemporaryDirectory() as tmp:
        servers: dict[str, ServerProcess] = {}
        try:
            for kind in kinds:
                servers[kind] = start(kind, Path(tmp))
            columns = "".join(f"{kind + ' ' + event:>14}" for kind in kinds for event in EVENTS)
            print(f"{'command':<12}{'P':>4}{columns}{'Ir ratio':>10}")
            for pipeline in (int(p) for p in args.pipelines.split(",")):
                requests = args.requests if pipeline == 1 else args.requests * 4
                for test in args.tests.split(","):
                    rows = {
                        kind: per_request(server, test, pipeline, requests)
                        for kind, server in servers.items()
                        if kind != "bare" or test in BARE_TESTS
                    }
                    cells = "".join(
                        f"{rows[kind][event]:>14.0f}" if kind in rows else f"{'-':>14}"
                        for kind in kinds
                        for event in EVENTS
                    )
                    ratio = rows["ours"]["Ir"] / rows["redis"]["Ir"]
                    print(f"{test:<12}{pipeline:>4}{cells}{ratio:>10.2f}", flush=True)
        finally:
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
