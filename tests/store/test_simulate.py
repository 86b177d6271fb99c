"""``simulate_day`` keeps off the live lobby: it plays only a past day without tickets, refuses
while a window holds a customer, and leaves the windows as it found them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from lobby_app.core.errors import LobbyError
from lobby_app.models import Counter, Ticket
from lobby_app.store import Store, commands, teller
from lobby_app.store.commands import IssueRequest
from lobby_app.store.simulate import pick_day, simulate_day
from tests.conftest import open_demo_copy

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 10, 10, 30, tzinfo=TZ)  # "now" for the tests: a Wednesday morning
TODAY = NOW.date()


@pytest.fixture
def demo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 20)
    yield s
    s.close()


def live_tickets(store: Store) -> list[tuple[str, str, int | None, datetime | None]]:
    with store.read() as s:
        return [
            (t.number, t.status, t.window_no, t.finished_at)
            for t in s.scalars(
                select(Ticket).where(Ticket.business_date == TODAY).order_by(Ticket.day_seq)
            )
        ]


def test_a_window_holding_todays_customer_is_not_touched(demo: Store) -> None:
    """Defect: simulating a past day called at the real windows, and a call finishes what the
    window had, so today's A001 (called at window 1) was finished with the simulated day's
    clock, before its own call. Now the simulation refuses and names the window and ticket."""
    number = commands.issue_ticket(demo, IssueRequest("cash"), now=NOW - timedelta(minutes=5))
    teller.call_next(demo, 1, actor="T01", now=NOW - timedelta(minutes=2))
    before = live_tickets(demo)
    assert before[0][:3] == (number.number, "called", 1)
    with pytest.raises(LobbyError) as e:
        simulate_day(demo, TODAY - timedelta(days=1), visits=20, now=NOW)
    assert e.value.code == "simulate_windows_busy"
    assert "1 号窗口" in e.value.message and number.number in e.value.message
    assert live_tickets(demo) == before
    with demo.read() as s:  # nothing was issued on the day it would have played
        assert not s.scalars(
            select(Ticket).where(Ticket.business_date == TODAY - timedelta(days=1))
        ).all()


def test_today_and_a_day_with_tickets_are_refused(demo: Store) -> None:
    """Defect: ``--date today`` (or any day with tickets) mixed simulated tickets into that
    day's queue. Now both are refused with the date named and what to do instead."""
    with pytest.raises(LobbyError) as e:
        simulate_day(demo, TODAY, visits=20, now=NOW)
    assert e.value.code == "simulate_live_day" and str(TODAY) in e.value.message
    assert "--date" in e.value.message
    past = TODAY - timedelta(days=3)
    commands.issue_ticket(
        demo, IssueRequest("cash"), now=datetime.combine(past, datetime.min.time(), TZ)
    )
    with pytest.raises(LobbyError) as e:
        simulate_day(demo, past, visits=20, now=NOW)
    assert e.value.code == "simulate_day_has_tickets"
    assert str(past) in e.value.message and "1 张票" in e.value.message
    assert live_tickets(demo) == []


def test_without_a_date_it_plays_the_latest_empty_past_day(demo: Store) -> None:
    """Defect: the default was "yesterday" whatever it held; now it is the latest day before
    today with no tickets and no day close, and the result says which day it played."""
    yesterday = TODAY - timedelta(days=1)
    commands.issue_ticket(
        demo, IssueRequest("cash"), now=datetime.combine(yesterday, datetime.min.time(), TZ)
    )
    assert pick_day(demo, now=NOW) == TODAY - timedelta(days=2)
    sim = simulate_day(demo, visits=15, seed=2, now=NOW)
    assert sim.business_date == str(TODAY - timedelta(days=2)) and sim.issued > 10
    assert pick_day(demo, now=NOW) == TODAY - timedelta(days=3)


def test_windows_are_left_as_the_live_lobby_had_them(demo: Store) -> None:
    """Defect: the simulated lunch break re-opened windows 3 and 6 and left them open, whatever
    the live lobby had, and a paused or signed-out window did not work on the simulated day.
    Now the simulated day's tellers open every window, and afterwards a paused window is
    paused again and a signed-out one signed out."""
    teller.set_window_open(demo, 3, False, actor="T03", now=NOW)
    teller.set_window_open(demo, 2, False, actor="T02", now=NOW)
    with demo.write() as s:
        c5 = s.scalar(select(Counter).where(Counter.window_no == 5))
        assert c5 is not None
        c5.staff_no, c5.signed_in_at = None, None
    with demo.read() as s:
        before = {c.window_no: (c.staff_no, c.is_open) for c in s.scalars(select(Counter))}
    sim = simulate_day(demo, date(2026, 6, 1), visits=40, seed=4, now=NOW)
    assert sim.served > 0
    with demo.read() as s:
        after = {c.window_no: (c.staff_no, c.is_open) for c in s.scalars(select(Counter))}
        played = set(
            s.scalars(select(Ticket.window_no).where(Ticket.business_date == date(2026, 6, 1)))
        )
    assert after == before
    assert before[2] == ("T02", False) and before[5] == (None, True)
    assert {2, 5} <= played  # on the simulated day those windows worked
