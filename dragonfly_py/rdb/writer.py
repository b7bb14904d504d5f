"""RDB version 10 writer (what Redis 7.0 loads), and DUMP payloads.

Small collections go out in the compact encodings Redis 7.0 itself writes (listpack, intset),
large ones in the general encodings; the limits are the *-max-listpack-* config values.
"""

from __future__ import annotations

import itertools
import struct
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from dragonfly_py.rdb.encoding import (
    CRC64,
    DIGIT_OR_MINUS,
    SINGLE_BYTE,
    canonical_int,
    encode_intset,
    encode_length,
    encode_listpack,
    encode_string,
    gc_paused,
)
from dragonfly_py.rdb.reader import OP_AUX, OP_EOF, OP_EXPIRETIME_MS, OP_FUNCTION2, OP_RESIZEDB, OP_SELECTDB
from dragonfly_py.storage.stream import Stream, StreamID
from dragonfly_py.storage.types import ZSet, format_score_text

RDB_VERSION = 10
TYPE_STRING, TYPE_SET, TYPE_HASH, TYPE_ZSET_2 = 0, 2, 4, 5
TYPE_SET_INTSET, TYPE_HASH_LISTPACK, TYPE_ZSET_LISTPACK, TYPE_LIST_QUICKLIST_2 = 11, 16, 17, 18
TYPE_STREAM_LISTPACKS_2 = 19
_QUICKLIST_NODE_BYTES = 8192  # list-max-listpack-size -2
_SMALL_LIST = 128  # up to this many items, a list is checked for fitting one node in one step
_STREAM_NODE_ENTRIES = 100  # stream-node-max-entries
_UNKNOWN_ENTRIES_READ = 2**64 - 1
_ID = struct.Struct(">QQ")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")


@dataclass
class EncodingLimits:
    """The *-max-* thresholds that pick compact or general encodings (Redis 7.0 defaults)."""

    hash_entries: int = 512
    hash_value: int = 64
    zset_entries: int = 128
    zset_value: int = 64
    set_intset_entries: int = 512
    compress: bool = True

    @classmethod
    def from_config(cls, config: Any) -> EncodingLimits:
        return cls(
            config["hash-max-listpack-entries"],
            config["hash-max-listpack-value"],
            config["zset-max-listpack-entries"],
            config["zset-max-listpack-value"],
            config["set-max-intset-entries"],
            config["rdbcompression"],
        )


class ValueEncoder:
    """Type byte and payload of one value, as in an RDB file and a DUMP payload."""

    def __init__(self, limits: EncodingLimits) -> None:
        self.limits = limits
        self.compress = limits.compress

    def string(self, value: bytes) -> bytes:
        return encode_string(value, self.compress)

    def encode(self, value: Any) -> tuple[int, bytes]:
        cls = value.__class__
        if cls is bytes:
            return TYPE_STRING, encode_string(value, self.compress)
        if cls is deque:
            return TYPE_LIST_QUICKLIST_2, self._list(value)
        if cls is set:
            return self._set(value)
        if cls is dict:
            return self._hash(value)
        if cls is ZSet:
            return self._zset(value)
        if cls is Stream:
            return TYPE_STREAM_LISTPACKS_2, self._stream(value)
        raise TypeError(f"cannot serialise {cls.__name__}")

    def _list(self, items: deque[bytes]) -> bytes:
        if len(items) <= _SMALL_LIST and sum(map(len, items)) + 11 * len(items) <= _QUICKLIST_NODE_BYTES:
            return b"\x01" + self._node(list(items))  # one node: the common small list, without the loop
        nodes: list[bytes] = []
        node: list[bytes] = []
        size = 0
        for item in items:
            if node and size + len(item) + 11 > _QUICKLIST_NODE_BYTES:
                nodes.append(self._node(node))
                node, size = [], 0
            node.append(item)
            size += len(item) + 11
        if node:
            nodes.append(self._node(node))
        return encode_length(len(nodes)) + b"".join(nodes)

    def _node(self, items: list[bytes]) -> bytes:
        return b"\x02" + encode_string(encode_listpack(items), self.compress)  # container PACKED

    def _set(self, members: set[bytes]) -> tuple[int, bytes]:
        if len(members) <= self.limits.set_intset_entries:
            numbers = [canonical_int(m) for m in members]
            if None not in numbers:
                return TYPE_SET_INTSET, encode_string(encode_intset(numbers), False)  # type: ignore[arg-type]
        string = self.string
        return TYPE_SET, encode_length(len(members)) + b"".join([string(m) for m in members])

    def _hash(self, fields: dict[bytes, bytes]) -> tuple[int, bytes]:
        limit = self.limits.hash_value
        if (
            len(fields) <= self.limits.hash_entries
            and max(map(len, fields), default=0) <= limit
            and max(map(len, fields.values()), default=0) <= limit
        ):
            flat = list(itertools.chain.from_iterable(fields.items()))
            return TYPE_HASH_LISTPACK, encode_string(encode_listpack(flat), self.compress)  # type: ignore[arg-type]
        string = self.string
        return TYPE_HASH, encode_length(len(fields)) + b"".join([string(k) + string(v) for k, v in fields.items()])

    def _zset(self, zset: ZSet) -> tuple[int, bytes]:
        limit = self.limits.zset_value
        if len(zset) <= self.limits.zset_entries and max(map(len, zset.scores), default=0) <= limit:
            flat: list[bytes] = []
            for score, member in zset.order:
                flat += (member, format_score_text(score))
            return TYPE_ZSET_LISTPACK, encode_string(encode_listpack(flat), self.compress)  # type: ignore[arg-type]
        string = self.string
        parts = [string(member) + _F64.pack(score) for score, member in reversed(zset.order)]
        return TYPE_ZSET_2, encode_length(len(zset)) + b"".join(parts)

    def _stream(self, stream: Stream) -> bytes:
        ids = list(stream.entries.keys())
        nodes = []
        for start in range(0, len(ids), _STREAM_NODE_ENTRIES):
            chunk = ids[start : start + _STREAM_NODE_ENTRIES]
            nodes.append(self._stream_node(chunk, stream.entries))
        first = stream.first_id
        parts = [
            encode_length(len(nodes)),
            *nodes,
            encode_length(len(stream.entries)),
            encode_length(stream.last_id[0]),
            encode_length(stream.last_id[1]),
            encode_length(first[0]),
            encode_length(first[1]),
            encode_length(stream.max_deleted_id[0]),
            encode_length(stream.max_deleted_id[1]),
            encode_length(stream.entries_added),
            encode_length(len(stream.groups)),
        ]
        for group in stream.groups.values():
            entries_read = _UNKNOWN_ENTRIES_READ if group.entries_read < 0 else group.entries_read
            parts += [
                self.string(group.name),
                encode_length(group.last_id[0]),
                encode_length(group.last_id[1]),
                encode_length(entries_read),
                encode_length(len(group.pending)),
            ]
            for entry_id, pending in group.pending.items():
                parts += [_ID.pack(*entry_id), _I64.pack(pending.delivery_time), encode_length(pending.delivery_count)]
            parts.append(encode_length(len(group.consumers)))
            for consumer in group.consumers.values():
                parts += [
                    self.string(consumer.name),
                    _I64.pack(consumer.seen_time),
                    encode_length(len(consumer.pending)),
                ]
                parts += [_ID.pack(*entry_id) for entry_id in consumer.pending]
        return b"".join(parts)

    def _stream_node(self, ids: list[StreamID], entries: Any) -> bytes:
        """A listpack node (§2.9): master entry with the first entry's fields, then each entry."""
        master = ids[0]
        master_fields = entries[master][::2]
        items: list[bytes | int] = [len(ids), 0, len(master_fields), *master_fields, 0]
        for entry_id in ids:
            flat = entries[entry_id]
            ms_delta, seq_delta = entry_id[0] - master[0], entry_id[1] - master[1]
            if flat[::2] == master_fields:
                values = flat[1::2]
                items += [2, ms_delta, seq_delta, *values, 3 + len(values)]
            else:
                items += [0, ms_delta, seq_delta, len(flat) // 2, *flat, 4 + len(flat)]
        return self.string(_ID.pack(*master)) + self.string(encode_listpack(items))


# key[:1] of a string whose RDB form may be an integer (b"" is written plain).
DIGIT_STARTS = frozenset(bytes((c,)) for c in DIGIT_OR_MINUS)


class RdbWriter:
    """Streams an RDB file to ``out`` in chunks, keeping the running CRC-64."""

    def __init__(self, out: BinaryIO | Callable[[bytes], Any], limits: EncodingLimits, checksum: bool = True) -> None:
        self._write = out if callable(out) else out.write
        self.encoder = ValueEncoder(limits)
        self.checksum = checksum
        self._parts: list[bytes] = []
        self._size = 0
        self._crc = 0
        self.bytes_written = 0

    def _emit(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            chunk = b"".join(self._parts)
            if self.checksum:
                self._crc = CRC64.calc(chunk, self._crc)
            self._write(chunk)
            self.bytes_written += len(chunk)
            self._parts.clear()
            self._size = 0

    def header(self, aux: Iterable[tuple[bytes, bytes]], functions: Iterable[bytes] = ()) -> None:
        self._emit(b"REDIS%04d" % RDB_VERSION)
        string = self.encoder.string
        for name, value in aux:
            self._emit(bytes((OP_AUX,)) + string(name) + string(value))
        for library in functions:
            self._emit(bytes((OP_FUNCTION2,)) + string(library))

    def database(self, index: int, data: dict[bytes, Any], expires: dict[bytes, int]) -> None:
        if data:
            with gc_paused():
                self._database(index, data, expires)

    def _database(self, index: int, data: dict[bytes, Any], expires: dict[bytes, int]) -> None:
        encode, string = self.encoder.encode, self.encoder.string
        self._emit(bytes((OP_SELECTDB,)) + encode_length(index))
        self._emit(bytes((OP_RESIZEDB,)) + encode_length(len(data)) + encode_length(len(expires)))
        expire_prefix = bytes((OP_EXPIRETIME_MS,))
        parts = self._parts  # appended to directly; flushed every 1024 keys (the hot loop)
        for count, (key, value) in enumerate(data.items(), 1):
            # Short strings that cannot be integers are written as they are: inlined, the common case.
            size = len(key)
            plain_key = size <= 20 and key[:1] not in DIGIT_STARTS
            if plain_key and value.__class__ is bytes and len(value) <= 20 and value[:1] not in DIGIT_STARTS:
                record = b"\x00%c%b%c%b" % (size, key, len(value), value)
            else:
                kind, payload = encode(value)
                record = SINGLE_BYTE[kind] + (SINGLE_BYTE[size] + key if plain_key else string(key)) + payload
            when = expires.get(key) if expires else None
            parts.append(record if when is None else expire_prefix + _I64.pack(when) + record)
            if not count & 1023:
                self.flush()
        self.flush()

    def finish(self) -> None:
        self._emit(bytes((OP_EOF,)))
        self.flush()
        trailer = self._crc.to_bytes(8, "little") if self.checksum else b"\0" * 8
        self._write(trailer)
        self.bytes_written += 8


def dump_payload(value: Any, limits: EncodingLimits) -> bytes:
    """DUMP's serialisation: <type> <value> <2-byte LE version> <8-byte LE CRC-64>."""
    kind, payload = ValueEncoder(limits).encode(value)
    body = bytes((kind,)) + payload + RDB_VERSION.to_bytes(2, "little")
    return body + CRC64.calc(body).to_bytes(8, "little")
