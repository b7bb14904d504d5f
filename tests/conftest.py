from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess, start_dragonfly, start_redis


def _stopped_after(server: ServerProcess) -> Iterator[ServerProcess]:
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dragonfly(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from _stopped_after(start_dragonfly(tmp_path))


@pytest.fixture(scope="module")
def shared_dragonfly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _stopped_after(start_dragonfly(tmp_path_factory.mktemp("dragonfly")))


@pytest.fixture(scope="module")
def real_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _stopped_after(start_redis(tmp_path_factory.mktemp("redis")))
