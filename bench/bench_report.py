"""End-of-day summary: figures and the A4 PDF for a busy day (2,000 visits) and a month.

A demo branch gets 16 more windows (closed, open and self-service guidance in turn), one busy day is played through the real commands
(``simulate_day``), then copied by SQL to the other business days of a month. Each summary
is timed from the store to the PDF bytes, beside a raw ``SELECT`` of the same ticket rows.

    python -m bench.bench_report [--visits 2000] [--days 22] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import machine, summary_ms
from lobby_app.models import Counter
from lobby_app.printing.summary import render_summary_pdf
from lobby_app.store import Store, dayclose
from lobby_app.store.demo import seed_demo
from lobby_app.store.simulate import simulate_day

DAY = date(2026, 6, 1)


def busy_branch(folder: Path) -> Store:
    """The demo branch with 16 more windows (closed, open and self-service guidance in turn),
    enough for a 2,000-visit day."""
    store = Store.open(folder)
    seed_demo(store, customers=2000)
    with store.write() as s:
        for n in range(9, 25):
            zone = ("closed_counter", "open_counter", "self_service")[n % 3]
            s.add(Counter(window_no=n, name=f"{n}号窗口", zones=zone, staff_no=f"W{n:02d}"))
    return store


def business_days(n: int) -> list[date]:
    out, d = [], DAY
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def copy_day(db: Path, source: date, targets: list[date]) -> None:
    """Copy one day's tickets, needs, events and referrals to other dates (new ids)."""
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("pragma table_info(ticket)")]
    times = {"issued_at", "first_called_at", "called_at", "started_at", "finished_at"}
    for target in targets[1:]:
        k = (target - source).days
        shift = f"'+{k} days'"

        # a new id of the same length: the head office keeps ids in 36 characters
        def nid(col: str, k: int = k) -> str:
            return f"substr({col}, 1, 29) || printf('-k%05d', {k})"

        def expr(c: str, k: int = k, shift: str = shift) -> str:
            if c == "id":
                return nid("id")
            if c == "business_date":
                return f"date(business_date, {shift})"
            if c in times:
                return f"strftime('%Y-%m-%d %H:%M:%f', {c}, {shift})"
            return c

        con.execute(
            f"insert into ticket ({', '.join(cols)}) select {', '.join(expr(c) for c in cols)}"
            " from ticket where business_date = ?",
            (source.isoformat(),),
        )
        con.execute(
            f"insert into ticket_need (ticket_id, tag) select {nid('ticket_id')}, tag"
            " from ticket_need where ticket_id in (select id from ticket where business_date = ?)",
            (source.isoformat(),),
        )
        con.execute(
            "insert into ticket_event (id, ticket_id, at, kind, actor, detail)"
            f" select {nid('id')}, {nid('ticket_id')}, strftime('%Y-%m-%d %H:%M:%f', at, {shift}),"
            " kind, actor, detail from ticket_event"
            " where ticket_id in (select id from ticket where business_date = ?)",
            (source.isoformat(),),
        )
        rcols = [r[1] for r in con.execute("pragma table_info(referral)")]

        def rexpr(c: str, k: int = k, shift: str = shift) -> str:
            if c == "id":
                return nid("id")
            if c == "referral_no":
                return f"referral_no || '-{k}'"
            if c == "ticket_id":
                return nid("ticket_id")
            if c == "business_date":
                return f"date(business_date, {shift})"
            if c in ("created_at", "accepted_at", "contacted_at", "closed_at"):
                return f"strftime('%Y-%m-%d %H:%M:%f', {c}, {shift})"
            return c

        con.execute(
            f"insert into referral ({', '.join(rcols)}) select {', '.join(rexpr(c) for c in rcols)}"
            " from referral where business_date = ?",
            (source.isoformat(),),
        )
        con.execute(
            "insert into referral_credit (referral_id, staff_no, kind, share_pct, amount_fen)"
            f" select {nid('referral_id')}, staff_no, kind, share_pct, amount_fen"
            " from referral_credit where referral_id in"
            " (select id from referral where business_date = ?)",
            (source.isoformat(),),
        )
    con.commit()
    con.close()


def raw_select_s(db: Path, start: date, end: date) -> float:
    con = sqlite3.connect(db)
    t0 = time.perf_counter()
    rows = con.execute(
        "select * from ticket where business_date between ? and ?",
        (start.isoformat(), end.isoformat()),
    ).fetchall()
    took = time.perf_counter() - t0
    con.close()
    assert rows
    return took


def timed(
    store: Store, start: date, end: date, repeat: int
) -> tuple[list[float], list[float], int]:
    figs, pdfs, pages = [], [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        f = dayclose.summary(store, start, end)
        t1 = time.perf_counter()
        pdf = render_summary_pdf(f, prepared_by="bench")
        t2 = time.perf_counter()
        figs.append(t1 - t0)
        pdfs.append(t2 - t0)
        pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    return figs, pdfs, pages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=2000)
    ap.add_argument("--days", type=int, default=22)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="also copy the month's store file here")
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        store = busy_branch(Path(tmp))
        t0 = time.perf_counter()
        sim = simulate_day(store, DAY, visits=args.visits, seed=11)
        print(
            f"played one day through the commands: {sim.as_json()} in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        days = business_days(args.days)
        copy_day(store.db_path, DAY, days)
        from lobby_app.store.report import figures

        print(
            f"month: {days[0]} .. {days[-1]}, {figures(store, days[0], days[-1])['issued']} visits"
        )
        if args.keep:
            import shutil

            shutil.copyfile(store.db_path, args.keep)
        # the summary of the busy day (the first call also warms the font up, as the desk does)
        render_summary_pdf(dayclose.summary(store, DAY), prepared_by="warm-up")
        f, p, pages = timed(store, DAY, DAY, args.repeat)
        raw = [raw_select_s(store.db_path, DAY, DAY) for _ in range(args.repeat)]
        print(f"busy day ({sim.issued} visits), {pages} pages:")
        print(f"  raw select of the day's ticket rows: {summary_ms(raw)}")
        print(f"  figures (one query layer):            {summary_ms(f)}")
        print(f"  figures + A4 PDF:                     {summary_ms(p)}")
        dayclose.close_day(store, DAY, actor="L01", force=True)
        f, p, pages = timed(store, DAY, DAY, args.repeat)
        print(f"  closed day (frozen figures + live comparison) + PDF: {summary_ms(p)}")
        f, p, pages = timed(store, days[0], days[-1], max(1, args.repeat // 2))
        raw = [raw_select_s(store.db_path, days[0], days[-1]) for _ in range(3)]
        print(f"month ({len(days)} business days), {pages} pages:")
        print(f"  raw select of the month's ticket rows: {summary_ms(raw)}")
        print(f"  figures:                               {summary_ms(f)}")
        print(f"  figures + A4 PDF:                      {summary_ms(p)}")
        store.close()


if __name__ == "__main__":
    main()
