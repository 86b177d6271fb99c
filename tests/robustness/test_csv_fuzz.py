"""Fuzzing the directory and set-up files: random bytes, random cells, broken quoting,
huge fields and numbers. A file is read into checked records and errors, or refused as a
whole with a reason; never a crash, and what is taken in fits head office's columns."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobby_app.core import limits
from lobby_app.core.business import parse_business_table
from lobby_app.core.customer_csv import (
    HEADERS,
    decode_csv_bytes,
    parse_amount_fen,
    parse_customer_csv,
)
from lobby_app.core.errors import LobbyError
from lobby_app.core.marketing import parse_rules_csv
from lobby_app.store import Store
from lobby_app.store.admin import parse_staff_csv
from lobby_app.store.directory import import_records
from tests.robustness import examples

FUZZ = settings(
    max_examples=examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NASTY = st.sampled_from(
    [
        "=cmd|' /C calc'!A0", "@SUM(A1)", "+1", "-1", "张\u202e三", "\x00", "\x1b[2J", '"', '""',
        ",", "\n", "\r\n", "1e400", "99999999999999999999999", "NaN", "-5", "25万", "黑金卡",
        "2027-06-30", "0001-01-01", "是", "13800138000", "110101198409227176", "x" * 200,
    ]
)  # fmt: skip
CELL = st.one_of(st.text(max_size=30), NASTY)
COLUMNS = st.lists(
    st.sampled_from([names[0] for names in HEADERS.values()]), min_size=1, unique=True
)


@st.composite
def customer_files(draw: st.DrawFn) -> str:
    columns = draw(COLUMNS)
    if draw(st.booleans()):  # mostly a file with the required columns
        columns = list(dict.fromkeys(["customer_no", "name", *columns]))
    rows = draw(
        st.lists(st.lists(CELL, min_size=len(columns), max_size=len(columns) + 1), max_size=8)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):  # and sometimes broken by hand: a stray quote, a cut
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(['"', "", "\x00", ",,,", "\n"])) + text[cut:]
    return text


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store.open(tmp_path_factory.mktemp("csv-fuzz") / "data")
    yield s
    s.close()


@FUZZ
@given(text=customer_files())
def test_customer_file_rows_are_checked_or_refused(store: Store, text: str) -> None:
    """Rule: a directory file gives records and row errors (line >= 2, a field) or one
    refusal; every record fits head office's columns, has a clean name, and imports."""
    try:
        parsed = parse_customer_csv(text)
    except LobbyError as exc:
        assert exc.code and exc.message and (exc.line or 0) >= 1
        return
    for e in parsed.errors:
        assert e.line >= 2 and e.field and e.reason
    for r in parsed.records:
        assert re.fullmatch(r"[A-Za-z0-9-]{1,32}", r.customer_no)
        assert limits.check_name(r.name) == r.name
        assert len(r.manager) <= limits.MANAGER_MAX
        for fen in (r.assets_fen, r.loans_fen, r.avg_assets_3m_fen):
            assert 0 <= fen <= limits.AMOUNT_MAX_FEN
    import_records(store, parsed, strict=False, actor="fuzz", source="fuzz.csv")


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_decode_or_are_refused(data: bytes) -> None:
    try:
        text = decode_csv_bytes(data)
    except LobbyError as exc:
        assert exc.code == "bad_encoding"
        return
    with contextlib.suppress(LobbyError):  # a refusal is an answer too
        parse_customer_csv(text)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=40),
        NASTY,
        st.from_regex(r"-?[0-9,]{0,25}(\.[0-9]{0,4})?(e[+-]?[0-9]{1,10})?万?元?", fullmatch=True),
    )
)
def test_amounts_are_money_or_refused(text: str) -> None:
    """Rule: an amount is integer fen from 0 to the limit, or ValueError; never a decimal
    overflow or an integer SQLite cannot hold (1e400, 1e999999999 yuan)."""
    try:
        fen = parse_amount_fen(text)
    except ValueError:
        return
    assert type(fen) is int and 0 <= fen <= limits.AMOUNT_MAX_FEN


@FUZZ
@given(
    staff=st.lists(st.lists(CELL, min_size=3, max_size=5), max_size=6),
    big=st.booleans(),
)
def test_staff_business_and_marketing_files(staff: list[list[str]], big: bool) -> None:
    """Rule: the set-up files (staff, business types, marketing sentences) are read or
    refused with a reason; a field over the csv module's limit is a refusal, not a crash."""
    filler = '"' + "x" * (140 * 1024) if big else ""
    for header, parse in (
        ("staff_no,name,role,pin,location", lambda t: parse_staff_csv(t)),
        ("code,name,zone,service_minutes,active", parse_business_table),
        ("tier,need,sentence,sort_order,active", parse_rules_csv),
    ):
        out = io.StringIO()
        csv.writer(out).writerows([header.split(","), *staff])
        try:
            parse(out.getvalue() + filler)
        except LobbyError as exc:
            assert exc.message


def test_a_real_file_with_one_broken_quote(tmp_path: Path, store: Store) -> None:
    """An example: a 2,000-row export where one name's closing quote was lost; refused on
    the line it starts, not a traceback, and nothing imported."""
    rows = [f"C{n:05d},客户{n}" for n in range(2000)]
    rows[700] = 'C00700,"客户700'
    text = "customer_no,name\n" + "\n".join(rows) + "\n" + "x" * (130 * 1024)
    with pytest.raises(LobbyError) as e:
        parse_customer_csv(text)
    assert e.value.code == "bad_csv" and e.value.line == 702
