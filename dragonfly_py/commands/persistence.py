"""SAVE, BGSAVE, DUMP, RESTORE: the RDB format at the command surface."""

from __future__ import annotations

from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.registry import command
from dragonfly_py.commands.util import parse_int
from dragonfly_py.protocol.resp import OK, ReplyError
from dragonfly_py.rdb.reader import read_dump_payload
from dragonfly_py.rdb.writer import EncodingLimits, dump_payload
from dragonfly_py.server.client import Client

_BGSAVE_IN_PROGRESS = ReplyError("ERR Background save already in progress")


@command("save", 1, "admin noscript no_async_loading no_multi", group="server")
def save(client: Client, argv: list[bytes]) -> Any:
    persistence = client.server.persistence
    if persistence.child_kind == "rdb":
        raise _BGSAVE_IN_PROGRESS
    if not persistence.save():
        raise ReplyError("ERR")
    return OK


@command("bgsave", -1, "admin noscript no_async_loading", group="server")
def bgsave(client: Client, argv: list[bytes]) -> Any:
    schedule = False
    if len(argv) == 2 and argv[1].lower() == b"schedule":
        schedule = True
    elif len(argv) > 1:
        raise errors.SYNTAX
    persistence = client.server.persistence
    if persistence.child_kind == "rdb":
        if schedule:
            persistence.bgsave_scheduled = True
            return "Background saving scheduled"
        raise _BGSAVE_IN_PROGRESS
    if persistence.child_running:  # a replication snapshot: Redis queues the BGSAVE behind it
        if not schedule:
            raise ReplyError(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
            )
        persistence.bgsave_scheduled = True
        return "Background saving scheduled"
    persistence.bgsave()
    return "Background saving started"


@command("dump", 2, "readonly", keys=(1, 1, 1), group="keyspace", tips="nondeterministic_output")
def dump(client: Client, argv: list[bytes]) -> bytes | None:
    value = client.db.get(argv[1])
    if value is None:
        return None
    return dump_payload(value, EncodingLimits.from_config(client.server.config))


@command("restore", -4, "write denyoom", keys=(1, 1, 1), group="keyspace", key_flags="OW update")
def restore(client: Client, argv: list[bytes]) -> Any:
    replace = absolute = False
    idle = freq = -1
    index = 4
    while index < len(argv):
        option = argv[index].lower()
        more = index + 1 < len(argv)
        if option == b"replace":
            replace = True
        elif option == b"absttl":
            absolute = True
        elif option == b"idletime" and more and freq == -1:
            index += 1
            idle = parse_int(argv[index])
            if idle < 0:
                raise ReplyError("ERR Invalid IDLETIME value, must be >= 0")
        elif option == b"freq" and more and idle == -1:
            index += 1
            freq = parse_int(argv[index])
            if not 0 <= freq <= 255:
                raise ReplyError("ERR Invalid FREQ value, must be >= 0 and <= 255")
        else:
            raise errors.SYNTAX
        index += 1
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise ReplyError("ERR Invalid TTL value, must be >= 0")
    db, key = client.db, argv[1]
    if not replace and db.get(key) is not None:
        raise ReplyError("BUSYKEY Target key name already exists.")
    try:
        value = read_dump_payload(argv[3])
    except ValueError as exc:
        message = str(exc)
        raise ReplyError("ERR " + (message if message.startswith("DUMP") else "Bad data format")) from None
    if value is None:
        raise ReplyError("ERR Bad data format")
    when = (ttl if absolute else ttl + client.server.keyspace.now) if ttl else 0
    if when and when <= client.server.keyspace.now:  # already expired: the key just goes away
        db.delete(key)
        return OK
    db.delete(key)
    db.set(key, value)
    if when:
        db.set_expire(key, when)
    return OK
