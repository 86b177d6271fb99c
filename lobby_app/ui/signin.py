"""Signing in at the desk: staff number + PIN, checked off the Qt thread.

``SignInForm`` is the form itself; the start-up ``SignInDialog`` and the desk's lock panel
(idle lock, shift change) both use it. The check (``DeskBackend.sign_in``) refuses a wrong
PIN, a locked staff number and anyone who is not a desk role, in words to show as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.store.admin import Person
from lobby_app.ui.worker import Worker

log = logging.getLogger(__name__)

Check = Callable[[str, str], Person]
ERROR_STYLE = "color: #b00020; font-weight: bold;"


def person_label(person: Person) -> str:
    """姓名（工号）, or the staff number alone when the name is not known here."""
    return f"{person.name}（{person.staff_no}）" if person.name else person.staff_no


class SignInForm(QWidget):
    """工号, 密码, a button; ``signed_in(person, pin)`` once the check passes. The PIN is
    handed on only for a desk on another PC, which must log in at the hub as the new person."""

    signed_in = Signal(object, str)

    def __init__(
        self,
        check: Check,
        worker: Worker,
        *,
        button: str = "",
        staff: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.check = check
        self.worker = worker
        self.busy = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.staff = QLineEdit(staff)
        self.staff.setMaxLength(32)
        self.staff.setPlaceholderText(tr("如 L01"))
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(64)
        self.staff.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self.submit)
        form.addRow(tr("工号"), self.staff)
        form.addRow(tr("密码"), self.pin)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        form.addRow(self.message)
        self.button = QPushButton(button or tr("登录"))
        self.button.setDefault(True)
        self.button.setMinimumHeight(32)
        self.button.clicked.connect(self.submit)
        form.addRow(self.button)

    def reset(self, staff: str = "") -> None:
        self.staff.setText(staff)
        self.pin.clear()
        self.say("")
        (self.pin if staff else self.staff).setFocus()

    def say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        win = self.window()
        if isinstance(win, QDialog):  # a dialog grows to show the whole message
            win.adjustSize()

    def submit(self) -> None:
        if self.busy:
            return
        staff, pin = self.staff.text().strip(), self.pin.text()
        if not staff:
            self.say(tr("请输入工号"))
            self.staff.setFocus()
            return
        if not pin:
            self.say(tr("请输入密码"))
            self.pin.setFocus()
            return
        self.busy = True
        self.button.setEnabled(False)
        self.say("")
        check = self.check
        self.worker.submit(
            lambda: check(staff, pin),
            lambda person: self._passed(person, pin),
            self._failed,
        )

    def _passed(self, person: Person, pin: str) -> None:
        self.busy = False
        self.button.setEnabled(True)
        self.pin.clear()
        self.signed_in.emit(person, pin)

    def _failed(self, error: object) -> None:
        self.busy = False
        self.button.setEnabled(True)
        if isinstance(error, LobbyError):
            self.say(error.message)
        else:
            log.error("sign-in check failed: %r", error)
            self.say(tr(f"无法核对工号和密码：{error}。请稍后重试"))
        self.pin.clear()
        (
            self.staff if isinstance(error, LobbyError) and error.field == "staff" else self.pin
        ).setFocus()


class SignInDialog(QDialog):
    """The desk's start: who works here now. ``person`` after it is accepted."""

    def __init__(
        self,
        check: Check,
        *,
        title: str,
        intro: str = "",
        staff: str = "",
        worker: Worker | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.person: Person | None = None
        self.pin = ""
        self._own_worker = worker is None
        self.worker = worker or Worker(self)
        root = QVBoxLayout(self)
        root.setSpacing(10)
        self.head = head = QLabel(title)  # kept: see desk._build_lock
        head.setStyleSheet("font-size: 16pt; font-weight: bold;")
        root.addWidget(head)
        self.note = note = QLabel(
            intro
            or tr(
                "请大堂经理、大堂引导员或网点负责人用本人工号和密码登录，之后的操作都记在登录人名下。"
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        root.addWidget(note)
        self.form = SignInForm(check, self.worker, staff=staff, parent=self)
        self.form.signed_in.connect(self._signed_in)
        root.addWidget(self.form)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel = QPushButton(tr("退出"))
        self.cancel.setAutoDefault(False)
        self.cancel.clicked.connect(self.reject)
        row.addWidget(self.cancel)
        root.addLayout(row)
        self.setMinimumWidth(420)
        self.form.reset(staff)
        self.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)

    def _signed_in(self, person: Person, pin: str) -> None:
        self.person, self.pin = person, pin
        self.accept()

    def done(self, result: int) -> None:
        if self._own_worker:
            self.worker.shutdown()
        super().done(result)
