"""The primary side: the stream (offsets, backlog, SELECT rule, execution units), attached replicas,
full sync from a forked snapshot (diskless with EOF framing, or a dump file with $len), PSYNC
partial resync, ACKs, WAIT and lag in records."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import hiredis

from dragonfly_py.protocol.resp import ReplyError, encode_command
from dragonfly_py.replication.backlog import Backlog
from dragonfly_py.server.markers import BLOCKED

if TYPE_CHECKING:
    from dragonfly_py.commands.registry import Command
    from dragonfly_py.protocol.parser import RequestParser
    from dragonfly_py.server.client import Client
    from dragonfly_py.server.server import Server

Argv = list[bytes]


@dataclass
class AttachedReplica:
    client: Client
    state: str = "wait_bgsave"  # wait_bgsave | send_bulk | online
    listening_port: int = 0
    announced_ip: str = ""
    capa_eof: bool = False
    capa_psync2: bool = False
    ack_offset: int = 0
    ack_time: float = field(default_factory=time.monotonic)
    held: list[bytes] = field(default_factory=list)  # stream after the snapshot, sent after the RDB
    waiting_first_ack: bool = False
    legacy_sync: bool = False

    @property
    def ip(self) -> str:
        return self.announced_ip or self.client.addr.rsplit(":", 1)[0]

    def write(self, data: bytes) -> None:
        conn = self.client.conn
        if conn is not None and not conn.closed:
            conn.write(data)  # behind the replies it was sent before (PSYNC's +FULLRESYNC ...)


@dataclass
class WaitingClient:
    client: Client
    replicas: int
    offset: int
    timer: asyncio.TimerHandle | None = None


class Primary:
    """Stream state shared by every role: a replica proxies its primary's bytes through here too."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.config = server.config
        self.log = server.log
        self.replid = secrets.token_hex(20)
        self.replid2 = "0" * 40
        self.second_offset = -1
        self.offset = 0
        self.backlog: Backlog | None = None
        self.replicas: list[AttachedReplica] = []
        self.last_db = -1
        self.depth = 0  # nesting of call(): one execution unit per top-level command
        self.unit: list[tuple[int, Argv]] = []
        self.out: list[bytes] = []
        self.records: list[int] = []  # end offset of each propagated command (lag in records)
        # Reads fed whole (see begin_batch): end offset -> start offset, so lag in records stays
        # exact when a replica acknowledged part of one (only ints: nothing for the GC to walk).
        self.verbatim_reads: dict[int, int] = {}
        # The client read being run, while its writes may still go out as the bytes it came in.
        self.source: tuple[Client, list[Argv], bytes, RequestParser] | None = None
        self.held: list[Argv] = []  # its writes so far, fed when the read ends (or sooner)
        self.waiting: list[WaitingClient] = []
        self.sync_full = self.sync_partial_ok = self.sync_partial_err = 0
        self.net_output = 0
        self.feeding = False  # a backlog exists and we are a primary: writes feed the stream
        self._sync_batch: list[AttachedReplica] = []
        self._sync_due: float | None = None
        self._last_ping = time.monotonic()
        self.no_replicas_since = time.monotonic()  # for repl-backlog-ttl
        self._transfer: asyncio.Task[None] | None = None

    # -- the stream --------------------------------------------------------------------------
    def create_backlog(self) -> None:
        if self.backlog is None:
            self.backlog = Backlog(self.config["repl-backlog-size"], self.offset)
        self.update_feeding()

    def update_feeding(self) -> None:
        self.feeding = self.backlog is not None and self.server.role == "master"
        self.server.state_epoch += 1  # connections recheck whether a read may skip the feed

    # -- a client's read whose writes go out as it sent them ---------------------------------
    # Most writes propagate as the client sent them, and a pipelined read of such writes is, byte
    # for byte, what the stream needs: then the read itself is fed, with no encode per command.
    # Its writes are held until the read ends, and fed one by one as soon as anything else
    # touches the stream (another effect, a command that is not a write) or the read turns out
    # to be something else (a read command in it, a rewrite, a SELECT, a partial request).
    def begin_batch(self, client: Client, requests: list[Argv], data: bytes, parser: RequestParser) -> None:
        self.source = (client, requests, data, parser)

    def end_batch(self) -> None:
        source, held = self.source, self.held
        if source is None or not held or len(held) != len(source[1]) or not source[3].exact_read(source[2]):
            self.release_held()
            return
        self.source, self.held = None, []
        start = self.offset
        self.feed_bytes(source[2])
        if self.replicas:
            self.records += [self.offset] * len(held)
            self.verbatim_reads[self.offset] = start
        source[0].woff = self.offset

    def feed_read(self, client: Client, requests: list[Argv], data: bytes, parser: RequestParser) -> None:
        """A read of writes run at once (a command's squashed form), each of which changed the
        dataset and goes out as sent: the read itself where it holds them alone (end_batch)."""
        db = client.db.index
        if db == self.last_db:
            self.source, self.held = (client, requests, data, parser), list(requests)
            self.end_batch()
            return
        for argv in requests:
            self.feed_command(db, argv)
        client.woff = self.offset

    def release_held(self) -> None:
        """Feed the held writes now, each encoded: the stream is about to be read or extended."""
        source, self.source = self.source, None
        held, self.held = self.held, []
        if source is None or not held:
            return
        for argv in held:
            self.feed_command(self.last_db, argv)
        source[0].woff = self.offset

    def before_call(self, cmd: Command) -> int:
        """Start of a command while feeding: a command that is no write may read the stream's
        offset, so the held writes go out first; returns the dirty count after_call compares."""
        if self.held and not cmd.write:
            self.release_held()
        self.depth += 1
        return self.server.keyspace.dirty

    def after_call(self, client: Client, cmd: Command, argv: Argv, reply: Any, changed: bool) -> None:
        """End of a command (or of a served blocked one): feed its effect if it changed the dataset
        (Redis's propagate), and close the execution unit at the top level."""
        wanted = (changed and cmd.write) or cmd.always_propagated  # whatever the reply: SET ... GET
        if wanted and reply.__class__ is not ReplyError and reply is not BLOCKED:  # answers nil, yet writes
            rewrite = cmd.rewrite
            produced = None if rewrite is None else rewrite(client, argv, reply)  # None: as sent
            db = client.db.index
            if self.depth == 1 and not self.unit and (produced is None or len(produced) == 1):
                self.depth = 0  # one write on its own: no unit
                if produced is None:
                    source = self.source
                    if source is not None and db == self.last_db:
                        requests, held = source[1], self.held
                        if len(held) < len(requests) and requests[len(held)] is argv:
                            held.append(argv)  # the next request of the read, as it was sent
                            return
                    self.feed_command(db, argv)
                else:
                    self.feed_command(db, produced[0])
                client.woff = self.offset
                return
            self.unit += [(db, command) for command in ([argv] if produced is None else produced)]
        self.depth -= 1
        if not self.depth and self.unit:
            self.end_unit(client)

    def add_effect(self, db: int, argv: Argv) -> None:
        """A side effect such as an expired key's DEL: part of the running unit, if any."""
        if not self.feeding:
            return
        self.unit.append((db, argv))
        if not self.depth:
            self.end_unit(None)

    def end_unit(self, client: Client | None) -> None:
        unit, self.unit = self.unit, []
        if len(unit) > 1:
            self.feed_command(unit[0][0], [b"MULTI"])
            for db, argv in unit:
                self.feed_command(db, argv)
            self.feed_command(unit[-1][0], [b"EXEC"])
        elif unit:
            self.feed_command(*unit[0])
        if client is not None and unit:
            client.woff = self.offset

    def feed_command(self, db: int, argv: Argv) -> None:
        if db != self.last_db and db >= 0:
            self.feed_bytes(encode_command([b"SELECT", b"%d" % db]))
            self.last_db = db
        self.feed_bytes(encode_command(argv))
        if self.replicas:
            self.records.append(self.offset)

    def feed_bytes(self, data: bytes) -> None:
        assert self.backlog is not None
        if self.held:
            self.release_held()
        self.backlog.feed(data)
        self.offset = self.backlog.offset
        if self.replicas:
            self.out.append(data)
            if not self.server.pending_flush_replication:
                self.server.pending_flush_replication = True
                # Sent once per event-loop pass: the writes of every client served in this pass go
                # to each replica in one send, not one send per client batch.
                asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send what the batch fed to online replicas; hold it for replicas still syncing."""
        self.server.pending_flush_replication = False
        if not self.out:
            return
        data = b"".join(self.out)
        self.out.clear()
        for replica in self.replicas:
            if replica.state == "online" and not replica.waiting_first_ack:
                replica.write(data)
                self.net_output += len(data)
            elif replica.state == "send_bulk" or replica.waiting_first_ack:
                replica.held.append(data)

    # -- replicas attaching ------------------------------------------------------------------
    def replica_of(self, client: Client) -> AttachedReplica | None:
        for replica in self.replicas:
            if replica.client is client:
                return replica
        return None

    def psync(self, client: Client, requested_id: str, requested_offset: int, legacy: bool = False) -> None:
        """PSYNC/SYNC from a client: +CONTINUE with the backlog, or a full sync."""
        self.flush()
        replica = client.replica or AttachedReplica(client)
        client.replica = replica
        replica.legacy_sync = legacy
        if not legacy and self._can_continue(requested_id, requested_offset):
            assert self.backlog is not None
            client.kind = "replica"
            self.replicas.append(replica)
            replica.state, replica.ack_time = "online", time.monotonic()
            reply = f"+CONTINUE {self.replid}\r\n" if replica.capa_psync2 else "+CONTINUE\r\n"
            replica.write(reply.encode() + self.backlog.read_from(requested_offset))
            self.sync_partial_ok += 1
            self.log.info(
                f"Partial resynchronization request from {client.addr} accepted. Sending "
                f"{self.offset + 1 - requested_offset} bytes of backlog starting from offset {requested_offset}."
            )
            return
        if requested_id != "?" and not legacy:
            self.sync_partial_err += 1
        self.sync_full += 1
        client.kind = "replica"
        replica.state = "wait_bgsave"
        self.replicas.append(replica)
        if self.backlog is None:  # the first replica: a new history starts here
            self.replid, self.replid2, self.second_offset = secrets.token_hex(20), "0" * 40, -1
            self.create_backlog()
        self.log.info(f"Replica {client.addr} asks for synchronization")
        self._sync_batch.append(replica)
        if self._sync_due is None:
            delay = self.config["repl-diskless-sync-delay"] if self._diskless(self._sync_batch) else 0
            self._sync_due = time.monotonic() + delay
        self.maybe_start_sync()

    def _expire_backlog(self, now: float) -> None:
        """repl-backlog-ttl: a primary without replicas for that long frees its backlog and, as
        Redis does, starts a new history (replicas could no longer continue the old one anyway)."""
        ttl = self.config["repl-backlog-ttl"]
        if self.backlog is None or self.replicas or self.server.role != "master" or not ttl:
            return
        if now - self.no_replicas_since > ttl:
            self.replid, self.replid2, self.second_offset = secrets.token_hex(20), "0" * 40, -1
            self.backlog = None
            self.update_feeding()
            self.log.info(f"Replication backlog freed after {ttl} seconds without connected replicas.")

    def restore_history(self, aux: dict[bytes, bytes], as_replica: bool) -> int | None:
        """Take up the replication history a dump loaded at start-up records, as Redis 7.0: a
        replica continues it (PSYNC with that id and offset), a primary keeps it as its second id,
        so replicas that followed it before the restart can continue.  Returns the stream's db."""
        try:
            replid, offset = aux[b"repl-id"].decode(), int(aux[b"repl-offset"])
            stream_db = int(aux.get(b"repl-stream-db", b"-1"))
        except (KeyError, ValueError, UnicodeDecodeError):
            return None
        if len(replid) != 40 or offset < 0 or stream_db < 0:
            return None
        if as_replica:
            self.replid, self.offset = replid, offset
        else:
            self.replid2, self.second_offset, self.offset = replid, offset + 1, offset
            self.create_backlog()
            self.no_replicas_since = time.monotonic()
        return stream_db

    def _can_continue(self, requested_id: str, requested_offset: int) -> bool:
        if self.backlog is None or requested_id == "?":
            return False
        same = requested_id == self.replid or (requested_id == self.replid2 and requested_offset <= self.second_offset)
        return same and self.backlog.can_serve(requested_offset)

    def _diskless(self, batch: list[AttachedReplica]) -> bool:
        return self.config["repl-diskless-sync"] and all(r.capa_eof and not r.legacy_sync for r in batch)

    def maybe_start_sync(self) -> None:
        """Start the pending full sync when its delay is over and no other child runs."""
        if self._sync_due is None or time.monotonic() < self._sync_due:
            return
        persistence = self.server.persistence
        if persistence.child_running:
            return
        batch = [r for r in self._sync_batch if r.client.conn is not None and not r.client.conn.closed]
        self._sync_batch, self._sync_due = [], None
        if not batch:
            return
        self.flush()
        self.last_db = -1  # the first write after a full sync carries a SELECT
        diskless = self._diskless(batch)
        for replica in batch:
            replica.state, replica.held = "send_bulk", []
            if not replica.legacy_sync:
                replica.write(f"+FULLRESYNC {self.replid} {self.offset}\r\n".encode())
        replication = (0, self.replid, self.offset)
        if diskless:
            self._sync_diskless(batch, replication)
        else:
            self._sync_disk(batch, replication)

    def _sync_diskless(self, batch: list[AttachedReplica], replication: tuple[int, str, int]) -> None:
        persistence = self.server.persistence
        read_fd, write_fd = os.pipe()

        def work() -> None:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb", buffering=1 << 16) as out:
                persistence.write_rdb(out, replication)

        mark = secrets.token_hex(20).encode()
        for replica in batch:
            replica.write(b"$EOF:" + mark + b"\r\n")

        def done(ok: bool) -> None:
            if not ok:
                self.log.warning("Diskless rdb transfer failed: the child exited with an error")
                for replica in batch:
                    if replica.client.conn is not None:
                        replica.client.conn.close()
            self.server.on_snapshot_done()

        persistence.fork_child("sync", work, done)
        os.close(write_fd)
        self.log.info(f"Starting BGSAVE for SYNC with target: replicas sockets ({len(batch)} replicas)")
        loop = asyncio.get_running_loop()
        reader = os.fdopen(read_fd, "rb", buffering=0)
        self._transfer = loop.create_task(self._forward_pipe(loop, reader, batch, mark))

    async def _forward_pipe(self, loop: Any, reader: Any, batch: list[AttachedReplica], mark: bytes) -> None:
        forwarded = 0
        try:
            while True:
                chunk = await loop.run_in_executor(None, reader.read, 1 << 20)
                if not chunk:
                    break
                forwarded += len(chunk)
                for replica in batch:
                    replica.write(chunk)
                # do not outrun slow replicas: wait while any socket buffer is large
                while any(_buffered(r) > 8 << 20 for r in batch):
                    await asyncio.sleep(0.01)
        finally:
            reader.close()
        for replica in batch:
            replica.write(mark)
            replica.waiting_first_ack = True  # the stream resumes after its first REPLCONF ACK
            replica.state = "online"
        self.net_output += forwarded * len(batch)
        self.log.info(f"Diskless rdb transfer done: {forwarded} bytes to {len(batch)} replicas")

    def _sync_disk(self, batch: list[AttachedReplica], replication: tuple[int, str, int]) -> None:
        persistence = self.server.persistence
        path = f"temp-sync-{os.getpid()}.rdb"

        def work() -> None:
            with open(path, "wb") as out:
                persistence.write_rdb(out, replication)

        def done(ok: bool) -> None:
            try:
                payload = open(path, "rb").read() if ok else None  # noqa: SIM115
            except OSError:
                payload = None
            with contextlib.suppress(OSError):
                os.unlink(path)
            for replica in batch:
                if payload is None:
                    if replica.client.conn is not None:
                        replica.client.conn.close()
                    continue
                replica.write(b"$%d\r\n" % len(payload) + payload + b"".join(replica.held))
                replica.held, replica.state = [], "online"
                replica.ack_time = time.monotonic()
            self.server.on_snapshot_done()

        persistence.fork_child("sync", work, done)
        self.log.info(f"Starting BGSAVE for SYNC with target: disk ({len(batch)} replicas)")

    def ack(self, client: Client, offset: int) -> None:
        replica = client.replica
        if replica is None or client.kind != "replica":
            return
        replica.ack_offset = max(replica.ack_offset, offset)
        replica.ack_time = time.monotonic()
        if replica.waiting_first_ack:
            replica.waiting_first_ack = False
            held, replica.held = replica.held, []
            if held:
                replica.write(b"".join(held))
            self.log.info(f"Synchronization with replica {replica.ip}:{replica.listening_port} succeeded")
        self.check_waiting()

    def detach(self, client: Client) -> None:
        replica = client.replica
        if replica is not None and replica in self.replicas:
            self.replicas.remove(replica)
            self.log.info(f"Connection with replica {replica.ip}:{replica.listening_port} lost.")
        if replica in self._sync_batch:
            self._sync_batch.remove(replica)
        if not self.replicas:
            self.records.clear()
            self.verbatim_reads.clear()
            self.no_replicas_since = time.monotonic()

    def disconnect_replicas(self) -> None:
        for replica in list(self.replicas):
            if replica.client.conn is not None:
                replica.client.conn.close()

    # -- WAIT, lag, min-replicas -------------------------------------------------------------
    def acked_count(self, offset: int) -> int:
        return sum(1 for r in self.replicas if r.state == "online" and r.ack_offset >= offset)

    def wait(self, client: Client, replicas: int, timeout_ms: int) -> Any:
        offset = client.woff
        acked = self.acked_count(offset)
        if acked >= replicas or client.in_exec:
            return acked
        waiting = WaitingClient(client, replicas, offset)
        if timeout_ms:
            loop = asyncio.get_running_loop()
            waiting.timer = loop.call_later(timeout_ms / 1000, self._wait_done, waiting)
        self.waiting.append(waiting)
        client.blocked = waiting
        self.request_acks()
        return BLOCKED

    def request_acks(self) -> None:
        if self.feeding and self.replicas:
            self.feed_command(self.last_db, [b"REPLCONF", b"GETACK", b"*"])

    def check_waiting(self) -> None:
        for waiting in list(self.waiting):
            if self.acked_count(waiting.offset) >= waiting.replicas:
                self._wait_done(waiting)

    def _wait_done(self, waiting: WaitingClient) -> None:
        if waiting not in self.waiting:
            return
        self.waiting.remove(waiting)
        if waiting.timer is not None:
            waiting.timer.cancel()
        client = waiting.client
        client.blocked = None
        if client.conn is not None and not client.conn.closed:
            self.server.unblock_with_reply(client, self.acked_count(waiting.offset))

    def cancel_wait(self, client: Client) -> None:
        for waiting in list(self.waiting):
            if waiting.client is client:
                self.waiting.remove(waiting)
                client.blocked = None
                if waiting.timer is not None:
                    waiting.timer.cancel()

    def lag_records(self, replica: AttachedReplica) -> int:
        records, acked = self.records, replica.ack_offset
        first_unacked = bisect.bisect_right(records, acked)
        lag = len(records) - first_unacked
        if first_unacked < len(records):
            end = records[first_unacked]
            start = self.verbatim_reads.get(end)
            if start is not None and start < acked and self.backlog and self.backlog.can_serve(start + 1):
                # The replica acknowledged part of a read fed whole: count the requests it holds.
                reader = hiredis.Reader()
                reader.feed(self.backlog.read_from(start + 1)[: acked - start])
                while reader.gets() is not False:
                    lag -= 1
        return lag

    def good_replicas(self) -> int:
        max_lag = self.config["min-replicas-max-lag"]
        now = time.monotonic()
        return sum(1 for r in self.replicas if r.state == "online" and now - r.ack_time <= max_lag)

    # -- periodic work -----------------------------------------------------------------------
    def cron(self) -> None:
        now = time.monotonic()
        self._expire_backlog(now)
        self.maybe_start_sync()
        for replica in self.replicas:
            if replica.state == "wait_bgsave":
                replica.write(b"\n")  # keepalive before +FULLRESYNC
        if self.feeding and self.replicas and now - self._last_ping >= self.config["repl-ping-replica-period"]:
            self._last_ping = now
            self.feed_command(self.last_db, [b"ping"])
        timeout = self.config["repl-timeout"]
        for replica in list(self.replicas):
            if replica.state == "online" and not replica.legacy_sync and now - replica.ack_time > timeout:
                self.log.warning(f"Disconnecting timedout replica (streaming sync): {replica.ip}")
                if replica.client.conn is not None:
                    replica.client.conn.close()
        if self.records and self.replicas:
            lowest = min(r.ack_offset for r in self.replicas)
            drop = bisect.bisect_right(self.records, lowest)
            if drop > 4096:
                del self.records[:drop]
                for end in [end for end in self.verbatim_reads if end <= lowest]:
                    del self.verbatim_reads[end]

    # -- INFO and ROLE -----------------------------------------------------------------------
    def replica_lines(self) -> list[tuple[str, object]]:
        now = time.monotonic()
        lines: list[tuple[str, object]] = []
        for index, replica in enumerate(self.replicas):
            lag = int(now - replica.ack_time) if replica.state == "online" else 0
            lines.append(
                (
                    f"slave{index}",
                    f"ip={replica.ip},port={replica.listening_port},state={replica.state},"
                    f"offset={replica.ack_offset},lag={lag},lag_records={self.lag_records(replica)}",
                )
            )
        return lines

    def backlog_fields(self) -> list[tuple[str, object]]:
        backlog = self.backlog
        return [
            ("master_failover_state", "no-failover"),
            ("master_replid", self.replid),
            ("master_replid2", self.replid2),
            ("master_repl_offset", self.offset),
            ("second_repl_offset", self.second_offset),
            ("repl_backlog_active", int(backlog is not None)),
            ("repl_backlog_size", self.config["repl-backlog-size"]),
            ("repl_backlog_first_byte_offset", backlog.first_byte_offset if backlog else 0),
            ("repl_backlog_histlen", backlog.histlen if backlog else 0),
        ]


def _buffered(replica: AttachedReplica) -> int:
    conn = replica.client.conn
    return conn.output_size() if conn is not None else 0
