"""Per-client state and the command execution path (Redis's processCommand + call)."""

from __future__ import annotations

import time
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from dragonfly_py import errors
from dragonfly_py.commands.registry import (
    MULTI_CONTROL,
    PUBSUB_CONTEXT_ALLOWED,
    Command,
    resolve,
)
from dragonfly_py.protocol.resp import QUEUED, ReplyError, encode
from dragonfly_py.server.markers import BLOCKED, PAUSED

if TYPE_CHECKING:
    from dragonfly_py.server.server import Server
    from dragonfly_py.server.tracking import TrackingState
    from dragonfly_py.storage.keyspace import Database


class Client:
    __slots__ = (
        "id",
        "server",
        "conn",
        "db",
        "resp3",
        "name",
        "lib_name",
        "lib_ver",
        "authenticated",
        "user",
        "multi",
        "multi_error",
        "watched",
        "watch_dirty",
        "channels",
        "patterns",
        "reply_mode",
        "created",
        "last_interaction_ns",
        "last_command",
        "kind",
        "blocked",
        "close_after_reply",
        "no_evict",
        "addr",
        "laddr",
        "in_exec",
        "output",
        "monitor",
        "replica",
        "woff",
        "commands",
        "tracking",
        "clock_mark",
        "calling",
        "invalidated",
    )

    def __init__(self, server: Server, conn: Any, addr: str, laddr: str, client_id: int) -> None:
        self.id = client_id
        self.server = server
        self.conn = conn
        self.db: Database = server.keyspace.dbs[0]
        self.resp3 = False
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.authenticated = server.users.default_needs_no_password()
        self.user = "default"
        self.multi: list[tuple[Command, list[bytes]]] | None = None
        self.multi_error = False
        self.watched: set[tuple[int, bytes]] = set()
        self.watch_dirty = False
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.reply_mode = "on"  # on | off | skip
        self.created = time.monotonic()
        # perf_counter_ns(), time.monotonic's clock (CLOCK_MONOTONIC) in ns: the clock that
        # times the commands, so their end stamps the client with no conversion per read.
        self.last_interaction_ns = perf_counter_ns()
        self.last_command = "NULL"
        self.kind = "normal"  # normal | pubsub | master | replica
        self.blocked: Any = None  # the blocking state while blocked
        self.close_after_reply = False
        self.no_evict = False
        self.addr = addr
        self.laddr = laddr
        self.in_exec = False
        self.output: list[bytes] = []  # replies of the current batch, written in one go
        self.monitor = False
        self.replica: Any = None  # AttachedReplica once REPLCONF/PSYNC made this a replica link
        self.woff = 0  # the stream offset after this client's last propagated write (WAIT)
        self.commands = server.commands  # the server's table (sentinel mode has its own)
        self.tracking: TrackingState | None = None  # CLIENT TRACKING on
        # While a batch of pipelined requests runs, the perf_counter_ns() at which the previous
        # one ended: a command's duration starts there, so each command reads the clock once.
        self.clock_mark = 0
        self.calling = 0  # depth of call(): EXEC calls the commands it queued
        # Keys its own command changed that it may cache: told after the reply (send_invalidated)
        self.invalidated: list[list[bytes] | None] = []

    def authenticate(self, user: str | None = None) -> None:
        """Authenticated from now on: the parser drops the limits of unauthenticated clients."""
        self.authenticated = True
        if user is not None:
            self.user = user
        if self.conn is not None:
            self.conn.parser.strict = False

    # -- output ------------------------------------------------------------------------------
    def send(self, reply: Any) -> None:
        """Queue a reply (or push) for this client; the server flushes after the batch."""
        self.output.append(encode(reply, self.resp3))
        self.server.pending_flush.add(self)

    # -- execution ---------------------------------------------------------------------------
    def execute(self, argv: list[bytes]) -> Any:
        """Run one request through every check Redis's processCommand makes."""
        self.server.state_epoch += 1  # it may change what the direct path depends on
        name = argv[0].lower()
        cmd = self.commands.get(name)
        if cmd is not None and cmd.protected_by is not None and len(argv) > 1 and not self._may_run(cmd.protected_by):
            self._flag_transaction()
            cmd.rejected_calls += 1
            return errors.protected_command(cmd.name, cmd.protected_by)
        if cmd is None or cmd.subcommands:
            found = resolve(argv, self.commands)
            if found.__class__ is not Command:
                self._flag_transaction()
                if cmd is not None and len(argv) < 2:  # a container alone: its arity error
                    cmd.rejected_calls += 1
                return found
            cmd = found
        arity = cmd.arity
        if (len(argv) != arity) if arity > 0 else (len(argv) < -arity):
            self._flag_transaction()
            cmd.rejected_calls += 1
            return errors.wrong_arity(cmd.full_name)
        if not self.authenticated and not cmd.no_auth:
            self._flag_transaction()
            return errors.NOAUTH
        if self.server.restricted or self.channels or self.patterns:
            pause = self.server.pause
            if pause is not None and pause.holds(self, cmd):
                return PAUSED
            rejection = self.server.reject_reason(self, cmd, argv)
            if rejection is not None:
                self._flag_transaction()
                cmd.rejected_calls += 1
                return rejection
        if self.multi is not None and name not in MULTI_CONTROL:
            self.multi.append((cmd, argv))
            return QUEUED
        return self.call(cmd, argv)

    def call(self, cmd: Command, argv: list[bytes]) -> Any:
        """Execute a command that passed the checks: stats, slowlog, monitors (Redis's call)."""
        server = self.server
        server.current_client = self
        if server.monitors:
            server.feed_monitors(self, argv)
        self.last_command = cmd.full_name
        primary = server.primary
        feeding = primary.feeding
        if feeding:
            dirty = primary.before_call(cmd)
        start = self.clock_mark or perf_counter_ns()
        keyspace = server.keyspace
        keyspace.counting_lookups = cmd.reads_keys
        self.calling += 1
        try:
            reply = cmd.handler(self, argv)  # type: ignore[misc]
        except Exception as exc:
            reply = self.failed_call(cmd, exc)
        finally:
            self.calling -= 1
        keyspace.counting_lookups = False
        end = perf_counter_ns()
        elapsed = end - start
        if self.clock_mark:
            self.clock_mark = end
        if reply is BLOCKED and hasattr(self.blocked, "argv"):  # a key wait (BlockState), not WAIT
            self.blocked.argv = argv  # propagated in its non-blocking form once served
        if feeding:
            primary.after_call(self, cmd, argv, reply, server.keyspace.dirty != dirty)
        tracking = self.tracking
        if tracking is not None:
            if "readonly" in cmd.flags:
                server.tracking.remember_reads(self, cmd, argv)
            if self.multi is None and not self.in_exec and not cmd.full_name.startswith("client|"):
                tracking.caching = False  # CLIENT CACHING covers the next command (or transaction)
        cmd.durations.append(elapsed)  # counted at the next fold (Server.fold_durations)
        if elapsed >= server.slowlog_threshold_ns:
            server.slowlog.add(self, argv, elapsed // 1000)
        if server.ready_keys:
            server.serve_blocked_clients()
        return reply

    def failed_call(self, cmd: Command, exc: Exception) -> ReplyError:
        """The reply of a handler that raised: its error reply, or, for a bug, an internal error
        (a bug must cost one reply, never the connection or the server)."""
        cmd.failed_calls += 1
        if isinstance(exc, ReplyError):
            return exc
        self.server.log.exception("Command raised", command=cmd.full_name)
        return ReplyError(f"ERR internal error in '{cmd.full_name}': {type(exc).__name__}")

    def _may_run(self, directive: str) -> bool:
        """Whether a protected command may run for this client: its directive is yes, or local
        and the client is on the loopback (Redis's allowProtectedAction)."""
        allowed = self.server.config[directive]
        return allowed == "yes" or (allowed == "local" and self.addr.rsplit(":", 1)[0] in ("127.0.0.1", "::1"))

    def _flag_transaction(self) -> None:
        if self.multi is not None:
            self.multi_error = True

    def in_pubsub_context(self) -> bool:
        return not self.resp3 and bool(self.channels or self.patterns)

    def pubsub_context_error(self, argv: list[bytes]) -> ReplyError | None:
        if self.in_pubsub_context() and argv[0].lower() not in PUBSUB_CONTEXT_ALLOWED:
            name = argv[0].decode("utf-8", "replace")
            return ReplyError(
                f"ERR Can't execute '{name.lower()}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                "are allowed in this context"
            )
        return None

    # -- CLIENT LIST / INFO ------------------------------------------------------------------
    def flags_text(self) -> str:
        flags = ""
        if self.kind == "replica":
            flags += "S"
        if self.kind == "master":
            flags += "M"
        if self.channels or self.patterns:
            flags += "P"
        if self.multi is not None:
            flags += "x"
        if self.blocked is not None:
            flags += "b"
        if self.watch_dirty:
            flags += "d"
        if self.close_after_reply:
            flags += "c"
        if self.no_evict:
            flags += "e"
        if self.monitor:
            flags += "O"
        return flags or "N"

    def info_line(self) -> str:
        now = time.monotonic()
        qbuf = self.conn.parser.buffered if self.conn is not None else 0
        obuf = self.conn.output_size() if self.conn is not None else 0
        cmd = self.last_command if self.last_command == "NULL" else self.last_command.lower()
        return (
            f"id={self.id} addr={self.addr} laddr={self.laddr} fd={self.conn.fileno() if self.conn else -1} "
            f"name={self.name.decode('utf-8', 'replace')} age={int(now - self.created)} "
            f"idle={int(now - self.last_interaction_ns / 1e9)} flags={self.flags_text()} db={self.db.index} "
            f"sub={len(self.channels)} psub={len(self.patterns)} ssub=0 "
            f"multi={len(self.multi) if self.multi is not None else -1} qbuf={qbuf} qbuf-free=0 argv-mem=0 "
            f"multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem={obuf} tot-mem={qbuf + obuf + 1024} events=r "
            f"cmd={cmd} user={self.user} redir=-1 resp={3 if self.resp3 else 2}"
            + (
                f" lib-name={self.lib_name.decode()} lib-ver={self.lib_ver.decode()}"
                if self.lib_name or self.lib_ver
                else ""
            )
        )
