"""The end-of-day summary on paper (issue 18, items 13-15), read back page by page with
pdftotext: the sign-off never stands alone on a page; a referral state has one name in every
table, and the referrer's and the manager's tables add up alike; a period's header says what it
is and which of its days are not closed."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lobby_app.printing import summary
from lobby_app.printing.summary import render_summary_pdf
from lobby_app.store import Store, commands, dayclose, referrals, report, teller
from lobby_app.store.commands import IssueRequest
from lobby_app.store.referrals import STATUS_LABELS
from tests.conftest import open_demo_copy

D = date(2026, 6, 1)  # a Monday, far from the demo's own visits
TZ = ZoneInfo("Asia/Shanghai")
SIGNOFF = "网点负责人（签字）"
A4_W = 595  # points; pdftotext crops in points at its default 72 dpi


def at(hh: int, mm: int, day: date = D) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)


@pytest.fixture
def demo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 20)
    yield s
    s.close()


def pages(data: bytes, tmp: Path, *, crop: tuple[int, int] | None = None) -> list[str]:
    """The PDF's text page by page, whitespace folded per line: ``pdftotext`` ends each
    page with a form feed (the same text as ``-f N -l N`` page by page, in one run).
    ``crop`` = (x, width) in points reads only that strip of each page."""
    pdf = tmp / "paper.pdf"
    pdf.write_bytes(data)
    area = ["-x", str(crop[0]), "-y", "0", "-W", str(crop[1]), "-H", "842"] if crop else []
    text = subprocess.run(
        ["pdftotext", "-layout", *area, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert text.endswith("\f")
    return [
        "\n".join(" ".join(line.split()) for line in page.splitlines() if line.strip())
        for page in text.split("\f")[:-1]
    ]


def signoff_page(texts: list[str]) -> list[str]:
    """The lines of the page holding the sign-off, without the sign-off and the footer."""
    holding = [t for t in texts if SIGNOFF in t]
    assert len(holding) == 1, "one sign-off, on one page"
    assert holding[0] is texts[-1], "the sign-off ends the summary"
    return [
        line
        for line in holding[0].splitlines()
        if SIGNOFF not in line and not re.search(r"第 ?\d+ ?页 ?共 ?\d+ ?页", line)
    ]


def issue(store: Store, code: str, when: datetime) -> str:
    return commands.issue_ticket(store, IssueRequest(code), now=when).number


def add_staff(store: Store, staff_no: str, name: str) -> None:
    from lobby_app.models import Staff

    with store.write() as s:
        s.add(Staff(staff_no=staff_no, name=name, role="teller_open"))


def served_day(store: Store, day: date = D, tickets: int = 24) -> str:
    """A modest day: tickets of several businesses, served at the high counters."""
    codes = ("cash", "remit_cash", "card", "transfer", "query", "open_account")
    numbers = [issue(store, codes[i % len(codes)], at(9, i, day)) for i in range(tickets)]
    served = sum(1 for i in range(tickets) if codes[i % len(codes)] in ("cash", "remit_cash"))
    for i in range(served):  # the high counters' tickets, at windows 1-3
        window, who = 1 + i % 3, ("T01", "T02", "T03")[i % 3]
        teller.call_next(store, window, actor=who, now=at(10, 2 * i, day))
        teller.finish(store, window, actor=who, now=at(10, 2 * i + 1, day))
    return numbers[0]


# ------------------------------------------------------------------ item 13: the sign-off


def test_the_day_sign_off_never_stands_alone_on_a_page(demo: Store, tmp_path: Path) -> None:
    """One more referrer (with a sale: a row in the referrers' and in the credit table) at a
    time, until the summary has grown a page and then some: at every size the page with the
    sign-off also holds rows of the last table and the section's closing lines."""
    number = served_day(demo)
    first: int | None = None
    after_growing = 0
    for i in range(60):
        staff_no = f"R{i:02d}"
        add_staff(demo, staff_no, f"推荐员{i:02d}")
        ref = referrals.refer(
            demo,
            ticket_number=number,
            to_staff="M01",
            need="wealth",
            actor=staff_no,
            now=at(11, 0) + timedelta(seconds=i),
        )
        referrals.record_outcome(
            demo,
            str(ref["referral_no"]),
            outcome="sold",
            actor="M01",
            product="稳健理财",
            amount_fen=1_000_000 + i * 100,
            now=at(15, 0) + timedelta(seconds=i),
        )
        f = report.figures(demo, D, now=at(18, 0))
        texts = pages(render_summary_pdf(f, printed_at=at(18, 0)), tmp_path)
        first = first or len(texts)
        rest = " ".join(signoff_page(texts))
        credit_rows = [
            f"{x['name']} {x['staff_no']} {x['sales']} {x['credit_yuan']:,.2f}"
            for x in f["referrals"]["credits"]
        ]
        assert any(row in rest for row in credit_rows), (
            f"{i + 1} referrers, {len(texts)} pages: the sign-off's page holds no row of the "
            f"credit table: {rest[:200]!r}"
        )
        assert "服务评价" in rest and "电子渠道分流" in rest
        after_growing += len(texts) > first
        if after_growing > 4:
            break  # a page more, and a few sizes beyond
    assert after_growing, "the sizes crossed a page boundary"


def test_the_period_sign_off_keeps_rows_of_the_trend(demo: Store, tmp_path: Path) -> None:
    """Periods of 32..62 days with a ticket each (the trend grows a row, 4 mm, at a time; the
    sign-off needs 10 mm): the trend table's last rows share the sign-off's page, and the part
    of the table on a new page starts with its heading row."""
    for k in range(62):
        issue(demo, "cash", at(9, 0, D + timedelta(days=k)))
    row = re.compile(r"^\d{4}-\d{2}-\d{2}( \S+){7} [是否]$")
    counts: set[int] = set()
    for k in range(31, 62, 2):
        f = report.figures(demo, D, D + timedelta(days=k), now=at(18, 0, D + timedelta(days=90)))
        texts = pages(render_summary_pdf(f, printed_at=at(18, 0)), tmp_path)
        counts.add(len(texts))
        rest = signoff_page(texts)
        assert any(row.match(line) for line in rest), (
            f"{k + 1} days: the sign-off's page holds no trend row: {rest[:8]!r}"
        )
        for text in texts:
            lines = text.splitlines()
            rows = [i for i, line in enumerate(lines) if row.match(line)]
            if rows:
                assert "日期 取号 办理 过号" in lines[rows[0] - 1], "the heading row leads"
    assert len(counts) >= 2, "the sizes crossed a page boundary"


# ------------------------------------------------------- item 14: one name for one state


def day_of_every_state(store: Store) -> None:
    """Referrals in each state, from two referrers to two managers."""
    number = served_day(store)
    plan = [  # referrer, manager, what became of it
        ("T01", "M01", "new"),
        ("T01", "M01", "accepted"),
        ("T02", "M02", "contacted"),
        ("T01", "M02", "sold"),
        ("T02", "M01", "declined"),
        ("T02", "M02", "follow_up"),
        ("T01", "M02", "follow_up"),
        ("L01", "M01", "follow_up"),
    ]
    for i, (referrer, manager, state) in enumerate(plan):
        no = str(
            referrals.refer(
                store,
                ticket_number=number,
                to_staff=manager,
                need="wealth",
                actor=referrer,
                now=at(11, i),
            )["referral_no"]
        )
        when = at(14, i)
        if state == "accepted":
            referrals.accept(store, no, actor=manager, now=when)
        elif state == "contacted":
            referrals.contact(store, no, actor=manager, now=when)
        elif state in ("sold", "declined", "follow_up"):
            referrals.record_outcome(
                store,
                no,
                outcome=state,
                actor=manager,
                product="稳健理财" if state == "sold" else "",
                amount_fen=5_000_000 if state == "sold" else 0,
                follow_up_on=D + timedelta(days=7) if state == "follow_up" else None,
                now=when,
            )


def table_rows(text: str, heading: str) -> list[list[int]]:
    """The figures of the rows under ``heading`` (name and staff number dropped)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    out = []
    for line in lines[start + 1 :]:
        m = re.match(r"^\S+ [A-Z]\d{2}((?: \d+)+)$", line)
        if not m:
            break
        out.append([int(v) for v in m.group(1).split()])
    return out


def test_a_referral_state_has_one_name_and_both_tables_add_up(demo: Store, tmp_path: Path) -> None:
    day_of_every_state(demo)
    f = report.figures(demo, D, now=at(18, 0))
    data = render_summary_pdf(f, printed_at=at(18, 0))
    flat = " ".join(" ".join(pages(data, tmp_path)).split())
    # the outcome line names every state by its label, and no other name of a state appears
    line = "、".join(f"{STATUS_LABELS[k]} {n}" for k, n in
                     zip(report.STATUS_ORDER, (1, 1, 1, 1, 1, 3), strict=True))  # fmt: skip
    assert f"结果：{line}。" in flat
    assert "跟进中" not in flat
    rest = flat.replace("成交金额", "")
    for name in (*STATUS_LABELS.values(), "尚无结果"):
        rest = rest.replace(name, "")
    for word in ("成交", "婉拒", "跟进", "接收", "联系"):
        assert word not in rest, f"a state named otherwise: {word}"
    heads = ["转介", "已成交", "客户婉拒", "待跟进", "尚无结果"]
    page = next(t for t in pages(data, tmp_path, crop=(0, A4_W // 2)) if "转介人" in t)
    right = next(t for t in pages(data, tmp_path, crop=(A4_W // 2, A4_W // 2)) if "客户经理" in t)
    assert f"转介人 工号 {' '.join(heads)}" in page
    assert f"客户经理 工号 {' '.join(heads)}" in right
    assert "“尚无结果”即待接收、已接收、已联系" in flat
    by_referrer = table_rows(page, "转介人 工号")
    by_manager = table_rows(right, "客户经理 工号")
    assert len(by_referrer) == 3 and len(by_manager) == 2
    sums = [[sum(col) for col in zip(*rows, strict=True)] for rows in (by_referrer, by_manager)]
    # referrals, sold, declined, follow-up, no outcome yet: the same in both tables
    assert sums[0] == sums[1] == [8, 1, 1, 3, 3]
    for rows in (by_referrer, by_manager):
        assert all(r[0] == sum(r[1:]) for r in rows), "each referral in one state column"
    # the printer's names are the store's names
    assert dict(summary.REFERRAL_STATE_COLS[:3]) == {
        STATUS_LABELS[k]: k for k in ("sold", "declined", "follow_up")
    }
    assert tuple(STATUS_LABELS[k] for k in report.OPEN_STATES) == summary.OPEN_STATE_LABELS
    assert set(report.OPEN_STATES) | {"sold", "declined", "follow_up"} == set(STATUS_LABELS)
    # and the figures say so too (report --json)
    keys = ("sold", "declined", "follow_up", "open")
    for key in keys:
        assert sum(x[key] for x in f["referrals"]["by_referrer"]) == sum(
            x[key] for x in f["referrals"]["by_manager"]
        )


# ---------------------------------------------------- item 15: what a period's header says


def test_a_period_header_says_its_days_hours_and_which_are_not_closed(
    demo: Store, tmp_path: Path
) -> None:
    for k in range(4):  # 06-01 .. 06-04 with tickets; 06-05 none
        issue(demo, "cash", at(9, 0 if k == 0 else 30, D + timedelta(days=k)))
    day2, day3, day4 = (D + timedelta(days=k) for k in (1, 2, 3))
    for d in (D, day3, day4):
        dayclose.close_day(demo, d, actor="L01", now=at(18, 0, d))
    dayclose.reopen_day(demo, day3, actor="B01", reason="误操作", now=at(19, 0, day3))
    later = at(18, 0, D + timedelta(days=10))
    f = dayclose.summary(demo, D, D + timedelta(days=4), now=later)
    assert f["closed"] == {"2026-06-01": 1, "2026-06-04": 1}, "a reopened day is not closed"
    assert [d["closed"] for d in f["per_day"]] == [True, False, False, True]
    first = " ".join(pages(render_summary_pdf(f, printed_at=later), tmp_path)[0].split())
    assert "期间：2026-06-01 至 2026-06-05（共 5 天，有取号的营业日 4 天）" in first
    assert "营业时间：09:00–17:00" in first
    assert "首位取号" not in first, "a period has no one first ticket"
    assert "日终未完成：06-02、06-03（共 2 天，这些日期的数字仍会变化）；已日终 2 天" in first

    # the day's header shows the same hours, and its own first ticket and last finish
    one = dayclose.summary(demo, D, now=later)
    day_text = " ".join(pages(render_summary_pdf(one, printed_at=later), tmp_path)[0].split())
    assert "营业时间：09:00–17:00 首位取号 09:00，末位办结 —" in day_text
    assert "营业时间：首位取号" not in day_text

    for d in (day2, day3):
        dayclose.close_day(demo, d, actor="L01", now=later)
    f = dayclose.summary(demo, D, D + timedelta(days=4), now=later)
    first = " ".join(pages(render_summary_pdf(f, printed_at=later), tmp_path)[0].split())
    assert "日终：期间内 4 个营业日全部已日终" in first and "日终未完成" not in first

    commands.change_settings(demo, {"open_time": "08:30", "close_time": "16:30"}, actor="B01")
    f = report.figures(demo, D + timedelta(days=20), D + timedelta(days=25), now=later)
    first = " ".join(pages(render_summary_pdf(f, printed_at=later), tmp_path)[0].split())
    assert "营业时间：08:30–16:30" in first and "期间内没有营业记录" in first


def test_figures_frozen_before_the_hours_still_print(demo: Store, tmp_path: Path) -> None:
    """A day closed by an older version has no hours or per-state columns in its frozen
    figures: the summary still prints, without them."""
    day_of_every_state(demo)
    f: dict[str, Any] = report.figures(demo, D, now=at(18, 0))
    del f["open_time"], f["close_time"]
    for x in f["referrals"]["by_referrer"]:
        del x["declined"], x["follow_up"]
    for x in f["referrals"]["by_manager"]:
        del x["open"]
    first = " ".join(pages(render_summary_pdf(f, printed_at=at(18, 0)), tmp_path)[0].split())
    assert "营业时间" not in first and "首位取号 09:00" in first
