"""Loading the customer directory into the store: upsert by customer number."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from lobby_app.core.customer_csv import CustomerRecord, ParseResult
from lobby_app.core.identity import keyed_hash
from lobby_app.core.search import name_pinyin
from lobby_app.core.tiers import tier_for
from lobby_app.models import AuditEvent, Customer
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store
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
    c.manager = r.manager
    c.prospect = r.prospect
    c.pinyin_full = full
    c.pinyin_initials = initials
    c.updated_at = utcnow()


def import_records(
    store: Store, parsed: ParseResult, *, strict: bool, actor: str, source: str
) -> ImportReport:
    """Valid rows go in (new or updated); bad rows are reported. Strict: all or nothing."""
    report = ImportReport(errors=[e.as_dict() for e in parsed.errors])
    report.skipped = len({e.line for e in parsed.errors})
    if strict and parsed.errors:
        report.rejected = True
        report.skipped += len(parsed.records)
        return report
    records: Sequence[CustomerRecord] = parsed.records
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
            s.flush()
        s.add(
            AuditEvent(
                actor=actor,
                action="import_customers",
                detail=f"{source}: created={report.created} updated={report.updated} "
                f"skipped={report.skipped}",
            )
        )
    return report
