"""A realistic business day on the demo branch, played through the real store commands.

Customers arrive through the day (busier mid-morning and mid-afternoon), the desk issues
their tickets (some identified, some flagged for the green channel), the windows call, start
and finish, a few customers do not come when called, a few are transferred, tellers and the
desk refer prospects to the customer managers, who accept, contact and record outcomes; the
evaluation pads collect ratings; two windows pause for lunch. Every step is the command a
station would send, given the simulated time, so the day's figures come out of the same rules.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.zones import Zone
from lobby_app.models import Counter, Customer, Ticket
from lobby_app.store import commands, referrals, teller
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


def simulate_day(
    store: Store, day: date, *, visits: int = 260, seed: int = 1, tz: Any = None
) -> SimResult:
    """Play ``visits`` arrivals on ``day`` (branch time) through the store's commands."""
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
    for w in windows:
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
