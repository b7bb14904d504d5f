"""RDB files crossing between real redis-server 7.0 and dragonfly-py, DUMP/RESTORE both ways,
and the persistence behaviour of our server (restart, corrupt dumps, MISCONF, LOADING)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.dataset import fill, read_all
from tests.helpers import ServerProcess, free_port, start_dragonfly, start_redis, wait_for

pytestmark = pytest.mark.interop


@pytest.fixture
def stopper() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _run(stopper: list[ServerProcess], server: ServerProcess) -> ServerProcess:
    stopper.append(server)
    return server


def _save(port: int) -> None:
    assert redis.Redis(port=port).save()


def test_redis_written_dump_loads_with_identical_content(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    real = _run(stopper, start_redis(tmp_path))
    fill(redis.Redis(port=real.port))
    _save(real.port)
    expected = read_all(real.port)
    ours_dir = tmp_path / "ours"
    ours_dir.mkdir()
    shutil.copy(tmp_path / "dump.rdb", ours_dir / "dump.rdb")
    ours = _run(stopper, start_dragonfly(ours_dir))
    assert read_all(ours.port) == expected
    assert "keys loaded: " in ours.log()


def test_our_dump_loads_in_redis_and_passes_redis_check_rdb(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    ours = _run(stopper, start_dragonfly(tmp_path))
    fill(redis.Redis(port=ours.port))
    _save(ours.port)
    expected = read_all(ours.port)
    check = subprocess.run(["redis-check-rdb", str(tmp_path / "dump.rdb")], capture_output=True, text=True)
    assert "RDB looks OK" in check.stdout, check.stdout
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    shutil.copy(tmp_path / "dump.rdb", real_dir / "dump.rdb")
    real = _run(stopper, start_redis(real_dir))
    assert read_all(real.port) == expected


def test_dump_restore_both_ways(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    real = _run(stopper, start_redis(tmp_path))
    ours = _run(stopper, start_dragonfly(tmp_path))
    fill(redis.Redis(port=real.port))
    fill(redis.Redis(port=ours.port))
    for source, target in ((real, ours), (ours, real)):
        src, dst = redis.Redis(port=source.port), redis.Redis(port=target.port)
        for key in src.keys(b"*"):
            payload = src.dump(key)
            assert dst.restore(b"copy:" + key, 0, payload) == b"OK"
            assert _content(dst, b"copy:" + key) == _content(src, key)
    ours_client = redis.Redis(port=ours.port)
    with pytest.raises(redis.ResponseError, match=r"BUSYKEY Target key name already exists\."):
        ours_client.restore(b"int", 0, ours_client.dump(b"int"))
    assert ours_client.restore(b"int", 5000, redis.Redis(port=real.port).dump(b"list:small"), replace=True)
    assert ours_client.type(b"int") == b"list" and 0 < ours_client.pttl(b"int") <= 5000
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        ours_client.restore(b"bad", 0, b"\x00\x01a" + b"\x0a\x00" + b"\x00" * 7 + b"\x01")


def _content(client: redis.Redis, key: bytes) -> object:
    port = client.connection_pool.connection_kwargs["port"]
    from tests.dataset import _value

    return _value(redis.Redis(port=port), key)


def test_restart_keeps_data_after_shutdown_save(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    ours = _run(stopper, start_dragonfly(tmp_path))
    client = redis.Redis(port=ours.port)
    fill(client)
    expected = read_all(ours.port)
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown(save=True)
    assert ours.proc.wait(10) == 0
    again = _run(stopper, start_dragonfly(tmp_path))
    assert read_all(again.port) == expected


def test_sigterm_saves_when_save_points_are_configured(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    ours = _run(stopper, start_dragonfly(tmp_path, "--save", "3600 1"))
    redis.Redis(port=ours.port).set("k", "v")
    assert ours.stop() == 0
    again = _run(stopper, start_dragonfly(tmp_path))
    assert redis.Redis(port=again.port).get("k") == b"v"


def test_corrupt_dump_stops_start_up_with_what_and_where(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    ours = _run(stopper, start_dragonfly(tmp_path))
    fill(redis.Redis(port=ours.port))
    _save(ours.port)
    ours.stop()
    dump = tmp_path / "dump.rdb"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "dragonfly_py", "--port", str(port), "--save", ""],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode != 0
    assert "Fatal error loading the DB" in result.stdout and "at offset" in result.stdout
    assert result.stderr == ""


def test_failed_bgsave_refuses_writes_until_a_save_succeeds(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    ours = _run(stopper, start_dragonfly(tmp_path, "--save", "3600 1"))
    client = redis.Redis(port=ours.port)
    client.set("k", "v")
    (tmp_path / "dump.rdb").mkdir()  # the final rename cannot replace a directory
    client.bgsave()
    wait_for(lambda: client.info("persistence")["rdb_last_bgsave_status"] == "err")
    with pytest.raises(redis.ResponseError, match=r"^MISCONF Redis is configured to save RDB snapshots"):
        client.set("k", "w")
    with pytest.raises(redis.ResponseError, match=r"^MISCONF"):
        client.ping()
    assert client.get("k") == b"v"
    (tmp_path / "dump.rdb").rmdir()
    client.bgsave()
    wait_for(lambda: client.info("persistence")["rdb_last_bgsave_status"] == "ok")
    assert client.set("k", "w")


def test_bgsave_is_point_in_time(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    ours = _run(stopper, start_dragonfly(tmp_path))
    client = redis.Redis(port=ours.port)
    client.set("k", "before")
    assert client.bgsave()
    client.set("k", "after")
    wait_for(lambda: client.info("persistence")["rdb_bgsave_in_progress"] == 0)
    assert client.info("persistence")["rdb_last_bgsave_status"] == "ok"
    shutil.copy(tmp_path / "dump.rdb", tmp_path / "copy.rdb")
    from dragonfly_py.rdb.reader import RdbReader

    with open(tmp_path / "copy.rdb", "rb") as handle:
        assert RdbReader(handle.read).load().dbs[0][0] == {b"k": b"before"}


def test_loading_answers_loading_and_info(tmp_path: Path, stopper: list[ServerProcess]) -> None:
    ours = _run(stopper, start_dragonfly(tmp_path))
    client = redis.Redis(port=ours.port)
    client.mset({b"k%d" % i: b"v" for i in range(2000)})
    _save(ours.port)
    ours.stop()
    port = free_port()
    argv = [sys.executable, "-m", "dragonfly_py", "--port", str(port), "--save", "", "--key-load-delay", "1000"]
    slow = _run(stopper, ServerProcess(argv, port, tmp_path, tmp_path / "slow.log"))
    raw = wait_for(lambda: slow.connect())  # redis-py would retry -LOADING: read the replies raw
    wait_for(lambda: str(raw.call("GET", "k1")) == "LOADING Redis is loading the dataset in memory")
    info = raw.call("INFO", "persistence").decode()
    assert "loading:1" in info and "loading_total_bytes:" in info and "loading_eta_seconds:" in info
    raw.close()
    slow.wait_ready(30)
    loading = redis.Redis(port=port)
    wait_for(lambda: loading.dbsize() == 2000, timeout=30)
    assert loading.info("persistence")["loading"] == 0
