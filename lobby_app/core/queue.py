"""Who is served next: lanes, the green channel with its bound, and which window calls what.

One rule, used by the call (``pick_for_window``), the queue listing (``lane_order``), the
number of people ahead and the wait forecast (``forecast``), so what the lobby is told is
what the windows do.

Lanes. A ticket waits in the lane of its zone; the VIP area has two lanes, VIP cash work
(``vip_cash``, served at a VIP cash counter) and VIP non-cash work (``vip``, the VIP room),
because a cash counter and a wealth room cannot serve each other's customers (003
第二十四条, DOMAIN.md "Zones").

Order within a lane (DOMAIN.md "The green channel and priority"): green-channel tickets
(VIP and priority) before ordinary ones; within the green channel, priority customers
(老、弱、病、残、孕, military by law) before VIPs, first come first served within each class;
but after ``green_run`` green-channel calls in a row in a lane, if an ordinary customer is
waiting, the longest-waiting ordinary customer is called next. So an ordinary customer waits
behind at most ``green_run`` green-channel customers between two ordinary calls of the lane,
whichever windows make the calls. The streak is counted per lane, not per window.

Which lane a window calls from. Every window takes the head of one of its lanes (so each
lane is called exactly in its listed order); only the choice of lane differs:
- a VIP green-channel window (VIP绿色通道窗口) takes its VIP lane first, then any of its lanes
  whose head is a green-channel customer, then its lanes in order;
- a priority window (爱心窗口) takes any of its lanes whose head is a priority customer first;
- every window otherwise serves its zones in its order of preference (home zone first).
A customer transferred to a particular window is called by that window before anything else.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lobby_app.core.zones import Zone

VIP_CASH_LANE = "vip_cash"
VIP_LANE = Zone.VIP.value
LANES: tuple[str, ...] = (
    Zone.CLOSED_COUNTER.value,
    Zone.OPEN_COUNTER.value,
    Zone.SELF_SERVICE.value,
    VIP_LANE,
    VIP_CASH_LANE,
)
# Counter kinds that handle cash (store/admin.py, core/staffing.py COUNTER_KINDS).
CASH_KINDS = frozenset({"closed_cash", "vip_cash"})


def lane_of(zone: Zone, cash: bool) -> str:
    """The lane a ticket of ``zone`` waits in; ``cash`` is whether its business is cash work."""
    return VIP_CASH_LANE if zone is Zone.VIP and cash else zone.value


def lane_zone(lane: str) -> Zone:
    return Zone.VIP if lane == VIP_CASH_LANE else Zone(lane)


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
    priority: bool = False  # a priority (爱心) customer: first within the green channel
    cash: bool = False  # cash work: in the VIP area, waits for a VIP cash counter
    assigned_window: int | None = None  # transferred to this window: called by it only
    business_code: str = ""

    @property
    def lane(self) -> str:
        return lane_of(self.zone, self.cash)


@dataclass(frozen=True)
class Server:
    """A window as the calling rule sees it: what it serves and when it is free."""

    window: int
    zones: tuple[Zone, ...]  # in order of preference, home zone first
    cash: bool = True  # handles cash: its VIP lane is the VIP cash lane
    vip_window: bool = False
    priority_window: bool = False
    free_in_min: float = 0.0  # minutes until the customer at it now is done

    @property
    def lanes(self) -> tuple[str, ...]:
        return tuple(lane_of(z, self.cash) for z in self.zones)


def _arrival(t: Waiting) -> tuple[datetime, int]:
    return (t.issued_at, t.seq)


def _green_key(t: Waiting) -> tuple[int, datetime, int]:
    return (0 if t.priority else 1, t.issued_at, t.seq)


def green_streak(recent_calls_green: Iterable[bool]) -> int:
    """Green-channel calls in a row at the end of a lane's call history (oldest first)."""
    streak = 0
    for green in recent_calls_green:
        streak = streak + 1 if green else 0
    return streak


def pick_next(waiting: Sequence[Waiting], streak: int, policy: QueuePolicy) -> Waiting | None:
    """The head of one lane: the ticket it calls next given the lane's current streak."""
    green = min((t for t in waiting if t.green_channel), key=_green_key, default=None)
    ordinary = min((t for t in waiting if not t.green_channel), key=_arrival, default=None)
    if green is None:
        return ordinary
    if ordinary is None:
        return green
    return ordinary if streak >= policy.green_run else green


def serving_order(
    waiting: Sequence[Waiting], streak: int = 0, policy: QueuePolicy | None = None
) -> list[Waiting]:
    """All of one lane's waiting tickets in the order they will be called."""
    policy = policy or QueuePolicy()
    green = sorted((t for t in waiting if t.green_channel), key=_green_key)
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


@dataclass
class LaneOrders:
    """Every lane's tickets in calling order, and the tickets kept for one window."""

    lanes: dict[str, list[Waiting]] = field(default_factory=dict)
    assigned: dict[int, list[Waiting]] = field(default_factory=dict)


def lane_order(
    waiting: Sequence[Waiting], streaks: Mapping[str, int], policy: QueuePolicy
) -> LaneOrders:
    by_lane: dict[str, list[Waiting]] = {}
    out = LaneOrders()
    for t in waiting:
        if t.assigned_window is not None:
            out.assigned.setdefault(t.assigned_window, []).append(t)
        else:
            by_lane.setdefault(t.lane, []).append(t)
    for lane, tickets in by_lane.items():
        out.lanes[lane] = serving_order(tickets, streaks.get(lane, 0), policy)
    for tickets in out.assigned.values():
        tickets.sort(key=_arrival)
    return out


def choose_lane(server: Server, heads: Mapping[str, Waiting]) -> str | None:
    """Which of its lanes a window calls from, given each lane's head."""
    lanes = [lane for lane in server.lanes if lane in heads]
    if not lanes:
        return None
    if server.vip_window:
        for lane in lanes:
            if lane in (VIP_LANE, VIP_CASH_LANE):
                return lane
        for lane in lanes:
            if heads[lane].green_channel:
                return lane
    if server.priority_window:
        for lane in lanes:
            if heads[lane].priority:
                return lane
    return lanes[0]


def pick_for_window(
    waiting: Sequence[Waiting],
    server: Server,
    streaks: Mapping[str, int],
    policy: QueuePolicy,
) -> Waiting | None:
    """The ticket ``server`` calls next among everything waiting today."""
    mine = [t for t in waiting if t.assigned_window == server.window]
    if mine:
        return min(mine, key=_arrival)
    lanes = set(server.lanes)
    by_lane: dict[str, list[Waiting]] = {}
    for t in waiting:
        if t.assigned_window is None and t.lane in lanes:
            by_lane.setdefault(t.lane, []).append(t)
    heads = {}
    for lane, tickets in by_lane.items():
        head = pick_next(tickets, streaks.get(lane, 0), policy)
        if head is not None:
            heads[lane] = head
    chosen = choose_lane(server, heads)
    return heads[chosen] if chosen is not None else None


def served_lanes(servers: Iterable[Server]) -> frozenset[str]:
    """The lanes at least one of ``servers`` (the open, staffed windows) calls from."""
    return frozenset(lane for s in servers for lane in s.lanes)


@dataclass(frozen=True)
class Forecast:
    """Minutes from now until each ticket is called, as the windows will call them."""

    call_in_min: dict[str, float]

    def wait(self, ticket_id: str) -> float | None:
        return self.call_in_min.get(ticket_id)


def forecast(
    waiting: Sequence[Waiting],
    servers: Sequence[Server],
    streaks: Mapping[str, int],
    policy: QueuePolicy,
    minutes: Callable[[Waiting], float],
) -> Forecast:
    """Play the calling rule forward with nobody new arriving: the window free first calls
    next, by ``pick_for_window``; each ticket keeps its window for ``minutes(ticket)``.
    A ticket no open window serves gets no figure."""
    orders = lane_order(waiting, streaks, policy)
    lanes = {lane: list(reversed(tickets)) for lane, tickets in orders.lanes.items()}
    assigned = {w: list(reversed(tickets)) for w, tickets in orders.assigned.items()}
    heap = [(max(0.0, s.free_in_min), i) for i, s in enumerate(servers)]
    heapq.heapify(heap)
    out: dict[str, float] = {}
    while heap:
        at, i = heapq.heappop(heap)
        server = servers[i]
        kept = assigned.get(server.window)
        if kept:
            pick = kept.pop()
        else:
            heads = {lane: tickets[-1] for lane, tickets in lanes.items() if tickets}
            lane = choose_lane(server, heads)
            if lane is None:
                continue  # nothing this window serves is left: it calls nobody more
            pick = lanes[lane].pop()
        out[pick.ticket_id] = at
        heapq.heappush(heap, (at + max(0.0, minutes(pick)), i))
    return Forecast(out)


def ahead_in_order(orders: LaneOrders, ticket: Waiting) -> int:
    """How many tickets of the same queue are called before ``ticket``."""
    if ticket.assigned_window is not None:
        tickets = orders.assigned.get(ticket.assigned_window, [])
    else:
        tickets = orders.lanes.get(ticket.lane, [])
    ids = [t.ticket_id for t in tickets]
    return ids.index(ticket.ticket_id) if ticket.ticket_id in ids else 0


def estimate_wait_min(ahead_service_minutes: Sequence[float], servers: int) -> int:
    """The naive estimate (the work queued ahead shared among the open windows), kept for
    a queue no window serves, and as the benchmark's baseline."""
    if not ahead_service_minutes:
        return 0
    return math.ceil(sum(ahead_service_minutes) / max(servers, 1))


def round_wait(minutes: float) -> int:
    return max(0, round(minutes))


def lanes_without_server(lanes: Collection[str], servers: Iterable[Server]) -> set[str]:
    return set(lanes) - served_lanes(servers)


def format_number(prefix: str, seq: int) -> str:
    """``A001`` .. ``A999``, then ``A1000``: never wraps, so never reused in a day."""
    return f"{prefix}{seq:03d}"
