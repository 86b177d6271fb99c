"""What a lobby manager typed in the one search box, and how to match it.

The store turns a ``SearchPlan`` into indexed queries; this module only decides what the
text can mean: a whole ID or phone number, the last four digits of either or of a card,
a customer number, Chinese characters of a name, full pinyin or pinyin initials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"^[a-zA-Z]+$")
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")


def name_pinyin(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a Chinese name, lower case, no tones: 张三 -> zhangsan, zs."""
    # Imported here: pypinyin's dictionaries cost half a second and ~60 MB, and only
    # loading the directory needs them, not the desk's lookups.
    from pypinyin import Style, lazy_pinyin

    syllables = [s.lower() for s in lazy_pinyin(name, style=Style.NORMAL, errors="ignore")]
    syllables = [re.sub(r"[^a-z]", "", s.replace("ü", "v")) for s in syllables]
    syllables = [s for s in syllables if s]
    return "".join(syllables), "".join(s[0] for s in syllables)


@dataclass(frozen=True)
class SearchPlan:
    id_number: str | None = None  # a whole ID number (to hash)
    phone: str | None = None  # a whole mobile number (to hash)
    last4: str | None = None  # last 4 of phone, ID or card
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
    q = re.sub(r"\s", "", text)
    if not q:
        return SearchPlan()
    if _ID_LIKE.match(q):
        return SearchPlan(id_number=q.upper())
    if q.isdigit():
        if len(q) == 11 and q.startswith("1"):
            return SearchPlan(phone=q, customer_no_prefix=q)
        if len(q) == 4:
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
