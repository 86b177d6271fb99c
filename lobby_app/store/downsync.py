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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection

from lobby_app.core.ids import RisingIds
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
# the columns a directory row brings down (head office's other columns stay there)
DIRECTORY_COLUMNS = ("customer_no", *CUSTOMER_FIELDS, "deleted", "version")

IN_CHUNK = 500  # keys per lookup, well below SQLite's limit on bound variables
PINYIN_CACHE_MAX = 200_000  # names a download's pinyin cache keeps before it starts over
# new customer rows get rising ids (core/ids.py): the primary key's index grows at one end
_new_customer_id = RisingIds()


def apply(
    conn: Connection,
    table: str,
    rows: Sequence[dict[str, Any]],
    everything: Sequence[dict[str, Any]] | None = None,
    pinyin: dict[str, tuple[str, str]] | None = None,
) -> None:
    """Apply one batch of head office's rows (in version order) in the caller's
    transaction. ``pinyin``: names already read as pinyin (``prepare``), by name."""
    if table == "customer_directory":
        _customers(conn, rows, pinyin or {})
    elif table == "staff_directory":
        _staff(conn, rows)
    elif table == "business_type":
        _business_types(conn, rows)
    elif table == "marketing_sentence":
        _marketing(conn, everything or [])
    else:
        raise ValueError(table)


# ---------------------------------------------------------------- customers
#
# A batch of directory rows is applied as the rules above say, one row after the other, but
# decided in memory and written in bulk: one lookup of the batch's numbers, one of the
# walk-ins its ID and phone hashes name (both indexed), then deletions, the rare merges of
# walk-ins (row by row), one executemany of updates and one of inserts. Deciding in row
# order against what the earlier rows of the batch did gives the store the one-at-a-time
# application would; the phases' order keeps the unique customer number free when a row
# takes it (a number is only ever freed by a deletion, a merge or a walk-in's renumbering,
# each written before the inserts and renumberings that could reuse it).


class PinyinCache:
    """Names already read as pinyin during one download (many customers share a name):
    bounded, emptied when full."""

    def __init__(self, limit: int = PINYIN_CACHE_MAX) -> None:
        self.limit = limit
        self._known: dict[str, tuple[str, str]] = {}

    def __call__(self, name: str) -> tuple[str, str]:
        got = self._known.get(name)
        if got is None:
            if len(self._known) >= self.limit:
                self._known.clear()
            got = self._known[name] = name_pinyin(name)
        return got


def _chunks(values: Sequence[Any], n: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), n):
        yield values[i : i + n]


def prepare(
    conn: Connection, table: str, rows: Sequence[dict[str, Any]], pinyin: PinyinCache
) -> dict[str, tuple[str, str]]:
    """Before the write transaction, so that the store's lock is held only to write: the
    pinyin of the batch's new and renamed customers, by name. A name found needed in the
    transaction after all (a walk-in taken over under another name) is read there."""
    if table != "customer_directory":
        return {}
    c = _T["customer"]
    have: dict[str, str] = {}
    for chunk in _chunks([r["customer_no"] for r in rows if not r["deleted"]]):
        q = select(c.c.customer_no, c.c.name).where(c.c.customer_no.in_(chunk))
        have.update((no, name) for no, name in conn.execute(q))
    return {
        r["name"]: pinyin(r["name"])
        for r in rows
        if not r["deleted"] and have.get(r["customer_no"]) != r["name"]
    }


# The columns a directory row writes, in this order, as plain values for the driver: the
# two whose stored form is not the Python value (a date, a UTC timestamp) go through the
# column type's own bind processor, so the text is what the ORM would have written.
_PLAIN_FIELDS = CUSTOMER_FIELDS[: CUSTOMER_FIELDS.index("vip_approved_until")]
_PLAIN_AFTER = CUSTOMER_FIELDS[CUSTOMER_FIELDS.index("vip_approved_until") + 1 :]
_WRITTEN = (
    *CUSTOMER_FIELDS,
    "customer_no",
    "pinyin_full",
    "pinyin_initials",
    "updated_at",
    "source",
)


def _bind_processors() -> tuple[Any, Any]:
    from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

    c = _T["customer"]
    dialect = sqlite_dialect()
    return (
        c.c.vip_approved_until.type.bind_processor(dialect),
        c.c.updated_at.type.bind_processor(dialect),
    )


_DATE_BIND, _STAMP_BIND = _bind_processors()


def stored_date(value: date | None) -> Any:
    """A customer's date (the approval's end) as the driver takes it for the store."""
    return _DATE_BIND(value) if _DATE_BIND and value is not None else value


def stored_stamp(value: datetime) -> Any:
    """A UTC timestamp (``updated_at``) as the driver takes it for the store."""
    return _STAMP_BIND(value) if _STAMP_BIND else value


_NAMES = ", ".join(_WRITTEN)
_INSERT_SQL = f"INSERT INTO customer (id, {_NAMES}) VALUES (?, {', '.join('?' * len(_WRITTEN))})"
_UPDATE_SQL = f"UPDATE customer SET {', '.join(f'{n} = ?' for n in _WRITTEN)} WHERE id = ?"


@dataclass
class _Known:
    """A customer row of the store as the batch so far left it."""

    id: str
    customer_no: str
    name: str
    pinyin: tuple[str, str]
    source: str
    id_hash: str | None
    phone_hash: str | None


@dataclass
class _Plan:
    deletes: list[str]
    merges: list[tuple[str, str]]  # (walk-in, customer it merges into)
    updates: list[tuple[Any, ...]]  # _WRITTEN's values, then the row's id
    renumbered: list[str]  # customers whose number changed: their visits go up again
    inserts: list[tuple[Any, ...]]  # the id, then _WRITTEN's values


def _known_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> dict[str, _Known]:
    """The store's rows the batch can touch, by id: those with the batch's numbers, and the
    walk-ins (``source = 'branch'``) with one of its ID or phone hashes."""
    c = _T["customer"]
    cols = (
        c.c.id,
        c.c.customer_no,
        c.c.name,
        c.c.pinyin_full,
        c.c.pinyin_initials,
        c.c.source,
        c.c.id_hash,
        c.c.phone_hash,
    )
    found: dict[str, _Known] = {}

    def take(q: Any) -> None:
        for i, no, name, full, initials, source, id_hash, phone_hash in conn.execute(q):
            found[i] = _Known(i, no, name, (full, initials), source, id_hash, phone_hash)

    for chunk in _chunks([r["customer_no"] for r in rows]):
        take(select(*cols).where(c.c.customer_no.in_(chunk)))
    alive = [r for r in rows if not r["deleted"]]
    for h in ("id_hash", "phone_hash"):
        wanted = sorted({r[h] for r in alive if r.get(h)})
        for chunk in _chunks(wanted):
            take(select(*cols).where(c.c[h].in_(chunk), c.c.source == "branch"))
    return found


def _plan(
    rows: Sequence[dict[str, Any]],
    known: dict[str, _Known],
    pinyin: dict[str, tuple[str, str]],
) -> _Plan:
    """What the rules do to the store, row after row, decided in memory."""
    plan = _Plan([], [], [], [], [])
    by_no = {k.customer_no: k for k in known.values()}
    by_hash: dict[tuple[str, str], list[_Known]] = {}
    for k in known.values():
        if k.source == "branch":
            for h in ("id_hash", "phone_hash"):
                if getattr(k, h):
                    by_hash.setdefault((h, getattr(k, h)), []).append(k)
    stamp = stored_stamp(utcnow())

    def gone(k: _Known) -> None:
        k.source = ""  # neither the number's holder nor a walk-in any more
        if by_no.get(k.customer_no) is k:
            del by_no[k.customer_no]

    for r in rows:
        no = r["customer_no"]
        found = by_no.get(no)
        if r["deleted"]:
            if found is not None:
                plan.deletes.append(found.id)
                gone(found)
            continue
        # the branch's own registrations of this person: same ID hash first, then by number
        walk_ins = {
            w.id: w
            for h in ("id_hash", "phone_hash")
            if r.get(h)
            for w in by_hash.get((h, r[h]), ())
            if w.source == "branch" and w is not found
        }
        ordered = sorted(
            walk_ins.values(),
            key=lambda w: (not (r.get("id_hash") and w.id_hash == r["id_hash"]), w.customer_no),
        )
        keep = found if found is not None else (ordered.pop(0) if ordered else None)
        if keep is not None and keep.name == r["name"]:
            full, initials = keep.pinyin
        else:
            full, initials = pinyin.get(r["name"]) or name_pinyin(r["name"])
        values = (
            *(r[k] for k in _PLAIN_FIELDS),
            stored_date(r["vip_approved_until"]),
            *(r[k] for k in _PLAIN_AFTER),
            no,
            full,
            initials,
            stamp,
            "directory",
        )
        if keep is None:
            new = _Known(
                _new_customer_id(), no, r["name"], (full, initials), "directory", None, None
            )
            plan.inserts.append((new.id, *values))
            by_no[no] = new
            continue
        for other in ordered:
            plan.merges.append((other.id, keep.id))
            gone(other)
        plan.updates.append((*values, keep.id))
        if keep.customer_no != no:
            plan.renumbered.append(keep.id)
            if by_no.get(keep.customer_no) is keep:
                del by_no[keep.customer_no]
            by_no[no] = keep
        keep.customer_no, keep.name, keep.pinyin, keep.source = (
            no,
            r["name"],
            (full, initials),
            "directory",
        )
    return plan


def _customers(
    conn: Connection, rows: Sequence[dict[str, Any]], pinyin: dict[str, tuple[str, str]]
) -> None:
    c = _T["customer"]
    plan = _plan(rows, _known_rows(conn, rows), pinyin)
    for chunk in _chunks(plan.deletes):
        for table in ("ticket", "referral"):
            t = _T[table]
            conn.execute(update(t).where(t.c.customer_id.in_(chunk)).values(customer_id=None))
        conn.execute(delete(c).where(c.c.id.in_(chunk)))
    for other, keep in plan.merges:
        _move_customer(conn, other, keep)
        conn.execute(delete(c).where(c.c.id == other))
    if plan.updates:  # tuples straight to the driver's executemany (see _WRITTEN)
        conn.exec_driver_sql(_UPDATE_SQL, plan.updates)
    for keep in plan.renumbered:
        _resend_named(conn, keep)
    if plan.inserts:
        conn.exec_driver_sql(_INSERT_SQL, plan.inserts)


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


# ---------------------------------------------------------------- the rest


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
