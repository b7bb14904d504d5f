"""Our Sentinel against real processes: real redis-server nodes (and ours), real redis-sentinel
peers in the same ensemble, redis-py's Sentinel client in RESP2 and RESP3."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.helpers import RawConnection, ServerProcess, normal_reply, wait_for
from tests.topology import MASTER, Topology, drill, start_sentinel

pytestmark = pytest.mark.interop


def kill9(node: ServerProcess) -> None:
    node.stop(signal.SIGKILL)


@pytest.fixture
def topology(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Topology]:
    options = getattr(request, "param", {})
    started = Topology(tmp_path, **options).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.mark.parametrize("protocol", [2, 3])
def test_shutdown_failover_and_old_primary_converted(topology: Topology, protocol: int) -> None:
    result = drill(topology, topology.shutdown, protocol=protocol)
    assert result["lost"] == 0, topology.story()
    old, new = result["old"], result["new"]
    assert len(topology.epochs()) == 1
    for port in (n.port for n in topology.nodes if n.proc.poll() is None and n.port != new):
        wait_for(lambda port=port: topology.client(port).info("replication")["master_port"] == new, timeout=15)
    # The old primary comes back as a primary; the sentinels turn it into a replica of the new one.
    restarted = topology.restart_node(next(n for n in topology.nodes if n.port == old))
    # ~10 s as Redis waits (the replica must have looked sane for 8 s); more if a busy machine TILTs.
    wait_for(lambda: topology.client(restarted.port).info("replication").get("master_port") == new, timeout=60)
    assert "+convert-to-slave" in "".join(s.log() for s in topology.sentinels)


def test_kill_minus_nine_failover(topology: Topology) -> None:
    result = drill(topology, kill9)
    assert result["new"] != result["old"]
    assert len(topology.epochs()) == 1


def test_new_master_is_linked_at_once_after_a_switch(topology: Topology) -> None:
    """The switch comes right after a reconnect attempt to the dead master. Were the link to the new
    master to wait out that attempt's backoff (1 s), down-after (1 s) could expire before its first
    PONG, and a second failover would follow the first."""
    clients = [topology.sentinel_client(s) for s in topology.sentinels]
    old_port = topology.master_port_seen_by(topology.sentinels[0])
    kill9(topology.node(old_port))
    switched: dict[int, float] = {}
    linked: dict[int, float] = {}
    deadline = time.monotonic() + 30
    while len(linked) < len(clients) and time.monotonic() < deadline:
        for i, client in enumerate(clients):
            state = client.sentinel_master(MASTER)
            now = time.monotonic()
            if int(state["port"]) != old_port:
                switched.setdefault(i, now)
                if "disconnected" not in state["flags"]:
                    linked.setdefault(i, now)
    assert len(linked) == len(clients)
    assert max(linked[i] - switched[i] for i in linked) < 0.5
    assert len(topology.epochs()) == 1


def test_sigstop_failover_then_resumed_primary_is_demoted(topology: Topology) -> None:
    old_port = topology.master_port_seen_by(topology.sentinels[0])
    node = topology.node(old_port)
    os.kill(node.pid, signal.SIGSTOP)
    try:
        new_port = wait_for(lambda: topology.all_agree_on_new_master(old_port), timeout=30)
    finally:
        os.kill(node.pid, signal.SIGCONT)
    wait_for(lambda: topology.client(old_port).info("replication").get("master_port") == new_port, timeout=30)


def test_manual_failover(topology: Topology) -> None:
    old_port = topology.master_port_seen_by(topology.sentinels[1])
    assert topology.sentinel_client(topology.sentinels[1]).sentinel_failover(MASTER)
    new_port = wait_for(lambda: topology.all_agree_on_new_master(old_port), timeout=30)
    writer = topology.writer(protocol=3)
    writer.start()
    try:
        wait_for(lambda: len(writer.acked) > 5, timeout=10)
    finally:
        writer.stop()
    assert writer.lost_on("127.0.0.1", int(new_port)) == []
    with pytest.raises(redis.ResponseError, match="No such master with that name"):
        topology.sentinel_client(topology.sentinels[0]).execute_command("SENTINEL", "FAILOVER", "nope")


@pytest.mark.parametrize(
    "topology",
    [{"sentinels": ("ours", "ours", "real")}, {"sentinels": ("ours", "real", "real")}],
    indirect=True,
    ids=["2-ours-1-real", "1-ours-2-real"],
)
def test_mixed_ensemble_failover(topology: Topology) -> None:
    result = drill(topology, topology.shutdown)
    assert result["lost"] == 0, topology.story()
    assert len(topology.epochs()) == 1
    leaders = [s.kind for s in topology.sentinels if "+elected-leader" in s.log()]  # type: ignore[attr-defined]
    assert len(leaders) == 1


def test_no_failover_without_majority(topology: Topology) -> None:
    observer = topology.sentinels[0]
    for peer in topology.sentinels[1:]:
        peer.stop()
    client = topology.sentinel_client(observer)
    wait_for(lambda: all("s_down" in s["flags"] for s in client.sentinel_sentinels(MASTER)), timeout=15)
    with pytest.raises(redis.ResponseError) as error:
        client.execute_command("SENTINEL", "CKQUORUM", MASTER)
    assert str(error.value) == (
        "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. "
        "Not enough available Sentinels to reach the majority and authorize a failover"
    )
    old_port = topology.master_port_seen_by(observer)
    topology.shutdown(topology.node(old_port))
    wait_for(lambda: "+sdown master" in observer.log(), timeout=10)
    time.sleep(3)  # long enough for a failover with down-after 1 s, were one allowed
    assert topology.master_port_seen_by(observer) == old_port
    assert "+odown" not in observer.log() and "+elected-leader" not in observer.log()


@pytest.mark.parametrize("topology", [{"quorum": 4}], indirect=True)
def test_quorum_above_live_sentinels_never_odown(topology: Topology) -> None:
    client = topology.sentinel_client(topology.sentinels[0])
    with pytest.raises(redis.ResponseError, match="Not enough available Sentinels to reach the specified quorum"):
        client.execute_command("SENTINEL", "CKQUORUM", MASTER)
    topology.shutdown(topology.node(topology.master_port_seen_by(topology.sentinels[0])))
    wait_for(lambda: "s_down" in client.sentinel_master(MASTER)["flags"], timeout=10)
    time.sleep(1.5)
    assert "o_down" not in client.sentinel_master(MASTER)["flags"]


def test_ckquorum_ok(topology: Topology) -> None:
    reply = RawConnection(topology.sentinels[0].port).call("SENTINEL", "CKQUORUM", MASTER)
    assert reply == b"OK 3 usable Sentinels. Quorum and failover authorization can be reached"


def test_restarted_sentinel_resumes_and_learns_newer_config(topology: Topology) -> None:
    stopped = topology.sentinels.pop()
    stopped.stop()
    old_port = topology.master_port_seen_by(topology.sentinels[0])
    assert topology.sentinel_client(topology.sentinels[0]).sentinel_failover(MASTER)
    new_port = wait_for(lambda: topology.all_agree_on_new_master(old_port), timeout=30)
    config_text = stopped.conf.read_text()  # type: ignore[attr-defined]
    assert "sentinel myid" in config_text and "known-sentinel" in config_text
    restarted = start_sentinel(topology.tmp, "ours", [], port=stopped.port)
    topology.sentinels.append(restarted)
    assert restarted.conf.read_text().count("sentinel myid") == 1  # type: ignore[attr-defined]
    wait_for(lambda: topology.master_port_seen_by(restarted) == new_port, timeout=20)
    wait_for(lambda: len(topology.epochs()) == 1, timeout=10)


@pytest.mark.parametrize(
    "topology",
    [{"node_password": "s3cret", "sentinel_password": "sentinelpw"}],
    indirect=True,
)
def test_authentication_on_nodes_and_sentinels(topology: Topology) -> None:
    conn = RawConnection(topology.sentinels[0].port)
    assert str(conn.call("SENTINEL", "MASTERS")).startswith("NOAUTH")
    assert conn.call("AUTH", "sentinelpw") == b"OK"
    result = drill(topology, topology.shutdown, protocol=3)
    assert result["lost"] == 0, topology.story()


@pytest.mark.parametrize(
    "topology",
    [
        {
            "sentinels": ("ours", "ours", "real"),
            "sentinel_password": "defaultpw",
            "sentinel_lines": (
                "user peer on >peerpw allchannels +@all",
                "sentinel sentinel-user peer",
                "sentinel sentinel-pass peerpw",
            ),
        }
    ],
    indirect=True,
)
def test_sentinels_authenticate_to_each_other_as_an_acl_user(topology: Topology) -> None:
    """The ensemble's links use sentinel-user/sentinel-pass, a user of every sentinel's config."""
    peer = RawConnection(topology.sentinels[0].port)
    assert peer.call("AUTH", "peer", "peerpw") == b"OK"
    assert peer.call("ACL", "WHOAMI") == b"peer"
    result = drill(topology, topology.shutdown, protocol=3)  # ODOWN and votes need the peer links
    assert result["lost"] == 0, topology.story()
    assert len(topology.epochs()) == 1


@pytest.mark.parametrize(
    "topology",
    [
        {
            "sentinels": ("ours", "ours", "real"),
            "master_host": "localhost",
            "sentinel_lines": ("sentinel resolve-hostnames yes", "sentinel announce-hostnames yes"),
        }
    ],
    indirect=True,
)
def test_hostnames_resolved_and_announced_as_real_sentinel(topology: Topology) -> None:
    port = topology.nodes[0].port
    for sentinel in topology.sentinels:
        client = topology.sentinel_client(sentinel)
        assert client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER) == [
            b"localhost",
            str(port).encode(),
        ]
        assert client.sentinel_master(MASTER)["ip"] == "localhost"
    ours = topology.sentinels[0]
    assert f"sentinel monitor {MASTER} localhost {port} 2" in ours.conf.read_text()  # type: ignore[attr-defined]
    result = drill(topology, topology.shutdown)
    assert result["lost"] == 0, topology.story()
    assert len(topology.epochs()) == 1
    # ODOWN needs two of the three to see the master down, so at least one of ours did; the other
    # may learn of the new master from the leader's hello before its own down-after expires.
    ours_logs = ours.log() + topology.sentinels[1].log()
    assert f"+sdown master {MASTER} localhost {port}" in ours_logs
    assert f"+switch-master {MASTER} localhost {port} 127.0.0.1 {result['new']}" in ours_logs


@pytest.mark.parametrize("topology", [{"nodes": "dragonfly"}], indirect=True)
def test_failover_of_dragonfly_nodes(topology: Topology) -> None:
    result = drill(topology, topology.shutdown, protocol=3)
    assert result["lost"] == 0, topology.story()
    assert len(topology.epochs()) == 1


# -- the API, compared with a real redis-sentinel monitoring the same master ------------------------
@pytest.mark.parametrize("topology", [{"sentinels": ("ours", "real")}], indirect=True)
def test_replies_have_redis_shapes(topology: Topology) -> None:
    ours, real = (RawConnection(s.port) for s in topology.sentinels)
    for argv in (
        ["SENTINEL", "MASTER", MASTER],
        ["SENTINEL", "REPLICAS", MASTER],
        ["SENTINEL", "SENTINELS", MASTER],
    ):
        mine, theirs = ours.call(*argv), real.call(*argv)
        if argv[1] == "MASTER":
            mine, theirs = [mine], [theirs]
        assert [entry[::2] for entry in mine] == [entry[::2] for entry in theirs], argv
    for argv in (
        ["COMMAND", "COUNT"],
        ["ROLE"],
        ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER],
        ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"],
        ["SENTINEL", "MASTER", "nope"],
        ["SENTINEL", "NOPE"],
        ["SENTINEL", "MASTERS", "extra"],
        ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"],
        ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*"],
        ["PUBLISH", "other", "x"],
        ["SENTINEL", "CONFIG", "GET", "*"],
        ["SENTINEL", "DEBUG"],
        ["SENTINEL", "SIMULATE-FAILURE", "HELP"],
        ["SENTINEL", "SET", MASTER, "quorum", "0"],
        ["SENTINEL", "SET", MASTER, "notification-script", "/bin/true"],
        ["SENTINEL", "MONITOR", "m2", "not-an-ip", "6379", "2"],
        ["SENTINEL", "MONITOR", MASTER, "127.0.0.1", "6379", "2"],
        ["CLIENT", "SETINFO", "LIB-NAME", "x"],
        ["GET", "x"],
    ):
        assert normal_reply(ours.call(*argv)) == normal_reply(real.call(*argv)), argv
    mine = ours.call("INFO")
    assert isinstance(mine, bytes)
    for field in (b"redis_version", b"redis_mode:sentinel", b"sentinel_tilt:0", b"master0:name=mymaster,status=ok"):
        assert field in mine
    for absent in (b"used_memory:", b"master_repl_offset", b"cluster_enabled"):
        assert absent not in mine


ACL_CALLS = [
    ["ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all"],
    ["ACL", "SETUSER", "bob", ">x", "resetchannels"],
    ["ACL", "SETUSER", "bob", "<nope"],
    ["ACL", "SETUSER", "bob", "#abc"],
    ["ACL", "SETUSER", "carl", "reset", "skip-sanitize-payload"],
    ["ACL", "SETUSER", "dave", "on", "nopass", "&chan*", "-@all", "+get"],  # GET: not a sentinel command
    # One command rule: Redis describes several in its command table's hash order.
    ["ACL", "SETUSER", "dave", "on", "nopass", "&chan*", "-@all", "+client|setname", "%R~r*"],
    ["ACL", "SETUSER", "erin", "allkeys", "allchannels", "allcommands", ">a", ">b", "<a"],
    ["ACL", "SETUSER", "a b", "on"],
    ["ACL", "GETUSER", "alice"],
    ["ACL", "GETUSER", "dave"],
    ["ACL", "GETUSER", "erin"],
    ["ACL", "GETUSER", "nobody"],
    ["ACL", "DELUSER", "bob", "nobody", "bob"],
    ["ACL", "DELUSER", "default"],
    ["ACL", "LIST"],
    ["ACL", "USERS"],
    ["AUTH", "alice", "wrong"],
    ["AUTH", "nobody", "x"],
    ["AUTH", "alice", "pw"],
    ["ACL", "WHOAMI"],
    ["ACL", "DRYRUN", "default", "ping"],
    ["ACL", "DRYRUN", "nobody", "ping"],
    ["ACL", "DRYRUN", "dave", "ping"],
    ["ACL", "DRYRUN", "dave", "client", "setname", "x"],
    ["ACL", "DRYRUN", "dave", "info"],
    ["ACL", "DRYRUN", "dave", "sentinel", "masters"],
    ["ACL", "DRYRUN", "default", "nosuch"],
    ["ACL", "LOAD"],
    ["ACL", "SAVE"],
    ["ACL", "LOG", "x"],
    ["ACL", "HELP"],
]


@pytest.mark.parametrize("topology", [{"sentinels": ("ours", "real")}], indirect=True)
def test_acl_users_as_real_sentinel(topology: Topology) -> None:
    ours, real = (RawConnection(s.port) for s in topology.sentinels)
    for argv in ACL_CALLS:
        assert normal_reply(ours.call(*argv)) == normal_reply(real.call(*argv)), argv
    # The two failed AUTHs, newest first; age and client details differ by nature.
    logs = [conn.call("ACL", "LOG") for conn in (ours, real)]

    def failed_auth(user: bytes) -> list[object]:
        fields = [b"count", 1, b"reason", b"auth", b"context", b"toplevel", b"object", b"AUTH", b"username", user]
        return [*fields, b"age-seconds", b"client-info"]

    expected = [failed_auth(b"nobody"), failed_auth(b"alice")]
    assert [[entry[:10] + entry[10:14:2] for entry in log] for log in logs] == [expected] * 2  # type: ignore[index, union-attr]
    assert [conn.call("ACL", "LOG", "RESET") for conn in (ours, real)] == [b"OK", b"OK"]
    # Beyond Redis, the users are in the rewritten config at once, so a restart keeps them.
    assert "user alice on #" in topology.sentinels[0].conf.read_text()  # type: ignore[attr-defined]


def test_hello_resp3_and_redis_py_discovery(topology: Topology) -> None:
    from redis.sentinel import Sentinel as SentinelClient

    for protocol in (2, 3):
        client = SentinelClient(topology.sentinel_addresses(), sentinel_kwargs={"protocol": protocol})
        _host, port = client.discover_master(MASTER)
        assert port == topology.nodes[0].port
        assert len(client.discover_slaves(MASTER)) == 2
        state = client.sentinels[0].sentinel_master(MASTER)
        assert state["is_master"] and not state["is_odown"] and state["num-slaves"] == 2
    hello = RawConnection(topology.sentinels[0].port).call("HELLO", "2")
    assert isinstance(hello, list)
    assert hello[::2] == [b"server", b"version", b"proto", b"id", b"mode", b"modules"]
    assert hello[9] == b"sentinel"


@pytest.mark.parametrize("topology", [{"sentinels": ("ours", "real")}], indirect=True)
def test_command_list_matches_real_sentinel(topology: Topology) -> None:
    ours, real = (RawConnection(s.port) for s in topology.sentinels)
    mine, theirs = ours.call("COMMAND", "LIST"), real.call("COMMAND", "LIST")
    assert isinstance(mine, list) and isinstance(theirs, list)
    assert set(mine) == set(theirs) and len(mine) == len(theirs)
