"""One function per lobby command; each is one short transaction on the branch store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

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
from lobby_app.models import (
    AuditEvent,
    BusinessTypeRow,
    CommandLog,
    Counter,
    Customer,
    NumberCounter,
    Ticket,
    TicketEvent,
    TicketNeed,
)
from lobby_app.models.base import utcnow
from lobby_app.store.closed import ensure_open
from lobby_app.store.db import Store
from lobby_app.store.lanes import (
    SERVING,
    QueueState,
    cash_codes,
    counter_server,
    lane_places,
    queue_state,
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
from lobby_app.store.setup import BranchSettings, business_from_row, load_settings
from lobby_app.store.views import (
    CustomerView,
    IssuedTicket,
    LobbySnapshot,
    QueueEntry,
    ZoneQueue,
)

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
    with store.read() as s:
        return load_settings(s)


def business_types(store: Store, *, include_inactive: bool = False) -> list[BusinessType]:
    with store.read() as s:
        rows = s.scalars(select(BusinessTypeRow).order_by(BusinessTypeRow.sort_order))
        types = [business_from_row(r) for r in rows]
    return [b for b in types if b.active or include_inactive]


# ---------------------------------------------------------------- customers


def customer_detail(store: Store, customer_id: str, *, actor: str, notes: int = 10) -> CustomerView:
    """One customer with the notes of their recent visits; leaves an audit record."""
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


def _next_seq(s: Session, bdate: date, prefix: str) -> int:
    """Bump the day's counter for a prefix inside the issuing transaction."""
    stmt = (
        sqlite_insert(NumberCounter)
        .values(business_date=bdate, prefix=prefix, last_seq=1)
        .on_conflict_do_update(
            index_elements=["business_date", "prefix"],
            set_={"last_seq": NumberCounter.last_seq + 1},
        )
        .returning(NumberCounter.last_seq)
    )
    return int(s.execute(stmt).scalar_one())


def _open_windows(s: Session, zone: Zone) -> int:
    counters = s.scalars(select(Counter.zones).where(*SERVING))
    return sum(1 for zones in counters if zone.value in zones.split(","))


def open_window_count(store: Store, zone: Zone) -> int:
    """How many windows serve ``zone`` right now (open, with a signed-in teller)."""
    with store.read() as s:
        return _open_windows(s, zone)


def no_window_warning(store: Store, zone: Zone, business_code: str = "") -> str:
    """What to tell the lobby manager when a ticket goes to a queue nobody serves now
    (cash work in the VIP area waits for a VIP cash counter)."""
    with store.read() as s:
        cash = business_code in cash_codes(s)
        if s.scalar(select(Counter.id).where(Counter.retired_at.is_(None)).limit(1)) is None:
            return tr(
                "本网点还没有设置柜台窗口：请网点负责人添加柜台和员工(设置 → 网点设置，"
                "或 lobby-app counter add / staff add)"
            )
        lane = lane_of(zone, cash)
        served = served_lanes(counter_server(c) for c in serving_counters(s))
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
    now = now or utcnow()
    with store.write() as s:
        if request_id:
            done = s.get(CommandLog, request_id)
            if done is not None:  # a retry: answer as the first time, issue nothing
                first = s.get(Ticket, json.loads(done.result)["id"])
                if done.command != "issue_ticket" or first is None:
                    raise LobbyError(
                        "request_id_reused", tr("请求编号已用于另一条指令，请换一个新的请求编号")
                    )
                return _issued_view(s, first)
        st = load_settings(s)
        ensure_open(s, st.business_date(now))
        row = s.get(BusinessTypeRow, req.business_code)
        if row is not None and row.active:
            btype = business_from_row(row)
        else:  # the error lists the codes that do exist
            btype = find_business(
                req.business_code,
                [business_from_row(r) for r in s.scalars(select(BusinessTypeRow))],
            )
        cust: Customer | None = None
        if req.customer_id:
            cust = s.get(Customer, req.customer_id)
            if cust is None:
                raise LobbyError(
                    "unknown_customer", tr("找不到该客户，请重新查询"), field="customer"
                )
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
        served = served_lanes(counter_server(c) for c in serving_counters(s))
        suggestion = suggest_zone(
            btype, tier=tier, vip_card=card, vip=vip, priority=req.priority, served=served
        )
        zone = req.zone or suggestion.zone
        green = vip or req.priority is not None
        bdate = st.business_date(now)
        seq = _next_seq(s, bdate, zone.prefix)
        day_seq = _next_seq(s, bdate, "*")
        ticket = Ticket(
            business_date=bdate,
            number=format_number(zone.prefix, seq),
            prefix=zone.prefix,
            seq=seq,
            day_seq=day_seq,
            business_code=btype.code,
            customer_id=cust.id if cust else None,
            zone=zone.value,
            suggested_zone=suggestion.zone.value,
            zone_override_reason=zone_reason if zone is not suggestion.zone else "",
            tier=tier.value if tier else None,
            vip_card=card.value if card else None,
            prospect=bool(cust and cust.prospect),
            vip=vip,
            vip_reason=vip_reason if req.vip else "",
            priority=req.priority.value if req.priority else None,
            priority_reason=prio_reason,
            green_channel=green,
            greeting_note=greeting,
            needs_note=needs_note,
            status="waiting",
            issued_at=now,
            issued_by=req.actor,
        )
        ticket.needs = [TicketNeed(tag=t) for t in needs]
        s.add(ticket)
        s.flush()
        # place and wait by the calling rule itself, played forward (store/lanes.py)
        state = queue_state(s, bdate, now, st.queue_policy)
        mine = next(w for w in state.waiting if w.ticket_id == ticket.id)
        ahead = ahead_in_order(state.orders(), mine)
        est = _wait_minutes(state, mine, ahead)
        ticket.ahead_at_issue = ahead
        ticket.estimated_wait_min = est
        events = [TicketEvent(ticket_id=ticket.id, at=now, kind="issued", actor=req.actor)]
        if zone is not suggestion.zone:
            events.append(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    kind="zone_override",
                    actor=req.actor,
                    detail=json.dumps(
                        {
                            "suggested": suggestion.zone.value,
                            "chosen": zone.value,
                            "reason": zone_reason,
                        },
                        ensure_ascii=False,
                    ),
                )
            )
        s.add_all(events)
        if request_id:
            s.add(
                CommandLog(
                    request_id=request_id,
                    command="issue_ticket",
                    result=json.dumps({"id": ticket.id}),
                )
            )
        return IssuedTicket(
            id=ticket.id,
            number=ticket.number,
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
            windows=tuple(lane_places(s).get(mine.lane, ())),
            notes_masked=notes_masked,
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


def _issued_view(s: Session, t: Ticket) -> IssuedTicket:
    cust = s.get(Customer, t.customer_id) if t.customer_id else None
    name = s.scalar(select(BusinessTypeRow.name).where(BusinessTypeRow.code == t.business_code))
    return IssuedTicket(
        id=t.id,
        number=t.number,
        business_date=t.business_date,
        issued_at=t.issued_at,
        business_code=t.business_code,
        business_name=name or t.business_code,
        zone=Zone(t.zone),
        suggested_zone=Zone(t.suggested_zone),
        zone_reason="",
        customer_no=cust.customer_no if cust else None,
        salutation=salutation(cust.name, cust.gender) if cust else None,
        tier=Tier(t.tier) if t.tier else None,
        vip_card=VipCard(t.vip_card) if t.vip_card else None,
        vip=t.vip,
        priority=PriorityKind(t.priority) if t.priority else None,
        green_channel=t.green_channel,
        ahead=t.ahead_at_issue,
        estimated_wait_min=t.estimated_wait_min,
        needs=tuple(sorted(n.tag for n in t.needs)),
    )


def ticket_by_number(store: Store, number: str, *, on: date | None = None) -> IssuedTicket:
    """A ticket of the day (today by default) by its number, for reprinting."""
    with store.read() as s:
        bdate = on or load_settings(s).business_date(utcnow())
        t = s.scalar(
            select(Ticket).where(Ticket.business_date == bdate, Ticket.number == number.upper())
        )
        if t is None:
            raise LobbyError(
                "unknown_ticket", tr(f"{bdate} 没有 {number} 号票，请核对号码"), field="ticket"
            )
        return _issued_view(s, t)


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
    with store.write() as s:
        t = s.get(Ticket, ticket_id)
        if t is None:
            raise LobbyError("unknown_ticket", tr("找不到该票，无法记录打印结果"))
        t.print_status = "printed" if ok else "failed"
        detail = limits.clean_detail(detail, limits.PRINT_ERROR_MAX)  # a station's words
        t.print_error = "" if ok else detail
        s.add(
            TicketEvent(
                ticket_id=ticket_id,
                at=now or utcnow(),
                kind="printed" if ok else "print_failed",
                actor=actor,
                detail=detail[:500],
            )
        )


# ---------------------------------------------------------------- the lobby


def lobby_snapshot(store: Store, *, now: datetime | None = None) -> LobbySnapshot:
    """Every zone's waiting tickets in serving order, with counts and waits."""
    now = now or utcnow()
    with store.read() as s:
        st = load_settings(s)
        bdate = st.business_date(now)
        names = {
            code: v for code, v in s.execute(select(BusinessTypeRow.code, BusinessTypeRow.name))
        }
        issued = (
            s.scalar(
                select(NumberCounter.last_seq).where(
                    NumberCounter.business_date == bdate, NumberCounter.prefix == "*"
                )
            )
            or 0
        )
        # One read of the queue for the whole lobby; the order, ``ahead`` and the waits come
        # from the calling rule itself (store/lanes.py), as the windows will call.
        state = queue_state(s, bdate, now, st.queue_policy)
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
            r.id: r
            for r in s.execute(
                select(Ticket.id, Ticket.vip, Ticket.priority, Ticket.tier).where(
                    Ticket.business_date == bdate, Ticket.status == "waiting"
                )
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
                f = flags[w.ticket_id]
                wait = called_in.get(w.ticket_id)
                entries.append(
                    QueueEntry(
                        ticket_id=w.ticket_id,
                        number=w.number,
                        zone=zone,
                        position=pos,
                        business_name=names.get(w.business_code, w.business_code),
                        green_channel=w.green_channel,
                        vip=f.vip,
                        priority=PriorityKind(f.priority) if f.priority else None,
                        tier=Tier(f.tier) if f.tier else None,
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

    from lobby_app.store.setup import DEFAULT_SETTINGS, put_setting

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
