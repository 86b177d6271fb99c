"""The end-of-day summary at the desk: preview the A4 pages, print or save them, close the day.

Figures come from the store's one query layer (through the hub on a second desk); the PDF is
rendered on the worker thread and shown as page images, so what the branch head previews is
the very file that prints.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.desk_backend import DeskBackend
from lobby_app.ui.worker import Worker

log = logging.getLogger(__name__)
PREVIEW_SCALE = 1.25  # 72 dpi x 1.25: an A4 page about 740 px wide


def render_pages(pdf: bytes, scale: float = PREVIEW_SCALE) -> list[QImage]:
    """The PDF's pages as images (pdfium; runs on any thread)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        out = []
        for i in range(len(doc)):
            bitmap = doc[i].render(scale=scale, rev_byteorder=True)
            image = QImage(
                bytes(bitmap.buffer),
                bitmap.width,
                bitmap.height,
                bitmap.stride,
                QImage.Format.Format_RGB888,
            )
            out.append(image.copy())  # own the pixels before pdfium frees them
        return out
    finally:
        doc.close()


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class SummaryDialog(QDialog):
    def __init__(
        self,
        backend: DeskBackend,
        *,
        actor: str,
        actor_label: str,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend = backend
        # its own thread: a month's summary must not hold up the next ticket at the desk
        self.worker = Worker(self)
        self.actor = actor
        self.actor_label = actor_label
        self.figures: dict[str, Any] | None = None
        self.pdf: bytes | None = None
        self.setWindowTitle(tr("营业日终汇总"))
        self._fit_screen()
        root = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("营业日")))
        self.start = QDateEdit(_qdate(today))
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        bar.addWidget(self.start)
        self.ranged = QCheckBox(tr("至"))
        bar.addWidget(self.ranged)
        self.end = QDateEdit(_qdate(today))
        self.end.setCalendarPopup(True)
        self.end.setDisplayFormat("yyyy-MM-dd")
        self.end.setEnabled(False)
        bar.addWidget(self.end)
        self.ranged.toggled.connect(self.end.setEnabled)
        self.refresh_btn = QPushButton(tr("预览"))
        self.refresh_btn.clicked.connect(self.refresh)
        bar.addWidget(self.refresh_btn)
        bar.addStretch(1)
        self.close_btn = QPushButton(tr("日终…"))
        self.close_btn.clicked.connect(self.close_day)
        self.print_btn = QPushButton(tr("打印"))
        self.print_btn.clicked.connect(lambda: self.deliver(None))
        self.save_btn = QPushButton(tr("另存 PDF…"))
        self.save_btn.clicked.connect(self.save_as)
        for b in (self.close_btn, self.print_btn, self.save_btn):
            bar.addWidget(b)
        root.addLayout(bar)
        self.state = QLabel()
        self.state.setWordWrap(True)
        root.addWidget(self.state)
        self.pages_box = QWidget()
        self.pages = QVBoxLayout(self.pages_box)
        self.pages.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.pages_box)
        scroll.setWidgetResizable(True)
        scroll.setStyleSheet("QScrollArea { background: #777; }")
        root.addWidget(scroll, 1)
        self._enable(False)
        self.refresh()

    def done(self, result: int) -> None:
        self.worker.shutdown()
        super().done(result)

    # ---------------------------------------------------------------- helpers

    def period(self) -> tuple[date, date]:
        start = _pydate(self.start.date())
        end = _pydate(self.end.date()) if self.ranged.isChecked() else start
        return start, end

    def _fit_screen(self) -> None:
        """900×900 where the screen has room; on a 768-high screen, its free height."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        width, height = 900, 900
        if screen is not None:
            free = screen.availableGeometry()
            width = min(width, free.width() - 16)
            height = min(height, free.height() - 40)  # the window manager's title bar
        self.resize(width, height)

    def _enable(self, ready: bool) -> None:
        self.print_btn.setEnabled(ready)
        self.save_btn.setEnabled(ready)
        single = not self.ranged.isChecked()
        closed = bool(self.figures and self.figures.get("close"))
        self.close_btn.setEnabled(ready and single and not closed)

    def say(self, text: str, error: bool = False) -> None:
        self.state.setText(text)
        self.state.setStyleSheet("color: #b3261e;" if error else "color: #1d3557;")

    def _failed(self, exc: object) -> None:
        self.refresh_btn.setEnabled(True)
        message = exc.message if isinstance(exc, LobbyError) else str(exc)
        log.warning("summary: %s", exc)
        self.say(tr(f"出错：{message}"), error=True)
        self._enable(self.pdf is not None)

    # ---------------------------------------------------------------- actions

    def refresh(self) -> None:
        start, end = self.period()
        self.refresh_btn.setEnabled(False)
        self._enable(False)
        self.say(tr("正在生成汇总表…"))
        backend, prepared = self.backend, self.actor_label

        def work() -> tuple[dict[str, Any], bytes, list[QImage]]:
            from lobby_app.printing.summary import render_summary_pdf

            figures = backend.summary(start, end)
            close = figures.get("close") or {}
            pdf = render_summary_pdf(figures, prepared_by=close.get("actor_name") or prepared)
            return figures, pdf, render_pages(pdf)

        self.worker.submit(work, self._show, self._failed)

    def _show(self, result: tuple[dict[str, Any], bytes, list[QImage]]) -> None:
        self.figures, self.pdf, images = result
        while self.pages.count():
            item = self.pages.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        for image in images:
            page = QLabel()
            page.setPixmap(QPixmap.fromImage(image))
            page.setStyleSheet("background: white; margin: 6px;")
            self.pages.addWidget(page)
        f = self.figures
        close = f.get("close")
        if close:
            text = tr(
                f"已日终（第 {close['version']} 版，{close['actor_name']}）：打印的是日终冻结的数字"
            )
            if f.get("changed_since_close"):
                text += tr("；日终后数据有变动，如需更新请执行更正（close-day --correct）")
        elif f["from"] == f["to"]:
            text = tr(
                f"未日终：数字为此刻的实时数据（取号 {f['issued']}，仍在等候 {f['waiting']}，"
                f"窗口办理中 {f['in_service']}）"
            )
        else:
            text = tr(f"{f['from']} 至 {f['to']} 汇总，共 {len(images)} 页")
        self.say(text)
        self.refresh_btn.setEnabled(True)
        self._enable(True)

    def deliver(self, path: Path | None) -> None:
        if self.figures is None:
            return
        figures, backend = self.figures, self.backend
        close = figures.get("close") or {}
        prepared = close.get("actor_name") or self.actor_label
        self.worker.submit(
            lambda: backend.print_summary(figures, pdf_path=path, prepared_by=prepared),
            lambda outcome: self.say(outcome.message, error=not outcome.ok),
            self._failed,
        )

    def save_as(self) -> None:
        start, end = self.period()
        name = f"summary-{start}" + ("" if start == end else f"_{end}") + ".pdf"
        path, _ = QFileDialog.getSaveFileName(
            self, tr("保存汇总表"), str(Path.home() / name), "PDF (*.pdf)"
        )
        if path:
            self.deliver(Path(path))

    def close_day(self) -> None:
        if self.figures is None:
            return
        f = self.figures
        day = _pydate(self.start.date())
        question = tr(
            f"对 {day} 进行日终？\n\n仍在等候 {f['waiting']} 人将按“离开未办理”结算"
            "（自助区未叫号的按“已在自助设备办理”），当日数字随即冻结，之后不能再取号。"
        )
        if f["in_service"]:
            question += tr(f"\n\n注意：还有 {f['in_service']} 位客户在窗口办理中。")
        reason, ok = QInputDialog.getText(self, tr("日终"), question + tr("\n\n说明（可不填）："))
        if not ok:
            return
        self._run_close(day, reason, force=False)

    def _run_close(self, day: date, reason: str, *, force: bool) -> None:
        backend, actor = self.backend, self.actor

        def failed(exc: object) -> None:
            if isinstance(exc, LobbyError) and exc.code == "windows_serving" and not force:
                again = QMessageBox.question(
                    self,
                    tr("还有窗口在办理"),
                    exc.message + tr("\n\n仍要日终吗？"),
                )
                if again == QMessageBox.StandardButton.Yes:
                    self._run_close(day, reason, force=True)
                    return
            self._failed(exc)

        self.worker.submit(
            lambda: backend.close_day(day, actor=actor, reason=reason, force=force),
            lambda rec: self.refresh(),
            failed,
        )
