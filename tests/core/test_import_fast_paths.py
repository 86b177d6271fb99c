"""The directory import's short ways (issue 17) give what the long ways gave: phone numbers
against phonenumbers itself, names' pinyin against pypinyin read whole, keyed hashes against
HMAC, plain amounts against Decimal."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from decimal import Decimal, InvalidOperation

import phonenumbers
import pytest
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from lobby_app.core.customer_csv import parse_amount_fen
from lobby_app.core.errors import LobbyError
from lobby_app.core.identity import keyed_hash, keyed_hasher, validate_phone
from lobby_app.core.limits import AMOUNT_MAX_FEN
from lobby_app.core.search import COMPOUND_SURNAME_READINGS, SURNAME_READINGS, name_pinyin
from lobby_app.core.tiers import YUAN


def phone_the_long_way(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.national_significant_number(parsed)


def test_eleven_digit_numbers_are_judged_as_phonenumbers_judges_them() -> None:
    rng = random.Random(17)
    numbers = [f"1{p:02d}{rng.randrange(10**8):08d}" for p in range(100) for _ in range(40)]
    numbers += ["17951234567", "12593123456", "11012345678", "16101234567", "17405123456"]
    for raw in numbers:
        try:
            got: str | None = validate_phone(raw).digits
        except LobbyError:
            got = None
        assert got == phone_the_long_way(raw), raw


def pinyin_the_long_way(name: str) -> tuple[str, str]:
    """name_pinyin as it was before issue 17: pypinyin over the whole name."""
    if name[:2] in COMPOUND_SURNAME_READINGS:
        head, rest = list(COMPOUND_SURNAME_READINGS[name[:2]]), name[2:]
    elif name[:1] in SURNAME_READINGS:
        head, rest = [SURNAME_READINGS[name[0]]], name[1:]
    else:
        head, rest = [], name
    syllables = head + [s.lower() for s in lazy_pinyin(rest, style=Style.NORMAL, errors="ignore")]
    syllables = [re.sub(r"[^a-z]", "", s.replace("ü", "v")) for s in syllables]
    syllables = [s for s in syllables if s]
    return "".join(syllables), "".join(s[0] for s in syllables)


def test_names_read_as_pypinyin_reads_them_whole() -> None:
    rng = random.Random(17)
    chars = [chr(c) for c in range(0x4E00, 0x9FA6)]
    phrases = sorted(p for p in PHRASES_DICT if 2 <= len(p) <= 3)
    names = [
        "张重庆",
        "长孙无忌",
        "曾志伟",
        "吕绿",
        "Émile Zola",
        "周 引号",
        "行长",
        "乐乐",
        "a张b",
    ]
    names += ["".join(rng.choice(chars) for _ in range(rng.randint(1, 4))) for _ in range(3000)]
    names += [rng.choice("张李曾单王") + rng.choice(phrases) for _ in range(1000)]
    for name in names:
        assert name_pinyin(name) == pinyin_the_long_way(name), name


@pytest.mark.parametrize("size", [0, 1, 32, 64, 65, 200])
def test_the_keyed_hasher_is_hmac_sha256(size: int) -> None:
    key = bytes(range(256))[:size] or b""
    hashed = keyed_hasher(key)
    for value in ("", "11010119840922717X", "13800138000", "张三"):
        want = hmac.new(key, f"id:{value}".encode(), hashlib.sha256).hexdigest()
        assert hashed("id", value) == keyed_hash(key, "id", value) == want


def amount_the_long_way(text: str) -> int | None:
    """parse_amount_fen as it was before issue 17 (None: refused)."""
    t = re.sub(r"[,，\s]", "", text).removesuffix("元")
    scale = Decimal(1)
    if t.endswith("万"):
        t, scale = t[:-1], Decimal(10_000)
    if not t:
        return 0
    try:
        number = Decimal(t)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number > Decimal(AMOUNT_MAX_FEN) / YUAN / scale:
        return None
    value = number * scale
    if scale == 1 and value != value.quantize(Decimal("0.01")):
        return None
    return int((value * YUAN).to_integral_value())


def test_amounts_are_read_as_before() -> None:
    texts = ["", "0", "7", "007", "12345.67", "1.5", "0.05", "1.234", "-1", "１２", "25万"]
    texts += ["999999999999.99", "1000000000000", "1000000000000.00", "1000000000000.01"]
    texts += ["1,234.50", "3000元", "1e3", "12.", ".5", "99999999999999999"]
    for text in texts:
        try:
            got: int | None = parse_amount_fen(text)
        except ValueError:
            got = None
        assert got == amount_the_long_way(text), text
