"""Stations in tests: a demo branch store and a real hub on 127.0.0.1 on its own thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lobby_app.hub.thread import HubThread
from lobby_app.store import Store
from lobby_app.store.admin import Person
from tests.conftest import open_demo_copy

# The demo branch's lobby manager, as the desk's sign-in hands them on.
L01 = Person("L01", "陈静", "lobby_manager")


@pytest.fixture
def demo_store(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 100)
    yield s
    s.close()


@pytest.fixture
def hub(demo_store: Store) -> Iterator[HubThread]:
    h = HubThread(demo_store, "127.0.0.1", 0)
    h.start()
    yield h
    h.stop()
