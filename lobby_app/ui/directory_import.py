"""导入客户名录: the desk's window for loading a customer directory CSV into the store.

The import (``store.directory.import_file``) runs on a worker of its own (``ui.worker``): a
million rows take a minute, and the desk's worker must stay free to issue tickets meanwhile
(the import's short transactions let them through). Progress comes back from the worker
thread as a queued signal and moves the bar; the result is said as the command line says it,
every error and flag listed (line, field, reason). An import that stopped half-way is
continued by importing the same file again, which the window says.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.store.db import Store
from lobby_app.store.directory import (
    ImportProgress,
    import_file,
    nothing_imported,
    summary_lines,
)
from lobby_app.store.views import ImportReport
from lobby_app.ui.worker import Worker

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1a7f37;"
BAR_STEPS = 1000


class DirectoryImportDialog(QDialog):
    """Choose a file, import it with a progress bar, read what happened."""

    progressed = Signal(object)  # ImportProgress, emitted on the worker thread

    def __init__(
        self,
        store: Store,
        *,
        actor: str,
        path: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.actor = actor
        self.worker = Worker(self)
        self.report: ImportReport | None = None
        self.running = False
        self.setWindowTitle(tr("导入客户名录"))
        self.resize(720, 480)
        root = QVBoxLayout(self)
        hint = QLabel(
            tr(
                "选择总行下发的客户名录 CSV(UTF-8 或 GBK，中文或英文表头)。已有客户按客户号更新，"
                "有错误的行跳过并列出。导入期间可以照常取号；若导入中途停止，再次导入同一文件会从中断处继续。"
            )
        )
        hint.setWordWrap(True)
        root.addWidget(hint)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(path) if path else "")
        self.path_edit.setPlaceholderText(tr("客户名录 CSV 文件"))
        row.addWidget(self.path_edit, 1)
        self.browse_btn = QPushButton(tr("选择文件…"))
        self.browse_btn.clicked.connect(self.browse)
        row.addWidget(self.browse_btn)
        root.addLayout(row)
        self.strict = QCheckBox(tr("严格模式：有任何错误行则整个文件不导入"))
        root.addWidget(self.strict)
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setValue(0)
        self.bar.setFormat("%p%")
        root.addWidget(self.bar)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.state)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(tr("错误和需核对的行会列在这里(第几行、哪一列、原因)"))
        root.addWidget(self.details, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_btn = QPushButton(tr("开始导入"))
        self.start_btn.setDefault(True)
        self.start_btn.clicked.connect(self.start)
        buttons.addWidget(self.start_btn)
        self.close_btn = QPushButton(tr("关闭"))
        self.close_btn.clicked.connect(self.reject)
        buttons.addWidget(self.close_btn)
        root.addLayout(buttons)
        self.progressed.connect(self._show_progress)

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            tr("选择客户名录"),
            self.path_edit.text(),
            tr("CSV 文件 (*.csv *.txt);;所有文件 (*)"),
        )
        if name:
            self.path_edit.setText(name)

    def start(self) -> None:
        text = self.path_edit.text().strip()
        if not text:
            self._say(tr("请先选择要导入的客户名录文件。"), error=True)
            return
        path, strict = Path(text), self.strict.isChecked()
        store, actor = self.store, self.actor
        self._running(True)
        self.bar.setValue(0)
        self.details.clear()
        self._say(tr(f"正在读取 {path.name} …"))
        emit = self.progressed.emit  # thread-safe: the connection is queued to this thread
        self.worker.submit(
            lambda: import_file(store, path, strict=strict, actor=actor, progress=emit),
            self._done,
            self._failed,
        )

    def _show_progress(self, p: ImportProgress) -> None:
        self.bar.setValue(round(p.fraction * BAR_STEPS))
        if p.phase == "check":
            what = tr(f"正在检查文件… 已读 {p.rows:,} 行")
        else:
            what = tr(f"正在导入… 已导入 {p.written:,} 行，{p.rows_per_s:,.0f} 行/秒")
        if p.resumed_from_line:
            what += tr(f"(上次中途停止，从第 {p.resumed_from_line} 行继续)")
        self.state.setText(what)

    def _done(self, report: ImportReport) -> None:
        self.report = report
        self._running(False)
        lines = summary_lines(report)
        failed = report.rejected or nothing_imported(report)
        # the summary (and whether nothing was taken, whether it continued), then the list
        head = 1 if report.rejected else 1 + failed + bool(report.resumed_from_line)
        self._say("\n".join(lines[:head]), error=failed)
        if not failed:
            self.bar.setValue(BAR_STEPS)
        self.details.setPlainText("\n".join(lines[head:]))

    def _failed(self, exc: object) -> None:
        self._running(False)
        if isinstance(exc, LobbyError):
            self._say(exc.message, error=True)
        else:
            self._say(tr(f"导入失败：{exc}"), error=True)

    def _running(self, running: bool) -> None:
        self.running = running
        for w in (self.start_btn, self.browse_btn, self.path_edit, self.strict, self.close_btn):
            w.setEnabled(not running)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.state.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.state.setText(text)

    def done(self, result: int) -> None:
        if self.running:  # the import goes on to its end (Close is greyed out meanwhile)
            return
        self.worker.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            event.ignore()
            return
        super().closeEvent(event)


def open_directory_import(
    parent: QWidget | None, store: Store, *, actor: str
) -> DirectoryImportDialog:
    """The desk's 导入客户名录: window-modal, not blocking (the import runs off the Qt
    thread)."""
    dlg = DirectoryImportDialog(store, actor=actor, parent=parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.setWindowModality(Qt.WindowModality.WindowModal)
    dlg.show()
    return dlg


__all__ = ["DirectoryImportDialog", "open_directory_import"]
