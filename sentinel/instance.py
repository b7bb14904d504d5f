"""What Sentinel knows about one monitored master, its replicas and its peer sentinels.

Plain objects: timers are milliseconds of the sentinel's clock, so unit tests can drive the
state machine with a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sentinel.link import Connection

INFO_VALIDITY_FACTOR = 5
FAILOVER_STATES = (
    "none",
    "wait_start",
    "select_slave",
    "send_slaveof_noone",
    "wait_promotion",
    "reconf_slaves",
    "update_config",
)


@dataclass
class Timing:
    """Sentinel's timing knobs (SENTINEL DEBUG shows and changes them; never persisted)."""

    info_period: int = 10_000
    ping_period: int = 1_000
    ask_period: int = 1_000
    publish_period: int = 2_000
    default_down_after: int = 30_000
    default_failover_timeout: int = 180_000
    tilt_trigger: int = 2_000
    tilt_period: int = 30_000
    slave_reconf_timeout: int = 10_000
    min_link_reconnect_period: int = 15_000
    election_timeout: int = 10_000
    script_max_runtime: int = 60_000
    script_retry_delay: int = 30_000

    @staticmethod
    def names() -> list[str]:
        return [f.name.replace("_", "-") for f in fields(Timing)]


@dataclass(eq=False)
class InstanceLink:
    """The connections to one instance; peer sentinels share one link across masters."""

    refcount: int = 1
    cc: Connection | None = None  # commands
    pc: Connection | None = None  # pub/sub (masters and replicas only)
    cc_conn_time: int = 0
    pc_conn_time: int = 0
    pc_last_activity: int = 0
    last_reconn_time: int = 0
    act_ping_time: int = 0  # when the outstanding PING was sent, 0 when none is
    last_ping_time: int = 0  # when the last PING was sent
    last_avail_time: int = 0  # last acceptable PING reply
    last_pong_time: int = 0  # last reply of any kind
    disconnected: bool = True

    @property
    def pending_commands(self) -> int:
        return self.cc.pending if self.cc is not None else 0

    def close(self) -> None:
        for conn in (self.cc, self.pc):
            if conn is not None:
                conn.close()
        self.cc = self.pc = None
        self.disconnected = True


@dataclass(eq=False)
class Instance:
    kind: str  # master | slave | sentinel
    name: str
    ip: str  # resolved: what we connect to and compare
    port: int
    master: Master | None = None
    hostname: str = ""  # the name it was given by, with resolve-hostnames; "" for an IP
    runid: str = ""
    link: InstanceLink = field(default_factory=InstanceLink)
    down_after: int = 30_000
    s_down: bool = False
    o_down: bool = False
    s_down_since: int = 0
    o_down_since: int = 0
    script_kill_sent: bool = False
    # INFO
    info: str | None = None
    info_refresh: int = 0
    role_reported: str = ""
    role_reported_time: int = 0
    slave_conf_change_time: int = 0
    # replicas (from their INFO)
    master_link_down_time: int = 0
    slave_master_host: str = ""
    slave_master_port: int = 0
    master_link_ok: bool = False
    slave_priority: int = 100
    slave_repl_offset: int = 0
    replica_announced: bool = True
    synced: bool = False  # seen with its link up to the current master since it was added
    # replicas during a failover
    promoted: bool = False
    reconf_sent: bool = False
    reconf_inprog: bool = False
    reconf_done: bool = False
    slave_reconf_sent_time: int = 0
    # peer sentinels
    master_down: bool = False  # it said the master is down
    leader: str = ""  # its vote, from its is-master-down reply
    leader_epoch: int = 0
    last_hello_time: int = 0
    last_master_down_reply_time: int = 0
    last_ask_time: int = 0
    last_pub_time: int = 0  # our last successful hello to this instance

    def announced_ip(self, hostnames: bool) -> str:
        """The address shown to clients and peers: the hostname with announce-hostnames."""
        return self.hostname if hostnames and self.hostname else self.ip

    def describe(self, hostnames: bool = False) -> str:
        """Redis's event text: ``<type> <name> <ip> <port>[ @ <master> <ip> <port>]``."""
        text = f"{self.kind} {self.name} {self.announced_ip(hostnames)} {self.port}"
        if self.master is not None:
            text += f" @ {self.master.name} {self.master.announced_ip(hostnames)} {self.master.port}"
        return text

    def flags(self) -> list[str]:
        flags = []
        if self.s_down:
            flags.append("s_down")
        if self.o_down:
            flags.append("o_down")
        flags.append(self.kind)
        if self.link.disconnected:
            flags.append("disconnected")
        if self.master_down:
            flags.append("master_down")
        if isinstance(self, Master) and self.failover_in_progress:
            flags.append("failover_in_progress")
        for name in ("promoted", "reconf_sent", "reconf_inprog", "reconf_done"):
            if getattr(self, name):
                flags.append(name)
        if isinstance(self, Master) and self.force_failover:
            flags.append("force_failover")
        if self.script_kill_sent:
            flags.append("script_kill_sent")
        return flags

    def addr_matches(self, host: str, port: int) -> bool:
        """Same port and the same IP or hostname (a replica may report its master either way)."""
        host = host.lower()
        return self.port == port and (
            self.ip.lower() == host or (bool(self.hostname) and self.hostname.lower() == host)
        )


@dataclass(eq=False)
class Master(Instance):
    quorum: int = 2
    failover_timeout: int = 180_000
    parallel_syncs: int = 1
    auth_pass: str = ""
    auth_user: str = ""
    notification_script: str = ""
    client_reconfig_script: str = ""
    reboot_down_after_period: int = 0
    reboot_since: int = 0
    master_reboot: bool = False
    renamed_commands: dict[str, str] = field(default_factory=dict)
    config_epoch: int = 0
    leader: str = ""  # our vote for this master's failover
    leader_epoch: int = 0
    replicas: dict[str, Instance] = field(default_factory=dict)  # by "ip:port"
    sentinels: dict[str, Instance] = field(default_factory=dict)  # by run id
    failover_in_progress: bool = False
    force_failover: bool = False
    failover_state: str = "none"
    failover_epoch: int = 0
    failover_start_time: int = 0
    failover_state_change_time: int = 0
    failover_delay_logged: int = 0
    promoted_replica: Instance | None = None
    unsynced_reported: set[str] = field(default_factory=set)  # replicas held back this failover
    master_has_data: bool = False  # its INFO listed keys: an empty replica must not replace it

    def command_name(self, name: str) -> str:
        """The name Sentinel sends for a command (``sentinel rename-command``)."""
        return self.renamed_commands.get(name.lower(), name)

    def current_address(self, hostnames: bool = False) -> tuple[str, int]:
        """The promoted replica's address once the failover reached reconf_slaves."""
        promoted = self.promoted_replica
        if promoted is not None and FAILOVER_STATES.index(self.failover_state) >= FAILOVER_STATES.index(
            "reconf_slaves"
        ):
            return promoted.announced_ip(hostnames), promoted.port
        return self.announced_ip(hostnames), self.port


def replica_key(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
