"""The replica side: handshake, PSYNC, full sync ($len or $EOF:<mark>), the command stream,
ACKs, and reconnecting forever with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import time
from collections.abc import AsyncGenerator
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

import hiredis

from dragonfly_py.commands.registry import DIRECT_COMMANDS, Command
from dragonfly_py.protocol.resp import encode_command
from dragonfly_py.rdb.reader import RdbError, RdbReader, Snapshot
from dragonfly_py.replication.backlog import Backlog

if TYPE_CHECKING:
    from dragonfly_py.server.client import Client
    from dragonfly_py.server.server import Server


class SyncError(Exception):
    """The primary refused or broke the protocol; retry later."""


class MasterLink:
    def __init__(self, server: Server, host: str, port: int) -> None:
        self.server = server
        self.primary = server.primary
        self.config = server.config
        self.log = server.log
        self.host, self.port = host, port
        self.state = "connect"  # connect | connecting | handshake | sync | connected
        self.last_io = time.monotonic()
        self.down_since: float | None = None
        self.read_offset = 0
        self.sync_total = -1
        self.sync_read = 0
        self.master_client = None
        self.stream_db = 0  # the db the primary's stream is in: kept across a continued stream
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._multi: list[bytes] | None = None

    def current_db(self) -> int:
        """The db the primary's stream is in now (the dump records it for a continued stream)."""
        client = self.master_client
        return client.db.index if client is not None else self.stream_db  # type: ignore[attr-defined]

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._close()

    def drop(self) -> None:
        """Break the link (CLIENT KILL TYPE master); the run loop reconnects."""
        if self._writer is not None:
            self._writer.close()

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.master_client is not None:
            self.server.clients.pop(self.master_client.id, None)
            self.master_client = None

    @property
    def link_up(self) -> bool:
        return self.state == "connected"

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, SyncError, RdbError, asyncio.IncompleteReadError, ValueError) as exc:
                if self.state == "connected":
                    self.log.warning(f"Connection with master lost: {exc}")
                else:
                    self.log.warning(f"Error condition on socket for SYNC: {exc or type(exc).__name__}")
            was_up = self.state == "connected"
            self._close()
            self.state = "connect"
            if was_up:
                self.down_since = time.monotonic()
            self.server.update_restrictions()
            await asyncio.sleep(delay)
            delay = 0.1 if was_up else min(delay * 2, 1.0)

    # -- handshake ---------------------------------------------------------------------------
    async def _session(self) -> None:
        self.state = "connecting"
        self.log.info(f"Connecting to MASTER {self.host}:{self.port}")
        timeout = self.config["repl-timeout"]
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
        self._writer = writer
        self.log.info("MASTER <-> REPLICA sync started")
        self.state = "handshake"
        writer.write(encode_command([b"PING"]))
        reply = await self._line(reader)
        if reply.startswith(b"-") and not reply.startswith((b"-NOAUTH", b"-NOPERM", b"-ERR operation not permitted")):
            raise SyncError(f"Error reply to PING from master: '{reply.decode(errors='replace')}'")
        commands = []
        if self.config["masterauth"]:
            user = self.config["masteruser"]
            auth = [user.encode(), self.config["masterauth"].encode()] if user else [self.config["masterauth"].encode()]
            commands.append([b"AUTH", *auth])
        port = self.config["replica-announce-port"] or self.config["port"]
        commands.append([b"REPLCONF", b"listening-port", b"%d" % port])
        if self.config["replica-announce-ip"]:
            commands.append([b"REPLCONF", b"ip-address", self.config["replica-announce-ip"].encode()])
        commands.append([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        writer.write(b"".join(encode_command(c) for c in commands))
        for command in commands:
            reply = await self._line(reader)
            if command[0] == b"AUTH" and reply.startswith(b"-"):
                raise SyncError(f"Unable to AUTH to MASTER: {reply.decode(errors='replace')}")
        primary = self.primary
        cached_id, cached_offset = primary.replid, primary.offset + 1
        writer.write(encode_command([b"PSYNC", cached_id.encode(), b"%d" % cached_offset]))
        reply = await self._line(reader, skip_empty=True)
        if reply.startswith(b"+FULLRESYNC"):
            words = reply.split()
            replid, offset = words[1].decode(), int(words[2])
            await self._full_sync(reader, writer, replid, offset)
        elif reply.startswith(b"+CONTINUE"):
            self._continue(reply)
        else:
            raise SyncError(f"Unexpected reply to PSYNC from master: {reply.decode(errors='replace')}")
        await self._stream(reader, writer)

    async def _line(self, reader: asyncio.StreamReader, skip_empty: bool = False) -> bytes:
        timeout = self.config["repl-timeout"]
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout)
            if not line:
                raise SyncError("connection closed by master")
            self.last_io = time.monotonic()
            line = line.rstrip(b"\r\n")
            if line or not skip_empty:
                return line

    def _continue(self, reply: bytes) -> None:
        primary = self.primary
        words = reply.split()
        new_id = words[1].decode() if len(words) > 1 else primary.replid
        if new_id != primary.replid:  # the primary was promoted: PSYNC2 keeps our history valid
            primary.replid2, primary.second_offset = primary.replid, primary.offset + 1
            primary.replid = new_id
            primary.disconnect_replicas()
        primary.create_backlog()
        self.log.info("Successful partial resynchronization with master.")
        self.log.info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")

    # -- full sync ---------------------------------------------------------------------------
    async def _full_sync(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, replid: str, offset: int
    ) -> None:
        self.state = "sync"
        self.log.info(f"Full resync from master: {replid}:{offset}")
        header = await self._line(reader, skip_empty=True)
        if header.startswith(b"-"):
            raise SyncError(f"MASTER aborted replication with an error: {header.decode(errors='replace')}")
        if not header.startswith(b"$"):
            raise SyncError(f"Bad protocol from MASTER, the first byte is not '$': {header[:40]!r}")
        eof_mode = header.startswith(b"$EOF:")
        self.sync_read = 0
        if eof_mode:
            self.sync_total = 0
            self.log.info("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF")
            chunks = self._chunks_until_mark(reader, header[5:])
        else:
            self.sync_total = int(header[1:])
            self.log.info(f"MASTER <-> REPLICA sync: receiving {self.sync_total} bytes from master")
            chunks = self._chunks_of(reader, self.sync_total)
        snapshot = await self._load_while_receiving(chunks)
        self.server.install_snapshot(snapshot)
        primary = self.primary
        primary.disconnect_replicas()
        primary.replid, primary.replid2, primary.second_offset = replid, "0" * 40, -1
        primary.offset = offset
        primary.backlog = Backlog(self.config["repl-backlog-size"], offset)
        primary.update_feeding()
        self.log.info(f"MASTER <-> REPLICA sync: Finished with success ({snapshot.keys_loaded} keys)")
        if eof_mode:
            writer.write(encode_command([b"REPLCONF", b"ACK", b"%d" % primary.offset]))

    async def _load_while_receiving(self, chunks: AsyncGenerator[bytes, None]) -> Snapshot:
        """Decode the payload in a thread as it arrives: the primary's encoding and our decoding
        overlap (two processes, two cores) instead of following each other."""
        received: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        ended = False

        def read(_: int) -> bytes:
            nonlocal ended
            chunk = b"" if ended else received.get()
            ended = not chunk  # b"": the transfer ended or broke; the reader reports what it lacked
            return chunk

        loader = RdbReader(read, databases=self.config["databases"])
        loading = asyncio.ensure_future(asyncio.to_thread(loader.load))
        try:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    if loading.done() and loading.exception() is not None:
                        break  # refused early (a corrupt payload): no use reading the rest
                    received.put(chunk)  # also after a successful load: the rest (the mark) is consumed
        finally:
            received.put(b"")
            if not loading.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(loading)
        return loading.result()

    async def _chunks_of(self, reader: asyncio.StreamReader, size: int) -> AsyncGenerator[bytes, None]:
        left = size
        while left:
            chunk = await self._next_chunk(reader, min(left, 1 << 20))
            left -= len(chunk)
            yield chunk

    async def _chunks_until_mark(self, reader: asyncio.StreamReader, mark: bytes) -> AsyncGenerator[bytes, None]:
        tail = b""
        while True:
            chunk = await self._next_chunk(reader, 1 << 20)
            tail = (tail + chunk)[-len(mark) :]
            yield chunk
            if tail == mark:  # the mark follows the RDB's checksum; the loader stops before it
                return

    async def _next_chunk(self, reader: asyncio.StreamReader, limit: int) -> bytes:
        chunk = await asyncio.wait_for(reader.read(limit), self.config["repl-timeout"])
        if not chunk:
            raise SyncError("connection closed during the full sync")
        self.sync_read += len(chunk)
        self._keepalive()
        return chunk

    def _keepalive(self) -> None:
        now = time.monotonic()
        if now - self.last_io >= 1 and self._writer is not None:
            self._writer.write(b"\n")  # tells the primary a long transfer is alive
        self.last_io = now

    # -- the stream --------------------------------------------------------------------------
    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from dragonfly_py.server.client import Client

        self.state = "connected"
        self.down_since = None
        self.server.update_restrictions()
        client = Client(self.server, None, f"{self.host}:{self.port}", "?:0", self.server.next_client_id())
        client.kind, client.authenticated = "master", True
        client.db = self.server.keyspace.dbs[self.stream_db]  # a continued stream may not SELECT again
        self.master_client = client
        self.server.clients[client.id] = client
        self.log.info("MASTER <-> REPLICA sync: link up")
        parser = hiredis.Reader()
        ack_task = asyncio.get_running_loop().create_task(self._ack_every_second(writer))
        try:
            while True:
                data = await asyncio.wait_for(reader.read(1 << 16), self.config["repl-timeout"])
                if not data:
                    raise SyncError("connection closed by master")
                self.last_io = time.monotonic()
                self.read_offset += len(data)
                parser.feed(data)
                self._apply(parser, client, writer)
        finally:
            self.stream_db = client.db.index
            ack_task.cancel()

    def _apply(self, parser: hiredis.Reader, client: Client, writer: asyncio.StreamWriter) -> None:
        """Apply the commands of one read of the stream, then feed them on (backlog, sub-replicas)
        in one piece."""
        requests: list[list[bytes]] = []
        desync = False
        while (argv := parser.gets()) is not False:
            if argv.__class__ is not list or not argv:
                desync = True  # after the commands before it, as Redis would
                break
            requests.append(argv)
        keyspace = self.server.keyspace
        keyspace.cached_now = None  # a time of their own, as for a client's read
        keyspace.applying_master = True
        unfed: list[bytes] = []  # encodings of the commands applied
        try:
            self._run_stream(requests, client, writer, unfed)
        finally:
            keyspace.applying_master = False
            client.output.clear()
            if unfed:
                self.primary.feed_bytes(b"".join(unfed))
        if desync:
            raise SyncError("Master using the inline protocol. Desync?")
        self.server.flush_pending()

    def _run_stream(self, requests: list[list[bytes]], client: Client, writer: Any, unfed: list[bytes]) -> None:
        """Each request through client.execute, but for direct commands outside MULTI: those are
        called as a client's read calls them (ClientConnection.run_many), a run of one command
        with a squashed form (SET ...) in one call."""
        server = self.server
        index, count = 0, len(requests)
        while index < count:
            argv = requests[index]
            cmd = DIRECT_COMMANDS.get(argv[0])
            if cmd is None or client.multi is not None or self._multi is not None or server.monitors:
                self._execute(argv, client, writer, unfed)
                index += 1
                continue
            end = index + 1
            name = argv[0]
            while end < count and requests[end][0] == name:
                end += 1
            run = requests[index:end]
            self._call_run(cmd, run, client)
            unfed += map(encode_command, run)
            index = end

    def _call_run(self, cmd: Command, run: list[list[bytes]], client: Client) -> None:
        server = self.server
        keyspace = server.keyspace
        server.current_client = client
        mark = perf_counter_ns()
        many = None if cmd.write and keyspace.observed() else cmd.many  # as ClientConnection.run_many
        if len(run) == 1 or many is None or many(client, run) is None:
            arity = cmd.arity
            keyspace.counting_lookups = cmd.reads_keys
            for argv in run:
                if len(argv) == arity or -len(argv) <= arity < 0:
                    try:
                        cmd.handler(client, argv)  # type: ignore[misc]
                    except Exception as exc:
                        client.failed_call(cmd, exc)
                else:
                    client.execute(argv)  # the arity error, counted as Redis counts it
                if keyspace.ready_keys:
                    server.serve_blocked_clients()
                    server.current_client = client
                keyspace.counting_lookups = cmd.reads_keys
            keyspace.counting_lookups = False
        server.record_run(cmd, client, run, perf_counter_ns() - mark)

    def _execute(self, argv: list[bytes], client: Client, writer: Any, unfed: list[bytes]) -> None:
        """One command of the stream through every check, MULTI/EXEC kept whole in the feed."""
        raw = encode_command(argv)
        name = argv[0].lower()
        if name == b"replconf" and len(argv) > 1 and argv[1].lower() == b"getack":
            if unfed:  # the offset acknowledged counts what was applied before
                self.primary.feed_bytes(b"".join(unfed))
                unfed.clear()
            writer.write(encode_command([b"REPLCONF", b"ACK", b"%d" % self.primary.offset]))
            unfed.append(raw)
            return
        client.execute(argv)
        if name == b"multi":
            self._multi = [raw]
        elif self._multi is not None:
            self._multi.append(raw)
            if name in (b"exec", b"discard"):  # the offset never points inside a transaction
                unfed.append(b"".join(self._multi))
                self._multi = None
        else:
            unfed.append(raw)

    async def _ack_every_second(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(1)
            with contextlib.suppress(Exception):
                writer.write(encode_command([b"REPLCONF", b"ACK", b"%d" % self.primary.offset]))

    # -- INFO and ROLE -----------------------------------------------------------------------
    def info_fields(self) -> list[tuple[str, object]]:
        now = time.monotonic()
        fields: list[tuple[str, object]] = [
            ("master_host", self.host),
            ("master_port", self.port),
            ("master_link_status", "up" if self.link_up else "down"),
            ("master_last_io_seconds_ago", int(now - self.last_io) if self.state != "connect" else -1),
            ("master_sync_in_progress", int(self.state == "sync")),
            ("slave_read_repl_offset", self.primary.offset),
            ("slave_repl_offset", self.primary.offset),
        ]
        if self.state == "sync":
            total = self.sync_total
            fields += [
                ("master_sync_total_bytes", total),
                ("master_sync_read_bytes", self.sync_read),
                ("master_sync_left_bytes", total - self.sync_read),
                ("master_sync_perc", f"{100 * self.sync_read / total if total > 0 else 0:.2f}"),
                ("master_sync_last_io_seconds_ago", int(now - self.last_io)),
            ]
        if not self.link_up:
            down = -1 if self.down_since is None else int(now - self.down_since)
            fields.append(("master_link_down_since_seconds", down))
        return fields

    def role_state(self) -> str:
        return self.state
