"""One definition of each column limit, and the checks of typed text at the edge."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import String

from lobby_app.core import limits
from lobby_app.core.errors import LobbyError
from lobby_app.headoffice import schema

# head office's (table, column) -> the branch's limit that must match it
SHARED = {
    ("branch", "branch_code"): limits.BRANCH_CODE_MAX,
    ("branch", "branch_name"): limits.BRANCH_NAME_MAX,
    ("branch", "bank_name"): limits.BANK_NAME_MAX,
    ("branch", "timezone"): limits.TIMEZONE_MAX,
    ("visit", "issued_by"): limits.ACTOR_MAX,
    ("visit", "vip_reason"): limits.REASON_MAX,
    ("visit", "print_error"): limits.PRINT_ERROR_MAX,
    ("visit_event", "actor"): limits.ACTOR_MAX,
    ("audit_event", "actor"): limits.ACTOR_MAX,
    ("counter_event", "actor"): limits.ACTOR_MAX,
    ("day_summary", "actor"): limits.ACTOR_MAX,
    ("day_summary", "reason"): limits.REASON_MAX,
    ("referral", "product"): limits.PRODUCT_MAX,
    ("referral", "referrer"): limits.STAFF_NO_MAX,
    ("registration", "name"): limits.PERSON_NAME_MAX,
    ("customer_directory", "name"): limits.PERSON_NAME_MAX,
    ("customer_directory", "manager"): limits.MANAGER_MAX,
    ("customer_directory", "vip_approved_by"): limits.APPROVER_MAX,
    ("staff_directory", "name"): limits.PERSON_NAME_MAX,
    ("staff_directory", "location"): limits.LOCATION_MAX,
}


def test_head_office_columns_are_the_branch_limits() -> None:
    """Defect pinned (issue 16 item 2): the branch checked its own copies of head office's
    column sizes (or none: actors, notes), so a value could pass here and be refused at
    head office on every sync. The schema now reads the sizes from ``core/limits.py``."""
    for (table, column), limit in SHARED.items():
        col = schema.meta.tables[table].c[column]
        assert isinstance(col.type, String) and col.type.length == limit, (table, column)
    # every branch_code column of head office is the branch code's limit
    for table in schema.meta.tables.values():
        if "branch_code" in table.c:
            assert table.c["branch_code"].type.length == limits.BRANCH_CODE_MAX, table.name


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("A" * 41, "bad_actor"),
        ("L01\x00", "bad_text"),
        ("L01\x1b[2J", "bad_text"),
    ],
)
def test_actor_refused_naming_field_and_limit(value: str, code: str) -> None:
    with pytest.raises(LobbyError) as e:
        limits.check_actor(value)
    assert e.value.code == code and e.value.field == "actor"
    assert "actor" in e.value.message
    if code == "bad_actor":
        assert "40" in e.value.message


@pytest.mark.parametrize(
    "name",
    [
        "=cmd|' /C calc'!A0",
        "+1+1",
        "-2",
        "@SUM(A1)",
        "张\u202e三",
        "李\x00四",
        "王\x1b五",
        "赵\u200b六",
    ],
)
def test_names_refuse_formulas_and_hidden_characters(name: str) -> None:
    """Defect pinned (issue 16 item 12): NUL, ESC, right-to-left overrides and spreadsheet
    formulas were taken into customer, staff and walk-in names."""
    with pytest.raises(LobbyError) as e:
        limits.check_name(name)
    assert e.value.field == "name" and e.value.code in ("bad_name", "bad_text")


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in limits.BIDI_CONTROLS


@given(st.text(), st.integers(min_value=0, max_value=60), st.booleans())
def test_checked_text_fits_and_is_clean(text: str, limit: int, multiline: bool) -> None:
    """Rule: a text is refused, or comes back stripped, within the limit, with no control,
    surrogate or direction-override character (tab and newline only in notes)."""
    try:
        out = limits.check_text(text, field="f", label="备注", limit=limit, multiline=multiline)
    except LobbyError as exc:
        assert exc.field == "f" and exc.code in ("text_too_long", "bad_text")
        assert len(text.strip()) > limit or any(
            _hidden(c) and not (multiline and c in "\n\t") for c in text.strip()
        )
        return
    assert out == text.strip() and len(out) <= limit
    assert not any(_hidden(c) and not (multiline and c in "\n\t") for c in out)


@given(st.text(min_size=1, max_size=50))
def test_checked_names_never_start_a_formula(text: str) -> None:
    try:
        out = limits.check_name(text)
    except LobbyError:
        return
    assert out and not out.startswith(limits.FORMULA_STARTS)
    assert not any(unicodedata.category(c) in ("Cc", "Cs", "Cf") for c in out)


@given(st.dates())
def test_days_inside_the_range_only(day: date) -> None:
    """Rule: report, day close and follow-up dates are 2000-01-01 … 2099-12-31 (0001-01-01 and
    9999-12-31 overflowed into tracebacks)."""
    inside = limits.FIRST_DAY <= day <= limits.LAST_DAY
    try:
        assert limits.check_day(day) == day and inside
    except LobbyError as exc:
        assert not inside and exc.code == "bad_date"


@given(st.one_of(st.integers(), st.booleans(), st.floats(), st.text(), st.none()))
def test_amounts_are_integers_in_range(value: object) -> None:
    try:
        fen = limits.check_amount_fen(value)
    except LobbyError as exc:
        assert exc.code == "bad_amount"
        assert not (
            isinstance(value, int)
            and not isinstance(value, bool)
            and 0 <= value <= limits.AMOUNT_MAX_FEN
        )
        return
    assert type(fen) is int and 0 <= fen <= limits.AMOUNT_MAX_FEN
