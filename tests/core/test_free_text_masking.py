"""Free text keeps no full ID, phone or card number, however it is typed (issue 16 item 9),
and the head office's password is never shown (item 10)."""

from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lobby_app.core.identity import PROVINCES, id_check_char, mask_free_text, masks_numbers
from lobby_app.core.redact import hide_password, hide_url_passwords, restore_password

# ---------------------------------------------------------------- numbers as people type them

SEPARATORS = [" ", "-", "\u3000", "\uff0d", "\u2013", "\u2014", "\u00a0", "  ", " - "]
FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)} | {"X": "\uff38"}


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(date(1900, 1, 1), date(2025, 12, 31)))
    body = (
        draw(st.sampled_from(sorted(PROVINCES)))
        + draw(st.from_regex(r"\A[0-9]{4}\Z"))
        + born.strftime("%Y%m%d")
        + draw(st.from_regex(r"\A[0-9]{3}\Z"))
    )
    return body + id_check_char(body)


mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
# UnionPay (62...), Visa, Mastercard and domestic (9...) cards, 16 to 19 digits
cards = st.tuples(
    st.sampled_from(["62", "4", "5", "9"]), st.integers(16, 19), st.randoms(use_true_random=False)
).map(lambda t: t[0] + "".join(str(t[2].randint(0, 9)) for _ in range(t[1] - len(t[0]))))
personal_numbers = st.one_of(id_numbers(), mobiles, cards)


@st.composite
def typed(draw: st.DrawFn, number: str) -> str:
    """``number`` as a person might type it: separators anywhere, full-width digits, a
    lower-case x."""
    out = []
    for i, ch in enumerate(number):
        if i and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
        if ch == "X" and draw(st.booleans()):
            ch = "x"
        out.append(FULL_WIDTH.get(ch, ch) if draw(st.integers(0, 4)) == 0 else ch)
    return "".join(out)


# ---------------------------------------------------------------- ordinary text

words = st.sampled_from(
    ["客户", "想了解理财", "大额存单到期", "陪同老人", "下午再来", "需要开户", "办卡", "转账"]
)
amounts = st.one_of(
    st.integers(1, 9999).map(lambda n: f"{n}万"),
    st.integers(1, 999_999).map(lambda n: f"{n}元"),
    st.tuples(st.integers(1, 999), st.integers(1, 9)).map(lambda t: f"{t[0]}.{t[1]}万"),
    st.integers(1_000, 10**9).map(lambda n: f"{n:,}元"),
    st.integers(1, 99).map(lambda n: f"{n}.5%"),
)
dates = st.dates(date(1990, 1, 1), date(2099, 12, 31)).flatmap(
    lambda d: st.sampled_from(
        [
            d.isoformat(),
            d.strftime("%Y/%m/%d"),
            f"{d.year}年{d.month}月{d.day}日",
            f"{d.month}月{d.day}日",
            d.strftime("%Y%m%d"),
            d.isoformat() + " 09:30",
        ]
    )
)
times = st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}")
tickets = st.tuples(st.sampled_from("ABCDV"), st.integers(1, 999)).map(
    lambda t: f"{t[0]}{t[1]:03d}"
)
others = st.sampled_from(["3号窗口", "65岁", "第2次", "1楼", "5分钟"])
ordinary_piece = st.one_of(words, amounts, dates, times, tickets, others)
# pieces joined by words or punctuation, as a note reads ("A001，2026-12-01 来过")
joiners = st.sampled_from(["，", "、", "；", "：", "。", " 于 ", "（", "）", "和", "\n"])
ordinary_text = st.lists(st.tuples(ordinary_piece, joiners), max_size=8).map(
    lambda parts: "".join(p + j for p, j in parts)
)


def bare(text: str) -> str:
    """The digits and X of ``text`` with every separator taken out, as ASCII: what a
    reader could piece a number together from."""
    out = []
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) == "Pd" or ch == "\uff0d":
            continue
        if ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in "Xx\uff38\uff58":
            out.append("X")
        else:
            out.append(ch)
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(
    number=personal_numbers,
    data=st.data(),
    before=ordinary_text,
    after=ordinary_text,
    glue=st.sampled_from(["", " ", "：", "，", "号码", "tel", " / "]),
)
@example(
    number="110101198409227176", data=None, before="身份证", after="", glue=""
)  # the probe's note
def test_no_full_number_survives_in_free_text(
    number: str, data: st.DataObject | None, before: str, after: str, glue: str
) -> None:
    """Was: only unbroken runs of 7+ digits were masked, so "186-1205-7623", "1861 2057 623"
    or full-width digits kept the whole number in the saved note."""
    written = data.draw(typed(number)) if data is not None else number
    # digits typed straight onto a number make another number: a note has a boundary there
    left = before + glue if not (before + glue)[-1:].isdecimal() else before + glue + "，"
    right = glue[::-1] + after if not (glue[::-1] + after)[:1].isdecimal() else "，" + after
    text = left + written + right
    saved = mask_free_text(text)
    assert number not in bare(saved), (text, saved)
    assert masks_numbers(text)
    assert mask_free_text(saved) == saved  # masking twice changes nothing
    assert len(saved) <= len(text)  # never longer: the column limits still hold


def test_the_probes_note_and_each_kind_shows_what_jrt_0171_allows() -> None:
    """Was: "身份证110101198409227176 / 186-1205-7623" was stored as typed (the phone in
    full); an ID shows its last 4, a phone first 3 + last 4, a card first 6 + last 4."""
    assert mask_free_text("身份证110101198409227176 / 186-1205-7623") == (
        "身份证**************7176 / 186****7623"
    )
    assert mask_free_text("卡号6222 0212 3456 7890 123") == "卡号622202*********0123"
    assert mask_free_text("证件 1101 0119 8409 2271 7x 先生") == "证件 **************717X 先生"
    assert mask_free_text("电话１８６　１２０５　７６２３") == "电话186****7623"
    assert mask_free_text("座机010-6234 5678，手机+86 186 1205 7623") == (
        "座机010****5678，手机+86186****7623"
    )
    assert mask_free_text("旧证410105850101123") == "旧证***********1123"  # 15-digit ID


def test_digits_next_to_a_number_never_join_what_is_shown() -> None:
    """A number typed right after other digits shows nothing on that side: its first 3
    (or 6) digits would otherwise read on from the digits before it."""
    assert mask_free_text("A001 186 1205 7623") == "A001 *******7623"
    saved = mask_free_text("6222 0212 3456 186 1205 7623")
    assert "18612057623" not in bare(saved)


@settings(max_examples=400, deadline=None)
@given(ordinary_text)
@example("2026-12-01 09:30 A001 30万 1.5万 3,000,000元 20261201")
def test_ordinary_text_is_left_alone(text: str) -> None:
    """Amounts (30万, 300000元, 3,000,000元), dates (2026-12-01, 20261201), times, ticket
    numbers: none of them is a personal number, none is touched. (Was: a date written
    20261201 was masked as a number.)"""
    assert mask_free_text(text) == text
    assert not masks_numbers(text)


# ---------------------------------------------------------------- passwords in addresses

URL = "postgresql+psycopg://lobby:s3cr3t@ho.bank.cn:5432/lobby"


def test_a_database_address_is_shown_without_its_password() -> None:
    """Was: ``settings --json`` printed the head office's address with its password."""
    assert hide_password(URL) == "postgresql+psycopg://lobby:***@ho.bank.cn:5432/lobby"
    assert hide_password("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db"
    assert hide_password("sqlite:////data/headoffice.sqlite3") == (
        "sqlite:////data/headoffice.sqlite3"
    )
    line = f"sync to {URL} failed; hub ws://192.168.1.10:8765 up"
    assert hide_url_passwords(line) == (
        "sync to postgresql+psycopg://lobby:***@ho.bank.cn:5432/lobby failed; "
        "hub ws://192.168.1.10:8765 up"
    )


@given(st.from_regex(r"\A[A-Za-z0-9!#$%^&*()_+=\[\]{}|;'\",.<>?~@:-]{1,24}\Z"))
def test_a_password_left_as_stars_is_kept_and_a_typed_one_replaces_it(password: str) -> None:
    """The settings dialog shows ``***``: saving unchanged keeps the password; a new host
    with the stars keeps it too; a password typed over the stars is the new one."""
    original = f"postgresql+psycopg://lobby:{password}@ho:5432/lobby"
    shown = hide_password(original)
    assert shown == "postgresql+psycopg://lobby:***@ho:5432/lobby"
    assert restore_password(shown, original) == original
    moved = shown.replace("@ho:", "@ho2:")
    assert restore_password(moved, original) == original.replace("@ho:", "@ho2:")
    assert restore_password(shown.replace("***", "new"), original) == original.replace(
        f":{password}@", ":new@"
    )
