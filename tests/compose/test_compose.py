"""The docker-compose topology (3 dragonfly-py nodes, 3 sentinels) as users start it, with the
drill as users run it.  Runs when a Docker engine answers; the fixture takes its containers and
volumes down again, also when the test fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "dragonfly-py-test"
SENTINELS = [(f"172.28.0.{20 + i}", 26379) for i in range(3)]


def docker_answers() -> bool:
    if not shutil.which("docker") or not shutil.which("docker-compose"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.skipif(not docker_answers(), reason="no Docker engine answers"),
    pytest.mark.timeout(900),  # the first image build downloads the dependencies
]


def compose(*args: str, timeout: float = 600) -> str:
    argv = [str(ROOT / "scripts" / "compose.sh"), "-p", PROJECT, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def sentinel_view(host: str, port: int) -> dict[str, object]:
    return redis.Redis(host, port, socket_timeout=2, decode_responses=True).sentinel_master("mymaster")


def sentinel_id(host: str, port: int) -> str:
    return redis.Redis(host, port, socket_timeout=2, decode_responses=True).execute_command("SENTINEL", "MYID")


def discovered() -> bool:
    views = [sentinel_view(*address) for address in SENTINELS]
    return all(v["num-slaves"] == 2 and v["num-other-sentinels"] == 2 for v in views)


@pytest.fixture
def topology() -> Iterator[None]:
    compose("down", "--volumes", "--remove-orphans")
    try:
        compose("up", "--build", "--detach", timeout=840)
        wait_for(discovered, timeout=60, interval=0.2)
        yield
    finally:
        print(compose("logs", "--no-color", "--tail", "40"))
        compose("down", "--volumes", "--remove-orphans", "--timeout", "5")


def test_shutdown_drill_then_old_primary_and_a_sentinel_come_back(topology: None) -> None:
    drill = subprocess.run(
        [sys.executable, str(ROOT / "compose" / "drill.py"), "--protocol", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert drill.returncode == 0, drill.stderr
    result = json.loads(drill.stdout)
    assert result["lost"] == 0 and result["acked"] > 20
    (old_host, _), (new_host, new_port) = result["old"], result["new"]
    assert old_host != new_host
    assert len({sentinel_view(*a)["config-epoch"] for a in SENTINELS}) == 1

    # The old primary restarts as a primary; the sentinels make it a replica of the new one.
    compose("start", f"node-{int(old_host.rsplit('.', 1)[1]) - 10}")
    old = redis.Redis(old_host, 6379, socket_timeout=2, decode_responses=True)
    wait_for(lambda: old.info("replication").get("master_host") == new_host, timeout=40, interval=0.2)

    # A restarted sentinel resumes, with the same id, from the config it rewrote in its volume.
    rewritten = compose("exec", "-T", "sentinel-0", "cat", "sentinel.conf")
    assert f"sentinel monitor mymaster {new_host} {new_port} 2" in rewritten
    myid, master_runid = sentinel_id(*SENTINELS[0]), sentinel_view(*SENTINELS[0])["runid"]
    compose("restart", "sentinel-0")
    wait_for(lambda: sentinel_view(*SENTINELS[0])["ip"] == new_host, timeout=30, interval=0.2)
    assert sentinel_id(*SENTINELS[0]) == myid
    # The primary's run id comes with its first INFO reply after the restart, a moment after the
    # address from the config: "" until then (it came back as "" once, when asked at once).
    wait_for(lambda: sentinel_view(*SENTINELS[0])["runid"] == master_runid, timeout=15, interval=0.2)
