"""What a command checks before it acts: that the business day is not closed (日终: every
command that changes the queue), and that the person it acts for may do it.

Plain SQL (each check takes the ``sqlite3`` connection of the command's transaction, or an
ORM session): ``lobby-app ticket`` checks both without SQLAlchemy (issue 17 item 5).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from lobby_app.core import limits
from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.core.staffing import role_label

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lobby_app.models import DayClose

_LATEST = "select kind, actor from day_close where business_date = ? order by version desc limit 1"
CLOSING = ("close", "correction")


def _con(s: Session | sqlite3.Connection) -> sqlite3.Connection:
    if isinstance(s, sqlite3.Connection):
        return s
    from lobby_app.store.db import sql_of

    return sql_of(s)


def latest_close(s: Session, bdate: date) -> DayClose | None:
    from sqlalchemy import select

    from lobby_app.models import DayClose

    return s.scalar(
        select(DayClose)
        .where(DayClose.business_date == bdate)
        .order_by(DayClose.version.desc())
        .limit(1)
    )


def is_closed(s: Session, bdate: date) -> DayClose | None:
    """The day's latest close or correction, or None while the day is open."""
    row = latest_close(s, bdate)
    return row if row is not None and row.kind in CLOSING else None


def closed_by(s: Session | sqlite3.Connection, bdate: date) -> str | None:
    """Who closed the day (their staff number), or None while the day is open."""
    row = _con(s).execute(_LATEST, (bdate.isoformat(),)).fetchone()
    return row[1] if row is not None and row[0] in CLOSING else None


def staff_label(s: Session | sqlite3.Connection, staff_no: str) -> str:
    row = _con(s).execute("select name from staff where staff_no = ?", (staff_no,)).fetchone()
    name = row[0] if row else None
    return f"{name}（{staff_no}）" if name else staff_no or tr("未知")


def ensure_open(s: Session | sqlite3.Connection, bdate: date) -> None:
    """Refuse to change a closed day's queue."""
    actor = closed_by(s, bdate)
    if actor is not None:
        raise LobbyError(
            "day_closed",
            tr(
                f"{bdate} 已日终（{staff_label(s, actor)}），不能再取号或叫号。"
                "如系误操作，请网点负责人撤销日终（reopen-day）"
            ),
            field="business_date",
        )


def check_staff(
    s: Session | sqlite3.Connection, staff_no: str, roles: Sequence[str], *, doing: str
) -> tuple[str, str, str]:
    """The person a command acts for (staff number, name, role): must exist, be active, not
    locked, and hold one of ``roles``; refused in words otherwise (``admin.check_person``)."""
    no = limits.check_actor(staff_no or "")
    if not no:
        raise LobbyError(
            "actor_required",
            tr(f"{doing}须指明操作人：用 --actor 工号，或设置环境变量 LOBBY_STAFF"),
            field="actor",
        )
    row = (
        _con(s)
        .execute("select staff_no, name, role, active, locked from staff where staff_no = ?", (no,))
        .fetchone()
    )
    if row is None:
        raise LobbyError(
            "unknown_staff",
            tr(f"没有工号 {no}。请先由网点负责人添加(lobby-app staff add)"),
            field="actor",
        )
    found, name, role, active, locked = row
    if not active:
        raise LobbyError("staff_inactive", tr(f"工号 {no} 已停用，不能{doing}"), field="actor")
    if locked:
        raise LobbyError("staff_locked", tr(f"工号 {no} 已被锁定，请网点负责人解锁"), field="actor")
    if role not in roles:
        allowed = "、".join(dict.fromkeys(role_label(r) for r in roles))
        raise LobbyError(
            "wrong_role",
            tr(f"工号 {no}({role_label(role)})不能{doing}，须由{allowed}操作"),
            field="actor",
        )
    return found, name, role
