"""Users for AUTH / HELLO AUTH: names, on/off, passwords (kept as SHA-256), and the key, channel
and command rules as Redis 7.0 spells them back in ACL LIST and GETUSER.

Sans-IO and shared by the server and the sentinel.  Authentication is what is enforced; the rules
are parsed, validated, shown and evaluated by ACL DRYRUN, but not applied to the commands clients
run (one password per deployment is the common case, and Sentinel's users only need AUTH).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from dragonfly_py.protocol.resp import ReplyError

BAD_HASH = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
CATEGORIES = frozenset(
    "all keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub admin fast slow "
    "blocking dangerous connection transaction scripting".split()
)
_FLAG_RULES = ("on", "off", "nopass", "resetpass", "skip-sanitize-payload", "sanitize-payload")


def password_hash(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


@dataclass
class User:
    name: str
    enabled: bool = False
    nopass: bool = False
    passwords: list[str] = field(default_factory=list)  # SHA-256 hex, in the order added
    keys: list[str] = field(default_factory=list)  # "~pattern" (also %R~ / %W~)
    all_channels: bool = False
    channels: list[str] = field(default_factory=list)  # "&pattern"
    commands: list[str] = field(default_factory=lambda: ["-@all"])
    payload_flag: str = ""  # "sanitize-payload" / "skip-sanitize-payload" once set (RESTORE checks)

    def describe(self) -> str:
        """The rules in ACL LIST's order: flags, passwords, keys, channels, commands."""
        words = self.flags()
        words += [] if self.nopass else [f"#{h}" for h in self.passwords]
        words += self.keys
        words += ["&*"] if self.all_channels else ["resetchannels", *self.channels]
        words += self.commands
        return " ".join(words)

    def flags(self) -> list[str]:
        return [
            "on" if self.enabled else "off",
            *(["nopass"] if self.nopass else []),
            *filter(None, [self.payload_flag]),
        ]

    def apply(self, rule: str, known_command: Callable[[str], bool] | None = None) -> None:
        """One ACL SETUSER modifier; ReplyError with Redis's text when it is not one.

        ``known_command("name")`` / ``("name|sub")`` says whether a ``+name`` rule names a command
        of the table being served (sentinel mode has its own); None accepts any name."""
        lowered = rule.lower()
        if lowered in _FLAG_RULES:
            self._apply_flag(lowered)
        elif rule[:1] in (">", "<", "#", "!"):
            self._apply_password(rule)
        elif lowered in ("allkeys", "resetkeys") or rule.startswith(("~", "%")):
            self.keys = [] if lowered == "resetkeys" else [*self.keys, "~*" if lowered == "allkeys" else rule]
        elif lowered in ("allchannels", "resetchannels") or rule.startswith("&"):
            self.all_channels = lowered == "allchannels" or rule == "&*"
            self.channels = [] if self.all_channels or lowered == "resetchannels" else [*self.channels, rule]
        elif lowered in ("allcommands", "nocommands") or rule[:1] in ("+", "-"):
            self._check_command(rule, lowered, known_command)
            self._apply_command(lowered)
        elif lowered == "reset":
            vars(self).update(vars(User(self.name, payload_flag="sanitize-payload")))
        else:
            raise ReplyError(f"ERR Error in ACL SETUSER modifier '{rule}': Syntax error")

    def _apply_flag(self, flag: str) -> None:
        if flag in ("on", "off"):
            self.enabled = flag == "on"
        elif flag == "nopass":
            self.nopass, self.passwords = True, []
        elif flag == "resetpass":
            self.nopass, self.passwords = False, []
        else:
            self.payload_flag = flag

    def _apply_password(self, rule: str) -> None:
        kind, value = rule[0], rule[1:]
        if kind in ("#", "!") and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):
            raise ReplyError(f"ERR Error in ACL SETUSER modifier '{rule}': {BAD_HASH}")
        digest = value if kind in ("#", "!") else password_hash(value.encode("utf-8", "surrogateescape"))
        if kind in (">", "#"):
            self.nopass = False
            if digest not in self.passwords:
                self.passwords.append(digest)
        elif digest in self.passwords:
            self.passwords.remove(digest)
        else:
            raise ReplyError(f"ERR Error in ACL SETUSER modifier '{rule}': {NO_SUCH_PASSWORD}")

    @staticmethod
    def _check_command(rule: str, lowered: str, known_command: Callable[[str], bool] | None) -> None:
        name = lowered[1:]
        if lowered in ("allcommands", "nocommands") or (known_command is None and not name.startswith("@")):
            return
        if not (name[1:] in CATEGORIES if name.startswith("@") else known_command and known_command(name)):
            raise ReplyError(f"ERR Error in ACL SETUSER modifier '{rule}': Unknown command or category name in ACL")

    def _apply_command(self, rule: str) -> None:
        if rule in ("+@all", "allcommands", "-@all", "nocommands"):
            self.commands = ["+@all" if rule in ("+@all", "allcommands") else "-@all"]
        else:
            self.commands.append(rule)

    def may_run(self, full_name: str, categories: frozenset[str]) -> bool:
        """Whether the command rules, applied in order, end up allowing this command."""
        allowed = False
        for rule in self.commands:
            target = rule[1:]
            if target == "@all" or target in categories or target in (full_name, full_name.partition("|")[0]):
                allowed = rule[0] == "+"
        return allowed

    def accepts(self, password: bytes) -> bool:
        return self.enabled and (self.nopass or password_hash(password) in self.passwords)


def default_user(requirepass: str) -> User:
    user = User("default", enabled=True, keys=["~*"], all_channels=True, commands=["+@all"])
    user.apply(f">{requirepass}" if requirepass else "nopass")
    return user


@dataclass
class LogEntry:
    """One ACL LOG line: a denied AUTH (or command), counted while it repeats."""

    reason: str
    context: str
    object: str
    username: str
    client_info: str
    created: float
    count: int = 1

    def reply(self, now: float) -> dict[bytes, object]:
        return {
            b"count": self.count,
            b"reason": self.reason.encode(),
            b"context": self.context.encode(),
            b"object": self.object.encode(),
            b"username": self.username.encode(),
            b"age-seconds": now - self.created,
            b"client-info": self.client_info.encode(),
        }


LOG_MERGE_SECONDS = 60  # Redis folds a repeat of the same denial within a minute into one entry


class Users:
    """Every user by name; ``default`` always exists and follows ``requirepass``."""

    def __init__(self, requirepass: str = "") -> None:
        self.by_name: dict[str, User] = {"default": default_user(requirepass)}
        self.log: list[LogEntry] = []  # newest first
        self.known_command: Callable[[str], bool] | None = None  # the server sets its table's check

    def set_requirepass(self, requirepass: str) -> None:
        """CONFIG SET requirepass, as Redis: replaces the default user's passwords."""
        default = self.by_name["default"]
        default.passwords, default.nopass = [], False
        default.apply(f">{requirepass}" if requirepass else "nopass")

    def authenticate(self, name: str, password: bytes) -> bool:
        user = self.by_name.get(name)
        return user is not None and user.accepts(password)

    def default_needs_no_password(self) -> bool:
        default = self.by_name["default"]
        return default.enabled and default.nopass

    def setuser(self, name: str, rules: list[str]) -> None:
        """Create or change a user; nothing changes unless every rule is valid."""
        if " " in name:
            raise ReplyError("ERR Usernames can't contain spaces or null characters")
        user = copy.deepcopy(self.by_name.get(name) or User(name))
        for rule in rules:
            user.apply(rule, self.known_command)
        self.by_name[name] = user

    def deluser(self, names: list[str]) -> int:
        if "default" in names:
            raise ReplyError("ERR The 'default' user cannot be removed")
        return sum(1 for name in dict.fromkeys(names) if self.by_name.pop(name, None) is not None)

    def log_denial(self, entry: LogEntry, max_len: int) -> None:
        for old in self.log:
            same = (old.reason, old.context, old.object, old.username) == (
                entry.reason,
                entry.context,
                entry.object,
                entry.username,
            )
            if same and entry.created - old.created < LOG_MERGE_SECONDS:
                old.count += 1
                old.created, old.client_info = entry.created, entry.client_info
                self.log.remove(old)
                self.log.insert(0, old)
                return
        self.log.insert(0, entry)
        del self.log[max_len:]

    def lines(self) -> list[str]:
        """ACL LIST, and the ``user`` lines a config rewrite writes."""
        return [f"user {name} {user.describe()}" for name, user in sorted(self.by_name.items())]
