"""Special-approval VIP cards (特批) in the store: approval recorded and shown, the branch's
share kept at import, a card due for downgrade told apart (003 第十二条, 第十四条)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lobby_app.core.customer_csv import parse_customer_csv
from lobby_app.core.errors import LobbyError
from lobby_app.models import Customer
from lobby_app.store import Store, commands
from lobby_app.store.directory import import_records
from lobby_app.store.views import CustomerView

HEADER = "customer_no,name,avg_assets_3m,assets,vip_card,特批审批人,特批有效期至\n"
APPROVER = "总行理财中心 刘建新"


def until(days: int = 200) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def load(store: Store, text: str, *, strict: bool = True) -> dict[str, object]:
    return import_records(
        store, parse_customer_csv(text), strict=strict, actor="test", source="t"
    ).as_json()


def earned_rows(n: int) -> str:
    """``n`` customers whose 3-month average earns a standard card."""
    return "".join(f"E{i:03d},客户{i},250000,250000,标准卡,,\n" for i in range(n))


def view(store: Store, no: str) -> CustomerView:
    (c,) = commands.lookup_customers(store, no)
    return c


def test_a_card_without_approval_is_due_for_downgrade_not_a_vip(store: Store) -> None:
    """Defect: a file row with 30,000 yuan and 黑金卡 became a black-gold VIP with no approval
    on record. Now it is taken in, flagged on its line, served at the level its assets earn
    (none), and the desk sees it as due for downgrade; an approved one shows its approval."""
    report = load(
        store,
        HEADER
        + earned_rows(40)
        + "S1,王总,30000,30000,黑金卡,,\n"
        + f"S2,李总,30000,30000,黑金卡,{APPROVER},{until()}\n",
    )
    assert report["errors"] == [] and report["imported"] == 42
    assert report["warnings"] == [
        {
            "line": 42,
            "field": "vip_card",
            "reason": "黑金卡需近三个月日均资产不低于600万元，本行未达到，也没有特批审批"
            "(特批审批人、特批有效期至)：已按待降级导入，按非贵宾卡客户服务",
        }
    ]
    s1, s2 = view(store, "S1"), view(store, "S2")
    assert (s1.vip_card, s1.vip_special, s1.vip_entitled) == (None, False, False)
    assert s1.card_note == "待降级：近三月日均资产未达黑金卡标准"
    assert (s2.vip_card and s2.vip_card.value, s2.vip_special, s2.vip_entitled) == (
        "black_gold",
        True,
        True,
    )
    assert s2.card_note == f"特批贵宾卡(审批人{APPROVER}，有效至{until()})"
    assert view(store, "E001").card_note == ""  # an earned card needs no note
    assert s2.as_json()["card_note"] == s2.card_note  # what the hub sends the stations
    with store.read() as s:
        row = s.scalar(select(Customer).where(Customer.customer_no == "S2"))
        assert row is not None and row.vip_approved_by == APPROVER
        assert row.vip_approved_until == date.fromisoformat(until())


def test_special_cards_stay_within_the_branchs_share(store: Store) -> None:
    """003 第十二条 2: special cards at most 5 % of the branch's VIP card holders. With 38
    earned cards and three approved specials (41 holders, 5 % allows two), the file's last
    special is taken in as due for downgrade and flagged; a stricter branch setting counts."""
    rows = "".join(
        f"S{i},特批{i},0,0,白金卡,{APPROVER},{until()}\n" for i in range(1, 4)
    )  # lines 40, 41, 42
    report = load(store, HEADER + earned_rows(38) + rows)
    assert report["errors"] == []
    (w,) = report["warnings"]  # type: ignore[misc]
    assert (w["line"], w["field"]) == (42, "vip_approved_by")
    assert "特批不得超过贵宾卡客户的 5%" in w["reason"] and "最多 2 张" in w["reason"]
    assert [view(store, f"S{i}").vip_special for i in (1, 2, 3)] == [True, True, False]
    s3 = view(store, "S3")
    assert s3.vip_card is None and not s3.vip_entitled
    assert s3.card_note == f"待降级：白金卡特批超出网点特批名额(审批人{APPROVER})"
    with store.read() as s:
        specials = s.scalars(select(Customer).where(Customer.vip_special.is_(True))).all()
        holders = s.scalars(select(Customer).where(Customer.vip_card.is_not(None))).all()
    assert len(specials) * 100 <= 5 * len(holders)

    commands.change_settings(store, {"special_vip_max_pct": "0"}, actor="B01")
    again = load(store, HEADER + rows)
    assert [w["line"] for w in again["warnings"]] == [2, 3, 4]  # type: ignore[index]
    assert not any(view(store, f"S{i}").vip_special for i in (1, 2, 3))


@pytest.mark.parametrize("value", ["6", "-1", "abc", "2.5", "100"])
def test_the_share_setting_is_checked(store: Store, value: str) -> None:
    """The branch may be stricter than 003 第十二条's 5 %, never looser."""
    with pytest.raises(LobbyError) as e:
        commands.change_settings(store, {"special_vip_max_pct": value}, actor="B01")
    assert e.value.field == "special_vip_max_pct" and "5%" in e.value.message
    assert commands.settings(store).special_vip_max_pct == 5
    assert commands.change_settings(store, {"special_vip_max_pct": "3"}, actor="B01")
    assert commands.settings(store).special_vip_max_pct == 3


def test_an_approval_that_has_run_out_shows_as_due_for_downgrade(store: Store) -> None:
    """A special card imported while its approval ran is shown as due for downgrade once the
    approval's end date has passed, naming the approval, not as a special any more."""
    load(store, HEADER + earned_rows(40) + f"S1,王总,0,0,白金卡,{APPROVER},{until(1)}\n")
    assert view(store, "S1").card_note.startswith("特批贵宾卡")
    with store.write() as s:  # the calendar moves on (the row is what the import stored)
        row = s.scalar(select(Customer).where(Customer.customer_no == "S1"))
        assert row is not None
        row.vip_approved_until = date.today() - timedelta(days=1)
    gone = date.today() - timedelta(days=1)
    assert view(store, "S1").card_note == f"待降级：白金卡特批已于{gone}到期(审批人{APPROVER})"
