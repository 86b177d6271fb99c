"""The referral dialog starts from what the lobby already knows (issue 18 item 3): the
needs tagged on the ticket and the customer's own manager, not the list's first entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from lobby_app.core.demo_data import SHOWCASE
from lobby_app.store import referrals
from lobby_app.store.commands import IssueRequest, issue_ticket
from lobby_app.ui.app import build_desk, qt_app
from lobby_app.ui.desk import DeskWindow
from lobby_app.ui.teller import ReferDialog
from tests.conftest import open_demo_copy
from tests.ui.conftest import L01

MANAGERS = [
    {"staff": "M01", "name": "郑雅文", "location": "贵宾理财室一"},
    {"staff": "M02", "name": "何志强", "location": ""},
]


def test_dialog_takes_the_tagged_need_and_the_customers_manager(qtbot: QtBot) -> None:
    qt_app()
    dlg = ReferDialog("V001", MANAGERS, needs=("fund", "wealth"), manager="m02")
    qtbot.addWidget(dlg)
    assert dlg.args()["need"] == "fund" and dlg.args()["to"] == "M02"


def test_without_tagged_needs_the_manager_must_choose_one(qtbot: QtBot) -> None:
    qt_app()
    dlg = ReferDialog("A001", MANAGERS)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.args()["need"] == ""  # not a silent 储蓄存款
    dlg.accept()
    assert dlg.isVisible() and "请选择客户的需求" in dlg.error.text()
    dlg.need.setCurrentIndex(dlg.need.findData("loan"))
    dlg.accept()
    assert dlg.result() == QDialog.DialogCode.Accepted and dlg.args()["need"] == "loan"


def test_teller_card_carries_the_need_codes(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = open_demo_copy(tmp_path_factory, tmp_path / "data", 300)
    try:
        t = issue_ticket(store, IssueRequest("wealth", needs=("deposit_maturing", "wealth")))
        card = referrals.ticket_card(store, t.id)
        assert card["need_codes"] == ["deposit_maturing", "wealth"]
    finally:
        store.close()


@pytest.fixture
def desk(
    qtbot: QtBot, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeskWindow]:
    store = open_demo_copy(tmp_path_factory, tmp_path / "data", 300)
    qt_app()
    w = build_desk(store, actor=L01)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0)
    yield w
    store.close()


def test_desk_referral_defaults_to_the_ticket_needs_and_own_manager(
    qtbot: QtBot, desk: DeskWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    qtbot.keyClicks(desk.search, "oymh")
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.customer is not None)
    assert desk.customer is not None
    assert desk.customer.customer_no == SHOWCASE["vip_black_gold"]
    own = desk.customer.manager
    desk.need_buttons["fund"].setChecked(True)
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.last_issued is not None and not desk._issuing, timeout=10_000)
    seen: list[dict[str, str]] = []

    def look(self: ReferDialog) -> QDialog.DialogCode:
        seen.append(self.args())
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ReferDialog, "exec", look)
    desk.refer()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert own == "M01"  # the demo's 欧阳明华 is 郑雅文's customer
    assert seen[0]["need"] == "fund" and seen[0]["to"] == own
