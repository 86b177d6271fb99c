"""Stations in tests: a demo branch store and a real hub on 127.0.0.1 on its own thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from lobby_app.hub.thread import HubThread
from lobby_app.store import Store
from lobby_app.store.admin import Person
from lobby_app.ui.app import build_desk, qt_app
from lobby_app.ui.desk import DeskWindow
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


def shown_desk(qtbot: QtBot, store: Store) -> DeskWindow:
    """The desk on ``store`` signed in as L01, shown at 1366×768, once its business list is
    in and its worker idle."""
    qt_app()
    desk = build_desk(store, actor=L01)
    qtbot.addWidget(desk)
    desk.resize(1366, 768)
    desk.show()
    qtbot.waitUntil(lambda: desk.business_model.rowCount() > 0)
    qtbot.waitUntil(lambda: not desk.worker.busy)
    return desk
