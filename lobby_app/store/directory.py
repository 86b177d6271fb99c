"""Loading the customer directory into the store: upsert by customer number.

Special-approval cards (特批) stay within the branch's share of its VIP card holders
(``special_vip_max_pct``, 003 第十二条 2: 5 %): past it, the file's last special rows are taken
in as due for downgrade, each flagged on its line."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lobby_app.core.customer_csv import CustomerRecord, ParseResult
from lobby_app.core.i18n import tr
from lobby_app.core.identity import keyed_hash
from lobby_app.core.search import name_pinyin
from lobby_app.core.tiers import VipCard, tier_for, vip_card_for
from lobby_app.models import AuditEvent, Customer
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store
from lobby_app.store.setup import load_settings
from lobby_app.store.views import ImportReport

BATCH = 2000


def _apply(c: Customer, r: CustomerRecord, key: bytes) -> None:
    full, initials = name_pinyin(r.name)
    c.name = r.name
    c.gender = r.id_number.gender if r.id_number else c.gender
    c.id_hash = keyed_hash(key, "id", r.id_number.number) if r.id_number else None
    c.id_last4 = r.id_number.last4 if r.id_number else ""
    c.phone_hash = keyed_hash(key, "phone", r.phone.digits) if r.phone else None
    c.phone_prefix3 = r.phone.prefix3 if r.phone else ""
    c.phone_last4 = r.phone.last4 if r.phone else ""
    c.card_first6 = r.card_first6
    c.card_last4 = r.card_last4
    c.assets_fen = r.assets_fen
    c.loans_fen = r.loans_fen
    c.avg_assets_3m_fen = r.avg_assets_3m_fen
    c.tier = tier_for(r.assets_fen, r.loans_fen).value
    c.vip_card = r.vip_card.value if r.vip_card else None
    c.vip_special = r.vip_special
    c.vip_approved_by = r.vip_approved_by
    c.vip_approved_until = r.vip_approved_until
    c.vip_card_held = r.vip_card_held.value if r.vip_card_held else None
    c.manager = r.manager
    c.prospect = r.prospect
    c.pinyin_full = full
    c.pinyin_initials = initials
    c.updated_at = utcnow()


def import_records(
    store: Store, parsed: ParseResult, *, strict: bool, actor: str, source: str
) -> ImportReport:
    """Valid rows go in (new or updated); bad rows are reported. Strict: all or nothing."""
    report = ImportReport(
        errors=[e.as_dict() for e in parsed.errors],
        warnings=[w.as_dict() for w in parsed.warnings],
    )
    report.skipped = len({e.line for e in parsed.errors})
    if strict and parsed.errors:
        report.rejected = True
        report.skipped += len(parsed.records)
        return report
    records: Sequence[CustomerRecord] = parsed.records
    specials: list[tuple[CustomerRecord, Customer]] = []
    with store.write() as s:
        for start in range(0, len(records), BATCH):
            chunk = records[start : start + BATCH]
            existing = {
                c.customer_no: c
                for c in s.scalars(
                    select(Customer).where(Customer.customer_no.in_([r.customer_no for r in chunk]))
                )
            }
            for r in chunk:
                cust = existing.get(r.customer_no)
                if cust is None:
                    cust = Customer(customer_no=r.customer_no)
                    s.add(cust)
                    report.created += 1
                else:
                    report.updated += 1
                _apply(cust, r, store.id_key)
                if r.vip_special:
                    specials.append((r, cust))
            s.flush()
        report.warnings += _keep_specials_within_share(s, specials)
        s.add(
            AuditEvent(
                actor=actor,
                action="import_customers",
                detail=f"{source}: created={report.created} updated={report.updated} "
                f"skipped={report.skipped}",
            )
        )
    return report


def _keep_specials_within_share(
    s: Session, specials: list[tuple[CustomerRecord, Customer]]
) -> list[dict[str, object]]:
    """Special cards may be at most ``special_vip_max_pct`` % of the branch's VIP card holders
    (003 第十二条 2: 特批发卡量控制在已开立贵宾卡客户总数的5%以内). Past that, this file's special
    rows, last first, are taken in as due for downgrade (served at the level their assets
    earn); each is flagged on its line."""
    pct = load_settings(s).special_vip_max_pct
    holders = s.scalar(select(func.count()).where(Customer.vip_card.is_not(None))) or 0
    count = s.scalar(select(func.count()).where(Customer.vip_special.is_(True))) or 0
    flagged: list[dict[str, object]] = []
    for r, c in reversed(specials):
        if count * 100 <= pct * holders:
            break
        allowed = pct * holders // 100
        held = VipCard(c.vip_card) if c.vip_card else None
        earned = vip_card_for(c.avg_assets_3m_fen)
        c.vip_card_held = c.vip_card
        c.vip_card = earned.value if earned else None
        c.vip_special = False
        count -= 1
        if earned is None:
            holders -= 1
        served = earned.label if earned else tr("非贵宾卡客户")
        label = held.label if held else ""
        flagged.append(
            {
                "line": r.line,
                "field": "vip_approved_by",
                "reason": tr(
                    f"特批贵宾卡超出网点名额：特批不得超过贵宾卡客户的 {pct}%"
                    f"(本次导入后最多 {allowed} 张)，本行的{label}特批已按待降级导入，按{served}服务"
                ),
            }
        )
    return sorted(flagged, key=lambda w: int(str(w["line"])))
