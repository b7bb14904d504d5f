"""RDB save and load of N keys (mixed types): redis-server vs dragonfly-py in the same run.

Fills each server through `redis-cli --pipe`, times SAVE, then restarts the server on the dump and
times the load (from the log line each server writes), and reads peak RSS (VmHWM). Prints ratios.
With --repeat N each server saves and loads N times and the best time counts (a noisy machine).

    python3 bench/rdb_save_load.py [--keys 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import ServerProcess, start_dragonfly, start_redis, wait_for


def commands(keys: int) -> bytes:
    """70% strings, 10% hashes, 10% lists, 5% sets, 5% sorted sets."""

    def encode(*args: bytes) -> bytes:
        return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)

    out = []
    for i in range(keys):
        kind = i % 20
        key = b"key:%d" % i
        if kind < 14:
            out.append(encode(b"SET", key, b"value-%d" % i))
        elif kind < 16:
            out.append(encode(b"HSET", key, b"a", b"1", b"b", b"2", b"c", b"%d" % i))
        elif kind < 18:
            out.append(encode(b"RPUSH", key, b"x", b"y", b"%d" % i))
        elif kind < 19:
            out.append(encode(b"SADD", key, b"m1", b"m2", b"%d" % i))
        else:
            out.append(encode(b"ZADD", key, b"1", b"a", b"2.5", b"b"))
    return b"".join(out)


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def save_seconds(server: ServerProcess, payload: bytes, repeat: int = 1) -> float:
    subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=payload, capture_output=True, check=True)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(["redis-cli", "-p", str(server.port), "save"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def load_seconds(server: ServerProcess, keys: int) -> float:
    wait_for(lambda: re.search(r"DB loaded from disk: ([0-9.]+) seconds", server.log()), timeout=600)
    match = re.search(r"DB loaded from disk: ([0-9.]+) seconds", server.log())
    assert match
    dbsize = subprocess.run(["redis-cli", "-p", str(server.port), "dbsize"], capture_output=True, text=True)
    assert int(dbsize.stdout) == keys, dbsize.stdout
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    payload = commands(args.keys)
    results = {}
    for name, start in (("redis", start_redis), ("ours", start_dragonfly)):
        with tempfile.TemporaryDirectory() as tmp:
            server = start(Path(tmp))
            try:
                save = save_seconds(server, payload, args.repeat)
                size = (Path(tmp) / "dump.rdb").stat().st_size
            finally:
                server.stop()
            load, rss = float("inf"), 0
            for _ in range(args.repeat):
                server = start(Path(tmp))
                try:
                    load = min(load, load_seconds(server, args.keys))
                    rss = max(rss, peak_rss(server.pid))
                finally:
                    server.stop()
            results[name] = (save, load, rss, size)
            print(
                f"{name:6} save {save:7.2f}s  load {load:7.2f}s  "
                f"peak RSS after load {rss / 2**20:8.1f} MB  dump {size / 2**20:.1f} MB"
            )
    (rs, rl, rr, _), (os_, ol, orr, _) = results["redis"], results["ours"]
    print(
        f"ratio  save {os_ / rs:5.2f}x  load {ol / rl:5.2f}x  peak RSS {orr / rr:5.2f}x   (target: save and load <= 3x)"
    )


if __name__ == "__main__":
    main()
