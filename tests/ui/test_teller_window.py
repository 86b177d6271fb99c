"""The teller window against a real hub: call, pop-up, finish, refer, refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from lobby_app.hub.thread import HubThread
from lobby_app.models import Customer
from lobby_app.store import Store, commands, referrals
from lobby_app.store.commands import IssueRequest
from lobby_app.store.demo import DEMO_PIN
from lobby_app.ui.app import qt_app
from lobby_app.ui.hublink import HubLink
from lobby_app.ui.teller import TellerWindow


@pytest.fixture(params=[7])
def teller_window(
    qtbot: QtBot, hub: HubThread, request: pytest.FixtureRequest
) -> Iterator[TellerWindow]:
    qt_app()
    window = request.param
    # who may sign in where (issue 16 item 12): the VIP room is a customer manager's, the
    # low counter an open-counter teller's
    staff = {5: "T04", 7: "M01"}.get(window, "T01")
    link = HubLink(hub.url, station="teller", key=hub.key, staff=staff, pin=DEMO_PIN, window=window)
    w = TellerWindow(link, window)
    qtbot.addWidget(w)
    w.show()
    link.start()
    qtbot.waitUntil(lambda: w.buttons["call"].isEnabled(), timeout=10_000)
    yield w
    link.close()


def customer_id(store: Store, no: str) -> str:
    with store.read() as s:
        cid = s.scalar(select(Customer.id).where(Customer.customer_no == no))
        assert cid is not None
        return cid


def test_call_pops_up_who_is_coming(
    qtbot: QtBot, teller_window: TellerWindow, demo_store: Store, hub: HubThread
) -> None:
    w = teller_window
    commands.issue_ticket(
        demo_store,
        IssueRequest(
            "wealth",
            customer_id=customer_id(demo_store, "C000000001"),
            needs=("deposit_maturing",),
            needs_note="定期50万下周到期",
            greeting_note="带孙子来的",
        ),
    )
    assert w.popup.isHidden()
    with qtbot.waitSignal(w.popped, timeout=10_000) as popped:
        w.buttons["call"].click()
    card = popped.args[0]
    assert w.popup.isVisible() and w.number.text() == "V001"
    assert "欧阳先生" in w.who.text() and "中高端客户" in w.who.text()
    assert "贵宾" in w.flags.text()
    shown = w.detail.text()
    assert "定期50万下周到期" in shown and "带孙子来的" in shown and "存款到期" in shown
    assert "存款快到期" in w.marketing.text()
    assert "欧阳明华" not in w.who.text()  # the salutation, not the full name
    assert card["masked_id"].startswith("*") and "C000000001" not in str(card)
    # finishing clears the pop-up; the next call with an empty queue says so
    w.buttons["finish"].click()
    qtbot.waitUntil(lambda: w.popup.isHidden() and w.number.text() == "—", timeout=10_000)
    w.buttons["call"].click()
    qtbot.waitUntil(lambda: "没有等候的客户" in w.message.text(), timeout=10_000)


@pytest.mark.parametrize("teller_window", [5], indirect=True)
def test_walk_in_gets_a_plain_pop_up_and_refer_reaches_the_store(
    qtbot: QtBot, teller_window: TellerWindow, demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QDialog

    from lobby_app.ui import teller as teller_ui

    w = teller_window
    commands.issue_ticket(demo_store, IssueRequest("wealth", zone=None))
    with qtbot.waitSignal(w.popped, timeout=10_000):
        w.buttons["call"].click()
    assert "未登记客户" in w.who.text() and w.detail.text().count("证件") == 0
    monkeypatch.setattr(teller_ui.ReferDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(
        teller_ui.ReferDialog,
        "args",
        lambda self: {"ticket": w.number.text(), "to": "M02", "need": "wealth", "note": "想买理财"},
    )
    w.buttons["refer"].click()
    qtbot.waitUntil(lambda: "已转介给" in w.message.text(), timeout=10_000)
    got = referrals.inbox(demo_store, to_staff="M02")
    assert [(r.ticket_number, r.referrer, r.note) for r in got] == [
        (w.number.text(), "T04", "想买理财")
    ]


def test_closed_window_is_refused_clearly(qtbot: QtBot, teller_window: TellerWindow) -> None:
    w = teller_window
    w.buttons["open"].click()
    qtbot.waitUntil(lambda: "暂停服务" in w.message.text(), timeout=10_000)
    assert w.buttons["open"].text() == "开窗服务"
    w.buttons["call"].click()
    qtbot.waitUntil(lambda: "请先开窗" in w.message.text(), timeout=10_000)
