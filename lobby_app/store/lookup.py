"""The desk's type-ahead lookup: what was typed in the one search box, to the customers it
names, masked for display.

Plain SQL on the store's SQLite connection (``Store.read_sql``), no ORM: a lookup runs on
every key the lobby manager types, against a directory of up to a million customers, and
``lobby-app lookup`` must start quickly. Building SQLAlchemy statements and ORM objects for
twenty customers and their visit notes cost more than the indexed queries themselves
(issue 17 items 4 and 5). Each query below is answered by one of the customer table's
indexes (``tests/store/test_lookup_plans.py`` holds SQLite to that).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from lobby_app.core import limits
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.identity import (
    keyed_hash,
    mask_card_parts,
    mask_free_text,
    mask_id_last4,
    mask_phone_parts,
    salutation,
)
from lobby_app.core.search import Matched, match_label, plan_search
from lobby_app.core.tiers import Tier, VipCard, card_note
from lobby_app.core.zones import Zone
from lobby_app.store.db import Store
from lobby_app.store.views import CustomerView, VisitNote

LOOKUP_LIMIT = 20
RECENT_NOTES = 3

# What a customer's line shows: the masked parts, tier, card and its note.
CUSTOMER_COLUMNS = (
    "id",
    "customer_no",
    "name",
    "gender",
    "id_last4",
    "phone_prefix3",
    "phone_last4",
    "card_first6",
    "card_last4",
    "tier",
    "vip_card",
    "vip_special",
    "vip_approved_by",
    "vip_approved_until",
    "vip_card_held",
    "avg_assets_3m_fen",
    "prospect",
    "manager",
)
_SELECT_CUSTOMER = f"select {', '.join(CUSTOMER_COLUMNS)} from customer"

# The id-finding queries, strongest kind first (``core.search.Matched``). Each is one index:
# the hashes, the last fours, customer_no (unique), name, pinyin_full, pinyin_initials.
_BY_ID_HASH = "select id from customer where id_hash = ? limit ?"
_BY_PHONE_HASH = "select id from customer where phone_hash = ? limit ?"
_BY_LAST4 = {
    Matched.PHONE_LAST4: "select id from customer where phone_last4 = ? order by customer_no limit ?",
    Matched.ID_LAST4: "select id from customer where id_last4 = ? order by customer_no limit ?",
    Matched.CARD_LAST4: "select id from customer where card_last4 = ? order by customer_no limit ?",
}
_BY_NO = "select id from customer where customer_no = ? limit ?"
_BY_NO_AFTER = (
    "select id from customer where customer_no > ? and customer_no < ? order by customer_no limit ?"
)
_BY_NO_FROM = (
    "select id from customer where customer_no >= ? and customer_no < ? "
    "order by customer_no limit ?"
)
_BY_CARD = "select id from customer where card_last4 = ? and card_first6 = ? limit ?"
_BY_NAME = "select id from customer where name = ? limit ?"
_BY_NAME_AFTER = "select id from customer where name > ? and name < ? order by name limit ?"
_BY_INITIALS = "select id from customer where pinyin_initials = ? limit ?"
_BY_PINYIN_FROM = (
    "select id from customer where pinyin_full >= ? and pinyin_full < ? "
    "order by pinyin_full limit ?"
)
_BY_INITIALS_AFTER = (
    "select id from customer where pinyin_initials > ? and pinyin_initials < ? "
    "order by pinyin_initials limit ?"
)


def lookup_queries(key: bytes, text: str) -> list[tuple[Matched, str, tuple[str, ...]]]:
    """The queries (kind, SQL, parameters without the limit) for what was typed, in the
    order their answers rank. Four typed characters are the last four before they are the
    start of a customer number: a directory's thousands of ``C0001…`` must not crowd out
    the one card that ends in 0001."""
    plan = plan_search(text)
    if plan.empty:
        return []
    out: list[tuple[Matched, str, tuple[str, ...]]] = []
    if plan.id_number:
        out.append((Matched.ID_NUMBER, _BY_ID_HASH, (keyed_hash(key, "id", plan.id_number),)))
    if plan.phone:
        out.append((Matched.PHONE, _BY_PHONE_HASH, (keyed_hash(key, "phone", plan.phone),)))
    if plan.last4:
        for matched, sql in _BY_LAST4.items():
            out.append((matched, sql, (plan.last4,)))
    if plan.customer_no_prefix:
        p = plan.customer_no_prefix
        by_no = Matched.CUSTOMER_NO
        out.append((by_no, _BY_NO, (p,)))
        if p.isdigit():  # customer numbers carry a letter prefix the person may skip
            out.append((by_no, _BY_NO, ("C" + p,)))
        out.append((by_no, _BY_NO_AFTER, (p, p + "\uffff")))
        if p.isdigit():
            out.append((by_no, _BY_NO_FROM, ("C" + p, "C" + p + "\uffff")))
    if plan.card_tail and len(plan.card_tail) >= 12:
        out.append((Matched.CARD, _BY_CARD, (plan.card_tail[-4:], plan.card_tail[:6])))
    if plan.name_prefix:
        n = plan.name_prefix
        out.append((Matched.NAME, _BY_NAME, (n,)))
        out.append((Matched.NAME, _BY_NAME_AFTER, (n, n + "\uffff")))
    if plan.initials_prefix:
        i = plan.initials_prefix
        out.append((Matched.INITIALS, _BY_INITIALS, (i,)))
        out.append((Matched.PINYIN, _BY_PINYIN_FROM, (i, i + "\x7f")))
        out.append((Matched.INITIALS, _BY_INITIALS_AFTER, (i, i + "\x7f")))
    return out


def lookup_customers(
    store: Store, text: str, *, limit: int = LOOKUP_LIMIT, with_notes: bool = True
) -> list[CustomerView]:
    """Customers matching what was typed, best matches first; masked for display. Each
    says which field it matched (``CustomerView.matched``, a ``core.search.Matched``).

    Ranked by ``Matched``: whole ID or phone number, then the last four of a phone, ID or
    card, then customer numbers, card, name and pinyin."""
    queries = lookup_queries(store.id_key, text)
    if not queries:
        return []
    with store.read_sql() as con:
        found: dict[str, Matched] = {}  # in rank order; the first field a customer matched
        for matched, sql, params in queries:
            for (cid,) in con.execute(sql, (*params, limit)):
                found.setdefault(cid, matched)
            if len(found) >= limit:
                break
        ids = list(found)[:limit]
        if not ids:
            return []
        rows = {r.id: r for r in customer_rows(con, ids)}
        notes = recent_notes(con, ids, RECENT_NOTES) if with_notes else {}
    return [replace(customer_view(rows[i], notes.get(i, ())), matched=found[i].value) for i in ids]


def find_one_customer(store: Store, query: str) -> CustomerView:
    """Exactly one customer for a script's ``--customer QUERY``, or a clear error.

    A whole customer number wins; otherwise the best-ranked kind of match must name one
    customer (``0000`` finds the one phone that ends 0000, though customer numbers start
    with 0000 too); several of that kind are listed, with the field each matched."""
    found = lookup_customers(store, query, limit=5, with_notes=False)
    exact = [c for c in found if c.customer_no == query.strip()]
    if exact:
        return exact[0]
    if not found:
        raise LobbyError(
            "customer_not_found",
            tr("没有找到匹配的客户，请换用客户号、证件号码或手机号查询"),
            field="customer",
        )

    def kind(c: CustomerView) -> str:  # the last four of any field are one kind of match
        return "last4" if Matched(c.matched).is_last4 else c.matched

    best = [c for c in found if kind(c) == kind(found[0])]
    if len(best) > 1:
        shown = "、".join(f"{c.customer_no}({c.name}·{match_label(c.matched)})" for c in best[:5])
        raise LobbyError(
            "customer_ambiguous",
            tr(f"匹配到多位客户：{shown}。请用客户号指定一位"),
            field="customer",
        )
    return best[0]


def record_audit(store: Store, *, actor: str, action: str, detail: str) -> None:
    """Leave an audit record (who looked up, imported or viewed customer data), with any
    ID or phone number in ``detail`` masked. Plain SQL, so ``lobby-app lookup`` records its
    lookup without loading the ORM; the store's triggers log it for head office."""
    import uuid
    from datetime import UTC, datetime

    detail = limits.clean_detail(mask_free_text(detail), 500)
    at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    with store.write_sql() as con:
        con.execute(
            "insert into audit_event (id, at, actor, action, detail) values (?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), at, limits.check_actor(actor), action, detail),
        )


# ---------------------------------------------------------------- rows to views


@dataclass(frozen=True)
class CustomerRow:
    """The columns of ``CUSTOMER_COLUMNS`` as the display needs them (an ORM ``Customer``
    has the same attributes and may stand in for one)."""

    id: str
    customer_no: str
    name: str
    gender: str | None
    id_last4: str
    phone_prefix3: str
    phone_last4: str
    card_first6: str
    card_last4: str
    tier: str
    vip_card: str | None
    vip_special: bool
    vip_approved_by: str
    vip_approved_until: date | None
    vip_card_held: str | None
    avg_assets_3m_fen: int
    prospect: bool
    manager: str


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


def customer_rows(con: sqlite3.Connection, ids: Sequence[str]) -> list[CustomerRow]:
    out = []
    for r in con.execute(f"{_SELECT_CUSTOMER} where id in ({_placeholders(len(ids))})", ids):
        values = dict(zip(CUSTOMER_COLUMNS, r, strict=True))
        values["vip_special"] = bool(values["vip_special"])
        values["prospect"] = bool(values["prospect"])
        until = values["vip_approved_until"]
        values["vip_approved_until"] = date.fromisoformat(until) if until else None
        out.append(CustomerRow(**values))
    return out


def customer_view(c: CustomerRow, notes: Sequence[VisitNote] = ()) -> CustomerView:
    return CustomerView(
        id=c.id,
        customer_no=c.customer_no,
        name=c.name,
        salutation=salutation(c.name, c.gender),
        masked_id=mask_id_last4(c.id_last4),
        masked_phone=mask_phone_parts(c.phone_prefix3, c.phone_last4),
        masked_card=mask_card_parts(c.card_first6, c.card_last4),
        tier=Tier(c.tier),
        vip_card=VipCard(c.vip_card) if c.vip_card else None,
        vip_special=c.vip_special,
        prospect=c.prospect,
        manager=c.manager,
        recent_notes=tuple(notes),
        card_note=card_note(
            VipCard(c.vip_card) if c.vip_card else None,
            c.avg_assets_3m_fen,
            special=c.vip_special,
            approved_by=c.vip_approved_by,
            approved_until=c.vip_approved_until,
            held=VipCard(c.vip_card_held) if c.vip_card_held else None,
            today=date.today(),
        ),
    )


def recent_notes(
    con: sqlite3.Connection, customer_ids: Sequence[str], per_customer: int
) -> dict[str, list[VisitNote]]:
    """The notes of each customer's last ``per_customer`` visits, newest first (visits
    without a note or need tag are counted but not shown). One query on the ticket index
    by (customer_id, issued_at), one for the visits' need tags."""
    if not customer_ids:
        return {}
    tickets = con.execute(
        "select id, customer_id, business_date, number, business_code, zone, greeting_note, "
        "needs_note from (select *, row_number() over (partition by customer_id "
        "order by issued_at desc) as rn from ticket "
        f"where customer_id in ({_placeholders(len(customer_ids))})) "
        "where rn <= ? order by issued_at desc",
        (*customer_ids, per_customer),
    ).fetchall()
    if not tickets:
        return {}
    needs: dict[str, list[str]] = {}
    ticket_ids = [t[0] for t in tickets]
    for tid, tag in con.execute(
        f"select ticket_id, tag from ticket_need where ticket_id in "
        f"({_placeholders(len(ticket_ids))})",
        ticket_ids,
    ):
        needs.setdefault(tid, []).append(tag)
    names = dict(con.execute("select code, name from business_type").fetchall())
    out: dict[str, list[VisitNote]] = {}
    for tid, cid, bdate, number, code, zone, greeting, note in tickets:
        tags = tuple(sorted(needs.get(tid, ())))
        if not (greeting or note or tags):
            continue
        out.setdefault(cid, []).append(
            VisitNote(
                business_date=date.fromisoformat(bdate),
                number=number,
                business_name=names.get(code, code),
                zone=Zone(zone),
                greeting_note=greeting,
                needs_note=note,
                needs=tags,
            )
        )
    return out
