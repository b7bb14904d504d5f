"""Per-master options and operator commands of our Sentinel, with real redis-server nodes:
rename-command, master-reboot-down-after-period, +fix-slave-config, SIMULATE-FAILURE,
PENDING-SCRIPTS and INFO-CACHE (the latter compared with a real redis-sentinel)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import RawConnection, wait_for
from tests.topology import MASTER, Topology, drill

pytestmark = pytest.mark.interop


@pytest.fixture
def topology(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Topology]:
    options = getattr(request, "param", {})
    if callable(options):  # options that need the test's directory (a script path)
        options = options(tmp_path)
    started = Topology(tmp_path, **options).start()
    try:
        yield started
    finally:
        started.stop()


def sentinel_logs(topology: Topology) -> str:
    return "".join(s.log() for s in topology.sentinels)


RENAMED = {
    "node_flags": ("--rename-command", "SLAVEOF", "moved-slaveof", "--rename-command", "CONFIG", "moved-config"),
    "sentinel_lines": (
        f"sentinel rename-command {MASTER} SLAVEOF moved-slaveof",
        f"sentinel rename-command {MASTER} CONFIG moved-config",
    ),
}


@pytest.mark.parametrize("topology", [RENAMED], indirect=True)
def test_failover_sends_renamed_commands(topology: Topology) -> None:
    assert "unknown command" in str(RawConnection(topology.nodes[1].port).call("SLAVEOF", "NO", "ONE"))
    result = drill(topology, topology.shutdown)
    assert result["lost"] == 0, topology.story()
    survivor = next(n for n in topology.nodes if n.proc.poll() is None and n.port != result["new"])
    wait_for(lambda: topology.client(survivor.port).info("replication")["master_port"] == result["new"], timeout=15)


@pytest.mark.parametrize(
    "topology",
    [{"down_after": 30000, "sentinel_lines": (f"sentinel master-reboot-down-after-period {MASTER} 1000",)}],
    indirect=True,
)
def test_a_rebooted_master_still_loading_after_the_reboot_period_is_down(topology: Topology) -> None:
    """-LOADING counts as alive, so down-after alone would wait; after a reboot it may not for long."""
    primary = topology.nodes[0]
    client = topology.client(primary.port)
    for start in range(0, 10000, 1000):
        client.mset({f"k{i}": i for i in range(start, start + 1000)})
    wait_for(lambda: topology.replicas_in_sync(primary), timeout=10)
    conn = RawConnection(primary.port)
    conn.send_raw(RawConnection.encode(["SHUTDOWN", "SAVE"]))
    conn.closed_by_server(30)
    primary.proc.wait(30)
    # 10000 keys x 2 ms: -LOADING for 20 s, answering between keys.
    topology.restart_node(primary, "--key-load-delay", "2000", "--loading-process-events-interval-bytes", "1024")
    wait_for(lambda: topology.all_agree_on_new_master(primary.port), timeout=40, interval=0.2)
    logs = sentinel_logs(topology)
    assert "+reboot master" in logs and "+sdown master" in logs


def test_a_replica_of_the_wrong_master_is_fixed(topology: Topology) -> None:
    primary, chained, other = topology.nodes
    assert topology.client(chained.port).replicaof("127.0.0.1", other.port)
    wait_for(lambda: topology.client(chained.port).info("replication")["master_port"] == primary.port, timeout=30)
    assert "+fix-slave-config slave" in sentinel_logs(topology)


@pytest.mark.parametrize(
    "flag, last_event", [("crash-after-election", "+elected-leader"), ("crash-after-promotion", "+promoted-slave")]
)
def test_simulate_failure_exits_at_that_step(topology: Topology, flag: str, last_event: str) -> None:
    victim = topology.sentinels[0]
    conn = RawConnection(victim.port)
    assert conn.call("SENTINEL", "SIMULATE-FAILURE", flag) == b"OK"
    assert conn.call("SENTINEL", "FAILOVER", MASTER) == b"OK"
    wait_for(lambda: victim.proc.poll() is not None, timeout=15)
    assert victim.proc.returncode == 99
    log = victim.log()
    assert last_event in log and "Simulated crash" in log


def _slow_script(tmp_path: Path) -> dict[str, object]:
    script = tmp_path / "notify.sh"
    script.write_text("#!/bin/sh\nsleep 3\n")
    script.chmod(0o755)
    return {"sentinel_lines": (f"sentinel notification-script {MASTER} {script}",)}


@pytest.mark.parametrize("topology", [_slow_script], indirect=True)
def test_pending_scripts_lists_a_running_notification_script(topology: Topology) -> None:
    conn = RawConnection(topology.sentinels[0].port)
    assert conn.call("SENTINEL", "FAILOVER", MASTER) == b"OK"  # warning-level events run the script
    jobs = wait_for(lambda: conn.call("SENTINEL", "PENDING-SCRIPTS"), timeout=10)
    assert isinstance(jobs, list)
    job = jobs[0]
    assert job[::2] == [b"argv", b"flags", b"pid", b"run-time", b"retry-num"] or job[::2] == [
        b"argv",
        b"flags",
        b"pid",
        b"run-delay",
        b"retry-num",
    ]
    argv = job[1]
    assert argv[0].endswith(b"notify.sh") and argv[1].startswith((b"+", b"-"))
    wait_for(lambda: conn.call("SENTINEL", "PENDING-SCRIPTS") == [], timeout=30, interval=0.2)


@pytest.mark.parametrize("topology", [{"sentinels": ("ours", "real")}], indirect=True)
def test_info_cache_as_real_sentinel(topology: Topology) -> None:
    replies = [RawConnection(s.port).call("SENTINEL", "INFO-CACHE", MASTER, "nope") for s in topology.sentinels]
    for reply in replies:
        assert isinstance(reply, list) and len(reply) == 2 and reply[0] == MASTER.encode()
        entries = reply[1]
        assert len(entries) == 3  # the master and its two replicas
        for age, info in entries:
            assert isinstance(age, int) and 0 <= age < 15000
            assert info.startswith(b"# Server") and b"run_id:" in info
