"""Stations in tests: a demo branch store and a real hub on 127.0.0.1 on its own thread."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lobby_app.hub.thread import HubThread
from lobby_app.store import Store
from lobby_app.store.demo import seed_demo

_TEMPLATE: dict[str, Path] = {}


@pytest.fixture
def demo_store(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if "dir" not in _TEMPLATE:
        base = tmp_path_factory.mktemp("station-template")
        s = Store.open(base)
        seed_demo(s, customers=100)
        s.close()
        _TEMPLATE["dir"] = base
    shutil.copytree(_TEMPLATE["dir"], tmp_path / "data")
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def hub(demo_store: Store) -> Iterator[HubThread]:
    h = HubThread(demo_store, "127.0.0.1", 0)
    h.start()
    yield h
    h.stop()
