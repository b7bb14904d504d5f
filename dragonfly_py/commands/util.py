"""Argument parsing and typed key access shared by the command families."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from itertools import repeat
from typing import Any

import numpy

from dragonfly_py import errors
from dragonfly_py.protocol.resp import BULK_LENGTHS, ReplyError, encode, encode_bulk_strings
from dragonfly_py.storage.types import LONG_MAX, LONG_MIN

_INT_RE = re.compile(rb"-?(0|[1-9][0-9]*)")
_FLOAT_RE = re.compile(rb"[+-]?(inf|infinity|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)", re.IGNORECASE)


# The integers the commonest arguments spell (LRANGE 0 99, EXPIRE 100, -1), each parsed by one
# lookup instead of a look at its digits and int() (LRANGE_100 -P16: 4% fewer instructions).
_SMALL_INTS = {b"%d" % n: n for n in range(-128, 1024)}


def parse_int(raw: bytes, error: ReplyError = errors.NOT_INTEGER) -> int:
    """Redis's string2ll: a canonical 64-bit integer, else ``error``."""
    value = _SMALL_INTS.get(raw)
    if value is not None:
        return value
    if raw.isdigit() and len(raw) < 19 and (raw[0] != 48 or len(raw) == 1):  # the common form, "0" or no leading 0
        return int(raw)
    if len(raw) <= 20 and _INT_RE.fullmatch(raw):
        value = int(raw)
        if LONG_MIN <= value <= LONG_MAX and raw != b"-0":
            return value
    raise error


def parse_float(raw: bytes, error: ReplyError = errors.NOT_FLOAT) -> float:
    """Redis's getDoubleFromObject: strtod syntax, no spaces, no NaN, no overflow (a finite
    number too large for a double; "inf" itself is fine)."""
    if raw.isdigit():  # the commonest form, ASCII digits only: no need for the full syntax check
        value = float(raw)
        if value != math.inf:
            return value
    elif _FLOAT_RE.fullmatch(raw):
        value = float(raw)
        if not math.isnan(value) and (not math.isinf(value) or raw.lower().lstrip(b"+-").startswith(b"inf")):
            return value
    raise error


def parse_timeout(raw: bytes) -> float:
    """Blocking-command timeout in seconds (a float, 0 = forever)."""
    value = parse_float(raw, errors.TIMEOUT_NOT_FLOAT)
    if value < 0:
        raise errors.TIMEOUT_NEGATIVE
    if math.isinf(value):
        raise errors.TIMEOUT_NOT_FLOAT
    return value


NOT_POSITIVE = ReplyError("ERR value is out of range, must be positive")


def one_key(db: Any, requests: list[list[bytes]], size: int) -> bytes | None:
    """The key, where every request (NAME KEY ...) has size arguments and the same key, which
    has no TTL: a run of one command on one key (a queue's producer or consumer, a set or hash
    filled a member at a time), which a squashed form (Command.many) serves with one lookup.
    None otherwise: more keys, another size, or a TTL (lazy expiry: the command itself)."""
    first = requests[0]
    if len(first) != size or size < 2:
        return None
    key = first[1]
    # For the sizes of the squashed commands, unpacking checks each request's size (ValueError)
    # in one opcode, where len() was a call: ~200 instructions less per request at -P16.
    try:
        if size == 3:
            for _, other, _ in requests:
                if other != key:
                    return None
        elif size == 2:
            for _, other in requests:
                if other != key:
                    return None
        elif size == 4:
            for _, other, _, _ in requests:
                if other != key:
                    return None
        elif any(len(argv) != size or argv[1] != key for argv in requests):
            return None
    except ValueError:
        return None
    return None if db.expires and key in db.expires else key


def one_key_value(db: Any, requests: list[list[bytes]], size: int, kind: type) -> Any:
    """The value at the one key of a run (one_key), made empty where missing, for a squashed form
    that adds to it; None when the run has more keys, or its key has a TTL or another type."""
    key = one_key(db, requests, size)
    if key is None:
        return None
    value = db.data.get(key)
    if value is None:
        value = db.data[key] = kind()
    return value if value.__class__ is kind else None


def values_to_squash(
    db: Any, requests: list[list[bytes]], arity: int, kind: type, pairs: bool = False
) -> list[Any] | None:
    """The value at each request's key (None where missing), for a command's squashed form
    (Command.many) to check before it changes anything; None when a request needs the command
    itself: its arity error (arity as in the command table; pairs: the arguments after the key
    come in pairs), a key with a TTL (lazy expiry), or a value of another type than kind."""
    data, expires = db.data, db.expires
    values: list[Any] = []
    append = values.append
    for argv in requests:
        size = len(argv)
        if (size != arity if arity > 0 else size < -arity) or (pairs and size % 2):
            return None
        key = argv[1]
        if expires and key in expires:
            return None
        value = data.get(key)
        if value is not None and value.__class__ is not kind:
            return None  # WRONGTYPE
        append(value)
    return values


def pops_to_squash(db: Any, requests: list[list[bytes]], kind: type) -> int | None:
    """For a pop without a count run many times (Command.many): 0 when every key is missing
    (then no request changes anything), the length of the shortest value when each holds at
    least an element per request (then each request pops one), else None (values_to_squash's
    reasons, a missing key among others, or a value that may run out: the command itself)."""
    key = one_key(db, requests, 2)
    if key is not None:  # a queue's consumer: one lookup
        value = db.data.get(key)
        values = [value] if value is None or value.__class__ is kind else None
    else:
        values = values_to_squash(db, requests, 2, kind)
    return _pops_over(values, len(requests))


def _pops_over(values: list[Any] | None, count: int) -> int | None:
    """pops_to_squash's answer for the values at the run's keys (values_to_squash's)."""
    if values is None:
        return None
    missing = values.count(None)
    if missing:
        return 0 if missing == len(values) else None
    shortest: int = min(map(len, values))
    return shortest if shortest >= count else None


def delete_emptied(db: Any, requests: list[list[bytes]], shortest: int) -> None:
    """After a squashed pop of one element per request (pops_to_squash gave shortest): delete
    the values it emptied, which only a run as long as the shortest can."""
    if shortest == len(requests):
        data = db.data
        for key in {argv[1] for argv in requests}:
            if not data[key]:
                db.delete(key, changes=0)  # emptied: its pop counted the change


def pop_each(client: Any, requests: list[list[bytes]], kind: type, pop: Callable[[Any], bytes]) -> bytes | None:
    """A read of pops of one element each without a count (LPOP, RPOP, SPOP), in one call
    (Command.many): a nil each where every key is missing (nothing changes), else, where every
    value holds an element per request (pops_to_squash), pop(value) for each, as bulk strings in
    wire form; None where the command itself must run."""
    db = client.db
    count = len(requests)
    nils = (b"_\r\n" if client.resp3 else b"$-1\r\n") * count
    key = one_key(db, requests, 2)
    if key is not None:  # a queue's consumer
        value = db.data.get(key)
        if value is None:
            return nils
        if value.__class__ is not kind or len(value) < count:
            return None
        items = list(map(pop, repeat(value, count)))
        if not value:
            db.delete(key, changes=0)  # emptied: its pops counted the changes
        client.server.keyspace.dirty += count
        return encode_bulk_strings(items, client.resp3) or b"".join([encode(item) for item in items])
    shortest = _pops_over(values_to_squash(db, requests, 2, kind), count)  # not one key (or a TTL)
    if not shortest:
        return None if shortest is None else nils
    data = db.data
    parts: list[bytes] = []
    append = parts.append
    for _, key in requests:
        item = pop(data[key])
        size = len(item)
        append(BULK_LENGTHS[size] if size < 1024 else b"$%d" % size)
        append(item)
    delete_emptied(db, requests, shortest)
    client.server.keyspace.dirty += len(requests)
    append(b"")
    return b"\r\n".join(parts)


def optional_count(argv: list[bytes]) -> int | None:
    """The optional COUNT of LPOP / SPOP / ZPOPMIN & co. (argv[2]); None when absent."""
    if len(argv) > 3:
        raise errors.SYNTAX
    if len(argv) < 3:
        return None
    count = parse_int(argv[2], NOT_POSITIVE)
    if count < 0:
        raise NOT_POSITIVE
    return count


def typed(db: Any, key: bytes, cls: type) -> Any:
    """The value at key if it is of ``cls``; None if missing; WRONGTYPE otherwise."""
    value = db.get(key)
    if value is None or value.__class__ is cls:
        return value
    raise errors.WRONGTYPE


def options(argv: list[bytes], start: int, handlers: dict[bytes, Callable[[int], int]]) -> None:
    """Walk optional arguments: each handler takes the index and returns the next index."""
    i = start
    while i < len(argv):
        handler = handlers.get(argv[i].lower())
        if handler is None:
            raise errors.SYNTAX
        i = handler(i)


def normalize_range(start: int, end: int, length: int) -> tuple[int, int] | None:
    """Redis's LRANGE/GETRANGE index rules; None when the range is empty."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    start = max(start, 0)
    if start > end or start >= length:
        return None
    return start, min(end, length - 1)


def add_long_double(current: bytes, increment: bytes, error: ReplyError) -> bytes:
    """INCRBYFLOAT arithmetic in C long double, formatted as Redis's ld2string (%.17Lf, trimmed)."""
    base = _long_double(current, error)
    step = _long_double(increment, errors.NOT_FLOAT)
    total = base + step
    if not numpy.isfinite(total):
        raise errors.NAN_OR_INF
    return numpy.format_float_positional(total, precision=17, unique=False, fractional=True, trim="-").encode()


def _long_double(raw: bytes, error: ReplyError) -> Any:
    if not _FLOAT_RE.fullmatch(raw):
        raise error
    value = numpy.longdouble(raw.decode())
    if numpy.isnan(value) or numpy.isinf(value):
        raise error
    return value
