"""Starting the desk: Qt application, a Chinese font, the store, qasync's event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import qasync  # imported after PySide6 so it picks this binding
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.store.db import Store
from lobby_app.ui.desk import DeskWindow

log = logging.getLogger(__name__)

CJK_FAMILIES = (
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
)


def use_chinese_font(app: QApplication) -> str | None:
    families = set(QFontDatabase.families())
    for fam in CJK_FAMILIES:
        if fam in families:
            font = QFont(fam)
            font.setPointSizeF(max(app.font().pointSizeF(), 10.5))
            app.setFont(font)
            return fam
    log.warning("no Chinese font found; install fonts-wqy-zenhei")
    return None


def qt_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName("lobby-app")
    app.setApplicationDisplayName(tr("网点厅堂管理"))
    use_chinese_font(app)
    return app


def build_desk(store: Store) -> DeskWindow:
    window = DeskWindow(store)
    window.resize(1600, 900)
    return window


def run_desk(data_dir: Path | None) -> int:
    app = qt_app()
    try:
        store = Store.open(data_dir)
    except LobbyError as exc:
        QMessageBox.critical(None, tr("无法启动"), exc.message)
        return 2
    window = build_desk(store)
    window.show()
    if os.environ.get("LOBBY_EXIT_AFTER_MS"):  # used by the start-up benchmark
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(os.environ["LOBBY_EXIT_AFTER_MS"]), app.quit)

    async def until_closed() -> None:
        closed = asyncio.Event()
        app.lastWindowClosed.connect(closed.set)
        app.aboutToQuit.connect(closed.set)
        await closed.wait()

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            loop.run_until_complete(until_closed())
    finally:
        store.close()
    return 0
