"""Command families; importing this package fills the command table."""

from dragonfly_py.commands import (  # noqa: F401  (imported for their registrations)
    connection,
    hashes,
    keys,
    lists,
    persistence,
    pubsub,
    replication,
    server,
    sets,
    streams,
    strings,
    transactions,
    zsets,
)
from dragonfly_py.commands.registry import COMMANDS

__all__ = ["COMMANDS"]
