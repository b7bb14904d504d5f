"""Argument parsing shared by the command families."""

from __future__ import annotations

import math

import pytest

from dragonfly_py import errors
from dragonfly_py.commands.util import one_key, parse_float, parse_int
from dragonfly_py.storage.keyspace import Keyspace


@pytest.mark.parametrize("raw", [b"9" * 400, b"1e400", b"-1e400", b"nan", b" 1", b""])
def test_parse_float_refuses_what_strtod_refuses_or_overflows(raw: bytes) -> None:
    with pytest.raises(type(errors.NOT_FLOAT)):
        parse_float(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [(b"007", 7.0), (b"inf", math.inf), (b"-Infinity", -math.inf), (b"+inf", math.inf), (b"1.5e3", 1500.0)],
)
def test_parse_float_reads_strtod_numbers(raw: bytes, value: float) -> None:
    assert parse_float(raw) == value


@pytest.mark.parametrize(
    "raw",
    [b"-0", b"00", b"007", b"+1", b" 1", b"1 ", b"", b"-", b"9223372036854775808", b"-9223372036854775809", b"1.0"],
)
def test_parse_int_refuses_what_string2ll_refuses(raw: bytes) -> None:
    with pytest.raises(type(errors.NOT_INTEGER)):
        parse_int(raw)


@pytest.mark.parametrize("value", [0, 1, 99, -1, -128, -129, 1023, 1024, 9223372036854775807, -9223372036854775808])
def test_parse_int_reads_canonical_integers(value: int) -> None:
    assert parse_int(b"%d" % value) == value  # inside and outside the table of small ones


@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_one_key_is_the_key_of_a_run_of_one_size_on_one_key(size: int) -> None:
    db = Keyspace(1).dbs[0]
    run = [[b"CMD", b"k", *[b"x"] * (size - 2)] for _ in range(5)]
    assert one_key(db, run, size) == b"k"
    longer, shorter = [b"CMD", b"k", *[b"x"] * (size - 1)], [b"CMD", b"k", *[b"x"] * (size - 3)][: size - 1]
    for other in (longer, shorter, [b"CMD"]):
        assert one_key(db, [*run[:2], other, *run[2:]], size) is None, other  # another size, in the middle
    assert one_key(db, [*run, [b"CMD", b"other", *[b"x"] * (size - 2)]], size) is None
    assert one_key(db, run, size + 1) is None
    db.expires[b"k"] = 1 << 62
    assert one_key(db, run, size) is None  # a TTL: lazy expiry is the command's own
