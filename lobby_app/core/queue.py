"""Who is served next in a zone: the green channel first, but never without bound.

The rule (a branch setting, ``QueuePolicy.green_run``): green-channel tickets (VIP and
priority) are served ahead of ordinary ones, first come first served within each class;
but after ``green_run`` green-channel calls in a row in a zone, if an ordinary customer is
waiting, the longest-waiting ordinary customer is called next. So an ordinary customer
waits behind at most ``green_run`` green-channel customers between two ordinary calls,
however busy the green channel is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from lobby_app.core.zones import Zone


@dataclass(frozen=True)
class QueuePolicy:
    green_run: int = 3

    def __post_init__(self) -> None:
        if self.green_run < 1:
            raise ValueError("green_run must be at least 1")


@dataclass(frozen=True)
class Waiting:
    """A waiting ticket as the ordering rule sees it."""

    ticket_id: str
    number: str
    zone: Zone
    green_channel: bool
    issued_at: datetime
    seq: int  # issue order within the day, breaks ties between equal times


def _arrival(t: Waiting) -> tuple[datetime, int]:
    return (t.issued_at, t.seq)


def green_streak(recent_calls_green: Iterable[bool]) -> int:
    """Green-channel calls in a row at the end of a zone's call history (oldest first)."""
    streak = 0
    for green in recent_calls_green:
        streak = streak + 1 if green else 0
    return streak


def pick_next(waiting: Sequence[Waiting], streak: int, policy: QueuePolicy) -> Waiting | None:
    """The ticket to call next among ``waiting`` (one zone), given the current streak."""
    green = min((t for t in waiting if t.green_channel), key=_arrival, default=None)
    ordinary = min((t for t in waiting if not t.green_channel), key=_arrival, default=None)
    if green is None:
        return ordinary
    if ordinary is None:
        return green
    return ordinary if streak >= policy.green_run else green


def serving_order(
    waiting: Sequence[Waiting], streak: int = 0, policy: QueuePolicy | None = None
) -> list[Waiting]:
    """All of a zone's waiting tickets in the order they will be called if nobody else comes."""
    policy = policy or QueuePolicy()
    green = sorted((t for t in waiting if t.green_channel), key=_arrival)
    ordinary = sorted((t for t in waiting if not t.green_channel), key=_arrival)
    order: list[Waiting] = []
    gi = oi = 0
    while gi < len(green) or oi < len(ordinary):
        take_green = gi < len(green) and (oi >= len(ordinary) or streak < policy.green_run)
        if take_green:
            order.append(green[gi])
            gi += 1
            streak += 1
        else:
            order.append(ordinary[oi])
            oi += 1
            streak = 0
    return order


def pick_for_window(
    waiting: Sequence[Waiting],
    zones: Sequence[Zone],
    streak: int,
    policy: QueuePolicy,
    *,
    vip_window: bool = False,
) -> Waiting | None:
    """The ticket a window calls next among the zones it serves.

    A VIP green-channel window (VIP绿色通道窗口) is dedicated to the green channel: it serves
    the VIP area's tickets first, then any other green-channel ticket, then the rule below.
    Every other window (a priority window 爱心窗口 included) follows the zone rule across its
    zones, with ``streak`` counted at this window: green channel first, yet an ordinary
    customer after ``green_run`` green calls, so nobody waits without bound.
    """
    candidates = [t for t in waiting if t.zone in zones]
    green = [t for t in candidates if t.green_channel]
    if vip_window:
        vip = [t for t in green if t.zone is Zone.VIP]
        if vip or green:
            return min(vip or green, key=_arrival)
    return pick_next(candidates, streak, policy)


def estimate_wait_min(ahead_service_minutes: Sequence[float], servers: int) -> int:
    """Minutes until service: the work queued ahead shared among the open windows."""
    if not ahead_service_minutes:
        return 0
    return math.ceil(sum(ahead_service_minutes) / max(servers, 1))


def format_number(prefix: str, seq: int) -> str:
    """``A001`` .. ``A999``, then ``A1000``: never wraps, so never reused in a day."""
    return f"{prefix}{seq:03d}"
