"""Outbound links to monitored instances and peer sentinels.

Sentinel needs what real Sentinel gets from hiredis's async API: commands pipelined on a
non-blocking socket, replies matched to callbacks in order, the number of outstanding
commands, error replies with their full text (``-LOADING``, ``-MASTERDOWN`` are "alive"),
and a pub/sub connection that closes on an error reply to SUBSCRIBE.  redis-py's client
strips error prefixes and owns the reply loop, so this is a small asyncio Protocol over
hiredis.Reader instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis

from dragonfly_py.protocol.resp import encode_command

ReplyCallback = Callable[[Any], None]
CONNECT_TIMEOUT = 5.0


class ErrorReply(Exception):
    """An error reply, with its full text (``LOADING Redis is loading ...``)."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class Connection(asyncio.Protocol):
    """One RESP2 connection; with ``on_message`` it is a pub/sub connection."""

    def __init__(self, on_close: Callable[[Connection], None], on_message: ReplyCallback | None = None) -> None:
        self.reader = hiredis.Reader(replyError=ErrorReply, encoding="utf-8", errors="replace")
        self.callbacks: deque[ReplyCallback | None] = deque()
        self.transport: asyncio.Transport | None = None
        self.unsent: list[bytes] = []
        self.closed = False
        self.on_close = on_close
        self.on_message = on_message
        self.local_ip = ""

    @classmethod
    def open(
        cls, host: str, port: int, on_close: Callable[[Connection], None], on_message: ReplyCallback | None = None
    ) -> Connection:
        """Start a non-blocking connect; commands sent meanwhile are written once it succeeds."""
        conn = cls(on_close, on_message)
        asyncio.get_running_loop().create_task(conn._connect(host, port))
        return conn

    async def _connect(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.create_connection(lambda: self, host, port), CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            self._lost()

    @property
    def pending(self) -> int:
        return len(self.callbacks)

    def send(self, *args: str | bytes | int, callback: ReplyCallback | None = None) -> bool:
        if self.closed:
            return False
        data = encode_command(args)
        if self.on_message is None:
            self.callbacks.append(callback)
        if self.transport is None:
            self.unsent.append(data)
        else:
            self.transport.write(data)
        return True

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self._lost()

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if self.closed:
            transport.close()
            return
        self.transport = transport
        sockname = transport.get_extra_info("sockname")
        self.local_ip = sockname[0] if sockname else ""
        if self.unsent:
            transport.write(b"".join(self.unsent))
            self.unsent.clear()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while not self.closed:
            try:
                reply = self.reader.gets()
            except hiredis.ProtocolError:
                self.close()
                return
            if reply is False:
                return
            if self.on_message is not None:
                if isinstance(reply, ErrorReply):  # hiredis drops a pub/sub link on an error reply
                    self.close()
                    return
                self.on_message(reply)
            elif self.callbacks:
                callback = self.callbacks.popleft()
                if callback is not None:
                    callback(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost()

    def _lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.unsent.clear()
        self.callbacks.clear()
        with contextlib.suppress(Exception):
            self.on_close(self)
