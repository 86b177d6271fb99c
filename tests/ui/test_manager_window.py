"""The customer manager's inbox on a real hub: a referral arrives live; outcome recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from lobby_app.hub.commands import Station
from lobby_app.hub.thread import HubThread
from lobby_app.store import Store, commands, referrals
from lobby_app.store.commands import IssueRequest
from lobby_app.store.demo import DEMO_PIN
from lobby_app.ui.app import qt_app
from lobby_app.ui.hublink import HubLink
from lobby_app.ui.manager import ManagerWindow, OutcomeDialog


@pytest.fixture
def manager(qtbot: QtBot, hub: HubThread) -> Iterator[ManagerWindow]:
    qt_app()
    link = HubLink(hub.url, station="manager", key=hub.key, staff="M02", pin=DEMO_PIN)
    w = ManagerWindow(link)
    qtbot.addWidget(w)
    w.resize(1100, 600)
    w.show()
    link.start()
    qtbot.waitUntil(lambda: link.connected, timeout=10_000)
    yield w
    link.close()


def test_referral_arrives_live_and_outcome_is_recorded(
    qtbot: QtBot,
    manager: ManagerWindow,
    demo_store: Store,
    hub: HubThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = manager
    t = commands.issue_ticket(demo_store, IssueRequest("wealth"))
    desk = Station("desk", None, "L01", "lobby_manager")
    with qtbot.waitSignal(w.arrived, timeout=10_000) as arrived:
        hub.execute(desk, "refer", {"ticket": t.number, "to": "M02", "need": "fund"}, "r1")
    ref = arrived.args[0]
    assert ref["to_staff"] == "M02" and ref["need_label"] == "基金"
    qtbot.waitUntil(lambda: w.table.rowCount() == 1 and w.selected() is not None, timeout=10_000)
    assert "新转介" in w.banner.text() and "未登记客户" in w.detail.text()
    assert w.accept_btn.isEnabled()
    w.accept_btn.click()
    qtbot.waitUntil(lambda: "已接收" in w.message.text(), timeout=10_000)
    monkeypatch.setattr(OutcomeDialog, "exec", lambda self: OutcomeDialog.DialogCode.Accepted)
    monkeypatch.setattr(
        OutcomeDialog,
        "args",
        lambda self: {"outcome": "sold", "product": "基金定投", "amount_fen": 1_200_000},
    )
    w.outcome_btn.click()
    qtbot.waitUntil(lambda: "已成交" in w.message.text(), timeout=10_000)
    done = referrals.inbox(demo_store, to_staff="M02", open_only=False)[0]
    assert (done.status, done.product, done.amount_fen) == ("sold", "基金定投", 1_200_000)
    assert {c["staff"] for c in done.credits} == {"L01", "M02"}  # finder and seller
    qtbot.waitUntil(lambda: w.table.rowCount() == 0, timeout=10_000)  # out of the open inbox


def test_outcome_dialog_checks_the_amount(qtbot: QtBot) -> None:
    from lobby_app.core.errors import LobbyError

    qt_app()
    dlg = OutcomeDialog("ZJ1")
    qtbot.addWidget(dlg)
    dlg.amount.setText("12万")
    with pytest.raises(LobbyError) as e:
        dlg.args()
    assert e.value.field == "amount"
    dlg.amount.setText("120,000.50")
    dlg.product.setText("理财")
    assert dlg.args()["amount_fen"] == 12_000_050
    dlg.radios["follow_up"].setChecked(True)
    assert "follow_up_on" in dlg.args()
