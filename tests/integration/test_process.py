"""The dragonfly-py process: start-up errors, CONFIG REWRITE, signals, logs, redis-cli, redis-benchmark."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, RawConnection, ServerProcess, free_port, start_dragonfly, wait_for

CHECKOUT_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run_cli(*args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dragonfly_py", *args], capture_output=True, text=True, timeout=timeout, env=CHECKOUT_ENV
    )


def test_unknown_directive_stops_startup(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("port 7000\nnot-a-directive yes\n")
    result = run_cli(str(conf))
    assert result.returncode == 1
    assert str(conf) in result.stderr and "line 2" in result.stderr and "not-a-directive" in result.stderr


def test_user_directives_authenticate_and_bad_rules_stop_startup(tmp_path: Path) -> None:
    bad = tmp_path / "bad-user.conf"
    bad.write_text("port 7000\nuser app on >pw bogus-rule\n")
    result = run_cli(str(bad))
    assert result.returncode == 1
    assert "line 2" in result.stderr and "bogus-rule" in result.stderr
    conf = tmp_path / "users.conf"
    conf.write_text("requirepass adminpw\nuser app on >apppw ~* &* +@all\nuser off-user off >x\n")
    server = start_dragonfly(tmp_path, config_file=conf)
    try:
        conn = RawConnection(server.port)
        assert str(conn.call("GET", "k")).startswith("NOAUTH")
        assert str(conn.call("AUTH", "off-user", "x")).startswith("WRONGPASS")
        assert str(conn.call("AUTH", "app", "wrong")).startswith("WRONGPASS")
        assert conn.call("AUTH", "app", "apppw") == b"OK"
        assert b" user=app " in conn.call("CLIENT", "INFO")  # type: ignore[operator]
        assert conn.call("CONFIG", "SET", "requirepass", "newpw") == b"OK"  # the default user's password
        assert str(RawConnection(server.port).call("AUTH", "adminpw")).startswith("WRONGPASS")
        assert RawConnection(server.port).call("AUTH", "default", "newpw") == b"OK"
    finally:
        server.stop()


def test_unknown_flag_stops_startup() -> None:
    result = run_cli("--no-such-flag", "1")
    assert result.returncode == 1
    assert "no-such-flag" in result.stderr


def test_every_redis_directive_is_accepted(tmp_path: Path) -> None:
    conf = tmp_path / "full.conf"
    conf.write_text(
        "daemonize no\nsupervised no\nloglevel notice\ndatabases 16\nsave 900 1\nsave 300 10\n"
        "rdbcompression yes\nappendonly no\nappendfsync everysec\nlazyfree-lazy-eviction no\n"
        "hash-max-ziplist-entries 512\nlist-max-ziplist-size -2\nactiverehashing yes\n"
        "client-output-buffer-limit normal 0 0 0\nclient-output-buffer-limit replica 256mb 64mb 60\n"
        'notify-keyspace-events ""\nrepl-diskless-sync yes\nslave-serve-stale-data yes\n'
        'rename-command FLUSHALL ""\nprotected-mode no\ntcp-keepalive 300\n'
    )
    server = start_dragonfly(tmp_path, config_file=conf)
    try:
        conn = server.connect()
        assert conn.call("CONFIG", "GET", "list-max-ziplist-size") == [b"list-max-ziplist-size", b"-2"]
        assert conn.call("CONFIG", "GET", "tcp-keepalive") == [b"tcp-keepalive", b"300"]
        conn.close()
    finally:
        server.stop()


def test_config_rewrite_in_place(tmp_path: Path) -> None:
    conf = tmp_path / "node.conf"
    conf.write_text("# node settings\nmaxclients 100\n")
    server = start_dragonfly(tmp_path, config_file=conf)
    try:
        conn = server.connect()
        assert conn.call("CONFIG", "SET", "maxclients", "200", "replica-priority", "7") == b"OK"
        assert conn.call("CONFIG", "REWRITE") == b"OK"
        text = conf.read_text()
        assert text.startswith("# node settings\nmaxclients 200\n")
        assert "replica-priority 7" in text
        conn.close()
    finally:
        server.stop()


def test_config_rewrite_without_file(shared_dragonfly: ServerProcess) -> None:
    conn = shared_dragonfly.connect()
    assert str(conn.call("CONFIG", "REWRITE")) == "ERR The server is running without a config file"
    conn.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly_and_quickly(tmp_path: Path, sig: int) -> None:
    server = start_dragonfly(tmp_path)
    conn = server.connect()
    conn.call("SET", "a", "1")
    started = time.monotonic()
    assert server.stop(sig) == 0
    assert time.monotonic() - started < 1.5
    assert "bye bye" in server.log()


def test_nothing_on_stderr_in_normal_operation(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dragonfly_py", "--port", str(port), "--save", ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=CHECKOUT_ENV,
    )
    try:
        wait_for(lambda: RawConnection(port).call("PING") == b"PONG")
        conn = RawConnection(port)
        for args in (["SET", "k", "v"], ["GET", "k"], ["NOPE"], ["INFO"], ["CLIENT", "LIST"]):
            conn.call(*args)
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert err == b""
    assert b"Ready to accept connections" in out


def test_json_logs(tmp_path: Path) -> None:
    server = start_dragonfly(tmp_path, "--log-format", "json")
    server.stop()
    lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert any(entry["event"] == "Ready to accept connections" for entry in lines)


def test_logfile(tmp_path: Path) -> None:
    logfile = tmp_path / "server.log"
    server = start_dragonfly(tmp_path, "--logfile", str(logfile))
    server.stop()
    assert "Ready to accept connections" in logfile.read_text()


redis_cli = shutil.which("redis-cli")
needs_redis_tools = pytest.mark.skipif(redis_cli is None, reason="redis-tools not installed")


@needs_redis_tools
def test_redis_cli(shared_dragonfly: ServerProcess) -> None:
    port = str(shared_dragonfly.port)
    assert subprocess.run([redis_cli, "-p", port, "set", "cli", "1"], capture_output=True, text=True).stdout == "OK\n"
    info = subprocess.run([redis_cli, "-p", port, "info", "replication"], capture_output=True, text=True).stdout
    assert "role:master" in info and "master_replid:" in info
    commands = "".join(f"SET pipe{i} {i}\r\n" for i in range(1000))
    piped = subprocess.run([redis_cli, "-p", port, "--pipe"], input=commands, capture_output=True, text=True)
    assert "errors: 0, replies: 1000" in piped.stdout
    assert subprocess.run([redis_cli, "-p", port, "get", "pipe999"], capture_output=True, text=True).stdout == "999\n"


@needs_redis_tools
def test_redis_benchmark_runs_clean(shared_dragonfly: ServerProcess) -> None:
    benchmark = shutil.which("redis-benchmark")
    assert benchmark
    tests = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange,mset,ping_inline"
    result = subprocess.run(
        [benchmark, "-p", str(shared_dragonfly.port), "-t", tests, "-P", "16", "-n", "2000", "-q", "--csv"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "ERR" not in result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith('"')]
    assert len(rows) >= 15
