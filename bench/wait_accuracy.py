"""How far the wait promised at issue is from the wait that followed (issue 15, item 6).

Busy days on the demo branch are played through the real store commands (``issue_ticket``,
``call_next``, ``start``, ``finish``, ``no_show``, ``set_window_open``, each given the
simulated time): arrivals by hour with a morning and an afternoon peak, a business mix,
lognormal service times per business that differ from the business table (as a real
branch's do), VIP and priority customers, customers who leave before they are called
(no-shows), windows opening late, closing for lunch and for the afternoon settlement, and
tellers who now and then step away without pressing finish. A few ordinary days are played
first, so the branch has history to learn service times from; then busy days are measured:
for every ticket, the wait and the place in the queue the ticket promised at issue
(``IssuedTicket.estimated_wait_min`` and ``ahead``) against what followed (first call −
issue; the tickets of the same queue called before it).

Beside the product's estimate: the naive one (queue length × mean service ÷ open windows,
from the same lobby at issue) and the product with history learning off (the same days
replayed with ``history.configure(learning=False)``; a replay is identical but for the
estimates, which is checked).

    python -m bench.wait_accuracy [--history-days 10] [--days 3] [--seed 7] [--statistics]
    python -m bench.wait_accuracy --short [--seed 1]    # the test's short days (~15 s)
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import math
import random
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.common import machine
from lobby_app.core.business import DEFAULT_BUSINESS_TYPES, PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.zones import Zone
from lobby_app.models import Counter, Customer, Ticket
from lobby_app.store import Store, commands, history, teller
from lobby_app.store.commands import IssueRequest
from lobby_app.store.demo import DEMO_WINDOW_STAFF, seed_demo

TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY = date(2026, 3, 2)  # a Monday; the history days come first, then the measured days
# every window opens at 09:00; the day ends when everyone who came has been called
OPEN = clock(9, 0)

# Arrivals per hour on a busy day (a morning and an afternoon peak); ordinary history days
# draw a volume of 75-100 % of it, measured busy days 100-110 %.
BUSY_ARRIVALS = {9: 50, 10: 78, 11: 72, 12: 45, 13: 48, 14: 72, 15: 66, 16: 46}

# What ordinary (non-VIP) customers come for, by weight.
ORDINARY_MIX = (
    ("cash", 40.0),
    ("remit_cash", 8.0),
    ("exchange_notes", 3.0),
    ("large_cash", 2.0),
    ("open_account", 1.5),
    ("close_account", 1.0),
    ("card", 3.5),
    ("wealth", 1.5),
    ("loan", 0.5),
    ("corporate", 1.0),
    ("fx", 0.7),
    ("ebank_signup", 1.3),
    ("transfer", 5.0),
    ("self_service", 6.0),
    ("query", 4.0),
)
VIP_MIX = (
    ("wealth", 40.0),
    ("cash", 25.0),
    ("remit_cash", 10.0),
    ("card", 10.0),
    ("fx", 8.0),
    ("loan", 7.0),
)

# What this branch's services really take on average (minutes at the counter, after the
# customer has walked up); the business table's defaults are round figures that differ.
TRUE_SERVICE = {
    "cash": 3.3,
    "remit_cash": 7.5,
    "exchange_notes": 4.0,
    "large_cash": 12.0,
    "open_account": 14.0,
    "close_account": 9.0,
    "card": 9.5,
    "wealth": 19.0,
    "loan": 24.0,
    "corporate": 13.0,
    "fx": 11.0,
    "ebank_signup": 7.0,
    "transfer": 2.2,
    "self_service": 2.6,
    "query": 2.0,
}
SIGMA = 0.55  # lognormal spread of one service around its business's mean
# the same work is slower or quicker by the hour: the opening hour's checks, lunch relief
# staff, the rush before closing
HOUR_PACE = {9: 1.12, 10: 0.95, 11: 0.95, 12: 1.15, 13: 1.05, 14: 0.95, 15: 0.95, 16: 1.05}

VIP_SHARE = 0.05  # arrivals who are VIP customers of the directory
PRIORITY_SHARE = 0.06  # ordinary arrivals the lobby manager flags for priority
IDENTIFIED_SHARE = 0.40  # ordinary arrivals identified from the directory
BASE_NO_SHOW = 0.02  # called but did not hear or stepped out
PATIENCE_MEDIAN_MIN = 45.0  # a customer waiting longer than their patience has left
BREAK_SHARE = 0.012  # a teller steps away after a service without pressing finish
# window, local time, opens (True) or pauses (False)
WINDOW_PLAN = (
    (5, clock(9, 0), False),  # morning meeting
    (5, clock(9, 30), True),
    (3, clock(11, 30), False),  # lunch in turns
    (3, clock(12, 30), True),
    (6, clock(12, 0), False),
    (6, clock(13, 0), True),
    (2, clock(12, 30), False),
    (2, clock(13, 30), True),
    (1, clock(16, 30), False),  # settlement (轧账)
)
ZONES = (Zone.CLOSED_COUNTER, Zone.OPEN_COUNTER, Zone.VIP, Zone.SELF_SERVICE)


@dataclass(frozen=True)
class Arrival:
    at: datetime
    business: str
    customer_id: str | None
    priority: PriorityKind | None
    service_factor: float  # lognormal draw, mean 1
    walk_s: float  # from the call to the window
    patience_min: float
    deaf: bool  # a no-show whatever the wait


@dataclass
class Record:
    """One ticket: what was promised at issue and what happened."""

    ticket_id: str
    number: str
    zone: Zone
    green: bool
    issued_at: datetime
    estimate: int
    ahead: int
    naive: float
    queue_len: int
    open_windows: int
    wait: float | None = None  # minutes from issue to the first call
    ahead_actual: int | None = None  # same-queue tickets first called in between
    ahead_waiting: int | None = None  # of those, the ones already waiting at issue


@dataclass
class Day:
    business_date: date
    records: list[Record] = field(default_factory=list)
    issued: int = 0
    no_shows: int = 0
    breaks: int = 0
    issue_s: list[float] = field(default_factory=list)
    # at each issue, each window's customer: (business, called at, now, window free at)
    at_windows: list[tuple[str, datetime, datetime, datetime]] = field(default_factory=list)


# ---------------------------------------------------------------- the branch


def demo_branch(folder: Path, customers: int = 2000) -> Store:
    store = Store.open(folder)
    # the demo's few past visits go after the simulated dates, out of the history
    seed_demo(store, customers=customers, today=date(2027, 1, 4))
    return store


def business_days(first: date, n: int) -> list[date]:
    out: list[date] = []
    d = first
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def _local(day: date, hh: float) -> datetime:
    return datetime.combine(day, clock(0), TZ) + timedelta(hours=hh)


def arrivals(
    rng: random.Random,
    day: date,
    volume: float,
    people: dict[str, list[str]],
    hours: Sequence[int],
) -> list[Arrival]:
    """The day's customers, drawn before anything is played, so that a replay of the same
    day meets the same customers whatever the product answers."""
    out: list[Arrival] = []
    codes, weights = zip(*ORDINARY_MIX, strict=True)
    vcodes, vweights = zip(*VIP_MIX, strict=True)
    mu = -SIGMA * SIGMA / 2  # lognormal with mean 1
    for hour in hours:
        n = _poisson(rng, BUSY_ARRIVALS[hour] * volume)
        for at in sorted(rng.random() for _ in range(n)):
            roll = rng.random()
            prio = None
            if roll < VIP_SHARE and people["vip"]:
                who: str | None = rng.choice(people["vip"])
                code = rng.choices(vcodes, vweights)[0]
            else:
                who = rng.choice(people["other"]) if rng.random() < IDENTIFIED_SHARE else None
                code = rng.choices(codes, weights)[0]
                if rng.random() < PRIORITY_SHARE:
                    prio = rng.choice(
                        (PriorityKind.ELDERLY,) * 3
                        + (PriorityKind.PREGNANT, PriorityKind.DISABLED, PriorityKind.MILITARY)
                    )
            out.append(
                Arrival(
                    at=_local(day, hour + at),
                    business=code,
                    customer_id=who,
                    priority=prio,
                    service_factor=rng.lognormvariate(mu, SIGMA),
                    walk_s=rng.uniform(15, 60),
                    patience_min=rng.lognormvariate(math.log(PATIENCE_MEDIAN_MIN), 0.5),
                    deaf=rng.random() < BASE_NO_SHOW,
                )
            )
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    # sum of exponential gaps; lam is at most a few dozen
    n, t = 0, rng.expovariate(1.0)
    while t < lam:
        n += 1
        t += rng.expovariate(1.0)
    return n


def directory(store: Store) -> dict[str, list[str]]:
    with store.read() as s:
        rows = s.execute(
            select(Customer.id, Customer.tier, Customer.vip_card).order_by(Customer.customer_no)
        ).all()
    vip = {r.id for r in rows if r.tier == "mid_high" or r.vip_card}
    return {
        "vip": [r.id for r in rows if r.id in vip],
        "other": [r.id for r in rows if r.id not in vip],
    }


# ---------------------------------------------------------------- one day


def play_day(
    store: Store,
    day: date,
    *,
    seed: int,
    volume: float,
    hours: Sequence[int] = tuple(BUSY_ARRIVALS),
    measure: bool = True,
    naive_service: dict[Zone, float] | None = None,
) -> Day:
    """Play one day through the store commands; with ``measure``, record every ticket."""
    rng = random.Random(f"{seed}-{day.isoformat()}")
    people = directory(store)
    visitors = arrivals(rng, day, volume, people, hours)
    with store.read() as s:
        windows = {c.window_no: c.zones.split(",") for c in s.scalars(select(Counter))}
    staff = {w: DEMO_WINDOW_STAFF.get(w, f"W{w:02d}") for w in windows}
    out = Day(day)
    events: list[tuple[datetime, int, str, Any]] = []
    order = 0

    def push(at: datetime, kind: str, data: Any = None) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, data))

    for i, a in enumerate(visitors):
        push(a.at, "arrive", i)
    day_end = _local(day, max(hours) + 1)
    for w, at, is_open in WINDOW_PLAN:
        when = _local(day, at.hour + at.minute / 60)
        if w in windows and when < day_end:
            push(when, "open" if is_open else "pause", w)
    # every window is open and signed in at the start of a day
    for w in windows:
        teller.set_window_open(store, w, True, actor=staff[w], now=_local(day, OPEN.hour))
    busy: dict[int, tuple[str, int]] = {}  # window -> (number, visitor index)
    unfinished: set[int] = set()  # windows whose teller stepped away without finish
    paused: set[int] = set()
    pending: set[int] = set()  # windows with a call already scheduled
    visitor_of: dict[str, int] = {}
    issued_at: dict[str, datetime] = {}
    called_at: dict[int, datetime] = {}
    calls: dict[int, int] = defaultdict(int)  # window -> calls so far
    free_at: dict[tuple[int, int], datetime] = {}  # (window, call) -> the window free again
    seen: list[tuple[int, int, str, datetime, datetime]] = []  # window, call, business, ...

    def wake(now: datetime, w: int, delay_s: float) -> None:
        if w not in busy and w not in paused and w not in pending:
            pending.add(w)
            push(now + timedelta(seconds=delay_s), "call", w)

    while events:
        now, _, kind, data = heapq.heappop(events)
        if kind == "arrive":
            a = visitors[data]
            t0 = time.perf_counter()
            issued = commands.issue_ticket(
                store,
                IssueRequest(
                    a.business, customer_id=a.customer_id, priority=a.priority, actor="L01"
                ),
                now=now,
            )
            out.issue_s.append(time.perf_counter() - t0)
            out.issued += 1
            visitor_of[issued.number] = data
            issued_at[issued.number] = now
            if measure:
                out.records.append(_record(store, issued, now, naive_service or {}))
                for w, (_, i) in busy.items():
                    seen.append((w, calls[w], visitors[i].business, called_at[w], now))
            for w in windows:  # an idle teller sees the new number on the lobby display
                wake(now, w, rng.uniform(10, 30))
        elif kind == "call":
            w = data
            pending.discard(w)
            if w in busy or w in paused:
                continue
            if w in unfinished:  # back from a break: the window was held until now
                free_at[(w, calls[w])] = now
            try:
                got = teller.call_next(store, w, actor=staff[w], now=now)
            except LobbyError as exc:
                if exc.code != "queue_empty":
                    raise
                if w in unfinished:  # back from the break, nobody waiting: press finish
                    teller.finish(store, w, actor=staff[w], now=now)
                unfinished.discard(w)
                continue  # idle until the next arrival
            unfinished.discard(w)
            i = visitor_of[got.number]
            busy[w] = (got.number, i)
            calls[w] += 1
            called_at[w] = now
            a = visitors[i]
            waited = (now - issued_at[got.number]).total_seconds() / 60
            if a.deaf or waited > a.patience_min:
                # the teller calls again once or twice before passing the number
                push(now + timedelta(seconds=rng.uniform(60, 120)), "no_show", w)
            else:
                push(now + timedelta(seconds=a.walk_s), "start", w)
        elif kind == "start":
            w = data
            teller.start(store, w, actor=staff[w], now=now)
            a = visitors[busy[w][1]]
            pace = HOUR_PACE.get(now.astimezone(TZ).hour, 1.0)
            took = max(0.5, TRUE_SERVICE[a.business] * a.service_factor * pace)
            push(now + timedelta(minutes=took), "finish", w)
        elif kind == "finish":
            w = data
            busy.pop(w)
            if w not in paused and rng.random() < BREAK_SHARE:
                # stepped away; the next call_next finishes the ticket on the way back
                out.breaks += 1
                unfinished.add(w)  # free_at is set when the teller is back
                pending.add(w)
                push(now + timedelta(minutes=rng.uniform(8, 25)), "call", w)
                continue
            teller.finish(store, w, actor=staff[w], now=now)
            free_at[(w, calls[w])] = now
            wake(now, w, rng.uniform(10, 40))
        elif kind == "no_show":
            w = data
            teller.no_show(store, w, actor=staff[w], now=now)
            free_at[(w, calls[w])] = now
            out.no_shows += 1
            busy.pop(w)
            wake(now, w, rng.uniform(10, 40))
        elif kind == "pause":
            paused.add(data)
            teller.set_window_open(store, data, False, actor=staff[data], now=now)
        elif kind == "open":
            paused.discard(data)
            teller.set_window_open(store, data, True, actor=staff[data], now=now)
            wake(now, data, 0)
    if measure:
        _settle(store, out)
        out.at_windows = [
            (code, called, now, free_at[(w, n)])
            for w, n, code, called, now in seen
            if (w, n) in free_at
        ]
    return out


def _record(store: Store, issued: Any, now: datetime, naive_service: dict[Zone, float]) -> Record:
    """The lobby as the ticket saw it: the naive estimate from the same state."""
    zone: Zone = issued.zone
    with store.read() as s:
        waiting = s.scalar(
            select(func.count()).where(
                Ticket.business_date == issued.business_date,
                Ticket.zone == zone.value,
                Ticket.status == "waiting",
            )
        )
    queue_len = int(waiting or 0) - 1  # not counting the new ticket itself
    windows = commands.open_window_count(store, zone)
    naive = queue_len * naive_service.get(zone, 5.0) / max(windows, 1)
    return Record(
        issued.id,
        issued.number,
        zone,
        issued.green_channel,
        now,
        int(issued.estimated_wait_min),
        int(issued.ahead),
        naive,
        queue_len,
        windows,
    )


def _settle(store: Store, day: Day) -> None:
    """Actual waits, and how many of the same queue were first called in between."""
    with store.read() as s:
        first = {
            tid: at
            for tid, at in s.execute(
                select(Ticket.id, Ticket.first_called_at).where(
                    Ticket.business_date == day.business_date
                )
            )
        }
    by_zone: dict[Zone, list[Record]] = defaultdict(list)
    for r in day.records:
        by_zone[r.zone].append(r)
        called = first.get(r.ticket_id)
        r.wait = None if called is None else (called - r.issued_at).total_seconds() / 60
    for recs in by_zone.values():
        for r in recs:
            mine = first.get(r.ticket_id)
            if mine is None:
                continue
            between = [
                o
                for o in recs
                if o is not r
                and (c := first.get(o.ticket_id)) is not None
                and r.issued_at <= c < mine
            ]
            r.ahead_actual = len(between)
            r.ahead_waiting = sum(1 for o in between if o.issued_at <= r.issued_at)


def zone_service(store: Store, before: date) -> dict[Zone, float]:
    """The naive estimate's mean service per zone: the mean call→finish of past tickets
    (capped like the product's, at 3 h)."""
    with store.read() as s:
        rows = s.execute(
            select(Ticket.zone, Ticket.called_at, Ticket.finished_at).where(
                Ticket.business_date < before,
                Ticket.status.in_(("done", "no_show")),
                Ticket.called_at.is_not(None),
                Ticket.finished_at.is_not(None),
            )
        ).all()
    took: dict[Zone, list[float]] = defaultdict(list)
    for zone, called, finished in rows:
        assert called is not None and finished is not None
        m = (finished - called).total_seconds() / 60
        if 0 < m <= history.MAX_SERVICE_MIN:
            took[Zone(zone)].append(m)
    table = {b.code: b.service_minutes for b in DEFAULT_BUSINESS_TYPES}
    fallback = statistics.mean(table.values())
    return {z: statistics.mean(took[z]) if took[z] else fallback for z in Zone}


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figures:
    n: int
    mae: float
    within3: float  # share within ±3 minutes
    bias: float  # mean (estimate − actual)
    rmse: float


def figures(pairs: Iterable[tuple[float, float]]) -> Figures:
    errors = [est - act for est, act in pairs]
    if not errors:
        return Figures(0, math.nan, math.nan, math.nan, math.nan)
    return Figures(
        len(errors),
        statistics.mean(abs(e) for e in errors),
        sum(1 for e in errors if abs(e) <= 3) / len(errors),
        statistics.mean(errors),
        math.sqrt(statistics.mean(e * e for e in errors)),
    )


@dataclass
class Run:
    label: str
    days: list[Day]

    def records(self, zone: Zone | None = None) -> list[Record]:
        return [
            r
            for d in self.days
            for r in d.records
            if r.wait is not None and (zone is None or r.zone is zone)
        ]

    def product(self, zone: Zone | None = None) -> Figures:
        return figures((r.estimate, r.wait) for r in self.records(zone) if r.wait is not None)

    def naive(self, zone: Zone | None = None) -> Figures:
        return figures((r.naive, r.wait) for r in self.records(zone) if r.wait is not None)

    def ahead_exact(self, zone: Zone | None = None, *, waiting_only: bool = False) -> float:
        recs = self.records(zone)
        if not recs:
            return math.nan
        actual = [r.ahead_waiting if waiting_only else r.ahead_actual for r in recs]
        return sum(1 for r, a in zip(recs, actual, strict=True) if r.ahead == a) / len(recs)

    def ahead_mae(self, zone: Zone | None = None) -> float:
        recs = self.records(zone)
        return statistics.mean(abs(r.ahead - (r.ahead_actual or 0)) for r in recs)


# ---------------------------------------------------------------- the whole run


@dataclass
class Result:
    runs: dict[str, Run]
    history_days: int
    measured_days: list[date]
    learned: history.LearnedTimes | None
    learn_cost_s: list[float]
    model_cost_s: list[float]
    service_check: list[tuple[str, Figures]]
    history_s: float
    measure_s: float
    remaining_check: list[tuple[str, Figures]] = field(default_factory=list)

    @property
    def main(self) -> Run:
        return self.runs["product"]


def simulate(
    *,
    history_days: int = 10,
    days: int = 3,
    seed: int = 7,
    hours: Sequence[int] = tuple(BUSY_ARRIVALS),
    variants: Sequence[str] = ("product", "no_learning"),
    customers: int = 2000,
    workdir: Path | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> Result:
    """Play ``history_days`` ordinary days, then ``days`` busy days once per variant on a
    copy of the same store: ``product`` (as it is), ``no_learning`` (history learning off)
    and ``mean`` / ``median`` (learning with that statistic instead of the default)."""
    tmp = tempfile.mkdtemp(prefix="wait-accuracy-") if workdir is None else str(workdir)
    base = Path(tmp) / "base"
    all_days = business_days(FIRST_DAY, history_days + days)
    past, measured = all_days[:history_days], all_days[history_days:]
    try:
        t0 = time.perf_counter()
        store = demo_branch(base, customers)
        for i, d in enumerate(past):
            volume = random.Random(f"{seed}-volume-{d}").uniform(0.75, 1.0)
            play_day(store, d, seed=seed, volume=volume, hours=hours, measure=False)
            log(f"history day {i + 1}/{len(past)} {d} played")
        naive_service = zone_service(store, measured[0])
        learned, learn_cost, model_cost, service_check = _learning_checks(store, measured)
        store.close()
        history_s = time.perf_counter() - t0
        runs: dict[str, Run] = {}
        t1 = time.perf_counter()
        for variant in variants:
            folder = Path(tmp) / variant
            shutil.copytree(base, folder)
            _configure(variant)
            try:
                vstore = Store.open(folder)
                played = []
                for d in measured:
                    volume = random.Random(f"{seed}-volume-{d}").uniform(1.0, 1.1)
                    played.append(
                        play_day(
                            vstore,
                            d,
                            seed=seed,
                            volume=volume,
                            hours=hours,
                            naive_service=naive_service,
                        )
                    )
                    log(f"{variant}: busy day {d} played ({played[-1].issued} tickets)")
                vstore.close()
            finally:
                history.configure()
            runs[variant] = Run(variant, played)
        _check_replays(runs)
        return Result(
            runs,
            history_days,
            measured,
            learned,
            learn_cost,
            model_cost,
            service_check,
            history_s,
            time.perf_counter() - t1,
        )
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


def _configure(variant: str) -> None:
    if variant == "no_learning":
        history.configure(learning=False)
    elif variant in ("mean", "median", "trimmed"):
        history.configure(statistic=variant)  # type: ignore[arg-type]
    else:
        history.configure()


def _check_replays(runs: dict[str, Run]) -> None:
    """Variants replay the same days: the same tickets with the same actual waits."""
    waits = {
        label: [(r.number, r.wait) for d in run.days for r in d.records]
        for label, run in runs.items()
    }
    first = next(iter(waits.values()), [])
    for label, w in waits.items():
        if w != first:
            raise AssertionError(f"variant {label} did not replay the same days")


def _learning_checks(
    store: Store, measured: list[date]
) -> tuple[history.LearnedTimes | None, list[float], list[float], list[tuple[str, Figures]]]:
    """What learning costs: computing it (once a day) and a cached ``service_model``."""
    history.clear_cache()
    learn_cost = []
    with store.read() as s:
        for _ in range(5):
            t = time.perf_counter()
            learned = history.learn(s, measured[0], TZ)
            learn_cost.append(time.perf_counter() - t)
    model_cost = []
    now = _local(measured[0], 10)
    with store.read() as s:
        history.service_model(s, now)  # fills the cache
        for _ in range(200):
            t = time.perf_counter()
            history.service_model(s, now)
            model_cost.append(time.perf_counter() - t)
    history.clear_cache()
    return learned, learn_cost, model_cost, []


def service_accuracy(
    store: Store, learn_before: date, days: Sequence[date]
) -> list[tuple[str, Figures]]:
    """Each way of predicting one ticket's call→finish, against the tickets of ``days``."""
    with store.read() as s:
        table = {c: float(v) for c, v in s.execute(history._TABLE)}
        rows = s.execute(
            select(Ticket.business_code, Ticket.called_at, Ticket.finished_at).where(
                Ticket.business_date.in_(list(days)),
                Ticket.status.in_(("done", "no_show")),
                Ticket.called_at.is_not(None),
                Ticket.finished_at.is_not(None),
            )
        ).all()
        models = {"business table": history.ServiceModel(TZ, table)}
        stats: tuple[history.Statistic, ...] = ("mean", "trimmed", "median")
        for stat in stats:
            learned = history.learn(s, learn_before, TZ, statistic=stat)
            models[f"learned, {stat}, per hour"] = history.ServiceModel(TZ, table, learned)
            flat = dataclasses.replace(learned, by_hour={})
            models[f"learned, {stat}, all hours"] = history.ServiceModel(TZ, table, flat)
    out = []
    for label, model in models.items():
        pairs = []
        for code, called, finished in rows:
            assert called is not None and finished is not None
            m = (finished - called).total_seconds() / 60
            if 0 < m <= history.MAX_SERVICE_MIN:
                pairs.append((model.service(code, called), m))
        out.append((label, figures(pairs)))
    return out


def remaining_accuracy(
    store: Store, learn_before: date, days: Sequence[Day]
) -> list[tuple[str, Figures]]:
    """How long the customer at a window still takes, predicted at each issue, against when
    the window was free again (finish, no-show, or back from a break)."""
    with store.read() as s:
        table = {c: float(v) for c, v in s.execute(history._TABLE)}
        learned = history.learn(s, learn_before, TZ)
    model = history.ServiceModel(TZ, table, learned)

    def typical_minus_elapsed(m: history.ServiceModel) -> Callable[..., float]:
        def rest(code: str, called: datetime, now: datetime) -> float:
            spent = (now - called).total_seconds() / 60
            return max(history.FLOOR_MIN, m.service(code, called) - spent)

        return rest

    predictors: dict[str, Callable[..., float]] = {
        "table minus elapsed": typical_minus_elapsed(history.ServiceModel(TZ, table)),
        "learned minus elapsed": typical_minus_elapsed(model),
        "learned, by the spread (`remaining`)": lambda code, called, now: (
            model.remaining(code, called, now) - learned.handover
        ),
    }
    samples = [x for d in days for x in d.at_windows]
    return [
        (
            label,
            figures(
                (rest(code, called, now), (free - now).total_seconds() / 60)
                for code, called, now, free in samples
            ),
        )
        for label, rest in predictors.items()
    ]


# ---------------------------------------------------------------- report


def report(result: Result, *, seed: int) -> str:
    lines: list[str] = []
    main = result.main
    recs = main.records()
    waits = [r.wait for r in recs if r.wait is not None]
    tickets = sum(d.issued for d in main.days)
    lines.append(
        f"{result.history_days} history days, then {len(result.measured_days)} busy days "
        f"({', '.join(d.isoformat() for d in result.measured_days)}), seed {seed}: "
        f"{tickets} tickets, {sum(d.no_shows for d in main.days)} no-shows, "
        f"{sum(d.breaks for d in main.days)} teller breaks without finish; actual wait mean "
        f"{statistics.mean(waits):.1f} min, p90 {sorted(waits)[int(0.9 * (len(waits) - 1))]:.1f} min, "
        f"max {max(waits):.1f} min."
    )
    lines.append("")
    lines.append("| zone | tickets | mean wait | estimate | MAE | within ±3 min | bias |")
    lines.append("|---|---|---|---|---|---|---|")
    for zone in (None, *ZONES):
        zrecs = main.records(zone)
        if not zrecs:
            continue
        name = "all" if zone is None else zone.value
        mean_wait = statistics.mean(r.wait for r in zrecs if r.wait is not None)
        rows: list[tuple[str, Figures]] = []
        for label, run in main_and_variants(result):
            rows.append((label, run.product(zone)))
        rows.append(("naive", main.naive(zone)))
        for label, f in rows:
            lines.append(
                f"| {name} | {f.n} | {mean_wait:.1f} | {label} | {f.mae:.2f} | "
                f"{f.within3:.0%} | {f.bias:+.2f} |"
            )
    lines.append("")
    lines.append(
        "| zone | `ahead` exact (all called before) | exact (already waiting at issue) | MAE |"
    )
    lines.append("|---|---|---|---|")
    for zone in (None, *ZONES):
        if not main.records(zone):
            continue
        name = "all" if zone is None else zone.value
        lines.append(
            f"| {name} | {main.ahead_exact(zone):.0%} | "
            f"{main.ahead_exact(zone, waiting_only=True):.0%} | {main.ahead_mae(zone):.2f} |"
        )
    if result.service_check:
        lines.append("")
        lines.append("| one service (call → finish) predicted by | RMSE | MAE | bias |")
        lines.append("|---|---|---|---|")
        for label, f in result.service_check:
            lines.append(f"| {label} | {f.rmse:.3f} | {f.mae:.3f} | {f.bias:+.3f} |")
    if result.remaining_check:
        lines.append("")
        lines.append("| minutes the customer at a window still takes, by | RMSE | MAE | bias |")
        lines.append("|---|---|---|---|")
        for label, f in result.remaining_check:
            lines.append(f"| {label} | {f.rmse:.3f} | {f.mae:.3f} | {f.bias:+.3f} |")
    if result.learned is not None:
        lt = result.learned
        lines.append("")
        lines.append(
            f"Learning: {lt.samples} services over {lt.days} days, "
            f"{len(lt.by_hour)} business-hours with their own figure, hand-over "
            f"{lt.handover:.2f} min; computing it "
            f"{statistics.median(result.learn_cost_s) * 1000:.1f} ms (median of 5), once per "
            f"day; a cached `service_model` {statistics.median(result.model_cost_s) * 1000:.2f} ms."
        )
    issue = [x for d in main.days for x in d.issue_s]
    lines.append(
        f"`issue_ticket` during the busy days: median {statistics.median(issue) * 1000:.1f} ms, "
        f"p95 {sorted(issue)[int(0.95 * (len(issue) - 1))] * 1000:.1f} ms. "
        f"History played in {result.history_s:.0f} s, measured days in {result.measure_s:.0f} s."
    )
    return "\n".join(lines)


def main_and_variants(result: Result) -> list[tuple[str, Run]]:
    names = {
        "product": "product",
        "no_learning": "product, learning off",
        "mean": "product, learned mean",
        "median": "product, learned median",
    }
    return [(names.get(k, k), run) for k, run in result.runs.items()]


def learning_cost(visits: int = 2000, days: int = 20, repeat: int = 5) -> tuple[int, float]:
    """Learning at its largest: ``days`` past days of ``visits`` tickets each (the busiest
    branch, bench_report's 2,000-visit day), rows inserted raw. Returns (rows, median s)."""
    import sqlite3
    import uuid

    rng = random.Random(1)
    codes = [c for c, _ in ORDINARY_MIX]
    with tempfile.TemporaryDirectory(prefix="wait-accuracy-cost-") as tmp:
        store = Store.open(Path(tmp))
        con = sqlite3.connect(store.db_path)
        rows = []
        for d in business_days(FIRST_DAY, days):
            for n in range(visits):
                issued = _local(d, 9 + 8 * n / visits).astimezone(UTC)
                called = issued + timedelta(minutes=rng.uniform(0, 20))
                finished = called + timedelta(minutes=rng.lognormvariate(1.2, SIGMA))
                rows.append(
                    (
                        str(uuid.uuid4()),
                        d.isoformat(),
                        f"A{n + 1:03d}",
                        "A",
                        n + 1,
                        n + 1,
                        rng.choice(codes),
                        "closed_counter",
                        "closed_counter",
                        "done",
                        *(t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in (issued, called, finished)),
                        1 + n % 8,
                    )
                )
        con.executemany(
            "insert into ticket (id, business_date, number, prefix, seq, day_seq, business_code,"
            " zone, suggested_zone, status, issued_at, called_at, finished_at, window_no,"
            " zone_override_reason, vip, vip_reason, prospect, priority_reason, green_channel,"
            " greeting_note, needs_note, recalls, served_by, settle_reason, issued_by,"
            " ahead_at_issue, estimated_wait_min, print_status, print_error)"
            " values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'',0,'',0,'',0,'','',0,'','','',0,0,'none','')",
            rows,
        )
        con.commit()
        con.close()
        took = []
        day = business_days(FIRST_DAY, days + 1)[-1]
        with store.read() as s:
            for _ in range(repeat):
                t = time.perf_counter()
                history.learn(s, day, TZ)
                took.append(time.perf_counter() - t)
        store.close()
    return len(rows), statistics.median(took)


def short_day(seed: int = 1, *, variants: Sequence[str] = ("product",)) -> Result:
    """The fast variant (the pytest test's): one history day, then two busy afternoons
    (14:00-16:00, the afternoon peak, no window opening or closing meanwhile) on a demo
    branch of 300 customers."""
    return simulate(
        history_days=1, days=2, seed=seed, hours=(14, 15), variants=variants, customers=300
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--history-days", type=int, default=10)
    ap.add_argument("--days", type=int, default=3, help="busy days measured")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--statistics",
        action="store_true",
        help="also replay with the learned mean and median instead of the trimmed mean",
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the learning-off replay")
    ap.add_argument("--short", action="store_true", help="the test's short day only")
    ap.add_argument("--keep", type=Path, help="keep the stores in this (new) folder")
    args = ap.parse_args()
    variants = ["product"]
    if not args.no_baseline:
        variants.append("no_learning")
    if args.statistics:
        variants += ["mean", "median"]
    print(f"machine: {machine()}")
    started = time.perf_counter()
    if args.short:
        result = short_day(args.seed, variants=variants)
    else:
        with tempfile.TemporaryDirectory(prefix="wait-accuracy-") as tmp:
            if args.keep:
                args.keep.mkdir(parents=True)
                tmp = str(args.keep)
            result = simulate(
                history_days=args.history_days,
                days=args.days,
                seed=args.seed,
                variants=variants,
                workdir=Path(tmp),
                log=lambda m: print(f"  {m}", flush=True),
            )
            store = Store.open(Path(tmp) / "product")
            result.service_check = service_accuracy(
                store, result.measured_days[0], result.measured_days
            )
            result.remaining_check = remaining_accuracy(
                store, result.measured_days[0], result.main.days
            )
            store.close()
    if not args.short:
        n, took = learning_cost()
        print(f"  learning from {n:,} past tickets (20 days of 2,000): {took * 1000:.0f} ms")
    print()
    print(report(result, seed=args.seed))
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
