"""Stream commands: XADD, XRANGE, XREAD[GROUP] (blocking too), consumer groups, XINFO ..."""

from __future__ import annotations

import re
from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.keyspecs import spec
from dragonfly_py.commands.registry import command, container, subcommand
from dragonfly_py.commands.util import parse_int, typed
from dragonfly_py.protocol.resp import NULL_ARRAY, OK, Map, ReplyError
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import BLOCKED
from dragonfly_py.storage.keyspace import Database
from dragonfly_py.storage.stream import (
    MAX_ID,
    NODE_MAX_ENTRIES,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    Stream,
    StreamID,
    format_id,
)

S = {"group": "stream"}
_U64 = 2**64 - 1
_ID_RE = re.compile(rb"(\d+)(?:-(\d+|\*))?")
INVALID_ID = ReplyError("ERR Invalid stream ID specified as stream command argument")
_TOP_ITEM = ReplyError("ERR The ID specified in XADD is equal or smaller than the target stream top item")


def _stream(db: Database, key: bytes) -> Stream | None:
    return typed(db, key, Stream)


def parse_id(raw: bytes, missing_seq: int = 0, exclusive: bool = False) -> StreamID:
    """ms-seq, or ms alone (seq = missing_seq); '(' makes the bound exclusive (ranges only)."""
    if exclusive and raw.startswith(b"("):
        entry_id = parse_id(raw[1:], missing_seq)
        return _next_id(entry_id) if missing_seq == 0 else _previous_id(entry_id)
    if raw == b"-":
        return (0, 0)
    if raw == b"+":
        return MAX_ID
    match = _ID_RE.fullmatch(raw)
    if match is None or match.group(2) == b"*":
        raise INVALID_ID
    ms = int(match.group(1))
    seq = int(match.group(2)) if match.group(2) is not None else missing_seq
    if ms > _U64 or seq > _U64:
        raise INVALID_ID
    return (ms, seq)


def _next_id(entry_id: StreamID) -> StreamID:
    ms, seq = entry_id
    if seq < _U64:
        return (ms, seq + 1)
    if ms < _U64:
        return (ms + 1, 0)
    raise ReplyError("ERR invalid start ID for the interval")


def _previous_id(entry_id: StreamID) -> StreamID:
    ms, seq = entry_id
    if seq > 0:
        return (ms, seq - 1)
    if ms > 0:
        return (ms - 1, _U64)
    raise ReplyError("ERR invalid end ID for the interval")


def _entry(entry_id: StreamID, fields: list[bytes]) -> list[Any]:
    return [format_id(entry_id), fields]


# -- trimming ----------------------------------------------------------------------------------
class Trim:
    """MAXLEN|MINID [=|~] threshold [LIMIT count], shared by XADD and XTRIM."""

    def __init__(self) -> None:
        self.strategy: bytes | None = None
        self.approximate = False
        self.threshold: Any = None
        self.limit = -1

    def parse(self, argv: list[bytes], index: int) -> int | None:
        """Consume one trim option at argv[index]; the next index, or None if it is not one."""
        option = argv[index].lower()
        if option in (b"maxlen", b"minid") and index + 1 < len(argv):
            self.strategy = option
            index += 1
            if argv[index] in (b"~", b"=") and index + 1 < len(argv):
                self.approximate = argv[index] == b"~"
                index += 1
            if option == b"maxlen":
                self.threshold = parse_int(argv[index])
                if self.threshold < 0:
                    raise ReplyError("ERR The MAXLEN argument must be >= 0.")
            else:
                self.threshold = parse_id(argv[index])
            return index + 1
        if option == b"limit" and index + 1 < len(argv):
            self.limit = parse_int(argv[index + 1])
            if self.limit < 0:
                raise ReplyError("ERR The LIMIT argument must be >= 0.")
            return index + 2
        return None

    def check(self) -> None:
        if self.limit != -1 and self.strategy is None:
            raise ReplyError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
        if self.limit != -1 and not self.approximate:
            raise ReplyError("ERR syntax error, LIMIT cannot be used without the special ~ option")

    def apply(self, stream: Stream) -> int:
        if self.strategy is None:
            return 0
        entries = stream.entries
        maxlen = self.strategy == b"maxlen"
        excess = len(entries) - self.threshold if maxlen else entries.bisect_left(self.threshold)
        if excess <= 0:
            return 0
        if self.approximate:  # whole nodes only, and at most LIMIT entries (default 100 nodes)
            limit = self.limit if self.limit != -1 else 100 * NODE_MAX_ENTRIES
            excess = stream.whole_nodes_within(min(excess, limit) if limit else excess)
        for _ in range(excess):
            stream.pop_first()
        return excess


# -- XADD, XLEN, XRANGE, XDEL, XTRIM, XSETID ---------------------------------------------------
@command(
    "xadd",
    -5,
    "write denyoom fast",
    keys=(spec("RW update", 1, notes="UPDATE instead of INSERT because of the optional trimming feature"),),
    tips="nondeterministic_output",
    **S,
)
def xadd(client: Client, argv: list[bytes]) -> Any:
    trim, make_stream, index = Trim(), True, 2
    while index < len(argv):
        if argv[index].lower() == b"nomkstream":
            make_stream, index = False, index + 1
            continue
        following = trim.parse(argv, index)
        if following is None:
            break
        index = following
    trim.check()
    raw_id = argv[index] if index < len(argv) else b""
    pairs = argv[index + 1 :]
    if not pairs or len(pairs) % 2:
        raise errors.wrong_arity("xadd")
    explicit = None if raw_id == b"*" else _parse_xadd_id(raw_id)
    db, key = client.db, argv[1]
    stream = _stream(db, key)
    if stream is None:
        if not make_stream:
            return None
        stream = Stream()
        db.set(key, stream)
    entry_id = _new_id(stream, explicit, client.server.keyspace.now)
    stream.add(entry_id, list(pairs))
    trim.apply(stream)
    db.modified(key)
    return format_id(entry_id)


def _parse_xadd_id(raw: bytes) -> tuple[int, int | None]:
    match = _ID_RE.fullmatch(raw)
    if match is None:
        raise INVALID_ID
    seq = match.group(2)
    entry_id = (int(match.group(1)), None if seq == b"*" else int(seq or 0))
    if entry_id[0] > _U64 or (entry_id[1] or 0) > _U64:
        raise INVALID_ID
    if entry_id == (0, 0):
        raise ReplyError("ERR The ID specified in XADD must be greater than 0-0")
    return entry_id


def _new_id(stream: Stream, explicit: tuple[int, int | None] | None, now: int) -> StreamID:
    last = stream.last_id
    if explicit is None:
        return (now, 0) if now > last[0] else _next_id(last)
    ms, seq = explicit
    if seq is None:  # ms-*: the next sequence within that millisecond
        if ms < last[0]:
            raise _TOP_ITEM
        if ms == last[0]:
            if last[1] == _U64:
                raise _TOP_ITEM
            return (ms, last[1] + 1)
        return (ms, 0)
    if (ms, seq) <= last:
        raise _TOP_ITEM
    return (ms, seq)


@command("xlen", 2, "readonly fast", keys=(1, 1, 1), key_flags="RO", **S)
def xlen(client: Client, argv: list[bytes]) -> int:
    stream = _stream(client.db, argv[1])
    return 0 if stream is None else len(stream)


def _range(client: Client, argv: list[bytes], reverse: bool) -> list[Any]:
    low_raw, high_raw = (argv[3], argv[2]) if reverse else (argv[2], argv[3])
    low, high = parse_id(low_raw, 0, exclusive=True), parse_id(high_raw, _U64, exclusive=True)
    count = -1
    if len(argv) == 6 and argv[4].lower() == b"count":
        count = max(parse_int(argv[5]), 0)
    elif len(argv) != 4:
        raise errors.SYNTAX
    if count == 0:
        return NULL_ARRAY
    stream = _stream(client.db, argv[1])
    if stream is None or low > high:
        return []
    ids = stream.entries.irange(low, high, reverse=reverse)
    out = []
    for entry_id in ids:
        if len(out) == count:
            break
        out.append(_entry(entry_id, stream.entries[entry_id]))
    return out


@command("xrange", -4, "readonly", keys=(1, 1, 1), **S)
def xrange(client: Client, argv: list[bytes]) -> list[Any]:
    return _range(client, argv, reverse=False)


@command("xrevrange", -4, "readonly", keys=(1, 1, 1), **S)
def xrevrange(client: Client, argv: list[bytes]) -> list[Any]:
    return _range(client, argv, reverse=True)


@command("xdel", -3, "write fast", keys=(1, 1, 1), key_flags="RW delete", **S)
def xdel(client: Client, argv: list[bytes]) -> int:
    ids = [parse_id(raw) for raw in argv[2:]]
    stream = _stream(client.db, argv[1])
    if stream is None:
        return 0
    deleted = sum(stream.delete(entry_id) for entry_id in ids)
    if deleted:
        client.db.modified(argv[1], deleted)
    return deleted


@command("xtrim", -4, "write", keys=(1, 1, 1), key_flags="RW delete", tips="nondeterministic_output", **S)
def xtrim(client: Client, argv: list[bytes]) -> int:
    trim, index = Trim(), 2
    while index < len(argv):
        following = trim.parse(argv, index)
        if following is None:
            raise errors.SYNTAX
        index = following
    if trim.strategy is None:
        raise errors.SYNTAX
    trim.check()
    stream = _stream(client.db, argv[1])
    if stream is None:
        return 0
    removed = trim.apply(stream)
    if removed:
        client.db.modified(argv[1], removed)
    return removed


@command("xsetid", -3, "write denyoom fast", keys=(1, 1, 1), **S)
def xsetid(client: Client, argv: list[bytes]) -> Any:
    new_last = parse_id(argv[2])
    entries_added = max_deleted = None
    index = 3
    while index < len(argv):
        option = argv[index].lower()
        if option == b"entriesadded" and index + 1 < len(argv):
            entries_added = parse_int(argv[index + 1])
            if entries_added < 0:
                raise ReplyError("ERR entries_added must be positive")
        elif option == b"maxdeletedid" and index + 1 < len(argv):
            max_deleted = parse_id(argv[index + 1])
            if new_last < max_deleted:
                raise ReplyError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
        else:
            raise errors.SYNTAX
        index += 2
    stream = _stream(client.db, argv[1])
    if stream is None:
        raise ReplyError("ERR no such key")
    if len(stream) and new_last < stream.entries.peekitem(-1)[0]:
        raise ReplyError("ERR The ID specified in XSETID is smaller than the target stream top item")
    if entries_added is not None and len(stream) > entries_added:
        raise ReplyError("ERR The entries_added specified in XSETID is smaller than the target stream length")
    stream.last_id = new_last
    if entries_added is not None:
        stream.entries_added = entries_added
    if max_deleted is not None:
        stream.max_deleted_id = max_deleted
    client.db.modified(argv[1])
    return OK


# -- XREAD and XREADGROUP ----------------------------------------------------------------------
class ReadRequest:
    def __init__(self) -> None:
        self.count = -1
        self.block: float | None = None
        self.group: bytes | None = None
        self.consumer = b""
        self.noack = False
        self.keys: list[bytes] = []
        self.ids: list[bytes] = []


def _parse_read(argv: list[bytes], group: bool) -> ReadRequest:
    request, index, name = ReadRequest(), 1, "xreadgroup" if group else "xread"
    while index < len(argv):
        option = argv[index].lower()
        more = len(argv) - index - 1
        if option == b"count" and more:
            request.count = parse_int(argv[index + 1])
            index += 2
        elif option == b"block" and more:
            timeout = parse_int(argv[index + 1], ReplyError("ERR timeout is not an integer or out of range"))
            if timeout < 0:
                raise ReplyError("ERR timeout is negative")
            request.block = timeout / 1000
            index += 2
        elif option == b"group" and group and more >= 2:
            request.group, request.consumer = argv[index + 1], argv[index + 2]
            index += 3
        elif option == b"noack" and group:
            request.noack = True
            index += 1
        elif option == b"streams" and more:
            rest = argv[index + 1 :]
            if len(rest) % 2:
                raise ReplyError(
                    f"ERR Unbalanced '{name}' list of streams: for each stream key an ID or '$' must be specified."
                )
            half = len(rest) // 2
            request.keys, request.ids = rest[:half], rest[half:]
            break
        else:
            raise errors.SYNTAX
    if not request.keys:
        raise errors.SYNTAX
    if group and request.group is None:
        raise ReplyError("ERR Missing GROUP option for XREADGROUP")
    if request.count < 0:
        request.count = 0
    return request


def _resolve_ids(client: Client, request: ReadRequest) -> list[Any]:
    """Start IDs per key: '$' is the stream's last ID now; '>' reads new messages of the group."""
    db, out = client.db, []
    for key, raw in zip(request.keys, request.ids, strict=True):
        if request.group is not None:
            _group_of(client, key, request.group, " in XREADGROUP with GROUP option")
            if raw == b">":
                out.append(">")
                continue
            if raw == b"$":
                raise ReplyError(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                    "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
                    "just return an empty result set."
                )
            out.append(parse_id(raw))
            continue
        stream = _stream(db, key)  # one lookup per key here and one in the read, as Redis's
        if raw == b"$":
            out.append(stream.last_id if stream is not None else (0, 0))
        elif raw == b">":
            raise ReplyError(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
            )
        else:
            out.append(parse_id(raw))
    return out


def _read_once(client: Client, request: ReadRequest, starts: list[Any], blocked: bool) -> Any:
    results = []
    for key, start in zip(request.keys, starts, strict=True):
        stream = _stream(client.db, key)
        if stream is None:
            continue
        if request.group is not None:
            entries = _group_read(client, stream, key, request, start)
        else:
            entries = [_entry(i, stream.entries[i]) for i in _ids_after(stream, start, request.count)]
        if entries or (request.group is not None and start != ">" and not blocked):
            results.append((key, entries))
    if not results:
        return None
    if client.resp3:
        return Map(dict(results))
    return [[key, entries] for key, entries in results]


def _ids_after(stream: Stream, start: StreamID, count: int) -> list[StreamID]:
    out = []
    for entry_id in stream.entries.irange(start, inclusive=(False, True)):
        out.append(entry_id)
        if len(out) == count:
            break
    return out


def _group_read(client: Client, stream: Stream, key: bytes, request: ReadRequest, start: Any) -> list[Any]:
    group = stream.groups[request.group]  # type: ignore[index]
    now = client.server.keyspace.now
    consumer = _consumer(group, request.consumer, now)
    consumer.seen_time = now
    if start != ">":  # history: this consumer's pending entries from start
        out = []
        for entry_id in consumer.pending.irange(start):
            if len(out) == request.count and request.count:
                break
            fields = stream.entries.get(entry_id)
            out.append([format_id(entry_id), fields])
        return out
    out = []
    for entry_id in _ids_after(stream, group.last_id, request.count):
        _advance_group(stream, group, entry_id)
        if not request.noack:
            pending = group.pending.get(entry_id)
            if pending is not None:
                group.consumers[pending.consumer].pending.pop(entry_id, None)
            pending = PendingEntry(consumer.name, now, 1)
            group.pending[entry_id] = pending
            consumer.pending[entry_id] = pending
        out.append(_entry(entry_id, stream.entries[entry_id]))
    if out:
        consumer.active_time = now
        client.db.modified(key, 0)
    return out


def _advance_group(stream: Stream, group: ConsumerGroup, entry_id: StreamID) -> None:
    """Move last_id forward, keeping entries_read exact when it can be (Redis's rules)."""
    if entry_id <= group.last_id:
        return
    if group.entries_read != -1 and not _has_tombstones(stream, entry_id):
        group.entries_read += 1
    elif stream.entries_added:
        group.entries_read = _estimate_entries_read(stream, entry_id)
    group.last_id = entry_id


def _has_tombstones(stream: Stream, start: StreamID) -> bool:
    if not len(stream) or stream.max_deleted_id == (0, 0):
        return False
    return start <= stream.max_deleted_id


def _estimate_entries_read(stream: Stream, entry_id: StreamID) -> int:
    """streamEstimateDistanceFromFirstEverEntry: -1 when it cannot be known."""
    if not stream.entries_added:
        return 0
    if not len(stream) and entry_id <= stream.last_id:
        return stream.entries_added
    if entry_id == stream.last_id:
        return stream.entries_added
    if entry_id > stream.last_id:
        return -1
    first = stream.first_id
    if stream.max_deleted_id == (0, 0) or stream.max_deleted_id < first:
        if entry_id < first:
            return stream.entries_added - len(stream)
        if entry_id == first:
            return stream.entries_added - len(stream) + 1
    return -1


def _lag(stream: Stream, group: ConsumerGroup) -> int | None:
    if not stream.entries_added:
        return 0
    if group.entries_read != -1 and not _has_tombstones(stream, group.last_id):
        return stream.entries_added - group.entries_read
    entries_read = _estimate_entries_read(stream, group.last_id)
    return None if entries_read == -1 else stream.entries_added - entries_read


def _consumer(group: ConsumerGroup, name: bytes, now: int) -> Consumer:
    consumer = group.consumers.get(name)
    if consumer is None:
        consumer = group.consumers[name] = Consumer(name, now, now)
    return consumer


def _xread(client: Client, argv: list[bytes], group: bool) -> Any:
    request = _parse_read(argv, group)
    starts = _resolve_ids(client, request)
    reply = _read_once(client, request, starts, blocked=False)
    if reply is not None or request.block is None or client.in_exec:
        return reply if reply is not None else _null(client)
    db = client.db

    def retry() -> Any:
        client.db = db
        if request.group is not None:
            for key in request.keys:  # the group may be gone by now
                stream = _stream(db, key)
                if stream is None or request.group not in stream.groups:
                    return ReplyError("NOGROUP the consumer group this client was blocked on no longer exists")
        return _read_once(client, request, starts, blocked=True)

    client.server.block(client, request.keys, request.block, retry, _null(client))
    return BLOCKED


def _null(client: Client) -> Any:
    return None if client.resp3 else NULL_ARRAY


@command(
    "xread",
    -4,
    "readonly blocking movablekeys",
    reads_keys=True,
    keys=(spec("RO access", 0, keyword="STREAMS", startfrom=1, lastkey=-1, limit=2),),
    **S,
)
def xread(client: Client, argv: list[bytes]) -> Any:
    return _xread(client, argv, group=False)


@command(
    "xreadgroup",
    -7,
    "write blocking movablekeys",
    reads_keys=True,
    keys=(spec("RO access", 0, keyword="STREAMS", startfrom=4, lastkey=-1, limit=2),),
    **S,
)
def xreadgroup(client: Client, argv: list[bytes]) -> Any:
    return _xread(client, argv, group=True)


# -- consumer groups ---------------------------------------------------------------------------
def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _group_of(client: Client, key: bytes, name: bytes, context: str = "") -> tuple[Stream, ConsumerGroup]:
    stream = _stream(client.db, key)
    group = stream.groups.get(name) if stream is not None else None
    if group is None:
        raise ReplyError(f"NOGROUP No such key '{_text(key)}' or consumer group '{_text(name)}'{context}")
    return stream, group  # type: ignore[return-value]


def _unknown_group(key: bytes, name: bytes) -> ReplyError:
    return ReplyError(f"NOGROUP No such consumer group '{_text(name)}' for key name '{_text(key)}'")


container("xgroup", -2, "stream")


def _entries_read_option(argv: list[bytes], index: int) -> int:
    if index >= len(argv):
        return -2  # absent
    if argv[index].lower() != b"entriesread" or index + 1 >= len(argv):
        raise errors.SYNTAX
    value = parse_int(argv[index + 1])
    if value < 0 and value != -1:
        raise ReplyError("ERR value for ENTRIESREAD must be positive or -1")
    return value


@subcommand("xgroup", "create", -5, "write denyoom", keys=(2, 2, 1), key_flags="RW insert")
def xgroup_create(client: Client, argv: list[bytes]) -> Any:
    mkstream, index = False, 5
    entries_read = -2
    while index < len(argv):
        if argv[index].lower() == b"mkstream":
            mkstream, index = True, index + 1
        else:
            entries_read = _entries_read_option(argv, index)
            index += 2
    db, key = client.db, argv[2]
    stream = _stream(db, key)
    start = stream.last_id if stream is not None and argv[4] == b"$" else (0, 0) if argv[4] == b"$" else None
    if start is None:
        start = parse_id(argv[4])
    if stream is None:
        if not mkstream:
            raise ReplyError(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "
                "the MKSTREAM option to create an empty stream automatically."
            )
        stream = Stream()
        db.set(key, stream)
    if argv[3] in stream.groups:
        raise ReplyError("BUSYGROUP Consumer Group name already exists")
    stream.groups[argv[3]] = ConsumerGroup(argv[3], start, -1 if entries_read == -2 else entries_read)
    db.modified(key)
    return OK


@subcommand("xgroup", "setid", -5, "write", keys=(2, 2, 1))
def xgroup_setid(client: Client, argv: list[bytes]) -> Any:
    entries_read = _entries_read_option(argv, 5)
    if len(argv) > 7:
        raise errors.SYNTAX
    stream = _stream(client.db, argv[2])
    group = stream.groups.get(argv[3]) if stream is not None else None
    if group is None:
        raise _unknown_group(argv[2], argv[3])
    group.last_id = stream.last_id if argv[4] == b"$" else parse_id(argv[4])  # type: ignore[union-attr]
    group.entries_read = -1 if entries_read == -2 else entries_read
    client.db.modified(argv[2])
    return OK


@subcommand("xgroup", "destroy", 4, "write", keys=(2, 2, 1), key_flags="RW delete")
def xgroup_destroy(client: Client, argv: list[bytes]) -> int:
    stream = _stream(client.db, argv[2])
    if stream is None:
        raise ReplyError(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "
            "the MKSTREAM option to create an empty stream automatically."
        )
    if stream.groups.pop(argv[3], None) is None:
        return 0
    client.db.modified(argv[2])  # wakes XREADGROUP clients blocked on it, who get NOGROUP
    return 1


@subcommand("xgroup", "createconsumer", 5, "write denyoom", keys=(2, 2, 1), key_flags="RW insert")
def xgroup_createconsumer(client: Client, argv: list[bytes]) -> int:
    _, group = _group_of(client, argv[2], argv[3])
    if argv[4] in group.consumers:
        return 0
    _consumer(group, argv[4], client.server.keyspace.now)
    client.db.modified(argv[2])
    return 1


@subcommand("xgroup", "delconsumer", 5, "write", keys=(2, 2, 1), key_flags="RW delete")
def xgroup_delconsumer(client: Client, argv: list[bytes]) -> int:
    _, group = _group_of(client, argv[2], argv[3])
    consumer = group.consumers.pop(argv[4], None)
    if consumer is None:
        return 0
    for entry_id in consumer.pending:
        group.pending.pop(entry_id, None)
    client.db.modified(argv[2])
    return len(consumer.pending)


@subcommand("xgroup", "help", 2, "loading stale")
def xgroup_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]


@command("xack", -4, "write fast", keys=(1, 1, 1), reads_keys=True, **S)
def xack(client: Client, argv: list[bytes]) -> int:
    ids = [parse_id(raw) for raw in argv[3:]]
    stream = _stream(client.db, argv[1])
    group = stream.groups.get(argv[2]) if stream is not None else None
    if group is None:
        return 0
    acked = 0
    for entry_id in ids:
        pending = group.pending.pop(entry_id, None)
        if pending is not None:
            group.consumers[pending.consumer].pending.pop(entry_id, None)
            acked += 1
    if acked:
        client.db.modified(argv[1], acked)
    return acked


@command("xpending", -3, "readonly", keys=(1, 1, 1), tips="nondeterministic_output", **S)
def xpending(client: Client, argv: list[bytes]) -> Any:
    key, name = argv[1], argv[2]
    min_idle, index = 0, 3
    if len(argv) > 3 and argv[3].lower() == b"idle":
        if len(argv) < 5:
            raise errors.SYNTAX
        min_idle, index = parse_int(argv[4]), 5
    extended = len(argv) > index
    if extended and len(argv) - index not in (3, 4):
        raise errors.SYNTAX
    if not extended and index != 3:
        raise errors.SYNTAX
    _, group = _group_of(client, key, name)
    if not extended:
        if not group.pending:
            return [0, None, None, None]
        counts: dict[bytes, int] = {}
        for pending in group.pending.values():
            counts[pending.consumer] = counts.get(pending.consumer, 0) + 1
        return [
            len(group.pending),
            format_id(group.pending.peekitem(0)[0]),
            format_id(group.pending.peekitem(-1)[0]),
            [[consumer, b"%d" % n] for consumer, n in counts.items()],
        ]
    low = parse_id(argv[index], 0, exclusive=True)
    high = parse_id(argv[index + 1], _U64, exclusive=True)
    count = parse_int(argv[index + 2])
    source = group.pending
    if len(argv) - index == 4:
        consumer = group.consumers.get(argv[index + 3])
        if consumer is None:
            return []
        source = consumer.pending
    now, out = client.server.keyspace.now, []
    if count <= 0:
        return []
    for entry_id in source.irange(low, high):
        pending = source[entry_id]
        idle = now - pending.delivery_time
        if idle < min_idle:
            continue
        out.append([format_id(entry_id), pending.consumer, idle, pending.delivery_count])
        if len(out) == count:
            break
    return out


def _claim(group: ConsumerGroup, consumer: Consumer, entry_id: StreamID, now: int, pending: PendingEntry) -> None:
    if pending.consumer != consumer.name:
        old = group.consumers.get(pending.consumer)
        if old is not None:
            old.pending.pop(entry_id, None)
        pending.consumer = consumer.name
        consumer.pending[entry_id] = pending
    consumer.active_time = now


@command("xclaim", -6, "write fast", keys=(1, 1, 1), tips="nondeterministic_output", **S)
def xclaim(client: Client, argv: list[bytes]) -> Any:
    key, name, consumer_name = argv[1], argv[2], argv[3]
    min_idle = parse_int(argv[4], ReplyError("ERR Invalid min-idle-time argument for XCLAIM"))
    ids, index = [], 5
    while index < len(argv):
        try:
            ids.append(parse_id(argv[index]))
        except ReplyError:
            break
        index += 1
    now = client.server.keyspace.now
    delivery_time, retry_count, force, justid, last_id = now, None, False, False, None
    while index < len(argv):
        option, more = argv[index].lower(), index + 1 < len(argv)
        if option == b"force":
            force = True
        elif option == b"justid":
            justid = True
        elif option == b"idle" and more:
            index += 1
            delivery_time = now - parse_int(argv[index], ReplyError("ERR Invalid IDLE option argument for XCLAIM"))
        elif option == b"time" and more:
            index += 1
            delivery_time = parse_int(argv[index], ReplyError("ERR Invalid TIME option argument for XCLAIM"))
        elif option == b"retrycount" and more:
            index += 1
            retry_count = parse_int(argv[index], ReplyError("ERR Invalid RETRYCOUNT option argument for XCLAIM"))
        elif option == b"lastid" and more:
            index += 1
            last_id = parse_id(argv[index])
        else:
            raise ReplyError(f"ERR Unrecognized XCLAIM option '{argv[index].decode('utf-8', 'replace')}'")
        index += 1
    stream, group = _group_of(client, key, name)
    if last_id is not None and last_id > group.last_id:
        group.last_id = last_id
    consumer = _consumer(group, consumer_name, now)
    consumer.seen_time = now
    out: list[Any] = []
    for entry_id in ids:
        pending = group.pending.get(entry_id)
        exists = entry_id in stream.entries
        if pending is None and force and exists:
            pending = PendingEntry(consumer.name, now, 0)
            group.pending[entry_id] = pending
            consumer.pending[entry_id] = pending
        if pending is None:
            continue
        if not exists:  # deleted meanwhile: drop it from the PEL
            group.pending.pop(entry_id, None)
            owner = group.consumers.get(pending.consumer)
            if owner is not None:
                owner.pending.pop(entry_id, None)
            continue
        if min_idle and now - pending.delivery_time < min_idle:
            continue
        _claim(group, consumer, entry_id, now, pending)
        pending.delivery_time = delivery_time
        if retry_count is not None:
            pending.delivery_count = retry_count
        elif not justid:
            pending.delivery_count += 1
        out.append(format_id(entry_id) if justid else _entry(entry_id, stream.entries[entry_id]))
    client.db.modified(key, 0)
    return out


@command("xautoclaim", -6, "write fast", keys=(1, 1, 1), key_flags="RW delete", tips="nondeterministic_output", **S)
def xautoclaim(client: Client, argv: list[bytes]) -> Any:
    key, name, consumer_name = argv[1], argv[2], argv[3]
    min_idle = parse_int(argv[4], ReplyError("ERR Invalid min-idle-time argument for XAUTOCLAIM"))
    start = parse_id(argv[5], 0, exclusive=True)
    count, justid, index = 100, False, 6
    while index < len(argv):
        option = argv[index].lower()
        if option == b"count" and index + 1 < len(argv):
            count = parse_int(argv[index + 1])
            if not 1 <= count <= 2**63 // 10:
                raise ReplyError("ERR COUNT must be > 0")
            index += 2
        elif option == b"justid":
            justid, index = True, index + 1
        else:
            raise errors.SYNTAX
    stream, group = _group_of(client, key, name)
    now = client.server.keyspace.now
    consumer = _consumer(group, consumer_name, now)
    consumer.seen_time = now
    claimed: list[Any] = []
    deleted: list[bytes] = []
    next_id = (0, 0)
    attempts = count * 10
    for entry_id in list(group.pending.irange(start)):
        if attempts == 0 or len(claimed) + len(deleted) >= count:
            next_id = entry_id
            break
        attempts -= 1
        pending = group.pending[entry_id]
        if entry_id not in stream.entries:
            group.pending.pop(entry_id)
            owner = group.consumers.get(pending.consumer)
            if owner is not None:
                owner.pending.pop(entry_id, None)
            deleted.append(format_id(entry_id))
            continue
        if min_idle and now - pending.delivery_time < min_idle:
            continue
        _claim(group, consumer, entry_id, now, pending)
        pending.delivery_time = now
        if not justid:
            pending.delivery_count += 1
        claimed.append(format_id(entry_id) if justid else _entry(entry_id, stream.entries[entry_id]))
    client.db.modified(key, 0)
    return [format_id(next_id), claimed, deleted]


# -- XINFO -------------------------------------------------------------------------------------
container("xinfo", -2, "stream")


def _info(client: Client, pairs: list[tuple[str, Any]]) -> Any:
    return Map(dict(pairs)) if client.resp3 else [x for pair in pairs for x in pair]


@subcommand("xinfo", "stream", -3, "readonly", keys=(2, 2, 1))
def xinfo_stream(client: Client, argv: list[bytes]) -> Any:
    full, count = False, 10
    if len(argv) > 3:
        if argv[3].lower() != b"full":
            raise errors.SYNTAX
        full = True
        if len(argv) == 6 and argv[4].lower() == b"count":
            count = parse_int(argv[5])
        elif len(argv) != 4:
            raise errors.SYNTAX
    stream = _stream(client.db, argv[2])
    if stream is None:
        raise ReplyError("ERR no such key")
    entries = stream.entries
    nodes = len(stream.nodes)
    head: list[tuple[str, Any]] = [
        ("length", len(entries)),
        ("radix-tree-keys", nodes),
        ("radix-tree-nodes", nodes + 1),
        ("last-generated-id", format_id(stream.last_id)),
        ("max-deleted-entry-id", format_id(stream.max_deleted_id)),
        ("entries-added", stream.entries_added),
        ("recorded-first-entry-id", format_id(stream.first_id)),
    ]
    if not full:
        first = _entry(*entries.peekitem(0)) if entries else None
        last = _entry(*entries.peekitem(-1)) if entries else None
        return _info(client, [*head, ("groups", len(stream.groups)), ("first-entry", first), ("last-entry", last)])
    shown = list(entries.items())[: count or None]
    groups = []
    for group in stream.groups.values():
        pel = list(group.pending.items())[: count or None]
        consumers = []
        for consumer in group.consumers.values():
            cpel = list(consumer.pending.items())[: count or None]
            consumers.append(
                _info(
                    client,
                    [
                        ("name", consumer.name),
                        ("seen-time", consumer.seen_time),
                        ("pel-count", len(consumer.pending)),
                        ("pending", [[format_id(i), p.delivery_time, p.delivery_count] for i, p in cpel]),
                    ],
                )
            )
        groups.append(
            _info(
                client,
                [
                    ("name", group.name),
                    ("last-delivered-id", format_id(group.last_id)),
                    ("entries-read", None if group.entries_read == -1 else group.entries_read),
                    ("lag", _lag(stream, group)),
                    ("pel-count", len(group.pending)),
                    (
                        "pending",
                        [[format_id(i), p.consumer, p.delivery_time, p.delivery_count] for i, p in pel],
                    ),
                    ("consumers", consumers),
                ],
            )
        )
    return _info(client, [*head, ("entries", [_entry(i, f) for i, f in shown]), ("groups", groups)])


@subcommand("xinfo", "groups", 3, "readonly", keys=(2, 2, 1))
def xinfo_groups(client: Client, argv: list[bytes]) -> Any:
    stream = _stream(client.db, argv[2])
    if stream is None:
        raise ReplyError("ERR no such key")
    return [
        _info(
            client,
            [
                ("name", group.name),
                ("consumers", len(group.consumers)),
                ("pending", len(group.pending)),
                ("last-delivered-id", format_id(group.last_id)),
                ("entries-read", None if group.entries_read == -1 else group.entries_read),
                ("lag", _lag(stream, group)),
            ],
        )
        for group in stream.groups.values()
    ]


@subcommand("xinfo", "consumers", 4, "readonly", keys=(2, 2, 1), tips="nondeterministic_output")
def xinfo_consumers(client: Client, argv: list[bytes]) -> Any:
    stream = _stream(client.db, argv[2])
    if stream is None:
        raise ReplyError("ERR no such key")
    group = stream.groups.get(argv[3])
    if group is None:
        raise _unknown_group(argv[2], argv[3])
    now = client.server.keyspace.now
    return [
        _info(
            client,
            [("name", consumer.name), ("pending", len(consumer.pending)), ("idle", now - consumer.seen_time)],
        )
        for consumer in group.consumers.values()
    ]


@subcommand("xinfo", "help", 2, "loading stale")
def xinfo_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]
