"""网点设置: the branch head's window over the branch, its counters and its staff.

Three tabs over ``lobby_app.store.admin``: the branch (names, code, hours, targets), the
counters (kind, zones in order, VIP and priority windows, retire) and the staff (add, edit,
PIN, lock, deactivate, CSV import). Every store call runs on the window's worker (PINs are
hashed with scrypt); every refusal is shown in the window or dialog it came from, with the
input kept.

Dialogs open with ``open()`` (window-modal, not blocking), so tests fill and save them like
a person would. ``open_branch_setup`` is the desk's entry point: a branch head signs in
first, once the branch has one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.pins import check_pin_format
from lobby_app.core.staffing import COUNTER_KINDS
from lobby_app.core.zones import Zone
from lobby_app.store import admin, commands
from lobby_app.store.admin import CounterInfo, StaffImport, StaffInfo
from lobby_app.store.db import Store
from lobby_app.store.setup import BranchSettings
from lobby_app.store.staff import StaffView, login, set_pin
from lobby_app.ui.models import Index, _RowsTableModel
from lobby_app.ui.worker import Worker

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1a7f37;"
BANNER_STYLE = (
    "background: #fff4ce; border: 1px solid #e0c060; border-radius: 4px; padding: 6px 8px;"
)
INFO_STYLE = "background: #e8f1fb; border: 1px solid #9cc2e8; border-radius: 4px; padding: 6px 8px;"
HINT_STYLE = "color: #555;"
RETIRED_GREY = QColor("#8a8a8a")

# The largest size the window opens at: it must fit a 1366×768 screen with a taskbar.
WINDOW_SIZE = (1080, 660)

NO_HEAD_BANNER = tr(
    "本网点还没有网点负责人：请先在“员工”页添加网点负责人并设置密码，"
    "之后修改网点设置需网点负责人登录"
)

CSV_FIELD_LABELS = {
    "staff_no": tr("工号"),
    "name": tr("姓名"),
    "role": tr("岗位"),
    "pin": tr("密码"),
    "location": tr("位置"),
}


def _failure_text(error: object) -> str:
    """A refusal's own message, or what to do when something unexpected failed."""
    if isinstance(error, LobbyError):
        return error.message
    log.error(
        "branch set-up command failed",
        exc_info=error if isinstance(error, BaseException) else None,
    )
    return tr(f"操作未完成：{error}。请重试；如反复出现，请联系网点科技人员。")


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setVisible(False)
    return label


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    return label


def fit_to_screen(widget: QWidget, width: int, height: int) -> None:
    """Open at ``width``×``height`` at most, smaller on a smaller screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        avail = screen.availableGeometry()
        width = min(width, avail.width() - 40)
        height = min(height, avail.height() - 40)
    widget.resize(width, height)


class FieldErrors:
    """Error messages under the fields of a form, by the store's field names; a message for
    no field (or one the form does not have) goes to the general label."""

    def __init__(self, general: QLabel) -> None:
        self.general = general
        self.labels: dict[str, QLabel] = {}

    def add(self, field: str, *aliases: str) -> QLabel:
        label = _error_label()
        for name in (field, *aliases):
            self.labels[name] = label
        return label

    def clear(self) -> None:
        for label in {*self.labels.values(), self.general}:
            label.clear()
            label.setVisible(False)

    def show(self, error: object) -> str:
        """Show ``error`` where it belongs; returns the field it was shown at ("" general)."""
        field = error.field or "" if isinstance(error, LobbyError) else ""
        label = self.labels.get(field, self.general)
        label.setText(_failure_text(error))
        label.setVisible(True)
        return field if label is not self.general else ""

    def text(self, field: str = "") -> str:
        return self.labels.get(field, self.general).text()


def _field_box(widget: QWidget, error: QLabel, hint: str = "") -> QWidget:
    """A form field with its hint and its error message under it."""
    box = QWidget()
    col = QVBoxLayout(box)
    col.setContentsMargins(0, 0, 0, 0)
    col.setSpacing(2)
    col.addWidget(widget)
    if hint:
        col.addWidget(_hint(hint))
    col.addWidget(error)
    return box


# ---------------------------------------------------------------- table models


def zones_text(zones: Sequence[str]) -> str:
    out = []
    for z in zones:
        try:
            out.append(Zone(z).short_label)
        except ValueError:
            out.append(z)
    return " → ".join(out)


class CounterModel(_RowsTableModel[CounterInfo]):
    HEADERS = (
        tr("窗口号"),
        tr("名称(客户看到的)"),
        tr("类型"),
        tr("服务区(按优先顺序)"),
        tr("贵宾绿色通道"),
        tr("爱心窗口"),
        tr("状态"),
    )

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        c = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                str(c.window),
                c.name,
                c.kind_label,
                zones_text(c.zones),
                tr("是") if c.vip_window else "",
                tr("是") if c.priority_window else "",
                counter_state(c),
            )[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and c.retired:
            return QBrush(RETIRED_GREY)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (0, 4, 5):
            return Qt.AlignmentFlag.AlignCenter
        return None


def counter_state(c: CounterInfo) -> str:
    if c.retired:
        return tr("已撤销")
    if c.staff_no:
        who = f"{c.staff_name or ''}（{c.staff_no}）"
        return tr(f"{who}已签到，") + (tr("营业中") if c.open else tr("暂停"))
    return tr("无人签到")


def staff_state(st: StaffInfo) -> str:
    if not st.active:
        return tr("停用")
    return tr("锁定") if st.locked else tr("在岗")


class StaffModel(_RowsTableModel[StaffInfo]):
    HEADERS = (
        tr("工号"),
        tr("姓名"),
        tr("岗位"),
        tr("状态"),
        tr("已设密码"),
        tr("所在窗口"),
        tr("办公位置"),
    )

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        st = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                st.staff_no,
                st.name,
                st.role_label,
                staff_state(st),
                tr("是") if st.has_pin else tr("否"),
                tr(f"{st.window} 号窗口") if st.window else "",
                st.location,
            )[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            if not st.active:
                return QBrush(RETIRED_GREY)
            if (col == 3 and st.locked) or (col == 4 and not st.has_pin):
                return QBrush(QColor("#b00020"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 4:
            return Qt.AlignmentFlag.AlignCenter
        return None


def _table_view(model: _RowsTableModel[Any]) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(26)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    return view


def fit_columns(view: QTableView) -> None:
    """Columns as wide as their contents plus room to breathe; the last one stretches."""
    model = view.model()
    for col in range(model.columnCount() - 1):
        view.resizeColumnToContents(col)
        view.setColumnWidth(col, view.columnWidth(col) + 20)


# ---------------------------------------------------------------- form dialogs


class FormDialog(QDialog):
    """A small form whose 保存 runs ``save(values)`` on the worker. A refusal is shown under
    its field and the input stays; success closes the dialog and emits ``saved``."""

    saved = Signal(object)

    def __init__(
        self,
        title: str,
        worker: Worker,
        save: Callable[[dict[str, Any]], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.worker = worker
        self._save = save
        self.result_value: object = None
        self.busy = False
        root = QVBoxLayout(self)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setVerticalSpacing(8)
        root.addLayout(self.form)
        root.addStretch(1)
        self.error = _error_label()
        self.errors = FieldErrors(self.error)
        root.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        root.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def add_field(self, label: str, widget: QWidget, field: str, hint: str = "") -> None:
        self.form.addRow(label, _field_box(widget, self.errors.add(field), hint))

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, values: dict[str, Any]) -> None:
        """Checks that need no store (raise LobbyError with a field)."""

    def accept(self) -> None:
        if self.busy:
            return
        self.errors.clear()
        try:
            values = self.values()
            self.check(values)
        except LobbyError as exc:
            self.errors.show(exc)
            return
        self._set_busy(True)
        self.worker.submit(lambda: self._save(values), self._done, self._failed)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.save_button.setEnabled(not busy)
        self.save_button.setText(tr("正在保存…") if busy else tr("保存"))

    def _done(self, result: object) -> None:
        self._set_busy(False)
        self.result_value = result
        self.saved.emit(result)
        super().accept()

    def _failed(self, error: object) -> None:
        self._set_busy(False)
        self.errors.show(error)


class ZoneList(QWidget):
    """The zones a counter serves, in order of preference: tick the zones, order with
    上移/下移 (or drag); the first ticked zone is the counter's home zone."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        row.addWidget(self.list, 1)
        buttons = QVBoxLayout()
        self.up = QPushButton(tr("上移"))
        self.down = QPushButton(tr("下移"))
        self.up.clicked.connect(lambda: self.move_current(-1))
        self.down.clicked.connect(lambda: self.move_current(1))
        buttons.addWidget(self.up)
        buttons.addWidget(self.down)
        buttons.addStretch(1)
        row.addLayout(buttons)
        self._regrouping = False
        self.set_zones([])
        self.list.itemChanged.connect(self._regroup)
        rows = self.list.sizeHintForRow(0) * len(Zone) + 2 * self.list.frameWidth() + 10
        self.list.setFixedHeight(max(rows, 96))

    def _regroup(self, item: QListWidgetItem) -> None:
        """Ticked zones stay together at the top, in their order; a newly ticked one joins
        them last, an unticked one leaves them."""
        if self._regrouping:
            return
        zone = item.data(Qt.ItemDataRole.UserRole)
        self.set_zones(self.zones())
        self.list.setCurrentItem(self.item_for(Zone(zone)))

    def set_zones(self, zones: Sequence[Zone | str]) -> None:
        chosen = [Zone(z) for z in zones]
        self._regrouping = True
        try:
            self._fill(chosen)
        finally:
            self._regrouping = False

    def _fill(self, chosen: list[Zone]) -> None:
        self.list.clear()
        for z in [*chosen, *(z for z in Zone if z not in chosen)]:
            item = QListWidgetItem(f"{z.short_label}　{z.label}")
            item.setData(Qt.ItemDataRole.UserRole, z.value)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            item.setCheckState(Qt.CheckState.Checked if z in chosen else Qt.CheckState.Unchecked)
            self.list.addItem(item)

    def zones(self) -> list[Zone]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(Zone(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def item_for(self, zone: Zone) -> QListWidgetItem:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == zone.value:
                return item
        raise KeyError(zone)

    def move_current(self, step: int) -> None:
        row = self.list.currentRow()
        to = row + step
        if row < 0 or not 0 <= to < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(to, item)
        self.list.setCurrentRow(to)


class CounterDialog(FormDialog):
    """新增 / 修改 a counter. Choosing a kind fills its usual zones and VIP flag."""

    def __init__(
        self,
        worker: Worker,
        save: Callable[[dict[str, Any]], object],
        *,
        existing: CounterInfo | None = None,
        next_number: int = 1,
        taken: Collection[int] = (),
        parent: QWidget | None = None,
    ) -> None:
        title = tr(f"修改 {existing.window} 号窗口") if existing else tr("新增窗口")
        super().__init__(title, worker, save, parent)
        self.existing = existing
        self.taken = set(taken)  # window numbers in use, retired ones included
        self.number = QSpinBox()
        self.number.setRange(1, admin.WINDOW_MAX)
        self.number.setValue(existing.window if existing else next_number)
        self.number.setEnabled(existing is None)
        self.name = QLineEdit(existing.name if existing else "")
        self.name.setMaxLength(admin.COUNTER_NAME_MAX)
        self.name.setPlaceholderText(tr("例如 现金业务、个人业务、贵宾窗口"))
        self.kind = QComboBox()
        for k in COUNTER_KINDS.values():
            self.kind.addItem(k.label, k.code)
        self.zones = ZoneList()
        self.vip = QCheckBox(tr("贵宾绿色通道窗口(先叫贵宾客户)"))
        self.priority = QCheckBox(tr("爱心窗口(先叫老、弱、病、残、孕及军人等优先客户)"))
        self.add_field(
            tr("窗口号"),
            self.number,
            "number",
            tr("叫号屏和票据上显示的号码；撤销后的窗口号不能再用") if existing is None else "",
        )
        self.add_field(tr("名称(客户看到的)"), self.name, "name")
        self.add_field(tr("类型"), self.kind, "kind")
        self.add_field(
            tr("服务区"),
            self.zones,
            "zones",
            tr("勾选本窗口叫号的服务区；排在最前的是主要服务区，空闲时依次叫后面的区"),
        )
        flags = QWidget()
        col = QVBoxLayout(flags)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.vip)
        col.addWidget(self.priority)
        self.add_field(tr("优先服务"), flags, "vip_window")
        if existing is not None:
            self.kind.setCurrentIndex(max(0, self.kind.findData(existing.kind)))
            self.zones.set_zones(existing.zones)
            self.vip.setChecked(existing.vip_window)
            self.priority.setChecked(existing.priority_window)
        else:
            self._kind_changed()
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.setMinimumWidth(560)

    def _kind_changed(self) -> None:
        k = COUNTER_KINDS[str(self.kind.currentData())]
        self.zones.set_zones(k.zones)
        self.vip.setChecked(k.vip_window)

    def set_kind(self, code: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(code))

    def values(self) -> dict[str, Any]:
        return {
            "number": self.number.value(),
            "name": self.name.text().strip(),
            "kind": str(self.kind.currentData()),
            "zones": [z.value for z in self.zones.zones()],
            "vip_window": self.vip.isChecked(),
            "priority_window": self.priority.isChecked(),
        }

    def check(self, values: dict[str, Any]) -> None:
        no = values["number"]
        if self.existing is None and no in self.taken:
            raise LobbyError(
                "window_exists",
                tr(f"{no} 号窗口已存在(含已撤销的)，请换一个窗口号"),
                field="number",
            )
        if not values["name"]:
            raise LobbyError("required", tr("请填写窗口名称，如“现金业务”"), field="name")
        if not values["zones"]:
            raise LobbyError("no_zones", tr("请至少勾选一个服务区"), field="zones")


def _pin_field() -> QLineEdit:
    pin = QLineEdit()
    pin.setEchoMode(QLineEdit.EchoMode.Password)
    pin.setMaxLength(8)
    pin.setPlaceholderText(tr("4 到 8 位数字"))
    pin.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData)
    return pin


def _check_pins(pin: str, again: str, *, required: bool) -> None:
    if not pin and not again and not required:
        return
    if not pin:
        raise LobbyError("required", tr("请输入密码(4 到 8 位数字)"), field="pin")
    check_pin_format(pin)
    if pin != again:
        raise LobbyError("pin_mismatch", tr("两次输入的密码不一致，请重新输入"), field="pin2")


class StaffDialog(FormDialog):
    """新增 / 修改 a person. A new person may get a first PIN here (masked, typed twice)."""

    def __init__(
        self,
        worker: Worker,
        save: Callable[[dict[str, Any]], object],
        *,
        existing: StaffInfo | None = None,
        taken: Collection[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        title = tr(f"修改员工 {existing.staff_no}") if existing else tr("新增员工")
        super().__init__(title, worker, save, parent)
        self.existing = existing
        self.taken = set(taken)  # staff numbers in use, deactivated ones included
        self.staff_no = QLineEdit(existing.staff_no if existing else "")
        self.staff_no.setMaxLength(admin.STAFF_NO_MAX)
        self.staff_no.setReadOnly(existing is not None)
        self.staff_no.setPlaceholderText(tr("例如 T05(字母、数字、- 和 _)"))
        self.name = QLineEdit(existing.name if existing else "")
        self.name.setMaxLength(admin.STAFF_NAME_MAX)
        self.role = QComboBox()
        for role, label in admin.role_choices():
            self.role.addItem(label, role)
        if existing is not None:
            i = self.role.findData(existing.role)
            if i < 0:  # a legacy role: shown as it is until changed
                self.role.addItem(existing.role_label, existing.role)
                i = self.role.count() - 1
            self.role.setCurrentIndex(i)
        else:
            self.role.setCurrentIndex(max(0, self.role.findData("teller")))
        self.location = QLineEdit(existing.location if existing else "")
        self.location.setMaxLength(admin.LOCATION_MAX)
        self.location.setPlaceholderText(tr("可不填，例如 理财室1"))
        self.add_field(tr("工号"), self.staff_no, "staff_no")
        self.add_field(tr("姓名"), self.name, "name")
        self.add_field(tr("岗位"), self.role, "role")
        self.add_field(tr("办公位置"), self.location, "location")
        self.pin = _pin_field()
        self.pin2 = _pin_field()
        if existing is None:
            self.add_field(
                tr("初始密码"),
                self.pin,
                "pin",
                tr("可不填，以后用“设置/重置密码”设置；没有密码的员工不能登录"),
            )
            self.add_field(tr("再输一次"), self.pin2, "pin2")

    def values(self) -> dict[str, Any]:
        return {
            "staff_no": self.staff_no.text().strip(),
            "name": self.name.text().strip(),
            "role": str(self.role.currentData()),
            "location": self.location.text().strip(),
            "pin": self.pin.text() or None,
        }

    def check(self, values: dict[str, Any]) -> None:
        """The store's own checks, field by field, before anything is saved."""
        row = admin.check_staff_row(
            values["staff_no"], values["name"], values["role"], location=values["location"]
        )
        if self.existing is None and row.staff_no in self.taken:
            raise LobbyError(
                "staff_exists",
                tr(
                    f"工号 {row.staff_no} 已存在(含已停用的)，请换一个工号；"
                    "要修改此人，请在列表中选中后点“修改…”"
                ),
                field="staff_no",
            )
        if self.existing is None:
            _check_pins(self.pin.text(), self.pin2.text(), required=False)


class PinDialog(FormDialog):
    """设置 / 重置 a person's PIN (masked, typed twice)."""

    def __init__(
        self,
        worker: Worker,
        save: Callable[[dict[str, Any]], object],
        person: StaffInfo,
        parent: QWidget | None = None,
    ) -> None:
        verb = tr("重置密码") if person.has_pin else tr("设置密码")
        super().__init__(tr(f"{verb}：{person.name}（{person.staff_no}）"), worker, save, parent)
        self.person = person
        self.pin = _pin_field()
        self.pin2 = _pin_field()
        self.form.addRow(
            _hint(
                tr("请本人在场时输入，不要写在纸上。设置后该员工的密码错误次数清零。")
                if person.has_pin
                else tr("请本人在场时输入，不要写在纸上。")
            )
        )
        self.add_field(tr("新密码"), self.pin, "pin")
        self.add_field(tr("再输一次"), self.pin2, "pin2")

    def values(self) -> dict[str, Any]:
        return {"staff_no": self.person.staff_no, "pin": self.pin.text()}

    def check(self, values: dict[str, Any]) -> None:
        _check_pins(self.pin.text(), self.pin2.text(), required=True)


class ResultDialog(QDialog):
    """A result worth reading (a CSV import): a summary and, when there are, the lines."""

    def __init__(
        self,
        title: str,
        summary: str,
        lines: Sequence[str] = (),
        *,
        ok: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        root = QVBoxLayout(self)
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(OK_STYLE if ok else ERROR_STYLE + " font-weight: bold;")
        root.addWidget(self.summary)
        self.lines = QPlainTextEdit("\n".join(lines))
        self.lines.setReadOnly(True)
        self.lines.setVisible(bool(lines))
        root.addWidget(self.lines, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
        width, height = (560, 360) if lines else (440, 110)
        self.resize(width, height)


def import_lines(result: StaffImport) -> list[str]:
    """The refused lines as a person reads them: 第 N 行 字段：原因."""
    out = []
    for e in result.errors:
        field = str(e.get("field") or "")
        label = "、".join(CSV_FIELD_LABELS.get(f, f) for f in field.split(",") if f)
        where = f" {label}" if label else ""
        out.append(tr(f"第 {e.get('line')} 行{where}：{e.get('message')}"))
    return out


def read_csv_text(path: Path) -> str:
    """A staff list saved by Excel: UTF-8 (with or without BOM), or GB18030 (GBK)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise LobbyError(
                "bad_encoding",
                tr(f"无法读取 {path.name}：请在 Excel 中另存为“CSV UTF-8(逗号分隔)”后再导入"),
            ) from None


# ---------------------------------------------------------------- the window


class BranchSetupWindow(QDialog):
    """网点设置: the branch, its counters and its staff, changed as ``actor`` ("" while the
    branch has no branch head with a PIN)."""

    loaded = Signal()

    def __init__(self, store: Store, actor: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.actor = actor
        self.worker = Worker(self)
        self.counters: list[CounterInfo] = []
        self.staff: list[StaffInfo] = []
        self.settings: BranchSettings | None = None
        self.loads = 0  # how many times the tabs were filled from the store
        self.dialog: QDialog | None = None  # the dialog or question open now, if any
        self._created_head = ""  # a branch head given a PIN in this window (fresh install)
        self._fresh = not actor  # opened before the branch had a branch head with a PIN
        self.setWindowTitle(tr("网点设置"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.setSizeGripEnabled(True)
        root = QVBoxLayout(self)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        root.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._branch_tab(), tr("网点"))
        self.tabs.addTab(self._counter_tab(), tr("柜台"))
        self.tabs.addTab(self._staff_tab(), tr("员工"))
        root.addWidget(self.tabs, 1)
        bottom = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        bottom.addWidget(self.status, 1)
        close = QPushButton(tr("关闭"))
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        bottom.addWidget(close)
        root.addLayout(bottom)
        self.setMinimumSize(720, 480)
        fit_to_screen(self, *WINDOW_SIZE)
        self.reload()

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        store = self.store

        def read() -> tuple[BranchSettings, list[CounterInfo], list[StaffInfo], bool]:
            return (
                commands.settings(store),
                admin.list_counters(store, include_retired=True),
                admin.list_staff(store, include_inactive=True),
                admin.branch_has_head(store),
            )

        self.worker.submit(read, self._loaded, self._say_error)

    def _loaded(
        self, result: tuple[BranchSettings, list[CounterInfo], list[StaffInfo], bool]
    ) -> None:
        st, counters, staff, head = result
        first = self.settings is None
        self.settings, self.counters, self.staff = st, counters, staff
        if first:
            self._fill_branch(st)
        self._show_counters()
        self._show_staff()
        self._update_banner(head)
        self.loads += 1
        self.loaded.emit()

    def _update_banner(self, head: bool) -> None:
        """A fresh install says what to do first; once its first branch head has a PIN,
        the window acts as them and says that later openings need their sign-in."""
        if not head:
            self.banner.setText(NO_HEAD_BANNER)
            self.banner.setStyleSheet(BANNER_STYLE)
            self.banner.setVisible(True)
            return
        if not self._fresh:
            self.banner.setVisible(False)
            return
        ready = [
            p
            for p in self.staff
            if p.role == "branch_head" and p.active and p.has_pin and not p.locked
        ]
        if not ready:
            return
        if self.actor not in {p.staff_no for p in ready}:
            self.actor = next(
                (p.staff_no for p in ready if p.staff_no == self._created_head),
                ready[0].staff_no,
            )
        head_p = next(p for p in ready if p.staff_no == self.actor)
        self.banner.setText(
            tr(
                f"网点负责人 {head_p.name}（{head_p.staff_no}）已设置密码：本次设置记在其名下；"
                "以后打开网点设置需网点负责人登录。"
            )
        )
        self.banner.setStyleSheet(INFO_STYLE)
        self.banner.setVisible(True)

    def _say(self, text: str) -> None:
        self.status.setStyleSheet(OK_STYLE)
        self.status.setText(text)

    def _say_error(self, error: object) -> None:
        self.status.setStyleSheet(ERROR_STYLE + " font-weight: bold;")
        self.status.setText(_failure_text(error))

    def _open(self, dlg: QDialog) -> QDialog:
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dlg
        dlg.finished.connect(lambda _r, d=dlg: self._closed(d))
        dlg.open()
        return dlg

    def _closed(self, dlg: QDialog) -> None:
        if self.dialog is dlg:
            self.dialog = None

    def _run(self, fn: Callable[[], object], done: Callable[[Any], None]) -> None:
        """A change on the worker; then the tabs are filled again from the store."""
        self.status.clear()

        def ok(result: object) -> None:
            done(result)
            self.reload()

        self.worker.submit(fn, ok, self._say_error)

    # ------------------------------------------------------------ the branch

    def _branch_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setVerticalSpacing(10)
        self.branch_general = _error_label()
        self.branch_errors = FieldErrors(self.branch_general)
        e = self.branch_errors
        self.bank = QLineEdit()
        self.bank.setMaxLength(admin.BANK_NAME_MAX)
        self.bank.setPlaceholderText(tr("例如 中国工商银行"))
        self.branch_name = QLineEdit()
        self.branch_name.setMaxLength(admin.BRANCH_NAME_MAX)
        self.branch_name.setPlaceholderText(tr("例如 城东支行"))
        self.branch_code = QLineEdit()
        self.branch_code.setMaxLength(admin.BRANCH_CODE_MAX)
        self.branch_code.setPlaceholderText(tr("例如 310115001"))
        hours = QWidget()
        row = QHBoxLayout(hours)
        row.setContentsMargins(0, 0, 0, 0)
        self.open_time = QTimeEdit()
        self.close_time = QTimeEdit()
        for t in (self.open_time, self.close_time):
            t.setDisplayFormat("HH:mm")
            t.setMinimumWidth(90)
        row.addWidget(self.open_time)
        row.addWidget(QLabel(tr("至")))
        row.addWidget(self.close_time)
        row.addStretch(1)
        self.wait_target = QSpinBox()
        self.wait_target.setRange(1, 120)
        self.wait_target.setSuffix(tr(" 分钟"))
        self.idle_lock = QSpinBox()
        self.idle_lock.setRange(1, 240)
        self.idle_lock.setSuffix(tr(" 分钟"))
        for spin in (self.wait_target, self.idle_lock):
            spin.setMinimumWidth(110)
        for line_edit in (self.bank, self.branch_name, self.branch_code):
            line_edit.setMaximumWidth(420)

        def spin_box(spin: QWidget) -> QWidget:
            box = QWidget()
            line = QHBoxLayout(box)
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(spin)
            line.addStretch(1)
            return box

        form.addRow(
            tr("银行名称"),
            _field_box(self.bank, e.add("bank"), tr("显示在票据、叫号屏和日终汇总表上")),
        )
        form.addRow(tr("网点名称"), _field_box(self.branch_name, e.add("name")))
        form.addRow(
            tr("网点代码"),
            _field_box(self.branch_code, e.add("code"), tr("总行分配的网点代码，字母和数字")),
        )
        form.addRow(tr("营业时间"), _field_box(hours, e.add("hours")))
        form.addRow(
            tr("等候目标"),
            _field_box(
                spin_box(self.wait_target),
                e.add("wait_target"),
                tr("客户等候超过此时间，大堂经理工作台提示疏导；日终汇总统计超时占比"),
            ),
        )
        form.addRow(
            tr("空闲锁屏"),
            _field_box(
                spin_box(self.idle_lock),
                e.add("idle_lock"),
                tr("大堂经理工作台无人操作多少分钟后锁屏，需重新输入密码"),
            ),
        )
        buttons = QHBoxLayout()
        self.branch_save = QPushButton(tr("保存"))
        self.branch_save.setAutoDefault(False)
        self.branch_save.clicked.connect(self.save_branch)
        buttons.addWidget(self.branch_save)
        self.branch_saved = QLabel()
        self.branch_saved.setStyleSheet(OK_STYLE)
        buttons.addWidget(self.branch_saved, 1)
        form.addRow("", self.branch_general)
        form.addRow("", buttons)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _fill_branch(self, st: BranchSettings) -> None:
        self.bank.setText(st.bank_name)
        self.branch_name.setText(st.branch_name)
        self.branch_code.setText(st.branch_code)
        self.open_time.setTime(QTime.fromString(st.open_time, "HH:mm"))
        self.close_time.setTime(QTime.fromString(st.close_time, "HH:mm"))
        self.wait_target.setValue(st.wait_target_min)
        self.idle_lock.setValue(st.desk_idle_lock_min)

    def save_branch(self) -> None:
        self.branch_errors.clear()
        self.branch_saved.clear()
        self.status.clear()
        opens, closes = (t.time().toString("HH:mm") for t in (self.open_time, self.close_time))
        given: dict[str, Any] = {
            "bank": self.bank.text(),
            "name": self.branch_name.text(),
            "code": self.branch_code.text(),
            "hours": f"{opens}-{closes}",
            "wait_target": self.wait_target.value(),
            "idle_lock": self.idle_lock.value(),
        }
        changes: dict[str, str] = {}
        wrong = False
        for key, value in given.items():  # each field on its own: every mistake is shown
            try:
                changes.update(admin.branch_changes(**{key: value}))
            except LobbyError as exc:
                self.branch_errors.show(exc)
                wrong = True
        if wrong:
            return
        self.branch_save.setEnabled(False)
        store, actor = self.store, self.actor
        self.worker.submit(
            lambda: admin.set_branch(store, changes, actor=actor),
            self._branch_saved,
            self._branch_failed,
        )

    def _branch_saved(self, result: dict[str, str]) -> None:
        self.branch_save.setEnabled(True)
        self.branch_saved.setText(
            tr(f"已保存：{result['bank_name']} {result['branch_name']}，营业时间 {result['hours']}")
        )
        self.settings = None  # fill the fields again from what the store kept
        self.reload()

    def _branch_failed(self, error: object) -> None:
        self.branch_save.setEnabled(True)
        self.branch_errors.show(error)

    # ------------------------------------------------------------ counters

    def _counter_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        bar = QHBoxLayout()
        self.counter_add = QPushButton(tr("新增…"))
        self.counter_edit = QPushButton(tr("修改…"))
        self.counter_retire = QPushButton(tr("撤销…"))
        self.show_retired = QCheckBox(tr("显示已撤销"))
        self.counter_add.clicked.connect(self.add_counter)
        self.counter_edit.clicked.connect(self.edit_counter)
        self.counter_retire.clicked.connect(self.retire_counter)
        self.show_retired.toggled.connect(self._show_counters)
        for b in (self.counter_add, self.counter_edit, self.counter_retire):
            b.setAutoDefault(False)
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.show_retired)
        col.addLayout(bar)
        self.counter_model = CounterModel()
        self.counter_view = _table_view(self.counter_model)
        self.counter_view.doubleClicked.connect(lambda _i: self.edit_counter())
        self.counter_view.selectionModel().selectionChanged.connect(self._counter_buttons)
        col.addWidget(self.counter_view, 1)
        col.addWidget(
            _hint(
                tr(
                    "服务区按优先顺序：第一个是窗口的主要服务区，空闲时依次叫后面的区。"
                    "窗口在柜员签到并开启后才叫号。撤销的窗口不再叫号，以往各天的统计仍保留。"
                )
            )
        )
        self._counter_buttons()
        return page

    def _show_counters(self) -> None:
        keep = self.selected_counter()
        rows = [c for c in self.counters if self.show_retired.isChecked() or not c.retired]
        self.counter_model.set_rows(rows)
        fit_columns(self.counter_view)
        if keep is not None:
            self.select_counter(keep.window)
        self._counter_buttons()

    def _counter_buttons(self) -> None:
        c = self.selected_counter()
        self.counter_edit.setEnabled(c is not None and not c.retired)
        self.counter_retire.setEnabled(c is not None and not c.retired)

    def selected_counter(self) -> CounterInfo | None:
        rows = self.counter_view.selectionModel().selectedRows()
        return self.counter_model.row_at(rows[0].row()) if rows else None

    def select_counter(self, window: int) -> bool:
        for i in range(self.counter_model.rowCount()):
            c = self.counter_model.row_at(i)
            if c is not None and c.window == window:
                self.counter_view.selectRow(i)
                return True
        return False

    def add_counter(self) -> CounterDialog:
        store = self.store
        next_no = max((c.window for c in self.counters), default=0) + 1

        def save(v: dict[str, Any]) -> CounterInfo:
            return admin.add_counter(
                store,
                v["number"],
                name=v["name"],
                kind=v["kind"],
                zones=v["zones"],
                vip_window=v["vip_window"],
                priority_window=v["priority_window"],
                actor=self.actor,
            )

        dlg = CounterDialog(
            self.worker,
            save,
            next_number=next_no,
            taken=[c.window for c in self.counters],
            parent=self,
        )
        dlg.saved.connect(lambda c: self._counter_saved(c, tr("已新增")))
        self._open(dlg)
        return dlg

    def edit_counter(self) -> CounterDialog | None:
        c = self.selected_counter()
        if c is None or c.retired:
            return None
        store = self.store

        def save(v: dict[str, Any]) -> CounterInfo:
            return admin.edit_counter(
                store,
                c.window,
                name=v["name"],
                kind=v["kind"],
                zones=v["zones"],
                vip_window=v["vip_window"],
                priority_window=v["priority_window"],
                actor=self.actor,
            )

        dlg = CounterDialog(self.worker, save, existing=c, parent=self)
        dlg.saved.connect(lambda c: self._counter_saved(c, tr("已修改")))
        self._open(dlg)
        return dlg

    def _counter_saved(self, c: CounterInfo, verb: str) -> None:
        self._say(tr(f"{verb} {c.window} 号窗口“{c.name}”"))
        self._select_after_load(lambda: self.select_counter(c.window))

    def _select_after_load(self, select: Callable[[], bool]) -> None:
        """Reload, then select the row just saved (it may have moved in the sort)."""

        def once() -> None:
            self.loaded.disconnect(once)
            select()

        self.loaded.connect(once)
        self.reload()

    def retire_counter(self) -> QMessageBox | None:
        c = self.selected_counter()
        if c is None or c.retired:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            tr("撤销窗口"),
            tr(f"撤销 {c.window} 号窗口“{c.name}”？"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(
            tr(
                "撤销后该窗口不再叫号，柜员不能在此签到；以往各天的统计仍保留该窗口。"
                f"撤销不能恢复，窗口号 {c.window} 以后也不能再用于新窗口。"
            )
            + (
                tr(f"\n\n{c.staff_name}（{c.staff_no}）正在此窗口签到，将被签退。")
                if c.staff_no
                else ""
            )
        )
        box.button(QMessageBox.StandardButton.Yes).setText(tr("撤销窗口"))
        box.button(QMessageBox.StandardButton.No).setText(tr("不撤销"))
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setStyleSheet(
            "QLabel#qt_msgbox_label, QLabel#qt_msgbox_informativelabel { min-width: 400px; }"
        )
        store, window = self.store, c.window

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self._run(
                    lambda: admin.retire_counter(store, window, actor=self.actor),
                    lambda r: self._say(tr(f"已撤销 {r.window} 号窗口“{r.name}”")),
                )

        box.finished.connect(answered)
        self._open(box)
        return box

    # ------------------------------------------------------------ staff

    def _staff_tab(self) -> QWidget:
        page = QWidget()
        col = QVBoxLayout(page)
        bar = QHBoxLayout()
        self.staff_add = QPushButton(tr("新增…"))
        self.staff_edit = QPushButton(tr("修改…"))
        self.staff_pin = QPushButton(tr("设置/重置密码…"))
        self.staff_lock = QPushButton(tr("锁定"))
        self.staff_unlock = QPushButton(tr("解锁"))
        self.staff_deactivate = QPushButton(tr("停用"))
        self.staff_activate = QPushButton(tr("启用"))
        self.staff_import = QPushButton(tr("从 CSV 导入…"))
        self.show_inactive = QCheckBox(tr("显示已停用"))
        self.staff_add.clicked.connect(self.add_staff)
        self.staff_edit.clicked.connect(self.edit_staff)
        self.staff_pin.clicked.connect(self.set_pin)
        self.staff_lock.clicked.connect(lambda: self.change_staff("lock"))
        self.staff_unlock.clicked.connect(lambda: self.change_staff("unlock"))
        self.staff_deactivate.clicked.connect(lambda: self.change_staff("deactivate"))
        self.staff_activate.clicked.connect(lambda: self.change_staff("activate"))
        self.staff_import.clicked.connect(self.choose_csv)
        self.show_inactive.toggled.connect(self._show_staff)
        groups: tuple[tuple[QPushButton, ...], ...] = (
            (self.staff_add, self.staff_edit, self.staff_pin),
            (self.staff_lock, self.staff_unlock, self.staff_deactivate, self.staff_activate),
            (self.staff_import,),
        )
        for i, group in enumerate(groups):
            if i:
                bar.addSpacing(16)
            for b in group:
                b.setAutoDefault(False)
                bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.show_inactive)
        col.addLayout(bar)
        self.staff_model = StaffModel()
        self.staff_view = _table_view(self.staff_model)
        self.staff_view.doubleClicked.connect(lambda _i: self.edit_staff())
        self.staff_view.selectionModel().selectionChanged.connect(self._staff_buttons)
        col.addWidget(self.staff_view, 1)
        col.addWidget(
            _hint(
                tr(
                    "CSV 文件第一行为列名：工号,姓名,岗位,密码,位置(密码和位置可不填；"
                    "也可用 staff_no,name,role,pin,location)。岗位写中文，如 柜员、大堂经理。"
                    "文件中有任何一行出错，整个文件都不导入。锁定或停用的员工不能登录，"
                    "正在窗口签到的将被签退；记录都保留。"
                )
            )
        )
        self._staff_buttons()
        return page

    def _show_staff(self) -> None:
        keep = self.selected_staff()
        rows = [p for p in self.staff if self.show_inactive.isChecked() or p.active]
        self.staff_model.set_rows(rows)
        fit_columns(self.staff_view)
        if keep is not None:
            self.select_staff(keep.staff_no)
        self._staff_buttons()

    def _staff_buttons(self) -> None:
        p = self.selected_staff()
        self.staff_edit.setEnabled(p is not None)
        self.staff_pin.setEnabled(p is not None and p.active)
        self.staff_lock.setEnabled(p is not None and p.active and not p.locked)
        self.staff_unlock.setEnabled(p is not None and p.locked)
        self.staff_deactivate.setEnabled(p is not None and p.active)
        self.staff_activate.setEnabled(p is not None and not p.active)

    def selected_staff(self) -> StaffInfo | None:
        rows = self.staff_view.selectionModel().selectedRows()
        return self.staff_model.row_at(rows[0].row()) if rows else None

    def select_staff(self, staff_no: str) -> bool:
        for i in range(self.staff_model.rowCount()):
            p = self.staff_model.row_at(i)
            if p is not None and p.staff_no == staff_no:
                self.staff_view.selectRow(i)
                return True
        return False

    def _staff_saved(self, p: StaffInfo, verb: str) -> None:
        self._say(tr(f"{verb}员工 {p.name}（{p.staff_no}，{p.role_label}）"))
        self._note_head(p.staff_no, p.role, p.has_pin)
        no = p.staff_no
        self._select_after_load(lambda: self.select_staff(no))

    def _note_head(self, staff_no: str, role: str, has_pin: bool) -> None:
        """A fresh install's first branch head: this window acts as them from now on."""
        if not self.actor and role == "branch_head" and has_pin:
            self._created_head = staff_no
            self.actor = staff_no

    def add_staff(self) -> StaffDialog:
        store = self.store

        def save(v: dict[str, Any]) -> StaffInfo:
            return admin.add_staff(
                store,
                v["staff_no"],
                name=v["name"],
                role=v["role"],
                pin=v["pin"],
                location=v["location"],
                actor=self.actor,
            )

        dlg = StaffDialog(self.worker, save, taken=[p.staff_no for p in self.staff], parent=self)
        dlg.saved.connect(lambda p: self._staff_saved(p, tr("已新增")))
        self._open(dlg)
        return dlg

    def edit_staff(self) -> StaffDialog | None:
        p = self.selected_staff()
        if p is None:
            return None
        store = self.store

        def save(v: dict[str, Any]) -> StaffInfo:
            return admin.edit_staff(
                store,
                p.staff_no,
                name=v["name"],
                role=v["role"] if v["role"] != p.role else None,
                location=v["location"],
                actor=self.actor,
            )

        dlg = StaffDialog(self.worker, save, existing=p, parent=self)
        dlg.saved.connect(lambda q: self._staff_saved(q, tr("已修改")))
        self._open(dlg)
        return dlg

    def set_pin(self) -> PinDialog | None:
        p = self.selected_staff()
        if p is None or not p.active:
            return None
        store = self.store

        def save(v: dict[str, Any]) -> StaffInfo:
            set_pin(store, v["staff_no"], v["pin"], actor=self.actor)
            return p

        dlg = PinDialog(self.worker, save, p, parent=self)
        dlg.saved.connect(lambda q: self._pin_saved(q))
        self._open(dlg)
        return dlg

    def _pin_saved(self, p: StaffInfo) -> None:
        self._say(tr(f"已为 {p.name}（{p.staff_no}）设置密码"))
        self._note_head(p.staff_no, p.role, True)
        self.reload()

    def change_staff(self, change: str) -> None:
        p = self.selected_staff()
        if p is None:
            return
        store, no = self.store, p.staff_no
        words = {
            "lock": tr("已锁定"),
            "unlock": tr("已解锁"),
            "deactivate": tr("已停用"),
            "activate": tr("已启用"),
        }
        self._run(
            lambda: admin.set_staff_state(store, no, change, actor=self.actor),
            lambda q: self._say(tr(f"{words[change]} {q.name}（{q.staff_no}）")),
        )

    def choose_csv(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, tr("选择员工名单(CSV)"), "", tr("CSV 文件 (*.csv);;所有文件 (*)")
        )
        if name:
            self.import_csv(Path(name))

    def import_csv(self, path: Path) -> None:
        store = self.store
        self.staff_import.setEnabled(False)

        def work() -> StaffImport:
            return admin.import_staff(store, read_csv_text(path), actor=self.actor)

        def done(result: StaffImport) -> None:
            self.staff_import.setEnabled(True)
            self._imported(path, result)

        def failed(error: object) -> None:
            self.staff_import.setEnabled(True)
            if isinstance(error, OSError):
                error = LobbyError(
                    "unreadable", tr(f"无法读取 {path}（{error.strerror or error}）")
                )
            self._open(
                ResultDialog(
                    tr("导入员工"),
                    _failure_text(error),
                    ok=False,
                    parent=self,
                )
            )

        self.worker.submit(work, done, failed)

    def _imported(self, path: Path, result: StaffImport) -> None:
        if result.rejected:
            lines = import_lines(result)
            summary = tr(
                f"{path.name} 有 {len(lines)} 处错误，没有导入任何员工。请改正以下各行后重新导入："
            )
            self._open(ResultDialog(tr("导入员工"), summary, lines, ok=False, parent=self))
            return
        summary = tr(f"已从 {path.name} 导入：新增 {result.created} 人，更新 {result.updated} 人。")
        self._say(summary)
        self._open(ResultDialog(tr("导入员工"), summary, ok=True, parent=self))
        self.reload()

    # ------------------------------------------------------------ closing

    def done(self, result: int) -> None:
        self.worker.shutdown()
        super().done(result)


# ---------------------------------------------------------------- the desk's entry point


class HeadLoginDialog(QDialog):
    """网点负责人登录: staff number and PIN (masked); only a branch head gets in."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.person: StaffView | None = None
        self.worker = Worker(self)
        self.busy = False
        self.setWindowTitle(tr("网点设置 · 网点负责人登录"))
        root = QVBoxLayout(self)
        root.addWidget(_hint(tr("修改网点设置需网点负责人登录。")))
        form = QFormLayout()
        self.staff_no = QLineEdit()
        self.staff_no.setPlaceholderText(tr("网点负责人工号"))
        self.pin = _pin_field()
        self.pin.setPlaceholderText(tr("密码"))
        form.addRow(tr("工号"), self.staff_no)
        form.addRow(tr("密码"), self.pin)
        root.addLayout(form)
        self.error = _error_label()
        root.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(tr("登录"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
        self.setMinimumWidth(380)

    def accept(self) -> None:
        if self.busy:
            return
        no, pin = self.staff_no.text().strip(), self.pin.text()
        if not no or not pin:
            self._refuse(tr("请输入网点负责人的工号和密码"))
            return
        self.busy = True
        self.ok_button.setEnabled(False)
        self.error.setVisible(False)
        store = self.store
        self.worker.submit(lambda: login(store, no, pin), self._logged_in, self._failed)

    def _logged_in(self, who: StaffView) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)
        if who.role != "branch_head":
            from lobby_app.core.staffing import role_label

            self._refuse(
                tr(
                    f"工号 {who.staff_no}（{who.name}，{role_label(who.role)}）不是网点负责人，"
                    "不能修改网点设置。请网点负责人登录。"
                )
            )
            return
        self.person = who
        super().accept()

    def _failed(self, error: object) -> None:
        self.busy = False
        self.ok_button.setEnabled(True)
        self._refuse(_failure_text(error))

    def _refuse(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
        self.pin.clear()
        self.pin.setFocus()

    def done(self, result: int) -> None:
        self.worker.shutdown()
        super().done(result)


def open_branch_setup(parent: QWidget | None, store: Store) -> None:
    """The desk's 网点设置: a branch head signs in first (once the branch has one), then
    the set-up window opens modally."""
    actor = ""
    if admin.branch_has_head(store):
        login_dlg = HeadLoginDialog(store, parent)
        if not login_dlg.exec() or login_dlg.person is None:
            return
        actor = login_dlg.person.staff_no
    window = BranchSetupWindow(store, actor=actor, parent=parent)
    window.exec()


__all__ = [
    "BranchSetupWindow",
    "CounterDialog",
    "HeadLoginDialog",
    "PinDialog",
    "StaffDialog",
    "open_branch_setup",
]
