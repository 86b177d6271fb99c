"""The desk with its embedded hub: live counters, referral slips for its own and tellers'
referrals, and the display/teller seeing what the desk issues."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from lobby_app.hub.client import HubClient
from lobby_app.hub.thread import HubThread
from lobby_app.store import Store, referrals
from lobby_app.store.demo import DEMO_PIN
from lobby_app.ui.app import build_desk, qt_app
from lobby_app.ui.desk import DeskWindow
from lobby_app.ui.hublink import HubLink
from lobby_app.ui.teller import ReferDialog, TellerWindow
from tests.ui.conftest import L01


@pytest.fixture
def desk(qtbot: QtBot, demo_store: Store, hub: HubThread) -> DeskWindow:
    qt_app()
    w = build_desk(demo_store, hub, actor=L01)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0, timeout=10_000)
    return w


def cell(table: Any, row: int, col: int) -> str:
    item = table.item(row, col)
    return item.text() if item is not None else ""


def slip_text(message: str) -> str:
    path = message.split("保存到")[-1].strip()
    return subprocess.run(
        ["pdftotext", path, "-"], capture_output=True, text=True, check=True
    ).stdout


def test_teller_call_shows_live_and_teller_referral_prints_at_desk(
    qtbot: QtBot, desk: DeskWindow, hub: HubThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QDialog

    desk.choose_walk_in()
    desk.issue()
    qtbot.waitUntil(lambda: desk.result_number.text() == "A001", timeout=10_000)
    link = HubLink(hub.url, station="teller", key=hub.key, staff="T02", pin=DEMO_PIN, window=2)
    tel = TellerWindow(link, 2)
    qtbot.addWidget(tel)
    link.start()
    try:
        qtbot.waitUntil(lambda: tel.buttons["call"].isEnabled(), timeout=10_000)
        qtbot.waitUntil(
            lambda: "A 1" in tel.queue.text() or "1人" in tel.queue.text(), timeout=10_000
        )
        with qtbot.waitSignal(tel.popped, timeout=10_000):
            tel.buttons["call"].click()
        row = next(
            r
            for r in range(desk.counters_table.rowCount())
            if "2号" in cell(desk.counters_table, r, 0)
        )
        qtbot.waitUntil(lambda: "A001" in cell(desk.counters_table, row, 2), timeout=10_000)
        monkeypatch.setattr(ReferDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
        monkeypatch.setattr(
            ReferDialog,
            "args",
            lambda self: {"ticket": "A001", "to": "M01", "need": "loan", "note": "想贷款装修"},
        )
        with qtbot.waitSignal(desk.referral_done, timeout=10_000) as done:
            tel.buttons["refer"].click()
        ref = done.args[0]
        assert ref["referrer"] == "T02" and ref["print"]["ok"], ref
        text = slip_text(ref["print"]["message"])
        assert ref["referral_no"] in text and "郑雅文" in text
        assert "想贷款装修" not in text  # the note stays on screen, off the slip (issue 15.14)
        qtbot.waitUntil(lambda: desk.referrals_table.rowCount() == 1, timeout=10_000)
    finally:
        link.close()


def test_desk_referral_prints_slip_and_reaches_manager(
    qtbot: QtBot,
    desk: DeskWindow,
    hub: HubThread,
    monkeypatch: pytest.MonkeyPatch,
    demo_store: Store,
) -> None:
    import asyncio
    import threading

    from PySide6.QtWidgets import QDialog

    got: list[dict[str, Any]] = []
    ready = threading.Event()
    stop = threading.Event()

    def manager() -> None:
        async def main() -> None:
            c = HubClient(
                hub.url,
                station="manager",
                key=hub.key,
                staff="M03",
                pin=DEMO_PIN,
                on_event=lambda name, msg: got.append(msg) if name == "referral" else None,
            )
            task = asyncio.create_task(c.run())
            while not c.connected:
                await asyncio.sleep(0.01)
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.02)
            await c.close()
            task.cancel()

        asyncio.run(main())

    t = threading.Thread(target=manager)
    t.start()
    try:
        assert ready.wait(10)
        desk.choose_walk_in()
        desk.issue()
        qtbot.waitUntil(lambda: desk.result_number.text() == "A001", timeout=10_000)
        monkeypatch.setattr(ReferDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
        monkeypatch.setattr(
            ReferDialog,
            "args",
            lambda self: {
                "ticket": self.ticket.text(),
                "to": "M03",
                "need": "insurance",
                "note": "",
            },
        )
        with qtbot.waitSignal(desk.referral_done, timeout=10_000) as done:
            desk.refer_button.click()
        ref = done.args[0]
        assert ref["ticket_number"] == "A001" and ref["print"]["ok"]
        assert "转介单" in desk.print_status.text()
        qtbot.waitUntil(lambda: bool(got), timeout=10_000)
        assert got[0]["data"]["referral_no"] == ref["referral_no"]
        assert [r.referral_no for r in referrals.inbox(demo_store, to_staff="M03")] == [
            ref["referral_no"]
        ]
    finally:
        stop.set()
        t.join(10)


def test_second_desk_on_a_busy_port_still_opens(
    qtbot: QtBot, demo_store: Store, tmp_path: Path, hub: HubThread
) -> None:
    from lobby_app.core.errors import LobbyError

    other = HubThread(demo_store, "127.0.0.1", hub.hub.port)
    with pytest.raises(LobbyError) as e:
        other.start()
    assert e.value.code == "hub_port_busy" and "端口" in e.value.message
