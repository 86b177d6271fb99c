"""Service times learned from the branch's own history (issue 15, item 6).

Before this module the estimate knew only the business table's round figures
(``service_minutes``), whatever the branch really took; these tests pin what is learned,
from which tickets, with which fallbacks, and that it is computed once a day.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lobby_app.models import BusinessTypeRow, Ticket
from lobby_app.store import Store, history

SHANGHAI = timedelta(hours=8)
DAY = date(2026, 11, 23)  # a Monday; history goes on the days before


@pytest.fixture(autouse=True)
def _fresh_history() -> Iterator[None]:
    history.configure()
    yield
    history.configure()


_seq = itertools.count(1)


def local(day: date, hh: float) -> datetime:
    """A branch-local (Shanghai) time of ``day`` as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - SHANGHAI + timedelta(hours=hh)


def visit(
    store: Store,
    day: date,
    code: str,
    called_hh: float,
    minutes: float | None,
    *,
    status: str = "done",
    window: int = 1,
    issued_hh: float | None = None,
) -> None:
    """One past ticket, called at ``called_hh`` (branch time) and finished ``minutes`` later."""
    n = next(_seq)
    called = local(day, called_hh)
    with store.write() as s:
        s.add(
            Ticket(
                business_date=day,
                number=f"A{n:03d}",
                prefix="A",
                seq=n,
                day_seq=n,
                business_code=code,
                zone="closed_counter",
                suggested_zone="closed_counter",
                status=status,
                issued_at=local(day, issued_hh if issued_hh is not None else called_hh - 0.2),
                called_at=called,
                first_called_at=called,
                finished_at=None if minutes is None else called + timedelta(minutes=minutes),
                window_no=window,
            )
        )


def near(minutes: float) -> object:
    """Equal to the millisecond, the precision SQLite's julianday works to."""
    return pytest.approx(minutes, abs=1e-3)


def model_at(store: Store, when: datetime) -> history.ServiceModel:
    with store.read() as s:
        return history.service_model(s, when)


def past_days(n: int, before: date = DAY) -> list[date]:
    return [before - timedelta(days=i) for i in range(1, n + 1)]


def test_per_business_and_branch_local_hour(store: Store) -> None:
    """Cash takes 6 min at 10:00 and 3 min at 14:00 (branch time): each hour its own."""
    for d in past_days(3):
        for k in range(6):
            visit(store, d, "cash", 10 + k / 10, 6.0)
            visit(store, d, "cash", 14 + k / 10, 3.0)
    m = model_at(store, local(DAY, 9))
    whole_day = m.learned.by_business["cash"]
    assert whole_day == near(4.5)
    # 18 services an hour: each hour's own figure, leaning on the whole day by HOUR_PRIOR
    k = history.HOUR_PRIOR
    assert m.service("cash", local(DAY, 10.5)) == near((18 * 6.0 + k * 4.5) / (18 + k))
    assert m.service("cash", local(DAY, 14.5)) == near((18 * 3.0 + k * 4.5) / (18 + k))
    assert m.source("cash", local(DAY, 10.5)) == "hour"
    # 10:30 in Shanghai is 02:30 UTC: the hour is the branch's, not UTC's
    assert local(DAY, 10.5).hour == 2


def test_thin_hour_falls_back_to_the_business_then_the_table(store: Store) -> None:
    for d in past_days(3):
        for k in range(5):
            visit(store, d, "card", 10 + k / 10, 10.0)
    visit(store, DAY - timedelta(days=1), "card", 15, 16.0)  # one sample at 15:00
    m = model_at(store, local(DAY, 9))
    assert m.source("card", local(DAY, 15.2)) == "business"
    # the business over all hours: 15 of 10 min and one of 16 min
    assert m.service("card", local(DAY, 15.2)) == near(history.typical([10.0] * 15 + [16.0]))
    with store.read() as s:
        table = s.get(BusinessTypeRow, "wealth")
        assert table is not None
        wealth = table.service_minutes
    assert m.source("wealth", local(DAY, 10)) == "table"
    assert m.service("wealth", local(DAY, 10)) == wealth
    assert m.service("no_such_code", local(DAY, 10)) == history.DEFAULT_MIN


def test_no_shows_count_and_absurd_durations_do_not(store: Store) -> None:
    """A no-show keeps the window from the call to the pass; a ticket left open for hours,
    a finish before the call, or one never finished is no service time."""
    for d in past_days(2):
        for k in range(8):
            visit(store, d, "cash", 10 + k / 10, 4.0)
        visit(store, d, "cash", 11, 2.0, status="no_show")
        visit(store, d, "cash", 11.5, 240.0)  # left open past 3 hours
        visit(store, d, "cash", 11.6, -3.0)  # clock trouble
        visit(store, d, "cash", 11.7, None, status="called")  # still open
    learned = model_at(store, local(DAY, 9)).learned
    assert learned.samples == 18
    assert learned.by_business["cash"] == near(history.typical([4.0] * 16 + [2.0] * 2))


def test_trimmed_mean_is_not_carried_off_by_a_forgotten_finish(store: Store) -> None:
    for d in past_days(2):
        for k in range(10):
            visit(store, d, "cash", 10 + k / 20, 4.0)
    visit(store, DAY - timedelta(days=1), "cash", 13, 150.0)  # teller stepped away
    m = model_at(store, local(DAY, 9))
    assert m.service("cash", local(DAY, 16)) < 4.5
    with store.read() as s:
        plain = history.learn(s, DAY, ZoneInfo("Asia/Shanghai"), statistic="mean")
    assert plain.by_business["cash"] > 10


def test_looks_back_a_bounded_number_of_business_days(store: Store) -> None:
    """Only the last ``LOOKBACK_DAYS`` days with tickets count: the branch's pace of a
    month ago (or before a new teller came) does not linger."""
    days = past_days(history.LOOKBACK_DAYS + 5)
    for i, d in enumerate(days):
        minutes = 4.0 if i < history.LOOKBACK_DAYS else 20.0
        visit(store, d, "cash", 10, minutes)
    learned = model_at(store, local(DAY, 9)).learned
    assert learned.days == history.LOOKBACK_DAYS
    assert learned.by_business["cash"] == near(4.0)
    # a very busy branch: fewer days once they hold enough tickets (the cost is per row)
    with store.read() as s:
        few = history.learn(s, DAY, ZoneInfo("Asia/Shanghai"), max_tickets=3)
    assert (few.days, few.samples) == (3, 3)


def test_hand_over_is_learned_from_finishes_with_someone_waiting(store: Store) -> None:
    """The window takes half a minute from one finish to the next call while a customer
    waits; a gap with nobody waiting (idle) or a long one (a break) is no hand-over."""
    d = DAY - timedelta(days=1)
    t = 10.0
    for _ in range(10):
        visit(store, d, "cash", t, 3.0, issued_hh=9.5)
        t += 3.5 / 60  # finish at +3 min, the next call 30 s later
    visit(store, d, "cash", t + 1, 3.0, issued_hh=t + 0.9)  # came after the window was idle
    visit(store, d, "cash", t + 2, 3.0, issued_hh=9.5)  # after a 57-minute break
    m = model_at(store, local(DAY, 9))
    assert m.learned.handover == near(0.5)
    assert m.minutes("cash", local(DAY, 10)) == near(3.0 + 0.5)


def test_remaining_follows_the_business_spread(store: Store) -> None:
    """Half the services take 2 minutes and half 20: a customer still at the window after
    5 minutes is one of the long ones and has ~15 minutes to go, not 11 − 5 = 6."""
    for d in past_days(4):
        for k in range(10):
            visit(store, d, "wealth", 10 + k / 10, 2.0 if k % 2 else 20.0, window=k)
    m = model_at(store, local(DAY, 9))
    called = local(DAY, 10)
    assert m.remaining("wealth", called, called) == near(m.minutes("wealth", called))
    assert m.remaining("wealth", called, called + timedelta(minutes=5)) == near(15.0)
    # past every service ever seen: any moment now, never zero or below
    late = m.remaining("wealth", called, called + timedelta(minutes=90))
    assert late == near(history.FLOOR_MIN + m.learned.handover)


def test_remaining_without_history_assumes_a_skewed_spread(store: Store) -> None:
    m = model_at(store, local(DAY, 9))
    called = local(DAY, 10)
    typical = m.service("cash", called)
    assert m.remaining("cash", called, called) == pytest.approx(typical, rel=1e-6)
    later = m.remaining("cash", called, called + timedelta(minutes=typical))
    assert history.FLOOR_MIN <= later < typical


def test_computed_once_per_business_date_and_store(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It runs on every ticket issue: one computation per day and store, and today's own
    tickets wait for tomorrow (past days do not change during the day)."""
    calls: list[date] = []
    real = history.learn

    def counting(*args: object, **kw: object) -> history.LearnedTimes:
        calls.append(args[1])  # type: ignore[arg-type]
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "learn", counting)
    for k in range(12):
        visit(store, DAY - timedelta(days=1), "cash", 10 + k / 20, 4.0)
    for minute in range(0, 300, 30):
        assert model_at(store, local(DAY, 9) + timedelta(minutes=minute)).service(
            "cash", local(DAY, 10)
        ) == near(4.0)
    for k in range(40):
        visit(store, DAY, "cash", 10 + k / 60, 9.0)
    assert model_at(store, local(DAY, 15)).service("cash", local(DAY, 10)) == near(4.0)
    assert calls == [DAY]
    tomorrow = model_at(store, local(DAY + timedelta(days=1), 9))
    assert tomorrow.learned.samples == 52
    assert calls == [DAY, DAY + timedelta(days=1)]
    other = Store.open(tmp_path / "other")
    try:
        assert model_at(other, local(DAY, 9)).learned.samples == 0  # not the first store's
    finally:
        other.close()


def test_learning_off_and_a_changed_table_count_at_once(store: Store) -> None:
    for k in range(12):
        visit(store, DAY - timedelta(days=1), "cash", 10 + k / 20, 7.0)
    assert model_at(store, local(DAY, 9)).service("cash", local(DAY, 10)) == near(7.0)
    history.configure(learning=False)
    with store.write() as s:
        row = s.get(BusinessTypeRow, "cash")
        assert row is not None
        row.service_minutes = 2.5
    off = model_at(store, local(DAY, 9))
    assert off.service("cash", local(DAY, 10)) == 2.5 and off.learned.handover == 0


# ---------------------------------------------------------------- rules, by property

durations = st.lists(st.floats(0.1, 179.0), min_size=1, max_size=60)


@given(durations)
def test_typical_lies_within_the_values(values: list[float]) -> None:
    stats: tuple[history.Statistic, ...] = ("mean", "trimmed", "median")
    for stat in stats:
        t = history.typical(values, stat)
        assert min(values) - 1e-9 <= t <= max(values) + 1e-9


@given(durations, st.floats(0.0, 200.0))
def test_residual_is_the_mean_of_what_is_left(values: list[float], u: float) -> None:
    shape = history._Shape.of(values)
    above = [v - u for v in values if v > u]
    expected = sum(above) / len(above) if above else 0.0
    assert shape.residual(u) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=60)
@given(
    st.sampled_from(["cash", "wealth", "no_such_code"]),
    st.floats(0.0, 24.0),
    st.floats(0.0, 600.0),
    st.lists(st.floats(0.2, 170.0), min_size=0, max_size=40),
)
def test_remaining_is_never_below_the_floor(
    code: str, called_hh: float, elapsed: float, past: list[float]
) -> None:
    shape = history._Shape.of([v / (sum(past) / len(past)) for v in past]) if past else None
    learned = history.LearnedTimes(
        DAY,
        1,
        len(past),
        {"cash": 4.0},
        {},
        {},
        {"cash": shape} if shape else {},
        0.3,
    )
    m = history.ServiceModel(ZoneInfo("Asia/Shanghai"), {"wealth": 15.0}, learned)
    called = local(DAY, called_hh)
    left = m.remaining(code, called, called + timedelta(minutes=elapsed))
    assert left >= history.FLOOR_MIN + 0.3
    if elapsed == 0:  # nothing known yet about this service: the typical time
        assert left == near(m.minutes(code, called))
