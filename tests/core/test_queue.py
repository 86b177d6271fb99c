from datetime import UTC, datetime, timedelta

import pytest

from lobby_app.core.queue import (
    QueuePolicy,
    Waiting,
    estimate_wait_min,
    format_number,
    green_streak,
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


def tz(n: int, zone: Zone, green: bool, minute: int) -> Waiting:
    return Waiting(
        f"id{n}", f"{zone.prefix}{n:03d}", zone, green, T0 + timedelta(minutes=minute), n
    )


def test_window_calls_only_its_zones() -> None:
    q = [tz(1, Zone.OPEN_COUNTER, False, 0), tz(2, Zone.CLOSED_COUNTER, False, 1)]
    picked = pick_for_window(q, [Zone.CLOSED_COUNTER], 0, QueuePolicy())
    assert picked is not None and picked.number == "A002"
    assert pick_for_window(q, [Zone.VIP], 0, QueuePolicy()) is None


def test_vip_window_takes_green_first_whatever_the_streak() -> None:
    q = [
        tz(1, Zone.CLOSED_COUNTER, False, 0),
        tz(2, Zone.VIP, True, 5),
        tz(3, Zone.CLOSED_COUNTER, True, 3),
    ]
    zones = [Zone.VIP, Zone.CLOSED_COUNTER]
    picked = pick_for_window(q, zones, 99, QueuePolicy(), vip_window=True)
    assert picked is not None and picked.number == "V002"  # the VIP area's ticket first
    rest = [t for t in q if t.number != "V002"]
    again = pick_for_window(rest, zones, 99, QueuePolicy(), vip_window=True)
    assert again is not None and again.number == "A003"  # then any green, whatever the streak
    plain = pick_for_window(q, zones, 99, QueuePolicy(), vip_window=False)
    assert plain is not None and plain.number == "A001"  # an ordinary window lets A001 through


def test_two_zone_window_keeps_ordinary_moving() -> None:
    q = [tz(1, Zone.OPEN_COUNTER, False, 0)] + [
        tz(10 + i, Zone.CLOSED_COUNTER, True, i) for i in range(5)
    ]
    zones = [Zone.CLOSED_COUNTER, Zone.OPEN_COUNTER]
    called, streak, waiting = [], 0, list(q)
    while waiting:
        t = pick_for_window(waiting, zones, streak, QueuePolicy(green_run=2))
        assert t is not None
        called.append(t.number)
        waiting.remove(t)
        streak = streak + 1 if t.green_channel else 0
    assert called.index("B001") == 2


def test_vip_window_serves_the_vip_area_before_other_greens() -> None:
    q = [tz(1, Zone.CLOSED_COUNTER, True, 0), tz(2, Zone.VIP, True, 4)]
    picked = pick_for_window(q, [Zone.VIP, Zone.CLOSED_COUNTER], 0, QueuePolicy(), vip_window=True)
    assert picked is not None and picked.number == "V002"
