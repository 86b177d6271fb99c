"""The command line as scripts use it: real processes, real store files, JSON out."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CUSTOMERS_CSV, make_id


def run(data: Path, *args: str, ok: bool = True, staff: str = "L01") -> tuple[int, Any, str]:
    """One command as a script runs it, acting as ``staff`` (LOBBY_STAFF)."""
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "lobby_app", "--data-dir", str(data), "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOBBY_STAFF": staff},
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, doc, proc.stderr


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    f = tmp_path / "customers.csv"
    f.write_text(CUSTOMERS_CSV, encoding="utf-8")
    _, doc, _ = run(d, "import-customers", str(f))
    assert doc["imported"] == 5 and doc["errors"] == []
    run(d, "staff", "add", "L01", "--name", "陈静", "--role", "lobby_manager")
    run(d, "staff", "add", "T01", "--name", "王芳", "--role", "teller")
    return d


def test_business_types(tmp_path: Path) -> None:
    _, doc, _ = run(tmp_path, "business-types")
    codes = {b["code"]: b for b in doc["business_types"]}
    assert codes["cash"]["zone"] == "closed_counter" and codes["cash"]["name"] == "现金存取款"
    assert len(codes) >= 12


def test_ticket_for_a_vip_and_queue(data: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "t.pdf"
    _, doc, _ = run(
        data,
        "ticket",
        "--business",
        "cash",
        "--customer",
        "oymh",
        "--need",
        "wealth",
        "--note",
        "大额存单到期",
        "--pdf",
        str(pdf),
    )
    # no counter is set up yet, so no VIP counter is open: the VIP waits in the high
    # counter's green channel and the lobby manager is told (issue 15 item 1)
    assert doc["number"] == "A001" and doc["zone"] == "closed_counter" and doc["vip"] is True
    assert doc["green_channel"] is True and doc["tier"] == "mid_high" and doc["ahead"] == 0
    assert "柜台窗口" in doc["warning"] and doc["windows"] == []
    assert doc["print"]["ok"] and pdf.exists()
    _, doc2, _ = run(data, "ticket", "--business", "cash", "--priority", "elderly")
    assert doc2["number"] == "A002" and doc2["green_channel"] and doc2["priority"] == "elderly"
    _, q, _ = run(data, "queue")
    # within the green channel, priority customers first (core/queue.py)
    assert [(w["number"], w["zone"], w["green_channel"]) for w in q["waiting"]] == [
        ("A002", "closed_counter", True),
        ("A001", "closed_counter", True),
    ]
    assert all("issued_at" in w for w in q["waiting"])


def test_lookup_is_masked_and_audited(data: Path) -> None:
    _, doc, _ = run(data, "lookup", "13912345678")
    (c,) = doc["customers"]
    assert c["phone"] == "139****5678" and c["tier"] == "mass"
    assert "13912345678" not in json.dumps(doc)
    import sqlite3

    with sqlite3.connect(data / "branch.sqlite3") as con:
        (detail,) = con.execute("select detail from audit_event where action='lookup'").fetchone()
    assert "13912345678" not in detail and "5678" in detail


def test_errors_are_json_with_codes_and_write_nothing(data: Path) -> None:
    rc, doc, err = run(data, "ticket", "--business", "nope", ok=False)
    assert rc == 2 and doc["error"] == "unknown_business" and "未知的业务代码" in err
    rc, doc, _ = run(data, "ticket", "--business", "cash", "--note", "长" * 10_000, ok=False)
    assert rc == 2 and doc["error"] == "text_too_long"
    rc, doc, _ = run(data, "ticket", "--business", "cash", "--zone", "moon", ok=False)
    assert rc == 2 and doc["error"] == "unknown_zone"
    rc, doc, _ = run(data, "ticket", "--business", "cash", "--customer", "张", ok=False)
    assert rc == 2 and doc["error"] == "customer_ambiguous"
    _, q, _ = run(data, "queue")
    assert q["waiting"] == [] and q["issued_today"] == 0


def test_import_reports_bad_rows_and_strict_rejects(tmp_path: Path) -> None:
    bad_id = make_id("31010119800101001")[:-1] + "0"
    if bad_id == make_id("31010119800101001"):
        bad_id = bad_id[:-1] + "1"
    csv = (
        CUSTOMERS_CSV + f"C100000009,赵六,{bad_id},,100,0,0,,,0,\nC100000010,钱七,,,abc,0,0,,,0,\n"
    )
    f = tmp_path / "c.csv"
    f.write_bytes(csv.encode("gbk"))
    rc, doc, _ = run(tmp_path / "strict", "import-customers", str(f), "--strict", ok=False)
    assert rc == 1 and doc["error"] == "import_rejected" and doc["imported"] == 0
    rc, doc, _ = run(tmp_path / "d", "import-customers", str(f))
    assert (doc["imported"], doc["skipped"]) == (5, 2)
    assert [(e["line"], e["field"]) for e in doc["errors"]] == [(7, "id_number"), (8, "assets")]
    _, found, _ = run(tmp_path / "strict", "lookup", "C1000")
    assert found["customers"] == []


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("")
    rc, doc, err = run(blocker / "d", "business-types", ok=False)
    assert rc == 2 and doc["error"] == "data_dir_unwritable" and "--data-dir" in err


def test_demo_twice_changes_nothing(tmp_path: Path) -> None:
    _, first, _ = run(tmp_path, "demo", "--customers", "300")
    assert first["customers_total"] == 300 and first["staff"] > 0 and first["visits"] > 0
    _, second, _ = run(tmp_path, "demo", "--customers", "300")
    assert second == {**first, "staff": 0, "counters": 0, "customers_created": 0, "visits": 0}


def test_business_table_is_configurable(tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    f.write_text(
        "code,name,zone,service_minutes\ncash,现金业务,closed_counter,5\ngold,贵金属,vip,20\n",
        encoding="utf-8",
    )
    run(tmp_path / "d", "staff", "add", "L01", "--name", "陈静", "--role", "lobby_manager")
    _, doc, _ = run(tmp_path / "d", "business-types", "--load", str(f))
    assert [(b["code"], b["zone"]) for b in doc["business_types"]] == [
        ("cash", "closed_counter"),
        ("gold", "vip"),
    ]
    rc, doc, _ = run(tmp_path / "d", "ticket", "--business", "card", ok=False)
    assert doc["error"] == "unknown_business"  # deactivated, not deleted
    f.write_text("code,name,zone,service_minutes\ncash,现金,moon,5\n", encoding="utf-8")
    rc, doc, _ = run(tmp_path / "d", "business-types", "--load", str(f), ok=False)
    assert (rc, doc["line"], doc["field"]) == (2, 2, "zone")


def test_settings_checked_before_written(tmp_path: Path) -> None:
    _, doc, _ = run(tmp_path, "settings", "branch_name=城西支行", "green_run=2")
    assert (doc["branch_name"], doc["green_run"]) == ("城西支行", 2)
    rc, doc, _ = run(tmp_path, "settings", "branch_name=别的", "timezone=Mars/Base", ok=False)
    assert rc == 2 and doc["field"] == "timezone"
    _, doc, _ = run(tmp_path, "settings")
    assert doc["branch_name"] == "城西支行"


def test_teller_commands_from_scripts(data: Path) -> None:
    import sqlite3

    run(data, "counter", "add", "1", "--name", "1号窗口", "--kind", "closed_cash")
    run(data, "ticket", "--business", "cash")
    run(data, "ticket", "--business", "cash")
    rc, doc, _ = run(data, "call", "--window", "1", ok=False, staff="T01")
    assert rc == 2 and doc["error"] == "no_teller"  # nobody has opened the window
    rc, doc, _ = run(data, "window", "--window", "1", "open", ok=False, staff="L01")
    assert doc["error"] == "wrong_role"  # a lobby manager cannot sign in at a counter
    run(data, "window", "--window", "1", "open", staff="T01")
    rc, doc, _ = run(data, "call", "--window", "1", ok=False, staff="L01")
    assert rc == 2 and doc["error"] == "wrong_role"
    rc, doc, _ = run(data, "call", "--window", "1", ok=False, staff="X99")
    assert rc == 2 and doc["error"] == "unknown_staff"
    rc, doc, _ = run(data, "call", "--window", "1", ok=False, staff="")
    assert rc == 2 and doc["error"] == "actor_required"
    _, doc, _ = run(data, "call", "--window", "1", "--request-id", "abc", staff="T01")
    assert (doc["number"], doc["zone"], doc["window"]) == ("A001", "closed_counter", 1)
    _, again, _ = run(data, "call", "--window", "1", "--request-id", "abc", staff="T01")
    assert again == doc  # a retry does not call A002
    _, doc, _ = run(data, "no-show", "--window", "1", staff="T01")
    assert doc["status"] == "no_show"
    _, doc, _ = run(data, "call", "--window", "1", staff="T01")
    assert doc["number"] == "A002"
    _, doc, _ = run(data, "transfer", "--window", "1", "--to-zone", "open_counter", staff="T01")
    assert (doc["number"], doc["zone"], doc["status"]) == ("A002", "open_counter", "waiting")
    rc, doc, _ = run(data, "call", "--window", "1", ok=False, staff="T01")
    assert rc == 2 and doc["error"] == "queue_empty"
    rc, doc, _ = run(data, "finish", "--window", "7", ok=False, staff="T01")
    assert doc["error"] == "unknown_window"
    run(data, "window", "--window", "1", "sign-out", staff="T01")
    with sqlite3.connect(data / "branch.sqlite3") as con:
        row = con.execute("select staff_no, is_open from counter where window_no = 1").fetchone()
        actors = {a for (a,) in con.execute("select actor from ticket_event")}
    assert row == (None, 0) and actors == {"L01", "T01"}  # issued by L01, called by T01


@contextlib.contextmanager
def hub_process(data: Path) -> Iterator[int]:
    """``lobby_app hub`` for the store in ``data``, in its own process on a free port of
    127.0.0.1: the port, once the hub says it is running; the hub is stopped afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lobby_app",
            "--data-dir",
            str(data),
            "hub",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert hub.stderr is not None
        lines: list[str] = []
        while not any("网点主机运行中" in line for line in lines):  # log lines, then ready
            line = hub.stderr.readline()
            assert line, f"hub exited before it was ready: {lines}"
            lines.append(line)
        # the hub's log also goes to the terminal it runs in, not only to its log file
        assert any("INFO hub listening on ws://127.0.0.1" in line for line in lines), lines
        yield port
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        if hub.stderr:
            hub.stderr.close()


def test_teller_commands_through_a_hub_process(tmp_path: Path) -> None:
    import time

    data = tmp_path / "d"
    run(data, "demo", "--customers", "50")
    run(data, "ticket", "--business", "cash")
    _, key, _ = run(data, "station-key")
    with hub_process(data) as port:
        url = f"ws://127.0.0.1:{port}"
        creds = ["--hub", url, "--key", key["station_key"], "--staff", "T01", "--pin", "1234"]
        _, doc, _ = run(tmp_path, "call", "--window", "1", *creds)
        assert (doc["number"], doc["window"]) == ("A001", 1)
        rc, doc, _ = run(tmp_path, "call", "--window", "1", *creds, ok=False)
        assert rc == 2 and doc["error"] == "queue_empty"
        bad = [*creds[:3], "wrong", *creds[4:]]
        rc, doc, _ = run(tmp_path, "finish", "--window", "1", *bad, ok=False)
        assert doc["error"] == "bad_station_key"
        t0 = time.monotonic()
        rc, doc, _ = run(data, "hub", "--host", "127.0.0.1", "--port", str(port), ok=False)
        assert rc == 2 and doc["error"] == "hub_port_busy" and time.monotonic() - t0 < 60


def test_refer_prints_a_slip_and_outcome_credits(tmp_path: Path) -> None:
    data = tmp_path / "d"
    run(data, "demo", "--customers", "50")
    _, ticket, _ = run(data, "ticket", "--business", "card", "--customer", "C000000003")
    _, ref, _ = run(
        data,
        "refer",
        "--ticket",
        ticket["ticket"]["number"] if "ticket" in ticket else ticket["number"],
        "--to",
        "M03",
        "--need",
        "insurance",
        "--note",
        "给父母买保险",
        "--actor",
        "T04",
        "--pdf",
        str(tmp_path / "slip.pdf"),
    )
    assert ref["to_staff"] == "M03" and ref["print"]["ok"]
    slip = subprocess.run(
        ["pdftotext", str(tmp_path / "slip.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert ref["referral_no"] in slip and "给父母买保险" not in slip  # off the slip (15.14)
    _, inbox, _ = run(data, "referrals", "--to", "M03")
    assert [r["referral_no"] for r in inbox] == [ref["referral_no"]]
    assert inbox[0]["note"] == "给父母买保险"  # the manager reads it on screen
    rc, doc, _ = run(
        data,
        "referral-outcome",
        ref["referral_no"],
        "--outcome",
        "sold",
        "--amount",
        "abc",
        "--product",
        "x",
        "--actor",
        "M03",
        ok=False,
    )
    assert rc == 2 and doc["field"] == "amount"
    _, doc, _ = run(
        data,
        "referral-outcome",
        ref["referral_no"],
        "--outcome",
        "sold",
        "--amount",
        "20000",
        "--product",
        "保障型保险",
        "--actor",
        "M03",
    )
    assert doc["status"] == "sold" and doc["amount_fen"] == 2_000_000
    rc, doc, _ = run(
        data, "refer", "--ticket", ref["ticket_number"], "--to", "T01", "--need", "wealth", ok=False
    )
    assert doc["error"] == "unknown_manager" and "M01" in doc["message"]
    bad = tmp_path / "rules.csv"
    bad.write_text("tier,need,sentence\nmass,,好\nvip,,坏\n", encoding="utf-8")
    rc, doc, _ = run(data, "marketing-rules", "--load", str(bad), ok=False)
    assert (doc["line"], doc["field"]) == (3, "tier")
    _, rules, _ = run(data, "marketing-rules")
    assert len(rules) > 10  # the failed load changed nothing


def test_simulated_day_close_and_report(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    _, doc, _ = run(
        data,
        "demo",
        "--customers",
        "50",
        "--simulate-day",
        "--date",
        "2026-06-01",
        "--visits",
        "50",
    )
    sim = doc["simulated_day"]
    assert sim["business_date"] == "2026-06-01" and sim["issued"] == 50
    code, err, stderr = run(data, "close-day", "--date", "2026-06-01", ok=False, staff="")
    assert code == 2 and err["error"] == "actor_required" and "--actor" in stderr
    code, err, stderr = run(data, "close-day", "--date", "06/01", "--actor", "L01", ok=False)
    assert code == 2 and err["error"] == "bad_date" and "2026-11-20" in stderr
    _, rec, _ = run(data, "close-day", "--date", "2026-06-01", "--actor", "L01")
    assert rec["version"] == 1 and rec["actor_name"] == "陈静（L01）"
    code, err, _ = run(data, "close-day", "--date", "2026-06-01", "--actor", "L01", ok=False)
    assert code == 2 and err["error"] == "already_closed"
    pdf = tmp_path / "day.pdf"
    _, fig, _ = run(data, "report", "--date", "2026-06-01", "--pdf", str(pdf))
    for key in (
        "issued",
        "served",
        "no_show",
        "wait_avg_min",
        "wait_p90_min",
        "wait_max_min",
        "over_target",
        "by_zone",
        "by_tier",
        "referrals",
    ):
        assert key in fig
    assert fig["issued"] == 50 and fig["close"]["version"] == 1
    assert fig["print"]["ok"] and pdf.stat().st_size > 10_000
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "营业日终汇总表" in text and "陈静（L01）" in text
    _, week, _ = run(data, "report", "--date", "2026-06-01", "--to", "2026-06-07")
    assert week["days"] == 7 and week["close"] is None and week["issued"] == 50
    assert [d["date"] for d in week["per_day"]] == ["2026-06-01"]


def test_report_prints_on_the_branch_printer(tmp_path: Path) -> None:
    """``report --print`` goes to the branch's CUPS queue as an A4 job (cups-pdf here)."""
    import os
    import time

    data = tmp_path / "demo"
    run(data, "demo", "--customers", "20", "--simulate-day", "--date", "2026-06-02",
        "--visits", "20")  # fmt: skip
    run(data, "settings", "print_kind=printer", "printer=LobbyTestPDF", staff="B01")
    out = Path.home() / "PDF"
    before = set(out.glob("*.pdf")) if out.exists() else set()
    _, doc, _ = run(data, "report", "--date", "2026-06-02", "--print")
    assert doc["print"]["ok"] and "LobbyTestPDF" in doc["print"]["message"]
    deadline = time.monotonic() + 30
    new: set[Path] = set()
    while time.monotonic() < deadline and not new:
        time.sleep(0.2)
        new = {p for p in out.glob("*.pdf") if p not in before and "summary-2026-06-02" in p.name}
    assert new, f"cups-pdf wrote nothing into {out} ({os.environ.get('USER')})"
    path = new.pop()
    # cups-pdf redistills the job and drops the CJK text mapping, so check the paper itself:
    # A4 pages, two or more
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
    while "Pages:" not in info.stdout and time.monotonic() < deadline:
        time.sleep(0.3)  # still being written
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
    fields = {
        k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in info.stdout.splitlines())
    }
    width, _, height = fields["Page size"].split()[:3]
    assert (round(float(width)), round(float(height))) == (595, 842), fields["Page size"]
    assert int(fields["Pages"]) >= 2


def test_day_one_at_a_real_branch_from_the_command_line(tmp_path: Path) -> None:
    """A fresh data dir, no demo: the branch, six staff, four counters, a directory with older
    customers' ID numbers, a walk-in, a day of tickets, tellers, the close and the report."""
    data = tmp_path / "branch"
    _, doc, _ = run(
        data, "branch", "--bank", "江南银行", "--name", "鼓楼支行", "--code", "320106001",
        "--hours", "08:30-17:00", "--wait-target", "12", staff="",
    )  # fmt: skip
    assert (doc["bank_name"], doc["hours"]) == ("江南银行", "08:30-17:00")
    people = tmp_path / "staff.csv"
    people.write_text(
        "工号,姓名,岗位,初始密码\nB01,周建华,branch_head,2468\nL01,陈静,lobby_manager,1357\n"
        "G01,刘洋,guide,1357\nT01,王芳,teller,1111\nT02,李强,teller,2222\nM01,郑雅文,customer_manager,3333\n",
        encoding="utf-8",
    )
    _, doc, _ = run(data, "staff", "import", str(people), staff="")
    assert (doc["created"], doc["errors"]) == (6, [])
    # once a branch head exists, set-up needs one
    rc, doc, _ = run(data, "counter", "add", "1", "--name", "1号窗口", "--kind", "closed_cash",
                     ok=False, staff="L01")  # fmt: skip
    assert rc == 2 and doc["error"] == "wrong_role"
    for no, name, kind in (
        ("1", "1号窗口", "closed_cash"),
        ("2", "2号窗口", "closed_cash"),
        ("3", "3号窗口", "open_service"),
        ("4", "贵宾理财室一", "vip_room"),
    ):
        run(data, "counter", "add", no, "--name", name, "--kind", kind, staff="B01")
    _, counters, _ = run(data, "counter", "list")
    assert [c["kind"] for c in counters] == [
        "closed_cash",
        "closed_cash",
        "open_service",
        "vip_room",
    ]
    directory = tmp_path / "customers.csv"
    directory.write_text(
        "customer_no,name,id_number,phone,assets\n"
        "C1,钱老伯,320102197005205676,13900001111,30000\n"  # county code from 1983, born 1970
        f"C2,孙阿姨,{make_id('11010519491231002')},13900002222,260000\n",
        encoding="utf-8",
    )
    _, doc, _ = run(data, "import-customers", str(directory))
    assert (doc["imported"], doc["errors"]) == (2, [])
    _, reg, _ = run(data, "register", "--name", "周小明", "--phone", "18612057623", "--consent",
                    staff="G01")  # fmt: skip
    assert reg["customer_no"].startswith("W320106001")
    _, found, _ = run(data, "lookup", "周小明")
    assert [c["customer_no"] for c in found["customers"]] == [reg["customer_no"]]
    run(data, "window", "--window", "1", "open", staff="T01")
    run(data, "window", "--window", "3", "open", staff="T02")
    _, t1, _ = run(data, "ticket", "--business", "cash", "--customer", "钱老伯", staff="G01")
    _, t2, _ = run(data, "ticket", "--business", "card", "--customer", reg["customer_no"])
    assert (t1["number"], t2["number"]) == ("A001", "B001")
    _, q, _ = run(data, "queue")
    open_windows = {z["zone"]: z["open_windows"] for z in q["zones"]}
    assert open_windows == {"closed_counter": 1, "open_counter": 1, "vip": 0, "self_service": 0}
    for window, teller in (("1", "T01"), ("3", "T02")):
        run(data, "call", "--window", window, staff=teller)
        run(data, "finish", "--window", window, staff=teller)
    run(data, "window", "--window", "1", "sign-out", staff="T01")
    run(data, "window", "--window", "3", "sign-out", staff="T02")
    _, closed, _ = run(data, "close-day", "--date", "today", staff="L01")
    assert closed["actor_name"] == "陈静（L01）"
    pdf = tmp_path / "day.pdf"
    _, fig, _ = run(data, "report", "--date", "today", "--pdf", str(pdf), staff="B01")
    assert fig["issued"] == 2 and fig["served"] == 2
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "鼓楼支行" in text and "周建华" in text and "陈静" in text and "示范银行" not in text
    import sqlite3

    with sqlite3.connect(data / "branch.sqlite3") as con:
        issued_by = dict(con.execute("select number, issued_by from ticket").fetchall())
        served_by = {n for (n,) in con.execute("select served_by from ticket")}
    assert issued_by == {"A001": "G01", "B001": "L01"} and served_by == {"T01", "T02"}


def test_simulated_day_keeps_off_the_live_day(tmp_path: Path) -> None:
    """Defect: ``demo --simulate-day`` played into the live lobby (today's A001 at window 1 was
    finished with the simulated day's clock, before its own call). Now it refuses today and
    any day with tickets, refuses while a window holds a customer, and by default plays the
    latest past day without tickets, saying which day that was."""
    import sqlite3
    from datetime import date, timedelta

    data = tmp_path / "demo"
    run(data, "demo", "--customers", "20")
    code, err, stderr = run(
        data, "demo", "--customers", "20", "--simulate-day", "--date", "today", ok=False
    )
    assert code == 2 and err["error"] == "simulate_live_day" and "--date" in stderr
    _, first, _ = run(data, "demo", "--customers", "20", "--simulate-day", "--visits", "20")
    day1 = first["simulated_day"]["business_date"]
    assert first["simulated_day"]["picked"] and date.fromisoformat(day1) <= date.today()
    code, err, stderr = run(
        data,
        "demo",
        "--customers",
        "20",
        "--simulate-day",
        "--date",
        day1,
        "--visits",
        "20",
        ok=False,
    )
    assert code == 2 and err["error"] == "simulate_day_has_tickets" and day1 in stderr
    with sqlite3.connect(data / "branch.sqlite3") as con:
        before = {d for (d,) in con.execute("select distinct business_date from ticket")}
    said = subprocess.run(
        [sys.executable, "-m", "lobby_app", "--data-dir", str(data), "demo", "--customers", "20",
         "--simulate-day", "--visits", "20"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    with sqlite3.connect(data / "branch.sqlite3") as con:
        after = {d for (d,) in con.execute("select distinct business_date from ticket")}
    (day2,) = after - before
    between = (date.fromisoformat(day2) + timedelta(days=n) for n in range(1, 30))
    skipped = {d.isoformat() for d in between if d.isoformat() <= day1}
    assert day2 < day1 and skipped <= before  # the latest day back that had no tickets
    assert f"已模拟 {day2} 营业日(未指定日期，选了今天以前最近一个没有票的日子)" in said
    _, ticket, _ = run(data, "ticket", "--business", "cash")
    run(data, "call", "--window", "1", staff="T01")
    code, err, stderr = run(
        data, "demo", "--customers", "20", "--simulate-day", "--visits", "20", ok=False
    )
    assert code == 2 and err["error"] == "simulate_windows_busy"
    assert f"1 号窗口 {ticket['number']}" in stderr
    with sqlite3.connect(data / "branch.sqlite3") as con:
        live = con.execute(
            "select status, window_no, finished_at from ticket where number = ? "
            "and business_date = ?",
            (ticket["number"], ticket["business_date"]),
        ).fetchall()
    assert live == [("called", 1, None)]
