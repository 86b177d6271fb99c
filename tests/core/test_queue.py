from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lobby_app.core.queue import (
    LANES,
    QueuePolicy,
    Server,
    Waiting,
    estimate_wait_min,
    forecast,
    format_number,
    green_streak,
    lane_order,
    pick_for_window,
    pick_next,
    serving_order,
)
from lobby_app.core.zones import Zone

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def tk(n: int, green: bool, minute: int) -> Waiting:
    return Waiting(
        f"id{n}", f"A{n:03d}", Zone.CLOSED_COUNTER, green, T0 + timedelta(minutes=minute), n
    )


def numbers(order: list[Waiting]) -> list[str]:
    return [w.number for w in order]


def test_green_channel_first_then_first_come() -> None:
    q = [tk(1, False, 0), tk(2, False, 1), tk(3, True, 2), tk(4, True, 3)]
    assert numbers(serving_order(q)) == ["A003", "A004", "A001", "A002"]


def test_first_come_within_class_regardless_of_input_order() -> None:
    q = [tk(5, False, 4), tk(2, False, 1), tk(9, False, 8)]
    assert numbers(serving_order(q)) == ["A002", "A005", "A009"]


def test_same_time_broken_by_issue_order() -> None:
    a = Waiting("x", "A007", Zone.CLOSED_COUNTER, False, T0, 7)
    b = Waiting("y", "A006", Zone.CLOSED_COUNTER, False, T0, 6)
    assert numbers(serving_order([a, b])) == ["A006", "A007"]


def test_busy_green_channel_lets_an_ordinary_customer_through_every_green_run() -> None:
    q = [tk(1, False, 0), tk(2, False, 1)] + [tk(10 + i, True, 2 + i) for i in range(7)]
    order = numbers(serving_order(q, policy=QueuePolicy(green_run=3)))
    assert order == ["A010", "A011", "A012", "A001", "A013", "A014", "A015", "A002", "A016"]


def test_streak_carried_in_from_earlier_calls() -> None:
    q = [tk(1, False, 0), tk(2, True, 1)]
    assert pick_next(q, streak=3, policy=QueuePolicy(green_run=3)) == q[0]
    assert pick_next(q, streak=2, policy=QueuePolicy(green_run=3)) == q[1]


def test_only_one_class_waiting() -> None:
    assert pick_next([tk(1, True, 0)], 99, QueuePolicy()) is not None
    assert pick_next([tk(1, False, 0)], 0, QueuePolicy()) is not None
    assert pick_next([], 0, QueuePolicy()) is None


@pytest.mark.parametrize("green_run", [1, 2, 5])
def test_no_ordinary_customer_waits_behind_more_than_green_run_greens(green_run: int) -> None:
    q = [tk(i, i % 4 != 0, i) for i in range(1, 40)]
    order = serving_order(q, policy=QueuePolicy(green_run=green_run))
    run = 0
    ordinary_left = sum(not w.green_channel for w in q)
    for w in order:
        if w.green_channel:
            run += 1
            if ordinary_left:
                assert run <= green_run
        else:
            ordinary_left -= 1
            run = 0
    assert sorted(numbers(order)) == sorted(numbers(q))


def test_green_streak_counts_the_tail() -> None:
    assert green_streak([True, False, True, True]) == 2
    assert green_streak([]) == 0
    assert green_streak([True, True, False]) == 0


def test_policy_rejects_zero_run() -> None:
    with pytest.raises(ValueError):
        QueuePolicy(green_run=0)


def test_estimate_shares_work_among_windows() -> None:
    assert estimate_wait_min([], 3) == 0
    assert estimate_wait_min([4, 4, 4], 3) == 4
    assert estimate_wait_min([4, 4, 5], 2) == 7
    assert estimate_wait_min([10], 0) == 10  # no open window: still a figure, not a crash


def test_numbers_never_wrap() -> None:
    assert format_number("A", 7) == "A007"
    assert format_number("V", 1000) == "V1000"


def tz(n: int, zone: Zone, green: bool, minute: int, **kw: object) -> Waiting:
    return Waiting(
        f"id{n}",
        f"{zone.prefix}{n:03d}",
        zone,
        green,
        T0 + timedelta(minutes=minute),
        n,
        **kw,  # type: ignore[arg-type]
    )


def srv(window: int, *zones: Zone, **kw: object) -> Server:
    return Server(window, zones, **kw)  # type: ignore[arg-type]


CL, OP, VIP, SS = Zone.CLOSED_COUNTER, Zone.OPEN_COUNTER, Zone.VIP, Zone.SELF_SERVICE


def test_window_calls_only_its_zones() -> None:
    q = [tz(1, OP, False, 0), tz(2, CL, False, 1)]
    picked = pick_for_window(q, srv(1, CL), {}, QueuePolicy())
    assert picked is not None and picked.number == "A002"
    assert pick_for_window(q, srv(7, VIP, cash=False), {}, QueuePolicy()) is None


def test_vip_cash_and_vip_room_do_not_serve_each_other() -> None:
    """Issue 15 item 2: V001 for cash work was called to the VIP room."""
    cash = tz(1, VIP, True, 0, cash=True)
    wealth = tz(2, VIP, True, 1)
    room, vip_cash = srv(7, VIP, cash=False, vip_window=True), srv(4, VIP, CL, vip_window=True)
    assert pick_for_window([cash], room, {}, QueuePolicy()) is None
    assert pick_for_window([wealth], vip_cash, {}, QueuePolicy()) is None
    assert pick_for_window([cash, wealth], room, {}, QueuePolicy()) == wealth
    assert pick_for_window([cash, wealth], vip_cash, {}, QueuePolicy()) == cash


def test_vip_window_takes_its_vip_lane_then_green_heads_but_keeps_the_bound() -> None:
    q = [tz(1, CL, False, 0), tz(2, VIP, True, 5, cash=True), tz(3, CL, True, 3)]
    w4 = srv(4, VIP, CL, vip_window=True)
    assert pick_for_window(q, w4, {}, QueuePolicy()).number == "V002"  # type: ignore[union-attr]
    rest = [t for t in q if t.number != "V002"]
    assert pick_for_window(rest, w4, {}, QueuePolicy()).number == "A003"  # type: ignore[union-attr]
    # after green_run green calls in the lane, A001 is the lane's head: the VIP window
    # calls it too, so no window makes an ordinary customer wait longer than promised
    full = {CL.value: 3}
    assert pick_for_window(rest, w4, full, QueuePolicy()).number == "A001"  # type: ignore[union-attr]


def test_priority_before_vip_within_the_green_channel() -> None:
    q = [tz(1, CL, True, 0), tz(2, CL, True, 1, priority=True), tz(3, CL, False, 0)]
    assert numbers(serving_order(q)) == ["A002", "A001", "A003"]


def test_priority_window_serves_priority_customers_first() -> None:
    """Issue 15 item 4: 爱心窗口 was stored and never read."""
    q = [tz(1, OP, False, 0), tz(2, SS, True, 3, priority=True)]
    plain = srv(5, OP, SS, cash=False)
    love = srv(6, OP, SS, cash=False, priority_window=True)
    assert pick_for_window(q, plain, {}, QueuePolicy()).number == "B001"  # type: ignore[union-attr]
    assert pick_for_window(q, love, {}, QueuePolicy()).number == "C002"  # type: ignore[union-attr]


def test_home_zone_first() -> None:
    q = [tz(1, OP, False, 0), tz(2, CL, True, 5)]
    assert pick_for_window(q, srv(9, OP, CL), {}, QueuePolicy()).number == "B001"  # type: ignore[union-attr]
    assert pick_for_window(q, srv(9, CL, OP), {}, QueuePolicy()).number == "A002"  # type: ignore[union-attr]


def test_green_bound_holds_per_lane_across_five_windows() -> None:
    """Issue 15 item 3: with five windows an ordinary ticket shown 3rd was called 7th."""
    q = [tz(100, CL, False, 0)] + [tz(i, CL, True, i) for i in range(1, 8)]
    windows = [srv(w, CL) for w in range(1, 6)]
    policy = QueuePolicy(green_run=2)
    shown = lane_order(q, {}, policy).lanes[CL.value]
    called, streaks, waiting = [], {CL.value: 0}, list(q)
    for w in range(len(q)):
        t = pick_for_window(waiting, windows[w % 5], streaks, policy)
        assert t is not None
        called.append(t)
        waiting.remove(t)
        streaks[CL.value] = streaks[CL.value] + 1 if t.green_channel else 0
    assert numbers(called) == numbers(shown)
    assert numbers(called).index("A100") == 2


def test_transferred_ticket_goes_first_at_its_window_only() -> None:
    q = [tz(1, CL, True, 0), tz(2, CL, False, 9, assigned_window=2)]
    assert pick_for_window(q, srv(2, CL), {}, QueuePolicy()).number == "A002"  # type: ignore[union-attr]
    assert pick_for_window(q, srv(1, CL), {}, QueuePolicy()).number == "A001"  # type: ignore[union-attr]


def test_forecast_plays_the_windows_forward() -> None:
    q = [tz(i, CL, False, i) for i in range(1, 6)]
    f = forecast(q, [srv(1, CL), srv(2, CL, free_in_min=2)], {}, QueuePolicy(), lambda t: 4)
    assert [f.wait(f"id{i}") for i in range(1, 6)] == [0, 2, 4, 6, 8]
    assert forecast(q, [srv(5, OP)], {}, QueuePolicy(), lambda t: 4).wait("id1") is None


# ---------------------------------------------------------------- the property


def _lobbies() -> st.SearchStrategy[tuple[list[Waiting], list[Server], dict[str, int], int]]:
    zones = st.sampled_from([CL, OP, VIP, SS])
    ticket = st.tuples(zones, st.booleans(), st.booleans(), st.booleans(), st.integers(0, 30))
    server = st.tuples(
        st.lists(zones, min_size=1, max_size=3, unique=True),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.floats(0, 10),
    )
    streaks = st.dictionaries(st.sampled_from(LANES), st.integers(0, 5))
    return st.tuples(
        st.lists(ticket, max_size=25),
        st.lists(server, min_size=1, max_size=6),
        streaks,
        st.integers(1, 4),
    ).map(
        lambda x: (
            [
                tz(i, z, green or prio, m, priority=prio, cash=cash)
                for i, (z, green, prio, cash, m) in enumerate(x[0])
            ],
            [
                srv(w + 1, *zs, cash=cash, vip_window=vw, priority_window=pw, free_in_min=f)
                for w, (zs, cash, vw, pw, f) in enumerate(x[1])
            ],
            x[2],
            x[3],
        )
    )


@settings(max_examples=300, deadline=None)
@given(_lobbies(), st.lists(st.integers(0, 5), max_size=60))
def test_every_lane_is_called_in_the_order_it_is_listed(
    lobby: tuple[list[Waiting], list[Server], dict[str, int], int], turns: list[int]
) -> None:
    """Issue 15 item 7: whichever windows call, in whatever order, each lane is called in
    the listed order, and the forecast's order agrees with it."""
    waiting, servers, streaks, run = lobby
    policy = QueuePolicy(green_run=run)
    listed = lane_order(waiting, streaks, policy).lanes
    called: dict[str, list[str]] = {}
    left, live = list(waiting), dict(streaks)
    for turn in turns:
        t = pick_for_window(left, servers[turn % len(servers)], live, policy)
        if t is None:
            continue
        left.remove(t)
        called.setdefault(t.lane, []).append(t.number)
        live[t.lane] = live.get(t.lane, 0) + 1 if t.green_channel else 0
    for lane, numbers_called in called.items():
        assert numbers_called == numbers(listed[lane])[: len(numbers_called)]
    f = forecast(waiting, servers, streaks, policy, lambda t: 1 + t.seq % 7)
    for tickets in listed.values():
        times = [f.wait(t.ticket_id) for t in tickets]
        known = [x for x in times if x is not None]
        assert known == sorted(known)
        assert all(x is None for x in times[len(known) :])  # served or not, a whole lane


@settings(max_examples=200, deadline=None)
@given(_lobbies())
def test_no_ordinary_customer_waits_behind_more_than_green_run(
    lobby: tuple[list[Waiting], list[Server], dict[str, int], int],
) -> None:
    waiting, _, streaks, run = lobby
    for lane, order in lane_order(waiting, streaks, QueuePolicy(green_run=run)).lanes.items():
        streak = streaks.get(lane, 0)
        for i, t in enumerate(order):
            if t.green_channel:
                if any(not o.green_channel for o in order[i:]):
                    assert streak < run  # a green call while an ordinary one is owed
                streak += 1
            else:
                streak = 0
