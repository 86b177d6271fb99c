"""Rows head office refuses, kept aside so that one bad row never stops a branch's upload.

Before a batch goes up each row is checked against head office's own table definition
(``headoffice/schema.py``: text lengths, NOT NULL, integer ranges) and for NUL characters,
which PostgreSQL's text cannot hold. A row that fails, or that head office's database still
rejects (a value error or a constraint: found by halving the batch inside savepoints), is
quarantined: kept in the store (``sync_quarantine``: table, key, why, since when, attempts),
reported by ``sync`` / ``sync-status`` and at the desk, and sent again at every sync, so it
goes up once the data (or head office's limit) is fixed. The rest of the batch goes up.
The reason names the column and the limit, never the value (it may be a customer's note).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import BigInteger, Integer, String, Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from lobby_app.core.i18n import tr
from lobby_app.models.base import utcnow

INT32 = 2**31 - 1
INT64 = 2**63 - 1
SHOWN = 20  # quarantined rows listed in a result or a status (all are counted)

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Refused:
    table: str  # the branch's table
    row_id: str  # its change-log key
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"table": self.table, "id": self.row_id, "reason": self.reason}


class Checker:
    """Head office's rules for one table's rows, compiled once (a sync checks every row)."""

    def __init__(
        self, target: Table, columns: Sequence[str], filled: frozenset[str] = frozenset()
    ) -> None:
        """``filled``: columns the branch's own table never leaves empty (NOT NULL there)."""
        self.required: list[tuple[int, str]] = []
        self.texts: list[tuple[int, str, int | None]] = []
        self.ints: list[tuple[int, str, int]] = []
        for i, name in enumerate(columns):
            col = target.c[name]
            where = f"{target.name}.{name}"
            if not col.nullable and col.server_default is None and name not in filled:
                self.required.append((i, where))
            if isinstance(col.type, String):  # Text too: no length, but no NUL either
                self.texts.append((i, where, col.type.length))
            elif isinstance(col.type, Integer):
                self.ints.append((i, where, INT64 if isinstance(col.type, BigInteger) else INT32))

    def __call__(self, values: Row) -> str | None:
        """Why head office would refuse this row (values in the columns' order), or None."""
        for i, where in self.required:
            if values[i] is None:
                return tr(f"{where} 为空，总行要求必填")
        for i, where, length in self.texts:
            v = values[i]
            if isinstance(v, str):
                if "\x00" in v:
                    return tr(f"{where} 含有 NUL 控制字符，总行数据库不能保存")
                if length is not None and len(v) > length:
                    return tr(f"{where} 长 {len(v)} 字，超过总行上限 {length} 字")
        for i, where, top in self.ints:
            v = values[i]
            if isinstance(v, int) and not isinstance(v, bool) and not -top - 1 <= v <= top:
                return tr(f"{where} 数值 {v} 超出总行范围")
        return None


@lru_cache(maxsize=64)
def checker(
    target: Table, columns: tuple[str, ...], filled: frozenset[str] = frozenset()
) -> Callable[[Row], str | None]:
    return Checker(target, columns, filled)


def check_row(target: Table, columns: Sequence[str], values: Row) -> str | None:
    """Why head office would refuse this row (values in ``columns`` order, branch code not
    included), or None."""
    return checker(target, tuple(columns))(values)


def rejection(exc: BaseException) -> str | None:
    """The database's reason when it refused the data itself (a value or a constraint), or
    None for any other failure (connection, schema), which must stop the sync instead."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, (psycopg.DataError, psycopg.IntegrityError)):
        diag = getattr(orig, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        # the first line only: PostgreSQL's context lines may quote the value
        return tr(f"总行数据库拒收：{(primary or str(orig)).splitlines()[0][:200]}")
    if isinstance(orig, (sqlite3.IntegrityError, sqlite3.DataError)):
        return tr(f"总行数据库拒收：{str(orig).splitlines()[0][:200]}")
    return None


def write_isolated(
    conn: Connection,
    rows: list[Row],
    write: Callable[[list[Row]], None],
) -> list[tuple[Row, str]]:
    """Write ``rows``; when the database refuses some, find them by halving inside savepoints
    and write the others. Returns the refused rows with the database's reason."""
    if not rows:
        return []
    try:
        with conn.begin_nested():
            write(rows)
        return []
    except (DBAPIError, psycopg.Error, sqlite3.Error) as exc:
        reason = rejection(exc)
        if reason is None:
            raise
        if len(rows) == 1:
            return [(rows[0], reason)]
    mid = len(rows) // 2
    return write_isolated(conn, rows[:mid], write) + write_isolated(conn, rows[mid:], write)


# ---------------------------------------------------------------- the store's record


def requeue(conn: Connection) -> int:
    """Send every quarantined row again (the caller's local write transaction)."""
    return conn.execute(
        text(
            "insert into change_log (tbl, row_id, op) select tbl, row_id, 'u' from sync_quarantine"
        )
    ).rowcount


def record(conn: Connection, refused: Iterable[Refused]) -> None:
    now = utcnow().replace(tzinfo=None)
    for r in refused:
        conn.execute(
            text(
                "insert into sync_quarantine (tbl, row_id, reason, first_at, last_at, attempts)"
                " values (:t, :i, :r, :n, :n, 1) on conflict (tbl, row_id) do update set"
                " reason = excluded.reason, last_at = excluded.last_at,"
                " attempts = sync_quarantine.attempts + 1"
            ),
            {"t": r.table, "i": r.row_id, "r": r.reason[:300], "n": now},
        )


def release(conn: Connection, table: str, row_ids: Iterable[str]) -> None:
    """Rows that went up (or are gone) leave the quarantine."""
    ids = list(row_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ", ".join(f":k{j}" for j in range(len(chunk)))
        conn.execute(
            text(f"delete from sync_quarantine where tbl = :t and row_id in ({marks})"),
            {"t": table, **{f"k{j}": k for j, k in enumerate(chunk)}},
        )


def held(conn: Connection, table: str) -> set[str]:
    return set(
        conn.execute(text("select row_id from sync_quarantine where tbl = :t"), {"t": table})
        .scalars()
        .all()
    )


def listing(conn: Connection) -> tuple[int, list[dict[str, Any]]]:
    """How many rows are quarantined, and the first few (oldest first)."""
    n = int(conn.execute(text("select count(*) from sync_quarantine")).scalar() or 0)
    rows = conn.execute(
        text(
            "select tbl, row_id, reason, first_at, attempts from sync_quarantine"
            " order by first_at, tbl, row_id limit :n"
        ),
        {"n": SHOWN},
    ).all()
    return n, [
        {
            "table": r.tbl,
            "id": r.row_id,
            "reason": r.reason,
            "since": _iso_utc(r.first_at),
            "attempts": int(r.attempts),
        }
        for r in rows
    ]


def _iso_utc(value: Any) -> str:
    """A stored UTC time (naive text in SQLite) as ISO with its zone."""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
