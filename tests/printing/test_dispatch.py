"""Sending ticket PDFs to a folder and through a real CUPS queue (cups-pdf)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from lobby_app.printing.dispatch import PrintError, PrintTarget, dispatch_pdf, list_printers

QUEUE = "LobbyTestPDF"  # created by scripts/test-services.sh


def a_pdf(tmp_path: Path, name: str = "20261123-A001.pdf") -> Path:
    from reportlab.pdfgen.canvas import Canvas

    p = tmp_path / name
    c = Canvas(str(p), pagesize=(226, 340))
    c.drawString(20, 300, "A001")
    c.save()
    return p


def test_folder_created_and_duplicates_numbered(tmp_path: Path) -> None:
    pdf = a_pdf(tmp_path)
    folder = tmp_path / "out" / "tickets"
    first = dispatch_pdf(pdf, PrintTarget("folder", folder=folder))
    second = dispatch_pdf(pdf, PrintTarget("folder", folder=folder))
    assert Path(first).name == "20261123-A001.pdf" and Path(second).name == "20261123-A001-2.pdf"
    assert Path(second).read_bytes() == pdf.read_bytes()


def test_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(PrintError) as e:
        dispatch_pdf(a_pdf(tmp_path), PrintTarget("folder", folder=blocker / "x"))
    assert e.value.code == "folder_unwritable" and "重打" in e.value.message_zh


def test_real_cups_queue_prints(tmp_path: Path) -> None:
    assert QUEUE in list_printers(), "scripts/test-services.sh sets up the CUPS PDF queue"
    out = Path.home() / "PDF"
    before = set(out.glob("*.pdf")) if out.exists() else set()
    pdf = a_pdf(tmp_path, f"ticket-{os.getpid()}-{time.time_ns()}.pdf")
    job = dispatch_pdf(pdf, PrintTarget("printer", printer=QUEUE))
    assert QUEUE in job
    deadline = time.monotonic() + 30
    new: set[Path] = set()
    while time.monotonic() < deadline and not new:
        time.sleep(0.2)
        new = {p for p in out.glob("*.pdf") if p not in before and pdf.stem in p.name}
    assert new, f"cups-pdf wrote nothing into {out}"
    path = new.pop()
    printed = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    while printed.returncode != 0 and time.monotonic() < deadline:  # still being written
        time.sleep(0.2)
        printed = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    assert printed.returncode == 0, printed.stderr
    assert "A001" in printed.stdout


def test_unknown_queue_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PrintError) as e:
        dispatch_pdf(a_pdf(tmp_path), PrintTarget("printer", printer="NoSuchQueue"))
    assert e.value.code == "printer_not_found"
    assert "NoSuchQueue" in e.value.message_zh and "重打" in e.value.message_zh


def test_no_print_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PrintError) as e:
        dispatch_pdf(a_pdf(tmp_path), PrintTarget("printer", printer=QUEUE))
    assert e.value.code == "lp_missing"
    assert list_printers() == []


def test_hung_printer_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A print spooler that never answers (the one stand-in here: a stuck device)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    lp = bin_dir / "lp"
    lp.write_text("#!/bin/sh\nexec /bin/sleep 30\n")
    lp.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(PrintError) as e:
        dispatch_pdf(a_pdf(tmp_path), PrintTarget("printer", printer=QUEUE), timeout_s=0.5)
    assert e.value.code == "print_timeout"
