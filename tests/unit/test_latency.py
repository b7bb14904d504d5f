from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dragonfly_py.server.latency import (
    SIZE,
    bucket_index,
    bucket_indexes,
    bucket_upper_bound,
    fold,
    format_percentiles,
    new_histogram,
    percentile_usec,
)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_every_value_falls_in_a_bucket_within_one_128th(value: int) -> None:
    index = bucket_index(value)
    assert 0 <= index < SIZE
    low = bucket_upper_bound(index - 1) + 1 if index else 0
    assert low <= value <= bucket_upper_bound(index)
    assert bucket_upper_bound(index) - low <= max(0, value) / 128


def test_percentiles_report_the_bucket_bounds_redis_reports() -> None:
    # Measured on redis-server 7.0: DEBUG SLEEP 0.05 x3 and 0.2 x1 give p50=50331.647, p99=200278.015.
    histogram, samples = new_histogram(), [50_150_000, 50_200_000, 50_250_000, 200_200_000]
    fold(histogram, samples)
    assert samples == []
    assert percentile_usec(histogram, 50) == 50331.647
    assert percentile_usec(histogram, 99) == 200278.015
    assert format_percentiles(histogram, [50.0, 99.0, 99.9]) == "p50=50331.647,p99=200278.015,p99.9=200278.015"
    assert percentile_usec(new_histogram(), 50) == 0.0


@given(st.lists(st.integers(min_value=0, max_value=2**53 - 1), max_size=50))
def test_fold_buckets_as_bucket_index_does(values: list[int]) -> None:
    assert bucket_indexes(values).tolist() == [bucket_index(value) for value in values]
    histogram = new_histogram()
    fold(histogram, list(values))
    assert int(histogram.sum()) == len(values)


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=2**53 - 1), st.integers(min_value=1, max_value=20))))
def test_shared_durations_fold_as_the_calls_one_by_one(runs: list[tuple[int, int]]) -> None:
    """A run of calls timed as a whole (duration, count) counts as count calls of that duration."""
    one_by_one, shared = new_histogram(), new_histogram()
    fold(one_by_one, [duration for duration, count in runs for _ in range(count)])
    pairs = [number for run in runs for number in run]
    fold(shared, [], pairs)
    assert pairs == []
    assert one_by_one.tolist() == shared.tolist()
