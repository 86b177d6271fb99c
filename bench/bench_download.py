"""A million directory customers come down from PostgreSQL into an empty branch store.

Head office is filled with the directory CSV of ``bench.directory_csv`` turned into the
columns head office holds (hashes with the branch's key, masked digits, tier, the special
card's approval: what the branch's own import keeps, ``store.directory``), loaded with
COPY and numbered with rising versions as head office's trigger numbers them. Then the
first download into an empty branch store (``run_sync(direction="down")``) is timed: rows/s,
peak RSS, the local transactions' durations. Meanwhile another process issues a ticket
every 200 ms through the real command and records how long each took (the sync must not
make the desk wait). Beside it, in the same run, the raw limit: the very rows the download
wrote, inserted again into an empty branch store's customer table with sqlite3's
``executemany``, in transactions of the same sizes and in one transaction.

    python -m bench.bench_download [--rows 1000000] [--pg "host=127.0.0.1 port=55432 user=postgres"]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench.common import machine, pct
from bench.directory_csv import directory_csv
from lobby_app.core.customer_csv import CustomerRecord, parse_customer_csv
from lobby_app.core.identity import keyed_hash
from lobby_app.core.tiers import tier_for
from lobby_app.headoffice.migrate import ensure_ready
from lobby_app.store import Store, commands
from lobby_app.store.downsync import CUSTOMER_FIELDS
from lobby_app.sync import engine

HO_COLUMNS = ("branch_code", "customer_no", *CUSTOMER_FIELDS, "version")
TODAY = date(2026, 12, 1)


def ho_row(r: CustomerRecord, key: bytes, branch: str, version: int) -> tuple[Any, ...]:
    """A directory record as head office's ``customer_directory`` holds it (as
    ``store.directory._apply`` keeps it at the branch: hashes, masked digits, tier)."""
    idn, phone = r.id_number, r.phone
    return (
        branch,
        r.customer_no,
        r.name,
        idn.gender if idn else None,
        keyed_hash(key, "id", idn.number) if idn else None,
        idn.last4 if idn else "",
        keyed_hash(key, "phone", phone.digits) if phone else None,
        phone.prefix3 if phone else "",
        phone.last4 if phone else "",
        r.card_first6,
        r.card_last4,
        r.assets_fen,
        r.loans_fen,
        r.avg_assets_3m_fen,
        tier_for(r.assets_fen, r.loans_fen).value,
        r.vip_card.value if r.vip_card else None,
        r.vip_special,
        r.vip_approved_by,
        r.vip_approved_until,
        r.vip_card_held.value if r.vip_card_held else None,
        r.manager,
        r.prospect,
        version,
    )


def ho_rows(path: Path, key: bytes, branch: str, chunk: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """The CSV's records as head-office rows, versions 1, 2, ... in file order (parsed a
    chunk of lines at a time with the import's own parser)."""
    version = 0
    with path.open(encoding="utf-8", newline="") as fh:
        header = fh.readline()
        while True:
            lines = [line for _, line in zip(range(chunk), fh, strict=False)]
            if not lines:
                return
            parsed = parse_customer_csv(header + "".join(lines), today=TODAY)
            if parsed.errors:
                raise SystemExit(f"{path}: {parsed.errors[0]}")
            for r in parsed.records:
                version += 1
                yield ho_row(r, key, branch, version)


def fill_head_office(dsn: str, path: Path, key: bytes, branch: str) -> tuple[int, float]:
    """COPY the directory into ``customer_directory``; rows and seconds. The version
    trigger is held back during the load and the versions it would give are written
    (one counter, rising in load order), then the counter is set past them."""
    t0 = time.perf_counter()
    n = 0
    with psycopg.connect(dsn) as conn:
        conn.execute("alter table customer_directory disable trigger user")
        with conn.cursor().copy(
            f"copy customer_directory ({', '.join(HO_COLUMNS)}) from stdin"
        ) as cp:
            for row in ho_rows(path, key, branch):
                cp.write_row(row)
                n += 1
        conn.execute("alter table customer_directory enable trigger user")
        conn.execute("update ho_version set value = %s where id = 1", (n,))
        conn.commit()
        conn.execute("analyze customer_directory")
    return n, time.perf_counter() - t0


def _desk(data: Path, stop: Any, ready: Any, out: Any) -> None:
    """A desk issuing a ticket every 200 ms until told to stop: each one's seconds."""
    store = Store.open(data)
    from lobby_app.store.commands import IssueRequest

    commands.issue_ticket(store, IssueRequest("cash"))  # warm
    ready.set()
    took: list[float] = []
    while not stop.is_set():
        t0 = time.perf_counter()
        commands.issue_ticket(store, IssueRequest("cash"))
        took.append(time.perf_counter() - t0)
        time.sleep(0.2)
    store.close()
    out.put(took)


def _timed_transactions() -> list[tuple[int, float]]:
    """Patch the download's local writes to record (rows, seconds) of each transaction."""
    from lobby_app.store import downsync

    seen: list[tuple[int, float]] = []
    real_apply = downsync.apply
    real_write = engine._local_write

    from contextlib import contextmanager

    @contextmanager
    def write(store: Store, *args: Any) -> Iterator[Any]:
        t0 = time.perf_counter()
        with real_write(store, *args) as lc:
            lc.info["rows"] = 0
            yield lc
            rows = lc.info.pop("rows", 0)
        if rows:
            seen.append((rows, time.perf_counter() - t0))

    def apply(conn: Any, table: str, rows: Any, *a: Any, **kw: Any) -> None:
        if table == "customer_directory":
            conn.info["rows"] = len(rows)
        real_apply(conn, table, rows, *a, **kw)

    engine._local_write = write  # type: ignore[assignment]
    downsync.apply = apply  # type: ignore[assignment]
    return seen


CUSTOMER_COLUMNS = (
    "id, customer_no, name, gender, id_hash, id_last4, phone_hash, phone_prefix3, phone_last4,"
    " card_first6, card_last4, assets_fen, loans_fen, avg_assets_3m_fen, tier, vip_card,"
    " vip_special, vip_approved_by, vip_approved_until, vip_card_held, manager, prospect,"
    " pinyin_full, pinyin_initials, updated_at, source"
)


def raw_limit(src: Path, root: Path, sizes: list[int]) -> dict[str, tuple[float, float]]:
    """The download's rows inserted again into an empty store's customer table with
    sqlite3 executemany (pragmas as the store's): seconds and worst transaction, in
    transactions of the download's sizes and in one transaction."""
    with sqlite3.connect(src) as db:
        rows = db.execute(f"select {CUSTOMER_COLUMNS} from customer order by rowid").fetchall()
    out = {}
    for label, parts in (("same transactions", sizes), ("one transaction", [len(rows)])):
        store = Store.open(root / label.replace(" ", "-"))
        db_path = store.db_path
        store.close()
        db = sqlite3.connect(db_path, isolation_level=None)
        db.execute("pragma synchronous=NORMAL")  # as the download's own connection
        sql = f"insert into customer ({CUSTOMER_COLUMNS}) values ({', '.join('?' * 26)})"
        worst = 0.0
        t0 = time.perf_counter()
        i = 0
        for n in parts:
            t1 = time.perf_counter()
            db.execute("begin immediate")
            db.executemany(sql, rows[i : i + n])
            db.execute("commit")
            worst = max(worst, time.perf_counter() - t1)
            i += n
        out[label] = (time.perf_counter() - t0, worst)
        db.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pg", default="host=127.0.0.1 port=55432 user=postgres")
    args = ap.parse_args()
    print(machine())
    with open("/proc/loadavg") as fh:
        print("load average at start:", fh.read().split()[:3])
    path = directory_csv(args.rows)
    admin = psycopg.connect(f"{args.pg} dbname=postgres", autocommit=True)
    db = f"bench_dl_{uuid.uuid4().hex[:8]}"
    admin.execute(f"create database {db}")
    host = dict(p.split("=") for p in args.pg.split())
    url = f"postgresql+psycopg://{host.get('user', 'postgres')}@{host['host']}:{host['port']}/{db}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            store = Store.open(root / "branch")
            branch = commands.settings(store).branch_code
            target = engine.connect(url)
            ensure_ready(target)
            target.dispose()
            n, load_s = fill_head_office(f"{args.pg} dbname={db}", path, store.id_key, branch)
            print(f"head office: {n:,} directory rows COPY'd in {load_s:.1f} s")
            ctx = mp.get_context("spawn")
            stop, ready, out = ctx.Event(), ctx.Event(), ctx.Queue()
            desk = ctx.Process(target=_desk, args=(root / "branch", stop, ready, out))
            desk.start()
            ready.wait(60)
            seen = _timed_transactions()
            t0 = time.perf_counter()
            try:
                result = engine.run_sync(store, url, direction="down")
                took = time.perf_counter() - t0
            finally:
                stop.set()
                tickets: list[float] = out.get(timeout=60)
                desk.join(30)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            got = result.downloaded.get("customer_directory", 0)
            with store.engine.connect() as c:
                local = c.exec_driver_sql("select count(*) from customer").scalar()
            tx = sorted(s for _, s in seen)
            print(
                f"download: {got:,} rows ({local:,} customers in the store), status "
                f"{result.status} {result.message}, {took:.1f} s, {got / took:,.0f} rows/s, "
                f"peak RSS {rss:.0f} MB"
            )
            print(
                f"local transactions: {len(seen)}, rows each median "
                f"{statistics.median(r for r, _ in seen):.0f} (max {max(r for r, _ in seen)}), "
                f"time median {statistics.median(tx) * 1000:.0f} ms, p99 {pct(tx, 99) * 1000:.0f} ms, "
                f"max {tx[-1] * 1000:.0f} ms"
            )
            ms = [x * 1000 for x in tickets]
            print(
                f"tickets issued meanwhile: {len(ms)}, median {statistics.median(ms):.0f} ms, "
                f"p99 {pct(ms, 99):.0f} ms, max {max(ms):.0f} ms"
            )
            store.close()
            for label, (secs, worst) in raw_limit(
                root / "branch" / store.db_path.name, root, [r for r, _ in seen]
            ).items():
                print(
                    f"raw sqlite3 executemany, {label}: {local / secs:,.0f} rows/s "
                    f"({secs:.1f} s, longest transaction {worst * 1000:.0f} ms)"
                )
            with open("/proc/loadavg") as fh:
                print("load average at end:", fh.read().split()[:3])
    finally:
        admin.execute(f"drop database if exists {db} with (force)")
        admin.close()


if __name__ == "__main__":
    main()
