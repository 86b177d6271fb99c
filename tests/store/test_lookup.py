import pytest

from lobby_app.store import Store, commands
from tests.conftest import make_id


def nos(store: Store, q: str) -> list[str]:
    return [c.customer_no for c in commands.lookup_customers(store, q)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("13912345678", ["C100000002"]),  # whole phone
        ("5678", ["C100000002", "C100000005"]),  # phone last 4
        (make_id("31010119900505003"), ["C100000002"]),  # whole ID
        ("C100000004", ["C100000004"]),  # customer number
        ("100000004", ["C100000004"]),  # customer number without its letter
        ("0123", ["C100000001"]),  # card tail
        ("6222021234567890123", ["C100000001"]),  # whole card
        ("张", ["C100000002", "C100000003"]),  # surname
        ("张三", ["C100000002"]),
        ("zhangsan", ["C100000002"]),
        ("zs", ["C100000002", "C100000003"]),  # initials 张三 / 张珊珊 (zss)
        ("oymh", ["C100000001"]),
        ("wjg", ["C100000004"]),
        ("xyz", []),
    ],
)
def test_one_box_finds_by_anything(directory_store: Store, query: str, expected: list[str]) -> None:
    assert sorted(nos(directory_store, query)) == sorted(expected)


def test_results_are_masked(directory_store: Store) -> None:
    (c,) = commands.lookup_customers(directory_store, "13912345678")
    assert c.masked_phone == "139****5678"
    assert c.masked_id == "*" * 14 + make_id("31010119900505003")[-4:]
    doc = c.as_json()
    assert "13912345678" not in str(doc) and make_id("31010119900505003") not in str(doc)


def test_tier_card_manager_prospect_shown(directory_store: Store) -> None:
    (v,) = commands.lookup_customers(directory_store, "C100000001")
    assert (v.tier.value, v.vip_card and v.vip_card.value, v.manager) == (
        "mid_high",
        "black_gold",
        "M01",
    )
    (s,) = commands.lookup_customers(directory_store, "C100000005")
    assert s.vip_card is not None and s.vip_special  # a special-approval card
    (p,) = commands.lookup_customers(directory_store, "C100000003")
    assert p.prospect and p.tier.value == "potential"


def test_viewing_a_customer_is_audited(directory_store: Store) -> None:
    import sqlite3

    c = commands.find_one_customer(directory_store, "C100000002")
    commands.customer_detail(directory_store, c.id, actor="L01")
    with sqlite3.connect(directory_store.db_path) as con:
        rows = con.execute(
            "select actor, action, detail from audit_event where action='view_customer'"
        ).fetchall()
    assert rows == [("L01", "view_customer", "C100000002")]


def test_ambiguous_customer_for_scripts(directory_store: Store) -> None:
    from lobby_app.core.errors import LobbyError

    with pytest.raises(LobbyError) as e:
        commands.find_one_customer(directory_store, "张")
    assert e.value.code == "customer_ambiguous" and "C100000002" in e.value.message
