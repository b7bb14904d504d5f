"""Per-command latency histograms: INFO latencystats, as Redis's latency-tracking reports it.

A log-linear histogram of nanoseconds with the buckets of the HdrHistogram Redis uses (two
significant digits): values below 256 have a bucket each, and every power of two above is cut into
128 buckets, so a percentile reports the same bucket bound as Redis. A call only appends its
duration to a list; the cron folds the lists into the histograms with numpy, away from the
request path. Sans-IO: the server records and folds, INFO reads.
"""

from __future__ import annotations

import math

import numpy
import numpy.typing

SUB_BUCKET_BITS = 8
HALF = 1 << (SUB_BUCKET_BITS - 1)  # 128 buckets per power of two above the direct range
SIZE = (64 - SUB_BUCKET_BITS + 1) * HALF + 2 * HALF  # up to 2**64 ns

Histogram = numpy.typing.NDArray[numpy.int64]


def new_histogram() -> Histogram:
    return numpy.zeros(SIZE, dtype=numpy.int64)


def bucket_index(nanoseconds: int) -> int:
    """The bucket of one value (what fold computes for many at once)."""
    bits = nanoseconds.bit_length()
    if bits <= SUB_BUCKET_BITS:
        return nanoseconds
    shift = bits - SUB_BUCKET_BITS
    return (shift << (SUB_BUCKET_BITS - 1)) + (nanoseconds >> shift)


def bucket_indexes(nanoseconds: list[int] | numpy.typing.NDArray[numpy.int64]) -> numpy.typing.NDArray[numpy.int64]:
    """bucket_index of each value, vectorised: the bit length comes from the float exponent
    (exact below 2**53 ns, 104 days)."""
    values = numpy.asarray(nanoseconds, dtype=numpy.int64)
    bits = numpy.frexp(values.astype(numpy.float64))[1].astype(numpy.int64)
    shift = numpy.maximum(bits - SUB_BUCKET_BITS, 0)
    return numpy.where(bits <= SUB_BUCKET_BITS, values, (shift << (SUB_BUCKET_BITS - 1)) + (values >> shift))


def fold(histogram: Histogram, samples: list[int], shared: list[int] | None = None) -> None:
    """Count the pending durations into the histogram and empty the lists: samples has one per
    call, shared a duration and how many calls took it, for each run of calls (flat pairs)."""
    if samples:
        histogram += numpy.bincount(bucket_indexes(samples), minlength=SIZE)
        samples.clear()
    if shared:
        pairs = numpy.asarray(shared, dtype=numpy.int64).reshape(-1, 2)
        numpy.add.at(histogram, bucket_indexes(pairs[:, 0]), pairs[:, 1])
        shared.clear()


def bucket_upper_bound(index: int) -> int:
    """The highest value (ns) that falls in the bucket: what a percentile reports, as HdrHistogram."""
    if index < 2 * HALF:
        return index
    shift = index // HALF - 1
    mantissa = index - shift * HALF
    return ((mantissa + 1) << shift) - 1


def percentile_usec(histogram: Histogram, percent: float) -> float:
    """The latency (microseconds) under which percent of the recorded calls fall."""
    cumulative = numpy.cumsum(histogram)
    total = int(cumulative[-1])
    if not total:
        return 0.0
    wanted = max(1, math.ceil(total * percent / 100))
    return bucket_upper_bound(int(numpy.searchsorted(cumulative, wanted))) / 1000


def format_percentiles(histogram: Histogram, percents: list[float]) -> str:
    """'p50=2.007,p99=3.015,p99.9=3.015' as Redis prints them (a percent drops a trailing .0)."""
    return ",".join(f"p{percent:g}={percentile_usec(histogram, percent):.3f}" for percent in percents)
