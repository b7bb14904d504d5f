"""The replication backlog: offsets as Redis counts them, the ring's wrap-around, lazy copying."""

from __future__ import annotations

import random

from dragonfly_py.replication.backlog import Backlog

MIN_SIZE = 16 * 1024


def stream(total: int, seed: int = 1) -> list[bytes]:
    """Chunks of random sizes adding up to total bytes, each byte telling its position."""
    rng = random.Random(seed)
    whole = bytes(i % 251 for i in range(total))
    chunks, at = [], 0
    while at < total:
        size = min(total - at, rng.choice([1, 7, 100, 3000, 20000]))
        chunks.append(whole[at : at + size])
        at += size
    return chunks


def test_offsets_follow_redis_first_byte_is_offset_plus_one() -> None:
    backlog = Backlog(MIN_SIZE, offset=100)
    assert (backlog.offset, backlog.histlen, backlog.first_byte_offset) == (100, 0, 101)
    backlog.feed(b"abc")
    assert (backlog.offset, backlog.histlen, backlog.first_byte_offset) == (103, 3, 101)
    assert backlog.read_from(101) == b"abc"
    assert backlog.read_from(103) == b"c"
    assert backlog.read_from(104) == b""


def test_reads_between_feeds_see_every_byte_across_the_wrap() -> None:
    backlog = Backlog(MIN_SIZE, offset=0)
    fed = b""
    for chunk in stream(5 * MIN_SIZE):
        backlog.feed(chunk)
        fed += chunk
        assert backlog.offset == len(fed)
        assert backlog.histlen == min(len(fed), MIN_SIZE)
        start = backlog.first_byte_offset
        assert backlog.read_from(start) == fed[start - 1 :]


def test_many_feeds_without_a_reader_are_copied_in_bounded_steps() -> None:
    backlog = Backlog(MIN_SIZE, offset=0)
    fed = b"".join(stream(3 * MIN_SIZE, seed=2))
    for i in range(0, len(fed), 5):  # thousands of small writes, no read in between
        backlog.feed(fed[i : i + 5])
    assert len(backlog._pending) < 1024
    assert backlog.read_from(backlog.first_byte_offset) == fed[-MIN_SIZE:]


def test_serves_exactly_what_it_still_holds() -> None:
    backlog = Backlog(MIN_SIZE, offset=0)
    backlog.feed(b"x" * (MIN_SIZE + 10))
    assert not backlog.can_serve(10)
    assert backlog.can_serve(11)  # the first byte still held
    assert backlog.can_serve(MIN_SIZE + 11)  # offset + 1: nothing to send, still a partial resync
    assert not backlog.can_serve(MIN_SIZE + 12)


def test_resize_keeps_the_newest_bytes_and_the_offset() -> None:
    backlog = Backlog(4 * MIN_SIZE, offset=0)
    fed = b"".join(stream(3 * MIN_SIZE, seed=3))
    backlog.feed(fed)
    backlog.resize(MIN_SIZE)
    assert backlog.offset == len(fed)
    assert backlog.read_from(backlog.first_byte_offset) == fed[-MIN_SIZE:]
    backlog.feed(b"tail")
    assert backlog.read_from(len(fed) + 1) == b"tail"
