"""Qt item models over the store's views: customers found, the business list, a zone's queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from lobby_app.core.business import BusinessType
from lobby_app.core.i18n import tr
from lobby_app.core.search import match_label
from lobby_app.store.views import CustomerView, QueueEntry

Index = QModelIndex | QPersistentModelIndex
GREEN = QColor("#e3f4e6")
VIP_GOLD = QColor("#fbf1d8")
T = TypeVar("T")


class _RowsTableModel(QAbstractTableModel, Generic[T]):
    """A read-only table over a list of rows; subclasses say what each cell shows."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[T] = []

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> T | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


class CustomerModel(_RowsTableModel[CustomerView]):
    """The lookup's results, narrow enough for the left third of a 1366-wide screen: the
    tier, the VIP card and 潜在 share one short column; the masked ID number comes last (the
    customer's card below repeats it), as it is the first to give way."""

    HEADERS = (
        tr("客户号"),
        tr("姓名"),
        tr("匹配"),  # which field the search matched: 手机尾号, 客户号, 姓名…
        tr("手机号"),
        tr("层级 · 贵宾卡"),
        tr("经理"),  # the customer's own manager (客户经理), by staff number
        tr("证件号"),
    )

    def customer(self, row: int) -> CustomerView | None:
        return self.row_at(row)

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        c = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                c.customer_no,
                c.name,
                match_label(c.matched),
                c.masked_phone,
                standing_text(c),
                c.manager,
                c.masked_id,
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            full = [c.tier.label]
            if c.vip_card:
                full.append(c.vip_card.label + (tr("(特批)") if c.vip_special else ""))
            if c.prospect:
                full.append(tr("潜在客户"))
            return " · ".join(full)
        if role == Qt.ItemDataRole.BackgroundRole and c.vip_entitled:
            return QBrush(VIP_GOLD)
        return None


def standing_text(c: CustomerView) -> str:
    """Tier and card in a few characters: 中高端 · 白金卡, 大众 · 标准卡(特批), 潜力 · 潜在."""
    parts = [c.tier.label.removesuffix(tr("客户"))]
    if c.vip_card:
        parts.append(c.vip_card.label + (tr("(特批)") if c.vip_special else ""))
    if c.prospect:
        parts.append(tr("潜在"))
    return " · ".join(parts)


class BusinessModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[BusinessType] = []

    def set_rows(self, rows: Sequence[BusinessType]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def business(self, row: int) -> BusinessType | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        b = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            key = f"{index.row() + 1}  " if index.row() < 9 else "    "
            return f"{key}{b.name}　[{b.zone.short_label}]"
        if role == Qt.ItemDataRole.ToolTipRole:
            return tr(f"{b.name}：通常在{b.zone.label}办理，约{b.service_minutes:g}分钟")
        return None


class QueueModel(_RowsTableModel[QueueEntry]):
    HEADERS = (tr("号码"), tr("业务"), tr("已等(分)"), tr("标记"))

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            flags = []
            if e.vip:
                flags.append(tr("贵宾"))
            if e.priority:
                flags.append(tr(f"优先·{e.priority.label}"))
            return (e.number, e.business_name, str(e.waited_min), " ".join(flags))[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and e.green_channel:
            return QBrush(GREEN)
        return None
