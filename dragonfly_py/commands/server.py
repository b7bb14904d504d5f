"""Server commands: INFO, ROLE, CONFIG, COMMAND, SHUTDOWN, DEBUG, SLOWLOG, MONITOR, FLUSH* ..."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.keyspecs import KeySpec
from dragonfly_py.commands.registry import (
    REPORTED_FLAGS,
    Command,
    arity_ok,
    command,
    container,
    resolve,
    subcommand,
)
from dragonfly_py.commands.util import parse_float, parse_int
from dragonfly_py.config import DIRECTIVES, ConfigError, canonical_name
from dragonfly_py.protocol.resp import OK, Map, ReplyError, SetReply, Verbatim
from dragonfly_py.server import info
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import NO_REPLY
from dragonfly_py.storage.glob import glob_match


@command(
    "info",
    -1,
    "loading stale sentinel",
    group="server",
    tips="nondeterministic_output request_policy:all_shards response_policy:special",
)
def info_(client: Client, argv: list[bytes]) -> Verbatim:
    requested = [a.decode("utf-8", "replace") for a in argv[1:]]
    return Verbatim(info.render(client.server, requested).encode())


@command("role", 1, "noscript loading stale fast sentinel", group="server")
def role(client: Client, argv: list[bytes]) -> list[Any]:
    return client.server.role_reply()


@command("time", 1, "loading stale fast", group="server", tips="nondeterministic_output")
def time_(client: Client, argv: list[bytes]) -> list[bytes]:
    now = time.time_ns() // 1000
    return [b"%d" % (now // 1_000_000), b"%d" % (now % 1_000_000)]


@command("lastsave", 1, "loading stale fast", group="server", tips="nondeterministic_output")
def lastsave(client: Client, argv: list[bytes]) -> int:
    return client.server.last_save


def _flush_mode(argv: list[bytes]) -> None:
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise errors.SYNTAX


@command("flushdb", -1, "write", group="server", tips="request_policy:all_shards response_policy:all_succeeded")
def flushdb(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv)
    client.server.keyspace.dirty += client.db.clear()  # one change per key, as Redis counts
    return OK


@command("flushall", -1, "write", group="server", tips="request_policy:all_shards response_policy:all_succeeded")
def flushall(client: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv)
    server = client.server
    server.keyspace.dirty += server.keyspace.flush_all()  # one change per key, as Redis counts
    server.persistence.kill_child()
    if server.config["save"]:  # as Redis: the empty dataset replaces the dump at once (count: 0)
        server.persistence.save()
    return OK


@command("swapdb", 3, "write fast", group="server")
def swapdb(client: Client, argv: list[bytes]) -> Any:
    dbs = client.server.keyspace.dbs
    indexes = []
    for raw, which in ((argv[1], "first"), (argv[2], "second")):
        try:
            index = parse_int(raw)
        except ReplyError:
            raise ReplyError(f"ERR invalid {which} DB index") from None
        if not 0 <= index < len(dbs):
            raise errors.DB_INDEX_OUT_OF_RANGE
        indexes.append(index)
    a, b = dbs[indexes[0]], dbs[indexes[1]]
    if a is not b:
        for db in (a, b):
            for key in list(db.data):
                client.server.keyspace.touched(db, key, 0)
        a.swap_contents(b)
        for db in (a, b):
            for key in list(db.data):
                client.server.keyspace.touched(db, key, 0)
        client.server.keyspace.dirty += 1
    return OK


@command("monitor", 1, "admin noscript loading stale", group="server")
def monitor(client: Client, argv: list[bytes]) -> Any:
    if not client.monitor:
        client.monitor = True
        client.server.monitors.append(client)
    return OK


@command("lolwut", -1, "readonly fast", group="server")
def lolwut(client: Client, argv: list[bytes]) -> Verbatim:
    return Verbatim(b"dragonfly-py ver. 7.0.15\n")


# -- SHUTDOWN ------------------------------------------------------------------------------------
@command("shutdown", -1, "admin noscript loading stale no_multi sentinel allow_busy", group="server")
def shutdown(client: Client, argv: list[bytes]) -> Any:
    options = {a.lower() for a in argv[1:]}
    if not options <= {b"nosave", b"save", b"now", b"force", b"abort"} or {b"nosave", b"save"} <= options:
        raise errors.SYNTAX
    if b"abort" in options:
        if len(options) > 1:
            raise errors.SYNTAX
        raise ReplyError("ERR No shutdown in progress.")
    from dragonfly_py.server.server import ShutdownRequest

    save = True if b"save" in options else False if b"nosave" in options else None
    request = ShutdownRequest(save=save, now=b"now" in options, force=b"force" in options, client=client)
    client.server.request_shutdown(request)
    return NO_REPLY


# -- DEBUG ---------------------------------------------------------------------------------------
def debug_sleep(client: Client, argv: list[bytes]) -> Any:
    seconds = parse_float(argv[2])
    time.sleep(max(0.0, seconds))  # blocks the loop on purpose, as Redis's DEBUG SLEEP does
    return OK


def debug_populate(client: Client, argv: list[bytes]) -> Any:
    count = parse_int(argv[2])
    prefix = argv[3] if len(argv) > 3 else b"key"
    size = parse_int(argv[4]) if len(argv) > 4 else None
    db = client.db
    for i in range(count):
        key = b"%s:%d" % (prefix, i)
        if key in db.data:
            continue
        value = b"value:%d" % i
        if size is not None:
            value = value[:size].ljust(size, b"\0")
        db.set(key, value)
    return OK


def debug_set_active_expire(client: Client, argv: list[bytes]) -> Any:
    client.server.keyspace.active_expire_enabled = parse_int(argv[2]) != 0
    return OK


def debug_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "POPULATE <count> [<prefix>] [<size>]",
        "SET-ACTIVE-EXPIRE <0|1>",
        "SLEEP <seconds>",
        "HELP",
    ]


# Each subcommand with the fewest and the most words it takes, as debugCommand tells them apart.
DEBUG_SUBCOMMANDS: dict[bytes, tuple[int, int, Callable[[Client, list[bytes]], Any]]] = {
    b"sleep": (3, 3, debug_sleep),
    b"populate": (3, 5, debug_populate),
    b"set-active-expire": (3, 3, debug_set_active_expire),
    b"help": (2, 2, debug_help),
}


@command("debug", -2, "admin noscript loading stale", group="server")
def debug(client: Client, argv: list[bytes]) -> Any:
    """One command that reads its own subcommand, as Redis 7.0's DEBUG (no container: its stats
    are DEBUG's, and a wrong subcommand or count of words gets one error)."""
    found = DEBUG_SUBCOMMANDS.get(argv[1].lower())
    if found is None or not found[0] <= len(argv) <= found[1]:
        raise errors.subcommand_syntax(argv[1], "debug")
    return found[2](client, argv)


# -- SLOWLOG -------------------------------------------------------------------------------------
container("slowlog", -2, "server")


@subcommand("slowlog", "get", -2, "admin loading stale", tips="request_policy:all_nodes nondeterministic_output")
def slowlog_get(client: Client, argv: list[bytes]) -> list[Any]:
    count = 10
    if len(argv) == 3:
        count = parse_int(argv[2])
        if count < -1:
            raise ReplyError("ERR count should be greater than or equal to -1")
        if count == -1:
            count = len(client.server.slowlog.entries)
    entries = list(client.server.slowlog.entries)[:count]
    return [[e.id, e.timestamp, e.usec, e.argv, e.addr.encode(), e.name] for e in entries]


@subcommand(
    "slowlog",
    "len",
    2,
    "admin loading stale",
    tips="request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
)
def slowlog_len(client: Client, argv: list[bytes]) -> int:
    return len(client.server.slowlog.entries)


@subcommand("slowlog", "reset", 2, "admin loading stale", tips="request_policy:all_nodes response_policy:all_succeeded")
def slowlog_reset(client: Client, argv: list[bytes]) -> Any:
    client.server.slowlog.entries.clear()
    return OK


@subcommand("slowlog", "help", 2, "loading stale")
def slowlog_help(client: Client, argv: list[bytes]) -> list[str]:
    return ["SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "GET [<count>]", "LEN", "RESET", "HELP"]


# -- MEMORY --------------------------------------------------------------------------------------
container("memory", -2, "server")


@subcommand("memory", "usage", -3, "readonly", keys=(2, 2, 1), reads_keys=False, key_flags="RO")
def memory_usage(client: Client, argv: list[bytes]) -> int | None:
    from dragonfly_py.storage.memory import estimate_size

    value = client.db.get(argv[2])
    if value is None:
        return None
    return estimate_size(argv[2], value)


@subcommand("memory", "help", 2, "loading stale")
def memory_help(client: Client, argv: list[bytes]) -> list[str]:
    return ["MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "USAGE <key> [SAMPLES <count>]", "HELP"]


# -- CONFIG --------------------------------------------------------------------------------------
container("config", -2, "server")


@subcommand("config", "get", -3, "admin noscript loading stale")
def config_get(client: Client, argv: list[bytes]) -> Map:
    config = client.server.config
    found: dict[bytes, bytes] = {}
    for pattern in argv[2:]:
        name = pattern.decode("utf-8", "replace").lower()
        names = [name] if name in DIRECTIVES else config.matching(pattern)
        for match in names:
            found[match.encode()] = config.get_text(match).encode()
    return Map(found)


@subcommand(
    "config", "set", -4, "admin noscript loading stale", tips="request_policy:all_nodes response_policy:all_succeeded"
)
def config_set(client: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2:
        raise errors.wrong_arity("config|set")
    config = client.server.config
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i in range(2, len(argv), 2):
        name = argv[i].decode("utf-8", "replace").lower()
        directive = DIRECTIVES.get(name)
        if directive is None or directive.kind == "special:replicaof" or name.startswith("admin-"):
            raise ReplyError(f"ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
        failure = None
        if canonical_name(name) in seen:
            failure = "duplicate parameter"
        elif DIRECTIVES[canonical_name(name)].immutable:
            failure = "can't set immutable config"
        elif DIRECTIVES[canonical_name(name)].protected and config["enable-protected-configs"] == "no":
            failure = "can't set protected config"
        if failure:
            raise ReplyError(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {failure}")
        seen.add(canonical_name(name))
        pairs.append((name, argv[i + 1].decode("utf-8", "surrogateescape")))
    try:
        config.set_many(pairs)
    except ConfigError as exc:
        culprit = _failing_name(config, pairs)
        raise ReplyError(f"ERR CONFIG SET failed (possibly related to argument '{culprit}') - {exc}") from None
    return OK


def _failing_name(config: Any, pairs: list[tuple[str, str]]) -> str:
    from dragonfly_py.config import _parse_value

    for name, text in pairs:
        try:
            _parse_value(DIRECTIVES[canonical_name(name)], text, config[name])
        except ConfigError:
            return name
    return pairs[-1][0]


@subcommand("config", "rewrite", 2, "admin noscript loading stale")
def config_rewrite(client: Client, argv: list[bytes]) -> Any:
    config = client.server.config
    if config.file is None:
        raise errors.NO_CONFIG_FILE
    try:
        config.rewrite()
    except OSError as exc:
        client.server.log.warning(f"CONFIG REWRITE failed: {exc.strerror}")
        raise ReplyError(f"ERR Rewriting config file: {exc.strerror}") from None
    client.server.log.info("CONFIG REWRITE executed with success.")
    return OK


@subcommand("config", "resetstat", 2, "admin noscript loading stale")
def config_resetstat(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    server.reset_stats()
    return OK


@subcommand("config", "help", 2, "loading stale")
def config_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help.",
    ]


# -- COMMAND -------------------------------------------------------------------------------------
def _all_commands(client: Client) -> list[Command]:
    return list(client.server.commands.values())


def _flag_names(cmd: Command) -> SetReply:
    return SetReply([name for name in REPORTED_FLAGS if name in cmd.flags])


def _key_spec_reply(spec: KeySpec) -> Map:
    """One key spec as COMMAND INFO shows it (addReplyCommandKeySpecs)."""
    if spec.index:
        begin = Map({b"type": b"index", b"spec": Map({b"index": spec.index})})
    else:
        begin = Map(
            {b"type": b"keyword", b"spec": Map({b"keyword": spec.keyword.encode(), b"startfrom": spec.startfrom})}
        )
    if spec.by_keynum:
        found = {b"keynumidx": spec.keynumidx, b"firstkey": spec.firstkey, b"keystep": spec.keystep}
        find = Map({b"type": b"keynum", b"spec": Map(found)})
    else:
        found = {b"lastkey": spec.lastkey, b"keystep": spec.keystep, b"limit": spec.limit}
        find = Map({b"type": b"range", b"spec": Map(found)})
    fields: dict[bytes, Any] = {b"notes": spec.notes.encode()} if spec.notes else {}
    fields.update({b"flags": SetReply(spec.flags), b"begin_search": begin, b"find_keys": find})
    return Map(fields)


def command_info(cmd: Command) -> list[Any]:
    return [
        cmd.full_name.encode(),
        cmd.arity,
        _flag_names(cmd),
        cmd.first_key,
        cmd.last_key,
        cmd.key_step,
        SetReply(cmd.acl_categories),
        SetReply([tip.encode() for tip in cmd.tips]),  # bulk strings, where flags are simple ones
        SetReply([_key_spec_reply(spec) for spec in cmd.key_specs]),
        # An array of subcommands, or an empty set where there are none (as Redis 7.0 replies).
        [command_info(sub) for sub in cmd.subcommands.values()] if cmd.subcommands else SetReply(),
    ]


def _command_docs(cmd: Command) -> Map:
    docs: dict[bytes, Any] = {b"summary": b"", b"since": b"", b"group": cmd.group.encode(), b"complexity": b""}
    if cmd.subcommands:
        docs[b"subcommands"] = Map({s.full_name.encode(): _command_docs(s) for s in cmd.subcommands.values()})
    return Map(docs)


@command("command", -1, "loading stale sentinel", group="server", tips="nondeterministic_output_order")
def command_(client: Client, argv: list[bytes]) -> Any:
    return [command_info(cmd) for cmd in _all_commands(client)]


COMMAND_FLAGS = "loading stale sentinel"


@subcommand("command", "count", 2, COMMAND_FLAGS)
def command_count(client: Client, argv: list[bytes]) -> int:
    return len(client.server.commands)


@subcommand("command", "info", -2, COMMAND_FLAGS, tips="nondeterministic_output_order")
def command_info_(client: Client, argv: list[bytes]) -> list[Any]:
    names = argv[2:] or [c.name.encode() for c in _all_commands(client)]
    return [_lookup_info(client.server.commands, name) for name in names]


@subcommand("command", "docs", -2, COMMAND_FLAGS, tips="nondeterministic_output_order")
def command_docs(client: Client, argv: list[bytes]) -> Map:
    table = client.server.commands
    names = argv[2:] or [c.name.encode() for c in _all_commands(client)]
    return Map({n.lower(): _command_docs(table[n.lower()]) for n in names if n.lower() in table})


@subcommand("command", "list", -2, COMMAND_FLAGS, tips="nondeterministic_output_order")
def command_list(client: Client, argv: list[bytes]) -> list[bytes]:
    return _command_list(client, argv)


@subcommand("command", "getkeys", -4, COMMAND_FLAGS)
def command_getkeys(client: Client, argv: list[bytes]) -> list[Any]:
    return _getkeys(client, argv, with_flags=False)


@subcommand("command", "getkeysandflags", -4, COMMAND_FLAGS)
def command_getkeysandflags(client: Client, argv: list[bytes]) -> list[Any]:
    return _getkeys(client, argv, with_flags=True)


@subcommand("command", "help", 2, COMMAND_FLAGS)
def command_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ]


def _lookup_info(table: dict[bytes, Command], name: bytes) -> Any:
    parts = name.lower().split(b"|")
    cmd = table.get(parts[0])
    if cmd is not None and len(parts) == 2:
        cmd = cmd.subcommands.get(parts[1])
    return command_info(cmd) if cmd is not None else None


def _command_list(client: Client, argv: list[bytes]) -> list[bytes]:
    names = [c.name.encode() for c in _all_commands(client)]
    if len(argv) == 2:  # Redis lists each command followed by its subcommands
        return [n for c in _all_commands(client) for n in (c.name.encode(), *_subcommand_names(c))]
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise errors.SYNTAX
    kind, value = argv[3].lower(), argv[4]
    if kind == b"pattern":
        every = names + [n for c in _all_commands(client) for n in _subcommand_names(c)]
        return [n for n in every if glob_match(value, n, nocase=True)]
    if kind == b"aclcat":
        category = "@" + value.decode().lower()
        return [c.name.encode() for c in _all_commands(client) if category in c.acl_categories]
    if kind == b"module":
        return []
    raise errors.SYNTAX


def _subcommand_names(cmd: Command) -> list[bytes]:
    return [sub.full_name.encode() for sub in cmd.subcommands.values()]


def _getkeys(client: Client, argv: list[bytes], with_flags: bool) -> list[Any]:
    """COMMAND GETKEYS[ANDFLAGS]: its checks in Redis's order (the command, whether it has keys,
    its arity), then the keys its specs find."""
    target = resolve(argv[2:], client.server.commands)
    if target.__class__ is not Command:
        raise ReplyError("ERR Invalid command specified")
    if not target.key_specs:
        raise ReplyError("ERR The command has no key arguments")
    if not arity_ok(target, len(argv) - 2):
        raise ReplyError("ERR Invalid number of arguments specified for command")
    found = target.keys_in(argv[2:])
    if not found:
        if "no_mandatory_keys" in target.flags:
            return []
        raise ReplyError("ERR Invalid arguments specified for command")
    if with_flags:
        return [[argv[2 + i], SetReply(flags)] for i, flags in found]
    return [argv[2 + i] for i, _ in found]
