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
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
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
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from lobby_app import __version__
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.headoffice import schema as ho
from lobby_app.headoffice.migrate import ensure_ready
from lobby_app.models import SyncState
from lobby_app.models.base import utcnow
from lobby_app.store.db import Store
from lobby_app.store.setup import load_settings

log = logging.getLogger(__name__)

BATCH = 5000  # changes per head-office transaction
DOWN_BATCH = 2000
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
        return create_engine(
            parsed,
            connect_args={"connect_timeout": 10, "application_name": "lobby-app sync"},
            pool_pre_ping=False,
        )
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(parsed)
    raise LobbyError(
        "bad_target",
        tr(f"不支持的总行数据库“{parsed.get_backend_name()}”：请用 PostgreSQL 或 SQLite"),
        field="to",
    )


def explain(exc: BaseException, target: str) -> LobbyError:
    """A database failure in plain Chinese, with what happens next."""
    raw = str(getattr(exc, "orig", None) or exc)
    low = raw.lower()
    after = tr("本机数据完好，已确认上传的部分不会重复；下次同步会从中断处继续。")
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


def _put_state(conn: Connection, values: dict[str, str]) -> None:
    for k, v in values.items():
        conn.execute(
            text(
                "insert into sync_state (key, value) values (:k, :v)"
                " on conflict (key) do update set value = excluded.value"
            ),
            {"k": k, "v": v},
        )


def _local_write(store: Store) -> Any:
    """A write transaction on the store's engine (Core), taking the lock at its start."""
    return store.engine.execution_options(immediate=True).begin()


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


def _plans(engine: Engine) -> dict[str, _Plan]:
    from sqlalchemy import Boolean, DateTime, inspect

    out = {}
    local_cols = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in ho.UP}
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


def _write_pg(conn: Connection, plan: _Plan, rows: list[tuple[Any, ...]]) -> None:
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
        cur.execute(
            f"insert into {name} ({', '.join(cols)}) select {', '.join(cols)} from {stage}"
            f" on conflict ({', '.join(keys)}) do update set {sets}"
        )
        cur.execute(f"truncate {stage}")


def _write_generic(conn: Connection, plan: _Plan, rows: list[tuple[Any, ...]]) -> None:
    cols = ["branch_code", *plan.columns]
    keys = ["branch_code", *plan.key]
    sets = ", ".join(
        [*(f"{c} = excluded.{c}" for c in cols if c not in keys), "synced_at = CURRENT_TIMESTAMP"]
    )
    sql = (
        f"insert into {plan.target.name} ({', '.join(cols)}) values ({', '.join('?' * len(cols))})"
        f" on conflict ({', '.join(keys)}) do update set {sets}"
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


def _ensure_branch(conn: Connection, branch: str, st: Any) -> int:
    hw = conn.execute(
        select(ho.branch.c.high_water).where(ho.branch.c.branch_code == branch)
    ).scalar()
    if hw is None:
        conn.execute(
            insert(ho.branch).values(
                branch_code=branch,
                bank_name=st.bank_name,
                branch_name=st.branch_name,
                timezone=st.timezone,
                high_water=0,
                first_sync_at=utcnow(),
                client_version=__version__,
            )
        )
        return 0
    return int(hw)


def _up(
    store: Store, target: Engine, branch: str, result: SyncResult, plans: dict[str, _Plan]
) -> None:
    pg = target.dialect.name == "postgresql"
    with store.read() as s:
        st = load_settings(s)
    with target.begin() as conn:
        hw = _ensure_branch(conn, branch, st)
        conn.execute(
            update(ho.branch)
            .where(ho.branch.c.branch_code == branch)
            .values(bank_name=st.bank_name, branch_name=st.branch_name, timezone=st.timezone)
        )
    local = store.engine.connect()
    try:
        pruned_to = int(_state(store).get("up_pruned_to", "0"))
        if hw < pruned_to:
            # head office lost what it had acknowledged (restored from a backup): send all again
            result.warnings.append(
                tr(
                    f"总行记录的同步进度（{hw}）落后于本机已确认的进度（{pruned_to}），本次重传全部数据"
                )
            )
            _requeue_all(store)
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
            last = batch[-1][0]
            latest: dict[tuple[str, str], str] = {}
            for _, tbl, row_id, op in batch:
                latest[(tbl, row_id)] = op
            with target.begin() as conn:
                for table, plan in plans.items():
                    ups = [rid for (t, rid), op in latest.items() if t == table and op == "u"]
                    dels = [rid for (t, rid), op in latest.items() if t == table and op == "d"]
                    if ups:
                        rows = _fetch_rows(local, plan, ups)
                        local.rollback()
                        if rows:
                            shaped = _for_target(plan, rows, branch, pg)
                            (_write_pg if pg else _write_generic)(conn, plan, shaped)
                            result.uploaded[table] = result.uploaded.get(table, 0) + len(rows)
                    if dels:
                        _delete_rows(conn, plan, branch, dels)
                        result.deleted[table] = result.deleted.get(table, 0) + len(dels)
                conn.execute(
                    update(ho.branch)
                    .where(ho.branch.c.branch_code == branch)
                    .values(high_water=last, last_sync_at=func.now(), client_version=__version__)
                )
            hw = last
            result.batches += 1
        result.high_water = hw
    finally:
        local.close()
    with _local_write(store) as lc:
        lc.execute(text("delete from change_log where seq <= :hw"), {"hw": hw})
        _put_state(lc, {"up_high_water": str(hw), "up_pruned_to": str(hw)})


def _requeue_all(store: Store) -> None:
    from lobby_app.models.sync import UP_TABLES

    with _local_write(store) as lc:
        for table, key in UP_TABLES.items():
            lc.execute(
                text(
                    f"insert into change_log (tbl, row_id, op) select '{table}', {key.format(r=table)}, 'u'"
                    f" from {table}"
                )
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


def _registrations_gone(store: Store, target: Engine, branch: str) -> set[str] | None:
    """None when both sides hold as many registrations; else the ids head office has and the
    branch does not."""
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
    return theirs - mine


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


def _check_and_repair(
    store: Store, target: Engine, branch: str, result: SyncResult, plans: dict[str, _Plan]
) -> None:
    bad: set[str] = set()
    for local_table, t in (("ticket", ho.visit), ("referral", ho.referral)):
        mine, theirs = _counts_local(store, local_table), _counts_ho(target, t, branch)
        for d in set(mine) | set(theirs):
            if mine.get(d, 0) != theirs.get(d, 0):
                bad.add(d)
    gone = _registrations_gone(store, target, branch)
    if gone is not None:
        _requeue_registrations(store, gone)
        log.warning("sync: registration counts differed; sent again")
        result.warnings.append(tr("总行的登记客户笔数与本机不一致，已重新上传全部登记"))
    if not bad:
        if gone is not None:
            _up(store, target, branch, result, plans)
        return
    for d in sorted(bad):
        with store.engine.connect() as c:
            local_visits = {
                r[0]
                for r in c.execute(text("select id from ticket where business_date = :d"), {"d": d})
            }
            local_refs = {
                r[0]
                for r in c.execute(
                    text("select id from referral where business_date = :d"), {"d": d}
                )
            }
        with target.connect() as c:
            day = datetime.fromisoformat(d).date()
            ho_visits = set(
                c.execute(
                    select(ho.visit.c.id).where(
                        ho.visit.c.branch_code == branch, ho.visit.c.business_date == day
                    )
                ).scalars()
            )
            ho_refs = set(
                c.execute(
                    select(ho.referral.c.id).where(
                        ho.referral.c.branch_code == branch, ho.referral.c.business_date == day
                    )
                ).scalars()
            )
        _requeue_date(store, d, ho_visits - local_visits, ho_refs - local_refs)
        result.repaired_dates.append(d)
    log.warning("sync: counts differed on %s; sent again", ", ".join(sorted(bad)))
    result.warnings.append(tr(f"以下营业日两边笔数不一致，已重新上传：{'、'.join(sorted(bad))}"))
    _up(store, target, branch, result, plans)


# ---------------------------------------------------------------- down


def _down(store: Store, target: Engine, branch: str, result: SyncResult) -> None:
    from lobby_app.store import downsync

    state = _state(store)
    for t in ho.DOWN:
        hw = int(state.get(f"down_{t.name}", "0"))
        while True:
            q = select(t).where(t.c.version > hw).order_by(t.c.version).limit(DOWN_BATCH)
            if "branch_code" in t.c:
                q = q.where(t.c.branch_code == branch)
            with target.connect() as c:
                rows = [dict(r._mapping) for r in c.execute(q)]
            if not rows:
                break
            hw = max(int(r["version"]) for r in rows)
            with target.connect() as c:
                everything = (
                    [dict(r._mapping) for r in c.execute(select(t).where(t.c.deleted.is_(False)))]
                    if t is ho.marketing_sentence
                    else None
                )
            with _local_write(store) as lc:
                downsync.apply(lc, t.name, rows, everything)
                _put_state(lc, {f"down_{t.name}": str(hw)})
            result.downloaded[t.name] = result.downloaded.get(t.name, 0) + len(rows)
            if len(rows) < DOWN_BATCH:
                break


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
    store: Store, url: str | None = None, *, direction: str = "both", now: datetime | None = None
) -> SyncResult:
    """Sync once. Never raises for the head office's troubles: the result says what happened
    (``status`` failed, ``error`` code, ``message``), and the state records it for the desk."""
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
        try:
            # the branch's own embedded head office follows this program's schema
            ensure_ready(engine, upgrade_older=url == default_target(store))
            _clock_check(engine, result)
            plans = _plans(store.engine)
            if direction in ("up", "both"):
                _up(store, engine, branch, result, plans)
                _check_and_repair(store, engine, branch, result, plans)
            if direction in ("down", "both"):
                _down(store, engine, branch, result)
                if direction == "both" and result.downloaded:
                    # what the download changed here (a removed customer detached from the
                    # visits that named them) goes up in the same run
                    _up(store, engine, branch, result, plans)
        except (DBAPIError, SQLAlchemyError, sqlite3.Error, psycopg.Error) as exc:
            raise explain(exc, result.target) from exc
        except OSError as exc:
            raise LobbyError("connection_lost", tr(f"同步中断：{exc}")) from exc
    except LobbyError as exc:
        result.status, result.error, result.message = "failed", exc.code, exc.message
        log.warning("sync to %s failed: %s (%s)", result.target, exc.code, exc.message)
    finally:
        if engine is not None:
            engine.dispose()
    result.seconds = round(time.perf_counter() - started, 3)
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
        _put_state(lc, record)
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

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def sync_status(store: Store, *, now: datetime | None = None) -> SyncStatus:
    from lobby_app.sync.schedule import last_due

    now = now or utcnow()
    state = _state(store)
    with store.read() as s:
        st = load_settings(s)
        pending = int(s.scalar(text("select count(*) from change_log")) or 0)
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
    )
