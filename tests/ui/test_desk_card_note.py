"""The desk's customer card tells a special-approval card (特批, with its approver and end date)
from one due for downgrade (待降级) (003 第十二条, 第十四条)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from lobby_app.core.customer_csv import parse_customer_csv
from lobby_app.store import Store
from lobby_app.store.directory import import_records
from lobby_app.ui.desk import DeskWindow
from tests.conftest import open_demo_copy
from tests.ui.conftest import shown_desk

UNTIL = (date.today() + timedelta(days=300)).isoformat()


@pytest.fixture
def desk(
    qtbot: QtBot, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeskWindow]:
    store: Store = open_demo_copy(tmp_path_factory, tmp_path / "data", 100)
    report = import_records(
        store,
        parse_customer_csv(
            "customer_no,name,avg_assets_3m,assets,vip_card,特批审批人,特批有效期至\n"
            f"T900000001,赵德明,0,0,白金卡,总行理财中心 刘建新,{UNTIL}\n"
            "T900000002,钱海峰,30000,30000,黑金卡,,\n"
            # card holders by assets, so one special is within the branch's 5 %
            + "".join(f"T9100000{i:02d},孙{i},250000,250000,标准卡,,\n" for i in range(40))
        ),
        strict=True,
        actor="test",
        source="t",
    )
    assert report.imported == 42 and len(report.warnings) == 1
    yield shown_desk(qtbot, store)
    store.close()


def pick(qtbot: QtBot, desk: DeskWindow, customer_no: str) -> str:
    desk.search.clear()
    qtbot.keyClicks(desk.search, customer_no)
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.customer is not None and desk.customer.customer_no == customer_no)
    qtbot.waitUntil(lambda: customer_no in desk.detail.text())
    return desk.detail.text()


def test_special_card_and_card_due_for_downgrade_read_differently(
    qtbot: QtBot, desk: DeskWindow
) -> None:
    """Defect: the card read "白金卡(特批)" for any card the assets did not earn, approved or
    not; a 30,000-yuan 黑金卡 holder showed as a black-gold VIP. Now the approved one names
    its approver and end date, the other says it is due for downgrade and is no VIP."""
    special = pick(qtbot, desk, "T900000001")
    assert f"特批贵宾卡(审批人总行理财中心 刘建新，有效至{UNTIL})" in special
    assert "贵宾卡：白金卡" in special and desk.vip_check.isChecked()
    shots = os.environ.get("LOBBY_SHOTS")
    if shots:
        desk.grab().save(str(Path(shots) / "desk-special.png"))
    due = pick(qtbot, desk, "T900000002")
    assert "待降级：近三月日均资产未达黑金卡标准" in due and "贵宾卡：无" in due
    assert "特批" not in due and not desk.vip_check.isChecked()
    if shots:
        desk.grab().save(str(Path(shots) / "desk-due.png"))
