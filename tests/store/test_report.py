"""The day's figures, the day close and the summary PDF, on a fixture day with known events."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from lobby_app.core.business import PriorityKind
from lobby_app.core.errors import LobbyError
from lobby_app.core.intervals import intersect, measure, subtract, union
from lobby_app.core.zones import Zone
from lobby_app.models import BusinessTypeRow, Customer, DayClose, Staff, Ticket
from lobby_app.printing.summary import render_summary_pdf
from lobby_app.store import Store, commands, dayclose, referrals, report, teller
from lobby_app.store.commands import IssueRequest
from tests.conftest import open_demo_copy

D = date(2026, 6, 1)  # a Monday, far from the demo's own visits
TZ = ZoneInfo("Asia/Shanghai")


def at(hh: int, mm: int, ss: int = 0, day: date = D) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=TZ)


@pytest.fixture
def demo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_demo_copy(tmp_path_factory, tmp_path / "data", 20)
    yield s
    s.close()


def issue(store: Store, code: str, when: datetime, **kw: object) -> str:
    return commands.issue_ticket(store, IssueRequest(code, **kw), now=when).number  # type: ignore[arg-type]


def play_fixture_day(store: Store) -> None:
    """Seven tickets, two windows idle or busy at known times, three referrals."""
    with store.read() as s:
        vip = s.scalar(select(Customer.id).where(Customer.customer_no == "C000000001"))
    assert issue(store, "cash", at(9, 0), needs=("fund",)) == "A001"
    assert issue(store, "cash", at(9, 2)) == "A002"
    assert issue(store, "wealth", at(9, 3), customer_id=vip, needs=("wealth",)) == "V001"
    assert teller.call_next(store, 7, actor="M01", now=at(9, 4)).number == "V001"
    assert teller.call_next(store, 1, actor="T01", now=at(9, 5)).number == "A001"
    referrals.refer(
        store, ticket_number="V001", to_staff="M01", need="wealth", actor="L01", now=at(9, 5)
    )
    teller.start(store, 1, actor="T01", now=at(9, 6))
    assert issue(store, "card", at(9, 6)) == "B001"
    teller.finish(store, 1, actor="T01", now=at(9, 10))
    teller.rate(store, 1, 5, now=at(9, 10, 30))
    referrals.refer(
        store, ticket_number="A001", to_staff="M02", need="fund", actor="T01", now=at(9, 11)
    )
    assert teller.call_next(store, 2, actor="T02", now=at(9, 12)).number == "A002"
    teller.start(store, 2, actor="T02", now=at(9, 12))
    assert issue(store, "cash", at(9, 12), priority=PriorityKind.ELDERLY) == "A003"
    assert teller.call_next(store, 1, actor="T01", now=at(9, 13)).number == "A003"
    teller.finish(store, 1, actor="T01", now=at(9, 17))
    assert issue(store, "cash", at(9, 20)) == "A004"
    teller.finish(store, 2, actor="T02", now=at(9, 20))
    teller.rate(store, 2, 3, now=at(9, 20, 30))
    assert issue(store, "query", at(9, 21)) == "C001"
    teller.finish(store, 7, actor="M01", now=at(9, 30))
    assert teller.call_next(store, 5, actor="T04", now=at(9, 30)).number == "B001"
    teller.no_show(store, 5, actor="T04", now=at(9, 32))
    referrals.refer(
        store, ticket_number="A003", to_staff="M03", need="insurance", actor="T01", now=at(9, 16)
    )
    refs = {r.ticket_number: r.referral_no for r in referrals.inbox(store, open_only=False)}
    referrals.record_outcome(
        store,
        refs["V001"],
        outcome="sold",
        actor="M01",
        product="稳健理财",
        amount_fen=10_000_000,
        now=at(10, 0),
    )
    referrals.record_outcome(store, refs["A001"], outcome="declined", actor="M02", now=at(10, 30))
    referrals.record_outcome(
        store,
        refs["A003"],
        outcome="follow_up",
        actor="M03",
        follow_up_on=D + timedelta(days=3),
        now=at(11, 0),
    )


def test_fixture_day_gives_exactly_the_expected_figures(demo: Store) -> None:
    play_fixture_day(demo)
    rec = dayclose.close_day(demo, D, actor="L01", reason="正常营业结束", now=at(18, 0))
    assert rec.settled == {"left": ["A004"], "done": ["C001"]}
    f = dayclose.summary(demo, D, now=at(18, 5))
    assert f["close"]["version"] == 1 and f["close"]["actor"] == "L01"
    assert f["changed_since_close"] is False
    assert (f["issued"], f["served"], f["no_show"], f["left"], f["not_served"]) == (7, 5, 1, 1, 0)
    assert (f["walk_ins"], f["identified"], f["transfers"]) == (6, 1, 0)
    # waits: A001 5, A002 10, V001 1, A003 1, B001 24 minutes
    assert f["wait"] == {
        "n": 5,
        "avg_min": 8.2,
        "median_min": 5.0,
        "p90_min": 24.0,
        "max_min": 24.0,
        "over_target": 1,
        "over_target_pct": 20.0,
    }
    assert (f["wait_avg_min"], f["wait_p90_min"], f["wait_max_min"], f["over_target"]) == (
        8.2,
        24.0,
        24.0,
        1,
    )
    assert f["green_channel"]["issued"] == 2 and f["green_channel"]["wait"]["avg_min"] == 1.0
    assert f["vip"]["served"] == 1 and f["priority"]["served"] == 1
    assert f["priority"]["by_kind"] == [{"kind": "elderly", "label": "老年人", "issued": 1}]
    closed = next(z for z in f["by_zone"] if z["zone"] == "closed_counter")
    assert (closed["issued"], closed["served"], closed["left"]) == (4, 3, 1)
    assert (closed["wait_avg_min"], closed["wait_max_min"]) == (5.3, 10.0)
    ss = next(z for z in f["by_zone"] if z["zone"] == "self_service")
    assert (ss["issued"], ss["served"], ss["wait_avg_min"]) == (1, 1, None)
    assert f["service_avg_min"] == 10.5  # 4, 8, 26 and 4 minutes
    cash = next(b for b in f["by_business"] if b["code"] == "cash")
    # V001 is VIP wealth work, served in the VIP room (issue 15: not a cash ticket there)
    assert (cash["issued"], cash["service_n"], cash["service_avg_min"]) == (4, 3, 5.3)
    wealth = next(b for b in f["by_business"] if b["code"] == "wealth")
    assert (wealth["issued"], wealth["service_n"], wealth["service_avg_min"]) == (1, 1, 26.0)
    tiers = {t["tier"]: t["issued"] for t in f["by_tier"]}
    assert tiers == {"mass": 0, "potential": 0, "mid_high": 1, "walk_in": 6}
    assert [t["number"] for t in f["longest_waits"]] == ["B001", "A002", "A001", "V001", "A003"]
    windows = {w["window"]: w for w in f["windows"]}
    assert (windows[1]["served"], windows[1]["service_avg_min"]) == (2, 4.0)
    # window 1 was free 09:10-09:13 while A002 (until 09:12) and A003 (from 09:12) waited
    assert windows[1]["idle_while_waiting_min"] == 3.0
    assert windows[2]["idle_while_waiting_min"] == 0.0
    assert windows[5]["served"] == 0 and windows[7]["service_avg_min"] == 26.0
    tellers = {t["staff_no"]: t["served"] for t in f["tellers"]}
    assert tellers == {"M01": 1, "T01": 2, "T02": 1, "T04": 0}
    r = f["referrals"]
    assert (r["made"], r["sold"], r["sold_amount_yuan"]) == (3, 1, 100000.0)
    assert {s["status"]: s["count"] for s in r["by_status"]} == {
        "sold": 1,
        "declined": 1,
        "follow_up": 1,
    }
    assert {x["staff_no"]: x["made"] for x in r["by_referrer"]} == {"T01": 2, "L01": 1}
    assert sum(c["credit_yuan"] for c in r["credits"]) == 100000.0
    assert {n["tag"]: n["count"] for n in f["needs"]} == {"fund": 1, "wealth": 1}
    assert f["diversion"]["to_self_service"] == 1 and f["diversion"]["share_pct"] == 14.3
    assert f["ratings"]["n"] == 2 and f["ratings"]["avg"] == 4.0
    assert f["ratings"]["satisfied_pct"] == 50.0
    assert f["hourly"][0] == {"hour": 9, "arrivals": 7, "served": 4}
    assert sum(h["arrivals"] for h in f["hourly"]) == 7
    assert (f["first_issue"], f["last_finish"]) == ("09:00", "09:30")
    # the figures survive the trip through JSON unchanged (what the hub and the close store)
    assert json.loads(json.dumps(f)) == f


def pdf_text(data: bytes, tmp: Path) -> str:
    pdf = tmp / "summary.pdf"
    pdf.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


def words_outside_page(data: bytes, tmp: Path) -> list[str]:
    """Every word pdftotext finds, with its box; those that cross the page edge are clipped."""
    pdf = tmp / "bbox.pdf"
    pdf.write_bytes(data)
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    import re

    bad = []
    seen = 0
    page_w = page_h = 0.0
    for line in html.splitlines():
        m = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line)
        if m:
            page_w, page_h = float(m.group(1)), float(m.group(2))
        m = re.search(
            r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*)</word>',
            line,
        )
        if m:
            seen += 1
            x0, y0, x1, y1 = (float(m.group(i)) for i in range(1, 5))
            if x0 < 0 or y0 < 0 or x1 > page_w + 0.5 or y1 > page_h + 0.5:
                bad.append(m.group(5))
    assert seen > 50 and page_w > 500, "pdftotext found the words and the A4 page"
    return bad


def test_summary_pdf_says_what_the_json_says(demo: Store, tmp_path: Path) -> None:
    play_fixture_day(demo)
    dayclose.close_day(demo, D, actor="L01", now=at(18, 0))
    f = dayclose.summary(demo, D, now=at(18, 5))
    data = render_summary_pdf(f, prepared_by="陈静（L01）", printed_at=at(18, 6))
    text = pdf_text(data, tmp_path)
    flat = " ".join(text.split())
    assert "示范银行 城东支行 营业日终汇总表" in flat
    assert "营业日期：2026-06-01（星期一）" in flat
    assert "网点负责人（签字）" in flat
    assert "第 1 版" in flat and "陈静（L01）" in flat
    # the key row: issued, served, no-show, left, transfers, identified, VIP, priority
    assert "7 5 1 1 0 1 1 1" in flat
    assert "全部客户 5 8.2 5.0 24.0 24.0 1 20.0%" in flat
    assert "B001" in flat and "100,000.00" in flat
    assert "转介 3 笔，已成交 1 笔" in flat
    assert "服务评价：2 人评价，平均 4.00 分" in flat
    for secret in ("欧阳明华", "C000000001"):
        assert secret not in flat
    assert words_outside_page(data, tmp_path) == []


def test_closing_twice_serving_windows_and_issuing_after_close(demo: Store) -> None:
    issue(demo, "cash", at(9, 0))
    issue(demo, "cash", at(9, 1))
    teller.call_next(demo, 1, actor="T01", now=at(9, 2))
    with pytest.raises(LobbyError) as err:
        dayclose.close_day(demo, D, actor="L01", now=at(17, 0))
    assert err.value.code == "windows_serving" and "1 号窗口（A001）" in err.value.message
    with pytest.raises(LobbyError) as err:
        dayclose.close_day(demo, D, actor="T01", force=True, now=at(17, 0))
    assert err.value.code == "wrong_role"
    rec = dayclose.close_day(demo, D, actor="B01", force=True, now=at(17, 0))
    assert rec.settled == {"no_show": ["A001"], "left": ["A002"]}
    with pytest.raises(LobbyError) as err:
        dayclose.close_day(demo, D, actor="L01", now=at(17, 5))
    assert err.value.code == "already_closed" and "周建华" in err.value.message
    with pytest.raises(LobbyError) as err:
        issue(demo, "cash", at(17, 10))
    assert err.value.code == "day_closed"
    with pytest.raises(LobbyError) as err:
        teller.call_back(demo, 1, "A001", actor="T01", now=at(17, 10))
    assert err.value.code == "day_closed"
    # the next business day numbers afresh
    assert issue(demo, "cash", at(9, 0, day=D + timedelta(days=1))) == "A001"
    with pytest.raises(LobbyError) as err:
        dayclose.close_day(demo, date(2099, 1, 1), actor="L01", now=at(17, 0))
    assert err.value.code == "future_date"


def test_a_correction_is_recorded_as_such_and_a_reopen_keeps_the_close(demo: Store) -> None:
    play_fixture_day(demo)
    dayclose.close_day(demo, D, actor="L01", now=at(18, 0))
    follow = next(
        r for r in referrals.inbox(demo, open_only=False) if r.status == "follow_up"
    ).referral_no
    referrals.record_outcome(
        demo,
        follow,
        outcome="sold",
        actor="M03",
        product="养老保险",
        amount_fen=5_000_000,
        now=at(10, 0, day=D + timedelta(days=3)),
    )
    f = dayclose.summary(demo, D)
    assert f["referrals"]["sold"] == 1, "a closed day's figures do not change silently"
    assert f["changed_since_close"] is True
    with pytest.raises(LobbyError) as err:
        dayclose.correct_day(demo, D, actor="L01", reason="")
    assert err.value.code == "reason_required"
    rec = dayclose.correct_day(demo, D, actor="B01", reason="跟进客户已成交")
    assert (rec.version, rec.kind) == (2, "correction")
    f = dayclose.summary(demo, D)
    assert f["referrals"]["sold"] == 2 and f["changed_since_close"] is False
    assert f["close"]["reason"] == "跟进客户已成交"
    with demo.read() as s:
        versions = s.execute(
            select(DayClose.version, DayClose.kind).where(DayClose.business_date == D)
        ).all()
        first = json.loads(s.scalar(select(DayClose.figures).where(DayClose.version == 1)) or "{}")
    assert [tuple(v) for v in versions] == [(1, "close"), (2, "correction")]
    assert first["referrals"]["sold"] == 1, "version 1 stays as it was"
    with pytest.raises(LobbyError) as err:
        dayclose.reopen_day(demo, D, actor="L01", reason="误操作")
    assert err.value.code == "wrong_role"
    dayclose.reopen_day(demo, D, actor="B01", reason="误操作")
    assert dayclose.summary(demo, D)["close"] is None
    assert [r.kind for r in dayclose.history(demo, D)] == ["close", "correction", "reopened"]


def test_empty_day_and_walk_ins_only_still_make_a_summary(demo: Store, tmp_path: Path) -> None:
    empty = report.figures(demo, D)
    assert (empty["issued"], empty["served"], empty["wait_avg_min"]) == (0, 0, None)
    assert empty["longest_waits"] == [] and empty["referrals"]["made"] == 0
    text = " ".join(pdf_text(render_summary_pdf(empty), tmp_path).split())
    assert "营业日终汇总表" in text and "本期无评价器记录" in text
    for i in range(3):
        issue(demo, "cash", at(10, i))
        teller.call_next(demo, 1, actor="T01", now=at(10, 5 + i))
    teller.finish(demo, 1, actor="T01", now=at(10, 9))
    f = report.figures(demo, D)
    assert {t["tier"]: t["issued"] for t in f["by_tier"]}["walk_in"] == 3
    assert f["identified"] == 0 and f["served"] == 3
    assert "未识别客户 3 3" in " ".join(pdf_text(render_summary_pdf(f), tmp_path).split())


def test_a_day_spanning_a_restart_counts_once(demo: Store, tmp_path: Path) -> None:
    issue(demo, "cash", at(9, 0))
    teller.call_next(demo, 1, actor="T01", now=at(9, 1))
    folder = demo.data_dir
    demo.close()
    again = Store.open(folder)
    try:
        assert issue(again, "cash", at(11, 0)) == "A002"
        teller.call_next(again, 1, actor="T01", now=at(11, 5))  # finishes A001 first
        teller.finish(again, 1, actor="T01", now=at(11, 10))
        f = report.figures(again, D)
        assert (f["issued"], f["served"], f["wait"]["n"]) == (2, 2, 2)
        assert f["wait_avg_min"] == 3.0  # 1 and 5 minutes
    finally:
        again.close()


def test_long_names_and_500_referrals_still_lay_out(demo: Store, tmp_path: Path) -> None:
    commands.change_settings(
        demo,
        {"branch_name": "城东支行营业部（原第一储蓄所）暨个人金融服务中心与财富管理中心联合网点"},
        actor="B01",
    )
    with demo.write() as s:  # a long name and a long business name, as a branch may have
        s.add(
            Staff(staff_no="T99", name="欧阳诸葛司马上官慕容东方长孙宇文令狐", role="teller_open")
        )
        s.add(
            BusinessTypeRow(
                code="long_one",
                name="个人养老金账户开立及税收递延型商业养老保险咨询业务",
                category="non_cash",
                zone="open_counter",
                service_minutes=10,
            )
        )
    number = issue(demo, "long_one", at(9, 0))
    managers = ("M01", "M02", "M03")
    referrers = ("L01", "G01", "T01", "T02", "T03", "T04", "T05", "T06", "T99")
    for i in range(500):
        referrals.refer(
            demo,
            ticket_number=number,
            to_staff=managers[i % 3],
            need="wealth",
            actor=referrers[i % len(referrers)],
            now=at(9, 1) + timedelta(seconds=i),
        )
    f = report.figures(demo, D)
    assert f["referrals"]["made"] == 500
    data = render_summary_pdf(f, prepared_by="周建华（B01）")
    text = " ".join(pdf_text(data, tmp_path).split())
    assert "转介 500 笔" in text
    assert "欧阳诸葛司马" in text and "个人养老金账户开立" in text  # wrapped inside its cell
    keep = Path("/tmp/long-names.pdf")
    keep.write_bytes(data)
    assert words_outside_page(data, tmp_path) == []
    png = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(tmp_path / "bbox.pdf"), str(png)], check=True
    )
    assert len(list(tmp_path.glob("page*.png"))) >= 2


def test_range_summary_has_a_trend_per_day(demo: Store, tmp_path: Path) -> None:
    for offset in range(3):
        day = D + timedelta(days=offset)
        for i in range(offset + 1):
            issue(demo, "cash", at(9, i, day=day))
    dayclose.close_day(demo, D, actor="L01", now=at(18, 0))
    f = dayclose.summary(demo, D, D + timedelta(days=2))
    assert f["close"] is None and f["issued"] == 6
    assert [(d["date"], d["issued"], d["closed"]) for d in f["per_day"]] == [
        ("2026-06-01", 1, True),
        ("2026-06-02", 2, False),
        ("2026-06-03", 3, False),
    ]
    text = " ".join(pdf_text(render_summary_pdf(f), tmp_path).split())
    assert "营业汇总表" in text and "逐日趋势" in text and "2026-06-03 3" in text
    with pytest.raises(LobbyError) as err:
        report.figures(demo, D, D - timedelta(days=1))
    assert err.value.code == "bad_range"


def test_interval_arithmetic() -> None:
    a = union([(0, 10), (5, 15), (20, 30), (30, 31), (40, 40)])
    assert a == [(0, 15), (20, 31)]
    assert intersect(a, [(10, 25)]) == [(10, 15), (20, 25)]
    assert subtract(a, [(2, 3), (14, 21)]) == [(0, 2), (3, 14), (21, 31)]
    assert measure(subtract([(0, 10)], [(0, 10)])) == 0
    with pytest.raises(AssertionError):
        assert subtract([(0, 10)], [(5, 6)]) == [(0, 10)]


def test_simulated_day_is_consistent_with_its_figures(demo: Store) -> None:
    from lobby_app.store.simulate import simulate_day

    sim = simulate_day(demo, D, visits=60, seed=3)
    f = report.figures(demo, D)
    assert f["issued"] == sim.issued == 60
    assert f["referrals"]["made"] == sim.referrals
    assert f["ratings"]["n"] == sim.ratings
    with demo.read() as s:
        statuses = set(s.scalars(select(Ticket.status).where(Ticket.business_date == D)))
    assert statuses <= {"done", "no_show", "waiting"}


def test_diversion_counts_each_ticket_once_and_only_where_it_was_served(
    demo: Store, tmp_path: Path
) -> None:
    """Defect: a customer transferred to self-service counted twice as diverted (``at_desk``
    for its final zone and ``by_transfer`` for the transfer), and a ticket kept at the counter
    ("客户不会用机器": suggested self-service but issued to a counter, or sent back from the
    self-service guide) still counted. Now: final zone self-service and served, once each."""
    ss, cl = Zone.SELF_SERVICE, Zone.CLOSED_COUNTER
    assert issue(demo, "cash", at(9, 0)) == "A001"
    assert teller.call_next(demo, 1, actor="T01", now=at(9, 1)).number == "A001"
    teller.transfer(demo, 1, to_zone=ss, actor="T01", reason="小额取现用ATM", now=at(9, 2))
    assert issue(demo, "query", at(9, 3)) == "C001"  # diverted at the desk
    kept = issue(demo, "query", at(9, 4), zone=cl, zone_reason="客户不会用机器")
    assert kept == "A002"  # suggested self-service, issued to the counter
    assert issue(demo, "query", at(9, 5)) == "C002"  # sent to the machines, then back
    guide = [teller.call_next(demo, 8, actor="G01", now=at(9, m)).number for m in (6, 7)]
    assert guide == ["A001", "C001"]
    teller.finish(demo, 8, actor="G01", now=at(9, 8))
    assert teller.call_next(demo, 8, actor="G01", now=at(9, 9)).number == "C002"
    teller.transfer(demo, 8, to_zone=cl, actor="G01", reason="客户不会用机器", now=at(9, 10))
    assert issue(demo, "query", at(9, 11)) == "C003"  # called at the guide, never came
    assert teller.call_next(demo, 8, actor="G01", now=at(9, 12)).number == "C003"
    teller.no_show(demo, 8, actor="G01", now=at(9, 14))
    served = [teller.call_next(demo, 1, actor="T01", now=at(9, m)).number for m in (16, 20)]
    assert served == ["A002", "C002"]
    teller.finish(demo, 1, actor="T01", now=at(9, 25))
    dv = report.figures(demo, D, now=at(10, 0))["diversion"]
    assert dv == {
        "to_self_service": 2,  # C001 at the desk, A001 by transfer; each once
        "at_desk": 1,
        "by_transfer": 1,
        "kept_at_counter": 2,  # A002 and C002
        "share_pct": 40.0,
    }
    f = report.figures(demo, D, now=at(10, 0))
    data = render_summary_pdf(f, prepared_by="陈静（L01）", printed_at=at(10, 1))
    (tmp_path / "diversion.pdf").write_bytes(data)
    flat = "".join(pdf_text(data, tmp_path).split())
    assert (
        "电子渠道分流：2人次在自助服务区办理（取号时引导1，由柜台转来1），占取号40.0%；"
        "建议自助但留在柜台办理2人次。"
    ) in flat


_PATHS = st.lists(
    st.tuples(
        st.lists(st.sampled_from(list(Zone)), min_size=1, max_size=4),  # issued zone, transfers
        st.sampled_from(("done", "waiting", "left", "not_served", "no_show")),
        st.sampled_from(list(Zone)),  # the zone the desk suggested
    ),
    max_size=30,
)


@given(_PATHS)
def test_diversion_counts_each_ticket_once_property(paths: list[Any]) -> None:
    """For any tickets and transfers, the diverted count is the number of served tickets whose
    final zone is self-service; at the desk plus by transfer is that number; nothing counts
    twice, and a ticket that ended at a counter never counts as diverted."""
    from types import SimpleNamespace

    tickets, transfers = [], []
    for i, (zones, status, suggested) in enumerate(paths):
        tid = f"t{i}"
        tickets.append(
            SimpleNamespace(id=tid, zone=zones[-1].value, status=status, suggested_zone=suggested)
        )
        for a, b in itertools.pairwise(zones):
            transfers.append((tid, json.dumps({"from_zone": a.value, "to_zone": b.value})))
    dv = report._diversion(tickets, transfers)  # type: ignore[arg-type]
    ss = Zone.SELF_SERVICE
    served_there = [
        (zones, status)
        for zones, status, _ in paths
        if zones[-1] is ss and status not in ("left", "not_served", "no_show")
    ]
    assert dv["to_self_service"] == len(served_there) <= len(paths)
    assert dv["at_desk"] + dv["by_transfer"] == dv["to_self_service"]
    assert dv["at_desk"] == sum(1 for zones, _ in served_there if set(zones) == {ss})
    ended_elsewhere = sum(1 for zones, _, _ in paths if zones[-1] is not ss)
    assert dv["kept_at_counter"] <= ended_elsewhere
    assert dv["to_self_service"] + dv["kept_at_counter"] <= len(paths)
