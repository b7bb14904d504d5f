"""A primary, two replicas and three sentinels on loopback, any mix of real and ours.

Used by the sentinel tests and by bench/failover.py.  Every process is started here and
stopped by PID in :meth:`Topology.stop`, also when a test fails.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel as SentinelClient

from tests.helpers import RawConnection, ServerProcess, free_port, start_dragonfly, start_redis, wait_for

MASTER = "mymaster"


def start_sentinel(tmp: Path, kind: str, lines: list[str], port: int | None = None) -> ServerProcess:
    """kind "ours" runs dragonfly-py-sentinel, "real" runs redis-sentinel, on the same config."""
    port = port or free_port()
    workdir = tmp / f"sentinel-{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "sentinel.conf"
    if not conf.exists():
        conf.write_text("\n".join([f"port {port}", "bind 127.0.0.1", f'dir "{workdir}"', *lines]) + "\n")
    if kind == "ours":
        argv = [sys.executable, "-m", "sentinel.cli", str(conf)]
    else:
        binary = shutil.which("redis-sentinel")
        assert binary, "redis-sentinel is not installed (the test command installs it)"
        argv = [binary, str(conf)]
    process = ServerProcess(argv, port, workdir, workdir / "log.txt").wait_ready()
    process.conf = conf  # type: ignore[attr-defined]
    process.kind = kind  # type: ignore[attr-defined]
    return process


class Topology:
    def __init__(
        self,
        tmp: Path,
        sentinels: tuple[str, ...] = ("ours", "ours", "ours"),
        nodes: str = "redis",
        down_after: int = 1000,
        failover_timeout: int = 2000,
        quorum: int = 2,
        node_flags: tuple[str, ...] = (),
        node_password: str | None = None,
        sentinel_password: str | None = None,
        sentinel_lines: tuple[str, ...] = (),
        master_host: str = "127.0.0.1",
    ) -> None:
        self.tmp = tmp
        self.sentinel_kinds = sentinels
        self.start_node = start_redis if nodes == "redis" else start_dragonfly
        self.node_password, self.sentinel_password = node_password, sentinel_password
        if node_password:
            node_flags += ("--requirepass", node_password, "--masterauth", node_password)
        self.node_flags = ("--repl-diskless-sync-delay", "0", *node_flags)
        # Options that are not about one master come first: redis-sentinel reads lines in order.
        global_lines = [line for line in sentinel_lines if MASTER not in line.split()]
        self.monitor_lines = [
            *global_lines,
            f"sentinel monitor {MASTER} {master_host} {{port}} {quorum}",
            f"sentinel down-after-milliseconds {MASTER} {down_after}",
            f"sentinel failover-timeout {MASTER} {failover_timeout}",
        ]
        if node_password:
            self.monitor_lines.append(f"sentinel auth-pass {MASTER} {node_password}")
        if sentinel_password:
            self.monitor_lines.append(f"requirepass {sentinel_password}")
        self.monitor_lines += [line for line in sentinel_lines if line not in global_lines]
        self.nodes: list[ServerProcess] = []
        self.sentinels: list[ServerProcess] = []
        self.lost_writes: tuple[list[int], list[float]] | None = None  # drill: ids, first and last ack

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Topology:
        try:
            primary = self.add_node()
            for _ in range(2):
                self.add_node("--replicaof", "127.0.0.1", str(primary.port))
            wait_for(lambda: self.replicas_in_sync(primary), timeout=30)
            lines = [line.replace("{port}", str(primary.port)) for line in self.monitor_lines]
            for kind in self.sentinel_kinds:
                self.sentinels.append(start_sentinel(self.tmp, kind, lines))
            wait_for(self.discovered, timeout=30)
        except BaseException:
            self.stop()
            raise
        return self

    def add_node(self, *flags: str) -> ServerProcess:
        workdir = self.tmp / f"node{len(self.nodes)}"
        workdir.mkdir(exist_ok=True)
        node = self.start_node(workdir, *self.node_flags, *flags)
        self.nodes.append(node)
        return node

    def restart_node(self, node: ServerProcess, *flags: str) -> ServerProcess:
        """Start a stopped node again on its port (as a primary, as after a crash without config)."""
        argv = list(node.proc.args)  # type: ignore[arg-type]
        if "--replicaof" in argv:
            i = argv.index("--replicaof")
            del argv[i : i + 3]
        argv += flags
        again = ServerProcess(argv, node.port, node.workdir, node.workdir / f"restart-{node.port}.log").wait_ready()
        self.nodes.append(again)
        return again

    def stop(self) -> None:
        for process in self.sentinels + self.nodes:
            process.stop()

    def shutdown(self, node: ServerProcess) -> None:
        """SHUTDOWN NOSAVE as redis-cli sends it (redis-py would first retry with backoff)."""
        conn = RawConnection(node.port)
        if self.node_password:
            conn.call("AUTH", self.node_password)
        conn.send_raw(RawConnection.encode(["SHUTDOWN", "NOSAVE"]))
        conn.closed_by_server(30)
        conn.close()
        node.proc.wait(30)

    # -- observations -------------------------------------------------------------------------
    def client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=5, password=self.node_password)

    def replicas_in_sync(self, primary: ServerProcess) -> bool:
        info = self.client(primary.port).info("replication")
        return info["connected_slaves"] == 2 and all(info[f"slave{i}"]["state"] == "online" for i in range(2))

    def sentinel_client(self, sentinel: ServerProcess) -> redis.Redis:
        return redis.Redis(port=sentinel.port, socket_timeout=5, protocol=2, password=self.sentinel_password)

    def discovered(self) -> bool:
        for sentinel in self.sentinels:
            state = self.sentinel_client(sentinel).sentinel_master(MASTER)
            if state["num-slaves"] != 2 or state["num-other-sentinels"] != len(self.sentinels) - 1:
                return False
        return True

    def master_port_seen_by(self, sentinel: ServerProcess) -> int:
        state = self.sentinel_client(sentinel).sentinel_master(MASTER)
        return int(state["port"])

    def all_agree_on_new_master(self, old_port: int, sentinels: list[ServerProcess] | None = None) -> int | None:
        """The new master's port once every (live) sentinel reports the same, different one."""
        ports = {self.master_port_seen_by(s) for s in (sentinels or self.sentinels)}
        if len(ports) == 1 and old_port not in ports:
            port = ports.pop()
            if self.client(port).info("replication")["role"] == "master":
                return port
        return None

    def story(self) -> str:
        """Every sentinel's events (+sdown, +elected-leader, -failover-abort-...), for a failure
        message: which sentinel saw what, in what order."""
        parts = []
        if self.lost_writes:
            ids, (first, last) = self.lost_writes
            span = " to ".join(time.strftime("%H:%M:%S", time.localtime(t)) + f"{t % 1:.3f}"[1:] for t in (first, last))
            parts.append(f"lost {len(ids)} acknowledged writes, ids {ids[0]} to {ids[-1]}, acknowledged {span}")
        for sentinel in self.sentinels:
            events = [line for line in sentinel.log().splitlines() if re.search(r" [+-][a-z]", line)]
            parts.append(f"--- sentinel {sentinel.port} ({sentinel.kind}):")  # type: ignore[attr-defined]
            parts += events
        return "\n".join(parts)

    def epochs(self) -> set[int]:
        return {int(self.sentinel_client(s).sentinel_master(MASTER)["config-epoch"]) for s in self.sentinels}

    def node(self, port: int) -> ServerProcess:
        return next(n for n in reversed(self.nodes) if n.port == port and n.proc.poll() is None)

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", s.port) for s in self.sentinels]

    def writer(self, protocol: int = 2) -> SentinelWriter:
        return SentinelWriter(self.sentinel_addresses(), self.node_password, self.sentinel_password, protocol)


class SentinelWriter(threading.Thread):
    """Writes numbered keys through redis-py's Sentinel client; records what was acknowledged."""

    def __init__(
        self,
        sentinels: list[tuple[str, int]],
        node_password: str | None = None,
        sentinel_password: str | None = None,
        protocol: int = 2,
        pause: float = 0.005,
    ) -> None:
        super().__init__(daemon=True)
        # The loop below retries every few ms; redis-py's own backoff (seconds) would hide the failover.
        kwargs = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "protocol": protocol}
        self.sentinel = SentinelClient(sentinels, sentinel_kwargs={**kwargs, "password": sentinel_password}, **kwargs)
        self.master = self.sentinel.master_for(MASTER, retry=Retry(NoBackoff(), 0), password=node_password, **kwargs)
        self.password = node_password
        self.pause = pause
        self.acked: list[int] = []
        self.ack_times: list[float] = []
        self.failures = 0
        self.running = threading.Event()
        self.running.set()

    def run(self) -> None:
        i = 0
        while self.running.is_set():
            try:
                self.master.set(f"w:{i}", i)
            except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
                self.failures += 1
            else:
                self.acked.append(i)
                self.ack_times.append(time.monotonic())
            i += 1
            time.sleep(self.pause)

    def stop(self) -> None:
        self.running.clear()
        self.join(10)

    def writing_after(self, moment: float, count: int = 3) -> bool:
        return sum(1 for t in self.ack_times if t > moment) >= count

    def first_ack_after(self, moment: float) -> float:
        return next(t for t in self.ack_times if t > moment)

    def lost_on(self, host: str, port: int) -> list[int]:
        client = redis.Redis(host, port, password=self.password)
        values = client.mget([f"w:{i}" for i in self.acked]) if self.acked else []
        return [i for i, value in zip(self.acked, values, strict=True) if value is None]


def time_failover(writer: SentinelWriter, stop_primary: Callable[[], None]) -> float:
    """Seconds from the start of stop_primary() until the running writer's first write after it."""
    wait_for(lambda: len(writer.acked) > 20, timeout=10)
    began = time.monotonic()
    stop_primary()
    gone = time.monotonic()  # acks after this come from the new primary
    wait_for(lambda: writer.writing_after(gone), timeout=60, interval=0.01)
    return writer.first_ack_after(gone) - began


def drill(topology: Topology, stop_primary: Callable[[ServerProcess], None], protocol: int = 2) -> dict[str, float]:
    """Stop the primary while a writer runs; time until it writes again and what was lost."""
    old_port = topology.master_port_seen_by(topology.sentinels[0])
    writer = SentinelWriter(topology.sentinel_addresses(), topology.node_password, topology.sentinel_password, protocol)
    writer.start()
    try:
        resumed = time_failover(writer, lambda: stop_primary(topology.node(old_port)))
        new_port = wait_for(lambda: topology.all_agree_on_new_master(old_port), timeout=30)
    finally:
        writer.stop()
    lost = writer.lost_on("127.0.0.1", int(new_port))
    if lost:  # when they were acknowledged tells which primary took them
        to_wall_clock = time.time() - time.monotonic()
        acked = [writer.ack_times[writer.acked.index(i)] + to_wall_clock for i in (lost[0], lost[-1])]
        topology.lost_writes = (lost, acked)
    return {"seconds": resumed, "lost": len(lost), "old": old_port, "new": int(new_port)}
