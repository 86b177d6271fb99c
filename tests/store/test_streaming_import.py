"""The customer directory read as a stream (issue 17): the same rows as the import before it,
progress as it goes, batches with a checkpoint, a killed import continued by running it again."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lobby_app.core.customer_csv import SeenNumbers, decode_csv_bytes, parse_customer_csv
from lobby_app.core.errors import LobbyError
from lobby_app.store import Store, directory
from lobby_app.store.directory import ImportProgress, import_file, import_records
from tests.store.import_cases import (
    FILE_A,
    FILE_B,
    KEY,
    TODAY,
    add_walk_in,
    dump,
    expected,
    generated_directory,
)

NEW_KEYS = ("errors_omitted", "warnings_omitted", "resumed_from_line")


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOBBY_ID_HASH_KEY", KEY)


def as_before(report: dict[str, Any]) -> dict[str, Any]:
    """A report without the keys the old import did not have (all zero here)."""
    assert all(report.pop(k) == 0 for k in NEW_KEYS)
    return report


def audit(store: Store) -> list[str]:
    with store.read() as s:
        sql = "SELECT detail FROM audit_event WHERE action='import_customers' ORDER BY rowid"
        return [r[0] for r in s.execute(text(sql))]


def checkpoints(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as s:
        return [tuple(r) for r in s.execute(text("SELECT * FROM import_checkpoint"))]


@pytest.mark.parametrize("batch_max", [20_000, 3])
def test_a_streamed_file_fills_the_store_as_the_old_import_did(
    keyed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_max: int
) -> None:
    """Every column (hashes, last fours, card parts, tier, cards, approvals, pinyin, gender
    kept, a walk-in's source kept), every error and flag with its line, the special-card
    share, the audit record: as the old import wrote them for the same files (also in
    batches of 3 rows, where the specials and the repeats span batches)."""
    monkeypatch.setattr(directory, "BATCH_MAX", batch_max)
    monkeypatch.setattr(directory, "BATCH_MIN", min(batch_max, 100))
    monkeypatch.setattr(directory, "FIRST_BATCH", min(batch_max, 500))
    want = expected()["files"]
    store = Store.open(tmp_path / "d")
    add_walk_in(store)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(FILE_A.encode("utf-8-sig"))
    b.write_bytes(FILE_B.encode("gbk"))
    report = import_file(store, a, strict=False, actor="test", today=TODAY).as_json()
    assert as_before(report) == want["report_a"]
    assert dump(store) == want["rows_after_a"]
    report = import_file(store, b, strict=False, actor="test", today=TODAY).as_json()
    assert as_before(report) == want["report_b"]
    assert dump(store) == want["rows"]
    assert audit(store) == want["audit"]
    assert checkpoints(store) == []  # finished imports leave none


def test_parsed_records_fill_the_store_as_before(keyed: None, tmp_path: Path) -> None:
    """``parse_customer_csv`` + ``import_records`` (the demo's way) give the same rows."""
    want = expected()
    store = Store.open(tmp_path / "d")
    add_walk_in(store)
    for data, key in ((FILE_A.encode("utf-8-sig"), "report_a"), (FILE_B.encode("gbk"), "report_b")):
        parsed = parse_customer_csv(decode_csv_bytes(data), today=TODAY)
        source = "a.csv" if key == "report_a" else "b.csv"
        report = import_records(store, parsed, strict=False, actor="test", source=source)
        assert as_before(report.as_json()) == want["files"][key]
    assert dump(store) == want["files"]["rows"]
    strict = Store.open(tmp_path / "s")
    parsed = parse_customer_csv(FILE_A, today=TODAY)
    report = import_records(strict, parsed, strict=True, actor="test", source="a.csv")
    assert as_before(report.as_json()) == want["strict_a"]["report"]
    assert dump(strict) == [] and audit(strict) == []


def test_a_strict_streamed_file_with_errors_writes_nothing(keyed: None, tmp_path: Path) -> None:
    want = expected()["strict_a"]
    store = Store.open(tmp_path / "d")
    a = tmp_path / "a.csv"
    a.write_bytes(FILE_A.encode())
    report = import_file(store, a, strict=True, actor="test", today=TODAY).as_json()
    assert as_before(report) == want["report"]
    assert dump(store) == want["rows"] == [] and audit(store) == want["audit"] == []


def test_a_generated_directory_gives_the_old_rows(keyed: None, tmp_path: Path) -> None:
    want = expected()["generated"]
    store = Store.open(tmp_path / "d")
    f = tmp_path / "g.csv"
    f.write_text(generated_directory(3000), "utf-8")
    report = import_file(store, f, strict=True, actor="test", today=TODAY).as_json()
    assert as_before(report) == want["report"]
    rows = dump(store)
    assert rows[:3] + rows[-3:] == want["sample"]
    blob = json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str).encode()
    assert hashlib.sha256(blob).hexdigest() == want["digest"]


def test_progress_is_told_from_check_to_done(tmp_path: Path) -> None:
    f = tmp_path / "g.csv"
    f.write_text(generated_directory(2000), "utf-8")
    seen: list[ImportProgress] = []
    store = Store.open(tmp_path / "d")
    report = import_file(store, f, strict=True, actor="test", progress=seen.append)
    assert report.created == 2000
    assert seen[0].phase == "check" and seen[-1].phase == "done"
    assert seen[-1].fraction == 1.0 and seen[-1].rows == 2000 and seen[-1].written == 2000
    assert seen[-1].bytes_done == seen[-1].bytes_total == f.stat().st_size
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)
    assert {p.phase for p in seen} <= {"check", "import", "done"}


def test_batches_move_the_checkpoint_and_a_rerun_continues_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import that stopped after some batches (here: the write of the 4th fails) leaves
    its checkpoint; run again, it writes only the rest, and its report counts them all."""
    monkeypatch.setattr(directory, "FIRST_BATCH", 100)
    monkeypatch.setattr(directory, "BATCH_MIN", 100)
    monkeypatch.setattr(directory, "BATCH_MAX", 100)
    f = tmp_path / "g.csv"
    f.write_text(generated_directory(1000), "utf-8")
    store = Store.open(tmp_path / "d")
    real = directory._Writer.flush
    calls = []

    def failing(self: directory._Writer, **kw: int) -> None:
        calls.append(kw)
        if len(calls) == 4:
            raise OSError("disk gone")
        real(self, **kw)

    monkeypatch.setattr(directory._Writer, "flush", failing)
    with pytest.raises(LobbyError):
        import_file(store, f, strict=False, actor="test")
    ((_, source, offset, line, created, updated, _),) = checkpoints(store)
    assert (source, line, created, updated) == ("g.csv", 301, 300, 0)
    assert offset == len(b"".join(f.read_bytes().splitlines(keepends=True)[:301]))
    with store.read() as s:
        assert s.execute(text("SELECT count(*) FROM customer")).scalar() == 300
    monkeypatch.setattr(directory._Writer, "flush", real)
    report = import_file(store, f, strict=False, actor="test")
    assert report.resumed_from_line == 302
    assert (report.created, report.updated, report.skipped) == (1000, 0, 0)
    assert checkpoints(store) == []
    assert audit(store) == ["g.csv: created=1000 updated=0 skipped=0 resumed_from_line=302"]


def test_a_file_broken_at_its_end_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    f = tmp_path / "g.csv"
    unclosed = 'C9,"张三\nC10,李四' + "x" * csv.field_size_limit() + "\n"  # a quote never closed
    f.write_text(generated_directory(3000) + unclosed, "utf-8")
    store = Store.open(tmp_path / "d")
    with pytest.raises(LobbyError) as err:
        import_file(store, f, strict=False, actor="test")
    assert err.value.code == "bad_csv"
    assert dump(store) == [] and checkpoints(store) == []


def test_a_file_neither_utf8_nor_gbk_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_bytes("customer_no,name\nC1,张三\n".encode() + b"\xff\xfe\x00\x81\xff\n")
    with pytest.raises(LobbyError) as err:
        import_file(Store.open(tmp_path / "d"), f, strict=False, actor="test")
    assert err.value.code == "bad_encoding"


def test_a_huge_list_of_errors_is_cut_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(directory, "LISTED_MAX", 3)
    f = tmp_path / "x.csv"
    f.write_text("customer_no,name\n" + "".join(f"C{i},\n" for i in range(10)), "utf-8")
    report = import_file(Store.open(tmp_path / "d"), f, strict=False, actor="test")
    assert [e["line"] for e in report.errors] == [2, 3, 4]
    assert report.errors_omitted == 7 and report.skipped == 10 and report.imported == 0


def test_seen_numbers_remember_the_first_line_past_growing() -> None:
    seen = SeenNumbers(4)
    for i in range(5000):
        seen.add(f"C{i}", i + 2)
    seen.add("C7", 99_999)  # a number seen keeps its first line
    assert len(seen) == 5000
    assert [seen.get(f"C{i}") for i in (0, 7, 4999)] == [2, 9, 5001]
    assert seen.get("C5000") is None and seen.get("c7") is None


def _cli(data: Path, *args: str) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("lobby-app")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lobby_app"]
    env = {**os.environ, "LOBBY_ID_HASH_KEY": KEY}
    return subprocess.Popen(
        [*cmd, "--data-dir", str(data), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_killed_cli_import_continues_where_it_stopped(tmp_path: Path) -> None:
    """A real ``lobby-app import-customers`` killed (SIGKILL) after some batches were
    committed: run again, it says from which line it continues, writes the rest, and the
    store holds every customer once, as a whole import would have written them."""
    rows = 20_000
    f = tmp_path / "big.csv"
    f.write_text(generated_directory(rows), "utf-8")
    data = tmp_path / "d"
    Store.open(data).close()
    proc = _cli(data, "import-customers", str(f))
    db = sqlite3.connect(data / "branch.sqlite3", timeout=30)
    line = 0
    try:
        while proc.poll() is None and not line:
            got = db.execute("SELECT line FROM import_checkpoint").fetchone()
            line = got[0] if got else 0
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.communicate()  # waits, and closes its pipes
    assert line, "the import finished before a checkpoint was seen"
    (line,) = db.execute("SELECT line FROM import_checkpoint").fetchone()
    (written,) = db.execute("SELECT count(*) FROM customer").fetchone()
    db.close()
    assert 0 < written < rows and written == line - 1  # no bad rows: one row a line
    again = _cli(data, "--json", "import-customers", str(f))
    out, err = again.communicate()
    assert again.returncode == 0, err
    doc = json.loads(out)
    assert doc["resumed_from_line"] == line + 1
    assert (doc["created"], doc["updated"], doc["skipped"]) == (rows, 0, 0)
    plain = _cli(data, "import-customers", str(f))  # finished: a whole import again
    out, err = plain.communicate()
    assert plain.returncode == 0 and "继续" not in out and f"更新 {rows}" in out, err
    store = Store.open(data)
    with store.read() as s:
        assert s.execute(text("SELECT count(*) FROM customer")).scalar() == rows
        assert s.execute(text("SELECT count(DISTINCT customer_no) FROM customer")).scalar() == rows
    assert checkpoints(store) == []
    assert audit(store)[0] == (
        f"big.csv: created={rows} updated=0 skipped=0 resumed_from_line={line + 1}"
    )
    store.close()
