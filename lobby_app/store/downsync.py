"""Applying what head office keeps to the branch store: the customer directory, staff,
business types and marketing sentences. Head office owns these; the branch takes them as sent.

A customer removed at head office leaves the branch entirely: the visits and referrals that
named them keep their tier and notes but no longer point at a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from lobby_app.core.search import name_pinyin
from lobby_app.models import Base
from lobby_app.models.base import new_id, utcnow

_T = Base.metadata.tables

CUSTOMER_FIELDS = (
    "name",
    "gender",
    "id_hash",
    "id_last4",
    "phone_hash",
    "phone_prefix3",
    "phone_last4",
    "card_first6",
    "card_last4",
    "assets_fen",
    "loans_fen",
    "avg_assets_3m_fen",
    "tier",
    "vip_card",
    "vip_special",
    "manager",
    "prospect",
)


def apply(
    conn: Connection,
    table: str,
    rows: Sequence[dict[str, Any]],
    everything: Sequence[dict[str, Any]] | None = None,
) -> None:
    if table == "customer_directory":
        _customers(conn, rows)
    elif table == "staff_directory":
        _staff(conn, rows)
    elif table == "business_type":
        _business_types(conn, rows)
    elif table == "marketing_sentence":
        _marketing(conn, everything or [])
    else:
        raise ValueError(table)


def _customers(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    c = _T["customer"]
    for r in rows:
        found = conn.execute(select(c.c.id).where(c.c.customer_no == r["customer_no"])).scalar()
        if r["deleted"]:
            if found is not None:
                conn.execute(
                    update(_T["ticket"])
                    .where(_T["ticket"].c.customer_id == found)
                    .values(customer_id=None)
                )
                conn.execute(
                    update(_T["referral"])
                    .where(_T["referral"].c.customer_id == found)
                    .values(customer_id=None)
                )
                conn.execute(delete(c).where(c.c.id == found))
            continue
        full, initials = name_pinyin(r["name"])
        values = {k: r[k] for k in CUSTOMER_FIELDS}
        values.update(pinyin_full=full, pinyin_initials=initials, updated_at=utcnow())
        if found is None:
            conn.execute(insert(c).values(id=new_id(), customer_no=r["customer_no"], **values))
        else:
            conn.execute(update(c).where(c.c.id == found).values(**values))


def _staff(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    t = _T["staff"]
    for r in rows:
        values = {
            "name": r["name"],
            "role": r["role"],
            "active": bool(r["active"]) and not r["deleted"],
            "location": r["location"],
        }
        found = conn.execute(select(t.c.id).where(t.c.staff_no == r["staff_no"])).scalar()
        if found is None:
            if r["deleted"]:
                continue
            conn.execute(insert(t).values(id=new_id(), staff_no=r["staff_no"], **values))
        else:  # the PIN stays as the branch set it
            conn.execute(update(t).where(t.c.id == found).values(**values))


def _business_types(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    t = _T["business_type"]
    for r in rows:
        values = {
            "name": r["name"],
            "category": r["category"],
            "zone": r["zone"],
            "counter_zone": r["counter_zone"],
            "service_minutes": r["service_minutes"],
            "sort_order": r["sort_order"],
            "active": bool(r["active"]) and not r["deleted"],
        }
        found = conn.execute(select(t.c.code).where(t.c.code == r["code"])).scalar()
        if found is None:
            if not r["deleted"]:
                conn.execute(insert(t).values(code=r["code"], **values))
        else:  # kept, not deleted: today's tickets may name it
            conn.execute(update(t).where(t.c.code == r["code"]).values(**values))


def _marketing(conn: Connection, everything: Sequence[dict[str, Any]]) -> None:
    """Head office's sentences replace the branch's table as a whole."""
    t = _T["marketing_rule"]
    conn.execute(delete(t))
    rows = [
        {
            "tier": r["tier"],
            "need": r["need"],
            "sentence": r["sentence"],
            "sort_order": r["sort_order"],
            "active": bool(r["active"]),
        }
        for r in everything
    ]
    if rows:
        conn.execute(insert(t), rows)
