"""List commands, the blocking ones included."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from itertools import islice
from operator import itemgetter
from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.keyspecs import spec
from dragonfly_py.commands.registry import command
from dragonfly_py.commands.util import (
    normalize_range,
    one_key_value,
    optional_count,
    parse_int,
    parse_timeout,
    pop_each,
    typed,
    values_to_squash,
)
from dragonfly_py.protocol.resp import (
    NULL_ARRAY,
    OK,
    Raw,
    ReplyError,
    bulk_array,
    encode_bulk_array,
    encode_integers,
)
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import BLOCKED
from dragonfly_py.storage.keyspace import Database

L = {"group": "list"}


def _list(db: Database, key: bytes) -> deque[bytes] | None:
    return typed(db, key, deque)


def _pusher(left: bool, only_existing: bool) -> Callable[[Client, list[bytes]], int]:
    """LPUSH, RPUSH, LPUSHX, RPUSHX: the handler itself, not a wrapper (one call less per push)."""

    def push(client: Client, argv: list[bytes]) -> int:
        db, key = client.db, argv[1]
        value = typed(db, key, deque)
        if value is None:
            if only_existing:
                return 0
            value = deque()
            db.set(key, value, changes=0)
        if left:
            value.extendleft(argv[2:])
        else:
            value.extend(argv[2:])
        db.modified(key, len(argv) - 2)
        return len(value)

    return push


_ELEMENT = itemgetter(2)


def _push_many(left: bool) -> Callable[[Client, list[list[bytes]]], bytes | None]:
    """LPUSH or RPUSH many times (a read of pushes), while none of the keys has a TTL or holds
    another type (then each push runs on its own, as run() runs it): a first loop checks every
    request, so that nothing changes when one cannot run here, and a second pushes (a run of
    an element each to one key, one_key: one check and one extend). Each
    request pushes at least one element, so each goes to replicas as sent (Command.many)."""

    def push_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
        db = client.db
        data = db.data
        value = one_key_value(db, requests, 3, deque)
        if value is not None:  # a queue's producer: one extend, and the lengths count up
            before = len(value)
            (value.extendleft if left else value.extend)(map(_ELEMENT, requests))
            client.server.keyspace.dirty += len(requests)
            return encode_integers(range(before + 1, len(value) + 1))
        if values_to_squash(db, requests, -3, deque) is None:
            return None
        lengths: list[int] = []
        elements = 0
        for argv in requests:
            key = argv[1]
            value = data.get(key)
            if value is None:
                value = data[key] = deque()
            if left:
                value.extendleft(argv[2:])
            else:
                value.extend(argv[2:])
            elements += len(argv) - 2
            lengths.append(len(value))
        client.server.keyspace.dirty += elements
        return encode_integers(lengths)

    return push_many


lpush = command(
    "lpush", -3, "write denyoom fast", keys=(1, 1, 1), key_flags="RW insert", many=_push_many(left=True), **L
)(_pusher(left=True, only_existing=False))
rpush = command(
    "rpush", -3, "write denyoom fast", keys=(1, 1, 1), key_flags="RW insert", many=_push_many(left=False), **L
)(_pusher(left=False, only_existing=False))
lpushx = command("lpushx", -3, "write denyoom fast", keys=(1, 1, 1), key_flags="RW insert", **L)(
    _pusher(left=True, only_existing=True)
)
rpushx = command("rpushx", -3, "write denyoom fast", keys=(1, 1, 1), key_flags="RW insert", **L)(
    _pusher(left=False, only_existing=True)
)


def pop_items(db: Database, key: bytes, left: bool, count: int) -> list[bytes]:
    """Pop up to count items from a list that exists; deletes the key when emptied."""
    value = db.data[key]
    take = value.popleft if left else value.pop
    items = [take() for _ in range(min(count, len(value)))]
    if value:
        db.modified(key, len(items))
    else:
        db.delete(key, changes=len(items))
    return items


def _pop_many(left: bool) -> Callable[[Client, list[list[bytes]]], bytes | None]:
    """LPOP or RPOP key (no count) many times: see pop_each."""
    take = deque.popleft if left else deque.pop

    def pop_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
        return pop_each(client, requests, deque, take)

    return pop_many


def _popper(left: bool) -> Callable[[Client, list[bytes]], Any]:
    """LPOP and RPOP; without a count (the common form) one item is popped inline."""

    def pop(client: Client, argv: list[bytes]) -> Any:
        count = optional_count(argv) if len(argv) > 2 else None
        db, key = client.db, argv[1]
        value = typed(db, key, deque)
        if value is None:
            return None if count is None else NULL_ARRAY
        if count is None:
            item = value.popleft() if left else value.pop()
            if value:
                db.modified(key)
            else:
                db.delete(key)
            return item
        return pop_items(db, key, left, count) if count else []

    return pop


lpop = command("lpop", -2, "write fast", keys=(1, 1, 1), key_flags="RW access delete", many=_pop_many(left=True), **L)(
    _popper(left=True)
)
rpop = command("rpop", -2, "write fast", keys=(1, 1, 1), key_flags="RW access delete", many=_pop_many(left=False), **L)(
    _popper(left=False)
)


@command("llen", 2, "readonly fast", keys=(1, 1, 1), key_flags="RO", **L)
def llen(client: Client, argv: list[bytes]) -> int:
    return len(_list(client.db, argv[1]) or ())


@command("lindex", 3, "readonly", keys=(1, 1, 1), **L)
def lindex(client: Client, argv: list[bytes]) -> bytes | None:
    index = parse_int(argv[2])
    value = _list(client.db, argv[1])
    if value is None:
        return None
    if index < 0:
        index += len(value)
    return value[index] if 0 <= index < len(value) else None


@command("lset", 4, "write denyoom", keys=(1, 1, 1), **L)
def lset(client: Client, argv: list[bytes]) -> Any:
    index = parse_int(argv[2])
    value = _list(client.db, argv[1])
    if value is None:
        raise errors.NO_SUCH_KEY
    if index < 0:
        index += len(value)
    if not 0 <= index < len(value):
        raise errors.OUT_OF_RANGE
    value[index] = argv[3]
    client.db.modified(argv[1])
    return OK


def lrange_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """LRANGE key start stop, many times (a page of each of many lists, or of one): one loop
    without a call of LRANGE and of its key lookup per request. None, having counted nothing,
    where a request needs LRANGE itself: an error (not an integer, another type, the arity) or a
    key with a TTL (lazy expiry)."""
    db = client.db
    data, expires = db.data, db.expires
    replies: list[bytes] = []
    append = replies.append
    misses = 0
    try:
        for _, key, start, stop in requests:  # ValueError: the wrong arity
            first, last = parse_int(start), parse_int(stop)
            value = data.get(key)
            if value is None:
                misses += 1
                append(b"*0\r\n")
                continue
            if value.__class__ is not deque or (expires and key in expires):
                return None
            length = len(value)  # normalize_range, inline: a call and a tuple per request less
            if first < 0:
                first = max(first + length, 0)
            if last < 0:
                last += length
            elif last >= length:
                last = length - 1
            append(encode_bulk_array(list(islice(value, first, last + 1))) if first <= last else b"*0\r\n")
    except (ValueError, ReplyError):
        return None
    keyspace = client.server.keyspace
    keyspace.misses += misses
    keyspace.hits += len(requests) - misses
    return b"".join(replies)


@command("lrange", 4, "readonly", keys=(1, 1, 1), many=lrange_many, **L)
def lrange(client: Client, argv: list[bytes]) -> list[bytes] | Raw:
    start, end = parse_int(argv[2]), parse_int(argv[3])
    value = _list(client.db, argv[1])
    if value is None:
        return []
    bounds = normalize_range(start, end, len(value))
    if bounds is None:
        return []
    return bulk_array(list(islice(value, bounds[0], bounds[1] + 1)))


@command("ltrim", 4, "write", keys=(1, 1, 1), key_flags="RW delete", **L)
def ltrim(client: Client, argv: list[bytes]) -> Any:
    start, end = parse_int(argv[2]), parse_int(argv[3])
    db, key = client.db, argv[1]
    value = _list(db, key)
    if value is None:
        return OK
    bounds = normalize_range(start, end, len(value))
    if bounds is None:
        db.delete(key)
        return OK
    kept = deque(islice(value, bounds[0], bounds[1] + 1))
    value.clear()
    value.extend(kept)
    db.modified(key)
    return OK


@command("lrem", 4, "write", keys=(1, 1, 1), key_flags="RW delete", **L)
def lrem(client: Client, argv: list[bytes]) -> int:
    count = parse_int(argv[2])
    db, key, element = client.db, argv[1], argv[3]
    value = _list(db, key)
    if value is None:
        return 0
    items = list(value) if count >= 0 else list(reversed(value))
    kept, removed = [], 0
    for item in items:
        if item == element and (count == 0 or removed < abs(count)):
            removed += 1
        else:
            kept.append(item)
    if removed:
        value.clear()
        value.extend(kept if count >= 0 else reversed(kept))
        db.modified(key)
        if not value:
            db.delete(key)
    return removed


@command("linsert", 5, "write denyoom", keys=(1, 1, 1), key_flags="RW insert", **L)
def linsert(client: Client, argv: list[bytes]) -> int:
    where = argv[2].lower()
    if where not in (b"before", b"after"):
        raise errors.SYNTAX
    value = _list(client.db, argv[1])
    if value is None:
        return 0
    try:
        index = value.index(argv[3])
    except ValueError:
        return -1
    value.insert(index + (where == b"after"), argv[4])
    client.db.modified(argv[1])
    return len(value)


@command("lpos", -3, "readonly", keys=(1, 1, 1), **L)
def lpos(client: Client, argv: list[bytes]) -> Any:
    rank, count, maxlen = 1, None, 0
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        if i + 1 >= len(argv):
            raise errors.SYNTAX
        if option == b"rank":
            rank = parse_int(argv[i + 1])
            if rank == 0:
                raise ReplyError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                    "or use negative to start from the end of the list"
                )
            if rank == -(2**63):
                raise ReplyError("ERR value is out of range")
        elif option == b"count":
            count = parse_int(argv[i + 1])
            if count < 0:
                raise ReplyError("ERR COUNT can't be negative")
        elif option == b"maxlen":
            maxlen = parse_int(argv[i + 1])
            if maxlen < 0:
                raise ReplyError("ERR MAXLEN can't be negative")
        else:
            raise errors.SYNTAX
        i += 2
    value = _list(client.db, argv[1])
    if value is None:
        return None if count is None else []
    n = len(value)
    indexes = range(n) if rank > 0 else range(n - 1, -1, -1)
    skip = abs(rank) - 1
    found: list[int] = []
    for scanned, index in enumerate(indexes):
        if maxlen and scanned >= maxlen:
            break
        if value[index] == argv[2]:
            if skip:
                skip -= 1
                continue
            found.append(index)
            if count is None or (count and len(found) >= count):
                break
    if count is None:
        return found[0] if found else None
    return found


def _direction(raw: bytes) -> bool:
    lowered = raw.lower()
    if lowered not in (b"left", b"right"):
        raise errors.SYNTAX
    return lowered == b"left"


def _move(client: Client, db: Database, source: bytes, dest: bytes, from_left: bool, to_left: bool) -> bytes | None:
    value = _list(db, source)
    if value is None:
        return None
    target = _list(db, dest)  # WRONGTYPE before popping, as Redis checks
    item = value.popleft() if from_left else value.pop()
    if value:  # a move is one change, counted on the destination
        db.modified(source, 0)
    else:
        db.delete(source, changes=0)
    if target is None or (target is value and not value):
        target = deque()
        db.set(dest, target, changes=0)
    if to_left:
        target.appendleft(item)
    else:
        target.append(item)
    db.modified(dest)
    return item


@command("lmove", 5, "write denyoom", keys=(spec("RW access delete", 1), spec("RW insert", 2)), **L)
def lmove(client: Client, argv: list[bytes]) -> bytes | None:
    from_left, to_left = _direction(argv[3]), _direction(argv[4])
    return _move(client, client.db, argv[1], argv[2], from_left, to_left)


@command("rpoplpush", 3, "write denyoom", keys=(spec("RW access delete", 1), spec("RW insert", 2)), **L)
def rpoplpush(client: Client, argv: list[bytes]) -> bytes | None:
    return _move(client, client.db, argv[1], argv[2], False, True)


def _first_nonempty(db: Database, keys: list[bytes]) -> bytes | None:
    for key in keys:
        if _list(db, key) is not None:
            return key
    return None


def block_or_answer(
    client: Client, keys: list[bytes], timeout: float, attempt: Callable[[Database], Any], on_timeout: Any
) -> Any:
    """Answer now if attempt finds data; else block the client (never inside MULTI)."""
    db = client.db
    reply = attempt(db)
    if reply is not None:
        return reply
    if client.in_exec:
        return on_timeout
    client.server.block(client, keys, timeout, lambda: attempt(db), on_timeout)
    return BLOCKED


def _bpop(client: Client, argv: list[bytes], left: bool) -> Any:
    keys = argv[1:-1]
    timeout = parse_timeout(argv[-1])

    def attempt(db: Database) -> Any:
        key = _first_nonempty(db, keys)
        return None if key is None else [key, pop_items(db, key, left, 1)[0]]

    return block_or_answer(client, keys, timeout, attempt, NULL_ARRAY)


@command("blpop", -3, "write noscript blocking", keys=(1, -2, 1), key_flags="RW access delete", **L)
def blpop(client: Client, argv: list[bytes]) -> Any:
    return _bpop(client, argv, left=True)


@command("brpop", -3, "write noscript blocking", keys=(1, -2, 1), key_flags="RW access delete", **L)
def brpop(client: Client, argv: list[bytes]) -> Any:
    return _bpop(client, argv, left=False)


def _blocking_move(client: Client, source: bytes, dest: bytes, from_left: bool, to_left: bool, raw: bytes) -> Any:
    timeout = parse_timeout(raw)

    def attempt(db: Database) -> Any:
        return _move(client, db, source, dest, from_left, to_left)

    return block_or_answer(client, [source], timeout, attempt, None)


@command("blmove", 6, "write denyoom noscript blocking", keys=(spec("RW access delete", 1), spec("RW insert", 2)), **L)
def blmove(client: Client, argv: list[bytes]) -> Any:
    from_left, to_left = _direction(argv[3]), _direction(argv[4])
    return _blocking_move(client, argv[1], argv[2], from_left, to_left, argv[5])


@command(
    "brpoplpush", 4, "write denyoom noscript blocking", keys=(spec("RW access delete", 1), spec("RW insert", 2)), **L
)
def brpoplpush(client: Client, argv: list[bytes]) -> Any:
    return _blocking_move(client, argv[1], argv[2], False, True, argv[3])


def parse_mpop(argv: list[bytes], first: int, directions: dict[bytes, Any]) -> tuple[list[bytes], Any, int]:
    """numkeys key... WHERE [COUNT n] (LMPOP / ZMPOP family)."""
    numkeys = parse_int(argv[first], ReplyError("ERR numkeys should be greater than 0"))
    if numkeys <= 0:
        raise ReplyError("ERR numkeys should be greater than 0")
    if first + 1 + numkeys >= len(argv):
        raise errors.SYNTAX
    keys = argv[first + 1 : first + 1 + numkeys]
    where = directions.get(argv[first + 1 + numkeys].lower())
    if where is None:
        raise errors.SYNTAX
    rest = argv[first + 2 + numkeys :]
    count = 1
    if rest:
        if len(rest) != 2 or rest[0].lower() != b"count":
            raise errors.SYNTAX
        count = parse_int(rest[1], ReplyError("ERR count should be greater than 0"))
        if count <= 0:
            raise ReplyError("ERR count should be greater than 0")
    return keys, where, count


@command("lmpop", -4, "write movablekeys", keys=(spec("RW access delete", 1, keynumidx=0),), **L)
def lmpop(client: Client, argv: list[bytes]) -> Any:
    keys, left, count = parse_mpop(argv, 1, {b"left": True, b"right": False})
    key = _first_nonempty(client.db, keys)
    if key is None:
        return NULL_ARRAY
    return [key, pop_items(client.db, key, left, count)]


@command("blmpop", -5, "write blocking movablekeys", keys=(spec("RW access delete", 2, keynumidx=0),), **L)
def blmpop(client: Client, argv: list[bytes]) -> Any:
    timeout = parse_timeout(argv[1])
    keys, left, count = parse_mpop(argv, 2, {b"left": True, b"right": False})

    def attempt(db: Database) -> Any:
        key = _first_nonempty(db, keys)
        return None if key is None else [key, pop_items(db, key, left, count)]

    return block_or_answer(client, keys, timeout, attempt, NULL_ARRAY)
