"""Every query of the desk's type-ahead lookup is answered from an index (issue 17 item 4):
at a million customers one query that scans the customer table takes a second, and the
desk asks on every key typed. SQLite's own query plan for each kind of text the search box
takes, and the lookup's reading of visit notes and customer rows."""

from __future__ import annotations

import pytest

from lobby_app.store import Store, commands
from lobby_app.store.lookup import lookup_queries
from tests.conftest import make_id

# One text of every kind plan_search tells apart (core.search), as a person types them.
KINDS = {
    "customer number": "C100000002",
    "customer number without its letter": "100000002",
    "customer number prefix": "C1000",
    "first digit": "1",
    "first letter": "z",
    "first character of a name": "张",
    "name": "张三",
    "pinyin": "zhangsan",
    "pinyin prefix": "zhan",
    "pinyin initials": "zs",
    "last four digits": "5678",
    "an ID's last four ending in X": "517x",
    "whole phone": "13912345678",
    "whole ID number": make_id("31010119900505003"),
    "whole ID number ending in X": "11010519600301517x",
    "whole card number": "6222021234567890123",
    "card tail": "1234567890123",
}


def plan(store: Store, sql: str, params: tuple[object, ...]) -> list[str]:
    with store.read_sql() as con:
        return [row[3] for row in con.execute(f"explain query plan {sql}", params)]


def uses_an_index(steps: list[str]) -> bool:
    """Each table is searched through an index; none is scanned row by row."""
    return all(
        "USING INDEX" in s or "USING COVERING INDEX" in s or "PRIMARY KEY" in s
        for s in steps
        if s.startswith(("SEARCH", "SCAN"))
    ) and not any(s.startswith("SCAN customer") for s in steps)


@pytest.mark.parametrize("kind", KINDS)
def test_every_lookup_query_searches_an_index(directory_store: Store, kind: str) -> None:
    queries = lookup_queries(directory_store.id_key, KINDS[kind])
    assert queries, kind
    for matched, sql, params in queries:
        steps = plan(directory_store, sql, (*params, 20))
        assert uses_an_index(steps), (kind, matched, sql, steps)


def test_notes_and_rows_are_read_by_index(directory_store: Store) -> None:
    """The visit notes of the customers found come from the ticket index by customer and
    time, their rows by primary key: a busy branch's years of tickets are not scanned."""
    ids = [c.id for c in commands.lookup_customers(directory_store, "张")]
    marks = ",".join("?" * len(ids))
    with directory_store.read_sql() as con:
        notes = [
            r[3]
            for r in con.execute(
                "explain query plan select id from (select *, row_number() over (partition "
                "by customer_id order by issued_at desc) as rn from ticket where customer_id "
                f"in ({marks})) where rn <= 3",
                ids,
            )
        ]
        rows = [
            r[3]
            for r in con.execute(
                f"explain query plan select name from customer where id in ({marks})", ids
            )
        ]
    assert any("ix_ticket_customer" in s for s in notes), notes
    assert uses_an_index(rows), rows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11010519600301517X", ["C900000003"]),  # whole ID ending in X
        ("11010519600301517x", ["C900000003"]),  # typed without the shift key
        ("517x", ["C900000003"]),  # its last four
    ],
)
def test_ids_ending_in_x_are_found_whole_and_by_last_four(
    store: Store, text: str, expected: list[str]
) -> None:
    from lobby_app.core.customer_csv import parse_customer_csv
    from lobby_app.store.directory import import_records

    csv = (
        "customer_no,name,id_number,phone,assets,loans,avg_assets_3m,vip_card,manager,prospect,card_no\n"
        "C900000003,赵敏,11010519600301517X,13700001234,1000,0,1000,,,0,\n"
        f"C900000004,钱多多,{make_id('31010119900505003')},13700005678,1000,0,1000,,,0,\n"
    )
    import_records(store, parse_customer_csv(csv), strict=True, actor="t", source="t")
    found = commands.lookup_customers(store, text)
    assert [c.customer_no for c in found] == expected
    assert found[0].matched == ("id_last4" if len(text) == 4 else "id_number")
