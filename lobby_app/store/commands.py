"""One function per lobby command; each is one short transaction on the branch store."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from lobby_app.core import limits
from lobby_app.core.business import (
    BusinessType,
    PriorityKind,
    find_business,
    parse_need,
)
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import (
    mask_free_text,
    salutation,
)
from lobby_app.core.queue import (
    LANES,
    VIP_CASH_LANE,
    Waiting,
    ahead_in_order,
    estimate_wait_min,
    format_number,
    lane_of,
    lane_zone,
    round_wait,
    served_lanes,
)
from lobby_app.core.routing import suggest_zone
from lobby_app.core.tiers import Tier, VipCard, is_vip
from lobby_app.core.zones import Zone
from lobby_app.store.closed import ensure_open
from lobby_app.store.db import Store, sql_of, sql_time, time_of
from lobby_app.store.lanes import (
    SERVING,
    QueueState,
    cash_codes,
    counter_server,
    lane_places,
    queue_state,
    service_times,
    serving_counters,
)

# The type-ahead lookup lives in store.lookup (plain SQL, no ORM); its functions are
# this module's too, as the desk, the hub and the scripts have always called them.
from lobby_app.store.lookup import LOOKUP_LIMIT as LOOKUP_LIMIT
from lobby_app.store.lookup import RECENT_NOTES as RECENT_NOTES
from lobby_app.store.lookup import customer_rows, customer_view, recent_notes
from lobby_app.store.lookup import find_one_customer as find_one_customer
from lobby_app.store.lookup import lookup_customers as lookup_customers
from lobby_app.store.lookup import record_audit as record_audit
from lobby_app.store.setup import (
    BranchSettings,
    business_from_row,
    read_business_types,
    read_settings,
)
from lobby_app.store.views import (
    CustomerView,
    IssuedTicket,
    LobbySnapshot,
    QueueEntry,
    ZoneQueue,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The ticket commands (issue, reprint, the print record, the lobby) are plain SQL on the
# store's ``sqlite3`` connection: ``lobby-app ticket`` runs without SQLAlchemy and the ORM
# models (issue 17 item 5), and the hub's issue takes a few milliseconds (item 6). The
# columns are written as the ORM writes them (``tests/store/test_issue_plain.py``); the
# rest of this module's commands load SQLAlchemy where they run.


def _new_id() -> str:
    """A row id, as ``models.base.new_id`` makes them."""
    return str(uuid.uuid4())


def _utcnow() -> datetime:
    """As ``models.base.utcnow``."""
    return datetime.now(UTC)


NOTE_MAX = limits.NOTE_MAX
REASON_MAX = limits.TICKET_REASON_MAX


@dataclass(frozen=True)
class IssueRequest:
    business_code: str
    customer_id: str | None = None
    vip: bool = False  # the lobby manager's own VIP flag
    vip_reason: str = ""
    priority: PriorityKind | None = None
    priority_reason: str = ""
    needs: tuple[str, ...] = ()
    greeting_note: str = ""
    needs_note: str = ""
    zone: Zone | None = None  # an override of the suggested zone
    zone_reason: str = ""
    actor: str = ""


# ---------------------------------------------------------------- reading helpers


def settings(store: Store) -> BranchSettings:
    with store.read_sql() as con:
        return read_settings(con)


def business_types(store: Store, *, include_inactive: bool = False) -> list[BusinessType]:
    from sqlalchemy import select

    from lobby_app.models import BusinessTypeRow

    with store.read() as s:
        rows = s.scalars(select(BusinessTypeRow).order_by(BusinessTypeRow.sort_order))
        types = [business_from_row(r) for r in rows]
    return [b for b in types if b.active or include_inactive]


# ---------------------------------------------------------------- customers


def customer_detail(store: Store, customer_id: str, *, actor: str, notes: int = 10) -> CustomerView:
    """One customer with the notes of their recent visits; leaves an audit record."""
    from lobby_app.models import AuditEvent, Customer

    with store.write() as s:
        cust = s.get(Customer, customer_id)
        if cust is None:
            raise LobbyError("unknown_customer", tr("找不到该客户，可能已被删除，请重新查询"))
        s.add(AuditEvent(actor=actor, action="view_customer", detail=cust.customer_no))
        con: Any = s.connection().connection.driver_connection  # this transaction, in SQL
        (row,) = customer_rows(con, [customer_id])
        return customer_view(row, recent_notes(con, [customer_id], notes).get(customer_id, ()))


# ---------------------------------------------------------------- tickets


def _check_text(value: str, field: str, label: str, limit: int) -> str:
    """Typed notes and reasons: the limit, and no NUL/ESC/direction overrides (head office's
    database refuses NUL: one such note would hold up the branch's sync; core/limits.py)."""
    return limits.check_text(value, field=field, label=label, limit=limit, multiline=True)


_NEXT_SEQ = (
    "insert into number_counter (business_date, prefix, last_seq) values (?, ?, 1) "
    "on conflict (business_date, prefix) do update set last_seq = number_counter.last_seq + 1 "
    "returning last_seq"
)


def _next_seq(s: Session | sqlite3.Connection, bdate: date, prefix: str) -> int:
    """Bump the day's counter for a prefix inside the issuing transaction (an ORM command's
    session is bumped through its own connection)."""
    con = s if isinstance(s, sqlite3.Connection) else sql_of(s)
    (seq,) = con.execute(_NEXT_SEQ, (bdate.isoformat(), prefix)).fetchone()
    return int(seq)


def _open_windows(con: sqlite3.Connection, zone: Zone) -> int:
    counters = con.execute(f"select zones from counter where {SERVING}")
    return sum(1 for (zones,) in counters if zone.value in zones.split(","))


def open_window_count(store: Store, zone: Zone) -> int:
    """How many windows serve ``zone`` right now (open, with a signed-in teller)."""
    with store.read_sql() as con:
        return _open_windows(con, zone)


def no_window_warning(store: Store, zone: Zone, business_code: str = "") -> str:
    """What to tell the lobby manager when a ticket goes to a queue nobody serves now
    (cash work in the VIP area waits for a VIP cash counter)."""
    with store.read_sql() as con:
        cash = business_code in cash_codes(con)
        if (
            con.execute("select id from counter where retired_at is null limit 1").fetchone()
            is None
        ):
            return tr(
                "本网点还没有设置柜台窗口：请网点负责人添加柜台和员工(设置 → 网点设置，"
                "或 lobby-app counter add / staff add)"
            )
        lane = lane_of(zone, cash)
        served = served_lanes(counter_server(c) for c in serving_counters(con))
        if lane not in served:
            what = zone.label
            if lane == VIP_CASH_LANE:
                what = tr("贵宾现金柜台")
            elif zone is Zone.VIP:
                what = tr("贵宾理财室")
            return tr(f"{what}目前没有开放的窗口(无柜员签到或已暂停)，请安排柜员开窗")
    return ""


def issue_ticket(
    store: Store, req: IssueRequest, *, now: datetime | None = None, request_id: str | None = None
) -> IssuedTicket:
    """Issue a queue ticket: number, zone, flags, notes and the place in the queue."""
    greeting = _check_text(req.greeting_note, "greeting_note", tr("迎宾备注"), NOTE_MAX)
    needs_note = _check_text(req.needs_note, "needs_note", tr("需求备注"), NOTE_MAX)
    vip_reason = _check_text(req.vip_reason, "vip_reason", tr("贵宾原因"), REASON_MAX)
    prio_reason = _check_text(req.priority_reason, "priority_reason", tr("优先原因"), REASON_MAX)
    zone_reason = _check_text(req.zone_reason, "zone_reason", tr("改派原因"), REASON_MAX)
    limits.check_actor(req.actor)
    # No full ID, phone or card number is kept in free text: masked as JR/T 0171 shows them
    # (DOMAIN.md "Confidentiality"), and the lobby manager is told (``notes_masked``).
    typed = (greeting, needs_note, vip_reason, prio_reason, zone_reason)
    greeting, needs_note, vip_reason, prio_reason, zone_reason = map(mask_free_text, typed)
    notes_masked = typed != (greeting, needs_note, vip_reason, prio_reason, zone_reason)
    needs = tuple(sorted({parse_need(n) for n in req.needs}))
    if req.priority is PriorityKind.OTHER and not prio_reason:
        raise LobbyError(
            "reason_required", tr("优先类型为“其他”时请填写优先原因"), field="priority_reason"
        )
    now = now or _utcnow()
    with store.write_sql() as con:
        if request_id:
            done = con.execute(
                "select command, result from command_log where request_id = ?", (request_id,)
            ).fetchone()
            if done is not None:  # a retry: answer as the first time, issue nothing
                command, result = done
                first = (
                    _issued_view(con, json.loads(result)["id"])
                    if command == "issue_ticket"
                    else None
                )
                if first is None:
                    raise LobbyError(
                        "request_id_reused", tr("请求编号已用于另一条指令，请换一个新的请求编号")
                    )
                return first
        st = read_settings(con)
        bdate = st.business_date(now)
        ensure_open(con, bdate)
        rows = read_business_types(con, req.business_code)
        if rows and rows[0].active:
            btype = rows[0]
        else:  # the error lists the codes that do exist
            btype = find_business(req.business_code, read_business_types(con))
        cust: _Customer | None = None
        if req.customer_id:
            found = con.execute(_CUSTOMER, (req.customer_id,)).fetchone()
            if found is None:
                raise LobbyError(
                    "unknown_customer", tr("找不到该客户，请重新查询"), field="customer"
                )
            cust = _Customer(*found)
        tier = Tier(cust.tier) if cust else None
        card = VipCard(cust.vip_card) if cust and cust.vip_card else None
        entitled = tier is not None and is_vip(tier, card)
        if req.vip and not entitled and not vip_reason:
            raise LobbyError(
                "reason_required",
                tr("该客户不是中高端客户也未持贵宾卡，手动标记贵宾请填写原因"),
                field="vip_reason",
            )
        vip = entitled or req.vip
        # the VIP area only where its counter for this work is open (core/routing.py)
        counters = serving_counters(con)
        served = served_lanes(counter_server(c) for c in counters)
        suggestion = suggest_zone(
            btype, tier=tier, vip_card=card, vip=vip, priority=req.priority, served=served
        )
        zone = req.zone or suggestion.zone
        green = vip or req.priority is not None
        seq = _next_seq(con, bdate, zone.prefix)
        day_seq = _next_seq(con, bdate, "*")
        ticket_id = _new_id()
        number = format_number(zone.prefix, seq)
        issued_at = sql_time(now)
        con.execute(
            _INSERT_TICKET,
            {
                "id": ticket_id,
                "business_date": bdate.isoformat(),
                "number": number,
                "prefix": zone.prefix,
                "seq": seq,
                "day_seq": day_seq,
                "business_code": btype.code,
                "customer_id": cust.id if cust else None,
                "zone": zone.value,
                "suggested_zone": suggestion.zone.value,
                "zone_override_reason": zone_reason if zone is not suggestion.zone else "",
                "tier": tier.value if tier else None,
                "vip_card": card.value if card else None,
                "prospect": bool(cust and cust.prospect),
                "vip": vip,
                "vip_reason": vip_reason if req.vip else "",
                "priority": req.priority.value if req.priority else None,
                "priority_reason": prio_reason,
                "green_channel": green,
                "greeting_note": greeting,
                "needs_note": needs_note,
                "issued_at": issued_at,
                "issued_by": req.actor,
            },
        )
        con.executemany(
            "insert into ticket_need (ticket_id, tag) values (?, ?)",
            [(ticket_id, tag) for tag in needs],
        )
        # place and wait by the calling rule itself, played forward (store/lanes.py)
        state = queue_state(
            con,
            bdate,
            now,
            st.queue_policy,
            times=service_times(con, now, settings=st),
            counters=counters,
        )
        mine = next(w for w in state.waiting if w.ticket_id == ticket_id)
        ahead = ahead_in_order(state.orders(), mine)
        est = _wait_minutes(state, mine, ahead)
        if (ahead, est) != (0, 0):  # as the ORM wrote it: an update only when they differ
            con.execute(
                "update ticket set ahead_at_issue = ?, estimated_wait_min = ? where id = ?",
                (ahead, est, ticket_id),
            )
        events = [(_new_id(), ticket_id, issued_at, "issued", req.actor, "")]
        if zone is not suggestion.zone:
            detail = {
                "suggested": suggestion.zone.value,
                "chosen": zone.value,
                "reason": zone_reason,
            }
            events.append(
                (
                    _new_id(),
                    ticket_id,
                    issued_at,
                    "zone_override",
                    req.actor,
                    json.dumps(detail, ensure_ascii=False),
                )
            )
        con.executemany(_INSERT_EVENT, events)
        if request_id:
            con.execute(
                "insert into command_log (request_id, command, at, result) values (?, ?, ?, ?)",
                (request_id, "issue_ticket", sql_time(_utcnow()), json.dumps({"id": ticket_id})),
            )
        return IssuedTicket(
            id=ticket_id,
            number=number,
            business_date=bdate,
            issued_at=now,
            business_code=btype.code,
            business_name=btype.name,
            zone=zone,
            suggested_zone=suggestion.zone,
            zone_reason=suggestion.reason,
            customer_no=cust.customer_no if cust else None,
            salutation=salutation(cust.name, cust.gender) if cust else None,
            tier=tier,
            vip_card=card,
            vip=vip,
            priority=req.priority,
            green_channel=green,
            ahead=ahead,
            estimated_wait_min=est,
            needs=needs,
            windows=tuple(lane_places(con, counters).get(mine.lane, ())),
            notes_masked=notes_masked,
        )


@dataclass(frozen=True)
class _Customer:
    """What a ticket takes from its customer's row."""

    id: str
    customer_no: str
    name: str
    gender: str | None
    tier: str
    vip_card: str | None
    prospect: bool


_CUSTOMER = (
    "select id, customer_no, name, gender, tier, vip_card, prospect from customer where id = ?"
)

# Every column of a new ticket, with the values the ORM model gives those a ticket is
# issued without (``models.ticket.Ticket``'s defaults).
_INSERT_TICKET = """
insert into ticket (
    id, business_date, number, prefix, seq, day_seq, business_code, customer_id, zone,
    suggested_zone, zone_override_reason, tier, vip_card, prospect, vip, vip_reason, priority,
    priority_reason, green_channel, greeting_note, needs_note, status, issued_at, called_at,
    first_called_at, started_at, finished_at, window_no, assigned_window, recalls, served_by,
    rating, settle_reason, issued_by, ahead_at_issue, estimated_wait_min, print_status,
    print_error
) values (
    :id, :business_date, :number, :prefix, :seq, :day_seq, :business_code, :customer_id, :zone,
    :suggested_zone, :zone_override_reason, :tier, :vip_card, :prospect, :vip, :vip_reason,
    :priority, :priority_reason, :green_channel, :greeting_note, :needs_note, 'waiting',
    :issued_at, null, null, null, null, null, null, 0, '', null, '', :issued_by, 0, 0,
    'pending', ''
)
"""
_INSERT_EVENT = (
    "insert into ticket_event (id, ticket_id, at, kind, actor, detail) values (?, ?, ?, ?, ?, ?)"
)


def _wait_minutes(state: QueueState, ticket: Waiting, ahead: int) -> int:
    """Minutes until ``ticket`` is called: the forecast of the calling rule; where no open
    window serves its queue, the work ahead of it as if one window opened now."""
    called_in = state.forecast().wait(ticket.ticket_id)
    if called_in is not None:
        return round_wait(called_in)
    orders = state.orders()
    lane = (
        orders.assigned.get(ticket.assigned_window, [])
        if ticket.assigned_window is not None
        else orders.lanes.get(ticket.lane, [])
    )
    return estimate_wait_min([state.minutes(t) for t in lane[:ahead]], 1)


_ISSUED = """
select t.id, t.number, t.business_date, t.issued_at, t.business_code, b.name, t.zone,
       t.suggested_zone, c.customer_no, c.name, c.gender, t.tier, t.vip_card, t.vip,
       t.priority, t.green_channel, t.ahead_at_issue, t.estimated_wait_min
from ticket t
left outer join customer c on c.id = t.customer_id
left outer join business_type b on b.code = t.business_code
"""


def _issued_view(con: sqlite3.Connection, ticket_id: str) -> IssuedTicket | None:
    """A ticket as it was issued, read back (a retried issue, a reprint); None if there
    is no such ticket."""
    row = con.execute(f"{_ISSUED} where t.id = ?", (ticket_id,)).fetchone()
    return None if row is None else _issued_row(con, row)


def _issued_row(con: sqlite3.Connection, row: Sequence[Any]) -> IssuedTicket:
    (tid, number, bdate, issued_at, code, name, zone, suggested, customer_no, cust_name,
     gender, tier, card, vip, priority, green, ahead, est) = row  # fmt: skip
    tags = con.execute("select tag from ticket_need where ticket_id = ?", (tid,)).fetchall()
    return IssuedTicket(
        id=tid,
        number=number,
        business_date=date.fromisoformat(bdate),
        issued_at=time_of(issued_at),
        business_code=code,
        business_name=name or code,
        zone=Zone(zone),
        suggested_zone=Zone(suggested),
        zone_reason="",
        customer_no=customer_no,
        salutation=salutation(cust_name, gender) if customer_no is not None else None,
        tier=Tier(tier) if tier else None,
        vip_card=VipCard(card) if card else None,
        vip=bool(vip),
        priority=PriorityKind(priority) if priority else None,
        green_channel=bool(green),
        ahead=ahead,
        estimated_wait_min=est,
        needs=tuple(sorted(tag for (tag,) in tags)),
    )


def ticket_by_number(store: Store, number: str, *, on: date | None = None) -> IssuedTicket:
    """A ticket of the day (today by default) by its number, for reprinting."""
    with store.read_sql() as con:
        bdate = on or read_settings(con).business_date(_utcnow())
        row = con.execute(
            f"{_ISSUED} where t.business_date = ? and t.number = ?",
            (bdate.isoformat(), number.upper()),
        ).fetchone()
        if row is None:
            raise LobbyError(
                "unknown_ticket", tr(f"{bdate} 没有 {number} 号票，请核对号码"), field="ticket"
            )
        return _issued_row(con, row)


def record_print(
    store: Store,
    ticket_id: str,
    *,
    ok: bool,
    detail: str = "",
    actor: str = "",
    now: datetime | None = None,
) -> None:
    """Remember whether the ticket reached paper, so a failed print can be redone."""
    status = "printed" if ok else "failed"
    detail = limits.clean_detail(detail, limits.PRINT_ERROR_MAX)  # a station's words
    error = "" if ok else detail
    with store.write_sql() as con:
        row = con.execute(
            "select print_status, print_error from ticket where id = ?", (ticket_id,)
        ).fetchone()
        if row is None:
            raise LobbyError("unknown_ticket", tr("找不到该票，无法记录打印结果"))
        if tuple(row) != (status, error):  # as the ORM wrote it: an update only on a change
            con.execute(
                "update ticket set print_status = ?, print_error = ? where id = ?",
                (status, error, ticket_id),
            )
        con.execute(
            _INSERT_EVENT,
            (
                _new_id(),
                ticket_id,
                sql_time(now or _utcnow()),
                "printed" if ok else "print_failed",
                actor,
                detail[:500],
            ),
        )


# ---------------------------------------------------------------- the lobby


def lobby_snapshot(store: Store, *, now: datetime | None = None) -> LobbySnapshot:
    """Every zone's waiting tickets in serving order, with counts and waits."""
    now = now or _utcnow()
    with store.read_sql() as con:
        st = read_settings(con)
        bdate = st.business_date(now)
        day = bdate.isoformat()
        names = dict(con.execute("select code, name from business_type").fetchall())
        counted = con.execute(
            "select last_seq from number_counter where business_date = ? and prefix = '*'", (day,)
        ).fetchone()
        issued = (counted[0] if counted else 0) or 0
        # One read of the queue for the whole lobby; the order, ``ahead`` and the waits come
        # from the calling rule itself (store/lanes.py), as the windows will call.
        state = queue_state(con, bdate, now, st.queue_policy)
        orders = state.orders()
        called_in = state.forecast().call_in_min
        # someone arriving now without a flag, at the end of each queue
        probes = [
            Waiting(
                f"new:{lane}", "", lane_zone(lane), False, now, 1 << 40, cash=lane == VIP_CASH_LANE
            )
            for lane in LANES
        ]
        new_in = state.forecast(probes).call_in_min
        flags = {
            tid: (bool(vip), priority, tier)
            for tid, vip, priority, tier in con.execute(
                "select id, vip, priority, tier from ticket "
                "where business_date = ? and status = 'waiting'",
                (day,),
            )
        }
        places: list[tuple[Waiting, str, int]] = []  # ticket, lane, ahead in it
        for lane, tickets in orders.lanes.items():
            places.extend((t, lane, i) for i, t in enumerate(tickets))
        for tickets in orders.assigned.values():
            places.extend((t, t.lane, i) for i, t in enumerate(tickets))
        zones: list[ZoneQueue] = []
        never = float("inf")
        for zone in Zone:
            mine = sorted(
                (p for p in places if p[0].zone is zone),
                key=lambda p: (called_in.get(p[0].ticket_id, never), p[2], p[0].seq),
            )
            entries = []
            for pos, (w, lane, ahead) in enumerate(mine):
                vip, priority, tier = flags[w.ticket_id]
                wait = called_in.get(w.ticket_id)
                entries.append(
                    QueueEntry(
                        ticket_id=w.ticket_id,
                        number=w.number,
                        zone=zone,
                        position=pos,
                        business_name=names.get(w.business_code, w.business_code),
                        green_channel=w.green_channel,
                        vip=vip,
                        priority=PriorityKind(priority) if priority else None,
                        tier=Tier(tier) if tier else None,
                        issued_at=w.issued_at,
                        waited_min=max(0, int((now - w.issued_at).total_seconds() // 60)),
                        lane=lane,
                        ahead=ahead,
                        estimated_wait_min=None if wait is None else round_wait(wait),
                        assigned_window=w.assigned_window,
                    )
                )
            windows = sum(1 for c in state.servers if zone in c.zones)
            zone_lanes = [lane for lane in LANES if lane_zone(lane) is zone]
            probe = [new_in[f"new:{lane}"] for lane in zone_lanes if f"new:{lane}" in new_in]
            if probe:
                estimate = round_wait(min(probe))
            else:  # nobody serves the zone now: the work waiting, as if one window opened
                estimate = estimate_wait_min([state.minutes(p[0]) for p in mine], 1)
            zones.append(
                ZoneQueue(
                    zone=zone,
                    waiting=tuple(entries),
                    longest_wait_min=max((e.waited_min for e in entries), default=0),
                    estimated_wait_min=estimate,
                    open_windows=windows,
                )
            )
        return LobbySnapshot(
            business_date=bdate,
            at=now,
            zones=tuple(zones),
            issued_today=issued,
            branch_name=st.display_name,
            timezone=st.timezone,
            served_lanes=tuple(sorted(served_lanes(state.servers))),
        )


# ---------------------------------------------------------------- set-up


def replace_business_types(store: Store, table: Sequence[BusinessType], *, actor: str) -> int:
    """Make ``table`` the branch's business table. Codes no longer listed are deactivated,
    not deleted, because past tickets refer to them."""
    from sqlalchemy import select

    from lobby_app.models import AuditEvent, BusinessTypeRow
    from lobby_app.store.setup import business_row

    with store.write() as s:
        existing = {r.code: r for r in s.scalars(select(BusinessTypeRow))}
        for b in table:
            row = business_row(b)
            if b.code in existing:
                old = existing.pop(b.code)
                for col in (
                    "name",
                    "category",
                    "zone",
                    "counter_zone",
                    "service_minutes",
                    "sort_order",
                    "active",
                ):
                    setattr(old, col, getattr(row, col))
            else:
                s.add(row)
        for leftover in existing.values():
            leftover.active = False
        s.add(
            AuditEvent(actor=actor, action="business_types", detail=",".join(b.code for b in table))
        )
    return len(table)


# settings that the branch set-up owns, checked by the same rules (store/admin.py)
_SETUP_KEYS = {
    "bank_name": "bank",
    "branch_name": "name",
    "branch_code": "code",
    "wait_target_min": "wait_target",
    "desk_idle_lock_min": "idle_lock",
}


def change_settings(store: Store, changes: dict[str, str], *, actor: str) -> BranchSettings:
    """Change branch settings; every value is checked before any is written."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from lobby_app.models import AuditEvent
    from lobby_app.store.setup import DEFAULT_SETTINGS, load_settings, put_setting

    for key, value in changes.items():
        if key not in DEFAULT_SETTINGS:
            known = "、".join(DEFAULT_SETTINGS)
            raise LobbyError(
                "unknown_setting", tr(f"没有设置项“{key}”。可设置：{known}"), field=key
            )
        # no NUL/ESC in any setting (a printer name with NUL broke printing); the column
        # holds 2000 (core/limits.py)
        limits.check_text(value, field=key, label=tr("设置值"), limit=limits.SETTING_MAX)
        if key in _SETUP_KEYS:
            from lobby_app.store.admin import branch_changes

            branch_changes(**{_SETUP_KEYS[key]: value})
        if key in ("open_time", "close_time"):
            from lobby_app.store.admin import parse_hours

            parse_hours(f"{value}-23:59" if key == "open_time" else f"00:00-{value}")
        if key in ("green_run", "wait_target_min") and not (value.isdigit() and int(value) >= 1):
            raise LobbyError("bad_setting", tr(f"{key} 应为正整数"), field=key)
        if key == "referral_finder_pct" and not (value.isdigit() and int(value) <= 100):
            raise LobbyError("bad_setting", tr(f"{key} 应为 0 到 100 的整数"), field=key)
        # 003 第十二条 2: special cards within 5 % of the VIP card holders; a branch may be stricter
        if key == "special_vip_max_pct" and not (value.isdigit() and int(value) <= 5):
            raise LobbyError(
                "bad_setting",
                tr(f"{key} 应为 0 到 5 的整数：特批贵宾卡不得超过贵宾卡客户总数的 5%"),
                field=key,
            )
        if key == "print_kind" and value not in ("folder", "printer", "none"):
            raise LobbyError(
                "bad_setting", tr("print_kind 应为 folder、printer 或 none"), field=key
            )
        if key == "sync_time":
            hh, _, mm = value.partition(":")
            if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
                raise LobbyError("bad_setting", tr("sync_time 应为 时:分，例如 21:30"), field=key)
        if key == "sync_url" and value and not value.startswith(("postgresql", "sqlite:///")):
            raise LobbyError(
                "bad_setting",
                tr(
                    "sync_url 应为 postgresql+psycopg://用户:密码@主机:端口/库名，或留空用本机演示库"
                ),
                field=key,
            )
        if key == "timezone":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise LobbyError(
                    "bad_setting", tr(f"未知时区“{value}”，例如 Asia/Shanghai"), field=key
                ) from None
    with store.write() as s:
        for key, value in changes.items():
            put_setting(s, key, value)
        s.add(AuditEvent(actor=actor, action="settings", detail=",".join(sorted(changes))))
        return load_settings(s)
