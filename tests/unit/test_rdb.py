"""RDB codec without sockets: blob encodings, round trips under hypothesis, corrupt input."""

from __future__ import annotations

import io
from collections import deque
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dragonfly_py.rdb.encoding import (
    decode_intset,
    decode_listpack,
    encode_intset,
    encode_listpack,
    encode_string,
)
from dragonfly_py.rdb.reader import RdbError, RdbReader, load_bytes, read_dump_payload
from dragonfly_py.rdb.writer import EncodingLimits, RdbWriter, dump_payload
from dragonfly_py.storage.stream import Consumer, ConsumerGroup, PendingEntry, Stream
from dragonfly_py.storage.types import ZSet

small_bytes = st.binary(max_size=40)
any_bytes = st.one_of(
    small_bytes, st.binary(min_size=60, max_size=5000), st.integers(-(2**63), 2**63 - 1).map(str).map(str.encode)
)


def _zset(pairs: dict[bytes, float]) -> ZSet:
    zset = ZSet()
    for member, score in pairs.items():
        zset.add(member, score)
    return zset


def _stream(entries: list[dict[bytes, bytes]]) -> Stream:
    stream = Stream()
    for index, fields in enumerate(entries, start=1):
        stream.add((1000 + index, index % 3), [x for pair in fields.items() for x in pair])
    if entries:
        group = ConsumerGroup(b"group", stream.last_id, len(entries))
        first = stream.first_id
        pending = PendingEntry(b"alice", 1234, 2)
        group.pending[first] = pending
        group.consumers[b"alice"] = Consumer(b"alice", 99, pending={first: pending})
        group.consumers[b"bob"] = Consumer(b"bob", 100)
        stream.groups[b"group"] = group
    return stream


values = st.one_of(
    any_bytes,
    st.lists(any_bytes, min_size=1, max_size=30).map(deque),
    st.sets(any_bytes, min_size=1, max_size=30),
    st.sets(st.integers(-(2**40), 2**40).map(lambda n: b"%d" % n), min_size=1, max_size=600),
    st.dictionaries(any_bytes, any_bytes, min_size=1, max_size=30),
    st.dictionaries(small_bytes, st.floats(allow_nan=False), min_size=1, max_size=200).map(_zset),
    st.lists(st.dictionaries(small_bytes, any_bytes, min_size=1, max_size=4), max_size=150).map(_stream),
)


def _canonical(value: Any) -> Any:
    if isinstance(value, ZSet):
        return ("zset", sorted(value.scores.items()))
    if isinstance(value, Stream):
        groups = {
            name: (g.last_id, g.entries_read, dict(g.pending), {c: dict(x.pending) for c, x in g.consumers.items()})
            for name, g in value.groups.items()
        }
        return ("stream", dict(value.entries), value.last_id, value.entries_added, groups)
    if isinstance(value, deque):
        return ("list", list(value))
    return value


def _write(dbs: dict[int, tuple[dict[bytes, Any], dict[bytes, int]]], limits: EncodingLimits | None = None) -> bytes:
    out = io.BytesIO()
    writer = RdbWriter(out, limits or EncodingLimits())
    writer.header([(b"redis-ver", b"7.0.15")])
    for index, (data, expires) in sorted(dbs.items()):
        writer.database(index, data, expires)
    writer.finish()
    return out.getvalue()


@given(st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), small_bytes, st.binary(min_size=4000, max_size=5000))))
def test_listpack_round_trip(elements: list[Any]) -> None:
    decoded = decode_listpack(encode_listpack(elements))
    expected = [int(e) if isinstance(e, bytes) and e == b"%d" % _int_or(e) else e for e in elements]
    assert decoded == expected


def _int_or(raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        return -(2**70)


@given(st.sets(st.integers(-(2**63), 2**63 - 1), min_size=1))
def test_intset_round_trip(numbers: set[int]) -> None:
    assert decode_intset(encode_intset(list(numbers))) == sorted(numbers)


def test_small_integers_use_int_encodings_and_long_strings_lzf() -> None:
    assert encode_string(b"12", compress=True) == b"\xc0\x0c"
    assert encode_string(b"012", compress=True) == b"\x03012"
    assert encode_string(b"a" * 100, compress=True)[0] == 0xC3
    assert encode_string(b"a" * 100, compress=False)[:2] == b"\x40\x64"


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.integers(0, 15), st.dictionaries(any_bytes, values, min_size=1, max_size=8), max_size=3),
    st.booleans(),
)
def test_dataset_round_trip(content: dict[int, dict[bytes, Any]], compress: bool) -> None:
    dbs = {i: (data, {k: 2_000_000_000_000 + n for n, k in enumerate(data) if n % 2}) for i, data in content.items()}
    snapshot = load_bytes(_write(dbs, EncodingLimits(compress=compress)))
    assert snapshot.checksum_verified
    assert set(snapshot.dbs) == set(dbs)
    for index, (data, expires) in dbs.items():
        loaded, loaded_expires = snapshot.dbs[index]
        assert {k: _canonical(v) for k, v in loaded.items()} == {k: _canonical(v) for k, v in data.items()}
        assert loaded_expires == expires


@settings(max_examples=60, deadline=None)
@given(values)
def test_dump_payload_round_trip(value: Any) -> None:
    assert _canonical(read_dump_payload(dump_payload(value, EncodingLimits()))) == _canonical(value)


def test_dump_payload_with_bad_checksum_or_newer_version_is_refused() -> None:
    payload = bytearray(dump_payload(b"hello", EncodingLimits()))
    payload[-1] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        read_dump_payload(bytes(payload))
    newer = bytearray(dump_payload(b"hello", EncodingLimits()))
    newer[-10] = 12
    with pytest.raises(ValueError, match="version"):
        read_dump_payload(bytes(newer))


SAMPLE = {
    0: (
        {
            b"s": b"value",
            b"n": b"42",
            b"l": deque([b"a", b"b"] * 50),
            b"h": {b"f": b"v"},
            b"z": _zset({b"m": 1.5}),
            b"x": _stream([{b"f": b"v"}] * 3),
        },
        {b"s": 2_000_000_000_000},
    ),
    5: ({b"set": {b"1", b"2", b"x"}}, {}),
}


def test_every_truncation_is_refused_with_an_offset() -> None:
    payload = _write(SAMPLE)
    for cut in range(len(payload)):
        with pytest.raises(RdbError) as info:
            load_bytes(payload[:cut])
        assert info.value.offset <= cut


def test_every_flipped_byte_is_refused() -> None:
    payload = _write(SAMPLE)
    for position in range(len(payload)):
        corrupt = bytearray(payload)
        corrupt[position] ^= 0x5A
        with pytest.raises(RdbError):
            load_bytes(bytes(corrupt))


def test_unknown_type_and_newer_version_are_refused() -> None:
    with pytest.raises(RdbError, match="Can't handle RDB format version 12"):
        load_bytes(b"REDIS0012\xff" + b"\0" * 8)
    with pytest.raises(RdbError, match="Unknown RDB value type 22 at offset 9"):
        load_bytes(b"REDIS0010\x16\x01k\x01v\xff" + b"\0" * 8)
    with pytest.raises(RdbError, match="Wrong signature"):
        load_bytes(b"RUBBISH!!")


def test_loads_incrementally_from_small_reads() -> None:
    payload = _write(SAMPLE)
    source = io.BytesIO(payload)
    reads: list[int] = []

    def read(n: int) -> bytes:
        chunk = source.read(min(n, 7))
        reads.append(len(chunk))
        return chunk

    snapshot = RdbReader(read, chunk_size=7).load()
    assert snapshot.checksum_verified and len(reads) > 10
    assert snapshot.dbs[5][0] == {b"set": {b"1", b"2", b"x"}}


def test_expired_keys_are_dropped_only_when_asked() -> None:
    payload = _write({0: ({b"old": b"v", b"new": b"v"}, {b"old": 1000, b"new": 2_000_000_000_000})})
    assert set(load_bytes(payload).dbs[0][0]) == {b"old", b"new"}
    snapshot = load_bytes(payload, drop_expired_before=1_700_000_000_000)
    assert set(snapshot.dbs[0][0]) == {b"new"} and snapshot.keys_expired == 1


def _raw_file(records: bytes) -> bytes:
    return b"REDIS0010\xfe\x00" + records + b"\xff" + b"\0" * 8  # checksum 0: not checked


@pytest.mark.parametrize(
    "first, second",
    [
        (b"\x00\x01k\x00", b"\x00\x01k\x00"),  # empty strings: one shared object in CPython
        (b"\x00\x01k\x01v", b"\x00\x01k\x01v"),
        (b"\x00\x01k\x01v", b"\x10\x01k" + encode_string(encode_listpack([b"f", b"v"]), False)),
        (b"\x00\x01k\x01v", b"\x00\x01k" + encode_string(b"x" * 100, False)),  # the second by the general path
    ],
)
def test_a_duplicate_key_is_refused_with_its_name_and_offset(first: bytes, second: bytes) -> None:
    with pytest.raises(RdbError) as info:
        load_bytes(_raw_file(first + second))
    assert str(info.value).startswith("Duplicate key 'k' found in RDB file")
    assert info.value.offset == 11 + len(first)


def test_small_values_of_every_common_shape_load_as_written() -> None:
    """The loader's fast path (short keys, small values) against what the writer produced."""
    data: dict[bytes, Any] = {
        b"s": b"plain",
        b"n": b"12345",
        b"e": b"",
        b"set": {b"m1", b"7", b"-300", b"70000", b"2147483648"},
        b"ints": {b"1", b"2"},
        b"hash": {b"a": b"1", b"b": b"two"},
        b"zset": _zset({b"a": 1.0, b"b": 2.5}),
        b"list": deque([b"x", b"1", b"y"]),
    }
    loaded = load_bytes(_write({0: (data, {})})).dbs[0][0]
    assert {k: _canonical(v) for k, v in loaded.items()} == {k: _canonical(v) for k, v in data.items()}
