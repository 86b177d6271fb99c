"""The queue the lobby is told is the queue the windows call (issue 15, items 1-4 and 7).

On a real SQLite store: tickets are issued through ``issue_ticket`` and called through
``call_next``; what ``lobby_snapshot`` (the desk, the ``queue`` command) listed must be the
order in which the windows call, whichever windows call, when nobody new arrives.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.zones import Zone
from lobby_app.models import Counter
from lobby_app.store import Store, commands, teller
from lobby_app.store.commands import IssueRequest

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

# the demo branch's layout: window, name, zones, kind, VIP window, 爱心 window
LAYOUT = (
    (1, "1号窗口(高柜)", "closed_counter", "closed_cash", False, True),
    (2, "2号窗口(高柜)", "closed_counter", "closed_cash", False, False),
    (3, "3号窗口(高柜)", "closed_counter", "closed_cash", False, False),
    (4, "4号窗口(贵宾现金)", "vip,closed_counter", "vip_cash", True, False),
    (5, "5号窗口(低柜)", "open_counter", "open_service", False, False),
    (6, "6号窗口(低柜)", "open_counter,self_service", "open_service", False, True),
    (7, "贵宾理财室一", "vip", "vip_room", True, False),
    (8, "自助服务区引导", "self_service", "self_service", False, False),
)
BUSINESS = ("cash", "remit_cash", "wealth", "card", "query", "self_service", "open_account")


def set_up(store: Store, open_windows: set[int]) -> None:
    with store.write() as s:
        for no, name, zones, kind, vipw, prio in LAYOUT:
            s.add(
                Counter(
                    window_no=no,
                    name=name,
                    zones=zones,
                    kind=kind,
                    vip_window=vipw,
                    priority_window=prio,
                    staff_no=f"T{no:02d}",
                    is_open=no in open_windows,
                )
            )


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


ticket_spec = st.tuples(
    st.sampled_from(BUSINESS),
    st.booleans(),  # VIP (flagged by the lobby manager)
    st.sampled_from([None, PriorityKind.ELDERLY, PriorityKind.PREGNANT]),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.sets(st.integers(1, 8), min_size=1),
    st.lists(ticket_spec, min_size=1, max_size=18),
    st.lists(st.integers(1, 8), max_size=6),  # calls made while tickets arrive (streaks)
    st.lists(st.integers(1, 8), min_size=1, max_size=40),
    st.integers(1, 3),
)
def test_the_listed_order_is_the_calling_order(
    open_windows: set[int],
    tickets: list[tuple[str, bool, PriorityKind | None]],
    early_calls: list[int],
    turns: list[int],
    green_run: int,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "data")
        try:
            set_up(store, open_windows)
            commands.change_settings(store, {"green_run": str(green_run)}, actor="test")
            minute = 0.0
            for i, (code, vip, prio) in enumerate(tickets):
                req = IssueRequest(code, vip=vip, vip_reason="测试" if vip else "", priority=prio)
                commands.issue_ticket(store, req, now=at(minute))
                minute += 0.5
                if i < len(early_calls) and early_calls[i] in open_windows:
                    try:
                        teller.call_next(store, early_calls[i], now=at(minute))
                    except LobbyError as e:
                        assert e.code == "queue_empty"
            snap = commands.lobby_snapshot(store, now=at(minute))
            listed: dict[str, list[str]] = {}
            for z in snap.zones:
                for e in sorted(z.waiting, key=lambda e: e.ahead):
                    if e.assigned_window is None:
                        listed.setdefault(e.lane, []).append(e.number)
            called: dict[str, list[str]] = {}
            lane_of = {e.number: e.lane for z in snap.zones for e in z.waiting}
            for turn in turns:
                if turn not in open_windows:
                    continue
                minute += 1
                try:
                    got = teller.call_next(store, turn, now=at(minute))
                except LobbyError as e:
                    assert e.code == "queue_empty"
                    continue
                called.setdefault(lane_of[got.number], []).append(got.number)
            for lane, numbers in called.items():
                assert numbers == listed[lane][: len(numbers)], lane
            # and ``ahead`` is the place in that order
            for z in snap.zones:
                for e in z.waiting:
                    assert listed[e.lane].index(e.number) == e.ahead
        finally:
            store.close()


def test_ordinary_ticket_shown_third_is_called_third_across_five_windows(store: Store) -> None:
    """Issue 15 item 3: the green streak was counted per window, so with five windows an
    ordinary ticket shown 3rd was called 7th, behind six green tickets."""
    with store.write() as s:
        for no in range(1, 6):
            s.add(Counter(window_no=no, name=f"{no}", zones="closed_counter", staff_no="T01"))
    commands.change_settings(store, {"green_run": "2"}, actor="test")
    commands.issue_ticket(store, IssueRequest("cash"), now=at(0))  # A001, ordinary
    for i in range(7):
        commands.issue_ticket(
            store, IssueRequest("cash", priority=PriorityKind.ELDERLY), now=at(1 + i)
        )
    snap = commands.lobby_snapshot(store, now=at(9))
    shown = [e.number for e in snap.zone(Zone.CLOSED_COUNTER).waiting]
    assert shown.index("A001") == 2
    called = [teller.call_next(store, 1 + i % 5, now=at(10 + i)).number for i in range(8)]
    assert called == shown and called.index("A001") == 2


def test_vip_ticket_says_where_when_the_vip_windows_close(store: Store) -> None:
    """Issue 15 item 1, as a new user tried it: with windows 4 and 7 closed, a VIP's cash
    ticket said "0 ahead" as V001 and the high counters answered queue_empty."""
    set_up(store, {1, 2, 3, 5, 6, 8})
    t = commands.issue_ticket(
        store, IssueRequest("cash", vip=True, vip_reason="合作单位高管"), now=at(0)
    )
    assert t.number.startswith("A") and t.green_channel
    assert set(t.windows) == {"1 号窗口", "2 号窗口", "3 号窗口"}
    assert teller.call_next(store, 2, now=at(1)).number == t.number
    teller.set_window_open(store, 7, True, now=at(2))
    w = commands.issue_ticket(
        store, IssueRequest("wealth", vip=True, vip_reason="合作单位高管"), now=at(3)
    )
    assert w.number == "V001" and w.windows == ("贵宾理财室一",)
    got = teller.call_next(store, 7, now=at(4))
    assert got.number == "V001" and got.place == "贵宾理财室一"


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.sets(st.integers(1, 8), min_size=1), st.lists(ticket_spec, min_size=1, max_size=15))
def test_the_ticket_says_what_the_listing_says_at_that_moment(
    open_windows: set[int], tickets: list[tuple[str, bool, PriorityKind | None]]
) -> None:
    """The place and wait printed on a ticket (``issue_ticket``) are the ones the lobby
    listing (``lobby_snapshot``: the desk, the display) gives the same ticket at the same
    moment: both come from the calling rule, by two different calls."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "data")
        try:
            set_up(store, open_windows)
            minute = 0.0
            for code, vip, prio in tickets:
                req = IssueRequest(code, vip=vip, vip_reason="测试" if vip else "", priority=prio)
                t = commands.issue_ticket(store, req, now=at(minute))
                snap = commands.lobby_snapshot(store, now=at(minute))
                (listed,) = [e for z in snap.zones for e in z.waiting if e.number == t.number]
                assert listed.ahead == t.ahead, t.number
                if listed.estimated_wait_min is not None:  # None: no window serves its lane
                    assert listed.estimated_wait_min == t.estimated_wait_min, t.number
                minute += 0.5
        finally:
            store.close()
