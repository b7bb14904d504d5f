"""The sentinel-mode command table and the SENTINEL API, served by dragonfly_py's server core.

The table holds the commands Redis 7.0 flags for Sentinel (shared handlers from
``dragonfly_py.commands``) plus Sentinel's own INFO, ROLE, PUBLISH, SHUTDOWN, ACL and
SENTINEL.  Replies keep Redis's shapes: instance states are maps (flat arrays in RESP2) whose
numbers are bulk strings, also in RESP3.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dragonfly_py.commands.registry import COMMANDS, Command, resolve
from dragonfly_py.commands.util import parse_int
from dragonfly_py.protocol.resp import NULL_ARRAY, OK, Map, ReplyError
from dragonfly_py.server import info as server_info
from dragonfly_py.server.client import Client
from dragonfly_py.server.markers import NO_REPLY
from dragonfly_py.storage.glob import glob_match
from sentinel import election, failover
from sentinel.config import set_down_after
from sentinel.instance import Instance, Master, Timing

if TYPE_CHECKING:
    from dragonfly_py.server.server import Server
    from sentinel.monitor import Sentinel

# Redis 7.0's sentinel-mode top-level commands (COMMAND COUNT is 15).
SHARED = (b"auth", b"client", b"command", b"hello", b"ping", b"psubscribe", b"punsubscribe", b"subscribe")
SHARED += (b"unsubscribe",)
NOT_IN_7_0 = {b"setinfo"}  # CLIENT SETINFO arrived in 7.2

Handler = Callable[[Client, list[bytes]], Any]


def sentinel_of(client: Client) -> Sentinel:
    return client.server.sentinel  # type: ignore[attr-defined,no-any-return]


def _n(value: int) -> bytes:
    """Sentinel sends numbers as bulk strings, in RESP3 too."""
    return b"%d" % value


# -- instance state maps ---------------------------------------------------------------------------
def instance_state(sentinel: Sentinel, instance: Instance) -> Map:
    now, link = sentinel.clock(), instance.link
    out: dict[bytes, Any] = {
        b"name": instance.name.encode(),
        b"ip": sentinel.shown(instance).encode(),
        b"port": _n(instance.port),
        b"runid": instance.runid.encode(),
        b"flags": ",".join(instance.flags()).encode(),
        b"link-pending-commands": _n(link.pending_commands),
        b"link-refcount": _n(link.refcount),
    }
    if isinstance(instance, Master) and instance.failover_in_progress:
        out[b"failover-state"] = instance.failover_state.encode()
    out[b"last-ping-sent"] = _n(now - link.act_ping_time if link.act_ping_time else 0)
    out[b"last-ok-ping-reply"] = _n(now - link.last_avail_time)
    out[b"last-ping-reply"] = _n(now - link.last_pong_time)
    if instance.s_down:
        out[b"s-down-time"] = _n(now - instance.s_down_since)
    if instance.o_down:
        out[b"o-down-time"] = _n(now - instance.o_down_since)
    out[b"down-after-milliseconds"] = _n(instance.down_after)
    if instance.kind != "sentinel":
        out[b"info-refresh"] = _n(now - instance.info_refresh if instance.info_refresh else 0)
        out[b"role-reported"] = (instance.role_reported or instance.kind).encode()
        out[b"role-reported-time"] = _n(now - instance.role_reported_time)
    if isinstance(instance, Master):
        out[b"config-epoch"] = _n(instance.config_epoch)
        out[b"num-slaves"] = _n(len(instance.replicas))
        out[b"num-other-sentinels"] = _n(len(instance.sentinels))
        out[b"quorum"] = _n(instance.quorum)
        out[b"failover-timeout"] = _n(instance.failover_timeout)
        out[b"parallel-syncs"] = _n(instance.parallel_syncs)
        if instance.notification_script:
            out[b"notification-script"] = instance.notification_script.encode()
        if instance.client_reconfig_script:
            out[b"client-reconfig-script"] = instance.client_reconfig_script.encode()
    elif instance.kind == "slave":
        out[b"master-link-down-time"] = _n(instance.master_link_down_time)
        out[b"master-link-status"] = b"ok" if instance.master_link_ok else b"err"
        out[b"master-host"] = (instance.slave_master_host or "?").encode()
        out[b"master-port"] = _n(instance.slave_master_port)
        out[b"slave-priority"] = _n(instance.slave_priority)
        out[b"slave-repl-offset"] = _n(instance.slave_repl_offset)
        out[b"replica-announced"] = _n(int(instance.replica_announced))
    else:
        out[b"last-hello-message"] = _n(now - instance.last_hello_time)
        out[b"voted-leader"] = (instance.leader or "?").encode()
        out[b"voted-leader-epoch"] = _n(instance.leader_epoch)
    return Map(out)


def _master(client: Client, name: bytes) -> Master:
    master = sentinel_of(client).masters.get(name.decode("utf-8", "replace"))
    if master is None:
        raise ReplyError("ERR No such master with that name")
    return master


# -- SENTINEL subcommands ---------------------------------------------------------------------------
SUBCOMMANDS: dict[bytes, tuple[Handler, int]] = {}


def sentinel_subcommand(name: str, arity: int) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        SUBCOMMANDS[name.encode()] = (handler, arity)
        return handler

    return register


@sentinel_subcommand("masters", 2)
def masters(client: Client, argv: list[bytes]) -> Any:
    sentinel = sentinel_of(client)
    return [instance_state(sentinel, m) for m in sentinel.masters.values()]


@sentinel_subcommand("master", 3)
def master_(client: Client, argv: list[bytes]) -> Any:
    return instance_state(sentinel_of(client), _master(client, argv[2]))


@sentinel_subcommand("replicas", 3)
def replicas(client: Client, argv: list[bytes]) -> Any:
    sentinel, master = sentinel_of(client), _master(client, argv[2])
    return [instance_state(sentinel, r) for r in master.replicas.values() if r.replica_announced]


SUBCOMMANDS[b"slaves"] = (replicas, 3)


@sentinel_subcommand("sentinels", 3)
def sentinels(client: Client, argv: list[bytes]) -> Any:
    sentinel, master = sentinel_of(client), _master(client, argv[2])
    return [instance_state(sentinel, s) for s in master.sentinels.values()]


@sentinel_subcommand("get-master-addr-by-name", 3)
def get_master_addr_by_name(client: Client, argv: list[bytes]) -> Any:
    sentinel = sentinel_of(client)
    master = sentinel.masters.get(argv[2].decode("utf-8", "replace"))
    if master is None:
        return NULL_ARRAY
    ip, port = master.current_address(sentinel.announce_hostnames)
    return [ip.encode(), _n(port)]


@sentinel_subcommand("is-master-down-by-addr", 6)
def is_master_down_by_addr(client: Client, argv: list[bytes]) -> Any:
    port, epoch = parse_int(argv[3]), parse_int(argv[4])
    down, leader, leader_epoch = election.answer_is_master_down(
        sentinel_of(client), argv[2].decode(), port, epoch, argv[5].decode("utf-8", "replace")
    )
    return [down, leader.encode(), leader_epoch]


@sentinel_subcommand("reset", 3)
def reset(client: Client, argv: list[bytes]) -> Any:
    sentinel = sentinel_of(client)
    count = 0
    for master in list(sentinel.masters.values()):
        if glob_match(argv[2], master.name.encode()):
            sentinel.reset_master(master, reset_sentinels=True)
            count += 1
    if count:
        sentinel.flush_config()
    return count


@sentinel_subcommand("failover", 3)
def failover_(client: Client, argv: list[bytes]) -> Any:
    sentinel, master = sentinel_of(client), _master(client, argv[2])
    if master.failover_in_progress:
        raise ReplyError("INPROG Failover already in progress")
    if failover.select_replica(sentinel, master)[0] is None:
        raise ReplyError("NOGOODSLAVE No suitable replica to promote")
    sentinel.log.warning(f"Executing user requested FAILOVER of '{master.name}'")
    failover.start_failover(sentinel, master, forced=True)
    return OK


@sentinel_subcommand("ckquorum", 3)
def ckquorum(client: Client, argv: list[bytes]) -> Any:
    master = _master(client, argv[2])
    peers = list(master.sentinels.values())
    usable = 1 + sum(1 for p in peers if not (p.s_down or p.o_down))
    problems = []
    if usable < master.quorum:
        problems.append("Not enough available Sentinels to reach the specified quorum for this master")
    if usable < (len(peers) + 1) // 2 + 1:
        problems.append("Not enough available Sentinels to reach the majority and authorize a failover")
    if problems:
        raise ReplyError(f"NOQUORUM {usable} usable Sentinels. " + ". ".join(problems))
    return f"OK {usable} usable Sentinels. Quorum and failover authorization can be reached"


@sentinel_subcommand("flushconfig", 2)
def flushconfig(client: Client, argv: list[bytes]) -> Any:
    if not sentinel_of(client).flush_config():
        raise ReplyError("ERR Failed to save config file. Check server logs.")
    return OK


@sentinel_subcommand("monitor", 6)
def monitor(client: Client, argv: list[bytes]) -> Any:
    sentinel = sentinel_of(client)
    name, host = argv[2].decode("utf-8", "replace"), argv[3].decode("utf-8", "replace")
    quorum = parse_int(argv[5], ReplyError("ERR Invalid quorum"))
    port = parse_int(argv[4], ReplyError("ERR Invalid port"))
    if quorum <= 0:
        raise ReplyError("ERR Quorum must be 1 or greater.")
    if not sentinel.valid_address(host):
        raise ReplyError("ERR Invalid IP address or hostname specified")
    if name in sentinel.masters:
        raise ReplyError("ERR Duplicate master name.")
    if not 0 < port < 65536:
        raise ReplyError("ERR Invalid port number.")
    master = sentinel.create_master(name, host, port, quorum)
    sentinel.flush_config()
    sentinel.event("warning", "+monitor", master, f"quorum {quorum}")
    return OK


@sentinel_subcommand("remove", 3)
def remove(client: Client, argv: list[bytes]) -> Any:
    sentinel, master = sentinel_of(client), _master(client, argv[2])
    sentinel.event("warning", "-monitor", master)
    sentinel.remove_master(master)
    sentinel.flush_config()
    return OK


@sentinel_subcommand("set", -5)
def set_(client: Client, argv: list[bytes]) -> Any:
    sentinel, master = sentinel_of(client), _master(client, argv[2])
    args = [a.decode("utf-8", "surrogateescape") for a in argv[3:]]
    changed, error, i = False, None, 0
    while i < len(args):
        option = args[i]
        width = 3 if option.lower() == "rename-command" else 2
        if i + width > len(args):
            error = ReplyError(f"ERR Unknown option or number of arguments for SENTINEL SET '{option}'")
            break
        values = args[i + 1 : i + width]
        try:
            _set_option(sentinel, master, option.lower(), values)
        except ReplyError as exc:
            error = exc
            break
        changed = True
        shown = "******" if option.lower() == "auth-pass" else " ".join(values)
        sentinel.event("warning", "+set", master, f"{option} {shown}")
        i += width
    if changed and not sentinel.flush_config() and error is None:
        error = ReplyError("ERR Failed to save config file. Check server logs.")
    if error is not None:
        raise error
    return OK


def _set_option(sentinel: Sentinel, master: Master, option: str, values: list[str]) -> None:
    value = values[0]

    def positive(minimum: int = 1) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum:
            raise ReplyError(f"ERR Invalid argument '{value}' for SENTINEL SET '{option}'")
        return number

    if option == "down-after-milliseconds":
        set_down_after(master, positive())
    elif option == "failover-timeout":
        master.failover_timeout = positive()
    elif option == "parallel-syncs":
        master.parallel_syncs = positive()
    elif option == "quorum":
        master.quorum = positive()
    elif option == "master-reboot-down-after-period":
        master.reboot_down_after_period = positive(0)
    elif option in ("notification-script", "client-reconfig-script"):
        if sentinel.deny_scripts_reconfig:
            raise ReplyError(
                "ERR Reconfiguration of scripts path is denied for security reasons. Check the "
                "deny-scripts-reconfig configuration directive in your Sentinel configuration"
            )
        if value and not (os.path.isfile(value) and os.access(value, os.X_OK)):
            what = "Notification script" if option == "notification-script" else "Client reconfiguration script"
            raise ReplyError(f"ERR {what} seems non existing or non executable")
        setattr(master, option.replace("-", "_"), value)
    elif option in ("auth-pass", "auth-user"):
        setattr(master, option.replace("-", "_"), value)
        for instance in (master, *master.replicas.values()):
            instance.link.close()  # reconnect with the new credentials
    elif option == "rename-command":
        old, new = values
        if old.lower() == new.lower():
            master.renamed_commands.pop(old.lower(), None)
        else:
            master.renamed_commands[old.lower()] = new
    else:
        raise ReplyError(f"ERR Unknown option or number of arguments for SENTINEL SET '{option}'")


CONFIG_PARAMS = ("resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port", "sentinel-user")
CONFIG_PARAMS += ("sentinel-pass",)


def _config_value(sentinel: Sentinel, name: str) -> bytes:
    value = getattr(sentinel, name.replace("-", "_"))
    if isinstance(value, bool):
        return b"yes" if value else b"no"
    return _n(value) if isinstance(value, int) else value.encode()


@sentinel_subcommand("config", -3)
def config(client: Client, argv: list[bytes]) -> Any:
    sentinel = sentinel_of(client)
    sub = argv[2].lower()
    if sub == b"get" and len(argv) == 4:
        return Map(
            {n.encode(): _config_value(sentinel, n) for n in CONFIG_PARAMS if glob_match(argv[3], n.encode(), True)}
        )
    if sub == b"set" and len(argv) == 5:
        name, value = argv[3].decode("utf-8", "replace").lower(), argv[4].decode("utf-8", "surrogateescape")
        if name not in CONFIG_PARAMS:
            raise ReplyError(f"ERR Invalid argument '{argv[3].decode()}' to SENTINEL CONFIG SET")
        bad = ReplyError(f"ERR Invalid value '{value}' to SENTINEL CONFIG SET '{name}'")
        if name in ("resolve-hostnames", "announce-hostnames"):
            if value.lower() not in ("yes", "no"):
                raise bad
            setattr(sentinel, name.replace("-", "_"), value.lower() == "yes")
        elif name == "announce-port":
            port = parse_int(argv[4], bad)
            if not 0 <= port <= 65535:
                raise bad
            sentinel.announce_port = port
        else:
            setattr(sentinel, name.replace("-", "_"), value)
            if name in ("sentinel-user", "sentinel-pass"):
                for master in sentinel.masters.values():
                    for peer in master.sentinels.values():
                        peer.link.close()
        sentinel.flush_config()
        return OK
    raise ReplyError("ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.")


@sentinel_subcommand("myid", 2)
def myid(client: Client, argv: list[bytes]) -> Any:
    return sentinel_of(client).myid.encode()


@sentinel_subcommand("info-cache", -3)
def info_cache(client: Client, argv: list[bytes]) -> Any:
    sentinel = sentinel_of(client)
    now = sentinel.clock()
    out: list[Any] = []
    for raw in argv[2:]:
        master = sentinel.masters.get(raw.decode("utf-8", "replace"))
        if master is None:
            continue
        entries = []
        for instance in (master, *master.replicas.values()):
            age = now - instance.info_refresh if instance.info_refresh else 0
            entries.append([age, instance.info.encode() if instance.info is not None else None])
        out += [master.name.encode(), entries]
    return out


@sentinel_subcommand("pending-scripts", 2)
def pending_scripts(client: Client, argv: list[bytes]) -> Any:
    return [Map({k.encode(): v for k, v in job.items()}) for job in sentinel_of(client).scripts.pending()]


@sentinel_subcommand("simulate-failure", -3)
def simulate_failure(client: Client, argv: list[bytes]) -> Any:
    sentinel = sentinel_of(client)
    sentinel.simulate_failure = 0
    for raw in argv[2:]:
        flag = raw.lower()
        if flag == b"crash-after-election":
            sentinel.simulate_failure |= 1
        elif flag == b"crash-after-promotion":
            sentinel.simulate_failure |= 2
        elif flag == b"help":
            return [b"crash-after-election", b"crash-after-promotion"]
        else:
            raise ReplyError("ERR Unknown failure simulation specified")
    return OK


@sentinel_subcommand("debug", -2)
def debug(client: Client, argv: list[bytes]) -> Any:
    timing = sentinel_of(client).timing
    names = Timing.names()
    if len(argv) == 2:
        return Map({n.upper().encode(): _n(getattr(timing, n.replace("-", "_"))) for n in names})
    args = argv[2:]
    for i in range(0, len(args), 2):
        name = args[i].decode("utf-8", "replace").lower()
        if name not in names or i + 1 >= len(args):
            raise ReplyError(
                f"ERR Unknown option or number of arguments for SENTINEL DEBUG '{args[i].decode('utf-8', 'replace')}'"
            )
        try:
            value = int(args[i + 1])
        except ValueError:
            value = 0
        if value <= 0:
            raise ReplyError(f"ERR Invalid argument '{args[i + 1].decode()}' for SENTINEL DEBUG '{name}'")
        setattr(timing, name.replace("-", "_"), value)
    return OK


HELP_LINES = [
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration paramters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
]


@sentinel_subcommand("help", 2)
def help_(client: Client, argv: list[bytes]) -> Any:
    header = f"{argv[0].decode().upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return [header, *HELP_LINES, "HELP", "    Prints this help."]


# -- other sentinel-mode commands -------------------------------------------------------------------
def sentinel_info(client: Client, argv: list[bytes]) -> Any:
    requested = [a.decode("utf-8", "replace") for a in argv[1:]]
    return server_info.render(client.server, requested, INFO_SECTIONS, list(INFO_SECTIONS), []).encode()


def _sentinel_section(server: Server) -> list[tuple[str, object]]:
    sentinel: Sentinel = server.sentinel  # type: ignore[attr-defined]
    tilt_since = (sentinel.clock() - sentinel.tilt_start_time) // 1000 if sentinel.tilt else -1
    fields: list[tuple[str, object]] = [
        ("sentinel_masters", len(sentinel.masters)),
        ("sentinel_tilt", int(sentinel.tilt)),
        ("sentinel_tilt_since_seconds", tilt_since),
        ("sentinel_running_scripts", sentinel.scripts.running),
        ("sentinel_scripts_queue_length", len(sentinel.scripts.jobs)),
        ("sentinel_simulate_failure_flags", sentinel.simulate_failure),
    ]
    for i, master in enumerate(sentinel.masters.values()):
        status = "odown" if master.o_down else "sdown" if master.s_down else "ok"
        fields.append(
            (
                f"master{i}",
                f"name={master.name},status={status},address={sentinel.shown(master)}:{master.port},"
                f"slaves={len(master.replicas)},sentinels={len(master.sentinels) + 1}",
            )
        )
    return fields


# Sentinel's INFO: these sections, all shown by default; unknown names are dropped.
INFO_SECTIONS: dict[str, Callable[[Server], list[tuple[str, object]]]] = {
    **{name: server_info.SECTIONS[name] for name in ("server", "clients", "cpu", "stats")},
    "sentinel": _sentinel_section,
}


def sentinel_role(client: Client, argv: list[bytes]) -> Any:
    return [b"sentinel", [name.encode() for name in sentinel_of(client).masters]]


def sentinel_publish(client: Client, argv: list[bytes]) -> Any:
    if argv[1] != b"__sentinel__:hello":
        raise ReplyError("ERR Only HELLO messages are accepted by Sentinel instances.")
    sentinel_of(client).process_hello(argv[2].decode("utf-8", "replace"))
    return 1


def sentinel_shutdown(client: Client, argv: list[bytes]) -> Any:
    from dragonfly_py.server.server import ShutdownRequest

    client.server.request_shutdown(ShutdownRequest(save=False, now=True, client=client))
    return NO_REPLY


# -- ACL (users of the sentinel itself) --------------------------------------------------------------
def acl_whoami(client: Client, argv: list[bytes]) -> Any:
    return client.user.encode()


def acl_users(client: Client, argv: list[bytes]) -> Any:
    return [name.encode() for name in sorted(client.server.users.by_name)]


def acl_list(client: Client, argv: list[bytes]) -> Any:
    return [line.encode() for line in client.server.users.lines()]


def acl_getuser(client: Client, argv: list[bytes]) -> Any:
    user = client.server.users.by_name.get(argv[2].decode("utf-8", "surrogateescape"))
    if user is None:
        return None
    return Map(
        {
            b"flags": [flag.encode() for flag in user.flags()],
            b"passwords": [digest.encode() for digest in user.passwords],
            b"commands": " ".join(user.commands).encode(),
            b"keys": " ".join(user.keys).encode(),
            b"channels": b"&*" if user.all_channels else " ".join(user.channels).encode(),
            b"selectors": [],
        }
    )


def acl_setuser(client: Client, argv: list[bytes]) -> Any:
    words = [arg.decode("utf-8", "surrogateescape") for arg in argv[2:]]
    client.server.users.setuser(words[0], words[1:])
    sentinel_of(client).save_config()  # beyond Redis: a user made here survives a restart
    return OK


def acl_deluser(client: Client, argv: list[bytes]) -> Any:
    server = client.server
    names = [arg.decode("utf-8", "surrogateescape") for arg in argv[2:]]
    deleted = server.users.deluser(names)
    sentinel_of(client).save_config()
    for other in list(server.clients.values()):  # Redis disconnects the deleted users' clients
        if other.user in names and other is not client and other.conn is not None:
            other.conn.close()
    return deleted


NO_ACL_FILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the "
    "ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) "
    "in order to store users in the Redis configuration."
)


def acl_load_or_save(client: Client, argv: list[bytes]) -> Any:
    raise ReplyError(NO_ACL_FILE)  # a sentinel keeps its users in sentinel.conf, never in an aclfile


def acl_log(client: Client, argv: list[bytes]) -> Any:
    users = client.server.users
    if len(argv) == 3 and argv[2].lower() == b"reset":
        users.log.clear()
        return OK
    count = parse_int(argv[2]) if len(argv) == 3 else 10
    now = time.time()
    return [Map(entry.reply(now)) for entry in users.log[: max(count, 0)]]


def acl_dryrun(client: Client, argv: list[bytes]) -> Any:
    name = argv[2].decode("utf-8", "surrogateescape")
    user = client.server.users.by_name.get(name)
    if user is None:
        raise ReplyError(f"ERR User '{name}' not found")
    target = resolve(argv[3:], client.server.commands)
    if target.__class__ is not Command:
        raise ReplyError(f"ERR Command '{argv[3].decode('utf-8', 'replace')}' not found")
    assert isinstance(target, Command)
    if user.may_run(target.full_name, target.acl_categories):
        return OK
    return f"This user has no permissions to run the '{target.full_name}' command".encode()


def acl_genpass(client: Client, argv: list[bytes]) -> Any:
    bits = parse_int(argv[2]) if len(argv) > 2 else 256
    if not 0 < bits <= 4096:
        raise ReplyError(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
        )
    return secrets.token_hex((bits + 7) // 8)[: (bits + 3) // 4].encode()


def acl_cat(client: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        return [
            c.lstrip("@").encode()
            for c in sorted({c for cmd in client.server.commands.values() for c in cmd.acl_categories})
        ]
    category = "@" + argv[2].decode("utf-8", "replace").lower()
    return [cmd.name.encode() for cmd in client.server.commands.values() if category in cmd.acl_categories]


def acl_help(client: Client, argv: list[bytes]) -> Any:
    return [
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ]


ACL_SUBCOMMANDS: dict[str, tuple[Handler, int]] = {
    "cat": (acl_cat, -2),
    "deluser": (acl_deluser, -3),
    "dryrun": (acl_dryrun, -4),
    "load": (acl_load_or_save, 2),
    "log": (acl_log, -2),
    "save": (acl_load_or_save, 2),
    "genpass": (acl_genpass, -2),
    "getuser": (acl_getuser, 3),
    "help": (acl_help, 2),
    "list": (acl_list, 2),
    "setuser": (acl_setuser, -3),
    "users": (acl_users, 2),
    "whoami": (acl_whoami, 2),
}


# -- the table -------------------------------------------------------------------------------------
def _container(name: str, arity: int, flags: str, subs: dict[str, tuple[Handler, int]]) -> Command:
    owner = Command(name, None, arity, frozenset(flags.split()), "sentinel")
    for sub_name, (handler, sub_arity) in subs.items():
        owner.subcommands[sub_name.encode()] = Command(
            sub_name, handler, sub_arity, frozenset(flags.split()), "sentinel", parent=owner
        )
    return owner


def build_table() -> dict[bytes, Command]:
    """Sentinel mode's command table: Redis 7.0's sentinel commands, nothing else."""
    import dragonfly_py.commands  # noqa: F401  (fills COMMANDS with the shared handlers)

    table: dict[bytes, Command] = {}
    for name in SHARED:
        base = COMMANDS[name]
        subs = {k: v for k, v in base.subcommands.items() if "sentinel" in v.flags and k not in NOT_IN_7_0}
        table[name] = dataclasses.replace(base, subcommands=subs)
    own: dict[bytes, tuple[Handler, int, str]] = {
        b"info": (sentinel_info, -1, "loading stale sentinel only_sentinel"),
        b"role": (sentinel_role, 1, "noscript loading stale fast sentinel"),
        b"publish": (sentinel_publish, 3, "pubsub loading stale fast sentinel only_sentinel"),
        b"shutdown": (sentinel_shutdown, -1, "admin noscript loading stale sentinel"),
    }
    for name, (handler, arity, flags) in own.items():
        table[name] = Command(name.decode(), handler, arity, frozenset(flags.split()), "server")
    table[b"acl"] = _container("acl", -2, "admin noscript loading stale sentinel", ACL_SUBCOMMANDS)
    sentinel_subs = {n.decode(): v for n, v in SUBCOMMANDS.items()}
    table[b"sentinel"] = _container("sentinel", -2, "admin sentinel only_sentinel", sentinel_subs)
    return dict(sorted(table.items()))
