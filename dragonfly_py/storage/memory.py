"""MEMORY USAGE: an estimate of what a key costs, from Python's own object sizes."""

from __future__ import annotations

import os
import resource
import sys
from collections import deque
from typing import Any

from dragonfly_py.storage.types import ZSet


def estimate_size(key: bytes, value: Any) -> int:
    size = sys.getsizeof(key) + sys.getsizeof(value)
    cls = value.__class__
    if cls is deque or cls is set:
        size += sum(sys.getsizeof(item) for item in value)
    elif cls is dict:
        size += sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in value.items())
    elif cls is ZSet:
        # Each member once (the order shares the dict's), its float, and 16 bytes of order.
        size += sys.getsizeof(value.scores) + sum(sys.getsizeof(m) + 24 + 16 for m in value.scores)
    return size


def used_memory() -> int:
    """Resident set size: what the process really holds (Python has no allocator counter to ask)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
