"""The desk's end-of-day summary: preview pages rendered from the real PDF, close, save."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from pytestqt.qtbot import QtBot

from lobby_app.desk_backend import LocalDesk
from lobby_app.store import Store, report
from lobby_app.store.simulate import simulate_day
from lobby_app.ui.app import qt_app
from lobby_app.ui.summary_dialog import SummaryDialog

D = date(2026, 6, 1)


def test_preview_close_and_save(qtbot: QtBot, demo_store: Store, tmp_path: Path) -> None:
    qt_app()
    simulate_day(demo_store, D, visits=40, seed=7)
    live = report.figures(demo_store, D)
    dlg = SummaryDialog(LocalDesk(demo_store), actor="L01", actor_label="陈静（L01）", today=D)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.pages.count() > 0, timeout=20_000)
    assert "未日终" in dlg.state.text() and f"取号 {live['issued']}" in dlg.state.text()
    page = dlg.pages.itemAt(0).widget().pixmap().toImage()  # type: ignore[union-attr]
    assert 1.35 < page.height() / page.width() < 1.48  # A4 portrait
    dark = sum(
        1
        for y in range(0, page.height(), 7)
        for x in range(0, page.width(), 7)
        if page.pixelColor(x, y).lightness() < 128
    )
    assert dark > 200, "the page shows text, not a blank sheet"
    assert dlg.close_btn.isEnabled() and dlg.print_btn.isEnabled()

    dlg._run_close(D, "测试日终", force=False)
    qtbot.waitUntil(lambda: "已日终" in dlg.state.text(), timeout=20_000)
    assert "第 1 版" in dlg.state.text() and not dlg.close_btn.isEnabled()

    out = tmp_path / "day.pdf"
    dlg.deliver(out)
    qtbot.waitUntil(lambda: "已保存" in dlg.state.text(), timeout=20_000)
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "营业日终汇总表" in flat and "陈静（L01）" in flat
    assert f"转介 {live['referrals']['made']} 笔" in flat

    # a range: the trend section, and no closing of a range
    dlg.ranged.setChecked(True)
    dlg.end.setDate(dlg.start.date().addDays(6))
    dlg.refresh()
    qtbot.waitUntil(lambda: "至" in dlg.state.text(), timeout=20_000)
    assert not dlg.close_btn.isEnabled()


def test_summary_dialog_fits_the_screen_it_opens_on(qtbot: QtBot, demo_store: Store) -> None:
    """Issue 18 item 10: 900×900 ran off a 768-high screen; the dialog takes at most the
    screen's free height (the offscreen screen here is smaller still)."""
    qt_app()
    dlg = SummaryDialog(LocalDesk(demo_store), actor="L01", actor_label="陈静（L01）", today=D)
    qtbot.addWidget(dlg)
    dlg.show()
    free = dlg.screen().availableGeometry()
    assert dlg.height() <= free.height() - 40 and dlg.width() <= free.width()
    assert dlg.print_btn.isVisible()  # the buttons at its foot are on the screen
    foot = dlg.print_btn.mapToGlobal(dlg.print_btn.rect().bottomLeft())
    assert foot.y() <= free.bottom()
