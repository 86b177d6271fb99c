"""Identity data: validating ID and phone numbers, keyed hashes, masks and salutations.

Full ID and phone numbers never reach the store: it keeps a keyed hash (for exact lookup)
and the few digits the masked display needs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, upper-case X
    gender: str  # "M" or "F" from the 17th digit

    @property
    def last4(self) -> str:
        return self.number[-4:]


def validate_id_number(value: str, *, field: str = "id_number") -> IdNumber:
    """A mainland resident ID number (18 digits, checksum verified)."""
    from stdnum.cn import ric  # loaded on first use: the desk's lookups never need it
    from stdnum.exceptions import ValidationError

    raw = re.sub(r"\s", "", value).upper()
    if len(raw) != 18:
        raise LobbyError(
            "invalid_id_number",
            tr(f"证件号码应为18位，实际{len(raw)}位，请核对后重新输入"),
            field=field,
        )
    try:
        number = ric.validate(raw)
    except ValidationError as exc:
        reason = (
            tr("校验位不正确") if "checksum" in str(exc).lower() else tr("格式或出生日期不正确")
        )
        raise LobbyError(
            "invalid_id_number", tr(f"证件号码{reason}，请核对后重新输入"), field=field
        ) from None
    gender = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, gender=gender)


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
