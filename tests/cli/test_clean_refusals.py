"""Bad input on the command line gets a clear Chinese refusal and an exit code, never a
Python traceback (issue 16 item 12)."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import data, run  # noqa: F401 - the fixture

BIG = "x" * (140 * 1024)  # over the csv module's 128 KiB field limit


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "Logging error" not in stderr, stderr
    assert stderr.strip().startswith(("错误：", "注意：")) or not stderr.strip(), stderr


@pytest.mark.parametrize(
    ("command", "content"),
    [
        (["import-customers"], f'customer_no,name\nC1,"{BIG}"\n'),
        (["import-customers"], f'customer_no,name\nC1,"张三\nC2,李四{BIG}\n'),  # unclosed quote
        (["staff", "import"], f'staff_no,name,role\nT09,"{BIG}",teller\n'),
        (["business-types", "--load"], f'code,name,zone,service_minutes\nx,"{BIG}",vip,5\n'),
        (["marketing-rules", "--load"], f'tier,need,sentence\n,,"{BIG}"\n'),
    ],
)
def test_csv_field_over_128_kib(tmp_path: Path, command: list[str], content: str) -> None:
    """Defect pinned: a field over 128 KiB (nearly always a quote never closed) ended the
    import with ``_csv.Error: field larger than field limit`` and a traceback. Now the whole
    file is refused with the line it starts on, and nothing is imported."""
    f = tmp_path / "in.csv"
    f.write_text(content, encoding="utf-8")
    rc, doc, err = run(tmp_path / "d", *command, str(f), ok=False, staff="B01")
    no_traceback(err)
    assert rc == 2 and doc["error"] == "bad_csv" and doc["line"] >= 2, doc
    assert "128 KB" in doc["message"]


def test_import_where_every_row_is_bad_fails(tmp_path: Path) -> None:
    """Defect pinned: a non-strict import in which no row could be taken exited 0, so a
    nightly script reported success with an empty directory. Now it exits 1 with
    ``nothing_imported`` and the rows' errors."""
    f = tmp_path / "c.csv"
    f.write_text(
        "customer_no,name,phone\nC1,=cmd|' /C calc'!A0,\nC2,张\u202e三,\nC3,李四,12\n",
        encoding="utf-8",
    )
    rc, doc, err = run(tmp_path / "d", "import-customers", str(f), ok=False)
    no_traceback(err)
    assert rc == 1 and doc["error"] == "nothing_imported" and doc["imported"] == 0
    assert {(e["line"], e["field"]) for e in doc["errors"]} == {
        (2, "name"),
        (3, "name"),
        (4, "phone"),
    }
    f.write_text("customer_no,name\nC1,李四\nC2,@SUM(A1)\n", encoding="utf-8")
    rc, doc, _ = run(tmp_path / "d", "import-customers", str(f))
    assert rc == 0 and doc["imported"] == 1 and doc["errors"][0]["field"] == "name"


def test_dates_and_amounts_out_of_range(data: Path) -> None:  # noqa: F811
    """Defect pinned: ``report --date 0001-01-01`` and ``9999-12-31`` ended in
    ``OverflowError: date value out of range`` (the day's bounds in the branch's zone);
    ``--amount inf`` / ``NaN`` gave a traceback (int() of Decimal), and 1e400 or
    99999999999999999999999 yuan reached the store. Now ``bad_date`` / ``bad_amount``
    naming the field and the range."""
    for day in ("0001-01-01", "9999-12-31"):
        for command in (
            ["report", "--date", day],
            ["close-day", "--date", day],
            ["report", "--date", "today", "--to", day],
        ):
            rc, doc, err = run(data, *command, ok=False)
            no_traceback(err)
            assert rc == 2 and doc["error"] == "bad_date" and "2000-01-01" in doc["message"], doc
    run(data, "staff", "add", "M01", "--name", "郑雅文", "--role", "customer_manager")
    for amount in ("1e400", "99999999999999999999999", "inf", "NaN", "1e999999999"):
        rc, doc, err = run(
            data, "referral-outcome", "ZJ1", "--outcome", "sold", "--product", "理财",
            "--amount", amount, ok=False, staff="M01",
        )  # fmt: skip
        no_traceback(err)
        assert rc == 2 and doc["error"] == "bad_amount" and doc["field"] == "amount", doc


def test_actor_over_forty_characters(data: Path) -> None:  # noqa: F811
    """Defect pinned (issue 16 item 2): a 41-character actor was refused only as an unknown
    staff number, or, on a branch without a head, recorded as typed; now it is refused for
    its length, naming the field and the limit."""
    rc, doc, err = run(data, "ticket", "--business", "cash", ok=False, staff="A" * 41)
    no_traceback(err)
    assert rc == 2 and doc["field"] == "actor" and "40" in doc["message"], doc
    fresh = data.parent / "fresh"
    rc, doc, _ = run(
        fresh,
        "staff",
        "add",
        "B01",
        "--name",
        "周建华",
        "--role",
        "branch_head",
        ok=False,
        staff="A" * 41,
    )
    assert rc == 2 and doc["field"] == "actor" and "40" in doc["message"], doc


class _NotAHub(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>router login</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_hub_address_that_is_not_a_hub(tmp_path: Path, web_server: str) -> None:
    """Defect pinned: ``--hub`` pointing at something that is not the hub (a web page, a
    router) ended in ``websockets.exceptions.InvalidStatus`` and a traceback. Now
    ``not_a_hub``, saying to check the address and port."""
    rc, doc, err = run(
        tmp_path,
        "call",
        "--window",
        "1",
        "--hub",
        web_server,
        "--key",
        "k",
        "--staff",
        "T01",
        "--pin",
        "1234",
        ok=False,
    )
    no_traceback(err)
    assert rc == 2 and doc["error"] == "not_a_hub" and "端口" in doc["message"], doc


def test_a_full_log_disk_does_not_print_a_traceback(tmp_path: Path) -> None:
    """Defect pinned: with the log disk full every log line printed Python's
    "--- Logging error ---" and a traceback on stderr, around the command's own output. Now
    the command works and says once, in Chinese, that the log cannot be written."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "lobby-app.log").symlink_to("/dev/full")  # every write: ENOSPC
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lobby_app",
            "--data-dir",
            str(tmp_path / "d"),
            "--json",
            "business-types",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOBBY_LOG_DIR": str(logs)},
    )
    assert proc.returncode == 0 and '"business_types"' in proc.stdout
    no_traceback(proc.stderr)
    assert proc.stderr.count("日志文件") == 1 and "无法写入" in proc.stderr, proc.stderr
