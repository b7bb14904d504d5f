"""Start real processes for tests: dragonfly-py and redis-server, on free loopback ports.

Every process is stopped by PID by whoever started it, also when a test fails; waits poll a
condition with a deadline.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import hiredis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> object:
    """Poll condition until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
        except Exception as exc:
            last_error = exc
        else:
            if result:
                return result
        time.sleep(interval)
    raise TimeoutError(f"condition not met within {timeout}s (last error: {last_error!r})")


def normal_reply(reply: object) -> object:
    """A reply made comparable across servers: run ids (40 bytes) as <id>, errors as their text."""
    if isinstance(reply, list):
        return [normal_reply(r) for r in reply]
    if isinstance(reply, bytes) and len(reply) == 40:
        return b"<id>"
    if isinstance(reply, Exception):
        return ("error", str(reply))
    return reply


class RawConnection:
    """A minimal RESP client that returns replies exactly as parsed, errors included."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = hiredis.Reader()

    @staticmethod
    def encode(args: list[bytes | str | int]) -> bytes:
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> object:
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return reply
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed by server")
            self.reader.feed(data)

    def call(self, *args: bytes | str | int) -> object:
        self.send_raw(self.encode(list(args)))
        return self.read()

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(1 << 16)
                if not data:
                    return True
                self.reader.feed(data)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


class ServerProcess:
    """A server process on a free port, stopped by PID in :meth:`stop`."""

    def __init__(self, argv: list[str], port: int, workdir: Path, log_path: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        # Always the checkout under test, whatever copy pip installed.
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float = 15.0) -> ServerProcess:
        def answers() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            conn = RawConnection(self.port, timeout=1)
            try:
                reply = conn.call("PING")
                return reply == b"PONG" or str(reply).startswith(("NOAUTH", "LOADING"))
            finally:
                conn.close()

        try:
            wait_for(answers, timeout)
        except BaseException:
            self.stop()  # never leave a process behind that no fixture knows of yet
            raise
        return self

    def connect(self) -> RawConnection:
        return RawConnection(self.port)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
                self.proc.wait(timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        self._log.close()
        return self.proc.returncode


def start_dragonfly(tmp: Path, *flags: str, config_file: Path | None = None) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "dragonfly_py"]
    if config_file is not None:
        argv.append(str(config_file))
    argv += ["--port", str(port), "--bind", "127.0.0.1", "--save", "", *flags]
    return ServerProcess(argv, port, tmp, tmp / f"dragonfly-{port}.log").wait_ready()


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


def start_redis(tmp: Path, *flags: str) -> ServerProcess:
    port = free_port()
    binary = redis_server_path()
    assert binary, "redis-server is not installed (the test command installs it)"
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp),
        *flags,
    ]
    return ServerProcess(argv, port, tmp, tmp / f"redis-{port}.log").wait_ready()
