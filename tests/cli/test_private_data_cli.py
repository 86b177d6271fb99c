"""Private data at the command line (issue 16 items 9-11): the sync password never printed,
the station key shown once, masked notes said so, another manager's referral refused."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import run

URL = "postgresql+psycopg://lobby:s3cr3t-pw@ho.bank.cn:5432/lobby"


def test_settings_never_print_the_sync_password(tmp_path: Path) -> None:
    """Was: ``settings`` and ``settings --json`` printed the head office's address with its
    password. Now it reads ``***``; the store keeps the real address for the sync."""
    data = tmp_path / "d"
    _, doc, _ = run(data, "settings", f"sync_url={URL}")
    assert doc["sync_url"] == "postgresql+psycopg://lobby:***@ho.bank.cn:5432/lobby"
    _, doc, _ = run(data, "settings")
    assert doc["sync_url"] == "postgresql+psycopg://lobby:***@ho.bank.cn:5432/lobby"
    text = subprocess.run(
        [sys.executable, "-m", "lobby_app", "--data-dir", str(data), "settings"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "s3cr3t-pw" not in text and "lobby:***@ho.bank.cn" in text
    with sqlite3.connect(data / "branch.sqlite3") as con:
        (stored,) = con.execute("select value from setting where key = 'sync_url'").fetchone()
    assert stored == URL


def test_the_station_key_is_shown_once_and_rotated_by_the_branch_head(tmp_path: Path) -> None:
    """Was: ``station-key`` printed the key kept in plain text, every time. Now it is made
    and shown once; after that only ``--rotate`` (a branch head) gives a new one."""
    data = tmp_path / "d"
    run(data, "demo", "--customers", "20")
    _, first, _ = run(data, "station-key")
    key = first["station_key"]
    assert len(key) >= 24 and not first["rotated"]
    rc, doc, err = run(data, "station-key", ok=False)
    assert rc == 2 and doc["error"] == "station_key_hidden" and "--rotate" in err
    rc, doc, _ = run(data, "station-key", "--rotate", ok=False)  # L01 is not the head
    assert rc == 2 and doc["error"] == "wrong_role"
    _, new, _ = run(data, "station-key", "--rotate", staff="B01")
    assert new["rotated"] and new["station_key"] != key
    files = b"".join(p.read_bytes() for p in data.glob("branch.sqlite3*"))
    assert key.encode() not in files and new["station_key"].encode() not in files


def test_a_masked_note_is_said_and_another_managers_referral_refused(tmp_path: Path) -> None:
    """Was: ``ticket --note`` saved and echoed the numbers, and ``referrals --to`` showed
    anyone another manager's referrals. Now the note is masked and the output says so; a
    referral opens for its manager (``referral``) and is refused, audited, for another."""
    data = tmp_path / "d"
    run(data, "demo", "--customers", "20")
    note = "身份证110101198409227176 / 186-1205-7623"
    _, ticket, _ = run(data, "ticket", "--business", "wealth", "--note", note)
    assert ticket["notes_masked"] is True
    cmd = [sys.executable, "-m", "lobby_app", "--data-dir", str(data), "ticket"]
    out = subprocess.run(
        [*cmd, "--business", "cash", "--note", note],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LOBBY_STAFF": "L01"},
    ).stdout
    assert "备注中的证件号/手机号已遮盖" in out and "186-1205-7623" not in out
    _, ref, _ = run(
        data, "refer", "--ticket", ticket["number"], "--to", "M02", "--need", "wealth",
        "--note", "回电 186 1205 7623", "--no-print",
    )  # fmt: skip
    assert ref["notes_masked"] is True and ref["note"] == "回电 186****7623"
    no = ref["referral_no"]
    _, mine, _ = run(data, "referral", no, staff="M02")
    assert mine["referral_no"] == no and mine["customer"] is None
    rc, doc, err = run(data, "referral", no, staff="M01", ok=False)
    assert rc == 2 and doc["error"] == "not_your_referral" and "无权查看" in err
    rc, doc, _ = run(data, "referrals", "--to", "M02", staff="M01", ok=False)
    assert rc == 2 and doc["error"] == "not_your_referral"
    _, theirs, _ = run(data, "referrals", staff="M01")
    assert theirs == []
    with sqlite3.connect(data / "branch.sqlite3") as con:
        refused = con.execute(
            "select actor, detail from audit_event where action = 'referral_refused'"
        ).fetchall()
    assert refused == [("M01", no), ("M01", "list M02")]
