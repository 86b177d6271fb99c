"""A teller's referral slip prints at the teller's own PC when it has a printer set up, and
only there; otherwise the lobby desk prints it (issue 15.14)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from lobby_app.config import PrinterPart
from lobby_app.hub.thread import HubThread
from lobby_app.lobby import station_print_target
from lobby_app.printing.dispatch import PrintTarget
from lobby_app.store import Store
from lobby_app.store.demo import DEMO_PIN
from lobby_app.ui.app import build_desk, qt_app
from lobby_app.ui.desk import DeskWindow
from lobby_app.ui.hublink import HubLink
from lobby_app.ui.teller import ReferDialog, TellerWindow
from tests.ui.conftest import L01

NOTE = "定期下周到期约30万"


@pytest.fixture
def desk(qtbot: QtBot, demo_store: Store, hub: HubThread) -> DeskWindow:
    qt_app()
    w = build_desk(demo_store, hub, actor=L01)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.business_model.rowCount() > 0, timeout=10_000)
    return w


@contextmanager
def open_teller(qtbot: QtBot, hub: HubThread, target: PrintTarget | None) -> Iterator[TellerWindow]:
    link = HubLink(hub.url, station="teller", key=hub.key, staff="T02", pin=DEMO_PIN, window=2)
    tel = TellerWindow(link, 2, slip_target=target)
    qtbot.addWidget(tel)
    tel.show()
    link.start()
    try:
        qtbot.waitUntil(lambda: tel.buttons["call"].isEnabled(), timeout=10_000)
        yield tel
    finally:
        link.close()


def call_and_refer(
    qtbot: QtBot, desk: DeskWindow, tel: TellerWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QDialog

    desk.choose_walk_in()
    desk.issue()
    qtbot.waitUntil(lambda: desk.result_number.text() == "A001", timeout=10_000)
    qtbot.waitUntil(lambda: not desk.worker.busy, timeout=10_000)
    with qtbot.waitSignal(tel.popped, timeout=10_000):
        tel.buttons["call"].click()
    monkeypatch.setattr(ReferDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(
        ReferDialog,
        "args",
        lambda self: {"ticket": "A001", "to": "M01", "need": "wealth", "note": NOTE},
    )


def slips_at_desk(store: Store, referral_no: str) -> list[Path]:
    return list(store.data_dir.rglob(f"{referral_no}*.pdf"))


def test_teller_with_a_printer_prints_the_slip_there_and_the_desk_does_not(
    qtbot: QtBot,
    desk: DeskWindow,
    hub: HubThread,
    demo_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 15.14: a teller's referral slip printed only at the lobby desk ("请客户到大堂
    领取转介单"), though the teller's PC had a printer. Now it prints there, the teller is
    told where it went, and the desk does not print a second one."""
    at_desk: list[dict[str, Any]] = []
    desk.referral_done.connect(at_desk.append)
    folder = tmp_path / "teller2-printer"
    with open_teller(qtbot, hub, PrintTarget(kind="folder", folder=folder)) as tel:
        call_and_refer(qtbot, desk, tel, monkeypatch)
        with qtbot.waitSignal(tel.slip_printed, timeout=10_000) as printed:
            tel.buttons["refer"].click()
        ref = printed.args[0]
        assert ref["print"]["ok"] and ref["referrer"] == "T02", ref
        (pdf,) = folder.glob("*.pdf")
        assert pdf.name == f"{ref['referral_no']}.pdf"
        assert f"转介单已保存到 {pdf}" in tel.message.text() and "请交给客户" in tel.message.text()
        assert "到大堂领取" not in tel.message.text()
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert ref["referral_no"] in text and "郑雅文" in text and NOTE not in text
        # the desk learns of it (its referrals list) but prints nothing
        qtbot.waitUntil(lambda: desk.referrals_table.rowCount() == 1, timeout=10_000)
        qtbot.waitUntil(lambda: not desk.worker.busy, timeout=10_000)
        assert at_desk == [] and slips_at_desk(demo_store, ref["referral_no"]) == []
        assert tel.reprint_slip.isVisible()


def test_teller_printer_failure_is_said_and_the_slip_reprints(
    qtbot: QtBot,
    desk: DeskWindow,
    hub: HubThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A jammed or missing printer at the teller's PC: the referral stands, the teller is
    told the slip did not print, and 重打转介单 prints it once the printer is back."""
    broken = PrintTarget(kind="printer", printer="NoSuchPrinter")
    with open_teller(qtbot, hub, broken) as tel:
        call_and_refer(qtbot, desk, tel, monkeypatch)
        with qtbot.waitSignal(tel.slip_printed, timeout=20_000) as printed:
            tel.buttons["refer"].click()
        assert not printed.args[0]["print"]["ok"]
        assert "转介单没有打印" in tel.message.text() and "重打转介单" in tel.message.text()
        assert tel.reprint_slip.isVisible()
        folder = tmp_path / "fixed"
        tel.slip_target = PrintTarget(kind="folder", folder=folder)
        with qtbot.waitSignal(tel.slip_printed, timeout=10_000) as again:
            tel.reprint_slip.click()
        assert again.args[0]["print"]["ok"] and len(list(folder.glob("*.pdf"))) == 1


def test_teller_without_a_printer_leaves_the_slip_to_the_desk(
    qtbot: QtBot,
    desk: DeskWindow,
    hub: HubThread,
    demo_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No printer of its own: as before, the desk prints it, without the note on it."""
    with open_teller(qtbot, hub, None) as tel:
        call_and_refer(qtbot, desk, tel, monkeypatch)
        with qtbot.waitSignal(desk.referral_done, timeout=10_000) as done:
            tel.buttons["refer"].click()
        ref = done.args[0]
        assert ref["print"]["ok"] and not ref["slip_here"]
        qtbot.waitUntil(lambda: "请客户到大堂领取转介单" in tel.message.text(), timeout=10_000)
        assert not tel.reprint_slip.isVisible()
        (pdf,) = slips_at_desk(demo_store, ref["referral_no"])
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert ref["referral_no"] in text and NOTE not in text


@pytest.mark.parametrize(
    ("printer", "target"),
    [
        (PrinterPart("printer", "Receipt80", ""), PrintTarget(kind="printer", printer="Receipt80")),
        (
            PrinterPart("folder", "", "/srv/slips"),
            PrintTarget(kind="folder", folder=Path("/srv/slips")),
        ),
        (PrinterPart("folder", "", ""), None),  # the default: no printer of its own
        (PrinterPart("none", "", ""), None),
    ],
)
def test_which_station_pcs_print_their_own_slips(
    printer: PrinterPart, target: PrintTarget | None
) -> None:
    assert station_print_target(printer) == target
