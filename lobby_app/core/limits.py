"""The size of every value the branch sends to head office, defined once, and the checks of
free text and names at the edge (the CLI, the hub, the desk and its set-up).

Head office's columns (``headoffice/schema.py``) are declared with these constants, and the
branch store's input checks use the same ones: a value the branch accepts is never refused
by the nightly sync, where one bad row would hold up the whole upload (issue 16 item 2).
"""

from __future__ import annotations

import unicodedata
from datetime import date

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr

# ---------------------------------------------------------------- column sizes

ACTOR_MAX = 40  # who acted: audit, ticket and counter events, day closes, issued_by
STAFF_NO_MAX = 32  # a staff number (served_by, referrer, to_staff, sold_by, registered_by)
PERSON_NAME_MAX = 40  # a customer's or a staff member's name
LOCATION_MAX = 40  # where a customer manager receives customers
BANK_NAME_MAX = 80
BRANCH_NAME_MAX = 120
BRANCH_CODE_MAX = 16
TIMEZONE_MAX = 40
CUSTOMER_NO_MAX = 32
MANAGER_MAX = 40  # a customer's manager, as the directory names them
APPROVER_MAX = 40  # who approved a special VIP card (特批)
BUSINESS_CODE_MAX = 32

# ---------------------------------------------------------------- retention

BACKUPS_KEPT = 14  # nightly backups of the branch store kept (lobby-app backup --keep)
BUSINESS_NAME_MAX = 40
NEED_TAG_MAX = 32
REASON_MAX = 200  # a reason column: VIP, priority, zone override, settling, day close
PRODUCT_MAX = 80  # the product a referral sold
SENTENCE_MAX = 200  # a marketing sentence
PRINT_ERROR_MAX = 500  # why a ticket did not print

# What the branch's forms accept, within the columns above (the column is the hard limit).
TICKET_REASON_MAX = 100  # the reasons typed at the desk when issuing
NOTE_MAX = 500  # a greeting or needs note on a ticket
REFERRAL_NOTE_MAX = 200
OUTCOME_NOTE_MAX = 500
COUNTER_NAME_MAX = 40  # stays in the branch
SETTING_MAX = 2000  # a branch setting's value (printer, folder, head office's address, …)

# Money in fen (分): head office keeps BIGINT; a sale above 1 万亿元 is a typing error.
AMOUNT_MAX_FEN = 10**14

assert TICKET_REASON_MAX <= REASON_MAX and STAFF_NO_MAX <= ACTOR_MAX

# ---------------------------------------------------------------- text checks

# Characters that change the direction text is shown in (the "RTL override" trick that
# makes a name or a file name read differently from what it is).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _bad_char(value: str, *, multiline: bool) -> str | None:
    """The first character that has no place in typed text, or None."""
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        if ch in BIDI_CONTROLS:
            return ch
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs"):  # control characters (NUL, ESC, …), lone surrogates
            return ch
    return None


def check_text(
    value: str,
    *,
    field: str,
    label: str,
    limit: int,
    code: str = "text_too_long",
    multiline: bool = False,
    required: bool = False,
) -> str:
    """``value`` stripped, or a refusal naming the field and the limit: too long, or with
    control, direction-override or unpaired surrogate characters (head office's database
    refuses NUL, and a terminal obeys ESC)."""
    if not isinstance(value, str):
        raise LobbyError("bad_text", tr(f"{label}({field})应为文字"), field=field)
    v = value.strip()
    if required and not v:
        raise LobbyError("required", tr(f"请填写{label}({field})"), field=field)
    if len(v) > limit:
        raise LobbyError(
            code,
            tr(f"{label}({field})最多{limit}字，现为{len(v)}字，请精简后重试"),
            field=field,
        )
    bad = _bad_char(v, multiline=multiline)
    if bad is not None:
        if bad in BIDI_CONTROLS:
            what = tr("改变文字方向的隐藏字符")
        elif unicodedata.category(bad) == "Cs":
            what = tr("无效的字符(不是 UTF-8 编码)")
        else:
            what = tr("不可见的控制字符(如 NUL、ESC)")
        raise LobbyError(
            "bad_text",
            tr(f"{label}({field})含有{what} U+{ord(bad):04X}，请删除后重新输入"),
            field=field,
        )
    return v


def check_name(
    value: str,
    *,
    field: str = "name",
    label: str = tr("姓名"),
    limit: int = PERSON_NAME_MAX,
    required: bool = True,
    code: str = "text_too_long",
) -> str:
    """A person's name (customer, walk-in, staff): ``check_text``, and never a spreadsheet
    formula (``=cmd|' /C calc'!A0``), since names end up in exported tables; no format
    characters (zero-width, soft hyphen) either, which make two names look the same."""
    v = check_text(value, field=field, label=label, limit=limit, required=required, code=code)
    if v.startswith(FORMULA_STARTS):
        raise LobbyError(
            "bad_name",
            tr(f"{label}({field})不能以 = + - @ 开头：表格软件会把它当作公式执行"),
            field=field,
        )
    for ch in v:
        if unicodedata.category(ch) == "Cf":
            raise LobbyError(
                "bad_name",
                tr(f"{label}({field})含有不可见的格式字符 U+{ord(ch):04X}，请重新输入"),
                field=field,
            )
    return v


def check_actor(value: str, *, field: str = "actor") -> str:
    """Who acts (a staff number, or ``setup``/``cli``): a short word, never free text."""
    return check_text(
        value or "", field=field, label=tr("操作人工号"), limit=ACTOR_MAX, code="bad_actor"
    )


def check_amount_fen(value: object, *, field: str = "amount_fen") -> int:
    """An amount in fen: an integer (not a bool, not a float) from 0 to ``AMOUNT_MAX_FEN``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise LobbyError("bad_amount", tr(f"金额({field})应为整数(分)"), field=field)
    if not 0 <= value <= AMOUNT_MAX_FEN:
        raise LobbyError(
            "bad_amount",
            tr(f"金额({field})应在 0 到 {AMOUNT_MAX_FEN // 100:,} 元之间"),
            field=field,
        )
    return value


# The days a branch's records can be about (a report, a day close, a follow-up): Python's
# dates run from year 1 to 9999, and a day's bounds in the branch's time zone overflow at
# either end (``0001-01-01`` in ``report`` was a traceback).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def check_day(day: date, *, field: str = "date") -> date:
    """A business date within ``FIRST_DAY`` … ``LAST_DAY``, or a refusal naming the field."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise LobbyError(
            "bad_date",
            tr(f"日期({field}) {day} 超出范围：应在 {FIRST_DAY} 到 {LAST_DAY} 之间"),
            field=field,
        )
    return day


def clean_detail(value: str, limit: int) -> str:
    """A machine-written detail (a print error, an audit detail): control characters become
    spaces and it is cut to ``limit``, since it is recorded, not typed, and must not be lost."""
    out = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS else ch
        for ch in value
    )
    return out[:limit]
