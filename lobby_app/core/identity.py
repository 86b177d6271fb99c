"""Identity data: validating ID and phone numbers, keyed hashes, masks and salutations.

Full ID and phone numbers never reach the store: it keeps a keyed hash (for exact lookup)
and the few digits the masked display needs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

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
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
EARLIEST_BIRTH_YEAR = 1900


def id_check_char(body17: str) -> str:
    """The check character of an 18-character resident ID (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(body17, _ID_WEIGHTS, strict=True))
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

    raw = re.sub(r"\s", "", value).upper()
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


def validate_phone(value: str, *, field: str = "phone") -> Phone:
    """A mainland China phone number (mobile or fixed line with area code)."""
    import phonenumbers  # loaded on first use: its metadata slows every start-up

    raw = value.strip()
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


def mask_id_last4(last4: str) -> str:
    return "*" * 14 + last4 if last4 else ""


def mask_phone_parts(prefix3: str, last4: str) -> str:
    return f"{prefix3}****{last4}" if last4 else ""


def mask_card_parts(first6: str, last4: str) -> str:
    return f"{first6}******{last4}" if last4 else ""


_LONG_DIGITS = re.compile(r"\d{7,}[\dXx]*")


def mask_free_text(text: str) -> str:
    """Mask runs of 7+ digits in free text (a note, an error, a log line): keep the last 4."""
    return _LONG_DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], text)


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
