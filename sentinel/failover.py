"""Replica selection and the failover state machine, as Redis Sentinel 7.0 runs them.

One addition to Redis: a replica that never completed a sync with the current master (or has
an offset of 0 while the master held data) is never promoted; the failover waits instead and
says why, because promoting it would wipe every acknowledged write.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sentinel import election
from sentinel.instance import Instance, Master

if TYPE_CHECKING:
    from sentinel.monitor import Sentinel


def clear_failover(master: Master) -> None:
    master.failover_in_progress = master.force_failover = False
    master.failover_state = "none"
    master.unsynced_reported.clear()
    if master.promoted_replica is not None:
        master.promoted_replica.promoted = False
        master.promoted_replica = None
    for replica in master.replicas.values():
        replica.reconf_sent = replica.reconf_inprog = replica.reconf_done = False


def start_failover_if_needed(sentinel: Sentinel, master: Master) -> bool:
    if not master.o_down or master.failover_in_progress:
        return False
    if sentinel.clock() - master.failover_start_time < master.failover_timeout * 2:
        if master.failover_delay_logged != master.failover_start_time:
            master.failover_delay_logged = master.failover_start_time
            sentinel.log.debug("Next failover delayed: another failover was attempted recently", master=master.name)
        return False
    start_failover(sentinel, master)
    return True


def start_failover(sentinel: Sentinel, master: Master, forced: bool = False) -> None:
    now = sentinel.clock()
    master.failover_state = "wait_start"
    master.failover_in_progress = True
    master.force_failover = forced
    sentinel.current_epoch += 1
    master.failover_epoch = sentinel.current_epoch
    sentinel.event("warning", "+new-epoch", None, str(sentinel.current_epoch))
    sentinel.event("warning", "+try-failover", master)
    master.failover_start_time = now + random.randint(0, 999)
    master.failover_state_change_time = now


def abort_failover(sentinel: Sentinel, master: Master) -> None:
    clear_failover(master)
    master.failover_state_change_time = sentinel.clock()


def _set_state(sentinel: Sentinel, master: Master, state: str) -> None:
    master.failover_state = state
    master.failover_state_change_time = sentinel.clock()


def advance(sentinel: Sentinel, master: Master) -> None:
    """Run the failover state machine until it waits for something (Redis: one step per tick)."""
    while master.failover_in_progress:
        state = master.failover_state
        step = _STEPS.get(state)
        if step is None:
            return
        step(sentinel, master)
        if master.failover_state == state:
            return


def _wait_start(sentinel: Sentinel, master: Master) -> None:
    leader = election.get_leader(sentinel, master, master.failover_epoch)
    if leader != sentinel.myid and not master.force_failover:
        election_timeout = min(sentinel.timing.election_timeout, master.failover_timeout)
        if sentinel.clock() - master.failover_start_time > election_timeout:
            sentinel.event("warning", "-failover-abort-not-elected", master)
            abort_failover(sentinel, master)
        return
    sentinel.event("warning", "+elected-leader", master)
    if sentinel.simulate_failure & 1:
        sentinel.log.warning("Simulated crash after election (SENTINEL SIMULATE-FAILURE)")
        sentinel.exit(99)
    _set_state(sentinel, master, "select_slave")
    sentinel.event("warning", "+failover-state-select-slave", master)


def _select_slave(sentinel: Sentinel, master: Master) -> None:
    replica, unsynced = select_replica(sentinel, master)
    if replica is None:
        waited = sentinel.clock() - master.failover_state_change_time
        if unsynced and waited <= master.failover_timeout:
            for candidate in unsynced:
                if candidate.name not in master.unsynced_reported:
                    master.unsynced_reported.add(candidate.name)
                    sentinel.event("warning", "-failover-unsynced-slave", candidate, "#never synced, not promoted")
            return
        sentinel.event("warning", "-failover-abort-no-good-slave", master)
        abort_failover(sentinel, master)
        return
    sentinel.event("warning", "+selected-slave", replica)
    replica.promoted = True
    master.promoted_replica = replica
    _set_state(sentinel, master, "send_slaveof_noone")
    sentinel.event("notice", "+failover-state-send-slaveof-noone", replica)


def _send_slaveof_noone(sentinel: Sentinel, master: Master) -> None:
    promoted = master.promoted_replica
    assert promoted is not None
    if promoted.link.disconnected:
        if sentinel.clock() - master.failover_state_change_time > master.failover_timeout:
            sentinel.event("warning", "-failover-abort-slave-timeout", master)
            abort_failover(sentinel, master)
        return
    if not sentinel.send_slaveof(promoted, None):
        return
    sentinel.event("notice", "+failover-state-wait-promotion", promoted)
    _set_state(sentinel, master, "wait_promotion")


def _wait_promotion(sentinel: Sentinel, master: Master) -> None:
    if sentinel.clock() - master.failover_state_change_time > master.failover_timeout:
        sentinel.event("warning", "-failover-abort-slave-timeout", master)
        abort_failover(sentinel, master)


def _reconf_slaves(sentinel: Sentinel, master: Master) -> None:
    promoted = master.promoted_replica
    assert promoted is not None
    now = sentinel.clock()
    replicas = list(master.replicas.values())
    in_progress = sum(1 for r in replicas if r.reconf_sent or r.reconf_inprog)
    for replica in replicas:
        if in_progress >= master.parallel_syncs:
            break
        if replica.promoted or replica.reconf_done:
            continue
        if replica.reconf_sent and now - replica.slave_reconf_sent_time > sentinel.timing.slave_reconf_timeout:
            sentinel.event("notice", "-slave-reconf-sent-timeout", replica)
            replica.reconf_sent = False
            replica.reconf_done = True
            continue
        if replica.reconf_sent or replica.reconf_inprog or replica.link.disconnected:
            continue
        if sentinel.send_slaveof(replica, (sentinel.shown(promoted), promoted.port)):
            replica.reconf_sent = True
            replica.slave_reconf_sent_time = now
            sentinel.event("notice", "+slave-reconf-sent", replica)
            in_progress += 1
    _detect_end(sentinel, master, promoted)


def _detect_end(sentinel: Sentinel, master: Master, promoted: Instance) -> None:
    if promoted.s_down:
        return
    waiting = sum(1 for r in master.replicas.values() if not (r.promoted or r.reconf_done or r.s_down))
    timed_out = sentinel.clock() - master.failover_state_change_time > master.failover_timeout
    if timed_out:
        waiting = 0
        sentinel.event("warning", "+failover-end-for-timeout", master)
    if waiting:
        return
    sentinel.event("warning", "+failover-end", master)
    _set_state(sentinel, master, "update_config")
    if timed_out:  # best effort for the replicas we could not reconfigure in time
        for replica in master.replicas.values():
            if replica.promoted or replica.reconf_done or replica.reconf_sent or replica.link.disconnected:
                continue
            if sentinel.send_slaveof(replica, (sentinel.shown(promoted), promoted.port)):
                sentinel.event("notice", "+slave-reconf-sent-be", replica)
                replica.reconf_sent = True


_STEPS = {
    "wait_start": _wait_start,
    "select_slave": _select_slave,
    "send_slaveof_noone": _send_slaveof_noone,
    "wait_promotion": _wait_promotion,
    "reconf_slaves": _reconf_slaves,
}


def select_replica(sentinel: Sentinel, master: Master) -> tuple[Instance | None, list[Instance]]:
    """The best replica to promote, and the otherwise good ones held back for never having synced."""
    now, timing = sentinel.clock(), sentinel.timing
    max_link_down = master.down_after * 10 + (now - master.s_down_since if master.s_down else 0)
    info_validity = timing.ping_period * 5 if master.s_down else timing.info_period * 3
    candidates, unsynced = [], []
    for replica in master.replicas.values():
        if replica.s_down or replica.o_down or replica.link.disconnected:
            continue
        if now - replica.link.last_avail_time > timing.ping_period * 5:
            continue
        if replica.slave_priority == 0 or now - replica.info_refresh > info_validity:
            continue
        if replica.master_link_down_time > max_link_down:
            continue
        if not replica.synced or (replica.slave_repl_offset == 0 and master.master_has_data):
            unsynced.append(replica)
            continue
        candidates.append(replica)
    candidates.sort(key=lambda r: (r.slave_priority, -r.slave_repl_offset, not r.runid, r.runid.lower()))
    return (candidates[0] if candidates else None), unsynced


def act_on_replica_info(sentinel: Sentinel, replica: Instance, role: str) -> None:
    """What a replica's INFO means for us: promotion done, demotion needed, reconf progress."""
    master = replica.master
    assert master is not None
    now = sentinel.clock()
    if (
        role == "slave"
        and replica.master_link_ok
        and master.addr_matches(replica.slave_master_host, replica.slave_master_port)
    ):
        replica.synced = True
    if role == "master":
        if replica.promoted and master.failover_in_progress and master.failover_state == "wait_promotion":
            _promotion_confirmed(sentinel, master, replica)
            return
        wait = sentinel.timing.publish_period * 4
        if (
            not replica.promoted
            and master_looks_sane(sentinel, master)
            and no_down_for(sentinel, replica, wait)
            and now - replica.role_reported_time > wait
            and sentinel.send_slaveof(replica, (sentinel.shown(master), master.port))
        ):
            sentinel.event("notice", "+convert-to-slave", replica)
        return
    if role != "slave":
        return
    if not master.addr_matches(replica.slave_master_host, replica.slave_master_port):
        wait = master.failover_timeout
        if (
            not (replica.reconf_sent or replica.reconf_inprog or replica.promoted)
            and master_looks_sane(sentinel, master)
            and no_down_for(sentinel, replica, wait)
            and now - replica.slave_conf_change_time > wait
            and sentinel.send_slaveof(replica, (sentinel.shown(master), master.port))
        ):
            sentinel.event("notice", "+fix-slave-config", replica)
    promoted = master.promoted_replica
    if (
        replica.reconf_sent
        and promoted is not None
        and promoted.addr_matches(replica.slave_master_host, replica.slave_master_port)
    ):
        replica.reconf_sent = False
        replica.reconf_inprog = True
        sentinel.event("notice", "+slave-reconf-inprog", replica)
    if replica.reconf_inprog and replica.master_link_ok and master.failover_state == "reconf_slaves":
        replica.reconf_inprog = False
        replica.reconf_done = True
        sentinel.event("notice", "+slave-reconf-done", replica)
        advance_from_reply(sentinel, master)


def advance_from_reply(sentinel: Sentinel, master: Master) -> None:
    """Progress seen in a reply moves the failover on at once instead of at the next tick."""
    if sentinel.tilt:
        return
    advance(sentinel, master)
    if master.failover_state == "update_config":
        switch_to_promoted(sentinel, master)


def _promotion_confirmed(sentinel: Sentinel, master: Master, replica: Instance) -> None:
    master.config_epoch = master.failover_epoch
    _set_state(sentinel, master, "reconf_slaves")
    sentinel.flush_config()
    sentinel.event("warning", "+promoted-slave", replica)
    if sentinel.simulate_failure & 2:
        sentinel.log.warning("Simulated crash after promotion (SENTINEL SIMULATE-FAILURE)")
        sentinel.exit(99)
    sentinel.event("warning", "+failover-state-reconf-slaves", master)
    sentinel.client_reconfig(
        master, "leader", (sentinel.shown(master), master.port), (sentinel.shown(replica), replica.port)
    )
    sentinel.force_hello(master)
    for peer in master.sentinels.values():  # tell the other sentinels now: clients ask them too
        sentinel.send_hello(peer)
    advance_from_reply(sentinel, master)


def master_looks_sane(sentinel: Sentinel, master: Master) -> bool:
    return (
        master.role_reported == "master"
        and not (master.s_down or master.o_down)
        and master.info_refresh != 0
        and sentinel.clock() - master.info_refresh < sentinel.timing.info_period * 2
    )


def no_down_for(sentinel: Sentinel, instance: Instance, ms: int) -> bool:
    latest = max(instance.s_down_since, instance.o_down_since)
    return latest == 0 or sentinel.clock() - latest > ms


def switch_to_promoted(sentinel: Sentinel, master: Master) -> None:
    promoted = master.promoted_replica
    assert promoted is not None
    old_ip, old_port, new_ip = sentinel.shown(master), master.port, sentinel.shown(promoted)
    sentinel.event("warning", "+switch-master", None, f"{master.name} {old_ip} {old_port} {new_ip} {promoted.port}")
    sentinel.reset_master_and_change_address(master, promoted.hostname or promoted.ip, promoted.port)
