"""Set commands."""

from __future__ import annotations

from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.hashes import random_member, random_members
from dragonfly_py.commands.keys import scan_generic
from dragonfly_py.commands.keyspecs import spec
from dragonfly_py.commands.registry import command
from dragonfly_py.commands.util import one_key_value, optional_count, parse_int, pop_each, typed, values_to_squash
from dragonfly_py.protocol.resp import ReplyError, SetReply, encode_integers
from dragonfly_py.server.client import Client
from dragonfly_py.storage.types import encoding_name

S = {"group": "set"}
# The key specs of SUNIONSTORE / SDIFFSTORE: a destination, then every source.
STORE_OF_SOURCES = (spec("OW update", 1), spec("RO access", 2, lastkey=-1))


def _set(client: Client, key: bytes) -> set[bytes] | None:
    return typed(client.db, key, set)


def ordered(client: Client, members: set[bytes]) -> list[bytes]:
    """Members in the order Redis would give: numeric order for an intset, else any order."""
    if encoding_name(members, client.server.config.values) == "intset":
        return sorted(members, key=int)
    return list(members)


def sadd_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """SADD key member ..., many times, while none of the keys has a TTL or holds another type,
    and no replica is fed: a SADD that adds nothing goes to no replica, and which ones add is
    only known after the run (Command.many). A first loop checks every request, a second adds;
    a run of a member each to one key (one_key) has one check and one lookup."""
    db = client.db
    if client.server.primary.feeding:
        return None
    data = db.data
    added: list[int] = []
    append = added.append
    value = one_key_value(db, requests, 3, set)
    if value is not None:  # a member at a time to one set: one lookup
        add, size = value.add, len(value)
        for argv in requests:
            add(argv[2])
            append(len(value) - size)
            size = len(value)
        client.server.keyspace.dirty += sum(added)
        return encode_integers(added)
    if values_to_squash(db, requests, -3, set) is None:
        return None
    for argv in requests:
        key = argv[1]
        value = data.get(key)
        if value is None:
            value = data[key] = set()
        before = len(value)
        if len(argv) == 3:
            value.add(argv[2])
        else:
            value.update(argv[2:])
        append(len(value) - before)
    client.server.keyspace.dirty += sum(added)
    return encode_integers(added)


@command("sadd", -3, "write denyoom fast", keys=(1, 1, 1), many=sadd_many, key_flags="RW insert", **S)
def sadd(client: Client, argv: list[bytes]) -> int:
    db, key = client.db, argv[1]
    value = _set(client, key)
    if value is None:
        value = set()
        db.set(key, value, changes=0)
    before = len(value)
    value.update(argv[2:])
    added = len(value) - before
    if added:
        db.modified(key, added)
    return added


@command("srem", -3, "write fast", keys=(1, 1, 1), key_flags="RW delete", **S)
def srem(client: Client, argv: list[bytes]) -> int:
    value = _set(client, argv[1])
    if value is None:
        return 0
    before = len(value)
    value.difference_update(argv[2:])
    removed = before - len(value)
    if removed:
        client.db.modified(argv[1], removed)
        if not value:
            client.db.delete(argv[1])
    return removed


@command("scard", 2, "readonly fast", keys=(1, 1, 1), key_flags="RO", **S)
def scard(client: Client, argv: list[bytes]) -> int:
    return len(_set(client, argv[1]) or ())


@command("sismember", 3, "readonly fast", keys=(1, 1, 1), key_flags="RO", **S)
def sismember(client: Client, argv: list[bytes]) -> int:
    return int(argv[2] in (_set(client, argv[1]) or ()))


@command("smismember", -3, "readonly fast", keys=(1, 1, 1), **S)
def smismember(client: Client, argv: list[bytes]) -> list[int]:
    value = _set(client, argv[1]) or set()
    return [int(m in value) for m in argv[2:]]


@command("smembers", 2, "readonly", keys=(1, 1, 1), tips="nondeterministic_output_order", **S)
def smembers(client: Client, argv: list[bytes]) -> SetReply:
    return SetReply(ordered(client, _set(client, argv[1]) or set()))


def spop_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """SPOP key (no count) many times: see pop_each. Its pops go out as SREMs (a rewrite), so
    run_many calls it only while no replica is fed."""
    return pop_each(client, requests, set, set.pop)


@command(
    "spop",
    -2,
    "write fast",
    keys=(1, 1, 1),
    many=spop_many,
    key_flags="RW access delete",
    tips="nondeterministic_output",
    **S,
)
def spop(client: Client, argv: list[bytes]) -> Any:
    count = optional_count(argv)
    value = _set(client, argv[1])
    if value is None:
        return None if count is None else SetReply()
    # set.pop() takes the members in the order of the set's hash table, where SipHash with a
    # key drawn at start-up puts them at random: O(1) a member, where sampling a list of all
    # the members costs O(n) (360 us for 100k here).
    chosen = [value.pop() for _ in range(min(count if count is not None else 1, len(value)))]
    if chosen:
        client.db.modified(argv[1], len(chosen))
    if not value:
        client.db.delete(argv[1], changes=0)  # Redis counts the members popped, not the key
    return chosen[0] if count is None else SetReply(chosen)


@command("srandmember", -2, "readonly", keys=(1, 1, 1), tips="nondeterministic_output", **S)
def srandmember(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise errors.SYNTAX
    value = _set(client, argv[1])
    if len(argv) == 2:
        return random_member(value) if value else None
    count = parse_int(argv[2])
    if not value:
        return []
    return random_members(list(value), count)


@command("smove", 4, "write fast", keys=(spec("RW access delete", 1), spec("RW insert", 2)), **S)
def smove(client: Client, argv: list[bytes]) -> int:
    db, source, dest, member = client.db, argv[1], argv[2], argv[3]
    src = _set(client, source)
    dst = _set(client, dest)
    if src is None or member not in src:
        return 0
    if source == dest:
        return 1
    src.discard(member)
    db.modified(source)
    if not src:
        db.delete(source, changes=0)
    if dst is None:
        dst = set()
        db.set(dest, dst, changes=0)
    dst.add(member)
    db.modified(dest)
    return 1


def _sets(client: Client, keys: list[bytes]) -> list[set[bytes]]:
    return [_set(client, key) or set() for key in keys]


def _combine(op: str, sets: list[set[bytes]]) -> set[bytes]:
    if op == "inter":
        return set.intersection(*sets) if all(sets) else set()
    if op == "union":
        return set().union(*sets)
    first = set(sets[0])
    for other in sets[1:]:
        first -= other
    return first


def _store(client: Client, dest: bytes, result: set[bytes]) -> int:
    client.db.delete(dest)
    if result:
        client.db.set(dest, result)
    return len(result)


@command("sinter", -2, "readonly", keys=(1, -1, 1), tips="nondeterministic_output_order", **S)
def sinter(client: Client, argv: list[bytes]) -> SetReply:
    return SetReply(ordered(client, _combine("inter", _sets(client, argv[1:]))))


@command("sunion", -2, "readonly", keys=(1, -1, 1), tips="nondeterministic_output_order", **S)
def sunion(client: Client, argv: list[bytes]) -> SetReply:
    return SetReply(ordered(client, _combine("union", _sets(client, argv[1:]))))


@command("sdiff", -2, "readonly", keys=(1, -1, 1), tips="nondeterministic_output_order", **S)
def sdiff(client: Client, argv: list[bytes]) -> SetReply:
    return SetReply(ordered(client, _combine("diff", _sets(client, argv[1:]))))


@command(
    "sinterstore",
    -3,
    "write denyoom",
    reads_keys=True,
    keys=(spec("RW update", 1), spec("RO access", 2, lastkey=-1)),
    **S,
)
def sinterstore(client: Client, argv: list[bytes]) -> int:
    return _store(client, argv[1], _combine("inter", _sets(client, argv[2:])))


@command(
    "sunionstore",
    -3,
    "write denyoom",
    reads_keys=True,
    keys=STORE_OF_SOURCES,
    **S,
)
def sunionstore(client: Client, argv: list[bytes]) -> int:
    return _store(client, argv[1], _combine("union", _sets(client, argv[2:])))


@command(
    "sdiffstore",
    -3,
    "write denyoom",
    reads_keys=True,
    keys=STORE_OF_SOURCES,
    **S,
)
def sdiffstore(client: Client, argv: list[bytes]) -> int:
    return _store(client, argv[1], _combine("diff", _sets(client, argv[2:])))


def parse_numkeys_limit(argv: list[bytes]) -> tuple[list[bytes], int]:
    """numkeys key... [LIMIT n] (SINTERCARD, ZINTERCARD)."""
    numkeys = parse_int(argv[1], ReplyError("ERR numkeys should be greater than 0"))
    if numkeys <= 0:
        raise ReplyError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise ReplyError("ERR Number of keys can't be greater than number of args")
    keys = argv[2 : 2 + numkeys]
    rest = argv[2 + numkeys :]
    limit = 0
    if rest:
        if len(rest) != 2 or rest[0].lower() != b"limit":
            raise errors.SYNTAX
        limit = parse_int(rest[1], ReplyError("ERR LIMIT can't be negative"))
        if limit < 0:
            raise ReplyError("ERR LIMIT can't be negative")
    return keys, limit


@command("sintercard", -3, "readonly movablekeys", keys=(spec("RO access", 1, keynumidx=0),), **S)
def sintercard(client: Client, argv: list[bytes]) -> int:
    keys, limit = parse_numkeys_limit(argv)
    size = len(_combine("inter", _sets(client, keys)))
    return min(size, limit) if limit else size


@command("sscan", -3, "readonly", keys=(1, 1, 1), tips="nondeterministic_output", **S)
def sscan(client: Client, argv: list[bytes]) -> list[Any]:
    value = _set(client, argv[1]) or set()
    following, found = scan_generic(ordered(client, value), argv, 2)
    return [str(following).encode(), found]
