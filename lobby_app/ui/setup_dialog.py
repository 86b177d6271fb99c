"""First-run setup (and later 本机设置): what this PC is, once, without a terminal.

Branch code and name, this PC's role (the lobby desk, which is also the branch hub; a teller
window and its number; a customer manager; the calling display), the hub's address and the
branch's station key, the printer with a test print, and the head-office sync target.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lobby_app.config import (
    PRINT_KINDS,
    ROLE_LABELS,
    ROLES,
    BranchPart,
    Config,
    PrinterPart,
    StationPart,
    SyncPart,
    save,
    validate,
)
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.ui.worker import Worker

if TYPE_CHECKING:
    from lobby_app.printing.dispatch import PrintTarget

PRINT_LABELS = {
    "printer": tr("打印机"),
    "folder": tr("存为 PDF 文件"),
    "none": tr("不打印"),
}


def test_page_pdf(path: Path) -> Path:
    """A small test page (80 mm) in Chinese: proves the printer and the font."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from lobby_app.printing.fonts import cjk_font

    font = cjk_font()
    c = Canvas(str(path), pagesize=(80 * mm, 50 * mm))
    c.setFont(font, 14)
    c.drawCentredString(40 * mm, 35 * mm, tr("打印测试"))
    c.setFont(font, 9)
    c.drawCentredString(40 * mm, 25 * mm, tr("网点厅堂管理 · 如能看清这几行字，打印正常"))
    c.drawCentredString(40 * mm, 18 * mm, "A001 V001 0123456789")
    c.save()
    return path


class SetupDialog(QDialog):
    def __init__(
        self,
        path: Path,
        current: Config | None = None,
        *,
        first_run: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.saved: Config | None = None
        cfg = current or Config()
        self.setWindowTitle(tr("首次设置") if first_run else tr("本机设置"))
        root = QVBoxLayout(self)
        intro = QLabel(
            tr("请设置这台电脑在网点中的用途。只需设置一次，以后可在“本机设置”中修改。")
            if first_run
            else tr("修改本机设置。角色、主机地址和端口在重新打开程序后生效。")
        )
        intro.setWordWrap(True)
        root.addWidget(intro)

        branch = QGroupBox(tr("网点"))
        bf = QFormLayout(branch)
        self.branch_code = QLineEdit(cfg.branch.code)
        self.branch_code.setPlaceholderText(tr("例如 310115001"))
        self.branch_name = QLineEdit(cfg.branch.name)
        self.branch_name.setPlaceholderText(tr("例如 城东支行"))
        bf.addRow(tr("网点代码"), self.branch_code)
        bf.addRow(tr("网点名称"), self.branch_name)
        root.addWidget(branch)

        station = QGroupBox(tr("本机角色"))
        sf = QFormLayout(station)
        self.role = QComboBox()
        for r in ROLES:
            self.role.addItem(ROLE_LABELS[r], r)
        self.role.setCurrentIndex(ROLES.index(cfg.station.role))
        self.window_no = QSpinBox()
        self.window_no.setRange(1, 999)
        self.window_no.setValue(cfg.station.window or 1)
        self.hub = QLineEdit(cfg.station.hub)
        self.hub.setPlaceholderText("ws://192.168.1.10:8765")
        self.key = QLineEdit(cfg.station.key)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(tr("在大堂经理电脑上运行 lobby-app station-key 可查看"))
        self.staff = QLineEdit(cfg.station.staff)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(cfg.station.port)
        sf.addRow(tr("用途"), self.role)
        sf.addRow(tr("窗口号"), self.window_no)
        sf.addRow(tr("网点主机地址"), self.hub)
        sf.addRow(tr("站点密钥"), self.key)
        sf.addRow(tr("默认工号（可不填）"), self.staff)
        sf.addRow(tr("主机端口"), self.port)
        self._station_form = sf
        root.addWidget(station)

        printer = QGroupBox(tr("打印"))
        pf = QFormLayout(printer)
        self.print_kind = QComboBox()
        for k in PRINT_KINDS:
            self.print_kind.addItem(PRINT_LABELS[k], k)
        self.print_kind.setCurrentIndex(PRINT_KINDS.index(cfg.printer.kind))
        self.printer_name = QComboBox()
        self.printer_name.setEditable(True)
        self.printer_name.setCurrentText(cfg.printer.name)
        self.worker = Worker(self)  # the print system answers slowly; the dialog does not wait
        self.worker.submit(_printers, self._set_printers)
        self.folder = QLineEdit(cfg.printer.folder)
        self.folder.setPlaceholderText(tr("留空：数据目录下的 tickets 文件夹"))
        test_row = QHBoxLayout()
        self.test_btn = QPushButton(tr("测试打印"))
        self.test_btn.clicked.connect(self.test_print)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_btn)
        test_row.addWidget(self.test_result, 1)
        pf.addRow(tr("方式"), self.print_kind)
        pf.addRow(tr("打印机"), self.printer_name)
        pf.addRow(tr("文件夹"), self.folder)
        pf.addRow(test_row)
        root.addWidget(printer)

        self.sync_box = QGroupBox(tr("总行同步（仅大堂经理电脑）"))
        yf = QFormLayout(self.sync_box)
        self.sync_url = QLineEdit(cfg.sync.url)
        self.sync_url.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.sync_url.setPlaceholderText(
            tr("留空：本机演示库；总行：postgresql+psycopg://用户:密码@主机:5432/库名")
        )
        self.sync_time = QLineEdit(cfg.sync.time)
        yf.addRow(tr("总行地址"), self.sync_url)
        yf.addRow(tr("每日同步时间"), self.sync_time)
        root.addWidget(self.sync_box)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        root.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(
            tr("保存并启动") if first_run else tr("保存")
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
        self.role.currentIndexChanged.connect(self._role_changed)
        self.print_kind.currentIndexChanged.connect(self._print_changed)
        self._role_changed()
        self._print_changed()
        self.resize(560, 700)

    # ---------------------------------------------------------------- form

    def _show_row(self, widget: QWidget, shown: bool) -> None:
        self._station_form.setRowVisible(widget, shown)

    def _role_changed(self) -> None:
        role = self.role.currentData()
        self._show_row(self.window_no, role == "teller")
        self._show_row(self.hub, role != "desk")
        self._show_row(self.key, role != "desk")
        self._show_row(self.staff, role in ("teller", "manager"))
        self._show_row(self.port, role == "desk")
        self.sync_box.setVisible(role == "desk")

    def _print_changed(self) -> None:
        kind = self.print_kind.currentData()
        self.printer_name.setEnabled(kind == "printer")
        self.folder.setEnabled(kind == "folder")
        self.test_btn.setEnabled(kind != "none")

    def config(self) -> Config:
        role = str(self.role.currentData())
        return Config(
            BranchPart(self.branch_code.text().strip(), self.branch_name.text().strip()),
            StationPart(
                role=role,
                window=self.window_no.value() if role == "teller" else None,
                hub=self.hub.text().strip() if role != "desk" else "",
                key=self.key.text().strip() if role != "desk" else "",
                staff=self.staff.text().strip(),
                port=self.port.value(),
            ),
            PrinterPart(
                str(self.print_kind.currentData()),
                self.printer_name.currentText().strip(),
                self.folder.text().strip(),
            ),
            SyncPart(self.sync_url.text().strip(), self.sync_time.text().strip() or "21:30")
            if role == "desk"
            else SyncPart(),
        )

    # ---------------------------------------------------------------- actions

    def test_print(self) -> None:
        """Render and send a test page on the worker thread: a printer may take seconds."""
        from lobby_app.printing.dispatch import PrintTarget

        kind = str(self.print_kind.currentData())
        folder = self.folder.text().strip()
        target = PrintTarget(
            kind="printer" if kind == "printer" else "folder",
            printer=self.printer_name.currentText().strip() or None,
            folder=Path(folder) if folder else Path(tempfile.gettempdir()) / "lobby-app-test",
        )
        self.test_btn.setEnabled(False)
        self.test_result.setText(tr("正在打印测试页…"))
        self.test_result.setStyleSheet("")
        self.worker.submit(
            lambda: _send_test_page(target),
            lambda where: self._tested(
                tr(f"已发送测试页（{where}），请看打印机是否出纸")
                if kind == "printer"
                else tr(f"测试页已保存到 {where}"),
                ok=True,
            ),
            lambda exc: self._tested(
                getattr(exc, "message_zh", None) or tr(f"测试页未能生成：{exc}"), ok=False
            ),
        )

    def _tested(self, text: str, *, ok: bool) -> None:
        self.test_btn.setEnabled(True)
        self.test_result.setText(text)
        self.test_result.setStyleSheet("color: #1a7f37;" if ok else "color: #b00020;")

    def _set_printers(self, names: list[str]) -> None:
        typed = self.printer_name.currentText()
        self.printer_name.clear()
        self.printer_name.addItems(names)
        self.printer_name.setCurrentText(typed)

    def done(self, result: int) -> None:
        self.worker.shutdown()
        super().done(result)

    def accept(self) -> None:
        cfg = self.config()
        try:
            validate(cfg, self.path)
            save(cfg, self.path)
        except LobbyError as exc:
            self.error.setText(exc.message)
            return
        except OSError as exc:
            self.error.setText(tr(f"配置无法保存到 {self.path}（{exc.strerror or exc}）"))
            return
        self.saved = cfg
        super().accept()


def _send_test_page(target: PrintTarget) -> str:
    from lobby_app.printing.dispatch import dispatch_pdf

    with tempfile.TemporaryDirectory(prefix="lobby-test-print-") as tmp:
        return dispatch_pdf(test_page_pdf(Path(tmp) / "print-test.pdf"), target)


def _printers() -> list[str]:
    from lobby_app.printing.dispatch import list_printers

    try:
        return list_printers(timeout_s=3)
    except Exception:  # no print system: the name can still be typed
        return []
