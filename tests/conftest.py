"""Shared fixtures: real branch stores in temporary folders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from stdnum.cn import ric

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "LOBBY_LOG_DIR" not in os.environ:  # the app's log files go to a scratch folder in tests
    import tempfile

    os.environ["LOBBY_LOG_DIR"] = tempfile.mkdtemp(prefix="lobby-test-logs-")
if "LOBBY_FONT_CACHE" not in os.environ:  # the parsed font's cache: not the user's own
    import tempfile

    os.environ["LOBBY_FONT_CACHE"] = tempfile.mkdtemp(prefix="lobby-test-fonts-")

from lobby_app.store import Store


def make_id(body17: str) -> str:
    """A valid resident ID number for a 17-digit body."""
    return body17 + ric.calc_check_digit(body17 + "0")


# A small directory with one customer of each kind the desk must tell apart.
CUSTOMERS_CSV = (
    "customer_no,name,id_number,phone,assets,loans,avg_assets_3m,vip_card,manager,prospect,card_no\n"
    f"C100000001,欧阳明华,{make_id('31010119600301001')},13800138001,8000000,0,6800000,,M01,0,6222021234567890123\n"
    f"C100000002,张三,{make_id('31010119900505003')},13912345678,12345.67,0,1000,,,0,\n"
    f"C100000003,张珊珊,{make_id('31010119920606002')},13700001111,60000,0,50000,,,1,\n"
    f"C100000004,王建国,{make_id('31010119700707005')},,80000,1200000,80000,,M02,0,\n"
    f"C100000005,李秀英,{make_id('31010119550808004')},15000005678,30000,0,30000,标准卡,,0,\n"
)


@pytest.fixture(autouse=True)
def _gc_only_on_the_gui_thread() -> Iterator[None]:
    """As the app does (``ui.app.collect_garbage_on_gui_thread``): no cycle collection on a
    worker or hub thread while widgets live; collect after each test, on the main thread."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was:
            gc.enable()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


@pytest.fixture
def directory_store(store: Store) -> Store:
    from lobby_app.core.customer_csv import parse_customer_csv
    from lobby_app.store.directory import import_records

    report = import_records(
        store, parse_customer_csv(CUSTOMERS_CSV), strict=True, actor="test", source="t"
    )
    assert report.created == 5, report.errors
    return store


_DEMO_TEMPLATES: dict[int, Path] = {}


def open_demo_copy(factory: pytest.TempPathFactory, dest: Path, customers: int) -> Store:
    """A demo branch with ``customers`` customers, seeded once per session and size, then
    copied: each test gets its own store files without paying for the seeding again."""
    import shutil

    from lobby_app.store.demo import seed_demo

    if customers not in _DEMO_TEMPLATES:
        base = factory.mktemp(f"demo-{customers}")
        s = Store.open(base)
        seed_demo(s, customers=customers)
        s.close()
        _DEMO_TEMPLATES[customers] = base
    shutil.copytree(_DEMO_TEMPLATES[customers], dest)
    return Store.open(dest)


def lobby_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m lobby_app --data-dir DATA ARGS…`` in its own process, as a person types it:
    its exit code, and its output and errors as text."""
    return subprocess.run(
        [sys.executable, "-m", "lobby_app", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Windows left by the tests are deleted while Qt still runs, and their Python wrappers
    collected then, not during the interpreter's own shutdown."""
    import gc
    import sys

    session.config.stash[_EXIT_STATUS] = int(exitstatus)
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


_EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After everything is reported, end the process without the interpreter's shutdown when
    Qt was loaded: PySide6 6.12 can abort there ("bool_dealloc" while garbage-collecting at
    finalization), after every test passed, also on the code as it was before this change
    (seen with tests/ui + tests/app in one process). The product does the same after its
    windows close (``lobby_app.cli.main``)."""
    import sys

    if "PySide6.QtCore" in sys.modules and _EXIT_STATUS in config.stash:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash[_EXIT_STATUS])
