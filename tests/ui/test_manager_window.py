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
    # a recorded referral stays in the inbox, greyed, with its outcome (issue 18 item 2)
    qtbot.waitUntil(lambda: w.table.item(0, 1).text() == "已成交", timeout=10_000)
    assert w.table.rowCount() == 1
    assert w.table.item(0, 0).foreground().color().name() == "#777777"
    w.open_only.setChecked(True)  # the open ones only: it goes
    qtbot.waitUntil(lambda: w.table.rowCount() == 0, timeout=10_000)


def test_outcome_dialog_checks_the_amount(qtbot: QtBot) -> None:
    from lobby_app.core.errors import LobbyError

    qt_app()
    dlg = OutcomeDialog("ZJ1")
    qtbot.addWidget(dlg)
    dlg.radios["sold"].setChecked(True)
    dlg.product.setText("理财")
    dlg.amount.setText("12万")
    with pytest.raises(LobbyError) as e:
        dlg.args()
    assert e.value.field == "amount"
    dlg.amount.setText("120,000.50")
    dlg.product.setText("理财")
    assert dlg.args()["amount_fen"] == 12_000_050
    dlg.radios["follow_up"].setChecked(True)
    assert "follow_up_on" in dlg.args()


def test_outcome_dialog_preselects_nothing_opens_only_the_outcomes_fields_and_keeps_input(
    qtbot: QtBot,
) -> None:
    """Issue 18 item 1: no outcome chosen for the manager; the follow-up date reads as a
    date and only for 待跟进; 确定 with missing fields keeps the dialog open with the
    message inside it and the input as typed."""
    qt_app()
    dlg = OutcomeDialog("ZJ20261201001", who="王先生")
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.outcome() == "" and not any(rb.isChecked() for rb in dlg.radios.values())
    assert dlg.follow.displayFormat() == "yyyy-MM-dd"
    assert dlg.follow.text().count("-") == 2  # 2026-12-08, not "8 12 2026"
    assert not dlg.product.isEnabled() and not dlg.amount.isEnabled()
    assert not dlg.follow.isEnabled()
    dlg.accept()  # nothing chosen
    assert dlg.isVisible() and "请选择结果" in dlg.error.text() and dlg.error.isVisible()
    dlg.radios["sold"].setChecked(True)
    assert dlg.product.isEnabled() and dlg.amount.isEnabled() and not dlg.follow.isEnabled()
    dlg.note.setText("客户很满意")
    dlg.accept()  # sold without a product or an amount
    assert dlg.isVisible() and "产品名称" in dlg.error.text()
    dlg.product.setText("稳盈90天")
    dlg.amount.setText("abc")
    dlg.accept()
    assert dlg.isVisible() and "不是数字" in dlg.error.text()
    assert (dlg.product.text(), dlg.note.text()) == ("稳盈90天", "客户很满意")  # kept
    dlg.amount.setText("1e400")
    dlg.accept()
    assert dlg.isVisible() and "不超过" in dlg.error.text()
    dlg.amount.setText("200000")
    dlg.accept()
    assert dlg.result() == OutcomeDialog.DialogCode.Accepted
    assert dlg.args()["amount_fen"] == 20_000_000
    dlg2 = OutcomeDialog("ZJ1")
    qtbot.addWidget(dlg2)
    dlg2.radios["follow_up"].setChecked(True)
    assert dlg2.follow.isEnabled() and not dlg2.amount.isEnabled()
    assert dlg2.follow.date() > dlg2.follow.minimumDate().addDays(-1)


def test_a_refused_outcome_reopens_the_dialog_with_the_input(
    qtbot: QtBot,
    manager: ManagerWindow,
    demo_store: Store,
    hub: HubThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hub's refusal comes back into the dialog with what was typed, not outside it."""
    w = manager
    t = commands.issue_ticket(demo_store, IssueRequest("wealth"))
    desk = Station("desk", None, "L01", "lobby_manager")
    hub.execute(desk, "refer", {"ticket": t.number, "to": "M02", "need": "fund"}, "r2")
    qtbot.waitUntil(lambda: w.table.rowCount() == 1 and w.selected() is not None, timeout=10_000)
    shown: list[tuple[dict[str, object] | None, str]] = []
    first = {"outcome": "sold", "product": "x" * 81, "amount_fen": 100}  # too long a name

    def fake_exec(self: OutcomeDialog) -> OutcomeDialog.DialogCode:
        shown.append((self.args() if self.outcome() else None, self.error.text()))
        if len(shown) == 1:
            self._fill(first)
            return OutcomeDialog.DialogCode.Accepted
        return OutcomeDialog.DialogCode.Rejected

    monkeypatch.setattr(OutcomeDialog, "exec", fake_exec)
    monkeypatch.setattr(OutcomeDialog, "args", lambda self: dict(first) if self.outcome() else {})
    w.outcome_btn.click()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=10_000)
    again, message = shown[1]
    assert again is not None and again["product"] == "x" * 81  # the input came back
    assert message  # with the hub's reason inside the dialog
    assert referrals.inbox(demo_store, to_staff="M02")[0].status == "new"


def test_inbox_dates_anything_not_from_today(manager: ManagerWindow) -> None:
    from datetime import UTC, datetime, timedelta

    w = manager
    now = datetime.now(UTC)
    assert ":" in w._local_time(now.isoformat()) and "-" not in w._local_time(now.isoformat())
    yesterday = w._local_time((now - timedelta(days=1)).isoformat())
    assert "-" in yesterday  # "11-30 10:46", not "10:46"
