import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lobby_app.core.customer_csv import decode_csv_bytes, parse_amount_fen, parse_customer_csv
from lobby_app.core.demo_data import SHOWCASE, demo_customer_rows, rows_to_csv
from lobby_app.core.errors import LobbyError
from lobby_app.core.search import name_pinyin
from lobby_app.core.tiers import (
    CARD_THRESHOLD_FEN,
    Tier,
    VipCard,
    card_rank,
    tier_for,
    vip_card_for,
)
from tests.conftest import make_id

ID1 = make_id("31010119800101001")
BAD_ID = ID1[:-1] + ("1" if ID1[-1] != "1" else "2")


def test_english_headers_and_exact_amounts() -> None:
    r = parse_customer_csv(
        "customer_no,name,id_number,phone,assets,loans,avg_assets_3m,vip_card,manager,prospect\n"
        f'C1,张三,{ID1},13800138000,"1,234.5",25万,0,,M01,是\n'
    )
    assert r.errors == []
    (c,) = r.records
    assert (c.assets_fen, c.loans_fen, c.manager, c.prospect) == (
        123450,
        25_000_000,
        "M01",
        True,
    )
    assert c.id_number is not None and c.id_number.last4 == ID1[-4:]
    assert c.phone is not None and c.phone.digits == "13800138000"


def test_chinese_headers_gbk_bom_and_semicolons() -> None:
    text = f"客户号;姓名;证件号码;手机号;金融资产\nC9;李四;{ID1};;300000元\n"
    for data in (text.encode("gbk"), ("\ufeff" + text).encode("utf-8")):
        r = parse_customer_csv(decode_csv_bytes(data))
        assert r.errors == [] and r.records[0].name == "李四"
        assert tier_for(r.records[0].assets_fen, 0) is Tier.MID_HIGH


def test_every_bad_row_reported_with_line_and_field() -> None:
    text = (
        "customer_no,name,id_number,phone,assets,loans,vip_card,prospect,card_no\n"
        f"C1,甲,{BAD_ID},,,,,,\n"  # 2 checksum
        "C2,乙,1234,,,,,,\n"  # 3 length
        "C3,丙,,12345,,,,,\n"  # 4 phone
        "C4,丁,,,-5,,,,\n"  # 5 negative
        "C5,戊,,,,很多,,,\n"  # 6 text in loans
        "C6,己,,,,,钻石卡,,\n"  # 7 unknown card
        "C7,庚,,,,,,也许,\n"  # 8 prospect
        "C1,辛,,,,,,,\n"  # 9 duplicate? C1 was bad, so not a duplicate
        "C1,壬,,,,,,,\n"  # 10 duplicate of line 9
        "C8,,,,,,,,\n"  # 11 missing name
        # 12-13 a quoted name over two lines: refused (no line break in a name, issue 16),
        # and the lines after it still count right
        'C9,"多行\n备注",,,,,,,\n'
        "C10,癸,,,,,,,,extra\n"  # 14 too many fields
        "C11,子,,,,,,,12ab\n"  # 15 card
    )
    r = parse_customer_csv(text)
    got = [(e.line, e.field) for e in r.errors]
    assert got == [
        (2, "id_number"),
        (3, "id_number"),
        (4, "phone"),
        (5, "assets"),
        (6, "loans"),
        (7, "vip_card"),
        (8, "prospect"),
        (10, "customer_no"),
        (11, "name"),
        (12, "name"),
        (14, "row"),
        (15, "card_no"),
    ]
    assert [c.customer_no for c in r.records] == ["C1"]
    assert "第9行" in r.errors[7].reason
    for e in r.errors:
        assert not re.search(r"\d{11,}", e.reason)


TODAY = date(2026, 12, 1)


def test_vip_card_rule() -> None:
    """Defect: a card the 3-month average does not earn became a special-approval (特批) VIP
    card with no approval on record (30,000 yuan and 黑金卡 was a black-gold VIP). Now a card
    is earned, or approved (who, until when, within its date), or flagged due for downgrade
    and served at the level the assets earn (003 第十二条, 第十四条)."""
    r = parse_customer_csv(
        "customer_no,name,avg_assets_3m,vip_card,特批审批人,特批有效期至\n"
        "A,甲,1600000,标准卡,,\n"
        "B,乙,1000,白金卡,总行理财中心 刘建新,2027-06-30\n"
        "C,丙,1000,,,\n"
        "D,丁,30000,黑金卡,,\n"
        "E,戊,300000,黑金卡,总行理财中心 刘建新,2026-11-30\n",
        today=TODAY,
    )
    assert r.errors == []
    a, b, c, d, e = r.records
    assert (a.vip_card, a.vip_special, a.vip_card_held) == (VipCard.PLATINUM, False, None)
    assert (b.vip_card, b.vip_special, b.vip_card_held) == (VipCard.PLATINUM, True, None)
    assert (b.vip_approved_by, b.vip_approved_until) == ("总行理财中心 刘建新", date(2027, 6, 30))
    assert (c.vip_card, c.vip_special, c.vip_card_held) == (None, False, None)
    assert (d.vip_card, d.vip_special, d.vip_card_held) == (None, False, VipCard.BLACK_GOLD)
    assert (e.vip_card, e.vip_card_held) == (VipCard.STANDARD, VipCard.BLACK_GOLD)  # expired
    assert [(w.line, w.field) for w in r.warnings] == [(5, "vip_card"), (6, "vip_approved_until")]
    assert "黑金卡需近三个月日均资产不低于600万元" in r.warnings[0].reason
    assert "按非贵宾卡客户服务" in r.warnings[0].reason
    assert "2026-11-30 到期" in r.warnings[1].reason and "按标准卡服务" in r.warnings[1].reason


def test_special_approval_fields_are_checked() -> None:
    """An approval is both fields, a real date, at most a card's two years ahead, for a named
    card; each mistake is refused on its line and field, as the other fields are."""
    r = parse_customer_csv(
        "customer_no,name,avg_assets_3m,vip_card,vip_approved_by,vip_approved_until\n"
        "A,甲,0,白金卡,刘建新,\n"
        "B,乙,0,白金卡,,2027-06-30\n"
        "C,丙,0,白金卡,刘建新,明年六月\n"
        "D,丁,0,白金卡,刘建新,2029-12-02\n"
        "E,戊,0,,刘建新,2027-06-30\n"
        "F,己,0,白金卡,刘建新,2028/12/01\n",
        today=TODAY,
    )
    assert [(e.line, e.field) for e in r.errors] == [
        (2, "vip_approved_until"),
        (3, "vip_approved_by"),
        (4, "vip_approved_until"),
        (5, "vip_approved_until"),
        (6, "vip_card"),
    ]
    assert "2028-12-01" in r.errors[3].reason  # the latest date allowed
    (f,) = r.records
    assert (f.vip_card, f.vip_special, f.vip_approved_until) == (
        VipCard.PLATINUM,
        True,
        date(2028, 12, 1),
    )


_CARDS = st.sampled_from([None, *VipCard])
_AVG = st.one_of(
    st.integers(0, 10**10),
    st.sampled_from([t + d for t in CARD_THRESHOLD_FEN.values() for d in (-1, 0, 1)]),
)


@given(
    held=_CARDS,
    avg=_AVG,
    approver=st.sampled_from(["", "总行理财中心 刘建新"]),
    until_days=st.one_of(st.none(), st.integers(-800, 800)),
    today=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
)
def test_card_rule_property(
    held: VipCard | None, avg: int, approver: str, until_days: int | None, today: date
) -> None:
    """Any assets/card combination: the card served at is earned by the 3-month average, or
    is an approved special within its date, or the row is flagged due for downgrade and
    served at the level the assets earn. Never a card above the assets without approval."""
    until = None if until_days is None else today + timedelta(days=until_days)
    name = "" if held is None else held.label
    text = (
        "customer_no,name,avg_assets_3m,vip_card,vip_approved_by,vip_approved_until\n"
        f"A,甲,{avg / 100:.2f},{name},{approver},{until or ''}\n"
    )
    r = parse_customer_csv(text, today=today)
    if r.errors:  # only an approval itself can be refused
        assert approver or until is not None
        assert {e.field for e in r.errors} <= {"vip_approved_by", "vip_approved_until", "vip_card"}
        return
    (c,) = r.records
    earned = vip_card_for(avg)
    if c.vip_special:
        assert c.vip_card == held and card_rank(held) > card_rank(earned)
        assert c.vip_approved_by == approver != "" and c.vip_approved_until is not None
        assert today <= c.vip_approved_until
        assert r.warnings == []
    elif c.vip_card_held is not None:
        assert c.vip_card == earned and c.vip_card_held == held
        assert card_rank(held) > card_rank(earned)
        assert until is None or until < today  # no approval, or one that has run out
        assert len(r.warnings) == 1 and "待降级" in r.warnings[0].reason
    else:
        assert c.vip_card == earned and r.warnings == []
        assert c.vip_card is None or avg >= CARD_THRESHOLD_FEN[c.vip_card]
        assert card_rank(held) <= card_rank(earned)


def test_missing_column_and_bad_encoding() -> None:
    with pytest.raises(LobbyError) as e:
        parse_customer_csv("customer_no,phone\nC1,13800138000\n")
    assert (e.value.code, e.value.field, e.value.line) == ("missing_column", "name", 1)
    with pytest.raises(LobbyError) as e:
        decode_csv_bytes(b"\xff\xfe\x00\x81\xff")
    assert e.value.code == "bad_encoding"


@pytest.mark.parametrize(
    ("text", "fen"), [("0", 0), ("12.3", 1230), ("1，000", 100000), ("3万", 3_000_000), ("", 0)]
)
def test_amounts(text: str, fen: int) -> None:
    assert parse_amount_fen(text) == fen


@pytest.mark.parametrize("text", ["-1", "abc", "1.234", "NaN", "inf"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount_fen(text)


def test_demo_directory() -> None:
    rows = demo_customer_rows(2000)
    assert rows == demo_customer_rows(2000)
    r = parse_customer_csv(rows_to_csv(rows))
    assert r.errors == [] and len(r.records) == 2000
    tiers = {tier_for(c.assets_fen, c.loans_fen) for c in r.records}
    assert tiers == set(Tier)
    assert {c.vip_card for c in r.records} >= set(VipCard)
    assert any(c.vip_special for c in r.records) and any(c.prospect for c in r.records)
    assert len({c.customer_no for c in r.records}) == 2000
    ids = [c.id_number.number for c in r.records if c.id_number]
    assert len(ids) == len(set(ids)) > 1900
    by_no = {c.customer_no: c for c in r.records}
    vip = by_no[SHOWCASE["vip_black_gold"]]
    assert vip.vip_card is VipCard.BLACK_GOLD and name_pinyin(vip.name)[1] == "oymh"
    assert (
        tier_for(
            by_no[SHOWCASE["loans_mid_high"]].assets_fen,
            by_no[SHOWCASE["loans_mid_high"]].loans_fen,
        )
        is Tier.MID_HIGH
    )
    for c in r.records:
        if c.id_number and c.name[-1] in "伟强磊军洋勇杰涛刚":
            assert c.id_number.gender == "M"
