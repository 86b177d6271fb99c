"""Nightly sync into PostgreSQL: a busy day, then a 90-day backlog, beside raw batched inserts.

A demo branch with 24 windows plays one busy day through the real commands (2,000 visits,
their events, needs, referrals, ratings), closes it, and syncs it into an empty head-office
database. The day is then copied by SQL to 89 more dates (the triggers log every row, as
the commands would) and the whole backlog syncs. For comparison, in the same run, the very
rows each sync sent are inserted again into empty copies of the same tables with psycopg's
``executemany`` in 5,000-row transactions: the raw limit of batched inserts.

    python -m bench.bench_sync [--pg postgresql://postgres@127.0.0.1:55432/postgres]
        [--visits 2000] [--days 90]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.bench_report import DAY, busy_branch, copy_day
from bench.common import machine
from lobby_app.headoffice.migrate import ensure_ready
from lobby_app.store import Store, dayclose
from lobby_app.store.simulate import simulate_day
from lobby_app.sync import engine
from lobby_app.sync.engine import run_sync


def raw_insert_rate(store: Store, dsn: str, db: str, url: str) -> tuple[int, float]:
    """Insert every up row of the branch into empty copies of the head-office tables with
    executemany, 5,000 rows a transaction; rows and seconds (reading excluded)."""
    plans = engine._plans(store.engine)
    shaped = {}
    with store.engine.connect() as local:
        for table, plan in plans.items():
            keyexpr = " || '|' || ".join(f"CAST({k} AS TEXT)" for k in plan.key)
            keys = [str(r[0]) for r in local.exec_driver_sql(f"select {keyexpr} from {table}")]
            rows = engine._fetch_rows(local, plan, keys)
            shaped[table] = (plan, engine._for_target(plan, rows, "raw", True))
    total = sum(len(r) for _, r in shaped.values())
    target = engine.connect(url)
    ensure_ready(target)  # the head-office tables, empty
    target.dispose()
    with psycopg.connect(f"{dsn} dbname={db}") as conn:
        for plan, _ in shaped.values():
            conn.execute(
                f"create table raw_{plan.target.name} (like {plan.target.name} including all)"
            )
        conn.commit()
        t0 = time.perf_counter()
        for plan, rows in shaped.values():
            cols = ["branch_code", *plan.columns]
            sql = (
                f"insert into raw_{plan.target.name} ({', '.join(cols)})"
                f" values ({', '.join(['%s'] * len(cols))})"
            )
            with conn.cursor() as cur:
                for i in range(0, len(rows), 5000):
                    cur.executemany(sql, rows[i : i + 5000])
                    conn.commit()
        took = time.perf_counter() - t0
        for plan, _ in shaped.values():
            conn.execute(f"drop table raw_{plan.target.name}")
        conn.commit()
    return total, took


def measure(label: str, store: Store, dsn: str, dbs: list[str], url: Any) -> None:
    """Everything pending at once into an empty head office, then the raw limit."""
    with store.engine.begin() as c:
        c.exec_driver_sql("delete from sync_state")
        c.exec_driver_sql("delete from change_log")
    engine._requeue_all(store)
    t0 = time.perf_counter()
    result = run_sync(store, url(dbs[0]), direction="up")
    took = time.perf_counter() - t0
    rows = sum(result.uploaded.values())
    raw_rows, raw_s = raw_insert_rate(store, dsn, dbs[1], url(dbs[1]))
    print(
        f"{label}: {rows} rows in {result.batches} batches, status {result.status}: "
        f"sync {took:.2f} s ({rows / took:,.0f} rows/s); raw executemany {raw_rows} rows in "
        f"{raw_s:.2f} s ({raw_rows / raw_s:,.0f} rows/s); "
        f"sync at {100 * (rows / took) / (raw_rows / raw_s):.0f} % of raw"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default="host=127.0.0.1 port=55432 user=postgres")
    ap.add_argument("--visits", type=int, default=2000)
    ap.add_argument("--days", type=int, default=90)
    args = ap.parse_args()
    print(machine())
    admin = psycopg.connect(f"{args.pg} dbname=postgres", autocommit=True)
    print("PostgreSQL", admin.execute("show server_version").fetchone()[0],  # type: ignore[index]
          "fsync", admin.execute("show fsync").fetchone()[0])  # type: ignore[index]  # fmt: skip
    dbs = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for db in dbs:
        admin.execute(f"create database {db}")
    host = dict(p.split("=") for p in args.pg.split())
    url = lambda db: (  # noqa: E731
        f"postgresql+psycopg://{host.get('user', 'postgres')}@{host['host']}:{host['port']}/{db}"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = busy_branch(Path(tmp))
            sim = simulate_day(store, DAY, visits=args.visits, seed=11)
            dayclose.close_day(store, DAY, actor="L01", force=True)
            # a fresh start for the measurement: only the busy day's work is pending
            run_sync(store, url(dbs[2]))  # also warms the imports up
            measure(f"busy day ({sim.issued} visits)", store, args.pg, dbs, url)
            # the backlog: the day copied to 89 more dates, everything pending at once
            days = [DAY + timedelta(days=i) for i in range(args.days)]
            copy_day(store.db_path, DAY, days)
            for db in dbs[:2]:
                admin.execute(f"drop database {db} with (force)")
                admin.execute(f"create database {db}")
            measure(f"{args.days}-day backlog", store, args.pg, dbs, url)
            t0 = time.perf_counter()
            again = run_sync(store, url(dbs[0]), direction="up")
            print(f"running it again: {sum(again.uploaded.values())} rows, "
                  f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
            store.close()
    finally:
        for db in dbs:
            admin.execute(f"drop database if exists {db} with (force)")
        admin.close()


if __name__ == "__main__":
    main()
