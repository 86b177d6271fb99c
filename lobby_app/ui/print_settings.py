"""Choosing where tickets print: a system printer (Qt's list of queues) or a folder of PDFs."""

from __future__ import annotations

from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.printing.dispatch import list_printers
from lobby_app.store import commands
from lobby_app.store.db import Store
from lobby_app.store.setup import BranchSettings


def available_printers() -> list[str]:
    names = list(QPrinterInfo.availablePrinterNames())
    for n in list_printers():
        if n not in names:
            names.append(n)
    return names


class PrintSettingsDialog(QDialog):
    def __init__(self, store: Store, st: BranchSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(tr("打印设置"))
        grid = QGridLayout(self)
        self.group = QButtonGroup(self)
        self.to_printer = QRadioButton(tr("打印到打印机"))
        self.to_folder = QRadioButton(tr("保存为 PDF 到文件夹"))
        self.to_none = QRadioButton(tr("不打印"))
        for i, b in enumerate((self.to_printer, self.to_folder, self.to_none)):
            self.group.addButton(b, i)
        grid.addWidget(self.to_printer, 0, 0)
        self.printer = QComboBox()
        self.printer.addItems(available_printers())
        if st.printer:
            if self.printer.findText(st.printer) < 0:
                self.printer.addItem(st.printer)
            self.printer.setCurrentText(st.printer)
        grid.addWidget(self.printer, 0, 1)
        grid.addWidget(self.to_folder, 1, 0)
        row = QHBoxLayout()
        self.folder = QLineEdit(str(st.ticket_folder(store.data_dir)))
        row.addWidget(self.folder, 1)
        browse = QPushButton(tr("浏览…"))
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        grid.addLayout(row, 1, 1)
        grid.addWidget(self.to_none, 2, 0)
        {"printer": self.to_printer, "none": self.to_none}.get(
            st.print_kind, self.to_folder
        ).setChecked(True)
        if not self.printer.count():
            self.to_printer.setEnabled(False)
            self.printer.setPlaceholderText(tr("本机没有可用的打印机"))
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        grid.addWidget(self.error, 3, 0, 1, 2)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 4, 0, 1, 2)
        self.setMinimumWidth(520)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, tr("选择票据文件夹"), self.folder.text())
        if d:
            self.folder.setText(d)

    def save(self) -> None:
        kind = {0: "printer", 1: "folder", 2: "none"}[self.group.checkedId()]
        changes = {"print_kind": kind}
        if kind == "printer":
            changes["printer"] = self.printer.currentText()
        if kind == "folder":
            changes["print_folder"] = self.folder.text().strip()
        try:
            commands.change_settings(self.store, changes, actor="desk")
        except LobbyError as exc:
            self.error.setText(exc.message)
            return
        self.accept()
