"""Server-assisted client-side caching (CLIENT TRACKING), as Redis 6+ does it.

Default mode remembers, per key name (whatever the db, as Redis), which clients read it; the
first change to the key sends each of them one ``invalidate`` message and forgets them.  BCAST
mode needs no memory of reads: every change to a key under a client's prefixes is announced.
Messages go as RESP3 pushes, or to the REDIRECT client (a push, or a message on
``__redis__:invalidate`` for a RESP2 client subscribed to it).  A flush invalidates everything
with a null key list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dragonfly_py.protocol.resp import Push

if TYPE_CHECKING:
    from dragonfly_py.commands.registry import Command
    from dragonfly_py.server.client import Client
    from dragonfly_py.server.server import Server

INVALIDATE_CHANNEL = b"__redis__:invalidate"


@dataclass
class TrackingState:
    """One client's CLIENT TRACKING settings."""

    redirect: int = 0  # client id, 0 for none
    bcast: bool = False
    prefixes: list[bytes] = field(default_factory=list)
    optin: bool = False
    optout: bool = False
    noloop: bool = False
    caching: bool = False  # CLIENT CACHING yes (OPTIN) / no (OPTOUT) given for the next command
    broken_redirect: bool = False

    def flags(self) -> list[bytes]:
        """CLIENT TRACKINGINFO's flags, in Redis's order."""
        flags = [b"on"]
        flags += [name for name, on in ((b"bcast", self.bcast), (b"optin", self.optin), (b"optout", self.optout)) if on]
        if self.caching:
            flags.append(b"caching-yes" if self.optin else b"caching-no")
        if self.noloop:
            flags.append(b"noloop")
        if self.broken_redirect:
            flags.append(b"broken_redirect")
        return flags


class Tracking:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.readers: dict[bytes, set[int]] = {}  # key -> ids of clients that may cache it
        self.prefixes: dict[bytes, set[int]] = {}  # BCAST prefix -> ids of clients
        self.clients = 0  # tracking_clients of INFO

    # -- CLIENT TRACKING on / off ------------------------------------------------------------
    def enable(self, client: Client, state: TrackingState) -> None:
        if client.tracking is None:
            self.clients += 1
        else:
            self._drop_prefixes(client)
        client.tracking = state
        for prefix in state.prefixes:  # BCAST without PREFIX is the empty prefix: every key
            self.prefixes.setdefault(prefix, set()).add(client.id)
        self.server.keyspace.tracking = self

    def disable(self, client: Client) -> None:
        """Tracking off (also on disconnect and RESET); its keys in the table are dropped lazily."""
        if client.tracking is None:
            return
        self._drop_prefixes(client)
        client.tracking = None
        self.clients -= 1

    def _drop_prefixes(self, client: Client) -> None:
        assert client.tracking is not None
        for prefix in client.tracking.prefixes:
            ids = self.prefixes.get(prefix)
            if ids is not None:
                ids.discard(client.id)
                if not ids:
                    del self.prefixes[prefix]

    # -- reads and writes --------------------------------------------------------------------
    def remember_reads(self, client: Client, cmd: Command, argv: list[bytes]) -> None:
        """After a read-only command of a default-mode tracking client (OPTIN/OPTOUT honoured)."""
        state = client.tracking
        assert state is not None
        if state.bcast or (state.optin and not state.caching) or (state.optout and state.caching):
            return
        for position, _ in cmd.keys_in(argv):
            self.readers.setdefault(argv[position], set()).add(client.id)

    def key_changed(self, key: bytes) -> None:
        """signalModifiedKey: tell whoever may cache this key (NOLOOP: not the writer itself)."""
        current = self.server.current_client
        clients = self.server.clients
        readers = self.readers.pop(key, None)
        if readers:
            for client_id in readers:
                target = clients.get(client_id)
                if target is not None and target.tracking is not None and not target.tracking.bcast:
                    self._send_unless_loop(target, current, key)
        if self.prefixes:
            for prefix, ids in list(self.prefixes.items()):
                if key.startswith(prefix):
                    for client_id in list(ids):
                        target = clients.get(client_id)
                        if target is not None and target.tracking is not None:
                            self._send_unless_loop(target, current, key)

    def _send_unless_loop(self, target: Client, current: Client | None, key: bytes) -> None:
        assert target.tracking is not None
        if not (target.tracking.noloop and target is current):
            self._send(target, [key])

    def flushed(self) -> None:
        """FLUSHDB / FLUSHALL: every tracking client drops everything (a null key list)."""
        self.readers.clear()
        for target in list(self.server.clients.values()):
            if target.tracking is not None:
                self._send(target, None)

    def send_invalidated(self, client: Client) -> None:
        """After the reply to a command of client: the keys it changed that it may cache itself."""
        invalidated, client.invalidated = client.invalidated, []
        for keys in invalidated:
            if client.tracking is not None:
                self._send(client, keys)

    def _send(self, target: Client, keys: list[bytes] | None) -> None:
        state = target.tracking
        assert state is not None
        if target.calling:  # its own command: the message follows the reply, as Redis 7.0 sends it
            target.invalidated.append(keys)
            return
        receiver = target
        if state.redirect:
            redirected = self.server.clients.get(state.redirect)
            if redirected is None:
                if target.resp3 and not state.broken_redirect:
                    target.send(Push([b"tracking-redir-broken", state.redirect]))
                state.broken_redirect = True
                return
            receiver = redirected
        message: Any
        if receiver.resp3:
            message = Push([b"invalidate", keys])
        elif INVALIDATE_CHANNEL in receiver.channels:
            message = [b"message", INVALIDATE_CHANNEL, keys]
        else:
            return  # a RESP2 client without a redirect has nowhere to hear it, as in Redis
        receiver.send(message)

    # -- INFO --------------------------------------------------------------------------------
    def info_stats(self) -> list[tuple[str, object]]:
        return [
            ("tracking_total_keys", len(self.readers)),
            ("tracking_total_items", sum(len(ids) for ids in self.readers.values())),
            ("tracking_total_prefixes", len(self.prefixes)),
        ]
