"""A realistic business day on the demo branch, played through the real store commands.

Customers arrive through the day (busier mid-morning and mid-afternoon), the desk issues
their tickets (some identified, some flagged for the green channel), the windows call, start
and finish, a few customers do not come when called, a few are transferred, tellers and the
desk refer prospects to the customer managers, who accept, contact and record outcomes; the
evaluation pads collect ratings; two windows pause for lunch. Every step is the command a
station would send, given the simulated time, so the day's figures come out of the same rules.

The simulation only ever plays a past day that has no tickets, and only while no window holds
a live customer: the windows it calls at are the branch's real windows, and a call finishes
whatever the window had (it once finished today's A003 with yesterday's clock). The windows'
sign-in and open state is put back as it was when the simulated day is over.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.zones import Zone
from lobby_app.models import Counter, CounterEvent, Customer, DayClose, Ticket
from lobby_app.models.base import utcnow
from lobby_app.store import commands, referrals, teller
from lobby_app.store.admin import is_serving
from lobby_app.store.commands import IssueRequest
from lobby_app.store.db import Store
from lobby_app.store.demo import DEMO_WINDOW_STAFF

# who works at which window on the demo branch
WINDOW_STAFF = DEMO_WINDOW_STAFF
MANAGERS = ("M01", "M02", "M03")
OPEN, CLOSE = time(9, 0), time(17, 0)
# relative arrivals per hour of the day
HOURLY = {9: 0.9, 10: 1.4, 11: 1.3, 12: 0.8, 13: 0.9, 14: 1.2, 15: 1.1, 16: 0.8}
BUSINESS_MIX = (
    ("cash", 30),
    ("remit_cash", 6),
    ("exchange_notes", 3),
    ("large_cash", 2),
    ("open_account", 3),
    ("close_account", 1),
    ("card", 6),
    ("wealth", 4),
    ("loan", 1),
    ("corporate", 2),
    ("fx", 1),
    ("ebank_signup", 2),
    ("transfer", 9),
    ("self_service", 10),
    ("query", 8),
)
NEEDS_BY_TIER = {
    "mid_high": ("wealth", "deposit_maturing", "insurance", "precious_metals"),
    "potential": ("wealth", "fund", "credit_card", "insurance"),
    "mass": ("ebanking", "credit_card", "savings"),
}
PRODUCTS = (
    ("稳健理财产品", 50_000, 500_000),
    ("大额存单", 200_000, 1_000_000),
    ("基金定投", 6_000, 36_000),
    ("养老保险", 20_000, 100_000),
    ("积存金", 10_000, 50_000),
)
LUNCH = {3: (time(12, 0), time(13, 0)), 6: (time(12, 30), time(13, 30))}
# how far back ``pick_day`` looks for a day without tickets
LOOK_BACK_DAYS = 366


@dataclass
class SimResult:
    business_date: str
    issued: int
    called: int
    served: int
    no_show: int
    transferred: int
    referrals: int
    sold: int
    ratings: int
    left_waiting: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _days_in_use(store: Store, before: date) -> set[date]:
    """Days before ``before`` that have tickets or a day close."""
    with store.read() as s:
        used = set(s.scalars(select(Ticket.business_date).where(Ticket.business_date < before)))
        used |= set(
            s.scalars(select(DayClose.business_date).where(DayClose.business_date < before))
        )
    return used


def pick_day(store: Store, *, now: datetime | None = None) -> date:
    """The latest business day before today with no tickets and no day close: the day a
    simulation plays when none is named."""
    today = commands.settings(store).business_date(now or utcnow())
    used = _days_in_use(store, today)
    for back in range(1, LOOK_BACK_DAYS + 1):
        day = today - timedelta(days=back)
        if day not in used:
            return day
    raise LobbyError(
        "no_free_day",
        tr(
            f"今天以前 {LOOK_BACK_DAYS} 天里每天都已有票，没有可模拟的空营业日：请用 --date 指定更早的日期"
        ),
        field="date",
    )


def check_day(store: Store, day: date, *, now: datetime | None = None) -> None:
    """Refuse to simulate ``day`` unless it is a past day without tickets, and while no window
    holds a live customer (a simulated call at that window would finish them)."""
    today = commands.settings(store).business_date(now or utcnow())
    if day >= today:
        raise LobbyError(
            "simulate_live_day",
            tr(
                f"{day} 是{'今天' if day == today else '将来的日子'}，模拟营业日会写进当天实际的"
                "票和窗口：只能模拟今天以前、还没有票的日子。不写 --date 即自动选最近的空日子"
            ),
            field="date",
        )
    with store.read() as s:
        issued = s.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.business_date == day)
        )
        closed = s.scalar(select(DayClose.id).where(DayClose.business_date == day).limit(1))
        live = s.execute(
            select(Ticket.window_no, Ticket.number, Ticket.business_date)
            .where(Ticket.status.in_(("called", "serving")), Ticket.window_no.is_not(None))
            .order_by(Ticket.window_no)
        ).all()
    if issued:
        raise LobbyError(
            "simulate_day_has_tickets",
            tr(
                f"{day} 已有 {issued} 张票，模拟会与它们混在一起：请换一个没有票的日期(--date)，"
                "或不写 --date，自动选今天以前最近的空日子"
            ),
            field="date",
        )
    if closed is not None:
        raise LobbyError(
            "simulate_day_closed",
            tr(f"{day} 已有日终记录，不能再模拟：请换一个日期(--date)，或不写 --date 自动选择"),
            field="date",
        )
    if live:
        held = "、".join(f"{w} 号窗口 {n}（{d}）" for w, n, d in live)
        raise LobbyError(
            "simulate_windows_busy",
            tr(
                f"{held} 还在叫号或办理中，模拟在同一批窗口上叫号会把它们办结：请先在窗口"
                "办结、过号(或日终)后再模拟"
            ),
            field="date",
        )


def simulate_day(
    store: Store,
    day: date | None = None,
    *,
    visits: int = 260,
    seed: int = 1,
    tz: Any = None,
    now: datetime | None = None,
) -> SimResult:
    """Play ``visits`` arrivals on ``day`` (branch time) through the store's commands.

    ``day`` defaults to ``pick_day``; a day that is today or later, has tickets or a day close,
    or any window holding a live customer is refused (``check_day``). The windows' sign-in and
    open state is restored afterwards, so the live lobby finds its windows as it left them."""
    day = day or pick_day(store, now=now)
    check_day(store, day, now=now)
    with store.read() as s:
        as_they_were = {
            c.window_no: (c.staff_no, c.is_open, c.signed_in_at) for c in s.scalars(select(Counter))
        }
    try:
        return _play(store, day, visits=visits, seed=seed, tz=tz)
    finally:
        _restore_windows(store, day, as_they_were, tz)


def _restore_windows(
    store: Store,
    day: date,
    as_they_were: dict[int, tuple[str | None, bool, datetime | None]],
    tz: Any,
) -> None:
    """Put each window's teller and open/paused state back; where that changes whether the
    window serves, record it just after the simulated day, so the open-window timeline the
    report reads (``CounterEvent``) agrees with the live state."""
    tz = tz or commands.settings(store).tz
    after = datetime.combine(day, time(23, 59), tz)
    with store.write() as s:
        for c in s.scalars(select(Counter)):
            if c.window_no not in as_they_were:
                continue
            was = is_serving(c)
            c.staff_no, c.is_open, c.signed_in_at = as_they_were[c.window_no]
            if is_serving(c) != was:
                s.add(
                    CounterEvent(
                        window_no=c.window_no, is_open=is_serving(c), actor="simulate", at=after
                    )
                )


def _play(store: Store, day: date, *, visits: int, seed: int, tz: Any) -> SimResult:
    rng = random.Random(seed)
    settings = commands.settings(store)
    tz = tz or settings.tz
    with store.read() as s:
        people = list(
            s.execute(
                select(Customer.id, Customer.tier, Customer.manager, Customer.prospect)
                .order_by(Customer.customer_no)
                .limit(2000)
            )
        )
        windows = {c.window_no: c for c in s.scalars(select(Counter))}
    staff_of = {w: WINDOW_STAFF.get(w, f"W{w:02d}") for w in windows}

    def at(hh: float) -> datetime:
        return datetime.combine(day, OPEN, tz) + timedelta(hours=hh - OPEN.hour)

    # arrival times, spread by the hourly profile
    weights = [HOURLY[h] for h in sorted(HOURLY)]
    total = sum(weights)
    arrivals: list[datetime] = []
    for h, wgt in zip(sorted(HOURLY), weights, strict=True):
        n = round(visits * wgt / total)
        arrivals += [at(h + rng.random()) for _ in range(n)]
    arrivals = sorted(arrivals)[:visits]
    closing = datetime.combine(day, CLOSE, tz)

    events: list[tuple[datetime, int, str, Any]] = []
    seq = 0

    def push(when: datetime, kind: str, data: Any = None) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, kind, data))

    for a in arrivals:
        push(a, "arrive")
    for w, (off, on) in LUNCH.items():
        if w in windows:
            push(datetime.combine(day, off, tz), "pause", w)
            push(datetime.combine(day, on, tz), "resume", w)
    for w, counter in windows.items():
        if counter.retired_at is None and not is_serving(counter):
            # the day's teller opens the window (a paused or empty one in the live lobby
            # is put back by ``_restore_windows``)
            try:
                teller.set_window_open(store, w, True, actor=staff_of[w], now=at(8.9))
            except LobbyError:
                continue
        push(at(9.0), "try_call", w)

    busy: dict[int, str] = {}  # window -> ticket number
    paused: set[int] = set()
    tiers: dict[str, str | None] = {}  # ticket number -> tier
    owners: dict[str, str | None] = {}
    business_of: dict[str, str] = {}
    res = SimResult(day.isoformat(), 0, 0, 0, 0, 0, 0, 0, 0, 0)
    codes = [c for c, _ in BUSINESS_MIX]
    mix = [w for _, w in BUSINESS_MIX]
    ref_seq = 0

    def refer(now: datetime, number: str, actor: str) -> None:
        nonlocal ref_seq
        tier = tiers.get(number) or "mass"
        to = owners.get(number) or MANAGERS[ref_seq % len(MANAGERS)]
        ref_seq += 1
        try:
            made = referrals.refer(
                store,
                ticket_number=number,
                to_staff=to,
                need=rng.choice(NEEDS_BY_TIER.get(tier, NEEDS_BY_TIER["mass"])),
                note="",
                actor=actor,
                now=now,
            )
        except LobbyError:
            return
        res.referrals += 1
        no = str(made["referral_no"])
        push(now + timedelta(minutes=rng.uniform(2, 10)), "ref_accept", (no, to))

    while events:
        now, _, kind, data = heapq.heappop(events)
        if kind == "arrive":
            person = rng.choice(people) if people and rng.random() < 0.45 else None
            code = rng.choices(codes, mix)[0]
            prio = None
            if rng.random() < 0.06:
                prio = rng.choice(
                    (
                        PriorityKind.ELDERLY,
                        PriorityKind.ELDERLY,
                        PriorityKind.PREGNANT,
                        PriorityKind.DISABLED,
                        PriorityKind.MILITARY,
                    )
                )
            req = IssueRequest(
                code,
                customer_id=person.id if person else None,
                priority=prio,
                needs=(rng.choice(NEEDS_BY_TIER[person.tier]),)
                if person and rng.random() < 0.5
                else (),
                greeting_note="",
                actor="L01" if rng.random() < 0.7 else "G01",
            )
            issued = commands.issue_ticket(store, req, now=now)
            res.issued += 1
            tiers[issued.number] = person.tier if person else None
            business_of[issued.number] = code
            owners[issued.number] = person.manager if person and person.manager else None
            if person and (person.tier == "mid_high" or person.prospect) and rng.random() < 0.2:
                refer(now + timedelta(minutes=1), issued.number, "L01")
            for w, counter in windows.items():  # wake an idle window that serves the zone
                if w not in busy and w not in paused and issued.zone.value in counter.zones:
                    push(now + timedelta(seconds=20), "try_call", w)
        elif kind == "try_call":
            w = data
            if w in busy or w in paused or now >= closing:
                continue
            try:
                got = teller.call_next(store, w, actor=staff_of[w], now=now)
            except LobbyError:
                continue  # nobody waiting for this window; the next arrival wakes it
            res.called += 1
            busy[w] = got.number
            if not got.green_channel and rng.random() < 0.03:
                push(now + timedelta(minutes=2), "no_show", w)
            else:
                push(now + timedelta(seconds=rng.uniform(20, 60)), "start", w)
        elif kind == "no_show":
            teller.no_show(store, data, actor=staff_of[data], now=now)
            res.no_show += 1
            busy.pop(data, None)
            push(now + timedelta(seconds=10), "try_call", data)
        elif kind == "start":
            w = data
            got = teller.start(store, w, actor=staff_of[w], now=now)
            minutes = max(
                1.0, rng.lognormvariate(0, 0.45) * _service_minutes(business_of.get(got.number, ""))
            )
            push(now + timedelta(minutes=minutes), "finish", w)
        elif kind == "finish":
            w = data
            number = busy.pop(w)
            zone = windows[w].zones.split(",")[0]
            if zone == Zone.OPEN_COUNTER.value and rng.random() < 0.03:
                teller.transfer(
                    store,
                    w,
                    to_zone=Zone.CLOSED_COUNTER,
                    actor=staff_of[w],
                    reason="需办理现金业务",
                    now=now,
                )
                res.transferred += 1
            else:
                teller.finish(store, w, actor=staff_of[w], now=now)
                res.served += 1
                if rng.random() < 0.55:
                    score = rng.choices((5, 4, 3, 2, 1), (70, 20, 6, 3, 1))[0]
                    teller.rate(store, w, score, now=now + timedelta(seconds=15))
                    res.ratings += 1
                tier = tiers.get(number)
                chance = {"mid_high": 0.25, "potential": 0.2}.get(tier or "", 0.02)
                if rng.random() < chance:
                    refer(now + timedelta(seconds=30), number, staff_of[w])
            push(now + timedelta(seconds=rng.uniform(15, 45)), "try_call", w)
        elif kind == "pause":
            paused.add(data)
            teller.set_window_open(store, data, False, actor=staff_of[data], now=now)
        elif kind == "resume":
            paused.discard(data)
            teller.set_window_open(store, data, True, actor=staff_of[data], now=now)
            push(now, "try_call", data)
        elif kind == "ref_accept":
            no, to = data
            referrals.accept(store, no, actor=to, now=now)
            push(now + timedelta(minutes=rng.uniform(5, 20)), "ref_contact", data)
        elif kind == "ref_contact":
            no, to = data
            referrals.contact(store, no, actor=to, now=now)
            push(now + timedelta(minutes=rng.uniform(10, 60)), "ref_outcome", data)
        elif kind == "ref_outcome":
            no, to = data
            pick = rng.random()
            if pick < 0.4:
                product, low, high = rng.choice(PRODUCTS)
                amount = rng.randrange(low, high, 1000) * 100
                referrals.record_outcome(
                    store, no, outcome="sold", actor=to, product=product, amount_fen=amount, now=now
                )
                res.sold += 1
            elif pick < 0.7:
                referrals.record_outcome(store, no, outcome="declined", actor=to, now=now)
            else:
                referrals.record_outcome(
                    store,
                    no,
                    outcome="follow_up",
                    actor=to,
                    follow_up_on=day + timedelta(days=7),
                    now=now,
                )
    with store.read() as s:
        res.left_waiting = len(
            s.scalars(
                select(Ticket.id).where(Ticket.business_date == day, Ticket.status == "waiting")
            ).all()
        )
    return res


_SERVICE: dict[str, float] = {}


def _service_minutes(code: str) -> float:
    if not _SERVICE:
        from lobby_app.core.business import DEFAULT_BUSINESS_TYPES

        _SERVICE.update({b.code: b.service_minutes for b in DEFAULT_BUSINESS_TYPES})
    return _SERVICE.get(code, 6.0)
