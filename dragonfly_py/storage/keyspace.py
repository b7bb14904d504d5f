"""Databases, lazy and active expiry.

Values are plain Python objects, one class per Redis type (see :mod:`.types`). Expiry times are
absolute Unix milliseconds in ``Database.expires``; a heap of (when, key) lets the active cycle
find expired keys without scanning, so memory of expired keys is reclaimed without access.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Any

from dragonfly_py.storage.types import type_name


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Database:
    __slots__ = ("index", "data", "expires", "_heap", "_keyspace")

    def __init__(self, index: int, keyspace: Keyspace) -> None:
        self.index = index
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self._heap: list[tuple[int, bytes]] = []
        self._keyspace = keyspace

    def __len__(self) -> int:
        return len(self.data)

    # -- reads -------------------------------------------------------------------------------
    def get(self, key: bytes) -> Any:
        """The live value of key, or None; an expired key is deleted on the way (lazy expiry)."""
        if self.expires and key in self.expires and self.expires[key] <= self._keyspace.now:
            keyspace = self._keyspace
            if keyspace.replica_mode:  # a replica waits for its primary's DEL
                value = self.data.get(key) if keyspace.applying_master else None
            else:
                self._expire(key)
                value = None
        else:
            value = self.data.get(key)
        if self._keyspace.counting_lookups:  # a read command's lookup: Redis's lookupKeyRead stats
            if value is None:
                self._keyspace.misses += 1
            else:
                self._keyspace.hits += 1
        return value

    def lookup_read(self, key: bytes) -> Any:
        """get() counted as a keyspace hit or miss whatever the command (Redis's lookupKeyRead):
        SET ... GET reads its key as GET does."""
        return self._lookup(key, counted=True)

    def lookup_write(self, key: bytes) -> Any:
        """get() for a write's own key (Redis's lookupKeyWrite): no keyspace hit or miss."""
        return self._lookup(key, counted=False)

    def _lookup(self, key: bytes, counted: bool) -> Any:
        keyspace = self._keyspace
        counting, keyspace.counting_lookups = keyspace.counting_lookups, counted
        try:
            return self.get(key)
        finally:
            keyspace.counting_lookups = counting

    def contains(self, key: bytes) -> bool:
        return self.get(key) is not None

    def ttl_ms(self, key: bytes) -> int | None:
        when = self.expires.get(key)
        return None if when is None else when - self._keyspace.now

    # -- writes ------------------------------------------------------------------------------
    def set(self, key: bytes, value: Any, keep_ttl: bool = False, changes: int = 1) -> None:
        """Store value; the TTL is cleared unless keep_ttl (as Redis's setKey). A command that
        creates an empty container counts its own changes afterwards (changes=0 here)."""
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        keyspace = self._keyspace
        if keyspace.watched or keyspace.blocking or keyspace.tracking is not None:
            keyspace.touched(self, key, changes)
        else:  # nobody to tell (the usual case): Keyspace.touched, less its call
            keyspace.dirty += changes

    def set_pairs(self, argv: list[bytes]) -> None:
        """MSET: store argv[1], argv[2], argv[3], ... as key, value pairs (a later pair wins)."""
        keys = argv[1::2]
        self.data.update(zip(keys, argv[2::2], strict=True))
        if self.expires:
            for key in keys:
                self.expires.pop(key, None)
        self._keyspace.touched_many(self, keys)

    def delete(self, key: bytes, changes: int = 1) -> bool:
        """Remove a key (expired or not); True when something was removed. changes: what it
        counts towards the next save, when the command counts its changes its own way."""
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        self._keyspace.touched(self, key, changes)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        heapq.heappush(self._heap, (when_ms, key))
        if len(self._heap) > 2 * len(self.expires) + 1024:
            self._compact_heap()
        self._keyspace.touched(self, key)

    def modified(self, key: bytes, changes: int = 1) -> None:
        """Call after changing a value in place (LPUSH on an existing list ...)."""
        keyspace = self._keyspace
        if keyspace.watched or keyspace.blocking or keyspace.tracking is not None:
            keyspace.touched(self, key, changes)
        else:  # nobody to tell (the usual case): Keyspace.touched, less its call
            keyspace.dirty += changes

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self._keyspace.touched(self, key)
        return True

    def clear(self, announce: bool = True) -> int:
        """FLUSHDB: empty this db; tracking clients hear of it (announce=False: the caller does)."""
        removed = len(self.data)
        for key in list(self._keyspace.watched_keys_of(self)):
            self._keyspace.touched(self, key)
        if announce and self._keyspace.tracking is not None:
            self._keyspace.tracking.flushed()
        self.data.clear()
        self.expires.clear()
        self._heap.clear()
        return removed

    def replace_contents(self, data: dict[bytes, Any], expires: dict[bytes, int]) -> None:
        """Install a loaded dataset (RDB load, full sync); the caller flushed the old one."""
        self.data, self.expires = data, expires
        self._compact_heap()

    def swap_contents(self, other: Database) -> None:
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self._heap, other._heap = other._heap, self._heap

    def key_type(self, key: bytes) -> str:
        value = self.get(key)
        return "none" if value is None else type_name(value)

    # -- expiry ------------------------------------------------------------------------------
    def _expire(self, key: bytes) -> None:
        self.data.pop(key, None)
        self.expires.pop(key, None)
        self._keyspace.expired(self, key)

    def expire_due(self, now: int, budget: int) -> int:
        """Delete up to budget keys whose time has come; returns how many were deleted."""
        heap, expires = self._heap, self.expires
        done = 0
        while heap and heap[0][0] <= now and done < budget:
            when, key = heapq.heappop(heap)
            if expires.get(key) == when:
                self._expire(key)
                done += 1
        return done

    def _compact_heap(self) -> None:
        self._heap = [(when, key) for key, when in self.expires.items()]
        heapq.heapify(self._heap)


class Keyspace:
    """All databases plus the hooks the server needs when keys change or expire."""

    def __init__(self, databases: int = 16) -> None:
        # The time commands see, in ms: read from the clock at the first look after a read of
        # requests has set it to None, then kept for the rest of the read, as Redis caches mstime
        # per call; most commands never look (the clock and the division cost a SET a twentieth).
        self.cached_now: int | None = None
        self.dbs = [Database(i, self) for i in range(databases)]
        self.expired_keys = 0
        self.dirty = 0  # changes since the last save
        # keyspace_hits / keyspace_misses: lookups made while a command that reads keys runs
        self.counting_lookups = False
        self.hits = self.misses = 0
        # (db index, key) -> watchers; set by the transaction code
        self.watched: dict[tuple[int, bytes], set[Any]] = {}
        # (db index, key) -> clients blocked on it; keys written while waited on become ready
        self.blocking: dict[tuple[int, bytes], Any] = {}
        self.ready_keys: list[tuple[int, bytes]] = []
        self.tracking: Any = None  # the server's Tracking once a client turned CLIENT TRACKING on
        self.on_expired: Callable[[Database, bytes], None] | None = None
        self.active_expire_enabled = True
        self.replica_mode = False  # expired keys look missing but are not deleted
        self.applying_master = False  # executing the primary's stream: values used as they are

    @property
    def now(self) -> int:
        now = self.cached_now
        if now is None:
            now = self.cached_now = now_ms()
        return now

    def observed(self) -> bool:
        """Whether a changed key may have someone to tell (a WATCH, a blocked client, a tracking
        client): then writes go through touched(), one by one (no squashed form, Command.many)."""
        return bool(self.watched or self.blocking or self.tracking is not None)

    def watched_keys_of(self, db: Database) -> list[bytes]:
        return [key for (index, key) in self.watched if index == db.index]

    def touched(self, db: Database, key: bytes, changes: int = 1) -> None:
        """A key changed: count it, invalidate WATCHes, wake blocked clients (signalModifiedKey)."""
        self.dirty += changes
        if self.watched:
            watchers = self.watched.get((db.index, key))
            if watchers:
                for client in watchers:
                    client.watch_dirty = True
        if self.blocking and (db.index, key) in self.blocking:
            self.ready_keys.append((db.index, key))
        if self.tracking is not None:
            self.tracking.key_changed(key)

    def touched_many(self, db: Database, keys: list[bytes]) -> None:
        if self.watched or self.blocking or self.tracking is not None:
            for key in keys:
                self.touched(db, key)
        else:  # nobody to tell: only the count of changes
            self.dirty += len(keys)

    def expired(self, db: Database, key: bytes) -> None:
        self.expired_keys += 1
        self.touched(db, key, 0)
        if self.on_expired is not None:
            self.on_expired(db, key)

    def active_expire_cycle(self, budget: int = 2000) -> int:
        """Reclaim expired keys in every database; bounded work per call."""
        if not self.active_expire_enabled or self.replica_mode:
            return 0
        self.cached_now = now = now_ms()
        return sum(db.expire_due(now, budget) for db in self.dbs if db.expires)

    def flush_all(self) -> int:
        """FLUSHALL (and a dataset replaced by a load): one invalidation for all dbs, as Redis."""
        removed = sum(db.clear(announce=False) for db in self.dbs)
        if self.tracking is not None:
            self.tracking.flushed()
        return removed
