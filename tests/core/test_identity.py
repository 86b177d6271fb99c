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
        f"id {'*' * 14}{GOOD_ID[-4:]} tel 138****8000 A012"  # first 3 + last 4 (DOMAIN.md)
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


# ---------------------------------------------------------------- real resident ID numbers

from datetime import date, timedelta  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lobby_app.core.identity import PROVINCES, id_check_char  # noqa: E402


def with_check(body17: str) -> str:
    return body17 + id_check_char(body17)


@pytest.mark.parametrize(
    "number",
    [
        # 玄武区 (320102) dates from 1983; its holder was born in 1970 and got the number later
        "320102197005205676",
        # 北京市西城区 (110102) exists since 1958 but a 1950 birth with a 1990s-style county
        with_check("11010219500101002"),
        # 浦东新区 (310115) was created in 1992; holder born 1931
        with_check("31011519310615004"),
        # a county code that never existed in the bundled table: informational only
        with_check("44999919650301001"),
        # born on 29 February of a leap year
        with_check("51010219600229001"),
    ],
)
def test_older_customers_numbers_pass(number: str) -> None:
    n = validate_id_number(number)
    assert n.number == number and n.birth_date is not None and n.birth_date.year < 1971


def test_stdnum_would_refuse_the_real_number_we_accept() -> None:
    assert not ric.is_valid("320102197005205676")
    assert validate_id_number("320102197005205676").birth_date == date(1970, 5, 20)


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (with_check("31010119800101001")[:-1] + "Y", "只能是数字"),
        ("3101011980010100", "18位"),
        (with_check("99010119800101001"), "省级行政区"),
        (with_check("00010119800101001"), "省级行政区"),
        (with_check("31010119800230001"), "出生日期"),  # 30 February
        (with_check("31010119801301001"), "出生日期"),  # month 13
        (with_check("31010118991231001"), "不可能"),  # before 1900
        (with_check("31010121000101001"), "不可能"),  # in the future
        (with_check("51010219610229001"), "出生日期"),  # 1961 is no leap year
    ],
)
def test_numbers_that_must_still_fail(number: str, words: str) -> None:
    with pytest.raises(LobbyError) as e:
        validate_id_number(number)
    assert e.value.code == "invalid_id_number" and words in e.value.message
    assert number not in e.value.message  # never echoes the number


def test_born_today_passes_born_tomorrow_fails() -> None:
    today = date(2026, 11, 30)
    validate_id_number(with_check("310101" + today.strftime("%Y%m%d") + "001"), today=today)
    tomorrow = today + timedelta(days=1)
    with pytest.raises(LobbyError):
        validate_id_number(with_check("310101" + tomorrow.strftime("%Y%m%d") + "001"), today=today)


def test_check_char_agrees_with_stdnum() -> None:
    for body in ("11010519491231002", "44052418800101001", "31010119800101001"):
        assert id_check_char(body) == ric.calc_check_digit(body + "0")


_counties = st.text(alphabet="0123456789", min_size=4, max_size=4)
_births = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 30))
_seqs = st.text(alphabet="0123456789", min_size=3, max_size=3)


@given(st.sampled_from(sorted(PROVINCES)), _counties, _births, _seqs)
def test_any_county_any_birth_date_passes(prov: str, county: str, born: date, seq: str) -> None:
    number = with_check(prov + county + born.strftime("%Y%m%d") + seq)
    n = validate_id_number(number, today=date(2026, 11, 30))
    assert (n.number, n.birth_date) == (number, born)
    assert n.gender == ("M" if int(seq[2]) % 2 else "F")


@given(
    st.sampled_from(sorted(PROVINCES)),
    _counties,
    _births,
    _seqs,
    st.integers(min_value=0, max_value=17),
    st.sampled_from("0123456789X"),
)
def test_any_single_change_is_caught(
    prov: str, county: str, born: date, seq: str, pos: int, char: str
) -> None:
    good = with_check(prov + county + born.strftime("%Y%m%d") + seq)
    bad = good[:pos] + char + good[pos + 1 :]
    if bad == good:
        return
    # ISO 7064 MOD 11-2 catches every single-character substitution
    with pytest.raises(LobbyError):
        validate_id_number(bad, today=date(2026, 11, 30))
