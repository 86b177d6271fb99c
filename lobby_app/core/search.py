"""What a lobby manager typed in the one search box, and how to match it.

The store turns a ``SearchPlan`` into indexed queries; this module only decides what the
text can mean: a whole ID or phone number, the last four digits of either or of a card,
a customer number, Chinese characters of a name, full pinyin or pinyin initials; and
which field a found customer matched on (``Matched``), in the order the desk lists them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from lobby_app.core.i18n import tr

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"^[a-zA-Z]+$")
_ID_LIKE = re.compile(r"^[0-9]{17}[0-9Xx]$")
# Four characters ending in X can only be an ID number's last four (its ISO 7064 check
# character, DOMAIN.md "Identity numbers as they really are"), never a customer number.
_ID_LAST4_X = re.compile(r"^[0-9]{3}[Xx]$")


class Matched(StrEnum):
    """Which field of a customer the query matched, strongest first: the order in which
    the desk lists what it found. Four characters mean the last four of a phone, ID or card
    before they mean the start of a customer number (DOMAIN.md: search treats ``517X`` as
    an ID's last four)."""

    ID_NUMBER = "id_number"
    PHONE = "phone"
    PHONE_LAST4 = "phone_last4"
    ID_LAST4 = "id_last4"
    CARD_LAST4 = "card_last4"
    CUSTOMER_NO = "customer_no"
    CARD = "card"
    NAME = "name"
    PINYIN = "pinyin"
    INITIALS = "initials"

    @property
    def label(self) -> str:
        return {
            Matched.ID_NUMBER: tr("证件号"),
            Matched.PHONE: tr("手机号"),
            Matched.PHONE_LAST4: tr("手机尾号"),
            Matched.ID_LAST4: tr("证件尾号"),
            Matched.CARD_LAST4: tr("卡号尾号"),
            Matched.CUSTOMER_NO: tr("客户号"),
            Matched.CARD: tr("卡号"),
            Matched.NAME: tr("姓名"),
            Matched.PINYIN: tr("拼音"),
            Matched.INITIALS: tr("拼音首字母"),
        }[self]

    @property
    def is_last4(self) -> bool:
        return self in LAST4_MATCHES


LAST4_MATCHES = frozenset({Matched.PHONE_LAST4, Matched.ID_LAST4, Matched.CARD_LAST4})


def match_label(code: str) -> str:
    """The label of a ``Matched`` value as a station receives it ("" when not known)."""
    try:
        return Matched(code).label
    except ValueError:
        return ""


# Characters read differently as a surname than in ordinary words (曾 is zeng, not ceng).
# pypinyin reads the common word, so a lobby manager typing "zzw" for 曾志伟 would miss.
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "区": "ou",
    "仇": "qiu",
    "查": "zha",
    "朴": "piao",
    "乐": "yue",
    "覃": "qin",
    "翟": "zhai",
    "缪": "miao",
    "盖": "ge",
    "召": "shao",
    "黑": "he",
    "种": "chong",
    "秘": "bi",
    "员": "yun",
    "繁": "po",
    "尉": "yu",
    "句": "gou",
    "折": "she",
    "祭": "zhai",
    "谌": "chen",
    "眭": "sui",
    "柏": "bai",
    "薄": "bo",
    "长": "chang",
    "沈": "shen",
    "任": "ren",
    "华": "hua",
    "纪": "ji",
    "过": "guo",
    "宓": "fu",
    "能": "nai",
    "隗": "wei",
    "阚": "kan",
}
COMPOUND_SURNAME_READINGS: dict[str, tuple[str, str]] = {
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "长孙": ("zhang", "sun"),
    "单于": ("chan", "yu"),
    "澹台": ("tan", "tai"),
    "令狐": ("ling", "hu"),
}


@lru_cache(maxsize=65_536)
def name_pinyin(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a Chinese name, lower case, no tones: 张三 -> zhangsan, zs.

    The surname is read as a surname (曾志伟 -> zengzhiwei, zzw).
    """
    if name[:2] in COMPOUND_SURNAME_READINGS:
        head, rest = list(COMPOUND_SURNAME_READINGS[name[:2]]), name[2:]
    elif name[:1] in SURNAME_READINGS:
        head, rest = [SURNAME_READINGS[name[0]]], name[1:]
    else:
        head, rest = [], name
    syllables = head + list(_rest_syllables(rest))
    return "".join(syllables), "".join(s[0] for s in syllables)


def _rest_syllables(rest: str) -> tuple[str, ...]:
    """The syllables of a name after its surname reading, as ``_pinyin_of`` reads them.

    A directory import reads a million names, and pypinyin takes ~0.1 ms a name. Given
    names repeat, and their characters far more: a name none of whose two-or-more character
    runs is one of pypinyin's phrases reads as its characters one by one (pypinyin reads
    such a text character by character), so each character is read once and remembered (and names with phrases whole)."""
    if len(rest) > 1:
        phrases = _phrases()
        n = len(rest)
        if any(rest[i:j] in phrases for i in range(n) for j in range(i + 2, n + 1)):
            return _pinyin_of(rest)
    if len(rest) == 1:
        return _pinyin_of(rest)
    return tuple(s for ch in rest for s in _pinyin_of(ch))


def _phrases() -> Container[str]:
    # Imported here: pypinyin's dictionaries cost half a second and ~60 MB, and only
    # loading the directory needs them, not the desk's lookups.
    from pypinyin.constants import PHRASES_DICT

    return PHRASES_DICT


@lru_cache(maxsize=65_536)
def _pinyin_of(text: str) -> tuple[str, ...]:
    """pypinyin's reading of ``text``: lower case, no tones, ü as v, letters only."""
    from pypinyin import Style, lazy_pinyin

    syllables = [s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore")]
    syllables = [re.sub(r"[^a-z]", "", s.replace("ü", "v")) for s in syllables]
    return tuple(s for s in syllables if s)


@dataclass(frozen=True)
class SearchPlan:
    id_number: str | None = None  # a whole ID number (to hash)
    phone: str | None = None  # a whole mobile number (to hash)
    last4: str | None = None  # last 4 of phone, ID or card (an ID's may end in X)
    customer_no_prefix: str | None = None
    card_tail: str | None = None
    name_prefix: str | None = None
    pinyin_prefix: str | None = None
    initials_prefix: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.id_number,
                self.phone,
                self.last4,
                self.customer_no_prefix,
                self.card_tail,
                self.name_prefix,
                self.pinyin_prefix,
                self.initials_prefix,
            )
        )


def plan_search(text: str) -> SearchPlan:
    # NFKC: digits and letters typed in a Chinese input method's full-width mode (０００１)
    q = re.sub(r"\s", "", unicodedata.normalize("NFKC", text))
    if not q:
        return SearchPlan()
    if _ID_LIKE.match(q):
        return SearchPlan(id_number=q.upper())
    if _ID_LAST4_X.match(q):
        return SearchPlan(last4=q.upper())
    if q.isascii() and q.isdigit():
        if len(q) == 11 and q.startswith("1"):
            return SearchPlan(phone=q, customer_no_prefix=q)
        if len(q) == 4:  # the last four first; a customer number's start only after them
            return SearchPlan(last4=q, customer_no_prefix=q)
        # customer numbers are digits; a card tail is the last 4..19 digits of a card
        return SearchPlan(customer_no_prefix=q, card_tail=q if len(q) >= 4 else None)
    if _CJK.search(q):
        return SearchPlan(name_prefix=q)
    if _LATIN.match(q):
        low = q.lower()
        return SearchPlan(pinyin_prefix=low, initials_prefix=low)
    # mixed letters and digits: a customer number with a letter prefix
    return SearchPlan(customer_no_prefix=q.upper())
