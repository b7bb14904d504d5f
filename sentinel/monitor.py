"""The Sentinel: monitored instances, their links, INFO/PING/hello, SDOWN/ODOWN and the timer.

Elections live in ``election.py``, replica selection and the failover state machine in
``failover.py``; both act on the objects kept here.  Everything runs on the event loop, driven
by :meth:`Sentinel.tick`; the clock is injected so unit tests can use a fake one.
"""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from dragonfly_py.logs import get_logger
from sentinel import election, failover
from sentinel.instance import Instance, InstanceLink, Master, Timing, replica_key
from sentinel.link import Connection, ErrorReply
from sentinel.scripts import ScriptRunner

HELLO_CHANNEL = "__sentinel__:hello"
ALIVE_REPLIES = ("PONG", "LOADING", "MASTERDOWN")
# Faster than Redis where it costs nothing in safety: probe a little more often so SDOWN is
# declared close to down-after-milliseconds, and poll INFO briskly while a failover needs it.
FAST_PING_FLOOR = 100
FAST_INFO_PERIOD = 100
SIMULATE_CRASH_AFTER_ELECTION = 1
SIMULATE_CRASH_AFTER_PROMOTION = 2

Connector = Callable[..., Connection]


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class Sentinel:
    def __init__(self, clock: Callable[[], int] = monotonic_ms, connect: Connector = Connection.open) -> None:
        self.clock = clock
        self.connect = connect
        self.log = get_logger("sentinel")
        self.myid = ""
        self.current_epoch = 0
        self.masters: dict[str, Master] = {}
        self.timing = Timing()
        self.tilt = False
        self.tilt_start_time = 0
        self.previous_time = clock()
        self.port = 26379
        self.announce_ip = ""
        self.announce_port = 0
        self.deny_scripts_reconfig = True
        self.resolve_hostnames = False
        self.announce_hostnames = False
        self.sentinel_user = ""
        self.sentinel_pass = ""
        self.requirepass = ""
        self.simulate_failure = 0
        self.scripts = ScriptRunner(self)
        self.publish: Callable[[str, str], Any] = lambda channel, message: None
        self.save_config: Callable[[], bool] = lambda: True
        self.exit: Callable[[int], None] = os._exit

    # -- events and config --------------------------------------------------------------------
    def event(self, level: str, kind: str, instance: Instance | None, text: str = "") -> None:
        """Log an event, publish it on the channel of its name and run the notification script."""
        message = instance.describe(self.announce_hostnames) if instance is not None else ""
        if text:
            message = f"{message} {text}" if message else text
        log = {"warning": self.log.warning, "notice": self.log.info, "verbose": self.log.debug}.get(
            level, self.log.debug
        )
        log(f"{kind} {message}")
        if level != "debug":
            self.publish(kind, message)
        if level == "warning" and instance is not None:
            master = instance if isinstance(instance, Master) else instance.master
            if master is not None and master.notification_script:
                self.scripts.schedule([master.notification_script, kind, message])

    def flush_config(self) -> bool:
        ok = self.save_config()
        if not ok:
            self.log.warning("Sentinel config rewrite failed")
        return ok

    def ensure_myid(self) -> None:
        if not self.myid:
            self.myid = secrets.token_hex(20)
            self.flush_config()
        self.log.info(f"Sentinel ID is {self.myid}")

    # -- instances ----------------------------------------------------------------------------
    def resolve(self, host: str) -> tuple[str, str] | None:
        """(ip, hostname) for an instance address: an IP as it is; a hostname only with
        resolve-hostnames, resolved once, now, as Redis does.  None when it is neither."""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return host, ""
        if not self.resolve_hostnames:
            return None
        try:
            found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        return (str(found[0][4][0]), host) if found else None

    def valid_address(self, host: str) -> bool:
        return self.resolve(host) is not None

    def shown(self, instance: Instance) -> str:
        """An instance's address as clients and peers see it (announce-hostnames)."""
        return instance.announced_ip(self.announce_hostnames)

    def create_master(self, name: str, host: str, port: int, quorum: int) -> Master:
        """The caller checked the address with valid_address()."""
        now = self.clock()
        ip, hostname = self.resolve(host) or (host, "")
        master = Master(
            "master",
            name,
            ip,
            port,
            hostname=hostname,
            quorum=quorum,
            down_after=self.timing.default_down_after,
            failover_timeout=self.timing.default_failover_timeout,
        )
        self._fresh_link(master, now)
        self.masters[name] = master
        return master

    def add_replica(self, master: Master, host: str, port: int) -> Instance | None:
        """None when known already or when the address is not usable (see resolve())."""
        key = replica_key(host, port)
        if key in master.replicas:  # checked first: INFO lists known replicas every period
            return None
        address = self.resolve(host)
        if address is None:
            return None
        ip, hostname = address
        replica = Instance("slave", key, ip, port, master=master, hostname=hostname, down_after=master.down_after)
        self._fresh_link(replica, self.clock())
        master.replicas[key] = replica
        return replica

    def add_sentinel(self, master: Master, host: str, port: int, runid: str) -> Instance:
        ip, hostname = self.resolve(host) or (host, "")
        peer = Instance(
            "sentinel", runid, ip, port, master=master, hostname=hostname, runid=runid, down_after=master.down_after
        )
        shared = self._link_of_peer(runid, ip, port)
        if shared is not None:
            shared.refcount += 1
            peer.link = shared
        else:
            self._fresh_link(peer, self.clock())
        master.sentinels[runid] = peer
        return peer

    def _link_of_peer(self, runid: str, ip: str, port: int) -> InstanceLink | None:
        for master in self.masters.values():
            peer = master.sentinels.get(runid)
            if peer is not None and peer.addr_matches(ip, port):
                return peer.link
        return None

    def _fresh_link(self, instance: Instance, now: int) -> None:
        link = instance.link
        link.act_ping_time = link.last_avail_time = link.last_pong_time = now
        instance.role_reported_time = instance.slave_conf_change_time = now

    def release(self, instance: Instance) -> None:
        link = instance.link
        link.refcount -= 1
        if link.refcount <= 0:
            link.close()

    def remove_master(self, master: Master) -> None:
        self.reset_master(master, reset_sentinels=True, announce=False)
        self.release(master)
        del self.masters[master.name]

    def reset_master(self, master: Master, reset_sentinels: bool, announce: bool = True) -> None:
        """SENTINEL RESET (and the first half of a switch): forget replicas, flags and the vote."""
        for replica in master.replicas.values():
            self.release(replica)
        master.replicas.clear()
        if reset_sentinels:
            for peer in master.sentinels.values():
                self.release(peer)
            master.sentinels.clear()
        master.link.close()
        master.s_down = master.o_down = master.master_down = master.script_kill_sent = False
        master.master_reboot = False
        failover.clear_failover(master)
        master.leader = ""
        master.failover_start_time = 0
        master.runid = ""
        master.info = None
        master.info_refresh = 0
        master.role_reported = "master"
        master.slave_master_host = ""
        master.master_has_data = False
        self._fresh_link(master, self.clock())
        # Beyond Redis: the reconnect backoff was for the old address. Kept, it delays the first
        # PONG of a new master by up to a second, and with a short down-after that is a new SDOWN.
        master.link.last_ping_time = master.link.last_reconn_time = 0
        if announce:
            self.event("warning", "+reset-master", master)

    def reset_master_and_change_address(self, master: Master, host: str, port: int) -> None:
        """+switch-master: the promoted replica becomes the master; the rest, old master included, replicas."""
        ip, hostname = self.resolve(host) or (host, "")
        addresses = [(r.hostname or r.ip, r.port) for r in master.replicas.values() if not r.addr_matches(host, port)]
        if not master.addr_matches(host, port):
            addresses.append((master.hostname or master.ip, master.port))
        self.reset_master(master, reset_sentinels=False, announce=False)
        master.ip, master.port, master.hostname = ip, port, hostname
        master.s_down_since = master.o_down_since = 0
        for replica_ip, replica_port in addresses:
            replica = self.add_replica(master, replica_ip, replica_port)
            if replica is not None:
                self.event("notice", "+slave", replica)
        self.flush_config()

    def master_by_addr(self, ip: str, port: int) -> Master | None:
        for master in self.masters.values():
            if master.addr_matches(ip, port):
                return master
        return None

    # -- links --------------------------------------------------------------------------------
    def _auth_args(self, instance: Instance) -> list[str]:
        if instance.kind == "sentinel":
            user, password = (self.sentinel_user, self.sentinel_pass) if self.sentinel_pass else ("", self.requirepass)
        else:
            master = instance.master or instance
            assert isinstance(master, Master)
            user, password = master.auth_user, master.auth_pass
        if not password:
            return []
        return [user, password] if user else [password]

    def _command(self, instance: Instance, name: str) -> str:
        master = instance if isinstance(instance, Master) else instance.master
        return master.command_name(name) if master is not None else name

    def reconnect(self, instance: Instance) -> None:
        link = instance.link
        if instance.port == 0 or not link.disconnected:
            return
        now = self.clock()
        if now - link.last_reconn_time < self.timing.ping_period:
            return
        link.last_reconn_time = now
        auth = self._auth_args(instance)
        prefix = f"sentinel-{self.myid[:8]}"
        if link.cc is None:
            link.cc = self.connect(instance.ip, instance.port, lambda conn: self._link_closed(link, conn))
            link.cc_conn_time = now
            if auth:
                link.cc.send(self._command(instance, "AUTH"), *auth)
            link.cc.send(self._command(instance, "CLIENT"), "SETNAME", f"{prefix}-cmd")
            self.send_ping(instance)
        if instance.kind != "sentinel" and link.pc is None:
            link.pc = self.connect(
                instance.ip,
                instance.port,
                lambda conn: self._link_closed(link, conn),
                lambda reply: self._pubsub_message(instance, reply),
            )
            link.pc_conn_time = link.pc_last_activity = now
            if auth:
                link.pc.send(self._command(instance, "AUTH"), *auth)
            link.pc.send(self._command(instance, "CLIENT"), "SETNAME", f"{prefix}-pubsub")
            link.pc.send(self._command(instance, "SUBSCRIBE"), HELLO_CHANNEL)
        link.disconnected = link.cc is None or (instance.kind != "sentinel" and link.pc is None)

    def _link_closed(self, link: InstanceLink, conn: Connection) -> None:
        if link.cc is conn:
            link.cc = None
        elif link.pc is conn:
            link.pc = None
        else:
            return
        link.disconnected = True

    def send_ping(self, instance: Instance) -> bool:
        link = instance.link
        if link.cc is None or not link.cc.send(
            self._command(instance, "PING"), callback=lambda reply: self._ping_reply(instance, reply)
        ):
            return False
        now = self.clock()
        link.last_ping_time = now
        if link.act_ping_time == 0:
            link.act_ping_time = now
        return True

    def _ping_reply(self, instance: Instance, reply: Any) -> None:
        link = instance.link
        now = self.clock()
        link.last_pong_time = now
        text = str(reply) if isinstance(reply, str | ErrorReply) else ""
        if text.startswith(ALIVE_REPLIES):
            link.last_avail_time = now
            link.act_ping_time = 0
            if isinstance(instance, Master) and text.startswith("PONG"):
                instance.master_reboot = False
        elif (
            isinstance(reply, ErrorReply)
            and text.startswith("BUSY")
            and instance.s_down
            and not instance.script_kill_sent
            and link.cc is not None
        ):
            link.cc.send(self._command(instance, "SCRIPT"), "KILL")
            instance.script_kill_sent = True

    def send_info(self, instance: Instance) -> None:
        assert instance.link.cc is not None
        instance.link.cc.send(self._command(instance, "INFO"), callback=lambda reply: self._info_reply(instance, reply))

    def _info_reply(self, instance: Instance, reply: Any) -> None:
        instance.link.last_pong_time = self.clock()
        if isinstance(reply, str):
            self.refresh_from_info(instance, reply)

    def send_slaveof(self, instance: Instance, address: tuple[str, int] | None) -> bool:
        """Redis's reconfiguration transaction, with INFO pipelined after it so the result shows at once."""
        cc = instance.link.cc
        if instance.link.disconnected or cc is None:
            return False
        target = ("NO", "ONE") if address is None else (address[0], str(address[1]))
        cc.send(self._command(instance, "MULTI"))
        cc.send(self._command(instance, "SLAVEOF"), *target)
        cc.send(self._command(instance, "CONFIG"), "REWRITE")
        cc.send(self._command(instance, "CLIENT"), "KILL", "TYPE", "normal")
        cc.send(self._command(instance, "CLIENT"), "KILL", "TYPE", "pubsub")
        cc.send(self._command(instance, "EXEC"))
        self.send_info(instance)
        return True

    # -- periodic commands -------------------------------------------------------------------
    def info_period(self, instance: Instance) -> int:
        master = instance.master
        if instance.kind == "slave" and master is not None:
            if instance.promoted or instance.reconf_sent or instance.reconf_inprog:
                return FAST_INFO_PERIOD
            if master.o_down or master.failover_in_progress or instance.master_link_down_time:
                return 1000
        return self.timing.info_period

    def ping_period(self, instance: Instance) -> int:
        period = min(instance.down_after, self.timing.ping_period)
        return min(period, max(FAST_PING_FLOOR, instance.down_after // 10))

    def send_periodic(self, instance: Instance) -> None:
        link = instance.link
        if link.disconnected or link.cc is None:
            return
        if link.pending_commands >= 100 * link.refcount:
            return
        now = self.clock()
        if instance.kind != "sentinel" and (
            instance.info_refresh == 0 or now - instance.info_refresh > self.info_period(instance)
        ):
            self.send_info(instance)
        ping_period = self.ping_period(instance)
        if now - link.last_pong_time > ping_period and now - link.last_ping_time > ping_period // 2:
            self.send_ping(instance)
        if now - instance.last_pub_time > self.timing.publish_period:
            self.send_hello(instance)

    # -- hello --------------------------------------------------------------------------------
    def send_hello(self, instance: Instance) -> bool:
        master = instance if isinstance(instance, Master) else instance.master
        cc = instance.link.cc
        if master is None or cc is None or instance.link.disconnected:
            return False
        announce_ip = self.announce_ip or cc.local_ip
        if not announce_ip:
            return False  # still connecting: the local address is not known yet
        ip, port = master.current_address(self.announce_hostnames)
        payload = (
            f"{announce_ip},{self.announce_port or self.port},{self.myid},{self.current_epoch},"
            f"{master.name},{ip},{port},{master.config_epoch}"
        )

        def published(reply: Any) -> None:
            if not isinstance(reply, ErrorReply):
                instance.last_pub_time = self.clock()

        return cc.send(self._command(instance, "PUBLISH"), HELLO_CHANNEL, payload, callback=published)

    def force_hello(self, master: Master) -> None:
        stale = self.clock() - self.timing.publish_period - 1
        for instance in (master, *master.replicas.values(), *master.sentinels.values()):
            instance.last_pub_time = min(instance.last_pub_time, stale)

    def _pubsub_message(self, instance: Instance, reply: Any) -> None:
        instance.link.pc_last_activity = self.clock()
        if not (isinstance(reply, list) and len(reply) == 3 and reply[0] == "message"):
            return
        payload = reply[2]
        if isinstance(payload, str) and self.myid not in payload:
            self.process_hello(payload)

    def process_hello(self, payload: str) -> None:
        """A peer's hello, from Pub/Sub or PUBLISHed to us directly: peers, epochs, newer configs."""
        tokens = payload.split(",")
        if len(tokens) != 8:
            return
        ip, port_text, runid, epoch_text, name, master_ip, master_port_text, config_epoch_text = tokens
        master = self.masters.get(name)
        try:
            port, epoch = int(port_text), int(epoch_text)
            master_port, config_epoch = int(master_port_text), int(config_epoch_text)
        except ValueError:
            return
        if master is None:
            return
        peer = master.sentinels.get(runid)
        if peer is not None and not peer.addr_matches(ip, port):
            peer = None
        if peer is None:
            peer = self._learn_peer(master, ip, port, runid)
        if epoch > self.current_epoch:
            self.current_epoch = epoch
            self.flush_config()
            self.event("warning", "+new-epoch", None, str(epoch))
        if master.config_epoch < config_epoch:
            master.config_epoch = config_epoch
            if not master.addr_matches(master_ip, master_port) and self.valid_address(master_ip):
                old_ip, old_port = self.shown(master), master.port
                self.event("warning", "+config-update-from", peer)
                self.event(
                    "warning",
                    "+switch-master",
                    None,
                    f"{master.name} {old_ip} {old_port} {master_ip} {master_port}",
                )
                self.reset_master_and_change_address(master, master_ip, master_port)
                self.client_reconfig(master, "observer", (old_ip, old_port), (master_ip, master_port))
        peer.last_hello_time = self.clock()

    def _learn_peer(self, master: Master, ip: str, port: int, runid: str) -> Instance:
        switched = 0
        for other in list(master.sentinels.values()):
            if other.runid == runid:
                self.release(other)
                del master.sentinels[other.name]
                switched += 1
        if switched:
            self.event("notice", "+sentinel-address-switch", master, f"ip {ip} port {port} for {runid}")
        else:
            for other in list(master.sentinels.values()):
                if other.addr_matches(ip, port):
                    self.event("notice", "+sentinel-invalid-addr", other)
                    self._forget_sentinel_everywhere(other.runid)
        peer = self.add_sentinel(master, ip, port, runid)
        if not switched:
            self.event("notice", "+sentinel", peer)
        updated = 0
        for other_master in self.masters.values():
            other = other_master.sentinels.get(runid)
            if other is not None and other is not peer and not other.addr_matches(ip, port):
                self.release(other)
                other_master.sentinels[runid] = Instance(
                    "sentinel", runid, ip, port, master=other_master, runid=runid, link=peer.link
                )
                peer.link.refcount += 1
                updated += 1
        if updated:
            self.event("notice", "+sentinel-address-update", peer, f"{updated} additional matching instances")
        self.flush_config()
        return peer

    def _forget_sentinel_everywhere(self, runid: str) -> None:
        for master in self.masters.values():
            peer = master.sentinels.pop(runid, None)
            if peer is not None:
                self.release(peer)

    def client_reconfig(self, master: Master, role: str, old: tuple[str, int], new: tuple[str, int]) -> None:
        if master.client_reconfig_script:
            argv = [master.client_reconfig_script, master.name, role, "start", old[0], str(old[1])]
            self.scripts.schedule([*argv, new[0], str(new[1])])

    # -- INFO ---------------------------------------------------------------------------------
    def refresh_from_info(self, instance: Instance, text: str) -> None:
        now = self.clock()
        instance.info = text
        instance.master_link_down_time = 0
        role = ""
        is_master_view = isinstance(instance, Master)
        for line in text.split("\r\n"):
            if line.startswith("run_id:") and len(line) >= 47:
                self._check_run_id(instance, line[7:47], now)
            elif is_master_view and line.startswith("slave") and len(line) >= 7 and line[5].isdigit():
                self._discover_replica(instance, line)  # type: ignore[arg-type]
            elif line.startswith("master_link_down_since_seconds:"):
                instance.master_link_down_time = _int(line.partition(":")[2]) * 1000
            elif line == "role:master":
                role = "master"
            elif line == "role:slave":
                role = "slave"
            elif is_master_view and line.startswith("db") and ":keys=" in line:
                instance.master_has_data = True  # type: ignore[attr-defined]
            elif role == "slave":
                self._replica_field(instance, line, now)
        instance.info_refresh = now
        if role and role != instance.role_reported:
            instance.role_reported = role
            instance.role_reported_time = now
            if role == "slave":
                instance.slave_conf_change_time = now
            consistent = role == instance.kind
            self.event(
                "verbose", "+role-change" if consistent else "-role-change", instance, f"new reported role is {role}"
            )
        if self.tilt or instance.kind != "slave":
            return
        failover.act_on_replica_info(self, instance, role)

    def _check_run_id(self, instance: Instance, runid: str, now: int) -> None:
        if not instance.runid:
            instance.runid = runid
        elif instance.runid != runid:
            instance.runid = runid
            self.event("notice", "+reboot", instance)
            if isinstance(instance, Master) and instance.reboot_down_after_period:
                instance.master_reboot = True
                instance.reboot_since = now

    def _discover_replica(self, master: Master, line: str) -> None:
        body = line.partition(":")[2]
        if "ip=" in body:
            values = dict(part.partition("=")[::2] for part in body.split(","))
            ip, port_text = values.get("ip", ""), values.get("port", "")
        else:
            parts = body.split(",")
            if len(parts) < 2:
                return
            ip, port_text = parts[0], parts[1]
        port = _int(port_text)
        if not ip or port <= 0:
            return
        replica = self.add_replica(master, ip, port)  # None: known already, or not a usable address
        if replica is not None:
            self.event("notice", "+slave", replica)
            self.flush_config()

    def _replica_field(self, instance: Instance, line: str, now: int) -> None:
        key, _, value = line.partition(":")
        if key == "master_host":
            if value.lower() != instance.slave_master_host.lower():
                instance.slave_master_host = value
                instance.slave_conf_change_time = now
        elif key == "master_port":
            port = _int(value)
            if port != instance.slave_master_port:
                instance.slave_master_port = port
                instance.slave_conf_change_time = now
        elif key == "master_link_status":
            instance.master_link_ok = value.lower() == "up"
        elif key == "slave_priority":
            instance.slave_priority = _int(value)
        elif key == "slave_repl_offset":
            instance.slave_repl_offset = _int(value)
        elif key == "replica_announced":
            instance.replica_announced = value.strip() != "0"

    # -- SDOWN / ODOWN ------------------------------------------------------------------------
    def check_sdown(self, instance: Instance) -> None:
        link, now, timing = instance.link, self.clock(), self.timing
        half = instance.down_after // 2
        if (
            link.cc is not None
            and now - link.cc_conn_time > timing.min_link_reconnect_period
            and link.act_ping_time
            and now - link.act_ping_time > half
            and now - link.last_pong_time > half
        ):
            link.cc.close()
        if (
            link.pc is not None
            and now - link.pc_conn_time > timing.min_link_reconnect_period
            and now - link.pc_last_activity > timing.publish_period * 3
        ):
            link.pc.close()
        if link.act_ping_time:
            elapsed = now - link.act_ping_time
        elif link.disconnected:
            elapsed = now - link.last_avail_time
        else:
            elapsed = 0
        down = elapsed > instance.down_after
        if isinstance(instance, Master):
            down = down or (
                instance.role_reported == "slave"
                and now - instance.role_reported_time > instance.down_after + 2 * timing.info_period
            )
            down = down or (instance.master_reboot and now - instance.reboot_since > instance.reboot_down_after_period)
        if down and not instance.s_down:
            instance.s_down = True
            instance.s_down_since = now
            self.event("warning", "+sdown", instance)
        elif not down and instance.s_down:
            instance.s_down = False
            instance.script_kill_sent = False
            self.event("warning", "-sdown", instance)

    def check_odown(self, master: Master) -> None:
        votes = 0
        if master.s_down:
            votes = 1 + sum(1 for peer in master.sentinels.values() if peer.master_down)
        if master.s_down and votes >= master.quorum:
            if not master.o_down:
                master.o_down = True
                master.o_down_since = self.clock()
                self.event("warning", "+odown", master, f"#quorum {votes}/{master.quorum}")
        elif master.o_down:
            master.o_down = False
            self.event("warning", "-odown", master)

    # -- the timer ----------------------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock()
        self._check_tilt(now)
        switching: Master | None = None
        for master in list(self.masters.values()):
            self.handle_instance(master)
            for replica in list(master.replicas.values()):
                self.handle_instance(replica)
            for peer in list(master.sentinels.values()):
                self.handle_instance(peer)
            if master.failover_state == "update_config":
                switching = master
        if switching is not None:
            failover.switch_to_promoted(self, switching)
        self.scripts.run()

    def _check_tilt(self, now: int) -> None:
        delta = now - self.previous_time
        if delta < 0 or delta > self.timing.tilt_trigger:
            self.tilt = True
            self.tilt_start_time = now
            self.event("warning", "+tilt", None, "#tilt mode entered")
        self.previous_time = now

    def handle_instance(self, instance: Instance) -> None:
        self.reconnect(instance)
        self.send_periodic(instance)
        if self.tilt:
            if self.clock() - self.tilt_start_time < self.timing.tilt_period:
                return
            self.tilt = False
            self.event("warning", "-tilt", None, "#tilt mode exited")
        self.check_sdown(instance)
        if isinstance(instance, Master):
            self.check_odown(instance)
            if failover.start_failover_if_needed(self, instance):
                election.ask_master_state(self, instance, force=True)
            failover.advance(self, instance)
            election.ask_master_state(self, instance, force=False)

    def close_links(self) -> None:
        for master in self.masters.values():
            for instance in (master, *master.replicas.values(), *master.sentinels.values()):
                instance.link.close()

    def peer_answered(self, master: Master) -> None:
        """A peer's down state or vote arrived: ODOWN and the election need not wait for the tick."""
        if self.tilt or not master.s_down:
            return
        self.check_odown(master)
        if failover.start_failover_if_needed(self, master):
            election.ask_master_state(self, master, force=True)
        if master.failover_state == "wait_start":
            failover.advance_from_reply(self, master)

    def next_tick_delay(self) -> float:
        """10-19 Hz, re-randomised every tick so sentinels started together drift apart; sooner
        when a master's down-after-milliseconds expires before that, so SDOWN is not late."""
        delay = 1000 / (10 + random.randint(0, 9))
        now = self.clock()
        for master in self.masters.values():
            link = master.link
            if master.s_down or not (link.act_ping_time or link.disconnected):
                continue
            since = link.act_ping_time or link.last_avail_time
            delay = min(delay, max(1, since + master.down_after + 1 - now))
        return delay / 1000


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return 0
