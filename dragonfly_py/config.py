"""One typed configuration model for the config file, command-line flags and CONFIG.

Every directive of Redis 7.0's redis.conf is known here with its kind and default (taken from
``CONFIG GET *`` of redis-server 7.0.15). Directives we give no effect to are stored and answered
by CONFIG GET all the same, so existing configs load unchanged. Dragonfly-style flags
(``--port=6380``, ``--replica_priority=10``, ``--replicaof=host:port``) map onto the same table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dragonfly_py.acl import Users
from dragonfly_py.protocol.parser import split_args
from dragonfly_py.protocol.resp import ReplyError

INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1

# name kind default [flags] -- kinds: bool int mem str enum:a,b special:<handler>;
# flags: immutable, protected, alias=<canonical>, min=N, max=N, clamp (out-of-range values
# are clamped instead of refused, as Redis does for hz).
_TABLE = """
acl-pubsub-default enum:allchannels,resetchannels resetchannels
aclfile str "" immutable
acllog-max-len int 128 min=0 max=LLONG
active-defrag-cycle-max int 25 min=1 max=99
active-defrag-cycle-min int 1 min=1 max=99
active-defrag-ignore-bytes mem 104857600
active-defrag-max-scan-fields int 1000 min=1
active-defrag-threshold-lower int 10 min=0 max=1000
active-defrag-threshold-upper int 100 min=0 max=1000
active-expire-effort int 1 min=1 max=10
activedefrag bool no
activerehashing bool yes
always-show-logo bool no immutable
aof-disable-auto-gc bool no
aof-load-truncated bool yes
aof-rewrite-incremental-fsync bool yes
aof-timestamp-enabled bool no
aof-use-rdb-preamble bool yes
aof_rewrite_cpulist str "" immutable
appenddirname str appendonlydir immutable
appendfilename str appendonly.aof immutable
appendfsync enum:always,everysec,no everysec
appendonly bool no
auto-aof-rewrite-min-size mem 67108864
auto-aof-rewrite-percentage int 100 min=0
bgsave_cpulist str "" immutable
bind special:bind "* -::*"
bind-source-addr str ""
bio_cpulist str "" immutable
busy-reply-threshold int 5000 min=0
lua-time-limit int 5000 alias=busy-reply-threshold
client-output-buffer-limit special:obuf "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
client-query-buffer-limit mem 1073741824 min=1048576
cluster-allow-pubsubshard-when-down bool yes
cluster-allow-reads-when-down bool no
cluster-allow-replica-migration bool yes
cluster-announce-bus-port int 0 min=0 max=65535
cluster-announce-hostname str ""
cluster-announce-ip str ""
cluster-announce-port int 0 min=0 max=65535
cluster-announce-tls-port int 0 min=0 max=65535
cluster-config-file str nodes.conf immutable
cluster-enabled bool no immutable
cluster-link-sendbuf-limit mem 0
cluster-migration-barrier int 1 min=0
cluster-node-timeout int 15000 min=0
cluster-port int 0 min=0 max=65535 immutable
cluster-preferred-endpoint-type enum:ip,hostname,unknown-endpoint ip
cluster-replica-no-failover bool no
cluster-slave-no-failover bool no alias=cluster-replica-no-failover
cluster-replica-validity-factor int 10 min=0
cluster-slave-validity-factor int 10 alias=cluster-replica-validity-factor
cluster-require-full-coverage bool yes
crash-log-enabled bool yes
crash-memcheck-enabled bool yes
daemonize bool no immutable
databases int 16 min=1 max=INT immutable
dbfilename str dump.rdb protected
dir special:dir "" protected
disable-thp bool yes immutable
dynamic-hz bool yes
enable-debug-command enum:no,yes,local no immutable
enable-module-command enum:no,yes,local no immutable
enable-protected-configs enum:no,yes,local no immutable
hash-max-listpack-entries int 512 min=0
hash-max-ziplist-entries int 512 alias=hash-max-listpack-entries
hash-max-listpack-value int 64 min=0
hash-max-ziplist-value int 64 alias=hash-max-listpack-value
hll-sparse-max-bytes mem 3000
hz int 10 min=0 max=500 clamp
ignore-warnings str ""
io-threads int 1 min=1 max=128 immutable
io-threads-do-reads bool no immutable
jemalloc-bg-thread bool yes
key-load-delay int 0
latency-monitor-threshold int 0 min=0
latency-tracking bool yes
latency-tracking-info-percentiles special:percentiles "50 99 99.9"
lazyfree-lazy-eviction bool no
lazyfree-lazy-expire bool no
lazyfree-lazy-server-del bool no
lazyfree-lazy-user-del bool no
lazyfree-lazy-user-flush bool no
lfu-decay-time int 1 min=0
lfu-log-factor int 10 min=0
list-compress-depth int 0 min=0
list-max-listpack-size int -2 min=-5
list-max-ziplist-size int -2 alias=list-max-listpack-size
logfile str "" immutable
loglevel enum:debug,verbose,notice,warning notice
masterauth str "" sensitive
masteruser str ""
maxclients int 10000 min=1
maxmemory mem 0
maxmemory-clients mem 0
maxmemory-eviction-tenacity int 10 min=0 max=100
maxmemory-policy enum:volatile-lru,volatile-lfu,volatile-random,volatile-ttl,allkeys-lru,allkeys-lfu,allkeys-random,noeviction noeviction
maxmemory-samples int 5 min=1
min-replicas-max-lag int 10 min=0
min-slaves-max-lag int 10 alias=min-replicas-max-lag
min-replicas-to-write int 0 min=0
min-slaves-to-write int 0 alias=min-replicas-to-write
no-appendfsync-on-rewrite bool no
notify-keyspace-events special:keyspace_events ""
oom-score-adj enum:no,yes,relative,absolute no
oom-score-adj-values str "0 200 800"
pidfile str "" immutable
port int 6379 min=0 max=65535
proc-title-template str "{title} {listen-addr} {server-mode}"
propagation-error-behavior enum:ignore,panic,panic-on-replicas ignore
protected-mode bool yes
proto-max-bulk-len mem 536870912 min=1048576
rdb-del-sync-files bool no
rdb-save-incremental-fsync bool yes
rdbchecksum bool yes immutable
rdbcompression bool yes
repl-backlog-size mem 1048576 min=1
repl-backlog-ttl int 3600 min=0
repl-disable-tcp-nodelay bool no
repl-diskless-load enum:disabled,on-empty-db,swapdb disabled
repl-diskless-sync bool yes
repl-diskless-sync-delay int 5 min=0
repl-diskless-sync-max-replicas int 0 min=0
repl-ping-replica-period int 10 min=1
repl-ping-slave-period int 10 alias=repl-ping-replica-period
repl-timeout int 60 min=1
replica-announce-ip str ""
slave-announce-ip str "" alias=replica-announce-ip
replica-announce-port int 0 min=0 max=65535
slave-announce-port int 0 alias=replica-announce-port
replica-announced bool yes
replica-ignore-disk-write-errors bool no
replica-ignore-maxmemory bool yes
slave-ignore-maxmemory bool yes alias=replica-ignore-maxmemory
replica-lazy-flush bool no
slave-lazy-flush bool no alias=replica-lazy-flush
replica-priority int 100 min=0
slave-priority int 100 alias=replica-priority
replica-read-only bool yes
slave-read-only bool yes alias=replica-read-only
replica-serve-stale-data bool yes
slave-serve-stale-data bool yes alias=replica-serve-stale-data
replicaof special:replicaof ""
slaveof special:replicaof "" alias=replicaof
requirepass str "" sensitive
sanitize-dump-payload enum:no,yes,clients no
save special:save "3600 1 300 100 60 10000"
server_cpulist str "" immutable
set-max-intset-entries int 512 min=0
set-proc-title bool yes immutable
shutdown-on-sigint enum:default,save,nosave,now,force default
shutdown-on-sigterm enum:default,save,nosave,now,force default
shutdown-timeout int 10 min=0
slowlog-log-slower-than int 10000 min=-1
slowlog-max-len int 128 min=0
socket-mark-id int 0 min=0
stop-writes-on-bgsave-error bool yes
stream-node-max-bytes mem 4096
stream-node-max-entries int 100 min=0
supervised enum:upstart,systemd,auto,no no immutable
syslog-enabled bool no immutable
syslog-facility enum:user,local0,local1,local2,local3,local4,local5,local6,local7 local0 immutable
syslog-ident str redis immutable
tcp-backlog int 511 min=0 immutable
tcp-keepalive int 300 min=0
timeout int 0 min=0
tls-auth-clients enum:no,yes,optional yes
tls-ca-cert-dir str ""
tls-ca-cert-file str ""
tls-cert-file str ""
tls-ciphers str ""
tls-ciphersuites str ""
tls-client-cert-file str ""
tls-client-key-file str ""
tls-client-key-file-pass str "" sensitive
tls-cluster bool no
tls-dh-params-file str ""
tls-key-file str ""
tls-key-file-pass str "" sensitive
tls-port int 0 min=0 max=65535
tls-prefer-server-ciphers bool no
tls-protocols str ""
tls-replication bool no
tls-session-cache-size int 20480 min=0
tls-session-cache-timeout int 300 min=0
tls-session-caching bool yes
tracking-table-max-keys int 1000000 min=0
unixsocket str "" immutable
unixsocketperm int 0 immutable
zset-max-listpack-entries int 128 min=0
zset-max-ziplist-entries int 128 alias=zset-max-listpack-entries
zset-max-listpack-value int 64 min=0
zset-max-ziplist-value int 64 alias=zset-max-listpack-value
admin-port int 0 min=0 max=65535 immutable ours
admin-bind str "" immutable ours
log-format enum:human,json human immutable ours
"""

# Directives accepted in a file but not CONFIG parameters (Redis handles them specially).
_FILE_ONLY = {"include", "rename-command", "user", "loadmodule", "sentinel"}


class ConfigError(Exception):
    """A value a directive cannot take; the text is Redis's reason."""


@dataclass(frozen=True)
class Directive:
    name: str
    kind: str
    default: str
    immutable: bool = False
    protected: bool = False
    sensitive: bool = False
    alias_of: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    clamp: bool = False
    enum: tuple[str, ...] = ()


def _parse_table(text: str) -> dict[str, Directive]:
    table: dict[str, Directive] = {}
    bounds = {"INT": INT_MAX, "LLONG": LLONG_MAX}
    for line in text.strip().splitlines():
        words = split_args(line.encode())
        assert words is not None, line
        name, kind, default, *flags = (w.decode() for w in words)
        options: dict[str, Any] = {}
        for flag in flags:
            key, _, value = flag.partition("=")
            if key == "alias":
                options["alias_of"] = value
            elif key in ("min", "max"):
                options["minimum" if key == "min" else "maximum"] = int(bounds.get(value, value))
            elif key in ("immutable", "protected", "sensitive", "clamp"):
                options[key] = True
        enum: tuple[str, ...] = ()
        if kind.startswith("enum:"):
            enum = tuple(kind[5:].split(","))
            kind = "enum"
        table[name] = Directive(name, kind, default, enum=enum, **options)
    return table


DIRECTIVES = _parse_table(_TABLE)


def canonical_name(name: str) -> str:
    directive = DIRECTIVES[name]
    return directive.alias_of or name


MEMORY_UNITS = {"k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def parse_memory(text: str) -> int | None:
    match = re.fullmatch(r"(-?\d+)([a-zA-Z]*)", text)
    if not match:
        return None
    number, unit = match.groups()
    unit = unit.lower()
    if unit and unit not in MEMORY_UNITS:
        return None
    return int(number) * MEMORY_UNITS.get(unit, 1)


def _strict_int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?\d+", text) else None


@dataclass
class OutputBufferLimit:
    hard: int
    soft: int
    soft_seconds: int


def _parse_obuf(text: str, current: dict[str, OutputBufferLimit] | None) -> dict[str, OutputBufferLimit]:
    words = text.split()
    if len(words) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits = dict(current or {})
    for i in range(0, len(words), 4):
        cls = {"slave": "replica"}.get(words[i].lower(), words[i].lower())
        if cls not in ("normal", "replica", "pubsub"):
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        hard, soft = parse_memory(words[i + 1]), parse_memory(words[i + 2])
        seconds = _strict_int(words[i + 3])
        if hard is None or soft is None or seconds is None or min(hard, soft, seconds) < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        limits[cls] = OutputBufferLimit(hard, soft, seconds)
    return limits


def _format_obuf(limits: dict[str, OutputBufferLimit]) -> str:
    names = {"normal": "normal", "replica": "slave", "pubsub": "pubsub"}
    return " ".join(
        f"{names[c]} {limits[c].hard} {limits[c].soft} {limits[c].soft_seconds}"
        for c in ("normal", "replica", "pubsub")
    )


def _parse_save(text: str) -> list[tuple[int, int]]:
    words = text.split()
    if len(words) % 2:
        raise ConfigError("Invalid save parameters")
    points = []
    for i in range(0, len(words), 2):
        seconds, changes = _strict_int(words[i]), _strict_int(words[i + 1])
        if seconds is None or changes is None or seconds < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        points.append((seconds, changes))
    return points


_KEYSPACE_EVENT_CLASSES = set("KEg$lshzxeAtmdn")


def _parse_value(directive: Directive, text: str, current: Any) -> Any:
    kind = directive.kind
    if kind == "bool":
        lowered = text.lower()
        if lowered not in ("yes", "no"):
            raise ConfigError("argument must be 'yes' or 'no'")
        return lowered == "yes"
    if kind in ("int", "mem"):
        value = _strict_int(text) if kind == "int" else parse_memory(text)
        if value is None:
            raise ConfigError(
                "argument couldn't be parsed into an integer" if kind == "int" else "argument must be a memory value"
            )
        low = directive.minimum if directive.minimum is not None else -LLONG_MAX
        high = directive.maximum if directive.maximum is not None else LLONG_MAX
        if directive.clamp:
            return max(low, min(high, value))
        if not low <= value <= high:
            raise ConfigError(f"argument must be between {low} and {high} inclusive")
        return value
    if kind == "enum":
        lowered = text.lower()
        if lowered not in directive.enum:
            raise ConfigError("argument(s) must be one of the following: " + ", ".join(directive.enum))
        return lowered
    if kind == "special:save":
        return _parse_save(text)
    if kind == "special:obuf":
        return _parse_obuf(text, current)
    if kind == "special:bind":
        if not text.split():
            raise ConfigError("Too few bind addresses.")
        return text.split()
    if kind == "special:replicaof":
        words = text.split()
        if not words or (len(words) == 2 and words[0].lower() == "no" and words[1].lower() == "one"):
            return None
        if len(words) != 2 or _strict_int(words[1]) is None:
            raise ConfigError("replicaof takes a host and a port, or 'no one'")
        return (words[0], int(words[1]))
    if kind == "special:keyspace_events":
        if not set(text) <= _KEYSPACE_EVENT_CLASSES:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmd'.")
        return text
    if kind == "special:percentiles":
        try:
            values = [float(w) for w in text.split()]
        except ValueError:
            raise ConfigError("latency-tracking-info-percentiles has a wrong value") from None
        return values
    if kind == "special:dir":
        return text
    return text


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def format_value(directive: Directive, value: Any) -> str:
    kind = directive.kind
    if kind == "bool":
        return "yes" if value else "no"
    if kind in ("int", "mem"):
        return str(value)
    if kind == "special:save":
        return " ".join(f"{s} {c}" for s, c in value)
    if kind == "special:obuf":
        return _format_obuf(value)
    if kind == "special:bind":
        return " ".join(value)
    if kind == "special:replicaof":
        return f"{value[0]} {value[1]}" if value else ""
    if kind == "special:percentiles":
        return " ".join(_format_number(v) for v in value)
    return str(value)


@dataclass
class ConfigLine:
    """One line of the config file as read, kept so CONFIG REWRITE preserves the file."""

    text: str
    name: str | None  # canonical directive name, None for comments / blank lines


@dataclass
class Config:
    """The server's settings; one instance is shared by start-up, CONFIG and the server."""

    values: dict[str, Any] = field(default_factory=dict)
    file: Path | None = None
    file_lines: list[ConfigLine] = field(default_factory=list)
    renamed_commands: dict[str, str] = field(default_factory=dict)
    users: list[list[str]] = field(default_factory=list)  # ``user name rule ...`` lines, in order
    _listeners: dict[str, list[Callable[[Any], None]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, directive in DIRECTIVES.items():
            if directive.alias_of is None and name not in self.values:
                self.values[name] = _parse_value(directive, directive.default, None)
        if not self.values["dir"]:
            self.values["dir"] = os.getcwd()

    def __getitem__(self, name: str) -> Any:
        return self.values[canonical_name(name)]

    def on_change(self, name: str, callback: Callable[[Any], None]) -> None:
        self._listeners.setdefault(name, []).append(callback)

    def set(self, name: str, text: str) -> None:
        """Set one directive from its text form (file, flag or CONFIG SET)."""
        canonical = canonical_name(name)
        directive = DIRECTIVES[canonical]
        value = _parse_value(directive, text, self.values.get(canonical))
        if directive.kind == "special:dir":
            _change_dir(text)
            value = os.getcwd()
        self.values[canonical] = value
        for callback in self._listeners.get(canonical, []):
            callback(value)

    def get_text(self, name: str) -> str:
        canonical = canonical_name(name)
        return format_value(DIRECTIVES[canonical], self.values[canonical])

    def matching(self, pattern: bytes) -> list[str]:
        from dragonfly_py.storage.glob import glob_match

        return [name for name in DIRECTIVES if glob_match(pattern, name.encode(), nocase=True)]

    def set_many(self, pairs: Iterable[tuple[str, str]]) -> None:
        """CONFIG SET: all or nothing; on failure earlier values are restored."""
        before = {canonical_name(n): self.values[canonical_name(n)] for n, _ in pairs}
        try:
            for name, text in pairs:
                self.set(name, text)
        except ConfigError:
            self.values.update(before)
            raise

    def rewrite(self) -> None:
        """CONFIG REWRITE: update lines in place, keep comments, append what changed."""
        if self.file is None:
            raise ConfigError("The server is running without a config file")
        self.file_lines = rewrite_lines(self)
        temp = self.file.with_name(f".{self.file.name}.rewrite-{os.getpid()}")
        with open(temp, "w") as handle:
            handle.write("".join(line.text + "\n" for line in self.file_lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.file)


def _change_dir(path: str) -> None:
    try:
        os.chdir(path)
    except OSError as exc:
        raise ConfigError(exc.strerror or str(exc)) from None


def quote_arg(text: str) -> str:
    """Quote a value for a config line when it needs it (empty, spaces, quotes)."""
    if text and not re.search(r"[\s\"'\\]", text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _config_lines_for(config: Config, name: str) -> list[str]:
    directive = DIRECTIVES[name]
    value = config.values[name]
    if directive.kind == "special:save":
        return [f"save {s} {c}" for s, c in value] if value else ['save ""']
    if directive.kind == "special:replicaof":
        return [f"replicaof {value[0]} {value[1]}"] if value else []
    if directive.kind == "special:obuf":
        text = _format_obuf(value)
        words = text.split()
        return [f"client-output-buffer-limit {' '.join(words[i : i + 4])}" for i in range(0, len(words), 4)]
    return [f"{name} {quote_arg(format_value(directive, value))}"]


_REWRITE_MARKER = "# Generated by CONFIG REWRITE"


def rewrite_lines(config: Config) -> list[ConfigLine]:
    """The file's lines after CONFIG REWRITE, Redis style."""
    written: set[str] = set()
    out: list[ConfigLine] = []
    for line in config.file_lines:
        name = line.name
        if name is None or name not in DIRECTIVES:
            out.append(line)
            continue
        if name in written:
            continue  # later duplicates of a directive collapse into the first place
        written.add(name)
        out.extend(ConfigLine(text, name) for text in _config_lines_for(config, name))
    appended = []
    for name, directive in DIRECTIVES.items():
        if directive.alias_of or name in written:
            continue
        if format_value(directive, config.values[name]) == _default_text(directive):
            continue
        appended.extend(ConfigLine(text, name) for text in _config_lines_for(config, name))
    if appended:
        if not any(line.text == _REWRITE_MARKER for line in out):
            out.append(ConfigLine(_REWRITE_MARKER, None))
        out.extend(appended)
    return out


def _default_text(directive: Directive) -> str:
    if directive.kind == "special:dir":
        return os.getcwd()
    return format_value(directive, _parse_value(directive, directive.default, None))


class ConfigFileError(Exception):
    """A fatal problem in the config file or flags; the text is what start-up prints."""


def fatal_error(source: str, line_number: int, line: str, reason: str) -> ConfigFileError:
    from dragonfly_py import REDIS_VERSION

    return ConfigFileError(
        f"\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n"
        f"Reading the configuration file {source}, at line {line_number}\n"
        f">>> '{line}'\n{reason}"
    )


def flags_to_lines(argv: list[str]) -> list[str]:
    """Command-line flags as config lines: ``--port 6380``, ``--port=6380``, ``--save ""``."""
    lines: list[list[str]] = []
    for arg in argv:
        if arg.startswith("--") and len(arg) > 2:
            name, has_value, value = arg[2:].partition("=")
            name = name.replace("_", "-")
            words = [name]
            if has_value:
                # Dragonfly's --replicaof=host:port
                words += value.rsplit(":", 1) if name in ("replicaof", "slaveof") and ":" in value else [value]
            lines.append(words)
        elif lines:
            lines[-1].append(arg)
        else:
            raise ConfigFileError(f"Invalid argument '{arg}': flags start with --")
    return [" ".join([words[0]] + [quote_arg(w) for w in words[1:]]) for words in lines]


def load_config(path: str | None, flags: list[str]) -> Config:
    """Read the config file (with includes), then apply the flags; exit-worthy errors raise."""
    config = Config()
    if path is not None:
        config.file = Path(path).resolve()
        try:
            text = config.file.read_text()
        except OSError as exc:
            raise ConfigFileError(f"Fatal error, can't open config file '{path}': {exc.strerror}") from None
        config.file_lines = _apply_text(config, text, str(config.file), keep_lines=True)
    _apply_text(config, "\n".join(flags_to_lines(flags)), "(command line)", keep_lines=False)
    return config


def _apply_text(config: Config, text: str, source: str, keep_lines: bool) -> list[ConfigLine]:
    kept: list[ConfigLine] = []
    save_seen_in_source = False
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            kept.append(ConfigLine(raw_line, None))
            continue
        words_raw = split_args(line.encode())
        if words_raw is None:
            raise fatal_error(source, number, line, "Unbalanced quotes in configuration line")
        words = [w.decode("utf-8", "surrogateescape") for w in words_raw]
        name = words[0].lower()
        args = words[1:]
        kept.append(ConfigLine(raw_line, canonical_name(name) if name in DIRECTIVES else name))
        if name == "include":
            if len(args) != 1:
                raise fatal_error(source, number, line, "Bad directive or wrong number of arguments")
            _include(config, args[0], source, number, line)
            continue
        if name == "rename-command" and len(args) == 2:
            config.renamed_commands[args[0].lower()] = args[1]
            continue
        if name == "user" and args:
            try:
                Users().setuser(args[0], args[1:])  # refuse a bad rule now, naming the line
            except ReplyError as exc:
                raise fatal_error(source, number, line, exc.message.removeprefix("ERR ")) from None
            config.users.append(args)
            continue
        if name in _FILE_ONLY:
            continue
        if name not in DIRECTIVES:
            raise fatal_error(source, number, line, "Bad directive or wrong number of arguments")
        directive = DIRECTIVES[canonical_name(name)]
        try:
            if directive.kind == "special:save":
                # Several save lines accumulate; save "" clears them.
                points = _parse_save(" ".join(args))
                previous = config.values["save"] if save_seen_in_source else []
                config.values["save"] = previous + points if args != [""] else []
                save_seen_in_source = True
            elif directive.kind.startswith("special:") or directive.kind == "str":
                config.set(name, " ".join(args))
            elif len(args) != 1:
                raise ConfigError("wrong number of arguments")
            else:
                config.set(name, args[0])
        except ConfigError as exc:
            raise fatal_error(source, number, line, str(exc)) from None
    return kept if keep_lines else []


def _include(config: Config, path: str, source: str, number: int, line: str) -> None:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise fatal_error(
            source, number, line, f"Fatal error, can't open config file '{path}': {exc.strerror}"
        ) from None
    _apply_text(config, text, path, keep_lines=False)
