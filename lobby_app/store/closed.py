"""Whether a business day is closed (日终), checked by every command that changes the queue."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from lobby_app.core.errors import LobbyError
from lobby_app.core.i18n import tr
from lobby_app.models import DayClose, Staff

_LATEST = (
    select(DayClose)
    .where(DayClose.business_date == bindparam("bdate"))
    .order_by(DayClose.version.desc())
    .limit(1)
)


def latest_close(s: Session, bdate: date) -> DayClose | None:
    return s.scalar(_LATEST, {"bdate": bdate})


def is_closed(s: Session, bdate: date) -> DayClose | None:
    """The day's latest close or correction, or None while the day is open."""
    row = latest_close(s, bdate)
    return row if row is not None and row.kind in ("close", "correction") else None


def staff_label(s: Session, staff_no: str) -> str:
    name = s.scalar(select(Staff.name).where(Staff.staff_no == staff_no))
    return f"{name}（{staff_no}）" if name else staff_no or tr("未知")


def ensure_open(s: Session, bdate: date) -> None:
    """Refuse to change a closed day's queue."""
    row = is_closed(s, bdate)
    if row is not None:
        raise LobbyError(
            "day_closed",
            tr(
                f"{bdate} 已日终（{staff_label(s, row.actor)}），不能再取号或叫号。"
                "如系误操作，请网点负责人撤销日终（reopen-day）"
            ),
            field="business_date",
        )
