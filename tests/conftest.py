from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess, start_dragonfly, start_redis


@pytest.fixture
def dragonfly(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_dragonfly(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_dragonfly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_dragonfly(tmp_path_factory.mktemp("dragonfly"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def real_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
