"""A second greeting desk on another PC (``lobby-app desk --hub URL``): it finds customers,
issues tickets and refers through the hub, prints on its own PC, says at once when the hub
is lost and carries on when it is back."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from lobby_app.desk_backend import RemoteDesk
from lobby_app.hub.thread import HubThread
from lobby_app.models import Ticket
from lobby_app.store import Store
from lobby_app.store.demo import DEMO_PIN
from lobby_app.ui.app import qt_app
from lobby_app.ui.desk import DeskWindow
from lobby_app.ui.hublink import HubLink
from tests.ui.conftest import L01


@pytest.fixture
def remote(qtbot: QtBot, hub: HubThread, tmp_path: Path) -> Iterator[DeskWindow]:
    qt_app()
    link = HubLink(hub.url, station="desk", key=hub.key, staff="L01", pin=DEMO_PIN)
    w = DeskWindow(
        RemoteDesk(link.call, hub.url, tmp_path / "desk2", key=hub.key), actor=L01, link=link
    )
    qtbot.addWidget(w)
    w.show()
    link.start()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0, timeout=10_000)
    yield w
    w.close()


def waiting(store: Store) -> list[Ticket]:
    with store.read() as s:
        return list(s.scalars(select(Ticket).where(Ticket.status == "waiting")))


def test_remote_desk_finds_issues_and_prints_here(
    qtbot: QtBot, remote: DeskWindow, demo_store: Store, tmp_path: Path
) -> None:
    assert remote.store is None
    # the branch's own name comes from the hub, not from a local store
    qtbot.waitUntil(lambda: "示范" in remote.windowTitle(), timeout=10_000)
    remote.search.setText("C000000001")
    remote._run_search()
    qtbot.waitUntil(lambda: remote.customer_model.rowCount() == 1, timeout=10_000)
    remote.pick_customer(0)
    qtbot.waitUntil(lambda: "以往来访" in remote.detail.text(), timeout=10_000)
    assert "欧阳先生" in remote.detail.text()
    assert remote.vip_check.isChecked()
    remote.need_buttons["wealth"].setChecked(True)
    remote.issue()
    qtbot.waitUntil(lambda: remote.result_number.text() == "V001", timeout=10_000)
    (t,) = waiting(demo_store)  # issued in the hub's store
    assert (t.number, t.zone, t.green_channel, t.print_status) == ("V001", "vip", True, "printed")
    pdfs = list((tmp_path / "desk2" / "tickets").glob("*V001.pdf"))
    assert len(pdfs) == 1, "the ticket prints on the remote desk's own PC"
    text = subprocess.run(
        ["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "V001" in text and "贵宾" in text
    # the lobby view is the hub's: the new ticket waits in the VIP zone
    from lobby_app.core.zones import Zone

    qtbot.waitUntil(lambda: remote.zone_models[Zone.VIP].rowCount() == 1, timeout=10_000)
    assert "网点主机" in remote.status_label.text()


def test_remote_desk_refers_and_prints_the_slip_here(
    qtbot: QtBot,
    remote: DeskWindow,
    demo_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QDialog

    from lobby_app.store import referrals
    from lobby_app.ui.teller import ReferDialog

    remote.choose_walk_in()
    remote.issue()
    qtbot.waitUntil(lambda: remote.result_number.text() == "A001", timeout=10_000)
    monkeypatch.setattr(ReferDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(
        ReferDialog,
        "args",
        lambda self: {"ticket": "A001", "to": "M02", "need": "loan", "note": "装修贷款"},
    )
    with qtbot.waitSignal(remote.referral_done, timeout=10_000) as done:
        remote.refer()
    ref = done.args[0]
    assert ref["referrer"] == "L01" and ref["print"]["ok"], ref
    assert str(tmp_path / "desk2") in ref["print"]["message"]
    (stored,) = referrals.inbox(demo_store, to_staff="M02")
    assert stored.referral_no == ref["referral_no"] and stored.note == "装修贷款"


def test_remote_desk_says_when_the_hub_is_lost_and_recovers(
    qtbot: QtBot, remote: DeskWindow, hub: HubThread, demo_store: Store
) -> None:
    qtbot.waitUntil(lambda: "已连接" in remote.hub_label.text(), timeout=10_000)
    port = hub.hub.port
    hub.stop()
    qtbot.waitUntil(lambda: "取号暂不可用" in remote.hub_label.text(), timeout=10_000)
    assert "中断" in remote.hub_label.text() or "连不上" in remote.hub_label.text()
    again = HubThread(demo_store, "127.0.0.1", port)
    again.start()
    try:
        qtbot.waitUntil(lambda: "已连接" in remote.hub_label.text(), timeout=15_000)
        remote.choose_walk_in()
        remote.issue()
        qtbot.waitUntil(lambda: remote.result_number.text() == "A001", timeout=10_000)
        assert [t.number for t in waiting(demo_store)] == ["A001"]
    finally:
        remote.close()
        again.stop()


def test_remote_desk_shift_change_logs_in_at_the_hub_as_the_new_person(
    qtbot: QtBot, hub: HubThread, demo_store: Store, tmp_path: Path
) -> None:
    """Who is signed in shows; a takeover at the lock panel logs in again at the hub, so the
    hub records the next ticket as the new person; a teller cannot take the desk."""
    from lobby_app.store.admin import Person

    qt_app()

    def relink(staff: str, pin: str) -> HubLink:
        return HubLink(hub.url, station="desk", key=hub.key, staff=staff, pin=pin)

    link = relink("L01", DEMO_PIN)
    w = DeskWindow(
        RemoteDesk(link.call, hub.url, tmp_path / "desk2", key=hub.key),
        actor=Person("L01", "", ""),
        link=link,
        relink=relink,
    )
    qtbot.addWidget(w)
    w.show()
    link.start()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0, timeout=10_000)
    qtbot.waitUntil(lambda: "大堂经理" in w.person_label.text(), timeout=10_000)
    assert "L01" in w.windowTitle()

    w.lock()
    w.lock_form.staff.setText("T01")
    w.lock_form.pin.setText(DEMO_PIN)
    w.lock_form.button.click()
    qtbot.waitUntil(lambda: w.lock_form.message.isVisible(), timeout=10_000)
    assert w.locked and "不能登录" in w.lock_form.message.text()
    w.lock_form.staff.setText("G01")
    w.lock_form.pin.setText(DEMO_PIN)
    w.lock_form.button.click()
    qtbot.waitUntil(lambda: not w.locked, timeout=10_000)
    assert w.actor == "G01" and w.link is not link
    qtbot.waitUntil(lambda: "大堂引导员" in w.person_label.text(), timeout=10_000)
    w.choose_walk_in()
    w.issue()
    qtbot.waitUntil(lambda: len(waiting(demo_store)) == 1 and not w._issuing, timeout=10_000)
    assert waiting(demo_store)[0].issued_by == "G01"
    w.close()
