"""The branch's figures for a day or a range of days: the one query layer behind the end-of-day
summary (PDF and ``report --json``), the day close's frozen figures and the desk's live view.

Definitions (also in docs/report.md):

- *wait*: from the ticket's issue to its first call, for tickets that were called. Tickets
  that were never called (self-service guidance, customers who left) have no wait.
- *service*: from the start of service (or the call, where the teller did not press start)
  to the finish, for tickets served at a window.
- *median* and *90th percentile* by the nearest-rank rule: the value at rank ceil(p x n)
  of the sorted list; minutes are rounded to one decimal.
- *over target*: waits strictly longer than the branch's target (``wait_target_min``).
- *idle while customers waited* (per window): between the window's first call and its last
  finish of the day, the time it was open, serving nobody, while a ticket of a zone it serves
  was waiting for its first call.
- *e-channel diversion*: tickets served in the self-service zone (final zone self-service, not
  settled as left / not served / no-show), each counted once: issued there at the desk, or
  transferred there; a ticket kept at (or sent back to) a counter does not count.
"""

from __future__ import annotations

import json
import math
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from lobby_app.core.business import NEED_TAGS, PRIORITY_LABELS, PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.intervals import Span, intersect, measure, subtract, union
from lobby_app.core.tiers import Tier
from lobby_app.core.zones import Zone
from lobby_app.models import (
    BusinessTypeRow,
    Counter,
    CounterEvent,
    DayClose,
    Referral,
    ReferralCredit,
    Staff,
    Ticket,
    TicketEvent,
    TicketNeed,
)
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store
from lobby_app.store.referrals import STATUS_LABELS
from lobby_app.store.setup import BranchSettings, load_settings

FIGURES_VERSION = 1
MAX_RANGE_DAYS = 366
LONGEST_LISTED = 10
STATUS_ORDER = ("new", "accepted", "contacted", "sold", "declined", "follow_up")
# referrals without an outcome yet (the referrer's and the manager's "open" column)
OPEN_STATES = ("new", "accepted", "contacted")
WALK_IN = "walk_in"


class _T:
    """The columns of a ticket the figures need, with its wait and service in seconds."""

    __slots__ = (
        "business_code",
        "business_date",
        "called_at",
        "customer_id",
        "finished_at",
        "first_called_at",
        "green_channel",
        "id",
        "issued_at",
        "number",
        "priority",
        "rating",
        "served_by",
        "service_s",
        "started_at",
        "status",
        "suggested_zone",
        "tier",
        "vip",
        "wait_s",
        "window_no",
        "zone",
    )  # fmt: skip

    def __init__(self, row: Sequence[Any]) -> None:
        (
            self.id,
            bdate,
            self.number,
            self.zone,
            self.business_code,
            self.customer_id,
            self.tier,
            self.vip,
            self.priority,
            self.green_channel,
            self.status,
            issued,
            first,
            called,
            started,
            finished,
            self.window_no,
            self.served_by,
            self.rating,
            self.suggested_zone,
        ) = row
        self.business_date: date = date.fromisoformat(bdate)
        self.issued_at: datetime = _utc(issued)  # type: ignore[assignment]
        self.first_called_at = _utc(first)
        self.called_at = _utc(called)
        self.started_at = _utc(started)
        self.finished_at = _utc(finished)
        self.wait_s: float | None = (
            None
            if self.first_called_at is None
            else max(0.0, (self.first_called_at - self.issued_at).total_seconds())
        )
        begun = self.started_at or self.called_at
        self.service_s: float | None = (
            max(0.0, (self.finished_at - begun).total_seconds())
            if self.status == "done"
            and self.window_no is not None
            and self.finished_at is not None
            and begun is not None
            else None
        )


def _utc(text: str | None) -> datetime | None:
    """A stored UTC timestamp, read straight from its text (the column type would do the
    same, slower: a month is a quarter of a million timestamps)."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


_TEXT_COLUMNS = {"business_date", "issued_at", "first_called_at", "called_at", "started_at",
                 "finished_at"}  # fmt: skip
_TICKET_COLUMNS = tuple(
    type_coerce(c, String).label(c.key) if c.key in _TEXT_COLUMNS else c
    for c in (
        Ticket.id,
        Ticket.business_date,
        Ticket.number,
        Ticket.zone,
        Ticket.business_code,
        Ticket.customer_id,
        Ticket.tier,
        Ticket.vip,
        Ticket.priority,
        Ticket.green_channel,
        Ticket.status,
        Ticket.issued_at,
        Ticket.first_called_at,
        Ticket.called_at,
        Ticket.started_at,
        Ticket.finished_at,
        Ticket.window_no,
        Ticket.served_by,
        Ticket.rating,
        Ticket.suggested_zone,
    )
)


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def nearest_rank(sorted_values: Sequence[float], p: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p * len(sorted_values)))
    return sorted_values[rank - 1]


def wait_stats(waits_s: Iterable[float], target_min: int) -> dict[str, Any]:
    values = sorted(waits_s)
    n = len(values)
    over = sum(1 for v in values if v > target_min * 60)
    return {
        "n": n,
        "avg_min": minutes(sum(values) / n) if n else None,
        "median_min": minutes(nearest_rank(values, 0.5)),
        "p90_min": minutes(nearest_rank(values, 0.9)),
        "max_min": minutes(values[-1]) if n else None,
        "over_target": over,
        "over_target_pct": round(100.0 * over / n, 1) if n else None,
    }


def _avg_min(values: Sequence[float]) -> float | None:
    return minutes(sum(values) / len(values)) if values else None


def _day_bounds(d: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(d, time(0), tz).astimezone(UTC)
    end = datetime.combine(d + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


def _local_hm(at: datetime | None, tz: ZoneInfo) -> str | None:
    return at.astimezone(tz).strftime("%H:%M") if at else None


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise LobbyError(
            "bad_range", tr(f"结束日期 {end} 早于开始日期 {start}，请检查日期"), field="to"
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise LobbyError(
            "bad_range", tr(f"汇总范围最多 {MAX_RANGE_DAYS} 天，请缩短日期范围"), field="to"
        )


def figures(
    store: Store, start: date, end: date | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """The figures of the business days ``start`` .. ``end`` (inclusive), as they stand now."""
    end = end or start
    _check_range(start, end)
    with store.read() as s:
        return compute(s, start, end, now=now or utcnow())


def compute(s: Session, start: date, end: date, *, now: datetime) -> dict[str, Any]:
    st = load_settings(s)
    tz = st.tz
    target = st.wait_target_min
    tickets = [
        _T(row)
        for row in s.execute(
            select(*_TICKET_COLUMNS)
            .where(Ticket.business_date >= start, Ticket.business_date <= end)
            .order_by(Ticket.business_date, Ticket.day_seq)
        )
    ]
    business_names = dict(s.execute(select(BusinessTypeRow.code, BusinessTypeRow.name)).all())
    staff = {r.staff_no: r for r in s.execute(select(Staff.staff_no, Staff.name, Staff.role))}
    counters = list(s.scalars(select(Counter).order_by(Counter.window_no)))
    ids_in_range = select(Ticket.id).where(
        Ticket.business_date >= start, Ticket.business_date <= end
    )
    needs = dict(
        s.execute(
            select(TicketNeed.tag, func.count())
            .where(TicketNeed.ticket_id.in_(ids_in_range))
            .group_by(TicketNeed.tag)
        ).all()
    )
    transfers = list(
        s.execute(
            select(TicketEvent.ticket_id, TicketEvent.detail).where(
                TicketEvent.kind == "transferred", TicketEvent.ticket_id.in_(ids_in_range)
            )
        )
    )
    referrals = list(
        s.scalars(
            select(Referral)
            .where(Referral.business_date >= start, Referral.business_date <= end)
            .order_by(Referral.created_at)
        )
    )
    credits = list(
        s.scalars(
            select(ReferralCredit).where(
                ReferralCredit.referral_id.in_(
                    select(Referral.id).where(
                        Referral.business_date >= start, Referral.business_date <= end
                    )
                )
            )
        )
    )
    period_end_utc = _day_bounds(end, tz)[1]
    counter_events = list(
        s.execute(
            select(CounterEvent.window_no, CounterEvent.at, CounterEvent.is_open)
            .where(CounterEvent.at < period_end_utc)
            .order_by(CounterEvent.at, CounterEvent.id)
        )
    )
    closes = _closed_days(s, start, end)

    def staff_name(no: str) -> str:
        row = staff.get(no)
        return row.name if row else no

    out: dict[str, Any] = {
        "figures_version": FIGURES_VERSION,
        "bank_name": st.bank_name,
        "branch_name": st.branch_name,
        "branch_code": st.branch_code,
        "timezone": st.timezone,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": (end - start).days + 1,
        "computed_at": now.isoformat(),
        "wait_target_min": target,
        "open_time": st.open_time,
        "close_time": st.close_time,
        "first_issue": _local_hm(min((t.issued_at for t in tickets), default=None), tz),
        "last_finish": _local_hm(
            max(
                (
                    t.finished_at
                    for t in tickets
                    if t.status == "done" and t.finished_at and t.window_no
                ),
                default=None,
            ),
            tz,
        ),
    }
    out.update(_customers(tickets, transfers))
    waits = [w for t in tickets if (w := t.wait_s) is not None]
    overall = wait_stats(waits, target)
    out["wait"] = overall
    out["wait_avg_min"] = overall["avg_min"]
    out["wait_median_min"] = overall["median_min"]
    out["wait_p90_min"] = overall["p90_min"]
    out["wait_max_min"] = overall["max_min"]
    out["over_target"] = overall["over_target"]
    out["over_target_pct"] = overall["over_target_pct"]
    out["green_channel"] = {
        "issued": sum(1 for t in tickets if t.green_channel),
        "served": sum(1 for t in tickets if t.green_channel and t.status == "done"),
        "wait": wait_stats(
            [w for t in tickets if t.green_channel and (w := t.wait_s) is not None], target
        ),
    }
    out["vip"] = _flagged(tickets, lambda t: t.vip, target)
    prio = _flagged(tickets, lambda t: t.priority is not None, target)
    kinds = Tally(t.priority for t in tickets if t.priority)
    prio["by_kind"] = [
        {"kind": k.value, "label": PRIORITY_LABELS[k], "issued": kinds[k.value]}
        for k in PriorityKind
        if kinds[k.value]
    ]
    out["priority"] = prio
    out["by_zone"] = [
        _group_row({"zone": z.value, "label": z.label}, [t for t in tickets if t.zone == z], target)
        for z in Zone
    ]
    by_business = defaultdict(list)
    for t in tickets:
        by_business[t.business_code].append(t)
    order = {c: i for i, c in enumerate(business_names)}
    out["by_business"] = [
        _group_row(
            {"code": code, "name": business_names.get(code, code)}, rows, target, service=True
        )
        for code, rows in sorted(by_business.items(), key=lambda kv: order.get(kv[0], 999))
    ]
    out["by_tier"] = [
        _group_row({"tier": key, "label": label}, rows, target)
        for key, label, rows in (
            *((tier.value, tier.label, [t for t in tickets if t.tier == tier]) for tier in Tier),
            (WALK_IN, tr("未识别客户"), [t for t in tickets if t.tier is None]),
        )
    ]
    service = [v for t in tickets if (v := t.service_s) is not None]
    out["service_avg_min"] = _avg_min(service)
    out["longest_waits"] = [
        {
            "date": t.business_date.isoformat(),
            "number": t.number,
            "zone": t.zone,
            "zone_label": Zone(t.zone).short_label,
            "business": business_names.get(t.business_code, t.business_code),
            "issued_at": _local_hm(t.issued_at, tz),
            "wait_min": minutes(t.wait_s),
            "green_channel": t.green_channel,
        }
        for t in sorted(
            (t for t in tickets if t.wait_s is not None),
            key=lambda t: (-(t.wait_s or 0.0), t.issued_at),
        )[:LONGEST_LISTED]
    ]
    out["windows"] = _windows(tickets, counters, counter_events, st, start, end, now)
    out["tellers"] = _tellers(tickets, staff_name)
    out["referrals"] = _referrals(referrals, credits, staff_name)
    out["needs"] = [
        {"tag": tag, "label": NEED_TAGS.get(tag, tag), "count": needs[tag]}
        for tag in sorted(needs, key=lambda k: (-needs[k], k))
    ]
    out["diversion"] = _diversion(tickets, transfers)
    out["ratings"] = _ratings(tickets)
    out["hourly"] = _hourly(tickets, tz)
    out["per_day"] = _per_day(tickets, referrals, closes, start, end, target)
    out["closed"] = {d.isoformat(): v for d, v in sorted(closes.items())}
    return out


def _closed_days(s: Session, start: date, end: date) -> dict[date, int]:
    """The days of the range that are closed now, with the version their figures stand at:
    a day's latest version is a close or a correction (``store.closed.is_closed``); a day
    whose latest version is a reopen is open again."""
    latest: dict[date, tuple[int, str]] = {}
    for d, version, kind in s.execute(
        select(DayClose.business_date, DayClose.version, DayClose.kind).where(
            DayClose.business_date >= start, DayClose.business_date <= end
        )
    ):
        if d not in latest or version > latest[d][0]:
            latest[d] = (version, kind)
    return {d: v for d, (v, kind) in latest.items() if kind in ("close", "correction")}


def _customers(tickets: list[_T], transfers: Sequence[Any]) -> dict[str, Any]:
    status = Tally(t.status for t in tickets)
    return {
        "issued": len(tickets),
        "served": status["done"],
        "served_at_windows": sum(1 for t in tickets if t.status == "done" and t.window_no),
        "no_show": status["no_show"],
        "left": status["left"],
        "not_served": status["not_served"],
        "waiting": status["waiting"],
        "in_service": status["called"] + status["serving"],
        "transfers": len(transfers),
        "transferred_tickets": len({tid for tid, _ in transfers}),
        "walk_ins": sum(1 for t in tickets if t.customer_id is None),
        "identified": sum(1 for t in tickets if t.customer_id is not None),
    }


def _flagged(tickets: list[_T], flag: Any, target: int) -> dict[str, Any]:
    mine = [t for t in tickets if flag(t)]
    return {
        "issued": len(mine),
        "served": sum(1 for t in mine if t.status == "done"),
        "wait": wait_stats([w for t in mine if (w := t.wait_s) is not None], target),
    }


def _group_row(
    head: dict[str, Any], rows: list[_T], target: int, *, service: bool = False
) -> dict[str, Any]:
    waits = wait_stats([w for t in rows if (w := t.wait_s) is not None], target)
    row = dict(head)
    row.update(
        issued=len(rows),
        served=sum(1 for t in rows if t.status == "done"),
        no_show=sum(1 for t in rows if t.status == "no_show"),
        left=sum(1 for t in rows if t.status in ("left", "not_served")),
        wait_avg_min=waits["avg_min"],
        wait_median_min=waits["median_min"],
        wait_p90_min=waits["p90_min"],
        wait_max_min=waits["max_min"],
        over_target=waits["over_target"],
    )
    if service:
        times = sorted(v for t in rows if (v := t.service_s) is not None)
        row["service_n"] = len(times)
        row["service_avg_min"] = _avg_min(times)
        row["service_median_min"] = minutes(nearest_rank(times, 0.5))
    return row


def _windows(
    tickets: list[_T],
    counters: list[Counter],
    events: list[Any],
    st: BranchSettings,
    start: date,
    end: date,
    now: datetime,
) -> list[dict[str, Any]]:
    by_window: dict[int, list[_T]] = defaultdict(list)
    at_window: dict[tuple[date, int], list[_T]] = defaultdict(list)
    in_zone: dict[tuple[date, str], list[_T]] = defaultdict(list)
    days = sorted({t.business_date for t in tickets})
    for t in tickets:
        in_zone[(t.business_date, t.zone)].append(t)
        if t.window_no is not None:
            by_window[t.window_no].append(t)
            at_window[(t.business_date, t.window_no)].append(t)
    per_window_events: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for window_no, at, is_open in events:
        per_window_events[window_no].append((at, is_open))
    bases = {d: _day_bounds(d, st.tz)[0] for d in days}
    # when someone of each zone was waiting for a first call, per day (seconds from midnight)
    demand: dict[tuple[date, str], list[Span]] = {
        (d, z): union(
            (
                (t.issued_at - bases[d]).total_seconds(),
                ((t.first_called_at or t.finished_at or now) - bases[d]).total_seconds(),
            )
            for t in rows
        )
        for (d, z), rows in in_zone.items()
    }
    out = []
    for c in counters:
        zones = {z for z in c.zones.split(",") if z}
        mine = by_window.get(c.window_no, [])
        service = [v for t in mine if (v := t.service_s) is not None]
        idle = 0.0
        for d in days:
            served_here = at_window.get((d, c.window_no))
            if not served_here:
                continue
            waiting = union(span for z in zones for span in demand.get((d, z), []))
            idle += _idle_seconds(
                c, served_here, waiting, per_window_events[c.window_no], st.tz, d, now
            )
        out.append(
            {
                "window": c.window_no,
                "name": c.name,
                "zones": sorted(zones),
                "served": sum(1 for t in mine if t.status == "done"),
                "service_avg_min": _avg_min(service),
                "idle_while_waiting_min": minutes(idle),
            }
        )
    return out


def _idle_seconds(
    c: Counter,
    served_here: list[_T],
    demand: list[Span],
    events: list[tuple[datetime, bool]],
    tz: ZoneInfo,
    d: date,
    now: datetime,
) -> float:
    base = _day_bounds(d, tz)[0]

    def sec(at: datetime) -> float:
        return (at - base).total_seconds()

    busy = union((sec(t.called_at), sec(t.finished_at or now)) for t in served_here if t.called_at)
    if not busy:
        return 0.0
    span = [(busy[0][0], busy[-1][1])]
    day_start, day_end = _day_bounds(d, tz)
    before = [ok for at, ok in events if at < day_start]
    during = [(sec(at), ok) for at, ok in events if day_start <= at < day_end]
    if before:
        is_open = before[-1]
    elif during:
        is_open = not during[0][1]
    else:
        is_open = c.is_open
    open_spans: list[Span] = []
    cursor = 0.0
    for at, ok in during:
        if is_open and not ok:
            open_spans.append((cursor, at))
        if ok and not is_open:
            cursor = at
        is_open = ok
    if is_open:
        open_spans.append((cursor, 86_400.0 * 2))
    if not open_spans:
        return 0.0
    idle = subtract(intersect(intersect(demand, span), union(open_spans)), busy)
    return measure(idle)


def _tellers(tickets: list[_T], staff_name: Any) -> list[dict[str, Any]]:
    by: dict[str, list[_T]] = defaultdict(list)
    for t in tickets:
        if t.served_by and t.window_no is not None:
            by[t.served_by].append(t)
    out = []
    for no in sorted(by):
        service = [v for t in by[no] if (v := t.service_s) is not None]
        out.append(
            {
                "staff_no": no,
                "name": staff_name(no),
                "served": sum(1 for t in by[no] if t.status == "done"),
                "service_avg_min": _avg_min(service),
                "windows": sorted({t.window_no for t in by[no] if t.window_no is not None}),
            }
        )
    return out


def _yuan(fen: int) -> float:
    return round(fen / 100.0, 2)


def _referrals(
    referrals: list[Referral], credits: list[ReferralCredit], staff_name: Any
) -> dict[str, Any]:
    status = Tally(r.status for r in referrals)
    by_referrer: dict[str, list[Referral]] = defaultdict(list)
    by_manager: dict[str, list[Referral]] = defaultdict(list)
    for r in referrals:
        by_referrer[r.referrer].append(r)
        by_manager[r.to_staff].append(r)
    credit: dict[str, dict[str, Any]] = {}
    for c in credits:
        row = credit.setdefault(
            c.staff_no, {"staff_no": c.staff_no, "name": staff_name(c.staff_no), "sales": 0}
        )
        row["sales"] += 1
        row["credit_fen"] = row.get("credit_fen", 0) + c.amount_fen
    sold = [r for r in referrals if r.status == "sold"]

    def states(rows: list[Referral]) -> dict[str, int]:
        """The same state counts for a referrer's and a manager's row: each referral in
        exactly one of sold, declined, follow_up and open (no outcome yet: new, accepted,
        contacted), so the columns add up to the row's referrals in both tables."""
        n = Tally(r.status for r in rows)
        return {
            "sold": n["sold"],
            "declined": n["declined"],
            "follow_up": n["follow_up"],
            "open": sum(n[k] for k in OPEN_STATES),
        }

    return {
        "made": len(referrals),
        "sold": len(sold),
        "sold_amount_yuan": _yuan(sum(r.amount_fen for r in sold)),
        "by_status": [
            {"status": k, "label": STATUS_LABELS[k], "count": status[k]}
            for k in STATUS_ORDER
            if status[k]
        ],
        "by_referrer": [
            {
                "staff_no": no,
                "name": staff_name(no),
                "made": len(rows),
                **states(rows),
            }
            for no, rows in sorted(by_referrer.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
        "by_manager": [
            {
                "staff_no": no,
                "name": staff_name(no),
                "received": len(rows),
                **states(rows),
            }
            for no, rows in sorted(by_manager.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
        "credits": [
            {
                "staff_no": row["staff_no"],
                "name": row["name"],
                "sales": row["sales"],
                "credit_yuan": _yuan(row.get("credit_fen", 0)),
            }
            for row in sorted(
                credit.values(), key=lambda r: (-r.get("credit_fen", 0), r["staff_no"])
            )
        ],
    }


# final states in which a ticket was not served anywhere
_NOT_SERVED = ("left", "not_served", "no_show")


def _diversion(tickets: list[_T], transfers: Sequence[Any]) -> dict[str, Any]:
    """E-channel diversion (电子渠道分流, DOMAIN.md "What the branch measures"), one count per
    ticket: a ticket is diverted when its final zone is self-service and it was not settled
    as left, not served or no-show. It counts ``at_desk`` when it was issued there and never
    left that zone, else ``by_transfer`` (it reached self-service by a transfer), so the two
    add up to ``to_self_service``. A ticket the desk suggested for self-service but issued to
    a counter, or one transferred back to a counter ("客户不会用机器"), is not diverted; it
    counts in ``kept_at_counter``."""
    ss = Zone.SELF_SERVICE.value
    moved_zone: set[str] = set()  # tickets that were, by a transfer, outside self-service
    sent_to_ss: set[str] = set()
    for tid, detail in transfers:
        try:
            d = json.loads(detail or "{}")
        except ValueError:
            continue
        if d.get("to_zone") == ss:
            sent_to_ss.add(tid)
        if d.get("from_zone", ss) != ss or d.get("to_zone", ss) != ss:
            moved_zone.add(tid)
    diverted = [t for t in tickets if t.zone == ss and t.status not in _NOT_SERVED]
    by_transfer = sum(1 for t in diverted if t.id in moved_zone)
    kept = sum(
        1 for t in tickets if t.zone != ss and (t.suggested_zone == ss or t.id in sent_to_ss)
    )
    total = len(diverted)
    return {
        "to_self_service": total,
        "at_desk": total - by_transfer,
        "by_transfer": by_transfer,
        "kept_at_counter": kept,
        "share_pct": round(100.0 * total / len(tickets), 1) if tickets else None,
    }


def _ratings(tickets: list[_T]) -> dict[str, Any]:
    scores = [t.rating for t in tickets if t.rating is not None]
    tally = Tally(scores)
    return {
        "n": len(scores),
        "avg": round(sum(scores) / len(scores), 2) if scores else None,
        "by_score": {str(k): tally[k] for k in range(5, 0, -1)},
        "satisfied_pct": (
            round(100.0 * sum(1 for v in scores if v >= 4) / len(scores), 1) if scores else None
        ),
    }


def _hourly(tickets: list[_T], tz: ZoneInfo) -> list[dict[str, Any]]:
    arrivals = Tally(t.issued_at.astimezone(tz).hour for t in tickets)
    served = Tally(
        t.finished_at.astimezone(tz).hour
        for t in tickets
        if t.status == "done" and t.window_no is not None and t.finished_at
    )
    hours = set(arrivals) | set(served)
    first = min(hours | {9})
    last = max(hours | {16})
    return [
        {"hour": h, "arrivals": arrivals[h], "served": served[h]} for h in range(first, last + 1)
    ]


def _per_day(
    tickets: list[_T],
    referrals: list[Referral],
    closes: dict[date, int],
    start: date,
    end: date,
    target: int,
) -> list[dict[str, Any]]:
    by_day: dict[date, list[_T]] = defaultdict(list)
    for t in tickets:
        by_day[t.business_date].append(t)
    refs = Tally(r.business_date for r in referrals)
    out = []
    d = start
    while d <= end:
        rows = by_day.get(d, [])
        w = wait_stats([v for t in rows if (v := t.wait_s) is not None], target)
        if rows or refs[d] or d in closes:
            out.append(
                {
                    "date": d.isoformat(),
                    "issued": len(rows),
                    "served": sum(1 for t in rows if t.status == "done"),
                    "no_show": sum(1 for t in rows if t.status == "no_show"),
                    "wait_avg_min": w["avg_min"],
                    "wait_p90_min": w["p90_min"],
                    "over_target": w["over_target"],
                    "referrals": refs[d],
                    "closed": d in closes,
                }
            )
        d += timedelta(days=1)
    return out
