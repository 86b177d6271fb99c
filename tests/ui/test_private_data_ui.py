"""Private data on the desk's screens (issue 16 items 9, 10): a masked note is said so at
issue, and the settings dialog never shows the head office's password."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from lobby_app.config import BranchPart, Config, PrinterPart, SyncPart, load
from lobby_app.models import Ticket
from lobby_app.store import Store
from lobby_app.ui.app import qt_app
from lobby_app.ui.setup_dialog import SetupDialog
from tests.ui.conftest import shown_desk

SHOTS = Path("/tmp/lobby-shots")
URL = "postgresql+psycopg://lobby:s3cr3t-pw@ho.bank.cn:5432/lobby"


def test_the_desk_says_when_a_note_was_saved_masked(qtbot: QtBot, demo_store: Store) -> None:
    """Was: the note was saved as typed and nothing was said. Now the numbers are masked
    and the issue result says "备注中的证件号/手机号已遮盖"."""
    desk = shown_desk(qtbot, demo_store)
    desk.choose_walk_in()
    desk.needs_note.setPlainText("客户手机 186-1205-7623，身份证110101198409227176")
    desk.issue()
    qtbot.waitUntil(lambda: desk.last_issued is not None and not desk._issuing, timeout=10_000)
    assert "备注中的证件号/手机号已遮盖" in desk.result_text.text()
    assert desk.error_label.text() == "备注中的证件号/手机号已遮盖"  # under the notes
    with demo_store.read() as s:
        note = s.scalars(select(Ticket.needs_note).order_by(Ticket.issued_at.desc())).first()
    assert note == "客户手机 186****7623，身份证**************7176"
    SHOTS.mkdir(exist_ok=True)
    desk.grab().save(str(SHOTS / "desk-notes-masked.png"))

    desk.choose_walk_in()  # an ordinary note: nothing to say
    desk.needs_note.setPlainText("30万定期 2026-12-01 到期")
    before = desk.last_issued
    desk.issue()
    qtbot.waitUntil(lambda: desk.last_issued is not before and not desk._issuing, timeout=10_000)
    assert "已遮盖" not in desk.result_text.text() and not desk.error_label.text()


def test_the_settings_dialog_shows_the_sync_address_without_its_password(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Was: the address field held the password (shown in full while edited). Now the
    head office is asked in parts: the password field stays empty ("已保存，不修改请留空") and
    the address beneath shows ``***``; saving unchanged keeps the password, a new one typed
    into the password field replaces it."""
    qt_app()
    path = tmp_path / "lobby-app.toml"
    cfg = Config(
        BranchPart("310115001", "城东支行", "中国工商银行"),
        printer=PrinterPart("none"),
        sync=SyncPart(URL, "21:30"),
    )
    dlg = SetupDialog(path, cfg, first_run=False)
    qtbot.addWidget(dlg)
    dlg.resize(1366, 768)
    dlg.show()
    assert dlg.sync_address.text() == "postgresql+psycopg://lobby:***@ho.bank.cn:5432/lobby"
    assert dlg.sync_address.isReadOnly()
    assert dlg.sync_password.text() == "" and "已保存" in dlg.sync_password.placeholderText()
    edits, labels = dlg.findChildren(QLineEdit), dlg.findChildren(QLabel)
    shown = " ".join(w.text() + w.placeholderText() for w in edits)
    shown += " ".join(w.text() for w in labels)
    assert "s3cr3t-pw" not in shown
    SHOTS.mkdir(exist_ok=True)
    dlg.grab().save(str(SHOTS / "setup-sync-url.png"))
    dlg.accept()
    saved = load(path)
    assert saved is not None and saved.sync.url == URL
    again = SetupDialog(path, saved, first_run=False)
    qtbot.addWidget(again)
    again.sync_host.setText("ho2.bank.cn")
    again.sync_password.setText("new-pw")
    again.accept()
    changed = load(path)
    assert changed is not None
    assert changed.sync.url == "postgresql+psycopg://lobby:new-pw@ho2.bank.cn:5432/lobby"
