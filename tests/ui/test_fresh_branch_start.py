"""A freshly installed branch: nobody can sign in at the desk yet, so its set-up comes first."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from lobby_app.store import Store, admin
from lobby_app.ui.app import set_up_before_sign_in
from lobby_app.ui.branch_setup import BranchSetupWindow


def answer_modals(store: Store, seen: list[str], *, open_setup: bool) -> QTimer:
    """Plays the branch head at the screen: answers the question, adds a lobby manager with a
    PIN in the set-up window, closes it."""

    def step() -> None:
        modal: QWidget | None = QApplication.activeModalWidget()
        if isinstance(modal, QMessageBox):
            seen.append(modal.text())
            button = (
                QMessageBox.StandardButton.Open if open_setup else QMessageBox.StandardButton.Close
            )
            modal.button(button).click()
        elif isinstance(modal, BranchSetupWindow):
            seen.append("setup")
            admin.add_staff(store, "L01", name="陈静", role="lobby_manager", pin="1357", actor="")
            modal.reject()

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(step)
    timer.start()
    return timer


def test_fresh_branch_opens_its_set_up_before_the_sign_in(qtbot: QtBot, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    try:
        assert not admin.anyone_can_sign_in_at_desk(store)
        seen: list[str] = []
        timer = answer_modals(store, seen, open_setup=True)
        assert set_up_before_sign_in(store) is True
        timer.stop()
        assert "还没有可以登录" in seen[0] and "setup" in seen
        assert admin.anyone_can_sign_in_at_desk(store)
    finally:
        store.close()


def test_fresh_branch_can_be_left_without_set_up(qtbot: QtBot, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    try:
        seen: list[str] = []
        timer = answer_modals(store, seen, open_setup=False)
        assert set_up_before_sign_in(store) is False
        timer.stop()
        assert seen and "setup" not in seen
        # a teller with a PIN is no one who can work the desk
        admin.add_staff(store, "T01", name="王芳", role="teller", pin="1111", actor="")
        assert not admin.anyone_can_sign_in_at_desk(store)
    finally:
        store.close()
