import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobby_app.store import Store, commands
from tests.conftest import CUSTOMERS_CSV, make_id


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
    # 30,000 yuan and 标准卡 with no approval on record: not a special card but one due for
    # downgrade, served at the level the assets earn (none) (003 第十二条, 第十四条)
    (s,) = commands.lookup_customers(directory_store, "C100000005")
    assert s.vip_card is None and not s.vip_special and not s.vip_entitled
    assert s.card_note == "待降级：近三月日均资产未达标准卡标准"
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


# ------------------------------------------------- four characters: the last four first


def _crowded_csv() -> str:
    """30 customers whose numbers start C0001… / C0000…, and three whose phone, ID or card
    ends in what a lobby manager types: 0001 (card), 0000 (phone), 517X (ID)."""
    head = CUSTOMERS_CSV.splitlines()[0]
    rows = [head]
    for i in range(30):
        no = f"C0001{i:05d}" if i < 15 else f"C0000{i:05d}"
        rows.append(f"{no},路人{i},,1380013{i + 1000:04d},100,0,100,,,0,")
    rows.append("C900000001,赵卡尾,,13911112222,100,0,100,,,0,6222020000000000001")
    rows.append("C900000002,钱机尾,,13922220000,100,0,100,,,0,")
    rows.append(f"C900000003,孙证尾,{X_ID},13933334444,100,0,100,,,0,")
    return "\n".join(rows) + "\n"


X_ID = "11010519600301517X"  # a valid ID whose check character is X


@pytest.fixture
def crowded_store(store: Store) -> Store:
    from lobby_app.core.customer_csv import parse_customer_csv
    from lobby_app.store.directory import import_records

    report = import_records(
        store, parse_customer_csv(_crowded_csv()), strict=True, actor="test", source="t"
    )
    assert report.created == 33, report.errors
    return store


def test_four_digits_find_the_card_that_ends_so_before_customer_numbers(
    crowded_store: Store,
) -> None:
    """Issue 15.12: ``0001`` listed 20 customers C0001… and missed the card ending 0001."""
    found = commands.lookup_customers(crowded_store, "0001")
    assert found[0].customer_no == "C900000001" and found[0].matched == "card_last4"
    assert {c.matched for c in found[1:]} == {"customer_no"}


def test_four_digits_pick_the_phone_that_ends_so(crowded_store: Store) -> None:
    """Issue 15.12: ``0000`` picked C0000… (a customer-number prefix) over the customer
    whose phone ends 0000; a script's ``--customer 0000`` names that customer too."""
    found = commands.lookup_customers(crowded_store, "0000")
    assert (found[0].customer_no, found[0].matched) == ("C900000002", "phone_last4")
    assert commands.find_one_customer(crowded_store, "0000").customer_no == "C900000002"


@pytest.mark.parametrize("query", ["517X", "517x", " 517X ", "５１７Ｘ"])
def test_id_last_four_ending_in_x_is_not_a_customer_number(
    crowded_store: Store, query: str
) -> None:
    """Issue 15.12: ``517X`` was taken for a customer number and found nobody (an ID's
    check character is X in about 9 % of a directory)."""
    (c,) = commands.lookup_customers(crowded_store, query)
    assert (c.customer_no, c.matched, c.masked_id[-4:]) == ("C900000003", "id_last4", "517X")


def test_each_result_says_what_matched(directory_store: Store) -> None:
    """Issue 15.12: a result says which field matched, and says so across the hub too."""
    from lobby_app.core.search import match_label
    from lobby_app.store.views import CustomerView

    def matched(q: str) -> dict[str, str]:
        return {c.customer_no: c.matched for c in commands.lookup_customers(directory_store, q)}

    assert matched("5678") == {"C100000002": "phone_last4", "C100000005": "phone_last4"}
    assert matched("0123") == {"C100000001": "card_last4"}
    assert matched(make_id("31010119900505003")[-4:])["C100000002"] == "id_last4"
    assert matched("13912345678") == {"C100000002": "phone"}
    assert matched(make_id("31010119900505003")) == {"C100000002": "id_number"}
    assert matched("100000004") == {"C100000004": "customer_no"}
    assert matched("张三") == {"C100000002": "name"}
    assert matched("oymh") == {"C100000001": "initials"}
    assert matched("zhangsan") == {"C100000002": "pinyin"}
    (c,) = commands.lookup_customers(directory_store, "0123")
    assert CustomerView.from_json(c.as_json()).matched == "card_last4"
    assert match_label(c.matched) == "卡号尾号" and match_label("") == ""


def test_ambiguous_last_four_for_scripts_lists_what_matched(directory_store: Store) -> None:
    from lobby_app.core.errors import LobbyError

    with pytest.raises(LobbyError) as e:
        commands.find_one_customer(directory_store, "5678")
    assert e.value.code == "customer_ambiguous" and "手机尾号" in e.value.message


# ------------------------------------------------- property: last-four matches rank first

TAILS = st.sampled_from(["0001", "0000", "517X", "1234", "9999", ""])


@st.composite
def directories(draw: st.DrawFn) -> list[dict[str, str]]:
    """Customers whose numbers often start with a 4-digit query and whose phone, ID and
    card tails often equal one: what crowds a lookup."""
    n = draw(st.integers(1, 40))
    numbers = draw(
        st.lists(
            st.builds(
                lambda head, rest: f"C{head}{rest:05d}",
                st.sampled_from(["0001", "0000", "1234", "5170", "9999"]),
                st.integers(0, 99_999),
            ),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    out = []
    for no in numbers:
        phone = draw(st.sampled_from(["0001", "0000", "1234", "9999", "4321"]))
        ident = draw(TAILS)
        card = draw(st.sampled_from(["0001", "0000", "1234", "8888", ""]))
        out.append({"no": no, "phone": phone, "id": ident, "card": card})
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(directory=directories(), query=st.sampled_from(["0001", "0000", "517X", "517x", "1234"]))
def test_last_four_matches_always_come_first(
    store: Store, directory: list[dict[str, str]], query: str
) -> None:
    """Issue 15.12, as a rule: whoever's phone, ID or card ends in the four typed
    characters is found, and listed before any customer found by a customer number."""
    from sqlalchemy import delete

    from lobby_app.models import Customer

    with store.write() as s:  # a fresh directory for each example, in the same store
        s.execute(delete(Customer))
        for d in directory:
            s.add(
                Customer(
                    customer_no=d["no"],
                    name="客户",
                    phone_last4=d["phone"],
                    phone_prefix3="138",
                    id_last4=d["id"],
                    card_last4=d["card"],
                    card_first6="622202" if d["card"] else "",
                    tier="mass",
                )
            )
    tail = query.upper()
    by_tail = {d["no"] for d in directory if tail in (d["phone"], d["id"], d["card"])}
    found = commands.lookup_customers(store, query, with_notes=False)
    got = [c.customer_no for c in found]
    assert len(got) == len(set(got))
    if len(by_tail) <= commands.LOOKUP_LIMIT:
        assert set(got[: len(by_tail)]) == by_tail  # all of them, and first
    else:
        assert set(got) <= by_tail
    fields = {"phone_last4": "phone", "id_last4": "id", "card_last4": "card"}
    rows = {d["no"]: d for d in directory}
    for c in found:  # and each says truthfully what matched
        if c.matched in fields:
            assert rows[c.customer_no][fields[c.matched]] == tail
        else:
            assert c.matched == "customer_no" and c.customer_no.startswith(("C" + tail, tail))


@pytest.mark.parametrize(
    ("text", "last4", "customer_no"),
    [
        ("517X", "517X", None),  # only an ID's last four can end in X
        ("517x", "517X", None),
        ("０００１", "0001", "0001"),  # typed in a Chinese input method's full-width mode
        ("0001", "0001", "0001"),  # both, the last four ranked first (lookup_customers)
        ("C0001", None, "C0001"),
    ],
)
def test_search_plan_reads_four_characters_as_a_last_four(
    text: str, last4: str | None, customer_no: str | None
) -> None:
    """Issue 15.12: ``517X`` was planned as a customer-number prefix only."""
    from lobby_app.core.search import plan_search

    plan = plan_search(text)
    assert (plan.last4, plan.customer_no_prefix) == (last4, customer_no)
