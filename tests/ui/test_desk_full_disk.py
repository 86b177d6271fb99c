"""The desk on a full disk: a ticket that was saved is shown as issued, with what failed."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from lobby_app.core.errors import LobbyError
from lobby_app.store import Store, commands
from tests.ui.conftest import shown_desk


def test_desk_shows_the_number_when_the_print_record_hits_a_full_disk(
    qtbot: QtBot, demo_store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Defect pinned (issue 16 item 6): on the desk, issuing (issue, then print) raised
    ``disk_full`` "本次操作未保存" once the ticket was saved and queued, so the window showed
    an error and no number, and the lobby manager issued it again. The failure is injected
    where the disk answers (ENOSPC writing the PDF, then the store refusing the record of
    it); now the desk shows the number and says that the print failed and was not recorded."""

    def enospc(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def disk_full(*_: object, **__: object) -> None:
        raise LobbyError("disk_full", "磁盘已满，无法写入。请清理磁盘后重试，本次操作未保存。")

    monkeypatch.setattr("lobby_app.printing.ticket.write_ticket_pdf", enospc)
    monkeypatch.setattr(commands, "record_print", disk_full)
    desk = shown_desk(qtbot, demo_store)
    issued_before = commands.lobby_snapshot(demo_store).issued_today
    qtbot.mouseClick(desk.issue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: desk.last_issued is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not desk.worker.busy)
    assert commands.lobby_snapshot(demo_store).issued_today == issued_before + 1
    assert desk.result_number.text() == desk.last_issued.number  # type: ignore[union-attr]
    status = desk.print_status.text()
    assert "打印失败" in status and "未能记入" in status and "磁盘已满" in status, status
    assert "未保存" not in desk.error_label.text()
    desk.grab().save(str(tmp_path / "desk-full-disk.png"))
