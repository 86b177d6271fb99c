import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.tiers import Tier, VipCard
from lobby_app.core.zones import Zone
from lobby_app.models import Counter, Ticket, TicketEvent
from lobby_app.store import Store, commands
from lobby_app.store.commands import IssueRequest

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def customer_id(store: Store, no: str) -> str:
    return commands.find_one_customer(store, no).id


def count_rows(store: Store, table: str) -> int:
    with sqlite3.connect(store.db_path) as con:
        return int(con.execute(f"select count(*) from {table}").fetchone()[0])


def test_pragmas(store: Store) -> None:
    with store.engine.connect() as c:
        assert c.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("pragma synchronous").scalar() == 2  # FULL
        assert c.exec_driver_sql("pragma foreign_keys").scalar() == 1


def test_numbers_per_prefix_and_date(store: Store) -> None:
    nums = [commands.issue_ticket(store, IssueRequest("cash"), now=NOW).number for _ in range(3)]
    assert nums == ["A001", "A002", "A003"]
    assert commands.issue_ticket(store, IssueRequest("card"), now=NOW).number == "B001"
    assert commands.issue_ticket(store, IssueRequest("query"), now=NOW).number == "C001"
    # 16:30 UTC is already the next business day in Shanghai
    next_day = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    t = commands.issue_ticket(store, IssueRequest("cash"), now=next_day)
    assert (t.number, t.business_date.isoformat()) == ("A001", "2026-11-24")


def test_numbers_survive_a_restart(tmp_path: Path) -> None:
    s1 = Store.open(tmp_path)
    for _ in range(4):
        commands.issue_ticket(s1, IssueRequest("cash"), now=NOW)
    s1.close()
    s2 = Store.open(tmp_path)
    assert commands.issue_ticket(s2, IssueRequest("cash"), now=NOW).number == "A005"


KILLER = """
import sys
from datetime import UTC, datetime
from lobby_app.store import Store, commands
s = Store.open(sys.argv[1])
now = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
i = 0
while True:
    t = commands.issue_ticket(s, commands.IssueRequest("cash", needs_note="x" * (i % 50)), now=now)
    i += 1
    if i == 5:
        print("ready", flush=True)
"""


def test_numbers_never_reused_after_a_crash(tmp_path: Path) -> None:
    """Kill a process that is issuing tickets as fast as it can; nothing is reused after."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait()
    proc.stdout.close()
    s = Store.open(tmp_path)
    with s.read() as sess:
        before = sess.scalars(select(Ticket.seq).where(Ticket.prefix == "A")).all()
    assert len(before) >= 5 and sorted(before) == list(range(1, len(before) + 1))
    t = commands.issue_ticket(s, IssueRequest("cash"), now=NOW)
    assert t.number == f"A{len(before) + 1:03d}"


def test_walk_in_ticket_json(store: Store) -> None:
    t = commands.issue_ticket(store, IssueRequest("cash"), now=NOW)
    doc = t.as_json()
    for key in (
        "number",
        "zone",
        "green_channel",
        "vip",
        "priority",
        "tier",
        "ahead",
        "estimated_wait_min",
    ):
        assert key in doc
    assert doc["zone"] == "closed_counter" and doc["tier"] is None and not doc["green_channel"]


def open_vip_counters(store: Store) -> None:
    """A VIP cash counter (window 4) and the VIP room (window 7), open with staff signed in."""
    with store.write() as w:
        w.add_all(
            [
                Counter(
                    window_no=4,
                    name="4号窗口(贵宾现金)",
                    zones="vip,closed_counter",
                    kind="vip_cash",
                    vip_window=True,
                    staff_no="T06",
                ),
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


def test_vip_by_tier_goes_to_vip_zone(directory_store: Store) -> None:
    s = directory_store
    open_vip_counters(s)
    t = commands.issue_ticket(
        s, IssueRequest("cash", customer_id=customer_id(s, "C100000001")), now=NOW
    )
    assert (t.zone, t.vip, t.green_channel, t.tier, t.vip_card) == (
        Zone.VIP,
        True,
        True,
        Tier.MID_HIGH,
        VipCard.BLACK_GOLD,
    )
    assert t.number.startswith("V") and t.salutation == "欧阳先生"


def test_manual_vip_needs_a_reason(directory_store: Store) -> None:
    s = directory_store
    open_vip_counters(s)
    zs = customer_id(s, "C100000002")
    with pytest.raises(LobbyError) as e:
        commands.issue_ticket(s, IssueRequest("cash", customer_id=zs, vip=True), now=NOW)
    assert e.value.field == "vip_reason"
    t = commands.issue_ticket(
        s, IssueRequest("cash", customer_id=zs, vip=True, vip_reason="合作单位高管"), now=NOW
    )
    assert t.vip and t.zone is Zone.VIP


def test_priority_goes_green_in_its_business_zone(store: Store) -> None:
    commands.issue_ticket(store, IssueRequest("cash"), now=NOW)
    commands.issue_ticket(store, IssueRequest("cash"), now=NOW)
    t = commands.issue_ticket(store, IssueRequest("cash", priority=PriorityKind.ELDERLY), now=NOW)
    assert t.zone is Zone.CLOSED_COUNTER and t.green_channel and not t.vip
    assert t.ahead == 0
    snap = commands.lobby_snapshot(store, now=NOW + timedelta(minutes=5))
    assert [e.number for e in snap.zone(Zone.CLOSED_COUNTER).waiting] == ["A003", "A001", "A002"]


def test_other_priority_needs_a_reason(store: Store) -> None:
    with pytest.raises(LobbyError) as e:
        commands.issue_ticket(store, IssueRequest("cash", priority=PriorityKind.OTHER), now=NOW)
    assert e.value.field == "priority_reason"
    assert count_rows(store, "ticket") == 0


def test_zone_override_recorded(store: Store) -> None:
    t = commands.issue_ticket(
        store, IssueRequest("cash", zone=Zone.OPEN_COUNTER, zone_reason="高柜排队过长"), now=NOW
    )
    assert t.zone is Zone.OPEN_COUNTER and t.suggested_zone is Zone.CLOSED_COUNTER
    with store.read() as s:
        ev = s.scalars(select(TicketEvent).where(TicketEvent.kind == "zone_override")).one()
        row = s.get(Ticket, t.id)
        assert row is not None and row.zone_override_reason == "高柜排队过长"
    assert json.loads(ev.detail) == {
        "suggested": "closed_counter",
        "chosen": "open_counter",
        "reason": "高柜排队过长",
    }


def test_ahead_and_estimate_use_open_windows(store: Store) -> None:
    from lobby_app.models import Counter

    with store.write() as s:
        s.add_all(
            [
                Counter(window_no=i, staff_no="T99", name=f"{i}", zones="closed_counter")
                for i in (1, 2)
            ]
        )
    for _ in range(4):
        commands.issue_ticket(store, IssueRequest("cash"), now=NOW)  # 4 minutes each
    t = commands.issue_ticket(store, IssueRequest("cash"), now=NOW)
    assert (t.ahead, t.estimated_wait_min) == (4, 8)


def test_needs_and_notes_stay_with_the_visit_and_the_customer(directory_store: Store) -> None:
    s = directory_store
    cid = customer_id(s, "C100000003")
    commands.issue_ticket(
        s,
        IssueRequest(
            "wealth",
            customer_id=cid,
            needs=("wealth", "存款到期"),
            greeting_note="第一次来",
            needs_note="50万定期下周到期",
        ),
        now=NOW - timedelta(days=3),
    )
    view = commands.customer_detail(s, cid, actor="L01")
    assert len(view.recent_notes) == 1
    note = view.recent_notes[0]
    assert note.needs == ("deposit_maturing", "wealth") and note.greeting_note == "第一次来"
    assert "存款到期" in note.summary


@pytest.mark.parametrize(
    ("req", "code"),
    [
        (IssueRequest("no_such"), "unknown_business"),
        (IssueRequest("cash", needs_note="长" * 10_000), "text_too_long"),
        (IssueRequest("cash", greeting_note="x" * 501), "text_too_long"),
        (IssueRequest("cash", needs=("yacht",)), "unknown_need"),
        (
            IssueRequest("cash", customer_id="00000000-0000-0000-0000-000000000000"),
            "unknown_customer",
        ),
    ],
)
def test_bad_input_changes_nothing(store: Store, req: IssueRequest, code: str) -> None:
    commands.issue_ticket(store, IssueRequest("cash"), now=NOW)
    before = {t: count_rows(store, t) for t in ("ticket", "ticket_event", "number_counter")}
    with pytest.raises(LobbyError) as e:
        commands.issue_ticket(store, req, now=NOW)
    assert e.value.code == code and e.value.message
    assert {t: count_rows(store, t) for t in before} == before
    assert commands.issue_ticket(store, IssueRequest("cash"), now=NOW).number == "A002"


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LobbyError) as e:
        Store.open(blocker / "data")
    assert e.value.code == "data_dir_unwritable" and "--data-dir" in e.value.message


def test_no_full_identifiers_in_the_store_file(directory_store: Store) -> None:
    from tests.conftest import CUSTOMERS_CSV

    directory_store.close()
    raw = directory_store.db_path.read_bytes()
    wal = directory_store.db_path.with_name(directory_store.db_path.name + "-wal")
    if wal.exists():
        raw += wal.read_bytes()
    for line in CUSTOMERS_CSV.splitlines()[1:]:
        fields = line.split(",")
        assert fields[2].encode() not in raw  # ID number
        if fields[3]:
            assert fields[3].encode() not in raw  # phone
        if fields[10]:
            assert fields[10].encode() not in raw  # card number


def test_full_disk_is_a_clear_error_and_loses_nothing(store: Store) -> None:
    """SQLite's page limit gives a real SQLITE_FULL, as a full disk would."""
    from sqlalchemy import event

    commands.issue_ticket(store, IssueRequest("cash"), now=NOW)
    with store.engine.connect() as c:
        pages = c.exec_driver_sql("pragma page_count").scalar()

    def cap(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"pragma max_page_count = {pages}")

    event.listen(store.engine, "connect", cap)
    store.engine.dispose()
    issued = 1
    with pytest.raises(LobbyError) as e:
        for _ in range(5000):
            commands.issue_ticket(store, IssueRequest("cash", needs_note="满" * 400), now=NOW)
            issued += 1
    assert e.value.code == "disk_full" and "磁盘已满" in e.value.message
    event.remove(store.engine, "connect", cap)
    store.engine.dispose()
    with store.read() as s:
        seqs = sorted(s.scalars(select(Ticket.seq)).all())
    assert seqs == list(range(1, issued + 1))  # every issued ticket kept, none half-written
    assert (
        commands.issue_ticket(store, IssueRequest("cash"), now=NOW).number == f"A{issued + 1:03d}"
    )


def test_vip_goes_to_the_green_channel_of_their_counter_when_no_vip_counter_is_open(
    directory_store: Store,
) -> None:
    """Issue 15 item 1: with the VIP windows closed V001 said "0 ahead" and nobody called it."""
    s = directory_store
    open_vip_counters(s)
    with s.write() as w:
        w.add(Counter(window_no=2, name="2号窗口(高柜)", zones="closed_counter", staff_no="T02"))
    from lobby_app.store import teller

    teller.set_window_open(s, 4, False, now=NOW)
    teller.set_window_open(s, 7, False, now=NOW)
    commands.issue_ticket(s, IssueRequest("cash"), now=NOW)  # A001, ordinary
    t = commands.issue_ticket(
        s, IssueRequest("cash", customer_id=customer_id(s, "C100000001")), now=NOW
    )
    assert t.vip and t.green_channel and t.zone is Zone.CLOSED_COUNTER
    assert t.number == "A002" and t.ahead == 0 and "贵宾现金柜台未开放" in t.zone_reason
    assert t.windows == ("2 号窗口",)
    assert teller.call_next(s, 2, now=NOW).number == "A002"  # the VIP is called first


def test_vip_cash_and_non_cash_go_to_their_own_counters(directory_store: Store) -> None:
    """Issue 15 item 2: V001 for 现金汇款 was called to 贵宾理财室."""
    from lobby_app.store import teller

    s = directory_store
    open_vip_counters(s)
    vip = customer_id(s, "C100000001")
    cash = commands.issue_ticket(s, IssueRequest("remit_cash", customer_id=vip), now=NOW)
    wealth = commands.issue_ticket(s, IssueRequest("wealth", customer_id=vip), now=NOW)
    assert cash.zone is wealth.zone is Zone.VIP
    assert cash.windows == ("4 号窗口",) and wealth.windows == ("贵宾理财室一",)
    assert cash.ahead == 0 and wealth.ahead == 0  # two queues, not one
    room = teller.call_next(s, 7, now=NOW)
    assert room.number == wealth.number and room.place == "贵宾理财室一"
    assert teller.call_next(s, 4, now=NOW).number == cash.number


def test_priority_customer_with_machine_work_stays_in_self_service_ahead(store: Store) -> None:
    """Issue 15 item 5: an elderly customer's 自助设备引导 ticket went to the high counter."""
    with store.write() as w:
        w.add(Counter(window_no=8, name="自助服务区引导", zones="self_service", staff_no="G01"))
    commands.issue_ticket(store, IssueRequest("self_service"), now=NOW)
    t = commands.issue_ticket(
        store, IssueRequest("self_service", priority=PriorityKind.ELDERLY), now=NOW
    )
    assert t.zone is Zone.SELF_SERVICE and t.green_channel and t.ahead == 0
    assert "引导员优先协助" in t.zone_reason
