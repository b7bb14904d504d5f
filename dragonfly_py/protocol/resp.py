"""Reply values and their RESP2 / RESP3 encodings.

Commands return plain Python values; the encoder picks the wire form for the client's
protocol version:

=================  =======================  ==========================
value              RESP2                    RESP3
=================  =======================  ==========================
bytes              bulk string              bulk string
int                integer                  integer
None               null bulk ``$-1``        null ``_``
str                status ``+...``          status
list / tuple       array                    array
Map (dict)         flat array               map ``%``
SetReply           array                    set ``~``
float              bulk string (%.17g)      double ``,``
NullArray          ``*-1``                  null ``_``
Push               array                    push ``>``
Verbatim           bulk string              verbatim ``=``
bool               integer 0/1              boolean ``#``
ReplyError         error ``-...``           error
Raw                bytes as they are        bytes as they are
=================  =======================  ==========================
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import hiredis


class ReplyError(Exception):
    """An error reply; the message already carries its prefix (``ERR``, ``WRONGTYPE`` ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Map(dict):
    """A RESP3 map; flattened to key, value, ... in RESP2."""

    __slots__ = ()


class SetReply(list):
    """A RESP3 set; an array in RESP2."""

    __slots__ = ()


class Push(list):
    """An out-of-band push (pub/sub messages, invalidations)."""

    __slots__ = ()


class Verbatim(bytes):
    """Verbatim text (INFO, CLIENT INFO ...): ``=`` with ``txt:`` in RESP3."""

    __slots__ = ()


class Raw(bytes):
    """Bytes already in wire form for every protocol version."""

    __slots__ = ()


class _NullArray:
    __slots__ = ()


NULL_ARRAY = _NullArray()
OK = Raw(b"+OK\r\n")
QUEUED = Raw(b"+QUEUED\r\n")
PONG = Raw(b"+PONG\r\n")
EMPTY_ARRAY: list[Any] = []

_ONLY_BYTES = {bytes}
INT_REPLIES = [b":%d\r\n" % i for i in range(-1, 1024)]
# "$<len>\r\n" for short bulk strings: two concatenations cost half of one %-format.
BULK_HEADERS = [b"$%d\r\n" % i for i in range(1024)]
BULK_LENGTHS = [b"$%d" % i for i in range(1024)]


def encode_command(argv: Sequence[bytes | str | int]) -> bytes:
    """A request (or a replication stream command) as a RESP array of bulk strings, str as UTF-8
    and int in decimal: hiredis's C formatter, since this runs once per propagated write."""
    return hiredis.pack_command(tuple(argv))


def format_double(value: float) -> bytes:
    """Redis 7.0's addReplyDouble text: ``%.17g`` with ``inf``/``-inf``."""
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    return b"%.17g" % value


def encode(value: Any, resp3: bool = False) -> bytes:
    """One reply in wire form."""
    cls = value.__class__
    if cls is bytes:
        size = len(value)
        return BULK_HEADERS[size] + value + b"\r\n" if size < 1024 else b"$%d\r\n%b\r\n" % (size, value)
    if cls is Raw:
        return value
    if cls is int:
        return INT_REPLIES[value + 1] if -1 <= value < 1023 else b":%d\r\n" % value
    if value is None:
        return b"_\r\n" if resp3 else b"$-1\r\n"
    if cls is list or cls is tuple:
        if value and set(map(type, value)) == _ONLY_BYTES:
            return encode_bulk_array(value)
        return b"*%d\r\n" % len(value) + b"".join([encode(item, resp3) for item in value])
    if cls is str:
        return b"+%b\r\n" % value.encode()
    return _encode_rare(value, cls, resp3)


def bulk_array(items: list[bytes]) -> Raw:
    """A reply of an array of items known to be bytes (the elements of a list): its wire form,
    without encode()'s look at the type of every item (2 us of 6 for 100 items)."""
    return Raw(encode_bulk_array(items)) if items else Raw(b"*0\r\n")


def encode_bulk_array(items: list[bytes] | tuple[bytes, ...]) -> bytes:
    """An array of bulk strings, formatted in C: by hiredis for a few (or with an item of 1 KB
    or more), else as _bulk_strings behind the array's header."""
    count = len(items)
    body = _bulk_strings(items, b"*%d\r\n" % count) if count >= 16 else None
    return hiredis.pack_command(tuple(items)) if body is None else body


def _bulk_strings(items: Sequence[bytes], head: bytes = b"") -> bytes | None:
    """head, then bulk strings one after another, as one join of the items and their length
    headers with CRLF between (half the instructions of hiredis at 100 items), or, where the
    items are all of one length (LRANGE of fixed-size values, GETs of them), of the items alone
    with the one header between them, in one format with head (half again); None when one of
    them is 1 KB or more. Rows of mixed lengths are told by their first and last item."""
    size = len(items[0])
    if size == len(items[-1]) and size < len(BULK_LENGTHS) and list(map(len, items)).count(size) == len(items):
        header = BULK_LENGTHS[size]
        return b"%b%b\r\n%b\r\n" % (head, header, (b"\r\n" + header + b"\r\n").join(items))
    parts: list[bytes] = [b""] * (2 * len(items))
    try:
        parts[0::2] = list(map(BULK_LENGTHS.__getitem__, map(len, items)))
    except IndexError:
        return None
    parts[1::2] = items
    parts.append(b"")
    return head + b"\r\n".join(parts)


def encode_bulk_strings(values: list[bytes | None], resp3: bool) -> bytes | None:
    """Replies in a row, each a bulk string or a nil; None when one of them is 1 KB or more.
    All hits or all misses, the commonest rows, are formatted without a Python loop."""
    misses = values.count(None)
    if misses == len(values):
        return (b"_\r\n" if resp3 else b"$-1\r\n") * misses
    if not misses:
        return _bulk_strings(values)  # type: ignore[arg-type]
    nil = b"_" if resp3 else b"$-1"
    parts: list[bytes] = []
    extend = parts.extend
    try:
        for value in values:
            if value is None:
                parts.append(nil)
            else:
                extend((BULK_LENGTHS[len(value)], value))
    except IndexError:
        return None
    parts.append(b"")
    return b"\r\n".join(parts)


def encode_integers(values: Iterable[int]) -> bytes:
    """Integer replies in a row (a squashed command's replies, Command.many), formatted in one C
    call: a row of ":%d\r\n" filled from a tuple costs a third of a format per value."""
    row = tuple(values)
    count = len(row)
    return (_INT_ROWS[count] if count < len(_INT_ROWS) else b":%d\r\n" * count) % row


def encode_alike(replies: list[Any], resp3: bool) -> bytes | None:
    """Replies in a row that are all of one simple kind, in wire form, each formatted in C: all
    integers, all in wire form already (+OK), all bulk strings and nils under 1 KB, or all
    empty arrays; None for any other row, to be encoded one by one."""
    kinds = set(map(type, replies))
    if kinds == _ONLY_INTS:
        return encode_integers(replies)
    if kinds == _ONLY_RAW:
        return b"".join(replies)
    if _STRING_OR_MISSING.issuperset(kinds):
        return encode_bulk_strings(replies, resp3)
    if kinds == _ONLY_LISTS and not any(replies):  # pops of missing keys (ZPOPMIN ...)
        return b"*0\r\n" * len(replies)
    return None


_ONLY_INTS = {int}
_ONLY_LISTS = {list}
_ONLY_RAW = {Raw}
_INT_ROWS = [b":%d\r\n" * count for count in range(65)]
_STRING_OR_MISSING = frozenset({bytes, type(None)})  # the types of a row of GET replies


def _encode_rare(value: Any, cls: type, resp3: bool) -> bytes:
    if isinstance(value, ReplyError):
        return b"-%b\r\n" % value.message.encode("utf-8", "surrogateescape")  # the client's bytes, as sent
    if cls is Map:
        head = b"%%%d\r\n" % len(value) if resp3 else b"*%d\r\n" % (2 * len(value))
        return head + b"".join([encode(k, resp3) + encode(v, resp3) for k, v in value.items()])
    if cls is SetReply:
        head = b"~%d\r\n" if resp3 else b"*%d\r\n"
        return head % len(value) + b"".join([encode(item, resp3) for item in value])
    if cls is float:
        text = format_double(value)
        return b",%b\r\n" % text if resp3 else b"$%d\r\n%b\r\n" % (len(text), text)
    if cls is bool:
        return (b"#t\r\n" if value else b"#f\r\n") if resp3 else (b":1\r\n" if value else b":0\r\n")
    if value is NULL_ARRAY:
        return b"_\r\n" if resp3 else b"*-1\r\n"
    if cls is Push:
        head = b">%d\r\n" if resp3 else b"*%d\r\n"
        return head % len(value) + b"".join([encode(item, resp3) for item in value])
    if cls is Verbatim:
        if resp3:
            return b"=%d\r\ntxt:%b\r\n" % (len(value) + 4, value)
        return b"$%d\r\n%b\r\n" % (len(value), value)
    if isinstance(value, bytes):
        return encode(bytes(value), resp3)
    if isinstance(value, list | tuple):
        return encode(list(value), resp3)
    raise TypeError(f"cannot encode reply of type {cls.__name__}")
