"""ScoreOrder against the plain model: a sorted list of (score, member) pairs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dragonfly_py.storage import score_order
from dragonfly_py.storage.score_order import ScoreOrder
from dragonfly_py.storage.types import ZSet

# Few scores and members, so that ties of score across blocks are the rule, not the exception.
scores = st.sampled_from([float("-inf"), -1.5, -0.0, 0.0, 1.0, 2.0, 3.0, float("inf")])
members = st.binary(max_size=3)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), members, scores),
        st.tuples(st.just("remove"), members, scores),
        st.tuples(st.just("pop"), st.booleans(), scores),
    ),
    max_size=300,
)


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(score_order, "LOAD", 4)  # blocks split and join all the time


def _check(order: ScoreOrder, model: list[tuple[float, bytes]]) -> None:
    assert len(order) == len(model)
    assert list(order) == model
    assert list(reversed(order)) == model[::-1]
    assert list(order._maxes) == [block[-1] for block in order._scores]
    assert all(0 < len(block) <= 2 * score_order.LOAD for block in order._members)
    for rank, (score, member) in enumerate(model):
        assert order[rank] == (score, member)
        assert order[rank - len(model)] == (score, member)
        assert order.rank(score, member) == rank


@settings(max_examples=300, deadline=None)
@given(operations)
def test_changes_keep_the_order_of_a_sorted_list(ops: list[tuple[str, object, float]]) -> None:
    zset = ZSet()
    model: dict[bytes, float] = {}
    for op, arg, score in ops:
        if op == "add":
            zset.add(arg, score)  # type: ignore[arg-type]
            model[arg] = score  # type: ignore[index]
        elif op == "remove":
            assert zset.remove(arg) == (model.pop(arg, None) is not None)  # type: ignore[arg-type]
        elif model:
            expected = (min if not arg else max)((s, m) for m, s in model.items())
            assert zset.pop(highest=bool(arg)) == expected
            del model[expected[1]]
    _check(zset.order, sorted((s, m) for m, s in model.items()))
    assert zset.copy().scores == zset.scores
    _check(zset.copy().order, sorted((s, m) for m, s in model.items()))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(members, scores, max_size=40), st.lists(st.tuples(members, scores), max_size=80))
def test_a_run_of_pairs_adds_as_add_does(start: dict[bytes, float], pairs: list[tuple[bytes, float]]) -> None:
    # ZADD's squashed form: each pair's reply (new or not) and the count of changes (new or moved).
    one_by_one, at_once = ZSet(dict(start)), ZSet(dict(start))
    added, changes = [], 0
    for member, score in pairs:
        changes += one_by_one.scores.get(member) != score
        added.append(int(one_by_one.add(member, score)))
    assert at_once.add_pairs([m for m, _ in pairs], [s for _, s in pairs]) == (added, changes)
    assert at_once.scores == one_by_one.scores
    _check(at_once.order, list(one_by_one.order))
    _check(at_once.order, sorted((s, m) for m, s in one_by_one.scores.items()))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(members, scores, max_size=60), st.integers(0, 70), st.integers(0, 70), scores)
def test_slices_and_score_ranks_match_the_sorted_list(
    members_scores: dict[bytes, float], start: int, stop: int, bound: float
) -> None:
    zset = ZSet(members_scores)
    model = sorted((s, m) for m, s in members_scores.items())
    _check(zset.order, model)
    lo, hi = start, min(stop, len(model))
    assert list(zset.order.islice(start, stop)) == model[lo:hi]
    assert list(zset.order.islice(start, stop, reverse=True)) == model[lo:hi][::-1]
    assert list(zset.order.islice(start)) == model[lo:]
    assert zset.order.rank_of_score(bound) == sum(1 for s, _ in model if s < bound)
    assert zset.order.rank_of_score(bound, after=True) == sum(1 for s, _ in model if s <= bound)


def test_a_missing_pair_is_refused_and_an_empty_order_pops_nothing() -> None:
    order = ScoreOrder([(1.0, b"a")])
    with pytest.raises(KeyError):
        order.remove(2.0, b"a")
    with pytest.raises(KeyError):
        order.remove(1.0, b"b")
    order.remove(1.0, b"a")
    with pytest.raises(IndexError):
        order.pop(last=False)
    with pytest.raises(IndexError):
        order[0]
