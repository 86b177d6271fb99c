"""Walk-ins registered at the branch go up to head office; head office's directory wins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from lobby_app.core.errors import LobbyError
from lobby_app.core.identity import keyed_hash
from lobby_app.headoffice import schema as ho
from lobby_app.headoffice.migrate import HO_HEAD, MIGRATIONS, current, upgrade
from lobby_app.models import Counter, Customer, Registration, Staff, Ticket
from lobby_app.store import Store, admin, commands
from lobby_app.store.commands import IssueRequest
from lobby_app.store.walkin import Registered, register_walk_in
from lobby_app.sync.engine import default_target, run_sync
from tests.sync.conftest import pg_url, psql

PHONE = "13912340001"
ID_NO = "11010519491231002X"


def walk_in(
    store: Store, name: str = "欧阳晓岚", phone: str = PHONE, id_no: str | None = ID_NO
) -> Registered:
    return register_walk_in(
        store, name=name, phone=phone, id_number=id_no, consent=True, actor="L01"
    )


def phone_hash(store: Store, phone: str = PHONE) -> str:
    return keyed_hash(store.id_key, "phone", phone)


def no_full_numbers(db: str, *numbers: str) -> None:
    """No head-office table holds a full phone or ID number, in any column."""
    for t in ho.meta.sorted_tables:
        dump = " ".join(str(r[0]) for r in psql(db, f"select t::text from {t.name} t"))
        for n in numbers:
            assert n not in dump, (t.name, n)


def test_walk_in_goes_up_masked_once_and_the_count_is_kept(branch: Store, pg: str) -> None:
    url = pg_url(pg)
    code = commands.settings(branch).branch_code
    reg = walk_in(branch)
    first = run_sync(branch, url)
    assert first.status == "ok", first.message
    assert first.uploaded["registration"] == 1
    with branch.read() as s:
        local = s.scalar(select(Registration))
    assert local is not None
    rows = psql(
        pg,
        "select branch_code, id, customer_id, customer_no, name, gender, id_hash, id_last4,"
        " phone_hash, phone_prefix3, phone_last4, registered_by, registered_at, consent_at"
        " from registration",
    )
    assert rows == [
        (
            code,
            local.id,
            reg.customer_id,
            reg.customer_no,
            "欧阳晓岚",
            "F",
            keyed_hash(branch.id_key, "id", ID_NO),
            "002X",
            phone_hash(branch),
            "139",
            "0001",
            "L01",
            local.registered_at,
            local.consent_at,
        )
    ]
    assert reg.customer_no.startswith(f"W{code}")
    no_full_numbers(pg, PHONE, ID_NO, ID_NO[:17])
    again = run_sync(branch, url)
    assert again.status == "ok" and again.uploaded == {} and again.batches == 0
    # head office lost the row (a bad restore, a slip of the hand): the count check resends it
    psql(pg, "delete from registration")
    fixed = run_sync(branch, url)
    assert fixed.status == "warning" and fixed.uploaded.get("registration") == 1
    assert psql(pg, "select customer_no from registration") == [(reg.customer_no,)]
    # a registration deleted at the branch goes as a tombstone
    with branch.engine.begin() as c:
        c.execute(text("delete from registration"))
    gone = run_sync(branch, url)
    assert gone.deleted == {"registration": 1} and gone.status == "ok"
    assert psql(pg, "select count(*) from registration") == [(0,)]


def test_directory_takes_over_a_walk_in_and_keeps_its_ticket(branch: Store, pg: str) -> None:
    url = pg_url(pg)
    code = commands.settings(branch).branch_code
    reg = walk_in(branch, id_no=None)
    ticket = commands.issue_ticket(branch, IssueRequest("wealth", customer_id=reg.customer_id))
    assert run_sync(branch, url).status == "ok"
    assert psql(pg, "select customer_no from visit where id = %s", (ticket.id,)) == [
        (reg.customer_no,)
    ]
    # head office confirms the person into its directory, under its own number and tier
    psql(
        pg,
        "insert into customer_directory (branch_code, customer_no, name, gender, phone_hash,"
        " phone_prefix3, phone_last4, assets_fen, tier, manager) values (%s, 'C900000077',"
        " '欧阳晓岚', 'F', %s, '139', '0001', 30000000, 'mid_high', 'M01')",
        (code, phone_hash(branch)),
    )
    down = run_sync(branch, url)
    assert down.status == "ok", down.message
    assert down.downloaded == {"customer_directory": 1}
    found = commands.lookup_customers(branch, "欧阳晓岚")
    assert [(c.id, c.customer_no, c.tier.value) for c in found] == [
        (reg.customer_id, "C900000077", "mid_high")
    ]
    assert [c.customer_no for c in commands.lookup_customers(branch, PHONE)] == ["C900000077"]
    assert commands.lookup_customers(branch, reg.customer_no) == []
    with branch.read() as s:
        cust = s.get(Customer, reg.customer_id)
        assert cust is not None
        assert (cust.source, cust.assets_fen, cust.manager) == ("directory", 30000000, "M01")
        assert s.get(Ticket, ticket.id).customer_id == reg.customer_id  # type: ignore[union-attr]
    # the visit went up again in the same run, now under the directory's number; the
    # registration keeps the number the branch gave
    assert psql(pg, "select customer_no from visit where id = %s", (ticket.id,)) == [
        ("C900000077",)
    ]
    assert psql(pg, "select customer_no from registration") == [(reg.customer_no,)]
    # the same person cannot be registered again
    with pytest.raises(LobbyError) as e:
        walk_in(branch, name="欧阳晓岚", id_no=None)
    assert e.value.code == "customer_exists" and "C900000077" in e.value.message
    assert run_sync(branch, url).uploaded == {}


def test_embedded_head_office_merges_walk_ins(branch: Store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ho.sqlite3'}"
    code = commands.settings(branch).branch_code
    a = walk_in(branch, name="欧阳晓岚", id_no=None)
    b = walk_in(branch, name="司马青", phone="13712340002", id_no="310115198002151232")
    t_a = commands.issue_ticket(branch, IssueRequest("cash", customer_id=a.customer_id))
    first = run_sync(branch, url)
    assert first.status == "ok", first.message
    assert first.uploaded["registration"] == 2
    ho_db = sqlite3.connect(tmp_path / "ho.sqlite3")
    assert sorted(
        ho_db.execute("select customer_no, phone_last4, id_last4, registered_by from registration")
    ) == sorted([(a.customer_no, "0001", "", "L01"), (b.customer_no, "0002", "1232", "L01")])
    with branch.read() as s:
        known = s.scalar(select(Customer).where(Customer.source == "directory").limit(1))
    assert known is not None
    # head office: B is confirmed under a new number, matched by ID hash only; and A turns
    # out to be a customer this branch already has (the directory had no phone for them)
    with ho_db:
        ho_db.execute(
            "insert into customer_directory (branch_code, customer_no, name, id_hash, id_last4,"
            " tier) values (?, 'C900000088', '司马青', ?, '1232', 'potential')",
            (code, keyed_hash(branch.id_key, "id", "310115198002151232")),
        )
        ho_db.execute(
            "insert into customer_directory (branch_code, customer_no, name, phone_hash,"
            " phone_prefix3, phone_last4, tier) values (?, ?, ?, ?, '139', '0001', 'mid_high')",
            (code, known.customer_no, known.name, phone_hash(branch)),
        )
    down = run_sync(branch, url)
    assert down.status == "ok", down.message
    with branch.read() as s:
        b_row = s.get(Customer, b.customer_id)
        assert b_row is not None
        assert (b_row.customer_no, b_row.tier, b_row.source) == (
            "C900000088",
            "potential",
            "directory",
        )
        assert s.get(Customer, a.customer_id) is None  # merged into the known customer
        assert s.get(Ticket, t_a.id).customer_id == known.id  # type: ignore[union-attr]
        assert (
            s.scalar(
                select(Registration.customer_id).where(Registration.customer_no == a.customer_no)
            )
            == known.id
        )
        assert s.scalar(select(Customer.id).where(Customer.source == "branch")) is None
    assert [c.id for c in commands.lookup_customers(branch, PHONE)] == [known.id]
    assert ho_db.execute("select customer_no from visit where id = ?", (t_a.id,)).fetchall() == [
        (known.customer_no,)
    ]
    ho_db.close()
    assert run_sync(branch, url).uploaded == {}


def test_an_older_head_office_schema(branch: Store, pg: str) -> None:
    from alembic import command
    from alembic.config import Config

    def to_first(url: str) -> None:
        engine = create_engine(url)
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "ho0001")
        engine.dispose()

    walk_in(branch)
    # PostgreSQL at the first revision: refused until head office runs ho-migrate
    to_first(pg_url(pg))
    assert psql(pg, "select to_regclass('registration')") == [(None,)]
    old = run_sync(branch, pg_url(pg))
    assert (old.status, old.error) == ("failed", "schema_mismatch")
    engine = create_engine(pg_url(pg))
    assert upgrade(engine) == HO_HEAD and current(engine) == HO_HEAD
    engine.dispose()
    done = run_sync(branch, pg_url(pg))
    assert done.status == "ok" and done.uploaded["registration"] == 1
    # the branch's own embedded head office follows the program
    embedded = default_target(branch)
    to_first(embedded)
    # (another head office than the one the branch synced with: it is sent everything)
    up = run_sync(branch, direction="up")
    assert up.status == "warning" and "重传全部数据" in up.warnings[0], up.message
    engine = create_engine(embedded)
    assert current(engine) == HO_HEAD
    with engine.connect() as c:
        assert c.execute(text("select count(*) from registration")).scalar() == 1
    engine.dispose()


def test_down_synced_staff_keep_pin_and_lock(branch: Store, pg: str) -> None:
    url = pg_url(pg)
    code = commands.settings(branch).branch_code
    admin.set_staff_state(branch, "T01", "lock", actor="B01")
    with branch.read() as s:
        pin = s.scalar(select(Staff.pin_hash).where(Staff.staff_no == "T01"))
        assert pin
        assert s.scalar(select(Counter.staff_no).where(Counter.window_no == 2)) == "T02"
    assert run_sync(branch, url).status == "ok"
    psql(
        pg,
        "insert into staff_directory (branch_code, staff_no, name, role, active) values"
        " (%s, 'T01', '王芳芳', 'teller_closed', true), (%s, 'T02', '李强', 'teller_closed', false),"
        " (%s, 'T10', '新柜员', 'teller_open', true)",
        (code, code, code),
    )
    down = run_sync(branch, url)
    assert down.status == "ok" and down.downloaded == {"staff_directory": 3}
    with branch.read() as s:
        t01 = s.scalar(select(Staff).where(Staff.staff_no == "T01"))
        assert t01 is not None and (t01.name, t01.pin_hash, t01.locked) == ("王芳芳", pin, True)
        t10 = s.scalar(select(Staff).where(Staff.staff_no == "T10"))
        assert t10 is not None and (t10.locked, t10.pin_hash, t10.failed_logins) == (False, "", 0)
        # head office deactivated T02: their window closes, as a local deactivation does
        window = s.scalar(select(Counter).where(Counter.window_no == 2))
        assert window is not None and (window.staff_no, window.is_open) == (None, False)
    assert psql(
        pg, "select is_open, actor from counter_event where window_no = 2 order by at desc limit 1"
    ) == [(False, "headoffice")]
