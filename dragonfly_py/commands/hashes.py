"""Hash commands."""

from __future__ import annotations

import random
from itertools import islice
from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.keys import scan_generic
from dragonfly_py.commands.registry import command
from dragonfly_py.commands.util import add_long_double, one_key_value, parse_int, typed, values_to_squash
from dragonfly_py.protocol.resp import OK, Map, ReplyError, encode_integers
from dragonfly_py.server.client import Client
from dragonfly_py.storage.types import LONG_MAX, LONG_MIN

H = {"group": "hash"}


def _hash_for_write(client: Client, key: bytes) -> dict[bytes, bytes]:
    value = typed(client.db, key, dict)
    if value is None:
        value = {}
        client.db.set(key, value, keep_ttl=True, changes=0)
    return value


def _drop_if_empty(client: Client, key: bytes, value: dict[bytes, bytes]) -> None:
    if not value:
        client.db.delete(key)


def hset_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """HSET key field value ..., many times, while none of the keys has a TTL or holds another
    type: a first loop checks every request, so that nothing changes when one must run on its
    own, and a second sets (a run of a field each to one key, one_key: one check and one
    lookup). Each HSET changes the dataset (Redis counts every field it sets, new
    or not), so each goes to replicas as sent (Command.many)."""
    db = client.db
    data = db.data
    added: list[int] = []
    append = added.append
    value = one_key_value(db, requests, 4, dict)
    if value is not None:  # a field at a time to one hash: one lookup
        size = len(value)
        for _, _, field, item in requests:
            value[field] = item
            append(len(value) - size)
            size = len(value)
        client.server.keyspace.dirty += len(requests)
        return encode_integers(added)
    if values_to_squash(db, requests, -4, dict, pairs=True) is None:
        return None
    for argv in requests:
        key = argv[1]
        value = data.get(key)
        if value is None:
            value = data[key] = {}
        before = len(value)
        if len(argv) == 4:
            value[argv[2]] = argv[3]  # the field is new if the hash grew: one lookup, not two
        else:
            value.update(zip(argv[2::2], argv[3::2], strict=True))
        append(len(value) - before)
    client.server.keyspace.dirty += sum(map(len, requests)) // 2 - len(requests)  # a change per field
    return encode_integers(added)


@command("hset", -4, "write denyoom fast", keys=(1, 1, 1), many=hset_many, **H)
def hset(client: Client, argv: list[bytes]) -> int:
    if len(argv) % 2:
        raise errors.wrong_arity(argv[0].decode().lower())
    value = _hash_for_write(client, argv[1])
    added = len(value)
    if len(argv) == 4:  # one field, the common form; new if the hash grew (one lookup, not two)
        value[argv[2]] = argv[3]
    else:
        value.update(zip(argv[2::2], argv[3::2], strict=True))
    added = len(value) - added
    client.db.modified(argv[1], len(argv) // 2 - 1)  # one change per field, as Redis counts
    return added


@command("hmset", -4, "write denyoom fast", keys=(1, 1, 1), **H)
def hmset(client: Client, argv: list[bytes]) -> Any:
    hset(client, argv)
    return OK


@command("hsetnx", 4, "write denyoom fast", keys=(1, 1, 1), key_flags="RW insert", **H)
def hsetnx(client: Client, argv: list[bytes]) -> int:
    value = _hash_for_write(client, argv[1])
    if argv[2] in value:
        return 0
    value[argv[2]] = argv[3]
    client.db.modified(argv[1])
    return 1


@command("hget", 3, "readonly fast", keys=(1, 1, 1), **H)
def hget(client: Client, argv: list[bytes]) -> bytes | None:
    value = typed(client.db, argv[1], dict)
    return None if value is None else value.get(argv[2])


@command("hmget", -3, "readonly fast", keys=(1, 1, 1), **H)
def hmget(client: Client, argv: list[bytes]) -> list[bytes | None]:
    value = typed(client.db, argv[1], dict) or {}
    return [value.get(field) for field in argv[2:]]


@command("hdel", -3, "write fast", keys=(1, 1, 1), key_flags="RW delete", **H)
def hdel(client: Client, argv: list[bytes]) -> int:
    value = typed(client.db, argv[1], dict)
    if value is None:
        return 0
    removed = sum(1 for field in argv[2:] if value.pop(field, None) is not None)
    if removed:
        client.db.modified(argv[1])
        _drop_if_empty(client, argv[1], value)
    return removed


@command("hlen", 2, "readonly fast", keys=(1, 1, 1), key_flags="RO", **H)
def hlen(client: Client, argv: list[bytes]) -> int:
    return len(typed(client.db, argv[1], dict) or ())


@command("hstrlen", 3, "readonly fast", keys=(1, 1, 1), key_flags="RO", **H)
def hstrlen(client: Client, argv: list[bytes]) -> int:
    value = typed(client.db, argv[1], dict) or {}
    return len(value.get(argv[2], b""))


@command("hexists", 3, "readonly fast", keys=(1, 1, 1), key_flags="RO", **H)
def hexists(client: Client, argv: list[bytes]) -> int:
    return int(argv[2] in (typed(client.db, argv[1], dict) or {}))


@command("hincrby", 4, "write denyoom fast", keys=(1, 1, 1), key_flags="RW access update", **H)
def hincrby(client: Client, argv: list[bytes]) -> int:
    delta = parse_int(argv[3])
    existing = typed(client.db, argv[1], dict)
    current = 0
    if existing is not None and argv[2] in existing:
        current = parse_int(existing[argv[2]], errors.HASH_VALUE_NOT_INTEGER)
    result = current + delta
    if not LONG_MIN <= result <= LONG_MAX:
        raise errors.OVERFLOW
    value = _hash_for_write(client, argv[1])
    value[argv[2]] = str(result).encode()
    client.db.modified(argv[1])
    return result


@command("hincrbyfloat", 4, "write denyoom fast", keys=(1, 1, 1), key_flags="RW access update", **H)
def hincrbyfloat(client: Client, argv: list[bytes]) -> bytes:
    existing = typed(client.db, argv[1], dict)
    current = existing.get(argv[2], b"0") if existing is not None else b"0"
    result = add_long_double(current, argv[3], errors.HASH_VALUE_NOT_FLOAT)
    value = _hash_for_write(client, argv[1])
    value[argv[2]] = result
    client.db.modified(argv[1])
    return result


@command("hgetall", 2, "readonly", keys=(1, 1, 1), tips="nondeterministic_output_order", **H)
def hgetall(client: Client, argv: list[bytes]) -> Map:
    return Map(typed(client.db, argv[1], dict) or {})


@command("hkeys", 2, "readonly", keys=(1, 1, 1), tips="nondeterministic_output_order", **H)
def hkeys(client: Client, argv: list[bytes]) -> list[bytes]:
    return list(typed(client.db, argv[1], dict) or ())


@command("hvals", 2, "readonly", keys=(1, 1, 1), tips="nondeterministic_output_order", **H)
def hvals(client: Client, argv: list[bytes]) -> list[bytes]:
    return list((typed(client.db, argv[1], dict) or {}).values())


@command("hrandfield", -2, "readonly", keys=(1, 1, 1), tips="nondeterministic_output", **H)
def hrandfield(client: Client, argv: list[bytes]) -> Any:
    value = typed(client.db, argv[1], dict)
    if len(argv) == 2:
        return random_member(value) if value else None
    count = parse_int(argv[2])
    with_values = False
    if len(argv) == 4:
        if argv[3].lower() != b"withvalues":
            raise errors.SYNTAX
        with_values = True
    elif len(argv) > 4:
        raise errors.SYNTAX
    if value is None:
        return []
    fields = random_members(list(value), count)
    if not with_values:
        return fields
    if client.resp3:
        return [[f, value[f]] for f in fields]
    return [x for f in fields for x in (f, value[f])]


def random_member(members: dict[bytes, bytes] | set[bytes]) -> bytes:
    """A member drawn at random, by iterating to a random position: a Python set or dict has no
    random access (O(n), as a list of the members would be, but without building one: less than
    half the time)."""
    return next(islice(members, random.randrange(len(members)), None))


def random_members(members: list[bytes], count: int) -> list[bytes]:
    """HRANDFIELD / SRANDMEMBER / ZRANDMEMBER count rules: positive distinct, negative may repeat."""
    if count >= 0:
        if count >= len(members):
            return members
        return random.sample(members, count)
    if -count > 2**62:
        raise ReplyError("ERR value is out of range")
    return [random.choice(members) for _ in range(-count)]


@command("hscan", -3, "readonly", keys=(1, 1, 1), tips="nondeterministic_output", **H)
def hscan(client: Client, argv: list[bytes]) -> list[Any]:
    value = typed(client.db, argv[1], dict) or {}
    following, found = scan_generic(list(value.items()), argv, 2, key_of=lambda item: item[0])
    return [str(following).encode(), [x for pair in found for x in pair]]
