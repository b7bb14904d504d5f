"""Pub/sub: SUBSCRIBE, PSUBSCRIBE, their UNs, PUBLISH and PUBSUB introspection."""

from __future__ import annotations

from typing import Any

from dragonfly_py import errors
from dragonfly_py.commands.registry import command, container, subcommand
from dragonfly_py.protocol.resp import Push
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import NO_REPLY
from dragonfly_py.storage.glob import glob_match

P = {"group": "pubsub"}


def _count(client: Client) -> int:
    return len(client.channels) + len(client.patterns)


def _subscribe(client: Client, names: list[bytes], pattern: bool) -> Any:
    registry = client.server.patterns if pattern else client.server.channels
    mine = client.patterns if pattern else client.channels
    kind = b"psubscribe" if pattern else b"subscribe"
    for name in names:
        if name not in mine:
            mine.add(name)
            registry.setdefault(name, set()).add(client)
        client.send(Push([kind, name, _count(client)]))
    return NO_REPLY


def _unsubscribe(client: Client, names: list[bytes], pattern: bool) -> Any:
    registry = client.server.patterns if pattern else client.server.channels
    mine = client.patterns if pattern else client.channels
    kind = b"punsubscribe" if pattern else b"unsubscribe"
    targets = names or list(mine)
    if not targets:
        client.send(Push([kind, None, _count(client)]))
    for name in targets:
        if name in mine:
            mine.discard(name)
            members = registry.get(name)
            if members is not None:
                members.discard(client)
                if not members:
                    del registry[name]
        client.send(Push([kind, name, _count(client)]))
    return NO_REPLY


def unsubscribe_all(client: Client) -> None:
    for registry, mine in (
        (client.server.channels, client.channels),
        (client.server.patterns, client.patterns),
    ):
        for name in list(mine):
            members = registry.get(name)
            if members is not None:
                members.discard(client)
                if not members:
                    del registry[name]
        mine.clear()


@command("subscribe", -2, "pubsub noscript loading stale sentinel", **P)
def subscribe(client: Client, argv: list[bytes]) -> Any:
    return _subscribe(client, argv[1:], pattern=False)


@command("psubscribe", -2, "pubsub noscript loading stale sentinel", **P)
def psubscribe(client: Client, argv: list[bytes]) -> Any:
    return _subscribe(client, argv[1:], pattern=True)


@command("unsubscribe", -1, "pubsub noscript loading stale sentinel", **P)
def unsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv[1:], pattern=False)


@command("punsubscribe", -1, "pubsub noscript loading stale sentinel", **P)
def punsubscribe(client: Client, argv: list[bytes]) -> Any:
    return _unsubscribe(client, argv[1:], pattern=True)


@command("publish", 3, "pubsub loading stale fast may_replicate sentinel", **P)
def publish(client: Client, argv: list[bytes]) -> int:
    return client.server.publish(argv[1], argv[2])


container("pubsub", -2, "pubsub")


@subcommand("pubsub", "channels", -2, "pubsub loading stale")
def pubsub_channels(client: Client, argv: list[bytes]) -> list[bytes]:
    if len(argv) > 3:
        raise errors.wrong_arity("pubsub|channels")
    pattern = argv[2] if len(argv) == 3 else None
    return [c for c in client.server.channels if pattern is None or glob_match(pattern, c)]


@subcommand("pubsub", "numsub", -2, "pubsub loading stale")
def pubsub_numsub(client: Client, argv: list[bytes]) -> list[Any]:
    channels = client.server.channels
    return [x for name in argv[2:] for x in (name, len(channels.get(name, ())))]


@subcommand("pubsub", "numpat", 2, "pubsub loading stale")
def pubsub_numpat(client: Client, argv: list[bytes]) -> int:
    return len(client.server.patterns)


@subcommand("pubsub", "help", 2, "loading stale")
def pubsub_help(client: Client, argv: list[bytes]) -> list[str]:
    return [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "HELP",
        "    Print this help.",
    ]
