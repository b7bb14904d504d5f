"""The one command table: dispatch, arity errors, MULTI queue-time checks, -READONLY on
replicas, COMMAND introspection and replication propagation all read it.

Each family module declares its commands with :func:`command` (and :func:`subcommand` for
container commands such as CLIENT and CONFIG), giving Redis's arity (negative: at least),
flags and key positions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dragonfly_py import errors
from dragonfly_py.commands.keyspecs import FoundKey, KeySpec, from_range, keys_of, legacy_range
from dragonfly_py.replication.propagate import ALWAYS_PROPAGATED, REWRITES, Rewrite

if TYPE_CHECKING:
    from dragonfly_py.server.client import Client

Handler = Callable[["Client", list[bytes]], Any]
ManyHandler = Callable[["Client", list[list[bytes]]], bytes | None]
KeyFinder = Callable[[list[bytes]], list[FoundKey]]

# In the order COMMAND INFO lists them (Redis's CMD_* bit order).
FLAG_ORDER = (
    "write readonly denyoom module admin pubsub noscript blocking loading stale skip_monitor skip_slowlog "
    "asking fast no_auth may_replicate sentinel only_sentinel no_mandatory_keys no_async_loading no_multi "
    "movablekeys allow_busy"
).split()
KNOWN_FLAGS = frozenset(FLAG_ORDER)
# Shown by COMMAND INFO; sentinel / only_sentinel are internal to the command table.
REPORTED_FLAGS = [f for f in FLAG_ORDER if f not in ("sentinel", "only_sentinel")]

# Commands a RESP2 client in subscribed mode may still send.
PUBSUB_CONTEXT_ALLOWED = frozenset(
    b"subscribe unsubscribe psubscribe punsubscribe ssubscribe sunsubscribe ping quit reset".split()
)
# Commands that act on the transaction itself instead of being queued.
MULTI_CONTROL = frozenset(b"exec discard multi watch quit reset".split())


@dataclass(eq=False)
class Command:
    name: str
    handler: Handler | None
    arity: int
    flags: frozenset[str]
    group: str
    key_specs: tuple[KeySpec, ...] = ()
    tips: tuple[str, ...] = ()  # COMMAND INFO's hints for clients (nondeterministic_output ...)
    # Finds the keys and their flags where a spec's flags depend on the arguments (variable_flags).
    key_finder: KeyFinder | None = None
    # COMMAND's legacy (first, last, step), derived from key_specs.
    first_key: int = field(init=False, default=0)
    last_key: int = field(init=False, default=0)
    key_step: int = field(init=False, default=0)
    acl_categories: tuple[str, ...] = ()
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    parent: Command | None = None
    calls: int = 0
    nanoseconds: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    # Flag lookups on the hot path, resolved once.
    write: bool = False
    no_auth: bool = False
    allowed_when_loading: bool = False
    allowed_when_stale: bool = False
    full_name: str = ""
    # Its key lookups count as keyspace hits/misses (Redis's lookupKeyRead): a read of keys, or a
    # write that reads its sources that way (GETDEL, SUNIONSTORE ...).
    reads_keys: bool | None = None  # None: a readonly command with keys
    # Durations (ns) of the calls since the last fold (Server.fold_durations), which counts them
    # into calls and nanoseconds, and into the latency histogram (dragonfly_py.server.latency)
    # while latency tracking is on: a call costs the hot path one append.
    durations: list[int] = field(default_factory=list)
    # Runs of calls that shared one duration (a read of one command many times, timed as a whole):
    # duration, count, duration, count ... (one append per read, not one per call).
    shared_durations: list[int] = field(default_factory=list)
    latency: Any = None
    # Propagation to replicas: the rewrite into its effects (None: as sent), and whether it goes
    # out even when it changed nothing (FLUSHALL, PUBLISH ...).
    rewrite: Rewrite | None = None
    always_propagated: bool = False
    # The directive that lets it run (Redis's CMD_PROTECTED: enable-debug-command ...), or None.
    protected_by: str | None = None
    # A read that holds this command alone, many times (a homogeneous pipeline), may run as one
    # call of this: it returns the replies in wire form, or None, having changed nothing, when
    # a request needs the command itself (see ClientConnection.run_many). A write's may run
    # only requests that each change the dataset and propagate as sent (Primary.feed_read), or
    # that change nothing (then none propagates); it is called only while no key is watched,
    # waited for or tracked (Keyspace.observed), and, for a write with a rewrite, only while no
    # replica is fed.
    many: ManyHandler | None = None

    def __post_init__(self) -> None:
        self.full_name = f"{self.parent.name}|{self.name}" if self.parent else self.name
        if self.parent is None:
            self.rewrite = REWRITES.get(self.name.encode())
            self.always_propagated = self.name.encode() in ALWAYS_PROPAGATED
            self.protected_by = PROTECTED_BY.get(self.name)
        unknown = self.flags - KNOWN_FLAGS
        assert not unknown, f"{self.name}: unknown flags {unknown}"
        self.write = "write" in self.flags
        self.no_auth = "no_auth" in self.flags
        self.allowed_when_loading = "loading" in self.flags
        self.allowed_when_stale = "stale" in self.flags
        self.first_key, self.last_key, self.key_step = legacy_range(self.key_specs)
        if self.reads_keys is None:
            self.reads_keys = "readonly" in self.flags and (self.first_key > 0 or "movablekeys" in self.flags)
        self.acl_categories = _acl_categories(self)

    def keys_in(self, argv: list[bytes]) -> list[FoundKey]:
        """The key arguments of argv (COMMAND GETKEYS, tracking), by index, with their flags."""
        if self.key_finder is not None:
            return self.key_finder(argv)
        return keys_of(self.key_specs, argv)


COMMANDS: dict[bytes, Command] = {}
# Commands that run only where a directive allows them: yes, or local for a loopback client.
PROTECTED_BY = {"debug": "enable-debug-command"}
# The data commands the request loop calls without Client.execute's checks while nothing needs
# them (ClientConnection.direct_commands), keyed by their name in lower and in upper case as
# sent, so a lookup needs no lower(). They neither block nor change any state those checks read
# (authentication, MULTI, subscriptions, tracking, CLIENT REPLY, pauses, the server's role ...).
DIRECT_COMMANDS: dict[bytes, Command] = {}
# Those of them that never propagate: the ones a read may run without run() while replicas are fed.
DIRECT_READS: dict[bytes, Command] = {}
DIRECT_GROUPS = frozenset(
    {"string", "list", "hash", "set", "sorted_set", "stream", "generic", "keyspace", "connection"}
)
NOT_DIRECT_FLAGS = frozenset({"admin", "pubsub", "noscript", "blocking", "no_auth", "no_multi", "loading", "stale"})


def _parse_flags(flags: str) -> frozenset[str]:
    return frozenset(flags.split())


# A command's keys: its key specs, or the legacy (first, last, step) of its one spec.
Keys = tuple[int, int, int] | tuple[KeySpec, ...]


def _key_specs(keys: Keys, key_flags: str | None, flags: frozenset[str]) -> tuple[KeySpec, ...]:
    if keys and isinstance(keys[0], KeySpec):
        return keys  # type: ignore[return-value]
    first, last, step = keys  # type: ignore[misc]
    default = "RO access" if "readonly" in flags else "RW update"
    return from_range(key_flags or default, first, last, step)  # type: ignore[arg-type]


def command(
    name: str,
    arity: int,
    flags: str = "",
    keys: Keys = (0, 0, 0),
    group: str = "generic",
    reads_keys: bool | None = None,
    many: ManyHandler | None = None,
    key_flags: str | None = None,
    tips: str = "",
    key_finder: KeyFinder | None = None,
) -> Callable[[Handler], Handler]:
    """Register a command handler under ``name``: keys as Redis's key specs, or as a legacy
    (first, last, step) of one spec with key_flags (reads_keys, many, key_finder: see Command)."""

    def register(handler: Handler) -> Handler:
        parsed = _parse_flags(flags)
        cmd = Command(
            name,
            handler,
            arity,
            parsed,
            group,
            _key_specs(keys, key_flags, parsed),
            tuple(tips.split()),
            key_finder,
            reads_keys=reads_keys,
            many=many,
        )
        COMMANDS[name.encode()] = cmd
        if group in DIRECT_GROUPS and not cmd.flags & NOT_DIRECT_FLAGS:
            DIRECT_COMMANDS[name.encode()] = DIRECT_COMMANDS[name.upper().encode()] = cmd
            if not cmd.write and not cmd.always_propagated:
                DIRECT_READS[name.encode()] = DIRECT_READS[name.upper().encode()] = cmd
        return handler

    return register


def container(name: str, arity: int, group: str, flags: str = "") -> Command:
    """A command whose second word names a subcommand (CLIENT LIST, CONFIG GET ...)."""
    key = name.encode()
    if key not in COMMANDS:
        COMMANDS[key] = Command(name, None, arity, _parse_flags(flags), group)
    return COMMANDS[key]


def subcommand(
    parent: str,
    name: str,
    arity: int,
    flags: str = "",
    keys: Keys = (0, 0, 0),
    group: str | None = None,
    reads_keys: bool | None = None,
    key_flags: str | None = None,
    tips: str = "",
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        owner = COMMANDS[parent.encode()]
        parsed = _parse_flags(flags)
        sub = Command(
            name,
            handler,
            arity,
            parsed,
            group or owner.group,
            _key_specs(keys, key_flags, parsed),
            tuple(tips.split()),
            parent=owner,
            reads_keys=reads_keys,
        )
        owner.subcommands[name.encode()] = sub
        return handler

    return register


def resolve(argv: list[bytes], table: dict[bytes, Command] | None = None) -> Command | errors.ReplyError:
    """The command argv names (the subcommand for containers), or the error to send."""
    cmd = (COMMANDS if table is None else table).get(argv[0].lower())
    if cmd is None:
        return errors.unknown_command(argv[0], argv[1:])
    if not cmd.subcommands:
        return cmd
    if len(argv) < 2:  # COMMAND alone is a command of its own; CLIENT alone is not
        return cmd if cmd.handler is not None else errors.wrong_arity(cmd.name)
    sub = cmd.subcommands.get(argv[1].lower())
    if sub is None:
        return errors.unknown_subcommand(argv[1], cmd.name)
    return sub


def arity_ok(cmd: Command, argc: int) -> bool:
    arity = cmd.arity
    return argc == arity if arity > 0 else argc >= -arity


_GROUP_CATEGORY = {
    "string": "@string",
    "list": "@list",
    "hash": "@hash",
    "set": "@set",
    "sorted_set": "@sortedset",
    "stream": "@stream",
    "pubsub": "@pubsub",
    "transactions": "@transaction",
    "connection": "@connection",
    "generic": "@keyspace",
    "server": None,
}


# Where Redis's command files name other categories than the rule of thumb gives (containers,
# commands Redis counts as dangerous or as connection commands), by full name.
_CATEGORIES_OF: dict[str, tuple[str, ...]] = {
    "client": ("@slow",),
    "keys": ("@keyspace", "@read", "@slow", "@dangerous"),
    "object": ("@slow",),
    "dump": ("@keyspace", "@read", "@slow"),
    "restore": ("@keyspace", "@write", "@slow", "@dangerous"),
    "pubsub": ("@slow",),
    "pubsub|help": ("@slow",),
    "wait": ("@slow", "@connection"),
    "info": ("@slow", "@dangerous"),
    "role": ("@admin", "@fast", "@dangerous"),
    "lastsave": ("@admin", "@fast", "@dangerous"),
    "flushdb": ("@keyspace", "@write", "@slow", "@dangerous"),
    "flushall": ("@keyspace", "@write", "@slow", "@dangerous"),
    "swapdb": ("@keyspace", "@write", "@fast", "@dangerous"),
    "command": ("@slow", "@connection"),
    "command|count": ("@slow", "@connection"),
    "command|info": ("@slow", "@connection"),
    "command|docs": ("@slow", "@connection"),
    "command|list": ("@slow", "@connection"),
    "command|getkeys": ("@slow", "@connection"),
    "command|getkeysandflags": ("@slow", "@connection"),
    "command|help": ("@slow", "@connection"),
    "xgroup": ("@slow",),
    "xinfo": ("@slow",),
}


def _acl_categories(cmd: Command) -> tuple[str, ...]:
    """Redis's rule of thumb: categories follow from the group and the flags (_CATEGORIES_OF
    where Redis says otherwise), in Redis's order."""
    if cmd.full_name in _CATEGORIES_OF:
        return _CATEGORIES_OF[cmd.full_name]
    flags = cmd.flags
    cats: list[str] = []
    if "write" in flags:
        cats.append("@write")
    if "readonly" in flags and cmd.group != "scripting":
        cats.append("@read")
    if "admin" in flags:
        cats += ["@admin", "@dangerous"]
    if "pubsub" in flags:
        cats.append("@pubsub")
    if "fast" in flags:
        cats.append("@fast")
    if "blocking" in flags:
        cats.append("@blocking")
    if "fast" not in flags:
        cats.append("@slow")
    group_cat = _GROUP_CATEGORY.get(cmd.group)
    if group_cat and group_cat not in cats:
        cats.append(group_cat)
    return tuple(sorted(cats, key=_CATEGORY_ORDER.index))


# Redis's order of the categories (acl.c's ACLCommandCategories), which COMMAND INFO follows.
_CATEGORY_ORDER = [
    f"@{name}"
    for name in (
        "keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub admin fast slow"
        " blocking dangerous connection transaction scripting"
    ).split()
]
