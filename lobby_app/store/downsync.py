"""Applying what head office keeps to the branch store: the customer directory, staff,
business types and marketing sentences. Head office owns these; the branch takes them as sent.

A customer removed at head office leaves the branch entirely: the visits and referrals that
named them keep their tier and notes but no longer point at a person.

A walk-in registered at the branch (``customer.source = 'branch'``) is the branch's record only
until head office's directory brings the same person (same ID hash or phone hash): the
directory wins. The branch's row is kept, under its id, and takes the directory's number,
name, tier, assets and ``source = 'directory'``, so the tickets, referrals and registration
that point at it stay attached; its tickets and referrals go up again, now with the
directory's customer number. Only if the directory's number is already here as another row
(or the directory record matches two walk-ins) are the walk-ins' tickets, referrals and
registrations moved to that row and the walk-in rows deleted.

Staff come down from ``staff_directory``: name, role, active, location. The PIN, the lock
and the failed-login count stay as the branch set them; a person head office deactivates
is signed out of their window, as a local deactivation does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, insert, or_, select, text, update
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
    "vip_approved_by",
    "vip_approved_until",
    "vip_card_held",
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
        values.update(
            pinyin_full=full, pinyin_initials=initials, updated_at=utcnow(), source="directory"
        )
        walk_ins = [w for w in _walk_ins(conn, r) if w != found]
        keep = found if found is not None else (walk_ins.pop(0) if walk_ins else None)
        if keep is None:
            conn.execute(insert(c).values(id=new_id(), customer_no=r["customer_no"], **values))
            continue
        for other in walk_ins:
            _move_customer(conn, other, keep)
            conn.execute(delete(c).where(c.c.id == other))
        before = conn.execute(select(c.c.customer_no).where(c.c.id == keep)).scalar()
        conn.execute(update(c).where(c.c.id == keep).values(customer_no=r["customer_no"], **values))
        if before != r["customer_no"]:
            _resend_named(conn, keep)


def _walk_ins(conn: Connection, r: dict[str, Any]) -> list[str]:
    """The branch's own registrations of this directory customer: same ID hash (first) or
    same phone hash."""
    c = _T["customer"]
    match = [c.c[h] == r[h] for h in ("id_hash", "phone_hash") if r.get(h)]
    if not match:
        return []
    by_id = case((c.c.id_hash == r["id_hash"], 0), else_=1) if r.get("id_hash") else None
    q = select(c.c.id).where(c.c.source == "branch", or_(*match))
    q = q.order_by(by_id, c.c.customer_no) if by_id is not None else q.order_by(c.c.customer_no)
    return list(conn.execute(q).scalars())


def _move_customer(conn: Connection, old: str, new: str) -> None:
    """What points at one customer row points at another (the triggers send it up again)."""
    for table in ("ticket", "referral", "registration"):
        t = _T[table]
        conn.execute(update(t).where(t.c.customer_id == old).values(customer_id=new))


def _resend_named(conn: Connection, customer_id: str) -> None:
    """Head office's visits and referrals carry the customer's number: send them again."""
    for table in ("ticket", "referral"):
        conn.execute(
            text(
                f"insert into change_log (tbl, row_id, op) select '{table}', id, 'u'"
                f" from {table} where customer_id = :c"
            ),
            {"c": customer_id},
        )


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
            conn.execute(
                insert(t).values(
                    id=new_id(),
                    staff_no=r["staff_no"],
                    pin_hash="",  # set at the branch (the branch head gives a first PIN)
                    failed_logins=0,
                    locked=False,
                    **values,
                )
            )
        else:  # the PIN and the lock stay as the branch set them
            conn.execute(update(t).where(t.c.id == found).values(**values))
        if not values["active"]:
            _sign_out(conn, r["staff_no"])


def _sign_out(conn: Connection, staff_no: str) -> None:
    """A person no longer active leaves their window (closed, with a counter event if it was
    serving), as ``store.admin`` does for a local deactivation."""
    c = _T["counter"]
    now = utcnow()
    for window_no, is_open, retired_at in conn.execute(
        select(c.c.window_no, c.c.is_open, c.c.retired_at).where(c.c.staff_no == staff_no)
    ):
        if is_open and retired_at is None:
            conn.execute(
                insert(_T["counter_event"]).values(
                    window_no=window_no, at=now, is_open=False, actor="headoffice"
                )
            )
    conn.execute(
        update(c)
        .where(c.c.staff_no == staff_no)
        .values(staff_no=None, signed_in_at=None, is_open=False)
    )


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
