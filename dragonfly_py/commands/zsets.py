"""Sorted set commands."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.hashes import random_members
from dragonfly_py.commands.keys import scan_generic
from dragonfly_py.commands.keyspecs import spec
from dragonfly_py.commands.lists import block_or_answer, parse_mpop
from dragonfly_py.commands.registry import command
from dragonfly_py.commands.sets import parse_numkeys_limit
from dragonfly_py.commands.util import (
    delete_emptied,
    normalize_range,
    one_key,
    optional_count,
    parse_float,
    parse_int,
    parse_timeout,
    pops_to_squash,
    typed,
    values_to_squash,
)
from dragonfly_py.protocol.resp import NULL_ARRAY, ReplyError, encode, encode_integers, format_double
from dragonfly_py.server.client import Client
from dragonfly_py.storage.keyspace import Database
from dragonfly_py.storage.types import ZSet

Z = {"group": "sorted_set"}
# The key specs of ZUNION / ZINTER / ZDIFF (a count, then its keys) and of their STORE forms.
COUNTED_SOURCES = (spec("RO access", 1, keynumidx=0),)
STORE_OF_COUNTED_SOURCES = (spec("OW update", 1), spec("RO access", 2, keynumidx=0))


def _zset(db: Database, key: bytes) -> ZSet | None:
    return typed(db, key, ZSet)


def _with_scores(client: Client, pairs: list[tuple[float, bytes]]) -> list[Any]:
    if client.resp3:
        return [[member, score] for score, member in pairs]
    return [x for score, member in pairs for x in (member, format_double(score))]


# -- writes --------------------------------------------------------------------------------------
ZADD_OPTIONS = frozenset({b"nx", b"xx", b"gt", b"lt", b"ch", b"incr"})


def zadd_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
    """ZADD key score member, many times, while none of the keys has a TTL or holds another type
    and no replica is fed: a ZADD that changes no score goes to no replica, and which ones do is
    only known after the run (Command.many). Every request is checked (its score too: an option
    such as NX is no number) before any adds; a run on one key (a leaderboard fed a member at a
    time) looks it up once."""
    db = client.db
    if client.server.primary.feeding:
        return None
    key = one_key(db, requests, 4)
    if key is not None:
        zset = db.data.get(key)
        if zset is not None and zset.__class__ is not ZSet:
            return None  # WRONGTYPE: ZADD itself
    elif values_to_squash(db, requests, 4, ZSet) is None:  # key is None, or has a TTL
        return None
    try:
        scores = [parse_float(argv[2]) for argv in requests]
    except ReplyError:
        return None
    if key is not None:  # a leaderboard fed a member at a time: one set, one loop in it
        if zset is None:
            zset = db.data[key] = ZSet()
        added, changes = zset.add_pairs(map(_MEMBER, requests), scores)
    else:
        added, changes = [], 0
        data = db.data
        for argv, score in zip(requests, scores, strict=True):
            zset = data.get(argv[1])
            if zset is None:
                zset = data[argv[1]] = ZSet()
            new, changed = zset.add_pairs((argv[3],), (score,))
            added += new
            changes += changed
    client.server.keyspace.dirty += changes
    return encode_integers(added)


_MEMBER = itemgetter(3)


@command("zadd", -4, "write denyoom fast", keys=(1, 1, 1), many=zadd_many, **Z)
def zadd(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 4 and argv[2].isdigit():  # ZADD key score member, the commonest form
        return _zadd_one(client.db, argv[1], parse_float(argv[2]), argv[3])
    flags: set[bytes] = set()
    i = 2
    while i < len(argv) and (option := argv[i].lower()) in ZADD_OPTIONS:
        flags.add(option)
        i += 1
    pairs = argv[i:]
    if not pairs or len(pairs) % 2:
        raise errors.SYNTAX
    nx = xx = gt = lt = incr = False
    if flags:
        nx, xx, gt, lt, incr = (b"nx" in flags, b"xx" in flags, b"gt" in flags, b"lt" in flags, b"incr" in flags)
        if nx and xx:
            raise ReplyError("ERR XX and NX options at the same time are not compatible")
        if (gt and lt) or (nx and (gt or lt)):
            raise ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible")
        if incr and len(pairs) > 2:
            raise ReplyError("ERR INCR option supports a single increment-element pair")
    scores = list(map(parse_float, pairs[0::2]))
    db, key = client.db, argv[1]
    zset = _zset(db, key)
    if zset is None:
        if xx:
            return None if incr else 0
        zset = ZSet()
        db.set(key, zset, changes=0)
    added = changed = 0
    result: float | None = None
    for score, member in zip(scores, pairs[1::2], strict=True):
        old = zset.scores.get(member)
        if old is None:
            if xx:
                continue
            new = score
        else:
            if nx:
                continue
            new = old + score if incr else score
            if math.isnan(new):
                raise errors.SCORE_NAN
            if (gt and new <= old) or (lt and new >= old):
                continue
        if zset.add(member, new):
            added += 1
        elif old != new:
            changed += 1
        result = new
    if not zset.scores:
        db.delete(key)
    if added or changed:
        db.modified(key, added + changed)
    if incr:
        return result
    return added + changed if b"ch" in flags else added


def _zadd_one(db: Database, key: bytes, score: float, member: bytes) -> int:
    """ZADD of one pair without options: zadd's walk, less what cannot apply."""
    zset = db.get(key)
    if zset is None:
        zset = ZSet()
        db.set(key, zset, changes=0)
    elif zset.__class__ is not ZSet:
        raise errors.WRONGTYPE
    if zset.scores.get(member) == score:
        return 0
    added = zset.add(member, score)
    db.modified(key, 1)
    return 1 if added else 0


@command("zincrby", 4, "write denyoom fast", keys=(1, 1, 1), key_flags="RW access update", **Z)
def zincrby(client: Client, argv: list[bytes]) -> Any:
    return zadd(client, [b"zadd", argv[1], b"incr", argv[2], argv[3]])


@command("zrem", -3, "write fast", keys=(1, 1, 1), key_flags="RW delete", **Z)
def zrem(client: Client, argv: list[bytes]) -> int:
    db, key = client.db, argv[1]
    zset = _zset(db, key)
    if zset is None:
        return 0
    removed = sum(1 for member in argv[2:] if zset.remove(member))
    if removed:
        db.modified(key, removed)
        if not zset:
            db.delete(key)
    return removed


# -- reads ---------------------------------------------------------------------------------------
@command("zcard", 2, "readonly fast", keys=(1, 1, 1), key_flags="RO", **Z)
def zcard(client: Client, argv: list[bytes]) -> int:
    return len(_zset(client.db, argv[1]) or ())


@command("zscore", 3, "readonly fast", keys=(1, 1, 1), **Z)
def zscore(client: Client, argv: list[bytes]) -> Any:
    zset = _zset(client.db, argv[1])
    score = zset.scores.get(argv[2]) if zset else None
    return score


@command("zmscore", -3, "readonly fast", keys=(1, 1, 1), **Z)
def zmscore(client: Client, argv: list[bytes]) -> list[Any]:
    zset = _zset(client.db, argv[1])
    return [zset.scores.get(m) if zset else None for m in argv[2:]]


def _rank(client: Client, argv: list[bytes], reverse: bool) -> int | None:
    zset = _zset(client.db, argv[1])
    rank = zset.rank(argv[2]) if zset else None
    if rank is None or not reverse:
        return rank
    return len(zset) - 1 - rank  # type: ignore[arg-type]


@command("zrank", 3, "readonly fast", keys=(1, 1, 1), **Z)
def zrank(client: Client, argv: list[bytes]) -> Any:
    return _rank(client, argv, reverse=False)


@command("zrevrank", 3, "readonly fast", keys=(1, 1, 1), **Z)
def zrevrank(client: Client, argv: list[bytes]) -> Any:
    return _rank(client, argv, reverse=True)


# -- ranges --------------------------------------------------------------------------------------
class ScoreBound:
    __slots__ = ("value", "exclusive")

    def __init__(self, raw: bytes) -> None:
        self.exclusive = raw[:1] == b"("
        text = raw[1:] if self.exclusive else raw
        self.value = parse_float(text, errors.MIN_MAX_NOT_FLOAT)


class LexBound:
    __slots__ = ("value", "exclusive", "infinite")

    def __init__(self, raw: bytes) -> None:
        self.infinite = 0
        self.exclusive = False
        self.value = b""
        if raw == b"-":
            self.infinite = -1
        elif raw == b"+":
            self.infinite = 1
        elif raw[:1] in (b"(", b"["):
            self.exclusive = raw[:1] == b"("
            self.value = raw[1:]
        else:
            raise errors.MIN_MAX_NOT_STRING


def _by_score(zset: ZSet, low: ScoreBound, high: ScoreBound) -> list[tuple[float, bytes]]:
    order = zset.order
    out = []
    for item in order.islice(order.rank_of_score(low.value, after=low.exclusive)):
        score = item[0]
        if score > high.value or (high.exclusive and score == high.value):
            break
        out.append(item)
    return out


def _lex_ok_low(member: bytes, low: LexBound) -> bool:
    if low.infinite:
        return low.infinite < 0
    return member > low.value if low.exclusive else member >= low.value


def _lex_ok_high(member: bytes, high: LexBound) -> bool:
    if high.infinite:
        return high.infinite > 0
    return member < high.value if high.exclusive else member <= high.value


def _by_lex(zset: ZSet, low: LexBound, high: LexBound) -> list[tuple[float, bytes]]:
    # Lex ranges assume equal scores (as Redis); walk in order and filter.
    out = []
    for item in zset.order:
        if not _lex_ok_low(item[1], low):
            continue
        if not _lex_ok_high(item[1], high):
            break
        out.append(item)
    return out


def _by_rank(zset: ZSet, start: int, stop: int, reverse: bool) -> list[tuple[float, bytes]]:
    n = len(zset)
    bounds = normalize_range(start, stop, n)
    if bounds is None:
        return []
    start, stop = bounds
    if reverse:
        return list(zset.order.islice(n - 1 - stop, n - start, reverse=True))
    return list(zset.order.islice(start, stop + 1))


def range_generic(
    client: Client, key: bytes, args: list[bytes], mode: str, reverse: bool, options: list[bytes], store: bool
) -> Any:
    """ZRANGE and all its older forms; ``args`` are the two bounds as given."""
    with_scores = False
    limit: tuple[int, int] | None = None
    i = 0
    while i < len(options):
        option = options[i].lower()
        if option == b"withscores" and not store:
            with_scores = True
        elif option == b"limit" and i + 2 < len(options):
            limit = (parse_int(options[i + 1]), parse_int(options[i + 2]))
            i += 2
        elif option == b"byscore" and mode == "rank":
            mode = "score"
        elif option == b"bylex" and mode == "rank":
            mode = "lex"
        elif option == b"rev":
            reverse = True
        else:
            raise errors.SYNTAX
        i += 1
    if limit is not None and mode == "rank":
        raise ReplyError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if with_scores and mode == "lex":
        raise ReplyError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    first, second = (args[1], args[0]) if reverse and mode != "rank" else (args[0], args[1])
    if mode == "rank":
        start, stop = parse_int(args[0]), parse_int(args[1])
    elif mode == "score":
        low_s, high_s = ScoreBound(first), ScoreBound(second)
    else:
        low_l, high_l = LexBound(first), LexBound(second)
    zset = _zset(client.db, key)
    if zset is None:
        items: list[tuple[float, bytes]] = []
    elif mode == "rank":
        items = _by_rank(zset, start, stop, reverse)
    else:
        items = _by_score(zset, low_s, high_s) if mode == "score" else _by_lex(zset, low_l, high_l)
        if reverse:
            items.reverse()
        if limit is not None:
            offset, count = limit
            if offset < 0:
                items = []
            elif count < 0:
                items = items[offset:]
            else:
                items = items[offset : offset + count]
    if store:
        return items
    if with_scores:
        return _with_scores(client, items)
    return [member for _, member in items]


@command("zrange", -4, "readonly", keys=(1, 1, 1), **Z)
def zrange(client: Client, argv: list[bytes]) -> Any:
    return range_generic(client, argv[1], argv[2:4], "rank", False, argv[4:], store=False)


@command("zrangestore", -5, "write denyoom", reads_keys=True, keys=(spec("OW update", 1), spec("RO access", 2)), **Z)
def zrangestore(client: Client, argv: list[bytes]) -> int:
    items = range_generic(client, argv[2], argv[3:5], "rank", False, argv[5:], store=True)
    return _store_items(client, argv[1], items)


def _store_items(client: Client, dest: bytes, items: list[tuple[float, bytes]]) -> int:
    client.db.delete(dest)
    if items:
        client.db.set(dest, ZSet({member: score for score, member in items}))
    return len(items)


@command("zrevrange", -4, "readonly", keys=(1, 1, 1), **Z)
def zrevrange(client: Client, argv: list[bytes]) -> Any:
    return range_generic(client, argv[1], argv[2:4], "rank", True, argv[4:], store=False)


@command("zrangebyscore", -4, "readonly", keys=(1, 1, 1), **Z)
def zrangebyscore(client: Client, argv: list[bytes]) -> Any:
    return range_generic(client, argv[1], argv[2:4], "score", False, argv[4:], store=False)


@command("zrevrangebyscore", -4, "readonly", keys=(1, 1, 1), **Z)
def zrevrangebyscore(client: Client, argv: list[bytes]) -> Any:
    return range_generic(client, argv[1], argv[2:4], "score", True, argv[4:], store=False)


@command("zrangebylex", -4, "readonly", keys=(1, 1, 1), **Z)
def zrangebylex(client: Client, argv: list[bytes]) -> Any:
    return range_generic(client, argv[1], argv[2:4], "lex", False, argv[4:], store=False)


@command("zrevrangebylex", -4, "readonly", keys=(1, 1, 1), **Z)
def zrevrangebylex(client: Client, argv: list[bytes]) -> Any:
    return range_generic(client, argv[1], argv[2:4], "lex", True, argv[4:], store=False)


@command("zcount", 4, "readonly fast", keys=(1, 1, 1), **Z)
def zcount(client: Client, argv: list[bytes]) -> int:
    low, high = ScoreBound(argv[2]), ScoreBound(argv[3])
    zset = _zset(client.db, argv[1])
    return len(_by_score(zset, low, high)) if zset else 0


@command("zlexcount", 4, "readonly fast", keys=(1, 1, 1), **Z)
def zlexcount(client: Client, argv: list[bytes]) -> int:
    low, high = LexBound(argv[2]), LexBound(argv[3])
    zset = _zset(client.db, argv[1])
    return len(_by_lex(zset, low, high)) if zset else 0


def _remove_items(client: Client, key: bytes, zset: ZSet, items: list[tuple[float, bytes]]) -> int:
    for _, member in items:
        zset.remove(member)
    if items:
        client.db.modified(key, len(items))
        if not zset:
            client.db.delete(key)
    return len(items)


@command("zremrangebyrank", 4, "write", keys=(1, 1, 1), key_flags="RW delete", **Z)
def zremrangebyrank(client: Client, argv: list[bytes]) -> int:
    start, stop = parse_int(argv[2]), parse_int(argv[3])
    zset = _zset(client.db, argv[1])
    return _remove_items(client, argv[1], zset, _by_rank(zset, start, stop, False)) if zset else 0


@command("zremrangebyscore", 4, "write", keys=(1, 1, 1), key_flags="RW delete", **Z)
def zremrangebyscore(client: Client, argv: list[bytes]) -> int:
    low, high = ScoreBound(argv[2]), ScoreBound(argv[3])
    zset = _zset(client.db, argv[1])
    return _remove_items(client, argv[1], zset, _by_score(zset, low, high)) if zset else 0


@command("zremrangebylex", 4, "write", keys=(1, 1, 1), key_flags="RW delete", **Z)
def zremrangebylex(client: Client, argv: list[bytes]) -> int:
    low, high = LexBound(argv[2]), LexBound(argv[3])
    zset = _zset(client.db, argv[1])
    return _remove_items(client, argv[1], zset, _by_lex(zset, low, high)) if zset else 0


# -- pops ----------------------------------------------------------------------------------------
def pop_scored(client: Client, db: Database, key: bytes, count: int, highest: bool) -> list[tuple[float, bytes]]:
    zset = _zset(db, key)
    if zset is None:
        return []
    take = min(count, len(zset))
    items = (
        list(zset.order.islice(len(zset) - take, len(zset), reverse=True))
        if highest
        else list(zset.order.islice(0, take))
    )
    for _, member in items:
        zset.remove(member)
    if items:
        _popped(db, key, zset, len(items))
    return items


def _popped(db: Database, key: bytes, zset: ZSet, count: int) -> None:
    db.modified(key, count)
    if not zset:
        db.delete(key, changes=0)


def _pop(client: Client, argv: list[bytes], highest: bool) -> Any:
    if len(argv) == 2:  # one member, the commonest form
        zset = _zset(client.db, argv[1])
        if zset is None:
            return []
        score, member = zset.pop(highest)
        _popped(client.db, argv[1], zset, 1)
        return [member, score] if client.resp3 else [member, format_double(score)]
    count = optional_count(argv)
    return _with_scores(client, pop_scored(client, client.db, argv[1], 1 if count is None else count, highest))


def _pop_many(highest: bool) -> Callable[[Client, list[list[bytes]]], bytes | None]:
    """ZPOPMIN or ZPOPMAX key (no count) many times, while none of the keys has a TTL or holds
    another type, and either every key is missing (an empty array each: nothing changes) or
    every sorted set holds at least a member per request (then each pop changes it), as
    Command.many requires of a write: a first loop checks every request, a second pops."""

    def pop_many(client: Client, requests: list[list[bytes]]) -> bytes | None:
        db = client.db
        shortest = pops_to_squash(db, requests, ZSet)
        count = len(requests)
        if not shortest:
            return None if shortest is None else b"*0\r\n" * count
        data = db.data
        resp3 = client.resp3
        replies: list[list[Any]] = []
        for _, key in requests:
            score, member = data[key].pop(highest)
            replies.append([member, score] if resp3 else [member, format_double(score)])
        delete_emptied(db, requests, shortest)
        client.server.keyspace.dirty += count
        return b"".join([encode(reply, resp3) for reply in replies])

    return pop_many


@command("zpopmin", -2, "write fast", keys=(1, 1, 1), many=_pop_many(highest=False), key_flags="RW access delete", **Z)
def zpopmin(client: Client, argv: list[bytes]) -> Any:
    return _pop(client, argv, highest=False)


@command("zpopmax", -2, "write fast", keys=(1, 1, 1), many=_pop_many(highest=True), key_flags="RW access delete", **Z)
def zpopmax(client: Client, argv: list[bytes]) -> Any:
    return _pop(client, argv, highest=True)


def _bpop(client: Client, argv: list[bytes], highest: bool) -> Any:
    keys = argv[1:-1]
    timeout = parse_timeout(argv[-1])

    def attempt(db: Database) -> Any:
        for key in keys:
            items = pop_scored(client, db, key, 1, highest)
            if items:
                score, member = items[0]
                return [key, member, score if client.resp3 else format_double(score)]
        return None

    return block_or_answer(client, keys, timeout, attempt, NULL_ARRAY)


@command("bzpopmin", -3, "write noscript blocking fast", keys=(1, -2, 1), key_flags="RW access delete", **Z)
def bzpopmin(client: Client, argv: list[bytes]) -> Any:
    return _bpop(client, argv, highest=False)


@command("bzpopmax", -3, "write noscript blocking fast", keys=(1, -2, 1), key_flags="RW access delete", **Z)
def bzpopmax(client: Client, argv: list[bytes]) -> Any:
    return _bpop(client, argv, highest=True)


def _mpop_attempt(client: Client, keys: list[bytes], highest: bool, count: int) -> Any:
    def attempt(db: Database) -> Any:
        for key in keys:
            items = pop_scored(client, db, key, count, highest)
            if items:
                return [key, _with_scores_nested(client, items)]
        return None

    return attempt


def _with_scores_nested(client: Client, items: list[tuple[float, bytes]]) -> list[Any]:
    return [[member, score if client.resp3 else format_double(score)] for score, member in items]


_MINMAX = {b"min": False, b"max": True}


@command("zmpop", -4, "write movablekeys", keys=(spec("RW access delete", 1, keynumidx=0),), **Z)
def zmpop(client: Client, argv: list[bytes]) -> Any:
    keys, highest, count = parse_mpop(argv, 1, _MINMAX)
    reply = _mpop_attempt(client, keys, highest, count)(client.db)
    return NULL_ARRAY if reply is None else reply


@command("bzmpop", -5, "write blocking movablekeys", keys=(spec("RW access delete", 2, keynumidx=0),), **Z)
def bzmpop(client: Client, argv: list[bytes]) -> Any:
    timeout = parse_timeout(argv[1])
    keys, highest, count = parse_mpop(argv, 2, _MINMAX)
    return block_or_answer(client, keys, timeout, _mpop_attempt(client, keys, highest, count), NULL_ARRAY)


@command("zrandmember", -2, "readonly", keys=(1, 1, 1), tips="nondeterministic_output", **Z)
def zrandmember(client: Client, argv: list[bytes]) -> Any:
    zset = _zset(client.db, argv[1])
    if len(argv) == 2:
        return zset.order[random.randrange(len(zset))][1] if zset else None  # O(log n), no list
    count = parse_int(argv[2])
    with_scores = False
    if len(argv) == 4:
        if argv[3].lower() != b"withscores":
            raise errors.SYNTAX
        with_scores = True
    elif len(argv) > 4:
        raise errors.SYNTAX
    if zset is None:
        return []
    members = random_members(list(zset.scores), count)
    if with_scores:
        return _with_scores(client, [(zset.scores[m], m) for m in members])
    return members


# -- set algebra ---------------------------------------------------------------------------------
def _source(client: Client, key: bytes) -> dict[bytes, float]:
    value = client.db.get(key)
    if value is None:
        return {}
    if value.__class__ is ZSet:
        return value.scores
    if value.__class__ is set:
        return dict.fromkeys(value, 1.0)
    raise errors.WRONGTYPE


def _aggregate(op: str, sources: list[dict[bytes, float]], weights: list[float], how: str) -> dict[bytes, float]:
    def combine(a: float, b: float) -> float:
        if how == "sum":
            total = a + b
            return 0.0 if math.isnan(total) else total
        return min(a, b) if how == "min" else max(a, b)

    def weighted(score: float, weight: float) -> float:
        product = score * weight
        return 0.0 if math.isnan(product) else product

    if op == "diff":
        first = dict(sources[0])
        for other in sources[1:]:
            for member in other:
                first.pop(member, None)
        return first
    result: dict[bytes, float] = {}
    if op == "union":
        for source, weight in zip(sources, weights, strict=True):
            for member, score in source.items():
                value = weighted(score, weight)
                result[member] = combine(result[member], value) if member in result else value
        return result
    smallest = min(range(len(sources)), key=lambda i: len(sources[i]))
    for member in sources[smallest]:
        if all(member in s for s in sources):
            values = [weighted(s[member], w) for s, w in zip(sources, weights, strict=True)]
            total = values[0]
            for value in values[1:]:
                total = combine(total, value)
            result[member] = total
    return result


def _algebra(client: Client, argv: list[bytes], op: str, first: int, store: bool) -> Any:
    numkeys = parse_int(argv[first], errors.NOT_INTEGER)
    name = argv[0].decode().lower()
    if numkeys < 1:
        raise ReplyError(f"ERR at least 1 input key is needed for '{name}' command")
    if first + 1 + numkeys > len(argv):
        raise errors.SYNTAX
    keys = argv[first + 1 : first + 1 + numkeys]
    weights = [1.0] * numkeys
    how = "sum"
    with_scores = False
    i = first + 1 + numkeys
    while i < len(argv):
        option = argv[i].lower()
        if option == b"weights" and op != "diff" and i + numkeys < len(argv):
            weights = [
                parse_float(w, ReplyError("ERR weight value is not a float")) for w in argv[i + 1 : i + 1 + numkeys]
            ]
            i += numkeys
        elif option == b"aggregate" and op != "diff" and i + 1 < len(argv):
            how = argv[i + 1].lower().decode("utf-8", "replace")
            if how not in ("sum", "min", "max"):
                raise errors.SYNTAX
            i += 1
        elif option == b"withscores" and not store:
            with_scores = True
        else:
            raise errors.SYNTAX
        i += 1
    result = _aggregate(op, [_source(client, k) for k in keys], weights, how)
    items = sorted((score, member) for member, score in result.items())
    if store:
        return _store_items(client, argv[1], items)
    if with_scores:
        return _with_scores(client, items)
    return [member for _, member in items]


@command("zunion", -3, "readonly movablekeys", keys=COUNTED_SOURCES, **Z)
def zunion(client: Client, argv: list[bytes]) -> Any:
    return _algebra(client, argv, "union", 1, store=False)


@command("zinter", -3, "readonly movablekeys", keys=COUNTED_SOURCES, **Z)
def zinter(client: Client, argv: list[bytes]) -> Any:
    return _algebra(client, argv, "inter", 1, store=False)


@command("zdiff", -3, "readonly movablekeys", keys=COUNTED_SOURCES, **Z)
def zdiff(client: Client, argv: list[bytes]) -> Any:
    return _algebra(client, argv, "diff", 1, store=False)


@command(
    "zunionstore",
    -4,
    "write denyoom movablekeys",
    reads_keys=True,
    keys=STORE_OF_COUNTED_SOURCES,
    **Z,
)
def zunionstore(client: Client, argv: list[bytes]) -> Any:
    return _algebra(client, argv, "union", 2, store=True)


@command(
    "zinterstore",
    -4,
    "write denyoom movablekeys",
    reads_keys=True,
    keys=STORE_OF_COUNTED_SOURCES,
    **Z,
)
def zinterstore(client: Client, argv: list[bytes]) -> Any:
    return _algebra(client, argv, "inter", 2, store=True)


@command(
    "zdiffstore",
    -4,
    "write denyoom movablekeys",
    reads_keys=True,
    keys=STORE_OF_COUNTED_SOURCES,
    **Z,
)
def zdiffstore(client: Client, argv: list[bytes]) -> Any:
    return _algebra(client, argv, "diff", 2, store=True)


@command("zintercard", -3, "readonly movablekeys", keys=COUNTED_SOURCES, **Z)
def zintercard(client: Client, argv: list[bytes]) -> int:
    keys, limit = parse_numkeys_limit(argv)
    size = len(_aggregate("inter", [_source(client, k) for k in keys], [1.0] * len(keys), "sum"))
    return min(size, limit) if limit else size


@command("zscan", -3, "readonly", keys=(1, 1, 1), tips="nondeterministic_output", **Z)
def zscan(client: Client, argv: list[bytes]) -> list[Any]:
    zset = _zset(client.db, argv[1])
    items = list(zset.order) if zset else []
    following, found = scan_generic(items, argv, 2, key_of=lambda item: item[1])
    return [str(following).encode(), [x for score, member in found for x in (member, format_double(score))]]
