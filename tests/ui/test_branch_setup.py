"""网点设置: a fresh branch set up in the window (branch head, counters, staff, the branch), and
the desk's entry point asking a branch head to sign in."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from lobby_app.core.zones import Zone
from lobby_app.store import Store, admin, commands
from lobby_app.ui.app import qt_app
from lobby_app.ui.branch_setup import (
    NO_HEAD_BANNER,
    BranchSetupWindow,
    FormDialog,
    HeadLoginDialog,
    ResultDialog,
    open_branch_setup,
)

SIX_STAFF = (
    "工号,姓名,岗位,密码,位置\n"
    "L01,陈静,大堂经理,1111,\n"
    "G01,刘洋,大堂引导员,,\n"
    "T01,王芳,柜员,2222,\n"
    "T02,李娜,柜员,,\n"
    "M01,张伟,客户经理,3333,理财室1\n"
    "T03,赵敏,柜员,4444,\n"
)

BAD_STAFF = (
    "工号,姓名,岗位\n"
    "T10,孙丽,柜员\n"
    "T 11,周平,柜员\n"  # line 3: a space in the staff number
    "T12,,柜员\n"  # line 4: no name
    "T13,吴刚,出纳\n"  # line 5: no such role
)


@pytest.fixture
def window(qtbot: QtBot, store: Store) -> BranchSetupWindow:
    qt_app()
    win = BranchSetupWindow(store)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.loads >= 1)
    return win


def save(qtbot: QtBot, win: BranchSetupWindow, dlg: FormDialog) -> None:
    """Press 保存 and wait until the dialog closed and the tabs were filled again."""
    loads = win.loads
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.save_button.click()
    qtbot.waitUntil(lambda: win.loads > loads, timeout=10_000)


def run(qtbot: QtBot, win: BranchSetupWindow, action: Callable[[], object]) -> None:
    loads = win.loads
    action()
    qtbot.waitUntil(lambda: win.loads > loads, timeout=10_000)


def shown_counters(win: BranchSetupWindow) -> list[int]:
    rows = (win.counter_model.row_at(i) for i in range(win.counter_model.rowCount()))
    return [c.window for c in rows if c is not None]


def test_a_fresh_branch_is_set_up_in_the_window(
    qtbot: QtBot, store: Store, window: BranchSetupWindow, tmp_path: Path
) -> None:
    win = window
    # fits a 1366×768 screen with a taskbar, and opens no larger than asked
    for size in (win.size(), win.sizeHint(), win.minimumSizeHint()):
        assert size.width() <= 1366 and size.height() <= 768 - 48
    assert win.windowTitle() == "网点设置" and win.tabs.count() == 3
    assert win.banner.isVisible() and win.banner.text() == NO_HEAD_BANNER
    assert win.actor == ""

    # -- the first branch head, with a PIN, from the 员工 tab
    win.tabs.setCurrentIndex(2)
    dlg = win.add_staff()
    dlg.staff_no.setText("H01")
    dlg.name.setText("周志强")
    dlg.role.setCurrentIndex(dlg.role.findData("branch_head"))
    dlg.pin.setText("1234")
    dlg.pin2.setText("1243")
    dlg.save_button.click()
    assert "不一致" in dlg.errors.text("pin2") and dlg.isVisible()  # refused, input kept
    assert dlg.name.text() == "周志强"
    dlg.pin2.setText("1234")
    save(qtbot, win, dlg)
    assert win.actor == "H01"  # from now on the set-up is recorded as the branch head's
    assert "H01" in win.banner.text() and "网点负责人登录" in win.banner.text()
    with store.read() as s:
        assert admin.has_branch_head(s)
    picked = win.selected_staff()  # the new row is selected
    assert picked is not None and picked.staff_no == "H01"

    # -- four counters of different kinds, zones in order
    win.tabs.setCurrentIndex(1)
    plans = [
        (1, "现金业务", "closed_cash", None),
        (2, "个人业务", "open_service", ["open_counter", "closed_counter"]),
        (5, "贵宾现金", "vip_cash", None),
        (8, "理财室", "vip_room", None),
    ]
    for number, name, kind, zones in plans:
        c = win.add_counter()
        c.number.setValue(number)
        c.name.setText(name)
        c.set_kind(kind)
        if kind == "vip_cash":  # choosing the kind fills its zones and the VIP flag
            assert c.values()["zones"] == ["vip", "closed_counter"] and c.vip.isChecked()
        if zones:
            c.zones.item_for(Zone.CLOSED_COUNTER).setCheckState(Qt.CheckState.Checked)
            assert c.values()["zones"] == ["open_counter", "closed_counter"]
            c.zones.list.setCurrentItem(c.zones.item_for(Zone.CLOSED_COUNTER))
            c.zones.up.click()  # high counter first …
            assert c.values()["zones"] == ["closed_counter", "open_counter"]
            c.zones.down.click()  # … and back: the low counter is its home zone
            assert c.values()["zones"] == zones
            c.priority.setChecked(True)
        save(qtbot, win, c)
    assert shown_counters(win) == [1, 2, 5, 8]
    saved = {c.window: c for c in admin.list_counters(store)}
    assert saved[5].zones == ["vip", "closed_counter"] and saved[5].vip_window
    assert saved[2].zones == ["open_counter", "closed_counter"] and saved[2].priority_window
    assert saved[1].zones == ["closed_counter"] and not saved[1].vip_window
    assert saved[8].kind == "vip_room" and saved[8].zones == ["vip"]
    row = shown_counters(win).index(5)
    texts = [win.counter_model.index(row, col).data() for col in range(7)]
    assert texts[:6] == ["5", "贵宾现金", "贵宾现金柜台", "贵宾 → 高柜", "是", ""]
    assert texts[6] == "无人签到"

    again = win.add_counter()  # a number in use: said under the number, nothing saved
    again.number.setValue(2)
    again.name.setText("重复")
    again.save_button.click()
    assert "2 号窗口已存在" in again.errors.text("number") and again.isVisible()
    again.reject()

    # edit: a new name, the zones stay as chosen
    assert win.select_counter(1)
    edit = win.edit_counter()
    assert edit is not None and not edit.number.isEnabled()
    edit.name.setText("现金业务(外币)")
    save(qtbot, win, edit)
    assert {c.window: c.name for c in admin.list_counters(store)}[1] == "现金业务(外币)"

    # -- six staff from a CSV file; a bad file imports nothing and says which lines
    win.tabs.setCurrentIndex(2)
    good = tmp_path / "员工.csv"
    good.write_text(SIX_STAFF, encoding="utf-8-sig")
    loads = win.loads
    win.import_csv(good)
    qtbot.waitUntil(lambda: isinstance(win.dialog, ResultDialog) and win.loads > loads)
    assert isinstance(win.dialog, ResultDialog)
    assert "新增 6 人" in win.dialog.summary.text()
    win.dialog.reject()
    assert len(admin.list_staff(store)) == 7

    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD_STAFF.encode("gb18030"))  # as Excel saves it on a Chinese PC
    win.import_csv(bad)
    qtbot.waitUntil(lambda: isinstance(win.dialog, ResultDialog))
    assert isinstance(win.dialog, ResultDialog)
    result = win.dialog
    assert "3 处错误" in result.summary.text() and "没有导入" in result.summary.text()
    lines = result.lines.toPlainText().splitlines()
    assert lines[0].startswith("第 3 行 工号：")
    assert lines[1].startswith("第 4 行 姓名：") and lines[2].startswith("第 5 行 岗位：")
    result.reject()
    assert {p.staff_no for p in admin.list_staff(store)} == {
        "H01",
        "L01",
        "G01",
        "T01",
        "T02",
        "M01",
        "T03",
    }  # T10, the good line of the bad file, was not imported either

    # -- a PIN for someone who has none; lock and unlock
    assert win.select_staff("T02")
    pin = win.set_pin()
    assert pin is not None
    pin.pin.setText("5678")
    pin.pin2.setText("5678")
    save(qtbot, win, pin)
    assert {p.staff_no: p.has_pin for p in admin.list_staff(store)}["T02"]

    assert win.select_staff("T01")
    assert win.staff_lock.isEnabled() and not win.staff_unlock.isEnabled()
    run(qtbot, win, win.staff_lock.click)
    picked = win.selected_staff()
    assert picked is not None and picked.staff_no == "T01" and picked.locked
    numbers = [p.staff_no for p in win.staff_model._rows]
    assert win.staff_model.index(numbers.index("T01"), 3).data() == "锁定"
    assert win.staff_unlock.isEnabled() and not win.staff_lock.isEnabled()
    run(qtbot, win, win.staff_unlock.click)
    assert win.staff_model.index(numbers.index("T01"), 3).data() == "在岗"
    assert "已解锁" in win.status.text()

    # the last branch head who can sign in cannot be locked out: said in the window
    assert win.select_staff("H01")
    win.staff_lock.click()
    qtbot.waitUntil(lambda: "最后一位" in win.status.text())

    # -- retire a counter: gone from the list, shown with 显示已撤销
    win.tabs.setCurrentIndex(1)
    assert win.select_counter(8)
    box = win.retire_counter()
    assert box is not None and "以往各天" in box.informativeText()
    run(qtbot, win, box.button(QMessageBox.StandardButton.Yes).click)
    assert 8 not in shown_counters(win)
    win.show_retired.setChecked(True)
    assert 8 in shown_counters(win)
    row8 = shown_counters(win).index(8)
    assert win.counter_model.index(row8, 6).data() == "已撤销"
    assert win.select_counter(8) and not win.counter_retire.isEnabled()

    # -- the branch: every wrong field said under it, input kept; then saved
    win.tabs.setCurrentIndex(0)
    win.bank.setText("")
    win.branch_code.setText("310-115")
    win.open_time.setTime(win.close_time.time())
    win.save_branch()
    assert "银行名称" in win.branch_errors.text("bank")
    assert "字母和数字" in win.branch_errors.text("code")
    assert "早于" in win.branch_errors.text("hours")
    assert win.branch_code.text() == "310-115"
    win.bank.setText("中国工商银行")
    win.branch_name.setText("城东支行")
    win.branch_code.setText("310115001")
    win.open_time.setTime(win.open_time.time().fromString("08:30", "HH:mm"))
    win.close_time.setTime(win.close_time.time().fromString("17:30", "HH:mm"))
    win.wait_target.setValue(12)
    win.idle_lock.setValue(5)
    win.save_branch()
    qtbot.waitUntil(lambda: "已保存" in win.branch_saved.text())
    assert not win.branch_errors.text("bank") and not win.branch_errors.text("hours")
    st = commands.settings(store)
    assert (st.bank_name, st.branch_name, st.branch_code) == (
        "中国工商银行",
        "城东支行",
        "310115001",
    )
    assert (st.open_time, st.close_time) == ("08:30", "17:30")
    assert (st.wait_target_min, st.desk_idle_lock_min) == (12, 5)


def _head_and_manager(store: Store) -> None:
    admin.add_staff(store, "H01", name="周志强", role="branch_head", pin="1234", actor="")
    admin.add_staff(store, "L01", name="陈静", role="lobby_manager", pin="1111", actor="H01")


def drive_modals(
    qtbot: QtBot, steps: Callable[[QApplication], bool], open_it: Callable[[], None]
) -> None:
    """Run ``open_it`` (which blocks in exec()) while a timer drives the modal windows;
    ``steps`` returns True when done. Anything left open after 30 s is closed."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    deadline = time.monotonic() + 30
    finished: list[bool] = []
    failed: list[BaseException] = []

    def close_modal() -> None:
        w = app.activeModalWidget()
        if w is not None:
            w.close()

    def tick() -> None:
        if finished:
            return
        if failed or time.monotonic() > deadline:
            close_modal()  # never leave the test blocked in exec()
            return
        try:
            if steps(app):
                finished.append(True)
        except BaseException as exc:  # an assertion in a step: close up, report below
            failed.append(exc)

    timer = QTimer()
    timer.setInterval(30)
    timer.timeout.connect(tick)
    timer.start()
    try:
        open_it()
    finally:
        timer.stop()
    if failed:
        raise failed[0]
    assert finished, "the dialogs did not go as expected"


def test_open_branch_setup_asks_a_branch_head_and_refuses_others(
    qtbot: QtBot, store: Store
) -> None:
    qt_app()
    _head_and_manager(store)
    seen: list[str] = []
    actors: list[str] = []

    def steps(app: QApplication) -> bool:
        w = app.activeModalWidget()
        if isinstance(w, HeadLoginDialog) and w.isVisible() and not w.busy:
            assert w.pin.echoMode() == w.pin.EchoMode.Password
            if not seen:
                w.staff_no.setText("L01")  # a lobby manager, right PIN: still refused
                w.pin.setText("1111")
                w.accept()
                seen.append("manager")
            elif seen == ["manager"] and w.error.text():
                assert "不是网点负责人" in w.error.text() and "大堂经理" in w.error.text()
                assert w.pin.text() == ""  # the PIN is typed again
                w.staff_no.setText("H01")
                w.pin.setText("9999")
                w.accept()
                seen.append("wrong pin")
            elif seen == ["manager", "wrong pin"] and "不正确" in w.error.text():
                w.pin.setText("1234")
                w.accept()
                seen.append("head")
        elif isinstance(w, BranchSetupWindow) and w.loads:
            assert not w.banner.isVisible()
            actors.append(w.actor)
            w.reject()
            return True
        return False

    drive_modals(qtbot, steps, lambda: open_branch_setup(None, store))
    assert seen == ["manager", "wrong pin", "head"] and actors == ["H01"]


def test_open_branch_setup_cancelled_opens_nothing(qtbot: QtBot, store: Store) -> None:
    qt_app()
    _head_and_manager(store)
    opened: list[str] = []

    def steps(app: QApplication) -> bool:
        w = app.activeModalWidget()
        if isinstance(w, BranchSetupWindow):
            opened.append("window")
            w.reject()
        if isinstance(w, HeadLoginDialog) and w.isVisible():
            w.reject()
            return True
        return False

    drive_modals(qtbot, steps, lambda: open_branch_setup(None, store))
    assert not opened


def test_open_branch_setup_on_a_fresh_branch_needs_no_sign_in(qtbot: QtBot, store: Store) -> None:
    qt_app()

    def steps(app: QApplication) -> bool:
        w = app.activeModalWidget()
        assert not isinstance(w, HeadLoginDialog)
        if isinstance(w, BranchSetupWindow) and w.loads:
            assert w.banner.isVisible() and "还没有网点负责人" in w.banner.text()
            assert w.actor == ""
            w.reject()
            return True
        return False

    drive_modals(qtbot, steps, lambda: open_branch_setup(None, store))
