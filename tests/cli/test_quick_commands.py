"""Quick commands load only what they need (issue 17 item 5): ``lobby-app lookup`` on an
up-to-date store runs on plain sqlite3 (no SQLAlchemy, ORM models, Alembic), and so does
``lobby-app ticket`` (its person, customer, issue, warning and print record), which on a
branch that prints nowhere makes no PDF either (no reportlab); neither loads Qt or the hub's
websockets. A regression test of what is imported, not of time: the times are in
``bench/bench_cli.py`` and docs/performance.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lobby_app.store import Store, commands

# What each command must not import: the module, and why it is not needed.
NEVER = ("PySide6", "websockets", "alembic", "pypinyin", "lobby_app.ui", "lobby_app.hub")
NOT_FOR_LOOKUP = (*NEVER, "sqlalchemy", "lobby_app.models", "reportlab", "lobby_app.printing")
NOT_FOR_TICKET_PRINTED_NOWHERE = (
    *NEVER,
    "sqlalchemy",
    "lobby_app.models",
    "reportlab",
    "lobby_app.printing.ticket",
)

CHILD = """
import contextlib, io, json, sys
from lobby_app.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[2:])
heavy = json.loads(sys.argv[1])
print(json.dumps({"code": code, "out": out.getvalue(),
                  "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def run_command(forbidden: tuple[str, ...], *argv: str) -> tuple[dict[str, object], list[str]]:
    """``lobby-app ARGV`` in a fresh process: its JSON output, and which of ``forbidden``
    it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(forbidden), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOBBY_STAFF": "L01"},
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, result
    return json.loads(result["out"]), result["loaded"]


@pytest.fixture
def branch(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """An up-to-date demo branch (its staff, windows, business table and customers)."""
    from tests.conftest import open_demo_copy

    store = open_demo_copy(tmp_path_factory, tmp_path / "branch", 50)
    store.close()
    return tmp_path / "branch"


def test_lookup_loads_no_sqlalchemy_orm_or_alembic(branch: Path) -> None:
    store = Store.open(branch)
    (who,) = commands.lookup_customers(store, "C000000002")
    store.close()
    doc, loaded = run_command(
        NOT_FOR_LOOKUP, "--data-dir", str(branch), "--json", "lookup", "C000000002"
    )
    assert [c["customer_no"] for c in doc["customers"]] == [who.customer_no]  # type: ignore[index]
    assert loaded == [], f"lookup imported {loaded}"
    with Store.open(branch).read_sql() as con:  # and it left its audit record
        (detail,) = con.execute(
            "select detail from audit_event where action = 'lookup' order by at desc limit 1"
        ).fetchone()
    assert detail == "C*****0002 -> 1"  # masked, as before


def test_ticket_printed_nowhere_loads_no_reportlab(branch: Path) -> None:
    store = Store.open(branch)
    commands.change_settings(store, {"print_kind": "none"}, actor="B01")
    store.close()
    doc, loaded = run_command(
        NOT_FOR_TICKET_PRINTED_NOWHERE,
        *("--data-dir", str(branch), "--json", "ticket", "--business", "cash"),
    )
    assert doc["number"] == "A001" and doc["print"]["ok"], doc  # type: ignore[index]
    assert doc["print"]["pdf"] is None  # type: ignore[index]
    assert loaded == [], f"ticket imported {loaded}"
    assert not (branch / "tickets").exists()  # no PDF made for nobody
    with Store.open(branch).read_sql() as con:  # the issue and its print record are stored
        row = con.execute(
            "select number, issued_by, print_status from ticket where id = ?", (doc["id"],)
        ).fetchone()
        kinds = [k for (k,) in con.execute("select kind from ticket_event order by kind")]
    assert row == ("A001", "L01", "printed") and kinds == ["issued", "printed"]


def test_ticket_for_a_customer_loads_no_sqlalchemy(branch: Path) -> None:
    """``--customer`` (the lookup), needs and notes go the same plain way."""
    store = Store.open(branch)
    commands.change_settings(store, {"print_kind": "none"}, actor="B01")
    (who,) = commands.lookup_customers(store, "C000000002")
    store.close()
    doc, loaded = run_command(
        NOT_FOR_TICKET_PRINTED_NOWHERE,
        *("--data-dir", str(branch), "--json", "ticket", "--business", "wealth"),
        *("--customer", "C000000002", "--need", "wealth", "--note", "定期到期"),
    )
    assert (doc["customer_no"], doc["needs"]) == (who.customer_no, ["wealth"]), doc
    assert loaded == [], f"ticket imported {loaded}"


def test_a_ticket_that_prints_still_renders_its_pdf(branch: Path) -> None:
    """The positive control: the default (a folder of PDFs) makes the PDF, so the check
    above is about printing nowhere, not about tickets losing their PDF."""
    doc, loaded = run_command(
        ("reportlab",), "--data-dir", str(branch), "--json", "ticket", "--business", "cash"
    )
    pdf = Path(str(doc["print"]["pdf"]))  # type: ignore[index]
    assert loaded == ["reportlab"] and pdf.read_bytes().startswith(b"%PDF")


def test_an_old_store_is_still_brought_up_to_date(tmp_path: Path) -> None:
    """Opening reads the revision with plain sqlite3; a store behind it is migrated and
    gets its defaults as before (Alembic loads then)."""
    import sqlite3

    Store.open(tmp_path).close()
    con = sqlite3.connect(tmp_path / "branch.sqlite3")
    con.execute("delete from business_type")
    con.execute("insert or replace into setting (key, value) values ('station_key', 'plain')")
    con.commit()
    con.close()
    store = Store.open(tmp_path)
    assert commands.business_types(store)  # the default business table is back
    with store.read_sql() as c:
        (value,) = c.execute("select value from setting where key = 'station_key'").fetchone()
    assert value.startswith("sha256:")  # the plain-text key is kept hashed
    store.close()


def test_open_checks_the_station_key_as_staff_keeps_it() -> None:
    from lobby_app.store import db, staff

    assert (db.STATION_KEY, db.STATION_KEY_DIGEST) == (staff.STATION_KEY, staff._DIGEST)
