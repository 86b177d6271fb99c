"""A ticket issued in plain SQL (``commands.issue_ticket`` on the store's sqlite3 connection)
is stored exactly as the ORM stores it: every column of the ticket, its needs, its events and
its request-id record is compared, value and SQLite storage type, with a copy of the same row
written through the ORM models; the ORM reads it back with the right Python types; and the
triggers log it for the nightly sync as before."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.tiers import Tier
from lobby_app.core.zones import Zone
from lobby_app.models import Base, CommandLog, Counter, Ticket, TicketEvent, TicketNeed
from lobby_app.models.base import new_id
from lobby_app.store import Store, commands, teller
from lobby_app.store.commands import IssueRequest

# 09:30:12.345678 in Shanghai: a time with microseconds, given in the branch's own zone
NOW = datetime(2026, 11, 23, 9, 30, 12, 345678, tzinfo=ZoneInfo("Asia/Shanghai"))


def open_counters(store: Store) -> None:
    with store.write() as s:
        s.add_all(
            [
                Counter(window_no=1, name="1号窗口", zones="closed_counter", staff_no="T01"),
                Counter(
                    window_no=7,
                    name="贵宾理财室一",
                    zones="vip",
                    kind="vip_room",
                    vip_window=True,
                    staff_no="M01",
                ),
            ]
        )


def raw(store: Store, table: str, where: str, key: tuple[Any, ...]) -> dict[str, tuple[str, Any]]:
    """A row as SQLite holds it: each column's storage type and value."""
    with sqlite3.connect(store.db_path) as con:
        cols = [r[1] for r in con.execute(f"pragma table_info({table})")]
        typed = ", ".join(f"typeof({c}), {c}" for c in cols)
        row = con.execute(f"select {typed} from {table} where {where}", key).fetchone()
    assert row is not None, (table, key)
    return {c: (row[2 * i], row[2 * i + 1]) for i, c in enumerate(cols)}


def orm_copy(store: Store, model: type[Base], pk: Any, **changes: Any) -> None:
    """The same row written again through the ORM (with ``changes`` to its keys)."""
    with store.write() as s:
        old = s.get(model, pk)
        assert old is not None
        values = {c.key: getattr(old, c.key) for c in model.__table__.columns}
        s.add(model(**{**values, **changes}))


def same_storage(
    plain: dict[str, tuple[str, Any]], orm: dict[str, tuple[str, Any]], *keys: str
) -> None:
    left = {k: v for k, v in plain.items() if k not in keys}
    right = {k: v for k, v in orm.items() if k not in keys}
    assert left == right


@pytest.fixture
def branch(directory_store: Store) -> Store:
    open_counters(directory_store)
    return directory_store


def issue_all_kinds(store: Store) -> list[str]:
    """A walk-in, a VIP customer with a priority, needs, notes and a zone override."""
    cust = commands.find_one_customer(store, "C100000001").id
    first = commands.issue_ticket(store, IssueRequest("cash", actor="L01"), now=NOW)
    second = commands.issue_ticket(
        store,
        IssueRequest(
            "wealth",
            customer_id=cust,
            priority=PriorityKind.OTHER,
            priority_reason="行动不便",
            needs=("wealth", "deposit_maturing"),
            greeting_note="老客户",
            needs_note="定期下周到期",
            zone=Zone.CLOSED_COUNTER,
            zone_reason="客户要求",
            actor="L01",
        ),
        now=NOW + timedelta(seconds=1),
        request_id="req-1",
    )
    third = commands.issue_ticket(
        store,
        IssueRequest("wealth", vip=True, vip_reason="合作单位", actor="L01"),
        now=NOW + timedelta(seconds=2),
    )
    return [first.id, second.id, third.id]


def test_every_column_is_stored_as_the_orm_stores_it(branch: Store) -> None:
    ids = issue_all_kinds(branch)
    for i, tid in enumerate(ids):
        copy = new_id()
        orm_copy(branch, Ticket, tid, id=copy, number=f"Z{i:03d}")
        plain, orm = (
            raw(branch, "ticket", "id = ?", (tid,)),
            raw(branch, "ticket", "id = ?", (copy,)),
        )
        same_storage(plain, orm, "id", "number")
        assert plain["issued_at"][0] == "text" and plain["prospect"][0] == "integer"
        with sqlite3.connect(branch.db_path) as con:
            events = [
                r[0] for r in con.execute("select id from ticket_event where ticket_id = ?", (tid,))
            ]
            tags = [
                r[0] for r in con.execute("select tag from ticket_need where ticket_id = ?", (tid,))
            ]
        for ev in events:
            twin = new_id()
            orm_copy(branch, TicketEvent, ev, id=twin)
            same_storage(
                raw(branch, "ticket_event", "id = ?", (ev,)),
                raw(branch, "ticket_event", "id = ?", (twin,)),
                "id",
            )
        for tag in tags:
            orm_copy(branch, TicketNeed, (tid, tag), ticket_id=copy)
            same_storage(
                raw(branch, "ticket_need", "ticket_id = ? and tag = ?", (tid, tag)),
                raw(branch, "ticket_need", "ticket_id = ? and tag = ?", (copy, tag)),
                "ticket_id",
            )
    orm_copy(branch, CommandLog, "req-1", request_id="req-copy")
    same_storage(
        raw(branch, "command_log", "request_id = ?", ("req-1",)),
        raw(branch, "command_log", "request_id = ?", ("req-copy",)),
        "request_id",
    )


def test_the_orm_reads_a_plain_ticket_back(branch: Store) -> None:
    _walk_in, mine, vip = issue_all_kinds(branch)
    with branch.read() as s:
        t = s.get(Ticket, mine)
        assert t is not None
        assert t.business_date == date(2026, 11, 23)
        assert t.issued_at == NOW + timedelta(seconds=1) and t.issued_at.tzinfo is UTC
        assert (t.number, t.zone, t.suggested_zone) == ("A002", "closed_counter", "vip")
        assert (t.tier, t.vip, t.green_channel, t.priority) == ("mid_high", True, True, "other")
        assert t.zone_override_reason == "客户要求" and t.priority_reason == "行动不便"
        assert (t.status, t.print_status, t.recalls, t.served_by) == ("waiting", "pending", 0, "")
        assert t.ahead_at_issue == 0  # the green channel goes first
        assert sorted(n.tag for n in t.needs) == ["deposit_maturing", "wealth"]
        assert (t.called_at, t.window_no, t.assigned_window, t.rating) == (None, None, None, None)
        kinds = [
            (e.kind, e.at, e.actor)
            for e in s.query(TicketEvent).filter_by(ticket_id=mine).order_by(TicketEvent.kind)
        ]
        assert kinds == [
            ("issued", NOW + timedelta(seconds=1), "L01"),
            ("zone_override", NOW + timedelta(seconds=1), "L01"),
        ]
        w = s.get(Ticket, vip)
        assert w is not None and w.vip and w.vip_reason == "合作单位" and w.zone == "vip"
        log = s.get(CommandLog, "req-1")
        assert log is not None and log.command == "issue_ticket"
        assert abs(log.at - datetime.now(UTC)) < timedelta(minutes=5)  # when it was written


def test_ahead_and_wait_are_written_and_logged_for_the_sync(branch: Store) -> None:
    first = commands.issue_ticket(branch, IssueRequest("cash"), now=NOW)
    with sqlite3.connect(branch.db_path) as con:
        (mark,) = con.execute("select coalesce(max(seq), 0) from change_log").fetchone()
    second = commands.issue_ticket(branch, IssueRequest("cash", needs=("wealth",)), now=NOW)
    assert (first.ahead, second.ahead) == (0, 1) and second.estimated_wait_min > 0
    with sqlite3.connect(branch.db_path) as con:
        stored = con.execute(
            "select ahead_at_issue, estimated_wait_min from ticket where id = ?", (second.id,)
        ).fetchone()
        logged = con.execute(
            "select tbl, row_id, op from change_log where seq > ? order by seq", (mark,)
        ).fetchall()
        (event,) = con.execute("select id from ticket_event where ticket_id = ?", (second.id,))
    assert stored == (1, second.estimated_wait_min)
    assert logged == [
        ("ticket", second.id, "u"),  # inserted
        ("ticket_need", f"{second.id}|wealth", "u"),
        ("ticket", second.id, "u"),  # its place and wait
        ("ticket_event", event[0], "u"),
    ]


def test_a_retry_answers_as_the_first_time_and_issues_nothing(branch: Store) -> None:
    cust = commands.find_one_customer(branch, "C100000001").id
    req = IssueRequest("cash", customer_id=cust, needs=("wealth",), actor="L01")
    first = commands.issue_ticket(branch, req, now=NOW, request_id="r-9")
    again = commands.issue_ticket(branch, req, now=NOW + timedelta(minutes=1), request_id="r-9")
    assert (again.id, again.number, again.zone, again.needs) == (
        first.id,
        first.number,
        first.zone,
        first.needs,
    )
    assert (again.customer_no, again.salutation, again.tier) == (
        "C100000001",
        "欧阳先生",
        Tier.MID_HIGH,
    )
    assert again.issued_at == first.issued_at and again.business_date == first.business_date
    with sqlite3.connect(branch.db_path) as con:
        assert con.execute("select count(*) from ticket").fetchone() == (1,)
    # a request id a window's call used is not an issue's
    teller.call_next(branch, 1, actor="T01", request_id="r-call", now=NOW)
    with pytest.raises(LobbyError) as e:
        commands.issue_ticket(branch, req, now=NOW, request_id="r-call")
    assert e.value.code == "request_id_reused"


def test_a_refused_issue_leaves_nothing(branch: Store) -> None:
    """An error after the numbers were drawn (an unknown customer is found first, but a
    closed day or a bad code must not use a number either)."""
    with pytest.raises(LobbyError) as e:
        commands.issue_ticket(branch, IssueRequest("no_such_work"), now=NOW)
    assert e.value.code and "cash" in e.value.message  # the codes that do exist
    with pytest.raises(LobbyError):
        commands.issue_ticket(branch, IssueRequest("cash", customer_id="nobody"), now=NOW)
    with pytest.raises(ValueError):  # a naive time is refused, as the UTC column refuses it
        commands.issue_ticket(branch, IssueRequest("cash"), now=datetime(2026, 11, 23, 9, 30))
    with sqlite3.connect(branch.db_path) as con:
        assert con.execute("select count(*) from ticket").fetchone() == (0,)
        assert con.execute("select count(*) from number_counter").fetchone() == (0,)
    assert commands.issue_ticket(branch, IssueRequest("cash"), now=NOW).number == "A001"
