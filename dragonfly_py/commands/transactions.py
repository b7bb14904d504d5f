"""MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis's queue-time versus exec-time errors."""

from __future__ import annotations

from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.registry import command
from dragonfly_py.protocol.resp import NULL_ARRAY, OK, ReplyError
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import BLOCKED, NO_REPLY

T = {"group": "transactions"}


def discard_transaction(client: Client) -> None:
    client.multi = None
    client.multi_error = False
    unwatch_all(client)


def unwatch_all(client: Client) -> None:
    watched = client.server.keyspace.watched
    for entry in client.watched:
        watchers = watched.get(entry)
        if watchers is not None:
            watchers.discard(client)
            if not watchers:
                del watched[entry]
    client.watched.clear()
    client.watch_dirty = False


@command("multi", 1, "noscript loading stale fast allow_busy", **T)
def multi(client: Client, argv: list[bytes]) -> Any:
    if client.multi is not None:
        raise ReplyError("ERR MULTI calls can not be nested")
    client.multi = []
    client.multi_error = False
    return OK


@command("discard", 1, "noscript loading stale fast allow_busy", **T)
def discard(client: Client, argv: list[bytes]) -> Any:
    if client.multi is None:
        raise ReplyError("ERR DISCARD without MULTI")
    discard_transaction(client)
    return OK


@command("exec", 1, "noscript loading stale skip_slowlog", **T)
def exec_(client: Client, argv: list[bytes]) -> Any:
    if client.multi is None:
        raise ReplyError("ERR EXEC without MULTI")
    queued, failed, dirty = client.multi, client.multi_error, client.watch_dirty
    discard_transaction(client)
    if failed:
        return errors.EXECABORT
    if dirty:
        return NULL_ARRAY
    replies = []
    client.in_exec = True
    try:
        for cmd, request in queued:
            reply = client.call(cmd, request)
            if reply is NO_REPLY or reply is BLOCKED:
                reply = None
            replies.append(reply)
    finally:
        client.in_exec = False
    return replies


@command("watch", -2, "noscript loading stale fast allow_busy", keys=(1, -1, 1), key_flags="RO", **T)
def watch(client: Client, argv: list[bytes]) -> Any:
    if client.multi is not None:
        raise ReplyError("ERR WATCH inside MULTI is not allowed")
    watched = client.server.keyspace.watched
    index = client.db.index
    for key in argv[1:]:
        entry = (index, key)
        if entry not in client.watched:
            client.watched.add(entry)
            watched.setdefault(entry, set()).add(client)
    return OK


@command("unwatch", 1, "noscript loading stale fast allow_busy", **T)
def unwatch(client: Client, argv: list[bytes]) -> Any:
    unwatch_all(client)
    return OK
