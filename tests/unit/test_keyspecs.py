"""Key specs: finding keys in argv, the legacy (first, last, step) triple, Redis's fallback finder.

The replies of COMMAND INFO and COMMAND GETKEYS[ANDFLAGS] are compared with redis-server in
tests/interop/test_differential.py; these pin the rules that produce them.
"""

from __future__ import annotations

import pytest

from dragonfly_py.commands.keyspecs import KeySpec, find_keys, from_range, keys_of, legacy_range, spec
from dragonfly_py.commands.registry import COMMANDS

RO = ("RO", "access")


def argv(text: str) -> list[bytes]:
    return text.encode().split()


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        ((), (0, 0, 0)),
        (from_range("OW update", 1, -1, 2), (1, -1, 2)),  # MSET: one spec, as it is
        ((spec("RW", 1), spec("OW", 2)), (1, 2, 1)),  # RENAME: two ranges glued
        ((spec("OW", 1), spec("RO", 2, lastkey=-1)), (1, -1, 1)),  # SUNIONSTORE: a tail from the end wins
        ((spec("OW", 1), spec("RO", 2, keynumidx=0)), (1, 1, 1)),  # ZUNIONSTORE: the count's keys move
        ((spec("RO", 1, keynumidx=0),), (0, 0, 0)),  # ZUNION
        ((spec("RO", 0, keyword="STREAMS", startfrom=1, lastkey=-1, limit=2),), (0, 0, 0)),  # XREAD
        ((spec("RW", 1), spec("RW", 3)), (0, 0, 0)),  # a gap between ranges: none
    ],
)
def test_legacy_range_glues_the_specs_as_redis(specs: tuple[KeySpec, ...], expected: tuple[int, int, int]) -> None:
    assert legacy_range(specs) == expected


def test_a_range_counted_from_the_end_or_by_a_step() -> None:
    assert find_keys(from_range("RO", 1, -2, 1), argv("blpop a b c 0")) == [(1, ("RO",)), (2, ("RO",)), (3, ("RO",))]
    assert [i for i, _ in find_keys(from_range("OW", 1, -1, 2), argv("mset a 1 b 2"))] == [1, 3]  # type: ignore[union-attr]


def test_keys_after_a_keyword_take_half_of_what_follows() -> None:
    xread = (spec("RO access", 0, keyword="STREAMS", startfrom=1, lastkey=-1, limit=2),)
    assert find_keys(xread, argv("xread count 2 streams a b 0 0")) == [(4, RO), (5, RO)]
    assert find_keys(xread, argv("xread streams a b 0")) == [(2, RO)]  # an odd count rounds down
    assert find_keys(xread, argv("xread count 1 a b")) == []  # no keyword, no keys of that spec
    assert find_keys(xread, argv("xread count 1 streams")) == []  # the keyword last is not looked at


def test_a_count_names_the_keys_after_it() -> None:
    zunionstore = (spec("OW update", 1), spec("RO access", 2, keynumidx=0))
    assert find_keys(zunionstore, argv("zunionstore d 2 a b weights 1 2")) == [(1, ("OW", "update")), (3, RO), (4, RO)]
    for bad in ("zunionstore d 3 a b", "zunionstore d 0 a", "zunionstore d -1 a", "zunionstore d 01 a"):
        assert find_keys(zunionstore, argv(bad)) is None, bad


def test_where_a_count_is_no_plain_number_redis_reads_it_as_atoi_and_gives_no_flags() -> None:
    zunionstore = (spec("OW update", 1), spec("RO access", 2, keynumidx=0))
    assert keys_of(zunionstore, argv("zunionstore d 1.5 a")) == [(3, ()), (1, ())]  # destination last
    assert keys_of(zunionstore, argv("zunionstore d 2x a b")) == [(3, ()), (4, ()), (1, ())]
    assert keys_of(zunionstore, argv("zunionstore d x a")) == []
    assert keys_of(zunionstore, argv("zunionstore d 3x a b")) == []  # more than there are


def test_the_command_table_finds_keys_through_its_specs() -> None:
    assert [i for i, _ in COMMANDS[b"lmpop"].keys_in(argv("lmpop 2 a b left count 1"))] == [2, 3]
    assert COMMANDS[b"set"].keys_in(argv("set k v")) == [(1, ("OW", "update"))]
    assert COMMANDS[b"set"].keys_in(argv("set k v nx get")) == [(1, ("RW", "access", "update"))]
    assert COMMANDS[b"ping"].keys_in(argv("ping")) == []
