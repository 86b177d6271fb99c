"""The nightly sync: the branch's day goes up to head office, head office's directory comes down.

Up. Every change to a table the branch owns is in ``change_log`` with a rising ``seq``
(SQLite triggers write it in the changing transaction). The sync reads head office's
high-water mark for this branch, sends the next bounded batch of changes (the rows as they
now are; tombstones for deletions) and moves the mark, all in one head-office transaction.
A cut connection loses at most the batch in flight, which the next run sends again; running
twice changes nothing (upserts keyed by branch and global id). At the end both sides count
visits and referrals per business date; a date that differs is sent again in full. Walk-ins
registered at the desk (``registration``) go up the same way, for head office to confirm;
their count is checked as a whole (a small table without a business date).

Down. Head office's directory rows carry a version from one counter; the branch keeps the
highest version it applied per table and asks for newer rows, applying each batch and its
mark in one local transaction. A directory customer who is a walk-in the branch registered
(same ID or phone hash) takes over the branch's record (``store.downsync``).

Who sends (``sync.identity``): head office keeps the high-water mark per (branch, store,
epoch) and knows which store owns a branch code, so a store restored from a backup or copied
to a new PC uploads again, and two stores never write one branch. A row head office refuses
is quarantined (``sync.quarantine``) and the rest goes up. Every head-office statement has a
time limit (``sync.timeouts``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import (
    Engine,
    Integer,
    Table,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from lobby_app import __version__
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.headoffice import schema as ho
from lobby_app.headoffice.migrate import ensure_ready
from lobby_app.models import SyncState
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store
from lobby_app.store.setup import BranchSettings, load_settings
from lobby_app.sync import identity, quarantine, timeouts
from lobby_app.sync.identity import Identity, put_state
from lobby_app.sync.quarantine import Refused

log = logging.getLogger(__name__)

BATCH = 5000  # changes per head-office transaction
DOWN_BATCH = 5000  # head-office rows per read (a range of its version index)
# A local write transaction of the download holds the store's lock for about this long, so
# a ticket issued meanwhile at the desk waits no longer; its rows adapt to the pace seen
# (a million-row directory's indexes make each row dearer as the table grows).
LOCAL_TX_S = 0.08
LOCAL_ROWS = (50, 5000)  # the fewest and most rows of one local transaction
IN_CHUNK = 500  # keys per local lookup
CLOCK_SKEW_WARN_S = 300
EMBEDDED_NAME = "headoffice.sqlite3"


@dataclass
class SyncResult:
    status: str = "ok"  # ok / warning / failed
    target: str = ""
    direction: str = "both"
    uploaded: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    downloaded: dict[str, int] = field(default_factory=dict)
    high_water: int = 0
    batches: int = 0
    repaired_dates: list[str] = field(default_factory=list)
    # rows head office refused, kept in the store and sent again at every sync: how many are
    # held after this run, and the first few (table, id, reason)
    quarantined: int = 0
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    store_id: str = ""
    epoch: str = ""
    took_over: bool = False  # this run moved the branch to this store at head office
    backup: str = ""  # the nightly run's backup file, if one was made
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    message: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- target


def default_target(store: Store) -> str:
    """Without a configured head office, a local SQLite file stands in (a one-PC demo)."""
    return f"sqlite:///{store.data_dir / EMBEDDED_NAME}"


def shown_url(url: str) -> str:
    """The target without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL is reported by connect()
        return url.split("@")[-1]


def connect(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise LobbyError(
            "bad_target",
            tr(
                f"总行地址“{shown_url(url)}”格式不对。应为 postgresql+psycopg://用户:密码@主机:端口/库名，"
                "或 sqlite:///文件路径"
            ),
            field="to",
        ) from exc
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, connect_args=timeouts.pg_connect_args(), pool_pre_ping=False)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": timeouts.SQLITE_BUSY_S})
        # SQLAlchemy issues BEGIN itself, so savepoints (quarantine) work with pysqlite
        event.listen(engine, "connect", _sqlite_autocommit_driver)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    raise LobbyError(
        "bad_target",
        tr(f"不支持的总行数据库“{parsed.get_backend_name()}”：请用 PostgreSQL 或 SQLite"),
        field="to",
    )


def _sqlite_autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def abandoned(target: str) -> LobbyError:
    return LobbyError(
        "timeout",
        tr(
            f"总行数据库 {target} 超过 {round(timeouts.STALL_S)} 秒没有响应（数据库卡住、被锁或网络不通），"
            "本次同步已放弃。本机数据完好，已确认上传的部分不会重复；网点主机稍后会自动重试，"
            "也可以运行 lobby-app sync。"
        ),
    )


def explain(exc: BaseException, target: str) -> LobbyError:
    """A database failure in plain Chinese, with what happens next."""
    raw = str(getattr(exc, "orig", None) or exc)
    low = raw.lower()
    after = tr("本机数据完好，已确认上传的部分不会重复；下次同步会从中断处继续。")
    if timeouts.is_timeout(exc):
        return LobbyError(
            "timeout",
            tr(
                f"总行数据库 {target} 在限定时间内没有完成操作（被其他会话锁住或过忙），"
                f"本次同步已放弃。{after}网点主机稍后会自动重试。"
            ),
        )
    if "password authentication failed" in low or ("role" in low and "does not exist" in low):
        return LobbyError(
            "auth_failed",
            tr(f"总行数据库拒绝登录（用户名或密码不对）：{target}。请核对同步地址。{after}"),
        )
    if "does not exist" in low and "database" in low:
        return LobbyError(
            "auth_failed", tr(f"总行数据库里没有这个库：{target}。请核对同步地址。{after}")
        )
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError)):
        return LobbyError(
            "rejected",
            tr(
                f"总行数据库拒收了数据：{raw.splitlines()[0][:200]}。请把此消息转给总行工程师。{after}"
            ),
        )
    if any(
        k in low
        for k in (
            "connection refused",
            "could not connect",
            "timeout",
            "timed out",
            "name or service",
        )
    ):
        return LobbyError(
            "unreachable", tr(f"连不上总行数据库 {target}（网络或服务未开）。{after}")
        )
    return LobbyError(
        "connection_lost", tr(f"与总行数据库的连接中断或出错：{raw.splitlines()[0][:200]}。{after}")
    )


# ---------------------------------------------------------------- local state


def _state(store: Store) -> dict[str, str]:
    with store.read() as s:
        return dict(s.execute(select(SyncState.key, SyncState.value)).all())


@contextmanager
def _local_write(store: Store, bulk: Connection | None = None) -> Iterator[Connection]:
    """A write transaction on the store's engine (Core), taking the lock at its start (on
    ``bulk``, a connection of ``_bulk_connection``, when given). The store's own trouble
    (busy, full disk) is said as the store's, not head office's."""
    from lobby_app.store.db import _environment_error

    try:
        if bulk is not None:
            with bulk.begin():
                yield bulk
        else:
            with store.engine.execution_options(immediate=True).begin() as conn:
                yield conn
    except OperationalError as exc:
        raise _environment_error(exc, store.db_path) from exc


@contextmanager
def _bulk_connection(store: Store) -> Iterator[Connection]:
    """The download's own connection to the store, for its many short transactions: each
    commit is written to the WAL without waiting for the disk (``synchronous=NORMAL``; the
    checkpoints still wait for it). A power cut can then undo the last transactions, never
    half of one, and each carries its own high-water mark: what is undone comes down again
    at the next sync. The lock is held for less time, so a ticket waits less. The
    connection is discarded at the end, never pooled with that setting."""
    conn = store.engine.connect()
    try:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA synchronous=NORMAL")
        yield conn.execution_options(immediate=True)
    finally:
        conn.invalidate()
        conn.close()


# ---------------------------------------------------------------- up


_TS_SUFFIX = "+00"


@dataclass(frozen=True)
class _Plan:
    table: str  # the branch's table
    target: Table
    columns: list[str]  # head-office columns filled from the branch row (same names)
    key: list[str]  # the head-office primary key without branch_code
    select_sql: str  # the branch's rows by key, in ``columns`` order
    ts: frozenset[str]
    bools: frozenset[str]
    key_idx: tuple[int, ...]  # where the key's columns are in ``columns``
    filled: frozenset[str]  # columns NOT NULL in the branch's table (never sent empty)


def _plans(engine: Engine) -> dict[str, _Plan]:
    from sqlalchemy import Boolean, DateTime, inspect

    out = {}
    described = {t: inspect(engine).get_columns(t) for t in ho.UP}
    local_cols = {t: {c["name"] for c in cols} for t, cols in described.items()}
    for table, target in ho.UP.items():
        cols = [
            c.name
            for c in target.columns
            if c.name not in ("branch_code", "synced_at")
            and (c.name in local_cols[table] or c.name == "customer_no")
        ]
        # a row that names a customer by id travels with the customer's number as it is now;
        # a table with its own customer_no (registration) sends that
        joined_no = "customer_no" not in local_cols[table]
        key = [c.name for c in target.primary_key.columns if c.name != "branch_code"]
        picks = []
        for c in cols:
            if c == "customer_no" and joined_no:
                picks.append("(select customer_no from customer where customer.id = t.customer_id)")
            else:
                picks.append(f"t.{c}")
        # composite keys are looked up by their first column (indexed), then filtered
        # (the change log keeps keys as text: an integer key is compared as text)
        int_key = isinstance(target.c[key[0]].type, Integer)
        keyexpr = f"CAST(t.{key[0]} AS TEXT)" if int_key else f"t.{key[0]}"
        picks += [f"t.{k}" for k in key]
        select_sql = f"select {', '.join(picks)} from {table} t where {keyexpr} in ({{marks}})"
        out[table] = _Plan(
            table,
            target,
            cols,
            key,
            select_sql,
            frozenset(c.name for c in target.columns if isinstance(c.type, DateTime)),
            frozenset(c.name for c in target.columns if isinstance(c.type, Boolean)),
            tuple(cols.index(k) for k in key),
            frozenset(c["name"] for c in described[table] if not c["nullable"]),
        )
    return out


def _fetch_rows(conn: Connection, plan: _Plan, keys: Sequence[str]) -> list[tuple[Any, ...]]:
    """The branch's rows for these keys, as they are now (a key whose row is gone is skipped:
    its deletion is a later change)."""
    rows: list[tuple[Any, ...]] = []
    raw = conn.connection.driver_connection
    assert raw is not None
    n = len(plan.columns)
    composite = len(plan.key) > 1
    wanted = set(keys)
    lookups = sorted({k.split("|", 1)[0] for k in keys}) if composite else list(keys)
    for i in range(0, len(lookups), IN_CHUNK):
        chunk = lookups[i : i + IN_CHUNK]
        sql = plan.select_sql.format(marks=", ".join("?" * len(chunk)))
        for r in raw.execute(sql, chunk):
            if composite and "|".join(str(v) for v in r[n:]) not in wanted:
                continue
            rows.append(r[:n])
    return rows


def _for_target(
    plan: _Plan, rows: list[tuple[Any, ...]], branch: str, pg: bool
) -> list[tuple[Any, ...]]:
    """Branch rows as head office stores them: branch code first, booleans as booleans,
    UTC timestamps marked as such for PostgreSQL."""
    ts_idx = [i for i, c in enumerate(plan.columns) if c in plan.ts]
    bool_idx = [i for i, c in enumerate(plan.columns) if c in plan.bools]
    out = []
    for r in rows:
        v = list(r)
        for i in bool_idx:
            if v[i] is not None:
                v[i] = bool(v[i])
        if pg:
            for i in ts_idx:
                if v[i] is not None:
                    v[i] = f"{v[i]}{_TS_SUFFIX}"
        out.append((branch, *v))
    return out


def _write_pg(
    conn: Connection, plan: _Plan, rows: list[tuple[Any, ...]], insert_only: bool = False
) -> None:
    cols = ["branch_code", *plan.columns]
    name = plan.target.name
    stage = f"stage_{name}"
    keys = ["branch_code", *plan.key]
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(
            f"create temp table if not exists {stage} (like {name} including defaults)"
            " on commit delete rows"
        )
        with cur.copy(f"copy {stage} ({', '.join(cols)}) from stdin") as cp:
            for row in rows:
                cp.write_row(row)
        sets = ", ".join(
            [*(f"{c} = excluded.{c}" for c in cols if c not in keys), "synced_at = now()"]
        )
        action = "do nothing" if insert_only else f"do update set {sets}"
        cur.execute(
            f"insert into {name} ({', '.join(cols)}) select {', '.join(cols)} from {stage}"
            f" on conflict ({', '.join(keys)}) {action}"
        )
        cur.execute(f"truncate {stage}")


def _write_generic(
    conn: Connection, plan: _Plan, rows: list[tuple[Any, ...]], insert_only: bool = False
) -> None:
    cols = ["branch_code", *plan.columns]
    keys = ["branch_code", *plan.key]
    sets = ", ".join(
        [*(f"{c} = excluded.{c}" for c in cols if c not in keys), "synced_at = CURRENT_TIMESTAMP"]
    )
    action = "do nothing" if insert_only else f"do update set {sets}"
    sql = (
        f"insert into {plan.target.name} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})"
        f" on conflict ({', '.join(keys)}) {action}"
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.executemany(sql, rows)


def _delete_rows(conn: Connection, plan: _Plan, branch: str, keys: Sequence[str]) -> None:
    t = plan.target
    key_cols = [t.c[k] for k in plan.key]
    values = []
    for k in keys:
        parts = k.split("|") if len(plan.key) > 1 else [k]
        values.append(
            tuple(
                int(v) if isinstance(col.type, Integer) else v
                for v, col in zip(parts, key_cols, strict=True)
            )
        )
    for i in range(0, len(values), IN_CHUNK):
        chunk = values[i : i + IN_CHUNK]
        if len(key_cols) == 1:
            cond = key_cols[0].in_([v[0] for v in chunk])
        else:
            cond = tuple_(*key_cols).in_(chunk)
        conn.execute(delete(t).where(t.c.branch_code == branch, cond))


def _row_key(plan: _Plan, row: Sequence[Any], offset: int = 0) -> str:
    """A row's change-log key (``offset`` 1 for a row shaped for head office)."""
    return "|".join(str(row[plan.key_idx[i] + offset]) for i in range(len(plan.key)))


# ---------------------------------------------------------------- who sends


@dataclass(frozen=True)
class _Link:
    """This run's standing at head office: the epoch it sends as and head office's mark."""

    ident: Identity
    high_water: int
    kept_until: str  # ISO date: head office keeps rows up to this date the store lacks


_FORKED = tr(
    "本机数据库是从备份恢复的（或被旧的副本覆盖）：它的同步进度落后于总行已确认的进度。"
    "已开始新的同步纪元，总行缺少的数据已重新上传；总行已有的记录（含恢复前上传的）保留不动。"
)


def _today(st: BranchSettings) -> str:
    return utcnow().astimezone(st.tz).date().isoformat()


def _open_link(
    store: Store,
    target: Engine,
    branch: str,
    st: BranchSettings,
    result: SyncResult,
    take_over: bool,
) -> _Link:
    """Find out where this store stands at head office, start a new epoch if its history
    forked, queue what head office lacks, and claim the branch code (or be refused)."""
    identity.check_branch_code(branch)
    ident, started = identity.local_identity(store, branch)
    with target.connect() as c:
        row = identity.epoch_row(c, branch, ident)
        legacy = identity.legacy_mark(c, branch) if row is None else None
    state = _state(store)
    acked = int(state.get("up_high_water", "0"))
    pruned = int(state.get("up_pruned_to", "0"))
    resend: str | None = None  # 'i': what head office lacks; 'u': everything, as it is here
    start_mark = 0
    if row is not None:
        with store.engine.connect() as lc:
            fork = identity.forked(lc, int(row["high_water"]), str(row["last_change"]), acked)
        if fork:
            with _local_write(store) as lc:
                identity.start_epoch(lc, "restored", branch, store.data_dir)
            ident, started = identity.local_identity(store, branch)[0], "restored"
            row = None
            log.warning("sync: the store forked from what head office acknowledged")
            result.warnings.append(_FORKED)
        elif int(row["high_water"]) < pruned:
            resend = "u"
            result.warnings.append(
                tr(
                    f"总行记录的同步进度（{row['high_water']}）落后于本机已确认的进度（{pruned}），"
                    "本次重传全部数据"
                )
            )
    if row is None:
        if ident.registered:  # head office lost this epoch (restored from its backup)
            resend = "u"
            result.warnings.append(
                tr("总行没有本机同步进度的记录（总行数据库可能从备份恢复过），本次重传全部数据")
            )
        elif legacy is not None and legacy == acked > 0:
            start_mark = legacy  # the same history an older program was sending
        elif pruned > 0 or (legacy is not None and legacy > acked):
            resend = "i"
            if started in (None, "new", "branch_changed") and legacy is not None:
                result.warnings.append(_FORKED)
    with _local_write(store) as lc:
        if resend == "i":
            _queue_every_row(lc, "i")
            put_state(lc, {"up_high_water": "0", "up_pruned_to": "0", "kept_until": _today(st)})
        elif resend == "u":
            _queue_every_row(lc, "u")
        quarantine.requeue(lc)
    how = identity.TAKE_OVER if take_over else (ident.take_over or None)
    with target.begin() as conn:
        claimed = identity.claim(conn, branch, st, ident, take_over=how, start_mark=start_mark)
    with _local_write(store) as lc:
        done = {"epoch_registered": "1", "take_over": ""}
        if claimed.created and claimed.branch_known and start_mark == 0:
            # head office had this branch's rows before this epoch: it keeps those the store
            # lacks (a restore, a new PC)
            done["kept_until"] = _today(st)
        put_state(lc, done)
        if claimed.took_over_from is not None:
            detail = tr(
                f"网点 {branch} 在总行改由本机上传（方式 {claimed.how}，原主机 "
                f"{claimed.took_over_from or '未知'}，本机 {ident.host}，纪元 {ident.short}）"
            )
            lc.execute(
                text(
                    "insert into audit_event (id, at, actor, action, detail)"
                    " values (:id, :at, 'sync', 'sync_take_over', :d)"
                ),
                {"id": _new_id(), "at": utcnow().replace(tzinfo=None), "d": detail},
            )
    result.warnings += claimed.notes
    if claimed.took_over_from is not None:
        result.took_over = True
        result.warnings.append(
            tr(
                f"已接管网点 {branch}：此前由主机 {claimed.took_over_from or '未知'} 上传，"
                "总行已记录此次接管；旧主机此后同步会被拒绝"
            )
        )
    result.store_id, result.epoch = ident.store_id, ident.epoch
    kept = _state(store).get("kept_until", "")
    return _Link(ident, claimed.high_water, kept)


def _new_id() -> str:
    from lobby_app.models.base import new_id

    return new_id()


# ---------------------------------------------------------------- up


def _up(
    store: Store,
    target: Engine,
    link: _Link,
    branch: str,
    result: SyncResult,
    plans: dict[str, _Plan],
) -> _Link:
    pg = target.dialect.name == "postgresql"
    writer = _write_pg if pg else _write_generic
    hw = link.high_water
    ident = link.ident
    local = store.engine.connect()
    try:
        held = {
            t: set(r)
            for t, r in _group(
                local.execute(text("select tbl, row_id from sync_quarantine")).all()
            ).items()
        }
        local.rollback()
        while True:
            batch = local.execute(
                text(
                    "select seq, tbl, row_id, op from change_log where seq > :hw order by seq limit :n"
                ),
                {"hw": hw, "n": BATCH},
            ).all()
            local.rollback()  # end the read: a long sync must not hold SQLite's snapshot
            if not batch:
                break
            last = batch[-1]
            latest: dict[tuple[str, str], str] = {}
            for _, tbl, row_id, op in batch:
                # 'i' (insert when head office lacks it) never hides a change or a deletion
                if op == "i" and (tbl, row_id) in latest:
                    continue
                latest[(tbl, row_id)] = op
            todo: dict[tuple[str, str], list[str]] = {}
            for (tbl, row_id), op in latest.items():
                todo.setdefault((tbl, op), []).append(row_id)
            refused: list[Refused] = []
            released: dict[str, set[str]] = {}
            with target.begin() as conn:
                for table, plan in plans.items():
                    for op, insert_only in (("u", False), ("i", True)):
                        keys = todo.get((table, op), [])
                        if not keys:
                            continue
                        rows = _fetch_rows(local, plan, keys)
                        local.rollback()
                        bad = _send(conn, plan, rows, branch, pg, writer, insert_only)
                        sent = len(rows) - len(bad)
                        if sent:
                            result.uploaded[table] = result.uploaded.get(table, 0) + sent
                        refused += [Refused(table, k, why) for k, why in bad]
                        if table in held:
                            bad_keys = {k for k, _ in bad}
                            released.setdefault(table, set()).update(
                                k for k in keys if k in held[table] and k not in bad_keys
                            )
                    dels = todo.get((table, "d"), [])
                    if dels:
                        _delete_rows(conn, plan, branch, dels)
                        result.deleted[table] = result.deleted.get(table, 0) + len(dels)
                        if table in held:
                            released.setdefault(table, set()).update(
                                k for k in dels if k in held[table]
                            )
                _move_mark(conn, branch, ident, last)
                if refused or released:
                    # the store's record first: if head office's commit then fails, the rows
                    # are still in the change log and go again
                    with _local_write(store) as lc:
                        quarantine.record(lc, refused)
                        for table, keys_done in released.items():
                            quarantine.release(lc, table, keys_done)
                    for r in refused:
                        held.setdefault(r.table, set()).add(r.row_id)
                    for table, keys_done in released.items():
                        held[table] -= keys_done
            hw = last[0]
            result.batches += 1
        result.high_water = hw
    finally:
        local.close()
    with _local_write(store) as lc:
        lc.execute(text("delete from change_log where seq <= :hw"), {"hw": hw})
        put_state(lc, {"up_high_water": str(hw), "up_pruned_to": str(hw)})
    return _Link(ident, hw, link.kept_until)


def _group(rows: Iterable[Sequence[Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t, k in rows:
        out.setdefault(t, []).append(k)
    return out


def _send(
    conn: Connection,
    plan: _Plan,
    rows: list[tuple[Any, ...]],
    branch: str,
    pg: bool,
    writer: Any,
    insert_only: bool,
) -> list[tuple[str, str]]:
    """Write the rows head office will take; return (key, reason) of those it refuses."""
    bad: list[tuple[str, str]] = []
    good = []
    check = quarantine.checker(plan.target, tuple(plan.columns), plan.filled)
    for r in rows:
        why = check(r)
        if why is None:
            good.append(r)
        else:
            bad.append((_row_key(plan, r), why))
    shaped = _for_target(plan, good, branch, pg)
    refused = quarantine.write_isolated(
        conn, shaped, lambda chunk: writer(conn, plan, chunk, insert_only)
    )
    bad += [(_row_key(plan, r, 1), why) for r, why in refused]
    if bad:
        log.warning("sync: %d %s rows refused by head office, quarantined", len(bad), plan.table)
    return bad


def _move_mark(conn: Connection, branch: str, ident: Identity, last: Sequence[Any]) -> None:
    """Head office's mark for this epoch, in the batch's transaction; refused if another
    store took the branch over meanwhile."""
    b = ho.branch
    moved = conn.execute(
        update(b)
        .where(
            b.c.branch_code == branch,
            b.c.owner_store_id == ident.store_id,
            b.c.owner_epoch == ident.epoch,
        )
        .values(high_water=last[0], last_sync_at=func.now(), client_version=__version__)
    )
    if moved.rowcount != 1:
        raise LobbyError(
            "branch_claimed",
            tr(
                f"同步期间网点 {branch} 在总行被另一台主机接管，本次上传已停止。"
                "本机数据完好，待上传的数据都保留在本机。"
            ),
        )
    e = ho.store_epoch
    conn.execute(
        update(e)
        .where(e.c.branch_code == branch, e.c.store_id == ident.store_id, e.c.epoch == ident.epoch)
        .values(
            high_water=last[0],
            last_change=identity.change_token(*last),
            last_sync_at=func.now(),
            client_version=__version__,
        )
    )


def _requeue_all(store: Store) -> None:
    """Send every row again, as it is here (also used by bench.bench_sync)."""
    with _local_write(store) as lc:
        _queue_every_row(lc, "u")


def _queue_every_row(lc: Connection, op: str) -> None:
    """Queue every row of every up table (``op`` 'u': send as it is here; 'i': insert where
    head office lacks it)."""
    from lobby_app.models.sync import UP_TABLES

    for table, key in UP_TABLES.items():
        lc.execute(
            text(
                f"insert into change_log (tbl, row_id, op) select '{table}', {key.format(r=table)},"
                f" :op from {table}"
            ),
            {"op": op},
        )


def _requeue_date(
    store: Store, day: str, extra_visits: Iterable[str], extra_refs: Iterable[str]
) -> None:
    """Send one business date again in full, and delete at head office what the branch
    does not have."""
    with _local_write(store) as lc:
        for sql in (
            "insert into change_log (tbl, row_id, op) select 'ticket', id, 'u' from ticket"
            " where business_date = :d",
            "insert into change_log (tbl, row_id, op) select 'ticket_need', n.ticket_id || '|' || n.tag,"
            " 'u' from ticket_need n join ticket t on t.id = n.ticket_id where t.business_date = :d",
            "insert into change_log (tbl, row_id, op) select 'ticket_event', e.id, 'u'"
            " from ticket_event e join ticket t on t.id = e.ticket_id where t.business_date = :d",
            "insert into change_log (tbl, row_id, op) select 'referral', id, 'u' from referral"
            " where business_date = :d",
            "insert into change_log (tbl, row_id, op) select 'referral_credit',"
            " c.referral_id || '|' || c.staff_no, 'u' from referral_credit c"
            " join referral r on r.id = c.referral_id where r.business_date = :d",
            "insert into change_log (tbl, row_id, op) select 'day_close', id, 'u' from day_close"
            " where business_date = :d",
        ):
            lc.execute(text(sql), {"d": day})
        for vid in extra_visits:
            lc.execute(
                text("insert into change_log (tbl, row_id, op) values ('ticket', :i, 'd')"),
                {"i": vid},
            )
        for rid in extra_refs:
            lc.execute(
                text("insert into change_log (tbl, row_id, op) values ('referral', :i, 'd')"),
                {"i": rid},
            )


def _counts_local(store: Store, table: str) -> dict[str, int]:
    with store.engine.connect() as c:
        return {
            str(d): int(n)
            for d, n in c.execute(
                text(f"select business_date, count(*) from {table} group by business_date")
            )
        }


def _counts_ho(target: Engine, t: Table, branch: str) -> dict[str, int]:
    with target.connect() as c:
        return {
            str(d): int(n)
            for d, n in c.execute(
                select(t.c.business_date, func.count())
                .where(t.c.branch_code == branch)
                .group_by(t.c.business_date)
            )
        }


def _ids_local(store: Store, table: str, day: str) -> set[str]:
    with store.engine.connect() as c:
        return set(
            c.execute(
                text(f"select id from {table} where business_date = :d"), {"d": day}
            ).scalars()
        )


def _ids_ho(target: Engine, t: Table, branch: str, day: str) -> set[str]:
    with target.connect() as c:
        return set(
            c.execute(
                select(t.c.id).where(
                    t.c.branch_code == branch,
                    t.c.business_date == datetime.fromisoformat(day).date(),
                )
            ).scalars()
        )


def _held(store: Store, table: str) -> set[str]:
    with store.engine.connect() as c:
        return quarantine.held(c, table)


def _requeue_registrations(store: Store, gone: Iterable[str]) -> None:
    with _local_write(store) as lc:
        lc.execute(
            text(
                "insert into change_log (tbl, row_id, op) select 'registration', id, 'u'"
                " from registration"
            )
        )
        for rid in gone:
            lc.execute(
                text("insert into change_log (tbl, row_id, op) values ('registration', :i, 'd')"),
                {"i": rid},
            )


def _registrations_differ(
    store: Store, target: Engine, branch: str, kept: bool
) -> tuple[set[str], set[str]] | None:
    """None when both sides agree; else (the registrations head office lacks, those it has and
    the branch does not). A quarantined one is not missing; with ``kept`` (after a restore)
    head office keeps what the branch lacks."""
    with store.engine.connect() as c:
        mine = set(c.execute(text("select id from registration")).scalars())
    reg = ho.registration
    with target.connect() as c:
        n = c.execute(
            select(func.count()).select_from(reg).where(reg.c.branch_code == branch)
        ).scalar()
        if n == len(mine):
            return None
        theirs = set(c.execute(select(reg.c.id).where(reg.c.branch_code == branch)).scalars())
    missing = mine - theirs - _held(store, "registration")
    extra = set() if kept else theirs - mine
    return (missing, extra) if missing or extra else None


def _check_and_repair(
    store: Store,
    target: Engine,
    link: _Link,
    branch: str,
    result: SyncResult,
    plans: dict[str, _Plan],
) -> _Link:
    """Count both sides per business date; where they differ, compare the rows and send the
    date again in full, deleting at head office what the branch does not have. Not a
    difference: a quarantined row head office lacks (it is reported as such), and, for dates
    up to a restore (``kept_until``), rows head office has that the store lacks: they may be
    the only copy of what the branch did before its store was put back."""
    kept = link.kept_until
    candidates: set[str] = set()
    for local_table, t in (("ticket", ho.visit), ("referral", ho.referral)):
        mine, theirs = _counts_local(store, local_table), _counts_ho(target, t, branch)
        candidates |= {d for d in set(mine) | set(theirs) if mine.get(d, 0) != theirs.get(d, 0)}
    held = {"ticket": _held(store, "ticket"), "referral": _held(store, "referral")}
    repairs: dict[str, tuple[set[str], set[str]]] = {}
    for d in sorted(candidates):
        keeps = bool(kept) and d <= kept
        gone: dict[str, set[str]] = {}
        differs = False
        for local_table, t in (("ticket", ho.visit), ("referral", ho.referral)):
            mine_ids, ho_ids = _ids_local(store, local_table, d), _ids_ho(target, t, branch, d)
            missing = mine_ids - ho_ids - held[local_table]
            gone[local_table] = set() if keeps else ho_ids - mine_ids
            differs = differs or bool(missing or gone[local_table])
        if differs:
            repairs[d] = (gone["ticket"], gone["referral"])
    differ = _registrations_differ(store, target, branch, bool(kept))
    if differ is not None:
        _requeue_registrations(store, differ[1])
        log.warning("sync: registration counts differed; sent again")
        result.warnings.append(tr("总行的登记客户笔数与本机不一致，已重新上传全部登记"))
    if not repairs:
        if differ is not None:
            link = _up(store, target, link, branch, result, plans)
        return link
    for d, (extra_visits, extra_refs) in repairs.items():
        _requeue_date(store, d, extra_visits, extra_refs)
        result.repaired_dates.append(d)
    bad = sorted(repairs)
    log.warning("sync: counts differed on %s; sent again", ", ".join(bad))
    result.warnings.append(tr(f"以下营业日两边笔数不一致，已重新上传：{'、'.join(bad)}"))
    return _up(store, target, link, branch, result, plans)


# ---------------------------------------------------------------- down


def _down(store: Store, target: Engine, branch: str, result: SyncResult) -> None:
    """Each table's rows newer than the branch's mark, read from head office in pages of
    ``DOWN_BATCH`` by version (an index range: branch code and version), applied in local
    transactions sized to take about ``LOCAL_TX_S`` each, every one moving the mark to the
    last version it applied: a run stopped anywhere goes on from the last committed one."""
    with _bulk_connection(store) as bulk:
        _down_tables(store, target, branch, result, bulk)


def _down_tables(
    store: Store, target: Engine, branch: str, result: SyncResult, bulk: Connection
) -> None:
    from lobby_app.store import downsync

    state = _state(store)
    pinyin = downsync.PinyinCache()
    for t in ho.DOWN:
        hw = int(state.get(f"down_{t.name}", "0"))
        customers = t is ho.customer_directory
        cols = [t.c[n] for n in downsync.DIRECTORY_COLUMNS] if customers else list(t.c)
        size = LOCAL_ROWS[0]
        while True:
            q = select(*cols).where(t.c.version > hw).order_by(t.c.version).limit(DOWN_BATCH)
            if "branch_code" in t.c:
                q = q.where(t.c.branch_code == branch)
            with target.connect() as c:
                res = c.execute(q)
                keys = list(res.keys())
                rows = [dict(zip(keys, r, strict=True)) for r in res]
            if not rows:
                break
            with target.connect() as c:
                everything = (
                    [dict(r._mapping) for r in c.execute(select(t).where(t.c.deleted.is_(False)))]
                    if t is ho.marketing_sentence
                    else None
                )
            done = 0
            while done < len(rows):
                # the directory in time-sized pieces; the small tables a page at a time
                part = rows[done : done + size] if customers else rows
                with store.engine.connect() as rc:
                    names = downsync.prepare(rc, t.name, part, pinyin)
                hw = max(int(r["version"]) for r in part)
                started = time.perf_counter()
                with _local_write(store, bulk) as lc:
                    downsync.apply(lc, t.name, part, everything, names)
                    put_state(lc, {f"down_{t.name}": str(hw)})
                size = _next_size(size, len(part), time.perf_counter() - started)
                done += len(part)
                result.downloaded[t.name] = result.downloaded.get(t.name, 0) + len(part)
            if len(rows) < DOWN_BATCH:
                break


def _next_size(size: int, rows: int, took: float) -> int:
    """Rows for the next local transaction: as many as ``LOCAL_TX_S`` allows at the pace
    of the last one (halfway there at a time, within ``LOCAL_ROWS``)."""
    if rows < size:
        return size
    fit = rows * LOCAL_TX_S / max(took, 1e-3)
    return int(min(LOCAL_ROWS[1], max(LOCAL_ROWS[0], (size + fit) / 2)))


# ---------------------------------------------------------------- run


def _clock_check(target: Engine, result: SyncResult) -> None:
    if target.dialect.name != "postgresql":
        return
    with target.connect() as c:
        theirs = c.execute(text("select now()")).scalar()
    ours = datetime.now(UTC)
    if theirs is not None and abs((theirs - ours).total_seconds()) > CLOCK_SKEW_WARN_S:
        gap = round(abs((theirs - ours).total_seconds()) / 60)
        result.warnings.append(
            tr(
                f"本机时钟与总行相差约 {gap} 分钟：同步不受影响，但票上的时间可能不准，请校准本机时间"
            )
        )


def run_sync(
    store: Store,
    url: str | None = None,
    *,
    direction: str = "both",
    now: datetime | None = None,
    take_over: bool = False,
) -> SyncResult:
    """Sync once. Never raises for the head office's troubles: the result says what happened
    (``status`` failed, ``error`` code, ``message``), and the state records it for the desk.
    ``take_over``: this store takes the branch code over at head office from the store that
    sent it so far (a new PC; recorded at head office and in the audit)."""
    if direction not in ("up", "down", "both"):
        raise LobbyError("bad_direction", tr("同步方向应为 up、down 或 both"), field="direction")
    started = time.perf_counter()
    with store.read() as s:
        st = load_settings(s)
    url = url or st.sync_url or default_target(store)
    result = SyncResult(target=shown_url(url), direction=direction)
    branch = st.branch_code
    engine: Engine | None = None
    try:
        engine = connect(url)
        with timeouts.Watchdog(engine, timeouts.STALL_S) as watchdog:
            try:
                # the branch's own embedded head office follows this program's schema
                ensure_ready(engine, upgrade_older=url == default_target(store))
                _clock_check(engine, result)
                plans = _plans(store.engine)
                link = _open_link(store, engine, branch, st, result, take_over)
                if direction in ("up", "both"):
                    link = _up(store, engine, link, branch, result, plans)
                    link = _check_and_repair(store, engine, link, branch, result, plans)
                if direction in ("down", "both"):
                    _down(store, engine, branch, result)
                    if direction == "both" and result.downloaded:
                        # what the download changed here (a removed customer detached from
                        # the visits that named them) goes up in the same run
                        _up(store, engine, link, branch, result, plans)
            except (DBAPIError, SQLAlchemyError, sqlite3.Error, psycopg.Error) as exc:
                if watchdog.fired:
                    raise abandoned(result.target) from exc
                raise explain(exc, result.target) from exc
            except OSError as exc:
                if watchdog.fired:
                    raise abandoned(result.target) from exc
                raise LobbyError("connection_lost", tr(f"同步中断：{exc}")) from exc
    except LobbyError as exc:
        result.status, result.error, result.message = "failed", exc.code, exc.message
        log.warning("sync to %s failed: %s (%s)", result.target, exc.code, exc.message)
    finally:
        if engine is not None:
            engine.dispose()
    result.seconds = round(time.perf_counter() - started, 3)
    with store.engine.connect() as c:
        result.quarantined, result.quarantine = quarantine.listing(c)
    if result.quarantined and result.status != "failed":
        result.warnings.append(_quarantine_note(result.quarantined, result.quarantine))
    at = (now or utcnow()).isoformat()
    record = {
        "last_attempt_at": at,
        "last_result": json.dumps(result.as_json(), ensure_ascii=False),
    }
    if result.status != "failed":
        if result.warnings:
            result.status = "warning"
        moved = sum(result.uploaded.values()) + sum(result.downloaded.values())
        result.message = result.message or tr(
            f"同步完成：上传 {sum(result.uploaded.values())} 行，下载 {sum(result.downloaded.values())} 行"
            if moved
            else "同步完成：没有需要传送的数据"
        )
        record["last_success_at"] = at
        record["last_error"] = ""
    else:
        record["last_error"] = result.message
    with _local_write(store) as lc:
        put_state(lc, record)
    return result


def _quarantine_note(n: int, first: list[dict[str, Any]]) -> str:
    """What the person reads about the quarantine: how many rows, the first reason, what to do."""
    why = first[0]["reason"] if first else ""
    return tr(
        f"{n} 行数据被总行拒收，已隔离在本机（其余数据已正常上传）：{why}。"
        "请修正这些数据（或请总行放宽限制），之后每次同步都会自动重传。"
    )


def run_nightly(store: Store) -> SyncResult:
    """The hub's nightly run: a backup of the store (kept with the last ones), then the sync.
    A failed backup is reported but does not stop the sync."""
    from lobby_app.store import backup

    made = ""
    problem = ""
    try:
        made_backup = backup.nightly_backup(store)
        made = str(made_backup.path) if made_backup is not None else ""
    except LobbyError as exc:
        problem = exc.message
        log.warning("nightly backup failed: %s", exc.message)
    result = run_sync(store)
    result.backup = made
    if problem:
        result.warnings.append(tr(f"夜间备份失败：{problem}"))
        if result.status == "ok":
            result.status = "warning"
    return result


@dataclass(frozen=True)
class SyncStatus:
    last_success_at: str | None
    last_attempt_at: str | None
    last_error: str
    pending: int
    target: str
    due_at: str  # the most recent scheduled time (ISO, UTC)
    missed: bool
    # rows head office refused, held in the store (sent again at every sync)
    quarantined: int = 0
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    store_id: str = ""
    epoch: str = ""
    last_backup_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def quarantine_note(self) -> str:
        return _quarantine_note(self.quarantined, self.quarantine) if self.quarantined else ""


def sync_status(store: Store, *, now: datetime | None = None) -> SyncStatus:
    from lobby_app.sync.schedule import last_due

    now = now or utcnow()
    state = _state(store)
    with store.read() as s:
        st = load_settings(s)
        # quarantined rows are counted apart (they are requeued at each sync)
        pending = int(s.scalar(text("select count(*) from change_log")) or 0)
        held, first = quarantine.listing(s.connection())
    due = last_due(now, st)
    last = state.get("last_success_at")
    last_dt = datetime.fromisoformat(last) if last else None
    # missed: a scheduled night before the latest passed without a success, or the latest
    # is more than an hour gone (the sync takes minutes at most)
    from datetime import timedelta

    earlier = due - timedelta(days=1)
    missed = last_dt is None and (now - due).total_seconds() > 3600
    if last_dt is not None:
        missed = last_dt < earlier or (last_dt < due and (now - due).total_seconds() > 3600)
    return SyncStatus(
        last_success_at=last,
        last_attempt_at=state.get("last_attempt_at"),
        last_error=state.get("last_error", ""),
        pending=pending,
        target=shown_url(st.sync_url or default_target(store)),
        due_at=due.isoformat(),
        missed=missed,
        quarantined=held,
        quarantine=first,
        store_id=state.get("store_id", ""),
        epoch=state.get("epoch", ""),
        last_backup_at=state.get("last_backup_at"),
    )
