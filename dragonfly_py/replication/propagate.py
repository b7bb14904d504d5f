"""What a write sends to replicas: its deterministic effect, as Redis 7.0 rewrites it (§1.6).

Each rewrite gets the client (its db already holds the command's result), the argv and the reply,
and returns the commands to propagate, or None when the command goes out as sent (as do commands
without a rewrite).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dragonfly_py.protocol.resp import Map
from dragonfly_py.storage.stream import Stream, format_id

if TYPE_CHECKING:
    from dragonfly_py.server.client import Client

Argv = list[bytes]
Rewrite = Callable[["Client", Argv, Any], list[Argv] | None]
REWRITES: dict[bytes, Rewrite] = {}
ALWAYS_PROPAGATED = frozenset({b"flushall", b"flushdb", b"publish"})


def rewrite(*names: str) -> Callable[[Rewrite], Rewrite]:
    def register(fn: Rewrite) -> Rewrite:
        for name in names:
            REWRITES[name.encode()] = fn
        return fn

    return register


def _when(client: Client, key: bytes) -> bytes:
    return b"%d" % client.db.expires[key]


@rewrite("set")
def _set(client: Client, argv: Argv, reply: Any) -> list[Argv] | None:
    if len(argv) == 3:  # SET key value: the common case, as it is
        return None
    options = {a.lower() for a in argv[3:]}
    if options & {b"ex", b"px", b"exat", b"pxat"}:
        key = argv[1]
        if client.db.get(key) is None:
            return [[b"DEL", key]]
        return [[b"SET", key, argv[2], b"PXAT", _when(client, key)]]
    if b"get" in options:
        return [[a for a in argv if a.lower() != b"get"]]
    return None


@rewrite("setex", "psetex")
def _setex(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    key = argv[1]
    if client.db.get(key) is None:
        return [[b"DEL", key]]
    return [[b"SET", key, argv[3], b"PXAT", _when(client, key)]]


@rewrite("expire", "pexpire", "expireat", "pexpireat")
def _expire(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    key = argv[1]
    if client.db.get(key) is None:
        return [[b"DEL", key]]
    return [[b"PEXPIREAT", key, _when(client, key)]]


@rewrite("getex")
def _getex(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    key = argv[1]
    if client.db.get(key) is None:
        return [[b"DEL", key]]
    if key in client.db.expires:
        return [[b"PEXPIREAT", key, _when(client, key)]]
    return [[b"PERSIST", key]]


@rewrite("getdel")
def _getdel(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"DEL", argv[1]]]


@rewrite("getset")
def _getset(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"SET", argv[1], argv[2]]]


@rewrite("incrbyfloat")
def _incrbyfloat(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"SET", argv[1], reply, b"KEEPTTL"]]


@rewrite("hincrbyfloat")
def _hincrbyfloat(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"HSET", argv[1], argv[2], reply]]


@rewrite("spop")
def _spop(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    members = reply if isinstance(reply, list) else [reply]
    return [[b"SREM", argv[1], *members]] if members else []


@rewrite("blpop", "brpop")
def _bpop(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"LPOP" if argv[0].lower() == b"blpop" else b"RPOP", reply[0]]]


@rewrite("blmove")
def _blmove(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"LMOVE", *argv[1:5]]]


@rewrite("brpoplpush")
def _brpoplpush(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"RPOPLPUSH", argv[1], argv[2]]]


@rewrite("lmpop", "blmpop")
def _lmpop(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    left = any(a.lower() == b"left" for a in argv)
    return [[b"LPOP" if left else b"RPOP", reply[0], b"%d" % len(reply[1])]]


@rewrite("bzpopmin", "bzpopmax")
def _bzpop(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return [[b"ZPOPMIN" if argv[0].lower() == b"bzpopmin" else b"ZPOPMAX", reply[0]]]


@rewrite("zmpop", "bzmpop")
def _zmpop(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    low = any(a.lower() == b"min" for a in argv)
    return [[b"ZPOPMIN" if low else b"ZPOPMAX", reply[0], b"%d" % len(reply[1])]]


@rewrite("restore")
def _restore(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    key = argv[1]
    if client.db.get(key) is None:
        return [[b"DEL", key]]
    when = _when(client, key) if key in client.db.expires else b"0"
    return [[b"RESTORE", key, when, argv[3], b"REPLACE", b"ABSTTL"]]


def _trimmed_length(client: Client, key: bytes) -> list[Argv]:
    stream = client.db.get(key)
    return [[b"XTRIM", key, b"MAXLEN", b"=", b"%d" % len(stream)]] if isinstance(stream, Stream) else []


@rewrite("xadd")
def _xadd(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    index, trims = 2, False
    while argv[index].lower() in (b"nomkstream", b"maxlen", b"minid", b"limit"):
        option = argv[index].lower()
        trims |= option != b"nomkstream"
        index += 1 if option == b"nomkstream" else 3 if argv[index + 1] in (b"~", b"=") and option != b"limit" else 2
    out: list[Argv] = [[b"XADD", argv[1], reply, *argv[index + 1 :]]]
    return out + _trimmed_length(client, argv[1]) if trims else out


@rewrite("xtrim")
def _xtrim(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    return _trimmed_length(client, argv[1])


def _claims(client: Client, key: bytes, group_name: bytes, ids: list[bytes]) -> list[Argv]:
    stream = client.db.get(key)
    group = stream.groups.get(group_name) if isinstance(stream, Stream) else None
    if group is None:
        return []
    from dragonfly_py.commands.streams import parse_id  # the command layer imports this module

    out = []
    for raw in ids:
        pending = group.pending.get(parse_id(raw))
        if pending is None:
            continue
        out.append(
            [b"XCLAIM", key, group_name, pending.consumer, b"0", raw, b"TIME", b"%d" % pending.delivery_time,
             b"RETRYCOUNT", b"%d" % pending.delivery_count, b"FORCE", b"JUSTID", b"LASTID", format_id(group.last_id)]
        )  # fmt: skip
    return out


@rewrite("xreadgroup")
def _xreadgroup(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    lowered = [a.lower() for a in argv]
    group_name = argv[lowered.index(b"group") + 1]
    consumer = argv[lowered.index(b"group") + 2]
    per_key = list(reply.items()) if isinstance(reply, Map) else [(k, e) for k, e in reply or []]
    out: list[Argv] = []
    for key, entries in per_key:
        ids = [entry[0] for entry in entries if entry and entry[0]]
        if b"noack" in lowered:
            stream = client.db.get(key)
            group = stream.groups.get(group_name) if isinstance(stream, Stream) else None
            if group is not None:
                out.append([b"XGROUP", b"CREATECONSUMER", key, group_name, consumer])
                out.append(
                    [b"XGROUP", b"SETID", key, group_name, format_id(group.last_id), b"ENTRIESREAD",
                     b"%d" % group.entries_read]
                )  # fmt: skip
        else:
            out += _claims(client, key, group_name, ids)
    return out


@rewrite("xclaim")
def _xclaim(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    ids = [entry if isinstance(entry, bytes) else entry[0] for entry in reply]
    return _claims(client, argv[1], argv[2], ids)


@rewrite("xautoclaim")
def _xautoclaim(client: Client, argv: Argv, reply: Any) -> list[Argv]:
    ids = [entry if isinstance(entry, bytes) else entry[0] for entry in reply[1]]
    acks = [[b"XACK", argv[1], argv[2], raw] for raw in reply[2]]
    return _claims(client, argv[1], argv[2], ids) + acks
