"""Byte-level RDB encodings: lengths, strings, and the compact blobs (listpack, ziplist, intset,
zipmap) Redis stores small collections in. Layouts: replication-protocol.md §2.2-2.8.

Decoders return plain Python values (bytes, or int for integer entries) and raise
:class:`BlobError` on anything malformed; the reader adds the file offset.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import struct
from collections.abc import Iterator

import anycrc

CRC64 = anycrc.Model("CRC64-REDIS")

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_U32_BE = struct.Struct(">I")
_U64_BE = struct.Struct(">Q")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class BlobError(ValueError):
    """A malformed compact encoding."""


@contextlib.contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """Loading or saving millions of values that hold no reference cycles: the cyclic collector
    would only rescan them again and again (a quarter of a 1M-key load), so it waits.

    freeze: a loaded dataset is long-lived and acyclic, so it goes to the collector's permanent
    generation: no full collection over it when the collector resumes (0.3 s per 1M keys), nor
    later ones.  Its values are still freed by reference counting when replaced or deleted."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


# -- lengths and strings (writer side) ---------------------------------------------------------
def encode_length(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n < 2**32:
        return b"\x80" + _U32_BE.pack(n)
    return b"\x81" + _U64_BE.pack(n)


def canonical_int(value: bytes) -> int | None:
    """The integer a string spells in canonical form (no '+', no leading zeros, not '-0'), or None."""
    size = len(value)
    if not 0 < size <= 20:
        return None
    if value.isdigit():  # ASCII digits only: a cheap filter before int()
        if value[0] == 48 and size > 1:
            return None
    elif value[0] != 45 or size == 1 or value[1] == 48 or not value[1:].isdigit():
        return None
    number = int(value)
    return number if INT64_MIN <= number <= INT64_MAX else None


# Every one-byte value, built once: short lengths, back-lengths and type bytes are the common case.
SINGLE_BYTE = [bytes((n,)) for n in range(256)]
DIGIT_OR_MINUS = frozenset(b"-0123456789")  # the first byte of a string that may be an integer


def encode_string(value: bytes, compress: bool) -> bytes:
    """An RDB string: INT8/16/32 form for small canonical integers, LZF when it pays, else raw."""
    size = len(value)
    if size <= 11 and size and value[0] in DIGIT_OR_MINUS:
        number = canonical_int(value)
        if number is not None:
            if -128 <= number <= 127:
                return b"\xc0" + struct.pack("<b", number)
            if -32768 <= number <= 32767:
                return b"\xc1" + _I16.pack(number)
            if -(2**31) <= number < 2**31:
                return b"\xc2" + _I32.pack(number)
    if size <= 20:  # LZF is only tried on longer strings, as in Redis
        return SINGLE_BYTE[size] + value
    if compress:
        packed = _lzf_compress(value)
        if packed is not None:
            return b"\xc3" + encode_length(len(packed)) + encode_length(size) + packed
    return encode_length(size) + value


def _lzf_compress(value: bytes) -> bytes | None:
    import lzf

    # Redis keeps the compressed form only when it saves at least 4 bytes.
    return lzf.compress(value, len(value) - 4) if len(value) > 4 else None


def lzf_decompress(data: bytes, expected: int) -> bytes:
    import lzf

    if expected == 0:
        return b""
    try:
        out = lzf.decompress(data, expected)
    except ValueError:
        out = None
    if out is None or len(out) != expected:
        raise BlobError("invalid LZF compressed string")
    return out


# -- listpack ----------------------------------------------------------------------------------
def _backlen(size: int) -> bytes:
    if size < 128:
        return bytes((size,))
    if size < 16383:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return bytes((size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128, (size & 127) | 128))
    return bytes(
        (
            size >> 28,
            ((size >> 21) & 127) | 128,
            ((size >> 14) & 127) | 128,
            ((size >> 7) & 127) | 128,
            (size & 127) | 128,
        )
    )


def _listpack_int(number: int) -> bytes:
    if 0 <= number <= 127:
        return bytes((number,))
    if -4096 <= number <= 4095:
        unsigned = number & 0x1FFF
        return bytes((0xC0 | (unsigned >> 8), unsigned & 0xFF))
    if -32768 <= number <= 32767:
        return b"\xf1" + _I16.pack(number)
    if -(2**23) <= number < 2**23:
        return b"\xf2" + (number & 0xFFFFFF).to_bytes(3, "little")
    if -(2**31) <= number < 2**31:
        return b"\xf3" + _I32.pack(number)
    return b"\xf4" + _I64.pack(number)


_LISTPACK_SMALL_STRING = [bytes((0x80 | n,)) for n in range(64)]


def listpack_entry(element: bytes | int) -> bytes:
    if element.__class__ is int:
        body = _listpack_int(element)  # type: ignore[arg-type]
    else:
        size = len(element)  # type: ignore[arg-type]
        number = canonical_int(element) if size and element[0] in DIGIT_OR_MINUS else None  # type: ignore[arg-type,index]
        if number is not None:
            body = _listpack_int(number)
        elif size < 64:
            body = _LISTPACK_SMALL_STRING[size] + element  # type: ignore[operator]
        elif size < 4096:
            body = bytes((0xE0 | (size >> 8), size & 0xFF)) + element  # type: ignore[operator]
        else:
            body = b"\xf0" + _U32.pack(size) + element  # type: ignore[operator]
    size = len(body)
    return body + (SINGLE_BYTE[size] if size < 128 else _backlen(size))


# Encoded entries of short strings seen before: field names and small values repeat across the
# many small hashes, lists and sorted sets of a dataset.  Bounded, so it stays a small cache.
_ENTRY_CACHE: dict[bytes, bytes] = {}
_ENTRY_CACHE_SIZE = 4096


def _cached_entry(element: bytes | int) -> bytes:
    entry = listpack_entry(element)
    if element.__class__ is bytes and len(element) <= 16 and len(_ENTRY_CACHE) < _ENTRY_CACHE_SIZE:  # type: ignore[arg-type]
        _ENTRY_CACHE[element] = entry  # type: ignore[index]
    return entry


def encode_listpack(elements: list[bytes | int]) -> bytes:
    get = _ENTRY_CACHE.get
    body = b"".join([get(e) or _cached_entry(e) for e in elements])  # type: ignore[arg-type]
    count = len(elements) if len(elements) < 65535 else 65535
    return _U32.pack(len(body) + 7) + _U16.pack(count) + body + b"\xff"


_WIDE_INTS = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}  # listpack 16/24/32/64-bit integer entries
_SMALL_INTS = tuple(range(128))  # listpack 7-bit integer entries, as int or as text
_SMALL_INT_TEXTS = tuple(b"%d" % n for n in range(128))


def decode_listpack_strings(blob: bytes) -> list[bytes]:
    """Every element of a listpack as bytes, integers spelled out (hashes, lists, sets, zsets)."""
    return decode_listpack(blob, strings=True)  # type: ignore[return-value]


def decode_listpack(blob: bytes, strings: bool = False) -> list[bytes | int]:
    """Every element of a listpack, strings as bytes and integers as int (or spelled out)."""
    if len(blob) < 7 or _U32.unpack_from(blob)[0] != len(blob) or blob[-1] != 0xFF:
        raise BlobError("invalid listpack header")
    out: list[bytes | int] = []
    append = out.append
    small_ints = _SMALL_INT_TEXTS if strings else _SMALL_INTS
    pos, end = 6, len(blob) - 1
    try:
        while pos < end:
            b0 = blob[pos]
            # The short forms first, each with its one-byte back-length skipped in the same step.
            if b0 < 0x80:  # 7-bit unsigned int
                append(small_ints[b0])
                pos += 2
                continue
            if b0 < 0xC0:  # string of up to 63 bytes
                size = b0 & 0x3F
                append(blob[pos + 1 : pos + 1 + size])
                pos += 2 + size
                continue
            if b0 < 0xE0:  # 13-bit signed int
                unsigned = ((b0 & 0x1F) << 8) | blob[pos + 1]
                number = unsigned - 0x2000 if unsigned & 0x1000 else unsigned
                append(b"%d" % number if strings else number)
                pos += 3
                continue
            start = pos
            if b0 < 0xF0:
                size = ((b0 & 0x0F) << 8) | blob[pos + 1]
                append(blob[pos + 2 : pos + 2 + size])
                pos += 2 + size
            elif b0 == 0xF0:
                size = _U32.unpack_from(blob, pos + 1)[0]
                append(blob[pos + 5 : pos + 5 + size])
                pos += 5 + size
            elif b0 in _WIDE_INTS:
                width = _WIDE_INTS[b0]
                number = int.from_bytes(blob[pos + 1 : pos + 1 + width], "little", signed=True)
                if pos + 1 + width > end:
                    raise IndexError
                append(b"%d" % number if strings else number)
                pos += 1 + width
            else:
                raise BlobError(f"invalid listpack entry encoding 0x{b0:02x}")
            size = pos - start
            pos += 1 if size < 128 else 2 if size < 16383 else 3 if size < 2097151 else 4 if size < 268435455 else 5
    except (IndexError, struct.error) as exc:
        raise BlobError("listpack entry runs past its end") from exc
    if pos != end:
        raise BlobError("listpack entries overrun the end marker")
    count = _U16.unpack_from(blob, 4)[0]
    if count != 65535 and count != len(out):
        raise BlobError("listpack element count does not match its header")
    return out


# -- ziplist -----------------------------------------------------------------------------------
def decode_ziplist(blob: bytes) -> list[bytes | int]:
    if len(blob) < 11 or _U32.unpack_from(blob)[0] != len(blob) or blob[-1] != 0xFF:
        raise BlobError("invalid ziplist header")
    out: list[bytes | int] = []
    pos, end = 10, len(blob) - 1
    try:
        while pos < end:
            pos += 5 if blob[pos] == 0xFE else 1
            b0 = blob[pos]
            kind = b0 >> 6
            if kind == 0:
                size, pos = b0 & 0x3F, pos + 1
            elif kind == 1:
                size, pos = ((b0 & 0x3F) << 8) | blob[pos + 1], pos + 2
            elif kind == 2:
                size, pos = _U32_BE.unpack_from(blob, pos + 1)[0], pos + 5
            else:
                pos += 1
                if b0 == 0xC0:
                    out.append(_I16.unpack_from(blob, pos)[0])
                    pos += 2
                elif b0 == 0xD0:
                    out.append(_I32.unpack_from(blob, pos)[0])
                    pos += 4
                elif b0 == 0xE0:
                    out.append(_I64.unpack_from(blob, pos)[0])
                    pos += 8
                elif b0 == 0xF0:
                    out.append(int.from_bytes(blob[pos : pos + 3], "little", signed=True))
                    pos += 3
                elif b0 == 0xFE:
                    out.append(struct.unpack_from("<b", blob, pos)[0])
                    pos += 1
                elif 0xF1 <= b0 <= 0xFD:
                    out.append((b0 & 0x0F) - 1)
                else:
                    raise BlobError(f"invalid ziplist entry encoding 0x{b0:02x}")
                continue
            if pos + size > end:
                raise BlobError("ziplist entry runs past its end")
            out.append(blob[pos : pos + size])
            pos += size
    except (IndexError, struct.error) as exc:
        raise BlobError("ziplist entry runs past its end") from exc
    if pos != end:
        raise BlobError("ziplist entries overrun the end marker")
    return out


# -- intset ------------------------------------------------------------------------------------
_INTSET_FORMATS = {2: "h", 4: "i", 8: "q"}


def decode_intset(blob: bytes) -> list[int]:
    if len(blob) < 8:
        raise BlobError("invalid intset header")
    width, count = struct.unpack_from("<II", blob)
    fmt = _INTSET_FORMATS.get(width)
    if fmt is None or len(blob) != 8 + width * count or count == 0:
        raise BlobError("invalid intset encoding or size")
    values = list(struct.unpack_from(f"<{count}{fmt}", blob, 8))
    if any(a >= b for a, b in itertools.pairwise(values)):
        raise BlobError("intset members are not strictly ascending")
    return values


def encode_intset(numbers: list[int]) -> bytes:
    numbers = sorted(numbers)
    low, high = numbers[0], numbers[-1]
    width = 2 if low >= -32768 and high <= 32767 else 4 if low >= -(2**31) and high < 2**31 else 8
    return struct.pack(f"<II{len(numbers)}{_INTSET_FORMATS[width]}", width, len(numbers), *numbers)


# -- zipmap (Redis <= 2.4 hashes) --------------------------------------------------------------
def decode_zipmap(blob: bytes) -> list[bytes]:
    out: list[bytes] = []
    pos = 1
    try:
        while blob[pos] != 0xFF:
            for is_value in (False, True):
                size = blob[pos]
                if size < 254:
                    pos += 1
                elif size == 254:
                    size = _U32.unpack_from(blob, pos + 1)[0]
                    pos += 5
                else:
                    raise BlobError("invalid zipmap length")
                free = 0
                if is_value:
                    free = blob[pos]
                    pos += 1
                if pos + size > len(blob):
                    raise BlobError("zipmap entry runs past its end")
                out.append(blob[pos : pos + size])
                pos += size + free
    except (IndexError, struct.error) as exc:
        raise BlobError("zipmap entry runs past its end") from exc
    return out
