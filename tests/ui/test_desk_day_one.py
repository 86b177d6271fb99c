"""Day one at a real branch: sign-in at the desk, idle lock and shift change, walk-in
registration, a branch without counters, a teller leaving the window, small screens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from lobby_app.desk_backend import LocalDesk
from lobby_app.hub.thread import HubThread
from lobby_app.models import AuditEvent, Ticket
from lobby_app.store import Store, admin, commands, teller
from lobby_app.store.admin import Person
from lobby_app.store.demo import DEMO_PIN
from lobby_app.ui.app import build_desk, qt_app
from lobby_app.ui.desk import NO_COUNTERS, NO_OPEN_WINDOW, DeskWindow
from lobby_app.ui.hublink import HubLink
from lobby_app.ui.signin import SignInDialog
from lobby_app.ui.summary_dialog import SummaryDialog
from lobby_app.ui.teller import TellerWindow
from tests.ui.conftest import L01


def open_desk(qtbot: QtBot, store: Store, person: Person) -> DeskWindow:
    qt_app()
    w = build_desk(store, actor=person)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0)
    qtbot.waitUntil(lambda: not w.worker.busy)
    return w


def tickets(store: Store) -> list[Ticket]:
    with store.read() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.issued_at)))


def issue_walk_in(qtbot: QtBot, desk: DeskWindow) -> Ticket:
    store = desk.store
    assert store is not None
    before = len(tickets(store))
    desk.choose_walk_in()
    desk.issue()
    qtbot.waitUntil(lambda: len(tickets(store)) == before + 1 and not desk._issuing, timeout=10_000)
    return tickets(store)[-1]


def sign_in(qtbot: QtBot, dlg: SignInDialog, staff: str, pin: str) -> None:
    dlg.form.staff.setText(staff)
    dlg.form.pin.setText(pin)
    dlg.form.button.click()
    qtbot.waitUntil(lambda: not dlg.form.busy, timeout=10_000)


# ---------------------------------------------------------------- sign-in


def test_sign_in_refuses_a_teller_and_a_wrong_pin_and_records_the_person(
    qtbot: QtBot, demo_store: Store
) -> None:
    qt_app()
    dlg = SignInDialog(LocalDesk(demo_store).sign_in, title="大堂经理工作台 · 登录")
    qtbot.addWidget(dlg)
    dlg.show()
    sign_in(qtbot, dlg, "T01", DEMO_PIN)
    assert dlg.isVisible() and dlg.person is None
    assert "不能登录大堂工作台" in dlg.form.message.text()
    sign_in(qtbot, dlg, "L01", "0000")
    assert dlg.isVisible() and dlg.person is None
    assert dlg.form.message.text() == "工号或密码不正确"
    assert dlg.form.staff.text() == "L01" and dlg.form.pin.text() == ""  # kept; PIN again
    sign_in(qtbot, dlg, "G01", DEMO_PIN)
    qtbot.waitUntil(lambda: dlg.person is not None)
    assert dlg.result() == SignInDialog.DialogCode.Accepted
    assert dlg.person == Person("G01", "刘洋", "lobby_guide")

    desk = open_desk(qtbot, demo_store, dlg.person)
    assert "刘洋（G01）" in desk.windowTitle()
    assert "刘洋（G01）" in desk.person_label.text()
    assert issue_walk_in(qtbot, desk).issued_by == "G01"


# ---------------------------------------------------------------- lock and takeover


def test_idle_lock_then_takeover_records_the_new_person(qtbot: QtBot, demo_store: Store) -> None:
    desk = open_desk(qtbot, demo_store, Person("G01", "刘洋", "lobby_guide"))
    desk.idle_lock_ms = 150
    qtbot.waitUntil(lambda: desk.locked, timeout=5_000)
    assert desk.stack.currentIndex() == 1 and not desk.splitter.isVisible()
    assert not desk.lock_action.isEnabled()  # nothing works behind the lock
    assert desk.lock_form.staff.text() == "G01"
    desk.idle_lock_ms = 0  # no second lock while the test works

    desk.lock_form.staff.setText("T01")  # a teller cannot take the desk
    desk.lock_form.pin.setText(DEMO_PIN)
    desk.lock_form.button.click()
    qtbot.waitUntil(lambda: desk.lock_form.message.isVisible(), timeout=10_000)
    assert desk.locked and "不能登录大堂工作台" in desk.lock_form.message.text()

    desk.lock_form.staff.setText("L01")
    desk.lock_form.pin.setText(DEMO_PIN)
    desk.lock_form.button.click()
    qtbot.waitUntil(lambda: not desk.locked, timeout=10_000)
    assert desk.actor == "L01" and desk.splitter.isVisible()
    assert "陈静（L01）" in desk.windowTitle()
    assert "已换班" in desk.error_label.text()
    assert issue_walk_in(qtbot, desk).issued_by == "L01"
    with demo_store.read() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "desk_takeover")).all()
    assert [(a.actor, a.detail) for a in audit] == [("L01", "G01->L01")]


def test_lock_now_and_the_same_person_unlocks(qtbot: QtBot, demo_store: Store) -> None:
    desk = open_desk(qtbot, demo_store, L01)
    desk.lock_action.trigger()
    assert desk.locked and "已锁定" in desk.person_label.text()
    desk.lock_form.pin.setText("9999")
    desk.lock_form.button.click()
    qtbot.waitUntil(lambda: desk.lock_form.message.isVisible(), timeout=10_000)
    assert desk.locked
    desk.lock_form.pin.setText(DEMO_PIN)
    desk.lock_form.button.click()
    qtbot.waitUntil(lambda: not desk.locked, timeout=10_000)
    assert desk.actor == "L01"
    with demo_store.read() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "desk_takeover")) is None


# ---------------------------------------------------------------- walk-in registration


def test_register_walk_in_becomes_the_customer_at_the_desk(qtbot: QtBot, demo_store: Store) -> None:
    desk = open_desk(qtbot, demo_store, L01)
    qtbot.keyClick(desk, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: desk.register_dialog is not None)
    dlg = desk.register_dialog
    assert dlg is not None and dlg.isVisible()
    dlg.name.setText("欧阳新客")
    dlg.phone.setText("13900007777")
    dlg.consent.setChecked(True)
    dlg.ok.click()
    qtbot.waitUntil(lambda: desk.customer is not None, timeout=10_000)
    assert not shiboken6.isValid(dlg) or not dlg.isVisible()  # closed (and deleted)
    c = desk.customer
    assert c is not None and c.customer_no.startswith("W")
    assert f"已登记为潜在客户 客户号 {c.customer_no}" in desk.error_label.text()
    found = commands.lookup_customers(demo_store, "欧阳新客")
    assert [f.customer_no for f in found] == [c.customer_no]
    assert [f.customer_no for f in commands.lookup_customers(demo_store, "13900007777")] == [
        c.customer_no
    ]
    before = len(tickets(demo_store))
    desk.issue()
    qtbot.waitUntil(lambda: len(tickets(demo_store)) == before + 1 and not desk._issuing)
    assert tickets(demo_store)[-1].customer_id == c.id


def test_registration_without_consent_is_refused_inside_the_dialog(
    qtbot: QtBot, demo_store: Store
) -> None:
    desk = open_desk(qtbot, demo_store, L01)
    desk.search.setText("13900008888")  # searched, nobody: the number goes into the dialog
    dlg = desk.open_register()
    assert dlg is not None
    assert dlg.phone.text() == "13900008888"
    dlg.name.setText("新客户")
    dlg.id_number.setText("11010519491231002X")
    dlg.ok.click()
    qtbot.waitUntil(lambda: bool(dlg.field_error("consent")), timeout=10_000)
    assert "同意" in dlg.field_error("consent")
    assert dlg.isVisible()
    assert (dlg.name.text(), dlg.phone.text(), dlg.id_number.text()) == (
        "新客户",
        "13900008888",
        "11010519491231002X",
    )
    assert commands.lookup_customers(demo_store, "新客户") == []
    dlg.phone.setText("1390000")  # a bad number is said next to the phone
    dlg.consent.setChecked(True)
    dlg.ok.click()
    qtbot.waitUntil(lambda: bool(dlg.field_error("phone")), timeout=10_000)
    assert not dlg.field_error("consent") and dlg.isVisible()
    dlg.reject()


# ---------------------------------------------------------------- counters


def test_a_branch_without_counters_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "fresh")
    try:
        desk = open_desk(qtbot, store, Person("B01", "", "branch_head"))
        qtbot.waitUntil(lambda: desk.banner.isVisible(), timeout=10_000)
        assert desk.banner.text() == NO_COUNTERS
        assert all(NO_OPEN_WINDOW in s.text() for s in desk.zone_stats.values())
        desk.close()
    finally:
        store.close()


def test_a_zone_without_an_open_window_says_so(qtbot: QtBot, demo_store: Store) -> None:
    desk = open_desk(qtbot, demo_store, L01)
    qtbot.waitUntil(lambda: desk.counters is not None)
    assert not desk.banner.isVisible()
    for c in teller.counters_view(demo_store):
        admin.sign_out_counter(demo_store, c.window, actor="B01")
    desk.refresh_lobby()
    qtbot.waitUntil(
        lambda: all(NO_OPEN_WINDOW in s.text() for s in desk.zone_stats.values()), timeout=10_000
    )
    assert not desk.banner.isVisible()
    t = issue_walk_in(qtbot, desk)  # customers can still wait
    assert t.status == "waiting"
    assert NO_OPEN_WINDOW in desk.result_text.text()


def test_branch_setup_on_a_remote_desk_is_sent_to_the_hub(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, demo_store: Store
) -> None:
    from PySide6.QtWidgets import QMessageBox

    desk = open_desk(qtbot, demo_store, L01)
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: said.append(text))
    desk.store = None  # as on a second desk
    desk.open_branch_setup()
    assert said == ["网点设置请在网点主机上进行。"]


# ---------------------------------------------------------------- the teller leaves


@pytest.fixture
def teller7(qtbot: QtBot, hub: HubThread) -> Iterator[TellerWindow]:
    qt_app()
    # the VIP room is a customer manager's (issue 16 item 12: a teller may not claim it)
    link = HubLink(hub.url, station="teller", key=hub.key, staff="M01", pin=DEMO_PIN, window=7)
    w = TellerWindow(link, 7)
    qtbot.addWidget(w)
    w.show()
    link.start()
    qtbot.waitUntil(lambda: w.buttons["call"].isEnabled(), timeout=10_000)
    yield w


def window7(store: Store) -> teller.CounterState:
    return next(c for c in teller.counters_view(store) if c.window == 7)


def test_closing_the_teller_window_signs_out(
    qtbot: QtBot, teller7: TellerWindow, demo_store: Store
) -> None:
    assert window7(demo_store).staff_no == "M01"
    qtbot.waitUntil(lambda: "郑雅文（M01）" in teller7.title.text(), timeout=10_000)
    teller7.close()
    state = window7(demo_store)
    assert state.staff_no is None and not state.is_open


def test_sign_out_button_signs_out_and_closes(
    qtbot: QtBot, teller7: TellerWindow, demo_store: Store
) -> None:
    teller7.buttons["sign_out"].click()
    qtbot.waitUntil(lambda: not teller7.isVisible(), timeout=10_000)
    assert teller7.signed_out
    assert window7(demo_store).staff_no is None


def test_a_window_without_its_teller_says_why(
    qtbot: QtBot, teller7: TellerWindow, demo_store: Store
) -> None:
    admin.sign_out_counter(demo_store, 7, actor="B01")  # e.g. the branch head closed it
    teller7.buttons["call"].click()
    qtbot.waitUntil(lambda: "没有柜员签到" in teller7.message.text(), timeout=10_000)


# ---------------------------------------------------------------- small screens


def fully_shown(w: QWidget, window: QWidget) -> bool:
    """Visible, inside the window, and not cut by any parent (a scroll area's viewport, a
    splitter): its visible region is all of it. (Walking up parentWidget() would wrap
    Qt-internal widgets in Python, which Qt may delete behind the wrappers' back.)"""
    if not w.isVisible():
        return False
    top_left = w.mapTo(window, QPoint(0, 0))
    if not window.rect().contains(QRect(top_left, w.size())):
        return False
    return w.visibleRegion().boundingRect() == w.rect()


@pytest.mark.parametrize("size", [(1366, 728), (1366, 688), (1280, 984)])
def test_desk_fits_small_screens(qtbot: QtBot, demo_store: Store, size: tuple[int, int]) -> None:
    desk = open_desk(qtbot, demo_store, L01)
    desk.resize(*size)
    qtbot.waitUntil(lambda: (desk.width(), desk.height()) == size)
    assert desk.minimumSizeHint().width() <= size[0]
    assert desk.minimumSizeHint().height() <= size[1]
    qtbot.waitUntil(lambda: fully_shown(desk.issue_button, desk))
    assert fully_shown(desk.statusBar(), desk)
    assert fully_shown(desk.person_label, desk)
    assert fully_shown(desk.search, desk) and fully_shown(desk.register_button, desk)
    for view in desk.zone_views.values():
        assert fully_shown(view, desk)
    for stat in desk.zone_stats.values():
        assert fully_shown(stat, desk)
    desk.lock()
    assert fully_shown(desk.lock_form.button, desk)


@pytest.fixture
def screen_1366x768(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1366×768 screen whose task bar leaves 1366×728 free."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QScreen

    monkeypatch.setattr(QScreen, "availableGeometry", lambda _self: QRect(0, 0, 1366, 728))


@pytest.mark.usefixtures("screen_1366x768")
def test_summary_dialog_fits_a_768_high_screen(qtbot: QtBot, demo_store: Store) -> None:
    qt_app()
    dlg = SummaryDialog(
        LocalDesk(demo_store), actor="L01", actor_label="陈静（L01）", today=date(2026, 12, 1)
    )
    qtbot.addWidget(dlg)
    assert dlg.width() <= 1366 and dlg.height() <= 728 - 30  # a title bar above it


@pytest.mark.usefixtures("screen_1366x768")
def test_desk_opens_within_the_free_screen(qtbot: QtBot, demo_store: Store) -> None:
    desk = open_desk(qtbot, demo_store, L01)
    assert desk.width() <= 1366 and desk.height() <= 728 - 30
    assert desk.x() >= 0 and desk.y() >= 0


def test_branch_setup_on_the_hub_pc_opens_it_and_reloads(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, demo_store: Store
) -> None:
    from lobby_app.ui import branch_setup

    desk = open_desk(qtbot, demo_store, L01)
    opened: list[object] = []

    def fake_setup(parent: object, store: Store) -> None:  # the counters change meanwhile
        opened.append((parent, store))
        for c in teller.counters_view(store):
            admin.sign_out_counter(store, c.window, actor="B01")

    monkeypatch.setattr(branch_setup, "open_branch_setup", fake_setup)
    desk.open_branch_setup()
    assert opened == [(desk, demo_store)]
    qtbot.waitUntil(
        lambda: all(NO_OPEN_WINDOW in s.text() for s in desk.zone_stats.values()), timeout=10_000
    )
