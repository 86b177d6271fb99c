"""Benchmarks of the lobby desk: issuing a ticket (store + PDF) and type-ahead lookup.

Run: .venv/bin/python -m bench.bench_desk [--customers 1000000]
Prints figures to paste into docs/performance.md, beside the raw SQLite limits measured
in the same run on the same disk.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine, pct, summary_ms
from lobby_app.core.identity import keyed_hash
from lobby_app.core.search import name_pinyin
from lobby_app.store import Store, commands
from lobby_app.store.commands import IssueRequest

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强晓梅玉兰红霞"


def raw_commit_times(path: Path, n: int) -> list[float]:
    """One small row per transaction, WAL + synchronous=FULL: the floor for any command."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("pragma journal_mode=wal")
    con.execute("pragma synchronous=full")
    con.execute("create table t (id text primary key, n integer, note text)")
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        con.execute("begin immediate")
        con.execute("insert into t values (?, ?, ?)", (str(uuid.uuid4()), i, "x" * 40))
        con.execute("commit")
        out.append(time.perf_counter() - t0)
    con.close()
    return out


def bench_issue(n: int) -> None:
    from lobby_app.lobby import ticket_print
    from lobby_app.printing.ticket import render_ticket_pdf

    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_commit_times(Path(tmp) / "raw.sqlite3", n)
        store = Store.open(Path(tmp) / "branch")
        st = commands.settings(store)
        render_ticket_pdf(ticket_print(commands.issue_ticket(store, IssueRequest("cash")), st))
        samples, store_only = [], []
        codes = ["cash", "card", "wealth", "query", "remit_cash"]
        for i in range(n):
            t0 = time.perf_counter()
            issued = commands.issue_ticket(
                store, IssueRequest(codes[i % len(codes)], needs_note="客户询问理财")
            )
            t1 = time.perf_counter()
            pdf = render_ticket_pdf(ticket_print(issued, st))
            t2 = time.perf_counter()
            assert pdf.startswith(b"%PDF")
            store_only.append(t1 - t0)
            samples.append(t2 - t0)
        store.close()
    print(f"raw SQLite commit (WAL, synchronous=FULL): {summary_ms(raw)}")
    print(f"issue_ticket (store only):                 {summary_ms(store_only)}")
    print(f"issue_ticket + ticket PDF ready:           {summary_ms(samples)}")


COLUMNS = (
    "id, customer_no, name, gender, id_hash, id_last4, phone_hash, phone_prefix3, phone_last4, "
    "card_first6, card_last4, assets_fen, loans_fen, avg_assets_3m_fen, tier, vip_card, "
    "vip_special, manager, prospect, pinyin_full, pinyin_initials, updated_at"
)
INSERT = f"insert into customer ({COLUMNS}) values ({','.join('?' * 22)})"


def fill_directory(store: Store, n: int) -> None:
    """Raw batched inserts of n synthetic customers with the indexes the app uses."""
    rng = random.Random(7)
    names = {}
    con = sqlite3.connect(store.db_path, isolation_level=None)
    con.execute("pragma synchronous=off")
    con.execute("begin")
    batch = []
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    for i in range(n):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in names:
            names[name] = name_pinyin(name)
        full, ini = names[name]
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        id_last4 = f"{rng.randrange(10**4):04d}"
        batch.append(
            (
                str(uuid.uuid4()),
                f"C{i + 10**8:09d}",
                name,
                "M",
                None,
                id_last4,
                keyed_hash(store.id_key, "phone", phone) if i % 50 == 0 else None,
                phone[:3],
                phone[-4:],
                "622202",
                f"{rng.randrange(10**4):04d}",
                rng.randrange(10**9),
                0,
                rng.randrange(10**9),
                "mass",
                None,
                0,
                "",
                0,
                full,
                ini,
                now,
            )
        )
        if len(batch) == 20000:
            con.executemany(INSERT, batch)
            batch.clear()
    if batch:
        con.executemany(INSERT, batch)
    con.execute("commit")
    con.execute("analyze")
    con.close()


def bench_lookup(customers: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "branch")
        t0 = time.perf_counter()
        fill_directory(store, customers)
        print(f"directory of {customers:,} customers filled in {time.perf_counter() - t0:.1f} s")
        rng = random.Random(11)
        kinds = {
            "last 4 digits": lambda: f"{rng.randrange(10**4):04d}",
            "pinyin initials (2)": lambda: rng.choice(["zs", "wf", "lj", "cm", "hy", "zw"]),
            "pinyin prefix": lambda: rng.choice(["zhang", "wangf", "liuy", "chenj"]),
            "name prefix": lambda: rng.choice(SURNAMES) + rng.choice(GIVEN),
            "customer number": lambda: f"C{rng.randrange(10**8, 10**8 + customers):09d}",
            "typing 1 char": lambda: rng.choice(["z", "w", "l", "张", "1"]),
        }
        everything: list[float] = []
        for label, make in kinds.items():
            samples = []
            for _ in range(n):
                q = make()
                t = time.perf_counter()
                commands.lookup_customers(store, q)
                samples.append(time.perf_counter() - t)
            everything += samples
            print(f"lookup {label:<22} {summary_ms(samples)}")
        print(f"lookup all kinds: p95={pct(everything, 95) * 1000:.2f} ms")
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=500)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lookups", type=int, default=200)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    if args.tickets:
        bench_issue(args.tickets)
    bench_lookup(args.customers, args.lookups)


if __name__ == "__main__":
    main()
