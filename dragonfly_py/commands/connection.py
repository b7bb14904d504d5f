"""Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT."""

from __future__ import annotations

import re
import time
from typing import Any

from dragonfly_py import REDIS_VERSION, errors
from dragonfly_py.acl import LogEntry
from dragonfly_py.commands.registry import command, container, subcommand
from dragonfly_py.commands.util import parse_int
from dragonfly_py.protocol.resp import OK, PONG, Map, Push, Raw, ReplyError, Verbatim
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import NO_REPLY
from dragonfly_py.server.tracking import TrackingState


@command(
    "ping", -1, "fast sentinel", group="connection", tips="request_policy:all_shards response_policy:all_succeeded"
)
def ping(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 2:
        raise errors.wrong_arity("ping")
    if client.in_pubsub_context():
        return Push([b"pong", argv[1] if len(argv) == 2 else b""])
    return argv[1] if len(argv) == 2 else PONG


@command("echo", 2, "fast loading stale", group="connection")
def echo(client: Client, argv: list[bytes]) -> bytes:
    return argv[1]


def check_password(client: Client, username: bytes, password: bytes) -> None:
    """Authenticate as that user (``default`` follows requirepass), or raise WRONGPASS."""
    name = username.decode("utf-8", "surrogateescape")
    users = client.server.users
    if not users.authenticate(name, password):
        entry = LogEntry("auth", "toplevel", "AUTH", name, client.info_line(), time.time())
        users.log_denial(entry, client.server.config["acllog-max-len"])
        raise errors.WRONGPASS
    client.authenticate(name)


@command("auth", -2, "noscript loading stale fast no_auth allow_busy sentinel", group="connection")
def auth(client: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise errors.SYNTAX
    if len(argv) == 2 and client.server.users.by_name["default"].nopass:
        raise ReplyError(
            "ERR AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?"
        )
    username, password = (b"default", argv[1]) if len(argv) == 2 else (argv[1], argv[2])
    check_password(client, username, password)
    return OK


@command("hello", -1, "noscript loading stale fast no_auth allow_busy sentinel", group="connection")
def hello(client: Client, argv: list[bytes]) -> Any:
    version = 0
    if len(argv) > 1:
        try:
            version = parse_int(argv[1])
        except ReplyError:
            raise ReplyError("ERR Protocol version is not an integer or out of range") from None
        if version not in (2, 3):
            raise ReplyError("NOPROTO unsupported protocol version")
    name = None
    i = 2
    while i < len(argv):
        option = argv[i].lower()
        if option == b"auth" and i + 2 < len(argv):
            check_password(client, argv[i + 1], argv[i + 2])
            i += 3
        elif option == b"setname" and i + 1 < len(argv):
            name = argv[i + 1]
            i += 2
        else:
            raise ReplyError(f"ERR Syntax error in HELLO option '{argv[i].decode('utf-8', 'replace')}'")
    if not client.authenticated:
        raise ReplyError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
            "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
            "RESP protocol version at the same time"
        )
    if name is not None:
        set_client_name(client, name)
    if version:
        client.resp3 = version == 3
    server = client.server
    reply = Map(
        {
            b"server": b"redis",
            b"version": REDIS_VERSION.encode(),
            b"proto": 3 if client.resp3 else 2,
            b"id": client.id,
            b"mode": server.mode.encode(),
        }
    )
    if server.mode != "sentinel":  # a sentinel has no role field
        reply[b"role"] = server.role_name().encode()
    reply[b"modules"] = []
    return reply


@command("select", 2, "loading stale fast", group="connection")
def select(client: Client, argv: list[bytes]) -> Any:
    index = parse_int(argv[1])
    dbs = client.server.keyspace.dbs
    if not 0 <= index < len(dbs):
        raise errors.DB_INDEX_OUT_OF_RANGE
    client.db = dbs[index]
    return OK


@command("quit", -1, "allow_busy noscript loading stale fast no_auth", group="connection")
def quit_(client: Client, argv: list[bytes]) -> Any:
    client.close_after_reply = True
    return OK


@command("reset", 1, "noscript loading stale fast no_auth allow_busy", group="connection")
def reset(client: Client, argv: list[bytes]) -> Any:
    from dragonfly_py.commands.pubsub import unsubscribe_all
    from dragonfly_py.commands.transactions import discard_transaction, unwatch_all

    discard_transaction(client)
    unwatch_all(client)
    unsubscribe_all(client)
    if client.monitor:
        client.monitor = False
        client.server.monitors.remove(client)
    client.db = client.server.keyspace.dbs[0]
    client.resp3 = False
    client.name = b""
    client.reply_mode = "on"
    client.no_evict = False
    client.authenticated = client.server.users.default_needs_no_password()
    client.user = "default"
    client.server.tracking.disable(client)
    return Raw(b"+RESET\r\n")


# -- CLIENT --------------------------------------------------------------------------------------
container("client", -2, "connection", "sentinel")

_NAME_OK = re.compile(rb"[!-~]*")


def set_client_name(client: Client, name: bytes) -> None:
    if not _NAME_OK.fullmatch(name):
        raise ReplyError("ERR Client names cannot contain spaces, newlines or special characters.")
    client.name = name


@subcommand("client", "id", 2, "noscript loading stale sentinel")
def client_id(client: Client, argv: list[bytes]) -> int:
    return client.id


@subcommand("client", "getname", 2, "noscript loading stale sentinel")
def client_getname(client: Client, argv: list[bytes]) -> bytes | None:
    return client.name or None


@subcommand("client", "setname", 3, "noscript loading stale sentinel")
def client_setname(client: Client, argv: list[bytes]) -> Any:
    set_client_name(client, argv[2])
    return OK


@subcommand("client", "setinfo", 4, "noscript loading stale sentinel")
def client_setinfo(client: Client, argv: list[bytes]) -> Any:
    attribute, value = argv[2].lower(), argv[3]
    if attribute not in (b"lib-name", b"lib-ver"):
        raise ReplyError(f"ERR Unrecognized option '{argv[2].decode('utf-8', 'replace')}'")
    if not _NAME_OK.fullmatch(value):
        raise ReplyError(f"ERR {attribute.decode()} cannot contain spaces, newlines or special characters.")
    if attribute == b"lib-name":
        client.lib_name = value
    else:
        client.lib_ver = value
    return OK


_CLIENT_TYPES = {
    b"normal": "normal",
    b"master": "master",
    b"replica": "replica",
    b"slave": "replica",
    b"pubsub": "pubsub",
}


def _client_type(raw: bytes) -> str:
    kind = _CLIENT_TYPES.get(raw.lower())
    if kind is None:
        raise ReplyError(f"ERR Unknown client type '{raw.decode('utf-8', 'replace')}'")
    return kind


def client_kind(client: Client) -> str:
    if client.kind != "normal":
        return client.kind
    return "pubsub" if client.channels or client.patterns else "normal"


@subcommand("client", "list", -2, "admin noscript loading stale sentinel", tips="nondeterministic_output")
def client_list(client: Client, argv: list[bytes]) -> Verbatim:
    clients = list(client.server.clients.values())
    i = 2
    while i < len(argv):
        option = argv[i].lower()
        if option == b"type" and i + 1 < len(argv):
            kind = _client_type(argv[i + 1])
            clients = [c for c in clients if client_kind(c) == kind]
            i += 2
        elif option == b"id" and i + 1 < len(argv):
            wanted = set()
            for raw in argv[i + 1 :]:
                try:
                    wanted.add(parse_int(raw))
                except ReplyError:
                    raise ReplyError("ERR Invalid client ID") from None
            clients = [c for c in clients if c.id in wanted]
            i = len(argv)
        else:
            raise errors.SYNTAX
    return Verbatim("".join(c.info_line() + "\n" for c in clients).encode())


@subcommand("client", "info", 2, "noscript loading stale sentinel", tips="nondeterministic_output")
def client_info(client: Client, argv: list[bytes]) -> Verbatim:
    return Verbatim((client.info_line() + "\n").encode())


@subcommand("client", "kill", -3, "admin noscript loading stale sentinel")
def client_kill(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if len(argv) == 3:  # old form: CLIENT KILL addr:port
        for other in list(server.clients.values()):
            if other.addr.encode() == argv[2]:
                _kill(other)
                return OK
        raise ReplyError("ERR No such client")
    filters: list[Any] = []
    skip_me = True
    i = 2
    while i < len(argv):
        if i + 1 >= len(argv):
            raise errors.SYNTAX
        option, value = argv[i].lower(), argv[i + 1]
        if option == b"id":
            try:
                wanted = parse_int(value)
            except ReplyError:
                raise ReplyError("ERR client-id should be greater than 0") from None
            if wanted <= 0:
                raise ReplyError("ERR client-id should be greater than 0")
            filters.append(lambda c, w=wanted: c.id == w)
        elif option == b"type":
            kind = _client_type(value)
            filters.append(lambda c, k=kind: client_kind(c) == k)
        elif option == b"addr":
            filters.append(lambda c, a=value: c.addr.encode() == a)
        elif option == b"laddr":
            filters.append(lambda c, a=value: c.laddr.encode() == a)
        elif option == b"user":
            filters.append(lambda c, u=value: c.user.encode() == u)
        elif option == b"skipme":
            if value.lower() not in (b"yes", b"no"):
                raise errors.SYNTAX
            skip_me = value.lower() == b"yes"
        elif option == b"maxage":
            age = parse_int(value)
            filters.append(lambda c, a=age: server.clock() - c.created >= a)
        else:
            raise errors.SYNTAX
        i += 2
    killed = 0
    for other in list(server.clients.values()):
        if skip_me and other is client:
            continue
        if all(f(other) for f in filters):
            _kill(other)
            killed += 1
    return killed


def _kill(target: Client) -> None:
    """Close after the replies already queued (the caller killing itself gets its reply)."""
    link = target.server.master_link
    if target.kind == "master" and link is not None:
        link.drop()  # the link reconnects and asks for a partial resync
        return
    target.close_after_reply = True
    target.server.pending_flush.add(target)


@subcommand("client", "no-evict", 3, "admin noscript loading stale sentinel")
def client_no_evict(client: Client, argv: list[bytes]) -> Any:
    value = argv[2].lower()
    if value not in (b"on", b"off"):
        raise errors.SYNTAX
    client.no_evict = value == b"on"
    return OK


@subcommand("client", "reply", 3, "noscript loading stale sentinel")
def client_reply(client: Client, argv: list[bytes]) -> Any:
    mode = argv[2].lower()
    if mode == b"on":
        client.reply_mode = "on"
        return OK
    if mode == b"off":
        client.reply_mode = "off"
        return NO_REPLY
    if mode == b"skip":
        if client.reply_mode != "off":  # as Redis, SKIP does not end OFF
            client.reply_mode = "skip"
        return NO_REPLY
    raise errors.SYNTAX


@subcommand("client", "unblock", -3, "admin noscript loading stale sentinel")
def client_unblock(client: Client, argv: list[bytes]) -> int:
    target_id = parse_int(argv[2])
    mode = argv[3].lower() if len(argv) > 3 else b"timeout"
    if len(argv) > 4 or mode not in (b"timeout", b"error"):
        raise ReplyError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    target = client.server.clients.get(target_id)
    if target is None or target.blocked is None:
        return 0
    reply = (
        ReplyError("UNBLOCKED client unblocked via CLIENT UNBLOCK") if mode == b"error" else target.blocked.on_timeout
    )
    client.server.unblock_with(target, reply)
    return 1


@subcommand("client", "help", 2, "loading stale sentinel")
def client_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Prints this help.",
    ]


# -- CLIENT PAUSE / UNPAUSE ------------------------------------------------------------------------
@subcommand("client", "pause", -3, "admin noscript loading stale sentinel")
def client_pause(client: Client, argv: list[bytes]) -> Any:
    timeout = parse_int(argv[2], ReplyError("ERR timeout is not an integer or out of range"))
    if timeout < 0:
        raise ReplyError("ERR timeout is negative")
    mode = argv[3].lower() if len(argv) > 3 else b"all"
    if len(argv) > 4 or mode not in (b"write", b"all"):
        raise ReplyError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    client.server.pause_clients(timeout / 1000, writes_only=mode == b"write")
    return OK


@subcommand("client", "unpause", 2, "admin noscript loading stale sentinel")
def client_unpause(client: Client, argv: list[bytes]) -> Any:
    client.server.unpause_clients()
    return OK


# -- CLIENT TRACKING (client-side caching) ---------------------------------------------------------
@subcommand("client", "tracking", -3, "noscript loading stale sentinel")
def client_tracking(client: Client, argv: list[bytes]) -> Any:
    state, prefixes = _tracking_options(client, argv[3:])
    switch = argv[2].lower()
    tracking = client.server.tracking
    if switch == b"off":
        tracking.disable(client)
        return OK
    if switch != b"on":
        raise errors.SYNTAX
    _check_tracking_modes(client, state, prefixes)
    if state.bcast:
        _check_prefix_overlaps(client, prefixes)
        existing = client.tracking.prefixes if client.tracking else []
        state.prefixes = existing + [p for p in prefixes or [b""] if p not in existing]
    tracking.enable(client, state)
    return OK


def _tracking_options(client: Client, args: list[bytes]) -> tuple[TrackingState, list[bytes]]:
    state, prefixes = TrackingState(), []
    i = 0
    while i < len(args):
        option, more = args[i].lower(), i + 1 < len(args)
        if option == b"redirect" and more:
            i += 1
            if state.redirect:
                raise ReplyError("ERR A client can only redirect to a single other client")
            state.redirect = parse_int(args[i])
            if state.redirect not in client.server.clients:
                raise ReplyError("ERR The client ID you want redirect to does not exist")
        elif option == b"prefix" and more:
            i += 1
            prefixes.append(args[i])
        elif option in (b"bcast", b"optin", b"optout", b"noloop"):
            setattr(state, option.decode(), True)
        else:
            raise errors.SYNTAX
        i += 1
    return state, prefixes


def _check_tracking_modes(client: Client, state: TrackingState, prefixes: list[bytes]) -> None:
    if prefixes and not state.bcast:
        raise ReplyError("ERR PREFIX option requires BCAST mode to be enabled")
    current = client.tracking
    if current is not None and current.bcast != state.bcast:
        raise ReplyError(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
            "and then re-enabling it with a different mode."
        )
    if state.bcast and (state.optin or state.optout):
        raise ReplyError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if state.optin and state.optout:
        raise ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if current is not None and ((state.optin and current.optout) or (state.optout and current.optin)):
        raise ReplyError(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
            "and then re-enabling it with a different mode."
        )


def _check_prefix_overlaps(client: Client, prefixes: list[bytes]) -> None:
    existing = client.tracking.prefixes if client.tracking else []
    for i, prefix in enumerate(prefixes):
        for other in existing:
            if prefix.startswith(other) or other.startswith(prefix):
                raise ReplyError(
                    f"ERR Prefix '{prefix.decode(errors='replace')}' overlaps with an existing prefix "
                    f"'{other.decode(errors='replace')}'. Prefixes for a single client must not overlap."
                )
        for other in prefixes[i + 1 :]:
            if prefix.startswith(other) or other.startswith(prefix):
                raise ReplyError(
                    f"ERR Prefix '{prefix.decode(errors='replace')}' overlaps with another provided prefix "
                    f"'{other.decode(errors='replace')}'. Prefixes for a single client must not overlap."
                )


@subcommand("client", "caching", 3, "noscript loading stale sentinel")
def client_caching(client: Client, argv: list[bytes]) -> Any:
    state = client.tracking
    if state is None or not (state.optin or state.optout):
        raise ReplyError(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode "
            "with OPTIN or OPTOUT mode enabled"
        )
    answer = argv[2].lower()
    if answer == b"yes":
        if not state.optin:
            raise ReplyError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    elif answer == b"no":
        if not state.optout:
            raise ReplyError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    else:
        raise errors.SYNTAX
    state.caching = True
    return OK


@subcommand("client", "getredir", 2, "noscript loading stale sentinel")
def client_getredir(client: Client, argv: list[bytes]) -> int:
    return client.tracking.redirect if client.tracking is not None else -1


@subcommand("client", "trackinginfo", 2, "noscript loading stale sentinel")
def client_trackinginfo(client: Client, argv: list[bytes]) -> Map:
    state = client.tracking
    if state is None:
        return Map({b"flags": [b"off"], b"redirect": -1, b"prefixes": []})
    return Map({b"flags": state.flags(), b"redirect": state.redirect, b"prefixes": sorted(state.prefixes)})
