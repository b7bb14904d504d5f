"""Generic key commands: DEL, EXISTS, EXPIRE & co., KEYS, SCAN, RENAME, COPY, MOVE, OBJECT ..."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.keyspecs import spec
from dragonfly_py.commands.registry import command, container, subcommand
from dragonfly_py.commands.util import parse_int
from dragonfly_py.protocol.resp import OK, ReplyError
from dragonfly_py.server.client import Client
from dragonfly_py.storage.glob import glob_match
from dragonfly_py.storage.keyspace import Database
from dragonfly_py.storage.types import ZSet, encoding_name

LLONG_MAX = 2**63 - 1


@command(
    "del",
    -2,
    "write",
    keys=(1, -1, 1),
    key_flags="RM delete",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def del_(client: Client, argv: list[bytes]) -> int:
    db = client.db
    return sum(1 for key in argv[1:] if db.get(key) is not None and db.delete(key))


@command(
    "unlink",
    -2,
    "write fast",
    keys=(1, -1, 1),
    key_flags="RM delete",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def unlink(client: Client, argv: list[bytes]) -> int:
    return del_(client, argv)


@command(
    "exists",
    -2,
    "readonly fast",
    keys=(1, -1, 1),
    key_flags="RO",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def exists(client: Client, argv: list[bytes]) -> int:
    db = client.db
    return sum(1 for key in argv[1:] if db.get(key) is not None)


@command(
    "touch",
    -2,
    "readonly fast",
    keys=(1, -1, 1),
    key_flags="RO",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def touch(client: Client, argv: list[bytes]) -> int:
    return exists(client, argv)


@command("type", 2, "readonly fast", keys=(1, 1, 1), key_flags="RO")
def type_(client: Client, argv: list[bytes]) -> str:
    return client.db.key_type(argv[1])


# -- expiry ------------------------------------------------------------------------------------
def _expire_generic(client: Client, argv: list[bytes], unit_ms: int, absolute: bool) -> int:
    db, key = client.db, argv[1]
    amount = parse_int(argv[2])
    flags = {a.lower() for a in argv[3:]}
    for flag in argv[3:]:
        if flag.lower() not in (b"nx", b"xx", b"gt", b"lt"):
            raise ReplyError(f"ERR Unsupported option {flag.decode('utf-8', 'replace')}")
    if b"nx" in flags and flags & {b"xx", b"gt", b"lt"}:
        raise ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if b"gt" in flags and b"lt" in flags:
        raise ReplyError("ERR GT and LT options at the same time are not compatible")
    name = argv[0].decode().lower()
    limit = LLONG_MAX // unit_ms
    if amount > limit or amount < -limit:
        raise ReplyError(errors.INVALID_EXPIRE.format(name))
    when = amount * unit_ms
    if not absolute:
        if when > LLONG_MAX - db._keyspace.now:
            raise ReplyError(errors.INVALID_EXPIRE.format(name))
        when += db._keyspace.now
    if db.get(key) is None:
        return 0
    current = db.expires.get(key)
    if b"nx" in flags and current is not None:
        return 0
    if b"xx" in flags and current is None:
        return 0
    if b"gt" in flags and (current is None or when <= current):
        return 0
    if b"lt" in flags and current is not None and when >= current:
        return 0
    if when <= db._keyspace.now:
        db.delete(key)
    else:
        db.set_expire(key, when)
    return 1


@command("expire", -3, "write fast", keys=(1, 1, 1))
def expire(client: Client, argv: list[bytes]) -> int:
    return _expire_generic(client, argv, 1000, absolute=False)


@command("pexpire", -3, "write fast", keys=(1, 1, 1))
def pexpire(client: Client, argv: list[bytes]) -> int:
    return _expire_generic(client, argv, 1, absolute=False)


@command("expireat", -3, "write fast", keys=(1, 1, 1))
def expireat(client: Client, argv: list[bytes]) -> int:
    return _expire_generic(client, argv, 1000, absolute=True)


@command("pexpireat", -3, "write fast", keys=(1, 1, 1))
def pexpireat(client: Client, argv: list[bytes]) -> int:
    return _expire_generic(client, argv, 1, absolute=True)


def _ttl_generic(client: Client, key: bytes, divisor: int, absolute: bool) -> int:
    db = client.db
    if db.get(key) is None:
        return -2
    when = db.expires.get(key)
    if when is None:
        return -1
    if absolute:
        return when // divisor
    remaining = max(0, when - db._keyspace.now)
    return (remaining + divisor // 2) // divisor if divisor > 1 else remaining


@command("ttl", 2, "readonly fast", keys=(1, 1, 1), tips="nondeterministic_output")
def ttl(client: Client, argv: list[bytes]) -> int:
    return _ttl_generic(client, argv[1], 1000, absolute=False)


@command("pttl", 2, "readonly fast", keys=(1, 1, 1), tips="nondeterministic_output")
def pttl(client: Client, argv: list[bytes]) -> int:
    return _ttl_generic(client, argv[1], 1, absolute=False)


@command("expiretime", 2, "readonly fast", keys=(1, 1, 1))
def expiretime(client: Client, argv: list[bytes]) -> int:
    return _ttl_generic(client, argv[1], 1000, absolute=True)


@command("pexpiretime", 2, "readonly fast", keys=(1, 1, 1))
def pexpiretime(client: Client, argv: list[bytes]) -> int:
    return _ttl_generic(client, argv[1], 1, absolute=True)


@command("persist", 2, "write fast", keys=(1, 1, 1))
def persist(client: Client, argv: list[bytes]) -> int:
    db = client.db
    return int(db.get(argv[1]) is not None and db.persist(argv[1]))


# -- enumeration ---------------------------------------------------------------------------------
def _live_keys(db: Database) -> list[bytes]:
    now = db._keyspace.now
    expires = db.expires
    return [k for k in db.data if k not in expires or expires[k] > now]


@command("keys", 2, "readonly", group="generic", tips="request_policy:all_shards nondeterministic_output_order")
def keys(client: Client, argv: list[bytes]) -> list[bytes]:
    pattern = argv[1]
    return [k for k in _live_keys(client.db) if glob_match(pattern, k)]


@command("dbsize", 1, "readonly fast", tips="request_policy:all_shards response_policy:agg_sum")
def dbsize(client: Client, argv: list[bytes]) -> int:
    return len(client.db.data)


@command("randomkey", 1, "readonly", tips="request_policy:all_shards nondeterministic_output")
def randomkey(client: Client, argv: list[bytes]) -> bytes | None:
    live = _live_keys(client.db)
    return random.choice(live) if live else None


def scan_cursor(raw: bytes) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ReplyError("ERR invalid cursor") from None
    if value < 0 or value >= 2**64 or not raw.isdigit():
        raise ReplyError("ERR invalid cursor")
    return value


def scan_generic(
    items: list[Any],
    argv: list[bytes],
    start: int,
    key_of: Callable[[Any], bytes] | None = None,
    type_of: Callable[[bytes], str] | None = None,
) -> tuple[int, list[Any]]:
    """SCAN / HSCAN / SSCAN / ZSCAN over a snapshot list; the cursor is an index into it.

    Keys are taken in a stable order (insertion order of the dict) so a full iteration
    returns every element that was present throughout, as Redis guarantees.
    """
    cursor = scan_cursor(argv[start])
    count, pattern, type_filter = 10, None, None
    i = start + 1
    while i < len(argv):
        option = argv[i].lower()
        if i + 1 >= len(argv):
            raise errors.SYNTAX
        if option == b"count":
            count = parse_int(argv[i + 1])
            if count < 1:
                raise errors.SYNTAX
        elif option == b"match":
            pattern = argv[i + 1]
        elif option == b"type" and type_of is not None:
            type_filter = argv[i + 1].decode("utf-8", "replace").lower()
        else:
            raise errors.SYNTAX
        i += 2
    chunk = items[cursor : cursor + count]
    following = cursor + count if cursor + count < len(items) else 0
    if pattern is not None and pattern != b"*":
        chunk = [item for item in chunk if glob_match(pattern, key_of(item) if key_of else item)]
    if type_filter is not None:
        chunk = [item for item in chunk if type_filter == type_of(item)]  # type: ignore[misc]
    return following, chunk


@command("scan", -2, "readonly", tips="nondeterministic_output request_policy:special")
def scan(client: Client, argv: list[bytes]) -> list[Any]:
    following, found = scan_generic(list(client.db.data), argv, 1, type_of=client.db.key_type)
    live = [k for k in found if client.db.get(k) is not None]
    return [str(following).encode(), live]


# -- renaming and copying ------------------------------------------------------------------------
def _move_key(src_db: Database, src: bytes, value: Any, dst_db: Database, dst: bytes, keep_source: bool) -> None:
    """Store value, the caller's lookup of src, at dst (with src's TTL)."""
    when = src_db.expires.get(src)
    if keep_source:
        value = copy_value(value)
    else:
        src_db.delete(src, changes=0)
    dst_db.set(dst, value, changes=0 if when is not None else 1)  # one change in all, as Redis
    if when is not None:
        dst_db.set_expire(dst, when)


def copy_value(value: Any) -> Any:
    if value.__class__ is bytes:
        return value
    if value.__class__ is ZSet:
        return value.copy()
    return value.copy() if hasattr(value, "copy") else value


@command("rename", 3, "write", keys=(spec("RW access delete", 1), spec("OW update", 2)))
def rename(client: Client, argv: list[bytes]) -> Any:
    db, src, dst = client.db, argv[1], argv[2]
    value = db.get(src)
    if value is None:
        raise errors.NO_SUCH_KEY
    if src == dst:
        return OK
    db.delete(dst, changes=0)
    _move_key(db, src, value, db, dst, keep_source=False)
    return OK


@command("renamenx", 3, "write fast", keys=(spec("RW access delete", 1), spec("OW insert", 2)))
def renamenx(client: Client, argv: list[bytes]) -> int:
    db, src, dst = client.db, argv[1], argv[2]
    value = db.get(src)
    if value is None:
        raise errors.NO_SUCH_KEY
    if src == dst or db.get(dst) is not None:
        return 0
    _move_key(db, src, value, db, dst, keep_source=False)
    return 1


def _db_index(client: Client, raw: bytes, error: ReplyError = errors.DB_INDEX_OUT_OF_RANGE) -> int:
    try:
        index = parse_int(raw)
    except ReplyError:
        raise errors.NOT_INTEGER from None
    if not 0 <= index < len(client.server.keyspace.dbs):
        raise error
    return index


@command("copy", -3, "write denyoom", reads_keys=True, keys=(spec("RO access", 1), spec("OW update", 2)))
def copy(client: Client, argv: list[bytes]) -> int:
    src, dst = argv[1], argv[2]
    target = client.db
    replace = False
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        if option == b"replace":
            replace = True
        elif option == b"db" and i + 1 < len(argv):
            target = client.server.keyspace.dbs[_db_index(client, argv[i + 1])]
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    if target is client.db and src == dst:
        raise ReplyError("ERR source and destination objects are the same")
    value = client.db.get(src)
    if value is None:
        return 0
    if target.lookup_write(dst) is not None:
        if not replace:
            return 0
        target.delete(dst, changes=0)
    _move_key(client.db, src, value, target, dst, keep_source=True)
    return 1


@command("move", 3, "write fast", keys=(1, 1, 1), key_flags="RW access update")
def move(client: Client, argv: list[bytes]) -> int:
    index = _db_index(client, argv[2])
    target = client.server.keyspace.dbs[index]
    if target is client.db:
        raise ReplyError("ERR source and destination objects are the same")
    key = argv[1]
    value = client.db.get(key)
    if value is None or target.get(key) is not None:
        return 0
    _move_key(client.db, key, value, target, key, keep_source=False)
    return 1


# -- OBJECT --------------------------------------------------------------------------------------
container("object", -2, "generic")


@subcommand("object", "encoding", 3, "readonly", keys=(2, 2, 1), key_flags="RO", tips="nondeterministic_output")
def object_encoding(client: Client, argv: list[bytes]) -> bytes | None:
    value = client.db.get(argv[2])
    if value is None:
        return None
    return encoding_name(value, client.server.config.values).encode()


@subcommand("object", "refcount", 3, "readonly", keys=(2, 2, 1), key_flags="RO", tips="nondeterministic_output")
def object_refcount(client: Client, argv: list[bytes]) -> int | None:
    value = client.db.get(argv[2])
    if value is None:
        return None
    return (
        2147483647
        if value.__class__ is bytes
        and encoding_name(value, client.server.config.values) == "int"
        and 0 <= int(value) < 10000
        else 1
    )


@subcommand("object", "idletime", 3, "readonly", keys=(2, 2, 1), key_flags="RO", tips="nondeterministic_output")
def object_idletime(client: Client, argv: list[bytes]) -> int | None:
    if client.db.get(argv[2]) is None:
        return None
    if "lfu" in client.server.config["maxmemory-policy"]:
        raise ReplyError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
            "between policies at runtime LRU and LFU data will take some time to adjust."
        )
    return 0


@subcommand("object", "freq", 3, "readonly", keys=(2, 2, 1), key_flags="RO", tips="nondeterministic_output")
def object_freq(client: Client, argv: list[bytes]) -> int | None:
    if client.db.get(argv[2]) is None:
        return None
    if "lfu" not in client.server.config["maxmemory-policy"]:
        raise ReplyError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
            "switching between policies at runtime LRU and LFU data will take some time to adjust."
        )
    return 0


@subcommand("object", "help", 2, "loading stale")
def object_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Print this help.",
    ]
