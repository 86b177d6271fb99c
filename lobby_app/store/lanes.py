"""The queue as the store holds it, read once for the calling rule (``core/queue.py``).

Everything that orders, counts or estimates the queue reads it here: the call at a window
(``store/teller.py``), the ticket's place and wait at issue and the lobby listing
(``store/commands.py``). So the listing, ``ahead``, the estimate and the call cannot differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from lobby_app.models import BusinessTypeRow, Counter, Ticket

ACTIVE = ("called", "serving")
STREAK_LOOKBACK = 50

# A window serves only while it is open and a teller is signed in at it (store/admin.py).
SERVING = (Counter.is_open.is_(True), Counter.staff_no.is_not(None), Counter.retired_at.is_(None))


def cash_codes(s: Session) -> frozenset[str]:
    """Business codes that are cash work (their VIP customers wait for a VIP cash counter)."""
    return frozenset(
        s.scalars(select(BusinessTypeRow.code).where(BusinessTypeRow.category == "cash"))
    )


def counter_server(c: Counter, free_in_min: float = 0.0) -> Server:
    return Server(
        window=c.window_no,
        zones=tuple(Zone(z) for z in c.zones.split(",") if z),
        cash=c.kind in CASH_KINDS,
        vip_window=c.vip_window,
        priority_window=c.priority_window,
        free_in_min=free_in_min,
    )


def waiting_tickets(s: Session, bdate: date, cash: frozenset[str]) -> list[Waiting]:
    rows = s.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.zone,
            Ticket.green_channel,
            Ticket.issued_at,
            Ticket.day_seq,
            Ticket.priority,
            Ticket.business_code,
            Ticket.assigned_window,
        ).where(Ticket.business_date == bdate, Ticket.status == "waiting")
    )
    return [
        Waiting(
            r.id,
            r.number,
            Zone(r.zone),
            r.green_channel,
            r.issued_at,
            r.day_seq,
            priority=r.priority is not None,
            cash=r.business_code in cash,
            assigned_window=r.assigned_window,
            business_code=r.business_code,
        )
        for r in rows
    ]


def lane_streaks(s: Session, bdate: date, cash: frozenset[str]) -> dict[str, int]:
    """Green-channel calls in a row at the end of each lane's calls today."""
    recent: dict[str, list[bool]] = {}
    for zone, code, green in s.execute(
        select(Ticket.zone, Ticket.business_code, Ticket.green_channel)
        .where(Ticket.business_date == bdate, Ticket.called_at.is_not(None))
        .order_by(Ticket.called_at.desc(), Ticket.day_seq.desc())
        .limit(STREAK_LOOKBACK * 5)
    ):
        calls = recent.setdefault(lane_of(Zone(zone), code in cash), [])
        if len(calls) < STREAK_LOOKBACK:
            calls.append(green)
    return {lane: green_streak(reversed(calls)) for lane, calls in recent.items()}


@dataclass(frozen=True)
class AtWindow:
    window: int
    business_code: str
    called_at: datetime


def serving_counters(s: Session) -> list[Counter]:
    return list(s.scalars(select(Counter).where(*SERVING).order_by(Counter.window_no)))


def at_windows(s: Session, bdate: date) -> dict[int, AtWindow]:
    out: dict[int, AtWindow] = {}
    for window, code, called in s.execute(
        select(Ticket.window_no, Ticket.business_code, Ticket.called_at).where(
            Ticket.business_date == bdate, Ticket.status.in_(ACTIVE)
        )
    ):
        if window is not None and called is not None:
            out[window] = AtWindow(window, code, called)
    return out


def counter_place(window: int, name: str) -> str:
    """The counter as the customer sees it: "3 号窗口", or its own name ("贵宾理财室")."""
    from lobby_app.core.i18n import tr

    plain = name.split("(")[0].split("（")[0].strip()
    if not plain or plain.startswith(str(window)) or "窗口" in plain:
        return tr(f"{window} 号窗口")
    return plain


def lane_places(s: Session) -> dict[str, list[str]]:
    """For each lane, the counters open for it now, as the customer sees them."""
    out: dict[str, list[str]] = {}
    for c in serving_counters(s):
        for lane in counter_server(c).lanes:
            out.setdefault(lane, []).append(counter_place(c.window_no, c.name))
    return out


class ServiceTimes(Protocol):
    """Minutes a ticket keeps a window (learned from the branch's history: store/history.py)."""

    def minutes(self, business_code: str, at: datetime) -> float: ...

    def remaining(self, business_code: str, called_at: datetime, now: datetime) -> float: ...


class TableTimes:
    """The business table's typical minutes, for a branch without history."""

    def __init__(self, s: Session) -> None:
        self._m = dict(
            s.execute(select(BusinessTypeRow.code, BusinessTypeRow.service_minutes)).tuples()
        )

    def minutes(self, business_code: str, at: datetime) -> float:
        return float(self._m.get(business_code, 5.0))

    def remaining(self, business_code: str, called_at: datetime, now: datetime) -> float:
        spent = (_aware(now) - _aware(called_at)).total_seconds() / 60
        return max(0.5, self.minutes(business_code, now) - spent)


def service_times(s: Session, now: datetime) -> ServiceTimes:
    try:
        from lobby_app.store.history import service_model
    except ImportError:  # pragma: no cover - while history learning is not there
        return TableTimes(s)
    return service_model(s, now)


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
    s: Session,
    bdate: date,
    now: datetime,
    policy: QueuePolicy,
    *,
    times: ServiceTimes | None = None,
) -> QueueState:
    cash = cash_codes(s)
    times = times or service_times(s, now)
    current = at_windows(s, bdate)
    servers = []
    for c in serving_counters(s):
        here = current.get(c.window_no)
        free_in = times.remaining(here.business_code, here.called_at, now) if here else 0.0
        servers.append(counter_server(c, free_in))
    return QueueState(
        now=now,
        waiting=waiting_tickets(s, bdate, cash),
        servers=servers,
        streaks=lane_streaks(s, bdate, cash),
        policy=policy,
        times=times,
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def recent_calls(s: Session, day: date, limit: int = 6) -> list[dict[str, object]]:
    """The day's latest calls, newest first, as the calling display lists them: number,
    window and the window as the customer sees it. Numbers only: nothing personal."""
    rows = s.execute(
        select(Ticket.number, Ticket.window_no, Counter.name)
        .outerjoin(Counter, Counter.window_no == Ticket.window_no)
        .where(
            Ticket.business_date == day,
            Ticket.called_at.is_not(None),
            Ticket.window_no.is_not(None),
        )
        .order_by(Ticket.called_at.desc())
        .limit(limit)
    )
    return [
        {"number": number, "window": window, "place": counter_place(window, name or "")}
        for number, window, name in rows
        if window is not None
    ]
