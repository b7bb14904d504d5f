"""The Sentinel state machine without sockets: a fake clock and links that record commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sentinel import election, failover
from sentinel.config import load_sentinel_directives, rewritten_text, sentinel_lines
from sentinel.instance import Instance, Master
from sentinel.link import ErrorReply
from sentinel.monitor import Sentinel


class FakeConnection:
    """Records what Sentinel sends; tests answer the callbacks."""

    def __init__(self, host: str, port: int, on_close: Callable[..., None], on_message: Any = None) -> None:
        self.address = (host, port)
        self.sent: list[tuple[tuple[str, ...], Any]] = []
        self.closed = False
        self.local_ip = "127.0.0.1"
        self.on_close = on_close

    @property
    def pending(self) -> int:
        return len(self.sent)

    def send(self, *args: str, callback: Any = None) -> bool:
        self.sent.append((args, callback))
        return not self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.on_close(self)

    def commands(self) -> list[str]:
        return [" ".join(args) for args, _ in self.sent]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sentinel(clock: Clock) -> Sentinel:
    s = Sentinel(clock=clock, connect=FakeConnection)  # type: ignore[arg-type]
    s.myid = "a" * 40
    s.events = []  # type: ignore[attr-defined]
    s.publish = lambda channel, message: s.events.append((channel, message))  # type: ignore[attr-defined]
    return s


def master_with(sentinel: Sentinel, peers: int = 2, replicas: int = 2, quorum: int = 2) -> Master:
    master = sentinel.create_master("mymaster", "10.0.0.1", 6379, quorum)
    master.down_after = 1000
    for i in range(peers):
        sentinel.add_sentinel(master, "10.0.0.9", 26380 + i, chr(ord("b") + i) * 40)
    for i in range(replicas):
        sentinel.add_replica(master, "10.0.0.2", 6380 + i)
    return master


def channels(sentinel: Sentinel) -> list[str]:
    return [channel for channel, _ in sentinel.events]  # type: ignore[attr-defined]


# -- SDOWN / ODOWN ---------------------------------------------------------------------------------
def test_sdown_after_down_after_milliseconds_without_an_acceptable_pong(sentinel: Sentinel, clock: Clock) -> None:
    master = master_with(sentinel)
    sentinel.reconnect(master)
    ping = next(cb for args, cb in master.link.cc.sent if args == ("PING",))  # type: ignore[union-attr]
    ping("PONG")
    clock.now += 900
    sentinel.check_sdown(master)
    assert not master.s_down
    # -NOAUTH is a reply but not "alive"; -LOADING would be.
    sentinel.send_ping(master)
    master.link.cc.sent[-1][1](ErrorReply("NOAUTH Authentication required."))  # type: ignore[union-attr]
    clock.now += 1101
    sentinel.check_sdown(master)
    assert master.s_down and "+sdown" in channels(sentinel)
    sentinel.send_ping(master)
    master.link.cc.sent[-1][1](ErrorReply("LOADING Redis is loading"))  # type: ignore[union-attr]
    sentinel.check_sdown(master)
    assert not master.s_down and "-sdown" in channels(sentinel)


def test_odown_needs_the_quorum_of_master_down_replies(sentinel: Sentinel, clock: Clock) -> None:
    master = master_with(sentinel, quorum=3)
    master.s_down = True
    peers = list(master.sentinels.values())
    peers[0].master_down = True
    sentinel.check_odown(master)
    assert not master.o_down
    peers[1].master_down = True
    sentinel.check_odown(master)
    assert master.o_down
    assert ("+odown", "master mymaster 10.0.0.1 6379 #quorum 3/3") in sentinel.events  # type: ignore[attr-defined]


# -- votes and leaders ------------------------------------------------------------------------------
def test_one_vote_per_epoch_first_come_first_served(sentinel: Sentinel) -> None:
    master = master_with(sentinel)
    assert election.answer_is_master_down(sentinel, "10.0.0.1", 6379, 5, "b" * 40) == (0, "b" * 40, 5)
    assert sentinel.current_epoch == 5
    # Another candidate in the same epoch gets our existing vote back.
    assert election.answer_is_master_down(sentinel, "10.0.0.1", 6379, 5, "c" * 40) == (0, "b" * 40, 5)
    # A newer epoch gets a new vote; an unknown address gets nothing.
    assert election.answer_is_master_down(sentinel, "10.0.0.1", 6379, 6, "c" * 40) == (0, "c" * 40, 6)
    assert election.answer_is_master_down(sentinel, "10.9.9.9", 1, 7, "c" * 40) == (0, "*", 0)
    assert master.leader_epoch == 6


def test_leader_needs_majority_and_quorum(sentinel: Sentinel) -> None:
    master = master_with(sentinel, peers=4, quorum=2)  # 5 voters: majority is 3
    sentinel.current_epoch = master.failover_epoch = 1
    peers = list(master.sentinels.values())
    peers[0].leader, peers[0].leader_epoch = sentinel.myid, 1
    assert election.get_leader(sentinel, master, 1) is None  # 2 of 5
    peers[1].leader, peers[1].leader_epoch = sentinel.myid, 1
    assert election.get_leader(sentinel, master, 1) == sentinel.myid


def test_we_vote_for_the_peers_favourite(sentinel: Sentinel) -> None:
    master = master_with(sentinel, peers=2)
    sentinel.current_epoch = 3
    for peer in master.sentinels.values():
        peer.leader, peer.leader_epoch = "c" * 40, 3
    assert election.get_leader(sentinel, master, 3) == "c" * 40
    assert master.leader == "c" * 40


# -- replica selection and the failover ------------------------------------------------------------
def ready(sentinel: Sentinel, replica: Instance, priority: int, offset: int, runid: str) -> None:
    replica.link.disconnected = False
    replica.link.last_avail_time = replica.info_refresh = sentinel.clock()
    replica.slave_priority, replica.slave_repl_offset, replica.runid = priority, offset, runid
    replica.synced = True


def test_selection_order_priority_offset_runid(sentinel: Sentinel) -> None:
    master = master_with(sentinel, replicas=0)
    a, b, c, d = (sentinel.add_replica(master, "10.0.0.3", 7000 + i) for i in range(4))
    for replica, args in zip((a, b, c, d), ((10, 5, "z"), (10, 9, "y"), (10, 9, "x"), (0, 99, "w")), strict=True):
        ready(sentinel, replica, *args)  # type: ignore[arg-type]
    assert failover.select_replica(sentinel, master)[0] is c  # priority 0 never; then offset; then run id
    c.s_down = True  # type: ignore[union-attr]
    assert failover.select_replica(sentinel, master)[0] is b


def test_never_promotes_a_replica_that_never_synced(sentinel: Sentinel, clock: Clock) -> None:
    master = master_with(sentinel, replicas=1)
    replica = next(iter(master.replicas.values()))
    ready(sentinel, replica, 100, 0, "r" * 40)
    replica.synced = False
    failover.start_failover(sentinel, master, forced=True)
    failover.advance(sentinel, master)
    assert master.failover_state == "select_slave"
    assert "-failover-unsynced-slave" in channels(sentinel)
    clock.now += master.failover_timeout + 1
    failover.advance(sentinel, master)
    assert master.failover_state == "none" and "-failover-abort-no-good-slave" in channels(sentinel)


def test_failover_runs_to_switch_master(sentinel: Sentinel, clock: Clock) -> None:
    master = master_with(sentinel, peers=0, replicas=2)
    sentinel.reconnect(master)
    first, second = master.replicas.values()
    for replica, offset in ((first, 10), (second, 20)):
        sentinel.reconnect(replica)
        ready(sentinel, replica, 100, offset, "r" * 40)
    failover.start_failover(sentinel, master, forced=True)
    failover.advance(sentinel, master)
    assert master.failover_state == "wait_promotion" and master.promoted_replica is second
    assert second.link.cc.commands()[-7:-1] == [  # type: ignore[union-attr]
        "MULTI",
        "SLAVEOF NO ONE",
        "CONFIG REWRITE",
        "CLIENT KILL TYPE normal",
        "CLIENT KILL TYPE pubsub",
        "EXEC",
    ]
    sentinel.refresh_from_info(second, "run_id:" + "r" * 40 + "\r\nrole:master\r\n")
    assert master.config_epoch == master.failover_epoch
    assert "SLAVEOF 10.0.0.2 6381" in first.link.cc.commands()  # type: ignore[union-attr]
    info = "role:slave\r\nmaster_host:10.0.0.2\r\nmaster_port:6381\r\nmaster_link_status:up\r\n"
    sentinel.refresh_from_info(first, info)
    assert ("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 6381") in sentinel.events  # type: ignore[attr-defined]
    assert (master.ip, master.port) == ("10.0.0.2", 6381)
    assert sorted(master.replicas) == ["10.0.0.1:6379", "10.0.0.2:6380"]


def test_hello_with_newer_config_epoch_switches_master(sentinel: Sentinel) -> None:
    master = master_with(sentinel, peers=0, replicas=1)
    sentinel.process_hello(f"10.0.0.8,26379,{'e' * 40},4,mymaster,10.0.0.2,6380,4")
    assert "e" * 40 in master.sentinels and sentinel.current_epoch == 4
    assert (master.ip, master.port, master.config_epoch) == ("10.0.0.2", 6380, 4)
    assert channels(sentinel)[:3] == ["+sentinel", "+new-epoch", "+config-update-from"]


# -- config file --------------------------------------------------------------------------------------
def test_config_passes_and_in_place_rewrite(sentinel: Sentinel, tmp_path: Path) -> None:
    path = tmp_path / "sentinel.conf"
    original = (
        "# comment kept\n"
        "sentinel down-after-milliseconds setmaster 20000\n"
        "sentinel parallel-syncs setmaster 2\n"
        "sentinel monitor setmaster 10.0.0.1 30000 2\n"
        "\n"
        "port 26379\n"
    )
    path.write_text(original)
    load_sentinel_directives(sentinel, path)  # per-master options before their monitor line
    master = sentinel.masters["setmaster"]
    assert (master.down_after, master.parallel_syncs) == (20000, 2)
    text = rewritten_text(original, sentinel_lines(sentinel))
    lines = text.splitlines()
    assert lines[:5] == [
        "# comment kept",
        "sentinel down-after-milliseconds setmaster 20000",
        "sentinel parallel-syncs setmaster 2",
        "sentinel monitor setmaster 10.0.0.1 30000 2",
        "",
    ]
    assert lines[6] == "# Generated by CONFIG REWRITE"
    assert f"sentinel myid {sentinel.myid}" in lines and "sentinel current-epoch 0" in lines


def test_config_errors_name_file_and_line(sentinel: Sentinel, tmp_path: Path) -> None:
    from dragonfly_py.config import ConfigFileError

    path = tmp_path / "sentinel.conf"
    path.write_text("sentinel monitor m 10.0.0.1 6379 0\n")
    with pytest.raises(ConfigFileError, match=r"line 1[\s\S]*Quorum must be 1 or greater"):
        load_sentinel_directives(sentinel, path)
    path.write_text("port 1\nsentinel bogus x\n")
    with pytest.raises(ConfigFileError, match=r"at line 2[\s\S]*Unrecognized sentinel configuration statement"):
        load_sentinel_directives(Sentinel(), path)


# -- TILT and scripts ----------------------------------------------------------------------------------
def test_clock_jump_enters_tilt_and_freezes_judgement(sentinel: Sentinel, clock: Clock) -> None:
    master = master_with(sentinel, peers=0, replicas=0)
    sentinel.tick()
    clock.now += 5000  # a stalled loop: the other instances' silence means nothing now
    sentinel.tick()
    assert sentinel.tilt and ("+tilt", "#tilt mode entered") in sentinel.events  # type: ignore[attr-defined]
    assert not master.s_down
    assert election.answer_is_master_down(sentinel, "10.0.0.1", 6379, 0, "*")[0] == 0
    for _ in range(31):
        clock.now += 1000
        sentinel.tick()
    assert not sentinel.tilt and "-tilt" in channels(sentinel)
    assert master.s_down  # judged again once TILT is over


def test_notification_script_gets_event_and_text(sentinel: Sentinel, tmp_path: Path, clock: Clock) -> None:
    import time

    out = tmp_path / "args"
    script = tmp_path / "notify.sh"
    script.write_text(f'#!/bin/sh\necho "$@" > {out}\n')
    script.chmod(0o755)
    master = master_with(sentinel, peers=0, replicas=0)
    master.notification_script = str(script)
    sentinel.event("warning", "+sdown", master)
    sentinel.event("notice", "+slave", master)  # notice level: no script
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        sentinel.scripts.run()
        time.sleep(0.02)
    assert out.read_text() == "+sdown master mymaster 10.0.0.1 6379\n"
    while sentinel.scripts.jobs and time.monotonic() < deadline:
        sentinel.scripts.run()
        time.sleep(0.02)
    assert sentinel.scripts.jobs == []
