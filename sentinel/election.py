"""Epochs, votes and leader election (``SENTINEL is-master-down-by-addr``).

A sentinel votes at most once per epoch, first come first served; a leader needs the votes of
a majority of the sentinels it knows *and* at least the quorum.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from sentinel.instance import Instance, Master

if TYPE_CHECKING:
    from sentinel.monitor import Sentinel

ASK_INTERVAL_FLOOR = 50  # re-ask a peer this often while the master is SDOWN (Redis: once a second)


def vote_leader(sentinel: Sentinel, master: Master, epoch: int, candidate: str) -> tuple[str, int]:
    """Redis's sentinelVoteLeader: adopt a newer epoch, vote once per epoch, return the vote."""
    if epoch > sentinel.current_epoch:
        sentinel.current_epoch = epoch
        sentinel.flush_config()
        sentinel.event("warning", "+new-epoch", None, str(epoch))
    if master.leader_epoch < epoch and sentinel.current_epoch <= epoch:
        master.leader = candidate
        master.leader_epoch = sentinel.current_epoch
        sentinel.flush_config()
        sentinel.event("warning", "+vote-for-leader", None, f"{candidate} {master.leader_epoch}")
        if candidate != sentinel.myid:
            # Someone else is trying: do not start our own failover for a while.
            master.failover_start_time = sentinel.clock() + random.randint(0, 999)
    return master.leader, master.leader_epoch


def get_leader(sentinel: Sentinel, master: Master, epoch: int) -> str | None:
    """The winner of ``epoch`` if one has a majority and the quorum; casts our own vote."""
    votes: dict[str, int] = {}
    voters = len(master.sentinels) + 1
    for peer in master.sentinels.values():
        if peer.leader and peer.leader_epoch == sentinel.current_epoch:
            votes[peer.leader] = votes.get(peer.leader, 0) + 1
    winner = _most_voted(votes)
    my_vote, my_epoch = vote_leader(sentinel, master, epoch, winner or sentinel.myid)
    if my_vote and my_epoch == epoch:
        votes[my_vote] = votes.get(my_vote, 0) + 1
        winner = _most_voted(votes)
    if winner is None:
        return None
    needed = max(voters // 2 + 1, master.quorum)
    return winner if votes[winner] >= needed else None


def _most_voted(votes: dict[str, int]) -> str | None:
    """Most votes; a tie goes to the lowest run id (deterministic; a tie rarely wins anyway)."""
    if not votes:
        return None
    return min(votes, key=lambda runid: (-votes[runid], runid))


def ask_master_state(sentinel: Sentinel, master: Master, force: bool) -> None:
    """Ask every peer whether it sees the master down; once we run a failover, ask for its vote."""
    now = sentinel.clock()
    stale_after = sentinel.timing.ask_period * 5
    interval = min(sentinel.timing.ask_period, ASK_INTERVAL_FLOOR)
    for peer in master.sentinels.values():
        elapsed = now - peer.last_master_down_reply_time
        if elapsed > stale_after:
            peer.master_down = False
            peer.leader = ""
        if not master.s_down or peer.link.disconnected or peer.link.cc is None:
            continue
        if not force and (elapsed < interval or now - peer.last_ask_time < interval):
            continue
        runid = sentinel.myid if master.failover_state != "none" else "*"
        peer.last_ask_time = now
        peer.link.cc.send(
            master.command_name("SENTINEL"),
            "is-master-down-by-addr",
            sentinel.shown(master),
            str(master.port),
            str(sentinel.current_epoch),
            runid,
            callback=lambda reply, peer=peer: _master_state_reply(sentinel, peer, reply),  # type: ignore[misc]
        )


def _master_state_reply(sentinel: Sentinel, peer: Instance, reply: Any) -> None:
    if not (
        isinstance(reply, list)
        and len(reply) == 3
        and type(reply[0]) is int
        and isinstance(reply[1], str)
        and type(reply[2]) is int
    ):
        return
    peer.last_master_down_reply_time = sentinel.clock()
    peer.master_down = reply[0] == 1
    if reply[1] != "*":
        peer.leader = reply[1]
        peer.leader_epoch = reply[2]
    if peer.master is not None:
        sentinel.peer_answered(peer.master)


def answer_is_master_down(sentinel: Sentinel, ip: str, port: int, epoch: int, runid: str) -> tuple[int, str, int]:
    """The reply to a peer's ``SENTINEL is-master-down-by-addr``: down state and our vote."""
    master = sentinel.master_by_addr(ip, port)
    down = int(master is not None and not sentinel.tilt and master.s_down)
    leader, leader_epoch = "", 0
    if master is not None and runid != "*":
        leader, leader_epoch = vote_leader(sentinel, master, epoch, runid)
    return down, leader or "*", leader_epoch
