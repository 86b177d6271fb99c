"""The customer manager's referral inbox (客户经理转介工作台).

Referrals from the desk and from tellers arrive live. The manager accepts one, marks the
customer contacted, and records the outcome: a sale (product and amount), declined, or a
follow-up date. The customer's notes and recent visits show beside it, masked.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.limits import AMOUNT_MAX_FEN, PRODUCT_MAX
from lobby_app.ui.hublink import HubLink

log = logging.getLogger(__name__)
ERROR_STYLE = "color: #b00020; font-weight: bold;"
CLOSED = ("sold", "declined")  # no further step by the manager (store/referrals.py)
COLUMNS = (tr("单号"), tr("状态"), tr("时间"), tr("排队号"), tr("客户"), tr("需求"), tr("转介人"))


class ManagerWindow(QWidget):
    arrived = Signal(dict)  # a new referral shown in the inbox

    def __init__(self, link: HubLink) -> None:
        super().__init__()
        self.link = link
        link.setParent(self)  # the window owns its link: both go together
        self.items: list[dict[str, Any]] = []
        self._outcome_dialog: OutcomeDialog | None = None
        self._link_lost = ""  # the connection message on screen, cleared on reconnection
        self.setWindowTitle(tr("客户经理 · 转介工作台"))
        self._build()
        link.state.connect(self._on_state)
        link.pushed.connect(self._on_event)

    def _build(self) -> None:
        root = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title = QLabel(tr("转介收件箱"))
        self.title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.conn = QLabel(tr("正在连接网点主机…"))
        top.addWidget(self.title)
        top.addStretch(1)
        self.open_only = QCheckBox(tr("只看未办结"))
        self.open_only.setToolTip(tr("不勾选时，已成交、婉拒的转介也列出(灰色)，便于回看"))
        self.open_only.toggled.connect(lambda _on: self.reload())
        top.addWidget(self.open_only)
        top.addWidget(self.conn)
        root.addLayout(top)
        self.banner = QLabel()
        self.banner.setStyleSheet(
            "background: #fff3cd; padding: 6px; border-radius: 4px; font-weight: bold;"
        )
        self.banner.hide()
        root.addWidget(self.banner)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._show_selected)
        split.addWidget(self.table)

        right = QWidget()
        rl = QVBoxLayout(right)
        self.detail = QLabel(tr("请选择一条转介"))
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        rl.addWidget(self.detail, 1)
        buttons = QHBoxLayout()
        self.accept_btn = QPushButton(tr("接收"))
        self.contact_btn = QPushButton(tr("已联系客户"))
        self.outcome_btn = QPushButton(tr("记录结果…"))
        self.accept_btn.clicked.connect(lambda: self._act("accept_referral"))
        self.contact_btn.clicked.connect(lambda: self._act("contact_referral"))
        self.outcome_btn.clicked.connect(self.record_outcome)
        for b in (self.accept_btn, self.contact_btn, self.outcome_btn):
            b.setMinimumHeight(32)
            buttons.addWidget(b)
        rl.addLayout(buttons)
        split.addWidget(right)
        split.setSizes([620, 420])
        root.addWidget(split, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        root.addWidget(self.message)
        self._enable_actions()

    # ---------------------------------------------------------------- hub

    def _on_state(self, up: bool, why: str) -> None:
        self.conn.setText(tr("● 已连接") if up else tr("● 未连接"))
        self.conn.setStyleSheet("color: #1a7f37;" if up else ERROR_STYLE)
        if up:
            w = self.link.welcome
            self.title.setText(tr(f"转介收件箱 · {w.get('staff', '')}"))
            self.reload()
            if self._link_lost and self.message.text() == self._link_lost:
                self.say(tr("已重新连接网点主机"))  # the red line goes with the trouble
            self._link_lost = ""
        else:
            self._link_lost = why
            self.say(why, error=True)

    def _on_event(self, name: str, msg: dict[str, Any]) -> None:
        if name != "referral":
            return
        ref = msg.get("data", {})
        fresh = not any(i["referral_no"] == ref.get("referral_no") for i in self.items)
        self.reload(select=ref.get("referral_no") if fresh else None)
        if fresh and ref.get("status") == "new":
            cust = ref.get("customer") or {}
            who = cust.get("salutation") or tr("未登记客户")
            self.banner.setText(
                tr(
                    f"新转介 {ref['referral_no']}：{ref.get('ticket_number', '')} {who}，"
                    f"需求 {ref['need_label']}，来自 {ref.get('referrer_name') or ref['referrer']}"
                )
            )
            self.banner.show()
            QApplication.alert(self, 5000)
            self.arrived.emit(ref)

    def reload(self, select: str | None = None) -> None:
        keep = select or (self.selected() or {}).get("referral_no")
        args = {} if self.open_only.isChecked() else {"closed": True}
        self.link.request("referrals", args, lambda items: self._show(items, keep), self._failed)

    def _local_time(self, iso: str) -> str:
        """When, in the branch's time zone (the hub sends UTC): HH:MM today, else with the
        date (a follow-up from yesterday must not read as this morning's)."""
        tz_name = str(self.link.welcome.get("lobby", {}).get("timezone") or "Asia/Shanghai")
        try:
            tz = ZoneInfo(tz_name)
            when = datetime.fromisoformat(iso).astimezone(tz)
        except (ValueError, ZoneInfoNotFoundError):
            return iso[:16].replace("T", " ")
        today = datetime.now(tz).date()
        if when.date() == today:
            return when.strftime("%H:%M")
        if when.year == today.year:
            return when.strftime("%m-%d %H:%M")
        return when.strftime("%Y-%m-%d %H:%M")

    def _show(self, items: list[dict[str, Any]], keep: str | None) -> None:
        self.items = items
        self.table.setRowCount(len(items))
        for r, ref in enumerate(items):
            cust = ref.get("customer") or {}
            who = cust.get("salutation") or tr("未登记客户")
            if cust.get("tier_label"):
                who += f" · {cust['tier_label']}"
            cells = (
                ref["referral_no"],
                ref["status_label"],
                self._local_time(ref["created_at"]),
                ref.get("ticket_number", ""),
                who,
                ref["need_label"],
                ref.get("referrer_name") or ref["referrer"],
            )
            closed = ref["status"] in CLOSED
            for c, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                if ref["status"] == "new":
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                if closed:  # done: kept in view for looking back, greyed
                    item.setForeground(QBrush(QColor("#777777")))
                self.table.setItem(r, c, item)
        row = next((i for i, ref in enumerate(items) if ref["referral_no"] == keep), None)
        if row is not None:
            self.table.selectRow(row)
        self._show_selected()

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.items):
            return None
        return self.items[rows[0].row()]

    def _enable_actions(self) -> None:
        ref = self.selected()
        status = ref["status"] if ref else ""
        self.accept_btn.setEnabled(status == "new")
        self.contact_btn.setEnabled(status in ("new", "accepted"))
        self.outcome_btn.setEnabled(status in ("new", "accepted", "contacted", "follow_up"))

    def _show_selected(self) -> None:
        self._enable_actions()
        ref = self.selected()
        if ref is None:
            self.detail.setText(tr("请选择一条转介"))
            return
        e = html.escape
        cust = ref.get("customer") or {}
        rows: list[tuple[str, str]] = []
        if cust:
            rows.append((tr("客户"), f"{cust['name']}（{cust['salutation']}）"))
            level = "  ".join(x for x in (cust.get("tier_label"), cust.get("vip_card_label")) if x)
            rows.append((tr("客户层级"), level))
            rows.append((tr("手机"), cust.get("masked_phone") or tr("（未留）")))
            rows.append((tr("证件"), cust.get("masked_id") or ""))
            if cust.get("manager"):
                rows.append((tr("归属客户经理"), cust["manager"]))
        else:
            rows.append((tr("客户"), tr("未登记客户（请当面了解）")))
        rows += [
            (tr("排队号"), ref.get("ticket_number", "")),
            (tr("需求"), ref["need_label"]),
            (tr("转介说明"), ref.get("note") or "—"),
            (tr("转介人"), f"{ref.get('referrer_name', '')}（{ref['referrer']}）"),
            (tr("状态"), ref["status_label"]),
        ]
        if ref.get("product"):
            rows.append((tr("成交"), f"{ref['product']} {ref['amount_fen'] / 100:,.2f} 元"))
        if ref.get("follow_up_on"):
            rows.append((tr("跟进日期"), ref["follow_up_on"]))
        text = "".join(f"<p style='margin:3px'><b>{e(k)}：</b>{e(str(v))}</p>" for k, v in rows)
        notes = ref.get("recent_notes") or []
        if notes:
            text += f"<p style='margin:6px 3px 0 3px'><b>{e(tr('近期来访与需求'))}：</b></p>"
            text += "".join(f"<p style='margin:0 3px 0 14px'>· {e(n)}</p>" for n in notes)
        self.detail.setText(text)

    # ---------------------------------------------------------------- actions

    def _act(self, command: str, extra: dict[str, Any] | None = None) -> None:
        ref = self.selected()
        if ref is None:
            return
        args = {"referral": ref["referral_no"], **(extra or {})}
        self.link.request(command, args, self._acted, self._failed)

    def _acted(self, ref: dict[str, Any]) -> None:
        self.banner.hide()
        self.say(tr(f"转介单 {ref['referral_no']}：{ref['status_label']}"))
        self.reload(select=ref["referral_no"])

    def record_outcome(self) -> None:
        ref = self.selected()
        if ref is None:
            return
        self._ask_outcome(ref)

    def _ask_outcome(
        self, ref: dict[str, Any], previous: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        cust = ref.get("customer") or {}
        who = cust.get("salutation") or ""
        dlg = OutcomeDialog(ref["referral_no"], self, who=who, previous=previous, error=error)
        self._outcome_dialog = dlg
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        args = dlg.args()  # checked by the dialog

        def refused(exc: LobbyError) -> None:  # the hub's word: back to the dialog, input kept
            self._ask_outcome(ref, args, exc.message)

        self.link.request(
            "record_outcome", {"referral": ref["referral_no"], **args}, self._acted, refused
        )

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "color: #1a7f37;")
        self.message.setText(text)

    def _failed(self, exc: LobbyError) -> None:
        self.say(exc.message, error=True)

    def closeEvent(self, event: Any) -> None:
        self.link.close()
        super().closeEvent(event)


class OutcomeDialog(QDialog):
    """The outcome of a referral. Nothing is preselected (a sale is not the default); only the
    fields of the chosen outcome are open; 确定 checks them here and keeps the dialog, and
    what was typed, until they are right. Opened again with the hub's refusal (``error``)
    and the values sent (``previous``) when the hub refuses them."""

    OUTCOMES = (("sold", tr("成交")), ("declined", tr("客户婉拒")), ("follow_up", tr("待跟进")))

    def __init__(
        self,
        referral_no: str,
        parent: QWidget | None = None,
        *,
        who: str = "",
        previous: dict[str, Any] | None = None,
        error: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("记录转介结果"))
        self.setMinimumWidth(460)
        form = QFormLayout(self)
        head = QLabel(tr(f"转介单 {referral_no}") + (f"　{who}" if who else ""))
        head.setStyleSheet("font-weight: bold;")
        form.addRow(head)
        self.kind = QButtonGroup(self)
        row = QHBoxLayout()
        self.radios: dict[str, QRadioButton] = {}
        for code, label in self.OUTCOMES:
            rb = QRadioButton(label)
            self.kind.addButton(rb)
            self.radios[code] = rb
            row.addWidget(rb)
        row.addStretch(1)
        form.addRow(tr("结果"), row)
        self.product = QLineEdit()
        self.product.setMaxLength(PRODUCT_MAX)
        self.product.setPlaceholderText(tr("例如：稳盈90天理财"))
        self.amount = QLineEdit()
        self.amount.setPlaceholderText(tr("元，例如 200000"))
        today = QDate.currentDate()
        self.follow = QDateEdit(today.addDays(7))
        self.follow.setDisplayFormat("yyyy-MM-dd")
        self.follow.setMinimumDate(today.addDays(1))
        self.follow.setCalendarPopup(True)
        self.note = QLineEdit()
        self.note.setMaxLength(500)
        form.addRow(tr("产品"), self.product)
        form.addRow(tr("金额"), self.amount)
        form.addRow(tr("跟进日期"), self.follow)
        form.addRow(tr("备注"), self.note)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.kind.buttonToggled.connect(lambda *_: self._fields_for_outcome())
        if previous:
            self._fill(previous)
        self._fields_for_outcome()
        if error:
            self._say(error)

    def _fill(self, previous: dict[str, Any]) -> None:
        rb = self.radios.get(str(previous.get("outcome", "")))
        if rb is not None:
            rb.setChecked(True)
        self.product.setText(str(previous.get("product", "")))
        if previous.get("amount_fen"):
            self.amount.setText(f"{Decimal(int(previous['amount_fen'])) / 100:f}")
        if previous.get("follow_up_on"):
            day = QDate.fromString(str(previous["follow_up_on"]), "yyyy-MM-dd")
            if day.isValid():
                self.follow.setDate(day)
        self.note.setText(str(previous.get("note", "")))

    def _fields_for_outcome(self) -> None:
        chosen = self.outcome()
        self.product.setEnabled(chosen == "sold")
        self.amount.setEnabled(chosen == "sold")
        self.follow.setEnabled(chosen == "follow_up")

    def _say(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def outcome(self) -> str:
        return next((code for code, rb in self.radios.items() if rb.isChecked()), "")

    def accept(self) -> None:
        try:
            self.args()
        except LobbyError as exc:
            self._say(exc.message)
            target = {"product": self.product, "amount": self.amount}.get(exc.field or "")
            if target is not None:
                target.setFocus()
                target.selectAll()
            return
        super().accept()

    def args(self) -> dict[str, Any]:
        outcome = self.outcome()
        if not outcome:
            raise LobbyError(
                "bad_outcome", tr("请选择结果：成交、客户婉拒或待跟进"), field="outcome"
            )
        out: dict[str, Any] = {"outcome": outcome, "note": self.note.text().strip()}
        if outcome == "sold":
            product = self.product.text().strip()
            if not product:
                raise LobbyError("bad_product", tr("成交须填写产品名称"), field="product")
            typed = self.amount.text().strip().replace(",", "").replace("，", "")
            if not typed:
                raise LobbyError("bad_amount", tr("成交须填写金额(元)"), field="amount")
            try:
                amount = Decimal(typed)
            except InvalidOperation:
                raise LobbyError(
                    "bad_amount",
                    tr(f"金额“{typed}”不是数字，请填写元，例如 200000"),
                    field="amount",
                ) from None
            if not amount.is_finite() or not 0 < amount <= Decimal(AMOUNT_MAX_FEN) / 100:
                raise LobbyError(
                    "bad_amount",
                    tr(f"成交金额应大于 0 且不超过 {AMOUNT_MAX_FEN // 100:,} 元"),
                    field="amount",
                )
            out["product"] = product
            out["amount_fen"] = int((amount * 100).to_integral_value())
        if outcome == "follow_up":
            out["follow_up_on"] = self.follow.date().toString("yyyy-MM-dd")
        return out
