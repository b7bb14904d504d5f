"""One asyncio.Protocol per client connection: bytes in, replies out, one write per event-loop pass."""

from __future__ import annotations

import asyncio
import socket
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from dragonfly_py.commands.registry import COMMANDS, DIRECT_COMMANDS, DIRECT_READS, Command
from dragonfly_py.protocol.parser import RequestParser
from dragonfly_py.protocol.resp import BULK_HEADERS, INT_REPLIES, Raw, ReplyError, encode, encode_alike
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import BLOCKED, PAUSED, _NoReply

if TYPE_CHECKING:
    from dragonfly_py.server.server import Server


NO_DIRECT_COMMANDS: dict[bytes, Command] = {}


def send_unsent(conns: list[ClientConnection], server: Server) -> None:
    """One write per connection of what this event-loop pass queued for it (Server.schedule_write),
    counted in the stats once for them all; then the output buffer limit, on what the socket did
    not take. Empties conns, Server.unsent itself, which the loop calls this with: a method call
    per pass, or per connection, costs about as much at -P1 as this loop's body, which costs about
    as much as the write it makes."""
    writes = sent = 0
    try:
        for conn in conns:  # also those a write's closed connection queued (a list's loop takes them)
            unsent = conn.unsent
            if not unsent or conn.closed:
                continue
            payload = b"".join(unsent)  # the one reply itself where there is one (no copy)
            unsent.clear()
            conn.transport.write(payload)
            writes += 1
            sent += len(payload)
            if conn.backlogged:
                conn.check_output_limit()
    finally:  # whatever a write raised, the next pass's first write must schedule this again
        conns.clear()
        stats = server.stats  # as of now: CONFIG RESETSTAT in this pass counts its own reply anew
        stats.writes_processed += writes
        stats.net_output_bytes += sent


def _format_addr(sockname: Any) -> str:
    if not sockname:
        return "?:0"
    host, port = sockname[0], sockname[1]
    return f"{host}:{port}"


class ClientConnection(asyncio.Protocol):
    """Feeds the parser, runs complete requests in order, writes the joined replies."""

    def __init__(self, server: Server) -> None:
        self.server = server
        # Both are set by connection_made, which asyncio calls before anything else.
        self.transport: asyncio.Transport
        self.client: Client
        self.parser = RequestParser(
            max_bulk_len=server.config["proto-max-bulk-len"],
            max_query_buffer=server.config["client-query-buffer-limit"],
        )
        self.pending: list[list[bytes]] = []  # requests waiting behind a blocked one
        self.unsent: list[bytes] = []  # replies of this event-loop pass (send_unsent)
        self.closed = False
        self._soft_limit_since: float | None = None
        # Output the socket has not taken yet: the transport says so (pause_writing at a high-water
        # mark of 0), which spares a question per write.
        self.backlogged = False
        self._direct = NO_DIRECT_COMMANDS  # direct_commands() as of server.state_epoch ...
        self._direct_epoch = -1  # ... this one
        self._lane_epoch = -1  # server.state_epoch up to which data_received may serve a read itself
        self._lone_commands = DIRECT_COMMANDS  # what a read of one request may run (no write while feeding)

    # -- asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.set_write_buffer_limits(high=0)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = self.server
        client = Client(
            server,
            self,
            _format_addr(transport.get_extra_info("peername")),
            _format_addr(transport.get_extra_info("sockname")),
            server.next_client_id(),
        )
        self.client = client
        self.parser.strict = not client.authenticated
        if len(server.clients) >= server.config["maxclients"]:
            transport.write(b"-ERR max number of clients reached\r\n")
            server.stats.rejected_connections += 1
            self._close()
            return
        server.add_client(client)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.unsent.clear()
        self.server.remove_client(self.client)

    def pause_writing(self) -> None:
        self.backlogged = True

    def resume_writing(self) -> None:
        self.backlogged = False
        self._soft_limit_since = None  # everything was written: a soft limit starts over

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        server = self.server
        keyspace = server.keyspace
        keyspace.cached_now = None  # the commands of this read see a time of their own
        stats = server.stats
        stats.reads_processed += 1
        stats.net_input_bytes += len(data)
        parser = self.parser
        requests = parser.feed(data)
        if self._lane_epoch != server.state_epoch or parser.error is not None or not requests:
            self.serve_read(data, requests)
            return
        argv = requests[0]
        if len(requests) > 1:
            cmd = DIRECT_COMMANDS.get(argv[0])
            if cmd is None or not self.run_many(cmd, requests, data):
                self.serve_read(data, requests)
            return
        cmd = self._lone_commands.get(argv[0])
        if cmd is None or (len(argv) != cmd.arity and not -len(argv) <= cmd.arity < 0):
            self.serve_read(data, requests)
            return
        # One request of a direct command while nothing needs run()'s care: no blocked or
        # pending requests, and no write while replicas are fed (see direct_commands); a read's
        # expired keys feed their DELs themselves (Primary.add_effect). It is the commonest read
        # at pipeline depth 1, so this is run() and flush() for it, inline (write() too): as a
        # method of its own it cost ~550 instructions more per request, of ~23k.
        client = self.client
        server.current_client = client
        keyspace.counting_lookups = cmd.reads_keys
        mark = perf_counter_ns()
        try:
            reply = cmd.handler(client, argv)  # type: ignore[misc]
        except Exception as exc:
            reply = client.failed_call(cmd, exc)
        end = perf_counter_ns()
        keyspace.counting_lookups = False
        elapsed = end - mark
        cmd.durations.append(elapsed)
        if elapsed >= server.slowlog_threshold_ns:
            server.slowlog.add(client, argv, elapsed // 1000)
        if keyspace.ready_keys:
            server.serve_blocked_clients()
        client.last_command = cmd.full_name
        client.last_interaction_ns = end
        # run()'s formatting of the commonest replies, copied: a shared function would cost
        # about 500 instructions per request, in both places.
        cls = reply.__class__
        if cls is Raw:
            wire = reply
        elif cls is bytes and len(reply) < 1024:
            wire = BULK_HEADERS[len(reply)] + reply + b"\r\n"
        elif cls is int:
            wire = INT_REPLIES[reply + 1] if -1 <= reply < 1023 else b":%d\r\n" % reply
        elif reply is None:  # a miss
            wire = b"_\r\n" if client.resp3 else b"$-1\r\n"
        else:
            if cls is ReplyError:
                server.count_error(reply)
            wire = encode(reply, client.resp3)
        unsent = self.unsent
        if not unsent and not self.backlogged:
            # Written at once: at -P1 a pass of the loop serves ~1.5 reads (50 clients), so the
            # write deferred to its end (send_unsent) paid a pass's call for little, and each
            # reply wakes its client anyway: 2-3.5% less server CPU per -P1 request here.
            self.transport.write(wire)
            stats.writes_processed += 1
            stats.net_output_bytes += len(wire)
            if self.backlogged:  # the socket did not take it all
                self.check_output_limit()
        else:
            if not unsent:  # server.queue_write, inline
                if not server.unsent:
                    server.schedule_write()
                server.unsent.append(self)
            unsent.append(wire)
        if server.pending_flush:
            server.flush_pending(replication=False)

    def serve_read(self, data: bytes, requests: list[list[bytes]]) -> None:
        """A read in general: any number of requests, a protocol error, replicas to feed."""
        client = self.client
        server = self.server
        if requests:
            if client.blocked is not None or self.pending:
                self.pending.extend(requests)
            elif server.primary.feeding and len(requests) > 1:  # one request: nothing to gain
                primary = server.primary
                primary.begin_batch(client, requests, data, self.parser)
                self.run(requests)
                primary.end_batch()
            else:
                self.run(requests)
        if self.parser.error is not None:
            self._protocol_error(self.parser.error)
        output = client.output
        if output and not client.close_after_reply and not self.closed:  # flush(), inline: every
            self.write(output[0] if len(output) == 1 else b"".join(output))  # read runs this
            output.clear()
        elif output or client.close_after_reply:  # closing, or closed during the read
            self.flush()
        if server.pending_flush:  # replies and pushes the read queued for other clients
            server.flush_pending(replication=False)

    def run_many(self, cmd: Command, requests: list[list[bytes]], data: bytes) -> bool:
        """A read (data) of one direct command many times (a homogeneous pipeline, as Dragonfly
        squashes them) while nothing waits before it: one call of cmd.many where it has one and
        can, else its handler on each request without run()'s bookkeeping per call; False,
        having run nothing, when the names differ or a request has the wrong arity. The time is
        shared out evenly among the requests (Server.record_run). While
        replicas are fed, the writes go to them as run() sends them: the read itself where it
        holds nothing else."""
        name = requests[0][0]
        for argv in requests:  # a loop of compares costs two thirds of a set of the names
            if argv[0] != name:
                return False
        client = self.client
        server = self.server
        server.current_client = client
        feeding = server.primary.feeding
        mark = perf_counter_ns()
        many = cmd.many
        keyspace = server.keyspace
        if cmd.write and (keyspace.observed() or (feeding and cmd.rewrite is not None)):
            # Each change may have someone to tell, which the handler's own path does; or it goes
            # to replicas rewritten (SPOP as SREM), which only call_each's propagation does.
            many = None
        dirty = keyspace.dirty
        wire = many(client, requests) if many is not None else None
        if wire is None:
            lengths = set(map(len, requests))
            arity = cmd.arity
            if lengths != {arity} and (arity > 0 or min(lengths) < -arity):
                return False
            wire = self.call_each(cmd, requests, data if feeding else None)
        elif feeding and cmd.write and keyspace.dirty != dirty:  # each request changed a key
            server.primary.feed_read(client, requests, data, self.parser)
        end = perf_counter_ns()
        server.record_run(cmd, client, requests, end - mark)
        client.last_command = cmd.full_name
        client.last_interaction_ns = end
        self.write(wire)
        if server.pending_flush:
            server.flush_pending(replication=False)
        return True

    def call_each(self, cmd: Command, requests: list[list[bytes]], fed: bytes | None) -> bytes:
        """cmd's handler on each request, as run() calls a direct command; the replies in wire
        form, formatted at once where they are alike (encode_alike). fed: the read, while
        replicas are fed; each call is then propagated as run() does, in a batch (begin_batch)."""
        client = self.client
        server = self.server
        keyspace = server.keyspace
        handler = cmd.handler
        reads_keys = cmd.reads_keys
        replies: list[Any] = []
        append = replies.append
        primary = server.primary
        if fed is not None:
            primary.begin_batch(client, requests, fed, self.parser)
        keyspace.counting_lookups = reads_keys
        for argv in requests:
            if fed is not None:
                dirty = primary.before_call(cmd)
            try:
                reply = handler(client, argv)  # type: ignore[misc]
            except Exception as exc:
                reply = client.failed_call(cmd, exc)
            append(reply)
            if fed is not None:
                keyspace.counting_lookups = False  # a rewrite's lookups are no hits
                primary.after_call(client, cmd, argv, reply, keyspace.dirty != dirty)
                keyspace.counting_lookups = reads_keys
            if keyspace.ready_keys:  # served between two requests, as run() does
                server.serve_blocked_clients()
                server.current_client = client
                keyspace.counting_lookups = reads_keys
        keyspace.counting_lookups = False
        if fed is not None:
            primary.end_batch()
        wire = encode_alike(replies, client.resp3)
        if wire is not None:
            return wire
        for reply in replies:
            if reply.__class__ is ReplyError:
                server.count_error(reply)
        return b"".join([encode(reply, client.resp3) for reply in replies])

    def fileno(self) -> int:
        sock = self.transport.get_extra_info("socket")
        return sock.fileno() if sock is not None else -1

    def output_size(self) -> int:
        if self.closed:
            return 0
        return sum(map(len, self.unsent)) + self.transport.get_write_buffer_size()

    # -- request loop ------------------------------------------------------------------------
    def run(self, requests: list[list[bytes]]) -> None:
        """Execute requests in order until one blocks; the rest wait in ``pending``."""
        client = self.client
        server = self.server
        append = client.output.append
        keyspace = server.keyspace
        primary = server.primary
        slowlog_ns = server.slowlog_threshold_ns
        server.current_client = client
        direct = self._direct if self._direct_epoch == server.state_epoch else self.direct_commands()
        feeding = primary.feeding
        last: Command | None = None
        # Inside the batch a command's clock starts where the previous one stopped; only the
        # cheap replies formatted inline fall between the two, a costly encode restarts it.
        mark = perf_counter_ns()
        for index, argv in enumerate(requests):
            cmd = direct.get(argv[0])
            if cmd is not None and (len(argv) == cmd.arity or -len(argv) <= cmd.arity < 0):
                # Client.execute and Client.call, less what cannot apply (see direct_commands).
                if feeding:
                    dirty = primary.before_call(cmd)
                keyspace.counting_lookups = cmd.reads_keys
                try:
                    reply = cmd.handler(client, argv)  # type: ignore[misc]
                except Exception as exc:
                    reply = client.failed_call(cmd, exc)
                keyspace.counting_lookups = False
                end = perf_counter_ns()
                elapsed = end - mark
                mark = end
                if feeding:
                    primary.after_call(client, cmd, argv, reply, keyspace.dirty != dirty)
                cmd.durations.append(elapsed)
                if elapsed >= slowlog_ns:
                    server.slowlog.add(client, argv, elapsed // 1000)
                if keyspace.ready_keys:
                    server.serve_blocked_clients()
                last = cmd
            else:
                if last is not None:
                    client.last_command = last.full_name
                    last = None
                if client.invalidated:  # behind the reply of the command before
                    server.tracking.send_invalidated(client)
                client.clock_mark = mark
                reply = client.execute(argv)
                mark = client.clock_mark or perf_counter_ns()
                client.clock_mark = 0
                direct = self.direct_commands()
                feeding = primary.feeding
            cls = reply.__class__
            # The commonest replies are formatted here, without a call into encode().
            if cls is Raw:
                wire = reply
            elif cls is bytes and len(reply) < 1024:
                wire = BULK_HEADERS[len(reply)] + reply + b"\r\n"
            elif cls is int:
                wire = INT_REPLIES[reply + 1] if -1 <= reply < 1023 else b":%d\r\n" % reply
            elif reply is None:  # a miss
                wire = b"_\r\n" if client.resp3 else b"$-1\r\n"
            elif cls is _NoReply:
                self._lane_epoch = -1  # pending requests go first
                if reply is BLOCKED:
                    self.pending = requests[index + 1 :]
                    break
                if reply is PAUSED:
                    self.pending = requests[index:]
                    server.held_by_pause.append(self)
                    break
                continue
            else:
                if cls is ReplyError:
                    server.count_error(reply)
                wire = encode(reply, client.resp3)
                mark = perf_counter_ns()
            if direct:  # replies on, nothing to close: as a direct command left them
                append(wire)
                continue
            if client.reply_mode != "on":
                if client.reply_mode == "skip":
                    client.reply_mode = "on"
                continue
            append(wire)
            if client.close_after_reply:
                break
        if last is not None:
            client.last_command = last.full_name
        if client.invalidated:
            server.tracking.send_invalidated(client)
        client.last_interaction_ns = mark

    def direct_commands(self) -> dict[bytes, Command]:
        """The commands run() may call without Client.execute's checks, or none when the state
        of the client or server needs them: the checks only matter once something changed it,
        and no direct command changes any of it (kept until server.state_epoch moves on).
        A read of one direct command, or of one such command many times, may skip run() too
        (data_received, run_many) while nothing waits before it. While replicas are fed,
        data_received runs no write of its own, whose effect only run() propagates, and run_many
        feeds the writes itself (Primary.update_feeding moves the epoch on)."""
        client, server = self.client, self.server
        self._direct_epoch = server.state_epoch
        if (
            client.authenticated
            and client.multi is None
            and client.tracking is None
            and not client.channels
            and not client.patterns
            and client.reply_mode == "on"
            and not client.close_after_reply
            and not server.restricted
            and not server.monitors
            and client.commands is COMMANDS
        ):
            self._direct = DIRECT_COMMANDS
            if client.blocked is None and not self.pending:
                self._lane_epoch = server.state_epoch
                self._lone_commands = DIRECT_READS if server.primary.feeding else DIRECT_COMMANDS
        else:
            self._direct = NO_DIRECT_COMMANDS
        return self._direct

    def resume(self) -> None:
        """Continue with requests that queued up while the client was blocked."""
        if self.closed or self.client.blocked is not None:
            return
        requests, self.pending = self.pending, []
        if requests:
            self.run(requests)
        self.flush()
        self.server.flush_pending(replication=False)

    def flush(self) -> None:
        """Queue everything the client has for the socket (send_unsent writes it); close after it
        where the client is to close."""
        client = self.client
        output = client.output
        if output:
            if not self.closed:
                self.write(b"".join(output) if len(output) > 1 else output[0])
            output.clear()
        if client.close_after_reply:
            self._close()

    def write(self, payload: bytes) -> None:
        """Queue payload for the socket: the replies of the connections served in this event-loop
        pass are written after the pass's reads (send_unsent; data_received has this inline)."""
        if not self.unsent:
            self.server.queue_write(self)
        self.unsent.append(payload)

    def check_output_limit(self) -> None:
        client = self.client
        limit = self.server.output_limit_for(client)
        if limit is None:
            return
        size = self.transport.get_write_buffer_size()
        now = self.server.clock()
        over_hard = limit.hard and size > limit.hard
        over_soft = limit.soft and size > limit.soft
        if over_soft and not over_hard:
            if self._soft_limit_since is None:
                self._soft_limit_since = now
            over_hard = now - self._soft_limit_since > limit.soft_seconds
        elif not over_soft:
            self._soft_limit_since = None
        if over_hard:
            self.server.log.warning(
                "Client scheduled to be closed ASAP for overcoming of output buffer limits.",
                client=client.info_line(),
            )
            self.server.stats.client_output_buffer_limit_disconnections += 1
            self._close(abort=True)

    def _protocol_error(self, message: str) -> None:
        client = self.client
        if message == "query buffer limit":
            self.server.log.warning("Closing client that reached max query buffer length", client=client.info_line())
        else:
            self.server.log.info(f"{message}, closing client", client=client.addr)
            client.output.append(encode(ReplyError(f"ERR {message}")))
        client.close_after_reply = True
        self.server.pending_flush.add(client)

    def _close(self, abort: bool = False) -> None:
        """Stop serving this client at once; abort drops output a stuck reader never takes."""
        if not self.closed:
            if not abort:
                send_unsent([self], self.server)  # a QUIT's +OK, a protocol error's text
            self.closed = True
            self.unsent.clear()
            self.server.remove_client(self.client)
            if abort:
                self.transport.abort()
            else:
                self.transport.close()

    def close(self) -> None:
        """Close after what is queued has been written (CLIENT KILL, QUIT, shutdown)."""
        self.flush()
        self._close()
