"""Referrals (转介) from the desk or a teller to a customer manager, their outcomes and
credit; the marketing-sentence table; and the teller's pop-up card for a called ticket.

Each command is one short transaction. A command given a request id records its answer,
so a retry after a lost reply gets the same answer and does not act twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lobby_app.core.business import NEED_TAGS, PRIORITY_LABELS, PriorityKind, parse_need
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import (
    mask_card_parts,
    mask_free_text,
    mask_id_last4,
    mask_phone_parts,
    salutation,
)
from lobby_app.core.limits import (
    AMOUNT_MAX_FEN,
    OUTCOME_NOTE_MAX,
    PRODUCT_MAX,
    REFERRAL_NOTE_MAX,
    check_actor,
    check_text,
)
from lobby_app.core.marketing import Rule, pick_sentence, sale_credit
from lobby_app.core.staffing import DESK_ROLES
from lobby_app.core.tiers import Tier, VipCard, is_vip
from lobby_app.core.zones import Zone
from lobby_app.models import (
    AuditEvent,
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
MAX_AMOUNT_FEN = AMOUNT_MAX_FEN


class _Refused(LobbyError):
    """Another manager's referral: refused, and the refusal is audited once the command's
    transaction has rolled back (``_once``)."""

    def __init__(self, message: str, *, actor: str, referral_no: str) -> None:
        super().__init__("not_your_referral", message, field="referral")
        self.actor, self.referral_no = actor, referral_no


def _once(
    store: Store, command: str, request_id: str | None, act: Callable[[Session], dict[str, object]]
) -> dict[str, object]:
    try:
        return _once_in(store, command, request_id, act)
    except _Refused as exc:
        with store.write() as s:
            detail = f"{command} {exc.referral_no}"
            s.add(AuditEvent(actor=exc.actor or "?", action="referral_refused", detail=detail))
        raise


def _once_in(
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
    # the limit, and no NUL/ESC: head office refuses NUL (core/limits.py)
    note = check_text(
        note, field="note", label=tr("转介说明"), limit=REFERRAL_NOTE_MAX, multiline=True
    )
    check_actor(actor)
    if not actor:
        raise LobbyError("no_referrer", tr("请用工号登录后再转介(--actor 工号)"), field="actor")
    typed, note = note, mask_free_text(note)  # no full ID/phone/card kept (JR/T 0171)

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
        return {**_view(s, r).as_json(), "notes_masked": note != typed}

    return _once(store, "refer", request_id, act)


def _referral(s: Session, referral_no: str, actor: str, any_manager: bool) -> Referral:
    r = s.scalar(select(Referral).where(Referral.referral_no == referral_no.strip().upper()))
    if r is None:
        raise LobbyError(
            "unknown_referral", tr(f"没有转介单 {referral_no}，请核对单号"), field="referral"
        )
    if not any_manager and r.to_staff != actor:
        raise _Refused(
            tr(f"转介单 {r.referral_no} 转给的是 {r.to_staff}，不是您。本次操作已记录。"),
            actor=actor,
            referral_no=r.referral_no,
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
    product = check_text(product, field="product", label=tr("产品名称"), limit=PRODUCT_MAX)
    note = check_text(note, field="note", label=tr("备注"), limit=OUTCOME_NOTE_MAX, multiline=True)
    typed = (product.strip(), note.strip())
    product, note = (mask_free_text(t) for t in typed)  # JR/T 0171: no full numbers kept
    if outcome == "sold":
        if not product or len(product) > 80:
            raise LobbyError("bad_product", tr("成交须填写产品名称(80字以内)"), field="product")
        if isinstance(amount_fen, bool) or not 0 < amount_fen <= MAX_AMOUNT_FEN:
            raise LobbyError(
                "bad_amount",
                tr(f"成交金额应大于 0 且不超过 {MAX_AMOUNT_FEN // 100:,} 元"),
                field="amount",
            )
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
        r.status, r.outcome_note = outcome, note[:500]
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
        return {**_view(s, r).as_json(), "notes_masked": (product, note) != typed}

    return _once(store, "record_outcome", request_id, act)


# ---------------------------------------------------------------- who sees what

# A referral's details (the customer's name, their earlier visits, the note and what came of
# it) are for the customer manager it was sent to and the branch head; the person who
# referred and the lobby's desk follow its status; anyone else is refused, and the refusal
# is audited (DOMAIN.md "Confidentiality": each role sees what it needs and no more).
FULL, STATUS = "full", "status"


def _access(s: Session, r: Referral, viewer: str) -> str | None:
    who = s.scalar(select(Staff).where(Staff.staff_no == (viewer or "").strip().upper()))
    if who is None or not who.active:
        return None
    if who.role == "branch_head" or who.staff_no == r.to_staff:
        return FULL
    if who.staff_no == r.referrer or who.role in DESK_ROLES:
        return STATUS
    return None


def _status_only(v: ReferralView) -> ReferralView:
    """A referral as the person who referred it and the desk follow it: where it is and with
    whom, the need and the referral note, the customer by salutation; not the customer's
    name or identifiers, their earlier visits, or the outcome (product, amount, notes)."""
    cust = v.customer
    if cust is not None:
        cust = replace(
            cust, name=cust.salutation, masked_id="", masked_phone="", masked_card="", manager=""
        )
    return replace(
        v,
        customer=cust,
        product="",
        amount_fen=0,
        follow_up_on=None,
        outcome_note="",
        sold_by="",
        credits=[],
        recent_notes=[],
    )


def status_only(referral: dict[str, object]) -> dict[str, object]:
    """``_status_only`` of a referral as sent over the hub (extra keys kept)."""
    names = {f.name for f in fields(ReferralView)}
    cust = referral.get("customer")
    view = ReferralView(
        **{
            **{k: v for k, v in referral.items() if k in names},
            "customer": CustomerBrief(**cust) if isinstance(cust, dict) else None,
        }  # type: ignore[arg-type]
    )
    return {**referral, **_status_only(view).as_json()}


def _not_yours(store: Store, viewer: str, what: str, detail: str) -> LobbyError:
    """Record a refused look at referrals (in its own transaction: the refusal is kept)."""
    with store.write() as s:
        s.add(AuditEvent(actor=viewer or "?", action="referral_refused", detail=detail[:500]))
    return LobbyError(
        "not_your_referral",
        tr(
            f"无权查看{what}：转介详情只有接收的客户经理和网点负责人可以查看"
            "(转介人和大堂可查看办理状态)。本次查看已记录。"
        ),
        field="referral",
    )


def referral_detail(store: Store, referral_no: str, *, viewer: str) -> ReferralView:
    """One referral as ``viewer`` may see it (its details, or its status only); refused and
    audited for anyone else. Each look is audited: it shows customer data."""
    with store.write() as s:
        r = s.scalar(select(Referral).where(Referral.referral_no == referral_no.strip().upper()))
        if r is None:
            raise LobbyError(
                "unknown_referral", tr(f"没有转介单 {referral_no}，请核对单号"), field="referral"
            )
        access = _access(s, r, viewer)
        if access is not None:
            s.add(
                AuditEvent(actor=viewer, action="view_referral", detail=f"{r.referral_no} {access}")
            )
            view = _view(s, r, notes=access == FULL)
            return view if access == FULL else _status_only(view)
        number = r.referral_no
    raise _not_yours(store, viewer, tr(f"转介单 {number}"), number)


def referrals_for(
    store: Store,
    viewer: str,
    *,
    to_staff: str | None = None,
    open_only: bool = True,
    limit: int = 200,
) -> list[ReferralView]:
    """The referrals ``viewer`` may list: a customer manager their own, the branch head all,
    the desk the status of all, anyone else the status of those they referred."""
    viewer = (viewer or "").strip().upper()
    with store.read() as s:
        who = s.scalar(select(Staff).where(Staff.staff_no == viewer, Staff.active.is_(True)))
    role = who.role if who is not None else ""
    if role == "customer_manager" and to_staff and to_staff.strip().upper() != viewer:
        raise _not_yours(store, viewer, tr(f"客户经理 {to_staff} 的转介清单"), f"list {to_staff}")
    if who is None:
        raise _not_yours(store, viewer, tr("转介清单"), "list")
    if role == "customer_manager":
        to_staff = viewer
    views = inbox(store, to_staff=to_staff, open_only=open_only, limit=limit)
    if role == "branch_head" or role == "customer_manager":
        return views
    return [_status_only(v) for v in views if role in DESK_ROLES or v.referrer.upper() == viewer]


def inbox(
    store: Store, *, to_staff: str | None = None, open_only: bool = True, limit: int = 200
) -> list[ReferralView]:
    """Referrals for a manager (or all), newest first; open ones unless ``open_only`` is off.
    With the closed ones, every open referral still comes (an old follow-up is not pushed
    out by the day's closed ones), then the newest closed up to ``limit``."""
    open_states = ("new", "accepted", "contacted", "follow_up")
    with store.read() as s:
        q = select(Referral).order_by(Referral.created_at.desc()).limit(limit)
        if to_staff:
            q = q.where(Referral.to_staff == to_staff)
        found = list(s.scalars(q.where(Referral.status.in_(open_states))))
        if not open_only:
            found += s.scalars(q.where(Referral.status.not_in(open_states)))
            found.sort(key=lambda r: r.created_at, reverse=True)
        return [_view(s, r, notes=True) for r in found]


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
        "need_codes": list(needs),  # what a referral from this card defaults to
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
