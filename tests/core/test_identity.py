import pytest
from stdnum.cn import ric

from lobby_app.core.errors import LobbyError
from lobby_app.core.identity import (
    keyed_hash,
    mask_card_parts,
    mask_free_text,
    mask_id_last4,
    mask_phone_parts,
    salutation,
    validate_id_number,
    validate_phone,
)
from lobby_app.core.search import name_pinyin, plan_search

BODY = "31010119800101001"  # 17th digit 1: male
GOOD_ID = BODY + ric.calc_check_digit(BODY + "0")  # the function drops the last char


def test_valid_id_number_and_gender() -> None:
    n = validate_id_number(GOOD_ID.lower())
    assert n.number == GOOD_ID and n.gender == "M" and n.last4 == GOOD_ID[-4:]


def test_bad_checksum_is_rejected_without_echoing_the_number() -> None:
    wrong = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")
    with pytest.raises(LobbyError) as e:
        validate_id_number(wrong)
    assert e.value.code == "invalid_id_number" and "校验位" in e.value.message
    assert wrong not in e.value.message


def test_wrong_length_id() -> None:
    with pytest.raises(LobbyError) as e:
        validate_id_number("1234")
    assert "18位" in e.value.message


def test_phone() -> None:
    p = validate_phone("+86 138 0013 8000")
    assert (p.digits, p.prefix3, p.last4) == ("13800138000", "138", "8000")
    with pytest.raises(LobbyError) as e:
        validate_phone("12345")
    assert e.value.code == "invalid_phone"


def test_masks() -> None:
    assert mask_id_last4("1234") == "**************1234"
    assert mask_phone_parts("138", "5678") == "138****5678"
    assert mask_card_parts("622202", "1234") == "622202******1234"
    assert mask_id_last4("") == ""
    assert mask_free_text(f"id {GOOD_ID} tel 13800138000 A012") == (
        f"id {'*' * 14}{GOOD_ID[-4:]} tel *******8000 A012"
    )


def test_keyed_hash_depends_on_key_and_kind() -> None:
    assert keyed_hash(b"k1", "id", GOOD_ID) != keyed_hash(b"k2", "id", GOOD_ID)
    assert keyed_hash(b"k1", "id", "1") != keyed_hash(b"k1", "phone", "1")
    assert len(keyed_hash(b"k", "id", GOOD_ID)) == 64


def test_salutation() -> None:
    assert salutation("张三", "M") == "张先生"
    assert salutation("欧阳明华", "F") == "欧阳女士"
    assert salutation("李四", None) == "李先生/女士"


def test_pinyin() -> None:
    assert name_pinyin("张三") == ("zhangsan", "zs")
    assert name_pinyin("欧阳明华")[1] == "oymh"


@pytest.mark.parametrize(
    ("text", "attr", "value"),
    [
        (GOOD_ID, "id_number", GOOD_ID),
        ("13800138000", "phone", "13800138000"),
        ("5678", "last4", "5678"),
        ("张", "name_prefix", "张"),
        ("ZS", "initials_prefix", "zs"),
        ("zhangsan", "pinyin_prefix", "zhangsan"),
        ("C000123", "customer_no_prefix", "C000123"),
        ("  ", "empty", True),
    ],
)
def test_search_plan(text: str, attr: str, value: object) -> None:
    assert getattr(plan_search(text), attr) == value


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("曾志伟", "zzw"),
        ("单田芳", "stf"),
        ("解晓东", "xxd"),
        ("翟天临", "ztl"),
        ("区家麟", "ojl"),
        ("万俟卨", "mqx"),
        ("长孙无忌", "zswj"),
        ("重阳", "cy"),
    ],
)
def test_surnames_read_as_surnames(name: str, initials: str) -> None:
    assert name_pinyin(name)[1] == initials
