"""Replication between real processes on loopback: ours -> ours, real redis-server -> ours,
ours -> real redis-server, PSYNC2 after failovers, WAIT, READONLY, min-replicas, graceful SHUTDOWN."""

from __future__ import annotations

import contextlib
import io
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import hiredis
import pytest
import redis

from dragonfly_py.rdb.writer import EncodingLimits, RdbWriter
from tests.dataset import fill, read_all
from tests.helpers import ServerProcess, start_dragonfly, start_redis, wait_for

pytestmark = pytest.mark.interop
FAST = ("--repl-diskless-sync-delay", "0")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    servers: list[ServerProcess] = []
    counter = iter(range(100))

    def start(kind: str, *flags: str) -> ServerProcess:
        workdir = tmp_path / f"{kind}{next(counter)}"
        workdir.mkdir()
        server = (start_redis if kind == "redis" else start_dragonfly)(workdir, *FAST, *flags)
        servers.append(server)
        return server

    start.register = servers.append  # type: ignore[attr-defined]  (restarted ones are stopped too)
    yield start
    for server in servers:
        server.stop()


def _client(server: ServerProcess) -> redis.Redis:
    return redis.Redis(port=server.port)


def _replicate(replica: ServerProcess, primary: ServerProcess) -> None:
    _client(replica).replicaof("127.0.0.1", primary.port)
    _wait_in_sync(primary, replica)


def _wait_in_sync(primary: ServerProcess, *replicas: ServerProcess, timeout: float = 30) -> None:
    def synced() -> bool:
        offset = _client(primary).info("replication")["master_repl_offset"]
        for replica in replicas:
            info = _client(replica).info("replication")
            if info["master_link_status"] != "up" or info["slave_repl_offset"] != offset:
                return False
        return True

    wait_for(synced, timeout=timeout)


def _same_data(*servers: ServerProcess) -> None:
    first = read_all(servers[0].port)
    for other in servers[1:]:
        assert read_all(other.port) == first


def test_ours_to_ours_full_sync_stream_and_partial_resync(started: Callable[..., ServerProcess]) -> None:
    primary, replica = started("ours"), started("ours")
    fill(_client(primary))
    _replicate(replica, primary)
    _same_data(primary, replica)
    p = _client(primary)
    p.execute_command("SETEX", "ttl", 100, "v")
    p.incrbyfloat("float", 1.25)
    p.sadd("pop", *range(10))
    p.spop("pop", 3)
    with p.pipeline(transaction=False) as pipe:  # reads of one command, run one by one while fed
        for i in range(20):
            pipe.sadd("many", i % 7)  # some add nothing, which goes to no replica
        pipe.execute()
    with p.pipeline(transaction=False) as pipe:
        for _ in range(5):
            pipe.spop("many")  # each goes out as the SREM of what it popped
        pipe.execute()
    with p.pipeline(transaction=True) as tx:
        tx.set("tx1", "a").rpush("tx2", "b").execute()
    redis.Redis(port=primary.port, db=3).set("db3", "x")
    p.xadd("stream", {"f": "v"})
    p.lpush("blk", "x")
    p.blpop(["blk"], 1)
    _wait_in_sync(primary, replica)
    _same_data(primary, replica)
    assert _client(replica).pttl("ttl") > 0
    with pytest.raises(redis.ReadOnlyError, match=r"You can't write against a read only replica\."):
        _client(replica).set("x", "y")
    p.client_kill_filter(_type="replica")
    p.set("while-down", "1")
    _wait_in_sync(primary, replica)
    assert p.info("stats")["sync_partial_ok"] == 1
    assert _client(replica).get("while-down") == b"1"
    p.flushall()
    _wait_in_sync(primary, replica)
    assert _client(replica).dbsize() == 0


def test_writes_under_load_and_expiry_reach_every_replica(started: Callable[..., ServerProcess]) -> None:
    primary, first, second = started("ours"), started("ours"), started("ours")
    _replicate(first, primary)
    _replicate(second, primary)
    p = _client(primary)
    for batch in range(20):
        with p.pipeline(transaction=False) as pipe:
            for i in range(200):
                pipe.incr(f"counter:{i % 17}")
                pipe.rpush(f"list:{i % 5}", f"{batch}-{i}")
                pipe.set(f"short:{batch}:{i}", "v", px=50 if i % 10 == 0 else None)
            pipe.execute()
    wait_for(lambda: not p.keys("short:*:0"))  # expired on the primary, DEL sent to replicas
    _wait_in_sync(primary, first, second)
    _same_data(primary, first, second)
    roles = p.role()
    assert roles[0] == b"master" and len(roles[2]) == 2


def test_replicaof_no_one_then_the_other_replica_continues_psync2(started: Callable[..., ServerProcess]) -> None:
    primary, first, second = started("ours"), started("ours"), started("ours")
    fill(_client(primary))
    _replicate(first, primary)
    _replicate(second, primary)
    old_id = _client(primary).info("replication")["master_replid"]
    primary.stop()
    _client(first).replicaof("no", "one")
    info = _client(first).info("replication")
    assert info["role"] == "master" and info["master_replid2"] == old_id
    _client(second).replicaof("127.0.0.1", first.port)
    _wait_in_sync(first, second)
    assert _client(first).info("stats")["sync_partial_ok"] == 1
    _client(first).set("after-failover", "1")
    _wait_in_sync(first, second)
    assert _client(second).info("replication")["master_replid"] == info["master_replid"]
    _same_data(first, second)


def test_real_redis_primary_to_our_replica(started: Callable[..., ServerProcess]) -> None:
    real, ours = started("redis"), started("ours")
    fill(_client(real))
    _replicate(ours, real)
    _same_data(real, ours)
    r = _client(real)
    r.set("stream-after-sync", "1", ex=100)
    r.spop("set:str", 2)
    r.incrbyfloat("f", 2.5)
    _wait_in_sync(real, ours)
    _same_data(real, ours)
    r.client_kill_filter(_type="replica")
    r.set("during-drop", "1")
    _wait_in_sync(real, ours)
    assert r.info("stats")["sync_partial_ok"] == 1
    _same_data(real, ours)


def test_our_replica_follows_a_real_failover_with_continue(started: Callable[..., ServerProcess]) -> None:
    real, real_replica, ours = started("redis"), started("redis"), started("ours")
    fill(_client(real))
    _replicate(real_replica, real)
    _replicate(ours, real)
    real.stop()
    _client(real_replica).replicaof("no", "one")
    _client(ours).replicaof("127.0.0.1", real_replica.port)
    _wait_in_sync(real_replica, ours)
    stats = _client(real_replica).info("stats")
    assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0
    _client(real_replica).set("new-primary", "yes")
    _wait_in_sync(real_replica, ours)
    _same_data(real_replica, ours)


def _calls(server: ServerProcess) -> dict[str, int]:
    return {name: stats["calls"] for name, stats in _client(server).info("commandstats").items()}


def test_a_pipelined_stream_applies_on_our_replica_as_on_a_real_one(started: Callable[..., ServerProcess]) -> None:
    """Runs of one command in the stream (squashed SETs, pushes, errors in a run, a SET with
    options inside a run of SETs), a transaction, another database: our replica applies them
    as a real one does (data, offset, the calls in INFO commandstats) and feeds them on to a
    replica of its own."""
    primary, real, ours = started("redis"), started("redis"), started("ours")
    _replicate(real, primary)
    _replicate(ours, primary)
    leaf = started("redis")
    _replicate(leaf, ours)
    before = {server: _calls(server) for server in (real, ours)}
    p = _client(primary)
    with p.pipeline(transaction=False) as pipe:
        for i in range(300):
            pipe.set(f"k:{i}", i)
        for i in range(50):
            pipe.lpush("list", i)
        pipe.set("k:ttl", "v", px=100_000).set("k:last", "v").set("str", "x")
        for i in range(5):
            pipe.incr("n" if i != 2 else "str")
        pipe.execute(raise_on_error=False)
    with p.pipeline(transaction=True) as tx:
        tx.set("tx:1", "a").incr("tx:n").lpush("list", "in-tx").execute()
    redis.Redis(port=primary.port, db=2).set("db2", "v")
    p.set("back-in-0", "v")
    _wait_in_sync(primary, real, ours)
    _wait_in_sync(ours, leaf)
    _same_data(primary, real, ours, leaf)
    assert (
        _client(ours).info("replication")["master_repl_offset"]
        == _client(real).info("replication")["master_repl_offset"]
    )
    counted = {server: _calls(server) for server in (real, ours)}
    for name in ("cmdstat_set", "cmdstat_lpush", "cmdstat_incrby", "cmdstat_select", "cmdstat_exec"):
        assert counted[ours][name] - before[ours].get(name, 0) == counted[real][name] - before[real].get(name, 0), name


@pytest.mark.parametrize("replica_kind", ["redis", "ours"])
def test_a_pipelined_stream_touches_keys_watched_on_the_replica(
    started: Callable[..., ServerProcess], replica_kind: str
) -> None:
    """Runs of SETs in the stream that ours would squash: a WATCH on the replica still sees them."""
    primary, replica = started("redis"), started(replica_kind)
    _replicate(replica, primary)
    watcher = replica.connect()
    try:
        assert watcher.call("WATCH", "watched") == b"OK"
        with _client(primary).pipeline(transaction=False) as pipe:
            for key in ("a", "watched", "b"):
                pipe.set(key, "v")
            pipe.execute()
        _wait_in_sync(primary, replica)
        assert watcher.call("MULTI") == b"OK"
        assert watcher.call("GET", "watched") == b"QUEUED"
        assert watcher.call("EXEC") is None  # aborted: the stream touched the key
    finally:
        watcher.close()


def test_our_primary_to_real_redis_replica(started: Callable[..., ServerProcess]) -> None:
    ours, real = started("ours"), started("redis")
    fill(_client(ours))
    _replicate(real, ours)
    _same_data(ours, real)
    o = _client(ours)
    o.execute_command("SETEX", "ttl", 100, "v")
    o.spop("set:str", 2)
    o.lpush("blk", "x")
    o.brpop(["blk"], 1)
    with o.pipeline(transaction=True) as tx:
        tx.set("tx1", "a").hset("tx2", "f", "v").execute()
    _wait_in_sync(ours, real)
    _same_data(ours, real)
    o.client_kill_filter(_type="replica")
    o.set("during-drop", "1")
    _wait_in_sync(ours, real)
    assert o.info("stats")["sync_partial_ok"] == 1
    _same_data(ours, real)


def test_wait_and_min_replicas_to_write(started: Callable[..., ServerProcess]) -> None:
    primary, replica = started("ours"), started("ours")
    p = _client(primary)
    assert p.wait(1, 100) == 0  # a fresh connection has nothing to wait for
    _replicate(replica, primary)
    p.set("k", "v")
    assert p.wait(1, 2000) == 1
    p.config_set("min-replicas-to-write", 2)
    with pytest.raises(redis.ResponseError, match=r"NOREPLICAS Not enough good replicas to write\."):
        p.set("k", "w")
    p.config_set("min-replicas-to-write", 1)
    assert p.set("k", "w")
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica instances"):
        _client(replica).wait(1, 10)


def test_graceful_shutdown_loses_no_acknowledged_write(started: Callable[..., ServerProcess]) -> None:
    primary, replica = started("ours"), started("ours")
    _replicate(replica, primary)
    p = _client(primary)
    with p.pipeline(transaction=False) as pipe:
        for i in range(20000):
            pipe.set(f"k{i}", i)
        pipe.execute()
    with contextlib.suppress(redis.ConnectionError):
        p.shutdown(nosave=True)
    assert primary.proc.wait(15) == 0
    assert _client(replica).dbsize() == 20000


def test_sigterm_of_a_primary_waits_for_its_replica(started: Callable[..., ServerProcess]) -> None:
    primary, replica = started("ours"), started("ours")
    _replicate(replica, primary)
    _client(primary).mset({f"m{i}": i for i in range(5000)})
    assert primary.stop(signal.SIGTERM) == 0
    assert _client(replica).dbsize() == 5000


def test_chained_replication_and_replica_restart(started: Callable[..., ServerProcess]) -> None:
    primary, middle, leaf = started("ours"), started("ours"), started("ours")
    fill(_client(primary))
    _replicate(middle, primary)
    _replicate(leaf, middle)
    _client(primary).set("through-the-chain", "1")
    _client(primary).rpush("list:small", "more")
    _wait_in_sync(primary, middle)
    _wait_in_sync(middle, leaf)
    _same_data(primary, middle, leaf)
    assert _client(leaf).info("replication")["master_replid"] == _client(primary).info("replication")["master_replid"]
    leaf.stop()
    _client(primary).set("while-leaf-down", "1")
    again = started("ours", "--replicaof", "127.0.0.1", str(middle.port))
    _wait_in_sync(primary, middle)
    _wait_in_sync(middle, again)
    _same_data(primary, again)


# -- restarts: the replication history kept in the dump (Redis 7.0's repl-* AUX fields) ----------
def _shutdown_save(server: ServerProcess) -> None:
    conn = server.connect()
    conn.send_raw(conn.encode(["SHUTDOWN", "SAVE"]))
    conn.closed_by_server(30)
    server.proc.wait(30)


def _restart(server: ServerProcess, started_servers: Callable[..., ServerProcess]) -> ServerProcess:
    """The same program, arguments, port and directory again (stopped with the other servers)."""
    argv = list(server.proc.args)  # type: ignore[arg-type]
    again = ServerProcess(argv, server.port, server.workdir, server.workdir / "restarted.log").wait_ready()
    started_servers.register(again)  # type: ignore[attr-defined]
    return again


def _write_db3(server: ServerProcess, prefix: str, count: int = 50) -> None:
    client = redis.Redis(port=server.port, db=3)
    client.mset({f"{prefix}:{i}": i for i in range(count)})


@pytest.mark.parametrize("primary_kind", ["redis", "dragonfly"])
def test_restarted_replica_continues_from_its_dump(started: Callable[..., ServerProcess], primary_kind: str) -> None:
    primary = started(primary_kind)
    replica = started("dragonfly", "--replicaof", "127.0.0.1", str(primary.port))
    _write_db3(primary, "before")
    _wait_in_sync(primary, replica)
    _shutdown_save(replica)
    _write_db3(primary, "while-down")  # the stream stays in db 3: no SELECT comes again
    again = _restart(replica, started)
    _wait_in_sync(primary, again)
    assert "Successful partial resynchronization" in again.log()
    assert _client(primary).info("stats")["sync_partial_ok"] == 1
    _same_data(primary, again)
    assert redis.Redis(port=again.port, db=3).get("while-down:49") == b"49"


@pytest.mark.parametrize("replica_kind", ["redis", "dragonfly"])
def test_restarted_primary_lets_its_replicas_continue(started: Callable[..., ServerProcess], replica_kind: str) -> None:
    primary = started("dragonfly")
    replica = started(replica_kind, "--replicaof", "127.0.0.1", str(primary.port))
    _write_db3(primary, "before")
    _wait_in_sync(primary, replica)
    old_id = _client(primary).info("replication")["master_replid"]
    _shutdown_save(primary)
    again = _restart(primary, started)
    info = _client(again).info("replication")
    assert info["master_replid2"] == old_id and info["master_replid"] != old_id
    _wait_in_sync(again, replica)
    assert _client(again).info("stats")["sync_partial_ok"] == 1
    _write_db3(again, "after")
    _wait_in_sync(again, replica)
    _same_data(again, replica)


def test_backlog_freed_after_ttl_without_replicas(started: Callable[..., ServerProcess]) -> None:
    primary = started("dragonfly", "--repl-backlog-ttl", "1")
    replica = started("dragonfly", "--replicaof", "127.0.0.1", str(primary.port))
    _wait_in_sync(primary, replica)
    old_id = _client(primary).info("replication")["master_replid"]
    replica.stop()
    wait_for(lambda: _client(primary).info("replication")["repl_backlog_active"] == 0, timeout=10)
    assert _client(primary).info("replication")["master_replid"] != old_id
    assert "Replication backlog freed after 1 seconds without connected replicas." in primary.log()


class BrokenPrimary(threading.Thread):
    """A primary that answers the handshake, then sends the full sync payload it was given: the
    only way to put a corrupt or cut RDB on a replica's wire.  Counts the replica's attempts."""

    def __init__(self, payload: bytes, eof_mark: bytes | None, cut: bool = False) -> None:
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.payload, self.eof_mark, self.cut = payload, eof_mark, cut
        self.attempts = 0

    def run(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                with conn:
                    self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        parser = hiredis.Reader()
        while True:
            data = conn.recv(4096)
            if not data:
                return
            parser.feed(data)
            while (command := parser.gets()) is not False:
                name = command[0].upper()
                if name == b"PING":
                    conn.sendall(b"+PONG\r\n")
                elif name == b"REPLCONF":
                    conn.sendall(b"+OK\r\n")
                elif name == b"PSYNC":
                    self.attempts += 1
                    conn.sendall(b"+FULLRESYNC " + b"f" * 40 + b" 0\r\n")
                    header = b"$EOF:" + self.eof_mark if self.eof_mark else b"$%d" % len(self.payload)
                    body = self.payload[: len(self.payload) // 2] if self.cut else self.payload
                    conn.sendall(header + b"\r\n" + body + (self.eof_mark or b"") * (not self.cut))
                    if self.cut:
                        return

    def close(self) -> None:
        self.listener.close()


def _rdb_with_a_bad_type_at(position: int) -> tuple[bytes, int]:
    out = io.BytesIO()
    writer = RdbWriter(out, EncodingLimits())
    writer.header([(b"redis-ver", b"7.0.15")])
    writer.database(0, {b"k%d" % i: b"v" * (i % 50) for i in range(position)}, {})
    writer.finish()
    good = out.getvalue()
    key = b"k%d" % (position // 2)
    at = good.index(b"\x00" + bytes([len(key)]) + key)  # that record's type byte, mid-file
    return good[:at] + b"\x16" + good[at + 1 :], at


@pytest.mark.parametrize("framing", ["eof", "len", "cut"])
def test_a_corrupt_or_cut_full_sync_is_refused_and_the_old_data_kept(
    started: Callable[..., ServerProcess], framing: str
) -> None:
    payload, bad_at = _rdb_with_a_bad_type_at(5000)
    primary = BrokenPrimary(payload, b"m" * 40 if framing != "len" else None, cut=framing == "cut")
    primary.start()
    replica = started("ours")
    try:
        _client(replica).set("kept", "old")
        _client(replica).replicaof("127.0.0.1", primary.port)
        wait_for(lambda: primary.attempts >= 2, timeout=20)  # refused, then retried
        refused = f"Unknown RDB value type 22 at offset {bad_at}"
        expected = "connection closed during the full sync" if framing == "cut" else refused
        assert expected in replica.log()
        assert _client(replica).get("kept") == b"old" and _client(replica).dbsize() == 1
        assert _client(replica).info("replication")["master_link_status"] == "down"
    finally:
        primary.close()


# -- pipelined reads fed as they were sent -------------------------------------------------------
def _encode(*args: str) -> bytes:
    return hiredis.pack_command(args)


# A read that ends between two arguments of a request whose last complete argument ends with the
# read's last request, byte for byte: only the arguments' lengths can tell where the read ends.
_LOOKALIKE = _encode("SET", "look:1", "b")
_LOOKALIKE_CUT = [
    _encode("SET", "look:0", "a")
    + _LOOKALIKE
    + b"*4\r\n$3\r\nSET\r\n$6\r\nlook:2\r\n$%d\r\n%s\r\n" % (len(_LOOKALIKE) - 2, _LOOKALIKE[:-2]),
    b"$7\r\nKEEPTTL\r\n",
]

# One read each: writes only (fed whole), writes mixed with a read and a rewrite, a read whose
# bulk strings end in "\n\n" (Redis skips those two bytes unread), and requests cut between
# arguments across reads.
PIPELINED_READS: list[list[bytes]] = [
    [b"".join(_encode("SET", f"p:{i}", f"v{i}") for i in range(16)) + _encode("LPUSH", "pl", "a", "b")],
    [_encode("SET", "m:1", "x") + _encode("GET", "m:1") + _encode("SET", "m:2", "y", "KEEPTTL") + _encode("INCR", "c")],
    [_encode("SET", "m:3", "new", "GET")],  # a write whose reply is nil
    [b"*3\r\n$3\r\nSET\r\n$4\r\nnl:1\r\n$1\r\nv\n\n" + _encode("HSET", "h", "f", "v")],
    [
        b"*3\r\n$3\r\nSET\r\n$4\r\ncut1\r\n",
        b"$1\r\nv\r\n" + _encode("SET", "cut2", "w") + b"*2\r\n$4\r\nINCR\r\n",
        b"$1\r\nc\r\n",
    ],
]


def _many(*args: str, times: int = 8) -> bytes:
    """One request many times over, its {i} counting up: a read of one command (run_many)."""
    return b"".join(_encode(*(a.format(i=i) for a in args)) for i in range(times))


# Reads of one command many times, which skip run(): their writes must reach the replicas as
# run() sends them. A squashed SET fed whole, and in another database than the stream's; a push
# fed whole; errors, rewrites (SPOP, SET PX) and keys expired lazily in the middle of a read,
# by a write and by a read, and by a read of one GET (active expiry is off); a read of GETs,
# which feeds nothing.
HOMOGENEOUS_READS: list[list[bytes]] = [
    [_many("SET", "sq:{i}", "v{i}", times=16)],
    [_encode("SELECT", "1"), _many("SET", "db1:{i}", "w")],
    [_many("LPUSH", "hl", "a{i}", "b")],
    [_many("SADD", "s{i}", "m{i}"), _many("SPOP", "s{i}", times=10)],  # one member each: no chance
    [_many("INCR", "n", times=3) + _encode("INCR", "hl") + _many("INCR", "n", times=2)],
    [_many("INCR", "cnt:{i}", times=4) + _many("INCR", "cnt:{i}", times=4)],  # squashed
    [_many("RPUSH", "pl", "a{i}"), _many("LPOP", "pl"), _many("RPOP", "nopl:{i}")],  # pops all, or none
    [_many("HSET", "hh", "f{i}", "v"), _many("ZADD", "zq", "{i}", "m{i}"), _many("ZPOPMIN", "zq", times=4)],
    [_many("ZPOPMAX", "nozq:{i}", times=4)],
    [_many("MSET", "ms:{i}", "a", "mt:{i}", "b")],
    [_many("MSET", "mx:{i}", "v", times=3) + _encode("MSET", "mx:9") + _many("MSET", "mx:{i}", "w", times=2)],
    [_many("SET", "px:{i}", "v", "PX", "100", times=3), _encode("SET", "one", "v", "PX", "100")],
    [_encode("DEBUG", "SLEEP", "0.2")],
    [_many("INCR", "px:0", times=3)],
    [_many("GET", "px:{i}", times=3)],
    [_encode("GET", "one")],  # a read of one request (the lane in data_received) expires a key
    [_many("GET", "sq:{i}", times=20)],
]


def _replies_to_reads(server: ServerProcess, reads: list[bytes], replies: int) -> list[object]:
    """Send each read on its own, on one connection; errors as their text."""
    conn = server.connect()
    try:
        for read in reads:
            conn.send_raw(read)
            conn.sock.settimeout(0.2)  # let each part arrive as a read of its own
            with contextlib.suppress(TimeoutError):
                conn.reader.feed(conn.sock.recv(1 << 16))
            conn.sock.settimeout(10)
        return [str(r) if isinstance(r, Exception) else r for r in (conn.read() for _ in range(replies))]
    finally:
        conn.close()


def _send_reads(server: ServerProcess, reads: list[bytes], replies: int) -> None:
    assert not any(isinstance(r, str) for r in _replies_to_reads(server, reads, replies))


@pytest.mark.parametrize("connections", [PIPELINED_READS, HOMOGENEOUS_READS], ids=["mixed", "homogeneous"])
def test_pipelined_reads_reach_the_replica_and_count_as_redis_counts(
    started: Callable[..., ServerProcess], connections: list[list[bytes]]
) -> None:
    quiet = ("--repl-ping-replica-period", "3600", "--enable-debug-command", "yes")  # no PING in the offsets
    primaries = [started("redis", *quiet), started("ours", *quiet)]
    replicas = [started("redis"), started("redis")]
    offsets: list[list[int]] = [[], []]
    replies: list[list[object]] = [[], []]
    for primary, replica, seen, answered in zip(primaries, replicas, offsets, replies, strict=True):
        _replicate(replica, primary)
        _client(primary).execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        _client(primary).set("first", "1")  # the stream's SELECT comes before the reads compared
        for reads in connections:
            before = _client(primary).info("replication")["master_repl_offset"]
            answered += _replies_to_reads(primary, reads, len(hiredis_requests(b"".join(reads))))
            seen.append(_client(primary).info("replication")["master_repl_offset"] - before)
        _wait_in_sync(primary, replica)
        _same_data(primary, replica)
    assert replies[1] == replies[0]
    assert offsets[1] == offsets[0]
    _same_data(primaries[0], primaries[1])


@pytest.mark.parametrize("replica_kind", ["redis", "ours"])
def test_a_read_cut_after_a_lookalike_of_its_last_request_reaches_the_replica(
    started: Callable[..., ServerProcess], replica_kind: str
) -> None:
    primary, replica = started("ours"), started(replica_kind)
    _replicate(replica, primary)
    _client(primary).set("first", "1")  # the stream has its SELECT: a read's writes may go verbatim
    _send_reads(primary, _LOOKALIKE_CUT, 3)
    _wait_in_sync(primary, replica)
    _same_data(primary, replica)


def hiredis_requests(data: bytes) -> list[object]:
    reader = hiredis.Reader()
    reader.feed(data)
    out = []
    while (request := reader.gets()) is not False:
        out.append(request)
    return out


def _attach_raw_replica(primary: ServerProcess) -> tuple[socket.socket, int]:
    """A replica by hand: handshake, full sync read to its end; returns the link and its offset."""
    link = socket.create_connection(("127.0.0.1", primary.port), timeout=10)
    for request in (("REPLCONF", "listening-port", "1"), ("REPLCONF", "capa", "eof", "capa", "psync2")):
        link.sendall(hiredis.pack_command(request))
        assert link.recv(100) == b"+OK\r\n"
    link.sendall(hiredis.pack_command(("PSYNC", "?", "-1")))
    data = b""
    while b"\r\n" not in data or not data.split(b"\r\n", 2)[1:2]:
        data += link.recv(1 << 16)
    header, rest = data.split(b"\r\n", 1)
    offset = int(header.split()[2])
    while b"\r\n" not in rest:
        rest += link.recv(1 << 16)
    framing, payload = rest.split(b"\r\n", 1)
    assert framing.startswith(b"$EOF:")
    mark = framing[5:]
    while not payload.endswith(mark):
        payload += link.recv(1 << 16)
    link.sendall(hiredis.pack_command(("REPLCONF", "ACK", str(offset))))
    return link, offset


def test_lag_in_records_counts_each_write_of_a_pipelined_read(started: Callable[..., ServerProcess]) -> None:
    primary = started("ours", "--repl-ping-replica-period", "3600")
    link, offset = _attach_raw_replica(primary)
    p = _client(primary)
    wait_for(lambda: p.info("replication").get("slave0", {}).get("state") == "online")
    p.set("before", "1")  # SELECT 0 and this SET
    writes = [("SET", f"k{i}", "v" * i) for i in range(10)]
    _send_reads(primary, [b"".join(_encode(*w) for w in writes)], len(writes))
    end = p.info("replication")["master_repl_offset"]

    stream = b""
    while len(stream) < end - offset:
        stream += link.recv(1 << 16)
    assert len(stream) == end - offset
    received = hiredis_requests(stream)
    assert received[-10:] == [[a.encode() for a in w] for w in writes]
    assert received[:2] == [[b"SELECT", b"0"], [b"SET", b"before", b"1"]]

    def lag_after_ack(acked: int) -> int:
        link.sendall(hiredis.pack_command(("REPLCONF", "ACK", str(acked))))
        wait_for(lambda: p.info("replication")["slave0"]["offset"] == acked)
        return int(p.info("replication")["slave0"]["lag_records"])

    before_reads = end - sum(len(_encode(*w)) for w in writes)
    assert lag_after_ack(before_reads) == 10
    assert lag_after_ack(before_reads + sum(len(_encode(*w)) for w in writes[:3])) == 7
    assert lag_after_ack(before_reads + sum(len(_encode(*w)) for w in writes[:3]) + 5) == 7
    assert lag_after_ack(end) == 0
    link.close()


def _psync_behind_unwritten_replies(server: ServerProcess) -> list[object]:
    """A replica's handshake in one write: PSYNC comes while the REPLCONFs' +OK are unwritten."""
    conn = server.connect()
    try:
        requests = (["PING"], ["REPLCONF", "listening-port", "1"], ["REPLCONF", "capa", "psync2"], ["PSYNC", "?", "-1"])
        conn.send_raw(b"".join(conn.encode(list(args)) for args in requests))
        return [str(reply) if isinstance(reply, Exception) else reply for reply in (conn.read() for _ in requests)]
    finally:
        conn.close()


def test_psync_behind_unwritten_replies_is_refused_as_redis_refuses_it(started: Callable[..., ServerProcess]) -> None:
    ours = _psync_behind_unwritten_replies(started("ours"))
    assert ours == _psync_behind_unwritten_replies(started("redis"))
    assert ours[-1] == "ERR SYNC and PSYNC are invalid with pending output"
