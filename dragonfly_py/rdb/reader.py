"""RDB loader for versions 1-11 (Redis <= 7.2): every opcode, type and encoding.

The reader pulls bytes through a ``read(n)`` callable, so it loads from a file, or from a socket
as the bytes arrive (a replica's diskless full sync). It never touches a live keyspace: it builds
a :class:`Snapshot` that the server swaps in once the whole payload has loaded and its CRC-64
matched, so a bad payload never half-loads.
"""

from __future__ import annotations

import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dragonfly_py.rdb.encoding import (
    CRC64,
    BlobError,
    decode_intset,
    decode_listpack,
    decode_listpack_strings,
    decode_ziplist,
    decode_zipmap,
    gc_paused,
    lzf_decompress,
)
from dragonfly_py.storage.stream import Consumer, ConsumerGroup, PendingEntry, Stream
from dragonfly_py.storage.types import ZSet

MAX_VERSION = 11

OP_FUNCTION2, OP_FUNCTION_PRE_GA, OP_MODULE_AUX = 0xF5, 0xF6, 0xF7
OP_IDLE, OP_FREQ, OP_AUX, OP_RESIZEDB = 0xF8, 0xF9, 0xFA, 0xFB
OP_EXPIRETIME_MS, OP_EXPIRETIME, OP_SELECTDB, OP_EOF = 0xFC, 0xFD, 0xFE, 0xFF

_F64 = struct.Struct("<d")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_U64_BE = struct.Struct(">Q")
_ID = struct.Struct(">QQ")
_UNKNOWN_ENTRIES_READ = 2**64 - 1
_INT_ENCODING_WIDTHS = {0xC0: 1, 0xC1: 2, 0xC2: 4}  # RDB strings stored as 8/16/32-bit integers


class RdbError(Exception):
    """A payload we refuse: says what is wrong and at which byte offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at offset {offset}")
        self.reason = message
        self.offset = offset


@dataclass
class Snapshot:
    version: int = 0
    aux: dict[bytes, bytes] = field(default_factory=dict)
    functions: list[bytes] = field(default_factory=list)
    # db index -> (data, expires)
    dbs: dict[int, tuple[dict[bytes, Any], dict[bytes, int]]] = field(default_factory=dict)
    keys_loaded: int = 0
    keys_expired: int = 0
    checksum_verified: bool = False


class RdbReader:
    def __init__(
        self,
        read: Callable[[int], bytes],
        *,
        databases: int = 16,
        drop_expired_before: int | None = None,
        chunk_size: int = 1 << 20,
        progress: Callable[[int], None] | None = None,
        key_delay_us: int = 0,
    ) -> None:
        """drop_expired_before: skip keys whose expiry is before this unix ms (a primary's load)."""
        self._read = read
        self._chunk = chunk_size
        self._buf = b""
        self._pos = 0
        self._base = 0  # file offset of _buf[0]
        self._crc = 0
        self._crc_from = 0  # index in _buf up to which the CRC is computed
        self.databases = databases
        self.drop_expired_before = drop_expired_before
        self.progress = progress
        self.key_delay = key_delay_us / 1e6  # key-load-delay: a debug knob that slows loading

    # -- buffer ------------------------------------------------------------------------------
    @property
    def offset(self) -> int:
        return self._base + self._pos

    def _fill(self, needed: int) -> None:
        buf, pos = self._buf, self._pos
        self._crc = CRC64.calc(buf[self._crc_from : pos], self._crc)
        parts = [buf[pos:]]
        have = len(parts[0])
        while have < needed:
            data = self._read(max(self._chunk, needed - have))
            if not data:
                raise RdbError(f"Unexpected EOF reading RDB file (needed {needed} bytes, have {have})", self.offset)
            parts.append(data)
            have += len(data)
        self._base += pos
        self._buf = b"".join(parts)
        self._pos = self._crc_from = 0
        if self.progress is not None:
            self.progress(self._base)

    def _take(self, n: int) -> bytes:
        pos = self._pos
        end = pos + n
        if end > len(self._buf):
            self._fill(n)
            pos, end = 0, n
        self._pos = end
        return self._buf[pos:end]

    def _byte(self) -> int:
        pos = self._pos
        if pos >= len(self._buf):
            self._fill(1)
            pos = 0
        self._pos = pos + 1
        return self._buf[pos]

    # -- primitives --------------------------------------------------------------------------
    def _length(self) -> int:
        buf, pos = self._buf, self._pos
        if pos < len(buf) and buf[pos] < 64:  # one-byte length: the common case, inlined
            self._pos = pos + 1
            return buf[pos]
        b0 = self._byte()
        kind = b0 >> 6
        if kind == 0:
            return b0
        if kind == 1:
            return ((b0 & 0x3F) << 8) | self._byte()
        if b0 == 0x80:
            return int.from_bytes(self._take(4), "big")
        if b0 == 0x81:
            return _U64_BE.unpack(self._take(8))[0]
        raise RdbError(f"Unknown length encoding 0x{b0:02x}", self.offset - 1)

    def _string(self) -> bytes:
        buf, pos = self._buf, self._pos
        if pos < len(buf):
            b0 = buf[pos]
            if b0 < 64 and pos + 1 + b0 <= len(buf):  # a short raw string: the common case, inlined
                self._pos = end = pos + 1 + b0
                return buf[pos + 1 : end]
        b0 = self._byte()
        kind = b0 >> 6
        if kind == 0:
            return self._take(b0)
        if kind == 1:
            return self._take(((b0 & 0x3F) << 8) | self._byte())
        if b0 == 0x80:
            return self._take(int.from_bytes(self._take(4), "big"))
        if b0 == 0x81:
            return self._take(_U64_BE.unpack(self._take(8))[0])
        width = _INT_ENCODING_WIDTHS.get(b0)
        if width is not None:
            return b"%d" % int.from_bytes(self._take(width), "little", signed=True)
        if b0 == 0xC3:
            at = self.offset
            packed_len = self._length()
            size = self._length()
            try:
                return lzf_decompress(self._take(packed_len), size)
            except BlobError as exc:
                raise RdbError(str(exc), at) from None
        raise RdbError(f"Unknown RDB string encoding type 0x{b0:02x}", self.offset - 1)

    def _blob(self, decode: Callable[[bytes], list[Any]]) -> list[Any]:
        at = self.offset
        blob = self._string()
        try:
            return decode(blob)
        except BlobError as exc:
            raise RdbError(f"{exc}", at) from None

    def _text_double(self) -> float:
        size = self._byte()
        if size == 253:
            return float("nan")
        if size == 254:
            return float("inf")
        if size == 255:
            return float("-inf")
        return float(self._take(size))

    # -- the file ----------------------------------------------------------------------------
    def load(self) -> Snapshot:
        with gc_paused(freeze=True):
            return self._load()

    def _load(self) -> Snapshot:
        snapshot = Snapshot()
        magic = self._take(9)
        if magic[:5] != b"REDIS" or not magic[5:].isdigit():
            raise RdbError("Wrong signature trying to load DB from file", 0)
        version = int(magic[5:])
        if version < 1 or version > MAX_VERSION:
            raise RdbError(f"Can't handle RDB format version {version}", 5)
        snapshot.version = version
        data: dict[bytes, Any] | None = None
        expires: dict[bytes, int] = {}
        expire_at = -1
        drop_before = self.drop_expired_before
        fast = not self.key_delay
        while True:
            if fast and expire_at == -1 and data is not None:
                self._load_plain_records(snapshot, data)
            at = self._base + self._pos
            kind = self._byte()
            if kind < OP_FUNCTION2:
                if data is None:  # keys before any SELECTDB belong to db 0, as in old files
                    data, expires = snapshot.dbs.setdefault(0, ({}, {}))
                expire_at = self._load_key(snapshot, kind, at, data, expires, expire_at, drop_before)
                continue
            if kind == OP_EXPIRETIME_MS:
                expire_at = _I64.unpack(self._take(8))[0]
                continue
            if kind == OP_EXPIRETIME:
                expire_at = int.from_bytes(self._take(4), "little", signed=True) * 1000
                continue
            if kind == OP_IDLE:
                self._length()
                continue
            if kind == OP_FREQ:
                self._byte()
                continue
            if kind == OP_SELECTDB:
                index = self._length()
                if index >= self.databases:
                    raise RdbError(
                        f"Data file was created with a Redis server configured to handle more than "
                        f"{self.databases} databases",
                        at,
                    )
                data, expires = snapshot.dbs.setdefault(index, ({}, {}))
                continue
            if kind == OP_RESIZEDB:
                self._length()
                self._length()
                continue
            if kind == OP_AUX:
                name = self._string()
                snapshot.aux[name] = self._string()
                continue
            if kind == OP_FUNCTION2:
                snapshot.functions.append(self._string())
                continue
            if kind == OP_FUNCTION_PRE_GA:
                raise RdbError("Pre-release function format not supported", at)
            if kind == OP_MODULE_AUX:
                raise RdbError("The RDB file contains AUX module data I can't load: no matching module", at)
            if kind == OP_EOF:
                break
            raise RdbError(f"Unknown RDB opcode {kind}", at)
        self._check_trailer(snapshot)
        snapshot.dbs = {index: dbs for index, dbs in snapshot.dbs.items() if dbs[0]}
        return snapshot

    def _load_plain_records(self, snapshot: Snapshot, data: dict[bytes, Any]) -> None:
        """The commonest records in a tight loop, without the general path's chain of calls: a key
        under 64 bytes, no expiry, holding a raw string under 64 bytes or a small hash, set, zset
        or list in one raw listpack under 64 bytes.  Anything else, or anything odd (an empty or
        broken listpack, a record cut by the buffer's end), is left to the general path."""
        buf, pos = self._buf, self._pos
        size = len(buf)
        before = len(data)
        loaded = 0
        try:
            while buf[pos + 1] < 64:
                kind = buf[pos]
                at = key_end = pos + 2 + buf[pos + 1]
                if kind == 2:  # a set as a hashtable (7.0's small sets of strings): n short strings
                    value, end = _short_strings(buf, at)
                    if not value or end > size:
                        break
                else:
                    if kind:
                        if kind not in _FROM_LISTPACK:
                            break
                        if kind == 18:  # quicklist 2: exactly one packed node
                            if buf[key_end] != 1 or buf[key_end + 1] != 2:
                                break
                            at += 2
                    if buf[at] >= 64:  # the string, or the listpack, is one raw string under 64 bytes
                        break
                    end = at + 1 + buf[at]
                    if end > size:
                        break
                    value = buf[at + 1 : end]
                    if kind:
                        value = _FROM_LISTPACK[kind](decode_listpack_strings(value))
                        if not value:
                            break
                key = buf[pos + 2 : key_end]
                data[key] = value
                loaded += 1
                if len(data) != before + loaded:  # not `key in data` first: one lookup per record
                    self._pos = pos
                    raise RdbError(f"Duplicate key '{key.decode('utf-8', 'replace')}' found in RDB file", self.offset)
                pos = end
        except (IndexError, ValueError):  # BlobError is a ValueError
            pass  # past the buffer, or a value the general path reports with its offset
        self._pos = pos
        snapshot.keys_loaded += loaded

    def _load_key(
        self,
        snapshot: Snapshot,
        kind: int,
        at: int,
        data: dict[bytes, Any],
        expires: dict[bytes, int],
        expire_at: int,
        drop_before: int | None,
    ) -> int:
        """One key and its value; returns the pending expiry (-1: consumed)."""
        key = self._string()
        value = self.read_value(kind, at)
        if self.key_delay > 0:
            time.sleep(self.key_delay)
        if key in data:
            raise RdbError(f"Duplicate key '{key.decode('utf-8', 'replace')}' found in RDB file", at)
        if expire_at != -1:
            if drop_before is not None and expire_at < drop_before:
                snapshot.keys_expired += 1
                return -1
            expires[key] = expire_at
        if value is not None:  # empty collections are skipped, as Redis does
            data[key] = value
            snapshot.keys_loaded += 1
        else:
            expires.pop(key, None)
        return -1

    def _check_trailer(self, snapshot: Snapshot) -> None:
        if snapshot.version < 5:
            return
        end = self.offset
        self._crc = CRC64.calc(self._buf[self._crc_from : self._pos], self._crc)
        self._crc_from = self._pos
        expected = _U64.unpack(self._take(8))[0]
        if expected == 0:
            return
        if expected != self._crc:
            raise RdbError("Wrong RDB checksum", end)
        snapshot.checksum_verified = True

    # -- values ------------------------------------------------------------------------------
    def read_value(self, kind: int, at: int) -> Any:
        """One value of the given type id; None for an empty collection."""
        reader = _VALUE_READERS.get(kind)
        if reader is None:
            if kind in (6, 7):
                raise RdbError("The RDB file contains module data I can't load: no matching module", at)
            raise RdbError(f"Unknown RDB value type {kind}", at)
        try:
            value = reader(self)
        except RdbError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, OverflowError, struct.error) as exc:
            raise RdbError(f"Bad data format in a value of type {kind}: {exc}", at) from None
        return value if value or value.__class__ is bytes or value.__class__ is Stream else None

    def _read_string(self) -> bytes:
        return self._string()

    def _read_list(self) -> deque[bytes]:
        return deque(self._string() for _ in range(self._length()))

    def _read_set(self) -> set[bytes]:
        return {self._string() for _ in range(self._length())}

    def _read_hash(self) -> dict[bytes, bytes]:
        out = {}
        for _ in range(self._length()):
            name = self._string()
            out[name] = self._string()
        return out

    def _read_zset(self, binary: bool) -> ZSet:
        scores = {}
        for _ in range(self._length()):
            member = self._string()
            score = _F64.unpack(self._take(8))[0] if binary else self._text_double()
            if score != score:
                raise RdbError("Zset with NAN score detected", self.offset)
            scores[member] = score
        return ZSet(scores)

    def _read_ziplist_list(self) -> deque[bytes]:
        return deque(self._blob(_ziplist_strings))

    def _read_intset(self) -> set[bytes]:
        return {b"%d" % n for n in self._blob(decode_intset)}

    def _read_listpack_set(self) -> set[bytes]:
        return set(self._blob(decode_listpack_strings))

    def _read_pairs(self, decode: Callable[[bytes], list[Any]]) -> list[bytes]:
        at = self.offset
        items = self._blob(decode)
        if len(items) % 2:
            raise RdbError("Odd number of elements in a pairs encoding", at)
        return items

    def _read_compact_hash(self, decode: Callable[[bytes], list[Any]]) -> dict[bytes, bytes]:
        return _hash_from_pairs(self._read_pairs(decode))

    def _read_compact_zset(self, decode: Callable[[bytes], list[Any]]) -> ZSet:
        return _zset_from_pairs(self._read_pairs(decode))

    def _read_quicklist(self, version: int) -> deque[bytes]:
        out: deque[bytes] = deque()
        for _ in range(self._length()):
            container = self._length() if version == 2 else 2
            if container == 1:  # PLAIN: one raw element
                out.append(self._string())
                continue
            if container != 2:
                raise RdbError(f"Quicklist integrity check failed: container {container}", self.offset)
            out.extend(self._blob(decode_listpack_strings if version == 2 else _ziplist_strings))
        return out

    def _read_stream(self, kind: int) -> Stream:
        stream = Stream()
        entries = stream.entries
        for _ in range(self._length()):
            at = self.offset
            node_key = self._string()
            if len(node_key) != 16:
                raise RdbError("Stream node key entry is not the size of a stream ID", at)
            master = _ID.unpack(node_key)
            items = self._blob(decode_listpack)
            try:
                _parse_stream_node(master, items, entries)
            except (IndexError, ValueError, TypeError) as exc:
                raise RdbError(f"Stream listpack integrity check failed: {exc}", at) from None
        stream.rebuild_nodes()
        self._length()  # length: recomputed from the entries
        stream.last_id = (self._length(), self._length())
        if kind >= 19:
            self._length()  # first id: recomputed
            self._length()
            stream.max_deleted_id = (self._length(), self._length())
            stream.entries_added = self._length()
        else:
            stream.entries_added = len(entries)
        for _ in range(self._length()):
            group = self._read_group(kind)
            stream.groups[group.name] = group
        return stream

    def _read_group(self, kind: int) -> ConsumerGroup:
        name = self._string()
        group = ConsumerGroup(name, (self._length(), self._length()))
        if kind >= 19:
            entries_read = self._length()
            group.entries_read = -1 if entries_read == _UNKNOWN_ENTRIES_READ else entries_read
        for _ in range(self._length()):
            entry_id = _ID.unpack(self._take(16))
            delivery_time = _I64.unpack(self._take(8))[0]
            group.pending[entry_id] = PendingEntry(b"", delivery_time, self._length())
        for _ in range(self._length()):
            consumer = Consumer(self._string(), _I64.unpack(self._take(8))[0])
            if kind >= 21:
                consumer.active_time = _I64.unpack(self._take(8))[0]
            for _ in range(self._length()):
                at = self.offset
                entry_id = _ID.unpack(self._take(16))
                pending = group.pending.get(entry_id)
                if pending is None:
                    raise RdbError("Consumer PEL entry not found in the group's global PEL", at)
                pending.consumer = consumer.name
                consumer.pending[entry_id] = pending
            group.consumers[consumer.name] = consumer
        return group


def _ziplist_strings(blob: bytes) -> list[bytes]:
    """A ziplist's elements as strings (integer entries spelled out), like decode_listpack_strings."""
    return [e if e.__class__ is bytes else b"%d" % e for e in decode_ziplist(blob)]  # type: ignore[misc]


def _as_bytes(element: bytes | int) -> bytes:
    return b"%d" % element if element.__class__ is int else element  # type: ignore[return-value]


def _parse_stream_node(master: tuple[int, int], items: list[Any], entries: Any) -> None:
    """Decode one stream listpack node (§2.9) into entries, skipping deleted ones."""
    count, deleted, num_master = items[0], items[1], items[2]
    master_fields = [_as_bytes(f) for f in items[3 : 3 + num_master]]
    pos = 3 + num_master + 1  # past the master entry's trailing 0
    for _ in range(count + deleted):
        flags, ms_delta, seq_delta = items[pos], items[pos + 1], items[pos + 2]
        pos += 3
        if flags & 2:  # SAMEFIELDS: only values follow
            values = [_as_bytes(v) for v in items[pos : pos + num_master]]
            fields = [x for pair in zip(master_fields, values, strict=True) for x in pair]
            pos += num_master
        else:
            num_fields = items[pos]
            fields = [_as_bytes(v) for v in items[pos + 1 : pos + 1 + 2 * num_fields]]
            pos += 1 + 2 * num_fields
        pos += 1  # lp-count
        if not flags & 1:
            entries[(master[0] + ms_delta, master[1] + seq_delta)] = fields
    if pos != len(items):
        raise ValueError("trailing elements in the node")


def _short_strings(buf: bytes, at: int) -> tuple[set[bytes] | None, int]:
    """A count under 64 then that many strings, raw under 64 bytes or integer-encoded, as a set,
    and where it ends; (None, at) for another shape (IndexError when it runs past buf)."""
    count = buf[at]
    if count >= 64:
        return None, at
    members = set()
    pos = at + 1
    for _ in range(count):
        size = buf[pos]
        if size < 64:
            members.add(buf[pos + 1 : pos + 1 + size])
            pos += 1 + size
            continue
        width = _INT_ENCODING_WIDTHS.get(size)
        if width is None:
            return None, at
        members.add(b"%d" % int.from_bytes(buf[pos + 1 : pos + 1 + width], "little", signed=True))
        pos += 1 + width
    return (members if len(members) == count else None), pos


def _zset_from_pairs(items: list[bytes]) -> ZSet:
    return ZSet(dict(zip(items[::2], map(float, items[1::2]), strict=True)))


def _hash_from_pairs(items: list[bytes]) -> dict[bytes, bytes]:
    return dict(zip(items[::2], items[1::2], strict=True))


# What _load_plain_records builds from a listpack's elements, by RDB type.
_FROM_LISTPACK: dict[int, Callable[[list[bytes]], Any]] = {
    16: _hash_from_pairs,
    17: _zset_from_pairs,
    18: deque,
    20: set,
}

_VALUE_READERS: dict[int, Callable[[RdbReader], Any]] = {
    0: RdbReader._read_string,
    1: RdbReader._read_list,
    2: RdbReader._read_set,
    3: lambda r: r._read_zset(binary=False),
    4: RdbReader._read_hash,
    5: lambda r: r._read_zset(binary=True),
    9: lambda r: r._read_compact_hash(decode_zipmap),
    10: RdbReader._read_ziplist_list,
    11: RdbReader._read_intset,
    12: lambda r: r._read_compact_zset(_ziplist_strings),
    13: lambda r: r._read_compact_hash(_ziplist_strings),
    14: lambda r: r._read_quicklist(1),
    15: lambda r: r._read_stream(15),
    16: lambda r: r._read_compact_hash(decode_listpack_strings),
    17: lambda r: r._read_compact_zset(decode_listpack_strings),
    18: lambda r: r._read_quicklist(2),
    19: lambda r: r._read_stream(19),
    20: RdbReader._read_listpack_set,
    21: lambda r: r._read_stream(21),
}


def load_bytes(payload: bytes, **options: Any) -> Snapshot:
    """Load a whole payload held in memory (tests, DEBUG RELOAD)."""
    import io

    return RdbReader(io.BytesIO(payload).read, **options).load()


def read_dump_payload(payload: bytes) -> Any:
    """The value of a DUMP payload: <type> <value> <2-byte version> <8-byte CRC-64>; ValueError if bad."""
    if len(payload) < 11:
        raise ValueError("payload too short")
    body, version, crc = payload[:-10], int.from_bytes(payload[-10:-8], "little"), payload[-8:]
    if version > MAX_VERSION or (crc != b"\0" * 8 and CRC64.calc(payload[:-8]).to_bytes(8, "little") != crc):
        raise ValueError("DUMP payload version or checksum are wrong")
    import io

    reader = RdbReader(io.BytesIO(body[1:]).read)
    try:
        value = reader.read_value(body[0], 0)
    except RdbError as exc:
        raise ValueError(f"Bad data format: {exc}") from None
    if reader.offset != len(body) - 1:
        raise ValueError("Bad data format")
    return value
