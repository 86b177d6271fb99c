"""The directory comes down in bulk (issue 17): the store ends as applying head office's rows
one at a time leaves it (``tests.sync.rowwise``), walk-ins are taken over in the middle of
a batch, and a download stopped anywhere goes on from its last committed batch to exactly
the directory."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

from bench.bench_download import HO_COLUMNS, ho_rows
from bench.directory_csv import directory_csv
from lobby_app.core.identity import keyed_hash
from lobby_app.core.search import name_pinyin
from lobby_app.store import Store, commands, downsync
from lobby_app.store.commands import IssueRequest
from lobby_app.store.walkin import register_walk_in
from lobby_app.sync import engine
from lobby_app.sync.engine import run_sync
from tests.sync.conftest import PG_HOST, PG_PORT, pg_url, psql
from tests.sync.rowwise import customers_one_by_one

N = 3000  # directory rows at head office
FIELDS = (
    "customer_no, name, gender, id_hash, id_last4, phone_hash, phone_prefix3, phone_last4,"
    " card_first6, card_last4, assets_fen, loans_fen, avg_assets_3m_fen, tier, vip_card,"
    " vip_special, vip_approved_by, vip_approved_until, vip_card_held, manager, prospect,"
    " pinyin_full, pinyin_initials, source"
)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many head-office pages and local transactions, so that every case meets a boundary."""
    monkeypatch.setattr(engine, "DOWN_BATCH", 700)
    monkeypatch.setattr(engine, "LOCAL_ROWS", (40, 300), raising=False)


def snapshot(db_path: Path, ids: set[str]) -> dict[str, Any]:
    """Everything the download may change: each customer's fields (and, for rows that
    were there before, which row holds which number), who each visit, referral and
    registration points at, and what waits to go up."""
    with closing(sqlite3.connect(db_path)) as db:
        holder = dict(db.execute("select id, customer_no from customer"))

        def who(table: str) -> list[tuple[Any, ...]]:
            rows = db.execute(f"select id, customer_id from {table} order by id")
            return [(i, holder.get(c, c)) for i, c in rows]

        return {
            "customers": sorted(db.execute(f"select {FIELDS} from customer")),
            "count": db.execute("select count(*) from customer").fetchone()[0],
            "kept_rows": {i: no for i, no in holder.items() if i in ids},
            "tickets": who("ticket"),
            "referrals": who("referral"),
            "registrations": who("registration"),
            "change_log": Counter(db.execute("select tbl, row_id, op from change_log")),
        }


def ids_of(store: Store) -> set[str]:
    with closing(sqlite3.connect(store.db_path)) as db:
        return {i for (i,) in db.execute("select id from customer")}


def put_directory(db: str, rows: list[tuple[Any, ...]]) -> None:
    """Head office's directory, through its version trigger (a page per transaction)."""
    cols = HO_COLUMNS[:-1]  # the trigger numbers them
    dsn = f"host={PG_HOST} port={PG_PORT} user=postgres dbname={db}"
    with psycopg.connect(dsn) as conn:
        for i in range(0, len(rows), 500):
            with conn.cursor().copy(
                f"copy customer_directory ({', '.join(cols)}) from stdin"
            ) as cp:
                for r in rows[i : i + 500]:
                    cp.write_row(r[:-1])
            conn.commit()


def head_office_rows(db: str) -> list[dict[str, Any]]:
    cols = ["customer_no", *downsync.CUSTOMER_FIELDS, "deleted", "version"]
    got = psql(db, f"select {', '.join(cols)} from customer_directory order by version")
    return [dict(zip(cols, r, strict=True)) for r in got]


def reference(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as conn:
        customers_one_by_one(conn, rows)


class Branch:
    """A demo branch with walk-ins and visits, head office's directory of N customers that
    takes some of them over, and a copy of the branch to apply it to one row at a time."""

    def __init__(self, store: Store, pg: str, tmp: Path) -> None:
        self.pg, self.url = pg, pg_url(pg)
        self.numbers: list[str] = []
        assert run_sync(store, self.url, direction="down").status == "ok"  # sets head office up
        code = commands.settings(store).branch_code
        with directory_csv(10_000).open(encoding="utf-8", newline="") as fh:
            raw = [r for _, r in zip(range(N), csv.DictReader(fh), strict=False)]
        self.numbers = [r["customer_no"] for r in raw]
        ho = [list(r) for r in ho_rows(directory_csv(10_000), store.id_key, code)][:N]
        # walk-ins the directory brings in the middle of a page: one by phone (with a
        # visit), two of one person (ID first, the other merged into it)
        self.w1 = register_walk_in(
            store, name="欧阳晓岚", phone=raw[1500]["phone"], consent=True, actor="L01"
        )
        self.t1 = commands.issue_ticket(
            store, IssueRequest("wealth", customer_id=self.w1.customer_id)
        )
        self.w2 = register_walk_in(
            store,
            name=raw[1700]["name"],
            phone="13912340002",
            id_number=raw[1700]["id_number"],
            consent=True,
            actor="L01",
        )
        self.w3 = register_walk_in(
            store, name="司马青", phone=raw[1700]["phone"], consent=True, actor="L01"
        )
        self.t3 = commands.issue_ticket(
            store, IssueRequest("cash", customer_id=self.w3.customer_id)
        )
        # a walk-in who turns out to be a customer the branch already has (row 20)
        self.w4 = register_walk_in(
            store, name="上官云", phone="13712340004", consent=True, actor="L01"
        )
        self.t4 = commands.issue_ticket(
            store, IssueRequest("cash", customer_id=self.w4.customer_id)
        )
        ho[20][HO_COLUMNS.index("phone_hash")] = keyed_hash(store.id_key, "phone", "13712340004")
        # a customer the branch has, with a visit, is removed at head office
        self.gone = str(ho[30][1])
        gone_id = commands.lookup_customers(store, self.gone)[0].id
        self.t_gone = commands.issue_ticket(store, IssueRequest("cash", customer_id=gone_id))
        put_directory(pg, [tuple(r) for r in ho])
        psql(
            pg, "update customer_directory set deleted = true where customer_no = %s", (self.gone,)
        )
        psql(
            pg,
            "update customer_directory set deleted = true where customer_no = %s",
            (str(ho[2500][1]),),
        )
        self.ids = ids_of(store)
        # the reference: the same branch, the same rows one at a time
        data = store.data_dir
        store.close()
        shutil.copytree(data, tmp / "reference")
        self.store = Store.open(data)
        self.ref = Store.open(tmp / "reference")
        self.rows = head_office_rows(pg)
        reference(self.ref, self.rows)
        self.expected = snapshot(self.ref.db_path, self.ids)

    def now(self) -> dict[str, Any]:
        return snapshot(self.store.db_path, self.ids)

    def mark(self) -> int:
        with closing(sqlite3.connect(self.store.db_path)) as db:
            got = db.execute(
                "select value from sync_state where key = 'down_customer_directory'"
            ).fetchone()
        return int(got[0]) if got else 0

    def close(self) -> None:
        self.store.close()
        self.ref.close()


@pytest.fixture
def setup(branch: Store, pg: str, tmp_path: Path) -> Iterator[Branch]:
    b = Branch(branch, pg, tmp_path)
    yield b
    b.close()


def test_directory_comes_down_as_one_row_at_a_time(setup: Branch, small_batches: None) -> None:
    b = setup
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(b.store.engine, "before_cursor_execute", count)
    result = run_sync(b.store, b.url, direction="down")
    event.remove(b.store.engine, "before_cursor_execute", count)
    assert result.status == "ok", result.message
    assert result.downloaded == {"customer_directory": N}
    # a batch is looked up and written in a few statements, not a few per row
    assert statements < N / 2, statements
    got = b.now()
    assert got == b.expected
    # the walk-ins, taken over where the directory reached them
    by_no = {c[0]: c for c in got["customers"]}
    w1 = got["kept_rows"][b.w1.customer_id]
    assert by_no[w1][-1] == "directory" and w1 == b.numbers[1500]
    assert dict(got["tickets"])[b.t1.id] == w1  # the visit stays with the person
    assert got["kept_rows"][b.w2.customer_id] == b.numbers[1700]
    assert b.w3.customer_id not in got["kept_rows"]
    assert dict(got["tickets"])[b.t3.id] == b.numbers[1700]  # merged into W2
    assert b.w4.customer_id not in got["kept_rows"]
    assert dict(got["tickets"])[b.t4.id] == b.numbers[20]
    assert dict(got["tickets"])[b.t_gone.id] is None
    assert b.gone not in by_no
    # visits renumbered go up again
    assert got["change_log"][("ticket", b.t1.id, "u")] >= 2
    # nothing more to come
    again = run_sync(b.store, b.url, direction="down")
    assert again.downloaded == {} and b.now() == b.expected


def test_a_failure_mid_download_then_a_rerun_ends_exactly_right(
    setup: Branch, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = setup
    real = downsync.apply
    calls = 0

    def failing(conn: Any, table: str, rows: Any, *a: Any, **kw: Any) -> None:
        nonlocal calls
        calls += 1
        real(conn, table, rows, *a, **kw)
        if calls == 7:  # the seventh transaction's rows are written, then the disk fails
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(downsync, "apply", failing)
    first = run_sync(b.store, b.url, direction="down")
    assert first.status == "failed"
    done = first.downloaded["customer_directory"]
    assert 0 < done < N
    mark = b.mark()
    assert mark == b.rows[done - 1]["version"]  # the last committed batch, not the failed one
    with closing(sqlite3.connect(b.store.db_path)) as db:
        got = db.execute("select count(*) from customer").fetchone()[0]
    assert got < b.expected["count"]
    monkeypatch.setattr(downsync, "apply", real)
    second = run_sync(b.store, b.url, direction="down")
    assert second.status == "ok", second.message
    assert second.downloaded == {"customer_directory": N - done}
    assert b.now() == b.expected


KILLED = """
import sys
from lobby_app.store import Store
from lobby_app.sync import engine
engine.DOWN_BATCH, engine.LOCAL_ROWS, engine.LOCAL_TX_S = 400, (40, 40), 0.001
engine.run_sync(Store.open(sys.argv[1]), sys.argv[2], direction="down")
"""


def test_a_killed_download_goes_on_from_its_last_batch(setup: Branch) -> None:
    b = setup
    data = b.store.data_dir
    b.store.close()
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(data), b.url])
    try:
        deadline = time.monotonic() + 120
        while b.mark() < b.rows[N // 4]["version"]:
            assert proc.poll() is None, "the download ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    b.store = Store.open(data)
    killed_at = b.mark()
    assert killed_at < b.rows[-1]["version"]
    result = run_sync(b.store, b.url, direction="down")
    assert result.status == "ok", result.message
    assert 0 < result.downloaded["customer_directory"] < N
    assert b.now() == b.expected


# ---------------------------------------------------------------- any mix, any batches

BASE = {
    "gender": "F",
    "id_last4": "1234",
    "phone_prefix3": "139",
    "phone_last4": "0001",
    "card_first6": "",
    "card_last4": "",
    "assets_fen": 100,
    "loans_fen": 0,
    "avg_assets_3m_fen": 100,
    "tier": "mass",
    "vip_card": None,
    "vip_special": False,
    "vip_approved_by": "",
    "vip_approved_until": None,
    "vip_card_held": None,
    "manager": "",
    "prospect": False,
}
IDS = st.sampled_from([None, "", "h0", "h1", "h2"])
PHONES = st.sampled_from([None, "", "p0", "p1", "p2"])
NAMES = st.sampled_from(["张三", "李秀英", "欧阳晓岚", "曾志伟"])
NUMBERS = [f"K{i}" for i in range(5)] + [f"W{i}" for i in range(4)] + [f"N{i}" for i in range(4)]

mixes = st.fixed_dictionaries(
    {
        # the store before: K0..K4 directory customers, W0..W3 walk-ins, with these hashes
        "before": st.lists(st.tuples(IDS, PHONES, NAMES), min_size=9, max_size=9),
        "rows": st.lists(
            st.tuples(st.sampled_from(NUMBERS), st.booleans(), IDS, PHONES, NAMES),
            max_size=14,
            unique_by=lambda r: r[0],
        ),
        "cuts": st.lists(st.integers(1, 13), max_size=4),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mix=mixes)
def test_any_mix_across_batch_boundaries_as_one_row_at_a_time(
    branch: Store, mix: dict[str, Any]
) -> None:
    """New, changed, deleted and walk-in rows in any order, cut into any batches: the same
    store as one row at a time (on demo customers that have visits, so moves show)."""
    rows = [
        {
            **BASE,
            "customer_no": no,
            "deleted": deleted,
            "id_hash": id_hash,
            "phone_hash": phone_hash,
            "name": name,
            "version": v,
        }
        for v, (no, deleted, id_hash, phone_hash, name) in enumerate(mix["rows"], 1)
    ]
    cuts = sorted({c for c in mix["cuts"] if c < len(rows)})
    batches = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]

    def run(apply: Any) -> dict[str, Any]:
        conn = branch.engine.connect()
        trans = conn.begin()
        try:
            # the demo customers with the most visits play the store's rows
            picked = [
                i
                for (i,) in conn.execute(
                    text(
                        "select c.id from customer c left join ticket t on t.customer_id = c.id"
                        " group by c.id order by count(t.id) desc, c.id limit 9"
                    )
                )
            ]
            for k, (i, (id_hash, phone_hash, name)) in enumerate(
                zip(picked, mix["before"], strict=True)
            ):
                no, source = (f"K{k}", "directory") if k < 5 else (f"W{k - 5}", "branch")
                conn.execute(
                    text(
                        "update customer set customer_no = :no, source = :s, id_hash = :i,"
                        " phone_hash = :p, name = :n, pinyin_full = :pf, pinyin_initials = :pi"
                        " where id = :id"
                    ),
                    {
                        "no": no,
                        "s": source,
                        "i": id_hash,
                        "p": phone_hash,
                        "n": name,
                        "pf": name_pinyin(name)[0],
                        "pi": name_pinyin(name)[1],
                        "id": i,
                    },
                )
            conn.execute(text("delete from change_log"))
            before = {i for (i,) in conn.execute(text("select id from customer"))}
            apply(conn)
            holder = {i: no for i, no in conn.execute(text("select id, customer_no from customer"))}

            def who(table: str) -> list[tuple[Any, ...]]:
                got = conn.execute(text(f"select id, customer_id from {table} order by id"))
                return [(i, holder.get(c, c)) for i, c in got]

            return {
                "customers": sorted(
                    tuple(r) for r in conn.execute(text(f"select {FIELDS} from customer"))
                ),
                "kept": {i: no for i, no in holder.items() if i in before},
                "tickets": who("ticket"),
                "referrals": who("referral"),
                "registrations": who("registration"),
                "log": Counter(conn.execute(text("select tbl, row_id, op from change_log"))),
            }
        finally:
            trans.rollback()
            conn.close()

    def bulk(conn: Any) -> None:
        cache = downsync.PinyinCache()
        for batch in batches:
            downsync.apply(
                conn,
                "customer_directory",
                batch,
                None,
                downsync.prepare(conn, "customer_directory", batch, cache),
            )

    assert run(bulk) == run(lambda conn: customers_one_by_one(conn, rows))
