"""登记新客户: a walk-in who agrees becomes a customer (a branch prospect) at the desk.

Name, mobile number, optionally the ID number (masked once typed), and the customer's
consent. The store refuses what it must (no consent, a bad phone or ID, a customer already
known); the refusal is shown next to its field and everything typed stays.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.store.walkin import Registered
from lobby_app.ui.worker import Worker

log = logging.getLogger(__name__)

# name, phone, id_number, consent -> the registered customer (runs on the worker thread)
Register = Callable[[str, str, str | None, bool], Registered]
ERROR_STYLE = "color: #b00020;"
CONSENT_TEXT = tr("客户已同意登记并用于营销联系")


class RegisterDialog(QDialog):
    registered = Signal(object)  # Registered, after the store took it

    def __init__(
        self,
        register: Register,
        worker: Worker,
        *,
        search_text: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.register = register
        self.worker = worker
        self.busy = False
        self.result_customer: Registered | None = None
        self.setWindowTitle(tr("登记新客户"))
        root = QVBoxLayout(self)
        # widgets only a layout refers to are kept here too (see desk._build_lock)
        self.intro = intro = QLabel(
            tr(
                "为未登记的客户建立客户信息(潜在客户)，总行核实后以总行信息为准。"
                "登记前请向客户说明用途并征得同意。"
            )
        )
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #555;")
        root.addWidget(intro)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.name = QLineEdit()
        self.name.setMaxLength(40)
        self.name.setPlaceholderText(tr("客户姓名"))
        self.phone = QLineEdit()
        self.phone.setMaxLength(20)
        self.phone.setPlaceholderText(tr("11位手机号"))
        self.id_number = QLineEdit()
        self.id_number.setMaxLength(18)
        self.id_number.setPlaceholderText(tr("选填：18位居民身份证号"))
        # shown while typed, masked once the cursor leaves it (people stand behind the desk)
        self.id_number.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.consent = QCheckBox(CONSENT_TEXT)
        self.errors: dict[str, QLabel] = {}
        rows: tuple[tuple[str, str, QWidget], ...] = (
            ("name", tr("姓名"), self.name),
            ("phone", tr("手机号"), self.phone),
            ("id_number", tr("证件号码(选填)"), self.id_number),
            ("consent", "", self.consent),
        )
        self.labels: list[QLabel] = []
        for i, (field, label, widget) in enumerate(rows):
            if label:
                self.labels.append(QLabel(label))
                grid.addWidget(self.labels[-1], 2 * i, 0)
            grid.addWidget(widget, 2 * i, 1)
            err = QLabel()
            err.setWordWrap(True)
            err.setStyleSheet(ERROR_STYLE)
            err.hide()
            grid.addWidget(err, 2 * i + 1, 1)
            self.errors[field] = err
        grid.setColumnStretch(1, 1)
        root.addLayout(grid)
        self.message = QLabel()  # what belongs to no field (the hub lost, a refusal of the actor)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        root.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.ok: QPushButton = buttons.addButton(tr("确定"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel: QPushButton = buttons.addButton(
            tr("取消"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.ok.setDefault(True)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
        self.setMinimumWidth(460)
        self._prefill(search_text)
        self.name.setFocus()

    def _prefill(self, text: str) -> None:
        """What was typed in the search box and found nobody: a phone number or a name."""
        t = text.strip()
        if re.fullmatch(r"1\d{10}", t):
            self.phone.setText(t)
        elif t and re.search(r"[\u4e00-\u9fff]", t) and not re.search(r"\d", t):
            self.name.setText(t)

    def field_error(self, field: str) -> str:
        label = self.errors.get(field)
        return label.text() if label is not None and label.isVisible() else ""

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()
        self.message.clear()
        self.message.hide()

    def submit(self) -> None:
        if self.busy:
            return
        self._clear_errors()
        name, phone = self.name.text(), self.phone.text()
        ident = self.id_number.text().strip() or None
        consent = self.consent.isChecked()
        register = self.register
        self.busy = True
        self.ok.setEnabled(False)
        self.worker.submit(lambda: register(name, phone, ident, consent), self._done, self._failed)

    def _done(self, reg: Registered) -> None:
        if not shiboken6.isValid(self):  # closed meanwhile (the desk locked): nothing to show
            log.info("registered %s after the dialog closed", reg.customer_no)
            return
        self.busy = False
        self.ok.setEnabled(True)
        self.result_customer = reg
        self.registered.emit(reg)
        self.accept()

    def _failed(self, error: object) -> None:
        if not shiboken6.isValid(self):
            return
        self.busy = False
        self.ok.setEnabled(True)
        if not isinstance(error, LobbyError):
            log.error("registration failed: %r", error)
            self.message.setText(tr(f"登记未完成：{error}。请重试"))
            self.message.show()
            return
        label = self.errors.get(error.field or "")
        if label is None:
            self.message.setText(error.message)
            self.message.show()
            self.adjustSize()
            return
        label.setText(error.message)
        label.show()
        self.adjustSize()  # the message shows whole, the input stays
        target: QWidget = {
            "name": self.name,
            "phone": self.phone,
            "id_number": self.id_number,
            "consent": self.consent,
        }[error.field or ""]
        target.setFocus(Qt.FocusReason.OtherFocusReason)
