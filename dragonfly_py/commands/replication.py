"""REPLICAOF/SLAVEOF, REPLCONF, PSYNC, SYNC and WAIT."""

from __future__ import annotations

from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.registry import command
from dragonfly_py.commands.util import parse_int
from dragonfly_py.protocol.resp import OK, ReplyError
from dragonfly_py.replication.primary import AttachedReplica
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import NO_REPLY

R = {"group": "server"}


def _replicaof(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if client.kind == "replica":
        raise ReplyError("ERR Command is not valid when client is a replica.")
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        if server.master_link is not None:
            server.become_primary()
            server.config.values["replicaof"] = None
        return OK
    port = parse_int(argv[2], ReplyError("ERR Invalid master port"))
    if not 0 <= port <= 65535:
        raise ReplyError("ERR Invalid master port")
    host = argv[1].decode()
    link = server.master_link
    if link is not None and link.host == host and link.port == port:
        return "OK Already connected to specified master"
    server.config.values["replicaof"] = (host, port)
    server.become_replica(host, port)
    return OK


@command("replicaof", 3, "admin noscript stale no_async_loading", **R)
def replicaof(client: Client, argv: list[bytes]) -> Any:
    return _replicaof(client, argv)


@command("slaveof", 3, "admin noscript stale no_async_loading", **R)
def slaveof(client: Client, argv: list[bytes]) -> Any:
    return _replicaof(client, argv)


@command("replconf", -1, "admin noscript loading stale allow_busy", **R)
def replconf(client: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2 == 0:
        raise errors.SYNTAX
    primary = client.server.primary
    replica = client.replica or AttachedReplica(client)
    for index in range(1, len(argv), 2):
        option, value = argv[index].lower(), argv[index + 1]
        if option == b"listening-port":
            replica.listening_port = parse_int(value)
        elif option == b"ip-address":
            if len(value) >= 256:
                raise ReplyError("ERR REPLCONF ip-address provided by replica instance is too long")
            replica.announced_ip = value.decode()
        elif option == b"capa":
            replica.capa_eof |= value.lower() == b"eof"
            replica.capa_psync2 |= value.lower() == b"psync2"
        elif option == b"ack":
            primary.ack(client, parse_int(value))
            return NO_REPLY
        elif option == b"getack":
            return NO_REPLY
        elif option in (b"rdb-only", b"rdb-filter-only"):
            pass
        else:
            raise ReplyError(f"ERR Unrecognized REPLCONF option: {argv[index].decode('utf-8', 'replace')}")
    client.replica = replica
    return OK


def _sync_checks(client: Client) -> None:
    server = client.server
    if server.master_link is not None and not server.master_link.link_up:
        raise ReplyError("NOMASTERLINK Can't SYNC while not connected with my master")
    if client.output:
        raise ReplyError("ERR SYNC and PSYNC are invalid with pending output")


@command("psync", -3, "admin noscript no_multi no_async_loading", **R)
def psync(client: Client, argv: list[bytes]) -> Any:
    if client.kind == "replica":
        return NO_REPLY
    if len(argv) > 3 and argv[3].lower() == b"failover" and client.server.master_link is None:
        raise ReplyError("ERR PSYNC FAILOVER can't be sent to a master.")
    offset = parse_int(argv[2])
    _sync_checks(client)
    client.server.primary.psync(client, argv[1].decode("utf-8", "replace"), offset)
    return NO_REPLY


@command("sync", 1, "admin noscript no_multi no_async_loading", **R)
def sync(client: Client, argv: list[bytes]) -> Any:
    if client.kind == "replica":
        return NO_REPLY
    _sync_checks(client)
    client.server.primary.psync(client, "?", -1, legacy=True)
    return NO_REPLY


@command("wait", 3, "noscript", group="generic", tips="request_policy:all_shards response_policy:agg_min")
def wait(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    if server.master_link is not None:
        raise ReplyError(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica "
            "is configured to be writable (which is not the default) writes to replicas are just local and are "
            "not propagated."
        )
    replicas = parse_int(argv[1])
    timeout = parse_int(argv[2])
    if timeout < 0:
        raise errors.TIMEOUT_NEGATIVE
    return server.primary.wait(client, replicas, timeout)
