"""A ticket on a full disk: issued and said so, or refused and not saved; never both."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lobby_app.cli import main
from lobby_app.core.errors import LobbyError
from lobby_app.store import Store, commands
from lobby_app.store.commands import IssueRequest


def _cli(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, Any]:
    """One command as a script runs it (in this process, to be quick), acting as L01."""
    rc = main(["--data-dir", str(data), "--json", *args])
    out = capsys.readouterr().out
    return rc, json.loads(out) if out.strip() else {}


@pytest.fixture(autouse=True)
def _as_the_lobby_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOBBY_STAFF", "L01")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 3 MB file system (tmpfs): needs root and the right to mount; skipped without."""
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr!r}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(path: Path) -> int:
    """Write until the disk is full; the size written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\1" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return path.stat().st_size


def test_ticket_on_a_really_full_disk_is_issued_or_refused_never_both(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect pinned (issue 16 item 6, 13 of 39 trials in the probe): on a full disk the
    ticket's own transaction fitted, then recording the print did not, and ``ticket`` exited
    2 with ``disk_full`` "本次操作未保存" while the ticket was saved and queued: a ghost the
    lobby manager would issue again. Here the disk really is full (a 3 MB tmpfs, freed 4 KiB
    at a time) and every answer must match the store: exit 0 and saved, or refused and not."""
    data = small_disk / "d"
    rc, _ = _cli(capsys, data, "staff", "add", "L01", "--name", "陈静", "--role", "lobby_manager")
    assert rc == 0
    filler = small_disk / "filler"
    size = _fill(filler)
    answers: dict[int, tuple[int, Any]] = {}
    for step in range(80):
        size -= 4096
        os.truncate(filler, max(size, 0))
        pdf = small_disk / f"t{step}.pdf"
        answers[step] = _cli(
            capsys, data, "ticket", "--business", "cash", "--note", f"run{step}", "--pdf", str(pdf)
        )
        if sum(1 for rc, _ in answers.values() if rc == 0) >= 3:
            break
    filler.unlink()
    with sqlite3.connect(data / "branch.sqlite3") as con:
        saved = {
            note: number for note, number in con.execute("select needs_note, number from ticket")
        }
        assert con.execute("pragma integrity_check").fetchone() == ("ok",)
    ghosts = [s for s, (rc, _) in answers.items() if rc != 0 and f"run{s}" in saved]
    lost = [s for s, (rc, _) in answers.items() if rc == 0 and f"run{s}" not in saved]
    assert (ghosts, lost) == ([], []), answers
    issued = [doc for rc, doc in answers.values() if rc == 0]
    assert issued and all(
        doc["number"] == saved[f"run{s}"] for s, (rc, doc) in answers.items() if rc == 0
    )
    refused = [doc.get("error") for rc, doc in answers.values() if rc != 0]
    assert set(refused) <= {"disk_full", "store_unavailable", "store_error"}, refused
    # the first ticket that fitted had no room left for its PDF nor for the record of that
    first = issued[0]
    assert first["print"]["ok"] is False and first["print"]["error"] == "pdf_unwritable"
    assert sorted(saved.values()) == [f"A{n:03d}" for n in range(1, len(saved) + 1)]


def _disk_full(*_: object, **__: object) -> None:
    """What the store raises when SQLite cannot grow its WAL (``db._environment_error``)."""
    raise LobbyError(
        "disk_full", "磁盘已满，无法写入 branch.sqlite3。请清理磁盘后重试，本次操作未保存。"
    )


def _enospc(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def branch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = tmp_path / "data"
    rc, _ = _cli(capsys, data, "staff", "add", "L01", "--name", "陈静", "--role", "lobby_manager")
    assert rc == 0
    return data


def test_ticket_says_issued_when_the_pdf_and_its_record_fail(
    branch: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defect pinned (issue 16 item 6), with the disk's answer injected at the print step
    (ENOSPC writing the PDF, then ``disk_full`` recording that): the old ``ticket`` exited 2
    with "本次操作未保存" though A001 was saved and queued. Now it exits 0, names the ticket,
    and says what failed (the PDF, and the record of it)."""
    monkeypatch.setattr("lobby_app.printing.ticket.write_ticket_pdf", _enospc)
    monkeypatch.setattr(commands, "record_print", _disk_full)
    rc, doc = _cli(capsys, branch, "ticket", "--business", "cash", "--pdf", str(tmp_path / "t.pdf"))
    assert rc == 0 and doc["number"] == "A001"
    assert doc["print"]["ok"] is False and doc["print"]["error"] == "pdf_unwritable"
    assert doc["print"]["recorded"] is False and doc["print"]["record_error"] == "disk_full"
    assert "未能记入" in doc["print"]["message"] and "磁盘已满" in doc["print"]["message"]
    assert "未保存" not in doc["print"]["message"]
    monkeypatch.undo()  # the disk has room again
    rc, queue = _cli(capsys, branch, "queue")
    assert [w["number"] for w in queue["waiting"]] == ["A001"]


def test_ticket_printed_but_not_recorded_is_still_issued(
    branch: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defect pinned (issue 16 item 6): the PDF was written, then recording the print hit
    the full disk, and the command reported failure. Now: exit 0, the PDF is there, and the
    person is told the print was not recorded."""
    monkeypatch.setattr(commands, "record_print", _disk_full)
    pdf = tmp_path / "t.pdf"
    rc, doc = _cli(capsys, branch, "ticket", "--business", "cash", "--pdf", str(pdf))
    assert rc == 0 and doc["number"] == "A001" and pdf.exists()
    assert doc["print"]["ok"] is True and doc["print"]["recorded"] is False
    assert "磁盘已满" in doc["print"]["message"]


def test_the_desk_gets_its_ticket_when_the_print_record_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect pinned (issue 16 item 6): the desk's issue (``LocalDesk.issue``: issue, then
    print) raised ``disk_full`` after the ticket was saved, so the window showed an error and
    no number. Now it hands back the ticket and a print outcome that says what failed; the
    same through the hub for a second desk (``RemoteDesk``), whose record goes to the hub."""
    from lobby_app.desk_backend import LocalDesk, RemoteDesk
    from lobby_app.hub.commands import Station
    from lobby_app.hub.thread import HubThread

    store = Store.open(tmp_path / "data")
    try:
        monkeypatch.setattr("lobby_app.printing.ticket.write_ticket_pdf", _enospc)
        monkeypatch.setattr(commands, "record_print", _disk_full)
        issued, outcome = LocalDesk(store).issue(IssueRequest("cash"))
        assert issued.number == "A001" and not outcome.ok and not outcome.recorded
        hub = HubThread(store, "127.0.0.1", 0)
        hub.start()
        try:
            desk = Station("desk", None, "L01", "lobby_manager")

            def call(command: str, args: dict[str, Any]) -> Any:
                return hub.execute(desk, command, args, uuid.uuid4().hex)

            issued, outcome = RemoteDesk(call, hub.url, tmp_path / "desk2").issue(
                IssueRequest("cash")
            )
            assert issued.number == "A002" and outcome.record_error == "disk_full"
        finally:
            hub.stop()
        assert commands.lobby_snapshot(store).issued_today == 2
    finally:
        store.close()
