"""The stream value type: entries ordered by ID, consumer groups with their pending entries lists."""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sortedcontainers import SortedDict

StreamID = tuple[int, int]
MAX_ID: StreamID = (2**64 - 1, 2**64 - 1)
NODE_MAX_ENTRIES = 100  # stream-node-max-entries
NODE_MAX_BYTES = 4096  # stream-node-max-bytes


def format_id(entry_id: StreamID) -> bytes:
    return b"%d-%d" % entry_id


@dataclass
class PendingEntry:
    consumer: bytes
    delivery_time: int  # unix ms of the last delivery
    delivery_count: int


@dataclass
class Consumer:
    name: bytes
    seen_time: int
    active_time: int = -1
    pending: SortedDict = field(default_factory=SortedDict)  # StreamID -> PendingEntry


@dataclass
class ConsumerGroup:
    name: bytes
    last_id: StreamID
    entries_read: int = -1  # -1: unknown, as Redis's SCG_INVALID_ENTRIES_READ
    pending: SortedDict = field(default_factory=SortedDict)  # StreamID -> PendingEntry
    consumers: dict[bytes, Consumer] = field(default_factory=dict)


class Stream:
    """Entries map an ID to a flat [field, value, ...] list; IDs only ever grow."""

    __slots__ = ("entries", "last_id", "max_deleted_id", "entries_added", "groups", "nodes")
    type_name = "stream"
    encoding = "stream"

    def __init__(self) -> None:
        self.entries: SortedDict = SortedDict()
        self.last_id: StreamID = (0, 0)
        self.max_deleted_id: StreamID = (0, 0)
        self.entries_added = 0
        self.groups: dict[bytes, ConsumerGroup] = {}
        # Redis keeps entries in listpack nodes and '~' trimming drops whole nodes only, so the
        # node boundaries are modelled: [first id, entries ever put in, live entries, bytes].
        self.nodes: deque[list[Any]] = deque()

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:  # an empty stream is still a key
        return True

    @property
    def first_id(self) -> StreamID:
        return self.entries.peekitem(0)[0] if self.entries else (0, 0)

    def add(self, entry_id: StreamID, fields: list[bytes]) -> None:
        self.entries[entry_id] = fields
        self.last_id = entry_id
        self.entries_added += 1
        size = sum(len(f) for f in fields) + 2 * len(fields) + 8
        node = self.nodes[-1] if self.nodes else None
        if node is None or node[1] >= NODE_MAX_ENTRIES or node[3] + size > NODE_MAX_BYTES:
            self.nodes.append([entry_id, 1, 1, size])
        else:
            node[1] += 1
            node[2] += 1
            node[3] += size

    def delete(self, entry_id: StreamID) -> bool:
        if self.entries.pop(entry_id, None) is None:
            return False
        if entry_id > self.max_deleted_id:
            self.max_deleted_id = entry_id
        self._node_lost(entry_id)
        return True

    def pop_first(self) -> None:
        self.entries.popitem(0)
        self._node_lost(0)

    def _node_lost(self, entry_id: StreamID | int) -> None:
        """One live entry fewer in its node (given by ID, or 0 for the head node)."""
        index = 0 if entry_id == 0 else bisect.bisect_right([node[0] for node in self.nodes], entry_id) - 1
        node = self.nodes[index]
        node[2] -= 1
        if not node[2]:
            del self.nodes[index]

    def rebuild_nodes(self) -> None:
        """Node boundaries after a load: consecutive runs of NODE_MAX_ENTRIES."""
        ids = list(self.entries.keys())
        self.nodes = deque(
            [ids[i], len(ids[i : i + NODE_MAX_ENTRIES]), len(ids[i : i + NODE_MAX_ENTRIES]), 0]
            for i in range(0, len(ids), NODE_MAX_ENTRIES)
        )

    def whole_nodes_within(self, excess: int) -> int:
        """How many of the oldest entries '~' trimming removes: only nodes that fit entirely."""
        removed = 0
        for node in self.nodes:
            if removed + node[2] > excess:
                break
            removed += node[2]
        return removed

    def copy(self) -> Stream:
        import copy

        return copy.deepcopy(self)
