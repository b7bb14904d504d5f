"""The server: shared state, listeners, the periodic tick and the lifecycle (uvicorn style)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import mul
from typing import Any

from dragonfly_py import errors
from dragonfly_py.acl import Users
from dragonfly_py.commands.registry import Command
from dragonfly_py.config import Config, OutputBufferLimit
from dragonfly_py.logs import get_logger, set_role_letter
from dragonfly_py.protocol.resp import Push, ReplyError
from dragonfly_py.replication.primary import Primary
from dragonfly_py.server.client import Client
from dragonfly_py.server.connection import ClientConnection, send_unsent
from dragonfly_py.server.latency import fold, new_histogram
from dragonfly_py.server.persistence import Persistence
from dragonfly_py.server.tracking import Tracking
from dragonfly_py.storage.keyspace import Database, Keyspace
from dragonfly_py.storage.memory import used_memory


@dataclass
class Stats:
    connections_received: int = 0
    rejected_connections: int = 0
    expired_keys: int = 0
    error_replies: int = 0
    net_input_bytes: int = 0  # from clients (the replication link has its own counters)
    net_output_bytes: int = 0
    reads_processed: int = 0
    writes_processed: int = 0
    client_output_buffer_limit_disconnections: int = 0
    pubsub_messages: int = 0


@dataclass
class SlowlogEntry:
    id: int
    timestamp: int
    usec: int
    argv: list[bytes]
    addr: str
    name: bytes


class Slowlog:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.entries: deque[SlowlogEntry] = deque()
        self.next_id = 0

    def add(self, client: Client, argv: list[bytes], usec: int) -> None:
        shown = argv[:32]
        if len(argv) > 32:
            shown = [*argv[:31], b"... (%d more arguments)" % (len(argv) - 31)]
        shown = [a if len(a) <= 128 else a[:128] + b"... (%d more bytes)" % (len(a) - 128) for a in shown]
        self.entries.appendleft(SlowlogEntry(self.next_id, int(time.time()), usec, shown, client.addr, client.name))
        self.next_id += 1
        while len(self.entries) > self.config["slowlog-max-len"]:
            self.entries.pop()


@dataclass
class ClientPause:
    end: float  # event loop time
    writes_only: bool
    timer: asyncio.TimerHandle

    def holds(self, client: Client, cmd: Command) -> bool:
        """Whether this command of this client waits for the pause's end (replicas never do)."""
        if client.kind in ("replica", "master"):
            return False
        if not self.writes_only:
            return True
        if cmd.name == "exec" and client.multi is not None:
            return any(queued.write or "may_replicate" in queued.flags for queued, _ in client.multi)
        return cmd.write or "may_replicate" in cmd.flags


@dataclass
class ShutdownRequest:
    """SHUTDOWN's options, or a signal's (shutdown-on-sigterm / shutdown-on-sigint)."""

    save: bool | None = None  # None: save when save points are configured
    now: bool = False
    force: bool = False
    client: Client | None = None  # answered with an error if the shutdown fails


@dataclass
class BlockState:
    """A client waiting in BLPOP & co.: the keys, and how to retry when one is ready."""

    keys: list[tuple[int, bytes]]
    retry: Callable[[], Any]  # returns the reply, or None to keep waiting
    on_timeout: Any
    timer: asyncio.TimerHandle | None = None
    argv: list[bytes] | None = None  # the blocking command, for propagation when served


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.log = get_logger("server")
        self.keyspace = Keyspace(config["databases"])
        self.keyspace.on_expired = self._on_expired
        self.run_id = secrets.token_hex(20)
        self.started = time.time()
        self.started_monotonic = time.monotonic()
        self.clock = time.monotonic
        self.clients: dict[int, Client] = {}
        self._last_client_id = 0
        self.stats = Stats()
        self.slowlog = Slowlog(config)
        self.monitors: list[Client] = []
        self.pending_flush: set[Client] = set()
        self.channels: dict[bytes, set[Client]] = {}
        self.patterns: dict[bytes, set[Client]] = {}
        self.waiters: dict[tuple[int, bytes], deque[Client]] = self.keyspace.blocking
        self.ready_keys = self.keyspace.ready_keys
        self.restricted = False  # loading, replica, MISCONF...: see reject_reason
        # Moves on with every command that goes through Client.execute's checks and with every
        # change of the restrictions: connections keep the direct command table they worked out
        # while it stands (ClientConnection.direct_commands). Only such commands and restrictions
        # change what that table depends on.
        self.state_epoch = 0
        self.loading = False
        self.last_save = int(time.time())
        self.listeners: list[asyncio.AbstractServer] = []
        self.shutdown_event: asyncio.Event | None = None
        self.exit_code = 0
        self.tcp_port = config["port"]
        # (time, commands, input bytes, output bytes) every cron tick: the instantaneous_* rates
        self._samples: deque[tuple[float, int, int, int]] = deque(maxlen=16)
        self.mode = "standalone"
        from dragonfly_py.commands.registry import COMMANDS

        self.commands: dict[bytes, Command] = COMMANDS  # sentinel mode serves its own table
        self._cron_ticks = 0
        self.peak_memory = 0
        self.startup_memory = used_memory()  # INFO's used_memory_startup
        self.recent_buffer_peaks: deque[tuple[int, int]] = deque(maxlen=8)  # (input, output) per second
        self.error_counts: dict[str, int] = {}
        self.role = "master"
        self.primary = Primary(self)  # the stream, backlog and attached replicas (every role)
        self.master_link: Any = None  # MasterLink while we are a replica
        self.pending_flush_replication = False
        self.unsent: list[ClientConnection] = []  # connections with replies to write (send_unsent)
        self.writes_paused = False  # a graceful shutdown waits for replicas
        self.pause: ClientPause | None = None  # CLIENT PAUSE
        self.held_by_pause: list[ClientConnection] = []
        self.tracking = Tracking(self)
        self.current_client: Client | None = None  # the client whose command runs (NOLOOP)
        self.persistence = Persistence(self)
        self.shutdown_request = ShutdownRequest()
        self.slowlog_threshold_ns = 0
        self._set_slowlog_threshold(config["slowlog-log-slower-than"])
        self.latency_tracking: bool = config["latency-tracking"]
        config.on_change("latency-tracking", self._set_latency_tracking)
        config.on_change("slowlog-log-slower-than", self._set_slowlog_threshold)
        self.users = Users(config["requirepass"])
        for name, *rules in config.users:
            self.users.setuser(name, ["reset", *rules])  # as Redis, a user line describes a whole user
        self.users.known_command = self.command_rule_known
        config.on_change("requirepass", self._on_requirepass)
        for name in ("save", "stop-writes-on-bgsave-error", "min-replicas-to-write"):
            config.on_change(name, lambda _value: self.update_restrictions())

    def command_rule_known(self, name: str) -> bool:
        """Whether an ACL rule's ``cmd`` or ``cmd|sub`` names a command this server serves."""
        command_name, _, sub = name.partition("|")
        command = self.commands.get(command_name.encode())
        return command is not None and (not sub or not command.subcommands or sub.encode() in command.subcommands)

    # -- clients -----------------------------------------------------------------------------
    def next_client_id(self) -> int:
        self._last_client_id += 1
        return self._last_client_id

    def add_client(self, client: Client) -> None:
        self.clients[client.id] = client
        self.stats.connections_received += 1

    def remove_client(self, client: Client) -> None:
        if self.clients.pop(client.id, None) is None:
            return
        self.pending_flush.discard(client)
        from dragonfly_py.commands.pubsub import unsubscribe_all
        from dragonfly_py.commands.transactions import unwatch_all

        if self.primary.waiting:
            self.primary.cancel_wait(client)
        unsubscribe_all(client)
        unwatch_all(client)
        self.tracking.disable(client)
        if client.replica is not None:
            self.primary.detach(client)
        if client.blocked is not None:
            self.unblock(client)
        if client.monitor:
            self.monitors.remove(client)

    def flush_pending(self, replication: bool = True) -> None:
        """Write what clients have queued; with replication=False the replicas' share waits for the
        flush scheduled once per event-loop pass (client batches are served in between)."""
        if replication and self.pending_flush_replication:
            self.primary.flush()
        while self.pending_flush:
            client = self.pending_flush.pop()
            if client.conn is not None:
                client.conn.flush()

    def queue_write(self, conn: ClientConnection) -> None:
        """conn has replies to write once this event-loop pass has served its reads."""
        if not self.unsent:
            self.schedule_write()
        self.unsent.append(conn)

    def schedule_write(self) -> None:
        """The first connection of this event-loop pass queued a write: send_unsent writes the
        pass's replies, one after another, once the pass has served its reads, as Redis's
        beforeSleep does. Written between two reads, each reply woke a client that had gone back
        to sleep, and the wake-up across CPUs (an IPI, a VM exit under a hypervisor) cost the
        writer a fifth of the server's CPU at -P16 here (perf), against a twentieth once the
        writes come together."""
        asyncio.get_running_loop().call_soon(send_unsent, self.unsent, self)

    def output_limit_for(self, client: Client) -> OutputBufferLimit | None:
        limits = self.config["client-output-buffer-limit"]
        kind = "pubsub" if client.channels or client.patterns else client.kind
        kind = "slave" if kind == "replica" else kind
        limit = limits.get(kind if kind in limits else "normal")
        return limit if limit and (limit.hard or limit.soft) else None

    def _on_requirepass(self, value: str) -> None:
        self.users.set_requirepass(value)
        if self.users.default_needs_no_password():
            for client in self.clients.values():
                client.authenticate()

    def _set_slowlog_threshold(self, value: int) -> None:
        """A negative slowlog-log-slower-than turns the slowlog off: then no duration reaches it."""
        self.slowlog_threshold_ns = value * 1000 if value >= 0 else 1 << 63

    def _set_latency_tracking(self, value: bool) -> None:
        self.latency_tracking = value

    def record_run(self, cmd: Command, client: Client, requests: list[list[bytes]], nanoseconds: int) -> None:
        """The time of a run of one command's requests, timed as a whole (a squashed read, a run
        of the primary's stream): shared out evenly among them, for the command's stats and the
        slowlog."""
        share = nanoseconds // len(requests)
        cmd.shared_durations += (share, len(requests))
        if share >= self.slowlog_threshold_ns:
            for argv in requests:
                self.slowlog.add(client, argv, share // 1000)

    def count_error(self, error: ReplyError) -> None:
        prefix = error.message.split(" ", 1)[0]
        self.error_counts[prefix] = self.error_counts.get(prefix, 0) + 1

    # -- replication surface -----------------------------------------------------------------
    def role_name(self) -> str:
        return self.role

    def replication_info(self) -> list[tuple[str, object]]:
        primary, config = self.primary, self.config
        fields: list[tuple[str, object]] = [("role", "master" if self.role == "master" else "slave")]
        if self.master_link is not None:
            fields += self.master_link.info_fields()
            fields += [
                ("slave_priority", config["replica-priority"]),
                ("slave_read_only", int(config["replica-read-only"])),
                ("replica_announced", int(config["replica-announced"])),
            ]
        fields.append(("connected_slaves", len(primary.replicas)))
        if config["min-replicas-to-write"] and config["min-replicas-max-lag"]:
            fields.append(("min_slaves_good_slaves", primary.good_replicas()))
        return fields + primary.replica_lines() + primary.backlog_fields()

    def connected_replica_count(self) -> int:
        return len(self.primary.replicas)

    def rdb_replication_info(self) -> tuple[int, str, int] | None:
        """(stream db, replid, offset) for the RDB's repl-* AUX fields, when replication has any."""
        primary = self.primary
        if primary.backlog is None:
            return None
        if primary.held:  # a write in the same read as FLUSHALL's save: the offset must include it
            primary.release_held()
        stream_db = self.master_link.current_db() if self.master_link is not None else max(primary.last_db, 0)
        return (stream_db, primary.replid, primary.offset)

    def on_snapshot_done(self) -> None:
        """A forked snapshot finished: a pending full sync may start now."""
        self.primary.maybe_start_sync()

    def install_snapshot(self, snapshot: Any) -> None:
        self.persistence.install(snapshot)

    def become_replica(self, host: str, port: int) -> None:
        from dragonfly_py.replication.replica import MasterLink

        if self.master_link is not None:
            self.master_link.stop()
        self.role = "slave"
        set_role_letter("S")
        self.keyspace.replica_mode = True
        self.primary.update_feeding()
        self.master_link = MasterLink(self, host, port)
        self.master_link.start()
        self.update_restrictions()

    def become_primary(self) -> None:
        """REPLICAOF NO ONE: keep the data, start a new history that remembers the old one."""
        if self.master_link is None:
            return
        self.master_link.stop()
        self.master_link = None
        self.role = "master"
        set_role_letter("M")
        self.keyspace.replica_mode = False
        primary = self.primary
        primary.replid2, primary.second_offset = primary.replid, primary.offset + 1
        primary.replid = secrets.token_hex(20)
        primary.last_db = -1
        primary.create_backlog()
        primary.disconnect_replicas()
        self.update_restrictions()
        self.log.info("MASTER MODE enabled (user request from the replica's REPLICAOF NO ONE)")

    def unblock_with_reply(self, client: Client, reply: Any) -> None:
        self._answer_unblocked(client, reply)

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT."""
        self.stats = Stats()
        self._samples.clear()  # rates start over with the counters
        self.keyspace.hits = self.keyspace.misses = 0
        self.error_counts.clear()
        self.slowlog.entries.clear()
        for entry in self.command_entries():
            entry.calls = entry.nanoseconds = entry.rejected_calls = entry.failed_calls = 0
            entry.latency = None
            entry.durations.clear()
            entry.shared_durations.clear()

    def role_reply(self) -> list[object]:
        primary = self.primary
        if self.master_link is not None:
            link = self.master_link
            offset = primary.offset if link.state == "connected" else -1
            return [b"slave", link.host.encode(), link.port, link.state.encode(), offset]
        replicas = [
            [r.ip.encode(), b"%d" % r.listening_port, b"%d" % r.ack_offset]
            for r in primary.replicas
            if r.state == "online"
        ]
        return [b"master", primary.offset, replicas]

    # -- command checks ----------------------------------------------------------------------
    def reject_reason(self, client: Client, cmd: Command, argv: list[bytes]) -> ReplyError | None:
        """Why a command may not run now (Redis's processCommand order), or None."""
        if client.channels or client.patterns:
            error = client.pubsub_context_error(argv)
            if error is not None:
                return error
        if not self.restricted:
            return None
        if self.loading and not cmd.allowed_when_loading:
            return errors.LOADING
        link = self.master_link
        if (
            link is not None
            and not link.link_up
            and not self.config["replica-serve-stale-data"]
            and not cmd.allowed_when_stale
            and client.kind != "master"
        ):
            return errors.MASTERDOWN
        if not cmd.write or client.kind == "master":
            return errors.MISCONF if cmd.name == "ping" and self.persistence.writes_refused() else None
        if link is not None and self.config["replica-read-only"]:
            return errors.READONLY
        if link is None and self.persistence.writes_refused():
            return errors.MISCONF
        if self.writes_paused:
            return errors.SHUTDOWN_IN_PROGRESS
        minimum = self.config["min-replicas-to-write"]
        if link is None and minimum and self.config["min-replicas-max-lag"] and self.primary.good_replicas() < minimum:
            return errors.NOREPLICAS
        return None

    def update_restrictions(self) -> None:
        """Recompute whether commands need the slow checks of reject_reason."""
        self.state_epoch += 1
        self.restricted = (
            self.loading
            or self.persistence.writes_refused()
            or self.master_link is not None
            or self.writes_paused
            or self.pause is not None
            or bool(self.config["min-replicas-to-write"])
        )

    def pause_clients(self, seconds: float, writes_only: bool) -> None:
        """CLIENT PAUSE: hold the commands of every client but replicas (or only those that may
        write) until the end; as Redis, a second pause can only extend it, and ALL beats WRITE."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        if self.pause is not None:
            end, writes_only = max(end, self.pause.end), writes_only and self.pause.writes_only
            self.pause.timer.cancel()
        self.pause = ClientPause(end, writes_only, loop.call_at(end, self.unpause_clients))
        self.update_restrictions()

    def unpause_clients(self) -> None:
        """CLIENT UNPAUSE, or the pause's end: the held clients go on, in the order they were held."""
        if self.pause is None:
            return
        self.pause.timer.cancel()
        self.pause = None
        self.update_restrictions()
        held, self.held_by_pause = self.held_by_pause, []
        for conn in held:
            conn.resume()

    # -- monitors and pub/sub ----------------------------------------------------------------
    def feed_monitors(self, client: Client, argv: list[bytes]) -> None:
        args = " ".join('"' + _repr_arg(a) + '"' for a in argv)
        line = f"{time.time():.6f} [{client.db.index} {client.addr}] {args}"
        for monitor in self.monitors:
            monitor.send(line)

    def publish(self, channel: bytes, message: bytes) -> int:
        from dragonfly_py.storage.glob import glob_match

        receivers = 0
        for client in self.channels.get(channel, ()):
            client.send(Push([b"message", channel, message]))
            receivers += 1
        for pattern, clients in self.patterns.items():
            if glob_match(pattern, channel):
                for client in clients:
                    client.send(Push([b"pmessage", pattern, channel, message]))
                    receivers += 1
        self.stats.pubsub_messages += 1
        return receivers

    # -- blocking operations -----------------------------------------------------------------
    def block(
        self, client: Client, keys: list[bytes], timeout: float, retry: Callable[[], Any], on_timeout: Any
    ) -> None:
        state = BlockState([(client.db.index, k) for k in keys], retry, on_timeout)
        for entry in state.keys:
            self.waiters.setdefault(entry, deque()).append(client)
        if timeout > 0:
            loop = asyncio.get_running_loop()
            state.timer = loop.call_later(timeout, self._block_timed_out, client)
        client.blocked = state

    def unblock(self, client: Client) -> None:
        state = client.blocked
        if state is None:
            return
        client.blocked = None
        if state.timer is not None:
            state.timer.cancel()
        for entry in state.keys:
            queue = self.waiters.get(entry)
            if queue is not None:
                with contextlib.suppress(ValueError):
                    queue.remove(client)
                if not queue:
                    del self.waiters[entry]

    def _block_timed_out(self, client: Client) -> None:
        state = client.blocked
        if state is None:
            return
        self.unblock(client)
        self._answer_unblocked(client, state.on_timeout)

    def _answer_unblocked(self, client: Client, reply: Any) -> None:
        client.send(reply)
        if client.conn is not None:
            asyncio.get_running_loop().call_soon(client.conn.resume)
        self.flush_pending()

    def unblock_with(self, client: Client, reply: Any) -> None:
        """CLIENT UNBLOCK and friends: answer a blocked client now."""
        self.unblock(client)
        self._answer_unblocked(client, reply)

    def serve_blocked_clients(self) -> None:
        """Keys that blocked clients wait on were written: serve them in FIFO order."""
        while self.ready_keys:
            entry = self.ready_keys.pop(0)
            queue = self.waiters.get(entry)
            while queue:
                client = queue[0]
                previous_db = client.db
                reply = self._retry_blocked(client)
                client.db = previous_db
                if reply is None:
                    break
                self.unblock(client)
                self._answer_unblocked(client, reply)
                queue = self.waiters.get(entry)

    def _retry_blocked(self, client: Client) -> Any:
        """Serve a blocked client; what it pops goes to replicas as the non-blocking form."""
        state = client.blocked
        primary = self.primary
        if not primary.feeding or state.argv is None:
            return state.retry()
        command = client.commands[state.argv[0].lower()]
        dirty = primary.before_call(command)
        reply = state.retry()
        primary.after_call(client, command, state.argv, reply, self.keyspace.dirty != dirty)
        return reply

    # -- keyspace events ---------------------------------------------------------------------
    def _on_expired(self, db: Database, key: bytes) -> None:
        self.stats.expired_keys += 1
        if self.primary.feeding:
            self.primary.add_effect(db.index, [b"DEL", key])

    # -- periodic work -----------------------------------------------------------------------
    def cron(self) -> None:
        self.keyspace.active_expire_cycle()
        self.persistence.cron()
        self.primary.cron()
        stats, now = self.stats, time.monotonic()
        # commands_processed() folds the calls' durations (the latency histograms too).
        self._samples.append((now, self.commands_processed(), stats.net_input_bytes, stats.net_output_bytes))
        if not self._cron_ticks % max(1, self.config["hz"]):
            self._sample_client_buffers()
        self._cron_ticks += 1
        timeout = self.config["timeout"]
        if timeout:
            now = self.clock()
            for client in list(self.clients.values()):
                idle = now - client.last_interaction_ns / 1e9
                if idle > timeout and client.kind == "normal" and client.blocked is None and not client.channels:
                    self.log.debug("Closing idle client", client=client.addr)
                    client.conn.close()

    def command_entries(self) -> Iterator[Command]:
        """Every command and subcommand of the table (their stats live on them)."""
        for cmd in self.commands.values():
            yield cmd
            yield from cmd.subcommands.values()

    def _sample_client_buffers(self) -> None:
        """Once a second: the largest query and output buffer of any client (Redis keeps 8 s of
        peaks for client_recent_max_input_buffer / client_recent_max_output_buffer)."""
        connections = [c.conn for c in self.clients.values() if c.conn is not None]
        largest_input = max((conn.parser.buffered for conn in connections), default=0)
        largest_output = max((conn.output_size() for conn in connections), default=0)
        self.recent_buffer_peaks.append((largest_input, largest_output))

    def commands_processed(self) -> int:
        """Counted per command in the table, so the hot path keeps no counter of its own."""
        self.fold_durations()
        return sum(entry.calls for entry in self.command_entries())

    def fold_durations(self) -> None:
        """Count the durations calls appended into the commands' calls and time, and into their
        latency histograms while latency tracking is on (latency.fold)."""
        tracking = self.latency_tracking
        for entry in self.command_entries():
            durations, shared = entry.durations, entry.shared_durations
            if durations or shared:
                counts = shared[1::2]
                entry.calls += len(durations) + sum(counts)
                entry.nanoseconds += sum(durations) + sum(map(mul, shared[::2], counts))
                if not tracking:
                    durations.clear()
                    shared.clear()
                    continue
                if entry.latency is None:
                    entry.latency = new_histogram()
                fold(entry.latency, durations, shared)

    def instantaneous_rates(self) -> tuple[int, float, float]:
        """Commands per second and input / output KB per second over the last samples (~1.6 s at
        hz 10, as Redis's)."""
        if len(self._samples) < 2:
            return 0, 0.0, 0.0
        (t0, ops0, in0, out0), (t1, ops1, in1, out1) = self._samples[0], self._samples[-1]
        if t1 <= t0:
            return 0, 0.0, 0.0
        seconds = t1 - t0
        return int((ops1 - ops0) / seconds), (in1 - in0) / seconds / 1024, (out1 - out0) / seconds / 1024

    async def _cron_loop(self) -> None:
        while True:
            hz = max(1, self.config["hz"])
            await asyncio.sleep(1 / hz)
            self.cron()
            self.flush_pending()

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.shutdown_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        port = self.config["port"]
        if port:
            for address in self.config["bind"]:
                optional = address.startswith("-")
                host = address.lstrip("-")
                host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
                try:
                    listener = await loop.create_server(
                        lambda: ClientConnection(self),
                        host,
                        port,
                        reuse_address=True,
                        backlog=self.config["tcp-backlog"],
                    )
                except OSError as exc:
                    if optional:
                        continue
                    raise OSError(
                        f"Could not create server TCP listening socket {host}:{port}: {exc.strerror}"
                    ) from exc
                self.listeners.append(listener)
        self._cron_task = loop.create_task(self._cron_loop())

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: int) -> None:
        name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
        self.log.info(f"Received {name} scheduling shutdown...")
        mode = self.config["shutdown-on-sigterm" if sig == signal.SIGTERM else "shutdown-on-sigint"]
        save = {"save": True, "nosave": False}.get(mode)
        self.request_shutdown(ShutdownRequest(save=save, now=mode == "now", force=mode == "force"))

    def request_shutdown(self, request: ShutdownRequest | None = None) -> None:
        self.shutdown_request = request or ShutdownRequest(save=False)
        if self.shutdown_event is not None:
            self.shutdown_event.set()

    async def prepare_shutdown(self) -> bool:
        """Final save (Redis's prepareForShutdown); False when the shutdown must be abandoned."""
        request = self.shutdown_request
        if self.primary.replicas and not request.now and self.role == "master":
            await self._wait_for_replicas()
        self.persistence.kill_child()
        save = request.save if request.save is not None else bool(self.config["save"])
        if save:
            self.log.info("Saving the final RDB snapshot before exiting.")
            if not self.persistence.save() and not request.force:
                self.log.warning("Error trying to save the DB, can't exit.")
                if request.client is not None and request.client.conn is not None:
                    request.client.send(ReplyError("ERR Errors trying to SHUTDOWN. Check logs."))
                    self.flush_pending()
                return False
        return True

    async def _wait_for_replicas(self) -> None:
        """Graceful shutdown: no more writes; wait until every replica acknowledged the last offset."""
        self.writes_paused = True
        self.update_restrictions()
        primary = self.primary
        target = primary.offset
        self.log.info(f"Waiting for replicas before shutting down (offset {target}).")
        deadline = time.monotonic() + self.config["shutdown-timeout"]
        primary.request_acks()
        self.flush_pending()
        while time.monotonic() < deadline:
            for _ in range(10):
                if all(r.ack_offset >= target for r in primary.replicas):
                    self.log.info("Lagging replica acknowledged the final offset; shutting down.")
                    return
                await asyncio.sleep(0.01)
            primary.request_acks()
            self.flush_pending()
        self.log.warning("Lagging replicas did not acknowledge the final offset in time.")

    async def serve_forever(self) -> int:
        await self.start()
        self.install_signal_handlers()
        if not await self.persistence.load_at_startup():
            await self.stop()
            return 1
        replicaof = self.config["replicaof"]
        stream_db = self.primary.restore_history(self.persistence.loaded_aux, as_replica=bool(replicaof))
        if replicaof:
            self.become_replica(*replicaof)
            self.master_link.stream_db = stream_db or 0
        self.log.info("Ready to accept connections", port=self.config["port"], pid=os.getpid(), run_id=self.run_id)
        assert self.shutdown_event is not None
        while True:
            await self.shutdown_event.wait()
            self.shutdown_event.clear()
            if await self.prepare_shutdown():
                break
        await self.stop()
        return self.exit_code

    async def stop(self) -> None:
        self.log.info("User requested shutdown...")
        for listener in self.listeners:
            listener.close()
        self._cron_task.cancel()
        for client in list(self.clients.values()):
            if client.conn is not None:
                client.conn.close()
        self.flush_pending()
        self.log.info("Redis is now ready to exit, bye bye...")


def _repr_arg(arg: bytes) -> str:
    out = []
    for byte in arg:
        ch = chr(byte)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)
