"""A walk-in becomes a customer: registered at the desk with consent, as a branch prospect.

The record is the branch's until head office confirms it: it goes up with the nightly sync
(table ``registration``), and when head office's directory brings the same person (same ID
or phone hash), the directory's record wins (``sync``/``store.downsync``).
Only what lookup and the masked display need is kept: keyed hashes and the last digits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import (
    keyed_hash,
    mask_id_last4,
    mask_phone_parts,
    validate_id_number,
    validate_phone,
)
from lobby_app.core.limits import PERSON_NAME_MAX, check_name
from lobby_app.core.search import name_pinyin
from lobby_app.core.staffing import DESK_ROLES
from lobby_app.core.tiers import Tier
from lobby_app.models import AuditEvent, Customer, Registration
from lobby_app.models.base import utcnow
from lobby_app.store.admin import check_person
from lobby_app.store.db import Store
from lobby_app.store.setup import load_settings

NAME_MAX = PERSON_NAME_MAX  # the customer name column (and head office's) holds 40


@dataclass(frozen=True)
class Registered:
    customer_id: str
    customer_no: str
    name: str
    phone_masked: str
    id_masked: str

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def register_walk_in(
    store: Store,
    *,
    name: str,
    phone: str,
    id_number: str | None = None,
    consent: bool,
    actor: str,
    now: datetime | None = None,
) -> Registered:
    """Register a walk-in as a branch prospect (潜在客户/待营销). Refuses without consent, and
    when the directory already knows the phone or ID (use that customer instead)."""
    if not consent:
        raise LobbyError(
            "consent_required",
            tr("登记客户信息须经客户本人同意：请向客户说明用途并征得同意后勾选“客户已同意”"),
            field="consent",
        )
    # no control or direction-override characters, no spreadsheet formula (core/limits.py)
    person = check_name(name or "", label=tr("客户姓名"), limit=NAME_MAX, code="bad_name")
    mobile = validate_phone(phone)
    if not (len(mobile.digits) == 11 and mobile.digits.startswith("1")):
        raise LobbyError(
            "not_mobile", tr("请登记客户的手机号(11位，以1开头)，以便客户经理联系"), field="phone"
        )
    ident = validate_id_number(id_number) if id_number and id_number.strip() else None
    key = store.id_key
    phone_hash = keyed_hash(key, "phone", mobile.digits)
    id_hash = keyed_hash(key, "id", ident.number) if ident else None
    full, initials = name_pinyin(person)
    now = now or utcnow()
    with store.write() as s:
        who = check_person(s, actor, DESK_ROLES, doing=tr("登记客户"))
        match = [Customer.phone_hash == phone_hash]
        if id_hash:
            match.append(Customer.id_hash == id_hash)
        known = s.scalar(select(Customer).where(or_(*match)).limit(1))
        if known is not None:
            raise LobbyError(
                "customer_exists",
                tr(
                    f"该客户已登记：{known.name}(客户号 {known.customer_no}，"
                    f"手机 {mask_phone_parts(known.phone_prefix3, known.phone_last4) or '—'})。"
                    "请在搜索框查找并选用该客户"
                ),
                field="id_number" if id_hash and known.id_hash == id_hash else "phone",
            )
        code = load_settings(s).branch_code
        # registrations, not branch customers: a merged walk-in keeps its number taken
        n = s.scalar(select(func.count()).select_from(Registration))
        customer_no = _free_number(s, code, int(n or 0) + 1)
        cust = Customer(
            customer_no=customer_no,
            name=person,
            gender=ident.gender if ident else None,
            id_hash=id_hash,
            id_last4=ident.last4 if ident else "",
            phone_hash=phone_hash,
            phone_prefix3=mobile.prefix3,
            phone_last4=mobile.last4,
            assets_fen=0,
            loans_fen=0,
            avg_assets_3m_fen=0,
            tier=Tier.MASS.value,  # assets unknown until head office confirms
            vip_card=None,
            vip_special=False,
            manager="",
            prospect=True,
            pinyin_full=full,
            pinyin_initials=initials,
            updated_at=now,
            source="branch",
        )
        s.add(cust)
        s.flush()
        s.add(
            Registration(
                customer_id=cust.id,
                customer_no=customer_no,
                name=person,
                gender=cust.gender,
                id_hash=id_hash,
                id_last4=cust.id_last4,
                phone_hash=phone_hash,
                phone_prefix3=mobile.prefix3,
                phone_last4=mobile.last4,
                consent_at=now,
                registered_by=who.staff_no,
                registered_at=now,
            )
        )
        s.add(AuditEvent(actor=who.staff_no, action="register_customer", detail=customer_no))
        return Registered(
            customer_id=cust.id,
            customer_no=customer_no,
            name=person,
            phone_masked=mask_phone_parts(mobile.prefix3, mobile.last4),
            id_masked=mask_id_last4(cust.id_last4),
        )


def _free_number(s: Session, code: str, start: int) -> str:
    """``W`` + branch code + a running number, unique in the store (and, by the branch code,
    at head office)."""
    n = start
    while True:
        no = f"W{code}{n:05d}"[:32]
        taken = s.scalar(select(Customer.id).where(Customer.customer_no == no)) or s.scalar(
            select(Registration.id).where(Registration.customer_no == no)
        )
        if taken is None:
            return no
        n += 1
