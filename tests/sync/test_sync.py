"""The nightly sync against a real PostgreSQL server (and the embedded SQLite head office)."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from lobby_app.headoffice.migrate import HO_HEAD
from lobby_app.models import Customer, Staff, Ticket
from lobby_app.store import Store, commands, dayclose, referrals, teller
from lobby_app.store.commands import IssueRequest
from lobby_app.store.simulate import simulate_day
from lobby_app.sync import engine as sync_engine
from lobby_app.sync.engine import run_sync, sync_status
from tests.sync.conftest import CutProxy, pg_url, psql

D = date(2026, 6, 1)


def local_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as c:
        return {
            t: int(c.execute(text(f"select count(*) from {t}")).scalar() or 0)
            for t in (
                "ticket",
                "ticket_need",
                "ticket_event",
                "referral",
                "referral_credit",
                "day_close",
                "audit_event",
                "counter_event",
                "registration",
            )
        }


def ho_counts(db: str, branch: str) -> dict[str, int]:
    names = {
        "ticket": "visit",
        "ticket_need": "visit_need",
        "ticket_event": "visit_event",
        "referral": "referral",
        "referral_credit": "referral_credit",
        "day_close": "day_summary",
        "audit_event": "audit_event",
        "counter_event": "counter_event",
        "registration": "registration",
    }
    return {
        k: int(psql(db, f"select count(*) from {v} where branch_code = %s", (branch,))[0][0])  # type: ignore[arg-type]
        for k, v in names.items()
    }


def visits_digest(store: Store) -> set[tuple[str, str, str | None]]:
    with store.engine.connect() as c:
        return {
            (r[0], r[1], r[2][:19] if r[2] else None)
            for r in c.execute(text("select id, status, finished_at from ticket"))
        }


def ho_digest(db: str, branch: str) -> set[tuple[str, str, str | None]]:
    rows = psql(
        db,
        "select id, status, to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        " from visit where branch_code = %s",
        (branch,),
    )
    return {(str(r[0]), str(r[1]), str(r[2]) if r[2] else None) for r in rows}


def play(store: Store, visits: int = 40, seed: int = 1) -> None:
    simulate_day(store, D, visits=visits, seed=seed)
    dayclose.close_day(store, D, actor="L01", force=True)


def test_first_and_incremental_sync_and_running_twice_changes_nothing(
    branch: Store, pg: str
) -> None:
    play(branch)
    url = pg_url(pg)
    first = run_sync(branch, url)
    assert first.status == "ok", first.message
    code = commands.settings(branch).branch_code
    assert ho_counts(pg, code) == local_counts(branch)
    assert first.uploaded["ticket"] == local_counts(branch)["ticket"]
    assert ho_digest(pg, code) == visits_digest(branch)
    # identified customers travel by customer number; times are UTC instants
    named = psql(pg, "select count(*) from visit where customer_no is not null")[0][0]
    with branch.read() as s:
        local_named = s.scalar(
            select(text("count(*)")).select_from(Ticket).where(Ticket.customer_id.is_not(None))
        )
        issued = s.scalar(
            select(Ticket.issued_at).where(Ticket.number == "A001", Ticket.business_date == D)
        )
    assert named == local_named and named > 0
    (ho_issued,) = psql(
        pg, "select issued_at from visit where number = 'A001' and business_date = %s", (D,)
    )[0]
    assert ho_issued == issued
    frozen = dayclose.summary(branch, D)
    figures = psql(pg, "select figures->>'issued' from day_summary where business_date = %s", (D,))
    assert figures == [(str(frozen["issued"]),)]  # the closed day's figures, queryable as JSON
    (hw,) = psql(pg, "select high_water from branch where branch_code = %s", (code,))[0]
    assert hw == first.high_water > 0

    again = run_sync(branch, url)
    assert again.status == "ok" and again.uploaded == {} and again.batches == 0
    # a new day's work goes up incrementally: only what changed
    issued_now = commands.issue_ticket(branch, IssueRequest("cash", needs=("savings",)))
    teller.call_next(branch, 1, actor="T01")
    third = run_sync(branch, url)
    assert third.uploaded.get("ticket") == 1 and third.uploaded.get("ticket_need") == 1
    assert ho_counts(pg, code) == local_counts(branch)
    assert psql(pg, "select status from visit where id = %s", (issued_now.id,)) == [("called",)]
    assert sync_status(branch).pending == 0 and sync_status(branch).last_error == ""


def test_connection_cut_at_random_points_then_resumed(
    branch: Store, pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(branch, visits=120, seed=5)
    monkeypatch.setattr(sync_engine, "BATCH", 150)  # many small transactions
    code = commands.settings(branch).branch_code
    rng = random.Random(7)
    failures = 0
    for _ in range(6):
        proxy = CutProxy(cut_after=rng.randrange(3_000, 120_000))
        try:
            result = run_sync(branch, pg_url(pg, port=proxy.port))
        finally:
            proxy.close()
        if result.status == "failed":
            failures += 1
            assert result.error in ("connection_lost", "unreachable"), result.message
            assert "下次同步会从中断处继续" in result.message
        # whatever got through is whole: no duplicates, never ahead of the branch
        dup = psql(pg, "select count(*) - count(distinct id) from visit")
        assert dup in ([], [(0,)])
    assert failures >= 3, "the cuts must actually interrupt syncs"
    final = run_sync(branch, pg_url(pg))
    assert final.status == "ok", final.message
    assert ho_counts(pg, code) == local_counts(branch)
    assert ho_digest(pg, code) == visits_digest(branch)
    assert run_sync(branch, pg_url(pg)).uploaded == {}


def test_two_branches_into_one_head_office(branch: Store, pg: str, tmp_path: Path) -> None:
    import shutil

    other_dir = tmp_path / "other"
    shutil.copytree(branch.data_dir, other_dir)
    other = Store.open(other_dir)
    try:
        commands.change_settings(
            other, {"branch_code": "310115002", "branch_name": "城西支行"}, actor="B01"
        )
        play(branch, visits=30, seed=2)
        play(other, visits=25, seed=3)
        # the copy has the same ticket ids for the demo's history: ids are per branch
        assert run_sync(branch, pg_url(pg)).status == "ok"
        assert run_sync(other, pg_url(pg)).status == "ok"
        by_branch = dict(psql(pg, "select branch_code, count(*) from visit group by 1"))  # type: ignore[arg-type]
        assert by_branch["310115001"] == local_counts(branch)["ticket"]
        assert by_branch["310115002"] == local_counts(other)["ticket"]
        assert psql(
            pg, "select count(*) from visit where number = 'A001' and business_date = %s", (D,)
        ) == [(2,)]
        names = dict(psql(pg, "select branch_code, branch_name from branch"))  # type: ignore[arg-type]
        assert names == {"310115001": "城东支行", "310115002": "城西支行"}
    finally:
        other.close()


def test_down_sync_of_directory_changes_and_removals(branch: Store, pg: str) -> None:
    url = pg_url(pg)
    assert run_sync(branch, url).status == "ok"  # sets up the empty head office
    code = commands.settings(branch).branch_code
    psql(
        pg,
        "insert into customer_directory (branch_code, customer_no, name, gender, id_last4,"
        " phone_prefix3, phone_last4, assets_fen, tier) values (%s, 'C900000001', '总行新客',"
        " 'F', '1234', '139', '8888', 8000000, 'potential')",
        (code,),
    )
    psql(
        pg,
        "insert into staff_directory (branch_code, staff_no, name, role) values (%s, 'T09', '新柜员', 'teller_open')",
        (code,),
    )
    psql(
        pg,
        "insert into business_type (code, name, category, zone, service_minutes, sort_order)"
        " values ('pension_card', '社保卡业务', 'non_cash', 'open_counter', 9, 125)",
    )
    psql(
        pg,
        "insert into marketing_sentence (tier, need, sentence) values ('', '', '总行统一话术：欢迎了解手机银行')",
    )
    down = run_sync(branch, url)
    assert down.downloaded == {
        "customer_directory": 1,
        "staff_directory": 1,
        "business_type": 1,
        "marketing_sentence": 1,
    }
    found = commands.lookup_customers(branch, "C900000001")
    assert found[0].name == "总行新客" and found[0].tier.value == "potential"
    assert commands.lookup_customers(branch, "总行新客")[0].customer_no == "C900000001"
    assert any(b.code == "pension_card" for b in commands.business_types(branch))
    assert [r.sentence for r in referrals.marketing_rules(branch)] == [
        "总行统一话术：欢迎了解手机银行"
    ]
    # a change at head office shows at the desk after the next sync
    psql(
        pg,
        "update customer_directory set tier = 'mid_high', assets_fen = 30000000 where customer_no = 'C900000001'",
    )
    assert run_sync(branch, url).downloaded == {"customer_directory": 1}
    assert commands.lookup_customers(branch, "C900000001")[0].tier.value == "mid_high"
    # a visit names the customer; then head office removes them: the branch forgets the person
    cust_id = commands.lookup_customers(branch, "C900000001")[0].id
    ticket = commands.issue_ticket(branch, IssueRequest("wealth", customer_id=cust_id))
    psql(pg, "update customer_directory set deleted = true where customer_no = 'C900000001'")
    psql(pg, "update staff_directory set deleted = true where staff_no = 'T09'")
    result = run_sync(branch, url)
    assert result.downloaded == {"customer_directory": 1, "staff_directory": 1}
    assert commands.lookup_customers(branch, "C900000001") == []
    with branch.read() as s:
        assert s.get(Ticket, ticket.id).customer_id is None  # type: ignore[union-attr]
        assert s.scalar(select(Staff.active).where(Staff.staff_no == "T09")) is False
        assert s.scalar(select(Customer.id).where(Customer.customer_no == "C900000001")) is None
    # the visit went up again without the person
    assert psql(pg, "select customer_id from visit where id = %s", (ticket.id,)) == [(None,)]
    assert run_sync(branch, url).downloaded == {}


def test_tombstones_and_a_count_mismatch_repaired(branch: Store, pg: str) -> None:
    play(branch, visits=20, seed=9)
    url = pg_url(pg)
    code = commands.settings(branch).branch_code
    assert run_sync(branch, url).status == "ok"
    with branch.engine.begin() as c:
        tid, tag = c.execute(text("select ticket_id, tag from ticket_need limit 1")).one()
        c.execute(
            text("delete from ticket_need where ticket_id = :t and tag = :g"), {"t": tid, "g": tag}
        )
    gone = run_sync(branch, url)
    assert gone.deleted == {"ticket_need": 1}
    assert psql(
        pg, "select count(*) from visit_need where ticket_id = %s and tag = %s", (tid, tag)
    ) == [(0,)]
    # head office lost a visit (a bad restore): the count check finds the date and resends it
    psql(
        pg,
        "delete from visit where id = (select id from visit where business_date = %s limit 1)",
        (D,),
    )
    fixed = run_sync(branch, url)
    assert fixed.status == "warning" and fixed.repaired_dates == [D.isoformat()]
    assert ho_counts(pg, code) == local_counts(branch)


def test_bad_cases_say_what_happened_and_lose_nothing(
    branch: Store, pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(branch, visits=10, seed=4)
    before = sync_status(branch).pending
    assert before > 0
    down = run_sync(branch, pg_url(pg, port=1))
    assert (down.status, down.error) == ("failed", "unreachable") and "连不上" in down.message
    nobody = run_sync(branch, pg_url(pg, user="nobody"))
    assert (nobody.status, nobody.error) == ("failed", "auth_failed")
    assert sync_status(branch).pending == before and sync_status(branch).last_error
    assert run_sync(branch, pg_url(pg)).status == "ok"
    psql(pg, "update ho_alembic_version set version_num = 'ho0099'")
    old = run_sync(branch, pg_url(pg))
    assert (old.status, old.error) == ("failed", "schema_mismatch") and "ho-migrate" in old.message
    psql(pg, "update ho_alembic_version set version_num = %s", (HO_HEAD,))
    monkeypatch.setattr(sync_engine, "CLOCK_SKEW_WARN_S", -1)  # any difference counts as far apart
    skewed = run_sync(branch, pg_url(pg))
    assert skewed.status == "warning" and "时钟" in skewed.warnings[0]
    with pytest.raises(Exception) as e:
        run_sync(branch, pg_url(pg), direction="sideways")
    assert "up、down 或 both" in str(e.value)


def test_embedded_head_office_and_the_command_line(branch: Store, tmp_path: Path) -> None:
    play(branch, visits=15, seed=6)
    data = branch.data_dir
    branch.close()
    out = subprocess.run(
        [sys.executable, "-m", "lobby_app", "--data-dir", str(data), "--json", "sync"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "ok" and doc["uploaded"]["ticket"] > 15
    assert set(doc) >= {"uploaded", "downloaded", "high_water", "status"}
    ho = sqlite3.connect(data / "headoffice.sqlite3")
    assert ho.execute("select count(*) from visit").fetchone()[0] == doc["uploaded"]["ticket"]
    status = subprocess.run(
        [sys.executable, "-m", "lobby_app", "--data-dir", str(data), "--json", "sync-status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    st = json.loads(status.stdout)
    assert st["pending"] == 0 and st["last_success_at"] and st["missed"] is False


def test_hub_syncs_when_a_night_was_missed(branch: Store) -> None:
    from lobby_app.hub.commands import Station
    from lobby_app.hub.server import Hub

    async def body() -> None:
        hub = Hub(branch, "127.0.0.1", 0, nightly_sync=True)
        assert await hub.sync_if_due() is True  # never synced: due at once
        assert hub.last_sync is not None and hub.last_sync["status"] == "ok"
        assert await hub.sync_if_due() is False  # done for tonight
        # closing the day sends it at once
        desk = Station("desk", None, "L01", "lobby_manager")
        await hub.execute(desk, "close_day", {"force": True}, "close-1")
        assert hub._after_close is not None
        after = await hub._after_close
        assert after["status"] == "ok" and after["uploaded"].get("day_close") == 1
        hub._pool.shutdown()
        hub._read_pool.shutdown()

    asyncio.run(body())
    assert (branch.data_dir / "headoffice.sqlite3").exists()
    assert sync_status(branch).missed is False


def test_ho_migrate_and_a_failed_sync_on_the_command_line(branch: Store, pg: str) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lobby_app", "--data-dir", str(branch.data_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = cli("--json", "ho-migrate", "--to", pg_url(pg))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"before": None, "after": HO_HEAD}
    again = cli("--json", "ho-migrate", "--to", pg_url(pg))
    assert json.loads(again.stdout)["before"] == HO_HEAD
    assert psql(pg, "select value from ho_version") == [(0,)]
    down = cli("sync", "--to", "postgresql+psycopg://lobby:secret@127.0.0.1:1/ho")
    assert down.returncode == 2 and "连不上总行数据库" in down.stderr
    assert "secret" not in down.stderr and "***" in down.stderr
    status = cli("sync-status")
    assert "上次出错" in status.stdout and "secret" not in status.stdout


def test_special_card_approvals_come_down_with_the_directory(branch: Store, pg: str) -> None:
    """Head office's directory carries a special card's approval (who, until when) and the card
    held when due for downgrade (ho0003); the branch keeps them and the desk tells them apart.
    A head office created before ho0003 gains the columns when it is migrated."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from lobby_app.headoffice.migrate import MIGRATIONS, current, upgrade

    url = pg_url(pg)
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:  # a head office as an older program left it
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "ho0002")
        for col in ("vip_approved_by", "vip_approved_until", "vip_card_held"):
            conn.execute(text(f"alter table customer_directory drop column {col}"))
    assert upgrade(engine) == HO_HEAD and current(engine) == HO_HEAD
    engine.dispose()
    assert run_sync(branch, url).status == "ok"
    code = commands.settings(branch).branch_code
    until = date.today().replace(year=date.today().year + 1)
    psql(
        pg,
        "insert into customer_directory (branch_code, customer_no, name, tier, vip_card,"
        " vip_special, vip_approved_by, vip_approved_until) values (%s, 'C900000002', '特批客户',"
        " 'mass', 'platinum', true, '总行理财中心 刘建新', %s)",
        (code, until),
    )
    psql(
        pg,
        "insert into customer_directory (branch_code, customer_no, name, tier, avg_assets_3m_fen,"
        " vip_card, vip_card_held) values (%s, 'C900000003', '降级客户', 'mid_high', 30000000,"
        " 'standard', 'black_gold')",
        (code,),
    )
    assert run_sync(branch, url).downloaded == {"customer_directory": 2}
    (special,) = commands.lookup_customers(branch, "C900000002")
    assert special.vip_special and special.vip_entitled
    assert special.card_note == f"特批贵宾卡(审批人总行理财中心 刘建新，有效至{until})"
    (due,) = commands.lookup_customers(branch, "C900000003")
    assert due.vip_card is not None and due.vip_card.value == "standard"
    assert due.card_note == "待降级：近三月日均资产未达黑金卡标准"
