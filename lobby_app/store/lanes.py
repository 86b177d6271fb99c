"""The queue as the store holds it, read once for the calling rule (``core/queue.py``).

Everything that orders, counts or estimates the queue reads it here: the call at a window
(``store/teller.py``), the ticket's place and wait at issue and the lobby listing
(``store/commands.py``). So the listing, ``ahead``, the estimate and the call cannot differ.

Plain SQL on the ``sqlite3`` connection of the command's transaction (an ORM command passes
its session's: ``db.sql_of``): a ticket is issued without SQLAlchemy, and building a dozen
SQLAlchemy statements per ticket cost the hub more than running them (issue 17 items 5, 6).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol

from lobby_app.core.queue import (
    CASH_KINDS,
    Forecast,
    LaneOrders,
    QueuePolicy,
    Server,
    Waiting,
    forecast,
    green_streak,
    lane_of,
    lane_order,
)
from lobby_app.core.zones import Zone
from lobby_app.store.db import time_of

if TYPE_CHECKING:
    from lobby_app.store.setup import BranchSettings

ACTIVE = ("called", "serving")
STREAK_LOOKBACK = 50

# A window serves only while it is open and a teller is signed in at it (store/admin.py).
SERVING = "is_open = 1 and staff_no is not null and retired_at is null"


def cash_codes(con: sqlite3.Connection) -> frozenset[str]:
    """Business codes that are cash work (their VIP customers wait for a VIP cash counter)."""
    rows = con.execute("select code from business_type where category = 'cash'")
    return frozenset(code for (code,) in rows)


class CounterLike(Protocol):
    """What the calling rule needs of a window (an ORM ``Counter`` has it too)."""

    @property
    def window_no(self) -> int: ...
    @property
    def zones(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def vip_window(self) -> bool: ...
    @property
    def priority_window(self) -> bool: ...


@dataclass(frozen=True)
class CounterRow:
    """A serving window as ``serving_counters`` reads it."""

    window_no: int
    name: str
    zones: str
    kind: str
    vip_window: bool
    priority_window: bool


def counter_server(c: CounterLike, free_in_min: float = 0.0) -> Server:
    return Server(
        window=c.window_no,
        zones=tuple(Zone(z) for z in c.zones.split(",") if z),
        cash=c.kind in CASH_KINDS,
        vip_window=c.vip_window,
        priority_window=c.priority_window,
        free_in_min=free_in_min,
    )


_WAITING = (
    "select id, number, zone, green_channel, issued_at, day_seq, priority, business_code, "
    "assigned_window from ticket where business_date = ? and status = 'waiting'"
)


def waiting_tickets(con: sqlite3.Connection, bdate: date, cash: frozenset[str]) -> list[Waiting]:
    return [
        Waiting(
            tid,
            number,
            Zone(zone),
            bool(green),
            time_of(issued),
            day_seq,
            priority=priority is not None,
            cash=code in cash,
            assigned_window=assigned,
            business_code=code,
        )
        for tid, number, zone, green, issued, day_seq, priority, code, assigned in con.execute(
            _WAITING, (bdate.isoformat(),)
        )
    ]


_STREAKS = (
    "select zone, business_code, green_channel from ticket "
    "where business_date = ? and called_at is not null "
    "order by called_at desc, day_seq desc limit ?"
)


def lane_streaks(con: sqlite3.Connection, bdate: date, cash: frozenset[str]) -> dict[str, int]:
    """Green-channel calls in a row at the end of each lane's calls today."""
    recent: dict[str, list[bool]] = {}
    for zone, code, green in con.execute(_STREAKS, (bdate.isoformat(), STREAK_LOOKBACK * 5)):
        calls = recent.setdefault(lane_of(Zone(zone), code in cash), [])
        if len(calls) < STREAK_LOOKBACK:
            calls.append(bool(green))
    return {lane: green_streak(reversed(calls)) for lane, calls in recent.items()}


@dataclass(frozen=True)
class AtWindow:
    window: int
    business_code: str
    called_at: datetime


_SERVING_COUNTERS = (
    "select window_no, name, zones, kind, vip_window, priority_window from counter "
    f"where {SERVING} order by window_no"
)


def serving_counters(con: sqlite3.Connection) -> list[CounterRow]:
    return [
        CounterRow(window, name, zones, kind, bool(vip), bool(prio))
        for window, name, zones, kind, vip, prio in con.execute(_SERVING_COUNTERS)
    ]


_AT_WINDOWS = (
    "select window_no, business_code, called_at from ticket "
    f"where business_date = ? and status in {ACTIVE!r}"
)


def at_windows(con: sqlite3.Connection, bdate: date) -> dict[int, AtWindow]:
    out: dict[int, AtWindow] = {}
    for window, code, called in con.execute(_AT_WINDOWS, (bdate.isoformat(),)):
        if window is not None and called is not None:
            out[window] = AtWindow(window, code, time_of(called))
    return out


def counter_place(window: int, name: str) -> str:
    """The counter as the customer sees it: "3 号窗口", or its own name ("贵宾理财室")."""
    from lobby_app.core.i18n import tr

    plain = name.split("(")[0].split("（")[0].strip()
    if not plain or plain.startswith(str(window)) or "窗口" in plain:
        return tr(f"{window} 号窗口")
    return plain


def lane_places(
    con: sqlite3.Connection, counters: Iterable[CounterRow] | None = None
) -> dict[str, list[str]]:
    """For each lane, the counters open for it now, as the customer sees them (``counters``:
    the serving counters, when the caller has just read them in the same transaction)."""
    out: dict[str, list[str]] = {}
    for c in serving_counters(con) if counters is None else counters:
        for lane in counter_server(c).lanes:
            out.setdefault(lane, []).append(counter_place(c.window_no, c.name))
    return out


class ServiceTimes(Protocol):
    """Minutes a ticket keeps a window (learned from the branch's history: store/history.py)."""

    def minutes(self, business_code: str, at: datetime) -> float: ...

    def remaining(self, business_code: str, called_at: datetime, now: datetime) -> float: ...


class TableTimes:
    """The business table's typical minutes, for a branch without history."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._m = dict(con.execute("select code, service_minutes from business_type").fetchall())

    def minutes(self, business_code: str, at: datetime) -> float:
        return float(self._m.get(business_code, 5.0))

    def remaining(self, business_code: str, called_at: datetime, now: datetime) -> float:
        spent = (_aware(now) - _aware(called_at)).total_seconds() / 60
        return max(0.5, self.minutes(business_code, now) - spent)


def service_times(
    con: sqlite3.Connection, now: datetime, *, settings: BranchSettings | None = None
) -> ServiceTimes:
    """The service times to expect (``settings``: the branch's, when the caller has just
    read them in the same transaction)."""
    try:
        from lobby_app.store.history import service_model
    except ImportError:  # pragma: no cover - while history learning is not there
        return TableTimes(con)
    return service_model(con, now, settings=settings)


@dataclass
class QueueState:
    """The whole queue at one moment, as the calling rule needs it."""

    now: datetime
    waiting: list[Waiting]
    servers: list[Server]  # open windows with a teller, and when each is free
    streaks: dict[str, int]
    policy: QueuePolicy
    times: ServiceTimes

    def minutes(self, t: Waiting) -> float:
        return self.times.minutes(t.business_code, self.now)

    def orders(self) -> LaneOrders:
        return lane_order(self.waiting, self.streaks, self.policy)

    def forecast(self, extra: Sequence[Waiting] = ()) -> Forecast:
        return forecast(
            [*self.waiting, *extra], self.servers, self.streaks, self.policy, self.minutes
        )


def queue_state(
    con: sqlite3.Connection,
    bdate: date,
    now: datetime,
    policy: QueuePolicy,
    *,
    times: ServiceTimes | None = None,
    counters: Iterable[CounterRow] | None = None,
) -> QueueState:
    """The queue now (``counters``: the serving counters, when the caller has just read
    them in the same transaction)."""
    cash = cash_codes(con)
    times = times or service_times(con, now)
    current = at_windows(con, bdate)
    servers = []
    for c in serving_counters(con) if counters is None else counters:
        here = current.get(c.window_no)
        free_in = times.remaining(here.business_code, here.called_at, now) if here else 0.0
        servers.append(counter_server(c, free_in))
    return QueueState(
        now=now,
        waiting=waiting_tickets(con, bdate, cash),
        servers=servers,
        streaks=lane_streaks(con, bdate, cash),
        policy=policy,
        times=times,
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_RECENT = (
    "select ticket.number, ticket.window_no, counter.name from ticket "
    "left outer join counter on counter.window_no = ticket.window_no "
    "where ticket.business_date = ? and ticket.called_at is not null "
    "and ticket.window_no is not null order by ticket.called_at desc limit ?"
)


def recent_calls(con: sqlite3.Connection, day: date, limit: int = 6) -> list[dict[str, object]]:
    """The day's latest calls, newest first, as the calling display lists them: number,
    window and the window as the customer sees it. Numbers only: nothing personal."""
    return [
        {"number": number, "window": window, "place": counter_place(window, name or "")}
        for number, window, name in con.execute(_RECENT, (day.isoformat(), limit))
        if window is not None
    ]
