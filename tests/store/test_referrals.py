"""Referrals, their outcomes and credit, the marketing table and the teller's pop-up card."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lobby_app.core.errors import LobbyError
from lobby_app.core.marketing import (
    DEFAULT_RULES,
    Rule,
    parse_rules_csv,
    pick_sentence,
    sale_credit,
)
from lobby_app.models import Counter, Customer, Staff
from lobby_app.store import Store, commands, referrals, teller
from lobby_app.store.commands import IssueRequest


@pytest.fixture
def branch(directory_store: Store) -> Store:
    s = directory_store
    with s.write() as w:
        w.add_all(
            [
                Staff(staff_no="L01", name="陈静", role="lobby_manager"),
                Staff(staff_no="T04", name="赵磊", role="teller_open"),
                Staff(staff_no="M01", name="郑雅文", role="customer_manager", location="理财室一"),
                Staff(staff_no="M02", name="何志强", role="customer_manager", location="理财室二"),
                Counter(
                    window_no=4,
                    staff_no="T99",
                    name="4",
                    zones="vip,closed_counter",
                    kind="vip_cash",
                    vip_window=True,
                ),
                Counter(window_no=5, staff_no="T99", name="5", zones="open_counter"),
                Counter(
                    window_no=7,
                    staff_no="M01",
                    name="贵宾理财室",
                    zones="vip",
                    kind="vip_room",
                    vip_window=True,
                ),
            ]
        )
    return s


def cid(store: Store, no: str) -> str:
    with store.read() as s:
        found = s.scalar(select(Customer.id).where(Customer.customer_no == no))
        assert found is not None
        return found


def test_referral_sale_splits_credit_between_finder_and_seller(branch: Store) -> None:
    # 张珊珊: potential tier, no assigned manager
    t = commands.issue_ticket(
        branch, IssueRequest("wealth", customer_id=cid(branch, "C100000003"), needs=("wealth",))
    )
    ref = referrals.refer(
        branch, ticket_number=t.number, to_staff="m02", need="理财", note="想买理财", actor="T04"
    )
    assert ref["referral_no"].startswith("ZJ") and ref["status"] == "new"
    assert (ref["to_staff"], ref["to_location"], ref["referrer_name"]) == (
        "M02",
        "理财室二",
        "赵磊",
    )
    customer = ref["customer"]
    assert isinstance(customer, dict)
    assert customer["salutation"] == "张女士" and customer["masked_phone"] == "137****1111"
    assert "13700001111" not in str(ref)
    assert [r.referral_no for r in referrals.inbox(branch, to_staff="M02")] == [ref["referral_no"]]
    assert referrals.inbox(branch, to_staff="M01") == []
    with pytest.raises(LobbyError) as e:
        referrals.accept(branch, str(ref["referral_no"]), actor="M01")
    assert e.value.code == "not_your_referral"
    assert referrals.accept(branch, str(ref["referral_no"]), actor="M02")["status"] == "accepted"
    assert referrals.contact(branch, str(ref["referral_no"]), actor="M02")["status"] == "contacted"
    sold = referrals.record_outcome(
        branch,
        str(ref["referral_no"]),
        outcome="sold",
        product="稳健理财",
        amount_fen=100_001,
        actor="M02",
    )
    credits = {c["staff"]: (c["kind"], c["share_pct"], c["amount_fen"]) for c in sold["credits"]}  # type: ignore[union-attr]
    assert credits == {"T04": ("finder", 50, 50_000), "M02": ("seller", 50, 50_001)}
    with pytest.raises(LobbyError) as e:
        referrals.record_outcome(branch, str(ref["referral_no"]), outcome="declined", actor="M02")
    assert e.value.code == "referral_closed"
    assert referrals.inbox(branch, to_staff="M02") == []  # closed: out of the open inbox
    assert len(referrals.inbox(branch, to_staff="M02", open_only=False)) == 1


def test_assigned_vip_credits_the_assigned_manager(branch: Store) -> None:
    t = commands.issue_ticket(branch, IssueRequest("cash", customer_id=cid(branch, "C100000001")))
    ref = referrals.refer(branch, ticket_number=t.number, to_staff="M02", need="fund", actor="L01")
    sold = referrals.record_outcome(
        branch,
        str(ref["referral_no"]),
        outcome="sold",
        product="基金定投",
        amount_fen=5_000_00,
        actor="M02",
    )
    assert [(c["staff"], c["kind"], c["share_pct"]) for c in sold["credits"]] == [  # type: ignore[union-attr]
        ("M01", "owner", 100)
    ]


def test_follow_up_then_sale_and_retry_acts_once(branch: Store) -> None:
    t = commands.issue_ticket(branch, IssueRequest("cash"))  # a walk-in
    ref = referrals.refer(
        branch, ticket_number=t.number, to_staff="M01", need="loan", actor="L01", request_id="r1"
    )
    again = referrals.refer(
        branch, ticket_number=t.number, to_staff="M01", need="loan", actor="L01", request_id="r1"
    )
    assert again["referral_no"] == ref["referral_no"] and ref["customer"] is None
    assert len(referrals.inbox(branch)) == 1
    no = str(ref["referral_no"])
    with pytest.raises(LobbyError) as e:
        referrals.record_outcome(branch, no, outcome="follow_up", actor="M01")
    assert e.value.field == "follow_up_on"
    fu = referrals.record_outcome(
        branch, no, outcome="follow_up", follow_up_on=date(2026, 12, 1), actor="M01"
    )
    assert fu["status"] == "follow_up" and fu["follow_up_on"] == "2026-12-01"
    sold = referrals.record_outcome(
        branch,
        no,
        outcome="sold",
        product="消费贷",
        amount_fen=1_000_000,
        actor="L01",
        any_manager=True,
    )
    assert [(c["kind"], c["staff"]) for c in sold["credits"]] == [("complete", "L01")]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"ticket_number": "Z999", "to_staff": "M01", "need": "wealth"}, "unknown_ticket"),
        ({"ticket_number": "A001", "to_staff": "T04", "need": "wealth"}, "unknown_manager"),
        ({"ticket_number": "A001", "to_staff": "M01", "need": "yacht"}, "unknown_need"),
        (
            {"ticket_number": "A001", "to_staff": "M01", "need": "wealth", "note": "长" * 201},
            "text_too_long",
        ),
    ],
)
def test_bad_referrals_are_refused_and_write_nothing(
    branch: Store, kwargs: dict[str, str], code: str
) -> None:
    commands.issue_ticket(branch, IssueRequest("cash"))
    with pytest.raises(LobbyError) as e:
        referrals.refer(branch, actor="L01", **kwargs)  # type: ignore[arg-type]
    assert e.value.code == code
    assert referrals.inbox(branch, open_only=False) == []


def test_credit_rules() -> None:
    assert sale_credit(finder="T1", seller="M1", assigned_manager="", vip=False, finder_pct=30) == [
        *sale_credit(finder="T1", seller="M1", assigned_manager="M9", vip=False, finder_pct=30)
    ]
    split = sale_credit(finder="T1", seller="M1", assigned_manager="", vip=False, finder_pct=30)
    assert [(c.staff_no, c.share_pct) for c in split] == [("T1", 30), ("M1", 70)]
    owner = sale_credit(finder="T1", seller="M1", assigned_manager="M9", vip=True, finder_pct=30)
    assert [(c.staff_no, c.kind) for c in owner] == [("M9", "owner")]


def test_marketing_picks_most_specific_rule() -> None:
    rules = list(DEFAULT_RULES)
    assert "存款快到期" in pick_sentence(rules, "mass", ["deposit_maturing", "wealth"])
    assert "专属客户经理" in pick_sentence(rules, "mid_high", ["wealth"])
    assert "起点较低" in pick_sentence(rules, "potential", ["wealth"])
    assert "贵宾理财室" in pick_sentence(rules, "mid_high", [])
    assert "资产规划" in pick_sentence(rules, "potential", [], prospect=True)
    assert pick_sentence([Rule("", "", "x", active=False)], None, []) == ""


def test_marketing_csv_names_line_and_field() -> None:
    good = parse_rules_csv("tier,need,sentence,sort_order\nmass,,您好,5\n,wealth,理财,1\n")
    assert [(r.tier, r.need, r.sort_order) for r in good] == [("mass", "", 5), ("", "wealth", 1)]
    with pytest.raises(LobbyError) as e:
        parse_rules_csv("tier,need,sentence\nmass,,ok\nrich,,bad\n")
    assert (e.value.line, e.value.field) == (3, "tier")
    with pytest.raises(LobbyError) as e:
        parse_rules_csv("tier,need,sentence\n,wealth,\n")
    assert (e.value.line, e.value.field) == (2, "sentence")


def test_pop_up_card_has_notes_and_marketing_but_no_full_numbers(branch: Store) -> None:
    c1 = cid(branch, "C100000001")
    commands.issue_ticket(
        branch, IssueRequest("cash", customer_id=c1, greeting_note="上次带孙子来")
    )
    teller.call_next(branch, 4)
    teller.finish(branch, 4)
    commands.issue_ticket(
        branch,
        IssueRequest(
            "wealth",
            customer_id=c1,
            needs=("deposit_maturing",),
            needs_note="50万下周到期",
            greeting_note="心情不错",
        ),
    )
    called = teller.call_next(branch, 7)  # VIP non-cash work: the VIP room (issue 15)
    card = referrals.ticket_card(branch, called.ticket_id)
    assert card["salutation"] == "欧阳先生" and card["tier_label"] == "中高端客户"
    assert card["needs"] == ["存款到期"] and card["needs_note"] == "50万下周到期"
    assert card["greeting_note"] == "心情不错"
    assert any("上次带孙子来" in n for n in card["recent_notes"])  # type: ignore[union-attr]
    assert "存款快到期" in str(card["marketing"])
    assert card["masked_id"].endswith(str(card["masked_id"])[-4:]) and "*" in str(card["masked_id"])  # type: ignore[union-attr]
    assert "13800138001" not in str(card) and "310101" not in str(card)
    teller.finish(branch, 7)
    walk = commands.issue_ticket(branch, IssueRequest("fx"))
    card = referrals.ticket_card(branch, walk.id)
    assert card["walk_in"] is True and card["salutation"] == "" and card["recent_notes"] == []


def test_counters_view(branch: Store) -> None:
    commands.issue_ticket(branch, IssueRequest("card"))
    commands.issue_ticket(branch, IssueRequest("card"))
    teller.call_next(branch, 5)
    teller.call_next(branch, 5)  # finishes the first
    teller.finish(branch, 5)
    teller.set_window_open(branch, 4, False)
    view = {c.window: c for c in teller.counters_view(branch)}
    assert view[5].served_today == 2 and view[5].current is None and view[5].idle_since
    assert view[4].is_open is False and view[4].served_today == 0
    commands.issue_ticket(branch, IssueRequest("card"))
    teller.call_next(branch, 5)
    view = {c.window: c for c in teller.counters_view(branch)}
    assert view[5].current == "B003" and view[5].current_status == "called" and view[5].since
    assert view[5].idle_since is None
