"""The teller window (柜员叫号窗): compact, beside the core-banking screen, optionally on top.

Keys: F1 呼叫下一位, F2 重呼, F3 过号, F4 开始, F5 完成, F6 转移, F7 转介, Ctrl+Q 签退 (the
window closes for customers; closing this window signs out too). When a ticket is
called the pop-up (who is coming) opens inside the window and the window asks for
attention; it shows the salutation, tier, flags, notes, recent visits and one marketing
sentence, masked, never a full ID or phone number.

A referral's slip (转介单) prints on this PC when it has a printer of its own set up (its
configuration's [printer]); otherwise the lobby desk prints it and the customer collects it
there.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.business import NEED_TAGS
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.zones import Zone
from lobby_app.ui.hublink import HubLink
from lobby_app.ui.worker import Worker

if TYPE_CHECKING:
    from lobby_app.lobby import PrintOutcome
    from lobby_app.printing.dispatch import PrintTarget

log = logging.getLogger(__name__)
ERROR_STYLE = "color: #b00020; font-weight: bold;"
STATUS_LABELS = {"called": tr("已叫号，等客户到窗口"), "serving": tr("办理中")}
SIGN_OUT_WAIT_S = 2.0  # closing the window waits this long for the hub to sign out


class TellerWindow(QWidget):
    """One window's teller station; all work goes through the hub."""

    popped = Signal(dict)  # the card shown, after it is painted
    slip_printed = Signal(dict)  # a referral whose slip this PC printed (or failed to)

    def __init__(
        self, link: HubLink, window_no: int, *, slip_target: PrintTarget | None = None
    ) -> None:
        """``slip_target``: this PC's own printer for referral slips (None: the desk's)."""
        super().__init__()
        self.link = link
        link.setParent(self)  # the window owns its link: both go together
        self.window_no = window_no
        self.slip_target = slip_target
        self.last_referral: dict[str, Any] | None = None  # its slip can be printed again
        self.worker = Worker(self)  # renders and prints slips off the Qt thread
        self.current: dict[str, Any] | None = None
        self.card: dict[str, Any] | None = None
        self._link_lost = ""  # the connection message on screen, cleared on reconnection
        self.window_open = True
        self.signed_out = False
        self._busy = False
        self.setWindowTitle(tr(f"{window_no} 号窗口 · 柜员叫号"))
        self._build()
        link.state.connect(self._on_state)
        link.pushed.connect(self._on_event)
        self._set_enabled(False)

    # ---------------------------------------------------------------- layout

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(10, 8, 10, 8)
        root.setSpacing(6)
        top = QHBoxLayout()
        self.title = QLabel(tr(f"{self.window_no} 号窗口"))
        self.title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.conn = QLabel(tr("正在连接网点主机…"))
        self.on_top = QCheckBox(tr("置顶"))
        self.on_top.toggled.connect(self._stay_on_top)
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.conn)
        top.addWidget(self.on_top)
        root.addLayout(top)

        now = QHBoxLayout()
        self.number = QLabel("—")
        big = QFont(self.font())
        big.setPointSizeF(30)
        big.setBold(True)
        self.number.setFont(big)
        self.status = QLabel(tr("空闲"))
        self.status.setWordWrap(True)
        now.addWidget(self.number)
        now.addWidget(self.status, 1)
        root.addLayout(now)

        grid = QGridLayout()
        grid.setSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        for i, (key, label, shortcut, slot) in enumerate(
            (
                ("call", tr("呼叫下一位"), "F1", self.call_next),
                ("recall", tr("重呼"), "F2", lambda: self._simple("recall")),
                ("no_show", tr("过号"), "F3", lambda: self._simple("no_show")),
                ("start", tr("开始"), "F4", lambda: self._simple("start")),
                ("finish", tr("完成"), "F5", lambda: self._simple("finish")),
                ("transfer", tr("转移…"), "F6", self.transfer),
                ("refer", tr("转介…"), "F7", self.refer),
                ("open", tr("暂停服务"), "", self.toggle_open),
                ("sign_out", tr("签退"), "Ctrl+Q", self.sign_out),
            )
        ):
            b = QPushButton(f"{label} {shortcut}".strip())
            b.setMinimumHeight(34)
            b.clicked.connect(slot)
            if shortcut:
                QShortcut(QKeySequence(shortcut), self).activated.connect(b.click)
            grid.addWidget(b, i // 4, i % 4)
            self.buttons[key] = b
        self.buttons["call"].setStyleSheet("font-weight: bold;")
        self.buttons["sign_out"].setToolTip(tr("离开窗口：本窗口停止分配客户，并关闭叫号窗"))
        root.addLayout(grid)

        self.popup = QFrame()
        self.popup.setObjectName("popup")
        self.popup.setStyleSheet(
            "#popup { border: 2px solid #c28a00; border-radius: 6px; background: #fffaf0; }"
        )
        pl = QVBoxLayout(self.popup)
        pl.setContentsMargins(10, 8, 10, 8)
        self.who = QLabel()
        self.who.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.who.setWordWrap(True)
        self.flags = QLabel()
        self.flags.setStyleSheet("color: #a05000; font-weight: bold;")
        self.flags.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.marketing = QLabel()
        self.marketing.setWordWrap(True)
        self.marketing.setStyleSheet(
            "background: #e8f4ea; border-radius: 4px; padding: 6px; font-size: 14px;"
        )
        for w in (self.who, self.flags, self.detail, self.marketing):
            pl.addWidget(w)
        pl.addStretch(1)  # the card reads from the top; spare room goes below it
        self.popup.hide()
        root.addWidget(self.popup, 1)

        self.queue = QLabel()
        self.queue.setStyleSheet("color: #444;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        root.addWidget(self.queue)
        mrow = QHBoxLayout()
        mrow.addWidget(self.message, 1)
        self.reprint_slip = QPushButton(tr("重打转介单"))
        self.reprint_slip.setToolTip(tr("在本机打印机上再打一次上一张转介单"))
        self.reprint_slip.clicked.connect(self._reprint_slip)
        self.reprint_slip.hide()  # until this PC has printed a slip
        mrow.addWidget(self.reprint_slip)
        root.addLayout(mrow)
        self.setMinimumWidth(460)

    def _stay_on_top(self, on: bool) -> None:
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        self.show()

    def _set_enabled(self, up: bool) -> None:
        for b in self.buttons.values():
            b.setEnabled(up and not self._busy)

    # ---------------------------------------------------------------- hub

    def _on_state(self, up: bool, why: str) -> None:
        self.conn.setText(tr("● 已连接") if up else tr("● 未连接"))
        self.conn.setStyleSheet("color: #1a7f37;" if up else ERROR_STYLE)
        self._set_enabled(up)
        if up:
            staff = self.link.welcome.get("staff", "")
            self.title.setText(tr(f"{self.window_no} 号窗口 · 柜员 {staff}"))
            self._show_lobby(self.link.welcome.get("lobby", {}))
            self.link.request("counters", {}, self._show_counter, self._failed)
            if self._link_lost and self.message.text() == self._link_lost:
                self.say(tr("已重新连接网点主机"))  # the red line goes with the trouble
            self._link_lost = ""
        else:
            self._link_lost = why
            self.say(why, error=True)

    def _on_event(self, name: str, msg: dict[str, Any]) -> None:
        if name == "lobby":
            self._show_lobby(msg.get("data", {}))

    def _show_lobby(self, lobby: dict[str, Any]) -> None:
        zones = lobby.get("zones", [])
        parts = [
            f"{Zone(z['zone']).short_label} {z['waiting_count']}{tr('人')}"
            for z in zones
            if z.get("waiting_count")
        ]
        self.queue.setText(tr("等候：") + ("，".join(parts) if parts else tr("无人等候")))

    def _show_counter(self, counters: list[dict[str, Any]]) -> None:
        mine = next((c for c in counters if c["window"] == self.window_no), None)
        if mine is None:
            self.say(tr(f"网点没有 {self.window_no} 号窗口，请检查窗口号"), error=True)
            return
        self.window_open = bool(mine["is_open"])
        self.buttons["open"].setText(tr("暂停服务") if self.window_open else tr("开窗服务"))
        me = self.link.welcome.get("staff", "")
        if mine.get("staff_no") and mine["staff_no"] != me:
            self.say(
                tr(
                    f"{self.window_no} 号窗口现由 {mine.get('staff_name') or ''}"
                    f"（{mine['staff_no']}）签到，本机不再叫号"
                ),
                error=True,
            )
        elif mine.get("staff_no"):
            self.title.setText(
                tr(f"{self.window_no} 号窗口 · 柜员 {mine.get('staff_name') or ''}（{me}）")
            )
        if mine["current"] and self.current is None:
            self.number.setText(mine["current"])
            self.status.setText(STATUS_LABELS.get(mine["current_status"], ""))

    # ---------------------------------------------------------------- commands

    def _run(self, command: str, args: dict[str, Any], on_done: Any) -> None:
        if self._busy:
            return
        self._busy = True
        self._set_enabled(True)

        def done(result: Any) -> None:
            self._busy = False
            self._set_enabled(self.link.connected)
            on_done(result)

        def failed(exc: LobbyError) -> None:
            self._busy = False
            self._set_enabled(self.link.connected)
            self._failed(exc)

        self.link.request(command, args, done, failed)

    def call_next(self) -> None:
        self._run("call_next", {}, self._called)

    def _simple(self, command: str) -> None:
        self._run(command, {}, lambda r: self._after(command, r))

    def _called(self, result: dict[str, Any]) -> None:
        self.current = result
        self.number.setText(result["number"])
        self.status.setText(STATUS_LABELS["called"] + f" · {result['business']}")
        self.say(tr(f"已呼叫 {result['number']}"))
        card = result.get("card")
        if isinstance(card, dict):
            self.show_card(card)

    def _after(self, command: str, result: dict[str, Any]) -> None:
        number = result["number"]
        if command == "recall":
            self.say(tr(f"已重呼 {number}"))
            return
        if command == "start":
            self.current = result
            self.status.setText(STATUS_LABELS["serving"] + f" · {result['business']}")
            self.say(tr(f"{number} 开始办理"))
            return
        said = {
            "finish": tr(f"{number} 办理完成"),
            "no_show": tr(f"{number} 已过号，客户回来后可再叫"),
            "transfer": tr(f"{number} 已转出"),
        }[command]
        self.current = None
        self.number.setText("—")
        self.status.setText(tr("空闲"))
        self.popup.hide()
        self.say(said)

    def show_card(self, card: dict[str, Any]) -> None:
        """The pop-up: who is coming and what they need."""
        self.card = card
        e = html.escape
        if card.get("walk_in"):
            self.who.setText(tr(f"{card['number']} · 未登记客户"))
        else:
            bits = [card["salutation"], card.get("tier_label", ""), card.get("vip_card_label", "")]
            self.who.setText(f"{card['number']} · " + "  ".join(b for b in bits if b))
        self.flags.setText("  ".join(f"【{f}】" for f in card.get("flags", [])))
        self.flags.setVisible(bool(card.get("flags")))
        rows = [(tr("业务"), f"{card['business']}（{card['zone_label']}）")]
        if card.get("masked_id"):
            rows.append((tr("证件"), card["masked_id"]))
        if card.get("manager"):
            rows.append((tr("客户经理"), card["manager"]))
        if card.get("greeting_note"):
            rows.append((tr("迎宾备注"), card["greeting_note"]))
        needs = "、".join(card.get("needs", []))
        if needs or card.get("needs_note"):
            rows.append(
                (tr("需求"), "；".join(p for p in (needs, card.get("needs_note", "")) if p))
            )
        text = "".join(f"<p style='margin:2px'><b>{e(k)}：</b>{e(v)}</p>" for k, v in rows)
        recent = card.get("recent_notes", [])
        if recent:
            text += f"<p style='margin:4px 2px 0 2px'><b>{e(tr('近期来访'))}：</b></p>"
            text += "".join(f"<p style='margin:0 2px 0 12px'>· {e(n)}</p>" for n in recent)
        self.detail.setText(text)
        sentence = card.get("marketing") or ""
        self.marketing.setText(tr(f"一句话营销：{sentence}"))
        self.marketing.setVisible(bool(sentence))
        self.popup.show()
        if QApplication.platformName() != "offscreen":  # no window stack to raise in there
            self.raise_()
            self.activateWindow()
        QApplication.alert(self, 3000)
        self.repaint()  # painted now, so the teller sees it at once
        self.popped.emit(card)

    def toggle_open(self) -> None:
        self._run(
            "window_open",
            {"open": not self.window_open},
            lambda r: self._opened(bool(r["open"])),
        )

    def _opened(self, is_open: bool) -> None:
        self.window_open = is_open
        self.buttons["open"].setText(tr("暂停服务") if is_open else tr("开窗服务"))
        self.say(tr("已开窗，可以叫号") if is_open else tr("本窗口已暂停服务，不再分配新客户"))

    def transfer(self) -> None:
        dlg = TransferDialog(self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self._run("transfer", dlg.args(), lambda r: self._after("transfer", r))

    def refer(self) -> None:
        if self.current is None:
            self.say(tr("请先叫号，再转介当前客户"), error=True)
            return
        number = self.current["number"]
        self.link.request("managers", {}, lambda ms: self._refer_to(number, ms), self._failed)

    def _refer_to(self, number: str, managers: list[dict[str, str]]) -> None:
        card = self.card if self.card and self.card.get("number") == number else {}
        dlg = ReferDialog(
            number,
            managers,
            self,
            needs=card.get("need_codes", []),
            manager=str(card.get("manager", "")),
        )
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        args = dlg.args()
        if self.slip_target is not None:
            args["slip_here"] = True  # the hub tells the desk not to print it too
        self.link.request("refer", args, self._referred, self._failed)

    def _referred(self, ref: dict[str, Any]) -> None:
        if self.slip_target is not None and ref.get("slip_here"):
            self.say(_referred_text(ref) + tr("；正在本机打印转介单…"))
            self.print_slip(ref)
        else:  # the lobby desk prints it
            self.say(_referred_text(ref) + tr("；请客户到大堂领取转介单"))

    def print_slip(self, ref: dict[str, Any]) -> None:
        """Render the slip with the branch's name and time zone (from the hub) and send it
        to this PC's printer, the same way the desk prints (``lobby.deliver_slip``)."""
        target = self.slip_target
        if target is None:
            return
        self.last_referral = ref
        self.reprint_slip.setEnabled(False)

        def with_branch(branch: dict[str, Any]) -> None:
            from lobby_app.lobby import deliver_slip
            from lobby_app.store.setup import BranchSettings

            st = BranchSettings(**branch)
            self.worker.submit(
                # the data folder is not used: the target is given
                lambda: deliver_slip(ref, st, Path.cwd(), target=target),
                lambda outcome: self._slip_done(ref, outcome),
                lambda exc: self._slip_failed(ref, str(exc)),
            )

        self.link.request(
            "branch", {}, with_branch, lambda exc: self._slip_failed(ref, exc.message)
        )

    def _slip_done(self, ref: dict[str, Any], outcome: PrintOutcome) -> None:
        if not outcome.ok:
            self._slip_failed(ref, outcome.message)
            return
        self.reprint_slip.setEnabled(True)
        self.reprint_slip.show()
        self.say(_referred_text(ref) + tr(f"；{outcome.message}，请交给客户"))
        self.slip_printed.emit({**ref, "print": outcome.as_json()})

    def _slip_failed(self, ref: dict[str, Any], why: str) -> None:
        self.reprint_slip.setEnabled(True)
        self.reprint_slip.show()
        self.say(
            _referred_text(ref)
            + tr(
                f"；转介已记录，但转介单没有打印：{why.rstrip('。')}。请检查打印机后按“重打转介单”"
            ),
            error=True,
        )
        self.slip_printed.emit({**ref, "print": {"ok": False, "message": why}})

    def _reprint_slip(self) -> None:
        if self.last_referral is not None:
            self.print_slip(self.last_referral)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "color: #1a7f37;")
        self.message.setText(text)

    def _failed(self, exc: LobbyError) -> None:
        if exc.code == "queue_empty":
            self.say(tr("没有等候的客户"))
            return
        self.say(exc.message, error=True)
        if exc.code in ("no_teller", "window_closed"):  # the window's state changed: reload it
            self.link.request("counters", {}, self._show_counter, lambda e: None)

    def sign_out(self) -> None:
        """签退: the window stops counting as open; then this station closes."""
        if self.current is not None:
            self.say(tr(f"请先完成或转移 {self.current['number']}，再签退"), error=True)
            return
        self._run("sign_out", {}, self._signed_out)

    def _signed_out(self, _result: Any) -> None:
        self.signed_out = True
        self.say(tr(f"已签退，{self.window_no} 号窗口不再分配客户"))
        self.close()

    def _sign_out_on_close(self) -> None:
        """Closing the window signs out (best effort: a lost hub must not hold the close)."""
        if self.signed_out or not self.link.connected:
            return
        self.signed_out = True
        link = self.link

        def go() -> None:
            try:
                link.call("sign_out", {})
            except Exception as exc:  # the hub may be gone; the window closes anyway
                log.warning("sign-out on close: %s", exc)

        t = threading.Thread(target=go, name="teller-sign-out", daemon=True)
        t.start()
        t.join(SIGN_OUT_WAIT_S)

    def closeEvent(self, event: Any) -> None:
        self._sign_out_on_close()
        self.link.close()
        self.worker.shutdown()
        super().closeEvent(event)


def _referred_text(ref: dict[str, Any]) -> str:
    return tr(
        f"已转介给 {ref['to_name']}（{ref['to_location'] or ref['to_staff']}），"
        f"单号 {ref['referral_no']}"
    )


class TransferDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("转移客户"))
        form = QFormLayout(self)
        self.zone = QComboBox()
        self.zone.addItem(tr("（转到指定窗口）"), "")
        for z in Zone:
            self.zone.addItem(z.label, z.value)
        self.to_window = QSpinBox()
        self.to_window.setRange(0, 99)
        self.to_window.setSpecialValueText(tr("（不指定）"))
        self.reason = QLineEdit()
        self.reason.setMaxLength(100)
        form.addRow(tr("转到区域"), self.zone)
        form.addRow(tr("或转到窗口"), self.to_window)
        form.addRow(tr("原因"), self.reason)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def args(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.reason.text().strip()}
        if self.zone.currentData():
            out["to_zone"] = str(self.zone.currentData())
        elif self.to_window.value():
            out["to_window"] = self.to_window.value()
        return out


class ReferDialog(QDialog):
    """To whom, which need, a note; the ticket number is filled in and can be changed."""

    def __init__(
        self,
        number: str,
        managers: list[dict[str, str]],
        parent: QWidget | None = None,
        *,
        needs: Sequence[str] = (),
        manager: str = "",
    ) -> None:
        """``needs``: the need codes tagged on the ticket (the first one is chosen, not the
        list's first entry); ``manager``: the customer's own manager, chosen if listed."""
        super().__init__(parent)
        self.setWindowTitle(tr("转介给客户经理"))
        form = QFormLayout(self)
        self.ticket = QLineEdit(number)
        self.ticket.setMaxLength(12)
        self.to = QComboBox()
        for m in managers:
            where = f" · {m['location']}" if m.get("location") else ""
            self.to.addItem(f"{m['name']}（{m['staff']}）{where}", m["staff"])
        self.need = QComboBox()
        for code, label in NEED_TAGS.items():
            self.need.addItem(label, code)
        tagged = [self.need.findData(code) for code in needs]
        tagged = [i for i in tagged if i >= 0]
        if tagged:
            self.need.setCurrentIndex(tagged[0])
        else:  # nothing tagged: the lobby manager picks; no silent 储蓄存款
            self.need.insertItem(0, tr("(请选择需求)"), "")
            self.need.setCurrentIndex(0)
        own = self.to.findData(manager.strip().upper()) if manager else -1
        if own >= 0:
            self.to.setCurrentIndex(own)
        self.note = QLineEdit()
        self.note.setMaxLength(200)
        self.note.setPlaceholderText(tr("例如：50万定期下周到期，想了解理财"))
        form.addRow(tr("票号"), self.ticket)
        form.addRow(tr("转给"), self.to)
        form.addRow(tr("需求"), self.need)
        form.addRow(tr("说明"), self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.hide()
        form.addRow(self.error)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        (self.to if number else self.ticket).setFocus()

    def accept(self) -> None:
        if not self.need.currentData():
            self.error.setText(tr("请选择客户的需求"))
            self.error.show()
            self.need.setFocus()
            return
        super().accept()

    def args(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket.text().strip().upper(),
            "to": str(self.to.currentData()),
            "need": str(self.need.currentData()),
            "note": self.note.text().strip(),
        }
