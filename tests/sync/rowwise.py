"""The directory's customers applied one row at a time: ``store.downsync._customers`` as it
was before the download went in bulk (issue 17), kept as the reference the bulk path must
match row for row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from lobby_app.core.search import name_pinyin
from lobby_app.models import Base
from lobby_app.models.base import new_id, utcnow
from lobby_app.store.downsync import CUSTOMER_FIELDS

_T = Base.metadata.tables


def customers_one_by_one(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
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
