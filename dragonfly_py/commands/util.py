"""Argument parsing and typed key access shared by the command families."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy

from dragonfly_py import errors
from dragonfly_py.protocol.resp import ReplyError
from dragonfly_py.storage.types import LONG_MAX, LONG_MIN

_INT_RE = re.compile(rb"-?(0|[1-9][0-9]*)")
_FLOAT_RE = re.compile(rb"[+-]?(inf|infinity|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)", re.IGNORECASE)


def parse_int(raw: bytes, error: ReplyError = errors.NOT_INTEGER) -> int:
    """Redis's string2ll: a canonical 64-bit integer, else ``error``."""
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
