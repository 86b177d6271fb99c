"""Identity data: validating ID and phone numbers, keyed hashes, masks and salutations.

Full ID and phone numbers never reach the store: it keeps a keyed hash (for exact lookup)
and the few digits the masked display needs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from operator import mul

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, upper-case X
    gender: str  # "M" or "F" from the 17th digit
    birth_date: date | None = None

    @property
    def last4(self) -> str:
        return self.number[-4:]


# Province-level codes of GB/T 2260 (the first two digits of a resident ID number), and
# 81/82/83 of the residence permits for Hong Kong, Macao and Taiwan residents.
PROVINCES: dict[str, str] = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
    "71": "台湾",
    "81": "香港",
    "82": "澳门",
    "83": "台湾(居住证)",
}

_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_SPACE = re.compile(r"\s")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
EARLIEST_BIRTH_YEAR = 1900


def id_check_char(body17: str) -> str:
    """The check character of an 18-character resident ID (ISO 7064 MOD 11-2)."""
    if len(body17) != 17:
        raise ValueError(body17)
    total = sum(map(mul, map(int, body17), _ID_WEIGHTS))
    return "10X98765432"[total % 11]


def validate_id_number(
    value: str, *, field: str = "id_number", today: date | None = None
) -> IdNumber:
    """A mainland resident ID number (GB 11643): length, format, check character, a real
    birth date between 1900 and today, and a known province.

    The county part (digits 3-6) is never a reason to refuse: a number keeps the code of
    the place where it was first issued, and codes were created, merged and renamed over
    the years, so a person born in 1950 often carries a county code from the 1980s
    (DOMAIN.md, "Identity numbers as they really are")."""

    def refuse(reason: str) -> LobbyError:
        return LobbyError(
            "invalid_id_number", tr(f"证件号码{reason}，请核对后重新输入"), field=field
        )

    raw = _SPACE.sub("", value).upper()
    if len(raw) != 18:
        raise LobbyError(
            "invalid_id_number",
            tr(f"证件号码应为18位，实际{len(raw)}位，请核对后重新输入"),
            field=field,
        )
    if not _ID_SHAPE.fullmatch(raw):
        raise refuse(tr("只能是数字(最后一位可以是X)"))
    if raw[:2] not in PROVINCES:
        raise refuse(tr(f"前两位“{raw[:2]}”不是已知的省级行政区代码"))
    try:
        born = date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        raise refuse(tr("第7-14位不是有效的出生日期")) from None
    if born.year < EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        raise refuse(tr("中的出生日期不可能(早于1900年或晚于今天)"))
    if id_check_char(raw[:17]) != raw[17]:
        raise refuse(tr("校验位不正确"))
    gender = "M" if int(raw[16]) % 2 == 1 else "F"
    return IdNumber(number=raw, gender=gender, birth_date=born)


def id_region(number: str) -> str:
    """Where a valid number was first issued, for information only ("" when the county
    code is not in the bundled table, which is normal for old and renamed codes)."""
    try:
        from stdnum.cn import ric

        place = ric.get_birth_place(number)
    except Exception:  # informational: an unknown or retired code is not an error
        return PROVINCES.get(number[:2], "")
    return str(place.get("county") or place.get("city") or place.get("province") or "")


@dataclass(frozen=True)
class Phone:
    digits: str  # national significant number, e.g. 13812345678

    @property
    def prefix3(self) -> str:
        return self.digits[:3]

    @property
    def last4(self) -> str:
        return self.digits[-4:]


@cache
def _plain_mobile() -> Callable[[str], bool]:
    """Whether 11 plain digits are a valid mainland mobile number, decided by the same
    patterns of phonenumbers' metadata its ``parse`` + ``is_valid_number`` apply, without
    their generic machinery (a fifth of a directory import's time went there). Only a
    number these say yes to takes the short way: nothing else reaches ``parse`` differently.

    For such a string ``parse(raw, "CN")`` takes no country code (no ``+``, no ``00``), no
    extension, and strips no national prefix or carrier code unless the prefix pattern
    matches at its start (``179xx``, ``1[12]xx``: those go the long way); the national number
    is then the 11 digits, valid when they fit the general and the mobile descriptions."""
    from phonenumbers.phonemetadata import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region("CN")
    assert meta is not None and meta.mobile is not None and meta.general_desc is not None
    prefix = re.compile(meta.national_prefix_for_parsing or "(?!)")
    general = re.compile(meta.general_desc.national_number_pattern or "(?!)")
    mobile = re.compile(meta.mobile.national_number_pattern or "(?!)")
    lengths = meta.mobile.possible_length or meta.general_desc.possible_length
    if meta.country_code != 86 or 11 not in lengths:
        return lambda _digits: False

    def plain(digits: str) -> bool:
        return (
            prefix.match(digits) is None
            and general.fullmatch(digits) is not None
            and mobile.fullmatch(digits) is not None
        )

    return plain


_ELEVEN_DIGITS = re.compile(r"1[0-9]{10}")


def validate_phone(value: str, *, field: str = "phone") -> Phone:
    """A mainland China phone number (mobile or fixed line with area code)."""
    raw = value.strip()
    if _ELEVEN_DIGITS.fullmatch(raw) and _plain_mobile()(raw):
        return Phone(digits=raw)
    import phonenumbers  # loaded on first use: its metadata slows every start-up

    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise LobbyError(
            "invalid_phone", tr(f"电话号码“{mask_free_text(raw)}”无法识别，请核对"), field=field
        ) from None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise LobbyError(
            "invalid_phone",
            tr("电话号码不是有效的中国大陆号码，请核对(手机号为11位，以1开头)"),
            field=field,
        )
    return Phone(digits=phonenumbers.national_significant_number(parsed))


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised identifier; the key lives outside the store."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed_hasher(key: bytes) -> Callable[[str, str], str]:
    """``keyed_hash`` with ``key`` taken once: the same hashes (HMAC, RFC 2104, written out),
    the padded key's inner and outer SHA-256 states copied for each value instead of set up
    again (for a directory import's million rows)."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def hashed(kind: str, value: str) -> str:
        i = inner.copy()
        i.update(f"{kind}:{value}".encode())
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return hashed


def mask_id_last4(last4: str) -> str:
    return "*" * 14 + last4 if last4 else ""


def mask_phone_parts(prefix3: str, last4: str) -> str:
    return f"{prefix3}****{last4}" if last4 else ""


def mask_card_parts(first6: str, last4: str) -> str:
    return f"{first6}******{last4}" if last4 else ""


# ---------------------------------------------------------------- free text

# What a person types between the digit groups of a number ("186-1205-7623",
# "6222 0212 3456 7890", "110101 19840922 7176"): spaces of any width and hyphens or dashes
# (ASCII, full-width, typographic). Not "." "," "/" ":", which belong to amounts, dates and
# times ("1.5万", "3,000,000", "2026/12/01", "09:30"), nor a tab or a line break.
_GAP_EXTRA = frozenset("\u2212\uff0d")  # minus sign, full-width hyphen-minus
_MAX_GAP = 3  # at most this many separator characters between two digit groups
_ID_X = frozenset("Xx\uff38\uff58")  # an ID's check character, ASCII or full-width
_LONG_RUN = 7  # an unbroken run of this many digits is masked whatever it looks like
_LONGEST = 19  # the longest number looked for: a card
_AREA = re.compile(r"0(?:10|2\d|[3-9]\d\d)")
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d\d)[2-9]\d{6,7}")
_MOBILE = re.compile(r"(?:0086|86)?1[3-9]\d{9}")
# ISO/IEC 7812 major industry identifiers of payment cards: 3 (JCB, Amex), 4-5 (Visa,
# Mastercard), 6 (UnionPay 62...), 9 (domestic cards such as 95...)
_CARD_FIRST = frozenset("34569")


def _is_gap(ch: str) -> bool:
    # a space of any width, not a tab or a line break: "A130\n2026-12-01" is two things
    return unicodedata.category(ch) in ("Zs", "Pd") or ch in _GAP_EXTRA


def _plausible_birth(yyyymmdd: str) -> bool:
    y, m, d = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])
    return 1900 <= y <= 2099 and 1 <= m <= 12 and 1 <= d <= 31


def _number_kind(digits: str, chunks: list[str]) -> str | None:
    """What a run of digits (its groups as typed in ``chunks``) is, if it is a personal
    number: an ID (18 or 15 characters), a mobile (with or without 86), a landline with its
    area code, or a bank card (16-19 digits)."""
    n = len(digits)
    id18 = n == 18 and digits[:17].isdigit() and digits[17] in "0123456789X"
    if id18 and digits[:2] in PROVINCES and _plausible_birth(digits[6:14]):
        return "id"
    if not digits.isdigit():
        return None
    if n == 15 and digits[:2] in PROVINCES and _plausible_birth("19" + digits[6:12]):
        return "id"
    if _MOBILE.fullmatch(digits):
        return "mobile"
    if 16 <= n <= 19 and digits[0] in _CARD_FIRST:
        return "card"
    # a landline typed in groups has its area code as a group of its own ("010-6234 5678")
    grouped = len(chunks) == 1 or (_AREA.fullmatch(chunks[0]) is not None and len(chunks) <= 3)
    if _LANDLINE.fullmatch(digits) and grouped:
        return "landline"
    return None


def _masked(digits: str, kind: str | None, head: bool, tail: bool) -> str:
    """A number as JR/T 0171 lets it be shown: an ID by its last 4 only, a phone by its
    first 3 and last 4, a card by its first 6 and last 4 (DOMAIN.md "Confidentiality")."""
    if kind == "mobile" and len(digits) > 11:  # the country code stays as typed
        code = digits[:-11] if head else "*" * (len(digits) - 11)
        return code + _masked(digits[-11:], kind, head, tail)
    first = {"mobile": 3, "landline": 3, "card": 6}.get(kind or "", 0) if head else 0
    last = 4 if tail else 0
    return digits[:first] + "*" * (len(digits) - first - last) + digits[len(digits) - last :]


@dataclass
class _Chunk:
    start: int  # in the original text
    end: int
    digits: str  # ASCII digits (or "X")


def _groups(text: str) -> list[list[_Chunk]]:
    """Runs of digits (any script's digits, full-width included), each with what joins it
    to the next: a group is digit runs joined by at most ``_MAX_GAP`` separators."""
    groups: list[list[_Chunk]] = []
    current: list[_Chunk] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isdecimal():
            j = i
            while j < n and text[j].isdecimal():
                j += 1
            current.append(_Chunk(i, j, "".join(str(unicodedata.decimal(c)) for c in text[i:j])))
            i = j
        elif ch in _ID_X and current and _x_ends_id(text, i):
            current.append(_Chunk(i, i + 1, "X"))
            i += 1
        else:
            j = i
            while j < n and j - i < _MAX_GAP + 1 and _is_gap(text[j]):
                j += 1
            joined = current and j > i and j - i <= _MAX_GAP and j < n
            if joined and (text[j].isdecimal() or (text[j] in _ID_X and _x_ends_id(text, j))):
                i = j  # the separators inside a number
                continue
            if current:
                groups.append(current)
                current = []
            i = max(j, i + 1)
    if current:
        groups.append(current)
    return groups


def _x_ends_id(text: str, i: int) -> bool:
    """An X right after digits is an ID's check character unless a word goes on ("10x")."""
    nxt = unicodedata.normalize("NFKC", text[i + 1]) if i + 1 < len(text) else ""
    return not (nxt.isascii() and nxt.isalnum())  # a full-width letter counts too


def _spans(group: list[_Chunk]) -> list[tuple[int, int, str | None]]:
    """The personal numbers in a group, as (first chunk, end chunk, kind): from the left,
    the longest run of whole groups that is a number; then any unbroken run of 7 or more
    digits that is left, whatever it is (a date written 20261201 excepted)."""
    found: list[tuple[int, int, str | None]] = []
    i = 0
    while i < len(group):
        hit: tuple[int, int, str | None] | None = None
        ends, total = [], 0
        for j in range(i, len(group)):
            total += len(group[j].digits)
            if total > _LONGEST:
                break
            ends.append(j + 1)
        for j in reversed(ends):
            typed = [c.digits for c in group[i:j]]
            kind = _number_kind("".join(typed), typed)
            if kind is not None:
                hit = (i, j, kind)
                break
        if hit is not None:
            found.append(hit)
            i = hit[1]
        else:
            i += 1
    taken = {k for a, b, _ in found for k in range(a, b)}
    for k, c in enumerate(group):
        if k in taken or len(c.digits) < _LONG_RUN:
            continue
        if len(c.digits) == 8 and _plausible_birth(c.digits):
            continue  # a date, 20261201
        found.append((k, k + 1, None))
    return sorted(found)


def mask_free_text(text: str) -> str:
    """Mask the ID, phone and bank card numbers in free text (a note, a reason, an audit
    detail, a log line), however they are typed: with spaces or hyphens between the digit
    groups, in full-width digits, with an X check character. Shown as JR/T 0171 allows at
    most (ID: last 4; phone: first 3 + last 4; card: first 6 + last 4); any other unbroken
    run of 7 or more digits keeps its last 4 only. Amounts (30万, 1.5万, 300000元), dates
    (2026-12-01, 2026/12/01, 20261201), times and ticket numbers (A001) are left alone.

    Where a number's digit groups touch other digits, the side that touches shows nothing:
    no shown digits ever join other digits into a whole number."""
    if sum(1 for ch in text if ch.isdecimal()) < _LONG_RUN:
        return text
    out: list[str] = []
    at = 0
    for group in _groups(text):
        spans = _spans(group)
        masked_chunks = {k for a, b, _ in spans for k in range(a, b)}
        for a, b, kind in spans:
            head = a == 0 or (a - 1) in masked_chunks
            tail = b == len(group) or b in masked_chunks
            digits = "".join(c.digits for c in group[a:b])
            out.append(text[at : group[a].start])
            out.append(_masked(digits, kind, head, tail))
            at = group[b - 1].end
    out.append(text[at:])
    return "".join(out)


# What the person who typed a note is told when a number in it was masked on saving.
NOTES_MASKED = tr("备注中的证件号/手机号已遮盖")


def masks_numbers(text: str) -> bool:
    """Would saving ``text`` mask a number in it (to tell the person who typed it)?"""
    return mask_free_text(text) != text


def salutation(name: str, gender: str | None) -> str:
    """``张先生`` / ``李女士``: the surname and a title, the most a printout may show."""
    if not name:
        return ""
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    title = {"M": tr("先生"), "F": tr("女士")}.get(gender or "", tr("先生/女士"))
    return surname + title


COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
    ]
)
