"""The lobby desk driven from the keyboard, offscreen, on a real store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lobby_app.core.demo_data import SHOWCASE
from lobby_app.core.zones import Zone
from lobby_app.models import Ticket
from lobby_app.store import Store, commands
from lobby_app.ui.app import build_desk, qt_app
from lobby_app.ui.desk import DeskWindow
from lobby_app.ui.models import BusinessModel, CustomerModel, QueueModel
from tests.conftest import open_demo_copy
from tests.ui.conftest import L01


@pytest.fixture
def store(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A demo branch (seeded once per session, copied for each test)."""
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 300)
    yield s
    s.close()


@pytest.fixture
def desk(qtbot: QtBot, store: Store) -> DeskWindow:
    qt_app()
    w = build_desk(store, actor=L01)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0)
    qtbot.waitUntil(lambda: not w.worker.busy)
    return w


def tickets(store: Store) -> list[Ticket]:
    with store.read() as s:
        return list(
            s.scalars(
                select(Ticket).where(Ticket.status == "waiting").options(selectinload(Ticket.needs))
            )
        )


def issued(qtbot: QtBot, desk: DeskWindow, before: int) -> None:
    qtbot.waitUntil(
        lambda: len(tickets(desk.store)) == before + 1 and not desk._issuing, timeout=10_000
    )


def test_walk_in_in_three_keystrokes(qtbot: QtBot, desk: DeskWindow) -> None:
    assert desk.search.hasFocus() or desk.focusWidget() is desk.search
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)  # 1: walk-in, focus to businesses
    assert desk.walk_in and desk.business_list.hasFocus()
    qtbot.keyClick(desk.business_list, Qt.Key.Key_1)  # 2: first business
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)  # 3: issue
    issued(qtbot, desk, 0)
    (t,) = tickets(desk.store)
    assert (t.number, t.zone, t.customer_id, t.business_code) == (
        "A001",
        "closed_counter",
        None,
        "cash",
    )
    assert desk.result_number.text() == "A001"
    assert "封闭式柜台服务区" in desk.result_text.text()
    # the demo saves tickets to a folder: the desk says where, not "printed" (issue 18 item 7)
    (pdf,) = (desk.store.data_dir / "tickets").glob("*A001.pdf")
    assert "已打印" not in desk.print_status.text()
    assert "已保存到" in desk.print_status.text() and str(pdf) in desk.print_status.text()
    qtbot.waitUntil(lambda: desk.search.hasFocus())  # ready for the next customer


def test_find_vip_by_initials_and_issue(qtbot: QtBot, desk: DeskWindow) -> None:
    qtbot.keyClicks(desk.search, "oymh")
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)  # may arrive before the results do
    qtbot.waitUntil(lambda: desk.customer is not None)
    assert desk.customer is not None and desk.customer.customer_no == SHOWCASE["vip_black_gold"]
    # the detail card shows the notes of earlier visits (seeded by the demo)
    qtbot.waitUntil(lambda: "以往来访" in desk.detail.text() and "存款到期" in desk.detail.text())
    assert "欧阳先生" in desk.detail.text()
    assert "517X" in desk.detail.text() or "*" * 14 in desk.detail.text()
    assert desk.vip_check.isChecked() and "自动" in desk.vip_check.text()
    assert "贵宾客户服务区" in desk.zone_suggestion.text()
    desk.need_buttons["wealth"].setChecked(True)
    desk.greeting.setText("带家人同来")
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    issued(qtbot, desk, 0)
    (t,) = tickets(desk.store)
    assert (t.number, t.zone, t.vip, t.green_channel) == ("V001", "vip", True, True)
    assert [n.tag for n in t.needs] == ["wealth"] and t.greeting_note == "带家人同来"
    assert "贵宾" in desk.result_text.text()


def test_up_down_choose_among_results(qtbot: QtBot, desk: DeskWindow) -> None:
    qtbot.keyClicks(desk.search, "oy")  # QTest cannot type CJK; pinyin is what people type
    qtbot.waitUntil(lambda: desk.customer_model.rowCount() >= 2)
    qtbot.keyClick(desk.search, Qt.Key.Key_Down)
    second = desk.customer_model.customer(1)
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    assert desk.customer == second


def test_zone_override_recorded(qtbot: QtBot, desk: DeskWindow) -> None:
    qtbot.keyClick(desk.search, Qt.Key.Key_F2)
    desk.zone_combo.setCurrentIndex(desk.zone_combo.findData(Zone.OPEN_COUNTER))
    assert desk.zone_reason.isVisibleTo(desk)
    desk.zone_reason.setText("高柜排长队")
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    issued(qtbot, desk, 0)
    (t,) = tickets(desk.store)
    assert (t.zone, t.suggested_zone, t.zone_override_reason) == (
        "open_counter",
        "closed_counter",
        "高柜排长队",
    )


def test_priority_other_without_reason_is_refused(qtbot: QtBot, desk: DeskWindow) -> None:
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    desk.priority_combo.setCurrentIndex(desk.priority_combo.count() - 1)  # 其他
    desk.needs_note.setPlainText("想问问理财")
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "优先原因" in desk.error_label.text())
    assert tickets(desk.store) == []
    assert desk.needs_note.toPlainText() == "想问问理财"  # nothing typed is lost
    assert desk.priority_reason.hasFocus()
    desk.priority_reason.setText("行动不便")
    qtbot.keyClick(desk.priority_reason, Qt.Key.Key_Return)  # not wired: use the button
    qtbot.mouseClick(desk.issue_button, Qt.MouseButton.LeftButton)
    issued(qtbot, desk, 0)
    (t,) = tickets(desk.store)
    assert (t.priority, t.priority_reason, t.green_channel) == ("other", "行动不便", True)


def test_overlong_note_refused_and_kept(qtbot: QtBot, desk: DeskWindow) -> None:
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    desk.needs_note.setPlainText("长" * 11_000)
    assert "11000/500" in desk.note_count.text()
    qtbot.mouseClick(desk.issue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "最多500字" in desk.error_label.text())
    assert tickets(desk.store) == [] and len(desk.needs_note.toPlainText()) == 11_000


def test_lobby_panel_shows_green_channel_first(qtbot: QtBot, desk: DeskWindow) -> None:
    from lobby_app.core.business import PriorityKind
    from lobby_app.store.commands import IssueRequest

    commands.issue_ticket(desk.store, IssueRequest("cash"))
    commands.issue_ticket(desk.store, IssueRequest("cash", priority=PriorityKind.PREGNANT))
    desk.refresh_lobby()
    model = desk.zone_models[Zone.CLOSED_COUNTER]
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    assert model.index(0, 0).data() == "A002" and "孕妇" in model.index(0, 3).data()
    assert model.index(1, 0).data() == "A001"
    assert "等候 2 人" in desk.zone_stats[Zone.CLOSED_COUNTER].text()


def test_printer_failure_keeps_ticket_and_reprints(qtbot: QtBot, desk: DeskWindow) -> None:
    commands.change_settings(
        desk.store, {"print_kind": "printer", "printer": "NoSuchPrinter"}, actor="test"
    )
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    issued(qtbot, desk, 0)
    assert "打印失败" in desk.print_status.text() and "重打" in desk.print_status.text()
    assert desk.result_number.text() == "A001"  # the ticket stands
    commands.change_settings(desk.store, {"print_kind": "folder"}, actor="test")
    qtbot.mouseClick(desk.reprint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "已保存到" in desk.print_status.text())
    assert list((desk.store.data_dir / "tickets").glob("*A001.pdf"))


def test_models(qtmodeltester, store: Store) -> None:  # type: ignore[no-untyped-def]
    cm = CustomerModel()
    cm.set_rows(commands.lookup_customers(store, "zs"))
    qtmodeltester.check(cm)
    bm = BusinessModel()
    bm.set_rows(commands.business_types(store))
    qtmodeltester.check(bm)
    commands.issue_ticket(store, commands.IssueRequest("cash"))
    qm = QueueModel()
    qm.set_rows(commands.lobby_snapshot(store).zone(Zone.CLOSED_COUNTER).waiting)
    qtmodeltester.check(qm)
    assert qm.rowCount() == 1


def test_highlighted_result_shows_notes_and_is_the_customer(qtbot: QtBot, desk: DeskWindow) -> None:
    """The highlighted result shows its card and notes, and is the customer the header
    names (issue 15.8: it used to be only previewed, while the header already named it)."""
    qtbot.keyClicks(desk.search, "oymh")
    qtbot.waitUntil(lambda: desk.customer_model.rowCount() == 1)
    qtbot.waitUntil(lambda: "以往来访" in desk.detail.text())
    assert desk.customer is not None and desk.customer.customer_no == "C000000001"
    assert "欧阳先生" in desk.who.text() and "C000000001" in desk.who.text()
    assert "欧阳先生" in desk.detail.text() and "理财" in desk.detail.text()
    assert "按拼音首字母找到" in desk.detail.text()


def test_f10_previews_todays_summary_with_the_ticket_just_issued(
    qtbot: QtBot, desk: DeskWindow
) -> None:
    from lobby_app.ui.summary_dialog import SummaryDialog

    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    qtbot.keyClick(desk.business_list, Qt.Key.Key_1)
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    issued(qtbot, desk, 0)
    qtbot.keyClick(desk, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: bool(desk.findChildren(SummaryDialog)), timeout=5_000)
    dlg = desk.findChildren(SummaryDialog)[0]
    qtbot.waitUntil(lambda: dlg.pages.count() > 0, timeout=20_000)
    assert "未日终" in dlg.state.text() and "取号 1" in dlg.state.text()
    dlg.close()


def test_status_bar_warns_when_a_nightly_sync_was_missed(qtbot: QtBot, desk: DeskWindow) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    assert desk.store is not None
    old = datetime.now(UTC) - timedelta(days=3)
    with desk.store.engine.begin() as c:
        c.execute(
            text("insert into sync_state (key, value) values ('last_success_at', :v)"),
            {"v": old.isoformat()},
        )
    desk.refresh_sync_status()
    when = old.astimezone(desk.settings.tz).strftime("%m-%d %H:%M")
    qtbot.waitUntil(lambda: f"上次成功 {when}" in desk.sync_label.text(), timeout=5_000)
    # what matters in words staff read: missed, since when; the count is for the tooltip
    assert desk.sync_label.text().startswith("夜间同步未完成")
    assert "（3 天前）" in desk.sync_label.text() and "待上传" not in desk.sync_label.text()
    assert "待上传" in desk.sync_label.toolTip()
    with desk.store.engine.begin() as c:
        c.execute(
            text("update sync_state set value = :v where key = 'last_success_at'"),
            {"v": datetime.now(UTC).isoformat()},
        )
    desk.refresh_sync_status()
    qtbot.waitUntil(lambda: desk.sync_label.text().startswith("总行同步：上次成功"), timeout=5_000)
    assert re.search(r"下次 (今晚|明天) \d\d:\d\d", desk.sync_label.text()), desk.sync_label.text()


def test_status_bar_of_a_branch_never_synced_says_when_the_first_runs(
    qtbot: QtBot, desk: DeskWindow
) -> None:
    st = dict(desk.backend.sync_status(), missed=False, last_success_at=None)
    desk._show_sync_status(st)
    assert desk.sync_label.text().startswith("总行同步：尚未同步过 · 首次同步")
    desk._show_sync_status(dict(st, missed=True))
    assert desk.sync_label.text().startswith("夜间同步未完成：本网点还没有成功上传过总行")


def test_work_asked_after_the_worker_shut_down_is_dropped_quietly(qtbot: QtBot) -> None:
    """A refresh from a late timer or hub event while the window closes raised
    "cannot schedule new futures after shutdown" in the Qt event loop (seen in CI)."""
    from lobby_app.ui.worker import Worker

    qt_app()
    w = Worker()
    w.shutdown()
    ran: list[int] = []
    w.submit(lambda: ran.append(1))
    assert ran == [] and not w.busy


def test_vip_and_priority_both_show_on_the_result(qtbot: QtBot, desk: DeskWindow) -> None:
    """Issue 18 item 6: an elderly VIP keeps the priority on the desk's result, the stored
    ticket and the printed ticket."""
    qtbot.keyClicks(desk.search, "oymh")
    qtbot.keyClick(desk.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.customer is not None)
    assert desk.vip_check.isChecked()
    desk.priority_combo.setCurrentIndex(desk.priority_combo.findText("老年人"))
    qtbot.keyClick(desk.business_list, Qt.Key.Key_Return)
    issued(qtbot, desk, 0)
    (t,) = tickets(desk.store)
    assert (t.vip, t.priority, t.green_channel) == (True, "elderly", True)
    qtbot.waitUntil(lambda: "贵宾" in desk.result_text.text())
    assert "优先服务（老年人）" in desk.result_text.text()
    assert desk.last_issued is not None and desk.last_issued.priority is not None


def test_print_status_says_where_the_ticket_went(qtbot: QtBot, desk: DeskWindow) -> None:
    """Printed, saved to a folder, or nowhere: three different sentences."""
    from lobby_app.lobby import PrintOutcome

    desk._show_print(PrintOutcome(True, None, "已发送到打印机 TM-T82", went="printer"))
    assert desk.print_status.text() == "已打印：已发送到打印机 TM-T82"
    desk._show_print(PrintOutcome(True, None, "票据已保存到 /x/A001.pdf", went="folder"))
    assert (
        desk.print_status.text().startswith("未送打印机")
        and "/x/A001.pdf" in desk.print_status.text()
    )
    desk._show_print(PrintOutcome(True, None, "本机未设置打印", went="none"))
    assert desk.print_status.text().startswith("未打印") and "打印设置" in desk.print_status.text()


def test_at_1366_by_768_results_and_all_four_queues_fit(qtbot: QtBot, desk: DeskWindow) -> None:
    """Issue 18 item 8: on a 1366×768 screen the results show tier and VIP card and the
    customer's manager without scrolling sideways, and all four zone queues are in view,
    a busy one taller than an empty one."""
    from lobby_app.store.commands import IssueRequest

    for i in range(24):
        commands.issue_ticket(desk.store, IssueRequest("cash" if i % 2 else "card"))
    desk.resize(1366, 740)  # the screen less the task bar
    desk.refresh_lobby()
    qtbot.keyClicks(desk.search, "z")
    qtbot.waitUntil(lambda: desk.customer_model.rowCount() > 5, timeout=10_000)
    qtbot.waitUntil(lambda: desk.zone_models[Zone.CLOSED_COUNTER].rowCount() >= 12)
    qtbot.wait(200)  # let the layout settle
    model = desk.customer_model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    for name in ("层级 · 贵宾卡", "经理", "匹配", "手机号"):
        assert not desk.results.isColumnHidden(headers.index(name)), name
    assert desk.results.horizontalScrollBar().maximum() == 0  # nothing behind a scroll
    scroll = desk.zone_views[Zone.SELF_SERVICE].parentWidget().parentWidget().parentWidget()
    assert scroll.verticalScrollBar().maximum() == 0  # all four queues in view at once
    for z in Zone:
        assert desk.zone_views[z].isVisible() and desk.zone_views[z].height() >= 40, z
    busy = desk.zone_views[Zone.CLOSED_COUNTER].height()
    assert busy > desk.zone_views[Zone.SELF_SERVICE].height() + 40
    desk.grab().save(str(desk.store.data_dir / "desk-1366.png"))
