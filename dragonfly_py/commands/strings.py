"""String commands."""

from __future__ import annotations

from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.keyspecs import FoundKey, spec
from dragonfly_py.commands.registry import command
from dragonfly_py.commands.util import add_long_double, parse_int, typed
from dragonfly_py.protocol.resp import BULK_LENGTHS, OK, ReplyError
from dragonfly_py.server.client import Client
from dragonfly_py.storage.keyspace import Database
from dragonfly_py.storage.types import LONG_MAX, LONG_MIN

LLONG_MAX = 2**63 - 1


def _get_string(db: Database, key: bytes) -> bytes | None:
    return _as_string(db.get(key))


def _as_string(value: Any) -> bytes | None:
    if value is None or value.__class__ is bytes:
        return value
    raise errors.WRONGTYPE


def expire_at_ms(now: int, unit: bytes, amount_raw: bytes, command_name: str) -> int:
    """EX/PX/EXAT/PXAT argument to an absolute Unix time in ms, with Redis's checks."""
    amount = parse_int(amount_raw)
    invalid = ReplyError(errors.INVALID_EXPIRE.format(command_name))
    if amount <= 0:
        raise invalid
    scale = 1000 if unit in (b"ex", b"exat") else 1
    if amount > LLONG_MAX // scale:
        raise invalid
    when = amount * scale
    if unit in (b"ex", b"px"):
        if when > LLONG_MAX - now:
            raise invalid
        when += now
    return when


def get_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """GET key, many times, while none of the keys has a TTL or holds a value that is no string
    or one of 1 KB or more. One loop takes every step: on CPython 3.11 a C pass over the
    requests per step (lengths, keys, values, types) costs more than the loop's opcodes. The
    replies are joined on CRLF: "$<len>", value, ... and "$-1" (or "_") for a miss."""
    db = client.db
    if db.expires:
        try:
            keys = [key for _, key in requests]
        except ValueError:
            return None
        if not db.expires.keys().isdisjoint(keys):
            return None  # lazy expiry: GET itself
    get = db.data.get
    nil = b"_" if client.resp3 else b"$-1"
    parts: list[bytes] = []
    append, extend = parts.append, parts.extend
    misses = 0
    try:
        for _, key in requests:  # ValueError: a request with other than one key
            value = get(key)
            if value is None:
                misses += 1
                append(nil)
            elif value.__class__ is bytes:
                extend((BULK_LENGTHS[len(value)], value))  # IndexError: 1 KB or more
            else:
                return None  # WRONGTYPE in the middle
    except (ValueError, IndexError):
        return None
    parts.append(b"")
    keyspace = client.server.keyspace
    keyspace.misses += misses
    keyspace.hits += len(requests) - misses
    return b"\r\n".join(parts)


def set_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """SET key value, many times (the commonest pipeline of writes): Database.set inline, as in
    SET. A request with options or too few arguments stops the loop (ValueError) and hands the
    whole run back to SET one by one: the keys set before it are set again to the same values,
    which changes nothing (and costs less than checking every request's length first)."""
    db = client.db
    data = db.data
    try:
        if db.expires:
            expires = db.expires
            for _, key, value in requests:
                data[key] = value
                expires.pop(key, None)
        else:
            for _, key, value in requests:  # a loop costs less than update(map(itemgetter(1, 2)))
                data[key] = value
    except ValueError:
        return None
    count = len(requests)
    client.server.keyspace.dirty += count
    return _OKS[count] if count < len(_OKS) else _OKS[1] * count


_OKS = [bytes(OK) * n for n in range(65)]


@command("get", 2, "readonly fast", keys=(1, 1, 1), group="string", many=get_many)
def get(client: Client, argv: list[bytes]) -> bytes | None:
    db = client.db
    key = argv[1]
    if db.expires and key in db.expires:
        value = db.get(key)  # counts the hit or miss
    else:  # no TTL (the common case): no expiry check, and the lookup counted here
        value = db.data.get(key)
        keyspace = client.server.keyspace
        if value is None:
            keyspace.misses += 1
        else:
            keyspace.hits += 1
    if value is None or value.__class__ is bytes:
        return value
    raise errors.WRONGTYPE


def _set_keys(argv: list[bytes]) -> list[FoundKey]:
    """SET's key and how it is used: read too where GET is among the options (Redis's setGetKeys)."""
    reads = any(arg.upper() == b"GET" for arg in argv[3:])
    return [(1, ("RW", "access", "update") if reads else ("OW", "update"))]


@command(
    "set",
    -3,
    "write denyoom",
    group="string",
    many=set_many,
    keys=(spec("RW access update variable_flags", 1, notes="RW and ACCESS due to the optional `GET` argument"),),
    key_finder=_set_keys,
)
def set_(client: Client, argv: list[bytes]) -> Any:
    db = client.db
    key, value = argv[1], argv[2]
    if len(argv) == 3:  # Database.set inline: SET is the commonest write
        db.data[key] = value
        if db.expires:
            db.expires.pop(key, None)
        keyspace = db._keyspace
        if keyspace.watched or keyspace.blocking or keyspace.tracking is not None:
            keyspace.touched(db, key)
        else:
            keyspace.dirty += 1
        return OK
    nx = xx = keep_ttl = want_old = False
    expire_unit: bytes | None = None
    expire_raw = b""
    i = 3
    while i < len(argv):
        option = argv[i].lower()
        if option == b"nx" and not xx:
            nx = True
        elif option == b"xx" and not nx:
            xx = True
        elif option == b"get":
            want_old = True
        elif option == b"keepttl" and expire_unit is None:
            keep_ttl = True
        elif option in (b"ex", b"px", b"exat", b"pxat") and not keep_ttl and expire_unit is None and i + 1 < len(argv):
            expire_unit = option
            expire_raw = argv[i + 1]
            i += 1
        else:
            raise errors.SYNTAX
        i += 1
    when = expire_at_ms(db._keyspace.now, expire_unit, expire_raw, "set") if expire_unit else None
    old = _as_string(db.lookup_read(key)) if want_old else db.get(key)  # SET ... GET reads as GET
    if (nx and old is not None) or (xx and old is None):
        return old if want_old else None
    db.set(key, value, keep_ttl=keep_ttl, changes=0 if when is not None else 1)  # one change in all
    if when is not None:
        db.set_expire(key, when)
    return old if want_old else OK


@command("setnx", 3, "write denyoom fast", keys=(1, 1, 1), group="string", key_flags="OW insert")
def setnx(client: Client, argv: list[bytes]) -> int:
    db = client.db
    if db.get(argv[1]) is not None:
        return 0
    db.set(argv[1], argv[2])
    return 1


def _set_with_ttl(client: Client, key: bytes, raw_ttl: bytes, value: bytes, unit: bytes, name: str) -> Any:
    db = client.db
    when = expire_at_ms(db._keyspace.now, unit, raw_ttl, name)
    db.set(key, value, changes=0)  # SETEX is one change, counted by set_expire
    db.set_expire(key, when)
    return OK


@command("setex", 4, "write denyoom", keys=(1, 1, 1), group="string", key_flags="OW update")
def setex(client: Client, argv: list[bytes]) -> Any:
    return _set_with_ttl(client, argv[1], argv[2], argv[3], b"ex", "setex")


@command("psetex", 4, "write denyoom", keys=(1, 1, 1), group="string", key_flags="OW update")
def psetex(client: Client, argv: list[bytes]) -> Any:
    return _set_with_ttl(client, argv[1], argv[2], argv[3], b"px", "psetex")


@command("mget", -2, "readonly fast", keys=(1, -1, 1), group="string", tips="request_policy:multi_shard")
def mget(client: Client, argv: list[bytes]) -> list[bytes | None]:
    db = client.db
    out = []
    for key in argv[1:]:
        value = db.get(key)
        out.append(value if value.__class__ is bytes else None)
    return out


def mset_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """MSET key value [key value ...], many times: Database.set_pairs inline, one loop for the
    run. A request with a key short of its value stops the loop before it sets anything and
    hands the whole run back to MSET one by one, as set_many does (the requests before it set
    their keys again to the same values)."""
    db = client.db
    update, expires = db.data.update, db.expires
    changes = 0
    for argv in requests:
        size = len(argv)
        if not size & 1 or size == 1:  # MSET's arity: a value for each key, and one key
            return None
        pairs = iter(argv)  # one iterator zipped with itself: no lists of keys and values
        next(pairs)
        update(zip(pairs, pairs, strict=False))  # whole pairs: the size is odd
        if expires:
            for key in argv[1::2]:
                expires.pop(key, None)
        changes += size >> 1
    client.server.keyspace.dirty += changes
    count = len(requests)
    return _OKS[count] if count < len(_OKS) else _OKS[1] * count


@command(
    "mset",
    -3,
    "write denyoom",
    keys=(1, -1, 2),
    group="string",
    many=mset_many,
    key_flags="OW update",
    tips="request_policy:multi_shard response_policy:all_succeeded",
)
def mset(client: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2 == 0:
        raise errors.wrong_arity("mset")
    client.db.set_pairs(argv)
    return OK


@command(
    "msetnx",
    -3,
    "write denyoom",
    keys=(1, -1, 2),
    group="string",
    key_flags="OW insert",
    tips="request_policy:multi_shard response_policy:agg_min",
)
def msetnx(client: Client, argv: list[bytes]) -> int:
    if len(argv) % 2 == 0:
        raise errors.wrong_arity("msetnx")
    db = client.db
    if any(db.get(argv[i]) is not None for i in range(1, len(argv), 2)):
        return 0
    db.set_pairs(argv)
    return 1


@command(
    "getset", 3, "write denyoom fast", keys=(1, 1, 1), group="string", reads_keys=True, key_flags="RW access update"
)
def getset(client: Client, argv: list[bytes]) -> bytes | None:
    old = _get_string(client.db, argv[1])
    client.db.set(argv[1], argv[2])
    return old


@command("getdel", 2, "write fast", keys=(1, 1, 1), group="string", reads_keys=True, key_flags="RW access delete")
def getdel(client: Client, argv: list[bytes]) -> bytes | None:
    old = _get_string(client.db, argv[1])
    if old is not None:
        client.db.delete(argv[1])
    return old


@command(
    "getex",
    -2,
    "write fast",
    group="string",
    reads_keys=True,
    keys=(spec("RW access update", 1, notes="RW and UPDATE because it changes the TTL"),),
)
def getex(client: Client, argv: list[bytes]) -> bytes | None:
    db, key = client.db, argv[1]
    unit: bytes | None = None
    raw = b""
    persist = False
    i = 2
    while i < len(argv):
        option = argv[i].lower()
        if option in (b"ex", b"px", b"exat", b"pxat") and unit is None and not persist and i + 1 < len(argv):
            unit, raw = option, argv[i + 1]
            i += 1
        elif option == b"persist" and unit is None and not persist:
            persist = True
        else:
            raise errors.SYNTAX
        i += 1
    when = expire_at_ms(db._keyspace.now, unit, raw, "getex") if unit else None
    value = _get_string(db, key)
    if value is None:
        return None
    if when is not None:
        if when <= db._keyspace.now:
            db.delete(key)
        else:
            db.set_expire(key, when)
    elif persist:
        db.persist(key)
    return value


def _check_size(client: Client, size: int) -> None:
    if size > client.server.config["proto-max-bulk-len"]:
        raise errors.STRING_TOO_LONG


@command("append", 3, "write denyoom fast", keys=(1, 1, 1), group="string", key_flags="RW insert")
def append(client: Client, argv: list[bytes]) -> int:
    db, key = client.db, argv[1]
    old = _get_string(db, key) or b""
    _check_size(client, len(old) + len(argv[2]))
    value = old + argv[2]
    db.set(key, value, keep_ttl=True)
    return len(value)


@command("strlen", 2, "readonly fast", keys=(1, 1, 1), group="string", key_flags="RO")
def strlen(client: Client, argv: list[bytes]) -> int:
    return len(_get_string(client.db, argv[1]) or b"")


def _incr_by(client: Client, key: bytes, delta: int) -> int:
    db = client.db
    old = db.get(key) if db.expires else db.data.get(key)  # no TTL anywhere: nothing can expire
    if old is None:
        result = delta
    elif old.__class__ is bytes:
        result = parse_int(old) + delta
    else:
        raise errors.WRONGTYPE
    if not LONG_MIN <= result <= LONG_MAX:
        raise errors.OVERFLOW
    db.set(key, b"%d" % result, True)  # keeps the TTL
    return result


# The next value of a counter at 0..1022, by one lookup: small counters are common (hits, items,
# retries), and the look at the digits, the parse and the format of the general case cost ~2k
# instructions more. The keys counted share these values, as Redis shares its small integers.
_NEXT_COUNTS = {b"%d" % n: b"%d" % (n + 1) for n in range(1023)}


def incr_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """INCR key, many times, while none of the keys has a TTL and each holds a non-negative
    integer of under 18 digits or nothing (then no result can overflow): one loop counts, and a
    request that must run on its own (an error in the middle, a TTL to keep ...) first undoes
    what the loop did before it, so that the whole run goes to INCR one by one. Each request
    changes its key, so each goes to replicas as sent (Command.many)."""
    db = client.db
    data, expires = db.data, db.expires
    get = data.get
    olds: list[bytes | None] = []  # what each counted key held: the undo
    keep = olds.append
    results: list[bytes] = []  # as stored: the replies are these digits, each formatted once
    append = results.append
    try:
        for _, key in requests:  # ValueError: a request with other than one key
            old = get(key)
            if old is None:
                new = b"1"
            elif (new := _NEXT_COUNTS.get(old)) is None:  # TypeError: a list, a set ... (unhashable)
                if old.isdigit() and len(old) < 18 and (old[0] != 48 or len(old) == 1):  # AttributeError:
                    new = b"%d" % (int(old) + 1)  # another type (only strings are bytes, with isdigit)
                else:
                    raise ValueError  # not an integer, or one to parse in full
            if expires and key in expires:
                raise ValueError
            keep(old)
            data[key] = new
            append(new)
    except (ValueError, AttributeError, TypeError):
        for argv, old in zip(reversed(requests[: len(olds)]), reversed(olds), strict=True):
            if old is None:
                del data[argv[1]]
            else:
                data[argv[1]] = old
        return None
    client.server.keyspace.dirty += len(requests)
    return b":" + b"\r\n:".join(results) + b"\r\n"


@command("incr", 2, "write denyoom fast", keys=(1, 1, 1), group="string", many=incr_many, key_flags="RW access update")
def incr(client: Client, argv: list[bytes]) -> int:
    return _incr_by(client, argv[1], 1)


@command("decr", 2, "write denyoom fast", keys=(1, 1, 1), group="string", key_flags="RW access update")
def decr(client: Client, argv: list[bytes]) -> int:
    return _incr_by(client, argv[1], -1)


@command("incrby", 3, "write denyoom fast", keys=(1, 1, 1), group="string", key_flags="RW access update")
def incrby(client: Client, argv: list[bytes]) -> int:
    return _incr_by(client, argv[1], parse_int(argv[2]))


@command("decrby", 3, "write denyoom fast", keys=(1, 1, 1), group="string", key_flags="RW access update")
def decrby(client: Client, argv: list[bytes]) -> int:
    delta = parse_int(argv[2])
    if delta == LONG_MIN:
        raise ReplyError("ERR decrement would overflow")
    return _incr_by(client, argv[1], -delta)


@command("incrbyfloat", 3, "write denyoom fast", keys=(1, 1, 1), group="string", key_flags="RW access update")
def incrbyfloat(client: Client, argv: list[bytes]) -> bytes:
    db, key = client.db, argv[1]
    old = _get_string(db, key)
    result = add_long_double(old if old is not None else b"0", argv[2], errors.NOT_FLOAT)
    db.set(key, result, keep_ttl=True)
    return result


@command("getrange", 4, "readonly", keys=(1, 1, 1), group="string")
def getrange(client: Client, argv: list[bytes]) -> bytes:
    start, end = parse_int(argv[2]), parse_int(argv[3])
    value = _get_string(client.db, argv[1]) or b""
    if start < 0 and end < 0 and start > end:
        return b""
    length = len(value)
    # Unlike LRANGE, Redis clamps a negative end to 0 here.
    start = max(start + length if start < 0 else start, 0)
    end = max(end + length if end < 0 else end, 0)
    end = min(end, length - 1)
    return b"" if start > end or not length else value[start : end + 1]


@command("substr", 4, "readonly", keys=(1, 1, 1), group="string")
def substr(client: Client, argv: list[bytes]) -> bytes:
    return getrange(client, argv)


@command("setrange", 4, "write denyoom", keys=(1, 1, 1), group="string")
def setrange(client: Client, argv: list[bytes]) -> int:
    db, key = client.db, argv[1]
    offset = parse_int(argv[2])
    if offset < 0:
        raise ReplyError("ERR offset is out of range")
    patch = argv[3]
    old = _get_string(db, key)
    if old is None:
        if not patch:
            return 0
        old = b""
    elif not patch:
        return len(old)
    _check_size(client, offset + len(patch))
    value = old.ljust(offset, b"\0")[:offset] + patch + old[offset + len(patch) :]
    db.set(key, value, keep_ttl=True)
    return len(value)


@command("lcs", -3, "readonly", keys=(1, 2, 1), group="string")
def lcs(client: Client, argv: list[bytes]) -> Any:
    a = typed(client.db, argv[1], bytes) or b""
    b = typed(client.db, argv[2], bytes) or b""
    want_len = b"len" in (x.lower() for x in argv[3:])
    if len(a) * len(b) > 4_000_000:
        raise ReplyError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    prev = [0] * (len(b) + 1)
    rows = [prev]
    for i in range(1, len(a) + 1):
        row = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            row[j] = prev[j - 1] + 1 if a[i - 1] == b[j - 1] else max(prev[j], row[j - 1])
        rows.append(row)
        prev = row
    if want_len:
        return rows[-1][-1]
    out = bytearray()
    i, j = len(a), len(b)
    while i and j:
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            i, j = i - 1, j - 1
        elif rows[i - 1][j] >= rows[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return bytes(reversed(out))
