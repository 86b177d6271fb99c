"""Referrals (转介) from the desk or a teller to a customer manager, their outcomes and
credit; the marketing-sentence table; and the teller's pop-up card for a called ticket.

Each command is one short transaction. A command given a request id records its answer,
so a retry after a lost reply gets the same answer and does not act twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lobby_app.core.business import NEED_TAGS, PRIORITY_LABELS, PriorityKind, parse_need
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import mask_card_parts, mask_id_last4, mask_phone_parts, salutation
from lobby_app.core.marketing import Rule, pick_sentence, sale_credit
from lobby_app.core.tiers import Tier, VipCard, is_vip
from lobby_app.core.zones import Zone
from lobby_app.models import (
    BusinessTypeRow,
    CommandLog,
    Customer,
    MarketingRule,
    Referral,
    ReferralCredit,
    Staff,
    Ticket,
    TicketNeed,
)
from lobby_app.models.base import utcnow
from lobby_app.store.commands import _next_seq
from lobby_app.store.db import Store
from lobby_app.store.setup import load_settings
from lobby_app.store.views import VisitNote

MANAGER_ROLES = ("customer_manager", "branch_head")
OUTCOMES = ("sold", "declined", "follow_up")
STATUS_LABELS = {
    "new": tr("待接收"),
    "accepted": tr("已接收"),
    "contacted": tr("已联系"),
    "sold": tr("已成交"),
    "declined": tr("客户婉拒"),
    "follow_up": tr("待跟进"),
}
MAX_AMOUNT_FEN = 10**14


def _once(
    store: Store, command: str, request_id: str | None, act: Callable[[Session], dict[str, object]]
) -> dict[str, object]:
    with store.write() as s:
        if request_id:
            done = s.get(CommandLog, request_id)
            if done is not None:
                if done.command != command:
                    raise LobbyError(
                        "request_id_reused", tr("请求编号已用于另一条指令，请换一个新的请求编号")
                    )
                result: dict[str, object] = json.loads(done.result)
                return result
        with s.no_autoflush:  # one flush, at commit: the command reads what it has not changed
            result = act(s)
        if request_id:
            s.add(
                CommandLog(
                    request_id=request_id,
                    command=command,
                    result=json.dumps(result, ensure_ascii=False, default=str),
                )
            )
        return result


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class CustomerBrief:
    """What a manager or teller sees of a customer: masked, never a full ID or phone."""

    name: str
    salutation: str
    tier: str
    tier_label: str
    vip_card: str | None
    vip_card_label: str
    vip: bool
    prospect: bool
    manager: str
    masked_id: str
    masked_phone: str
    masked_card: str


def _brief(c: Customer) -> CustomerBrief:
    tier = Tier(c.tier)
    card = VipCard(c.vip_card) if c.vip_card else None
    return CustomerBrief(
        name=c.name,
        salutation=salutation(c.name, c.gender),
        tier=tier.value,
        tier_label=tier.label,
        vip_card=card.value if card else None,
        vip_card_label=card.label if card else "",
        vip=is_vip(tier, card),
        prospect=c.prospect,
        manager=c.manager,
        masked_id=mask_id_last4(c.id_last4),
        masked_phone=mask_phone_parts(c.phone_prefix3, c.phone_last4),
        masked_card=mask_card_parts(c.card_first6, c.card_last4),
    )


@dataclass(frozen=True)
class ReferralView:
    referral_no: str
    status: str
    status_label: str
    business_date: str
    created_at: str
    ticket_number: str
    need: str
    need_label: str
    note: str
    referrer: str
    referrer_name: str
    to_staff: str
    to_name: str
    to_location: str
    customer: CustomerBrief | None
    product: str = ""
    amount_fen: int = 0
    follow_up_on: str | None = None
    outcome_note: str = ""
    sold_by: str = ""
    credits: list[dict[str, object]] = field(default_factory=list)
    recent_notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _staff_names(s: Session) -> dict[str, tuple[str, str]]:
    return {
        n: (nm, loc) for n, nm, loc in s.execute(select(Staff.staff_no, Staff.name, Staff.location))
    }


def _view(s: Session, r: Referral, *, notes: bool = False) -> ReferralView:
    staff = _staff_names(s)
    cust = s.get(Customer, r.customer_id) if r.customer_id else None
    credits = [
        {"staff": c.staff_no, "kind": c.kind, "share_pct": c.share_pct, "amount_fen": c.amount_fen}
        for c in s.scalars(
            select(ReferralCredit)
            .where(ReferralCredit.referral_id == r.id)
            .order_by(ReferralCredit.kind)
        )
    ]
    recent = _visit_summaries(s, cust.id, 5) if notes and cust is not None else []
    return ReferralView(
        referral_no=r.referral_no,
        status=r.status,
        status_label=STATUS_LABELS.get(r.status, r.status),
        business_date=r.business_date.isoformat(),
        created_at=r.created_at.isoformat(),
        ticket_number=r.ticket_number,
        need=r.need,
        need_label=NEED_TAGS.get(r.need, r.need),
        note=r.note,
        referrer=r.referrer,
        referrer_name=staff.get(r.referrer, ("", ""))[0],
        to_staff=r.to_staff,
        to_name=staff.get(r.to_staff, ("", ""))[0],
        to_location=staff.get(r.to_staff, ("", ""))[1],
        customer=_brief(cust) if cust is not None else None,
        product=r.product,
        amount_fen=r.amount_fen,
        follow_up_on=r.follow_up_on.isoformat() if r.follow_up_on else None,
        outcome_note=r.outcome_note,
        sold_by=r.sold_by,
        credits=credits,
        recent_notes=recent,
    )


# ---------------------------------------------------------------- commands


def refer(
    store: Store,
    *,
    ticket_number: str,
    to_staff: str,
    need: str,
    note: str = "",
    actor: str,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, object]:
    """Refer today's ticket ``ticket_number`` to customer manager ``to_staff`` with a need."""
    now = now or utcnow()
    need_code = parse_need(need)
    note = note.strip()
    if len(note) > 200:
        raise LobbyError("text_too_long", tr(f"转介说明最多200字，现为{len(note)}字"), field="note")
    if not actor:
        raise LobbyError("no_referrer", tr("请用工号登录后再转介(--actor 工号)"), field="actor")

    def act(s: Session) -> dict[str, object]:
        bdate = load_settings(s).business_date(now)
        number = ticket_number.strip().upper()
        t = s.scalar(select(Ticket).where(Ticket.business_date == bdate, Ticket.number == number))
        if t is None:
            raise LobbyError(
                "unknown_ticket", tr(f"今天没有 {number} 号票，请核对票号"), field="ticket"
            )
        manager = s.scalar(select(Staff).where(Staff.staff_no == to_staff.strip().upper()))
        if manager is None or not manager.active or manager.role not in MANAGER_ROLES:
            choices = "、".join(
                f"{n}({nm})"
                for n, nm in s.execute(
                    select(Staff.staff_no, Staff.name).where(
                        Staff.role == "customer_manager", Staff.active.is_(True)
                    )
                )
            )
            raise LobbyError(
                "unknown_manager",
                tr(f"“{to_staff}”不是在岗的客户经理。可转介给：{choices or '（无）'}"),
                field="to",
            )
        seq = _next_seq(s, bdate, "R")
        r = Referral(
            referral_no=f"ZJ{bdate:%y%m%d}{seq:03d}",
            business_date=bdate,
            ticket_id=t.id,
            ticket_number=t.number,
            customer_id=t.customer_id,
            need=need_code,
            note=note,
            referrer=actor,
            to_staff=manager.staff_no,
            status="new",
            created_at=now,
        )
        s.add(r)
        s.flush()
        return _view(s, r).as_json()

    return _once(store, "refer", request_id, act)


def _referral(s: Session, referral_no: str, actor: str, any_manager: bool) -> Referral:
    r = s.scalar(select(Referral).where(Referral.referral_no == referral_no.strip().upper()))
    if r is None:
        raise LobbyError(
            "unknown_referral", tr(f"没有转介单 {referral_no}，请核对单号"), field="referral"
        )
    if not any_manager and r.to_staff != actor:
        raise LobbyError(
            "not_your_referral", tr(f"转介单 {r.referral_no} 转给的是 {r.to_staff}，不是您")
        )
    return r


def accept(
    store: Store,
    referral_no: str,
    *,
    actor: str,
    any_manager: bool = False,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, object]:
    now = now or utcnow()

    def act(s: Session) -> dict[str, object]:
        r = _referral(s, referral_no, actor, any_manager)
        if r.status == "new":
            r.status, r.accepted_at = "accepted", now
        return _view(s, r).as_json()

    return _once(store, "accept_referral", request_id, act)


def contact(
    store: Store,
    referral_no: str,
    *,
    actor: str,
    any_manager: bool = False,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, object]:
    now = now or utcnow()

    def act(s: Session) -> dict[str, object]:
        r = _referral(s, referral_no, actor, any_manager)
        if r.status in ("new", "accepted"):
            r.accepted_at = r.accepted_at or now
            r.status, r.contacted_at = "contacted", now
        return _view(s, r).as_json()

    return _once(store, "contact_referral", request_id, act)


def record_outcome(
    store: Store,
    referral_no: str,
    *,
    outcome: str,
    actor: str,
    product: str = "",
    amount_fen: int = 0,
    follow_up_on: date | None = None,
    note: str = "",
    any_manager: bool = False,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, object]:
    """Record what came of a referral. A sale credits finder and seller per DOMAIN.md."""
    now = now or utcnow()
    if outcome not in OUTCOMES:
        raise LobbyError(
            "bad_outcome", tr("结果应为 sold(成交)/declined(婉拒)/follow_up(跟进)"), field="outcome"
        )
    product = product.strip()
    if outcome == "sold":
        if not product or len(product) > 80:
            raise LobbyError("bad_product", tr("成交须填写产品名称(80字以内)"), field="product")
        if not 0 < amount_fen < MAX_AMOUNT_FEN:
            raise LobbyError("bad_amount", tr("成交金额应大于0"), field="amount")
    if outcome == "follow_up" and follow_up_on is None:
        raise LobbyError("bad_date", tr("跟进须填写跟进日期"), field="follow_up_on")

    def act(s: Session) -> dict[str, object]:
        r = _referral(s, referral_no, actor, any_manager)
        if r.status in OUTCOMES and r.status != "follow_up":
            raise LobbyError(
                "referral_closed",
                tr(f"转介单 {r.referral_no} 已记录结果（{STATUS_LABELS[r.status]}），不能再改"),
            )
        r.accepted_at = r.accepted_at or now
        r.contacted_at = r.contacted_at or now
        r.status, r.outcome_note = outcome, note.strip()[:500]
        r.follow_up_on = follow_up_on if outcome == "follow_up" else None
        s.execute(delete(ReferralCredit).where(ReferralCredit.referral_id == r.id))
        if outcome == "sold":
            r.product, r.amount_fen, r.sold_by, r.closed_at = product, amount_fen, actor, now
            cust = s.get(Customer, r.customer_id) if r.customer_id else None
            vip = cust is not None and is_vip(
                Tier(cust.tier), VipCard(cust.vip_card) if cust.vip_card else None
            )
            finder_pct = load_settings(s).referral_finder_pct
            credits = sale_credit(
                finder=r.referrer,
                seller=actor,
                assigned_manager=cust.manager if cust is not None else "",
                vip=vip,
                finder_pct=finder_pct,
            )
            left = amount_fen
            for i, c in enumerate(credits):
                amount = left if i == len(credits) - 1 else amount_fen * c.share_pct // 100
                left -= amount
                s.add(
                    ReferralCredit(
                        referral_id=r.id,
                        staff_no=c.staff_no,
                        kind=c.kind,
                        share_pct=c.share_pct,
                        amount_fen=amount,
                    )
                )
        elif outcome == "declined":
            r.closed_at = now
        s.flush()
        return _view(s, r).as_json()

    return _once(store, "record_outcome", request_id, act)


def referral_detail(store: Store, referral_no: str) -> ReferralView:
    with store.read() as s:
        r = _referral(s, referral_no, "", True)
        return _view(s, r, notes=True)


def inbox(
    store: Store, *, to_staff: str | None = None, open_only: bool = True, limit: int = 200
) -> list[ReferralView]:
    """Referrals for a manager (or all), newest first; open ones unless ``open_only`` is off."""
    with store.read() as s:
        q = select(Referral).order_by(Referral.created_at.desc()).limit(limit)
        if to_staff:
            q = q.where(Referral.to_staff == to_staff)
        if open_only:
            q = q.where(Referral.status.in_(("new", "accepted", "contacted", "follow_up")))
        return [_view(s, r, notes=True) for r in s.scalars(q)]


def managers(store: Store) -> list[dict[str, str]]:
    with store.read() as s:
        return [
            {"staff": n, "name": nm, "location": loc}
            for n, nm, loc in s.execute(
                select(Staff.staff_no, Staff.name, Staff.location)
                .where(Staff.role == "customer_manager", Staff.active.is_(True))
                .order_by(Staff.staff_no)
            )
        ]


# ---------------------------------------------------------------- marketing rules


def marketing_rules(store: Store) -> list[Rule]:
    with store.read() as s:
        return [
            Rule(r.tier, r.need, r.sentence, r.sort_order, r.active)
            for r in s.scalars(
                select(MarketingRule).order_by(MarketingRule.sort_order, MarketingRule.id)
            )
        ]


def replace_marketing_rules(store: Store, rules: Sequence[Rule], *, actor: str) -> int:
    from lobby_app.models import AuditEvent

    with store.write() as s:
        s.execute(delete(MarketingRule))
        s.add_all(
            MarketingRule(
                tier=r.tier,
                need=r.need,
                sentence=r.sentence,
                sort_order=r.sort_order,
                active=r.active,
            )
            for r in rules
        )
        s.add(AuditEvent(actor=actor, action="marketing_rules", detail=f"{len(rules)} rules"))
    return len(rules)


# ---------------------------------------------------------------- the teller's pop-up


def _visit_summaries(
    s: Session, customer_id: str, limit: int, skip_ticket: str | None = None
) -> list[str]:
    """One customer's recent visits with notes, as one line each; plain column reads (the
    pop-up's hot path), newest first."""
    rows = s.execute(
        select(
            Ticket.id,
            Ticket.business_date,
            Ticket.number,
            Ticket.business_code,
            Ticket.zone,
            Ticket.greeting_note,
            Ticket.needs_note,
        )
        .where(Ticket.customer_id == customer_id)
        .order_by(Ticket.issued_at.desc())
        .limit(limit + 1)
    ).all()
    rows = [r for r in rows if r.id != skip_ticket][:limit]
    if not rows:
        return []
    tags: dict[str, list[str]] = {}
    for tid, tag in s.execute(
        select(TicketNeed.ticket_id, TicketNeed.tag).where(
            TicketNeed.ticket_id.in_([r.id for r in rows])
        )
    ):
        tags.setdefault(tid, []).append(tag)
    names = dict(s.execute(select(BusinessTypeRow.code, BusinessTypeRow.name)).all())
    out = []
    for r in rows:
        needs = tuple(sorted(tags.get(r.id, [])))
        if not (r.greeting_note or r.needs_note or needs):
            continue
        note = VisitNote(
            business_date=r.business_date,
            number=r.number,
            business_name=names.get(r.business_code, r.business_code),
            zone=Zone(r.zone),
            greeting_note=r.greeting_note,
            needs_note=r.needs_note,
            needs=needs,
        )
        out.append(note.summary)
    return out


def _card(s: Session, t: Ticket) -> dict[str, object]:
    business = s.scalar(select(BusinessTypeRow.name).where(BusinessTypeRow.code == t.business_code))
    needs = sorted(s.scalars(select(TicketNeed.tag).where(TicketNeed.ticket_id == t.id)))
    flags: list[str] = []
    if t.vip:
        flags.append(tr("贵宾"))
    if t.priority:
        flags.append(tr("优先·") + PRIORITY_LABELS.get(PriorityKind(t.priority), t.priority))
    if t.green_channel:
        flags.append(tr("绿色通道"))
    if t.prospect:
        flags.append(tr("潜在客户"))
    cust = s.get(Customer, t.customer_id) if t.customer_id else None
    rules = [
        Rule(r.tier, r.need, r.sentence, r.sort_order, r.active)
        for r in s.scalars(select(MarketingRule).where(MarketingRule.active.is_(True)))
    ]
    recent = _visit_summaries(s, cust.id, 3, skip_ticket=t.id) if cust is not None else []
    brief = _brief(cust) if cust is not None else None
    return {
        "ticket_id": t.id,
        "number": t.number,
        "zone": t.zone,
        "zone_label": Zone(t.zone).label,
        "business": business or t.business_code,
        "window": t.window_no,
        "status": t.status,
        "walk_in": cust is None,
        "salutation": brief.salutation if brief else "",
        "tier": t.tier or "",
        "tier_label": Tier(t.tier).label if t.tier else "",
        "vip_card_label": VipCard(t.vip_card).label if t.vip_card else "",
        "masked_id": brief.masked_id if brief else "",
        "manager": brief.manager if brief else "",
        "flags": flags,
        "greeting_note": t.greeting_note,
        "needs_note": t.needs_note,
        "needs": [NEED_TAGS.get(n, n) for n in needs],
        "recent_notes": recent,
        "marketing": pick_sentence(rules, t.tier, needs, prospect=t.prospect)
        if cust is not None or needs
        else "",
        "issued_at": t.issued_at.isoformat(),
    }


def ticket_card(store: Store, ticket_id: str) -> dict[str, object]:
    """Who is coming to the window: for the teller's pop-up. Masked; no full ID or phone."""
    with store.read() as s:
        t = s.get(Ticket, ticket_id)
        if t is None:
            raise LobbyError("unknown_ticket", tr("找不到该票"), field="ticket")
        return _card(s, t)
