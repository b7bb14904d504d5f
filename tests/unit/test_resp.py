from __future__ import annotations

import hiredis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dragonfly_py.protocol.resp import (
    NULL_ARRAY,
    OK,
    Map,
    Push,
    Raw,
    ReplyError,
    SetReply,
    Verbatim,
    bulk_array,
    encode,
    encode_alike,
    encode_bulk_strings,
    encode_integers,
)


def test_resp2_forms() -> None:
    assert encode(b"abc") == b"$3\r\nabc\r\n"
    assert encode(None) == b"$-1\r\n"
    assert encode(NULL_ARRAY) == b"*-1\r\n"
    assert encode(5) == b":5\r\n"
    assert encode(123456) == b":123456\r\n"
    assert encode("OK") == b"+OK\r\n"
    assert encode(OK) == b"+OK\r\n"
    assert encode(ReplyError("ERR x")) == b"-ERR x\r\n"
    assert encode(1.5) == b"$3\r\n1.5\r\n"
    assert encode(0.1) == b"$19\r\n0.10000000000000001\r\n"
    assert encode(float("inf")) == b"$3\r\ninf\r\n"
    assert encode(Map({b"a": 1})) == b"*2\r\n$1\r\na\r\n:1\r\n"
    assert encode([b"a", [1]]) == b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n"


def test_resp3_forms() -> None:
    assert encode(None, True) == b"_\r\n"
    assert encode(NULL_ARRAY, True) == b"_\r\n"
    assert encode(1.5, True) == b",1.5\r\n"
    assert encode(Map({b"a": 1}), True) == b"%1\r\n$1\r\na\r\n:1\r\n"
    assert encode(SetReply([b"a"]), True) == b"~1\r\n$1\r\na\r\n"
    assert encode(Push([b"message"]), True) == b">1\r\n$7\r\nmessage\r\n"
    assert encode(Verbatim(b"hi"), True) == b"=6\r\ntxt:hi\r\n"
    assert encode(True, True) == b"#t\r\n"


_ITEMS = st.binary(max_size=40) | st.binary(min_size=1020, max_size=1030)


@given(st.lists(_ITEMS, max_size=15) | st.lists(_ITEMS, min_size=16, max_size=60), st.booleans())
def test_any_array_of_bulk_strings_reads_back_as_sent(items: list[bytes], resp3: bool) -> None:
    """Short arrays and long ones take different formatters (and items of 1 KB or more a third)."""
    wire = encode(items, resp3)
    reader = hiredis.Reader()
    reader.feed(wire)
    assert reader.gets() == items
    assert reader.gets() is False
    if items:
        assert wire.startswith(b"*%d\r\n$%d\r\n" % (len(items), len(items[0])))


@pytest.mark.parametrize("resp3", [False, True])
def test_bulk_strings_in_a_row_encode_as_each_one(resp3: bool) -> None:
    values: list[bytes | None] = [b"a", None, b"", b"x" * 1023, None, b"\r\n"]
    assert encode_bulk_strings(values, resp3) == b"".join(encode(v, resp3) for v in values)
    assert encode_bulk_strings([], resp3) == b""
    assert encode_bulk_strings([b"a", b"x" * 1024], resp3) is None  # left to encode()
    # all hits, all hits of one length, all misses
    for row in ([b"a", b"", b"x" * 1023, b"\r\n"], [b"ab", b"cd", b"\r\n"], [None, None, None]):
        assert encode_bulk_strings(row, resp3) == b"".join(encode(v, resp3) for v in row)
    assert encode_bulk_strings([b"x" * 1024, b"a"], resp3) is None
    assert encode_bulk_strings([b"x" * 1024] * 2, resp3) is None


@pytest.mark.parametrize("resp3", [False, True])
def test_alike_replies_encode_as_each_one(resp3: bool) -> None:
    rows: list[list[object]] = [[1, -1, 0, 5000, -(2**63)], [OK, OK], [b"a", None, b""], [None], [[], []]]
    for row in rows:
        assert encode_alike(row, resp3) == b"".join(encode(v, resp3) for v in row)
    for row in ([1, b"a"], [[], [b"a"]], [True, 1], [1.5]):  # left to encode(), one by one
        assert encode_alike(row, resp3) is None


@given(values=st.lists(st.integers(min_value=-(2**63), max_value=2**64), max_size=100))
def test_a_row_of_integers_encodes_as_each_on_its_own(values: list[int]) -> None:
    assert encode_integers(values) == b"".join(encode(value) for value in values)
    assert encode_integers(iter(values)) == encode_integers(values)


@given(
    items=st.one_of(
        st.lists(st.binary(max_size=1100), max_size=40),
        st.integers(min_value=0, max_value=1100).flatmap(
            lambda size: st.lists(st.binary(min_size=size, max_size=size), max_size=40)
        ),
    )
)
def test_an_array_of_bulk_strings_encodes_as_each_on_its_own(items: list[bytes]) -> None:
    """Rows of one length (a header shared) and of many, short and long (1 KB or more)."""
    wire = b"*%d\r\n" % len(items) + b"".join(encode(item) for item in items)
    assert encode(items) == wire
    assert bulk_array(items) == wire and bulk_array(items).__class__ is Raw  # LRANGE's reply
